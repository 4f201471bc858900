//! The customer 360° view and lookup by any key a call-centre agent might have at hand.

use crate::complaint::Complaint;
use crate::customer::{Customer, Relation};
use crate::error::{Error, Result};
use crate::ids::{ComplaintId, CustomerId, LeadId, SurveyId};
use crate::lead::Lead;
use crate::rollup::Rollup;
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
    /// Where each profile field came from (source system, record, time, priority), for
    /// values written through the integration path; see [`ReadTxn::lineage_of_customer`].
    pub lineage: Vec<crate::integration::FieldLineage>,
    /// The profile fields masked for the scope that asked ([`crate::api::ScopedStore`]):
    /// `national_id`, `credit_code`, `phones`, `address`, `birth_date` (to 1 January of its
    /// year). Empty in the unscoped API, which is full access.
    pub masked: Vec<&'static str>,
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
        Ok(get_record(self.tables.rollups()?, id.0)?.unwrap_or_default())
    }

    /// Customers matching `key`, in id order (several only for a shared phone).
    pub fn find_customers(&self, key: &CustomerKey) -> Result<Vec<CustomerId>> {
        let one = |c: Option<CustomerId>| Ok(c.into_iter().collect());
        match key {
            // A merged id finds the customer it was merged into.
            CustomerKey::Id(id) => match self.resolve_customer(*id) {
                Ok(live) => Ok(vec![live]),
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
        // A merged id shows the customer it was merged into (the view's `id` says which).
        let (id, customer) = self.live_customer(id)?;
        let rollup = self.rollup(id)?;
        // The rollup counts what the customer has, so indexes of records the customer does not
        // have are never probed: most customers have no complaint, lead or relation.
        let (current_vehicles, past_vehicles) = if rollup.vehicles_total > 0 {
            self.vehicles_of(id)?
                .into_iter()
                .partition(|v| v.ownership.current().is_some_and(|o| o.customer == id))
        } else {
            (vec![], vec![])
        };
        let when = |n: u32| n > 0;
        Ok(Customer360 {
            lineage: self.lineage_of_customer(id)?,
            id,
            customer,
            current_vehicles,
            past_vehicles,
            relations: if when(rollup.relations) {
                self.relations_of(id)?
            } else {
                vec![]
            },
            leads: if when(rollup.leads) {
                self.leads_of(id)?
            } else {
                vec![]
            },
            complaints: if when(rollup.complaints) {
                self.complaints_of(id)?
            } else {
                vec![]
            },
            surveys: if when(rollup.surveys) {
                self.surveys_of(id)?
            } else {
                vec![]
            },
            timeline: if rollup.touchpoints() > 0 {
                self.timeline(id, None, timeline_limit)?
            } else {
                TimelinePage {
                    items: vec![],
                    next: None,
                }
            },
            rollup,
            masked: vec![],
        })
    }
}

impl std::fmt::Display for Customer360 {
    /// A plain-text rendering for terminals: profile, vehicles, rollup, relations, timeline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::customer::Party;
        let c = &self.customer;
        match &c.party {
            Party::Person(p) => {
                writeln!(f, "customer {}  {} (person)", self.id, p.name)?;
                if let Some(id) = &p.national_id {
                    writeln!(f, "  national ID   {id}")?;
                }
                if let Some(b) = p.birth_date {
                    writeln!(f, "  born          {b}")?;
                }
                if let Some(o) = &p.occupation {
                    writeln!(f, "  occupation    {o}")?;
                }
            }
            Party::Organisation(o) => {
                writeln!(f, "customer {}  {} (organisation)", self.id, o.name)?;
                if let Some(code) = &o.credit_code {
                    writeln!(f, "  credit code   {code}")?;
                }
            }
        }
        if !c.phones.is_empty() {
            writeln!(f, "  phones        {}", c.phones.join(", "))?;
        }
        let place: Vec<&str> = [&c.province, &c.city]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !place.is_empty() {
            writeln!(f, "  lives in      {}", place.join(" "))?;
        }
        for (label, list) in [
            ("vehicle", &self.current_vehicles),
            ("past vehicle", &self.past_vehicles),
        ] {
            for v in list {
                let owned: Vec<String> = v
                    .ownership
                    .0
                    .iter()
                    .filter(|o| o.customer == self.id)
                    .map(|o| match o.to {
                        Some(to) => format!("{} – {}", o.from, to),
                        None => format!("since {}", o.from),
                    })
                    .collect();
                writeln!(
                    f,
                    "  {label:<13} {} {} {} {} ({}; {} owner(s))",
                    v.id,
                    v.vehicle.brand,
                    v.vehicle.model,
                    v.vehicle.plate.as_deref().unwrap_or("-"),
                    owned.join(", "),
                    v.ownership.0.len()
                )?;
            }
        }
        let r = &self.rollup;
        writeln!(
            f,
            "  rollup        {} touchpoints, {} service visits (last {}), spend {}, first purchase {}",
            r.touchpoints(),
            r.service_dates.len(),
            r.service_dates.last().map_or("-".into(), |d| d.to_string()),
            r.spend.iter().copied().sum::<crate::Money>(),
            r.first_purchase.map_or("-".into(), |d| d.to_string()),
        )?;
        for rel in &self.relations {
            writeln!(f, "  relation      {} {:?} {}", rel.from, rel.kind, rel.to)?;
        }
        for (id, l) in &self.leads {
            writeln!(
                f,
                "  lead          {id} {} intent {:?} {:?}",
                l.model, l.intent, l.status
            )?;
        }
        for (id, c) in &self.complaints {
            writeln!(
                f,
                "  complaint     {id} {} {:?} received {}",
                c.category, c.status, c.received
            )?;
        }
        for (id, s) in &self.surveys {
            let index = s.weighted_index().map_or("-".into(), |x| format!("{x:.1}"));
            writeln!(
                f,
                "  survey        {id} {:?} {} index {index}",
                s.kind, s.date
            )?;
        }
        writeln!(f, "  timeline (newest first)")?;
        for (id, t) in &self.timeline.items {
            let what = match t.service_kind {
                Some(k) => format!("{:?}/{k:?}", t.kind),
                None => format!("{:?}", t.kind),
            };
            let amount = t.amount.map(|m| m.to_string()).unwrap_or_default();
            let flag = if t.sensitive { " [sensitive]" } else { "" };
            writeln!(
                f,
                "    {}  {id:<10} {what:<28} {:<10?} {amount}{flag}",
                t.at, t.channel
            )?;
        }
        if self.timeline.next.is_some() {
            writeln!(f, "    … older touchpoints on the next page")?;
        }
        if !self.lineage.is_empty() {
            writeln!(f, "  lineage (field, value, source, received, priority)")?;
            for l in &self.lineage {
                let verified = if l.verified { " verified" } else { "" };
                writeln!(
                    f,
                    "    {:<13} {:<20} {}/{} {} p{}{verified}",
                    l.field.name(),
                    l.value,
                    l.source.system,
                    l.source.record_id,
                    l.at,
                    l.priority
                )?;
            }
        }
        Ok(())
    }
}
