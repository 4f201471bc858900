//! Tables of what happened: touchpoints, ledger postings and lots, leads, complaints, surveys.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampSecondBuilder, UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};

use super::{batch, decimal_builder, decimal_field, field, money, ts_field};
use crate::complaint::Complaint;
use crate::error::Result;
use crate::ids::CustomerId;
use crate::lead::{Lead, LeadStatus};
use crate::loyalty::{Lot, Posting, Wallet};
use crate::names::Named;
use crate::store::ReadTxn;
use crate::survey::{Factor, Survey};
use crate::touchpoint::Touchpoint;

/// The customers a per-customer table covers: `customer`, or every customer in id order.
fn customers_of(r: &ReadTxn, customer: Option<CustomerId>) -> Result<Vec<CustomerId>> {
    match customer {
        Some(c) => Ok(vec![c]),
        None => r.customer_ids(),
    }
}

/// The rows of `rows` (id, record) whose record `keep` accepts, in order.
fn kept<I, T>(rows: Vec<(I, T)>, mut keep: impl FnMut(&T) -> Result<bool>) -> Result<Vec<(I, T)>> {
    let mut out = Vec::with_capacity(rows.len());
    for (id, t) in rows {
        if keep(&t)? {
            out.push((id, t));
        }
    }
    Ok(out)
}

/// The columns of [`touchpoints`]: `id u64, customer u64, at timestamp[s], vehicle u64,
/// dealer u32, channel, kind, service_kind, stage` (utf8), `sensitive bool, amount,
/// parts_amount, labour_amount` (decimal128(18, 2)), `mileage_km u32, score u8, outcome, note`
/// (utf8).
pub fn touchpoints_schema() -> SchemaRef {
    let s = |n: &str| field(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
        ts_field("at", false),
        field("vehicle", DataType::UInt64, true),
        field("dealer", DataType::UInt32, true),
        field("channel", DataType::Utf8, false),
        field("kind", DataType::Utf8, false),
        s("service_kind"),
        s("stage"),
        field("sensitive", DataType::Boolean, false),
        decimal_field("amount"),
        decimal_field("parts_amount"),
        decimal_field("labour_amount"),
        field("mileage_km", DataType::UInt32, true),
        field("score", DataType::UInt8, true),
        s("outcome"),
        s("note"),
    ]))
}

/// Touchpoints, one row each ([`touchpoints_schema`]): customer `customer`'s timeline, or
/// (`None`) every customer's, customers in id order and each timeline newest first (the order
/// of [`ReadTxn::timeline`]). A customer without touchpoints, or an id no customer has, gives
/// no rows.
pub fn touchpoints(r: &ReadTxn, customer: Option<CustomerId>) -> Result<RecordBatch> {
    touchpoints_with(r, customer, |_| Ok(true))
}

/// [`touchpoints`] of the touchpoints `keep` accepts. Scoped exports
/// ([`crate::api::ScopedStore::touchpoints_table`]) pass their visibility here, so they build
/// the very columns [`touchpoints`] builds. The activity tables hold no field a scope's sight
/// masks, so their scans take a filter and no transform.
pub(crate) fn touchpoints_with(
    r: &ReadTxn,
    customer: Option<CustomerId>,
    mut keep: impl FnMut(&Touchpoint) -> Result<bool>,
) -> Result<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut cust = UInt64Builder::new();
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
    for c in customers_of(r, customer)? {
        for (tid, t) in r.timeline(c, None, usize::MAX)?.items {
            if !keep(&t)? {
                continue;
            }
            id.append_value(tid.0);
            cust.append_value(t.customer.0);
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
    }
    batch(
        touchpoints_schema(),
        vec![
            Arc::new(id.finish()),
            Arc::new(cust.finish()),
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

/// `"brand"` or `"dealer:<id>"`: a wallet in the `wallet` column of [`postings`].
fn wallet_label(w: Wallet) -> String {
    match w {
        Wallet::Brand => "brand".into(),
        Wallet::Dealer(d) => format!("dealer:{}", d.0),
    }
}

/// The columns of [`postings`]: `id u64, customer u64, wallet` (`brand` or `dealer:<id>`),
/// `kind, points i64, at timestamp[s], key` (the idempotency key), `dealer u32, expires date32,
/// shortfall i64`.
pub fn postings_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
        field("wallet", DataType::Utf8, false),
        field("kind", DataType::Utf8, false),
        field("points", DataType::Int64, false),
        ts_field("at", false),
        field("key", DataType::Utf8, false),
        field("dealer", DataType::UInt32, true),
        field("expires", DataType::Date32, true),
        field("shortfall", DataType::Int64, false),
    ]))
}

