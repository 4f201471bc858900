//! Refusals (`invalid_operation.<refusal>`) of real calls whose codes no other test file asserts:
//! each refused call names its precise [`Refusal`], ends its message with the refusal's hint,
//! and writes nothing. (Merges: merge.rs; complaints: complaints.rs; loyalty: loyalty.rs and
//! ledger_model.rs; segments: saved_segments.rs; conflicts: survivorship.rs; read-only opens:
//! compat.rs; vehicles and relations also in model.rs.) `transaction_poisoned` needs a storage
//! failure in the middle of a write, which no public call can cause on purpose: its code and
//! hint are checked with every other refusal's in the unit tests of `error.rs`.

use autocrm::integration::{Field, Received, Resolution};
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{complaint, d, lead, survey};

fn at(day: &str) -> DateTime {
    d(day).at(9, 0, 0)
}

fn from(system: &str, record: &str, day: &str) -> Received {
    Received {
        source: SourceRef::new(system, record),
        dealer: None,
        at: at(day),
    }
}

/// Asserts that `err` is the refusal `want`, with its code and hint.
#[track_caller]
fn assert_refused(err: Error, want: Refusal) {
    assert_eq!(err.refusal(), Some(want), "{err}");
    assert_eq!(err.code(), format!("invalid_operation.{}", want.code()));
    assert!(err.to_string().ends_with(want.hint()), "{err}");
}

fn vehicle(vin: &str) -> Vehicle {
    Vehicle {
        vin: vin.into(),
        plate: None,
        brand: "Volkswagen".into(),
        model: "Passat".into(),
        trim: None,
        purchase_date: None,
        invoice_date: None,
        registration_date: None,
        first_service_date: None,
        warranty_end: None,
        insurance_expiry: None,
        inspection_due: None,
        usage: Usage::Private,
        selling_dealer: None,
        source: None,
    }
}

/// A valid China VIN with serial `n`.
fn vin(n: u32) -> String {
    let v = format!("LSVAU218X{}{:06}", "N2", n % 1_000_000);
    let c = validate::vin_check_digit(&v).unwrap();
    format!("{}{c}{}", &v[..8], &v[9..])
}

#[test]
fn a_customer_is_not_related_to_itself() {
    let db = Database::in_memory().unwrap();
    let a = db
        .write(|tx| tx.insert_customer(&Customer::person("王小明")))
        .unwrap();
    let err = db
        .write(|tx| tx.relate(a, RelationKind::Relative, a))
        .unwrap_err();
    assert_refused(err, Refusal::RelationToItself);
}

#[test]
fn a_vehicle_is_not_transferred_to_its_owner() {
    let db = Database::in_memory().unwrap();
    let (a, v) = db
        .write(|tx| {
            let a = tx.insert_customer(&Customer::person("王小明"))?;
            let v = tx.insert_vehicle(&vehicle(&vin(1)), Some((a, d("2024-01-01"))))?;
            Ok((a, v))
        })
        .unwrap();
    let err = db
        .write(|tx| tx.transfer_vehicle(v, a, d("2024-06-01")))
        .unwrap_err();
    assert_refused(err, Refusal::AlreadyOwner);
}

#[test]
fn leads_complaints_and_surveys_stay_with_their_customer() {
    let db = Database::in_memory().unwrap();
    let (a, b) = db
        .write(|tx| {
            Ok((
                tx.insert_customer(&Customer::person("王小明"))?,
                tx.insert_customer(&Customer::person("李华"))?,
            ))
        })
        .unwrap();
    let (l, c, s) = db
        .write(|tx| {
            Ok((
                tx.insert_lead(&lead(a))?,
                tx.insert_complaint(&complaint(a))?,
                tx.insert_survey(&survey(a))?,
            ))
        })
        .unwrap();
    let err = db.write(|tx| tx.update_lead(l, &lead(b))).unwrap_err();
    assert_refused(err, Refusal::CustomerChanged);
    let err = db
        .write(|tx| tx.update_complaint(c, &complaint(b)))
        .unwrap_err();
    assert_refused(err, Refusal::CustomerChanged);
    let err = db.write(|tx| tx.update_survey(s, &survey(b))).unwrap_err();
    assert_refused(err, Refusal::CustomerChanged);
    let r = db.begin_read().unwrap();
    assert_eq!(r.lead(l).unwrap().customer, a);
    assert_eq!(r.complaint(c).unwrap().customer, a);
    assert_eq!(r.survey(s).unwrap().customer, a);
}

