//! Opening a file read-only: the handle reads, refuses writes with a typed error and never
//! writes the file (a read-write redb handle always commits its allocator state on close, ~7 KB,
//! even when nothing changed; a read-only one does not).

use std::os::unix::fs::PermissionsExt;

use autocrm::*;

fn small_db(path: &std::path::Path) {
    let db = Database::open(path).unwrap();
    db.write(|tx| {
        tx.insert_customer(&Customer {
            phones: vec!["13812345678".into()],
            ..Customer::person("吴芳")
        })
        .map(|_| ())
    })
    .unwrap();
}

#[test]
fn a_read_only_handle_reads_a_mode_0444_file_and_never_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.redb");
    small_db(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&path).unwrap();

    let db = Database::open_read_only(&path).expect("a 0444 file opens read-only");
    assert!(db.is_read_only());
    let r = db.begin_read().unwrap();
    let ids = r.customers_by_phone("13812345678").unwrap();
    assert_eq!(r.customer(ids[0]).unwrap().name(), "吴芳");
    drop(r);
    let err = db
        .write(|tx| tx.insert_customer(&Customer::person("李娜")).map(|_| ()))
        .expect_err("writes are refused");
    assert_eq!(err.code(), "read_only");
    assert!(matches!(err, Error::ReadOnly { .. }));
    assert!(err.to_string().contains("read-only"), "{err}");
    // Two read-only handles at once (two processes reading one file).
    let second = Database::options().read_only(true).open(&path).unwrap();
    assert_eq!(second.begin_read().unwrap().customer_count().unwrap(), 1);
    drop((db, second));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "not one byte changed"
    );
}

#[test]
fn read_only_never_creates_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.redb");
    let err = Database::open_read_only(&path).err().expect("no file");
    assert_eq!(err.code(), "storage", "{err}");
    assert!(!path.exists());
}

#[test]
fn vacuum_of_a_missing_file_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.redb");
    let e = Database::vacuum(&path).unwrap_err();
    assert_eq!(e.code(), "io");
    assert!(matches!(&e, Error::Io { what: "vacuum", .. }), "{e:?}");
    assert!(e.to_string().contains("typo.redb"), "{e}");
    let report = api::ErrorReport::from(&e);
    assert_eq!(report.kind, api::ErrorKind::Storage);
    assert!(!path.exists(), "vacuum created {}", path.display());
    // An existing file still vacuums.
    small_db(&path);
    Database::vacuum(&path).unwrap();
    assert_eq!(
        Database::open(&path)
            .unwrap()
            .begin_read()
            .unwrap()
            .customer_count()
            .unwrap(),
        1
    );
}
