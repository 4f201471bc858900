//! Bulk import from CSV and JSON Lines: column sets, encodings, rejections and the feedback
//! queue, idempotent re-import, progress, the report, and batches with bad rows.

use autocrm::import::{codes, import_file, import_reader, Encoding, Format, Progress};
use autocrm::integration::RecordKind;
use autocrm::validate::vin_check_digit;
use autocrm::*;
use autocrm_synth::dirty::{insert_dealers, write_dirty_csvs, DirtyConfig};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{credit, nid};

fn at() -> DateTime {
    "2025-06-01 08:00".parse().unwrap()
}

fn opts(kind: RecordKind) -> ImportOptions {
    ImportOptions::new(kind, at())
}

fn vin(with_placeholder: &str) -> String {
    let c = vin_check_digit(with_placeholder).unwrap();
    let mut v: Vec<char> = with_placeholder.chars().collect();
    v[8] = c;
    v.into_iter().collect()
}

fn import(db: &Database, kind: RecordKind, text: &str) -> ImportReport {
    import_reader(db, text.as_bytes(), "test.csv", None, &opts(kind), |_| {}).unwrap()
}

fn db_with_dealer() -> (Database, DealerId) {
    let db = Database::in_memory().unwrap();
    let d = db
        .write(|tx| {
            tx.insert_dealer(&Dealer {
                code: "SH0001".into(),
                name: "上海大众徐汇4S店".into(),
                region: "East".into(),
                province: "上海".into(),
                city: "上海".into(),
                kind: DealerKind::FourS,
            })
        })
        .unwrap();
    (db, d)
}

fn customers_csv() -> String {
    format!(
        "source_system,source_id,dealer,type,name,gender,birth_date,national_id,occupation,\
         employer,interests,credit_code,industry,phones,province,city,address\n\
         finance,F-1,SH0001,person,王小明,男,1985-03-12,{},engineer,上汽,golf;travel,,,\
         +86 138-1234-5678;13912345678,上海,上海,徐汇区漕溪北路1号\n\
         finance,F-2,sh0001,organisation,上海申通物流有限公司,,,,,,,{},logistics,13700001111,\
         上海,上海,\"青浦区华新镇, 1号\"\n",
        nid("31010419850312003"),
        credit("91310118MA1JL0000"),
    )
}

#[test]
fn customer_columns_round_trip() {
    let (db, dealer) = db_with_dealer();
    let report = import(&db, RecordKind::Customer, &customers_csv());
    assert_eq!(report.rejections, vec![]);
    assert_eq!((report.rows, report.created), (2, 2));
    let r = db.begin_read().unwrap();
    let id = r.customers_by_phone("13812345678").unwrap()[0];
    let c = r.customer(id).unwrap();
    let Party::Person(p) = &c.party else {
        panic!("a person")
    };
    assert_eq!(p.name, "王小明");
    assert_eq!(p.gender, Some(Gender::Male));
    assert_eq!(p.birth_date, Some("1985-03-12".parse().unwrap()));
    assert_eq!(p.national_id.as_deref(), Some(&*nid("31010419850312003")));
    assert_eq!(p.occupation.as_deref(), Some("engineer"));
    assert_eq!(p.employer.as_deref(), Some("上汽"));
    assert_eq!(p.interests, vec!["golf", "travel"]);
    assert_eq!(c.phones, vec!["13812345678", "13912345678"]);
    assert_eq!(c.address.as_deref(), Some("徐汇区漕溪北路1号"));
    assert_eq!(c.source, Some(SourceRef::new("finance", "F-1")));
    let org = r
        .customer_by_credit_code(&credit("91310118MA1JL0000"))
        .unwrap()
        .unwrap();
    let o = r.customer(org).unwrap();
    assert!(o.is_organisation());
    assert_eq!(o.address.as_deref(), Some("青浦区华新镇, 1号"));
    let Party::Organisation(org) = &o.party else {
        panic!()
    };
    assert_eq!(org.industry.as_deref(), Some("logistics"));
    // Nothing was rejected, so the dealer's queue is empty.
    assert!(r.feedback(Some(dealer)).unwrap().is_empty());
}

fn vehicles_csv() -> String {
    format!(
        "source_system,source_id,dealer,vin,plate,brand,model,trim,purchase_date,invoice_date,\
         registration_date,first_service_date,warranty_end,insurance_expiry,inspection_due,\
         usage,selling_dealer,customer_national_id,customer_credit_code,customer_phone,\
         customer_name\n\
         invoice,V-1,SH0001,LSVAU218XN2183294,沪A12345,Volkswagen,Passat,330TSI,2024-05-01,\
         2024/05/02,20240510,2024-08-01,2027-05-01,2025-05-01,2026-05-01,private,SH0001,{},,,\n\
         invoice,V-2,,{},,Volkswagen,Tiguan,,2024-06-01,,,,,,,fleet,,,{},,\n\
         invoice,V-3,,{},,Audi,A6L,,2024-07-01,,,,,,,,,,,13912345678,王小明\n",
        nid("31010419850312003"),
        vin("LSVZZZ1Z0P1000001"),
        credit("91310118MA1JL0000"),
        vin("LFVZZZ4G0P1000002"),
    )
}

