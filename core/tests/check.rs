//! The integrity check: a sound file checks clean; each kind of damage (a record that fails its
//! checksum, an index entry missing or stale, a rollup that differs from its records) is
//! reported with its table, and the check goes on past it.

use autocrm::*;
use autocrm_synth::{Network, SynthConfig};
use redb::ReadableTable;

const CUSTOMERS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("customers");
const ROLLUPS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("rollups");
const VEHICLE_BY_VIN: redb::TableDefinition<&str, u64> =
    redb::TableDefinition::new("vehicle_by_vin");
const TOUCHPOINT_KEYS: redb::TableDefinition<u64, (u64, i64)> =
    redb::TableDefinition::new("touchpoint_keys");
const CUSTOMER_BY_PHONE: redb::MultimapTableDefinition<&str, u64> =
    redb::MultimapTableDefinition::new("customer_by_phone");

fn network(path: &std::path::Path) {
    let db = Database::open(path).unwrap();
    Network::new(SynthConfig::new(200))
        .load(&db, 100, |_| {})
        .unwrap();
}

fn checked(report: &CheckReport, table: &str) -> u64 {
    report
        .checked
        .iter()
        .find(|(t, _)| *t == table)
        .unwrap_or_else(|| panic!("{table} checked"))
        .1
}

#[test]
fn a_sound_file_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    network(&path);
    let mut db = Database::open(&path).unwrap();
    let report = db.check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.storage, StorageCheck::Verified);
    assert_eq!(checked(&report, "customers"), 200);
    assert_eq!(checked(&report, "rollups (rebuilt)"), 200);
    assert!(checked(&report, "touchpoints") > 200);
    assert_eq!(
        checked(&report, "touchpoint_keys"),
        checked(&report, "touchpoints")
    );
    assert!(report.to_string().ends_with("ok\n"), "{report}");
}

#[test]
fn every_kind_of_damage_is_reported_with_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    network(&path);
    {
        let raw = redb::Database::open(&path).unwrap();
        let tx = raw.begin_write().unwrap();
        {
            let mut customers = tx.open_table(CUSTOMERS).unwrap();
            let mut bytes = customers.get(1).unwrap().unwrap().value().to_vec();
            bytes[5] ^= 0x04; // one bit of the payload
            customers.insert(2, bytes.as_slice()).unwrap();
            let mut rollups = tx.open_table(ROLLUPS).unwrap();
            rollups
                .insert(3, codec::encode(&Rollup::default()).as_slice())
                .unwrap();
            let mut vins = tx.open_table(VEHICLE_BY_VIN).unwrap();
            let first = vins.first().unwrap().unwrap().0.value().to_string();
            vins.remove(first.as_str()).unwrap();
            tx.open_table(TOUCHPOINT_KEYS).unwrap().remove(1).unwrap();
            tx.open_multimap_table(CUSTOMER_BY_PHONE)
                .unwrap()
                .insert("13000000000", 7)
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let mut db = Database::open(&path).unwrap();
    let report = db.check().unwrap();
    assert_eq!(
        report.storage,
        StorageCheck::Verified,
        "redb's pages are fine"
    );
    let tables: Vec<&str> = report.problems.iter().map(|p| p.table).collect();
    for table in [
        "customers",
        "rollups",
        "vehicle_by_vin",
        "touchpoint_keys",
        "customer_by_phone",
    ] {
        assert!(tables.contains(&table), "{table} not reported:\n{report}");
    }
    let damaged = report
        .problems
        .iter()
        .find(|p| p.table == "customers")
        .unwrap();
    assert!(damaged.detail.contains("checksum"), "{damaged}");
    assert!(report.to_string().contains("problems"), "{report}");
    // The check read on past the damage: every other customer was checked.
    assert_eq!(checked(&report, "customers"), 200);
}

#[test]
fn a_read_only_handle_checks_everything_but_redbs_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    network(&path);
    let mut db = Database::open_read_only(&path).unwrap();
    let report = db.check().unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(matches!(report.storage, StorageCheck::Skipped(_)));
    // A second handle (a transaction here) also makes redb's check skip, not fail.
    let mut rw = Database::open(dir.path().join("other.redb")).unwrap();
    let _r = rw.begin_read().unwrap();
    assert!(matches!(
        rw.check().unwrap().storage,
        StorageCheck::Skipped(_)
    ));
}
