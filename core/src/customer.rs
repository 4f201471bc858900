//! Customers — persons and organisations (fleet / key accounts) — and relations between them.
//!
//! The unified key of a customer is the national ID (person) or the unified social credit code
//! (organisation) where known; both are unique indexes. Phones are a non-unique index: a family
//! may share one number. An organisation's key people (decision maker, purchaser, driver) are
//! customers of their own, linked by a [`RelationKind`].

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::ValidationError;
use crate::source::SourceRef;
use crate::store::ReadView;
use crate::validate;

/// A person's gender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// The person-specific part of a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Full name, e.g. `"王小明"`. Placeholders such as `"王先生"` are rejected.
    pub name: String,
    /// Gender, if known.
    pub gender: Option<Gender>,
    /// Birth date, if known.
    pub birth_date: Option<Date>,
    /// Occupation.
    pub occupation: Option<String>,
    /// Employer's name.
    pub employer: Option<String>,
    /// Interests (free tags: golf, self-driving tours...).
    pub interests: Vec<String>,
    /// 18-character resident ID (GB 11643), unique.
    pub national_id: Option<String>,
}

/// The organisation-specific part of a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Registered name (no upper length limit).
    pub name: String,
    /// 18-character unified social credit code (GB 32100), unique.
    pub credit_code: Option<String>,
    /// Industry.
    pub industry: Option<String>,
}

/// Person or organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Party {
    /// A private person.
    Person(Person),
    /// A company, fleet or other key account.
    Organisation(Organisation),
}

/// A customer record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Person or organisation data.
    pub party: Party,
    /// Mobile phones, normalised to 11 digits on write; the first is the primary one.
    pub phones: Vec<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// The source record this customer was last written from. Every source record it was ever
    /// written from keeps finding it.
    pub source: Option<SourceRef>,
}
crate::codec::model!(Customer, Customer, "customer");

/// How two customers are related. Relations are directed: `from` → `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum RelationKind {
    /// `to` is a relative of `from`.
    Relative = 1,
    /// `to` is a contact person of `from`.
    Contact = 2,
    /// `from` was referred by `to`.
    ReferredBy = 3,
    /// `to` is the decision maker of organisation `from`.
    DecisionMaker = 4,
    /// `to` is the purchaser of organisation `from`.
    Purchaser = 5,
    /// `to` drives / uses the vehicles of organisation `from`.
    Driver = 6,
}

impl RelationKind {
    /// All kinds, in code order.
    pub const ALL: [RelationKind; 6] = [
        RelationKind::Relative,
        RelationKind::Contact,
        RelationKind::ReferredBy,
        RelationKind::DecisionMaker,
        RelationKind::Purchaser,
        RelationKind::Driver,
    ];

    pub(crate) fn from_code(code: u8) -> Option<RelationKind> {
        RelationKind::ALL.into_iter().find(|k| *k as u8 == code)
    }

    /// Whether this relation names one of an organisation's key people.
    pub fn is_key_person(self) -> bool {
        matches!(
            self,
            RelationKind::DecisionMaker | RelationKind::Purchaser | RelationKind::Driver
        )
    }
}

impl Customer {
    /// A person customer with just a name; fill the other fields with struct update syntax.
    pub fn person(name: impl Into<String>) -> Customer {
        Customer::of(Party::Person(Person {
            name: name.into(),
            ..Person::default()
        }))
    }

    /// An organisation customer with just a name.
    pub fn organisation(name: impl Into<String>) -> Customer {
        Customer::of(Party::Organisation(Organisation {
            name: name.into(),
            ..Organisation::default()
        }))
    }

    fn of(party: Party) -> Customer {
        Customer {
            party,
            phones: vec![],
            province: None,
            city: None,
            address: None,
            source: None,
        }
    }

    /// The person's or organisation's name.
    pub fn name(&self) -> &str {
        match &self.party {
            Party::Person(p) => &p.name,
            Party::Organisation(o) => &o.name,
        }
    }

