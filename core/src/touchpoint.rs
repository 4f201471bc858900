//! Touchpoints: every contact between the customer and the brand, on one timeline.
//!
//! A touchpoint is stored under the key (customer, time, id), so one customer's timeline is a
//! contiguous range read newest-first, and appending to it touches one leaf page.

use serde::{Deserialize, Serialize};

use crate::customer::opt;
use crate::date::{Date, DateTime};
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::money::Money;
use crate::source::SourceRef;
use crate::validate;

/// How the contact happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// Inbound call.
    PhoneIn,
    /// Outbound call.
    PhoneOut,
    /// Text message.
    Sms,
    /// E-mail.
    Email,
    /// Website.
    Web,
    /// Owner app.
    App,
    /// WeChat.
    WeChat,
    /// In the showroom or workshop.
    Showroom,
    /// Event, auto show, club activity.
    Event,
    /// Letter.
    Mail,
}

/// What the contact was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TouchpointKind {
    /// A question about products or services.
    Enquiry,
    /// A sales lead was captured.
    Lead,
    /// Test drive.
    TestDrive,
    /// Vehicle ordered.
    Order,
    /// Vehicle delivered.
    Delivery,
    /// Vehicle purchased (invoiced).
    Purchase,
    /// Workshop visit of any [`ServiceKind`].
    ServiceVisit,
    /// Callback by the dealer or call centre.
    Callback,
    /// Satisfaction survey answered.
    Survey,
    /// Complaint received.
    Complaint,
    /// Roadside rescue.
    Rescue,
    /// Referral of a new customer.
    Referral,
    /// Club activity attended.
    ClubActivity,
    /// Post in the owner forum.
    ForumPost,
}

impl TouchpointKind {
    /// Number of kinds; rollups keep one counter per kind.
    pub const COUNT: usize = 14;

    /// All kinds, in rollup order.
    pub const ALL: [TouchpointKind; TouchpointKind::COUNT] = [
        TouchpointKind::Enquiry,
        TouchpointKind::Lead,
        TouchpointKind::TestDrive,
        TouchpointKind::Order,
        TouchpointKind::Delivery,
        TouchpointKind::Purchase,
        TouchpointKind::ServiceVisit,
        TouchpointKind::Callback,
        TouchpointKind::Survey,
        TouchpointKind::Complaint,
        TouchpointKind::Rescue,
        TouchpointKind::Referral,
        TouchpointKind::ClubActivity,
        TouchpointKind::ForumPost,
    ];

    /// Position in [`TouchpointKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The kind of a workshop visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ServiceKind {
    /// First service (首保).
    FirstService,
    /// Scheduled maintenance (保养).
    Maintenance,
    /// Repair (维修).
    Repair,
    /// Warranty repair (保修).
    WarrantyRepair,
    /// Body and paint (钣金喷漆).
    BodyAndPaint,
}

/// Where the customer (or vehicle) stood when the contact happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LifecycleStage {
    /// Prospect without a vehicle (A-card).
    Prospect,
    /// 0–3 months after purchase.
    New,
    /// Before the first service.
    BeforeFirstService,
    /// Within the factory warranty.
    InWarranty,
    /// Out of warranty.
    OutOfWarranty,
    /// Final year of expected use: the replacement window.
    FinalYear,
    /// Scrapped or sold.
    Gone,
}

/// A contact record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touchpoint {
    /// When it happened (local time).
    pub at: DateTime,
    /// The customer.
    pub customer: CustomerId,
    /// The vehicle concerned, if any.
    pub vehicle: Option<VehicleId>,
    /// The dealer involved, if any.
    pub dealer: Option<DealerId>,
    /// Channel.
    pub channel: Channel,
    /// Kind.
    pub kind: TouchpointKind,
    /// For service visits: which kind.
    pub service_kind: Option<ServiceKind>,
    /// Lifecycle stage at the time.
    pub stage: Option<LifecycleStage>,
    /// Must be visible at once (complaints, warranty claims, parts, insurance, rescue). Always set
    /// on write for complaints, rescues and warranty repairs; set it for parts and insurance
    /// business, which the kind alone does not reveal.
    pub sensitive: bool,
    /// Total amount paid.
    pub amount: Option<Money>,
    /// Parts share of the amount.
    pub parts_amount: Option<Money>,
    /// Labour share of the amount.
    pub labour_amount: Option<Money>,
    /// Odometer reading in km.
    pub mileage_km: Option<u32>,
    /// Score on a 0–10 scale (surveys, callbacks).
    pub score: Option<u8>,
    /// Outcome, e.g. `"reached"`, `"no answer"`, `"resolved"`.
    pub outcome: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// Source system and record id; the same source record is written at most once.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Touchpoint, Touchpoint, "touchpoint");

