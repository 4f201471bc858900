//! Bulk import of customers, vehicles, touchpoints and leads from CSV and JSON Lines files, as
//! source systems deliver them (docs/import.md documents the column sets).
//!
//! An import streams: the file is decoded (UTF-8 with or without BOM, or GBK/GB18030, detected
//! or chosen), read row by row, and written in transactions of
//! [`ImportOptions::batch_size`] rows, so memory stays bounded whatever the file's size. Every
//! row is a source record (`source_system` + `source_id`, optionally the sending `dealer`):
//! customers and vehicles go through the integration layer's upserts (matching, survivorship,
//! lineage, conflicts), touchpoints and leads are inserted idempotently on their source record.
//! A row that cannot be parsed or fails validation is rejected with a stable reason code, goes
//! to the sending dealer's feedback queue, and the import goes on; the [`ImportReport`] counts
//! everything. Importing the same file twice changes nothing the second time.
//!
//! ```
//! use autocrm::import::{import_reader, ImportOptions};
//! use autocrm::integration::RecordKind;
//! use autocrm::Database;
//!
//! # fn main() -> autocrm::Result<()> {
//! let db = Database::in_memory()?;
//! let csv = "source_system,source_id,name,phones,national_id\n\
//!            finance,F-1,王小明,13812345678,11010519491231002X\n\
//!            finance,F-2,李女士,13912345678,\n";
//! let at = "2025-06-01 08:00".parse()?;
//! let opts = ImportOptions::new(RecordKind::Customer, at);
//! let report = import_reader(&db, csv.as_bytes(), "customers.csv", None, &opts, |_| {})?;
//! assert_eq!((report.created, report.rejected), (1, 1));
//! assert_eq!(report.rejections[0].code, "validation.name_placeholder");
//! assert_eq!(report.rejections[0].line, 3);
//! # Ok(())
//! # }
//! ```

mod columns;
mod input;
mod report;

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use redb::ReadableTable;

use crate::codec::ModelKind;
use crate::date::DateTime;
use crate::error::{Error, Result};
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::integration::{CustomerMatch, MatchKeys, Outcome, Received, RecordKind};
use crate::source::SourceRef;
use crate::store::tables::LEADS;
use crate::store::{Database, Tx};

use columns::{Cells, CustomerKeys, Row, Schema};
use input::{Counting, Next, Rows};

pub use report::{ImportReport, Rejection};

/// The stable reason code of an import error (validation failures keep their own
/// `validation.<rule>` codes, see [`crate::Rule::code`]). [`ImportCode::code`] is the string
/// [`Error::code`] returns, e.g. `"import.bad_date"`; it never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImportCode {
    /// The file could not be opened or read.
    FileUnreadable,
    /// A CSV file has no header row (it is empty).
    NoHeader,
    /// A CSV header names a column twice.
    DuplicateColumn,
    /// A required column is missing from the header, or blank in a row.
    MissingColumn,
    /// A row is not valid CSV (e.g. an unterminated quote).
    BadCsv,
    /// A JSON Lines line is not a JSON object.
    BadJson,
    /// A CSV record or JSON Lines line is longer than 1 MiB.
    LineTooLong,
    /// A row has bytes that are not valid in the file's encoding.
    BadEncoding,
    /// A CSV row has non-empty cells beyond the columns the header names.
    ExtraCells,
    /// A file with content yields no rows (e.g. a CSV header without rows).
    NoRows,
    /// A date or date-time that cannot be read.
    BadDate,
    /// An amount or count that cannot be read.
    BadNumber,
    /// A value of the wrong shape (a JSON object where a value belongs).
    BadValue,
    /// An enumerated column (channel, kind, status...) with a value it does not know.
    UnknownValue,
    /// A dealer code that no stored dealer has.
    UnknownDealer,
    /// The customer a row names by its keys is not stored.
    UnknownCustomer,
    /// The customer phone (and name) a row gives fits several customers.
    AmbiguousCustomer,
    /// The VIN a touchpoint row names is not a stored vehicle.
    UnknownVehicle,
    /// The record kind given is not one of customer, vehicle, touchpoint, lead.
    UnknownKind,
    /// The encoding or format given is not known.
    UnknownOption,
}

