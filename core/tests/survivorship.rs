//! Survivorship on upsert (DOMAIN §4): matching, the per-field ordering rules, conflicts and
//! their resolution, lineage in the 360° view, idempotent replay, persistence, and a model
//! check that a lower-priority source never leaves its value over a higher one's offer.

use autocrm::validate::vin_check_digit;
use autocrm::*;
use proptest::prelude::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{credit, d, nid};

fn at(day: &str) -> DateTime {
    d(day).at(9, 0, 0)
}

/// A valid China VIN with serial `n`.
fn vin(n: u32) -> String {
    let v = format!("LSVAU218X{}{:06}", "N2", n % 1_000_000);
    let c = vin_check_digit(&v).unwrap();
    format!("{}{c}{}", &v[..8], &v[9..])
}

fn from(system: &str, record: &str, day: &str) -> Received {
    Received {
        source: SourceRef::new(system, record),
        dealer: None,
        at: at(day),
    }
}

fn wang() -> Customer {
    Customer {
        phones: vec!["13800138000".into()],
        province: Some("上海".into()),
        city: Some("上海".into()),
        ..Customer::person("王小明")
    }
}

fn with_city(city: &str) -> Customer {
    Customer {
        city: Some(city.into()),
        ..wang()
    }
}

fn upsert(db: &Database, c: &Customer, f: &Received) -> Upsert<CustomerId> {
    db.write(|tx| tx.upsert_customer(c, None, f)).unwrap()
}

fn lineage(db: &Database, id: CustomerId, field: Field) -> FieldLineage {
    db.begin_read()
        .unwrap()
        .lineage_of_customer(id)
        .unwrap()
        .into_iter()
        .find(|l| l.field == field)
        .unwrap_or_else(|| panic!("no lineage for {field}"))
}

fn city(db: &Database, id: CustomerId) -> Option<String> {
    db.begin_read().unwrap().customer(id).unwrap().city
}

#[test]
fn creates_then_matches_the_same_source_record() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    assert_eq!(u.outcome, Outcome::Created);
    assert_eq!(u.conflicts, 0);
    let again = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-02"));
    assert_eq!(again.id, u.id);
    assert_eq!(again.outcome, Outcome::Unchanged);
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 1);
    let l = r.lineage_of_customer(u.id).unwrap();
    let fields: Vec<Field> = l.iter().map(|l| l.field).collect();
    assert_eq!(
        fields,
        [Field::Name, Field::Phone, Field::Province, Field::City]
    );
    assert!(l.iter().all(|l| l.source == SourceRef::new("dms", "D-1")));
    assert!(l.iter().all(|l| l.priority == 10 && !l.verified));
}

#[test]
fn higher_priority_wins() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    // The finance record matches by phone + name and ranks higher for contact data.
    let f = upsert(
        &db,
        &with_city("苏州"),
        &from("finance", "F-9", "2023-06-01"),
    );
    assert_eq!(f.id, u.id);
    assert_eq!(f.outcome, Outcome::Updated);
    // The DMS city it replaces is kept as the conflict the DMS record would have raised had
    // it arrived second: the conflicts do not depend on the order records arrive in.
    assert_eq!(f.conflicts, 1);
    assert_eq!(city(&db, u.id).as_deref(), Some("苏州"));
    let open = db.begin_read().unwrap().conflicts(true).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].field, Field::City);
    assert_eq!(open[0].reason, ConflictReason::LowerPriority);
    assert_eq!(open[0].offered, FieldValue::Text("上海".into()));
    assert_eq!(open[0].current, Some(FieldValue::Text("苏州".into())));
    assert_eq!(open[0].received.source, SourceRef::new("dms", "D-1"));
    // Replaying the DMS record raises nothing new.
    let again = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    assert_eq!((again.outcome, again.conflicts), (Outcome::Unchanged, 0));
    let l = lineage(&db, u.id, Field::City);
    assert_eq!(l.source, SourceRef::new("finance", "F-9"));
    assert_eq!(l.value, "苏州");
    assert_eq!(l.priority, 70);
    // Older, but the rank decides, not the time.
    assert_eq!(l.at, at("2023-06-01"));
}

#[test]
fn lower_priority_is_a_conflict_never_applied() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
    let later = upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2024-05-01"));
    assert_eq!(later.id, u.id);
    assert_eq!(later.outcome, Outcome::Unchanged);
    assert_eq!(later.conflicts, 1);
    assert_eq!(city(&db, u.id).as_deref(), Some("上海"));
    let r = db.begin_read().unwrap();
    let open = r.conflicts(true).unwrap();
    assert_eq!(open.len(), 1);
    let c = &open[0];
    assert_eq!(c.customer(), Some(u.id));
    assert_eq!(c.field, Field::City);
    assert_eq!(c.reason, ConflictReason::LowerPriority);
    assert_eq!(c.current, Some(FieldValue::Text("上海".into())));
    assert_eq!(c.offered, FieldValue::Text("杭州".into()));
    assert_eq!(c.received.source, SourceRef::new("dms", "D-1"));
    assert_eq!(
        c.current_lineage.as_ref().unwrap().source,
        SourceRef::new("finance", "F-1")
    );
    assert_eq!(c.status, ConflictStatus::Open);
    assert_eq!(r.conflicts_of(u.id).unwrap(), open);
    let line = c.to_string();
    assert!(
        line.contains("city: 上海 (finance/F-1) <- 杭州 from dms/D-1"),
        "{line}"
    );
    assert!(line.contains("[lower_priority] open"), "{line}");
}

