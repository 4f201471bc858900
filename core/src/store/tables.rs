//! The key layout of the database file: every redb table, its key and value types, and why.
//!
//! Values called "record" are codec envelopes (`[model][version][bincode]`, see
//! [`crate::codec`]); keys are plain redb keys so range scans stay ordered without decoding.
//! Every index is written in the same transaction as its record.

use redb::{MultimapTableDefinition, TableDefinition};

/// Database-wide settings and counters: `"format"` → file format version (u16 LE),
/// `"next.<kind>"` → next id to assign (u64 LE).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// dealer id → record.
pub const DEALERS: TableDefinition<u32, &[u8]> = TableDefinition::new("dealers");
/// dealer code → dealer id (unique).
pub const DEALER_BY_CODE: TableDefinition<&str, u32> = TableDefinition::new("dealer_by_code");

/// customer id → record.
pub const CUSTOMERS: TableDefinition<u64, &[u8]> = TableDefinition::new("customers");
/// national ID → customer id (unique).
pub const CUSTOMER_BY_NATIONAL_ID: TableDefinition<&str, u64> =
    TableDefinition::new("customer_by_national_id");
/// unified social credit code → customer id (unique).
pub const CUSTOMER_BY_CREDIT_CODE: TableDefinition<&str, u64> =
    TableDefinition::new("customer_by_credit_code");
/// normalised mobile → customer ids (not unique: families share numbers).
pub const CUSTOMER_BY_PHONE: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("customer_by_phone");
/// customer id → rollup record, rewritten on every touchpoint or ownership change.
pub const ROLLUPS: TableDefinition<u64, &[u8]> = TableDefinition::new("rollups");
/// (from, relation kind, to) → (). Directed relations between customers.
pub const RELATIONS: TableDefinition<(u64, u8, u64), ()> = TableDefinition::new("relations");
/// (to, relation kind, from) → (). The same relations seen from the other end.
pub const RELATIONS_BACK: TableDefinition<(u64, u8, u64), ()> =
    TableDefinition::new("relations_back");

/// vehicle id → record.
pub const VEHICLES: TableDefinition<u64, &[u8]> = TableDefinition::new("vehicles");
/// VIN → vehicle id (unique).
pub const VEHICLE_BY_VIN: TableDefinition<&str, u64> = TableDefinition::new("vehicle_by_vin");
/// plate → vehicle id (unique).
pub const VEHICLE_BY_PLATE: TableDefinition<&str, u64> = TableDefinition::new("vehicle_by_plate");
/// vehicle id → ownership history record.
pub const OWNERSHIP: TableDefinition<u64, &[u8]> = TableDefinition::new("ownership");
/// customer id → ids of vehicles the customer owns or ever owned.
pub const CUSTOMER_VEHICLES: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_vehicles");

/// (customer id, at in seconds, touchpoint id) → record. One customer's timeline is one
/// contiguous key range: the 360° view reads it newest-first with a reverse range scan, and an
/// append lands next to the customer's previous touchpoints, so ingest cost depends on the
/// customer's own history, not on the table's 500 M rows.
pub const TOUCHPOINTS: TableDefinition<(u64, i64, u64), &[u8]> =
    TableDefinition::new("touchpoints");
/// touchpoint id → (customer id, at): locates a touchpoint by id.
pub const TOUCHPOINT_KEYS: TableDefinition<u64, (u64, i64)> =
    TableDefinition::new("touchpoint_keys");

/// `[model byte][source system]\0[source record id]` → id of the record written from it.
/// Makes at-least-once feeds idempotent. One flat byte key rather than a tuple: it compares
/// with a single memcmp, which makes this random-order index 40 % cheaper to probe and grow.
pub const SOURCE_RECORDS: TableDefinition<&[u8], u64> = TableDefinition::new("source_records");

/// lead id → record.
pub const LEADS: TableDefinition<u64, &[u8]> = TableDefinition::new("leads");
/// customer id → lead ids.
pub const CUSTOMER_LEADS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_leads");
/// complaint id → record.
pub const COMPLAINTS: TableDefinition<u64, &[u8]> = TableDefinition::new("complaints");
/// customer id → complaint ids.
pub const CUSTOMER_COMPLAINTS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_complaints");
/// survey id → record.
pub const SURVEYS: TableDefinition<u64, &[u8]> = TableDefinition::new("surveys");
/// customer id → survey ids.
pub const CUSTOMER_SURVEYS: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("customer_surveys");

/// `"roles"` → the HQ roles and their permissions ([`crate::access::Roles`]); absent until a
/// data administrator stores roles (the defaults apply).
pub const ACCESS: TableDefinition<&str, &[u8]> = TableDefinition::new("access");

