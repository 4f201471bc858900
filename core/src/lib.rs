//! # autocrm
//!
//! An embedded customer-relationship store for carmakers and their dealer networks: customers,
//! vehicles with ownership history, touchpoints on one timeline, leads, complaints and surveys,
//! with per-customer rollups kept current on every write. One file (or memory), ACID
//! transactions, no server.
//!
//! ```
//! use autocrm::{Channel, Customer, Database, Touchpoint, TouchpointKind, Vehicle};
//!
//! # fn main() -> autocrm::Result<()> {
//! let db = Database::in_memory()?; // or Database::open("crm.redb")?
//! let mut tx = db.begin_write()?;
//! let wang = tx.insert_customer(&Customer {
//!     phones: vec!["+86 138-0013-8000".into()],
//!     ..Customer::person("王小明")
//! })?;
//! let bought = "2024-05-01".parse()?;
//! let car = tx.insert_vehicle(
//!     &Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Passat"),
//!     Some((wang, bought)),
//! )?;
//! tx.insert_touchpoint(&Touchpoint {
//!     vehicle: Some(car),
//!     ..Touchpoint::new(bought.at(10, 0, 0), wang, Channel::Showroom, TouchpointKind::Purchase)
//! })?;
//! tx.commit()?;
//!
//! let r = db.begin_read()?;
//! let found = r.customers_by_phone("13800138000")?;
//! let view = r.customer_360(found[0], 20)?;
//! assert_eq!(view.current_vehicles.len(), 1);
//! assert_eq!(view.rollup.first_purchase, Some(bought));
//! # Ok(())
//! # }
//! ```

pub mod access;
pub mod analytics;
pub mod api;
pub mod audit;
pub mod care;
pub mod clock;
pub mod codec;
pub mod complaint;
pub mod consent;
pub mod customer;
pub mod date;
pub mod dealer;
pub mod erasure;
pub mod error;
#[cfg(feature = "arrow")]
pub mod export;
pub mod feed;
pub mod identity;
pub mod ids;
pub mod import;
pub mod integration;
pub mod kpi;
pub mod lead;
pub mod loyalty;
pub mod money;
pub mod names;
pub mod rollup;
pub mod segment;
pub mod source;
pub mod store;
pub mod survey;
pub mod sync;
pub mod text;
pub mod touchpoint;
pub mod validate;
pub mod vehicle;
pub mod view;

pub use analytics::{CustomerFacts, Facts, VehicleFact};
pub use care::{
    customer_due_actions, due_actions, due_actions_with, CareAction, CareKind, CareParams, Holiday,
};
pub use clock::{Clock, UtcOffset};
pub use complaint::{Complaint, ComplaintStatus};
pub use complaint::{Escalation, EscalationParams};
pub use consent::{ConsentChannel, ConsentEvent, Consents};
pub use customer::{Customer, Gender, Organisation, Party, Person, Relation, RelationKind};
pub use date::{Date, DateTime, ParseDateError};
pub use dealer::{Dealer, DealerKind};
pub use error::{guard, hint_for, Damage, Error, Refusal, Result, Rule, ValidationError};
pub use identity::{DuplicateCandidate, MatchReason, MergeCounts, MergeRecord};
pub use ids::{ComplaintId, CustomerId, DealerId, LeadId, SurveyId, TouchpointId, VehicleId};
pub use ids::{ConflictId, FeedbackId};
pub use import::{import_file, import_reader, ImportOptions, ImportReport};
pub use integration::{
    Conflict, ConflictReason, ConflictStatus, Entity, FeedbackEntry, Field, FieldGroup,
    FieldLineage, FieldValue, Outcome, QualityReport, QualityRow, Received, RecordKind, Resolution,
    SourceRegistry, SourceSystem, Upsert,
};
pub use kpi::{Kpi, KpiRow};
pub use lead::{Intent, Lead, LeadSource, LeadStatus, PurchaseType};
pub use loyalty::{
    Adjustment, Balance, Benefits, Cause, EarnBasis, EarnRule, ExpiryReport, Floor, LedgerCheck,
    Lot, LoyaltyConfig, Membership, Posting, PostingKind, Redemption, Reversal, SettlementLine,
    Tier, TierChange, TierRecord, TierRule, TierStatus, Wallet, WalletRule,
};
pub use money::Money;
pub use names::Named;
pub use rollup::Rollup;
pub use segment::{CustomerSet, Rule as SegmentRule, RuleError, SegmentDiff, SegmentRecord};
pub use source::SourceRef;
pub use store::{
    CheckReport, Database, OpenOptions, Problem, ReadTxn, StorageCheck, WriteTxn, FORMAT_VERSION,
};
pub use survey::{Factor, Survey, SurveyKind};
pub use touchpoint::{
    Channel, LifecycleStage, ServiceKind, TimelineCursor, TimelinePage, Touchpoint, TouchpointKind,
};
pub use vehicle::{OwnedVehicle, Ownership, OwnershipHistory, Usage, Vehicle};
pub use view::{Customer360, CustomerKey};

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
