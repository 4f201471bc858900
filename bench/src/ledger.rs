//! # Loyalty ledger: points postings in autocrm, raw redb and SQLite
//!
//! After the CRM sections, each size runs a points ledger in three fresh files in the same
//! process: as many club members as the size has customers, all in the brand club, with
//! `LoyaltyConfig::default()` (lots live 730 days). The workload is a fixed-seed sequence of
//! brand-wallet postings, three credits to one redemption:
//!
//! - a **credit** is an operator's positive adjustment (`WriteTxn::adjust`) of 100–2,000
//!   points to a random member: a posting, its idempotency key, the customer index, the
//!   balance, a lot and the lot's two queue entries (spending order and expiry order);
//! - a **redemption** (`WriteTxn::redeem`) of 100–3,000 points, capped at the balance, by a
//!   member who has points: it draws the earliest-expiring lots, updates them, unqueues the
//!   ones it empties, and writes the posting, its key, the customer index, the redemptions-by-
//!   day index and the balance.
//!
//! Idempotency keys are random-looking (`pos-` and 16 hex digits), as a point-of-sale system's
//! request ids would be, so every store inserts them in random order.
//!
//! The three ledgers:
//!
//! 1. **autocrm** through its public API, durable commits: every call validates its request,
//!    looks its key up for idempotency, checks the customer exists and that the wallet covers
//!    a redemption, and assigns the posting id from its persisted counter.
//! 2. **raw redb**, `redb::Database::create` with defaults (durable commits): the loyalty
//!    tables of `core/src/store/tables.rs` copied below (same names, key and value types) and
//!    the same `autocrm::codec::encode`d postings, lots and balances, written with the minimal
//!    reads and writes a hand-written ledger needs: no key lookup, no customer check, no
//!    validation, no coverage check (the workload only redeems what a member has), posting ids
//!    from a local counter, tables opened once per transaction.
//! 3. **SQLite** with the settings of the CRM section (WAL, `synchronous=FULL`, 1 GiB cache,
//!    cached prepared statements) and the relational equivalent: postings with a `UNIQUE`
//!    idempotency key, an index on `(customer, id)` and a partial index of redemptions by day;
//!    balances keyed by `(customer, wallet)` and updated with an upsert; lots as columns, with
//!    partial indexes on `(customer, wallet, expires, id)` and `(expires, id)` over the lots
//!    with points left. A redemption selects the wallet's lots ordered by expiry and updates
//!    the ones it draws. Postings keep the same codec envelope in a `payload` column.
//!
//! Two measurements, the stores taking turns (rotating which goes first) as in the CRM
//! sections:
//!
//! - **batched postings**: 100,000 postings (10,000 with `--quick`), 1,000 per durable
//!   transaction, summed over every batch. Reported as postings/s.
//! - **durable single posting**: the next 1,000 postings (100 with `--quick`), each in its own
//!   durable transaction (fsynced commit), after a few untimed ones. Reported as median and p99
//!   latency; the ratios compare the summed latencies.
//!
//! All three receive the same requests in the same order and assign the same posting ids
//! (autocrm's are asserted). Afterwards the run fails unless all three hold the same balances,
//! the same live lots with the same points left and the same posting records byte for byte,
//! and unless autocrm's `verify_ledger` finds the ledger sound: the stores did the same work.
//!
//! The goals printed with the ratios: a durable single posting within 1.2× of a raw redb
//! durable commit (time ratio autocrm / raw redb ≤ 1.2), and autocrm faster than SQLite
//! (throughput ratio > 1) in both measurements.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use autocrm::codec::{decode, encode};
use autocrm::{
    Adjustment, Balance, Cause, Customer, CustomerId, Database, Date, DateTime, Lot, LoyaltyConfig,
    Posting, PostingKind, Redemption, Wallet,
};
use redb::{ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::report::{rate, thousands};
use crate::runner::{rotation, timed, Config};
use crate::workload::Rng;
use crate::BenchResult;

// Copies of the loyalty tables of core/src/store/tables.rs.

/// posting id → posting record.
const POSTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("postings");
/// idempotency key → posting id.
const POSTING_KEYS: TableDefinition<&str, u64> = TableDefinition::new("posting_keys");
/// (customer id, posting id) → ().
const CUSTOMER_POSTINGS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("customer_postings");
/// (customer id, wallet code) → balance record.
const BALANCES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("balances");
/// lot id → lot record.
const LOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("lots");
/// (customer id, wallet code, expiry day, lot id) → ().
const LOT_QUEUE: TableDefinition<(u64, u64, i32, u64), ()> = TableDefinition::new("lot_queue");
/// (expiry day, lot id) → ().
const LOT_EXPIRY: TableDefinition<(i32, u64), ()> = TableDefinition::new("lot_expiry");
/// (day, posting id) → (): redemptions by day.
const REDEMPTIONS: TableDefinition<(i32, u64), ()> = TableDefinition::new("redemptions");

/// The brand wallet's code in keys (autocrm's `Wallet::code`); the workload uses no other.
const BRAND: u64 = 0;

/// Who makes the credits, and why.
const OPERATOR: &str = "bench-operator";
const REASON: &str = "goodwill credit";
/// What the redemptions are for.
const ITEM: &str = "service voucher";

/// How much ledger work one size runs.
#[derive(Clone, Copy, Debug)]
pub struct LedgerConfig {
    /// Postings of the batched measurement.
    pub postings: usize,
    /// Postings per batched transaction.
    pub batch: usize,
    /// Timed single durable postings per store.
    pub singles: usize,
    /// Untimed single postings per store before the timed ones.
    pub warm_singles: usize,
}

impl LedgerConfig {
    /// The ledger work that goes with the CRM configuration (smaller with `--quick`).
    pub fn of(config: &Config) -> LedgerConfig {
        if config.quick {
            LedgerConfig {
                postings: 10_000,
                batch: 1_000,
                singles: 100,
                warm_singles: 5,
            }
        } else {
            LedgerConfig {
                postings: 100_000,
                batch: 1_000,
                singles: 1_000,
                warm_singles: 20,
            }
        }
    }
}

/// One posting request, as autocrm receives it; raw redb and SQLite read the same fields.
#[derive(Clone, Debug)]
enum Op {
    /// A positive adjustment: a new lot.
    Credit(Adjustment),
    /// A redemption: draws lots.
    Redeem(Redemption),
}

/// The fixed-seed sequence of requests; request `i` makes posting `i + 1` in every store.
struct Workload {
    ops: Vec<Op>,
    credits: u64,
    redemptions: u64,
    /// Lots the redemptions of the batched part draw from (a lot drawn twice counts twice).
    draws: u64,
}

/// A bijective scramble of `n` (SplitMix64's finaliser): unique, random-looking keys.
fn scramble(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// When the first request is made; each next one a minute later (100,000 requests span 70
/// days, well inside the lots' 730-day life, so no lot expires during the run).
fn start() -> DateTime {
    Date::from_ymd(2025, 1, 6)
        .expect("a valid date")
        .at(9, 0, 0)
}

impl Workload {
    /// `count` requests over `members` members; the first `batched` of them are counted as the
    /// batched part. Tracks every member's lots to redeem only what a member has, earliest
    /// lot first, as the stores will.
    fn generate(members: u64, count: usize, batched: usize, seed: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let mut lots: Vec<VecDeque<i64>> = vec![VecDeque::new(); members as usize + 1];
        let mut balance = vec![0i64; members as usize + 1];
        let mut total = 0i64;
        let mut w = Workload {
            ops: Vec::with_capacity(count),
            credits: 0,
            redemptions: 0,
            draws: 0,
        };
        for i in 0..count {
            let id = i as u64 + 1;
            let at = DateTime::from_seconds(start().seconds() + 60 * i as i64);
            let key = format!("pos-{:016x}", scramble(id));
            if i % 4 == 3 && total > 0 {
                // A member with points, found from a random start.
                let mut c = 1 + rng.below(members);
                while balance[c as usize] == 0 {
                    c = c % members + 1;
                }
                let points = (100 + rng.below(2_901) as i64).min(balance[c as usize]);
                let queue = &mut lots[c as usize];
                let mut left = points;
                while left > 0 {
                    let front = queue
                        .front_mut()
                        .expect("the balance covers the redemption");
                    let n = (*front).min(left);
                    *front -= n;
                    left -= n;
                    if *front == 0 {
                        queue.pop_front();
                    }
                    if i < batched {
                        w.draws += 1;
                    }
                }
                balance[c as usize] -= points;
                total -= points;
                w.redemptions += u64::from(i < batched);
                w.ops.push(Op::Redeem(Redemption {
                    customer: CustomerId(c),
                    wallet: Wallet::Brand,
                    points,
                    at,
                    dealer: None,
                    item: ITEM.into(),
                    key,
                }));
            } else {
                let c = 1 + rng.below(members);
                let points = 100 + rng.below(1_901) as i64;
                lots[c as usize].push_back(points);
                balance[c as usize] += points;
                total += points;
                w.credits += u64::from(i < batched);
                w.ops.push(Op::Credit(Adjustment {
                    customer: CustomerId(c),
                    wallet: Wallet::Brand,
                    points,
                    at,
                    operator: OPERATOR.into(),
                    reason: REASON.into(),
                    key,
                }));
            }
        }
        w
    }
}

/// The posting a credit makes, as autocrm records it.
fn credit_posting(a: &Adjustment, lot_days: u32) -> Posting {
    Posting {
        customer: a.customer,
        wallet: a.wallet,
        kind: PostingKind::Adjust,
        points: a.points,
        at: a.at,
        key: a.key.clone(),
        cause: Cause::Operator {
            operator: a.operator.clone(),
            reason: a.reason.clone(),
        },
        dealer: None,
        expires: Some(a.at.date().add_days(lot_days as i32)),
        draws: Vec::new(),
        shortfall: 0,
    }
}

/// The posting a redemption makes, as autocrm records it, with the lots it drew.
fn redemption_posting(r: &Redemption, draws: Vec<(u64, i64)>) -> Posting {
    Posting {
        customer: r.customer,
        wallet: r.wallet,
        kind: PostingKind::Redeem,
        points: -r.points,
        at: r.at,
        key: r.key.clone(),
        cause: Cause::Redemption {
            item: r.item.clone(),
        },
        dealer: r.dealer,
        expires: None,
        draws,
        shortfall: 0,
    }
}

/// The lot a credit makes.
fn new_lot(p: &Posting, expires: Date) -> Lot {
    Lot {
        customer: p.customer,
        wallet: p.wallet,
        issuer: p.dealer,
        earned: p.at,
        expires,
        points: p.points,
        remaining: p.points,
        spent: 0,
        expired: 0,
        reversed: 0,
        reversal: None,
    }
}

/// What a ledger holds at the end, to prove the three did the same work. Sums of mixed
/// values, so the order of reading does not matter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LedgerDigest {
    /// Wallets with a balance row.
    wallets: u64,
    /// Sum of every balance.
    points: i64,
    /// Over (customer, wallet, points, owed) of every balance.
    balances: u64,
    /// Lots with points left.
    live_lots: u64,
    /// Over (lot id, points left) of every live lot.
    lots: u64,
    /// Postings.
    postings: u64,
    /// Over (posting id, encoded record) of every posting.
    records: u64,
}

/// Mixes values into one well-spread number.
fn mix(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5157_4e44_4947_4553u64, |h, &p| scramble(h ^ p))
}

