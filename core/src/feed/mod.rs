//! The change feed: every committed change to a business record, in commit order, for the
//! consumers that keep something else up to date with the file (a replica, an incremental
//! lakehouse export, a search index).
//!
//! **What is recorded.** While the feed is on (it is off in a new file; registering a consumer
//! turns it on, [`WriteTxn::register_consumer`]), every commit that changed records appends, in
//! the same redb transaction, one commit entry (its sequence number, time, actor and source)
//! and one change per record it inserted, updated or deleted: dealers, customers, vehicles,
//! ownership histories, touchpoints, leads, complaints, surveys, memberships, ledger postings,
//! tiers, consents, saved segments and their materialisations, relations, merges, erasures,
//! conflicts, the loyalty configuration, the source registry and the roles. A change names the
//! record by its key; its current value is read from the file (the feed is a log of *which*
//! records changed, not a second copy of them). Several writes to one record in one commit are
//! one change (an insert then a delete in the same commit is none). Derived tables — indexes,
//! rollups, balances, lots — are not in the feed: they follow from the records that are.
//!
//! **Capture.** Every write to a table goes through the storage layer's table wrapper
//! (`store::TableMut`), which notes the key of each insert and removal on a table that holds a
//! fed record kind. No domain module writes the feed itself, so a new write path cannot forget
//! it.
//!
//! **Reading.** [`ReadTxn::changes_after`] returns the changes after a change id, in order, a
//! page at a time. A consumer stores its position in the file ([`WriteTxn::acknowledge`]), in
//! the same transaction as what it did with the changes if it writes to this file.
//!
//! **Retention** ([`Retention`]): by default a change is kept until every registered consumer
//! has acknowledged it; or for a number of days; or for ever. Pruning runs every 256 commits
//! within the commit (at most [`PRUNE_BATCH`] changes each time) and on
//! [`WriteTxn::prune_changes`]. Reading after a pruned change fails with
//! `invalid_operation.changes_pruned`: the consumer must start again from a snapshot.

mod log;

pub(crate) use log::FeedLog;

use std::fmt;
use std::str::FromStr;

use redb::{ReadableTable, Value};
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::customer::RelationKind;
use crate::date::{Date, DateTime};
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::store::{decode_stored, ReadTxn, ReadView, WriteTxn};

/// The most changes one automatic prune removes (a commit's extra cost stays bounded).
pub const PRUNE_BATCH: usize = 10_000;

/// The longest consumer name accepted.
const MAX_CONSUMER_NAME: usize = 200;

/// The kind of record a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Entity {
    /// A dealer; key [`ChangeKey::Id`] (the dealer id).
    Dealer = 1,
    /// A customer; key [`ChangeKey::Id`].
    Customer = 2,
    /// A vehicle; key [`ChangeKey::Id`].
    Vehicle = 3,
    /// A vehicle's ownership history; key [`ChangeKey::Id`] (the vehicle id).
    Ownership = 4,
    /// A touchpoint; key [`ChangeKey::Touchpoint`].
    Touchpoint = 5,
    /// A lead; key [`ChangeKey::Id`].
    Lead = 6,
    /// A complaint; key [`ChangeKey::Id`].
    Complaint = 7,
    /// A survey; key [`ChangeKey::Id`].
    Survey = 8,
    /// A customer's club membership; key [`ChangeKey::Id`] (the customer id).
    Membership = 9,
    /// A ledger posting (append-only: only inserts); key [`ChangeKey::Id`].
    Posting = 10,
    /// A customer's tier record; key [`ChangeKey::Id`] (the customer id).
    Tier = 11,
    /// A customer's consent history; key [`ChangeKey::Id`] (the customer id).
    Consents = 12,
    /// A saved segment's definition; key [`ChangeKey::Name`].
    Segment = 13,
    /// A segment materialised on a date; key [`ChangeKey::SegmentDay`].
    SegmentMembers = 14,
    /// A relation between two customers; key [`ChangeKey::Relation`].
    Relation = 15,
    /// A merge of two customers; key [`ChangeKey::Merge`].
    Merge = 16,
    /// An erasure in the register; key [`ChangeKey::Id`] (the customer id).
    Erasure = 17,
    /// A conflict raised or resolved; key [`ChangeKey::Id`].
    Conflict = 18,
    /// The loyalty club configuration; key [`ChangeKey::Name`].
    LoyaltyConfig = 19,
    /// The source registry; key [`ChangeKey::Name`].
    SourceRegistry = 20,
    /// The HQ roles; key [`ChangeKey::Name`].
    Roles = 21,
}

