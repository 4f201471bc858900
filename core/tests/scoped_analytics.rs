//! Analytics under a scope (`ScopedStore::evaluate`, `ScopedStore::kpi`): a dealer's segment
//! members are customers it sees, its KPI rows count only what it sees, an owner may not run
//! analytics, and each call is audited as an export.

use autocrm::api::{parse_period, ScopedStore, Store};
use autocrm::audit::AuditAction;
use autocrm::kpi::Dimension;
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, synth_store as network};

fn scoped(store: &Store, scope: &str) -> ScopedStore {
    store.scoped(&scope.parse().unwrap(), "tester").unwrap()
}

#[test]
fn a_dealer_segments_and_counts_only_what_it_sees() {
    let store = network(12, 400);
    let code = {
        let r = store.read().unwrap();
        r.with(|r| r.dealers()).unwrap()[0].1.code.clone()
    };
    let dealer = scoped(&store, &format!("dealer:{code}"));
    let owners = dealer
        .evaluate("vehicle_count >= 1", d("2026-06-30"))
        .unwrap();
    let everyone = store
        .read()
        .unwrap()
        .with_facts(|r, f| r.evaluate("vehicle_count >= 1", d("2026-06-30"), f))
        .unwrap();
    assert!(!owners.is_empty() && owners.len() < everyone.len());
    let db = store.database().unwrap();
    let r = db.begin_read().unwrap();
    for id in owners.iter() {
        assert!(dealer.access().sees(&r, id).unwrap(), "customer {id}");
    }
    drop(r);

    let year = parse_period("2025").unwrap();
    let mine = dealer
        .kpi(Kpi::AfterSalesChurn, Dimension::Network, year)
        .unwrap();
    let all = store
        .read()
        .unwrap()
        .with_facts(|_, f| Ok(f.kpi(Kpi::AfterSalesChurn, Dimension::Network, year)))
        .unwrap();
    assert!(mine[0].denominator <= all[0].denominator);
    assert!(mine[0].denominator < all[0].denominator || all[0].denominator == 0.0);

    store.flush_audit().unwrap();
    let log = store
        .read()
        .unwrap()
        .with(|r| r.audit_log(None, None, 100))
        .unwrap();
    for what in ["evaluate", "kpi"] {
        assert!(log
            .iter()
            .any(|e| e.what == what && e.action == AuditAction::Export));
    }
}

#[test]
fn an_owner_may_not_run_analytics() {
    let store = network(13, 50);
    let owner = scoped(&store, "owner:1");
    let e = owner
        .evaluate("vehicle_count >= 1", d("2026-06-30"))
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let e = owner
        .kpi(
            Kpi::Retention,
            Dimension::Dealer,
            parse_period("2025-07").unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
}
