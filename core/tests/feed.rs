//! The change feed (core/src/feed): what a commit records, paging, consumers and their
//! positions, retention and pruning, reopening, and a property test that replaying the feed
//! rebuilds exactly the set of live customers.

use std::collections::BTreeSet;

use autocrm::access::Scope;
use autocrm::api::Store;
use autocrm::feed::{Change, ChangeKey, ChangeOp, Entity, Retention};
use autocrm::*;
use proptest::prelude::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer, t};

fn all_changes(db: &Database) -> Vec<Change> {
    db.begin_read()
        .unwrap()
        .changes_after(0, usize::MAX)
        .unwrap()
        .changes
}

fn visit(c: CustomerId, dealer: DealerId, at: &str) -> Touchpoint {
    Touchpoint {
        dealer: Some(dealer),
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(t(at), c, Channel::Showroom, TouchpointKind::ServiceVisit)
    }
}

fn code(e: &Error) -> String {
    e.code()
}

#[test]
fn the_feed_is_off_until_a_consumer_registers() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.insert_customer(&Customer::person("王小明")))
        .unwrap();
    let r = db.begin_read().unwrap();
    assert!(!r.change_feed_enabled().unwrap());
    assert_eq!(r.last_change().unwrap(), 0);
    assert!(r.changes_after(0, 10).unwrap().changes.is_empty());
    drop(r);

    let at = db.write(|w| w.register_consumer("replica")).unwrap();
    assert_eq!(at, 0);
    let id = db
        .write(|w| w.insert_customer(&Customer::person("李小红")))
        .unwrap();
    let changes = all_changes(&db);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!((c.id, c.commit), (1, 1));
    assert_eq!(c.entity, Entity::Customer);
    assert_eq!(c.op, ChangeOp::Insert);
    assert_eq!(c.key, ChangeKey::Id(id.0));
    assert_eq!(c.customer(), Some(id));
    assert!(db.begin_read().unwrap().change_feed_enabled().unwrap());
}

#[test]
fn each_record_kind_written_is_one_change_of_its_entity() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("all")).unwrap();
    let (dl, c, v, tp) = db
        .write(|w| {
            let dl = w.insert_dealer(&dealer("SH001"))?;
            let c = w.insert_customer(&Customer::person("王小明"))?;
            let v = w.insert_vehicle(
                &Vehicle::new("LSVAU218XN2183294", "大众", "帕萨特"),
                Some((c, d("2023-05-01"))),
            )?;
            let tp = w.insert_touchpoint(&visit(c, dl, "2024-03-01 09:00"))?;
            Ok((dl, c, v, tp))
        })
        .unwrap();
    let changes = all_changes(&db);
    let kinds: BTreeSet<(Entity, ChangeOp)> = changes.iter().map(|c| (c.entity, c.op)).collect();
    for e in [
        Entity::Dealer,
        Entity::Customer,
        Entity::Vehicle,
        Entity::Ownership,
        Entity::Touchpoint,
    ] {
        assert!(
            kinds.contains(&(e, ChangeOp::Insert)),
            "{e} missing: {kinds:?}"
        );
    }
    // One commit: consecutive ids, one sequence number.
    assert!(changes.iter().all(|ch| ch.commit == 1));
    let ids: Vec<u64> = changes.iter().map(|ch| ch.id).collect();
    assert_eq!(ids, (1..=changes.len() as u64).collect::<Vec<_>>());
    let touchpoint = changes
        .iter()
        .find(|ch| ch.entity == Entity::Touchpoint)
        .unwrap();
    assert_eq!(
        touchpoint.key,
        ChangeKey::Touchpoint {
            customer: c.0,
            id: tp.0
        }
    );
    assert!(changes
        .iter()
        .any(|ch| ch.entity == Entity::Dealer && ch.key == ChangeKey::Id(u64::from(dl.0))));
    assert!(changes
        .iter()
        .any(|ch| ch.entity == Entity::Vehicle && ch.key == ChangeKey::Id(v.0)));
    // Indexes, rollups and lineage are not in the feed.
    assert_eq!(changes.len(), 5, "{changes:#?}");
}

