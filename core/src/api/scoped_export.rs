//! Arrow exports made *as* a scope (cargo feature `arrow`): the tables of [`crate::export`],
//! with the same columns, holding only the rows the scope sees and its masked values.
//!
//! Who gets which rows is the scope's visibility ([`Access::sees`]) applied to every row, and
//! to every customer a row names: an export never names a customer the scope does not see.
//! So a dealer gets the customers it serves and only its own touchpoints, leads, complaints
//! and surveys ([`Access::sees_own`]); a role with a consent channel the customers whose
//! consent holds on the handle's today — judged when the export runs, so a withdrawal takes
//! the customer out of the very next export. Values a scope may not see are masked
//! ([`Access::sight`]) before the record reaches the column builders: no unmasked value is
//! ever in a batch.
//!
//! Each export is audited as [`AuditAction::Export`], naming the customers whose rows it holds,
//! and the entry is appended durably before the table is returned (not left in the read
//! queue, whose tail a crash loses): taking many customers' data out is the access the trail
//! exists for. A scope without `export` gets `access_denied` and nothing is audited.

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::RecordBatch;

use crate::access::{Access, Permission};
use crate::audit::AuditAction;
use crate::error::{Error, Result};
use crate::export::{self, VehicleRow};
use crate::ids::CustomerId;
use crate::store::ReadTxn;

use super::seen::{distinct, Seen};
use super::ScopedStore;

impl ScopedStore {
    /// Runs export `what` (needs `export`), audits it naming the customers `f` returns, and
    /// appends the entry durably before handing the table out.
    fn export<T>(
        &self,
        what: &str,
        f: impl FnOnce(&ReadTxn, &Access) -> Result<(T, Vec<CustomerId>)>,
    ) -> Result<T> {
        self.access()
            .require(Permission::Export, || format!("export ({what})"))?;
        let table = self.read(AuditAction::Export, what, |r, a| {
            let (table, customers) = f(r, a)?;
            Ok((table, distinct(customers)))
        })?;
        self.flush_audit()?;
        Ok(table)
    }

    /// [`ScopedStore::export`] of a table whose rows `f` keeps by what [`Seen`] says.
    fn export_rows<T>(
        &self,
        what: &str,
        f: impl FnOnce(&ReadTxn, &mut Seen<'_>) -> Result<T>,
    ) -> Result<T> {
        self.export(what, |r, a| {
            let mut seen = Seen::new(r, a);
            let table = f(r, &mut seen)?;
            Ok((table, seen.named))
        })
    }

    /// The customers this scope sees, one row each, as [`export::customers`] builds them
    /// (same columns, `threads` as there), with national IDs and credit codes, phones and
    /// birth dates masked as the scope's sight says (`110***********1234`, `138****5678`,
    /// 1 January of the year; the table has no street address column). Needs `export`;
    /// audited as an export naming every customer in it.
    pub fn customers_table(&self, threads: Option<usize>) -> Result<Vec<RecordBatch>> {
        self.export("customers_table", |r, a| {
            let batches = seen_customers(r, a, threads)?;
            let customers = ids_in(&batches)?;
            Ok((batches, customers))
        })
    }

    /// Touchpoints this scope sees, as [`export::touchpoints`] builds them: customer
    /// `customer`'s, or (`None`) every customer's it sees; a dealer only its own touchpoints.
    /// A customer the scope does not see gives no rows, as one that does not exist. Needs
    /// `export`; audited as an export naming the customers of the rows.
    pub fn touchpoints_table(&self, customer: Option<CustomerId>) -> Result<RecordBatch> {
        self.export_rows("touchpoints_table", |r, seen| {
            seen_touchpoints(r, seen, customer)
        })
    }

    /// Leads this scope sees, as [`export::leads`] builds them (a dealer: those assigned to
    /// it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn leads_table(&self) -> Result<RecordBatch> {
        self.export_rows("leads_table", seen_leads)
    }

