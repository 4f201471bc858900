//! Typed errors with stable codes.
//!
//! Every error has a [`code`](Error::code) that is the same string in every language binding, a
//! message that says what was wrong, where, and how to fix it, and (for validation) the field and
//! the rule that failed. Any error from the storage engine aborts its transaction: nothing of a
//! failed call is written.

use crate::codec::DecodeError;

/// A validation rule that a value broke. [`Rule::code`] is stable across releases and bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A required value is missing or blank.
    Required,
    /// A person's name has fewer than 2 characters.
    NameTooShort,
    /// A 3-character name containing 先生 (Mr) or 女士 (Ms): a placeholder, not a name.
    NamePlaceholder,
    /// A phone number contains characters other than digits, spaces, dashes, dots, brackets and a
    /// leading `+`.
    PhoneInvalidCharacters,
    /// A mobile number with fewer than 11 digits (after removing +86, spaces and dashes).
    PhoneTooShort,
    /// 11 digits or more, but not a mainland mobile number (1[3-9] followed by 9 digits).
    PhoneNotMobile,
    /// A national ID that is not 17 digits followed by a digit or `X`.
    NationalIdFormat,
    /// A national ID whose embedded birth date does not exist or is implausible.
    NationalIdBirthDate,
    /// A national ID whose GB 11643 check digit does not match.
    NationalIdCheckDigit,
    /// A unified social credit code that is not 18 characters of the GB 32100 alphabet.
    CreditCodeFormat,
    /// A unified social credit code whose GB 32100 check character does not match.
    CreditCodeCheckDigit,
    /// A VIN that is not 17 letters and digits.
    VinFormat,
    /// A VIN containing I, O or Q.
    VinForbiddenLetter,
    /// A VIN built for China (WMI starting with L) or North America (WMI 1–5) whose position-9
    /// check digit does not match.
    VinCheckDigit,
    /// A licence plate that is not a plausible Chinese plate.
    PlateFormat,
    /// A date outside the plausible range for its field: before 1900 or after 2100, or, for a
    /// birth date or a touchpoint, after the time the record was received (plus a day).
    DateImplausible,
    /// Two dates in the wrong order (e.g. invoice before purchase).
    DateOrder,
    /// A money amount, mileage or count that is negative.
    Negative,
    /// A score outside its scale.
    ScoreOutOfRange,
    /// A text longer than the field allows.
    TooLong,
    /// A text containing a control character (NUL, ESC and the other C0/C1 controls, DEL) or
    /// a bidirectional override: names allow none, free text (notes, addresses) only line
    /// breaks and tabs.
    ControlCharacter,
    /// A text made only of invisible characters (zero-width spaces, joiners, soft hyphens…):
    /// it would look blank.
    InvisibleText,
    /// A field given on a record kind it does not apply to.
    NotAllowed,
    /// A value that must be unique within its list appears twice.
    Duplicate,
    /// A number outside its allowed range (e.g. points that must be positive).
    OutOfRange,
    /// A record from a source system that is not in the source registry.
    UnknownSource,
    /// A stored customer lacks basic fields (mobile, national ID / credit code, province,
    /// city): not a rejection — the record is stored — but the sending dealer is asked to
    /// complete it (seed 003 §4.2.1: missing data goes back to the dealer).
    Incomplete,
}

