//! The compiled form of a rule and its evaluation.
//!
//! Checking turns the syntax tree into a [`Node`] tree in which every field is an [`Operand`]
//! variant with its parameters resolved (windows, touchpoint kinds as bit masks, enum values
//! as indexes, money in fen, dates as day numbers), so evaluating a customer only walks the
//! tree, reads the customer's facts and compares integers. Nothing allocates.

use super::lexer::{CmpOp, Dur, Unit};
use crate::analytics::{CustomerFacts, VehicleFact};
use crate::consent::ConsentChannel;
use crate::customer::{Gender, Party};
use crate::date::Date;
use crate::ids::DealerId;
use crate::loyalty::Wallet;
use crate::rollup::Event;
use crate::segment::builtin::{self, Card, LifecycleParams, OwnerStatusParams, UpgradeParams};
use crate::segment::EvalContext;
use crate::touchpoint::{LifecycleStage, ServiceKind, TouchpointKind};
use crate::vehicle::Usage;

/// `days_since` of touchpoints that never happened (on or before D): larger than any number.
pub(crate) const NEVER: i64 = i64::MAX;

/// The names of the enumerated values, in index order.
pub(crate) const KINDS: &[&str] = &["person", "organisation"];
/// Genders.
pub(crate) const GENDERS: &[&str] = &["male", "female"];
/// Cards.
pub(crate) const CARDS: &[&str] = &["a", "c"];
/// Owner statuses, in [`builtin::OwnerStatus::ALL`] order.
pub(crate) const OWNER_STATUSES: &[&str] = &[
    "active",
    "swinging",
    "at_risk",
    "recent",
    "churned",
    "new_owner",
];
/// Tiers, lowest first.
pub(crate) const TIERS: &[&str] = &["normal", "silver", "gold", "diamond", "vip"];
/// Vehicle usages.
pub(crate) const USAGES: &[&str] = Usage::NAMES;
/// Lifecycle stages of an owned vehicle.
pub(crate) const STAGES: &[&str] = &[
    "new",
    "before_first_service",
    "in_warranty",
    "out_of_warranty",
    "final_year",
];
/// Touchpoint kinds, in [`TouchpointKind::ALL`] order.
pub(crate) const TOUCHPOINT_KINDS: &[&str] = TouchpointKind::NAMES;
/// Service kinds, in declaration order.
pub(crate) const SERVICE_KINDS: &[&str] = ServiceKind::NAMES;

/// Which touchpoints an aggregate looks at: a bit per touchpoint kind and a bit per service
/// kind (service visits of that kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Sel {
    /// Bit `k` set: touchpoints of kind `TouchpointKind::ALL[k]`.
    pub kinds: u16,
    /// Bit `s` set: service visits of service kind `s`.
    pub service: u8,
}

impl Sel {
    const SERVICE_VISIT: u16 = 1 << TouchpointKind::ServiceVisit as u16;

    /// Every touchpoint.
    pub const ANY: Sel = Sel {
        kinds: (1 << TouchpointKind::COUNT) - 1,
        service: 0,
    };

    #[inline]
    fn matches(self, e: &Event) -> bool {
        self.kinds & (1 << e.kind.index()) != 0
            || (e.kind == TouchpointKind::ServiceVisit
                && e.service_kind
                    .is_some_and(|s| self.service & (1 << s as u8) != 0))
    }

    /// Exactly the service visits, of every service kind: `rollup.service_dates` answers.
    fn is_service_visits(self) -> bool {
        self.kinds == Sel::SERVICE_VISIT
    }
}

/// A touchpoint aggregate's selection: kinds, window and filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Events {
    /// Which kinds.
    pub sel: Sel,
    /// The window (D − window, D]; `None`: every touchpoint on or before D.
    pub window: Option<Dur>,
    /// Only touchpoints with this dealer.
    pub dealer: Option<DealerId>,
    /// Only touchpoints whose outcome did (or did not) succeed.
    pub succeeded: Option<bool>,
}

impl Events {
    fn plain(&self) -> bool {
        self.dealer.is_none() && self.succeeded.is_none()
    }

    #[inline]
    fn keep(&self, e: &Event) -> bool {
        self.sel.matches(e)
            && self.dealer.is_none_or(|d| e.dealer == Some(d))
            && self.succeeded.is_none_or(|s| e.succeeded == s)
    }

