//! Care actions (DOMAIN.md §8) on hand-built databases: every kind at its due-date boundary
//! (the range is half-open, [from, to)), consent gating of marketing kinds, the dealer filter
//! and the sort order.

use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer, t};

fn vin(n: u64) -> String {
    // WVW (imported European) VINs carry no mandatory check digit.
    format!("WVWZZZ1KZ{:08}", n)
}

fn person(name: &str, born: Option<&str>) -> Customer {
    let mut c = Customer::person(name);
    if let Party::Person(p) = &mut c.party {
        p.birth_date = born.map(d);
    }
    c
}

fn consent(channel: ConsentChannel, granted: bool, at: &str) -> ConsentEvent {
    ConsentEvent {
        channel,
        granted,
        at: t(at),
        source: "call_centre".into(),
    }
}

fn service(c: CustomerId, on: &str, kind: ServiceKind, dealer: DealerId) -> Touchpoint {
    Touchpoint {
        dealer: Some(dealer),
        service_kind: Some(kind),
        ..Touchpoint::new(
            d(on).at(9, 0, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

struct Db {
    db: Database,
    d1: DealerId,
    d2: DealerId,
}

fn db() -> Db {
    let db = Database::in_memory().unwrap();
    let (d1, d2) = db
        .write(|tx| {
            Ok((
                tx.insert_dealer(&dealer("SH001"))?,
                tx.insert_dealer(&dealer("SH002"))?,
            ))
        })
        .unwrap();
    Db { db, d1, d2 }
}

impl Db {
    fn customer(&self, c: Customer) -> CustomerId {
        self.db.write(|tx| tx.insert_customer(&c)).unwrap()
    }

    fn vehicle(&self, v: Vehicle, owner: CustomerId, from: &str) -> VehicleId {
        self.db
            .write(|tx| tx.insert_vehicle(&v, Some((owner, d(from)))))
            .unwrap()
    }

    fn write<T>(&self, f: impl FnOnce(&mut WriteTxn) -> Result<T>) -> T {
        self.db.write(f).unwrap()
    }

    fn actions(&self, from: &str, to: &str, dealer: Option<DealerId>) -> Vec<CareAction> {
        self.actions_with(from, to, dealer, &CareParams::default())
    }

    fn actions_with(
        &self,
        from: &str,
        to: &str,
        dealer: Option<DealerId>,
        p: &CareParams,
    ) -> Vec<CareAction> {
        let facts = self.db.begin_read().unwrap().facts().unwrap();
        care::due_actions_with(&facts, d(from), d(to), dealer, p)
    }
}

/// The due dates of the actions of `kind`.
fn due(actions: &[CareAction], kind: CareKind) -> Vec<Date> {
    actions
        .iter()
        .filter(|a| a.kind == kind)
        .map(|a| a.due)
        .collect()
}

fn days(list: &[&str]) -> Vec<Date> {
    list.iter().map(|s| d(s)).collect()
}

#[test]
fn purchase_callbacks_on_day_3_day_7_and_one_month() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    // Bought on 31 January of a leap year: one month later is 29 February.
    let car = x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-31")),
            selling_dealer: Some(x.d1),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2024-01-31",
    );
    let all = x.actions("2024-01-01", "2024-12-31", None);
    assert_eq!(
        due(&all, CareKind::CallbackDay3),
        days(&["2024-02-03"]),
        "{all:#?}"
    );
    assert_eq!(due(&all, CareKind::CallbackDay7), days(&["2024-02-07"]));
    assert_eq!(due(&all, CareKind::CallbackMonth1), days(&["2024-02-29"]));
    let a = all
        .iter()
        .find(|a| a.kind == CareKind::CallbackDay3)
        .unwrap();
    assert_eq!(
        (a.customer, a.vehicle, a.dealer, a.channel, a.marketing),
        (wang, Some(car), Some(x.d1), ConsentChannel::Phone, false)
    );
    assert_eq!(a.basis, d("2024-01-31"));

    // Half-open: `from` is in, `to` is out.
    let r = x.actions("2024-02-03", "2024-02-07", None);
    let kinds: Vec<CareKind> = r.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, vec![CareKind::CallbackDay3]);
    let r = x.actions("2024-02-04", "2024-02-08", None);
    assert_eq!(due(&r, CareKind::CallbackDay7), days(&["2024-02-07"]));
    assert!(due(&r, CareKind::CallbackDay3).is_empty());
    assert!(x.actions("2024-02-07", "2024-02-07", None).is_empty());
    assert!(x.actions("2024-02-08", "2024-02-07", None).is_empty());
}

#[test]
fn purchase_callbacks_go_to_the_new_vehicles_buyer_only() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let li = x.customer(person("李华", None));
    // No purchase date: the first owner's acquisition is the purchase day.
    let car = x.vehicle(
        Vehicle::new(vin(1), "Volkswagen", "Golf"),
        wang,
        "2024-03-01",
    );
    // Li buys it used.
    x.write(|tx| tx.transfer_vehicle(car, li, d("2024-05-01")));
    let all = x.actions("2024-01-01", "2024-12-31", None);
    let callbacks: Vec<(CareKind, CustomerId, Date)> = all
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                CareKind::CallbackDay3 | CareKind::CallbackDay7 | CareKind::CallbackMonth1
            )
        })
        .map(|a| (a.kind, a.customer, a.due))
        .collect();
    assert_eq!(
        callbacks,
        vec![
            (CareKind::CallbackDay3, wang, d("2024-03-04")),
            (CareKind::CallbackDay7, wang, d("2024-03-08")),
            (CareKind::CallbackMonth1, wang, d("2024-04-01")),
        ]
    );
    // Wang sold it before its first service was due (2024-06-01): Li, the owner then, gets the
    // reminder; no selling dealer is recorded and Li has no home dealer.
    let fs: Vec<&CareAction> = all
        .iter()
        .filter(|a| a.kind == CareKind::FirstService)
        .collect();
    assert_eq!(fs.len(), 1);
    assert_eq!((fs[0].customer, fs[0].due), (li, d("2024-06-01")));
    assert_eq!(fs[0].dealer, None);
}