#[test]
fn equal_priority_newer_wins_older_is_stale() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("dms", "D-1", "2024-03-01"));
    let newer = upsert(&db, &with_city("苏州"), &from("dms", "D-2", "2024-04-01"));
    assert_eq!((newer.id, newer.outcome), (u.id, Outcome::Updated));
    assert_eq!(city(&db, u.id).as_deref(), Some("苏州"));
    let older = upsert(&db, &with_city("杭州"), &from("dms", "D-3", "2024-03-15"));
    assert_eq!((older.outcome, older.conflicts), (Outcome::Unchanged, 1));
    assert_eq!(city(&db, u.id).as_deref(), Some("苏州"));
    let c = db.begin_read().unwrap().conflicts(true).unwrap();
    assert_eq!(c[0].reason, ConflictReason::Stale);
    // Simultaneous is not newer either.
    let same = upsert(&db, &with_city("南京"), &from("dms", "D-4", "2024-04-01"));
    assert_eq!(same.conflicts, 1);
    assert_eq!(city(&db, u.id).as_deref(), Some("苏州"));
}

#[test]
fn a_verified_identity_change_is_a_conflict_even_from_the_top_source() {
    let db = Database::in_memory().unwrap();
    let id_a = nid("11010519491231002");
    let id_b = nid("44030419850612123");
    let person = |n: &str, born: &str| Customer {
        party: Party::Person(Person {
            name: "王小明".into(),
            national_id: Some(n.into()),
            birth_date: Some(d(born)),
            ..Person::default()
        }),
        ..wang()
    };
    let u = upsert(
        &db,
        &person(&id_a, "1949-12-31"),
        &from("finance", "F-1", "2024-01-01"),
    );
    assert!(lineage(&db, u.id, Field::NationalId).verified);
    // The finance system re-sends its record with another ID and birth date.
    let again = upsert(
        &db,
        &person(&id_b, "1985-06-12"),
        &from("finance", "F-1", "2024-02-01"),
    );
    assert_eq!(
        (again.id, again.outcome, again.conflicts),
        (u.id, Outcome::Unchanged, 2)
    );
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer(u.id).unwrap().national_id(), Some(id_a.as_str()));
    let reasons: Vec<(Field, ConflictReason)> = r
        .conflicts(true)
        .unwrap()
        .iter()
        .map(|c| (c.field, c.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (Field::NationalId, ConflictReason::VerifiedChange),
            (Field::BirthDate, ConflictReason::VerifiedChange)
        ]
    );
    drop(r);

    // An unverified ID (web) is corrected by a newer record of the same rank: a change.
    let w = upsert(
        &db,
        &Customer {
            phones: vec!["13900139000".into()],
            ..person(&nid("31010119900101001"), "1990-01-01")
        },
        &from("web", "W-1", "2024-01-01"),
    );
    let fixed = nid("31010119900101002");
    let w2 = upsert(
        &db,
        &Customer {
            phones: vec!["13900139000".into()],
            ..person(&fixed, "1990-01-01")
        },
        &from("web", "W-1", "2024-01-05"),
    );
    assert_eq!(
        (w2.id, w2.outcome, w2.conflicts),
        (w.id, Outcome::Updated, 0)
    );
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_by_national_id(&fixed).unwrap(), Some(w.id));
}

#[test]
fn a_new_phone_is_a_change_and_becomes_primary_from_a_source_ranking_as_high() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("call_centre", "CC-1", "2024-01-01"));
    // The DMS (lower for contact) adds a number: added, not primary, no conflict.
    let dms = Customer {
        phones: vec!["13911112222".into(), "13800138000".into()],
        ..wang()
    };
    let r1 = upsert(&db, &dms, &from("dms", "D-1", "2024-02-01"));
    assert_eq!(
        (r1.id, r1.outcome, r1.conflicts),
        (u.id, Outcome::Updated, 0)
    );
    let phones = |db: &Database| db.begin_read().unwrap().customer(u.id).unwrap().phones;
    assert_eq!(phones(&db), ["13800138000", "13911112222"]);
    // The app (higher for contact) sends a new primary: it goes first.
    let app = Customer {
        phones: vec!["13733334444".into(), "13800138000".into()],
        ..wang()
    };
    let r2 = upsert(&db, &app, &from("app", "A-1", "2024-03-01"));
    assert_eq!(
        (r2.id, r2.outcome, r2.conflicts),
        (u.id, Outcome::Updated, 0)
    );
    assert_eq!(phones(&db), ["13733334444", "13800138000", "13911112222"]);
    // Each number keeps its own origin.
    let r = db.begin_read().unwrap();
    let by_number: Vec<(String, String)> = r
        .lineage_of_customer(u.id)
        .unwrap()
        .into_iter()
        .filter(|l| l.field == Field::Phone)
        .map(|l| (l.value, l.source.system))
        .collect();
    assert_eq!(
        by_number,
        [
            ("13733334444".to_string(), "app".to_string()),
            // Confirmed by a higher-ranked source: its lineage moved up.
            ("13800138000".to_string(), "app".to_string()),
            ("13911112222".to_string(), "dms".to_string()),
        ]
    );
    // The phone index finds the customer by every number.
    assert_eq!(r.customers_by_phone("13911112222").unwrap(), [u.id]);
}