/// FNV-1a of a record's bytes.
fn bytes_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl LedgerDigest {
    fn balance(&mut self, customer: u64, wallet: u64, b: Balance) {
        self.wallets += 1;
        self.points += b.points;
        self.balances =
            self.balances
                .wrapping_add(mix(&[customer, wallet, b.points as u64, b.owed as u64]));
    }

    fn lot(&mut self, id: u64, remaining: i64) {
        self.live_lots += 1;
        self.lots = self.lots.wrapping_add(mix(&[id, remaining as u64]));
    }

    fn posting(&mut self, id: u64, record: &[u8]) {
        self.postings += 1;
        self.records = self.records.wrapping_add(mix(&[id, bytes_hash(record)]));
    }
}

/// One ledger under test.
trait Ledger {
    /// Short name for the tables.
    fn name(&self) -> &'static str;

    /// Makes `ops` in one durable transaction; `ops[i]` makes posting `first + i`.
    fn post(&mut self, first: u64, ops: &[Op]) -> BenchResult<()>;

    /// What the ledger holds (untimed).
    fn digest(&self) -> BenchResult<LedgerDigest>;
}

/// autocrm through its public API, durable commits (the default).
struct AutocrmLedger {
    db: Database,
    members: u64,
}

impl AutocrmLedger {
    /// Creates the file with `members` customers in the brand club and the default club
    /// configuration (untimed).
    fn create(path: &Path, members: u64) -> BenchResult<AutocrmLedger> {
        let db = Database::options().durable(true).open(path)?;
        let joined = Date::from_ymd(2024, 1, 1).expect("a valid date");
        let mut next = 1u64;
        while next <= members {
            let n = (members - next + 1).min(1_000);
            let customers: Vec<Customer> = (next..next + n)
                .map(|i| Customer::person(format!("Member {i}")))
                .collect();
            let mut tx = db.begin_write()?;
            if next == 1 {
                tx.set_loyalty_config(&LoyaltyConfig::default())?;
            }
            for (id, want) in tx.insert_customers(&customers)?.into_iter().zip(next..) {
                expect_id("customer", id.0, want)?;
                tx.join_brand_club(id, joined, "owner_app")?;
            }
            tx.commit()?;
            next += n;
        }
        Ok(AutocrmLedger { db, members })
    }
}

