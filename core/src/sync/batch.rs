//! What travels between a replica and HQ: one [`SyncBatch`] each way per round trip, as bytes
//! in a codec envelope (model byte, format version, checksum), so a batch damaged in transit
//! or written by a newer release is refused before anything is applied.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError};
use crate::consent::ConsentEvent;
use crate::customer::Customer;
use crate::date::DateTime;
use crate::dealer::Dealer;
use crate::error::{Error, Refusal, Result};
use crate::touchpoint::Touchpoint;
use crate::vehicle::Vehicle;

/// Which way a batch goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// A replica's own changes, and its request for HQ's ([`super::push`]).
    Up,
    /// HQ's changes the replica's scope may see ([`super::serve`]).
    Down,
}

/// A record as both files know it: its id at HQ and its id in the replica, where the sender
/// knows them. HQ's ids are the shared names; a record a replica created has only its replica
/// id until HQ has applied it and says so in a later batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRef {
    /// The record's id in HQ's file.
    pub hq: Option<u64>,
    /// The record's id in the replica's file.
    pub replica: Option<u64>,
}

/// Where the replica stands in HQ's data: what it asks HQ for next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullPosition {
    /// HQ's change the replica has applied through (meaningful once `copied`).
    pub after: u64,
    /// The first copy under way: HQ's latest change when it began and the last customer
    /// copied so far.
    pub copy: Option<CopyProgress>,
    /// Whether the first copy is complete (then HQ sends changes after `after`).
    pub copied: bool,
}

/// How far the first copy of a replica has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyProgress {
    /// HQ's latest change when the copy began: the replica follows the feed from there.
    pub at: u64,
    /// The highest HQ customer id copied so far.
    pub after_customer: u64,
}

/// A customer in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerEntry {
    /// Its ids.
    pub id: SyncRef,
    /// The record (its `source` is the receiver's business: it is replaced on arrival).
    pub customer: Customer,
}

/// A vehicle in a batch, with its current owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleEntry {
    /// Its ids.
    pub id: SyncRef,
    /// Its current owner.
    pub owner: SyncRef,
    /// The code of its selling dealer (dealer ids differ between files; codes do not).
    pub selling_dealer: Option<String>,
    /// The record (`selling_dealer` and `source` are set by the receiver).
    pub vehicle: Vehicle,
}

/// A touchpoint in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouchpointEntry {
    /// Its ids.
    pub id: SyncRef,
    /// Its customer.
    pub customer: SyncRef,
    /// The vehicle concerned.
    pub vehicle: Option<SyncRef>,
    /// The code of the dealer involved.
    pub dealer: Option<String>,
    /// The record (customer, vehicle, dealer and source are set by the receiver).
    pub touchpoint: Touchpoint,
}

/// A customer's consent history in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEntry {
    /// The customer.
    pub customer: SyncRef,
    /// Every grant and withdrawal, in the order they happened.
    pub events: Vec<ConsentEvent>,
}

/// One batch of a sync round trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncBatch {
    /// Which way it goes.
    pub direction: Direction,
    /// The replica's name (its source system at HQ).
    pub replica: String,
    /// The replica's scope, as text (`dealer:SH001`, `owner:42`).
    pub scope: String,
    /// When the sender made it (the sender's clock).
    pub made_at: DateTime,
    /// Up: where the replica stands (what it asks for). Down: the position it answers.
    pub request: PullPosition,
    /// Down: where the replica stands once it has applied this batch.
    pub reached: PullPosition,
    /// Up: the replica's latest change this batch carries (HQ acknowledges it in its answer).
    /// Down: the replica's latest change HQ has applied (the replica may forget what it sent
    /// up to there).
    pub replica_change: u64,
    /// Down: HQ has more for the replica (sync again).
    pub more: bool,
    /// Dealers, by code (sent down whole: the directory is small and everyone sees it).
    pub dealers: Vec<Dealer>,
    /// Customers, created or changed.
    pub customers: Vec<CustomerEntry>,
    /// Vehicles, created or changed.
    pub vehicles: Vec<VehicleEntry>,
    /// Touchpoints, new.
    pub touchpoints: Vec<TouchpointEntry>,
    /// Consent histories, whole (applied by adding the events the receiver lacks).
    pub consents: Vec<ConsentEntry>,
    /// Down: merges made at HQ, as (survivor, merged).
    pub merges: Vec<(SyncRef, SyncRef)>,
    /// Customers erased (down: at HQ; up: in the replica, for HQ to erase if the scope may).
    pub erasures: Vec<SyncRef>,
}
codec::model!(SyncBatch, SyncBatch, "sync batch");

impl SyncBatch {
    /// An empty batch.
    pub(crate) fn new(direction: Direction, replica: &str, scope: &str, at: DateTime) -> Self {
        SyncBatch {
            direction,
            replica: replica.to_owned(),
            scope: scope.to_owned(),
            made_at: at,
            request: PullPosition::default(),
            reached: PullPosition::default(),
            replica_change: 0,
            more: false,
            dealers: Vec::new(),
            customers: Vec::new(),
            vehicles: Vec::new(),
            touchpoints: Vec::new(),
            consents: Vec::new(),
            merges: Vec::new(),
            erasures: Vec::new(),
        }
    }

    /// The batch as bytes to carry (a file, a request body).
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// A batch from bytes [`SyncBatch::to_bytes`] made; anything else (damaged, truncated,
    /// from a newer release) is refused with `invalid_operation.sync_batch_unreadable`.
    pub fn from_bytes(bytes: &[u8]) -> Result<SyncBatch> {
        codec::decode(bytes).map_err(|e: DecodeError| {
            Error::refused(
                Refusal::SyncBatchUnreadable,
                format!(
                    "{} bytes are not a sync batch this release reads: {e}",
                    bytes.len()
                ),
            )
        })
    }

    /// How many sensitive touchpoints (complaints, rescues, warranty claims…) it carries.
    pub fn sensitive(&self) -> usize {
        self.touchpoints
            .iter()
            .filter(|t| t.touchpoint.sensitive)
            .count()
    }

    /// How many records it carries.
    pub fn len(&self) -> usize {
        self.customers.len()
            + self.vehicles.len()
            + self.touchpoints.len()
            + self.consents.len()
            + self.merges.len()
            + self.erasures.len()
    }

    /// Whether it carries no record (dealers aside).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
