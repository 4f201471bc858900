//! The fields survivorship decides one by one, their field groups, and their values in a form
//! that lineage and conflicts can store and an accepted conflict can write back.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sources::FieldGroup;
use crate::customer::{Customer, Gender, Party};
use crate::date::Date;
use crate::ids::{CustomerId, DealerId};
use crate::vehicle::{Usage, Vehicle};

/// The kind of record a lineage entry or a conflict is about. The discriminant is stored in
/// keys: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Entity {
    /// A customer.
    Customer = 1,
    /// A vehicle.
    Vehicle = 2,
}

impl Entity {
    /// The stable lower-case name: `customer`, `vehicle`.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Customer => "customer",
            Entity::Vehicle => "vehicle",
        }
    }
}

macro_rules! fields {
    ($($(#[$doc:meta])* $v:ident = $code:literal, $name:literal, $group:ident;)*) => {
        /// A field whose value survivorship decides and whose origin lineage keeps. The
        /// discriminant is stored in keys: never renumber.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[repr(u8)]
        pub enum Field {
            $($(#[$doc])* $v = $code,)*
        }

        impl Field {
            /// Every field, in code order.
            pub const ALL: &'static [Field] = &[$(Field::$v,)*];

            /// The stable name, the same as the field's name in validation errors
            /// (`"national_id"`, `"invoice_date"`...).
            pub fn name(self) -> &'static str {
                match self { $(Field::$v => $name,)* }
            }

            /// The field group whose source priority decides this field.
            pub fn group(self) -> FieldGroup {
                match self { $(Field::$v => FieldGroup::$group,)* }
            }
        }
    };
}

fields! {
    /// A person's or organisation's name.
    Name = 1, "name", Identity;
    /// A person's national ID.
    NationalId = 2, "national_id", Identity;
    /// An organisation's unified social credit code.
    CreditCode = 3, "credit_code", Identity;
    /// A person's gender.
    Gender = 4, "gender", Identity;
    /// A person's birth date.
    BirthDate = 5, "birth_date", Identity;
    /// One mobile number (each number has its own lineage).
    Phone = 10, "phones", Contact;
    /// Province.
    Province = 11, "province", Contact;
    /// City.
    City = 12, "city", Contact;
    /// Postal address.
    Address = 13, "address", Contact;
    /// A person's occupation.
    Occupation = 20, "occupation", Profile;
    /// A person's employer.
    Employer = 21, "employer", Profile;
    /// A person's interests (the whole list is one value).
    Interests = 22, "interests", Profile;
    /// An organisation's industry.
    Industry = 23, "industry", Profile;
    /// A vehicle's licence plate.
    Plate = 30, "plate", VehicleSpec;
    /// A vehicle's brand.
    Brand = 31, "brand", VehicleSpec;
    /// A vehicle's model.
    Model = 32, "model", VehicleSpec;
    /// A vehicle's trim.
    Trim = 33, "trim", VehicleSpec;
    /// What a vehicle is used for.
    Usage = 34, "usage", VehicleSpec;
    /// Purchase (order) date.
    PurchaseDate = 40, "purchase_date", PurchaseDates;
    /// Invoice date.
    InvoiceDate = 41, "invoice_date", PurchaseDates;
    /// Registration date.
    RegistrationDate = 42, "registration_date", PurchaseDates;
    /// The dealer that sold the vehicle.
    SellingDealer = 43, "selling_dealer", PurchaseDates;
    /// First service date.
    FirstServiceDate = 50, "first_service_date", ServiceDates;
    /// End of the factory warranty.
    WarrantyEnd = 51, "warranty_end", ServiceDates;
    /// Insurance expiry.
    InsuranceExpiry = 52, "insurance_expiry", ServiceDates;
    /// Annual inspection due.
    InspectionDue = 53, "inspection_due", ServiceDates;
    /// A vehicle's current owner (an ownership change that could not be applied).
    Owner = 60, "owner", PurchaseDates;
}

impl Field {
    /// The field named `name` (as [`Field::name`] spells it).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether a verified value of this field never changes: a different value offered for it
    /// is a conflict whatever the source's priority (an entry error far more often than a real
    /// change). National ID and credit code by DOMAIN §4; the birth date too, because it is
    /// part of the national ID and a person's birth date cannot change.
    pub fn is_verified_identity(self) -> bool {
        matches!(
            self,
            Field::NationalId | Field::CreditCode | Field::BirthDate
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field value as lineage and conflicts keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldValue {
    /// A text (names, IDs, phones, places, plates, models...).
    Text(String),
    /// A date.
    Date(Date),
    /// A gender.
    Gender(Gender),
    /// A vehicle usage.
    Usage(Usage),
    /// A dealer.
    Dealer(DealerId),
    /// A list of tags (interests).
    Tags(Vec<String>),
    /// A customer (a vehicle's owner).
    Customer(CustomerId),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(s) => f.write_str(s),
            FieldValue::Date(d) => write!(f, "{d}"),
            FieldValue::Gender(g) => write!(f, "{g:?}"),
            FieldValue::Usage(u) => write!(f, "{u:?}"),
            FieldValue::Dealer(d) => write!(f, "{d}"),
            FieldValue::Tags(t) => f.write_str(&t.join(", ")),
            FieldValue::Customer(c) => write!(f, "{c}"),
        }
    }
}

fn text(s: &Option<String>) -> Option<FieldValue> {
    s.clone().map(FieldValue::Text)
}

fn date(d: Option<Date>) -> Option<FieldValue> {
    d.map(FieldValue::Date)
}

/// The scalar fields of a customer (phones are handled number by number).
pub(crate) fn customer_fields(c: &Customer) -> Vec<(Field, Option<FieldValue>)> {
    let name = Some(FieldValue::Text(c.name().to_string()));
    let mut out = match &c.party {
        Party::Person(p) => vec![
            (Field::Name, name),
            (Field::NationalId, text(&p.national_id)),
            (Field::Gender, p.gender.map(FieldValue::Gender)),
            (Field::BirthDate, date(p.birth_date)),
            (Field::Occupation, text(&p.occupation)),
            (Field::Employer, text(&p.employer)),
            (
                Field::Interests,
                (!p.interests.is_empty()).then(|| FieldValue::Tags(p.interests.clone())),
            ),
        ],
        Party::Organisation(o) => vec![
            (Field::Name, name),
            (Field::CreditCode, text(&o.credit_code)),
            (Field::Industry, text(&o.industry)),
        ],
    };
    out.extend([
        (Field::Province, text(&c.province)),
        (Field::City, text(&c.city)),
        (Field::Address, text(&c.address)),
    ]);
    out
}

/// Sets one scalar field of a customer. Returns false if the field does not apply to it (a
/// person's field on an organisation) or the value has the wrong type.
pub(crate) fn set_customer_field(c: &mut Customer, field: Field, value: FieldValue) -> bool {
    use FieldValue as V;
    match (&mut c.party, field, value) {
        (Party::Person(p), Field::Name, V::Text(s)) => p.name = s,
        (Party::Organisation(o), Field::Name, V::Text(s)) => o.name = s,
        (Party::Person(p), Field::NationalId, V::Text(s)) => p.national_id = Some(s),
        (Party::Person(p), Field::Gender, V::Gender(g)) => p.gender = Some(g),
        (Party::Person(p), Field::BirthDate, V::Date(d)) => p.birth_date = Some(d),
        (Party::Person(p), Field::Occupation, V::Text(s)) => p.occupation = Some(s),
        (Party::Person(p), Field::Employer, V::Text(s)) => p.employer = Some(s),
        (Party::Person(p), Field::Interests, V::Tags(t)) => p.interests = t,
        (Party::Organisation(o), Field::CreditCode, V::Text(s)) => o.credit_code = Some(s),
        (Party::Organisation(o), Field::Industry, V::Text(s)) => o.industry = Some(s),
        (_, Field::Province, V::Text(s)) => c.province = Some(s),
        (_, Field::City, V::Text(s)) => c.city = Some(s),
        (_, Field::Address, V::Text(s)) => c.address = Some(s),
        _ => return false,
    }
    true
}

/// The fields of a vehicle survivorship decides (the VIN is the match key, never changed).
pub(crate) fn vehicle_fields(v: &Vehicle) -> Vec<(Field, Option<FieldValue>)> {
    vec![
        (Field::Plate, text(&v.plate)),
        (Field::Brand, Some(FieldValue::Text(v.brand.clone()))),
        (Field::Model, Some(FieldValue::Text(v.model.clone()))),
        (Field::Trim, text(&v.trim)),
        (Field::Usage, Some(FieldValue::Usage(v.usage))),
        (Field::PurchaseDate, date(v.purchase_date)),
        (Field::InvoiceDate, date(v.invoice_date)),
        (Field::RegistrationDate, date(v.registration_date)),
        (
            Field::SellingDealer,
            v.selling_dealer.map(FieldValue::Dealer),
        ),
        (Field::FirstServiceDate, date(v.first_service_date)),
        (Field::WarrantyEnd, date(v.warranty_end)),
        (Field::InsuranceExpiry, date(v.insurance_expiry)),
        (Field::InspectionDue, date(v.inspection_due)),
    ]
}

/// Sets one field of a vehicle; `value` `None` clears an optional field (used to take back a
/// change that made the record inconsistent). Returns false if the field or type does not fit.
pub(crate) fn set_vehicle_field(v: &mut Vehicle, field: Field, value: Option<FieldValue>) -> bool {
    use FieldValue as V;
    match (field, value) {
        (Field::Plate, Some(V::Text(s))) => v.plate = Some(s),
        (Field::Plate, None) => v.plate = None,
        (Field::Brand, Some(V::Text(s))) => v.brand = s,
        (Field::Model, Some(V::Text(s))) => v.model = s,
        (Field::Trim, Some(V::Text(s))) => v.trim = Some(s),
        (Field::Trim, None) => v.trim = None,
        (Field::Usage, Some(V::Usage(u))) => v.usage = u,
        (Field::SellingDealer, Some(V::Dealer(d))) => v.selling_dealer = Some(d),
        (Field::SellingDealer, None) => v.selling_dealer = None,
        (field, Some(V::Date(d))) => return set_date(v, field, Some(d)),
        (field, None) => return set_date(v, field, None),
        _ => return false,
    }
    true
}

fn set_date(v: &mut Vehicle, field: Field, d: Option<Date>) -> bool {
    let slot = match field {
        Field::PurchaseDate => &mut v.purchase_date,
        Field::InvoiceDate => &mut v.invoice_date,
        Field::RegistrationDate => &mut v.registration_date,
        Field::FirstServiceDate => &mut v.first_service_date,
        Field::WarrantyEnd => &mut v.warranty_end,
        Field::InsuranceExpiry => &mut v.insurance_expiry,
        Field::InspectionDue => &mut v.inspection_due,
        _ => return false,
    };
    *slot = d;
    true
}