#[test]
fn updates_and_deletes_net_out_within_a_commit() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("all")).unwrap();
    let a = db
        .write(|w| w.insert_customer(&Customer::person("王小明")))
        .unwrap();
    db.write(|w| {
        w.update_customer(a, &Customer::person("王晓明"))?;
        w.update_customer(a, &Customer::person("王小明"))?;
        // Inserted and deleted in the same commit: no change at all.
        let b = w.insert_customer(&Customer::person("赵小刚"))?;
        w.delete_customer(b)
    })
    .unwrap();
    db.write(|w| w.delete_customer(a)).unwrap();
    let got: Vec<(u64, Entity, ChangeOp, ChangeKey)> = all_changes(&db)
        .into_iter()
        .map(|c| (c.commit, c.entity, c.op, c.key))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Entity::Customer, ChangeOp::Insert, ChangeKey::Id(a.0)),
            (2, Entity::Customer, ChangeOp::Update, ChangeKey::Id(a.0)),
            (3, Entity::Customer, ChangeOp::Delete, ChangeKey::Id(a.0)),
        ]
    );
}

#[test]
fn an_aborted_or_failed_transaction_records_nothing() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("all")).unwrap();
    let mut w = db.begin_write().unwrap();
    w.insert_customer(&Customer::person("王小明")).unwrap();
    w.abort().unwrap();
    let failed = db.write(|w| {
        w.insert_customer(&Customer::person("李小红"))?;
        // A touchpoint of a customer that does not exist.
        w.insert_touchpoint(&Touchpoint::new(
            t("2024-03-01 09:00"),
            CustomerId(999),
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        ))
    });
    assert!(failed.is_err());
    assert!(all_changes(&db).is_empty());
    assert_eq!(db.begin_read().unwrap().last_change().unwrap(), 0);
}

#[test]
fn pages_cover_every_change_once_in_order() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("all")).unwrap();
    for i in 0..10 {
        db.write(|w| {
            let people: Vec<Customer> = (0..(i % 4 + 1))
                .map(|j| Customer::person(format!("王{}{}", "小明", i * 10 + j)))
                .collect();
            w.insert_customers(&people).map(|_| ())
        })
        .unwrap();
    }
    let r = db.begin_read().unwrap();
    let whole = r.changes_after(0, usize::MAX).unwrap();
    assert_eq!(whole.next, whole.last);
    let mut paged = Vec::new();
    let mut at = 0;
    loop {
        let page = r.changes_after(at, 7).unwrap();
        assert!(page.changes.len() <= 7);
        if page.changes.is_empty() {
            assert_eq!(page.next, page.last);
            break;
        }
        at = page.next;
        paged.extend(page.changes);
    }
    assert_eq!(paged, whole.changes);
    // Commits are numbered 1, 2, 3… and a commit's changes are consecutive.
    let commits: Vec<u64> = paged.iter().map(|c| c.commit).collect();
    let mut sorted = commits.clone();
    sorted.sort();
    assert_eq!(commits, sorted);
    assert_eq!(*commits.last().unwrap(), 10);
}

#[test]
fn consumers_acknowledge_and_retention_prunes_what_all_have_read() {
    let db = Database::in_memory().unwrap();
    db.write(|w| {
        w.register_consumer("dealer-SH001")?;
        w.register_consumer("lake")
    })
    .unwrap();
    for i in 0..6 {
        db.write(|w| w.insert_customer(&Customer::person(format!("王小明{i}"))))
            .unwrap();
    }
    // Registering again keeps the position.
    db.write(|w| {
        w.acknowledge("lake", 5)?;
        w.acknowledge("dealer-SH001", 2)?;
        assert_eq!(w.register_consumer("lake")?, 5);
        // A position never moves back.
        assert_eq!(w.acknowledge("lake", 1)?, 5);
        Ok(())
    })
    .unwrap();
    let ahead = db.write(|w| w.acknowledge("lake", 7)).unwrap_err();
    assert_eq!(code(&ahead), "invalid_operation.change_position_ahead");
    let unknown = db.write(|w| w.acknowledge("nobody", 1)).unwrap_err();
    assert_eq!(code(&unknown), "not_found");

    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 2);
    let r = db.begin_read().unwrap();
    assert_eq!(r.consumer_position("dealer-SH001").unwrap(), 2);
    assert_eq!(r.changes_after(2, 100).unwrap().changes.len(), 4);
    let gone = r.changes_after(1, 100).unwrap_err();
    assert_eq!(code(&gone), "invalid_operation.changes_pruned");
    drop(r);

    // Without the slow consumer, the rest up to the other's position goes.
    db.write(|w| w.unregister_consumer("dealer-SH001")).unwrap();
    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 3);
    let r = db.begin_read().unwrap();
    assert_eq!(r.changes_after(5, 100).unwrap().changes.len(), 1);
    assert_eq!(
        r.consumers().unwrap(),
        vec![autocrm::feed::Consumer {
            name: "lake".into(),
            position: 5
        }]
    );
}

