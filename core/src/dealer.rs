//! Dealers: 4S shops (sales and service) and service-only stations.

use serde::{Deserialize, Serialize};

use crate::error::{Rule, ValidationError};
use crate::store::ReadView;
use crate::validate;

/// What a dealer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DealerKind {
    /// Sales, service, spare parts and survey (4S shop).
    FourS,
    /// Service only.
    ServiceStation,
}

/// A dealer of the network. `code` is unique.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dealer {
    /// The carmaker's dealer code, unique, e.g. `"SH001"`.
    pub code: String,
    /// Trading name.
    pub name: String,
    /// Sales region, e.g. `"East"`.
    pub region: String,
    /// Province, e.g. `"上海"`.
    pub province: String,
    /// City.
    pub city: String,
    /// 4S shop or service station.
    pub kind: DealerKind,
}
crate::codec::model!(Dealer, Dealer, "dealer");

impl Dealer {
    /// The dealer as it will be stored: trimmed and validated (code, name, region, city).
    pub fn normalised(&self) -> Result<Dealer, ValidationError> {
        let code = self.code.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(ValidationError::new("code", Rule::Required, &self.code));
        }
        validate::plain_text("code", &code, &[])?;
        if code.len() > 32 {
            return Err(ValidationError::new("code", Rule::TooLong, &self.code));
        }
        Ok(Dealer {
            code,
            name: validate::org_name("name", &self.name)?,
            region: required("region", &self.region)?,
            province: required("province", &self.province)?,
            city: required("city", &self.city)?,
            kind: self.kind,
        })
    }
}

fn required(field: &'static str, s: &str) -> Result<String, ValidationError> {
    validate::optional_text(field, s, 64)?
        .ok_or_else(|| ValidationError::new(field, Rule::Required, s))
}

// ---------------------------------------------------------------------------------------------
// Storage operations

use redb::{ReadableTable, ReadableTableMetadata};

use crate::codec;
use crate::error::{Error, Refusal, Result};
use crate::ids::DealerId;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};

impl Tx<'_> {
    /// Stores a new dealer; its code must be unique.
    pub fn insert_dealer(&mut self, dealer: &Dealer) -> Result<DealerId> {
        let d = dealer.normalised()?;
        if let Some(existing) = self.t.dealer_by_code()?.get(d.code.as_str())? {
            return Err(Error::DuplicateKey {
                entity: "dealer",
                field: "code",
                value: d.code.clone(),
                existing: u64::from(existing.value()),
            });
        }
        self.writing(|tx| {
            let raw = tx.next_id("next.dealer")?;
            let id = u32::try_from(raw).map_err(|_| {
                Error::refused(Refusal::DealerIdsExhausted, "more than 4 billion dealers")
            })?;
            tx.t.dealers()?.insert(id, codec::encode(&d).as_slice())?;
            tx.t.dealer_by_code()?.insert(d.code.as_str(), id)?;
            Ok(DealerId(id))
        })
    }

    /// The dealer with id `id`, as this transaction sees it.
    pub fn dealer(&self, id: DealerId) -> Result<Dealer> {
        dealer_in(&self.t, id)
    }
}

impl ReadTxn {
    /// The dealer with id `id`.
    pub fn dealer(&self, id: DealerId) -> Result<Dealer> {
        dealer_in(&self.tables, id)
    }

    /// The dealer with code `code` (case-insensitive).
    pub fn dealer_by_code(&self, code: &str) -> Result<Option<DealerId>> {
        dealer_by_code_in(&self.tables, code)
    }

    /// Every dealer, in id order.
    pub fn dealers(&self) -> Result<Vec<(DealerId, Dealer)>> {
        dealers_in(&self.tables)
    }
}

/// The dealer with code `code` (case-insensitive), from either kind of transaction.
pub(crate) fn dealer_by_code_in(t: &impl ReadView, code: &str) -> Result<Option<DealerId>> {
    let code = code.trim().to_ascii_uppercase();
    Ok(t.dealer_by_code()?
        .get(code.as_str())?
        .map(|v| DealerId(v.value())))
}

/// Every dealer, in id order, from either kind of transaction.
pub(crate) fn dealers_in(t: &impl ReadView) -> Result<Vec<(DealerId, Dealer)>> {
    let t = t.dealers()?;
    let mut out = Vec::with_capacity(t.len()? as usize);
    for entry in t.iter()? {
        let (k, v) = entry?;
        out.push((DealerId(k.value()), decode_stored(v.value())?));
    }
    Ok(out)
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Stores a new dealer; its code must be unique.
    pub fn insert_dealer(&mut self, dealer: &Dealer) -> Result<DealerId> {
        self.tx().insert_dealer(dealer)
    }

    /// The dealer with id `id`, as this transaction sees it.
    pub fn dealer(&self, id: DealerId) -> Result<Dealer> {
        self.tx().dealer(id)
    }
}

/// [`ReadTxn::dealer`], for either kind of transaction.
pub(crate) fn dealer_in(t: &impl ReadView, id: DealerId) -> Result<Dealer> {
    let t = t.dealers()?;
    let v = t.get(id.0)?.ok_or_else(|| Error::not_found("dealer", id))?;
    decode_stored(v.value())
}
