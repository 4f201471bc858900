//! The dealer feedback queue: rejected records go back to the dealer that sent them with the
//! reason code, the field, a readable message, a hint and the raw record, until a corrected
//! record from the same source record is accepted.
//!
//! Tables: `feedback` keyed (dealer id or 0 for records no dealer sent, entry id), so a
//! dealer's queue is one range; `feedback_by_source` finds the entry of a source record
//! (`[record kind]<system>\0<record id>`); `rejection_counts` keeps lifetime counts per
//! (dealer, reason) that stay after resubmission, for the quality report.

use serde::{Deserialize, Serialize};

use super::{Received, RecordKind};
use crate::codec;
use crate::date::DateTime;
use crate::error::{Error, Refusal, Result};
use crate::ids::{CustomerId, DealerId, FeedbackId};
use crate::source::SourceRef;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};

use redb::{ReadableMultimapTable, ReadableTable};

/// The raw text of an entry rejecting a record of an erased customer.
pub const WITHHELD_RAW: &str = "(withheld: the record names a customer erased on request)";

/// Raw record text kept in an entry is cut to this many characters.
const MAX_RAW_CHARS: usize = 16 * 1024;

/// One rejected record waiting in a dealer's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    /// The entry's id (kept when the same source record is rejected again).
    pub id: FeedbackId,
    /// The dealer whose queue holds it (`None`: the unassigned queue).
    pub dealer: Option<DealerId>,
    /// What kind of record was rejected.
    pub kind: RecordKind,
    /// The source record.
    pub source: SourceRef,
    /// Line (or record number) in the delivered file, if known.
    pub line: Option<u64>,
    /// The record as delivered (cut to 16 Ki characters).
    pub raw: String,
    /// The stable reason code, [`Error::code`], e.g. `validation.name_placeholder`.
    pub code: String,
    /// The offending field, if the error names one.
    pub field: Option<String>,
    /// A readable message.
    pub message: String,
    /// How to fix the record.
    pub hint: String,
    /// When the record (its latest delivery) was received.
    pub received: DateTime,
    /// When this source record was first rejected (kept across rejections again): the age of
    /// the entry counts from here.
    pub first_rejected: DateTime,
}
crate::codec::model!(FeedbackEntry, FeedbackEntry, "feedback entry");

impl FeedbackEntry {
    /// Whole days the entry has waited on `on`.
    pub fn age_days(&self, on: crate::Date) -> i32 {
        on.days_since(self.first_rejected.date()).max(0)
    }
}

/// The key of a source record in `feedback_by_source`. A blank record id (the record was
/// rejected for lacking one) falls back to the line, so distinct bad lines stay distinct.
fn source_key(kind: RecordKind, source: &SourceRef, line: Option<u64>) -> (SourceRef, Vec<u8>) {
    let system = source.system.trim();
    let record_id = source.record_id.trim();
    let record_id = match (record_id.is_empty(), line) {
        (false, _) => record_id.to_string(),
        (true, Some(n)) => format!("#line{n}"),
        (true, None) => "#blank".to_string(),
    };
    let mut k = Vec::with_capacity(2 + system.len() + record_id.len());
    k.push(kind as u8);
    k.extend_from_slice(system.as_bytes());
    k.push(0);
    k.extend_from_slice(record_id.as_bytes());
    (SourceRef::new(system, record_id), k)
}

/// Whether a queued entry is an incomplete-customer entry.
fn is_incomplete(e: &FeedbackEntry) -> bool {
    e.code == "validation.incomplete"
}

