//! The database handle, transactions, durability, the file format version and id counters.
//!
//! Domain modules (`customer`, `vehicle`, `touchpoint`...) add their operations to [`WriteTxn`]
//! and [`ReadTxn`]; this module only knows how records reach redb.

mod check;
pub(crate) mod records;
pub(crate) mod tables;
mod upgrade;

pub use check::{CheckReport, Problem, StorageCheck};

use std::cell::{Cell, OnceCell, RefCell, RefMut};
use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use redb::{MultimapTableHandle, ReadableDatabase, ReadableTable, TableHandle};

use crate::codec::{self, Model};
use crate::date::DateTime;
use crate::error::{Damage, Error, Refusal, Result};
use crate::feed::{ChangeOp, Entity, FeedLog};
use crate::rollup::Rollup;
use tables::*;

/// The file format version this release writes. A file with a newer one is refused with
/// [`Error::UpgradeRequired`]; every older one stays readable, and is upgraded in place (see
/// `upgrade`) when opened read-write; opening it read-only leaves it as it is.
///
/// 2: every record envelope ends with a checksum ([`crate::codec`]), and rollup events carry
/// the minute of the day. Opening a version 1 file read-write raises it to 2 (this build then
/// writes checksummed records into it, which a format-1 build must refuse) and recomputes its
/// rollup events from the timeline.
pub const FORMAT_VERSION: u16 = 2;

/// A handle to an autocrm database. Cheap to clone and to share between threads; the file is
/// closed when the last clone (and the last transaction) is dropped.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    redb: Redb,
    path: Option<PathBuf>,
    durable: bool,
    clock: crate::Clock,
    group: GroupCommit,
}

/// Group commit: writers that commit while others wait for the write lock share one fsync.
///
/// redb runs one write transaction at a time. A durable commit with no writer waiting fsyncs
/// itself, as always. With writers waiting, it commits without fsync (visible to readers at
/// once, not yet on disk), then makes sure a durable commit that began after it has finished
/// before returning: the first such writer to get here fsyncs once, with an empty durable
/// commit, for every commit made before it began; the others find themselves covered and
/// return. Each caller still returns only once its commit is durable. Commit sequence numbers
/// are taken under the write lock, so their order is commit order.
#[derive(Default)]
struct GroupCommit {
    /// Writers waiting in `begin_write` for the write lock.
    waiting: AtomicUsize,
    /// The sequence number of the latest commit.
    committed: AtomicU64,
    /// Every commit up to this sequence number is durable.
    synced: AtomicU64,
    /// Held by the writer that fsyncs for the group.
    leader: Mutex<()>,
}

/// The redb handle: read-write, or read-only (never writes the file).
enum Redb {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

impl Redb {
    fn begin_read(&self) -> Result<redb::ReadTransaction> {
        Ok(match self {
            Redb::ReadWrite(db) => db.begin_read()?,
            Redb::ReadOnly(db) => db.begin_read()?,
        })
    }
}

/// How to open a database.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    durable: bool,
    read_only: bool,
    cache_bytes: Option<usize>,
    clock: crate::Clock,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            durable: true,
            read_only: false,
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

    /// Opens the file read-only (default: no). The file must exist; it is never written, so it
    /// may sit on a read-only mount or have mode 0444, and another process may read it at the
    /// same time. [`Database::begin_write`] fails with [`Error::ReadOnly`]. A file left by a
    /// crash, or one written before a table existed, must be opened read-write once first.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
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

    /// Opens the database file at `path`, creating it if it does not exist (unless read-only).
    ///
    /// A damaged file fails with [`Error::Corrupt`], even where the storage engine panics on it
    /// (the open runs under [`crate::guard`]).
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Database> {
        let path = path.as_ref();
        crate::guard(|| {
            let opened = if self.read_only {
                self.builder().open_read_only(path).map(Redb::ReadOnly)
            } else {
                self.builder().create(path).map(Redb::ReadWrite)
            };
            let redb = opened.map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen {
                    path: path.display().to_string(),
                },
                redb::DatabaseError::RepairAborted => Error::Corrupt {
                    what: "database file",
                    source: Damage::Storage(
                        "it needs recovery (a writer crashed, or the file is damaged), which a \
                         read-only open cannot run; open it read-write once"
                            .into(),
                    ),
                },
                e => Error::from(redb::Error::from(e)),
            })?;
            Database::init(redb, Some(path.to_path_buf()), self)
        })
    }

    /// Opens a new, empty database held in memory; it is gone when the handle is dropped.
    pub fn in_memory(&self) -> Result<Database> {
        let redb = self
            .builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(redb::Error::from)?;
        Database::init(Redb::ReadWrite(redb), None, self)
    }
}

