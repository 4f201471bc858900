//! Crash test of the loyalty ledger: a child process (this test binary run again with
//! `--ignored --exact child_posts_until_killed`) writes random durable postings to a database
//! file, one committed transaction each, and after each commit returns prints `ack <key>` for
//! every posting that commit made. The parent kills it with SIGKILL after a random delay, reopens
//! the file and checks that
//!
//! - `verify_ledger` finds no problem (balances = postings = live lots, keys unique, draws
//!   agree with lots, queues hold exactly the live lots);
//! - every key ever acknowledged (by this child or an earlier one) has exactly one posting:
//!   the postings of all customers carry distinct keys, as many as `verify_ledger` counted, and
//!   `posting_by_key` finds each acknowledged one;
//! - nothing found after an earlier kill has gone or moved to another posting id (the ledger is
//!   append-only).
//!
//! The same file is used for every iteration, so later children open, recover and continue a
//! file killed in the middle of a write. Every fourth child is killed without waiting for it to
//! report that it is ready, so some die while opening (and recovering) the file.
//!
//! `LEDGER_CRASH_ITERATIONS` (default 20) sets the number of children, `LEDGER_CRASH_SEED` the
//! seed of the delays and of the children's random operations.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use autocrm::{
    Adjustment, Channel, Customer, CustomerId, Database, Date, DealerId, Error, LoyaltyConfig,
    Money, PostingKind, Redemption, Reversal, SourceRef, Touchpoint, TouchpointKind, Wallet,
};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer};

const CHILD_DB: &str = "AUTOCRM_LEDGER_CRASH_DB";
const CHILD_RUN: &str = "AUTOCRM_LEDGER_CRASH_RUN";
const CHILD_SEED: &str = "AUTOCRM_LEDGER_CRASH_SEED";

/// splitmix64: a tiny deterministic generator, enough for delays and operation mixes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// The parent.

/// What the child printed, line by line (complete lines only), and its stderr.
enum Line {
    Out(String),
    Err(String),
}

/// Reads complete lines from `r` into `tx` until end of file; a last line without its newline
/// (cut off by the kill) is dropped.
fn pump(r: impl Read, tx: mpsc::Sender<Line>, wrap: fn(String) -> Line) {
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.ends_with('\n') => {
                line.pop();
                if tx.send(wrap(line)).is_err() {
                    return;
                }
            }
            Ok(_) => return,
        }
    }
}

fn spawn_child(path: &Path, run: u64, seed: u64) -> (Child, mpsc::Receiver<Line>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_posts_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, path)
        .env(CHILD_RUN, run.to_string())
        .env(CHILD_SEED, seed.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child process");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || pump(out, tx, Line::Out));
    std::thread::spawn(move || pump(err, tx2, Line::Err));
    (child, rx)
}

