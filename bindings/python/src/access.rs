//! Access scopes (issue 11) for Python: `Database.scoped(scope, actor, purpose=None)` returns a
//! `ScopedDatabase`, a thin shell over core's `api::ScopedStore`. Every rule — who sees which
//! customer, which fields are masked, which permission a call needs, what is audited — is
//! core's (docs/access.md); this module converts arguments and results with the binding's
//! existing converters, calls core without the GIL, and maps core errors (`AccessDeniedError`,
//! `UnknownScopeError`, …) through `errors::to_py`.

use std::str::FromStr;

use autocrm::access::{Permission, Role, Scope};
use autocrm::api::{ContactUpdate, Referral, ScopedStore};
use autocrm::audit::{AuditEntry, AuditHead, AuditVerification};
use autocrm::{ConsentChannel, CustomerId, CustomerKey, Named};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrow::Table;
use crate::conv::{named_from_py, FromPy, ToPy};
use crate::errors::{detach, IntoPyResult};
use crate::types::{
    Balance, Benefits, CareAction, Customer, Customer360, TierStatus, TimelinePage, Vehicle,
};
use crate::{cursor_arg, ids, one, records, PyDatabase};

#[pymethods]
impl PyDatabase {
    /// This database as access scope `scope` sees it, for `actor` (who acts: a login, a
    /// dealer user, an app installation), optionally stating a `purpose` every audit entry of
    /// its calls records. `scope` is `hq:<role>`, `dealer:<dealer code>` or
    /// `owner:<customer id>`; a misspelt scope or one naming no role, dealer or customer of
    /// the file raises UnknownScopeError. Needs a read-write handle (scoped reads are
    /// audited). See docs/access.md.
    #[pyo3(signature = (scope, actor, purpose=None))]
    fn scoped(
        &self,
        py: Python<'_>,
        scope: &str,
        actor: &str,
        purpose: Option<&str>,
    ) -> PyResult<PyScopedDatabase> {
        let scope = Scope::from_str(scope).py()?;
        let store = detach(py, || {
            let s = self.store.scoped(&scope, actor)?;
            match purpose {
                Some(p) => s.with_purpose(p),
                None => Ok(s),
            }
        })
        .py()?;
        Ok(PyScopedDatabase(store))
    }

    /// Appends the audit entries of scoped reads still queued in this handle now (they are
    /// otherwise appended in batches, with the next scoped write and on close).
    fn flush_audit(&self, py: Python<'_>) -> PyResult<()> {
        detach(py, || self.store.flush_audit()).py()
    }
}

/// The database as one access scope sees it (`Database.scoped`): reads filtered and masked
/// for the scope, writes checked against its permissions, both audited. Share it between
/// threads; it closes with its `Database`.
#[pyclass(frozen, module = "autocrm", name = "ScopedDatabase")]
pub struct PyScopedDatabase(ScopedStore);

impl PyScopedDatabase {
    /// The scoped store.
    pub(crate) fn store(&self) -> &ScopedStore {
        &self.0
    }

    /// Runs `f` on the scoped store without the GIL.
    pub(crate) fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&ScopedStore) -> autocrm::Result<T> + Send,
    ) -> PyResult<T> {
        detach(py, || f(&self.0)).py()
    }
}

/// An audit anchor `"SEQ:HEX"` (what `audit_head()` returns), or a ValueError.
fn anchor_arg(text: &str) -> PyResult<AuditHead> {
    text.parse::<AuditHead>().map_err(|_| {
        PyValueError::new_err(format!(
            "{text:?} is not an audit head; pass what ScopedDatabase.audit_head() returned \
                 (SEQ:HEX, 64 hex digits)"
        ))
    })
}

fn audit_entry<'py>(py: Python<'py>, e: &AuditEntry) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("seq", e.seq)?;
    d.set_item("at", e.at.to_py(py)?)?;
    d.set_item("actor", &e.actor)?;
    d.set_item("scope", &e.scope)?;
    d.set_item("action", e.action.name())?;
    d.set_item("what", &e.what)?;
    d.set_item("customers", e.customers.to_py(py)?)?;
    d.set_item("purpose", e.purpose.clone())?;
    d.set_item("hash", e.head().hex())?;
    let prev = AuditHead {
        seq: e.seq.saturating_sub(1),
        hash: e.prev,
    };
    d.set_item("prev", prev.hex())?;
    Ok(d)
}

