//! The complaint workflow through the public API: every legal step, the illegal ones, time
//! never going backwards, the 24-hour first-response SLA at its exact boundary, and the
//! escalation rule (more than 3 in a rolling 30-day month, more than 5 in a rolling 91-day
//! quarter) at its count and day boundaries.

use autocrm::complaint::escalations;
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer, t};

fn complaint(c: CustomerId, category: &str, received: DateTime) -> Complaint {
    Complaint {
        customer: c,
        vehicle: None,
        dealer: None,
        category: category.into(),
        received,
        status: ComplaintStatus::Received,
        first_response: None,
        resolved: None,
        analysed: None,
        called_back: None,
        closed: None,
        note: None,
        source: None,
    }
}

struct Fixture {
    db: Database,
    wang: CustomerId,
    li: CustomerId,
    d1: DealerId,
}

fn fixture() -> Fixture {
    let db = Database::in_memory().unwrap();
    let (wang, li, d1) = db
        .write(|tx| {
            let d1 = tx.insert_dealer(&dealer("SH001"))?;
            let wang = tx.insert_customer(&Customer::person("王小明"))?;
            let li = tx.insert_customer(&Customer::person("李华"))?;
            Ok((wang, li, d1))
        })
        .unwrap();
    Fixture { db, wang, li, d1 }
}

fn insert(f: &Fixture, c: &Complaint) -> ComplaintId {
    f.db.write(|tx| tx.insert_complaint(c)).unwrap()
}

fn advance(f: &Fixture, id: ComplaintId, to: ComplaintStatus, at: &str) -> Result<Complaint> {
    f.db.write(|tx| tx.advance_complaint(id, to, t(at)))
}

fn stored(f: &Fixture, id: ComplaintId) -> Complaint {
    f.db.begin_read().unwrap().complaint(id).unwrap()
}

#[test]
fn a_complaint_walks_the_whole_workflow() {
    let f = fixture();
    let id = insert(
        &f,
        &complaint(f.wang, "repair quality", t("2024-03-01T09:00")),
    );
    let c = advance(&f, id, ComplaintStatus::Analysed, "2024-03-01T15:00").unwrap();
    assert_eq!(c.status, ComplaintStatus::Analysed);
    assert_eq!(c.first_response, None, "analysis alone is no response");
    let c =
        f.db.write(|tx| tx.respond_to_complaint(id, t("2024-03-01T16:00")))
            .unwrap();
    assert_eq!(c.first_response, Some(t("2024-03-01T16:00")));
    let c = advance(&f, id, ComplaintStatus::Resolved, "2024-03-04T11:00").unwrap();
    assert_eq!(c.resolved, Some(t("2024-03-04T11:00")));
    assert_eq!(
        c.first_response,
        Some(t("2024-03-01T16:00")),
        "an earlier response is kept"
    );
    advance(&f, id, ComplaintStatus::CalledBack, "2024-03-05T10:00").unwrap();
    // The same instant as the previous step is not going backwards.
    let c = advance(&f, id, ComplaintStatus::Closed, "2024-03-05T10:00").unwrap();
    assert_eq!(c.status, ComplaintStatus::Closed);
    assert_eq!(stored(&f, id), c);
    assert_eq!(ComplaintStatus::Closed.next(), None);
    assert_eq!(
        ComplaintStatus::from_name("called_back"),
        Some(ComplaintStatus::CalledBack)
    );
}

