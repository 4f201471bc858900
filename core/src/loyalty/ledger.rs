//! Postings, balances and lots: the points ledger. See the module docs of
//! [`crate::loyalty`] for the invariants and the semantics of reversal.

use std::collections::HashMap;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::{LoyaltyConfig, Wallet};
use crate::codec::{self, Model, ModelKind};
use crate::date::{Date, DateTime};
use crate::error::{Error, Refusal, Result, Rule, ValidationError};
use crate::ids::{CustomerId, DealerId, TouchpointId};
use crate::store::tables::*;
use crate::store::ReadView;
use crate::store::{decode_stored, get_record, ReadTxn, Tx, WriteTxn};
use crate::touchpoint::Touchpoint;

/// What a posting did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostingKind {
    /// Points earned by a qualifying touchpoint (creates a lot).
    Earn,
    /// Manual correction by an operator: positive creates a lot, negative spends lots.
    Adjust,
    /// Points spent on a gift or discount.
    Redeem,
    /// A lot's remaining points expired.
    Expire,
    /// An earning taken back (refund).
    Reverse,
    /// Points owed after a reversal, repaid from a new credit.
    Recover,
}

/// Why a posting was made: every posting traces back to a touchpoint, an operator, a
/// redemption, an expiry run or another posting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// A qualifying touchpoint under an earning rule.
    Touchpoint {
        /// The touchpoint.
        touchpoint: TouchpointId,
        /// The rule's name.
        rule: String,
    },
    /// An operator, with the reason given.
    Operator {
        /// Who.
        operator: String,
        /// Why.
        reason: String,
    },
    /// A redemption for an item or discount.
    Redemption {
        /// What was redeemed.
        item: String,
    },
    /// The expiry run as of a date.
    Expiry {
        /// The run's as-of date.
        as_of: Date,
    },
    /// The reversal of a credit.
    Reversal {
        /// The credit reversed (its posting id, which is also its lot id).
        credit: u64,
        /// Who reversed it.
        operator: String,
        /// Why (e.g. the refund).
        reason: String,
    },
    /// Repayment of owed points from a new credit.
    Recovery {
        /// The credit it was taken from.
        credit: u64,
    },
}

/// One append-only ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    /// Whose wallet.
    pub customer: CustomerId,
    /// Which wallet.
    pub wallet: Wallet,
    /// What it did.
    pub kind: PostingKind,
    /// Signed change to the balance.
    pub points: i64,
    /// When (for expiry: the day the lot expired).
    pub at: DateTime,
    /// Its idempotency key, unique in the ledger.
    pub key: String,
    /// Why it was made.
    pub cause: Cause,
    /// For credits, the issuing dealer; for redemptions, the redeeming dealer.
    pub dealer: Option<DealerId>,
    /// For credits, the day the lot expires.
    pub expires: Option<Date>,
    /// For debits, the lots spent: (lot id, points), earliest expiry first.
    pub draws: Vec<(u64, i64)>,
    /// For reversals, the points that could not be taken back and are now owed.
    pub shortfall: i64,
}

impl Model for Posting {
    const KIND: ModelKind = ModelKind::Posting;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "posting";
}

/// A wallet's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Points held: always the sum of the wallet's postings and of its live lots; never
    /// negative.
    pub points: i64,
    /// Points owed after reversals of spent earnings, repaid from future credits.
    pub owed: i64,
}

impl Model for Balance {
    const KIND: ModelKind = ModelKind::Balance;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "balance";
}

/// The points of one credit, spent and expired over time. Its id is the credit posting's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// Whose.
    pub customer: CustomerId,
    /// Which wallet.
    pub wallet: Wallet,
    /// The dealer that issued the points, if any (settlement).
    pub issuer: Option<DealerId>,
    /// When the points were credited.
    pub earned: DateTime,
    /// The first day the points are no longer valid.
    pub expires: Date,
    /// Points credited.
    pub points: i64,
    /// Points still available.
    pub remaining: i64,
    /// Points spent by debits (redemptions, negative adjustments, recoveries, claw-backs).
    pub spent: i64,
    /// Points expired.
    pub expired: i64,
    /// Points removed by this credit's own reversal.
    pub reversed: i64,
    /// The posting that reversed this credit, if any.
    pub reversal: Option<u64>,
}

impl Model for Lot {
    const KIND: ModelKind = ModelKind::Lot;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "lot";
}