fn verification<'py>(py: Python<'py>, v: &AuditVerification) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("entries", v.entries)?;
    d.set_item("head", v.head.to_string())?;
    d.set_item("intact", v.is_intact())?;
    match &v.problem {
        Some(p) => {
            let pd = PyDict::new(py);
            pd.set_item("seq", p.seq)?;
            pd.set_item("kind", p.kind.name())?;
            pd.set_item("what", &p.what)?;
            d.set_item("problem", pd)?;
        }
        None => d.set_item("problem", py.None())?,
    }
    Ok(d)
}

fn role_dict<'py>(py: Python<'py>, r: &Role) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let perms: Vec<&str> = r.permissions.iter().map(|p| p.name()).collect();
    d.set_item("permissions", perms)?;
    d.set_item("consented_channel", r.consented_channel.map(|c| c.name()))?;
    Ok(d)
}

#[pymethods]
impl PyScopedDatabase {
    /// The scope, as spelt canonically (`hq:marketing`, `dealer:SH01`, `owner:42`).
    #[getter]
    fn scope(&self) -> String {
        self.0.access().scope.to_string()
    }

    /// Who acts (the actor given to `Database.scoped`, trimmed).
    #[getter]
    fn actor(&self) -> String {
        self.0.access().actor.clone()
    }

    /// The same scope with `purpose` recorded in every audit entry of its calls (at most 500
    /// characters; blank is none).
    fn with_purpose(&self, purpose: &str) -> PyResult<PyScopedDatabase> {
        self.0.with_purpose(purpose).py().map(PyScopedDatabase)
    }

    /// Customers matching `key` (as `find_customers`: id "C123", national ID, credit code,
    /// VIN, mobile phone or plate) that this scope sees. An unrecognised key finds nobody.
    fn find(&self, py: Python<'_>, key: String) -> PyResult<Vec<u64>> {
        let Some(k) = CustomerKey::parse(&key) else {
            return Ok(Vec::new());
        };
        Ok(ids(self.with(py, |s| s.find(&k))?, |c| c.0))
    }

    /// The 360° view of a customer as this scope sees it: fields it may not see are masked
    /// (listed in `masked`), a dealer sees only its own records. NotFoundError for a customer
    /// the scope does not see.
    #[pyo3(signature = (customer, timeline_limit=20))]
    fn customer_360(
        &self,
        py: Python<'_>,
        customer: u64,
        timeline_limit: usize,
    ) -> PyResult<Customer360> {
        let v = self.with(py, |s| s.customer_360(CustomerId(customer), timeline_limit))?;
        Customer360::new(py, &v)
    }

    /// A page of the customer's timeline as this scope sees it, newest first; `before` is the
    /// previous page's `next`.
    #[pyo3(signature = (customer, limit=50, before=None))]
    fn timeline(
        &self,
        py: Python<'_>,
        customer: u64,
        limit: usize,
        before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TimelinePage> {
        let cursor = cursor_arg(before)?;
        let p = self.with(py, |s| s.timeline(CustomerId(customer), cursor, limit))?;
        TimelinePage::new(py, &p)
    }

    /// Adds a touchpoint (the fields of `insert_touchpoint`); returns its id. A dealer scope
    /// writes only its own: without `dealer` it is stamped with the scope's dealer.
    #[pyo3(signature = (record=None, **fields))]
    fn add_touchpoint(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let t = one(py, "touchpoint", record, fields, records::touchpoint)?;
        self.with(py, move |s| s.add_touchpoint(&t)).map(|i| i.0)
    }

    /// Records customer `customer`'s consent (`granted=True`) or withdrawal for `channel`,
    /// stamped now with the scope as its source.
    fn record_consent(
        &self,
        py: Python<'_>,
        customer: u64,
        channel: &Bound<'_, PyAny>,
        granted: bool,
    ) -> PyResult<()> {
        let ch: ConsentChannel = named_from_py(channel)?;
        self.with(py, move |s| {
            s.record_consent(CustomerId(customer), ch, granted)
        })
    }

    /// Redeems points (the fields of `redeem`: customer, points, at, item, key,
    /// wallet="brand", dealer=None); returns the posting id. A retry with the same key
    /// returns the same posting.
    #[pyo3(signature = (record=None, **fields))]
    fn redeem(
        &self,
        py: Python<'_>,
        record: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        let r = one(py, "redemption", record, fields, records::redemption)?;
        self.with(py, move |s| s.redeem(&r))
    }

    /// The owner changes his own contact details (owner scopes only): `phones` (offered as
    /// the owner app's), `province`, `city`, `address`; None keeps a value.
    #[pyo3(signature = (phones=None, province=None, city=None, address=None))]
    fn update_my_contact(
        &self,
        py: Python<'_>,
        phones: Option<&Bound<'_, PyAny>>,
        province: Option<String>,
        city: Option<String>,
        address: Option<String>,
    ) -> PyResult<()> {
        let phones = phones.map(Option::<Vec<String>>::from_py).transpose()?;
        let c = ContactUpdate {
            phones: phones.flatten(),
            province,
            city,
            address,
        };
        self.with(py, move |s| s.update_my_contact(&c))
    }

    /// Erases customer `customer`'s personal data on request (needs the `erase` permission,
    /// HQ `data_admin` by default); audited as this scope with `reason` as its purpose.
    /// Returns the erasure as a dict (see `WriteTxn.erase_customer`).
    fn erase<'py>(
        &self,
        py: Python<'py>,
        customer: u64,
        reason: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let e = self.with(py, move |s| s.erase(CustomerId(customer), &reason))?;
        crate::erasure::erasure(py, &e)
    }

