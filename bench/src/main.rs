//! # autocrm-bench: autocrm side by side with SQLite and raw redb
//!
//! ```sh
//! cargo run --release -p autocrm-bench -- [--customers 100000,1000000] [--dir PATH] [--quick]
//!     [--only store,segments,ledger,import]
//! ```
//!
//! One run generates a synthetic dealer network (`autocrm_synth`, seed 42) per size and loads
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
//! To keep background load on a shared machine from favouring one store, the stores take
//! turns: ingest batch by batch, writes one by one, reads in 20 rounds, rotating which store goes
//! first. Ingest and single writes are summed over every batch and write; reads count the
//! median round times the number of rounds, so a burst of load during one round does not decide
//! the result. Reads and writes are preceded by an untimed warm-up.
//!
//! ## Reading the ratios
//!
//! - **autocrm vs SQLite** is a throughput ratio: SQLite's time divided by autocrm's. Above 1
//!   autocrm is faster; 2.00× means it does the same work in half the time.
//! - **autocrm / raw redb** is a time ratio, the overhead factor of autocrm's logic over the
//!   storage it sits on: 1.00× would be free, 1.50× means autocrm takes 50 % longer.
//!
//! After these, each size runs a segments section ([`segments`]), a loyalty-ledger section
//! (credits and redemptions through autocrm's ledger, raw redb and SQLite; see [`ledger`]) and
//! an import section (the dirty CSV exports of the network imported by autocrm, with cleaning
//! and survivorship, and loaded into SQLite by hand; see [`import`]), an access section
//! (the 360 read unscoped vs under an audited scope, HQ and dealer; see [`access`]), an
//! export section (the autocrm file written as hive-partitioned Parquet: rows/s, and the
//! folder's size against the redb and SQLite files; see [`export`]) and a feed section
//! (ingest and durable single writes with the change feed off and on; see [`feed`]). `--only`
//! runs some sections and skips the others.
//!
//! `--quick` runs a 2,000-customer smoke configuration in seconds (CI runs it so the benchmark
//! does not rot); its numbers are too small to quote.

mod access;
mod autocrm_side;
mod export;
mod feed;
mod import;
mod ledger;
mod rawredb;
mod report;
mod runner;
mod segments;
mod sqlite;
mod store;
mod sync;
mod workload;

use std::path::{Path, PathBuf};

use crate::report::SizeResult;
use crate::runner::Config;

/// Errors end the run: a benchmark that failed half-way has nothing to report.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: autocrm-bench [--customers N[,N...]] [--dir PATH] [--quick]
                     [--only SECTION[,SECTION...]]

  --customers 100000,1000000  network sizes to run (default 100000)
  --dir PATH                  where the database files go (default: the system temp dir);
                              a fresh subdirectory is created and removed afterwards
  --quick                     2,000-customer smoke run (seconds; numbers not meaningful)
  --only store,segments,ledger,import,access,export,feed,sync
                              run only these sections (default: all)";

/// The sections of a run, in the order they run.
const SECTIONS: [&str; 8] = [
    "store", "segments", "ledger", "import", "access", "export", "feed", "sync",
];

/// Which sections to run.
#[derive(Clone, Copy, Debug)]
struct Sections {
    store: bool,
    segments: bool,
    ledger: bool,
    import: bool,
    access: bool,
    export: bool,
    feed: bool,
    sync: bool,
}

impl Sections {
    const ALL: Sections = Sections {
        store: true,
        segments: true,
        ledger: true,
        import: true,
        access: true,
        export: true,
        feed: true,
        sync: true,
    };

    /// The comma-separated list of `--only`.
    fn parse(list: &str) -> Result<Sections, String> {
        let mut s = Sections {
            store: false,
            segments: false,
            ledger: false,
            import: false,
            access: false,
            export: false,
            feed: false,
            sync: false,
        };
        for name in list.split(',').map(str::trim) {
            match name {
                "store" => s.store = true,
                "segments" => s.segments = true,
                "ledger" => s.ledger = true,
                "import" => s.import = true,
                "access" => s.access = true,
                "export" => s.export = true,
                "feed" => s.feed = true,
                "sync" => s.sync = true,
                other => {
                    return Err(format!(
                        "--only {other}: unknown section (one of {})",
                        SECTIONS.join(", ")
                    ))
                }
            }
        }
        Ok(s)
    }

