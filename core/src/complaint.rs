//! Complaints, their workflow and the escalation rule (DOMAIN.md §3).
//!
//! **Workflow.** received → analysed → resolved → called back → closed, one step at a time
//! ([`WriteTxn::advance_complaint`]); a step to any other state (skipping, going back, repeating)
//! is refused with `invalid_operation.complaint_step_out_of_order`, leaving `closed` with
//! `invalid_operation.complaint_closed`, and a step dated before any time already recorded on the
//! complaint (received, first response, resolved) with
//! `invalid_operation.complaint_time_backwards`. Resolving records
//! the resolution time, and counts as the first response when none was recorded before. The
//! stored record (format version 1) has no fields for the times of the analysed, called-back
//! and closed steps: those times are checked, not kept.
//!
//! **First response.** Due within 24 hours of receipt ([`Complaint::response_due`]): a response
//! at exactly 24 h is within the SLA ([`Complaint::first_response_within_sla`]); a complaint
//! without a response is overdue from the first second after the deadline
//! ([`Complaint::response_overdue`]). [`WriteTxn::respond_to_complaint`] records it.
//!
//! **Escalation.** The same customer complaining about the same category more than 3 times in
//! a month, or more than 5 times in a quarter, escalates ([`escalations`],
//! [`ReadTxn::complaint_escalations`]). Month and quarter are *rolling* windows ending on the
//! as-of day D, like the windows of DOMAIN.md §5: the days d with D − 30 < d ≤ D and
//! D − 91 < d ≤ D (a complaint exactly 30 days before D is outside the month). Rolling rather
//! than calendar windows, so four complaints on 30 January – 2 February escalate. Categories
//! compare case-insensitively, ignoring surrounding blanks. All complaints count, whatever
//! their status.
//!
//! Complaints are sensitive: they are written and visible at once, never batched.

use serde::{Deserialize, Serialize};

use crate::customer::opt;
use crate::date::{Date, DateTime};
use crate::error::{Rule, ValidationError};
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::source::SourceRef;
use crate::validate;

/// Where a complaint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ComplaintStatus {
    /// Received, not yet analysed.
    Received,
    /// Cause analysed.
    Analysed,
    /// Resolved.
    Resolved,
    /// The customer was called back after resolution.
    CalledBack,
    /// Closed.
    Closed,
}

impl ComplaintStatus {
    /// Every status, in workflow order.
    pub const ALL: [ComplaintStatus; 5] = [
        ComplaintStatus::Received,
        ComplaintStatus::Analysed,
        ComplaintStatus::Resolved,
        ComplaintStatus::CalledBack,
        ComplaintStatus::Closed,
    ];

    /// The stable name, e.g. `"called_back"`.
    pub fn name(self) -> &'static str {
        match self {
            ComplaintStatus::Received => "received",
            ComplaintStatus::Analysed => "analysed",
            ComplaintStatus::Resolved => "resolved",
            ComplaintStatus::CalledBack => "called_back",
            ComplaintStatus::Closed => "closed",
        }
    }

    /// The status named `name` (as [`ComplaintStatus::name`] gives it).
    pub fn from_name(name: &str) -> Option<ComplaintStatus> {
        ComplaintStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The only state the workflow may move to from this one (`None` once closed).
    pub fn next(self) -> Option<ComplaintStatus> {
        match self {
            ComplaintStatus::Received => Some(ComplaintStatus::Analysed),
            ComplaintStatus::Analysed => Some(ComplaintStatus::Resolved),
            ComplaintStatus::Resolved => Some(ComplaintStatus::CalledBack),
            ComplaintStatus::CalledBack => Some(ComplaintStatus::Closed),
            ComplaintStatus::Closed => None,
        }
    }
}

/// Seconds within which a complaint must get its first response.
pub const RESPONSE_SLA_SECONDS: i64 = 24 * 3600;

