//! The audit trail: who looked up, viewed, exported, wrote or erased which customers, under
//! which access scope — tamper-evident, as one SHA-256 hash chain.
//!
//! The access layer appends an entry for every operation it lets through
//! (`WriteTxn::append_audit`, crate-private: nothing else appends); anyone holding a read
//! transaction can read the trail ([`ReadTxn::audit_log`]), its head ([`ReadTxn::audit_head`])
//! and verify it ([`ReadTxn::verify_audit`], [`ReadTxn::verify_audit_against`]).
//!
//! # Only ids, never personal values
//!
//! An entry names its customers by [`CustomerId`] alone. Its strings — `actor`, `scope`,
//! `what` (an operation name such as `customer_360` or `add_touchpoint`) and `purpose` — must
//! never carry a personal value: no name, phone, national ID, VIN, plate or address, not even
//! as a search term. That is what lets an erasure request delete a customer without touching
//! the trail: rewriting an entry would break the chain, and the trail keeps nothing to erase.
//!
//! # The chain
//!
//! Entries are numbered from 1 without gaps (`seq`). Each carries `prev`, the hash of the entry
//! before it (32 zero bytes for the first), and `hash`, the SHA-256 of its own canonical
//! encoding (below), which covers `seq` and `prev`. The last entry's seq and hash are the
//! trail's head ([`AuditHead`]); the empty trail's head is seq 0 with the all-zero hash.
//!
//! [`ReadTxn::verify_audit`] recomputes the chain and names the first entry that breaks it
//! ([`AuditProblem`]): one edited in place (its hash no longer matches its content), removed
//! (a gap in the seqs, or a `prev` that no longer matches), inserted, moved or swapped (a
//! `prev` or a seq out of place), or damaged (it does not decode).
//!
//! The hash has no key: whoever can write the file and knows this encoding can also recompute
//! every hash after an entry they changed, or drop the newest entries, and the chain verifies
//! again. What defeats that is an anchor: copy the head ([`AuditHead::hex`] and its seq)
//! somewhere the writer cannot reach (a ticket, a second system, a printed report), and verify
//! against it later with [`ReadTxn::verify_audit_against`], which also reports the anchored
//! entry missing (entries removed from the end) or changed (the chain rewritten up to it).
//! An entry appended after the newest anchor is only as trustworthy as the file.
//!
//! # Canonical encoding (what the hash covers)
//!
//! Independent of the record codec, so swapping bincode never changes a hash. In order:
//!
//! | field | bytes |
//! |---|---|
//! | `seq` | u64 big-endian |
//! | `prev` | the 32 bytes |
//! | `at` | [`DateTime::seconds`] (seconds since 1970-01-01T00:00:00, local naive time) as i64 big-endian, two's complement |
//! | `actor`, `scope` | each: u32 big-endian length in bytes, then its UTF-8 bytes |
//! | `action` | its stable name ([`AuditAction::name`], e.g. `export`) as a string, as above |
//! | `what` | a string, as above |
//! | `purpose` | one byte 0 when absent; else 1, then the string as above |
//! | `customers` | u32 big-endian count, then each id as u64 big-endian, in stored order (ascending) |
//!
//! `hash` = SHA-256 of these bytes. The strings are hashed as stored, that is after the
//! validation of `WriteTxn::append_audit` trimmed them, and the customers after it sorted
//! them and dropped repeats.

use std::fmt;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codec::{self, DecodeError, Model, ModelKind};
use crate::date::DateTime;
use crate::error::{Damage, Error, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::store::{decode_stored, ReadTxn, ReadView, Tx, WriteTxn};

/// The hash of "no entry": the `prev` of the first entry and the hash of the empty trail's head.
pub const ZERO_HASH: [u8; 32] = [0; 32];

/// Longest `actor`, `scope` or `what` of an entry, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest `purpose` of an entry, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// Most customers one entry names (1,000,000: an export of more is recorded as several
/// entries). Keeps an entry's record well below what the decoder reads of one record.
pub const MAX_CUSTOMERS: usize = 1_000_000;

/// What an audited operation did with the customers it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    /// Found customers by a key (phone, national ID, VIN…): the key itself is not recorded.
    Lookup,
    /// Read one customer's record or 360° view.
    View,
    /// Read a customer's timeline.
    Timeline,
    /// Took customer data out of the database (a file, a table for a binding).
    Export,
    /// Changed customer data.
    Write,
    /// Erased a customer (an erasure request).
    Erase,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 6] = [
        AuditAction::Lookup,
        AuditAction::View,
        AuditAction::Timeline,
        AuditAction::Export,
        AuditAction::Write,
        AuditAction::Erase,
    ];

    /// The action's stable name, e.g. `"export"`. Part of every entry's hash: never change one.
    pub fn name(self) -> &'static str {
        match self {
            AuditAction::Lookup => "lookup",
            AuditAction::View => "view",
            AuditAction::Timeline => "timeline",
            AuditAction::Export => "export",
            AuditAction::Write => "write",
            AuditAction::Erase => "erase",
        }
    }

    /// The action named `name` (as [`AuditAction::name`] gives it).
    pub fn from_name(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// An entry as the access layer supplies it; the trail numbers and chains it.
///
/// No field may carry a personal value (a name, phone, ID, VIN…): customers are named by id
/// only, so erasing one never needs to touch the trail (see the [module](self) documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When the operation ran.
    pub at: DateTime,
    /// Who ran it: a user or service account name (1–[`MAX_NAME_CHARS`] characters).
    pub actor: String,
    /// The access scope it ran under (1–[`MAX_NAME_CHARS`] characters).
    pub scope: String,
    /// What kind of access it was.
    pub action: AuditAction,
    /// The operation, by name: `customer_360`, `add_touchpoint`… (1–[`MAX_NAME_CHARS`]
    /// characters). Never a search term or any other value of a customer.
    pub what: String,
    /// The customers it read or wrote (at most [`MAX_CUSTOMERS`]; stored sorted, each once).
    pub customers: Vec<CustomerId>,
    /// Why, when the scope asks for a stated purpose (at most [`MAX_PURPOSE_CHARS`]
    /// characters; blank is none).
    pub purpose: Option<String>,
}

/// One entry of the trail, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its number: 1 for the first entry, one more for each after.
    pub seq: u64,
    /// When the operation ran.
    pub at: DateTime,
    /// Who ran it.
    pub actor: String,
    /// The access scope it ran under.
    pub scope: String,
    /// What kind of access it was.
    pub action: AuditAction,
    /// The operation, by name.
    pub what: String,
    /// The customers it read or wrote, ascending, each once.
    pub customers: Vec<CustomerId>,
    /// Why, if a purpose was stated.
    pub purpose: Option<String>,
    /// The hash of the entry before it ([`ZERO_HASH`] for the first).
    pub prev: [u8; 32],
    /// The SHA-256 of this entry's canonical encoding ([`AuditEntry::computed_hash`]).
    pub hash: [u8; 32],
}