    /// The `--only` argument that selects these sections, if not all.
    fn only(self) -> Option<String> {
        let on = [
            self.store,
            self.segments,
            self.ledger,
            self.import,
            self.access,
            self.export,
            self.feed,
            self.sync,
        ];
        if on.iter().all(|&b| b) {
            return None;
        }
        let names: Vec<&str> = SECTIONS
            .iter()
            .zip(on)
            .filter_map(|(name, b)| b.then_some(*name))
            .collect();
        Some(names.join(","))
    }
}

fn parse_args() -> Result<(Config, Sections), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = if args.iter().any(|a| a == "--quick") {
        Config::quick()
    } else {
        Config::full()
    };
    let mut sections = Sections::ALL;
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
            "--only" => sections = Sections::parse(value()?)?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok((config, sections))
}

fn main() {
    let (config, sections) = parse_args().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    if let Err(e) = run(&config, sections) {
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

fn run(config: &Config, sections: Sections) -> BenchResult<()> {
    if (sections.segments || sections.access || sections.export) && !sections.store {
        return Err(
            "--only segments/access/export need store too: they read the store section's files"
                .into(),
        );
    }
    let scratch = ScratchDir::create(&config.dir)?;
    let mut results = Vec::new();
    let mut ledgers = Vec::new();
    let mut segment_results = Vec::new();
    let mut imports = Vec::new();
    let mut accesses = Vec::new();
    let mut exports = Vec::new();
    let mut feeds = Vec::new();
    let mut syncs = Vec::new();
    for &size in &config.sizes {
        let dir = scratch.0.join(format!("customers-{size}"));
        std::fs::create_dir_all(&dir)?;
        if sections.store {
            results.push(runner::run_size(config, size, &dir)?);
        }
        if sections.segments {
            segment_results.push(segments::run_size(size, &dir)?);
        }
        if sections.access {
            accesses.push(access::run_size(size, &dir)?);
        }
        if sections.export {
            exports.push(export::run_size(size, &dir)?);
        }
        if sections.ledger {
            ledgers.push(ledger::run_size(config, size, &dir)?);
        }
        if sections.import {
            imports.push(import::run_size(size, &dir)?);
        }
        if sections.feed {
            feeds.push(feed::run_size(config, size, &dir)?);
        }
        if sections.sync {
            syncs.push(sync::run_size(size, &dir)?);
        }
        std::fs::remove_dir_all(&dir)?;
    }
    drop(scratch);
    print_report(config, sections, &results);
    if sections.segments {
        print!("{}", segments::report(&segment_results));
    }
    if sections.ledger {
        print!("{}", ledger::report(&ledgers));
    }
    if sections.import {
        print!("{}", import::report(&imports));
    }
    if sections.access {
        print!("{}", access::report(&accesses));
    }
    if sections.export {
        print!("{}", export::report(&exports));
    }
    if sections.feed {
        print!("{}", feed::report(&feeds));
    }
    if sections.sync {
        print!("{}", sync::report(&syncs));
    }
    Ok(())
}

fn print_report(config: &Config, sections: Sections, results: &[SizeResult]) {
    let sizes: Vec<String> = config.sizes.iter().map(|s| s.to_string()).collect();
    let mut command = if config.quick {
        "cargo run --release -p autocrm-bench -- --quick".to_string()
    } else {
        format!(
            "cargo run --release -p autocrm-bench -- --customers {}",
            sizes.join(",")
        )
    };
    if let Some(only) = sections.only() {
        command.push_str(&format!(" --only {only}"));
    }
    if sections.store {
        println!("## autocrm vs SQLite vs raw redb\n");
    } else {
        println!("## autocrm-bench\n");
    }
    println!("Command: `{command}`\n");
    if config.quick {
        println!("**Quick smoke run: too small to quote.**\n");
    }
    if !sections.store {
        return;
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
