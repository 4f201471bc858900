//! Stable replay of the `decode_record` fuzz target's seed corpus (fuzz/seeds/decode_record):
//! every seed decodes, and deterministic mutations of every seed (truncations, bit flips,
//! inflated length prefixes, wrong model bytes, newer versions) return errors without panicking.
//! Run with `UPDATE_SEEDS=1` to rewrite the corpus from the records below.
//!
//! It also replays the `import` target's seeds (fuzz/seeds/import: small CSV and JSON Lines
//! files of every kind, UTF-8, with BOM and GBK) with the target's checks, whole and mutated.

use std::path::PathBuf;

use autocrm::codec::{self, check_any, DecodeError};
use autocrm::*;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/decode_record")
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn sample_records() -> Vec<(&'static str, Vec<u8>)> {
    let dealer = Dealer {
        code: "SH0001".into(),
        name: "上海大众徐汇4S店".into(),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    };
    let person = Customer {
        phones: vec!["13812345678".into()],
        province: Some("上海".into()),
        source: Some(SourceRef::new("dms", "SH0001-1")),
        ..Customer::person("王小明")
    };
    let org = Customer::organisation("上海申通物流有限公司");
    let vehicle = Vehicle {
        plate: Some("沪A12345".into()),
        purchase_date: Some(d("2024-05-01")),
        ..Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Passat")
    };
    let history = OwnershipHistory(vec![Ownership {
        customer: CustomerId(1),
        from: d("2024-05-01"),
        to: None,
    }]);
    let tp = Touchpoint {
        amount: Some(Money::yuan(880)),
        mileage_km: Some(15_000),
        service_kind: Some(ServiceKind::Maintenance),
        note: Some("常规保养".into()),
        ..Touchpoint::new(
            d("2025-01-02").at(9, 30, 0),
            CustomerId(1),
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    };
    let lead = Lead {
        customer: CustomerId(1),
        origin: LeadSource::Web,
        model: "Tiguan".into(),
        intent: Intent::A,
        purchase_type: PurchaseType::Additional,
        dealer: Some(DealerId(1)),
        received: d("2025-02-01").at(12, 0, 0),
        status: LeadStatus::Lost("price".into()),
        status_at: None,
        source: None,
    };
    let complaint = Complaint {
        customer: CustomerId(1),
        vehicle: None,
        dealer: None,
        category: "repair quality".into(),
        received: d("2025-03-01").at(8, 0, 0),
        status: ComplaintStatus::Received,
        first_response: None,
        resolved: None,
        analysed: None,
        called_back: None,
        closed: None,
        note: None,
        source: None,
    };
    let survey = Survey {
        customer: CustomerId(1),
        dealer: None,
        kind: SurveyKind::Service,
        date: d("2025-03-02"),
        items: vec![(Factor::Friendliness, 9), (Factor::ProductIssues, 7)],
        source: None,
    };
    let mut rollup = Rollup {
        service_dates: vec![d("2024-01-01"), d("2024-07-01")],
        ..Rollup::default()
    };
    rollup.counts[TouchpointKind::ServiceVisit.index()] = 2;
    vec![
        ("dealer", codec::encode(&dealer)),
        ("person", codec::encode(&person)),
        ("organisation", codec::encode(&org)),
        ("vehicle", codec::encode(&vehicle)),
        ("ownership", codec::encode(&history)),
        ("touchpoint", codec::encode(&tp)),
        ("lead", codec::encode(&lead)),
        ("complaint", codec::encode(&complaint)),
        ("survey", codec::encode(&survey)),
        ("rollup", codec::encode(&rollup)),
    ]
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir();
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in sample_records() {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("seed corpus fuzz/seeds/decode_record exists (UPDATE_SEEDS=1 writes it)")
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_seed_decodes_and_matches_todays_encoding() {
    let seeds = corpus();
    assert_eq!(seeds.len(), sample_records().len());
    for (name, bytes) in &seeds {
        check_any(bytes).unwrap_or_else(|e| panic!("seed {name} no longer decodes: {e}"));
    }
    // The committed seeds were written by format version 1: they must keep decoding in every
    // later release (a changed encoding of the same records would show up here).
    for (name, bytes) in sample_records() {
        let seed = seeds.iter().find(|(n, _)| n == name).expect("seed present");
        assert_eq!(
            seed.1, bytes,
            "encoding of {name} changed: add a new format version"
        );
    }
}

#[test]
fn mutated_seeds_fail_cleanly() {
    let mut mutations = 0usize;
    for (_, seed) in corpus() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for cut in 0..seed.len() {
            cases.push(seed[..cut].to_vec());
        }
        for i in 0..seed.len() {
            for bit in 0..8 {
                let mut m = seed.clone();
                m[i] ^= 1 << bit;
                cases.push(m);
            }
            for v in [0xfb, 0xfc, 0xfd, 0xff] {
                let mut m = seed.clone();
                m[i] = v;
                m.extend_from_slice(&u64::MAX.to_le_bytes());
                cases.push(m);
            }
        }
        for case in cases {
            mutations += 1;
            // Either outcome is fine; a panic or abort fails the test.
            let _ = check_any(&case);
        }
        let mut newer = seed.clone();
        newer[1] = 0xff;
        assert!(matches!(
            check_any(&newer),
            Err(DecodeError::NewerVersion { .. })
        ));
        let mut unknown = seed.clone();
        unknown[0] = 200;
        assert!(matches!(
            check_any(&unknown),
            Err(DecodeError::WrongModel { found: 200, .. })
        ));
    }
    assert!(mutations > 1000);
}

// ---------------------------------------------------------------------------------------------
// The `import` fuzz target's seeds.

#[path = "../../fuzz/checks/import.rs"]
mod import_check;
use import_check::import_one;

fn import_seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/import");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("seed corpus fuzz/seeds/import exists")
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn import_seeds_replay_without_panics() {
    let seeds = import_seeds();
    assert!(seeds.len() >= 8);
    let mut accepted = 0;
    for (_, bytes) in &seeds {
        accepted += import_one(bytes);
    }
    // The seeds are mostly good rows of their kind: some must get through (not those of a
    // UTF-8 seed the check forces to read as GBK: their bytes are not valid GBK, so they are
    // rejected as import.bad_encoding).
    assert!(accepted >= 8, "only {accepted} rows accepted");
}

#[test]
fn mutated_import_seeds_never_panic() {
    let mut cases = 0;
    for (_, seed) in import_seeds() {
        let n = seed.len();
        for cut in (0..n).step_by((n / 12).max(1)) {
            import_one(&seed[..cut]);
            cases += 1;
        }
        for i in (0..n).step_by((n / 6).max(1)) {
            for m in [b'"', b'\n', b',', 0x81] {
                let mut s = seed.clone();
                s[i] = m;
                import_one(&s);
                cases += 1;
            }
        }
    }
    assert!(cases > 200);
}
