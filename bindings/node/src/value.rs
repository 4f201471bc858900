//! The values the native module hands to JavaScript: one small tree ([`V`]) that both the
//! synchronous methods and the pool threads of async work build (it is `Send`; napi values are
//! not), converted to JS on the JS thread — plain objects, arrays, `Date`s and `Buffer`s.

use std::ptr;

use napi::bindgen_prelude::{Buffer, Null, ToNapiValue, TypeName, ValueType};
use napi::{check_status, sys};

/// A JavaScript value, built off the JS thread.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (ids fit: they stay below 2^53).
    Num(f64),
    /// A string.
    Str(String),
    /// A `Date` at this many milliseconds since the epoch.
    Date(f64),
    /// An array.
    Arr(Vec<V>),
    /// A plain object, keys in order; each key ends in a NUL (the C string N-API reads):
    /// build it with [`obj!`](crate::obj).
    Obj(Vec<(&'static str, V)>),
    /// A plain object with keys known only at run time.
    Map(Vec<(String, V)>),
    /// A `Buffer` (Arrow IPC streams).
    Buf(Vec<u8>),
}

impl TypeName for V {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for V {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY (every arm): `env` is the valid env napi passes to this conversion.
        unsafe {
            match val {
                V::Null => Null::to_napi_value(env, Null),
                V::Bool(b) => bool::to_napi_value(env, b),
                V::Num(n) => f64::to_napi_value(env, n),
                V::Str(s) => String::to_napi_value(env, s),
                V::Date(ms) => {
                    let mut out = ptr::null_mut();
                    check_status!(sys::napi_create_date(env, ms, &mut out))?;
                    Ok(out)
                }
                V::Arr(items) => Vec::<V>::to_napi_value(env, items),
                V::Obj(fields) => {
                    // One napi_define_properties call per object, keys passed as C strings:
                    // a third of the N-API calls of creating each key and setting it (the 360
                    // view builds hundreds of properties).
                    let mut obj = ptr::null_mut();
                    check_status!(sys::napi_create_object(env, &mut obj))?;
                    let mut descriptors = Vec::with_capacity(fields.len());
                    for (k, v) in fields {
                        debug_assert!(k.ends_with('\0'), "obj! keys are NUL-terminated");
                        descriptors.push(sys::napi_property_descriptor {
                            utf8name: k.as_ptr().cast(),
                            name: ptr::null_mut(),
                            method: None,
                            getter: None,
                            setter: None,
                            value: V::to_napi_value(env, v)?,
                            attributes: JS_PROPERTY,
                            data: ptr::null_mut(),
                        });
                    }
                    check_status!(sys::napi_define_properties(
                        env,
                        obj,
                        descriptors.len(),
                        descriptors.as_ptr()
                    ))?;
                    Ok(obj)
                }
                V::Map(fields) => {
                    let mut obj = ptr::null_mut();
                    check_status!(sys::napi_create_object(env, &mut obj))?;
                    for (k, v) in fields {
                        let key = String::to_napi_value(env, k)?;
                        let value = V::to_napi_value(env, v)?;
                        check_status!(sys::napi_set_property(env, obj, key, value))?;
                    }
                    Ok(obj)
                }
                V::Buf(b) => Buffer::to_napi_value(env, Buffer::from(b)),
            }
        }
    }
}

/// Writable, enumerable and configurable: a property as an object literal makes it.
const JS_PROPERTY: sys::napi_property_attributes = 1 | 2 | 4;

/// Conversion of a core value into a [`V`].
pub trait ToV {
    /// The JavaScript value.
    fn to_v(&self) -> V;
}

impl<T: ToV> ToV for Option<T> {
    fn to_v(&self) -> V {
        self.as_ref().map_or(V::Null, ToV::to_v)
    }
}

impl<T: ToV> ToV for Vec<T> {
    fn to_v(&self) -> V {
        V::Arr(self.iter().map(ToV::to_v).collect())
    }
}

impl<T: ToV> ToV for [T] {
    fn to_v(&self) -> V {
        V::Arr(self.iter().map(ToV::to_v).collect())
    }
}

impl ToV for String {
    fn to_v(&self) -> V {
        V::Str(self.clone())
    }
}

impl ToV for &str {
    fn to_v(&self) -> V {
        V::Str((*self).to_string())
    }
}

impl ToV for bool {
    fn to_v(&self) -> V {
        V::Bool(*self)
    }
}

macro_rules! num_to_v {
    ($($t:ty),*) => {$(
        impl ToV for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn to_v(&self) -> V {
                V::Num(*self as f64)
            }
        }
    )*};
}
num_to_v!(u8, u16, u32, u64, i32, i64, usize, f64);

/// Builds a [`V::Obj`]: `obj! { "name" => value.to_v(), … }`.
#[macro_export]
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => {
        $crate::value::V::Obj(vec![$((concat!($k, "\0"), $v)),*])
    };
}

