//! Saved segments: definitions checked when saved (never at evaluation), version history,
//! segments built on segments, cycles refused, materialised members and their diff.

use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

/// Three owners; owner n visited the workshop on the days in `visits[n]`.
fn network() -> (Database, Vec<CustomerId>) {
    let db = Database::in_memory().unwrap();
    let visits: [&[&str]; 3] = [
        &["2025-01-10", "2025-03-01", "2025-05-01"],
        &["2025-01-10"],
        &[],
    ];
    let ids = db
        .write(|tx| {
            let mut ids = Vec::new();
            for (n, days) in visits.iter().enumerate() {
                let c = tx.insert_customer(&Customer {
                    province: Some(if n == 2 { "江苏" } else { "上海" }.into()),
                    ..Customer::person("王小明")
                })?;
                tx.insert_vehicle(
                    &Vehicle::new(format!("WVWZZZ1KZ{:08}", n), "Volkswagen", "Golf"),
                    Some((c, d("2024-01-01"))),
                )?;
                for day in *days {
                    tx.insert_touchpoint(&Touchpoint::new(
                        d(day).at(9, 0, 0),
                        c,
                        Channel::Showroom,
                        TouchpointKind::ServiceVisit,
                    ))?;
                }
                ids.push(c);
            }
            Ok(ids)
        })
        .unwrap();
    (db, ids)
}

fn ids(s: &CustomerSet) -> Vec<u64> {
    s.iter().map(|c| c.0).collect()
}

