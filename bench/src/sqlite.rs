//! SQLite through rusqlite (bundled SQLite), set up the way a careful user would: WAL journal,
//! `synchronous=FULL` so a commit is durable when it returns (as autocrm's and redb's are), a
//! page cache as large as redb's default (1 GiB), cached prepared statements, and the same
//! tables, unique keys and secondary indexes as autocrm's key layout.
//!
//! Records are stored as their searchable columns plus a `payload` column holding the same
//! codec envelope autocrm stores (`autocrm::codec::encode` of the normalised record), so a read
//! decodes exactly what autocrm and raw redb decode. Like raw redb, this side gets normalised
//! records and checks nothing beyond what its `UNIQUE` constraints enforce; there are no
//! rollups, so the 360° read computes the per-kind aggregates with `GROUP BY`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use autocrm::codec::{decode, encode};
use autocrm::{
    Complaint, Customer, CustomerId, Dealer, DealerId, Lead, SourceRef, Survey, Touchpoint, Vehicle,
};
use rusqlite::{params, Connection, TransactionBehavior};

use crate::store::{customer_digest, file_bytes, Store, ViewDigest, ViewFold, TIMELINE_LIMIT};
use crate::workload::{Batch, Owned, SingleWrite, VehicleStep};
use crate::BenchResult;

/// The settings every connection runs with, printed with the results.
pub const SETTINGS: &str = "journal_mode=WAL, synchronous=FULL, cache_size=1 GiB";

