//! Identity resolution: duplicate candidates (each rule, scores, exclusions) and merges (what
//! moves, redirects and their chains, refusals that write nothing, persistence), with a
//! property test on random small networks: a merge keeps every record, every index agrees
//! with the records, and every rollup equals one rebuilt from the records.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use autocrm::validate;
use autocrm::{
    Channel, ConsentChannel, ConsentEvent, Customer, CustomerId, CustomerKey, Database, DateTime,
    DuplicateCandidate, Error, Gender, MatchReason, Money, Party, Person, ReadTxn, Refusal,
    Relation, RelationKind, Rollup, ServiceKind, SourceRef, Touchpoint, TouchpointKind, Vehicle,
    VehicleId, WriteTxn,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{complaint, d, lead, survey};

fn at(s: &str) -> DateTime {
    d(s).at(10, 0, 0)
}

/// A valid national ID with sequence number `seq`.
fn nid(seq: u32) -> String {
    let first17 = format!("11010519900307{:03}", seq % 1000);
    let check = validate::national_id_check_digit(&first17).unwrap();
    format!("{first17}{check}")
}

/// A valid China VIN number `k`.
fn vin(k: u32) -> String {
    let placeholder = format!("LSVAU2180N2183{k:03}");
    let check = validate::vin_check_digit(&placeholder).unwrap();
    format!("LSVAU218{check}N2183{k:03}")
}

const PHONES: [&str; 6] = [
    "13800138000",
    "13912345678",
    "15000001111",
    "18600002222",
    "13700001234",
    "15911112222",
];

fn person(name: &str, phones: &[&str]) -> Customer {
    Customer {
        phones: phones.iter().map(|p| p.to_string()).collect(),
        ..Customer::person(name)
    }
}

fn with_person(mut c: Customer, f: impl FnOnce(&mut Person)) -> Customer {
    if let Party::Person(p) = &mut c.party {
        f(p);
    }
    c
}

fn tp(c: CustomerId, when: &str, kind: TouchpointKind) -> Touchpoint {
    Touchpoint::new(at(when), c, Channel::Showroom, kind)
}

fn pair(all: &[DuplicateCandidate], a: CustomerId, b: CustomerId) -> Option<&DuplicateCandidate> {
    all.iter()
        .find(|c| (c.customer, c.other) == (a.min(b), a.max(b)))
}

// ---------------------------------------------------------------------------------------------
// Candidates

#[test]
fn each_candidate_rule_fires_with_its_score() {
    use MatchReason::*;
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let mut add = |c: Customer| tx.insert_customer(&c).unwrap();
    let ph_a = add(person("王小明", &[PHONES[0]]));
    let ph_b = add(person("王小明", &["+86 138-0013-8000"]));
    let sim_a = add(person("李华", &[PHONES[1]]));
    let sim_b = add(person("李小华", &[PHONES[1]]));
    // A two-character given name differing by one character: two siblings on one phone.
    let fam_a = add(person("张伟", &[PHONES[2]]));
    let fam_b = add(person("张芳", &[PHONES[2]]));
    let born = |n: &str| {
        with_person(Customer::person(n), |p| {
            p.birth_date = Some(d("1985-04-01"))
        })
    };
    let b_a = add(born("陈静"));
    let b_b = add(born("陈静"));
    let work = |e: &str| with_person(Customer::person("刘洋"), |p| p.employer = Some(e.into()));
    let e_a = add(work("上海大众汽车有限公司"));
    let e_b = add(work("上海大众 汽车有限公司"));
    let home = |city: Option<&str>| Customer {
        address: Some("徐汇区漕溪北路88号".into()),
        city: city.map(Into::into),
        ..Customer::person("赵磊")
    };
    let a_a = add(home(Some("上海")));
    let a_b = add(home(Some("上海")));
    let org = |city: &str| Customer {
        city: Some(city.into()),
        ..Customer::organisation("上海安吉物流股份有限公司")
    };
    let o_a = add(org("上海"));
    let o_b = add(org("南京"));
    let lat_a = add(person("Zhao Lei", &[PHONES[3]]));
    let lat_b = add(person("LEI  zhao", &[PHONES[3]]));
    let both = |g: Gender| {
        with_person(person("周杰", &[PHONES[4]]), |p| {
            p.birth_date = Some(d("1979-01-18"));
            p.gender = Some(g);
        })
    };
    let all_a = add(both(Gender::Male));
    let all_b = add(both(Gender::Male));
    let g_a = add(with_person(person("孙丽", &[PHONES[5]]), |p| {
        p.gender = Some(Gender::Female)
    }));
    let g_b = add(with_person(person("孙丽丽", &[PHONES[5]]), |p| {
        p.gender = Some(Gender::Male)
    }));
    tx.commit().unwrap();

    let r = db.begin_read().unwrap();
    let all = r.duplicate_candidates(0).unwrap();
    let expect = [
        (ph_a, ph_b, vec![PhoneAndName], 90),
        (sim_a, sim_b, vec![PhoneAndSimilarName], 70),
        (b_a, b_b, vec![NameAndBirthDate], 85),
        (e_a, e_b, vec![NameAndEmployer], 80),
        (a_a, a_b, vec![NameAndAddress, SameCity], 84),
        (o_a, o_b, vec![OrganisationName, CityDiffers], 50),
        (lat_a, lat_b, vec![PhoneAndName], 90),
        (all_a, all_b, vec![PhoneAndName, NameAndBirthDate], 99),
        (g_a, g_b, vec![PhoneAndSimilarName, GenderDiffers], 40),
    ];
    for (a, b, reasons, score) in &expect {
        let c = pair(&all, *a, *b).unwrap_or_else(|| panic!("{a} and {b} are no candidate"));
        assert_eq!(&c.reasons, reasons, "{a} {b}");
        assert_eq!(c.score, *score, "{a} {b}");
    }
    assert!(pair(&all, fam_a, fam_b).is_none(), "siblings on one phone");
    assert_eq!(all.len(), expect.len(), "{all:#?}");
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(all.iter().all(|c| c.customer < c.other));

    let above = r.duplicate_candidates(101).unwrap_err();
    assert_eq!(above.code(), "validation.out_of_range");
    assert_eq!(r.duplicate_candidates(100).unwrap(), vec![]);
    let strong = r.duplicate_candidates(85).unwrap();
    assert_eq!(
        strong.iter().map(|c| c.score).collect::<Vec<_>>(),
        [99, 90, 90, 85]
    );

    // duplicates_of reports the same pairs and scores, seen from the customer asked about.
    for c in r.customer_ids().unwrap() {
        let mut want: Vec<(CustomerId, u8, Vec<MatchReason>)> = all
            .iter()
            .filter(|x| x.customer == c || x.other == c)
            .map(|x| {
                let other = if x.customer == c { x.other } else { x.customer };
                (other, x.score, x.reasons.clone())
            })
            .collect();
        want.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let got: Vec<_> = r
            .duplicates_of(c)
            .unwrap()
            .into_iter()
            .map(|x| {
                assert_eq!(x.customer, c);
                (x.other, x.score, x.reasons)
            })
            .collect();
        assert_eq!(got, want, "duplicates_of({c})");
    }
}

#[test]
fn different_national_ids_or_party_kinds_never_pair() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let twin = |id: Option<String>| {
        with_person(person("王小明", &[PHONES[0]]), |p| {
            p.birth_date = Some(d("1990-03-07"));
            p.national_id = id;
        })
    };
    let a = tx.insert_customer(&twin(Some(nid(1)))).unwrap();
    let b = tx.insert_customer(&twin(Some(nid(2)))).unwrap();
    let org = tx
        .insert_customer(&Customer {
            phones: vec![PHONES[0].into()],
            ..Customer::organisation("王小明")
        })
        .unwrap();
    tx.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.duplicate_candidates(0).unwrap(), vec![]);
    assert_eq!(r.duplicates_of(a).unwrap(), vec![]);
    assert_eq!(r.duplicates_of(org).unwrap(), vec![]);
    drop(r);

    // Without a national ID the third twin pairs with both.
    let c = db.write(|tx| tx.insert_customer(&twin(None))).unwrap();
    let r = db.begin_read().unwrap();
    let all = r.duplicate_candidates(0).unwrap();
    let pairs: Vec<_> = all.iter().map(|x| (x.customer, x.other, x.score)).collect();
    assert_eq!(pairs, vec![(a, c, 99), (b, c, 99)]);
}