    /// The customer's events in the window.
    #[inline]
    fn slice<'a>(&self, c: &'a CustomerFacts, d: Date) -> &'a [Event] {
        match self.window {
            Some(w) => c.rollup.events_between(before(d, w), d),
            None => {
                let ev = &c.rollup.events;
                &ev[..ev.partition_point(|e| e.day <= d)]
            }
        }
    }

    fn count(&self, c: &CustomerFacts, d: Date) -> i64 {
        if self.sel.is_service_visits() && self.plain() {
            let dates = &c.rollup.service_dates;
            let (lo, hi) = match self.window {
                Some(w) => ranks(dates, before(d, w), d),
                None => (0, rank(dates, d)),
            };
            return hi.saturating_sub(lo) as i64;
        }
        self.slice(c, d).iter().filter(|e| self.keep(e)).count() as i64
    }

    fn sum(&self, c: &CustomerFacts, d: Date) -> i64 {
        self.slice(c, d)
            .iter()
            .filter(|e| self.keep(e))
            .map(|e| e.amount.0)
            .sum()
    }

    fn max(&self, c: &CustomerFacts, d: Date) -> i64 {
        self.slice(c, d)
            .iter()
            .filter(|e| self.keep(e))
            .map(|e| e.amount.0)
            .max()
            .unwrap_or(0)
    }

    fn days_since(&self, c: &CustomerFacts, d: Date) -> i64 {
        let last = if self.sel.is_service_visits() && self.plain() {
            match c.rollup.service_dates.last() {
                Some(l) if *l <= d => Some(*l),
                _ => c.rollup.last_service_on_or_before(d),
            }
        } else {
            let ev = &c.rollup.events;
            ev[..ev.partition_point(|e| e.day <= d)]
                .iter()
                .rev()
                .find(|e| self.keep(e))
                .map(|e| e.day)
        };
        last.map_or(NEVER, |day| i64::from(d.days_since(day)))
    }
}

/// How many of the ascending `dates` are on or before `x`. A customer has a few service
/// visits a year, so this is usually a short list, counted without branches: a binary search
/// branches on every probe of data that has just arrived from memory, which stops the
/// processor from running ahead to the next customers' loads and costs more than the scan.
#[inline]
pub(crate) fn rank(dates: &[Date], x: Date) -> usize {
    if dates.len() <= 64 {
        dates.iter().map(|d| usize::from(*d <= x)).sum()
    } else {
        dates.partition_point(|d| *d <= x)
    }
}

/// [`rank`] of `start` and of `end` (`start` ≤ `end`) in one pass.
#[inline]
pub(crate) fn ranks(dates: &[Date], start: Date, end: Date) -> (usize, usize) {
    if dates.len() <= 64 {
        let (mut lo, mut hi) = (0usize, 0usize);
        for d in dates {
            lo += usize::from(*d <= start);
            hi += usize::from(*d <= end);
        }
        (lo, hi)
    } else {
        (
            dates.partition_point(|d| *d <= start),
            dates.partition_point(|d| *d <= end),
        )
    }
}

/// `d` moved back by `w`: the exclusive start of the window (D − w, D].
#[inline]
pub(crate) fn before(d: Date, w: Dur) -> Date {
    match w.unit {
        Unit::Days => d.add_days(-w.n),
        Unit::Weeks => d.add_days(-7 * w.n),
        Unit::Months => d.add_months(-w.n),
        Unit::Years => d.add_months(-12 * w.n),
    }
}

/// `d` moved forward by `w`.
#[inline]
pub(crate) fn after(d: Date, w: Dur) -> Date {
    match w.unit {
        Unit::Days => d.add_days(w.n),
        Unit::Weeks => d.add_days(7 * w.n),
        Unit::Months => d.add_months(w.n),
        Unit::Years => d.add_months(12 * w.n),
    }
}

/// A date-valued field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateField {
    /// Person's birth date.
    BirthDate,
    /// The day the customer first acquired a vehicle.
    FirstVehicle,
    /// The day the customer joined the brand club (if on or before D).
    MemberSince,
    /// Vehicle purchase date.
    Purchase,
    /// Vehicle invoice date.
    Invoice,
    /// Vehicle registration date.
    Registration,
    /// Vehicle first service date.
    FirstService,
    /// Vehicle warranty end.
    WarrantyEnd,
    /// Vehicle insurance expiry.
    InsuranceExpiry,
    /// Vehicle annual inspection due.
    InspectionDue,
    /// The day this customer acquired the vehicle.
    Acquired,
}

