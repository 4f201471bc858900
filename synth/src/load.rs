//! Writing a generated network into a database through the public API, so that examples,
//! tests and benchmarks exercise the same validation, indexes and rollups as real imports.

use crate::{CustomerBundle, Network};
use autocrm::error::Result;
use autocrm::ids::{CustomerId, DealerId, VehicleId};
use autocrm::store::{Database, WriteTxn};

/// How many records a load wrote so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Dealers.
    pub dealers: u64,
    /// Customers.
    pub customers: u64,
    /// Vehicles inserted (new cars).
    pub vehicles: u64,
    /// Used cars passed from an earlier customer.
    pub transfers: u64,
    /// Touchpoints.
    pub touchpoints: u64,
    /// Leads.
    pub leads: u64,
    /// Complaints.
    pub complaints: u64,
    /// Surveys.
    pub surveys: u64,
    /// Relations between customers.
    pub relations: u64,
}

impl LoadStats {
    /// Every record written (transfers update an existing vehicle and are not counted).
    pub fn records(&self) -> u64 {
        self.dealers
            + self.customers
            + self.vehicles
            + self.touchpoints
            + self.leads
            + self.complaints
            + self.surveys
            + self.relations
    }
}

/// Maps the generator's indexes to the ids the store assigned.
#[derive(Default)]
struct IdMap {
    dealers: Vec<DealerId>,
    customers: Vec<CustomerId>,
    /// `vehicles[vehicle_start[i] + k]` is vehicle `k` of customer `i`.
    vehicles: Vec<VehicleId>,
    vehicle_start: Vec<usize>,
}

impl Network {
    /// Writes the whole network into `db`, `batch` customers per transaction, calling
    /// `progress` after every commit.
    pub fn load(
        &self,
        db: &Database,
        batch: usize,
        mut progress: impl FnMut(&LoadStats),
    ) -> Result<LoadStats> {
        let mut stats = LoadStats::default();
        let mut ids = IdMap::default();
        db.write(|tx| {
            for d in self.dealers() {
                ids.dealers.push(tx.insert_dealer(d)?);
                stats.dealers += 1;
            }
            Ok(())
        })?;
        let mut bundles = self.customers().peekable();
        while bundles.peek().is_some() {
            let mut tx = db.begin_write()?;
            for bundle in bundles.by_ref().take(batch.max(1)) {
                load_bundle(&mut tx, &bundle, &mut ids, &mut stats)?;
            }
            tx.commit()?;
            progress(&stats);
        }
        Ok(stats)
    }
}

fn load_bundle(
    tx: &mut WriteTxn,
    b: &CustomerBundle,
    ids: &mut IdMap,
    stats: &mut LoadStats,
) -> Result<()> {
    let me = tx.insert_customer(&b.customer)?;
    ids.customers.push(me);
    ids.vehicle_start.push(ids.vehicles.len());
    stats.customers += 1;
    for (kind, earlier) in &b.relations {
        tx.relate(me, *kind, ids.customers[*earlier])?;
        stats.relations += 1;
    }
    for sv in &b.vehicles {
        let id = match sv.previous_owner {
            Some((owner, k)) => {
                let id = ids.vehicles[ids.vehicle_start[owner] + k];
                tx.transfer_vehicle(id, me, sv.acquired)?;
                stats.transfers += 1;
                id
            }
            None => {
                let mut v = sv.vehicle.clone();
                v.selling_dealer = v.selling_dealer.map(|d| ids.dealers[d.0 as usize]);
                stats.vehicles += 1;
                tx.insert_vehicle(&v, Some((me, sv.acquired)))?
            }
        };
        ids.vehicles.push(id);
    }
    let local = &ids.vehicles[ids.vehicle_start[b.index]..];
    let dealer = |d: Option<DealerId>| d.map(|d| ids.dealers[d.0 as usize]);
    let vehicle = |v: Option<VehicleId>| v.map(|v| local[v.0 as usize]);
    let touchpoints: Vec<_> = b
        .touchpoints
        .iter()
        .map(|t| autocrm::Touchpoint {
            customer: me,
            vehicle: vehicle(t.vehicle),
            dealer: dealer(t.dealer),
            ..t.clone()
        })
        .collect();
    tx.insert_touchpoints(&touchpoints)?;
    stats.touchpoints += touchpoints.len() as u64;
    for l in &b.leads {
        tx.insert_lead(&autocrm::Lead {
            customer: me,
            dealer: dealer(l.dealer),
            ..l.clone()
        })?;
        stats.leads += 1;
    }
    for c in &b.complaints {
        tx.insert_complaint(&autocrm::Complaint {
            customer: me,
            vehicle: vehicle(c.vehicle),
            dealer: dealer(c.dealer),
            ..c.clone()
        })?;
        stats.complaints += 1;
    }
    for s in &b.surveys {
        tx.insert_survey(&autocrm::Survey {
            customer: me,
            dealer: dealer(s.dealer),
            ..s.clone()
        })?;
        stats.surveys += 1;
    }
    Ok(())
}