#[test]
fn day_retention_prunes_by_commit_time_and_forever_keeps_all() {
    let db = Database::in_memory().unwrap();
    db.write(|w| {
        w.register_consumer("slow")?;
        w.set_change_retention(Retention::Days(30))
    })
    .unwrap();
    for (i, at) in ["2026-01-01 10:00", "2026-01-20 10:00", "2026-03-01 10:00"]
        .iter()
        .enumerate()
    {
        let mut w = db.begin_write().unwrap();
        w.set_now(t(at));
        w.insert_customer(&Customer::person(format!("王小明{i}")))
            .unwrap();
        w.commit().unwrap();
    }
    let mut w = db.begin_write().unwrap();
    w.set_now(t("2026-03-05 10:00"));
    // Older than 30 days on 2026-03-05: the two January commits, unread or not.
    assert_eq!(w.prune_changes().unwrap(), 2);
    w.commit().unwrap();
    let page = db.begin_read().unwrap().changes_after(2, 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].at, t("2026-03-01 10:00"));

    db.write(|w| w.set_change_retention(Retention::Forever))
        .unwrap();
    let mut w = db.begin_write().unwrap();
    w.set_now(t("2027-01-01 10:00"));
    assert_eq!(w.prune_changes().unwrap(), 0);
    drop(w);
    let zero = db
        .write(|w| w.set_change_retention(Retention::Days(0)))
        .unwrap_err();
    assert_eq!(code(&zero), "validation.out_of_range");
    let blank = db.write(|w| w.register_consumer(" ")).unwrap_err();
    assert_eq!(code(&blank), "validation.required");
}

#[test]
fn merges_erasures_postings_and_consents_are_changes_too() {
    let db = Database::in_memory().unwrap();
    let (a, b) = db
        .write(|w| {
            let a = w.insert_customer(&Customer::person("王小明"))?;
            let b = w.insert_customer(&Customer::person("王小明"))?;
            w.set_loyalty_config(&autocrm::loyalty::LoyaltyConfig::default())?;
            Ok((a, b))
        })
        .unwrap();
    db.write(|w| w.register_consumer("all")).unwrap();
    db.write(|w| w.merge_customers(a, b, t("2026-01-02 10:00"), "steward"))
        .unwrap();
    db.write(|w| {
        w.join_brand_club(a, d("2026-01-02"), "app")?;
        w.record_consent(
            a,
            &ConsentEvent {
                channel: ConsentChannel::Sms,
                granted: true,
                at: t("2026-01-02 10:00"),
                source: "app".into(),
            },
        )
    })
    .unwrap();
    db.write(|w| {
        w.adjust(&autocrm::loyalty::Adjustment {
            customer: a,
            wallet: autocrm::loyalty::Wallet::Brand,
            points: 100,
            at: t("2026-01-03 10:00"),
            operator: "ops".into(),
            reason: "welcome".into(),
            key: "welcome-1".into(),
        })
        .map(|_| ())
    })
    .unwrap();
    db.write(|w| w.erase_customer(a, "dpo", "request").map(|_| ()))
        .unwrap();
    let changes = all_changes(&db);
    let has = |e: Entity, op: ChangeOp| changes.iter().any(|c| c.entity == e && c.op == op);
    assert!(changes.iter().any(|c| c.entity == Entity::Merge
        && c.key
            == ChangeKey::Merge {
                survivor: a.0,
                merged: b.0
            }));
    assert!(changes.iter().any(|c| c.entity == Entity::Customer
        && c.op == ChangeOp::Delete
        && c.key == ChangeKey::Id(b.0)));
    assert!(has(Entity::Membership, ChangeOp::Insert));
    assert!(has(Entity::Consents, ChangeOp::Insert));
    assert!(has(Entity::Posting, ChangeOp::Insert));
    assert!(has(Entity::Erasure, ChangeOp::Insert));
    assert!(changes
        .iter()
        .filter(|c| c.entity == Entity::Erasure)
        .all(|c| c.customer() == Some(a)));
}