impl DateField {
    #[inline]
    fn get(self, c: &CustomerFacts, v: Option<&VehicleFact>, d: Date) -> Option<Date> {
        match self {
            DateField::BirthDate => match &c.customer.party {
                Party::Person(p) => p.birth_date,
                Party::Organisation(_) => None,
            },
            DateField::FirstVehicle => c.first_vehicle(),
            DateField::MemberSince => c
                .membership
                .as_ref()
                .map(|m| m.enrolled)
                .filter(|e| *e <= d),
            _ => {
                let v = v?;
                let x = &v.vehicle;
                match self {
                    DateField::Purchase => x.purchase_date,
                    DateField::Invoice => x.invoice_date,
                    DateField::Registration => x.registration_date,
                    DateField::FirstService => x.first_service_date,
                    DateField::WarrantyEnd => x.warranty_end,
                    DateField::InsuranceExpiry => x.insurance_expiry,
                    DateField::InspectionDue => x.inspection_due,
                    _ => Some(v.acquired()),
                }
            }
        }
    }
}

/// A field with its parameters resolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    /// `kind`: index in [`KINDS`].
    Kind,
    /// `gender`: index in [`GENDERS`].
    Gender,
    /// `age`: whole years from the birth date to D.
    Age,
    /// A date field.
    Date(DateField),
    /// `province`
    Province,
    /// `city`
    City,
    /// `occupation`
    Occupation,
    /// `employer`
    Employer,
    /// `industry`
    Industry,
    /// `has_phone`
    HasPhone,
    /// `card`: index in [`CARDS`].
    Card,
    /// `vehicle_count`: vehicles owned on D.
    VehicleCount,
    /// `owner_status(...)`: index in [`OWNER_STATUSES`].
    OwnerStatus(OwnerStatusParams),
    /// `value_tier`: rank in [`TIERS`].
    ValueTier,
    /// `tier`: the recorded club tier on D.
    Tier,
    /// `contribution(...)`, in fen.
    Contribution {
        /// The window.
        window: Dur,
        /// Fen per referral.
        per_referral: i64,
    },
    /// `upgrade_candidate(...)`.
    Upgrade(Box<UpgradeParams>),
    /// `count(...)`
    Count(Events),
    /// `sum(amount, ...)`, in fen.
    Sum(Events),
    /// `max(amount, ...)`, in fen.
    Max(Events),
    /// `days_since(touchpoints)`
    DaysSinceEvent(Events),
    /// `days_since(date field)`
    DaysSince(DateField),
    /// `days_until(date field)`
    DaysUntil(DateField),
    /// `consents("sms")`
    Consents(ConsentChannel),
    /// `segment("name")`
    Segment(Box<str>),
    /// `member` / `member(dealer = n)`
    Member(Option<DealerId>),
    /// `balance` / `balance(dealer = n)`: points.
    Balance(Option<DealerId>),
    /// Vehicle `model`.
    Model,
    /// Vehicle `brand`.
    Brand,
    /// Vehicle `trim`.
    Trim,
    /// Vehicle `age`: the base date (purchase, invoice or registration date, else acquired).
    VehicleAge,
    /// Vehicle `owned_for`: the base date is the day this customer acquired it.
    OwnedFor,
    /// Vehicle `usage`: index in [`USAGES`].
    Usage,
    /// Vehicle `in_warranty`.
    InWarranty,
    /// Vehicle `stage(...)`: index in [`STAGES`].
    Stage(LifecycleParams),
    /// Vehicle `selling_dealer`: dealer id.
    SellingDealer,
}

/// A value read from a customer or vehicle: every type but text is an integer (money in fen,
/// dates as day numbers, enums as indexes, yes/no as 0/1, `never` as [`NEVER`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    /// Not known (no birth date, an A-card customer's owner status...).
    Missing,
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
}

fn text(s: &Option<String>) -> Val<'_> {
    s.as_deref().map_or(Val::Missing, Val::Text)
}

fn opt_int(x: Option<i64>) -> Val<'static> {
    x.map_or(Val::Missing, Val::Int)
}

/// The vehicle's age base date, as [`builtin::lifecycle_stage`] computes it.
#[inline]
fn bought(v: &VehicleFact) -> Date {
    let x = &v.vehicle;
    x.purchase_date
        .or(x.invoice_date)
        .or(x.registration_date)
        .unwrap_or_else(|| v.acquired())
}