#[test]
fn vehicle_columns_round_trip_with_owner_keys() {
    let (db, _) = db_with_dealer();
    import(&db, RecordKind::Customer, &customers_csv());
    let report = import(&db, RecordKind::Vehicle, &vehicles_csv());
    assert_eq!(report.rejections, vec![]);
    assert_eq!(report.created, 3);
    let r = db.begin_read().unwrap();
    let person = r
        .customer_by_national_id(&nid("31010419850312003"))
        .unwrap()
        .unwrap();
    let org = r
        .customer_by_credit_code(&credit("91310118MA1JL0000"))
        .unwrap()
        .unwrap();
    let v1 = r.vehicle_by_vin("LSVAU218XN2183294").unwrap().unwrap();
    let v = r.vehicle(v1).unwrap();
    assert_eq!(v.plate.as_deref(), Some("沪A12345"));
    assert_eq!(v.trim.as_deref(), Some("330TSI"));
    assert_eq!(v.invoice_date, Some("2024-05-02".parse().unwrap()));
    assert_eq!(v.registration_date, Some("2024-05-10".parse().unwrap()));
    assert_eq!(v.inspection_due, Some("2026-05-01".parse().unwrap()));
    assert!(v.selling_dealer.is_some());
    assert_eq!(r.ownership(v1).unwrap().current().unwrap().customer, person);
    let v2 = r
        .vehicle_by_vin(&vin("LSVZZZ1Z0P1000001"))
        .unwrap()
        .unwrap();
    assert_eq!(r.vehicle(v2).unwrap().usage, Usage::Fleet);
    assert_eq!(r.ownership(v2).unwrap().current().unwrap().customer, org);
    // By phone: 13912345678 is the person's second phone.
    let v3 = r
        .vehicle_by_vin(&vin("LFVZZZ4G0P1000002"))
        .unwrap()
        .unwrap();
    assert_eq!(r.ownership(v3).unwrap().current().unwrap().customer, person);
}

#[test]
fn touchpoint_and_lead_columns_round_trip() {
    let (db, dealer) = db_with_dealer();
    import(&db, RecordKind::Customer, &customers_csv());
    import(&db, RecordKind::Vehicle, &vehicles_csv());
    // T-2 names no vehicle: its customer is found by its source record in another system.
    let tps = "source_system,source_id,dealer,at,channel,kind,service_kind,stage,sensitive,amount,\
               parts_amount,labour_amount,mileage_km,score,outcome,note,vin,customer_source_id,\
               customer_source_system\n\
               dms,T-1,SH0001,2025-01-02 09:30,showroom,service_visit,maintenance,in_warranty,no,\
               880.50,600,280.5,15000,,done,常规保养,LSVAU218XN2183294,,\n\
               dms,T-2,SH0001,2025-01-05T10:00,phone_out,callback,,,,,,,,9,reached,,,F-1,finance\n";
    let report = import(&db, RecordKind::Touchpoint, tps);
    assert_eq!(report.rejections, vec![]);
    assert_eq!(report.created, 2);
    let r = db.begin_read().unwrap();
    let person = r
        .customer_by_national_id(&nid("31010419850312003"))
        .unwrap()
        .unwrap();
    let page = r.timeline(person, None, 10).unwrap();
    assert_eq!(page.items.len(), 2);
    let visit = page
        .items
        .iter()
        .map(|(_, t)| t)
        .find(|t| t.kind == TouchpointKind::ServiceVisit)
        .unwrap();
    assert_eq!(visit.amount, Some(Money(88_050)));
    assert_eq!(visit.labour_amount, Some(Money(28_050)));
    assert_eq!(visit.mileage_km, Some(15_000));
    assert_eq!(visit.service_kind, Some(ServiceKind::Maintenance));
    assert_eq!(visit.stage, Some(LifecycleStage::InWarranty));
    assert_eq!(visit.dealer, Some(dealer));
    assert!(visit.vehicle.is_some());
    let callback = page
        .items
        .iter()
        .map(|(_, t)| t)
        .find(|t| t.kind == TouchpointKind::Callback)
        .unwrap();
    assert_eq!(callback.score, Some(9));
    assert!(callback.succeeded());

    let leads = format!(
        "{{\"source_system\":\"web\",\"source_id\":\"L-1\",\"dealer\":\"SH0001\",\"origin\":\"web\",\
         \"model\":\"ID.4\",\"intent\":\"H\",\"purchase_type\":\"additional\",\
         \"received\":\"2025-02-01 12:00\",\"status\":\"lost\",\"lost_reason\":\"price\",\
         \"customer_national_id\":\"{}\"}}\n\
         {{\"source_system\":\"web\",\"source_id\":\"L-2\",\"origin\":\"auto-show\",\"model\":\"Tayron\",\
         \"intent\":\"c\",\"received\":\"2025-03-01\",\"customer_phone\":13812345678,\
         \"customer_name\":\"王小明\"}}\n",
        nid("31010419850312003")
    );
    let report = import(&db, RecordKind::Lead, &leads);
    assert_eq!(report.rejections, vec![]);
    assert_eq!(report.created, 2);
    let r = db.begin_read().unwrap();
    let leads = r.leads_of(person).unwrap();
    assert_eq!(leads.len(), 2);
    let l1 = &leads.iter().find(|(_, l)| l.model == "ID.4").unwrap().1;
    assert_eq!(l1.status, LeadStatus::Lost("price".into()));
    assert_eq!(l1.intent, Intent::H);
    assert_eq!(l1.purchase_type, PurchaseType::Additional);
    assert_eq!(l1.dealer, Some(dealer));
    let l2 = &leads.iter().find(|(_, l)| l.model == "Tayron").unwrap().1;
    assert_eq!(l2.origin, LeadSource::AutoShow);
    assert_eq!(l2.status, LeadStatus::New);
    assert_eq!(l2.purchase_type, PurchaseType::First);
}

