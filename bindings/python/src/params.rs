//! Configuration given as dicts or keyword arguments: the loyalty club configuration, the care
//! parameters and the complaint escalation parameters. Only shapes are converted here; every
//! key not given takes core's default, and core validates the values.

use autocrm::care::{CareParams, Holiday};
use autocrm::loyalty::{AmountField, Benefits, EarnBasis, EarnRule, TierRule, WalletRule};
use autocrm::segment::builtin::OwnerStatusParams;
use autocrm::{ConsentChannel, Date, EscalationParams, LoyaltyConfig, Money, Tier};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::conv::{Fields, FromPy, Named, ToPy};

/// One earning rule: `{"name", "kind", "wallet" ("brand" | "issuing_dealer", default "brand"),
/// and either "points" (fixed) or "points_per_yuan" with "amount" ("total" | "parts" |
/// "labour", default "total")}`.
struct Rule(EarnRule);

impl FromPy for Rule {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let f = Fields::of(o, "earning rule")?;
        let name = f.req("name")?;
        let kind = f.req("kind")?;
        let wallet = f.or("wallet", WalletRule::Brand)?;
        let points: Option<u32> = f.opt("points")?;
        let per_yuan: Option<u32> = f.opt("points_per_yuan")?;
        let amount: Option<AmountField> = f.opt("amount")?;
        let basis = match (points, per_yuan) {
            (Some(p), None) if amount.is_none() => EarnBasis::Fixed(p),
            (None, Some(points_per_yuan)) => EarnBasis::PerYuan {
                amount: amount.unwrap_or(AmountField::Total),
                points_per_yuan,
            },
            _ => {
                return Err(PyTypeError::new_err(
                    "earning rule: give either \"points\" (fixed) or \"points_per_yuan\" \
                     (with an optional \"amount\"), not both",
                ))
            }
        };
        f.done()?;
        Ok(Rule(EarnRule {
            name,
            kind,
            basis,
            wallet,
        }))
    }
}

/// A tier's thresholds: `{"tier", "min_vehicles", "min_service_visits", "min_total_spend",
/// "min_single_ticket", "min_qualifying_points"}` (unset thresholds: absent or None).
struct Threshold(TierRule);

impl FromPy for Threshold {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let f = Fields::of(o, "tier rule")?;
        let r = TierRule {
            tier: f.req("tier")?,
            min_vehicles: f.opt("min_vehicles")?,
            min_service_visits: f.opt("min_service_visits")?,
            min_total_spend: f.opt("min_total_spend")?,
            min_single_ticket: f.opt("min_single_ticket")?,
            min_qualifying_points: f.opt("min_qualifying_points")?,
        };
        f.done()?;
        Ok(Threshold(r))
    }
}

/// A tier's benefits: `{"labour_discount_pct", "parts_discount_pct", "rescue_discount_pct"
/// (default 0), "priority" (default False)}`.
struct Perks(Benefits);

impl FromPy for Perks {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let f = Fields::of(o, "benefits")?;
        let b = Benefits {
            labour_discount_pct: f.or("labour_discount_pct", 0)?,
            parts_discount_pct: f.or("parts_discount_pct", 0)?,
            rescue_discount_pct: f.or("rescue_discount_pct", 0)?,
            priority: f.or("priority", false)?,
        };
        f.done()?;
        Ok(Perks(b))
    }
}

/// A dict keyed by tier name, e.g. `{"silver": 120, "gold": 150}`, in the dict's order.
struct ByTier<T>(Vec<(Tier, T)>);

impl<T: FromPy> FromPy for ByTier<T> {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let d = o
            .cast::<PyDict>()
            .map_err(|_| PyTypeError::new_err("expected a dict keyed by tier name"))?;
        let mut out = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            out.push((Tier::from_py(&k)?, T::from_py(&v)?));
        }
        Ok(ByTier(out))
    }
}

/// The club configuration from a dict / keyword arguments (see API.md); keys not given take
/// core's default.
pub fn loyalty_config(f: &Fields<'_>) -> PyResult<LoyaltyConfig> {
    let d = LoyaltyConfig::default();
    Ok(LoyaltyConfig {
        rules: match f.opt::<Vec<Rule>>("rules")? {
            Some(v) => v.into_iter().map(|r| r.0).collect(),
            None => d.rules,
        },
        multipliers: match f.opt::<ByTier<u32>>("multipliers")? {
            Some(m) => m.0,
            None => d.multipliers,
        },
        lot_days: f.or("lot_days", d.lot_days)?,
        tiers: match f.opt::<Vec<Threshold>>("tiers")? {
            Some(v) => v.into_iter().map(|t| t.0).collect(),
            None => d.tiers,
        },
        tier_window_days: f.or("tier_window_days", d.tier_window_days)?,
        downgrade_grace_days: f.or("downgrade_grace_days", d.downgrade_grace_days)?,
        benefits: match f.opt::<ByTier<Perks>>("benefits")? {
            Some(b) => b.0.into_iter().map(|(t, p)| (t, p.0)).collect(),
            None => d.benefits,
        },
        settlement_per_100_points: f
            .or("settlement_per_100_points", d.settlement_per_100_points)?,
    })
}

fn set<V: ToPy>(d: &Bound<'_, PyDict>, k: &str, v: V) -> PyResult<()> {
    d.set_item(k, v.to_py(d.py())?)
}

