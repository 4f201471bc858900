//! Vehicles and their ownership history.
//!
//! A vehicle changes hands (trade-in, used-car resale): ownership is a history of
//! (customer, from, to) periods, newest last, at most one of them open. Both the old and the new
//! owner keep the vehicle in their 360° view — as a past and a current vehicle respectively.

use serde::{Deserialize, Serialize};

use crate::customer::opt;
use crate::date::Date;
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId};
use crate::source::SourceRef;
use crate::store::ReadView;
use crate::validate;

/// What a vehicle is used for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Usage {
    /// Private car.
    #[default]
    Private,
    /// Company fleet.
    Fleet,
    /// Taxi.
    Taxi,
    /// Rental.
    Rental,
}

/// A vehicle. `vin` and `plate` are unique.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    /// 17-character VIN (no I/O/Q; check digit verified for China and North America WMIs).
    pub vin: String,
    /// Licence plate, e.g. `"沪A12345"`.
    pub plate: Option<String>,
    /// Brand, e.g. `"Volkswagen"`.
    pub brand: String,
    /// Model, e.g. `"Passat"`.
    pub model: String,
    /// Trim level.
    pub trim: Option<String>,
    /// Purchase (order) date.
    pub purchase_date: Option<Date>,
    /// Invoice date: not before the purchase date.
    pub invoice_date: Option<Date>,
    /// Registration date: not before the invoice date.
    pub registration_date: Option<Date>,
    /// Date of the first service (首保), once done.
    pub first_service_date: Option<Date>,
    /// End of the factory warranty.
    pub warranty_end: Option<Date>,
    /// Expiry of the current insurance policy.
    pub insurance_expiry: Option<Date>,
    /// Next annual inspection due.
    pub inspection_due: Option<Date>,
    /// What the vehicle is used for.
    pub usage: Usage,
    /// The dealer that sold it.
    pub selling_dealer: Option<DealerId>,
    /// The source record this vehicle was first written from.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Vehicle, Vehicle, "vehicle");

/// One period of ownership. `to` is `None` while it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The owner.
    pub customer: CustomerId,
    /// First day of ownership.
    pub from: Date,
    /// The day ownership passed to the next owner, if it did.
    pub to: Option<Date>,
}

impl Ownership {
    /// Whether `customer` owned the vehicle on `date`.
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date < to)
    }
}

impl Vehicle {
    /// A vehicle with just its VIN, brand and model.
    pub fn new(vin: impl Into<String>, brand: impl Into<String>, model: impl Into<String>) -> Self {
        Vehicle {
            vin: vin.into(),
            brand: brand.into(),
            model: model.into(),
            ..Vehicle::default()
        }
    }

    /// The vehicle as it will be stored: every field validated and normalised.
    pub fn normalised(&self) -> Result<Vehicle, ValidationError> {
        let date =
            |field, d: Option<Date>| d.map(|d| validate::plausible_date(field, d)).transpose();
        let v = Vehicle {
            vin: validate::vin("vin", &self.vin)?,
            plate: self
                .plate
                .as_deref()
                .map(|p| validate::plate("plate", p))
                .transpose()?,
            brand: opt(Some(&self.brand), "brand", 32)?
                .ok_or_else(|| ValidationError::new("brand", Rule::Required, &self.brand))?,
            model: opt(Some(&self.model), "model", 64)?
                .ok_or_else(|| ValidationError::new("model", Rule::Required, &self.model))?,
            trim: opt(self.trim.as_deref(), "trim", 64)?,
            purchase_date: date("purchase_date", self.purchase_date)?,
            invoice_date: date("invoice_date", self.invoice_date)?,
            registration_date: date("registration_date", self.registration_date)?,
            first_service_date: date("first_service_date", self.first_service_date)?,
            warranty_end: date("warranty_end", self.warranty_end)?,
            insurance_expiry: date("insurance_expiry", self.insurance_expiry)?,
            inspection_due: date("inspection_due", self.inspection_due)?,
            usage: self.usage,
            selling_dealer: self.selling_dealer,
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
        };
        validate::date_order("invoice_date", v.purchase_date, v.invoice_date)?;
        let invoiced = v.invoice_date.or(v.purchase_date);
        validate::date_order("registration_date", invoiced, v.registration_date)?;
        let delivered = v.registration_date.or(invoiced);
        validate::date_order("first_service_date", delivered, v.first_service_date)?;
        validate::date_order("warranty_end", v.purchase_date, v.warranty_end)?;
        Ok(v)
    }
}