fn all_customers(db: &Database) -> Vec<Customer> {
    let r = db.begin_read().unwrap();
    r.customer_ids()
        .unwrap()
        .into_iter()
        .map(|id| r.customer(id).unwrap())
        .collect()
}

#[test]
fn gbk_input_equals_utf8_input_and_bom_is_ignored() {
    let text = customers_csv();
    let (utf8_db, _) = db_with_dealer();
    let utf8 = import(&utf8_db, RecordKind::Customer, &text);
    assert_eq!(utf8.encoding, "UTF-8");

    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err());
    let (gbk_db, _) = db_with_dealer();
    let report = import_reader(
        &gbk_db,
        &gbk[..],
        "gbk.csv",
        None,
        &opts(RecordKind::Customer),
        |_| {},
    )
    .unwrap();
    assert_eq!(report.encoding, "GBK");
    assert_eq!(report.created, 2);
    assert_eq!(all_customers(&gbk_db), all_customers(&utf8_db));

    // Forcing the encoding works the same; a file is detected whole.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, &gbk).unwrap();
    let (file_db, _) = db_with_dealer();
    let o = ImportOptions {
        encoding: Encoding::Gbk,
        ..opts(RecordKind::Customer)
    };
    let report = import_file(&file_db, &path, &o, |_| {}).unwrap();
    assert_eq!((report.encoding, report.created), ("GBK", 2));
    assert_eq!(all_customers(&file_db), all_customers(&utf8_db));

    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let path = dir.path().join("bom.csv");
    std::fs::write(&path, &bom).unwrap();
    let (bom_db, _) = db_with_dealer();
    let report = import_file(&bom_db, &path, &opts(RecordKind::Customer), |_| {}).unwrap();
    assert_eq!((report.encoding, report.created), ("UTF-8", 2));
    assert_eq!(report.ignored_columns, Vec::<String>::new());
    assert_eq!(all_customers(&bom_db), all_customers(&utf8_db));
}

#[test]
fn json_lines_equal_csv() {
    let (csv_db, _) = db_with_dealer();
    import(&csv_db, RecordKind::Customer, &customers_csv());
    let jsonl = format!(
        "\u{feff}{{\"source_system\":\"finance\",\"source_id\":\"F-1\",\"dealer\":\"SH0001\",\
         \"type\":\"person\",\"name\":\"王小明\",\"gender\":\"男\",\"birth_date\":\"1985-03-12\",\
         \"national_id\":\"{}\",\"occupation\":\"engineer\",\"employer\":\"上汽\",\
         \"interests\":[\"golf\",\"travel\"],\"phones\":[\"+86 138-1234-5678\",13912345678],\
         \"province\":\"上海\",\"city\":\"上海\",\"address\":\"徐汇区漕溪北路1号\",\"extra\":null}}\n\
         \n\
         {{\"source_system\":\"finance\",\"source_id\":\"F-2\",\"dealer\":\"sh0001\",\
         \"type\":\"organisation\",\"name\":\"上海申通物流有限公司\",\"credit_code\":\"{}\",\
         \"industry\":\"logistics\",\"phones\":\"13700001111\",\"province\":\"上海\",\
         \"city\":\"上海\",\"address\":\"青浦区华新镇, 1号\"}}\n",
        nid("31010419850312003"),
        credit("91310118MA1JL0000"),
    );
    let (json_db, _) = db_with_dealer();
    let report = import(&json_db, RecordKind::Customer, &jsonl);
    assert_eq!(report.rejections, vec![]);
    assert_eq!((report.rows, report.created), (2, 2));
    assert_eq!(report.ignored_columns, vec!["extra".to_string()]);
    assert_eq!(all_customers(&json_db), all_customers(&csv_db));
}

