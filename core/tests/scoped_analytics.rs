//! Segments, KPIs and care actions under a scope (docs/access.md): a dealer's figures are its
//! own customers' and its own records', an owner may run none, and every call that names
//! customers is audited with exactly those customers.

use std::collections::BTreeSet;

use autocrm::access::Scope;
use autocrm::api::{ScopedStore, Store};
use autocrm::kpi::{Dimension, Period};
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, synth_store};

const RULE: &str = "province != \"nowhere\"";

fn dealer(store: &Store, code: &str) -> ScopedStore {
    store.scoped(&Scope::Dealer(code.into()), "portal").unwrap()
}

fn admin(store: &Store) -> ScopedStore {
    store
        .scoped(&Scope::Hq("data_admin".into()), "auditor")
        .unwrap()
}

#[test]
fn a_dealers_segments_and_kpis_cover_its_own_customers_only() {
    let store = synth_store(7, 300);
    let as_of = d("2026-06-30");
    let everyone = store
        .read()
        .unwrap()
        .with_facts(|r, f| r.evaluate(RULE, as_of, f))
        .unwrap();
    let dealers = store.read().unwrap().with(|r| r.dealers()).unwrap();
    let period = Period::year(2025).unwrap();
    let network = store
        .read()
        .unwrap()
        .with_facts(|_, f| Ok(f.kpi(Kpi::AfterSalesChurn, Dimension::Network, period)))
        .unwrap();
    let (mut differs, mut actions_seen) = (false, 0);
    for (id, dl) in &dealers {
        let s = dealer(&store, &dl.code);
        let facts = s.facts().unwrap();
        let served: BTreeSet<CustomerId> = facts.customers.iter().map(|c| c.id).collect();
        assert!(!served.is_empty() && served.len() < everyone.len() as usize);

        // A profile rule: the dealer's members are the network's members it serves.
        let members: BTreeSet<CustomerId> = s.evaluate(RULE, as_of).unwrap().iter().collect();
        let expected: BTreeSet<CustomerId> =
            everyone.iter().filter(|c| served.contains(c)).collect();
        assert_eq!(members, expected, "dealer {}", dl.code);

        // KPIs run on the dealer's facts, not the network's.
        let rows = s
            .kpi(Kpi::AfterSalesChurn, Dimension::Network, &[period])
            .unwrap();
        assert_eq!(
            rows,
            facts.kpi(Kpi::AfterSalesChurn, Dimension::Network, period)
        );
        differs |= rows != network;

        // Several periods (a year by month) on one snapshot, in order.
        let months: Vec<Period> = (1..=12).map(|m| Period::month(2025, m).unwrap()).collect();
        let by_month = s
            .kpi(Kpi::AfterSalesChurn, Dimension::Dealer, &months)
            .unwrap();
        let expected: Vec<KpiRow> = months
            .iter()
            .flat_map(|&m| facts.kpi(Kpi::AfterSalesChurn, Dimension::Dealer, m))
            .collect();
        assert_eq!(by_month, expected);

        // Care actions: only for customers it serves, and only its own.
        let actions = s
            .due_actions(d("2026-01-01"), d("2026-12-31"), &CareParams::default())
            .unwrap();
        assert!(actions.iter().all(|a| served.contains(&a.customer)));
        assert!(actions.iter().all(|a| a.dealer == Some(*id)));
        actions_seen += actions.len();
    }
    assert!(differs, "every dealer's churn equals the network's");
    assert!(actions_seen > 0, "no care action due in 2026");
}

#[test]
fn scoped_analytics_are_audited_with_the_customers_they_name() {
    let store = synth_store(11, 120);
    let code = store.read().unwrap().with(|r| r.dealers()).unwrap()[0]
        .1
        .code
        .clone();
    let s = dealer(&store, &code);
    let members: Vec<CustomerId> = s.evaluate(RULE, d("2026-06-30")).unwrap().iter().collect();
    s.kpi(
        Kpi::AfterSalesChurn,
        Dimension::Network,
        &[Period::year(2025).unwrap()],
    )
    .unwrap();
    store.flush_audit().unwrap();
    let log = admin(&store).audit_log(None, None, 1000).unwrap();
    let rule: Vec<_> = log.iter().filter(|e| e.what == "segment rule").collect();
    let named: Vec<CustomerId> = rule.iter().flat_map(|e| e.customers.clone()).collect();
    assert_eq!(named, members);
    let kpi = log
        .iter()
        .find(|e| e.what == "kpi after_sales_churn")
        .unwrap();
    assert!(kpi.customers.is_empty() && kpi.scope == format!("dealer:{code}"));
    assert!(admin(&store).verify_audit().unwrap().is_intact());
}

#[test]
fn an_owner_runs_no_analytics_and_nothing_is_audited() {
    let store = synth_store(3, 20);
    let me = store.read().unwrap().with(|r| r.customer_ids()).unwrap()[0];
    let s = store.scoped(&Scope::Owner(me), "app").unwrap();
    let year = Period::year(2025).unwrap();
    for err in [
        s.kpi(Kpi::AfterSalesChurn, Dimension::Network, &[year])
            .unwrap_err(),
        s.evaluate(RULE, d("2026-06-30")).unwrap_err(),
        s.evaluate_segment("loyal", d("2026-06-30")).unwrap_err(),
        s.due_actions(d("2026-01-01"), d("2026-02-01"), &CareParams::default())
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "access_denied", "{err}");
        assert!(err.to_string().contains("analytics"), "{err}");
    }
    store.flush_audit().unwrap();
    assert_eq!(admin(&store).verify_audit().unwrap().entries, 0);
}
