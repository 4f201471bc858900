//! The owner club's calls (core/src/api/owner.rs) under an owner scope: every call answers
//! with the owner's own data only, other scopes are refused, a redemption retried with the same
//! key spends once, a referral retried with the same key creates one lead, and every call is
//! audited.

use autocrm::access::Scope;
use autocrm::api::{ContactUpdate, Referral, ScopedStore, Store};
use autocrm::loyalty::{Adjustment, LoyaltyConfig, Tier, Wallet};
use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, t};

/// Now, on the store's clock.
const NOW: &str = "2024-06-01 10:00";

/// A file with dealer D1, owner `a` (a vehicle with warranty, insurance and inspection dates
/// due soon, a service visit, 500 brand points) and another customer `b` with a vehicle and
/// points of his own.
fn setup() -> (Store, CustomerId, CustomerId) {
    let db = Database::options()
        .clock(Clock::fixed(t(NOW)))
        .in_memory()
        .unwrap();
    let (a, b) = db
        .write(|tx| {
            tx.set_loyalty_config(&LoyaltyConfig::default())?;
            let d1 = tx.insert_dealer(&Dealer {
                code: "D1".into(),
                name: "D1 4S".into(),
                region: "East".into(),
                province: "上海".into(),
                city: "上海".into(),
                kind: DealerKind::FourS,
            })?;
            let mut p = Customer::person("王小明");
            p.phones = vec!["13812345678".into()];
            p.city = Some("上海".into());
            p.address = Some("浦东新区世纪大道100号".into());
            if let Party::Person(x) = &mut p.party {
                x.national_id = Some(fixtures::nid("11010519900101123"));
            }
            let a = tx.insert_customer(&p)?;
            let mut q = Customer::person("李四");
            q.phones = vec!["13900001111".into()];
            let b = tx.insert_customer(&q)?;
            let car = Vehicle {
                purchase_date: Some(d("2023-06-01")),
                warranty_end: Some(d("2024-08-15")),
                insurance_expiry: Some(d("2024-07-10")),
                inspection_due: Some(d("2024-07-20")),
                selling_dealer: Some(d1),
                ..Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Passat")
            };
            tx.insert_vehicle(&car, Some((a, d("2023-06-01"))))?;
            let other = Vehicle::new("WVWZZZ1KZ00000002", "Volkswagen", "Tiguan");
            tx.insert_vehicle(&other, Some((b, d("2023-01-01"))))?;
            let mut visit = Touchpoint::new(
                t("2024-05-01 10:00"),
                a,
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            );
            visit.dealer = Some(d1);
            visit.service_kind = Some(ServiceKind::Maintenance);
            tx.insert_touchpoint(&visit)?;
            for (c, key) in [(a, "welcome-a"), (b, "welcome-b")] {
                tx.join_brand_club(c, d("2024-01-01"), "owner_app")?;
                tx.adjust(&Adjustment {
                    customer: c,
                    wallet: Wallet::Brand,
                    points: 500,
                    at: t("2024-05-01 09:00"),
                    operator: "ops".into(),
                    reason: "welcome".into(),
                    key: key.into(),
                })?;
            }
            Ok((a, b))
        })
        .unwrap();
    (Store::new(db), a, b)
}

fn owner(store: &Store, c: CustomerId) -> ScopedStore {
    store.scoped(&Scope::Owner(c), "app-install-1").unwrap()
}

fn referral(key: &str) -> Referral {
    Referral {
        name: "赵六".into(),
        phone: "13700002222".into(),
        dealer: "D1".into(),
        model: "ID.4".into(),
        key: key.into(),
    }
}

fn brand_points(store: &Store, c: CustomerId) -> i64 {
    store
        .read()
        .unwrap()
        .with(|r| r.balance(c, Wallet::Brand))
        .unwrap()
        .points
}

