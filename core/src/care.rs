//! Care and callback actions (DOMAIN.md §8): what a dealer or the call centre should do for
//! whom, and when — computed from the [`Facts`] snapshot for a date range and optionally one
//! dealer.
//!
//! # The range
//! [`due_actions`] returns the actions whose due date d lies in the half-open range
//! `from ≤ d < to`, so consecutive ranges (`[Mon, next Mon)`, `[next Mon, ...)`) never list an
//! action twice or miss one. An action keeps its due date: a lead still unreported or a
//! complaint still not called back is listed in the range holding its due date, so a backlog
//! is found by starting the range earlier.
//!
//! # The rules (offsets are [`CareParams`] fields; defaults in brackets)
//! *Purchase day* of a vehicle: its purchase date, else invoice date, else registration date,
//! else the day its first recorded owner acquired it. Vehicle actions need the customer to own
//! the vehicle on the due date.
//!
//! | kind | due on | for |
//! |---|---|---|
//! | `callback_day3/day7/month1` | purchase day + 3 days / + 7 days / + 1 month | the vehicle's first owner (the sale of a new vehicle; a used-vehicle acquisition gets none) |
//! | `first_service` | purchase day + 3 months, or earlier when the estimated odometer reaches 5,000 km | vehicles without a first service on or before the due date |
//! | `maintenance` | last service visit + 6 months, or earlier when the estimated odometer runs 7,500 km past that visit | owners with no other service visit between that visit and the due date |
//! | `insurance_renewal` | insurance expiry − 30 days | vehicles with an insurance expiry |
//! | `annual_inspection` | inspection due − 30 days | vehicles with an inspection due date |
//! | `warranty_expiry` | warranty end − 60 days | vehicles with a warranty end |
//! | `birthday` | the birthday in each year of the range; 29 February → 28 February in other years | persons with a birth date |
//! | `holiday` | each configured holiday ([`CareParams::holidays`], none by default) | every customer |
//! | `win_back` | `from` (once per call) | owners whose status as of `from` is `at_risk` or `churned` (DOMAIN.md §5) |
//! | `lead_follow_up` | lead received + 7 days | leads still `New` with no status report |
//! | `complaint_callback` | resolution + 1 day | complaints in state `resolved` (not yet called back) |
//!
//! *Mileage*: the digest keeps no odometer readings per vehicle or per day, only the customer's
//! highest reading. When the customer has only ever had one vehicle, that reading is taken to be
//! of this vehicle at the customer's latest service visit, which gives a daily mileage since
//! the purchase day; the mileage due dates come from it. Otherwise reminders go by time only.
//! A customer's service visits are not per vehicle either: the maintenance reminder is one per
//! customer, with the vehicle named when the customer owns exactly one on the due date. A
//! vehicle's recorded first-service date counts as a service visit.
//!
//! # Marketing and consent
//! Birthday and holiday greetings, win-back and insurance-renewal offers are *marketing*: they
//! are produced only for a customer who consented, on the due date ([`Consents::allows`]), to
//! one of the kind's channels, and suggest the first such channel of the kind's preference list
//! in [`CareParams`]. Callbacks, service, inspection and warranty reminders and the lead and
//! complaint follow-ups are *care*: always produced, with the kind's fixed channel
//! ([`CareKind::care_channel`]). Warranty expiry is a care notice here (come in before the
//! warranty ends); selling an extended warranty would be marketing.
//!
//! # Dealer
//! Each action names the dealer responsible: the vehicle's selling dealer for vehicle actions,
//! the lead's or complaint's dealer for those, and otherwise — or when that is unknown — the
//! customer's home dealer on the due date ([`crate::CustomerFacts::home_dealer`]). With a
//! dealer filter only that dealer's actions are returned.
//!
//! [`Consents::allows`]: crate::Consents::allows

use std::collections::HashMap;

use crate::analytics::{CustomerFacts, Facts, VehicleFact};
use crate::complaint::ComplaintStatus;
use crate::consent::ConsentChannel;
use crate::customer::Party;
use crate::date::Date;
use crate::ids::{ComplaintId, CustomerId, DealerId, LeadId, VehicleId};
use crate::lead::LeadStatus;
use crate::segment::builtin::{owner_status, OwnerStatus, OwnerStatusParams};
use crate::touchpoint::{ServiceKind, TouchpointKind};

