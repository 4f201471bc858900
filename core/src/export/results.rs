//! Tables of results and reference data: the dealers, home dealers, segment members, KPI rows, the data-quality report,
//! duplicate candidates.

use std::sync::Arc;

use arrow_array::builder::{
    Date32Builder, Float64Builder, Int32Builder, ListBuilder, StringBuilder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::{batch, field, utf8_list};
use crate::analytics::Facts;
use crate::date::Date;
use crate::error::Result;
use crate::identity::DuplicateCandidate;
use crate::integration::QualityRow;
use crate::kpi::KpiRow;
use crate::names::Named;
use crate::segment::CustomerSet;
use crate::store::ReadTxn;

/// The columns of [`dealers`]: `id u32, code, name, region, province, city, kind` (utf8;
/// `kind` is the [`DealerKind`](crate::DealerKind)'s snake_case name).
pub fn dealers_schema() -> SchemaRef {
    let s = |n: &str| field(n, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        field("id", DataType::UInt32, false),
        s("code"),
        s("name"),
        s("region"),
        s("province"),
        s("city"),
        s("kind"),
    ]))
}

/// Every dealer, one row each in id order ([`dealers_schema`]): what the `dealer` columns of
/// the other tables name, and the codes, regions and provinces KPI rows are labelled with.
pub fn dealers(r: &ReadTxn) -> Result<RecordBatch> {
    let rows = r.dealers()?;
    let mut id = UInt32Builder::with_capacity(rows.len());
    let mut strs: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    for (did, d) in &rows {
        id.append_value(did.0);
        let vals = [
            d.code.as_str(),
            &d.name,
            &d.region,
            &d.province,
            &d.city,
            d.kind.name(),
        ];
        for (b, v) in strs.iter_mut().zip(vals) {
            b.append_value(v);
        }
    }
    let mut cols: Vec<ArrayRef> = vec![Arc::new(id.finish())];
    cols.extend(strs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    batch(dealers_schema(), cols)
}

/// The columns of [`home_dealers`]: `customer u64, home_dealer u32` (null: none).
pub fn home_dealers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("customer", DataType::UInt64, false),
        field("home_dealer", DataType::UInt32, true),
    ]))
}

/// Each customer's home dealer on `on`, one row per customer in id order
/// ([`home_dealers_schema`]): the dealer per-dealer KPIs count him at
/// ([`CustomerFacts::home_dealer`](crate::CustomerFacts::home_dealer): the dealer of his latest
/// service visit, else of his latest vehicle's sale, else of his latest contact). Loads the
/// snapshot's [`Facts`]; a caller that holds them already calls [`home_dealers_of`].
pub fn home_dealers(r: &ReadTxn, on: Date) -> Result<RecordBatch> {
    home_dealers_of(&r.facts()?, on)
}

/// [`home_dealers`] from facts already loaded.
pub fn home_dealers_of(facts: &Facts, on: Date) -> Result<RecordBatch> {
    let rows = facts.home_dealers(on);
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut dealer = UInt32Builder::with_capacity(rows.len());
    for (c, d) in rows {
        customer.append_value(c.0);
        dealer.append_option(d.map(|d| d.0));
    }
    batch(
        home_dealers_schema(),
        vec![Arc::new(customer.finish()), Arc::new(dealer.finish())],
    )
}

/// The columns of [`members`]: `customer_id u64`.
pub fn members_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![field(
        "customer_id",
        DataType::UInt64,
        false,
    )]))
}

/// A set of customers (segment members), one row per customer in ascending id order
/// ([`members_schema`]).
pub fn members(set: &CustomerSet) -> Result<RecordBatch> {
    let mut id = UInt64Builder::with_capacity(set.len() as usize);
    for c in set.iter() {
        id.append_value(c.0);
    }
    batch(members_schema(), vec![Arc::new(id.finish())])
}

/// The columns of [`kpi_rows`]: `kpi, dimension` (utf8), `key utf8` (the dealer id, region,
/// province or model; null for the network and the unattributed row), `label utf8,
/// period_from date32, period_to date32` (the period is `[from, to)`), `numerator f64,
/// denominator f64, value f64` (null when there is nothing to divide by).
pub fn kpi_rows_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("kpi", DataType::Utf8, false),
        field("dimension", DataType::Utf8, false),
        field("key", DataType::Utf8, true),
        field("label", DataType::Utf8, false),
        field("period_from", DataType::Date32, false),
        field("period_to", DataType::Date32, false),
        field("numerator", DataType::Float64, false),
        field("denominator", DataType::Float64, false),
        field("value", DataType::Float64, true),
    ]))
}