impl ImportCode {
    /// Every import code, in declaration order.
    pub const ALL: &'static [ImportCode] = &[
        ImportCode::FileUnreadable,
        ImportCode::NoHeader,
        ImportCode::DuplicateColumn,
        ImportCode::MissingColumn,
        ImportCode::BadCsv,
        ImportCode::BadJson,
        ImportCode::LineTooLong,
        ImportCode::BadEncoding,
        ImportCode::ExtraCells,
        ImportCode::NoRows,
        ImportCode::BadDate,
        ImportCode::BadNumber,
        ImportCode::BadValue,
        ImportCode::UnknownValue,
        ImportCode::UnknownDealer,
        ImportCode::UnknownCustomer,
        ImportCode::AmbiguousCustomer,
        ImportCode::UnknownVehicle,
        ImportCode::UnknownKind,
        ImportCode::UnknownOption,
    ];

    /// The stable code, e.g. `"import.bad_date"`.
    pub const fn code(self) -> &'static str {
        match self {
            ImportCode::FileUnreadable => "import.file_unreadable",
            ImportCode::NoHeader => "import.no_header",
            ImportCode::DuplicateColumn => "import.duplicate_column",
            ImportCode::MissingColumn => "import.missing_column",
            ImportCode::BadCsv => "import.bad_csv",
            ImportCode::BadJson => "import.bad_json",
            ImportCode::LineTooLong => "import.line_too_long",
            ImportCode::BadEncoding => "import.bad_encoding",
            ImportCode::ExtraCells => "import.extra_cells",
            ImportCode::NoRows => "import.no_rows",
            ImportCode::BadDate => "import.bad_date",
            ImportCode::BadNumber => "import.bad_number",
            ImportCode::BadValue => "import.bad_value",
            ImportCode::UnknownValue => "import.unknown_value",
            ImportCode::UnknownDealer => "import.unknown_dealer",
            ImportCode::UnknownCustomer => "import.unknown_customer",
            ImportCode::AmbiguousCustomer => "import.ambiguous_customer",
            ImportCode::UnknownVehicle => "import.unknown_vehicle",
            ImportCode::UnknownKind => "import.unknown_kind",
            ImportCode::UnknownOption => "import.unknown_option",
        }
    }
}

impl std::fmt::Display for ImportCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The import codes as strings, as [`Error::code`] and [`Rejection::code`] give them: each is
/// [`ImportCode::code`] of its variant.
pub mod codes {
    use super::ImportCode;

    /// The file could not be opened or read.
    pub const FILE_UNREADABLE: &str = ImportCode::FileUnreadable.code();
    /// A CSV file has no header row (it is empty).
    pub const NO_HEADER: &str = ImportCode::NoHeader.code();
    /// A CSV header names a column twice.
    pub const DUPLICATE_COLUMN: &str = ImportCode::DuplicateColumn.code();
    /// A required column is missing from the header, or blank in a row.
    pub const MISSING_COLUMN: &str = ImportCode::MissingColumn.code();
    /// A row is not valid CSV (e.g. an unterminated quote).
    pub const BAD_CSV: &str = ImportCode::BadCsv.code();
    /// A JSON Lines line is not a JSON object.
    pub const BAD_JSON: &str = ImportCode::BadJson.code();
    /// A CSV record or JSON Lines line is longer than 1 MiB.
    pub const LINE_TOO_LONG: &str = ImportCode::LineTooLong.code();
    /// A row has bytes that are not valid in the file's encoding.
    pub const BAD_ENCODING: &str = ImportCode::BadEncoding.code();
    /// A CSV row has non-empty cells beyond the columns the header names.
    pub const EXTRA_CELLS: &str = ImportCode::ExtraCells.code();
    /// A file with content yields no rows (e.g. a CSV header without rows).
    pub const NO_ROWS: &str = ImportCode::NoRows.code();
    /// A date or date-time that cannot be read.
    pub const BAD_DATE: &str = ImportCode::BadDate.code();
    /// An amount or count that cannot be read.
    pub const BAD_NUMBER: &str = ImportCode::BadNumber.code();
    /// A value of the wrong shape (a JSON object where a value belongs).
    pub const BAD_VALUE: &str = ImportCode::BadValue.code();
    /// An enumerated column (channel, kind, status...) with a value it does not know.
    pub const UNKNOWN_VALUE: &str = ImportCode::UnknownValue.code();
    /// A dealer code that no stored dealer has.
    pub const UNKNOWN_DEALER: &str = ImportCode::UnknownDealer.code();
    /// The customer a row names by its keys is not stored.
    pub const UNKNOWN_CUSTOMER: &str = ImportCode::UnknownCustomer.code();
    /// The customer phone (and name) a row gives fits several customers.
    pub const AMBIGUOUS_CUSTOMER: &str = ImportCode::AmbiguousCustomer.code();
    /// The VIN a touchpoint row names is not a stored vehicle.
    pub const UNKNOWN_VEHICLE: &str = ImportCode::UnknownVehicle.code();
    /// The record kind given is not one of customer, vehicle, touchpoint, lead.
    pub const UNKNOWN_KIND: &str = ImportCode::UnknownKind.code();
    /// The encoding or format given is not known.
    pub const UNKNOWN_OPTION: &str = ImportCode::UnknownOption.code();
}

