//! The club configuration from a plain object (core's `LoyaltyConfig` fields in camelCase, as
//! the Python binding reads them in snake_case). Only shapes are converted; a key not given
//! takes core's default, and core validates the values when the configuration is stored. The
//! stored configuration reads back in the same shape; the club's other reads (tier floors and
//! history, benefits, spendable points, settlement) are here too.

use autocrm::loyalty::{
    AmountField, Benefits, EarnBasis, EarnRule, SettlementLine, TierChange, TierRule, WalletRule,
};
use autocrm::{LoyaltyConfig, Tier};
use napi_derive::napi;
use serde_json::Value;

use crate::error::{type_error, OrJs};
use crate::input::{self, date, money, named, string, Rec};
use crate::value::{ToV, V};
use crate::{cid, obj, out, records, written, NativeRead, NativeWrite};

fn small<T: TryFrom<u64>>(f: &str, v: &Value) -> napi::Result<T> {
    T::try_from(input::uint(f, v)?)
        .map_err(|_| crate::error::value_error(format!("{f}: out of range")))
}

fn boolean(f: &str, v: &Value) -> napi::Result<bool> {
    v.as_bool()
        .ok_or_else(|| type_error(format!("{f}: expected a boolean")))
}

fn list<T>(f: &str, v: &Value, one: fn(&Value) -> napi::Result<T>) -> napi::Result<Vec<T>> {
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        _ => Err(type_error(format!("{f}: expected an array"))),
    }
}

fn by_tier<T>(
    f: &str,
    v: &Value,
    one: impl Fn(&str, &Value) -> napi::Result<T>,
) -> napi::Result<Vec<(Tier, T)>> {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| Ok((named(f, &Value::from(k.as_str()))?, one(f, x)?)))
            .collect(),
        _ => Err(type_error(format!(
            "{f}: expected an object keyed by tier name"
        ))),
    }
}

/// An earning rule: `{ name, kind, wallet = "brand", points }` or `{ …, pointsPerYuan,
/// amount = "total" }`.
fn rule(v: &Value) -> napi::Result<EarnRule> {
    let mut r = Rec::new("earning rule", Some(v.clone()))?;
    let name = r.req("name", string)?;
    let kind = r.req("kind", named)?;
    let wallet = r.opt("wallet", named)?.unwrap_or(WalletRule::Brand);
    let points = r.opt("points", small::<u32>)?;
    let per_yuan = r.opt("pointsPerYuan", small::<u32>)?;
    let amount: Option<AmountField> = r.opt("amount", named)?;
    r.done()?;
    let basis = match (points, per_yuan) {
        (Some(p), None) if amount.is_none() => EarnBasis::Fixed(p),
        (None, Some(points_per_yuan)) => EarnBasis::PerYuan {
            amount: amount.unwrap_or(AmountField::Total),
            points_per_yuan,
        },
        _ => {
            return Err(type_error(
                "earning rule: give either points (fixed) or pointsPerYuan (with an optional amount), not both",
            ))
        }
    };
    Ok(EarnRule {
        name,
        kind,
        basis,
        wallet,
    })
}

/// A tier's thresholds: `{ tier, minVehicles, minServiceVisits, minTotalSpend,
/// minSingleTicket, minQualifyingPoints }` (unset: absent or null).
fn tier_rule(v: &Value) -> napi::Result<TierRule> {
    let mut r = Rec::new("tier rule", Some(v.clone()))?;
    let t = TierRule {
        tier: r.req("tier", named)?,
        min_vehicles: r.opt("minVehicles", small::<u32>)?,
        min_service_visits: r.opt("minServiceVisits", small::<u32>)?,
        min_total_spend: r.opt("minTotalSpend", money)?,
        min_single_ticket: r.opt("minSingleTicket", money)?,
        min_qualifying_points: r.opt("minQualifyingPoints", input::int)?,
    };
    r.done()?;
    Ok(t)
}

/// A tier's benefits: `{ labourDiscountPct, partsDiscountPct, rescueDiscountPct = 0,
/// priority = false }`.
fn perks(_: &str, v: &Value) -> napi::Result<Benefits> {
    let mut r = Rec::new("benefits", Some(v.clone()))?;
    let b = Benefits {
        labour_discount_pct: r.opt("labourDiscountPct", small::<u8>)?.unwrap_or(0),
        parts_discount_pct: r.opt("partsDiscountPct", small::<u8>)?.unwrap_or(0),
        rescue_discount_pct: r.opt("rescueDiscountPct", small::<u8>)?.unwrap_or(0),
        priority: r.opt("priority", boolean)?.unwrap_or(false),
    };
    r.done()?;
    Ok(b)
}

/// The club configuration (`undefined`: core's default).
pub fn config(v: Option<Value>) -> napi::Result<LoyaltyConfig> {
    let mut r = Rec::new("loyalty config", v)?;
    let d = LoyaltyConfig::default();
    let c = LoyaltyConfig {
        rules: match r.take("rules") {
            Some(v) => list("rules", &v, rule)?,
            None => d.rules,
        },
        multipliers: match r.take("multipliers") {
            Some(v) => by_tier("multipliers", &v, small::<u32>)?,
            None => d.multipliers,
        },
        lot_days: r.opt("lotDays", small::<u32>)?.unwrap_or(d.lot_days),
        tiers: match r.take("tiers") {
            Some(v) => list("tiers", &v, tier_rule)?,
            None => d.tiers,
        },
        tier_window_days: r
            .opt("tierWindowDays", small::<u32>)?
            .unwrap_or(d.tier_window_days),
        downgrade_grace_days: r
            .opt("downgradeGraceDays", small::<u32>)?
            .unwrap_or(d.downgrade_grace_days),
        benefits: match r.take("benefits") {
            Some(v) => by_tier("benefits", &v, perks)?,
            None => d.benefits,
        },
        settlement_per_100_points: r
            .opt("settlementPer100Points", money)?
            .unwrap_or(d.settlement_per_100_points),
    };
    r.done()?;
    Ok(c)
}