/// Fails if autocrm assigned another id than the one raw redb and SQLite use.
fn expect_id(what: &str, got: u64, want: u64) -> BenchResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("autocrm assigned {what} id {got}, the workload expected {want}").into())
    }
}

impl Ledger for AutocrmLedger {
    fn name(&self) -> &'static str {
        "autocrm"
    }

    fn post(&mut self, first: u64, ops: &[Op]) -> BenchResult<()> {
        let mut tx = self.db.begin_write()?;
        for (want, op) in (first..).zip(ops) {
            let got = match op {
                Op::Credit(a) => tx.adjust(a)?,
                Op::Redeem(r) => tx.redeem(r)?,
            };
            expect_id("posting", got, want)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn digest(&self) -> BenchResult<LedgerDigest> {
        let r = self.db.begin_read()?;
        let check = r.verify_ledger()?;
        if !check.problems.is_empty() {
            return Err(
                format!("autocrm's ledger is unsound: {}", check.problems.join("; ")).into(),
            );
        }
        let mut d = LedgerDigest::default();
        for c in 1..=self.members {
            for (wallet, b) in r.wallets_of(CustomerId(c))? {
                if wallet != Wallet::Brand {
                    return Err(format!("autocrm: customer {c} has a {wallet}").into());
                }
                d.balance(c, BRAND, b);
            }
            for (id, lot) in r.lots_of(CustomerId(c), Wallet::Brand)? {
                d.lot(id, lot.remaining);
            }
        }
        for id in 1..=check.postings {
            d.posting(id, &encode(&r.posting(id)?));
        }
        Ok(d)
    }
}

/// The loyalty tables, opened once per transaction.
struct RawTables<'txn> {
    postings: Table<'txn, u64, &'static [u8]>,
    keys: Table<'txn, &'static str, u64>,
    customer_postings: Table<'txn, (u64, u64), ()>,
    balances: Table<'txn, (u64, u64), &'static [u8]>,
    lots: Table<'txn, u64, &'static [u8]>,
    queue: Table<'txn, (u64, u64, i32, u64), ()>,
    expiry: Table<'txn, (i32, u64), ()>,
    redemptions: Table<'txn, (i32, u64), ()>,
}

