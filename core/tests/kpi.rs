//! The KPIs of DOMAIN.md §7 on small hand-built databases, with hand-computed expectations:
//! every KPI, its window boundaries (a lead won on the period's last day, exactly 365 days for
//! retention, exactly 183 days for churn, exactly 24 hours for the complaint SLA, the callback
//! tolerance, H1/H2 on 1 July), and grouping by dealer, region, province and model.

use autocrm::kpi::{self, Dimension, GroupKey, Period};
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, t};

/// Three dealers: D1 (East, 上海), D2 (East, 江苏), D3 (North, 北京).
struct Net {
    db: Database,
    d1: DealerId,
    d2: DealerId,
    d3: DealerId,
}

fn net() -> Net {
    let db = Database::in_memory().unwrap();
    let (d1, d2, d3) = db
        .write(|tx| {
            let mk = |code: &str, region: &str, province: &str, city: &str| Dealer {
                code: code.into(),
                name: format!("{code} 4S"),
                region: region.into(),
                province: province.into(),
                city: city.into(),
                kind: DealerKind::FourS,
            };
            Ok((
                tx.insert_dealer(&mk("D1", "East", "上海", "上海"))?,
                tx.insert_dealer(&mk("D2", "East", "江苏", "南京"))?,
                tx.insert_dealer(&mk("D3", "North", "北京", "北京"))?,
            ))
        })
        .unwrap();
    Net { db, d1, d2, d3 }
}

fn person(tx: &mut WriteTxn) -> CustomerId {
    tx.insert_customer(&Customer::person("王小明")).unwrap()
}

/// A vehicle with an imported-European VIN (no mandatory check digit), unique per `n`.
fn car(n: u64, model: &str, dealer: Option<DealerId>, bought: Option<&str>) -> Vehicle {
    Vehicle {
        selling_dealer: dealer,
        purchase_date: bought.map(d),
        ..Vehicle::new(format!("WVWZZZ1KZ{n:08}"), "Volkswagen", model)
    }
}

fn touch(c: CustomerId, day: &str, kind: TouchpointKind, dealer: Option<DealerId>) -> Touchpoint {
    Touchpoint {
        dealer,
        service_kind: (kind == TouchpointKind::ServiceVisit).then_some(ServiceKind::Maintenance),
        ..Touchpoint::new(d(day).at(10, 0, 0), c, Channel::Showroom, kind)
    }
}