#[test]
fn first_service_reminder_three_months_after_purchase() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let li = x.customer(person("李华", None));
    x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-10")),
            selling_dealer: Some(x.d1),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2024-01-10",
    );
    // Li's car had its first service: no reminder.
    x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-10")),
            first_service_date: Some(d("2024-03-20")),
            ..Vehicle::new(vin(2), "Volkswagen", "Passat")
        },
        li,
        "2024-01-10",
    );
    let on = x.actions("2024-04-10", "2024-04-11", None);
    assert_eq!(due(&on, CareKind::FirstService), days(&["2024-04-10"]));
    let a = &on[0];
    assert_eq!((a.customer, a.dealer), (wang, Some(x.d1)));
    assert_eq!((a.channel, a.marketing), (ConsentChannel::Sms, false));
    assert!(due(
        &x.actions("2024-01-01", "2024-04-10", None),
        CareKind::FirstService
    )
    .is_empty());
    assert!(due(
        &x.actions("2024-04-11", "2025-01-01", None),
        CareKind::FirstService
    )
    .is_empty());

    // A first-service visit recorded as a touchpoint also counts (Wang has one vehicle).
    x.write(|tx| {
        tx.insert_touchpoint(&service(
            wang,
            "2024-04-01",
            ServiceKind::FirstService,
            x.d1,
        ))
    });
    assert!(due(
        &x.actions("2024-01-01", "2025-01-01", None),
        CareKind::FirstService
    )
    .is_empty());
}

