//! The binding-neutral layer every front end calls: Python, Node, the mobile (UniFFI) binding
//! and the CLI. It holds what each of them would otherwise write again — a shareable handle with
//! a writer guard and read sessions that build the analytics snapshot once ([`Store`],
//! [`WriteSession`], [`ReadSession`]), flat records and the checks their shape needs
//! ([`CustomerRecord`], [`VehicleRecord`], [`lead_status`]), and one report shape for every
//! error ([`ErrorReport`]). A binding converts its values into these, calls, and maps the
//! report to its own exception or error class; no rule lives in a binding.

// The owner club's calls (owner app): `impl ScopedStore` blocks for an owner scope.
mod owner;
mod records;
// Replicas (push / serve / pull) with batches as bytes.
mod replica;
mod report;
mod scoped;
// Segments, KPIs and care actions under a scope.
mod scoped_analytics;
// Imports, conflicts, duplicates, merges, feedback queues and the quality report under a scope.
mod scoped_data;
mod scoped_feed;
// Scoped Arrow exports: `impl ScopedStore` blocks beside the export builders they reuse.
#[cfg(feature = "arrow")]
mod scoped_export;
// Per-customer visibility over many rows, shared by scoped exports and stewardship lists.
mod seen;
mod session;

pub use owner::{
    OwnerProfile, OwnerTier, OwnerWallet, Referral, TierGap, MAX_OWNER_WINDOW_DAYS,
    MAX_REFERRAL_KEY_CHARS, OWNER_REMINDER_KINDS,
};
pub use records::{lead_status, CustomerRecord, PartyKind, VehicleRecord};
pub use report::{Detail, ErrorKind, ErrorReport};
pub use scoped::{ContactUpdate, ScopedStore, AUDIT_BATCH, MAX_PURPOSE_CHARS, OWNER_APP_SOURCE};
pub use session::{ReadSession, Store, WriteSession};