/// A complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// Who complained.
    pub customer: CustomerId,
    /// The vehicle concerned.
    pub vehicle: Option<VehicleId>,
    /// The dealer concerned.
    pub dealer: Option<DealerId>,
    /// Category, e.g. `"repair quality"`, `"sales attitude"`.
    pub category: String,
    /// When it was received.
    pub received: DateTime,
    /// Current status.
    pub status: ComplaintStatus,
    /// First response to the customer (due within 24 hours of `received`).
    pub first_response: Option<DateTime>,
    /// When it was analysed.
    pub analysed: Option<DateTime>,
    /// When it was resolved.
    pub resolved: Option<DateTime>,
    /// When the customer was called back after the resolution.
    pub called_back: Option<DateTime>,
    /// When it was closed.
    pub closed: Option<DateTime>,
    /// The complaint text.
    pub note: Option<String>,
    /// Source system and record id.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Complaint, Complaint, "complaint");

impl Complaint {
    /// The first-response deadline: 24 hours after receipt.
    pub fn response_due(&self) -> DateTime {
        self.received.add_seconds(RESPONSE_SLA_SECONDS)
    }

    /// Whether the first response came within 24 hours of receipt (at exactly 24 h it did);
    /// `None` while there is no response.
    pub fn first_response_within_sla(&self) -> Option<bool> {
        self.first_response.map(|t| t <= self.response_due())
    }

    /// Whether, at `now`, the complaint has had no response although its 24 hours are over:
    /// no first response at or before `now`, and `now` later than [`Complaint::response_due`].
    /// At exactly 24 h it is not overdue yet.
    pub fn response_overdue(&self, now: DateTime) -> bool {
        self.first_response.is_none_or(|t| t > now) && now > self.response_due()
    }

    /// The latest time recorded on the complaint: a workflow step may not be dated earlier.
    fn latest_time(&self) -> DateTime {
        [
            self.first_response,
            self.analysed,
            self.resolved,
            self.called_back,
            self.closed,
        ]
        .into_iter()
        .flatten()
        .fold(self.received, DateTime::max)
    }