    /// Complaints this scope sees, as [`export::complaints`] builds them (a dealer: those
    /// naming it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn complaints_table(&self) -> Result<RecordBatch> {
        self.export_rows("complaints_table", seen_complaints)
    }

    /// Surveys this scope sees, as [`export::surveys`] builds them (a dealer: those naming
    /// it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn surveys_table(&self) -> Result<RecordBatch> {
        self.export_rows("surveys_table", seen_surveys)
    }

    /// Loyalty ledger postings this scope sees, as [`export::postings`] builds them: customer
    /// `customer`'s or (`None`) every customer's it sees; a dealer only the postings made at
    /// it (earned on its touchpoints, redeemed at it, in its dealer wallet) — not the brand's
    /// own. Needs `export`; audited as an export naming the customers of the rows.
    pub fn postings_table(&self, customer: Option<CustomerId>) -> Result<RecordBatch> {
        self.export_rows("postings_table", |r, seen| seen_postings(r, seen, customer))
    }

    /// Vehicles of the customers this scope sees, as [`export::vehicles`] builds them: a
    /// vehicle is in it if a customer the scope sees owns or owned it, and its `owner` is the
    /// current owner only if the scope sees him (else null), so no other owner is named. A
    /// scope that sees every customer gets every vehicle, ownerless ones too. Needs `export`;
    /// audited as an export naming the owners it holds.
    pub fn vehicles_table(&self) -> Result<RecordBatch> {
        self.export_rows("vehicles_table", seen_vehicles)
    }

    /// The ownership periods of the customers this scope sees, as [`export::ownership`]
    /// builds them: another owner's periods of the same vehicle are left out. Needs `export`;
    /// audited as an export naming the owners it holds.
    pub fn ownership_table(&self) -> Result<RecordBatch> {
        self.export_rows("ownership_table", seen_ownership)
    }

    /// Loyalty lots this scope sees, as [`export::lots`] builds them: those of the customers
    /// it sees; a dealer only the lots it issued (as with postings, not the brand's own).
    /// Needs `export`; audited as an export naming the customers of the rows.
    pub fn lots_table(&self) -> Result<RecordBatch> {
        self.export_rows("lots_table", seen_lots)
    }
}

#[cfg(feature = "parquet")]
impl ScopedStore {
    /// The lakehouse export ([`export::lake::write_snapshot`]) as this scope sees it: the same
    /// folder layout and columns, each table holding exactly the rows of its scoped `*_table`
    /// export above (customers masked by the scope's sight, a dealer's own touchpoints, leads,
    /// complaints, surveys, postings and lots), the dealers as they are (no customer data),
    /// and `home_dealers` computed on the facts the scope sees (as its KPIs attribute them),
    /// for its customers only. The manifest names the scope.
    ///
    /// Needs `export`; the folder is checked before anything is read (a foreign non-empty
    /// folder: `invalid_operation.export_target_not_empty`, nothing written, nothing audited).
    /// All tables come from one snapshot and are audited as one export naming every customer
    /// in them; the entry is appended durably before the files get their final names and the
    /// manifest is written, so no export is ever on disk under its final names unaudited.
    pub fn export_lake(
        &self,
        dir: &std::path::Path,
        opts: &export::lake::LakeOptions,
    ) -> Result<export::lake::LakeReport> {
        use export::lake::{self, LakeTable};
        self.access()
            .require(Permission::Export, || "export (lake)".into())?;
        if opts.incremental {
            return Err(Error::refused(
                crate::error::Refusal::ExportNotIncremental,
                "increments are written unscoped (the change feed as a scope sees it is \
                 ScopedStore::changes_after); export a scoped snapshot instead",
            ));
        }
        let target = lake::Target::check(dir)?;
        let scope = self.access().scope.to_string();
        let staged = self.export("lake export", |r, a| {
            let on = opts.as_of.unwrap_or_else(|| r.now().date());
            let mut seen = Seen::new(r, a);
            let mut customers = Vec::new();
            let staged = lake::stage(r, target, opts, Some(scope), |t| {
                Ok(match t {
                    LakeTable::Dealers => vec![export::dealers(r)?],
                    LakeTable::Customers => {
                        let batches = seen_customers(r, a, opts.threads)?;
                        customers.extend(ids_in(&batches)?);
                        batches
                    }
                    LakeTable::Vehicles => vec![seen_vehicles(r, &mut seen)?],
                    LakeTable::Ownership => vec![seen_ownership(r, &mut seen)?],
                    LakeTable::Touchpoints => vec![seen_touchpoints(r, &mut seen, None)?],
                    LakeTable::Leads => vec![seen_leads(r, &mut seen)?],
                    LakeTable::Complaints => vec![seen_complaints(r, &mut seen)?],
                    LakeTable::Surveys => vec![seen_surveys(r, &mut seen)?],
                    LakeTable::Postings => vec![seen_postings(r, &mut seen, None)?],
                    LakeTable::Lots => vec![seen_lots(r, &mut seen)?],
                    LakeTable::HomeDealers => {
                        let facts = a.facts(r.facts()?);
                        customers.extend(facts.customers.iter().map(|c| c.id));
                        vec![export::home_dealers_of(&facts, on)?]
                    }
                })
            })?;
            customers.append(&mut seen.named);
            Ok((staged, customers))
        })?;
        staged.publish()
    }
}

