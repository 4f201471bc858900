//! The KPIs of DOMAIN.md §7 (seed 001 appendix, 003 §4.3), computed from a [`Facts`] snapshot
//! for a [`Period`], grouped by a [`Dimension`]: dealer, region, province, vehicle model or the
//! whole network.
//!
//! ```
//! # use autocrm::*;
//! # use autocrm::kpi::{Dimension, Period};
//! # fn main() -> autocrm::Result<()> {
//! # let db = Database::in_memory()?;
//! let facts = db.begin_read()?.facts()?;
//! let q1 = Period::quarter(2025, 1).unwrap();
//! for row in facts.kpi(Kpi::LeadConversion, Dimension::Dealer, q1) {
//!     println!("{} {}: {}/{} = {:?}", row.kpi, row.label, row.numerator, row.denominator, row.value);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Conventions shared by every KPI
//!
//! - **Period** `[from, to)` is half-open. Records dated inside it are counted; figures that
//!   describe a state (who owns a car, who has churned) are taken **as of D = the period's
//!   last day** (`to − 1`). Nothing dated after D is counted, so a past period gives the same
//!   figure later — except a callback made within its tolerance after D, and records that
//!   keep only their current state without a date (a won lead or resolved complaint without
//!   a timestamp; see each KPI).
//! - **Rows** carry the numerator, the denominator and `value = numerator / denominator`
//!   (`None` when the denominator is 0). Ratios are plain fractions (0.25, not 25 %); counts
//!   are exact integers held in `f64` so that the CSI/SSI means fit the same row.
//! - **Attribution.** A *record* (lead, complaint, survey, touchpoint event) goes to its own
//!   dealer when it names one (a purchase callback: the vehicle's selling dealer), else to
//!   the customer's [`home_dealer`] on the record's date. A *customer* counted by a
//!   customer-level KPI goes to the customer's home dealer on that KPI's anchor date (given
//!   per KPI) — once, so numerator ⊆ denominator in every group (the complaint rate, a rate
//!   of records per customer, is the exception). Region and province are the attributed dealer's. Anything without a dealer
//!   (or with a dealer unknown to the snapshot) lands in the [`GroupKey::Unattributed`] row.
//! - **Model.** A record with its own model (a lead's model of interest, a complaint's
//!   vehicle) goes to that model. A customer goes to **every distinct model** among the
//!   vehicles he owns on the anchor date — once per model — or, if he owns none that day,
//!   among the vehicles he owned before it; a customer who never owned one is unattributed.
//!   So per-model rows answer "the rate among owners of model X" and, unlike the dealer,
//!   region and province rows, need not add up to the network total. Model names are compared
//!   exactly as stored.
//! - **Dealer, region and province rows** are reported for every dealer, region and province
//!   in the snapshot, even without data (value `None`); model rows for every model met; the
//!   unattributed row only when something landed in it. Rows come sorted by key.
//!
//! [`home_dealer`]: crate::CustomerFacts::home_dealer

mod formulas;
mod group;

use std::fmt;

use crate::analytics::Facts;
use crate::date::Date;
use crate::error::Result;
use crate::ids::DealerId;
use crate::store::ReadTxn;

/// A callback counts as made for a due date t when the customer has a callback touchpoint on a
/// day in `[t − CALLBACK_EARLY_DAYS, t + CALLBACK_LATE_DAYS]`.
pub const CALLBACK_EARLY_DAYS: i32 = 1;

/// See [`CALLBACK_EARLY_DAYS`].
pub const CALLBACK_LATE_DAYS: i32 = 3;

/// The first response to a complaint is within SLA when it comes at most this many seconds
/// (24 hours) after receipt — exactly 24 h is still within.
pub const COMPLAINT_RESPONSE_SECONDS: i64 = 24 * 3600;

/// The after-sales churn window in days (DOMAIN.md §7, seed 001: "more than half a year").
pub const CHURN_WINDOW_DAYS: i32 = 183;

/// The retention "year" in days: the same half-open windows as DOMAIN.md §5.
pub const RETENTION_YEAR_DAYS: i32 = 365;

/// A half-open date range `[from, to)`. Figures that describe a state are taken as of
/// [`Period::last`], the day before `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// First day, inclusive.
    pub from: Date,
    /// First day after the period, exclusive.
    pub to: Date,
}

