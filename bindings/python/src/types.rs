//! Result classes: immutable Python objects with one attribute per core field, built once from
//! core values.

use autocrm::care::CareAction as CoreCareAction;
use autocrm::kpi::KpiRow as CoreKpiRow;
use autocrm::loyalty::{
    Balance as CoreBalance, Benefits as CoreBenefits, Cause, ExpiryReport as CoreExpiry,
    LedgerCheck as CoreCheck, Membership as CoreMembership, Posting as CorePosting,
    SettlementLine as CoreSettlement, TierChange as CoreTierChange, TierStatus as CoreTierStatus,
};
use autocrm::{
    Complaint as CoreComplaint, ConsentEvent as CoreConsent, Customer as CoreCustomer,
    Customer360 as Core360, CustomerId, Dealer as CoreDealer, Escalation as CoreEscalation,
    Lead as CoreLead, LeadStatus, OwnedVehicle, OwnershipHistory, Party, Relation as CoreRelation,
    Rollup as CoreRollup, Survey as CoreSurvey, TimelinePage as CoreTimelinePage,
    Touchpoint as CoreTouchpoint, TouchpointId, TouchpointKind, Vehicle as CoreVehicle, VehicleId,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::conv::{dates_to_py, Named, ToPy};

macro_rules! to_py_via_into {
    ($($t:ty),*) => {$(
        impl ToPy for $t {
            fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                Ok(self.clone().into_pyobject(py)?.into_any().unbind())
            }
        }
    )*};
}
to_py_via_into!(u64, u32, u8, i64, usize, f64, String);

impl ToPy for bool {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(pyo3::types::PyBool::new(py, *self)
            .to_owned()
            .into_any()
            .unbind())
    }
}

impl ToPy for &str {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok((*self).into_pyobject(py)?.into_any().unbind())
    }
}

impl<T: ToPy> ToPy for Vec<T> {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let l = PyList::empty(py);
        for v in self {
            l.append(v.to_py(py)?)?;
        }
        Ok(l.into_any().unbind())
    }
}

macro_rules! id_to_py {
    ($($t:ident),*) => {$(
        impl ToPy for autocrm::$t {
            fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> { self.0.to_py(py) }
        }
    )*};
}
id_to_py!(
    CustomerId,
    VehicleId,
    TouchpointId,
    LeadId,
    ComplaintId,
    SurveyId,
    DealerId
);

/// Name of an enum value as a Python str.
pub fn nm<T: Named>(py: Python<'_>, v: T) -> PyResult<Py<PyAny>> {
    v.name().to_py(py)
}

/// Optional enum value as str or None.
pub fn onm<T: Named>(py: Python<'_>, v: Option<T>) -> PyResult<Py<PyAny>> {
    match v {
        Some(v) => nm(py, v),
        None => Ok(py.None()),
    }
}

macro_rules! record_class {
    ($(#[doc = $doc:expr])* $name:ident, $pyname:expr, [$($field:ident),* $(,)?]) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, get_all, module = "autocrm", name = $pyname)]
        pub struct $name {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                pub $field: Py<PyAny>,
            )*
        }

        #[pymethods]
        impl $name {
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!("{}={}", stringify!($field), self.$field.bind(py).repr()?),
                )*];
                Ok(format!("{}({})", $pyname, parts.join(", ")))
            }

            /// The attributes as a dict (nested records stay objects).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), self.$field.clone_ref(py))?; )*
                Ok(d)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
                let py = other.py();
                match other.cast::<$name>() {
                    Ok(o) => {
                        let o = o.get();
                        Ok(true $( && self.$field.bind(py).eq(o.$field.bind(py))? )*)
                    }
                    Err(_) => Ok(false),
                }
            }
        }
    };
}

record_class!(
    /// A dealer (4S shop or service station).
    Dealer, "Dealer", [id, code, name, region, province, city, kind]
);