impl<'txn> RawTables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::TableError> {
        Ok(RawTables {
            postings: txn.open_table(POSTINGS)?,
            keys: txn.open_table(POSTING_KEYS)?,
            customer_postings: txn.open_table(CUSTOMER_POSTINGS)?,
            balances: txn.open_table(BALANCES)?,
            lots: txn.open_table(LOTS)?,
            queue: txn.open_table(LOT_QUEUE)?,
            expiry: txn.open_table(LOT_EXPIRY)?,
            redemptions: txn.open_table(REDEMPTIONS)?,
        })
    }

    /// Writes the posting with its key and customer index and adds it to the balance.
    fn append(&mut self, id: u64, p: &Posting) -> BenchResult<()> {
        self.postings.insert(id, encode(p).as_slice())?;
        self.keys.insert(p.key.as_str(), id)?;
        self.customer_postings.insert((p.customer.0, id), ())?;
        let key = (p.customer.0, BRAND);
        let mut b: Balance = match self.balances.get(key)? {
            Some(v) => decode(v.value())?,
            None => Balance::default(),
        };
        b.points += p.points;
        self.balances.insert(key, encode(&b).as_slice())?;
        Ok(())
    }

    fn credit(&mut self, id: u64, a: &Adjustment, lot_days: u32) -> BenchResult<()> {
        let p = credit_posting(a, lot_days);
        let expires = p.expires.expect("credits expire");
        self.append(id, &p)?;
        let lot = new_lot(&p, expires);
        self.lots.insert(id, encode(&lot).as_slice())?;
        self.queue
            .insert((p.customer.0, BRAND, expires.days(), id), ())?;
        self.expiry.insert((expires.days(), id), ())?;
        Ok(())
    }

    fn redeem(&mut self, id: u64, r: &Redemption) -> BenchResult<()> {
        let c = r.customer.0;
        let after = r.at.date().days() + 1;
        // The lots drawn, earliest expiry first, read before any is written back.
        let mut drawn: Vec<(u64, i32, Lot, i64)> = Vec::new();
        let mut left = r.points;
        for e in self
            .queue
            .range((c, BRAND, after, 0)..=(c, BRAND, i32::MAX, u64::MAX))?
        {
            if left == 0 {
                break;
            }
            let (_, _, expires, lot_id) = e?.0.value();
            let mut lot: Lot = decode(
                self.lots
                    .get(lot_id)?
                    .ok_or_else(|| format!("raw redb: lot {lot_id} missing"))?
                    .value(),
            )?;
            let n = lot.remaining.min(left);
            lot.remaining -= n;
            lot.spent += n;
            left -= n;
            drawn.push((lot_id, expires, lot, n));
        }
        let mut draws = Vec::with_capacity(drawn.len());
        for (lot_id, expires, lot, n) in drawn {
            self.lots.insert(lot_id, encode(&lot).as_slice())?;
            if lot.remaining == 0 {
                self.queue.remove((c, BRAND, expires, lot_id))?;
                self.expiry.remove((expires, lot_id))?;
            }
            draws.push((lot_id, n));
        }
        let p = redemption_posting(r, draws);
        self.append(id, &p)?;
        self.redemptions.insert((r.at.date().days(), id), ())?;
        Ok(())
    }
}

/// A redb file with the loyalty tables, written directly.
struct RawLedger {
    db: redb::Database,
    lot_days: u32,
}

impl RawLedger {
    /// Creates the file with redb's defaults (1 GiB cache, durable commits) and the tables.
    fn create(path: &Path) -> BenchResult<RawLedger> {
        let db = redb::Database::create(path)?;
        let txn = db.begin_write()?;
        drop(RawTables::open(&txn)?);
        txn.commit()?;
        Ok(RawLedger {
            db,
            lot_days: LoyaltyConfig::default().lot_days,
        })
    }
}

