//! Group commit (core/src/store: durable commits of writers that queue for the write lock share
//! one fsync): concurrent durable postings all land, each once, with a sound ledger; and a
//! process committing from eight threads, killed with SIGKILL, loses no posting whose commit had
//! returned (each is printed as `ack <key>` only after `write` returns).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autocrm::{Adjustment, Customer, CustomerId, Database, LoyaltyConfig, Wallet};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, t};

const CHILD_DB: &str = "AUTOCRM_GROUP_COMMIT_DB";
const CHILD_RUN: &str = "AUTOCRM_GROUP_COMMIT_RUN";
const THREADS: usize = 8;
const MEMBERS: u64 = 20;

/// A file with `MEMBERS` brand-club members, if it is new.
fn members(db: &Database) {
    if db.begin_read().unwrap().customer_count().unwrap() > 0 {
        return;
    }
    db.write(|w| {
        w.set_loyalty_config(&LoyaltyConfig::default())?;
        for i in 0..MEMBERS {
            let c = w.insert_customer(&Customer::person(format!("会员{}号", i + 1)))?;
            w.join_brand_club(c, d("2024-01-01"), "owner_app")?;
        }
        Ok(())
    })
    .unwrap();
}

fn credit(key: String, n: u64) -> Adjustment {
    Adjustment {
        customer: CustomerId(1 + n % MEMBERS),
        wallet: Wallet::Brand,
        points: 100 + (n % 7) as i64,
        at: t("2025-01-01 09:00"),
        operator: "ops".into(),
        reason: "goodwill".into(),
        key,
    }
}

/// Eight threads each commit `per_thread` durable postings; returns the keys.
fn post_concurrently(db: &Database, tag: &str, per_thread: usize) -> Vec<String> {
    let keys = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (db, keys) = (db.clone(), keys.clone());
            s.spawn(move || {
                for n in 0..per_thread {
                    let key = format!("{tag}-{thread}-{n}");
                    db.write(|w| w.adjust(&credit(key.clone(), n as u64)))
                        .unwrap();
                    keys.lock().unwrap().push(key);
                }
            });
        }
    });
    let keys = keys.lock().unwrap().clone();
    keys
}

fn assert_sound(db: &Database) {
    let check = db.begin_read().unwrap().verify_ledger().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
}

#[test]
fn concurrent_durable_postings_all_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("g.redb")).unwrap();
    members(&db);
    let keys = post_concurrently(&db, "k", 40);
    assert_eq!(keys.len(), THREADS * 40);
    let r = db.begin_read().unwrap();
    for k in &keys {
        assert!(r.posting_by_key(k).unwrap().is_some(), "posting {k}");
    }
    let check = r.verify_ledger().unwrap();
    assert_eq!(check.postings, keys.len() as u64);
    drop(r);
    assert_sound(&db);
    // Reopened, everything is there.
    drop(db);
    let db = Database::open(dir.path().join("g.redb")).unwrap();
    assert_eq!(
        db.begin_read().unwrap().verify_ledger().unwrap().postings,
        keys.len() as u64
    );
}

#[test]
fn a_killed_group_loses_no_acknowledged_posting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut acked: BTreeSet<String> = BTreeSet::new();
    for run in 0..6u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_commits_until_killed",
                "--nocapture",
            ])
            .env(CHILD_DB, &path)
            .env(CHILD_RUN, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ack ").map(str::to_owned))
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(300 + 150 * run));
        child.kill().unwrap();
        child.wait().unwrap();
        let got = reader.join().unwrap();
        assert!(!got.is_empty() || run > 0, "the child committed nothing");
        acked.extend(got);
        let db = Database::open(&path).unwrap();
        let r = db.begin_read().unwrap();
        for k in &acked {
            assert!(
                r.posting_by_key(k).unwrap().is_some(),
                "acknowledged posting {k} lost after the kill of run {run}"
            );
        }
        drop(r);
        assert_sound(&db);
    }
}

/// The child: eight threads posting until killed, printing `ack <key>` after each commit
/// returns.
#[test]
#[ignore = "run by a_killed_group_loses_no_acknowledged_posting"]
fn child_commits_until_killed() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    let run = std::env::var(CHILD_RUN).unwrap();
    let db = Database::open(Path::new(&path)).unwrap();
    members(&db);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (db, out, run) = (db.clone(), out.clone(), run.clone());
            s.spawn(move || {
                for n in 0.. {
                    let key = format!("r{run}-{thread}-{n}");
                    db.write(|w| w.adjust(&credit(key.clone(), n))).unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ack {key}").unwrap();
                    o.flush().unwrap();
                }
            });
        }
    });
}
