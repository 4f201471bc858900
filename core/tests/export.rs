//! `autocrm::export` (feature `arrow`): every table of a small hand-built database, with its
//! columns (names, types, order: the Python binding and its users depend on them) and concrete
//! values — a vehicle transferred twice has three ownership rows, a customer's home dealer is
//! the dealer of his latest service visit, a lost lead carries its reason.

use std::sync::Arc;

use autocrm::export::{self, arrow_array, arrow_schema};
use autocrm::kpi::{Dimension, Period};
use autocrm::loyalty::{Adjustment, Wallet};
use autocrm::*;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float64Type, Int64Type, TimestampSecondType, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, t};

fn dealer(code: &str, province: &str) -> Dealer {
    Dealer {
        code: code.into(),
        name: format!("{code} 4S"),
        region: "East".into(),
        province: province.into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    }
}

/// The database the tests export.
struct Crm {
    db: Database,
    d1: DealerId,
    d2: DealerId,
    /// A person with two phones: owned V1 first, owns V2, a service visit at D2, a complaint,
    /// a survey, a new lead, 300 points in D1's wallet.
    wang: CustomerId,
    /// A person: owned V1 second; a lost lead; 50 brand points.
    li: CustomerId,
    /// An organisation: owns V1 now.
    acme: CustomerId,
    /// A person with no records at all.
    zhao: CustomerId,
    /// Sold by D1 to wang on 2020-03-01, to li on 2022-06-15, to acme on 2024-01-10.
    v1: VehicleId,
    /// Sold by D2 to wang on 2023-05-01.
    v2: VehicleId,
    service: TouchpointId,
    enquiry: TouchpointId,
    /// li's, two days after his enquiry.
    callback: TouchpointId,
    lost: LeadId,
    fresh: LeadId,
    complaint: ComplaintId,
    survey: SurveyId,
    wang_points: u64,
    li_points: u64,
}

const VIN1: &str = "LSVAU218XN2183294";
const VIN2: &str = "WVWZZZ1KZ00000002";

