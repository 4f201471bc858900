//! Segments over the whole network, as of the generated network's as-of date: autocrm's rule
//! language over its facts snapshot, against the same segment in SQL on SQLite (the bench's
//! database, with its indexes) and on DuckDB (the Python `duckdb` package over the same rows
//! exported to CSV).
//!
//! Two segments:
//!
//! - **owner status**: `owner_status = "at_risk"` — C-card owners with exactly one service
//!   visit in the last 365 days, more than 90 days ago (DOMAIN.md §5);
//! - **composite**: at-risk or churned owners of a Passat, Magotan or Tiguan L who spent at
//!   least ¥2,000 on service in the last 730 days.
//!
//! Each system loads its data first, untimed for the query figures (autocrm's facts snapshot
//! and DuckDB's CSV load are reported separately), then runs each segment once to warm up and
//! five times timed; the median is reported. All three must find the same members.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use autocrm::{Database, Date, LoyaltyConfig, TouchpointKind};
use autocrm_synth::SynthConfig;
use rusqlite::Connection;

use crate::BenchResult;

/// The owner-status segment in autocrm's rule language.
pub const OWNER_RULE: &str = r#"owner_status = "at_risk""#;
/// The composite segment in autocrm's rule language.
pub const COMPOSITE_RULE: &str = r#"owner_status in ["at_risk", "churned"]
and any vehicle (model in ["Passat", "Magotan", "Tiguan L"])
and sum(amount, service_visit, 730d) >= ¥2000"#;

/// The owner status of every customer as of $d, in SQL that SQLite and DuckDB both run.
/// Days are days since 1970-01-01, times seconds since then (local time), as stored.
const OWNER_SQL: &str = r#"
WITH owners AS (
    SELECT customer_id, MIN(owned_from) AS first_vehicle,
           MAX(CASE WHEN owned_from <= $d AND (owned_to IS NULL OR owned_to > $d)
               THEN 1 ELSE 0 END) AS owns_now
    FROM ownership GROUP BY customer_id
), visits AS (
    SELECT customer_id,
           SUM(CASE WHEN "at" >= $w_start THEN 1 ELSE 0 END) AS in_w,
           MAX(CASE WHEN "at" >= $w_start THEN "at" END) AS last_in_w,
           SUM(CASE WHEN "at" < $w_start THEN 1 ELSE 0 END) AS before_w
    FROM touchpoints WHERE kind = $service AND "at" < $d_end
    GROUP BY customer_id
), status AS (
    SELECT o.customer_id,
           CASE
               WHEN COALESCE(v.in_w, 0) >= 3 THEN 'active'
               WHEN v.in_w = 2 THEN 'swinging'
               WHEN v.in_w = 1 AND v.last_in_w < $recent_start THEN 'at_risk'
               WHEN v.in_w = 1 THEN 'recent'
               WHEN COALESCE(v.before_w, 0) > 0 OR o.first_vehicle <= $d - 365 THEN 'churned'
               ELSE 'new_owner'
           END AS status
    FROM owners o LEFT JOIN visits v ON v.customer_id = o.customer_id
    WHERE o.owns_now = 1
)"#;

fn owner_query() -> String {
    format!("{OWNER_SQL}\nSELECT customer_id FROM status WHERE status = 'at_risk' ORDER BY 1")
}

fn composite_query() -> String {
    format!(
        r#"{OWNER_SQL}
SELECT s.customer_id FROM status s
WHERE s.status IN ('at_risk', 'churned')
  AND EXISTS (
      SELECT 1 FROM ownership o JOIN vehicles v ON v.id = o.vehicle_id
      WHERE o.customer_id = s.customer_id
        AND o.owned_from <= $d AND (o.owned_to IS NULL OR o.owned_to > $d)
        AND v.model IN ('Passat', 'Magotan', 'Tiguan L'))
  AND (SELECT COALESCE(SUM(t.amount), 0) FROM touchpoints t
       WHERE t.customer_id = s.customer_id AND t.kind = $service
         AND t."at" >= $spend_start AND t."at" < $d_end) >= 200000
ORDER BY 1"#
    )
}

/// The query parameters as of `d`.
fn params(d: Date) -> Vec<(&'static str, i64)> {
    let day = i64::from(d.days());
    vec![
        ("$d", day),
        ("$d_end", (day + 1) * 86_400),
        ("$w_start", (day - 364) * 86_400),
        ("$recent_start", (day - 90) * 86_400),
        ("$spend_start", (day - 729) * 86_400),
        ("$service", TouchpointKind::ServiceVisit.index() as i64),
    ]
}