#[test]
fn scoped_writes_name_actor_and_scope_and_imports_their_source() {
    let db = Database::in_memory().unwrap();
    let (dl, c) = db
        .write(|w| {
            let dl = w.insert_dealer(&dealer("SH001"))?;
            let c = w.insert_customer(&Customer::person("王小明"))?;
            w.insert_touchpoint(&visit(c, dl, "2024-03-01 09:00"))?;
            w.register_consumer("all")?;
            Ok((dl, c))
        })
        .unwrap();
    let store = Store::new(db.clone());
    let s = store
        .scoped(&Scope::Dealer("SH001".into()), "sales-li")
        .unwrap();
    s.add_touchpoint(&visit(c, dl, "2024-04-01 09:00")).unwrap();
    let changes = all_changes(&db);
    let tp = changes.last().unwrap();
    assert_eq!(tp.entity, Entity::Touchpoint);
    assert_eq!(tp.actor.as_deref(), Some("sales-li"));
    assert_eq!(tp.scope.as_deref(), Some("dealer:SH001"));

    let csv = "source_id,name,phones\nF1,张小华,13812345678\n";
    let opts = ImportOptions {
        source_system: Some("finance".into()),
        ..ImportOptions::new(
            autocrm::integration::RecordKind::Customer,
            t("2024-05-01 10:00"),
        )
    };
    autocrm::import_reader(&db, csv.as_bytes(), "finance.csv", None, &opts, |_| {}).unwrap();
    let last = all_changes(&db).pop().unwrap();
    assert_eq!(last.source.as_deref(), Some("finance"));
    assert_eq!(last.actor, None);
}

#[test]
fn the_feed_and_positions_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.redb");
    {
        let db = Database::open(&path).unwrap();
        db.write(|w| w.register_consumer("replica")).unwrap();
        db.write(|w| w.insert_customer(&Customer::person("王小明")))
            .unwrap();
        db.write(|w| w.acknowledge("replica", 1)).unwrap();
    }
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.consumer_position("replica").unwrap(), 1);
    assert_eq!(r.last_change().unwrap(), 1);
    drop(r);
    db.write(|w| w.insert_customer(&Customer::person("李小红")))
        .unwrap();
    let page = db.begin_read().unwrap().changes_after(1, 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].commit, 2);
}

#[derive(Clone, Debug)]
enum Op {
    Insert,
    Update(usize),
    Delete(usize),
    Commit,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => Just(Op::Insert),
            2 => (0usize..50).prop_map(Op::Update),
            1 => (0usize..50).prop_map(Op::Delete),
            1 => Just(Op::Commit),
        ],
        1..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Replaying the feed (insert/update: present; delete: absent) gives exactly the live
    /// customers, whatever mix of writes the commits held, and read in pages of any size.
    #[test]
    fn replaying_the_feed_rebuilds_the_live_customers(ops in ops(), page in 1usize..20) {
        let db = Database::in_memory().unwrap();
        db.write(|w| w.register_consumer("p")).unwrap();
        let mut w = db.begin_write().unwrap();
        let mut live: Vec<CustomerId> = Vec::new();
        let mut n = 0;
        for op in ops {
            match op {
                Op::Insert => {
                    n += 1;
                    live.push(w.insert_customer(&Customer::person(format!("王小明{n}"))).unwrap());
                }
                Op::Update(i) if !live.is_empty() => {
                    n += 1;
                    let id = live[i % live.len()];
                    w.update_customer(id, &Customer::person(format!("李小红{n}"))).unwrap();
                }
                Op::Delete(i) if !live.is_empty() => {
                    let id = live.remove(i % live.len());
                    w.delete_customer(id).unwrap();
                }
                Op::Commit => {
                    w.commit().unwrap();
                    w = db.begin_write().unwrap();
                }
                _ => {}
            }
        }
        w.commit().unwrap();
        let r = db.begin_read().unwrap();
        let mut replayed = BTreeSet::new();
        let mut at = 0;
        let mut last_id = 0;
        loop {
            let p = r.changes_after(at, page).unwrap();
            if p.changes.is_empty() { break; }
            for c in &p.changes {
                prop_assert_eq!(c.id, last_id + 1);
                last_id = c.id;
                let ChangeKey::Id(id) = c.key else { panic!("{c:?}") };
                match c.op {
                    ChangeOp::Insert => prop_assert!(replayed.insert(id)),
                    ChangeOp::Update => prop_assert!(replayed.contains(&id)),
                    ChangeOp::Delete => prop_assert!(replayed.remove(&id)),
                }
            }
            at = p.next;
        }
        let actual: BTreeSet<u64> = r.customer_ids().unwrap().into_iter().map(|c| c.0).collect();
        prop_assert_eq!(replayed, actual);
    }
}

