//! Data stewardship under a scope (docs/access.md): imports, conflicts, duplicates and merges
//! need `manage_data`, see only customers the scope sees and are audited; a dealer reads its
//! own feedback queue and its own quality row, nobody else's.

use autocrm::access::Scope;
use autocrm::api::{ScopedStore, Store};
use autocrm::audit::AuditAction;
use autocrm::import::ImportOptions;
use autocrm::integration::Resolution;
use autocrm::*;
use autocrm_synth::dirty::{self, DirtyConfig};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::t;

fn scoped(store: &Store, scope: &str) -> ScopedStore {
    store
        .scoped(&scope.parse::<Scope>().unwrap(), "steward-1")
        .unwrap()
}

/// Dirty exports of a 300-customer network imported by the data administrator's scope.
fn imported() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::in_memory().unwrap();
    let config = DirtyConfig::new(300);
    dirty::insert_dealers(&db, &config).unwrap();
    let files = dirty::write_dirty_csvs(dir.path(), &config).unwrap();
    let store = Store::new(db);
    let admin = scoped(&store, "hq:data_admin");
    for f in &files.files {
        let opts = ImportOptions::new(f.kind, t("2026-03-01 09:00"));
        admin.import_file(&f.path, &opts, |_| {}).unwrap();
    }
    (store, dir)
}

fn admin_log(store: &Store) -> Vec<autocrm::audit::AuditEntry> {
    store.flush_audit().unwrap();
    scoped(store, "hq:data_admin")
        .audit_log(None, None, 10_000)
        .unwrap()
}

#[test]
fn stewardship_needs_manage_data_and_writes_nothing_without_it() {
    let (store, dir) = imported();
    let before = admin_log(&store).len();
    let code = store.read().unwrap().with(|r| r.dealers()).unwrap()[0]
        .1
        .code
        .clone();
    let one = CustomerId(1);
    for scope in [
        format!("dealer:{code}"),
        "hq:crm_analyst".into(),
        "owner:1".into(),
    ] {
        let s = scoped(&store, &scope);
        let opts = ImportOptions::new(RecordKind::Customer, t("2026-03-01 09:00"));
        let errors = [
            s.import_file(dir.path().join("customers_dms.csv"), &opts, |_| {})
                .unwrap_err(),
            s.conflicts(true, None).unwrap_err(),
            s.resolve_conflict(ConflictId(1), Resolution::Accept)
                .unwrap_err(),
            s.duplicates(0, None).unwrap_err(),
            s.merge(one, CustomerId(2)).unwrap_err(),
        ];
        for e in errors {
            assert_eq!(e.code(), "access_denied", "{scope}: {e}");
            assert!(e.to_string().contains("manage_data"), "{e}");
        }
    }
    // Refused calls are not audited (the admin's own audit reads add none either: flushed).
    assert_eq!(admin_log(&store).len(), before);
}

#[test]
fn a_steward_lists_resolves_and_merges_with_every_step_audited() {
    let (store, _dir) = imported();
    let admin = scoped(&store, "hq:data_admin");
    // The scoped import was audited before it ran: one entry per file.
    let log = admin_log(&store);
    let imports = log.iter().filter(|e| e.what.starts_with("import ")).count();
    assert_eq!(imports, 4);

    let unscoped = store.read().unwrap().with(|r| r.conflicts(true)).unwrap();
    assert!(!unscoped.is_empty(), "the dirty files make conflicts");
    let open = admin.conflicts(true, None).unwrap();
    assert_eq!(open, unscoped);
    let c = open.iter().find(|c| c.customer().is_some()).unwrap();
    let customer = c.customer().unwrap();
    let resolved = admin.resolve_conflict(c.id, Resolution::Reject).unwrap();
    assert!(!resolved.is_open());
    assert_eq!(
        admin
            .conflicts(true, Some(customer))
            .unwrap()
            .iter()
            .filter(|x| x.id == c.id)
            .count(),
        0
    );

    let pairs = admin.duplicates(50, None).unwrap();
    let expected: Vec<_> = store
        .read()
        .unwrap()
        .with(|r| r.duplicate_candidates(50))
        .unwrap();
    assert_eq!(pairs, expected);

    let log = admin_log(&store);
    let entry = |what: &str| log.iter().find(|e| e.what == what).unwrap().clone();
    let listed = entry("conflicts");
    assert_eq!(listed.action, AuditAction::Export);
    assert!(listed.customers.contains(&customer));
    let decided = log
        .iter()
        .find(|e| e.what == format!("resolve conflict {}", c.id))
        .unwrap();
    assert_eq!(
        (decided.action, decided.customers.clone()),
        (AuditAction::Write, vec![customer])
    );
    assert!(
        matches!(&resolved.status, autocrm::integration::ConflictStatus::Rejected { by, .. } if by == "steward-1")
    );

    let p = pairs.first().expect("the dirty files hold duplicates");
    let m = admin.merge(p.customer, p.other).unwrap();
    assert_eq!(
        (m.survivor, m.merged, m.by.as_str()),
        (p.customer, p.other, "steward-1")
    );
    assert_eq!(
        entry_after(&store, "merge").customers,
        vec![p.customer, p.other]
    );
    assert!(admin.verify_audit().unwrap().is_intact());
}

fn entry_after(store: &Store, what: &str) -> autocrm::audit::AuditEntry {
    admin_log(store)
        .into_iter()
        .rev()
        .find(|e| e.what == what)
        .unwrap()
}

#[test]
fn a_dealer_reads_its_own_feedback_queue_and_quality_row() {
    let (store, _dir) = imported();
    let r = store.read().unwrap();
    let dealers = r.with(|r| r.dealers()).unwrap();
    let with_queue = dealers
        .iter()
        .find(|(d, _)| !r.with(|r| r.feedback(Some(*d))).unwrap().is_empty())
        .expect("the dirty files fill some dealer's queue");
    let (me, dealer) = with_queue;
    let other = dealers.iter().find(|(d, _)| d != me).unwrap().0;
    let s = scoped(&store, &format!("dealer:{}", dealer.code));
    let mine = s.feedback(None).unwrap();
    assert_eq!(mine, r.with(|r| r.feedback(Some(*me))).unwrap());
    assert_eq!(s.feedback(Some(*me)).unwrap(), mine);
    let e = s.feedback(Some(other)).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    // An HQ role without manage_data reads no queue; the steward reads them all.
    let analyst = scoped(&store, "hq:crm_analyst");
    assert_eq!(analyst.feedback(None).unwrap_err().code(), "access_denied");
    let all = scoped(&store, "hq:data_admin").feedback(None).unwrap();
    assert_eq!(all, r.with(|r| r.feedback_all()).unwrap());

    let day = fixtures::d("2026-03-01");
    let report = s.quality_report(day).unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].dealer, Some(*me));
    let full = r.with(|r| r.quality_report(day)).unwrap();
    assert_eq!(Some(&report.rows[0]), full.row(Some(*me)));
    assert_eq!(analyst.quality_report(day).unwrap(), full);
    let owner = scoped(&store, "owner:1");
    assert_eq!(
        owner.quality_report(day).unwrap_err().code(),
        "access_denied"
    );
}