/// Whole years from `birth` to `d`.
fn years_between(birth: Date, d: Date) -> i64 {
    let (by, bm, bd) = birth.ymd();
    let (y, m, dd) = d.ymd();
    let mut age = i64::from(y) - i64::from(by);
    if (m, dd) < (bm, bd) {
        age -= 1;
    }
    age
}

impl Operand {
    /// The value for customer `c` (and vehicle `v` for vehicle fields) as of `ctx.as_of`.
    #[inline]
    fn value<'a>(
        &'a self,
        c: &'a CustomerFacts,
        v: Option<&'a VehicleFact>,
        ctx: &EvalContext<'_>,
    ) -> Val<'a> {
        let d = ctx.as_of;
        let person = || match &c.customer.party {
            Party::Person(p) => Some(p),
            Party::Organisation(_) => None,
        };
        let flag = |b: bool| Val::Int(i64::from(b));
        match self {
            Operand::Kind => Val::Int(i64::from(person().is_none())),
            Operand::Gender => match person().and_then(|p| p.gender) {
                Some(Gender::Male) => Val::Int(0),
                Some(Gender::Female) => Val::Int(1),
                None => Val::Missing,
            },
            Operand::Age => opt_int(
                person()
                    .and_then(|p| p.birth_date)
                    .map(|b| years_between(b, d)),
            ),
            Operand::Date(f) => opt_int(f.get(c, v, d).map(|x| i64::from(x.days()))),
            Operand::Province => text(&c.customer.province),
            Operand::City => text(&c.customer.city),
            Operand::Occupation => person().map_or(Val::Missing, |p| text(&p.occupation)),
            Operand::Employer => person().map_or(Val::Missing, |p| text(&p.employer)),
            Operand::Industry => match &c.customer.party {
                Party::Organisation(o) => text(&o.industry),
                Party::Person(_) => Val::Missing,
            },
            Operand::HasPhone => flag(!c.customer.phones.is_empty()),
            Operand::Card => flag(builtin::card(c, d) == Card::C),
            Operand::VehicleCount => Val::Int(c.vehicles_on(d).count() as i64),
            Operand::OwnerStatus(p) => opt_int(builtin::owner_status(c, d, *p).map(|s| s as i64)),
            Operand::ValueTier => Val::Int(builtin::value_tier(c, d, ctx.config) as i64),
            Operand::Tier => Val::Int(c.tiers.tier_on(d) as i64),
            Operand::Contribution {
                window,
                per_referral,
            } => {
                let mut total = 0i64;
                for e in c.rollup.events_between(before(d, *window), d) {
                    match e.kind {
                        TouchpointKind::Purchase | TouchpointKind::ServiceVisit => {
                            total = total.saturating_add(e.amount.0)
                        }
                        TouchpointKind::Referral => total = total.saturating_add(*per_referral),
                        _ => {}
                    }
                }
                Val::Int(total)
            }
            Operand::Upgrade(p) => flag(builtin::upgrade_candidate(c, d, p)),
            Operand::Count(q) => Val::Int(q.count(c, d)),
            Operand::Sum(q) => Val::Int(q.sum(c, d)),
            Operand::Max(q) => Val::Int(q.max(c, d)),
            Operand::DaysSinceEvent(q) => Val::Int(q.days_since(c, d)),
            Operand::DaysSince(f) => opt_int(
                f.get(c, v, d)
                    .map(|x| i64::from(d.days()) - i64::from(x.days())),
            ),
            Operand::DaysUntil(f) => opt_int(
                f.get(c, v, d)
                    .map(|x| i64::from(x.days()) - i64::from(d.days())),
            ),
            Operand::Consents(ch) => flag(c.consents.allows(*ch, d)),
            Operand::Segment(name) => {
                flag(ctx.segments.get(&**name).is_some_and(|s| s.contains(c.id)))
            }
            Operand::Member(dealer) => flag(c.membership.as_ref().is_some_and(|m| match dealer {
                None => m.brand_member_on(d),
                Some(x) => m.dealer_member_on(*x, d),
            })),
            Operand::Balance(dealer) => {
                let w = dealer.map_or(Wallet::Brand, Wallet::Dealer);
                Val::Int(
                    c.balances
                        .iter()
                        .find(|(x, _)| *x == w)
                        .map_or(0, |(_, b)| b.points),
                )
            }
            _ => {
                let Some(v) = v else {
                    return Val::Missing;
                };
                let x = &v.vehicle;
                match self {
                    Operand::Model => Val::Text(&x.model),
                    Operand::Brand => Val::Text(&x.brand),
                    Operand::Trim => text(&x.trim),
                    Operand::VehicleAge => Val::Int(i64::from(bought(v).days())),
                    Operand::OwnedFor => Val::Int(i64::from(v.acquired().days())),
                    Operand::Usage => Val::Int(match x.usage {
                        Usage::Private => 0,
                        Usage::Fleet => 1,
                        Usage::Taxi => 2,
                        Usage::Rental => 3,
                    }),
                    Operand::InWarranty => flag(x.warranty_end.is_some_and(|w| w > d)),
                    Operand::Stage(p) => Val::Int(match builtin::lifecycle_stage(v, d, *p) {
                        LifecycleStage::New => 0,
                        LifecycleStage::BeforeFirstService => 1,
                        LifecycleStage::InWarranty => 2,
                        LifecycleStage::OutOfWarranty => 3,
                        LifecycleStage::FinalYear => 4,
                        // Only vehicles owned on D are ever looked at.
                        LifecycleStage::Gone | LifecycleStage::Prospect => return Val::Missing,
                    }),
                    Operand::SellingDealer => opt_int(x.selling_dealer.map(|d| i64::from(d.0))),
                    _ => Val::Missing,
                }
            }
        }
    }
}