/// The schema: autocrm's tables, unique keys and secondary indexes in relational form.
const SCHEMA: &str = "
CREATE TABLE dealers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    province TEXT NOT NULL,
    city TEXT NOT NULL,
    kind INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,              -- 0 person, 1 organisation
    name TEXT NOT NULL,
    national_id TEXT UNIQUE,
    credit_code TEXT UNIQUE,
    province TEXT,
    city TEXT,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE TABLE customer_phones (
    customer_id INTEGER NOT NULL,
    phone TEXT NOT NULL,
    PRIMARY KEY (customer_id, phone)
) WITHOUT ROWID;
CREATE INDEX customer_phones_phone ON customer_phones (phone);
CREATE TABLE relations (
    from_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    to_id INTEGER NOT NULL,
    PRIMARY KEY (from_id, kind, to_id)
) WITHOUT ROWID;
CREATE INDEX relations_to ON relations (to_id);
CREATE TABLE vehicles (
    id INTEGER PRIMARY KEY,
    vin TEXT NOT NULL UNIQUE,
    plate TEXT UNIQUE,
    brand TEXT NOT NULL,
    model TEXT NOT NULL,
    selling_dealer INTEGER,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE TABLE ownership (
    vehicle_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    owned_from INTEGER NOT NULL,        -- days since 1970-01-01
    owned_to INTEGER                    -- NULL while it lasts
);
CREATE INDEX ownership_customer ON ownership (customer_id);
CREATE INDEX ownership_vehicle ON ownership (vehicle_id);
CREATE TABLE touchpoints (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    at INTEGER NOT NULL,                -- seconds since 1970-01-01, local time
    kind INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    vehicle_id INTEGER,
    dealer_id INTEGER,
    amount INTEGER,                     -- fen
    parts_amount INTEGER,
    labour_amount INTEGER,
    mileage_km INTEGER,
    score INTEGER,
    sensitive INTEGER NOT NULL,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE INDEX touchpoints_customer_at ON touchpoints (customer_id, at);
CREATE TABLE leads (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE INDEX leads_customer ON leads (customer_id);
CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE INDEX complaints_customer ON complaints (customer_id);
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    source_system TEXT,
    source_record_id TEXT,
    payload BLOB NOT NULL,
    UNIQUE (source_system, source_record_id)
);
CREATE INDEX surveys_customer ON surveys (customer_id);
";

const INSERT_CUSTOMER: &str = "INSERT INTO customers (id, kind, name, national_id, credit_code, \
    province, city, source_system, source_record_id, payload) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const INSERT_PHONE: &str = "INSERT INTO customer_phones (customer_id, phone) VALUES (?1, ?2)";
const INSERT_RELATION: &str =
    "INSERT OR IGNORE INTO relations (from_id, kind, to_id) VALUES (?1, ?2, ?3)";
const INSERT_VEHICLE: &str = "INSERT INTO vehicles (id, vin, plate, brand, model, \
    selling_dealer, source_system, source_record_id, payload) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const INSERT_OWNERSHIP: &str = "INSERT INTO ownership (vehicle_id, customer_id, owned_from, \
    owned_to) VALUES (?1, ?2, ?3, NULL)";
const CLOSE_OWNERSHIP: &str =
    "UPDATE ownership SET owned_to = ?2 WHERE vehicle_id = ?1 AND owned_to IS NULL";
const INSERT_TOUCHPOINT: &str = "INSERT INTO touchpoints (id, customer_id, at, kind, channel, \
    vehicle_id, dealer_id, amount, parts_amount, labour_amount, mileage_km, score, sensitive, \
    source_system, source_record_id, payload) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
const INSERT_LEAD: &str = "INSERT INTO leads (id, customer_id, source_system, source_record_id, \
    payload) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_COMPLAINT: &str = "INSERT INTO complaints (id, customer_id, source_system, \
    source_record_id, payload) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_SURVEY: &str = "INSERT INTO surveys (id, customer_id, source_system, \
    source_record_id, payload) VALUES (?1, ?2, ?3, ?4, ?5)";

const GET_CUSTOMER: &str = "SELECT payload FROM customers WHERE id = ?1";
const GET_PHONES: &str = "SELECT phone FROM customer_phones WHERE customer_id = ?1";
const GET_VEHICLES: &str = "SELECT v.id, v.payload, o.customer_id, o.owned_from, o.owned_to \
    FROM vehicles v JOIN ownership o ON o.vehicle_id = v.id \
    WHERE v.id IN (SELECT vehicle_id FROM ownership WHERE customer_id = ?1) \
    ORDER BY v.id, o.rowid";
const GET_AGGREGATES: &str = "SELECT kind, COUNT(*), SUM(amount) FROM touchpoints \
    WHERE customer_id = ?1 GROUP BY kind";
const GET_TIMELINE: &str = "SELECT id, payload FROM touchpoints WHERE customer_id = ?1 \
    ORDER BY at DESC, id DESC LIMIT ?2";
const GET_RELATIONS: &str = "SELECT from_id, kind, to_id FROM relations WHERE from_id = ?1 \
    UNION ALL SELECT from_id, kind, to_id FROM relations WHERE to_id = ?1";
const GET_LEADS: &str = "SELECT id, payload FROM leads WHERE customer_id = ?1 ORDER BY id";
const GET_COMPLAINTS: &str =
    "SELECT id, payload FROM complaints WHERE customer_id = ?1 ORDER BY id";
const GET_SURVEYS: &str = "SELECT id, payload FROM surveys WHERE customer_id = ?1 ORDER BY id";

/// A SQLite database file in WAL mode with durable commits.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Creates the database at `path` with [`SETTINGS`] and the schema.
    pub fn create(path: &Path) -> BenchResult<SqliteStore> {
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("SQLite refused WAL mode (got {mode})").into());
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "cache_size", -1_048_576i64)?; // KiB: 1 GiB
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
        })
    }
}

/// The source reference as two nullable columns.
fn source(s: &Option<SourceRef>) -> (Option<&str>, Option<&str>) {
    match s {
        Some(s) => (Some(s.system.as_str()), Some(s.record_id.as_str())),
        None => (None, None),
    }
}

fn insert_touchpoint(
    stmt: &mut rusqlite::CachedStatement<'_>,
    id: u64,
    t: &Touchpoint,
) -> BenchResult<()> {
    let (system, record) = source(&t.source);
    stmt.execute(params![
        id as i64,
        t.customer.0 as i64,
        t.at.seconds(),
        t.kind.index() as i64,
        t.channel as i64,
        t.vehicle.map(|v| v.0 as i64),
        t.dealer.map(|d| i64::from(d.0)),
        t.amount.map(|m| m.0),
        t.parts_amount.map(|m| m.0),
        t.labour_amount.map(|m| m.0),
        t.mileage_km,
        t.score,
        t.sensitive,
        system,
        record,
        encode(t),
    ])?;
    Ok(())
}

