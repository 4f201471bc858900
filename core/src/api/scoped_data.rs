//! Data stewardship under a scope: imports, conflicts, duplicates and merges need
//! `manage_data` (HQ `data_admin` by default) and are audited like every scoped call; a dealer
//! reads its own feedback queue and its own row of the quality report. The values a steward
//! reconciles are shown unmasked (docs/access.md): a conflict cannot be judged on masked values.

use std::path::Path;

use crate::access::Permission;
use crate::audit::AuditAction;
use crate::date::{Date, DateTime};
use crate::error::Result;
use crate::identity::{DuplicateCandidate, MergeRecord};
use crate::ids::{ConflictId, CustomerId, DealerId};
use crate::import::{import_file, ImportOptions, ImportReport, Progress};
use crate::integration::{Conflict, FeedbackEntry, QualityReport, Resolution};
use crate::store::ReadTxn;

use super::seen::{distinct, Seen};
use super::ScopedStore;

impl ScopedStore {
    /// Now, by the file's clock: what an import received "now" is stamped with.
    pub fn now(&self) -> Result<DateTime> {
        Ok(self.store().database()?.now())
    }

    fn require_steward(&self, what: impl FnOnce() -> String) -> Result<()> {
        self.access().require(Permission::ManageData, what)
    }

    /// Imports the file at `path` as [`crate::import::import_file`] does. Needs
    /// `manage_data`. The audit entry (`import <file>`) is appended durably before the first
    /// row is read, so the trail never lacks an import that happened, even one that fails
    /// half-way.
    pub fn import_file(
        &self,
        path: impl AsRef<Path>,
        opts: &ImportOptions,
        progress: impl FnMut(&Progress),
    ) -> Result<ImportReport> {
        let path = path.as_ref();
        let what = format!("import {}", path.display());
        self.require_steward(|| what.clone())?;
        self.write(&what, vec![], |_| Ok(()))?;
        import_file(&self.store().database()?, path, opts, progress)
    }

    /// Conflicts (`open_only`: only those waiting for a decision), all or those of
    /// `customer` (and the vehicles it owns or owned) — only customers this scope sees.
    /// Needs `manage_data`; audited as an export naming their customers.
    pub fn conflicts(
        &self,
        open_only: bool,
        customer: Option<CustomerId>,
    ) -> Result<Vec<Conflict>> {
        self.require_steward(|| "list conflicts".into())?;
        self.read(AuditAction::Export, "conflicts", |r, a| {
            let mut list = match customer {
                Some(id) => {
                    let live = self.seen(r, id)?;
                    let mut v = r.conflicts_of(live)?;
                    v.retain(|c| !open_only || c.is_open());
                    v
                }
                None => r.conflicts(open_only)?,
            };
            let mut seen = Seen::new(r, a);
            let mut kept = Vec::with_capacity(list.len());
            for c in list.drain(..) {
                match c.customer() {
                    Some(id) if !seen.customer(id)? => continue,
                    Some(id) => seen.named.push(id),
                    None => {}
                }
                kept.push(c);
            }
            let customers = distinct(seen.named);
            Ok((kept, customers))
        })
    }

    /// Resolves conflict `id` ([`crate::WriteTxn::resolve_conflict`]), decided by this scope's
    /// actor, now. Needs `manage_data`; audited as a write naming the conflict's customer.
    pub fn resolve_conflict(&self, id: ConflictId, resolution: Resolution) -> Result<Conflict> {
        self.require_steward(|| format!("resolve conflict {id}"))?;
        let r = self.store().database()?.begin_read()?;
        if let Some(c) = r.conflict(id)?.customer() {
            self.seen(&r, c)?;
        }
        drop(r);
        self.write_audited(|w| {
            let at = w.now();
            let c = w.resolve_conflict(id, resolution, &self.access().actor, at)?;
            let customers = c.customer().into_iter().collect();
            let what = format!("resolve conflict {id}");
            let entry = self.entry(at, AuditAction::Write, &what, customers);
            Ok((c, Some(entry)))
        })
    }

    /// Duplicate candidates scoring at least `min_score`, all or those of `customer`, between
    /// customers this scope sees. Needs `manage_data`; audited as an export naming both
    /// customers of every pair.
    pub fn duplicates(
        &self,
        min_score: u8,
        customer: Option<CustomerId>,
    ) -> Result<Vec<DuplicateCandidate>> {
        self.require_steward(|| "list duplicate candidates".into())?;
        crate::identity::check_min_score(min_score)?;
        self.read(AuditAction::Export, "duplicates", |r, a| {
            let pairs = match customer {
                Some(id) => r.duplicates_of(self.seen(r, id)?)?,
                None => r.duplicate_candidates(min_score)?,
            };
            let mut seen = Seen::new(r, a);
            let mut kept = Vec::new();
            for p in pairs.into_iter().filter(|p| p.score >= min_score) {
                if seen.customer(p.customer)? && seen.customer(p.other)? {
                    seen.named.extend([p.customer, p.other]);
                    kept.push(p);
                }
            }
            let customers = distinct(seen.named);
            Ok((kept, customers))
        })
    }

    /// Merges customer `merged` into `survivor` ([`crate::WriteTxn::merge_customers`]), by
    /// this scope's actor, now. Needs `manage_data`; both must be customers this scope sees;
    /// audited as a write naming both, in the merge's own transaction.
    pub fn merge(&self, survivor: CustomerId, merged: CustomerId) -> Result<MergeRecord> {
        self.require_steward(|| format!("merge customer {merged} into {survivor}"))?;
        {
            let r = self.store().database()?.begin_read()?;
            self.seen(&r, survivor)?;
            self.seen(&r, merged)?;
        }
        self.write("merge", vec![survivor, merged], |w| {
            let at = w.now();
            w.merge_customers(survivor, merged, at, &self.access().actor)
        })
    }

    /// A feedback queue: a dealer reads its own (`dealer` must be `None` or itself); an HQ
    /// scope with `manage_data` reads `dealer`'s (`None`: every queue). Audited as an export
    /// naming no customer (the entries are rejected source rows).
    pub fn feedback(&self, dealer: Option<DealerId>) -> Result<Vec<FeedbackEntry>> {
        let own = self.access().dealer();
        let queue = match (own, dealer) {
            (Some(me), None) => Some(me),
            (Some(me), Some(d)) if d == me => Some(me),
            _ => {
                self.require_steward(|| match dealer {
                    Some(d) => format!("read the feedback queue of dealer {d}"),
                    None => "read every feedback queue".into(),
                })?;
                dealer
            }
        };
        self.read(AuditAction::Export, "feedback", |r, _| {
            let entries = match queue {
                Some(d) => r.feedback(Some(d))?,
                None => r.feedback_all()?,
            };
            Ok((entries, vec![]))
        })
    }

    /// The data-quality report as of `as_of`. Needs `analytics`; a dealer gets its own row
    /// (and the network total: aggregates, no customer). Audited as an export naming no
    /// customer.
    pub fn quality_report(&self, as_of: Date) -> Result<QualityReport> {
        self.access()
            .require(Permission::Analytics, || "read the quality report".into())?;
        self.read(AuditAction::Export, "quality report", |r: &ReadTxn, a| {
            let mut report = r.quality_report(as_of)?;
            if let Some(d) = a.dealer() {
                report.rows.retain(|row| row.dealer == Some(d));
            }
            Ok((report, vec![]))
        })
    }
}
