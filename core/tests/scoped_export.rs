//! Scoped Arrow exports (`ScopedStore::*_table`, docs/access.md "Scoped exports"): a dealer's
//! tables hold only the customers it serves and only its own records, masked columns never
//! hold an unmasked value, a marketing export follows consent from one export to the next, a
//! scope without `export` is refused with nothing audited, and every export is audited naming
//! the customers it holds.

use std::collections::BTreeSet;

use autocrm::access::{mask_birth_date, mask_id, mask_phone, served_by, Sight};
use autocrm::api::{ScopedStore, Store};
use autocrm::audit::AuditAction;
use autocrm::export::{self, arrow_array};
use autocrm::*;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{synth_store as network, t};

fn scoped(store: &Store, scope: &str) -> ScopedStore {
    store.scoped(&scope.parse().unwrap(), "tester").unwrap()
}

fn admin(store: &Store) -> ScopedStore {
    scoped(store, "hq:data_admin")
}

/// The values of u64 column `name` of `batches`, in row order.
fn u64s(batches: &[RecordBatch], name: &str) -> Vec<u64> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name(name).unwrap().as_primitive::<UInt64Type>();
            c.values().to_vec()
        })
        .collect()
}

/// The values of u32 column `name` (null as `None`).
fn u32s(b: &RecordBatch, name: &str) -> Vec<Option<u32>> {
    let c = b.column_by_name(name).unwrap().as_primitive::<UInt32Type>();
    (0..c.len())
        .map(|i| c.is_valid(i).then(|| c.value(i)))
        .collect()
}

/// Whether `d` serves `c`, computed from the full records (every touchpoint of the timeline,
/// not the rollup digest the scope judges on).
fn serves(r: &ReadTxn, d: DealerId, c: CustomerId) -> bool {
    let all = r.timeline(c, None, usize::MAX).unwrap();
    let vehicles = r.vehicles_of(c).unwrap();
    let leads = r.leads_of(c).unwrap();
    let complaints = r.complaints_of(c).unwrap();
    let surveys = r.surveys_of(c).unwrap();
    all.items.iter().any(|(_, t)| t.dealer == Some(d))
        || served_by(
            d,
            &Rollup::default(),
            vehicles.iter().map(|v| &v.vehicle),
            leads.iter().map(|(_, l)| l),
            complaints.iter().map(|(_, x)| x),
            surveys.iter().map(|(_, s)| s),
        )
}

/// Every masked column of a customers table against the raw records: what the scope may not
/// see is the mask of the stored value, never the stored value itself, in any text column.
fn assert_masked(store: &Store, batches: &[RecordBatch], sight: Sight) {
    let r = store.database().unwrap().begin_read().unwrap();
    let mut checked = 0;
    for b in batches {
        let ids = b.column_by_name("id").unwrap().as_primitive::<UInt64Type>();
        let nid = b.column_by_name("national_id").unwrap().as_string::<i32>();
        let cc = b.column_by_name("credit_code").unwrap().as_string::<i32>();
        let birth = b
            .column_by_name("birth_date")
            .unwrap()
            .as_primitive::<Date32Type>();
        let phones = b.column_by_name("phones").unwrap().as_list::<i32>();
        for row in 0..b.num_rows() {
            let raw = r.customer(CustomerId(ids.value(row))).unwrap();
            let mut secrets = Vec::new();
            match &raw.party {
                Party::Person(p) => {
                    if let Some(id) = &p.national_id {
                        assert_eq!(nid.value(row), mask_id(id));
                        secrets.push(id.clone());
                        checked += 1;
                    }
                    if let Some(day) = p.birth_date {
                        let want = if sight.birth_date {
                            day
                        } else {
                            mask_birth_date(day)
                        };
                        assert_eq!(birth.value(row), want.days());
                    }
                }
                Party::Organisation(o) => {
                    if let Some(code) = &o.credit_code {
                        assert_eq!(cc.value(row), mask_id(code));
                        secrets.push(code.clone());
                        checked += 1;
                    }
                }
            }
            let shown = phones.value(row);
            let shown = shown.as_string::<i32>();
            let shown: Vec<&str> = (0..shown.len()).map(|i| shown.value(i)).collect();
            let want: Vec<String> = if sight.phone {
                raw.phones.clone()
            } else {
                secrets.extend(raw.phones.iter().cloned());
                raw.phones.iter().map(|p| mask_phone(p)).collect()
            };
            assert_eq!(shown, want);
            // No string column of the row holds a hidden value.
            for col in b.columns() {
                let text = format!("{:?}", col.slice(row, 1));
                for s in &secrets {
                    assert!(!text.contains(s.as_str()), "{s:?} leaked in {text}");
                }
            }
        }
    }
    assert!(checked > 0, "no national ID or credit code was checked");
}