impl Ledger for RawLedger {
    fn name(&self) -> &'static str {
        "raw redb"
    }

    fn post(&mut self, first: u64, ops: &[Op]) -> BenchResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut t = RawTables::open(&txn)?;
            for (id, op) in (first..).zip(ops) {
                match op {
                    Op::Credit(a) => t.credit(id, a, self.lot_days)?,
                    Op::Redeem(r) => t.redeem(id, r)?,
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn digest(&self) -> BenchResult<LedgerDigest> {
        let r = self.db.begin_read()?;
        let mut d = LedgerDigest::default();
        for e in r.open_table(BALANCES)?.iter()? {
            let (k, v) = e?;
            let (c, w) = k.value();
            d.balance(c, w, decode(v.value())?);
        }
        for e in r.open_table(LOTS)?.iter()? {
            let (k, v) = e?;
            let lot: Lot = decode(v.value())?;
            if lot.remaining > 0 {
                d.lot(k.value(), lot.remaining);
            }
        }
        for e in r.open_table(POSTINGS)?.iter()? {
            let (k, v) = e?;
            d.posting(k.value(), v.value());
        }
        Ok(d)
    }
}

/// The ledger in relational form.
const SQLITE_SCHEMA: &str = "
CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    wallet INTEGER NOT NULL,            -- 0 brand, dealer id + 1
    kind INTEGER NOT NULL,              -- 1 adjustment, 2 redemption
    points INTEGER NOT NULL,
    at INTEGER NOT NULL,                -- seconds since 1970-01-01, local time
    day INTEGER NOT NULL,               -- days since 1970-01-01
    key TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL
);
CREATE INDEX postings_customer ON postings (customer_id, id);
CREATE INDEX postings_redemptions ON postings (day) WHERE kind = 2;
CREATE TABLE balances (
    customer_id INTEGER NOT NULL,
    wallet INTEGER NOT NULL,
    points INTEGER NOT NULL,
    owed INTEGER NOT NULL,
    PRIMARY KEY (customer_id, wallet)
) WITHOUT ROWID;
CREATE TABLE lots (
    id INTEGER PRIMARY KEY,             -- the crediting posting's id
    customer_id INTEGER NOT NULL,
    wallet INTEGER NOT NULL,
    issuer INTEGER,
    earned INTEGER NOT NULL,
    expires INTEGER NOT NULL,           -- days since 1970-01-01
    points INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    spent INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    reversed INTEGER NOT NULL,
    reversal INTEGER
);
CREATE INDEX lots_queue ON lots (customer_id, wallet, expires, id) WHERE remaining > 0;
CREATE INDEX lots_expiry ON lots (expires, id) WHERE remaining > 0;
";

const INSERT_POSTING: &str = "INSERT INTO postings (id, customer_id, wallet, kind, points, at, \
    day, key, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const UPSERT_BALANCE: &str = "INSERT INTO balances (customer_id, wallet, points, owed) \
    VALUES (?1, ?2, ?3, 0) ON CONFLICT (customer_id, wallet) \
    DO UPDATE SET points = points + excluded.points";
const INSERT_LOT: &str = "INSERT INTO lots (id, customer_id, wallet, issuer, earned, expires, \
    points, remaining, spent, expired, reversed, reversal) \
    VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?6, 0, 0, 0, NULL)";
const SPENDABLE_LOTS: &str = "SELECT id, remaining FROM lots \
    WHERE customer_id = ?1 AND wallet = ?2 AND remaining > 0 AND expires > ?3 \
    ORDER BY expires, id";
const DRAW_LOT: &str =
    "UPDATE lots SET remaining = remaining - ?2, spent = spent + ?2 WHERE id = ?1";

/// SQLite's code of a posting kind.
fn kind_code(kind: PostingKind) -> i64 {
    match kind {
        PostingKind::Redeem => 2,
        _ => 1,
    }
}

/// A SQLite file in WAL mode with durable commits.
struct SqliteLedger {
    conn: Connection,
    lot_days: u32,
}

impl SqliteLedger {
    /// Creates the file with the CRM section's settings and the ledger schema.
    fn create(path: &Path) -> BenchResult<SqliteLedger> {
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("SQLite refused WAL mode (got {mode})").into());
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -1_048_576i64)?; // KiB: 1 GiB
        conn.set_prepared_statement_cache_capacity(16);
        conn.execute_batch(SQLITE_SCHEMA)?;
        Ok(SqliteLedger {
            conn,
            lot_days: LoyaltyConfig::default().lot_days,
        })
    }
}

/// Writes the posting and adds it to the balance.
fn sqlite_append(tx: &rusqlite::Transaction<'_>, id: u64, p: &Posting) -> BenchResult<()> {
    tx.prepare_cached(INSERT_POSTING)?.execute(params![
        id as i64,
        p.customer.0 as i64,
        BRAND as i64,
        kind_code(p.kind),
        p.points,
        p.at.seconds(),
        p.at.date().days(),
        p.key,
        encode(p),
    ])?;
    tx.prepare_cached(UPSERT_BALANCE)?.execute(params![
        p.customer.0 as i64,
        BRAND as i64,
        p.points
    ])?;
    Ok(())
}

