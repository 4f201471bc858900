//! The built-in segments of DOMAIN.md §5, exactly as defined there, as of a date D.
//!
//! The service window is W = the days d with D − `window_days` < d ≤ D (a visit exactly
//! `window_days` before D is outside); "more than `recent_days` before D" means
//! d < D − `recent_days`. A service visit is a touchpoint of kind service visit, of any service
//! kind, on or before D.

use crate::analytics::{CustomerFacts, VehicleFact};
use crate::date::Date;
use crate::loyalty::{LoyaltyConfig, Tier};
use crate::money::Money;
use crate::touchpoint::{LifecycleStage, TouchpointKind};

/// A-card (prospect without a vehicle on D) or C-card (owns one or more vehicles on D).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Card {
    /// Prospect without a vehicle.
    A,
    /// Owner of one or more vehicles.
    C,
}

/// The card of a customer on `on`.
pub fn card(c: &CustomerFacts, on: Date) -> Card {
    if c.vehicles_on(on).next().is_some() {
        Card::C
    } else {
        Card::A
    }
}

/// After-sales status of a C-card customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OwnerStatus {
    /// 3 or more service visits in W.
    Active,
    /// Exactly 2 in W.
    Swinging,
    /// Exactly 1 in W, more than `recent_days` before D.
    AtRisk,
    /// Exactly 1 in W, within the last `recent_days`.
    Recent,
    /// None in W, and either visited before W or got the first vehicle on or before
    /// D − `window_days`.
    Churned,
    /// Never visited, first vehicle acquired inside W.
    NewOwner,
}

impl OwnerStatus {
    /// Every status.
    pub const ALL: [OwnerStatus; 6] = [
        OwnerStatus::Active,
        OwnerStatus::Swinging,
        OwnerStatus::AtRisk,
        OwnerStatus::Recent,
        OwnerStatus::Churned,
        OwnerStatus::NewOwner,
    ];

    /// The stable name, e.g. `"at_risk"`.
    pub fn name(self) -> &'static str {
        match self {
            OwnerStatus::Active => "active",
            OwnerStatus::Swinging => "swinging",
            OwnerStatus::AtRisk => "at_risk",
            OwnerStatus::Recent => "recent",
            OwnerStatus::Churned => "churned",
            OwnerStatus::NewOwner => "new_owner",
        }
    }

    /// The status named `name`.
    pub fn from_name(name: &str) -> Option<OwnerStatus> {
        OwnerStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Window lengths of the owner status (DOMAIN.md §5 uses 365 and 90; the after-sales churn KPI
/// uses a 183-day window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnerStatusParams {
    /// Length of W in days.
    pub window_days: i32,
    /// "Recent" means within this many days before D.
    pub recent_days: i32,
}

impl Default for OwnerStatusParams {
    fn default() -> OwnerStatusParams {
        OwnerStatusParams {
            window_days: 365,
            recent_days: 90,
        }
    }
}

/// The owner status of a customer as of `d`, or `None` for an A-card customer. Every C-card
/// customer has exactly one status.
pub fn owner_status(c: &CustomerFacts, d: Date, p: OwnerStatusParams) -> Option<OwnerStatus> {
    if card(c, d) == Card::A {
        return None;
    }
    let start = d.add_days(-p.window_days); // W = (start, d]
    let dates = &c.rollup.service_dates;
    let lo = dates.partition_point(|x| *x <= start);
    let hi = dates.partition_point(|x| *x <= d);
    let in_window = &dates[lo..hi.max(lo)];
    Some(match in_window.len() {
        0 => {
            let visited_before = lo > 0;
            // A C-card customer owns a vehicle on d, so a first vehicle exists on or before d.
            let first = c.first_vehicle().unwrap_or(d);
            if visited_before || first <= start {
                OwnerStatus::Churned
            } else {
                OwnerStatus::NewOwner
            }
        }
        1 if in_window[0] < d.add_days(-p.recent_days) => OwnerStatus::AtRisk,
        1 => OwnerStatus::Recent,
        2 => OwnerStatus::Swinging,
        _ => OwnerStatus::Active,
    })
}

/// What a customer contributed in the window (D − `window_days`, D]: vehicle purchases,
/// service spend, parts sold outside service visits, and a fixed value per referral.
pub fn contribution(c: &CustomerFacts, d: Date, window_days: i32, per_referral: Money) -> Money {
    let mut total = Money::ZERO;
    for e in c.rollup.events_between(d.add_days(-window_days), d) {
        match e.kind {
            TouchpointKind::Purchase | TouchpointKind::ServiceVisit => total += e.amount,
            TouchpointKind::Referral => total += per_referral,
            _ => {}
        }
    }
    total
}

/// The value tier of a customer as of `d`: the highest tier whose thresholds in `config` the
/// window's vehicles bought, service visits, total spend and largest ticket meet (the same
/// thresholds as the club's tiers, without points).
pub fn value_tier(c: &CustomerFacts, d: Date, config: &LoyaltyConfig) -> Tier {
    let window = config.tier_window_days as i32;
    let mut v = crate::loyalty::QualifyingValue::default();
    for e in c.rollup.events_between(d.add_days(-window), d) {
        match e.kind {
            TouchpointKind::Purchase => v.vehicles += 1,
            TouchpointKind::ServiceVisit => v.service_visits += 1,
            _ => {}
        }
        if e.amount.0 > 0 {
            v.total_spend += e.amount;
            v.single_ticket = v.single_ticket.max(e.amount);
        }
    }
    crate::loyalty::qualified_tier(config, &v)
}

/// Ids of the top `percent` % of `customers` by contribution (at least one if any has a
/// positive contribution; ties broken by the lower id; zero contributions never count).
pub fn top_by_contribution<'a>(
    customers: impl IntoIterator<Item = &'a CustomerFacts>,
    d: Date,
    window_days: i32,
    per_referral: Money,
    percent: u32,
) -> Vec<crate::CustomerId> {
    let mut all: Vec<(Money, crate::CustomerId)> = customers
        .into_iter()
        .map(|c| (contribution(c, d, window_days, per_referral), c.id))
        .collect();
    let n = all.len();
    all.retain(|(m, _)| m.0 > 0);
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let take = (n * percent as usize).div_ceil(100).min(all.len());
    all.truncate(take);
    all.into_iter().map(|(_, id)| id).collect()
}

