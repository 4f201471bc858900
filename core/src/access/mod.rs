//! Access scopes (DOMAIN §9): every read or write made *as* someone — an HQ role, a dealer or
//! an owner — sees only what that scope may see, masked by field, and is audited
//! ([`crate::audit`]). `docs/access.md` states exactly who sees what.
//!
//! This module holds the rules: [`Scope`] (who), [`Role`]/[`Roles`] (HQ permissions, stored in
//! the file), [`Access`] (a scope resolved against one file: may it do this, does it see that
//! customer, which fields does it see unmasked) and the masks. The scoped operations that apply
//! them to every call are [`crate::api::ScopedStore`]'s. The unscoped API (`Database`,
//! `WriteTxn`, `ReadTxn`) stays full access for embedded single-user use.

mod mask;
mod role;
mod scope;

pub use mask::{mask_birth_date, mask_id, mask_phone, Sight};
pub use role::{Permission, Role, Roles, MAX_ROLE_NAME_CHARS};
pub use scope::Scope;

pub(crate) use role::roles_in;

use crate::analytics::{CustomerFacts, Facts};
use crate::complaint::Complaint;
use crate::date::Date;
use crate::error::{Error, Result};
use crate::ids::{CustomerId, DealerId};
use crate::lead::Lead;
use crate::names::Named;
use crate::rollup::Rollup;
use crate::store::ReadTxn;
use crate::survey::Survey;
use crate::vehicle::Vehicle;

/// Who a resolved scope is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An HQ user in a role.
    Hq(Role),
    /// A dealer.
    Dealer(DealerId),
    /// An owner (his live customer id: a merged id resolves to the survivor).
    Owner(CustomerId),
}

/// What a dealer scope may do: read and serve its own customers, see their phones and
/// addresses (it calls and visits them), write its own touchpoints, consents and redemptions,
/// and run analytics and exports over its own customers. Not: national IDs, full birth
/// dates, lineage, erasure, the audit trail, roles.
pub const DEALER_PERMISSIONS: &[Permission] = &[
    Permission::ReadCustomers,
    Permission::SeePhone,
    Permission::SeeAddress,
    Permission::WriteTouchpoints,
    Permission::WriteConsents,
    Permission::Redeem,
    Permission::Analytics,
    Permission::Export,
];

/// What an owner may do, on himself only: read his file, see his own phones, address and
/// birth date (his national ID stays masked: a phone can be lost), change his consents,
/// redeem and refer a friend. His contact details he changes through the integration path
/// ([`crate::api::ScopedStore::update_my_contact`]).
pub const OWNER_PERMISSIONS: &[Permission] = &[
    Permission::ReadCustomers,
    Permission::SeePhone,
    Permission::SeeAddress,
    Permission::SeeBirthDate,
    Permission::WriteConsents,
    Permission::Redeem,
    Permission::Refer,
];

/// A scope resolved against one file: its principal, the operator acting, and the day its
/// consent-limited visibility is judged on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The scope as given.
    pub scope: Scope,
    /// Who acts (an operator's login, a dealer user, the owner app's installation).
    pub actor: String,
    /// Who the scope is.
    pub principal: Principal,
    /// The day a marketing role's consent filter is judged on (the handle's clock, today).
    pub today: Date,
}

/// Longest actor name, in characters.
pub const MAX_ACTOR_CHARS: usize = 200;

impl Access {
    /// Resolves `scope` for `actor` against the file read by `r`: the role must be stored (or
    /// a default), the dealer code and the owner's customer must exist — `unknown_scope`
    /// otherwise. The actor is a non-empty name of at most [`MAX_ACTOR_CHARS`] characters.
    pub fn resolve(r: &ReadTxn, scope: &Scope, actor: &str, today: Date) -> Result<Access> {
        crate::validate::optional_text("actor", actor, MAX_ACTOR_CHARS)?.ok_or_else(|| {
            crate::error::ValidationError::new("actor", crate::error::Rule::Required, actor)
        })?;
        let principal = match scope {
            Scope::Hq(role) => Principal::Hq(roles_in(&r.tables)?.get(role)?.clone()),
            Scope::Dealer(code) => {
                Principal::Dealer(r.dealer_by_code(code)?.ok_or_else(|| Error::UnknownScope {
                    scope: scope.to_string(),
                    why: "no dealer has this code; `autocrm quality` lists the dealers".into(),
                })?)
            }
            Scope::Owner(id) => match r.resolve_customer(*id) {
                Ok(live) => Principal::Owner(live),
                Err(Error::NotFound { .. }) => {
                    return Err(Error::UnknownScope {
                        scope: scope.to_string(),
                        why: "no customer has this id".into(),
                    })
                }
                Err(e) => return Err(e),
            },
        };
        Ok(Access {
            scope: scope.clone(),
            actor: actor.trim().to_string(),
            principal,
            today,
        })
    }