impl Entity {
    /// Every entity, in code order.
    pub const ALL: [Entity; 21] = [
        Entity::Dealer,
        Entity::Customer,
        Entity::Vehicle,
        Entity::Ownership,
        Entity::Touchpoint,
        Entity::Lead,
        Entity::Complaint,
        Entity::Survey,
        Entity::Membership,
        Entity::Posting,
        Entity::Tier,
        Entity::Consents,
        Entity::Segment,
        Entity::SegmentMembers,
        Entity::Relation,
        Entity::Merge,
        Entity::Erasure,
        Entity::Conflict,
        Entity::LoyaltyConfig,
        Entity::SourceRegistry,
        Entity::Roles,
    ];

    /// The entity's snake_case name, the same in every binding.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Dealer => "dealer",
            Entity::Customer => "customer",
            Entity::Vehicle => "vehicle",
            Entity::Ownership => "ownership",
            Entity::Touchpoint => "touchpoint",
            Entity::Lead => "lead",
            Entity::Complaint => "complaint",
            Entity::Survey => "survey",
            Entity::Membership => "membership",
            Entity::Posting => "posting",
            Entity::Tier => "tier",
            Entity::Consents => "consents",
            Entity::Segment => "segment",
            Entity::SegmentMembers => "segment_members",
            Entity::Relation => "relation",
            Entity::Merge => "merge",
            Entity::Erasure => "erasure",
            Entity::Conflict => "conflict",
            Entity::LoyaltyConfig => "loyalty_config",
            Entity::SourceRegistry => "source_registry",
            Entity::Roles => "roles",
        }
    }

    /// The entity whose records the table named `table` holds, if its changes are fed.
    pub(crate) fn of_table(table: &str) -> Option<Entity> {
        Some(match table {
            "dealers" => Entity::Dealer,
            "customers" => Entity::Customer,
            "vehicles" => Entity::Vehicle,
            "ownership" => Entity::Ownership,
            "touchpoints" => Entity::Touchpoint,
            "leads" => Entity::Lead,
            "complaints" => Entity::Complaint,
            "surveys" => Entity::Survey,
            "members" => Entity::Membership,
            "postings" => Entity::Posting,
            "tiers" => Entity::Tier,
            "consents" => Entity::Consents,
            "segments" => Entity::Segment,
            "segment_members" => Entity::SegmentMembers,
            "relations" => Entity::Relation,
            "merges" => Entity::Merge,
            "erasures" => Entity::Erasure,
            "conflicts" => Entity::Conflict,
            "loyalty" => Entity::LoyaltyConfig,
            "sources" => Entity::SourceRegistry,
            "access" => Entity::Roles,
            _ => return None,
        })
    }

    fn from_code(code: u8) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| *e as u8 == code)
    }

    /// Decodes a key of this entity's table from its redb bytes.
    fn key(self, bytes: &[u8]) -> Result<ChangeKey> {
        // The table key types (store/tables.rs) decoded with redb's own encoding; a length
        // check first, since redb's decoders assume well-formed bytes.
        fn fixed(bytes: &[u8], len: usize) -> Result<()> {
            if bytes.len() == len {
                Ok(())
            } else {
                Err(Error::Corrupt {
                    what: "change feed entry",
                    source: codec::DecodeError::Truncated { len: bytes.len() }.into(),
                })
            }
        }
        Ok(match self {
            Entity::Dealer => {
                fixed(bytes, 4)?;
                ChangeKey::Id(u64::from(<u32 as Value>::from_bytes(bytes)))
            }
            Entity::Touchpoint => {
                fixed(bytes, 24)?;
                let (customer, _, id) = <(u64, i64, u64) as Value>::from_bytes(bytes);
                ChangeKey::Touchpoint { customer, id }
            }
            Entity::Segment | Entity::LoyaltyConfig | Entity::SourceRegistry | Entity::Roles => {
                ChangeKey::Name(String::from_utf8_lossy(bytes).into_owned())
            }
            Entity::SegmentMembers => {
                let (segment, day) = <(&str, i32) as Value>::from_bytes(bytes);
                ChangeKey::SegmentDay {
                    segment: segment.to_owned(),
                    day: Date::from_days(day),
                }
            }
            Entity::Relation => {
                fixed(bytes, 17)?;
                let (from, kind, to) = <(u64, u8, u64) as Value>::from_bytes(bytes);
                let kind = RelationKind::from_code(kind).ok_or_else(|| Error::Corrupt {
                    what: "change feed entry",
                    source: codec::DecodeError::Truncated { len: bytes.len() }.into(),
                })?;
                ChangeKey::Relation { from, kind, to }
            }
            Entity::Merge => {
                fixed(bytes, 16)?;
                let (survivor, merged) = <(u64, u64) as Value>::from_bytes(bytes);
                ChangeKey::Merge { survivor, merged }
            }
            _ => {
                fixed(bytes, 8)?;
                ChangeKey::Id(<u64 as Value>::from_bytes(bytes))
            }
        })
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Entity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Entity> {
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| Error::not_found("change entity", s))
    }
}