impl AuditEntry {
    /// The SHA-256 of this entry's canonical encoding (every field but `hash`; see the
    /// [module](self) documentation). Equals `hash` unless the entry was changed after it was
    /// appended.
    pub fn computed_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.seq.to_be_bytes());
        h.update(self.prev);
        h.update(self.at.seconds().to_be_bytes());
        for s in [
            self.actor.as_str(),
            self.scope.as_str(),
            self.action.name(),
            self.what.as_str(),
        ] {
            hash_str(&mut h, s);
        }
        match &self.purpose {
            None => h.update([0]),
            Some(p) => {
                h.update([1]);
                hash_str(&mut h, p);
            }
        }
        h.update(len_u32(self.customers.len()).to_be_bytes());
        for c in &self.customers {
            h.update(c.0.to_be_bytes());
        }
        h.finalize().into()
    }

    /// The head of the trail that ends with this entry.
    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

/// A string as the canonical encoding has it: u32 BE length in bytes, then the UTF-8 bytes.
fn hash_str(h: &mut Sha256, s: &str) {
    h.update(len_u32(s.len()).to_be_bytes());
    h.update(s.as_bytes());
}

/// A length of the canonical encoding. Validation keeps every stored length far below
/// `u32::MAX`; a longer one (only a decoded record could have it) saturates, so its hash cannot
/// match and the entry reads as edited.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl Model for AuditEntry {
    const KIND: ModelKind = ModelKind::AuditEntry;
    /// Born checksummed: the first version of a model added after checksums is
    /// [`codec::CHECKSUMMED_SINCE`].
    const VERSION: u16 = codec::CHECKSUMMED_SINCE;
    const NAME: &'static str = "audit entry";

    /// No older version was ever written: a version 1 envelope (no checksum) is refused.
    fn decode_older(version: u16, _payload: &[u8]) -> std::result::Result<Self, DecodeError> {
        Err(DecodeError::UnknownVersion { version })
    }
}

/// The newest entry of the trail: its seq and hash. The value to anchor outside the database
/// (see the [module](self) documentation) and to verify against later
/// ([`ReadTxn::verify_audit_against`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AuditHead {
    /// The newest entry's seq; 0 for an empty trail.
    pub seq: u64,
    /// The newest entry's hash; [`ZERO_HASH`] for an empty trail.
    pub hash: [u8; 32],
}

impl AuditHead {
    /// The head of the empty trail.
    pub const EMPTY: AuditHead = AuditHead {
        seq: 0,
        hash: ZERO_HASH,
    };

    /// The hash as 64 lower-case hex digits.
    pub fn hex(&self) -> String {
        use fmt::Write as _;
        self.hash
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// The head with this seq and the hash written as 64 hex digits (either case), as
    /// [`AuditHead::hex`] gives it; `None` if `hex` is not that.
    pub fn from_hex(seq: u64, hex: &str) -> Option<AuditHead> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut hash = [0u8; 32];
        for (out, pair) in hash.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            *out = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(AuditHead { seq, hash })
    }
}

impl fmt::Display for AuditHead {
    /// `seq:hex`, e.g. `42:9f86d0…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hex())
    }
}

impl std::str::FromStr for AuditHead {
    type Err = ValidationError;

    /// Parses the `seq:hex` form [`AuditHead`]'s `Display` writes (what a user anchored);
    /// anything else is `validation.not_allowed` on field `anchor`.
    fn from_str(text: &str) -> std::result::Result<AuditHead, ValidationError> {
        text.split_once(':')
            .and_then(|(seq, hex)| AuditHead::from_hex(seq.trim().parse().ok()?, hex.trim()))
            .ok_or_else(|| ValidationError::new("anchor", Rule::NotAllowed, text))
    }
}

/// How an entry breaks the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditProblemKind {
    /// Its record does not decode (checksum, format, version): damaged.
    Damaged,
    /// Its hash does not match its content: edited after it was appended.
    Edited,
    /// Seqs are missing before it: entries were removed.
    Missing,
    /// Its `prev` is not the hash of the entry before it: an entry was removed, inserted or
    /// reordered (or the one before it rewritten with a new hash).
    Relinked,
    /// It is stored under another seq than its own: moved, swapped or renumbered.
    Misplaced,
    /// The anchored seq is past the end of the trail: entries were removed from its end.
    Truncated,
    /// The anchored entry no longer has the anchored hash: the trail was rewritten up to it.
    Rewritten,
}

impl AuditProblemKind {
    /// The stable snake_case name every binding reports, e.g. `"edited"`.
    pub fn name(self) -> &'static str {
        match self {
            AuditProblemKind::Damaged => "damaged",
            AuditProblemKind::Edited => "edited",
            AuditProblemKind::Missing => "missing",
            AuditProblemKind::Relinked => "relinked",
            AuditProblemKind::Misplaced => "misplaced",
            AuditProblemKind::Truncated => "truncated",
            AuditProblemKind::Rewritten => "rewritten",
        }
    }
}

/// The first entry that breaks the chain, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProblem {
    /// The seq (table key) where the chain breaks; for [`AuditProblemKind::Truncated`], the
    /// anchored seq that is gone.
    pub seq: u64,
    /// How it breaks.
    pub kind: AuditProblemKind,
    /// What was found, one sentence.
    pub what: String,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.seq, self.what)
    }
}

/// The result of [`ReadTxn::verify_audit`] / [`ReadTxn::verify_audit_against`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries in the trail (every record of the table, sound or not).
    pub entries: u64,
    /// The newest entry's seq and stored hash, whether or not the chain holds (the all-zero
    /// hash if that record does not decode); [`AuditHead::EMPTY`] for an empty trail.
    pub head: AuditHead,
    /// The first break of the chain; `None` when it holds.
    pub problem: Option<AuditProblem>,
}

impl AuditVerification {
    /// Whether the chain holds (and, verified against an anchor, still contains it).
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }

    /// Keeps the first problem found.
    fn flag(&mut self, seq: u64, kind: AuditProblemKind, what: impl FnOnce() -> String) {
        if self.problem.is_none() {
            self.problem = Some(AuditProblem {
                seq,
                kind,
                what: what(),
            });
        }
    }
}

/// Trims a required name field and checks its length and characters.
pub(crate) fn name_field(
    field: &'static str,
    s: &str,
) -> std::result::Result<String, ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, Rule::Required, s));
    }
    text_field(field, t, MAX_NAME_CHARS)
}

