//! The database handle, transactions, durability, the file format version and id counters.
//!
//! Domain modules (`customer`, `vehicle`, `touchpoint`...) add their operations to [`WriteTxn`]
//! and [`ReadTxn`]; this module only knows how records reach redb.

pub(crate) mod records;
pub(crate) mod tables;
mod upgrade;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use redb::{ReadableDatabase, ReadableTable};

use crate::codec::{self, Model};
use crate::date::DateTime;
use crate::error::{Error, Result};
use crate::rollup::Rollup;
use tables::*;

/// The file format version this release writes. A file with a newer one is refused with
/// [`Error::UpgradeRequired`]; every older one stays readable, and is upgraded in place (see
/// `upgrade`) when opened for writing.
///
/// 2: rollup events carry the minute of the day (format 1 rollups are recomputed from the
/// timeline on upgrade).
pub const FORMAT_VERSION: u16 = 2;

/// A handle to an autocrm database. Cheap to clone and to share between threads; the file is
/// closed when the last clone (and the last transaction) is dropped.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    redb: redb::Database,
    path: Option<PathBuf>,
    durable: bool,
    clock: crate::Clock,
}

/// How to open a database.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    durable: bool,
    cache_bytes: Option<usize>,
    clock: crate::Clock,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            durable: true,
            cache_bytes: None,
            clock: crate::Clock::default(),
        }
    }
}

impl OpenOptions {
    /// Whether commits are durable (fsynced before `commit` returns). Default: yes. Turn it off
    /// for a bulk load that can be redone from its source if the machine crashes; the data
    /// becomes durable at the next durable commit.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// The clock that stamps "now" for this handle's callers ([`Database::now`]); default:
    /// the system clock at UTC+08:00.
    pub fn clock(mut self, clock: crate::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Page cache size in bytes (redb's default is 1 GiB).
    pub fn cache_bytes(mut self, bytes: usize) -> Self {
        self.cache_bytes = Some(bytes);
        self
    }

    fn builder(&self) -> redb::Builder {
        let mut b = redb::Database::builder();
        if let Some(bytes) = self.cache_bytes {
            b.set_cache_size(bytes);
        }
        b
    }

    /// Opens the database file at `path`, creating it if it does not exist.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Database> {
        let path = path.as_ref();
        let redb = self.builder().create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen {
                path: path.display().to_string(),
            },
            e => Error::from(redb::Error::from(e)),
        })?;
        Database::init(redb, Some(path.to_path_buf()), self)
    }

    /// Opens a new, empty database held in memory; it is gone when the handle is dropped.
    pub fn in_memory(&self) -> Result<Database> {
        let redb = self
            .builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(redb::Error::from)?;
        Database::init(redb, None, self)
    }
}