#[test]
fn matches_by_national_id_vin_owner_then_phone_and_name() {
    let db = Database::in_memory().unwrap();
    let n = nid("11010519491231002");
    let a = Customer {
        party: Party::Person(Person {
            name: "王小明".into(),
            national_id: Some(n.clone()),
            ..Person::default()
        }),
        phones: vec![],
        ..wang()
    };
    let u = upsert(&db, &a, &from("finance", "F-1", "2024-01-01"));
    // National ID, whatever the name and phones.
    let by_id = Customer {
        party: Party::Person(Person {
            name: "王晓明".into(),
            national_id: Some(n.clone()),
            ..Person::default()
        }),
        ..wang()
    };
    assert_eq!(
        upsert(&db, &by_id, &from("dms", "D-1", "2024-01-02")).id,
        u.id
    );
    // The owner of a VIN.
    let car = vin(1);
    db.write(|tx| {
        tx.upsert_vehicle(
            &Vehicle::new(car.as_str(), "VW", "Passat"),
            u.id,
            &from("dms", "V-1", "2024-01-02"),
        )
    })
    .unwrap();
    let no_key = Customer::person("王小明");
    let by_vin = db
        .write(|tx| tx.upsert_customer(&no_key, Some(&car), &from("web", "W-1", "2024-01-03")))
        .unwrap();
    assert_eq!(by_vin.id, u.id);
    // Phone + name (the stored primary number came from finance? no: from the DMS record).
    let by_phone = upsert(
        &db,
        &Customer::person("王小明").with_phone("13800138000"),
        &from("app", "A-1", "2024-01-04"),
    );
    assert_eq!(by_phone.id, u.id);
    // Same phone, another name: a different person (a family member sharing the number).
    let other = upsert(
        &db,
        &Customer::person("李华").with_phone("13800138000"),
        &from("app", "A-2", "2024-01-04"),
    );
    assert_ne!(other.id, u.id);
    assert_eq!(other.outcome, Outcome::Created);
    // An organisation with a credit code.
    let code = credit("91310000MA1FL4XQ3");
    let org = Customer {
        party: Party::Organisation(Organisation {
            name: "上海某某租赁有限公司".into(),
            credit_code: Some(code.clone()),
            industry: None,
        }),
        ..Customer::organisation("x")
    };
    let o1 = upsert(&db, &org, &from("finance", "F-2", "2024-01-01"));
    let o2 = upsert(&db, &org, &from("invoice", "I-2", "2024-01-01"));
    assert_eq!(o1.id, o2.id);
}

trait WithPhone {
    fn with_phone(self, p: &str) -> Self;
}

impl WithPhone for Customer {
    fn with_phone(mut self, p: &str) -> Customer {
        self.phones = vec![p.into()];
        self
    }
}

#[test]
fn conflicts_are_resolved_both_ways() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
    upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2024-05-01"));
    upsert(
        &db,
        &Customer {
            address: Some("人民路1号".into()),
            province: Some("浙江".into()),
            city: None,
            ..wang()
        },
        &from("dms", "D-2", "2024-05-02"),
    );
    let open = db.begin_read().unwrap().conflicts(true).unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    let (city_c, prov_c) = (&open[0], &open[1]);
    assert_eq!((city_c.field, prov_c.field), (Field::City, Field::Province));
    // The address was empty: applied, no conflict.
    assert_eq!(
        db.begin_read()
            .unwrap()
            .customer(u.id)
            .unwrap()
            .address
            .as_deref(),
        Some("人民路1号")
    );

    let accepted = db
        .write(|tx| tx.resolve_conflict(city_c.id, Resolution::Accept, "ops.li", at("2024-06-01")))
        .unwrap();
    assert_eq!(
        accepted.status,
        ConflictStatus::Accepted {
            by: "ops.li".into(),
            at: at("2024-06-01")
        }
    );
    assert_eq!(city(&db, u.id).as_deref(), Some("杭州"));
    let l = lineage(&db, u.id, Field::City);
    assert_eq!(l.source, SourceRef::new("dms", "D-1"));
    assert!(l.verified, "an operator checked it");

    let rejected = db
        .write(|tx| tx.resolve_conflict(prov_c.id, Resolution::Reject, "ops.li", at("2024-06-01")))
        .unwrap();
    assert!(matches!(rejected.status, ConflictStatus::Rejected { .. }));
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer(u.id).unwrap().province.as_deref(), Some("上海"));
    assert!(r.conflicts(true).unwrap().is_empty());
    assert_eq!(r.conflicts(false).unwrap().len(), 2);
    drop(r);
    // Resolving twice is refused and changes nothing.
    let err = db
        .write(|tx| tx.resolve_conflict(prov_c.id, Resolution::Accept, "ops.li", at("2024-06-02")))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.conflict_already_resolved");
    // Replaying the rejected offer raises nothing new.
    let replay = upsert(
        &db,
        &Customer {
            address: Some("人民路1号".into()),
            province: Some("浙江".into()),
            city: None,
            ..wang()
        },
        &from("dms", "D-2", "2024-05-02"),
    );
    assert_eq!((replay.outcome, replay.conflicts), (Outcome::Unchanged, 0));
    assert!(db.begin_read().unwrap().conflicts(true).unwrap().is_empty());
}

