//! The result of importing a set of files does not depend on the order the files are given in,
//! and importing them again (in any order) changes nothing: a proptest over file orders of a
//! small generated dirty export, comparing a canonical dump of the store (customers with their
//! lineage and conflicts, vehicles with their owners, the feedback queues).

use std::path::PathBuf;

use autocrm::import::{import_file, ImportOptions};
use autocrm::integration::RecordKind;
use autocrm::*;
use autocrm_synth::dirty::{insert_dealers, write_dirty_csvs, DirtyConfig};
use proptest::prelude::*;

#[path = "support/dump.rs"]
mod dump;
use dump::canonical_dump;

fn at() -> DateTime {
    "2026-07-01 08:00".parse().unwrap()
}

/// A generated demo: its files (finance, invoice, DMS customers; invoice vehicles) and config.
pub fn demo(
    customers: usize,
    seed: u64,
) -> (tempfile::TempDir, Vec<(PathBuf, RecordKind)>, DirtyConfig) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DirtyConfig {
        seed,
        dirt: 0.3,
        ..DirtyConfig::new(customers)
    };
    let files = write_dirty_csvs(dir.path(), &cfg).unwrap();
    let files = files.files.into_iter().map(|f| (f.path, f.kind)).collect();
    (dir, files, cfg)
}

/// Imports `files` in `order` into `db`; returns (created, updated, rejected, conflicts) summed.
pub fn import_in(db: &Database, files: &[(PathBuf, RecordKind)], order: &[usize]) -> [u64; 4] {
    let mut sums = [0; 4];
    for &i in order {
        let (path, kind) = &files[i];
        let opts = ImportOptions {
            batch_size: 97,
            ..ImportOptions::new(*kind, at())
        };
        let r = import_file(db, path, &opts, |_| {}).unwrap();
        sums[0] += r.created;
        sums[1] += r.updated;
        sums[2] += r.rejected;
        sums[3] += r.conflicts;
    }
    sums
}

fn fresh(cfg: &DirtyConfig) -> Database {
    let db = Database::in_memory().unwrap();
    insert_dealers(&db, cfg).unwrap();
    db
}

fn diff(a: &[String], b: &[String]) -> String {
    let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).take(6).collect();
    let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).take(6).collect();
    format!("only in the first:\n{only_a:#?}\nonly in the second:\n{only_b:#?}")
}

/// Whether `order` imports every customer file before the vehicle file (vehicle rows name
/// their owners, so a vehicle file imported first rejects them as `import.unknown_customer`).
fn customers_first(files: &[(PathBuf, RecordKind)], order: &[usize]) -> bool {
    let pos = |i: usize| order.iter().position(|&o| o == i).unwrap();
    let last_customer = (0..files.len())
        .filter(|&i| files[i].1 == RecordKind::Customer)
        .map(pos)
        .max()
        .unwrap();
    (0..files.len())
        .filter(|&i| files[i].1 != RecordKind::Customer)
        .all(|i| pos(i) > last_customer)
}

#[test]
fn customer_files_in_reversed_order_give_the_same_store_and_replays_change_nothing() {
    let (_dir, files, cfg) = demo(300, 7);
    assert_eq!(files.len(), 4);
    assert_eq!(files[3].1, RecordKind::Vehicle);
    let readme = [0, 1, 2, 3];
    let reversed = [2, 1, 0, 3];
    let a = fresh(&cfg);
    import_in(&a, &files, &readme);
    let b = fresh(&cfg);
    import_in(&b, &files, &reversed);
    let (da, d2) = (canonical_dump(&a), canonical_dump(&b));
    assert!(da == d2, "{}", diff(&da, &d2));
    let again = import_in(&b, &files, &reversed);
    assert_eq!(
        [again[0], again[1], again[3]],
        [0, 0, 0],
        "created, updated, conflicts"
    );
    let d3 = canonical_dump(&b);
    assert!(d3 == d2, "{}", diff(&d2, &d3));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Any order of the demo's files gives the store the README order gives once every row's
    /// references could resolve: at once if the customer files come before the vehicle file,
    /// else after a second pass. Once there, importing the files again in any order changes
    /// nothing.
    #[test]
    fn file_order_does_not_change_the_result(
        seed in 0u64..1000,
        order in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        again in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        third in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
    ) {
        let (_dir, files, cfg) = demo(120, seed);
        prop_assert_eq!(files.len(), 4);
        let readme: Vec<usize> = (0..files.len()).collect();
        let a = fresh(&cfg);
        import_in(&a, &files, &readme);
        let da = canonical_dump(&a);
        let b = fresh(&cfg);
        import_in(&b, &files, &order);
        let first = canonical_dump(&b);
        let settled = customers_first(&files, &order);
        if settled {
            prop_assert!(da == first, "order {:?}: {}", order, diff(&da, &first));
        }
        let second = import_in(&b, &files, &again);
        if settled {
            prop_assert_eq!([second[0], second[1], second[3]], [0, 0, 0]);
        }
        let d2 = canonical_dump(&b);
        prop_assert!(da == d2, "order {:?} then {:?}: {}", order, again, diff(&da, &d2));
        let third_pass = import_in(&b, &files, &third);
        prop_assert_eq!([third_pass[0], third_pass[1], third_pass[3]], [0, 0, 0]);
        let d3 = canonical_dump(&b);
        prop_assert!(d3 == da, "third pass {:?}: {}", third, diff(&da, &d3));
    }
}
