//! Access scopes (docs/access.md) on a generated dealer network: a dealer sees exactly the
//! customers it serves and only its own records of them, an owner only himself, masked fields
//! never leave unmasked, a marketing role loses a customer the moment consent is withdrawn,
//! refused calls write nothing, and every scoped call lands in a verifying audit chain.

use autocrm::access::{served_by, Permission, Role, Scope, Sight};
use autocrm::api::{ContactUpdate, ScopedStore, Store};
use autocrm::loyalty::{Redemption, Wallet};
use autocrm::*;
use proptest::prelude::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{synth_store as network, t};

fn dealers(store: &Store) -> Vec<(DealerId, Dealer)> {
    store.read().unwrap().with(|r| r.dealers()).unwrap()
}

fn customer_ids(store: &Store) -> Vec<CustomerId> {
    store.read().unwrap().with(|r| r.customer_ids()).unwrap()
}

/// Whether `d` serves `c`, computed from the full records (every touchpoint of the timeline,
/// not the rollup's digest the scope uses).
fn serves(store: &Store, d: DealerId, c: CustomerId) -> bool {
    store
        .read()
        .unwrap()
        .with(|r| {
            let all = r.timeline(c, None, usize::MAX)?;
            let vehicles = r.vehicles_of(c)?;
            let leads = r.leads_of(c)?;
            let complaints = r.complaints_of(c)?;
            let surveys = r.surveys_of(c)?;
            Ok(all.items.iter().any(|(_, t)| t.dealer == Some(d))
                || served_by(
                    d,
                    &Rollup::default(),
                    vehicles.iter().map(|v| &v.vehicle),
                    leads.iter().map(|(_, l)| l),
                    complaints.iter().map(|(_, x)| x),
                    surveys.iter().map(|(_, s)| s),
                ))
        })
        .unwrap()
}

fn full(store: &Store, c: CustomerId) -> Customer {
    store.read().unwrap().with(|r| r.customer(c)).unwrap()
}

