//! The dealer feedback loop (reject → the dealer's queue → resubmit corrected → leaves the
//! queue) and the data-quality report built on it.

use autocrm::integration::Rejection;
use autocrm::validate::national_id_check_digit;
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, nid};

fn at(day: &str) -> DateTime {
    d(day).at(10, 0, 0)
}

/// A valid China VIN with serial `n`.
fn vin(n: u32) -> String {
    let v = format!("LSVAU218XN2{:06}", n);
    let c = autocrm::validate::vin_check_digit(&v).unwrap();
    format!("{}{c}{}", &v[..8], &v[9..])
}

fn from(dealer: Option<DealerId>, record: &str, day: &str) -> Received {
    Received {
        source: SourceRef::new("dms", record),
        dealer,
        at: at(day),
    }
}

fn dealer(tx: &mut WriteTxn, code: &str) -> DealerId {
    tx.insert_dealer(&Dealer {
        code: code.into(),
        name: format!("{code} 4S"),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    })
    .unwrap()
}

/// A customer with every basic field (so only the rule under test can queue it): a fresh
/// valid national ID each call.
fn customer(name: &str, phone: &str) -> Customer {
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let first17 = format!("11010519900101{n:03}");
    let check = national_id_check_digit(&first17).unwrap();
    Customer {
        party: Party::Person(Person {
            name: name.into(),
            national_id: Some(format!("{first17}{check}")),
            ..Person::default()
        }),
        phones: vec![phone.into()],
        province: Some("上海".into()),
        city: Some("上海".into()),
        ..Customer::person(name)
    }
}

/// Upserts `c`; on a row error, rejects it into the sender's queue like an importer would.
fn deliver(
    tx: &mut WriteTxn,
    c: &Customer,
    f: &Received,
    raw: &str,
) -> Result<CustomerId, FeedbackId> {
    match tx.upsert_customer(c, None, f) {
        Ok(u) => Ok(u.id),
        Err(e) => Err(tx
            .reject(f, RecordKind::Customer, Some(7), raw, &e)
            .unwrap()),
    }
}