impl Rule {
    /// Every rule, in declaration order (a unit test checks the order).
    pub const ALL: &'static [Rule] = &[
        Rule::Required,
        Rule::NameTooShort,
        Rule::NamePlaceholder,
        Rule::PhoneInvalidCharacters,
        Rule::PhoneTooShort,
        Rule::PhoneNotMobile,
        Rule::NationalIdFormat,
        Rule::NationalIdBirthDate,
        Rule::NationalIdCheckDigit,
        Rule::CreditCodeFormat,
        Rule::CreditCodeCheckDigit,
        Rule::VinFormat,
        Rule::VinForbiddenLetter,
        Rule::VinCheckDigit,
        Rule::PlateFormat,
        Rule::DateImplausible,
        Rule::DateOrder,
        Rule::Negative,
        Rule::ScoreOutOfRange,
        Rule::TooLong,
        Rule::ControlCharacter,
        Rule::InvisibleText,
        Rule::NotAllowed,
        Rule::Duplicate,
        Rule::OutOfRange,
        Rule::UnknownSource,
        Rule::Incomplete,
    ];

    /// The stable, language-independent code of this rule, e.g. `"name_placeholder"`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::NameTooShort => "name_too_short",
            Rule::NamePlaceholder => "name_placeholder",
            Rule::PhoneInvalidCharacters => "phone_invalid_characters",
            Rule::PhoneTooShort => "phone_too_short",
            Rule::PhoneNotMobile => "phone_not_mobile",
            Rule::NationalIdFormat => "national_id_format",
            Rule::NationalIdBirthDate => "national_id_birth_date",
            Rule::NationalIdCheckDigit => "national_id_check_digit",
            Rule::CreditCodeFormat => "credit_code_format",
            Rule::CreditCodeCheckDigit => "credit_code_check_digit",
            Rule::VinFormat => "vin_format",
            Rule::VinForbiddenLetter => "vin_forbidden_letter",
            Rule::VinCheckDigit => "vin_check_digit",
            Rule::PlateFormat => "plate_format",
            Rule::DateImplausible => "date_implausible",
            Rule::DateOrder => "date_order",
            Rule::Negative => "negative",
            Rule::ScoreOutOfRange => "score_out_of_range",
            Rule::TooLong => "too_long",
            Rule::ControlCharacter => "control_character",
            Rule::InvisibleText => "invisible_text",
            Rule::NotAllowed => "not_allowed",
            Rule::Duplicate => "duplicate",
            Rule::OutOfRange => "out_of_range",
            Rule::UnknownSource => "unknown_source",
            Rule::Incomplete => "incomplete",
        }
    }

    /// How to fix a value that broke this rule.
    pub fn hint(self) -> &'static str {
        match self {
            Rule::Required => "provide a non-blank value",
            Rule::NameTooShort => "a person's name has at least 2 characters",
            Rule::NamePlaceholder => {
                "ask the customer for the full name; 王先生 / 李女士 are salutations, not names"
            }
            Rule::PhoneInvalidCharacters => "use digits, optionally with +86, spaces or dashes",
            Rule::PhoneTooShort => "a mainland mobile number has 11 digits, e.g. 13812345678",
            Rule::PhoneNotMobile => "a mainland mobile number is 1[3-9] followed by 9 digits",
            Rule::NationalIdFormat => "a national ID is 17 digits followed by a digit or X",
            Rule::NationalIdBirthDate => "positions 7-14 of a national ID are a real birth date",
            Rule::NationalIdCheckDigit => "re-type the ID from the document; a digit is wrong",
            Rule::CreditCodeFormat => {
                "a credit code is 18 characters of 0-9 and A-Y without I, O, S, V, Z"
            }
            Rule::CreditCodeCheckDigit => "re-type the code from the licence; a character is wrong",
            Rule::VinFormat => "a VIN is 17 letters and digits",
            Rule::VinForbiddenLetter => "VINs never contain I, O or Q (read them as 1, 0, 0)",
            Rule::VinCheckDigit => "re-type the VIN from the vehicle licence; a character is wrong",
            Rule::PlateFormat => "a plate is a province character, a letter and 5-6 letters/digits",
            Rule::DateImplausible => {
                "use a real date in YYYY-MM-DD between 1900 and 2100; births and touchpoints \
                 no later than the day after the record was received"
            }
            Rule::DateOrder => "check the two dates: the later event cannot precede the earlier",
            Rule::Negative => "amounts, mileage and counts are zero or more",
            Rule::ScoreOutOfRange => "scores are on a 0-10 scale",
            Rule::TooLong => "shorten the text",
            Rule::ControlCharacter => {
                "remove control characters and escape sequences (NUL, ESC, direction overrides); \
                 they usually come from a broken export"
            }
            Rule::InvisibleText => "give visible text, not only zero-width or invisible characters",
            Rule::NotAllowed => "leave this field empty for this kind of record",
            Rule::Duplicate => "give each entry a distinct value",
            Rule::OutOfRange => "use a value inside the documented range",
            Rule::Incomplete => {
                "the record was stored; ask the customer for the missing basic fields and \
                 resubmit the record with the same source id"
            }
            Rule::UnknownSource => {
                "register the source system first (WriteTxn::register_source) with its priority \
                 per field group, or use one of the registered systems (ReadTxn::sources)"
            }
        }
    }
}

/// A size limit that keeps every stored record readable: a write that would pass it is refused
/// (nothing is written), because the decoder refuses records larger than it accepts.
/// [`Limit::code`] is stable across releases and bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The text of a saved segment's rule, in bytes
    /// ([`crate::segment::MAX_RULE_BYTES`]).
    RuleText,
    /// A saved segment's version history, in bytes
    /// ([`crate::segment::MAX_HISTORY_BYTES`]).
    SegmentHistory,
    /// Levels of saved segments naming saved segments
    /// ([`crate::segment::MAX_SEGMENT_DEPTH`]).
    SegmentDepth,
    /// Consent events of one customer ([`crate::consent::MAX_CONSENT_EVENTS`]).
    ConsentHistory,
    /// Tier floors of one customer ([`crate::loyalty::MAX_TIER_FLOORS`]).
    TierFloors,
}

impl Limit {
    /// The stable code, e.g. `"rule_text"`.
    pub fn code(self) -> &'static str {
        match self {
            Limit::RuleText => "rule_text",
            Limit::SegmentHistory => "segment_history",
            Limit::SegmentDepth => "segment_depth",
            Limit::ConsentHistory => "consent_history",
            Limit::TierFloors => "tier_floors",
        }
    }
}