/// No value of `c` that `sight` masks may appear in `out`: national ID or credit code, and
/// (unless seen) phones and the street address.
fn assert_hidden(out: &str, c: &Customer, sight: Sight) {
    let mut secrets: Vec<&str> = match &c.party {
        Party::Person(p) => p.national_id.iter().map(String::as_str).collect(),
        Party::Organisation(o) => o.credit_code.iter().map(String::as_str).collect(),
    };
    assert!(!sight.national_id);
    if !sight.address {
        secrets.extend(c.address.as_deref());
    }
    if !sight.phone {
        secrets.extend(c.phones.iter().map(String::as_str));
    }
    for s in secrets {
        assert!(!out.contains(s), "{s:?} leaked");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// For random networks: a dealer's view of every customer agrees with the definition of
    /// "served", shows only the dealer's own records, and never shows a national ID, credit
    /// code or address unmasked; lookups return only served customers.
    #[test]
    fn a_dealer_sees_exactly_the_customers_it_serves(seed in 0u64..1_000) {
        let store = network(seed, 120);
        let ids = customer_ids(&store);
        for (d, dealer) in dealers(&store) {
            let s = store.scoped(&Scope::Dealer(dealer.code.clone()), "tester").unwrap();
            let mut seen = 0;
            for &c in &ids {
                let expected = serves(&store, d, c);
                match s.customer_360(c, 50) {
                    Ok(v) => {
                        prop_assert!(expected, "dealer {d} saw customer {c} it does not serve");
                        seen += 1;
                        prop_assert!(v.timeline.items.iter().all(|(_, t)| t.dealer == Some(d)));
                        prop_assert!(v.leads.iter().all(|(_, l)| l.dealer == Some(d)));
                        prop_assert!(v.complaints.iter().all(|(_, x)| x.dealer == Some(d)));
                        prop_assert!(v.surveys.iter().all(|(_, x)| x.dealer == Some(d)));
                        prop_assert!(v.relations.is_empty() && v.lineage.is_empty());
                        for o in v.current_vehicles.iter().chain(&v.past_vehicles) {
                            prop_assert!(o.ownership.0.iter().all(|p| p.customer == c));
                        }
                        let own = v.rollup.events.iter().all(|e| e.dealer == Some(d));
                        prop_assert!(own, "another dealer's events in the rollup");
                        assert_hidden(&format!("{v:?}"), &full(&store, c), s.access().sight());
                    }
                    Err(e) => {
                        prop_assert_eq!(e.code(), "not_found");
                        prop_assert!(!expected, "dealer {} was refused its customer {}", d, c);
                    }
                }
                let real = full(&store, c);
                if let Some(phone) = real.phones.first() {
                    let hits = s.find(&CustomerKey::Phone(phone.clone())).unwrap();
                    for h in hits {
                        prop_assert!(serves(&store, d, h), "lookup revealed customer {h}");
                    }
                }
            }
            prop_assert!(seen > 0, "dealer {} serves nobody in this network", d);
            let facts = s.facts().unwrap();
            for f in &facts.customers {
                prop_assert!(serves(&store, d, f.id));
                prop_assert!(f.rollup.events.iter().all(|e| e.dealer == Some(d)));
                assert_hidden(&format!("{:?}", f.customer), &full(&store, f.id), s.access().sight());
            }
            prop_assert_eq!(facts.customers.len(), seen);
        }
    }

    /// An owner sees himself and nobody else, whatever key he tries.
    #[test]
    fn an_owner_sees_only_himself(seed in 0u64..1_000, pick in 0usize..60) {
        let store = network(seed, 60);
        let ids = customer_ids(&store);
        let me = ids[pick % ids.len()];
        let s = store.scoped(&Scope::Owner(me), "owner-app").unwrap();
        let v = s.customer_360(me, 10).unwrap();
        prop_assert_eq!(v.id, me);
        prop_assert!(v.relations.is_empty());
        for &other in ids.iter().filter(|&&c| c != me) {
            prop_assert_eq!(s.customer_360(other, 10).unwrap_err().code(), "not_found");
            prop_assert_eq!(s.timeline(other, None, 10).unwrap_err().code(), "not_found");
            for phone in full(&store, other).phones {
                let hits = s.find(&CustomerKey::Phone(phone)).unwrap();
                prop_assert!(hits.iter().all(|&h| h == me));
            }
        }
        prop_assert_eq!(s.facts().unwrap_err().code(), "access_denied");
    }
}

fn small() -> (Store, CustomerId, CustomerId, DealerId) {
    let db = Database::in_memory().unwrap();
    let (a, b, d1) = db
        .write(|tx| {
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
            p.province = Some("上海".into());
            p.city = Some("上海".into());
            p.address = Some("浦东新区世纪大道100号".into());
            if let Party::Person(x) = &mut p.party {
                x.national_id = Some(fixtures::nid("11010519900101123"));
                x.birth_date = Some(fixtures::d("1990-01-01"));
            }
            let a = tx.insert_customer(&p)?;
            let b = tx.insert_customer(&Customer::person("李四"))?;
            let mut tp = Touchpoint::new(
                t("2024-05-01 10:00"),
                a,
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            );
            tp.dealer = Some(d1);
            tp.service_kind = Some(ServiceKind::Maintenance);
            tx.insert_touchpoint(&tp)?;
            Ok((a, b, d1))
        })
        .unwrap();
    (Store::new(db), a, b, d1)
}

fn admin(store: &Store) -> ScopedStore {
    store
        .scoped(&Scope::Hq("data_admin".into()), "admin")
        .unwrap()
}

#[test]
fn unknown_scopes_are_typed_errors() {
    let (store, ..) = small();
    for scope in ["hq:nobody", "dealer:NOPE", "owner:999"] {
        let e = store
            .scoped(&scope.parse().unwrap(), "x")
            .err()
            .expect(scope);
        assert_eq!(e.code(), "unknown_scope", "{scope}");
        assert!(e.to_string().contains(scope), "{e}");
    }
    let e = "bogus".parse::<Scope>().unwrap_err();
    assert_eq!(e.code(), "unknown_scope");
    let e = store
        .scoped(&Scope::Hq("call_centre".into()), " ")
        .err()
        .unwrap();
    assert_eq!(e.code(), "validation.required");
}

#[test]
fn masks_follow_the_role() {
    let (store, a, ..) = small();
    let analyst = store
        .scoped(&Scope::Hq("crm_analyst".into()), "ana")
        .unwrap();
    let v = analyst.customer_360(a, 10).unwrap();
    let Party::Person(p) = &v.customer.party else {
        panic!()
    };
    assert_eq!(
        p.national_id.as_deref(),
        Some("110***********1234").map(|_| {
            let full = fixtures::nid("11010519900101123");
            // first three and last four kept
            Box::leak(format!("110***********{}", &full[14..]).into_boxed_str()) as &str
        })
    );
    assert_eq!(v.customer.phones, vec!["138****5678".to_string()]);
    assert_eq!(v.customer.address, None);
    assert_eq!(v.customer.city.as_deref(), Some("上海"));
    assert_eq!(p.birth_date, Some(fixtures::d("1990-01-01")));
    assert_eq!(
        v.masked,
        vec!["national_id", "birth_date", "phones", "address"]
    );
    let v = admin(&store).customer_360(a, 10).unwrap();
    assert!(v.masked.is_empty());
    assert_eq!(v.customer.phones, vec!["13812345678".to_string()]);
}

#[test]
fn refused_writes_write_nothing_and_name_scope_and_permission() {
    let (store, a, b, d1) = small();
    let head = admin(&store).audit_head().unwrap();
    let analyst = store
        .scoped(&Scope::Hq("crm_analyst".into()), "ana")
        .unwrap();
    let tp = Touchpoint::new(
        t("2024-06-01 09:00"),
        a,
        Channel::PhoneOut,
        TouchpointKind::Callback,
    );
    let e = analyst.add_touchpoint(&tp).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(
        e.to_string().contains("hq:crm_analyst") && e.to_string().contains("write_touchpoints")
    );
    // A dealer writing for another dealer, or for a customer it does not serve.
    let dealer = store.scoped(&Scope::Dealer("D1".into()), "sales").unwrap();
    let mut other = tp.clone();
    other.dealer = Some(DealerId(d1.0 + 7));
    assert_eq!(
        dealer.add_touchpoint(&other).unwrap_err().code(),
        "access_denied"
    );
    let mut stranger = tp.clone();
    stranger.customer = b;
    assert_eq!(
        dealer.add_touchpoint(&stranger).unwrap_err().code(),
        "not_found"
    );
    // An owner may not write touchpoints nor change someone else's consent.
    let owner = store.scoped(&Scope::Owner(a), "app").unwrap();
    assert_eq!(
        owner.add_touchpoint(&tp).unwrap_err().code(),
        "access_denied"
    );
    assert_eq!(
        owner
            .record_consent(b, ConsentChannel::Sms, true)
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        dealer
            .update_my_contact(&ContactUpdate::default())
            .unwrap_err()
            .code(),
        "access_denied"
    );
    let r = store.read().unwrap();
    assert_eq!(r.with(|r| r.touchpoint_count()).unwrap(), 1);
    assert_eq!(r.with(|r| r.consents(b)).unwrap(), Consents::default());
    drop(r);
    // Nothing was audited either: refused calls wrote nothing.
    assert_eq!(admin(&store).audit_head().unwrap(), head);
    // The dealer's own touchpoint goes in, stamped with the dealer.
    let id = dealer.add_touchpoint(&tp).unwrap();
    let stored = store.read().unwrap().with(|r| r.touchpoint(id)).unwrap();
    assert_eq!(stored.dealer, Some(d1));
}

#[test]
fn marketing_loses_a_customer_the_moment_consent_is_withdrawn() {
    let (store, a, ..) = small();
    let marketing = store.scoped(&Scope::Hq("marketing".into()), "mkt").unwrap();
    assert_eq!(
        marketing.customer_360(a, 1).unwrap_err().code(),
        "not_found"
    );
    let owner = store.scoped(&Scope::Owner(a), "app").unwrap();
    owner.record_consent(a, ConsentChannel::Sms, true).unwrap();
    let v = marketing.customer_360(a, 1).unwrap();
    assert!(v.masked.contains(&"national_id"));
    assert_eq!(marketing.facts().unwrap().customers.len(), 1);
    owner.record_consent(a, ConsentChannel::Sms, false).unwrap();
    assert_eq!(
        marketing.customer_360(a, 1).unwrap_err().code(),
        "not_found"
    );
    assert!(marketing.facts().unwrap().customers.is_empty());
}

#[test]
fn an_owner_changes_his_contact_through_the_integration_path() {
    let (store, a, ..) = small();
    let owner = store.scoped(&Scope::Owner(a), "app-install-1").unwrap();
    owner
        .update_my_contact(&ContactUpdate {
            phones: Some(vec!["13912345678".into()]),
            city: Some("苏州".into()),
            ..ContactUpdate::default()
        })
        .unwrap();
    let v = admin(&store).customer_360(a, 1).unwrap();
    // Phones from sources add up (each with its lineage); the new one is there.
    assert!(v.customer.phones.contains(&"13912345678".to_string()));
    assert_eq!(v.customer.city.as_deref(), Some("苏州"));
    assert!(v
        .lineage
        .iter()
        .any(|l| l.field.name() == "phones" && l.source.system == "app"));
    let bad = owner.update_my_contact(&ContactUpdate {
        phones: Some(vec!["123".into()]),
        ..ContactUpdate::default()
    });
    assert!(bad.unwrap_err().code().starts_with("validation."));
}

#[test]
fn redemption_by_an_owner_spends_once_per_key() {
    let (store, a, _, d1) = small();
    store
        .write()
        .and_then(|w| {
            w.with(|t| {
                t.set_loyalty_config(&autocrm::loyalty::LoyaltyConfig::default())?;
                t.join_brand_club(a, fixtures::d("2024-01-01"), "owner_app")?;
                t.adjust(&autocrm::loyalty::Adjustment {
                    customer: a,
                    wallet: Wallet::Brand,
                    points: 500,
                    at: t_now(),
                    operator: "ops".into(),
                    reason: "welcome".into(),
                    key: "welcome-a".into(),
                })
                .map(drop)
            })?;
            w.commit()
        })
        .unwrap();
    let owner = store.scoped(&Scope::Owner(a), "app").unwrap();
    let r = Redemption {
        customer: a,
        wallet: Wallet::Brand,
        points: 200,
        at: t_now(),
        dealer: Some(d1),
        item: "car wash".into(),
        key: "phone-1".into(),
    };
    let first = owner.redeem(&r).unwrap();
    assert_eq!(owner.redeem(&r).unwrap(), first);
    let bal = store
        .read()
        .unwrap()
        .with(|x| x.balance(a, Wallet::Brand))
        .unwrap();
    assert_eq!(bal.points, 300);
}

fn t_now() -> DateTime {
    t("2024-06-01 10:00")
}

#[test]
fn every_scoped_call_is_in_a_verifying_chain() {
    let (store, a, _, _) = small();
    let dealer = store
        .scoped(&Scope::Dealer("D1".into()), "sales-1")
        .unwrap()
        .with_purpose("service reminder")
        .unwrap();
    dealer
        .find(&CustomerKey::Phone("13812345678".into()))
        .unwrap();
    dealer.customer_360(a, 5).unwrap();
    dealer.timeline(a, None, 5).unwrap();
    let miss = dealer
        .find(&CustomerKey::Phone("13900000000".into()))
        .unwrap();
    assert!(miss.is_empty());
    let admin = admin(&store);
    let log = admin.audit_log(Some(a), None, 100).unwrap();
    let what: Vec<&str> = log.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(what, ["find", "customer_360", "timeline"]);
    assert!(log.iter().all(|e| e.scope == "dealer:D1"
        && e.actor == "sales-1"
        && e.purpose.as_deref() == Some("service reminder")));
    let v = admin.verify_audit().unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.entries, 3);
    // Only a scope with read_audit may read the trail.
    assert_eq!(
        dealer.audit_log(None, None, 10).unwrap_err().code(),
        "access_denied"
    );
    // Reads queued when the last handle drops are appended, not lost.
    let path = tempfile::tempdir().unwrap();
    let file = path.path().join("a.redb");
    {
        let db = Database::open(&file).unwrap();
        let c = db
            .write(|tx| tx.insert_customer(&Customer::person("赵六")))
            .unwrap();
        let store = Store::new(db);
        let s = store.scoped(&Scope::Owner(c), "app").unwrap();
        s.customer_360(c, 1).unwrap();
    }
    let store = Store::new(Database::open(&file).unwrap());
    let v = admin_verify(&store);
    assert_eq!(v, 1);
}

