//! Tables out as Arrow through the PyCapsule interface (`__arrow_c_stream__`): built in Rust
//! from core records with the GIL released, never through per-row Python objects.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampSecondBuilder, UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use autocrm::kpi::KpiRow;
use autocrm::loyalty::Posting;
use autocrm::{
    Complaint, ComplaintId, Customer, CustomerId, CustomerSet, DealerId, Factor, Lead, LeadId,
    LeadStatus, Money, OwnershipHistory, Party, Survey, SurveyId, Touchpoint, TouchpointId,
    Vehicle, VehicleId,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{to_stream_pycapsule, ArrayIterator};

use crate::conv::{wallet_label, Named};
use crate::types::group_key;

fn arrow_err(e: ArrowError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Exports `batches` (at least one, all of one schema) as an Arrow C stream capsule.
pub fn stream_capsule<'py>(
    py: Python<'py>,
    batches: &[RecordBatch],
    requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = batches
        .first()
        .ok_or_else(|| PyValueError::new_err("an Arrow table needs a schema"))?
        .schema();
    let arrays: Vec<ArrayRef> = batches
        .iter()
        .map(|b| Arc::new(StructArray::from(b.clone())) as ArrayRef)
        .collect();
    let field = Arc::new(
        Field::new_struct("", schema.fields().clone(), false)
            .with_metadata(schema.metadata.clone()),
    );
    let reader = Box::new(ArrayIterator::new(arrays.into_iter().map(Ok), field));
    Ok(to_stream_pycapsule(py, reader, requested_schema)?)
}

/// Gives a Python class wrapping an `Arc<T>` the Arrow PyCapsule interface
/// (`__arrow_c_stream__`) and `to_table` / `to_pyarrow` / `to_pandas` / `to_polars`: its rows
/// become one record batch through `$batch(&T)`, built with the GIL released. A macro because
/// pyo3 cannot take `#[pymethods]` from a trait; one extra `#[pymethods]` block per class
/// (pyo3's `multiple-pymethods`).
macro_rules! arrow_methods {
    ($class:ident, $batch:path) => {
        #[pyo3::pymethods]
        impl $class {
            /// Arrow PyCapsule interface.
            #[pyo3(signature = (requested_schema=None))]
            fn __arrow_c_stream__<'py>(
                &self,
                py: pyo3::Python<'py>,
                requested_schema: Option<pyo3::Bound<'py, pyo3::types::PyCapsule>>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyCapsule>> {
                let rows = self.0.clone();
                let b = py.detach(move || $batch(&rows))?;
                $crate::arrow::stream_capsule(py, std::slice::from_ref(&b), requested_schema)
            }

            /// As an Arrow table object.
            fn to_table(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<$crate::arrow::Table> {
                let rows = self.0.clone();
                Ok($crate::arrow::Table::new(py.detach(move || $batch(&rows))?))
            }

            /// As a `pyarrow.Table` (requires pyarrow).
            fn to_pyarrow<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_pyarrow")
            }

            /// As a pandas DataFrame (requires pyarrow and pandas).
            fn to_pandas<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_pandas")
            }

            /// As a polars DataFrame (requires polars).
            fn to_polars<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                pyo3::Bound::new(py, self.to_table(py)?)?.call_method0("to_polars")
            }
        }
    };
}
pub(crate) use arrow_methods;

/// Calls `module.attr(obj)`, with an ImportError naming the package if it is missing.
fn via<'py>(obj: &Bound<'py, PyAny>, module: &str, attr: &str) -> PyResult<Bound<'py, PyAny>> {
    let m = obj.py().import(module)?;
    m.getattr(attr)?.call1((obj,))
}

/// An Arrow table built from core records. Consume it with `pyarrow.table(t)`,
/// `polars.DataFrame(t)`, or `t.to_pandas()` / `t.to_polars()`.
#[pyclass(frozen, module = "autocrm", name = "Table")]
pub struct Table {
    /// One or more record batches of one schema (several when built by several threads).
    batches: Vec<RecordBatch>,
}

impl Table {
    /// A table of one batch.
    pub fn new(batch: RecordBatch) -> Table {
        Table {
            batches: vec![batch],
        }
    }