/// What a change did to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ChangeOp {
    /// The record did not exist before the commit.
    Insert = 1,
    /// The record existed before the commit and exists after it.
    Update = 2,
    /// The record existed before the commit and does not after it.
    Delete = 3,
}

impl ChangeOp {
    /// `insert`, `update` or `delete`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeOp::Insert => "insert",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
        }
    }

    fn from_code(code: u8) -> Option<ChangeOp> {
        [ChangeOp::Insert, ChangeOp::Update, ChangeOp::Delete]
            .into_iter()
            .find(|o| *o as u8 == code)
    }

    /// The net effect of two writes to one record in one commit, `self` first (`None`: the
    /// record was inserted and deleted again, no change).
    fn then(self, later: ChangeOp) -> Option<ChangeOp> {
        match (self, later) {
            (ChangeOp::Insert, ChangeOp::Delete) => None,
            (ChangeOp::Insert, _) => Some(ChangeOp::Insert),
            (_, ChangeOp::Delete) => Some(ChangeOp::Delete),
            _ => Some(ChangeOp::Update),
        }
    }
}

impl fmt::Display for ChangeOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which record a change is about: the key of its table. Non-exhaustive: a record kind added
/// to the feed later may bring a key of another shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeKey {
    /// A record keyed by an id (dealer, customer, vehicle, lead, posting…).
    Id(u64),
    /// A record keyed by a name (a saved segment, a settings record).
    Name(String),
    /// A touchpoint: its customer and its id.
    Touchpoint {
        /// The customer whose timeline it is on.
        customer: u64,
        /// The touchpoint id.
        id: u64,
    },
    /// A relation from one customer to another.
    Relation {
        /// The customer the relation is from.
        from: u64,
        /// The kind of relation.
        kind: RelationKind,
        /// The customer the relation is to.
        to: u64,
    },
    /// A segment materialised on a date.
    SegmentDay {
        /// The segment's name.
        segment: String,
        /// The as-of date.
        day: Date,
    },
    /// A merge: the customer kept and the customer merged into it.
    Merge {
        /// The customer kept.
        survivor: u64,
        /// The customer merged into it (its id now redirects to `survivor`).
        merged: u64,
    },
}

/// One committed change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The change id: increases by one per change, in commit order. A consumer's position.
    pub id: u64,
    /// The sequence number of the commit that made it (increases by one per commit with
    /// changes); the changes of one commit are consecutive.
    pub commit: u64,
    /// When the commit was made (the transaction's [`WriteTxn::now`]).
    pub at: DateTime,
    /// Who made it, when the writer said ([`WriteTxn::set_actor`]; scoped writes do).
    pub actor: Option<String>,
    /// The access scope it was made under (`hq:analyst`, `dealer:SH001`, `owner:42`), when
    /// the writer said (scoped writes do).
    pub scope: Option<String>,
    /// The source system it came from, when the writer said ([`WriteTxn::set_source`];
    /// imports do).
    pub source: Option<String>,
    /// The kind of record changed.
    pub entity: Entity,
    /// What happened to it.
    pub op: ChangeOp,
    /// Which record.
    pub key: ChangeKey,
}

