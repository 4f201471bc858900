//! Erasure on request (core/src/erasure.rs): after erasing random customers of a generated
//! network the ledger verifies, KPI rows and segment counts are what they were, the audit
//! trail verifies and records each erasure, and no erased value is left in the file's bytes
//! once vacuumed. Around it: what an erased customer refuses, idempotence, merged ids, the
//! scoped path and a restored backup being noticed.

use std::collections::BTreeSet;
use std::path::Path;

use autocrm::access::Scope;
use autocrm::api::Store;
use autocrm::audit::{AuditAction, AuditProblemKind};
use autocrm::erasure::ERASED_NAME;
use autocrm::integration::{Received, RecordKind};
use autocrm::kpi::{Dimension, Kpi, Period};
use autocrm::loyalty::{Adjustment, LoyaltyConfig, Redemption, Wallet};
use autocrm::*;
use autocrm_synth::{Network, SynthConfig};
use proptest::prelude::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{nid, t};

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A generated network in a file, with a loyalty club (earnings and redemptions for the first
/// `members` customers) and two saved segments materialised.
fn network(path: &Path, seed: u64, customers: usize, members: usize) -> Database {
    let db = Database::open(path).unwrap();
    let cfg = SynthConfig {
        seed,
        dealers: 3,
        ..SynthConfig::new(customers)
    };
    Network::new(cfg).load(&db, 100, |_| {}).unwrap();
    let ids = db.begin_read().unwrap().customer_ids().unwrap();
    let at = db.now();
    db.write(|tx| {
        tx.set_loyalty_config(&LoyaltyConfig::default())?;
        for c in ids.iter().take(members) {
            tx.join_brand_club(*c, at.date(), "dealer")?;
            tx.adjust(&Adjustment {
                customer: *c,
                wallet: Wallet::Brand,
                points: 800,
                at,
                operator: "ops".into(),
                reason: "welcome".into(),
                key: format!("welcome-{c}"),
            })?;
            tx.redeem(&Redemption {
                customer: *c,
                wallet: Wallet::Brand,
                points: 300,
                at,
                dealer: None,
                item: "car wash".into(),
                key: format!("wash-{c}"),
            })?;
        }
        tx.save_segment("regulars", "count(service_visit, 365d) >= 2", at)?;
        tx.save_segment("at_risk", "owner_status = \"at_risk\"", at)?;
        Ok(())
    })
    .unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    db.write(|tx| {
        for s in ["regulars", "at_risk"] {
            tx.materialise_segment(s, at.date(), &facts)?;
        }
        Ok(())
    })
    .unwrap();
    db
}

/// Everything the figures are made of: KPI rows of the year by dealer, segment counts (saved
/// and ad hoc), and the ledger's totals.
#[derive(Debug, PartialEq)]
struct Figures {
    kpis: Vec<Vec<autocrm::kpi::KpiRow>>,
    segments: Vec<u64>,
    materialised: Vec<u64>,
    ledger: (u64, u64, u64),
}

fn figures(db: &Database) -> Figures {
    let r = db.begin_read().unwrap();
    let facts = r.facts().unwrap();
    let on = db.now().date();
    let year = Period::year_of(on);
    let kpis = Kpi::ALL
        .iter()
        .map(|k| facts.kpi(*k, Dimension::Dealer, year))
        .collect();
    let segments = [
        "card = \"C\"",
        "owner_status = \"active\"",
        "count(service_visit, 730d) >= 1",
        "vehicle_count >= 2",
        "segment(\"regulars\")",
    ]
    .iter()
    .map(|rule| r.evaluate(rule, on, &facts).unwrap().len())
    .collect();
    let materialised = ["regulars", "at_risk"]
        .iter()
        .map(|s| r.materialised(s, on).unwrap().unwrap().len())
        .collect();
    let check = r.verify_ledger().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    Figures {
        kpis,
        segments,
        materialised,
        ledger: (check.wallets, check.postings, check.lots),
    }
}

/// The values of the erased customers that no other customer holds (a shared family phone or
/// a common name stays in the file with its other holder), and the raw file must lose.
fn erasable_values(db: &Database, erased: &BTreeSet<CustomerId>) -> Vec<String> {
    let r = db.begin_read().unwrap();
    let mut mine = Vec::new();
    let mut others = Vec::new();
    for id in r.customer_ids().unwrap() {
        let c = r.customer(id).unwrap();
        let mut values = vec![c.name().to_string()];
        values.extend(c.phones.clone());
        values.extend(c.national_id().map(str::to_string));
        values.extend(c.credit_code().map(str::to_string));
        values.extend(c.address.clone());
        if erased.contains(&id) {
            mine.extend(values);
        } else {
            others.extend(values);
        }
    }
    mine.sort();
    mine.dedup();
    // Short strings (a two-character name) also occur inside unrelated text; keep the ones
    // long enough to mean this customer.
    mine.retain(|v| v.len() >= 9 && !others.iter().any(|o| o.contains(v.as_str())));
    mine
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn erasing_keeps_the_figures_and_leaves_nothing_in_the_file(
        seed in 0u64..1_000,
        picks in proptest::collection::btree_set(0usize..120, 1..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.redb");
        let db = network(&path, seed, 120, 40);
        let ids = db.begin_read().unwrap().customer_ids().unwrap();
        let erased: BTreeSet<CustomerId> = picks.iter().map(|i| ids[*i % ids.len()]).collect();
        let before = figures(&db);
        let values = erasable_values(&db, &erased);
        prop_assert!(!values.is_empty());
        // The scan finds what is there: every value is in the file before the erasure.
        for v in &values {
            prop_assert!(file_contains(&path, v), "{v} is not in the file to begin with");
        }
        let head_before = db.begin_read().unwrap().audit_head().unwrap();
        db.write(|tx| {
            for c in &erased {
                let e = tx.erase_customer(*c, "dpo", "PIPL art. 47 request")?;
                assert_eq!(e.customer, *c);
            }
            Ok(())
        })
        .unwrap();

        prop_assert_eq!(figures(&db), before);
        let r = db.begin_read().unwrap();
        let audit = r.verify_audit().unwrap();
        prop_assert!(audit.is_intact(), "{:?}", audit.problem);
        let log = r.audit_log(None, Some(head_before.seq), usize::MAX).unwrap();
        let logged: BTreeSet<CustomerId> = log
            .iter()
            .filter(|e| e.action == AuditAction::Erase)
            .flat_map(|e| e.customers.clone())
            .collect();
        prop_assert_eq!(&logged, &erased);
        prop_assert!(log.iter().all(|e| e.scope == "full" && e.actor == "dpo"));
        prop_assert_eq!(r.erasures().unwrap().len(), erased.len());
        for c in &erased {
            let view = r.customer_360(*c, 1000).unwrap();
            prop_assert_eq!(view.customer.name(), ERASED_NAME);
            prop_assert!(view.customer.phones.is_empty());
            prop_assert!(view.timeline.items.iter().all(|(_, t)| t.note.is_none()));
            let erased_fields = ["name", "national_id", "credit_code", "phones", "address", "birth_date"];
            let lineage = r.lineage_of_customer(*c).unwrap();
            prop_assert!(lineage.iter().all(|l| !erased_fields.contains(&l.field.name())));
        }
        prop_assert!(r.check().unwrap().is_ok());
        drop(r);
        drop(db);
        Database::vacuum(&path).unwrap();
        for v in &values {
            prop_assert!(!file_contains(&path, v), "{v} is still in the file");
        }
        // And it reopens sound.
        let mut db = Database::open(&path).unwrap();
        prop_assert!(db.check().unwrap().is_ok());
    }
}

fn person(name: &str, phone: &str, id17: &str) -> Customer {
    let mut c = Customer {
        phones: vec![phone.into()],
        address: Some("徐汇区漕溪北路 88 号".into()),
        ..Customer::person(name)
    };
    if let Party::Person(p) = &mut c.party {
        p.national_id = Some(nid(id17));
        p.birth_date = Some("1980-01-01".parse().unwrap());
    }
    c
}

#[test]
fn an_erased_customer_refuses_updates_and_merges_and_is_found_by_nothing() {
    let db = Database::in_memory().unwrap();
    let (a, b) = db
        .write(|tx| {
            let a = tx.insert_customer(&person("欧阳晓明", "13800138000", "31010419800101123"))?;
            let b = tx.insert_customer(&Customer::person("李雷"))?;
            Ok((a, b))
        })
        .unwrap();
    let first = db
        .write(|tx| tx.erase_customer(a, "dpo", "request 1"))
        .unwrap();
    assert_eq!(first.by, "dpo");
    let r = db.begin_read().unwrap();
    assert!(r.customers_by_phone("13800138000").unwrap().is_empty());
    assert!(r
        .find_customers(&CustomerKey::NationalId(nid("31010419800101123")))
        .unwrap()
        .is_empty());
    let head = r.audit_head().unwrap();
    drop(r);

    // Erasing again is a no-op returning the first erasure: no second audit entry.
    let again = db
        .write(|tx| tx.erase_customer(a, "someone else", "request 2"))
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(db.begin_read().unwrap().audit_head().unwrap(), head);

    let e = db
        .write(|tx| tx.update_customer(a, &Customer::person("欧阳晓明")))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_operation.customer_erased");
    for (s, m) in [(a, b), (b, a)] {
        let e = db
            .write(|tx| tx.merge_customers(s, m, t("2026-01-01 10:00:00"), "ops"))
            .unwrap_err();
        assert_eq!(e.code(), "invalid_operation.customer_erased", "{s} <- {m}");
    }
    // Bad input writes nothing.
    let e = db.write(|tx| tx.erase_customer(b, " ", "x")).unwrap_err();
    assert_eq!(e.code(), "validation.required");
    let e = db.write(|tx| tx.erase_customer(b, "dpo", "")).unwrap_err();
    assert!(e.code().starts_with("validation."), "{e}");
    let e = db
        .write(|tx| tx.erase_customer(CustomerId(999), "dpo", "x"))
        .unwrap_err();
    assert_eq!(e.code(), "not_found");
    assert!(db.begin_read().unwrap().erasure(b).unwrap().is_none());
}

#[test]
fn a_redelivered_source_record_is_refused_without_its_values() {
    let db = Database::in_memory().unwrap();
    let from = Received {
        source: SourceRef::new("dms", "C-1"),
        dealer: None,
        at: t("2026-01-01 09:00:00"),
    };
    let offered = person("欧阳晓明", "13800138000", "31010419800101123");
    let id = db
        .write(|tx| Ok(tx.upsert_customer(&offered, None, &from)?.id))
        .unwrap();
    db.write(|tx| tx.erase_customer(id, "dpo", "request"))
        .unwrap();
    let e = db
        .write(|tx| tx.upsert_customer(&offered, None, &from).map(drop))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_operation.customer_erased");
    // The importer's path: the refusal goes to the sender's queue, quoting no value.
    db.write(|tx| {
        tx.reject(
            &from,
            RecordKind::Customer,
            Some(2),
            "欧阳晓明,13800138000",
            &e,
        )
        .map(drop)
    })
    .unwrap();
    let queue = db.begin_read().unwrap().feedback(None).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].code, "invalid_operation.customer_erased");
    assert!(!queue[0].raw.contains("13800138000"), "{}", queue[0].raw);
}

