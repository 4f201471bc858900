//! The store as a lakehouse folder (cargo feature `parquet`): every table of
//! [`crate::export`] as Parquet files in a hive-partitioned layout that DuckDB, Spark, Polars,
//! pandas and the like read directly, plus a `_manifest.json` naming what a snapshot holds.
//!
//! ```text
//! DIR/
//!   _manifest.json                       written last: format, snapshot time, tables, files
//!   dealers/part-0.parquet
//!   customers/part-0.parquet
//!   vehicles/part-0.parquet
//!   ownership/part-0.parquet
//!   touchpoints/month=2025-06/part-0.parquet     one folder per month of `at`
//!   touchpoints/month=2025-07/part-0.parquet
//!   leads/  complaints/  surveys/  postings/  lots/  home_dealers/   (part-0.parquet each)
//! ```
//!
//! The columns of each file are those of the table's Arrow export (e.g.
//! [`customers_schema`](super::customers_schema)), except that times are `timestamp[ms]`
//! (naive local time, as stored) where the Arrow tables have `timestamp[s]`: Parquet has no
//! seconds unit. A partitioned table's files leave the partition column out (`month`,
//! `YYYY-MM`, is in the folder name, as hive layouts do).
//! Every file is Snappy-compressed Parquet; an empty table still gets its (empty) file, so its
//! schema is there to read, except the touchpoints of a store without any (no month, no
//! folder).
//!
//! A snapshot is written from one read transaction, so the tables agree with each other. Each
//! file is first written under a hidden temporary name (`.part-0.parquet.tmp`) and synced;
//! only when every table is written are the files renamed to their final names, then the
//! manifest is written the same way. A crash therefore never leaves a half-written file under a
//! final name, and a folder's manifest names only complete files.
//!
//! The target folder must be new, empty, or hold an earlier export (its `_manifest.json` says
//! `"format": "autocrm-lake"`): anything else is refused with
//! `invalid_operation.export_target_not_empty` before anything is read or written, so an
//! export never mixes its files into a folder it does not own. Exporting again into an earlier
//! export replaces it: files of the new snapshot overwrite the old ones, and files the old
//! manifest named that the new snapshot has not (a month whose touchpoints were deleted) are
//! removed after the new manifest is in place. A file that cannot be written is `io`
//! ([`Error::Io`]), naming it.
//!
//! The manifest's `sequence` is the change feed's position the snapshot is current to (`null`
//! when the feed is off): [`write_increment`] appends what changed after it (its module
//! documentation describes the files and how a reader combines them).
//!
//! ```
//! # fn main() -> autocrm::Result<()> {
//! use autocrm::{export::lake, Customer, Database};
//! let db = Database::in_memory()?;
//! db.write(|tx| tx.insert_customer(&Customer::person("王小明")).map(|_| ()))?;
//! let dir = std::env::temp_dir().join(format!("autocrm-lake-doc-{}", std::process::id()));
//! let report = lake::write_snapshot(&db.begin_read()?, &dir, &lake::LakeOptions::default())?;
//! assert_eq!(report.table("customers").map(|t| t.rows), Some(1));
//! assert!(dir.join("_manifest.json").exists());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use std::sync::Arc;

use arrow_array::types::TimestampSecondType;
use arrow_array::{ArrayRef, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::date::{Date, DateTime};
use crate::error::{Error, Refusal, Result};
use crate::store::ReadTxn;

mod increment;
pub use increment::{deletions_schema, write_increment, DELETIONS};

/// The value of the manifest's `format` field: what marks a folder as an autocrm export.
pub const FORMAT: &str = "autocrm-lake";

/// The version of the folder layout and manifest this build writes. It changes when a reader
/// would have to change: a table renamed or re-partitioned, a manifest field's meaning.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's file name, at the root of the folder.
pub const MANIFEST: &str = "_manifest.json";

/// The name every table's (or partition's) one file gets.
const PART: &str = "part-0.parquet";

/// Rows per Parquet row group by default.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 128 * 1024;

/// A table of the lakehouse folder, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LakeTable {
    /// [`super::dealers`].
    Dealers,
    /// [`super::customers`].
    Customers,
    /// [`super::vehicles`].
    Vehicles,
    /// [`super::ownership`].
    Ownership,
    /// [`super::touchpoints`], partitioned by month of `at`.
    Touchpoints,
    /// [`super::leads`].
    Leads,
    /// [`super::complaints`].
    Complaints,
    /// [`super::surveys`].
    Surveys,
    /// [`super::postings`].
    Postings,
    /// [`super::lots`].
    Lots,
    /// [`super::home_dealers`] on the snapshot's `as_of` day.
    HomeDealers,
}