impl Change {
    /// The customer the changed record belongs to, where its key says (customers,
    /// touchpoints, memberships, tiers, consents, erasures, relations, merges: the survivor).
    /// Other records name their customer in their value.
    pub fn customer(&self) -> Option<CustomerId> {
        match (&self.entity, &self.key) {
            (
                Entity::Customer
                | Entity::Membership
                | Entity::Tier
                | Entity::Consents
                | Entity::Erasure,
                ChangeKey::Id(id),
            ) => Some(CustomerId(*id)),
            (_, ChangeKey::Touchpoint { customer, .. }) => Some(CustomerId(*customer)),
            (_, ChangeKey::Relation { from, .. }) => Some(CustomerId(*from)),
            (_, ChangeKey::Merge { survivor, .. }) => Some(CustomerId(*survivor)),
            _ => None,
        }
    }
}

/// A page of changes from [`ReadTxn::changes_after`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangePage {
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// Where the next page starts: pass it as `after` (the last change's id, or `after` itself
    /// when the page is empty).
    pub next: u64,
    /// The id of the latest change in the file when the page was read (0: none yet): the
    /// consumer is caught up when `next == last`.
    pub last: u64,
}

/// How long the feed keeps a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retention {
    /// Until every registered consumer has acknowledged it (the default). Nothing is pruned
    /// while no consumer is registered.
    UntilConsumed,
    /// For this many days after its commit, read or not.
    Days(u32),
    /// For ever.
    Forever,
}

impl fmt::Display for Retention {
    /// `until_consumed`, `forever`, or the days as `30d`: what [`Retention::from_str`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::UntilConsumed => f.write_str("until_consumed"),
            Retention::Forever => f.write_str("forever"),
            Retention::Days(n) => write!(f, "{n}d"),
        }
    }
}

impl FromStr for Retention {
    type Err = Error;

    /// `until_consumed`, `forever`, or a number of days (`30` or `30d`, at least 1).
    fn from_str(s: &str) -> Result<Retention> {
        let s = s.trim();
        match s {
            "until_consumed" => return Ok(Retention::UntilConsumed),
            "forever" => return Ok(Retention::Forever),
            _ => {}
        }
        match s.strip_suffix('d').unwrap_or(s).parse::<u32>() {
            Ok(n) if n > 0 => Ok(Retention::Days(n)),
            _ => Err(Error::Validation(ValidationError::new(
                "retention",
                Rule::NotAllowed,
                s,
            ))),
        }
    }
}

/// A registered consumer and how far it has read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Its name.
    pub name: String,
    /// The id of the last change it acknowledged (it reads on from `position`).
    pub position: u64,
}

/// The feed's settings, stored under `"feed.settings"` in the `meta` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FeedSettings {
    /// Whether commits append to the feed.
    pub enabled: bool,
    pub retention: Retention,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            enabled: false,
            retention: Retention::UntilConsumed,
        }
    }
}
codec::model!(FeedSettings, FeedSettings, "change feed settings");

/// The most changes one stored chunk holds.
pub(crate) const CHUNK: usize = 256;

/// Consecutive changes of one commit, stored as one record (`changes` table, keyed by the id
/// of its first change): a commit of 1,700 changes is 7 B-tree inserts, not 1,700, and the
/// envelope and key are paid once per chunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ChangeChunk {
    pub commit: u64,
    /// The id of its commit's first change, whose chunk carries the commit's [`CommitHead`].
    pub first: u64,
    /// On the chunk holding its commit's first change only: when, by whom, from where. (In
    /// the same table as the changes, not a table of its own: a commit touching one more
    /// table pays for one more B-tree root at every commit.)
    pub head: Option<CommitHead>,
    /// (entity, op, the record's key as its table stores it), change ids following the key.
    pub changes: Vec<(u8, u8, Vec<u8>)>,
}
codec::model!(ChangeChunk, ChangeChunk, "change chunk");