#[test]
fn replay_is_idempotent_and_conflicts_are_not_duplicated() {
    let db = Database::in_memory().unwrap();
    upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
    for _ in 0..3 {
        let u = upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2024-05-01"));
        assert_eq!(u.outcome, Outcome::Unchanged);
    }
    let r = db.begin_read().unwrap();
    assert_eq!(r.conflicts(false).unwrap().len(), 1);
    assert_eq!(r.customer_count().unwrap(), 1);
    drop(r);
    let u = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
    assert_eq!((u.outcome, u.conflicts), (Outcome::Unchanged, 0));
}

#[test]
fn lineage_shows_in_the_360_view() {
    let db = Database::in_memory().unwrap();
    let u = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    upsert(
        &db,
        &with_city("苏州"),
        &from("finance", "F-1", "2024-02-01"),
    );
    let view = db.begin_read().unwrap().customer_360(u.id, 10).unwrap();
    let city = view
        .lineage
        .iter()
        .find(|l| l.field == Field::City)
        .unwrap();
    assert_eq!(city.source.system, "finance");
    let name = view
        .lineage
        .iter()
        .find(|l| l.field == Field::Name)
        .unwrap();
    assert_eq!(
        name.source.system, "finance",
        "equal value, lineage moved up"
    );
    let text = view.to_string();
    assert!(text.contains("lineage"), "{text}");
    assert!(text.contains("finance/F-1"), "{text}");
}

#[test]
fn unknown_sources_are_refused_until_registered_and_do_not_poison() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let err = tx
        .upsert_customer(&wang(), None, &from("erp", "E-1", "2024-01-01"))
        .unwrap_err();
    assert_eq!(err.code(), "validation.unknown_source");
    assert!(err.to_string().contains("register_source"), "{err}");
    // A rejected row leaves the batch usable.
    let bad = tx
        .upsert_customer(
            &Customer::person("王先生"),
            None,
            &from("dms", "D-0", "2024-01-01"),
        )
        .unwrap_err();
    assert_eq!(bad.code(), "validation.name_placeholder");
    tx.register_source(&SourceSystem::new("erp", 95)).unwrap();
    let u = tx
        .upsert_customer(&wang(), None, &from("erp", "E-1", "2024-01-01"))
        .unwrap();
    assert_eq!(u.outcome, Outcome::Created);
    tx.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 1);
    let reg = r.sources().unwrap();
    assert_eq!(reg.priority("erp", FieldGroup::Contact), Some(95));
    assert_eq!(reg.priority("finance", FieldGroup::Identity), Some(100));
}

#[test]
fn priorities_are_configuration() {
    let db = Database::in_memory().unwrap();
    db.write(|tx| tx.set_source_priority("dms", FieldGroup::Contact, 200))
        .unwrap();
    let u = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
    let d = upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2023-01-01"));
    assert_eq!((d.id, d.outcome), (u.id, Outcome::Updated));
    assert_eq!(city(&db, u.id).as_deref(), Some("杭州"));
    let err = db
        .write(|tx| tx.set_source_priority("nope", FieldGroup::Contact, 1))
        .unwrap_err();
    assert_eq!(err.code(), "validation.unknown_source");
}

#[test]
fn values_without_lineage_count_as_their_record_source() {
    let db = Database::in_memory().unwrap();
    // Written directly (no lineage), from the finance system.
    let id = db
        .write(|tx| {
            tx.insert_customer(&Customer {
                source: Some(SourceRef::new("finance", "F-0")),
                ..wang()
            })
        })
        .unwrap();
    let u = upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2024-01-01"));
    assert_eq!((u.id, u.conflicts), (id, 1));
    assert_eq!(city(&db, id).as_deref(), Some("上海"));
    let w = upsert(&db, &with_city("苏州"), &from("app", "A-1", "2024-01-01"));
    assert_eq!((w.outcome, w.conflicts), (Outcome::Updated, 0));
}

fn owner_of(db: &Database, v: VehicleId) -> Option<CustomerId> {
    db.begin_read()
        .unwrap()
        .ownership(v)
        .unwrap()
        .current()
        .map(|o| o.customer)
}

