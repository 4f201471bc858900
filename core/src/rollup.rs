//! Per-customer rollups, kept current on every write so segmentation and KPIs never scan
//! touchpoints.
//!
//! A rollup is one small record per customer: counts and spend per touchpoint kind, the dates of
//! every service visit (four bytes each: a loyal owner's ten years fit in under 200 bytes), first
//! and last contact, first purchase and the vehicles owned. Adding a touchpoint updates it in
//! O(visits) without reading any touchpoint; deleting one (rare) recomputes it from the
//! customer's contiguous timeline range.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, Model, ModelKind};
use crate::date::{Date, DateTime};
use crate::ids::DealerId;
use crate::money::Money;
use crate::touchpoint::{ServiceKind, Touchpoint, TouchpointKind};

/// What a customer's history adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// Touchpoints per kind, indexed by [`TouchpointKind::index`].
    pub counts: [u32; TouchpointKind::COUNT],
    /// Amount per kind, indexed by [`TouchpointKind::index`].
    pub spend: [Money; TouchpointKind::COUNT],
    /// Parts amount over all touchpoints.
    pub parts_spend: Money,
    /// Labour amount over all touchpoints.
    pub labour_spend: Money,
    /// Dates of service visits, ascending (one entry per visit).
    pub service_dates: Vec<Date>,
    /// First purchase touchpoint.
    pub first_purchase: Option<Date>,
    /// Latest purchase touchpoint.
    pub last_purchase: Option<Date>,
    /// Earliest touchpoint.
    pub first_touch: Option<DateTime>,
    /// Latest touchpoint.
    pub last_touch: Option<DateTime>,
    /// Highest odometer reading seen.
    pub max_mileage_km: Option<u32>,
    /// Vehicles owned now.
    pub vehicles_current: u32,
    /// Vehicles ever owned (each vehicle once, however many ownership periods).
    pub vehicles_total: u32,
    /// The day the customer first acquired a vehicle.
    pub first_vehicle: Option<Date>,
    /// Relations from or to this customer. With the three counts below it lets the 360° view
    /// skip the indexes of records a customer does not have — most customers have none.
    pub relations: u32,
    /// Leads of this customer.
    pub leads: u32,
    /// Complaints of this customer.
    pub complaints: u32,
    /// Surveys of this customer.
    pub surveys: u32,
    /// Every touchpoint in digest form, by day: what windowed segment rules and KPIs count
    /// and sum ("spend in the last 2 years") without reading the timeline. About a dozen
    /// bytes per touchpoint.
    pub events: Vec<Event>,
}

/// A touchpoint as segments and KPIs see it. Ordered by day and minute first, so a rollup's
/// events are in time order (the latest of two visits on one day is last, which decides a
/// customer's home dealer), and then by every other field, so the order does not depend on the
/// order the touchpoints were written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Event {
    /// The day it happened.
    pub day: Date,
    /// The minute of the day it happened (0–1439). Minutes, not seconds: two bytes in the
    /// digest; two visits in the same minute fall back to the order of the other fields.
    pub minute: u16,
    /// Its kind.
    pub kind: TouchpointKind,
    /// For service visits, which kind.
    pub service_kind: Option<ServiceKind>,
    /// The dealer involved.
    pub dealer: Option<DealerId>,
    /// Amount paid (zero if none).
    pub amount: Money,
    /// The outcome says the contact succeeded (callbacks: the customer was reached).
    pub succeeded: bool,
}

impl Event {
    /// The digest of a touchpoint.
    pub fn of(t: &Touchpoint) -> Event {
        Event {
            day: t.date(),
            minute: (t.at.second_of_day() / 60) as u16,
            kind: t.kind,
            service_kind: t.service_kind,
            dealer: t.dealer,
            amount: t.amount.unwrap_or_default(),
            succeeded: t.succeeded(),
        }
    }
}

impl Rollup {
    /// Number of touchpoints of `kind`.
    pub fn count(&self, kind: TouchpointKind) -> u32 {
        self.counts[kind.index()]
    }