impl Period {
    /// The period `[from, to)`, or `None` unless `from < to`.
    pub fn new(from: Date, to: Date) -> Option<Period> {
        (from < to).then_some(Period { from, to })
    }

    /// The calendar month `month` (1–12) of `year`.
    pub fn month(year: i32, month: u32) -> Option<Period> {
        Date::from_ymd(year, month, 1).map(|d| Period::months_from(d, 1))
    }

    /// Quarter `quarter` (1–4) of `year`.
    pub fn quarter(year: i32, quarter: u32) -> Option<Period> {
        if !(1..=4).contains(&quarter) {
            return None;
        }
        Date::from_ymd(year, 3 * quarter - 2, 1).map(|d| Period::months_from(d, 3))
    }

    /// Half-year `half` (1 = January–June, 2 = July–December) of `year`.
    pub fn half(year: i32, half: u32) -> Option<Period> {
        if !(1..=2).contains(&half) {
            return None;
        }
        Date::from_ymd(year, 6 * half - 5, 1).map(|d| Period::months_from(d, 6))
    }

    /// The calendar year `year`.
    pub fn year(year: i32) -> Option<Period> {
        Date::from_ymd(year, 1, 1).map(|d| Period::months_from(d, 12))
    }

    /// The calendar month containing `d`.
    pub fn month_of(d: Date) -> Period {
        let (y, m, _) = d.ymd();
        Period::month(y, m).expect("a valid date's month")
    }

    /// The quarter containing `d`.
    pub fn quarter_of(d: Date) -> Period {
        let (y, m, _) = d.ymd();
        Period::quarter(y, (m - 1) / 3 + 1).expect("a valid date's quarter")
    }

    /// The half-year containing `d`.
    pub fn half_of(d: Date) -> Period {
        let (y, m, _) = d.ymd();
        Period::half(y, (m - 1) / 6 + 1).expect("a valid date's half-year")
    }

    /// The calendar year containing `d`.
    pub fn year_of(d: Date) -> Period {
        Period::year(d.year()).expect("a valid date's year")
    }

    fn months_from(first: Date, months: i32) -> Period {
        Period {
            from: first,
            to: first.add_months(months),
        }
    }

    /// The last day of the period (`to − 1`): the as-of date of state figures.
    pub fn last(&self) -> Date {
        self.to.add_days(-1)
    }

    /// Whether `d` lies in the period.
    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d < self.to
    }

    /// Number of days.
    pub fn days(&self) -> i32 {
        self.to.days_since(self.from)
    }

    /// The first and second halves, split at the middle month when the period is an even
    /// number of whole months (a year splits on 1 July: the seed's H1 and H2), else at the
    /// middle day (the first half gets the shorter part).
    pub fn halves(&self) -> (Period, Period) {
        let (fy, fm, fd) = self.from.ymd();
        let (ty, tm, td) = self.to.ymd();
        let months = (ty * 12 + tm as i32) - (fy * 12 + fm as i32);
        let mid = if fd == 1 && td == 1 && months > 0 && months % 2 == 0 {
            self.from.add_months(months / 2)
        } else {
            self.from.add_days(self.days() / 2)
        };
        (
            Period {
                from: self.from,
                to: mid,
            },
            Period {
                from: mid,
                to: self.to,
            },
        )
    }
}

/// A period name that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a period: use a year (2025), a half (2025-H1), a quarter (2025-Q3) or a month (2025-07)")]
pub struct ParsePeriodError {
    /// The text that was given.
    pub input: String,
}

/// A period named as reports name them (a four-digit year): `2025`, `2025-H1`, `2025-Q3` or `2025-07` (surrounding
/// blanks ignored, `h`/`q` in either case). Every front end parses periods with this.
impl std::str::FromStr for Period {
    type Err = ParsePeriodError;

    fn from_str(text: &str) -> Result<Period, ParsePeriodError> {
        let s = text.trim();
        let (y, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s, None),
        };
        let number = |t: &str| {
            t.parse::<u32>()
                .ok()
                .filter(|_| t.bytes().all(|b| b.is_ascii_digit()))
        };
        let period = y
            .parse::<i32>()
            .ok()
            .filter(|_| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|year| match rest {
                None => Period::year(year),
                Some(r) if r.starts_with(['H', 'h']) => {
                    number(&r[1..]).and_then(|h| Period::half(year, h))
                }
                Some(r) if r.starts_with(['Q', 'q']) => {
                    number(&r[1..]).and_then(|q| Period::quarter(year, q))
                }
                Some(r) if r.len() == 2 => number(r).and_then(|m| Period::month(year, m)),
                Some(_) => None,
            });
        period.ok_or_else(|| ParsePeriodError {
            input: text.to_string(),
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.from, self.to)
    }
}