#[test]
fn pages_and_pruning_inside_a_commit_keep_what_the_commit_says() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("c")).unwrap();
    db.write(|w| {
        w.set_actor("etl", Some("hq:data_admin"));
        w.set_source("dms");
        for i in 0..3 {
            w.insert_customer(&Customer::person(format!("王小明{i}")))?;
        }
        Ok(())
    })
    .unwrap();
    // A page that starts inside the commit still carries its time, actor and source.
    let page = db.begin_read().unwrap().changes_after(2, 10).unwrap();
    assert_eq!(page.changes.len(), 1);
    let c = &page.changes[0];
    assert_eq!((c.id, c.commit), (3, 1));
    assert_eq!(c.actor.as_deref(), Some("etl"));
    assert_eq!(c.scope.as_deref(), Some("hq:data_admin"));
    assert_eq!(c.source.as_deref(), Some("dms"));
    // Acknowledged inside the commit: the commit stays whole.
    db.write(|w| w.acknowledge("c", 2)).unwrap();
    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 0);
    assert_eq!(all_changes(&db).len(), 3);
    db.write(|w| w.acknowledge("c", 3)).unwrap();
    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 3);
}

/// Two dealers, each serving one customer (a touchpoint at it), and a lead of each.
fn two_dealers() -> (Database, [(DealerId, CustomerId); 2]) {
    let db = Database::in_memory().unwrap();
    let pairs = db
        .write(|w| {
            let mut out = Vec::new();
            for (code, name) in [("SH001", "王小明"), ("SH002", "李小红")] {
                let dl = w.insert_dealer(&dealer(code))?;
                let c = w.insert_customer(&Customer::person(name))?;
                w.insert_touchpoint(&visit(c, dl, "2024-03-01 09:00"))?;
                out.push((dl, c));
            }
            w.register_consumer("all")?;
            Ok(out)
        })
        .unwrap();
    (db, [pairs[0], pairs[1]])
}

