//! `autocrm changes …`: the change feed (core's `autocrm::feed`) — list changes as CSV,
//! register consumers and move their positions, set the retention, prune.

use autocrm::api::ScopedStore;
use autocrm::feed::{Change, ChangeKey, ChangePage, Retention};
use autocrm::{Database, Named};
use clap::Subcommand;

use crate::print::csv_field;
use crate::CliResult;

#[derive(Subcommand, Debug)]
pub(crate) enum ChangesCommand {
    /// List changes as CSV (id,commit,at,actor,scope,source,entity,op,key,customer), oldest
    /// first. Under --as, only the changes the scope may see (needs `export`; audited).
    List {
        /// Only changes after this change id (default: from the first kept).
        #[arg(long)]
        after: Option<u64>,
        /// Start after this consumer's acknowledged position instead.
        #[arg(long, conflicts_with = "after")]
        consumer: Option<String>,
        /// Print at most this many changes.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// List the registered consumers and their positions (name,position).
    Consumers,
    /// Register a consumer at the latest change (turns the feed on). Prints its position.
    Register {
        /// Consumer name, e.g. `dealer-SH001` or `lake`.
        name: String,
    },
    /// Record that a consumer has read every change up to POSITION.
    Ack {
        /// Consumer name.
        name: String,
        /// The last change id it has read.
        position: u64,
    },
    /// Remove a consumer.
    Unregister {
        /// Consumer name.
        name: String,
    },
    /// Print the retention, or set it: until_consumed, forever, or days (e.g. 30d).
    Retention {
        /// The new retention.
        value: Option<Retention>,
    },
    /// Remove the changes the retention no longer keeps. Prints how many.
    Prune,
}

impl ChangesCommand {
    /// Whether the command only reads the file.
    pub(crate) fn reads_only(&self) -> bool {
        matches!(
            self,
            ChangesCommand::List { .. }
                | ChangesCommand::Consumers
                | ChangesCommand::Retention { value: None }
        )
    }
}

/// A change's key in one CSV field: `42`, `name`, `customer/id`, `from-kind-to`,
/// `segment@day`, `survivor<merged`.
fn key(k: &ChangeKey) -> String {
    match k {
        ChangeKey::Id(id) => id.to_string(),
        ChangeKey::Name(name) => name.clone(),
        ChangeKey::Touchpoint { customer, id } => format!("{customer}/{id}"),
        ChangeKey::Relation { from, kind, to } => format!("{from}-{}-{to}", kind.name()),
        ChangeKey::SegmentDay { segment, day } => format!("{segment}@{day}"),
        ChangeKey::Merge { survivor, merged } => format!("{survivor}<{merged}"),
        other => format!("{other:?}"),
    }
}

fn line(c: &Change) {
    let opt = |s: &Option<String>| csv_field(s.as_deref().unwrap_or("")).into_owned();
    say!(
        "{},{},{},{},{},{},{},{},{},{}",
        c.id,
        c.commit,
        c.at,
        opt(&c.actor),
        opt(&c.scope),
        opt(&c.source),
        c.entity,
        c.op,
        csv_field(&key(&c.key)),
        c.customer().map(|c| c.0.to_string()).unwrap_or_default()
    );
}

/// Prints a page of changes as CSV, and on stderr how to go on when there are more.
fn print_page(page: &ChangePage) {
    say!("id,commit,at,actor,scope,source,entity,op,key,customer");
    for c in &page.changes {
        line(c);
    }
    if page.next < page.last {
        eprintln!(
            "{} more changes after {}: run again with --after {}",
            page.last - page.next,
            page.next,
            page.next
        );
    }
}

/// `autocrm export DIR [--incremental] [--follow NAME]` unscoped: a snapshot or an increment,
/// with consumer NAME registered before a snapshot and acknowledged after the export.
pub(crate) fn export(
    db: &Database,
    dir: &std::path::Path,
    as_of: Option<autocrm::Date>,
    incremental: bool,
    follow: Option<&str>,
) -> CliResult {
    use autocrm::export::lake::{self, LakeOptions};
    if let (Some(name), false) = (follow, incremental) {
        db.write(|w| w.register_consumer(name))?;
    }
    let opts = LakeOptions {
        as_of,
        incremental,
        ..LakeOptions::default()
    };
    let report = lake::write(&db.begin_read()?, dir, &opts)?;
    crate::print::lake_report(&report);
    if let (Some(name), Some(position)) = (follow, report.sequence) {
        db.write(|w| w.acknowledge(name, position))?;
    }
    Ok(())
}

/// `changes list` under `--as`: the changes the scope may see (needs `export`; audited).
pub(crate) fn list_scoped(s: &ScopedStore, after: u64, limit: usize) -> CliResult {
    print_page(&s.changes_after(after, limit)?);
    Ok(())
}

pub(crate) fn run(db: &Database, action: ChangesCommand) -> CliResult {
    match action {
        ChangesCommand::List {
            after,
            consumer,
            limit,
        } => {
            let r = db.begin_read()?;
            let after = match consumer {
                Some(name) => r.consumer_position(&name)?,
                None => after.unwrap_or(0),
            };
            print_page(&r.changes_after(after, limit)?);
        }
        ChangesCommand::Consumers => {
            say!("name,position");
            for c in db.begin_read()?.consumers()? {
                say!("{},{}", csv_field(&c.name), c.position);
            }
        }
        ChangesCommand::Register { name } => {
            let at = db.write(|w| w.register_consumer(&name))?;
            say!("{at}");
        }
        ChangesCommand::Ack { name, position } => {
            let at = db.write(|w| w.acknowledge(&name, position))?;
            say!("{at}");
        }
        ChangesCommand::Unregister { name } => {
            if !db.write(|w| w.unregister_consumer(&name))? {
                return Err(crate::Failure(format!(
                    "no consumer named `{name}`: `autocrm changes consumers` lists them"
                )));
            }
        }
        ChangesCommand::Retention { value: None } => {
            say!("{}", db.begin_read()?.change_retention()?);
        }
        ChangesCommand::Retention { value: Some(r) } => {
            db.write(|w| w.set_change_retention(r))?;
        }
        ChangesCommand::Prune => {
            let n = db.write(|w| w.prune_changes())?;
            say!("{n}");
        }
    }
    Ok(())
}
