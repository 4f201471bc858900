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