/// Why an operation was refused in the records' current state ([`Error::InvalidOperation`]).
/// [`Refusal::code`] is stable across releases and bindings; the error's code is
/// `invalid_operation.<code>`, e.g. `"invalid_operation.merge_with_itself"`. Nothing of the
/// refused call was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    // --- customers and their records
    /// A customer related to itself ([`crate::WriteTxn::relate`]).
    RelationToItself,
    /// Deleting a customer with loyalty postings: the append-only ledger names the customer.
    CustomerHasPostings,
    /// Deleting a customer who owns or ever owned a vehicle: the ownership history would lose
    /// a link.
    CustomerHasVehicles,
    /// An update or merge of a customer erased on request ([`crate::erasure`]).
    CustomerErased,
    /// An update that would move a lead, complaint or survey to another customer.
    CustomerChanged,
    /// Deleting a touchpoint that earned loyalty points: the append-only ledger refers to it.
    TouchpointHasPostings,
    /// A vehicle transferred to the customer who already owns it, or a conflict accepted that
    /// offers the current owner.
    AlreadyOwner,
    /// A dealer beyond the 2³² dealer ids.
    DealerIdsExhausted,

    // --- merging customers
    /// A customer merged into itself.
    MergeWithItself,
    /// A merge naming a customer that was already merged into another (its id is a redirect).
    AlreadyMerged,
    /// A merge of a person with an organisation.
    MergePersonWithOrganisation,
    /// A merge of two customers with different national IDs or different credit codes.
    MergeDifferentKeys,
    /// A merge whose merged customer has loyalty data (membership, points or tier).
    MergedHasLoyaltyData,

    // --- integration: source records and conflicts
    /// A source record that wrote a person now sends an organisation, or the reverse.
    SourceChangedKind,
    /// A source record that wrote a vehicle now sends another VIN.
    SourceChangedVin,
    /// A conflict resolved a second time.
    ConflictAlreadyResolved,
    /// A conflict accepted whose offered value no longer fits its record (the record changed
    /// kind since the conflict was raised).
    ConflictNoLongerApplies,

    // --- loyalty
    /// Dealer points redeemed at another dealer than the one that issued them.
    WalletOtherDealer,
    /// A reversal of a posting that is not a credit (an earning or a positive adjustment).
    ReverseNotACredit,
    /// A reversal of a credit that was already reversed.
    AlreadyReversed,
    /// A tier review dated before a customer's last one.
    TierReviewOutOfOrder,

    // --- complaints
    /// A step of a closed complaint: a closed complaint stays closed.
    ComplaintClosed,
    /// A complaint step that skips, repeats or goes back in received → analysed → resolved →
    /// called back → closed.
    ComplaintStepOutOfOrder,
    /// A complaint step or first response dated before a time the complaint already has.
    ComplaintTimeBackwards,
    /// A second first response to a complaint.
    ComplaintAlreadyResponded,

    // --- segments
    /// A saved segment that would depend on itself, directly or through other segments.
    SegmentCycle,
    /// A segment diff for a date the segment was not materialised for.
    SegmentNotMaterialised,

    // --- the database and its transactions
    /// A write transaction committed after one of its writes failed.
    TransactionPoisoned,
    /// Compaction while another clone of the handle or a transaction is alive.
    DatabaseShared,
    /// A read-only open of a format-1 file, which only a read-write open can raise to the
    /// current format (its rollups are rewritten). (The code dates from when any file lacking
    /// a table was refused; such files now open read-only, the missing tables empty.)
    ReadOnlyMissingTables,

    // --- misuse of a shared handle, raised by `api::Store` and its sessions (plain `Database`
    // and transactions rule these out through ownership)
    /// A call on a transaction that is already committed, aborted or closed.
    TransactionFinished,
    /// A call on a database that is closed.
    DatabaseClosed,
    /// A call on a write transaction while another thread is inside a call on it.
    TransactionBusy,
    /// A second write transaction opened by the thread that holds one on the same database
    /// (it would wait for itself forever).
    WriteTransactionReentrant,
    /// A scoped call on a read-only handle: its audit entries could not be written.
    ScopedReadOnly,

    // --- the change feed
    /// Changes read after a position whose following changes were already pruned.
    ChangesPruned,
    /// A change-feed position beyond the latest change.
    ChangePositionAhead,

    // --- exports
    /// A lakehouse export ([`crate::export::lake`]) into a folder that holds something other
    /// than an earlier autocrm export (it is not empty and has no autocrm `_manifest.json`).
    ExportTargetNotEmpty,
    /// An incremental lakehouse export into a folder without an unscoped export that has a
    /// change-feed position.
    ExportNotIncremental,

    // --- replicas
    /// A replica for an HQ role: only dealers and owners have replicas.
    ReplicaScope,
    /// Making a replica of a file that holds customers or is already another replica.
    ReplicaNotEmpty,
    /// A sync call on a file that is not a replica.
    NotAReplica,
    /// Bytes that are not a sync batch this release reads (damaged, truncated, newer).
    SyncBatchUnreadable,
    /// A sync batch for another replica, direction, scope or position.
    SyncBatchMismatch,
}

