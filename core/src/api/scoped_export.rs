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
            let sight = a.sight();
            let batches = export::customers_with(r, threads, |id, c| {
                if !a.sees(r, id)? {
                    return Ok(None);
                }
                Ok(Some(sight.customer(&c).0))
            })?;
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
            export::touchpoints_with(r, customer, |t| seen.record(t.customer, t.dealer))
        })
    }

    /// Leads this scope sees, as [`export::leads`] builds them (a dealer: those assigned to
    /// it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn leads_table(&self) -> Result<RecordBatch> {
        self.export_rows("leads_table", |r, seen| {
            export::leads_with(r, |l| seen.record(l.customer, l.dealer))
        })
    }

    /// Complaints this scope sees, as [`export::complaints`] builds them (a dealer: those
    /// naming it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn complaints_table(&self) -> Result<RecordBatch> {
        self.export_rows("complaints_table", |r, seen| {
            export::complaints_with(r, |c| seen.record(c.customer, c.dealer))
        })
    }

    /// Surveys this scope sees, as [`export::surveys`] builds them (a dealer: those naming
    /// it). Needs `export`; audited as an export naming the customers of the rows.
    pub fn surveys_table(&self) -> Result<RecordBatch> {
        self.export_rows("surveys_table", |r, seen| {
            export::surveys_with(r, |s| seen.record(s.customer, s.dealer))
        })
    }

    /// Loyalty ledger postings this scope sees, as [`export::postings`] builds them: customer
    /// `customer`'s or (`None`) every customer's it sees; a dealer only the postings made at
    /// it (earned on its touchpoints, redeemed at it, in its dealer wallet) — not the brand's
    /// own. Needs `export`; audited as an export naming the customers of the rows.
    pub fn postings_table(&self, customer: Option<CustomerId>) -> Result<RecordBatch> {
        self.export_rows("postings_table", |r, seen| {
            export::postings_with(r, customer, |p| seen.record(p.customer, p.dealer))
        })
    }

    /// Vehicles of the customers this scope sees, as [`export::vehicles`] builds them: a
    /// vehicle is in it if a customer the scope sees owns or owned it, and its `owner` is the
    /// current owner only if the scope sees him (else null), so no other owner is named. A
    /// scope that sees every customer gets every vehicle, ownerless ones too. Needs `export`;
    /// audited as an export naming the owners it holds.
    pub fn vehicles_table(&self) -> Result<RecordBatch> {
        self.export_rows("vehicles_table", |r, seen| {
            export::vehicles_with(r, |row| seen_owners(seen, row))
        })
    }

    /// The ownership periods of the customers this scope sees, as [`export::ownership`]
    /// builds them: another owner's periods of the same vehicle are left out. Needs `export`;
    /// audited as an export naming the owners it holds.
    pub fn ownership_table(&self) -> Result<RecordBatch> {
        self.export_rows("ownership_table", |r, seen| {
            export::ownership_with(r, |row| seen_owners(seen, row))
        })
    }
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