#[test]
fn first_service_comes_earlier_when_the_odometer_gets_there_first() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-10")),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2024-01-10",
    );
    // A repair 30 days after purchase read 3,000 km: 100 km a day, 5,000 km on day 50.
    x.write(|tx| {
        tx.insert_touchpoint(&Touchpoint {
            mileage_km: Some(3_000),
            ..service(wang, "2024-02-09", ServiceKind::Repair, x.d1)
        })
    });
    let all = x.actions("2024-01-01", "2025-01-01", None);
    assert_eq!(due(&all, CareKind::FirstService), days(&["2024-02-29"]));
    // Time only when mileage is switched off.
    let p = CareParams {
        first_service_km: None,
        ..CareParams::default()
    };
    let all = x.actions_with("2024-01-01", "2025-01-01", None, &p);
    assert_eq!(due(&all, CareKind::FirstService), days(&["2024-04-10"]));
}

#[test]
fn maintenance_six_months_after_the_last_service_visit() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let car = x.vehicle(
        Vehicle {
            purchase_date: Some(d("2023-01-10")),
            first_service_date: Some(d("2023-04-01")),
            selling_dealer: Some(x.d1),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2023-01-10",
    );
    // Services at D2 without mileage: time only.
    x.write(|tx| {
        tx.insert_touchpoint(&service(wang, "2024-01-15", ServiceKind::Maintenance, x.d2))?;
        tx.insert_touchpoint(&service(wang, "2024-03-01", ServiceKind::Repair, x.d2))
    });
    let all = x.actions("2023-01-01", "2025-01-01", None);
    // 2023-04-01 (first service) → 2023-10-01; 2024-01-15 → superseded by the visit of
    // 2024-03-01 before its due date; 2024-03-01 → 2024-09-01.
    assert_eq!(
        due(&all, CareKind::Maintenance),
        days(&["2023-10-01", "2024-09-01"])
    );
    let a = all
        .iter()
        .find(|a| a.kind == CareKind::Maintenance && a.due == d("2024-09-01"))
        .unwrap();
    assert_eq!(a.basis, d("2024-03-01"));
    assert_eq!(a.vehicle, Some(car));
    assert_eq!(a.dealer, Some(x.d2), "the home dealer: where he services");
    assert_eq!(
        due(
            &x.actions("2024-09-01", "2024-09-02", None),
            CareKind::Maintenance
        ),
        days(&["2024-09-01"])
    );
    assert!(due(
        &x.actions("2024-08-01", "2024-09-01", None),
        CareKind::Maintenance
    )
    .is_empty());
    // A visit on the due date itself does not cancel the reminder of that date.
    x.write(|tx| {
        tx.insert_touchpoint(&service(wang, "2024-09-01", ServiceKind::Maintenance, x.d2))
    });
    assert_eq!(
        due(
            &x.actions("2024-09-01", "2024-09-02", None),
            CareKind::Maintenance
        ),
        days(&["2024-09-01"])
    );
}

#[test]
fn maintenance_by_mileage_for_a_one_vehicle_owner() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let li = x.customer(person("李华", None));
    let last = d("2024-03-01");
    let bought = last.add_days(-300);
    for (n, c) in [(1, wang), (2, li)] {
        x.vehicle(
            Vehicle {
                purchase_date: Some(bought),
                first_service_date: Some(bought.add_days(60)),
                ..Vehicle::new(vin(n), "Volkswagen", "Passat")
            },
            c,
            &bought.to_string(),
        );
    }
    // Li has a second car: her readings could be of either, so time only.
    x.vehicle(Vehicle::new(vin(3), "Volkswagen", "Golf"), li, "2023-01-01");
    // 30,000 km in 300 days: 100 km a day, 7,500 km in 75 days.
    x.write(|tx| {
        for c in [wang, li] {
            tx.insert_touchpoint(&Touchpoint {
                mileage_km: Some(30_000),
                ..service(c, "2024-03-01", ServiceKind::Maintenance, x.d1)
            })?;
        }
        Ok(())
    });
    let all = x.actions("2024-03-02", "2025-01-01", None);
    let m: Vec<(CustomerId, Date, Option<VehicleId>)> = all
        .iter()
        .filter(|a| a.kind == CareKind::Maintenance)
        .map(|a| (a.customer, a.due, a.vehicle))
        .collect();
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!((m[0].0, m[0].1), (wang, last.add_days(75)));
    assert_eq!((m[1].0, m[1].1), (li, d("2024-09-01")));
    assert_eq!(m[1].2, None, "Li owns two vehicles");
}

