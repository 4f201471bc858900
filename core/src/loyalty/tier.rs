//! Tiers from qualifying value over a window, never from the spendable balance; a downgrade
//! grace period; operator floors; recorded tier history; benefits.
//!
//! The qualifying value as of D covers the window (D − window, D]: vehicles bought (purchase
//! touchpoints), service visits, total and largest single amount paid, and points earned from
//! touchpoints net of their reversals. The *qualified* tier is the highest tier whose rule is
//! met. The tier *held* on D is the highest tier qualified for on any day of
//! [D − grace, D], so a customer drops a tier only after `downgrade_grace_days` without
//! qualifying for it; an operator's floor lifts it further. Both depend only on stored events
//! and the as-of date, so the tier as of any date can be recomputed at any time.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::ledger::{Cause, Posting, PostingKind};
use super::{Benefits, LoyaltyConfig, Tier};
use crate::codec::{self, Model, ModelKind};
use crate::date::Date;
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::money::Money;
use crate::store::tables::*;
use crate::store::{decode_stored, get_record, ReadTables, ReadTxn, Tx, WriteTxn};
use crate::touchpoint::{Touchpoint, TouchpointKind};

/// A minimum tier set by an operator, from a date, optionally until a date (exclusive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Floor {
    /// The minimum tier.
    pub tier: Tier,
    /// First day it applies.
    pub from: Date,
    /// First day it no longer applies; `None` for open-ended.
    pub until: Option<Date>,
    /// Who set it.
    pub operator: String,
    /// Why.
    pub reason: String,
}

impl Floor {
    fn applies_on(&self, on: Date) -> bool {
        self.from <= on && self.until.is_none_or(|u| on < u)
    }
}

/// A recorded change of tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierChange {
    /// The review date it took effect.
    pub on: Date,
    /// The tier before.
    pub from: Tier,
    /// The tier after.
    pub to: Tier,
    /// Why: `"qualified"`, `"grace ended"`, `"floor"` or `"floor ended"`.
    pub why: String,
}

/// A customer's tier history and floors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRecord {
    /// Changes recorded by tier reviews, oldest first.
    pub changes: Vec<TierChange>,
    /// Floors set by operators, in the order set.
    pub floors: Vec<Floor>,
}

impl TierRecord {
    /// The tier recorded on `on`: the last change on or before it, lifted by any floor.
    pub fn tier_on(&self, on: Date) -> Tier {
        let recorded = self
            .changes
            .iter()
            .rev()
            .find(|c| c.on <= on)
            .map_or(Tier::Normal, |c| c.to);
        recorded.max(self.floor_on(on).map_or(Tier::Normal, |f| f.tier))
    }

    fn floor_on(&self, on: Date) -> Option<&Floor> {
        self.floors
            .iter()
            .filter(|f| f.applies_on(on))
            .max_by_key(|f| f.tier)
    }
}

impl Model for TierRecord {
    const KIND: ModelKind = ModelKind::TierRecord;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "tier record";
}

/// What counts toward a tier over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QualifyingValue {
    /// Purchase touchpoints.
    pub vehicles: u32,
    /// Service visits.
    pub service_visits: u32,
    /// Sum of amounts paid.
    pub total_spend: Money,
    /// Largest single amount paid.
    pub single_ticket: Money,
    /// Points earned from touchpoints, net of reversals.
    pub points: i64,
}

/// A customer's tier as of a date, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierStatus {
    /// The tier held: the highest of `qualified`, what grace keeps and the floor.
    pub tier: Tier,
    /// The tier the window's value qualifies for on the date itself.
    pub qualified: Tier,
    /// True if the tier is held only thanks to the downgrade grace period.
    pub by_grace: bool,
    /// The operator floor in force, if it lifts the tier.
    pub floor: Option<Floor>,
    /// The window's qualifying value on the date.
    pub value: QualifyingValue,
}

/// The events of one customer that tiers read: (day, touchpoint) and (day, signed
/// qualifying points).
struct Events {
    touchpoints: Vec<Touchpoint>,
    points: Vec<(Date, i64)>,
}

