//! The owner app's binding of autocrm over UniFFI: Kotlin (Android) and Swift (iOS) call
//! [`OwnerApp`] on a database file on the phone. Every rule — the owner scope, masking, the
//! ledger, tiers, care reminders, the integration path, the audit trail — is core's
//! (`autocrm::api::ScopedStore`'s owner calls, core/src/api/owner.rs); this crate only converts
//! values into flat records and errors into [`OwnerError`] with core's stable code.
//!
//! Dates cross the boundary as ISO text (`2024-06-01`), times as `2024-06-01T10:00:00` (the
//! handle's clock, UTC+08:00 by default), money as fen (1/100 yuan).

use std::str::FromStr;
use std::sync::{Arc, RwLock};

use autocrm::access::Scope;
use autocrm::api::{ContactUpdate, ErrorKind, ErrorReport, ScopedStore, Store};
use autocrm::loyalty::Wallet;
use autocrm::touchpoint::TimelineCursor;
use autocrm::{ConsentChannel, CustomerId, Database, DateTime, DealerId, Named, Party};

mod demo;
mod sync;

pub use demo::{demo_file, DemoFile};
pub use sync::{OwnerReplica, ReplicaStatus, SyncRejection, SyncReport};

uniffi::setup_scaffolding!();

/// The actor the owner app's calls are audited as.
pub const ACTOR: &str = "owner_app";

/// The storage engine's page cache of an [`OwnerApp`], in bytes (8 MiB: an owner's file is
/// small, and a phone's memory is shared; redb's default is 1 GiB).
pub const CACHE_BYTES: usize = 8 << 20;

/// An error of an owner call: its family, core's stable `code` (docs/errors.md, e.g.
/// `access_denied`, `validation.phone_too_short`) and what went wrong (`reason`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum OwnerError {
    /// A value broke a validation rule (`validation.*`).
    Validation {
        /// Core's stable code.
        code: String,
        /// What was wrong and how to fix it.
        reason: String,
    },
    /// No such record (`not_found`): a dealer code, a customer.
    NotFound {
        /// Core's stable code.
        code: String,
        /// What was wrong.
        reason: String,
    },
    /// The owner scope may not do this (`access_denied`).
    AccessDenied {
        /// Core's stable code.
        code: String,
        /// What was refused.
        reason: String,
    },
    /// The customer id names no customer (`unknown_scope`).
    UnknownScope {
        /// Core's stable code.
        code: String,
        /// Why.
        reason: String,
    },
    /// A redemption larger than the wallet can spend (`insufficient_points`).
    InsufficientPoints {
        /// Core's stable code.
        code: String,
        /// Available and requested points.
        reason: String,
    },
    /// An idempotency key reused for another request (`idempotency_conflict`).
    IdempotencyConflict {
        /// Core's stable code.
        code: String,
        /// Which key.
        reason: String,
    },
    /// Not allowed in the current state (`invalid_operation.*`, e.g. the app was closed:
    /// `invalid_operation.database_closed`), or a documented size limit
    /// (`limit_exceeded.*`), or a duplicate key.
    InvalidOperation {
        /// Core's stable code.
        code: String,
        /// Why.
        reason: String,
    },
    /// The file cannot be used: open elsewhere (`already_open`), read-only, written by a
    /// newer release (`upgrade_required`), damaged (`corrupt`), or the storage failed.
    Storage {
        /// Core's stable code.
        code: String,
        /// Why.
        reason: String,
    },
    /// A bug in autocrm (`internal`), or an error family this binding does not know yet.
    Internal {
        /// Core's stable code.
        code: String,
        /// Why.
        reason: String,
    },
}