/// What a commit's first change says about the whole commit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CommitHead {
    pub at: DateTime,
    pub actor: Option<String>,
    pub scope: Option<String>,
    pub source: Option<String>,
    /// How many changes the commit made.
    pub count: u32,
}

/// Key of the feed settings in the `meta` table.
pub(crate) const SETTINGS_KEY: &str = "feed.settings";
/// Key of the id of the last pruned change in the `meta` table (u64 LE).
pub(crate) const PRUNED_KEY: &str = "feed.pruned";
/// The counter of change ids.
pub(crate) const CHANGE_COUNTER: &str = "next.change";
/// The counter of commit sequence numbers.
pub(crate) const COMMIT_COUNTER: &str = "next.commit";

/// Reads a `u64` stored little-endian under `key` in `meta` (0 when absent).
pub(crate) fn meta_u64(t: &impl ReadView, key: &str) -> Result<u64> {
    let meta = t.meta()?;
    let value = meta.get(key)?.map(|v| v.value().to_vec());
    Ok(match value {
        Some(b) => u64::from_le_bytes(b.as_slice().try_into().map_err(|_| Error::Corrupt {
            what: "change feed position",
            source: codec::DecodeError::Truncated { len: b.len() }.into(),
        })?),
        None => 0,
    })
}

/// The feed settings stored in the file.
pub(crate) fn settings(t: &impl ReadView) -> Result<FeedSettings> {
    let meta = t.meta()?;
    let value = meta.get(SETTINGS_KEY)?;
    match value {
        Some(v) => decode_stored(v.value()),
        None => Ok(FeedSettings::default()),
    }
}

/// The id of the latest change (0: none): one below the next id to assign.
fn last_change(t: &impl ReadView) -> Result<u64> {
    Ok(meta_u64(t, CHANGE_COUNTER)?.saturating_sub(1))
}

/// Decodes the stored change `id` with its commit.
fn decode_change(
    id: u64,
    commit_seq: u64,
    (entity, op, key): &(u8, u8, Vec<u8>),
    commit: &CommitHead,
) -> Result<Change> {
    let corrupt = || Error::Corrupt {
        what: "change feed entry",
        source: codec::DecodeError::Truncated { len: 0 }.into(),
    };
    let entity = Entity::from_code(*entity).ok_or_else(corrupt)?;
    let op = ChangeOp::from_code(*op).ok_or_else(corrupt)?;
    Ok(Change {
        id,
        commit: commit_seq,
        at: commit.at,
        actor: commit.actor.clone(),
        scope: commit.scope.clone(),
        source: commit.source.clone(),
        entity,
        op,
        key: entity.key(key)?,
    })
}

/// The chunk holding change `id`, with the id of its first change, if any is stored.
pub(crate) fn chunk_of(
    table: &impl ReadableTable<u64, &'static [u8]>,
    id: u64,
) -> Result<Option<(u64, ChangeChunk)>> {
    let found = table.range(..=id)?.next_back().transpose()?;
    match found {
        Some((k, v)) => {
            let chunk: ChangeChunk = decode_stored(v.value())?;
            let start = k.value();
            Ok((start + chunk.changes.len() as u64 > id).then_some((start, chunk)))
        }
        None => Ok(None),
    }
}

