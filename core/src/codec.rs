//! Record encoding: the only module that knows about bincode.
//!
//! Every stored value is an envelope
//! `[model: u8][format version: u16 LE][bincode payload][CRC-32: u32 LE]`. The model byte catches
//! a value read from the wrong table; the version lets a later release decode every record an
//! earlier one wrote (old structs stay in the code with `From<old>` conversions) and lets this
//! release refuse a newer record with [`DecodeError::NewerVersion`] instead of misreading it; the
//! checksum (CRC-32/ISO-HDLC of every byte before it) catches a record damaged on disk, which the
//! storage engine does not verify on a plain read.
//!
//! Version 1 envelopes (every model before file format 2) end with the payload: no checksum.
//! From version 2 on, every envelope of every model ends with the checksum, and it is verified
//! *before* the version is looked at, so a damaged version field reads as
//! [`DecodeError::Checksum`] (corruption), never as a record from a newer release. A v2 record
//! whose version bytes were damaged into 1 decodes its checksum as payload and fails with
//! trailing bytes.
//!
//! bincode 2.0.1 is pinned exactly and unmaintained (RUSTSEC-2025-0141): keeping it behind
//! [`encode`] / [`decode`] means swapping it touches this file only.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bytes of the envelope before the payload.
pub const HEADER_LEN: usize = 3;

/// Bytes of the checksum that ends every envelope of version [`CHECKSUMMED_SINCE`] or later.
pub const CHECKSUM_LEN: usize = 4;

/// The first record version whose envelope ends with a checksum. Every model was at version 1
/// before checksums existed and is at 2 or later since; a model added later starts at 2.
pub const CHECKSUMMED_SINCE: u16 = 2;

/// Decoding refuses payloads claiming more than this many bytes for one allocation, so arbitrary
/// input can never make it allocate without bound.
const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// A kind of stored record. The discriminant is the model byte on disk: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ModelKind {
    /// A [`crate::Dealer`].
    Dealer = 1,
    /// A [`crate::Customer`].
    Customer = 2,
    /// A [`crate::Vehicle`].
    Vehicle = 3,
    /// A vehicle's ownership history.
    Ownership = 4,
    /// A [`crate::Touchpoint`].
    Touchpoint = 5,
    /// A [`crate::Lead`].
    Lead = 6,
    /// A [`crate::Complaint`].
    Complaint = 7,
    /// A [`crate::Survey`].
    Survey = 8,
    /// A customer's [`crate::Rollup`].
    Rollup = 9,
    /// A customer's club [`crate::loyalty::Membership`].
    Membership = 10,
    /// The [`crate::loyalty::LoyaltyConfig`].
    LoyaltyConfig = 11,
    /// A ledger [`crate::loyalty::Posting`].
    Posting = 12,
    /// A wallet's [`crate::loyalty::Balance`].
    Balance = 13,
    /// A points [`crate::loyalty::Lot`].
    Lot = 14,
    /// A customer's [`crate::loyalty::TierRecord`].
    TierRecord = 15,
    /// A customer's [`crate::consent::Consents`].
    Consents = 16,
    /// A saved segment's [`crate::segment::SegmentRecord`].
    Segment = 17,
    /// Materialised members of a segment on one date.
    SegmentMembers = 18,
    /// The registry of source systems and their priorities ([`crate::integration::SourceRegistry`]).
    SourceRegistry = 19,
    /// Where each field value of one customer or vehicle came from (a list of
    /// [`crate::integration::FieldLineage`]).
    FieldLineage = 20,
    /// An offered value that was not applied ([`crate::integration::Conflict`]).
    Conflict = 21,
    /// A rejected record in a dealer's feedback queue ([`crate::integration::FeedbackEntry`]).
    FeedbackEntry = 22,
    /// A merge of two customers ([`crate::identity::MergeRecord`]).
    MergeRecord = 23,
    /// An entry of the audit trail ([`crate::audit::AuditEntry`]).
    AuditEntry = 24,
    /// The HQ roles ([`crate::access::Roles`]).
    Roles = 25,
    /// An erasure in the register ([`crate::erasure::Erasure`]).
    Erasure = 26,
    /// The change feed's settings ([`crate::feed::Retention`] and whether it is on).
    FeedSettings = 27,
    /// Consecutive changes of one commit in the change feed ([`crate::feed::Change`]).
    ChangeChunk = 28,
    /// A batch of a replica's sync round trip ([`crate::sync::SyncBatch`]); never stored.
    SyncBatch = 29,
    /// A replica's sync state ([`crate::sync::ReplicaState`]), in `meta`.
    ReplicaState = 30,
}

