//! One function per KPI: each documents its numerator, denominator, window and attribution
//! right above the code that counts them. `P = [from, to)` is the period, `D = to − 1` its
//! last day. Windows written `(a, b]` exclude `a` and include `b`, as in DOMAIN.md §5.

use super::group::{Grouper, Models};
use super::{
    Kpi, Period, CALLBACK_EARLY_DAYS, CALLBACK_LATE_DAYS, CHURN_WINDOW_DAYS,
    COMPLAINT_RESPONSE_SECONDS, RETENTION_YEAR_DAYS,
};
use std::collections::HashMap;

use crate::analytics::{CustomerFacts, Facts};
use crate::complaint::ComplaintStatus;
use crate::date::Date;
use crate::ids::{DealerId, VehicleId};
use crate::lead::LeadStatus;
use crate::rollup::Event;
use crate::segment::builtin::{self, Card, OwnerStatus, OwnerStatusParams};
use crate::survey::SurveyKind;
use crate::touchpoint::TouchpointKind;

pub(super) fn accumulate<'a>(facts: &'a Facts, which: Kpi, p: Period, g: &mut Grouper<'a>) {
    match which {
        Kpi::LeadConversion => lead_conversion(facts, p, g),
        Kpi::Repurchase => repurchase(facts, p, g),
        Kpi::Referral => referral(facts, p, g),
        Kpi::Retention => retention(facts, p, g),
        Kpi::AfterSalesChurn => after_sales_churn(facts, p, g),
        Kpi::ComplaintRate => complaint_rate(facts, p, g),
        Kpi::ComplaintResolution => complaint_resolution(facts, p, g),
        Kpi::CallbackRatio => callbacks(facts, p, g, false),
        Kpi::CallbackSuccess => callbacks(facts, p, g, true),
        Kpi::ReturnToService => return_to_service(facts, p, g),
        Kpi::ValidInfoRatio => valid_info_ratio(facts, p, g),
        Kpi::Csi => satisfaction(facts, p, g, SurveyKind::Service),
        Kpi::Ssi => satisfaction(facts, p, g, SurveyKind::Sales),
        Kpi::CsiImprovement => improvement(facts, p, g, SurveyKind::Service),
        Kpi::SsiImprovement => improvement(facts, p, g, SurveyKind::Sales),
    }
}

/// Events on days in `P`.
fn events_in(c: &CustomerFacts, p: Period) -> &[Event] {
    c.rollup.events_between(p.from.add_days(-1), p.last())
}

/// **Lead conversion** = won / received.
/// - denominator: leads whose `received` day lies in P;
/// - numerator: those of them with status `Won` whose `status_at` (the day the win was
///   reported) is before `to` — a lead won on D counts, one won after the period does not; a
///   `Won` lead without `status_at` counts (its date is unknown; the status is all there is);
/// - attribution: the lead's dealer, else the customer's home dealer on the receipt day;
///   model: the lead's model of interest.
fn lead_conversion<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    for c in &facts.customers {
        for (_, l) in &c.leads {
            let day = l.received.date();
            if !p.contains(day) {
                continue;
            }
            let won = l.status == LeadStatus::Won && l.status_at.is_none_or(|t| t.date() < p.to);
            g.tally(
                || l.dealer.or_else(|| c.home_dealer(day)),
                Models::Named(&l.model),
                won,
            );
        }
    }
}

/// **Repurchase rate** = owners who bought again / owners.
/// - denominator: customers owning at least one vehicle on `from − 1` (C-card on the eve of P);
/// - numerator: those of them who acquired, on a day in P, a vehicle they had never owned
///   before (new or used; a buy-back of a car they owned earlier does not count);
/// - attribution (anchor `from − 1`): home dealer and models owned on the eve of P.
fn repurchase<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let eve = p.from.add_days(-1);
    for c in &facts.customers {
        if c.vehicles_on(eve).next().is_none() {
            continue;
        }
        let again = c.vehicles.iter().any(|v| p.contains(v.acquired()));
        g.tally(|| c.home_dealer(eve), Models::OwnedOn(c, eve), again);
    }
}

/// **Referral rate** = owners who referred someone / owners.
/// - denominator: customers owning a vehicle on D (C-card);
/// - numerator: those of them with at least one touchpoint of kind `Referral` on a day in P;
/// - attribution (anchor D): home dealer and models owned on D.
///
/// Referral touchpoints, not referred-by relations: relations carry no date (so cannot be
/// counted per period) and no dealer, and the snapshot does not load them.
fn referral<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let d = p.last();
    for c in &facts.customers {
        if c.vehicles_on(d).next().is_none() {
            continue;
        }
        let referred = events_in(c, p)
            .iter()
            .any(|e| e.kind == TouchpointKind::Referral);
        g.tally(|| c.home_dealer(d), Models::OwnedOn(c, d), referred);
    }
}