impl OwnerError {
    /// Core's stable code.
    pub fn code(&self) -> &str {
        match self {
            OwnerError::Validation { code, .. }
            | OwnerError::NotFound { code, .. }
            | OwnerError::AccessDenied { code, .. }
            | OwnerError::UnknownScope { code, .. }
            | OwnerError::InsufficientPoints { code, .. }
            | OwnerError::IdempotencyConflict { code, .. }
            | OwnerError::InvalidOperation { code, .. }
            | OwnerError::Storage { code, .. }
            | OwnerError::Internal { code, .. } => code,
        }
    }
}

impl std::fmt::Display for OwnerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (OwnerError::Validation { code, reason }
        | OwnerError::NotFound { code, reason }
        | OwnerError::AccessDenied { code, reason }
        | OwnerError::UnknownScope { code, reason }
        | OwnerError::InsufficientPoints { code, reason }
        | OwnerError::IdempotencyConflict { code, reason }
        | OwnerError::InvalidOperation { code, reason }
        | OwnerError::Storage { code, reason }
        | OwnerError::Internal { code, reason }) = self;
        write!(f, "{code}: {reason}")
    }
}

impl std::error::Error for OwnerError {}

impl From<autocrm::Error> for OwnerError {
    fn from(e: autocrm::Error) -> OwnerError {
        let r = ErrorReport::from(&e);
        let (code, reason) = (r.code, r.message);
        match r.kind {
            ErrorKind::Validation => OwnerError::Validation { code, reason },
            ErrorKind::NotFound => OwnerError::NotFound { code, reason },
            ErrorKind::AccessDenied => OwnerError::AccessDenied { code, reason },
            ErrorKind::UnknownScope => OwnerError::UnknownScope { code, reason },
            ErrorKind::InsufficientPoints => OwnerError::InsufficientPoints { code, reason },
            ErrorKind::IdempotencyConflict => OwnerError::IdempotencyConflict { code, reason },
            ErrorKind::InvalidOperation | ErrorKind::LimitExceeded | ErrorKind::DuplicateKey => {
                OwnerError::InvalidOperation { code, reason }
            }
            ErrorKind::AlreadyOpen
            | ErrorKind::ReadOnly
            | ErrorKind::UpgradeRequired
            | ErrorKind::Corrupt
            | ErrorKind::Storage
            | ErrorKind::Import => OwnerError::Storage { code, reason },
            _ => OwnerError::Internal { code, reason },
        }
    }
}

impl From<autocrm::ValidationError> for OwnerError {
    fn from(e: autocrm::ValidationError) -> OwnerError {
        autocrm::Error::from(e).into()
    }
}

type Result<T> = std::result::Result<T, OwnerError>;

/// The owner's profile as the owner scope shows it (the national ID masked).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Profile {
    /// The owner's customer id.
    pub customer_id: u64,
    /// `"person"` or `"organisation"`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Mobile phones, the primary first.
    pub phones: Vec<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Birth date (a person).
    pub birth_date: Option<String>,
    /// National ID or credit code, masked (`110***********1234`).
    pub national_id: Option<String>,
    /// The fields shown masked.
    pub masked: Vec<String>,
}

/// One of my vehicles, with my ownership period.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyVehicle {
    /// The vehicle's id.
    pub vehicle_id: u64,
    /// VIN.
    pub vin: String,
    /// Plate.
    pub plate: Option<String>,
    /// Brand.
    pub brand: String,
    /// Model.
    pub model: String,
    /// Purchase date.
    pub purchase_date: Option<String>,
    /// Warranty end.
    pub warranty_end: Option<String>,
    /// Insurance expiry.
    pub insurance_expiry: Option<String>,
    /// Next annual inspection.
    pub inspection_due: Option<String>,
    /// First day I owned it.
    pub owned_from: String,
    /// The day I sold it; `None` while I own it.
    pub owned_to: Option<String>,
}

