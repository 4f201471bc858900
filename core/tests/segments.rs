//! Built-in segments of DOMAIN.md §5 with hand-computed boundaries, the facts snapshot, and
//! customer sets.

use autocrm::segment::builtin::{
    self, Card, LifecycleParams, OwnerStatus, OwnerStatusParams, UpgradeParams,
};
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

const D: &str = "2025-06-30";

/// A database with one customer per case: the vehicle acquired on `acquired` (if any) and
/// service visits `days_before` D.
struct Case {
    db: Database,
    ids: Vec<CustomerId>,
}

fn vin(n: u64) -> String {
    // WVW (imported European) VINs carry no mandatory check digit.
    format!("WVWZZZ1KZ{:08}", n)
}

fn cases(specs: &[(Option<i32>, &[i32])]) -> Case {
    let db = Database::in_memory().unwrap();
    let as_of = d(D);
    let ids = db
        .write(|tx| {
            let mut ids = Vec::new();
            for (n, (acquired, visits)) in specs.iter().enumerate() {
                let c = tx.insert_customer(&Customer::person("王小明"))?;
                if let Some(back) = acquired {
                    tx.insert_vehicle(
                        &Vehicle::new(vin(n as u64), "Volkswagen", "Golf"),
                        Some((c, as_of.add_days(-back))),
                    )?;
                }
                for back in *visits {
                    tx.insert_touchpoint(&Touchpoint::new(
                        as_of.add_days(-back).at(9, 0, 0),
                        c,
                        Channel::Showroom,
                        TouchpointKind::ServiceVisit,
                    ))?;
                }
                ids.push(c);
            }
            Ok(ids)
        })
        .unwrap();
    Case { db, ids }
}

#[test]
fn owner_status_boundaries_are_exactly_domain_5() {
    let specs: Vec<(Option<i32>, &[i32])> = vec![
        (Some(1000), &[10, 100, 200]), // 0: three visits in W → active
        (Some(1000), &[10, 200]),      // 1: two → swinging
        (Some(1000), &[364, 365]), // 2: 365 days back is outside W; one visit 364 back → at_risk
        (Some(1000), &[90]),       // 3: exactly 90 days back is not "more than 90" → recent
        (Some(1000), &[91]),       // 4: 91 days back → at_risk
        (Some(1000), &[400]),      // 5: visited only before W → churned
        (Some(365), &[]),          // 6: never visited, first vehicle on D − 365 → churned
        (Some(364), &[]),          // 7: never visited, first vehicle inside W → new_owner
        (None, &[10, 20, 30]),     // 8: no vehicle → A-card, no status
        (Some(0), &[]),            // 9: got the vehicle on D → new_owner
        (Some(1000), &[0, 365, 366]), // 10: a visit on D counts, 365 back does not → recent
    ];
    let case = cases(&specs);
    let facts = case.db.begin_read().unwrap().facts().unwrap();
    let status = |i: usize| {
        builtin::owner_status(
            facts.customer(case.ids[i]).unwrap(),
            d(D),
            OwnerStatusParams::default(),
        )
    };
    use OwnerStatus::*;
    let expected = [
        Some(Active),
        Some(Swinging),
        Some(AtRisk),
        Some(Recent),
        Some(AtRisk),
        Some(Churned),
        Some(Churned),
        Some(NewOwner),
        None,
        Some(NewOwner),
        Some(Recent),
    ];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(status(i), *want, "case {i}: {:?}", specs[i]);
    }
    // The 183-day window of the after-sales churn KPI: case 1's visit 200 days back falls out.
    let kpi = OwnerStatusParams {
        window_days: 183,
        recent_days: 90,
    };
    let c1 = facts.customer(case.ids[1]).unwrap();
    assert_eq!(builtin::owner_status(c1, d(D), kpi), Some(Recent));
    assert_eq!(
        builtin::card(facts.customer(case.ids[8]).unwrap(), d(D)),
        Card::A
    );
    assert_eq!(builtin::card(c1, d(D)), Card::C);
}

