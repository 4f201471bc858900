//! Complaints and their workflow states.
//!
//! received → analysed → resolved → called back → closed, with a first response due within
//! 24 hours. Complaints are sensitive: they are written and visible at once, never batched.

use serde::{Deserialize, Serialize};

use crate::customer::opt;
use crate::date::DateTime;
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::source::SourceRef;
use crate::validate;

/// Where a complaint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ComplaintStatus {
    /// Received, not yet analysed.
    Received,
    /// Cause analysed.
    Analysed,
    /// Resolved.
    Resolved,
    /// The customer was called back after resolution.
    CalledBack,
    /// Closed.
    Closed,
}

/// A complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// Who complained.
    pub customer: CustomerId,
    /// The vehicle concerned.
    pub vehicle: Option<VehicleId>,
    /// The dealer concerned.
    pub dealer: Option<DealerId>,
    /// Category, e.g. `"repair quality"`, `"sales attitude"`.
    pub category: String,
    /// When it was received.
    pub received: DateTime,
    /// Current status.
    pub status: ComplaintStatus,
    /// First response to the customer (due within 24 hours of `received`).
    pub first_response: Option<DateTime>,
    /// When it was resolved.
    pub resolved: Option<DateTime>,
    /// The complaint text.
    pub note: Option<String>,
    /// Source system and record id.
    pub source: Option<SourceRef>,
}

impl Complaint {
    /// The first-response deadline: 24 hours after receipt.
    pub fn response_due(&self) -> DateTime {
        self.received.add_seconds(24 * 3600)
    }

    /// The complaint as it will be stored: validated.
    pub fn normalised(&self) -> Result<Complaint, ValidationError> {
        validate::plausible_date("received", self.received.date())?;
        for (field, t) in [
            ("first_response", self.first_response),
            ("resolved", self.resolved),
        ] {
            if t.is_some_and(|t| t < self.received) {
                return Err(ValidationError::new(
                    field,
                    Rule::DateOrder,
                    format!(
                        "{} before received {}",
                        t.unwrap_or(self.received),
                        self.received
                    ),
                ));
            }
        }
        Ok(Complaint {
            category: opt(Some(&self.category), "category", 64)?
                .ok_or_else(|| ValidationError::new("category", Rule::Required, &self.category))?,
            note: opt(self.note.as_deref(), "note", 4000)?,
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
            ..self.clone()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use crate::error::Result;
use crate::ids::ComplaintId;
use crate::store::records::COMPLAINT_TABLES;
use crate::store::{ReadTxn, WriteTxn};

impl WriteTxn {
    /// Validates and stores a complaint of its customer; idempotent on its source record.
    pub fn insert_complaint(&mut self, complaint: &Complaint) -> Result<ComplaintId> {
        let ids = self.insert_owned(&COMPLAINT_TABLES, std::slice::from_ref(complaint), false)?;
        Ok(ComplaintId(ids[0]))
    }

    /// Validates and stores many complaints in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_complaints(&mut self, complaints: &[Complaint]) -> Result<Vec<ComplaintId>> {
        let ids = self.insert_owned(&COMPLAINT_TABLES, complaints, true)?;
        Ok(ids.into_iter().map(ComplaintId).collect())
    }

    /// Replaces a stored complaint (its customer cannot change).
    pub fn update_complaint(&mut self, id: ComplaintId, complaint: &Complaint) -> Result<()> {
        let r = complaint.normalised()?;
        let old: Complaint = self.get_owned(&COMPLAINT_TABLES, id.0)?;
        if old.customer != r.customer {
            return Err(crate::Error::invalid(
                format!("complaint {id} belongs to customer {}", old.customer),
                "a complaint cannot move to another customer; create a new one",
            ));
        }
        self.update_owned(&COMPLAINT_TABLES, id.0, &r)
    }
}

impl ReadTxn {
    /// The complaint with id `id`.
    pub fn complaint(&self, id: ComplaintId) -> Result<Complaint> {
        self.get_owned(&COMPLAINT_TABLES, id.0)
    }

    /// Every complaint of `customer`, in id order.
    pub fn complaints_of(&self, customer: CustomerId) -> Result<Vec<(ComplaintId, Complaint)>> {
        Ok(self
            .owned_by(&COMPLAINT_TABLES, customer)?
            .into_iter()
            .map(|(id, r)| (ComplaintId(id), r))
            .collect())
    }
}

impl crate::store::records::Owned for Complaint {
    fn checked(&self) -> Result<Complaint> {
        Ok(self.normalised()?)
    }
    fn customer(&self) -> CustomerId {
        self.customer
    }
    fn source(&self) -> Option<&SourceRef> {
        self.source.as_ref()
    }
}