#[test]
fn rejections_name_line_field_and_code_and_reach_the_feedback_queue() {
    let (db, dealer) = db_with_dealer();
    let text = "source_system,source_id,dealer,name,gender,birth_date,phones\n\
                dms,D-1,SH0001,王小明,male,1985-03-12,13812345678\n\
                dms,D-2,SH0001,张三,male,1985-13-45,13812345679\n\
                dms,D-3,SH0001,李四,robot,,13812345670\n\
                dms,D-4,SH0001,,female,,13812345671\n\
                dms,D-5,SH0001,王先生,male,,13812345672\n\
                dms,D-6,SH0001,赵六,female,,1381234\n\
                dms,D-7,XX9999,钱七,female,,13812345673\n\
                dms,,SH0001,孙八,female,,13812345674\n\
                nosuch,D-9,SH0001,周九,female,,13812345675\n";
    let report = import(&db, RecordKind::Customer, text);
    assert_eq!(report.rows, 9);
    assert_eq!(report.created, 1);
    assert_eq!(report.rejected, 8);
    let got: Vec<(u64, &str, Option<&str>)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str(), r.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, codes::BAD_DATE, Some("birth_date")),
            (4, codes::UNKNOWN_VALUE, Some("gender")),
            (5, codes::MISSING_COLUMN, Some("name")),
            (6, "validation.name_placeholder", Some("name")),
            (7, "validation.phone_too_short", Some("phones")),
            (8, codes::UNKNOWN_DEALER, Some("dealer")),
            (9, codes::MISSING_COLUMN, Some("source_id")),
            (10, "validation.unknown_source", Some("source.system")),
        ]
    );
    assert_eq!(report.rejections[0].source_id.as_deref(), Some("D-2"));
    assert!(report.rejections[0].message.contains("1985-13-45"));
    assert_eq!(report.rejected_by_code[codes::MISSING_COLUMN], 2);

    // The accepted row lacks national ID, province and city: stored, and queued for completion.
    assert_eq!(report.incomplete, 1);
    let r = db.begin_read().unwrap();
    let queue = r.feedback(Some(dealer)).unwrap();
    let (incomplete, queue): (Vec<_>, Vec<_>) = queue
        .into_iter()
        .partition(|e| e.code == "validation.incomplete");
    assert_eq!(incomplete.len(), 1);
    assert_eq!(incomplete[0].source, SourceRef::new("dms", "D-1"));
    let mut lines: Vec<(Option<u64>, String)> =
        queue.iter().map(|e| (e.line, e.code.clone())).collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            (Some(3), codes::BAD_DATE.to_string()),
            (Some(4), codes::UNKNOWN_VALUE.to_string()),
            (Some(5), codes::MISSING_COLUMN.to_string()),
            (Some(6), "validation.name_placeholder".to_string()),
            (Some(7), "validation.phone_too_short".to_string()),
            (Some(9), codes::MISSING_COLUMN.to_string()),
            (Some(10), "validation.unknown_source".to_string()),
        ]
    );
    let placeholder = queue.iter().find(|e| e.line == Some(6)).unwrap();
    assert_eq!(
        placeholder.raw,
        "dms,D-6,SH0001,王先生,male,,13812345672".replace("D-6", "D-5")
    );
    assert_eq!(placeholder.source, SourceRef::new("dms", "D-5"));
    // The unknown dealer's row is in the unassigned queue.
    let unassigned = r.feedback(None).unwrap();
    assert_eq!(unassigned.len(), 1);
    assert_eq!(unassigned[0].line, Some(8));

    // A corrected resubmission leaves the queue.
    let fixed = "source_system,source_id,dealer,name,gender,phones\n\
                 dms,D-5,SH0001,王建国,male,13812345672\n";
    let report = import(&db, RecordKind::Customer, fixed);
    assert_eq!(report.created, 1);
    let r = db.begin_read().unwrap();
    // Its rejection left the queue; it is back only to be completed (no national ID, city).
    let d5: Vec<String> = r
        .feedback(Some(dealer))
        .unwrap()
        .into_iter()
        .filter(|e| e.source.record_id == "D-5")
        .map(|e| e.code)
        .collect();
    assert_eq!(d5, vec!["validation.incomplete".to_string()]);
}

#[test]
fn reimporting_the_same_files_changes_nothing() {
    let (db, _) = db_with_dealer();
    let tps = "source_system,source_id,at,channel,kind,vin\n\
               dms,T-1,2025-01-02 09:30,showroom,service_visit,LSVAU218XN2183294\n\
               dms,T-1,2025-01-02 09:30,showroom,service_visit,LSVAU218XN2183294\n\
               dms,T-2,2025-02-02 09:30,phone_in,enquiry,LSVAU218XN2183294\n";
    let leads = format!(
        "source_system,source_id,origin,model,intent,received,customer_national_id\n\
         web,L-1,web,ID.4,H,2025-02-01,{}\n",
        nid("31010419850312003")
    );
    let files: [(RecordKind, String); 4] = [
        (RecordKind::Customer, customers_csv()),
        (RecordKind::Vehicle, vehicles_csv()),
        (RecordKind::Touchpoint, tps.to_string()),
        (RecordKind::Lead, leads),
    ];
    for (kind, text) in &files {
        let first = import(&db, *kind, text);
        assert_eq!(first.rejected, 0, "{kind:?}: {:?}", first.rejections);
        assert!(first.created > 0);
    }
    let snapshot = |db: &Database| {
        let r = db.begin_read().unwrap();
        (
            all_customers(db),
            r.vehicle_count().unwrap(),
            r.touchpoint_count().unwrap(),
            r.customer_ids()
                .unwrap()
                .into_iter()
                .map(|c| r.leads_of(c).unwrap().len())
                .sum::<usize>(),
        )
    };
    let before = snapshot(&db);
    assert_eq!(before.2, 2, "T-1 twice in one file is one touchpoint");
    for (kind, text) in &files {
        let again = import(&db, *kind, text);
        assert_eq!(
            (
                again.created,
                again.updated,
                again.rejected,
                again.conflicts
            ),
            (0, 0, 0, 0),
            "{kind:?}"
        );
        assert_eq!(again.unchanged, again.rows, "{kind:?}");
    }
    assert_eq!(snapshot(&db), before);
}

#[test]
fn progress_reports_growing_counts_per_batch() {
    let (db, _) = db_with_dealer();
    let mut text = String::from("source_system,source_id,name,phones\n");
    for i in 0..7 {
        text.push_str(&format!("dms,P-{i},客户{i}号,1381234567{i}\n"));
    }
    let mut seen: Vec<Progress> = Vec::new();
    let o = ImportOptions {
        batch_size: 2,
        format: Some(Format::Csv),
        ..opts(RecordKind::Customer)
    };
    let total = text.len() as u64;
    let report = import_reader(&db, text.as_bytes(), "p.csv", Some(total), &o, |p| {
        seen.push(*p)
    })
    .unwrap();
    assert_eq!(report.created, 7);
    let rows: Vec<u64> = seen.iter().map(|p| p.rows).collect();
    assert_eq!(rows, vec![2, 4, 6, 7]);
    assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes));
    assert_eq!(seen.last().unwrap().bytes, total);
    assert!(seen.iter().all(|p| p.total_bytes == Some(total)));

    // From a file, the total is the file's size.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    std::fs::write(&path, &text).unwrap();
    let mut last = None;
    import_file(&db, &path, &o, |p| last = Some(*p)).unwrap();
    assert_eq!(last.unwrap().total_bytes, Some(total));
    assert_eq!(last.unwrap().bytes, total);
}

