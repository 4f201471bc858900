//! autocrm through its public API: every record validated and normalised, unique keys and
//! references checked, source records made idempotent, indexes and rollups maintained.

use std::path::{Path, PathBuf};

use autocrm::{CustomerId, Database, Dealer, DealerId};

use crate::store::{customer_digest, file_bytes, Store, ViewDigest, ViewFold, TIMELINE_LIMIT};
use crate::workload::{Batch, Owned, SingleWrite, VehicleStep};
use crate::BenchResult;

/// An autocrm database file opened with durable commits (the default).
pub struct AutocrmStore {
    db: Database,
    path: PathBuf,
}

impl AutocrmStore {
    /// Creates the database at `path`.
    pub fn create(path: &Path) -> BenchResult<AutocrmStore> {
        Ok(AutocrmStore {
            db: Database::options().durable(true).open(path)?,
            path: path.to_path_buf(),
        })
    }

    /// The id of the latest change in the change feed (how many changes it recorded).
    pub fn last_change(&self) -> BenchResult<u64> {
        Ok(self.db.begin_read()?.last_change()?)
    }

    /// Creates the database at `path` with the change feed on (a consumer registered), so
    /// every commit also appends its changes.
    pub fn create_with_feed(path: &Path) -> BenchResult<AutocrmStore> {
        let store = AutocrmStore::create(path)?;
        store
            .db
            .write(|w| w.register_consumer("bench").map(|_| ()))?;
        Ok(store)
    }
}

/// Fails if autocrm assigned another id than the one the plan predicted (and the other stores
/// use): the comparison would no longer read the same records.
fn expect_id(what: &str, got: u64, want: u64) -> BenchResult<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("autocrm assigned {what} id {got}, the plan expected {want}").into())
    }
}

/// [`expect_id`] for a batch: the ids autocrm assigned, in order, against every planned id.
fn expect_ids<'a, I, T>(
    what: &str,
    got: &[I],
    plans: impl Iterator<Item = &'a Owned<T>>,
) -> BenchResult<()>
where
    I: Copy + Into<u64>,
    T: 'a,
{
    let want: Vec<u64> = plans.flat_map(|o| o.with_ids().map(|(id, _)| id)).collect();
    if got.len() != want.len() {
        return Err(format!(
            "autocrm returned {} {what} ids, the plan has {}",
            got.len(),
            want.len()
        )
        .into());
    }
    for (&g, w) in got.iter().zip(want) {
        expect_id(what, g.into(), w)?;
    }
    Ok(())
}

impl Store for AutocrmStore {
    fn name(&self) -> &'static str {
        "autocrm"
    }

    fn ingest_dealers(&mut self, dealers: &[(DealerId, Dealer)]) -> BenchResult<()> {
        let mut tx = self.db.begin_write()?;
        for (id, d) in dealers {
            let got = tx.insert_dealer(d)?;
            expect_id("dealer", got.0.into(), id.0.into())?;
        }
        tx.commit()?;
        Ok(())
    }

    fn ingest(&mut self, batch: &Batch) -> BenchResult<()> {
        let mut tx = self.db.begin_write()?;
        let ids = tx.insert_customers(&batch.customer_inputs)?;
        for (got, c) in ids.iter().zip(&batch.customers) {
            expect_id("customer", got.0, c.id.0)?;
        }
        for c in &batch.customers {
            for &(kind, to) in &c.relations {
                tx.relate(c.id, kind, to)?;
            }
            for step in &c.vehicles {
                match step {
                    VehicleStep::New {
                        id, input, from, ..
                    } => {
                        let got = tx.insert_vehicle(input, Some((c.id, *from)))?;
                        expect_id("vehicle", got.0, id.0)?;
                    }
                    VehicleStep::Transfer { id, on } => tx.transfer_vehicle(*id, c.id, *on)?,
                }
            }
        }
        // Everything else in one batch call per kind, as a bulk loader would.
        let got = tx.insert_touchpoints(&batch.touchpoint_inputs)?;
        expect_ids(
            "touchpoint",
            &got,
            batch.customers.iter().map(|c| &c.touchpoints),
        )?;
        let got = tx.insert_leads(&batch.lead_inputs)?;
        expect_ids("lead", &got, batch.customers.iter().map(|c| &c.leads))?;
        let got = tx.insert_complaints(&batch.complaint_inputs)?;
        expect_ids(
            "complaint",
            &got,
            batch.customers.iter().map(|c| &c.complaints),
        )?;
        let got = tx.insert_surveys(&batch.survey_inputs)?;
        expect_ids("survey", &got, batch.customers.iter().map(|c| &c.surveys))?;
        tx.commit()?;
        Ok(())
    }

    fn view_360(&mut self, ids: &[CustomerId]) -> BenchResult<ViewDigest> {
        let r = self.db.begin_read()?;
        let mut digest = ViewDigest {
            common: 0,
            touchpoints_total: Some(0),
        };
        for &id in ids {
            let v = r.customer_360(id, TIMELINE_LIMIT)?;
            let mut f = ViewFold::default();
            f.profile(v.customer.name(), v.customer.phones.len());
            for ov in v.current_vehicles.iter().chain(&v.past_vehicles) {
                f.vehicle(ov.id.0, ov.ownership.0.len());
            }
            for rel in &v.relations {
                f.relation(rel.from.0, rel.kind as u8, rel.to.0);
            }
            for (lead, _) in &v.leads {
                f.owned(1, lead.0);
            }
            for (complaint, _) in &v.complaints {
                f.owned(2, complaint.0);
            }
            for (survey, _) in &v.surveys {
                f.owned(3, survey.0);
            }
            for (pos, (tp, _)) in v.timeline.items.iter().enumerate() {
                f.timeline(pos, tp.0);
            }
            digest.merge(ViewDigest {
                common: f.finish(),
                touchpoints_total: Some(v.rollup.touchpoints()),
            });
        }
        Ok(digest)
    }

    fn single_write(&mut self, write: &SingleWrite) -> BenchResult<()> {
        let mut tx = self.db.begin_write()?;
        let got = tx.insert_touchpoint(&write.input)?;
        tx.commit()?;
        expect_id("touchpoint", got.0, write.id)
    }

    fn point_gets(&mut self, ids: &[CustomerId]) -> BenchResult<u64> {
        let r = self.db.begin_read()?;
        let mut sum = 0u64;
        for &id in ids {
            sum = sum.wrapping_add(customer_digest(&r.customer(id)?));
        }
        Ok(sum)
    }

    fn disk_bytes(&self) -> u64 {
        file_bytes(&self.path, &[])
    }
}