#[test]
fn windows_slide_with_the_as_of_date_alone() {
    // Three visits; as days pass with no new events the status decays step by step.
    let case = cases(&[(Some(1000), &[0, 30, 60])]);
    let facts = case.db.begin_read().unwrap().facts().unwrap();
    let c = facts.customer(case.ids[0]).unwrap();
    let at =
        |days: i32| builtin::owner_status(c, d(D).add_days(days), OwnerStatusParams::default());
    use OwnerStatus::*;
    assert_eq!(at(0), Some(Active));
    assert_eq!(at(304), Some(Active)); // the oldest visit is 364 days back
    assert_eq!(at(305), Some(Swinging)); // now exactly 365: outside
    assert_eq!(at(335), Some(AtRisk)); // one visit, 335 days back
    assert_eq!(at(365), Some(Churned)); // none in W, visited before
}

#[test]
fn a_sold_vehicle_leaves_the_seller_a_card_and_gives_the_buyer_c_card() {
    let db = Database::in_memory().unwrap();
    let (seller, buyer) = db
        .write(|tx| {
            let seller = tx.insert_customer(&Customer::person("王小明"))?;
            let buyer = tx.insert_customer(&Customer::person("李华"))?;
            let v = tx.insert_vehicle(
                &Vehicle::new(vin(1), "Volkswagen", "Golf"),
                Some((seller, d("2020-01-01"))),
            )?;
            tx.transfer_vehicle(v, buyer, d("2025-01-01"))?;
            Ok((seller, buyer))
        })
        .unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    let s = facts.customer(seller).unwrap();
    let b = facts.customer(buyer).unwrap();
    assert_eq!(builtin::card(s, d("2024-12-31")), Card::C);
    assert_eq!(builtin::card(s, d("2025-01-01")), Card::A);
    assert_eq!(builtin::card(b, d("2025-01-01")), Card::C);
    // The buyer never visited and got the car inside W: a new owner, not churned.
    assert_eq!(
        builtin::owner_status(b, d(D), OwnerStatusParams::default()),
        Some(OwnerStatus::NewOwner)
    );
    let stage =
        |on: &str| builtin::lifecycle_stage(&s.vehicles[0], d(on), LifecycleParams::default());
    assert_eq!(stage("2025-01-01"), LifecycleStage::Gone);
}

#[test]
fn lifecycle_stages_in_order() {
    let db = Database::in_memory().unwrap();
    let c = db
        .write(|tx| {
            let c = tx.insert_customer(&Customer::person("王小明"))?;
            tx.insert_vehicle(
                &Vehicle {
                    purchase_date: Some(d("2020-03-15")),
                    first_service_date: Some(d("2020-09-01")),
                    warranty_end: Some(d("2023-03-15")),
                    ..Vehicle::new(vin(1), "Volkswagen", "Golf")
                },
                Some((c, d("2020-03-15"))),
            )?;
            Ok(c)
        })
        .unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    let v = &facts.customer(c).unwrap().vehicles[0];
    let stage = |on: &str| builtin::lifecycle_stage(v, d(on), LifecycleParams::default());
    assert_eq!(stage("2020-06-14"), LifecycleStage::New); // within 3 months
    assert_eq!(stage("2020-06-15"), LifecycleStage::BeforeFirstService);
    assert_eq!(stage("2020-09-01"), LifecycleStage::InWarranty);
    assert_eq!(stage("2023-03-14"), LifecycleStage::InWarranty);
    assert_eq!(stage("2023-03-15"), LifecycleStage::OutOfWarranty);
    assert_eq!(stage("2025-03-14"), LifecycleStage::OutOfWarranty);
    assert_eq!(stage("2025-03-15"), LifecycleStage::FinalYear); // age 5 of 6
}