impl LakeTable {
    /// Every table, in the order they are written.
    pub const ALL: [LakeTable; 11] = [
        LakeTable::Dealers,
        LakeTable::Customers,
        LakeTable::Vehicles,
        LakeTable::Ownership,
        LakeTable::Touchpoints,
        LakeTable::Leads,
        LakeTable::Complaints,
        LakeTable::Surveys,
        LakeTable::Postings,
        LakeTable::Lots,
        LakeTable::HomeDealers,
    ];

    /// The table's folder name.
    pub fn name(self) -> &'static str {
        match self {
            LakeTable::Dealers => "dealers",
            LakeTable::Customers => "customers",
            LakeTable::Vehicles => "vehicles",
            LakeTable::Ownership => "ownership",
            LakeTable::Touchpoints => "touchpoints",
            LakeTable::Leads => "leads",
            LakeTable::Complaints => "complaints",
            LakeTable::Surveys => "surveys",
            LakeTable::Postings => "postings",
            LakeTable::Lots => "lots",
            LakeTable::HomeDealers => "home_dealers",
        }
    }

    /// The columns of the table's files: the Arrow export's, with every `timestamp[s]` as
    /// `timestamp[ms]` (Parquet has no seconds unit: a seconds column would be stored as a
    /// bare integer that DuckDB and Spark do not read as a time).
    pub fn schema(self) -> SchemaRef {
        file_schema(&self.arrow_schema())
    }

    /// The columns of the table's Arrow export.
    pub fn arrow_schema(self) -> SchemaRef {
        match self {
            LakeTable::Dealers => super::dealers_schema(),
            LakeTable::Customers => super::customers_schema(),
            LakeTable::Vehicles => super::vehicles_schema(),
            LakeTable::Ownership => super::ownership_schema(),
            LakeTable::Touchpoints => super::touchpoints_schema(),
            LakeTable::Leads => super::leads_schema(),
            LakeTable::Complaints => super::complaints_schema(),
            LakeTable::Surveys => super::surveys_schema(),
            LakeTable::Postings => super::postings_schema(),
            LakeTable::Lots => super::lots_schema(),
            LakeTable::HomeDealers => super::home_dealers_schema(),
        }
    }

    /// The hive partition column of the table's folders, if it is partitioned.
    pub fn partitioned_by(self) -> Option<&'static str> {
        match self {
            LakeTable::Touchpoints => Some("month"),
            _ => None,
        }
    }
}

/// How [`write`] writes.
#[derive(Clone, Debug)]
pub struct LakeOptions {
    /// Append an increment to the export in the folder ([`write_increment`]) instead of
    /// writing a snapshot (default: no).
    pub incremental: bool,
    /// The day the `home_dealers` table is computed for; default: the snapshot's day
    /// (today by the handle's clock).
    pub as_of: Option<Date>,
    /// Threads decoding the customers table ([`super::customers`]'s `threads`).
    pub threads: Option<usize>,
    /// Rows per Parquet row group (at least 1; default [`DEFAULT_ROW_GROUP_ROWS`]).
    pub row_group_rows: usize,
}

impl Default for LakeOptions {
    fn default() -> LakeOptions {
        LakeOptions {
            incremental: false,
            as_of: None,
            threads: None,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
        }
    }
}

/// One Parquet file of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeFile {
    /// The path below the export folder, `/`-separated, e.g.
    /// `touchpoints/month=2025-07/part-0.parquet`.
    pub path: String,
    /// The hive partition value of the file's folder (`2025-07`), if the table is partitioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// One table of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeTableReport {
    /// The table's folder name, e.g. `"touchpoints"`.
    pub name: String,
    /// Its hive partition column, if partitioned (`"month"`).
    pub partitioned_by: Option<String>,
    /// Rows in all its files.
    pub rows: u64,
    /// Bytes of all its files.
    pub bytes: u64,
    /// Its files.
    pub files: Vec<LakeFile>,
}