/// **Retention** = last year's service customers who came back this year / last year's.
/// - "this year" = (D − 365, D], "last year" = (D − 730, D − 365] (DOMAIN.md §5 windows: a
///   visit exactly 365 days before D belongs to last year);
/// - denominator: customers with at least one service visit (any service kind, any dealer)
///   last year; numerator: those of them with one this year, at any dealer of the network
///   (seed 001: 上年有效客户持续进站数 / 上年有效客户总量). Vehicle ownership is not looked at;
/// - attribution (anchor D − 365, the end of last year): home dealer — the dealer of the
///   latest visit of last year — and models owned then.
fn retention<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let d = p.last();
    let year_ago = d.add_days(-RETENTION_YEAR_DAYS);
    let two_years_ago = year_ago.add_days(-RETENTION_YEAR_DAYS);
    for c in &facts.customers {
        if c.rollup.service_visits_between(two_years_ago, year_ago) == 0 {
            continue;
        }
        let kept = c.rollup.service_visits_between(year_ago, d) > 0;
        g.tally(
            || c.home_dealer(year_ago),
            Models::OwnedOn(c, year_ago),
            kept,
        );
    }
}

/// **After-sales churn rate** = churned valid customers / valid customers, as of D (meant
/// for quarterly periods; seed 001: 统计周期内超过半年未到站的客户数 / 统计周期内有效客户).
/// - denominator, the *valid customers* (有效客户, seed 001: customers with a service record
///   in the year): customers owning a vehicle on D with at least one service visit in
///   (D − 365, D]. Owners who gave up their cars are left out (seed: scrapped cars must not
///   distort the figure);
/// - numerator: those of them whose owner status with a 183-day window
///   ([`builtin::owner_status`] with `window_days: 183, recent_days: 90`) is `churned`, i.e.
///   no visit in (D − 183, D]: a last visit exactly 183 days before D is churned, 182 is not;
/// - attribution (anchor D): home dealer (the dealer of the latest visit) and models owned.
fn after_sales_churn<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let d = p.last();
    let params = OwnerStatusParams {
        window_days: CHURN_WINDOW_DAYS,
        recent_days: 90,
    };
    let year_ago = d.add_days(-365);
    for c in &facts.customers {
        if c.rollup.service_visits_between(year_ago, d) == 0 || builtin::card(c, d) != Card::C {
            continue;
        }
        let churned = builtin::owner_status(c, d, params) == Some(OwnerStatus::Churned);
        g.tally(|| c.home_dealer(d), Models::OwnedOn(c, d), churned);
    }
}

/// **Complaint rate** = complaints / customers served (a rate per served customer, may
/// exceed 1; the numerator is not a subset of the denominator).
/// - numerator: complaints received on a day in P; attribution: the complaint's dealer, else
///   the home dealer on the receipt day; model: the complaint's vehicle, else the models
///   owned on the receipt day;
/// - denominator: distinct customers with a service visit or a purchase touchpoint on a day
///   in P — counted once in each group that served them: the touchpoint's dealer (else the
///   home dealer on its day), the models owned on its day.
fn complaint_rate<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let mut served: Vec<u32> = Vec::new();
    for c in &facts.customers {
        for (_, k) in &c.complaints {
            let day = k.received.date();
            if p.contains(day) {
                g.add(
                    || k.dealer.or_else(|| c.home_dealer(day)),
                    Models::Vehicle(c, k.vehicle, day),
                    |a| a.num += 1.0,
                );
            }
        }
        served.clear();
        for e in events_in(c, p) {
            if matches!(
                e.kind,
                TouchpointKind::ServiceVisit | TouchpointKind::Purchase
            ) {
                g.slots(
                    || e.dealer.or_else(|| c.home_dealer(e.day)),
                    Models::OwnedOn(c, e.day),
                    &mut served,
                );
            }
        }
        g.apply(&served, |a| a.den += 1.0);
    }
}

/// **Complaint resolution within SLA** = complaints handled within SLA / complaints.
/// - denominator: complaints received on a day in P;
/// - numerator: those of them whose first response came at most 24 hours after receipt
///   (exactly 24 h is within; no response is not) **and** that were resolved by the end of
///   P: `resolved` before `to`, or — when no resolution time was recorded — status resolved,
///   called back or closed;
/// - attribution: as the complaint rate's numerator.
fn complaint_resolution<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let end = p.to.at_midnight();
    for c in &facts.customers {
        for (_, k) in &c.complaints {
            let day = k.received.date();
            if !p.contains(day) {
                continue;
            }
            let answered = k
                .first_response
                .is_some_and(|t| t <= k.received.add_seconds(COMPLAINT_RESPONSE_SECONDS));
            let resolved = match k.resolved {
                Some(t) => t < end,
                None => k.status >= ComplaintStatus::Resolved,
            };
            let ok = answered && resolved;
            g.tally(
                || k.dealer.or_else(|| c.home_dealer(day)),
                Models::Vehicle(c, k.vehicle, day),
                ok,
            );
        }
    }
}

