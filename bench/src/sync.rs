//! Replicas (core's `autocrm::sync`): how fast a dealer replica's first copy arrives, and how
//! fast HQ applies a replica's changes — the sync throughput — against HQ writing the same
//! visits itself, batch for batch (the cost of the integration path and the round trip).

use std::path::Path;
use std::time::{Duration, Instant};

use autocrm::access::Scope;
use autocrm::{
    sync, Channel, CustomerId, Database, DealerId, ServiceKind, Touchpoint, TouchpointKind,
};
use autocrm_synth::{Network, SynthConfig};

use crate::report::thousands;
use crate::BenchResult;

/// Visits the replica records locally, and how many go into one local transaction.
const VISITS: usize = 20_000;
const VISITS_PER_COMMIT: usize = 100;

/// One size's figures.
pub struct SyncResult {
    customers: usize,
    /// The busiest dealer's replica: records copied and the time the copy took.
    copied: u64,
    copy: Duration,
    /// The replica's visits: time HQ spent serving them (applying + answering), and time HQ
    /// spent writing the same visits itself in batches of the same size.
    served: Duration,
    direct: Duration,
    /// Bytes of the push batches.
    up_bytes: u64,
}

fn visit(c: CustomerId, d: Option<DealerId>, k: usize) -> Touchpoint {
    let at: autocrm::DateTime = "2026-01-05 08:00".parse().expect("a time");
    Touchpoint {
        dealer: d,
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(
            at.add_seconds(k as i64 * 60),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

/// The visits' customers in `db`: the replica's customers, round robin.
fn writes(db: &Database, code: &str) -> BenchResult<(Vec<CustomerId>, Option<DealerId>)> {
    let r = db.begin_read()?;
    Ok((r.customer_ids()?, r.dealer_by_code(code)?))
}

pub fn run_size(size: usize, dir: &Path) -> BenchResult<SyncResult> {
    eprintln!(
        "  sync: a dealer replica's first copy, then {VISITS} visits synced up vs written at HQ"
    );
    let network = Network::new(SynthConfig::new(size));
    let hq = Database::open(dir.join("sync-hq.redb"))?;
    network.load(&hq, 1_000, |_| {})?;
    // The busiest dealer: the one with most customers' service visits.
    let code = {
        let r = hq.begin_read()?;
        let dealers = r.dealers()?;
        let mut best = (0usize, dealers[0].1.code.clone());
        for (id, d) in &dealers {
            let n = r
                .customer_ids()?
                .into_iter()
                .take(2_000)
                .filter(|c| {
                    r.rollup(*c)
                        .map(|ro| ro.events.iter().any(|e| e.dealer == Some(*id)))
                        .unwrap_or(false)
                })
                .count();
            if n > best.0 {
                best = (n, d.code.clone());
            }
        }
        best.1
    };
    let scope = Scope::Dealer(code.clone());
    sync::register_replica(&hq, "bench", &scope)?;
    let replica = Database::open(dir.join("sync-replica.redb"))?;
    sync::init_replica(&replica, "bench", &scope)?;

    let started = Instant::now();
    let mut copied = 0u64;
    loop {
        let up = sync::push(&replica)?;
        let (down, _) = sync::serve(&hq, &up)?;
        copied += down.len() as u64;
        let pulled = sync::pull(&replica, &down)?;
        if !pulled.more {
            break;
        }
    }
    let copy = started.elapsed();

    // The replica records visits; HQ serves them. Then HQ writes the same visits itself.
    let (customers, dealer) = writes(&replica, &code)?;
    for chunk in (0..VISITS).collect::<Vec<_>>().chunks(VISITS_PER_COMMIT) {
        replica.write(|w| {
            for &k in chunk {
                w.insert_touchpoint(&visit(customers[k % customers.len()], dealer, k))?;
            }
            Ok(())
        })?;
    }
    let mut served = Duration::ZERO;
    let mut up_bytes = 0u64;
    loop {
        let up = sync::push(&replica)?;
        up_bytes += up.to_bytes().len() as u64;
        let t = Instant::now();
        let (down, _) = sync::serve(&hq, &up)?;
        served += t.elapsed();
        let pulled = sync::pull(&replica, &down)?;
        if sync::status(&replica)?.pending == 0 && !pulled.more {
            break;
        }
    }
    let (hq_customers, hq_dealer) = writes(&hq, &code)?;
    let t = Instant::now();
    // In commits as large as a push batch: the same number of fsyncs as the serves made.
    for chunk in (0..VISITS).collect::<Vec<_>>().chunks(sync::CHANGE_PAGE) {
        hq.write(|w| {
            for &k in chunk {
                let c = hq_customers[k % hq_customers.len()];
                w.insert_touchpoint(&visit(c, hq_dealer, VISITS + k))?;
            }
            Ok(())
        })?;
    }
    let direct = t.elapsed();
    Ok(SyncResult {
        customers: size,
        copied,
        copy,
        served,
        direct,
        up_bytes,
    })
}

/// The sync section of the report.
pub fn report(results: &[SyncResult]) -> String {
    let mut s = String::from("\n### Replica sync\n\n");
    s.push_str(&format!(
        "A dealer replica (the busiest dealer) makes its first copy by push/serve/pull round \
         trips; then it records {} service visits ({} per local commit) and syncs them up. \
         *Applied at HQ* is visits per second of HQ's serve (apply through the integration \
         path, answer, audit); *vs HQ writing them* is that time over HQ inserting the same \
         visits itself in commits as large as a push batch ({} visits).\n\n\
         | customers | copy: records | copy: records/s | applied at HQ: visits/s | vs HQ writing them | push bytes per visit |\n\
         |---:|---:|---:|---:|---:|---:|\n",
        thousands(VISITS as u64),
        VISITS_PER_COMMIT,
        thousands(sync::CHANGE_PAGE as u64),
    ));
    for r in results {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.2}× | {:.0} |\n",
            thousands(r.customers as u64),
            thousands(r.copied),
            thousands((r.copied as f64 / r.copy.as_secs_f64().max(1e-9)) as u64),
            thousands((VISITS as f64 / r.served.as_secs_f64().max(1e-9)) as u64),
            r.served.as_secs_f64() / r.direct.as_secs_f64().max(1e-9),
            r.up_bytes as f64 / VISITS as f64,
        ));
    }
    s
}