#[test]
fn value_tiers_top_twenty_percent_and_upgrade_candidates() {
    let db = Database::in_memory().unwrap();
    let as_of = d(D);
    let ids = db
        .write(|tx| {
            let mut ids = Vec::new();
            for n in 0..10u64 {
                let c = tx.insert_customer(&Customer::person("王小明"))?;
                tx.insert_vehicle(
                    &Vehicle {
                        purchase_date: Some(d("2018-01-01")),
                        ..Vehicle::new(vin(n), "Volkswagen", if n < 5 { "Jetta" } else { "Passat" })
                    },
                    Some((c, d("2018-01-01"))),
                )?;
                // Customer n spends (n + 1) × ¥3,000 over n + 1 service visits this year.
                for k in 0..=n {
                    tx.insert_touchpoint(&Touchpoint {
                        amount: Some(Money::yuan(3_000)),
                        ..Touchpoint::new(
                            as_of.add_days(-(k as i32) * 20).at(9, 0, 0),
                            c,
                            Channel::Showroom,
                            TouchpointKind::ServiceVisit,
                        )
                    })?;
                }
                ids.push(c);
            }
            Ok(ids)
        })
        .unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    let config = LoyaltyConfig::default(); // silver: 2 visits or ¥20,000; gold: ¥100,000…
    let tier = |i: usize| builtin::value_tier(facts.customer(ids[i]).unwrap(), as_of, &config);
    assert_eq!(tier(0), Tier::Normal); // one visit, ¥3,000
    assert_eq!(tier(1), Tier::Silver); // two visits
    assert_eq!(tier(9), Tier::Silver); // ten visits, ¥30,000: not gold
    assert_eq!(
        builtin::contribution(facts.customer(ids[9]).unwrap(), as_of, 365, Money::ZERO),
        Money::yuan(30_000)
    );
    let top = builtin::top_by_contribution(&facts.customers, as_of, 365, Money::ZERO, 20);
    assert_eq!(top, vec![ids[9], ids[8]]);
    let params = UpgradeParams {
        entry_models: vec!["jetta".into()],
        min_age_years: 5,
        min_service_spend: Money::yuan(9_000),
        spend_window_days: 730,
    };
    let candidates: Vec<usize> = (0..10)
        .filter(|&i| builtin::upgrade_candidate(facts.customer(ids[i]).unwrap(), as_of, &params))
        .collect();
    // Jetta owners (0–4) with at least ¥9,000 of service: customers 2, 3 and 4.
    assert_eq!(candidates, vec![2, 3, 4]);
}

#[test]
fn every_c_card_customer_of_a_generated_network_has_exactly_one_status() {
    let db = Database::in_memory().unwrap();
    let net = autocrm_synth::Network::new(autocrm_synth::SynthConfig::new(400));
    net.load(&db, 200, |_| {}).unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    assert_eq!(facts.customers.len(), 400);
    for as_of in ["2023-01-01", "2024-06-30", "2025-12-31"] {
        let as_of = d(as_of);
        let mut by_status = std::collections::HashMap::new();
        for c in &facts.customers {
            let status = builtin::owner_status(c, as_of, OwnerStatusParams::default());
            assert_eq!(status.is_some(), builtin::card(c, as_of) == Card::C);
            *by_status.entry(status).or_insert(0) += 1;
        }
        assert!(by_status.len() >= 3, "{as_of}: {by_status:?}");
    }
}

#[test]
fn customer_sets_combine_and_round_trip() {
    let a: CustomerSet = [1, 2, 3, 1_000_000_000_000]
        .into_iter()
        .map(CustomerId)
        .collect();
    let b: CustomerSet = [2, 3, 4].into_iter().map(CustomerId).collect();
    let ids = |s: &CustomerSet| s.iter().map(|c| c.0).collect::<Vec<_>>();
    assert_eq!(ids(&a.and(&b)), vec![2, 3]);
    assert_eq!(ids(&a.or(&b)), vec![1, 2, 3, 4, 1_000_000_000_000]);
    assert_eq!(ids(&a.minus(&b)), vec![1, 1_000_000_000_000]);
    assert_eq!(CustomerSet::from_bytes(&a.to_bytes()).unwrap(), a);
    assert!(CustomerSet::from_bytes(b"not a bitmap").is_err());
    let facts_select = {
        let db = Database::in_memory().unwrap();
        db.write(|tx| {
            for _ in 0..5 {
                tx.insert_customer(&Customer::person("王小明"))?;
            }
            Ok(())
        })
        .unwrap();
        let facts = db.begin_read().unwrap().facts().unwrap();
        facts.select(|c| c.id.0 % 2 == 1)
    };
    assert_eq!(ids(&facts_select), vec![1, 3, 5]);
}