/// What kind of care action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareKind {
    /// Sales callback on day 3 after purchase.
    CallbackDay3,
    /// Sales callback on day 7 after purchase.
    CallbackDay7,
    /// Sales callback one month after purchase.
    CallbackMonth1,
    /// First-service (首保) reminder.
    FirstService,
    /// Maintenance (保养) reminder.
    Maintenance,
    /// Insurance renewal offer (marketing).
    InsuranceRenewal,
    /// Annual inspection reminder.
    AnnualInspection,
    /// Warranty expiry notice.
    WarrantyExpiry,
    /// Birthday greeting (marketing).
    Birthday,
    /// Holiday greeting (marketing).
    Holiday,
    /// Win-back of an at-risk or churned owner (marketing).
    WinBack,
    /// A lead not reported within 7 days of receipt.
    LeadFollowUp,
    /// A resolved complaint not yet called back.
    ComplaintCallback,
}

impl CareKind {
    /// Every kind.
    pub const ALL: [CareKind; 13] = [
        CareKind::CallbackDay3,
        CareKind::CallbackDay7,
        CareKind::CallbackMonth1,
        CareKind::FirstService,
        CareKind::Maintenance,
        CareKind::InsuranceRenewal,
        CareKind::AnnualInspection,
        CareKind::WarrantyExpiry,
        CareKind::Birthday,
        CareKind::Holiday,
        CareKind::WinBack,
        CareKind::LeadFollowUp,
        CareKind::ComplaintCallback,
    ];

    /// The stable name, e.g. `"insurance_renewal"`.
    pub fn name(self) -> &'static str {
        match self {
            CareKind::CallbackDay3 => "callback_day3",
            CareKind::CallbackDay7 => "callback_day7",
            CareKind::CallbackMonth1 => "callback_month1",
            CareKind::FirstService => "first_service",
            CareKind::Maintenance => "maintenance",
            CareKind::InsuranceRenewal => "insurance_renewal",
            CareKind::AnnualInspection => "annual_inspection",
            CareKind::WarrantyExpiry => "warranty_expiry",
            CareKind::Birthday => "birthday",
            CareKind::Holiday => "holiday",
            CareKind::WinBack => "win_back",
            CareKind::LeadFollowUp => "lead_follow_up",
            CareKind::ComplaintCallback => "complaint_callback",
        }
    }

    /// The kind named `name` (as [`CareKind::name`] gives it).
    pub fn from_name(name: &str) -> Option<CareKind> {
        CareKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind is marketing, which needs the customer's consent to the channel.
    pub fn is_marketing(self) -> bool {
        matches!(
            self,
            CareKind::InsuranceRenewal | CareKind::Birthday | CareKind::Holiday | CareKind::WinBack
        )
    }

    /// The channel a care (non-marketing) kind uses: the phone for callbacks, warranty notices
    /// and lead and complaint follow-ups, SMS for service and inspection reminders. Marketing
    /// kinds use the first consented channel of their [`CareParams`] list instead; this is
    /// the fallback name only.
    pub fn care_channel(self) -> ConsentChannel {
        match self {
            CareKind::FirstService
            | CareKind::Maintenance
            | CareKind::AnnualInspection
            | CareKind::Birthday
            | CareKind::Holiday => ConsentChannel::Sms,
            _ => ConsentChannel::Phone,
        }
    }
}

/// A named holiday for greetings (lunar holidays move, so the dates are configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// The day.
    pub date: Date,
    /// Its name, e.g. `"春节"`.
    pub name: String,
}