/// What is asked of an operand's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    /// `value op n`.
    Cmp(CmpOp, i64),
    /// `value [not] in [n, ...]`.
    In(Box<[i64]>, bool),
    /// `value = text` (true) or `value != text` (false), ASCII case-insensitive.
    Text(bool, Box<str>),
    /// `value [not] in ["a", ...]`, ASCII case-insensitive.
    TextIn(Box<[Box<str>]>, bool),
    /// `value = none` (true) or `value != none` (false).
    IsNone(bool),
    /// An age: the value is a base date; `D − base op duration`.
    Age(CmpOp, Dur),
}

impl Test {
    #[inline]
    fn holds(&self, v: Val<'_>, d: Date) -> bool {
        match (self, v) {
            (Test::IsNone(want), v) => (v == Val::Missing) == *want,
            (_, Val::Missing) => false,
            (Test::Cmp(op, n), Val::Int(x)) => op.test(x, *n),
            (Test::In(list, negated), Val::Int(x)) => list.contains(&x) != *negated,
            (Test::Text(eq, s), Val::Text(x)) => x.eq_ignore_ascii_case(s) == *eq,
            (Test::TextIn(list, negated), Val::Text(x)) => {
                list.iter().any(|s| x.eq_ignore_ascii_case(s)) != *negated
            }
            (Test::Age(op, dur), Val::Int(base)) => {
                // The day the vehicle (or ownership) reaches the age `dur`.
                let reached = after(Date::from_days(base as i32), *dur);
                match op {
                    CmpOp::Ge => reached <= d,
                    CmpOp::Gt => reached < d,
                    CmpOp::Le => reached >= d,
                    CmpOp::Lt => reached > d,
                    CmpOp::Eq => reached == d,
                    CmpOp::Ne => reached != d,
                }
            }
            _ => false,
        }
    }
}

/// A compiled condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `true` / `false`.
    Const(bool),
    /// Every part holds.
    And(Box<[Node]>),
    /// Some part holds.
    Or(Box<[Node]>),
    /// The complement.
    Not(Box<Node>),
    /// `any vehicle (...)` (false without vehicles) or `all vehicles (...)` (true without).
    Vehicles {
        /// `all` rather than `any`.
        all: bool,
        /// The condition on each vehicle owned on D.
        body: Box<Node>,
    },
    /// A field and what is asked of it.
    Test(Operand, Test),
    /// `owner_status(...)` is one of the statuses in `mask` (bit `i`: `OwnerStatus::ALL[i]`),
    /// decided from the service dates first and the vehicles only when needed.
    OwnerStatusIn {
        /// The windows.
        params: OwnerStatusParams,
        /// The statuses asked for.
        mask: u8,
    },
}