/// An import file, or one of its rows, that could not be read; it names the file (file-level
/// errors), the line and the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// Stable reason code.
    pub code: ImportCode,
    /// The file, for file-level errors.
    pub file: Option<String>,
    /// The line (1-based) the error is on, if one.
    pub line: Option<u64>,
    /// The column at fault, if one.
    pub field: Option<&'static str>,
    /// The value at fault, as given (cut to 64 characters).
    pub value: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ImportError {
    pub(crate) fn file(code: ImportCode, file: &str, message: impl Into<String>) -> Self {
        ImportError {
            code,
            file: Some(file.to_string()),
            line: None,
            field: None,
            value: None,
            message: message.into(),
        }
    }

    pub(crate) fn row(
        code: ImportCode,
        line: u64,
        field: Option<&'static str>,
        value: &str,
        message: impl Into<String>,
    ) -> Self {
        ImportError {
            code,
            file: None,
            line: Some(line),
            field,
            value: (!value.is_empty()).then(|| value.chars().take(64).collect()),
            message: message.into(),
        }
    }

    pub(crate) fn with_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub(crate) fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sep = "";
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            sep = ", ";
        }
        if let Some(line) = self.line {
            write!(f, "{sep}line {line}")?;
            sep = ", ";
        }
        if let Some(field) = &self.field {
            write!(f, "{sep}field `{field}`")?;
            if let Some(v) = &self.value {
                write!(f, " = {v:?}")?;
            }
        }
        if !sep.is_empty() || self.field.is_some() {
            write!(f, ": ")?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

impl std::error::Error for ImportError {}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Error {
        Error::Import(Box::new(e))
    }
}

/// The text encoding of an import file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 if the input is valid UTF-8 (or starts with a UTF-8 BOM), else GBK. A file is
    /// checked whole (it is read twice); a reader is judged by its first MiB.
    #[default]
    Auto,
    /// UTF-8, with or without BOM.
    Utf8,
    /// GBK, as Chinese source systems export it (decoded as GB18030, its superset).
    Gbk,
}

impl Encoding {
    /// `"auto"`, `"UTF-8"` or `"GBK"`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
        }
    }

    /// The encoding named `name`: `auto`, `utf-8`/`utf8`, `gbk`/`gb18030`/`gb2312` (any case).
    pub fn parse(name: &str) -> Result<Encoding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" | "cp936" => Ok(Encoding::Gbk),
            _ => Err(ImportError {
                code: ImportCode::UnknownOption,
                file: None,
                line: None,
                field: Some("encoding"),
                value: Some(name.chars().take(64).collect()),
                message: "unknown encoding; use auto, utf-8 or gbk".into(),
            }
            .into()),
        }
    }
}

/// The layout of an import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format named `name`: `csv`, or `jsonl`/`ndjson`/`json` (any case).
    pub fn parse(name: &str) -> Result<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Format::JsonLines),
            _ => Err(ImportError {
                code: ImportCode::UnknownOption,
                file: None,
                line: None,
                field: Some("format"),
                value: Some(name.chars().take(64).collect()),
                message: "unknown format; use csv or jsonl".into(),
            }
            .into()),
        }
    }

    /// The format a file name suggests: `.jsonl`, `.ndjson` and `.json` are JSON Lines,
    /// `.csv`, `.txt` and `.tsv` CSV; anything else `None`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The kind named `name` (`customer`, `vehicle`, `touchpoint`, `lead`; plurals accepted), or
