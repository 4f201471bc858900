//! Attribution of records and customers to the groups of a dimension, and per-group sums.
//!
//! Groups are dense slots (`u32`) into a vector of accumulators: dealers, regions and
//! provinces are laid out once from the snapshot's dealers, models are interned on first
//! sight by borrowing the model name from the snapshot. Attributing a record therefore costs a
//! binary search or a hash lookup and never allocates, except the first time a model is met.

use std::collections::{BTreeMap, HashMap};

use super::{Dimension, GroupKey, Kpi, KpiRow, Period};
use crate::analytics::{CustomerFacts, Facts, VehicleFact};
use crate::date::Date;
use crate::ids::{DealerId, VehicleId};

/// Per-group sums. Most KPIs use `num`/`den`; the half-year improvements keep the second half
/// in `num`/`den` and the first half in `num2`/`den2`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Acc {
    pub num: f64,
    pub den: f64,
    pub num2: f64,
    pub den2: f64,
    touched: bool,
}

/// Which vehicle models something is about.
#[derive(Clone, Copy)]
pub(super) enum Models<'a> {
    /// A record's own model (a lead's model of interest).
    Named(&'a str),
    /// The customer's models on a date: every distinct model among the vehicles owned that
    /// day, else among those owned before it, else none.
    OwnedOn(&'a CustomerFacts, Date),
    /// A record's vehicle, when it is one of the customer's; else `OwnedOn` the date.
    Vehicle(&'a CustomerFacts, Option<VehicleId>, Date),
    /// The vehicles the customer acquired on a day (a purchase); else `OwnedOn` that day.
    AcquiredOn(&'a CustomerFacts, Date),
}

pub(super) struct Grouper<'a> {
    by: Dimension,
    facts: &'a Facts,
    keys: Vec<GroupKey>,
    labels: Vec<String>,
    acc: Vec<Acc>,
    /// Slot of each dealer of `facts.dealers` (same index).
    dealer_slot: Vec<u32>,
    model_slot: HashMap<&'a str, u32>,
    unattributed: u32,
    /// Slots below this are reported even when nothing landed in them.
    always: usize,
    scratch: Vec<u32>,
}

impl<'a> Grouper<'a> {
    pub(super) fn new(facts: &'a Facts, by: Dimension) -> Grouper<'a> {
        let mut g = Grouper {
            by,
            facts,
            keys: Vec::new(),
            labels: Vec::new(),
            acc: Vec::new(),
            dealer_slot: Vec::new(),
            model_slot: HashMap::new(),
            unattributed: 0,
            always: 0,
            scratch: Vec::new(),
        };
        match by {
            Dimension::Network => g.push(GroupKey::Network, "network".into()),
            Dimension::Dealer => {
                for (id, d) in &facts.dealers {
                    g.dealer_slot.push(g.keys.len() as u32);
                    g.push(GroupKey::Dealer(*id), d.code.clone());
                }
            }
            Dimension::Region | Dimension::Province => {
                let name = |d: &'a crate::dealer::Dealer| -> &'a str {
                    if by == Dimension::Region {
                        &d.region
                    } else {
                        &d.province
                    }
                };
                let mut names: BTreeMap<&str, u32> = BTreeMap::new();
                for (_, d) in &facts.dealers {
                    names.insert(name(d), 0);
                }
                for (i, (n, slot)) in names.iter_mut().enumerate() {
                    *slot = i as u32;
                    let key = if by == Dimension::Region {
                        GroupKey::Region(n.to_string())
                    } else {
                        GroupKey::Province(n.to_string())
                    };
                    g.push(key, n.to_string());
                }
                g.dealer_slot = facts.dealers.iter().map(|(_, d)| names[name(d)]).collect();
            }
            Dimension::Model => {}
        }
        g.always = g.keys.len();
        g.unattributed = g.keys.len() as u32;
        g.push(GroupKey::Unattributed, "(unattributed)".into());
        g
    }

    fn push(&mut self, key: GroupKey, label: String) {
        self.keys.push(key);
        self.labels.push(label);
        self.acc.push(Acc::default());
    }

    fn dealer(&self, id: Option<DealerId>) -> u32 {
        id.and_then(|id| self.facts.dealers.binary_search_by_key(&id, |d| d.0).ok())
            .map_or(self.unattributed, |i| self.dealer_slot[i])
    }

    fn model(&mut self, m: &'a str) -> u32 {
        if let Some(&s) = self.model_slot.get(m) {
            return s;
        }
        let s = self.keys.len() as u32;
        self.push(GroupKey::Model(m.to_string()), m.to_string());
        self.model_slot.insert(m, s);
        s
    }

    /// Appends to `out` the slots the thing described by `dealer` and `models` belongs to,
    /// skipping slots already in `out`. `dealer` is only called for the dealer dimensions.
    pub(super) fn slots(
        &mut self,
        dealer: impl FnOnce() -> Option<DealerId>,
        models: Models<'a>,
        out: &mut Vec<u32>,
    ) {
        let mut put = |s: u32| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        match self.by {
            Dimension::Network => put(0),
            Dimension::Dealer | Dimension::Region | Dimension::Province => {
                put(self.dealer(dealer()))
            }
            Dimension::Model => {
                let mut any = false;
                each_model(models, |m| {
                    any = true;
                    put(self.model(m));
                });
                if !any {
                    put(self.unattributed);
                }
            }
        }
    }

    /// Applies `f` to the accumulator of every group the thing belongs to (once each).
    pub(super) fn add(
        &mut self,
        dealer: impl FnOnce() -> Option<DealerId>,
        models: Models<'a>,
        f: impl Fn(&mut Acc),
    ) {
        let mut slots = std::mem::take(&mut self.scratch);
        slots.clear();
        self.slots(dealer, models, &mut slots);
        self.apply(&slots, f);
        self.scratch = slots;
    }

    /// Counts one member of the denominator, and of the numerator if `hit`, in every group
    /// it belongs to: the shape of every "share of customers who…" KPI.
    pub(super) fn tally(
        &mut self,
        dealer: impl FnOnce() -> Option<DealerId>,
        models: Models<'a>,
        hit: bool,
    ) {
        self.add(dealer, models, |a| {
            a.den += 1.0;
            a.num += f64::from(u8::from(hit));
        });
    }

    /// Applies `f` to the accumulators of `slots`.
    pub(super) fn apply(&mut self, slots: &[u32], f: impl Fn(&mut Acc)) {
        for &s in slots {
            let a = &mut self.acc[s as usize];
            a.touched = true;
            f(a);
        }
    }

    pub(super) fn rows(self, kpi: Kpi, period: Period) -> Vec<KpiRow> {
        let mut rows: Vec<KpiRow> = Vec::new();
        for (i, ((key, label), a)) in self
            .keys
            .into_iter()
            .zip(self.labels)
            .zip(self.acc)
            .enumerate()
        {
            if i >= self.always && !a.touched {
                continue;
            }
            let (numerator, denominator, value) = finish(kpi, &a);
            rows.push(KpiRow {
                kpi,
                key,
                label,
                period,
                numerator,
                denominator,
                value,
            });
        }
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        rows
    }
}

/// (numerator, denominator, value) of a group.
fn finish(kpi: Kpi, a: &Acc) -> (f64, f64, Option<f64>) {
    match kpi {
        Kpi::CsiImprovement | Kpi::SsiImprovement => {
            let h2 = (a.den > 0.0).then(|| a.num / a.den);
            let h1 = (a.den2 > 0.0).then(|| a.num2 / a.den2);
            let value = match (h2, h1) {
                (Some(h2), Some(h1)) if h1 > 0.0 => Some(h2 / h1),
                _ => None,
            };
            (h2.unwrap_or(0.0), h1.unwrap_or(0.0), value)
        }
        _ => (a.num, a.den, (a.den > 0.0).then(|| a.num / a.den)),
    }
}

/// Calls `f` with every distinct model `models` stands for.
fn each_model<'a>(models: Models<'a>, mut f: impl FnMut(&'a str)) {
    match models {
        Models::Named(m) => f(m),
        Models::OwnedOn(c, on) => owned_on(c, on, &mut f),
        Models::Vehicle(c, v, on) => match v.and_then(|v| c.vehicles.iter().find(|x| x.id == v)) {
            Some(x) => f(&x.vehicle.model),
            None => owned_on(c, on, &mut f),
        },
        Models::AcquiredOn(c, day) => {
            if !distinct(c, |v| v.periods.iter().any(|p| p.0 == day), &mut f) {
                owned_on(c, day, &mut f);
            }
        }
    }
}

fn owned_on<'a>(c: &'a CustomerFacts, on: Date, f: &mut impl FnMut(&'a str)) {
    if !distinct(c, |v| v.owned_on(on), f) {
        distinct(c, |v| v.acquired() <= on, f);
    }
}

/// Calls `f` once per distinct model among the customer's vehicles matching `keep`; whether
/// any matched. Quadratic in the customer's vehicles, which are a handful: no allocation.
fn distinct<'a>(
    c: &'a CustomerFacts,
    keep: impl Fn(&VehicleFact) -> bool,
    f: &mut impl FnMut(&'a str),
) -> bool {
    let vs = &c.vehicles;
    let mut any = false;
    for (i, v) in vs.iter().enumerate() {
        if !keep(v) {
            continue;
        }
        any = true;
        let model = v.vehicle.model.as_str();
        if !vs[..i].iter().any(|w| w.vehicle.model == model && keep(w)) {
            f(model);
        }
    }
    any
}