/// Inserts the leads, complaints or surveys of `customer` with one statement.
fn insert_owned<M: autocrm::codec::Model>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    customer: u64,
    records: &Owned<M>,
    source_of: impl Fn(&M) -> &Option<SourceRef>,
) -> BenchResult<()> {
    for (id, r) in records.with_ids() {
        let (system, record) = source(source_of(r));
        stmt.execute(params![
            id as i64,
            customer as i64,
            system,
            record,
            encode(r)
        ])?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn ingest_dealers(&mut self, dealers: &[(DealerId, Dealer)]) -> BenchResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO dealers (id, code, name, region, province, city, kind, payload) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (id, d) in dealers {
                stmt.execute(params![
                    id.0,
                    d.code,
                    d.name,
                    d.region,
                    d.province,
                    d.city,
                    d.kind as i64,
                    encode(d)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn ingest(&mut self, batch: &Batch) -> BenchResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut customer = tx.prepare_cached(INSERT_CUSTOMER)?;
            let mut phone = tx.prepare_cached(INSERT_PHONE)?;
            let mut relation = tx.prepare_cached(INSERT_RELATION)?;
            let mut vehicle = tx.prepare_cached(INSERT_VEHICLE)?;
            let mut ownership = tx.prepare_cached(INSERT_OWNERSHIP)?;
            let mut close = tx.prepare_cached(CLOSE_OWNERSHIP)?;
            let mut touchpoint = tx.prepare_cached(INSERT_TOUCHPOINT)?;
            let mut lead = tx.prepare_cached(INSERT_LEAD)?;
            let mut complaint = tx.prepare_cached(INSERT_COMPLAINT)?;
            let mut survey = tx.prepare_cached(INSERT_SURVEY)?;
            for c in &batch.customers {
                let me = c.id.0 as i64;
                let cust = &c.stored;
                let (system, record) = source(&cust.source);
                customer.execute(params![
                    me,
                    i64::from(cust.is_organisation()),
                    cust.name(),
                    cust.national_id(),
                    cust.credit_code(),
                    cust.province,
                    cust.city,
                    system,
                    record,
                    encode(cust),
                ])?;
                for p in &cust.phones {
                    phone.execute(params![me, p])?;
                }
                for &(kind, to) in &c.relations {
                    relation.execute(params![me, kind as u8, to.0 as i64])?;
                }
                for step in &c.vehicles {
                    match step {
                        VehicleStep::New {
                            id, stored, from, ..
                        } => {
                            let (system, record) = source(&stored.source);
                            vehicle.execute(params![
                                id.0 as i64,
                                stored.vin,
                                stored.plate,
                                stored.brand,
                                stored.model,
                                stored.selling_dealer.map(|d| d.0),
                                system,
                                record,
                                encode(stored.as_ref()),
                            ])?;
                            ownership.execute(params![id.0 as i64, me, from.days()])?;
                        }
                        VehicleStep::Transfer { id, on } => {
                            close.execute(params![id.0 as i64, on.days()])?;
                            ownership.execute(params![id.0 as i64, me, on.days()])?;
                        }
                    }
                }
                for (id, t) in c.touchpoints.with_ids() {
                    insert_touchpoint(&mut touchpoint, id, t)?;
                }
                insert_owned(&mut lead, c.id.0, &c.leads, |l: &Lead| &l.source)?;
                insert_owned(&mut complaint, c.id.0, &c.complaints, |k: &Complaint| {
                    &k.source
                })?;
                insert_owned(&mut survey, c.id.0, &c.surveys, |s: &Survey| &s.source)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn view_360(&mut self, ids: &[CustomerId]) -> BenchResult<ViewDigest> {
        let tx = self.conn.transaction()?;
        let mut total = 0u64;
        let mut common = 0u64;
        {
            let mut get_customer = tx.prepare_cached(GET_CUSTOMER)?;
            let mut get_phones = tx.prepare_cached(GET_PHONES)?;
            let mut get_vehicles = tx.prepare_cached(GET_VEHICLES)?;
            let mut get_aggregates = tx.prepare_cached(GET_AGGREGATES)?;
            let mut get_timeline = tx.prepare_cached(GET_TIMELINE)?;
            let mut get_relations = tx.prepare_cached(GET_RELATIONS)?;
            let mut get_leads = tx.prepare_cached(GET_LEADS)?;
            let mut get_complaints = tx.prepare_cached(GET_COMPLAINTS)?;
            let mut get_surveys = tx.prepare_cached(GET_SURVEYS)?;
            for &CustomerId(id) in ids {
                let id = id as i64;
                let mut f = ViewFold::default();

                let mut rows = get_customer.query([id])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| format!("SQLite: customer {id} missing"))?;
                let c: Customer = decode(row.get_ref(0)?.as_blob()?)?;
                let mut phones = Vec::new();
                let mut rows = get_phones.query([id])?;
                while let Some(row) = rows.next()? {
                    phones.push(row.get::<_, String>(0)?);
                }
                f.profile(c.name(), phones.len());
                black_box((&c, &phones));

                // One row per ownership period; a vehicle's periods are consecutive rows.
                let mut rows = get_vehicles.query([id])?;
                let mut current: Option<(i64, usize)> = None;
                while let Some(row) = rows.next()? {
                    let vid: i64 = row.get(0)?;
                    let period: (i64, i64, Option<i64>) = (row.get(2)?, row.get(3)?, row.get(4)?);
                    black_box(period);
                    match &mut current {
                        Some((v, n)) if *v == vid => *n += 1,
                        _ => {
                            if let Some((v, n)) = current.take() {
                                f.vehicle(v as u64, n);
                            }
                            let vehicle: Vehicle = decode(row.get_ref(1)?.as_blob()?)?;
                            black_box(&vehicle);
                            current = Some((vid, 1));
                        }
                    }
                }
                if let Some((v, n)) = current {
                    f.vehicle(v as u64, n);
                }

                let mut rows = get_aggregates.query([id])?;
                while let Some(row) = rows.next()? {
                    let (kind, count, spend): (i64, i64, Option<i64>) =
                        (row.get(0)?, row.get(1)?, row.get(2)?);
                    black_box((kind, spend));
                    total += count as u64;
                }

                let mut rows = get_relations.query([id])?;
                while let Some(row) = rows.next()? {
                    let (from, kind, to): (i64, u8, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
                    f.relation(from as u64, kind, to as u64);
                }

                let mut rows = get_leads.query([id])?;
                while let Some(row) = rows.next()? {
                    black_box(decode::<Lead>(row.get_ref(1)?.as_blob()?)?);
                    f.owned(1, row.get::<_, i64>(0)? as u64);
                }
                let mut rows = get_complaints.query([id])?;
                while let Some(row) = rows.next()? {
                    black_box(decode::<Complaint>(row.get_ref(1)?.as_blob()?)?);
                    f.owned(2, row.get::<_, i64>(0)? as u64);
                }
                let mut rows = get_surveys.query([id])?;
                while let Some(row) = rows.next()? {
                    black_box(decode::<Survey>(row.get_ref(1)?.as_blob()?)?);
                    f.owned(3, row.get::<_, i64>(0)? as u64);
                }

                let mut rows = get_timeline.query(params![id, TIMELINE_LIMIT as i64])?;
                let mut pos = 0;
                while let Some(row) = rows.next()? {
                    let t: Touchpoint = decode(row.get_ref(1)?.as_blob()?)?;
                    black_box(&t);
                    f.timeline(pos, row.get::<_, i64>(0)? as u64);
                    pos += 1;
                }
                common = common.wrapping_add(f.finish());
            }
        }
        tx.commit()?;
        Ok(ViewDigest {
            common,
            touchpoints_total: Some(total),
        })
    }

    fn single_write(&mut self, write: &SingleWrite) -> BenchResult<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(INSERT_TOUCHPOINT)?;
            insert_touchpoint(&mut stmt, write.id, &write.stored)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn point_gets(&mut self, ids: &[CustomerId]) -> BenchResult<u64> {
        let tx = self.conn.transaction()?;
        let mut sum = 0u64;
        {
            let mut stmt = tx.prepare_cached(GET_CUSTOMER)?;
            for &CustomerId(id) in ids {
                let mut rows = stmt.query([id as i64])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| format!("SQLite: customer {id} missing"))?;
                let c: Customer = decode(row.get_ref(0)?.as_blob()?)?;
                sum = sum.wrapping_add(customer_digest(&c));
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    fn disk_bytes(&self) -> u64 {
        file_bytes(&self.path, &["-wal", "-shm"])
    }
}
