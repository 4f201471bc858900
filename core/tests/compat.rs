//! Files written by earlier releases stay readable forever; files from newer releases are
//! refused with a clear error, never misread.
//!
//! `fixtures/format-v<N>.redb` was written by format version N with [`write_fixture`]: v1
//! without record checksums, v2 with them. Each test opens a copy (opening read-write may
//! upgrade in place; the committed file must stay as written) and checks every record against
//! the data it was written from. When a release bumps [`FORMAT_VERSION`], add its fixture:
//! `UPDATE_FIXTURE=1 cargo test -p autocrm --test compat` writes `format-v<FORMAT_VERSION>.redb`
//! (and never touches an older one).

use std::path::{Path, PathBuf};

use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Expected {
    dealer: Dealer,
    wang: Customer,
    fleet: Customer,
    li: Customer,
    car: Vehicle,
    service: Touchpoint,
}

fn expected() -> Expected {
    let dealer = Dealer {
        code: "SH0001".into(),
        name: "上海大众徐汇4S店".into(),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    };
    let wang = Customer {
        party: Party::Person(Person {
            name: "王小明".into(),
            gender: Some(Gender::Male),
            birth_date: Some(d("1949-12-31")),
            national_id: Some("11010519491231002X".into()),
            interests: vec!["golf".into()],
            ..Person::default()
        }),
        phones: vec!["13812345678".into()],
        province: Some("上海".into()),
        city: Some("上海".into()),
        address: None,
        source: Some(SourceRef::new("finance", "F-1")),
    };
    let fleet = Customer {
        party: Party::Organisation(Organisation {
            name: "福州申通物流有限公司".into(),
            credit_code: Some("91350100M000100Y43".into()),
            industry: Some("logistics".into()),
        }),
        ..Customer::organisation("")
    };
    let li = Customer {
        phones: vec!["13912345678".into()],
        ..Customer::person("李娜")
    };
    let car = Vehicle {
        plate: Some("沪A12345".into()),
        purchase_date: Some(d("2021-05-01")),
        invoice_date: Some(d("2021-05-02")),
        warranty_end: Some(d("2024-05-01")),
        ..Vehicle::new("WVWZZZ1JZXW000001", "Volkswagen", "Passat")
    };
    let service = Touchpoint {
        amount: Some(Money(88_050)),
        parts_amount: Some(Money(50_000)),
        labour_amount: Some(Money(38_050)),
        mileage_km: Some(21_000),
        service_kind: Some(ServiceKind::Maintenance),
        source: Some(SourceRef::new("dms", "SH0001-77")),
        ..Touchpoint::new(
            d("2023-03-04").at(9, 15, 0),
            CustomerId(1),
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    };
    Expected {
        dealer,
        wang,
        fleet,
        li,
        car,
        service,
    }
}

fn write_fixture(path: &Path) -> Result<()> {
    let e = expected();
    let db = Database::open(path)?;
    db.write(|tx| {
        let dealer = tx.insert_dealer(&e.dealer)?;
        let wang = tx.insert_customer(&e.wang)?;
        let fleet = tx.insert_customer(&e.fleet)?;
        let li = tx.insert_customer(&e.li)?;
        tx.relate(fleet, RelationKind::DecisionMaker, wang)?;
        let car = tx.insert_vehicle(&e.car, Some((wang, d("2021-05-01"))))?;
        tx.insert_touchpoint(&Touchpoint {
            vehicle: Some(car),
            dealer: Some(dealer),
            ..e.service.clone()
        })?;
        tx.transfer_vehicle(car, li, d("2024-06-01"))?;
        tx.insert_lead(&Lead {
            customer: li,
            origin: LeadSource::Referral,
            model: "Tiguan".into(),
            intent: Intent::B,
            purchase_type: PurchaseType::First,
            dealer: Some(dealer),
            received: d("2024-05-01").at(10, 0, 0),
            status: LeadStatus::Won,
            status_at: Some(d("2024-05-20").at(10, 0, 0)),
            source: None,
        })?;
        Ok(())
    })
}

/// A copy of the fixture in a temporary directory.
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(name);
    std::fs::copy(fixture(name), &copy).expect("fixture present");
    (dir, copy)
}

/// The file format version stored in the file's `meta` table.
fn stored_format(path: &Path) -> u16 {
    const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
    let raw = redb::ReadOnlyDatabase::open(path).unwrap();
    let r = redb::ReadableDatabase::begin_read(&raw).unwrap();
    let t = r.open_table(META).unwrap();
    let v = t.get("format").unwrap().unwrap();
    u16::from_le_bytes(v.value().try_into().unwrap())
}

fn update_fixture() {
    let name = format!("format-v{FORMAT_VERSION}.redb");
    if std::env::var_os("UPDATE_FIXTURE").is_some() && !fixture(&name).exists() {
        write_fixture(&fixture(&name)).unwrap();
    }
}

#[test]
fn format_v1_fixture_stays_readable_and_is_raised_to_the_current_format() {
    update_fixture();
    let (_dir, copy) = copy_of("format-v1.redb");
    assert_eq!(stored_format(&copy), 1);
    let db = Database::open(&copy).expect("a format-v1 file opens");
    check_fixture(&db);
    drop(db);
    // This build wrote checksummed records into it: a format-1 build must now refuse it.
    assert_eq!(stored_format(&copy), FORMAT_VERSION);
}