fn crm() -> Crm {
    let db = Database::in_memory().unwrap();
    let mut w = db.begin_write().unwrap();
    let tx = &mut w;
    tx.set_loyalty_config(&LoyaltyConfig::default()).unwrap();
    let d1 = tx.insert_dealer(&dealer("SH001", "上海")).unwrap();
    let d2 = tx.insert_dealer(&dealer("SH002", "江苏")).unwrap();
    let wang = tx
        .insert_customer(&Customer {
            phones: vec!["13800138000".into(), "13900139000".into()],
            province: Some("上海".into()),
            city: Some("上海".into()),
            ..Customer::person("王小明")
        })
        .unwrap();
    let li = tx.insert_customer(&Customer::person("李华")).unwrap();
    let acme = tx
        .insert_customer(&Customer::organisation("上海安可贸易有限公司"))
        .unwrap();
    let zhao = tx.insert_customer(&Customer::person("赵强")).unwrap();

    let v1 = tx
        .insert_vehicle(
            &Vehicle {
                selling_dealer: Some(d1),
                purchase_date: Some(d("2020-03-01")),
                plate: Some("沪A12345".into()),
                ..Vehicle::new(VIN1, "Volkswagen", "Passat")
            },
            Some((wang, d("2020-03-01"))),
        )
        .unwrap();
    tx.transfer_vehicle(v1, li, d("2022-06-15")).unwrap();
    tx.transfer_vehicle(v1, acme, d("2024-01-10")).unwrap();
    let v2 = tx
        .insert_vehicle(
            &Vehicle {
                selling_dealer: Some(d2),
                purchase_date: Some(d("2023-05-01")),
                ..Vehicle::new(VIN2, "Volkswagen", "Golf")
            },
            Some((wang, d("2023-05-01"))),
        )
        .unwrap();

    let service = tx
        .insert_touchpoint(&Touchpoint {
            dealer: Some(d2),
            vehicle: Some(v2),
            service_kind: Some(ServiceKind::Maintenance),
            amount: Some(Money(123_456)),
            parts_amount: Some(Money(100_000)),
            labour_amount: Some(Money(23_456)),
            mileage_km: Some(15_000),
            ..Touchpoint::new(
                t("2024-03-01T09:30"),
                wang,
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            )
        })
        .unwrap();
    let enquiry = tx
        .insert_touchpoint(&Touchpoint {
            note: Some("asks about Tiguan".into()),
            ..Touchpoint::new(
                t("2024-02-01T14:00"),
                li,
                Channel::PhoneIn,
                TouchpointKind::Enquiry,
            )
        })
        .unwrap();

    let callback = tx
        .insert_touchpoint(&Touchpoint {
            outcome: Some("will visit".into()),
            ..Touchpoint::new(
                t("2024-02-03T10:00"),
                li,
                Channel::PhoneOut,
                TouchpointKind::Callback,
            )
        })
        .unwrap();
    let lead = |c, status, status_at: Option<&str>| Lead {
        customer: c,
        origin: LeadSource::Web,
        model: "Tiguan".into(),
        intent: Intent::A,
        purchase_type: PurchaseType::First,
        dealer: Some(d1),
        received: t("2024-02-01T14:05"),
        status,
        status_at: status_at.map(t),
        source: None,
    };
    let lost = tx
        .insert_lead(&lead(
            li,
            LeadStatus::Lost("price".into()),
            Some("2024-02-20T10:00"),
        ))
        .unwrap();
    let fresh = tx.insert_lead(&lead(wang, LeadStatus::New, None)).unwrap();

    let complaint = tx
        .insert_complaint(&Complaint {
            customer: wang,
            vehicle: Some(v2),
            dealer: Some(d2),
            category: "repair quality".into(),
            received: t("2024-03-05T09:00"),
            status: ComplaintStatus::Received,
            first_response: Some(t("2024-03-05T15:00")),
            analysed: None,
            resolved: None,
            called_back: None,
            closed: None,
            note: None,
            source: None,
        })
        .unwrap();
    let survey = tx
        .insert_survey(&Survey {
            customer: wang,
            dealer: Some(d2),
            kind: SurveyKind::Service,
            date: d("2024-03-10"),
            items: vec![(Factor::Friendliness, 9), (Factor::RepairProcess, 7)],
            source: None,
        })
        .unwrap();

    tx.join_dealer_club(wang, d1, d("2024-04-01"), "dealer")
        .unwrap();
    tx.join_brand_club(li, d("2024-04-01"), "owner_app")
        .unwrap();
    let credit = |c, wallet, points, key: &str| Adjustment {
        customer: c,
        wallet,
        points,
        at: t("2024-04-02T08:00"),
        operator: "op1".into(),
        reason: "goodwill".into(),
        key: key.into(),
    };
    let wang_points = tx
        .adjust(&credit(wang, Wallet::Dealer(d1), 300, "w1"))
        .unwrap();
    let li_points = tx.adjust(&credit(li, Wallet::Brand, 50, "l1")).unwrap();
    w.commit().unwrap();
    Crm {
        db,
        d1,
        d2,
        wang,
        li,
        acme,
        zhao,
        v1,
        v2,
        service,
        enquiry,
        callback,
        lost,
        fresh,
        complaint,
        survey,
        wang_points,
        li_points,
    }
}

// ---------------------------------------------------------------------------------------------
// Column access

/// The column names and types of `b`, checked against its table's schema function.
fn columns(b: &RecordBatch, schema: arrow_schema::SchemaRef) -> Vec<(String, DataType)> {
    assert_eq!(b.schema(), schema, "a batch has its table's schema");
    b.schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect()
}

fn expect(cols: &[(&str, DataType)]) -> Vec<(String, DataType)> {
    cols.iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect()
}

