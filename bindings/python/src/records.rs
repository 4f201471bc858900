//! Records given as keyword arguments or dicts, converted to core records. Only shapes are
//! checked here (types, names); every domain rule is core's.

use autocrm::api::{lead_status, CustomerRecord, PartyKind, VehicleRecord};
use autocrm::loyalty::{Adjustment, Floor, Redemption, Reversal, Wallet};
use autocrm::{
    Complaint, ComplaintStatus, ConsentEvent, Customer, CustomerId, Date, Dealer, DealerKind,
    Factor, Lead, PurchaseType, Survey, Touchpoint, Usage, Vehicle,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::conv::{named_from_py, Fields, FromPy};
use crate::errors::to_py;

/// A dealer.
pub fn dealer(f: &Fields<'_>) -> PyResult<Dealer> {
    Ok(Dealer {
        code: f.req("code")?,
        name: f.req("name")?,
        region: f.req("region")?,
        province: f.req("province")?,
        city: f.req("city")?,
        kind: f.or("kind", DealerKind::FourS)?,
    })
}

/// A customer: `kind` "person" (default) or "organisation"; core's `CustomerRecord` refuses
/// the fields of the other kind.
pub fn customer(f: &Fields<'_>) -> PyResult<Customer> {
    let kind: String = f.or("kind", "person".to_string())?;
    let kind = PartyKind::from_name(&kind).ok_or_else(|| {
        PyValueError::new_err(format!(
            "customer kind {kind:?}: use \"person\" or \"organisation\""
        ))
    })?;
    let record = CustomerRecord {
        kind,
        name: f.req("name")?,
        gender: f.opt("gender")?,
        birth_date: f.opt("birth_date")?,
        occupation: f.opt("occupation")?,
        employer: f.opt("employer")?,
        interests: f.or("interests", Vec::new())?,
        national_id: f.opt("national_id")?,
        credit_code: f.opt("credit_code")?,
        industry: f.opt("industry")?,
        phones: f.or("phones", Vec::new())?,
        province: f.opt("province")?,
        city: f.opt("city")?,
        address: f.opt("address")?,
        source: f.opt("source")?,
    };
    record.into_customer().map_err(|e| to_py(e.into()))
}

/// A vehicle and its first owner period (`owner`, `since`; `since` defaults to
/// `purchase_date`), checked by core's `VehicleRecord`.
pub fn vehicle(f: &Fields<'_>) -> PyResult<(Vehicle, Option<(CustomerId, Date)>)> {
    let vehicle = Vehicle {
        vin: f.req("vin")?,
        plate: f.opt("plate")?,
        brand: f.req("brand")?,
        model: f.req("model")?,
        trim: f.opt("trim")?,
        purchase_date: f.opt("purchase_date")?,
        invoice_date: f.opt("invoice_date")?,
        registration_date: f.opt("registration_date")?,
        first_service_date: f.opt("first_service_date")?,
        warranty_end: f.opt("warranty_end")?,
        insurance_expiry: f.opt("insurance_expiry")?,
        inspection_due: f.opt("inspection_due")?,
        usage: f.or("usage", Usage::Private)?,
        selling_dealer: f.opt("selling_dealer")?,
        source: f.opt("source")?,
    };
    VehicleRecord {
        vehicle,
        owner: f.opt("owner")?,
        since: f.opt("since")?,
    }
    .into_parts()
    .map_err(|e| to_py(e.into()))
}

/// A touchpoint.
pub fn touchpoint(f: &Fields<'_>) -> PyResult<Touchpoint> {
    let base = Touchpoint::new(
        f.req("at")?,
        f.req("customer")?,
        f.req("channel")?,
        f.req("kind")?,
    );
    Ok(Touchpoint {
        vehicle: f.opt("vehicle")?,
        dealer: f.opt("dealer")?,
        service_kind: f.opt("service_kind")?,
        stage: f.opt("stage")?,
        sensitive: f.or("sensitive", false)?,
        amount: f.opt("amount")?,
        parts_amount: f.opt("parts_amount")?,
        labour_amount: f.opt("labour_amount")?,
        mileage_km: f.opt("mileage_km")?,
        score: f.opt("score")?,
        outcome: f.opt("outcome")?,
        note: f.opt("note")?,
        source: f.opt("source")?,
        ..base
    })
}

/// A lead; `status` "lost" takes `lost_reason` (core's `lead_status` decides).
pub fn lead(f: &Fields<'_>) -> PyResult<Lead> {
    let status: String = f.or("status", "new".to_string())?;
    let status = lead_status(&status, f.opt("lost_reason")?).map_err(|e| to_py(e.into()))?;
    Ok(Lead {
        customer: f.req("customer")?,
        origin: f.req("origin")?,
        model: f.req("model")?,
        intent: f.req("intent")?,
        purchase_type: f.or("purchase_type", PurchaseType::First)?,
        dealer: f.opt("dealer")?,
        received: f.req("received")?,
        status,
        status_at: f.opt("status_at")?,
        source: f.opt("source")?,
    })
}

/// A complaint.
pub fn complaint(f: &Fields<'_>) -> PyResult<Complaint> {
    Ok(Complaint {
        customer: f.req("customer")?,
        vehicle: f.opt("vehicle")?,
        dealer: f.opt("dealer")?,
        category: f.req("category")?,
        received: f.req("received")?,
        status: f.or("status", ComplaintStatus::Received)?,
        first_response: f.opt("first_response")?,
        analysed: f.opt("analysed")?,
        resolved: f.opt("resolved")?,
        called_back: f.opt("called_back")?,
        closed: f.opt("closed")?,
        note: f.opt("note")?,
        source: f.opt("source")?,
    })
}

/// Survey items: {factor name: score}.
pub struct Items(pub Vec<(Factor, u8)>);

impl FromPy for Items {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let d = o
            .cast::<PyDict>()
            .map_err(|_| PyTypeError::new_err("survey items must be a dict {factor: score}"))?;
        let mut out = Vec::new();
        for (k, v) in d.iter() {
            out.push((named_from_py::<Factor>(&k)?, u8::from_py(&v)?));
        }
        Ok(Items(out))
    }
}

