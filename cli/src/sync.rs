//! `autocrm sync …`: replicas of HQ's file (core's `autocrm::sync`, docs/sync.md). A round trip
//! is `push` on the replica, `serve` at HQ, `pull` on the replica, with the batches carried as
//! files however the sites like; `pull --hq FILE` does the whole trip when both files are here.

use std::path::{Path, PathBuf};

use autocrm::access::Scope;
use autocrm::sync::{self, SyncBatch, SyncReport};
use autocrm::Database;
use clap::Subcommand;

use crate::print::csv_field;
use crate::{CliResult, Failure};

#[derive(Subcommand, Debug)]
pub(crate) enum SyncCommand {
    /// At HQ: register replica NAME with its scope (a dealer or an owner). NAME becomes a
    /// source system of this file.
    Register {
        /// The replica's name, e.g. `dealer-sh001`.
        name: String,
        /// `dealer:<code>` or `owner:<customer id>`.
        #[arg(long = "scope", id = "replica_scope")]
        scope: Scope,
    },
    /// In a new, empty file: make it replica NAME of HQ, with the scope HQ registered.
    Init {
        /// The replica's name, as registered at HQ.
        name: String,
        /// `dealer:<code>` or `owner:<customer id>`.
        #[arg(long = "scope", id = "replica_scope")]
        scope: Scope,
    },
    /// On a replica: write its changes not yet confirmed by HQ, and its position, to FILE.
    Push {
        /// Where to write the batch.
        #[arg(long)]
        out: PathBuf,
    },
    /// At HQ: apply a replica's pushed batch and write the answer to --out.
    Serve {
        /// The replica's batch.
        batch: PathBuf,
        /// Where to write the answer.
        #[arg(long)]
        out: PathBuf,
    },
    /// On a replica: apply HQ's answer (BATCH), or, with --hq, do whole round trips with HQ's
    /// file until HQ has nothing more.
    Pull {
        /// HQ's answer to this replica's latest push.
        #[arg(required_unless_present = "hq", conflicts_with = "hq")]
        batch: Option<PathBuf>,
        /// HQ's file, on this machine.
        #[arg(long)]
        hq: Option<PathBuf>,
        /// With --hq: at most this many round trips.
        #[arg(long, default_value_t = 1000)]
        rounds: usize,
    },
    /// On a replica: its name, scope, position, and its changes HQ has not confirmed
    /// (sensitive ones ask for a sync at once).
    Status,
    /// At HQ: the registered replicas (name,scope,applied,syncs).
    Replicas,
}

impl SyncCommand {
    /// Whether the command only reads the file.
    pub(crate) fn reads_only(&self) -> bool {
        matches!(
            self,
            SyncCommand::Push { .. } | SyncCommand::Status | SyncCommand::Replicas
        )
    }
}

fn read_batch(path: &Path) -> Result<SyncBatch, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure(format!("{}: cannot read the batch: {e}", path.display())))?;
    Ok(SyncBatch::from_bytes(&bytes)?)
}

/// Writes `batch` to `path` whole or not at all (a temporary file renamed over it).
fn write_batch(path: &Path, batch: &SyncBatch) -> CliResult {
    let tmp = path.with_extension("partial");
    let fail =
        |e: std::io::Error| Failure(format!("{}: cannot write the batch: {e}", path.display()));
    std::fs::write(&tmp, batch.to_bytes()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

fn print_report(what: &str, r: &SyncReport) {
    say!(
        "{what}: customers={} vehicles={} touchpoints={} merges={} erasures={} unchanged={} \
         rejected={}{}{}",
        r.customers,
        r.vehicles,
        r.touchpoints,
        r.merges,
        r.erasures,
        r.unchanged,
        r.rejected.len(),
        if r.already_applied {
            " already_applied"
        } else {
            ""
        },
        if r.more { " more" } else { "" },
    );
    for x in &r.rejected {
        let id = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        eprintln!(
            "rejected {} hq={} replica={} [{}] {}",
            x.entity,
            id(x.id.hq),
            id(x.id.replica),
            x.code,
            crate::print::terminal_safe(&x.message)
        );
    }
}

pub(crate) fn run(db: &Database, action: SyncCommand) -> CliResult {
    match action {
        SyncCommand::Register { name, scope } => sync::register_replica(db, &name, &scope)?,
        SyncCommand::Init { name, scope } => sync::init_replica(db, &name, &scope)?,
        SyncCommand::Push { out } => {
            let batch = sync::push(db)?;
            write_batch(&out, &batch)?;
            say!(
                "pushed: customers={} vehicles={} touchpoints={} erasures={} sensitive={}",
                batch.customers.len(),
                batch.vehicles.len(),
                batch.touchpoints.len(),
                batch.erasures.len(),
                batch.sensitive()
            );
        }
        SyncCommand::Serve { batch, out } => {
            let up = read_batch(&batch)?;
            let (down, report) = sync::serve(db, &up)?;
            write_batch(&out, &down)?;
            print_report("served", &report);
        }
        SyncCommand::Pull {
            batch: Some(batch), ..
        } => print_report("pulled", &sync::pull(db, &read_batch(&batch)?)?),
        SyncCommand::Pull {
            hq: Some(hq),
            rounds,
            ..
        } => {
            let hq = Database::open(&hq)
                .map_err(|e| Failure(format!("{}: {e} [{}]", hq.display(), e.code())))?;
            let (served, pulled) = sync::sync(db, &hq, rounds)?;
            print_report("served", &served);
            print_report("pulled", &pulled);
        }
        SyncCommand::Pull { .. } => unreachable!("clap requires a batch or --hq"),
        SyncCommand::Status => {
            let s = sync::status(db)?;
            say!("name,scope,copied,position,pending,pending_sensitive");
            say!(
                "{},{},{},{},{},{}",
                csv_field(&s.state.name),
                s.state.scope,
                s.state.pull.copied,
                s.state.pull.after,
                s.pending,
                s.pending_sensitive
            );
        }
        SyncCommand::Replicas => {
            say!("name,scope,applied,syncs");
            for s in sync::replicas(&db.begin_read()?)? {
                say!(
                    "{},{},{},{}",
                    csv_field(&s.name),
                    s.scope,
                    s.applied,
                    s.syncs
                );
            }
        }
    }
    Ok(())
}