/// Every lead time and offset of the care rules. `Default` gives the values of the module
/// docs.
#[derive(Clone, Debug, PartialEq)]
pub struct CareParams {
    /// Days after purchase of the first sales callback.
    pub callback_day3_days: i32,
    /// Days after purchase of the second sales callback.
    pub callback_day7_days: i32,
    /// Months after purchase of the third sales callback.
    pub callback_month1_months: i32,
    /// Months after purchase at which the first service is due.
    pub first_service_months: i32,
    /// Odometer reading at which the first service is due, if mileage is to be used.
    pub first_service_km: Option<u32>,
    /// Months after the last service visit at which maintenance is due.
    pub maintenance_months: i32,
    /// Kilometres after the last service visit at which maintenance is due, if mileage is to
    /// be used.
    pub maintenance_km: Option<u32>,
    /// Days before insurance expiry of the renewal offer.
    pub insurance_lead_days: i32,
    /// Days before the inspection due date of the reminder.
    pub inspection_lead_days: i32,
    /// Days before warranty end of the notice.
    pub warranty_lead_days: i32,
    /// Days after receipt by which a lead's status must be reported.
    pub lead_report_days: i32,
    /// Days after resolution at which a complaint's callback is due.
    pub complaint_callback_days: i32,
    /// The owner-status windows used to find at-risk and churned owners.
    pub owner_status: OwnerStatusParams,
    /// Holidays to greet customers on.
    pub holidays: Vec<Holiday>,
    /// Channels for birthday greetings, in order of preference.
    pub birthday_channels: Vec<ConsentChannel>,
    /// Channels for holiday greetings, in order of preference.
    pub holiday_channels: Vec<ConsentChannel>,
    /// Channels for win-back, in order of preference.
    pub win_back_channels: Vec<ConsentChannel>,
    /// Channels for insurance renewal offers, in order of preference.
    pub insurance_channels: Vec<ConsentChannel>,
}

impl Default for CareParams {
    fn default() -> CareParams {
        use ConsentChannel::*;
        let greeting = vec![Sms, WeChat, App, Email, Mail, Phone];
        let offer = vec![Phone, Sms, WeChat, App, Email, Mail];
        CareParams {
            callback_day3_days: 3,
            callback_day7_days: 7,
            callback_month1_months: 1,
            first_service_months: 3,
            first_service_km: Some(5_000),
            maintenance_months: 6,
            maintenance_km: Some(7_500),
            insurance_lead_days: 30,
            inspection_lead_days: 30,
            warranty_lead_days: 60,
            lead_report_days: 7,
            complaint_callback_days: 1,
            owner_status: OwnerStatusParams::default(),
            holidays: Vec::new(),
            birthday_channels: greeting.clone(),
            holiday_channels: greeting,
            win_back_channels: offer.clone(),
            insurance_channels: offer,
        }
    }
}

impl CareParams {
    /// The preference list of a marketing kind (empty for care kinds).
    pub fn channels(&self, kind: CareKind) -> &[ConsentChannel] {
        match kind {
            CareKind::Birthday => &self.birthday_channels,
            CareKind::Holiday => &self.holiday_channels,
            CareKind::WinBack => &self.win_back_channels,
            CareKind::InsuranceRenewal => &self.insurance_channels,
            _ => &[],
        }
    }
}

/// One thing to do for one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CareAction {
    /// What to do.
    pub kind: CareKind,
    /// For whom.
    pub customer: CustomerId,
    /// The vehicle concerned, if any.
    pub vehicle: Option<VehicleId>,
    /// The lead concerned (lead follow-ups).
    pub lead: Option<LeadId>,
    /// The complaint concerned (complaint callbacks).
    pub complaint: Option<ComplaintId>,
    /// When it is due.
    pub due: Date,
    /// The date it was computed from: purchase day, expiry, birthday, last service visit,
    /// lead receipt, resolution...
    pub basis: Date,
    /// The dealer responsible, if known.
    pub dealer: Option<DealerId>,
    /// The suggested channel (for marketing, one the customer consented to on `due`).
    pub channel: ConsentChannel,
    /// Marketing (consent-gated) rather than care.
    pub marketing: bool,
    /// A short human-readable reason, e.g. `"insurance expires 2024-06-30"`.
    pub detail: String,
}

/// The care actions due on days d with `from ≤ d < to`, for every customer of `facts` or, with
/// `dealer`, only that dealer's, under the default [`CareParams`]. Sorted by due date, then
/// customer, then kind. See the module docs for the rules.
pub fn due_actions(
    facts: &Facts,
    from: Date,
    to: Date,
    dealer: Option<DealerId>,
) -> Vec<CareAction> {
    due_actions_with(facts, from, to, dealer, &CareParams::default())
}

/// [`due_actions`] under the given parameters.
pub fn due_actions_with(
    facts: &Facts,
    from: Date,
    to: Date,
    dealer: Option<DealerId>,
    params: &CareParams,
) -> Vec<CareAction> {
    if from >= to {
        return Vec::new();
    }
    // The first day anyone owned each vehicle: the first owner is the one who bought it new.
    let mut first_owned: HashMap<VehicleId, Date> = HashMap::new();
    for c in &facts.customers {
        for v in &c.vehicles {
            let day = v.acquired();
            first_owned
                .entry(v.id)
                .and_modify(|d| *d = (*d).min(day))
                .or_insert(day);
        }
    }
    let mut out = Vec::new();
    for c in &facts.customers {
        customer_actions(c, &first_owned, from, to, dealer, params, &mut out);
    }
    sort_actions(&mut out);
    out
}

