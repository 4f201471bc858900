//! Incremental exports: the records the change feed says changed since an export's
//! `sequence`, appended as new files beside the snapshot's, plus the ids that are gone.
//!
//! ```text
//! DIR/customers/part-0.parquet            the snapshot (sequence 1200)
//! DIR/customers/part-1350.parquet         customers changed in changes 1201..=1350, as now
//! DIR/touchpoints/month=2025-07/part-1350.parquet
//! DIR/_deletions/part-1350.parquet        (table, id, sequence): rows gone since the last part
//! ```
//!
//! A reader takes, per table and id, the row(s) of the file with the highest part number
//! (`part-<n>`: `n` is the change-feed position the file is current to; the snapshot's is 0),
//! and drops an id whose latest `_deletions` entry is newer than that file. The ownership
//! table's rows are per vehicle (`vehicle` column): a vehicle's latest part holds its whole
//! history. `lots` and `home_dealers` are derived tables and are only rewritten by a snapshot.
//! Old files are never rewritten; a new snapshot into the folder replaces everything.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, StringBuilder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{
    by_month, io, sync_dir, temporary, whole_table, write_parquet, write_synced, LakeFile,
    LakeOptions, LakeReport, LakeTable, LakeTableReport, Manifest, FORMAT, MANIFEST,
};
use crate::error::{Error, Refusal, Result};
use crate::feed::{ChangeKey, Entity};
use crate::store::ReadTxn;

/// The folder of the deletion files.
pub const DELETIONS: &str = "_deletions";

/// Changes read per page while gathering an increment.
const PAGE: usize = 10_000;

/// The columns of a deletion file: the table's folder name, the id gone, and the position of
/// the increment that found it gone.
pub fn deletions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("id", DataType::UInt64, false),
        Field::new("sequence", DataType::UInt64, false),
    ]))
}

impl LakeTable {
    /// The column naming a row's record, and the entities whose changes touch the table;
    /// `None` for the derived tables an increment leaves to the next snapshot.
    fn fed_by(self) -> Option<(&'static str, &'static [Entity])> {
        Some(match self {
            LakeTable::Dealers => ("id", &[Entity::Dealer]),
            LakeTable::Customers => ("id", &[Entity::Customer]),
            // The vehicles table names the current owner; ownership rows repeat the VIN.
            LakeTable::Vehicles => ("id", &[Entity::Vehicle, Entity::Ownership]),
            LakeTable::Ownership => ("vehicle", &[Entity::Vehicle, Entity::Ownership]),
            LakeTable::Touchpoints => ("id", &[Entity::Touchpoint]),
            LakeTable::Leads => ("id", &[Entity::Lead]),
            LakeTable::Complaints => ("id", &[Entity::Complaint]),
            LakeTable::Surveys => ("id", &[Entity::Survey]),
            LakeTable::Postings => ("id", &[Entity::Posting]),
            LakeTable::Lots | LakeTable::HomeDealers => return None,
        })
    }
}

/// The rows of `batches` whose `column` is in `ids`, and the ids found.
fn keep(
    batches: Vec<RecordBatch>,
    column: &str,
    ids: &HashSet<u64>,
) -> Result<(Vec<RecordBatch>, HashSet<u64>)> {
    let mut out = Vec::new();
    let mut found = HashSet::new();
    for b in batches {
        let col = b
            .column_by_name(column)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or_else(|| Error::Internal {
                what: format!("an exported table has no uint64 `{column}` column"),
            })?;
        let mask: BooleanArray = col
            .values()
            .iter()
            .map(|id| {
                let hit = ids.contains(id);
                if hit {
                    found.insert(*id);
                }
                Some(hit)
            })
            .collect();
        let kept =
            arrow_select::filter::filter_record_batch(&b, &mask).map_err(super::super::internal)?;
        if kept.num_rows() > 0 {
            out.push(kept);
        }
    }
    Ok((out, found))
}

