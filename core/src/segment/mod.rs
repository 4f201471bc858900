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
use crate::error::{Error, Result, Rule as ValidationRule, ValidationError};
use crate::ids::CustomerId;
use crate::loyalty::LoyaltyConfig;
use crate::store::tables::{SEGMENTS, SEGMENT_MEMBERS};
use crate::store::{decode_stored, ReadTxn, WriteTxn};

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

/// A rule refused at definition time, with its position (1-based line and column, counted in
/// characters) and the offending line, shown with a caret under the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {}: line {line}, column {column}: {message}\n  {line_text}\n  {caret}^", kind.code(), caret = " ".repeat(column.saturating_sub(1)))]
pub struct RuleError {
    /// What kind of mistake.
    pub kind: RuleErrorKind,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The text of the line.
    pub line_text: String,
}

impl RuleError {
    /// An error of `kind` at byte offset `offset` of `text`.
    pub fn at(
        kind: RuleErrorKind,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> RuleError {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[start..offset].chars().count() + 1;
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        RuleError {
            kind,
            line,
            column,
            message: message.into(),
            line_text: text[start..end].to_string(),
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

impl WriteTxn {
    /// The saved segment `name`, as this transaction sees it.
    pub fn segment(&self, name: &str) -> Result<Option<SegmentRecord>> {
        let t = self.txn.open_table(SEGMENTS)?;
        let v = t.get(name)?;
        v.map(|v| decode_stored(v.value())).transpose()
    }

    /// Saves a new version of segment `name` (created if new). The rule is parsed and checked
    /// now: syntax errors, unknown fields or segments, type mismatches and cycles through
    /// other segments fail here, not at evaluation. Returns the version number (1 for the
    /// first).
    pub fn save_segment(&mut self, name: &str, definition: &str, saved: DateTime) -> Result<usize> {
        let name = check_name(name)?.to_string();
        let known: Vec<String> = {
            let t = self.txn.open_table(SEGMENTS)?;
            let it = t.iter()?;
            it.map(|e| e.map(|(k, _)| k.value().to_string()))
                .collect::<std::result::Result<_, _>>()?
        };
        let rule = parse_with(definition, &|n| n == name || known.iter().any(|k| k == n))?;
        // Refuse cycles: follow the segments this rule names through their definitions.
        let mut stack: Vec<String> = rule.segments();
        let mut seen: Vec<String> = Vec::new();
        while let Some(n) = stack.pop() {
            if n == name {
                return Err(Error::invalid(
                    format!("segment {name} would depend on itself"),
                    "a segment may use other segments, but not in a cycle",
                ));
            }
            if seen.contains(&n) {
                continue;
            }
            if let Some(rec) = self.segment(&n)? {
                let r = parse_with(rec.current(), &|_| true)?;
                stack.extend(r.segments());
            }
            seen.push(n);
        }
        let mut record = self.segment(&name)?.unwrap_or_default();
        record.versions.push(SegmentVersion {
            saved,
            definition: definition.trim().to_string(),
        });
        let version = record.versions.len();
        self.writing(|tx| {
            tx.txn
                .open_table(SEGMENTS)?
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
            tx.txn
                .open_table(SEGMENT_MEMBERS)?
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
                Error::invalid(
                    format!("segment {name} was not materialised for {d}"),
                    "materialise it for both dates first (WriteTxn::materialise_segment)",
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