#[test]
fn erasing_a_merged_id_erases_the_person_and_scrubs_the_merge_snapshots() {
    let db = Database::in_memory().unwrap();
    let (a, b) = db
        .write(|tx| {
            let a = tx.insert_customer(&person("欧阳晓明", "13800138000", "31010419800101123"))?;
            let b = tx.insert_customer(&Customer {
                phones: vec!["13900139000".into()],
                ..Customer::person("欧阳晓明")
            })?;
            tx.merge_customers(a, b, t("2026-01-01 10:00:00"), "ops")?;
            Ok((a, b))
        })
        .unwrap();
    let e = db
        .write(|tx| tx.erase_customer(b, "dpo", "request"))
        .unwrap();
    assert_eq!(e.customer, a);
    assert_eq!(e.merged, [b]);
    assert_eq!(e.counts.merge_records, 1);
    let r = db.begin_read().unwrap();
    let merges = r.merges_of(a).unwrap();
    assert_eq!(merges[0].merged_customer.name(), ERASED_NAME);
    assert_eq!(merges[0].survivor_before.name(), ERASED_NAME);
    assert!(merges[0].merged_customer.phones.is_empty());
    assert!(r.customers_by_phone("13900139000").unwrap().is_empty());
}

#[test]
fn erasure_under_a_scope_needs_the_permission_and_is_audited_as_the_scope() {
    let db = Database::in_memory().unwrap();
    let c = db
        .write(|tx| {
            let dealer = tx.insert_dealer(&Dealer {
                code: "SH01".into(),
                name: "上海一店".into(),
                region: "East".into(),
                province: "上海".into(),
                city: "上海".into(),
                kind: DealerKind::FourS,
            })?;
            let c = tx.insert_customer(&person("欧阳晓明", "13800138000", "31010419800101123"))?;
            tx.insert_touchpoint(&Touchpoint {
                dealer: Some(dealer),
                note: Some("客户说 13800138000 晚上打".into()),
                ..Touchpoint::new(
                    t("2026-01-02 10:00:00"),
                    c,
                    Channel::Showroom,
                    TouchpointKind::ServiceVisit,
                )
            })?;
            Ok(c)
        })
        .unwrap();
    let store = Store::new(db);
    let by_dealer = store
        .scoped(&Scope::Dealer("SH01".into()), "clerk")
        .unwrap();
    let e = by_dealer.erase(c, "asked at the desk").unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let head = store.read().unwrap().with(|r| r.audit_head()).unwrap();
    assert_eq!(head.seq, 0, "a refused erasure is not audited");

    let admin = store
        .scoped(&Scope::Hq("data_admin".into()), "dpo.li")
        .unwrap();
    let erasure = admin.erase(c, "PIPL art. 47 request 2026-118").unwrap();
    assert_eq!(erasure.by, "dpo.li");
    assert_eq!(erasure.counts.touchpoint_notes, 1);
    let log = admin.audit_log(Some(c), None, 10).unwrap();
    let entry = log.iter().find(|e| e.action == AuditAction::Erase).unwrap();
    assert_eq!(entry.scope, "hq:data_admin");
    assert_eq!(
        entry.purpose.as_deref(),
        Some("PIPL art. 47 request 2026-118")
    );
}

#[test]
fn a_restored_backup_fails_the_anchored_audit_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    let backup = dir.path().join("backup.redb");
    let db = Database::open(&path).unwrap();
    let c = db
        .write(|tx| tx.insert_customer(&person("欧阳晓明", "13800138000", "31010419800101123")))
        .unwrap();
    drop(db);
    std::fs::copy(&path, &backup).unwrap();
    let db = Database::open(&path).unwrap();
    db.write(|tx| tx.erase_customer(c, "dpo", "request"))
        .unwrap();
    let anchor = db.begin_read().unwrap().audit_head().unwrap();
    drop(db);

    let restored = Database::open(&backup).unwrap();
    let r = restored.begin_read().unwrap();
    let v = r.verify_audit_against(&anchor).unwrap();
    assert_eq!(v.problem.map(|p| p.kind), Some(AuditProblemKind::Truncated));
    assert!(r.erasure(c).unwrap().is_none());
}