/// Timings of one system.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Loading what the queries run on (autocrm: the facts snapshot; DuckDB: the CSV files).
    pub load: Option<Duration>,
    /// Median owner-status segment time.
    pub owner: Duration,
    /// Median composite segment time.
    pub composite: Duration,
}

/// One size's segment figures.
#[derive(Clone, Debug)]
pub struct SegmentResult {
    /// Customers generated.
    pub customers: usize,
    /// Members of the owner-status and composite segments.
    pub members: (u64, u64),
    /// autocrm.
    pub autocrm: Timings,
    /// SQLite.
    pub sqlite: Timings,
    /// DuckDB, or why it did not run.
    pub duckdb: Result<Timings, String>,
}

const RUNS: usize = 5;

/// Median of `RUNS` timed runs after one warm-up; every run must return `expect` members.
fn median_of<T>(
    mut run: impl FnMut() -> BenchResult<(T, u64)>,
    expect: u64,
) -> BenchResult<Duration> {
    let (_, n) = run()?;
    if n != expect {
        return Err(format!("a segment found {n} members, autocrm found {expect}").into());
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let (_, n) = run()?;
        times.push(t.elapsed());
        if n != expect {
            return Err(format!("a segment found {n} members, autocrm found {expect}").into());
        }
    }
    times.sort();
    Ok(times[RUNS / 2])
}

/// Runs the segments on the databases the CRM section left in `dir`.
pub fn run_size(size: usize, dir: &Path) -> BenchResult<SegmentResult> {
    let as_of = SynthConfig::new(size).as_of;
    eprintln!("  segments as of {as_of}");

    // autocrm: the facts snapshot, then the rules over it.
    let db = Database::open(dir.join("autocrm.redb"))?;
    let r = db.begin_read()?;
    let t = Instant::now();
    let facts = r.facts()?;
    let load = t.elapsed();
    let config = LoyaltyConfig::default();
    let none = Default::default();
    let owner_rule = r.parse_rule(OWNER_RULE)?;
    let composite_rule = r.parse_rule(COMPOSITE_RULE)?;
    let owner_members = facts.evaluate(&owner_rule, as_of, &config, &none).len();
    let composite_members = facts.evaluate(&composite_rule, as_of, &config, &none).len();
    let autocrm = Timings {
        load: Some(load),
        owner: median_of(
            || Ok(((), facts.evaluate(&owner_rule, as_of, &config, &none).len())),
            owner_members,
        )?,
        composite: median_of(
            || {
                Ok((
                    (),
                    facts.evaluate(&composite_rule, as_of, &config, &none).len(),
                ))
            },
            composite_members,
        )?,
    };
    drop((facts, r, db));

    // SQLite: the bench's own database and indexes.
    let conn = Connection::open(dir.join("sqlite.db"))?;
    let p = params(as_of);
    let run_sql = |sql: &str| -> BenchResult<((), u64)> {
        let mut stmt = conn.prepare_cached(sql)?;
        let named: Vec<(&str, &dyn rusqlite::ToSql)> = p
            .iter()
            .filter(|(k, _)| sql.contains(k))
            .map(|(k, v)| (*k, v as &dyn rusqlite::ToSql))
            .collect();
        let ids = stmt
            .query_map(named.as_slice(), |row| row.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(((), ids.len() as u64))
    };
    let (owner_sql, composite_sql) = (owner_query(), composite_query());
    let sqlite = Timings {
        load: None,
        owner: median_of(|| run_sql(&owner_sql), owner_members)?,
        composite: median_of(|| run_sql(&composite_sql), composite_members)?,
    };

    // DuckDB: the same rows as CSV, loaded and queried by the Python package.
    let duckdb = export_csv(&conn, dir)
        .map_err(|e| format!("export failed: {e}"))
        .and_then(|()| run_duckdb(dir, &p, &owner_sql, &composite_sql))
        .and_then(|(t, owner, composite)| {
            if (owner, composite) == (owner_members, composite_members) {
                Ok(t)
            } else {
                Err(format!(
                    "DuckDB found {owner} and {composite} members, autocrm {owner_members} and \
                     {composite_members}"
                ))
            }
        });
    Ok(SegmentResult {
        customers: size,
        members: (owner_members, composite_members),
        autocrm,
        sqlite,
        duckdb,
    })
}

/// Writes the columns the segments read to `ownership.csv`, `touchpoints.csv` (service visits
/// only) and `vehicles.csv`.
fn export_csv(conn: &Connection, dir: &Path) -> BenchResult<()> {
    use std::io::Write;
    let write = |name: &str, sql: &str, header: &str| -> BenchResult<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
        writeln!(out, "{header}")?;
        let mut stmt = conn.prepare(sql)?;
        let cols = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            for c in 0..cols {
                if c > 0 {
                    out.write_all(b",")?;
                }
                match row.get_ref(c)? {
                    rusqlite::types::ValueRef::Null => {}
                    rusqlite::types::ValueRef::Integer(i) => write!(out, "{i}")?,
                    rusqlite::types::ValueRef::Text(t) => {
                        out.write_all(b"\"")?;
                        out.write_all(t)?;
                        out.write_all(b"\"")?;
                    }
                    other => return Err(format!("unexpected value {other:?}").into()),
                }
            }
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    };
    write(
        "ownership.csv",
        "SELECT vehicle_id, customer_id, owned_from, owned_to FROM ownership",
        "vehicle_id,customer_id,owned_from,owned_to",
    )?;
    let service = TouchpointKind::ServiceVisit.index();
    write(
        "touchpoints.csv",
        &format!(
            "SELECT customer_id, \"at\", kind, amount FROM touchpoints WHERE kind = {service}"
        ),
        "customer_id,at,kind,amount",
    )?;
    write("vehicles.csv", "SELECT id, model FROM vehicles", "id,model")?;
    Ok(())
}

