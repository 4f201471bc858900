//! Segments, KPIs and care actions under a scope: each call runs on the analytics snapshot as
//! the scope sees it ([`Access::facts`]: only its customers, masked, and for a dealer only its
//! own touchpoints, leads, complaints and surveys), needs `analytics`, and is audited as an
//! export naming every customer it returns.

use crate::access::{Access, Permission};
use crate::analytics::Facts;
use crate::audit::AuditAction;
use crate::care::{due_actions_with, CareAction, CareParams};
use crate::date::Date;
use crate::error::Result;
use crate::ids::CustomerId;
use crate::kpi::{Dimension, Kpi, KpiRow, Period};
use crate::segment::CustomerSet;
use crate::store::ReadTxn;

use super::seen::distinct;
use super::ScopedStore;

impl ScopedStore {
    /// Runs `f` on a snapshot and its facts as this scope sees them; `f` returns its value and
    /// the customers it discloses (for the audit entry `what`).
    fn analytics<T>(
        &self,
        what: &str,
        f: impl FnOnce(&ReadTxn, &Access, Facts) -> Result<(T, Vec<CustomerId>)>,
    ) -> Result<T> {
        self.access()
            .require(Permission::Analytics, || what.into())?;
        self.read(AuditAction::Export, what, |r, a| {
            f(r, a, a.facts(r.facts()?))
        })
    }

    /// The analytics snapshot as this scope sees it: what segments, KPIs and care actions run
    /// on under a scope. Needs `analytics`; audited as an export.
    pub fn facts(&self) -> Result<Facts> {
        self.analytics("facts", |_, _, facts| Ok((facts, vec![])))
    }

    /// KPI `which` by `by` for each of `periods` (e.g. the months of a year) over the
    /// customers this scope sees (for a dealer: its own customers and its own touchpoints),
    /// on one snapshot. Audited as one export naming no customer: the rows are aggregates.
    pub fn kpi(&self, which: Kpi, by: Dimension, periods: &[Period]) -> Result<Vec<KpiRow>> {
        self.analytics(&format!("kpi {}", which.name()), |_, _, facts| {
            let rows = periods.iter().flat_map(|&p| facts.kpi(which, by, p));
            Ok((rows.collect(), vec![]))
        })
    }

    /// The customers this scope sees that match segment rule `rule` as of `as_of`.
    pub fn evaluate(&self, rule: &str, as_of: Date) -> Result<CustomerSet> {
        self.analytics("segment rule", |r, _, facts| {
            let set = r.evaluate(rule, as_of, &facts)?;
            let seen = set.iter().collect();
            Ok((set, seen))
        })
    }

    /// The customers this scope sees in saved segment `name` as of `as_of`.
    pub fn evaluate_segment(&self, name: &str, as_of: Date) -> Result<CustomerSet> {
        self.analytics(&format!("segment {name}"), |r, _, facts| {
            let set = r.evaluate_segment(name, as_of, &facts)?;
            let seen = set.iter().collect();
            Ok((set, seen))
        })
    }

    /// Care actions due on days `from ≤ d < to` for the customers this scope sees; a dealer
    /// gets its own (those it is the dealer of).
    pub fn due_actions(
        &self,
        from: Date,
        to: Date,
        params: &CareParams,
    ) -> Result<Vec<CareAction>> {
        self.analytics("care actions", |_, a, facts| {
            let actions = due_actions_with(&facts, from, to, a.dealer(), params);
            let seen = distinct(actions.iter().map(|x| x.customer).collect());
            Ok((actions, seen))
        })
    }
}
