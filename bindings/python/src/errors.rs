//! Core errors as Python exceptions: one base `autocrm.Error`, a subclass per kind, with the
//! stable `code` and the `field` / `record` the core error names.

use autocrm::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

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

/// A binding-level misuse (finished transaction, closed database, busy transaction).
pub fn invalid(msg: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        let e = InvalidOperationError::new_err(msg.into());
        let v = e.value(py);
        let _ = v.setattr("code", "invalid_operation");
        let _ = v.setattr(
            "message",
            v.str().map(|s| s.to_string()).unwrap_or_default(),
        );
        e
    })
}

fn innermost(e: &Error) -> &Error {
    match e {
        Error::InRecord { source, .. } => innermost(source),
        e => e,
    }
}

/// The Python exception for a core error.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| {
        let msg = e.to_string();
        let inner = innermost(&e);
        let err = match inner {
            Error::Validation(_) => ValidationError::new_err(msg.clone()),
            Error::NotFound { .. } => NotFoundError::new_err(msg.clone()),
            Error::DuplicateKey { .. } => DuplicateKeyError::new_err(msg.clone()),
            Error::InvalidOperation { .. } => InvalidOperationError::new_err(msg.clone()),
            Error::InsufficientPoints { .. } => InsufficientPointsError::new_err(msg.clone()),
            Error::IdempotencyConflict { .. } => IdempotencyConflictError::new_err(msg.clone()),
            Error::Rule(_) => RuleError::new_err(msg.clone()),
            Error::AlreadyOpen { .. } => AlreadyOpenError::new_err(msg.clone()),
            Error::ReadOnly { .. } => ReadOnlyError::new_err(msg.clone()),
            Error::UpgradeRequired { .. } => UpgradeRequiredError::new_err(msg.clone()),
            Error::Corrupt { .. } => CorruptError::new_err(msg.clone()),
            Error::Storage(_) => StorageError::new_err(msg.clone()),
            _ => AutocrmError::new_err(msg.clone()),
        };
        let v = err.value(py);
        let set = |k: &str, val: Py<PyAny>| {
            let _ = v.setattr(k, val);
        };
        let o = |x: &dyn Fn(Python<'_>) -> PyResult<Py<PyAny>>| x(py).unwrap_or_else(|_| py.None());
        set(
            "code",
            o(&|py| Ok(e.code().into_pyobject(py)?.into_any().unbind())),
        );
        set(
            "message",
            o(&|py| Ok(msg.as_str().into_pyobject(py)?.into_any().unbind())),
        );
        set(
            "record",
            o(&|py| Ok(e.record().into_pyobject(py)?.into_any().unbind())),
        );
        let s = |x: &str| {
            x.into_pyobject(py)
                .map(|v| v.into_any().unbind())
                .unwrap_or_else(|_| py.None())
        };
        let n = |x: i128| {
            x.into_pyobject(py)
                .map(|v| v.into_any().unbind())
                .unwrap_or_else(|_| py.None())
        };
        match inner {
            Error::Validation(ve) => {
                set("field", s(ve.field));
                set("rule", s(ve.rule.code()));
                set("value", s(&ve.value));
            }
            Error::NotFound { entity, key } => {
                set("entity", s(entity));
                set("key", s(key));
            }
            Error::DuplicateKey {
                entity,
                field,
                value,
                existing,
            } => {
                set("entity", s(entity));
                set("field", s(field));
                set("value", s(value));
                set("existing", n(i128::from(*existing)));
            }
            Error::InsufficientPoints {
                customer,
                wallet,
                available,
                requested,
            } => {
                set("customer", n(i128::from(*customer)));
                set("wallet", s(wallet));
                set("available", n(i128::from(*available)));
                set("requested", n(i128::from(*requested)));
            }
            Error::IdempotencyConflict { key, existing } => {
                set("key", s(key));
                set("existing", n(i128::from(*existing)));
            }
            Error::Rule(r) => {
                set("kind", s(r.kind.code()));
                set("line", n(r.line as i128));
                set("column", n(r.column as i128));
                set("line_text", s(&r.line_text));
            }
            Error::Import(ie) => {
                if let Some(f) = &ie.field {
                    set("field", s(f));
                }
                if let Some(l) = ie.line {
                    set("line", n(i128::from(l)));
                }
                if let Some(f) = &ie.file {
                    set("file", s(f));
                }
            }
            Error::AlreadyOpen { path } | Error::ReadOnly { path } => set("path", s(path)),
            Error::UpgradeRequired {
                found, supported, ..
            } => {
                set("found", n(i128::from(*found)));
                set("supported", n(i128::from(*supported)));
            }
            _ => {}
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
