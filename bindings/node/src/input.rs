//! Arguments from JavaScript: records arrive as plain objects (camelCase keys; `index.js` has
//! already turned `Date`s into ISO strings of their UTC fields) and are read here field by
//! field into core values. No domain rule lives here: a value that converts is handed to core,
//! which validates it. An unknown key is a `TypeError`, as a misspelt field should be.

use autocrm::loyalty::Wallet;
use autocrm::{Date, DateTime, DealerId, Money, Named, SourceRef};
use serde_json::{Map, Value};

use crate::error::{type_error, value_error};

/// A date from `"2024-05-01"` or a date-time string (its date part).
pub fn date(field: &str, v: &Value) -> napi::Result<Date> {
    let s = v
        .as_str()
        .ok_or_else(|| type_error(format!("{field}: expected a Date or an ISO date string")))?;
    if s.len() > 10 {
        return datetime(field, v).map(|d| d.date());
    }
    s.parse()
        .map_err(|e: autocrm::ParseDateError| value_error(format!("{field}: {e}")))
}

/// A naive local date-time from `"2024-05-01T09:30:00"` (or a date: midnight).
pub fn datetime(field: &str, v: &Value) -> napi::Result<DateTime> {
    let s = v.as_str().ok_or_else(|| {
        type_error(format!(
            "{field}: expected a Date or an ISO date-time string"
        ))
    })?;
    // `Date.toISOString()` adds milliseconds and a `Z`; core's times are whole seconds.
    let s = s.trim_end_matches('Z');
    let s = match s.find('.') {
        Some(i) if i > 10 => &s[..i],
        _ => s,
    };
    s.parse()
        .map_err(|e: autocrm::ParseDateError| value_error(format!("{field}: {e}")))
}

/// Money in yuan: a number with at most two decimals, or a decimal string `"199.90"`.
pub fn money(field: &str, v: &Value) -> napi::Result<Money> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => {
            return Err(type_error(format!(
                "{field}: expected yuan as a number or string"
            )))
        }
    };
    let bad = || {
        value_error(format!(
            "{field}: {text:?} is not an amount in yuan with at most 2 decimals"
        ))
    };
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let fen = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    Ok(Money(if neg { -fen } else { fen }))
}

/// An enumeration value by its snake_case name.
pub fn named<T: Named>(field: &str, v: &Value) -> napi::Result<T> {
    let s = v
        .as_str()
        .ok_or_else(|| type_error(format!("{field}: expected a string")))?;
    T::from_name(s).ok_or_else(|| {
        value_error(format!(
            "{field}: unknown {} {s:?} (use one of {})",
            T::WHAT,
            T::names().join(", ")
        ))
    })
}

/// An unsigned integer (an id, a count).
pub fn uint(field: &str, v: &Value) -> napi::Result<u64> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        })
        .ok_or_else(|| type_error(format!("{field}: expected a non-negative integer")))
}

/// A signed integer (points).
pub fn int(field: &str, v: &Value) -> napi::Result<i64> {
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| type_error(format!("{field}: expected an integer")))
}

/// A string.
pub fn string(field: &str, v: &Value) -> napi::Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| type_error(format!("{field}: expected a string")))
}

/// A boolean.
pub fn boolean(field: &str, v: &Value) -> napi::Result<bool> {
    v.as_bool()
        .ok_or_else(|| type_error(format!("{field}: expected a boolean")))
}

/// A wallet: `"brand"` or a dealer id.
pub fn wallet(field: &str, v: &Value) -> napi::Result<Wallet> {
    match v {
        Value::String(s) if s == "brand" => Ok(Wallet::Brand),
        Value::Number(_) => Ok(Wallet::Dealer(DealerId(
            u32::try_from(uint(field, v)?)
                .map_err(|_| value_error(format!("{field}: dealer id out of range")))?,
        ))),
        _ => Err(type_error(format!(
            "{field}: expected \"brand\" or a dealer id"
        ))),
    }
}

/// A source reference: `[system, recordId]` or `{ system, recordId }`.
pub fn source(field: &str, v: &Value) -> napi::Result<SourceRef> {
    let (system, record_id) = match v {
        Value::Array(a) if a.len() == 2 => (
            string(&format!("{field}[0]"), &a[0])?,
            string(&format!("{field}[1]"), &a[1])?,
        ),
        Value::Object(o) => (
            string(
                &format!("{field}.system"),
                o.get("system").unwrap_or(&Value::Null),
            )?,
            string(
                &format!("{field}.recordId"),
                o.get("recordId").unwrap_or(&Value::Null),
            )?,
        ),
        _ => return Err(type_error(format!("{field}: expected [system, recordId]"))),
    };
    Ok(SourceRef { system, record_id })
}

/// A record: a plain object whose keys are read once each; [`Rec::done`] refuses the rest.
pub struct Rec {
    what: &'static str,
    map: Map<String, Value>,
}

impl Rec {
    /// The object `v` (`undefined`/`null`: an empty record).
    pub fn new(what: &'static str, v: Option<Value>) -> napi::Result<Rec> {
        match v {
            None | Some(Value::Null) => Ok(Rec {
                what,
                map: Map::new(),
            }),
            Some(Value::Object(map)) => Ok(Rec { what, map }),
            Some(_) => Err(type_error(format!("{what}: expected an object"))),
        }
    }

    /// Takes key `k` if given and not null.
    pub fn take(&mut self, k: &str) -> Option<Value> {
        self.map.remove(k).filter(|v| !v.is_null())
    }

    /// Key `k`, which must be given.
    pub fn need(&mut self, k: &str) -> napi::Result<Value> {
        self.take(k)
            .ok_or_else(|| type_error(format!("{}: missing required field {k}", self.what)))
    }

    /// Optional field converted by `f`.
    pub fn opt<T>(
        &mut self,
        k: &str,
        f: impl Fn(&str, &Value) -> napi::Result<T>,
    ) -> napi::Result<Option<T>> {
        self.take(k).map(|v| f(k, &v)).transpose()
    }

    /// A field where `null` means something (e.g. "no mileage rule"): `None` when absent,
    /// `Some(None)` when null, `Some(Some(x))` when given.
    pub fn nullable<T>(
        &mut self,
        k: &str,
        f: impl Fn(&str, &Value) -> napi::Result<T>,
    ) -> napi::Result<Option<Option<T>>> {
        match self.map.remove(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => f(k, &v).map(|x| Some(Some(x))),
        }
    }

    /// Required field converted by `f`.
    pub fn req<T>(
        &mut self,
        k: &str,
        f: impl Fn(&str, &Value) -> napi::Result<T>,
    ) -> napi::Result<T> {
        let v = self.need(k)?;
        f(k, &v)
    }

    /// A list of strings (missing: empty).
    pub fn strings(&mut self, k: &str) -> napi::Result<Vec<String>> {
        match self.take(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(|v| string(k, v)).collect(),
            Some(_) => Err(type_error(format!("{k}: expected an array of strings"))),
        }
    }

    /// A source reference: `[system, recordId]` or `{ system, recordId }`.
    pub fn source(&mut self) -> napi::Result<Option<SourceRef>> {
        self.opt("source", source)
    }

    /// Refuses keys not read.
    pub fn done(self) -> napi::Result<()> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => Err(type_error(format!("{}: unknown field {k}", self.what))),
        }
    }
}