/// Runs `bench/duckdb_segments.py`; returns its timings and member counts.
fn run_duckdb(
    dir: &Path,
    params: &[(&str, i64)],
    owner_sql: &str,
    composite_sql: &str,
) -> Result<(Timings, u64, u64), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("duckdb_segments.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(dir).arg(RUNS.to_string());
    for (k, v) in params {
        cmd.arg(format!("{}={v}", k.trim_start_matches('$')));
    }
    cmd.env("OWNER_SQL", owner_sql)
        .env("COMPOSITE_SQL", composite_sql);
    let out = cmd
        .output()
        .map_err(|e| format!("python3 could not run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "DuckDB did not run ({}); `pip install duckdb` to include it",
            err.lines().last().unwrap_or("no output")
        ));
    }
    // "load owner composite owner_members composite_members", seconds.
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let secs = |i: usize| -> Result<Duration, String> {
        f.get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("unexpected DuckDB output: {text}"))
    };
    let count = |i: usize| -> Result<u64, String> {
        f.get(i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("unexpected DuckDB output: {text}"))
    };
    Ok((
        Timings {
            load: Some(secs(0)?),
            owner: secs(1)?,
            composite: secs(2)?,
        },
        count(3)?,
        count(4)?,
    ))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn ratio(them: Duration, us: Duration) -> String {
    format!("{:.2}×", them.as_secs_f64() / us.as_secs_f64().max(1e-9))
}

/// The segment section of the report.
pub fn report(results: &[SegmentResult]) -> String {
    let mut s = String::from("\n### Segments\n\n");
    s.push_str(&format!(
        "Owner status: `{OWNER_RULE}`. Composite: `{}`. Median of {RUNS} runs after a warm-up; \
         ratios are the other system's time over autocrm's (above 1: autocrm faster).\n\n",
        COMPOSITE_RULE.replace('\n', " ")
    ));
    s.push_str(
        "| segment | customers | members | autocrm | SQLite | DuckDB | vs SQLite | vs DuckDB | \
         goal |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in results {
        for (name, members, a, q, d) in [
            (
                "owner status",
                r.members.0,
                r.autocrm.owner,
                r.sqlite.owner,
                r.duckdb.as_ref().ok().map(|t| t.owner),
            ),
            (
                "composite",
                r.members.1,
                r.autocrm.composite,
                r.sqlite.composite,
                r.duckdb.as_ref().ok().map(|t| t.composite),
            ),
        ] {
            let goal = match d {
                Some(d) if a <= d && a.as_millis() < 100 => "≤ DuckDB, < 100 ms: met",
                _ if a.as_millis() < 100 => "< 100 ms: met; ≤ DuckDB: **missed**",
                _ => "**missed**",
            };
            s.push_str(&format!(
                "| {name} | {} | {members} | {} | {} | {} | {} | {} | {goal} |\n",
                crate::report::thousands(r.customers as u64),
                ms(a),
                ms(q),
                d.map_or("–".into(), ms),
                ratio(q, a),
                d.map_or("–".into(), |d| ratio(d, a)),
            ));
        }
    }
    for r in results {
        s.push_str(&format!(
            "\nLoading, {} customers: autocrm facts snapshot {}; DuckDB CSV load {}.\n",
            crate::report::thousands(r.customers as u64),
            r.autocrm.load.map_or("–".into(), ms),
            match &r.duckdb {
                Ok(t) => t.load.map_or("–".into(), ms),
                Err(e) => format!("not run: {e}"),
            }
        ));
    }
    s
}