// ---------------------------------------------------------------------------------------------
// Merge

/// The rollup computed from the read API alone, independently of the library's own rebuild.
fn rebuilt_rollup(r: &ReadTxn, c: CustomerId) -> Rollup {
    let mut rollup = Rollup::default();
    let timeline = r.timeline(c, None, usize::MAX).unwrap().items;
    for (_, t) in &timeline {
        let k = t.kind.index();
        rollup.counts[k] += 1;
        rollup.spend[k] = Money(rollup.spend[k].0 + t.amount.map_or(0, |m| m.0));
        rollup.parts_spend = Money(rollup.parts_spend.0 + t.parts_amount.map_or(0, |m| m.0));
        rollup.labour_spend = Money(rollup.labour_spend.0 + t.labour_amount.map_or(0, |m| m.0));
        let date = t.at.date();
        if t.kind == TouchpointKind::ServiceVisit {
            rollup.service_dates.push(date);
        }
        if t.kind == TouchpointKind::Purchase {
            rollup.first_purchase = rollup.first_purchase.min(Some(date)).or(Some(date));
            rollup.last_purchase = rollup.last_purchase.max(Some(date));
        }
        rollup.first_touch = rollup.first_touch.min(Some(t.at)).or(Some(t.at));
        rollup.last_touch = rollup.last_touch.max(Some(t.at));
        if let Some(km) = t.mileage_km {
            rollup.max_mileage_km = rollup.max_mileage_km.max(Some(km));
        }
        rollup.events.push(autocrm::rollup::Event::of(t));
    }
    rollup.service_dates.sort();
    rollup.events.sort();
    for v in r.vehicles_of(c).unwrap() {
        let mine: Vec<_> = v.ownership.0.iter().filter(|o| o.customer == c).collect();
        assert!(
            !mine.is_empty(),
            "{} listed for {c} without owning it",
            v.id
        );
        rollup.vehicles_total += 1;
        rollup.vehicles_current += mine.iter().filter(|o| o.to.is_none()).count() as u32;
        for o in mine {
            rollup.first_vehicle = rollup.first_vehicle.min(Some(o.from)).or(Some(o.from));
        }
    }
    rollup.relations = r.relations_of(c).unwrap().len() as u32;
    rollup.leads = r.leads_of(c).unwrap().len() as u32;
    rollup.complaints = r.complaints_of(c).unwrap().len() as u32;
    rollup.surveys = r.surveys_of(c).unwrap().len() as u32;
    rollup
}