impl Ledger for SqliteLedger {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn post(&mut self, first: u64, ops: &[Op]) -> BenchResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (id, op) in (first..).zip(ops) {
            match op {
                Op::Credit(a) => {
                    let p = credit_posting(a, self.lot_days);
                    let expires = p.expires.expect("credits expire");
                    sqlite_append(&tx, id, &p)?;
                    tx.prepare_cached(INSERT_LOT)?.execute(params![
                        id as i64,
                        p.customer.0 as i64,
                        BRAND as i64,
                        p.at.seconds(),
                        expires.days(),
                        p.points,
                    ])?;
                }
                Op::Redeem(r) => {
                    let mut draws = Vec::new();
                    {
                        let mut select = tx.prepare_cached(SPENDABLE_LOTS)?;
                        let mut rows = select.query(params![
                            r.customer.0 as i64,
                            BRAND as i64,
                            r.at.date().days()
                        ])?;
                        let mut left = r.points;
                        while left > 0 {
                            let Some(row) = rows.next()? else { break };
                            let (lot, remaining): (i64, i64) = (row.get(0)?, row.get(1)?);
                            let n = remaining.min(left);
                            draws.push((lot as u64, n));
                            left -= n;
                        }
                    }
                    let mut draw = tx.prepare_cached(DRAW_LOT)?;
                    for &(lot, n) in &draws {
                        draw.execute(params![lot as i64, n])?;
                    }
                    drop(draw);
                    sqlite_append(&tx, id, &redemption_posting(r, draws))?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn digest(&self) -> BenchResult<LedgerDigest> {
        let mut d = LedgerDigest::default();
        let mut stmt = self
            .conn
            .prepare("SELECT customer_id, wallet, points, owed FROM balances")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (c, w): (i64, i64) = (row.get(0)?, row.get(1)?);
            let b = Balance {
                points: row.get(2)?,
                owed: row.get(3)?,
            };
            d.balance(c as u64, w as u64, b);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, remaining FROM lots WHERE remaining > 0")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            d.lot(id as u64, row.get(1)?);
        }
        let mut stmt = self.conn.prepare("SELECT id, payload FROM postings")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            d.posting(id as u64, row.get_ref(1)?.as_blob()?);
        }
        // Every key made it in, once.
        let keys: Option<i64> = self
            .conn
            .query_row("SELECT COUNT(DISTINCT key) FROM postings", [], |r| r.get(0))
            .optional()?;
        if keys != Some(d.postings as i64) {
            return Err(format!("SQLite: {keys:?} keys for {} postings", d.postings).into());
        }
        Ok(d)
    }
}

/// What one store measured.
#[derive(Clone, Debug, Default)]
pub struct LedgerFigures {
    /// The store's name.
    pub name: &'static str,
    /// Time spent in the batched transactions, commits included.
    pub batched: Duration,
    /// Latency of each timed single durable posting.
    pub singles: Vec<Duration>,
}

impl LedgerFigures {
    fn singles_total(&self) -> Duration {
        self.singles.iter().sum()
    }

