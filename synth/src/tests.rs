//! The generator's invariants: determinism, valid keys, cadence, the shape of the network.

use std::collections::HashSet;

use autocrm::customer::{Gender, Party, RelationKind};
use autocrm::date::Date;
use autocrm::dealer::DealerKind;
use autocrm::ids::{CustomerId, VehicleId};
use autocrm::lead::LeadStatus;
use autocrm::source::SourceRef;
use autocrm::touchpoint::{ServiceKind, TouchpointKind};
use autocrm::validate;
use autocrm::vehicle::Usage;

use crate::generate::*;
use crate::reference::*;
use crate::rng::*;
use crate::*;

fn network(customers: usize) -> Network {
    Network::new(SynthConfig::new(customers))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn default_configuration() {
    let c = SynthConfig::new(100_000);
    assert_eq!(
        (c.seed, c.customers, c.dealers, c.years),
        (42, 100_000, 50, 5)
    );
    assert_eq!(c.as_of, Date::from_ymd(2026, 6, 30).unwrap());
    assert_eq!(SynthConfig::new(10).dealers, 4);
    assert_eq!(SynthConfig::new(10_000_000).dealers, 2000);
    assert_eq!(BIRTH_START, Date::from_ymd(1955, 1, 1).unwrap());
    assert_eq!(
        BIRTH_START.add_days(BIRTH_DAYS as i32 - 1),
        Date::from_ymd(2003, 12, 31).unwrap()
    );
    assert_eq!(EARLIEST_DATE, Date::from_ymd(1900, 1, 1).unwrap());
    assert_eq!(EARLIEST_PURCHASE, Date::from_ymd(1985, 1, 1).unwrap());
}

#[test]
fn only_sensitive_kinds_are_flagged_sensitive() {
    // DOMAIN §3: complaints, warranty claims and rescue are sensitive; routine maintenance,
    // first services and repairs (whose bills list parts) are not.
    let net = network(300);
    let (mut routine, mut flagged) = (0, 0);
    for bundle in net.customers() {
        for t in &bundle.touchpoints {
            let by_kind = matches!(t.kind, TouchpointKind::Complaint | TouchpointKind::Rescue)
                || t.service_kind == Some(ServiceKind::WarrantyRepair);
            assert_eq!(t.sensitive, by_kind, "{t:?}");
            if matches!(
                t.service_kind,
                Some(ServiceKind::Maintenance | ServiceKind::FirstService)
            ) {
                routine += 1;
            }
            flagged += usize::from(t.sensitive);
        }
    }
    assert!(
        routine > 100 && flagged > 0,
        "{routine} routine, {flagged} flagged"
    );
}

#[test]
fn key_derivations_are_bijections() {
    for (mult, space) in [
        (ID_MULT, ID_SPACE),
        (PHONE_MULT, PHONE_SPACE),
        (CREDIT_MULT, CREDIT_SPACE),
        (PLATE_MULT, plate_space(1)),
        (PLATE_MULT, plate_space(200_000)),
        (PLATE_MULT, plate_space(2_000_000)),
        (PLATE_MULT, PLATE_SPACE),
        (VIN_MULT, VIN_LOW_SPACE),
    ] {
        assert_eq!(gcd(mult, space), 1, "{mult} and {space}");
    }
    assert_eq!(PLATE_SPACE, 34u64.pow(5));
    assert_eq!(MOBILE_PREFIXES.len() as u64 * 100_000_000, PHONE_SPACE);
    // The documented capacity of 7,000,000 customers fits every key space.
    let customers = 7_000_000u64;
    assert!(customers <= ID_SPACE && 2 * customers <= PHONE_SPACE);
    assert!(customers <= CREDIT_SPACE && customers * SLOTS <= PLATE_SPACE);
    assert!(customers * SLOTS <= 33 * 33 * VIN_LOW_SPACE);
}

#[test]
fn anniversaries_come_after_the_given_day() {
    let d = |y, m, dd| Date::from_ymd(y, m, dd).unwrap();
    assert_eq!(
        next_anniversary(d(2020, 5, 28), d(2026, 6, 30)),
        d(2027, 5, 28)
    );
    assert_eq!(
        next_anniversary(d(2020, 7, 6), d(2026, 6, 30)),
        d(2026, 7, 6)
    );
    assert_eq!(
        next_anniversary(d(2026, 6, 30), d(2026, 6, 30)),
        d(2027, 6, 30)
    );
    assert_eq!(
        next_anniversary(d(2026, 5, 1), d(2026, 6, 30)),
        d(2027, 5, 1)
    );
    assert_eq!(
        next_anniversary(d(2019, 6, 30), d(2026, 6, 30)),
        d(2027, 6, 30)
    );
}

#[test]
fn plate_serials_are_distinct_and_use_few_letters() {
    assert_eq!((0..=5).map(plate_class).sum::<u64>(), PLATE_SPACE);
    assert_eq!(plate_space(1), 100_000);
    assert_eq!(plate_space(100_000), 100_000);
    assert_eq!(plate_space(100_001), 1_300_000);
    assert_eq!(plate_space(6_000_000), 7_060_000);
    assert_eq!(plate('沪', 'A', 0), "沪A00000");
    assert_eq!(plate('沪', 'A', 99_999), "沪A99999");
    assert_eq!(plate('沪', 'A', 100_000), "沪AA0000");
    assert_eq!(plate('沪', 'A', 100_001), "沪AA0001");
    assert_eq!(plate('沪', 'A', PLATE_SPACE - 1), "沪AZZZZZ");
    let mut rng = Rng::for_key(5, 5, 5);
    let boundaries = [0, 100_000, 1_300_000, 7_060_000, 20_884_000, 37_472_800];
    let ranks: HashSet<u64> = boundaries
        .iter()
        .flat_map(|&b: &u64| b.saturating_sub(500)..(b + 500).min(PLATE_SPACE))
        .chain((0..20_000).map(|_| rng.below(PLATE_SPACE)))
        .collect();
    let mut plates = HashSet::new();
    for &rank in &ranks {
        let p = plate('沪', 'A', rank);
        let letters = p.chars().skip(2).filter(char::is_ascii_uppercase).count() as u32;
        let class_start: u64 = (0..letters).map(plate_class).sum();
        assert!(
            rank >= class_start && rank < class_start + plate_class(letters),
            "{rank}"
        );
        assert_eq!(validate::plate("plate", &p).unwrap(), p);
        plates.insert(p);
    }
    assert_eq!(plates.len(), ranks.len());
    let distinct: HashSet<String> = (0..200_000).map(|r| plate('沪', 'A', r)).collect();
    assert_eq!(distinct.len(), 200_000);
}

#[test]
fn rng_helpers_stay_in_range() {
    let mut r = Rng::for_key(1, 2, 3);
    for _ in 0..10_000 {
        assert!(r.below(7) < 7);
        let x = r.range(-3, 4);
        assert!((-3..=4).contains(&x));
        assert!(r.between(5, 5) == 5);
    }
    assert_eq!(r.below(0), 0);
    assert_eq!(r.range(9, 2), 9);
    let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
    assert!((2_200..2_800).contains(&hits), "{hits}");
    assert!(!(0..1000).any(|_| r.chance(0.0)));
    assert!((0..1000).all(|_| r.chance(1.0)));
    let mut counts = [0; 3];
    for _ in 0..9_000 {
        counts[r.weighted_index(3, |i| [1, 0, 2][i])] += 1;
    }
    assert_eq!(counts[1], 0);
    assert!((2_700..3_300).contains(&counts[0]), "{counts:?}");
    // The stream itself is part of the contract: these values must never change.
    let mut r = Rng(0);
    assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
}

#[test]
fn same_seed_gives_the_same_network_and_another_seed_another() {
    let (a, b) = (network(400), network(400));
    assert_eq!(a.dealers(), b.dealers());
    let xa: Vec<CustomerBundle> = a.customers().collect();
    let xb: Vec<CustomerBundle> = b.customers().collect();
    assert_eq!(xa, xb);
    assert_eq!(format!("{xa:?}"), format!("{xb:?}"));
    let c = Network::new(SynthConfig {
        seed: 7,
        ..SynthConfig::new(400)
    });
    assert_ne!(c.dealers(), a.dealers());
    let same = xa
        .iter()
        .zip(c.customers())
        .filter(|(x, y)| **x == *y)
        .count();
    assert_eq!(same, 0);
}

#[test]
fn any_customer_can_be_generated_on_its_own() {
    let n = network(2_000);
    let all: Vec<CustomerBundle> = n.customers().collect();
    assert_eq!(all.len(), 2_000);
    for i in (0..2_000).rev().step_by(3) {
        assert_eq!(n.customer(i), all[i]);
        assert_eq!(all[i].index, i);
    }
}

#[test]
fn every_record_passes_validation_unchanged() {
    let n = network(3_000);
    assert_eq!(n.dealers().len(), 4);
    let big = network(2_000 * 300);
    for d in n.dealers().iter().chain(big.dealers()) {
        assert_eq!(&d.normalised().unwrap(), d);
    }
    assert_eq!(big.dealers()[0].kind, DealerKind::FourS);
    let codes: HashSet<&str> = big.dealers().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes.len(), big.dealers().len());
    let regions = ["East", "North", "South", "West", "Central", "Northeast"];
    assert!(big
        .dealers()
        .iter()
        .all(|d| regions.contains(&d.region.as_str())));
    let stations = big
        .dealers()
        .iter()
        .filter(|d| d.kind == DealerKind::ServiceStation);
    assert!(
        (20..80).contains(&stations.count()),
        "about 15% service stations"
    );
    for b in n.customers() {
        let c = &b.customer;
        assert_eq!(&c.normalised().unwrap(), c, "customer {}", b.index);
        if let Party::Person(p) = &c.party {
            if let Some(id) = &p.national_id {
                assert_eq!(validate::national_id_birth_date(id), p.birth_date);
                let female = p.gender == Some(Gender::Female);
                assert_eq!(validate::national_id_is_female(id), Some(female), "{id}");
            }
        }
        for v in &b.vehicles {
            assert_eq!(
                v.vehicle.normalised().unwrap(),
                v.vehicle,
                "customer {}",
                b.index
            );
            assert!(v.vehicle.vin.starts_with('L'));
        }
        for t in &b.touchpoints {
            assert_eq!(&t.normalised().unwrap(), t, "customer {}", b.index);
        }
        for l in &b.leads {
            assert_eq!(&l.normalised().unwrap(), l);
        }
        for k in &b.complaints {
            assert_eq!(&k.normalised().unwrap(), k);
        }
        for s in &b.surveys {
            assert_eq!(&s.normalised().unwrap(), s);
        }
    }
}

