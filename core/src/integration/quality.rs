//! The data-quality report by dealer (issue 3 §7): customers, the valid customer information
//! ratio (DOMAIN §7, the same definition as [`crate::Kpi::ValidInfoRatio`]), rejections by
//! reason (lifetime and still queued), open conflicts, and the feedback queue's size and age.

use std::collections::BTreeMap;

use crate::date::Date;
use crate::error::Result;
use crate::ids::DealerId;
use crate::kpi::{Dimension, GroupKey, Kpi, Period};
use crate::store::ReadTxn;

/// One row of the quality report: a dealer, the records no dealer can be held to, or the
/// whole network.
#[derive(Clone, Debug, PartialEq)]
pub struct QualityRow {
    /// The dealer (`None` for the unassigned row and for the network total).
    pub dealer: Option<DealerId>,
    /// The dealer's code, `"(unassigned)"` or `"network"`.
    pub label: String,
    /// Customers attributed to the dealer on the report date (home dealer: last service
    /// visit's dealer, else the selling dealer of the latest vehicle, else any contact's).
    pub customers: u64,
    /// Customers sold by the report date (the ratio's denominator).
    pub customers_sold: u64,
    /// Of those, customers whose basic fields are complete and valid (the numerator).
    pub valid_info: u64,
    /// `valid_info / customers_sold`, `None` with no customer sold.
    pub valid_info_ratio: Option<f64>,
    /// Rejections ever made, by reason code (stays after resubmission).
    pub rejections: BTreeMap<String, u64>,
    /// Entries still queued, by reason code.
    pub queued_by_reason: BTreeMap<String, u64>,
    /// Open conflicts raised by records this dealer sent.
    pub open_conflicts: u64,
    /// Entries in the feedback queue.
    pub queue_size: u64,
    /// Days the oldest queued entry has waited on the report date.
    pub oldest_queued_days: Option<i32>,
}

impl QualityRow {
    fn new(dealer: Option<DealerId>, label: String) -> QualityRow {
        QualityRow {
            dealer,
            label,
            customers: 0,
            customers_sold: 0,
            valid_info: 0,
            valid_info_ratio: None,
            rejections: BTreeMap::new(),
            queued_by_reason: BTreeMap::new(),
            open_conflicts: 0,
            queue_size: 0,
            oldest_queued_days: None,
        }
    }