impl Refusal {
    /// Every refusal, in declaration order (a unit test checks the order).
    pub const ALL: &'static [Refusal] = &[
        Refusal::RelationToItself,
        Refusal::CustomerHasPostings,
        Refusal::CustomerHasVehicles,
        Refusal::CustomerErased,
        Refusal::CustomerChanged,
        Refusal::TouchpointHasPostings,
        Refusal::AlreadyOwner,
        Refusal::DealerIdsExhausted,
        Refusal::MergeWithItself,
        Refusal::AlreadyMerged,
        Refusal::MergePersonWithOrganisation,
        Refusal::MergeDifferentKeys,
        Refusal::MergedHasLoyaltyData,
        Refusal::SourceChangedKind,
        Refusal::SourceChangedVin,
        Refusal::ConflictAlreadyResolved,
        Refusal::ConflictNoLongerApplies,
        Refusal::WalletOtherDealer,
        Refusal::ReverseNotACredit,
        Refusal::AlreadyReversed,
        Refusal::TierReviewOutOfOrder,
        Refusal::ComplaintClosed,
        Refusal::ComplaintStepOutOfOrder,
        Refusal::ComplaintTimeBackwards,
        Refusal::ComplaintAlreadyResponded,
        Refusal::SegmentCycle,
        Refusal::SegmentNotMaterialised,
        Refusal::TransactionPoisoned,
        Refusal::DatabaseShared,
        Refusal::ReadOnlyMissingTables,
        Refusal::TransactionFinished,
        Refusal::DatabaseClosed,
        Refusal::TransactionBusy,
        Refusal::WriteTransactionReentrant,
        Refusal::ScopedReadOnly,
        Refusal::ChangesPruned,
        Refusal::ChangePositionAhead,
        Refusal::ExportTargetNotEmpty,
        Refusal::ExportNotIncremental,
        Refusal::ReplicaScope,
        Refusal::ReplicaNotEmpty,
        Refusal::NotAReplica,
        Refusal::SyncBatchUnreadable,
        Refusal::SyncBatchMismatch,
    ];

    /// The stable, language-independent code of this refusal, e.g. `"merge_with_itself"`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::RelationToItself => "relation_to_itself",
            Refusal::CustomerHasPostings => "customer_has_postings",
            Refusal::CustomerHasVehicles => "customer_has_vehicles",
            Refusal::CustomerErased => "customer_erased",
            Refusal::CustomerChanged => "customer_changed",
            Refusal::TouchpointHasPostings => "touchpoint_has_postings",
            Refusal::AlreadyOwner => "already_owner",
            Refusal::DealerIdsExhausted => "dealer_ids_exhausted",
            Refusal::MergeWithItself => "merge_with_itself",
            Refusal::AlreadyMerged => "already_merged",
            Refusal::MergePersonWithOrganisation => "merge_person_with_organisation",
            Refusal::MergeDifferentKeys => "merge_different_keys",
            Refusal::MergedHasLoyaltyData => "merged_has_loyalty_data",
            Refusal::SourceChangedKind => "source_changed_kind",
            Refusal::SourceChangedVin => "source_changed_vin",
            Refusal::ConflictAlreadyResolved => "conflict_already_resolved",
            Refusal::ConflictNoLongerApplies => "conflict_no_longer_applies",
            Refusal::WalletOtherDealer => "wallet_other_dealer",
            Refusal::ReverseNotACredit => "reverse_not_a_credit",
            Refusal::AlreadyReversed => "already_reversed",
            Refusal::TierReviewOutOfOrder => "tier_review_out_of_order",
            Refusal::ComplaintClosed => "complaint_closed",
            Refusal::ComplaintStepOutOfOrder => "complaint_step_out_of_order",
            Refusal::ComplaintTimeBackwards => "complaint_time_backwards",
            Refusal::ComplaintAlreadyResponded => "complaint_already_responded",
            Refusal::SegmentCycle => "segment_cycle",
            Refusal::SegmentNotMaterialised => "segment_not_materialised",
            Refusal::TransactionPoisoned => "transaction_poisoned",
            Refusal::DatabaseShared => "database_shared",
            Refusal::ReadOnlyMissingTables => "read_only_missing_tables",
            Refusal::TransactionFinished => "transaction_finished",
            Refusal::DatabaseClosed => "database_closed",
            Refusal::TransactionBusy => "transaction_busy",
            Refusal::WriteTransactionReentrant => "write_transaction_reentrant",
            Refusal::ScopedReadOnly => "scoped_read_only",
            Refusal::ChangesPruned => "changes_pruned",
            Refusal::ChangePositionAhead => "change_position_ahead",
            Refusal::ExportTargetNotEmpty => "export_target_not_empty",
            Refusal::ExportNotIncremental => "export_not_incremental",
            Refusal::ReplicaScope => "replica_scope",
            Refusal::ReplicaNotEmpty => "replica_not_empty",
            Refusal::NotAReplica => "not_a_replica",
            Refusal::SyncBatchUnreadable => "sync_batch_unreadable",
            Refusal::SyncBatchMismatch => "sync_batch_mismatch",
        }
    }

    /// How to proceed after this refusal.
    pub fn hint(self) -> &'static str {
        match self {
            Refusal::RelationToItself => "relate two different customers",
            Refusal::CustomerHasPostings => {
                "the ledger is append-only and refers to the customer; keep the customer"
            }
            Refusal::CustomerHasVehicles => {
                "transfer the vehicles first; ownership history keeps every owner"
            }
            Refusal::CustomerErased => {
                "the customer's personal data was erased on request; erase the record in the \
                 source system too, or record the person as a new customer with fresh consent"
            }
            Refusal::CustomerChanged => {
                "a lead, complaint or survey cannot move to another customer; create a new one \
                 for that customer"
            }
            Refusal::TouchpointHasPostings => {
                "the ledger is append-only and refers to it; reverse its earnings instead"
            }
            Refusal::AlreadyOwner => {
                "nothing to change: transfer to a different customer, and reject a conflict \
                 that offers the current owner"
            }
            Refusal::DealerIdsExhausted => {
                "dealer ids are 32-bit; this is not a real dealer network"
            }
            Refusal::MergeWithItself => "merge two different customers",
            Refusal::AlreadyMerged => {
                "a merged id is a redirect; use resolve_customer to find the customer it became"
            }
            Refusal::MergePersonWithOrganisation => {
                "only two persons or two organisations can be one customer; relate a person to \
                 an organisation instead (decision maker, purchaser, driver)"
            }
            Refusal::MergeDifferentKeys => {
                "the unified key identifies a customer: two different keys are two customers; \
                 correct the wrong key first if one is an entry error"
            }
            Refusal::MergedHasLoyaltyData => {
                "the loyalty ledger is append-only and names its customer; merge the other way \
                 round, keeping the club member as the survivor"
            }
            Refusal::SourceChangedKind => {
                "a customer's kind never changes: send the record under a new record id"
            }
            Refusal::SourceChangedVin => {
                "a VIN never changes: correct the vehicle by its own VIN, or use a new record id"
            }
            Refusal::ConflictAlreadyResolved => "list open conflicts with ReadTxn::conflicts(true)",
            Refusal::ConflictNoLongerApplies => {
                "the record changed kind since the conflict was raised; reject the conflict"
            }
            Refusal::WalletOtherDealer => {
                "dealer points are valid only at the dealer that issued them"
            }
            Refusal::ReverseNotACredit => {
                "only earnings and positive adjustments can be reversed; adjust for the rest"
            }
            Refusal::AlreadyReversed => {
                "a credit is reversed once; use an adjustment for further corrections"
            }
            Refusal::TierReviewOutOfOrder => "review tiers in date order",
            Refusal::ComplaintClosed => {
                "a closed complaint stays closed; record a new complaint instead"
            }
            Refusal::ComplaintStepOutOfOrder => {
                "complaints move one step at a time: received → analysed → resolved → \
                 called_back → closed"
            }
            Refusal::ComplaintTimeBackwards => {
                "time never goes backwards in a complaint's workflow; give the step's or \
                 response's real time"
            }
            Refusal::ComplaintAlreadyResponded => {
                "a complaint has one first response; correct it with update_complaint"
            }
            Refusal::SegmentCycle => "a segment may use other segments, but not in a cycle",
            Refusal::SegmentNotMaterialised => {
                "materialise it for both dates first (WriteTxn::materialise_segment)"
            }
            Refusal::TransactionPoisoned => "drop it and redo the work in a new transaction",
            Refusal::DatabaseShared => {
                "drop every other clone of the handle and every transaction, then compact"
            }
            Refusal::ReadOnlyMissingTables => {
                "open it read-write once (that raises it to the current format), then read-only"
            }
            Refusal::TransactionFinished => "start a new transaction",
            Refusal::DatabaseClosed => "open the database again",
            Refusal::TransactionBusy => "use one transaction per thread",
            Refusal::ScopedReadOnly => {
                "open the file read-write for scoped calls (every scoped read is audited)"
            }
            Refusal::WriteTransactionReentrant => {
                "use the open transaction, or commit or abort it first"
            }
            Refusal::ChangesPruned => {
                "rebuild the consumer from a snapshot (a full export or a fresh replica), then \
                 read on from the latest change; keep changes longer with set_change_retention"
            }
            Refusal::ChangePositionAhead => {
                "pass a position the feed has given (a change id or ChangePage::next)"
            }
            Refusal::ExportTargetNotEmpty => {
                "export into a new or empty folder, or into one an earlier export wrote (it has \
                 autocrm's _manifest.json); nothing was written"
            }
            Refusal::ExportNotIncremental => {
                "turn the change feed on (register a consumer), export a snapshot into the \
                 folder, then add increments to it"
            }
            Refusal::ReplicaScope => "give a replica a dealer:<code> or owner:<id> scope",
            Refusal::ReplicaNotEmpty => {
                "make a replica from a new, empty file; its data arrives from HQ on the first sync"
            }
            Refusal::NotAReplica => {
                "make the file a replica first (sync::init_replica, `autocrm sync init`)"
            }
            Refusal::SyncBatchUnreadable => {
                "carry the batch's bytes unchanged, or make it again (push, or serve the \
                 replica's push); a batch from a newer release needs that release"
            }
            Refusal::SyncBatchMismatch => {
                "pull a batch HQ served for this replica's latest push: push again and serve it"
            }
        }
    }
}