#[test]
fn rejected_records_wait_in_the_dealers_queue_until_resubmitted() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let d1 = dealer(&mut tx, "SH001");
    let d2 = dealer(&mut tx, "SH002");
    let f1 = from(Some(d1), "D-1", "2024-03-01");
    let raw = "D-1,王先生,13800138000";
    let fid = deliver(&mut tx, &customer("王先生", "13800138000"), &f1, raw).unwrap_err();
    // A short phone from another dealer, and a record no dealer sent.
    deliver(
        &mut tx,
        &customer("李华", "1380013"),
        &from(Some(d2), "D-2", "2024-03-02"),
        "x",
    )
    .unwrap_err();
    deliver(
        &mut tx,
        &customer("张", "13900139000"),
        &from(None, "D-3", "2024-03-02"),
        "y",
    )
    .unwrap_err();
    // The batch goes on after rejected rows.
    deliver(
        &mut tx,
        &customer("赵敏", "13700137000"),
        &from(Some(d1), "D-4", "2024-03-02"),
        "z",
    )
    .unwrap();
    tx.commit().unwrap();

    let r = db.begin_read().unwrap();
    let q1 = r.feedback(Some(d1)).unwrap();
    assert_eq!(q1.len(), 1);
    let e = &q1[0];
    assert_eq!(e.id, fid);
    assert_eq!(e.code, "validation.name_placeholder");
    assert_eq!(e.field.as_deref(), Some("name"));
    assert_eq!(e.kind, RecordKind::Customer);
    assert_eq!(e.source, SourceRef::new("dms", "D-1"));
    assert_eq!(e.line, Some(7));
    assert_eq!(e.raw, raw);
    assert!(e.hint.contains("full name"), "{}", e.hint);
    assert!(e.message.contains("王先生"), "{}", e.message);
    assert_eq!(
        r.feedback(Some(d2)).unwrap()[0].code,
        "validation.phone_too_short"
    );
    assert_eq!(
        r.feedback(None).unwrap()[0].code,
        "validation.name_too_short"
    );
    assert_eq!(r.feedback_all().unwrap().len(), 3);
    assert_eq!(
        r.feedback_entry(RecordKind::Customer, &SourceRef::new("dms", "D-1"))
            .unwrap()
            .map(|e| e.id),
        Some(fid)
    );
    drop(r);

    // Rejected again (the dealer re-sent it unchanged): the entry is replaced, not doubled,
    // keeps its id and first rejection time, and the lifetime count does not grow.
    let again = from(Some(d1), "D-1", "2024-03-05");
    let fid2 = db
        .write(|tx| Ok(deliver(tx, &customer("王先生", "13800138000"), &again, raw).unwrap_err()))
        .unwrap();
    assert_eq!(fid2, fid);
    let r = db.begin_read().unwrap();
    let q1 = r.feedback(Some(d1)).unwrap();
    assert_eq!(q1.len(), 1);
    assert_eq!(
        (q1[0].received, q1[0].first_rejected),
        (at("2024-03-05"), at("2024-03-01"))
    );
    let report = r.quality_report(d("2024-03-11")).unwrap();
    let row1 = report.row(Some(d1)).unwrap();
    assert_eq!(row1.rejections.get("validation.name_placeholder"), Some(&1));
    assert_eq!((row1.queue_size, row1.oldest_queued_days), (1, Some(10)));
    drop(r);

    // The corrected record is accepted and leaves the queue.
    let fixed = from(Some(d1), "D-1", "2024-03-12");
    let id = db
        .write(|tx| Ok(deliver(tx, &customer("王小明", "13800138000"), &fixed, raw).unwrap()))
        .unwrap();
    let r = db.begin_read().unwrap();
    assert!(r.feedback(Some(d1)).unwrap().is_empty());
    assert_eq!(r.customer(id).unwrap().name(), "王小明");
    // The lifetime count stays for the quality report; nothing is queued any more.
    let report = r.quality_report(d("2024-03-12")).unwrap();
    let row1 = report.row(Some(d1)).unwrap();
    assert_eq!(row1.rejections.get("validation.name_placeholder"), Some(&1));
    assert!(row1.queued_by_reason.is_empty());
    assert_eq!((row1.queue_size, row1.oldest_queued_days), (0, None));
    let row2 = report.row(Some(d2)).unwrap();
    assert_eq!(
        row2.queued_by_reason.get("validation.phone_too_short"),
        Some(&1)
    );
    assert_eq!(row2.oldest_queued_days, Some(10));
    let unassigned = report.row(None).unwrap();
    assert_eq!(unassigned.label, "(unassigned)");
    assert_eq!(unassigned.queue_size, 1);
    assert_eq!(report.network.rejections_total(), 3);
    assert_eq!(report.network.queue_size, 2);
    assert_eq!(report.network.oldest_queued_days, Some(10));
}

#[test]
fn clear_feedback_serves_touchpoints_and_leads() {
    let db = Database::in_memory().unwrap();
    let src = SourceRef::new("call_centre", "T-9");
    let f = Received {
        source: src.clone(),
        dealer: None,
        at: at("2024-01-01"),
    };
    let err = Error::from(ValidationError::new("score", Rule::ScoreOutOfRange, "11"));
    db.write(|tx| tx.reject(&f, RecordKind::Touchpoint, None, "raw", &err))
        .unwrap();
    // Same record id, another kind: separate entries.
    db.write(|tx| tx.reject(&f, RecordKind::Lead, None, "raw", &err))
        .unwrap();
    assert_eq!(db.begin_read().unwrap().feedback(None).unwrap().len(), 2);
    let cleared = db
        .write(|tx| tx.clear_feedback(&src, RecordKind::Touchpoint))
        .unwrap();
    assert!(cleared);
    let left = db.begin_read().unwrap().feedback(None).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, RecordKind::Lead);
    assert!(!db
        .write(|tx| tx.clear_feedback(&src, RecordKind::Touchpoint))
        .unwrap());
    // Records without a record id stay apart by line.
    let blank = Received {
        source: SourceRef::new("dms", " "),
        dealer: None,
        at: at("2024-01-01"),
    };
    db.write(|tx| {
        tx.reject(&blank, RecordKind::Customer, Some(3), "a", &err)?;
        tx.reject(&blank, RecordKind::Customer, Some(4), "b", &err)
    })
    .unwrap();
    assert_eq!(db.begin_read().unwrap().feedback(None).unwrap().len(), 3);
}