/// A survey.
pub fn survey(f: &Fields<'_>) -> PyResult<Survey> {
    Ok(Survey {
        customer: f.req("customer")?,
        dealer: f.opt("dealer")?,
        kind: f.req("kind")?,
        date: f.req("date")?,
        items: f.req::<Items>("items")?.0,
        source: f.opt("source")?,
    })
}

/// A consent grant or withdrawal.
pub fn consent(f: &Fields<'_>) -> PyResult<ConsentEvent> {
    Ok(ConsentEvent {
        channel: f.req("channel")?,
        granted: f.req("granted")?,
        at: f.req("at")?,
        source: f.req("source")?,
    })
}

/// A redemption.
pub fn redemption(f: &Fields<'_>) -> PyResult<Redemption> {
    Ok(Redemption {
        customer: f.req("customer")?,
        wallet: f.or("wallet", Wallet::Brand)?,
        points: f.req("points")?,
        at: f.req("at")?,
        dealer: f.opt("dealer")?,
        item: f.req("item")?,
        key: f.req("key")?,
    })
}

/// An operator adjustment (signed points).
pub fn adjustment(f: &Fields<'_>) -> PyResult<Adjustment> {
    Ok(Adjustment {
        customer: f.req("customer")?,
        wallet: f.or("wallet", Wallet::Brand)?,
        points: f.req("points")?,
        at: f.req("at")?,
        operator: f.req("operator")?,
        reason: f.req("reason")?,
        key: f.req("key")?,
    })
}

/// A reversal of a credit.
pub fn reversal(f: &Fields<'_>) -> PyResult<Reversal> {
    Ok(Reversal {
        credit: f.req("credit")?,
        at: f.req("at")?,
        operator: f.req("operator")?,
        reason: f.req("reason")?,
        key: f.req("key")?,
    })
}

/// An operator tier floor.
pub fn floor(f: &Fields<'_>) -> PyResult<Floor> {
    Ok(Floor {
        tier: f.req("tier")?,
        from: f.req("from_")?,
        until: f.opt("until")?,
        operator: f.req("operator")?,
        reason: f.req("reason")?,
    })
}