/// The changes after change `after`, at most `limit` of them, from either kind of
/// transaction.
pub(crate) fn changes_after(t: &impl ReadView, after: u64, limit: usize) -> Result<ChangePage> {
    let last = last_change(t)?;
    let pruned = meta_u64(t, PRUNED_KEY)?;
    if after < pruned {
        return Err(Error::refused(
            Refusal::ChangesPruned,
            format!(
                "the changes after {after} are no longer kept (changes up to {pruned} were \
                 pruned by the feed's retention); start again from a snapshot of the file"
            ),
        ));
    }
    if after > last {
        return Err(Error::refused(
            Refusal::ChangePositionAhead,
            format!("change {after} does not exist yet (the latest is {last})"),
        ));
    }
    let changes_table = t.changes()?;
    let mut changes = Vec::with_capacity(limit.min(4096));
    let mut head: Option<(u64, CommitHead)> = None;
    // Start at the chunk holding change `after + 1`, which may begin before it.
    let start = chunk_of(&*changes_table, after + 1)?.map_or(after + 1, |(k, _)| k);
    'chunks: for item in changes_table.range(start..)? {
        let (k, v) = item?;
        let mut chunk: ChangeChunk = decode_stored(v.value())?;
        if head.as_ref().map(|(commit, _)| *commit) != Some(chunk.commit) {
            let h = match chunk.head.take() {
                Some(h) => h,
                // A chunk after its commit's first: the head is on that one.
                None => chunk_of(&*changes_table, chunk.first)?
                    .and_then(|(_, c)| c.head)
                    .ok_or_else(|| Error::Corrupt {
                        what: "change feed commit",
                        source: codec::DecodeError::Truncated { len: 0 }.into(),
                    })?,
            };
            head = Some((chunk.commit, h));
        }
        let (_, h) = head.as_ref().expect("set above");
        for (i, c) in chunk.changes.iter().enumerate() {
            let id = k.value() + i as u64;
            if id <= after {
                continue;
            }
            if changes.len() == limit {
                break 'chunks;
            }
            changes.push(decode_change(id, chunk.commit, c, h)?);
        }
    }
    let next = changes.last().map_or(after, |c| c.id);
    Ok(ChangePage {
        changes,
        next,
        last,
    })
}

fn consumers(t: &impl ReadView) -> Result<Vec<Consumer>> {
    let table = t.feed_consumers()?;
    let mut out = Vec::new();
    for item in table.iter()? {
        let (k, v) = item?;
        out.push(Consumer {
            name: k.value().to_owned(),
            position: v.value(),
        });
    }
    Ok(out)
}

impl ReadTxn {
    /// The changes committed after change `after` (0: from the first), in order, at most
    /// `limit` of them. Fails with `invalid_operation.changes_pruned` if changes after `after`
    /// were already pruned, and `invalid_operation.change_position_ahead` if `after` is beyond
    /// the latest change.
    ///
    /// ```
    /// # fn main() -> autocrm::Result<()> {
    /// use autocrm::feed::{ChangeOp, Entity};
    /// use autocrm::{Customer, Database};
    /// let db = Database::in_memory()?;
    /// db.write(|w| w.register_consumer("replica"))?;
    /// let id = db.write(|w| w.insert_customer(&Customer::person("王小明")))?;
    /// let page = db.begin_read()?.changes_after(0, 100)?;
    /// assert_eq!(page.changes.len(), 1);
    /// assert_eq!(page.changes[0].entity, Entity::Customer);
    /// assert_eq!(page.changes[0].op, ChangeOp::Insert);
    /// assert_eq!(page.changes[0].customer(), Some(id));
    /// # Ok(())
    /// # }
    /// ```
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<ChangePage> {
        changes_after(&self.tables, after, limit)
    }

    /// The id of the latest change (0: none yet).
    pub fn last_change(&self) -> Result<u64> {
        last_change(&self.tables)
    }

    /// Whether commits append to the feed.
    pub fn change_feed_enabled(&self) -> Result<bool> {
        Ok(settings(&self.tables)?.enabled)
    }

    /// How long the feed keeps changes.
    pub fn change_retention(&self) -> Result<Retention> {
        Ok(settings(&self.tables)?.retention)
    }

    /// The registered consumers, by name.
    pub fn consumers(&self) -> Result<Vec<Consumer>> {
        consumers(&self.tables)
    }

    /// How far consumer `name` has read (`not_found` if it is not registered).
    pub fn consumer_position(&self, name: &str) -> Result<u64> {
        let table = self.tables.feed_consumers()?;
        let position = table.get(name)?.map(|v| v.value());
        position.ok_or_else(|| Error::not_found("change consumer", name))
    }
}

