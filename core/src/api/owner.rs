//! The owner club's calls (the owner app, `bindings/mobile`): [`ScopedStore`] methods that
//! read and change *my* data — the owner of an owner scope ([`crate::access::Scope::Owner`]).
//! Any other scope gets `access_denied` (permission `read_customers`, or the permission the
//! call needs), exactly as [`ScopedStore::update_my_contact`] refuses it.
//!
//! Each call applies rules that live elsewhere in core — masking ([`crate::access::Sight`]),
//! the ledger ([`crate::loyalty`]), tiers, care actions ([`crate::care`]), the integration path
//! — and is audited like every scoped call: reads are queued (`View`, `Timeline`), writes are
//! appended in their own transaction. Every write carries a key the phone generated (the
//! redemption's idempotency key, the referral's key) or is recorded with its source record
//! (`app`), so a later sync with HQ can replay the phone's changes by key.

use std::collections::HashMap;

use crate::access::Permission;
use crate::analytics::{CustomerFacts, VehicleFact};
use crate::audit::AuditAction;
use crate::care::{CareAction, CareKind, CareParams};
use crate::consent::ConsentChannel;
use crate::customer::{Customer, RelationKind};
use crate::date::{Date, DateTime};
use crate::error::{Error, Result, Rule, ValidationError};
use crate::ids::{CustomerId, LeadId, VehicleId};
use crate::integration::Received;
use crate::lead::{Intent, Lead, LeadSource, LeadStatus, PurchaseType};
use crate::loyalty::{Balance, Benefits, Lot, Redemption, Tier, TierRule, TierStatus, Wallet};
use crate::money::Money;
use crate::source::SourceRef;
use crate::store::ReadTxn;
use crate::touchpoint::{TimelineCursor, TimelinePage};
use crate::vehicle::OwnedVehicle;

use super::scoped::{ScopedStore, OWNER_APP_SOURCE};

/// Longest window, in days, of [`ScopedStore::my_reminders`] and of the lots expiring soon
/// in [`ScopedStore::my_points`] (ten years).
pub const MAX_OWNER_WINDOW_DAYS: u32 = 3_660;

/// Longest key a phone gives a referral ([`Referral::key`]), in characters.
pub const MAX_REFERRAL_KEY_CHARS: usize = 64;

/// The owner's profile, masked as the owner scope sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerProfile {
    /// The owner's live customer id.
    pub id: CustomerId,
    /// The profile (national ID / credit code masked).
    pub customer: Customer,
    /// The fields shown masked.
    pub masked: Vec<&'static str>,
}

/// One wallet of the owner: its balance, what can be spent today, and the lots that expire
/// within the window asked for (earliest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerWallet {
    /// Brand or a dealer's wallet.
    pub wallet: Wallet,
    /// The balance (points held, points owed).
    pub balance: Balance,
    /// Points spendable today ([`ReadTxn::spendable`]).
    pub spendable: i64,
    /// Lots with points remaining that expire within the window: (lot id, lot).
    pub expiring: Vec<(u64, Lot)>,
}

/// The owner's tier and how far the next one is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerTier {
    /// The tier status as of today ([`ReadTxn::tier_status`]).
    pub status: TierStatus,
    /// The next tier up that the club configures, and what is missing to qualify for it;
    /// `None` at the top.
    pub next: Option<TierGap>,
}

/// What is missing to qualify for `tier` over the tier window: for each threshold of its rule,
/// how much more is needed (0: met; meeting any one threshold qualifies). `None`: the rule
/// sets no such threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierGap {
    /// The next tier.
    pub tier: Tier,
    /// Vehicles still to buy.
    pub vehicles: Option<u32>,
    /// Service visits still to make.
    pub service_visits: Option<u32>,
    /// Spend still to reach the total.
    pub total_spend: Option<Money>,
    /// How much larger the largest single ticket must be.
    pub single_ticket: Option<Money>,
    /// Qualifying points still to earn.
    pub points: Option<i64>,
}