impl Database {
    /// Opens the database file at `path` (created if missing) with durable commits.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        OpenOptions::default().open(path)
    }

    /// Opens a new in-memory database.
    pub fn in_memory() -> Result<Database> {
        OpenOptions::default().in_memory()
    }

    /// Options for opening a database (durability, cache size).
    pub fn options() -> OpenOptions {
        OpenOptions::default()
    }

    /// Rewrites the file so it holds only live data and returns whether anything moved.
    ///
    /// Deleting a record frees its pages but does not overwrite them: until they are reused,
    /// the bytes of a deleted customer are still in the file. Compacting after a deletion
    /// (or an erasure request) is what removes them from the disk. Needs the only handle:
    /// fails with `invalid_operation` while a clone of this handle or a transaction is alive.
    pub fn compact(&mut self) -> Result<bool> {
        let inner = Arc::get_mut(&mut self.inner).ok_or_else(|| {
            Error::invalid(
                "the database is shared: another handle or a transaction is alive",
                "drop every other clone of the handle and every transaction, then compact",
            )
        })?;
        // redb keeps the previous commit's pages for crash recovery; two empty durable
        // commits release them so compaction can reclaim every freed page.
        for _ in 0..2 {
            let txn = inner.redb.begin_write()?;
            txn.commit()?;
        }
        let mut moved = false;
        while inner.redb.compact().map_err(|e| {
            Error::invalid(
                format!("the file could not be compacted: {e}"),
                "close every transaction of this database, then compact",
            )
        })? {
            moved = true;
        }
        Ok(moved)
    }

    /// The clock this handle was opened with ([`OpenOptions::clock`]).
    pub fn clock(&self) -> crate::Clock {
        self.inner.clock
    }

    /// The local time now by this handle's clock: what an import stamps as received, an
    /// operator's action as made.
    pub fn now(&self) -> crate::DateTime {
        self.inner.clock.now()
    }

    /// The file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    fn init(redb: redb::Database, path: Option<PathBuf>, opts: &OpenOptions) -> Result<Database> {
        let db = Database {
            inner: Arc::new(Inner {
                redb,
                path,
                durable: opts.durable,
                clock: opts.clock,
            }),
        };
        let txn = db.inner.redb.begin_write()?;
        let found = {
            let mut meta = txn.open_table(META)?;
            let found = meta.get("format")?.map(|v| v.value().to_vec());
            match found {
                Some(bytes) => Some(parse_format(&bytes)?),
                None => {
                    meta.insert("format", &FORMAT_VERSION.to_le_bytes()[..])?;
                    None
                }
            }
        };
        match found {
            Some(v) if v > FORMAT_VERSION => {
                txn.abort()?;
                Err(Error::UpgradeRequired {
                    what: "database",
                    found: v,
                    supported: FORMAT_VERSION,
                })
            }
            Some(v) => {
                // Maybe fewer tables: a file written before a feature existed gets that
                // feature's (empty) tables. Adding tables changes no record.
                let before = table_count(&txn)?;
                create_tables(&txn)?;
                let upgraded = v < FORMAT_VERSION;
                if v < 2 {
                    upgrade::rollup_event_minutes(&txn)?;
                }
                if upgraded {
                    txn.open_table(META)?
                        .insert("format", &FORMAT_VERSION.to_le_bytes()[..])?;
                }
                if upgraded || table_count(&txn)? > before {
                    txn.commit()?;
                } else {
                    txn.abort()?;
                }
                Ok(db)
            }
            None => {
                create_tables(&txn)?;
                txn.commit()?;
                Ok(db)
            }
        }
    }

    /// Starts a write transaction. Only one runs at a time: this blocks until the previous one
    /// commits or is dropped.
    pub fn begin_write(&self) -> Result<WriteTxn> {
        let mut txn = self.inner.redb.begin_write()?;
        if !self.inner.durable {
            txn.set_durability(redb::Durability::None)?;
        }
        Ok(WriteTxn {
            txn,
            _db: self.clone(),
            rollups: HashMap::new(),
            counters: Counters::default(),
            registry: None,
            segment_reads: std::cell::Cell::new(0),
            now: None,
            poisoned: false,
        })
    }

    /// Starts a read transaction: a consistent snapshot that never blocks writers.
    pub fn begin_read(&self) -> Result<ReadTxn> {
        let tables = ReadTables::new(self.inner.redb.begin_read()?);
        Ok(ReadTxn {
            tables,
            _db: self.clone(),
        })
    }

    /// Runs `f` in a write transaction: commits if it returns `Ok`, rolls back if it returns an
    /// error, so a batch with one bad record writes nothing.
    pub fn write<T>(&self, f: impl FnOnce(&mut WriteTxn) -> Result<T>) -> Result<T> {
        let mut txn = self.begin_write()?;
        let out = f(&mut txn)?;
        txn.commit()?;
        Ok(out)
    }
}

fn parse_format(bytes: &[u8]) -> Result<u16> {
    let arr: [u8; 2] = bytes.try_into().map_err(|_| Error::Corrupt {
        what: "database header",
        source: codec::DecodeError::Truncated { len: bytes.len() },
    })?;
    Ok(u16::from_le_bytes(arr))
}