/// The care actions of one customer `c` due on days d with `from ≤ d < to` (with `dealer`,
/// only that dealer's), sorted as [`due_actions`] sorts them: [`due_actions_with`] for one
/// customer without the whole snapshot. `first_owned` holds, for each of `c`'s vehicles, the
/// first day anyone owned it (from its ownership history): it tells a new car's first owner
/// from a later one.
pub fn customer_due_actions(
    c: &CustomerFacts,
    first_owned: &HashMap<VehicleId, Date>,
    from: Date,
    to: Date,
    dealer: Option<DealerId>,
    params: &CareParams,
) -> Vec<CareAction> {
    let mut out = Vec::new();
    if from < to {
        customer_actions(c, first_owned, from, to, dealer, params, &mut out);
        sort_actions(&mut out);
    }
    out
}

fn customer_actions(
    c: &CustomerFacts,
    first_owned: &HashMap<VehicleId, Date>,
    from: Date,
    to: Date,
    dealer: Option<DealerId>,
    params: &CareParams,
    out: &mut Vec<CareAction>,
) {
    let mut cx = Ctx {
        c,
        first_owned,
        from,
        to,
        dealer,
        params,
        out,
    };
    for v in &c.vehicles {
        cx.vehicle_actions(v);
    }
    cx.maintenance();
    cx.birthday();
    cx.holidays();
    cx.win_back();
    cx.leads();
    cx.complaints();
}

fn sort_actions(out: &mut [CareAction]) {
    out.sort_by(|a, b| {
        (a.due, a.customer, a.kind, a.vehicle, a.lead, a.complaint).cmp(&(
            b.due,
            b.customer,
            b.kind,
            b.vehicle,
            b.lead,
            b.complaint,
        ))
    });
}

/// A vehicle's purchase day: purchase, invoice or registration date, else the day its first
/// recorded owner acquired it.
pub fn purchase_day(v: &VehicleFact, first_owned: Date) -> Date {
    v.vehicle
        .purchase_date
        .or(v.vehicle.invoice_date)
        .or(v.vehicle.registration_date)
        .unwrap_or(first_owned)
}

/// The estimated daily mileage of the customer's only vehicle: its highest odometer reading,
/// taken to be read at the latest service visit, over the days since `bought`. Returns the
/// reading day and the kilometres per day.
fn daily_km(c: &CustomerFacts, bought: Date) -> Option<(Date, f64)> {
    if c.vehicles.len() != 1 {
        return None;
    }
    let km = c.rollup.max_mileage_km?;
    let read = *c.rollup.service_dates.last()?;
    let days = read.days_since(bought);
    (days > 0 && km > 0).then(|| (read, f64::from(km) / f64::from(days)))
}

/// The day `start` plus the days needed to drive `km` at `per_day`, if within a century.
fn after_km(start: Date, km: u32, per_day: f64) -> Option<Date> {
    let days = (f64::from(km) / per_day).ceil();
    (days < 36_525.0).then(|| start.add_days(days as i32))
}

struct Ctx<'a, 'o> {
    c: &'a CustomerFacts,
    /// The first day anyone owned each vehicle.
    first_owned: &'a HashMap<VehicleId, Date>,
    from: Date,
    to: Date,
    dealer: Option<DealerId>,
    params: &'a CareParams,
    out: &'o mut Vec<CareAction>,
}

/// The parts of an action that vary by kind.
struct Draft {
    kind: CareKind,
    due: Date,
    basis: Date,
    vehicle: Option<VehicleId>,
    lead: Option<LeadId>,
    complaint: Option<ComplaintId>,
    /// The dealer responsible before falling back to the home dealer.
    dealer: Option<DealerId>,
    detail: String,
}

impl Draft {
    fn new(kind: CareKind, due: Date, basis: Date, detail: String) -> Draft {
        Draft {
            kind,
            due,
            basis,
            vehicle: None,
            lead: None,
            complaint: None,
            dealer: None,
            detail,
        }
    }
}