    /// A table of `batches` in order (at least one; all of one schema).
    pub fn chunked(batches: Vec<RecordBatch>) -> Table {
        debug_assert!(!batches.is_empty());
        Table { batches }
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

#[pymethods]
impl Table {
    /// Arrow PyCapsule interface: a C stream of the table's record batches.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        stream_capsule(py, &self.batches, requested_schema)
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.rows()
    }

    /// Column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batches[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.rows()
    }

    /// As a `pyarrow.Table` (requires pyarrow).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "pyarrow", "table")
    }

    /// As a `pandas.DataFrame` (requires pyarrow and pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "pyarrow", "table")?.call_method0("to_pandas")
    }

    /// As a `polars.DataFrame` (requires polars).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        via(slf.as_any(), "polars", "DataFrame")
    }

    fn __repr__(&self) -> String {
        format!(
            "autocrm.Table({} rows: {})",
            self.rows(),
            self.column_names().join(", ")
        )
    }
}

fn money(b: &mut Decimal128Builder, m: Option<Money>) {
    b.append_option(m.map(|m| i128::from(m.fen())));
}

fn decimal_builder() -> Decimal128Builder {
    Decimal128Builder::new()
        .with_precision_and_scale(18, 2)
        .expect("valid precision")
}

fn decimal_field(name: &str) -> Field {
    Field::new(name, DataType::Decimal128(18, 2), true)
}

fn ts_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Second, None), nullable)
}

fn batch(fields: Vec<Field>, cols: Vec<ArrayRef>) -> PyResult<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(arrow_err)
}

/// The customers table, built one customer at a time (see `ReadTxn::customers_table`: the
/// records are appended as the scan decodes them, so none is held longer than its row takes).
pub struct Customers {
    id: UInt64Builder,
    kind: StringBuilder,
    name: StringBuilder,
    gender: StringBuilder,
    birth: Date32Builder,
    nid: StringBuilder,
    cc: StringBuilder,
    phones: ListBuilder<StringBuilder>,
    province: StringBuilder,
    city: StringBuilder,
    occupation: StringBuilder,
    employer: StringBuilder,
    industry: StringBuilder,
    ssys: StringBuilder,
    srec: StringBuilder,
}

impl Customers {
    /// Builders sized for `n` rows (a guess at the text per row; they grow if it is short).
    pub fn with_capacity(n: usize) -> Customers {
        let s = |bytes_per_row: usize| StringBuilder::with_capacity(n, n * bytes_per_row);
        Customers {
            id: UInt64Builder::with_capacity(n),
            kind: s(6),
            name: s(12),
            gender: s(6),
            birth: Date32Builder::with_capacity(n),
            nid: s(18),
            cc: s(0),
            phones: ListBuilder::with_capacity(StringBuilder::with_capacity(n, n * 11), n),
            province: s(9),
            city: s(9),
            occupation: s(0),
            employer: s(0),
            industry: s(0),
            ssys: s(0),
            srec: s(0),
        }
    }

    /// Appends one customer's row.
    pub fn push(&mut self, cid: CustomerId, c: &Customer) {
        self.id.append_value(cid.0);
        self.name.append_value(c.name());
        match &c.party {
            Party::Person(p) => {
                self.kind.append_value("person");
                self.gender.append_option(p.gender.map(Named::name));
                self.birth.append_option(p.birth_date.map(|d| d.days()));
                self.nid.append_option(p.national_id.as_deref());
                self.cc.append_null();
                self.occupation.append_option(p.occupation.as_deref());
                self.employer.append_option(p.employer.as_deref());
                self.industry.append_null();
            }
            Party::Organisation(o) => {
                self.kind.append_value("organisation");
                self.gender.append_null();
                self.birth.append_null();
                self.nid.append_null();
                self.cc.append_option(o.credit_code.as_deref());
                self.occupation.append_null();
                self.employer.append_null();
                self.industry.append_option(o.industry.as_deref());
            }
        }
        for p in &c.phones {
            self.phones.values().append_value(p);
        }
        self.phones.append(true);
        self.province.append_option(c.province.as_deref());
        self.city.append_option(c.city.as_deref());
        self.ssys
            .append_option(c.source.as_ref().map(|s| s.system.as_str()));
        self.srec
            .append_option(c.source.as_ref().map(|s| s.record_id.as_str()));
    }

