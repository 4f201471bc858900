//! # Import: dirty CSV exports into autocrm and into SQLite
//!
//! After the other sections, each size writes the dirty source-system exports of its network
//! (`autocrm_synth::dirty::write_dirty_csvs`, seed 42, 10 % dirt, UTF-8): the customers as the
//! finance system, the invoice system and the dealers' DMS export them, then the new vehicles
//! as the invoice system knows them, in that order (the order of `DirtyFiles::files`). Both
//! sides read the same four files from disk, 1,000 rows per durable transaction:
//!
//! 1. **autocrm**: `autocrm::import::import_file` into a fresh durable database holding the
//!    network's dealers (registered untimed). It decodes and parses every row, applies the
//!    cleaning rules (placeholder names, short phones, check digits of national IDs and VINs,
//!    implausible dates) and rejects what fails them into the sending dealer's feedback queue,
//!    matches each customer row to a stored customer (national ID or credit code, else VIN,
//!    else phone and name), merges it field by field under the source priority (finance >
//!    invoice > DMS) with lineage on every value, records the values a lower-priority source
//!    offers as conflicts, and keeps every index (phones, national IDs, credit codes, VINs,
//!    plates, source records) up to date; each vehicle row finds its owner the same way.
//! 2. **SQLite** (rusqlite, bundled) with the settings of the CRM section (WAL,
//!    `synchronous=FULL`, 1 GiB cache): the same rows read with the `csv` crate and written
//!    with cached prepared statements. Customers go into one table with a unique
//!    `(source_system, source_id)`, unique `national_id` and `credit_code` and an index on the
//!    phone, through an upsert: a row whose source record is stored replaces its values, a row
//!    whose national ID or credit code is stored fills that customer's values (newest non-empty
//!    wins), any other duplicate is skipped. Vehicles go into a table with unique VIN and plate,
//!    an index on the owner and the same source-record upsert, the owner looked up by national
//!    ID, else credit code. No cleaning, no survivorship, no lineage, no conflicts, no
//!    feedback: the floor a user would write by hand.
//!
//! Two measurements, the two sides taking turns file by file (rotating which goes first):
//! the **first import** of the four files into the empty databases, then a **replay** of the
//! same four files (autocrm must report every row unchanged or rejected again, as its import
//! is idempotent on the source record). Reported as rows/s over every row of the four files,
//! rejected rows included.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use autocrm::import::{import_file, ImportOptions, ImportReport};
use autocrm::integration::RecordKind;
use autocrm::{Database, DateTime};
use autocrm_synth::dirty::{
    insert_dealers, write_dirty_csvs, DirtyConfig, DirtyFile, VEHICLE_HEADER,
};
use rusqlite::{params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use crate::report::{rate, thousands};
use crate::runner::{rotation, timed};
use crate::BenchResult;

/// Rows per transaction, both sides (autocrm's default).
pub const BATCH: usize = 1_000;

/// Index of autocrm's figures.
const AUTOCRM: usize = 0;
/// Index of SQLite's figures.
const SQLITE: usize = 1;

const SQLITE_SCHEMA: &str = "
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    dealer TEXT,
    type TEXT,
    name TEXT,
    gender TEXT,
    birth_date TEXT,
    national_id TEXT UNIQUE,
    credit_code TEXT UNIQUE,
    industry TEXT,
    occupation TEXT,
    employer TEXT,
    phone TEXT,
    province TEXT,
    city TEXT,
    address TEXT,
    vin TEXT,
    UNIQUE (source_system, source_id)
);
CREATE INDEX customers_phone ON customers (phone);
CREATE TABLE vehicles (
    id INTEGER PRIMARY KEY,
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    dealer TEXT,
    vin TEXT NOT NULL UNIQUE,
    plate TEXT UNIQUE,
    brand TEXT,
    model TEXT,
    trim TEXT,
    purchase_date TEXT,
    invoice_date TEXT,
    registration_date TEXT,
    warranty_end TEXT,
    usage TEXT,
    selling_dealer TEXT,
    owner_id INTEGER,
    UNIQUE (source_system, source_id)
);
CREATE INDEX vehicles_owner ON vehicles (owner_id);
";

/// The CSV columns of a customers file, in the order of [`UPSERT_CUSTOMER`]'s parameters; the
/// table's column of the same name, except `phones` → `phone`.
const CUSTOMER_COLUMNS: &[&str] = autocrm_synth::dirty::CUSTOMER_HEADER;