#[test]
fn quality_report_by_dealer() {
    let db = Database::in_memory().unwrap();
    let (d1, d2) = db
        .write(|tx| Ok((dealer(tx, "SH001"), dealer(tx, "SH002"))))
        .unwrap();
    db.write(|tx| {
        let valid = Customer {
            party: Party::Person(Person {
                name: "王小明".into(),
                national_id: Some(nid("11010519491231002")),
                ..Person::default()
            }),
            ..customer("王小明", "13800138000")
        };
        let a = tx.upsert_customer(&valid, None, &from(Some(d1), "C-1", "2024-01-01"))?;
        // Without a national ID: stored, counted as invalid info, queued for completion.
        let incomplete = Customer {
            party: Party::Person(Person {
                name: "李华".into(),
                ..Person::default()
            }),
            ..customer("李华", "13900139000")
        };
        let b = tx.upsert_customer(&incomplete, None, &from(Some(d1), "C-2", "2024-01-01"))?;
        assert!(b.incomplete);
        // Not sold: counts as a customer but not in the ratio.
        tx.upsert_customer(
            &customer("赵敏", "13700137000"),
            None,
            &from(Some(d2), "C-3", "2024-01-01"),
        )?;
        for (i, c) in [a.id, b.id].into_iter().enumerate() {
            let v = Vehicle {
                selling_dealer: Some(d1),
                purchase_date: Some(d("2024-01-05")),
                ..Vehicle::new(vin(i as u32), "VW", "Passat")
            };
            tx.upsert_vehicle(&v, c, &from(Some(d1), &format!("V-{i}"), "2024-01-05"))?;
        }
        // A lower-priority record from dealer 2 raises a conflict on customer a.
        let mut moved = valid.clone();
        moved.city = Some("苏州".into());
        let mut f = from(Some(d2), "C-9", "2024-02-01");
        f.source.system = "web".into();
        tx.set_source_priority("web", FieldGroup::Contact, 5)?;
        let u = tx.upsert_customer(&moved, None, &f)?;
        assert_eq!(u.conflicts, 1);
        Ok(())
    })
    .unwrap();
    let r = db.begin_read().unwrap();
    let report = r.quality_report(d("2024-03-01")).unwrap();
    let row1 = report.row(Some(d1)).unwrap();
    assert_eq!(row1.label, "SH001");
    assert_eq!(
        (row1.customers, row1.customers_sold, row1.valid_info),
        (2, 2, 1)
    );
    assert_eq!(row1.valid_info_ratio, Some(0.5));
    assert_eq!(row1.open_conflicts, 0);
    // The incomplete customer waits in dealer 1's queue, and is not a rejection.
    assert_eq!(row1.incomplete_queued(), 1);
    assert_eq!(row1.rejections_total(), 0);
    let queued = r.feedback(Some(d1)).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].code, "validation.incomplete");
    assert_eq!(queued[0].field.as_deref(), Some("national_id"));
    let row2 = report.row(Some(d2)).unwrap();
    assert_eq!(row2.open_conflicts, 1);
    assert_eq!(row2.valid_info_ratio, None);
    // The third customer has no dealer of its own (no vehicle, no visit): unassigned.
    assert_eq!(report.row(None).unwrap().customers, 1);
    assert_eq!(report.network.customers, 3);
    assert_eq!(report.network.valid_info_ratio, Some(0.5));
    assert_eq!(report.network.open_conflicts, 1);
    let text = report.to_string();
    assert!(text.contains("SH001"), "{text}");
    assert!(text.contains("50.0%"), "{text}");
    // The ratio is the KPI's.
    let kpi = r
        .kpi(
            Kpi::ValidInfoRatio,
            kpi::Dimension::Network,
            kpi::Period::new(d("2024-03-01"), d("2024-03-02")).unwrap(),
        )
        .unwrap();
    assert_eq!(kpi[0].value, Some(0.5));
}

#[test]
fn feedback_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    {
        let db = Database::open(&path).unwrap();
        db.write(|tx| {
            let e = tx
                .upsert_customer(
                    &customer("王先生", "13800138000"),
                    None,
                    &from(None, "D-1", "2024-01-01"),
                )
                .unwrap_err();
            tx.reject(
                &from(None, "D-1", "2024-01-01"),
                RecordKind::Customer,
                None,
                "raw",
                &e,
            )
        })
        .unwrap();
    }
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.feedback(None).unwrap().len(), 1);
    assert_eq!(
        r.rejection_counts().unwrap(),
        [(None, "validation.name_placeholder".to_string(), 1)]
    );
}

