//! Records from JavaScript objects into core's flat records and domain values. Field names are
//! core's, in camelCase; defaults are core's (a missing optional field is `None`).

use autocrm::api::{lead_status, ContactUpdate, CustomerRecord, PartyKind, VehicleRecord};
use autocrm::integration::{Received, Rejection};
use autocrm::loyalty::{Adjustment, Floor, Redemption, Reversal, Wallet};
use autocrm::{
    Complaint, ComplaintStatus, Customer, CustomerId, Date, DateTime, DealerId, Lead, PurchaseType,
    SourceRef, Survey, Touchpoint, Vehicle, VehicleId,
};
use serde_json::Value;

use crate::error::{snake, value_error, OrJs};
use crate::input::{self, date, datetime, int, money, named, string, uint, Rec};

fn customer_id(f: &str, v: &Value) -> napi::Result<CustomerId> {
    uint(f, v).map(CustomerId)
}
fn vehicle_id(f: &str, v: &Value) -> napi::Result<VehicleId> {
    uint(f, v).map(VehicleId)
}
fn dealer_id(f: &str, v: &Value) -> napi::Result<DealerId> {
    u32::try_from(uint(f, v)?)
        .map(DealerId)
        .map_err(|_| value_error(format!("{f}: dealer id out of range")))
}

/// A customer's flat record (its shape not yet checked: [`CustomerRecord::into_customer`]).
pub fn customer_record(v: Option<Value>) -> napi::Result<CustomerRecord> {
    let mut r = Rec::new("customer", v)?;
    let rec = customer_fields(&mut r)?;
    r.done()?;
    Ok(rec)
}

/// The customer fields of record `r` (the caller refuses the keys left).
fn customer_fields(r: &mut Rec) -> napi::Result<CustomerRecord> {
    let kind = match r.opt("kind", string)? {
        None => PartyKind::Person,
        Some(k) => PartyKind::from_name(&k)
            .ok_or_else(|| value_error(format!("kind: {k:?} (use person or organisation)")))?,
    };
    let rec = CustomerRecord {
        kind,
        name: r.req("name", string)?,
        gender: r.opt("gender", named)?,
        birth_date: r.opt("birthDate", date)?,
        occupation: r.opt("occupation", string)?,
        employer: r.opt("employer", string)?,
        interests: r.strings("interests")?,
        national_id: r.opt("nationalId", string)?,
        credit_code: r.opt("creditCode", string)?,
        industry: r.opt("industry", string)?,
        phones: r.strings("phones")?,
        province: r.opt("province", string)?,
        city: r.opt("city", string)?,
        address: r.opt("address", string)?,
        source: r.source()?,
    };
    Ok(rec)
}

/// A customer (person or organisation) from its flat record.
pub fn customer(v: Option<Value>) -> napi::Result<Customer> {
    customer_record(v)?.into_customer().js()
}

/// Customers of a batch: a record that does not convert names its 0-based index (`record`
/// for core's refusals, the message for a `TypeError` / `RangeError`).
pub fn customers(v: Vec<Value>) -> napi::Result<Vec<Customer>> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| {
            let rec = customer_record(Some(x)).map_err(|e| at(i, e))?;
            rec.into_customer()
                .map_err(|e| crate::error::core(&autocrm::Error::Validation(e).at_record(i)))
        })
        .collect()
}

/// Records of a batch read by `one` (a failing one named by its position, see [`customers`]).
pub fn batch<T>(v: Vec<Value>, one: fn(Option<Value>) -> napi::Result<T>) -> napi::Result<Vec<T>> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| one(Some(x)).map_err(|e| at(i, e)))
        .collect()
}

/// Touchpoints of a batch (see [`customers`]).
pub fn touchpoints(v: Vec<Value>) -> napi::Result<Vec<Touchpoint>> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| touchpoint(Some(x)).map_err(|e| at(i, e)))
        .collect()
}

/// A conversion error of batch record `i`: the index goes in front of the message.
fn at(i: usize, e: napi::Error) -> napi::Error {
    crate::error::in_record(i, e)
}