// The scoped tables' rows, one function each: what each `*_table` export above builds, and
// what the scoped lakehouse export (`export_lake`) writes, on one snapshot with one `Seen`.

/// The customers `a` sees, masked by its sight.
fn seen_customers(r: &ReadTxn, a: &Access, threads: Option<usize>) -> Result<Vec<RecordBatch>> {
    let sight = a.sight();
    export::customers_with(r, threads, |id, c| {
        if !a.sees(r, id)? {
            return Ok(None);
        }
        Ok(Some(sight.customer(&c).0))
    })
}

/// The touchpoints `seen` keeps: `customer`'s, or every customer's.
fn seen_touchpoints(
    r: &ReadTxn,
    seen: &mut Seen<'_>,
    customer: Option<CustomerId>,
) -> Result<RecordBatch> {
    export::touchpoints_with(r, customer, |t| seen.record(t.customer, t.dealer))
}

/// The leads `seen` keeps.
fn seen_leads(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::leads_with(r, |l| seen.record(l.customer, l.dealer))
}

/// The complaints `seen` keeps.
fn seen_complaints(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::complaints_with(r, |c| seen.record(c.customer, c.dealer))
}

/// The surveys `seen` keeps.
fn seen_surveys(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::surveys_with(r, |s| seen.record(s.customer, s.dealer))
}

/// The postings `seen` keeps: `customer`'s, or every customer's.
fn seen_postings(
    r: &ReadTxn,
    seen: &mut Seen<'_>,
    customer: Option<CustomerId>,
) -> Result<RecordBatch> {
    export::postings_with(r, customer, |p| seen.record(p.customer, p.dealer))
}

/// The lots `seen` keeps (a dealer: those it issued).
fn seen_lots(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::lots_with(r, |l| seen.record(l.customer, l.issuer))
}

/// The vehicles of the owners `seen` keeps.
fn seen_vehicles(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::vehicles_with(r, |row| seen_owners(seen, row))
}

/// The ownership periods of the owners `seen` keeps.
fn seen_ownership(r: &ReadTxn, seen: &mut Seen<'_>) -> Result<RecordBatch> {
    export::ownership_with(r, |row| seen_owners(seen, row))
}

/// `row` with its ownership history cut to the periods of customers the scope sees (noted as
/// named); `None` if none is left — unless the scope sees everyone, which keeps every
/// vehicle as the unscoped export does.
fn seen_owners(
    seen: &mut Seen<'_>,
    (id, vehicle, mut history): VehicleRow,
) -> Result<Option<VehicleRow>> {
    let periods = std::mem::take(&mut history.0);
    for p in periods {
        if seen.customer(p.customer)? {
            seen.named.push(p.customer);
            history.0.push(p);
        }
    }
    let keep = !history.0.is_empty() || seen.a.sees_everyone();
    Ok(keep.then_some((id, vehicle, history)))
}

/// The customer ids of a customers table's `id` column: what its audit entry names, read from
/// the batches built, so the entry names exactly the rows handed out.
fn ids_in(batches: &[RecordBatch]) -> Result<Vec<CustomerId>> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b
            .column_by_name("id")
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or_else(|| Error::Internal {
                what: "the customers table has no u64 id column".into(),
            })?;
        out.extend(ids.values().iter().map(|&v| CustomerId(v)));
    }
    Ok(out)
}