#[test]
fn a_dealer_exports_only_its_customers_and_its_own_records() {
    for seed in [3, 41] {
        let store = network(seed, 120);
        let r = store.database().unwrap().begin_read().unwrap();
        let all_ids = r.customer_ids().unwrap();
        let all_tp = export::touchpoints(&r, None).unwrap();
        let all_leads = export::leads(&r).unwrap();
        let all_complaints = export::complaints(&r).unwrap();
        let all_surveys = export::surveys(&r).unwrap();
        let dealers = r.dealers().unwrap();
        for (d, dealer) in &dealers {
            let s = scoped(&store, &format!("dealer:{}", dealer.code));
            let served: BTreeSet<u64> = all_ids
                .iter()
                .filter(|&&c| serves(&r, *d, c))
                .map(|c| c.0)
                .collect();
            assert!(!served.is_empty(), "dealer {d} serves nobody");

            let customers = s.customers_table(Some(2)).unwrap();
            assert!(customers
                .iter()
                .all(|b| b.schema() == export::customers_schema()));
            let got: BTreeSet<u64> = u64s(&customers, "id").into_iter().collect();
            assert_eq!(got, served, "dealer {d}'s customers");
            assert_masked(&store, &customers, s.access().sight());

            // Its own touchpoints, all of them, and nobody else's.
            let tp = s.touchpoints_table(None).unwrap();
            assert_eq!(tp.schema(), export::touchpoints_schema());
            assert!(u32s(&tp, "dealer").iter().all(|&x| x == Some(d.0)));
            let own = u32s(&all_tp, "dealer")
                .iter()
                .filter(|&&x| x == Some(d.0))
                .count();
            assert_eq!(tp.num_rows(), own);
            assert!(u64s(&[tp], "customer").iter().all(|c| served.contains(c)));

            for (mine, all) in [
                (s.leads_table().unwrap(), &all_leads),
                (s.complaints_table().unwrap(), &all_complaints),
                (s.surveys_table().unwrap(), &all_surveys),
            ] {
                assert_eq!(mine.schema(), all.schema());
                assert!(u32s(&mine, "dealer").iter().all(|&x| x == Some(d.0)));
                let own = u32s(all, "dealer")
                    .iter()
                    .filter(|&&x| x == Some(d.0))
                    .count();
                assert_eq!(mine.num_rows(), own);
            }

            // Vehicles and ownership periods name only customers it serves.
            let vehicles = s.vehicles_table().unwrap();
            assert_eq!(vehicles.schema(), export::vehicles_schema());
            let owners = vehicles
                .column_by_name("owner")
                .unwrap()
                .as_primitive::<UInt64Type>();
            assert!(owners.iter().flatten().all(|c| served.contains(&c)));
            let periods = s.ownership_table().unwrap();
            let named: BTreeSet<u64> = u64s(&[periods], "customer").into_iter().collect();
            assert!(named.is_subset(&served));
            assert!(!named.is_empty(), "dealer {d}'s customers own no vehicle");
        }
    }
}

#[test]
fn an_analyst_exports_everyone_masked_and_an_owner_may_not_export() {
    let store = network(7, 80);
    let analyst = scoped(&store, "hq:crm_analyst");
    let batches = analyst.customers_table(None).unwrap();
    let r = store.database().unwrap().begin_read().unwrap();
    let everyone: Vec<u64> = r.customer_ids().unwrap().iter().map(|c| c.0).collect();
    assert_eq!(u64s(&batches, "id"), everyone);
    assert_masked(&store, &batches, analyst.access().sight());
    // The unscoped export of the same snapshot is unmasked: the masks are the scope's.
    let raw = export::customers(&r, None).unwrap();
    assert_ne!(raw, batches);
    // An HQ role that sees everyone gets every vehicle and every period.
    assert_eq!(
        analyst.ownership_table().unwrap(),
        export::ownership(&r).unwrap()
    );
    assert_eq!(
        analyst.vehicles_table().unwrap(),
        export::vehicles(&r).unwrap()
    );

    let owner = scoped(&store, &format!("owner:{}", everyone[0]));
    let e = owner.customers_table(None).unwrap_err();
    assert_eq!(e.code(), "access_denied");
}