/// Everything observable, for "nothing changed" comparisons.
fn snapshot(db: &Database) -> String {
    let r = db.begin_read().unwrap();
    let mut out = format!("{:?}\n", r.all_customers().unwrap());
    out += &format!("{:?}\n", r.all_vehicles().unwrap());
    for c in r.customer_ids().unwrap() {
        out += &format!(
            "{c}: {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
            r.rollup(c).unwrap(),
            r.timeline(c, None, usize::MAX).unwrap().items,
            r.relations_of(c).unwrap(),
            r.leads_of(c).unwrap(),
            r.complaints_of(c).unwrap(),
            r.surveys_of(c).unwrap(),
            r.consents(c).unwrap(),
            r.vehicles_of(c).unwrap(),
            r.merges_of(c).unwrap(),
        );
    }
    for p in PHONES {
        out += &format!("{p}: {:?}\n", r.customers_by_phone(p).unwrap());
    }
    for i in 0..6 {
        out += &format!("{:?}\n", r.customer_by_national_id(&nid(i)).unwrap());
    }
    out
}

struct Scene {
    s: CustomerId,
    m: CustomerId,
    x: CustomerId,
    v_s: VehicleId,
    v_m: VehicleId,
    v_both: VehicleId,
}

/// A survivor and a customer to merge into it, each with a bit of everything, and a third
/// customer related to both.
fn scene(tx: &mut WriteTxn) -> Scene {
    let s = tx
        .insert_customer(&Customer {
            city: Some("上海".into()),
            ..person("王小明", &[PHONES[0]])
        })
        .unwrap();
    let m = tx
        .insert_customer(&Customer {
            city: Some("上海".into()),
            address: Some("徐汇区漕溪北路88号".into()),
            source: Some(SourceRef::new("dms", "K-77")),
            ..with_person(person("王小明", &[PHONES[1], PHONES[0]]), |p| {
                p.national_id = Some(nid(3));
                p.birth_date = Some(d("1990-03-07"));
                p.interests = vec!["golf".into()];
            })
        })
        .unwrap();
    let x = tx.insert_customer(&person("李华", &[PHONES[2]])).unwrap();
    let v_s = tx
        .insert_vehicle(
            &Vehicle::new(vin(1), "VW", "Passat"),
            Some((s, d("2019-01-01"))),
        )
        .unwrap();
    let v_m = tx
        .insert_vehicle(
            &Vehicle::new(vin(2), "VW", "Tiguan"),
            Some((m, d("2018-05-01"))),
        )
        .unwrap();
    // Bought by the merged record, passed on to the survivor record.
    let v_both = tx
        .insert_vehicle(
            &Vehicle::new(vin(3), "VW", "Golf"),
            Some((m, d("2016-01-01"))),
        )
        .unwrap();
    tx.transfer_vehicle(v_both, s, d("2020-01-01")).unwrap();
    for (c, when, kind) in [
        (s, "2023-01-01", TouchpointKind::ServiceVisit),
        (m, "2023-01-01", TouchpointKind::ServiceVisit),
        (m, "2018-05-01", TouchpointKind::Purchase),
        (m, "2024-02-02", TouchpointKind::Enquiry),
        (s, "2019-01-01", TouchpointKind::Purchase),
    ] {
        tx.insert_touchpoint(&Touchpoint {
            amount: Some(Money(1000)),
            mileage_km: Some(12_000),
            service_kind: (kind == TouchpointKind::ServiceVisit)
                .then_some(ServiceKind::Maintenance),
            ..tp(c, when, kind)
        })
        .unwrap();
    }
    tx.insert_lead(&lead(m)).unwrap();
    tx.insert_complaint(&complaint(m)).unwrap();
    tx.insert_survey(&survey(m)).unwrap();
    tx.insert_survey(&survey(s)).unwrap();
    tx.relate(s, RelationKind::Relative, x).unwrap();
    tx.relate(m, RelationKind::Relative, x).unwrap(); // the survivor has it already
    tx.relate(x, RelationKind::ReferredBy, m).unwrap(); // moves
    tx.relate(m, RelationKind::Contact, s).unwrap(); // between the two: becomes nothing
    let ev = |granted, when: &str| ConsentEvent {
        channel: ConsentChannel::Sms,
        granted,
        at: at(when),
        source: "call_centre".into(),
    };
    tx.record_consent(s, &ev(false, "2023-01-01")).unwrap();
    tx.record_consent(m, &ev(true, "2024-01-01")).unwrap();
    Scene {
        s,
        m,
        x,
        v_s,
        v_m,
        v_both,
    }
}

