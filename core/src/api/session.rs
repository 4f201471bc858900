//! A database handle every front end shares: closable, with a writer guard and read sessions
//! that build the facts snapshot once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};
use std::thread::ThreadId;

use crate::analytics::Facts;
use crate::audit::NewAuditEntry;
use crate::error::{Error, Refusal, Result};
use crate::store::{CheckReport, Database, ReadTxn, WriteTxn};

/// A shareable database handle for front ends (bindings, the CLI, a web back end): a
/// [`Database`] that can be closed while clones of the handle live on, and that refuses a
/// second write transaction on a thread that already holds one — core's
/// [`Database::begin_write`] would wait for it forever.
///
/// Cloning is cheap (an `Arc`); every clone sees the same state.
///
/// ```
/// use autocrm::api::Store;
/// # fn main() -> autocrm::Result<()> {
/// let store = Store::new(autocrm::Database::in_memory()?);
/// let w = store.write()?;
/// let Err(again) = store.write() else { panic!("a second writer on this thread") };
/// assert_eq!(again.code(), "invalid_operation.write_transaction_reentrant");
/// w.commit()?;
/// store.write()?.abort()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    db: RwLock<Option<Database>>,
    writer: Arc<WriterGuard>,
    /// Audit entries of scoped reads not yet appended (see [`crate::api::ScopedStore`]).
    audit: Mutex<Vec<NewAuditEntry>>,
}

impl Drop for StoreInner {
    /// The last handle appends the queued read audit entries before the file closes.
    fn drop(&mut self) {
        let entries = std::mem::take(self.audit.get_mut().unwrap_or_else(|p| p.into_inner()));
        if let (false, Ok(Some(db))) = (entries.is_empty(), self.db.get_mut()) {
            if let Ok(mut w) = db.begin_write() {
                if w.append_audit(&entries).is_ok() {
                    let _ = w.commit();
                }
            }
        }
    }
}

/// Who holds the database's write transaction: the thread that opened it, and a serial number
/// naming that transaction, so a finished transaction never clears its successor's record.
#[derive(Default)]
struct WriterGuard {
    holder: Mutex<Option<(ThreadId, u64)>>,
    serial: AtomicU64,
}

impl WriterGuard {
    fn holder(&self) -> MutexGuard<'_, Option<(ThreadId, u64)>> {
        self.holder.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check(&self) -> Result<()> {
        let me = std::thread::current().id();
        match *self.holder() {
            Some((t, _)) if t == me => Err(Error::refused(
                Refusal::WriteTransactionReentrant,
                "this thread already has a write transaction open on this database",
            )),
            _ => Ok(()),
        }
    }

    fn acquired(&self) -> u64 {
        let n = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        *self.holder() = Some((std::thread::current().id(), n));
        n
    }

    fn released(&self, serial: u64) {
        let mut g = self.holder();
        if matches!(*g, Some((_, n)) if n == serial) {
            *g = None;
        }
    }
}

fn closed() -> Error {
    Error::refused(Refusal::DatabaseClosed, "the database handle is closed")
}

impl Store {
    /// Wraps an open database.
    pub fn new(db: Database) -> Store {
        Store {
            inner: Arc::new(StoreInner {
                db: RwLock::new(Some(db)),
                writer: Arc::default(),
                audit: Mutex::default(),
            }),
        }
    }

    /// The database, or `invalid_operation.database_closed` after [`Store::close`].
    pub fn database(&self) -> Result<Database> {
        self.inner
            .db
            .read()
            .map_err(|_| closed())?
            .clone()
            .ok_or_else(closed)
    }