/// What an export wrote: the content of its manifest, and how long it took.
#[derive(Clone, Debug, PartialEq)]
pub struct LakeReport {
    /// The export folder.
    pub dir: PathBuf,
    /// When the snapshot was taken, by the handle's clock (naive local time).
    pub snapshot_at: DateTime,
    /// The day `home_dealers` is computed for.
    pub as_of: Date,
    /// The scope the export was made as (`dealer:D001`), or `None` for an unscoped export.
    pub scope: Option<String>,
    /// The change-feed position the folder is current to after this export (`None`: the feed
    /// is off, or the export is scoped); the next increment starts after it.
    pub sequence: Option<u64>,
    /// The tables, in [`LakeTable::ALL`] order.
    pub tables: Vec<LakeTableReport>,
    /// How long reading and writing took (the wall clock, not the handle's).
    pub elapsed: Duration,
}

impl LakeReport {
    /// The table named `name`, if the export has it.
    pub fn table(&self, name: &str) -> Option<&LakeTableReport> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Rows in every table.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    /// Bytes of every Parquet file (the manifest not counted).
    pub fn bytes(&self) -> u64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }

    /// Parquet files written.
    pub fn files(&self) -> usize {
        self.tables.iter().map(|t| t.files.len()).sum()
    }

    /// Rows written per second of [`elapsed`](Self::elapsed).
    pub fn rows_per_second(&self) -> f64 {
        self.rows() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The manifest as stored in `_manifest.json`.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    /// `"snapshot"`: every row as of one read transaction.
    kind: String,
    /// `YYYY-MM-DDTHH:MM:SS`, naive local time.
    snapshot_at: String,
    /// `YYYY-MM-DD`.
    as_of: String,
    /// Reserved for the change feed's position of the snapshot; `null` until it exists.
    sequence: Option<u64>,
    scope: Option<String>,
    autocrm_version: String,
    tables: Vec<LakeTableReport>,
}

/// A snapshot ([`write_snapshot`]) or, with [`LakeOptions::incremental`], an increment
/// ([`write_increment`]) of `read` into `dir`: the entry point the CLI and the bindings call.
pub fn write(read: &ReadTxn, dir: &Path, opts: &LakeOptions) -> Result<LakeReport> {
    if opts.incremental {
        write_increment(read, dir, opts)
    } else {
        write_snapshot(read, dir, opts)
    }
}

/// Writes every table of snapshot `read` under `dir` as Parquet files, then the manifest (the
/// module documentation describes the layout, the refusal of a foreign folder and what a crash
/// leaves). `dir` is created if missing.
pub fn write_snapshot(read: &ReadTxn, dir: &Path, opts: &LakeOptions) -> Result<LakeReport> {
    let target = Target::check(dir)?;
    let on = opts.as_of.unwrap_or_else(|| read.now().date());
    let sequence = if read.change_feed_enabled()? {
        Some(read.last_change()?)
    } else {
        None
    };
    let mut staged = stage(read, target, opts, None, |t| whole_table(read, t, opts, on))?;
    staged.manifest.sequence = sequence;
    staged.report.sequence = sequence;
    staged.publish()
}

/// Every row of table `t` in snapshot `read`, unscoped: what a snapshot writes, and what an
/// increment picks its changed rows from. `on` is the day `home_dealers` is computed for.
fn whole_table(
    read: &ReadTxn,
    t: LakeTable,
    opts: &LakeOptions,
    on: Date,
) -> Result<Vec<RecordBatch>> {
    Ok(match t {
        LakeTable::Dealers => vec![super::dealers(read)?],
        LakeTable::Customers => super::customers(read, opts.threads)?,
        LakeTable::Vehicles => vec![super::vehicles(read)?],
        LakeTable::Ownership => vec![super::ownership(read)?],
        LakeTable::Touchpoints => vec![super::touchpoints(read, None)?],
        LakeTable::Leads => vec![super::leads(read)?],
        LakeTable::Complaints => vec![super::complaints(read)?],
        LakeTable::Surveys => vec![super::surveys(read)?],
        LakeTable::Postings => vec![super::postings(read, None)?],
        LakeTable::Lots => vec![super::lots(read)?],
        LakeTable::HomeDealers => vec![super::home_dealers(read, on)?],
    })
}

/// An export folder found fit to write into: new, empty, or an earlier export (whose files
/// are listed, to remove those the new snapshot does not rewrite).
pub(crate) struct Target {
    dir: PathBuf,
    previous: Vec<String>,
}

