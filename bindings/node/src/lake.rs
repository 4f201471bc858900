//! The lakehouse export (core `export::lake`, docs/export.md): options from JS and the report
//! as a plain object, for `NativeDatabase::export_lake` and `NativeScoped::export_lake`.

use autocrm::export::lake::{LakeOptions, LakeReport};
use serde_json::Value;

use crate::input::{self, date, Rec};
use crate::obj;
use crate::value::{ToV, V};

/// `{ asOf, threads, incremental }`.
pub fn options(opts: Option<Value>) -> napi::Result<LakeOptions> {
    let mut r = Rec::new("exportLake options", opts)?;
    let as_of = r.opt("asOf", date)?;
    let threads = r.opt("threads", input::uint)?.map(|t| t as usize);
    let incremental = r.opt("incremental", input::boolean)?.unwrap_or(false);
    r.done()?;
    Ok(LakeOptions {
        incremental,
        as_of,
        threads,
        ..LakeOptions::default()
    })
}

/// `{ dir, snapshotAt, asOf, scope, rows, bytes, files, seconds, rowsPerSecond, tables: [{
/// name, partitionedBy, rows, bytes, files: [{ path, partition, rows, bytes }] }] }`.
pub fn report(r: &LakeReport) -> V {
    let opt = |s: &Option<String>| s.as_deref().map_or(V::Null, |s| s.to_v());
    let tables = r
        .tables
        .iter()
        .map(|t| {
            let files = t
                .files
                .iter()
                .map(|f| {
                    obj! {
                        "path" => f.path.to_v(),
                        "partition" => opt(&f.partition),
                        "rows" => f.rows.to_v(),
                        "bytes" => f.bytes.to_v(),
                    }
                })
                .collect();
            obj! {
                "name" => t.name.to_v(),
                "partitionedBy" => opt(&t.partitioned_by),
                "rows" => t.rows.to_v(),
                "bytes" => t.bytes.to_v(),
                "files" => V::Arr(files),
            }
        })
        .collect();
    obj! {
        "dir" => r.dir.display().to_string().to_v(),
        "snapshotAt" => r.snapshot_at.to_v(),
        "asOf" => r.as_of.to_v(),
        "scope" => opt(&r.scope),
        "sequence" => r.sequence.to_v(),
        "rows" => r.rows().to_v(),
        "bytes" => r.bytes().to_v(),
        "files" => r.files().to_v(),
        "seconds" => r.elapsed.as_secs_f64().to_v(),
        "rowsPerSecond" => r.rows_per_second().to_v(),
        "tables" => V::Arr(tables),
    }
}