    /// Whether the scope holds `p`.
    pub fn allows(&self, p: Permission) -> bool {
        match &self.principal {
            Principal::Hq(role) => role.allows(p),
            Principal::Dealer(_) => DEALER_PERMISSIONS.contains(&p),
            Principal::Owner(_) => OWNER_PERMISSIONS.contains(&p),
        }
    }

    /// `Ok` if the scope holds `p`, else `access_denied` naming scope, permission and `what`.
    pub fn require(&self, p: Permission, what: impl FnOnce() -> String) -> Result<()> {
        if self.allows(p) {
            Ok(())
        } else {
            Err(self.denied(p, what()))
        }
    }

    /// `access_denied` for something no permission grants this kind of scope.
    pub(crate) fn denied(&self, permission: Permission, what: impl Into<String>) -> Error {
        Error::AccessDenied {
            scope: self.scope.to_string(),
            permission: permission.name(),
            what: what.into(),
        }
    }

    /// The dealer, for a dealer scope.
    pub fn dealer(&self) -> Option<DealerId> {
        match self.principal {
            Principal::Dealer(d) => Some(d),
            _ => None,
        }
    }

    /// The owner, for an owner scope.
    pub fn owner(&self) -> Option<CustomerId> {
        match self.principal {
            Principal::Owner(c) => Some(c),
            _ => None,
        }
    }

    /// Which fields this scope sees unmasked.
    pub fn sight(&self) -> Sight {
        Sight {
            national_id: self.allows(Permission::SeeNationalId),
            phone: self.allows(Permission::SeePhone),
            address: self.allows(Permission::SeeAddress),
            birth_date: self.allows(Permission::SeeBirthDate),
        }
    }

    /// Whether the scope sees live customer `id`, read from `r`.
    pub fn sees(&self, r: &ReadTxn, id: CustomerId) -> Result<bool> {
        match &self.principal {
            Principal::Owner(me) => Ok(*me == id),
            Principal::Hq(role) => Ok(match role.consented_channel {
                Some(ch) => r.consents(id)?.allows(ch, self.today),
                None => true,
            }),
            Principal::Dealer(d) => {
                let rollup = r.rollup(id)?;
                if rollup.events.iter().any(|e| e.dealer == Some(*d)) {
                    return Ok(true);
                }
                let vehicles = if rollup.vehicles_total > 0 {
                    r.vehicles_of(id)?
                } else {
                    vec![]
                };
                let leads = if rollup.leads > 0 {
                    r.leads_of(id)?
                } else {
                    vec![]
                };
                let complaints = if rollup.complaints > 0 {
                    r.complaints_of(id)?
                } else {
                    vec![]
                };
                let surveys = if rollup.surveys > 0 {
                    r.surveys_of(id)?
                } else {
                    vec![]
                };
                Ok(served_by(
                    *d,
                    &rollup,
                    vehicles.iter().map(|v| &v.vehicle),
                    leads.iter().map(|(_, l)| l),
                    complaints.iter().map(|(_, c)| c),
                    surveys.iter().map(|(_, s)| s),
                ))
            }
        }
    }

    /// Whether the scope sees every customer: an HQ role without a consent channel (its
    /// exports then hold every row, as the unscoped ones do).
    pub fn sees_everyone(&self) -> bool {
        matches!(&self.principal, Principal::Hq(role) if role.consented_channel.is_none())
    }

    /// Whether the scope sees a record naming `dealer` (a touchpoint, lead, complaint or
    /// survey) of a customer it sees: a dealer only its own records, every other scope all.
    pub fn sees_own(&self, dealer: Option<DealerId>) -> bool {
        self.dealer().is_none_or(|d| dealer == Some(d))
    }

