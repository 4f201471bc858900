//! `autocrm sync` end to end, and a sync killed (SIGKILL) in the middle of applying a batch —
//! at HQ and in the replica — then resumed: nothing lost, nothing doubled, indexes intact.
//! The kill lands wherever the process happens to be after each delay; every outcome (before,
//! during or after the commit) must resume to the same files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use autocrm::{
    Channel, Customer, Database, Dealer, DealerKind, ServiceKind, Touchpoint, TouchpointKind,
};

#[path = "support/run.rs"]
mod run;
use run::{autocrm, bin, ok};

/// Runs `autocrm --db db args…` and kills it with SIGKILL after `delay`.
fn killed(db: &Path, args: &[&str], delay: Duration) {
    let mut child = bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .spawn()
        .expect("spawns");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

fn dealer(code: &str) -> Dealer {
    Dealer {
        code: code.into(),
        name: format!("{code} 4S"),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    }
}

const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = [
    "小明", "建国", "丽华", "志强", "秀英", "海燕", "国庆", "晓东",
];

fn visit(c: autocrm::CustomerId, d: Option<autocrm::DealerId>, minute: i64) -> Touchpoint {
    let at: autocrm::DateTime = "2025-01-01 08:00".parse().unwrap();
    Touchpoint {
        dealer: d,
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(
            at.add_seconds(minute * 60),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

/// HQ with 400 customers of SH001, five visits each.
fn make_hq(path: &Path) {
    let db = Database::open(path).unwrap();
    db.write(|w| {
        let sh = Some(w.insert_dealer(&dealer("SH001"))?);
        w.insert_dealer(&dealer("BJ002"))?;
        for i in 0..400usize {
            let c = w.insert_customer(&Customer {
                phones: vec![format!("1390000{i:04}")],
                ..Customer::person(format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8]))
            })?;
            for k in 0..5 {
                w.insert_touchpoint(&visit(c, sh, (i * 5 + k) as i64))?;
            }
        }
        Ok(())
    })
    .unwrap();
}

/// (customers, touchpoints) in a file.
fn counts(path: &Path) -> (u64, usize) {
    let db = Database::open(path).unwrap();
    let r = db.begin_read().unwrap();
    let ids = r.customer_ids().unwrap();
    let tps = ids
        .iter()
        .map(|c| r.timeline(*c, None, usize::MAX).unwrap().items.len())
        .sum();
    (ids.len() as u64, tps)
}

fn register(hq: &Path, name: &str) {
    let out = autocrm(hq, &["sync", "register", name, "--scope", "dealer:SH001"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn init(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.redb"));
    ok(&path, &["sync", "init", name, "--scope", "dealer:SH001"]);
    path
}

#[test]
fn the_cli_round_trip_copies_what_the_scope_sees() {
    let dir = tempfile::tempdir().unwrap();
    let hq = dir.path().join("hq.redb");
    make_hq(&hq);
    register(&hq, "sh");
    let replica = init(dir.path(), "sh");
    let up = dir.path().join("up.bin");
    let down = dir.path().join("down.bin");
    ok(&replica, &["sync", "push", "--out", up.to_str().unwrap()]);
    ok(
        &hq,
        &[
            "sync",
            "serve",
            up.to_str().unwrap(),
            "--out",
            down.to_str().unwrap(),
        ],
    );
    let pulled = ok(&replica, &["sync", "pull", down.to_str().unwrap()]);
    assert!(pulled.contains("customers=400"), "{pulled}");
    assert!(ok(&replica, &["sync", "pull", down.to_str().unwrap()]).contains("already_applied"));
    assert_eq!(counts(&replica), (400, 2000));
    let status = ok(&replica, &["sync", "status"]);
    assert!(
        status
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("sh,dealer:SH001,true,"),
        "{status}"
    );
    assert!(ok(&hq, &["sync", "replicas"]).contains("sh,dealer:SH001,"));

    // Errors are the core's, with their codes.
    let out = autocrm(&hq, &["sync", "status"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[invalid_operation.not_a_replica]"));
    std::fs::write(&up, b"garbage").unwrap();
    let out = autocrm(
        &hq,
        &[
            "sync",
            "serve",
            up.to_str().unwrap(),
            "--out",
            down.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("[invalid_operation.sync_batch_unreadable]")
    );
    let out = autocrm(&hq, &["sync", "register", "x", "--scope", "hq:analyst"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[invalid_operation.replica_scope]"));
}

#[test]
fn a_sync_killed_midway_resumes_with_nothing_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let hq = dir.path().join("hq.redb");
    make_hq(&hq);
    let path = |n: &str| dir.path().join(n);
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();

    // How long an undisturbed pull of the first copy takes (process start included), so the
    // kills below land at fractions of it: before, inside and after the apply transaction.
    register(&hq, "timed");
    let timed = init(dir.path(), "timed");
    let (up, down) = (path("up-timed.bin"), path("down-timed.bin"));
    ok(&timed, &["sync", "push", "--out", &s(&up)]);
    ok(&hq, &["sync", "serve", &s(&up), "--out", &s(&down)]);
    let started = std::time::Instant::now();
    ok(&timed, &["sync", "pull", &s(&down)]);
    let whole = started.elapsed();

    // Killed while the replica applies HQ's first copy.
    for (i, fraction) in [0.0, 0.2, 0.4, 0.6, 0.8, 0.95].into_iter().enumerate() {
        let name = format!("v{i}");
        register(&hq, &name);
        let replica = init(dir.path(), &name);
        let (up, down) = (path(&format!("up{i}.bin")), path(&format!("down{i}.bin")));
        ok(&replica, &["sync", "push", "--out", &s(&up)]);
        ok(&hq, &["sync", "serve", &s(&up), "--out", &s(&down)]);
        killed(
            &replica,
            &["sync", "pull", &s(&down)],
            whole.mul_f64(fraction),
        );
        let again = ok(&replica, &["sync", "pull", &s(&down)]);
        assert!(again.starts_with("pulled:"), "{again}");
        ok(&replica, &["sync", "pull", "--hq", &s(&hq)]);
        assert_eq!(
            counts(&replica),
            (400, 2000),
            "killed at {fraction} of a pull"
        );
        ok(&replica, &["check"]);
    }

    // Killed while HQ applies a replica's 300 new visits.
    let replica = path("v0.redb");
    {
        let db = Database::open(&replica).unwrap();
        let r = db.begin_read().unwrap();
        let (sh, ids) = (
            r.dealer_by_code("SH001").unwrap(),
            r.customer_ids().unwrap(),
        );
        drop(r);
        db.write(|w| {
            for k in 0..300usize {
                w.insert_touchpoint(&visit(ids[k % ids.len()], sh, 100_000 + k as i64))?;
            }
            Ok(())
        })
        .unwrap();
    }
    for (i, ms) in [0u64, 20, 60, 150].into_iter().enumerate() {
        let (up, down) = (path(&format!("upx{i}.bin")), path(&format!("downx{i}.bin")));
        ok(&replica, &["sync", "push", "--out", &s(&up)]);
        killed(
            &hq,
            &["sync", "serve", &s(&up), "--out", &s(&down)],
            Duration::from_millis(ms),
        );
        ok(&hq, &["check"]);
    }
    ok(&replica, &["sync", "pull", "--hq", &s(&hq)]);
    assert_eq!(counts(&hq), (400, 2300), "each visit reached HQ once");
    assert!(ok(&replica, &["sync", "status"])
        .lines()
        .nth(1)
        .unwrap()
        .ends_with(",0,0"));
    assert_eq!(counts(&replica), (400, 2300));
}
