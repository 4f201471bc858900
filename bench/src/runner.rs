//! Runs the four measured operations at one size against the three stores, taking turns.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use autocrm_synth::{Network, SynthConfig};

use crate::report::{SizeResult, StoreFigures};
use crate::store::{Store, ViewDigest};
use crate::workload::{self, Plan};
use crate::{autocrm_side, rawredb, sqlite, BenchResult};

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Network sizes (customers), one full run each.
    pub sizes: Vec<usize>,
    /// Where database files go (in a fresh subdirectory, removed afterwards).
    pub dir: PathBuf,
    /// Customers per ingest transaction.
    pub batch: usize,
    /// Timed 360° reads per store.
    pub views: usize,
    /// Timed single durable writes per store.
    pub writes: usize,
    /// Timed point gets per store.
    pub gets: usize,
    /// Equal rounds the reads are split into; the stores take turns between rounds.
    pub rounds: usize,
    /// Untimed 360° reads per store before the timed ones.
    pub warm_views: usize,
    /// Untimed single writes per store before the timed ones.
    pub warm_writes: usize,
    /// Untimed point gets per store before the timed ones.
    pub warm_gets: usize,
    /// Whether this is the `--quick` smoke configuration.
    pub quick: bool,
}

impl Config {
    /// The configuration the published figures come from.
    pub fn full() -> Config {
        Config {
            sizes: vec![100_000],
            dir: std::env::temp_dir(),
            batch: 1_000,
            views: 20_000,
            writes: 2_000,
            gets: 200_000,
            rounds: 20,
            warm_views: 2_000,
            warm_writes: 20,
            warm_gets: 20_000,
            quick: false,
        }
    }

    /// The `--quick` smoke configuration: seconds, not meaningful figures.
    pub fn quick() -> Config {
        Config {
            sizes: vec![2_000],
            views: 2_000,
            writes: 100,
            gets: 20_000,
            rounds: 5,
            warm_views: 200,
            warm_writes: 5,
            warm_gets: 2_000,
            quick: true,
            ..Config::full()
        }
    }
}

/// The order in which the stores take turn number `turn`: each goes first, second and last
/// equally often.
pub fn rotation(turn: usize) -> [usize; 3] {
    [turn % 3, (turn + 1) % 3, (turn + 2) % 3]
}

/// `ids` split into `n` equal rounds.
fn rounds<T>(ids: &[T], n: usize) -> impl Iterator<Item = &[T]> {
    ids.chunks(ids.len().div_ceil(n.max(1)).max(1))
}

/// Runs `f` and returns its result with the time it took.
pub fn timed<T>(f: impl FnOnce() -> BenchResult<T>) -> BenchResult<(T, Duration)> {
    let t = Instant::now();
    let out = f()?;
    Ok((out, t.elapsed()))
}

fn progress(msg: &str) {
    eprintln!("  {msg}");
}

/// The three stores of one size and what they measured, in the same order.
struct Contest {
    stores: Vec<Box<dyn Store>>,
    figures: [StoreFigures; 3],
}