#[test]
fn a_dealer_reads_only_the_changes_of_what_it_may_see() {
    let (db, [(d1, c1), (d2, c2)]) = two_dealers();
    db.write(|w| {
        w.update_customer(c1, &Customer::person("王晓明"))?;
        w.update_customer(c2, &Customer::person("李晓红"))?;
        w.insert_touchpoint(&visit(c1, d1, "2024-04-01 09:00"))?;
        w.insert_touchpoint(&visit(c2, d2, "2024-04-01 09:00"))?;
        // Dealer 2's visit to dealer 1's customer: the customer is dealer 1's now too, but
        // the visit is dealer 2's own record.
        w.insert_touchpoint(&visit(c1, d2, "2024-04-02 09:00"))?;
        w.insert_lead(&Lead {
            dealer: Some(d1),
            ..fixtures::lead(c1)
        })?;
        w.insert_lead(&Lead {
            dealer: Some(d2),
            ..fixtures::lead(c2)
        })?;
        Ok(())
    })
    .unwrap();
    let store = Store::new(db.clone());
    let all = all_changes(&db);
    let dealer1 = store.scoped(&Scope::Dealer("SH001".into()), "li").unwrap();
    let page = dealer1.changes_after(0, 1000).unwrap();
    assert_eq!(page.next, all.last().unwrap().id);
    assert!(!page.changes.is_empty());
    for c in &page.changes {
        match (c.entity, &c.key) {
            (Entity::Dealer, _) => {}
            (Entity::Customer, ChangeKey::Id(id)) => assert_eq!(*id, c1.0, "{c:?}"),
            (Entity::Touchpoint, ChangeKey::Touchpoint { id, .. }) => {
                let t = db
                    .begin_read()
                    .unwrap()
                    .touchpoint(TouchpointId(*id))
                    .unwrap();
                assert_eq!(t.dealer, Some(d1), "{c:?}");
            }
            (Entity::Lead, ChangeKey::Id(id)) => {
                let l = db.begin_read().unwrap().lead(LeadId(*id)).unwrap();
                assert_eq!(l.customer, c1);
            }
            other => panic!("dealer 1 should not see {other:?}"),
        }
    }
    // What it sees is exactly what it should: its customer's update, its own visit (not
    // dealer 2's visit to the same customer) and its lead. (The dealers, customers and first
    // visits were written before the consumer registered: not in the feed.)
    let count = |e: Entity| page.changes.iter().filter(|c| c.entity == e).count();
    assert_eq!(count(Entity::Customer), 1);
    assert_eq!(count(Entity::Touchpoint), 1);
    assert_eq!(count(Entity::Lead), 1);
    assert_eq!(page.changes.len(), 3);
    // Audited as an export naming only its customer.
    let admin = store
        .scoped(&Scope::Hq("data_admin".into()), "audit")
        .unwrap();
    let log = admin.audit_log(None, None, 100).unwrap();
    let entry = log.iter().find(|e| e.what == "changes").unwrap();
    assert_eq!(entry.customers, vec![c1]);
    assert_eq!(entry.scope, "dealer:SH001");

    // A role that sees everyone reads every change; one without export is refused.
    let analyst = store
        .scoped(&Scope::Hq("crm_analyst".into()), "ana")
        .unwrap();
    assert_eq!(analyst.changes_after(0, 1000).unwrap().changes, all);
    let call_centre = store
        .scoped(&Scope::Hq("call_centre".into()), "cc")
        .unwrap();
    let denied = call_centre.changes_after(0, 1000).unwrap_err();
    assert_eq!(code(&denied), "access_denied");
    // The owner reads his own file's changes.
    let owner = store.scoped(&Scope::Owner(c2), "app").unwrap();
    let mine = owner.changes_after(0, 1000).unwrap().changes;
    let kinds: Vec<(Entity, Option<CustomerId>)> =
        mine.iter().map(|c| (c.entity, c.customer())).collect();
    assert_eq!(
        kinds,
        vec![
            (Entity::Customer, Some(c2)),
            (Entity::Touchpoint, Some(c2)),
            (Entity::Lead, None)
        ]
    );
}

#[test]
fn a_big_commit_reads_and_prunes_like_a_small_one() {
    let db = Database::in_memory().unwrap();
    db.write(|w| w.register_consumer("c")).unwrap();
    let people: Vec<Customer> = (0..600)
        .map(|i| Customer::person(format!("王小明{i}")))
        .collect();
    db.write(|w| {
        w.set_actor("loader", None);
        w.insert_customers(&people).map(|_| ())
    })
    .unwrap();
    db.write(|w| w.insert_customer(&Customer::person("李小红")))
        .unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.last_change().unwrap(), 601);
    // Pages of any size, starting anywhere inside the commit, carry its head.
    for (after, limit) in [(0, 1000), (0, 7), (255, 3), (256, 300), (299, 1), (599, 5)] {
        let page = r.changes_after(after, limit).unwrap();
        let ids: Vec<u64> = page.changes.iter().map(|c| c.id).collect();
        let want: Vec<u64> = (after + 1..=601).take(limit).collect();
        assert_eq!(ids, want, "after {after} limit {limit}");
        for c in &page.changes {
            let (commit, actor) = if c.id <= 600 {
                (1, Some("loader"))
            } else {
                (2, None)
            };
            assert_eq!((c.commit, c.actor.as_deref()), (commit, actor), "{c:?}");
        }
    }
    drop(r);
    // Acknowledged inside the big commit: nothing goes; past it: the whole commit goes.
    db.write(|w| w.acknowledge("c", 300)).unwrap();
    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 0);
    db.write(|w| w.acknowledge("c", 601)).unwrap();
    assert_eq!(db.write(|w| w.prune_changes()).unwrap(), 601);
    assert!(all_changes_after(&db, 601).is_empty());
}

fn all_changes_after(db: &Database, after: u64) -> Vec<Change> {
    db.begin_read()
        .unwrap()
        .changes_after(after, usize::MAX)
        .unwrap()
        .changes
}
