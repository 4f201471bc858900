//! One shape for every error a front end shows: the kind (which exception class or error
//! subclass a binding raises), the stable code, the message, the field and batch record it is
//! about, and the kind's own details. Each binding maps an [`ErrorReport`] the same way, so the
//! attributes of an error are the same in Python, Node, Kotlin and the CLI.

use crate::error::Error;

/// The family of an error: one exception class (Python) or error subclass (Node, Kotlin) each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value broke a validation rule (`validation.*`).
    Validation,
    /// No record with that key (`not_found`).
    NotFound,
    /// A unique key is taken (`duplicate_key`).
    DuplicateKey,
    /// Not allowed in the current state (`invalid_operation.*`).
    InvalidOperation,
    /// A debit larger than the wallet can spend (`insufficient_points`).
    InsufficientPoints,
    /// An idempotency key reused for another request (`idempotency_conflict`).
    IdempotencyConflict,
    /// A segment rule refused (`rule.*`).
    Rule,
    /// Over a documented size limit (`limit_exceeded.*`).
    LimitExceeded,
    /// The scope may not do this (`access_denied`).
    AccessDenied,
    /// The scope names no role, dealer or customer (`unknown_scope`).
    UnknownScope,
    /// The file is open elsewhere (`already_open`).
    AlreadyOpen,
    /// A write on a read-only handle (`read_only`).
    ReadOnly,
    /// Written by a newer release (`upgrade_required`).
    UpgradeRequired,
    /// The file is damaged (`corrupt`).
    Corrupt,
    /// The storage engine failed (`storage`), or a file outside the database could not be
    /// read or written (`io`).
    Storage,
    /// An import file or row could not be read (`import.*`).
    Import,
    /// A bug in autocrm, not in the input or the file (`internal`).
    Internal,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Validation,
        ErrorKind::NotFound,
        ErrorKind::DuplicateKey,
        ErrorKind::InvalidOperation,
        ErrorKind::InsufficientPoints,
        ErrorKind::IdempotencyConflict,
        ErrorKind::Rule,
        ErrorKind::LimitExceeded,
        ErrorKind::AccessDenied,
        ErrorKind::UnknownScope,
        ErrorKind::AlreadyOpen,
        ErrorKind::ReadOnly,
        ErrorKind::UpgradeRequired,
        ErrorKind::Corrupt,
        ErrorKind::Storage,
        ErrorKind::Import,
        ErrorKind::Internal,
    ];

    /// The class name bindings give this kind, e.g. `"ValidationError"`.
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::DuplicateKey => "DuplicateKeyError",
            ErrorKind::InvalidOperation => "InvalidOperationError",
            ErrorKind::InsufficientPoints => "InsufficientPointsError",
            ErrorKind::IdempotencyConflict => "IdempotencyConflictError",
            ErrorKind::Rule => "RuleError",
            ErrorKind::LimitExceeded => "LimitExceededError",
            ErrorKind::AccessDenied => "AccessDeniedError",
            ErrorKind::UnknownScope => "UnknownScopeError",
            ErrorKind::AlreadyOpen => "AlreadyOpenError",
            ErrorKind::ReadOnly => "ReadOnlyError",
            ErrorKind::UpgradeRequired => "UpgradeRequiredError",
            ErrorKind::Corrupt => "CorruptError",
            ErrorKind::Storage => "StorageError",
            ErrorKind::Import => "ImportError",
            ErrorKind::Internal => "InternalError",
        }
    }
}

/// A value of an error's detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Text (an entity name, a key, a path).
    Text(String),
    /// A number (an id, a count, a line).
    Number(i64),
}

/// An error as every front end reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReport {
    /// The family: which class a binding raises.
    pub kind: ErrorKind,
    /// The stable code ([`Error::code`]).
    pub code: String,
    /// What was wrong and how to fix it.
    pub message: String,
    /// The field the error is about, if any.
    pub field: Option<String>,
    /// The 0-based record of a batch the error is about, if any.
    pub record: Option<usize>,
    /// The kind's own attributes, by name (e.g. `rule`, `value` of a validation error;
    /// `entity`, `key` of `not_found`). Names are snake_case; bindings convert them to their
    /// idiom (camelCase in Node).
    pub details: Vec<(&'static str, Detail)>,
}

impl ErrorReport {
    /// The detail named `name`, if present.
    pub fn detail(&self, name: &str) -> Option<&Detail> {
        self.details
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d)
    }
}

fn text(s: impl Into<String>) -> Detail {
    Detail::Text(s.into())
}