fn u64s(b: &RecordBatch, name: &str) -> Vec<Option<u64>> {
    col(b, name).as_primitive::<UInt64Type>().iter().collect()
}

fn u32s(b: &RecordBatch, name: &str) -> Vec<Option<u32>> {
    col(b, name).as_primitive::<UInt32Type>().iter().collect()
}

fn u8s(b: &RecordBatch, name: &str) -> Vec<Option<u8>> {
    col(b, name).as_primitive::<UInt8Type>().iter().collect()
}

fn i64s(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    col(b, name).as_primitive::<Int64Type>().iter().collect()
}

fn f64s(b: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    col(b, name).as_primitive::<Float64Type>().iter().collect()
}

fn dates(b: &RecordBatch, name: &str) -> Vec<Option<Date>> {
    col(b, name)
        .as_primitive::<Date32Type>()
        .iter()
        .map(|v| v.map(Date::from_days))
        .collect()
}

fn times(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    col(b, name)
        .as_primitive::<TimestampSecondType>()
        .iter()
        .collect()
}

fn strs(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    col(b, name)
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

fn bools(b: &RecordBatch, name: &str) -> Vec<Option<bool>> {
    col(b, name).as_boolean().iter().collect()
}

fn col<'b>(b: &'b RecordBatch, name: &str) -> &'b Arc<dyn Array> {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

const TS: DataType = DataType::Timestamp(TimeUnit::Second, None);

fn utf8_list() -> DataType {
    DataType::List(Arc::new(arrow_schema::Field::new(
        "item",
        DataType::Utf8,
        true,
    )))
}

// ---------------------------------------------------------------------------------------------
// Tables

#[test]
fn customers_one_row_each_in_id_order_whatever_the_threads() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let one = export::customers(&r, None).unwrap();
    assert_eq!(one.len(), 1, "4 customers: one thread, one batch");
    let b = &one[0];
    assert_eq!(
        columns(b, export::customers_schema()),
        expect(&[
            ("id", DataType::UInt64),
            ("kind", DataType::Utf8),
            ("name", DataType::Utf8),
            ("gender", DataType::Utf8),
            ("birth_date", DataType::Date32),
            ("national_id", DataType::Utf8),
            ("credit_code", DataType::Utf8),
            ("phones", utf8_list()),
            ("province", DataType::Utf8),
            ("city", DataType::Utf8),
            ("occupation", DataType::Utf8),
            ("employer", DataType::Utf8),
            ("industry", DataType::Utf8),
            ("source_system", DataType::Utf8),
            ("source_record_id", DataType::Utf8),
        ])
    );
    assert_eq!(b.num_rows(), 4);
    assert_eq!(
        u64s(b, "id"),
        [c.wang, c.li, c.acme, c.zhao].map(|x| Some(x.0))
    );
    assert_eq!(
        strs(b, "kind"),
        [s("person"), s("person"), s("organisation"), s("person")]
    );
    assert_eq!(
        strs(b, "name"),
        [s("王小明"), s("李华"), s("上海安可贸易有限公司"), s("赵强")]
    );
    assert_eq!(strs(b, "province"), [s("上海"), None, None, None]);
    let phones = col(b, "phones").as_list::<i32>();
    let first: Vec<_> = phones
        .value(0)
        .as_string::<i32>()
        .iter()
        .map(|p| p.unwrap().to_string())
        .collect();
    assert_eq!(first, ["13800138000", "13900139000"]);
    assert_eq!(phones.value(1).len(), 0, "no phones: an empty list");
    assert!(!phones.is_null(1));

    // Two threads: two batches of consecutive id ranges, the same rows in the same order.
    for threads in [2, 3, 4, 16] {
        let parts = export::customers(&r, Some(threads)).unwrap();
        assert_eq!(parts.len(), threads.min(4), "{threads} threads");
        let ids: Vec<_> = parts.iter().flat_map(|p| u64s(p, "id")).collect();
        assert_eq!(ids, u64s(b, "id"), "{threads} threads");
        let names: Vec<_> = parts.iter().flat_map(|p| strs(p, "name")).collect();
        assert_eq!(names, strs(b, "name"), "{threads} threads");
    }
}