/// A dealer.
pub fn dealer(v: Option<Value>) -> napi::Result<autocrm::Dealer> {
    let mut r = Rec::new("dealer", v)?;
    let d = autocrm::Dealer {
        code: r.req("code", string)?,
        name: r.req("name", string)?,
        region: r.req("region", string)?,
        province: r.req("province", string)?,
        city: r.req("city", string)?,
        kind: r.opt("kind", named)?.unwrap_or(autocrm::DealerKind::FourS),
    };
    r.done()?;
    Ok(d)
}

/// A vehicle and its first owner period.
pub fn vehicle(v: Option<Value>) -> napi::Result<VehicleWithOwner> {
    vehicle_record(v)?.into_parts().js()
}

/// A vehicle's fields with its first owner, not yet checked together.
fn vehicle_record(v: Option<Value>) -> napi::Result<VehicleRecord> {
    let mut r = Rec::new("vehicle", v)?;
    let vehicle = vehicle_fields(&mut r)?;
    let rec = VehicleRecord {
        vehicle,
        owner: r.opt("owner", customer_id)?,
        since: r.opt("since", date)?,
    };
    r.done()?;
    Ok(rec)
}

/// A vehicle with its first owner and the day it was acquired.
pub type VehicleWithOwner = (Vehicle, Option<(CustomerId, Date)>);

/// Vehicles of a batch, each with its first owner (see [`customers`]).
pub fn vehicles(v: Vec<Value>) -> napi::Result<Vec<VehicleWithOwner>> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| {
            let rec = vehicle_record(Some(x)).map_err(|e| at(i, e))?;
            rec.into_parts()
                .map_err(|e| crate::error::core(&autocrm::Error::Validation(e).at_record(i)))
        })
        .collect()
}

/// The vehicle fields of record `r` (not its owner).
fn vehicle_fields(r: &mut Rec) -> napi::Result<Vehicle> {
    Ok(Vehicle {
        vin: r.req("vin", string)?,
        plate: r.opt("plate", string)?,
        brand: r.req("brand", string)?,
        model: r.req("model", string)?,
        trim: r.opt("trim", string)?,
        purchase_date: r.opt("purchaseDate", date)?,
        invoice_date: r.opt("invoiceDate", date)?,
        registration_date: r.opt("registrationDate", date)?,
        first_service_date: r.opt("firstServiceDate", date)?,
        warranty_end: r.opt("warrantyEnd", date)?,
        insurance_expiry: r.opt("insuranceExpiry", date)?,
        inspection_due: r.opt("inspectionDue", date)?,
        usage: r.opt("usage", named)?.unwrap_or(autocrm::Usage::Private),
        selling_dealer: r.opt("sellingDealer", dealer_id)?,
        source: r.source()?,
    })
}

/// A record's arrival as the caller gave it (`source`, `dealer`, `receivedAt`); the time is
/// filled in inside the transaction when not given.
pub struct Arrival {
    source: SourceRef,
    dealer: Option<DealerId>,
    at: Option<DateTime>,
}

impl Arrival {
    /// The arrival, received at the given time or `now` (the database's clock).
    pub fn stamp(self, now: DateTime) -> Received {
        Received {
            source: self.source,
            dealer: self.dealer,
            at: self.at.unwrap_or(now),
        }
    }
}

fn arrival(r: &mut Rec) -> napi::Result<Arrival> {
    Ok(Arrival {
        source: r.req("source", input::source)?,
        dealer: r.opt("dealer", dealer_id)?,
        at: r.opt("receivedAt", datetime)?,
    })
}

/// The arrival and line of a rejected record: `source` (positional) and options
/// `{ dealer, line, receivedAt }`.
pub fn rejected(source: &Value, opts: Option<Value>) -> napi::Result<(Arrival, Option<u64>)> {
    let mut r = Rec::new("reject options", opts)?;
    let from = Arrival {
        source: input::source("source", source)?,
        dealer: r.opt("dealer", dealer_id)?,
        at: r.opt("receivedAt", datetime)?,
    };
    let line = r.opt("line", uint)?;
    r.done()?;
    Ok((from, line))
}