/// Checks a trimmed, non-blank text: at most `max` characters, no control, bidirectional or
/// invisible-only text.
pub(crate) fn text_field(
    field: &'static str,
    t: &str,
    max: usize,
) -> std::result::Result<String, ValidationError> {
    if t.chars().count() > max {
        return Err(ValidationError::new(field, Rule::TooLong, t));
    }
    crate::validate::plain_text(field, t, &[])?;
    Ok(t.to_string())
}

impl NewAuditEntry {
    /// The entry as it is stored (strings trimmed, customers sorted and each once), without
    /// seq and chain, or why it is refused.
    fn normalised(&self) -> std::result::Result<NewAuditEntry, ValidationError> {
        crate::validate::plausible_date("at", self.at.date())?;
        let purpose = match self.purpose.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(text_field("purpose", p, MAX_PURPOSE_CHARS)?),
        };
        if self.customers.len() > MAX_CUSTOMERS {
            return Err(ValidationError::new(
                "customers",
                Rule::TooLong,
                format!("{} customers", self.customers.len()),
            ));
        }
        let mut customers = self.customers.clone();
        customers.sort_unstable();
        customers.dedup();
        Ok(NewAuditEntry {
            at: self.at,
            actor: name_field("actor", &self.actor)?,
            scope: name_field("scope", &self.scope)?,
            action: self.action,
            what: name_field("what", &self.what)?,
            customers,
            purpose,
        })
    }

    /// The stored entry with number `seq` after the entry whose hash is `prev`.
    fn sealed(self, seq: u64, prev: [u8; 32]) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: self.at,
            actor: self.actor,
            scope: self.scope,
            action: self.action,
            what: self.what,
            customers: self.customers,
            purpose: self.purpose,
            prev,
            hash: ZERO_HASH,
        };
        e.hash = e.computed_hash();
        e
    }
}

/// The trail's head as `t` sees it: the last key of `audit` and that entry's stored hash.
fn head_in(t: &impl ReadView) -> Result<AuditHead> {
    let table = t.audit()?;
    let Some((seq, bytes)) = table.last()? else {
        return Ok(AuditHead::EMPTY);
    };
    let entry: AuditEntry = decode_stored(bytes.value())?;
    Ok(AuditHead {
        seq: seq.value(),
        hash: entry.hash,
    })
}

