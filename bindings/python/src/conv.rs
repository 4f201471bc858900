//! Conversions between Python values and core values: dates, money, enums, ids, records given
//! as keyword arguments or dicts. No domain rule lives here: a value that converts is handed to
//! core, which validates it.

use autocrm::access::Permission;
use autocrm::care::CareKind;
use autocrm::kpi::{Dimension, Period};
use autocrm::loyalty::{AmountField, Wallet, WalletRule};
use autocrm::{
    Channel, ComplaintStatus, ConsentChannel, Date, DateTime, DealerId, DealerKind, Factor, Gender,
    Intent, Kpi, LeadSource, LifecycleStage, Money, PostingKind, PurchaseType, RelationKind,
    ServiceKind, SourceRef, SurveyKind, Tier, TouchpointKind, Usage,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn date_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATE.import(py, "datetime", "date")
}
fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATETIME.import(py, "datetime", "datetime")
}
fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// A Python value convertible to a core value.
pub trait FromPy: Sized {
    /// Converts `o`; `TypeError` for a wrong type, `ValueError` for a malformed value.
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self>;
}

/// A core value convertible to a Python value.
pub trait ToPy {
    /// The Python value.
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl FromPy for String {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        match o.cast::<PyString>() {
            Ok(s) => Ok(s.extract::<String>()?.to_owned()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "expected str, got {}",
                o.get_type().name()?
            ))),
        }
    }
}

fn int_of<'py>(o: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    if o.is_instance_of::<PyBool>() || !o.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "expected int, got {}",
            o.get_type().name()?
        )));
    }
    Ok(o.cast::<PyInt>()?.clone())
}

macro_rules! int_from_py {
    ($($t:ty),*) => {$(
        impl FromPy for $t {
            fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
                int_of(o)?.extract::<$t>().map_err(|_| {
                    PyValueError::new_err(format!("{} is out of range for this field", o))
                })
            }
        }
    )*};
}
int_from_py!(u8, u32, u64, i32, i64, usize);

impl FromPy for bool {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        match o.cast::<PyBool>() {
            Ok(b) => Ok(b.is_true()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "expected bool, got {}",
                o.get_type().name()?
            ))),
        }
    }
}

impl<T: FromPy> FromPy for Vec<T> {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        if o.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("expected a list, got str"));
        }
        let mut out = Vec::new();
        for item in o.try_iter()? {
            out.push(T::from_py(&item?)?);
        }
        Ok(out)
    }
}

impl<T: FromPy> FromPy for Option<T> {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        if o.is_none() {
            Ok(None)
        } else {
            T::from_py(o).map(Some)
        }
    }
}

macro_rules! id_from_py {
    ($($t:ident: $int:ty),*) => {$(
        impl FromPy for autocrm::$t {
            fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
                <$int>::from_py(o).map(autocrm::$t)
            }
        }
    )*};
}
id_from_py!(CustomerId: u64, VehicleId: u64, TouchpointId: u64, LeadId: u64, ComplaintId: u64, SurveyId: u64, DealerId: u32);

impl FromPy for Date {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = o.py();
        if let Ok(s) = o.cast::<PyString>() {
            let s: String = s.extract()?;
            let s = s.as_str();
            return s
                .parse::<Date>()
                .or_else(|_| s.parse::<DateTime>().map(|t| t.date()))
                .map_err(|_| PyValueError::new_err(format!("{s:?} is not a date (YYYY-MM-DD)")));
        }
        if o.is_instance(date_type(py)?)? {
            let (y, m, d): (i32, u32, u32) = (
                o.getattr("year")?.extract()?,
                o.getattr("month")?.extract()?,
                o.getattr("day")?.extract()?,
            );
            return Date::from_ymd(y, m, d)
                .ok_or_else(|| PyValueError::new_err(format!("{y}-{m}-{d} is out of range")));
        }
        Err(PyTypeError::new_err(format!(
            "expected datetime.date or ISO str, got {}",
            o.get_type().name()?
        )))
    }
}

impl FromPy for DateTime {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = o.py();
        if let Ok(s) = o.cast::<PyString>() {
            let s: String = s.extract()?;
            let s = s.as_str();
            return s.parse::<DateTime>().map_err(|_| {
                PyValueError::new_err(format!("{s:?} is not a date-time (YYYY-MM-DDTHH:MM[:SS])"))
            });
        }
        if o.is_instance(datetime_type(py)?)? {
            let d = Date::from_py(o)?;
            let (h, mi, s): (u32, u32, u32) = (
                o.getattr("hour")?.extract()?,
                o.getattr("minute")?.extract()?,
                o.getattr("second")?.extract()?,
            );
            return Ok(d.at(h, mi, s));
        }
        if o.is_instance(date_type(py)?)? {
            return Ok(Date::from_py(o)?.at_midnight());
        }
        Err(PyTypeError::new_err(format!(
            "expected datetime.datetime, datetime.date or ISO str, got {}",
            o.get_type().name()?
        )))
    }
}