#[test]
fn an_empty_database_gives_empty_tables_with_their_columns() {
    let db = Database::in_memory().unwrap();
    let r = db.begin_read().unwrap();
    let customers = export::customers(&r, Some(4)).unwrap();
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].num_rows(), 0);
    assert_eq!(customers[0].schema(), export::customers_schema());
    for (b, schema) in [
        (export::vehicles(&r).unwrap(), export::vehicles_schema()),
        (export::ownership(&r).unwrap(), export::ownership_schema()),
        (
            export::touchpoints(&r, None).unwrap(),
            export::touchpoints_schema(),
        ),
        (
            export::postings(&r, None).unwrap(),
            export::postings_schema(),
        ),
        (export::leads(&r).unwrap(), export::leads_schema()),
        (export::complaints(&r).unwrap(), export::complaints_schema()),
        (export::surveys(&r).unwrap(), export::surveys_schema()),
        (
            export::home_dealers(&r, d("2025-01-01")).unwrap(),
            export::home_dealers_schema(),
        ),
    ] {
        assert_eq!(b.num_rows(), 0);
        assert_eq!(b.schema(), schema);
    }
}

#[test]
fn vehicles_show_the_current_owner() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let b = export::vehicles(&r).unwrap();
    let mut want = vec![("id", DataType::UInt64)];
    for n in ["vin", "plate", "brand", "model", "trim", "usage"] {
        want.push((n, DataType::Utf8));
    }
    for n in [
        "purchase_date",
        "invoice_date",
        "registration_date",
        "first_service_date",
        "warranty_end",
        "insurance_expiry",
        "inspection_due",
    ] {
        want.push((n, DataType::Date32));
    }
    want.push(("selling_dealer", DataType::UInt32));
    want.push(("owner", DataType::UInt64));
    want.push(("owner_since", DataType::Date32));
    assert_eq!(columns(&b, export::vehicles_schema()), expect(&want));
    assert_eq!(b.num_rows(), 2);
    assert_eq!(u64s(&b, "id"), [Some(c.v1.0), Some(c.v2.0)]);
    assert_eq!(strs(&b, "vin"), [s(VIN1), s(VIN2)]);
    assert_eq!(strs(&b, "plate"), [s("沪A12345"), None]);
    assert_eq!(strs(&b, "model"), [s("Passat"), s("Golf")]);
    assert_eq!(strs(&b, "usage"), [s("private"), s("private")]);
    assert_eq!(
        dates(&b, "purchase_date"),
        [Some(d("2020-03-01")), Some(d("2023-05-01"))]
    );
    assert_eq!(u32s(&b, "selling_dealer"), [Some(c.d1.0), Some(c.d2.0)]);
    assert_eq!(u64s(&b, "owner"), [Some(c.acme.0), Some(c.wang.0)]);
    assert_eq!(
        dates(&b, "owner_since"),
        [Some(d("2024-01-10")), Some(d("2023-05-01"))]
    );
}

#[test]
fn a_vehicle_sold_twice_has_three_ownership_rows() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let b = export::ownership(&r).unwrap();
    assert_eq!(
        columns(&b, export::ownership_schema()),
        expect(&[
            ("vehicle", DataType::UInt64),
            ("vin", DataType::Utf8),
            ("customer", DataType::UInt64),
            ("from", DataType::Date32),
            ("to", DataType::Date32),
            ("current", DataType::Boolean),
        ])
    );
    assert_eq!(b.num_rows(), 4, "three periods of V1, one of V2");
    assert_eq!(
        u64s(&b, "vehicle"),
        [c.v1, c.v1, c.v1, c.v2].map(|v| Some(v.0))
    );
    assert_eq!(strs(&b, "vin"), [s(VIN1), s(VIN1), s(VIN1), s(VIN2)]);
    assert_eq!(
        u64s(&b, "customer"),
        [c.wang, c.li, c.acme, c.wang].map(|x| Some(x.0))
    );
    assert_eq!(
        dates(&b, "from"),
        ["2020-03-01", "2022-06-15", "2024-01-10", "2023-05-01"].map(|x| Some(d(x)))
    );
    assert_eq!(
        dates(&b, "to"),
        [Some(d("2022-06-15")), Some(d("2024-01-10")), None, None]
    );
    assert_eq!(
        bools(&b, "current"),
        [Some(false), Some(false), Some(true), Some(true)]
    );
}