#[test]
fn vehicles_merge_by_vin_with_dates_plates_and_owners() {
    let db = Database::in_memory().unwrap();
    let a = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01")).id;
    let b = upsert(
        &db,
        &Customer::person("李华"),
        &from("dms", "D-2", "2024-01-01"),
    )
    .id;
    let car = vin(7);
    let dms = Vehicle {
        plate: Some("沪A12345".into()),
        purchase_date: Some(d("2024-01-10")),
        invoice_date: Some(d("2024-01-12")),
        ..Vehicle::new(car.as_str(), "VW", "Passat")
    };
    let v = db
        .write(|tx| tx.upsert_vehicle(&dms, a, &from("dms", "DV-1", "2024-01-15")))
        .unwrap();
    assert_eq!(v.outcome, Outcome::Created);
    assert_eq!(owner_of(&db, v.id), Some(a));
    let r = db.begin_read().unwrap();
    assert_eq!(r.ownership(v.id).unwrap().0[0].from, d("2024-01-10"));
    drop(r);

    // The invoice system corrects the invoice date and the model (it ranks above the DMS
    // for both); an invoice date before the stored purchase date would be inconsistent.
    let inv = Vehicle {
        model: "Passat B8".into(),
        invoice_date: Some(d("2024-01-11")),
        ..Vehicle::new(car.as_str(), "VW", "Passat B8")
    };
    let u = db
        .write(|tx| tx.upsert_vehicle(&inv, a, &from("invoice", "I-1", "2024-01-20")))
        .unwrap();
    // The DMS model and invoice date it replaces stay as conflicts (lower_priority).
    assert_eq!((u.id, u.outcome, u.conflicts), (v.id, Outcome::Updated, 2));
    let bad = Vehicle {
        invoice_date: Some(d("2024-01-05")),
        ..Vehicle::new(car.as_str(), "VW", "Passat B8")
    };
    let u2 = db
        .write(|tx| tx.upsert_vehicle(&bad, a, &from("invoice", "I-2", "2024-01-21")))
        .unwrap();
    assert_eq!((u2.outcome, u2.conflicts), (Outcome::Unchanged, 1));
    let r = db.begin_read().unwrap();
    let stored = r.vehicle(v.id).unwrap();
    assert_eq!(stored.model, "Passat B8");
    assert_eq!(stored.invoice_date, Some(d("2024-01-11")));
    let c = r.conflicts(true).unwrap();
    let displaced: Vec<(Field, ConflictReason)> =
        c[..2].iter().map(|c| (c.field, c.reason)).collect();
    assert_eq!(
        displaced,
        [
            (Field::Model, ConflictReason::LowerPriority),
            (Field::InvoiceDate, ConflictReason::LowerPriority)
        ]
    );
    assert_eq!(
        (c[2].field, c[2].reason),
        (Field::InvoiceDate, ConflictReason::Inconsistent)
    );
    assert_eq!(c[2].vehicle(), Some(v.id));
    assert_eq!(
        r.conflicts_of(a).unwrap().len(),
        3,
        "a customer's vehicles' conflicts too"
    );
    let lin = r.lineage_of_vehicle(v.id).unwrap();
    let model = lin.iter().find(|l| l.field == Field::Model).unwrap();
    assert_eq!(model.source.system, "invoice");
    drop(r);

    // Sold to B: a later record with B as owner transfers it; an older one is a conflict.
    let t = db
        .write(|tx| {
            tx.upsert_vehicle(
                &Vehicle::new(car.as_str(), "VW", "Passat B8"),
                b,
                &from("dms", "DV-2", "2025-03-01"),
            )
        })
        .unwrap();
    assert_eq!(t.outcome, Outcome::Updated);
    assert_eq!(owner_of(&db, v.id), Some(b));
    let stale = db
        .write(|tx| {
            tx.upsert_vehicle(
                &Vehicle::new(car.as_str(), "VW", "Passat B8"),
                a,
                &from("dms", "DV-1", "2024-01-15"),
            )
        })
        .unwrap();
    assert_eq!(stale.conflicts, 1);
    assert_eq!(owner_of(&db, v.id), Some(b));
    let r = db.begin_read().unwrap();
    let owner_conflict = r
        .conflicts(true)
        .unwrap()
        .into_iter()
        .find(|c| c.field == Field::Owner)
        .unwrap();
    assert_eq!(owner_conflict.offered, FieldValue::Customer(a));
    drop(r);

    // A plate another vehicle holds: stored without it, raised as a conflict.
    let other = Vehicle {
        plate: Some("沪A12345".into()),
        ..Vehicle::new(vin(8).as_str(), "VW", "Golf")
    };
    let o = db
        .write(|tx| tx.upsert_vehicle(&other, a, &from("dms", "DV-3", "2024-02-01")))
        .unwrap();
    assert_eq!((o.outcome, o.conflicts), (Outcome::Created, 1));
    let r = db.begin_read().unwrap();
    assert_eq!(r.vehicle(o.id).unwrap().plate, None);
    let pc = r.conflicts_of(a).unwrap();
    assert!(pc
        .iter()
        .any(|c| c.field == Field::Plate && c.reason == ConflictReason::KeyTaken));
}

#[test]
fn refused_vehicle_rows_leave_the_batch_usable_and_default_usage_is_no_offer() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let a = tx
        .upsert_customer(&wang(), None, &from("dms", "D-1", "2024-01-01"))
        .unwrap()
        .id;
    let fleet = Vehicle {
        usage: Usage::Fleet,
        ..Vehicle::new(vin(3).as_str(), "VW", "Passat")
    };
    let v = tx
        .upsert_vehicle(&fleet, a, &from("finance", "FV-1", "2024-01-02"))
        .unwrap();
    // Unknown owner, bad VIN, unknown source: refused before writing anything.
    let f = from("dms", "DV-1", "2024-01-03");
    let plain = Vehicle::new(vin(3).as_str(), "VW", "Passat");
    let e1 = tx.upsert_vehicle(&plain, CustomerId(999), &f).unwrap_err();
    assert_eq!(e1.code(), "not_found");
    let e2 = tx
        .upsert_vehicle(&Vehicle::new("LSVAU218XN2183295", "VW", "Passat"), a, &f)
        .unwrap_err();
    assert_eq!(e2.code(), "validation.vin_check_digit");
    let e3 = tx
        .upsert_vehicle(&plain, a, &from("erp", "E-1", "2024-01-03"))
        .unwrap_err();
    assert_eq!(e3.code(), "validation.unknown_source");
    // A DMS record that does not state the usage (default private) is no offer.
    let u = tx.upsert_vehicle(&plain, a, &f).unwrap();
    assert_eq!(
        (u.id, u.outcome, u.conflicts),
        (v.id, Outcome::Unchanged, 0)
    );
    tx.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.vehicle(v.id).unwrap().usage, Usage::Fleet);
    assert_eq!(r.vehicle_count().unwrap(), 1);
}