/// Two customers, one with a national ID, a phone and a touchpoint; neither has consented.
fn small() -> (Store, CustomerId, CustomerId) {
    let db = Database::in_memory().unwrap();
    let (a, b) = db
        .write(|tx| {
            let mut p = Customer::person("王小明");
            p.phones = vec!["13812345678".into()];
            p.city = Some("上海".into());
            if let Party::Person(x) = &mut p.party {
                x.national_id = Some(fixtures::nid("11010519900101123"));
                x.birth_date = Some(fixtures::d("1990-07-15"));
            }
            let a = tx.insert_customer(&p)?;
            let mut q = Customer::person("李四");
            q.phones = vec!["13900001111".into()];
            let b = tx.insert_customer(&q)?;
            for c in [a, b] {
                tx.insert_touchpoint(&Touchpoint::new(
                    t("2024-05-01 10:00"),
                    c,
                    Channel::PhoneOut,
                    TouchpointKind::Enquiry,
                ))?;
            }
            Ok((a, b))
        })
        .unwrap();
    (Store::new(db), a, b)
}

#[test]
fn a_marketing_export_follows_consent_from_one_export_to_the_next() {
    let (store, a, b) = small();
    let marketing = scoped(&store, "hq:marketing");
    let centre = scoped(&store, "hq:call_centre");
    let exported = |m: &ScopedStore| -> (Vec<u64>, Vec<u64>) {
        let c = m.customers_table(None).unwrap();
        let tp = m.touchpoints_table(None).unwrap();
        (u64s(&c, "id"), u64s(&[tp], "customer"))
    };
    assert_eq!(exported(&marketing), (vec![], vec![]));

    centre.record_consent(a, ConsentChannel::Sms, true).unwrap();
    assert_eq!(exported(&marketing), (vec![a.0], vec![a.0]));
    // Marketing sees phones, not national IDs nor full birth dates.
    let batch = &marketing.customers_table(None).unwrap()[0];
    let nid = batch.column_by_name("national_id").unwrap();
    assert_eq!(
        nid.as_string::<i32>().value(0),
        mask_id(&fixtures::nid("11010519900101123"))
    );
    let birth = batch.column_by_name("birth_date").unwrap();
    let birth = birth.as_primitive::<Date32Type>().value(0);
    assert_eq!(birth, fixtures::d("1990-01-01").days());
    assert_masked(
        &store,
        std::slice::from_ref(batch),
        marketing.access().sight(),
    );

    // A withdrawal takes him out of the very next export; another grant brings him back.
    centre
        .record_consent(a, ConsentChannel::Sms, false)
        .unwrap();
    assert_eq!(exported(&marketing), (vec![], vec![]));
    centre.record_consent(b, ConsentChannel::Sms, true).unwrap();
    assert_eq!(exported(&marketing), (vec![b.0], vec![b.0]));
    centre.record_consent(a, ConsentChannel::Sms, true).unwrap();
    assert_eq!(exported(&marketing), (vec![a.0, b.0], vec![a.0, b.0]));
    // Consent for another channel does not count.
    centre
        .record_consent(a, ConsentChannel::Sms, false)
        .unwrap();
    centre
        .record_consent(a, ConsentChannel::Email, true)
        .unwrap();
    assert_eq!(exported(&marketing), (vec![b.0], vec![b.0]));
}

#[test]
fn a_scope_without_export_is_refused_and_nothing_is_audited() {
    let (store, a, _) = small();
    let head = admin(&store).audit_head().unwrap();
    for scope in ["hq:call_centre".to_string(), format!("owner:{}", a.0)] {
        let s = scoped(&store, &scope);
        let errors = [
            s.customers_table(None).err(),
            s.touchpoints_table(None).err(),
            s.vehicles_table().err(),
            s.ownership_table().err(),
            s.leads_table().err(),
            s.complaints_table().err(),
            s.surveys_table().err(),
        ];
        for e in errors {
            let e = e.expect("refused");
            assert_eq!(e.code(), "access_denied");
            assert!(e.to_string().contains("export") && e.to_string().contains(&scope));
        }
        s.flush_audit().unwrap();
    }
    assert_eq!(admin(&store).audit_head().unwrap(), head);
}