impl Ctx<'_, '_> {
    fn in_range(&self, d: Date) -> bool {
        self.from <= d && d < self.to
    }

    /// Adds the action if it is due in the range, belongs to the dealer asked for and, for
    /// marketing, the customer consented to one of its channels on the due date.
    fn push(&mut self, d: Draft) {
        if !self.in_range(d.due) {
            return;
        }
        let dealer = d.dealer.or_else(|| self.c.home_dealer(d.due));
        if self.dealer.is_some_and(|f| dealer != Some(f)) {
            return;
        }
        let marketing = d.kind.is_marketing();
        let channel = if marketing {
            let consented = self
                .params
                .channels(d.kind)
                .iter()
                .copied()
                .find(|&ch| self.c.consents.allows(ch, d.due));
            match consented {
                Some(ch) => ch,
                None => return,
            }
        } else {
            d.kind.care_channel()
        };
        self.out.push(CareAction {
            kind: d.kind,
            customer: self.c.id,
            vehicle: d.vehicle,
            lead: d.lead,
            complaint: d.complaint,
            due: d.due,
            basis: d.basis,
            dealer,
            channel,
            marketing,
            detail: d.detail,
        });
    }

    /// The vehicle's purchase day and the day its first recorded owner acquired it.
    fn bought(&self, v: &VehicleFact) -> (Date, Date) {
        let first_owned = self
            .first_owned
            .get(&v.id)
            .copied()
            .unwrap_or_else(|| v.acquired());
        (purchase_day(v, first_owned), first_owned)
    }

    fn vehicle_actions(&mut self, v: &VehicleFact) {
        let p = self.params;
        let (bought, first_owned) = self.bought(v);
        let mut drafts = Vec::new();
        // Sales callbacks: the new vehicle's buyer only.
        if v.acquired() == first_owned {
            for (kind, due) in [
                (
                    CareKind::CallbackDay3,
                    bought.add_days(p.callback_day3_days),
                ),
                (
                    CareKind::CallbackDay7,
                    bought.add_days(p.callback_day7_days),
                ),
                (
                    CareKind::CallbackMonth1,
                    bought.add_months(p.callback_month1_months),
                ),
            ] {
                drafts.push(Draft::new(kind, due, bought, format!("purchased {bought}")));
            }
        }
        // First service: by time, or earlier by estimated mileage.
        let by_time = bought.add_months(p.first_service_months);
        let by_km = p.first_service_km.and_then(|km| {
            let (_, per_day) = daily_km(self.c, bought)?;
            after_km(bought, km, per_day)
        });
        let due = by_km.map_or(by_time, |d| d.min(by_time));
        if !self.first_service_done(v, bought, due) {
            drafts.push(Draft::new(
                CareKind::FirstService,
                due,
                bought,
                format!("purchased {bought}, no first service yet"),
            ));
        }
        let dated = [
            (
                CareKind::InsuranceRenewal,
                v.vehicle.insurance_expiry,
                p.insurance_lead_days,
                "insurance expires",
            ),
            (
                CareKind::AnnualInspection,
                v.vehicle.inspection_due,
                p.inspection_lead_days,
                "annual inspection due",
            ),
            (
                CareKind::WarrantyExpiry,
                v.vehicle.warranty_end,
                p.warranty_lead_days,
                "warranty ends",
            ),
        ];
        for (kind, date, lead_days, what) in dated {
            if let Some(date) = date {
                drafts.push(Draft::new(
                    kind,
                    date.add_days(-lead_days),
                    date,
                    format!("{what} {date}"),
                ));
            }
        }
        for mut d in drafts {
            if v.owned_on(d.due) {
                d.vehicle = Some(v.id);
                d.dealer = v.vehicle.selling_dealer;
                self.push(d);
            }
        }
    }

    /// Whether the vehicle had its first service on or before `due`: its recorded first-service
    /// date, or — when the customer has only ever had this vehicle — a first-service visit
    /// since the purchase day.
    fn first_service_done(&self, v: &VehicleFact, bought: Date, due: Date) -> bool {
        if v.vehicle.first_service_date.is_some_and(|f| f <= due) {
            return true;
        }
        self.c.vehicles.len() == 1
            && self
                .c
                .rollup
                .events_between(bought.add_days(-1), due)
                .iter()
                .any(|e| {
                    e.kind == TouchpointKind::ServiceVisit
                        && e.service_kind == Some(ServiceKind::FirstService)
                })
    }