/// One entry of my history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryItem {
    /// The touchpoint's id.
    pub touchpoint_id: u64,
    /// When (`2024-06-01T10:00:00`).
    pub at: String,
    /// What (`service_visit`, `purchase`…).
    pub kind: String,
    /// Through which channel (`showroom`, `app`…).
    pub channel: String,
    /// The dealer, if any.
    pub dealer_id: Option<u32>,
    /// Amount paid, in fen.
    pub amount_fen: Option<i64>,
    /// Odometer reading, km.
    pub mileage_km: Option<u32>,
}

/// Where a history page ends: pass it back for the next, older page.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryCursor {
    /// Time of the page's last entry.
    pub at: String,
    /// Its touchpoint id.
    pub touchpoint_id: u64,
}

/// A page of my history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryPage {
    /// The entries.
    pub items: Vec<HistoryItem>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<HistoryCursor>,
}

/// One change to my data (the change feed as the owner scope sees it): what a cached copy on
/// the phone must refresh.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyChange {
    /// The change id (pass the page's `next` to read on).
    pub id: u64,
    /// When it was committed (`2024-06-01T10:00:00`).
    pub at: String,
    /// Which kind of record (`customer`, `touchpoint`, `consents`, `posting`, `membership`…).
    pub entity: String,
    /// `insert`, `update` or `delete`.
    pub op: String,
    /// The record's id, when its key is one (a touchpoint: its id).
    pub record_id: Option<u64>,
}

/// A page of my changes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyChanges {
    /// The changes, oldest first.
    pub changes: Vec<MyChange>,
    /// Where the next page starts (pass it as `after`).
    pub next: u64,
    /// The latest change in the file: caught up when `next == last`.
    pub last: u64,
}

/// A lot whose points expire soon.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExpiringLot {
    /// The lot (its credit posting's id).
    pub lot_id: u64,
    /// Points still available in it.
    pub points: i64,
    /// The first day they are no longer valid.
    pub expires: String,
}

/// My points in one wallet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletPoints {
    /// `None`: the brand wallet; otherwise the dealer whose points these are.
    pub dealer_id: Option<u32>,
    /// Points held.
    pub points: i64,
    /// Points owed (after reversals), repaid from future credits.
    pub owed: i64,
    /// Points spendable today.
    pub spendable: i64,
    /// Lots expiring within the window asked for, earliest first.
    pub expiring: Vec<ExpiringLot>,
}

/// My tier and how far the next one is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TierInfo {
    /// The tier held (`normal`, `silver`, `gold`, `diamond`, `vip`).
    pub tier: String,
    /// The tier the window's value qualifies for today.
    pub qualified: String,
    /// Held only thanks to the downgrade grace period.
    pub by_grace: bool,
    /// The next tier, `None` at the top. The `missing_*` fields say what is missing for it
    /// over the tier window (meeting any one threshold qualifies; `None`: no such threshold).
    pub next_tier: Option<String>,
    /// Vehicles still to buy.
    pub missing_vehicles: Option<u32>,
    /// Service visits still to make.
    pub missing_service_visits: Option<u32>,
    /// Spend still to reach the total, fen.
    pub missing_total_spend_fen: Option<i64>,
    /// How much larger the largest ticket must be, fen.
    pub missing_single_ticket_fen: Option<i64>,
    /// Qualifying points still to earn.
    pub missing_points: Option<i64>,
}

/// What my tier is entitled to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyBenefits {
    /// Discount on labour, percent.
    pub labour_discount_pct: u8,
    /// Discount on parts, percent.
    pub parts_discount_pct: u8,
    /// Discount on roadside rescue, percent.
    pub rescue_discount_pct: u8,
    /// Priority booking and reception.
    pub priority: bool,
}

/// A reminder due for me.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    /// `first_service`, `maintenance`, `insurance_renewal`, `annual_inspection` or
    /// `warranty_expiry`.
    pub kind: String,
    /// When it is due.
    pub due: String,
    /// The vehicle, if any.
    pub vehicle_id: Option<u64>,
    /// The dealer responsible.
    pub dealer_id: Option<u32>,
    /// A short reason, e.g. `insurance expires 2024-06-30`.
    pub detail: String,
}