#[test]
fn a_merge_moves_everything_to_the_survivor() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let Scene {
        s,
        m,
        x,
        v_s,
        v_m,
        v_both,
    } = scene(&mut tx);
    tx.commit().unwrap();
    let before = db.begin_read().unwrap();
    let old_m = before.customer(m).unwrap();
    let tp_count = before.touchpoint_count().unwrap();
    let m_touchpoints: Vec<_> = before.timeline(m, None, 99).unwrap().items;
    drop(before);

    let rec = db
        .write(|tx| tx.merge_customers(s, m, at("2025-01-01"), " operator 7 "))
        .unwrap();
    assert_eq!(
        (rec.survivor, rec.merged, rec.by.as_str()),
        (s, m, "operator 7")
    );
    assert_eq!(rec.merged_customer, old_m);
    let c = &rec.counts;
    assert_eq!(
        (c.vehicles, c.touchpoints, c.leads, c.complaints, c.surveys),
        (2, 3, 1, 1, 1)
    );
    assert_eq!(
        (c.relations, c.relations_between, c.relations_duplicate),
        (1, 1, 1)
    );
    assert_eq!((c.consent_events, c.phones_added), (1, 1));
    assert_eq!(
        rec.filled,
        [
            "birth_date",
            "national_id",
            "interests",
            "address",
            "phones",
            "source"
        ]
    );

    let r = db.begin_read().unwrap();
    // The merged customer is gone; its id redirects.
    assert!(matches!(r.customer(m), Err(Error::NotFound { .. })));
    assert_eq!(r.customer_ids().unwrap(), vec![s, x]);
    assert_eq!(r.resolve_customer(m).unwrap(), s);
    assert_eq!(r.resolve_customer(s).unwrap(), s);
    assert_eq!(r.customer_360(m, 10).unwrap().id, s);
    assert_eq!(r.find_customers(&CustomerKey::Id(m)).unwrap(), vec![s]);

    // The survivor's record: its values kept, empty ones filled, phones unioned.
    let now = r.customer(s).unwrap();
    assert_eq!(now.name(), "王小明");
    assert_eq!(now.phones, vec![PHONES[0], PHONES[1]]);
    assert_eq!(now.national_id(), Some(nid(3).as_str()));
    assert_eq!(now.address.as_deref(), Some("徐汇区漕溪北路88号"));
    assert_eq!(r.customer_by_national_id(&nid(3)).unwrap(), Some(s));
    assert_eq!(r.customers_by_phone(PHONES[0]).unwrap(), vec![s]);
    assert_eq!(r.customers_by_phone(PHONES[1]).unwrap(), vec![s]);

    // Vehicles and their ownership histories.
    let owned: Vec<VehicleId> = r.vehicles_of(s).unwrap().iter().map(|v| v.id).collect();
    assert_eq!(owned, vec![v_s, v_m, v_both]);
    assert!(r.vehicles_of(m).unwrap().is_empty());
    assert_eq!(r.ownership(v_m).unwrap().current().unwrap().customer, s);
    let h = r.ownership(v_both).unwrap();
    assert!(h.0.iter().all(|o| o.customer == s), "{h:?}");
    assert_eq!(h.0.len(), 2, "both periods kept");
    let view = r.customer_360(s, 10).unwrap();
    assert_eq!(view.current_vehicles.len(), 3);

    // Touchpoints: same ids, under the survivor.
    assert_eq!(r.touchpoint_count().unwrap(), tp_count);
    assert!(r.timeline(m, None, 9).unwrap().items.is_empty());
    let timeline = r.timeline(s, None, 99).unwrap().items;
    assert_eq!(timeline.len(), 5);
    for (id, t) in &m_touchpoints {
        let moved = r.touchpoint(*id).unwrap();
        assert_eq!(moved.customer, s);
        assert_eq!(
            Touchpoint {
                customer: m,
                ..moved
            },
            *t
        );
        assert!(timeline.iter().any(|(i, _)| i == id));
    }

    // Leads, complaints, surveys.
    assert_eq!(r.leads_of(s).unwrap().len(), 1);
    assert_eq!(r.leads_of(s).unwrap()[0].1.customer, s);
    assert_eq!(r.complaints_of(s).unwrap()[0].1.customer, s);
    assert_eq!(r.surveys_of(s).unwrap().len(), 2);
    assert!(r.leads_of(m).unwrap().is_empty());
    assert!(r.surveys_of(m).unwrap().is_empty());

    // Relations: the duplicate once, the moved one, nothing between the two.
    let mut rel = r.relations_of(s).unwrap();
    rel.sort();
    let want = |from, kind, to| Relation { from, kind, to };
    assert_eq!(
        rel,
        vec![
            want(s, RelationKind::Relative, x),
            want(x, RelationKind::ReferredBy, s)
        ]
    );
    assert!(r.relations_of(m).unwrap().is_empty());
    assert_eq!(r.relations_of(x).unwrap().len(), 2);

    // Consents combined: the later grant decides.
    assert!(r
        .consents(s)
        .unwrap()
        .allows(ConsentChannel::Sms, d("2024-06-01")));
    assert!(!r
        .consents(s)
        .unwrap()
        .allows(ConsentChannel::Sms, d("2023-06-01")));
    assert!(r.consents(m).unwrap().0.is_empty());

    // Rollups equal ones rebuilt from the records.
    for c in [s, x] {
        assert_eq!(r.rollup(c).unwrap(), rebuilt_rollup(&r, c), "rollup of {c}");
    }
    assert_eq!(r.rollup(s).unwrap().vehicles_total, 3);
    assert_eq!(r.rollup(s).unwrap().service_dates.len(), 2);
    assert_eq!(r.rollup(m).unwrap(), Rollup::default());

    assert_eq!(r.merges_of(s).unwrap(), vec![rec]);
    drop(r);

    // The merged customer's source record finds the survivor: no new customer.
    let again = db
        .write(|tx| {
            tx.insert_customer(&Customer {
                source: Some(SourceRef::new("dms", "K-77")),
                ..person("王小明", &[PHONES[1]])
            })
        })
        .unwrap();
    assert_eq!(again, s);
    assert_eq!(db.begin_read().unwrap().customer_count().unwrap(), 2);
}