    /// Whether the scope sees the customer of the unfiltered 360° view `v` (read from `r`):
    /// [`Access::sees`] without reading again what the view holds.
    pub fn sees_view(&self, r: &ReadTxn, v: &crate::view::Customer360) -> Result<bool> {
        match &self.principal {
            Principal::Dealer(d) => Ok(served_by(
                *d,
                &v.rollup,
                v.current_vehicles
                    .iter()
                    .chain(&v.past_vehicles)
                    .map(|o| &o.vehicle),
                v.leads.iter().map(|(_, l)| l),
                v.complaints.iter().map(|(_, c)| c),
                v.surveys.iter().map(|(_, s)| s),
            )),
            _ => self.sees(r, v.id),
        }
    }

    /// Whether the scope sees the customer of `f`.
    pub fn sees_facts(&self, f: &CustomerFacts) -> bool {
        match &self.principal {
            Principal::Owner(me) => *me == f.id,
            Principal::Hq(role) => role
                .consented_channel
                .is_none_or(|ch| f.consents.allows(ch, self.today)),
            Principal::Dealer(d) => served_by(
                *d,
                &f.rollup,
                f.vehicles.iter().map(|v| &v.vehicle),
                f.leads.iter().map(|(_, l)| l),
                f.complaints.iter().map(|(_, c)| c),
                f.surveys.iter().map(|(_, s)| s),
            ),
        }
    }

    /// `facts` as this scope sees them: only customers it sees, profiles masked, and for a
    /// dealer only its own touchpoints (in the rollup's events and sums), leads, complaints and
    /// surveys, and each vehicle's ownership periods of that customer only.
    pub fn facts(&self, mut facts: Facts) -> Facts {
        let sight = self.sight();
        facts.customers.retain(|c| self.sees_facts(c));
        for c in &mut facts.customers {
            c.customer = sight.customer(&c.customer).0;
            if let Some(d) = self.dealer() {
                c.rollup = dealer_rollup(&c.rollup, d);
                c.leads.retain(|(_, l)| l.dealer == Some(d));
                c.complaints.retain(|(_, x)| x.dealer == Some(d));
                c.surveys.retain(|(_, s)| s.dealer == Some(d));
            }
        }
        facts
    }
}

/// Whether dealer `d` serves a customer — the definition docs/access.md gives: the customer
/// has a touchpoint at `d`, a lead assigned to `d`, a complaint or survey about `d`, or owns or
/// owned a vehicle `d` sold.
pub fn served_by<'a>(
    d: DealerId,
    rollup: &Rollup,
    vehicles: impl IntoIterator<Item = &'a Vehicle>,
    leads: impl IntoIterator<Item = &'a Lead>,
    complaints: impl IntoIterator<Item = &'a Complaint>,
    surveys: impl IntoIterator<Item = &'a Survey>,
) -> bool {
    rollup.events.iter().any(|e| e.dealer == Some(d))
        || vehicles.into_iter().any(|v| v.selling_dealer == Some(d))
        || leads.into_iter().any(|l| l.dealer == Some(d))
        || complaints.into_iter().any(|c| c.dealer == Some(d))
        || surveys.into_iter().any(|s| s.dealer == Some(d))
}

/// The touchpoint part of a rollup as dealer `d` sees it: its own events only. Counts, spend
/// per kind, service dates, purchases and first/last contact follow from the events; parts and
/// labour spend and mileage are not in the events, so they are left out (zero, none).
pub(crate) fn dealer_rollup(r: &Rollup, d: DealerId) -> Rollup {
    use crate::touchpoint::TouchpointKind;
    let mut out = Rollup {
        vehicles_current: r.vehicles_current,
        vehicles_total: r.vehicles_total,
        first_vehicle: r.first_vehicle,
        ..Rollup::default()
    };
    for e in r.events.iter().filter(|e| e.dealer == Some(d)) {
        let k = e.kind.index();
        out.counts[k] += 1;
        out.spend[k] += e.amount;
        if e.kind == TouchpointKind::ServiceVisit {
            out.service_dates.push(e.day);
        }
        if e.kind == TouchpointKind::Purchase {
            out.first_purchase.get_or_insert(e.day);
            out.last_purchase = Some(e.day);
        }
        let at = e
            .day
            .at(u32::from(e.minute / 60), u32::from(e.minute % 60), 0);
        out.first_touch.get_or_insert(at);
        out.last_touch = Some(at);
        out.events.push(*e);
    }
    out
}