#[test]
fn a_key_held_by_another_customer_is_a_conflict_not_an_error() {
    let db = Database::in_memory().unwrap();
    let n = nid("11010519491231002");
    let holder = Customer {
        party: Party::Person(Person {
            name: "张伟".into(),
            national_id: Some(n.clone()),
            ..Person::default()
        }),
        phones: vec!["13600136000".into()],
        ..wang()
    };
    let h = upsert(&db, &holder, &from("finance", "F-1", "2024-01-01"));
    let u = upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    // The DMS record D-1 now claims the ID the finance customer holds.
    let claim = Customer {
        party: Party::Person(Person {
            name: "王小明".into(),
            national_id: Some(n.clone()),
            ..Person::default()
        }),
        ..wang()
    };
    let c = upsert(&db, &claim, &from("dms", "D-1", "2024-02-01"));
    assert_eq!((c.id, c.conflicts), (u.id, 1));
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_by_national_id(&n).unwrap(), Some(h.id));
    assert_eq!(
        r.conflicts(true).unwrap()[0].reason,
        ConflictReason::KeyTaken
    );
    let id = r.conflicts(true).unwrap()[0].id;
    drop(r);
    let err = db
        .write(|tx| tx.resolve_conflict(id, Resolution::Accept, "ops", at("2024-03-01")))
        .unwrap_err();
    assert_eq!(err.code(), "duplicate_key");
    assert_eq!(db.begin_read().unwrap().conflicts(true).unwrap().len(), 1);
}

#[test]
fn everything_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    let id = {
        let db = Database::open(&path).unwrap();
        db.write(|tx| tx.register_source(&SourceSystem::new("erp", 5)))
            .unwrap();
        let u = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01"));
        upsert(&db, &with_city("杭州"), &from("erp", "E-1", "2024-05-01"));
        u.id
    };
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(
        r.sources().unwrap().priority("erp", FieldGroup::Contact),
        Some(5)
    );
    assert_eq!(r.lineage_of_customer(id).unwrap().len(), 4);
    assert_eq!(r.conflicts(true).unwrap().len(), 1);
    drop(r);
    let again = upsert(&db, &with_city("杭州"), &from("erp", "E-1", "2024-05-01"));
    assert_eq!((again.id, again.conflicts), (id, 0));
}

// ---------------------------------------------------------------------------------------------
// Model check

const FIELDS: [Field; 4] = [
    Field::Province,
    Field::City,
    Field::Address,
    Field::Occupation,
];
const VALUES: [&str; 3] = ["甲地", "乙地", "丙地"];

#[derive(Clone, Debug)]
struct Step {
    source: usize,
    day: i32,
    values: [Option<usize>; 4],
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..4usize,
        0..30i32,
        proptest::array::uniform4(proptest::option::of(0..3usize)),
    )
        .prop_map(|(source, day, values)| Step {
            source,
            day,
            values,
        })
}

