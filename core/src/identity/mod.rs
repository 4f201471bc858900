//! Identity resolution beyond exact keys: duplicate candidates with a score, merging two
//! customers into one, and redirects from a merged id to the customer it became.
//!
//! # Duplicate candidates
//!
//! Exact keys (national ID, credit code) are unique indexes and never duplicate. Everything
//! else is a *candidate* pair that an operator confirms by merging. [`MatchReason`] lists the
//! rules and their points; a pair becomes a candidate when at least one *trigger* rule fires
//! (a shared phone with the same or a similar name; the same name with the same birth date,
//! employer or address; the same organisation name). Supporting and contradicting evidence
//! then moves the score. Two customers whose national IDs (or credit codes) are both known and
//! differ are never candidates, nor are a person and an organisation.
//!
//! The score combines the triggers' and supports' points as independent evidence
//! (100 · (1 − Π(1 − pᵢ/100))), then subtracts the contradictions, clamped to 0–100: two rules
//! of 90 and 85 give 99 (rounded half up), not 175.
//!
//! Names are compared on a key: letters and digits only, lower case, and the words of a
//! Latin-script name sorted ("Zhao Lei" = "lei zhao"). A name is *similar* to another when both
//! have the same surname (Chinese names: the first character, or the first two for a compound
//! surname such as 欧阳) and their character edit distance is small: at most 40 % of the
//! longer name for Chinese names (one character in three: 王明 ~ 王小明, but not 王伟 ~ 王芳, who
//! are likely two siblings sharing the family phone), at most 20 % for Latin-script names.
//! The edit distance is a dozen lines of Levenshtein over `char`s (names are short); it is
//! written here rather than taken from `strsim` to keep the shared dependency set unchanged.
//!
//! Candidate search never compares every pair: one scan of the customer table builds blocks —
//! (phone, surname), (name, birth date), (name, employer), (name, address), organisation
//! name — and only customers sharing a block are compared. A block is compared pairwise, so a
//! switchboard number typed for hundreds of customers with one surname costs its square.
//!
//! # Merge
//!
//! [`crate::WriteTxn::merge_customers`] moves everything of the merged customer to the
//! survivor (see its documentation), removes the merged customer, records a redirect from its
//! id and a [`MergeRecord`] holding the merged customer's full record, so nothing is lost.

mod candidates;
pub(crate) use candidates::check_min_score;
pub(crate) mod merge;

use serde::{Deserialize, Serialize};

use crate::customer::{Customer, RelationKind};
use crate::date::DateTime;
use crate::ids::{CustomerId, VehicleId};

pub use candidates::{DuplicateCandidate, MatchReason};

/// A merge of two customers, as recorded in the `merges` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The customer that remains.
    pub survivor: CustomerId,
    /// The customer merged into it; its id now redirects to the survivor.
    pub merged: CustomerId,
    /// When the merge was made (given by the caller).
    pub at: DateTime,
    /// Who made it (operator or process name).
    pub by: String,
    /// What moved.
    pub counts: MergeCounts,
    /// The merged customer's full record as it was just before the merge.
    pub merged_customer: Customer,
    /// The survivor's record as it was just before the merge.
    pub survivor_before: Customer,
    /// Fields of the survivor that were empty and got the merged customer's value
    /// (`"birth_date"`, `"national_id"`, `"phones"`...).
    pub filled: Vec<String>,
    /// The vehicles that moved (their ownership histories now name the survivor).
    pub vehicles: Vec<VehicleId>,
    /// Relations of the merged customer that did not move: the ones between the two customers
    /// and the ones the survivor already had. Kept as (from, kind, to) with the original ids.
    pub dropped_relations: Vec<(CustomerId, RelationKind, CustomerId)>,
}
crate::codec::model!(MergeRecord, MergeRecord, "merge record");

/// How many records a merge moved to the survivor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCounts {
    /// Vehicles the merged customer owns or owned.
    pub vehicles: u32,
    /// Touchpoints re-keyed under the survivor.
    pub touchpoints: u64,
    /// Relations moved to the survivor.
    pub relations: u32,
    /// Relations between the two customers, which became nothing.
    pub relations_between: u32,
    /// Relations the survivor already had (same kind, same other customer, same direction).
    pub relations_duplicate: u32,
    /// Leads moved.
    pub leads: u32,
    /// Complaints moved.
    pub complaints: u32,
    /// Surveys moved.
    pub surveys: u32,
    /// Consent events added to the survivor's history.
    pub consent_events: u32,
    /// Phone numbers added to the survivor.
    pub phones_added: u32,
}