/// A purchase callback that falls due.
#[derive(Clone, Copy)]
struct Due {
    day: Date,
    vehicle: VehicleId,
    dealer: Option<DealerId>,
}

/// The due days of the callbacks after a purchase on `day` (DOMAIN.md §8), with the care
/// actions' default offsets (day 3, day 7, one month), so the callbacks counted due here are
/// the ones the care list asked for.
fn due_days(day: Date, p: &crate::care::CareParams) -> [Date; 3] {
    [
        day.add_days(p.callback_day3_days),
        day.add_days(p.callback_day7_days),
        day.add_months(p.callback_month1_months),
    ]
}

use crate::care::purchase_day;

/// **Callback ratio** = made / due, and **callback success** = succeeded / made.
/// - due callbacks, as the care actions of DOMAIN.md §8 schedule them: for every vehicle the
///   customer acquired as its first recorded owner (a new-car sale; a used car gets none),
///   callbacks are due 3 days, 7 days and one month after its purchase day (purchase, invoice
///   or registration date, else acquisition), when the customer still owns the vehicle on the
///   due day. Dues of one customer on the same day are one call (a fleet buying five cars at
///   once gets one day-3 call, not five). Those due on a day in P are counted;
/// - made: a due callback is made when a callback touchpoint of the same customer (any
///   dealer, any channel) falls within [due − 1 day, due + 3 days]. The customer's dues are
///   matched in date order, each callback serving at most one due, a successful one preferred
///   over a failed one in the window, the earliest among equals; callbacks after D still count
///   for a due inside P (the tolerance straddles the period's end);
/// - succeeded: the matched callback's outcome says it reached the customer
///   ([`crate::Touchpoint::succeeded`]);
/// - callback ratio: numerator made dues in P, denominator dues in P; callback success:
///   numerator succeeded dues in P, denominator made dues in P;
/// - attribution: the vehicle's selling dealer (responsible for the callbacks), else the home
///   dealer on the due day; the vehicle's model (the first vehicle, by id, of a same-day set).
fn callbacks<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>, success: bool) {
    let care = crate::care::CareParams::default();
    // The first recorded acquisition of every vehicle that changed hands: only such vehicles
    // appear with a closed ownership period, and their first owner always has one. Any other
    // vehicle has a single owner, its first.
    let mut first_owned: HashMap<VehicleId, Date> = HashMap::new();
    for c in &facts.customers {
        for v in &c.vehicles {
            if v.periods.iter().any(|q| q.1.is_some()) {
                let a = v.acquired();
                first_owned
                    .entry(v.id)
                    .and_modify(|d| *d = (*d).min(a))
                    .or_insert(a);
            }
        }
    }
    let mut dues: Vec<Due> = Vec::new();
    let mut calls: Vec<(Date, bool)> = Vec::new();
    let mut used: Vec<bool> = Vec::new();
    for c in &facts.customers {
        dues.clear();
        for v in &c.vehicles {
            let acquired = v.acquired();
            let first = first_owned.get(&v.id).copied().unwrap_or(acquired);
            if acquired != first {
                continue;
            }
            for day in due_days(purchase_day(v, first), &care) {
                if day < p.to && v.owned_on(day) {
                    dues.push(Due {
                        day,
                        vehicle: v.id,
                        dealer: v.vehicle.selling_dealer,
                    });
                }
            }
        }
        if !dues.iter().any(|d| p.contains(d.day)) {
            continue;
        }
        dues.sort_by_key(|d| (d.day, d.vehicle));
        dues.dedup_by_key(|d| d.day);
        calls.clear();
        calls.extend(
            c.rollup
                .events
                .iter()
                .filter(|e| e.kind == TouchpointKind::Callback)
                .map(|e| (e.day, e.succeeded)),
        );
        used.clear();
        used.resize(calls.len(), false);
        for due in &dues {
            let (lo, hi) = (
                due.day.add_days(-CALLBACK_EARLY_DAYS),
                due.day.add_days(CALLBACK_LATE_DAYS),
            );
            let mut pick: Option<usize> = None;
            for (j, &(day, ok)) in calls.iter().enumerate() {
                if day > hi {
                    break;
                }
                if day < lo || used[j] {
                    continue;
                }
                if ok {
                    pick = Some(j);
                    break;
                }
                pick = pick.or(Some(j));
            }
            if let Some(j) = pick {
                used[j] = true;
            }
            if !p.contains(due.day) {
                continue;
            }
            let made = pick.is_some();
            let succeeded = pick.is_some_and(|j| calls[j].1);
            let (num, counted) = if success {
                (succeeded, made)
            } else {
                (made, true)
            };
            if counted {
                g.tally(
                    || due.dealer.or_else(|| c.home_dealer(due.day)),
                    Models::Vehicle(c, Some(due.vehicle), due.day),
                    num,
                );
            }
        }
    }
}