impl Target {
    /// Checks `dir` without writing anything: refuses a file, and a folder that is neither
    /// empty nor an earlier export.
    pub(crate) fn check(dir: &Path) -> Result<Target> {
        let dir = dir.to_path_buf();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Target {
                    dir,
                    previous: vec![],
                })
            }
            Err(e) => return Err(io("read the folder", &dir, e)),
        };
        let empty = match entries.into_iter().next() {
            None => true,
            Some(e) => {
                e.map_err(|e| io("read the folder", &dir, e))?;
                false
            }
        };
        if empty {
            return Ok(Target {
                dir,
                previous: vec![],
            });
        }
        let foreign = || {
            Error::refused(
                Refusal::ExportTargetNotEmpty,
                format!(
                    "cannot export into {}: the folder is not empty and is not an autocrm \
                     export",
                    dir.display()
                ),
            )
        };
        let manifest = dir.join(MANIFEST);
        let text = match fs::read_to_string(&manifest) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(foreign()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(foreign()),
            Err(e) => return Err(io("read", &manifest, e)),
        };
        match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if m.format == FORMAT => Ok(Target {
                previous: m
                    .tables
                    .into_iter()
                    .flat_map(|t| t.files)
                    .map(|f| f.path)
                    .collect(),
                dir,
            }),
            _ => Err(foreign()),
        }
    }
}

/// The tables written under temporary names, waiting for [`Staged::publish`]. Dropped
/// unpublished (an error, a panic), it removes its temporary files.
pub(crate) struct Staged {
    target: Target,
    /// (temporary path, final path) of every file.
    renames: Vec<(PathBuf, PathBuf)>,
    manifest: Manifest,
    report: LakeReport,
    started: Instant,
    published: bool,
}

/// Writes every table `table` gives under `target` with temporary names: the first half of an
/// export. `table` is called once per table, in [`LakeTable::ALL`] order, so only one table is
/// in memory at a time.
pub(crate) fn stage(
    read: &ReadTxn,
    target: Target,
    opts: &LakeOptions,
    scope: Option<String>,
    mut table: impl FnMut(LakeTable) -> Result<Vec<RecordBatch>>,
) -> Result<Staged> {
    let started = Instant::now();
    let snapshot_at = read.now();
    let as_of = opts.as_of.unwrap_or_else(|| snapshot_at.date());
    let mut staged = Staged {
        renames: Vec::new(),
        manifest: Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            kind: "snapshot".into(),
            snapshot_at: snapshot_at.to_string(),
            as_of: as_of.to_string(),
            sequence: None,
            scope: scope.clone(),
            autocrm_version: env!("CARGO_PKG_VERSION").into(),
            tables: Vec::new(),
        },
        report: LakeReport {
            dir: target.dir.clone(),
            snapshot_at,
            as_of,
            scope,
            sequence: None,
            tables: Vec::new(),
            elapsed: Duration::ZERO,
        },
        target,
        started,
        published: false,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_created_by(format!("autocrm {}", env!("CARGO_PKG_VERSION")))
        .build();
    for t in LakeTable::ALL {
        let batches = table(t)?;
        let parts: Vec<(Option<String>, Vec<RecordBatch>)> = match t.partitioned_by() {
            Some(_) => by_month(&batches)?
                .into_iter()
                .map(|(m, b)| (Some(m), vec![b]))
                .collect(),
            None => vec![(None, batches)],
        };
        let mut report = LakeTableReport {
            name: t.name().into(),
            partitioned_by: t.partitioned_by().map(Into::into),
            rows: 0,
            bytes: 0,
            files: Vec::new(),
        };
        for (partition, batches) in parts {
            let rel = match (&partition, t.partitioned_by()) {
                (Some(v), Some(col)) => format!("{}/{col}={v}/{PART}", t.name()),
                _ => format!("{}/{PART}", t.name()),
            };
            let path = staged.target.dir.join(&rel);
            let tmp = temporary(&path);
            let folder = path.parent().expect("a table file is inside its folder");
            fs::create_dir_all(folder).map_err(|e| io("create", folder, e))?;
            // Noted before writing, so a failure part-way still removes the temporary file.
            staged.renames.push((tmp.clone(), path));
            let rows = write_parquet(&tmp, t.schema(), &batches, props.clone())?;
            let bytes = fs::metadata(&tmp).map_err(|e| io("read", &tmp, e))?.len();
            report.rows += rows;
            report.bytes += bytes;
            report.files.push(LakeFile {
                path: rel,
                partition,
                rows,
                bytes,
            });
        }
        staged.report.tables.push(report);
    }
    staged.manifest.tables = staged.report.tables.clone();
    Ok(staged)
}