/// Whether the owner status of `c` on `d` is in `mask`: the same answer as
/// [`builtin::owner_status`], but the vehicles (a pointer chase per customer) are looked at
/// only when the service dates leave a status of the mask possible.
#[inline]
fn owner_status_in(c: &CustomerFacts, d: Date, p: OwnerStatusParams, mask: u8) -> bool {
    use builtin::OwnerStatus as S;
    let bit = |s: S| mask & (1 << s as u8) != 0;
    let dates = &c.rollup.service_dates;
    let start = d.add_days(-p.window_days);
    let (lo, hi) = ranks(dates, start, d);
    let status = match hi.saturating_sub(lo) {
        0 => None,
        1 if dates[lo] < d.add_days(-p.recent_days) => Some(S::AtRisk),
        1 => Some(S::Recent),
        2 => Some(S::Swinging),
        _ => Some(S::Active),
    };
    let owner = || builtin::card(c, d) == Card::C;
    match status {
        Some(s) => bit(s) && owner(),
        None => {
            let (churned, new) = (bit(S::Churned), bit(S::NewOwner));
            if !(churned || new) || !owner() {
                return false;
            }
            if churned && new {
                return true;
            }
            let is_churned = lo > 0 || c.first_vehicle().unwrap_or(d) <= start;
            if is_churned {
                churned
            } else {
                new
            }
        }
    }
}

impl Node {
    /// Whether the condition holds for customer `c` (and vehicle `v` inside a quantifier).
    pub(crate) fn eval(
        &self,
        c: &CustomerFacts,
        v: Option<&VehicleFact>,
        ctx: &EvalContext<'_>,
    ) -> bool {
        match self {
            Node::Const(b) => *b,
            Node::And(parts) => parts.iter().all(|p| p.eval(c, v, ctx)),
            Node::Or(parts) => parts.iter().any(|p| p.eval(c, v, ctx)),
            Node::Not(p) => !p.eval(c, v, ctx),
            Node::Vehicles { all, body } => {
                let mut owned = c.vehicles_on(ctx.as_of);
                if *all {
                    owned.all(|x| body.eval(c, Some(x), ctx))
                } else {
                    owned.any(|x| body.eval(c, Some(x), ctx))
                }
            }
            Node::Test(op, test) => test.holds(op.value(c, v, ctx), ctx.as_of),
            Node::OwnerStatusIn { params, mask } => owner_status_in(c, ctx.as_of, *params, *mask),
        }
    }

    /// A rough cost of evaluating the node, by the memory it reads: the customer record
    /// itself (0–1), one more heap block such as the service dates (2), the event digest or
    /// another list (3), the vehicles and their ownership periods (4). `and` and `or` evaluate
    /// their cheapest parts first, which leaves the result unchanged (evaluation has no side
    /// effects and every condition is true or false) and skips most pointer chasing.
    pub(crate) fn cost(&self) -> u8 {
        match self {
            Node::Const(_) => 0,
            Node::And(p) | Node::Or(p) => p.iter().map(Node::cost).max().unwrap_or(0),
            Node::Not(n) => n.cost(),
            Node::Vehicles { .. } => 4,
            Node::OwnerStatusIn { .. } => 2,
            Node::Test(op, _) => match op {
                Operand::Kind
                | Operand::Gender
                | Operand::Age
                | Operand::Province
                | Operand::City
                | Operand::Occupation
                | Operand::Employer
                | Operand::Industry
                | Operand::HasPhone
                | Operand::Member(None) => 1,
                Operand::Date(DateField::BirthDate | DateField::MemberSince)
                | Operand::DaysSince(DateField::BirthDate | DateField::MemberSince)
                | Operand::DaysUntil(DateField::BirthDate | DateField::MemberSince) => 1,
                Operand::Count(q) | Operand::DaysSinceEvent(q)
                    if q.sel.is_service_visits() && q.plain() =>
                {
                    2
                }
                Operand::Tier | Operand::Member(Some(_)) | Operand::Balance(_) => 2,
                Operand::Card
                | Operand::VehicleCount
                | Operand::OwnerStatus(_)
                | Operand::Upgrade(_)
                | Operand::Date(DateField::FirstVehicle)
                | Operand::DaysSince(DateField::FirstVehicle)
                | Operand::DaysUntil(DateField::FirstVehicle) => 4,
                // Vehicle fields are read inside a quantifier, on a vehicle already at hand.
                Operand::Model
                | Operand::Brand
                | Operand::Trim
                | Operand::VehicleAge
                | Operand::OwnedFor
                | Operand::Usage
                | Operand::InWarranty
                | Operand::SellingDealer
                | Operand::Date(_)
                | Operand::DaysSince(_)
                | Operand::DaysUntil(_) => 1,
                Operand::Stage(_) => 2,
                _ => 3,
            },
        }
    }
}