#[test]
fn report_writes_as_csv() {
    let (db, _) = db_with_dealer();
    let text = "source_system,source_id,name,phones\n\
                dms,R-1,王小明,13812345678\n\
                dms,R-2,王先生,13812345679\n\
                dms,R-3,李女士,13812345670\n\
                dms,R-4,\"张,三\",123\n";
    let mut o = opts(RecordKind::Customer);
    o.max_rejections = 2;
    let report = import_reader(&db, text.as_bytes(), "r.csv", None, &o, |_| {}).unwrap();
    assert_eq!(report.rejected, 3);
    assert_eq!(report.rejections.len(), 2, "kept at most max_rejections");
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    let csv = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "record,line,source_id,code,field,count,message");
    assert!(lines.contains(&"summary,,,rows,,4,"));
    assert!(lines.contains(&"summary,,,created,,1,"));
    assert!(lines.contains(&"summary,,,rejected,,3,"));
    assert!(lines.contains(&"rejected,,,validation.name_placeholder,,2,"));
    assert!(lines.contains(&"rejected,,,validation.phone_too_short,,1,"));
    let first = lines
        .iter()
        .find(|l| l.starts_with("rejection,3,R-2,validation.name_placeholder,name,,"))
        .expect("a rejection row");
    assert!(first.contains("王先生"));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("rejection,")).count(),
        2
    );
    assert!(report.to_string().contains("1 created"));
}

#[test]
fn a_rejected_row_mid_batch_does_not_stop_the_good_rows() {
    let (db, _) = db_with_dealer();
    let bad_id = {
        let good = nid("31010419850312003");
        let last = if good.ends_with('1') { '2' } else { '1' };
        format!("{}{last}", &good[..17])
    };
    let text = format!(
        "source_system,source_id,name,phones,national_id\n\
         finance,B-1,王小明,13812345678,\n\
         finance,B-2,张小红,13812345679,\n\
         finance,B-3,李建国,13812345670,{bad_id}\n\
         finance,B-4,赵大海,13812345671,\n\
         finance,B-5,钱多多,13812345672,\n"
    );
    let o = ImportOptions {
        batch_size: 100,
        ..opts(RecordKind::Customer)
    };
    let report = import_reader(&db, text.as_bytes(), "b.csv", None, &o, |_| {}).unwrap();
    assert_eq!((report.created, report.rejected), (4, 1));
    assert_eq!(report.rejections[0].line, 4);
    assert_eq!(
        report.rejections[0].code,
        "validation.national_id_check_digit"
    );
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 4);
    for phone in ["13812345678", "13812345679", "13812345671", "13812345672"] {
        assert_eq!(r.customers_by_phone(phone).unwrap().len(), 1, "{phone}");
    }
    drop(r);

    // A row the upsert refuses after matching (this source record wrote another VIN) is
    // rejected just the same, between good rows of one transaction.
    let vehicles = format!(
        "source_system,source_id,vin,brand,model,customer_phone,customer_name\n\
         invoice,V-1,LSVAU218XN2183294,VW,Passat,13812345678,王小明\n\
         invoice,V-1,{},VW,Passat,13812345678,王小明\n\
         invoice,V-2,{},VW,Tiguan,13812345679,张小红\n",
        vin("LSVZZZ1Z0P1000001"),
        vin("LFVZZZ4G0P1000002"),
    );
    let o = ImportOptions {
        batch_size: 100,
        ..opts(RecordKind::Vehicle)
    };
    let report = import_reader(&db, vehicles.as_bytes(), "v.csv", None, &o, |_| {}).unwrap();
    assert_eq!((report.created, report.rejected), (2, 1));
    assert_eq!(
        report.rejections[0].code,
        "invalid_operation.source_changed_vin"
    );
    assert_eq!(report.rejections[0].line, 3);
    let r = db.begin_read().unwrap();
    assert_eq!(r.vehicle_count().unwrap(), 2);
}

#[test]
fn a_phone_names_a_customer_only_with_the_name_as_survivorship_matches() {
    let (db, _) = db_with_dealer();
    import(&db, RecordKind::Customer, &customers_csv());
    // 13812345678 is 王小明's only: a row giving it with another name is not his, as an
    // upserted customer with that phone and name would not be merged into him.
    let text = "source_system,source_id,vin,brand,model,customer_phone,customer_name\n\
                invoice,V-1,LSVAU218XN2183294,VW,Passat,13812345678,李四\n\
                invoice,V-2,LSVAU218XN2183294,VW,Passat,13812345678,\n\
                invoice,V-3,LSVAU218XN2183294,VW,Passat,13812345678,王小明\n";
    let report = import(&db, RecordKind::Vehicle, text);
    let got: Vec<(u64, &str, Option<&str>)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str(), r.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, codes::UNKNOWN_CUSTOMER, Some("customer_phone")),
            (3, codes::MISSING_COLUMN, Some("customer_name")),
        ]
    );
    assert_eq!(report.created, 1);
    let li = Customer {
        phones: vec!["13812345678".into()],
        ..Customer::person("李四")
    };
    let from = Received {
        source: SourceRef::new("dms", "D-9"),
        dealer: None,
        at: at(),
    };
    let u = db.write(|tx| tx.upsert_customer(&li, None, &from)).unwrap();
    assert_eq!(u.outcome, Outcome::Created, "survivorship agrees");
}

