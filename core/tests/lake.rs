//! The lakehouse export (`export::lake`, docs/export.md), read back with the `parquet` crate's
//! Arrow reader: every table holds what its Arrow export holds, touchpoints land in the folder
//! of their month, a foreign folder is refused with nothing written, an earlier export is
//! replaced (stale files removed), and a scoped export holds only the scope's customers and is
//! audited once.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;

use autocrm::api::{ScopedStore, Store};
use autocrm::audit::AuditAction;
use autocrm::export::lake::{self, LakeOptions, LakeReport, LakeTable};
use autocrm::export::{self, arrow_array};
use autocrm::*;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampSecondType, UInt64Type};
use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{synth_store, t};

fn scoped(store: &Store, scope: &str) -> ScopedStore {
    store.scoped(&scope.parse().unwrap(), "tester").unwrap()
}

/// A generated network with some club members, so the ledger tables have rows.
fn network() -> Store {
    let store = synth_store(11, 150);
    let db = store.database().unwrap();
    let ids = db.begin_read().unwrap().customer_ids().unwrap();
    db.write(|tx| {
        tx.set_loyalty_config(&autocrm::loyalty::LoyaltyConfig::default())?;
        for (i, &c) in ids.iter().take(20).enumerate() {
            tx.join_brand_club(c, fixtures::d("2025-01-01"), "web")?;
            tx.adjust(&autocrm::loyalty::Adjustment {
                customer: c,
                wallet: autocrm::loyalty::Wallet::Brand,
                points: 100 + i as i64,
                at: t("2025-02-01 10:00"),
                operator: "ops".into(),
                reason: "welcome".into(),
                key: format!("welcome/{}", c.0),
            })?;
        }
        Ok(())
    })
    .unwrap();
    store
}

/// Every batch of the Parquet file at `path`.
fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// Every row of table `name` in the export at `dir`, read from the files its manifest lists.
fn read_table(dir: &Path, report: &LakeReport, name: &str) -> Vec<RecordBatch> {
    let t = report.table(name).unwrap();
    t.files
        .iter()
        .flat_map(|f| read_parquet(&dir.join(&f.path)))
        .collect()
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

fn u64s(batches: &[RecordBatch], name: &str) -> Vec<u64> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name(name).unwrap().as_primitive::<UInt64Type>();
            c.values().to_vec()
        })
        .collect()
}

/// The manifest of the export at `dir`.
fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(lake::MANIFEST)).unwrap()).unwrap()
}

