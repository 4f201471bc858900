//! The phone's file as an owner replica of HQ's (core's `autocrm::sync`, through
//! `api::Store`): [`OwnerReplica`] makes an empty file the replica and runs its half of each
//! round trip — `syncPush` (the bytes to upload), `syncPull` (HQ's answer) and `syncStatus` —
//! and [`OwnerApp`] has the same three calls for an app that already holds one. Batches cross
//! the boundary as bytes (`ByteArray`, `Data`); the app carries them to and from HQ.

use std::sync::{Arc, RwLock};

use autocrm::access::Scope;
use autocrm::api::Store;
use autocrm::sync::{ReplicaStatus as CoreStatus, SyncReport as CoreReport};
use autocrm::{CustomerId, Database};

use crate::{closed, OwnerApp, Result, CACHE_BYTES};

/// A record of a batch that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncRejection {
    /// `customer`, `vehicle`, `touchpoint`, `merge` or `erasure`.
    pub entity: String,
    /// Its id at HQ, as the batch gave it.
    pub hq_id: Option<u64>,
    /// Its id in the phone's file, as the batch gave it.
    pub replica_id: Option<u64>,
    /// Core's stable code of why (docs/errors.md).
    pub code: String,
    /// What was wrong.
    pub message: String,
}

/// What applying a batch did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Customers created or changed.
    pub customers: u64,
    /// Vehicles created or changed.
    pub vehicles: u64,
    /// Touchpoints added.
    pub touchpoints: u64,
    /// Merges applied.
    pub merges: u64,
    /// Erasures applied.
    pub erasures: u64,
    /// Consent events added.
    pub consents: u64,
    /// Records received that changed nothing.
    pub unchanged: u64,
    /// Records refused, each with why; the rest of the batch was applied.
    pub rejected: Vec<SyncRejection>,
    /// The batch had been applied before: nothing was done.
    pub already_applied: bool,
    /// HQ has more: push and pull again.
    pub more: bool,
}

/// The phone file's standing as a replica.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReplicaStatus {
    /// The replica's name (its source system at HQ).
    pub name: String,
    /// Its scope (`owner:<HQ customer id>`).
    pub scope: String,
    /// Changes made on the phone that HQ has not confirmed yet.
    pub pending: u64,
    /// Of those, changes to sensitive touchpoints (a complaint, a rescue…): sync at once when
    /// not zero.
    pub pending_sensitive: u64,
    /// Whether the first copy of HQ's data is complete.
    pub copied: bool,
    /// HQ's change the file has applied through.
    pub position: u64,
}

impl From<CoreReport> for SyncReport {
    fn from(r: CoreReport) -> SyncReport {
        SyncReport {
            customers: r.customers,
            vehicles: r.vehicles,
            touchpoints: r.touchpoints,
            merges: r.merges,
            erasures: r.erasures,
            consents: r.consents,
            unchanged: r.unchanged,
            rejected: r
                .rejected
                .into_iter()
                .map(|x| SyncRejection {
                    entity: x.entity.into(),
                    hq_id: x.id.hq,
                    replica_id: x.id.replica,
                    code: x.code,
                    message: x.message,
                })
                .collect(),
            already_applied: r.already_applied,
            more: r.more,
        }
    }
}

impl From<CoreStatus> for ReplicaStatus {
    fn from(s: CoreStatus) -> ReplicaStatus {
        ReplicaStatus {
            name: s.state.name,
            scope: s.state.scope,
            pending: s.pending,
            pending_sensitive: s.pending_sensitive,
            copied: s.state.pull.copied,
            position: s.state.pull.after,
        }
    }
}

/// The three replica calls on a store, under [`autocrm::guard`].
fn push(store: &Store) -> Result<Vec<u8>> {
    Ok(autocrm::guard(|| store.sync_push())?)
}

fn pull(store: &Store, down: &[u8]) -> Result<SyncReport> {
    Ok(autocrm::guard(|| store.sync_pull(down))?.into())
}

fn status(store: &Store) -> Result<ReplicaStatus> {
    Ok(autocrm::guard(|| store.sync_status())?.into())
}

/// The phone's database file as owner `hq_customer_id`'s replica of HQ. HQ registers the
/// replica under the same name and scope (`owner:<hq_customer_id>`); the app carries
/// [`OwnerReplica::sync_push`]'s bytes to HQ and HQ's answer to [`OwnerReplica::sync_pull`],
/// until the report says there is no `more`. Once the owner's record has arrived,
/// [`OwnerReplica::app`] gives the [`OwnerApp`] on the same file (HQ's data there has the
/// phone's own ids).
#[derive(uniffi::Object)]
pub struct OwnerReplica {
    store: RwLock<Option<Store>>,
    hq_customer_id: u64,
}