#[test]
fn references_that_resolve_to_nothing_are_rejected() {
    let (db, _) = db_with_dealer();
    import(&db, RecordKind::Customer, &customers_csv());
    let text = format!(
        "source_system,source_id,vin,brand,model,customer_national_id,customer_phone,selling_dealer\n\
         invoice,V-1,LSVAU218XN2183294,VW,Passat,{},,\n\
         invoice,V-2,LSVAU218XN2183294,VW,Passat,,,\n\
         invoice,V-3,LSVAU218XN2183294,VW,Passat,,13812345678,NOPE\n",
        nid("11010519491231002")
    );
    let report = import(&db, RecordKind::Vehicle, &text);
    let got: Vec<(&str, Option<&str>)> = report
        .rejections
        .iter()
        .map(|r| (r.code.as_str(), r.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (codes::UNKNOWN_CUSTOMER, Some("customer_national_id")),
            (codes::MISSING_COLUMN, Some("customer_source_id")),
            (codes::UNKNOWN_DEALER, Some("selling_dealer")),
        ]
    );
    let tps = "source_system,source_id,at,channel,kind,vin\n\
               dms,T-1,2025-01-02,showroom,enquiry,LSVZZZ1Z0P1000001\n\
               dms,T-2,yesterday,showroom,enquiry,\n\
               dms,T-3,2025-01-02,pigeon,enquiry,\n";
    let report = import(&db, RecordKind::Touchpoint, tps);
    let got: Vec<&str> = report.rejections.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        got,
        vec![
            codes::UNKNOWN_VEHICLE,
            codes::BAD_DATE,
            codes::UNKNOWN_VALUE
        ]
    );
}

#[test]
fn file_level_errors_name_the_file() {
    let db = Database::in_memory().unwrap();
    let o = opts(RecordKind::Customer);
    let err = import_file(&db, "/no/such/dir/customers.csv", &o, |_| {}).unwrap_err();
    assert_eq!(err.code(), codes::FILE_UNREADABLE);
    assert!(err.to_string().contains("/no/such/dir/customers.csv"));

    let err = import_reader(&db, &b""[..], "empty.csv", None, &o, |_| {}).unwrap_err();
    assert_eq!(err.code(), codes::NO_HEADER);
    assert!(err.to_string().contains("empty.csv"));

    let err = import_reader(
        &db,
        &b"source_system,source_id,phones\ndms,1,13812345678\n"[..],
        "noname.csv",
        None,
        &o,
        |_| {},
    )
    .unwrap_err();
    assert_eq!(err.code(), codes::MISSING_COLUMN);
    let msg = err.to_string();
    assert!(
        msg.contains("noname.csv") && msg.contains("`name`"),
        "{msg}"
    );

    let err = import_reader(
        &db,
        &b"source_id,name,Name\n"[..],
        "dup.csv",
        None,
        &o,
        |_| {},
    )
    .unwrap_err();
    assert_eq!(err.code(), codes::DUPLICATE_COLUMN);

    assert_eq!(
        autocrm::import::parse_kind("vehicles").unwrap(),
        RecordKind::Vehicle
    );
    assert_eq!(
        autocrm::import::parse_kind("boats").unwrap_err().code(),
        codes::UNKNOWN_KIND
    );
    assert_eq!(Encoding::parse("GB18030").unwrap(), Encoding::Gbk);
    assert!(Encoding::parse("latin1").is_err());
}

#[test]
fn default_source_system_and_malformed_rows() {
    let (db, _) = db_with_dealer();
    let o = ImportOptions {
        source_system: Some("dms".into()),
        ..opts(RecordKind::Customer)
    };
    let text = "source_id,name,phones\nX-1,王小明,13812345678\n";
    let report = import_reader(&db, text.as_bytes(), "x.csv", None, &o, |_| {}).unwrap();
    assert_eq!(report.created, 1);
    let r = db.begin_read().unwrap();
    let id = r.customers_by_phone("13812345678").unwrap()[0];
    assert_eq!(
        r.customer(id).unwrap().source,
        Some(SourceRef::new("dms", "X-1"))
    );
    drop(r);
    let jsonl = "{\"source_id\":\"J-1\",\"name\":\"张三\",\"phones\":\"13812345670\"}\n\
                 [1,2]\n\
                 {not json\n\
                 {\"source_id\":\"J-4\",\"name\":{\"a\":1}}\n";
    let report = import_reader(&db, jsonl.as_bytes(), "x.jsonl", None, &o, |_| {}).unwrap();
    assert_eq!(report.created, 1);
    let got: Vec<(u64, &str)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, codes::BAD_JSON),
            (3, codes::BAD_JSON),
            (4, codes::BAD_VALUE)
        ]
    );
}