/// The raw text and the error of a queued incomplete customer lacking `missing`.
fn incomplete_error(customer: &crate::Customer, missing: &[&'static str]) -> (String, Error) {
    let what = format!("missing {}", missing.join(", "));
    let error = Error::Validation(crate::ValidationError::new(
        missing[0],
        crate::Rule::Incomplete,
        &what,
    ));
    (format!("{} ({what})", customer.name()), error)
}

fn dealer_code(d: Option<DealerId>) -> u32 {
    d.map_or(0, |d| d.0)
}

/// The field an error is about, looking through batch wrappers.
fn field_of(e: &Error) -> Option<String> {
    match e {
        Error::Validation(v) => Some(v.field.to_string()),
        Error::DuplicateKey { field, .. } => Some(field.to_string()),
        Error::InRecord { source, .. } => field_of(source),
        Error::Import(e) => e.field.map(str::to_string),
        _ => None,
    }
}

/// Why a record was rejected, as its feedback entry keeps it: an error's report shape (its
/// stable code, the field, the message), which is what a binding holds once it has handed
/// the error to its language (`reject` with an error a Node caller caught). The error
/// itself converts with `From<&Error>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The stable reason code ([`Error::code`]), e.g. `validation.name_placeholder`.
    pub code: String,
    /// The offending field (core's snake_case name), if the error names one.
    pub field: Option<String>,
    /// The error's message.
    pub message: String,
    /// How to fix the record; `None`: the hint core gives for the code
    /// ([`crate::hint_for`]).
    pub hint: Option<String>,
}

impl From<&Error> for Rejection {
    fn from(e: &Error) -> Rejection {
        Rejection {
            code: e.code(),
            field: field_of(e),
            message: e.to_string(),
            hint: None,
        }
    }
}

