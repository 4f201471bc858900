//! A read-only snapshot of every customer's facts — profile, rollup (with its event digest),
//! vehicles and their ownership periods, leads, complaints, surveys, consents and club state —
//! loaded once from a read transaction with full-table scans, for segments, KPIs and care
//! actions to evaluate as of any date without touching the store again.
//!
//! Loading reads each table once in key order (no per-customer lookups) and never the
//! touchpoint timeline: the rollups' event digests stand in for it.

use std::collections::HashMap;

use redb::ReadableTable;

use crate::complaint::Complaint;
use crate::consent::Consents;
use crate::customer::Customer;
use crate::date::Date;
use crate::dealer::Dealer;
use crate::error::Result;
use crate::ids::{ComplaintId, CustomerId, DealerId, LeadId, SurveyId, VehicleId};
use crate::lead::Lead;
use crate::loyalty::{Balance, Membership, TierRecord, Wallet};
use crate::rollup::Rollup;
use crate::store::{decode_stored, ReadTxn};
use crate::survey::Survey;
use crate::vehicle::Vehicle;

/// One ownership period: from (inclusive), to (exclusive; `None` while owned).
pub type Period = (Date, Option<Date>);

/// A vehicle as one customer owned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VehicleFact {
    /// The vehicle's id.
    pub id: VehicleId,
    /// The vehicle.
    pub vehicle: Vehicle,
    /// This customer's ownership periods of it: (from, to), `to` exclusive, `None` while owned.
    pub periods: Vec<Period>,
}

impl VehicleFact {
    /// Whether the customer owned it on `on`.
    pub fn owned_on(&self, on: Date) -> bool {
        self.periods
            .iter()
            .any(|&(from, to)| from <= on && to.is_none_or(|t| on < t))
    }

    /// The first day the customer owned it.
    pub fn acquired(&self) -> Date {
        self.periods.iter().map(|p| p.0).min().expect("a period")
    }
}

/// Everything known about one customer.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerFacts {
    /// The customer's id.
    pub id: CustomerId,
    /// The profile.
    pub customer: Customer,
    /// The rollup, including every touchpoint's digest in `rollup.events`.
    pub rollup: Rollup,
    /// Vehicles owned now or before, in vehicle id order.
    pub vehicles: Vec<VehicleFact>,
    /// Leads.
    pub leads: Vec<(LeadId, Lead)>,
    /// Complaints.
    pub complaints: Vec<(ComplaintId, Complaint)>,
    /// Surveys.
    pub surveys: Vec<(SurveyId, Survey)>,
    /// Marketing consents.
    pub consents: Consents,
    /// Club membership.
    pub membership: Option<Membership>,
    /// Recorded tier changes and floors.
    pub tiers: TierRecord,
    /// Wallet balances.
    pub balances: Vec<(Wallet, Balance)>,
    /// Whether the customer's basic fields are complete and valid
    /// ([`Customer::missing_basic_fields`] is empty) — for a customer erased on request, as
    /// they were at the erasure: honouring a request is not a gap in the dealer's data entry.
    pub valid_info: bool,
}

impl CustomerFacts {
    /// Vehicles owned on `on`.
    pub fn vehicles_on(&self, on: Date) -> impl Iterator<Item = &VehicleFact> {
        self.vehicles.iter().filter(move |v| v.owned_on(on))
    }

    /// The first day the customer owned any vehicle, if ever.
    pub fn first_vehicle(&self) -> Option<Date> {
        self.vehicles.iter().map(VehicleFact::acquired).min()
    }

    /// The dealer this customer belongs to for per-dealer figures: the dealer of the latest
    /// service visit on or before `on`, else the selling dealer of the most recently acquired
    /// vehicle, else the dealer of the latest touchpoint.
    pub fn home_dealer(&self, on: Date) -> Option<DealerId> {
        let past = self.rollup.events_between(Date::from_days(i32::MIN), on);
        past.iter()
            .rev()
            .find(|e| e.kind == crate::TouchpointKind::ServiceVisit && e.dealer.is_some())
            .and_then(|e| e.dealer)
            .or_else(|| {
                self.vehicles
                    .iter()
                    .filter(|v| v.acquired() <= on)
                    .max_by_key(|v| v.acquired())
                    .and_then(|v| v.vehicle.selling_dealer)
            })
            .or_else(|| past.iter().rev().find_map(|e| e.dealer))
    }
}

/// Every customer's facts, in customer id order, and the dealers.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Customers, ascending by id.
    pub customers: Vec<CustomerFacts>,
    /// Dealers, ascending by id.
    pub dealers: Vec<(DealerId, Dealer)>,
}

impl Facts {
    /// Every customer's [`CustomerFacts::home_dealer`] on `on`, in customer id order.
    pub fn home_dealers(&self, on: Date) -> Vec<(CustomerId, Option<DealerId>)> {
        self.customers
            .iter()
            .map(|c| (c.id, c.home_dealer(on)))
            .collect()
    }

