//! The cost of the change feed: the same batched ingest and durable single writes into two
//! autocrm files, one with the feed off (the default) and one with it on (a consumer
//! registered, so every commit appends its changes). The two take turns batch by batch and
//! write by write, like the store section's contestants.

use std::path::Path;
use std::time::Duration;

use autocrm_synth::{Network, SynthConfig};

use crate::autocrm_side::AutocrmStore;
use crate::runner::{timed, Config};
use crate::store::Store;
use crate::workload::{self, Plan};
use crate::BenchResult;

/// One size's figures: [feed off, feed on].
pub struct FeedResult {
    customers: usize,
    rows: u64,
    ingest: [Duration; 2],
    writes: [Vec<Duration>; 2],
    /// Changes recorded, the bytes of the feed table's pages, and of all allocated pages.
    changes: u64,
    feed_bytes: u64,
    file_bytes: u64,
}

/// The feed table as autocrm stores it (core/src/store/tables.rs).
const CHANGES: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("changes");

/// The feed table's page bytes, and the file's allocated page bytes (file sizes themselves
/// grow in large steps and say nothing about a table's share).
fn feed_space(path: &Path) -> BenchResult<(u64, u64)> {
    use redb::ReadableTableMetadata;
    let db = redb::Database::open(path)?;
    let w = db.begin_write()?;
    let pages = {
        let s = w.open_table(CHANGES)?.stats()?;
        s.leaf_pages() + s.branch_pages()
    };
    let stats = w.stats()?;
    let page = stats.page_size() as u64;
    w.abort()?;
    Ok((pages * page, stats.allocated_pages() * page))
}

/// Loads the network of `size` customers into both files in `dir` and times both.
pub fn run_size(config: &Config, size: usize, dir: &Path) -> BenchResult<FeedResult> {
    eprintln!("  feed: ingest and single writes with the change feed off vs on");
    let network = Network::new(SynthConfig::new(size));
    let mut plan = Plan::new(network.dealers().len());
    let mut stores = [
        AutocrmStore::create(&dir.join("feed-off.redb"))?,
        AutocrmStore::create_with_feed(&dir.join("feed-on.redb"))?,
    ];
    let dealers = workload::stored_dealers(&network);
    let mut ingest = [Duration::ZERO; 2];
    for (s, t) in stores.iter_mut().zip(&mut ingest) {
        *t += timed(|| s.ingest_dealers(&dealers))?.1;
    }
    for (i, batch) in workload::batches(&network, &mut plan, config.batch).enumerate() {
        let batch = batch?;
        for k in [i % 2, (i + 1) % 2] {
            ingest[k] += timed(|| stores[k].ingest(&batch))?.1;
        }
    }
    let rows = plan.counts.records();
    let writes = workload::single_writes(&mut plan, config.warm_writes + config.writes, 7)?;
    let (warm, measured) = writes.split_at(config.warm_writes);
    for w in warm {
        for s in &mut stores {
            s.single_write(w)?;
        }
    }
    let mut times: [Vec<Duration>; 2] = Default::default();
    for (i, w) in measured.iter().enumerate() {
        for k in [i % 2, (i + 1) % 2] {
            times[k].push(timed(|| stores[k].single_write(w))?.1);
        }
    }
    let changes = stores[1].last_change()?;
    drop(stores);
    let (feed_bytes, file_bytes) = feed_space(&dir.join("feed-on.redb"))?;
    Ok(FeedResult {
        customers: size,
        rows,
        ingest,
        writes: times,
        changes,
        feed_bytes,
        file_bytes,
    })
}

fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut v = times.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The feed section of the report.
pub fn report(results: &[FeedResult]) -> String {
    let mut s = String::from("\n### Change feed overhead\n\n");
    s.push_str(
        "The same ingest (1,000 customers per durable transaction) and durable single \
         touchpoint writes into two autocrm files, the feed off and on, taking turns. Overhead \
         is time with the feed over time without (goal: ≤ 1.10×).\n\n\
         | customers | rows | ingest overhead | single write p50 off / on | p50 overhead | \
         single write p99 off / on | changes | feed pages | per change | share of file pages |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    for r in results {
        let p50 = [percentile(&r.writes[0], 0.5), percentile(&r.writes[1], 0.5)];
        let p99 = [
            percentile(&r.writes[0], 0.99),
            percentile(&r.writes[1], 0.99),
        ];
        s.push_str(&format!(
            "| {} | {} | {:.2}× | {} / {} | {:.2}× | {} / {} | {} | {:.1} MB | {:.0} B | {:.1} % |\n",
            crate::report::thousands(r.customers as u64),
            crate::report::thousands(r.rows),
            r.ingest[1].as_secs_f64() / r.ingest[0].as_secs_f64().max(1e-12),
            ms(p50[0]),
            ms(p50[1]),
            p50[1].as_secs_f64() / p50[0].as_secs_f64().max(1e-12),
            ms(p99[0]),
            ms(p99[1]),
            crate::report::thousands(r.changes),
            r.feed_bytes as f64 / 1e6,
            r.feed_bytes as f64 / r.changes.max(1) as f64,
            100.0 * r.feed_bytes as f64 / r.file_bytes.max(1) as f64,
        ));
    }
    s
}