/// KPI rows ([`Facts::kpi`]), one row each in order ([`kpi_rows_schema`]).
pub fn kpi_rows(rows: &[KpiRow]) -> Result<RecordBatch> {
    let mut kpi = StringBuilder::new();
    let mut dim = StringBuilder::new();
    let mut key = StringBuilder::new();
    let mut label = StringBuilder::new();
    let mut from = Date32Builder::with_capacity(rows.len());
    let mut to = Date32Builder::with_capacity(rows.len());
    let mut num = Float64Builder::with_capacity(rows.len());
    let mut den = Float64Builder::with_capacity(rows.len());
    let mut val = Float64Builder::with_capacity(rows.len());
    for r in rows {
        let (d, k) = r.key.parts();
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
        kpi_rows_schema(),
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

/// The columns of [`quality_rows`]: `dealer u32` (null: the unassigned or network row),
/// `label utf8, customers u64, customers_sold u64, valid_info u64, valid_info_ratio f64,
/// rejections u64` (all reasons), `queue_size u64, oldest_queued_days i32, open_conflicts
/// u64`.
pub fn quality_rows_schema() -> SchemaRef {
    let u64f = |name: &str| field(name, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        field("dealer", DataType::UInt32, true),
        field("label", DataType::Utf8, false),
        u64f("customers"),
        u64f("customers_sold"),
        u64f("valid_info"),
        field("valid_info_ratio", DataType::Float64, true),
        u64f("rejections"),
        u64f("queue_size"),
        field("oldest_queued_days", DataType::Int32, true),
        u64f("open_conflicts"),
    ]))
}

/// Rows of the data-quality report ([`QualityReport`](crate::QualityReport)`::rows`, or any
/// selection), one row each in order ([`quality_rows_schema`]).
pub fn quality_rows(rows: &[QualityRow]) -> Result<RecordBatch> {
    let n = rows.len();
    let mut dealer = UInt32Builder::with_capacity(n);
    let mut label = StringBuilder::new();
    let mut customers = UInt64Builder::with_capacity(n);
    let mut sold = UInt64Builder::with_capacity(n);
    let mut valid = UInt64Builder::with_capacity(n);
    let mut ratio = Float64Builder::with_capacity(n);
    let mut rejections = UInt64Builder::with_capacity(n);
    let mut queue = UInt64Builder::with_capacity(n);
    let mut oldest = Int32Builder::with_capacity(n);
    let mut conflicts = UInt64Builder::with_capacity(n);
    for r in rows {
        dealer.append_option(r.dealer.map(|d| d.0));
        label.append_value(&r.label);
        customers.append_value(r.customers);
        sold.append_value(r.customers_sold);
        valid.append_value(r.valid_info);
        ratio.append_option(r.valid_info_ratio);
        rejections.append_value(r.rejections_total());
        queue.append_value(r.queue_size);
        oldest.append_option(r.oldest_queued_days);
        conflicts.append_value(r.open_conflicts);
    }
    batch(
        quality_rows_schema(),
        vec![
            Arc::new(dealer.finish()),
            Arc::new(label.finish()),
            Arc::new(customers.finish()),
            Arc::new(sold.finish()),
            Arc::new(valid.finish()),
            Arc::new(ratio.finish()),
            Arc::new(rejections.finish()),
            Arc::new(queue.finish()),
            Arc::new(oldest.finish()),
            Arc::new(conflicts.finish()),
        ],
    )
}

/// The columns of [`candidates`]: `customer u64, other u64, score u8` (0–100), `reasons
/// list<utf8>` (the match rules that fired).
pub fn candidates_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("customer", DataType::UInt64, false),
        field("other", DataType::UInt64, false),
        field("score", DataType::UInt8, false),
        field("reasons", utf8_list(), false),
    ]))
}

/// Duplicate candidates, one row each in order ([`candidates_schema`]).
pub fn candidates(rows: &[DuplicateCandidate]) -> Result<RecordBatch> {
    let n = rows.len();
    let mut customer = UInt64Builder::with_capacity(n);
    let mut other = UInt64Builder::with_capacity(n);
    let mut score = UInt8Builder::with_capacity(n);
    let mut reasons = ListBuilder::new(StringBuilder::new());
    for c in rows {
        customer.append_value(c.customer.0);
        other.append_value(c.other.0);
        score.append_value(c.score);
        for r in &c.reasons {
            reasons.values().append_value(r.name());
        }
        reasons.append(true);
    }
    batch(
        candidates_schema(),
        vec![
            Arc::new(customer.finish()),
            Arc::new(other.finish()),
            Arc::new(score.finish()),
            Arc::new(reasons.finish()),
        ],
    )
}
