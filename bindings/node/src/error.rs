//! Errors leave the native module as a JS `Error` whose message is a marker and a JSON
//! document: core's [`ErrorReport`] (kind, code, message, field, record, details in camelCase)
//! or a conversion error (`TypeError` / `RangeError`). `index.js` turns it into an
//! `AutocrmError` subclass, a `TypeError` or a `RangeError`: one place maps every error, so
//! the classes and attributes are the same for every method, sync or async.

use autocrm::api::{Detail, ErrorReport};
use serde_json::{json, Map, Value};

/// The prefix of a message `index.js` decodes (a control character no core message has).
pub const MARKER: &str = "\u{1}autocrm:";

/// `snake_case` → `camelCase` (detail names are snake_case in core).
pub fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `camelCase` → `snake_case` (a field name coming back from JS, e.g. an error's `field`).
pub fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A core error as a JS error.
pub fn core(e: &autocrm::Error) -> napi::Error {
    let r = ErrorReport::from(e);
    let mut details = Map::new();
    for (name, d) in &r.details {
        let v = match d {
            Detail::Text(t) => Value::String(t.clone()),
            Detail::Number(n) => json!(n),
        };
        details.insert(camel(name), v);
    }
    let doc = json!({
        "class": r.kind.class_name(),
        "code": r.code,
        "message": r.message,
        "field": r.field.as_deref().map(camel),
        "record": r.record,
        "details": details,
        "hint": e.hint(),
    });
    napi::Error::from_reason(format!("{MARKER}{doc}"))
}

/// A wrong JS type for an argument (`TypeError` in JS).
pub fn type_error(message: impl Into<String>) -> napi::Error {
    let doc = json!({ "class": "TypeError", "message": message.into() });
    napi::Error::from_reason(format!("{MARKER}{doc}"))
}

/// A malformed value: a date, an amount, an enum name (`RangeError` in JS).
pub fn value_error(message: impl Into<String>) -> napi::Error {
    let doc = json!({ "class": "RangeError", "message": message.into() });
    napi::Error::from_reason(format!("{MARKER}{doc}"))
}

/// A panic caught at the boundary: reported as core's `internal` code (a bug in autocrm).
pub fn panicked(payload: &(dyn std::any::Any + Send)) -> napi::Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    let doc = json!({
        "class": "InternalError",
        "code": "internal",
        "message": format!("internal error (a bug in autocrm): {what}"),
        "field": null, "record": null, "details": {},
    });
    napi::Error::from_reason(format!("{MARKER}{doc}"))
}

/// `Result` of core, mapped.
pub trait OrJs<T> {
    /// The value, or the error as a JS error.
    fn js(self) -> napi::Result<T>;
}

impl<T> OrJs<T> for autocrm::Result<T> {
    fn js(self) -> napi::Result<T> {
        self.map_err(|e| core(&e))
    }
}

impl<T> OrJs<T> for Result<T, autocrm::ValidationError> {
    fn js(self) -> napi::Result<T> {
        self.map_err(|e| core(&autocrm::Error::Validation(e)))
    }
}

/// A conversion error of batch record `i` (a `TypeError` / `RangeError`): its message names
/// the record. Core's own errors carry `record` already.
pub fn in_record(i: usize, e: napi::Error) -> napi::Error {
    let reason = e.reason.clone();
    match reason
        .strip_prefix(MARKER)
        .and_then(|doc| serde_json::from_str::<Value>(doc).ok())
    {
        Some(Value::Object(mut doc)) if doc.get("code").is_none() => {
            let m = doc
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            doc.insert("message".into(), Value::String(format!("record {i}: {m}")));
            napi::Error::from_reason(format!("{MARKER}{}", Value::Object(doc)))
        }
        _ => e,
    }
}