/// A redemption request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// Whose points.
    pub customer: CustomerId,
    /// From which wallet; dealer points only at their dealer.
    pub wallet: Wallet,
    /// How many (positive).
    pub points: i64,
    /// When.
    pub at: DateTime,
    /// The dealer where they are redeemed, if any (settlement of brand points).
    pub dealer: Option<DealerId>,
    /// What for.
    pub item: String,
    /// Idempotency key (not `tp/…`, `expire/…` or `…/recover`: the ledger's own keys).
    pub key: String,
}

/// A manual adjustment by an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    /// Whose points.
    pub customer: CustomerId,
    /// Which wallet.
    pub wallet: Wallet,
    /// Signed, non-zero: positive credits a new lot, negative spends lots.
    pub points: i64,
    /// When.
    pub at: DateTime,
    /// Who.
    pub operator: String,
    /// Why.
    pub reason: String,
    /// Idempotency key (not `tp/…`, `expire/…` or `…/recover`: the ledger's own keys).
    pub key: String,
}

/// The reversal of a credit (an earning or a positive adjustment), e.g. after a refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reversal {
    /// The credit's posting id.
    pub credit: u64,
    /// When.
    pub at: DateTime,
    /// Who.
    pub operator: String,
    /// Why.
    pub reason: String,
    /// Idempotency key (not `tp/…`, `expire/…` or `…/recover`: the ledger's own keys).
    pub key: String,
}

/// What an expiry run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Lots expired.
    pub lots: u64,
    /// Points expired.
    pub points: i64,
}

/// The result of [`ReadTxn::verify_ledger`]: what was checked and every violation found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerCheck {
    /// Wallets checked.
    pub wallets: u64,
    /// Postings checked.
    pub postings: u64,
    /// Lots checked.
    pub lots: u64,
    /// Violations, one sentence each; empty when the ledger is sound.
    pub problems: Vec<String>,
}

fn required(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ValidationError::new(field, Rule::Required, v).into());
    }
    if v.chars().count() > 200 {
        return Err(ValidationError::new(field, Rule::TooLong, v).into());
    }
    Ok(v.to_string())
}

/// A caller's idempotency key: required, and not of a shape the ledger gives the postings it
/// makes itself (`tp/…` earnings, `expire/…` expiries, `…/recover` recoveries), which it would
/// otherwise collide with.
fn caller_key(value: &str) -> Result<String> {
    let key = required("key", value)?;
    if key.starts_with("tp/") || key.starts_with("expire/") || key.ends_with("/recover") {
        return Err(ValidationError::new("key", Rule::NotAllowed, &key).into());
    }
    Ok(key)
}

fn positive(field: &'static str, points: i64) -> Result<()> {
    if points <= 0 {
        return Err(ValidationError::new(field, Rule::OutOfRange, points.to_string()).into());
    }
    Ok(())
}

/// Which content of a retried request must match the posting its key made.
fn same_request(existing: &Posting, wanted: &Posting) -> bool {
    existing.customer == wanted.customer
        && existing.wallet == wanted.wallet
        && existing.kind == wanted.kind
        && existing.at == wanted.at
        && existing.cause == wanted.cause
        && existing.dealer == wanted.dealer
        && (existing.kind == PostingKind::Reverse || existing.points == wanted.points)
}

/// Reads the balance of a wallet from any balances table.
fn balance_in(
    t: &impl ReadableTable<(u64, u64), &'static [u8]>,
    customer: CustomerId,
    wallet: Wallet,
) -> Result<Balance> {
    match t.get((customer.0, wallet.code()))? {
        Some(v) => decode_stored(v.value()),
        None => Ok(Balance::default()),
    }
}

/// Live lots of a wallet spendable on `on` (expiring after it), earliest expiry first.
fn spendable_lots(
    queue: &impl ReadableTable<(u64, u64, i32, u64), ()>,
    customer: CustomerId,
    wallet: Wallet,
    after: i32,
) -> Result<Vec<(i32, u64)>> {
    let w = wallet.code();
    let mut out = Vec::new();
    for e in queue.range((customer.0, w, after, 0)..=(customer.0, w, i32::MAX, u64::MAX))? {
        let (k, _) = e?;
        let (_, _, expires, lot) = k.value();
        out.push((expires, lot));
    }
    Ok(out)
}