#[test]
fn a_resubmitted_vehicle_leaves_the_queue() {
    let db = Database::in_memory().unwrap();
    let d1 = db.write(|tx| Ok(dealer(tx, "SH001"))).unwrap();
    let f = from(Some(d1), "V-1", "2024-01-01");
    db.write(|tx| {
        let owner = tx.upsert_customer(
            &customer("王小明", "13800138000"),
            None,
            &from(Some(d1), "C-1", "2024-01-01"),
        )?;
        let typo = Vehicle::new("LSVAU218XN2183295", "VW", "Passat");
        let e = tx.upsert_vehicle(&typo, owner.id, &f).unwrap_err();
        tx.reject(
            &f,
            RecordKind::Vehicle,
            Some(2),
            "V-1,LSVAU218XN2183295",
            &e,
        )?;
        Ok(())
    })
    .unwrap();
    let q = db.begin_read().unwrap().feedback(Some(d1)).unwrap();
    assert_eq!(
        (q.len(), q[0].code.as_str()),
        (1, "validation.vin_check_digit")
    );
    assert_eq!(q[0].field.as_deref(), Some("vin"));
    db.write(|tx| {
        let owner = tx.upsert_customer(
            &customer("王小明", "13800138000"),
            None,
            &from(Some(d1), "C-1", "2024-01-02"),
        )?;
        tx.upsert_vehicle(
            &Vehicle::new(vin(1), "VW", "Passat"),
            owner.id,
            &from(Some(d1), "V-1", "2024-01-02"),
        )
    })
    .unwrap();
    let r = db.begin_read().unwrap();
    assert!(r.feedback_all().unwrap().is_empty());
    assert_eq!(r.rejection_counts().unwrap().len(), 1);
}

#[test]
fn an_incomplete_customer_is_stored_queued_and_cleared_once_completed() {
    let db = Database::in_memory().unwrap();
    let d1 = db.write(|tx| Ok(dealer(tx, "SH001"))).unwrap();
    let complete = customer("王小明", "13800138000");
    let without_city = Customer {
        city: None,
        ..complete.clone()
    };
    let first = db
        .write(|tx| tx.upsert_customer(&without_city, None, &from(Some(d1), "C-1", "2024-01-01")))
        .unwrap();
    assert_eq!(first.outcome, Outcome::Created);
    assert!(first.incomplete);
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 1);
    let q = r.feedback(Some(d1)).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].code.as_str(), q[0].field.as_deref()),
        ("validation.incomplete", Some("city"))
    );
    assert!(q[0].message.contains("missing city"), "{}", q[0].message);
    drop(r);

    // The dealer resubmits the record with the city: it updates the customer and leaves the
    // queue; the lifetime count keeps it.
    let again = db
        .write(|tx| tx.upsert_customer(&complete, None, &from(Some(d1), "C-1", "2024-01-03")))
        .unwrap();
    assert_eq!(
        (again.id, again.outcome, again.incomplete),
        (first.id, Outcome::Updated, false)
    );
    let r = db.begin_read().unwrap();
    assert!(r.feedback(Some(d1)).unwrap().is_empty());
    let row = r.quality_report(d("2024-02-01")).unwrap().network;
    assert_eq!(row.rejections.get("validation.incomplete"), Some(&1));
    assert_eq!(row.incomplete_queued(), 0);
}

#[test]
fn a_customer_completed_by_another_source_record_clears_every_incomplete_entry() {
    let db = Database::in_memory().unwrap();
    let d1 = db.write(|tx| Ok(dealer(tx, "SH001"))).unwrap();
    let complete = customer("王小明", "13800138000");
    let bare = Customer {
        province: None,
        city: None,
        ..complete.clone()
    };
    let no_city = Customer {
        city: None,
        ..complete.clone()
    };
    // Two records of the same person, both incomplete, match by phone + name.
    let a = db
        .write(|tx| tx.upsert_customer(&bare, None, &from(Some(d1), "C-1", "2024-01-01")))
        .unwrap();
    let b = db
        .write(|tx| tx.upsert_customer(&no_city, None, &from(Some(d1), "C-2", "2024-01-02")))
        .unwrap();
    assert_eq!(a.id, b.id);
    assert!(a.incomplete && b.incomplete);
    let r = db.begin_read().unwrap();
    let q = r.feedback(Some(d1)).unwrap();
    assert_eq!(q.len(), 2);
    // Both entries say what the customer lacks now, not what C-1 lacked when it came.
    for e in &q {
        assert_eq!(e.field.as_deref(), Some("city"), "{e:?}");
        assert!(e.message.contains("missing city"), "{}", e.message);
    }
    drop(r);
    // A third record completes the customer: every entry about it leaves the queue, as if
    // the complete record had come first.
    let c = db
        .write(|tx| tx.upsert_customer(&complete, None, &from(Some(d1), "C-3", "2024-01-03")))
        .unwrap();
    assert_eq!((c.id, c.incomplete), (a.id, false));
    assert!(db
        .begin_read()
        .unwrap()
        .feedback(Some(d1))
        .unwrap()
        .is_empty());
}