/// Why a record was rejected, as the caller holds it: an `AutocrmError`'s report shape
/// `{ code, message, field?, hint? }` (`field` in camelCase, as errors carry it).
pub fn rejection(v: Value) -> napi::Result<Rejection> {
    let mut r = Rec::new("error", Some(v))?;
    let why = Rejection {
        code: r.req("code", string)?,
        message: r.req("message", string)?,
        field: r.opt("field", string)?.map(|f| snake(&f)),
        hint: r.opt("hint", string)?,
    };
    r.done()?;
    Ok(why)
}

/// A customer received from a source system: its fields, `vin` and its arrival (core sets
/// the customer's `source` from the arrival).
pub fn upsert_customer(v: Option<Value>) -> napi::Result<(Customer, Option<String>, Arrival)> {
    let mut r = Rec::new("customer", v)?;
    let from = arrival(&mut r)?;
    let vin = r.opt("vin", string)?;
    let rec = customer_fields(&mut r)?;
    r.done()?;
    Ok((rec.into_customer().js()?, vin, from))
}

/// A vehicle received from a source system: its fields, `owner` (required) and its arrival.
pub fn upsert_vehicle(v: Option<Value>) -> napi::Result<(Vehicle, CustomerId, Arrival)> {
    let mut r = Rec::new("vehicle", v)?;
    let from = arrival(&mut r)?;
    let owner = r.req("owner", customer_id)?;
    let vehicle = vehicle_fields(&mut r)?;
    r.done()?;
    Ok((vehicle, owner, from))
}

/// An operator's tier floor: `{ tier, from, until, operator, reason }`.
pub fn floor(v: Option<Value>) -> napi::Result<Floor> {
    let mut r = Rec::new("tier floor", v)?;
    let f = Floor {
        tier: r.req("tier", named)?,
        from: r.req("from", date)?,
        until: r.opt("until", date)?,
        operator: r.req("operator", string)?,
        reason: r.req("reason", string)?,
    };
    r.done()?;
    Ok(f)
}

/// A touchpoint.
pub fn touchpoint(v: Option<Value>) -> napi::Result<Touchpoint> {
    let mut r = Rec::new("touchpoint", v)?;
    let t = Touchpoint {
        at: r.req("at", datetime)?,
        customer: r.req("customer", customer_id)?,
        vehicle: r.opt("vehicle", vehicle_id)?,
        dealer: r.opt("dealer", dealer_id)?,
        channel: r.req("channel", named)?,
        kind: r.req("kind", named)?,
        service_kind: r.opt("serviceKind", named)?,
        stage: r.opt("stage", named)?,
        sensitive: r.opt("sensitive", crate::input::boolean)?.unwrap_or(false),
        amount: r.opt("amount", money)?,
        parts_amount: r.opt("partsAmount", money)?,
        labour_amount: r.opt("labourAmount", money)?,
        mileage_km: r.opt("mileageKm", |f, v| {
            u32::try_from(uint(f, v)?).map_err(|_| value_error(format!("{f}: out of range")))
        })?,
        score: r.opt("score", |f, v| {
            u8::try_from(uint(f, v)?).map_err(|_| value_error(format!("{f}: out of range")))
        })?,
        outcome: r.opt("outcome", string)?,
        note: r.opt("note", string)?,
        source: r.source()?,
    };
    r.done()?;
    Ok(t)
}

/// A lead.
pub fn lead(v: Option<Value>) -> napi::Result<Lead> {
    let mut r = Rec::new("lead", v)?;
    let customer = r.req("customer", customer_id)?;
    let origin = r.req("origin", named)?;
    let model = r.req("model", string)?;
    let intent = r.req("intent", named)?;
    let received = r.req("received", datetime)?;
    let purchase_type = r.opt("purchaseType", named)?.unwrap_or(PurchaseType::First);
    let dealer = r.opt("dealer", dealer_id)?;
    let status_name = r.opt("status", string)?.unwrap_or_else(|| "new".into());
    let lost_reason = r.opt("lostReason", string)?;
    let status = lead_status(&status_name, lost_reason).js()?;
    let l = Lead {
        customer,
        origin,
        model,
        intent,
        purchase_type,
        dealer,
        received,
        status,
        status_at: r.opt("statusAt", datetime)?,
        source: r.source()?,
    };
    r.done()?;
    Ok(l)
}

