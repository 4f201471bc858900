//! `kill -9` of an import, then the same import run again, ends in the state of a clean run:
//! a child process (this test binary, re-run with `--ignored --exact child_imports_until_killed`)
//! imports a small generated demo (DMS customers first, the order `import demo/*.csv` gives)
//! into a database file in small batches; the parent kills it with SIGKILL after a random
//! delay, runs the whole import again and compares a canonical dump of the store with that of
//! an uninterrupted import.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use autocrm::import::{import_file, ImportOptions};
use autocrm::integration::RecordKind;
use autocrm::*;
use autocrm_synth::dirty::{insert_dealers, write_dirty_csvs, DirtyConfig};

#[path = "support/dump.rs"]
mod dump;

const TRIALS: u64 = 8;

fn config() -> DirtyConfig {
    DirtyConfig {
        seed: 11,
        dirt: 0.3,
        ..DirtyConfig::new(300)
    }
}

/// The demo's files in the order a shell glob gives them: DMS, finance, invoice customers,
/// then the vehicles.
fn files(dir: &Path) -> Vec<(PathBuf, RecordKind)> {
    let mut f: Vec<(PathBuf, RecordKind)> = write_dirty_csvs(dir, &config())
        .unwrap()
        .files
        .into_iter()
        .map(|f| (f.path, f.kind))
        .collect();
    f.sort_by(|a, b| a.0.cmp(&b.0));
    f
}

fn import_all(db: &Database, files: &[(PathBuf, RecordKind)]) {
    for (path, kind) in files {
        let opts = ImportOptions {
            batch_size: 13,
            ..ImportOptions::new(*kind, "2026-07-01 08:00".parse().unwrap())
        };
        import_file(db, path, &opts, |_| {}).unwrap();
    }
}

/// The child: imports the files named by the environment into the database it names, until
/// killed (or done).
#[test]
#[ignore]
fn child_imports_until_killed() {
    let (Ok(db), Ok(dir)) = (
        std::env::var("AUTOCRM_CRASH_DB"),
        std::env::var("AUTOCRM_CRASH_FILES"),
    ) else {
        return;
    };
    let db = Database::open(db).unwrap();
    let files = files(Path::new(&dir));
    import_all(&db, &files);
}

#[test]
fn a_killed_import_run_again_ends_as_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let files_dir = dir.path().join("demo");
    std::fs::create_dir(&files_dir).unwrap();
    let files = files(&files_dir);
    assert_eq!(files[0].0.file_name().unwrap(), "customers_dms.csv");

    let clean = Database::in_memory().unwrap();
    insert_dealers(&clean, &config()).unwrap();
    import_all(&clean, &files);
    let expected = dump::canonical_dump(&clean);

    let exe = std::env::current_exe().unwrap();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut identical = 0;
    let mut interrupted = 0;
    let full = clean.begin_read().unwrap().customer_count().unwrap()
        + clean.begin_read().unwrap().vehicle_count().unwrap();
    for trial in 0..TRIALS {
        let path = dir.path().join(format!("crash-{trial}.redb"));
        {
            let db = Database::open(&path).unwrap();
            insert_dealers(&db, &config()).unwrap();
        }
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = 50 + (rng >> 33) % 1500;
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "child_imports_until_killed",
                "--quiet",
            ])
            .env("AUTOCRM_CRASH_DB", &path)
            .env("AUTOCRM_CRASH_FILES", &files_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        let db = Database::open(&path).unwrap();
        let r = db.begin_read().unwrap();
        interrupted += u64::from(r.customer_count().unwrap() + r.vehicle_count().unwrap() < full);
        drop(r);
        import_all(&db, &files);
        let got = dump::canonical_dump(&db);
        if got == expected {
            identical += 1;
        } else {
            let only: Vec<&String> = got
                .iter()
                .filter(|x| !expected.contains(x))
                .take(3)
                .collect();
            eprintln!("trial {trial} (killed after {delay} ms) differs: {only:#?}");
        }
    }
    assert!(interrupted > 0, "no child was killed mid-import");
    assert_eq!(identical, TRIALS, "crash trials identical to a clean run");
    eprintln!("{identical} of {TRIALS} crash trials identical ({interrupted} killed mid-import)");
}