#[test]
fn format_v1_fixture_opens_read_only_only_after_its_upgrade() {
    let (_dir, copy) = copy_of("format-v1.redb");
    let before = std::fs::read(&copy).unwrap();
    // Its rollups are in format 1; only a read-write open rewrites them.
    let err = Database::open_read_only(&copy).err().expect("refused");
    assert_eq!(
        err.code(),
        "invalid_operation.read_only_missing_tables",
        "{err}"
    );
    assert!(err.to_string().contains("read-write once"), "{err}");
    assert_eq!(std::fs::read(&copy).unwrap(), before, "left as it was");
}

#[test]
fn format_v2_fixture_stays_readable() {
    update_fixture();
    let (_dir, copy) = copy_of("format-v2.redb");
    assert_eq!(stored_format(&copy), 2);
    let before = std::fs::read(&copy).unwrap();
    {
        let db = Database::open_read_only(&copy).expect("a format-v2 file opens read-only");
        let r = db.begin_read().unwrap();
        assert_eq!(r.customer_count().unwrap(), 3);
        // Written before the erasure register existed: it reads as empty.
        assert!(r.erasures().unwrap().is_empty());
    }
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        before,
        "a read-only open writes nothing"
    );
    let db = Database::open(&copy).expect("a format-v2 file opens");
    check_fixture(&db);
}

/// Checks every record of a fixture, then that it accepts writes.
fn check_fixture(db: &Database) {
    let e = expected();
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 3);
    let (dealer_id, dealer) = r.dealers().unwrap().remove(0);
    assert_eq!(dealer, e.dealer);
    let wang = r
        .customer_by_national_id("11010519491231002x")
        .unwrap()
        .unwrap();
    assert_eq!(r.customer(wang).unwrap(), e.wang);
    let fleet = r
        .customer_by_credit_code("91350100M000100Y43")
        .unwrap()
        .unwrap();
    assert_eq!(r.customer(fleet).unwrap().name(), e.fleet.name());
    let li = r.customers_by_phone("139 1234 5678").unwrap()[0];
    assert_eq!(r.customer(li).unwrap(), e.li);

    let car = r.vehicle_by_plate("沪A12345").unwrap().unwrap();
    assert_eq!(r.vehicle(car).unwrap(), e.car);
    let history = r.ownership(car).unwrap();
    assert_eq!(history.0.len(), 2);
    assert_eq!(history.current().unwrap().customer, li);

    let view = r.customer_360(wang, 10).unwrap();
    assert_eq!(view.past_vehicles.len(), 1);
    assert!(view.current_vehicles.is_empty());
    assert_eq!(view.timeline.items.len(), 1);
    let stored = &view.timeline.items[0].1;
    assert_eq!(stored.dealer, Some(dealer_id));
    assert!(!stored.sensitive, "a maintenance visit is not sensitive");
    assert_eq!(stored.amount, e.service.amount);
    assert_eq!(view.rollup.service_dates, vec![d("2023-03-04")]);
    // Format 1 rollups had no minute in their events: the upgrade on opening recomputed them
    // from the timeline, so the visit's time of day is there.
    let minute = (e.service.at.second_of_day() / 60) as u16;
    assert!(minute > 0, "the fixture's visit is not at midnight");
    assert_eq!(
        view.rollup
            .events
            .iter()
            .map(|ev| (ev.day, ev.minute))
            .collect::<Vec<_>>(),
        vec![(d("2023-03-04"), minute)]
    );
    assert_eq!(
        view.rollup.spent(TouchpointKind::ServiceVisit),
        Money(88_050)
    );
    assert_eq!(
        (view.rollup.vehicles_current, view.rollup.vehicles_total),
        (0, 1)
    );
    assert!(view
        .relations
        .iter()
        .any(|rel| rel.from == fleet && rel.kind == RelationKind::DecisionMaker));
    let li_view = r.customer_360(li, 10).unwrap();
    assert_eq!(li_view.current_vehicles.len(), 1);
    assert_eq!(li_view.leads.len(), 1);
    assert_eq!((li_view.rollup.leads, view.rollup.relations), (1, 1));
    assert_eq!(li_view.leads[0].1.status, LeadStatus::Won);
    // The v1 file was written before the loyalty club existed: opening added its empty tables.
    assert_eq!(r.loyalty_config().unwrap(), None);
    assert_eq!(r.membership(wang).unwrap(), None);
    assert_eq!(r.balance(wang, Wallet::Brand).unwrap(), Balance::default());
    assert!(r.verify_ledger().unwrap().problems.is_empty());
    drop(r);
    db.write(|tx| {
        tx.set_loyalty_config(&LoyaltyConfig::default())?;
        tx.join_brand_club(wang, d("2024-01-01"), "dealer")
            .map(|_| ())
    })
    .unwrap();

    // The old file accepts new writes, and ids continue after the stored counters.
    let next = db
        .write(|tx| tx.insert_customer(&Customer::person("赵敏")))
        .unwrap();
    assert_eq!(next, CustomerId(4));
}

#[test]
fn a_file_from_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.redb");
    drop(Database::open(&path).unwrap());
    {
        // Simulate a future release that bumped the file format.
        const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
        let raw = redb::Database::open(&path).unwrap();
        let tx = raw.begin_write().unwrap();
        tx.open_table(META)
            .unwrap()
            .insert("format", &99u16.to_le_bytes()[..])
            .unwrap();
        tx.commit().unwrap();
    }
    let err = Database::open(&path).err().expect("newer format refused");
    assert_eq!(err.code(), "upgrade_required");
    assert!(err.to_string().contains("upgrade autocrm"), "{err}");
    assert!(matches!(
        err,
        Error::UpgradeRequired {
            found: 99,
            supported: FORMAT_VERSION,
            ..
        }
    ));
}