/// A source record replaces its row; a known national ID or credit code fills the customer's
/// row with the non-empty values (the keys themselves are never updated); any other duplicate
/// is skipped.
const UPSERT_CUSTOMER: &str = "INSERT INTO customers (source_system, source_id, dealer, type, \
    name, gender, birth_date, national_id, credit_code, industry, occupation, employer, phone, \
    province, city, address, vin) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
    ON CONFLICT (source_system, source_id) DO UPDATE SET dealer = excluded.dealer, \
    type = excluded.type, name = excluded.name, gender = excluded.gender, \
    birth_date = excluded.birth_date, industry = excluded.industry, \
    occupation = excluded.occupation, employer = excluded.employer, phone = excluded.phone, \
    province = excluded.province, city = excluded.city, address = excluded.address, \
    vin = excluded.vin \
    ON CONFLICT (national_id) DO UPDATE SET \
    name = coalesce(excluded.name, name), gender = coalesce(excluded.gender, gender), \
    birth_date = coalesce(excluded.birth_date, birth_date), \
    occupation = coalesce(excluded.occupation, occupation), \
    employer = coalesce(excluded.employer, employer), phone = coalesce(excluded.phone, phone), \
    province = coalesce(excluded.province, province), city = coalesce(excluded.city, city), \
    address = coalesce(excluded.address, address), vin = coalesce(excluded.vin, vin) \
    ON CONFLICT (credit_code) DO UPDATE SET \
    name = coalesce(excluded.name, name), industry = coalesce(excluded.industry, industry), \
    phone = coalesce(excluded.phone, phone), province = coalesce(excluded.province, province), \
    city = coalesce(excluded.city, city), address = coalesce(excluded.address, address), \
    vin = coalesce(excluded.vin, vin) \
    ON CONFLICT DO NOTHING";

/// The CSV columns of a vehicles file stored as they are, in the order of
/// [`UPSERT_VEHICLE`]'s parameters (the owner, looked up, is the last).
const VEHICLE_COLUMNS: &[&str] = VEHICLE_HEADER.split_at(VEHICLE_HEADER.len() - 2).0;

/// The owner's keys in a vehicles file.
const OWNER_COLUMNS: &[&str] = VEHICLE_HEADER.split_at(VEHICLE_HEADER.len() - 2).1;

/// A source record replaces its row (VIN and plate kept); a VIN or plate already stored under
/// another source record is skipped.
const UPSERT_VEHICLE: &str = "INSERT INTO vehicles (source_system, source_id, dealer, vin, \
    plate, brand, model, trim, purchase_date, invoice_date, registration_date, warranty_end, \
    usage, selling_dealer, owner_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
    ON CONFLICT (source_system, source_id) DO UPDATE SET dealer = excluded.dealer, \
    brand = excluded.brand, model = excluded.model, trim = excluded.trim, \
    purchase_date = excluded.purchase_date, invoice_date = excluded.invoice_date, \
    registration_date = excluded.registration_date, warranty_end = excluded.warranty_end, \
    usage = excluded.usage, selling_dealer = excluded.selling_dealer, \
    owner_id = excluded.owner_id \
    ON CONFLICT DO NOTHING";

const OWNER_BY_NATIONAL_ID: &str = "SELECT id FROM customers WHERE national_id = ?1";
const OWNER_BY_CREDIT_CODE: &str = "SELECT id FROM customers WHERE credit_code = ?1";

/// An empty CSV field is NULL.
fn field(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Where each of `columns` is in the file's header.
fn positions(header: &csv::StringRecord, columns: &[&str], file: &Path) -> BenchResult<Vec<usize>> {
    columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| format!("{}: no column {c}", file.display()).into())
        })
        .collect()
}

/// The SQLite side: one database file, loaded by hand.
struct SqliteImport {
    conn: Connection,
}