impl Contest {
    /// Creates the three databases in `dir`.
    fn create(dir: &Path) -> BenchResult<Contest> {
        let stores: Vec<Box<dyn Store>> = vec![
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
        Ok(Contest { stores, figures })
    }

    /// a. Dealers, then every customer batch; each store writes each batch in turn.
    fn ingest(&mut self, network: &Network, plan: &mut Plan, config: &Config) -> BenchResult<()> {
        let dealers = workload::stored_dealers(network);
        for (s, f) in self.stores.iter_mut().zip(&mut self.figures) {
            f.ingest += timed(|| s.ingest_dealers(&dealers))?.1;
        }
        let started = Instant::now();
        let total = network.config().customers.div_ceil(config.batch);
        for (i, batch) in workload::batches(network, plan, config.batch).enumerate() {
            let batch = batch?;
            for k in rotation(i) {
                self.figures[k].ingest += timed(|| self.stores[k].ingest(&batch))?.1;
            }
            if (i + 1) % 100 == 0 {
                progress(&format!(
                    "ingest: {}/{total} batches, {:.0} s",
                    i + 1,
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        for (f, s) in self.figures.iter_mut().zip(&self.stores) {
            f.disk_bytes = s.disk_bytes();
        }
        progress(&format!(
            "ingest done: {} rows in {:.0} s",
            plan.counts.records(),
            started.elapsed().as_secs_f64()
        ));
        Ok(())
    }

    /// b. 360° reads in rounds; fails unless every store saw the same data.
    fn views(&mut self, customers: u64, config: &Config) -> BenchResult<()> {
        let warm = workload::random_customer_ids(customers, config.warm_views, 1);
        for s in &mut self.stores {
            s.view_360(&warm)?;
        }
        let ids = workload::random_customer_ids(customers, config.views, 360);
        let mut digests = [ViewDigest::default(); 3];
        for (round, chunk) in rounds(&ids, config.rounds).enumerate() {
            for k in rotation(round) {
                let (d, t) = timed(|| self.stores[k].view_360(chunk))?;
                self.figures[k].view_rounds.push(t);
                digests[k].merge(d);
            }
        }
        self.check_views(&digests)?;
        progress("360° reads done");
        Ok(())
    }

    /// Fails unless the three stores' 360° reads saw the same data.
    fn check_views(&self, digests: &[ViewDigest; 3]) -> BenchResult<()> {
        let first = self.stores[0].name();
        for (s, d) in self.stores.iter().zip(digests).skip(1) {
            if d.common != digests[0].common {
                return Err(format!(
                    "360° reads differ: {first} digest {:#x}, {} digest {:#x}",
                    digests[0].common,
                    s.name(),
                    d.common
                )
                .into());
            }
            if let (Some(a), Some(b)) = (digests[0].touchpoints_total, d.touchpoints_total) {
                if a != b {
                    return Err(format!(
                        "360° aggregates differ: {first} counts {a} touchpoints, {} {b}",
                        s.name()
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    /// c. Single-touchpoint durable transactions, the stores taking turns write by write.
    fn single_writes(&mut self, plan: &mut Plan, config: &Config) -> BenchResult<()> {
        let writes = workload::single_writes(plan, config.warm_writes + config.writes, 3)?;
        let (warm, measured) = writes.split_at(config.warm_writes);
        for w in warm {
            for s in &mut self.stores {
                s.single_write(w)?;
            }
        }
        for (i, w) in measured.iter().enumerate() {
            for k in rotation(i) {
                let t = timed(|| self.stores[k].single_write(w))?.1;
                self.figures[k].writes.push(t);
            }
        }
        progress("single writes done");
        Ok(())
    }

    /// d. Point gets in rounds; fails unless every store decoded the same customers.
    fn point_gets(&mut self, customers: u64, config: &Config) -> BenchResult<()> {
        let warm = workload::random_customer_ids(customers, config.warm_gets, 5);
        for s in &mut self.stores {
            s.point_gets(&warm)?;
        }
        let ids = workload::random_customer_ids(customers, config.gets, 4);
        let mut sums = [0u64; 3];
        for (round, chunk) in rounds(&ids, config.rounds).enumerate() {
            for k in rotation(round) {
                let (sum, t) = timed(|| self.stores[k].point_gets(chunk))?;
                self.figures[k].get_rounds.push(t);
                sums[k] = sums[k].wrapping_add(sum);
            }
        }
        if sums[1..].iter().any(|s| *s != sums[0]) {
            return Err(format!("point gets read different customers: digests {sums:?}").into());
        }
        progress("point gets done");
        Ok(())
    }
}

/// Generates the network of `size` customers, loads it into three fresh databases in `dir` and
/// measures the four operations.
pub fn run_size(config: &Config, size: usize, dir: &Path) -> BenchResult<SizeResult> {
    if !config.views.is_multiple_of(config.rounds) || !config.gets.is_multiple_of(config.rounds) {
        return Err("reads must split into equal rounds (the median round is reported)".into());
    }
    eprintln!("{size} customers (files in {})", dir.display());
    let network = Network::new(SynthConfig::new(size));
    let mut plan = Plan::new(network.dealers().len());
    let mut contest = Contest::create(dir)?;
    contest.ingest(&network, &mut plan, config)?;
    let customers = plan.counts.customers;
    contest.views(customers, config)?;
    contest.single_writes(&mut plan, config)?;
    contest.point_gets(customers, config)?;
    Ok(SizeResult {
        customers: size,
        counts: plan.counts,
        batch: config.batch,
        views: config.views,
        writes: config.writes,
        gets: config.gets,
        stores: contest.figures,
    })
}
