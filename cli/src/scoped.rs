//! The commands that run under `--as SCOPE`: each goes through core's scoped API
//! (`autocrm::api::ScopedStore`), which filters, masks and audits; this file only prints.

use autocrm::api::ScopedStore;

use crate::admin::{self, parse_key};
use crate::print;
use crate::{CliResult, Command, Failure};

/// Runs `command` as the scope of `s`.
pub(crate) fn run(s: &ScopedStore, command: Command) -> CliResult {
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
        } => {
            let Some((kpi, by, periods)) = crate::kpi_args(&name, &by, periods, months)? else {
                return Ok(());
            };
            let rows = s.kpi(kpi, by, &periods)?;
            s.flush_audit()?;
            print::kpi_rows(&rows);
            Ok(())
        }
        Command::Audit { action } => admin::audit(s, action),
        Command::Role { action } => admin::role(s, action),
        Command::Erase {
            customer,
            by,
            reason,
            ..
        } => admin::erase(s, &customer, by.as_deref(), &reason),
        other => Err(Failure(format!(
            "`{}` does not run under --as yet; under a scope the tool offers `customer`, \
             `kpi`, `audit`, `role` and `erase`. Run it without --as (full access, as the file's administrator)",
            other.name()
        ))),
    }
}
