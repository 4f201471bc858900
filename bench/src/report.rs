//! Figures of a run and their Markdown rendering: one table of ratios, one of absolute numbers.

use std::fmt::Write as _;
use std::time::Duration;

use autocrm_synth::LoadStats;

/// Index of each store in [`SizeResult::stores`].
pub const AUTOCRM: usize = 0;
/// SQLite's index.
pub const SQLITE: usize = 1;
/// Raw redb's index.
pub const RAW: usize = 2;

/// What one store measured at one size.
#[derive(Clone, Debug, Default)]
pub struct StoreFigures {
    /// The store's name.
    pub name: &'static str,
    /// Time spent in ingest transactions (dealers and every customer batch, commits included).
    pub ingest: Duration,
    /// Time of each timed round of 360° reads.
    pub view_rounds: Vec<Duration>,
    /// Latency of each timed single durable write.
    pub writes: Vec<Duration>,
    /// Time of each timed round of point gets.
    pub get_rounds: Vec<Duration>,
    /// Bytes on disk after the ingest.
    pub disk_bytes: u64,
}

impl StoreFigures {
    /// Time of the 360° reads: the median round times the number of rounds.
    fn view(&self) -> Duration {
        robust_total(&self.view_rounds)
    }

    /// Time of the point gets: the median round times the number of rounds.
    fn gets(&self) -> Duration {
        robust_total(&self.get_rounds)
    }

    /// Sum of the single-write latencies.
    fn writes_total(&self) -> Duration {
        self.writes.iter().sum()
    }

    /// The `q` quantile (0..=1) of the single-write latencies.
    fn write_quantile(&self, q: f64) -> Duration {
        quantile(&self.writes, q)
    }
}

/// The `q` quantile (0..=1) of `latencies` (nearest rank; zero for none).
pub fn quantile(latencies: &[Duration], q: f64) -> Duration {
    let mut v = latencies.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The total time of equal rounds, robust to bursts of background load: the median round
/// times the number of rounds.
fn robust_total(rounds: &[Duration]) -> Duration {
    let mut v = rounds.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2] * n as u32,
        n => (v[n / 2 - 1] + v[n / 2]) / 2 * n as u32,
    }
}

/// Everything measured at one size.
#[derive(Clone, Debug)]
pub struct SizeResult {
    /// Customers generated.
    pub customers: usize,
    /// Records ingested, by kind.
    pub counts: LoadStats,
    /// Customers per ingest transaction.
    pub batch: usize,
    /// Timed 360° reads per store.
    pub views: usize,
    /// Timed single writes per store.
    pub writes: usize,
    /// Timed point gets per store.
    pub gets: usize,
    /// Per store, indexed by [`AUTOCRM`], [`SQLITE`], [`RAW`].
    pub stores: [StoreFigures; 3],
}

/// Operations per second.
pub fn rate(ops: u64, time: Duration) -> f64 {
    ops as f64 / time.as_secs_f64().max(1e-9)
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(x: f64) -> String {
    format!("{x:.2}×")
}

/// A goal: the ratio must be at least (`Min`) or at most (`Max`) the bound.
#[derive(Clone, Copy)]
enum Goal {
    None,
    Min(f64),
    Max(f64),
}

impl Goal {
    fn show(self, value: f64) -> String {
        match self {
            Goal::None => "–".into(),
            Goal::Min(b) if value >= b => format!("≥ {b}×: met"),
            Goal::Min(b) => format!("≥ {b}×: **missed**"),
            Goal::Max(b) if value <= b => format!("≤ {b}×: met"),
            Goal::Max(b) => format!("≤ {b}×: **missed**"),
        }
    }
}

/// One compared operation: its time per store and its goals.
struct Op {
    name: String,
    times: [Duration; 3],
    vs_sqlite: Goal,
    vs_raw: Goal,
}

fn ops(r: &SizeResult) -> Vec<Op> {
    let s = &r.stores;
    let times = |f: fn(&StoreFigures) -> Duration| [f(&s[0]), f(&s[1]), f(&s[2])];
    vec![
        Op {
            name: format!(
                "batched ingest ({} customers/txn, durable)",
                thousands(r.batch as u64)
            ),
            times: times(|f| f.ingest),
            vs_sqlite: Goal::Min(1.5),
            vs_raw: Goal::Max(1.5),
        },
        Op {
            name: "customer 360 read".into(),
            times: times(StoreFigures::view),
            vs_sqlite: Goal::Min(5.0),
            vs_raw: Goal::None,
        },
        Op {
            name: "durable single write".into(),
            times: times(StoreFigures::writes_total),
            vs_sqlite: Goal::None,
            vs_raw: Goal::None,
        },
        Op {
            name: "point get".into(),
            times: times(StoreFigures::gets),
            vs_sqlite: Goal::None,
            vs_raw: Goal::Max(1.3),
        },
    ]
}

/// The ratio table over every size.
pub fn ratio_table(results: &[SizeResult]) -> String {
    let mut out = String::new();
    out.push_str(
        "| operation | customers | autocrm vs SQLite (throughput, >1 = autocrm faster) | goal \
         | autocrm / raw redb (time, overhead factor) | goal |\n\
         |---|---:|---:|---|---:|---|\n",
    );
    for r in results {
        for op in ops(r) {
            let t = |i: usize| op.times[i].as_secs_f64().max(1e-9);
            let vs_sqlite = t(SQLITE) / t(AUTOCRM);
            let vs_raw = t(AUTOCRM) / t(RAW);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                op.name,
                thousands(r.customers as u64),
                ratio(vs_sqlite),
                op.vs_sqlite.show(vs_sqlite),
                ratio(vs_raw),
                op.vs_raw.show(vs_raw),
            );
        }
    }
    out
}

