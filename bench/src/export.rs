//! The lakehouse export (core `export::lake`): the whole autocrm file the store section left
//! written as hive-partitioned Parquet, timed (median of three runs after a warm-up, each into
//! a fresh folder), and the folder's size against the redb file and the SQLite file holding
//! the same records (both as the store section left them).

use std::path::Path;
use std::time::Duration;

use autocrm::export::lake::{self, LakeOptions};
use autocrm::Database;

use crate::store::file_bytes;
use crate::BenchResult;

/// Timed runs; the median counts.
const RUNS: usize = 3;

/// One size's figures.
pub struct ExportResult {
    customers: usize,
    rows: u64,
    files: usize,
    time: Duration,
    parquet_bytes: u64,
    redb_bytes: u64,
    sqlite_bytes: u64,
}

/// Measures on the files the store section left in `dir`.
pub fn run_size(size: usize, dir: &Path) -> BenchResult<ExportResult> {
    eprintln!("  export: the autocrm file as Parquet");
    let redb = dir.join("autocrm.redb");
    let redb_bytes = file_bytes(&redb, &[]);
    let sqlite_bytes = file_bytes(&dir.join("sqlite.db"), &["-wal", "-shm"]);
    let db = Database::options().read_only(true).open(&redb)?;
    let mut times = Vec::new();
    let mut last = None;
    for run in 0..=RUNS {
        let out = dir.join(format!("lake-{run}"));
        let r = db.begin_read()?;
        let report = lake::write_snapshot(&r, &out, &LakeOptions::default())?;
        if run > 0 {
            times.push(report.elapsed);
        }
        if let Some(prev) = last.replace(out) {
            std::fs::remove_dir_all(prev)?;
        }
        if run == RUNS {
            times.sort();
            let result = ExportResult {
                customers: size,
                rows: report.rows(),
                files: report.files(),
                time: times[RUNS / 2],
                parquet_bytes: report.bytes(),
                redb_bytes,
                sqlite_bytes,
            };
            if let Some(out) = last.take() {
                std::fs::remove_dir_all(out)?;
            }
            return Ok(result);
        }
    }
    unreachable!("the loop returns on its last run")
}

/// The export section of the report.
pub fn report(results: &[ExportResult]) -> String {
    let mut s = String::from("\n### Lakehouse export: the store as Parquet\n\n");
    s.push_str(&format!(
        "`export::lake::write_snapshot` of the autocrm file the store section left (every table, \
         touchpoints partitioned by month, Snappy), median of {RUNS} runs after a warm-up; sizes \
         of the Parquet files, the redb file and the SQLite file (with -wal/-shm) holding the \
         same records.\n\n\
         | customers | rows | files | time | rows/s | Parquet | redb | SQLite | Parquet / redb | \
         Parquet / SQLite |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0));
    let ratio = |a: u64, b: u64| format!("{:.2}×", a as f64 / (b as f64).max(1.0));
    for r in results {
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} s | {} | {} | {} | {} | {} | {} |\n",
            crate::report::thousands(r.customers as u64),
            crate::report::thousands(r.rows),
            r.files,
            r.time.as_secs_f64(),
            crate::report::thousands((r.rows as f64 / r.time.as_secs_f64().max(1e-9)) as u64),
            mib(r.parquet_bytes),
            mib(r.redb_bytes),
            mib(r.sqlite_bytes),
            ratio(r.parquet_bytes, r.redb_bytes),
            ratio(r.parquet_bytes, r.sqlite_bytes),
        ));
    }
    s
}