    /// The `q` quantile (0..=1) of the single-posting latencies.
    fn single_quantile(&self, q: f64) -> Duration {
        crate::report::quantile(&self.singles, q)
    }
}

/// Everything the ledger section measured at one size.
#[derive(Clone, Debug)]
pub struct LedgerResult {
    /// Club members.
    pub members: u64,
    /// The work done.
    pub config: LedgerConfig,
    /// Credits among the batched postings.
    pub credits: u64,
    /// Redemptions among the batched postings.
    pub redemptions: u64,
    /// Lot draws of those redemptions.
    pub draws: u64,
    /// Per store: autocrm, SQLite, raw redb (the indexes of [`crate::report`]).
    pub stores: [LedgerFigures; 3],
    /// Concurrent durable single postings: (autocrm, SQLite) wall time for
    /// [`CONCURRENT_THREADS`] × `concurrent_each` postings.
    pub concurrent: (Duration, Duration),
    /// Postings each thread made in the concurrent measurement.
    pub concurrent_each: usize,
}

/// Threads of the concurrent measurement, each committing its own postings.
pub const CONCURRENT_THREADS: usize = 8;

/// Credits for the concurrent measurement: thread `t`'s `n`th, to a member spread over all.
fn concurrent_credit(members: u64, t: usize, n: usize) -> Adjustment {
    let i = (t * 1_000_003 + n * 7_919) as u64;
    Adjustment {
        customer: CustomerId(1 + scramble(i) % members),
        wallet: Wallet::Brand,
        points: 100 + (i % 1_901) as i64,
        at: DateTime::from_seconds(start().seconds() + 86_400 * 365),
        operator: OPERATOR.into(),
        reason: REASON.into(),
        key: format!("conc-{t}-{n}"),
    }
}

/// `CONCURRENT_THREADS` threads, each committing `each` durable credits one per transaction,
/// into autocrm (one shared handle: group commit lets queued writers share an fsync) and into
/// SQLite (one connection per thread, WAL, `synchronous=FULL`, waiting on the lock): the wall
/// time of each.
fn concurrent(
    autocrm: &Database,
    sqlite_path: &Path,
    members: u64,
    each: usize,
) -> BenchResult<(Duration, Duration)> {
    let lot_days = LoyaltyConfig::default().lot_days;
    let started = std::time::Instant::now();
    std::thread::scope(|s| -> BenchResult<()> {
        let handles: Vec<_> = (0..CONCURRENT_THREADS)
            .map(|t| {
                let db = autocrm.clone();
                s.spawn(move || -> Result<(), autocrm::Error> {
                    for n in 0..each {
                        db.write(|w| w.adjust(&concurrent_credit(members, t, n)))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "an autocrm thread panicked")??;
        }
        Ok(())
    })?;
    let autocrm_time = started.elapsed();
    let next_id = std::sync::atomic::AtomicU64::new(10_000_000);
    let started = std::time::Instant::now();
    std::thread::scope(|s| -> BenchResult<()> {
        let handles: Vec<_> = (0..CONCURRENT_THREADS)
            .map(|t| {
                let next_id = &next_id;
                s.spawn(move || -> Result<(), rusqlite::Error> {
                    let mut conn = Connection::open(sqlite_path)?;
                    conn.pragma_update(None, "synchronous", "FULL")?;
                    conn.busy_timeout(Duration::from_secs(60))?;
                    for n in 0..each {
                        let a = concurrent_credit(members, t, n);
                        let p = credit_posting(&a, lot_days);
                        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tx.prepare_cached(INSERT_POSTING)?.execute(params![
                            id as i64,
                            p.customer.0 as i64,
                            BRAND as i64,
                            kind_code(p.kind),
                            p.points,
                            p.at.seconds(),
                            p.at.date().days(),
                            p.key,
                            encode(&p),
                        ])?;
                        tx.prepare_cached(UPSERT_BALANCE)?.execute(params![
                            p.customer.0 as i64,
                            BRAND as i64,
                            p.points
                        ])?;
                        tx.prepare_cached(INSERT_LOT)?.execute(params![
                            id as i64,
                            p.customer.0 as i64,
                            BRAND as i64,
                            p.at.seconds(),
                            p.expires.expect("credits expire").days(),
                            p.points,
                        ])?;
                        tx.commit()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a SQLite thread panicked")??;
        }
        Ok(())
    })?;
    Ok((autocrm_time, started.elapsed()))
}

/// Runs the ledger section for a size of `members` customers with files in `dir`.
pub fn run_size(config: &Config, members: usize, dir: &Path) -> BenchResult<LedgerResult> {
    let lc = LedgerConfig::of(config);
    let members = members as u64;
    let dir: PathBuf = dir.join("ledger");
    std::fs::create_dir_all(&dir)?;
    eprintln!("  ledger: {members} members");
    let total = lc.postings + lc.warm_singles + lc.singles;
    let work = Workload::generate(members, total, lc.postings, 6);
    let mut stores: Vec<Box<dyn Ledger>> = vec![
        Box::new(AutocrmLedger::create(&dir.join("autocrm.redb"), members)?),
        Box::new(SqliteLedger::create(&dir.join("sqlite.db"))?),
        Box::new(RawLedger::create(&dir.join("raw.redb"))?),
    ];
    let mut figures: [LedgerFigures; 3] = Default::default();
    for (f, s) in figures.iter_mut().zip(&stores) {
        f.name = s.name();
    }

    let (batched, singles) = work.ops.split_at(lc.postings);
    for (i, chunk) in batched.chunks(lc.batch.max(1)).enumerate() {
        let first = (i * lc.batch) as u64 + 1;
        for k in rotation(i) {
            figures[k].batched += timed(|| stores[k].post(first, chunk))?.1;
        }
    }
    eprintln!("  ledger: batched postings done");

    for (i, op) in singles.iter().enumerate() {
        let id = (lc.postings + i) as u64 + 1;
        let one = std::slice::from_ref(op);
        for k in rotation(i) {
            let t = timed(|| stores[k].post(id, one))?.1;
            if i >= lc.warm_singles {
                figures[k].singles.push(t);
            }
        }
    }
    eprintln!("  ledger: single postings done");

    let digests = stores
        .iter()
        .map(|s| s.digest())
        .collect::<BenchResult<Vec<_>>>()?;
    for (s, d) in stores.iter().zip(&digests).skip(1) {
        if *d != digests[0] {
            return Err(format!(
                "ledgers differ: {} holds {:?}, {} holds {d:?}",
                stores[0].name(),
                digests[0],
                s.name()
            )
            .into());
        }
    }
    if digests[0].postings != total as u64 {
        return Err(format!(
            "the ledgers hold {} postings, {total} were made",
            digests[0].postings
        )
        .into());
    }
    drop(stores);
    let each = lc.singles / 4;
    eprintln!("  ledger: {CONCURRENT_THREADS} threads × {each} concurrent durable postings");
    let autocrm = Database::options()
        .durable(true)
        .open(dir.join("autocrm.redb"))?;
    let concurrent = concurrent(&autocrm, &dir.join("sqlite.db"), members, each)?;
    let made = autocrm.begin_read()?.verify_ledger()?;
    if !made.problems.is_empty() || made.postings != (total + CONCURRENT_THREADS * each) as u64 {
        return Err(format!("after the concurrent postings: {made:?}").into());
    }
    drop(autocrm);
    std::fs::remove_dir_all(&dir)?;
    Ok(LedgerResult {
        concurrent,
        concurrent_each: each,
        members,
        config: lc,
        credits: work.credits,
        redemptions: work.redemptions,
        draws: work.draws,
        stores: figures,
    })
}

/// The goal of a ratio, met or missed.
fn goal(met: bool, text: &str) -> String {
    if met {
        format!("{text}: met")
    } else {
        format!("{text}: **missed**")
    }
}

/// The "### Loyalty ledger" section: what was run, the ratio table, the absolute numbers.
pub fn report(results: &[LedgerResult]) -> String {
    use crate::report::{AUTOCRM, RAW, SQLITE};
    let mut out = String::from("\n### Loyalty ledger\n\n");
    for r in results {
        let c = &r.config;
        let _ = writeln!(
            out,
            "- {} members in the brand club (`LoyaltyConfig::default()`): {} batched postings, \
             {} per durable transaction ({} credits, {} redemptions drawing {} lots); then {} \
             single postings per store, each its own durable transaction (after {} untimed). \
             All three stores ended with the same balances, live lots and posting records.",
            thousands(r.members),
            thousands(c.postings as u64),
            thousands(c.batch as u64),
            thousands(r.credits),
            thousands(r.redemptions),
            thousands(r.draws),
            thousands(c.singles as u64),
            c.warm_singles,
        );
    }
    out.push_str(
        "\n| operation | members | autocrm vs SQLite (throughput, >1 = autocrm faster) | goal \
         | autocrm / raw redb (time, overhead factor) | goal |\n\
         |---|---:|---:|---|---:|---|\n",
    );
    for r in results {
        let rows: [(String, [Duration; 3], bool); 2] = [
            (
                format!(
                    "batched postings ({}/txn, durable)",
                    thousands(r.config.batch as u64)
                ),
                r.stores.clone().map(|f| f.batched),
                false,
            ),
            (
                "durable single posting".into(),
                r.stores.clone().map(|f| f.singles_total()),
                true,
            ),
        ];
        let (a, q) = r.concurrent;
        let _ = writeln!(
            out,
            "| {CONCURRENT_THREADS} threads, each committing its own durable postings ({} each; \
             group commit) | {} | {:.2}× | {} | – | – |",
            r.concurrent_each,
            thousands(r.members),
            q.as_secs_f64() / a.as_secs_f64().max(1e-9),
            goal(q >= a, "≥ 1× (SQLite's throughput with the same threads)"),
        );
        for (name, times, raw_goal) in rows {
            let t = |i: usize| times[i].as_secs_f64().max(1e-9);
            let vs_sqlite = t(SQLITE) / t(AUTOCRM);
            let vs_raw = t(AUTOCRM) / t(RAW);
            let raw_cell = if raw_goal {
                goal(
                    vs_raw <= 1.2,
                    "≤ 1.2× (within 1.2× of a raw redb durable commit)",
                )
            } else {
                "–".into()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {vs_sqlite:.2}× | {} | {vs_raw:.2}× | {raw_cell} |",
                thousands(r.members),
                goal(vs_sqlite > 1.0, "> 1× (faster than SQLite)"),
            );
        }
    }
    let names = results
        .first()
        .map(|r| r.stores.clone().map(|s| s.name))
        .unwrap_or(["autocrm", "SQLite", "raw redb"]);
    let _ = writeln!(
        out,
        "\n| measure | members | {} | {} | {} |\n|---|---:|---:|---:|---:|",
        names[0], names[1], names[2]
    );
    for r in results {
        let n = thousands(r.members);
        let mut row = |label: &str, cell: &dyn Fn(&LedgerFigures) -> String| {
            let _ = writeln!(
                out,
                "| {label} | {n} | {} | {} | {} |",
                cell(&r.stores[0]),
                cell(&r.stores[1]),
                cell(&r.stores[2])
            );
        };
        let postings = r.config.postings as u64;
        row("batched postings, postings/s", &|f| {
            thousands(rate(postings, f.batched) as u64)
        });
        row("batched postings, total time", &|f| {
            format!("{:.2} s", f.batched.as_secs_f64())
        });
        row("durable single posting, postings/s", &|f| {
            thousands(rate(f.singles.len() as u64, f.singles_total()) as u64)
        });
        row("durable single posting, median latency", &|f| {
            format!("{:.2} ms", f.single_quantile(0.5).as_secs_f64() * 1e3)
        });
        row("durable single posting, p99 latency", &|f| {
            format!("{:.2} ms", f.single_quantile(0.99).as_secs_f64() * 1e3)
        });
        let made = (CONCURRENT_THREADS * r.concurrent_each) as u64;
        let _ = writeln!(
            out,
            "| {CONCURRENT_THREADS} threads' durable postings, postings/s | {n} | {} | {} | – |",
            thousands(rate(made, r.concurrent.0) as u64),
            thousands(rate(made, r.concurrent.1) as u64),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_redeems_only_what_members_have() {
        let w = Workload::generate(50, 2_000, 1_500, 1);
        assert_eq!(w.ops.len(), 2_000);
        assert_eq!(w.credits + w.redemptions, 1_500);
        assert!(w.redemptions > 300 && w.draws >= w.redemptions);
        let keys: std::collections::HashSet<&str> = w
            .ops
            .iter()
            .map(|op| match op {
                Op::Credit(a) => a.key.as_str(),
                Op::Redeem(r) => r.key.as_str(),
            })
            .collect();
        assert_eq!(keys.len(), 2_000, "idempotency keys are unique");
    }

    #[test]
    fn the_three_ledgers_agree() {
        let dir = std::env::temp_dir().join(format!("autocrm-ledger-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let w = Workload::generate(20, 400, 400, 2);
        let mut stores: Vec<Box<dyn Ledger>> = vec![
            Box::new(AutocrmLedger::create(&dir.join("a.redb"), 20).unwrap()),
            Box::new(SqliteLedger::create(&dir.join("s.db")).unwrap()),
            Box::new(RawLedger::create(&dir.join("r.redb")).unwrap()),
        ];
        for s in &mut stores {
            s.post(1, &w.ops[..300]).unwrap();
            for (i, op) in w.ops[300..].iter().enumerate() {
                s.post(301 + i as u64, std::slice::from_ref(op)).unwrap();
            }
        }
        let d: Vec<LedgerDigest> = stores.iter().map(|s| s.digest().unwrap()).collect();
        drop(stores);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(d[0], d[1]);
        assert_eq!(d[0], d[2]);
        assert_eq!(d[0].postings, 400);
    }
}
