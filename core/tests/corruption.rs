//! A damaged file is an error, never a crash and never silently different data.
//!
//! A small synthetic database is written once; each seeded trial damages a copy — one flipped
//! bit, or one 512-byte block overwritten with random bytes, at a random offset — then opens it
//! read-only and read-write and reads everything through the public API (every customer's 360°
//! view, the facts snapshot, the integrity check), as the CLI and the bindings do: under
//! [`autocrm::guard`]. Every failure must be `Error::Corrupt` (code `corrupt`); when everything
//! reads without an error, the data must equal the original, or the integrity check must report
//! a problem.
//!
//! One outcome is accepted and counted apart: redb keeps two commit slots, and when the newest
//! one is damaged its recovery falls back to the previous commit. The data then equals the
//! database as of that commit — an older, consistent state (what a crash before the last commit
//! leaves), not misread data. The test recognises it by comparing with that state.
//!
//! `AUTOCRM_CORRUPTION_TRIALS=n` changes the number of trials (default 40 of each kind, 160
//! opens: about 35 s in a debug build).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use autocrm::*;
use autocrm_synth::{Network, SynthConfig};

/// xorshift64*: a seeded generator, so a failing trial can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A digest of everything the public read API returns.
fn read_everything(db: &Database) -> Result<u64> {
    let r = db.begin_read()?;
    let mut h = DefaultHasher::new();
    for id in r.customer_ids()? {
        format!("{:?}", r.customer_360(id, usize::MAX)?).hash(&mut h);
    }
    format!("{:?}", r.facts()?).hash(&mut h);
    format!("{:?}", r.dealers()?).hash(&mut h);
    format!("{:?}", r.all_vehicles()?).hash(&mut h);
    Ok(h.finish())
}

/// What one open-and-read of a damaged copy gave.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Outcome {
    /// Opened, read and checked; the data equals the original.
    Same,
    /// Read without error, but the integrity check reported the damage.
    FlaggedByCheck,
    /// redb recovered the previous commit (see the module docs).
    PreviousCommit,
    /// A typed `corrupt` error (from a record checksum, redb's own checks, or a caught panic).
    Corrupt,
    /// The same, from a panic inside the storage engine caught by the guard.
    CorruptFromPanic,
}

struct Originals {
    last: u64,
    previous: u64,
}

/// Opens `path` (read-only or not), reads everything and checks. `Err` is a test failure: an
/// error other than `corrupt`, or silently different data.
fn trial(path: &Path, read_only: bool, want: &Originals) -> std::result::Result<Outcome, String> {
    let run = autocrm::guard(|| {
        let mut db = Database::options().read_only(read_only).open(path)?;
        let data = read_everything(&db)?;
        let report = db.check()?;
        Ok((data, report))
    });
    match run {
        Ok((data, _)) if data == want.last => Ok(Outcome::Same),
        Ok((_, report)) if !report.is_ok() => Ok(Outcome::FlaggedByCheck),
        Ok((data, _)) if data == want.previous => Ok(Outcome::PreviousCommit),
        Ok((_, report)) => Err(format!(
            "read without error, data differs, and the check found nothing:\n{report}"
        )),
        Err(Error::Corrupt {
            source: Damage::Panic(_),
            ..
        }) => Ok(Outcome::CorruptFromPanic),
        Err(e) if e.code() == "corrupt" => Ok(Outcome::Corrupt),
        Err(e) => Err(format!("error {e:?} [{}] is not `corrupt`", e.code())),
    }
}

#[test]
fn damaged_files_fail_with_corrupt_or_read_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.redb");
    let previous = {
        let db = Database::open(&original).unwrap();
        Network::new(SynthConfig::new(300))
            .load(&db, 100, |_| {})
            .unwrap();
        let previous = read_everything(&db).unwrap();
        // A last commit, so a fallback to the previous one shows as a different state.
        db.write(|tx| tx.insert_customer(&Customer::person("吴芳")).map(|_| ()))
            .unwrap();
        previous
    };
    // Reopen once so the file is as a clean close leaves it.
    let last = read_everything(&Database::open(&original).unwrap()).unwrap();
    let want = Originals { last, previous };
    let bytes = std::fs::read(&original).unwrap();

    // Damage at random offsets makes redb panic on some files; the guard turns those panics
    // into errors, and the default hook would print each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    let trials: usize = std::env::var("AUTOCRM_CORRUPTION_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    let mut counts: BTreeMap<(&str, &str, Outcome), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let copy = dir.path().join("damaged.redb");
    for n in 0..2 * trials {
        let mut damaged = bytes.clone();
        let kind = if n % 2 == 0 { "bit" } else { "block" };
        let at = if kind == "bit" {
            let at = rng.below(damaged.len());
            damaged[at] ^= 1 << rng.below(8);
            at
        } else {
            let at = rng.below(damaged.len() - 512);
            for b in &mut damaged[at..at + 512] {
                *b = rng.next() as u8;
            }
            at
        };
        for read_only in [true, false] {
            std::fs::write(&copy, &damaged).unwrap();
            let mode = if read_only { "read-only" } else { "read-write" };
            match trial(&copy, read_only, &want) {
                Ok(outcome) => *counts.entry((kind, mode, outcome)).or_default() += 1,
                Err(e) => failures.push(format!("trial {n} ({kind} at {at}, {mode}): {e}")),
            }
        }
    }
    std::panic::set_hook(hook);

    let opens = 4 * trials;
    let errors: usize = counts
        .iter()
        .filter(|((_, _, o), _)| matches!(o, Outcome::Corrupt | Outcome::CorruptFromPanic))
        .map(|(_, n)| n)
        .sum();
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    eprintln!(
        "corruption trials: {opens} opens of {} damaged copies of a {} KB file (hash {:016x})",
        2 * trials,
        bytes.len() / 1024,
        h.finish()
    );
    for ((kind, mode, outcome), n) in &counts {
        eprintln!("  {kind:5} {mode:10} {outcome:?}: {n}");
    }
    eprintln!(
        "  typed corrupt errors: {errors}; failures (other errors or silent differences): {}",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        errors > 0,
        "the damage was never detected: the test damages nothing"
    );
}
