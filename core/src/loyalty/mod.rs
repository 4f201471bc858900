//! The loyalty club: one card for the brand club and the dealer clubs, points in two scopes,
//! lots with expiry, redemption, reversals, tiers and settlement between dealers
//! (DOMAIN.md §6).
//!
//! # The ledger is money-like
//!
//! Points are integers, never fractions. Every change to a wallet is a [`Posting`]: append-only,
//! carrying an idempotency key (the same key with the same request returns the existing posting;
//! with a different request it is an [`crate::Error::IdempotencyConflict`]) and the touchpoint,
//! operator or expiry run that caused it. For every wallet, always:
//!
//! - balance = the sum of its postings' `points`;
//! - balance = the sum of its live lots' remaining points;
//! - balance ≥ 0.
//!
//! [`crate::ReadTxn::verify_ledger`] checks all three for every wallet.
//!
//! # Lots and expiry
//!
//! Every credit (an earning or a positive adjustment) is a [`Lot`] expiring a configured number
//! of days after it was earned. A lot expiring on day E can be spent on days before E; an expiry
//! run as of D expires every lot with E ≤ D, once (a second run finds nothing left). Debits
//! (redemptions, negative adjustments) spend the earliest-expiring spendable lots first.
//!
//! # Reversal of an earning (refund)
//!
//! Reversing an earning takes back the points the customer still has from it and what they
//! already enjoyed from it, never more:
//!
//! 1. the unspent remainder of the earning's lot is removed;
//! 2. the part of the lot that expired is not taken back (the customer never had the use of it);
//! 3. the part that was spent is taken from the wallet's other lots, earliest-expiring first;
//! 4. what the wallet cannot cover is **owed**: the reversal posting records it as its
//!    `shortfall`, the wallet's [`Balance::owed`] grows by it, and the balance stays at zero,
//!    never negative. Later earnings in that wallet repay what is owed first, each with a
//!    `Recover` posting in the same transaction as the earning.
//!
//! An earning is reversed at most once.

mod config;
mod ledger;
mod settlement;
mod tier;

pub use config::{AmountField, Benefits, EarnBasis, EarnRule, LoyaltyConfig, TierRule, WalletRule};
pub use ledger::{
    Adjustment, Balance, Cause, ExpiryReport, LedgerCheck, Lot, Posting, PostingKind, Redemption,
    Reversal,
};
pub use settlement::SettlementLine;
pub use tier::{qualified_tier, Floor, QualifyingValue, TierChange, TierRecord, TierStatus};
pub use tier::{MAX_OPERATOR_CHARS, MAX_REASON_CHARS, MAX_TIER_FLOORS};

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::codec::{Model, ModelKind};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::ids::{CustomerId, DealerId};
use crate::store::tables::CUSTOMERS;
use crate::store::ReadView;
use crate::store::{get_record, ReadTxn, Tx, WriteTxn};

/// Where points are valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Wallet {
    /// Brand points: valid across the whole network.
    Brand,
    /// Dealer points: valid only at the dealer that issued them.
    Dealer(DealerId),
}

impl Wallet {
    /// The wallet's number in keys: 0 for the brand wallet, dealer id + 1 for a dealer's.
    pub(crate) fn code(self) -> u64 {
        match self {
            Wallet::Brand => 0,
            Wallet::Dealer(d) => u64::from(d.0) + 1,
        }
    }

    pub(crate) fn from_code(code: u64) -> Wallet {
        match code {
            0 => Wallet::Brand,
            n => Wallet::Dealer(DealerId((n - 1) as u32)),
        }
    }
}

impl std::fmt::Display for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wallet::Brand => f.write_str("brand wallet"),
            Wallet::Dealer(d) => write!(f, "dealer wallet of {d}"),
        }
    }
}

/// Membership tiers, lowest first. Diamond and VIP are optional HQ tiers: a configuration
/// without rules for them never grants them.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Tier {
    /// 普通会员.
    #[default]
    Normal,
    /// 银卡会员.
    Silver,
    /// 金卡会员.
    Gold,
    /// Diamond (HQ).
    Diamond,
    /// VIP (HQ).
    Vip,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 5] = [
        Tier::Normal,
        Tier::Silver,
        Tier::Gold,
        Tier::Diamond,
        Tier::Vip,
    ];

    /// The tier's stable name, e.g. `"gold"`.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Normal => "normal",
            Tier::Silver => "silver",
            Tier::Gold => "gold",
            Tier::Diamond => "diamond",
            Tier::Vip => "vip",
        }
    }
}

/// A customer's club membership: one card, the brand club, and any dealer clubs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Joined the brand club on.
    pub enrolled: Date,
    /// How the customer joined, e.g. `"dealer"`, `"owner_app"`, `"call_centre"`.
    pub source: String,
    /// Dealer clubs joined, with the date, in joining order.
    pub dealer_clubs: Vec<(DealerId, Date)>,
}

