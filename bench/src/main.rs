//! # autocrm-bench: autocrm side by side with SQLite and raw redb
//!
//! ```sh
//! cargo run --release -p autocrm-bench -- [--customers 100000,1000000] [--dir PATH] [--quick]
//! ```
//!
//! One run generates a synthetic dealer network (`autocrm::synth`, seed 42) per size and loads
//! the same records, in the same order, into three stores in the same process:
//!
//! 1. **autocrm**, through its public API: validation and normalisation, unique-key, reference
//!    and source-record checks, indexes, rollups ([`autocrm_side`]).
//! 2. **SQLite** via rusqlite (bundled): WAL, `synchronous=FULL`, 1 GiB page cache, prepared
//!    statements, the same tables, unique keys and secondary indexes ([`sqlite`]).
//! 3. **raw redb**: autocrm's tables and encoded records written directly, without any of its
//!    logic ([`rawredb`]).
//!
//! Then it measures four operations on each store (inputs prepared before the clock starts,
//! the same inputs for all three):
//!
//! - **batched ingest**: dealers, then customers with their vehicles (new and used, i.e.
//!   ownership changes), touchpoints, leads, complaints, surveys and relations, 1,000
//!   customers per durable transaction. Reported as rows/s; rows are every record written.
//! - **customer 360 read**: 20,000 random customers (fixed seed): autocrm
//!   `customer_360(id, 20)`; SQLite the queries a user would write (customer row, phones,
//!   vehicles with their ownership through a join, `COUNT`/`SUM … GROUP BY kind` over the
//!   customer's touchpoints, the newest 20 touchpoints, relations, leads, complaints,
//!   surveys); raw redb the same table reads autocrm does, minus the rollup (it keeps none).
//! - **durable single write**: 2,000 transactions of one touchpoint each, each commit fsynced.
//!   Reported as median and p99 latency and writes/s.
//! - **point get**: 200,000 random customers by id, decoded, in one read transaction per
//!   round.
//!
//! To keep background noise on a shared machine from favouring one store, the stores take
//! turns: ingest batch by batch, reads in rounds, writes one by one, rotating which store goes
//! first. Reads and writes are preceded by an untimed warm-up.
//!
//! ## Reading the ratios
//!
//! - **autocrm vs SQLite** is a throughput ratio: SQLite's time divided by autocrm's. Above 1
//!   autocrm is faster; 2.00× means it does the same work in half the time.
//! - **autocrm / raw redb** is a time ratio, the overhead factor of autocrm's logic over the
//!   storage it sits on: 1.00× would be free, 1.50× means autocrm takes 50 % longer.
//!
//! `--quick` runs a 2,000-customer smoke configuration in seconds (CI runs it so the benchmark
//! does not rot); its numbers are too small to quote.

mod autocrm_side;
mod rawredb;
mod report;
mod sqlite;
mod store;
mod workload;

use std::path::{Path, PathBuf};
use std::time::Instant;

use autocrm::synth::{Network, SynthConfig};

use crate::report::{SizeResult, StoreFigures};
use crate::store::{Store, ViewDigest};
use crate::workload::{Plan, SingleWrite};

/// Errors end the run: a benchmark that failed half-way has nothing to report.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What to run.
#[derive(Clone, Debug)]
struct Config {
    /// Network sizes (customers), one full run each.
    sizes: Vec<usize>,
    /// Where database files go (in a fresh subdirectory, removed afterwards).
    dir: PathBuf,
    /// Customers per ingest transaction.
    batch: usize,
    /// Timed 360° reads per store.
    views: usize,
    /// Timed single durable writes per store.
    writes: usize,
    /// Timed point gets per store.
    gets: usize,
    /// Rounds the reads are split into (the stores take turns between rounds).
    rounds: usize,
    /// Untimed warm-up operations before the reads and writes.
    warm_views: usize,
    warm_writes: usize,
    warm_gets: usize,
    quick: bool,
}

impl Config {
    fn full() -> Config {
        Config {
            sizes: vec![100_000],
            dir: std::env::temp_dir(),
            batch: 1_000,
            views: 20_000,
            writes: 2_000,
            gets: 200_000,
            rounds: 10,
            warm_views: 2_000,
            warm_writes: 20,
            warm_gets: 20_000,
            quick: false,
        }
    }

