//! Leads (A-card prospects): where they came from, how hot they are, and what became of them.
//!
//! A dealer must report a lead's status within 7 days of receiving it; a won lead turns the
//! prospect into an owner (A-card → C-card).

use serde::{Deserialize, Serialize};

use crate::customer::opt;
use crate::date::DateTime;
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId};
use crate::source::SourceRef;
use crate::validate;

/// Where a lead came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeadSource {
    /// Call centre.
    CallCentre,
    /// Website or app.
    Web,
    /// Auto show.
    AutoShow,
    /// Walked into the showroom.
    WalkIn,
    /// Referred by an existing customer.
    Referral,
}

/// Intent level by expected purchase time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Intent {
    /// Within 7 days.
    H,
    /// Within 15 days.
    A,
    /// Within 30 days.
    B,
    /// Within 90 days.
    C,
}

impl Intent {
    /// Days within which the purchase is expected.
    pub fn horizon_days(self) -> u32 {
        match self {
            Intent::H => 7,
            Intent::A => 15,
            Intent::B => 30,
            Intent::C => 90,
        }
    }
}

/// What kind of purchase the prospect plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PurchaseType {
    /// First car.
    First,
    /// Replacing a car of the same brand.
    SameBrandReplacement,
    /// Replacing a car of another brand.
    OtherBrandReplacement,
    /// An additional car.
    Additional,
}

/// Where a lead stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeadStatus {
    /// Received, not yet worked.
    New,
    /// The dealer reached the prospect.
    Contacted,
    /// Test drive done.
    TestDrive,
    /// Vehicle ordered.
    Ordered,
    /// Sold.
    Won,
    /// Lost, with the reason.
    Lost(String),
}

impl LeadStatus {
    /// Every status's stable name, in workflow order.
    pub const NAMES: [&'static str; 6] =
        ["new", "contacted", "test_drive", "ordered", "won", "lost"];

    /// The stable name: `new`, `contacted`, `test_drive`, `ordered`, `won` or `lost`.
    pub fn name(&self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::TestDrive => "test_drive",
            LeadStatus::Ordered => "ordered",
            LeadStatus::Won => "won",
            LeadStatus::Lost(_) => "lost",
        }
    }

    /// The status named `name` ([`LeadStatus::NAMES`]); `lost` carries `lost_reason` (an empty
    /// or missing reason is refused when the lead is written). `None` for an unknown name.
    pub fn from_name(name: &str, lost_reason: Option<String>) -> Option<LeadStatus> {
        Some(match name {
            "new" => LeadStatus::New,
            "contacted" => LeadStatus::Contacted,
            "test_drive" => LeadStatus::TestDrive,
            "ordered" => LeadStatus::Ordered,
            "won" => LeadStatus::Won,
            "lost" => LeadStatus::Lost(lost_reason.unwrap_or_default()),
            _ => return None,
        })
    }

    /// Whether the lead is closed (won or lost).
    pub fn is_closed(&self) -> bool {
        matches!(self, LeadStatus::Won | LeadStatus::Lost(_))
    }
}

/// A lead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    /// The prospect.
    pub customer: CustomerId,
    /// Where the lead came from.
    pub origin: LeadSource,
    /// Model of interest.
    pub model: String,
    /// Intent level.
    pub intent: Intent,
    /// Planned purchase type.
    pub purchase_type: PurchaseType,
    /// The dealer the lead was handed to.
    pub dealer: Option<DealerId>,
    /// When the lead was received.
    pub received: DateTime,
    /// Current status.
    pub status: LeadStatus,
    /// When the status was last reported by the dealer.
    pub status_at: Option<DateTime>,
    /// Source system and record id.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Lead, Lead, "lead");

impl Lead {
    /// The lead as it will be stored: validated.
    pub fn normalised(&self) -> Result<Lead, ValidationError> {
        validate::plausible_date("received", self.received.date())?;
        if let Some(at) = self.status_at {
            validate::date_order("status_at", Some(self.received.date()), Some(at.date()))?;
        }
        let status = match &self.status {
            LeadStatus::Lost(reason) => LeadStatus::Lost(
                opt(Some(reason), "status.reason", 200)?
                    .ok_or_else(|| ValidationError::new("status.reason", Rule::Required, reason))?,
            ),
            s => s.clone(),
        };
        Ok(Lead {
            model: opt(Some(&self.model), "model", 64)?
                .ok_or_else(|| ValidationError::new("model", Rule::Required, &self.model))?,
            status,
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
use crate::ids::LeadId;
use crate::store::records::LEAD_TABLES;
use crate::store::{ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Validates and stores a lead of its customer; idempotent on its source record.
    pub fn insert_lead(&mut self, lead: &Lead) -> Result<LeadId> {
        let ids = self.insert_owned(&LEAD_TABLES, std::slice::from_ref(lead), false)?;
        Ok(LeadId(ids[0]))
    }

    /// Validates and stores many leads in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_leads(&mut self, leads: &[Lead]) -> Result<Vec<LeadId>> {
        let ids = self.insert_owned(&LEAD_TABLES, leads, true)?;
        Ok(ids.into_iter().map(LeadId).collect())
    }

    /// Replaces a stored lead (its customer cannot change).
    pub fn update_lead(&mut self, id: LeadId, lead: &Lead) -> Result<()> {
        let r = lead.normalised()?;
        let old: Lead = self.get_owned(&LEAD_TABLES, id.0)?;
        if old.customer != r.customer {
            return Err(crate::Error::refused(
                crate::Refusal::CustomerChanged,
                format!("lead {id} belongs to customer {}", old.customer),
            ));
        }
        self.update_owned(&LEAD_TABLES, id.0, &r)
    }
}

impl ReadTxn {
    /// The lead with id `id`.
    pub fn lead(&self, id: LeadId) -> Result<Lead> {
        self.get_owned(&LEAD_TABLES, id.0)
    }

    /// Every lead in the database, in id order (for exports).
    pub fn all_leads(&self) -> Result<Vec<(LeadId, Lead)>> {
        Ok(self
            .all_owned(&LEAD_TABLES)?
            .into_iter()
            .map(|(id, r)| (LeadId(id), r))
            .collect())
    }

    /// Every lead of `customer`, in id order.
    pub fn leads_of(&self, customer: CustomerId) -> Result<Vec<(LeadId, Lead)>> {
        Ok(self
            .owned_by(&LEAD_TABLES, customer)?
            .into_iter()
            .map(|(id, r)| (LeadId(id), r))
            .collect())
    }
}

impl crate::store::records::Owned for Lead {
    fn checked(&self) -> Result<Lead> {
        Ok(self.normalised()?)
    }
    fn customer(&self) -> CustomerId {
        self.customer
    }
    fn source(&self) -> Option<&SourceRef> {
        self.source.as_ref()
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a lead of its customer; idempotent on its source record.
    pub fn insert_lead(&mut self, lead: &Lead) -> Result<LeadId> {
        self.tx().insert_lead(lead)
    }

    /// Validates and stores many leads in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_leads(&mut self, leads: &[Lead]) -> Result<Vec<LeadId>> {
        self.tx().insert_leads(leads)
    }

    /// Replaces a stored lead (its customer cannot change).
    pub fn update_lead(&mut self, id: LeadId, lead: &Lead) -> Result<()> {
        self.tx().update_lead(id, lead)
    }
}
