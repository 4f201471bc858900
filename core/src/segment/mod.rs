//! Segments: sets of customers defined by rules that stay correct as time passes.
//!
//! A segment is a [`Rule`] of the rule language (grammar in [`rule`]) evaluated over the
//! [`crate::analytics::Facts`] snapshot as of a date. Windows in rules are relative to that
//! date, so the same rule gives the right members on any day with no new events. Results are
//! compact [`CustomerSet`]s (compressed bitmaps) with set operations. Saved segments keep every
//! version of their definition; their members can be materialised per date and diffed (who
//! entered, who left). The built-in segments of DOMAIN.md §5 are in [`builtin`], each also
//! expressible in the rule language.

pub mod builtin;
pub mod rule;

use std::collections::HashMap;

use redb::ReadableTable;
use roaring::RoaringTreemap;
use serde::{Deserialize, Serialize};

pub use rule::Rule;

use crate::analytics::{CustomerFacts, Facts};
use crate::codec::{self, Model, ModelKind};
use crate::date::{Date, DateTime};
use crate::error::{Error, Refusal, Result, Rule as ValidationRule, ValidationError};
use crate::ids::CustomerId;
use crate::loyalty::LoyaltyConfig;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};

/// What kind of mistake a rule has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A field the rule language does not know.
    UnknownField,
    /// A saved segment that does not exist.
    UnknownSegment,
    /// A value of the wrong type for its field or operator.
    Type,
}

impl RuleErrorKind {
    /// The stable code, e.g. `"syntax"`.
    pub fn code(self) -> &'static str {
        match self {
            RuleErrorKind::Syntax => "syntax",
            RuleErrorKind::UnknownField => "unknown_field",
            RuleErrorKind::UnknownSegment => "unknown_segment",
            RuleErrorKind::Type => "type",
        }
    }
}

/// Characters of the offending line an error quotes on either side of the problem: a rule
/// error never echoes more of a long line than this window.
pub const ERROR_CONTEXT_CHARS: usize = 40;

/// Characters of an error message kept: a message that names a token (a long string or name)
/// is cut to this length, ending in `…`.
pub const ERROR_MESSAGE_CHARS: usize = 240;

/// A rule refused at definition time, with its position (1-based line and column, counted in
/// characters) and the offending line, shown with a caret under the problem. However long the
/// rule, the error quotes only a window of the line around the problem (at most
/// [`ERROR_CONTEXT_CHARS`] characters either side, cut ends marked `…`) and a message of at
/// most [`ERROR_MESSAGE_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {}: line {line}, column {column}: {message}\n  {line_text}\n  {caret}^", kind.code(), caret = " ".repeat(excerpt_column.saturating_sub(1)))]
pub struct RuleError {
    /// What kind of mistake.
    pub kind: RuleErrorKind,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The text of the line, or of a window of it around the column when the line is long
    /// (cut ends shown as `…`).
    pub line_text: String,
    /// 1-based column of the problem within `line_text`, where the caret goes (equal to
    /// `column` unless the line was cut at its start).
    pub excerpt_column: usize,
}

/// `text` cut to `max` characters, ending in `…` if it was longer.
pub(crate) fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

impl RuleError {
    /// An error of `kind` at byte offset `offset` of `text`.
    pub fn at(
        kind: RuleErrorKind,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> RuleError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[start..offset].chars().count() + 1;
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        // The window: up to ERROR_CONTEXT_CHARS characters before and after the offset.
        let from = text[start..offset]
            .char_indices()
            .rev()
            .nth(ERROR_CONTEXT_CHARS - 1)
            .map_or(start, |(i, _)| start + i);
        let to = text[offset..end]
            .char_indices()
            .nth(ERROR_CONTEXT_CHARS)
            .map_or(end, |(i, _)| offset + i);
        let mut line_text = String::with_capacity(to - from + 8);
        let mut excerpt_column = column;
        if from > start {
            line_text.push('…');
            excerpt_column = text[from..offset].chars().count() + 2;
        }
        line_text.push_str(&text[from..to]);
        if to < end {
            line_text.push('…');
        }
        let message = message.into();
        RuleError {
            kind,
            line,
            column,
            message: shorten(&message, ERROR_MESSAGE_CHARS).into_owned(),
            line_text,
            excerpt_column,
        }
    }
}