#[test]
fn redirect_chains_resolve_to_the_last_survivor() {
    let db = Database::in_memory().unwrap();
    let (a, b, c) = db
        .write(|tx| {
            let a = tx.insert_customer(&Customer {
                source: Some(SourceRef::new("crm", "A")),
                ..person("王小明", &[PHONES[0]])
            })?;
            let b = tx.insert_customer(&person("王小明", &[PHONES[0]]))?;
            let c = tx.insert_customer(&person("王小明", &[PHONES[0]]))?;
            tx.insert_touchpoint(&tp(a, "2024-01-01", TouchpointKind::Enquiry))?;
            Ok((a, b, c))
        })
        .unwrap();
    // A source record seen on A, replaced later by another one: only the redirect finds A.
    db.write(|tx| {
        tx.update_customer(
            a,
            &Customer {
                source: Some(SourceRef::new("crm", "A2")),
                ..person("王小明", &[PHONES[0]])
            },
        )
    })
    .unwrap();
    db.write(|tx| tx.merge_customers(b, a, at("2025-01-01"), "op"))
        .unwrap();
    db.write(|tx| {
        assert_eq!(tx.resolve_customer(a)?, b);
        tx.merge_customers(c, b, at("2025-02-01"), "op")
    })
    .unwrap();
    let r = db.begin_read().unwrap();
    for id in [a, b, c] {
        assert_eq!(r.resolve_customer(id).unwrap(), c);
    }
    assert_eq!(r.customer_360(a, 5).unwrap().timeline.items.len(), 1);
    let merges = r.merges_of(c).unwrap();
    assert_eq!(
        merges
            .iter()
            .map(|m| (m.survivor, m.merged))
            .collect::<Vec<_>>(),
        vec![(b, a), (c, b)]
    );
    assert!(matches!(
        r.resolve_customer(CustomerId(99)),
        Err(Error::NotFound { .. })
    ));
    drop(r);
    for rid in ["A", "A2"] {
        let found = db
            .write(|tx| {
                tx.insert_customer(&Customer {
                    source: Some(SourceRef::new("crm", rid)),
                    ..person("王小明", &[])
                })
            })
            .unwrap();
        assert_eq!(found, c, "source record {rid}");
    }
    // The survivor deleted: the redirects lead nowhere.
    db.write(|tx| tx.delete_customer(c)).unwrap();
    let r = db.begin_read().unwrap();
    assert!(matches!(r.resolve_customer(a), Err(Error::NotFound { .. })));
    assert!(r.find_customers(&CustomerKey::Id(a)).unwrap().is_empty());
}