impl OwnerReplica {
    fn store(&self) -> Result<Store> {
        let g = self.store.read().map_err(|_| closed())?;
        g.clone().ok_or_else(closed)
    }
}

#[uniffi::export]
impl OwnerReplica {
    /// Opens the file at `path` (created if missing) and makes it replica `name` of HQ for
    /// owner `hq_customer_id` (HQ's id). Opening the same replica again just opens it.
    /// `invalid_operation.replica_not_empty` for a file that holds customers or is another
    /// replica; `validation.*` on the name; `already_open` if another handle holds the file.
    #[uniffi::constructor]
    pub fn open(path: String, name: String, hq_customer_id: u64) -> Result<Arc<OwnerReplica>> {
        let db = Database::options().cache_bytes(CACHE_BYTES).open(&path)?;
        let store = Store::new(db);
        let scope = Scope::Owner(CustomerId(hq_customer_id));
        if let Err(e) = autocrm::guard(|| store.init_replica(&name, &scope)) {
            store.close();
            return Err(e.into());
        }
        Ok(Arc::new(OwnerReplica {
            store: RwLock::new(Some(store)),
            hq_customer_id,
        }))
    }

    /// The batch to upload to HQ: the phone's changes HQ has not confirmed, and where the
    /// file stands in HQ's data. Writes nothing: pushing again sends the same changes (HQ
    /// applies them once).
    pub fn sync_push(&self) -> Result<Vec<u8>> {
        push(&self.store()?)
    }

    /// Applies HQ's answer in one transaction. The same bytes again change nothing
    /// (`already_applied`); `invalid_operation.sync_batch_unreadable` for bytes that are no
    /// batch (damaged in transit), `invalid_operation.sync_batch_mismatch` for a batch made
    /// for another replica or position (push again).
    pub fn sync_pull(&self, down: Vec<u8>) -> Result<SyncReport> {
        pull(&self.store()?, &down)
    }

    /// The file's standing: pending changes (sync at once when `pending_sensitive` is not
    /// zero), whether the first copy is complete.
    pub fn sync_status(&self) -> Result<ReplicaStatus> {
        status(&self.store()?)
    }

    /// The owner's customer id in this file (`None` until a pull has brought it).
    pub fn customer_id(&self) -> Result<Option<u64>> {
        let store = self.store()?;
        let hq = CustomerId(self.hq_customer_id);
        Ok(autocrm::guard(|| store.replica_customer(hq))?.map(|c| c.0))
    }

    /// The owner app on this file (sharing it: closing either closes the file for both).
    /// `unknown_scope` until a pull has brought the owner's record.
    pub fn app(&self) -> Result<Arc<OwnerApp>> {
        let store = self.store()?;
        let local = self
            .customer_id()?
            .ok_or_else(|| autocrm::Error::UnknownScope {
                scope: format!("owner:{}", self.hq_customer_id),
                why: "the owner's record has not arrived from HQ yet: sync first".into(),
            })?;
        Ok(Arc::new(OwnerApp::on_store(&store, local)?))
    }

    /// Closes the file. Later calls fail with `invalid_operation.database_closed`.
    pub fn close_file(&self) {
        let taken = self.store.write().ok().and_then(|mut g| g.take());
        if let Some(store) = taken {
            store.close();
        }
    }
}

#[uniffi::export]
impl OwnerApp {
    /// As [`OwnerReplica::sync_push`], on this app's file (`invalid_operation.not_a_replica`
    /// if it is not a replica).
    pub fn sync_push(&self) -> Result<Vec<u8>> {
        push(&self.store()?)
    }

    /// As [`OwnerReplica::sync_pull`], on this app's file.
    pub fn sync_pull(&self, down: Vec<u8>) -> Result<SyncReport> {
        pull(&self.store()?, &down)
    }