    fn quick() -> Config {
        Config {
            sizes: vec![2_000],
            views: 2_000,
            writes: 100,
            gets: 20_000,
            rounds: 2,
            warm_views: 200,
            warm_writes: 5,
            warm_gets: 2_000,
            quick: true,
            ..Config::full()
        }
    }
}

const USAGE: &str = "usage: autocrm-bench [--customers N[,N...]] [--dir PATH] [--quick]

  --customers 100000,1000000  network sizes to run (default 100000)
  --dir PATH                  where the database files go (default: the system temp dir);
                              a fresh subdirectory is created and removed afterwards
  --quick                     2,000-customer smoke run (seconds; numbers not meaningful)";

fn parse_args() -> Result<Config, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = if args.iter().any(|a| a == "--quick") {
        Config::quick()
    } else {
        Config::full()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => {}
            "--customers" => {
                config.sizes = value()?
                    .split(',')
                    .map(|s| {
                        let n: usize = s
                            .trim()
                            .replace('_', "")
                            .parse()
                            .map_err(|e| format!("--customers {s}: {e}"))?;
                        if n == 0 {
                            return Err("--customers: sizes must be positive".to_string());
                        }
                        Ok(n)
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--dir" => config.dir = value()?.into(),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(config)
}

fn main() {
    let config = parse_args().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    if let Err(e) = run(&config) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// A scratch directory removed when dropped, also when the run fails.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(parent: &Path) -> BenchResult<ScratchDir> {
        let dir = parent.join(format!("autocrm-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("warning: could not remove {}: {e}", self.0.display());
        }
    }
}

fn run(config: &Config) -> BenchResult<()> {
    let scratch = ScratchDir::create(&config.dir)?;
    let mut results = Vec::new();
    for &size in &config.sizes {
        let dir = scratch.0.join(format!("customers-{size}"));
        std::fs::create_dir_all(&dir)?;
        results.push(run_size(config, size, &dir)?);
        std::fs::remove_dir_all(&dir)?;
    }
    drop(scratch);
    print_report(config, &results);
    Ok(())
}

/// The order in which the stores take their turn number `turn`.
fn rotation(turn: usize) -> [usize; 3] {
    [turn % 3, (turn + 1) % 3, (turn + 2) % 3]
}

fn progress(msg: &str) {
    eprintln!("  {msg}");
}

/// Generates the network of `size` customers, loads it into the three stores and measures.
fn run_size(config: &Config, size: usize, dir: &Path) -> BenchResult<SizeResult> {
    eprintln!("{size} customers (files in {})", dir.display());
    let network = Network::new(SynthConfig::new(size));
    let dealers = workload::stored_dealers(&network);
    let mut plan = Plan::new(dealers.len());
    let mut stores: Vec<Box<dyn Store>> = vec![
        Box::new(autocrm_side::AutocrmStore::create(
            &dir.join("autocrm.redb"),
        )?),
        Box::new(sqlite::SqliteStore::create(&dir.join("sqlite.db"))?),
        Box::new(rawredb::RawRedbStore::create(&dir.join("raw.redb"))?),
    ];
    let mut figures: [StoreFigures; 3] = Default::default();
    for (f, s) in figures.iter_mut().zip(&stores) {
        f.name = s.name();
    }

    // a. Batched ingest.
    for k in 0..3 {
        let t = Instant::now();
        stores[k].ingest_dealers(&dealers)?;
        figures[k].ingest += t.elapsed();
    }
    let started = Instant::now();
    let total_batches = size.div_ceil(config.batch);
    for (i, batch) in workload::batches(&network, &mut plan, config.batch).enumerate() {
        let batch = batch?;
        for k in rotation(i) {
            let t = Instant::now();
            stores[k].ingest(&batch)?;
            figures[k].ingest += t.elapsed();
        }
        if (i + 1) % 100 == 0 {
            progress(&format!(
                "ingest: {}/{} batches, {:.0} s",
                i + 1,
                total_batches,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    for (f, s) in figures.iter_mut().zip(&stores) {
        f.disk_bytes = s.disk_bytes();
    }
    let customers = plan.counts.customers;
    progress(&format!(
        "ingest done: {} rows in {:.0} s",
        plan.counts.rows(),
        started.elapsed().as_secs_f64()
    ));

    // b. Customer 360 reads.
    let warm = workload::random_customer_ids(customers, config.warm_views, 1);
    for s in &mut stores {
        s.view_360(&warm)?;
    }
    let ids = workload::random_customer_ids(customers, config.views, 360);
    let mut digests = [ViewDigest::default(); 3];
    for (round, chunk) in rounds(&ids, config.rounds).enumerate() {
        for k in rotation(round) {
            let t = Instant::now();
            let d = stores[k].view_360(chunk)?;
            figures[k].view += t.elapsed();
            digests[k].merge(d);
        }
    }
    check_views(&stores, &digests)?;
    progress("360° reads done");

    // c. Durable single writes.
    let writes = workload::single_writes(&mut plan, config.warm_writes + config.writes, 3)?;
    let (warm, timed): (&[SingleWrite], &[SingleWrite]) = writes.split_at(config.warm_writes);
    for w in warm {
        for s in &mut stores {
            s.single_write(w)?;
        }
    }
    for (i, w) in timed.iter().enumerate() {
        for k in rotation(i) {
            let t = Instant::now();
            stores[k].single_write(w)?;
            figures[k].writes.push(t.elapsed());
        }
    }
    progress("single writes done");

    // d. Point gets.
    let warm = workload::random_customer_ids(customers, config.warm_gets, 5);
    for s in &mut stores {
        s.point_gets(&warm)?;
    }
    let ids = workload::random_customer_ids(customers, config.gets, 4);
    let mut sums = [0u64; 3];
    for (round, chunk) in rounds(&ids, config.rounds).enumerate() {
        for k in rotation(round) {
            let t = Instant::now();
            sums[k] = sums[k].wrapping_add(stores[k].point_gets(chunk)?);
            figures[k].gets += t.elapsed();
        }
    }
    if sums[1..].iter().any(|s| *s != sums[0]) {
        return Err(format!("point gets read different customers: digests {sums:?}").into());
    }
    progress("point gets done");

    Ok(SizeResult {
        customers: size,
        counts: plan.counts,
        batch: config.batch,
        views: config.views,
        writes: config.writes,
        gets: config.gets,
        stores: figures,
    })
}

/// `ids` split into `n` nearly equal rounds.
fn rounds<T>(ids: &[T], n: usize) -> impl Iterator<Item = &[T]> {
    ids.chunks(ids.len().div_ceil(n.max(1)).max(1))
}

/// Fails unless the three stores' 360° reads saw the same data.
fn check_views(stores: &[Box<dyn Store>], digests: &[ViewDigest; 3]) -> BenchResult<()> {
    for (s, d) in stores.iter().zip(digests).skip(1) {
        if d.common != digests[0].common {
            return Err(format!(
                "360° reads differ: {} digest {:#x}, {} digest {:#x}",
                stores[0].name(),
                digests[0].common,
                s.name(),
                d.common
            )
            .into());
        }
        if let (Some(a), Some(b)) = (digests[0].touchpoints_total, d.touchpoints_total) {
            if a != b {
                return Err(format!(
                    "360° aggregates differ: {} counts {a} touchpoints, {} counts {b}",
                    stores[0].name(),
                    s.name()
                )
                .into());
            }
        }
    }
    Ok(())
}

fn print_report(config: &Config, results: &[SizeResult]) {
    let sizes: Vec<String> = config.sizes.iter().map(|s| s.to_string()).collect();
    let command = if config.quick {
        "cargo run --release -p autocrm-bench -- --quick".to_string()
    } else {
        format!(
            "cargo run --release -p autocrm-bench -- --customers {}",
            sizes.join(",")
        )
    };
    println!("## autocrm vs SQLite vs raw redb\n");
    println!("Command: `{command}`\n");
    if config.quick {
        println!("**Quick smoke run: too small to quote.**\n");
    }
    println!(
        "Settings: SQLite {} (bundled {}), prepared statements; autocrm and raw redb: redb \
         defaults (1 GiB cache, durable commits); {} customers per ingest transaction; {} CPUs.\n",
        sqlite::SETTINGS,
        rusqlite::version(),
        report::thousands(config.batch as u64),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    print!("{}", report::workload_lines(results));
    println!("\n### Ratios\n");
    print!("{}", report::ratio_table(results));
    println!("\n### Absolute numbers\n");
    print!("{}", report::absolute_table(results));
}