/// A value rejected at the boundary. Nothing of the call that returned it was written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}field `{field}` = {value:?} breaks rule {}: {}", record_prefix(*.record), rule.code(), rule.hint())]
pub struct ValidationError {
    /// Index of the offending record in a batch (0-based), if the call took a batch.
    pub record: Option<usize>,
    /// The field, e.g. `"national_id"` or `"vehicle.vin"`.
    pub field: &'static str,
    /// The rule that was broken.
    pub rule: Rule,
    /// The value as given (truncated to 64 characters).
    pub value: String,
}

fn record_prefix(record: Option<usize>) -> String {
    record.map(|i| format!("record {i}: ")).unwrap_or_default()
}

impl ValidationError {
    /// A rejection of `value` in `field` for `rule`.
    pub fn new(field: &'static str, rule: Rule, value: impl AsRef<str>) -> ValidationError {
        let value: String = value.as_ref().chars().take(64).collect();
        ValidationError {
            record: None,
            field,
            rule,
            value,
        }
    }

    /// The same rejection, attributed to record `index` of a batch.
    pub fn in_record(mut self, index: usize) -> ValidationError {
        self.record = Some(index);
        self
    }
}

/// What [`Error::Corrupt`] found damaged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Damage {
    /// A stored record fails its checksum or does not decode.
    #[error(transparent)]
    Record(#[from] DecodeError),
    /// The storage engine (redb) reports a damaged page, header or tree.
    #[error("the storage engine reports: {0}")]
    Storage(String),
    /// An index or link of the file names a record that does not exist.
    #[error("it names {entity} {id}, which does not exist")]
    Dangling {
        /// The kind of record named.
        entity: &'static str,
        /// The id named.
        id: u64,
    },
    /// The storage engine panicked: redb trusts the pages it reads without verifying their
    /// checksums, and some damaged pages make it panic. Caught by [`crate::guard`].
    #[error("the storage engine panicked: {0}")]
    Panic(String),
}