impl Database {
    /// Opens the database file at `path` (created if missing) with durable commits.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        OpenOptions::default().open(path)
    }

    /// Opens an existing database file read-only: see [`OpenOptions::read_only`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Database> {
        OpenOptions::default().read_only(true).open(path)
    }

    /// Opens a new in-memory database.
    pub fn in_memory() -> Result<Database> {
        OpenOptions::default().in_memory()
    }

    /// Options for opening a database (durability, read-only, cache size).
    pub fn options() -> OpenOptions {
        OpenOptions::default()
    }

    /// Rewrites the file so it holds only live data and returns whether anything moved.
    ///
    /// Deleting a record frees its pages but does not overwrite them: until they are reused,
    /// the bytes of a deleted customer are still in the file. Compacting after a deletion
    /// removes most of them; it moves pages whole, though, so the slack of a page that held a
    /// longer record can keep old bytes. After an erasure request use [`Database::vacuum`],
    /// which copies the live records into a fresh file. Needs the only handle:
    /// fails with `invalid_operation.database_shared` while a clone of this handle or a
    /// transaction is alive.
    pub fn compact(&mut self) -> Result<bool> {
        let path = self.inner.path.as_ref().map(|p| p.display().to_string());
        let inner = Arc::get_mut(&mut self.inner).ok_or_else(|| {
            Error::refused(
                Refusal::DatabaseShared,
                "the database is shared: another handle or a transaction is alive",
            )
        })?;
        let Redb::ReadWrite(redb) = &mut inner.redb else {
            return Err(Error::ReadOnly {
                path: path.unwrap_or_default(),
            });
        };
        // redb keeps the previous commit's pages for crash recovery; two empty durable
        // commits release them so compaction can reclaim every freed page.
        for _ in 0..2 {
            let txn = redb.begin_write()?;
            txn.commit()?;
        }
        let mut moved = false;
        while redb.compact().map_err(|e| match e {
            redb::CompactionError::Storage(e) => Error::from(e),
            e => Error::refused(
                Refusal::DatabaseShared,
                format!("the file could not be compacted: {e}"),
            ),
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

    /// Whether this handle was opened read-only.
    pub fn is_read_only(&self) -> bool {
        matches!(self.inner.redb, Redb::ReadOnly(_))
    }

    /// Checks the file's format version and tables. Reads first and writes only when something
    /// must change (a new file, a file of an older format, a table added since the file was
    /// written), so opening an up-to-date file commits nothing.
    fn init(redb: Redb, path: Option<PathBuf>, opts: &OpenOptions) -> Result<Database> {
        let db = Database {
            inner: Arc::new(Inner {
                redb,
                path,
                durable: opts.durable,
                clock: opts.clock,
                group: GroupCommit::default(),
            }),
        };
        let (found, complete) = {
            let txn = db.inner.redb.begin_read()?;
            let found = match txn.open_table(META) {
                Ok(meta) => match meta.get("format")? {
                    Some(v) => Some(parse_format(v.value())?),
                    None => None,
                },
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            };
            (found, every_table_exists(&txn)?)
        };
        match found {
            Some(v) if v > FORMAT_VERSION => {
                return Err(Error::UpgradeRequired {
                    what: "database",
                    found: v,
                    supported: FORMAT_VERSION,
                })
            }
            Some(FORMAT_VERSION) if complete => return Ok(db),
            _ => {}
        }
        let Redb::ReadWrite(redb) = &db.inner.redb else {
            return match found {
                None => Err(Error::Corrupt {
                    what: "database file",
                    source: Damage::Storage("it has no format version: not an autocrm file".into()),
                }),
                // Format 1 stored rollup events without minutes: only the upgrade of a
                // read-write open makes them right.
                Some(v) if v < 2 => Err(Error::refused(
                    Refusal::ReadOnlyMissingTables,
                    format!(
                        "this file is in format {v}, which a read-write open raises to format \
                         {FORMAT_VERSION}; a read-only handle cannot"
                    ),
                )),
                // Tables it was written without read as empty (`ReadTables`).
                Some(_) => Ok(db),
            };
        };
        // A new file, an older format (raised: this build writes checksummed records), or
        // missing tables: a file written before a feature existed gets that feature's (empty)
        // tables. Adding tables changes no record.
        let txn = redb.begin_write()?;
        txn.open_table(META)?
            .insert("format", &FORMAT_VERSION.to_le_bytes()[..])?;
        create_tables(&txn)?;
        if matches!(found, Some(v) if v < 2) {
            upgrade::rollup_event_minutes(&txn)?;
        }
        txn.commit()?;
        Ok(db)
    }

    /// Starts a write transaction. Only one runs at a time: this blocks until the previous one
    /// commits or is dropped. A read-only handle refuses with [`Error::ReadOnly`].
    pub fn begin_write(&self) -> Result<WriteTxn> {
        let Redb::ReadWrite(redb) = &self.inner.redb else {
            return Err(Error::ReadOnly {
                path: self
                    .inner
                    .path
                    .as_ref()
                    .map_or_else(String::new, |p| p.display().to_string()),
            });
        };
        let group = &self.inner.group;
        group.waiting.fetch_add(1, Ordering::SeqCst);
        let txn = redb.begin_write();
        group.waiting.fetch_sub(1, Ordering::SeqCst);
        let mut txn = txn?;
        if !self.inner.durable {
            txn.set_durability(redb::Durability::None)?;
        }
        // Whether this transaction's writes go to the change feed: read once here, so no
        // write has to look it up.
        let feed_on = {
            let meta = txn.open_table(META)?;
            let stored = meta.get(crate::feed::SETTINGS_KEY)?;
            match stored {
                Some(v) => decode_stored::<crate::feed::FeedSettings>(v.value())?.enabled,
                None => false,
            }
        };
        Ok(WriteTxn {
            txn,
            durable: self.inner.durable,
            _db: self.clone(),
            state: TxnState {
                feed: FeedLog::new(feed_on),
                ..TxnState::default()
            },
            now: None,
        })
    }

    /// Returns once every commit up to sequence number `seq` is durable: at once if a durable
    /// commit already covered it, else after one empty durable commit, which makes every
    /// commit before it durable (redb: a commit without fsync becomes durable with the next
    /// durable one) and covers the writers that queue behind this one meanwhile.
    fn sync_through(&self, seq: u64) -> Result<()> {
        let group = &self.inner.group;
        // While writers queue behind this commit, let them go first: each commits without
        // fsync, and the last (no one waiting behind it) commits durably, covering this one
        // with no extra commit. Bounded, in case one of them holds the lock for long.
        // (Without this wait, each committer would lead an fsync of its own: measured, no
        // gain over single durable commits.)
        let started = std::time::Instant::now();
        while group.synced.load(Ordering::SeqCst) < seq
            && group.waiting.load(Ordering::SeqCst) > 0
            && started.elapsed() < std::time::Duration::from_millis(2)
        {
            std::thread::yield_now();
        }
        if group.synced.load(Ordering::SeqCst) >= seq {
            return Ok(());
        }
        let _leader = group.leader.lock().unwrap_or_else(|p| p.into_inner());
        if group.synced.load(Ordering::SeqCst) >= seq {
            return Ok(());
        }
        let Redb::ReadWrite(redb) = &self.inner.redb else {
            unreachable!("only a read-write handle commits");
        };
        // Every sequence number taken so far belongs to a commit that has finished or holds
        // the write lock; this begin_write waits for the latter.
        let target = group.committed.load(Ordering::SeqCst);
        let mut txn = redb.begin_write()?;
        // The writer that held the lock may have committed durably meanwhile.
        if group.synced.load(Ordering::SeqCst) >= seq {
            txn.abort()?;
            return Ok(());
        }
        txn.set_durability(redb::Durability::Immediate)?;
        txn.commit()?;
        group.synced.fetch_max(target, Ordering::SeqCst);
        Ok(())
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

    /// The redb handle for an operation that needs it alone (redb's integrity check), if no
    /// other clone of this handle and no transaction is alive.
    fn exclusive_redb(&mut self) -> Option<&mut redb::Database> {
        match &mut Arc::get_mut(&mut self.inner)?.redb {
            Redb::ReadWrite(db) => Some(db),
            Redb::ReadOnly(_) => None,
        }
    }
}

fn parse_format(bytes: &[u8]) -> Result<u16> {
    let arr: [u8; 2] = bytes.try_into().map_err(|_| Error::Corrupt {
        what: "database header",
        source: codec::DecodeError::Truncated { len: bytes.len() }.into(),
    })?;
    Ok(u16::from_le_bytes(arr))
}

/// Calls `$table!(DEF)` for every table and `$multimap!(DEF)` for every multimap table of the
/// key layout: the one list that creating and checking the tables share.
macro_rules! every_table {
    ($table:ident, $multimap:ident) => {
        $table!(DEALERS);
        $table!(DEALER_BY_CODE);
        $table!(CUSTOMERS);
        $table!(CUSTOMER_BY_NATIONAL_ID);
        $table!(CUSTOMER_BY_CREDIT_CODE);
        $multimap!(CUSTOMER_BY_PHONE);
        $table!(ROLLUPS);
        $table!(RELATIONS);
        $table!(RELATIONS_BACK);
        $table!(VEHICLES);
        $table!(VEHICLE_BY_VIN);
        $table!(VEHICLE_BY_PLATE);
        $table!(OWNERSHIP);
        $multimap!(CUSTOMER_VEHICLES);
        $table!(TOUCHPOINTS);
        $table!(TOUCHPOINT_KEYS);
        $table!(SOURCE_RECORDS);
        $table!(LEADS);
        $multimap!(CUSTOMER_LEADS);
        $table!(COMPLAINTS);
        $multimap!(CUSTOMER_COMPLAINTS);
        $table!(SURVEYS);
        $multimap!(CUSTOMER_SURVEYS);
        $table!(MEMBERS);
        $table!(LOYALTY);
        $table!(POSTINGS);
        $table!(POSTING_KEYS);
        $table!(CUSTOMER_POSTINGS);
        $table!(BALANCES);
        $table!(LOTS);
        $table!(LOT_QUEUE);
        $table!(LOT_EXPIRY);
        $table!(REDEMPTIONS);
        $table!(TIERS);
        $table!(CONSENTS);
        $table!(SEGMENTS);
        $table!(SEGMENT_MEMBERS);
        $table!(SOURCES);
        $table!(LINEAGE);
        $table!(CONFLICTS);
        $table!(OPEN_CONFLICTS);
        $table!(CONFLICTS_BY_RECORD);
        $table!(FEEDBACK);
        $table!(FEEDBACK_BY_SOURCE);
        $multimap!(INCOMPLETE_BY_CUSTOMER);
        $table!(REJECTION_COUNTS);
        $table!(REDIRECTS);
        $table!(ACCESS);
        $table!(MERGES);
        $table!(AUDIT);
        $table!(AUDIT_BY_CUSTOMER);
        $table!(ERASURES);
        $table!(CHANGES);
        $table!(FEED_CONSUMERS);
    };
}

/// A read transaction on an in-memory database holding every table, empty. A read-only
/// handle on a file written before some of this release's tables existed reads those tables
/// from here: a feature's data it was written without is simply none.
fn empty_tables() -> Result<redb::ReadTransaction> {
    static EMPTY: OnceLock<redb::Database> = OnceLock::new();
    let db = match EMPTY.get() {
        Some(db) => db,
        None => {
            let db = redb::Database::builder()
                .create_with_backend(redb::backends::InMemoryBackend::new())
                .map_err(redb::Error::from)?;
            let txn = db.begin_write()?;
            create_tables(&txn)?;
            txn.commit()?;
            // Two threads racing here build two; either serves.
            let _ = EMPTY.set(db);
            EMPTY.get().expect("set just above")
        }
    };
    Ok(db.begin_read()?)
}

// After `every_table!`, which it uses.
mod vacuum;

/// Creates every table so that read transactions on a fresh file find them.
fn create_tables(txn: &redb::WriteTransaction) -> Result<()> {
    macro_rules! table {
        ($def:ident) => {
            txn.open_table($def)?;
        };
    }
    macro_rules! multimap {
        ($def:ident) => {
            txn.open_multimap_table($def)?;
        };
    }
    every_table!(table, multimap);
    Ok(())
}

/// Whether every table of the key layout exists (a file written by this release, or upgraded
/// by a read-write open of it).
fn every_table_exists(txn: &redb::ReadTransaction) -> Result<bool> {
    fn exists<T>(opened: std::result::Result<T, redb::TableError>) -> Result<bool> {
        match opened {
            Ok(_) => Ok(true),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    macro_rules! table {
        ($def:ident) => {
            if !exists(txn.open_table($def))? {
                return Ok(false);
            }
        };
    }
    macro_rules! multimap {
        ($def:ident) => {
            if !exists(txn.open_multimap_table($def))? {
                return Ok(false);
            }
        };
    }
    every_table!(table, multimap);
    Ok(true)
}

/// A write transaction. Nothing it writes is visible to others until [`WriteTxn::commit`];
/// dropping it without committing rolls everything back.
///
/// A call that fails validation writes nothing and leaves the transaction usable. A call that
/// fails after it began writing (a storage error, a duplicate key found mid-batch) poisons the
/// transaction: `commit` then refuses, and the caller must drop it.
pub struct WriteTxn {
    pub(crate) txn: redb::WriteTransaction,
    /// Whether the commit must be durable before it returns.
    durable: bool,
    // Keeps the database open for as long as the transaction lives.
    _db: Database,
    pub(crate) state: TxnState,
    /// The time set by [`WriteTxn::set_now`], if any.
    now: Option<DateTime>,
}

/// What a write transaction keeps in memory besides redb's own state. Interior mutability so
/// that a [`Tx`] view can be built from a shared borrow of its [`WriteTxn`].
#[derive(Default)]
pub(crate) struct TxnState {
    /// Rollups touched in this transaction, written back once at commit: a batch of touchpoints
    /// for one customer costs one rollup write, not one per touchpoint.
    rollups: RefCell<HashMap<u64, Rollup>>,
    counters: RefCell<Counters>,
    /// The source registry as read in this transaction (cleared when it is changed).
    pub(crate) registry: RefCell<Option<Arc<crate::integration::SourceRegistry>>>,
    /// Saved-segment records read in this transaction ([`WriteTxn::segment_reads`]).
    pub(crate) segment_reads: Cell<u64>,
    poisoned: Cell<bool>,
    /// The records written so far, for the change feed ([`crate::feed`]).
    pub(crate) feed: FeedLog,
}

/// Id counters touched in a transaction, written back once at commit.
#[derive(Default)]
pub(crate) struct Counters(HashMap<&'static str, u64>);

impl Counters {
    /// Assigns the next id of `counter` (`"next.customer"`...). Ids start at 1.
    fn next(&mut self, tables: &WriteTables<'_>, counter: &'static str) -> Result<u64> {
        let next = match self.0.get(counter) {
            Some(n) => *n,
            None => {
                let meta = tables.meta()?;
                let stored = meta.get(counter)?.map(|v| v.value().to_vec());
                match stored {
                    Some(bytes) => {
                        u64::from_le_bytes(bytes.as_slice().try_into().map_err(|_| {
                            Error::Corrupt {
                                what: "id counter",
                                source: codec::DecodeError::Truncated { len: bytes.len() }.into(),
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

    /// The database this transaction writes (for the fresh read snapshot a write may need).
    pub(crate) fn database(&self) -> &Database {
        &self._db
    }

    /// Sets the time this transaction takes as "now" ([`WriteTxn::now`]): for a feed replayed
    /// with its original receive time, or a simulation that runs ahead of the clock.
    pub fn set_now(&mut self, now: DateTime) {
        self.now = Some(now);
    }

    /// A view of this transaction whose tables open on first use and stay open until the view
    /// is dropped: domain operations run on it, so one public call (an import batch, a batch
    /// insert, a posting) opens each table at most once. Two views alive at once must not use
    /// the same table (redb refuses the second open).
    pub(crate) fn tx(&self) -> Tx<'_> {
        Tx {
            t: WriteTables::new(&self.txn, &self.state.feed),
            s: &self.state,
            now: self.now(),
        }
    }

    /// Makes this transaction's commit durable or not, overriding the database default.
    pub fn set_durable(&mut self, durable: bool) -> Result<()> {
        let d = if durable {
            redb::Durability::Immediate
        } else {
            redb::Durability::None
        };
        self.txn.set_durability(d)?;
        self.durable = durable;
        Ok(())
    }

    /// Commits: everything written becomes visible at once, and durable unless durability was
    /// turned off.
    pub fn commit(self) -> Result<()> {
        if self.state.poisoned.get() {
            return Err(Error::refused(
                Refusal::TransactionPoisoned,
                "this transaction had a failed write and cannot commit",
            ));
        }
        self.tx().flush()?;
        if !self.durable {
            self.txn.commit()?;
            return Ok(());
        }
        let db = self._db.clone();
        let group = &db.inner.group;
        // Taken under the write lock (this transaction holds it): sequence order is commit
        // order.
        let seq = group.committed.fetch_add(1, Ordering::SeqCst) + 1;
        let mut txn = self.txn;
        if group.waiting.load(Ordering::SeqCst) == 0 {
            txn.commit()?;
            group.synced.fetch_max(seq, Ordering::SeqCst);
            return Ok(());
        }
        txn.set_durability(redb::Durability::None)?;
        txn.commit()?;
        db.sync_through(seq)
    }

    /// Rolls back everything written in this transaction.
    pub fn abort(self) -> Result<()> {
        self.txn.abort()?;
        Ok(())
    }
}

/// One write transaction as domain code sees it: its tables, each opened once on first use
/// ([`WriteTables`]), and its in-memory state. Built on the stack for one public call by
/// [`WriteTxn::tx`]; crate-private, so no table lifetime reaches the public API.
pub(crate) struct Tx<'t> {
    /// The transaction's tables.
    pub(crate) t: WriteTables<'t>,
    pub(crate) s: &'t TxnState,
    now: DateTime,
}

impl<'t> Tx<'t> {
    /// [`WriteTxn::now`].
    pub(crate) fn now(&self) -> DateTime {
        self.now
    }

    /// Runs a step that writes; if it fails, the transaction is poisoned because some of its
    /// writes may have happened.
    pub(crate) fn writing<T>(&mut self, f: impl FnOnce(&mut Tx<'t>) -> Result<T>) -> Result<T> {
        let out = f(self);
        if out.is_err() {
            self.s.poisoned.set(true);
        }
        out
    }

    /// Assigns the next id of a counter (`"next.customer"`...). Ids start at 1. Takes `&self`
    /// so it can be called while tables of this view are borrowed.
    pub(crate) fn next_id(&self, counter: &'static str) -> Result<u64> {
        self.s.counters.borrow_mut().next(&self.t, counter)
    }

    /// The customer's rollup as of this transaction's writes, for update.
    pub(crate) fn rollup_mut(&self, customer: u64) -> Result<RefMut<'t, Rollup>> {
        let mut cached = self.s.rollups.borrow_mut();
        if let std::collections::hash_map::Entry::Vacant(e) = cached.entry(customer) {
            e.insert(get_record::<Rollup>(&*self.t.rollups()?, customer)?.unwrap_or_default());
        }
        Ok(RefMut::map(cached, |m| {
            m.get_mut(&customer).expect("inserted above")
        }))
    }

    /// The rollup as this transaction sees it (cached writes included).
    pub(crate) fn rollup(&self, customer: u64) -> Result<Rollup> {
        if let Some(r) = self.s.rollups.borrow().get(&customer) {
            return Ok(r.clone());
        }
        Ok(get_record::<Rollup>(&*self.t.rollups()?, customer)?.unwrap_or_default())
    }

    /// Forgets a customer's rollup (the customer was deleted).
    pub(crate) fn drop_rollup(&self, customer: u64) -> Result<()> {
        self.s.rollups.borrow_mut().remove(&customer);
        self.t.rollups()?.remove(customer)?;
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
        match self.t.records(table)?.get(id)? {
            Some(_) => Ok(()),
            None => Err(Error::not_found(entity, id)),
        }
    }

    /// Writes back the rollups and id counters this transaction touched.
    fn flush(&self) -> Result<()> {
        // First: it assigns change ids, and the counters are written back below.
        self.flush_feed()?;
        // In key order: the same writes give the same file (a damaged-file test can be
        // replayed), and B-tree inserts in order touch each page once.
        let mut rollups: Vec<(u64, Rollup)> = self.s.rollups.borrow_mut().drain().collect();
        if !rollups.is_empty() {
            let mut t = self.t.rollups()?;
            rollups.sort_unstable_by_key(|(id, _)| *id);
            for (id, r) in rollups {
                t.insert(id, codec::encode(&r).as_slice())?;
            }
        }
        let mut counters: Vec<(&str, u64)> = self.s.counters.borrow_mut().0.drain().collect();
        if !counters.is_empty() {
            let mut meta = self.t.meta()?;
            counters.sort_unstable();
            for (name, next) in counters {
                meta.insert(name, &next.to_le_bytes()[..])?;
            }
        }
        Ok(())
    }
}

/// A table of a write transaction, open for writing. Reads go through `Deref` to the redb
/// table; writes through [`TableMut::insert`] and [`TableMut::remove`], which note the key of
/// each record written to the change feed when the table holds a fed record kind
/// ([`crate::feed::Entity`]). There is deliberately no `DerefMut`: no write can bypass the feed.
pub(crate) struct TableMut<'a, 't, K: redb::Key + 'static, V: redb::Value + 'static> {
    table: RefMut<'a, redb::Table<'t, K, V>>,
    fed: Option<(Entity, &'a FeedLog)>,
}

impl<'t, K: redb::Key + 'static, V: redb::Value + 'static> Deref for TableMut<'_, 't, K, V> {
    type Target = redb::Table<'t, K, V>;

    fn deref(&self) -> &Self::Target {
        &self.table
    }
}

impl<K: redb::Key + 'static, V: redb::Value + 'static> TableMut<'_, '_, K, V> {
    /// Inserts or replaces the value of `key` ([`redb::Table::insert`]).
    pub(crate) fn insert<'k, 'v>(
        &mut self,
        key: impl std::borrow::Borrow<K::SelfType<'k>>,
        value: impl std::borrow::Borrow<V::SelfType<'v>>,
    ) -> std::result::Result<Option<redb::AccessGuard<'_, V>>, redb::StorageError> {
        let old = self.table.insert(key.borrow(), value)?;
        if let Some((entity, log)) = self.fed {
            let op = if old.is_some() {
                ChangeOp::Update
            } else {
                ChangeOp::Insert
            };
            log.note(entity, K::as_bytes(key.borrow()).as_ref(), op);
        }
        Ok(old)
    }

    /// Removes `key` ([`redb::Table::remove`]).
    pub(crate) fn remove<'k>(
        &mut self,
        key: impl std::borrow::Borrow<K::SelfType<'k>>,
    ) -> std::result::Result<Option<redb::AccessGuard<'_, V>>, redb::StorageError> {
        let old = self.table.remove(key.borrow())?;
        if let (Some((entity, log)), true) = (self.fed, old.is_some()) {
            log.note(entity, K::as_bytes(key.borrow()).as_ref(), ChangeOp::Delete);
        }
        Ok(old)
    }
}

/// A read transaction: a consistent snapshot of the database.
pub struct ReadTxn {
    /// Tables opened so far, kept open for the life of the snapshot: opening a table costs a
    /// lookup in redb's table directory, as much as the point read that follows it.
    pub(crate) tables: ReadTables,
    _db: Database,
}

impl ReadTxn {
    /// The local time now by the clock of the handle this snapshot was taken from
    /// ([`Database::now`]): when an export of the snapshot was made.
    pub fn now(&self) -> DateTime {
        self._db.now()
    }
}

macro_rules! tables {
    ($($name:ident: $def:ident => $kind:ident<$k:ty, $v:ty>),* $(,)?) => {
        /// Lazily opened, cached read-only tables of one [`ReadTxn`]. (Some tables are only
        /// written or read by write transactions: their read accessors go unused.)
        #[allow(dead_code)]
        pub(crate) struct ReadTables {
            pub(crate) txn: redb::ReadTransaction,
            $($name: OnceLock<tables!(@read $kind, $k, $v)>,)*
        }

        impl ReadTables {
            fn new(txn: redb::ReadTransaction) -> ReadTables {
                ReadTables { txn, $($name: OnceLock::new(),)* }
            }

            $(
                #[doc = concat!("The `", stringify!($def), "` table.")]
                #[allow(dead_code)]
                pub(crate) fn $name(&self) -> Result<&tables!(@read $kind, $k, $v)> {
                    if let Some(t) = self.$name.get() {
                        return Ok(t);
                    }
                    let t = match tables!(@try_open $kind, self.txn, $def) {
                        Ok(t) => t,
                        // Only a read-only handle on a file written before the table existed
                        // gets here (a read-write open adds every table): it reads as empty.
                        Err(redb::TableError::TableDoesNotExist(_)) => {
                            tables!(@open $kind, empty_tables()?, $def)
                        }
                        Err(e) => return Err(e.into()),
                    };
                    Ok(self.$name.get_or_init(|| t))
                }
            )*
        }

        /// The tables of one write transaction, each opened on first use and kept open for
        /// the life of the [`Tx`] view: opening a redb table costs a lookup in its table
        /// directory, closing it a write of its root, each as much as the insert between.
        pub(crate) struct WriteTables<'t> {
            txn: &'t redb::WriteTransaction,
            /// Where writes to tables of fed records are noted ([`TableMut`]).
            feed: &'t FeedLog,
            $($name: OnceCell<(RefCell<tables!(@write $kind, $k, $v)>, Option<Entity>)>,)*
        }

        impl<'t> WriteTables<'t> {
            fn new(txn: &'t redb::WriteTransaction, feed: &'t FeedLog) -> WriteTables<'t> {
                WriteTables { txn, feed, $($name: OnceCell::new(),)* }
            }

            $(
                #[doc = concat!("The `", stringify!($def), "` table, for reading and writing.")]
                pub(crate) fn $name(&self) -> Result<tables!(@handle $kind, $k, $v)> {
                    if self.$name.get().is_none() {
                        let t = tables!(@open $kind, self.txn, $def);
                        let _ = self.$name.set((RefCell::new(t), Entity::of_table($def.name())));
                    }
                    let (cell, entity) = self.$name.get().expect("set above");
                    let table = cell.try_borrow_mut().unwrap_or_else(|_| {
                        panic!(concat!("table ", stringify!($def), " borrowed twice in one view"))
                    });
                    Ok(tables!(@wrap $kind, table, *entity, self.feed))
                }
            )*
        }
        /// The tables of either kind of transaction, for reading: code that only reads is
        /// written once, generic over this trait, and serves [`ReadTxn`] (through its
        /// [`ReadTables`]) and write transactions (through their [`WriteTables`]) alike.
        pub(crate) trait ReadView {
            $(
                #[doc = concat!("The `", stringify!($def), "` table, for reading.")]
                #[allow(dead_code)]
                fn $name(&self) -> Result<impl Deref<Target = tables!(@readable $kind, $k, $v)> + '_>;
            )*
        }

        impl ReadView for ReadTables {
            $(
                fn $name(&self) -> Result<impl Deref<Target = tables!(@readable $kind, $k, $v)> + '_> {
                    ReadTables::$name(self)
                }
            )*
        }

        impl ReadView for WriteTables<'_> {
            $(
                fn $name(&self) -> Result<impl Deref<Target = tables!(@readable $kind, $k, $v)> + '_> {
                    WriteTables::$name(self)
                }
            )*
        }
    };
    (@readable table, $k:ty, $v:ty) => { impl ReadableTable<$k, $v> };
    (@readable multimap, $k:ty, $v:ty) => { impl redb::ReadableMultimapTable<$k, $v> };
    (@read table, $k:ty, $v:ty) => { redb::ReadOnlyTable<$k, $v> };
    (@read multimap, $k:ty, $v:ty) => { redb::ReadOnlyMultimapTable<$k, $v> };
    (@write table, $k:ty, $v:ty) => { redb::Table<'t, $k, $v> };
    (@write multimap, $k:ty, $v:ty) => { redb::MultimapTable<'t, $k, $v> };
    (@handle table, $k:ty, $v:ty) => { TableMut<'_, 't, $k, $v> };
    (@handle multimap, $k:ty, $v:ty) => { RefMut<'_, redb::MultimapTable<'t, $k, $v>> };
    (@wrap table, $t:expr, $entity:expr, $feed:expr) => {
        TableMut { table: $t, fed: $entity.map(|e| (e, $feed)) }
    };
    // Multimap tables are indexes: nothing in them is fed.
    (@wrap multimap, $t:expr, $entity:expr, $feed:expr) => {{
        let _: Option<Entity> = $entity;
        $t
    }};
    (@def table, $k:ty, $v:ty) => { redb::TableDefinition<'static, $k, $v> };
    (@def multimap, $k:ty, $v:ty) => { redb::MultimapTableDefinition<'static, $k, $v> };
    (@open table, $txn:expr, $def:ident) => { $txn.open_table($def)? };
    (@try_open table, $txn:expr, $def:ident) => { $txn.open_table($def) };
    (@try_open multimap, $txn:expr, $def:ident) => { $txn.open_multimap_table($def) };
    (@open multimap, $txn:expr, $def:ident) => { $txn.open_multimap_table($def)? };
}

tables! {
    meta: META => table<&'static str, &'static [u8]>,
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
    access: ACCESS => table<&'static str, &'static [u8]>,
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
    source_records: SOURCE_RECORDS => table<&'static [u8], u64>,
    incomplete_by_customer: INCOMPLETE_BY_CUSTOMER => multimap<u64, &'static [u8]>,
    audit: AUDIT => table<u64, &'static [u8]>,
    audit_by_customer: AUDIT_BY_CUSTOMER => table<(u64, u64), ()>,
    erasures: ERASURES => table<u64, &'static [u8]>,
    changes: CHANGES => table<u64, &'static [u8]>,
    feed_consumers: FEED_CONSUMERS => table<&'static str, u64>,
}

/// Picks the open table of a definition passed as a value (`RecordTables`, a unique-key check
/// looping over its keys): one accessor per table shape, so only definitions of that shape
/// can be named.
macro_rules! by_definition {
    ($fn:ident -> $kind:ident<$k:ty, $v:ty> { $($def:ident => $name:ident),* $(,)? }) => {
        impl<'t> WriteTables<'t> {
            #[doc = concat!("The open table of `def`, one of the ", stringify!($kind), "s of this shape.")]
            pub(crate) fn $fn(
                &self,
                def: tables!(@def $kind, $k, $v),
            ) -> Result<tables!(@handle $kind, $k, $v)> {
                $(if def.name() == $def.name() {
                    return self.$name();
                })*
                unreachable!("{} is not a table of this shape", def.name())
            }
        }
    };
}

by_definition!(records -> table<u64, &'static [u8]> {
    CUSTOMERS => customers, VEHICLES => vehicles, LEADS => leads, COMPLAINTS => complaints,
    SURVEYS => surveys, ROLLUPS => rollups, OWNERSHIP => ownership, MEMBERS => members,
    POSTINGS => postings, LOTS => lots, TIERS => tiers, CONSENTS => consents,
    CONFLICTS => conflicts,
});
by_definition!(unique_keys -> table<&'static str, u64> {
    CUSTOMER_BY_NATIONAL_ID => customer_by_national_id,
    CUSTOMER_BY_CREDIT_CODE => customer_by_credit_code,
    VEHICLE_BY_VIN => vehicle_by_vin, VEHICLE_BY_PLATE => vehicle_by_plate,
    POSTING_KEYS => posting_keys,
});
by_definition!(customer_links -> multimap<u64, u64> {
    CUSTOMER_VEHICLES => customer_vehicles, CUSTOMER_LEADS => customer_leads,
    CUSTOMER_COMPLAINTS => customer_complaints, CUSTOMER_SURVEYS => customer_surveys,
});

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
