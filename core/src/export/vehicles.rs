//! The vehicles table (current owner) and the ownership table (every owner period).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::{batch, field};
use crate::error::Result;
use crate::ids::VehicleId;
use crate::names::Named;
use crate::store::ReadTxn;
use crate::vehicle::{OwnershipHistory, Vehicle};

/// The text columns of the vehicles table, after `id`.
const VEHICLE_TEXT: [&str; 6] = ["vin", "plate", "brand", "model", "trim", "usage"];

/// The date columns of the vehicles table, after the text columns.
const VEHICLE_DATES: [&str; 7] = [
    "purchase_date",
    "invoice_date",
    "registration_date",
    "first_service_date",
    "warranty_end",
    "insurance_expiry",
    "inspection_due",
];

/// The columns of [`vehicles`]: `id u64, vin, plate, brand, model, trim, usage` (utf8,
/// nullable), `purchase_date, invoice_date, registration_date, first_service_date,
/// warranty_end, insurance_expiry, inspection_due` (date32), `selling_dealer u32, owner u64,
/// owner_since date32` (the current owner and the day the current ownership began; null for a
/// vehicle nobody owns now).
pub fn vehicles_schema() -> SchemaRef {
    let mut fields = vec![field("id", DataType::UInt64, false)];
    fields.extend(VEHICLE_TEXT.iter().map(|n| field(n, DataType::Utf8, true)));
    fields.extend(
        VEHICLE_DATES
            .iter()
            .map(|n| field(n, DataType::Date32, true)),
    );
    fields.push(field("selling_dealer", DataType::UInt32, true));
    fields.push(field("owner", DataType::UInt64, true));
    fields.push(field("owner_since", DataType::Date32, true));
    Arc::new(Schema::new(fields))
}

/// Every vehicle of the snapshot, one row each in id order, with its current owner
/// ([`vehicles_schema`]).
pub fn vehicles(r: &ReadTxn) -> Result<RecordBatch> {
    vehicles_batch(&r.all_vehicles()?)
}

/// [`vehicles`] of the rows `view` gives (see [`vehicle_rows`]).
pub(crate) fn vehicles_with(
    r: &ReadTxn,
    view: impl FnMut(VehicleRow) -> ViewedRow,
) -> Result<RecordBatch> {
    vehicles_batch(&vehicle_rows(r, view)?)
}

/// A vehicle with its ownership history, as [`ReadTxn::all_vehicles`] gives it.
pub(crate) type VehicleRow = (VehicleId, Vehicle, OwnershipHistory);

/// What a view makes of a row: `None` leaves it out.
pub(crate) type ViewedRow = Result<Option<VehicleRow>>;

/// Every vehicle through `view`, in id order: `None` leaves a vehicle out, `Some` gives the
/// row to export (e.g. its history cut to the owners a scope sees). Scoped exports
/// ([`crate::api::ScopedStore::vehicles_table`]) pass their visibility here, so they build
/// the very columns [`vehicles`] and [`ownership`] build.
fn vehicle_rows(
    r: &ReadTxn,
    mut view: impl FnMut(VehicleRow) -> ViewedRow,
) -> Result<Vec<VehicleRow>> {
    let mut out = Vec::new();
    for row in r.all_vehicles()? {
        out.extend(view(row)?);
    }
    Ok(out)
}

fn vehicles_batch(rows: &[VehicleRow]) -> Result<RecordBatch> {
    let mut id = UInt64Builder::with_capacity(rows.len());
    let mut strs: Vec<StringBuilder> = VEHICLE_TEXT.iter().map(|_| StringBuilder::new()).collect();
    let mut dates: Vec<Date32Builder> =
        VEHICLE_DATES.iter().map(|_| Date32Builder::new()).collect();
    let mut dealer = UInt32Builder::new();
    let mut owner = UInt64Builder::new();
    let mut since = Date32Builder::new();
    for (vid, v, h) in rows {
        id.append_value(vid.0);
        strs[0].append_value(&v.vin);
        strs[1].append_option(v.plate.as_deref());
        strs[2].append_value(&v.brand);
        strs[3].append_value(&v.model);
        strs[4].append_option(v.trim.as_deref());
        strs[5].append_value(v.usage.name());
        let ds = [
            v.purchase_date,
            v.invoice_date,
            v.registration_date,
            v.first_service_date,
            v.warranty_end,
            v.insurance_expiry,
            v.inspection_due,
        ];
        for (b, d) in dates.iter_mut().zip(ds) {
            b.append_option(d.map(|d| d.days()));
        }
        dealer.append_option(v.selling_dealer.map(|d| d.0));
        let cur = h.current();
        owner.append_option(cur.map(|o| o.customer.0));
        since.append_option(cur.map(|o| o.from.days()));
    }
    let mut cols: Vec<ArrayRef> = vec![Arc::new(id.finish())];
    cols.extend(strs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.extend(dates.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(dealer.finish()));
    cols.push(Arc::new(owner.finish()));
    cols.push(Arc::new(since.finish()));
    batch(vehicles_schema(), cols)
}

/// The columns of [`ownership`]: `vehicle u64, vin utf8, customer u64, from date32, to date32
/// (null while current), current bool`.
pub fn ownership_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("vehicle", DataType::UInt64, false),
        field("vin", DataType::Utf8, false),
        field("customer", DataType::UInt64, false),
        field("from", DataType::Date32, false),
        field("to", DataType::Date32, true),
        field("current", DataType::Boolean, false),
    ]))
}

/// The full ownership history: one row per ownership period of every vehicle
/// ([`ownership_schema`]), vehicles in id order and each vehicle's periods oldest first, so a
/// vehicle's trade-ins and resales show every owner it ever had, not only the current one.
pub fn ownership(r: &ReadTxn) -> Result<RecordBatch> {
    ownership_batch(&r.all_vehicles()?)
}

/// [`ownership`] of the rows `view` gives (see [`vehicle_rows`]).
pub(crate) fn ownership_with(
    r: &ReadTxn,
    view: impl FnMut(VehicleRow) -> ViewedRow,
) -> Result<RecordBatch> {
    ownership_batch(&vehicle_rows(r, view)?)
}

fn ownership_batch(rows: &[VehicleRow]) -> Result<RecordBatch> {
    let mut vehicle = UInt64Builder::new();
    let mut vin = StringBuilder::new();
    let mut customer = UInt64Builder::new();
    let mut from = Date32Builder::new();
    let mut to = Date32Builder::new();
    let mut current = BooleanBuilder::new();
    for (vid, v, h) in rows {
        for o in &h.0 {
            vehicle.append_value(vid.0);
            vin.append_value(&v.vin);
            customer.append_value(o.customer.0);
            from.append_value(o.from.days());
            to.append_option(o.to.map(|d| d.days()));
            current.append_value(o.to.is_none());
        }
    }
    batch(
        ownership_schema(),
        vec![
            Arc::new(vehicle.finish()),
            Arc::new(vin.finish()),
            Arc::new(customer.finish()),
            Arc::new(from.finish()),
            Arc::new(to.finish()),
            Arc::new(current.finish()),
        ],
    )
}