/// Loyalty ledger postings, one row each ([`postings_schema`]): customer `customer`'s, or
/// (`None`) every customer's, customers in id order and each customer's postings in posting
/// order.
pub fn postings(r: &ReadTxn, customer: Option<CustomerId>) -> Result<RecordBatch> {
    postings_with(r, customer, |_| Ok(true))
}

/// [`postings`] keeping only the postings `keep` accepts.
pub(crate) fn postings_with(
    r: &ReadTxn,
    customer: Option<CustomerId>,
    mut keep: impl FnMut(&Posting) -> Result<bool>,
) -> Result<RecordBatch> {
    let mut id = UInt64Builder::new();
    let mut cust = UInt64Builder::new();
    let mut wallet = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut points = Int64Builder::new();
    let mut at = TimestampSecondBuilder::new();
    let mut key = StringBuilder::new();
    let mut dealer = UInt32Builder::new();
    let mut expires = Date32Builder::new();
    let mut shortfall = Int64Builder::new();
    for c in customers_of(r, customer)? {
        for (pid, p) in r.postings_of(c)? {
            if !keep(&p)? {
                continue;
            }
            id.append_value(pid);
            cust.append_value(p.customer.0);
            wallet.append_value(wallet_label(p.wallet));
            kind.append_value(Named::name(p.kind));
            points.append_value(p.points);
            at.append_value(p.at.seconds());
            key.append_value(&p.key);
            dealer.append_option(p.dealer.map(|d| d.0));
            expires.append_option(p.expires.map(|d| d.days()));
            shortfall.append_value(p.shortfall);
        }
    }
    batch(
        postings_schema(),
        vec![
            Arc::new(id.finish()),
            Arc::new(cust.finish()),
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

/// The columns of [`lots`]: `id u64` (the crediting posting's id), `customer u64, wallet`
/// (`brand` or `dealer:<id>`, as in [`postings`]), `issuer u32` (the dealer that issued the
/// points, null for the brand's own), `earned timestamp[s], expires date32` (the first day the
/// points are no longer valid), `points, remaining, spent, expired, reversed` (i64; `points =
/// remaining + spent + expired + reversed`), `reversal u64` (the posting that reversed the
/// credit, null if none).
pub fn lots_schema() -> SchemaRef {
    let n = |name: &str| field(name, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
        field("wallet", DataType::Utf8, false),
        field("issuer", DataType::UInt32, true),
        ts_field("earned", false),
        field("expires", DataType::Date32, false),
        n("points"),
        n("remaining"),
        n("spent"),
        n("expired"),
        n("reversed"),
        field("reversal", DataType::UInt64, true),
    ]))
}

/// Every loyalty lot of the ledger, one row each in id order ([`lots_schema`]): each credit
/// (an earning or a positive adjustment) with what became of its points — still spendable,
/// spent, expired or reversed. Spent, expired and reversed lots stay, so the table accounts
/// for every point ever credited.
pub fn lots(r: &ReadTxn) -> Result<RecordBatch> {
    lots_with(r, |_| Ok(true))
}

/// [`lots`] of the lots `keep` accepts (see [`touchpoints_with`]).
pub(crate) fn lots_with(
    r: &ReadTxn,
    keep: impl FnMut(&Lot) -> Result<bool>,
) -> Result<RecordBatch> {
    let rows = kept(r.all_lots()?, keep)?;
    let mut id = UInt64Builder::with_capacity(rows.len());
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut wallet = StringBuilder::new();
    let mut issuer = UInt32Builder::new();
    let mut earned = TimestampSecondBuilder::new();
    let mut expires = Date32Builder::new();
    let mut counts: Vec<Int64Builder> = (0..5).map(|_| Int64Builder::new()).collect();
    let mut reversal = UInt64Builder::new();
    for (lid, l) in &rows {
        id.append_value(*lid);
        customer.append_value(l.customer.0);
        wallet.append_value(wallet_label(l.wallet));
        issuer.append_option(l.issuer.map(|d| d.0));
        earned.append_value(l.earned.seconds());
        expires.append_value(l.expires.days());
        let n = [l.points, l.remaining, l.spent, l.expired, l.reversed];
        for (b, v) in counts.iter_mut().zip(n) {
            b.append_value(v);
        }
        reversal.append_option(l.reversal);
    }
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(customer.finish()),
        Arc::new(wallet.finish()),
        Arc::new(issuer.finish()),
        Arc::new(earned.finish()),
        Arc::new(expires.finish()),
    ];
    cols.extend(counts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(reversal.finish()));
    batch(lots_schema(), cols)
}