impl Tx<'_> {
    /// Settles the feedback entry of source record `from` after it was stored (as customer
    /// `customer`, for a customer record): a customer that still lacks basic fields
    /// ([`crate::Customer::missing_basic_fields`]) is (re)queued as `validation.incomplete` —
    /// stored, but to be completed (seed 003 §4.2.1: missing data goes back to the dealer for
    /// supplementary entry); anything else leaves the queue. Replacing the entry in place
    /// keeps a replayed incomplete record from being counted twice. Returns whether the record
    /// is queued as incomplete.
    ///
    /// Completeness belongs to the customer, not to one of its source records: every source
    /// record queued as incomplete for the customer is settled with it (all leave the queue
    /// once the customer is complete, whichever source completed it; while it is not, all
    /// entries name what the customer lacks now). So the queue does not depend on the order
    /// the records arrived in.
    pub(crate) fn settle_feedback(
        &mut self,
        from: &Received,
        kind: RecordKind,
        customer: Option<(CustomerId, &crate::Customer)>,
    ) -> Result<bool> {
        let Some((id, customer)) = customer else {
            self.clear_feedback(&from.source, kind)?;
            return Ok(false);
        };
        let missing = customer.missing_basic_fields();
        let queued = self.incomplete_keys(id)?;
        if missing.is_empty() {
            self.clear_feedback(&from.source, kind)?;
            for key in queued {
                self.clear_incomplete(id, &key)?;
            }
            return Ok(false);
        }
        let (raw, error) = incomplete_error(customer, &missing);
        self.reject(from, kind, None, &raw, &error)?;
        let (_, mine) = source_key(kind, &from.source, None);
        for key in queued.iter().filter(|k| **k != mine) {
            self.refresh_incomplete(id, key, &raw, &error)?;
        }
        if !queued.contains(&mine) {
            self.writing(|tx| {
                tx.t.incomplete_by_customer()?
                    .insert(id.0, mine.as_slice())?;
                Ok(())
            })?;
        }
        Ok(true)
    }

    /// After `merged` was merged into `survivor` (now `customer`): the source records queued
    /// incomplete for either are indexed under the survivor, and leave the queue if it is
    /// complete (else their entries name what it lacks now).
    pub(crate) fn settle_incomplete_merge(
        &mut self,
        survivor: CustomerId,
        merged: CustomerId,
        customer: &crate::Customer,
    ) -> Result<()> {
        let moved = self.incomplete_keys(merged)?;
        let mut keys = self.incomplete_keys(survivor)?;
        self.writing(|tx| {
            let mut t = tx.t.incomplete_by_customer()?;
            t.remove_all(merged.0)?;
            for k in &moved {
                t.insert(survivor.0, k.as_slice())?;
            }
            Ok(())
        })?;
        keys.extend(moved);
        let missing = customer.missing_basic_fields();
        if missing.is_empty() {
            for key in keys {
                self.clear_incomplete(survivor, &key)?;
            }
        } else {
            let (raw, error) = incomplete_error(customer, &missing);
            for key in keys {
                self.refresh_incomplete(survivor, &key, &raw, &error)?;
            }
        }
        Ok(())
    }

    /// The `feedback_by_source` keys queued as incomplete for customer `id`.
    fn incomplete_keys(&self, id: CustomerId) -> Result<Vec<Vec<u8>>> {
        let t = self.t.incomplete_by_customer()?;
        let mut out = Vec::new();
        for k in t.get(id.0)? {
            out.push(k?.value().to_vec());
        }
        Ok(out)
    }

    /// Removes the entry behind `key` if it is still the incomplete one, and its index entry.
    fn clear_incomplete(&mut self, id: CustomerId, key: &[u8]) -> Result<()> {
        let entry = self.feedback_by_key(key)?;
        self.writing(|tx| {
            if let Some(e) = entry.filter(is_incomplete) {
                tx.t.feedback_by_source()?.remove(key)?;
                tx.t.feedback()?.remove((dealer_code(e.dealer), e.id.0))?;
            }
            tx.t.incomplete_by_customer()?.remove(id.0, key)?;
            Ok(())
        })
    }

    /// Rewrites the incomplete entry behind `key` to say what the customer lacks now (an entry
    /// replaced by a rejection since only leaves the index).
    fn refresh_incomplete(
        &mut self,
        id: CustomerId,
        key: &[u8],
        raw: &str,
        error: &Error,
    ) -> Result<()> {
        let Some(mut e) = self.feedback_by_key(key)?.filter(is_incomplete) else {
            return self.writing(|tx| {
                tx.t.incomplete_by_customer()?.remove(id.0, key)?;
                Ok(())
            });
        };
        let (field, hint) = (field_of(error), error.hint().to_string());
        let message = error.to_string();
        if e.raw == raw && e.field == field && e.message == message {
            return Ok(());
        }
        e.raw = raw.to_string();
        e.field = field;
        e.message = message;
        e.hint = hint;
        self.writing(|tx| {
            tx.t.feedback()?.insert(
                (dealer_code(e.dealer), e.id.0),
                codec::encode(&e).as_slice(),
            )?;
            Ok(())
        })
    }

    /// For an erasure ([`crate::erasure`]): removes the incomplete-record entries queued for
    /// customer `id` (they quote its values) and every entry whose raw text contains one of
    /// `values` (a rejected delivery of its record). Returns how many entries went. The
    /// rejection counts stay: they hold no values.
    pub(crate) fn forget_feedback_of(&mut self, id: CustomerId, values: &[String]) -> Result<u32> {
        let mut doomed: Vec<((u32, u64), Vec<u8>)> = Vec::new();
        for key in self.incomplete_keys(id)? {
            if let Some(e) = self.feedback_by_key(&key)? {
                doomed.push(((dealer_code(e.dealer), e.id.0), key));
            }
        }
        if !values.is_empty() {
            let t = self.t.feedback()?;
            for item in t.iter()? {
                let (k, v) = item?;
                let e: FeedbackEntry = decode_stored(v.value())?;
                if values.iter().any(|value| e.raw.contains(value.as_str())) {
                    let (_, key) = source_key(e.kind, &e.source, e.line);
                    doomed.push((k.value(), key));
                }
            }
        }
        doomed.sort();
        doomed.dedup();
        let mut feedback = self.t.feedback()?;
        let mut by_source = self.t.feedback_by_source()?;
        for (entry, key) in &doomed {
            feedback.remove(*entry)?;
            // The index may already point at a newer entry of the same source record.
            let current = by_source.get(key.as_slice())?.map(|v| v.value());
            if current == Some(*entry) {
                by_source.remove(key.as_slice())?;
            }
        }
        self.t.incomplete_by_customer()?.remove_all(id.0)?;
        Ok(u32::try_from(doomed.len()).unwrap_or(u32::MAX))
    }

    /// Puts a rejected record into the sending dealer's feedback queue (`from.dealer` `None`:
    /// the unassigned queue), keyed by its source record: rejecting the same source record
    /// again replaces the entry (keeping its id and first rejection time), and a later
    /// successful upsert of it removes the entry. The lifetime count of (dealer, reason) grows
    /// once per distinct rejection: a replay of the same file does not count twice.
    pub fn reject(
        &mut self,
        from: &Received,
        kind: RecordKind,
        line: Option<u64>,
        raw: &str,
        error: &Error,
    ) -> Result<FeedbackId> {
        self.reject_as(from, kind, line, raw, &Rejection::from(error))
    }

    /// [`reject`](Self::reject) for a rejection given by its report shape (code, field,
    /// message, hint) instead of the error.
    pub fn reject_as(
        &mut self,
        from: &Received,
        kind: RecordKind,
        line: Option<u64>,
        raw: &str,
        why: &Rejection,
    ) -> Result<FeedbackId> {
        let (source, key) = source_key(kind, &from.source, line);
        // A re-delivered record of an erased customer must not bring the erased values back
        // through the queue: the entry says why, not what.
        let erased = why
            .code
            .strip_prefix("invalid_operation.")
            .is_some_and(|r| r == Refusal::CustomerErased.code());
        let raw = if erased { WITHHELD_RAW } else { raw };
        let code = why.code.clone();
        let field = why.field.clone();
        let hint = why
            .hint
            .clone()
            .unwrap_or_else(|| crate::hint_for(&code).to_string());
        let dealer = dealer_code(from.dealer);
        let old = self.feedback_by_key(&key)?;
        self.writing(|tx| {
            let (id, first, already_counted) = match &old {
                Some(o) => {
                    tx.t.feedback()?.remove((dealer_code(o.dealer), o.id.0))?;
                    let same = o.code == code && o.dealer == from.dealer;
                    (o.id, o.first_rejected.min(from.at), same)
                }
                None => (FeedbackId(tx.next_id("next.feedback")?), from.at, false),
            };
            let entry = FeedbackEntry {
                id,
                dealer: from.dealer,
                kind,
                source,
                line,
                raw: raw.chars().take(MAX_RAW_CHARS).collect(),
                code: code.clone(),
                field,
                message: why.message.clone(),
                hint,
                received: from.at,
                first_rejected: first,
            };
            tx.t.feedback()?
                .insert((dealer, id.0), codec::encode(&entry).as_slice())?;
            tx.t.feedback_by_source()?
                .insert(key.as_slice(), (dealer, id.0))?;
            if !already_counted {
                let mut t = tx.t.rejection_counts()?;
                let n = t.get((dealer, code.as_str()))?.map_or(0, |v| v.value());
                t.insert((dealer, code.as_str()), n + 1)?;
            }
            Ok(id)
        })
    }

    /// Removes the queued entry of `source` (a corrected record was accepted); returns whether
    /// there was one. Upserts of customers and vehicles do this themselves; importers call it
    /// for touchpoints and leads they write.
    pub fn clear_feedback(&mut self, source: &SourceRef, kind: RecordKind) -> Result<bool> {
        let (_, key) = source_key(kind, source, None);
        let found = self
            .t
            .feedback_by_source()?
            .get(key.as_slice())?
            .map(|v| v.value());
        let Some((dealer, id)) = found else {
            return Ok(false);
        };
        self.writing(|tx| {
            tx.t.feedback_by_source()?.remove(key.as_slice())?;
            tx.t.feedback()?.remove((dealer, id))?;
            Ok(true)
        })
    }

    fn feedback_by_key(&self, key: &[u8]) -> Result<Option<FeedbackEntry>> {
        let found = self.t.feedback_by_source()?.get(key)?.map(|v| v.value());
        let Some(k) = found else { return Ok(None) };
        let t = self.t.feedback()?;
        let v = t.get(k)?;
        v.map(|v| decode_stored(v.value())).transpose()
    }
}

