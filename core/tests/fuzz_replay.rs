//! Stable replay of the `decode_record` fuzz target's seed corpus (fuzz/seeds/decode_record):
//! every seed decodes, and deterministic mutations of every seed (truncations, bit flips,
//! inflated length prefixes, wrong model bytes, newer versions) return errors without panicking.
//! The corpus holds each record as format 1 wrote it (`<name>`: no checksum) and as today's
//! release writes it (`<name>.v2`: with its checksum). Run with `UPDATE_SEEDS=1` to write the
//! current version's seeds from the records below (older seeds are never rewritten).
//!
//! It also replays the `import` target's seeds (fuzz/seeds/import: small CSV and JSON Lines
//! files of every kind, UTF-8, with BOM and GBK) with the target's checks, whole and mutated.

use std::path::PathBuf;

use autocrm::codec::{self, check_any, DecodeError};
use autocrm::*;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/decode_record")
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

/// The suffix of the seeds written by today's release.
const CURRENT: &str = ".v2";

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir();
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in sample_records() {
            std::fs::write(dir.join(format!("{name}{CURRENT}")), bytes).unwrap();
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

fn seed<'a>(seeds: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &seeds
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("seed {name} present"))
        .1
}

/// `bytes` (a checksummed envelope) with its checksum recomputed.
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - codec::CHECKSUM_LEN;
    let sum = bitwise_crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// CRC-32/ISO-HDLC, bit by bit: an independent check of the codec's checksum.
fn bitwise_crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn every_seed_decodes_and_matches_todays_encoding() {
    let seeds = corpus();
    assert_eq!(seeds.len(), 2 * sample_records().len());
    for (name, bytes) in &seeds {
        check_any(bytes).unwrap_or_else(|e| panic!("seed {name} no longer decodes: {e}"));
    }
    for (name, bytes) in sample_records() {
        // Format 1 wrote the same payload without a checksum: version 2 changed the envelope
        // only. A changed encoding of the same records would show up here.
        let v1 = seed(&seeds, name);
        let payload = &bytes[codec::HEADER_LEN..bytes.len() - codec::CHECKSUM_LEN];
        assert_eq!(v1[0], bytes[0]);
        assert_eq!(&v1[1..3], &[1, 0]);
        assert_eq!(
            &v1[codec::HEADER_LEN..],
            payload,
            "payload of {name} changed"
        );
        assert_eq!(&bytes[1..3], &[2, 0]);
        assert_eq!(
            seed(&seeds, &format!("{name}{CURRENT}")),
            bytes.as_slice(),
            "encoding of {name} changed: add a new format version"
        );
        assert_eq!(resealed(bytes.clone()), bytes, "the checksum is CRC-32");
    }
}

#[test]
fn mutated_seeds_fail_cleanly() {
    let mut mutations = 0usize;
    for (name, seed) in corpus() {
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
        let checksummed = name.ends_with(CURRENT);
        for case in cases {
            mutations += 1;
            // Either outcome is fine for a v1 seed; a panic or abort fails the test. A damaged
            // checksummed record is always refused, and never as a newer version.
            let out = check_any(&case);
            if checksummed && case != seed {
                assert!(
                    !matches!(out, Ok(_) | Err(DecodeError::NewerVersion { .. })),
                    "{name}: {out:?}"
                );
            }
        }
        let mut newer = seed.clone();
        newer[1] = 0xff;
        if checksummed {
            assert!(matches!(
                check_any(&newer),
                Err(DecodeError::Checksum { .. })
            ));
            assert!(matches!(
                check_any(&resealed(newer)),
                Err(DecodeError::NewerVersion { found: 0xff, .. })
            ));
        } else {
            // A v1 record damaged into a version ≥ 2 fails its (missing) checksum.
            assert!(check_any(&newer).is_err());
        }
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

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

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
