//! Running the `autocrm` binary from the CLI's integration tests.
// Each test binary includes this file and uses only some of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_autocrm"))
}

/// `autocrm --db db args…`, its output whatever the exit status.
pub fn autocrm(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `autocrm --db db args…`, which must succeed: its standard output.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = autocrm(db, args);
    assert!(
        out.status.success(),
        "autocrm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}