/// The club configuration as a dict in the shape `loyalty_config` reads.
pub fn loyalty_config_dict<'py>(
    py: Python<'py>,
    c: &LoyaltyConfig,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let rules = PyList::empty(py);
    for r in &c.rules {
        let d = PyDict::new(py);
        set(&d, "name", r.name.clone())?;
        set(&d, "kind", r.kind.name())?;
        match r.basis {
            EarnBasis::PerYuan {
                amount,
                points_per_yuan,
            } => {
                set(&d, "points_per_yuan", points_per_yuan)?;
                set(&d, "amount", amount.name())?;
            }
            EarnBasis::Fixed(p) => set(&d, "points", p)?,
        }
        set(&d, "wallet", r.wallet.name())?;
        rules.append(d)?;
    }
    out.set_item("rules", rules)?;
    let m = PyDict::new(py);
    for (t, pct) in &c.multipliers {
        m.set_item(t.name(), pct)?;
    }
    out.set_item("multipliers", m)?;
    set(&out, "lot_days", c.lot_days)?;
    let tiers = PyList::empty(py);
    for t in &c.tiers {
        let d = PyDict::new(py);
        set(&d, "tier", t.tier.name())?;
        set(&d, "min_vehicles", t.min_vehicles)?;
        set(&d, "min_service_visits", t.min_service_visits)?;
        set(&d, "min_total_spend", t.min_total_spend)?;
        set(&d, "min_single_ticket", t.min_single_ticket)?;
        set(&d, "min_qualifying_points", t.min_qualifying_points)?;
        tiers.append(d)?;
    }
    out.set_item("tiers", tiers)?;
    set(&out, "tier_window_days", c.tier_window_days)?;
    set(&out, "downgrade_grace_days", c.downgrade_grace_days)?;
    let b = PyDict::new(py);
    for (t, x) in &c.benefits {
        let d = PyDict::new(py);
        set(&d, "labour_discount_pct", x.labour_discount_pct)?;
        set(&d, "parts_discount_pct", x.parts_discount_pct)?;
        set(&d, "rescue_discount_pct", x.rescue_discount_pct)?;
        set(&d, "priority", x.priority)?;
        b.set_item(t.name(), d)?;
    }
    out.set_item("benefits", b)?;
    set::<Money>(
        &out,
        "settlement_per_100_points",
        c.settlement_per_100_points,
    )?;
    Ok(out)
}

/// A holiday: a tuple `(date, name)`.
struct Day(Holiday);

impl FromPy for Day {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let t = o
            .cast::<PyTuple>()
            .ok()
            .filter(|t| t.len() == 2)
            .ok_or_else(|| PyTypeError::new_err("a holiday is a tuple (date, name)"))?;
        Ok(Day(Holiday {
            date: Date::from_py(&t.get_item(0)?)?,
            name: String::from_py(&t.get_item(1)?)?,
        }))
    }
}

/// The owner-status windows: `{"window_days", "recent_days"}`.
struct Windows(OwnerStatusParams);

impl FromPy for Windows {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let d = OwnerStatusParams::default();
        let f = Fields::of(o, "owner_status")?;
        let w = OwnerStatusParams {
            window_days: f.or("window_days", d.window_days)?,
            recent_days: f.or("recent_days", d.recent_days)?,
        };
        f.done()?;
        Ok(Windows(w))
    }
}

/// Care parameters from keyword arguments named like core's `CareParams` fields; keys not
/// given take core's default. `first_service_km` / `maintenance_km` given as None turn the
/// mileage rule off.
pub fn care_params(f: &Fields<'_>) -> PyResult<CareParams> {
    let d = CareParams::default();
    let chans = |k: &str, def: Vec<ConsentChannel>| f.or(k, def);
    Ok(CareParams {
        callback_day3_days: f.or("callback_day3_days", d.callback_day3_days)?,
        callback_day7_days: f.or("callback_day7_days", d.callback_day7_days)?,
        callback_month1_months: f.or("callback_month1_months", d.callback_month1_months)?,
        first_service_months: f.or("first_service_months", d.first_service_months)?,
        first_service_km: f
            .nullable("first_service_km")?
            .unwrap_or(d.first_service_km),
        maintenance_months: f.or("maintenance_months", d.maintenance_months)?,
        maintenance_km: f.nullable("maintenance_km")?.unwrap_or(d.maintenance_km),
        insurance_lead_days: f.or("insurance_lead_days", d.insurance_lead_days)?,
        inspection_lead_days: f.or("inspection_lead_days", d.inspection_lead_days)?,
        warranty_lead_days: f.or("warranty_lead_days", d.warranty_lead_days)?,
        lead_report_days: f.or("lead_report_days", d.lead_report_days)?,
        complaint_callback_days: f.or("complaint_callback_days", d.complaint_callback_days)?,
        owner_status: f
            .opt::<Windows>("owner_status")?
            .map_or(d.owner_status, |w| w.0),
        holidays: match f.opt::<Vec<Day>>("holidays")? {
            Some(v) => v.into_iter().map(|h| h.0).collect(),
            None => d.holidays,
        },
        birthday_channels: chans("birthday_channels", d.birthday_channels)?,
        holiday_channels: chans("holiday_channels", d.holiday_channels)?,
        win_back_channels: chans("win_back_channels", d.win_back_channels)?,
        insurance_channels: chans("insurance_channels", d.insurance_channels)?,
    })
}

/// Escalation parameters from keyword arguments named like core's `EscalationParams` fields;
/// keys not given take core's default.
pub fn escalation_params(f: &Fields<'_>) -> PyResult<EscalationParams> {
    let d = EscalationParams::default();
    Ok(EscalationParams {
        month_days: f.or("month_days", d.month_days)?,
        month_limit: f.or("month_limit", d.month_limit)?,
        quarter_days: f.or("quarter_days", d.quarter_days)?,
        quarter_limit: f.or("quarter_limit", d.quarter_limit)?,
    })
}