impl Dealer {
    pub fn new(py: Python<'_>, id: autocrm::DealerId, d: &CoreDealer) -> PyResult<Self> {
        Ok(Dealer {
            id: id.to_py(py)?,
            code: d.code.to_py(py)?,
            name: d.name.to_py(py)?,
            region: d.region.to_py(py)?,
            province: d.province.to_py(py)?,
            city: d.city.to_py(py)?,
            kind: nm(py, d.kind)?,
        })
    }
}

record_class!(
    /// A customer: a person or an organisation (`kind`). Person-only attributes are None on
    /// organisations and vice versa.
    Customer, "Customer", [id, kind, name, phones, province, city, address, source, gender,
        birth_date, occupation, employer, interests, national_id, credit_code, industry]
);

impl Customer {
    pub fn new(py: Python<'_>, id: CustomerId, c: &CoreCustomer) -> PyResult<Self> {
        let none = || py.None();
        let (kind, name, gender, birth, occ, emp, interests, nid, cc, ind) = match &c.party {
            Party::Person(p) => (
                "person",
                &p.name,
                onm(py, p.gender)?,
                p.birth_date.to_py(py)?,
                p.occupation.clone().to_py(py)?,
                p.employer.clone().to_py(py)?,
                p.interests.to_py(py)?,
                p.national_id.clone().to_py(py)?,
                none(),
                none(),
            ),
            Party::Organisation(o) => (
                "organisation",
                &o.name,
                none(),
                none(),
                none(),
                none(),
                Vec::<String>::new().to_py(py)?,
                none(),
                o.credit_code.clone().to_py(py)?,
                o.industry.clone().to_py(py)?,
            ),
        };
        Ok(Customer {
            id: id.to_py(py)?,
            kind: kind.to_py(py)?,
            name: name.to_py(py)?,
            phones: c.phones.to_py(py)?,
            province: c.province.clone().to_py(py)?,
            city: c.city.clone().to_py(py)?,
            address: c.address.clone().to_py(py)?,
            source: c.source.clone().to_py(py)?,
            gender,
            birth_date: birth,
            occupation: occ,
            employer: emp,
            interests,
            national_id: nid,
            credit_code: cc,
            industry: ind,
        })
    }
}

record_class!(
    /// One owner period of a vehicle: `until` is None while the customer owns it.
    Ownership, "Ownership", [customer, since, until]
);

record_class!(
    /// A vehicle, with its ownership history (`owners`) and current owner (`owner`).
    Vehicle, "Vehicle", [id, vin, plate, brand, model, trim, purchase_date, invoice_date,
        registration_date, first_service_date, warranty_end, insurance_expiry, inspection_due,
        usage, selling_dealer, source, owners, owner]
);

impl Vehicle {
    pub fn new(
        py: Python<'_>,
        id: VehicleId,
        v: &CoreVehicle,
        h: &OwnershipHistory,
    ) -> PyResult<Self> {
        let owners = PyList::empty(py);
        for o in &h.0 {
            owners.append(Ownership {
                customer: o.customer.to_py(py)?,
                since: o.from.to_py(py)?,
                until: o.to.to_py(py)?,
            })?;
        }
        Ok(Vehicle {
            id: id.to_py(py)?,
            vin: v.vin.to_py(py)?,
            plate: v.plate.clone().to_py(py)?,
            brand: v.brand.to_py(py)?,
            model: v.model.to_py(py)?,
            trim: v.trim.clone().to_py(py)?,
            purchase_date: v.purchase_date.to_py(py)?,
            invoice_date: v.invoice_date.to_py(py)?,
            registration_date: v.registration_date.to_py(py)?,
            first_service_date: v.first_service_date.to_py(py)?,
            warranty_end: v.warranty_end.to_py(py)?,
            insurance_expiry: v.insurance_expiry.to_py(py)?,
            inspection_due: v.inspection_due.to_py(py)?,
            usage: nm(py, v.usage)?,
            selling_dealer: v.selling_dealer.to_py(py)?,
            source: v.source.clone().to_py(py)?,
            owners: owners.into_any().unbind(),
            owner: h.current().map(|o| o.customer).to_py(py)?,
        })
    }