impl SqliteImport {
    fn create(path: &Path) -> BenchResult<SqliteImport> {
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("SQLite refused WAL mode (got {mode})").into());
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -1_048_576i64)?; // KiB: 1 GiB
        conn.set_prepared_statement_cache_capacity(16);
        conn.execute_batch(SQLITE_SCHEMA)?;
        Ok(SqliteImport { conn })
    }

    /// Loads `file`, [`BATCH`] rows per durable transaction; returns the rows read.
    fn import(&mut self, file: &DirtyFile) -> BenchResult<u64> {
        let mut reader = csv::ReaderBuilder::new().from_path(&file.path)?;
        let header = reader.headers()?.clone();
        let (columns, owner) = match file.kind {
            RecordKind::Customer => (positions(&header, CUSTOMER_COLUMNS, &file.path)?, None),
            RecordKind::Vehicle => (
                positions(&header, VEHICLE_COLUMNS, &file.path)?,
                Some(positions(&header, OWNER_COLUMNS, &file.path)?),
            ),
            kind => return Err(format!("no SQLite import for {kind:?} files").into()),
        };
        let mut record = csv::StringRecord::new();
        let mut rows = 0u64;
        let mut more = true;
        while more {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut in_batch = 0;
            while in_batch < BATCH {
                if !reader.read_record(&mut record)? {
                    more = false;
                    break;
                }
                let values = columns.iter().map(|&i| field(&record[i]));
                match &owner {
                    None => {
                        tx.prepare_cached(UPSERT_CUSTOMER)?
                            .execute(params_from_iter(values))?;
                    }
                    Some(keys) => {
                        let owner_id = match (field(&record[keys[0]]), field(&record[keys[1]])) {
                            (Some(nid), _) => tx
                                .prepare_cached(OWNER_BY_NATIONAL_ID)?
                                .query_row([nid], |r| r.get::<_, i64>(0))
                                .optional()?,
                            (None, Some(code)) => tx
                                .prepare_cached(OWNER_BY_CREDIT_CODE)?
                                .query_row([code], |r| r.get::<_, i64>(0))
                                .optional()?,
                            (None, None) => None,
                        };
                        let mut stmt = tx.prepare_cached(UPSERT_VEHICLE)?;
                        let values: Vec<Option<&str>> = values.collect();
                        let mut params: Vec<&dyn rusqlite::ToSql> =
                            values.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
                        params.push(&owner_id);
                        stmt.execute(params.as_slice())?;
                    }
                }
                in_batch += 1;
            }
            tx.commit()?;
            rows += in_batch as u64;
        }
        Ok(rows)
    }

    /// Rows in the customers and vehicles tables (untimed).
    fn counts(&self) -> BenchResult<(u64, u64)> {
        let count = |table: &str| -> BenchResult<u64> {
            let n: i64 =
                self.conn
                    .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
            Ok(n as u64)
        };
        Ok((count("customers")?, count("vehicles")?))
    }
}

/// The rows of one import pass that autocrm's reports count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Rows read.
    pub rows: u64,
    /// Rows that created a record.
    pub created: u64,
    /// Rows merged into a stored record, changing it.
    pub updated: u64,
    /// Rows that matched a stored record and changed nothing.
    pub unchanged: u64,
    /// Rows rejected by a cleaning rule (or unparsable).
    pub rejected: u64,
    /// Values offered by a lower-priority source, kept as conflicts.
    pub conflicts: u64,
}

impl Outcome {
    fn add(&mut self, r: &ImportReport) {
        self.rows += r.rows;
        self.created += r.created;
        self.updated += r.updated;
        self.unchanged += r.unchanged;
        self.rejected += r.rejected;
        self.conflicts += r.conflicts;
    }
}

/// Everything the import section measured at one size.
#[derive(Clone, Debug)]
pub struct ImportResult {
    /// Customers of the network.
    pub customers: usize,
    /// Each file's name and data rows, in import order.
    pub files: Vec<(String, u64)>,
    /// autocrm's outcome of the first import and of the replay.
    pub outcome: [Outcome; 2],
    /// Time of the first import, autocrm then SQLite, summed over the files.
    pub first: [Duration; 2],
    /// Time of the replay, autocrm then SQLite.
    pub replay: [Duration; 2],
    /// Rows SQLite holds at the end: customers, vehicles.
    pub sqlite_rows: (u64, u64),
}

impl ImportResult {
    /// Rows of the four files.
    fn rows(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }
}

/// When the files were received (the import never reads the clock).
fn received_at() -> BenchResult<DateTime> {
    Ok("2026-07-01 08:00".parse()?)
}

