//! Permissions, and the HQ roles that group them. Roles are configuration stored in the file
//! (`access` table, key `"roles"`), not code: a data administrator changes them with
//! [`crate::WriteTxn::set_role`] / `autocrm role set`. Until one is stored, [`Roles::defaults`]
//! apply.

use std::collections::BTreeMap;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::codec::{self, Model, ModelKind};
use crate::consent::ConsentChannel;
use crate::error::{Error, Result, Rule, ValidationError};
use crate::names::Named;
use crate::store::{decode_stored, ReadTxn, ReadView, Tx, WriteTxn};

/// One thing a scope may do or see. Names are stable (`read_customers`, `see_phone`…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Look customers up and open their file (360° view, timeline).
    ReadCustomers,
    /// See national IDs and credit codes unmasked.
    SeeNationalId,
    /// See phone numbers unmasked.
    SeePhone,
    /// See the street address (without it: province and city only).
    SeeAddress,
    /// See the full birth date (without it: the year only).
    SeeBirthDate,
    /// See where each value came from (source systems and their record ids).
    SeeLineage,
    /// Write touchpoints (contacts, visits) — a dealer only its own.
    WriteTouchpoints,
    /// Record consents given or withdrawn.
    WriteConsents,
    /// Redeem points for a customer.
    Redeem,
    /// Segments, facts and KPIs.
    Analytics,
    /// Export tables.
    Export,
    /// Erase a customer's personal data on request.
    Erase,
    /// Read and verify the audit trail.
    ReadAudit,
    /// Change the roles.
    ManageRoles,
    /// Data stewardship: import source files, review and resolve conflicts, review duplicate
    /// candidates and merge customers, read every dealer's feedback queue. The values it
    /// reconciles are shown unmasked: a conflict cannot be judged on masked values.
    ManageData,
    /// Refer a friend: create a referral lead (the friend as a prospect) for a dealer.
    Refer,
}

/// An HQ role: its permissions, and for marketing roles the consent channel that limits which
/// customers it sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// What the role may do and see.
    pub permissions: Vec<Permission>,
    /// If set, the role sees only customers who consent to marketing on this channel today
    /// (a withdrawal hides the customer at once: lookups, views, analytics and exports).
    pub consented_channel: Option<ConsentChannel>,
}

impl Role {
    /// Whether the role holds `p`.
    pub fn allows(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    fn of(permissions: &[Permission], consented_channel: Option<ConsentChannel>) -> Role {
        Role {
            permissions: permissions.to_vec(),
            consented_channel,
        }
    }
}

/// Every HQ role by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles(pub BTreeMap<String, Role>);

/// Longest role name, in characters.
pub const MAX_ROLE_NAME_CHARS: usize = 40;

impl Roles {
    /// The roles a file has until a data administrator stores others (docs/access.md):
    /// `call_centre`, `crm_analyst`, `after_sales`, `marketing` (SMS-consented customers only,
    /// no national IDs), `data_admin` (everything).
    pub fn defaults() -> Roles {
        use Permission::*;
        let roles = [
            (
                "call_centre",
                Role::of(
                    &[
                        ReadCustomers,
                        SeePhone,
                        WriteTouchpoints,
                        WriteConsents,
                        Redeem,
                    ],
                    None,
                ),
            ),
            (
                "crm_analyst",
                Role::of(&[ReadCustomers, Analytics, Export], None),
            ),
            (
                "after_sales",
                Role::of(
                    &[ReadCustomers, SeePhone, SeeAddress, WriteTouchpoints],
                    None,
                ),
            ),
            (
                "marketing",
                Role::of(
                    &[ReadCustomers, SeePhone, Analytics, Export],
                    Some(ConsentChannel::Sms),
                ),
            ),
            ("data_admin", Role::of(Permission::all(), None)),
        ];
        Roles(roles.into_iter().map(|(n, r)| (n.to_string(), r)).collect())
    }

    /// The role named `name`, or `unknown_scope` listing the roles there are.
    pub fn get(&self, name: &str) -> Result<&Role> {
        self.0.get(name).ok_or_else(|| Error::UnknownScope {
            scope: format!("hq:{}", crate::text::escape_control(name)),
            why: format!(
                "no such role; the roles are {}",
                self.0.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

impl Model for Roles {
    const KIND: ModelKind = ModelKind::Roles;
    const VERSION: u16 = codec::CHECKSUMMED_SINCE;
    const NAME: &'static str = "roles";
}

const ROLES_KEY: &str = "roles";

/// The stored roles, or the defaults, for either kind of transaction.
pub(crate) fn roles_in(t: &impl ReadView) -> Result<Roles> {
    let t = t.access()?;
    let v = t.get(ROLES_KEY)?;
    Ok(v.map(|v| decode_stored(v.value()))
        .transpose()?
        .unwrap_or_else(Roles::defaults))
}

impl Tx<'_> {
    /// Stores role `name` (replacing one of that name); `None` removes it. The name is
    /// lowercase letters, digits and `_`, at most [`MAX_ROLE_NAME_CHARS`].
    pub fn set_role(&mut self, name: &str, role: Option<&Role>) -> Result<()> {
        let ok = !name.is_empty()
            && name.chars().count() <= MAX_ROLE_NAME_CHARS
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(ValidationError::new("role", Rule::NotAllowed, name).into());
        }
        let mut roles = roles_in(&self.t)?;
        match role {
            Some(r) => {
                let mut r = r.clone();
                r.permissions.sort();
                r.permissions.dedup();
                roles.0.insert(name.to_string(), r);
            }
            None => {
                roles.get(name)?;
                roles.0.remove(name);
            }
        }
        self.writing(|tx| {
            tx.t.access()?
                .insert(ROLES_KEY, codec::encode(&roles).as_slice())?;
            Ok(())
        })
    }
}

impl ReadTxn {
    /// The HQ roles: those stored, or [`Roles::defaults`] if none were.
    pub fn roles(&self) -> Result<Roles> {
        roles_in(&self.tables)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Stores role `name` (replacing one of that name); `None` removes it (`unknown_scope` if
    /// there is none). The name is lowercase letters, digits and `_`.
    pub fn set_role(&mut self, name: &str, role: Option<&Role>) -> Result<()> {
        self.tx().set_role(name, role)
    }

    /// The HQ roles: those stored, or [`Roles::defaults`] if none were.
    pub fn roles(&self) -> Result<Roles> {
        roles_in(&self.tx().t)
    }
}