    pub fn owned(py: Python<'_>, o: &OwnedVehicle) -> PyResult<Self> {
        Vehicle::new(py, o.id, &o.vehicle, &o.ownership)
    }
}

record_class!(
    /// One contact on a customer's timeline. Amounts are `decimal.Decimal` yuan.
    Touchpoint, "Touchpoint", [id, at, customer, vehicle, dealer, channel, kind, service_kind,
        stage, sensitive, amount, parts_amount, labour_amount, mileage_km, score, outcome, note,
        source]
);

impl Touchpoint {
    pub fn new(py: Python<'_>, id: TouchpointId, t: &CoreTouchpoint) -> PyResult<Self> {
        Ok(Touchpoint {
            id: id.to_py(py)?,
            at: t.at.to_py(py)?,
            customer: t.customer.to_py(py)?,
            vehicle: t.vehicle.to_py(py)?,
            dealer: t.dealer.to_py(py)?,
            channel: nm(py, t.channel)?,
            kind: nm(py, t.kind)?,
            service_kind: onm(py, t.service_kind)?,
            stage: onm(py, t.stage)?,
            sensitive: t.sensitive.to_py(py)?,
            amount: t.amount.to_py(py)?,
            parts_amount: t.parts_amount.to_py(py)?,
            labour_amount: t.labour_amount.to_py(py)?,
            mileage_km: t.mileage_km.to_py(py)?,
            score: t.score.to_py(py)?,
            outcome: t.outcome.clone().to_py(py)?,
            note: t.note.clone().to_py(py)?,
            source: t.source.clone().to_py(py)?,
        })
    }
}

record_class!(
    /// A lead (A-card). `status` is a name; `lost_reason` is set when it is "lost".
    Lead, "Lead", [id, customer, origin, model, intent, purchase_type, dealer, received, status,
        lost_reason, status_at, source]
);

/// The name of a lead status and the lost reason.
pub fn lead_status_name(s: &LeadStatus) -> (&'static str, Option<String>) {
    let reason = match s {
        LeadStatus::Lost(r) => Some(r.clone()),
        _ => None,
    };
    (s.name(), reason)
}

impl Lead {
    pub fn new(py: Python<'_>, id: autocrm::LeadId, l: &CoreLead) -> PyResult<Self> {
        let (status, reason) = lead_status_name(&l.status);
        Ok(Lead {
            id: id.to_py(py)?,
            customer: l.customer.to_py(py)?,
            origin: nm(py, l.origin)?,
            model: l.model.to_py(py)?,
            intent: nm(py, l.intent)?,
            purchase_type: nm(py, l.purchase_type)?,
            dealer: l.dealer.to_py(py)?,
            received: l.received.to_py(py)?,
            status: status.to_py(py)?,
            lost_reason: reason.to_py(py)?,
            status_at: l.status_at.to_py(py)?,
            source: l.source.clone().to_py(py)?,
        })
    }
}

record_class!(
    /// A complaint and the times of its steps.
    Complaint, "Complaint", [id, customer, vehicle, dealer, category, received, status,
        first_response, analysed, resolved, called_back, closed, note, source]
);

impl Complaint {
    pub fn new(py: Python<'_>, id: autocrm::ComplaintId, c: &CoreComplaint) -> PyResult<Self> {
        Ok(Complaint {
            id: id.to_py(py)?,
            customer: c.customer.to_py(py)?,
            vehicle: c.vehicle.to_py(py)?,
            dealer: c.dealer.to_py(py)?,
            category: c.category.to_py(py)?,
            received: c.received.to_py(py)?,
            status: nm(py, c.status)?,
            first_response: c.first_response.to_py(py)?,
            analysed: c.analysed.to_py(py)?,
            resolved: c.resolved.to_py(py)?,
            called_back: c.called_back.to_py(py)?,
            closed: c.closed.to_py(py)?,
            note: c.note.clone().to_py(py)?,
            source: c.source.clone().to_py(py)?,
        })
    }
}

