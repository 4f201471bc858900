//! Flat records: the shape in which a front end (a binding's dict or JS object, an import row)
//! hands over a customer, a vehicle or a lead, and the checks that shape needs before it becomes
//! a domain record — which fields a person or an organisation may carry, what a vehicle's first
//! owner needs, which lead status takes a lost reason. Every front end converts its values into
//! these and calls `into_*`, so the checks are written once.

use crate::customer::{Customer, Gender, Organisation, Party, Person};
use crate::date::Date;
use crate::error::{Rule, ValidationError};
use crate::ids::CustomerId;
use crate::lead::LeadStatus;
use crate::source::SourceRef;
use crate::vehicle::Vehicle;

/// Person or organisation, as a flat record names it (`"person"`, `"organisation"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PartyKind {
    /// A private person (the default).
    #[default]
    Person,
    /// A company, fleet or other key account.
    Organisation,
}

impl PartyKind {
    /// Both kinds.
    pub const ALL: [PartyKind; 2] = [PartyKind::Person, PartyKind::Organisation];

    /// `"person"` or `"organisation"`.
    pub fn name(self) -> &'static str {
        match self {
            PartyKind::Person => "person",
            PartyKind::Organisation => "organisation",
        }
    }

    /// Every spelling of a kind that import files and bindings accept: its name and the
    /// aliases source systems use (`"org"`, `"company"`, `"个人"`, `"企业"`…).
    pub const SPELLINGS: &'static [(&'static str, PartyKind)] = &[
        ("person", PartyKind::Person),
        ("individual", PartyKind::Person),
        ("个人", PartyKind::Person),
        ("organisation", PartyKind::Organisation),
        ("organization", PartyKind::Organisation),
        ("org", PartyKind::Organisation),
        ("company", PartyKind::Organisation),
        ("企业", PartyKind::Organisation),
        ("单位", PartyKind::Organisation),
    ];

    /// The kind spelled `name` ([`PartyKind::SPELLINGS`]); `None` for anything else.
    pub fn from_name(name: &str) -> Option<PartyKind> {
        PartyKind::SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == name)
            .map(|&(_, kind)| kind)
    }

    /// The kind of a stored party.
    pub fn of(party: &Party) -> PartyKind {
        match party {
            Party::Person(_) => PartyKind::Person,
            Party::Organisation(_) => PartyKind::Organisation,
        }
    }
}

/// A customer as one flat record: the fields of both kinds side by side. Fields of the other
/// kind must be empty ([`CustomerRecord::into_customer`] refuses them with
/// `validation.not_allowed`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Person (default) or organisation.
    pub kind: PartyKind,
    /// Full or registered name.
    pub name: String,
    /// Person only.
    pub gender: Option<Gender>,
    /// Person only.
    pub birth_date: Option<Date>,
    /// Person only.
    pub occupation: Option<String>,
    /// Person only.
    pub employer: Option<String>,
    /// Person only.
    pub interests: Vec<String>,
    /// Person only.
    pub national_id: Option<String>,
    /// Organisation only.
    pub credit_code: Option<String>,
    /// Organisation only.
    pub industry: Option<String>,
    /// Mobile phones, the primary first.
    pub phones: Vec<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// The source record.
    pub source: Option<SourceRef>,
}

fn not_allowed(field: &'static str, on: &str) -> ValidationError {
    ValidationError::new(field, Rule::NotAllowed, format!("given on a {on}"))
}