/// Appends to the export in `dir` the records changed since its manifest's `sequence`, read
/// from snapshot `read` (see the module documentation). Refused with
/// `invalid_operation.export_not_incremental` if the folder holds no export with a change-feed
/// position (a snapshot written while the feed was off), and `invalid_operation.changes_pruned`
/// if the feed no longer holds the changes after it: write a snapshot then. Writes nothing
/// (and returns an empty report) when nothing changed.
pub fn write_increment(read: &ReadTxn, dir: &Path, opts: &LakeOptions) -> Result<LakeReport> {
    let started = std::time::Instant::now();
    let manifest_path = dir.join(MANIFEST);
    let not_incremental = |why: &str| {
        Error::refused(
            Refusal::ExportNotIncremental,
            format!("cannot add an increment to {}: {why}", dir.display()),
        )
    };
    let text = match fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_incremental("it holds no autocrm export"))
        }
        Err(e) => return Err(io("read", &manifest_path, e)),
    };
    let mut manifest: Manifest = match serde_json::from_str::<Manifest>(&text) {
        Ok(m) if m.format == FORMAT => m,
        _ => return Err(not_incremental("its manifest is not an autocrm export's")),
    };
    if manifest.scope.is_some() {
        return Err(not_incremental(
            "it was exported as a scope (increments are unscoped)",
        ));
    }
    let Some(from) = manifest.sequence else {
        return Err(not_incremental(
            "its snapshot was written while the change feed was off (register a consumer, \
             then export a snapshot)",
        ));
    };
    // Every change after the export's position, as of this snapshot.
    let mut changed: HashMap<LakeTable, HashSet<u64>> = HashMap::new();
    let mut at = from;
    let upto = loop {
        let page = read.changes_after(at, PAGE)?;
        for c in &page.changes {
            let id = match c.key {
                ChangeKey::Id(id) | ChangeKey::Touchpoint { id, .. } => id,
                _ => continue,
            };
            for t in LakeTable::ALL {
                if let Some((_, entities)) = t.fed_by() {
                    if entities.contains(&c.entity) {
                        changed.entry(t).or_default().insert(id);
                    }
                }
            }
        }
        at = page.next;
        if page.changes.is_empty() || at >= page.last {
            break page.last.max(at);
        }
    };
    let snapshot_at = read.now();
    let mut report = LakeReport {
        dir: dir.to_path_buf(),
        snapshot_at,
        as_of: opts.as_of.unwrap_or_else(|| snapshot_at.date()),
        scope: None,
        sequence: Some(from),
        tables: Vec::new(),
        elapsed: std::time::Duration::ZERO,
    };
    if upto == from {
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_created_by(format!("autocrm {}", env!("CARGO_PKG_VERSION")))
        .build();
    let part = format!("part-{upto}.parquet");
    let mut renames = Renames(Vec::new());
    let mut deleted = (StringBuilder::new(), UInt64Builder::new());
    let mut write = |name: &str,
                     partition: Option<(&str, String)>,
                     schema: SchemaRef,
                     batches: &[RecordBatch]|
     -> Result<LakeFile> {
        let rel = match &partition {
            Some((col, v)) => format!("{name}/{col}={v}/{part}"),
            None => format!("{name}/{part}"),
        };
        let path = dir.join(&rel);
        let tmp = temporary(&path);
        let folder = path.parent().expect("a table file is inside its folder");
        fs::create_dir_all(folder).map_err(|e| io("create", folder, e))?;
        renames.0.push((tmp.clone(), path));
        let rows = write_parquet(&tmp, schema, batches, props.clone())?;
        let bytes = fs::metadata(&tmp).map_err(|e| io("read", &tmp, e))?.len();
        Ok(LakeFile {
            path: rel,
            partition: partition.map(|(_, v)| v),
            rows,
            bytes,
        })
    };
    for t in LakeTable::ALL {
        let (Some((column, _)), Some(ids)) = (t.fed_by(), changed.get(&t)) else {
            continue;
        };
        // `fed_by` is `None` for the derived tables, so `home_dealers` is never computed here.
        let all = whole_table(read, t, opts, report.as_of)?;
        let (rows, found) = keep(all, column, ids)?;
        let mut gone: Vec<u64> = ids.difference(&found).copied().collect();
        gone.sort_unstable();
        for id in gone {
            deleted.0.append_value(t.name());
            deleted.1.append_value(id);
        }
        let mut table = LakeTableReport {
            name: t.name().into(),
            partitioned_by: t.partitioned_by().map(Into::into),
            rows: 0,
            bytes: 0,
            files: Vec::new(),
        };
        let files = match t.partitioned_by() {
            Some(col) => {
                let mut files = Vec::new();
                for (month, batch) in by_month(&rows)? {
                    files.push(write(t.name(), Some((col, month)), t.schema(), &[batch])?);
                }
                files
            }
            None if rows.is_empty() => Vec::new(),
            None => vec![write(t.name(), None, t.schema(), &rows)?],
        };
        for f in files {
            table.rows += f.rows;
            table.bytes += f.bytes;
            table.files.push(f);
        }
        if !table.files.is_empty() {
            report.tables.push(table);
        }
    }
    let n = deleted.1.len();
    if n > 0 {
        let sequence = vec![upto; n];
        let batch = RecordBatch::try_new(
            deletions_schema(),
            vec![
                Arc::new(deleted.0.finish()),
                Arc::new(deleted.1.finish()),
                Arc::new(arrow_array::UInt64Array::from(sequence)),
            ],
        )
        .map_err(super::super::internal)?;
        let f = write(DELETIONS, None, deletions_schema(), &[batch])?;
        report.tables.push(LakeTableReport {
            name: DELETIONS.into(),
            partitioned_by: None,
            rows: f.rows,
            bytes: f.bytes,
            files: vec![f],
        });
    }
    // Publish: the files under their final names, then the manifest naming them.
    let mut folders = std::collections::BTreeSet::new();
    for (tmp, path) in &renames.0 {
        fs::rename(tmp, path).map_err(|e| io("rename", tmp, e))?;
        folders.extend(path.parent().map(Path::to_path_buf));
    }
    renames.0.clear();
    for f in &folders {
        sync_dir(f)?;
    }
    let mut by_name: BTreeMap<String, usize> = manifest
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    for t in &report.tables {
        let i = match by_name.get(&t.name) {
            Some(&i) => i,
            None => {
                manifest.tables.push(LakeTableReport {
                    files: Vec::new(),
                    rows: 0,
                    bytes: 0,
                    ..t.clone()
                });
                by_name.insert(t.name.clone(), manifest.tables.len() - 1);
                manifest.tables.len() - 1
            }
        };
        let m = &mut manifest.tables[i];
        m.rows += t.rows;
        m.bytes += t.bytes;
        m.files.extend(t.files.iter().cloned());
    }
    manifest.sequence = Some(upto);
    report.sequence = Some(upto);
    manifest.kind = "snapshot+increments".into();
    manifest.snapshot_at = snapshot_at.to_string();
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal {
        what: format!("writing the export manifest: {e}"),
    })?;
    let tmp = temporary(&manifest_path);
    write_synced(&tmp, |f| std::io::Write::write_all(f, text.as_bytes()))?;
    fs::rename(&tmp, &manifest_path).map_err(|e| io("rename", &tmp, e))?;
    sync_dir(dir)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Temporary files not yet renamed: removed if the increment fails part-way.
struct Renames(Vec<(std::path::PathBuf, std::path::PathBuf)>);

impl Drop for Renames {
    fn drop(&mut self) {
        for (tmp, _) in &self.0 {
            let _ = fs::remove_file(tmp);
        }
    }
}
