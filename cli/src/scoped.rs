//! The commands that run under `--as SCOPE`: each goes through core's scoped API
//! (`autocrm::api::ScopedStore`), which filters, masks and audits; this file only prints.

use autocrm::api::ScopedStore;
use autocrm::Database;

use crate::admin::{self, parse_key};
use crate::steward;
use crate::{CliResult, Command, Failure};

/// Runs `command` as the scope of `s`.
pub(crate) fn run(s: &ScopedStore, labels: &Database, command: Command) -> CliResult {
    let command_name = command.name();
    match command {
        Command::Customer { key, timeline } => {
            let ids = s.find(&parse_key(&key)?)?;
            if ids.is_empty() {
                return Err(Failure(format!("no customer matches {key:?}")));
            }
            let mut views = Vec::with_capacity(ids.len());
            for id in ids {
                views.push(s.customer_360(id, timeline)?);
            }
            // The reads are in the trail before anything is shown: a closed pipe ends the
            // process at the first write.
            s.flush_audit()?;
            for view in views {
                say_inline!("{view}");
                if !view.masked.is_empty() {
                    say!(
                        "  masked for {}: {}",
                        s.access().scope,
                        view.masked.join(", ")
                    );
                }
            }
            Ok(())
        }
        Command::Kpi {
            name,
            periods,
            months,
            by,
        } => steward::kpi(s, &name, &by, periods, months),
        Command::Export {
            dir,
            as_of,
            incremental: false,
            follow: None,
        } => steward::export(s, &dir, as_of),
        Command::Export { .. } => Err(Failure(
            "--incremental and --follow export unscoped (run them without --as)".into(),
        )),
        Command::Import(args) => steward::import_files(s, labels, &args),
        Command::Quality { as_of } => steward::quality(s, labels, as_of),
        Command::Conflicts { all, customer } => steward::conflicts(s, all, customer.as_deref()),
        Command::Resolve { id, accept, by, .. } => steward::resolve(s, &id, accept, by.as_deref()),
        Command::Feedback { dealer } => steward::feedback(s, labels, dealer.as_deref()),
        Command::Duplicates {
            min_score,
            customer,
            limit,
        } => steward::duplicates(s, labels, min_score, customer.as_deref(), limit),
        Command::Merge {
            survivor,
            merged,
            by,
        } => steward::merge(s, &survivor, &merged, by.as_deref()),
        Command::Audit { action } => admin::audit(s, action),
        Command::Role { action } => admin::role(s, action),
        Command::Erase {
            customer,
            by,
            reason,
            ..
        } => admin::erase(s, &customer, by.as_deref(), &reason),
        Command::Changes {
            action:
                crate::feed::ChangesCommand::List {
                    after,
                    consumer: None,
                    limit,
                },
        } => crate::feed::list_scoped(s, after.unwrap_or(0), limit),
        Command::Changes { .. } => Err(Failure(
            "under --as, `changes list --after N` only: consumers and retention belong to the \
             file's administrator (run them without --as)"
                .into(),
        )),
        Command::Sync { .. } => Err(Failure(
            "`sync` acts for a replica as a whole, whose scope the replica's registration names: \
             run it without --as"
                .into(),
        )),
        Command::Sources | Command::Check { .. } | Command::Generate { .. } => {
            Err(Failure(format!(
            "`{}` reads no customer data (sources, check) or writes demo files (generate): run \
             it without --as",
            command_name
        )))
        }
    }
}
