//! Where a record came from: the source system and its own record id.
//!
//! Feeds from dealer DMS, call centre, finance and invoice systems are delivered at least once.
//! A record that carries a [`SourceRef`] is written at most once: writing the same source record
//! again is a no-op that returns the id stored the first time.

use serde::{Deserialize, Serialize};

use crate::error::{Rule, ValidationError};

/// The source system and that system's id for a record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    /// The source system, e.g. `"dms"`, `"finance"`, `"call_centre"`.
    pub system: String,
    /// The record's id in that system.
    pub record_id: String,
}

impl SourceRef {
    /// The key of this source record for records of `kind` in the source index:
    /// `[model][system]\0[record id]` (a system name never contains NUL).
    pub fn key(&self, kind: crate::codec::ModelKind) -> Vec<u8> {
        let mut k = Vec::with_capacity(2 + self.system.len() + self.record_id.len());
        k.push(kind as u8);
        k.extend_from_slice(self.system.as_bytes());
        k.push(0);
        k.extend_from_slice(self.record_id.as_bytes());
        k
    }

    /// A reference to record `record_id` of `system`.
    pub fn new(system: impl Into<String>, record_id: impl Into<String>) -> SourceRef {
        SourceRef {
            system: system.into(),
            record_id: record_id.into(),
        }
    }

    pub(crate) fn normalised(&self) -> Result<SourceRef, ValidationError> {
        let system = self.system.trim();
        let record_id = self.record_id.trim();
        if system.is_empty() {
            return Err(ValidationError::new(
                "source.system",
                Rule::Required,
                system,
            ));
        }
        if record_id.is_empty() {
            return Err(ValidationError::new(
                "source.record_id",
                Rule::Required,
                record_id,
            ));
        }
        if system.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "source.system",
                Rule::NotAllowed,
                system,
            ));
        }
        if system.len() > 64 {
            return Err(ValidationError::new("source.system", Rule::TooLong, system));
        }
        if record_id.len() > 128 {
            return Err(ValidationError::new(
                "source.record_id",
                Rule::TooLong,
                record_id,
            ));
        }
        Ok(SourceRef::new(system, record_id))
    }
}

use redb::{ReadableTable, TableDefinition};

use crate::codec::ModelKind;
use crate::store::Tx;

impl Tx<'_> {
    /// The live record already written from `source` into `records`, if any. An entry whose
    /// record was deleted since does not count: the source record may be written again.
    pub(crate) fn source_lookup(
        &self,
        kind: ModelKind,
        source: &SourceRef,
        records: TableDefinition<'static, u64, &'static [u8]>,
    ) -> crate::Result<Option<u64>> {
        let t = self.t.source_records()?;
        let found = t.get(source.key(kind).as_slice())?.map(|v| v.value());
        match found {
            Some(id) if self.t.records(records)?.get(id)?.is_some() => Ok(Some(id)),
            // A customer merged into another: its source records find the survivor.
            Some(id) if kind == ModelKind::Customer => {
                Ok(self.redirected_customer(id)?.map(|c| c.0))
            }
            _ => Ok(None),
        }
    }

    /// The source an update brings that the record did not have (`None` if unchanged). Fails
    /// with [`crate::Error::DuplicateKey`] if another live record was written from it.
    pub(crate) fn new_source(
        &self,
        kind: ModelKind,
        records: TableDefinition<'static, u64, &'static [u8]>,
        id: u64,
        old: Option<&SourceRef>,
        new: Option<&SourceRef>,
    ) -> crate::Result<Option<SourceRef>> {
        let Some(new) = new.filter(|n| Some(*n) != old) else {
            return Ok(None);
        };
        match self.source_lookup(kind, new, records)? {
            Some(other) if other != id => Err(crate::Error::DuplicateKey {
                entity: kind.name(),
                field: "source",
                value: format!("{}/{}", new.system, new.record_id),
                existing: other,
            }),
            _ => Ok(Some(new.clone())),
        }
    }

    /// Forgets which record `source` produced (the record was deleted).
    pub(crate) fn source_forget(
        &mut self,
        kind: ModelKind,
        source: &SourceRef,
    ) -> crate::Result<()> {
        let mut t = self.t.source_records()?;
        t.remove(source.key(kind).as_slice())?;
        Ok(())
    }

    /// Remembers that `source` produced record `id`.
    pub(crate) fn source_remember(
        &mut self,
        kind: ModelKind,
        source: &SourceRef,
        id: u64,
    ) -> crate::Result<()> {
        let mut t = self.t.source_records()?;
        t.insert(source.key(kind).as_slice(), id)?;
        Ok(())
    }
}

/// Every record of `kind` written from source system `system`: (the system's record id, the
/// stored id), in the system's record-id order. One range scan of the source index (its keys
/// start with the model byte and the system name).
pub(crate) fn written_from(
    t: &impl crate::store::ReadView,
    kind: ModelKind,
    system: &str,
) -> crate::Result<Vec<(String, u64)>> {
    let prefix = SourceRef::new(system, "").key(kind);
    let index = t.source_records()?;
    let mut out = Vec::new();
    for entry in index.range(prefix.as_slice()..)? {
        let (k, v) = entry?;
        let Some(record_id) = k.value().strip_prefix(prefix.as_slice()) else {
            break;
        };
        out.push((String::from_utf8_lossy(record_id).into_owned(), v.value()));
    }
    Ok(out)
}

impl Tx<'_> {
    /// The id stored for `source` in the source index, live or not (a touchpoint's index has
    /// no record table [`Tx::source_lookup`] could check).
    pub(crate) fn source_known(
        &self,
        kind: ModelKind,
        source: &SourceRef,
    ) -> crate::Result<Option<u64>> {
        let t = self.t.source_records()?;
        let found = t.get(source.key(kind).as_slice())?.map(|v| v.value());
        Ok(found)
    }
}