impl ToV for EarnRule {
    fn to_v(&self) -> V {
        let (name, kind, wallet) = (
            self.name.to_v(),
            out::name(self.kind),
            out::name(self.wallet),
        );
        match self.basis {
            EarnBasis::Fixed(points) => obj! {
                "name" => name, "kind" => kind, "wallet" => wallet, "points" => points.to_v(),
            },
            EarnBasis::PerYuan {
                amount,
                points_per_yuan,
            } => obj! {
                "name" => name, "kind" => kind, "wallet" => wallet,
                "pointsPerYuan" => points_per_yuan.to_v(), "amount" => out::name(amount),
            },
        }
    }
}

impl ToV for TierRule {
    fn to_v(&self) -> V {
        obj! {
            "tier" => out::name(self.tier), "minVehicles" => self.min_vehicles.to_v(),
            "minServiceVisits" => self.min_service_visits.to_v(),
            "minTotalSpend" => self.min_total_spend.to_v(),
            "minSingleTicket" => self.min_single_ticket.to_v(),
            "minQualifyingPoints" => self.min_qualifying_points.to_v(),
        }
    }
}

/// The club configuration in the shape [`config`] reads (so it round-trips).
impl ToV for LoyaltyConfig {
    fn to_v(&self) -> V {
        let by_tier = |v: Vec<(String, V)>| V::Map(v);
        obj! {
            "rules" => self.rules.to_v(),
            "multipliers" => by_tier(self.multipliers.iter().map(|(t, m)| (t.name().to_string(), m.to_v())).collect()),
            "lotDays" => self.lot_days.to_v(),
            "tiers" => self.tiers.to_v(),
            "tierWindowDays" => self.tier_window_days.to_v(),
            "downgradeGraceDays" => self.downgrade_grace_days.to_v(),
            "benefits" => by_tier(self.benefits.iter().map(|(t, b)| (t.name().to_string(), b.to_v())).collect()),
            "settlementPer100Points" => self.settlement_per_100_points.to_v(),
        }
    }
}

impl ToV for TierChange {
    fn to_v(&self) -> V {
        obj! {
            "on" => self.on.to_v(), "from" => out::name(self.from), "to" => out::name(self.to),
            "why" => self.why.to_v(),
        }
    }
}

impl ToV for SettlementLine {
    fn to_v(&self) -> V {
        obj! {
            "debtor" => self.debtor.to_v(), "creditor" => self.creditor.to_v(),
            "points" => self.points.to_v(), "amount" => self.amount.to_v(),
        }
    }
}

#[napi]
impl NativeWrite {
    /// Sets an operator's tier floor for a customer: `{ tier, from, until, operator, reason }`
    /// (core checks it and the number of floors).
    #[napi(catch_unwind)]
    pub fn set_tier_floor(&self, customer: f64, floor: Value) -> napi::Result<()> {
        let (c, f) = (cid(customer)?, records::floor(Some(floor))?);
        self.s.with(|t| t.set_tier_floor(c, &f)).js()
    }
}

#[napi]
impl NativeRead {
    /// The stored club configuration (`null` while none is stored), in `setLoyaltyConfig`'s
    /// shape.
    #[napi(catch_unwind)]
    pub fn loyalty_config(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.loyalty_config()))
    }

    /// Points of a wallet (`"brand"` or a dealer id) spendable on `on` (lots not expired).
    #[napi(catch_unwind)]
    pub fn spendable(&self, customer: f64, on: Value, wallet: Option<Value>) -> napi::Result<V> {
        let (c, d) = (cid(customer)?, date("on", &on)?);
        let w = match wallet {
            Some(w) if !w.is_null() => input::wallet("wallet", &w)?,
            _ => autocrm::loyalty::Wallet::Brand,
        };
        written(self.s.with(|r| r.spendable(c, w, d)))
    }

    /// Posting `id`.
    #[napi(catch_unwind)]
    pub fn posting(&self, id: f64) -> napi::Result<V> {
        let id = input::uint("posting", &Value::from(id))?;
        self.s
            .with(|r| r.posting(id).map(|p| out::posting(id, &p)))
            .js()
    }

    /// The customer's recorded tier changes, oldest first.
    #[napi(catch_unwind)]
    pub fn tier_history(&self, customer: f64) -> napi::Result<V> {
        let c = cid(customer)?;
        written(self.s.with(|r| r.tier_history(c).map(|h| h.changes)))
    }

    /// The benefits of the customer's tier on `asOf`.
    #[napi(catch_unwind)]
    pub fn benefits(&self, customer: f64, as_of: Value) -> napi::Result<V> {
        let (c, d) = (cid(customer)?, date("asOf", &as_of)?);
        written(self.s.with(|r| r.benefits(c, d)))
    }

    /// Dealer-to-dealer settlement for redemptions on days `from ≤ d < to`.
    #[napi(catch_unwind)]
    pub fn settlement(&self, from: Value, to: Value) -> napi::Result<V> {
        let (f, t) = (date("from", &from)?, date("to", &to)?);
        written(self.s.with(|r| r.settlement(f, t)))
    }
}