/// Every path below `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn every_table_reads_back_as_its_arrow_export() {
    let store = network();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lake");
    let r = store.database().unwrap().begin_read().unwrap();
    let on = fixtures::d("2025-06-30");
    let opts = LakeOptions {
        as_of: Some(on),
        ..LakeOptions::default()
    };
    let report = lake::write_snapshot(&r, &dir, &opts).unwrap();

    let expected: Vec<(LakeTable, Vec<RecordBatch>)> = vec![
        (LakeTable::Dealers, vec![export::dealers(&r).unwrap()]),
        (LakeTable::Customers, export::customers(&r, None).unwrap()),
        (LakeTable::Vehicles, vec![export::vehicles(&r).unwrap()]),
        (LakeTable::Ownership, vec![export::ownership(&r).unwrap()]),
        (
            LakeTable::Touchpoints,
            vec![export::touchpoints(&r, None).unwrap()],
        ),
        (LakeTable::Leads, vec![export::leads(&r).unwrap()]),
        (LakeTable::Complaints, vec![export::complaints(&r).unwrap()]),
        (LakeTable::Surveys, vec![export::surveys(&r).unwrap()]),
        (
            LakeTable::Postings,
            vec![export::postings(&r, None).unwrap()],
        ),
        (LakeTable::Lots, vec![export::lots(&r).unwrap()]),
        (
            LakeTable::HomeDealers,
            vec![export::home_dealers(&r, on).unwrap()],
        ),
    ];
    assert_eq!(report.tables.len(), LakeTable::ALL.len());
    for (table, want) in &expected {
        let got = read_table(&dir, &report, table.name());
        let n = rows(want);
        assert!(n > 0, "{}: the fixture has rows", table.name());
        assert_eq!(rows(&got), n, "{} rows", table.name());
        assert_eq!(report.table(table.name()).unwrap().rows, n as u64);
        // The same columns and types as the Arrow export (timestamps stay seconds).
        assert!(
            got.iter().all(|b| b.schema() == table.schema()),
            "{}",
            table.name()
        );
        if table.partitioned_by().is_none() {
            let want = as_stored(&arrow_select_concat(want));
            assert_eq!(arrow_select_concat(&got), want, "{} values", table.name());
        }
    }
    // Touchpoints: the same rows, grouped by month (ids as a set).
    let tp_got: BTreeSet<u64> = u64s(&read_table(&dir, &report, "touchpoints"), "id")
        .into_iter()
        .collect();
    let tp_want: BTreeSet<u64> = u64s(&expected[4].1, "id").into_iter().collect();
    assert_eq!(tp_got, tp_want);

    // The manifest: what the report says, written last; no change-feed position (feed off).
    let m = manifest(&dir);
    assert_eq!(m["format"], "autocrm-lake");
    assert_eq!(m["format_version"], lake::FORMAT_VERSION);
    assert_eq!(m["kind"], "snapshot");
    assert!(m["sequence"].is_null() && m.get("sequence").is_some());
    assert!(m["scope"].is_null());
    assert_eq!(m["as_of"], "2025-06-30");
    assert_eq!(m["snapshot_at"], report.snapshot_at.to_string());
    let tables = m["tables"].as_array().unwrap();
    assert_eq!(tables.len(), LakeTable::ALL.len());
    for (mt, rt) in tables.iter().zip(&report.tables) {
        assert_eq!(mt["name"], rt.name.as_str());
        assert_eq!(mt["rows"], rt.rows);
        let files = mt["files"].as_array().unwrap();
        assert_eq!(files.len(), rt.files.len());
        for f in files {
            let path = dir.join(f["path"].as_str().unwrap());
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                f["bytes"].as_u64().unwrap()
            );
            assert_eq!(
                rows(&read_parquet(&path)) as u64,
                f["rows"].as_u64().unwrap()
            );
        }
    }
    // Nothing else in the folder: no temporary file is left.
    let files: Vec<String> = listing(&dir)
        .into_iter()
        .filter(|p| p.ends_with(".parquet") || p.contains(".tmp") || p.ends_with(".json"))
        .collect();
    assert_eq!(files.len(), report.files() + 1, "{files:?}");
    assert!(files.iter().all(|f| !f.contains(".tmp")));
}

/// `b` as the lake stores it: `timestamp[s]` columns as `timestamp[ms]` (the same instants).
fn as_stored(b: &RecordBatch) -> RecordBatch {
    use arrow_array::types::TimestampMillisecondType;
    use arrow_array::{ArrayRef, PrimitiveArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        match c.as_primitive_opt::<TimestampSecondType>() {
            Some(s) => {
                let ms: PrimitiveArray<TimestampMillisecondType> = s.unary(|v| v * 1000);
                cols.push(std::sync::Arc::new(ms));
                let ty = DataType::Timestamp(TimeUnit::Millisecond, None);
                fields.push(Field::new(f.name(), ty, f.is_nullable()));
            }
            None => {
                cols.push(c.clone());
                fields.push(f.as_ref().clone());
            }
        }
    }
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), cols).unwrap()
}

/// One batch of `batches` (rows in order), for comparing values.
fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let schema = batches[0].schema();
    let cols = (0..schema.fields().len())
        .map(|i| {
            let arrays: Vec<&dyn arrow_array::Array> =
                batches.iter().map(|b| b.column(i).as_ref()).collect();
            arrow_select::concat::concat(&arrays).unwrap()
        })
        .collect();
    RecordBatch::try_new(schema, cols).unwrap()
}