#[test]
fn insurance_renewal_is_marketing_and_needs_consent() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    x.vehicle(
        Vehicle {
            insurance_expiry: Some(d("2024-07-01")),
            selling_dealer: Some(x.d1),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2020-01-01",
    );
    // A recent service visit keeps him off the win-back list.
    x.write(|tx| tx.insert_touchpoint(&service(wang, "2024-05-15", ServiceKind::Repair, x.d1)));
    let range = ("2024-06-01", "2024-06-02");
    // No consent: nothing.
    assert!(due(
        &x.actions(range.0, range.1, None),
        CareKind::InsuranceRenewal
    )
    .is_empty());
    // SMS granted on the due day itself: offered by SMS (phone is preferred but not granted).
    x.write(|tx| {
        tx.record_consent(
            wang,
            &consent(ConsentChannel::Sms, true, "2024-06-01T18:00"),
        )
    });
    x.write(|tx| {
        tx.record_consent(
            wang,
            &consent(ConsentChannel::Phone, true, "2024-06-02T09:00"),
        )
    });
    let r = x.actions(range.0, range.1, None);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].kind, CareKind::InsuranceRenewal);
    assert_eq!((r[0].channel, r[0].marketing), (ConsentChannel::Sms, true));
    assert_eq!(r[0].basis, d("2024-07-01"));
    assert_eq!(r[0].detail, "insurance expires 2024-07-01");
    // 30 days before expiry, not 29 or 31.
    assert!(x.actions("2024-05-02", "2024-06-01", None).is_empty());
    assert!(x.actions("2024-06-02", "2024-07-02", None).is_empty());
    // Withdrawn later on the due day: the day's last word is no, so nothing.
    x.write(|tx| {
        tx.record_consent(
            wang,
            &consent(ConsentChannel::Sms, false, "2024-06-01T20:00"),
        )
    });
    assert!(x.actions(range.0, range.1, None).is_empty());
}

#[test]
fn inspection_and_warranty_reminders_are_care_without_consent() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let car = x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-03-01")),
            first_service_date: Some(d("2024-05-01")),
            inspection_due: Some(d("2026-03-01")),
            warranty_end: Some(d("2027-03-01")),
            selling_dealer: Some(x.d2),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2024-03-01",
    );
    let r = x.actions("2026-01-30", "2026-01-31", None);
    assert_eq!(due(&r, CareKind::AnnualInspection), days(&["2026-01-30"]));
    assert!(x.actions("2026-01-31", "2026-03-01", None).is_empty());
    assert!(x.actions("2026-01-01", "2026-01-30", None).is_empty());
    let r = x.actions("2026-12-31", "2027-01-01", None);
    assert_eq!(due(&r, CareKind::WarrantyExpiry), days(&["2026-12-31"]));
    let a = &r[0];
    assert_eq!(
        (a.vehicle, a.dealer, a.marketing, a.channel),
        (Some(car), Some(x.d2), false, ConsentChannel::Phone)
    );
    assert!(x.actions("2027-01-01", "2027-03-01", None).is_empty());
    // Sold before the due date: no reminder for the former owner.
    let li = x.customer(person("李华", None));
    x.write(|tx| tx.transfer_vehicle(car, li, d("2026-12-31")));
    let r = x.actions("2026-12-31", "2027-01-01", None);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].customer, li);
}

