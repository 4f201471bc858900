//! Integration: records arriving from source systems (finance, invoice, dealer DMS, call centre,
//! web, owner app) are matched to a customer, merged field by field by source priority with
//! lineage kept per field, and rejected records go back to the dealer that sent them.
//!
//! DOMAIN.md §4 is the rule book. The order of sources is configuration stored in the database
//! ([`SourceRegistry`]), never code.
//!
//! - `sources`: the registry of source systems, a priority per [`FieldGroup`], and whether a
//!   system verifies identity documents (defaults while nothing is stored).
//! - `survivorship`: [`WriteTxn::upsert_customer`] / [`WriteTxn::upsert_vehicle`] match an
//!   incoming record and merge it field by field (the rules are listed there).
//! - `lineage`: a [`FieldLineage`] per stored field value (per phone number), shown in the
//!   360° view.
//! - `conflict`: offers that were not applied, listed and resolved by an operator.
//! - `feedback`: rejected records queued for the dealer that sent them until resubmitted.
//! - `quality`: the data-quality report by dealer.
//!
//! Tables: `sources`, `lineage`, `conflicts`, `open_conflicts`, `conflicts_by_record`,
//! `feedback`, `feedback_by_source`, `rejection_counts` (see `store::tables`).
//!
//! [`WriteTxn::upsert_customer`]: crate::WriteTxn::upsert_customer
//! [`WriteTxn::upsert_vehicle`]: crate::WriteTxn::upsert_vehicle

mod conflict;
mod feedback;
mod fields;
mod lineage;
mod quality;
mod sources;
mod survivorship;

pub use conflict::{Conflict, ConflictReason, ConflictStatus, Resolution};
pub use feedback::{FeedbackEntry, Rejection};
pub use fields::{Entity, Field, FieldValue};
pub use lineage::{FieldLineage, RecordLineage};
pub use quality::{QualityReport, QualityRow};
pub use sources::{FieldGroup, SourceRegistry, SourceSystem};
pub use survivorship::{CustomerMatch, MatchKeys};

use serde::{Deserialize, Serialize};

use crate::date::DateTime;
use crate::ids::DealerId;
use crate::source::SourceRef;

/// Where and when an incoming record was received: the source record it is, the dealer that
/// sent it (if a dealer did), and the time it arrived. Lineage and the feedback queue keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The source system and its record id.
    pub source: SourceRef,
    /// The dealer that sent the record; its feedback queue gets the record if it is rejected.
    pub dealer: Option<DealerId>,
    /// When the record was received.
    pub at: DateTime,
}

/// What an upsert did to the stored record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// No record matched: a new one was created.
    Created,
    /// An existing record matched and at least one field changed.
    Updated,
    /// An existing record matched and nothing changed (a replayed source record, equal values,
    /// or only conflicts).
    Unchanged,
}

/// The result of an upsert: the stored record's id, what happened, and how many new conflicts
/// were recorded for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upsert<I> {
    /// Id of the record the incoming one was matched to or created as.
    pub id: I,
    /// What happened.
    pub outcome: Outcome,
    /// Conflicts recorded by this upsert (offered values that were not applied).
    pub conflicts: u32,
    /// The stored customer still lacks basic fields
    /// ([`crate::Customer::missing_basic_fields`]): the record was stored and put into the
    /// sending dealer's feedback queue for completion (code `validation.incomplete`).
    /// Always `false` for vehicles.
    pub incomplete: bool,
}

/// The kinds of record a source system delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordKind {
    /// A customer (person or organisation).
    Customer,
    /// A vehicle with its owner.
    Vehicle,
    /// A touchpoint (contact record).
    Touchpoint,
    /// A lead (A-card).
    Lead,
}

impl RecordKind {
    /// All kinds.
    pub const ALL: [RecordKind; 4] = [
        RecordKind::Customer,
        RecordKind::Vehicle,
        RecordKind::Touchpoint,
        RecordKind::Lead,
    ];

    /// The stable lower-case name: `customer`, `vehicle`, `touchpoint`, `lead`.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Customer => "customer",
            RecordKind::Vehicle => "vehicle",
            RecordKind::Touchpoint => "touchpoint",
            RecordKind::Lead => "lead",
        }
    }

    /// The kind a file's name announces: `customers_dms.csv` → customer, `Vehicles.jsonl` →
    /// vehicle (the name starts with the kind's name, any case); `None` if it does not.
    ///
    /// ```
    /// use autocrm::integration::RecordKind;
    /// assert_eq!(RecordKind::from_file_name("in/Customers_DMS.csv"), Some(RecordKind::Customer));
    /// assert_eq!(RecordKind::from_file_name("leads.jsonl"), Some(RecordKind::Lead));
    /// assert_eq!(RecordKind::from_file_name("export.csv"), None);
    /// ```
    pub fn from_file_name(path: impl AsRef<std::path::Path>) -> Option<RecordKind> {
        let name = path.as_ref().file_name()?.to_string_lossy().to_lowercase();
        RecordKind::ALL
            .into_iter()
            .find(|k| name.starts_with(k.name()))
    }

    /// The kind named `name` (as [`RecordKind::name`] spells it).
    pub fn parse(name: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.name() == name)
    }
}