impl CustomerRecord {
    /// The fields only a person carries, with whether this record gives them.
    fn person_fields(&self) -> [(&'static str, bool); 6] {
        [
            ("gender", self.gender.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("occupation", self.occupation.is_some()),
            ("employer", self.employer.is_some()),
            ("interests", !self.interests.is_empty()),
            ("national_id", self.national_id.is_some()),
        ]
    }

    /// The fields only an organisation carries, with whether this record gives them.
    fn organisation_fields(&self) -> [(&'static str, bool); 2] {
        [
            ("credit_code", self.credit_code.is_some()),
            ("industry", self.industry.is_some()),
        ]
    }

    /// The customer this record describes; a field of the other kind of party is refused
    /// (`validation.not_allowed`, naming the field). Values are validated when written.
    pub fn into_customer(self) -> Result<Customer, ValidationError> {
        let party = match self.kind {
            PartyKind::Person => {
                if let Some((field, _)) = self.organisation_fields().iter().find(|(_, on)| *on) {
                    return Err(not_allowed(field, "person"));
                }
                Party::Person(Person {
                    name: self.name,
                    gender: self.gender,
                    birth_date: self.birth_date,
                    occupation: self.occupation,
                    employer: self.employer,
                    interests: self.interests,
                    national_id: self.national_id,
                })
            }
            PartyKind::Organisation => {
                if let Some((field, _)) = self.person_fields().iter().find(|(_, on)| *on) {
                    return Err(not_allowed(field, "organisation"));
                }
                Party::Organisation(Organisation {
                    name: self.name,
                    credit_code: self.credit_code,
                    industry: self.industry,
                })
            }
        };
        Ok(Customer {
            party,
            phones: self.phones,
            province: self.province,
            city: self.city,
            address: self.address,
            source: self.source,
        })
    }

    /// The flat record of a stored customer.
    pub fn from_customer(c: &Customer) -> CustomerRecord {
        let common = CustomerRecord {
            phones: c.phones.clone(),
            province: c.province.clone(),
            city: c.city.clone(),
            address: c.address.clone(),
            source: c.source.clone(),
            ..CustomerRecord::default()
        };
        match &c.party {
            Party::Person(p) => CustomerRecord {
                kind: PartyKind::Person,
                name: p.name.clone(),
                gender: p.gender,
                birth_date: p.birth_date,
                occupation: p.occupation.clone(),
                employer: p.employer.clone(),
                interests: p.interests.clone(),
                national_id: p.national_id.clone(),
                ..common
            },
            Party::Organisation(o) => CustomerRecord {
                kind: PartyKind::Organisation,
                name: o.name.clone(),
                credit_code: o.credit_code.clone(),
                industry: o.industry.clone(),
                ..common
            },
        }
    }
}

/// A vehicle as one flat record, with its first owner period: `owner` from `since` (which
/// defaults to the purchase date).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VehicleRecord {
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Its first owner, if known.
    pub owner: Option<CustomerId>,
    /// When the first owner took it; default: `vehicle.purchase_date`.
    pub since: Option<Date>,
}

impl VehicleRecord {
    /// The vehicle and its first owner period. An owner needs a date (`since` or the purchase
    /// date: `validation.required` on `since`); `since` without an owner is refused
    /// (`validation.not_allowed`).
    pub fn into_parts(self) -> Result<(Vehicle, Option<(CustomerId, Date)>), ValidationError> {
        let first =
            match (self.owner, self.since.or(self.vehicle.purchase_date)) {
                (Some(owner), Some(since)) => Some((owner, since)),
                (Some(_), None) => return Err(ValidationError::new(
                    "since",
                    Rule::Required,
                    "an owner without the date the owner took the vehicle (since or purchase_date)",
                )),
                (None, _) if self.since.is_some() => {
                    return Err(not_allowed("since", "vehicle without an owner"))
                }
                (None, _) => None,
            };
        Ok((self.vehicle, first))
    }
}

/// A lead's status from its flat fields: the status name and a lost reason, which only `lost`
/// takes (`validation.not_allowed` on another status; an unknown name is
/// `validation.not_allowed` on `status` too, naming the value).
pub fn lead_status(name: &str, lost_reason: Option<String>) -> Result<LeadStatus, ValidationError> {
    let has_reason = lost_reason.is_some();
    let status = LeadStatus::from_name(name, lost_reason).ok_or_else(|| {
        ValidationError::new(
            "status",
            Rule::NotAllowed,
            format!("{name:?} (use one of {})", LeadStatus::NAMES.join(", ")),
        )
    })?;
    if has_reason && !matches!(status, LeadStatus::Lost(_)) {
        return Err(not_allowed("lost_reason", "lead that is not lost"));
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_of_the_other_kind_is_refused_by_name() {
        let org = CustomerRecord {
            kind: PartyKind::Organisation,
            name: "上海申通物流有限公司".into(),
            national_id: Some("110101199003074578".into()),
            ..CustomerRecord::default()
        };
        let e = org.into_customer().unwrap_err();
        assert_eq!((e.field, e.rule), ("national_id", Rule::NotAllowed));
        let person = CustomerRecord {
            name: "王小明".into(),
            industry: Some("logistics".into()),
            ..CustomerRecord::default()
        };
        let e = person.into_customer().unwrap_err();
        assert_eq!((e.field, e.rule), ("industry", Rule::NotAllowed));
    }

    #[test]
    fn a_record_round_trips_through_the_customer() {
        let r = CustomerRecord {
            kind: PartyKind::Organisation,
            name: "上海申通物流有限公司".into(),
            credit_code: Some("91310000MA1FL4L24X".into()),
            industry: Some("logistics".into()),
            phones: vec!["13800138000".into()],
            city: Some("上海".into()),
            ..CustomerRecord::default()
        };
        let c = r.clone().into_customer().unwrap();
        assert_eq!(CustomerRecord::from_customer(&c), r);
        for k in PartyKind::ALL {
            assert_eq!(PartyKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn a_first_owner_needs_a_date_and_a_date_needs_an_owner() {
        let v = Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Passat");
        let owner = Some(CustomerId(7));
        let e = VehicleRecord {
            vehicle: v.clone(),
            owner,
            since: None,
        }
        .into_parts()
        .unwrap_err();
        assert_eq!((e.field, e.rule), ("since", Rule::Required));
        let day: Date = "2024-05-01".parse().unwrap();
        let e = VehicleRecord {
            vehicle: v.clone(),
            owner: None,
            since: Some(day),
        }
        .into_parts()
        .unwrap_err();
        assert_eq!((e.field, e.rule), ("since", Rule::NotAllowed));
        let bought = Vehicle {
            purchase_date: Some(day),
            ..v
        };
        let (_, first) = VehicleRecord {
            vehicle: bought,
            owner,
            since: None,
        }
        .into_parts()
        .unwrap();
        assert_eq!(first, Some((CustomerId(7), day)));
    }

    #[test]
    fn only_a_lost_lead_takes_a_reason() {
        assert_eq!(
            lead_status("lost", Some("price".into())).unwrap(),
            LeadStatus::Lost("price".into())
        );
        let e = lead_status("won", Some("price".into())).unwrap_err();
        assert_eq!((e.field, e.rule), ("lost_reason", Rule::NotAllowed));
        let e = lead_status("sold", None).unwrap_err();
        assert_eq!((e.field, e.rule), ("status", Rule::NotAllowed));
    }
}