/// What a rule is evaluated against besides the customer: the as-of date, the club
/// configuration (tiers) and the members of the saved segments it names.
pub struct EvalContext<'a> {
    /// The as-of date; every window ends on it.
    pub as_of: Date,
    /// The club configuration.
    pub config: &'a LoyaltyConfig,
    /// Members of the saved segments the rule names, as of the same date.
    pub segments: &'a HashMap<String, CustomerSet>,
}

/// A compact set of customer ids (a compressed bitmap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerSet(RoaringTreemap);

impl CustomerSet {
    /// The empty set.
    pub fn new() -> CustomerSet {
        CustomerSet::default()
    }

    /// Adds a customer; true if it was not in the set.
    pub fn insert(&mut self, id: CustomerId) -> bool {
        self.0.insert(id.0)
    }

    /// Whether the customer is in the set.
    pub fn contains(&self, id: CustomerId) -> bool {
        self.0.contains(id.0)
    }

    /// Number of customers.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The customers in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = CustomerId> + '_ {
        self.0.iter().map(CustomerId)
    }

    /// Customers in both sets.
    pub fn and(&self, other: &CustomerSet) -> CustomerSet {
        CustomerSet(&self.0 & &other.0)
    }

    /// Customers in either set.
    pub fn or(&self, other: &CustomerSet) -> CustomerSet {
        CustomerSet(&self.0 | &other.0)
    }

    /// Customers in this set and not in `other`.
    pub fn minus(&self, other: &CustomerSet) -> CustomerSet {
        CustomerSet(&self.0 - &other.0)
    }

    /// The set in roaring's portable serialization.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.serialized_size());
        self.0
            .serialize_into(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Reads a set written by [`CustomerSet::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<CustomerSet> {
        RoaringTreemap::deserialize_from(bytes)
            .map(CustomerSet)
            .map_err(|e| Error::Corrupt {
                what: "segment members",
                source: codec::DecodeError::Malformed(e.to_string()).into(),
            })
    }
}

impl FromIterator<CustomerId> for CustomerSet {
    fn from_iter<I: IntoIterator<Item = CustomerId>>(iter: I) -> CustomerSet {
        CustomerSet(iter.into_iter().map(|c| c.0).collect())
    }
}

/// One saved version of a segment's definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentVersion {
    /// When it was saved.
    pub saved: DateTime,
    /// The rule text.
    pub definition: String,
}

/// A saved segment: every version of its definition, oldest first (the last one applies).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// The versions.
    pub versions: Vec<SegmentVersion>,
}

impl SegmentRecord {
    /// The definition in force.
    pub fn current(&self) -> &str {
        self.versions.last().map_or("", |v| v.definition.as_str())
    }
}

impl Model for SegmentRecord {
    const KIND: ModelKind = ModelKind::Segment;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "segment";
}

/// Materialised members of a segment on one date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Materialised {
    /// [`CustomerSet::to_bytes`].
    members: Vec<u8>,
}

impl Model for Materialised {
    const KIND: ModelKind = ModelKind::SegmentMembers;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "segment members";
}

/// Who entered and who left a segment between two dates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentDiff {
    /// Members on the later date who were not members on the earlier one.
    pub entered: CustomerSet,
    /// Members on the earlier date who are not members on the later one.
    pub left: CustomerSet,
}

impl Facts {
    /// The customers for whom `keep` holds, evaluated on all cores.
    pub fn select(&self, keep: impl Fn(&CustomerFacts) -> bool + Sync) -> CustomerSet {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = self.customers.len().div_ceil(threads).max(1);
        let parts: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .customers
                .chunks(chunk)
                .map(|part| {
                    let keep = &keep;
                    s.spawn(move || {
                        part.iter()
                            .filter(|c| keep(c))
                            .map(|c| c.id.0)
                            .collect::<Vec<u64>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("segment evaluation panicked"))
                .collect()
        });
        // Chunks are in id order and each is sorted, so the concatenation is sorted.
        let sorted = parts.into_iter().flatten();
        CustomerSet(RoaringTreemap::from_sorted_iter(sorted).expect("ids ascend"))
    }

    /// The members of `rule` as of `as_of`. `segments` holds the members of every saved
    /// segment the rule names (see [`ReadTxn::evaluate`], which resolves them).
    pub fn evaluate(
        &self,
        rule: &Rule,
        as_of: Date,
        config: &LoyaltyConfig,
        segments: &HashMap<String, CustomerSet>,
    ) -> CustomerSet {
        let ctx = EvalContext {
            as_of,
            config,
            segments,
        };
        self.select(|c| rule.matches(c, &ctx))
    }
}

fn check_name(name: &str) -> Result<&str> {
    let n = name.trim();
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !n.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(n)
    } else {
        Err(ValidationError::new("name", ValidationRule::NotAllowed, name).into())
    }
}

/// Parses `text`, knowing which saved segments exist.
fn parse_with(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Rule> {
    Rule::parse(text, known).map_err(|e| Error::Rule(Box::new(e)))
}

/// Longest rule text a saved segment accepts, in bytes (64 KiB, after trimming). Longer rules
/// (a list of a million cities) belong in data, e.g. a saved segment per region.
pub const MAX_RULE_BYTES: usize = 64 * 1024;

/// Most bytes a saved segment's version history may hold: the rule texts of every version
/// plus [`VERSION_OVERHEAD_BYTES`] each (4 MiB, well inside the 16 MiB the decoder reads of
/// one record). A save that would pass it is refused; save the rule under a new name.
pub const MAX_HISTORY_BYTES: usize = 4 * 1024 * 1024;

/// What one version costs in [`MAX_HISTORY_BYTES`] besides its text (its save time and length
/// prefixes, rounded up).
pub const VERSION_OVERHEAD_BYTES: usize = 16;

/// Most levels of saved segments naming saved segments: a segment that names none has depth 1,
/// one that names segments has one more than the deepest of them. A save that would make any
/// segment deeper is refused, so a save reads at most the segments this many levels below it,
/// and evaluation never recurses deeper.
pub const MAX_SEGMENT_DEPTH: usize = 32;

/// The bytes `record`'s history counts against [`MAX_HISTORY_BYTES`].
fn history_bytes(record: &SegmentRecord) -> usize {
    record
        .versions
        .iter()
        .map(|v| v.definition.len() + VERSION_OVERHEAD_BYTES)
        .sum()
}

fn too_deep(name: &str, depth: usize) -> Error {
    Error::LimitExceeded {
        limit_kind: crate::error::Limit::SegmentDepth,
        what: format!("the depth of saved segments naming segments at segment {name}"),
        size: depth,
        limit: MAX_SEGMENT_DEPTH,
        hint: "name fewer levels of segments: copy a lower segment's condition into the rule",
    }
}

impl Tx<'_> {
    /// The saved segment `name`, as this transaction sees it.
    pub fn segment(&self, name: &str) -> Result<Option<SegmentRecord>> {
        self.s.segment_reads.set(self.s.segment_reads.get() + 1);
        let t = self.t.segments()?;
        let v = t.get(name)?;
        v.map(|v| decode_stored(v.value())).transpose()
    }

    /// How many saved-segment records this transaction has read, existence checks included: a
    /// measure of the work [`WriteTxn::save_segment`] does.
    pub fn segment_reads(&self) -> u64 {
        self.s.segment_reads.get()
    }

    fn segment_exists(&self, name: &str) -> Result<bool> {
        self.s.segment_reads.set(self.s.segment_reads.get() + 1);
        Ok(self.t.segments()?.get(name)?.is_some())
    }

    /// The depth of saved segment `n` (see [`MAX_SEGMENT_DEPTH`]), `level` levels below the
    /// segment being saved as `saving`; memoised in `memo`.
    fn segment_depth(
        &self,
        saving: &str,
        n: &str,
        level: usize,
        memo: &mut HashMap<String, usize>,
    ) -> Result<usize> {
        if n == saving {
            return Err(Error::refused(
                Refusal::SegmentCycle,
                format!("segment {saving} would depend on itself"),
            ));
        }
        if let Some(d) = memo.get(n) {
            return Ok(*d);
        }
        if level > MAX_SEGMENT_DEPTH {
            return Err(too_deep(saving, level));
        }
        let mut depth = 1;
        if let Some(rec) = self.segment(n)? {
            for dep in parse_with(rec.current(), &|_| true)?.segments() {
                depth = depth.max(1 + self.segment_depth(saving, &dep, level + 1, memo)?);
            }
        }
        memo.insert(n.to_string(), depth);
        Ok(depth)
    }

    /// How many levels of saved segments name `name`, directly or through others (0 if none
    /// does). Reads every saved segment: only needed when an update makes `name` deeper.
    fn segment_height(&self, name: &str) -> Result<usize> {
        let mut users: HashMap<String, Vec<String>> = HashMap::new();
        {
            let t = self.t.segments()?;
            for e in t.iter()? {
                let (k, v) = e?;
                self.s.segment_reads.set(self.s.segment_reads.get() + 1);
                let rec: SegmentRecord = decode_stored(v.value())?;
                if !rec.current().contains("segment") {
                    continue;
                }
                for dep in parse_with(rec.current(), &|_| true)?.segments() {
                    users.entry(dep).or_default().push(k.value().to_string());
                }
            }
        }
        fn height(
            n: &str,
            users: &HashMap<String, Vec<String>>,
            level: usize,
            memo: &mut HashMap<String, usize>,
        ) -> usize {
            if let Some(h) = memo.get(n) {
                return *h;
            }
            let h = match users.get(n) {
                // Beyond the limit the answer only needs to be "too deep".
                Some(_) if level > MAX_SEGMENT_DEPTH => level,
                Some(list) => list
                    .iter()
                    .map(|u| 1 + height(u, users, level + 1, memo))
                    .max()
                    .unwrap_or(0),
                None => 0,
            };
            memo.insert(n.to_string(), h);
            h
        }
        Ok(height(name, &users, 0, &mut HashMap::new()))
    }

    /// Saves a new version of segment `name` (created if new). The rule is parsed and checked
    /// now: syntax errors, unknown fields or segments, type mismatches and cycles through
    /// other segments fail here, not at evaluation. Returns the version number (1 for the
    /// first).
    ///
    /// Limits keep every saved segment readable and every save cheap: a rule text over
    /// [`MAX_RULE_BYTES`], a history over [`MAX_HISTORY_BYTES`], or segments naming segments
    /// more than [`MAX_SEGMENT_DEPTH`] levels deep are refused with
    /// [`Error::LimitExceeded`] (codes `limit_exceeded.rule_text`,
    /// `limit_exceeded.segment_history`, `limit_exceeded.segment_depth`). A save reads the
    /// segments its rule reaches (at most [`MAX_SEGMENT_DEPTH`] levels), not every saved
    /// segment; only an update that makes a segment deeper than it was reads them all, to find
    /// the segments that name it.
    pub fn save_segment(&mut self, name: &str, definition: &str, saved: DateTime) -> Result<usize> {
        use crate::error::Limit;
        let name = check_name(name)?.to_string();
        let definition = definition.trim();
        if definition.len() > MAX_RULE_BYTES {
            return Err(Error::LimitExceeded {
                limit_kind: Limit::RuleText,
                what: format!("the rule text of segment {name} (bytes)"),
                size: definition.len(),
                limit: MAX_RULE_BYTES,
                hint: "shorten the rule: keep long lists of values in segments of their own",
            });
        }
        let lookup_error = std::cell::RefCell::new(None);
        let known = |n: &str| {
            n == name
                || self.segment_exists(n).unwrap_or_else(|e| {
                    lookup_error.borrow_mut().get_or_insert(e);
                    false
                })
        };
        let parsed = parse_with(definition, &known);
        if let Some(e) = lookup_error.into_inner() {
            return Err(e);
        }
        let rule = parsed?;
        // Refuse cycles and chains too deep: follow the segments this rule names, at most
        // MAX_SEGMENT_DEPTH levels down.
        let mut memo = HashMap::new();
        let mut depth = 1;
        for dep in rule.segments() {
            depth = depth.max(1 + self.segment_depth(&name, &dep, 2, &mut memo)?);
        }
        if depth > MAX_SEGMENT_DEPTH {
            return Err(too_deep(&name, depth));
        }
        let mut record = self.segment(&name)?.unwrap_or_default();
        if !record.versions.is_empty() {
            // Segments naming this one get deeper with it: check them when it deepens.
            let mut old = 1;
            for dep in parse_with(record.current(), &|_| true)?.segments() {
                old = old.max(1 + self.segment_depth(&name, &dep, 2, &mut memo)?);
            }
            if depth > old {
                let height = self.segment_height(&name)?;
                if depth + height > MAX_SEGMENT_DEPTH {
                    return Err(too_deep(&name, depth + height));
                }
            }
        }
        let history = history_bytes(&record) + definition.len() + VERSION_OVERHEAD_BYTES;
        if history > MAX_HISTORY_BYTES {
            return Err(Error::LimitExceeded {
                limit_kind: Limit::SegmentHistory,
                what: format!("the version history of segment {name} (bytes)"),
                size: history,
                limit: MAX_HISTORY_BYTES,
                hint: "save the rule under a new segment name",
            });
        }
        record.versions.push(SegmentVersion {
            saved,
            definition: definition.to_string(),
        });
        let version = record.versions.len();
        self.writing(|tx| {
            tx.t.segments()?
                .insert(name.as_str(), codec::encode(&record).as_slice())?;
            Ok(version)
        })
    }

    /// Evaluates saved segment `name` as of `as_of` over `facts` and stores its members for
    /// that date (replacing an earlier materialisation of the same date).
    pub fn materialise_segment(
        &mut self,
        name: &str,
        as_of: Date,
        facts: &Facts,
    ) -> Result<CustomerSet> {
        let config = self.loyalty_config()?.unwrap_or_default();
        let members = {
            let lookup = |n: &str| self.segment(n);
            evaluate_saved(name, as_of, facts, &config, &lookup, &mut HashMap::new())?
        };
        let stored = Materialised {
            members: members.to_bytes(),
        };
        self.writing(|tx| {
            tx.t.segment_members()?
                .insert((name, as_of.days()), codec::encode(&stored).as_slice())?;
            Ok(())
        })?;
        Ok(members)
    }
}

/// Members of saved segment `name`, resolving the segments it names (memoised in `done`).
fn evaluate_saved(
    name: &str,
    as_of: Date,
    facts: &Facts,
    config: &LoyaltyConfig,
    lookup: &dyn Fn(&str) -> Result<Option<SegmentRecord>>,
    done: &mut HashMap<String, CustomerSet>,
) -> Result<CustomerSet> {
    if let Some(s) = done.get(name) {
        return Ok(s.clone());
    }
    let record = lookup(name)?.ok_or_else(|| Error::not_found("segment", name))?;
    let rule = parse_with(record.current(), &|_| true)?;
    for dep in rule.segments() {
        if !done.contains_key(&dep) {
            let s = evaluate_saved(&dep, as_of, facts, config, lookup, done)?;
            done.insert(dep, s);
        }
    }
    let members = facts.evaluate(&rule, as_of, config, done);
    done.insert(name.to_string(), members.clone());
    Ok(members)
}

impl ReadTxn {
    /// The saved segment `name`, with every version of its definition.
    pub fn segment(&self, name: &str) -> Result<Option<SegmentRecord>> {
        let v = self.tables.segments()?.get(name)?;
        v.map(|v| decode_stored(v.value())).transpose()
    }

    /// Names of every saved segment.
    pub fn segment_names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for e in self.tables.segments()?.iter()? {
            out.push(e?.0.value().to_string());
        }
        Ok(out)
    }

    /// Parses and checks a rule against the saved segments of this snapshot.
    pub fn parse_rule(&self, text: &str) -> Result<Rule> {
        let names = self.segment_names()?;
        parse_with(text, &|n| names.iter().any(|k| k == n))
    }

    /// Members of a rule (given as text) as of `as_of` over `facts`; saved segments it names
    /// are evaluated as of the same date.
    pub fn evaluate(&self, text: &str, as_of: Date, facts: &Facts) -> Result<CustomerSet> {
        let rule = self.parse_rule(text)?;
        let config = self.loyalty_config()?.unwrap_or_default();
        let mut done = HashMap::new();
        let lookup = |n: &str| self.segment(n);
        for dep in rule.segments() {
            let s = evaluate_saved(&dep, as_of, facts, &config, &lookup, &mut done)?;
            done.insert(dep, s);
        }
        Ok(facts.evaluate(&rule, as_of, &config, &done))
    }

    /// Members of saved segment `name` as of `as_of` over `facts` (not stored).
    pub fn evaluate_segment(&self, name: &str, as_of: Date, facts: &Facts) -> Result<CustomerSet> {
        let config = self.loyalty_config()?.unwrap_or_default();
        let lookup = |n: &str| self.segment(n);
        evaluate_saved(name, as_of, facts, &config, &lookup, &mut HashMap::new())
    }

    /// The members of `name` materialised for `as_of`, if that was done.
    pub fn materialised(&self, name: &str, as_of: Date) -> Result<Option<CustomerSet>> {
        let v = self.tables.segment_members()?.get((name, as_of.days()))?;
        match v {
            Some(v) => {
                let m: Materialised = decode_stored(v.value())?;
                Ok(Some(CustomerSet::from_bytes(&m.members)?))
            }
            None => Ok(None),
        }
    }

    /// Who entered and who left segment `name` between two materialised dates.
    pub fn segment_diff(&self, name: &str, from: Date, to: Date) -> Result<SegmentDiff> {
        let get = |d: Date| {
            self.materialised(name, d)?.ok_or_else(|| {
                Error::refused(
                    Refusal::SegmentNotMaterialised,
                    format!("segment {name} was not materialised for {d}"),
                )
            })
        };
        let (a, b) = (get(from)?, get(to)?);
        Ok(SegmentDiff {
            entered: b.minus(&a),
            left: a.minus(&b),
        })
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The saved segment `name`, as this transaction sees it.
    pub fn segment(&self, name: &str) -> Result<Option<SegmentRecord>> {
        self.tx().segment(name)
    }

    /// How many saved-segment records this transaction has read, existence checks included: a
    /// measure of the work [`WriteTxn::save_segment`] does.
    pub fn segment_reads(&self) -> u64 {
        self.tx().segment_reads()
    }

    /// Saves a new version of segment `name` (created if new). The rule is parsed and checked
    /// now: syntax errors, unknown fields or segments, type mismatches and cycles through
    /// other segments fail here, not at evaluation. Returns the version number (1 for the
    /// first).
    ///
    /// Limits keep every saved segment readable and every save cheap: a rule text over
    /// [`MAX_RULE_BYTES`], a history over [`MAX_HISTORY_BYTES`], or segments naming segments
    /// more than [`MAX_SEGMENT_DEPTH`] levels deep are refused with
    /// [`Error::LimitExceeded`] (codes `limit_exceeded.rule_text`,
    /// `limit_exceeded.segment_history`, `limit_exceeded.segment_depth`). A save reads the
    /// segments its rule reaches (at most [`MAX_SEGMENT_DEPTH`] levels), not every saved
    /// segment; only an update that makes a segment deeper than it was reads them all, to find
    /// the segments that name it.
    pub fn save_segment(&mut self, name: &str, definition: &str, saved: DateTime) -> Result<usize> {
        self.tx().save_segment(name, definition, saved)
    }

    /// Evaluates saved segment `name` as of `as_of` over `facts` and stores its members for
    /// that date (replacing an earlier materialisation of the same date).
    pub fn materialise_segment(
        &mut self,
        name: &str,
        as_of: Date,
        facts: &Facts,
    ) -> Result<CustomerSet> {
        self.tx().materialise_segment(name, as_of, facts)
    }
}