/// The model of one field: (value, priority, day received) of the surviving offer, after
/// value `x` is offered with priority `p` on `day`.
fn survive(
    held: Option<(usize, u16, i32)>,
    x: usize,
    p: u16,
    day: i32,
) -> Option<(usize, u16, i32)> {
    match held {
        None => Some((x, p, day)),
        // Equal value: the lineage moves to a higher-ranked source only.
        Some((y, q, _)) if y == x && p > q => Some((x, p, day)),
        Some((y, _, _)) if y == x => held,
        Some((_, q, _)) if p > q => Some((x, p, day)),
        Some((_, q, then)) if p == q && day > then => Some((x, p, day)),
        _ => held,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random upserts of one customer from sources of random priority: every field holds
    /// what the simple model says, and its lineage priority is at least that of every offer
    /// of the field seen so far.
    #[test]
    fn lower_priority_never_overwrites(
        priorities in proptest::array::uniform4(0..4u16),
        steps in proptest::collection::vec(step(), 1..25),
    ) {
        let db = Database::in_memory().unwrap();
        db.write(|tx| {
            for (i, p) in priorities.iter().enumerate() {
                tx.register_source(&SourceSystem::new(format!("s{i}"), *p))?;
            }
            Ok(())
        }).unwrap();
        let key = nid("11010519491231002");
        let start = d("2024-01-01");
        // field -> (value, priority, day)
        let mut model: [Option<(usize, u16, i32)>; 4] = [None; 4];
        let mut max_offer: [Option<u16>; 4] = [None; 4];
        let mut id = None;
        for (n, s) in steps.iter().enumerate() {
            let v = |i: usize| s.values[i].map(|x| VALUES[x].to_string());
            let c = Customer {
                party: Party::Person(Person {
                    name: "王小明".into(),
                    national_id: Some(key.clone()),
                    occupation: v(3),
                    ..Person::default()
                }),
                phones: vec![],
                province: v(0),
                city: v(1),
                address: v(2),
                source: None,
            };
            let f = Received {
                source: SourceRef::new(format!("s{}", s.source), format!("r{n}")),
                dealer: None,
                at: start.add_days(s.day).at(8, 0, 0),
            };
            let u = db.write(|tx| tx.upsert_customer(&c, None, &f)).unwrap();
            prop_assert!(id.is_none_or(|i| i == u.id));
            id = Some(u.id);
            let p = priorities[s.source];
            for i in 0..4 {
                let Some(x) = s.values[i] else { continue };
                max_offer[i] = max_offer[i].max(Some(p));
                model[i] = survive(model[i], x, p, s.day);
            }
        }
        let id = id.unwrap();
        let r = db.begin_read().unwrap();
        let stored = r.customer(id).unwrap();
        let Party::Person(person) = &stored.party else { unreachable!() };
        let got = [&stored.province, &stored.city, &stored.address, &person.occupation];
        let lineage = r.lineage_of_customer(id).unwrap();
        for i in 0..4 {
            prop_assert_eq!(got[i].as_deref(), model[i].map(|m| VALUES[m.0]), "field {}", FIELDS[i]);
            if let Some(max) = max_offer[i] {
                let l = lineage.iter().find(|l| l.field == FIELDS[i]).unwrap();
                prop_assert!(l.priority >= max, "{} kept priority {} < offered {}", FIELDS[i], l.priority, max);
                prop_assert_eq!(Some(l.value.as_str()), got[i].as_deref());
            }
        }
    }
}

#[test]
fn a_source_record_of_a_merged_customer_finds_the_survivor() {
    let db = Database::in_memory().unwrap();
    let a = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01")).id;
    let b = upsert(
        &db,
        &Customer::person("王晓明").with_phone("13900139000"),
        &from("dms", "D-1", "2024-01-01"),
    )
    .id;
    assert_ne!(a, b);
    db.write(|tx| tx.merge_customers(a, b, at("2024-02-01"), "ops"))
        .unwrap();
    // The DMS re-sends its record: it updates the survivor, no new customer.
    let again = upsert(
        &db,
        &Customer {
            address: Some("人民路1号".into()),
            ..Customer::person("王晓明").with_phone("13900139000")
        },
        &from("dms", "D-1", "2024-03-01"),
    );
    assert_eq!(again.id, a);
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 1);
    assert_eq!(r.customer(a).unwrap().address.as_deref(), Some("人民路1号"));
}

#[test]
fn a_merge_hands_conflicts_and_lineage_to_the_survivor() {
    let db = Database::in_memory().unwrap();
    let a = upsert(&db, &wang(), &from("finance", "F-1", "2024-01-01")).id;
    let b = upsert(
        &db,
        &Customer {
            address: Some("人民路1号".into()),
            ..Customer::person("王晓明").with_phone("13900139000")
        },
        &from("finance", "F-2", "2024-01-01"),
    )
    .id;
    // The DMS offers b another address: a lower-priority conflict about b.
    let offer = upsert(
        &db,
        &Customer {
            address: Some("南京路2号".into()),
            ..Customer::person("王晓明").with_phone("13900139000")
        },
        &from("dms", "D-9", "2024-01-05"),
    );
    assert_eq!((offer.id, offer.conflicts), (b, 1));
    db.write(|tx| tx.merge_customers(a, b, at("2024-02-01"), "ops"))
        .unwrap();

    let r = db.begin_read().unwrap();
    // The survivor took b's address, with b's lineage, and b's conflict.
    assert_eq!(r.customer(a).unwrap().address.as_deref(), Some("人民路1号"));
    let l = lineage(&db, a, Field::Address);
    assert_eq!(l.source, SourceRef::new("finance", "F-2"));
    let conflicts = r.conflicts_of(a).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].customer(), Some(a));
    drop(r);
    // ... and the operator can still accept it.
    let id = conflicts[0].id;
    db.write(|tx| tx.resolve_conflict(id, Resolution::Accept, "ops", at("2024-02-02")))
        .unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer(a).unwrap().address.as_deref(), Some("南京路2号"));
    assert!(r.conflicts(true).unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The same for a vehicle's trim, insurance expiry and inspection due date.
    #[test]
    fn lower_priority_never_overwrites_vehicle_fields(
        priorities in proptest::array::uniform4(0..4u16),
        steps in proptest::collection::vec(step(), 1..20),
    ) {
        let db = Database::in_memory().unwrap();
        let owner = db.write(|tx| {
            for (i, p) in priorities.iter().enumerate() {
                tx.register_source(&SourceSystem::new(format!("s{i}"), *p))?;
            }
            tx.insert_customer(&wang())
        }).unwrap();
        let start = d("2024-01-01");
        let dates = [d("2025-01-01"), d("2025-06-01"), d("2026-01-01")];
        let fields = [Field::Trim, Field::InsuranceExpiry, Field::InspectionDue];
        let mut model: [Option<(usize, u16, i32)>; 3] = [None; 3];
        let mut id = None;
        for (n, s) in steps.iter().enumerate() {
            let v = Vehicle {
                trim: s.values[0].map(|x| VALUES[x].to_string()),
                insurance_expiry: s.values[1].map(|x| dates[x]),
                inspection_due: s.values[2].map(|x| dates[x]),
                ..Vehicle::new(vin(42).as_str(), "VW", "Passat")
            };
            let f = Received {
                source: SourceRef::new(format!("s{}", s.source), format!("r{n}")),
                dealer: None,
                at: start.add_days(s.day).at(8, 0, 0),
            };
            let u = db.write(|tx| tx.upsert_vehicle(&v, owner, &f)).unwrap();
            prop_assert!(id.is_none_or(|i| i == u.id));
            id = Some(u.id);
            let p = priorities[s.source];
            for (slot, offer) in model.iter_mut().zip(s.values) {
                if let Some(x) = offer {
                    *slot = survive(*slot, x, p, s.day);
                }
            }
        }
        let id = id.unwrap();
        let r = db.begin_read().unwrap();
        let stored = r.vehicle(id).unwrap();
        prop_assert_eq!(stored.trim.as_deref(), model[0].map(|m| VALUES[m.0]));
        prop_assert_eq!(stored.insurance_expiry, model[1].map(|m| dates[m.0]));
        prop_assert_eq!(stored.inspection_due, model[2].map(|m| dates[m.0]));
        let lineage = r.lineage_of_vehicle(id).unwrap();
        for i in 0..3 {
            if let Some((_, q, _)) = model[i] {
                let l = lineage.iter().find(|l| l.field == fields[i]).unwrap();
                prop_assert_eq!(l.priority, q);
            }
        }
    }
}