#[test]
fn birthdays_with_29_february_and_consent() {
    let x = db();
    let wang = x.customer(person("王小明", Some("1988-02-29")));
    let li = x.customer(person("李华", Some("1990-07-15")));
    let org = x.customer(Customer::organisation("上海出租汽车公司"));
    for c in [wang, li, org] {
        x.write(|tx| tx.record_consent(c, &consent(ConsentChannel::WeChat, true, "2020-01-01")));
    }
    // 2024 is a leap year; 2025 and 2026 are not: 28 February.
    let r = x.actions("2024-02-29", "2024-03-01", None);
    assert_eq!(due(&r, CareKind::Birthday), days(&["2024-02-29"]));
    assert!(x.actions("2024-02-28", "2024-02-29", None).is_empty());
    let r = x.actions("2024-12-01", "2026-03-01", None);
    let b: Vec<(CustomerId, Date)> = r
        .iter()
        .filter(|a| a.kind == CareKind::Birthday)
        .map(|a| (a.customer, a.due))
        .collect();
    assert_eq!(
        b,
        vec![
            (wang, d("2025-02-28")),
            (li, d("2025-07-15")),
            (wang, d("2026-02-28")),
        ]
    );
    assert_eq!(r[0].channel, ConsentChannel::WeChat);
    assert!(r[0].marketing);
    assert_eq!(r[0].basis, d("1988-02-29"));
    // `to` is exclusive.
    assert_eq!(
        due(
            &x.actions("2026-01-01", "2026-02-28", None),
            CareKind::Birthday
        ),
        vec![]
    );
    // Without consent, no greeting.
    x.write(|tx| tx.record_consent(li, &consent(ConsentChannel::WeChat, false, "2025-07-14")));
    assert!(due(
        &x.actions("2025-07-01", "2025-08-01", None),
        CareKind::Birthday
    )
    .is_empty());
}

#[test]
fn holiday_greetings_from_the_configured_calendar() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let li = x.customer(person("李华", None));
    x.write(|tx| tx.record_consent(wang, &consent(ConsentChannel::App, true, "2024-01-01")));
    let p = CareParams {
        holidays: vec![Holiday {
            date: d("2025-01-29"),
            name: "春节".into(),
        }],
        ..CareParams::default()
    };
    let r = x.actions_with("2025-01-29", "2025-01-30", None, &p);
    assert_eq!(r.len(), 1, "Li did not consent");
    assert_eq!(
        (r[0].kind, r[0].customer, r[0].channel),
        (CareKind::Holiday, wang, ConsentChannel::App)
    );
    assert_eq!(r[0].detail, "春节");
    let _ = li;
    assert!(x.actions("2025-01-29", "2025-01-30", None).is_empty());
}

#[test]
fn win_back_for_at_risk_and_churned_owners_once_per_range() {
    let x = db();
    let from = "2024-03-01";
    let at_risk = x.customer(person("王小明", None));
    let churned = x.customer(person("李华", None));
    let recent = x.customer(person("赵强", None));
    let prospect = x.customer(person("钱多", None));
    for (n, c) in [(1, at_risk), (2, churned), (3, recent)] {
        x.vehicle(
            Vehicle {
                selling_dealer: Some(x.d1),
                ..Vehicle::new(vin(n), "Volkswagen", "Passat")
            },
            c,
            "2022-01-01",
        );
    }
    x.write(|tx| {
        // One visit in W more than 90 days before D: at risk.
        tx.insert_touchpoint(&service(
            at_risk,
            "2023-10-01",
            ServiceKind::Maintenance,
            x.d2,
        ))?;
        // Nothing in W, but a visit before it: churned.
        tx.insert_touchpoint(&service(
            churned,
            "2023-01-01",
            ServiceKind::Maintenance,
            x.d1,
        ))?;
        // One visit within the last 90 days: recent.
        tx.insert_touchpoint(&service(
            recent,
            "2024-02-01",
            ServiceKind::Maintenance,
            x.d1,
        ))
    });
    for c in [at_risk, churned, recent, prospect] {
        x.write(|tx| tx.record_consent(c, &consent(ConsentChannel::Phone, true, "2021-01-01")));
    }
    let r = x.actions(from, "2024-04-01", None);
    let w: Vec<(CustomerId, Date, Option<DealerId>)> = r
        .iter()
        .filter(|a| a.kind == CareKind::WinBack)
        .map(|a| (a.customer, a.due, a.dealer))
        .collect();
    assert_eq!(
        w,
        vec![
            (at_risk, d(from), Some(x.d2)),
            (churned, d(from), Some(x.d1)),
        ]
    );
    let a = r.iter().find(|a| a.kind == CareKind::WinBack).unwrap();
    assert_eq!(a.detail, "at_risk, last service 2023-10-01");
    assert_eq!((a.channel, a.marketing), (ConsentChannel::Phone, true));
    // Status as of `from`: a day later the at-risk owner's visit is still in W.
    let r = x.actions("2024-03-02", "2024-03-03", None);
    assert_eq!(due(&r, CareKind::WinBack).len(), 2);
    // Without consent, no win-back.
    x.write(|tx| {
        tx.record_consent(
            churned,
            &consent(ConsentChannel::Phone, false, "2024-02-01"),
        )
    });
    let r = x.actions(from, "2024-04-01", None);
    let w: Vec<CustomerId> = r
        .iter()
        .filter(|a| a.kind == CareKind::WinBack)
        .map(|a| a.customer)
        .collect();
    assert_eq!(w, vec![at_risk]);
}