impl Staged {
    /// Renames every file to its final name, writes the manifest (also through a temporary
    /// name), then removes the files of the previous export the new one did not rewrite.
    pub(crate) fn publish(mut self) -> Result<LakeReport> {
        let mut folders = BTreeSet::new();
        for (tmp, path) in &self.renames {
            fs::rename(tmp, path).map_err(|e| io("rename", tmp, e))?;
            folders.extend(path.parent().map(Path::to_path_buf));
        }
        for f in &folders {
            sync_dir(f)?;
        }
        let manifest = self.target.dir.join(MANIFEST);
        let tmp = temporary(&manifest);
        let text = serde_json::to_string_pretty(&self.manifest).map_err(|e| Error::Internal {
            what: format!("writing the export manifest: {e}"),
        })?;
        self.renames.push((tmp.clone(), manifest.clone()));
        write_synced(&tmp, |f| f.write_all(text.as_bytes()))?;
        fs::rename(&tmp, &manifest).map_err(|e| io("rename", &tmp, e))?;
        sync_dir(&self.target.dir)?;
        self.published = true;
        let written: BTreeSet<&str> = self
            .manifest
            .tables
            .iter()
            .flat_map(|t| t.files.iter().map(|f| f.path.as_str()))
            .collect();
        for old in &self.target.previous {
            if written.contains(old.as_str()) || !is_table_file(old) {
                continue;
            }
            let path = self.target.dir.join(old);
            match fs::remove_file(&path) {
                Ok(()) => {
                    // A partition folder left empty goes too (fails harmlessly if not empty).
                    if let Some(parent) = path.parent() {
                        let _ = fs::remove_dir(parent);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove", &path, e)),
            }
        }
        self.report.elapsed = self.started.elapsed();
        Ok(self.report.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            for (tmp, _) in &self.renames {
                let _ = fs::remove_file(tmp);
            }
        }
    }
}

/// Whether `rel`, a path an old manifest lists, is one this module could have written:
/// `<table>/part-0.parquet` or `<table>/<column>=<value>/part-0.parquet`, no `..`. A damaged
/// or hand-edited manifest cannot make an export remove anything else.
fn is_table_file(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let table_ok = LakeTable::ALL
        .iter()
        .map(|t| t.name())
        .chain([DELETIONS])
        .any(|t| Some(&t) == parts.first());
    // `part-0.parquet` (a snapshot) or `part-<n>.parquet` (an increment).
    let last_ok = parts.last().is_some_and(|f| {
        f.strip_prefix("part-")
            .and_then(|f| f.strip_suffix(".parquet"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    let middle_ok = match parts.len() {
        2 => true,
        3 => {
            parts[1].contains('=') && !parts[1].contains(['\\', '/']) && !parts[1].starts_with('.')
        }
        _ => false,
    };
    table_ok && last_ok && middle_ok
}

/// `schema` with every `timestamp[s]` column as `timestamp[ms]` (same time zone).
fn file_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Second, tz) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(TimeUnit::Millisecond, tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` as written to Parquet ([`file_schema`]): seconds times as milliseconds.
fn for_parquet(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = file_schema(&batch.schema());
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.as_primitive_opt::<TimestampSecondType>() {
            Some(secs) => {
                let ms: TimestampMillisecondArray = secs.unary(|s| s.saturating_mul(1000));
                Arc::new(ms.with_timezone_opt(secs.timezone())) as ArrayRef
            }
            None => c.clone(),
        })
        .collect();
    RecordBatch::try_new(schema, cols).map_err(super::internal)
}

/// The hidden temporary name a file is written under: `.part-0.parquet.tmp` next to it
/// (hidden, so Spark and Hive skip it, and not `*.parquet`, so globs skip it).
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `batches` of `schema` as one Parquet file at `path`, synced; returns the rows.
fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    props: WriterProperties,
) -> Result<u64> {
    let file = File::create(path).map_err(|e| io("create", path, e))?;
    let fail = |e: parquet::errors::ParquetError| parquet_error(path, e);
    let mut w = ArrowWriter::try_new(BufWriter::new(file), schema, Some(props)).map_err(fail)?;
    let mut rows = 0;
    for b in batches {
        w.write(&for_parquet(b)?).map_err(fail)?;
        rows += b.num_rows() as u64;
    }
    let file = w.into_inner().map_err(fail)?;
    let file = file
        .into_inner()
        .map_err(|e| io("write", path, e.into_error()))?;
    file.sync_all().map_err(|e| io("sync", path, e))?;
    Ok(rows)
}

/// A Parquet error writing `path`: the disk's ([`Error::Io`]) when it is an I/O error, else
/// a bug (the batches always match their schema).
fn parquet_error(path: &Path, e: parquet::errors::ParquetError) -> Error {
    use parquet::errors::ParquetError;
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(ioe) => io("write", path, *ioe),
            Err(other) => Error::Internal {
                what: format!("writing Parquet file {}: {other}", path.display()),
            },
        },
        e => Error::Internal {
            what: format!("writing Parquet file {}: {e}", path.display()),
        },
    }
}

/// Creates `path`, lets `f` write it, and syncs it to disk.
fn write_synced(path: &Path, f: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<()> {
    let mut file = File::create(path).map_err(|e| io("create", path, e))?;
    f(&mut file).map_err(|e| io("write", path, e))?;
    file.sync_all().map_err(|e| io("sync", path, e))
}

/// Syncs a folder, so the renames in it survive a power loss (a no-op where folders cannot
/// be opened, e.g. Windows).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("sync", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// [`Error::Io`] for `what` on `path`.
fn io(what: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// The rows of the touchpoints `batches` split by the month of their `at` column, months in
/// order (`YYYY-MM`), each month's rows in their order in `batches`.
fn by_month(batches: &[RecordBatch]) -> Result<BTreeMap<String, RecordBatch>> {
    let mut rows: BTreeMap<(i32, u32), Vec<(usize, u32)>> = BTreeMap::new();
    for (bi, b) in batches.iter().enumerate() {
        let at = b
            .column_by_name("at")
            .and_then(|c| c.as_primitive_opt::<TimestampSecondType>())
            .ok_or_else(|| Error::Internal {
                what: "the touchpoints table has no timestamp[s] `at` column".into(),
            })?;
        for (i, &s) in at.values().iter().enumerate() {
            let (y, m, _) = DateTime::from_seconds(s).date().ymd();
            rows.entry((y, m)).or_default().push((bi, i as u32));
        }
    }
    let mut out = BTreeMap::new();
    for ((y, m), idx) in rows {
        let mut parts = Vec::new();
        for (bi, b) in batches.iter().enumerate() {
            let take: UInt32Array = idx
                .iter()
                .filter(|(i, _)| *i == bi)
                .map(|&(_, r)| r)
                .collect();
            if !take.is_empty() {
                parts.push(
                    arrow_select::take::take_record_batch(b, &take).map_err(super::internal)?,
                );
            }
        }
        let batch = match parts.len() {
            1 => parts.pop().expect("one part"),
            _ => arrow_select::concat::concat_batches(&batches[0].schema(), &parts)
                .map_err(super::internal)?,
        };
        out.insert(format!("{y:04}-{m:02}"), batch);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_an_export_writes_are_removed_as_stale() {
        assert!(is_table_file("customers/part-0.parquet"));
        assert!(is_table_file("touchpoints/month=2025-07/part-0.parquet"));
        assert!(!is_table_file("../etc/part-0.parquet"));
        assert!(!is_table_file("touchpoints/../../x/part-0.parquet"));
        assert!(!is_table_file("customers/other.parquet"));
        assert!(!is_table_file("notes/part-0.parquet"));
        assert!(!is_table_file("/customers/part-0.parquet"));
        assert!(is_table_file("customers/part-1350.parquet"));
        assert!(is_table_file("_deletions/part-1350.parquet"));
        assert!(!is_table_file("customers/part-.parquet"));
        assert!(!is_table_file("customers/part-1x.parquet"));
    }

    #[test]
    fn temporary_names_are_hidden_and_not_parquet() {
        let t = temporary(Path::new("d/customers/part-0.parquet"));
        assert_eq!(t, Path::new("d/customers/.part-0.parquet.tmp"));
    }
}