impl Tx<'_> {
    /// Appends `entries` to the trail in order, each chained to the one before, and indexes
    /// them by customer; returns the new head. Validates every entry first (`actor`, `scope`
    /// and `what` 1–[`MAX_NAME_CHARS`] characters, `purpose` at most [`MAX_PURPOSE_CHARS`],
    /// no control characters, a plausible `at`, at most [`MAX_CUSTOMERS`] customers): a refused
    /// entry is a [`ValidationError`] naming its position, and nothing is written. A trail
    /// whose newest record does not decode refuses appends (`corrupt`): the chain cannot go on
    /// from a hash it cannot read.
    pub(crate) fn append_audit(&mut self, entries: &[NewAuditEntry]) -> Result<AuditHead> {
        let checked = entries
            .iter()
            .enumerate()
            .map(|(i, e)| e.normalised().map_err(|err| err.in_record(i)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut head = head_in(&self.t)?;
        let mut sealed = Vec::with_capacity(checked.len());
        for e in checked {
            let seq = head.seq.checked_add(1).ok_or_else(|| Error::Corrupt {
                what: "audit trail",
                source: Damage::Storage("its last seq is the largest possible".into()),
            })?;
            let entry = e.sealed(seq, head.hash);
            head = entry.head();
            sealed.push(entry);
        }
        if sealed.is_empty() {
            return Ok(head);
        }
        self.writing(|tx| {
            let mut audit = tx.t.audit()?;
            let mut by_customer = tx.t.audit_by_customer()?;
            for e in &sealed {
                audit.insert(e.seq, codec::encode(e).as_slice())?;
                for c in &e.customers {
                    by_customer.insert((c.0, e.seq), ())?;
                }
            }
            Ok(())
        })?;
        Ok(head)
    }
}

/// Crate-private: only the access layer appends, each entry for an operation it let through.
impl WriteTxn {
    /// Appends `entries` to the audit trail and returns the new head: see the [`crate::audit`]
    /// module. Nothing is written if an entry is refused.
    pub(crate) fn append_audit(&mut self, entries: &[NewAuditEntry]) -> Result<AuditHead> {
        self.tx().append_audit(entries)
    }
}

impl ReadTxn {
    /// The trail's head: the newest entry's seq and hash ([`AuditHead::EMPTY`] when the trail
    /// is empty). Anchor it outside the database to detect a rewrite later.
    pub fn audit_head(&self) -> Result<AuditHead> {
        head_in(&self.tables)
    }

    /// Entries oldest first, after `after_seq` (from the first when `None`), at most `limit`:
    /// every entry, or those naming `customer`. Page on with the last entry's seq. Reads the
    /// entries as stored: [`ReadTxn::verify_audit`] tells whether they are intact.
    ///
    /// A customer's entries are those recorded under its id at the time: after a merge, the
    /// merged customer's entries stay under the merged id.
    pub fn audit_log(
        &self,
        customer: Option<CustomerId>,
        after_seq: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let Some(from) = after_seq.unwrap_or(0).checked_add(1) else {
            return Ok(out);
        };
        let audit = self.tables.audit()?;
        match customer {
            None => {
                for item in audit.range(from..)? {
                    let (_, bytes) = item?;
                    out.push(decode_stored(bytes.value())?);
                    if out.len() == limit {
                        break;
                    }
                }
            }
            Some(c) => {
                let index = self.tables.audit_by_customer()?;
                for item in index.range((c.0, from)..=(c.0, u64::MAX))? {
                    let (key, _) = item?;
                    let seq = key.value().1;
                    let Some(bytes) = audit.get(seq)? else {
                        return Err(Error::Corrupt {
                            what: "audit index",
                            source: Damage::Dangling {
                                entity: "audit entry",
                                id: seq,
                            },
                        });
                    };
                    out.push(decode_stored(bytes.value())?);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Recomputes the whole chain in one pass over the trail: every record decodes, seqs run
    /// from 1 without gaps, every entry is stored under its own seq, its `prev` is the hash of
    /// the entry before and its hash matches its content. A break is reported in the value
    /// ([`AuditVerification::problem`], the first one found); an error means the trail could not
    /// be read.
    ///
    /// A trail whose newest entries were removed, or that was rewritten with recomputed
    /// hashes, still verifies: verify against an anchored head for that
    /// ([`ReadTxn::verify_audit_against`]).
    pub fn verify_audit(&self) -> Result<AuditVerification> {
        self.verify_chain(None)
    }

    /// [`ReadTxn::verify_audit`], and also that the trail still holds `anchor`, a head taken
    /// earlier ([`ReadTxn::audit_head`]) and kept outside the database: an anchored seq past
    /// the end is [`AuditProblemKind::Truncated`] (entries removed from the end), a different
    /// hash at that seq [`AuditProblemKind::Rewritten`]. The first problem in seq order wins.
    pub fn verify_audit_against(&self, anchor: &AuditHead) -> Result<AuditVerification> {
        self.verify_chain(Some(anchor))
    }

    fn verify_chain(&self, anchor: Option<&AuditHead>) -> Result<AuditVerification> {
        use AuditProblemKind::*;
        let mut v = AuditVerification {
            entries: 0,
            head: AuditHead::EMPTY,
            problem: None,
        };
        if let Some(a) = anchor.filter(|a| a.seq == 0 && a.hash != ZERO_HASH) {
            v.flag(0, Rewritten, || {
                format!(
                    "the anchor (seq 0, hash {}) is not the head of any trail",
                    a.hex()
                )
            });
        }
        let mut prev = ZERO_HASH;
        let mut expected = 1u64;
        for item in self.tables.audit()?.iter()? {
            let (key, bytes) = item?;
            let seq = key.value();
            v.entries += 1;
            if seq != expected {
                if seq > expected {
                    v.flag(seq, Missing, || {
                        format!("entries {expected} to {} are missing: removed", seq - 1)
                    });
                } else {
                    v.flag(seq, Misplaced, || {
                        "seq 0 is not a seq of the trail: an entry was inserted before the first"
                            .into()
                    });
                }
            }
            expected = seq.saturating_add(1);
            let entry = match codec::decode::<AuditEntry>(bytes.value()) {
                Ok(e) => e,
                Err(e) => {
                    v.flag(seq, Damaged, || format!("the record does not decode: {e}"));
                    v.head = AuditHead {
                        seq,
                        hash: ZERO_HASH,
                    };
                    prev = ZERO_HASH;
                    continue;
                }
            };
            if entry.seq != seq {
                v.flag(seq, Misplaced, || {
                    format!(
                        "it is entry {} stored under seq {seq}: moved, swapped or renumbered",
                        entry.seq
                    )
                });
            }
            if entry.prev != prev {
                v.flag(seq, Relinked, || {
                    "its prev is not the hash of the entry before it: an entry was removed, \
                     inserted or reordered"
                        .into()
                });
            }
            if entry.computed_hash() != entry.hash {
                v.flag(seq, Edited, || {
                    "its hash does not match its content: the entry was edited".into()
                });
            }
            if let Some(a) = anchor.filter(|a| a.seq == seq && a.hash != entry.hash) {
                v.flag(seq, Rewritten, || {
                    format!(
                        "its hash is {}, not the anchored {}: the trail was rewritten up to it",
                        entry.head().hex(),
                        a.hex()
                    )
                });
            }
            prev = entry.hash;
            v.head = entry.head();
        }
        let end = v.head.seq;
        if let Some(a) = anchor.filter(|a| a.seq > end) {
            v.flag(a.seq, Truncated, || {
                format!(
                    "the trail ends at seq {end} but was anchored at seq {}: entries were \
                     removed from its end",
                    a.seq
                )
            });
        }
        Ok(v)
    }
}

/// The audit part of the integrity check ([`ReadTxn::check`]): the chain's first break, if any
/// (a record that does not decode is reported by the check's decoding pass already).
pub(crate) fn chain_problem(r: &ReadTxn) -> Result<Option<AuditProblem>> {
    Ok(r.verify_audit()?
        .problem
        .filter(|p| p.kind != AuditProblemKind::Damaged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Database, Date};
    use proptest::prelude::*;

    fn at(minute: u32) -> DateTime {
        Date::from_ymd(2026, 3, 1)
            .unwrap()
            .at(9, 0, 0)
            .add_seconds(i64::from(minute) * 60)
    }

    fn new(i: u32, customers: &[u64]) -> NewAuditEntry {
        NewAuditEntry {
            at: at(i),
            actor: format!("agent{}", i % 3),
            scope: "dealer:SH0001".into(),
            action: AuditAction::ALL[i as usize % AuditAction::ALL.len()],
            what: "customer_360".into(),
            customers: customers.iter().map(|&c| CustomerId(c)).collect(),
            purpose: i.is_multiple_of(2).then(|| "complaint follow-up".into()),
        }
    }

    fn append(db: &Database, entries: &[NewAuditEntry]) -> Result<AuditHead> {
        db.write(|tx| tx.append_audit(entries))
    }

    /// A database whose trail has `n` entries, entry i naming customers i % 3 + 1 and 9.
    fn trail(n: u32) -> Database {
        let db = Database::in_memory().unwrap();
        let entries: Vec<_> = (1..=n)
            .map(|i| new(i, &[u64::from(i % 3) + 1, 9]))
            .collect();
        append(&db, &entries).unwrap();
        db
    }

    fn all(db: &Database) -> Vec<AuditEntry> {
        db.begin_read()
            .unwrap()
            .audit_log(None, None, usize::MAX)
            .unwrap()
    }

    fn verify(db: &Database) -> AuditVerification {
        db.begin_read().unwrap().verify_audit().unwrap()
    }

    fn verify_against(db: &Database, anchor: &AuditHead) -> AuditVerification {
        db.begin_read()
            .unwrap()
            .verify_audit_against(anchor)
            .unwrap()
    }

    fn head(db: &Database) -> AuditHead {
        db.begin_read().unwrap().audit_head().unwrap()
    }

    /// Replaces the raw `audit` table with `f` applied to its (key, entry) list: tampering as
    /// someone with write access to the file would, bypassing the trail's API.
    fn tamper(db: &Database, f: impl FnOnce(&mut Vec<(u64, AuditEntry)>)) {
        let w = db.begin_write().unwrap();
        {
            let tx = w.tx();
            let mut t = tx.t.audit().unwrap();
            let mut rows: Vec<(u64, AuditEntry)> = t
                .iter()
                .unwrap()
                .map(|r| {
                    let (k, v) = r.unwrap();
                    (k.value(), codec::decode(v.value()).unwrap())
                })
                .collect();
            let old: Vec<u64> = rows.iter().map(|(k, _)| *k).collect();
            f(&mut rows);
            for k in old {
                t.remove(k).unwrap();
            }
            for (k, e) in &rows {
                t.insert(*k, codec::encode(e).as_slice()).unwrap();
            }
        }
        w.commit().unwrap();
    }

    fn problem(v: &AuditVerification) -> (u64, AuditProblemKind) {
        let p = v.problem.as_ref().expect("a problem is reported");
        (p.seq, p.kind)
    }

    #[test]
    fn an_appended_chain_verifies() {
        let db = trail(7);
        let entries = all(&db);
        assert_eq!(entries.len(), 7);
        let mut prev = ZERO_HASH;
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
            assert_eq!(e.prev, prev);
            assert_eq!(e.hash, e.computed_hash());
            prev = e.hash;
        }
        let v = verify(&db);
        assert!(v.is_intact(), "{:?}", v.problem);
        assert_eq!(v.entries, 7);
        assert_eq!(v.head, entries[6].head());
        assert!(verify_against(&db, &v.head).is_intact());
        assert!(verify_against(&db, &entries[2].head()).is_intact());
        assert!(verify_against(&db, &AuditHead::EMPTY).is_intact());
        let r = db.begin_read().unwrap();
        assert!(r.check().unwrap().is_ok(), "{}", r.check().unwrap());
    }

    #[test]
    fn an_empty_trail_has_the_zero_head_and_verifies() {
        let db = Database::in_memory().unwrap();
        assert_eq!(head(&db), AuditHead::EMPTY);
        assert_eq!(head(&db).hex(), "0".repeat(64));
        let v = verify(&db);
        assert_eq!((v.entries, v.head, v.problem), (0, AuditHead::EMPTY, None));
        assert_eq!(append(&db, &[]).unwrap(), AuditHead::EMPTY);
        let anchored_later = AuditHead {
            seq: 1,
            hash: [7; 32],
        };
        assert_eq!(
            problem(&verify_against(&db, &anchored_later)),
            (1, AuditProblemKind::Truncated)
        );
    }

    #[test]
    fn the_head_moves_with_every_append_and_is_the_last_entrys_hash() {
        let db = Database::in_memory().unwrap();
        let mut heads = vec![head(&db)];
        for i in 1..=5 {
            let returned = append(&db, &[new(i, &[1])]).unwrap();
            let now = head(&db);
            assert_eq!(returned, now);
            assert_eq!(now.seq, u64::from(i));
            assert_eq!(now, all(&db).last().unwrap().head());
            assert!(!heads.contains(&now), "a new head every time");
            heads.push(now);
        }
        // A batch chains inside itself and moves the head to its last entry.
        let batch = append(&db, &[new(6, &[2]), new(7, &[3])]).unwrap();
        assert_eq!(batch.seq, 7);
        assert_eq!(batch, head(&db));
        assert!(verify(&db).is_intact());
        // The anchor format round-trips.
        assert_eq!(AuditHead::from_hex(batch.seq, &batch.hex()), Some(batch));
        assert_eq!(
            AuditHead::from_hex(7, &batch.hex().to_uppercase()),
            Some(batch)
        );
        assert_eq!(AuditHead::from_hex(7, "abc"), None);
        assert_eq!(AuditHead::from_hex(7, &"g".repeat(64)), None);
        assert_eq!(batch.to_string(), format!("7:{}", batch.hex()));
    }

    #[test]
    fn the_hash_is_sha256_of_the_documented_encoding() {
        let e = NewAuditEntry {
            at: DateTime::from_seconds(1_700_000_000),
            actor: "op".into(),
            scope: "all".into(),
            action: AuditAction::Export,
            what: "export_customers".into(),
            customers: vec![CustomerId(2), CustomerId(1), CustomerId(2)],
            purpose: Some("audit".into()),
        }
        .normalised()
        .unwrap()
        .sealed(3, [0xab; 32]);
        assert_eq!(e.customers, [CustomerId(1), CustomerId(2)]);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&3u64.to_be_bytes());
        bytes.extend_from_slice(&[0xab; 32]);
        bytes.extend_from_slice(&1_700_000_000i64.to_be_bytes());
        for s in ["op", "all", "export", "export_customers"] {
            bytes.extend_from_slice(&(s.len() as u32).to_be_bytes());
            bytes.extend_from_slice(s.as_bytes());
        }
        bytes.push(1);
        bytes.extend_from_slice(&5u32.to_be_bytes());
        bytes.extend_from_slice(b"audit");
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&1u64.to_be_bytes());
        bytes.extend_from_slice(&2u64.to_be_bytes());
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(e.hash, expected);
        // Pinned: a change of the encoding would orphan every anchored head.
        assert_eq!(
            e.head().hex(),
            "7888992886a7a0769b3267e3f4fea5895e177079bc4a6ed280f16e551ea71f8f",
            "the canonical encoding changed"
        );
        // Absent purpose: one zero byte.
        let none = AuditEntry {
            purpose: None,
            ..e.clone()
        };
        let mut bytes_none = bytes[..bytes.len() - (1 + 4 + 5 + 4 + 16)].to_vec();
        bytes_none.push(0);
        bytes_none.extend_from_slice(&bytes[bytes.len() - (4 + 16)..]);
        let expected: [u8; 32] = Sha256::digest(&bytes_none).into();
        assert_eq!(none.computed_hash(), expected);
    }

    #[test]
    fn the_log_reads_by_customer_and_pages_after_a_seq() {
        // Entry i names customer i % 3 + 1 and customer 9.
        let db = trail(10);
        let r = db.begin_read().unwrap();
        let seqs = |c: Option<u64>, after: Option<u64>, limit: usize| -> Vec<u64> {
            r.audit_log(c.map(CustomerId), after, limit)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect()
        };
        assert_eq!(seqs(None, None, 100), (1..=10).collect::<Vec<_>>());
        assert_eq!(seqs(None, None, 3), [1, 2, 3]);
        assert_eq!(seqs(None, Some(3), 3), [4, 5, 6]);
        assert_eq!(seqs(None, Some(9), 3), [10]);
        assert_eq!(seqs(None, Some(10), 3), Vec::<u64>::new());
        assert_eq!(seqs(None, Some(u64::MAX), 3), Vec::<u64>::new());
        assert_eq!(seqs(None, None, 0), Vec::<u64>::new());
        assert_eq!(seqs(Some(1), None, 100), [3, 6, 9]);
        assert_eq!(seqs(Some(2), None, 100), [1, 4, 7, 10]);
        assert_eq!(seqs(Some(2), Some(1), 2), [4, 7]);
        assert_eq!(seqs(Some(2), Some(7), 2), [10]);
        assert_eq!(seqs(Some(9), Some(4), 3), [5, 6, 7]);
        assert_eq!(seqs(Some(5), None, 100), Vec::<u64>::new());
        // Paging through a customer's log visits each entry once.
        let (mut after, mut seen) = (None, Vec::new());
        loop {
            let page = r.audit_log(Some(CustomerId(9)), after, 4).unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            seen.extend(page.iter().map(|e| e.seq));
        }
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
        let e = &r.audit_log(Some(CustomerId(3)), None, 1).unwrap()[0];
        assert_eq!(
            (e.seq, e.customers.as_slice()),
            (2, &[CustomerId(3), CustomerId(9)][..])
        );
        assert_eq!(*e, new(2, &[3, 9]).normalised().unwrap().sealed(2, e.prev));
    }

    #[test]
    fn an_edit_of_any_field_is_detected() {
        type Edit = fn(&mut AuditEntry);
        let edits: [(&str, Edit); 8] = [
            ("at", |e| e.at = e.at.add_seconds(1)),
            ("actor", |e| e.actor.push('x')),
            ("scope", |e| e.scope = "all".into()),
            ("action", |e| {
                e.action = if e.action == AuditAction::View {
                    AuditAction::Lookup
                } else {
                    AuditAction::View
                }
            }),
            ("what", |e| e.what = "timeline".into()),
            ("customers", |e| e.customers.retain(|c| c.0 != 9)),
            ("purpose", |e| {
                e.purpose = match e.purpose {
                    Some(_) => None,
                    None => Some("x".into()),
                }
            }),
            ("customer id", |e| e.customers[0].0 += 100),
        ];
        for (field, edit) in edits {
            let db = trail(5);
            let anchor = head(&db);
            tamper(&db, |rows| edit(&mut rows[2].1));
            let v = verify(&db);
            assert_eq!(problem(&v), (3, AuditProblemKind::Edited), "{field}");
            assert_eq!(v.entries, 5);
            assert_eq!(v.head, anchor, "{field}: the stored hashes are unchanged");
            assert_eq!(
                problem(&verify_against(&db, &anchor)),
                (3, AuditProblemKind::Edited)
            );
        }
    }

    #[test]
    fn a_removed_entry_in_the_middle_is_detected() {
        let db = trail(6);
        tamper(&db, |rows| {
            rows.remove(2);
        });
        let v = verify(&db);
        assert_eq!(problem(&v), (4, AuditProblemKind::Missing));
        assert_eq!(v.entries, 5);
        assert!(v.problem.unwrap().what.contains("entries 3 to 3"));

        // Renumbered to close the gap (seq rewritten, hash kept): prev no longer matches.
        let db = trail(6);
        tamper(&db, |rows| {
            rows.remove(2);
            for (k, e) in rows.iter_mut().skip(2) {
                *k -= 1;
                e.seq -= 1;
            }
        });
        assert_eq!(problem(&verify(&db)), (3, AuditProblemKind::Relinked));

        // The first entry removed: seqs no longer start at 1.
        let db = trail(3);
        tamper(&db, |rows| {
            rows.remove(0);
        });
        assert_eq!(problem(&verify(&db)), (2, AuditProblemKind::Missing));
    }

    #[test]
    fn a_removed_last_entry_is_detected_against_an_anchor() {
        let db = trail(6);
        let anchor = head(&db);
        tamper(&db, |rows| {
            rows.pop();
        });
        // The chain alone still holds: what is gone is only missed against the anchor.
        let v = verify(&db);
        assert!(v.is_intact());
        assert_eq!(v.head.seq, 5);
        let v = verify_against(&db, &anchor);
        assert_eq!(problem(&v), (6, AuditProblemKind::Truncated));
        assert!(v.problem.unwrap().what.contains("ends at seq 5"));
        // An older anchor still holds.
        assert!(verify_against(&db, &all(&db)[3].head()).is_intact());

        // Removed, then as many forged entries appended again: the anchored hash is gone.
        let db = trail(6);
        let anchor = head(&db);
        tamper(&db, |rows| {
            rows.truncate(4);
        });
        db.write(|tx| tx.append_audit(&[new(50, &[1]), new(51, &[1])]))
            .unwrap();
        assert!(verify(&db).is_intact());
        assert_eq!(
            problem(&verify_against(&db, &anchor)),
            (6, AuditProblemKind::Rewritten)
        );
        // Every entry removed.
        let db = trail(2);
        let anchor = head(&db);
        tamper(&db, Vec::clear);
        assert!(verify(&db).is_intact());
        assert_eq!(
            problem(&verify_against(&db, &anchor)),
            (2, AuditProblemKind::Truncated)
        );
    }

    /// A forged entry that hashes correctly, chained to the entry before `at`.
    fn forged(rows: &[(u64, AuditEntry)], at: usize) -> AuditEntry {
        let prev = at.checked_sub(1).map_or(ZERO_HASH, |i| rows[i].1.hash);
        new(99, &[42])
            .normalised()
            .unwrap()
            .sealed(at as u64 + 1, prev)
    }

    /// Inserts a forged entry at index `at`, renumbering the later ones (seq rewritten, hash
    /// kept).
    fn insert_forged(rows: &mut Vec<(u64, AuditEntry)>, at: usize) {
        let f = forged(rows, at);
        for (k, e) in rows.iter_mut().skip(at) {
            *k += 1;
            e.seq += 1;
        }
        rows.insert(at, (f.seq, f));
    }

    #[test]
    fn a_forged_entry_inserted_in_the_middle_is_detected() {
        let db = trail(5);
        let anchor = head(&db);
        tamper(&db, |rows| insert_forged(rows, 2));
        let v = verify(&db);
        assert_eq!(problem(&v), (4, AuditProblemKind::Relinked));
        assert_eq!(v.entries, 6);
        assert_eq!(
            problem(&verify_against(&db, &anchor)),
            (4, AuditProblemKind::Relinked)
        );
        // Before the first entry.
        let db = trail(3);
        tamper(&db, |rows| insert_forged(rows, 0));
        assert_eq!(problem(&verify(&db)), (2, AuditProblemKind::Relinked));
        // Later entries moved up without rewriting their seq.
        let db = trail(4);
        tamper(&db, |rows| {
            let f = forged(rows, 1);
            for (k, _) in rows.iter_mut().skip(1) {
                *k += 1;
            }
            rows.insert(1, (f.seq, f));
        });
        assert_eq!(problem(&verify(&db)), (3, AuditProblemKind::Misplaced));
    }

    #[test]
    fn swapped_entries_are_detected() {
        // The records under two seqs swapped.
        let db = trail(5);
        tamper(&db, |rows| {
            let (a, b) = (rows[1].1.clone(), rows[3].1.clone());
            rows[1].1 = b;
            rows[3].1 = a;
        });
        assert_eq!(problem(&verify(&db)), (2, AuditProblemKind::Misplaced));
        // Two entries' contents swapped, each keeping its seq, links and hash.
        let db = trail(5);
        tamper(&db, |rows| {
            let (a, b) = (rows[1].1.clone(), rows[3].1.clone());
            rows[1].1 = AuditEntry {
                seq: a.seq,
                prev: a.prev,
                hash: a.hash,
                ..b.clone()
            };
            rows[3].1 = AuditEntry {
                seq: b.seq,
                prev: b.prev,
                hash: b.hash,
                ..a
            };
        });
        assert_eq!(problem(&verify(&db)), (2, AuditProblemKind::Edited));
        // Swapped and fully renumbered (seq rewritten, hashes kept).
        let db = trail(5);
        tamper(&db, |rows| {
            rows.swap(1, 3);
            for (i, (k, e)) in rows.iter_mut().enumerate() {
                *k = i as u64 + 1;
                e.seq = *k;
            }
        });
        assert_eq!(problem(&verify(&db)), (2, AuditProblemKind::Relinked));
    }

    #[test]
    fn a_rewritten_chain_is_detected_only_against_an_anchor() {
        let db = trail(6);
        let early = all(&db)[1].head();
        let anchor = head(&db);
        // Whoever knows the encoding can edit an entry and recompute every hash after it.
        tamper(&db, |rows| {
            rows[3].1.actor = "someone_else".into();
            let mut prev = rows[2].1.hash;
            for (_, e) in rows.iter_mut().skip(3) {
                e.prev = prev;
                e.hash = e.computed_hash();
                prev = e.hash;
            }
        });
        assert!(verify(&db).is_intact());
        assert!(verify_against(&db, &early).is_intact());
        let v = verify_against(&db, &anchor);
        assert_eq!(problem(&v), (6, AuditProblemKind::Rewritten));
        assert_ne!(v.head, anchor);
        // An anchor that was never a head.
        let bogus = AuditHead {
            seq: 0,
            hash: [1; 32],
        };
        assert_eq!(
            problem(&verify_against(&db, &bogus)),
            (0, AuditProblemKind::Rewritten)
        );
    }

    #[test]
    fn a_damaged_record_is_reported_in_the_value_and_by_the_check() {
        let db = trail(4);
        let w = db.begin_write().unwrap();
        {
            let tx = w.tx();
            let mut t = tx.t.audit().unwrap();
            let mut bytes = t.get(2).unwrap().unwrap().value().to_vec();
            bytes[10] ^= 1;
            t.insert(2, bytes.as_slice()).unwrap();
        }
        w.commit().unwrap();
        let v = verify(&db);
        assert_eq!(problem(&v), (2, AuditProblemKind::Damaged));
        assert_eq!(v.entries, 4);
        let r = db.begin_read().unwrap();
        let report = r.check().unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.table == "audit" && p.detail.contains("record 2")),
            "{report}"
        );
        assert_eq!(r.audit_log(None, Some(1), 1).unwrap_err().code(), "corrupt");
    }

    #[test]
    fn the_integrity_check_reports_a_broken_chain_and_a_stale_index() {
        let db = trail(4);
        tamper(&db, |rows| rows[1].1.what = "timeline".into());
        let w = db.begin_write().unwrap();
        w.tx()
            .t
            .audit_by_customer()
            .unwrap()
            .insert((77, 1), ())
            .unwrap();
        w.commit().unwrap();
        let report = db.begin_read().unwrap().check().unwrap();
        let found = |table: &str, text: &str| {
            report
                .problems
                .iter()
                .any(|p| p.table == table && p.detail.contains(text))
        };
        assert!(found("audit", "breaks at entry 2"), "{report}");
        assert!(found("audit_by_customer", "(77, 1)"), "{report}");
    }

    #[test]
    fn validation_refuses_bad_strings_and_writes_nothing() {
        let db = trail(2);
        let before = head(&db);
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let cases: Vec<(NewAuditEntry, &str, Rule)> = vec![
            (
                NewAuditEntry {
                    actor: " ".into(),
                    ..new(1, &[1])
                },
                "actor",
                Rule::Required,
            ),
            (
                NewAuditEntry {
                    scope: String::new(),
                    ..new(1, &[1])
                },
                "scope",
                Rule::Required,
            ),
            (
                NewAuditEntry {
                    what: long.clone(),
                    ..new(1, &[1])
                },
                "what",
                Rule::TooLong,
            ),
            (
                NewAuditEntry {
                    actor: "ag\u{1b}]0;x\u{7}".into(),
                    ..new(1, &[1])
                },
                "actor",
                Rule::ControlCharacter,
            ),
            (
                NewAuditEntry {
                    what: "view\ncustomer".into(),
                    ..new(1, &[1])
                },
                "what",
                Rule::ControlCharacter,
            ),
            (
                NewAuditEntry {
                    scope: "a\u{202e}b".into(),
                    ..new(1, &[1])
                },
                "scope",
                Rule::ControlCharacter,
            ),
            (
                NewAuditEntry {
                    scope: "\u{200b}".into(),
                    ..new(1, &[1])
                },
                "scope",
                Rule::InvisibleText,
            ),
            (
                NewAuditEntry {
                    purpose: Some("p".repeat(MAX_PURPOSE_CHARS + 1)),
                    ..new(1, &[1])
                },
                "purpose",
                Rule::TooLong,
            ),
            (
                NewAuditEntry {
                    purpose: Some("why\u{0}".into()),
                    ..new(1, &[1])
                },
                "purpose",
                Rule::ControlCharacter,
            ),
            (
                NewAuditEntry {
                    at: Date::from_ymd(1850, 1, 1).unwrap().at_midnight(),
                    ..new(1, &[1])
                },
                "at",
                Rule::DateImplausible,
            ),
        ];
        for (bad, field, rule) in cases {
            // The bad entry second in a batch: the good first one is not written either.
            let mut w = db.begin_write().unwrap();
            let err = w.append_audit(&[new(3, &[1]), bad]).unwrap_err();
            let Error::Validation(v) = &err else {
                panic!("{field}: {err}")
            };
            assert_eq!((v.field, v.rule, v.record), (field, rule, Some(1)), "{err}");
            // Nothing written, and the transaction is still usable.
            assert_eq!(head_in(&w.tx().t).unwrap(), before);
            w.commit().unwrap();
            assert_eq!(head(&db), before, "{field}");
        }
        // At the limits, and trimmed.
        let ok = NewAuditEntry {
            actor: format!(" {} ", "a".repeat(MAX_NAME_CHARS)),
            purpose: Some("  ".into()),
            ..new(3, &[5, 5, 4])
        };
        append(&db, &[ok]).unwrap();
        let last = all(&db).pop().unwrap();
        assert_eq!(last.actor, "a".repeat(MAX_NAME_CHARS));
        assert_eq!(last.purpose, None);
        assert_eq!(last.customers, [CustomerId(4), CustomerId(5)]);
        assert!(verify(&db).is_intact());
    }

    #[test]
    fn names_round_trip_and_a_v1_envelope_is_refused() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_name(a.name()), Some(a));
        }
        assert_eq!(AuditAction::from_name("read"), None);
        let e = all(&trail(1)).remove(0);
        let bytes = codec::encode(&e);
        assert_eq!(codec::decode::<AuditEntry>(&bytes).unwrap(), e);
        assert_eq!(codec::check_any(&bytes), Ok(ModelKind::AuditEntry));
        let mut v1 = bytes[..bytes.len() - codec::CHECKSUM_LEN].to_vec();
        v1[1] = 1;
        assert_eq!(
            codec::decode::<AuditEntry>(&v1),
            Err(DecodeError::UnknownVersion { version: 1 })
        );
    }

    /// One tampering of a trail of `n` entries, as someone with write access to the file would.
    #[derive(Clone, Debug)]
    enum Tamper {
        /// One field of entry `at` changed, its hash kept.
        Edit { at: usize, field: u8 },
        /// Entry `at` removed (not the last: see `DropLast`), later ones kept or renumbered.
        Remove { at: usize, renumber: bool },
        /// The last entry removed: detected against the head anchored before.
        DropLast,
        /// A forged, correctly hashed entry inserted before entry `at`, later ones renumbered.
        Insert { at: usize },
        /// The records of entries `a` and `b` swapped: under each other's keys, or their
        /// contents only (seq, links and hash kept).
        Swap { a: usize, b: usize, contents: bool },
    }

    impl Tamper {
        fn apply(&self, rows: &mut Vec<(u64, AuditEntry)>) {
            match *self {
                Tamper::Edit { at, field } => {
                    let e = &mut rows[at].1;
                    match field % 6 {
                        0 => e.at = e.at.add_seconds(-1),
                        1 => e.actor.push('x'),
                        2 => e.scope.push('x'),
                        3 => {
                            let i = AuditAction::ALL
                                .iter()
                                .position(|a| *a == e.action)
                                .unwrap();
                            e.action = AuditAction::ALL[(i + 1) % AuditAction::ALL.len()];
                        }
                        4 => e.customers.push(CustomerId(1_000)),
                        _ => {
                            e.purpose = match e.purpose.take() {
                                Some(_) => None,
                                None => Some("p".into()),
                            }
                        }
                    }
                }
                Tamper::Remove { at, renumber } => {
                    rows.remove(at);
                    if renumber {
                        for (k, e) in rows.iter_mut().skip(at) {
                            *k -= 1;
                            e.seq -= 1;
                        }
                    }
                }
                Tamper::DropLast => {
                    rows.pop();
                }
                Tamper::Insert { at } => insert_forged(rows, at),
                Tamper::Swap { a, b, contents } => {
                    let (ea, eb) = (rows[a].1.clone(), rows[b].1.clone());
                    if contents {
                        rows[a].1 = AuditEntry {
                            seq: ea.seq,
                            prev: ea.prev,
                            hash: ea.hash,
                            ..eb.clone()
                        };
                        rows[b].1 = AuditEntry {
                            seq: eb.seq,
                            prev: eb.prev,
                            hash: eb.hash,
                            ..ea
                        };
                    } else {
                        rows[a].1 = eb;
                        rows[b].1 = ea;
                    }
                }
            }
        }
    }

    fn new_entry() -> impl Strategy<Value = NewAuditEntry> {
        (
            0i64..10_000_000,
            "[a-z]{1,8}",
            "[a-z:0-9]{1,12}",
            0..AuditAction::ALL.len(),
            "[a-z_0-9]{1,16}",
            prop::collection::vec(1u64..50, 0..5),
            prop::option::of("[a-z ]{1,20}"),
        )
            .prop_map(|(secs, actor, scope, action, what, customers, purpose)| {
                NewAuditEntry {
                    at: DateTime::from_seconds(1_700_000_000 + secs),
                    actor,
                    scope,
                    action: AuditAction::ALL[action],
                    what,
                    customers: customers.into_iter().map(CustomerId).collect(),
                    purpose,
                }
            })
    }

    /// A trail of 1 to 11 entries (in up to three appends) and one tampering that applies to it.
    fn trail_and_tamper() -> impl Strategy<Value = (Vec<Vec<NewAuditEntry>>, Tamper)> {
        prop::collection::vec(prop::collection::vec(new_entry(), 1..5), 1..4).prop_flat_map(
            |batches| {
                let n = batches.iter().map(Vec::len).sum::<usize>();
                let mut kinds = vec![
                    (0..n, any::<u8>())
                        .prop_map(|(at, field)| Tamper::Edit { at, field })
                        .boxed(),
                    Just(Tamper::DropLast).boxed(),
                    (0..n).prop_map(|at| Tamper::Insert { at }).boxed(),
                ];
                if n >= 2 {
                    kinds.push(
                        (0..n - 1, any::<bool>())
                            .prop_map(|(at, renumber)| Tamper::Remove { at, renumber })
                            .boxed(),
                    );
                    kinds.push(
                        (0..n, 0..n - 1, any::<bool>())
                            .prop_map(|(a, b, contents)| Tamper::Swap {
                                a,
                                b: if b >= a { b + 1 } else { b },
                                contents,
                            })
                            .boxed(),
                    );
                }
                (Just(batches), prop::strategy::Union::new(kinds))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_single_tampering_is_detected((batches, how) in trail_and_tamper()) {
            let db = Database::in_memory().unwrap();
            for b in &batches {
                append(&db, b).unwrap();
            }
            prop_assert!(verify(&db).is_intact());
            let anchor = head(&db);
            let before = all(&db);
            tamper(&db, |rows| how.apply(rows));
            let after = all(&db);
            // Swapping the contents of two identical entries changes nothing: not a tampering.
            prop_assume!(before != after);
            let against = verify_against(&db, &anchor);
            prop_assert!(!against.is_intact(), "{:?} missed against the anchor", how);
            let alone = verify(&db);
            if matches!(how, Tamper::DropLast) {
                prop_assert!(alone.is_intact());
            } else {
                prop_assert!(!alone.is_intact(), "{:?} missed", how);
                // The anchor can only move the first problem earlier (a forged first entry
                // replaces the anchored one).
                let seq = |v: &AuditVerification| v.problem.as_ref().map(|p| p.seq);
                prop_assert!(seq(&against) <= seq(&alone), "{:?}", how);
            }
        }
    }
}