#[cfg(unix)]
fn killed_by_us(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

#[cfg(not(unix))]
fn killed_by_us(status: std::process::ExitStatus) -> bool {
    !status.success()
}

/// Everything the reopened file must satisfy; returns every key found with its posting id.
fn check_file(
    path: &Path,
    acked: &BTreeSet<String>,
    before: &BTreeMap<String, u64>,
) -> Result<BTreeMap<String, u64>, String> {
    let db = Database::open(path).map_err(|e| format!("reopen after the kill: {e}"))?;
    let r = db.begin_read().map_err(|e| e.to_string())?;
    let check = r.verify_ledger().map_err(|e| e.to_string())?;
    if !check.problems.is_empty() {
        return Err(format!("verify_ledger: {:#?}", check.problems));
    }
    let mut found = BTreeMap::new();
    for c in r.customer_ids().map_err(|e| e.to_string())? {
        for (id, p) in r.postings_of(c).map_err(|e| e.to_string())? {
            if let Some(other) = found.insert(p.key.clone(), id) {
                return Err(format!("key {:?} on postings {other} and {id}", p.key));
            }
        }
    }
    if found.len() as u64 != check.postings {
        return Err(format!(
            "{} distinct keys among the customers' postings, {} postings in the ledger",
            found.len(),
            check.postings
        ));
    }
    for key in acked {
        match r.posting_by_key(key).map_err(|e| e.to_string())? {
            Some((id, p)) if p.key == *key && found.get(key) == Some(&id) => {}
            other => return Err(format!("acknowledged key {key:?} gives {other:?}")),
        }
    }
    for (key, id) in before {
        if found.get(key) != Some(id) {
            return Err(format!(
                "key {key:?} was on posting {id} after an earlier kill, now {:?}",
                found.get(key)
            ));
        }
    }
    Ok(found)
}

#[test]
fn acknowledged_postings_survive_sigkill() {
    let iterations = env_u64("LEDGER_CRASH_ITERATIONS", 20);
    let seed = env_u64("LEDGER_CRASH_SEED", 0x5eed_1ed9);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let mut rng = Rng(seed);
    let mut acked = BTreeSet::new();
    let mut found = BTreeMap::new();
    let started = Instant::now();
    for run in 0..iterations {
        let early = run % 4 == 3;
        let delay = Duration::from_millis(if early {
            rng.below(80)
        } else {
            20 + rng.below(281)
        });
        let (mut child, rx) = spawn_child(&path, run, rng.next());
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut take = |line: Line, out: &mut Vec<String>| match line {
            Line::Out(l) => out.push(l),
            Line::Err(l) => err.push(l),
        };
        if !early {
            // The delay counts from when the child has opened the file and set up the club.
            let deadline = Instant::now() + Duration::from_secs(20);
            while !out.iter().any(|l| l == "ready") {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(line) => take(line, &mut out),
                    Err(_) => break,
                }
            }
        }
        std::thread::sleep(delay);
        child.kill().expect("kill the child");
        let status = child.wait().expect("wait for the child");
        // The pumps end at end of file: everything the child printed before it died.
        for line in rx {
            take(line, &mut out);
        }
        let context = || {
            format!(
                "run {run} (seed {seed}, delay {delay:?}, early {early}): child {status:?}\n\
                 stdout tail: {:#?}\nstderr: {:#?}",
                &out[out.len().saturating_sub(10)..],
                err
            )
        };
        assert!(
            killed_by_us(status),
            "the child ended on its own: {}",
            context()
        );
        let acks: Vec<&str> = out.iter().filter_map(|l| l.strip_prefix("ack ")).collect();
        acked.extend(acks.iter().map(|k| k.to_string()));
        found = match check_file(&path, &acked, &found) {
            Ok(f) => f,
            Err(e) => panic!("{e}\n{}", context()),
        };
        eprintln!(
            "run {run}: killed after {delay:?}{}, {} acks, {} postings in the file",
            if early { " from spawn" } else { " from ready" },
            acks.len(),
            found.len()
        );
    }
    eprintln!(
        "{iterations} kills, {} acknowledged postings, {} postings in {:?}",
        acked.len(),
        found.len(),
        started.elapsed()
    );
    if iterations >= 8 {
        assert!(
            acked.len() >= 20,
            "the children acknowledged only {} postings: the test exercised too little",
            acked.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The child.

/// A request that made a posting, for re-sending under the same key.
#[derive(Clone, Debug)]
enum Request {
    Redeem(Redemption),
    Adjust(Adjustment),
    Reverse(Reversal),
}

struct Writer<W: Write> {
    db: Database,
    out: W,
    customers: Vec<CustomerId>,
    wallets: Vec<Wallet>,
    dealers: Vec<DealerId>,
    /// The id the next posting will get.
    next_posting: u64,
    /// Every credit in the ledger (reversal candidates).
    credits: Vec<u64>,
    /// Requests this child made successfully, with their posting ids.
    done: Vec<(Request, u64)>,
    /// Touchpoints this child wrote, for re-delivery.
    touchpoints: Vec<Touchpoint>,
}

/// Short lots, so that expiry runs find something.
fn club_config() -> LoyaltyConfig {
    LoyaltyConfig {
        lot_days: 40,
        ..LoyaltyConfig::default()
    }
}

impl<W: Write> Writer<W> {
    /// Opens the file; sets up the club (config, dealers, customers, memberships) in one
    /// transaction unless an earlier child did.
    fn open(path: &Path, out: W) -> autocrm::Result<Writer<W>> {
        let db = Database::open(path)?;
        db.write(|tx| {
            if tx.loyalty_config()?.is_some() {
                return Ok(());
            }
            let start = d("2024-01-01");
            tx.set_loyalty_config(&club_config())?;
            let d1 = tx.insert_dealer(&dealer("SH001"))?;
            let d2 = tx.insert_dealer(&dealer("SH002"))?;
            let a = tx.insert_customer(&Customer::person("王小明"))?;
            let b = tx.insert_customer(&Customer::person("李华"))?;
            let c = tx.insert_customer(&Customer::person("张伟"))?;
            tx.join_dealer_club(a, d1, start, "dealer")?;
            tx.join_dealer_club(a, d2, start, "dealer")?;
            tx.join_dealer_club(b, d1, start, "dealer")?;
            tx.join_brand_club(c, start, "owner_app")?;
            Ok(())
        })?;
        let r = db.begin_read()?;
        assert_eq!(r.loyalty_config()?, Some(club_config()));
        let customers = r.customer_ids()?;
        let dealers: Vec<DealerId> = r.dealers()?.into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            (customers.len(), dealers.len()),
            (3, 2),
            "the club as set up"
        );
        let mut next_posting = 1;
        let mut credits = Vec::new();
        for &c in &customers {
            for (id, p) in r.postings_of(c)? {
                next_posting = next_posting.max(id + 1);
                if matches!(p.kind, PostingKind::Earn | PostingKind::Adjust) && p.points > 0 {
                    credits.push(id);
                }
            }
        }
        drop(r);
        let wallets = std::iter::once(Wallet::Brand)
            .chain(dealers.iter().map(|&dl| Wallet::Dealer(dl)))
            .collect();
        Ok(Writer {
            db,
            out,
            customers,
            wallets,
            dealers,
            next_posting,
            credits,
            done: Vec::new(),
            touchpoints: Vec::new(),
        })
    }

    /// Prints `ack <key>` for every posting committed since the last call (posting ids grow by
    /// one per posting). Returns how many there were.
    fn ack_new(&mut self) -> autocrm::Result<usize> {
        let r = self.db.begin_read()?;
        let mut n = 0;
        loop {
            let p = match r.posting(self.next_posting) {
                Ok(p) => p,
                Err(Error::NotFound { .. }) => break,
                Err(e) => return Err(e),
            };
            if matches!(p.kind, PostingKind::Earn | PostingKind::Adjust) && p.points > 0 {
                self.credits.push(self.next_posting);
            }
            writeln!(self.out, "ack {}", p.key).unwrap();
            self.next_posting += 1;
            n += 1;
        }
        self.out.flush().unwrap();
        Ok(n)
    }

    /// One random operation in its own committed transaction; refusals (not enough points, a
    /// credit reversed before) commit nothing.
    fn step(&mut self, rng: &mut Rng, run: u64, n: u64, today: Date) -> autocrm::Result<()> {
        let at = today.at(9 + (n % 10) as u32, 0, 0);
        let key = format!("run{run}/op{n}");
        let c = *rng.pick(&self.customers);
        let wallet = *rng.pick(&self.wallets);
        let result = match rng.below(100) {
            0..=34 => {
                let dealer = *rng.pick(&self.dealers);
                let base = |kind, channel| Touchpoint {
                    dealer: Some(dealer),
                    source: Some(SourceRef::new("dms", key.clone())),
                    ..Touchpoint::new(at, c, channel, kind)
                };
                let t = match rng.below(3) {
                    0 => Touchpoint {
                        amount: Some(Money(rng.below(500_000) as i64)),
                        ..base(TouchpointKind::Purchase, Channel::Showroom)
                    },
                    1 => Touchpoint {
                        labour_amount: Some(Money(rng.below(200_000) as i64)),
                        parts_amount: Some(Money(rng.below(300_000) as i64)),
                        ..base(TouchpointKind::ServiceVisit, Channel::Showroom)
                    },
                    _ => base(TouchpointKind::ForumPost, Channel::App),
                };
                let t = match self.touchpoints.len() {
                    // Now and then the feed delivers an earlier touchpoint again.
                    len if len > 0 && rng.below(8) == 0 => {
                        self.touchpoints[rng.below(len as u64) as usize].clone()
                    }
                    _ => t,
                };
                // The run may be ahead of the clock: the transaction says it is `at`.
                self.db.write(|tx| {
                    tx.set_now(at);
                    tx.insert_touchpoint(&t)
                })?;
                self.touchpoints.push(t);
                Ok(())
            }
            35..=59 => {
                let can = self.db.begin_read()?.spendable(c, wallet, today)?;
                let r = Redemption {
                    customer: c,
                    wallet,
                    points: 1 + rng.below((can as u64) * 6 / 5 + 1) as i64,
                    at,
                    dealer: None,
                    item: "car wash".into(),
                    key,
                };
                self.db
                    .write(|tx| tx.redeem(&r))
                    .map(|id| self.done.push((Request::Redeem(r), id)))
            }
            60..=71 => {
                let points = if rng.below(2) == 0 {
                    1 + rng.below(2000) as i64
                } else {
                    -1 - rng.below(500) as i64
                };
                let a = Adjustment {
                    customer: c,
                    wallet,
                    points,
                    at,
                    operator: "op1".into(),
                    reason: "correction".into(),
                    key,
                };
                self.db
                    .write(|tx| tx.adjust(&a))
                    .map(|id| self.done.push((Request::Adjust(a), id)))
            }
            72..=83 if !self.credits.is_empty() => {
                let r = Reversal {
                    credit: *rng.pick(&self.credits),
                    at,
                    operator: "op1".into(),
                    reason: "refund".into(),
                    key,
                };
                self.db
                    .write(|tx| tx.reverse(&r))
                    .map(|id| self.done.push((Request::Reverse(r), id)))
            }
            84..=89 => self.db.write(|tx| tx.expire_lots(today)).map(drop),
            _ if !self.done.is_empty() => {
                // The same request again under its key: the same posting, nothing new.
                let (req, id) = rng.pick(&self.done).clone();
                let again = self.db.write(|tx| match &req {
                    Request::Redeem(r) => tx.redeem(r),
                    Request::Adjust(a) => tx.adjust(a),
                    Request::Reverse(r) => tx.reverse(r),
                })?;
                assert_eq!(again, id, "re-sent {req:?}");
                assert_eq!(self.ack_new()?, 0, "re-sent {req:?} made a posting");
                Ok(())
            }
            _ => self.db.write(|tx| tx.expire_lots(today)).map(drop),
        };
        match result {
            Err(Error::InsufficientPoints { .. } | Error::InvalidOperation { .. }) => Ok(()),
            other => other,
        }
    }
}

/// Run by the test above in a child process; does nothing when run on its own.
#[test]
#[ignore = "child process of acknowledged_postings_survive_sigkill"]
fn child_posts_until_killed() {
    let Some(path) = std::env::var_os(CHILD_DB) else {
        return;
    };
    let run = env_u64(CHILD_RUN, 0);
    let mut rng = Rng(env_u64(CHILD_SEED, 0));
    let mut out = std::io::stdout().lock();
    // The test harness has printed `test child_posts_until_killed ... ` without a newline:
    // end that line so that ours start at the beginning of one.
    writeln!(out).unwrap();
    let mut w = Writer::open(Path::new(&path), out).unwrap();
    // Postings committed by an earlier child after its last ack are acknowledged now.
    w.ack_new().unwrap();
    writeln!(w.out, "ready").unwrap();
    w.out.flush().unwrap();
    // Each child starts a little later than the one before and moves a day every few
    // operations, so lots of 40 days expire over the iterations.
    let start = d("2024-01-01").add_days(run as i32 * 12);
    for n in 0.. {
        let today = start.add_days((n / 4) as i32);
        w.step(&mut rng, run, n, today).unwrap();
        w.ack_new().unwrap();
    }
}
