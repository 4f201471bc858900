//! A small demo club file, written with core's own writes: what the Kotlin tests open, and
//! what an app developer can preview screens on without HQ data. Dates are relative to today
//! (the handle's clock), so reminders are always due soon.

use autocrm::loyalty::{Adjustment, LoyaltyConfig, Wallet};
use autocrm::{
    Channel, Customer, Database, Dealer, DealerKind, Money, Party, ServiceKind, Touchpoint,
    TouchpointKind, Vehicle,
};

use crate::Result;

/// What [`demo_file`] wrote: whom to open it as.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DemoFile {
    /// The owner with a car, a service history, points and reminders due soon.
    pub owner_id: u64,
    /// Another owner (with his own car and points), never visible to the first.
    pub other_owner_id: u64,
    /// The dealer's code (for referrals).
    pub dealer_code: String,
    /// The dealer's id.
    pub dealer_id: u32,
    /// The owner's vehicle.
    pub vehicle_id: u64,
    /// Brand points the owner holds.
    pub owner_points: i64,
}

/// Writes a demo club file at `path`, which must not exist yet (`validation.not_allowed`
/// otherwise: a real file is never touched): one dealer (`D001`), an owner with a car (its
/// insurance, inspection and warranty dates due within 90 days), four service visits and
/// 1,000 welcome points in the brand club, and a second owner; the change feed is on.
#[uniffi::export]
pub fn demo_file(path: String) -> Result<DemoFile> {
    if std::path::Path::new(&path).exists() {
        return Err(
            autocrm::ValidationError::new("path", autocrm::Rule::NotAllowed, "exists").into(),
        );
    }
    let db = Database::open(&path)?;
    let today = db.now().date();
    let ago = |days: i32| today.add_days(-days);
    let file = db.write(|tx| {
        tx.set_loyalty_config(&LoyaltyConfig::default())?;
        let dealer = tx.insert_dealer(&Dealer {
            code: "D001".into(),
            name: "Demo 4S".into(),
            region: "East".into(),
            province: "上海".into(),
            city: "上海".into(),
            kind: DealerKind::FourS,
        })?;
        let mut me = Customer::person("王小明");
        me.phones = vec!["13812345678".into()];
        me.province = Some("上海".into());
        me.city = Some("上海".into());
        me.address = Some("浦东新区世纪大道100号".into());
        if let Party::Person(p) = &mut me.party {
            let first = "11010519900101123";
            let check = autocrm::validate::national_id_check_digit(first).unwrap_or('0');
            p.national_id = Some(format!("{first}{check}"));
            p.birth_date = Some("1990-01-01".parse()?);
        }
        let owner = tx.insert_customer(&me)?;
        let mut other = Customer::person("李四");
        other.phones = vec!["13900001111".into()];
        let other = tx.insert_customer(&other)?;
        for c in [owner, other] {
            tx.join_brand_club(c, ago(400), "demo")?;
        }
        let car = Vehicle {
            purchase_date: Some(ago(330)),
            warranty_end: Some(today.add_days(75)),
            insurance_expiry: Some(today.add_days(40)),
            inspection_due: Some(today.add_days(50)),
            selling_dealer: Some(dealer),
            ..Vehicle::new("WVWZZZ1KZ00000001", "Volkswagen", "Passat")
        };
        let vehicle = tx.insert_vehicle(&car, Some((owner, ago(330))))?;
        let theirs = Vehicle::new("WVWZZZ1KZ00000002", "Volkswagen", "Tiguan");
        tx.insert_vehicle(&theirs, Some((other, ago(700))))?;
        for (i, days) in [300, 200, 120, 30].into_iter().enumerate() {
            let mut t = Touchpoint::new(
                ago(days).at(10, 0, 0),
                owner,
                Channel::Showroom,
                TouchpointKind::ServiceVisit,
            );
            t.dealer = Some(dealer);
            t.vehicle = Some(vehicle);
            t.service_kind = Some(ServiceKind::Maintenance);
            t.amount = Some(Money::yuan(600 + 100 * i as i64));
            t.mileage_km = Some(3_000 * (i as u32 + 1));
            tx.insert_touchpoint(&t)?;
        }
        for (c, key) in [(owner, "demo/welcome/owner"), (other, "demo/welcome/other")] {
            tx.adjust(&Adjustment {
                customer: c,
                wallet: Wallet::Brand,
                points: 1_000,
                at: ago(10).at(9, 0, 0),
                operator: "demo".into(),
                reason: "welcome".into(),
                key: key.into(),
            })?;
        }
        let owner_points = tx.balance(owner, Wallet::Brand)?.points;
        // The change feed on (as in a replica a phone keeps): `OwnerApp::changes` lists what
        // changes from here on.
        tx.register_consumer("owner-app")?;
        Ok(DemoFile {
            owner_id: owner.0,
            other_owner_id: other.0,
            dealer_code: "D001".into(),
            dealer_id: dealer.0,
            vehicle_id: vehicle.0,
            owner_points,
        })
    })?;
    drop(db);
    Ok(file)
}