#[test]
fn merging_customers_settles_their_incomplete_entries() {
    let db = Database::in_memory().unwrap();
    let d1 = db.write(|tx| Ok(dealer(tx, "SH001"))).unwrap();
    let a = Customer {
        city: None,
        ..customer("王小明", "13800138000")
    };
    let b = Customer {
        phones: vec!["13900139000".into()],
        ..Customer::person("王小明")
    };
    let b = Customer {
        province: Some("上海".into()),
        city: Some("上海".into()),
        ..b
    };
    let (ua, ub) = db
        .write(|tx| {
            let ua = tx.upsert_customer(&a, None, &from(Some(d1), "C-1", "2024-01-01"))?;
            let ub = tx.upsert_customer(&b, None, &from(Some(d1), "C-2", "2024-01-01"))?;
            Ok((ua, ub))
        })
        .unwrap();
    assert_ne!(ua.id, ub.id);
    assert!(ua.incomplete && ub.incomplete);
    assert_eq!(
        db.begin_read().unwrap().feedback(Some(d1)).unwrap().len(),
        2
    );
    db.write(|tx| tx.merge_customers(ua.id, ub.id, at("2024-02-01"), "operator"))
        .unwrap();
    // The merged customer has the national ID of one and the city of the other: complete.
    assert!(db
        .begin_read()
        .unwrap()
        .feedback(Some(d1))
        .unwrap()
        .is_empty());
}

#[test]
fn a_rejection_given_by_its_report_shape_is_queued_like_the_error() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let d1 = dealer(&mut tx, "SH001");
    let f = from(Some(d1), "R-1", "2024-03-01");
    let e = tx
        .upsert_customer(&customer("王先生", "13800138000"), None, &f)
        .unwrap_err();
    // The error as another language holds it: code, field, message; no hint.
    let why = Rejection {
        code: e.code(),
        field: Some("name".into()),
        message: e.to_string(),
        hint: None,
    };
    let id = tx
        .reject_as(&f, RecordKind::Customer, Some(3), "R-1,王先生", &why)
        .unwrap();
    let g = from(Some(d1), "R-2", "2024-03-01");
    let direct = tx
        .reject(&g, RecordKind::Customer, Some(3), "R-1,王先生", &e)
        .unwrap();
    // A caller's own hint is kept; an erased customer's record is withheld by its code alone.
    let h = from(None, "R-3", "2024-03-01");
    let erased = Rejection {
        code: "invalid_operation.customer_erased".into(),
        field: None,
        message: "customer 9 was erased".into(),
        hint: Some("ask the dealer".into()),
    };
    tx.reject_as(
        &h,
        RecordKind::Customer,
        None,
        "R-3,张三,13900139000",
        &erased,
    )
    .unwrap();
    tx.commit().unwrap();

    let r = db.begin_read().unwrap();
    let [a, b] = &r.feedback(Some(d1)).unwrap()[..] else {
        panic!("two entries expected");
    };
    assert_eq!(a.id, id);
    assert_eq!(b.id, direct);
    // The same entry as core's own `reject` of the error, hint included.
    assert_eq!(
        (&a.code, &a.field, &a.message, &a.hint, a.line),
        (&b.code, &b.field, &b.message, &b.hint, b.line)
    );
    assert!(a.hint.contains("full name"), "{}", a.hint);
    let u = &r.feedback(None).unwrap()[0];
    assert!(u.raw.starts_with("(withheld"), "{}", u.raw);
    assert_eq!(u.hint, "ask the dealer");
    drop(r);

    // A corrected delivery of the source record clears the entry.
    db.write(|tx| tx.upsert_customer(&customer("王小明", "13800138000"), None, &f))
        .unwrap();
    let r = db.begin_read().unwrap();
    assert!(r
        .feedback_entry(RecordKind::Customer, &SourceRef::new("dms", "R-1"))
        .unwrap()
        .is_none());
}