#[test]
fn network_invariants_hold() {
    const N: usize = 20_000;
    let n = network(N);
    let as_of = n.config().as_of;
    let (start, end) = (n.start().at_midnight(), as_of.at(23, 59, 59));
    assert_eq!(n.start(), Date::from_ymd(2021, 6, 30).unwrap());
    let mut ids = HashSet::new();
    let mut codes = HashSet::new();
    let mut phones = HashSet::new();
    let mut vins = HashSet::new();
    let mut plates = HashSet::new();
    let mut sources = HashSet::new();
    let mut traded = HashSet::new();
    let mut source = |s: &Option<SourceRef>| {
        let s = s.as_ref().expect("every record has a source");
        assert!(
            sources.insert((s.system.clone(), s.record_id.clone())),
            "{s:?}"
        );
    };
    let (mut orgs, mut prospects, mut owners, mut used, mut touchpoints) = (0, 0, 0, 0, 0);
    let (mut complainers, mut with_relations) = (0, 0);
    let (mut loyal_visits, mut loyal_cars, mut churn_visits, mut churn_cars) = (0, 0, 0, 0);
    for b in n.customers() {
        let c = &b.customer;
        source(&c.source);
        if let Some(id) = c.national_id() {
            assert!(ids.insert(id.to_string()), "{id}");
        }
        if let Some(code) = c.credit_code() {
            assert!(codes.insert(code.to_string()), "{code}");
        }
        for p in &c.phones {
            assert!(phones.insert(p.clone()), "{p}");
        }
        orgs += usize::from(c.is_organisation());
        complainers += usize::from(!b.complaints.is_empty());
        with_relations += usize::from(!b.relations.is_empty());
        if b.segment == Segment::Prospect {
            prospects += 1;
            assert!(b.vehicles.is_empty() && !b.leads.is_empty(), "{}", b.index);
            assert!(b.leads.iter().all(|l| l.status != LeadStatus::Won));
        } else {
            owners += 1;
            assert!(!b.vehicles.is_empty(), "{}", b.index);
        }
        if c.is_organisation() {
            assert!((2..=6).contains(&b.vehicles.len()));
            assert!(b.vehicles.iter().all(|v| v.vehicle.usage == Usage::Fleet));
        }
        for (k, v) in b.vehicles.iter().enumerate() {
            let d = v.vehicle.selling_dealer.expect("selling dealer").0 as usize;
            assert_eq!(n.dealers()[d].kind, DealerKind::FourS);
            match v.previous_owner {
                None => {
                    assert_eq!(v.vehicle.purchase_date, Some(v.acquired));
                    assert!(vins.insert(v.vehicle.vin.clone()), "{}", v.vehicle.vin);
                    if let Some(p) = &v.vehicle.plate {
                        assert!(plates.insert(p.clone()), "{p}");
                    }
                    source(&v.vehicle.source);
                }
                Some((j, kj)) => {
                    used += 1;
                    assert!(j < b.index && traded.insert((j, kj)));
                    let seller = n.customer(j);
                    let old = &seller.vehicles[kj];
                    assert_eq!(old.vehicle, v.vehicle);
                    assert_eq!(seller.customer.city, c.city);
                    assert!(old.previous_owner.is_none());
                    assert!(old.acquired.add_months(36) <= v.acquired);
                    let theirs = seller.touchpoints.iter().filter(|t| t.vehicle.is_some());
                    for t in theirs.filter(|t| t.vehicle == Some(VehicleId(kj as u64))) {
                        assert!(t.date() < v.acquired, "seller {j} still uses the car");
                    }
                    assert!(b
                        .touchpoints
                        .iter()
                        .any(|t| t.vehicle == Some(VehicleId(k as u64))));
                }
            }
        }
        touchpoints += b.touchpoints.len();
        assert!(
            b.touchpoints.windows(2).all(|w| w[0].at <= w[1].at),
            "{}",
            b.index
        );
        for t in &b.touchpoints {
            assert!(start <= t.at && t.at <= end, "{} {:?}", b.index, t);
            assert_eq!(t.customer, CustomerId(0));
            assert!(t.dealer.is_none_or(|d| (d.0 as usize) < n.dealers().len()));
            if let Some(VehicleId(k)) = t.vehicle {
                let v = &b.vehicles[k as usize];
                assert!(v.acquired <= t.date(), "{} {:?}", b.index, t);
            }
            assert_eq!(
                t.service_kind.is_some(),
                t.kind == TouchpointKind::ServiceVisit
            );
            if t.kind == TouchpointKind::ServiceVisit {
                let (p, l) = (t.parts_amount.unwrap(), t.labour_amount.unwrap());
                assert_eq!(t.amount, Some(p + l));
                assert!(t.mileage_km.is_some());
            }
            if t.kind == TouchpointKind::Purchase && t.note.as_deref() != Some("二手车置换购入")
            {
                let yuan = t.amount.unwrap().fen() / 100;
                assert!((80_000..=500_000).contains(&yuan), "{yuan}");
            }
            source(&t.source);
        }
        for (kind, j) in &b.relations {
            assert!(*j < b.index);
            let target = n.peek(*j);
            if *kind == RelationKind::ReferredBy {
                assert_ne!(target.kind, Kind::Prospect);
            } else {
                assert!(c.is_organisation() == kind.is_key_person());
                assert_ne!(target.kind, Kind::Organisation);
            }
        }
        for l in &b.leads {
            assert!(start <= l.received && l.received <= end);
            assert_eq!(l.customer, CustomerId(0));
            source(&l.source);
        }
        for k in &b.complaints {
            assert!(start <= k.received && k.received <= end);
            assert!(k.vehicle.is_none_or(|v| (v.0 as usize) < b.vehicles.len()));
            source(&k.source);
        }
        let kinds = |kind| b.touchpoints.iter().filter(move |t| t.kind == kind).count();
        assert_eq!(kinds(TouchpointKind::Complaint), b.complaints.len());
        assert_eq!(kinds(TouchpointKind::Survey), b.surveys.len());
        for s in &b.surveys {
            assert!(n.start() <= s.date && s.date <= as_of);
            source(&s.source);
        }
        // Cadence: visits in the last year of cars owned all year (single-car customers).
        if b.vehicles.len() == 1 && b.vehicles[0].acquired <= as_of.add_days(-400) {
            let last_year = as_of.add_days(-365).at_midnight();
            let visits = b
                .touchpoints
                .iter()
                .filter(|t| t.kind == TouchpointKind::ServiceVisit && t.at > last_year)
                .count();
            match b.segment {
                Segment::Loyal => {
                    (loyal_visits, loyal_cars) = (loyal_visits + visits, loyal_cars + 1)
                }
                Segment::Churner => {
                    (churn_visits, churn_cars) = (churn_visits + visits, churn_cars + 1)
                }
                _ => {}
            }
        }
    }
    let pct = |x: usize, of: usize| x as f64 * 100.0 / of as f64;
    assert!((5.5..8.5).contains(&pct(orgs, N)), "orgs {}", pct(orgs, N));
    assert!(
        (12.0..17.0).contains(&pct(prospects, N)),
        "prospects {}",
        pct(prospects, N)
    );
    assert!(
        (2.0..4.5).contains(&pct(used, owners)),
        "used {}",
        pct(used, owners)
    );
    assert!(
        (2.0..4.5).contains(&pct(complainers, N)),
        "complaints {}",
        pct(complainers, N)
    );
    assert!(with_relations > N / 20, "{with_relations}");
    let average = touchpoints as f64 / N as f64;
    assert!(
        (8.0..=12.5).contains(&average),
        "{average} touchpoints per customer"
    );
    let loyal = loyal_visits as f64 / loyal_cars as f64;
    let churn = churn_visits as f64 / churn_cars as f64;
    assert!(
        loyal >= 2.0,
        "loyal owners: {loyal} visits in the last year"
    );
    assert!(churn < 1.0, "churners: {churn} visits in the last year");
}