    /// Customer `id`'s [`CustomerFacts::home_dealer`] on `on`; `not_found` if the snapshot
    /// has no such customer.
    pub fn home_dealer(&self, id: CustomerId, on: Date) -> Result<Option<DealerId>> {
        self.customer(id)
            .map(|c| c.home_dealer(on))
            .ok_or_else(|| crate::Error::not_found("customer", id.0))
    }

    /// The facts of customer `id`, if it exists.
    pub fn customer(&self, id: CustomerId) -> Option<&CustomerFacts> {
        self.customers
            .binary_search_by_key(&id, |c| c.id)
            .ok()
            .map(|i| &self.customers[i])
    }

    /// The dealer `id`, if it exists.
    pub fn dealer(&self, id: DealerId) -> Option<&Dealer> {
        self.dealers
            .binary_search_by_key(&id, |d| d.0)
            .ok()
            .map(|i| &self.dealers[i].1)
    }
}

impl ReadTxn {
    /// Loads the facts snapshot of every customer (see the module docs). Takes about as long
    /// as reading every customer, rollup, vehicle and owned record once.
    pub fn facts(&self) -> Result<Facts> {
        let t = &self.tables;
        let mut customers = Vec::new();
        for e in t.customers()?.iter()? {
            let (k, v) = e?;
            let customer: Customer = decode_stored(v.value())?;
            customers.push(CustomerFacts {
                id: CustomerId(k.value()),
                valid_info: customer.missing_basic_fields().is_empty(),
                customer,
                rollup: Rollup::default(),
                vehicles: Vec::new(),
                leads: Vec::new(),
                complaints: Vec::new(),
                surveys: Vec::new(),
                consents: Consents::default(),
                membership: None,
                tiers: TierRecord::default(),
                balances: Vec::new(),
            });
        }
        let mut at: HashMap<u64, usize> = HashMap::with_capacity(customers.len());
        for (i, c) in customers.iter().enumerate() {
            at.insert(c.id.0, i);
        }
        let slot = |id: u64| at.get(&id).copied();

        for e in t.erasures()?.iter()? {
            let (k, v) = e?;
            if let Some(i) = slot(k.value()) {
                let erasure: crate::erasure::Erasure = decode_stored(v.value())?;
                customers[i].valid_info = erasure.had_valid_info;
            }
        }

        for e in t.rollups()?.iter()? {
            let (k, v) = e?;
            if let Some(i) = slot(k.value()) {
                customers[i].rollup = decode_stored(v.value())?;
            }
        }
        for (id, vehicle, history) in self.all_vehicles()? {
            let mut by_owner: Vec<(u64, Vec<Period>)> = Vec::new();
            for o in &history.0 {
                match by_owner.iter_mut().find(|(c, _)| *c == o.customer.0) {
                    Some((_, p)) => p.push((o.from, o.to)),
                    None => by_owner.push((o.customer.0, vec![(o.from, o.to)])),
                }
            }
            for (owner, periods) in by_owner {
                if let Some(i) = slot(owner) {
                    customers[i].vehicles.push(VehicleFact {
                        id,
                        vehicle: vehicle.clone(),
                        periods,
                    });
                }
            }
        }
        for e in t.leads()?.iter()? {
            let (k, v) = e?;
            let lead: Lead = decode_stored(v.value())?;
            if let Some(i) = slot(lead.customer.0) {
                customers[i].leads.push((LeadId(k.value()), lead));
            }
        }
        for e in t.complaints()?.iter()? {
            let (k, v) = e?;
            let c: Complaint = decode_stored(v.value())?;
            if let Some(i) = slot(c.customer.0) {
                customers[i].complaints.push((ComplaintId(k.value()), c));
            }
        }
        for e in t.surveys()?.iter()? {
            let (k, v) = e?;
            let s: Survey = decode_stored(v.value())?;
            if let Some(i) = slot(s.customer.0) {
                customers[i].surveys.push((SurveyId(k.value()), s));
            }
        }
        for e in t.consents()?.iter()? {
            let (k, v) = e?;
            if let Some(i) = slot(k.value()) {
                customers[i].consents = decode_stored(v.value())?;
            }
        }
        for e in t.members()?.iter()? {
            let (k, v) = e?;
            if let Some(i) = slot(k.value()) {
                customers[i].membership = Some(decode_stored(v.value())?);
            }
        }
        for e in t.tiers()?.iter()? {
            let (k, v) = e?;
            if let Some(i) = slot(k.value()) {
                customers[i].tiers = decode_stored(v.value())?;
            }
        }
        for e in t.balances()?.iter()? {
            let (k, v) = e?;
            let (c, w) = k.value();
            if let Some(i) = slot(c) {
                customers[i]
                    .balances
                    .push((Wallet::from_code(w), decode_stored(v.value())?));
            }
        }
        Ok(Facts {
            customers,
            dealers: self.dealers()?,
        })
    }
}