    fn add(&mut self, other: &QualityRow) {
        self.customers += other.customers;
        self.customers_sold += other.customers_sold;
        self.valid_info += other.valid_info;
        for (k, v) in &other.rejections {
            *self.rejections.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.queued_by_reason {
            *self.queued_by_reason.entry(k.clone()).or_default() += v;
        }
        self.open_conflicts += other.open_conflicts;
        self.queue_size += other.queue_size;
        self.oldest_queued_days = self.oldest_queued_days.max(other.oldest_queued_days);
    }

    /// Total rejections ever made (records refused; incomplete records that were stored and
    /// queued for completion are not rejections, see [`QualityRow::incomplete_queued`]).
    pub fn rejections_total(&self) -> u64 {
        self.rejections
            .iter()
            .filter(|(code, _)| code.as_str() != INCOMPLETE)
            .map(|(_, n)| n)
            .sum()
    }

    /// Stored customers queued for their dealer to complete missing basic fields.
    pub fn incomplete_queued(&self) -> u64 {
        self.queued_by_reason.get(INCOMPLETE).copied().unwrap_or(0)
    }
}

/// The data-quality report as of a date.
#[derive(Clone, Debug, PartialEq)]
pub struct QualityReport {
    /// The report date.
    pub as_of: Date,
    /// One row per dealer (every registered dealer, in id order), then the unassigned row if
    /// anything is attributed to no dealer.
    pub rows: Vec<QualityRow>,
    /// The whole network.
    pub network: QualityRow,
}

impl QualityReport {
    /// The row of `dealer` (`None`: the unassigned row).
    pub fn row(&self, dealer: Option<DealerId>) -> Option<&QualityRow> {
        self.rows.iter().find(|r| r.dealer == dealer)
    }
}

impl ReadTxn {
    /// The data-quality report as of `as_of` (loads the analytics snapshot once).
    pub fn quality_report(&self, as_of: Date) -> Result<QualityReport> {
        let facts = self.facts()?;
        let mut rows: BTreeMap<Option<DealerId>, QualityRow> = BTreeMap::new();
        for (id, d) in &facts.dealers {
            rows.insert(Some(*id), QualityRow::new(Some(*id), d.code.clone()));
        }
        // A dealer unknown to the snapshot counts as unassigned.
        fn row(
            rows: &mut BTreeMap<Option<DealerId>, QualityRow>,
            d: Option<DealerId>,
        ) -> &mut QualityRow {
            let d = d.filter(|d| rows.contains_key(&Some(*d)));
            rows.entry(d)
                .or_insert_with(|| QualityRow::new(None, "(unassigned)".into()))
        }
        for c in &facts.customers {
            row(&mut rows, c.home_dealer(as_of)).customers += 1;
        }
        let period = Period::new(as_of, as_of.add_days(1)).expect("a one-day period");
        for r in facts.kpi(Kpi::ValidInfoRatio, Dimension::Dealer, period) {
            let d = match r.key {
                GroupKey::Dealer(d) => Some(d),
                _ => None,
            };
            let row = row(&mut rows, d);
            row.customers_sold += r.denominator as u64;
            row.valid_info += r.numerator as u64;
        }
        for (d, code, n) in self.rejection_counts()? {
            *row(&mut rows, d).rejections.entry(code).or_default() += n;
        }
        for e in self.feedback_all()? {
            let row = row(&mut rows, e.dealer);
            row.queue_size += 1;
            *row.queued_by_reason.entry(e.code.clone()).or_default() += 1;
            row.oldest_queued_days = row.oldest_queued_days.max(Some(e.age_days(as_of)));
        }
        for c in self.conflicts(true)? {
            row(&mut rows, c.received.dealer).open_conflicts += 1;
        }
        let mut network = QualityRow::new(None, "network".into());
        let mut out = Vec::with_capacity(rows.len());
        // Dealers first in id order, the unassigned row (key None sorts first) last.
        let mut none = None;
        for (k, mut r) in rows {
            r.valid_info_ratio = ratio(r.valid_info, r.customers_sold);
            network.add(&r);
            match k {
                Some(_) => out.push(r),
                None => none = Some(r),
            }
        }
        out.extend(none);
        network.valid_info_ratio = ratio(network.valid_info, network.customers_sold);
        Ok(QualityReport {
            as_of,
            rows: out,
            network,
        })
    }
}

/// The feedback code of a stored but incomplete customer.
const INCOMPLETE: &str = "validation.incomplete";

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl std::fmt::Display for QualityReport {
    /// A plain-text table, one line per dealer and the network total, then the rejection
    /// reasons (lifetime count, still queued).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "data quality as of {}", self.as_of)?;
        writeln!(
            f,
            "{:<14} {:>9} {:>6} {:>7} {:>10} {:>10} {:>7} {:>7} {:>9} {:>9}",
            "dealer",
            "customers",
            "sold",
            "valid",
            "rejections",
            "incomplete",
            "queued",
            "oldest",
            "conflicts",
            "ratio"
        )?;
        for r in self.rows.iter().chain(std::iter::once(&self.network)) {
            writeln!(
                f,
                "{:<14} {:>9} {:>6} {:>7} {:>10} {:>10} {:>7} {:>7} {:>9} {:>9}",
                r.label,
                r.customers,
                r.customers_sold,
                r.valid_info,
                r.rejections_total(),
                r.incomplete_queued(),
                r.queue_size,
                r.oldest_queued_days
                    .map_or("-".to_string(), |d| format!("{d}d")),
                r.open_conflicts,
                r.valid_info_ratio
                    .map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0)),
            )?;
        }
        if !self.network.rejections.is_empty() {
            writeln!(f, "feedback by reason (lifetime, still queued)")?;
            for (code, n) in &self.network.rejections {
                let queued = self
                    .network
                    .queued_by_reason
                    .get(code)
                    .copied()
                    .unwrap_or(0);
                writeln!(f, "  {code:<40} {n:>7} {queued:>7}")?;
            }
        }
        Ok(())
    }
}