#[test]
fn touchpoints_of_everyone_or_of_one_customer() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let b = export::touchpoints(&r, None).unwrap();
    let dec = DataType::Decimal128(18, 2);
    assert_eq!(
        columns(&b, export::touchpoints_schema()),
        expect(&[
            ("id", DataType::UInt64),
            ("customer", DataType::UInt64),
            ("at", TS),
            ("vehicle", DataType::UInt64),
            ("dealer", DataType::UInt32),
            ("channel", DataType::Utf8),
            ("kind", DataType::Utf8),
            ("service_kind", DataType::Utf8),
            ("stage", DataType::Utf8),
            ("sensitive", DataType::Boolean),
            ("amount", dec.clone()),
            ("parts_amount", dec.clone()),
            ("labour_amount", dec),
            ("mileage_km", DataType::UInt32),
            ("score", DataType::UInt8),
            ("outcome", DataType::Utf8),
            ("note", DataType::Utf8),
        ])
    );
    // Customers in id order, each timeline newest first: wang's visit, then li's callback
    // and his earlier enquiry.
    assert_eq!(b.num_rows(), 3);
    assert_eq!(
        u64s(&b, "id"),
        [c.service, c.callback, c.enquiry].map(|x| Some(x.0))
    );
    assert_eq!(
        u64s(&b, "customer"),
        [c.wang, c.li, c.li].map(|x| Some(x.0))
    );
    assert_eq!(
        times(&b, "at"),
        ["2024-03-01T09:30", "2024-02-03T10:00", "2024-02-01T14:00"].map(|x| Some(t(x).seconds()))
    );
    assert_eq!(u64s(&b, "vehicle"), [Some(c.v2.0), None, None]);
    assert_eq!(u32s(&b, "dealer"), [Some(c.d2.0), None, None]);
    assert_eq!(
        strs(&b, "channel"),
        [s("showroom"), s("phone_out"), s("phone_in")]
    );
    assert_eq!(
        strs(&b, "kind"),
        [s("service_visit"), s("callback"), s("enquiry")]
    );
    assert_eq!(strs(&b, "service_kind"), [s("maintenance"), None, None]);
    assert_eq!(bools(&b, "sensitive"), [Some(false); 3]);
    let amount: Vec<_> = col(&b, "amount")
        .as_primitive::<Decimal128Type>()
        .iter()
        .collect();
    assert_eq!(
        amount,
        [Some(123_456), None, None],
        "fen, scale 2: 1234.56 yuan"
    );
    assert_eq!(
        col(&b, "amount")
            .as_primitive::<Decimal128Type>()
            .value_as_string(0),
        "1234.56"
    );
    let mileage: Vec<_> = col(&b, "mileage_km")
        .as_primitive::<UInt32Type>()
        .iter()
        .collect();
    assert_eq!(mileage, [Some(15_000), None, None]);
    assert_eq!(strs(&b, "outcome"), [None, s("will visit"), None]);
    assert_eq!(strs(&b, "note"), [None, None, s("asks about Tiguan")]);

    let li = export::touchpoints(&r, Some(c.li)).unwrap();
    assert_eq!(u64s(&li, "id"), [Some(c.callback.0), Some(c.enquiry.0)]);
    let zhao = export::touchpoints(&r, Some(c.zhao)).unwrap();
    assert_eq!(zhao.num_rows(), 0);
    let nobody = export::touchpoints(&r, Some(CustomerId(999))).unwrap();
    assert_eq!(nobody.num_rows(), 0, "an id no customer has: no rows");
}