#[test]
fn unreported_leads_are_chased_7_days_after_receipt() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let lead = |status: LeadStatus, status_at: Option<&str>| Lead {
        customer: wang,
        origin: LeadSource::Web,
        model: "Passat".into(),
        intent: Intent::A,
        purchase_type: PurchaseType::First,
        dealer: Some(x.d2),
        received: t("2024-03-01T10:00"),
        status,
        status_at: status_at.map(t),
        source: None,
    };
    let open = x.write(|tx| tx.insert_lead(&lead(LeadStatus::New, None)));
    // Reported (even if still new), or worked: no follow-up.
    x.write(|tx| tx.insert_lead(&lead(LeadStatus::New, Some("2024-03-02T10:00"))));
    x.write(|tx| tx.insert_lead(&lead(LeadStatus::Contacted, Some("2024-03-02T10:00"))));
    let r = x.actions("2024-03-08", "2024-03-09", None);
    assert_eq!(r.len(), 1, "{r:#?}");
    let a = &r[0];
    assert_eq!(
        (a.kind, a.lead, a.dealer, a.marketing),
        (CareKind::LeadFollowUp, Some(open), Some(x.d2), false)
    );
    assert!(x.actions("2024-03-01", "2024-03-08", None).is_empty());
    assert!(x.actions("2024-03-09", "2024-04-01", None).is_empty());
    // Once reported, it is no longer due.
    x.write(|tx| tx.update_lead(open, &lead(LeadStatus::Contacted, Some("2024-03-09T10:00"))));
    assert!(x.actions("2024-03-08", "2024-03-09", None).is_empty());
}

#[test]
fn resolved_complaints_are_called_back_the_next_day() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let complaint = Complaint {
        customer: wang,
        vehicle: None,
        dealer: Some(x.d1),
        category: "repair quality".into(),
        received: t("2024-03-01T09:00"),
        status: ComplaintStatus::Received,
        first_response: None,
        resolved: None,
        analysed: None,
        called_back: None,
        closed: None,
        note: None,
        source: None,
    };
    let id = x.write(|tx| tx.insert_complaint(&complaint));
    let later = x.write(|tx| tx.insert_complaint(&complaint));
    x.write(|tx| {
        for c in [id, later] {
            tx.advance_complaint(c, ComplaintStatus::Analysed, t("2024-03-02T09:00"))?;
            tx.advance_complaint(c, ComplaintStatus::Resolved, t("2024-03-05T17:00"))?;
        }
        // One was called back already.
        tx.advance_complaint(later, ComplaintStatus::CalledBack, t("2024-03-06T10:00"))
    });
    let r = x.actions("2024-03-06", "2024-03-07", None);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(
        (r[0].kind, r[0].complaint, r[0].dealer, r[0].basis),
        (
            CareKind::ComplaintCallback,
            Some(id),
            Some(x.d1),
            d("2024-03-05")
        )
    );
    assert!(x.actions("2024-03-01", "2024-03-06", None).is_empty());
    x.write(|tx| tx.advance_complaint(id, ComplaintStatus::CalledBack, t("2024-03-06T11:00")));
    assert!(x.actions("2024-03-06", "2024-03-07", None).is_empty());
}