record_class!(
    /// A sales or service satisfaction survey; `items` maps factor names to 0–10 scores.
    Survey, "Survey", [id, customer, dealer, kind, date, items, weighted_index, source]
);

impl Survey {
    pub fn new(py: Python<'_>, id: autocrm::SurveyId, s: &CoreSurvey) -> PyResult<Self> {
        let items = PyDict::new(py);
        for (f, score) in &s.items {
            items.set_item(f.name(), *score)?;
        }
        Ok(Survey {
            id: id.to_py(py)?,
            customer: s.customer.to_py(py)?,
            dealer: s.dealer.to_py(py)?,
            kind: nm(py, s.kind)?,
            date: s.date.to_py(py)?,
            items: items.into_any().unbind(),
            weighted_index: s.weighted_index().to_py(py)?,
            source: s.source.clone().to_py(py)?,
        })
    }
}

record_class!(
    /// A relation between two customers (`from_` → `to`).
    Relation, "Relation", [from_, kind, to]
);

impl Relation {
    pub fn new(py: Python<'_>, r: &CoreRelation) -> PyResult<Self> {
        Ok(Relation {
            from_: r.from.to_py(py)?,
            kind: nm(py, r.kind)?,
            to: r.to.to_py(py)?,
        })
    }
}

record_class!(
    /// One marketing-consent grant or withdrawal.
    ConsentEvent, "ConsentEvent", [channel, granted, at, source]
);

impl ConsentEvent {
    pub fn new(py: Python<'_>, c: &CoreConsent) -> PyResult<Self> {
        Ok(ConsentEvent {
            channel: nm(py, c.channel)?,
            granted: c.granted.to_py(py)?,
            at: c.at.to_py(py)?,
            source: c.source.to_py(py)?,
        })
    }
}

record_class!(
    /// Per-customer aggregates kept current on every write. `counts` / `spend` map touchpoint
    /// kinds to counts and Decimal yuan.
    Rollup, "Rollup", [counts, spend, parts_spend, labour_spend, service_dates, first_purchase,
        last_purchase, first_touch, last_touch, max_mileage_km, vehicles_current, vehicles_total,
        first_vehicle, relations, leads, complaints, surveys, touchpoints]
);

impl Rollup {
    pub fn new(py: Python<'_>, r: &CoreRollup) -> PyResult<Self> {
        let counts = PyDict::new(py);
        let spend = PyDict::new(py);
        for k in TouchpointKind::ALL {
            counts.set_item(Named::name(k), r.count(k))?;
            spend.set_item(Named::name(k), r.spent(k).to_py(py)?)?;
        }
        Ok(Rollup {
            counts: counts.into_any().unbind(),
            spend: spend.into_any().unbind(),
            parts_spend: r.parts_spend.to_py(py)?,
            labour_spend: r.labour_spend.to_py(py)?,
            service_dates: dates_to_py(py, &r.service_dates)?,
            first_purchase: r.first_purchase.to_py(py)?,
            last_purchase: r.last_purchase.to_py(py)?,
            first_touch: r.first_touch.to_py(py)?,
            last_touch: r.last_touch.to_py(py)?,
            max_mileage_km: r.max_mileage_km.to_py(py)?,
            vehicles_current: r.vehicles_current.to_py(py)?,
            vehicles_total: r.vehicles_total.to_py(py)?,
            first_vehicle: r.first_vehicle.to_py(py)?,
            relations: r.relations.to_py(py)?,
            leads: r.leads.to_py(py)?,
            complaints: r.complaints.to_py(py)?,
            surveys: r.surveys.to_py(py)?,
            touchpoints: r.touchpoints().to_py(py)?,
        })
    }
}

