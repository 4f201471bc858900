//! Replicas through the shared handle ([`crate::sync`]): batches as bytes, so every front end
//! carries them the same way (a file, a request body, a phone's upload).

use crate::access::Scope;
use crate::error::Result;
use crate::ids::CustomerId;
use crate::sync::{self, ReplicaState, ReplicaStatus, SyncBatch, SyncReport};

use super::session::Store;

impl Store {
    /// [`sync::register_replica`] on this (HQ's) file.
    pub fn register_replica(&self, name: &str, scope: &Scope) -> Result<()> {
        sync::register_replica(&self.database_for_writing()?, name, scope)
    }

    /// [`sync::init_replica`]: makes this empty file replica `name` with scope `scope`.
    pub fn init_replica(&self, name: &str, scope: &Scope) -> Result<()> {
        sync::init_replica(&self.database_for_writing()?, name, scope)
    }

    /// [`sync::push`]: this replica's batch for HQ, as bytes.
    pub fn sync_push(&self) -> Result<Vec<u8>> {
        Ok(sync::push(&self.database()?)?.to_bytes())
    }

    /// [`sync::serve`]: applies a replica's pushed bytes to this (HQ's) file; returns the
    /// answer's bytes and what applying did.
    pub fn sync_serve(&self, up: &[u8]) -> Result<(Vec<u8>, SyncReport)> {
        let batch = SyncBatch::from_bytes(up)?;
        let (down, report) = sync::serve(&self.database_for_writing()?, &batch)?;
        Ok((down.to_bytes(), report))
    }

    /// [`sync::pull`]: applies HQ's answer bytes to this replica.
    pub fn sync_pull(&self, down: &[u8]) -> Result<SyncReport> {
        let batch = SyncBatch::from_bytes(down)?;
        sync::pull(&self.database_for_writing()?, &batch)
    }

    /// [`sync::sync`]: round trips between this replica and `hq` (another open file) until HQ
    /// has nothing more, at most `max_rounds`; the reports of the last serve and pull.
    pub fn sync_with(&self, hq: &Store, max_rounds: usize) -> Result<(SyncReport, SyncReport)> {
        sync::sync(
            &self.database_for_writing()?,
            &hq.database_for_writing()?,
            max_rounds,
        )
    }

    /// [`sync::status`]: this replica's standing.
    pub fn sync_status(&self) -> Result<ReplicaStatus> {
        sync::status(&self.database()?)
    }

    /// [`sync::local_customer`]: this replica's own id of HQ's customer `hq` (`None` until a
    /// pull brought it).
    pub fn replica_customer(&self, hq: CustomerId) -> Result<Option<CustomerId>> {
        sync::local_customer(&self.database()?.begin_read()?, hq)
    }

    /// The replicas this (HQ's) file has registered.
    pub fn replicas(&self) -> Result<Vec<ReplicaState>> {
        sync::replicas(&self.database()?.begin_read()?)
    }
}