impl Touchpoint {
    /// Whether the outcome says the contact succeeded: `"reached"`, `"success"`,
    /// `"successful"`, `"resolved"` or `"done"` (any case). Callback success rates count these.
    pub fn succeeded(&self) -> bool {
        self.outcome.as_deref().is_some_and(|o| {
            let o = o.trim();
            ["reached", "success", "successful", "resolved", "done"]
                .iter()
                .any(|w| o.eq_ignore_ascii_case(w))
        })
    }

    /// A touchpoint with the required fields; fill others with struct update syntax.
    pub fn new(
        at: DateTime,
        customer: CustomerId,
        channel: Channel,
        kind: TouchpointKind,
    ) -> Touchpoint {
        Touchpoint {
            at,
            customer,
            vehicle: None,
            dealer: None,
            channel,
            kind,
            service_kind: None,
            stage: None,
            sensitive: false,
            amount: None,
            parts_amount: None,
            labour_amount: None,
            mileage_km: None,
            score: None,
            outcome: None,
            note: None,
            source: None,
        }
    }

    /// Whether the kind of contact makes it sensitive whatever the input says.
    pub fn sensitive_by_kind(&self) -> bool {
        matches!(
            self.kind,
            TouchpointKind::Complaint | TouchpointKind::Rescue
        ) || self.service_kind == Some(ServiceKind::WarrantyRepair)
    }

    /// The touchpoint as it will be stored: validated, with the sensitive flag derived; it must
    /// not lie after now by the default clock, UTC+08:00 (see [`Touchpoint::normalised_at`]).
    pub fn normalised(&self) -> Result<Touchpoint, ValidationError> {
        self.normalised_at(crate::Clock::default().now())
    }

    /// [`Touchpoint::normalised`] for a touchpoint received at `now`: one dated after `now`
    /// plus [`validate::FUTURE_TOLERANCE_DAYS`] is [`Rule::DateImplausible`].
    pub fn normalised_at(&self, now: crate::date::DateTime) -> Result<Touchpoint, ValidationError> {
        validate::past_date("at", self.at.date(), now)?;
        // A negative amount is named in yuan, as written (`-100.00`), not in fen.
        let money = |field, m: Option<Money>| match m {
            Some(m) if m.0 < 0 => Err(ValidationError::new(
                field,
                Rule::Negative,
                m.to_string().replace('¥', ""),
            )),
            m => Ok(m),
        };
        if self.service_kind.is_some() && self.kind != TouchpointKind::ServiceVisit {
            return Err(ValidationError::new(
                "service_kind",
                Rule::NotAllowed,
                format!("{:?} on a {:?}", self.service_kind, self.kind),
            ));
        }
        let mut t = Touchpoint {
            amount: money("amount", self.amount)?,
            parts_amount: money("parts_amount", self.parts_amount)?,
            labour_amount: money("labour_amount", self.labour_amount)?,
            score: self
                .score
                .map(|s| validate::score("score", s))
                .transpose()?,
            outcome: opt(self.outcome.as_deref(), "outcome", 64)?,
            note: opt(self.note.as_deref(), "note", 4000)?,
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
            ..self.clone()
        };
        t.sensitive = self.sensitive || t.sensitive_by_kind();
        Ok(t)
    }