/// My consent for one channel today.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Consent {
    /// `phone`, `sms`, `email`, `wechat`, `app` or `mail`.
    pub channel: String,
    /// Whether marketing may use it.
    pub granted: bool,
}

/// New contact details; `None` keeps a value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactChange {
    /// Mobile phones (added to the stored ones by survivorship).
    pub phones: Option<Vec<String>>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Street address.
    pub address: Option<String>,
}

/// A friend I refer to a dealer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FriendReferral {
    /// The friend's name.
    pub name: String,
    /// The friend's mobile phone.
    pub phone: String,
    /// The dealer's code.
    pub dealer_code: String,
    /// The model the friend is interested in.
    pub model: String,
    /// A key generated on the phone: a retry with it creates nothing new.
    pub key: String,
}

/// The owner app's handle on its database file: every call is made as the owner
/// (`owner:<customer id>`) and audited as actor [`ACTOR`]. Share one between threads: the
/// handle locks inside (core's store serialises writers, readers run in parallel).
#[derive(uniffi::Object)]
pub struct OwnerApp {
    state: RwLock<Option<(Store, ScopedStore)>>,
}

impl OwnerApp {
    /// The owner app of owner `customer_id` on an open store (not exported to Kotlin or
    /// Swift: the benchmark rotates owners on one file with it). Closing it closes `store`.
    pub fn on_store(store: &Store, customer_id: u64) -> Result<OwnerApp> {
        let scoped = store.scoped(&Scope::Owner(CustomerId(customer_id)), ACTOR)?;
        Ok(OwnerApp {
            state: RwLock::new(Some((store.clone(), scoped))),
        })
    }

    fn store(&self) -> Result<Store> {
        let g = self.state.read().map_err(|_| closed())?;
        g.as_ref().map(|(s, _)| s.clone()).ok_or_else(closed)
    }

    fn scoped(&self) -> Result<ScopedStore> {
        let g = self.state.read().map_err(|_| closed())?;
        g.as_ref().map(|(_, s)| s.clone()).ok_or_else(closed)
    }

    /// Runs `f` on the owner's scoped store under [`autocrm::guard`]: a panic in core (a
    /// damaged page) comes back as `corrupt`, never a crashed app.
    fn with<T>(&self, f: impl FnOnce(&ScopedStore) -> autocrm::Result<T>) -> Result<T> {
        let s = self.scoped()?;
        Ok(autocrm::guard(|| f(&s))?)
    }
}

fn closed() -> OwnerError {
    autocrm::Error::refused(
        autocrm::Refusal::DatabaseClosed,
        "the owner app's database was closed",
    )
    .into()
}

fn date(d: autocrm::Date) -> String {
    d.to_string()
}

fn channel(name: &str) -> Result<ConsentChannel> {
    ConsentChannel::from_name(name).ok_or_else(|| {
        OwnerError::from(autocrm::ValidationError::new(
            "channel",
            autocrm::Rule::NotAllowed,
            name,
        ))
    })
}

fn time(field: &'static str, text: &str) -> Result<DateTime> {
    DateTime::from_str(text).map_err(|_| {
        OwnerError::from(autocrm::ValidationError::new(
            field,
            autocrm::Rule::DateImplausible,
            text,
        ))
    })
}

#[uniffi::export]
impl OwnerApp {
    /// Opens the database file at `path` (created if missing) as owner `customer_id`, with a
    /// page cache of [`CACHE_BYTES`].
    /// `unknown_scope` if no customer has that id; `already_open` if another process holds
    /// the file.
    #[uniffi::constructor]
    pub fn open(path: String, customer_id: u64) -> Result<Arc<OwnerApp>> {
        let db = Database::options().cache_bytes(CACHE_BYTES).open(&path)?;
        Ok(Arc::new(OwnerApp::on_store(&Store::new(db), customer_id)?))
    }

