//! Per-call timings of the owner app's calls (BENCHMARKS.md, "Owner app"): p50 and p99 over
//! `--calls` calls of each, through [`OwnerApp`] (the layer Kotlin and Swift call, minus the
//! FFI hop), on a generated dealer network of `--customers` customers, each call as another
//! owner picked at random. Writes are durable commits (each fsyncs, as on the phone).
//!
//! `cargo run --release --features bench --bin owner-bench -- --customers 50000 --calls 1000`

use std::time::{Duration, Instant};

use autocrm::api::Store;
use autocrm::loyalty::{Adjustment, LoyaltyConfig, Wallet};
use autocrm::{CustomerId, Database};
use autocrm_mobile::{ContactChange, FriendReferral, OwnerApp, OwnerError, CACHE_BYTES};

struct Args {
    customers: usize,
    calls: usize,
    db: String,
}

fn args() -> Args {
    let mut a = Args {
        customers: 50_000,
        calls: 1_000,
        db: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--customers" => a.customers = value.parse().expect("--customers N"),
            "--calls" => a.calls = value.parse().expect("--calls N"),
            "--db" => a.db = value,
            _ => panic!("usage: owner-bench [--customers N] [--calls N] [--db PATH]"),
        }
    }
    if a.db.is_empty() {
        a.db = format!("target/owner-bench-{}.redb", a.customers);
    }
    a
}

/// A small deterministic generator (xorshift), so runs pick the same owners.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    let fresh = !std::path::Path::new(&a.db).exists();
    let db = Database::options().cache_bytes(CACHE_BYTES).open(&a.db)?;
    if fresh {
        let t = Instant::now();
        let cfg = autocrm_synth::SynthConfig::new(a.customers);
        autocrm_synth::Network::new(cfg).load(&db, 2_000, |_| {})?;
        db.write(|tx| {
            if tx.loyalty_config()?.is_none() {
                tx.set_loyalty_config(&LoyaltyConfig::default())?;
            }
            Ok(())
        })?;
        eprintln!("generated {} customers in {:.1?}", a.customers, t.elapsed());
    }
    let store = Store::new(db);
    let (ids, dealer) = store.read()?.with(|r| {
        let dealer = r.dealers()?[0].1.code.clone();
        Ok((r.customer_ids()?, dealer))
    })?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let owners: Vec<CustomerId> = (0..a.calls).map(|_| ids[rng.below(ids.len())]).collect();
    // Points to redeem: a welcome credit for each owner the bench picked.
    let w = store.write()?;
    w.with(|tx| {
        for (i, c) in owners.iter().enumerate() {
            tx.adjust(&Adjustment {
                customer: *c,
                wallet: Wallet::Brand,
                points: 100,
                at: tx.now(),
                operator: "bench".into(),
                reason: "bench credit".into(),
                key: format!("bench/{}/{i}/{}", c.0, std::process::id()),
            })?;
        }
        Ok(())
    })?;
    w.commit()?;
    let apps = owners
        .iter()
        .map(|c| OwnerApp::on_store(&store, c.0))
        .collect::<Result<Vec<_>, _>>()?;
    let at = store.database()?.now().to_string();
    type Call<'a> = (
        &'a str,
        Box<dyn Fn(usize, &OwnerApp) -> Result<(), OwnerError>>,
    );
    let pid = std::process::id();
    let calls: Vec<Call> = vec![
        ("profile", Box::new(|_, o| o.profile().map(drop))),
        ("vehicles", Box::new(|_, o| o.vehicles().map(drop))),
        (
            "history (20)",
            Box::new(|_, o| o.history(None, 20).map(drop)),
        ),
        ("points (90 days)", Box::new(|_, o| o.points(90).map(drop))),
        ("tier", Box::new(|_, o| o.tier().map(drop))),
        ("benefits", Box::new(|_, o| o.benefits().map(drop))),
        (
            "reminders (90 days)",
            Box::new(|_, o| o.reminders(90).map(drop)),
        ),
        ("consents", Box::new(|_, o| o.consents().map(drop))),
        (
            "set_consent (write)",
            Box::new(|i, o| o.set_consent("app".into(), i % 2 == 0)),
        ),
        (
            "update_contact (write)",
            Box::new(|_, o| {
                o.update_contact(ContactChange {
                    phones: None,
                    province: None,
                    city: Some("苏州".into()),
                    address: None,
                })
            }),
        ),
        (
            "redeem (write)",
            Box::new(move |i, o| {
                o.redeem(None, 1, "bench".into(), format!("b/{pid}/{i}"), at.clone())
                    .map(drop)
            }),
        ),
        (
            "refer_friend (write)",
            Box::new(move |i, o| {
                o.refer_friend(FriendReferral {
                    name: "赵六".into(),
                    phone: format!("137{:08}", i),
                    dealer_code: dealer.clone(),
                    model: "ID.4".into(),
                    key: format!("r/{pid}/{i}"),
                })
                .map(drop)
            }),
        ),
    ];
    println!(
        "owner calls on a {}-customer file, {} calls each:",
        ids.len(),
        a.calls
    );
    println!("| call | p50 | p99 |");
    println!("|---|---:|---:|");
    for (name, f) in &calls {
        let mut times = Vec::with_capacity(apps.len());
        for (i, app) in apps.iter().enumerate() {
            let t = Instant::now();
            f(i, app)?;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {name} | {:.1?} | {:.1?} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    Ok(())
}