impl Tx<'_> {
    fn check_idempotent(&self, wanted: &Posting) -> Result<Option<u64>> {
        let keys = self.t.posting_keys()?;
        let Some(id) = keys.get(wanted.key.as_str())?.map(|v| v.value()) else {
            return Ok(None);
        };
        let existing: Posting =
            get_record(&*self.t.postings()?, id)?.ok_or_else(|| Error::not_found("posting", id))?;
        if same_request(&existing, wanted) {
            Ok(Some(id))
        } else {
            Err(Error::IdempotencyConflict {
                key: wanted.key.clone(),
                existing: id,
            })
        }
    }

    fn check_customer(&self, customer: CustomerId) -> Result<()> {
        self.require(CUSTOMERS, "customer", customer.0)
    }

    /// The wallet's balance, as this transaction sees it.
    pub fn balance(&self, customer: CustomerId, wallet: Wallet) -> Result<Balance> {
        balance_of(&self.t, customer, wallet)
    }

    fn put_balance(&mut self, customer: CustomerId, wallet: Wallet, b: &Balance) -> Result<()> {
        self.t
            .balances()?
            .insert((customer.0, wallet.code()), codec::encode(b).as_slice())?;
        Ok(())
    }

    fn lot(&self, id: u64) -> Result<Lot> {
        lot_in(&self.t, id)
    }

    /// Writes a lot back. The spending and expiry queues hold live lots only, so they change
    /// only when the lot becomes live (`was_live` false, points remaining) or empties.
    fn put_lot(&mut self, id: u64, lot: &Lot, was_live: bool) -> Result<()> {
        self.t.lots()?.insert(id, codec::encode(lot).as_slice())?;
        let qk = (lot.customer.0, lot.wallet.code(), lot.expires.days(), id);
        let ek = (lot.expires.days(), id);
        match (was_live, lot.remaining > 0) {
            (false, true) => {
                self.t.lot_queue()?.insert(qk, ())?;
                self.t.lot_expiry()?.insert(ek, ())?;
            }
            (true, false) => {
                self.t.lot_queue()?.remove(qk)?;
                self.t.lot_expiry()?.remove(ek)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Appends a posting with its indexes and applies it to the balance. Returns its id and
    /// the wallet's new balance.
    fn append(&mut self, p: &Posting, owed_change: i64) -> Result<(u64, Balance)> {
        let id = self.next_id("next.posting")?;
        self.t.postings()?.insert(id, codec::encode(p).as_slice())?;
        self.t.posting_keys()?.insert(p.key.as_str(), id)?;
        self.t.customer_postings()?.insert((p.customer.0, id), ())?;
        if p.kind == PostingKind::Redeem {
            self.t.redemptions()?.insert((p.at.date().days(), id), ())?;
        }
        let mut b = self.balance(p.customer, p.wallet)?;
        b.points += p.points;
        b.owed += owed_change;
        debug_assert!(b.points >= 0 && b.owed >= 0, "ledger invariant");
        self.put_balance(p.customer, p.wallet, &b)?;
        Ok((id, b))
    }

    /// Plans taking up to `points` from the wallet's live lots expiring after day `after`,
    /// earliest expiry first, skipping `except`; reads only the lots it would spend and
    /// writes nothing. Fewer points than asked means the wallet cannot cover them.
    fn plan_draws(
        &self,
        customer: CustomerId,
        wallet: Wallet,
        points: i64,
        after: i32,
        except: Option<u64>,
    ) -> Result<Vec<(u64, Lot, i64)>> {
        let queue = self.t.lot_queue()?;
        let lots = self.t.lots()?;
        let mut left = points;
        let mut plan = Vec::new();
        for (_, id) in spendable_lots(&*queue, customer, wallet, after)? {
            if left == 0 {
                break;
            }
            if Some(id) == except {
                continue;
            }
            let lot: Lot =
                get_record(&*lots, id)?.ok_or_else(|| Error::dangling("lot queue", "lot", id))?;
            let n = lot.remaining.min(left);
            left -= n;
            plan.push((id, lot, n));
        }
        Ok(plan)
    }

    /// Marks planned draws spent. Returns the draws as a posting records them.
    fn apply_draws(&mut self, plan: Vec<(u64, Lot, i64)>) -> Result<Vec<(u64, i64)>> {
        let mut draws = Vec::with_capacity(plan.len());
        for (id, mut lot, n) in plan {
            lot.remaining -= n;
            lot.spent += n;
            self.put_lot(id, &lot, true)?;
            draws.push((id, n));
        }
        Ok(draws)
    }

    /// Points of the wallet spendable on `on` (in lots expiring after it).
    pub fn spendable(&self, customer: CustomerId, wallet: Wallet, on: Date) -> Result<i64> {
        spendable_in(&self.t, customer, wallet, on)
    }

    /// Credits a new lot (an earning or a positive adjustment), then repays owed points from
    /// it. `p` is the credit posting, without `expires`, which is set here.
    fn credit(&mut self, mut p: Posting, lot_days: u32) -> Result<u64> {
        let expires = p.at.date().add_days(lot_days as i32);
        p.expires = Some(expires);
        let (id, balance) = self.append(&p, 0)?;
        let lot = Lot {
            customer: p.customer,
            wallet: p.wallet,
            issuer: p.dealer,
            earned: p.at,
            expires,
            points: p.points,
            remaining: p.points,
            spent: 0,
            expired: 0,
            reversed: 0,
            reversal: None,
        };
        self.put_lot(id, &lot, false)?;
        if balance.owed > 0 {
            let n = balance.owed.min(p.points);
            let mut lot = lot;
            lot.remaining -= n;
            lot.spent += n;
            self.put_lot(id, &lot, true)?;
            let recover = Posting {
                kind: PostingKind::Recover,
                points: -n,
                key: format!("{}/recover", p.key),
                cause: Cause::Recovery { credit: id },
                dealer: None,
                expires: None,
                draws: vec![(id, n)],
                shortfall: 0,
                ..p
            };
            self.append(&recover, -n)?;
        }
        Ok(id)
    }

    fn lot_days(&self) -> Result<u32> {
        Ok(self
            .loyalty_config()?
            .map_or_else(|| LoyaltyConfig::default().lot_days, |c| c.lot_days))
    }

    /// Posts the earnings of a newly stored touchpoint under `config` (called by the
    /// touchpoint writer in the same transaction). Non-members earn nothing.
    pub(crate) fn post_touchpoint_earnings(
        &mut self,
        config: &LoyaltyConfig,
        id: TouchpointId,
        t: &Touchpoint,
    ) -> Result<()> {
        let Some(member) = self.membership(t.customer)? else {
            return Ok(());
        };
        let on = t.at.date();
        let multiplier = i64::from(config.multiplier(self.recorded_tier(t.customer, on)?));
        for rule in &config.rules {
            let base = rule.base_points(t);
            if base == 0 {
                continue;
            }
            let wallet = match rule.wallet {
                super::WalletRule::Brand => Wallet::Brand,
                super::WalletRule::IssuingDealer => match t.dealer {
                    Some(d) => Wallet::Dealer(d),
                    None => continue,
                },
            };
            if !member.can_earn(wallet, on) {
                continue;
            }
            let points = base * multiplier / 100;
            if points == 0 {
                continue;
            }
            let p = Posting {
                customer: t.customer,
                wallet,
                kind: PostingKind::Earn,
                points,
                at: t.at,
                key: format!("tp/{}/{}", id.0, rule.name),
                cause: Cause::Touchpoint {
                    touchpoint: id,
                    rule: rule.name.clone(),
                },
                dealer: t.dealer,
                expires: None,
                draws: Vec::new(),
                shortfall: 0,
            };
            if self.check_idempotent(&p)?.is_none() {
                self.credit(p, config.lot_days)?;
            }
        }
        Ok(())
    }

    /// Spends points on a gift or discount: earliest-expiring lots first, only lots still
    /// valid on the redemption's date. Fails with `insufficient_points` (nothing written) if
    /// the wallet cannot cover it. Dealer points are redeemed only at their dealer.
    pub fn redeem(&mut self, r: &Redemption) -> Result<u64> {
        positive("points", r.points)?;
        let item = required("item", &r.item)?;
        let key = caller_key(&r.key)?;
        if let (Wallet::Dealer(d), Some(at)) = (r.wallet, r.dealer) {
            if d != at {
                return Err(Error::refused(
                    Refusal::WalletOtherDealer,
                    format!("points of {} cannot be redeemed at dealer {at}", r.wallet),
                ));
            }
        }
        let wanted = Posting {
            customer: r.customer,
            wallet: r.wallet,
            kind: PostingKind::Redeem,
            points: -r.points,
            at: r.at,
            key,
            cause: Cause::Redemption { item },
            dealer: r.dealer.or(match r.wallet {
                Wallet::Dealer(d) => Some(d),
                Wallet::Brand => None,
            }),
            expires: None,
            draws: Vec::new(),
            shortfall: 0,
        };
        if let Some(id) = self.check_idempotent(&wanted)? {
            return Ok(id);
        }
        self.check_customer(r.customer)?;
        self.debit(wanted, r.points)
    }

    /// Spends `points` for posting `p` (a redemption or negative adjustment).
    fn debit(&mut self, mut p: Posting, points: i64) -> Result<u64> {
        let on = p.at.date();
        let plan = self.plan_draws(p.customer, p.wallet, points, on.days() + 1, None)?;
        let available: i64 = plan.iter().map(|d| d.2).sum();
        if available < points {
            // A plan short of `points` took every spendable lot whole.
            return Err(Error::InsufficientPoints {
                customer: p.customer.0,
                wallet: p.wallet.to_string(),
                available,
                requested: points,
            });
        }
        self.writing(|tx| {
            p.draws = tx.apply_draws(plan)?;
            Ok(tx.append(&p, 0)?.0)
        })
    }

    /// A manual correction: a positive adjustment credits a new lot, a negative one spends
    /// lots like a redemption (and fails rather than go below zero). Operator and reason are
    /// required.
    pub fn adjust(&mut self, a: &Adjustment) -> Result<u64> {
        if a.points == 0 {
            return Err(ValidationError::new("points", Rule::OutOfRange, "0").into());
        }
        let operator = required("operator", &a.operator)?;
        let reason = required("reason", &a.reason)?;
        let key = caller_key(&a.key)?;
        let wanted = Posting {
            customer: a.customer,
            wallet: a.wallet,
            kind: PostingKind::Adjust,
            points: a.points,
            at: a.at,
            key,
            cause: Cause::Operator { operator, reason },
            dealer: None,
            expires: None,
            draws: Vec::new(),
            shortfall: 0,
        };
        if let Some(id) = self.check_idempotent(&wanted)? {
            return Ok(id);
        }
        self.check_customer(a.customer)?;
        if let Wallet::Dealer(d) = a.wallet {
            if self.t.dealers()?.get(d.0)?.is_none() {
                return Err(Error::not_found("dealer", d));
            }
        }
        if a.points > 0 {
            let days = self.lot_days()?;
            self.writing(|tx| tx.credit(wanted, days))
        } else {
            self.debit(wanted, -a.points)
        }
    }

    /// Reverses a credit (see the module docs): takes back its unspent points, then what was
    /// spent of it from the wallet's other lots, and records what cannot be covered as owed.
    /// A credit is reversed at most once.
    pub fn reverse(&mut self, r: &Reversal) -> Result<u64> {
        let operator = required("operator", &r.operator)?;
        let reason = required("reason", &r.reason)?;
        let key = caller_key(&r.key)?;
        let credit: Posting = get_record(&*self.t.postings()?, r.credit)?
            .ok_or_else(|| Error::not_found("posting", r.credit))?;
        let wanted = Posting {
            customer: credit.customer,
            wallet: credit.wallet,
            kind: PostingKind::Reverse,
            points: 0,
            at: r.at,
            key,
            cause: Cause::Reversal {
                credit: r.credit,
                operator,
                reason,
            },
            dealer: credit.dealer,
            expires: None,
            draws: Vec::new(),
            shortfall: 0,
        };
        if let Some(id) = self.check_idempotent(&wanted)? {
            return Ok(id);
        }
        if !matches!(credit.kind, PostingKind::Earn | PostingKind::Adjust) || credit.points <= 0 {
            return Err(Error::refused(
                Refusal::ReverseNotACredit,
                format!("posting {} is not a credit", r.credit),
            ));
        }
        let mut lot = self.lot(r.credit)?;
        if let Some(by) = lot.reversal {
            return Err(Error::refused(
                Refusal::AlreadyReversed,
                format!("credit {} was already reversed by posting {by}", r.credit),
            ));
        }
        let mut p = wanted;
        self.writing(|tx| {
            let own = lot.remaining;
            let mut draws = Vec::new();
            if own > 0 {
                draws.push((r.credit, own));
            }
            let plan = tx.plan_draws(p.customer, p.wallet, lot.spent, i32::MIN, Some(r.credit))?;
            let others = tx.apply_draws(plan)?;
            let clawed: i64 = others.iter().map(|d| d.1).sum();
            draws.extend(others);
            let shortfall = lot.spent - clawed;
            lot.reversed = own;
            lot.remaining = 0;
            p.points = -(own + clawed);
            p.draws = draws;
            p.shortfall = shortfall;
            let (id, _) = tx.append(&p, shortfall)?;
            lot.reversal = Some(id);
            tx.put_lot(r.credit, &lot, own > 0)?;
            Ok(id)
        })
    }

    /// Expires every lot whose expiry day is on or before `as_of`. Idempotent: a lot expires
    /// once, so running again (or for an earlier date) finds nothing more.
    pub fn expire_lots(&mut self, as_of: Date) -> Result<ExpiryReport> {
        let due: Vec<u64> = {
            let t = self.t.lot_expiry()?;
            let range = t.range(..=(as_of.days(), u64::MAX))?;
            range
                .map(|e| e.map(|(k, _)| k.value().1))
                .collect::<std::result::Result<_, _>>()?
        };
        let mut report = ExpiryReport::default();
        self.writing(|tx| {
            for id in due {
                let mut lot = tx.lot(id)?;
                let n = lot.remaining;
                if n == 0 {
                    continue;
                }
                lot.remaining = 0;
                lot.expired += n;
                tx.put_lot(id, &lot, true)?;
                let p = Posting {
                    customer: lot.customer,
                    wallet: lot.wallet,
                    kind: PostingKind::Expire,
                    points: -n,
                    at: lot.expires.at_midnight(),
                    key: format!("expire/{id}"),
                    cause: Cause::Expiry { as_of },
                    dealer: None,
                    expires: None,
                    draws: vec![(id, n)],
                    shortfall: 0,
                };
                tx.append(&p, 0)?;
                report.lots += 1;
                report.points += n;
            }
            Ok(report)
        })
    }

    /// True if the customer has any posting (the ledger then refers to the customer).
    pub(crate) fn has_postings(&self, customer: CustomerId) -> Result<bool> {
        let t = self.t.customer_postings()?;
        let found = t
            .range((customer.0, 0)..=(customer.0, u64::MAX))?
            .next()
            .is_some();
        Ok(found)
    }

    /// True if a touchpoint earned points (the ledger then refers to it).
    pub(crate) fn touchpoint_has_postings(&self, id: TouchpointId) -> Result<bool> {
        let prefix = format!("tp/{}/", id.0);
        let t = self.t.posting_keys()?;
        let found = match t.range(prefix.as_str()..)?.next() {
            Some(e) => e?.0.value().starts_with(&prefix),
            None => false,
        };
        Ok(found)
    }
}

impl ReadTxn {
    /// The wallet's balance (zero for a wallet never used).
    pub fn balance(&self, customer: CustomerId, wallet: Wallet) -> Result<Balance> {
        balance_of(&self.tables, customer, wallet)
    }

    /// Every wallet the customer has used, with its balance.
    pub fn wallets_of(&self, customer: CustomerId) -> Result<Vec<(Wallet, Balance)>> {
        let mut out = Vec::new();
        for e in self
            .tables
            .balances()?
            .range((customer.0, 0)..=(customer.0, u64::MAX))?
        {
            let (k, v) = e?;
            out.push((Wallet::from_code(k.value().1), decode_stored(v.value())?));
        }
        Ok(out)
    }

    /// Points of the wallet spendable on `on` (in lots expiring after it).
    pub fn spendable(&self, customer: CustomerId, wallet: Wallet, on: Date) -> Result<i64> {
        spendable_in(&self.tables, customer, wallet, on)
    }

    /// The wallet's live lots in spending order (earliest expiry first).
    pub fn lots_of(&self, customer: CustomerId, wallet: Wallet) -> Result<Vec<(u64, Lot)>> {
        let lots = self.tables.lots()?;
        spendable_lots(self.tables.lot_queue()?, customer, wallet, i32::MIN)?
            .into_iter()
            .map(|(_, id)| {
                let lot =
                    get_record(lots, id)?.ok_or_else(|| Error::dangling("lot queue", "lot", id))?;
                Ok((id, lot))
            })
            .collect()
    }

    /// Every lot of the ledger, spent, expired and reversed ones too (a lot is never
    /// removed), in lot id order (the id of the posting that credited it).
    pub fn all_lots(&self) -> Result<Vec<(u64, Lot)>> {
        let mut out = Vec::new();
        for e in self.tables.lots()?.iter()? {
            let (k, v) = e?;
            out.push((k.value(), decode_stored(v.value())?));
        }
        Ok(out)
    }

    /// The lot credited by posting `id`.
    pub fn lot(&self, id: u64) -> Result<Lot> {
        lot_in(&self.tables, id)
    }

    /// The posting with id `id`.
    pub fn posting(&self, id: u64) -> Result<Posting> {
        get_record(self.tables.postings()?, id)?.ok_or_else(|| Error::not_found("posting", id))
    }

    /// The posting made under idempotency key `key`, if any.
    pub fn posting_by_key(&self, key: &str) -> Result<Option<(u64, Posting)>> {
        match self.tables.posting_keys()?.get(key)? {
            Some(id) => {
                let id = id.value();
                Ok(Some((id, self.posting(id)?)))
            }
            None => Ok(None),
        }
    }

    /// The customer's postings in the order they were made.
    pub fn postings_of(&self, customer: CustomerId) -> Result<Vec<(u64, Posting)>> {
        let postings = self.tables.postings()?;
        let mut out = Vec::new();
        for e in self
            .tables
            .customer_postings()?
            .range((customer.0, 0)..=(customer.0, u64::MAX))?
        {
            let id = e?.0.value().1;
            let p = get_record(postings, id)?
                .ok_or_else(|| Error::dangling("customer postings", "posting", id))?;
            out.push((id, p));
        }
        Ok(out)
    }

    /// The earning postings a touchpoint made (one per rule that applied).
    pub fn earnings_of_touchpoint(&self, id: TouchpointId) -> Result<Vec<u64>> {
        let prefix = format!("tp/{}/", id.0);
        let mut out = Vec::new();
        for e in self.tables.posting_keys()?.range(prefix.as_str()..)? {
            let (k, v) = e?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            if !k.value().ends_with("/recover") {
                out.push(v.value());
            }
        }
        Ok(out)
    }

    /// Checks every ledger invariant over the whole database: each balance equals the sum of
    /// its postings and of its live lots and is not negative; every posting has exactly one
    /// key and the key leads back to it; every lot's points are accounted for (remaining +
    /// spent + expired + reversed) and agree with the draws made on it; live lots and only
    /// they are queued. Reads everything: for tests, audits and after a crash.
    pub fn verify_ledger(&self) -> Result<LedgerCheck> {
        let mut check = LedgerCheck::default();
        let mut problems = Vec::new();
        let mut sums: HashMap<(u64, u64), i64> = HashMap::new();
        let mut drawn: HashMap<u64, i64> = HashMap::new();
        let keys = self.tables.posting_keys()?;
        let by_customer = self.tables.customer_postings()?;
        for e in self.tables.postings()?.iter()? {
            let (k, v) = e?;
            let id = k.value();
            let p: Posting = decode_stored(v.value())?;
            check.postings += 1;
            *sums.entry((p.customer.0, p.wallet.code())).or_default() += p.points;
            for &(lot, n) in &p.draws {
                *drawn.entry(lot).or_default() += n;
            }
            let drawn_here: i64 = p.draws.iter().map(|d| d.1).sum();
            if p.points < 0 && drawn_here != -p.points {
                problems.push(format!(
                    "posting {id} takes {} but draws {drawn_here}",
                    -p.points
                ));
            }
            match keys.get(p.key.as_str())?.map(|v| v.value()) {
                Some(k) if k == id => {}
                other => problems.push(format!("posting {id}: key {:?} leads to {other:?}", p.key)),
            }
            if by_customer.get((p.customer.0, id))?.is_none() {
                problems.push(format!("posting {id} missing from its customer's list"));
            }
        }
        let key_count = keys.len()?;
        if key_count != check.postings {
            problems.push(format!(
                "{key_count} idempotency keys for {} postings",
                check.postings
            ));
        }
        let mut lot_sums: HashMap<(u64, u64), i64> = HashMap::new();
        let queue = self.tables.lot_queue()?;
        let expiry = self.tables.lot_expiry()?;
        for e in self.tables.lots()?.iter()? {
            let (k, v) = e?;
            let id = k.value();
            let lot: Lot = decode_stored(v.value())?;
            check.lots += 1;
            *lot_sums
                .entry((lot.customer.0, lot.wallet.code()))
                .or_default() += lot.remaining;
            if lot.remaining < 0
                || lot.points != lot.remaining + lot.spent + lot.expired + lot.reversed
            {
                problems.push(format!("lot {id} does not add up: {lot:?}"));
            }
            let used = drawn.get(&id).copied().unwrap_or(0);
            if used != lot.points - lot.remaining {
                problems.push(format!(
                    "lot {id}: postings draw {used}, the lot lost {}",
                    lot.points - lot.remaining
                ));
            }
            let queued = queue
                .get((lot.customer.0, lot.wallet.code(), lot.expires.days(), id))?
                .is_some();
            let due = expiry.get((lot.expires.days(), id))?.is_some();
            if queued != (lot.remaining > 0) || due != (lot.remaining > 0) {
                problems.push(format!(
                    "lot {id}: queued {queued}, due {due}, remaining {}",
                    lot.remaining
                ));
            }
        }
        for e in self.tables.balances()?.iter()? {
            let (k, v) = e?;
            let (c, w) = k.value();
            let b: Balance = decode_stored(v.value())?;
            check.wallets += 1;
            let posted = sums.remove(&(c, w)).unwrap_or(0);
            let in_lots = lot_sums.remove(&(c, w)).unwrap_or(0);
            if b.points < 0 || b.owed < 0 {
                problems.push(format!("customer {c} wallet {w}: negative {b:?}"));
            }
            if b.points != posted {
                problems.push(format!(
                    "customer {c} wallet {w}: balance {} but postings sum to {posted}",
                    b.points
                ));
            }
            if b.points != in_lots {
                problems.push(format!(
                    "customer {c} wallet {w}: balance {} but lots hold {in_lots}",
                    b.points
                ));
            }
        }
        for ((c, w), s) in sums {
            problems.push(format!(
                "customer {c} wallet {w}: postings ({s}) without a balance"
            ));
        }
        check.problems = problems;
        Ok(check)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// The wallet's balance, as this transaction sees it.
    pub fn balance(&self, customer: CustomerId, wallet: Wallet) -> Result<Balance> {
        self.tx().balance(customer, wallet)
    }

    /// Points of the wallet spendable on `on` (in lots expiring after it).
    pub fn spendable(&self, customer: CustomerId, wallet: Wallet, on: Date) -> Result<i64> {
        self.tx().spendable(customer, wallet, on)
    }

    /// Spends points on a gift or discount: earliest-expiring lots first, only lots still
    /// valid on the redemption's date. Fails with `insufficient_points` (nothing written) if
    /// the wallet cannot cover it. Dealer points are redeemed only at their dealer.
    pub fn redeem(&mut self, r: &Redemption) -> Result<u64> {
        self.tx().redeem(r)
    }

    /// A manual correction: a positive adjustment credits a new lot, a negative one spends
    /// lots like a redemption (and fails rather than go below zero). Operator and reason are
    /// required.
    pub fn adjust(&mut self, a: &Adjustment) -> Result<u64> {
        self.tx().adjust(a)
    }

    /// Reverses a credit (see the module docs): takes back its unspent points, then what was
    /// spent of it from the wallet's other lots, and records what cannot be covered as owed.
    /// A credit is reversed at most once.
    pub fn reverse(&mut self, r: &Reversal) -> Result<u64> {
        self.tx().reverse(r)
    }

    /// Expires every lot whose expiry day is on or before `as_of`. Idempotent: a lot expires
    /// once, so running again (or for an earlier date) finds nothing more.
    pub fn expire_lots(&mut self, as_of: Date) -> Result<ExpiryReport> {
        self.tx().expire_lots(as_of)
    }
}

/// [`ReadTxn::balance`], for either kind of transaction.
pub(crate) fn balance_of(
    t: &impl ReadView,
    customer: CustomerId,
    wallet: Wallet,
) -> Result<Balance> {
    balance_in(&*t.balances()?, customer, wallet)
}

/// [`ReadTxn::lot`], for either kind of transaction.
pub(crate) fn lot_in(t: &impl ReadView, id: u64) -> Result<Lot> {
    get_record(&*t.lots()?, id)?.ok_or_else(|| Error::not_found("lot", id))
}

/// [`ReadTxn::spendable`], for either kind of transaction.
pub(crate) fn spendable_in(
    t: &impl ReadView,
    customer: CustomerId,
    wallet: Wallet,
    on: Date,
) -> Result<i64> {
    let queue = t.lot_queue()?;
    let lots = t.lots()?;
    let mut sum = 0;
    for (_, id) in spendable_lots(&*queue, customer, wallet, on.days() + 1)? {
        let lot: Lot =
            get_record(&*lots, id)?.ok_or_else(|| Error::dangling("lot queue", "lot", id))?;
        sum += lot.remaining;
    }
    Ok(sum)
}
