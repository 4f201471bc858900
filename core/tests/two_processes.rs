//! Two processes opening the same file: the second gets a clear `already_open` error, and the
//! file is intact for the first. The child process is this test binary run again with
//! `--ignored child_opens_the_file`.

use std::process::Command;

use autocrm::{Customer, Database};

const CHILD_DB: &str = "AUTOCRM_TEST_CHILD_DB";

#[test]
fn a_second_process_gets_already_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.redb");
    let db = Database::open(&path).unwrap();
    let id = db
        .write(|tx| tx.insert_customer(&Customer::person("王小明")))
        .unwrap();

    let run_child = || {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_opens_the_file",
                "--nocapture",
            ])
            .env(CHILD_DB, &path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stdout = run_child();
    assert!(
        stdout.contains("child result: already_open"),
        "child said: {stdout}"
    );
    assert!(
        stdout.contains("is already open in another process"),
        "child said: {stdout}"
    );

    // The first process is unaffected and keeps working.
    assert_eq!(
        db.begin_read().unwrap().customer(id).unwrap().name(),
        "王小明"
    );
    drop(db);
    let stdout = run_child();
    assert!(
        stdout.contains("child result: opened 1 customers"),
        "child said: {stdout}"
    );
}

/// Run by the test above in a child process; does nothing when run on its own.
#[test]
#[ignore = "child process of a_second_process_gets_already_open"]
fn child_opens_the_file() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    match Database::open(&path) {
        Ok(db) => {
            let n = db.begin_read().unwrap().customer_count().unwrap();
            println!("child result: opened {n} customers");
        }
        Err(e) => println!("child result: {}: {e}", e.code()),
    }
}