/// A vehicle's owners, oldest first; at most the last period is open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipHistory(pub Vec<Ownership>);
crate::codec::model!(OwnershipHistory, Ownership, "ownership history");

impl OwnershipHistory {
    /// The current owner, if any.
    pub fn current(&self) -> Option<&Ownership> {
        self.0.last().filter(|o| o.to.is_none())
    }

    /// The owner on `date`, if any.
    pub fn owner_on(&self, date: Date) -> Option<CustomerId> {
        self.0.iter().find(|o| o.covers(date)).map(|o| o.customer)
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use redb::{ReadableTable, ReadableTableMetadata};

use crate::codec::{self, ModelKind};
use crate::error::{Error, Refusal, Result};
use crate::ids::VehicleId;
use crate::store::tables::*;
use crate::store::{decode_stored, get_record, ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Validates and stores a new vehicle, optionally with its first owner from a date. A
    /// vehicle carrying a source record already written returns the existing id and writes
    /// nothing.
    pub fn insert_vehicle(
        &mut self,
        vehicle: &Vehicle,
        owner: Option<(CustomerId, Date)>,
    ) -> Result<VehicleId> {
        let v = vehicle.normalised()?;
        if let Some((_, from)) = owner {
            crate::validate::plausible_date("owner.from", from)?;
        }
        if let Some(src) = &v.source {
            if let Some(id) = self.source_lookup(ModelKind::Vehicle, src, VEHICLES)? {
                return Ok(VehicleId(id));
            }
        }
        self.check_vehicle_keys(&v, None)?;
        if let Some((c, _)) = owner {
            self.require(CUSTOMERS, "customer", c.0)?;
        }
        self.insert_checked_vehicle(v, owner)
    }

    /// Stores a normalised vehicle whose source record, VIN and plate are known to be free in
    /// this transaction, with a live owner and a plausible date if it has one.
    pub(crate) fn insert_checked_vehicle(
        &mut self,
        v: Vehicle,
        owner: Option<(CustomerId, Date)>,
    ) -> Result<VehicleId> {
        self.writing(|tx| {
            let id = tx.next_id("next.vehicle")?;
            tx.t.vehicles()?.insert(id, codec::encode(&v).as_slice())?;
            tx.index_vehicle(id, &v)?;
            let history = OwnershipHistory(
                owner
                    .map(|(customer, from)| Ownership {
                        customer,
                        from,
                        to: None,
                    })
                    .into_iter()
                    .collect(),
            );
            tx.put_ownership(VehicleId(id), &history)?;
            if let Some((c, from)) = owner {
                tx.t.customer_vehicles()?.insert(c.0, id)?;
                tx.rollup_mut(c.0)?.acquire_vehicle(from, false);
            }
            if let Some(src) = &v.source {
                tx.source_remember(ModelKind::Vehicle, src, id)?;
            }
            Ok(VehicleId(id))
        })
    }

    /// Replaces a vehicle's data (VIN and plate indexes follow). Ownership is unchanged.
    pub fn update_vehicle(&mut self, id: VehicleId, vehicle: &Vehicle) -> Result<()> {
        let v = vehicle.normalised()?;
        let old = self.vehicle(id)?;
        self.replace_vehicle(id, &old, v)
    }

    /// [`WriteTxn::update_vehicle`] with the stored record `old` already read and `v` already
    /// normalised.
    pub(crate) fn replace_vehicle(
        &mut self,
        id: VehicleId,
        old: &Vehicle,
        mut v: Vehicle,
    ) -> Result<()> {
        if v.source.is_none() {
            v.source = old.source.clone();
        }
        self.check_vehicle_keys(&v, Some(id))?;
        let new_source = self.new_source(
            ModelKind::Vehicle,
            VEHICLES,
            id.0,
            old.source.as_ref(),
            v.source.as_ref(),
        )?;
        self.writing(|tx| {
            if let Some(src) = &new_source {
                tx.source_remember(ModelKind::Vehicle, src, id.0)?;
            }
            // Only the keys that change move.
            if old.vin != v.vin {
                let mut t = tx.t.vehicle_by_vin()?;
                t.remove(old.vin.as_str())?;
                t.insert(v.vin.as_str(), id.0)?;
            }
            if old.plate != v.plate {
                let mut t = tx.t.vehicle_by_plate()?;
                if let Some(p) = &old.plate {
                    t.remove(p.as_str())?;
                }
                if let Some(p) = &v.plate {
                    t.insert(p.as_str(), id.0)?;
                }
            }
            tx.t.vehicles()?
                .insert(id.0, codec::encode(&v).as_slice())?;
            Ok(())
        })
    }

    /// Passes the vehicle to `to` on date `on` (trade-in, resale, or first owner of a vehicle
    /// stored without one). The previous owner keeps it as a past vehicle; both rollups follow.
    pub fn transfer_vehicle(&mut self, id: VehicleId, to: CustomerId, on: Date) -> Result<()> {
        crate::validate::plausible_date("on", on)?;
        self.require(CUSTOMERS, "customer", to.0)?;
        let mut history = self.ownership(id)?;
        let previous = history.current().copied();
        if let Some(cur) = previous {
            if cur.customer == to {
                return Err(Error::refused(
                    Refusal::AlreadyOwner,
                    format!("vehicle {id} already belongs to customer {to}"),
                ));
            }
            if on < cur.from {
                return Err(crate::ValidationError::new(
                    "on",
                    crate::Rule::DateOrder,
                    format!("{on} before current ownership from {}", cur.from),
                )
                .into());
            }
        } else if let Some(last) = history.0.last() {
            if last.to.is_some_and(|t| on < t) {
                return Err(crate::ValidationError::new(
                    "on",
                    crate::Rule::DateOrder,
                    on.to_string(),
                )
                .into());
            }
        }
        let owned_before = history.0.iter().any(|o| o.customer == to);
        self.writing(|tx| {
            if let Some(last) = history.0.last_mut().filter(|o| o.to.is_none()) {
                last.to = Some(on);
            }
            history.0.push(Ownership {
                customer: to,
                from: on,
                to: None,
            });
            tx.put_ownership(id, &history)?;
            tx.t.customer_vehicles()?.insert(to.0, id.0)?;
            tx.rollup_mut(to.0)?.acquire_vehicle(on, owned_before);
            if let Some(prev) = previous {
                tx.rollup_mut(prev.customer.0)?.release_vehicle();
            }
            Ok(())
        })
    }

    /// The vehicle with id `id`, as this transaction sees it.
    pub fn vehicle(&self, id: VehicleId) -> Result<Vehicle> {
        vehicle_in(&self.t, id)
    }

    /// The vehicle's ownership history, as this transaction sees it.
    pub fn ownership(&self, id: VehicleId) -> Result<OwnershipHistory> {
        ownership_in(&self.t, id)
    }

    fn put_ownership(&mut self, id: VehicleId, h: &OwnershipHistory) -> Result<()> {
        self.t
            .ownership()?
            .insert(id.0, codec::encode(h).as_slice())?;
        Ok(())
    }

    fn check_vehicle_keys(&self, v: &Vehicle, me: Option<VehicleId>) -> Result<()> {
        let checks = [
            (VEHICLE_BY_VIN, "vin", Some(v.vin.as_str())),
            (VEHICLE_BY_PLATE, "plate", v.plate.as_deref()),
        ];
        for (table, field, value) in checks {
            let Some(value) = value else { continue };
            if let Some(existing) = self.t.unique_keys(table)?.get(value)?.map(|g| g.value()) {
                if Some(VehicleId(existing)) != me {
                    return Err(Error::DuplicateKey {
                        entity: "vehicle",
                        field,
                        value: value.to_string(),
                        existing,
                    });
                }
            }
        }
        Ok(())
    }

    fn index_vehicle(&mut self, id: u64, v: &Vehicle) -> Result<()> {
        self.t.vehicle_by_vin()?.insert(v.vin.as_str(), id)?;
        if let Some(p) = &v.plate {
            self.t.vehicle_by_plate()?.insert(p.as_str(), id)?;
        }
        Ok(())
    }
}

/// A vehicle with its id and ownership history, as the 360° view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedVehicle {
    /// The vehicle's id.
    pub id: VehicleId,
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Its whole ownership history.
    pub ownership: OwnershipHistory,
}

impl ReadTxn {
    /// The vehicle with id `id`.
    pub fn vehicle(&self, id: VehicleId) -> Result<Vehicle> {
        vehicle_in(&self.tables, id)
    }