    /// The record batch: `id u64, kind, name, gender, birth_date date32, national_id,
    /// credit_code, phones list<utf8>, province, city, occupation, employer, industry,
    /// source_system, source_record_id`.
    pub fn finish(mut self) -> PyResult<RecordBatch> {
        let s = |n: &str| Field::new(n, DataType::Utf8, true);
        batch(
            vec![
                Field::new("id", DataType::UInt64, false),
                Field::new("kind", DataType::Utf8, false),
                Field::new("name", DataType::Utf8, false),
                s("gender"),
                Field::new("birth_date", DataType::Date32, true),
                s("national_id"),
                s("credit_code"),
                Field::new(
                    "phones",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                    true,
                ),
                s("province"),
                s("city"),
                s("occupation"),
                s("employer"),
                s("industry"),
                s("source_system"),
                s("source_record_id"),
            ],
            vec![
                Arc::new(self.id.finish()),
                Arc::new(self.kind.finish()),
                Arc::new(self.name.finish()),
                Arc::new(self.gender.finish()),
                Arc::new(self.birth.finish()),
                Arc::new(self.nid.finish()),
                Arc::new(self.cc.finish()),
                Arc::new(self.phones.finish()),
                Arc::new(self.province.finish()),
                Arc::new(self.city.finish()),
                Arc::new(self.occupation.finish()),
                Arc::new(self.employer.finish()),
                Arc::new(self.industry.finish()),
                Arc::new(self.ssys.finish()),
                Arc::new(self.srec.finish()),
            ],
        )
    }
}