/// an error listing the kinds.
pub fn parse_kind(name: &str) -> Result<RecordKind> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.strip_suffix('s').unwrap_or(&n);
    RecordKind::parse(n).ok_or_else(|| {
        ImportError {
            code: ImportCode::UnknownKind,
            file: None,
            line: None,
            field: Some("kind"),
            value: Some(name.chars().take(64).collect()),
            message: "unknown record kind; use customer, vehicle, touchpoint or lead".into(),
        }
        .into()
    })
}

/// How to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The kind of record every row is.
    pub kind: RecordKind,
    /// When the rows were received (rows with a `received_at` column override it). Lineage and
    /// the feedback queue keep it; the import never reads the clock.
    pub received_at: DateTime,
    /// The file's layout; `None`: from the file name, else JSON Lines if the input starts with
    /// `{`, else CSV.
    pub format: Option<Format>,
    /// The text encoding (default: detect).
    pub encoding: Encoding,
    /// Rows per transaction (default 1000; 0 counts as 1).
    pub batch_size: usize,
    /// The source system of rows that have no `source_system` column or leave it blank.
    pub source_system: Option<String>,
    /// CSV field delimiter (default `,`).
    pub delimiter: u8,
    /// Rejections kept in full in the report (default 10,000); counts are always exact.
    pub max_rejections: usize,
}

impl ImportOptions {
    /// Options for importing `kind` rows received at `received_at`, with the defaults.
    pub fn new(kind: RecordKind, received_at: DateTime) -> ImportOptions {
        ImportOptions {
            kind,
            received_at,
            format: None,
            encoding: Encoding::Auto,
            batch_size: 1000,
            source_system: None,
            delimiter: b',',
            max_rejections: 10_000,
        }
    }
}

/// How far an import got, passed to the progress callback after every committed batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Rows read and written so far.
    pub rows: u64,
    /// Bytes of input read so far.
    pub bytes: u64,
    /// Size of the input, if known.
    pub total_bytes: Option<u64>,
}