    /// Whether [`Store::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.db.read().map(|g| g.is_none()).unwrap_or(true)
    }

    /// Closes the handle (idempotent). The file is released once the transactions still open
    /// are finished.
    pub fn close(&self) {
        // Scoped reads' audit entries go to the file before it closes; if that fails (a
        // transaction still open on this thread) they are appended when the last handle drops.
        let _ = self.flush_audit();
        let db = self.inner.db.write().ok().and_then(|mut g| g.take());
        drop(db);
    }

    /// Runs `f` on the only reference to the database (compaction and the integrity check need
    /// it); refused while a clone of the database, a transaction or a session is alive.
    pub fn exclusive<T>(&self, f: impl FnOnce(&mut Database) -> Result<T>) -> Result<T> {
        let mut g = self.inner.db.write().map_err(|_| closed())?;
        let db = g.as_mut().ok_or_else(closed)?;
        f(db)
    }

    /// [`Database::compact`] through [`Store::exclusive`].
    pub fn compact(&self) -> Result<bool> {
        self.exclusive(|db| db.compact())
    }

    /// [`Database::check`] through [`Store::exclusive`].
    pub fn check(&self) -> Result<CheckReport> {
        self.exclusive(|db| db.check())
    }

    /// The database, for an operation that opens write transactions of its own (an import):
    /// refused like [`Store::write`] if this thread holds a write transaction.
    pub fn database_for_writing(&self) -> Result<Database> {
        let db = self.database()?;
        self.inner.writer.check()?;
        Ok(db)
    }

    /// Starts a write transaction. Waits while another thread's is open; refused with
    /// `invalid_operation.write_transaction_reentrant` if this thread's own is still open.
    pub fn write(&self) -> Result<WriteSession> {
        let db = self.database_for_writing()?;
        let txn = db.begin_write()?;
        let serial = self.inner.writer.acquired();
        Ok(WriteSession {
            txn: Mutex::new(Some(txn)),
            writer: self.inner.writer.clone(),
            serial,
        })
    }

    /// Queues a scoped read's audit entry; returns how many are queued.
    pub(crate) fn queue_audit(&self, entry: NewAuditEntry) -> usize {
        let mut q = self.inner.audit.lock().unwrap_or_else(|p| p.into_inner());
        q.push(entry);
        q.len()
    }

    /// Takes the queued audit entries (oldest first).
    pub(crate) fn take_audit(&self) -> Vec<NewAuditEntry> {
        std::mem::take(&mut *self.inner.audit.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts entries taken by [`Store::take_audit`] back in front of the queue (their append
    /// failed).
    pub(crate) fn requeue_audit(&self, mut entries: Vec<NewAuditEntry>) {
        let mut q = self.inner.audit.lock().unwrap_or_else(|p| p.into_inner());
        entries.append(&mut q);
        *q = entries;
    }

    /// Starts a read session: one consistent snapshot.
    pub fn read(&self) -> Result<ReadSession> {
        Ok(ReadSession::new(self.database()?.begin_read()?))
    }
}

/// A write transaction shared with a front end's object: usable from any thread, one call at a
/// time. A call while another thread's call runs is refused (`transaction_busy`) instead of
/// waiting; a call after commit or abort is refused (`transaction_finished`).
pub struct WriteSession {
    txn: Mutex<Option<WriteTxn>>,
    writer: Arc<WriterGuard>,
    serial: u64,
}

fn finished() -> Error {
    Error::refused(
        Refusal::TransactionFinished,
        "this transaction is already committed, aborted or closed",
    )
}

fn busy() -> Error {
    Error::refused(
        Refusal::TransactionBusy,
        "this write transaction is in use by another thread",
    )
}

impl Drop for WriteSession {
    fn drop(&mut self) {
        self.writer.released(self.serial);
    }
}

impl WriteSession {
    fn lock(&self) -> Result<MutexGuard<'_, Option<WriteTxn>>> {
        match self.txn.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::WouldBlock) => Err(busy()),
            Err(TryLockError::Poisoned(_)) => Err(finished()),
        }
    }

    /// Runs `f` on the transaction.
    pub fn with<T>(&self, f: impl FnOnce(&mut WriteTxn) -> Result<T>) -> Result<T> {
        let mut g = self.lock()?;
        f(g.as_mut().ok_or_else(finished)?)
    }

    /// Whether the transaction was committed or aborted.
    pub fn is_finished(&self) -> bool {
        self.txn.try_lock().map(|g| g.is_none()).unwrap_or(false)
    }

    /// Commits (durably unless durability was turned off).
    pub fn commit(&self) -> Result<()> {
        self.finish(true)
    }

    /// Rolls back everything written in the transaction.
    pub fn abort(&self) -> Result<()> {
        self.finish(false)
    }

    fn finish(&self, commit: bool) -> Result<()> {
        let tx = self.lock()?.take().ok_or_else(finished)?;
        self.writer.released(self.serial);
        if commit {
            tx.commit()
        } else {
            tx.abort()
        }
    }

    /// Evaluates saved segment `name` as of `as_of` on a fresh snapshot of the committed data
    /// and stores its members in this transaction ([`WriteTxn::materialise_segment`]).
    pub fn materialise_segment(
        &self,
        name: &str,
        as_of: crate::Date,
    ) -> Result<crate::CustomerSet> {
        self.with(|tx| {
            let facts = tx.database().begin_read()?.facts()?;
            tx.materialise_segment(name, as_of, &facts)
        })
    }
}