/// A friend the owner refers to a dealer ([`ScopedStore::refer_friend`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    /// The friend's name.
    pub name: String,
    /// The friend's mobile phone.
    pub phone: String,
    /// The dealer (by dealer code) the lead goes to.
    pub dealer: String,
    /// The model the friend is interested in.
    pub model: String,
    /// A key the phone generates for this referral: a retry with the same key creates
    /// nothing new (at most [`MAX_REFERRAL_KEY_CHARS`] characters).
    pub key: String,
}

/// The care kinds an owner's reminders list: service by time or mileage, insurance,
/// inspection, warranty end.
pub const OWNER_REMINDER_KINDS: &[CareKind] = &[
    CareKind::FirstService,
    CareKind::Maintenance,
    CareKind::InsuranceRenewal,
    CareKind::AnnualInspection,
    CareKind::WarrantyExpiry,
];

impl ScopedStore {
    /// The owner of this owner scope if it holds `permission`, else `access_denied` for `what`
    /// (naming `permission`).
    fn me(&self, permission: Permission, what: &str) -> Result<CustomerId> {
        let me = self.access().owner().ok_or_else(|| {
            self.access()
                .denied(permission, format!("{what} (only an owner scope may)"))
        })?;
        self.access().require(permission, || what.to_string())?;
        Ok(me)
    }

    /// The owner, for a read (`read_customers`), and today on the handle's clock.
    fn me_today(&self, what: &str) -> Result<(CustomerId, Date)> {
        let me = self.me(Permission::ReadCustomers, what)?;
        Ok((me, self.store.database()?.now().date()))
    }

    /// My profile, masked as the owner scope shows it (the national ID masked).
    pub fn my_profile(&self) -> Result<OwnerProfile> {
        let (me, _) = self.me_today("read my profile")?;
        self.read(AuditAction::View, "my_profile", |r, a| {
            let live = r.resolve_customer(me)?;
            let (customer, masked) = a.sight().customer(&r.customer(live)?);
            let p = OwnerProfile {
                id: live,
                customer,
                masked,
            };
            Ok((p, vec![live]))
        })
    }

    /// My vehicles, now owned or before, each with my own ownership periods only (warranty
    /// end, insurance expiry and inspection due are the vehicle's fields).
    pub fn my_vehicles(&self) -> Result<Vec<OwnedVehicle>> {
        let (me, _) = self.me_today("read my vehicles")?;
        self.read(AuditAction::View, "my_vehicles", |r, _| {
            let live = r.resolve_customer(me)?;
            let mut vs = r.vehicles_of(live)?;
            for v in &mut vs {
                v.ownership.0.retain(|p| p.customer == live);
            }
            Ok((vs, vec![live]))
        })
    }

    /// A page of my service history: my timeline, newest first, strictly older than
    /// `before` ([`ScopedStore::timeline`]).
    pub fn my_history(&self, before: Option<TimelineCursor>, limit: usize) -> Result<TimelinePage> {
        let (me, _) = self.me_today("read my history")?;
        self.timeline(me, before, limit)
    }

    /// My points per wallet, with the lots that expire within `within_days` days of today
    /// (at most [`MAX_OWNER_WINDOW_DAYS`]).
    pub fn my_points(&self, within_days: u32) -> Result<Vec<OwnerWallet>> {
        let (me, today) = self.me_today("read my points")?;
        let until = today.add_days(window("within_days", within_days)?);
        self.read(AuditAction::View, "my_points", |r, _| {
            let live = r.resolve_customer(me)?;
            let mut out = Vec::new();
            for (wallet, balance) in r.wallets_of(live)? {
                let mut expiring: Vec<(u64, Lot)> = r
                    .lots_of(live, wallet)?
                    .into_iter()
                    .filter(|(_, l)| l.remaining > 0 && l.expires > today && l.expires <= until)
                    .collect();
                expiring.sort_by_key(|(id, l)| (l.expires, *id));
                out.push(OwnerWallet {
                    wallet,
                    balance,
                    spendable: r.spendable(live, wallet, today)?,
                    expiring,
                });
            }
            Ok((out, vec![live]))
        })
    }