    /// The person's national ID, if any.
    pub fn national_id(&self) -> Option<&str> {
        match &self.party {
            Party::Person(p) => p.national_id.as_deref(),
            Party::Organisation(_) => None,
        }
    }

    /// The organisation's credit code, if any.
    pub fn credit_code(&self) -> Option<&str> {
        match &self.party {
            Party::Person(_) => None,
            Party::Organisation(o) => o.credit_code.as_deref(),
        }
    }

    /// Whether this customer is an organisation.
    pub fn is_organisation(&self) -> bool {
        matches!(self.party, Party::Organisation(_))
    }

    /// The basic fields this customer lacks, by field name, in the order below; empty when
    /// its information is complete and valid (DOMAIN §7, the valid customer information ratio;
    /// seed 003 §4.2.1, completeness):
    /// - `name`: at least 2 characters (stored names already passed the placeholder rule);
    /// - `phones`: at least one mainland mobile number (11 digits, `1[3-9]…`);
    /// - `national_id` (person) / `credit_code` (organisation) with a correct check digit;
    /// - `province` and `city`.
    ///
    /// Rechecked rather than trusted, so the answer stays right for records written before a
    /// rule existed. Allocates only for an incomplete customer.
    pub fn missing_basic_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.name().trim().chars().count() < 2 {
            missing.push("name");
        }
        let mobile = |p: &String| {
            let b = p.as_bytes();
            b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && b[1] >= b'3'
        };
        if !self.phones.iter().any(mobile) {
            missing.push("phones");
        }
        let checked = |key: Option<&str>, check: fn(&str) -> Option<char>| {
            key.is_some_and(|k| {
                k.len() == 18 && k.is_ascii() && check(&k[..17]) == k[17..].chars().next()
            })
        };
        match &self.party {
            Party::Person(p) => {
                if !checked(p.national_id.as_deref(), validate::national_id_check_digit) {
                    missing.push("national_id");
                }
            }
            Party::Organisation(o) => {
                if !checked(o.credit_code.as_deref(), validate::credit_code_check_char) {
                    missing.push("credit_code");
                }
            }
        }
        let place = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !place(&self.province) {
            missing.push("province");
        }
        if !place(&self.city) {
            missing.push("city");
        }
        missing
    }

    /// The customer as it will be stored: every field validated and normalised; a birth date
    /// must not lie after now by the default clock, UTC+08:00 (see
    /// [`Customer::normalised_at`]).
    pub fn normalised(&self) -> Result<Customer, ValidationError> {
        self.normalised_at(crate::Clock::default().now())
    }

    /// [`Customer::normalised`] for a record received at `now`: a birth date after `now` plus
    /// [`validate::FUTURE_TOLERANCE_DAYS`] is [`crate::Rule::DateImplausible`].
    pub fn normalised_at(&self, now: crate::date::DateTime) -> Result<Customer, ValidationError> {
        let party = match &self.party {
            Party::Person(p) => {
                let national_id = p
                    .national_id
                    .as_deref()
                    .map(|s| validate::national_id("national_id", s));
                let birth_date = p
                    .birth_date
                    .map(|d| validate::past_date("birth_date", d, now))
                    .transpose()?;
                Party::Person(Person {
                    name: validate::person_name("name", &p.name)?,
                    gender: p.gender,
                    birth_date,
                    occupation: opt(p.occupation.as_deref(), "occupation", 64)?,
                    employer: opt(p.employer.as_deref(), "employer", 200)?,
                    interests: p
                        .interests
                        .iter()
                        .filter_map(|i| validate::optional_text("interests", i, 32).transpose())
                        .collect::<Result<_, _>>()?,
                    national_id: national_id.transpose()?,
                })
            }
            Party::Organisation(o) => Party::Organisation(Organisation {
                name: validate::org_name("name", &o.name)?,
                credit_code: o
                    .credit_code
                    .as_deref()
                    .map(|s| validate::credit_code("credit_code", s))
                    .transpose()?,
                industry: opt(o.industry.as_deref(), "industry", 64)?,
            }),
        };
        let mut phones: Vec<String> = Vec::with_capacity(self.phones.len());
        for p in &self.phones {
            let p = validate::mobile_phone("phones", p)?;
            if !phones.contains(&p) {
                phones.push(p);
            }
        }
        Ok(Customer {
            party,
            phones,
            province: opt(self.province.as_deref(), "province", 32)?,
            city: opt(self.city.as_deref(), "city", 32)?,
            address: opt(self.address.as_deref(), "address", 200)?,
            source: self
                .source
                .as_ref()
                .map(SourceRef::normalised)
                .transpose()?,
        })
    }
}