#[test]
fn postings_name_their_wallet() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let b = export::postings(&r, None).unwrap();
    assert_eq!(
        columns(&b, export::postings_schema()),
        expect(&[
            ("id", DataType::UInt64),
            ("customer", DataType::UInt64),
            ("wallet", DataType::Utf8),
            ("kind", DataType::Utf8),
            ("points", DataType::Int64),
            ("at", TS),
            ("key", DataType::Utf8),
            ("dealer", DataType::UInt32),
            ("expires", DataType::Date32),
            ("shortfall", DataType::Int64),
        ])
    );
    assert_eq!(b.num_rows(), 2);
    assert_eq!(u64s(&b, "id"), [Some(c.wang_points), Some(c.li_points)]);
    assert_eq!(u64s(&b, "customer"), [Some(c.wang.0), Some(c.li.0)]);
    assert_eq!(
        strs(&b, "wallet"),
        [Some(format!("dealer:{}", c.d1.0)), s("brand")]
    );
    assert_eq!(strs(&b, "kind"), [s("adjust"), s("adjust")]);
    assert_eq!(i64s(&b, "points"), [Some(300), Some(50)]);
    assert_eq!(i64s(&b, "shortfall"), [Some(0), Some(0)]);
    let at = t("2024-04-02T08:00").seconds();
    assert_eq!(times(&b, "at"), [Some(at), Some(at)]);

    let li = export::postings(&r, Some(c.li)).unwrap();
    assert_eq!(u64s(&li, "id"), [Some(c.li_points)]);
    assert_eq!(
        export::postings(&r, Some(c.zhao)).unwrap().num_rows(),
        0,
        "no postings"
    );
}