    /// My tier as of today and how far the next tier is.
    pub fn my_tier(&self) -> Result<OwnerTier> {
        let (me, today) = self.me_today("read my tier")?;
        self.read(AuditAction::View, "my_tier", |r, _| {
            let live = r.resolve_customer(me)?;
            let status = r.tier_status(live, today)?;
            let config = r.loyalty_config()?.unwrap_or_default();
            let next = config
                .tiers
                .iter()
                .filter(|rule| rule.tier > status.tier)
                .min_by_key(|rule| rule.tier)
                .map(|rule| tier_gap(rule, &status));
            Ok((OwnerTier { status, next }, vec![live]))
        })
    }

    /// The benefits of my tier today.
    pub fn my_benefits(&self) -> Result<Benefits> {
        let (me, today) = self.me_today("read my benefits")?;
        self.read(AuditAction::View, "my_benefits", |r, _| {
            let live = r.resolve_customer(me)?;
            Ok((r.benefits(live, today)?, vec![live]))
        })
    }

    /// My reminders: the care actions ([`crate::care`], default parameters) of the kinds in
    /// [`OWNER_REMINDER_KINDS`] due for me from today for `days` days (at most
    /// [`MAX_OWNER_WINDOW_DAYS`]), by due date. The insurance renewal is a marketing action
    /// in core's rules: it is listed only while I consent to one of its channels.
    pub fn my_reminders(&self, days: u32) -> Result<Vec<CareAction>> {
        let (me, today) = self.me_today("read my reminders")?;
        let to = today.add_days(window("days", days)?);
        self.read(AuditAction::View, "my_reminders", |r, _| {
            let live = r.resolve_customer(me)?;
            let (facts, first_owned) = customer_facts(r, live)?;
            let mut actions = crate::care::customer_due_actions(
                &facts,
                &first_owned,
                today,
                to,
                None,
                &CareParams::default(),
            );
            actions.retain(|a| OWNER_REMINDER_KINDS.contains(&a.kind));
            Ok((actions, vec![live]))
        })
    }

    /// My consents today: every channel with whether marketing may use it.
    pub fn my_consents(&self) -> Result<Vec<(ConsentChannel, bool)>> {
        let (me, today) = self.me_today("read my consents")?;
        self.read(AuditAction::View, "my_consents", |r, _| {
            let live = r.resolve_customer(me)?;
            let c = r.consents(live)?;
            let all = ConsentChannel::ALL
                .iter()
                .map(|&ch| (ch, c.allows(ch, today)))
                .collect();
            Ok((all, vec![live]))
        })
    }

    /// Grants or withdraws my consent for `channel` ([`ScopedStore::record_consent`]).
    pub fn set_my_consent(&self, channel: ConsentChannel, granted: bool) -> Result<()> {
        let me = self.me(Permission::WriteConsents, "record my consent")?;
        self.record_consent(me, channel, granted)
    }

    /// Redeems my points ([`ScopedStore::redeem`]): `key` and `at` come from the phone, so a
    /// retried call (a lost connection, a crash before the answer) with the same key and time
    /// returns the first redemption's posting and spends nothing more; the same key for
    /// another request is `idempotency_conflict`.
    pub fn redeem_mine(
        &self,
        wallet: Wallet,
        points: i64,
        item: &str,
        key: &str,
        at: DateTime,
    ) -> Result<u64> {
        let me = self.me(Permission::Redeem, "redeem my points")?;
        self.redeem(&Redemption {
            customer: me,
            wallet,
            points,
            at,
            dealer: None,
            item: item.to_string(),
            key: key.to_string(),
        })
    }