/// What to group KPI rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// One row for the whole network.
    Network,
    /// One row per dealer.
    Dealer,
    /// One row per sales region of the dealers.
    Region,
    /// One row per province of the dealers.
    Province,
    /// One row per vehicle model (see the module docs for customers with several).
    Model,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 5] = [
        Dimension::Network,
        Dimension::Dealer,
        Dimension::Region,
        Dimension::Province,
        Dimension::Model,
    ];

    /// The stable name, e.g. `"dealer"`.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Network => "network",
            Dimension::Dealer => "dealer",
            Dimension::Region => "region",
            Dimension::Province => "province",
            Dimension::Model => "model",
        }
    }

    /// The dimension named `name`.
    pub fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The group a row is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    /// The whole network.
    Network,
    /// A dealer.
    Dealer(DealerId),
    /// A sales region.
    Region(String),
    /// A province.
    Province(String),
    /// A vehicle model.
    Model(String),
    /// Records or customers that could not be attributed: no dealer (or a dealer unknown to
    /// the snapshot), or no vehicle model.
    Unattributed,
}

impl GroupKey {
    /// The group as a dimension name and a key: `("network", None)`, `("dealer", Some(id))`,
    /// `("region" | "province" | "model", Some(name))`, `("unattributed", None)`: the
    /// `dimension` and `key` columns of KPI rows in every binding.
    pub fn parts(&self) -> (&'static str, Option<String>) {
        match self {
            GroupKey::Network => ("network", None),
            GroupKey::Dealer(d) => ("dealer", Some(d.0.to_string())),
            GroupKey::Region(s) => ("region", Some(s.clone())),
            GroupKey::Province(s) => ("province", Some(s.clone())),
            GroupKey::Model(s) => ("model", Some(s.clone())),
            GroupKey::Unattributed => ("unattributed", None),
        }
    }
}

/// The KPIs. Each variant's documentation gives the exact formula; `P = [from, to)` is the
/// period and `D = to − 1` its last day. The code of each (`kpi/formulas.rs`) repeats it with
/// the attribution rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kpi {
    /// Lead conversion = leads received in P whose status is won, reported before `to` (or
    /// with no report time) / leads received in P. By the lead's dealer and model of interest.
    LeadConversion,
    /// Repurchase rate = owners on `from − 1` who acquired, in P, a vehicle they never owned
    /// before / customers owning a vehicle on `from − 1`.
    Repurchase,
    /// Referral rate = owners on D with a referral touchpoint in P / customers owning a
    /// vehicle on D.
    Referral,
    /// Retention = customers with a service visit in (D − 730, D − 365] and one in
    /// (D − 365, D] / customers with a service visit in (D − 730, D − 365]. By the dealer and
    /// models of the end of that earlier year.
    Retention,
    /// After-sales churn = valid customers with no service visit in (D − 183, D] (owner status
    /// `churned` with a 183-day window) / valid customers, the valid customers being those
    /// owning a vehicle on D with a service visit in (D − 365, D]. Meant quarterly.
    AfterSalesChurn,
    /// Complaint rate = complaints received in P / distinct customers with a service visit or
    /// purchase touchpoint in P (per dealer: those the dealer served). May exceed 1.
    ComplaintRate,
    /// Complaint resolution within SLA = complaints received in P with a first response at
    /// most 24 h after receipt and resolved before `to` / complaints received in P.
    ComplaintResolution,
    /// Callback ratio = due purchase callbacks in P that were made / due purchase callbacks in
    /// P. Due: 3 days, 7 days and one month after a new vehicle's purchase day, for its first
    /// owner still owning it (same-day dues of a customer are one call); made: a callback
    /// touchpoint of the customer within [due − 1, due + 3] days, each serving one due.
    CallbackRatio,
    /// Callback success = made due callbacks in P whose callback succeeded / made due
    /// callbacks in P (see [`Kpi::CallbackRatio`]).
    CallbackSuccess,
    /// Sales-customer return to service = customers whose first purchase touchpoint in
    /// `[from − 12 months, from)` was followed, after its day and by D, by a service visit at
    /// the same dealer / customers with a purchase touchpoint in `[from − 12 months, from)`.
    ReturnToService,
    /// Valid customer information ratio = customers who had acquired a vehicle by D with a
    /// name, a mobile number, a valid national ID (credit code for organisations), a province
    /// and a city / customers who had acquired a vehicle by D.
    ValidInfoRatio,
    /// CSI = Σ weighted index (0–100) of service surveys dated in P / their number.
    Csi,
    /// SSI = Σ weighted index (0–100) of sales surveys dated in P / their number.
    Ssi,
    /// CSI improvement = mean CSI of P's second half / mean CSI of its first half (H2/H1;
    /// [`Period::halves`]; give a calendar year).
    CsiImprovement,
    /// SSI improvement = mean SSI of P's second half / mean SSI of its first half (H2/H1).
    SsiImprovement,
}

