//! The club configuration from a plain object (core's `LoyaltyConfig` fields in camelCase, as
//! the Python binding reads them in snake_case). Only shapes are converted; a key not given
//! takes core's default, and core validates the values when the configuration is stored.

use autocrm::loyalty::{AmountField, Benefits, EarnBasis, EarnRule, TierRule, WalletRule};
use autocrm::{LoyaltyConfig, Tier};
use serde_json::Value;

use crate::error::type_error;
use crate::input::{self, money, named, string, Rec};

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