#[test]
fn every_export_is_audited_naming_the_customers_it_holds() {
    let (store, a, b) = small();
    let analyst = scoped(&store, "hq:crm_analyst")
        .with_purpose("churn study")
        .unwrap();
    let batches = analyst.customers_table(None).unwrap();
    let tp = analyst.touchpoints_table(Some(b)).unwrap();
    // Durable already: read straight from the store, without flushing the queue.
    let r = store.database().unwrap().begin_read().unwrap();
    let log = r.audit_log(None, None, 100).unwrap();
    let [first, second] = &log[..] else {
        panic!("{log:?}")
    };
    assert_eq!(first.action, AuditAction::Export);
    assert_eq!(first.what, "customers_table");
    let mut ids = u64s(&batches, "id");
    ids.sort_unstable();
    assert_eq!(first.customers.iter().map(|c| c.0).collect::<Vec<_>>(), ids);
    assert_eq!(first.customers, vec![a, b]);
    assert_eq!(
        (first.scope.as_str(), first.actor.as_str()),
        ("hq:crm_analyst", "tester")
    );
    assert_eq!(first.purpose.as_deref(), Some("churn study"));
    assert_eq!(second.what, "touchpoints_table");
    assert_eq!(second.customers, vec![b]);
    assert_eq!(u64s(&[tp], "customer"), vec![b.0]);
    assert!(r.verify_audit().unwrap().is_intact());
}

#[test]
fn a_dealer_exports_only_the_postings_made_at_it() {
    let db = Database::in_memory().unwrap();
    let at = t("2025-03-01 10:00");
    let (a, d1, d2) = db
        .write(|tx| {
            let (d1, d2) = (
                tx.insert_dealer(&fixtures::dealer("D1"))?,
                tx.insert_dealer(&fixtures::dealer("D2"))?,
            );
            let a = tx.insert_customer(&Customer::person("王小明"))?;
            for d in [d1, d2] {
                let mut tp = Touchpoint::new(at, a, Channel::Showroom, TouchpointKind::Enquiry);
                tp.dealer = Some(d);
                tx.insert_touchpoint(&tp)?;
            }
            tx.set_loyalty_config(&autocrm::loyalty::LoyaltyConfig::default())?;
            tx.join_brand_club(a, fixtures::d("2025-01-01"), "web")?;
            tx.adjust(&autocrm::loyalty::Adjustment {
                customer: a,
                wallet: autocrm::loyalty::Wallet::Brand,
                points: 500,
                at,
                operator: "ops".into(),
                reason: "welcome".into(),
                key: "welcome".into(),
            })?;
            for (d, key) in [(d1, "r1"), (d2, "r2")] {
                tx.redeem(&autocrm::loyalty::Redemption {
                    customer: a,
                    wallet: autocrm::loyalty::Wallet::Brand,
                    points: 100,
                    at,
                    dealer: Some(d),
                    item: "car wash".into(),
                    key: key.into(),
                })?;
            }
            Ok((a, d1, d2))
        })
        .unwrap();
    let store = Store::new(db);
    let all = admin(&store).postings_table(None).unwrap();
    assert_eq!(all.num_rows(), 3);
    assert_eq!(all.schema(), export::postings_schema());
    for d in [d1, d2] {
        let code = if d == d1 { "D1" } else { "D2" };
        let mine = scoped(&store, &format!("dealer:{code}"))
            .postings_table(Some(a))
            .unwrap();
        assert_eq!(u32s(&mine, "dealer"), vec![Some(d.0)]);
    }
    let owner = scoped(&store, &format!("owner:{}", a.0));
    assert_eq!(
        owner.postings_table(None).unwrap_err().code(),
        "access_denied"
    );
    let log = admin(&store).audit_log(Some(a), None, 100).unwrap();
    let exports = log.iter().filter(|e| e.what == "postings_table").count();
    assert_eq!(exports, 3);
}