impl Membership {
    /// Whether the customer was a brand club member on `on`.
    pub fn brand_member_on(&self, on: Date) -> bool {
        self.enrolled <= on
    }

    /// Whether the customer was a member of `dealer`'s club on `on`.
    pub fn dealer_member_on(&self, dealer: DealerId, on: Date) -> bool {
        self.dealer_clubs
            .iter()
            .any(|&(d, joined)| d == dealer && joined <= on)
    }

    /// Whether points of `wallet` can be earned on `on`.
    pub fn can_earn(&self, wallet: Wallet, on: Date) -> bool {
        match wallet {
            Wallet::Brand => self.brand_member_on(on),
            Wallet::Dealer(d) => self.dealer_member_on(d, on),
        }
    }
}

impl Model for Membership {
    const KIND: ModelKind = ModelKind::Membership;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "membership";
}

fn check_source(source: &str) -> Result<String> {
    let s = source.trim();
    if s.is_empty() {
        return Err(crate::ValidationError::new("source", crate::Rule::Required, s).into());
    }
    Ok(s.to_string())
}

impl Tx<'_> {
    /// Enrols a customer in the brand club on `on` (`source` says how, e.g. `"owner_app"`).
    /// Enrolling a member again changes nothing and returns their membership.
    pub fn join_brand_club(
        &mut self,
        customer: CustomerId,
        on: Date,
        source: &str,
    ) -> Result<Membership> {
        crate::validate::plausible_date("on", on)?;
        let source = check_source(source)?;
        self.require(CUSTOMERS, "customer", customer.0)?;
        if let Some(m) = self.membership(customer)? {
            return Ok(m);
        }
        let m = Membership {
            enrolled: on,
            source,
            dealer_clubs: Vec::new(),
        };
        self.writing(|tx| tx.put_membership(customer, &m))?;
        Ok(m)
    }

    /// Enrols a customer in `dealer`'s club on `on`, and in the brand club too if not yet a
    /// member (one card for both). Joining a club already joined changes nothing.
    pub fn join_dealer_club(
        &mut self,
        customer: CustomerId,
        dealer: DealerId,
        on: Date,
        source: &str,
    ) -> Result<Membership> {
        crate::validate::plausible_date("on", on)?;
        let source = check_source(source)?;
        self.require(CUSTOMERS, "customer", customer.0)?;
        if self.t.dealers()?.get(dealer.0)?.is_none() {
            return Err(Error::not_found("dealer", dealer));
        }
        let mut m = self.membership(customer)?.unwrap_or(Membership {
            enrolled: on,
            source,
            dealer_clubs: Vec::new(),
        });
        if m.dealer_clubs.iter().any(|&(d, _)| d == dealer) {
            return Ok(m);
        }
        m.dealer_clubs.push((dealer, on));
        self.writing(|tx| tx.put_membership(customer, &m))?;
        Ok(m)
    }

    /// The customer's membership, as this transaction sees it.
    pub fn membership(&self, customer: CustomerId) -> Result<Option<Membership>> {
        membership_in(&self.t, customer)
    }

    /// Removes the club card and tier record of a customer being deleted (one with postings
    /// cannot be deleted: the append-only ledger names him).
    pub(crate) fn forget_membership(&mut self, customer: CustomerId) -> Result<()> {
        self.t.members()?.remove(customer.0)?;
        self.t.tiers()?.remove(customer.0)?;
        Ok(())
    }

    fn put_membership(&mut self, customer: CustomerId, m: &Membership) -> Result<()> {
        self.t
            .members()?
            .insert(customer.0, crate::codec::encode(m).as_slice())?;
        Ok(())
    }
}

impl ReadTxn {
    /// The customer's club membership, if any.
    pub fn membership(&self, customer: CustomerId) -> Result<Option<Membership>> {
        membership_in(&self.tables, customer)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Enrols a customer in the brand club on `on` (`source` says how, e.g. `"owner_app"`).
    /// Enrolling a member again changes nothing and returns their membership.
    pub fn join_brand_club(
        &mut self,
        customer: CustomerId,
        on: Date,
        source: &str,
    ) -> Result<Membership> {
        self.tx().join_brand_club(customer, on, source)
    }

    /// Enrols a customer in `dealer`'s club on `on`, and in the brand club too if not yet a
    /// member (one card for both). Joining a club already joined changes nothing.
    pub fn join_dealer_club(
        &mut self,
        customer: CustomerId,
        dealer: DealerId,
        on: Date,
        source: &str,
    ) -> Result<Membership> {
        self.tx().join_dealer_club(customer, dealer, on, source)
    }

    /// The customer's membership, as this transaction sees it.
    pub fn membership(&self, customer: CustomerId) -> Result<Option<Membership>> {
        self.tx().membership(customer)
    }
}

/// [`ReadTxn::membership`], for either kind of transaction.
pub(crate) fn membership_in(t: &impl ReadView, customer: CustomerId) -> Result<Option<Membership>> {
    get_record(&*t.members()?, customer.0)
}