#[test]
fn a_closed_complaint_has_no_next_step() {
    let db = Database::in_memory().unwrap();
    let a = db
        .write(|tx| tx.insert_customer(&Customer::person("王小明")))
        .unwrap();
    let id = db
        .write(|tx| {
            tx.insert_complaint(&Complaint {
                category: "parts".into(),
                received: at("2024-04-01"),
                ..complaint(a)
            })
        })
        .unwrap();
    for day in ["2024-04-02", "2024-04-03", "2024-04-04", "2024-04-05"] {
        db.write(|tx| tx.advance_complaint_to_next(id, at(day)))
            .unwrap();
    }
    let err = db
        .write(|tx| tx.advance_complaint_to_next(id, at("2024-04-06")))
        .unwrap_err();
    assert_refused(err, Refusal::ComplaintClosed);
}

#[test]
fn a_source_record_keeps_its_party_kind() {
    let db = Database::in_memory().unwrap();
    db.write(|tx| {
        tx.upsert_customer(
            &Customer::person("王小明"),
            None,
            &from("dms", "D-1", "2024-01-01"),
        )
    })
    .unwrap();
    let err = db
        .write(|tx| {
            tx.upsert_customer(
                &Customer::organisation("上海安吉物流"),
                None,
                &from("dms", "D-1", "2024-02-01"),
            )
        })
        .unwrap_err();
    assert_refused(err, Refusal::SourceChangedKind);
}

#[test]
fn a_conflict_about_a_person_field_does_not_apply_to_an_organisation() {
    let db = Database::in_memory().unwrap();
    let person = |occupation: &str, employer: &str| Customer {
        party: Party::Person(Person {
            occupation: Some(occupation.into()),
            employer: Some(employer.into()),
            name: "王小明".into(),
            ..Person::default()
        }),
        phones: vec!["13800138000".into()],
        ..Customer::person("王小明")
    };
    let u = db
        .write(|tx| {
            tx.upsert_customer(
                &person("教师", "上海中学"),
                None,
                &from("finance", "F-1", "2024-01-01"),
            )
        })
        .unwrap();
    db.write(|tx| {
        tx.upsert_customer(
            &person("工程师", "上汽"),
            None,
            &from("dms", "D-1", "2024-02-01"),
        )
    })
    .unwrap();
    let open = db.begin_read().unwrap().conflicts(true).unwrap();
    let c = open
        .iter()
        .find(|c| matches!(c.field, Field::Occupation | Field::Employer))
        .unwrap_or_else(|| panic!("no conflict on a person field: {open:?}"));
    // The customer turns out to be an organisation: the offered occupation has no place.
    db.write(|tx| tx.update_customer(u.id, &Customer::organisation("王氏贸易")))
        .unwrap();
    let err = db
        .write(|tx| tx.resolve_conflict(c.id, Resolution::Accept, "ops.li", at("2024-03-01")))
        .unwrap_err();
    assert_refused(err, Refusal::ConflictNoLongerApplies);
    // Rejecting it still works.
    db.write(|tx| tx.resolve_conflict(c.id, Resolution::Reject, "ops.li", at("2024-03-01")))
        .unwrap();
}

#[test]
fn compaction_needs_the_only_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(dir.path().join("crm.redb")).unwrap();
    let other = db.clone();
    assert_refused(db.compact().unwrap_err(), Refusal::DatabaseShared);
    let r = other.begin_read().unwrap();
    drop(other);
    assert_refused(db.compact().unwrap_err(), Refusal::DatabaseShared);
    drop(r);
    db.compact().unwrap();
}