impl ReadTxn {
    /// The feedback queue of `dealer` (`None`: the unassigned queue), oldest entry first.
    pub fn feedback(&self, dealer: Option<DealerId>) -> Result<Vec<FeedbackEntry>> {
        let d = dealer_code(dealer);
        let mut out = Vec::new();
        for entry in self.tables.feedback()?.range((d, 0u64)..=(d, u64::MAX))? {
            out.push(decode_stored(entry?.1.value())?);
        }
        Ok(out)
    }

    /// The queued entry of source record `source` of `kind`, if it is queued.
    pub fn feedback_entry(
        &self,
        kind: RecordKind,
        source: &SourceRef,
    ) -> Result<Option<FeedbackEntry>> {
        let (_, key) = source_key(kind, source, None);
        let found = self
            .tables
            .feedback_by_source()?
            .get(key.as_slice())?
            .map(|v| v.value());
        let Some(k) = found else { return Ok(None) };
        let v = self.tables.feedback()?.get(k)?;
        v.map(|v| decode_stored(v.value())).transpose()
    }

    /// Every queued entry, by dealer (the unassigned queue first), then oldest first.
    pub fn feedback_all(&self) -> Result<Vec<FeedbackEntry>> {
        let mut out = Vec::new();
        for entry in self.tables.feedback()?.iter()? {
            out.push(decode_stored(entry?.1.value())?);
        }
        Ok(out)
    }