impl Events {
    fn value(&self, as_of: Date, window: u32) -> QualifyingValue {
        let first = as_of.add_days(1 - window as i32);
        let inside = |d: Date| first <= d && d <= as_of;
        let mut v = QualifyingValue::default();
        for t in self.touchpoints.iter().filter(|t| inside(t.at.date())) {
            match t.kind {
                TouchpointKind::Purchase => v.vehicles += 1,
                TouchpointKind::ServiceVisit => v.service_visits += 1,
                _ => {}
            }
            if let Some(m) = t.amount.filter(|m| m.0 > 0) {
                v.total_spend += m;
                v.single_ticket = v.single_ticket.max(m);
            }
        }
        v.points = self
            .points
            .iter()
            .filter(|(d, _)| inside(*d))
            .map(|(_, p)| p)
            .sum();
        v
    }

    /// Days on which the qualified tier can rise within [from, to].
    fn entry_days(&self, from: Date, to: Date) -> Vec<Date> {
        let mut days: Vec<Date> = self
            .touchpoints
            .iter()
            .map(|t| t.at.date())
            .chain(self.points.iter().map(|p| p.0))
            .filter(|d| from <= *d && *d <= to)
            .collect();
        days.sort();
        days.dedup();
        days
    }
}

/// The highest tier whose rule in `config` the value meets (normal if none).
pub fn qualified_tier(config: &LoyaltyConfig, v: &QualifyingValue) -> Tier {
    config
        .tiers
        .iter()
        .filter(|r| {
            r.min_vehicles.is_some_and(|m| v.vehicles >= m)
                || r.min_service_visits.is_some_and(|m| v.service_visits >= m)
                || r.min_total_spend.is_some_and(|m| v.total_spend >= m)
                || r.min_single_ticket.is_some_and(|m| v.single_ticket >= m)
                || r.min_qualifying_points.is_some_and(|m| v.points >= m)
        })
        .map(|r| r.tier)
        .max()
        .unwrap_or(Tier::Normal)
}

/// The status as of `as_of` from a customer's events and record.
fn status(config: &LoyaltyConfig, events: &Events, record: &TierRecord, as_of: Date) -> TierStatus {
    let window = config.tier_window_days;
    let value = events.value(as_of, window);
    let now = qualified_tier(config, &value);
    // The highest tier over [as_of − grace, as_of] is reached at the start of that range or on
    // a day an event entered the window: leaving events only ever lower it.
    let start = as_of.add_days(-(config.downgrade_grace_days as i32));
    let held = events
        .entry_days(start, as_of)
        .into_iter()
        .chain([start])
        .map(|d| qualified_tier(config, &events.value(d, window)))
        .max()
        .unwrap_or(Tier::Normal)
        .max(now);
    let floor = record.floor_on(as_of).filter(|f| f.tier > held).cloned();
    TierStatus {
        tier: floor.as_ref().map_or(held, |f| f.tier),
        qualified: now,
        by_grace: held > now && floor.is_none(),
        floor,
        value,
    }
}

/// Reads a customer's tier events through any set of tables (write or read transaction).
fn events_from(
    touchpoints: &impl ReadableTable<(u64, i64, u64), &'static [u8]>,
    customer_postings: &impl ReadableTable<(u64, u64), ()>,
    postings: &impl ReadableTable<u64, &'static [u8]>,
    customer: CustomerId,
    from: Date,
    to: Date,
) -> Result<Events> {
    let lo = from.at_midnight().seconds();
    let hi = to.add_days(1).at_midnight().seconds();
    let mut tps = Vec::new();
    for e in touchpoints.range((customer.0, lo, 0)..(customer.0, hi, 0))? {
        tps.push(decode_stored::<Touchpoint>(e?.1.value())?);
    }
    let mut points = Vec::new();
    for e in customer_postings.range((customer.0, 0)..=(customer.0, u64::MAX))? {
        let id = e?.0.value().1;
        let p: Posting = get_record(postings, id)?
            .ok_or_else(|| Error::dangling("customer postings", "posting", id))?;
        let day = p.at.date();
        if day < from || day > to {
            continue;
        }
        match (&p.kind, &p.cause) {
            (PostingKind::Earn, Cause::Touchpoint { .. }) => points.push((day, p.points)),
            (PostingKind::Reverse, Cause::Reversal { credit, .. }) => {
                let c: Posting = get_record(postings, *credit)?
                    .ok_or_else(|| Error::dangling("posting", "posting", *credit))?;
                if c.kind == PostingKind::Earn {
                    points.push((day, -c.points));
                }
            }
            _ => {}
        }
    }
    Ok(Events {
        touchpoints: tps,
        points,
    })
}

