//! Every boundary rule through the store API: a bad record is refused with the field and the
//! rule, and nothing is written. (The rules' own passing and failing cases are unit tests in
//! `core/src/validate.rs`.)

use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

fn setup() -> (Database, CustomerId, VehicleId) {
    let db = Database::in_memory().unwrap();
    let (c, v) = db
        .write(|tx| {
            let c = tx.insert_customer(&Customer::person("王小明"))?;
            let v = tx.insert_vehicle(
                &Vehicle {
                    plate: Some("沪A12345".into()),
                    ..Vehicle::new("LSVAU218XN2183294", "VW", "Passat")
                },
                Some((c, d("2024-01-01"))),
            )?;
            Ok((c, v))
        })
        .unwrap();
    (db, c, v)
}

/// Counts of every kind of record, to show that a refused write changed nothing.
fn counts(db: &Database) -> (u64, u64, u64) {
    let r = db.begin_read().unwrap();
    (
        r.customer_count().unwrap(),
        r.vehicle_count().unwrap(),
        r.touchpoint_count().unwrap(),
    )
}

fn refused(db: &Database, f: impl FnOnce(&mut WriteTxn) -> Result<()>) -> Error {
    let before = counts(db);
    let err = db.write(f).expect_err("write must be refused");
    assert_eq!(counts(db), before, "a refused write changed the database");
    err
}