#[test]
fn the_owner_reads_his_own_club_data() {
    let (store, a, _) = setup();
    let me = owner(&store, a);

    let p = me.my_profile().unwrap();
    assert_eq!(p.id, a);
    assert_eq!(p.customer.phones, vec!["13812345678".to_string()]);
    assert!(p.masked.contains(&"national_id"));
    let Party::Person(person) = &p.customer.party else {
        panic!("a person")
    };
    assert_ne!(
        person.national_id.as_deref(),
        Some(fixtures::nid("11010519900101123").as_str())
    );

    let vs = me.my_vehicles().unwrap();
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].vehicle.warranty_end, Some(d("2024-08-15")));
    assert_eq!(vs[0].vehicle.insurance_expiry, Some(d("2024-07-10")));
    assert_eq!(vs[0].vehicle.inspection_due, Some(d("2024-07-20")));
    assert!(vs[0].ownership.0.iter().all(|o| o.customer == a));

    let page = me.my_history(None, 10).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].1.kind, TouchpointKind::ServiceVisit);
    assert!(page.next.is_none());

    // Lots expire two years after earning: within 800 days, not within 30.
    let w = me.my_points(800).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].wallet, Wallet::Brand);
    assert_eq!(w[0].balance.points, 500);
    assert_eq!(w[0].spendable, 500);
    assert_eq!(w[0].expiring.len(), 1);
    assert_eq!(w[0].expiring[0].1.remaining, 500);
    assert!(me.my_points(30).unwrap()[0].expiring.is_empty());

    // One service visit of two for silver, no spend yet: the gap names both thresholds.
    let tier = me.my_tier().unwrap();
    assert_eq!(tier.status.tier, Tier::Normal);
    let gap = tier.next.unwrap();
    assert_eq!(gap.tier, Tier::Silver);
    assert_eq!(gap.service_visits, Some(1));
    assert_eq!(gap.total_spend, Some(Money::yuan(20_000)));
    assert_eq!(gap.vehicles, None);

    assert_eq!(me.my_benefits().unwrap(), loyalty::Benefits::default());

    // Care reminders due in the next 60 days: inspection and warranty (care); insurance is a
    // marketing offer and waits for a consent.
    let kinds = |me: &ScopedStore| -> Vec<CareKind> {
        me.my_reminders(60)
            .unwrap()
            .iter()
            .map(|r| r.kind)
            .collect()
    };
    let k = kinds(&me);
    assert!(k.contains(&CareKind::AnnualInspection), "{k:?}");
    assert!(k.contains(&CareKind::WarrantyExpiry), "{k:?}");
    assert!(!k.contains(&CareKind::InsuranceRenewal), "{k:?}");
    assert!(me.my_reminders(0).unwrap().is_empty());
    assert_eq!(
        me.my_reminders(10_000).unwrap_err().code(),
        "validation.out_of_range"
    );

    // Consents: none, then granted on every channel, then one withdrawn.
    assert!(me.my_consents().unwrap().iter().all(|(_, on)| !on));
    for ch in ConsentChannel::ALL {
        me.set_my_consent(ch, true).unwrap();
    }
    assert!(kinds(&me).contains(&CareKind::InsuranceRenewal));
    me.set_my_consent(ConsentChannel::Sms, false).unwrap();
    let c = me.my_consents().unwrap();
    assert_eq!(c.len(), ConsentChannel::ALL.len());
    assert!(c.contains(&(ConsentChannel::Sms, false)));
    assert!(c.contains(&(ConsentChannel::App, true)));

    // Contact change through the integration path.
    me.update_my_contact(&ContactUpdate {
        city: Some("苏州".into()),
        ..ContactUpdate::default()
    })
    .unwrap();
    assert_eq!(
        me.my_profile().unwrap().customer.city.as_deref(),
        Some("苏州")
    );
}

#[test]
fn a_redemption_retried_with_the_same_key_spends_once() {
    let (store, a, _) = setup();
    let me = owner(&store, a);
    let at = t("2024-06-01 09:59");
    let first = me
        .redeem_mine(Wallet::Brand, 200, "car wash", "phone-key-1", at)
        .unwrap();
    for _ in 0..3 {
        let again = me
            .redeem_mine(Wallet::Brand, 200, "car wash", "phone-key-1", at)
            .unwrap();
        assert_eq!(again, first);
    }
    assert_eq!(brand_points(&store, a), 300);
    assert_eq!(me.my_points(0).unwrap()[0].balance.points, 300);
    // The same key for another request is a conflict, not a second spend.
    assert_eq!(
        me.redeem_mine(Wallet::Brand, 100, "car wash", "phone-key-1", at)
            .unwrap_err()
            .code(),
        "idempotency_conflict"
    );
    assert_eq!(
        me.redeem_mine(Wallet::Brand, 10_000, "a car", "phone-key-2", at)
            .unwrap_err()
            .code(),
        "insufficient_points"
    );
    assert_eq!(brand_points(&store, a), 300);
}

