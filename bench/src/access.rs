//! The cost of access scopes on the customer 360 read: the same reads unscoped (a read
//! transaction per call, as a front end makes them) and scoped — as an HQ role that sees
//! everyone (masking and the audit trail: an entry queued per read, appended in batches of
//! `AUDIT_BATCH`) and as a dealer over the customers it serves (plus the visibility check and
//! the dealer's own-records filter). Runs on the autocrm file the store section left.

use std::path::Path;
use std::time::{Duration, Instant};

use autocrm::access::Scope;
use autocrm::api::Store;
use autocrm::{CustomerId, Database};

use crate::workload;
use crate::BenchResult;

/// Reads per timed round.
const READS: usize = 5_000;
/// Rounds; the median counts.
const ROUNDS: usize = 7;
const TIMELINE: usize = 20;

/// One size's figures.
pub struct AccessResult {
    customers: usize,
    unscoped: Duration,
    hq: Duration,
    dealer_reads: usize,
    dealer_unscoped: Duration,
    dealer: Duration,
}

fn median(mut f: impl FnMut() -> BenchResult<()>) -> BenchResult<Duration> {
    f()?; // warm-up
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[ROUNDS / 2])
}

/// Measures on the database the store section left in `dir`.
pub fn run_size(size: usize, dir: &Path) -> BenchResult<AccessResult> {
    eprintln!("  access: 360 reads unscoped vs scoped");
    let store = Store::new(Database::open(dir.join("autocrm.redb"))?);
    let ids = workload::random_customer_ids(size as u64, READS, 11);
    let unscoped_of = |ids: &[CustomerId]| -> BenchResult<()> {
        for &id in ids {
            let r = store.read()?;
            std::hint::black_box(r.with(|r| r.customer_360(id, TIMELINE))?);
        }
        Ok(())
    };
    let unscoped = median(|| unscoped_of(&ids))?;
    let hq = store.scoped(&Scope::Hq("data_admin".into()), "bench")?;
    let hq_time = median(|| {
        for &id in &ids {
            std::hint::black_box(hq.customer_360(id, TIMELINE)?);
        }
        Ok(())
    })?;
    // The first dealer, over the customers of the sample it serves.
    let code = store.read()?.with(|r| r.dealers())?[0].1.code.clone();
    let dealer = store.scoped(&Scope::Dealer(code), "bench")?;
    let served: Vec<CustomerId> = ids
        .iter()
        .copied()
        .filter(|&id| dealer.customer_360(id, 1).is_ok())
        .collect();
    let dealer_unscoped = median(|| unscoped_of(&served))?;
    let dealer_time = median(|| {
        for &id in &served {
            std::hint::black_box(dealer.customer_360(id, TIMELINE)?);
        }
        Ok(())
    })?;
    store.flush_audit()?;
    Ok(AccessResult {
        customers: size,
        unscoped,
        hq: hq_time,
        dealer_reads: served.len(),
        dealer_unscoped,
        dealer: dealer_time,
    })
}

/// The access section of the report.
pub fn report(results: &[AccessResult]) -> String {
    let mut s = String::from("\n### Access scopes: the audited 360 read\n\n");
    s.push_str(&format!(
        "{READS} random customers per round, median of {ROUNDS} rounds after a warm-up; a read \
         transaction per call in every column. Overhead is the scoped time over the unscoped \
         time of the same reads (goal: ≤ 1.20× for the audited read).\n\n\
         | customers | reads | unscoped | as hq:data_admin (masking + audit) | overhead | \
         dealer reads (served) | unscoped | as the dealer | overhead |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    let per = |d: Duration, n: usize| format!("{:.1} µs", d.as_secs_f64() * 1e6 / n.max(1) as f64);
    let ratio =
        |a: Duration, b: Duration| format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64().max(1e-12));
    for r in results {
        s.push_str(&format!(
            "| {} | {READS} | {} | {} | {} | {} | {} | {} | {} |\n",
            crate::report::thousands(r.customers as u64),
            per(r.unscoped, READS),
            per(r.hq, READS),
            ratio(r.hq, r.unscoped),
            r.dealer_reads,
            per(r.dealer_unscoped, r.dealer_reads),
            per(r.dealer, r.dealer_reads),
            ratio(r.dealer, r.dealer_unscoped),
        ));
    }
    s
}
