//! What every store under test implements, and the digests that prove the three stores read
//! back the same data.

use std::path::Path;

use autocrm::{CustomerId, Dealer, DealerId};

use crate::workload::{Batch, SingleWrite};
use crate::BenchResult;

/// Rows of the timeline each 360° read returns.
pub const TIMELINE_LIMIT: usize = 20;

/// One store under test. Every method is one unit the runner times; the inputs were prepared
/// before the clock started.
pub trait Store {
    /// Short name for the tables.
    fn name(&self) -> &'static str;

    /// Writes the dealers in one durable transaction.
    fn ingest_dealers(&mut self, dealers: &[(DealerId, Dealer)]) -> BenchResult<()>;

    /// Writes one batch of customers with everything they own in one durable transaction.
    fn ingest(&mut self, batch: &Batch) -> BenchResult<()>;

    /// Reads the 360° view of each customer in `ids` in one read transaction.
    fn view_360(&mut self, ids: &[CustomerId]) -> BenchResult<ViewDigest>;

    /// Writes one touchpoint in its own durable transaction.
    fn single_write(&mut self, write: &SingleWrite) -> BenchResult<()>;

    /// Gets and decodes each customer in `ids` in one read transaction; returns a digest.
    fn point_gets(&mut self, ids: &[CustomerId]) -> BenchResult<u64>;

    /// Bytes on disk (database file plus any journal).
    fn disk_bytes(&self) -> u64;
}

/// What a run of 360° reads saw, to check that the stores agree (and that no read is optimised
/// away).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewDigest {
    /// Over profile, vehicles with their ownership periods, relations, leads, complaints,
    /// surveys and the ids and order of the newest touchpoints: the parts all three stores read.
    pub common: u64,
    /// Touchpoints counted by the aggregates (autocrm's rollup, SQLite's `GROUP BY`); raw redb
    /// keeps no aggregates and reports `None`.
    pub touchpoints_total: Option<u64>,
}

impl ViewDigest {
    /// Adds another run's digest.
    pub fn merge(&mut self, other: ViewDigest) {
        self.common = self.common.wrapping_add(other.common);
        self.touchpoints_total = match (self.touchpoints_total, other.touchpoints_total) {
            (Some(a), Some(b)) => Some(a + b),
            (None, None) => None,
            (a, b) => a.or(b),
        };
    }
}

/// Accumulates the digest of one customer's view. Order-independent sums for sets, a
/// position-weighted sum for the timeline (whose order matters).
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewFold {
    sum: u64,
}

impl ViewFold {
    /// The customer's profile: name length and phone count.
    pub fn profile(&mut self, name: &str, phones: usize) {
        self.add(name.len() as u64 * 31 + phones as u64);
    }

    /// A vehicle and the number of its ownership periods.
    pub fn vehicle(&mut self, id: u64, periods: usize) {
        self.add(id.wrapping_mul(1_000_003) + periods as u64);
    }

    /// A relation.
    pub fn relation(&mut self, from: u64, kind: u8, to: u64) {
        self.add(from ^ (u64::from(kind) << 56) ^ to.rotate_left(17));
    }

    /// A lead, complaint or survey (`table` distinguishes them).
    pub fn owned(&mut self, table: u64, id: u64) {
        self.add(id.wrapping_mul(table * 2 + 1).rotate_left(table as u32 * 8));
    }

    /// The touchpoint at `position` (0 = newest) of the timeline page.
    pub fn timeline(&mut self, position: usize, id: u64) {
        self.add(id.wrapping_mul(position as u64 + 7));
    }

    fn add(&mut self, v: u64) {
        self.sum = self.sum.wrapping_add(v);
    }

    /// The digest so far.
    pub fn finish(self) -> u64 {
        self.sum
    }
}

/// The digest of one decoded customer in the point-get test.
pub fn customer_digest(c: &autocrm::Customer) -> u64 {
    c.name().len() as u64 + c.phones.len() as u64
}

/// Sum of the sizes of `path` and of files named `path` + suffix (SQLite's `-wal`, `-shm`).
pub fn file_bytes(path: &Path, suffixes: &[&str]) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut total = size(path);
    for s in suffixes {
        let mut name = path.as_os_str().to_owned();
        name.push(s);
        total += size(Path::new(&name));
    }
    total
}
