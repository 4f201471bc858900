//! Analytics under a scope — segment members and KPIs over the facts the scope sees — and the
//! period names every front end accepts. Web back ends (the Node binding's dealer portal) show
//! a dealer its own figures; these keep the filtering in core instead of each binding pairing
//! [`ScopedStore::facts`] with the unscoped evaluator itself.

use crate::access::Permission;
use crate::audit::AuditAction;
use crate::date::Date;
use crate::error::{Result, Rule, ValidationError};
use crate::kpi::{Dimension, Kpi, KpiRow, Period};
use crate::segment::CustomerSet;

use super::ScopedStore;

impl ScopedStore {
    /// Members of segment rule `rule` (text, `docs/rules.md`) as of `as_of`, over the facts
    /// this scope sees ([`ScopedStore::facts`]); saved segments the rule names are evaluated
    /// over the same facts. Needs `analytics`; audited as an export.
    pub fn evaluate(&self, rule: &str, as_of: Date) -> Result<CustomerSet> {
        self.access()
            .require(Permission::Analytics, || "evaluate a segment".into())?;
        self.read(AuditAction::Export, "evaluate", |r, a| {
            let facts = a.facts(r.facts()?);
            Ok((r.evaluate(rule, as_of, &facts)?, vec![]))
        })
    }

    /// KPI `which` by `by` for `period` over the facts this scope sees (a dealer: its own
    /// customers and records). Needs `analytics`; audited as an export.
    pub fn kpi(&self, which: Kpi, by: Dimension, period: Period) -> Result<Vec<KpiRow>> {
        self.access()
            .require(Permission::Analytics, || "compute a KPI".into())?;
        self.read(AuditAction::Export, "kpi", |r, a| {
            let facts = a.facts(r.facts()?);
            Ok((facts.kpi(which, by, period), vec![]))
        })
    }
}

/// The period named `text`: a year `"2025"`, a half `"2025-H1"`, a quarter `"2025-Q3"` or a
/// month `"2025-07"`; anything else is `validation.not_allowed` on field `period`.
pub fn parse_period(text: &str) -> std::result::Result<Period, ValidationError> {
    let bad = || {
        ValidationError::new(
            "period",
            Rule::NotAllowed,
            format!("{text:?} (use 2025, 2025-H1, 2025-Q3 or 2025-07)"),
        )
    };
    let t = text.trim();
    let (year, rest) = match t.split_once('-') {
        Some((y, r)) => (y, Some(r)),
        None => (t, None),
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let p = match rest {
        None => Period::year(year),
        Some(r) if r.starts_with(['H', 'h']) => number(&r[1..]).and_then(|h| Period::half(year, h)),
        Some(r) if r.starts_with(['Q', 'q']) => {
            number(&r[1..]).and_then(|q| Period::quarter(year, q))
        }
        Some(r) => number(r).and_then(|m| Period::month(year, m)),
    };
    p.ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_by_their_names() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let m = parse_period("2025-07").unwrap();
        assert_eq!((m.from, m.to), (d("2025-07-01"), d("2025-08-01")));
        let q = parse_period("2025-Q3").unwrap();
        assert_eq!((q.from, q.to), (d("2025-07-01"), d("2025-10-01")));
        let h = parse_period("2025-H2").unwrap();
        assert_eq!((h.from, h.to), (d("2025-07-01"), d("2026-01-01")));
        assert_eq!(parse_period("2025").unwrap().to, d("2026-01-01"));
        for bad in ["", "25", "2025-13", "2025-Q5", "2025-H3", "x2025", "2025-"] {
            let e = parse_period(bad).unwrap_err();
            assert_eq!((e.field, e.rule), ("period", Rule::NotAllowed), "{bad}");
        }
    }
}