#[test]
fn leads_complaints_and_surveys() {
    let c = crm();
    let r = c.db.begin_read().unwrap();

    let b = export::leads(&r).unwrap();
    assert_eq!(
        columns(&b, export::leads_schema()),
        expect(&[
            ("id", DataType::UInt64),
            ("customer", DataType::UInt64),
            ("origin", DataType::Utf8),
            ("model", DataType::Utf8),
            ("intent", DataType::Utf8),
            ("purchase_type", DataType::Utf8),
            ("status", DataType::Utf8),
            ("lost_reason", DataType::Utf8),
            ("dealer", DataType::UInt32),
            ("received", TS),
            ("status_at", TS),
        ])
    );
    assert_eq!(u64s(&b, "id"), [Some(c.lost.0), Some(c.fresh.0)]);
    assert_eq!(u64s(&b, "customer"), [Some(c.li.0), Some(c.wang.0)]);
    assert_eq!(strs(&b, "origin"), [s("web"), s("web")]);
    assert_eq!(strs(&b, "intent"), [s("A"), s("A")]);
    assert_eq!(strs(&b, "status"), [s("lost"), s("new")]);
    assert_eq!(strs(&b, "lost_reason"), [s("price"), None]);
    assert_eq!(u32s(&b, "dealer"), [Some(c.d1.0), Some(c.d1.0)]);
    assert_eq!(
        times(&b, "status_at"),
        [Some(t("2024-02-20T10:00").seconds()), None]
    );

    let b = export::complaints(&r).unwrap();
    let mut want = vec![
        ("id", DataType::UInt64),
        ("customer", DataType::UInt64),
        ("vehicle", DataType::UInt64),
        ("dealer", DataType::UInt32),
        ("category", DataType::Utf8),
        ("status", DataType::Utf8),
        ("first_response_within_sla", DataType::Boolean),
    ];
    for n in [
        "received",
        "first_response",
        "analysed",
        "resolved",
        "called_back",
        "closed",
    ] {
        want.push((n, TS));
    }
    want.push(("note", DataType::Utf8));
    assert_eq!(columns(&b, export::complaints_schema()), expect(&want));
    assert_eq!(u64s(&b, "id"), [Some(c.complaint.0)]);
    assert_eq!(u64s(&b, "vehicle"), [Some(c.v2.0)]);
    assert_eq!(strs(&b, "category"), [s("repair quality")]);
    assert_eq!(strs(&b, "status"), [s("received")]);
    assert_eq!(bools(&b, "first_response_within_sla"), [Some(true)]);
    assert_eq!(
        times(&b, "received"),
        [Some(t("2024-03-05T09:00").seconds())]
    );
    assert_eq!(
        times(&b, "first_response"),
        [Some(t("2024-03-05T15:00").seconds())]
    );
    assert_eq!(times(&b, "closed"), [None]);

    let b = export::surveys(&r).unwrap();
    let mut want = vec![
        ("id", DataType::UInt64),
        ("customer", DataType::UInt64),
        ("dealer", DataType::UInt32),
        ("kind", DataType::Utf8),
        ("date", DataType::Date32),
    ];
    for f in [
        "friendliness",
        "initiative",
        "supervision",
        "repair_process",
        "product_issues",
        "service_quality",
        "vehicle_pick_up",
    ] {
        want.push((f, DataType::UInt8));
    }
    want.push(("weighted_index", DataType::Float64));
    assert_eq!(columns(&b, export::surveys_schema()), expect(&want));
    assert_eq!(u64s(&b, "id"), [Some(c.survey.0)]);
    assert_eq!(strs(&b, "kind"), [s("service")]);
    assert_eq!(dates(&b, "date"), [Some(d("2024-03-10"))]);
    assert_eq!(u8s(&b, "friendliness"), [Some(9)]);
    assert_eq!(u8s(&b, "repair_process"), [Some(7)]);
    assert_eq!(u8s(&b, "initiative"), [None], "not asked: null");
    let stored = r.survey(c.survey).unwrap();
    let index = stored.weighted_index();
    assert!(index.is_some());
    assert_eq!(f64s(&b, "weighted_index"), [index]);
}

#[test]
fn home_dealers_follow_service_then_sale() {
    let c = crm();
    let r = c.db.begin_read().unwrap();
    let on = d("2024-12-31");
    let b = export::home_dealers(&r, on).unwrap();
    assert_eq!(
        columns(&b, export::home_dealers_schema()),
        expect(&[
            ("customer", DataType::UInt64),
            ("home_dealer", DataType::UInt32)
        ])
    );
    assert_eq!(
        u64s(&b, "customer"),
        [c.wang, c.li, c.acme, c.zhao].map(|x| Some(x.0))
    );
    let home = u32s(&b, "home_dealer");
    assert_eq!(home[0], Some(c.d2.0), "wang: his service visit at D2");
    assert_eq!(home[2], Some(c.d1.0), "acme: V1 sold by D1");
    assert_eq!(home[3], None, "zhao: nothing to count him at");
    let facts = r.facts().unwrap();
    assert_eq!(home[1], facts.home_dealer(c.li, on).unwrap().map(|d| d.0));
    // Before wang's service visit, his latest vehicle (V2, sold by D2) decides too; before
    // V2 it was V1's dealer.
    let early = export::home_dealers_of(&facts, d("2021-01-01")).unwrap();
    assert_eq!(u32s(&early, "home_dealer")[0], Some(c.d1.0));
    assert_eq!(export::home_dealers_of(&facts, on).unwrap(), b);
}