/// A read snapshot shared with a front end's object: any number of threads may read it at
/// once. Analytics calls (segments, KPIs, due actions) share one [`Facts`] snapshot, built on
/// first use.
pub struct ReadSession {
    txn: RwLock<Option<Arc<ReadTxn>>>,
    facts: Mutex<Option<Arc<Facts>>>,
}

impl ReadSession {
    fn new(r: ReadTxn) -> ReadSession {
        ReadSession {
            txn: RwLock::new(Some(Arc::new(r))),
            facts: Mutex::new(None),
        }
    }

    /// The snapshot, or `transaction_finished` after [`ReadSession::close`].
    pub fn txn(&self) -> Result<Arc<ReadTxn>> {
        self.txn
            .read()
            .map_err(|_| finished())?
            .clone()
            .ok_or_else(finished)
    }

    /// Runs `f` on the snapshot.
    pub fn with<T>(&self, f: impl FnOnce(&ReadTxn) -> Result<T>) -> Result<T> {
        f(&*self.txn()?)
    }

    /// The facts of this snapshot, built once ([`ReadTxn::facts`]).
    pub fn facts(&self) -> Result<Arc<Facts>> {
        let r = self.txn()?;
        let mut g = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = g.as_ref() {
            return Ok(f.clone());
        }
        let f = Arc::new(r.facts()?);
        *g = Some(f.clone());
        Ok(f)
    }

    /// Runs `f` on the snapshot and its facts.
    pub fn with_facts<T>(&self, f: impl FnOnce(&ReadTxn, &Facts) -> Result<T>) -> Result<T> {
        let facts = self.facts()?;
        f(&*self.txn()?, &facts)
    }

    /// Releases the snapshot and its facts (idempotent); later calls are refused.
    pub fn close(&self) {
        if let Ok(mut g) = self.txn.write() {
            g.take();
        }
        if let Ok(mut f) = self.facts.lock() {
            f.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_shareable_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Store>();
        send_sync::<WriteSession>();
        send_sync::<ReadSession>();
    }

    #[test]
    fn another_thread_waits_for_the_writer_instead_of_being_refused() {
        let store = Store::new(Database::in_memory().unwrap());
        let w = store.write().unwrap();
        let s2 = store.clone();
        let t = std::thread::spawn(move || s2.write().map(|w| w.commit()).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(20));
        w.commit().unwrap();
        assert!(t.join().unwrap());
    }

    #[test]
    fn a_finished_or_closed_handle_refuses_with_its_code() {
        let store = Store::new(Database::in_memory().unwrap());
        let w = store.write().unwrap();
        w.abort().unwrap();
        assert!(w.is_finished());
        let e = w.with(|_| Ok(())).unwrap_err();
        assert_eq!(e.code(), "invalid_operation.transaction_finished");
        let r = store.read().unwrap();
        r.close();
        assert_eq!(
            r.with(|r| r.customer_count()).unwrap_err().code(),
            "invalid_operation.transaction_finished"
        );
        store.close();
        assert!(store.is_closed());
        assert_eq!(
            store.read().err().unwrap().code(),
            "invalid_operation.database_closed"
        );
    }

    #[test]
    fn dropping_an_unfinished_session_frees_the_thread_to_write_again() {
        let store = Store::new(Database::in_memory().unwrap());
        drop(store.write().unwrap());
        store.write().unwrap().commit().unwrap();
    }

    #[test]
    fn facts_are_built_once_per_session() {
        let store = Store::new(Database::in_memory().unwrap());
        let r = store.read().unwrap();
        let a = r.facts().unwrap();
        let b = r.facts().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