fn visit(c: CustomerId, day: Date, dealer: DealerId) -> Touchpoint {
    Touchpoint {
        dealer: Some(dealer),
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(
            day.at(9, 0, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

fn callback(c: CustomerId, day: &str, outcome: &str) -> Touchpoint {
    Touchpoint {
        outcome: Some(outcome.into()),
        ..Touchpoint::new(
            d(day).at(15, 0, 0),
            c,
            Channel::PhoneOut,
            TouchpointKind::Callback,
        )
    }
}

fn rows(db: &Database, which: Kpi, by: Dimension, p: Period) -> Vec<KpiRow> {
    let facts = db.begin_read().unwrap().facts().unwrap();
    let out = facts.kpi(which, by, p);
    assert_eq!(out, kpi::kpi(&facts, which, by, p));
    out
}

/// (numerator, denominator) of the row labelled `label`.
fn get(rows: &[KpiRow], label: &str) -> (f64, f64) {
    let r = rows
        .iter()
        .find(|r| r.label == label)
        .unwrap_or_else(|| panic!("no row {label} in {rows:#?}"));
    (r.numerator, r.denominator)
}

fn network(db: &Database, which: Kpi, p: Period) -> (f64, f64, Option<f64>) {
    let r = rows(db, which, Dimension::Network, p);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].key, GroupKey::Network);
    (r[0].numerator, r[0].denominator, r[0].value)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn periods_and_names() {
    let q1 = Period::quarter(2025, 1).unwrap();
    assert_eq!((q1.from, q1.to), (d("2025-01-01"), d("2025-04-01")));
    assert_eq!(q1.last(), d("2025-03-31"));
    assert!(q1.contains(d("2025-03-31")) && !q1.contains(d("2025-04-01")));
    assert_eq!(Period::month(2024, 2).unwrap().days(), 29);
    assert_eq!(Period::half(2025, 2).unwrap().from, d("2025-07-01"));
    assert_eq!(Period::year(2025).unwrap().to, d("2026-01-01"));
    assert_eq!(
        Period::quarter_of(d("2025-08-15")),
        Period::quarter(2025, 3).unwrap()
    );
    assert_eq!(Period::month_of(d("2025-12-31")).to, d("2026-01-01"));
    assert_eq!(
        Period::half_of(d("2025-06-30")),
        Period::half(2025, 1).unwrap()
    );
    assert_eq!(
        Period::year_of(d("2024-02-29")),
        Period::year(2024).unwrap()
    );
    assert!(Period::quarter(2025, 5).is_none() && Period::month(2025, 13).is_none());
    assert!(Period::new(d("2025-01-02"), d("2025-01-02")).is_none());
    // A year splits on 1 July (the seed's H1/H2); a quarter at its middle day.
    let (h1, h2) = Period::year(2025).unwrap().halves();
    assert_eq!((h1.to, h2.from), (d("2025-07-01"), d("2025-07-01")));
    let (a, b) = q1.halves();
    assert_eq!((a.days(), b.days()), (45, 45));
    assert_eq!(q1.to_string(), "[2025-01-01, 2025-04-01)");

    assert_eq!(Kpi::ALL.len(), 15);
    for k in Kpi::ALL {
        assert_eq!(Kpi::from_name(k.name()), Some(k));
    }
    let mut names: Vec<_> = Kpi::ALL.iter().map(|k| k.name()).collect();
    names.dedup();
    assert_eq!(names.len(), Kpi::ALL.len());
    for dim in Dimension::ALL {
        assert_eq!(Dimension::from_name(dim.name()), Some(dim));
    }
    assert_eq!(Kpi::AfterSalesChurn.to_string(), "after_sales_churn");
}

#[test]
fn lead_conversion_counts_leads_received_in_the_period_and_won_by_its_end() {
    let n = net();
    let q1 = Period::quarter(2025, 1).unwrap();
    n.db.write(|tx| {
        let lead = |c, model: &str, dealer, received: &str, status, status_at: Option<&str>| Lead {
            customer: c,
            origin: LeadSource::Web,
            model: model.into(),
            intent: Intent::A,
            purchase_type: PurchaseType::First,
            dealer,
            received: t(received),
            status,
            status_at: status_at.map(t),
            source: None,
        };
        let c = person(tx);
        // a: won on the period's last day → won.
        tx.insert_lead(&lead(
            c,
            "Passat",
            Some(n.d1),
            "2025-01-10T09:00",
            LeadStatus::Won,
            Some("2025-03-31T23:00"),
        ))?;
        // b: received inside, won the day after the period → not won (as of its end).
        tx.insert_lead(&lead(
            c,
            "Passat",
            Some(n.d1),
            "2025-02-01T09:00",
            LeadStatus::Won,
            Some("2025-04-01T09:00"),
        ))?;
        // c: received on the last day, still new.
        tx.insert_lead(&lead(
            c,
            "Golf",
            Some(n.d2),
            "2025-03-31T18:00",
            LeadStatus::New,
            None,
        ))?;
        // d, e: received before / after the period → not counted at all.
        tx.insert_lead(&lead(
            c,
            "Passat",
            Some(n.d1),
            "2024-12-31T18:00",
            LeadStatus::Won,
            Some("2025-01-05T09:00"),
        ))?;
        tx.insert_lead(&lead(
            c,
            "Golf",
            Some(n.d3),
            "2025-04-01T08:00",
            LeadStatus::New,
            None,
        ))?;
        // g: lost.
        tx.insert_lead(&lead(
            c,
            "Golf",
            Some(n.d3),
            "2025-03-01T08:00",
            LeadStatus::Lost("price".into()),
            Some("2025-03-05T08:00"),
        ))?;
        // f: no dealer: goes to the home dealer on the receipt day (its latest service visit
        // at D3); won with no status time → counted as won.
        let f = person(tx);
        tx.insert_touchpoint(&touch(
            f,
            "2024-06-01",
            TouchpointKind::ServiceVisit,
            Some(n.d3),
        ))?;
        tx.insert_lead(&lead(
            f,
            "Tiguan",
            None,
            "2025-01-15T10:00",
            LeadStatus::Won,
            None,
        ))?;
        Ok(())
    })
    .unwrap();

    assert_eq!(
        network(&n.db, Kpi::LeadConversion, q1),
        (2.0, 5.0, Some(0.4))
    );
    let by_dealer = rows(&n.db, Kpi::LeadConversion, Dimension::Dealer, q1);
    assert_eq!(by_dealer.len(), 3, "every dealer, no unattributed row");
    assert_eq!(get(&by_dealer, "D1"), (1.0, 2.0));
    assert_eq!(get(&by_dealer, "D2"), (0.0, 1.0));
    assert_eq!(get(&by_dealer, "D3"), (1.0, 2.0));
    assert_eq!(by_dealer[0].key, GroupKey::Dealer(n.d1));
    let by_region = rows(&n.db, Kpi::LeadConversion, Dimension::Region, q1);
    assert_eq!(get(&by_region, "East"), (1.0, 3.0));
    assert_eq!(get(&by_region, "North"), (1.0, 2.0));
    assert_eq!(by_region[0].key, GroupKey::Region("East".into()));
    let by_province = rows(&n.db, Kpi::LeadConversion, Dimension::Province, q1);
    assert_eq!(get(&by_province, "上海"), (1.0, 2.0));
    assert_eq!(get(&by_province, "江苏"), (0.0, 1.0));
    assert_eq!(get(&by_province, "北京"), (1.0, 2.0));
    // Leads go by their own model of interest.
    let by_model = rows(&n.db, Kpi::LeadConversion, Dimension::Model, q1);
    assert_eq!(by_model.len(), 3);
    assert_eq!(get(&by_model, "Passat"), (1.0, 2.0));
    assert_eq!(get(&by_model, "Golf"), (0.0, 2.0));
    assert_eq!(get(&by_model, "Tiguan"), (1.0, 1.0));

    // Q2: only lead e, at D3; the other dealers still get a row, without a value.
    let q2 = Period::quarter(2025, 2).unwrap();
    let by_dealer = rows(&n.db, Kpi::LeadConversion, Dimension::Dealer, q2);
    assert_eq!(get(&by_dealer, "D3"), (0.0, 1.0));
    let d1 = by_dealer.iter().find(|r| r.label == "D1").unwrap();
    assert_eq!((d1.denominator, d1.value), (0.0, None));
}

#[test]
fn repurchase_counts_owners_on_the_eve_of_the_period_who_acquire_another_vehicle() {
    let n = net();
    let y2025 = Period::year(2025).unwrap();
    n.db.write(|tx| {
        // c1: owner since 2020, buys a second car in 2025 → repurchased.
        let c1 = person(tx);
        tx.insert_vehicle(
            &car(1, "Passat", Some(n.d1), None),
            Some((c1, d("2020-01-01"))),
        )?;
        tx.insert_vehicle(
            &car(2, "Golf", Some(n.d2), None),
            Some((c1, d("2025-06-01"))),
        )?;
        // c2: owns a Golf and a Tiguan, buys nothing → an owner under both models.
        let c2 = person(tx);
        tx.insert_vehicle(
            &car(3, "Golf", Some(n.d1), None),
            Some((c2, d("2022-01-01"))),
        )?;
        tx.insert_vehicle(
            &car(4, "Tiguan", Some(n.d2), None),
            Some((c2, d("2023-01-01"))),
        )?;
        // c3: first car in 2025 → not an owner on the eve.
        let c3 = person(tx);
        tx.insert_vehicle(
            &car(5, "Golf", Some(n.d1), None),
            Some((c3, d("2025-03-01"))),
        )?;
        // c4 sold his car to c5 in 2023 and buys a new one in 2025: no car on the eve.
        let c4 = person(tx);
        let c5 = person(tx);
        let old = tx.insert_vehicle(
            &car(6, "Lavida", Some(n.d3), None),
            Some((c4, d("2018-01-01"))),
        )?;
        tx.transfer_vehicle(old, c5, d("2023-05-01"))?;
        tx.insert_vehicle(
            &car(7, "Golf", Some(n.d1), None),
            Some((c4, d("2025-02-01"))),
        )?;
        // c5 (the used car's owner) buys again only in 2026 → an owner, not repurchased.
        tx.insert_vehicle(
            &car(8, "Golf", Some(n.d1), None),
            Some((c5, d("2026-01-01"))),
        )?;
        // c6 trades in on the period's last day: the old car goes to c7, a new one comes.
        let c6 = person(tx);
        let c7 = person(tx);
        let x = tx.insert_vehicle(
            &car(9, "Passat", Some(n.d1), None),
            Some((c6, d("2019-01-01"))),
        )?;
        tx.transfer_vehicle(x, c7, d("2025-12-31"))?;
        tx.insert_vehicle(
            &car(10, "Passat", Some(n.d1), None),
            Some((c6, d("2025-12-31"))),
        )?;
        Ok(())
    })
    .unwrap();

    // Owners on 2024-12-31: c1, c2, c5, c6; bought again in 2025: c1, c6.
    assert_eq!(
        network(&n.db, Kpi::Repurchase, y2025),
        (2.0, 4.0, Some(0.5))
    );
    // Home dealer on the eve = selling dealer of the latest car acquired by then: c1 → D1,
    // c2 → D2 (the Tiguan), c5 → D3 (the used Lavida's selling dealer), c6 → D1.
    let by_dealer = rows(&n.db, Kpi::Repurchase, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D1"), (2.0, 2.0));
    assert_eq!(get(&by_dealer, "D2"), (0.0, 1.0));
    assert_eq!(get(&by_dealer, "D3"), (0.0, 1.0));
    // Models owned on the eve; c2 counts under both of his.
    let by_model = rows(&n.db, Kpi::Repurchase, Dimension::Model, y2025);
    assert_eq!(by_model.len(), 4);
    assert_eq!(get(&by_model, "Passat"), (2.0, 2.0));
    assert_eq!(get(&by_model, "Golf"), (0.0, 1.0));
    assert_eq!(get(&by_model, "Tiguan"), (0.0, 1.0));
    assert_eq!(get(&by_model, "Lavida"), (0.0, 1.0));
}

#[test]
fn referral_rate_is_owners_with_a_referral_in_the_period() {
    let n = net();
    let q2 = Period::quarter(2025, 2).unwrap();
    n.db.write(|tx| {
        let referral = |c, day| touch(c, day, TouchpointKind::Referral, Some(n.d2));
        for (i, days) in [
            vec!["2025-04-01"],               // r1: first day → counts
            vec!["2025-07-01"],               // r2: day after → no
            vec!["2025-03-31"],               // r3: day before → no
            vec!["2025-05-01", "2025-06-30"], // r4: two → counts once
            vec![],                           // r6: none
        ]
        .into_iter()
        .enumerate()
        {
            let c = person(tx);
            tx.insert_vehicle(
                &car(i as u64, "Golf", Some(n.d1), None),
                Some((c, d("2020-01-01"))),
            )?;
            for day in days {
                tx.insert_touchpoint(&referral(c, day))?;
            }
        }
        // r5: a prospect without a vehicle → outside the base.
        let r5 = person(tx);
        tx.insert_touchpoint(&referral(r5, "2025-05-01"))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(network(&n.db, Kpi::Referral, q2), (2.0, 5.0, Some(0.4)));
    // Owners go to their home dealer (the selling dealer), not the referral's dealer.
    let by_dealer = rows(&n.db, Kpi::Referral, Dimension::Dealer, q2);
    assert_eq!(get(&by_dealer, "D1"), (2.0, 5.0));
    assert_eq!(get(&by_dealer, "D2"), (0.0, 0.0));
}

#[test]
fn retention_uses_365_day_windows_ending_on_the_last_day() {
    let n = net();
    let y2025 = Period::year(2025).unwrap();
    let day = y2025.last(); // D = 2025-12-31
    let back = |k: i32| day.add_days(-k);
    n.db.write(|tx| {
        let cases: Vec<Vec<(i32, DealerId)>> = vec![
            vec![(400, n.d1), (100, n.d2)], // t1: last year at D1, back this year (at D2)
            vec![(365, n.d2), (364, n.d2)], // t2: exactly 365 back is last year; 364 this year
            vec![(365, n.d2)],              // t3: last year only → lost
            vec![(730, n.d2)],              // t4: exactly 730 back is before last year → out
            vec![(729, n.d2), (0, n.d2)],   // t5: last year, and on D itself → kept
            vec![(10, n.d2)],               // t6: this year only → not in the base
            vec![(366, n.d2), (365, n.d2)], // t7: twice last year → counted once, lost
        ];
        for visits in cases {
            let c = person(tx);
            for (k, dealer) in visits {
                tx.insert_touchpoint(&visit(c, back(k), dealer))?;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(network(&n.db, Kpi::Retention, y2025), (3.0, 5.0, Some(0.6)));
    // Attributed to the dealer of the latest visit of last year: t1 stays D1's customer
    // although he came back at D2.
    let by_dealer = rows(&n.db, Kpi::Retention, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D1"), (1.0, 1.0));
    assert_eq!(get(&by_dealer, "D2"), (2.0, 4.0));
    // The same windows hold for any period ending on the same day.
    assert_eq!(
        network(&n.db, Kpi::Retention, Period::quarter(2025, 4).unwrap()),
        (3.0, 5.0, Some(0.6))
    );
    // Customers without any vehicle have no model.
    let by_model = rows(&n.db, Kpi::Retention, Dimension::Model, y2025);
    assert_eq!(by_model.len(), 1);
    assert_eq!(by_model[0].key, GroupKey::Unattributed);
    assert_eq!(get(&by_model, "(unattributed)"), (3.0, 5.0));
}

#[test]
fn after_sales_churn_is_183_days_without_a_visit_among_last_years_service_customers() {
    let n = net();
    let q4 = Period::quarter(2025, 4).unwrap();
    let day = q4.last(); // D = 2025-12-31
    let back = |k: i32| day.add_days(-k);
    n.db.write(|tx| {
        let cases: Vec<(&[i32], bool)> = vec![
            (&[183], true),     // u1: exactly 183 days back → churned
            (&[182], true),     // u2: 182 → not churned
            (&[300, 10], true), // u3: recent visit → not churned
            (&[365], true),     // u4: exactly 365 back → no visit in the year: not valid
            (&[364], true),     // u5: valid, churned
            (&[200], false),    // u6: sold the car before D → not valid
            (&[], true),        // u7: owner who never came → not valid
        ];
        for (i, (visits, keeps)) in cases.into_iter().enumerate() {
            let c = person(tx);
            let v = tx.insert_vehicle(
                &car(i as u64, "Golf", Some(n.d1), None),
                Some((c, d("2020-01-01"))),
            )?;
            if !keeps {
                let buyer = person(tx);
                tx.transfer_vehicle(v, buyer, d("2025-06-01"))?;
            }
            for &k in visits {
                tx.insert_touchpoint(&visit(c, back(k), n.d2))?;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        network(&n.db, Kpi::AfterSalesChurn, q4),
        (2.0, 4.0, Some(0.5))
    );
    // The same as the owner status with a 183-day window.
    let facts = n.db.begin_read().unwrap().facts().unwrap();
    let params = segment::builtin::OwnerStatusParams {
        window_days: kpi::CHURN_WINDOW_DAYS,
        recent_days: 90,
    };
    let churned = facts
        .customers
        .iter()
        .filter(|c| c.rollup.service_visits_between(day.add_days(-365), day) > 0)
        .filter(|c| {
            segment::builtin::owner_status(c, day, params)
                == Some(segment::builtin::OwnerStatus::Churned)
        })
        .count();
    assert_eq!(churned, 2);
    // Home dealer = dealer of the latest visit (D2); the model of the car owned on D.
    let by_dealer = rows(&n.db, Kpi::AfterSalesChurn, Dimension::Dealer, q4);
    assert_eq!(get(&by_dealer, "D2"), (2.0, 4.0));
    assert_eq!(get(&by_dealer, "D1"), (0.0, 0.0));
    let by_model = rows(&n.db, Kpi::AfterSalesChurn, Dimension::Model, q4);
    assert_eq!(by_model.len(), 1);
    assert_eq!(get(&by_model, "Golf"), (2.0, 4.0));
}

#[test]
fn complaints_per_served_customer_and_resolution_within_the_24_hour_sla() {
    let n = net();
    let march = Period::month(2025, 3).unwrap();
    n.db.write(|tx| {
        let complaint =
            |c, dealer, received: &str, status, first: Option<&str>, resolved: Option<&str>| {
                Complaint {
                    customer: c,
                    vehicle: None,
                    dealer: Some(dealer),
                    category: "repair quality".into(),
                    received: t(received),
                    status,
                    first_response: first.map(t),
                    resolved: resolved.map(t),
                    analysed: None,
                    called_back: None,
                    closed: None,
                    note: None,
                    source: None,
                }
            };
        use ComplaintStatus::*;
        // s1: served twice at D1.
        let s1 = person(tx);
        tx.insert_touchpoint(&touch(
            s1,
            "2025-03-03",
            TouchpointKind::ServiceVisit,
            Some(n.d1),
        ))?;
        tx.insert_touchpoint(&touch(
            s1,
            "2025-03-20",
            TouchpointKind::ServiceVisit,
            Some(n.d1),
        ))?;
        // k1: answered exactly 24 h later, resolved → within SLA.
        tx.insert_complaint(&complaint(
            s1,
            n.d1,
            "2025-03-05T10:00",
            Resolved,
            Some("2025-03-06T10:00"),
            Some("2025-03-10T10:00"),
        ))?;
        // k2: answered 24 h and 1 s later → outside, although resolved.
        tx.insert_complaint(&complaint(
            s1,
            n.d1,
            "2025-03-05T10:00",
            Closed,
            Some("2025-03-06T10:00:01"),
            Some("2025-03-10T10:00"),
        ))?;
        // s2: served at D1 (service) and at D2 (purchase).
        let s2 = person(tx);
        tx.insert_touchpoint(&touch(
            s2,
            "2025-03-10",
            TouchpointKind::ServiceVisit,
            Some(n.d1),
        ))?;
        tx.insert_touchpoint(&touch(
            s2,
            "2025-03-11",
            TouchpointKind::Purchase,
            Some(n.d2),
        ))?;
        // k3: answered quickly, not resolved.
        tx.insert_complaint(&complaint(
            s2,
            n.d2,
            "2025-03-20T10:00",
            Received,
            Some("2025-03-20T11:00"),
            None,
        ))?;
        // k4: received on the last day, resolved after the period → not resolved by its end.
        tx.insert_complaint(&complaint(
            s2,
            n.d2,
            "2025-03-31T23:00",
            Resolved,
            Some("2025-04-01T08:00"),
            Some("2025-04-02T08:00"),
        ))?;
        // k5: closed without a resolution time → resolved.
        tx.insert_complaint(&complaint(
            s2,
            n.d2,
            "2025-03-15T10:00",
            Closed,
            Some("2025-03-15T12:00"),
            None,
        ))?;
        // s3: complaint and visit outside March.
        let s3 = person(tx);
        tx.insert_touchpoint(&touch(
            s3,
            "2025-04-01",
            TouchpointKind::ServiceVisit,
            Some(n.d2),
        ))?;
        tx.insert_complaint(&complaint(
            s3,
            n.d2,
            "2025-02-28T10:00",
            Closed,
            Some("2025-02-28T11:00"),
            Some("2025-02-28T12:00"),
        ))?;
        // s4, s5: served at D2 without complaints.
        let s4 = person(tx);
        tx.insert_touchpoint(&touch(
            s4,
            "2025-03-15",
            TouchpointKind::ServiceVisit,
            Some(n.d2),
        ))?;
        let s5 = person(tx);
        tx.insert_touchpoint(&touch(
            s5,
            "2025-03-01",
            TouchpointKind::Purchase,
            Some(n.d2),
        ))?;
        Ok(())
    })
    .unwrap();

    assert_eq!(
        network(&n.db, Kpi::ComplaintResolution, march),
        (2.0, 5.0, Some(0.4))
    );
    let by_dealer = rows(&n.db, Kpi::ComplaintResolution, Dimension::Dealer, march);
    assert_eq!(get(&by_dealer, "D1"), (1.0, 2.0));
    assert_eq!(get(&by_dealer, "D2"), (1.0, 3.0));

    // 5 complaints; served in March: s1, s2, s4, s5.
    assert_eq!(
        network(&n.db, Kpi::ComplaintRate, march),
        (5.0, 4.0, Some(1.25))
    );
    // D1 served s1 and s2; D2 served s2, s4, s5 — s2 counts at both dealers.
    let by_dealer = rows(&n.db, Kpi::ComplaintRate, Dimension::Dealer, march);
    assert_eq!(get(&by_dealer, "D1"), (2.0, 2.0));
    assert_eq!(get(&by_dealer, "D2"), (3.0, 3.0));
    assert_eq!(get(&by_dealer, "D3"), (0.0, 0.0));
    // By region everyone is East: s2 once.
    let by_region = rows(&n.db, Kpi::ComplaintRate, Dimension::Region, march);
    assert_eq!(get(&by_region, "East"), (5.0, 4.0));
}

#[test]
fn callbacks_due_on_day_3_day_7_and_a_month_after_purchase() {
    let n = net();
    let march = Period::month(2025, 3).unwrap();
    n.db.write(|tx| {
        // b1: bought 2025-02-26 → due 03-01, 03-05, 03-26. Called 02-28 (a day early,
        // reached) and 03-08 (3 days late, no answer); the month callback never made.
        let b1 = person(tx);
        tx.insert_vehicle(
            &car(1, "Passat", Some(n.d1), Some("2025-02-26")),
            Some((b1, d("2025-02-26"))),
        )?;
        tx.insert_touchpoint(&callback(b1, "2025-02-28", "reached"))?;
        tx.insert_touchpoint(&callback(b1, "2025-03-08", "no answer"))?;
        // b2: bought 2025-02-20 → only the month callback (03-20) is due in March; called
        // 03-24, 4 days late → not made. The day-3 callback (02-23, made) is February's.
        let b2 = person(tx);
        tx.insert_vehicle(
            &car(2, "Passat", Some(n.d1), Some("2025-02-20")),
            Some((b2, d("2025-02-20"))),
        )?;
        tx.insert_touchpoint(&callback(b2, "2025-02-23", "reached"))?;
        tx.insert_touchpoint(&callback(b2, "2025-03-24", "reached"))?;
        // b3: bought 2025-02-28 → due 03-03, 03-07, 03-28. Calls 03-02 (reached) → day 3;
        // 03-06 (no answer) and 03-07 (reached) both fit day 7: the successful one is used;
        // 03-31 (done) → the month one, on the period's last day.
        let b3 = person(tx);
        tx.insert_vehicle(
            &car(3, "Golf", Some(n.d1), Some("2025-02-28")),
            Some((b3, d("2025-02-28"))),
        )?;
        for (day, outcome) in [
            ("2025-03-02", "reached"),
            ("2025-03-06", "no answer"),
            ("2025-03-07", "reached"),
            ("2025-03-31", "done"),
        ] {
            tx.insert_touchpoint(&callback(b3, day, outcome))?;
        }
        // b4 bought b5's car used in March: a used car gets no sales callbacks.
        let b5 = person(tx);
        let used = tx.insert_vehicle(
            &car(4, "Golf", Some(n.d3), Some("2020-01-01")),
            Some((b5, d("2020-01-01"))),
        )?;
        let b4 = person(tx);
        tx.transfer_vehicle(used, b4, d("2025-02-26"))?;
        // b6: a fleet buys two cars on 2025-03-10 → one call each on 03-13 and 03-17 (the
        // month one falls in April). Called 03-13 only.
        let b6 = tx.insert_customer(&Customer::organisation("上海某某物流有限公司"))?;
        tx.insert_vehicle(
            &car(5, "Passat", Some(n.d2), Some("2025-03-10")),
            Some((b6, d("2025-03-10"))),
        )?;
        tx.insert_vehicle(
            &car(6, "Golf", Some(n.d2), Some("2025-03-10")),
            Some((b6, d("2025-03-10"))),
        )?;
        tx.insert_touchpoint(&callback(b6, "2025-03-13", "reached"))?;
        // b7: bought 2025-02-27, sold on 2025-03-03 → only the day-3 call (03-02) is due.
        let b7 = person(tx);
        let gone = tx.insert_vehicle(
            &car(7, "Golf", Some(n.d2), Some("2025-02-27")),
            Some((b7, d("2025-02-27"))),
        )?;
        let b8 = person(tx);
        tx.transfer_vehicle(gone, b8, d("2025-03-03"))?;
        Ok(())
    })
    .unwrap();

    // Due in March: b1 3, b2 1, b3 3, b6 2, b7 1 = 10; made: b1 2, b3 3, b6 1 = 6;
    // succeeded: b1 1, b3 3, b6 1 = 5.
    assert_eq!(
        network(&n.db, Kpi::CallbackRatio, march),
        (6.0, 10.0, Some(0.6))
    );
    let (num, den, value) = network(&n.db, Kpi::CallbackSuccess, march);
    assert_eq!((num, den), (5.0, 6.0));
    assert!(close(value.unwrap(), 5.0 / 6.0));
    // The selling dealer is responsible.
    let ratio = rows(&n.db, Kpi::CallbackRatio, Dimension::Dealer, march);
    assert_eq!(get(&ratio, "D1"), (5.0, 7.0));
    assert_eq!(get(&ratio, "D2"), (1.0, 3.0));
    let success = rows(&n.db, Kpi::CallbackSuccess, Dimension::Dealer, march);
    assert_eq!(get(&success, "D1"), (4.0, 5.0));
    assert_eq!(get(&success, "D2"), (1.0, 1.0));
    // By model: the vehicle's (b6's same-day pair goes under its first car, the Passat).
    let by_model = rows(&n.db, Kpi::CallbackRatio, Dimension::Model, march);
    assert_eq!(get(&by_model, "Passat"), (3.0, 6.0));
    assert_eq!(get(&by_model, "Golf"), (3.0, 4.0));
    // February: b2's day-3 (02-23, called that day) and day-7 (02-27, no call in
    // [02-26, 03-02]) callbacks.
    let feb = Period::month(2025, 2).unwrap();
    assert_eq!(
        network(&n.db, Kpi::CallbackRatio, feb),
        (1.0, 2.0, Some(0.5))
    );
}

#[test]
fn return_to_service_follows_last_years_buyers_to_their_selling_dealer() {
    let n = net();
    let q1 = Period::quarter(2025, 1).unwrap(); // cohort: bought in 2024
    n.db.write(|tx| {
        let buy = |c, day, dealer| touch(c, day, TouchpointKind::Purchase, dealer);
        let serve = |c, day, dealer| touch(c, day, TouchpointKind::ServiceVisit, Some(dealer));
        let p1 = person(tx);
        tx.insert_touchpoint(&buy(p1, "2024-06-01", Some(n.d1)))?;
        tx.insert_touchpoint(&serve(p1, "2024-09-01", n.d1))?; // back at D1
        let p2 = person(tx);
        tx.insert_touchpoint(&buy(p2, "2024-12-31", Some(n.d1)))?; // last cohort day
        tx.insert_touchpoint(&serve(p2, "2025-02-01", n.d2))?; // another dealer → no
        let p3 = person(tx);
        tx.insert_touchpoint(&buy(p3, "2024-01-01", Some(n.d2)))?; // first cohort day
        tx.insert_touchpoint(&serve(p3, "2025-03-31", n.d2))?; // on D → back
        let p4 = person(tx);
        tx.insert_touchpoint(&buy(p4, "2023-12-31", Some(n.d1)))?; // before the cohort
        let p5 = person(tx);
        tx.insert_touchpoint(&buy(p5, "2025-01-05", Some(n.d1)))?; // in the period, not cohort
        let p6 = person(tx);
        tx.insert_touchpoint(&buy(p6, "2024-05-01", Some(n.d2)))?;
        tx.insert_touchpoint(&serve(p6, "2024-05-01", n.d2))?; // same day: not a return
        tx.insert_touchpoint(&serve(p6, "2025-04-01", n.d2))?; // after the period
                                                               // p7: purchase without a dealer; the car acquired that day was sold by D3.
        let p7 = person(tx);
        tx.insert_vehicle(
            &car(1, "Golf", Some(n.d3), None),
            Some((p7, d("2024-07-01"))),
        )?;
        tx.insert_touchpoint(&buy(p7, "2024-07-01", None))?;
        tx.insert_touchpoint(&serve(p7, "2024-10-01", n.d3))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        network(&n.db, Kpi::ReturnToService, q1),
        (3.0, 5.0, Some(0.6))
    );
    let by_dealer = rows(&n.db, Kpi::ReturnToService, Dimension::Dealer, q1);
    assert_eq!(get(&by_dealer, "D1"), (1.0, 2.0));
    assert_eq!(get(&by_dealer, "D2"), (1.0, 2.0));
    assert_eq!(get(&by_dealer, "D3"), (1.0, 1.0));
    let by_model = rows(&n.db, Kpi::ReturnToService, Dimension::Model, q1);
    assert_eq!(get(&by_model, "Golf"), (1.0, 1.0));
    assert_eq!(get(&by_model, "(unattributed)"), (2.0, 4.0));
}

fn national_id(serial: u32) -> String {
    let first17 = format!("310101199001{:02}{:03}", 1 + serial % 28, serial);
    let check = validate::national_id_check_digit(&first17).unwrap();
    format!("{first17}{check}")
}

#[test]
fn valid_customer_information_ratio_checks_name_mobile_id_and_place() {
    let n = net();
    let y2025 = Period::year(2025).unwrap();
    n.db.write(|tx| {
        let full = |serial: u32| Customer {
            party: Party::Person(Person {
                name: "王小明".into(),
                national_id: Some(national_id(serial)),
                ..Person::default()
            }),
            phones: vec!["13800138000".into()],
            province: Some("上海".into()),
            city: Some("上海".into()),
            address: None,
            source: None,
        };
        let code17 = "91310000MA1FL0000";
        let org = Customer {
            party: Party::Organisation(Organisation {
                name: "上海某某物流有限公司".into(),
                credit_code: Some(format!(
                    "{code17}{}",
                    validate::credit_code_check_char(code17).unwrap()
                )),
                industry: None,
            }),
            ..full(0)
        };
        let customers = [
            (full(1), Some("2020-01-01")), // v1 valid
            (
                Customer {
                    city: None,
                    ..full(2)
                },
                Some("2020-01-01"),
            ), // v2 no city
            (
                Customer {
                    phones: vec![],
                    ..full(3)
                },
                Some("2020-01-01"),
            ), // v3 no mobile
            (org, Some("2025-12-31")),     // v4 organisation, valid, bought on D
            (Customer::person("李华"), Some("2020-01-01")), // v5 no ID
            (full(6), None),               // v6 never bought: not a customer sold
            (full(7), Some("2026-01-01")), // v7 bought after D
        ];
        for (i, (c, bought)) in customers.into_iter().enumerate() {
            let id = tx.insert_customer(&c)?;
            if let Some(day) = bought {
                tx.insert_vehicle(&car(i as u64, "Golf", Some(n.d1), None), Some((id, d(day))))?;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        network(&n.db, Kpi::ValidInfoRatio, y2025),
        (2.0, 5.0, Some(0.4))
    );
    let by_dealer = rows(&n.db, Kpi::ValidInfoRatio, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D1"), (2.0, 5.0));
}

#[test]
fn csi_and_ssi_are_mean_weighted_indexes_and_improvement_is_h2_over_h1() {
    let n = net();
    let y2025 = Period::year(2025).unwrap();
    let all = |score: u8| -> Vec<(Factor, u8)> {
        [
            Factor::Friendliness,
            Factor::Initiative,
            Factor::Supervision,
            Factor::RepairProcess,
            Factor::ProductIssues,
            Factor::ServiceQuality,
            Factor::VehiclePickUp,
        ]
        .into_iter()
        .map(|f| (f, score))
        .collect()
    };
    n.db.write(|tx| {
        let survey = |c, dealer, kind, day: &str, items| Survey {
            customer: c,
            dealer,
            kind,
            date: d(day),
            items,
            source: None,
        };
        let c = person(tx);
        tx.insert_vehicle(
            &car(1, "Passat", Some(n.d2), None),
            Some((c, d("2020-01-01"))),
        )?;
        let service = SurveyKind::Service;
        // H1: 80 on 30 June, and (21×10 + 10×4) / 31 × 10 = 2500/31.
        tx.insert_survey(&survey(c, Some(n.d1), service, "2025-06-30", all(8)))?;
        tx.insert_survey(&survey(
            c,
            Some(n.d1),
            service,
            "2025-02-01",
            vec![(Factor::ProductIssues, 10), (Factor::Initiative, 4)],
        ))?;
        // H2: 90 on 1 July; an unscored survey is skipped; one outside the year.
        tx.insert_survey(&survey(c, Some(n.d1), service, "2025-07-01", all(9)))?;
        tx.insert_survey(&survey(c, Some(n.d1), service, "2025-08-01", vec![]))?;
        tx.insert_survey(&survey(c, Some(n.d1), service, "2026-01-01", all(1)))?;
        // SSI without a dealer: goes to the home dealer (the car's selling dealer, D2).
        tx.insert_survey(&survey(c, None, SurveyKind::Sales, "2025-03-01", all(7)))?;
        Ok(())
    })
    .unwrap();
    let h1 = (80.0 + 2500.0 / 31.0) / 2.0;

    let (num, den, value) = network(&n.db, Kpi::Csi, y2025);
    assert!(close(num, 170.0 + 2500.0 / 31.0) && den == 3.0);
    assert!(close(value.unwrap(), (170.0 + 2500.0 / 31.0) / 3.0));
    let (num, den, value) = network(&n.db, Kpi::CsiImprovement, y2025);
    assert!(close(num, 90.0) && close(den, h1));
    assert!(close(value.unwrap(), 90.0 / h1));
    // H1 alone: no second half, no improvement value.
    let first_half = Period::half(2025, 1).unwrap();
    let (a, b) = first_half.halves();
    assert_eq!((a.to, b.from), (d("2025-04-01"), d("2025-04-01")));
    let (num, den, value) = network(&n.db, Kpi::CsiImprovement, first_half);
    assert!(close(num, 80.0) && close(den, 2500.0 / 31.0) && value.is_some());
    assert_eq!(network(&n.db, Kpi::SsiImprovement, y2025).2, None);

    assert_eq!(network(&n.db, Kpi::Ssi, y2025), (70.0, 1.0, Some(70.0)));
    let by_dealer = rows(&n.db, Kpi::Ssi, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D2"), (70.0, 1.0));
    assert_eq!(get(&by_dealer, "D1"), (0.0, 0.0));
    let by_dealer = rows(&n.db, Kpi::Csi, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D1").1, 3.0);
    let by_model = rows(&n.db, Kpi::Csi, Dimension::Model, y2025);
    assert_eq!(get(&by_model, "Passat").1, 3.0);
}

#[test]
fn unknown_dealers_and_empty_snapshots() {
    // A touchpoint's dealer is always known to the store; a lead without dealer and without
    // any history has no home dealer and lands in the unattributed row.
    let n = net();
    let q1 = Period::quarter(2025, 1).unwrap();
    n.db.write(|tx| {
        let c = person(tx);
        tx.insert_lead(&Lead {
            customer: c,
            origin: LeadSource::WalkIn,
            model: "Golf".into(),
            intent: Intent::H,
            purchase_type: PurchaseType::First,
            dealer: None,
            received: t("2025-02-01T10:00"),
            status: LeadStatus::New,
            status_at: None,
            source: None,
        })?;
        Ok(())
    })
    .unwrap();
    let by_dealer = rows(&n.db, Kpi::LeadConversion, Dimension::Dealer, q1);
    assert_eq!(by_dealer.len(), 4);
    assert_eq!(by_dealer[3].key, GroupKey::Unattributed);
    assert_eq!(get(&by_dealer, "(unattributed)"), (0.0, 1.0));

    // Every KPI on an empty database: one network row without a value.
    let empty = Database::in_memory().unwrap();
    let r = empty.begin_read().unwrap();
    for k in Kpi::ALL {
        let out = r.kpi(k, Dimension::Network, q1).unwrap();
        assert_eq!(out.len(), 1, "{k}");
        assert_eq!((out[0].denominator, out[0].value), (0.0, None), "{k}");
        assert!(r.kpi(k, Dimension::Dealer, q1).unwrap().is_empty());
        assert!(r.kpi(k, Dimension::Model, q1).unwrap().is_empty());
    }
}

/// A million customers built in memory (no database): every KPI by dealer must take well
/// under a second in a release build. Run with
/// `cargo test --release -p autocrm --test kpi -- --ignored --nocapture`.
#[test]
#[ignore]
fn a_million_customers_in_well_under_a_second() {
    use autocrm::rollup::{Event, Rollup};
    use std::time::Instant;
    let dealers: Vec<(DealerId, Dealer)> = (0..500u32)
        .map(|i| {
            (
                DealerId(i + 1),
                Dealer {
                    code: format!("D{i:03}"),
                    name: format!("D{i:03} 4S"),
                    region: ["East", "North", "South", "West"][i as usize % 4].into(),
                    province: format!("P{}", i % 31),
                    city: format!("C{i}"),
                    kind: DealerKind::FourS,
                },
            )
        })
        .collect();
    let base = d("2020-01-01");
    let models = ["Passat", "Golf", "Tiguan", "Lavida", "Magotan"];
    let customer = Customer {
        phones: vec!["13800138000".into()],
        province: Some("上海".into()),
        city: Some("上海".into()),
        ..Customer::person("王小明")
    };
    let started = Instant::now();
    let customers: Vec<CustomerFacts> = (0..1_000_000u64)
        .map(|i| {
            let dealer = Some(DealerId((i % 500) as u32 + 1));
            let bought = base.add_days((i % 1500) as i32);
            let mut rollup = Rollup::default();
            let mut push = |day: Date, kind: TouchpointKind, succeeded: bool| {
                rollup.events.push(Event {
                    day,
                    minute: 0,
                    kind,
                    service_kind: None,
                    dealer,
                    amount: Money(0),
                    succeeded,
                });
                if kind == TouchpointKind::ServiceVisit {
                    rollup.service_dates.push(day);
                }
            };
            push(bought, TouchpointKind::Purchase, false);
            push(bought.add_days(3), TouchpointKind::Callback, i % 3 != 0);
            for k in 0..(i % 9) as i32 {
                push(
                    bought.add_days(90 + 120 * k),
                    TouchpointKind::ServiceVisit,
                    false,
                );
            }
            if i % 25 == 0 {
                push(bought.add_days(200), TouchpointKind::Referral, false);
            }
            rollup.events.sort();
            CustomerFacts {
                id: CustomerId(i + 1),
                customer: customer.clone(),
                rollup,
                vehicles: vec![VehicleFact {
                    id: VehicleId(i + 1),
                    vehicle: Vehicle {
                        selling_dealer: dealer,
                        purchase_date: Some(bought),
                        ..Vehicle::new("", "Volkswagen", models[i as usize % 5])
                    },
                    periods: vec![(bought, None)],
                }],
                leads: Vec::new(),
                complaints: Vec::new(),
                surveys: Vec::new(),
                consents: Consents::default(),
                membership: None,
                tiers: Default::default(),
                balances: Vec::new(),
                valid_info: customer.missing_basic_fields().is_empty(),
            }
        })
        .collect();
    let facts = Facts { customers, dealers };
    println!("built 1M customers in {:?}", started.elapsed());
    let q = Period::quarter(2023, 2).unwrap();
    for k in Kpi::ALL {
        for by in [Dimension::Network, Dimension::Dealer, Dimension::Model] {
            let started = Instant::now();
            let rows = facts.kpi(k, by, q);
            let took = started.elapsed();
            println!("{k:>22} by {by:<8} {took:>10.1?} {} rows", rows.len());
            if !cfg!(debug_assertions) {
                assert!(took.as_millis() < 500, "{k} by {by}: {took:?}");
            }
        }
    }
}

#[test]
fn two_visits_on_one_day_at_two_dealers_count_at_the_later_ones_dealer() {
    // D1 has the lower id; the later visit of the day is at D2 in one case and at D1 in the
    // other, written in the opposite order, so neither dealer id nor write order can decide.
    let n = net();
    let y2025 = Period::year(2025).unwrap();
    let day = d("2024-06-10");
    let at = |h: u32, dealer: DealerId, c: CustomerId| Touchpoint {
        dealer: Some(dealer),
        service_kind: Some(ServiceKind::Repair),
        ..Touchpoint::new(
            day.at(h, 30, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    };
    let (a, b) =
        n.db.write(|tx| {
            let a = person(tx);
            tx.insert_vehicle(&car(901, "Golf", None, None), Some((a, d("2020-01-01"))))?;
            tx.insert_touchpoint(&at(16, n.d2, a))?; // later, at D2 (higher id)
            tx.insert_touchpoint(&at(9, n.d1, a))?;
            let b = person(tx);
            tx.insert_vehicle(&car(902, "Golf", None, None), Some((b, d("2020-01-01"))))?;
            tx.insert_touchpoint(&at(9, n.d2, b))?;
            tx.insert_touchpoint(&at(16, n.d1, b))?; // later, at D1 (lower id)
            Ok((a, b))
        })
        .unwrap();
    let facts = n.db.begin_read().unwrap().facts().unwrap();
    assert_eq!(facts.home_dealer(a, d("2025-12-31")).unwrap(), Some(n.d2));
    assert_eq!(facts.home_dealer(b, d("2025-12-31")).unwrap(), Some(n.d1));
    // Neither came back in 2025: each is lost to retention at his later visit's dealer.
    let by_dealer = rows(&n.db, Kpi::Retention, Dimension::Dealer, y2025);
    assert_eq!(get(&by_dealer, "D1"), (0.0, 1.0));
    assert_eq!(get(&by_dealer, "D2"), (0.0, 1.0));
    // Both churned by the end of 2024 (last visit 204 days before): one at each dealer.
    let q4 = Period::quarter(2024, 4).unwrap();
    let churn = rows(&n.db, Kpi::AfterSalesChurn, Dimension::Dealer, q4);
    assert_eq!(get(&churn, "D1"), (1.0, 1.0));
    assert_eq!(get(&churn, "D2"), (1.0, 1.0));
}

mod period_names {
    use autocrm::kpi::Period;
    use proptest::prelude::*;

    #[test]
    fn report_names_parse() {
        let p = |s: &str| s.parse::<Period>();
        assert_eq!(p("2025").unwrap(), Period::year(2025).unwrap());
        assert_eq!(p(" 2025-h2 ").unwrap(), Period::half(2025, 2).unwrap());
        assert_eq!(p("2025-Q3").unwrap(), Period::quarter(2025, 3).unwrap());
        assert_eq!(p("2025-07").unwrap(), Period::month(2025, 7).unwrap());
        for bad in [
            "",
            "25-07",
            "2025-7",
            "2025-13",
            "2025-Q5",
            "2025-H0",
            "2025-Q+1",
            "+2025",
            "2025-07-01",
            "x",
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.to_string().contains("2025-Q3"), "{bad:?}: {e}");
            let e = autocrm::Error::from(e);
            assert_eq!(e.code(), "validation.not_allowed");
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,12}") {
            let _ = text.parse::<Period>();
        }

        #[test]
        fn every_month_round_trips(year in 1i32..=9999, month in 1u32..=12) {
            let text = format!("{year:04}-{month:02}");
            prop_assert_eq!(text.parse::<Period>().unwrap(), Period::month(year, month).unwrap());
        }
    }
}