    /// Refers a friend to a dealer: the friend goes in through the integration path as a
    /// prospect from source system [`OWNER_APP_SOURCE`] (record `referral/<me>/<key>`, so
    /// matching, lineage and source priority apply as to any source), related to me as
    /// referred by me, with a new `referral` lead for the model at that dealer. Needs `refer`
    /// (owners hold it). A retry with the same key returns the same lead and creates nothing.
    /// An unknown dealer code is `not_found`; referring myself is refused.
    pub fn refer_friend(&self, referral: &Referral) -> Result<LeadId> {
        let me = self.me(Permission::Refer, "refer a friend")?;
        let key = crate::validate::optional_text("key", &referral.key, MAX_REFERRAL_KEY_CHARS)?
            .ok_or_else(|| ValidationError::new("key", Rule::Required, &referral.key))?;
        let db = self.store.database()?;
        let (me, dealer) = {
            let r = db.begin_read()?;
            let dealer = r
                .dealer_by_code(&referral.dealer)?
                .ok_or_else(|| Error::not_found("dealer", referral.dealer.trim()))?;
            (r.resolve_customer(me)?, dealer)
        };
        let source = SourceRef {
            system: OWNER_APP_SOURCE.into(),
            record_id: format!("referral/{}/{key}", me.0),
        };
        let mut friend = Customer::person(referral.name.clone());
        friend.phones = vec![referral.phone.clone()];
        let from = Received {
            source: source.clone(),
            dealer: None,
            at: db.now(),
        };
        self.write_audited(|w| {
            let id = w.upsert_customer(&friend, None, &from)?.id;
            w.relate(id, RelationKind::ReferredBy, me)?;
            let lead = Lead {
                customer: id,
                origin: LeadSource::Referral,
                model: referral.model.clone(),
                intent: Intent::C,
                purchase_type: PurchaseType::First,
                dealer: Some(dealer),
                received: from.at,
                status: LeadStatus::New,
                status_at: None,
                source: Some(source.clone()),
            };
            let lead = w.insert_lead(&lead)?;
            let entry = self.entry(w.now(), AuditAction::Write, "refer_friend", vec![me, id]);
            Ok((lead, Some(entry)))
        })
    }
}

/// `days` as a window length, at most [`MAX_OWNER_WINDOW_DAYS`] (`validation.out_of_range`).
fn window(field: &'static str, days: u32) -> Result<i32> {
    if days > MAX_OWNER_WINDOW_DAYS {
        return Err(ValidationError::new(field, Rule::OutOfRange, days.to_string()).into());
    }
    Ok(days as i32)
}

/// What `status` misses of `rule`'s thresholds.
fn tier_gap(rule: &TierRule, status: &TierStatus) -> TierGap {
    let v = &status.value;
    TierGap {
        tier: rule.tier,
        vehicles: rule.min_vehicles.map(|m| m.saturating_sub(v.vehicles)),
        service_visits: rule
            .min_service_visits
            .map(|m| m.saturating_sub(v.service_visits)),
        total_spend: rule
            .min_total_spend
            .map(|m| Money((m.0 - v.total_spend.0).max(0))),
        single_ticket: rule
            .min_single_ticket
            .map(|m| Money((m.0 - v.single_ticket.0).max(0))),
        points: rule.min_qualifying_points.map(|m| (m - v.points).max(0)),
    }
}

/// One customer's facts read by key (what [`ReadTxn::facts`] holds for it, without scanning
/// every customer) and the first day anyone owned each of its vehicles.
fn customer_facts(
    r: &ReadTxn,
    id: CustomerId,
) -> Result<(CustomerFacts, HashMap<VehicleId, Date>)> {
    let customer = r.customer(id)?;
    let valid_info = match r.erasure(id)? {
        Some(e) => e.had_valid_info,
        None => customer.missing_basic_fields().is_empty(),
    };
    let mut first_owned = HashMap::new();
    let mut vehicles = Vec::new();
    for o in r.vehicles_of(id)? {
        if let Some(first) = o.ownership.0.iter().map(|p| p.from).min() {
            first_owned.insert(o.id, first);
        }
        let periods: Vec<_> = o
            .ownership
            .0
            .iter()
            .filter(|p| p.customer == id)
            .map(|p| (p.from, p.to))
            .collect();
        if !periods.is_empty() {
            vehicles.push(VehicleFact {
                id: o.id,
                vehicle: o.vehicle,
                periods,
            });
        }
    }
    let facts = CustomerFacts {
        id,
        valid_info,
        customer,
        rollup: r.rollup(id)?,
        vehicles,
        leads: r.leads_of(id)?,
        complaints: r.complaints_of(id)?,
        surveys: r.surveys_of(id)?,
        consents: r.consents(id)?,
        membership: r.membership(id)?,
        tiers: r.tier_history(id)?,
        balances: r.wallets_of(id)?,
    };
    Ok((facts, first_owned))
}