#[test]
fn touchpoints_are_partitioned_by_the_month_of_their_time() {
    let store = network();
    let tmp = tempfile::tempdir().unwrap();
    let r = store.database().unwrap().begin_read().unwrap();
    let report = lake::write_snapshot(&r, tmp.path(), &LakeOptions::default()).unwrap();
    let tp = report.table("touchpoints").unwrap();
    assert_eq!(tp.partitioned_by.as_deref(), Some("month"));
    // The months of the Arrow export's `at` column, with their row counts.
    let all = export::touchpoints(&r, None).unwrap();
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for &s in all
        .column_by_name("at")
        .unwrap()
        .as_primitive::<TimestampSecondType>()
        .values()
    {
        let (y, m, _) = DateTime::from_seconds(s).date().ymd();
        *want.entry(format!("{y:04}-{m:02}")).or_default() += 1;
    }
    assert!(want.len() > 3, "the fixture spans months: {want:?}");
    let mut got = BTreeMap::new();
    for f in &tp.files {
        let month = f.partition.clone().unwrap();
        assert_eq!(
            f.path,
            format!("touchpoints/month={month}/part-0.parquet"),
            "hive layout"
        );
        // Every row of the file lies in its folder's month.
        for b in read_parquet(&tmp.path().join(&f.path)) {
            assert!(
                b.column_by_name("month").is_none(),
                "the partition column is the path"
            );
            for &ms in b
                .column_by_name("at")
                .unwrap()
                .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                .values()
            {
                let (y, m, _) = DateTime::from_seconds(ms / 1000).date().ymd();
                assert_eq!(format!("{y:04}-{m:02}"), month);
            }
        }
        got.insert(month, f.rows);
    }
    assert_eq!(got, want);
}

#[test]
fn a_foreign_non_empty_folder_is_refused_and_nothing_is_written() {
    let store = network();
    let r = store.database().unwrap().begin_read().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // A folder with someone else's file; one with a manifest that is not autocrm's.
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("readme.txt"), "mine").unwrap();
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join(lake::MANIFEST), r#"{"format": "someone-else"}"#).unwrap();
    for dir in [&notes, &other] {
        let before = listing(dir);
        let e = lake::write_snapshot(&r, dir, &LakeOptions::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_operation.export_target_not_empty");
        assert_eq!(e.refusal(), Some(Refusal::ExportTargetNotEmpty));
        assert!(e.to_string().contains(&dir.display().to_string()), "{e}");
        assert_eq!(listing(dir), before, "nothing written");
        // Scoped, too: refused before anything is read or audited.
        let admin = scoped(&store, "hq:data_admin");
        let head = admin.audit_head().unwrap();
        let e = admin.export_lake(dir, &LakeOptions::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_operation.export_target_not_empty");
        assert_eq!(listing(dir), before, "nothing written");
        admin.flush_audit().unwrap();
        assert_eq!(admin.audit_head().unwrap(), head, "nothing audited");
    }
    // A file is no folder to export into.
    let e =
        lake::write_snapshot(&r, &notes.join("readme.txt"), &LakeOptions::default()).unwrap_err();
    assert_eq!(e.code(), "io");
}

#[test]
fn an_earlier_export_is_replaced_and_its_stale_files_removed() {
    let store = network();
    let r = store.database().unwrap().begin_read().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let first = lake::write_snapshot(&r, tmp.path(), &LakeOptions::default()).unwrap();
    // A month the next snapshot no longer has (as after deleting its touchpoints), listed in
    // the manifest as the earlier export would have; and a file the manifest does not list.
    let stale = "touchpoints/month=1999-01/part-0.parquet";
    let mut m = manifest(tmp.path());
    let tps = m["tables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["name"] == "touchpoints")
        .unwrap();
    tps["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "path": stale, "partition": "1999-01", "rows": 1, "bytes": 4
        }));
    std::fs::write(tmp.path().join(lake::MANIFEST), m.to_string()).unwrap();
    std::fs::create_dir_all(tmp.path().join("touchpoints/month=1999-01")).unwrap();
    std::fs::write(tmp.path().join(stale), "PAR1").unwrap();
    std::fs::write(tmp.path().join("customers/mine.txt"), "kept").unwrap();

    let second = lake::write_snapshot(&r, tmp.path(), &LakeOptions::default()).unwrap();
    assert_eq!(second.rows(), first.rows());
    assert!(!tmp.path().join(stale).exists(), "stale file removed");
    assert!(!tmp.path().join("touchpoints/month=1999-01").exists());
    assert!(
        tmp.path().join("customers/mine.txt").exists(),
        "unlisted file kept"
    );
    let m = manifest(tmp.path());
    assert!(!m.to_string().contains("1999-01"));
}