fn rule_of(err: &Error) -> (&'static str, Rule) {
    match err {
        Error::Validation(v) => (v.field, v.rule),
        Error::InRecord { source, .. } => rule_of(source),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn customer_rules() {
    let (db, ..) = setup();
    let cases: Vec<(Customer, &str, Rule)> = vec![
        (Customer::person("王先生"), "name", Rule::NamePlaceholder),
        (Customer::person("李女士"), "name", Rule::NamePlaceholder),
        (Customer::person("王"), "name", Rule::NameTooShort),
        (Customer::person("   "), "name", Rule::Required),
        (
            Customer {
                phones: vec!["1381234567".into()],
                ..Customer::person("王小明")
            },
            "phones",
            Rule::PhoneTooShort,
        ),
        (
            Customer {
                phones: vec!["12812345678".into()],
                ..Customer::person("王小明")
            },
            "phones",
            Rule::PhoneNotMobile,
        ),
        (
            Customer {
                party: Party::Person(Person {
                    name: "王小明".into(),
                    national_id: Some("110105194912310021".into()),
                    ..Person::default()
                }),
                ..Customer::person("")
            },
            "national_id",
            Rule::NationalIdCheckDigit,
        ),
        (
            Customer {
                party: Party::Organisation(Organisation {
                    name: "福州申通物流有限公司".into(),
                    credit_code: Some("91350100M000100Y44".into()),
                    industry: None,
                }),
                ..Customer::person("")
            },
            "credit_code",
            Rule::CreditCodeCheckDigit,
        ),
    ];
    for (customer, field, rule) in cases {
        let err = refused(&db, |tx| tx.insert_customer(&customer).map(|_| ()));
        assert_eq!(rule_of(&err), (field, rule), "{customer:?}");
        assert_eq!(err.code(), format!("validation.{}", rule.code()));
    }
    // Passing forms are normalised.
    let id = db
        .write(|tx| {
            tx.insert_customer(&Customer {
                phones: vec!["+86 139-1234-5678".into()],
                ..Customer::person(" 欧阳  先生 ")
            })
        })
        .unwrap();
    let stored = db.begin_read().unwrap().customer(id).unwrap();
    assert_eq!(stored.phones, vec!["13912345678".to_string()]);
    assert_eq!(stored.name(), "欧阳 先生");
}

#[test]
fn vehicle_rules() {
    let (db, c, _) = setup();
    let v = |f: fn(&mut Vehicle)| {
        let mut v = Vehicle::new("LFV2A21K8A3123456", "VW", "Jetta");
        v.vin = format!(
            "LFV2A21K{}A3123456",
            autocrm::validate::vin_check_digit("LFV2A21K0A3123456").unwrap()
        );
        f(&mut v);
        v
    };
    let cases: Vec<(Vehicle, &str, Rule)> = vec![
        (
            v(|v| v.vin = "LFV2A21K1A31234".into()),
            "vin",
            Rule::VinFormat,
        ),
        (
            v(|v| v.vin = "LFV2A21K1A312345O".into()),
            "vin",
            Rule::VinForbiddenLetter,
        ),
        (
            v(|v| v.vin.replace_range(16..17, "7")),
            "vin",
            Rule::VinCheckDigit,
        ),
        (
            v(|v| v.plate = Some("XA12345".into())),
            "plate",
            Rule::PlateFormat,
        ),
        (v(|v| v.model = " ".into()), "model", Rule::Required),
        (
            v(|v| {
                v.purchase_date = Some(d("2024-05-02"));
                v.invoice_date = Some(d("2024-05-01"));
            }),
            "invoice_date",
            Rule::DateOrder,
        ),
        (
            v(|v| {
                v.invoice_date = Some(d("2024-05-02"));
                v.registration_date = Some(d("2024-05-01"));
            }),
            "registration_date",
            Rule::DateOrder,
        ),
        (
            v(|v| v.warranty_end = Some(d("1850-01-01"))),
            "warranty_end",
            Rule::DateImplausible,
        ),
    ];
    for (vehicle, field, rule) in cases {
        let err = refused(&db, |tx| {
            tx.insert_vehicle(&vehicle, Some((c, d("2024-06-01"))))
                .map(|_| ())
        });
        assert_eq!(rule_of(&err), (field, rule), "{vehicle:?}");
    }
    // European VINs without a check digit are accepted unverified.
    db.write(|tx| tx.insert_vehicle(&Vehicle::new("WVWZZZ1JZXW000001", "VW", "Golf"), None))
        .unwrap();
}

#[test]
fn unique_keys_are_enforced() {
    let (db, c, _) = setup();
    let err = refused(&db, |tx| {
        tx.insert_vehicle(&Vehicle::new("LSVAU218XN2183294", "VW", "Passat"), None)
            .map(|_| ())
    });
    assert!(
        matches!(err, Error::DuplicateKey { field: "vin", .. }),
        "{err}"
    );
    assert_eq!(err.code(), "duplicate_key");
    let err = refused(&db, |tx| {
        tx.insert_vehicle(
            &Vehicle {
                plate: Some("沪 A·12345".into()),
                ..Vehicle::new("WVWZZZ1JZXW000002", "VW", "Golf")
            },
            None,
        )
        .map(|_| ())
    });
    assert!(
        matches!(err, Error::DuplicateKey { field: "plate", .. }),
        "{err}"
    );
    let with_id = |name: &str| Customer {
        party: Party::Person(Person {
            name: name.into(),
            national_id: Some("11010519491231002X".into()),
            ..Person::default()
        }),
        ..Customer::person("")
    };
    db.write(|tx| tx.update_customer(c, &with_id("王小明")))
        .unwrap();
    let err = refused(&db, |tx| tx.insert_customer(&with_id("李小龙")).map(|_| ()));
    assert!(
        matches!(err, Error::DuplicateKey { field: "national_id", existing, .. } if existing == c.0)
    );
    let dealer = Dealer {
        code: "sh0001".into(),
        name: "上海大众徐汇4S店".into(),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    };
    db.write(|tx| tx.insert_dealer(&dealer)).unwrap();
    let err = db
        .write(|tx| {
            tx.insert_dealer(&Dealer {
                code: "SH0001".into(),
                ..dealer.clone()
            })
        })
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DuplicateKey {
            entity: "dealer",
            ..
        }
    ));
}