/// Every error autocrm returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input broke a validation rule; nothing was written.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// No record with that key exists.
    #[error("{entity} {key} not found; check the id or key, or list existing records first")]
    NotFound {
        /// The kind of record, e.g. `"customer"`.
        entity: &'static str,
        /// The key that was looked up.
        key: String,
    },

    /// A unique key (national ID, credit code, VIN, plate, dealer code) is already taken.
    #[error(
        "{entity} {field} {value:?} already belongs to {entity} {existing}; \
         update that record instead of creating a new one"
    )]
    DuplicateKey {
        /// The kind of record.
        entity: &'static str,
        /// The unique field.
        field: &'static str,
        /// The value that collided.
        value: String,
        /// Id of the record that already holds it.
        existing: u64,
    },

    /// A debit larger than what the wallet can spend on that date.
    #[error(
        "customer {customer}'s {wallet} can spend {available} points, {requested} were asked; \
         redeem less or wait for new earnings"
    )]
    InsufficientPoints {
        /// The customer.
        customer: u64,
        /// The wallet, e.g. `"brand wallet"`.
        wallet: String,
        /// Points spendable on the posting's date.
        available: i64,
        /// Points asked for.
        requested: i64,
    },

    /// An idempotency key was used again for a different request.
    #[error(
        "idempotency key {key:?} already made posting {existing} for a different request; \
         use a new key for a new request, or resend exactly the original one"
    )]
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The posting it made.
        existing: u64,
    },

    /// A segment rule was refused at definition time.
    #[error("{0}")]
    Rule(Box<crate::segment::RuleError>),

    /// A write would pass a documented size limit (see [`Limit`]); nothing was written.
    #[error("{what} is {size}, over the limit of {limit}: {hint}")]
    LimitExceeded {
        /// Which limit.
        limit_kind: Limit,
        /// What was too large, e.g. `"the rule text of segment vip (bytes)"`.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
        /// How to proceed.
        hint: &'static str,
    },

    /// The operation is not allowed in the records' current state (see [`Refusal`]); nothing
    /// was written.
    #[error("{what}: {}", refusal.hint())]
    InvalidOperation {
        /// Why it was refused.
        refusal: Refusal,
        /// What was attempted and why it cannot be done, naming the records.
        what: String,
    },

    /// The scope a call was made as may not do it ([`crate::access`]); nothing was written.
    #[error(
        "{scope} may not {what}: it lacks permission {permission}; \
         make the call as a scope that holds it (docs/access.md lists who may do what)"
    )]
    AccessDenied {
        /// The scope, e.g. `"dealer:D0001"`.
        scope: String,
        /// The permission it lacks, by its stable name, e.g. `"export"`.
        permission: &'static str,
        /// What was attempted, e.g. `"redeem points for customer 12"`.
        what: String,
    },

    /// A scope names no role, dealer or customer of this file, or is not spelled
    /// `hq:<role>`, `dealer:<code>` or `owner:<customer id>`.
    #[error("scope {scope:?} is not usable: {why}")]
    UnknownScope {
        /// The scope as given.
        scope: String,
        /// What is wrong with it.
        why: String,
    },

    /// Another process (or another handle in this one) has the database file open.
    #[error(
        "database {path} is already open in another process or handle; \
         close it there, or share one handle between threads"
    )]
    AlreadyOpen {
        /// The file.
        path: String,
    },

    /// A write on a handle opened read-only ([`crate::OpenOptions::read_only`]).
    #[error(
        "database {path} is open read-only; open it without read_only to write \
         (the file must be writable)"
    )]
    ReadOnly {
        /// The file.
        path: String,
    },

    /// The file or record was written by a newer autocrm than this one.
    #[error(
        "{what} has format version {found}, but this autocrm reads versions up to {supported}; \
         upgrade autocrm to open this database"
    )]
    UpgradeRequired {
        /// What carried the version: `"database"` or a record kind.
        what: &'static str,
        /// The version found.
        found: u16,
        /// The newest version this build understands.
        supported: u16,
    },

    /// The file is damaged: a stored record fails its checksum or does not decode, the storage
    /// engine found a damaged structure, or it panicked on one.
    #[error(
        "{what} is damaged ({source}); the file may be damaged: run `autocrm check` \
         (Database::check) to list the damage, and restore a backup if it reports problems"
    )]
    Corrupt {
        /// What is damaged: a record kind, or `"database file"`.
        what: &'static str,
        /// What was found.
        #[source]
        source: Damage,
    },

    /// One record of a batch failed; nothing of the batch was written if it ran inside
    /// [`crate::Database::write`].
    #[error("record {index} of the batch: {source}")]
    InRecord {
        /// 0-based index of the record in the batch.
        index: usize,
        /// What was wrong with it.
        #[source]
        source: Box<Error>,
    },

    /// The storage engine failed (I/O error, full disk, damaged file).
    #[error("storage failed: {0}; the transaction was rolled back")]
    Storage(#[source] Box<redb::Error>),

    /// A file outside the database could not be read or written (an export's files: see
    /// [`crate::export::lake`]); the database itself is unaffected. Bindings raise it as a
    /// storage error (the disk failed, not the input).
    #[error("cannot {what} {path}: {source}; check the folder's permissions and free space")]
    Io {
        /// What was being done, e.g. `"write"`.
        what: &'static str,
        /// The file or folder.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An import file, or one row of it, could not be read (see [`crate::import`]); the error
    /// names the file, line and field.
    #[error(transparent)]
    Import(Box<crate::import::ImportError>),

    /// A bug in autocrm: an internal invariant did not hold (e.g. an Arrow table built with
    /// columns that do not match its schema in `autocrm::export`). Neither the input nor the file
    /// is at fault, so none of the other variants is honest: not `Corrupt` (the file is fine),
    /// not `Storage` (the engine did not fail), not `Validation` (no value was wrong). Nothing
    /// was written; report it with the message.
    #[error("internal error ({what}); this is a bug in autocrm, please report it")]
    Internal {
        /// What went wrong, e.g. the Arrow error's text.
        what: String,
    },
}

impl Error {
    /// The stable, language-independent code of this error, e.g. `"not_found"`. For validation
    /// errors it is `"validation.<rule>"`, e.g. `"validation.phone_too_short"`; for refusals
    /// `"invalid_operation.<refusal>"`, e.g. `"invalid_operation.merge_with_itself"`.
    pub fn code(&self) -> String {
        match self {
            Error::Validation(v) => format!("validation.{}", v.rule.code()),
            Error::NotFound { .. } => "not_found".into(),
            Error::DuplicateKey { .. } => "duplicate_key".into(),
            Error::InvalidOperation { refusal, .. } => {
                format!("invalid_operation.{}", refusal.code())
            }
            Error::LimitExceeded { limit_kind, .. } => {
                format!("limit_exceeded.{}", limit_kind.code())
            }
            Error::InsufficientPoints { .. } => "insufficient_points".into(),
            Error::Rule(e) => format!("rule.{}", e.kind.code()),
            Error::IdempotencyConflict { .. } => "idempotency_conflict".into(),
            Error::AccessDenied { .. } => "access_denied".into(),
            Error::UnknownScope { .. } => "unknown_scope".into(),
            Error::AlreadyOpen { .. } => "already_open".into(),
            Error::ReadOnly { .. } => "read_only".into(),
            Error::UpgradeRequired { .. } => "upgrade_required".into(),
            Error::Corrupt { .. } => "corrupt".into(),
            Error::Storage(_) => "storage".into(),
            Error::Io { .. } => "io".into(),
            Error::Internal { .. } => "internal".into(),
            Error::Import(e) => e.code.code().to_string(),
            Error::InRecord { source, .. } => source.code(),
        }
    }

    /// The 0-based position, in a batch, of the record this error is about (`None` for a
    /// single-record write or an error not about one record).
    pub fn record(&self) -> Option<usize> {
        match self {
            Error::Validation(v) => v.record,
            Error::InRecord { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The same error attributed to record `index` of a batch.
    pub fn at_record(self, index: usize) -> Error {
        match self {
            Error::Validation(v) => Error::Validation(v.in_record(index)),
            e @ Error::InRecord { .. } => e,
            e => Error::InRecord {
                index,
                source: Box::new(e),
            },
        }
    }

    pub(crate) fn not_found(entity: &'static str, key: impl ToString) -> Error {
        Error::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// A record an index or link of the file names (never one a caller asked for) is missing:
    /// the file is damaged, so [`Error::Corrupt`], not [`Error::NotFound`].
    pub(crate) fn dangling(index: &'static str, entity: &'static str, id: u64) -> Error {
        Error::Corrupt {
            what: index,
            source: Damage::Dangling { entity, id },
        }
    }

    /// Why the operation was refused, for [`Error::InvalidOperation`] (looking through
    /// [`Error::InRecord`]); `None` for any other error.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.innermost() {
            Error::InvalidOperation { refusal, .. } => Some(*refusal),
            _ => None,
        }
    }

    /// How to fix the input that caused this error: [`hint_for`] its code (empty when the
    /// code has no hint, e.g. a storage failure).
    pub fn hint(&self) -> &'static str {
        hint_for(&self.code())
    }

    /// The error itself, or for [`Error::InRecord`] the error of that record.
    pub fn innermost(&self) -> &Error {
        match self {
            Error::InRecord { source, .. } => source.innermost(),
            e => e,
        }
    }

    /// An operation refused for `refusal`; `what` names the records and what was attempted.
    pub fn refused(refusal: Refusal, what: impl Into<String>) -> Error {
        Error::InvalidOperation {
            refusal,
            what: what.into(),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::from(redb::Error::from(e))
            }
        }
    )*};
}
from_redb!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Error {
        match e {
            redb::Error::Corrupted(detail) => Error::Corrupt {
                what: "database file",
                source: Damage::Storage(detail),
            },
            // Only a panic while a lock was held poisons one: the panic came from a damaged page.
            redb::Error::LockPoisoned(at) => Error::Corrupt {
                what: "database file",
                source: Damage::Storage(format!(
                    "an earlier operation panicked holding a lock at {at}; reopen the database"
                )),
            },
            // Every table exists from the first open on, with the types of `store::tables`:
            // a missing or mistyped one means the table directory is damaged.
            e @ (redb::Error::TableDoesNotExist(_)
            | redb::Error::TableTypeMismatch { .. }
            | redb::Error::TypeDefinitionChanged { .. }
            | redb::Error::TableIsMultimap(_)
            | redb::Error::TableIsNotMultimap(_)) => Error::Corrupt {
                what: "database file",
                source: Damage::Storage(e.to_string()),
            },
            e => Error::Storage(Box::new(e)),
        }
    }
}