#[test]
fn refused_merges_write_nothing() {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let sc = scene(&mut tx);
    let other_id = tx
        .insert_customer(&with_person(person("王小明", &[PHONES[0]]), |p| {
            p.national_id = Some(nid(4))
        }))
        .unwrap();
    let org = tx
        .insert_customer(&Customer::organisation("上海安吉物流"))
        .unwrap();
    let member = tx.insert_customer(&person("王小明", &[PHONES[3]])).unwrap();
    tx.join_brand_club(member, d("2024-01-01"), "owner_app")
        .unwrap();
    let gone = tx.insert_customer(&person("王小明", &[])).unwrap();
    tx.commit().unwrap();
    db.write(|tx| tx.merge_customers(sc.x, gone, at("2025-01-01"), "op"))
        .unwrap();
    let before = snapshot(&db);

    let when = at("2025-03-01");
    let cases: Vec<(CustomerId, CustomerId, &str, &str)> = vec![
        (sc.s, sc.s, "op", "invalid_operation.merge_with_itself"),
        (sc.s, gone, "op", "invalid_operation.already_merged"),
        (gone, sc.s, "op", "invalid_operation.already_merged"),
        (
            sc.s,
            org,
            "op",
            "invalid_operation.merge_person_with_organisation",
        ),
        (
            org,
            sc.s,
            "op",
            "invalid_operation.merge_person_with_organisation",
        ),
        (
            sc.m,
            other_id,
            "op",
            "invalid_operation.merge_different_keys",
        ),
        (
            sc.s,
            member,
            "op",
            "invalid_operation.merged_has_loyalty_data",
        ),
        (sc.s, sc.m, "  ", "validation.required"),
        (sc.s, CustomerId(999), "op", "not_found"),
    ];
    for (survivor, merged, by, code) in cases {
        let mut tx = db.begin_write().unwrap();
        let err = tx.merge_customers(survivor, merged, when, by).unwrap_err();
        assert_eq!(err.code(), code, "{survivor} <- {merged}: {err}");
        if let Error::InvalidOperation { refusal, .. } = &err {
            assert_eq!(err.refusal(), Some(*refusal));
            assert!(err.to_string().ends_with(refusal.hint()), "{err}");
        }
        // The transaction stays usable and committing it changes nothing.
        tx.commit().unwrap();
        assert_eq!(snapshot(&db), before, "{survivor} <- {merged}");
    }
    // The club member can be the survivor.
    db.write(|tx| tx.merge_customers(member, sc.s, when, "op"))
        .unwrap();
    assert_eq!(
        db.begin_read().unwrap().resolve_customer(sc.m).unwrap(),
        sc.m
    );
}

#[test]
fn merges_and_redirects_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    let (s, m, rec) = {
        let db = Database::open(&path).unwrap();
        let mut tx = db.begin_write().unwrap();
        let sc = scene(&mut tx);
        tx.commit().unwrap();
        let rec = db
            .write(|tx| tx.merge_customers(sc.s, sc.m, at("2025-01-01"), "op"))
            .unwrap();
        (sc.s, sc.m, rec)
    };
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.resolve_customer(m).unwrap(), s);
    assert_eq!(r.merges_of(s).unwrap(), vec![rec]);
    assert_eq!(r.rollup(s).unwrap(), rebuilt_rollup(&r, s));
    assert_eq!(r.customer_by_national_id(&nid(3)).unwrap(), Some(s));
}

// ---------------------------------------------------------------------------------------------
// Property: merging two customers of a random small network loses nothing.

#[derive(Clone, Debug)]
struct Net {
    customers: Vec<(u8, bool, Vec<u8>, Option<u8>)>,
    /// (owner, transfer to and days later).
    vehicles: Vec<(u8, Option<(u8, u8)>)>,
    touchpoints: Vec<(u8, u8, u8, Option<u16>)>,
    owned: Vec<(u8, u8)>,
    relations: Vec<(u8, u8, u8)>,
    /// Merges made one after the other (selectors among the customers alive at the time), so
    /// chains of redirects happen too.
    merges: Vec<(u8, u8)>,
}

fn net() -> impl Strategy<Value = Net> {
    (
        proptest::collection::vec(
            (
                0u8..3,
                proptest::bool::weighted(0.2),
                proptest::collection::vec(0u8..4, 0..3),
                proptest::option::weighted(0.4, 0u8..4),
            ),
            2..6,
        ),
        proptest::collection::vec(
            (
                any::<u8>(),
                proptest::option::weighted(0.4, (any::<u8>(), 1u8..200)),
            ),
            0..4,
        ),
        proptest::collection::vec(
            (
                any::<u8>(),
                any::<u8>(),
                any::<u8>(),
                proptest::option::of(0u16..3000),
            ),
            0..10,
        ),
        proptest::collection::vec((any::<u8>(), 0u8..3), 0..6),
        proptest::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 0..8),
        proptest::collection::vec((any::<u8>(), any::<u8>()), 1..4),
    )
        .prop_map(
            |(customers, vehicles, touchpoints, owned, relations, merges)| Net {
                customers,
                vehicles,
                touchpoints,
                owned,
                relations,
                merges,
            },
        )
}

const NAMES: [&str; 3] = ["王小明", "王晓明", "李华"];