#[test]
fn the_dealer_filter_and_the_order() {
    let x = db();
    let wang = x.customer(person("王小明", None));
    let li = x.customer(person("李华", None));
    // Wang bought at D1 but services at D2.
    x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-01")),
            first_service_date: Some(d("2024-03-01")),
            selling_dealer: Some(x.d1),
            ..Vehicle::new(vin(1), "Volkswagen", "Passat")
        },
        wang,
        "2024-01-01",
    );
    x.write(|tx| {
        tx.insert_touchpoint(&service(
            wang,
            "2024-03-01",
            ServiceKind::FirstService,
            x.d2,
        ))
    });
    // Li bought at D2 on the same day.
    x.vehicle(
        Vehicle {
            purchase_date: Some(d("2024-01-01")),
            selling_dealer: Some(x.d2),
            ..Vehicle::new(vin(2), "Volkswagen", "Golf")
        },
        li,
        "2024-01-01",
    );
    let all = x.actions("2024-01-01", "2025-01-01", None);
    let d1 = x.actions("2024-01-01", "2025-01-01", Some(x.d1));
    let d2 = x.actions("2024-01-01", "2025-01-01", Some(x.d2));
    assert_eq!(d1.len() + d2.len(), all.len());
    assert!(d1.iter().all(|a| a.dealer == Some(x.d1)));
    assert!(d2.iter().all(|a| a.dealer == Some(x.d2)));
    let summary = |r: &[CareAction]| -> Vec<(Date, CustomerId, CareKind)> {
        r.iter().map(|a| (a.due, a.customer, a.kind)).collect()
    };
    // D1 sold Wang's car: his sales callbacks; his maintenance goes to D2 where he services.
    assert_eq!(
        summary(&d1),
        vec![
            (d("2024-01-04"), wang, CareKind::CallbackDay3),
            (d("2024-01-08"), wang, CareKind::CallbackDay7),
            (d("2024-02-01"), wang, CareKind::CallbackMonth1),
        ]
    );
    // Sorted by due date, then customer.
    assert_eq!(
        summary(&d2),
        vec![
            (d("2024-01-04"), li, CareKind::CallbackDay3),
            (d("2024-01-08"), li, CareKind::CallbackDay7),
            (d("2024-02-01"), li, CareKind::CallbackMonth1),
            (d("2024-04-01"), li, CareKind::FirstService),
            (d("2024-09-01"), wang, CareKind::Maintenance),
        ]
    );
    assert_eq!(
        summary(&all)[..2],
        [
            (d("2024-01-04"), wang, CareKind::CallbackDay3),
            (d("2024-01-04"), li, CareKind::CallbackDay3),
        ]
    );
    let sorted = {
        let mut s = summary(&all);
        s.sort();
        s
    };
    assert_eq!(summary(&all), sorted);
}

#[test]
fn kinds_have_stable_names_and_the_marketing_split() {
    for k in CareKind::ALL {
        assert_eq!(CareKind::from_name(k.name()), Some(k));
    }
    let marketing: Vec<&str> = CareKind::ALL
        .into_iter()
        .filter(|k| k.is_marketing())
        .map(CareKind::name)
        .collect();
    assert_eq!(
        marketing,
        vec!["insurance_renewal", "birthday", "holiday", "win_back"]
    );
    // The default entry point is the default parameters.
    let x = db();
    let wang = x.customer(person("王小明", None));
    x.vehicle(
        Vehicle::new(vin(1), "Volkswagen", "Golf"),
        wang,
        "2024-03-01",
    );
    let facts = x.db.begin_read().unwrap().facts().unwrap();
    assert_eq!(
        due_actions(&facts, d("2024-01-01"), d("2025-01-01"), None),
        x.actions("2024-01-01", "2025-01-01", None)
    );
}