    /// Amount spent on touchpoints of `kind`.
    pub fn spent(&self, kind: TouchpointKind) -> Money {
        self.spend[kind.index()]
    }

    /// Total number of touchpoints.
    pub fn touchpoints(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Service visits on dates `d` with `from < d <= to` — the half-open windows of DOMAIN §5.
    pub fn service_visits_between(&self, from_exclusive: Date, to_inclusive: Date) -> usize {
        let lo = self.service_dates.partition_point(|d| *d <= from_exclusive);
        let hi = self.service_dates.partition_point(|d| *d <= to_inclusive);
        hi.saturating_sub(lo)
    }

    /// The latest service visit on or before `as_of`.
    pub fn last_service_on_or_before(&self, as_of: Date) -> Option<Date> {
        let hi = self.service_dates.partition_point(|d| *d <= as_of);
        hi.checked_sub(1).map(|i| self.service_dates[i])
    }

    /// Adds one touchpoint.
    pub(crate) fn add(&mut self, t: &Touchpoint) {
        let k = t.kind.index();
        self.counts[k] += 1;
        self.spend[k] += t.amount.unwrap_or_default();
        self.parts_spend += t.parts_amount.unwrap_or_default();
        self.labour_spend += t.labour_amount.unwrap_or_default();
        let date = t.date();
        if t.kind == TouchpointKind::ServiceVisit {
            let at = self.service_dates.partition_point(|d| *d <= date);
            self.service_dates.insert(at, date);
        }
        if t.kind == TouchpointKind::Purchase {
            self.first_purchase = Some(self.first_purchase.map_or(date, |d| d.min(date)));
            self.last_purchase = Some(self.last_purchase.map_or(date, |d| d.max(date)));
        }
        self.first_touch = Some(self.first_touch.map_or(t.at, |d| d.min(t.at)));
        self.last_touch = Some(self.last_touch.map_or(t.at, |d| d.max(t.at)));
        if let Some(km) = t.mileage_km {
            self.max_mileage_km = Some(self.max_mileage_km.map_or(km, |m| m.max(km)));
        }
        let event = Event::of(t);
        let at = self.events.partition_point(|e| *e <= event);
        self.events.insert(at, event);
    }

    /// Events on days `d` with `from < d <= to`, oldest first.
    pub fn events_between(&self, from_exclusive: Date, to_inclusive: Date) -> &[Event] {
        let lo = self.events.partition_point(|e| e.day <= from_exclusive);
        let hi = self.events.partition_point(|e| e.day <= to_inclusive);
        &self.events[lo..hi.max(lo)]
    }

    /// The customer acquired a vehicle on `on`; `again` if the customer owned it before (a
    /// vehicle counts once in `vehicles_total` however often it comes back).
    pub(crate) fn acquire_vehicle(&mut self, on: Date, again: bool) {
        self.vehicles_current += 1;
        if !again {
            self.vehicles_total += 1;
        }
        self.first_vehicle = Some(self.first_vehicle.map_or(on, |d| d.min(on)));
    }

    /// The customer passed a vehicle on to its next owner.
    pub(crate) fn release_vehicle(&mut self) {
        self.vehicles_current = self.vehicles_current.saturating_sub(1);
    }

    /// The touchpoint part recomputed from scratch (the vehicle part is kept).
    pub(crate) fn with_touchpoints<'a>(
        &self,
        all: impl IntoIterator<Item = &'a Touchpoint>,
    ) -> Self {
        let mut r = Rollup {
            vehicles_current: self.vehicles_current,
            vehicles_total: self.vehicles_total,
            first_vehicle: self.first_vehicle,
            relations: self.relations,
            leads: self.leads,
            complaints: self.complaints,
            surveys: self.surveys,
            ..Rollup::default()
        };
        for t in all {
            r.add(t);
        }
        r
    }
}

impl Model for Rollup {
    const KIND: ModelKind = ModelKind::Rollup;
    /// 2: events carry their minute of the day.
    const VERSION: u16 = 2;
    const NAME: &'static str = "rollup";

    fn decode_older(version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        match version {
            1 => codec::decode_payload::<v1::Rollup>(payload).map(Rollup::from),
            v => Err(DecodeError::UnknownVersion { version: v }),
        }
    }
}

