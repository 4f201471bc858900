//! The customers table, built by one or more threads from consecutive id ranges.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, ListBuilder, StringBuilder, UInt64Builder};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};

use super::{batch, field, utf8_list};
use crate::api::PartyKind;
use crate::customer::{Customer, Party};
use crate::error::Result;
use crate::ids::CustomerId;
use crate::names::Named;
use crate::store::ReadTxn;

/// Customers per export thread, at least (fewer are not worth a thread).
const CUSTOMERS_PER_THREAD: usize = 50_000;

/// The columns of [`customers`]: `id u64, kind, name, gender, birth_date date32, national_id,
/// credit_code, phones list<utf8>, province, city, occupation, employer, industry,
/// source_system, source_record_id` (text columns utf8; `id`, `kind`, `name` never null).
/// `kind` is `person` or `organisation`; the person columns (gender, birth date, national ID,
/// occupation, employer) are null for an organisation, its credit code and industry null for a
/// person.
pub fn customers_schema() -> SchemaRef {
    let s = |n: &str| field(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        field("id", DataType::UInt64, false),
        field("kind", DataType::Utf8, false),
        field("name", DataType::Utf8, false),
        s("gender"),
        field("birth_date", DataType::Date32, true),
        s("national_id"),
        s("credit_code"),
        field("phones", utf8_list(), true),
        s("province"),
        s("city"),
        s("occupation"),
        s("employer"),
        s("industry"),
        s("source_system"),
        s("source_record_id"),
    ]))
}

/// Every customer of the snapshot, one row each ([`customers_schema`]), as record batches in id
/// order. `threads`: how many threads decode the records (by default one per 50,000 customers,
/// at most the CPUs available and 8); each thread scans a consecutive id range and gives one
/// batch, so there are as many batches as threads (at least one, possibly empty). Each record
/// is appended as its range scan decodes it: no list of customers is held.
pub fn customers(r: &ReadTxn, threads: Option<usize>) -> Result<Vec<RecordBatch>> {
    customers_with(r, threads, |_, c| Ok(Some(c)))
}

/// [`customers`] through `view`, called with each record as it is decoded: `None` leaves the
/// customer out, `Some` gives the record to append (e.g. masked). Scoped exports
/// ([`crate::api::ScopedStore::customers_table`]) pass their visibility and masks here, so
/// they build the very columns [`customers`] builds. `view` runs on every export thread.
pub(crate) fn customers_with<F>(
    r: &ReadTxn,
    threads: Option<usize>,
    view: F,
) -> Result<Vec<RecordBatch>>
where
    F: Fn(CustomerId, Customer) -> Result<Option<Customer>> + Sync,
{
    let n = r.customer_count()? as usize;
    let Some((lo, hi)) = r.customer_id_range()? else {
        return Ok(vec![CustomerRows::with_capacity(0).finish()?]);
    };
    let cpus = std::thread::available_parallelism().map_or(1, |c| c.get());
    let want = threads.unwrap_or_else(|| (n / CUSTOMERS_PER_THREAD).min(cpus).min(8));
    let span = hi.0 - lo.0 + 1;
    let parts = (want.max(1) as u64).min(span);
    // One range scan into one batch; `each_customer`'s callback cannot fail, so the first
    // error of `view` is kept and the rest of the range skipped.
    let scan = |from: CustomerId, to: CustomerId, capacity: usize| {
        let mut t = CustomerRows::with_capacity(capacity);
        let mut failed = None;
        r.each_customer(from..=to, |id, c| {
            if failed.is_some() {
                return;
            }
            match view(id, c) {
                Ok(Some(c)) => t.push(id, &c),
                Ok(None) => {}
                Err(e) => failed = Some(e),
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => t.finish(),
        }
    };
    if parts == 1 {
        return Ok(vec![scan(lo, hi, n)?]);
    }
    // Equal id ranges: ids are handed out in order and never reused, so ranges of ids are
    // ranges of customers (deleted ones leave gaps).
    let width = span.div_ceil(parts);
    let per_part = n / parts as usize + 1;
    let scan = &scan;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..parts)
            .map(|k| {
                let from = CustomerId(lo.0 + k * width);
                let to = CustomerId((lo.0 + (k + 1) * width - 1).min(hi.0));
                s.spawn(move || scan(from, to, per_part))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The customers' column builders, filled one customer at a time.
struct CustomerRows {
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

impl CustomerRows {
    /// Builders sized for `n` rows (a guess at the text per row; they grow if it is short).
    fn with_capacity(n: usize) -> CustomerRows {
        let s = |bytes_per_row: usize| StringBuilder::with_capacity(n, n * bytes_per_row);
        CustomerRows {
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
    fn push(&mut self, cid: CustomerId, c: &Customer) {
        self.id.append_value(cid.0);
        self.name.append_value(c.name());
        match &c.party {
            Party::Person(p) => {
                self.kind.append_value(PartyKind::Person.name());
                self.gender.append_option(p.gender.map(Named::name));
                self.birth.append_option(p.birth_date.map(|d| d.days()));
                self.nid.append_option(p.national_id.as_deref());
                self.cc.append_null();
                self.occupation.append_option(p.occupation.as_deref());
                self.employer.append_option(p.employer.as_deref());
                self.industry.append_null();
            }
            Party::Organisation(o) => {
                self.kind.append_value(PartyKind::Organisation.name());
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

    /// The record batch of the rows pushed.
    fn finish(mut self) -> Result<RecordBatch> {
        batch(
            customers_schema(),
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