/// Parses `[-]digits[.d[d]]` into fen.
fn parse_yuan(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Trailing zeros beyond the fen are exact ("1.500" = 1.50 yuan).
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return None;
    }
    let yuan: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut fen_part: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        fen_part *= 10;
    }
    let fen = yuan.checked_mul(100)?.checked_add(fen_part)?;
    Some(if neg { -fen } else { fen })
}

impl FromPy for Money {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = o.py();
        if o.is_instance_of::<PyFloat>() {
            return Err(PyTypeError::new_err(
                "money must be exact: pass decimal.Decimal (yuan), int (whole yuan) or str, not float",
            ));
        }
        if o.is_instance_of::<PyInt>() && !o.is_instance_of::<PyBool>() {
            let yuan: i64 = o
                .extract()
                .map_err(|_| PyValueError::new_err(format!("{o} yuan is out of range")))?;
            return yuan
                .checked_mul(100)
                .map(Money)
                .ok_or_else(|| PyValueError::new_err(format!("{o} yuan is out of range")));
        }
        let text: String = if let Ok(s) = o.cast::<PyString>() {
            s.extract::<String>()?.trim().to_owned()
        } else if o.is_instance(decimal_type(py)?)? {
            let f = py.import("builtins")?.getattr("format")?.call1((o, "f"))?;
            f.extract()?
        } else {
            return Err(PyTypeError::new_err(format!(
                "expected decimal.Decimal, int or str for money, got {}",
                o.get_type().name()?
            )));
        };
        parse_yuan(&text).map(Money).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{text:?} is not an amount in yuan with at most 2 decimal places"
            ))
        })
    }
}

impl FromPy for SourceRef {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        let t = o
            .cast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err("source must be a tuple (system, record_id)"))?;
        if t.len() != 2 {
            return Err(PyTypeError::new_err(
                "source must be a tuple (system, record_id)",
            ));
        }
        Ok(SourceRef::new(
            String::from_py(&t.get_item(0)?)?,
            String::from_py(&t.get_item(1)?)?,
        ))
    }
}

impl FromPy for Wallet {
    fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(s) = o.cast::<PyString>() {
            return match s.extract::<String>()?.as_str() {
                "brand" => Ok(Wallet::Brand),
                other => Err(PyValueError::new_err(format!(
                    "wallet {other:?}: use \"brand\" or a dealer id"
                ))),
            };
        }
        Ok(Wallet::Dealer(DealerId::from_py(o)?))
    }
}

impl ToPy for Wallet {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Wallet::Brand => Ok("brand".into_pyobject(py)?.into_any().unbind()),
            Wallet::Dealer(d) => Ok(d.0.into_pyobject(py)?.into_any().unbind()),
        }
    }
}

impl ToPy for Date {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (y, m, d) = self.ymd();
        Ok(date_type(py)?.call1((y, m, d))?.unbind())
    }
}

impl ToPy for DateTime {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (y, m, d) = self.date().ymd();
        let s = self.second_of_day();
        Ok(datetime_type(py)?
            .call1((y, m, d, s / 3600, (s / 60) % 60, s % 60))?
            .unbind())
    }
}

/// The yuan text of `m` with exactly two decimals, e.g. "-12.05".
pub fn yuan_text(m: Money) -> String {
    let f = m.fen();
    let sign = if f < 0 { "-" } else { "" };
    let a = f.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

impl ToPy for Money {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(decimal_type(py)?.call1((yuan_text(*self),))?.unbind())
    }
}

impl<T: ToPy> ToPy for Option<T> {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None()),
        }
    }
}

impl ToPy for SourceRef {
    fn to_py(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok((self.system.as_str(), self.record_id.as_str())
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }
}

/// A list of dates as a Python list.
pub fn dates_to_py(py: Python<'_>, ds: &[Date]) -> PyResult<Py<PyAny>> {
    let l = PyList::empty(py);
    for d in ds {
        l.append(d.to_py(py)?)?;
    }
    Ok(l.into_any().unbind())
}

/// Enumerations and their stable names: core's table, the one place they are spelled.
pub use autocrm::Named;

/// Converts a Python str naming a value of `T`.
pub fn named_from_py<T: Named>(o: &Bound<'_, PyAny>) -> PyResult<T> {
    let s = String::from_py(o)?;
    T::from_name(&s).ok_or_else(|| {
        let names = T::names();
        PyValueError::new_err(format!(
            "unknown {} {s:?}; expected one of: {}",
            T::WHAT,
            names.join(", ")
        ))
    })
}

/// Names of all values of `T`.
pub fn names<T: Named>() -> Vec<&'static str> {
    T::names()
}