/// vehicles: one row per vehicle, with its current owner.
pub fn vehicles(rows: &[(VehicleId, Vehicle, OwnershipHistory)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut strs: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    let mut dates: Vec<Date32Builder> = (0..7).map(|_| Date32Builder::new()).collect();
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
    let mut fields = vec![Field::new("id", DataType::UInt64, false)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(id.finish())];
    for (n, b) in ["vin", "plate", "brand", "model", "trim", "usage"]
        .iter()
        .zip(strs.iter_mut())
    {
        fields.push(Field::new(*n, DataType::Utf8, true));
        cols.push(Arc::new(b.finish()));
    }
    for (n, b) in [
        "purchase_date",
        "invoice_date",
        "registration_date",
        "first_service_date",
        "warranty_end",
        "insurance_expiry",
        "inspection_due",
    ]
    .iter()
    .zip(dates.iter_mut())
    {
        fields.push(Field::new(*n, DataType::Date32, true));
        cols.push(Arc::new(b.finish()));
    }
    fields.push(Field::new("selling_dealer", DataType::UInt32, true));
    cols.push(Arc::new(dealer.finish()));
    fields.push(Field::new("owner", DataType::UInt64, true));
    cols.push(Arc::new(owner.finish()));
    fields.push(Field::new("owner_since", DataType::Date32, true));
    cols.push(Arc::new(since.finish()));
    batch(fields, cols)
}

/// touchpoints: one row per touchpoint.
pub fn touchpoints(rows: &[(TouchpointId, Touchpoint)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut customer = UInt64Builder::new();
    let mut at = TimestampSecondBuilder::new();
    let mut vehicle = UInt64Builder::new();
    let mut dealer = UInt32Builder::new();
    let mut channel = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut service_kind = StringBuilder::new();
    let mut stage = StringBuilder::new();
    let mut sensitive = BooleanBuilder::new();
    let mut amount = decimal_builder();
    let mut parts = decimal_builder();
    let mut labour = decimal_builder();
    let mut mileage = UInt32Builder::new();
    let mut score = UInt8Builder::new();
    let mut outcome = StringBuilder::new();
    let mut note = StringBuilder::new();
    for (tid, t) in rows {
        id.append_value(tid.0);
        customer.append_value(t.customer.0);
        at.append_value(t.at.seconds());
        vehicle.append_option(t.vehicle.map(|v| v.0));
        dealer.append_option(t.dealer.map(|d| d.0));
        channel.append_value(t.channel.name());
        kind.append_value(Named::name(t.kind));
        service_kind.append_option(t.service_kind.map(Named::name));
        stage.append_option(t.stage.map(Named::name));
        sensitive.append_value(t.sensitive);
        money(&mut amount, t.amount);
        money(&mut parts, t.parts_amount);
        money(&mut labour, t.labour_amount);
        mileage.append_option(t.mileage_km);
        score.append_option(t.score);
        outcome.append_option(t.outcome.as_deref());
        note.append_option(t.note.as_deref());
    }
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    batch(
        vec![
            Field::new("id", DataType::UInt64, false),
            Field::new("customer", DataType::UInt64, false),
            ts_field("at", false),
            Field::new("vehicle", DataType::UInt64, true),
            Field::new("dealer", DataType::UInt32, true),
            Field::new("channel", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            s("service_kind"),
            s("stage"),
            Field::new("sensitive", DataType::Boolean, false),
            decimal_field("amount"),
            decimal_field("parts_amount"),
            decimal_field("labour_amount"),
            Field::new("mileage_km", DataType::UInt32, true),
            Field::new("score", DataType::UInt8, true),
            s("outcome"),
            s("note"),
        ],
        vec![
            Arc::new(id.finish()),
            Arc::new(customer.finish()),
            Arc::new(at.finish()),
            Arc::new(vehicle.finish()),
            Arc::new(dealer.finish()),
            Arc::new(channel.finish()),
            Arc::new(kind.finish()),
            Arc::new(service_kind.finish()),
            Arc::new(stage.finish()),
            Arc::new(sensitive.finish()),
            Arc::new(amount.finish()),
            Arc::new(parts.finish()),
            Arc::new(labour.finish()),
            Arc::new(mileage.finish()),
            Arc::new(score.finish()),
            Arc::new(outcome.finish()),
            Arc::new(note.finish()),
        ],
    )
}

/// postings: one row per ledger posting.
pub fn postings(rows: &[(u64, Posting)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut customer = UInt64Builder::new();
    let mut wallet = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut points = Int64Builder::new();
    let mut at = TimestampSecondBuilder::new();
    let mut key = StringBuilder::new();
    let mut dealer = UInt32Builder::new();
    let mut expires = Date32Builder::new();
    let mut shortfall = Int64Builder::new();
    for (pid, p) in rows {
        id.append_value(*pid);
        customer.append_value(p.customer.0);
        wallet.append_value(wallet_label(p.wallet));
        kind.append_value(Named::name(p.kind));
        points.append_value(p.points);
        at.append_value(p.at.seconds());
        key.append_value(&p.key);
        dealer.append_option(p.dealer.map(|d| d.0));
        expires.append_option(p.expires.map(|d| d.days()));
        shortfall.append_value(p.shortfall);
    }
    batch(
        vec![
            Field::new("id", DataType::UInt64, false),
            Field::new("customer", DataType::UInt64, false),
            Field::new("wallet", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("points", DataType::Int64, false),
            ts_field("at", false),
            Field::new("key", DataType::Utf8, false),
            Field::new("dealer", DataType::UInt32, true),
            Field::new("expires", DataType::Date32, true),
            Field::new("shortfall", DataType::Int64, false),
        ],
        vec![
            Arc::new(id.finish()),
            Arc::new(customer.finish()),
            Arc::new(wallet.finish()),
            Arc::new(kind.finish()),
            Arc::new(points.finish()),
            Arc::new(at.finish()),
            Arc::new(key.finish()),
            Arc::new(dealer.finish()),
            Arc::new(expires.finish()),
            Arc::new(shortfall.finish()),
        ],
    )
}

/// segment members: one `customer_id` column.
pub fn members(set: &CustomerSet) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::with_capacity(set.len() as usize);
    for c in set.iter() {
        id.append_value(c.0);
    }
    batch(
        vec![Field::new("customer_id", DataType::UInt64, false)],
        vec![Arc::new(id.finish())],
    )
}

/// KPI rows.
pub fn kpi_rows(rows: &[KpiRow]) -> PyResult<RecordBatch> {
    let mut kpi = StringBuilder::new();
    let mut dim = StringBuilder::new();
    let mut key = StringBuilder::new();
    let mut label = StringBuilder::new();
    let mut from = Date32Builder::new();
    let mut to = Date32Builder::new();
    let mut num = Float64Builder::new();
    let mut den = Float64Builder::new();
    let mut val = Float64Builder::new();
    for r in rows {
        let (d, k) = group_key(&r.key);
        kpi.append_value(r.kpi.name());
        dim.append_value(d);
        key.append_option(k);
        label.append_value(&r.label);
        from.append_value(r.period.from.days());
        to.append_value(r.period.to.days());
        num.append_value(r.numerator);
        den.append_value(r.denominator);
        val.append_option(r.value);
    }
    batch(
        vec![
            Field::new("kpi", DataType::Utf8, false),
            Field::new("dimension", DataType::Utf8, false),
            Field::new("key", DataType::Utf8, true),
            Field::new("label", DataType::Utf8, false),
            Field::new("period_from", DataType::Date32, false),
            Field::new("period_to", DataType::Date32, false),
            Field::new("numerator", DataType::Float64, false),
            Field::new("denominator", DataType::Float64, false),
            Field::new("value", DataType::Float64, true),
        ],
        vec![
            Arc::new(kpi.finish()),
            Arc::new(dim.finish()),
            Arc::new(key.finish()),
            Arc::new(label.finish()),
            Arc::new(from.finish()),
            Arc::new(to.finish()),
            Arc::new(num.finish()),
            Arc::new(den.finish()),
            Arc::new(val.finish()),
        ],
    )
}

/// ownership: one row per ownership period of every vehicle (every owner it ever had), so a
/// vehicle's trade-ins and resales are all there, not only its current owner.
pub fn ownership(rows: &[(VehicleId, Vehicle, OwnershipHistory)]) -> PyResult<RecordBatch> {
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
        vec![
            Field::new("vehicle", DataType::UInt64, false),
            Field::new("vin", DataType::Utf8, false),
            Field::new("customer", DataType::UInt64, false),
            Field::new("from", DataType::Date32, false),
            Field::new("to", DataType::Date32, true),
            Field::new("current", DataType::Boolean, false),
        ],
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

/// leads: one row per lead.
pub fn leads(rows: &[(LeadId, Lead)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut customer = UInt64Builder::new();
    let mut strs: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    let mut dealer = UInt32Builder::new();
    let mut received = TimestampSecondBuilder::new();
    let mut status_at = TimestampSecondBuilder::new();
    for (lid, l) in rows {
        id.append_value(lid.0);
        customer.append_value(l.customer.0);
        strs[0].append_value(Named::name(l.origin));
        strs[1].append_value(&l.model);
        strs[2].append_value(Named::name(l.intent));
        strs[3].append_value(Named::name(l.purchase_type));
        strs[4].append_value(l.status.name());
        strs[5].append_option(match &l.status {
            LeadStatus::Lost(why) => Some(why.as_str()),
            _ => None,
        });
        dealer.append_option(l.dealer.map(|d| d.0));
        received.append_value(l.received.seconds());
        status_at.append_option(l.status_at.map(|t| t.seconds()));
    }
    let mut fields = vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("customer", DataType::UInt64, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(id.finish()), Arc::new(customer.finish())];
    for (n, b) in [
        "origin",
        "model",
        "intent",
        "purchase_type",
        "status",
        "lost_reason",
    ]
    .iter()
    .zip(strs.iter_mut())
    {
        fields.push(Field::new(*n, DataType::Utf8, *n == "lost_reason"));
        cols.push(Arc::new(b.finish()));
    }
    fields.push(Field::new("dealer", DataType::UInt32, true));
    cols.push(Arc::new(dealer.finish()));
    fields.push(ts_field("received", false));
    cols.push(Arc::new(received.finish()));
    fields.push(ts_field("status_at", true));
    cols.push(Arc::new(status_at.finish()));
    batch(fields, cols)
}

/// complaints: one row per complaint, with the time of every workflow step.
pub fn complaints(rows: &[(ComplaintId, Complaint)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut customer = UInt64Builder::new();
    let mut vehicle = UInt64Builder::new();
    let mut dealer = UInt32Builder::new();
    let mut category = StringBuilder::new();
    let mut status = StringBuilder::new();
    let mut within_sla = BooleanBuilder::new();
    let mut times: Vec<TimestampSecondBuilder> =
        (0..6).map(|_| TimestampSecondBuilder::new()).collect();
    let mut note = StringBuilder::new();
    for (cid, c) in rows {
        id.append_value(cid.0);
        customer.append_value(c.customer.0);
        vehicle.append_option(c.vehicle.map(|v| v.0));
        dealer.append_option(c.dealer.map(|d| d.0));
        category.append_value(&c.category);
        status.append_value(c.status.name());
        within_sla.append_option(c.first_response_within_sla());
        let ts = [
            Some(c.received),
            c.first_response,
            c.analysed,
            c.resolved,
            c.called_back,
            c.closed,
        ];
        for (b, t) in times.iter_mut().zip(ts) {
            b.append_option(t.map(|t| t.seconds()));
        }
        note.append_option(c.note.as_deref());
    }
    let mut fields = vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("customer", DataType::UInt64, false),
        Field::new("vehicle", DataType::UInt64, true),
        Field::new("dealer", DataType::UInt32, true),
        Field::new("category", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("first_response_within_sla", DataType::Boolean, true),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(customer.finish()),
        Arc::new(vehicle.finish()),
        Arc::new(dealer.finish()),
        Arc::new(category.finish()),
        Arc::new(status.finish()),
        Arc::new(within_sla.finish()),
    ];
    for (n, b) in [
        "received",
        "first_response",
        "analysed",
        "resolved",
        "called_back",
        "closed",
    ]
    .iter()
    .zip(times.iter_mut())
    {
        fields.push(ts_field(n, *n != "received"));
        cols.push(Arc::new(b.finish()));
    }
    fields.push(Field::new("note", DataType::Utf8, true));
    cols.push(Arc::new(note.finish()));
    batch(fields, cols)
}

/// surveys: one row per survey, a score column per factor (null where not asked) and the
/// J.D. Power weighted index.
pub fn surveys(rows: &[(SurveyId, Survey)]) -> PyResult<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut customer = UInt64Builder::new();
    let mut dealer = UInt32Builder::new();
    let mut kind = StringBuilder::new();
    let mut date = Date32Builder::new();
    let factors = <Factor as Named>::all();
    let mut scores: Vec<UInt8Builder> = factors.iter().map(|_| UInt8Builder::new()).collect();
    let mut index = Float64Builder::new();
    for (sid, s) in rows {
        id.append_value(sid.0);
        customer.append_value(s.customer.0);
        dealer.append_option(s.dealer.map(|d| d.0));
        kind.append_value(Named::name(s.kind));
        date.append_value(s.date.days());
        for (f, b) in factors.iter().zip(scores.iter_mut()) {
            b.append_option(s.items.iter().find(|(g, _)| g == f).map(|&(_, v)| v));
        }
        index.append_option(s.weighted_index());
    }
    let mut fields = vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("customer", DataType::UInt64, false),
        Field::new("dealer", DataType::UInt32, true),
        Field::new("kind", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(customer.finish()),
        Arc::new(dealer.finish()),
        Arc::new(kind.finish()),
        Arc::new(date.finish()),
    ];
    for (f, b) in factors.iter().zip(scores.iter_mut()) {
        fields.push(Field::new(Named::name(*f), DataType::UInt8, true));
        cols.push(Arc::new(b.finish()));
    }
    fields.push(Field::new("weighted_index", DataType::Float64, true));
    cols.push(Arc::new(index.finish()));
    batch(fields, cols)
}

/// home dealers: the dealer each customer is counted at by per-dealer KPIs on a day.
pub fn home_dealers(rows: &[(CustomerId, Option<DealerId>)]) -> PyResult<RecordBatch> {
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut dealer = UInt32Builder::with_capacity(rows.len());
    for (c, d) in rows {
        customer.append_value(c.0);
        dealer.append_option(d.map(|d| d.0));
    }
    batch(
        vec![
            Field::new("customer", DataType::UInt64, false),
            Field::new("home_dealer", DataType::UInt32, true),
        ],
        vec![Arc::new(customer.finish()), Arc::new(dealer.finish())],
    )
}