impl ModelKind {
    /// The record kind's name, as errors show it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Dealer => "dealer",
            ModelKind::Customer => "customer",
            ModelKind::Vehicle => "vehicle",
            ModelKind::Ownership => "ownership history",
            ModelKind::Touchpoint => "touchpoint",
            ModelKind::Lead => "lead",
            ModelKind::Complaint => "complaint",
            ModelKind::Survey => "survey",
            ModelKind::Rollup => "rollup",
            ModelKind::Membership => "membership",
            ModelKind::LoyaltyConfig => "loyalty configuration",
            ModelKind::Posting => "posting",
            ModelKind::Balance => "balance",
            ModelKind::Lot => "lot",
            ModelKind::TierRecord => "tier record",
            ModelKind::Consents => "consents",
            ModelKind::Segment => "segment",
            ModelKind::SegmentMembers => "segment members",
            ModelKind::SourceRegistry => "source registry",
            ModelKind::FieldLineage => "field lineage",
            ModelKind::Conflict => "conflict",
            ModelKind::FeedbackEntry => "feedback entry",
            ModelKind::MergeRecord => "merge record",
            ModelKind::AuditEntry => "audit entry",
            ModelKind::Roles => "roles",
            ModelKind::Erasure => "erasure",
            ModelKind::FeedSettings => "change feed settings",
            ModelKind::ChangeChunk => "change chunk",
            ModelKind::SyncBatch => "sync batch",
            ModelKind::ReplicaState => "replica state",
        }
    }
}

/// A type stored through the codec: its model byte, current version, and how to read older
/// versions of it.
pub trait Model: Serialize + DeserializeOwned {
    /// The model byte.
    const KIND: ModelKind;
    /// The version this release writes.
    const VERSION: u16;
    /// Human name used in errors.
    const NAME: &'static str;

    /// Decodes a payload written with an older `version` (1 ≤ version < [`Model::VERSION`]);
    /// `payload` is the envelope without header and checksum.
    ///
    /// The default covers the one change every model went through: version 2 added the
    /// envelope's checksum and kept the payload, so a model at version 2 reads a version 1
    /// payload as its current struct. A model that changes its struct (version 3 on) must
    /// override this and convert each older struct.
    fn decode_older(version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        if version == 1 && Self::VERSION == CHECKSUMMED_SINCE {
            return decode_payload(payload);
        }
        Err(DecodeError::UnknownVersion { version })
    }
}

/// Why stored bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the envelope header.
    #[error("record is {len} bytes, shorter than its {HEADER_LEN}-byte header")]
    Truncated {
        /// Bytes found.
        len: usize,
    },
    /// The model byte names another kind of record.
    #[error("record has model byte {found}, expected {expected}")]
    WrongModel {
        /// Expected model byte.
        expected: u8,
        /// Model byte found.
        found: u8,
    },
    /// Written by a newer release.
    #[error("record version {found} is newer than the supported {supported}")]
    NewerVersion {
        /// Version found.
        found: u16,
        /// Newest version this build reads.
        supported: u16,
    },
    /// A version this build never wrote (0, or a gap).
    #[error("record version {version} is unknown")]
    UnknownVersion {
        /// Version found.
        version: u16,
    },
    /// The payload does not decode as the model.
    #[error("payload is malformed: {0}")]
    Malformed(String),
    /// The payload decoded but bytes were left over.
    #[error("{0} bytes left over after the record")]
    TrailingBytes(usize),
    /// The checksum at the end of the envelope does not match its bytes: the record was damaged
    /// after it was written.
    #[error("record checksum {stored:#010x} does not match its bytes ({computed:#010x})")]
    Checksum {
        /// The checksum stored at the end of the envelope.
        stored: u32,
        /// The checksum of the bytes before it.
        computed: u32,
    },
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD_BYTES>()
}

/// Encodes `value` in its envelope, checksum included.
pub fn encode<M: Model>(value: &M) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(M::KIND as u8);
    out.extend_from_slice(&M::VERSION.to_le_bytes());
    encode_payload_into(value, &mut out);
    let sum = crc32fast::hash(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Appends the bincode payload of `value` (no envelope) to `out`.
fn encode_payload_into<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    // Encoding into a Vec cannot fail for the plain data types stored here; a failure would be
    // a programming error (e.g. a serde attribute bincode does not support).
    bincode::serde::encode_into_std_write(value, out, config())
        .expect("stored models are plain data that bincode always encodes");
}

/// Decodes a bincode payload (no envelope), refusing trailing bytes.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    let (value, read) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if read != payload.len() {
        return Err(DecodeError::TrailingBytes(payload.len() - read));
    }
    Ok(value)
}