/// Writes the dirty exports of a `customers`-customer network into `dir`, imports them twice
/// into autocrm and into SQLite, taking turns file by file, and checks the outcome.
pub fn run_size(customers: usize, dir: &Path) -> BenchResult<ImportResult> {
    let dir = dir.join("import");
    std::fs::create_dir_all(&dir)?;
    eprintln!("  import: writing the dirty CSV exports of {customers} customers");
    let dirty = DirtyConfig::new(customers);
    let files = write_dirty_csvs(dir.join("csv"), &dirty)?.files;
    let db = Database::options()
        .durable(true)
        .open(dir.join("autocrm.redb"))?;
    insert_dealers(&db, &dirty)?;
    let mut sqlite = SqliteImport::create(&dir.join("sqlite.db"))?;
    let at = received_at()?;

    let mut outcome = [Outcome::default(); 2];
    let mut times = [[Duration::ZERO; 2]; 2];
    for (pass, (outcome, times)) in outcome.iter_mut().zip(&mut times).enumerate() {
        for (i, file) in files.iter().enumerate() {
            // Two sides: the rotation of three, without the third.
            for k in rotation(pass * files.len() + i)
                .into_iter()
                .filter(|&k| k < 2)
            {
                if k == AUTOCRM {
                    let opts = ImportOptions {
                        batch_size: BATCH,
                        ..ImportOptions::new(file.kind, at)
                    };
                    let (report, t) = timed(|| Ok(import_file(&db, &file.path, &opts, |_| {})?))?;
                    if report.rows != file.rows {
                        return Err(format!(
                            "autocrm read {} rows of {}, it has {}",
                            report.rows,
                            file.path.display(),
                            file.rows
                        )
                        .into());
                    }
                    outcome.add(&report);
                    times[AUTOCRM] += t;
                } else {
                    let (rows, t) = timed(|| sqlite.import(file))?;
                    if rows != file.rows {
                        return Err(format!(
                            "SQLite read {rows} rows of {}, it has {}",
                            file.path.display(),
                            file.rows
                        )
                        .into());
                    }
                    times[SQLITE] += t;
                }
            }
        }
        eprintln!(
            "  import: {} done",
            if pass == 0 { "first import" } else { "replay" }
        );
    }
    let replay = &outcome[1];
    if replay.created + replay.updated != 0 || replay.rejected != outcome[0].rejected {
        return Err(format!(
            "autocrm's replay was not idempotent: first import {:?}, replay {replay:?}",
            outcome[0]
        )
        .into());
    }
    let sqlite_rows = sqlite.counts()?;
    drop((db, sqlite));
    std::fs::remove_dir_all(&dir)?;
    Ok(ImportResult {
        customers,
        files: files
            .iter()
            .map(|f| {
                let name = f.path.file_name().unwrap_or_default();
                (name.to_string_lossy().into_owned(), f.rows)
            })
            .collect(),
        outcome,
        first: times[0],
        replay: times[1],
        sqlite_rows,
    })
}

/// The import section of the report.
pub fn report(results: &[ImportResult]) -> String {
    let mut out = String::from("\n### Import from CSV\n\n");
    out.push_str(
        "The dirty source exports of the network (`autocrm_synth::dirty`, 10 % dirt): customers from \
         finance, invoice and the dealers' DMS, then the invoice system's vehicles, \
         1,000 rows per durable transaction, read from disk by both sides. autocrm \
         (`import::import_file`) parses, cleans (rejecting into the dealers' feedback queues), \
         matches customers, applies source-priority survivorship with lineage and records \
         conflicts. SQLite loads the same rows with the `csv` crate and prepared upserts (unique \
         source record, national ID, credit code, VIN and plate; owner looked up by national \
         ID or credit code): no cleaning, no survivorship, no lineage — the floor a user would \
         write by hand. The replay imports the same files again.\n\n",
    );
    for r in results {
        let files: Vec<String> = r
            .files
            .iter()
            .map(|(name, n)| format!("{name} {}", thousands(*n)))
            .collect();
        let [first, replay] = &r.outcome;
        let _ = writeln!(
            out,
            "- {} customers: {} rows ({}). autocrm, first import: {} created, {} merged, {} \
             unchanged, {} rejected, {} conflicts; replay: {} unchanged, {} rejected again, \
             nothing created or merged. SQLite holds {} customer and {} vehicle rows.",
            thousands(r.customers as u64),
            thousands(r.rows()),
            files.join(", "),
            thousands(first.created),
            thousands(first.updated),
            thousands(first.unchanged),
            thousands(first.rejected),
            thousands(first.conflicts),
            thousands(replay.unchanged),
            thousands(replay.rejected),
            thousands(r.sqlite_rows.0),
            thousands(r.sqlite_rows.1),
        );
    }
    out.push_str(
        "\n| import | customers | autocrm, rows/s | SQLite, rows/s | autocrm vs SQLite \
         (throughput, >1 = autocrm faster) |\n|---|---:|---:|---:|---:|\n",
    );
    for r in results {
        let rows = r.rows();
        for (name, t) in [("first import", r.first), ("replay", r.replay)] {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {:.2}× |",
                thousands(r.customers as u64),
                thousands(rate(rows, t[AUTOCRM]) as u64),
                thousands(rate(rows, t[SQLITE]) as u64),
                t[SQLITE].as_secs_f64() / t[AUTOCRM].as_secs_f64().max(1e-9),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_import_the_same_rows_and_autocrm_replays_idempotently() {
        let dir = std::env::temp_dir().join(format!("autocrm-bench-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = run_size(300, &dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(r.files.len(), 4);
        assert_eq!(r.outcome[0].rows, r.rows());
        assert_eq!(r.outcome[1].rows, r.rows());
        assert!(r.outcome[0].created > 0 && r.outcome[0].rejected > 0);
        assert!(r.sqlite_rows.0 > 0 && r.sqlite_rows.1 > 0);
        assert!(report(&[r]).contains("| replay | 300 |"));
    }
}