/// Imports the file at `path` into `db` (see the module documentation). `progress` is called
/// after every committed batch. A file that cannot be opened or read, or whose header is
/// unusable, is an [`Error::Import`] naming the file; rejected rows are in the report.
pub fn import_file(
    db: &Database,
    path: impl AsRef<Path>,
    opts: &ImportOptions,
    progress: impl FnMut(&Progress),
) -> Result<ImportReport> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| -> Error {
        ImportError::file(
            ImportCode::FileUnreadable,
            &name,
            format!("cannot read: {e}"),
        )
        .into()
    };
    let open = || File::open(path).map_err(unreadable);
    let file = open()?;
    let total = file.metadata().ok().map(|m| m.len());
    let encoding = match opts.encoding {
        Encoding::Auto => {
            if input::is_utf8_stream(std::io::BufReader::new(file)).map_err(unreadable)? {
                Encoding::Utf8
            } else {
                Encoding::Gbk
            }
        }
        e => e,
    };
    let mut file = open()?;
    let format = match opts.format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => {
            let mut head = [0u8; 64];
            let n = read_up_to(&mut file, &mut head).map_err(unreadable)?;
            let f = input::sniff_format(&head[..n]);
            file = open()?;
            f
        }
    };
    run(db, file, &name, total, encoding, format, opts, progress)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Imports from `input` (an in-memory buffer, a pipe...) as the file `name` (used in errors
/// and the report); `total_bytes` is its size if known, for progress. With
/// [`Encoding::Auto`] the encoding is judged by the first MiB.
pub fn import_reader(
    db: &Database,
    mut input: impl Read,
    name: &str,
    total_bytes: Option<u64>,
    opts: &ImportOptions,
    progress: impl FnMut(&Progress),
) -> Result<ImportReport> {
    let (prefix, complete) = input::sniff(&mut input).map_err(|e| -> Error {
        ImportError::file(
            ImportCode::FileUnreadable,
            name,
            format!("cannot read: {e}"),
        )
        .into()
    })?;
    let encoding = match opts.encoding {
        Encoding::Auto => input::detect(&prefix, complete),
        e => e,
    };
    let format = opts.format.unwrap_or_else(|| input::sniff_format(&prefix));
    let whole = std::io::Cursor::new(prefix).chain(input);
    run(
        db,
        whole,
        name,
        total_bytes,
        encoding,
        format,
        opts,
        progress,
    )
}

fn schema_of(kind: RecordKind) -> &'static Schema {
    match kind {
        RecordKind::Customer => &columns::CUSTOMER,
        RecordKind::Vehicle => &columns::VEHICLE,
        RecordKind::Touchpoint => &columns::TOUCHPOINT,
        RecordKind::Lead => &columns::LEAD,
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    db: &Database,
    raw: impl Read,
    name: &str,
    total_bytes: Option<u64>,
    encoding: Encoding,
    format: Format,
    opts: &ImportOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<ImportReport> {
    let (counting, bytes) = Counting::new(raw);
    let schema = schema_of(opts.kind);
    let (mut rows, _) = Rows::open(counting, format, encoding, schema, name, opts.delimiter)?;
    let mut importer = Importer {
        opts,
        schema,
        report: ImportReport::new(name, opts.kind, encoding.name()),
        dealers: HashMap::new(),
    };
    let batch = opts.batch_size.max(1);
    loop {
        let mut txn = db.begin_write()?;
        if let Some(system) = &opts.source_system {
            txn.set_source(system);
        }
        // One view for the whole batch: every table a row needs is opened once per batch.
        let mut tx = txn.tx();
        let mut done = false;
        for _ in 0..batch {
            match rows.next().map_err(|e| with_file(e, name))? {
                Next::End => {
                    done = true;
                    break;
                }
                Next::Row(row) => {
                    importer.report.rows += 1;
                    importer.row(&mut tx, &row)?;
                    rows.recycle(row);
                }
                Next::Bad { line, raw, error } => {
                    importer.report.rows += 1;
                    let system = opts.source_system.clone().unwrap_or_default();
                    let from = Received {
                        source: SourceRef::new(system, ""),
                        dealer: None,
                        at: opts.received_at,
                    };
                    importer.reject(&mut tx, &from, line, &raw, error.into())?;
                }
            }
        }
        drop(tx);
        txn.commit()?;
        importer.report.bytes = bytes.get();
        progress(&Progress {
            rows: importer.report.rows,
            bytes: bytes.get(),
            total_bytes,
        });
        if done {
            break;
        }
    }
    let mut report = importer.report;
    if report.rows == 0 && bytes.get() > 0 {
        // Nothing was committed: the batch held no row.
        let what = match format {
            Format::Csv => "the file has a header but no rows",
            Format::JsonLines => "the file has no JSON line",
        };
        return Err(ImportError::file(
            ImportCode::NoRows,
            name,
            format!(
                "{what}: an export that lost its rows looks like this; check the export, \
                 and do not import empty files"
            ),
        )
        .into());
    }
    report.ignored_columns = rows.ignored().to_vec();
    Ok(report)
}

fn with_file(mut e: ImportError, name: &str) -> ImportError {
    if e.file.is_none() {
        e.file = Some(name.to_string());
    }
    e
}

/// Whether an error is about the row (reject it, go on) rather than the import (stop).
fn is_row_error(e: &Error) -> bool {
    match e {
        Error::Validation(_)
        | Error::NotFound { .. }
        | Error::DuplicateKey { .. }
        | Error::InvalidOperation { .. }
        | Error::IdempotencyConflict { .. }
        | Error::Import(_) => true,
        Error::InRecord { source, .. } => is_row_error(source),
        _ => false,
    }
}

/// The error with an amount column's value shown as the row wrote it (the record holds it in
/// fen): `amount = "-100.00"`, not `"-10000"`.
fn as_written(e: Error, cells: &Cells<'_>) -> Error {
    match e {
        Error::Validation(mut v) if columns::MONEY_COLUMNS.contains(&v.field) => {
            if let Some(text) = cells.text(v.field) {
                v.value = text.chars().take(64).collect();
            }
            Error::Validation(v)
        }
        e => e,
    }
}

/// The field an error names, if any.
fn field_of(e: &Error) -> Option<String> {
    match e {
        Error::Validation(v) => Some(v.field.to_string()),
        Error::DuplicateKey { field, .. } => Some(field.to_string()),
        Error::Import(i) => i.field.map(str::to_string),
        Error::InRecord { source, .. } => field_of(source),
        _ => None,
    }
}

/// What an accepted row did.
struct Done {
    outcome: Outcome,
    conflicts: u32,
    incomplete: bool,
}

impl Done {
    fn created() -> Done {
        Done {
            outcome: Outcome::Created,
            conflicts: 0,
            incomplete: false,
        }
    }

    fn unchanged() -> Done {
        Done {
            outcome: Outcome::Unchanged,
            conflicts: 0,
            incomplete: false,
        }
    }
}

/// Most dealer codes remembered; a file naming more distinct codes just looks them up again.
const DEALER_CACHE: usize = 10_000;

struct Importer<'a> {
    opts: &'a ImportOptions,
    schema: &'static Schema,
    report: ImportReport,
    dealers: HashMap<String, Option<DealerId>>,
}

impl Importer<'_> {
    fn row(&mut self, tx: &mut Tx<'_>, row: &Row) -> Result<()> {
        let cells = Cells {
            row,
            schema: self.schema,
        };
        let default_system = self.opts.source_system.as_deref();
        let common = match cells.common(default_system) {
            Ok(c) => c,
            Err(e) => {
                let system = cells.text("source_system").or(default_system);
                // The row still goes back to the dealer that sent it, if the code is known.
                let dealer = match cells.text("dealer") {
                    Some(code) => self.dealer(tx, code)?,
                    None => None,
                };
                let from = Received {
                    source: SourceRef::new(
                        system.unwrap_or_default(),
                        cells.text("source_id").unwrap_or_default(),
                    ),
                    dealer,
                    at: self.opts.received_at,
                };
                return self.reject(tx, &from, row.line, &row.raw(), e.into());
            }
        };
        let mut from = Received {
            source: common.source,
            dealer: None,
            at: common.received_at.unwrap_or(self.opts.received_at),
        };
        if let Some(code) = &common.dealer {
            match self.dealer(tx, code)? {
                Some(d) => from.dealer = Some(d),
                None => {
                    let e = unknown_dealer(row.line, "dealer", code);
                    return self.reject(tx, &from, row.line, &row.raw(), e);
                }
            }
        }
        if let Some(flaw) = &row.flaw {
            let e = ImportError::row(flaw.code, row.line, flaw.field, "", flaw.message.clone());
            return self.reject(tx, &from, row.line, &row.raw(), e.into());
        }
        match self.write(tx, &cells, &from) {
            Ok(done) => {
                match done.outcome {
                    Outcome::Created => self.report.created += 1,
                    Outcome::Updated => self.report.updated += 1,
                    Outcome::Unchanged => self.report.unchanged += 1,
                }
                self.report.conflicts += u64::from(done.conflicts);
                self.report.incomplete += u64::from(done.incomplete);
                Ok(())
            }
            Err(e) if is_row_error(&e) => {
                let e = as_written(e, &cells);
                self.reject(tx, &from, row.line, &row.raw(), e)
            }
            Err(e) => Err(e),
        }
    }

    /// Parses the row's record and writes it.
    fn write(&mut self, tx: &mut Tx<'_>, cells: &Cells<'_>, from: &Received) -> Result<Done> {
        let line = cells.row.line;
        match self.opts.kind {
            RecordKind::Customer => {
                let (customer, vin) = cells.customer(&from.source)?;
                let u = tx.upsert_customer(&customer, vin.as_deref(), from)?;
                Ok(Done {
                    outcome: u.outcome,
                    conflicts: u.conflicts,
                    incomplete: u.incomplete,
                })
            }
            RecordKind::Vehicle => {
                let (mut vehicle, selling) = cells.vehicle(&from.source)?;
                if let Some(code) = selling {
                    match self.dealer(tx, &code)? {
                        Some(d) => vehicle.selling_dealer = Some(d),
                        None => return Err(unknown_dealer(line, "selling_dealer", &code)),
                    }
                }
                let keys = cells.customer_keys(&from.source.system);
                let owner = resolve_customer(tx, &keys, None, line)?;
                let u = tx.upsert_vehicle(&vehicle, owner, from)?;
                Ok(Done {
                    outcome: u.outcome,
                    conflicts: u.conflicts,
                    incomplete: false,
                })
            }
            RecordKind::Touchpoint => {
                let mut t = cells.touchpoint(&from.source)?;
                let vehicle = match cells.text("vin") {
                    Some(vin) => Some(vehicle_by_vin(tx, vin, line)?),
                    None => None,
                };
                let keys = cells.customer_keys(&from.source.system);
                t.customer = resolve_customer(tx, &keys, vehicle, line)?;
                t.vehicle = vehicle;
                t.dealer = from.dealer;
                let key = from.source.normalised()?.key(ModelKind::Touchpoint);
                if tx.t.source_records()?.get(key.as_slice())?.is_some() {
                    return Ok(Done::unchanged());
                }
                tx.insert_touchpoint(&t)?;
                tx.clear_feedback(&from.source, RecordKind::Touchpoint)?;
                Ok(Done::created())
            }
            RecordKind::Lead => {
                let mut lead = cells.lead(&from.source)?;
                let keys = cells.customer_keys(&from.source.system);
                lead.customer = resolve_customer(tx, &keys, None, line)?;
                lead.dealer = from.dealer;
                let source = from.source.normalised()?;
                if tx.source_lookup(ModelKind::Lead, &source, LEADS)?.is_some() {
                    return Ok(Done::unchanged());
                }
                tx.insert_lead(&lead)?;
                tx.clear_feedback(&from.source, RecordKind::Lead)?;
                Ok(Done::created())
            }
        }
    }

    /// The dealer with code `code`, cached.
    fn dealer(&mut self, tx: &Tx<'_>, code: &str) -> Result<Option<DealerId>> {
        let code = code.trim().to_ascii_uppercase();
        if let Some(d) = self.dealers.get(&code) {
            return Ok(*d);
        }
        let found =
            tx.t.dealer_by_code()?
                .get(code.as_str())?
                .map(|v| DealerId(v.value()));
        if self.dealers.len() >= DEALER_CACHE {
            self.dealers.clear();
        }
        self.dealers.insert(code, found);
        Ok(found)
    }

    /// Counts a rejected row and puts it into the sending dealer's feedback queue.
    fn reject(
        &mut self,
        tx: &mut Tx<'_>,
        from: &Received,
        line: u64,
        raw: &str,
        error: Error,
    ) -> Result<()> {
        let source_id = Some(from.source.record_id.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        self.report.reject(
            Rejection {
                line,
                source_id,
                code: error.code(),
                field: field_of(&error),
                message: error.to_string(),
            },
            self.opts.max_rejections,
        );
        match tx.reject(from, self.opts.kind, Some(line), raw, &error) {
            Ok(_) => Ok(()),
            // A source reference too malformed to key a queue entry: the report has it.
            Err(e) if is_row_error(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn unknown_dealer(line: u64, field: &'static str, code: &str) -> Error {
    ImportError::row(
        ImportCode::UnknownDealer,
        line,
        Some(field),
        code,
        "no dealer has this code; register the dealer first or correct the code",
    )
    .into()
}

/// The stored vehicle with VIN `vin`.
fn vehicle_by_vin(tx: &Tx<'_>, vin: &str, line: u64) -> Result<VehicleId> {
    let v = crate::validate::vin("vin", vin)?;
    let found =
        tx.t.vehicle_by_vin()?
            .get(v.as_str())?
            .map(|g| VehicleId(g.value()));
    found.ok_or_else(|| {
        ImportError::row(
            ImportCode::UnknownVehicle,
            line,
            Some("vin"),
            vin,
            "no stored vehicle has this VIN; import the vehicle first",
        )
        .into()
    })
}

/// The customer a row names: by the customer's source record, the current owner of the row's
/// vehicle (if the row names no customer), then the rule survivorship matches by
/// ([`WriteTxn::match_customer`]): national ID, credit code, phone + name.
fn resolve_customer(
    tx: &Tx<'_>,
    keys: &CustomerKeys,
    vehicle: Option<VehicleId>,
    line: u64,
) -> Result<CustomerId> {
    if let Some(src) = &keys.source {
        if let Ok(src) = src.normalised() {
            let found =
                tx.t.source_records()?
                    .get(src.key(ModelKind::Customer).as_slice())?
                    .map(|v| v.value());
            // A customer merged into another since stands for the survivor.
            if let Some(Some(id)) = found.map(|id| tx.redirected_customer(id)).transpose()? {
                return Ok(id);
            }
        }
    }
    if keys.is_empty() {
        if let Some(v) = vehicle {
            if let Some(o) = tx.ownership(v)?.current() {
                return Ok(o.customer);
            }
        }
    }
    let national_id = keys
        .national_id
        .as_deref()
        .map(|k| crate::validate::national_id("customer_national_id", k))
        .transpose()?;
    let credit_code = keys
        .credit_code
        .as_deref()
        .map(|k| crate::validate::credit_code("customer_credit_code", k))
        .transpose()?;
    let phones: Vec<String> = keys
        .phone
        .as_deref()
        .map(|p| crate::validate::mobile_phone("customer_phone", p))
        .transpose()?
        .into_iter()
        .collect();
    if !phones.is_empty() && keys.name.is_none() && national_id.is_none() && credit_code.is_none() {
        return Err(ImportError::row(
            ImportCode::MissingColumn,
            line,
            Some("customer_name"),
            "",
            "a customer is found by phone only together with the name: add customer_name, \
             or name the customer by customer_national_id or customer_source_id",
        )
        .into());
    }
    // The one matching rule survivorship applies (integration::MatchKeys).
    let m = tx.match_customer(&MatchKeys {
        national_id: national_id.as_deref(),
        credit_code: credit_code.as_deref(),
        vin: None,
        phones: &phones,
        name: keys.name.as_deref(),
        organisation: None,
    })?;
    match m {
        CustomerMatch::One(id) => return Ok(id),
        CustomerMatch::Several(_) => {
            return Err(ImportError::row(
                ImportCode::AmbiguousCustomer,
                line,
                Some("customer_phone"),
                keys.phone.as_deref().unwrap_or_default(),
                "several customers have this phone and name; add customer_national_id or \
                 customer_source_id",
            )
            .into())
        }
        CustomerMatch::None => {}
    }
    let given = [
        (
            "customer_source_id",
            keys.source.as_ref().map(|s| s.record_id.as_str()),
        ),
        ("customer_national_id", keys.national_id.as_deref()),
        ("customer_credit_code", keys.credit_code.as_deref()),
        ("customer_phone", keys.phone.as_deref()),
    ];
    match given.iter().find_map(|(f, v)| v.map(|v| (*f, v))) {
        Some((field, value)) => Err(ImportError::row(
            ImportCode::UnknownCustomer,
            line,
            Some(field),
            value,
            "no stored customer matches; import the customer first or correct the key",
        )
        .into()),
        None if vehicle.is_some() => Err(ImportError::row(
            ImportCode::UnknownCustomer,
            line,
            Some("vin"),
            "",
            "the vehicle has no current owner; name the customer by customer_source_id, \
             customer_national_id, customer_credit_code or customer_phone",
        )
        .into()),
        None => Err(ImportError::row(
            ImportCode::MissingColumn,
            line,
            Some("customer_source_id"),
            "",
            "name the customer by customer_source_id, customer_national_id, \
             customer_credit_code or customer_phone",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes as released: they never change.
    const RELEASED: [&str; 20] = [
        "import.file_unreadable",
        "import.no_header",
        "import.duplicate_column",
        "import.missing_column",
        "import.bad_csv",
        "import.bad_json",
        "import.line_too_long",
        "import.bad_encoding",
        "import.extra_cells",
        "import.no_rows",
        "import.bad_date",
        "import.bad_number",
        "import.bad_value",
        "import.unknown_value",
        "import.unknown_dealer",
        "import.unknown_customer",
        "import.ambiguous_customer",
        "import.unknown_vehicle",
        "import.unknown_kind",
        "import.unknown_option",
    ];

    #[test]
    fn import_codes_are_stable_distinct_and_documented() {
        const DOC: &str = include_str!("../../../docs/import.md");
        let codes: Vec<&str> = ImportCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, RELEASED);
        for (i, &c) in ImportCode::ALL.iter().enumerate() {
            assert_eq!(
                c as usize, i,
                "ImportCode::ALL is out of declaration order at {c:?}"
            );
            assert_eq!(c.to_string(), c.code());
            assert!(
                DOC.contains(&format!("`{}`", c.code())),
                "docs/import.md lacks {c}"
            );
        }
        assert_eq!(codes::BAD_DATE, "import.bad_date");
        assert_eq!(codes::MISSING_COLUMN, "import.missing_column");
    }

    #[test]
    fn an_import_error_keeps_its_code_string() {
        let e = ImportError::row(
            ImportCode::BadDate,
            3,
            Some("birth_date"),
            "x",
            "unreadable",
        );
        assert!(e.to_string().ends_with("[import.bad_date]"), "{e}");
        assert_eq!(Error::from(e).code(), "import.bad_date");
    }
}