impl Kpi {
    /// Every KPI.
    pub const ALL: [Kpi; 15] = [
        Kpi::LeadConversion,
        Kpi::Repurchase,
        Kpi::Referral,
        Kpi::Retention,
        Kpi::AfterSalesChurn,
        Kpi::ComplaintRate,
        Kpi::ComplaintResolution,
        Kpi::CallbackRatio,
        Kpi::CallbackSuccess,
        Kpi::ReturnToService,
        Kpi::ValidInfoRatio,
        Kpi::Csi,
        Kpi::Ssi,
        Kpi::CsiImprovement,
        Kpi::SsiImprovement,
    ];

    /// The stable name, e.g. `"lead_conversion"`: the same in every language binding.
    pub fn name(self) -> &'static str {
        match self {
            Kpi::LeadConversion => "lead_conversion",
            Kpi::Repurchase => "repurchase",
            Kpi::Referral => "referral",
            Kpi::Retention => "retention",
            Kpi::AfterSalesChurn => "after_sales_churn",
            Kpi::ComplaintRate => "complaint_rate",
            Kpi::ComplaintResolution => "complaint_resolution",
            Kpi::CallbackRatio => "callback_ratio",
            Kpi::CallbackSuccess => "callback_success",
            Kpi::ReturnToService => "return_to_service",
            Kpi::ValidInfoRatio => "valid_info_ratio",
            Kpi::Csi => "csi",
            Kpi::Ssi => "ssi",
            Kpi::CsiImprovement => "csi_improvement",
            Kpi::SsiImprovement => "ssi_improvement",
        }
    }

    /// The KPI named `name`.
    pub fn from_name(name: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Kpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One figure: a KPI for one group and period.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiRow {
    /// Which KPI.
    pub kpi: Kpi,
    /// The group.
    pub key: GroupKey,
    /// The group as text: `"network"`, the dealer's code, the region, province or model
    /// name, or `"(unattributed)"`.
    pub label: String,
    /// The period.
    pub period: Period,
    /// The numerator (a count, except for the CSI/SSI KPIs: a sum of indexes or a mean).
    pub numerator: f64,
    /// The denominator (a count, except for the improvement KPIs: the first half's mean).
    pub denominator: f64,
    /// `numerator / denominator`, `None` when there is nothing to divide by.
    pub value: Option<f64>,
}

/// Computes `which` for `period`, one row per group of `by` (see the module docs). Reads only
/// the snapshot; about one pass over the customers.
pub fn kpi(facts: &Facts, which: Kpi, by: Dimension, period: Period) -> Vec<KpiRow> {
    let mut g = group::Grouper::new(facts, by);
    formulas::accumulate(facts, which, period, &mut g);
    g.rows(which, period)
}

impl Facts {
    /// [`kpi`] on this snapshot.
    pub fn kpi(&self, which: Kpi, by: Dimension, period: Period) -> Vec<KpiRow> {
        kpi(self, which, by, period)
    }
}

impl ReadTxn {
    /// Loads the facts snapshot and computes one KPI. To compute several, load
    /// [`ReadTxn::facts`] once and call [`Facts::kpi`] for each: loading dominates.
    pub fn kpi(&self, which: Kpi, by: Dimension, period: Period) -> Result<Vec<KpiRow>> {
        Ok(kpi(&self.facts()?, which, by, period))
    }
}