#[test]
fn touchpoint_rules() {
    let (db, c, v) = setup();
    let base = Touchpoint {
        vehicle: Some(v),
        ..Touchpoint::new(
            d("2025-01-01").at(9, 0, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    };
    let cases: Vec<(Touchpoint, &str, Rule)> = vec![
        (
            Touchpoint {
                amount: Some(Money(-1)),
                ..base.clone()
            },
            "amount",
            Rule::Negative,
        ),
        (
            Touchpoint {
                score: Some(11),
                ..base.clone()
            },
            "score",
            Rule::ScoreOutOfRange,
        ),
        (
            Touchpoint {
                kind: TouchpointKind::Enquiry,
                service_kind: Some(ServiceKind::Repair),
                ..base.clone()
            },
            "service_kind",
            Rule::NotAllowed,
        ),
        (
            Touchpoint {
                at: d("1850-01-01").at(0, 0, 0),
                ..base.clone()
            },
            "at",
            Rule::DateImplausible,
        ),
        (
            Touchpoint {
                source: Some(SourceRef::new("dms", " ")),
                ..base.clone()
            },
            "source.record_id",
            Rule::Required,
        ),
    ];
    for (t, field, rule) in cases {
        let err = refused(&db, |tx| tx.insert_touchpoint(&t).map(|_| ()));
        assert_eq!(rule_of(&err), (field, rule), "{t:?}");
    }
    // References must exist.
    let err = refused(&db, |tx| {
        tx.insert_touchpoint(&Touchpoint {
            customer: CustomerId(999),
            ..base.clone()
        })
        .map(|_| ())
    });
    assert_eq!(err.code(), "not_found");
    // A batch with one bad record writes nothing and names the record.
    let batch = vec![
        base.clone(),
        base.clone(),
        Touchpoint {
            amount: Some(Money(-5)),
            ..base.clone()
        },
    ];
    let err = refused(&db, |tx| tx.insert_touchpoints(&batch).map(|_| ()));
    assert!(
        matches!(
            &err,
            Error::Validation(ValidationError {
                record: Some(2),
                field: "amount",
                ..
            })
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("record 2: field `amount`"),
        "{err}"
    );
}

#[test]
fn lead_complaint_survey_rules() {
    let (db, c, _) = setup();
    let lead = Lead {
        customer: c,
        origin: LeadSource::WalkIn,
        model: "Tiguan".into(),
        intent: Intent::H,
        purchase_type: PurchaseType::First,
        dealer: None,
        received: d("2025-01-10").at(10, 0, 0),
        status: LeadStatus::Lost(" ".into()),
        status_at: None,
        source: None,
    };
    let err = refused(&db, |tx| tx.insert_lead(&lead).map(|_| ()));
    assert_eq!(rule_of(&err), ("status.reason", Rule::Required));
    let err = refused(&db, |tx| {
        tx.insert_lead(&Lead {
            status: LeadStatus::New,
            status_at: Some(d("2025-01-01").at(0, 0, 0)),
            ..lead.clone()
        })
        .map(|_| ())
    });
    assert_eq!(rule_of(&err), ("status_at", Rule::DateOrder));
    let complaint = Complaint {
        customer: c,
        vehicle: None,
        dealer: None,
        category: "repair quality".into(),
        received: d("2025-02-01").at(10, 0, 0),
        status: ComplaintStatus::Received,
        first_response: Some(d("2025-01-31").at(10, 0, 0)),
        resolved: None,
        analysed: None,
        called_back: None,
        closed: None,
        note: None,
        source: None,
    };
    let err = refused(&db, |tx| tx.insert_complaint(&complaint).map(|_| ()));
    assert_eq!(rule_of(&err), ("first_response", Rule::DateOrder));
    let survey = Survey {
        customer: c,
        dealer: None,
        kind: SurveyKind::Sales,
        date: d("2025-02-01"),
        items: vec![(Factor::Friendliness, 9), (Factor::Friendliness, 8)],
        source: None,
    };
    let err = refused(&db, |tx| tx.insert_survey(&survey).map(|_| ()));
    assert_eq!(rule_of(&err), ("items.factor", Rule::NotAllowed));
    let err = refused(&db, |tx| {
        tx.insert_survey(&Survey {
            items: vec![(Factor::Initiative, 12)],
            ..survey.clone()
        })
        .map(|_| ())
    });
    assert_eq!(rule_of(&err), ("items.score", Rule::ScoreOutOfRange));
}

#[test]
fn owned_record_batches_are_all_or_nothing_and_idempotent() {
    let (db, c, _) = setup();
    let lead = |n: u32, source: Option<SourceRef>| Lead {
        customer: c,
        origin: LeadSource::WalkIn,
        model: format!("Tiguan {n}"),
        intent: Intent::H,
        purchase_type: PurchaseType::First,
        dealer: None,
        received: d("2025-01-10").at(10, 0, 0),
        status: LeadStatus::New,
        status_at: None,
        source,
    };
    let src = |id: &str| Some(SourceRef::new("web", id));
    let leads_of = |db: &Database| db.begin_read().unwrap().leads_of(c).unwrap().len();

    // The third record is bad: the error names it and nothing of the batch is written.
    let bad = Lead {
        status: LeadStatus::Lost(String::new()),
        ..lead(3, None)
    };
    let err = db
        .write(|tx| tx.insert_leads(&[lead(1, src("a")), lead(2, None), bad]))
        .unwrap_err();
    assert_eq!(err.record(), Some(2), "{err:?}");
    assert_eq!(rule_of(&err), ("status.reason", Rule::Required));
    assert_eq!(leads_of(&db), 0);

    // A missing customer is named the same way.
    let stranger = Lead {
        customer: CustomerId(999),
        ..lead(4, None)
    };
    let err = db
        .write(|tx| tx.insert_leads(&[lead(1, None), stranger]))
        .unwrap_err();
    assert_eq!(err.record(), Some(1), "{err:?}");
    assert_eq!(err.code(), "not_found");
    assert_eq!(leads_of(&db), 0);

    // The same source record twice in a batch, then the whole batch again: one lead each.
    let batch = [lead(1, src("a")), lead(2, src("b")), lead(1, src("a"))];
    let first = db.write(|tx| tx.insert_leads(&batch)).unwrap();
    assert_eq!(first[0], first[2]);
    assert_ne!(first[0], first[1]);
    let again = db.write(|tx| tx.insert_leads(&batch)).unwrap();
    assert_eq!(first, again);
    assert_eq!(leads_of(&db), 2);
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_360(c, 0).unwrap().rollup.leads, 2);
}

// ---------------------------------------------------------------------------------------------
// Records that accumulate stay readable: whatever a write accepts, a read returns.

#[test]
fn consent_history_is_bounded_and_always_reads_back() {
    let (db, c, _) = setup();
    let event = |n: usize, source: &str| ConsentEvent {
        channel: ConsentChannel::Sms,
        granted: n.is_multiple_of(2),
        at: d("2025-01-01").at(9, 0, 0),
        source: source.into(),
    };
    // A source over 64 characters is refused, not stored.
    let err = db
        .write(|tx| tx.record_consent(c, &event(0, &"x".repeat(20_000_000))))
        .unwrap_err();
    assert_eq!(err.code(), "validation.too_long");
    assert!(db.begin_read().unwrap().consents(c).unwrap().0.is_empty());
    // Events up to the limit are stored and read back; one more is refused.
    let max = consent::MAX_CONSENT_EVENTS;
    db.write(|tx| {
        for n in 0..max {
            tx.record_consent(c, &event(n, &"s".repeat(64)))?;
        }
        Ok(())
    })
    .unwrap();
    let err = db
        .write(|tx| tx.record_consent(c, &event(0, "call_centre")))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.consent_history", "{err}");
    assert_eq!(db.begin_read().unwrap().consents(c).unwrap().0.len(), max);
}

#[test]
fn tier_floors_are_bounded_and_always_read_back() {
    let (db, c, _) = setup();
    let floor = |reason: &str| Floor {
        tier: Tier::Gold,
        from: d("2025-01-01"),
        until: None,
        operator: "ops".into(),
        reason: reason.into(),
    };
    let err = db
        .write(|tx| tx.set_tier_floor(c, &floor(&"x".repeat(20_000_000))))
        .unwrap_err();
    assert_eq!(err.code(), "validation.too_long");
    let err = db
        .write(|tx| {
            tx.set_tier_floor(
                c,
                &Floor {
                    operator: "o".repeat(65),
                    ..floor("goodwill")
                },
            )
        })
        .unwrap_err();
    assert_eq!(err.code(), "validation.too_long");
    let max = loyalty::MAX_TIER_FLOORS;
    db.write(|tx| {
        for _ in 0..max {
            tx.set_tier_floor(c, &floor(&"r".repeat(500)))?;
        }
        Ok(())
    })
    .unwrap();
    let err = db
        .write(|tx| tx.set_tier_floor(c, &floor("one more")))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.tier_floors", "{err}");
    assert_eq!(
        db.begin_read()
            .unwrap()
            .tier_history(c)
            .unwrap()
            .floors
            .len(),
        max
    );
}

#[test]
fn names_and_free_text_refuse_control_characters_and_invisible_text() {
    let (db, c, _) = setup();
    let person = |name: &str| Customer::person(name);
    for (customer, field, code) in [
        (person("王\0小明"), "name", "validation.control_character"),
        (
            person("王小明\u{1b}]0;pwned\u{7}"),
            "name",
            "validation.control_character",
        ),
        (
            person("\u{202e}明小王"),
            "name",
            "validation.control_character",
        ),
        (
            person("\u{200b}\u{200b}\u{200b}"),
            "name",
            "validation.invisible_text",
        ),
        (
            Customer {
                address: Some("徐汇区\u{1b}[2J漕溪北路".into()),
                ..person("王小明")
            },
            "address",
            "validation.control_character",
        ),
        (
            Customer {
                city: Some("\u{200b}".into()),
                ..person("王小明")
            },
            "city",
            "validation.invisible_text",
        ),
    ] {
        let e = refused(&db, |tx| tx.insert_customer(&customer).map(|_| ()));
        assert_eq!(e.code(), code, "{customer:?}");
        match e {
            Error::Validation(v) => assert_eq!(v.field, field),
            other => panic!("{other}"),
        }
    }
    let mut p = Customer::person("王小明");
    if let Party::Person(x) = &mut p.party {
        x.occupation = Some("工程师\u{0}".into());
        x.employer = Some("\u{feff}".into());
    }
    let e = refused(&db, |tx| tx.insert_customer(&p).map(|_| ()));
    assert_eq!(e.code(), "validation.control_character");
    // Touchpoint notes and dealer names too; a note keeps its line breaks.
    let mut t = Touchpoint::new(
        d("2025-01-01").at(9, 0, 0),
        c,
        Channel::Showroom,
        TouchpointKind::Enquiry,
    );
    t.note = Some("第一行\u{1b}]8;;http://evil\u{7}".into());
    let e = refused(&db, |tx| tx.insert_touchpoint(&t).map(|_| ()));
    assert_eq!(e.code(), "validation.control_character");
    t.note = Some("第一行\n第二行".into());
    let id = db.write(|tx| tx.insert_touchpoint(&t)).unwrap();
    let stored = db.begin_read().unwrap().touchpoint(id).unwrap();
    assert_eq!(stored.note.as_deref(), Some("第一行\n第二行"));
    let dealer = Dealer {
        code: "SH\u{1b}01".into(),
        name: "上海\u{0}大众".into(),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    };
    let e = db.write(|tx| tx.insert_dealer(&dealer)).unwrap_err();
    assert_eq!(e.code(), "validation.control_character");
    let e = db
        .write(|tx| {
            tx.insert_dealer(&Dealer {
                name: "上海大众".into(),
                ..dealer.clone()
            })
        })
        .unwrap_err();
    assert_eq!(e.code(), "validation.control_character");
}

#[test]
fn births_and_touchpoints_after_the_time_received_are_implausible() {
    let (db, c, _) = setup();
    let born = |day: &str| {
        let mut p = Customer::person("王小明");
        if let Party::Person(x) = &mut p.party {
            x.birth_date = Some(d(day));
        }
        p
    };
    // Without a received time the system clock is the reference (today is after 2026-06).
    for day in ["2030-01-01", "2100-12-31"] {
        let e = refused(&db, |tx| tx.insert_customer(&born(day)).map(drop));
        assert_eq!(e.code(), "validation.date_implausible", "{day}");
    }
    db.write(|tx| tx.insert_customer(&born("1988-02-29")))
        .unwrap();
    let visit = |at: &str| {
        Touchpoint::new(
            d(at).at(9, 0, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    };
    let e = refused(&db, |tx| {
        tx.insert_touchpoint(&visit("2100-12-31")).map(drop)
    });
    assert_eq!(e.code(), "validation.date_implausible");
    // A transaction's reference time: the day after it is tolerated, two days are not, for
    // single inserts and batches alike.
    let now = d("2026-06-30").at(18, 0, 0);
    db.write(|tx| {
        tx.set_now(now);
        tx.insert_touchpoint(&visit("2026-07-01"))
    })
    .unwrap();
    for at in ["2026-07-02", "2030-01-01"] {
        let e = refused(&db, |tx| {
            tx.set_now(now);
            tx.insert_touchpoints(&[visit("2026-06-01"), visit(at)])
                .map(drop)
        });
        assert_eq!(
            (e.code(), e.record()),
            ("validation.date_implausible".into(), Some(1))
        );
    }
    let e = refused(&db, |tx| {
        tx.set_now(now);
        tx.insert_customer(&born("2026-07-02")).map(drop)
    });
    assert_eq!(e.code(), "validation.date_implausible");
    // A record received from a source system is judged by its received time.
    let from = |at: &str| integration::Received {
        source: SourceRef::new("dms", "R-1"),
        dealer: None,
        at: d(at).at(9, 0, 0),
    };
    let e = refused(&db, |tx| {
        tx.upsert_customer(&born("2026-03-01"), None, &from("2026-01-15"))
            .map(drop)
    });
    assert_eq!(e.code(), "validation.date_implausible");
    db.write(|tx| tx.upsert_customer(&born("2026-01-16"), None, &from("2026-01-15")))
        .unwrap();
}