/// A complaint.
pub fn complaint(v: Option<Value>) -> napi::Result<Complaint> {
    let mut r = Rec::new("complaint", v)?;
    let c = Complaint {
        customer: r.req("customer", customer_id)?,
        vehicle: r.opt("vehicle", vehicle_id)?,
        dealer: r.opt("dealer", dealer_id)?,
        category: r.req("category", string)?,
        received: r.req("received", datetime)?,
        status: r.opt("status", named)?.unwrap_or(ComplaintStatus::Received),
        first_response: r.opt("firstResponse", datetime)?,
        analysed: r.opt("analysed", datetime)?,
        resolved: r.opt("resolved", datetime)?,
        called_back: r.opt("calledBack", datetime)?,
        closed: r.opt("closed", datetime)?,
        note: r.opt("note", string)?,
        source: r.source()?,
    };
    r.done()?;
    Ok(c)
}

/// A survey: `items` maps factor names to scores.
pub fn survey(v: Option<Value>) -> napi::Result<Survey> {
    let mut r = Rec::new("survey", v)?;
    let customer = r.req("customer", customer_id)?;
    let kind = r.req("kind", named)?;
    let on = r.req("date", date)?;
    let dealer = r.opt("dealer", dealer_id)?;
    let items = match r.need("items")? {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let f = named(k, &Value::String(k.clone()))?;
                let s = u8::try_from(uint(k, v)?)
                    .map_err(|_| value_error(format!("{k}: out of range")))?;
                Ok((f, s))
            })
            .collect::<napi::Result<Vec<_>>>()?,
        _ => {
            return Err(crate::error::type_error(
                "items: expected { factor: score }",
            ))
        }
    };
    let s = Survey {
        customer,
        dealer,
        kind,
        date: on,
        items,
        source: r.source()?,
    };
    r.done()?;
    Ok(s)
}

/// A redemption.
pub fn redemption(v: Option<Value>) -> napi::Result<Redemption> {
    let mut r = Rec::new("redemption", v)?;
    let x = Redemption {
        customer: r.req("customer", customer_id)?,
        wallet: r.opt("wallet", input::wallet)?.unwrap_or(Wallet::Brand),
        points: r.req("points", int)?,
        at: r.req("at", datetime)?,
        dealer: r.opt("dealer", dealer_id)?,
        item: r.req("item", string)?,
        key: r.req("key", string)?,
    };
    r.done()?;
    Ok(x)
}

/// A manual adjustment.
pub fn adjustment(v: Option<Value>) -> napi::Result<Adjustment> {
    let mut r = Rec::new("adjustment", v)?;
    let x = Adjustment {
        customer: r.req("customer", customer_id)?,
        wallet: r.opt("wallet", input::wallet)?.unwrap_or(Wallet::Brand),
        points: r.req("points", int)?,
        at: r.req("at", datetime)?,
        operator: r.req("operator", string)?,
        reason: r.req("reason", string)?,
        key: r.req("key", string)?,
    };
    r.done()?;
    Ok(x)
}

/// A reversal of a credit posting.
pub fn reversal(v: Option<Value>) -> napi::Result<Reversal> {
    let mut r = Rec::new("reversal", v)?;
    let x = Reversal {
        credit: r.req("credit", uint)?,
        at: r.req("at", datetime)?,
        operator: r.req("operator", string)?,
        reason: r.req("reason", string)?,
        key: r.req("key", string)?,
    };
    r.done()?;
    Ok(x)
}

/// An owner's new contact details.
pub fn contact(v: Option<Value>) -> napi::Result<ContactUpdate> {
    let mut r = Rec::new("contact", v)?;
    let phones = match r.take("phones") {
        None => None,
        Some(p) => {
            Some(Rec::new("contact", Some(serde_json::json!({ "phones": p })))?.strings("phones")?)
        }
    };
    let x = ContactUpdate {
        phones,
        province: r.opt("province", string)?,
        city: r.opt("city", string)?,
        address: r.opt("address", string)?,
    };
    r.done()?;
    Ok(x)
}
