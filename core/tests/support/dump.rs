//! A canonical dump of a store, shared by the import order and crash tests.

use std::collections::BTreeMap;

use autocrm::*;

/// The store as text that does not depend on ids or on which source record wrote a record
/// last: customers sorted by content, each with its sorted lineage and conflicts; vehicles with
/// their owners' content keys; the feedback queue without entry ids.
pub fn canonical_dump(db: &Database) -> Vec<String> {
    let r = db.begin_read().unwrap();
    let mut key_of = BTreeMap::new();
    let mut out = Vec::new();
    for (id, c) in r.all_customers().unwrap() {
        let mut c = c.clone();
        c.source = None;
        key_of.insert(id, format!("{:?}/{:?}", c.name(), c.phones));
        let mut lines = vec![format!("customer {c:?}")];
        let mut lineage: Vec<String> = r
            .lineage_of_customer(id)
            .unwrap()
            .into_iter()
            .map(|l| format!("  lineage {l:?}"))
            .collect();
        lineage.sort();
        lines.extend(lineage);
        let mut conflicts: Vec<String> = r
            .conflicts_of(id)
            .unwrap()
            .into_iter()
            .map(|mut k| {
                k.id = ConflictId(0);
                k.record = 0;
                format!(
                    "  conflict {:?} {:?} {:?} -> {:?} from {:?} {:?}",
                    k.field, k.reason, k.current, k.offered, k.received, k.status
                )
            })
            .collect();
        conflicts.sort();
        lines.extend(conflicts);
        out.push(lines.join("\n"));
    }
    for (_, mut v, history) in r.all_vehicles().unwrap() {
        v.source = None;
        let owners: Vec<String> = history
            .0
            .iter()
            .map(|o| format!("{} {:?}..{:?}", key_of[&o.customer], o.from, o.to))
            .collect();
        out.push(format!("vehicle {v:?} owners {owners:?}"));
    }
    for mut e in r.feedback_all().unwrap() {
        e.id = FeedbackId(0);
        out.push(format!("feedback {e:?}"));
    }
    out.sort();
    out
}