fn admin_verify(store: &Store) -> u64 {
    let v = admin(store).verify_audit().unwrap();
    assert!(v.is_intact());
    v.entries
}

#[test]
fn roles_are_stored_configuration() {
    let (store, a, ..) = small();
    let admin = admin(&store);
    admin
        .set_role(
            "auditor",
            Some(&Role {
                permissions: vec![Permission::ReadAudit],
                consented_channel: None,
            }),
        )
        .unwrap();
    let auditor = store.scoped(&Scope::Hq("auditor".into()), "aud").unwrap();
    assert!(auditor.verify_audit().unwrap().is_intact());
    assert_eq!(
        auditor.customer_360(a, 1).unwrap_err().code(),
        "access_denied"
    );
    let e = auditor.set_role("x", None).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(e.to_string().contains("manage_roles"));
    admin.set_role("auditor", None).unwrap();
    assert_eq!(
        store
            .scoped(&Scope::Hq("auditor".into()), "aud")
            .err()
            .unwrap()
            .code(),
        "unknown_scope"
    );
}

#[test]
fn a_dealer_writes_leads_and_complaints_as_its_own() {
    let (store, a, b, d1) = small();
    let dealer = store.scoped(&Scope::Dealer("D1".into()), "desk").unwrap();
    let lead = dealer.add_lead(&fixtures::lead(a)).unwrap();
    let complaint = dealer.add_complaint(&fixtures::complaint(a)).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.with(|r| r.lead(lead)).unwrap().dealer, Some(d1));
    assert_eq!(r.with(|r| r.complaint(complaint)).unwrap().dealer, Some(d1));
    // Another dealer's record, a customer it does not serve, an owner: refused, nothing written.
    let w = store.write().unwrap();
    let d2 = w
        .with(|tx| tx.insert_dealer(&fixtures::dealer("D2")))
        .unwrap();
    w.commit().unwrap();
    let theirs = Lead {
        dealer: Some(d2),
        ..fixtures::lead(a)
    };
    let e = dealer.add_lead(&theirs).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let e = dealer.add_complaint(&fixtures::complaint(b)).unwrap_err();
    assert_eq!(e.code(), "not_found");
    let owner = store.scoped(&Scope::Owner(a), "app").unwrap();
    let e = owner.add_lead(&fixtures::lead(a)).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let r = store.read().unwrap();
    assert_eq!(r.with(|r| r.leads_of(a)).unwrap().len(), 1);
    assert_eq!(r.with(|r| r.complaints_of(b)).unwrap().len(), 0);
    let log = admin(&store).audit_log(Some(a), None, 100).unwrap();
    let writes: Vec<&str> = log.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(writes, ["add_lead", "add_complaint"]);
}