    /// The date of the contact.
    pub fn date(&self) -> Date {
        self.at.date()
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use redb::{ReadableTable, ReadableTableMetadata};

use crate::codec::{self, ModelKind};
use crate::error::{Error, Refusal, Result};
use crate::ids::TouchpointId;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Validates and stores a touchpoint, updating the customer's rollup in the same
    /// transaction. A touchpoint carrying a source record already written returns the
    /// existing id and writes nothing, so at-least-once feeds never duplicate.
    pub fn insert_touchpoint(&mut self, touchpoint: &Touchpoint) -> Result<TouchpointId> {
        let t = touchpoint.normalised_at(self.now())?;
        self.check_touchpoint_refs(std::slice::from_ref(&t), false)?;
        self.insert_normalised_touchpoints(vec![t])
            .map(|ids| ids[0])
    }

    /// Stores many touchpoints in one go; every record is validated before anything is written
    /// and errors name the record's index. Returns one id per input, in order (the existing id
    /// for a source record written before, including earlier in this batch).
    pub fn insert_touchpoints(&mut self, touchpoints: &[Touchpoint]) -> Result<Vec<TouchpointId>> {
        let now = self.now();
        let checked = touchpoints
            .iter()
            .enumerate()
            .map(|(i, t)| t.normalised_at(now).map_err(|e| e.in_record(i)))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_touchpoint_refs(&checked, true)?;
        self.insert_normalised_touchpoints(checked)
    }

    /// Checks that every customer, vehicle and dealer referenced exists, opening each table
    /// once and looking each distinct id up once (a batch usually names a handful).
    fn check_touchpoint_refs(&self, batch: &[Touchpoint], name_records: bool) -> Result<()> {
        let customers = self.t.customers()?;
        let vehicles = self.t.vehicles()?;
        let dealers = self.t.dealers()?;
        let mut seen: Vec<(CustomerId, Option<VehicleId>, Option<DealerId>)> = Vec::new();
        for (i, t) in batch.iter().enumerate() {
            let refs = (t.customer, t.vehicle, t.dealer);
            if seen.contains(&refs) {
                continue;
            }
            let mut missing = None;
            if customers.get(t.customer.0)?.is_none() {
                missing = Some(Error::not_found("customer", t.customer));
            }
            if let Some(v) = t.vehicle.filter(|_| missing.is_none()) {
                if vehicles.get(v.0)?.is_none() {
                    missing = Some(Error::not_found("vehicle", v));
                }
            }
            if let Some(d) = t.dealer.filter(|_| missing.is_none()) {
                if dealers.get(d.0)?.is_none() {
                    missing = Some(Error::not_found("dealer", d));
                }
            }
            if let Some(e) = missing {
                return Err(if name_records { e.at_record(i) } else { e });
            }
            seen.push(refs);
        }
        Ok(())
    }

    fn insert_normalised_touchpoints(
        &mut self,
        batch: Vec<Touchpoint>,
    ) -> Result<Vec<TouchpointId>> {
        self.writing(|tx| {
            let mut ids = Vec::with_capacity(batch.len());
            let mut rows = tx.t.touchpoints()?;
            let mut keys = tx.t.touchpoint_keys()?;
            let mut sources = tx.t.source_records()?;
            let mut fresh = Vec::with_capacity(batch.len());
            for t in batch {
                let source_key = t.source.as_ref().map(|s| s.key(ModelKind::Touchpoint));
                if let Some(key) = &source_key {
                    // Deleting a touchpoint forgets its source record, so a hit is live.
                    if let Some(existing) = sources.get(key.as_slice())?.map(|v| v.value()) {
                        ids.push(TouchpointId(existing));
                        continue;
                    }
                }
                let id = tx.next_id("next.touchpoint")?;
                let at = t.at.seconds();
                rows.insert((t.customer.0, at, id), codec::encode(&t).as_slice())?;
                keys.insert(id, (t.customer.0, at))?;
                if let Some(key) = &source_key {
                    sources.insert(key.as_slice(), id)?;
                }
                ids.push(TouchpointId(id));
                fresh.push((TouchpointId(id), t));
            }
            drop((rows, keys, sources));
            for (_, t) in &fresh {
                tx.rollup_mut(t.customer.0)?.add(t);
            }
            // Qualifying touchpoints of club members earn points in this same transaction.
            if let Some(config) = tx.loyalty_config()? {
                for (id, t) in &fresh {
                    tx.post_touchpoint_earnings(&config, *id, t)?;
                }
            }
            Ok(ids)
        })
    }

    /// Deletes a touchpoint; the customer's rollup is recomputed from the remaining timeline.
    pub fn delete_touchpoint(&mut self, id: TouchpointId) -> Result<()> {
        let (customer, at) = self
            .t
            .touchpoint_keys()?
            .get(id.0)?
            .map(|v| v.value())
            .ok_or_else(|| Error::not_found("touchpoint", id))?;
        if self.touchpoint_has_postings(id)? {
            return Err(Error::refused(
                Refusal::TouchpointHasPostings,
                format!("touchpoint {id} earned loyalty points"),
            ));
        }
        self.writing(|tx| {
            let t: Touchpoint = {
                let mut rows = tx.t.touchpoints()?;
                let removed = rows.remove((customer, at, id.0))?;
                match removed {
                    Some(bytes) => decode_stored(bytes.value())?,
                    None => return Err(Error::not_found("touchpoint", id)),
                }
            };
            tx.t.touchpoint_keys()?.remove(id.0)?;
            if let Some(src) = &t.source {
                tx.t.source_records()?
                    .remove(src.key(ModelKind::Touchpoint).as_slice())?;
            }
            let remaining = tx.timeline_all(CustomerId(customer))?;
            let rebuilt = tx.rollup(customer)?.with_touchpoints(remaining.iter());
            *tx.rollup_mut(customer)? = rebuilt;
            Ok(())
        })
    }

    /// Removes a customer's whole timeline (the customer is being deleted).
    pub(crate) fn delete_timeline(&mut self, c: CustomerId) -> Result<()> {
        let all = self.timeline_entries(c)?;
        let mut rows = self.t.touchpoints()?;
        let mut keys = self.t.touchpoint_keys()?;
        let mut sources = self.t.source_records()?;
        for (id, t) in all {
            rows.remove((c.0, t.at.seconds(), id.0))?;
            keys.remove(id.0)?;
            if let Some(src) = &t.source {
                let key = src.key(ModelKind::Touchpoint);
                sources.remove(key.as_slice())?;
            }
        }
        Ok(())
    }

    fn timeline_entries(&self, c: CustomerId) -> Result<Vec<(TouchpointId, Touchpoint)>> {
        let rows = self.t.touchpoints()?;
        let mut out = Vec::new();
        for entry in rows.range((c.0, i64::MIN, 0)..=(c.0, i64::MAX, u64::MAX))? {
            let (k, v) = entry?;
            out.push((TouchpointId(k.value().2), decode_stored(v.value())?));
        }
        Ok(out)
    }

    fn timeline_all(&self, c: CustomerId) -> Result<Vec<Touchpoint>> {
        Ok(self
            .timeline_entries(c)?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }
}

/// Where a page of a timeline starts: strictly older than this (time, id) position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineCursor {
    /// Time of the last touchpoint of the previous page.
    pub at: DateTime,
    /// Its id.
    pub id: TouchpointId,
}

/// A page of a customer's timeline, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelinePage {
    /// The touchpoints of this page.
    pub items: Vec<(TouchpointId, Touchpoint)>,
    /// Where the next (older) page starts, if there is one.
    pub next: Option<TimelineCursor>,
}