fn table_count(txn: &redb::WriteTransaction) -> Result<usize> {
    Ok(txn.list_tables()?.count() + txn.list_multimap_tables()?.count())
}

/// Creates every table so that read transactions on a fresh file find them.
fn create_tables(txn: &redb::WriteTransaction) -> Result<()> {
    txn.open_table(DEALERS)?;
    txn.open_table(DEALER_BY_CODE)?;
    txn.open_table(CUSTOMERS)?;
    txn.open_table(CUSTOMER_BY_NATIONAL_ID)?;
    txn.open_table(CUSTOMER_BY_CREDIT_CODE)?;
    txn.open_multimap_table(CUSTOMER_BY_PHONE)?;
    txn.open_table(ROLLUPS)?;
    txn.open_table(RELATIONS)?;
    txn.open_table(RELATIONS_BACK)?;
    txn.open_table(VEHICLES)?;
    txn.open_table(VEHICLE_BY_VIN)?;
    txn.open_table(VEHICLE_BY_PLATE)?;
    txn.open_table(OWNERSHIP)?;
    txn.open_multimap_table(CUSTOMER_VEHICLES)?;
    txn.open_table(TOUCHPOINTS)?;
    txn.open_table(TOUCHPOINT_KEYS)?;
    txn.open_table(SOURCE_RECORDS)?;
    txn.open_table(LEADS)?;
    txn.open_multimap_table(CUSTOMER_LEADS)?;
    txn.open_table(COMPLAINTS)?;
    txn.open_multimap_table(CUSTOMER_COMPLAINTS)?;
    txn.open_table(SURVEYS)?;
    txn.open_multimap_table(CUSTOMER_SURVEYS)?;
    txn.open_table(MEMBERS)?;
    txn.open_table(LOYALTY)?;
    txn.open_table(POSTINGS)?;
    txn.open_table(POSTING_KEYS)?;
    txn.open_table(CUSTOMER_POSTINGS)?;
    txn.open_table(BALANCES)?;
    txn.open_table(LOTS)?;
    txn.open_table(LOT_QUEUE)?;
    txn.open_table(LOT_EXPIRY)?;
    txn.open_table(REDEMPTIONS)?;
    txn.open_table(TIERS)?;
    txn.open_table(CONSENTS)?;
    txn.open_table(SEGMENTS)?;
    txn.open_table(SEGMENT_MEMBERS)?;
    txn.open_table(SOURCES)?;
    txn.open_table(LINEAGE)?;
    txn.open_table(CONFLICTS)?;
    txn.open_table(OPEN_CONFLICTS)?;
    txn.open_table(CONFLICTS_BY_RECORD)?;
    txn.open_table(FEEDBACK)?;
    txn.open_table(FEEDBACK_BY_SOURCE)?;
    txn.open_multimap_table(INCOMPLETE_BY_CUSTOMER)?;
    txn.open_table(REJECTION_COUNTS)?;
    txn.open_table(REDIRECTS)?;
    txn.open_table(MERGES)?;
    Ok(())
}

/// A write transaction. Nothing it writes is visible to others until [`WriteTxn::commit`];
/// dropping it without committing rolls everything back.
///
/// A call that fails validation writes nothing and leaves the transaction usable. A call that
/// fails after it began writing (a storage error, a duplicate key found mid-batch) poisons the
/// transaction: `commit` then refuses, and the caller must drop it.
pub struct WriteTxn {
    pub(crate) txn: redb::WriteTransaction,
    // Keeps the database open for as long as the transaction lives.
    _db: Database,
    /// Rollups touched in this transaction, written back once at commit: a batch of touchpoints
    /// for one customer costs one rollup write, not one per touchpoint.
    rollups: HashMap<u64, Rollup>,
    pub(crate) counters: Counters,
    /// The source registry as read in this transaction (cleared when it is changed).
    pub(crate) registry: Option<Arc<crate::integration::SourceRegistry>>,
    /// Saved-segment records read in this transaction ([`WriteTxn::segment_reads`]).
    pub(crate) segment_reads: std::cell::Cell<u64>,
    /// The time set by [`WriteTxn::set_now`], if any.
    now: Option<DateTime>,
    poisoned: bool,
}