/// The rollup as format version 1 stored it: events without their minute. Read as if every
/// event happened at midnight; opening such a file for writing rebuilds its rollups from the
/// timeline, which knows the minutes.
mod v1 {
    use serde::Deserialize;

    use crate::date::{Date, DateTime};
    use crate::ids::DealerId;
    use crate::money::Money;
    use crate::touchpoint::{ServiceKind, TouchpointKind};

    #[derive(Deserialize)]
    pub(super) struct Event {
        pub day: Date,
        pub kind: TouchpointKind,
        pub service_kind: Option<ServiceKind>,
        pub dealer: Option<DealerId>,
        pub amount: Money,
        pub succeeded: bool,
    }

    #[derive(Deserialize)]
    pub(super) struct Rollup {
        pub counts: [u32; TouchpointKind::COUNT],
        pub spend: [Money; TouchpointKind::COUNT],
        pub parts_spend: Money,
        pub labour_spend: Money,
        pub service_dates: Vec<Date>,
        pub first_purchase: Option<Date>,
        pub last_purchase: Option<Date>,
        pub first_touch: Option<DateTime>,
        pub last_touch: Option<DateTime>,
        pub max_mileage_km: Option<u32>,
        pub vehicles_current: u32,
        pub vehicles_total: u32,
        pub first_vehicle: Option<Date>,
        pub relations: u32,
        pub leads: u32,
        pub complaints: u32,
        pub surveys: u32,
        pub events: Vec<Event>,
    }
}

impl From<v1::Rollup> for Rollup {
    fn from(r: v1::Rollup) -> Rollup {
        Rollup {
            counts: r.counts,
            spend: r.spend,
            parts_spend: r.parts_spend,
            labour_spend: r.labour_spend,
            service_dates: r.service_dates,
            first_purchase: r.first_purchase,
            last_purchase: r.last_purchase,
            first_touch: r.first_touch,
            last_touch: r.last_touch,
            max_mileage_km: r.max_mileage_km,
            vehicles_current: r.vehicles_current,
            vehicles_total: r.vehicles_total,
            first_vehicle: r.first_vehicle,
            relations: r.relations,
            leads: r.leads,
            complaints: r.complaints,
            surveys: r.surveys,
            events: r
                .events
                .into_iter()
                .map(|e| Event {
                    day: e.day,
                    minute: 0,
                    kind: e.kind,
                    service_kind: e.service_kind,
                    dealer: e.dealer,
                    amount: e.amount,
                    succeeded: e.succeeded,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::touchpoint::Channel;
    use crate::CustomerId;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn windows_are_half_open_exactly_as_domain_5() {
        let mut r = Rollup::default();
        for day in ["2024-06-30", "2025-03-01", "2025-06-30"] {
            let t = Touchpoint::new(
                d(day).at(10, 0, 0),
                CustomerId(1),
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            );
            r.add(&t);
        }
        let as_of = d("2025-06-30");
        // W = (D-365, D]: 2024-06-30 is exactly 365 days before D and falls outside.
        assert_eq!(as_of.days_since(d("2024-06-30")), 365);
        assert_eq!(r.service_visits_between(as_of.add_days(-365), as_of), 2);
        assert_eq!(r.service_visits_between(as_of.add_days(-366), as_of), 3);
        assert_eq!(
            r.last_service_on_or_before(d("2025-06-29")),
            Some(d("2025-03-01"))
        );
        assert_eq!(r.count(TouchpointKind::ServiceVisit), 3);
    }

    #[test]
    fn vehicles_count_each_vehicle_once() {
        let mut r = Rollup::default();
        r.acquire_vehicle(d("2020-01-01"), false); // bought
        r.release_vehicle(); // sold
        r.acquire_vehicle(d("2022-01-01"), true); // bought back
        r.acquire_vehicle(d("2019-05-05"), false); // a second car, recorded later
        assert_eq!((r.vehicles_current, r.vehicles_total), (2, 2));
        assert_eq!(r.first_vehicle, Some(d("2019-05-05")));
    }
}