    /// Closes the file (the audit entries of reads go to it first). Later calls fail with
    /// `invalid_operation.database_closed`; closing again does nothing.
    pub fn close_file(&self) {
        let taken = self.state.write().ok().and_then(|mut g| g.take());
        if let Some((store, _)) = taken {
            store.close();
        }
    }

    /// My customer id (the live one: a merged id resolves to the survivor).
    pub fn customer_id(&self) -> Result<u64> {
        let s = self.scoped()?;
        Ok(s.access().owner().map_or(0, |c| c.0))
    }

    /// My profile, masked as the owner scope shows it.
    pub fn profile(&self) -> Result<Profile> {
        let p = self.with(|s| s.my_profile())?;
        let c = p.customer;
        let (kind, name, birth, nid) = match c.party {
            Party::Person(x) => ("person", x.name, x.birth_date.map(date), x.national_id),
            Party::Organisation(x) => ("organisation", x.name, None, x.credit_code),
        };
        Ok(Profile {
            customer_id: p.id.0,
            kind: kind.into(),
            name,
            phones: c.phones,
            province: c.province,
            city: c.city,
            address: c.address,
            birth_date: birth,
            national_id: nid,
            masked: p.masked.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// My vehicles, now owned or before, with warranty, insurance and inspection dates.
    pub fn vehicles(&self) -> Result<Vec<MyVehicle>> {
        let mut out = Vec::new();
        for o in self.with(|s| s.my_vehicles())? {
            for p in &o.ownership.0 {
                let v = &o.vehicle;
                out.push(MyVehicle {
                    vehicle_id: o.id.0,
                    vin: v.vin.clone(),
                    plate: v.plate.clone(),
                    brand: v.brand.clone(),
                    model: v.model.clone(),
                    purchase_date: v.purchase_date.map(date),
                    warranty_end: v.warranty_end.map(date),
                    insurance_expiry: v.insurance_expiry.map(date),
                    inspection_due: v.inspection_due.map(date),
                    owned_from: date(p.from),
                    owned_to: p.to.map(date),
                });
            }
        }
        Ok(out)
    }

    /// A page of my history (at most `limit` entries, newest first), older than `before`.
    pub fn history(&self, before: Option<HistoryCursor>, limit: u32) -> Result<HistoryPage> {
        let before = match before {
            Some(c) => Some(TimelineCursor {
                at: time("before.at", &c.at)?,
                id: autocrm::TouchpointId(c.touchpoint_id),
            }),
            None => None,
        };
        let page = self.with(|s| s.my_history(before, limit as usize))?;
        Ok(HistoryPage {
            items: page
                .items
                .into_iter()
                .map(|(id, t)| HistoryItem {
                    touchpoint_id: id.0,
                    at: t.at.to_string(),
                    kind: t.kind.name().into(),
                    channel: t.channel.name().into(),
                    dealer_id: t.dealer.map(|d| d.0),
                    amount_fen: t.amount.map(|m| m.fen()),
                    mileage_km: t.mileage_km,
                })
                .collect(),
            next: page.next.map(|c| HistoryCursor {
                at: c.at.to_string(),
                touchpoint_id: c.id.0,
            }),
        })
    }

    /// The changes to my data after change `after` (at most `limit` changes read, so a page
    /// may be short and not the last): what a cached copy must refresh.
    pub fn changes(&self, after: u64, limit: u32) -> Result<MyChanges> {
        let page = self.with(|s| s.changes_after(after, limit as usize))?;
        Ok(MyChanges {
            changes: page
                .changes
                .into_iter()
                .map(|c| MyChange {
                    id: c.id,
                    at: c.at.to_string(),
                    entity: c.entity.name().into(),
                    op: c.op.name().into(),
                    record_id: match c.key {
                        autocrm::feed::ChangeKey::Id(id) => Some(id),
                        autocrm::feed::ChangeKey::Touchpoint { id, .. } => Some(id),
                        _ => None,
                    },
                })
                .collect(),
            next: page.next,
            last: page.last,
        })
    }

    /// My points per wallet, with the lots expiring within `within_days` days.
    pub fn points(&self, within_days: u32) -> Result<Vec<WalletPoints>> {
        Ok(self
            .with(|s| s.my_points(within_days))?
            .into_iter()
            .map(|w| WalletPoints {
                dealer_id: match w.wallet {
                    Wallet::Brand => None,
                    Wallet::Dealer(d) => Some(d.0),
                },
                points: w.balance.points,
                owed: w.balance.owed,
                spendable: w.spendable,
                expiring: w
                    .expiring
                    .into_iter()
                    .map(|(id, l)| ExpiringLot {
                        lot_id: id,
                        points: l.remaining,
                        expires: date(l.expires),
                    })
                    .collect(),
            })
            .collect())
    }

    /// My tier and how far the next one is.
    pub fn tier(&self) -> Result<TierInfo> {
        let t = self.with(|s| s.my_tier())?;
        let next = t.next.as_ref();
        Ok(TierInfo {
            tier: t.status.tier.name().into(),
            qualified: t.status.qualified.name().into(),
            by_grace: t.status.by_grace,
            next_tier: next.map(|g| g.tier.name().into()),
            missing_vehicles: next.and_then(|g| g.vehicles),
            missing_service_visits: next.and_then(|g| g.service_visits),
            missing_total_spend_fen: next.and_then(|g| g.total_spend).map(|m| m.fen()),
            missing_single_ticket_fen: next.and_then(|g| g.single_ticket).map(|m| m.fen()),
            missing_points: next.and_then(|g| g.points),
        })
    }

    /// What my tier is entitled to today.
    pub fn benefits(&self) -> Result<MyBenefits> {
        let b = self.with(|s| s.my_benefits())?;
        Ok(MyBenefits {
            labour_discount_pct: b.labour_discount_pct,
            parts_discount_pct: b.parts_discount_pct,
            rescue_discount_pct: b.rescue_discount_pct,
            priority: b.priority,
        })
    }

    /// My reminders due from today for `days` days: service, insurance, inspection,
    /// warranty end.
    pub fn reminders(&self, days: u32) -> Result<Vec<Reminder>> {
        Ok(self
            .with(|s| s.my_reminders(days))?
            .into_iter()
            .map(|a| Reminder {
                kind: a.kind.name().into(),
                due: date(a.due),
                vehicle_id: a.vehicle.map(|v| v.0),
                dealer_id: a.dealer.map(|d| d.0),
                detail: a.detail,
            })
            .collect())
    }

    /// My consents today, one per channel.
    pub fn consents(&self) -> Result<Vec<Consent>> {
        Ok(self
            .with(|s| s.my_consents())?
            .into_iter()
            .map(|(ch, granted)| Consent {
                channel: ch.name().into(),
                granted,
            })
            .collect())
    }

    /// Grants or withdraws my consent for `channel` (`sms`, `app`…).
    pub fn set_consent(&self, channel_name: String, granted: bool) -> Result<()> {
        let ch = channel(&channel_name)?;
        self.with(|s| s.set_my_consent(ch, granted))
    }

    /// Changes my phones, province, city or address (source `app`: lineage and source
    /// priority apply).
    pub fn update_contact(&self, change: ContactChange) -> Result<()> {
        self.with(|s| {
            s.update_my_contact(&ContactUpdate {
                phones: change.phones,
                province: change.province,
                city: change.city,
                address: change.address,
            })
        })
    }

    /// Redeems `points` from the brand wallet (`dealer_id` `None`) or a dealer's, for `item`.
    /// `key` and `at` (`2024-06-01T10:00:00`) are generated on the phone when the owner
    /// confirms: a retry with both the same spends nothing more and returns the same posting
    /// id.
    pub fn redeem(
        &self,
        dealer_id: Option<u32>,
        points: i64,
        item: String,
        key: String,
        at: String,
    ) -> Result<u64> {
        let wallet = dealer_id.map_or(Wallet::Brand, |d| Wallet::Dealer(DealerId(d)));
        let at = time("at", &at)?;
        self.with(|s| s.redeem_mine(wallet, points, &item, &key, at))
    }

    /// Refers a friend to a dealer: returns the referral lead's id (the same for a retry with
    /// the same key).
    pub fn refer_friend(&self, referral: FriendReferral) -> Result<u64> {
        let r = autocrm::api::Referral {
            name: referral.name,
            phone: referral.phone,
            dealer: referral.dealer_code,
            model: referral.model,
            key: referral.key,
        };
        Ok(self.with(|s| s.refer_friend(&r))?.0)
    }

    /// Appends the audit entries of reads made so far to the file now (they are also
    /// appended by every write and on close).
    pub fn flush(&self) -> Result<()> {
        self.with(|s| s.flush_audit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error family core reports comes out as its variant, with core's code.
    #[test]
    fn every_core_error_maps_to_its_variant_with_its_code() {
        let cases: Vec<(autocrm::Error, &str, &str)> = vec![
            (
                autocrm::ValidationError::new("phone", autocrm::Rule::NotAllowed, "x").into(),
                "Validation",
                "validation.not_allowed",
            ),
            (
                autocrm::Error::NotFound {
                    entity: "dealer",
                    key: "NOPE".into(),
                },
                "NotFound",
                "not_found",
            ),
            (
                autocrm::Error::AccessDenied {
                    scope: "owner:1".into(),
                    permission: "export",
                    what: "export".into(),
                },
                "AccessDenied",
                "access_denied",
            ),
            (
                autocrm::Error::UnknownScope {
                    scope: "owner:9".into(),
                    why: "no customer".into(),
                },
                "UnknownScope",
                "unknown_scope",
            ),
            (
                autocrm::Error::InsufficientPoints {
                    customer: 1,
                    wallet: "brand wallet".into(),
                    available: 1,
                    requested: 2,
                },
                "InsufficientPoints",
                "insufficient_points",
            ),
            (
                autocrm::Error::IdempotencyConflict {
                    key: "k".into(),
                    existing: 1,
                },
                "IdempotencyConflict",
                "idempotency_conflict",
            ),
            (
                autocrm::Error::refused(autocrm::Refusal::DatabaseClosed, "closed"),
                "InvalidOperation",
                "invalid_operation.database_closed",
            ),
        ];
        for (e, variant, code) in cases {
            let o = OwnerError::from(e);
            assert_eq!(o.code(), code);
            assert!(format!("{o:?}").starts_with(variant), "{o:?}");
            assert!(o.to_string().starts_with(code));
        }
    }

    #[test]
    fn the_owner_app_works_in_rust_too() {
        let dir = std::env::temp_dir().join(format!("autocrm-mobile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("club.redb").to_string_lossy().into_owned();
        let demo = demo_file(path.clone()).unwrap();
        let app = OwnerApp::open(path.clone(), demo.owner_id).unwrap();
        assert_eq!(app.profile().unwrap().customer_id, demo.owner_id);
        let at = "2026-01-01T10:00:00".to_string();
        let first = app
            .redeem(None, 10, "wash".into(), "k".into(), at.clone())
            .unwrap();
        assert_eq!(
            app.redeem(None, 10, "wash".into(), "k".into(), at).unwrap(),
            first
        );
        assert_eq!(app.points(0).unwrap()[0].points, demo.owner_points - 10);
        app.close_file();
        assert_eq!(
            app.profile().unwrap_err().code(),
            "invalid_operation.database_closed"
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