/// customer id → club membership record (brand club and dealer clubs on one card).
pub const MEMBERS: TableDefinition<u64, &[u8]> = TableDefinition::new("members");
/// `"config"` → the club configuration record.
pub const LOYALTY: TableDefinition<&str, &[u8]> = TableDefinition::new("loyalty");
/// posting id → posting record. Append-only: postings are never changed or removed.
pub const POSTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("postings");
/// idempotency key → posting id (unique): a retried request finds its posting.
pub const POSTING_KEYS: TableDefinition<&str, u64> = TableDefinition::new("posting_keys");
/// (customer id, posting id) → (): a customer's postings in the order they were made.
pub const CUSTOMER_POSTINGS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("customer_postings");
/// (customer id, wallet code) → balance record. Wallet code 0 is the brand wallet, dealer
/// id + 1 a dealer's, so a customer's wallets are one key range.
pub const BALANCES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("balances");
/// lot id (the id of the posting that credited it) → lot record.
pub const LOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("lots");
/// (customer id, wallet code, expiry day, lot id) → (): a wallet's live lots in spending
/// order (earliest expiry first), so a debit reads only the lots it spends.
pub const LOT_QUEUE: TableDefinition<(u64, u64, i32, u64), ()> = TableDefinition::new("lot_queue");
/// (expiry day, lot id) → (): every live lot in expiry order, so an expiry run reads only what
/// is due.
pub const LOT_EXPIRY: TableDefinition<(i32, u64), ()> = TableDefinition::new("lot_expiry");
/// (day, posting id) → (): redemptions by day, for settlement statements.
pub const REDEMPTIONS: TableDefinition<(i32, u64), ()> = TableDefinition::new("redemptions");
/// customer id → tier record (recorded tier changes and operator floors).
pub const TIERS: TableDefinition<u64, &[u8]> = TableDefinition::new("tiers");

/// customer id → consent history record.
pub const CONSENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("consents");
/// segment name → saved segment record (every version of its definition).
pub const SEGMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("segments");
/// (segment name, as-of day) → materialised members (a serialized compact id set).
pub const SEGMENT_MEMBERS: TableDefinition<(&str, i32), &[u8]> =
    TableDefinition::new("segment_members");

/// `"registry"` → the source registry record (systems and their priority per field group).
/// Absent until a source is registered: the documented defaults apply meanwhile.
pub const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("sources");
/// (entity code, record id) → the lineage of every field of that customer or vehicle, in one
/// record: an upsert reads and writes it once, not once per field.
pub const LINEAGE: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("lineage");
/// conflict id → conflict record.
pub const CONFLICTS: TableDefinition<u64, &[u8]> = TableDefinition::new("conflicts");
/// (entity code, record id, conflict id) → (): the open conflicts, by the record they are about.
pub const OPEN_CONFLICTS: TableDefinition<(u8, u64, u64), ()> =
    TableDefinition::new("open_conflicts");
/// (entity code, record id, conflict id) → (): every conflict, open or resolved, by record, so
/// a replayed source record finds the conflict it already raised.
pub const CONFLICTS_BY_RECORD: TableDefinition<(u8, u64, u64), ()> =
    TableDefinition::new("conflicts_by_record");
/// (dealer id or 0 for the unassigned queue, entry id) → feedback entry record: one dealer's
/// queue is one contiguous range.
pub const FEEDBACK: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("feedback");
/// `[record kind]<system>\0<record id>` → (dealer or 0, entry id): finds the queued entry of a
/// source record, so a rejection again replaces it and a resubmission removes it.
pub const FEEDBACK_BY_SOURCE: TableDefinition<&[u8], (u32, u64)> =
    TableDefinition::new("feedback_by_source");
/// customer id ⇒ `feedback_by_source` keys of the source records queued as incomplete for that
/// customer: completing the customer (from any source) settles all of them, so the queue does
/// not depend on the order the records arrived in.
pub const INCOMPLETE_BY_CUSTOMER: MultimapTableDefinition<u64, &[u8]> =
    MultimapTableDefinition::new("incomplete_by_customer");
/// (dealer id or 0, reason code) → rejections ever made: the quality report's lifetime counts,
/// which stay after the rejected records are resubmitted.
pub const REJECTION_COUNTS: TableDefinition<(u32, &str), u64> =
    TableDefinition::new("rejection_counts");

/// merged customer id → the customer it stands for now. A merge re-points every id that led to
/// the merged customer (A merged into B, later B into C: A → C), so a lookup is one hop;
/// `resolve_customer` follows longer chains all the same.
pub const REDIRECTS: TableDefinition<u64, u64> = TableDefinition::new("redirects");
/// (survivor id, merged id) → merge record: who merged, when, what moved, and the merged
/// customer's full record. One survivor's merges are one contiguous range.
pub const MERGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("merges");

/// seq → audit entry record ([`crate::audit`]): who read, exported or wrote which customers,
/// under which scope. Seq starts at 1 and has no gaps; every entry carries the SHA-256 of its
/// predecessor, so the table is one hash chain and its last key is the head. Append-only.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// (customer id, seq) → (): a customer's audit entries in order, by range scan. Holds ids
/// only, like the entries, so erasing a customer leaves the trail as it is.
pub const AUDIT_BY_CUSTOMER: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("audit_by_customer");

/// customer id → erasure record ([`crate::erasure::Erasure`]): the erasure register. Holds no
/// personal value; a customer listed here refuses every update.
pub const ERASURES: TableDefinition<u64, &[u8]> = TableDefinition::new("erasures");

/// first change id → chunk of up to 256 consecutive changes of one commit ([`crate::feed`]):
/// which records it inserted, updated or deleted; a commit's first chunk also carries its time,
/// actor, scope and source. Ids are dense and increase in commit order, so a consumer's page is
/// one range scan and pruning removes a prefix.
pub const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
/// consumer name → id of the last change it acknowledged.
pub const FEED_CONSUMERS: TableDefinition<&str, u64> = TableDefinition::new("feed_consumers");