#[test]
fn a_referral_creates_one_lead_per_key() {
    let (store, a, _) = setup();
    let me = owner(&store, a);
    let lead = me.refer_friend(&referral("ref-1")).unwrap();
    assert_eq!(me.refer_friend(&referral("ref-1")).unwrap(), lead);
    let r = store.read().unwrap();
    let l = r.with(|r| r.lead(lead)).unwrap();
    assert_eq!(l.origin, LeadSource::Referral);
    assert_eq!(l.model, "ID.4");
    assert!(l.dealer.is_some());
    assert_ne!(l.customer, a);
    let friend = r.with(|r| r.customer(l.customer)).unwrap();
    assert_eq!(friend.phones, vec!["13700002222".to_string()]);
    let relations = r.with(|r| r.customer_360(l.customer, 0)).unwrap().relations;
    assert!(relations
        .iter()
        .any(|x| x.kind == RelationKind::ReferredBy && x.to == a));
    assert_eq!(r.with(|r| r.all_leads()).unwrap().len(), 1);
    drop(r);
    // The owner still sees only himself: not the friend.
    assert_eq!(
        me.customer_360(l.customer, 0).unwrap_err().code(),
        "not_found"
    );
    // Bad input.
    let mut bad = referral("ref-2");
    bad.dealer = "NOPE".into();
    assert_eq!(me.refer_friend(&bad).unwrap_err().code(), "not_found");
    assert!(me
        .refer_friend(&referral(""))
        .unwrap_err()
        .code()
        .starts_with("validation."));
    let mut bad = referral("ref-3");
    bad.phone = "123".into();
    assert!(me
        .refer_friend(&bad)
        .unwrap_err()
        .code()
        .starts_with("validation."));
    let mut me_again = referral("ref-4");
    me_again.name = "王小明".into();
    me_again.phone = "13812345678".into();
    assert!(me.refer_friend(&me_again).is_err());
    assert_eq!(
        store.read().unwrap().with(|r| r.all_leads()).unwrap().len(),
        1
    );
}

#[test]
fn other_scopes_are_refused_and_nothing_is_written() {
    let (store, a, _) = setup();
    let admin = store
        .scoped(&Scope::Hq("data_admin".into()), "admin")
        .unwrap();
    let head = admin.audit_head().unwrap();
    let dealer = store.scoped(&Scope::Dealer("D1".into()), "sales").unwrap();
    for s in [&admin, &dealer] {
        let codes = [
            s.my_profile().map(drop),
            s.my_vehicles().map(drop),
            s.my_history(None, 5).map(drop),
            s.my_points(30).map(drop),
            s.my_tier().map(drop),
            s.my_benefits().map(drop),
            s.my_reminders(30).map(drop),
            s.my_consents().map(drop),
            s.set_my_consent(ConsentChannel::Sms, true),
            s.redeem_mine(Wallet::Brand, 1, "x", "k", t(NOW)).map(drop),
            s.refer_friend(&referral("ref-x")).map(drop),
        ];
        for c in codes {
            let e = c.unwrap_err();
            assert_eq!(e.code(), "access_denied", "{e}");
        }
    }
    let e = dealer.refer_friend(&referral("ref-x")).unwrap_err();
    assert!(e.to_string().contains("refer"), "{e}");
    assert_eq!(admin.audit_head().unwrap(), head);
    assert_eq!(brand_points(&store, a), 500);
    assert!(store
        .read()
        .unwrap()
        .with(|r| r.all_leads())
        .unwrap()
        .is_empty());
}

#[test]
fn another_customer_is_not_visible() {
    let (store, a, b) = setup();
    let other = owner(&store, b);
    assert_eq!(other.my_profile().unwrap().id, b);
    let vs = other.my_vehicles().unwrap();
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].vehicle.model, "Tiguan");
    assert!(other.my_history(None, 10).unwrap().items.is_empty());
    assert!(other
        .my_reminders(60)
        .unwrap()
        .iter()
        .all(|r| r.customer == b));
    other
        .redeem_mine(Wallet::Brand, 100, "wash", "b-1", t(NOW))
        .unwrap();
    assert_eq!(brand_points(&store, a), 500);
    assert_eq!(brand_points(&store, b), 400);
    // The owner's generic calls refuse anyone else like a missing customer.
    assert_eq!(other.customer_360(a, 1).unwrap_err().code(), "not_found");
    assert_eq!(other.timeline(a, None, 5).unwrap_err().code(), "not_found");
}

#[test]
fn every_owner_call_is_audited() {
    let (store, a, _) = setup();
    let me = owner(&store, a);
    me.my_profile().unwrap();
    me.my_vehicles().unwrap();
    me.my_points(30).unwrap();
    me.my_tier().unwrap();
    me.my_benefits().unwrap();
    me.my_reminders(30).unwrap();
    me.my_consents().unwrap();
    me.my_history(None, 5).unwrap();
    me.redeem_mine(Wallet::Brand, 1, "pin", "k-1", t(NOW))
        .unwrap();
    me.refer_friend(&referral("r-1")).unwrap();
    let admin = store
        .scoped(&Scope::Hq("data_admin".into()), "admin")
        .unwrap();
    let log = admin.audit_log(Some(a), None, 100).unwrap();
    let whats: Vec<&str> = log.iter().map(|e| e.what.as_str()).collect();
    for w in [
        "my_profile",
        "my_vehicles",
        "my_points",
        "my_tier",
        "my_benefits",
        "my_reminders",
        "my_consents",
        "timeline",
        "redeem",
        "refer_friend",
    ] {
        assert!(whats.contains(&w), "{w} not in {whats:?}");
    }
    assert!(log
        .iter()
        .all(|e| e.scope == format!("owner:{}", a.0) || e.scope.starts_with("hq:")));
    assert!(admin.verify_audit().unwrap().is_intact());
}