/// Id counters touched in a transaction, written back once at commit.
#[derive(Default)]
pub(crate) struct Counters(HashMap<&'static str, u64>);

impl Counters {
    /// Assigns the next id of `counter` (`"next.customer"`...). Ids start at 1.
    pub(crate) fn next(
        &mut self,
        txn: &redb::WriteTransaction,
        counter: &'static str,
    ) -> Result<u64> {
        let next = match self.0.get(counter) {
            Some(n) => *n,
            None => {
                let meta = txn.open_table(META)?;
                let stored = meta.get(counter)?.map(|v| v.value().to_vec());
                match stored {
                    Some(bytes) => {
                        u64::from_le_bytes(bytes.as_slice().try_into().map_err(|_| {
                            Error::Corrupt {
                                what: "id counter",
                                source: codec::DecodeError::Truncated { len: bytes.len() },
                            }
                        })?)
                    }
                    None => 1,
                }
            }
        };
        self.0.insert(counter, next + 1);
        Ok(next)
    }
}

impl WriteTxn {
    /// The time this transaction takes as "now": when records without a received time of
    /// their own are received, and what births and touchpoints must not lie after (plus
    /// [`crate::validate::FUTURE_TOLERANCE_DAYS`]). The database's clock ([`Database::now`])
    /// unless [`WriteTxn::set_now`] set another.
    pub fn now(&self) -> DateTime {
        self.now.unwrap_or_else(|| self._db.now())
    }

    /// Sets the time this transaction takes as "now" ([`WriteTxn::now`]): for a feed replayed
    /// with its original receive time, or a simulation that runs ahead of the clock.
    pub fn set_now(&mut self, now: DateTime) {
        self.now = Some(now);
    }
}

impl WriteTxn {
    /// Makes this transaction's commit durable or not, overriding the database default.
    pub fn set_durable(&mut self, durable: bool) -> Result<()> {
        let d = if durable {
            redb::Durability::Immediate
        } else {
            redb::Durability::None
        };
        self.txn.set_durability(d)?;
        Ok(())
    }

    /// Commits: everything written becomes visible at once, and durable unless durability was
    /// turned off.
    pub fn commit(mut self) -> Result<()> {
        if self.poisoned {
            return Err(Error::invalid(
                "this transaction had a failed write and cannot commit",
                "drop it and redo the work in a new transaction",
            ));
        }
        self.flush()?;
        self.txn.commit()?;
        Ok(())
    }

    /// Rolls back everything written in this transaction.
    pub fn abort(self) -> Result<()> {
        self.txn.abort()?;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.rollups.is_empty() {
            let mut t = self.txn.open_table(ROLLUPS)?;
            for (id, r) in self.rollups.drain() {
                t.insert(id, codec::encode(&r).as_slice())?;
            }
        }
        if !self.counters.0.is_empty() {
            let mut meta = self.txn.open_table(META)?;
            for (name, next) in self.counters.0.drain() {
                meta.insert(name, &next.to_le_bytes()[..])?;
            }
        }
        Ok(())
    }

    /// Runs a step that writes; if it fails, the transaction is poisoned because some of its
    /// writes may have happened.
    pub(crate) fn writing<T>(&mut self, f: impl FnOnce(&mut WriteTxn) -> Result<T>) -> Result<T> {
        let out = f(self);
        if out.is_err() {
            self.poisoned = true;
        }
        out
    }

    /// Assigns the next id of a counter (`"next.customer"`...). Ids start at 1.
    pub(crate) fn next_id(&mut self, counter: &'static str) -> Result<u64> {
        self.counters.next(&self.txn, counter)
    }

    /// The customer's rollup as of this transaction's writes, for update.
    pub(crate) fn rollup_mut(&mut self, customer: u64) -> Result<&mut Rollup> {
        if !self.rollups.contains_key(&customer) {
            let t = self.txn.open_table(ROLLUPS)?;
            let r = get_record::<Rollup>(&t, customer)?.unwrap_or_default();
            drop(t);
            self.rollups.insert(customer, r);
        }
        Ok(self.rollups.get_mut(&customer).expect("inserted above"))
    }

    /// Forgets a customer's rollup (the customer was deleted).
    pub(crate) fn drop_rollup(&mut self, customer: u64) -> Result<()> {
        self.rollups.remove(&customer);
        self.txn.open_table(ROLLUPS)?.remove(customer)?;
        Ok(())
    }

    /// Fails with [`Error::NotFound`] unless the record `id` exists in `table`. Checks
    /// references without decoding the record.
    pub(crate) fn require(
        &self,
        table: redb::TableDefinition<'static, u64, &'static [u8]>,
        entity: &'static str,
        id: u64,
    ) -> Result<()> {
        match self.txn.open_table(table)?.get(id)? {
            Some(_) => Ok(()),
            None => Err(Error::not_found(entity, id)),
        }
    }

    /// The rollup as this transaction sees it (cached writes included).
    pub(crate) fn rollup(&self, customer: u64) -> Result<Rollup> {
        if let Some(r) = self.rollups.get(&customer) {
            return Ok(r.clone());
        }
        let t = self.txn.open_table(ROLLUPS)?;
        Ok(get_record::<Rollup>(&t, customer)?.unwrap_or_default())
    }
}

/// A read transaction: a consistent snapshot of the database.
pub struct ReadTxn {
    /// Tables opened so far, kept open for the life of the snapshot: opening a table costs a
    /// lookup in redb's table directory, as much as the point read that follows it.
    pub(crate) tables: ReadTables,
    _db: Database,
}

macro_rules! read_tables {
    ($($name:ident: $def:ident => $kind:ident<$k:ty, $v:ty>),* $(,)?) => {
        /// Lazily opened, cached read-only tables of one [`ReadTxn`].
        pub(crate) struct ReadTables {
            pub(crate) txn: redb::ReadTransaction,
            $($name: OnceLock<read_tables!(@type $kind, $k, $v)>,)*
        }

        impl ReadTables {
            fn new(txn: redb::ReadTransaction) -> ReadTables {
                ReadTables { txn, $($name: OnceLock::new(),)* }
            }

            $(
                #[doc = concat!("The `", stringify!($def), "` table.")]
                pub(crate) fn $name(&self) -> Result<&read_tables!(@type $kind, $k, $v)> {
                    if let Some(t) = self.$name.get() {
                        return Ok(t);
                    }
                    let t = read_tables!(@open $kind, self.txn, $def);
                    Ok(self.$name.get_or_init(|| t))
                }
            )*
        }
    };
    (@type table, $k:ty, $v:ty) => { redb::ReadOnlyTable<$k, $v> };
    (@type multimap, $k:ty, $v:ty) => { redb::ReadOnlyMultimapTable<$k, $v> };
    (@open table, $txn:expr, $def:ident) => { $txn.open_table($def)? };
    (@open multimap, $txn:expr, $def:ident) => { $txn.open_multimap_table($def)? };
}

read_tables! {
    dealers: DEALERS => table<u32, &'static [u8]>,
    dealer_by_code: DEALER_BY_CODE => table<&'static str, u32>,
    customers: CUSTOMERS => table<u64, &'static [u8]>,
    customer_by_national_id: CUSTOMER_BY_NATIONAL_ID => table<&'static str, u64>,
    customer_by_credit_code: CUSTOMER_BY_CREDIT_CODE => table<&'static str, u64>,
    customer_by_phone: CUSTOMER_BY_PHONE => multimap<&'static str, u64>,
    rollups: ROLLUPS => table<u64, &'static [u8]>,
    relations: RELATIONS => table<(u64, u8, u64), ()>,
    relations_back: RELATIONS_BACK => table<(u64, u8, u64), ()>,
    vehicles: VEHICLES => table<u64, &'static [u8]>,
    vehicle_by_vin: VEHICLE_BY_VIN => table<&'static str, u64>,
    vehicle_by_plate: VEHICLE_BY_PLATE => table<&'static str, u64>,
    ownership: OWNERSHIP => table<u64, &'static [u8]>,
    customer_vehicles: CUSTOMER_VEHICLES => multimap<u64, u64>,
    touchpoints: TOUCHPOINTS => table<(u64, i64, u64), &'static [u8]>,
    touchpoint_keys: TOUCHPOINT_KEYS => table<u64, (u64, i64)>,
    leads: LEADS => table<u64, &'static [u8]>,
    customer_leads: CUSTOMER_LEADS => multimap<u64, u64>,
    complaints: COMPLAINTS => table<u64, &'static [u8]>,
    customer_complaints: CUSTOMER_COMPLAINTS => multimap<u64, u64>,
    surveys: SURVEYS => table<u64, &'static [u8]>,
    customer_surveys: CUSTOMER_SURVEYS => multimap<u64, u64>,
    members: MEMBERS => table<u64, &'static [u8]>,
    loyalty: LOYALTY => table<&'static str, &'static [u8]>,
    postings: POSTINGS => table<u64, &'static [u8]>,
    posting_keys: POSTING_KEYS => table<&'static str, u64>,
    customer_postings: CUSTOMER_POSTINGS => table<(u64, u64), ()>,
    balances: BALANCES => table<(u64, u64), &'static [u8]>,
    lots: LOTS => table<u64, &'static [u8]>,
    lot_queue: LOT_QUEUE => table<(u64, u64, i32, u64), ()>,
    lot_expiry: LOT_EXPIRY => table<(i32, u64), ()>,
    redemptions: REDEMPTIONS => table<(i32, u64), ()>,
    tiers: TIERS => table<u64, &'static [u8]>,
    consents: CONSENTS => table<u64, &'static [u8]>,
    segments: SEGMENTS => table<&'static str, &'static [u8]>,
    segment_members: SEGMENT_MEMBERS => table<(&'static str, i32), &'static [u8]>,
    sources: SOURCES => table<&'static str, &'static [u8]>,
    lineage: LINEAGE => table<(u8, u64), &'static [u8]>,
    conflicts: CONFLICTS => table<u64, &'static [u8]>,
    open_conflicts: OPEN_CONFLICTS => table<(u8, u64, u64), ()>,
    conflicts_by_record: CONFLICTS_BY_RECORD => table<(u8, u64, u64), ()>,
    feedback: FEEDBACK => table<(u32, u64), &'static [u8]>,
    feedback_by_source: FEEDBACK_BY_SOURCE => table<&'static [u8], (u32, u64)>,
    rejection_counts: REJECTION_COUNTS => table<(u32, &'static str), u64>,
    redirects: REDIRECTS => table<u64, u64>,
    merges: MERGES => table<(u64, u64), &'static [u8]>,
}

/// Reads and decodes the record with id `id`, if any.
pub(crate) fn get_record<M: Model>(
    table: &impl ReadableTable<u64, &'static [u8]>,
    id: u64,
) -> Result<Option<M>> {
    match table.get(id)? {
        Some(v) => Ok(Some(decode_stored(v.value())?)),
        None => Ok(None),
    }
}

/// Decodes a record read from a table.
pub(crate) fn decode_stored<M: Model>(bytes: &[u8]) -> Result<M> {
    codec::stored(codec::decode::<M>(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_can_move_between_threads() {
        // Bindings hold these in objects shared across threads (Python, Node worker threads).
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Database>();
        send_sync::<ReadTxn>();
        send::<WriteTxn>();
    }

    #[test]
    fn format_version_is_written_once_and_checked() {
        let db = Database::in_memory().unwrap();
        let r = db.begin_read().unwrap();
        let meta = r.tables.txn.open_table(META).unwrap();
        let v = meta.get("format").unwrap().unwrap();
        assert_eq!(v.value(), FORMAT_VERSION.to_le_bytes());
    }
}
