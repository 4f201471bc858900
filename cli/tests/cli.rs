//! The `autocrm` binary end to end: generate dirty exports, import them (twice), and read the
//! quality report, feedback queue, conflicts, duplicates and a customer's 360° view back.

use std::path::Path;

#[path = "support/run.rs"]
mod run;
use run::{autocrm, ok};

/// The national ID the unscoped 360 view of `customer` shows.
fn national_id_of(db: &Path, customer: &str) -> String {
    ok(db, &["customer", customer])
        .lines()
        .find_map(|l| l.trim().strip_prefix("national ID"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("customer {customer} has a national ID"))
}

/// The code of the first dealer the quality report lists.
fn some_dealer(db: &Path) -> String {
    ok(db, &["quality"])
        .lines()
        .nth(2)
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string()
}

/// The number before `word` in `text`, e.g. `count(text, "created")` in "12 created".
fn count(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text
        .split([' ', ',', ':'])
        .filter(|w| !w.is_empty())
        .collect();
    let at = words
        .iter()
        .position(|w| *w == word)
        .unwrap_or_else(|| panic!("{word:?} not in {text:?}"));
    words[at - 1].parse().expect("a count")
}

#[test]
fn generate_import_twice_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.redb");
    let data = dir.path().join("demo");
    let data_s = data.to_str().unwrap();
    let gen = ok(
        &db,
        &["generate", data_s, "--customers", "300", "--dirt", "0.3"],
    );
    assert!(gen.contains("customers_finance.csv"), "{gen}");

    let files = [
        "customers_finance.csv",
        "customers_invoice.csv",
        "customers_dms.csv",
        "vehicles_invoice.csv",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| data.join(f).to_str().unwrap().to_string())
        .collect();
    std::fs::copy(&db, dir.path().join("fresh.redb")).unwrap();
    let mut args = vec!["import", "--quiet", "--received-at", "2026-07-01T09:00"];
    args.extend(paths.iter().map(String::as_str));
    let first = ok(&db, &args);
    let finance = first
        .lines()
        .find(|l| l.contains("customers_finance"))
        .unwrap();
    assert!(count(finance, "created") > 0, "{first}");
    let rejected: u64 = first
        .lines()
        .filter(|l| l.contains(" rows ("))
        .map(|l| count(l, "rejected"))
        .sum();
    assert!(rejected > 0, "30% dirt must reject rows: {first}");

    // The same files again change nothing.
    let second = ok(&db, &args);
    for line in second.lines().filter(|l| l.contains(" rows (")) {
        assert_eq!(count(line, "created"), 0, "{line}");
        assert_eq!(count(line, "updated"), 0, "{line}");
        assert_eq!(count(line, "conflicts"), 0, "{line}");
    }

    let quality = ok(&db, &["quality", "--as-of", "2026-07-01"]);
    assert!(quality.contains("network"), "{quality}");

    // The order `import demo/*.csv` gives (DMS customers first), twice, ends in the same
    // queues, conflicts and customer counts; the second pass changes nothing.
    let glob_db = dir.path().join("glob.redb");
    std::fs::copy(dir.path().join("fresh.redb"), &glob_db).unwrap();
    let mut sorted = paths.clone();
    sorted.sort();
    assert!(sorted[0].ends_with("customers_dms.csv"));
    let mut glob_args = vec!["import", "--quiet", "--received-at", "2026-07-01T09:00"];
    glob_args.extend(sorted.iter().map(String::as_str));
    ok(&glob_db, &glob_args);
    let again = ok(&glob_db, &glob_args);
    for line in again.lines().filter(|l| l.contains(" rows (")) {
        assert_eq!(count(line, "created"), 0, "{line}");
        assert_eq!(count(line, "updated"), 0, "{line}");
        assert_eq!(count(line, "conflicts"), 0, "{line}");
    }
    let glob_quality = ok(&glob_db, &["quality", "--as-of", "2026-07-01"]);
    // Lifetime rejection counts are history (a DMS record queued incomplete before finance
    // completed its customer counts once): compare everything else.
    let table = |q: &str| -> Vec<String> {
        q.lines()
            .filter(|l| !l.trim_start().starts_with("validation.incomplete"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(table(&glob_quality), table(&quality));
    assert!(quality.contains("feedback by reason"), "{quality}");
    assert!(quality.contains("validation.incomplete"), "{quality}");

    let feedback = ok(&db, &["feedback"]);
    assert!(
        feedback.contains("records wait for correction"),
        "{feedback}"
    );

    // A customer from the finance file, by id, prints its 360° view with lineage.
    let view = ok(&db, &["customer", "C1"]);
    assert!(view.contains("lineage"), "{view}");
    assert!(view.contains("finance/") || view.contains("dms/") || view.contains("invoice/"));

    ok(&db, &["conflicts", "--all"]);
    ok(&db, &["duplicates", "--min-score", "50"]);
    let sources = ok(&db, &["sources"]);
    assert!(
        sources.lines().nth(1).unwrap().starts_with("finance"),
        "{sources}"
    );
}

#[test]
fn errors_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.redb");

    // A file that does not exist: the error names it.
    let missing = dir.path().join("customers_missing.csv");
    let out = autocrm(&db, &["import", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("customers_missing.csv"), "{err}");

    // A file whose kind cannot be told from its name.
    let odd = dir.path().join("export.csv");
    std::fs::write(&odd, "source_system,source_id,name\n").unwrap();
    let out = autocrm(&db, &["import", odd.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kind"));

    // A header without rows is an error, not a success; CR-only line ends are lines.
    let empty = dir.path().join("customers_empty.csv");
    std::fs::write(&empty, "source_system,source_id,name,phones\n").unwrap();
    let out = autocrm(&db, &["import", "--quiet", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("import.no_rows"));
    let mac = dir.path().join("customers_mac.csv");
    std::fs::write(
        &mac,
        "source_system,source_id,name,phones\rdms,M1,王小明,13812345678\rdms,M2,李四,13912345670\r",
    )
    .unwrap();
    let out = ok(&db, &["import", "--quiet", mac.to_str().unwrap()]);
    assert_eq!(count(out.lines().next().unwrap(), "created"), 2, "{out}");

    // A rejected row is reported with its line and field, and the report CSV has it.
    let file = dir.path().join("customers_dms.csv");
    std::fs::write(
        &file,
        "source_system,source_id,name,phones\ndms,R1,王小明,13812345678\ndms,R2,李女士,13912345678\n",
    )
    .unwrap();
    let report = dir.path().join("report.csv");
    let out = ok(
        &db,
        &[
            "import",
            "--quiet",
            file.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert!(out.contains("line 3 field name"), "{out}");
    let csv = std::fs::read_to_string(&report).unwrap();
    assert!(csv.contains("validation.name_placeholder"), "{csv}");

    // An unknown customer key.
    let out = autocrm(&db, &["customer", "13000000000"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no customer matches"));
}

#[test]
fn now_is_read_at_the_networks_utc_offset() {
    // Without --received-at, the rows are stamped with core's clock at --utc-offset (default
    // +08:00), the same clock the Python binding uses: not the UTC epoch, not local time.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("customers.csv");
    std::fs::write(
        &file,
        "source_system,source_id,name,phones\nfinance,F-1,王小明,13812345678\n\
         finance,F-2,李华,13912345678\n",
    )
    .unwrap();
    let stamped = |offset: Option<&str>, phone: &str| {
        let db = dir.path().join(format!("crm-{phone}.redb"));
        let mut args = vec!["import", file.to_str().unwrap(), "--quiet"];
        if let Some(o) = offset {
            args.extend(["--utc-offset", o]);
        }
        ok(&db, &args);
        let db = autocrm::Database::open(&db).unwrap();
        let r = db.begin_read().unwrap();
        let id = r.customers_by_phone(phone).unwrap()[0];
        r.lineage_of_customer(id).unwrap()[0].at
    };
    let utc = autocrm::Clock::system(autocrm::UtcOffset::UTC).now();
    let china = stamped(None, "13812345678");
    let zulu = stamped(Some("+00:00"), "13912345678");
    let hours = |t: autocrm::DateTime| (t.seconds() - utc.seconds()) as f64 / 3600.0;
    assert!((hours(china) - 8.0).abs() < 0.05, "{china} vs UTC {utc}");
    assert!(hours(zulu).abs() < 0.05, "{zulu} vs UTC {utc}");
    let bad = autocrm(
        &dir.path().join("x.redb"),
        &["--utc-offset", "8", "quality"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("UTC offset"));
}

#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crm.redb");
    // A source id carrying an OSC sequence (retitles the terminal) and a name with an ANSI
    // colour sequence: both rows are rejected, and every command that shows them escapes them.
    let file = dir.path().join("customers_dms.csv");
    std::fs::write(
        &file,
        "source_system,source_id,name,phones\n\
         dms,R-\u{1b}]0;pwned\u{7},李女士,13912345678\n\
         dms,R-2,\u{1b}[31m王小明,13812345678\n",
    )
    .unwrap();
    let out = ok(&db, &["import", "--quiet", file.to_str().unwrap()]);
    let feedback = ok(&db, &["feedback"]);
    for shown in [&out, &feedback] {
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
    }
    assert!(feedback.contains("R-\\u{1b}]0;pwned\\u{7}"), "{feedback}");
    assert!(out.contains("control_character"), "{out}");
    // An error message echoing the key is escaped too.
    let out = autocrm(&db, &["customer", "\u{1b}]0;pwned\u{7}"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// A database of 200 generated customers, imported from the finance export.
fn imported(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("crm.redb");
    let data = dir.join("demo");
    ok(
        &db,
        &["generate", data.to_str().unwrap(), "--customers", "200"],
    );
    let finance = data.join("customers_finance.csv");
    ok(&db, &["import", "--quiet", finance.to_str().unwrap()]);
    db
}

#[test]
fn read_commands_open_read_only_and_check_reports_a_sound_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let report = ok(&db, &["check"]);
    assert!(
        report.contains("storage: every page checksum verified"),
        "{report}"
    );
    assert!(report.contains("rollups (rebuilt): "), "{report}");
    assert!(report.ends_with("ok\n"), "{report}");

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["quality", "--as-of", "2026-07-01"][..],
        &["customer", "C1"],
        &["conflicts", "--all"],
        &["feedback"],
        &["duplicates"],
        &["sources"],
        &["check", "--read-only"],
    ] {
        ok(&db, args);
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "reading wrote nothing");
    let out = autocrm(&db, &["resolve", "X1", "--accept", "--by", "me"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn a_damaged_record_is_a_corrupt_error_and_check_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let view = ok(&db, &["customer", "C1"]);
    // The customer's name, as its record stores it: damage one bit of every copy in the file
    // (the record and its lineage), below the storage engine's notice on a plain read.
    let name = view
        .split_whitespace()
        .nth(2)
        .expect("the view starts with `customer C1 <name>`")
        .to_string();
    let mut bytes = std::fs::read(&db).unwrap();
    let needle = name.as_bytes();
    let mut hits = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + needle.len() - 1] ^= 0x01;
            hits += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    assert!(hits > 0, "{name} found in the file");
    std::fs::write(&db, &bytes).unwrap();

    let out = autocrm(&db, &["customer", "C1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("[corrupt]"), "{err}");
    assert!(err.contains("autocrm check"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = autocrm(&db, &["check", "--read-only"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("problem: customers: record 1"), "{report}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("problems found"),
        "{report}"
    );
}

/// `--as` makes `customer` see what the scope sees, masked, and records it in the audit
/// trail; `audit verify|head|log` and `role` work; bad scopes and missing permissions fail
/// with their codes.
#[test]
fn scoped_calls_are_masked_filtered_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    // Vehicles name their selling dealer: that dealer serves their owners.
    let vehicles = dir.path().join("demo").join("vehicles_invoice.csv");
    ok(&db, &["import", "--quiet", vehicles.to_str().unwrap()]);
    // Unscoped: full access.
    let nid = national_id_of(&db, "C1");
    let analyst = ok(
        &db,
        &["--as", "hq:crm_analyst", "--actor", "ana", "customer", "C1"],
    );
    assert!(!analyst.contains(&nid), "{analyst}");
    assert!(analyst.contains(&format!("{}***********{}", &nid[..3], &nid[14..])));
    assert!(analyst.contains("masked for hq:crm_analyst"), "{analyst}");
    // A dealer finds only the customers it serves: over the first 30 ids some and not all.
    let dealer = some_dealer(&db);
    let scope = format!("dealer:{dealer}");
    let seen = (1..=30)
        .filter(|i| {
            autocrm(&db, &["--as", &scope, "customer", &format!("C{i}")])
                .status
                .success()
        })
        .count();
    assert!(seen > 0 && seen < 30, "dealer {dealer} saw {seen} of 30");
    let out = autocrm(&db, &["--as", "hq:nobody", "customer", "C1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[unknown_scope]"));
    let out = autocrm(&db, &["--as", &scope, "audit", "verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[access_denied]") && err.contains("read_audit"),
        "{err}"
    );
    // Every scoped read is in the chain, with its actor and purpose.
    let log = ok(&db, &["audit", "log", "--customer", "C1"]);
    assert!(
        log.contains("hq:crm_analyst") && log.contains("ana"),
        "{log}"
    );
    let verify = ok(&db, &["--as", "hq:data_admin", "audit", "verify"]);
    assert!(verify.contains("audit trail intact"), "{verify}");
    let head = ok(&db, &["audit", "head"]);
    ok(&db, &["audit", "verify", "--anchor", head.trim()]);
    // Roles are configuration in the file.
    ok(
        &db,
        &["role", "set", "auditor", "--permissions", "read_audit"],
    );
    ok(&db, &["--as", "hq:auditor", "audit", "verify"]);
    assert!(ok(&db, &["role", "list"]).contains("auditor"));
}

#[test]
fn erase_removes_a_customer_from_lookups_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let nid = national_id_of(&db, "C2");
    assert!(std::fs::read(&db)
        .unwrap()
        .windows(nid.len())
        .any(|w| w == nid.as_bytes()));
    // Bad input: no operator, a dealer without the permission. Nothing is written.
    let out = autocrm(&db, &["erase", "C2", "--reason", "request 1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by"));
    let dealer = some_dealer(&db);
    let out = autocrm(
        &db,
        &[
            "--as",
            &format!("dealer:{dealer}"),
            "erase",
            "C2",
            "--reason",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(ok(&db, &["customer", "C2"]).contains(&nid));

    let receipt = ok(
        &db,
        &[
            "erase",
            "C2",
            "--by",
            "dpo",
            "--reason",
            "PIPL request 2026-118",
        ],
    );
    assert!(receipt.contains("erased customer C2"), "{receipt}");
    assert!(receipt.contains("file rewritten"), "{receipt}");
    let after = ok(&db, &["customer", "C2"]);
    assert!(
        after.contains("[erased]") && !after.contains(&nid),
        "{after}"
    );
    let out = autocrm(&db, &["customer", &nid]);
    assert!(!out.status.success(), "the national ID still finds someone");
    assert!(!std::fs::read(&db)
        .unwrap()
        .windows(nid.len())
        .any(|w| w == nid.as_bytes()));
    let log = ok(&db, &["audit", "log", "--customer", "C2"]);
    assert!(log.contains("erase") && log.contains("dpo"), "{log}");
    // The anchored head printed on the receipt verifies.
    let head = receipt
        .split("audit head ")
        .nth(1)
        .and_then(|r| {
            r.split(':')
                .take(2)
                .collect::<Vec<_>>()
                .join(":")
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
        .unwrap();
    ok(&db, &["audit", "verify", "--anchor", &head]);
}

/// The CSV rows of `autocrm kpi` output as (label, numerator, denominator), header checked.
fn kpi_rows(out: &str) -> Vec<(String, f64, f64)> {
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("kpi,dimension,label,period_from,period_to,numerator,denominator,value")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[2].to_string(),
                f[5].parse().unwrap(),
                f[6].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn kpis_for_the_network_by_month_and_as_a_dealer() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let vehicles = dir.path().join("demo").join("vehicles_invoice.csv");
    ok(&db, &["import", "--quiet", vehicles.to_str().unwrap()]);
    let network = kpi_rows(&ok(&db, &["kpi", "valid_info_ratio", "--period", "2026"]));
    let [(label, num, den)] = network.as_slice() else {
        panic!("{network:?}")
    };
    assert_eq!(label, "network");
    assert!(*den > 0.0 && num <= den, "{network:?}");
    let months = kpi_rows(&ok(&db, &["kpi", "retention", "--months", "2025"]));
    assert_eq!(months.len(), 12);
    // A dealer counts only the customers it serves: fewer than the network.
    let dealer = some_dealer(&db);
    let scope = format!("dealer:{dealer}");
    let mine = kpi_rows(&ok(
        &db,
        &[
            "--as",
            &scope,
            "kpi",
            "valid_info_ratio",
            "--period",
            "2026",
        ],
    ));
    assert!(
        mine[0].2 > 0.0 && mine[0].2 < *den,
        "{mine:?} vs {network:?}"
    );
    assert!(ok(&db, &["audit", "log"]).contains("kpi valid_info_ratio"));
    // Refusals say what to do.
    let err = |args: &[&str]| String::from_utf8(autocrm(&db, args).stderr).unwrap();
    assert!(err(&["kpi", "nope", "--period", "2025"]).contains("after_sales_churn"));
    assert!(err(&["kpi", "retention", "--period", "2025-13"]).contains("2025-Q3"));
    assert!(err(&["kpi", "retention"]).contains("--months"));
    assert!(
        err(&["--as", "owner:1", "kpi", "retention", "--period", "2025"])
            .contains("[access_denied]")
    );
    assert!(ok(&db, &["kpi", "list"])
        .lines()
        .any(|l| l == "after_sales_churn"));
}

#[test]
fn stewardship_commands_run_under_a_scope_that_may_run_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let dms = dir.path().join("demo").join("customers_dms.csv");
    let dealer = some_dealer(&db);
    let scope = format!("dealer:{dealer}");
    let err = |args: &[&str]| String::from_utf8(autocrm(&db, args).stderr).unwrap();
    // A dealer: no import, conflicts, duplicates or merges; its own queue and quality row.
    for cmd in [
        vec!["import", "--quiet", dms.to_str().unwrap()],
        vec!["conflicts"],
        vec!["duplicates"],
        vec!["resolve", "X1", "--accept"],
    ] {
        let mut args = vec!["--as", scope.as_str()];
        args.extend(cmd.iter().copied());
        let e = err(&args);
        assert!(
            e.contains("[access_denied]") && e.contains("manage_data"),
            "{cmd:?}: {e}"
        );
    }
    // Customers it does not serve are not found, as everywhere under a dealer scope.
    let e = err(&["--as", &scope, "merge", "C1", "C2"]);
    assert!(
        e.contains("[access_denied]") || e.contains("no customer matches"),
        "{e}"
    );
    let quality = ok(&db, &["--as", &scope, "quality"]);
    let dealers = ok(&db, &["quality"]);
    assert!(
        quality.lines().count() < dealers.lines().count(),
        "{quality}"
    );
    assert!(quality.contains(&dealer));
    ok(&db, &["--as", &scope, "feedback"]);
    // The data administrator: imports (audited before they run), lists, merges as the actor.
    let admin = ["--as", "hq:data_admin", "--actor", "lin.steward"];
    let run = |extra: &[&str]| ok(&db, &[&admin[..], extra].concat());
    run(&["import", "--quiet", dms.to_str().unwrap()]);
    run(&["conflicts"]);
    assert!(run(&["duplicates"]).contains("merge"));
    let e = err(&[&admin[..], &["merge", "C1", "C2", "--by", "someone.else"]].concat());
    assert!(e.contains("the operator is the actor"), "{e}");
    let log = ok(&db, &["audit", "log", "--limit", "1000"]);
    assert!(
        log.contains("lin.steward") && log.contains("import "),
        "{log}"
    );
    assert!(err(&["--as", &scope, "sources"]).contains("without --as"));
}

#[test]
fn the_change_feed_lists_what_an_import_changed_and_consumers_move_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    // Off until a consumer registers: the first import is not in the feed.
    assert_eq!(ok(&db, &["changes", "register", "lake"]).trim(), "0");
    let dms = dir.path().join("demo").join("customers_dms.csv");
    ok(
        &db,
        &[
            "import",
            "--quiet",
            "--source",
            "dms",
            dms.to_str().unwrap(),
        ],
    );
    let out = ok(&db, &["changes", "list", "--consumer", "lake"]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("id,commit,at,actor,scope,source,entity,op,key,customer")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[5] == "dms"), "{rows:?}");
    assert!(rows
        .iter()
        .any(|r| r[6] == "customer" && (r[7] == "update" || r[7] == "insert")));
    let ids: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    let last = ids.len().to_string();
    // Under a dealer's scope, only what the dealer may see; HQ's analyst sees all of it.
    let all = ok(&db, &["changes", "list", "--after", "0"]);
    let analyst = ok(&db, &["--as", "hq:crm_analyst", "changes", "list"]);
    assert_eq!(analyst, all);
    let dealer = some_dealer(&db);
    let scope = format!("dealer:{dealer}");
    let theirs = ok(&db, &["--as", &scope, "changes", "list"]);
    assert!(theirs.lines().count() < all.lines().count(), "{theirs}");
    let denied = autocrm(&db, &["--as", "hq:call_centre", "changes", "list"]);
    assert!(!denied.status.success());
    assert_eq!(ok(&db, &["changes", "ack", "lake", &last]).trim(), last);
    assert_eq!(
        ok(&db, &["changes", "consumers"]),
        format!("name,position\nlake,{last}\n")
    );
    assert_eq!(ok(&db, &["changes", "prune"]).trim(), last);
    assert_eq!(
        ok(&db, &["changes", "list", "--consumer", "lake"])
            .lines()
            .count(),
        1
    );
    ok(&db, &["changes", "retention", "30d"]);
    assert_eq!(ok(&db, &["changes", "retention"]).trim(), "30d");
    let bad = autocrm(&db, &["changes", "retention", "weekly"]);
    assert!(!bad.status.success());
    let scoped = autocrm(&db, &["--as", "hq:data_admin", "changes", "consumers"]);
    assert!(!scoped.status.success());
    assert!(String::from_utf8_lossy(&scoped.stderr).contains("without --as"));
}

#[test]
fn export_writes_a_lakehouse_folder_and_refuses_a_foreign_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let lake = dir.path().join("lake");
    let out = ok(
        &db,
        &["export", lake.to_str().unwrap(), "--as-of", "2026-01-01"],
    );
    assert!(out.contains("rows/s") && out.contains("customers"), "{out}");
    let manifest = std::fs::read_to_string(lake.join("_manifest.json")).unwrap();
    assert!(
        manifest.contains("\"format\": \"autocrm-lake\""),
        "{manifest}"
    );
    assert!(manifest.contains("\"sequence\": null"), "{manifest}");
    assert!(lake.join("customers/part-0.parquet").is_file());
    // Again into the same folder: replaced.
    ok(&db, &["export", lake.to_str().unwrap()]);
    // A folder that is not an export: refused, left as it was.
    let demo = dir.path().join("demo");
    let before = std::fs::read_dir(&demo).unwrap().count();
    let out = autocrm(&db, &["export", demo.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("[invalid_operation.export_target_not_empty]"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&demo).unwrap().count(), before);
    // Under a scope: only its customers, named in the manifest and audited.
    let dealer = some_dealer(&db);
    let scoped = dir.path().join("dealer");
    let out = ok(
        &db,
        &[
            "--as",
            &format!("dealer:{dealer}"),
            "export",
            scoped.to_str().unwrap(),
        ],
    );
    assert!(out.contains(&format!("as dealer:{dealer}")), "{out}");
    let manifest = std::fs::read_to_string(scoped.join("_manifest.json")).unwrap();
    assert!(manifest.contains(&format!("\"scope\": \"dealer:{dealer}\"")));
    assert!(ok(&db, &["audit", "log"]).contains("lake export"));
    let out = autocrm(&db, &["--as", "hq:call_centre", "export", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[access_denied]"));
}

#[test]
fn export_follows_the_change_feed_with_increments() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported(dir.path());
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();
    // Without a snapshot taken with the feed on, no increment.
    let refused = autocrm(&db, &["export", lake, "--incremental"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("export_not_incremental"));
    std::fs::remove_dir_all(lake).ok();
    let out = ok(&db, &["export", lake, "--follow", "lake"]);
    assert!(out.contains("current to change 0"), "{out}");
    let dms = dir.path().join("demo").join("customers_dms.csv");
    ok(&db, &["import", "--quiet", dms.to_str().unwrap()]);
    let out = ok(&db, &["export", lake, "--incremental", "--follow", "lake"]);
    let position: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("current to change "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(position > 0, "{out}");
    assert!(std::path::Path::new(lake)
        .join(format!("customers/part-{position}.parquet"))
        .is_file());
    assert_eq!(
        ok(&db, &["changes", "consumers"]),
        format!("name,position\nlake,{position}\n")
    );
    let scoped = autocrm(
        &db,
        &["--as", "hq:data_admin", "export", lake, "--incremental"],
    );
    assert!(!scoped.status.success());
}