/// Shorthand for results in autocrm.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::date::ParseDateError> for Error {
    fn from(e: crate::date::ParseDateError) -> Error {
        Error::Validation(ValidationError::new("date", Rule::DateImplausible, e.input))
    }
}

impl From<crate::kpi::ParsePeriodError> for Error {
    /// `validation.not_allowed` on field `period`: what a binding reports for a period name
    /// it was given.
    fn from(e: crate::kpi::ParsePeriodError) -> Error {
        Error::Validation(ValidationError::new("period", Rule::NotAllowed, e.input))
    }
}

/// Runs `f`, turning a panic into [`Error::Corrupt`] with [`Damage::Panic`].
///
/// redb trusts the pages it reads (it verifies their checksums only in an integrity check), and
/// some damaged pages make it panic instead of returning an error. Every entry point that reads
/// a file someone may have damaged — the CLI around each command, the bindings around each call
/// into core, [`crate::Database::open`] itself — runs under this guard, so a damaged file is an
/// error with the stable code `corrupt`, never a crashed process. A panic from a bug in autocrm
/// lands here too; the message carries the panic's text.
///
/// A handle whose call panicked may hold poisoned locks: later calls on it fail with `corrupt`
/// too. Drop it, run the integrity check ([`crate::Database::check`], `autocrm check`) and
/// restore a backup if it reports problems.
///
/// ```
/// let err = autocrm::guard(|| -> autocrm::Result<()> { panic!("damaged page") }).unwrap_err();
/// assert_eq!(err.code(), "corrupt");
/// ```
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(out) => out,
        Err(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            Err(Error::Corrupt {
                what: "database file",
                source: Damage::Panic(text),
            })
        }
    }
}