macro_rules! named_from_py_impl {
    ($($t:ty),*) => {$(
        impl FromPy for $t {
            fn from_py(o: &Bound<'_, PyAny>) -> PyResult<Self> { named_from_py(o) }
        }
    )*};
}
named_from_py_impl!(
    Gender,
    DealerKind,
    Usage,
    Channel,
    TouchpointKind,
    ServiceKind,
    LifecycleStage,
    RelationKind,
    LeadSource,
    Intent,
    PurchaseType,
    SurveyKind,
    Factor,
    PostingKind,
    AmountField,
    WalletRule,
    ComplaintStatus,
    ConsentChannel,
    Tier,
    Kpi,
    Dimension,
    CareKind,
    Permission
);

/// A KPI period: "2025", "2025-H1", "2025-Q3", "2025-07" or (from, to).
pub fn period_from_py(o: &Bound<'_, PyAny>) -> PyResult<Period> {
    if let Ok(s) = o.cast::<PyString>() {
        let text: String = s.extract()?;
        return text
            .parse::<Period>()
            .map_err(|e| PyValueError::new_err(format!("{e}, or pass (from, to)")));
    }
    if let Ok(t) = o.cast::<PyTuple>() {
        if t.len() == 2 {
            let from = Date::from_py(&t.get_item(0)?)?;
            let to = Date::from_py(&t.get_item(1)?)?;
            return Period::new(from, to).ok_or_else(|| {
                PyValueError::new_err(format!("period ({from}, {to}): from must be before to"))
            });
        }
    }
    Err(PyTypeError::new_err(
        "period must be a str like \"2025-Q3\" or a tuple (from, to)",
    ))
}

/// Keyword arguments or a dict describing one record, consumed field by field.
pub struct Fields<'py> {
    d: Bound<'py, PyDict>,
    what: &'static str,
}

impl<'py> Fields<'py> {
    /// Merges a positional `record` dict (if any) and `kwargs` (which win).
    pub fn new(
        py: Python<'py>,
        what: &'static str,
        record: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Fields<'py>> {
        let d = PyDict::new(py);
        if let Some(r) = record {
            if !r.is_none() {
                let rd = r.cast::<PyDict>().map_err(|_| {
                    PyTypeError::new_err(format!("{what}: expected a dict or keyword arguments"))
                })?;
                d.update(rd.as_mapping())?;
            }
        }
        if let Some(k) = kwargs {
            d.update(k.as_mapping())?;
        }
        Ok(Fields { d, what })
    }

    /// One dict of a batch.
    pub fn of(item: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Fields<'py>> {
        Fields::new(item.py(), what, Some(item), None)
    }

    fn take_raw(&self, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.d.get_item(key)? {
            Some(v) => {
                self.d.del_item(key)?;
                Ok(if v.is_none() { None } else { Some(v) })
            }
            None => Ok(None),
        }
    }

    /// An optional field (absent or None → None).
    pub fn opt<T: FromPy>(&self, key: &str) -> PyResult<Option<T>> {
        self.take_raw(key)?
            .map(|v| T::from_py(&v).map_err(|e| self.annotate(key, e)))
            .transpose()
    }

    /// A field whose `None` means something (unlike `opt`): absent → `None`, given as `None`
    /// → `Some(None)`.
    pub fn nullable<T: FromPy>(&self, key: &str) -> PyResult<Option<Option<T>>> {
        match self.d.get_item(key)? {
            Some(v) => {
                self.d.del_item(key)?;
                Option::<T>::from_py(&v)
                    .map(Some)
                    .map_err(|e| self.annotate(key, e))
            }
            None => Ok(None),
        }
    }

    /// An optional field with a default.
    pub fn or<T: FromPy>(&self, key: &str, default: T) -> PyResult<T> {
        Ok(self.opt(key)?.unwrap_or(default))
    }

    /// A required field.
    pub fn req<T: FromPy>(&self, key: &str) -> PyResult<T> {
        self.opt(key)?.ok_or_else(|| {
            PyTypeError::new_err(format!("{}: missing required field {key:?}", self.what))
        })
    }

    fn annotate(&self, key: &str, e: PyErr) -> PyErr {
        Python::attach(|py| {
            let msg = format!("{} field {key:?}: {}", self.what, e.value(py));
            if e.is_instance_of::<PyValueError>(py) {
                PyValueError::new_err(msg)
            } else if e.is_instance_of::<PyTypeError>(py) {
                PyTypeError::new_err(msg)
            } else {
                e
            }
        })
    }

    /// Fails on any field not consumed.
    pub fn done(self) -> PyResult<()> {
        if self.d.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = self
            .d
            .keys()
            .iter()
            .map(|k| k.str().map(|s| s.to_string()))
            .collect::<PyResult<_>>()?;
        Err(PyTypeError::new_err(format!(
            "{}: unknown field(s) {}",
            self.what,
            keys.join(", ")
        )))
    }
}