/// **Sales-customer return-to-service rate** = buyers who came back to their selling dealer
/// for service / buyers (seed 001 销售客户回站率: 销售客户回站量 / 销售客户总量).
/// - cohort (denominator): customers with a purchase touchpoint on a day in the 12 months
///   before P, `[from − 12 months, from)`; each customer once, by his first purchase there;
/// - numerator: those of them with a service visit at the purchase's dealer on a day after
///   the purchase day and on or before D (the return window runs to the end of P). The
///   purchase's dealer is the touchpoint's, else the selling dealer of a vehicle the customer
///   acquired that day; when neither is known, a visit at any dealer counts;
/// - attribution: the purchase's dealer; models of the vehicles acquired on the purchase day.
fn return_to_service<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let d = p.last();
    let cohort = Period {
        from: p.from.add_months(-12),
        to: p.from,
    };
    for c in &facts.customers {
        let Some(buy) = events_in(c, cohort)
            .iter()
            .find(|e| e.kind == TouchpointKind::Purchase)
        else {
            continue;
        };
        let dealer = buy.dealer.or_else(|| {
            c.vehicles
                .iter()
                .find(|v| v.periods.iter().any(|q| q.0 == buy.day))
                .and_then(|v| v.vehicle.selling_dealer)
        });
        let back = c.rollup.events_between(buy.day, d).iter().any(|e| {
            e.kind == TouchpointKind::ServiceVisit && (dealer.is_none() || e.dealer == dealer)
        });
        g.tally(|| dealer, Models::AcquiredOn(c, buy.day), back);
    }
}

/// **Valid customer information ratio** = customers sold with complete, valid basic fields /
/// customers sold (seed 001 有效客户信息比率, cumulative).
/// - denominator: customers who had acquired a vehicle on or before D (every customer sold
///   so far, whether or not they still own it);
/// - numerator: those of them whose basic fields are complete and valid
///   ([`Customer::missing_basic_fields`] is empty; for a customer erased on request, as they
///   were at the erasure: [`crate::CustomerFacts::valid_info`]);
/// - attribution (anchor D): home dealer and models owned on D (else before).
fn valid_info_ratio<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>) {
    let d = p.last();
    for c in &facts.customers {
        if c.first_vehicle().is_none_or(|f| f > d) {
            continue;
        }
        let valid = c.valid_info;
        g.tally(|| c.home_dealer(d), Models::OwnedOn(c, d), valid);
    }
}

/// **CSI / SSI** = mean weighted index of the surveys of that kind answered in P.
/// - numerator: the sum of [`crate::Survey::weighted_index`] (0–100) over surveys of the kind
///   dated in P; denominator: their number; surveys without any scored item are skipped;
/// - attribution: the survey's dealer, else the home dealer on the survey day; models owned
///   on the survey day.
fn satisfaction<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>, kind: SurveyKind) {
    for c in &facts.customers {
        for (_, s) in &c.surveys {
            if s.kind != kind || !p.contains(s.date) {
                continue;
            }
            let Some(ix) = s.weighted_index() else {
                continue;
            };
            g.add(
                || s.dealer.or_else(|| c.home_dealer(s.date)),
                Models::OwnedOn(c, s.date),
                |a| {
                    a.num += ix;
                    a.den += 1.0;
                },
            );
        }
    }
}

/// **CSI / SSI half-year improvement** = mean index of P's second half / of its first half
/// (seed 001 调查得分改善度: 下半年得分 / 上半年得分; give a calendar year as P).
/// - the halves are [`Period::halves`] (a year splits on 1 July);
/// - numerator: the second half's mean index, denominator: the first half's (0 when a half
///   has no survey, and then no value); value 1.05 means 5 % better;
/// - surveys and attribution as for CSI / SSI.
fn improvement<'a>(facts: &'a Facts, p: Period, g: &mut Grouper<'a>, kind: SurveyKind) {
    let (h1, h2) = p.halves();
    for c in &facts.customers {
        for (_, s) in &c.surveys {
            if s.kind != kind || !p.contains(s.date) {
                continue;
            }
            let Some(ix) = s.weighted_index() else {
                continue;
            };
            let second = h2.contains(s.date);
            debug_assert!(second || h1.contains(s.date));
            g.add(
                || s.dealer.or_else(|| c.home_dealer(s.date)),
                Models::OwnedOn(c, s.date),
                |a| {
                    if second {
                        a.num += ix;
                        a.den += 1.0;
                    } else {
                        a.num2 += ix;
                        a.den2 += 1.0;
                    }
                },
            );
        }
    }
}