/// A value handed to JavaScript as JSON text, decoded by `index.js` (`fromJson`): the large
/// read results (the 360 view, timeline pages) where one `JSON.parse` in V8 costs a fraction
/// of creating each property through N-API. The text is `[value, dates]`: each `Date` is
/// written as `0` in `value` and listed in `dates` as `[...path, milliseconds]` (object keys
/// and array indexes from the root), so the JS side restores them without knowing the shape.
/// A value JSON cannot carry exactly (a non-finite number, a `Buffer`) goes as the [`V`].
pub enum Json {
    /// The JSON text.
    Text(String),
    /// The value itself (JSON cannot carry it).
    Value(V),
}

impl Json {
    /// `v` as JSON text when JSON carries it exactly.
    pub fn of(v: V) -> Json {
        let mut w = JsonWriter {
            out: String::with_capacity(8192),
            dates: String::new(),
            path: Vec::new(),
        };
        w.out.push('[');
        if w.value(&v) {
            w.out.push_str(",[");
            w.out.push_str(&w.dates);
            w.out.push_str("]]");
            Json::Text(w.out)
        } else {
            Json::Value(v)
        }
    }
}

impl TypeName for Json {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: `env` is the valid env napi passes to this conversion.
        unsafe {
            match val {
                Json::Text(s) => {
                    // ASCII only (see `string`): Latin-1 is the same bytes, copied as is.
                    let mut out = ptr::null_mut();
                    check_status!(sys::napi_create_string_latin1(
                        env,
                        s.as_ptr().cast(),
                        s.len() as isize,
                        &mut out
                    ))?;
                    Ok(out)
                }
                Json::Value(v) => V::to_napi_value(env, v),
            }
        }
    }
}

/// One step from the root to a value: an object key or an array index.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

struct JsonWriter<'a> {
    out: String,
    dates: String,
    path: Vec<Step<'a>>,
}

impl<'a> JsonWriter<'a> {
    /// Writes `v`; `false` if JSON cannot carry it.
    fn value(&mut self, v: &'a V) -> bool {
        match v {
            V::Null => self.out.push_str("null"),
            V::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            V::Num(n) => return number(&mut self.out, *n),
            V::Str(s) => string(&mut self.out, s),
            V::Date(ms) => {
                if !ms.is_finite() {
                    return false;
                }
                self.out.push('0');
                if !self.dates.is_empty() {
                    self.dates.push(',');
                }
                self.dates.push('[');
                for step in &self.path {
                    match step {
                        Step::Key(k) => string(&mut self.dates, k),
                        #[allow(clippy::cast_possible_wrap)]
                        Step::Index(i) => integer(&mut self.dates, *i as i64),
                    }
                    self.dates.push(',');
                }
                number(&mut self.dates, *ms);
                self.dates.push(']');
            }
            V::Arr(items) => {
                self.out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.path.push(Step::Index(i));
                    let ok = self.value(x);
                    self.path.pop();
                    if !ok {
                        return false;
                    }
                }
                self.out.push(']');
            }
            V::Obj(fields) => {
                self.out.push('{');
                for (i, (k, x)) in fields.iter().enumerate() {
                    let k = k.strip_suffix('\0').unwrap_or(k);
                    if !self.field(i, k, x) {
                        return false;
                    }
                }
                self.out.push('}');
            }
            V::Map(fields) => {
                self.out.push('{');
                for (i, (k, x)) in fields.iter().enumerate() {
                    if !self.field(i, k, x) {
                        return false;
                    }
                }
                self.out.push('}');
            }
            V::Buf(_) => return false,
        }
        true
    }

    fn field(&mut self, i: usize, k: &'a str, x: &'a V) -> bool {
        if i > 0 {
            self.out.push(',');
        }
        string(&mut self.out, k);
        self.out.push(':');
        self.path.push(Step::Key(k));
        let ok = self.value(x);
        self.path.pop();
        ok
    }
}

/// A finite number as JSON (`JSON.parse` reads back the same double); `false` otherwise.
fn number(out: &mut String, n: f64) -> bool {
    if !n.is_finite() {
        return false;
    }
    // Integers (ids, counts, milliseconds) without a fraction; the rest in Rust's shortest
    // representation that reads back as the same double.
    #[allow(clippy::cast_possible_truncation)]
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 && !(n == 0.0 && n.is_sign_negative())
    {
        integer(out, n as i64);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{n}");
    }
    true
}

fn integer(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut m = n.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        #[allow(clippy::cast_possible_truncation)]
        {
            buf[i] = b'0' + (m % 10) as u8;
        }
        m /= 10;
        if m == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// A string as a JSON string literal in ASCII: quotes, backslashes, control characters and
/// every non-ASCII character escaped (`\uXXXX`, UTF-16), so the whole text is created as a
/// one-byte string (a copy, no UTF-8 decoding) that `JSON.parse` reads fastest.
fn string(out: &mut String, s: &str) {
    fn unit(out: &mut String, u: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push_str("\\u");
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((u >> shift) & 0xf)]));
        }
    }
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let plain = c.is_ascii() && c >= ' ' && c != '"' && c != '\\';
        if plain {
            continue;
        }
        out.push_str(&s[start..i]);
        start = i + c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    unit(out, *u);
                }
            }
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}