record_class!(
    /// A page of a timeline, newest first; pass `next` as `before` to get the next page.
    TimelinePage, "TimelinePage", [items, next]
);

fn touchpoints_py(py: Python<'_>, items: &[(TouchpointId, CoreTouchpoint)]) -> PyResult<Py<PyAny>> {
    let l = PyList::empty(py);
    for (id, t) in items {
        l.append(Touchpoint::new(py, *id, t)?)?;
    }
    Ok(l.into_any().unbind())
}

fn cursor_py(py: Python<'_>, p: &CoreTimelinePage) -> PyResult<Py<PyAny>> {
    match &p.next {
        Some(c) => Ok((c.at.to_py(py)?, c.id.0)
            .into_pyobject(py)?
            .into_any()
            .unbind()),
        None => Ok(py.None()),
    }
}

impl TimelinePage {
    pub fn new(py: Python<'_>, p: &CoreTimelinePage) -> PyResult<Self> {
        Ok(TimelinePage {
            items: touchpoints_py(py, &p.items)?,
            next: cursor_py(py, p)?,
        })
    }
}

/// The customer 360° view: profile, rollup, vehicles, relations, leads, complaints, surveys
/// and the newest page of the timeline. `str(view)` is core's plain-text rendering.
#[pyclass(frozen, get_all, module = "autocrm", name = "Customer360")]
pub struct Customer360 {
    /// The customer id.
    pub id: Py<PyAny>,
    /// `Customer`.
    pub customer: Py<PyAny>,
    /// `Rollup`.
    pub rollup: Py<PyAny>,
    /// `list[Vehicle]` owned now.
    pub current_vehicles: Py<PyAny>,
    /// `list[Vehicle]` owned before.
    pub past_vehicles: Py<PyAny>,
    /// `list[Relation]`.
    pub relations: Py<PyAny>,
    /// `list[Lead]`.
    pub leads: Py<PyAny>,
    /// `list[Complaint]`.
    pub complaints: Py<PyAny>,
    /// `list[Survey]`.
    pub surveys: Py<PyAny>,
    /// `list[Touchpoint]`, newest first.
    pub timeline: Py<PyAny>,
    /// Cursor `(datetime, id)` of the next timeline page, or None.
    pub timeline_next: Py<PyAny>,
    /// `list[FieldLineage]`: where each field came from (integration path only).
    pub lineage: Py<PyAny>,
    /// `list[str]`: the profile fields masked for the scope that asked
    /// (`ScopedDatabase.customer_360`); empty in the unscoped API, which is full access.
    pub masked: Py<PyAny>,
    text: String,
}

impl Customer360 {
    pub fn new(py: Python<'_>, v: &Core360) -> PyResult<Self> {
        let vehicles = |vs: &[OwnedVehicle]| -> PyResult<Py<PyAny>> {
            let l = PyList::empty(py);
            for o in vs {
                l.append(Vehicle::owned(py, o)?)?;
            }
            Ok(l.into_any().unbind())
        };
        let list = |items: Vec<Py<PyAny>>| -> PyResult<Py<PyAny>> {
            Ok(PyList::new(py, items)?.into_any().unbind())
        };
        Ok(Customer360 {
            id: v.id.to_py(py)?,
            customer: Py::new(py, Customer::new(py, v.id, &v.customer)?)?.into_any(),
            rollup: Py::new(py, Rollup::new(py, &v.rollup)?)?.into_any(),
            current_vehicles: vehicles(&v.current_vehicles)?,
            past_vehicles: vehicles(&v.past_vehicles)?,
            relations: list(
                v.relations
                    .iter()
                    .map(|r| Ok(Py::new(py, Relation::new(py, r)?)?.into_any()))
                    .collect::<PyResult<_>>()?,
            )?,
            leads: list(
                v.leads
                    .iter()
                    .map(|(id, l)| Ok(Py::new(py, Lead::new(py, *id, l)?)?.into_any()))
                    .collect::<PyResult<_>>()?,
            )?,
            complaints: list(
                v.complaints
                    .iter()
                    .map(|(id, c)| Ok(Py::new(py, Complaint::new(py, *id, c)?)?.into_any()))
                    .collect::<PyResult<_>>()?,
            )?,
            surveys: list(
                v.surveys
                    .iter()
                    .map(|(id, s)| Ok(Py::new(py, Survey::new(py, *id, s)?)?.into_any()))
                    .collect::<PyResult<_>>()?,
            )?,
            timeline: touchpoints_py(py, &v.timeline.items)?,
            timeline_next: cursor_py(py, &v.timeline)?,
            lineage: crate::integration::lineage_list(py, &v.lineage)?,
            masked: v.masked.to_py(py)?,
            text: v.to_string(),
        })
    }
}