/// Decodes an envelope written by [`encode`] (by this or any earlier release).
pub fn decode<M: Model>(bytes: &[u8]) -> Result<M, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated { len: bytes.len() });
    }
    if bytes[0] != M::KIND as u8 {
        return Err(DecodeError::WrongModel {
            expected: M::KIND as u8,
            found: bytes[0],
        });
    }
    let version = u16::from_le_bytes([bytes[1], bytes[2]]);
    let payload = match version {
        0 | 1 => &bytes[HEADER_LEN..],
        _ => verified(bytes)?,
    };
    match version {
        v if v == M::VERSION => decode_payload(payload),
        v if v > M::VERSION => Err(DecodeError::NewerVersion {
            found: v,
            supported: M::VERSION,
        }),
        0 => Err(DecodeError::UnknownVersion { version: 0 }),
        v => M::decode_older(v, payload),
    }
}

/// The payload of a checksummed envelope, once its checksum matches.
fn verified(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(DecodeError::Truncated { len: bytes.len() });
    }
    let (body, tail) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(DecodeError::Checksum { stored, computed });
    }
    Ok(&body[HEADER_LEN..])
}

/// Decodes `bytes` as whatever model its first byte names, discarding the value: the entry point
/// of the decoder fuzz target and of file inspection. Never panics, whatever the input.
pub fn check_any(bytes: &[u8]) -> Result<ModelKind, DecodeError> {
    fn run<M: Model>(bytes: &[u8]) -> Result<ModelKind, DecodeError> {
        decode::<M>(bytes).map(|_| M::KIND)
    }
    match bytes.first().copied() {
        None => Err(DecodeError::Truncated { len: 0 }),
        Some(1) => run::<crate::Dealer>(bytes),
        Some(2) => run::<crate::Customer>(bytes),
        Some(3) => run::<crate::Vehicle>(bytes),
        Some(4) => run::<crate::vehicle::OwnershipHistory>(bytes),
        Some(5) => run::<crate::Touchpoint>(bytes),
        Some(6) => run::<crate::Lead>(bytes),
        Some(7) => run::<crate::Complaint>(bytes),
        Some(8) => run::<crate::Survey>(bytes),
        Some(9) => run::<crate::Rollup>(bytes),
        Some(10) => run::<crate::loyalty::Membership>(bytes),
        Some(11) => run::<crate::loyalty::LoyaltyConfig>(bytes),
        Some(12) => run::<crate::loyalty::Posting>(bytes),
        Some(13) => run::<crate::loyalty::Balance>(bytes),
        Some(14) => run::<crate::loyalty::Lot>(bytes),
        Some(15) => run::<crate::loyalty::TierRecord>(bytes),
        Some(16) => run::<crate::consent::Consents>(bytes),
        Some(17) => run::<crate::segment::SegmentRecord>(bytes),
        Some(18) => run::<crate::segment::Materialised>(bytes),
        Some(19) => run::<crate::integration::SourceRegistry>(bytes),
        Some(20) => run::<crate::integration::RecordLineage>(bytes),
        Some(21) => run::<crate::integration::Conflict>(bytes),
        Some(22) => run::<crate::integration::FeedbackEntry>(bytes),
        Some(23) => run::<crate::identity::MergeRecord>(bytes),
        Some(24) => run::<crate::audit::AuditEntry>(bytes),
        Some(25) => run::<crate::access::Roles>(bytes),
        Some(26) => run::<crate::erasure::Erasure>(bytes),
        Some(27) => run::<crate::feed::FeedSettings>(bytes),
        Some(28) => run::<crate::feed::ChangeChunk>(bytes),
        Some(29) => run::<crate::sync::SyncBatch>(bytes),
        Some(30) => run::<crate::sync::ReplicaState>(bytes),
        Some(found) => Err(DecodeError::WrongModel { expected: 0, found }),
    }
}

/// Turns a decode failure of a stored record into the public error: a newer version asks for an
/// upgrade, anything else reports corruption.
pub(crate) fn stored<M: Model>(result: Result<M, DecodeError>) -> crate::Result<M> {
    result.map_err(|e| match e {
        DecodeError::NewerVersion { found, supported } => crate::Error::UpgradeRequired {
            what: M::NAME,
            found,
            supported,
        },
        source => crate::Error::Corrupt {
            what: M::NAME,
            source: source.into(),
        },
    })
}

