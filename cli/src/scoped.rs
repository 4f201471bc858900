//! The commands that run under `--as SCOPE`: each goes through core's scoped API
//! (`autocrm::api::ScopedStore`), which filters, masks and audits; this file only prints.

use autocrm::api::ScopedStore;
use autocrm::CustomerKey;

use crate::{
    parse_anchor, parse_role, print, AuditCommand, CliResult, Command, Failure, RoleCommand,
};

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
        Command::Audit { action } => match action {
            AuditCommand::Verify { anchor } => {
                let v = match anchor {
                    Some(a) => s.verify_audit_against(&parse_anchor(&a)?)?,
                    None => s.verify_audit()?,
                };
                print::audit_verification(&v)
            }
            AuditCommand::Head => {
                print::audit_head(&s.audit_head()?);
                Ok(())
            }
            AuditCommand::Log {
                customer,
                after,
                limit,
            } => {
                let customer = match customer {
                    Some(k) => match parse_key(&k)? {
                        CustomerKey::Id(id) => Some(id),
                        key => Some(one(s.find(&key)?, &k)?),
                    },
                    None => None,
                };
                print::audit_entries(&s.audit_log(customer, after, limit)?);
                Ok(())
            }
        },
        Command::Role { action } => match action {
            RoleCommand::List => {
                print::roles(&s.roles()?);
                Ok(())
            }
            RoleCommand::Set {
                name,
                permissions,
                consented,
            } => {
                s.set_role(
                    &name,
                    Some(&parse_role(&permissions, consented.as_deref())?),
                )?;
                say!("role {name} stored");
                Ok(())
            }
            RoleCommand::Remove { name } => {
                s.set_role(&name, None)?;
                say!("role {name} removed");
                Ok(())
            }
        },
        other => Err(Failure(format!(
            "`{}` does not run under --as yet; under a scope the tool offers `customer`, \
             `audit` and `role`. Run it without --as (full access, as the file's administrator)",
            other.name()
        ))),
    }
}

fn parse_key(key: &str) -> CliResult<CustomerKey> {
    CustomerKey::parse(key).ok_or_else(|| {
        Failure(format!(
            "{key:?} is not a customer id, mobile phone, VIN, plate, national ID or credit code"
        ))
    })
}

fn one(ids: Vec<autocrm::CustomerId>, key: &str) -> CliResult<autocrm::CustomerId> {
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Failure(format!("no customer matches {key:?}"))),
        _ => Err(Failure(format!(
            "{key:?} matches several customers; use an id"
        ))),
    }
}