#[pymethods]
impl Customer360 {
    fn __str__(&self) -> String {
        self.text.clone()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Customer360(id={}, customer={})",
            self.id.bind(py).repr()?,
            self.customer.bind(py).repr()?
        ))
    }
}

record_class!(
    /// A club membership: one card, the brand club since `enrolled`, and dealer clubs
    /// (`dealer_clubs`: list of (dealer id, joined)).
    Membership, "Membership", [enrolled, source, dealer_clubs]
);

impl Membership {
    pub fn new(py: Python<'_>, m: &CoreMembership) -> PyResult<Self> {
        let clubs = PyList::empty(py);
        for (d, on) in &m.dealer_clubs {
            clubs.append((d.0, on.to_py(py)?))?;
        }
        Ok(Membership {
            enrolled: m.enrolled.to_py(py)?,
            source: m.source.to_py(py)?,
            dealer_clubs: clubs.into_any().unbind(),
        })
    }
}

record_class!(
    /// A wallet's balance in points, and points owed (refunds of spent points).
    Balance, "Balance", [points, owed]
);

impl Balance {
    pub fn new(py: Python<'_>, b: &CoreBalance) -> PyResult<Self> {
        Ok(Balance {
            points: b.points.to_py(py)?,
            owed: b.owed.to_py(py)?,
        })
    }
}

record_class!(
    /// One append-only ledger posting. `cause` is a dict with a `type` key ("touchpoint",
    /// "operator", "redemption", "expiry", "reversal", "recovery") and its details.
    Posting, "Posting", [id, customer, wallet, kind, points, at, key, cause, dealer, expires,
        shortfall]
);

fn cause_py(py: Python<'_>, c: &Cause) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    match c {
        Cause::Touchpoint { touchpoint, rule } => {
            d.set_item("type", "touchpoint")?;
            d.set_item("touchpoint", touchpoint.0)?;
            d.set_item("rule", rule)?;
        }
        Cause::Operator { operator, reason } => {
            d.set_item("type", "operator")?;
            d.set_item("operator", operator)?;
            d.set_item("reason", reason)?;
        }
        Cause::Redemption { item } => {
            d.set_item("type", "redemption")?;
            d.set_item("item", item)?;
        }
        Cause::Expiry { as_of } => {
            d.set_item("type", "expiry")?;
            d.set_item("as_of", as_of.to_py(py)?)?;
        }
        Cause::Reversal {
            credit,
            operator,
            reason,
        } => {
            d.set_item("type", "reversal")?;
            d.set_item("credit", credit)?;
            d.set_item("operator", operator)?;
            d.set_item("reason", reason)?;
        }
        Cause::Recovery { credit } => {
            d.set_item("type", "recovery")?;
            d.set_item("credit", credit)?;
        }
        #[allow(unreachable_patterns)]
        _ => {
            d.set_item("type", "other")?;
        }
    }
    Ok(d.into_any().unbind())
}