    /// Lifetime rejection counts: (dealer, reason code, rejections), by dealer then code.
    pub fn rejection_counts(&self) -> Result<Vec<(Option<DealerId>, String, u64)>> {
        let mut out = Vec::new();
        for entry in self.tables.rejection_counts()?.iter()? {
            let (k, v) = entry?;
            let (d, code) = k.value();
            let dealer = (d != 0).then_some(DealerId(d));
            out.push((dealer, code.to_string(), v.value()));
        }
        Ok(out)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Puts a rejected record into the sending dealer's feedback queue (`from.dealer` `None`:
    /// the unassigned queue), keyed by its source record: rejecting the same source record
    /// again replaces the entry (keeping its id and first rejection time), and a later
    /// successful upsert of it removes the entry. The lifetime count of (dealer, reason) grows
    /// once per distinct rejection: a replay of the same file does not count twice.
    pub fn reject(
        &mut self,
        from: &Received,
        kind: RecordKind,
        line: Option<u64>,
        raw: &str,
        error: &Error,
    ) -> Result<FeedbackId> {
        self.tx().reject(from, kind, line, raw, error)
    }

    /// [`reject`](Self::reject) for a rejection given by its report shape (code, field,
    /// message, hint) rather than the error: what a binding whose caller caught the error in
    /// another language passes back. The rule is the same: one entry per source record, its
    /// id kept; an erased customer's record withheld; counted once per distinct rejection.
    pub fn reject_as(
        &mut self,
        from: &Received,
        kind: RecordKind,
        line: Option<u64>,
        raw: &str,
        why: &Rejection,
    ) -> Result<FeedbackId> {
        self.tx().reject_as(from, kind, line, raw, why)
    }

    /// Removes the queued entry of `source` (a corrected record was accepted); returns whether
    /// there was one. Upserts of customers and vehicles do this themselves; importers call it
    /// for touchpoints and leads they write.
    pub fn clear_feedback(&mut self, source: &SourceRef, kind: RecordKind) -> Result<bool> {
        self.tx().clear_feedback(source, kind)
    }
}
