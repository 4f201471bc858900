//! The registry of source systems: which systems may deliver records, how much each is
//! trusted per field group, and whether it verifies identity documents.
//!
//! The registry is configuration stored in the database (table `sources`), never code. Until
//! anything is stored, [`SourceRegistry::default`] applies:
//!
//! | system        | Identity | Contact | Profile | VehicleSpec | PurchaseDates | ServiceDates | verifies |
//! |---------------|---------:|--------:|--------:|------------:|--------------:|-------------:|:--------:|
//! | `finance`     | 100      | 70      | 60      | 100         | 90            | 50           | yes      |
//! | `invoice`     | 90       | 60      | 50      | 90          | 100           | 50           | yes      |
//! | `app`         | 50       | 90      | 80      | 60          | 40            | 70           | no       |
//! | `call_centre` | 60       | 80      | 90      | 50          | 30            | 60           | no       |
//! | `web`         | 40       | 50      | 70      | 40          | 20            | 40           | no       |
//! | `dms`         | 10       | 10      | 10      | 10          | 10            | 10           | no       |
//!
//! Why: DOMAIN §4 puts the finance system first for name, national ID and model (it checks the
//! ID card for the loan), the invoice system first for purchase dates (the invoice is the legal
//! record of the sale) and the dealer DMS last (typed in by sales staff under time pressure).
//! The owner app comes first for contact data because the owner keeps it current and its phone
//! numbers are SMS-verified; the call centre first for profile data (occupation, interests)
//! because agents ask the customer directly. Finance and invoice systems see identity documents,
//! so their values count as *verified*. A higher number wins.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::error::{Error, Result, Rule, ValidationError};
use crate::store::ReadView;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};

use redb::ReadableTable;

/// Fields whose source priority is set together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FieldGroup {
    /// Name, national ID, credit code, gender, birth date.
    Identity,
    /// Phones, province, city, address.
    Contact,
    /// Occupation, employer, interests, industry.
    Profile,
    /// Brand, model, trim, plate, usage.
    VehicleSpec,
    /// Purchase, invoice and registration dates; the selling dealer.
    PurchaseDates,
    /// First service, warranty end, insurance expiry, inspection due.
    ServiceDates,
}

impl FieldGroup {
    /// Every group, in the order of [`SourceSystem::priorities`].
    pub const ALL: [FieldGroup; 6] = [
        FieldGroup::Identity,
        FieldGroup::Contact,
        FieldGroup::Profile,
        FieldGroup::VehicleSpec,
        FieldGroup::PurchaseDates,
        FieldGroup::ServiceDates,
    ];

    /// The stable name: `identity`, `contact`, `profile`, `vehicle_spec`, `purchase_dates`,
    /// `service_dates`.
    pub fn name(self) -> &'static str {
        match self {
            FieldGroup::Identity => "identity",
            FieldGroup::Contact => "contact",
            FieldGroup::Profile => "profile",
            FieldGroup::VehicleSpec => "vehicle_spec",
            FieldGroup::PurchaseDates => "purchase_dates",
            FieldGroup::ServiceDates => "service_dates",
        }
    }

    /// The group named `name`.
    pub fn from_name(name: &str) -> Option<FieldGroup> {
        FieldGroup::ALL.into_iter().find(|g| g.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One source system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSystem {
    /// The name records carry in [`crate::SourceRef::system`], e.g. `"finance"`.
    pub name: String,
    /// Priority per field group, indexed like [`FieldGroup::ALL`]. Higher wins; equal
    /// priorities let the newer record win.
    pub priorities: [u16; 6],
    /// Whether the system checks identity documents: its national IDs, credit codes and birth
    /// dates count as verified, and a verified value that "changes" is a conflict.
    pub verifies: bool,
}

impl SourceSystem {
    /// A system with the same priority for every group, not verifying.
    pub fn new(name: impl Into<String>, priority: u16) -> SourceSystem {
        SourceSystem {
            name: name.into(),
            priorities: [priority; 6],
            verifies: false,
        }
    }

    /// The system's priority for `group`.
    pub fn priority(&self, group: FieldGroup) -> u16 {
        self.priorities[group.index()]
    }

    /// Sets the system's priority for `group`.
    pub fn set_priority(&mut self, group: FieldGroup, priority: u16) {
        self.priorities[group.index()] = priority;
    }

    /// The same system with `group`'s priority set to `priority`.
    pub fn with_priority(mut self, group: FieldGroup, priority: u16) -> SourceSystem {
        self.priorities[group.index()] = priority;
        self
    }
}

/// The registered source systems.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRegistry {
    /// The systems, in registration order.
    pub systems: Vec<SourceSystem>,
}
crate::codec::model!(SourceRegistry, SourceRegistry, "source registry");

impl Default for SourceRegistry {
    /// DOMAIN §4's order (see the module documentation for the table and the reasons).
    fn default() -> SourceRegistry {
        let s = |name: &str, p: [u16; 6], verifies| SourceSystem {
            name: name.into(),
            priorities: p,
            verifies,
        };
        SourceRegistry {
            systems: vec![
                s("finance", [100, 70, 60, 100, 90, 50], true),
                s("invoice", [90, 60, 50, 90, 100, 50], true),
                s("app", [50, 90, 80, 60, 40, 70], false),
                s("call_centre", [60, 80, 90, 50, 30, 60], false),
                s("web", [40, 50, 70, 40, 20, 40], false),
                s("dms", [10; 6], false),
            ],
        }
    }
}

impl SourceRegistry {
    /// The system named `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&SourceSystem> {
        self.systems.iter().find(|s| s.name == name)
    }

    /// `name`'s priority for `group`, if registered.
    pub fn priority(&self, name: &str, group: FieldGroup) -> Option<u16> {
        self.get(name).map(|s| s.priority(group))
    }

    /// The system named `name`, or a validation error (`validation.unknown_source`) that says
    /// how to register it.
    pub fn require(&self, name: &str) -> Result<&SourceSystem, ValidationError> {
        self.get(name)
            .ok_or_else(|| ValidationError::new("source.system", Rule::UnknownSource, name))
    }

    /// Adds `system`, or replaces the one with its name.
    pub fn register(&mut self, system: SourceSystem) {
        match self.systems.iter_mut().find(|s| s.name == system.name) {
            Some(s) => *s = system,
            None => self.systems.push(system),
        }
    }
}