fn build(tx: &mut WriteTxn, n: &Net) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for (name, org, phones, national) in &n.customers {
        let phones: Vec<&str> = phones.iter().map(|p| PHONES[*p as usize]).collect();
        let c = if *org {
            Customer {
                phones: phones.iter().map(|p| p.to_string()).collect(),
                ..Customer::organisation(format!("{}汽车服务有限公司", NAMES[*name as usize]))
            }
        } else {
            with_person(person(NAMES[*name as usize], &phones), |p| {
                p.national_id = national.map(|i| nid(u32::from(i)));
            })
        };
        // Two customers drawn with one national ID: the second is a duplicate key, skip it.
        match tx.insert_customer(&c) {
            Ok(id) => ids.push(id),
            Err(Error::DuplicateKey { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let pick = |sel: u8| ids[sel as usize % ids.len()];
    for (k, (owner, transfer)) in n.vehicles.iter().enumerate() {
        let v = tx
            .insert_vehicle(
                &Vehicle::new(vin(k as u32), "VW", "Passat"),
                Some((pick(*owner), d("2015-01-01"))),
            )
            .unwrap();
        if let Some((to, days)) = transfer {
            // Refused when the vehicle already belongs to `to`; then nothing happens.
            let _ = tx.transfer_vehicle(v, pick(*to), d("2015-01-01").add_days(i32::from(*days)));
        }
    }
    for (who, kind, day, amount) in &n.touchpoints {
        let kind = TouchpointKind::ALL[*kind as usize % TouchpointKind::COUNT];
        tx.insert_touchpoint(&Touchpoint {
            amount: amount.map(|a| Money(i64::from(a))),
            mileage_km: amount.map(u32::from),
            ..Touchpoint::new(
                d("2023-01-01").add_days(i32::from(*day)).at(9, 0, 0),
                pick(*who),
                Channel::Web,
                kind,
            )
        })
        .unwrap();
    }
    for (who, what) in &n.owned {
        let c = pick(*who);
        match what {
            0 => tx.insert_lead(&lead(c)).map(|_| ()),
            1 => tx.insert_complaint(&complaint(c)).map(|_| ()),
            _ => tx.insert_survey(&survey(c)).map(|_| ()),
        }
        .unwrap();
    }
    for (from, kind, to) in &n.relations {
        let (from, to) = (pick(*from), pick(*to));
        if from != to {
            let kind = RelationKind::ALL[*kind as usize % RelationKind::ALL.len()];
            tx.relate(from, kind, to).unwrap();
        }
    }
    ids
}

/// Totals and the set of relations, with ids mapped through `map`.
#[derive(Debug, PartialEq)]
struct Totals {
    vehicles: u64,
    touchpoints: u64,
    leads: usize,
    complaints: usize,
    surveys: usize,
    relations: BTreeSet<(CustomerId, RelationKind, CustomerId)>,
}

fn totals(r: &ReadTxn, map: impl Fn(CustomerId) -> CustomerId) -> Totals {
    let mut t = Totals {
        vehicles: r.vehicle_count().unwrap(),
        touchpoints: r.touchpoint_count().unwrap(),
        leads: 0,
        complaints: 0,
        surveys: 0,
        relations: BTreeSet::new(),
    };
    for c in r.customer_ids().unwrap() {
        t.leads += r.leads_of(c).unwrap().len();
        t.complaints += r.complaints_of(c).unwrap().len();
        t.surveys += r.surveys_of(c).unwrap().len();
        for rel in r.relations_of(c).unwrap() {
            let (from, to) = (map(rel.from), map(rel.to));
            if from != to {
                t.relations.insert((from, rel.kind, to));
            }
        }
    }
    t
}

/// Every index agrees with the records, and every rollup with its records.
fn check_consistency(r: &ReadTxn) -> Result<(), TestCaseError> {
    let customers = r.all_customers().unwrap();
    let live: BTreeSet<CustomerId> = customers.iter().map(|(id, _)| *id).collect();
    for p in PHONES {
        let want: Vec<CustomerId> = customers
            .iter()
            .filter(|(_, c)| c.phones.iter().any(|x| x == p))
            .map(|(id, _)| *id)
            .collect();
        prop_assert_eq!(r.customers_by_phone(p).unwrap(), want, "phone {}", p);
    }
    for i in 0..4 {
        let want = customers
            .iter()
            .find(|(_, c)| c.national_id() == Some(nid(i).as_str()))
            .map(|(id, _)| *id);
        prop_assert_eq!(r.customer_by_national_id(&nid(i)).unwrap(), want);
    }
    let mut touchpoints = 0;
    for (id, _) in &customers {
        let c = *id;
        for v in r.vehicles_of(c).unwrap() {
            prop_assert!(v.ownership.0.iter().any(|o| o.customer == c));
        }
        let timeline = r.timeline(c, None, usize::MAX).unwrap().items;
        for (tid, t) in &timeline {
            prop_assert_eq!(t.customer, c);
            prop_assert_eq!(&r.touchpoint(*tid).unwrap(), t);
        }
        touchpoints += timeline.len() as u64;
        for (_, l) in r.leads_of(c).unwrap() {
            prop_assert_eq!(l.customer, c);
        }
        for (_, l) in r.complaints_of(c).unwrap() {
            prop_assert_eq!(l.customer, c);
        }
        for (_, l) in r.surveys_of(c).unwrap() {
            prop_assert_eq!(l.customer, c);
        }
        for rel in r.relations_of(c).unwrap() {
            prop_assert!(
                live.contains(&rel.from) && live.contains(&rel.to),
                "{:?}",
                rel
            );
            prop_assert!(rel.from != rel.to);
            // Both directions' indexes hold it: the other end sees it too.
            let other = if rel.from == c { rel.to } else { rel.from };
            prop_assert!(r.relations_of(other).unwrap().contains(&rel), "{:?}", rel);
        }
        prop_assert_eq!(
            r.rollup(c).unwrap(),
            rebuilt_rollup(r, c),
            "rollup of {}",
            c
        );
    }
    prop_assert_eq!(touchpoints, r.touchpoint_count().unwrap());
    for (v, _, h) in r.all_vehicles().unwrap() {
        for o in &h.0 {
            prop_assert!(
                live.contains(&o.customer),
                "{} owned by dead {}",
                v,
                o.customer
            );
            prop_assert!(r.vehicles_of(o.customer).unwrap().iter().any(|x| x.id == v));
        }
    }
    Ok(())
}

/// Successful merges over all cases, so the property is known to exercise merges at all.
static MERGED: AtomicUsize = AtomicUsize::new(0);

fn merge_case(n: &Net) -> Result<(), TestCaseError> {
    let db = Database::in_memory().unwrap();
    let mut tx = db.begin_write().unwrap();
    let ids = build(&mut tx, n);
    tx.commit().unwrap();
    check_consistency(&db.begin_read().unwrap())?;
    let mut merged: Vec<CustomerId> = Vec::new();
    for (i, (a, b)) in n.merges.iter().enumerate() {
        let r = db.begin_read().unwrap();
        let live = r.customer_ids().unwrap();
        let s = live[*a as usize % live.len()];
        let m = live[*b as usize % live.len()];
        let (cs, cm) = (r.customer(s).unwrap(), r.customer(m).unwrap());
        let before = totals(&r, |c| if c == m { s } else { c });
        drop(r);
        let snap = snapshot(&db);

        let mut tx = db.begin_write().unwrap();
        let result = tx.merge_customers(s, m, at("2025-01-01").add_seconds(i as i64), "prop");
        tx.commit().unwrap();
        let refusal = if s == m {
            Some(Refusal::MergeWithItself)
        } else if cs.is_organisation() != cm.is_organisation() {
            Some(Refusal::MergePersonWithOrganisation)
        } else if matches!((cs.national_id(), cm.national_id()), (Some(a), Some(b)) if a != b) {
            Some(Refusal::MergeDifferentKeys)
        } else {
            None
        };
        let r = db.begin_read().unwrap();
        match result {
            Err(e) => {
                prop_assert!(refusal.is_some(), "unexpected refusal: {}", e);
                prop_assert_eq!(e.refusal(), refusal, "{}", e);
                prop_assert_eq!(snapshot(&db), snap);
            }
            Ok(rec) => {
                prop_assert!(refusal.is_none());
                MERGED.fetch_add(1, Ordering::Relaxed);
                merged.push(m);
                let after = totals(&r, |c| c);
                prop_assert_eq!(&after, &before);
                prop_assert_eq!(&rec.merged_customer, &cm);
                prop_assert_eq!(r.customer_count().unwrap(), live.len() as u64 - 1);
                let now = r.customer(s).unwrap();
                for p in cs.phones.iter().chain(&cm.phones) {
                    prop_assert!(now.phones.contains(p));
                }
                prop_assert_eq!(now.national_id(), cs.national_id().or(cm.national_id()));
                check_consistency(&r)?;
            }
        }
        // Every id ever merged leads to a live customer, the same one its merge record's
        // survivor leads to.
        for &gone in &merged {
            let to = r.resolve_customer(gone).unwrap();
            prop_assert!(r.customer(to).is_ok());
            let records = r.merges_of(to).unwrap();
            prop_assert!(
                records.iter().any(|x| x.merged == gone),
                "{} not in merges of {}",
                gone,
                to
            );
        }
        let total_merges: usize = r
            .customer_ids()
            .unwrap()
            .into_iter()
            .map(|c| r.merges_of(c).unwrap().len())
            .sum();
        prop_assert_eq!(total_merges, merged.len());
        prop_assert_eq!(
            r.customer_count().unwrap(),
            (ids.len() - merged.len()) as u64
        );
    }
    Ok(())
}

#[test]
fn a_merge_on_a_random_network_loses_nothing() {
    let config = ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    runner.run(&net(), |n| merge_case(&n)).unwrap();
    assert!(
        MERGED.load(Ordering::Relaxed) > 0,
        "no case merged anything"
    );
}