fn number(n: impl TryInto<i64>) -> Detail {
    Detail::Number(n.try_into().unwrap_or(i64::MAX))
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> ErrorReport {
        let inner = e.innermost();
        let mut field = None;
        let mut details = Vec::new();
        let kind = match inner {
            Error::Validation(v) => {
                field = Some(v.field.to_string());
                details.push(("rule", text(v.rule.code())));
                details.push(("value", text(v.value.clone())));
                ErrorKind::Validation
            }
            Error::NotFound { entity, key } => {
                details.push(("entity", text(*entity)));
                details.push(("key", text(key.clone())));
                ErrorKind::NotFound
            }
            Error::DuplicateKey {
                entity,
                field: f,
                value,
                existing,
            } => {
                field = Some(f.to_string());
                details.push(("entity", text(*entity)));
                details.push(("value", text(value.clone())));
                details.push(("existing", number(*existing)));
                ErrorKind::DuplicateKey
            }
            Error::InvalidOperation { refusal, .. } => {
                details.push(("refusal", text(refusal.code())));
                ErrorKind::InvalidOperation
            }
            Error::InsufficientPoints {
                customer,
                wallet,
                available,
                requested,
            } => {
                details.push(("customer", number(*customer)));
                details.push(("wallet", text(wallet.clone())));
                details.push(("available", number(*available)));
                details.push(("requested", number(*requested)));
                ErrorKind::InsufficientPoints
            }
            Error::IdempotencyConflict { key, existing } => {
                details.push(("key", text(key.clone())));
                details.push(("existing", number(*existing)));
                ErrorKind::IdempotencyConflict
            }
            Error::Rule(r) => {
                details.push(("kind", text(r.kind.code())));
                details.push(("line", number(r.line)));
                details.push(("column", number(r.column)));
                details.push(("line_text", text(r.line_text.clone())));
                ErrorKind::Rule
            }
            Error::LimitExceeded {
                limit_kind,
                size,
                limit,
                ..
            } => {
                details.push(("limit", text(limit_kind.code())));
                details.push(("size", number(*size)));
                details.push(("maximum", number(*limit)));
                ErrorKind::LimitExceeded
            }
            Error::AccessDenied {
                scope, permission, ..
            } => {
                details.push(("scope", text(scope.clone())));
                details.push(("permission", text(*permission)));
                ErrorKind::AccessDenied
            }
            Error::UnknownScope { scope, .. } => {
                details.push(("scope", text(scope.clone())));
                ErrorKind::UnknownScope
            }
            Error::AlreadyOpen { path } => {
                details.push(("path", text(path.clone())));
                ErrorKind::AlreadyOpen
            }
            Error::ReadOnly { path } => {
                details.push(("path", text(path.clone())));
                ErrorKind::ReadOnly
            }
            Error::UpgradeRequired {
                found, supported, ..
            } => {
                details.push(("found", number(*found)));
                details.push(("supported", number(*supported)));
                ErrorKind::UpgradeRequired
            }
            Error::Corrupt { what, .. } => {
                details.push(("what", text(*what)));
                ErrorKind::Corrupt
            }
            Error::Import(ie) => {
                field = ie.field.map(str::to_owned);
                if let Some(l) = ie.line {
                    details.push(("line", number(l)));
                }
                if let Some(f) = &ie.file {
                    details.push(("file", text(f.clone())));
                }
                ErrorKind::Import
            }
            Error::Storage(_) => ErrorKind::Storage,
            Error::Io { path, .. } => {
                details.push(("path", text(path.clone())));
                ErrorKind::Storage
            }
            Error::InRecord { .. } => unreachable!("innermost() looks through InRecord"),
            Error::Internal { .. } => ErrorKind::Internal,
        };
        ErrorReport {
            kind,
            code: e.code(),
            message: e.to_string(),
            field,
            record: e.record(),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Rule, ValidationError};

    #[test]
    fn a_batch_error_reports_its_record_field_and_rule() {
        let e = Error::Validation(ValidationError::new("phones", Rule::PhoneTooShort, "1380"))
            .at_record(3);
        let r = ErrorReport::from(&e);
        assert_eq!(r.kind, ErrorKind::Validation);
        assert_eq!(r.code, "validation.phone_too_short");
        assert_eq!((r.field.as_deref(), r.record), (Some("phones"), Some(3)));
        assert_eq!(
            r.detail("rule"),
            Some(&Detail::Text("phone_too_short".into()))
        );
        let nf = ErrorReport::from(&Error::not_found("customer", 9).at_record(1));
        assert_eq!((nf.kind, nf.record), (ErrorKind::NotFound, Some(1)));
        assert_eq!(nf.detail("key"), Some(&Detail::Text("9".into())));
    }

    #[test]
    fn class_names_are_distinct() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.class_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }
}