impl Posting {
    pub fn new(py: Python<'_>, id: u64, p: &CorePosting) -> PyResult<Self> {
        Ok(Posting {
            id: id.to_py(py)?,
            customer: p.customer.to_py(py)?,
            wallet: p.wallet.to_py(py)?,
            kind: nm(py, p.kind)?,
            points: p.points.to_py(py)?,
            at: p.at.to_py(py)?,
            key: p.key.to_py(py)?,
            cause: cause_py(py, &p.cause)?,
            dealer: p.dealer.to_py(py)?,
            expires: p.expires.to_py(py)?,
            shortfall: p.shortfall.to_py(py)?,
        })
    }
}

record_class!(
    /// The result of an expiry run: lots touched and points expired.
    ExpiryReport, "ExpiryReport", [lots, points]
);

impl ExpiryReport {
    pub fn new(py: Python<'_>, r: &CoreExpiry) -> PyResult<Self> {
        Ok(ExpiryReport {
            lots: r.lots.to_py(py)?,
            points: r.points.to_py(py)?,
        })
    }
}

record_class!(
    /// A customer's tier as of a date and why: held `tier`, `qualified` tier, whether held by
    /// grace, the operator floor tier (or None), and the window's qualifying value.
    TierStatus, "TierStatus", [tier, qualified, by_grace, floor_tier, vehicles, service_visits,
        total_spend, single_ticket, points]
);

impl TierStatus {
    pub fn new(py: Python<'_>, s: &CoreTierStatus) -> PyResult<Self> {
        Ok(TierStatus {
            tier: nm(py, s.tier)?,
            qualified: nm(py, s.qualified)?,
            by_grace: s.by_grace.to_py(py)?,
            floor_tier: onm(py, s.floor.as_ref().map(|f| f.tier))?,
            vehicles: s.value.vehicles.to_py(py)?,
            service_visits: s.value.service_visits.to_py(py)?,
            total_spend: s.value.total_spend.to_py(py)?,
            single_ticket: s.value.single_ticket.to_py(py)?,
            points: s.value.points.to_py(py)?,
        })
    }
}

record_class!(
    /// A recorded tier change.
    TierChange, "TierChange", [on, from_tier, to_tier, why]
);

impl TierChange {
    pub fn new(py: Python<'_>, c: &CoreTierChange) -> PyResult<Self> {
        Ok(TierChange {
            on: c.on.to_py(py)?,
            from_tier: nm(py, c.from)?,
            to_tier: nm(py, c.to)?,
            why: c.why.to_py(py)?,
        })
    }
}

record_class!(
    /// The benefits of a tier (discount percentages, priority service).
    Benefits, "Benefits", [labour_discount_pct, parts_discount_pct, rescue_discount_pct, priority]
);

impl Benefits {
    pub fn new(py: Python<'_>, b: &CoreBenefits) -> PyResult<Self> {
        Ok(Benefits {
            labour_discount_pct: b.labour_discount_pct.to_py(py)?,
            parts_discount_pct: b.parts_discount_pct.to_py(py)?,
            rescue_discount_pct: b.rescue_discount_pct.to_py(py)?,
            priority: b.priority.to_py(py)?,
        })
    }
}

record_class!(
    /// What `debtor` dealer owes `creditor` dealer for redeemed points (`amount` Decimal yuan).
    SettlementLine, "SettlementLine", [debtor, creditor, points, amount]
);

impl SettlementLine {
    pub fn new(py: Python<'_>, s: &CoreSettlement) -> PyResult<Self> {
        Ok(SettlementLine {
            debtor: s.debtor.to_py(py)?,
            creditor: s.creditor.to_py(py)?,
            points: s.points.to_py(py)?,
            amount: s.amount.to_py(py)?,
        })
    }
}

record_class!(
    /// The result of `verify_ledger`: what was checked and the problems found (`ok` if none).
    LedgerCheck, "LedgerCheck", [wallets, postings, lots, problems, ok]
);

