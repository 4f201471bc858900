//! What the `import` fuzz target does with one input, shared with its stable replay in
//! `core/tests/fuzz_replay.rs` (both include this file with `#[path]`), so the two never
//! drift apart: arbitrary bytes go to the bulk importer as CSV and as JSON Lines of every
//! record kind, into an in-memory database holding one dealer, customer and vehicle for rows
//! to refer to. Every import must return a report or an error, never panic, and a report's
//! counts must add up.

use autocrm::import::{import_reader, Encoding, Format, ImportOptions};
use autocrm::integration::RecordKind;
use autocrm::*;

/// The database every input is imported into.
pub fn database() -> Database {
    let db = Database::in_memory().unwrap();
    db.write(|tx| {
        tx.insert_dealer(&Dealer {
            code: "SH0001".into(),
            name: "上海大众徐汇4S店".into(),
            region: "East".into(),
            province: "上海".into(),
            city: "上海".into(),
            kind: DealerKind::FourS,
        })?;
        let c = tx.insert_customer(&Customer {
            party: Party::Person(Person {
                name: "王小明".into(),
                national_id: Some("11010519491231002X".into()),
                ..Person::default()
            }),
            phones: vec!["13812345678".into()],
            source: Some(SourceRef::new("finance", "F-1")),
            ..Customer::person("")
        })?;
        tx.insert_vehicle(
            &Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Passat"),
            Some((c, "2024-05-01".parse()?)),
        )?;
        Ok(())
    })
    .unwrap();
    db
}

/// Imports `data` as every kind and format, checking each report; returns the rows accepted.
pub fn import_one(data: &[u8]) -> u64 {
    let db = database();
    let at = "2025-06-01 08:00".parse().unwrap();
    // Mostly detected; sometimes forced, whatever the bytes are.
    let encoding = match data.len() % 5 {
        0 => Encoding::Gbk,
        1 => Encoding::Utf8,
        _ => Encoding::Auto,
    };
    let mut accepted = 0;
    for kind in RecordKind::ALL {
        for format in [Format::Csv, Format::JsonLines] {
            let opts = ImportOptions {
                format: Some(format),
                encoding,
                batch_size: 3,
                max_rejections: 4,
                ..ImportOptions::new(kind, at)
            };
            let mut last = 0;
            let result = import_reader(&db, data, "fuzz", Some(data.len() as u64), &opts, |p| {
                assert!(p.rows >= last);
                last = p.rows;
            });
            if let Ok(r) = result {
                assert_eq!(r.rows, r.accepted() + r.rejected);
                assert_eq!(r.rejected, r.rejected_by_code.values().sum::<u64>());
                assert!(r.rejections.len() <= 4);
                assert!(r.bytes <= data.len() as u64);
                accepted += r.accepted();
            }
        }
    }
    accepted
}