#[test]
fn resolving_without_a_response_counts_as_the_first_response() {
    let f = fixture();
    let id = insert(&f, &complaint(f.wang, "parts", t("2024-03-01T09:00")));
    advance(&f, id, ComplaintStatus::Analysed, "2024-03-01T10:00").unwrap();
    let c = advance(&f, id, ComplaintStatus::Resolved, "2024-03-02T10:00").unwrap();
    assert_eq!(c.first_response, Some(t("2024-03-02T10:00")));
    assert_eq!(c.first_response_within_sla(), Some(false));
    // It has its first response now: recording another is refused.
    let err =
        f.db.write(|tx| tx.respond_to_complaint(id, t("2024-03-02T11:00")))
            .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_already_responded");
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    let f = fixture();
    let id = insert(&f, &complaint(f.wang, "parts", t("2024-03-01T09:00")));
    let before = stored(&f, id);
    use ComplaintStatus::*;
    // Skipping ahead, standing still and going back from `received`.
    for to in [Received, Resolved, CalledBack, Closed] {
        let err = advance(&f, id, to, "2024-03-02T09:00").unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_operation.complaint_step_out_of_order",
            "received → {to:?}"
        );
        assert!(err.to_string().contains("received"), "{err}");
    }
    assert_eq!(stored(&f, id), before);
    advance(&f, id, Analysed, "2024-03-01T10:00").unwrap();
    for to in [Received, Analysed, CalledBack, Closed] {
        let err = advance(&f, id, to, "2024-03-02T09:00").unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_operation.complaint_step_out_of_order",
            "analysed → {to:?}"
        );
    }
    advance(&f, id, Resolved, "2024-03-02T10:00").unwrap();
    for to in [Received, Analysed, Resolved, Closed] {
        let err = advance(&f, id, to, "2024-03-03T09:00").unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_operation.complaint_step_out_of_order",
            "resolved → {to:?}"
        );
    }
    advance(&f, id, CalledBack, "2024-03-03T10:00").unwrap();
    advance(&f, id, Closed, "2024-03-03T11:00").unwrap();
    for to in ComplaintStatus::ALL {
        let err = advance(&f, id, to, "2024-03-04T09:00").unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_operation.complaint_closed",
            "closed → {to:?}"
        );
    }
    assert_eq!(stored(&f, id).status, Closed);
    // An unknown complaint is not found, not an invalid operation.
    let err = advance(&f, ComplaintId(999), Analysed, "2024-03-04T09:00").unwrap_err();
    assert_eq!(err.code(), "not_found");
}

#[test]
fn time_never_goes_backwards() {
    let f = fixture();
    let id = insert(&f, &complaint(f.wang, "parts", t("2024-03-01T09:00")));
    use ComplaintStatus::*;
    // Before receipt: refused (at receipt is fine).
    let err = advance(&f, id, Analysed, "2024-03-01T08:59:59").unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_time_backwards");
    let err =
        f.db.write(|tx| tx.respond_to_complaint(id, t("2024-03-01T08:59:59")))
            .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_time_backwards");
    advance(&f, id, Analysed, "2024-03-01T09:00").unwrap();
    f.db.write(|tx| tx.respond_to_complaint(id, t("2024-03-01T12:00")))
        .unwrap();
    // Resolution before the recorded first response: refused.
    let err = advance(&f, id, Resolved, "2024-03-01T11:59:59").unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_time_backwards");
    advance(&f, id, Resolved, "2024-03-03T12:00").unwrap();
    // Callback and closing before the resolution: refused.
    let err = advance(&f, id, CalledBack, "2024-03-03T11:59:59").unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_time_backwards");
    advance(&f, id, CalledBack, "2024-03-03T12:00").unwrap();
    let err = advance(&f, id, Closed, "2024-03-02T12:00").unwrap_err();
    assert_eq!(err.code(), "invalid_operation.complaint_time_backwards");
    assert_eq!(stored(&f, id).status, CalledBack);
}

#[test]
fn the_first_response_sla_is_24_hours_inclusive() {
    let received = t("2024-03-01T09:30");
    let mut c = complaint(CustomerId(1), "parts", received);
    assert_eq!(c.response_due(), t("2024-03-02T09:30"));
    assert_eq!(c.first_response_within_sla(), None);
    // No response: not overdue at exactly 24 h, overdue one second later.
    assert!(!c.response_overdue(t("2024-03-02T09:30")));
    assert!(c.response_overdue(t("2024-03-02T09:30:01")));
    assert!(!c.response_overdue(t("2024-03-01T10:00")));
    // A response at exactly 24 h is within the SLA; one second later is not.
    c.first_response = Some(t("2024-03-02T09:30"));
    assert_eq!(c.first_response_within_sla(), Some(true));
    assert!(!c.response_overdue(t("2024-03-05T00:00")));
    c.first_response = Some(t("2024-03-02T09:30:01"));
    assert_eq!(c.first_response_within_sla(), Some(false));
    assert!(!c.response_overdue(t("2024-03-02T09:30:01")));
    // Looking back: before its late response came, it was overdue.
    c.first_response = Some(t("2024-03-03T09:00"));
    assert!(c.response_overdue(t("2024-03-02T12:00")));
    assert!(!c.response_overdue(t("2024-03-03T09:00")));
}