impl LedgerCheck {
    pub fn new(py: Python<'_>, c: &CoreCheck) -> PyResult<Self> {
        Ok(LedgerCheck {
            wallets: c.wallets.to_py(py)?,
            postings: c.postings.to_py(py)?,
            lots: c.lots.to_py(py)?,
            problems: c.problems.to_py(py)?,
            ok: c.problems.is_empty().to_py(py)?,
        })
    }
}

record_class!(
    /// One version of a saved segment definition.
    SegmentVersion, "SegmentVersion", [saved, definition]
);

record_class!(
    /// One KPI figure for a group and period; `value` is None when the denominator is zero.
    KpiRow, "KpiRow", [kpi, dimension, key, label, period_from, period_to, numerator,
        denominator, value]
);

impl KpiRow {
    pub fn new(py: Python<'_>, r: &CoreKpiRow) -> PyResult<Self> {
        let (dim, key) = r.key.parts();
        Ok(KpiRow {
            kpi: nm(py, r.kpi)?,
            dimension: dim.to_py(py)?,
            key: key.to_py(py)?,
            label: r.label.to_py(py)?,
            period_from: r.period.from.to_py(py)?,
            period_to: r.period.to.to_py(py)?,
            numerator: r.numerator.to_py(py)?,
            denominator: r.denominator.to_py(py)?,
            value: r.value.to_py(py)?,
        })
    }
}

record_class!(
    /// A care action due (callback, service reminder, birthday…).
    CareAction, "CareAction", [kind, customer, vehicle, lead, complaint, due, basis, dealer,
        channel, marketing, detail]
);

impl CareAction {
    pub fn new(py: Python<'_>, a: &CoreCareAction) -> PyResult<Self> {
        Ok(CareAction {
            kind: nm(py, a.kind)?,
            customer: a.customer.to_py(py)?,
            vehicle: a.vehicle.to_py(py)?,
            lead: a.lead.to_py(py)?,
            complaint: a.complaint.to_py(py)?,
            due: a.due.to_py(py)?,
            basis: a.basis.to_py(py)?,
            dealer: a.dealer.to_py(py)?,
            channel: nm(py, a.channel)?,
            marketing: a.marketing.to_py(py)?,
            detail: a.detail.to_py(py)?,
        })
    }
}

record_class!(
    /// Repeated complaints of one customer and category that call for escalation.
    Escalation, "Escalation", [customer, category, month, quarter, dealers, latest]
);

impl Escalation {
    pub fn new(py: Python<'_>, e: &CoreEscalation) -> PyResult<Self> {
        Ok(Escalation {
            customer: e.customer.to_py(py)?,
            category: e.category.to_py(py)?,
            month: e.month.to_py(py)?,
            quarter: e.quarter.to_py(py)?,
            dealers: e.dealers.to_py(py)?,
            latest: e.latest.to_py(py)?,
        })
    }
}

/// Registers the result classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Dealer>()?;
    m.add_class::<Customer>()?;
    m.add_class::<Ownership>()?;
    m.add_class::<Vehicle>()?;
    m.add_class::<Touchpoint>()?;
    m.add_class::<Lead>()?;
    m.add_class::<Complaint>()?;
    m.add_class::<Survey>()?;
    m.add_class::<Relation>()?;
    m.add_class::<ConsentEvent>()?;
    m.add_class::<Rollup>()?;
    m.add_class::<TimelinePage>()?;
    m.add_class::<Customer360>()?;
    m.add_class::<Membership>()?;
    m.add_class::<Balance>()?;
    m.add_class::<Posting>()?;
    m.add_class::<ExpiryReport>()?;
    m.add_class::<TierStatus>()?;
    m.add_class::<TierChange>()?;
    m.add_class::<Benefits>()?;
    m.add_class::<SettlementLine>()?;
    m.add_class::<LedgerCheck>()?;
    m.add_class::<SegmentVersion>()?;
    m.add_class::<KpiRow>()?;
    m.add_class::<CareAction>()?;
    m.add_class::<Escalation>()?;
    Ok(())
}