    /// The vehicle's ownership history.
    pub fn ownership(&self, id: VehicleId) -> Result<OwnershipHistory> {
        ownership_in(&self.tables, id)
    }

    /// Every vehicle with its ownership history, in id order (two full-table scans in step,
    /// no lookups per vehicle).
    pub fn all_vehicles(&self) -> Result<Vec<(VehicleId, Vehicle, OwnershipHistory)>> {
        let owners = self.tables.ownership()?;
        let mut out = Vec::new();
        for (v, o) in self.tables.vehicles()?.iter()?.zip(owners.iter()?) {
            let ((id, v), (oid, o)) = (v?, o?);
            if id.value() != oid.value() {
                return Err(Error::Corrupt {
                    what: "ownership history",
                    source: crate::codec::DecodeError::Malformed(format!(
                        "vehicle {} has no ownership record",
                        id.value()
                    ))
                    .into(),
                });
            }
            let h = decode_stored(o.value())?;
            out.push((VehicleId(id.value()), decode_stored(v.value())?, h));
        }
        Ok(out)
    }

    /// The vehicle with VIN `vin` (validated and normalised first).
    pub fn vehicle_by_vin(&self, vin: &str) -> Result<Option<VehicleId>> {
        let key = crate::validate::vin("vin", vin)?;
        Ok(self
            .tables
            .vehicle_by_vin()?
            .get(key.as_str())?
            .map(|v| VehicleId(v.value())))
    }