/// The days whose events a status as of `as_of` can read.
fn event_range(config: &LoyaltyConfig, as_of: Date) -> (Date, Date) {
    let back = config.tier_window_days as i32 + config.downgrade_grace_days as i32;
    (as_of.add_days(-back), as_of)
}

fn config_or_default(c: Option<LoyaltyConfig>) -> LoyaltyConfig {
    c.unwrap_or_default()
}

/// Most tier floors one customer's tier record holds (256); one more is refused with
/// `limit_exceeded.tier_floors`. With an operator of at most [`MAX_OPERATOR_CHARS`] and a
/// reason of at most [`MAX_REASON_CHARS`] characters, floors stay far below what the decoder
/// reads of one record. Tier changes need no limit: a review records at most one per customer
/// and date, and reviews move forward in time through the plausible dates.
pub const MAX_TIER_FLOORS: usize = 256;

/// Longest operator name on a tier floor, in characters.
pub const MAX_OPERATOR_CHARS: usize = 64;

/// Longest reason on a tier floor, in characters.
pub const MAX_REASON_CHARS: usize = 500;

impl Tx<'_> {
    fn tier_record(&self, customer: CustomerId) -> Result<TierRecord> {
        Ok(get_record(&*self.t.tiers()?, customer.0)?.unwrap_or_default())
    }

    fn put_tier_record(&mut self, customer: CustomerId, r: &TierRecord) -> Result<()> {
        self.t
            .tiers()?
            .insert(customer.0, codec::encode(r).as_slice())?;
        Ok(())
    }

    /// The tier recorded for `on` (reviews and floors), which earning multipliers use.
    pub(crate) fn recorded_tier(&self, customer: CustomerId, on: Date) -> Result<Tier> {
        Ok(self.tier_record(customer)?.tier_on(on))
    }

    /// The customer's tier status as of `as_of`, as this transaction sees it.
    pub fn tier_status(&self, customer: CustomerId, as_of: Date) -> Result<TierStatus> {
        let config = config_or_default(self.loyalty_config()?);
        let (from, to) = event_range(&config, as_of);
        let events = events_from(
            &*self.t.touchpoints()?,
            &*self.t.customer_postings()?,
            &*self.t.postings()?,
            customer,
            from,
            to,
        )?;
        Ok(status(
            &config,
            &events,
            &self.tier_record(customer)?,
            as_of,
        ))
    }

    /// Sets a minimum tier for a customer (e.g. a fleet account or a goodwill gesture), with
    /// the operator and reason kept in the tier record.
    pub fn set_tier_floor(&mut self, customer: CustomerId, floor: &Floor) -> Result<()> {
        crate::validate::plausible_date("from", floor.from)?;
        if let Some(u) = floor.until {
            crate::validate::plausible_date("until", u)?;
            if u <= floor.from {
                let v = format!("{u} not after {}", floor.from);
                return Err(ValidationError::new("until", Rule::DateOrder, v).into());
            }
        }
        let mut stored = floor.clone();
        for (field, v, max) in [
            ("operator", &mut stored.operator, MAX_OPERATOR_CHARS),
            ("reason", &mut stored.reason, MAX_REASON_CHARS),
        ] {
            match crate::validate::optional_text(field, v, max)? {
                Some(t) => *v = t,
                None => return Err(ValidationError::new(field, Rule::Required, &*v).into()),
            }
        }
        self.require(CUSTOMERS, "customer", customer.0)?;
        let mut record = self.tier_record(customer)?;
        if record.floors.len() >= MAX_TIER_FLOORS {
            return Err(crate::Error::LimitExceeded {
                limit_kind: crate::error::Limit::TierFloors,
                what: format!("the tier floors of customer {customer}"),
                size: record.floors.len() + 1,
                limit: MAX_TIER_FLOORS,
                hint: "a customer's floors are kept for the audit trail;                        contact support to archive old ones",
            });
        }
        record.floors.push(stored);
        self.writing(|tx| tx.put_tier_record(customer, &record))
    }

    /// Reviews every member's tier as of `as_of` and records each change in their tier
    /// history. Idempotent for the same date; reviews must move forward in time per customer.
    /// Returns the changes recorded.
    pub fn review_tiers(&mut self, as_of: Date) -> Result<Vec<(CustomerId, TierChange)>> {
        let members: Vec<u64> = {
            let t = self.t.members()?;
            let it = t.iter()?;
            it.map(|e| e.map(|(k, _)| k.value()))
                .collect::<std::result::Result<_, _>>()?
        };
        let mut changes = Vec::new();
        for c in members {
            let customer = CustomerId(c);
            let mut record = self.tier_record(customer)?;
            if let Some(last) = record.changes.last() {
                if last.on > as_of {
                    return Err(Error::refused(
                        Refusal::TierReviewOutOfOrder,
                        format!(
                            "customer {customer}'s tier was last reviewed on {}, after {as_of}",
                            last.on
                        ),
                    ));
                }
            }
            let before = record.changes.last().map_or(Tier::Normal, |c| c.to);
            let st = self.tier_status(customer, as_of)?;
            if st.tier == before {
                continue;
            }
            let why = if st.floor.is_some() {
                "floor"
            } else if st.tier > before {
                "qualified"
            } else {
                "grace ended"
            };
            let change = TierChange {
                on: as_of,
                from: before,
                to: st.tier,
                why: why.into(),
            };
            record.changes.push(change.clone());
            self.writing(|tx| tx.put_tier_record(customer, &record))?;
            changes.push((customer, change));
        }
        Ok(changes)
    }
}