/// How to fix the input behind an error with stable code `code` ([`Error::code`]): a
/// validation rule's [`Rule::hint`], a refusal's [`Refusal::hint`], a fixed hint for
/// `duplicate_key` and `not_found`; empty for any other code (and for an unknown one). A
/// function of the code alone, so a binding that holds only an error's code (the feedback
/// queue's [`crate::integration::Rejection`]) gets the same hint as one holding the error.
pub fn hint_for(code: &str) -> &'static str {
    if let Some(rule) = code.strip_prefix("validation.") {
        return Rule::ALL
            .iter()
            .find(|r| r.code() == rule)
            .map_or("", |r| r.hint());
    }
    if let Some(refusal) = code.strip_prefix("invalid_operation.") {
        return Refusal::ALL
            .iter()
            .find(|r| r.code() == refusal)
            .map_or("", |r| r.hint());
    }
    match code {
        "duplicate_key" => {
            "the key belongs to another record: send an update of that record, or correct the key"
        }
        "not_found" => "send the referenced record first",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERRORS_DOC: &str = include_str!("../../docs/errors.md");

    #[test]
    fn refusal_codes_are_distinct_snake_case_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        for (i, &r) in Refusal::ALL.iter().enumerate() {
            assert_eq!(
                r as usize, i,
                "Refusal::ALL is out of declaration order at {r:?}"
            );
            let code = r.code();
            assert!(seen.insert(code), "{code} is the code of two refusals");
            let snake = code.starts_with(|c: char| c.is_ascii_lowercase())
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !code.contains("__")
                && !code.ends_with('_');
            assert!(snake, "{code} is not snake_case");
            assert!(!r.hint().trim().is_empty(), "{code} has no hint");

            let e = Error::refused(r, "customer 7 did something");
            assert_eq!(e.code(), format!("invalid_operation.{code}"));
            assert_eq!(e.refusal(), Some(r));
            assert_eq!(
                e.to_string(),
                format!("customer 7 did something: {}", r.hint())
            );
            let in_batch = e.at_record(3);
            assert_eq!(in_batch.code(), format!("invalid_operation.{code}"));
            assert_eq!(in_batch.refusal(), Some(r));
        }
    }

    #[test]
    fn rule_codes_are_listed_in_order_and_give_their_hints() {
        let mut seen = std::collections::HashSet::new();
        for (i, &r) in Rule::ALL.iter().enumerate() {
            assert_eq!(
                r as usize, i,
                "Rule::ALL is out of declaration order at {r:?}"
            );
            assert!(
                seen.insert(r.code()),
                "{} is the code of two rules",
                r.code()
            );
            let e = Error::Validation(ValidationError::new("name", r, "x")).at_record(2);
            assert_eq!(e.hint(), r.hint());
            assert_eq!(hint_for(&format!("validation.{}", r.code())), r.hint());
        }
        // The last rule closes the list: a rule declared after it would be missing.
        assert_eq!(Rule::ALL.last(), Some(&Rule::Incomplete));
    }

    #[test]
    fn hints_follow_the_code() {
        let r = Refusal::MergeWithItself;
        assert_eq!(Error::refused(r, "x").hint(), r.hint());
        assert!(Error::not_found("customer", 1)
            .hint()
            .starts_with("send the referenced"));
        assert_eq!(hint_for("validation.no_such_rule"), "");
        assert_eq!(hint_for("storage"), "");
    }

    #[test]
    fn other_errors_have_no_refusal() {
        assert_eq!(Error::not_found("customer", 1).refusal(), None);
        let v = Error::Validation(ValidationError::new("name", Rule::Required, ""));
        assert_eq!(v.refusal(), None);
    }

    #[test]
    fn every_refusal_is_documented() {
        let (_, refusals) = ERRORS_DOC
            .split_once("## Refusals")
            .expect("docs/errors.md has a Refusals section");
        let table = refusals
            .lines()
            .filter(|l| l.starts_with("| `invalid_operation."))
            .count();
        assert_eq!(
            table,
            Refusal::ALL.len(),
            "docs/errors.md: one row per refusal"
        );
        for r in Refusal::ALL {
            let row = format!("| `invalid_operation.{}` |", r.code());
            assert!(refusals.contains(&row), "docs/errors.md lacks {row}");
        }
    }
}
