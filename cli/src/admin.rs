//! `autocrm audit …`, `autocrm role …` and `autocrm erase`, written once for both ways the tool reaches the
//! file: unscoped (full access, the file's administrator) and under `--as` (through core's
//! scoped API, which checks `read_audit` / `manage_roles`). Each way is an [`Admin`].

use autocrm::access::{Role, Roles};
use autocrm::api::ScopedStore;
use autocrm::audit::{AuditEntry, AuditHead, AuditVerification};
use autocrm::erasure::Erasure;
use autocrm::{CustomerId, CustomerKey, Database, Result};

use crate::{parse_anchor, parse_role, print, AuditCommand, CliResult, Failure, RoleCommand};

/// What the audit and role commands need of the file.
pub(crate) trait Admin {
    /// The audit chain verified, against `anchor` if given.
    fn verify(&self, anchor: Option<&AuditHead>) -> Result<AuditVerification>;
    /// The chain head.
    fn head(&self) -> Result<AuditHead>;
    /// Entries after `after`, of `customer` if given.
    fn log(
        &self,
        customer: Option<CustomerId>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>>;
    /// Customers a key finds.
    fn find(&self, key: &CustomerKey) -> Result<Vec<CustomerId>>;
    /// The HQ roles.
    fn roles(&self) -> Result<Roles>;
    /// Stores or removes a role.
    fn set_role(&self, name: &str, role: Option<&Role>) -> Result<()>;
    /// Erases a customer on request; `by` is the operator where the way has none of its own.
    fn erase(&self, id: CustomerId, by: &str, reason: &str) -> Result<Erasure>;
    /// The operator an erasure, a resolution or a merge is recorded under, given `--by`.
    fn operator<'a>(&'a self, by: Option<&'a str>) -> CliResult<&'a str>;
    /// Appends the audit entries of reads queued so far, before their results are shown.
    fn flush(&self) -> Result<()>;
}

impl Admin for Database {
    fn verify(&self, anchor: Option<&AuditHead>) -> Result<AuditVerification> {
        let r = self.begin_read()?;
        match anchor {
            Some(a) => r.verify_audit_against(a),
            None => r.verify_audit(),
        }
    }
    fn head(&self) -> Result<AuditHead> {
        self.begin_read()?.audit_head()
    }
    fn log(
        &self,
        c: Option<CustomerId>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        self.begin_read()?.audit_log(c, after, limit)
    }
    fn find(&self, key: &CustomerKey) -> Result<Vec<CustomerId>> {
        self.begin_read()?.find_customers(key)
    }
    fn roles(&self) -> Result<Roles> {
        self.begin_read()?.roles()
    }
    fn set_role(&self, name: &str, role: Option<&Role>) -> Result<()> {
        self.write(|tx| tx.set_role(name, role))
    }
    fn erase(&self, id: CustomerId, by: &str, reason: &str) -> Result<Erasure> {
        self.write(|tx| tx.erase_customer(id, by, reason))
    }
    fn operator<'a>(&'a self, by: Option<&'a str>) -> CliResult<&'a str> {
        by.ok_or_else(|| Failure("this command needs --by <operator>, who decides".into()))
    }
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

impl Admin for ScopedStore {
    fn verify(&self, anchor: Option<&AuditHead>) -> Result<AuditVerification> {
        match anchor {
            Some(a) => self.verify_audit_against(a),
            None => self.verify_audit(),
        }
    }
    fn head(&self) -> Result<AuditHead> {
        self.audit_head()
    }
    fn log(
        &self,
        c: Option<CustomerId>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        self.audit_log(c, after, limit)
    }
    fn find(&self, key: &CustomerKey) -> Result<Vec<CustomerId>> {
        ScopedStore::find(self, key)
    }
    fn roles(&self) -> Result<Roles> {
        ScopedStore::roles(self)
    }
    fn set_role(&self, name: &str, role: Option<&Role>) -> Result<()> {
        ScopedStore::set_role(self, name, role)
    }
    fn erase(&self, id: CustomerId, _by: &str, reason: &str) -> Result<Erasure> {
        ScopedStore::erase(self, id, reason)
    }
    fn operator<'a>(&'a self, by: Option<&'a str>) -> CliResult<&'a str> {
        let actor = self.access().actor.as_str();
        match by {
            Some(b) if b.trim() != actor => Err(Failure(format!(
                "under --as the operator is the actor ({actor:?}); drop --by or pass --actor {b:?}"
            ))),
            _ => Ok(actor),
        }
    }
    fn flush(&self) -> Result<()> {
        self.flush_audit()
    }
}

/// `autocrm erase CUSTOMER --by OPERATOR --reason TEXT`: erases and prints the receipt.
pub(crate) fn erase(a: &impl Admin, key: &str, by: Option<&str>, reason: &str) -> CliResult {
    let by = a.operator(by)?;
    // An id names the customer as recorded (a merged id erases the customer it became).
    let id = match parse_key(key)? {
        CustomerKey::Id(id) => id,
        k => one(a.find(&k)?, key)?,
    };
    let erasure = a.erase(id, by, reason)?;
    print::erasure(&erasure, &a.head()?);
    Ok(())
}

/// Rewrites the file after an erasure (its handle closed) so the erased values leave the disk.
pub(crate) fn vacuum_after_erasure(path: &std::path::Path) -> CliResult {
    Database::vacuum(path)?;
    say!("file rewritten: the erased values are no longer on the disk");
    Ok(())
}

/// `autocrm audit …`.
pub(crate) fn audit(a: &impl Admin, action: AuditCommand) -> CliResult {
    match action {
        AuditCommand::Verify { anchor } => {
            let anchor = anchor.as_deref().map(parse_anchor).transpose()?;
            print::audit_verification(&a.verify(anchor.as_ref())?)
        }
        AuditCommand::Head => {
            print::audit_head(&a.head()?);
            Ok(())
        }
        AuditCommand::Log {
            customer,
            after,
            limit,
        } => {
            // An id names the customer as recorded, even one since merged or erased.
            let customer = match customer {
                Some(k) => match parse_key(&k)? {
                    CustomerKey::Id(id) => Some(id),
                    key => Some(one(a.find(&key)?, &k)?),
                },
                None => None,
            };
            print::audit_entries(&a.log(customer, after, limit)?);
            Ok(())
        }
    }
}

/// `autocrm role …`.
pub(crate) fn role(a: &impl Admin, action: RoleCommand) -> CliResult {
    match action {
        RoleCommand::List => {
            print::roles(&a.roles()?);
            Ok(())
        }
        RoleCommand::Set {
            name,
            permissions,
            consented,
        } => {
            a.set_role(
                &name,
                Some(&parse_role(&permissions, consented.as_deref())?),
            )?;
            say!("role {name} stored");
            Ok(())
        }
        RoleCommand::Remove { name } => {
            a.set_role(&name, None)?;
            say!("role {name} removed");
            Ok(())
        }
    }
}

/// A customer key as `autocrm customer` takes it.
pub(crate) fn parse_key(key: &str) -> CliResult<CustomerKey> {
    CustomerKey::parse(key).ok_or_else(|| {
        Failure(format!(
            "{key:?} is not a customer id, mobile phone, VIN, plate, national ID or credit code"
        ))
    })
}

/// The one customer of `ids`, found by `key`.
fn one(ids: Vec<CustomerId>, key: &str) -> CliResult<CustomerId> {
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Failure(format!("no customer matches {key:?}"))),
        _ => Err(Failure(format!(
            "{key:?} matches several customers; use an id"
        ))),
    }
}