#[test]
fn dirty_generator_output_imports_with_the_injected_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DirtyConfig {
        dirt: 0.3,
        gbk: true,
        ..DirtyConfig::new(400)
    };
    let files = write_dirty_csvs(dir.path(), &cfg).unwrap();
    let db = Database::in_memory().unwrap();
    assert_eq!(insert_dealers(&db, &cfg).unwrap(), files.dealers.len());
    let mut codes_seen = std::collections::BTreeMap::new();
    let mut conflicts = 0;
    for f in &files.files {
        let o = opts(f.kind);
        let report = import_file(&db, &f.path, &o, |_| {}).unwrap();
        assert_eq!(report.encoding, "GBK");
        assert_eq!(report.rows, f.rows, "{}", f.path.display());
        assert!(report.accepted() > report.rejected, "{report}");
        for (code, n) in &report.rejected_by_code {
            *codes_seen.entry(code.clone()).or_insert(0) += n;
        }
        conflicts += report.conflicts;
    }
    for code in [
        "validation.name_placeholder",
        "validation.phone_too_short",
        "validation.national_id_check_digit",
        "validation.vin_check_digit",
    ] {
        assert!(codes_seen.contains_key(code), "no {code} in {codes_seen:?}");
    }
    assert!(
        codes_seen.contains_key("validation.date_order")
            || codes_seen.contains_key("validation.date_implausible"),
        "{codes_seen:?}"
    );
    assert!(
        conflicts > 0,
        "the DMS rows disagreeing with finance make conflicts"
    );
    assert!(files.injected["duplicate"] > 0);
}

#[test]
fn crlf_files_number_lines_and_keep_quoted_cells() {
    let (db, dealer) = db_with_dealer();
    let text = "source_system,source_id,dealer,name,address,phones\r\n\
                dms,C-1,SH0001,王小明,\"徐汇区, 1号\",13812345678\r\n\
                dms,C-2,SH0001,王先生,,13812345679\r\n\
                dms,C-3,SH0001,李四,\"多行\r\n地址\",123\r\n\
                dms,C-4,SH0001,赵女士,,13812345671\r\n";
    let report = import(&db, RecordKind::Customer, text);
    let lines: Vec<u64> = report.rejections.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 6]);
    let r = db.begin_read().unwrap();
    let id = r.customers_by_phone("13812345678").unwrap()[0];
    assert_eq!(
        r.customer(id).unwrap().address.as_deref(),
        Some("徐汇区, 1号")
    );
    let queue = r.feedback(Some(dealer)).unwrap();
    let c2 = queue.iter().find(|e| e.line == Some(3)).unwrap();
    assert_eq!(c2.raw, "dms,C-2,SH0001,王先生,,13812345679");
}

#[test]
fn rows_naming_a_merged_customer_land_on_the_survivor() {
    let (db, _) = db_with_dealer();
    let text = "source_system,source_id,name,phones\n\
                dms,A-1,王小明,13812345678\n\
                dms,A-2,王晓明,13812345679\n";
    assert_eq!(import(&db, RecordKind::Customer, text).created, 2);
    let (survivor, merged) = {
        let r = db.begin_read().unwrap();
        (
            r.customers_by_phone("13812345678").unwrap()[0],
            r.customers_by_phone("13812345679").unwrap()[0],
        )
    };
    db.write(|tx| tx.merge_customers(survivor, merged, at(), "operator"))
        .unwrap();
    let tps = "source_system,source_id,at,channel,kind,customer_source_id\n\
               dms,T-1,2025-01-02 09:30,phone_in,enquiry,A-2\n";
    let report = import(&db, RecordKind::Touchpoint, tps);
    assert_eq!(report.created, 1, "{:?}", report.rejections);
    let r = db.begin_read().unwrap();
    assert_eq!(r.timeline(survivor, None, 10).unwrap().items.len(), 1);
}

fn import_bytes(
    db: &Database,
    kind: RecordKind,
    bytes: &[u8],
    o: &ImportOptions,
) -> Result<ImportReport> {
    import_reader(
        db,
        bytes,
        "test.csv",
        None,
        &ImportOptions { kind, ..o.clone() },
        |_| {},
    )
}

#[test]
fn undecodable_rows_are_rejected_as_bad_encoding_and_queued() {
    let (db, dealer) = db_with_dealer();
    let mut bytes = b"source_system,source_id,dealer,name,phones\n\
                      dms,C-1,SH0001,\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e,13812345678\n\
                      dms,C-2,SH0001,\xff\xfe\xe6\x98\x8e,13812345679\n"
        .to_vec();
    bytes.extend_from_slice("dms,C-3,SH0001,李四,13812345670\n".as_bytes());
    let o = ImportOptions {
        encoding: Encoding::Utf8,
        ..opts(RecordKind::Customer)
    };
    let report = import_bytes(&db, RecordKind::Customer, &bytes, &o).unwrap();
    assert_eq!((report.created, report.rejected), (2, 1));
    let rej = &report.rejections[0];
    assert_eq!(
        (
            rej.line,
            rej.code.as_str(),
            rej.field.as_deref(),
            rej.source_id.as_deref()
        ),
        (3, codes::BAD_ENCODING, Some("name"), Some("C-2"))
    );
    let r = db.begin_read().unwrap();
    assert!(all_customers(&db)
        .iter()
        .all(|c| !c.name().contains('\u{FFFD}')));
    let queued = r
        .feedback_entry(RecordKind::Customer, &SourceRef::new("dms", "C-2"))
        .unwrap()
        .expect("the row waits in the dealer's queue");
    assert_eq!(
        (queued.dealer, queued.code.as_str()),
        (Some(dealer), codes::BAD_ENCODING)
    );
}