#[test]
fn members_kpi_rows_quality_and_candidates() {
    let c = crm();
    let r = c.db.begin_read().unwrap();

    let set: CustomerSet = [c.acme, c.wang].into_iter().collect();
    let b = export::members(&set).unwrap();
    assert_eq!(
        columns(&b, export::members_schema()),
        expect(&[("customer_id", DataType::UInt64)])
    );
    assert_eq!(u64s(&b, "customer_id"), [Some(c.wang.0), Some(c.acme.0)]);
    assert_eq!(export::members(&CustomerSet::new()).unwrap().num_rows(), 0);

    let facts = r.facts().unwrap();
    let rows = facts.kpi(
        Kpi::LeadConversion,
        Dimension::Dealer,
        Period::new(d("2024-01-01"), d("2025-01-01")).unwrap(),
    );
    let b = export::kpi_rows(&rows).unwrap();
    assert_eq!(
        columns(&b, export::kpi_rows_schema()),
        expect(&[
            ("kpi", DataType::Utf8),
            ("dimension", DataType::Utf8),
            ("key", DataType::Utf8),
            ("label", DataType::Utf8),
            ("period_from", DataType::Date32),
            ("period_to", DataType::Date32),
            ("numerator", DataType::Float64),
            ("denominator", DataType::Float64),
            ("value", DataType::Float64),
        ])
    );
    assert_eq!(b.num_rows(), rows.len());
    let d1 = rows
        .iter()
        .position(|row| row.label == "SH001")
        .expect("a row for D1");
    assert_eq!(strs(&b, "kpi")[d1], s(Kpi::LeadConversion.name()));
    assert_eq!(strs(&b, "dimension")[d1], s("dealer"));
    assert_eq!(strs(&b, "key")[d1], Some(c.d1.0.to_string()));
    assert_eq!(dates(&b, "period_from")[d1], Some(d("2024-01-01")));
    assert_eq!(dates(&b, "period_to")[d1], Some(d("2025-01-01")));
    assert_eq!(f64s(&b, "numerator")[d1], Some(rows[d1].numerator));
    assert_eq!(f64s(&b, "denominator")[d1], Some(2.0), "two leads at D1");
    assert_eq!(f64s(&b, "value")[d1], rows[d1].value);

    let report = r.quality_report(d("2024-12-31")).unwrap();
    let b = export::quality_rows(&report.rows).unwrap();
    assert_eq!(
        columns(&b, export::quality_rows_schema()),
        expect(&[
            ("dealer", DataType::UInt32),
            ("label", DataType::Utf8),
            ("customers", DataType::UInt64),
            ("customers_sold", DataType::UInt64),
            ("valid_info", DataType::UInt64),
            ("valid_info_ratio", DataType::Float64),
            ("rejections", DataType::UInt64),
            ("queue_size", DataType::UInt64),
            ("oldest_queued_days", DataType::Int32),
            ("open_conflicts", DataType::UInt64),
        ])
    );
    assert_eq!(b.num_rows(), report.rows.len());
    assert_eq!(
        u32s(&b, "dealer"),
        report
            .rows
            .iter()
            .map(|row| row.dealer.map(|d| d.0))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        u64s(&b, "customers"),
        report
            .rows
            .iter()
            .map(|row| Some(row.customers))
            .collect::<Vec<_>>()
    );

    let candidates = vec![DuplicateCandidate {
        customer: c.wang,
        other: c.zhao,
        score: 80,
        reasons: vec![MatchReason::PhoneAndName],
    }];
    let b = export::candidates(&candidates).unwrap();
    assert_eq!(
        columns(&b, export::candidates_schema()),
        expect(&[
            ("customer", DataType::UInt64),
            ("other", DataType::UInt64),
            ("score", DataType::UInt8),
            ("reasons", utf8_list()),
        ])
    );
    assert_eq!(u64s(&b, "other"), [Some(c.zhao.0)]);
    assert_eq!(u8s(&b, "score"), [Some(80)]);
    let reasons = col(&b, "reasons").as_list::<i32>().value(0);
    assert_eq!(
        reasons.as_string::<i32>().value(0),
        MatchReason::PhoneAndName.name()
    );
}