    /// As [`OwnerReplica::sync_status`], on this app's file.
    pub fn sync_status(&self) -> Result<ReplicaStatus> {
        status(&self.store()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autocrm::{Channel, Customer, Dealer, DealerKind, ServiceKind, Touchpoint, TouchpointKind};

    /// HQ (a file made here with core) and the phone: registered, made a replica, round trips
    /// through bytes, the owner app on the replica, and a change made on the phone reaching
    /// HQ once.
    #[test]
    fn an_owner_replica_round_trips_through_bytes() {
        let dir = std::env::temp_dir().join(format!("autocrm-mobile-sync-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hq = Store::new(Database::in_memory().unwrap());
        let (me, other) = hq
            .database()
            .unwrap()
            .write(|w| {
                let d = w.insert_dealer(&Dealer {
                    code: "SH001".into(),
                    name: "上海一店".into(),
                    region: "East".into(),
                    province: "上海".into(),
                    city: "上海".into(),
                    kind: DealerKind::FourS,
                })?;
                let mut c = Customer::person("王小明");
                c.phones = vec!["13800000001".into()];
                let me = w.insert_customer(&c)?;
                let mut c = Customer::person("李建国");
                c.phones = vec!["13800000002".into()];
                let other = w.insert_customer(&c)?;
                for (who, minute) in [(me, 0), (other, 5)] {
                    w.insert_touchpoint(&Touchpoint {
                        dealer: Some(d),
                        service_kind: Some(ServiceKind::Maintenance),
                        ..Touchpoint::new(
                            "2025-06-01T09:00:00"
                                .parse::<autocrm::DateTime>()
                                .unwrap()
                                .add_seconds(minute * 60),
                            who,
                            Channel::Showroom,
                            TouchpointKind::ServiceVisit,
                        )
                    })?;
                }
                Ok((me, other))
            })
            .unwrap();
        hq.register_replica("phone-1", &Scope::Owner(me)).unwrap();

        let path = dir.join("phone.redb").to_string_lossy().into_owned();
        let phone = OwnerReplica::open(path.clone(), "phone-1".into(), me.0).unwrap();
        let s = phone.sync_status().unwrap();
        assert_eq!((s.pending, s.copied), (0, false));
        assert_eq!(phone.customer_id().unwrap(), None);
        assert_eq!(phone.app().err().unwrap().code(), "unknown_scope");

        let (down, served) = hq.sync_serve(&phone.sync_push().unwrap()).unwrap();
        assert!(served.rejected.is_empty());
        let first = phone.sync_pull(down.clone()).unwrap();
        assert_eq!((first.customers, first.touchpoints), (1, 1), "{first:?}");
        assert!(phone.sync_pull(down).unwrap().already_applied);
        assert!(phone.sync_status().unwrap().copied);
        let local = phone.customer_id().unwrap().expect("the owner arrived");

        // The owner app on the replica sees himself, by the phone's id.
        let app = phone.app().unwrap();
        assert_eq!(app.customer_id().unwrap(), local);
        assert_eq!(app.profile().unwrap().name, "王小明");
        assert_eq!(app.history(None, 10).unwrap().items.len(), 1);

        // A change on the phone goes up once.
        app.update_contact(crate::ContactChange {
            phones: None,
            province: None,
            city: None,
            address: Some("上海市徐汇区漕溪北路1号".into()),
        })
        .unwrap();
        assert!(app.sync_status().unwrap().pending >= 1);
        let up = app.sync_push().unwrap();
        let (down, served) = hq.sync_serve(&up).unwrap();
        assert_eq!(served.customers, 1, "{served:?}");
        let (_, again) = hq.sync_serve(&up).unwrap();
        assert_eq!(again.customers, 0, "{again:?}");
        app.sync_pull(down).unwrap();
        assert_eq!(app.sync_status().unwrap().pending, 0);
        let at_hq = hq
            .database()
            .unwrap()
            .begin_read()
            .unwrap()
            .customer(me)
            .unwrap();
        assert_eq!(at_hq.address.as_deref(), Some("上海市徐汇区漕溪北路1号"));
        assert_eq!(
            hq.database()
                .unwrap()
                .begin_read()
                .unwrap()
                .customer_count()
                .unwrap(),
            2
        );
        let _ = other;

        // Refusals keep core's codes.
        let err = app.sync_pull(b"not a batch".to_vec()).unwrap_err();
        assert_eq!(err.code(), "invalid_operation.sync_batch_unreadable");
        assert!(matches!(err, crate::OwnerError::InvalidOperation { .. }));
        phone.close_file();
        assert_eq!(
            app.sync_status().unwrap_err().code(),
            "invalid_operation.database_closed"
        );
        // The same replica opens again; another name on it is refused.
        let again = OwnerReplica::open(path.clone(), "phone-1".into(), me.0).unwrap();
        assert_eq!(again.customer_id().unwrap(), Some(local));
        again.close_file();
        let err = OwnerReplica::open(path, "phone-2".into(), me.0)
            .err()
            .unwrap();
        assert_eq!(err.code(), "invalid_operation.replica_not_empty");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_file_that_is_no_replica_says_so() {
        let dir = std::env::temp_dir().join(format!("autocrm-mobile-norep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("club.redb").to_string_lossy().into_owned();
        let demo = crate::demo_file(path.clone()).unwrap();
        let app = OwnerApp::open(path.clone(), demo.owner_id).unwrap();
        assert_eq!(
            app.sync_push().unwrap_err().code(),
            "invalid_operation.not_a_replica"
        );
        assert_eq!(
            app.sync_status().unwrap_err().code(),
            "invalid_operation.not_a_replica"
        );
        app.close_file();
        let err = OwnerReplica::open(path, "phone-1".into(), demo.owner_id)
            .err()
            .unwrap();
        assert_eq!(err.code(), "invalid_operation.replica_not_empty");
        std::fs::remove_dir_all(dir).ok();
    }
}