const KEY: &str = "registry";

fn check_name(name: &str) -> Result<(), ValidationError> {
    crate::source::SourceRef::new(name, "-")
        .normalised()
        .and_then(|s| {
            if s.system == name {
                Ok(())
            } else {
                Err(ValidationError::new(
                    "source.system",
                    Rule::NotAllowed,
                    name,
                ))
            }
        })
}

impl Tx<'_> {
    /// The source registry as this transaction sees it (the defaults while none is stored).
    pub fn sources(&self) -> Result<SourceRegistry> {
        sources_in(&self.t)
    }

    /// The source registry, read once per transaction (until it is changed in it).
    pub(crate) fn source_registry(&mut self) -> Result<std::sync::Arc<SourceRegistry>> {
        if let Some(r) = &*self.s.registry.borrow() {
            return Ok(r.clone());
        }
        let r = std::sync::Arc::new(self.sources()?);
        *self.s.registry.borrow_mut() = Some(r.clone());
        Ok(r)
    }

    /// Stores the whole registry (replacing the stored one or the defaults).
    pub fn set_sources(&mut self, registry: &SourceRegistry) -> Result<()> {
        for s in &registry.systems {
            check_name(&s.name)?;
        }
        let mut names: Vec<&str> = registry.systems.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ValidationError::new("source.system", Rule::Duplicate, w[0]).into());
        }
        *self.s.registry.borrow_mut() = None;
        self.writing(|tx| {
            tx.t.sources()?
                .insert(KEY, codec::encode(registry).as_slice())?;
            Ok(())
        })
    }

    /// Registers a source system (or replaces the registration of one with the same name). The
    /// default systems stay registered unless replaced.
    pub fn register_source(&mut self, system: &SourceSystem) -> Result<()> {
        check_name(&system.name)?;
        let mut r = self.sources()?;
        r.register(system.clone());
        self.set_sources(&r)
    }

    /// Sets one system's priority for one field group.
    pub fn set_source_priority(
        &mut self,
        system: &str,
        group: FieldGroup,
        priority: u16,
    ) -> Result<()> {
        let mut r = self.sources()?;
        let Some(s) = r.systems.iter_mut().find(|s| s.name == system) else {
            return Err(Error::from(ValidationError::new(
                "source.system",
                Rule::UnknownSource,
                system,
            )));
        };
        s.priorities[group.index()] = priority;
        self.set_sources(&r)
    }
}

impl ReadTxn {
    /// The source registry (the defaults while none is stored).
    pub fn sources(&self) -> Result<SourceRegistry> {
        sources_in(&self.tables)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The source registry as this transaction sees it (the defaults while none is stored).
    pub fn sources(&self) -> Result<SourceRegistry> {
        self.tx().sources()
    }

    /// Stores the whole registry (replacing the stored one or the defaults).
    pub fn set_sources(&mut self, registry: &SourceRegistry) -> Result<()> {
        self.tx().set_sources(registry)
    }

    /// Registers a source system (or replaces the registration of one with the same name). The
    /// default systems stay registered unless replaced.
    pub fn register_source(&mut self, system: &SourceSystem) -> Result<()> {
        self.tx().register_source(system)
    }

    /// Sets one system's priority for one field group.
    pub fn set_source_priority(
        &mut self,
        system: &str,
        group: FieldGroup,
        priority: u16,
    ) -> Result<()> {
        self.tx().set_source_priority(system, group, priority)
    }
}

/// [`ReadTxn::sources`], for either kind of transaction.
pub(crate) fn sources_in(t: &impl ReadView) -> Result<SourceRegistry> {
    let t = t.sources()?;
    let found = t.get(KEY)?.map(|v| decode_stored(v.value())).transpose()?;
    Ok(found.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_domain_order() {
        let r = SourceRegistry::default();
        let p = |s, g| r.priority(s, g).unwrap();
        for s in ["invoice", "app", "call_centre", "web", "dms"] {
            assert!(p("finance", FieldGroup::Identity) > p(s, FieldGroup::Identity));
            assert!(p("finance", FieldGroup::VehicleSpec) > p(s, FieldGroup::VehicleSpec));
        }
        for s in ["finance", "app", "call_centre", "web", "dms"] {
            assert!(p("invoice", FieldGroup::PurchaseDates) > p(s, FieldGroup::PurchaseDates));
        }
        for g in FieldGroup::ALL {
            for s in ["finance", "invoice", "app", "call_centre", "web"] {
                assert!(p("dms", g) < p(s, g), "dms last in {g:?}");
            }
        }
        assert!(r.require("erp").is_err());
    }
}