    /// The vehicle with plate `plate` (normalised first).
    pub fn vehicle_by_plate(&self, plate: &str) -> Result<Option<VehicleId>> {
        let key = crate::validate::plate("plate", plate)?;
        Ok(self
            .tables
            .vehicle_by_plate()?
            .get(key.as_str())?
            .map(|v| VehicleId(v.value())))
    }

    /// Vehicles the customer owns or ever owned, with their histories, in id order.
    pub fn vehicles_of(&self, c: CustomerId) -> Result<Vec<OwnedVehicle>> {
        let links = self.tables.customer_vehicles()?;
        let vehicles = self.tables.vehicles()?;
        let owners = self.tables.ownership()?;
        let mut out = Vec::new();
        for id in links.get(c.0)? {
            let id = id?.value();
            let vehicle = vehicles
                .get(id)?
                .ok_or_else(|| Error::dangling("customer vehicles", "vehicle", id))?;
            let ownership = owners
                .get(id)?
                .ok_or_else(|| Error::dangling("customer vehicles", "ownership history", id))?;
            out.push(OwnedVehicle {
                id: VehicleId(id),
                vehicle: decode_stored(vehicle.value())?,
                ownership: decode_stored(ownership.value())?,
            });
        }
        Ok(out)
    }

    /// Number of vehicles.
    pub fn vehicle_count(&self) -> Result<u64> {
        Ok(self.tables.vehicles()?.len()?)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a new vehicle, optionally with its first owner from a date. A
    /// vehicle carrying a source record already written returns the existing id and writes
    /// nothing.
    pub fn insert_vehicle(
        &mut self,
        vehicle: &Vehicle,
        owner: Option<(CustomerId, Date)>,
    ) -> Result<VehicleId> {
        self.tx().insert_vehicle(vehicle, owner)
    }

    /// Replaces a vehicle's data (VIN and plate indexes follow). Ownership is unchanged.
    pub fn update_vehicle(&mut self, id: VehicleId, vehicle: &Vehicle) -> Result<()> {
        self.tx().update_vehicle(id, vehicle)
    }

    /// Passes the vehicle to `to` on date `on` (trade-in, resale, or first owner of a vehicle
    /// stored without one). The previous owner keeps it as a past vehicle; both rollups follow.
    pub fn transfer_vehicle(&mut self, id: VehicleId, to: CustomerId, on: Date) -> Result<()> {
        self.tx().transfer_vehicle(id, to, on)
    }

    /// The vehicle with id `id`, as this transaction sees it.
    pub fn vehicle(&self, id: VehicleId) -> Result<Vehicle> {
        self.tx().vehicle(id)
    }

    /// The vehicle's ownership history, as this transaction sees it.
    pub fn ownership(&self, id: VehicleId) -> Result<OwnershipHistory> {
        self.tx().ownership(id)
    }
}

/// [`ReadTxn::vehicle`], for either kind of transaction.
pub(crate) fn vehicle_in(t: &impl ReadView, id: VehicleId) -> Result<Vehicle> {
    get_record(&*t.vehicles()?, id.0)?.ok_or_else(|| Error::not_found("vehicle", id))
}

/// [`ReadTxn::ownership`], for either kind of transaction.
pub(crate) fn ownership_in(t: &impl ReadView, id: VehicleId) -> Result<OwnershipHistory> {
    get_record(&*t.ownership()?, id.0)?.ok_or_else(|| Error::not_found("vehicle", id))
}