impl WriteTxn {
    /// Registers a consumer of the change feed, positioned at the latest change: it reads the
    /// changes committed after this transaction. Turns the feed on if it was off (so a
    /// consumer that took a snapshot in this same transaction misses nothing). Registering a
    /// name again leaves its position as it was. Returns the position.
    pub fn register_consumer(&mut self, name: &str) -> Result<u64> {
        check_consumer_name(name)?;
        let tx = self.tx();
        let existing = tx.t.feed_consumers()?.get(name)?.map(|v| v.value());
        if let Some(position) = existing {
            return Ok(position);
        }
        let position = tx.last_change()?;
        tx.t.feed_consumers()?.insert(name, position)?;
        let mut s = settings(&tx.t)?;
        if !s.enabled {
            s.enabled = true;
            tx.t.meta()?
                .insert(SETTINGS_KEY, codec::encode(&s).as_slice())?;
            self.state.feed.enable();
        }
        Ok(position)
    }

    /// Removes a consumer; the changes only it had not read may then be pruned. Returns
    /// whether it was registered.
    pub fn unregister_consumer(&mut self, name: &str) -> Result<bool> {
        let removed = self.tx().t.feed_consumers()?.remove(name)?.is_some();
        Ok(removed)
    }

    /// Records that consumer `name` has read every change up to `position` (`not_found` if it
    /// is not registered). A position never moves back: acknowledging an earlier one leaves it
    /// as it is. Refused with `invalid_operation.change_position_ahead` beyond the latest
    /// change.
    pub fn acknowledge(&mut self, name: &str, position: u64) -> Result<u64> {
        let tx = self.tx();
        let last = tx.last_change()?;
        if position > last {
            return Err(Error::refused(
                Refusal::ChangePositionAhead,
                format!("change {position} does not exist yet (the latest is {last})"),
            ));
        }
        let mut table = tx.t.feed_consumers()?;
        let current = table.get(name)?.map(|v| v.value());
        let current = current.ok_or_else(|| Error::not_found("change consumer", name))?;
        let kept = current.max(position);
        if kept != current {
            table.insert(name, kept)?;
        }
        Ok(kept)
    }

    /// Sets how long the feed keeps changes; applies from the next prune.
    pub fn set_change_retention(&mut self, retention: Retention) -> Result<()> {
        if retention == Retention::Days(0) {
            return Err(Error::Validation(ValidationError::new(
                "retention",
                Rule::OutOfRange,
                "0 days",
            )));
        }
        let tx = self.tx();
        let mut s = settings(&tx.t)?;
        s.retention = retention;
        tx.t.meta()?
            .insert(SETTINGS_KEY, codec::encode(&s).as_slice())?;
        Ok(())
    }

    /// Turns the feed off: commits stop appending to it (consumers stay registered, and read
    /// what was recorded). Registering a consumer turns it on again.
    pub fn disable_change_feed(&mut self) -> Result<()> {
        let tx = self.tx();
        let mut s = settings(&tx.t)?;
        s.enabled = false;
        tx.t.meta()?
            .insert(SETTINGS_KEY, codec::encode(&s).as_slice())?;
        self.state.feed.disable();
        Ok(())
    }

    /// Removes every change the retention no longer keeps; returns how many.
    pub fn prune_changes(&mut self) -> Result<u64> {
        self.tx().prune_changes(usize::MAX)
    }

    /// Names who makes this transaction's changes and under which access scope, as the feed
    /// records them (the scoped API sets its actor and scope).
    pub fn set_actor(&mut self, actor: &str, scope: Option<&str>) {
        self.state.feed.set_actor(actor, scope);
    }

    /// Names the source system this transaction's changes come from, as the feed records them
    /// (imports set the file's source system).
    pub fn set_source(&mut self, source: &str) {
        self.state.feed.set_source(source);
    }

    /// The changes after `after` as this transaction sees them (its own, uncommitted changes
    /// are not in the feed until it commits).
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<ChangePage> {
        changes_after(&self.tx().t, after, limit)
    }
}

fn check_consumer_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > MAX_CONSUMER_NAME {
        let rule = if name.trim().is_empty() {
            Rule::Required
        } else {
            Rule::TooLong
        };
        return Err(Error::Validation(ValidationError::new(
            "consumer", rule, name,
        )));
    }
    Ok(())
}