    /// The audit trail, oldest first: entries after seq `after` (all of them, or those naming
    /// `customer`), at most `limit`. Each a dict: seq, at, actor, scope, action, what,
    /// customers, purpose, hash, prev (hex).
    #[pyo3(signature = (customer=None, after=None, limit=100))]
    fn audit_log<'py>(
        &self,
        py: Python<'py>,
        customer: Option<u64>,
        after: Option<u64>,
        limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let v = self.with(py, |s| s.audit_log(customer.map(CustomerId), after, limit))?;
        let l = PyList::empty(py);
        for e in &v {
            l.append(audit_entry(py, e)?)?;
        }
        Ok(l)
    }

    /// Verifies the audit trail's hash chain (and, with `anchor`, a head `"SEQ:HEX"` taken
    /// earlier, that the trail still holds it). Returns a dict: entries, head ("SEQ:HEX"),
    /// intact (bool), problem (None or {seq, kind, what}).
    #[pyo3(signature = (anchor=None))]
    fn verify_audit<'py>(
        &self,
        py: Python<'py>,
        anchor: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let anchor = anchor.map(anchor_arg).transpose()?;
        let v = self.with(py, |s| match &anchor {
            Some(a) => s.verify_audit_against(a),
            None => s.verify_audit(),
        })?;
        verification(py, &v)
    }

    /// The audit chain's head as `"SEQ:HEX"`, to anchor elsewhere and pass to
    /// `verify_audit(anchor=...)` later.
    fn audit_head(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.with(py, |s| s.audit_head())?.to_string())
    }

    /// The HQ roles: {name: {"permissions": [names], "consented_channel": name or None}}.
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let roles = self.with(py, |s| s.roles())?;
        let d = PyDict::new(py);
        for (name, r) in &roles.0 {
            d.set_item(name, role_dict(py, r)?)?;
        }
        Ok(d)
    }

    /// Stores HQ role `name` with `permissions` (names, `autocrm.PERMISSIONS`) and an optional
    /// consent channel limiting whom it sees; `permissions=None` removes the role.
    #[pyo3(signature = (name, permissions, consented_channel=None))]
    fn set_role(
        &self,
        py: Python<'_>,
        name: String,
        permissions: Option<&Bound<'_, PyAny>>,
        consented_channel: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let permissions = permissions
            .map(Option::<Vec<Permission>>::from_py)
            .transpose()?;
        let channel = consented_channel
            .map(Option::<ConsentChannel>::from_py)
            .transpose()?
            .flatten();
        let role = match permissions.flatten() {
            Some(permissions) => Some(Role {
                permissions,
                consented_channel: channel,
            }),
            None if channel.is_some() => return Err(PyTypeError::new_err(
                "set_role: consented_channel needs permissions (permissions=None removes the role)",
            )),
            None => None,
        };
        self.with(py, move |s| s.set_role(&name, role.as_ref()))
    }

    /// Appends the audit entries of scoped reads still queued now.
    fn flush_audit(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |s| s.flush_audit())
    }

    // -- The owner club's calls (owner scopes only; any other scope raises
    // AccessDeniedError): core's `ScopedStore::my_*`, `set_my_consent`, `redeem_mine`,
    // `refer_friend` (core/src/api/owner.rs, docs/access.md "Owners").

    /// My profile, masked as the owner scope shows it (the national ID masked; `masked`
    /// lists the masked fields).
    fn my_profile<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.with(py, |s| s.my_profile())?;
        let d = PyDict::new(py);
        d.set_item("customer", Customer::new(py, p.id, &p.customer)?)?;
        d.set_item("masked", p.masked.to_vec())?;
        Ok(d)
    }

    /// My vehicles, owned now or before, with my own ownership periods only (their
    /// `warranty_end`, `insurance_expiry`, `inspection_due`).
    fn my_vehicles(&self, py: Python<'_>) -> PyResult<Vec<Vehicle>> {
        let v = self.with(py, |s| s.my_vehicles())?;
        v.iter().map(|o| Vehicle::owned(py, o)).collect()
    }

    /// A page of my history (my timeline), newest first; `before` is the previous page's
    /// `next`.
    #[pyo3(signature = (limit=50, before=None))]
    fn my_history(
        &self,
        py: Python<'_>,
        limit: usize,
        before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TimelinePage> {
        let cursor = cursor_arg(before)?;
        let p = self.with(py, |s| s.my_history(cursor, limit))?;
        TimelinePage::new(py, &p)
    }

    /// My points per wallet: a list of dicts `{"wallet": "brand" or dealer id, "balance":
    /// Balance, "spendable": points spendable today, "expiring": [{"lot", "points",
    /// "expires"}]}` with the lots expiring within `within_days` days (at most 3,660).
    #[pyo3(signature = (within_days=30))]
    fn my_points<'py>(
        &self,
        py: Python<'py>,
        within_days: u32,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let v = self.with(py, |s| s.my_points(within_days))?;
        v.iter()
            .map(|w| {
                let d = PyDict::new(py);
                d.set_item("wallet", w.wallet.to_py(py)?)?;
                d.set_item("balance", Balance::new(py, &w.balance)?)?;
                d.set_item("spendable", w.spendable)?;
                let lots = PyList::empty(py);
                for (id, l) in &w.expiring {
                    let x = PyDict::new(py);
                    x.set_item("lot", id)?;
                    x.set_item("points", l.remaining)?;
                    x.set_item("expires", l.expires.to_py(py)?)?;
                    lots.append(x)?;
                }
                d.set_item("expiring", lots)?;
                Ok(d)
            })
            .collect()
    }

    /// My tier today and how far the next one is: `{"status": TierStatus, "next": None at the
    /// top, else {"tier", "vehicles", "service_visits", "total_spend", "single_ticket",
    /// "points"}}` — what is missing per threshold of the next tier's rule (None: the rule
    /// sets none; meeting any one qualifies).
    fn my_tier<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.with(py, |s| s.my_tier())?;
        let d = PyDict::new(py);
        d.set_item("status", TierStatus::new(py, &t.status)?)?;
        let next = match &t.next {
            None => None,
            Some(g) => {
                let x = PyDict::new(py);
                x.set_item("tier", g.tier.name())?;
                x.set_item("vehicles", g.vehicles)?;
                x.set_item("service_visits", g.service_visits)?;
                x.set_item(
                    "total_spend",
                    g.total_spend.map(|m| m.to_py(py)).transpose()?,
                )?;
                x.set_item(
                    "single_ticket",
                    g.single_ticket.map(|m| m.to_py(py)).transpose()?,
                )?;
                x.set_item("points", g.points)?;
                Some(x)
            }
        };
        d.set_item("next", next)?;
        Ok(d)
    }

    /// The benefits of my tier today.
    fn my_benefits(&self, py: Python<'_>) -> PyResult<Benefits> {
        let b = self.with(py, |s| s.my_benefits())?;
        Benefits::new(py, &b)
    }

    /// My reminders: care actions due for me from today for `days` days (first service,
    /// maintenance, insurance renewal — only with a consent —, annual inspection, warranty
    /// expiry).
    #[pyo3(signature = (days=90))]
    fn my_reminders(&self, py: Python<'_>, days: u32) -> PyResult<Vec<CareAction>> {
        let v = self.with(py, |s| s.my_reminders(days))?;
        v.iter().map(|a| CareAction::new(py, a)).collect()
    }

    /// My consents today: `{channel name: granted}` for every channel.
    fn my_consents<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let v = self.with(py, |s| s.my_consents())?;
        let d = PyDict::new(py);
        for (ch, on) in v {
            d.set_item(ch.name(), on)?;
        }
        Ok(d)
    }

    /// Grants (`granted=True`) or withdraws my consent for `channel`.
    fn set_my_consent(
        &self,
        py: Python<'_>,
        channel: &Bound<'_, PyAny>,
        granted: bool,
    ) -> PyResult<()> {
        let ch: ConsentChannel = named_from_py(channel)?;
        self.with(py, move |s| s.set_my_consent(ch, granted))
    }

    /// Redeems my points: `key` and `at` come from the phone, so a retry with both the same
    /// returns the same posting id and spends nothing more. `wallet` is "brand" (default) or a
    /// dealer id.
    #[pyo3(signature = (points, item, key, at, wallet=None))]
    fn redeem_mine(
        &self,
        py: Python<'_>,
        points: i64,
        item: String,
        key: String,
        at: &Bound<'_, PyAny>,
        wallet: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let w = crate::wallet_arg(wallet)?;
        let at = autocrm::DateTime::from_py(at)?;
        self.with(py, move |s| s.redeem_mine(w, points, &item, &key, at))
    }

    /// Refers a friend (`name`, mobile `phone`) to the dealer with code `dealer` for `model`;
    /// returns the referral lead's id. Needs `refer` (owners hold it); a retry with the same
    /// `key` returns the same lead.
    fn refer_friend(
        &self,
        py: Python<'_>,
        name: String,
        phone: String,
        dealer: String,
        model: String,
        key: String,
    ) -> PyResult<u64> {
        let r = Referral {
            name,
            phone,
            dealer,
            model,
            key,
        };
        self.with(py, move |s| s.refer_friend(&r)).map(|l| l.0)
    }

    // -- Arrow tables: `Database`'s tables (same columns) with the rows this scope sees and
    // its masks; each needs `export` and is audited as an export (core's
    // `ScopedStore::*_table`, docs/access.md "Scoped exports").

    /// The customers this scope sees as an Arrow table, masked for it (the columns of
    /// `Database.customers_table`; `threads` as there).
    #[pyo3(signature = (threads=None))]
    fn customers_table(&self, py: Python<'_>, threads: Option<usize>) -> PyResult<Table> {
        Ok(Table::chunked(
            self.with(py, |s| s.customers_table(threads))?,
        ))
    }

    /// The touchpoints this scope sees (a dealer: its own) as an Arrow table: one customer's,
    /// or everyone's it sees.
    #[pyo3(signature = (customer=None))]
    fn touchpoints_table(&self, py: Python<'_>, customer: Option<u64>) -> PyResult<Table> {
        let c = customer.map(CustomerId);
        Ok(Table::new(self.with(py, |s| s.touchpoints_table(c))?))
    }

    /// The loyalty postings this scope sees (a dealer: those made at it) as an Arrow table:
    /// one customer's, or everyone's it sees.
    #[pyo3(signature = (customer=None))]
    fn postings_table(&self, py: Python<'_>, customer: Option<u64>) -> PyResult<Table> {
        let c = customer.map(CustomerId);
        Ok(Table::new(self.with(py, |s| s.postings_table(c))?))
    }

    /// The vehicles of the customers this scope sees as an Arrow table (`owner` null when
    /// the current owner is someone the scope does not see).
    fn vehicles_table(&self, py: Python<'_>) -> PyResult<Table> {
        Ok(Table::new(self.with(py, ScopedStore::vehicles_table)?))
    }

    /// The ownership periods of the customers this scope sees as an Arrow table.
    fn ownership_table(&self, py: Python<'_>) -> PyResult<Table> {
        Ok(Table::new(self.with(py, ScopedStore::ownership_table)?))
    }

    /// The leads this scope sees (a dealer: those assigned to it) as an Arrow table.
    fn leads_table(&self, py: Python<'_>) -> PyResult<Table> {
        Ok(Table::new(self.with(py, ScopedStore::leads_table)?))
    }

    /// The complaints this scope sees (a dealer: those naming it) as an Arrow table.
    fn complaints_table(&self, py: Python<'_>) -> PyResult<Table> {
        Ok(Table::new(self.with(py, ScopedStore::complaints_table)?))
    }

    /// The surveys this scope sees (a dealer: those naming it) as an Arrow table.
    fn surveys_table(&self, py: Python<'_>) -> PyResult<Table> {
        Ok(Table::new(self.with(py, ScopedStore::surveys_table)?))
    }

    fn __repr__(&self) -> String {
        let a = self.0.access();
        format!(
            "autocrm.ScopedDatabase({:?}, actor={:?})",
            a.scope.to_string(),
            a.actor
        )
    }
}

/// Registers the class.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyScopedDatabase>()?;
    Ok(())
}