#[test]
fn confirming_a_value_without_lineage_never_lowers_its_standing() {
    let db = Database::in_memory().unwrap();
    let id = db
        .write(|tx| {
            tx.insert_customer(&Customer {
                source: Some(SourceRef::new("finance", "F-0")),
                ..wang()
            })
        })
        .unwrap();
    // The DMS confirms the city: no lineage is recorded for it (finance still stands).
    upsert(&db, &wang(), &from("dms", "D-1", "2024-01-01"));
    assert!(db
        .begin_read()
        .unwrap()
        .lineage_of_customer(id)
        .unwrap()
        .iter()
        .all(|l| l.field != Field::City));
    // So the web (above the DMS, below finance) cannot change it.
    let w = upsert(&db, &with_city("杭州"), &from("web", "W-1", "2024-02-01"));
    assert_eq!((w.id, w.conflicts), (id, 1));
    assert_eq!(city(&db, id).as_deref(), Some("上海"));
}

/// Whether `needle` occurs anywhere in the bytes of the file at `path`.
fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_deleted_customer_leaves_no_personal_data_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    let id_number = nid("31010419800101123");
    let db = Database::open(&path).unwrap();
    let first = Customer {
        party: Party::Person(Person {
            national_id: Some(id_number.clone()),
            name: "王小明".into(),
            ..Person::default()
        }),
        address: Some("上海市徐汇区漕溪北路1号".into()),
        ..wang()
    };
    let u = upsert(&db, &first, &from("finance", "F-1", "2024-01-01"));
    // A lower-priority offer: a conflict that carries both values.
    upsert(&db, &with_city("杭州"), &from("dms", "D-1", "2024-05-01"));
    // A duplicate merged into him: its merge record keeps its whole record.
    let dup = db
        .write(|tx| {
            tx.insert_customer(&Customer {
                phones: vec!["13900139000".into()],
                ..Customer::person("王小明")
            })
        })
        .unwrap();
    db.write(|tx| tx.merge_customers(u.id, dup, at("2024-06-01"), "ops"))
        .unwrap();
    db.write(|tx| {
        tx.record_consent(
            u.id,
            &ConsentEvent {
                channel: ConsentChannel::Sms,
                granted: true,
                at: at("2024-06-02"),
                source: "app".into(),
            },
        )
    })
    .unwrap();
    {
        let r = db.begin_read().unwrap();
        assert!(!r.lineage_of_customer(u.id).unwrap().is_empty());
        assert!(!r.conflicts_of(u.id).unwrap().is_empty());
        assert_eq!(r.merges_of(u.id).unwrap().len(), 1);
    }

    db.write(|tx| tx.delete_customer(u.id)).unwrap();
    let r = db.begin_read().unwrap();
    assert!(r.lineage_of_customer(u.id).unwrap().is_empty());
    assert!(r.lineage_of_customer(dup).unwrap().is_empty());
    assert!(r.conflicts_of(u.id).unwrap().is_empty());
    assert!(r.conflicts(false).unwrap().is_empty());
    assert!(r.merges_of(u.id).unwrap().is_empty());
    assert!(r.consents(u.id).unwrap().0.is_empty());
    assert!(matches!(
        r.resolve_customer(dup),
        Err(Error::NotFound { .. })
    ));
    assert!(r
        .find_customers(&CustomerKey::NationalId(id_number.clone()))
        .unwrap()
        .is_empty());
    drop(r);
    let mut db = db;
    db.compact().unwrap();
    drop(db);
    // Nor in the file's bytes once compacted: freed pages do not keep the plain text.
    for text in [id_number.as_str(), "13800138000", "13900139000", "漕溪北路"] {
        assert!(!file_contains(&path, text), "{text} is still in the file");
    }
}
