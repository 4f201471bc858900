//! Stable integer identifiers of stored records.
//!
//! Ids are assigned by the store in increasing order, never reused, and never change: a merged or
//! deleted record's id stays dead. Natural keys (national ID, VIN, plate...) are unique indexes
//! that point at these ids.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($int:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub $int);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> $int {
                self.0
            }
        }

        impl From<$name> for $int {
            fn from(id: $name) -> $int {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(/// A dealer (4S shop or service station).
    DealerId(u32), "D");
id_type!(/// A customer: person or organisation.
    CustomerId(u64), "C");
id_type!(/// A vehicle.
    VehicleId(u64), "V");
id_type!(/// A touchpoint (contact record).
    TouchpointId(u64), "T");
id_type!(/// A lead (A-card prospect record).
    LeadId(u64), "L");
id_type!(/// A complaint.
    ComplaintId(u64), "K");
id_type!(/// A satisfaction survey.
    SurveyId(u64), "S");
id_type!(/// A conflict: an offered value that survivorship did not apply, kept for review.
    ConflictId(u64), "X");
id_type!(/// An entry of a dealer's feedback queue (a rejected record).
    FeedbackId(u64), "F");