/// Lifecycle parameters: the age at which a vehicle enters its final year of expected use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleParams {
    /// Expected years of use; the final year starts at this age minus one year.
    pub replacement_age_years: i32,
}

impl Default for LifecycleParams {
    fn default() -> LifecycleParams {
        LifecycleParams {
            replacement_age_years: 6,
        }
    }
}

/// The lifecycle stage of one of the customer's vehicles on `d`, checked in this order:
/// sold or scrapped (not owned on d) → new (within 3 months of purchase) → before first service
/// (no first-service date on or before d) → final year (age ≥ replacement age − 1 year) → in
/// warranty (warranty end after d) → out of warranty. The purchase date is the vehicle's
/// purchase, invoice or registration date, else the day this customer acquired it.
pub fn lifecycle_stage(v: &VehicleFact, d: Date, p: LifecycleParams) -> LifecycleStage {
    if !v.owned_on(d) {
        return LifecycleStage::Gone;
    }
    let bought = crate::care::purchase_day(v, v.acquired());
    if d < bought.add_months(3) {
        return LifecycleStage::New;
    }
    if v.vehicle.first_service_date.is_none_or(|f| f > d) {
        return LifecycleStage::BeforeFirstService;
    }
    if d >= bought.add_months(12 * (p.replacement_age_years - 1)) {
        return LifecycleStage::FinalYear;
    }
    if v.vehicle.warranty_end.is_some_and(|w| w > d) {
        LifecycleStage::InWarranty
    } else {
        LifecycleStage::OutOfWarranty
    }
}

/// Upgrade targeting (DOMAIN.md §5, "Jetta owners as Audi prospects"): owners on `d` of a
/// vehicle whose model is one of `entry_models`, at least `min_age_years` old, who spent at
/// least `min_service_spend` on service in the `spend_window_days` before d.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeParams {
    /// Entry models, compared case-insensitively.
    pub entry_models: Vec<String>,
    /// Minimum vehicle age in years.
    pub min_age_years: i32,
    /// Minimum service spend in the window.
    pub min_service_spend: Money,
    /// The spend window in days.
    pub spend_window_days: i32,
}

/// Whether the customer is an upgrade candidate on `d`.
pub fn upgrade_candidate(c: &CustomerFacts, d: Date, p: &UpgradeParams) -> bool {
    let old_entry_car = c.vehicles_on(d).any(|v| {
        let bought = v.vehicle.purchase_date.unwrap_or_else(|| v.acquired());
        p.entry_models
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&v.vehicle.model))
            && bought.add_months(12 * p.min_age_years) <= d
    });
    if !old_entry_car {
        return false;
    }
    let spend: Money = c
        .rollup
        .events_between(d.add_days(-p.spend_window_days), d)
        .iter()
        .filter(|e| e.kind == TouchpointKind::ServiceVisit)
        .map(|e| e.amount)
        .sum();
    spend >= p.min_service_spend
}