impl ReadTxn {
    /// The customer's tier status as of `as_of`: the tier held, the tier the window qualifies
    /// for, whether grace or a floor holds it, and the qualifying value.
    pub fn tier_status(&self, customer: CustomerId, as_of: Date) -> Result<TierStatus> {
        let config = config_or_default(self.loyalty_config()?);
        let (from, to) = event_range(&config, as_of);
        let t: &ReadTables = &self.tables;
        let events = events_from(
            t.touchpoints()?,
            t.customer_postings()?,
            t.postings()?,
            customer,
            from,
            to,
        )?;
        Ok(status(
            &config,
            &events,
            &self.tier_history(customer)?,
            as_of,
        ))
    }

    /// The customer's recorded tier changes and floors.
    pub fn tier_history(&self, customer: CustomerId) -> Result<TierRecord> {
        Ok(get_record(self.tables.tiers()?, customer.0)?.unwrap_or_default())
    }

    /// The benefits of the tier the customer holds as of `as_of`.
    pub fn benefits(&self, customer: CustomerId, as_of: Date) -> Result<Benefits> {
        let config = config_or_default(self.loyalty_config()?);
        Ok(config.benefits_of(self.tier_status(customer, as_of)?.tier))
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The customer's tier status as of `as_of`, as this transaction sees it.
    pub fn tier_status(&self, customer: CustomerId, as_of: Date) -> Result<TierStatus> {
        self.tx().tier_status(customer, as_of)
    }

    /// Sets a minimum tier for a customer (e.g. a fleet account or a goodwill gesture), with
    /// the operator and reason kept in the tier record.
    pub fn set_tier_floor(&mut self, customer: CustomerId, floor: &Floor) -> Result<()> {
        self.tx().set_tier_floor(customer, floor)
    }

    /// Reviews every member's tier as of `as_of` and records each change in their tier
    /// history. Idempotent for the same date; reviews must move forward in time per customer.
    /// Returns the changes recorded.
    pub fn review_tiers(&mut self, as_of: Date) -> Result<Vec<(CustomerId, TierChange)>> {
        self.tx().review_tiers(as_of)
    }
}
