//! The customer 360° view and lookup by any key a call-centre agent might have at hand.

use crate::complaint::Complaint;
use crate::customer::{Customer, Relation};
use crate::error::{Error, Result};
use crate::ids::{ComplaintId, CustomerId, LeadId, SurveyId};
use crate::lead::Lead;
use crate::rollup::Rollup;
use crate::store::tables::ROLLUPS;
use crate::store::{get_record, ReadTxn};
use crate::survey::Survey;
use crate::touchpoint::TimelinePage;
use crate::validate;
use crate::vehicle::OwnedVehicle;

/// Everything known about one customer, on one page.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer360 {
    /// The customer's id.
    pub id: CustomerId,
    /// Profile.
    pub customer: Customer,
    /// Counts, spend, service dates, vehicles owned.
    pub rollup: Rollup,
    /// Vehicles the customer owns now.
    pub current_vehicles: Vec<OwnedVehicle>,
    /// Vehicles the customer owned before (sold, traded in).
    pub past_vehicles: Vec<OwnedVehicle>,
    /// Relations from and to this customer (relatives, referrals, key people).
    pub relations: Vec<Relation>,
    /// Leads.
    pub leads: Vec<(LeadId, Lead)>,
    /// Complaints.
    pub complaints: Vec<(ComplaintId, Complaint)>,
    /// Surveys.
    pub surveys: Vec<(SurveyId, Survey)>,
    /// The newest touchpoints; continue with [`ReadTxn::timeline`] from `timeline.next`.
    pub timeline: TimelinePage,
}

/// A key identifying a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerKey {
    /// Internal id.
    Id(CustomerId),
    /// National ID of a person.
    NationalId(String),
    /// Unified social credit code of an organisation.
    CreditCode(String),
    /// Mobile phone (may match several customers).
    Phone(String),
    /// VIN of a vehicle (matches its current owner).
    Vin(String),
    /// Licence plate (matches the vehicle's current owner).
    Plate(String),
}

impl CustomerKey {
    /// Recognises what `text` is: `C123` or a number under 11 digits is an id, then in order
    /// a valid national ID, credit code, VIN, mobile phone or plate.
    pub fn parse(text: &str) -> Option<CustomerKey> {
        let t = text.trim();
        let digits = t.strip_prefix(['C', 'c']).unwrap_or(t);
        if !digits.is_empty() && digits.len() < 11 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(|n| CustomerKey::Id(CustomerId(n)));
        }
        if let Ok(v) = validate::national_id("key", t) {
            return Some(CustomerKey::NationalId(v));
        }
        if let Ok(v) = validate::credit_code("key", t) {
            return Some(CustomerKey::CreditCode(v));
        }
        if let Ok(v) = validate::vin("key", t) {
            return Some(CustomerKey::Vin(v));
        }
        if let Ok(v) = validate::mobile_phone("key", t) {
            return Some(CustomerKey::Phone(v));
        }
        validate::plate("key", t).ok().map(CustomerKey::Plate)
    }
}

impl ReadTxn {
    /// The customer's rollup (all zero for a customer without history).
    pub fn rollup(&self, id: CustomerId) -> Result<Rollup> {
        Ok(get_record(&self.txn.open_table(ROLLUPS)?, id.0)?.unwrap_or_default())
    }

    /// Customers matching `key`, in id order (several only for a shared phone).
    pub fn find_customers(&self, key: &CustomerKey) -> Result<Vec<CustomerId>> {
        let one = |c: Option<CustomerId>| Ok(c.into_iter().collect());
        match key {
            CustomerKey::Id(id) => match self.customer(*id) {
                Ok(_) => Ok(vec![*id]),
                Err(Error::NotFound { .. }) => Ok(vec![]),
                Err(e) => Err(e),
            },
            CustomerKey::NationalId(s) => one(self.customer_by_national_id(s)?),
            CustomerKey::CreditCode(s) => one(self.customer_by_credit_code(s)?),
            CustomerKey::Phone(s) => self.customers_by_phone(s),
            CustomerKey::Vin(s) => match self.vehicle_by_vin(s)? {
                Some(v) => one(self.ownership(v)?.current().map(|o| o.customer)),
                None => Ok(vec![]),
            },
            CustomerKey::Plate(s) => match self.vehicle_by_plate(s)? {
                Some(v) => one(self.ownership(v)?.current().map(|o| o.customer)),
                None => Ok(vec![]),
            },
        }
    }

    /// The 360° view of customer `id` with the newest `timeline_limit` touchpoints.
    pub fn customer_360(&self, id: CustomerId, timeline_limit: usize) -> Result<Customer360> {
        let customer = self.customer(id)?;
        let (current_vehicles, past_vehicles) = self
            .vehicles_of(id)?
            .into_iter()
            .partition(|v| v.ownership.current().is_some_and(|o| o.customer == id));
        Ok(Customer360 {
            id,
            customer,
            rollup: self.rollup(id)?,
            current_vehicles,
            past_vehicles,
            relations: self.relations_of(id)?,
            leads: self.leads_of(id)?,
            complaints: self.complaints_of(id)?,
            surveys: self.surveys_of(id)?,
            timeline: self.timeline(id, None, timeline_limit)?,
        })
    }
}