/// The absolute numbers over every size.
pub fn absolute_table(results: &[SizeResult]) -> String {
    let mut out = String::new();
    let names = results
        .first()
        .map(|r| r.stores.clone().map(|s| s.name))
        .unwrap_or(["autocrm", "SQLite", "raw redb"]);
    let _ = writeln!(
        out,
        "| measure | customers | {} | {} | {} |\n|---|---:|---:|---:|---:|",
        names[0], names[1], names[2]
    );
    for r in results {
        let n = thousands(r.customers as u64);
        let mut row = |label: &str, cell: &dyn Fn(&StoreFigures) -> String| {
            let _ = writeln!(
                out,
                "| {label} | {n} | {} | {} | {} |",
                cell(&r.stores[0]),
                cell(&r.stores[1]),
                cell(&r.stores[2])
            );
        };
        let rows = r.counts.records();
        row("batched ingest, rows/s", &|f| {
            thousands(rate(rows, f.ingest) as u64)
        });
        row("batched ingest, total time", &|f| {
            format!("{:.1} s", f.ingest.as_secs_f64())
        });
        row("customer 360, reads/s", &|f| {
            thousands(rate(r.views as u64, f.view()) as u64)
        });
        row("durable single write, writes/s", &|f| {
            thousands(rate(f.writes.len() as u64, f.writes_total()) as u64)
        });
        row("durable single write, median latency", &|f| {
            format!("{:.2} ms", f.write_quantile(0.5).as_secs_f64() * 1e3)
        });
        row("durable single write, p99 latency", &|f| {
            format!("{:.2} ms", f.write_quantile(0.99).as_secs_f64() * 1e3)
        });
        row("point get, gets/s", &|f| {
            thousands(rate(r.gets as u64, f.gets()) as u64)
        });
        row("file size after ingest", &|f| {
            format!("{:.0} MiB", f.disk_bytes as f64 / (1024.0 * 1024.0))
        });
    }
    out
}

/// What was loaded at each size.
pub fn workload_lines(results: &[SizeResult]) -> String {
    let mut out = String::new();
    for r in results {
        let c = &r.counts;
        let _ = writeln!(
            out,
            "- {} customers: {} rows ingested ({} dealers, {} customers, {} new vehicles, {} \
             touchpoints, {} leads, {} complaints, {} surveys, {} relations; plus {} used-car \
             transfers, not counted as rows); {} 360° reads, {} single writes, {} point gets \
             per store.",
            thousands(r.customers as u64),
            thousands(c.records()),
            thousands(c.dealers),
            thousands(c.customers),
            thousands(c.vehicles),
            thousands(c.touchpoints),
            thousands(c.leads),
            thousands(c.complaints),
            thousands(c.surveys),
            thousands(c.relations),
            thousands(c.transfers),
            thousands(r.views as u64),
            thousands(r.writes as u64),
            thousands(r.gets as u64),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn quantiles_pick_the_ranked_sample() {
        let f = StoreFigures {
            writes: (1..=100).map(Duration::from_millis).collect(),
            ..StoreFigures::default()
        };
        assert_eq!(f.write_quantile(0.5), Duration::from_millis(50));
        assert_eq!(f.write_quantile(0.99), Duration::from_millis(99));
    }

    #[test]
    fn robust_total_ignores_one_slow_round() {
        let ms = Duration::from_millis;
        assert_eq!(robust_total(&[ms(10), ms(900), ms(11)]), ms(33));
        assert_eq!(robust_total(&[ms(10), ms(12), ms(900), ms(10)]), ms(44));
        assert_eq!(robust_total(&[]), Duration::ZERO);
    }
}