impl ReadTxn {
    /// A page of `customer`'s timeline, newest first: at most `limit` touchpoints strictly
    /// older than `before` (or the newest ones if `before` is `None`).
    pub fn timeline(
        &self,
        customer: CustomerId,
        before: Option<TimelineCursor>,
        limit: usize,
    ) -> Result<TimelinePage> {
        let rows = self.tables.touchpoints()?;
        let start = (customer.0, i64::MIN, 0u64);
        let range = match before {
            Some(c) => rows.range(start..(customer.0, c.at.seconds(), c.id.0))?,
            None => rows.range(start..=(customer.0, i64::MAX, u64::MAX))?,
        };
        let mut items = Vec::with_capacity(limit.min(256));
        let mut more = false;
        for entry in range.rev() {
            let (k, v) = entry?;
            if items.len() == limit {
                more = true;
                break;
            }
            items.push((
                TouchpointId(k.value().2),
                decode_stored::<Touchpoint>(v.value())?,
            ));
        }
        let next = if more {
            items
                .last()
                .map(|(id, t)| TimelineCursor { at: t.at, id: *id })
        } else {
            None
        };
        Ok(TimelinePage { items, next })
    }

    /// The touchpoint with id `id`.
    pub fn touchpoint(&self, id: TouchpointId) -> Result<Touchpoint> {
        let (customer, at) = self
            .tables
            .touchpoint_keys()?
            .get(id.0)?
            .map(|v| v.value())
            .ok_or_else(|| Error::not_found("touchpoint", id))?;
        let rows = self.tables.touchpoints()?;
        let bytes = rows
            .get((customer, at, id.0))?
            .ok_or_else(|| Error::not_found("touchpoint", id))?;
        decode_stored(bytes.value())
    }

    /// Number of touchpoints.
    pub fn touchpoint_count(&self) -> Result<u64> {
        Ok(self.tables.touchpoint_keys()?.len()?)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a touchpoint, updating the customer's rollup in the same
    /// transaction. A touchpoint carrying a source record already written returns the
    /// existing id and writes nothing, so at-least-once feeds never duplicate.
    pub fn insert_touchpoint(&mut self, touchpoint: &Touchpoint) -> Result<TouchpointId> {
        self.tx().insert_touchpoint(touchpoint)
    }

    /// Stores many touchpoints in one go; every record is validated before anything is written
    /// and errors name the record's index. Returns one id per input, in order (the existing id
    /// for a source record written before, including earlier in this batch).
    pub fn insert_touchpoints(&mut self, touchpoints: &[Touchpoint]) -> Result<Vec<TouchpointId>> {
        self.tx().insert_touchpoints(touchpoints)
    }

    /// Deletes a touchpoint; the customer's rollup is recomputed from the remaining timeline.
    pub fn delete_touchpoint(&mut self, id: TouchpointId) -> Result<()> {
        self.tx().delete_touchpoint(id)
    }
}