#[test]
fn definitions_are_checked_when_saved_and_keep_their_history() {
    let (db, _) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    let err = db
        .write(|tx| tx.save_segment("shanghai", "province = ", at))
        .unwrap_err();
    assert_eq!(err.code(), "rule.syntax");
    let err = db
        .write(|tx| tx.save_segment("shanghai", "provnce = \"上海\"", at))
        .unwrap_err();
    assert_eq!(err.code(), "rule.unknown_field");
    let Error::Rule(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((e.line, e.column), (1, 1));
    let err = db
        .write(|tx| tx.save_segment("shanghai", "segment(\"nowhere\")", at))
        .unwrap_err();
    assert_eq!(err.code(), "rule.unknown_segment");
    let err = db
        .write(|tx| tx.save_segment("bad name!", "province = \"上海\"", at))
        .unwrap_err();
    assert_eq!(err.code(), "validation.not_allowed");
    assert!(db.begin_read().unwrap().segment_names().unwrap().is_empty());

    let v1 = db
        .write(|tx| tx.save_segment("shanghai", "province = \"上海\"", at))
        .unwrap();
    let v2 = db
        .write(|tx| {
            tx.save_segment(
                "shanghai",
                "province in [\"上海\", \"江苏\"]",
                at.add_seconds(60),
            )
        })
        .unwrap();
    assert_eq!((v1, v2), (1, 2));
    let rec = db
        .begin_read()
        .unwrap()
        .segment("shanghai")
        .unwrap()
        .unwrap();
    assert_eq!(rec.versions.len(), 2);
    assert_eq!(rec.versions[0].definition, "province = \"上海\"");
    assert_eq!(rec.current(), "province in [\"上海\", \"江苏\"]");
}

#[test]
fn segments_build_on_segments_without_cycles() {
    let (db, c) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    db.write(|tx| {
        tx.save_segment("loyal", "count(service_visit, 365d) >= 3", at)?;
        tx.save_segment("shanghai", "province = \"上海\"", at)?;
        tx.save_segment(
            "loyal_shanghai",
            "segment(\"loyal\") and segment(\"shanghai\")",
            at,
        )
    })
    .unwrap();
    // Making "loyal" depend on "loyal_shanghai" would close a cycle.
    let err = db
        .write(|tx| tx.save_segment("loyal", "segment(\"loyal_shanghai\")", at))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.segment_cycle");
    let err = db
        .write(|tx| tx.save_segment("selfish", "segment(\"selfish\")", at))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.segment_cycle");

    let r = db.begin_read().unwrap();
    let facts = r.facts().unwrap();
    let on = d("2025-06-01");
    assert_eq!(
        ids(&r.evaluate_segment("loyal_shanghai", on, &facts).unwrap()),
        vec![c[0].0]
    );
    let not_loyal = r.evaluate("not segment(\"loyal\")", on, &facts).unwrap();
    assert_eq!(ids(&not_loyal), vec![c[1].0, c[2].0]);
    // Set operations agree with the rule language.
    let loyal = r.evaluate_segment("loyal", on, &facts).unwrap();
    let shanghai = r.evaluate_segment("shanghai", on, &facts).unwrap();
    assert_eq!(
        loyal.and(&shanghai),
        r.evaluate_segment("loyal_shanghai", on, &facts).unwrap()
    );
    assert_eq!(
        shanghai.minus(&loyal),
        r.evaluate(
            "segment(\"shanghai\") and not segment(\"loyal\")",
            on,
            &facts
        )
        .unwrap()
    );
}

#[test]
fn materialised_members_diff_between_dates() {
    let (db, c) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    db.write(|tx| {
        tx.save_segment("at_risk", "owner_status = \"at_risk\"", at)
            .map(|_| ())
    })
    .unwrap();
    let facts = db.begin_read().unwrap().facts().unwrap();
    // Owner 1's only visit (2025-01-10) is more than 90 days back on 2025-06-01; owner 0
    // drops to one visit in W on 2026-03-02 (the 2025-03-01 visit leaves on 2026-03-01), and
    // that visit lies more than 90 days back.
    let (early, late) = (d("2025-06-01"), d("2026-03-02"));
    db.write(|tx| {
        tx.materialise_segment("at_risk", early, &facts)?;
        tx.materialise_segment("at_risk", late, &facts)
    })
    .unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(
        ids(&r.materialised("at_risk", early).unwrap().unwrap()),
        vec![c[1].0]
    );
    assert_eq!(
        ids(&r.materialised("at_risk", late).unwrap().unwrap()),
        vec![c[0].0]
    );
    let diff = r.segment_diff("at_risk", early, late).unwrap();
    assert_eq!(ids(&diff.entered), vec![c[0].0]);
    assert_eq!(ids(&diff.left), vec![c[1].0]);
    assert!(r
        .materialised("at_risk", d("2025-01-01"))
        .unwrap()
        .is_none());
    let err = r
        .segment_diff("at_risk", d("2025-01-01"), late)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.segment_not_materialised");
}

/// A rule of exactly `bytes` bytes (at least 16) that every customer matches.
fn rule_of(bytes: usize) -> String {
    let head = "province != \"";
    let tail = "\"";
    format!(
        "{head}{}{tail}",
        "x".repeat(bytes - head.len() - tail.len())
    )
}

#[test]
fn whatever_a_save_accepts_reads_back() {
    let (db, _) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    let on = d("2025-06-01");
    // A million-item list: refused when saved, with the documented limit, not stored.
    let cities = vec!["\"上海\""; 1_000_000].join(", ");
    let huge = format!("city in [{cities}]");
    let err = db
        .write(|tx| tx.save_segment("big", &huge, at))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.rule_text", "{err}");
    assert!(err.to_string().contains("65536"), "{err}");
    assert!(db.begin_read().unwrap().segment("big").unwrap().is_none());
    // Rules of every size up to the limit, saved again and again under one name: each save
    // either is refused with a limit error or reads back, and the segment stays evaluable.
    let sizes = [
        16,
        1_000,
        40_000,
        segment::MAX_RULE_BYTES - 1,
        segment::MAX_RULE_BYTES,
    ];
    let mut saved = 0;
    for round in 0.. {
        let text = rule_of(sizes[round % sizes.len()].max(16));
        match db.write(|tx| tx.save_segment("grows", &text, at)) {
            Ok(version) => {
                saved += 1;
                assert_eq!(version, saved);
                let r = db.begin_read().unwrap();
                let record = r.segment("grows").unwrap().unwrap();
                assert_eq!(
                    (record.versions.len(), record.current()),
                    (saved, text.as_str())
                );
                if round % 16 == 0 {
                    let facts = r.facts().unwrap();
                    assert_eq!(r.evaluate_segment("grows", on, &facts).unwrap().len(), 3);
                }
            }
            Err(e) => {
                assert_eq!(e.code(), "limit_exceeded.segment_history", "{e}");
                break;
            }
        }
    }
    assert!(saved > 100, "only {saved} versions fit");
    // The full segment still reads and evaluates, and a rule over the limit is refused.
    let r = db.begin_read().unwrap();
    let facts = r.facts().unwrap();
    assert_eq!(r.evaluate_segment("grows", on, &facts).unwrap().len(), 3);
    let err = db
        .write(|tx| tx.save_segment("other", &rule_of(segment::MAX_RULE_BYTES + 1), at))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.rule_text");
}

#[test]
fn segment_references_are_at_most_the_documented_depth() {
    let (db, _) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    let max = segment::MAX_SEGMENT_DEPTH;
    db.write(|tx| {
        tx.save_segment("s1", "province = \"上海\"", at)?;
        for n in 2..=max {
            tx.save_segment(&format!("s{n}"), &format!("segment(\"s{}\")", n - 1), at)?;
        }
        Ok(())
    })
    .unwrap();
    // One more level is refused with its typed error, and nothing of it is stored.
    let err = db
        .write(|tx| tx.save_segment("deeper", &format!("segment(\"s{max}\")"), at))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.segment_depth", "{err}");
    assert!(db
        .begin_read()
        .unwrap()
        .segment("deeper")
        .unwrap()
        .is_none());
    // Lengthening the chain from its bottom is refused too: s1 would sit under max segments.
    db.write(|tx| tx.save_segment("base", "province = \"江苏\"", at))
        .unwrap();
    let err = db
        .write(|tx| tx.save_segment("s1", "segment(\"base\")", at))
        .unwrap_err();
    assert_eq!(err.code(), "limit_exceeded.segment_depth", "{err}");
    // A cycle is still a cycle, and the deepest allowed segment evaluates.
    let err = db
        .write(|tx| tx.save_segment("s1", &format!("segment(\"s{max}\")"), at))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.segment_cycle", "{err}");
    let r = db.begin_read().unwrap();
    let facts = r.facts().unwrap();
    let top = r
        .evaluate_segment(&format!("s{max}"), d("2025-06-01"), &facts)
        .unwrap();
    assert_eq!(top.len(), 2);
}

#[test]
fn a_save_reads_only_the_segments_its_rule_reaches() {
    let (db, _) = network();
    let at = d("2025-06-01").at(9, 0, 0);
    // Many unrelated segments, then a short chain: saving on top of the chain reads the chain,
    // not every segment (before, every save read every segment's name).
    db.write(|tx| {
        for n in 0..200 {
            tx.save_segment(&format!("other{n}"), "province = \"上海\"", at)?;
        }
        tx.save_segment("c1", "province = \"上海\"", at)?;
        tx.save_segment("c2", "segment(\"c1\")", at)?;
        tx.save_segment("c3", "segment(\"c2\")", at)?;
        Ok(())
    })
    .unwrap();
    let reads = db
        .write(|tx| {
            let before = tx.segment_reads();
            tx.save_segment("c4", "segment(\"c3\") and segment(\"c1\")", at)?;
            Ok(tx.segment_reads() - before)
        })
        .unwrap();
    // c3, c2, c1 once each for the depth and cycle check, the existence checks of c3 and c1,
    // and c4's own record.
    assert!(reads <= 6, "{reads} segment records read");
}