/// A trimmed optional text field: blank becomes `None`, longer than `max` characters is rejected.
pub(crate) fn opt(
    s: Option<&str>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match s {
        Some(s) => validate::optional_text(field, s, max),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use redb::{ReadableMultimapTable, ReadableTable, ReadableTableMetadata};

use crate::codec::{self, ModelKind};
use crate::error::{Error, Refusal, Result};
use crate::ids::CustomerId;
use crate::store::tables::*;
use crate::store::{decode_stored, get_record, ReadTxn, Tx, WriteTxn};

/// A relation as seen from one customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Relation {
    /// The customer the relation starts from.
    pub from: CustomerId,
    /// The kind.
    pub kind: RelationKind,
    /// The customer it points to.
    pub to: CustomerId,
}

impl Tx<'_> {
    /// Validates and stores a new customer and its indexes. A customer carrying a source
    /// record that was already written returns the existing id and writes nothing.
    pub fn insert_customer(&mut self, customer: &Customer) -> Result<CustomerId> {
        let c = customer.normalised_at(self.now())?;
        self.insert_normalised_customer(c)
    }

    /// Stores many customers; validation of every record happens before anything is written,
    /// and errors name the record's index. Use inside [`crate::Database::write`] so that a
    /// failure rolls the whole batch back.
    pub fn insert_customers(&mut self, customers: &[Customer]) -> Result<Vec<CustomerId>> {
        let now = self.now();
        let checked = customers
            .iter()
            .enumerate()
            .map(|(i, c)| c.normalised_at(now).map_err(|e| e.in_record(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut ids = Vec::with_capacity(checked.len());
        for (i, c) in checked.into_iter().enumerate() {
            ids.push(
                self.insert_normalised_customer(c)
                    .map_err(|e| e.at_record(i))?,
            );
        }
        Ok(ids)
    }

    fn insert_normalised_customer(&mut self, c: Customer) -> Result<CustomerId> {
        if let Some(src) = &c.source {
            if let Some(id) = self.source_lookup(ModelKind::Customer, src, CUSTOMERS)? {
                return Ok(CustomerId(id));
            }
        }
        self.check_unique_keys(&c, None)?;
        self.insert_checked_customer(c)
    }

    /// Stores a normalised customer whose source record and unified keys are known to be
    /// free in this transaction.
    pub(crate) fn insert_checked_customer(&mut self, c: Customer) -> Result<CustomerId> {
        self.writing(|tx| {
            let id = tx.next_id("next.customer")?;
            tx.t.customers()?.insert(id, codec::encode(&c).as_slice())?;
            tx.index_customer(id, &c)?;
            if let Some(src) = &c.source {
                tx.source_remember(ModelKind::Customer, src, id)?;
            }
            Ok(CustomerId(id))
        })
    }

    /// Replaces a customer's data (indexes follow). The customer's original source reference
    /// is kept if the new data carries none.
    pub fn update_customer(&mut self, id: CustomerId, customer: &Customer) -> Result<()> {
        let c = customer.normalised_at(self.now())?;
        let old = self.customer(id)?;
        self.refuse_if_erased(id)?;
        self.replace_customer(id, &old, c)
    }

    /// Overwrites customer `id`'s record `old` with its erased form `new` (no validation: an
    /// erased record has no name to check) and removes the index keys it no longer holds.
    pub(crate) fn replace_erased_customer(
        &mut self,
        id: CustomerId,
        old: &Customer,
        new: &Customer,
    ) -> Result<()> {
        self.reindex_customer(id.0, old, new)?;
        self.t
            .customers()?
            .insert(id.0, codec::encode(new).as_slice())?;
        Ok(())
    }

    /// [`WriteTxn::update_customer`] with the stored record `old` already read and `c`
    /// already normalised.
    pub(crate) fn replace_customer(
        &mut self,
        id: CustomerId,
        old: &Customer,
        mut c: Customer,
    ) -> Result<()> {
        if c.source.is_none() {
            c.source = old.source.clone();
        }
        self.check_unique_keys(&c, Some(id))?;
        let new_source = self.new_source(
            ModelKind::Customer,
            CUSTOMERS,
            id.0,
            old.source.as_ref(),
            c.source.as_ref(),
        )?;
        self.writing(|tx| {
            tx.reindex_customer(id.0, old, &c)?;
            tx.t.customers()?
                .insert(id.0, codec::encode(&c).as_slice())?;
            // The customer stays reachable from every source record it was written from, so
            // a re-delivery of the old one still finds it.
            if let Some(src) = &new_source {
                tx.source_remember(ModelKind::Customer, src, id.0)?;
            }
            Ok(())
        })
    }

    /// Deletes a customer with everything that holds his data: touchpoints, leads,
    /// complaints, surveys, relations, rollup, lineage and conflicts, consents, a club card
    /// without postings, and the merge records, redirects and lineage of customers merged
    /// into him. A customer who owns or ever owned a vehicle cannot be deleted (the vehicle's
    /// ownership history would lose a link), nor one with loyalty postings (the ledger is
    /// append-only). The freed pages still hold the old bytes until reused: close the file and
    /// call [`crate::Database::vacuum`] afterwards to remove them from the disk
    /// ([`crate::Database::compact`] moves pages whole and can keep them in a page's slack).
    pub fn delete_customer(&mut self, id: CustomerId) -> Result<()> {
        let old = self.customer(id)?;
        if self.has_postings(id)? {
            return Err(Error::refused(
                Refusal::CustomerHasPostings,
                format!("customer {id} has loyalty postings"),
            ));
        }
        if self.t.customer_vehicles()?.get(id.0)?.next().is_some() {
            return Err(Error::refused(
                Refusal::CustomerHasVehicles,
                format!("customer {id} owns or owned vehicles"),
            ));
        }
        self.writing(|tx| {
            tx.unindex_customer(id.0, &old)?;
            tx.t.customers()?.remove(id.0)?;
            // Other source records that wrote this customer (and its leads, complaints and
            // surveys) stay in the source index but no longer resolve: lookups check liveness.
            if let Some(src) = &old.source {
                tx.source_forget(ModelKind::Customer, src)?;
            }
            tx.delete_timeline(id)?;
            tx.delete_customer_records(id)?;
            for r in tx.relations_of(id)? {
                tx.remove_relation(r)?;
            }
            // Everything else that holds the customer's personal data goes with it: lineage
            // and conflicts (source values of name, ID, phones, address), consents, a club
            // card without postings, and the merge records (full snapshots) and lineage of
            // customers merged into it.
            for merged in tx.forget_merges_into(id)? {
                tx.forget_integration_records(merged)?;
            }
            tx.forget_integration_records(id)?;
            tx.forget_consents(id)?;
            tx.forget_membership(id)?;
            tx.drop_rollup(id.0)
        })
    }

    /// Records that `from` is related to `to` (idempotent).
    pub fn relate(&mut self, from: CustomerId, kind: RelationKind, to: CustomerId) -> Result<()> {
        if from == to {
            return Err(Error::refused(
                Refusal::RelationToItself,
                format!("customer {from} cannot be related to itself"),
            ));
        }
        self.require(CUSTOMERS, "customer", from.0)?;
        self.require(CUSTOMERS, "customer", to.0)?;
        self.writing(|tx| {
            let existed =
                tx.t.relations()?
                    .insert((from.0, kind as u8, to.0), ())?
                    .is_some();
            if !existed {
                tx.t.relations_back()?
                    .insert((to.0, kind as u8, from.0), ())?;
                tx.rollup_mut(from.0)?.relations += 1;
                tx.rollup_mut(to.0)?.relations += 1;
            }
            Ok(())
        })
    }

    /// Removes a relation; returns whether it existed.
    pub fn unrelate(
        &mut self,
        from: CustomerId,
        kind: RelationKind,
        to: CustomerId,
    ) -> Result<bool> {
        self.writing(|tx| tx.remove_relation(Relation { from, kind, to }))
    }

    fn remove_relation(&mut self, r: Relation) -> Result<bool> {
        let k = r.kind as u8;
        let existed = self.t.relations()?.remove((r.from.0, k, r.to.0))?.is_some();
        if existed {
            self.t.relations_back()?.remove((r.to.0, k, r.from.0))?;
            for end in [r.from.0, r.to.0] {
                let count = &mut self.rollup_mut(end)?.relations;
                *count = count.saturating_sub(1);
            }
        }
        Ok(existed)
    }

    /// Every relation from or to `id`.
    pub fn relations_of(&self, id: CustomerId) -> Result<Vec<Relation>> {
        relations_in(&self.t, id)
    }

    /// The customer with id `id`, as this transaction sees it.
    pub fn customer(&self, id: CustomerId) -> Result<Customer> {
        customer_in(&self.t, id)
    }

    fn check_unique_keys(&self, c: &Customer, me: Option<CustomerId>) -> Result<()> {
        let checks = [
            (CUSTOMER_BY_NATIONAL_ID, "national_id", c.national_id()),
            (CUSTOMER_BY_CREDIT_CODE, "credit_code", c.credit_code()),
        ];
        for (table, field, value) in checks {
            let Some(value) = value else { continue };
            let t = self.t.unique_keys(table)?;
            let existing = t.get(value)?.map(|v| v.value());
            if let Some(existing) = existing {
                if Some(CustomerId(existing)) != me {
                    return Err(Error::DuplicateKey {
                        entity: "customer",
                        field,
                        value: value.to_string(),
                        existing,
                    });
                }
            }
        }
        Ok(())
    }

    fn index_customer(&mut self, id: u64, c: &Customer) -> Result<()> {
        if let Some(nid) = c.national_id() {
            self.t.customer_by_national_id()?.insert(nid, id)?;
        }
        if let Some(code) = c.credit_code() {
            self.t.customer_by_credit_code()?.insert(code, id)?;
        }
        let mut phones = self.t.customer_by_phone()?;
        for p in &c.phones {
            phones.insert(p.as_str(), id)?;
        }
        Ok(())
    }

    /// Moves the index entries of customer `id` from `old` to `new`, touching only the keys
    /// and phones that differ.
    fn reindex_customer(&mut self, id: u64, old: &Customer, new: &Customer) -> Result<()> {
        let keys = [
            (
                CUSTOMER_BY_NATIONAL_ID,
                old.national_id(),
                new.national_id(),
            ),
            (
                CUSTOMER_BY_CREDIT_CODE,
                old.credit_code(),
                new.credit_code(),
            ),
        ];
        for (table, before, after) in keys {
            if before == after {
                continue;
            }
            let mut t = self.t.unique_keys(table)?;
            if let Some(k) = before {
                t.remove(k)?;
            }
            if let Some(k) = after {
                t.insert(k, id)?;
            }
        }
        if old.phones != new.phones {
            let mut phones = self.t.customer_by_phone()?;
            for p in old.phones.iter().filter(|p| !new.phones.contains(p)) {
                phones.remove(p.as_str(), id)?;
            }
            for p in new.phones.iter().filter(|p| !old.phones.contains(p)) {
                phones.insert(p.as_str(), id)?;
            }
        }
        Ok(())
    }

    fn unindex_customer(&mut self, id: u64, c: &Customer) -> Result<()> {
        if let Some(nid) = c.national_id() {
            self.t.customer_by_national_id()?.remove(nid)?;
        }
        if let Some(code) = c.credit_code() {
            self.t.customer_by_credit_code()?.remove(code)?;
        }
        let mut phones = self.t.customer_by_phone()?;
        for p in &c.phones {
            phones.remove(p.as_str(), id)?;
        }
        Ok(())
    }
}

fn relations(
    forward: &impl ReadableTable<(u64, u8, u64), ()>,
    back: &impl ReadableTable<(u64, u8, u64), ()>,
    id: CustomerId,
) -> Result<Vec<Relation>> {
    let mut out = Vec::new();
    for (table, outgoing) in [(forward as &dyn RelationRange, true), (back, false)] {
        for (a, kind, b) in table.keys_from(id.0)? {
            let Some(kind) = RelationKind::from_code(kind) else {
                continue;
            };
            let (from, to) = if outgoing { (a, b) } else { (b, a) };
            out.push(Relation {
                from: CustomerId(from),
                kind,
                to: CustomerId(to),
            });
        }
    }
    Ok(out)
}

/// Object-safe view of a relations table, so both directions share one loop.
trait RelationRange {
    fn keys_from(&self, id: u64) -> Result<Vec<(u64, u8, u64)>>;
}

impl<T: ReadableTable<(u64, u8, u64), ()>> RelationRange for T {
    fn keys_from(&self, id: u64) -> Result<Vec<(u64, u8, u64)>> {
        let mut out = Vec::new();
        for entry in self.range((id, 0u8, 0u64)..=(id, u8::MAX, u64::MAX))? {
            out.push(entry?.0.value());
        }
        Ok(out)
    }
}

impl ReadTxn {
    /// The customer with id `id`.
    pub fn customer(&self, id: CustomerId) -> Result<Customer> {
        customer_in(&self.tables, id)
    }

    /// The customer holding national ID `national_id` (validated and normalised first).
    pub fn customer_by_national_id(&self, national_id: &str) -> Result<Option<CustomerId>> {
        let key = crate::validate::national_id("national_id", national_id)?;
        let t = self.tables.customer_by_national_id()?;
        Ok(t.get(key.as_str())?.map(|v| CustomerId(v.value())))
    }

    /// The organisation holding unified social credit code `code`.
    pub fn customer_by_credit_code(&self, code: &str) -> Result<Option<CustomerId>> {
        let key = crate::validate::credit_code("credit_code", code)?;
        let t = self.tables.customer_by_credit_code()?;
        Ok(t.get(key.as_str())?.map(|v| CustomerId(v.value())))
    }

    /// Customers with mobile `phone` (normalised first), in id order.
    pub fn customers_by_phone(&self, phone: &str) -> Result<Vec<CustomerId>> {
        let key = crate::validate::mobile_phone("phone", phone)?;
        let t = self.tables.customer_by_phone()?;
        let mut out = Vec::new();
        for v in t.get(key.as_str())? {
            out.push(CustomerId(v?.value()));
        }
        Ok(out)
    }

    /// Every relation from or to `id`.
    pub fn relations_of(&self, id: CustomerId) -> Result<Vec<Relation>> {
        relations_in(&self.tables, id)
    }

    /// Number of customers.
    pub fn customer_count(&self) -> Result<u64> {
        Ok(self.tables.customers()?.len()?)
    }

    /// Every customer id, ascending.
    pub fn customer_ids(&self) -> Result<Vec<CustomerId>> {
        let t = self.tables.customers()?;
        let mut out = Vec::with_capacity(t.len()? as usize);
        for entry in t.iter()? {
            out.push(CustomerId(entry?.0.value()));
        }
        Ok(out)
    }

    /// Every customer with its id, in id order: one scan of the customer table, no lookup
    /// per customer (exports, bindings' tables).
    pub fn all_customers(&self) -> Result<Vec<(CustomerId, Customer)>> {
        let mut out = Vec::with_capacity(self.customer_count()? as usize);
        self.each_customer(.., |id, c| out.push((id, c)))?;
        Ok(out)
    }

    /// Calls `f` with every customer whose id is in `ids` (`..` for all), in id order, in one
    /// range scan, decoding one record at a time: for exports that convert each record as it
    /// comes without holding them all, and that split the ids between threads (see
    /// [`ReadTxn::customer_id_range`]).
    pub fn each_customer(
        &self,
        ids: impl std::ops::RangeBounds<CustomerId>,
        mut f: impl FnMut(CustomerId, Customer),
    ) -> Result<()> {
        use std::ops::Bound;
        let raw = |b: Bound<&CustomerId>| match b {
            Bound::Included(c) => Bound::Included(c.0),
            Bound::Excluded(c) => Bound::Excluded(c.0),
            Bound::Unbounded => Bound::Unbounded,
        };
        let range = (raw(ids.start_bound()), raw(ids.end_bound()));
        for entry in self.tables.customers()?.range::<u64>(range)? {
            let (k, v) = entry?;
            f(CustomerId(k.value()), decode_stored(v.value())?);
        }
        Ok(())
    }

    /// The lowest and the highest customer id, or `None` without customers.
    pub fn customer_id_range(&self) -> Result<Option<(CustomerId, CustomerId)>> {
        let t = self.tables.customers()?;
        let (first, last) = (t.first()?, t.last()?);
        Ok(first
            .zip(last)
            .map(|((a, _), (b, _))| (CustomerId(a.value()), CustomerId(b.value()))))
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Validates and stores a new customer and its indexes. A customer carrying a source
    /// record that was already written returns the existing id and writes nothing.
    pub fn insert_customer(&mut self, customer: &Customer) -> Result<CustomerId> {
        self.tx().insert_customer(customer)
    }

    /// Stores many customers; validation of every record happens before anything is written,
    /// and errors name the record's index. Use inside [`crate::Database::write`] so that a
    /// failure rolls the whole batch back.
    pub fn insert_customers(&mut self, customers: &[Customer]) -> Result<Vec<CustomerId>> {
        self.tx().insert_customers(customers)
    }

    /// Replaces a customer's data (indexes follow). The customer's original source reference
    /// is kept if the new data carries none.
    pub fn update_customer(&mut self, id: CustomerId, customer: &Customer) -> Result<()> {
        self.tx().update_customer(id, customer)
    }

    /// Deletes a customer with everything that holds his data: touchpoints, leads,
    /// complaints, surveys, relations, rollup, lineage and conflicts, consents, a club card
    /// without postings, and the merge records, redirects and lineage of customers merged
    /// into him. A customer who owns or ever owned a vehicle cannot be deleted (the vehicle's
    /// ownership history would lose a link), nor one with loyalty postings (the ledger is
    /// append-only). The freed pages still hold the old bytes until reused: close the file and
    /// call [`crate::Database::vacuum`] afterwards to remove them from the disk
    /// ([`crate::Database::compact`] moves pages whole and can keep them in a page's slack).
    pub fn delete_customer(&mut self, id: CustomerId) -> Result<()> {
        self.tx().delete_customer(id)
    }

    /// Records that `from` is related to `to` (idempotent).
    pub fn relate(&mut self, from: CustomerId, kind: RelationKind, to: CustomerId) -> Result<()> {
        self.tx().relate(from, kind, to)
    }

    /// Removes a relation; returns whether it existed.
    pub fn unrelate(
        &mut self,
        from: CustomerId,
        kind: RelationKind,
        to: CustomerId,
    ) -> Result<bool> {
        self.tx().unrelate(from, kind, to)
    }

    /// Every relation from or to `id`.
    pub fn relations_of(&self, id: CustomerId) -> Result<Vec<Relation>> {
        self.tx().relations_of(id)
    }

    /// The customer with id `id`, as this transaction sees it.
    pub fn customer(&self, id: CustomerId) -> Result<Customer> {
        self.tx().customer(id)
    }
}

/// [`ReadTxn::customer`], for either kind of transaction.
pub(crate) fn customer_in(t: &impl ReadView, id: CustomerId) -> Result<Customer> {
    get_record(&*t.customers()?, id.0)?.ok_or_else(|| Error::not_found("customer", id))
}

/// [`ReadTxn::relations_of`], for either kind of transaction.
pub(crate) fn relations_in(t: &impl ReadView, id: CustomerId) -> Result<Vec<Relation>> {
    relations(&*t.relations()?, &*t.relations_back()?, id)
}
