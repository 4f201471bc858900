//! Core errors as Python exceptions: one base `autocrm.Error`, a subclass per kind, with the
//! stable `code` and the `field` / `record` the core error names.

use autocrm::api::{Detail, ErrorKind, ErrorReport};
use autocrm::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

create_exception!(
    autocrm,
    AutocrmError,
    PyException,
    "Base class of every autocrm error. Attributes: code, message, field, record."
);
create_exception!(
    autocrm,
    ValidationError,
    AutocrmError,
    "A value broke a validation rule; nothing was written. Extra attributes: rule, value."
);
create_exception!(
    autocrm,
    NotFoundError,
    AutocrmError,
    "No record with that key exists. Extra attributes: entity, key."
);
create_exception!(
    autocrm,
    DuplicateKeyError,
    AutocrmError,
    "A unique key is already taken. Extra attributes: entity, value, existing."
);
create_exception!(
    autocrm,
    InvalidOperationError,
    AutocrmError,
    "The operation is not allowed in the current state."
);
create_exception!(autocrm, InsufficientPointsError, AutocrmError, "A debit larger than the wallet can spend. Extra attributes: customer, wallet, available, requested.");
create_exception!(
    autocrm,
    IdempotencyConflictError,
    AutocrmError,
    "An idempotency key was reused for a different request. Extra attributes: key, existing."
);
create_exception!(
    autocrm,
    RuleError,
    AutocrmError,
    "A segment rule was refused. Extra attributes: kind, line, column, line_text."
);
create_exception!(
    autocrm,
    AccessDeniedError,
    AutocrmError,
    "The access scope may not do this; nothing was written. Extra attributes: scope, permission."
);
create_exception!(
    autocrm,
    UnknownScopeError,
    AutocrmError,
    "The access scope is misspelt or names no role, dealer or customer of the file. Extra attribute: scope."
);
create_exception!(
    autocrm,
    AlreadyOpenError,
    AutocrmError,
    "The database file is open in another process or handle. Extra attribute: path."
);
create_exception!(
    autocrm,
    ReadOnlyError,
    AutocrmError,
    "A write on a database opened with read_only=True. Extra attribute: path."
);
create_exception!(
    autocrm,
    UpgradeRequiredError,
    AutocrmError,
    "Written by a newer autocrm. Extra attributes: found, supported."
);
create_exception!(
    autocrm,
    CorruptError,
    AutocrmError,
    "The file is damaged: a record fails its checksum or does not decode, or the storage engine found (or panicked on) a damaged page. Run Database.check()."
);
create_exception!(
    autocrm,
    StorageError,
    AutocrmError,
    "The storage engine failed; the transaction was rolled back."
);

/// Registers the exception classes on the module, with `None` defaults for the attributes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<AutocrmError>();
    for attr in ["code", "message", "field", "record"] {
        base.setattr(attr, py.None())?;
    }
    m.add("Error", base)?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("DuplicateKeyError", py.get_type::<DuplicateKeyError>())?;
    m.add(
        "InvalidOperationError",
        py.get_type::<InvalidOperationError>(),
    )?;
    m.add(
        "InsufficientPointsError",
        py.get_type::<InsufficientPointsError>(),
    )?;
    m.add(
        "IdempotencyConflictError",
        py.get_type::<IdempotencyConflictError>(),
    )?;
    m.add("RuleError", py.get_type::<RuleError>())?;
    m.add("AccessDeniedError", py.get_type::<AccessDeniedError>())?;
    m.add("UnknownScopeError", py.get_type::<UnknownScopeError>())?;
    m.add("AlreadyOpenError", py.get_type::<AlreadyOpenError>())?;
    m.add("ReadOnlyError", py.get_type::<ReadOnlyError>())?;
    m.add(
        "UpgradeRequiredError",
        py.get_type::<UpgradeRequiredError>(),
    )?;
    m.add("CorruptError", py.get_type::<CorruptError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    Ok(())
}

/// The Python exception for a core error: the class of core's [`ErrorKind`], with `code`,
/// `message`, `record`, `field` and every detail of core's [`ErrorReport`] as attributes
/// (e.g. `rule` and `value` of a validation error, `refusal` of an invalid operation).
pub fn to_py(e: Error) -> PyErr {
    let report = ErrorReport::from(&e);
    let msg = report.message.clone();
    Python::attach(|py| {
        let err = match report.kind {
            ErrorKind::Validation => ValidationError::new_err(msg),
            ErrorKind::NotFound => NotFoundError::new_err(msg),
            ErrorKind::DuplicateKey => DuplicateKeyError::new_err(msg),
            ErrorKind::InvalidOperation => InvalidOperationError::new_err(msg),
            ErrorKind::InsufficientPoints => InsufficientPointsError::new_err(msg),
            ErrorKind::IdempotencyConflict => IdempotencyConflictError::new_err(msg),
            ErrorKind::Rule => RuleError::new_err(msg),
            ErrorKind::AccessDenied => AccessDeniedError::new_err(msg),
            ErrorKind::UnknownScope => UnknownScopeError::new_err(msg),
            ErrorKind::AlreadyOpen => AlreadyOpenError::new_err(msg),
            ErrorKind::ReadOnly => ReadOnlyError::new_err(msg),
            ErrorKind::UpgradeRequired => UpgradeRequiredError::new_err(msg),
            ErrorKind::Corrupt => CorruptError::new_err(msg),
            ErrorKind::Storage => StorageError::new_err(msg),
            // No class of their own in the Python API: the base class, told apart by `code`.
            _ => AutocrmError::new_err(msg),
        };
        let v = err.value(py);
        let set = |k: &str, val: PyResult<Bound<'_, PyAny>>| {
            let _ = v.setattr(k, val.unwrap_or_else(|_| py.None().into_bound(py)));
        };
        set("code", report.code.as_str().into_bound_py_any(py));
        set("message", report.message.as_str().into_bound_py_any(py));
        set("record", report.record.into_bound_py_any(py));
        if let Some(f) = &report.field {
            set("field", f.as_str().into_bound_py_any(py));
        }
        for (name, d) in &report.details {
            match d {
                Detail::Text(t) => set(name, t.as_str().into_bound_py_any(py)),
                Detail::Number(n) => set(name, n.into_bound_py_any(py)),
            }
        }
        crate::integration::keep_core(v, e);
        err
    })
}

/// Runs `f` without the GIL under [`autocrm::guard`]: a panic inside core (redb panics on some
/// damaged pages) becomes core's `corrupt` error, raised as `CorruptError`, instead of pyo3's
/// `PanicException` (a `BaseException` no `except autocrm.Error` catches). Every call into
/// core that reads the file goes through here.
pub fn detach<T, E>(py: Python<'_>, f: impl FnOnce() -> Result<T, E> + Send) -> Result<T, E>
where
    T: Send,
    E: From<Error> + Send,
{
    py.detach(|| autocrm::guard(|| Ok(f())).unwrap_or_else(|e| Err(E::from(e))))
}

/// `Result<T, autocrm::Error>` → `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Maps the core error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for autocrm::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