/// `model!(Type, Kind, "name")`: the stored-record identity of a type whose format is still
/// version [`CHECKSUMMED_SINCE`], written next to the type it describes.
macro_rules! model {
    ($t:ty, $kind:ident, $name:literal) => {
        impl $crate::codec::Model for $t {
            const KIND: $crate::codec::ModelKind = $crate::codec::ModelKind::$kind;
            const VERSION: u16 = $crate::codec::CHECKSUMMED_SINCE;
            const NAME: &'static str = $name;
        }
    };
}
pub(crate) use model;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dealer, DealerKind};

    fn dealer() -> Dealer {
        Dealer {
            code: "SH001".into(),
            name: "上海大众徐汇4S店".into(),
            region: "East".into(),
            province: "上海".into(),
            city: "上海".into(),
            kind: DealerKind::FourS,
        }
    }

    /// `bytes` with its checksum recomputed, as a newer release would have written them.
    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        let body = bytes.len() - CHECKSUM_LEN;
        let sum = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&sum.to_le_bytes());
        bytes
    }

    /// The version 1 envelope of `value`: what format 1 wrote (no checksum).
    fn v1(value: &Dealer) -> Vec<u8> {
        let mut out = vec![ModelKind::Dealer as u8, 1, 0];
        encode_payload_into(value, &mut out);
        out
    }

    #[test]
    fn round_trips_with_envelope_and_checksum() {
        let bytes = encode(&dealer());
        assert_eq!(bytes[0], ModelKind::Dealer as u8);
        assert_eq!(u16::from_le_bytes([bytes[1], bytes[2]]), 2);
        let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        assert_eq!(sum, crc32fast::hash(body).to_le_bytes());
        assert_eq!(
            &body[HEADER_LEN..],
            &v1(&dealer())[HEADER_LEN..],
            "same payload"
        );
        assert_eq!(decode::<Dealer>(&bytes).unwrap(), dealer());
    }

    #[test]
    fn version_1_records_without_checksum_still_decode() {
        assert_eq!(decode::<Dealer>(&v1(&dealer())).unwrap(), dealer());
        let mut trailing = v1(&dealer());
        trailing.push(0);
        assert_eq!(
            decode::<Dealer>(&trailing),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn every_damaged_bit_is_corruption_never_a_newer_version() {
        let bytes = encode(&dealer());
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut m = bytes.clone();
                m[i] ^= 1 << bit;
                let err = stored(decode::<Dealer>(&m)).expect_err("a flipped bit is detected");
                assert_eq!(err.code(), "corrupt", "byte {i} bit {bit}: {err}");
            }
        }
        // The reported case: version 2 damaged into 32770 is a checksum failure.
        let mut m = bytes.clone();
        m[2] ^= 0x80;
        assert!(matches!(
            decode::<Dealer>(&m),
            Err(DecodeError::Checksum { .. })
        ));
        // Damaged into version 1, the checksum is read as payload: trailing bytes.
        let mut m = bytes.clone();
        m[1] = 1;
        assert_eq!(
            decode::<Dealer>(&m),
            Err(DecodeError::TrailingBytes(CHECKSUM_LEN))
        );
    }

    #[test]
    fn refuses_newer_versions_wrong_models_and_garbage() {
        let mut bytes = encode(&dealer());
        bytes[1] = 9;
        let bytes = resealed(bytes);
        assert_eq!(
            decode::<Dealer>(&bytes),
            Err(DecodeError::NewerVersion {
                found: 9,
                supported: 2
            })
        );
        assert!(matches!(
            stored(decode::<Dealer>(&bytes)),
            Err(crate::Error::UpgradeRequired {
                what: "dealer",
                found: 9,
                supported: 2
            })
        ));
        let mut bytes = encode(&dealer());
        bytes[0] = ModelKind::Vehicle as u8;
        assert!(matches!(
            decode::<Dealer>(&bytes),
            Err(DecodeError::WrongModel { .. })
        ));
        assert!(matches!(
            decode::<Dealer>(&[2]),
            Err(DecodeError::Truncated { len: 1 })
        ));
        assert!(matches!(
            decode::<Dealer>(&[1, 2, 0, 0]),
            Err(DecodeError::Truncated { len: 4 })
        ));
        let mut bytes = encode(&dealer());
        bytes.push(0);
        assert!(matches!(
            decode::<Dealer>(&bytes),
            Err(DecodeError::Checksum { .. })
        ));
        let mut bytes = encode(&dealer());
        bytes.insert(bytes.len() - CHECKSUM_LEN, 0);
        let bytes = resealed(bytes);
        assert_eq!(decode::<Dealer>(&bytes), Err(DecodeError::TrailingBytes(1)));
        let bytes = encode(&dealer());
        assert!(decode::<Dealer>(&bytes[..bytes.len() - 2]).is_err());
        assert!(matches!(
            decode::<Dealer>(&[1, 0, 0]),
            Err(DecodeError::UnknownVersion { version: 0 })
        ));
    }

    #[test]
    fn huge_length_prefixes_do_not_allocate() {
        // A string length of u64::MAX in bincode varint form must fail, not abort.
        let mut bytes = vec![ModelKind::Dealer as u8, 1, 0, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode::<Dealer>(&bytes).is_err());
    }
}