    /// The complaint as it will be stored: validated.
    pub fn normalised(&self) -> Result<Complaint, ValidationError> {
        validate::plausible_date("received", self.received.date())?;
        if let Some(t) = self.first_response.filter(|t| *t < self.received) {
            let v = format!("{t} before received {}", self.received);
            return Err(ValidationError::new("first_response", Rule::DateOrder, v));
        }
        // The workflow's steps happen in order: received ≤ analysed ≤ resolved ≤ called back
        // ≤ closed (steps not taken are skipped).
        let mut last = ("received", self.received);
        for (field, t) in [
            ("analysed", self.analysed),
            ("resolved", self.resolved),
            ("called_back", self.called_back),
            ("closed", self.closed),
        ] {
            if let Some(t) = t {
                if t < last.1 {
                    let v = format!("{t} before {} {}", last.0, last.1);
                    return Err(ValidationError::new(field, Rule::DateOrder, v));
                }
                last = (field, t);
            }
        }
        Ok(Complaint {
            category: opt(Some(&self.category), "category", 64)?
                .ok_or_else(|| ValidationError::new("category", Rule::Required, &self.category))?,
            note: opt(self.note.as_deref(), "note", 4000)?,
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
            ..self.clone()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use crate::error::Result;
use crate::ids::ComplaintId;
use crate::store::records::COMPLAINT_TABLES;
use crate::store::{ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Validates and stores a complaint of its customer; idempotent on its source record.
    pub fn insert_complaint(&mut self, complaint: &Complaint) -> Result<ComplaintId> {
        let ids = self.insert_owned(&COMPLAINT_TABLES, std::slice::from_ref(complaint), false)?;
        Ok(ComplaintId(ids[0]))
    }

    /// Validates and stores many complaints in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_complaints(&mut self, complaints: &[Complaint]) -> Result<Vec<ComplaintId>> {
        let ids = self.insert_owned(&COMPLAINT_TABLES, complaints, true)?;
        Ok(ids.into_iter().map(ComplaintId).collect())
    }

    /// Moves complaint `id` to the status after its current one, at `at` (see
    /// [`WriteTxn::advance_complaint`]); a closed complaint is refused with
    /// `invalid_operation.complaint_closed`.
    pub fn advance_complaint_to_next(
        &mut self,
        id: ComplaintId,
        at: DateTime,
    ) -> Result<Complaint> {
        let current = self.complaint(id)?.status;
        let next = current.next().ok_or_else(|| {
            crate::Error::refused(
                crate::Refusal::ComplaintClosed,
                format!("complaint {id} is closed"),
            )
        })?;
        self.advance_complaint(id, next, at)
    }

    /// The complaint `id`, as this transaction sees it.
    pub fn complaint(&self, id: ComplaintId) -> Result<Complaint> {
        self.get_owned(&COMPLAINT_TABLES, id.0)
    }

    /// Replaces a stored complaint (its customer cannot change).
    pub fn update_complaint(&mut self, id: ComplaintId, complaint: &Complaint) -> Result<()> {
        let r = complaint.normalised()?;
        let old: Complaint = self.get_owned(&COMPLAINT_TABLES, id.0)?;
        if old.customer != r.customer {
            return Err(crate::Error::refused(
                crate::Refusal::CustomerChanged,
                format!("complaint {id} belongs to customer {}", old.customer),
            ));
        }
        self.update_owned(&COMPLAINT_TABLES, id.0, &r)
    }

    /// Moves complaint `id` one step along received → analysed → resolved → called back →
    /// closed, at `at`, and returns it as stored. Refused with
    /// `invalid_operation.complaint_step_out_of_order` when `to` is not the next state of the
    /// current one (`invalid_operation.complaint_closed` when the complaint is closed), and
    /// with `invalid_operation.complaint_time_backwards` when `at` is earlier than a time
    /// already recorded on the complaint (received, first response, resolved). Moving to `resolved`
    /// records `at` as the resolution time, and as the first response if there was none.
    pub fn advance_complaint(
        &mut self,
        id: ComplaintId,
        to: ComplaintStatus,
        at: DateTime,
    ) -> Result<Complaint> {
        let mut c: Complaint = self.get_owned(&COMPLAINT_TABLES, id.0)?;
        let from = c.status;
        if from.next() != Some(to) {
            let what = format!(
                "complaint {id} is {}; it cannot move to {}",
                from.name(),
                to.name()
            );
            let refusal = match from.next() {
                None => crate::Refusal::ComplaintClosed,
                Some(_) => crate::Refusal::ComplaintStepOutOfOrder,
            };
            return Err(crate::Error::refused(refusal, what));
        }
        let latest = c.latest_time();
        if at < latest {
            return Err(crate::Error::refused(
                crate::Refusal::ComplaintTimeBackwards,
                format!(
                    "complaint {id} cannot become {} at {at}: it already has a time of {latest}",
                    to.name()
                ),
            ));
        }
        crate::validate::plausible_date("at", at.date())?;
        c.status = to;
        match to {
            ComplaintStatus::Analysed => c.analysed = Some(at),
            ComplaintStatus::Resolved => {
                c.resolved = Some(at);
                c.first_response.get_or_insert(at);
            }
            ComplaintStatus::CalledBack => c.called_back = Some(at),
            ComplaintStatus::Closed => c.closed = Some(at),
            ComplaintStatus::Received => {}
        }
        self.update_owned(&COMPLAINT_TABLES, id.0, &c)?;
        Ok(c)
    }

    /// Records the first response to complaint `id` at `at` and returns the complaint as
    /// stored. Refused with `invalid_operation.complaint_already_responded` if a first response
    /// is already recorded, `invalid_operation.complaint_time_backwards` if `at` is before the
    /// complaint was received.
    pub fn respond_to_complaint(&mut self, id: ComplaintId, at: DateTime) -> Result<Complaint> {
        let mut c: Complaint = self.get_owned(&COMPLAINT_TABLES, id.0)?;
        if let Some(t) = c.first_response {
            return Err(crate::Error::refused(
                crate::Refusal::ComplaintAlreadyResponded,
                format!("complaint {id} already had its first response at {t}"),
            ));
        }
        if at < c.received {
            return Err(crate::Error::refused(
                crate::Refusal::ComplaintTimeBackwards,
                format!(
                    "complaint {id} cannot be answered at {at}, before it was received at {}",
                    c.received
                ),
            ));
        }
        crate::validate::plausible_date("at", at.date())?;
        c.first_response = Some(at);
        self.update_owned(&COMPLAINT_TABLES, id.0, &c)?;
        Ok(c)
    }
}

impl ReadTxn {
    /// The complaint with id `id`.
    pub fn complaint(&self, id: ComplaintId) -> Result<Complaint> {
        self.get_owned(&COMPLAINT_TABLES, id.0)
    }

    /// Every complaint in the database, in id order (for exports).
    pub fn all_complaints(&self) -> Result<Vec<(ComplaintId, Complaint)>> {
        Ok(self
            .all_owned(&COMPLAINT_TABLES)?
            .into_iter()
            .map(|(id, r)| (ComplaintId(id), r))
            .collect())
    }

    /// Every complaint of `customer`, in id order.
    pub fn complaints_of(&self, customer: CustomerId) -> Result<Vec<(ComplaintId, Complaint)>> {
        Ok(self
            .owned_by(&COMPLAINT_TABLES, customer)?
            .into_iter()
            .map(|(id, r)| (ComplaintId(id), r))
            .collect())
    }

    /// The escalations of DOMAIN.md §3 as of `as_of` under the default
    /// [`EscalationParams`] (see the module docs), scanning every complaint once.
    pub fn complaint_escalations(&self, as_of: Date) -> Result<Vec<Escalation>> {
        self.complaint_escalations_with(as_of, &EscalationParams::default())
    }

    /// The escalations as of `as_of` under the given parameters.
    pub fn complaint_escalations_with(
        &self,
        as_of: Date,
        params: &EscalationParams,
    ) -> Result<Vec<Escalation>> {
        use redb::ReadableTable;
        let mut all = Vec::new();
        for e in self.tables.complaints()?.iter()? {
            let (k, v) = e?;
            let c: Complaint = crate::store::decode_stored(v.value())?;
            all.push((ComplaintId(k.value()), c));
        }
        Ok(escalations(
            all.iter().map(|(id, c)| (*id, c)),
            as_of,
            params,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Escalation

/// The escalation rule's windows and limits (DOMAIN.md §3: more than 3 in a month, more than
/// 5 in a quarter). Windows are rolling: the days d with D − days < d ≤ D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscalationParams {
    /// Length of the "month" in days.
    pub month_days: i32,
    /// More than this many complaints in the month escalate.
    pub month_limit: usize,
    /// Length of the "quarter" in days.
    pub quarter_days: i32,
    /// More than this many complaints in the quarter escalate.
    pub quarter_limit: usize,
}

impl Default for EscalationParams {
    fn default() -> EscalationParams {
        EscalationParams {
            month_days: 30,
            month_limit: 3,
            quarter_days: 91,
            quarter_limit: 5,
        }
    }
}

/// One customer's repeated complaints about one category that break the escalation rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// The customer.
    pub customer: CustomerId,
    /// The category, as written on the latest of the complaints.
    pub category: String,
    /// The complaints of the month window, oldest first.
    pub month: Vec<ComplaintId>,
    /// The complaints of the quarter window (a superset of `month`), oldest first.
    pub quarter: Vec<ComplaintId>,
    /// The dealers the quarter's complaints concern, ascending, each once.
    pub dealers: Vec<DealerId>,
    /// When the latest of them was received.
    pub latest: DateTime,
}

impl Escalation {
    /// Whether the month limit is exceeded.
    pub fn by_month(&self, params: &EscalationParams) -> bool {
        self.month.len() > params.month_limit
    }

    /// Whether the quarter limit is exceeded.
    pub fn by_quarter(&self, params: &EscalationParams) -> bool {
        self.quarter.len() > params.quarter_limit
    }
}

/// The escalations among `complaints` as of `as_of`: for each (customer, category) pair, the
/// complaints received in the month window (D − `month_days`, D] and the quarter window
/// (D − `quarter_days`, D]; the pair escalates when either count exceeds its limit. Complaints
/// received after D are ignored. Sorted by customer, then category.
pub fn escalations<'a>(
    complaints: impl IntoIterator<Item = (ComplaintId, &'a Complaint)>,
    as_of: Date,
    params: &EscalationParams,
) -> Vec<Escalation> {
    use std::collections::BTreeMap;
    let month_start = as_of.add_days(-params.month_days);
    let quarter_start = as_of.add_days(-params.quarter_days);
    let window_start = month_start.min(quarter_start);
    type Group<'c> = Vec<(DateTime, ComplaintId, &'c Complaint)>;
    let mut groups: BTreeMap<(CustomerId, String), Group<'a>> = BTreeMap::new();
    for (id, c) in complaints {
        let day = c.received.date();
        if day <= window_start || day > as_of {
            continue;
        }
        let key = (c.customer, c.category.trim().to_lowercase());
        groups.entry(key).or_default().push((c.received, id, c));
    }
    let mut out = Vec::new();
    for ((customer, _), mut list) in groups {
        list.sort_by_key(|&(at, id, _)| (at, id));
        let within = |start: Date| -> Vec<ComplaintId> {
            list.iter()
                .filter(|(at, _, _)| at.date() > start)
                .map(|&(_, id, _)| id)
                .collect()
        };
        let month = within(month_start);
        let quarter = within(quarter_start);
        if month.len() <= params.month_limit && quarter.len() <= params.quarter_limit {
            continue;
        }
        let mut dealers: Vec<DealerId> = list
            .iter()
            .filter(|(at, _, _)| at.date() > quarter_start)
            .filter_map(|(_, _, c)| c.dealer)
            .collect();
        dealers.sort();
        dealers.dedup();
        let (latest, _, last) = list[list.len() - 1];
        out.push(Escalation {
            customer,
            category: last.category.trim().to_string(),
            month,
            quarter,
            dealers,
            latest,
        });
    }
    out
}

impl crate::store::records::Owned for Complaint {
    fn checked(&self) -> Result<Complaint> {
        Ok(self.normalised()?)
    }
    fn customer(&self) -> CustomerId {
        self.customer
    }
    fn source(&self) -> Option<&SourceRef> {
        self.source.as_ref()
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a complaint of its customer; idempotent on its source record.
    pub fn insert_complaint(&mut self, complaint: &Complaint) -> Result<ComplaintId> {
        self.tx().insert_complaint(complaint)
    }

    /// Validates and stores many complaints in one pass, all or none: a bad record fails the
    /// batch, names its position and writes nothing. Idempotent on source records.
    pub fn insert_complaints(&mut self, complaints: &[Complaint]) -> Result<Vec<ComplaintId>> {
        self.tx().insert_complaints(complaints)
    }

    /// Moves complaint `id` to the status after its current one, at `at` (see
    /// [`WriteTxn::advance_complaint`]); a closed complaint is refused with
    /// `invalid_operation.complaint_closed`.
    pub fn advance_complaint_to_next(
        &mut self,
        id: ComplaintId,
        at: DateTime,
    ) -> Result<Complaint> {
        self.tx().advance_complaint_to_next(id, at)
    }

    /// The complaint `id`, as this transaction sees it.
    pub fn complaint(&self, id: ComplaintId) -> Result<Complaint> {
        self.tx().complaint(id)
    }

    /// Replaces a stored complaint (its customer cannot change).
    pub fn update_complaint(&mut self, id: ComplaintId, complaint: &Complaint) -> Result<()> {
        self.tx().update_complaint(id, complaint)
    }

    /// Moves complaint `id` one step along received → analysed → resolved → called back →
    /// closed, at `at`, and returns it as stored. Refused with
    /// `invalid_operation.complaint_step_out_of_order` when `to` is not the next state of the
    /// current one (`invalid_operation.complaint_closed` when the complaint is closed), and
    /// with `invalid_operation.complaint_time_backwards` when `at` is earlier than a time
    /// already recorded on the complaint (received, first response, resolved). Moving to `resolved`
    /// records `at` as the resolution time, and as the first response if there was none.
    pub fn advance_complaint(
        &mut self,
        id: ComplaintId,
        to: ComplaintStatus,
        at: DateTime,
    ) -> Result<Complaint> {
        self.tx().advance_complaint(id, to, at)
    }

    /// Records the first response to complaint `id` at `at` and returns the complaint as
    /// stored. Refused with `invalid_operation.complaint_already_responded` if a first response
    /// is already recorded, `invalid_operation.complaint_time_backwards` if `at` is before the
    /// complaint was received.
    pub fn respond_to_complaint(&mut self, id: ComplaintId, at: DateTime) -> Result<Complaint> {
        self.tx().respond_to_complaint(id, at)
    }
}