/// The text columns of the leads table, after `id` and `customer`.
const LEAD_TEXT: [&str; 6] = [
    "origin",
    "model",
    "intent",
    "purchase_type",
    "status",
    "lost_reason",
];

/// The columns of [`leads`]: `id u64, customer u64, origin, model, intent, purchase_type,
/// status, lost_reason` (utf8; only `lost_reason` nullable, set for a lost lead), `dealer u32,
/// received timestamp[s], status_at timestamp[s]`.
pub fn leads_schema() -> SchemaRef {
    let mut fields = vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
    ];
    fields.extend(
        LEAD_TEXT
            .iter()
            .map(|n| field(n, DataType::Utf8, *n == "lost_reason")),
    );
    fields.push(field("dealer", DataType::UInt32, true));
    fields.push(ts_field("received", false));
    fields.push(ts_field("status_at", true));
    Arc::new(Schema::new(fields))
}

/// Every lead of the snapshot, one row each in id order ([`leads_schema`]).
pub fn leads(r: &ReadTxn) -> Result<RecordBatch> {
    leads_with(r, |_| Ok(true))
}

/// [`leads`] of the leads `keep` accepts (see [`touchpoints_with`]).
pub(crate) fn leads_with(
    r: &ReadTxn,
    keep: impl FnMut(&Lead) -> Result<bool>,
) -> Result<RecordBatch> {
    let rows = kept(r.all_leads()?, keep)?;
    let mut id = UInt64Builder::with_capacity(rows.len());
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut strs: Vec<StringBuilder> = LEAD_TEXT.iter().map(|_| StringBuilder::new()).collect();
    let mut dealer = UInt32Builder::new();
    let mut received = TimestampSecondBuilder::new();
    let mut status_at = TimestampSecondBuilder::new();
    for (lid, l) in &rows {
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
    let mut cols: Vec<ArrayRef> = vec![Arc::new(id.finish()), Arc::new(customer.finish())];
    cols.extend(strs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(dealer.finish()));
    cols.push(Arc::new(received.finish()));
    cols.push(Arc::new(status_at.finish()));
    batch(leads_schema(), cols)
}

/// The workflow-step time columns of the complaints table.
const COMPLAINT_STEPS: [&str; 6] = [
    "received",
    "first_response",
    "analysed",
    "resolved",
    "called_back",
    "closed",
];

/// The columns of [`complaints`]: `id u64, customer u64, vehicle u64, dealer u32, category,
/// status` (utf8), `first_response_within_sla bool`, `received, first_response, analysed,
/// resolved, called_back, closed` (`timestamp[s]`, null until the step is done), `note utf8`.
pub fn complaints_schema() -> SchemaRef {
    let mut fields = vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
        field("vehicle", DataType::UInt64, true),
        field("dealer", DataType::UInt32, true),
        field("category", DataType::Utf8, false),
        field("status", DataType::Utf8, false),
        field("first_response_within_sla", DataType::Boolean, true),
    ];
    fields.extend(
        COMPLAINT_STEPS
            .iter()
            .map(|n| ts_field(n, *n != "received")),
    );
    fields.push(field("note", DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

/// Every complaint of the snapshot, one row each in id order, with the time of every workflow
/// step ([`complaints_schema`]).
pub fn complaints(r: &ReadTxn) -> Result<RecordBatch> {
    complaints_with(r, |_| Ok(true))
}

/// [`complaints`] of the complaints `keep` accepts (see [`touchpoints_with`]).
pub(crate) fn complaints_with(
    r: &ReadTxn,
    keep: impl FnMut(&Complaint) -> Result<bool>,
) -> Result<RecordBatch> {
    let rows = kept(r.all_complaints()?, keep)?;
    let mut id = UInt64Builder::with_capacity(rows.len());
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut vehicle = UInt64Builder::new();
    let mut dealer = UInt32Builder::new();
    let mut category = StringBuilder::new();
    let mut status = StringBuilder::new();
    let mut within_sla = BooleanBuilder::new();
    let mut times: Vec<TimestampSecondBuilder> = COMPLAINT_STEPS
        .iter()
        .map(|_| TimestampSecondBuilder::new())
        .collect();
    let mut note = StringBuilder::new();
    for (cid, c) in &rows {
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
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(customer.finish()),
        Arc::new(vehicle.finish()),
        Arc::new(dealer.finish()),
        Arc::new(category.finish()),
        Arc::new(status.finish()),
        Arc::new(within_sla.finish()),
    ];
    cols.extend(times.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(note.finish()));
    batch(complaints_schema(), cols)
}

/// The columns of [`surveys`]: `id u64, customer u64, dealer u32, kind utf8, date date32`,
/// then one `u8` score column per survey factor, named by the factor's snake_case name in the
/// order of [`Factor`]'s variants (null where the survey did not ask it), then
/// `weighted_index f64` (the J.D. Power weighted index).
pub fn surveys_schema() -> SchemaRef {
    let mut fields = vec![
        field("id", DataType::UInt64, false),
        field("customer", DataType::UInt64, false),
        field("dealer", DataType::UInt32, true),
        field("kind", DataType::Utf8, false),
        field("date", DataType::Date32, false),
    ];
    fields.extend(
        <Factor as Named>::all()
            .iter()
            .map(|f| field(Named::name(*f), DataType::UInt8, true)),
    );
    fields.push(field("weighted_index", DataType::Float64, true));
    Arc::new(Schema::new(fields))
}

/// Every survey of the snapshot, one row each in id order ([`surveys_schema`]).
pub fn surveys(r: &ReadTxn) -> Result<RecordBatch> {
    surveys_with(r, |_| Ok(true))
}

/// [`surveys`] of the surveys `keep` accepts (see [`touchpoints_with`]).
pub(crate) fn surveys_with(
    r: &ReadTxn,
    keep: impl FnMut(&Survey) -> Result<bool>,
) -> Result<RecordBatch> {
    let rows = kept(r.all_surveys()?, keep)?;
    let mut id = UInt64Builder::with_capacity(rows.len());
    let mut customer = UInt64Builder::with_capacity(rows.len());
    let mut dealer = UInt32Builder::new();
    let mut kind = StringBuilder::new();
    let mut date = Date32Builder::new();
    let factors = <Factor as Named>::all();
    let mut scores: Vec<UInt8Builder> = factors.iter().map(|_| UInt8Builder::new()).collect();
    let mut index = Float64Builder::new();
    for (sid, s) in &rows {
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
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(customer.finish()),
        Arc::new(dealer.finish()),
        Arc::new(kind.finish()),
        Arc::new(date.finish()),
    ];
    cols.extend(scores.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(index.finish()));
    batch(surveys_schema(), cols)
}