/// Inserts complaints by Wang about `category` on each of `days_before` as_of (at noon).
fn complaints_on(f: &Fixture, category: &str, as_of: Date, days_before: &[i32]) {
    f.db.write(|tx| {
        for &n in days_before {
            tx.insert_complaint(&Complaint {
                dealer: Some(f.d1),
                ..complaint(f.wang, category, as_of.add_days(-n).at(12, 0, 0))
            })?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn four_complaints_in_a_rolling_month_escalate_three_do_not() {
    let as_of = d("2024-06-30");
    let p = EscalationParams::default();

    // Three within the month (day 30 before D is outside it): no escalation.
    let f = fixture();
    complaints_on(&f, "repair quality", as_of, &[30, 29, 10, 0]);
    let r = f.db.begin_read().unwrap();
    assert!(r.complaint_escalations(as_of).unwrap().is_empty());

    // Four: the one 29 days before is inside.
    let f = fixture();
    complaints_on(&f, "repair quality", as_of, &[29, 20, 10, 0]);
    let r = f.db.begin_read().unwrap();
    let e = r.complaint_escalations(as_of).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].customer, f.wang);
    assert_eq!(e[0].category, "repair quality");
    assert_eq!(e[0].month.len(), 4);
    assert_eq!(e[0].quarter.len(), 4);
    assert!(e[0].by_month(&p) && !e[0].by_quarter(&p));
    assert_eq!(e[0].dealers, vec![f.d1]);
    assert_eq!(e[0].latest, as_of.at(12, 0, 0));
    // A day later the oldest has left the month.
    assert!(r
        .complaint_escalations(as_of.add_days(1))
        .unwrap()
        .is_empty());
    // A day earlier the newest has not arrived yet.
    assert!(r
        .complaint_escalations(as_of.add_days(-1))
        .unwrap()
        .is_empty());
}

#[test]
fn six_complaints_in_a_rolling_quarter_escalate_five_do_not() {
    let as_of = d("2024-06-30");
    let p = EscalationParams::default();
    // Spread out: never more than 3 in the month window ending at D.
    let f = fixture();
    complaints_on(&f, "noise", as_of, &[91, 80, 70, 60, 50, 40]);
    let r = f.db.begin_read().unwrap();
    assert!(
        r.complaint_escalations(as_of).unwrap().is_empty(),
        "91 days before D is outside the quarter: five"
    );

    let f = fixture();
    complaints_on(&f, "noise", as_of, &[90, 80, 70, 60, 50, 40]);
    let r = f.db.begin_read().unwrap();
    let e = r.complaint_escalations(as_of).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].quarter.len(), 6);
    assert!(e[0].month.is_empty());
    assert!(e[0].by_quarter(&p) && !e[0].by_month(&p));
}

#[test]
fn only_the_same_customer_and_category_count_together() {
    let as_of = d("2024-06-30");
    let f = fixture();
    // Four about "Noise" in different spellings: one category.
    complaints_on(&f, "noise", as_of, &[1, 2]);
    complaints_on(&f, " Noise ", as_of, &[3]);
    complaints_on(&f, "NOISE", as_of, &[4]);
    // Three about another category, three by another customer: neither escalates.
    complaints_on(&f, "parts", as_of, &[1, 2, 3]);
    f.db.write(|tx| {
        for n in [1, 2, 3] {
            tx.insert_complaint(&complaint(f.li, "noise", as_of.add_days(-n).at(9, 0, 0)))?;
        }
        Ok(())
    })
    .unwrap();
    // Later than D: ignored.
    complaints_on(&f, "parts", as_of, &[-1]);
    let r = f.db.begin_read().unwrap();
    let e = r.complaint_escalations(as_of).unwrap();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].customer, f.wang);
    assert_eq!(e[0].category, "noise", "spelling of the latest complaint");
    assert_eq!(e[0].month.len(), 4);

    // The same answer from the facts snapshot, and custom limits.
    let facts = r.facts().unwrap();
    let all: Vec<(ComplaintId, &Complaint)> = facts
        .customers
        .iter()
        .flat_map(|c| c.complaints.iter().map(|(id, c)| (*id, c)))
        .collect();
    assert_eq!(
        escalations(all.iter().copied(), as_of, &EscalationParams::default()),
        e
    );
    let strict = EscalationParams {
        month_limit: 2,
        ..EscalationParams::default()
    };
    assert_eq!(escalations(all.iter().copied(), as_of, &strict).len(), 3);
}