#[test]
fn an_empty_store_exports_empty_tables_with_their_columns() {
    let db = Database::in_memory().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let report = lake::write_snapshot(
        &db.begin_read().unwrap(),
        tmp.path(),
        &LakeOptions::default(),
    )
    .unwrap();
    assert_eq!(report.rows(), 0);
    for t in LakeTable::ALL {
        let files = &report.table(t.name()).unwrap().files;
        if t == LakeTable::Touchpoints {
            assert!(files.is_empty(), "no month, no partition");
            continue;
        }
        let path = tmp.path().join(&files[0].path);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        assert_eq!(
            reader.schema().as_ref(),
            t.schema().as_ref(),
            "{}",
            t.name()
        );
    }
}

#[test]
fn a_scoped_export_holds_only_the_scopes_rows_and_is_audited_once() {
    let store = network();
    let db = store.database().unwrap();
    let dealers = db.begin_read().unwrap().dealers().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (d, dealer) = &dealers[0];
    let s = scoped(&store, &format!("dealer:{}", dealer.code));
    let dir = tmp.path().join("dealer");
    let report = s.export_lake(&dir, &LakeOptions::default()).unwrap();

    // The audit entry is durable already and names every customer the folder holds.
    let r = db.begin_read().unwrap();
    let log = r.audit_log(None, None, 100).unwrap();
    let entry = log.last().unwrap();
    assert_eq!(entry.action, AuditAction::Export);
    assert_eq!(entry.what, "lake export");
    assert_eq!(entry.scope, format!("dealer:{}", dealer.code));

    // Exactly the rows of the scoped table exports, and nothing of other customers.
    let customers = read_table(&dir, &report, "customers");
    let mine: BTreeSet<u64> = u64s(&customers, "id").into_iter().collect();
    let via_table: BTreeSet<u64> = u64s(&s.customers_table(None).unwrap(), "id")
        .into_iter()
        .collect();
    assert_eq!(mine, via_table);
    let everyone: BTreeSet<u64> = r.customer_ids().unwrap().iter().map(|c| c.0).collect();
    assert!(
        !mine.is_empty() && mine.len() < everyone.len(),
        "a dealer sees some customers"
    );
    let named: BTreeSet<u64> = entry.customers.iter().map(|c| c.0).collect();
    assert_eq!(named, mine, "the audit entry names the folder's customers");
    for (table, scoped_rows) in [
        ("touchpoints", s.touchpoints_table(None).unwrap().num_rows()),
        ("leads", s.leads_table().unwrap().num_rows()),
        ("complaints", s.complaints_table().unwrap().num_rows()),
        ("surveys", s.surveys_table().unwrap().num_rows()),
        ("vehicles", s.vehicles_table().unwrap().num_rows()),
        ("ownership", s.ownership_table().unwrap().num_rows()),
        ("postings", s.postings_table(None).unwrap().num_rows()),
        ("lots", s.lots_table().unwrap().num_rows()),
    ] {
        let got = read_table(&dir, &report, table);
        assert_eq!(rows(&got), scoped_rows, "{table}");
        let column = if table == "vehicles" {
            "owner"
        } else {
            "customer"
        };
        let named: Vec<u64> = got
            .iter()
            .flat_map(|b| {
                let c = b
                    .column_by_name(column)
                    .unwrap()
                    .as_primitive::<UInt64Type>();
                c.iter().flatten().collect::<Vec<_>>()
            })
            .collect();
        assert!(
            named.iter().all(|c| mine.contains(c)),
            "{table} names only the dealer's customers"
        );
    }
    let tp = read_table(&dir, &report, "touchpoints");
    assert!(rows(&tp) > 0);
    for b in &tp {
        let dealer_col = b
            .column_by_name("dealer")
            .unwrap()
            .as_primitive::<arrow_array::types::UInt32Type>();
        assert!(
            dealer_col.iter().all(|x| x == Some(d.0)),
            "its own touchpoints"
        );
    }
    let hd = read_table(&dir, &report, "home_dealers");
    let hd_ids: BTreeSet<u64> = u64s(&hd, "customer").into_iter().collect();
    assert!(hd_ids.is_subset(&mine));
    assert_eq!(manifest(&dir)["scope"], format!("dealer:{}", dealer.code));
    assert_eq!(
        report.scope.as_deref(),
        Some(format!("dealer:{}", dealer.code).as_str())
    );

    // Masked as the scoped customers table is: the same values.
    assert_eq!(
        arrow_select_concat(&customers),
        arrow_select_concat(&s.customers_table(None).unwrap())
    );

    // A scope without `export`: refused, nothing written.
    let centre = scoped(&store, "hq:call_centre");
    let none = tmp.path().join("centre");
    let e = centre
        .export_lake(&none, &LakeOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(!none.exists());
}

/// What a reader of an export with increments sees for `table`: per id (`column`), the rows of
/// the file with the highest part number, minus ids deleted after it (module docs of
/// `export::lake::write_increment`). Returns id → number of rows.
fn latest(dir: &Path, table: &str, column: &str) -> BTreeMap<u64, usize> {
    let m = manifest(dir);
    let part_of = |path: &str| -> u64 {
        let f = path.rsplit('/').next().unwrap();
        f["part-".len()..f.len() - ".parquet".len()]
            .parse()
            .unwrap()
    };
    let files = |name: &str| -> Vec<String> {
        m["tables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == name)
            .flat_map(|t| t["files"].as_array().unwrap().clone())
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    // id → (part, rows in that part)
    let mut best: BTreeMap<u64, (u64, usize)> = BTreeMap::new();
    for f in files(table) {
        let part = part_of(&f);
        let mut in_file: BTreeMap<u64, usize> = BTreeMap::new();
        for id in u64s(&read_parquet(&dir.join(&f)), column) {
            *in_file.entry(id).or_default() += 1;
        }
        for (id, n) in in_file {
            let e = best.entry(id).or_insert((part, 0));
            if part > e.0 || e.1 == 0 {
                *e = (part, n);
            } else if part == e.0 {
                e.1 += n;
            }
        }
    }
    for f in files(lake::DELETIONS) {
        for b in read_parquet(&dir.join(&f)) {
            let tables = b.column_by_name("table").unwrap().as_string::<i32>();
            let ids = b.column_by_name("id").unwrap().as_primitive::<UInt64Type>();
            let seqs = b
                .column_by_name("sequence")
                .unwrap()
                .as_primitive::<UInt64Type>();
            for i in 0..b.num_rows() {
                if tables.value(i) != table {
                    continue;
                }
                let id = ids.value(i);
                if best.get(&id).is_some_and(|(part, _)| *part < seqs.value(i)) {
                    best.remove(&id);
                }
            }
        }
    }
    best.into_iter().map(|(id, (_, n))| (id, n)).collect()
}

#[test]
fn increments_carry_what_changed_and_a_reader_gets_a_fresh_snapshot_back() {
    let store = network();
    let db = store.database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    // Without the feed, no position: increments are refused.
    lake::write_snapshot(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    assert!(manifest(&lake_dir)["sequence"].is_null());
    let refused = lake::write_increment(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap_err();
    assert_eq!(refused.code(), "invalid_operation.export_not_incremental");

    db.write(|w| w.register_consumer("lake").map(|_| ()))
        .unwrap();
    let snap = lake::write_snapshot(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    assert_eq!(manifest(&lake_dir)["sequence"], 0);
    assert!(snap.rows() > 0);
    // Nothing changed: nothing written.
    let none = lake::write_increment(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    assert_eq!(none.files(), 0);

    let r = db.begin_read().unwrap();
    let ids = r.customer_ids().unwrap();
    let dealer = r.dealers().unwrap()[0].0;
    drop(r);
    let (renamed, gone_tp) = db
        .write(|w| {
            let renamed = ids[0];
            w.update_customer(renamed, &Customer::person("改名后"))?;
            let fresh = w.insert_customer(&Customer::person("新客户"))?;
            let tp = w.insert_touchpoint(&Touchpoint {
                dealer: Some(dealer),
                service_kind: Some(ServiceKind::Maintenance),
                ..Touchpoint::new(
                    t("2026-11-02 09:00"),
                    fresh,
                    Channel::Showroom,
                    TouchpointKind::ServiceVisit,
                )
            })?;
            let gone = w.insert_touchpoint(&Touchpoint::new(
                t("2026-11-03 09:00"),
                fresh,
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            ))?;
            let _ = tp;
            Ok((renamed, gone))
        })
        .unwrap();
    db.write(|w| w.delete_touchpoint(gone_tp)).unwrap();
    let inc = lake::write_increment(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    let last = db.begin_read().unwrap().last_change().unwrap();
    assert_eq!(manifest(&lake_dir)["sequence"], last);
    let customers = inc.table("customers").unwrap();
    assert_eq!(customers.rows, 2);
    assert_eq!(
        customers.files[0].path,
        format!("customers/part-{last}.parquet")
    );
    assert_eq!(
        inc.table("touchpoints").unwrap().files[0].path,
        format!("touchpoints/month=2026-11/part-{last}.parquet")
    );
    assert_eq!(inc.table(lake::DELETIONS).unwrap().rows, 1);
    // The snapshot's files were not rewritten.
    assert!(lake_dir.join("customers/part-0.parquet").is_file());

    // What a reader combines equals a fresh snapshot.
    let fresh_dir = dir.path().join("fresh");
    lake::write_snapshot(
        &db.begin_read().unwrap(),
        &fresh_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    for (table, column) in [
        ("customers", "id"),
        ("touchpoints", "id"),
        ("vehicles", "id"),
        ("ownership", "vehicle"),
        ("postings", "id"),
        ("leads", "id"),
    ] {
        assert_eq!(
            latest(&lake_dir, table, column),
            latest(&fresh_dir, table, column),
            "{table}"
        );
    }
    let part = read_parquet(&lake_dir.join(format!("customers/part-{last}.parquet")));
    let names: Vec<(u64, String)> = u64s(&part, "id")
        .into_iter()
        .zip(part.iter().flat_map(|b| {
            let n = b.column_by_name("name").unwrap().as_string::<i32>();
            (0..b.num_rows())
                .map(|i| n.value(i).to_string())
                .collect::<Vec<_>>()
        }))
        .collect();
    assert!(
        names.contains(&(renamed.0, "改名后".to_string())),
        "{names:?}"
    );
    // A later snapshot into the folder removes the increments' files.
    lake::write_snapshot(
        &db.begin_read().unwrap(),
        &lake_dir,
        &LakeOptions::default(),
    )
    .unwrap();
    assert!(!lake_dir
        .join(format!("customers/part-{last}.parquet"))
        .exists());
    assert!(!lake_dir
        .join(lake::DELETIONS)
        .join(format!("part-{last}.parquet"))
        .exists());
}