    fn maintenance(&mut self) {
        let p = self.params;
        let c = self.c;
        let mut visits: Vec<Date> = c.rollup.service_dates.clone();
        visits.extend(
            c.vehicles
                .iter()
                .filter_map(|v| v.vehicle.first_service_date.filter(|&f| v.owned_on(f))),
        );
        visits.sort();
        visits.dedup();
        // Mileage: the reading is at the latest touchpoint service visit.
        let mileage = p.maintenance_km.and_then(|km| {
            let (bought, _) = self.bought(c.vehicles.first()?);
            let (read, per_day) = daily_km(c, bought)?;
            Some((read, after_km(read, km, per_day)?))
        });
        for (i, &last) in visits.iter().enumerate() {
            let by_time = last.add_months(p.maintenance_months);
            let due = match mileage {
                Some((read, by_km)) if read == last => by_time.min(by_km),
                _ => by_time,
            };
            if !self.in_range(due) || visits.get(i + 1).is_some_and(|&next| next < due) {
                continue;
            }
            let mut owned = c.vehicles_on(due);
            let Some(first) = owned.next() else { continue };
            let only = owned.next().is_none().then_some(first.id);
            let mut d = Draft::new(
                CareKind::Maintenance,
                due,
                last,
                format!("last service {last}"),
            );
            d.vehicle = only;
            self.push(d);
        }
    }

    fn birthday(&mut self) {
        let Party::Person(person) = &self.c.customer.party else {
            return;
        };
        let Some(born) = person.birth_date else {
            return;
        };
        let (by, bm, bd) = born.ymd();
        let last = self.to.add_days(-1);
        for year in self.from.year().max(by + 1)..=last.year() {
            // 29 February is celebrated on 28 February in common years.
            let Some(day) = Date::from_ymd(year, bm, bd).or_else(|| Date::from_ymd(year, bm, 28))
            else {
                continue;
            };
            self.push(Draft::new(
                CareKind::Birthday,
                day,
                born,
                format!("born {born}"),
            ));
        }
    }

    fn holidays(&mut self) {
        for h in &self.params.holidays {
            self.push(Draft::new(
                CareKind::Holiday,
                h.date,
                h.date,
                h.name.clone(),
            ));
        }
    }

    fn win_back(&mut self) {
        let c = self.c;
        let on = self.from;
        let status = match owner_status(c, on, self.params.owner_status) {
            Some(s @ (OwnerStatus::AtRisk | OwnerStatus::Churned)) => s,
            _ => return,
        };
        let (basis, detail) = match c.rollup.last_service_on_or_before(on) {
            Some(last) => (last, format!("{}, last service {last}", status.name())),
            None => {
                let first = c.first_vehicle().unwrap_or(on);
                (
                    first,
                    format!("{}, never serviced since {first}", status.name()),
                )
            }
        };
        let mut owned = c.vehicles_on(on);
        let first = owned.next().map(|v| v.id);
        let mut d = Draft::new(CareKind::WinBack, on, basis, detail);
        d.vehicle = first.filter(|_| owned.next().is_none());
        self.push(d);
    }

    fn leads(&mut self) {
        for (id, lead) in &self.c.leads {
            if lead.status != LeadStatus::New || lead.status_at.is_some() {
                continue;
            }
            let received = lead.received.date();
            let mut d = Draft::new(
                CareKind::LeadFollowUp,
                received.add_days(self.params.lead_report_days),
                received,
                format!("lead received {received}, no status reported"),
            );
            d.lead = Some(*id);
            d.dealer = lead.dealer;
            self.push(d);
        }
    }

    fn complaints(&mut self) {
        for (id, complaint) in &self.c.complaints {
            if complaint.status != ComplaintStatus::Resolved {
                continue;
            }
            let resolved = complaint.resolved.unwrap_or(complaint.received).date();
            let mut d = Draft::new(
                CareKind::ComplaintCallback,
                resolved.add_days(self.params.complaint_callback_days),
                resolved,
                format!("{} complaint resolved {resolved}", complaint.category),
            );
            d.complaint = Some(*id);
            d.vehicle = complaint.vehicle;
            d.dealer = complaint.dealer;
            self.push(d);
        }
    }
}