#[test]
fn cr_only_line_ends_are_read_as_lines() {
    let (db, _) = db_with_dealer();
    let text = "source_system,source_id,name,phones\r\
                dms,C-1,王小明,13812345678\r\
                dms,C-2,王先生,13812345679\r\
                dms,C-3,\"多行\r地址\",13812345670\r\
                dms,C-4,李四,13812345671\r";
    let report = import(&db, RecordKind::Customer, text);
    assert_eq!(report.ignored_columns, Vec::<String>::new());
    assert_eq!(report.rows, 4);
    let lines: Vec<(u64, &str)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(lines, vec![(3, "validation.name_placeholder")]);
    assert_eq!(report.created, 3);
}

#[test]
fn input_with_content_but_no_rows_is_an_error() {
    let (db, _) = db_with_dealer();
    let e = import_bytes(
        &db,
        RecordKind::Customer,
        b"source_system,source_id,name\n\n",
        &opts(RecordKind::Customer),
    )
    .unwrap_err();
    assert_eq!(e.code(), codes::NO_ROWS, "{e}");
    let o = ImportOptions {
        format: Some(Format::JsonLines),
        ..opts(RecordKind::Customer)
    };
    let e = import_bytes(&db, RecordKind::Customer, b"\n  \n", &o).unwrap_err();
    assert_eq!(e.code(), codes::NO_ROWS, "{e}");
}

/// A reader yielding `head`, then `n` bytes of `x`, then `tail`, without holding the middle.
struct Huge {
    head: Vec<u8>,
    n: usize,
    tail: Vec<u8>,
    pos: usize,
}

impl std::io::Read for Huge {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let total = self.head.len() + self.n + self.tail.len();
        let mut k = 0;
        while k < buf.len() && self.pos < total {
            let p = self.pos;
            buf[k] = if p < self.head.len() {
                self.head[p]
            } else if p < self.head.len() + self.n {
                b'x'
            } else {
                self.tail[p - self.head.len() - self.n]
            };
            k += 1;
            self.pos += 1;
        }
        Ok(k)
    }
}

#[test]
fn a_huge_quoted_cell_is_rejected_without_being_held_and_the_next_row_reads() {
    let (db, _) = db_with_dealer();
    let input = Huge {
        head: "source_system,source_id,name,phones\ndms,C-1,王小明,13812345678\ndms,C-2,\"a\n"
            .as_bytes()
            .to_vec(),
        n: 6 << 20,
        tail: "\nb\",13812345679\ndms,C-3,王先生,13812345670\ndms,C-4,李四,13812345671\n"
            .as_bytes()
            .to_vec(),
        pos: 0,
    };
    let report = import_reader(
        &db,
        input,
        "huge.csv",
        None,
        &opts(RecordKind::Customer),
        |_| {},
    )
    .unwrap();
    assert_eq!((report.rows, report.created, report.rejected), (4, 2, 2));
    // The cell spans lines 3 to 5: the rows after it keep their line numbers.
    let got: Vec<(u64, &str)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, codes::LINE_TOO_LONG),
            (6, "validation.name_placeholder")
        ]
    );
    assert_eq!(db.begin_read().unwrap().customer_count().unwrap(), 2);
}

#[test]
fn a_negative_amount_is_echoed_as_written() {
    let (db, _) = db_with_dealer();
    import(&db, RecordKind::Customer, &customers_csv());
    let tp = "source_system,source_id,at,channel,kind,vin,amount\n\
              dms,T-1,2025-01-02 09:30,showroom,service_visit,LSVAU218XN2183294,-100.00\n";
    let vehicles = import(&db, RecordKind::Vehicle, &vehicles_csv());
    assert_eq!(vehicles.rejected, 0, "{:?}", vehicles.rejections);
    let report = import(&db, RecordKind::Touchpoint, tp);
    assert_eq!(report.rejected, 1, "{:?}", report.rejections);
    assert!(
        report.rejections[0]
            .message
            .contains("amount` = \"-100.00\""),
        "{}",
        report.rejections[0].message
    );
}

#[test]
fn cells_beyond_the_header_reject_the_row_and_empty_ones_are_fine() {
    let (db, _) = db_with_dealer();
    let text = "source_system,source_id,name,phones\n\
                dms,C-1,王小明,13812345678,,\n\
                dms,C-2,李四,13812345679,徐汇区, 1号\n";
    let report = import(&db, RecordKind::Customer, text);
    assert_eq!(report.created, 1);
    let got: Vec<(u64, &str)> = report
        .rejections
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(got, vec![(3, codes::EXTRA_CELLS)]);
}

#[test]
fn a_utf8_file_with_a_stray_byte_is_read_as_utf8_and_only_that_row_rejected() {
    let (db, _) = db_with_dealer();
    let mut bytes = "source_system,source_id,dealer,name,phones,province,city\n"
        .as_bytes()
        .to_vec();
    for i in 0..20 {
        bytes.extend_from_slice(
            format!("dms,C-{i},SH0001,王小明{i},138123456{i:02},上海,上海\n").as_bytes(),
        );
    }
    bytes.extend_from_slice(
        b"dms,C-X,SH0001,\xe6\x9d\x8e\xff,13912345678,\xe4\xb8\x8a\xe6\xb5\xb7,x\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers_dms.csv");
    std::fs::write(&path, &bytes).unwrap();
    let report = import_file(&db, &path, &opts(RecordKind::Customer), |_| {}).unwrap();
    assert_eq!(report.encoding, "UTF-8");
    assert_eq!((report.created, report.rejected), (20, 1));
    assert_eq!(report.rejections[0].code, codes::BAD_ENCODING);
    assert_eq!(report.rejections[0].line, 22);
    let names: Vec<String> = all_customers(&db)
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert!(names.contains(&"王小明7".to_string()), "{names:?}");
}
