//! Model-based property test of the loyalty ledger: random sequences of earnings, redemptions,
//! adjustments, reversals, expiry runs, retried requests and reopens run against a file-backed
//! database and against a plain in-memory model of the documented semantics (module docs of
//! `autocrm::loyalty`), and after every operation the two must agree exactly.
//!
//! The model keeps every lot (points, remaining, spent, expired, reversed, expiry), every
//! posting (ids are predicted: they start at 1 and grow by one per posting), every balance with
//! what is owed, and every idempotency key with the request that made it:
//!
//! - earnings follow `LoyaltyConfig::default()`, written out here independently: a purchase
//!   earns 1 brand point per whole yuan of its amount, a service visit 2 points per whole yuan of
//!   labour in the wallet of its dealer (only for members of that dealer's club) and 1 brand point
//!   per whole yuan of parts, a forum post 10 brand points; no tier reviews run, so the multiplier
//!   stays 100%. Lots live 730 days. A new credit repays what the wallet owes first;
//! - debits (redemptions, negative adjustments) need enough points in lots expiring after the
//!   debit's date, and spend them earliest expiry first (ties: oldest lot first); otherwise
//!   `insufficient_points` and nothing changes;
//! - a reversal removes the credit's own remainder, claws back what was spent of it from the
//!   wallet's other live lots (also ones past expiry that no run has expired yet) earliest expiry
//!   first, and records the rest as owed; a credit is reversed once (`invalid_operation`);
//! - an expiry run as of D expires every live lot with expiry ≤ D;
//! - the same key with the same request returns the same posting and changes nothing; with a
//!   different request (other points, other reason, other kind) it is `idempotency_conflict`.
//!
//! Every single operation runs in its own write transaction that is committed even when the call
//! failed: refused calls write nothing, so the commit must change nothing. After every operation
//! `check` runs `verify_ledger` (no problem, as many postings, lots and wallets as the model) and
//! compares balances with owed points (never negative), `wallets_of`, `spendable` on three dates,
//! the live lots (`lots_of`) and every customer's postings with their draws and shortfalls
//! (`postings_of`) with the model; after a reopen and at the end of a sequence it also compares
//! every lot ever created (`lot`) and looks every key up (`posting_by_key`). The clock only moves
//! forward: by days, by jumps that let lots expire, or to right around a lot's expiry day.
//!
//! A focused test at the end covers caller keys shaped like the ledger's own keys.
//!
//! `PROPTEST_CASES=2000` searches deeper; `LEDGER_MODEL_STATS=1` (with `--nocapture`) prints how
//! often each operation succeeded or failed with each error code, and how often the model took
//! the rarer paths (claw-backs, owed points, lots past expiry...).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use autocrm::{
    Adjustment, Balance, Cause, Channel, Customer, CustomerId, Database, Date, DealerId, Error,
    ExpiryReport, Lot, LoyaltyConfig, Money, Posting, PostingKind, Redemption, Refusal, Reversal,
    SourceRef, Touchpoint, TouchpointId, TouchpointKind, Wallet,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer};

/// Days from earning to expiry under the default configuration.
const LOT_DAYS: i32 = 730;

fn start() -> Date {
    d("2024-01-01")
}

// ---------------------------------------------------------------------------------------------
// Operations. Selectors (`u8`) pick among customers, wallets and earlier records when the
// operation runs.

#[derive(Clone, Debug)]
enum Earn {
    /// A purchase; `None` has no amount and earns nothing.
    Purchase { fen: Option<u32> },
    /// A service visit with labour and parts shares.
    Service { labour_fen: u32, parts_fen: u32 },
    /// A forum post (no dealer).
    Forum,
}

#[derive(Clone, Debug)]
enum Op {
    /// A touchpoint of a customer (with a fresh source record).
    Earn { who: u8, what: Earn, dealer: u8 },
    /// An earlier touchpoint delivered again by the feed: same id, nothing earned.
    Replay { pick: u8 },
    /// `frac / 200` of what the wallet can spend today (at least 1): above 200 asks too much.
    /// Which wallet: see [`Model::debit_target`].
    /// `at_dealer`: 0 none, 1 the first dealer, 2 the second (wrong for the other's wallet).
    Redeem {
        who: u8,
        wallet: u8,
        frac: u8,
        at_dealer: u8,
    },
    /// A positive adjustment of `points`, or a negative one of `frac / 200` of what can be spent
    /// (above 200: too much).
    Adjust {
        who: u8,
        wallet: u8,
        credit: bool,
        points: u16,
        frac: u8,
    },
    /// Reverses an earlier posting: `among` 0 picks any posting that is no credit (refused),
    /// 1 any credit (refused if reversed before), otherwise a credit not reversed yet.
    /// `again`: 1 sends a second reversal with a new key (refused), 2 re-sends the same request.
    Reverse { pick: u8, among: u8, again: u8 },
    /// An expiry run as of `back` days before today.
    Expire { back: u8 },
    /// Re-sends an earlier successful redemption, adjustment or reversal under its key:
    /// `how` 0 unchanged, 1 with other points (or another reason), 2 as another kind of request.
    Retry { pick: u8, how: u8 },
    /// Drops the database and opens the file again.
    Reopen,
}

/// How the clock moves before an operation.
#[derive(Clone, Debug)]
enum Advance {
    /// By this many days.
    Days(u16),
    /// To the day before (-1), of (0) or after (1) the earliest expiry among live lots that
    /// lies ahead; stays put if there is none.
    ToExpiry(i8),
}

/// An operation after moving the clock forward.
#[derive(Clone, Debug)]
struct Step {
    advance: Advance,
    op: Op,
}

fn earn() -> impl Strategy<Value = Earn> {
    prop_oneof![
        3 => prop_oneof![
            1 => Just(None),
            1 => (0u32..150).prop_map(Some),
            6 => (0u32..800_000).prop_map(Some),
        ]
        .prop_map(|fen| Earn::Purchase { fen }),
        3 => (
            prop_oneof![1 => Just(0u32), 1 => 0u32..150, 4 => 0u32..300_000],
            prop_oneof![1 => Just(0u32), 4 => 0u32..400_000],
        )
            .prop_map(|(labour_fen, parts_fen)| Earn::Service {
                labour_fen,
                parts_fen
            }),
        1 => Just(Earn::Forum),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<u8>(), earn(), 0u8..3).prop_map(|(who, what, dealer)| Op::Earn {
            who,
            what,
            dealer
        }),
        1 => any::<u8>().prop_map(|pick| Op::Replay { pick }),
        6 => (any::<u8>(), wallet_sel(), 0u8..=230, 0u8..3).prop_map(
            |(who, wallet, frac, at_dealer)| Op::Redeem {
                who,
                wallet,
                frac,
                at_dealer
            }
        ),
        2 => (any::<u8>(), wallet_sel(), any::<bool>(), 1u16..3000, any::<u8>()).prop_map(
            |(who, wallet, credit, points, frac)| Op::Adjust {
                who,
                wallet,
                credit,
                points,
                frac
            }
        ),
        3 => (any::<u8>(), 0u8..10, prop_oneof![6 => Just(0u8), 1 => Just(1), 1 => Just(2)])
            .prop_map(|(pick, among, again)| Op::Reverse { pick, among, again }),
        1 => (0u8..60).prop_map(|back| Op::Expire { back }),
        2 => (any::<u8>(), 0u8..3).prop_map(|(pick, how)| Op::Retry { pick, how }),
        1 => Just(Op::Reopen),
    ]
}

/// The brand wallet half of the time, the first dealer's more often than the second's.
fn wallet_sel() -> impl Strategy<Value = u8> {
    prop_oneof![5 => Just(0u8), 3 => Just(1), 2 => Just(2)]
}

/// Mostly the same day or a few days later; now and then a jump that lets lots expire, or a
/// move to right around the day a lot expires.
fn step() -> impl Strategy<Value = Step> {
    let advance = prop_oneof![
        8 => Just(Advance::Days(0)),
        8 => (1u16..30).prop_map(Advance::Days),
        2 => (200u16..800).prop_map(Advance::Days),
        1 => (-1i8..=1).prop_map(Advance::ToExpiry),
    ];
    (advance, op()).prop_map(|(advance, op)| Step { advance, op })
}

// ---------------------------------------------------------------------------------------------
// The model.

/// A request that made a posting under its key.
#[derive(Clone, Debug, PartialEq)]
enum Request {
    Redeem(Redemption),
    Adjust(Adjustment),
    Reverse(Reversal),
}

impl Request {
    fn key(&self) -> &str {
        match self {
            Request::Redeem(r) => &r.key,
            Request::Adjust(a) => &a.key,
            Request::Reverse(r) => &r.key,
        }
    }
}

/// Why the model expects a call to be refused.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Insufficient { available: i64, requested: i64 },
    Conflict { existing: u64 },
    Invalid(Refusal),
}

fn matches_expect(e: &Error, x: &Expect) -> bool {
    match (e, x) {
        (
            Error::InsufficientPoints {
                available,
                requested,
                ..
            },
            Expect::Insufficient {
                available: a,
                requested: r,
            },
        ) => e.code() == "insufficient_points" && available == a && requested == r,
        (Error::IdempotencyConflict { existing, .. }, Expect::Conflict { existing: x }) => {
            e.code() == "idempotency_conflict" && existing == x
        }
        (Error::InvalidOperation { refusal, .. }, Expect::Invalid(x)) => {
            e.code() == format!("invalid_operation.{}", x.code()) && refusal == x
        }
        _ => false,
    }
}

fn compare<T: std::fmt::Debug + PartialEq>(
    what: &str,
    got: autocrm::Result<T>,
    want: &Result<T, Expect>,
) -> Result<Option<T>, String> {
    record_stat(what, &got);
    match (got, want) {
        (Ok(g), Ok(w)) if g == *w => Ok(Some(g)),
        (Err(e), Err(x)) if matches_expect(&e, x) => Ok(None),
        (got, want) => Err(format!("{what}: got {got:?}, model expects {want:?}")),
    }
}

thread_local! {
    static STATS: RefCell<BTreeMap<String, u64>> = const { RefCell::new(BTreeMap::new()) };
}

/// Counts a path the model took, for `LEDGER_MODEL_STATS`.
fn note(what: &str) {
    STATS.with(|s| *s.borrow_mut().entry(format!("model: {what}")).or_default() += 1);
}

fn record_stat<T>(what: &str, got: &autocrm::Result<T>) {
    let outcome = match got {
        Ok(_) => "ok".to_string(),
        Err(e) => e.code(),
    };
    STATS.with(|s| {
        *s.borrow_mut()
            .entry(format!("{what}: {outcome}"))
            .or_default() += 1
    });
}

#[derive(Clone, Debug)]
struct Model {
    customers: Vec<CustomerId>,
    dealers: Vec<DealerId>,
    /// Per customer: brand club from, and the dealer clubs (joined on `start()`).
    brand_from: Vec<Date>,
    clubs: Vec<Vec<DealerId>>,
    today: Date,
    next_posting: u64,
    postings: BTreeMap<u64, Posting>,
    keys: BTreeMap<String, u64>,
    lots: BTreeMap<u64, Lot>,
    balances: BTreeMap<(u64, Wallet), Balance>,
    /// Touchpoints written, for replays.
    touchpoints: Vec<(TouchpointId, Touchpoint)>,
    /// Successful requests by key, with the posting each made.
    requests: BTreeMap<String, (Request, u64)>,
    seq: u64,
}

impl Model {
    fn customer(&self, sel: u8) -> CustomerId {
        self.customers[sel as usize % self.customers.len()]
    }

    fn wallet(&self, sel: u8) -> Wallet {
        match sel % 3 {
            0 => Wallet::Brand,
            n => Wallet::Dealer(self.dealers[n as usize - 1]),
        }
    }

    /// The wallet a debit is made from: for `who` below 200, one that can spend something
    /// today if there is any; otherwise customer `who`'s wallet `wallet` (0 brand, 1 the first
    /// dealer's, 2 the second's), which may be empty.
    fn debit_target(&self, who: u8, wallet: u8) -> (CustomerId, Wallet) {
        let mut funded = Vec::new();
        for &c in &self.customers {
            for w in 0..3 {
                let w = self.wallet(w);
                if self.spendable(c, w, self.today) > 0 {
                    funded.push((c, w));
                }
            }
        }
        if who < 200 && !funded.is_empty() {
            funded[who as usize % funded.len()]
        } else {
            (self.customer(who), self.wallet(wallet))
        }
    }

    fn fresh_key(&mut self, kind: &str) -> String {
        self.seq += 1;
        format!("{kind}-{}", self.seq)
    }

    fn can_earn(&self, c: CustomerId, wallet: Wallet, on: Date) -> bool {
        let i = self.customers.iter().position(|&x| x == c).unwrap();
        match wallet {
            Wallet::Brand => self.brand_from[i] <= on,
            Wallet::Dealer(dl) => self.clubs[i].contains(&dl) && start() <= on,
        }
    }

    fn balance(&self, c: CustomerId, w: Wallet) -> Balance {
        self.balances.get(&(c.0, w)).copied().unwrap_or_default()
    }

    /// Live lots of a wallet, earliest expiry first (ties: oldest first).
    fn live_lots(&self, c: CustomerId, w: Wallet) -> Vec<u64> {
        let mut v: Vec<(Date, u64)> = self
            .lots
            .iter()
            .filter(|(_, l)| l.customer == c && l.wallet == w && l.remaining > 0)
            .map(|(&id, l)| (l.expires, id))
            .collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    fn spendable(&self, c: CustomerId, w: Wallet, on: Date) -> i64 {
        self.live_lots(c, w)
            .iter()
            .map(|id| &self.lots[id])
            .filter(|l| l.expires > on)
            .map(|l| l.remaining)
            .sum()
    }

    fn append(&mut self, p: Posting, owed_change: i64) -> u64 {
        let id = self.next_posting;
        self.next_posting += 1;
        assert!(
            self.keys.insert(p.key.clone(), id).is_none(),
            "model key reuse"
        );
        let b = self.balances.entry((p.customer.0, p.wallet)).or_default();
        b.points += p.points;
        b.owed += owed_change;
        assert!(b.points >= 0 && b.owed >= 0, "model went negative: {b:?}");
        self.postings.insert(id, p);
        id
    }

    /// Takes up to `points` from live lots, earliest expiry first; with `on`, only from lots
    /// still valid on that day; never from `except`.
    fn draw(
        &mut self,
        c: CustomerId,
        w: Wallet,
        points: i64,
        on: Option<Date>,
        except: Option<u64>,
    ) -> Vec<(u64, i64)> {
        let today = self.today;
        let mut left = points;
        let mut draws = Vec::new();
        for id in self.live_lots(c, w) {
            if left == 0 {
                break;
            }
            if Some(id) == except {
                continue;
            }
            let lot = self.lots.get_mut(&id).unwrap();
            if on.is_some_and(|on| lot.expires <= on) {
                note("debit passes over a lot past expiry");
                continue;
            }
            if on.is_none() && lot.expires <= today {
                note("claw-back from a lot past expiry");
            }
            let n = lot.remaining.min(left);
            lot.remaining -= n;
            lot.spent += n;
            draws.push((id, n));
            left -= n;
        }
        draws
    }

    /// A new lot from credit `p`; owed points are repaid from it first.
    fn credit(&mut self, mut p: Posting) -> u64 {
        let expires = p.at.date().add_days(LOT_DAYS);
        p.expires = Some(expires);
        let recover = Posting {
            kind: PostingKind::Recover,
            key: format!("{}/recover", p.key),
            dealer: None,
            expires: None,
            ..p.clone()
        };
        let mut lot = Lot {
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
        let points = p.points;
        let id = self.append(p, 0);
        let owed = self.balance(recover.customer, recover.wallet).owed;
        let n = owed.min(points);
        lot.remaining -= n;
        lot.spent += n;
        self.lots.insert(id, lot);
        if n > 0 {
            note("credit repays owed points");
            self.append(
                Posting {
                    points: -n,
                    cause: Cause::Recovery { credit: id },
                    draws: vec![(id, n)],
                    ..recover
                },
                -n,
            );
        }
        id
    }

    /// The posting an earlier request made under `key`, or a conflict.
    fn idempotent(&self, key: &str, req: &Request) -> Result<Option<u64>, Expect> {
        match self.requests.get(key) {
            Some((orig, id)) if orig == req => Ok(Some(*id)),
            Some((_, id)) => Err(Expect::Conflict { existing: *id }),
            None => match self.keys.get(key) {
                Some(&id) => Err(Expect::Conflict { existing: id }),
                None => Ok(None),
            },
        }
    }

    fn earn(&mut self, id: TouchpointId, t: &Touchpoint) {
        let yuan = |m: Option<Money>| m.map_or(0, |m| m.0.max(0)) / 100;
        let rules: Vec<(&str, i64, Option<Wallet>)> = match t.kind {
            TouchpointKind::Purchase => vec![("purchase", yuan(t.amount), Some(Wallet::Brand))],
            TouchpointKind::ServiceVisit => vec![
                (
                    "service_labour",
                    2 * yuan(t.labour_amount),
                    t.dealer.map(Wallet::Dealer),
                ),
                ("service_parts", yuan(t.parts_amount), Some(Wallet::Brand)),
            ],
            TouchpointKind::ForumPost => vec![("forum_post", 10, Some(Wallet::Brand))],
            _ => vec![],
        };
        for (rule, points, wallet) in rules {
            let Some(wallet) = wallet else { continue };
            if points == 0 || !self.can_earn(t.customer, wallet, t.at.date()) {
                continue;
            }
            self.credit(Posting {
                customer: t.customer,
                wallet,
                kind: PostingKind::Earn,
                points,
                at: t.at,
                key: format!("tp/{}/{rule}", id.0),
                cause: Cause::Touchpoint {
                    touchpoint: id,
                    rule: rule.into(),
                },
                dealer: t.dealer,
                expires: None,
                draws: Vec::new(),
                shortfall: 0,
            });
        }
    }

    /// Spends `points` for debit `p` (a redemption or a negative adjustment).
    fn debit(&mut self, mut p: Posting, points: i64) -> Result<u64, Expect> {
        let on = p.at.date();
        let available = self.spendable(p.customer, p.wallet, on);
        if available < points {
            return Err(Expect::Insufficient {
                available,
                requested: points,
            });
        }
        p.draws = self.draw(p.customer, p.wallet, points, Some(on), None);
        if p.draws.len() > 1 {
            note("debit spans several lots");
        }
        Ok(self.append(p, 0))
    }

    fn redeem(&mut self, r: &Redemption) -> Result<u64, Expect> {
        if let (Wallet::Dealer(dl), Some(at)) = (r.wallet, r.dealer) {
            if dl != at {
                return Err(Expect::Invalid(Refusal::WalletOtherDealer));
            }
        }
        let req = Request::Redeem(r.clone());
        if let Some(id) = self.idempotent(&r.key, &req)? {
            return Ok(id);
        }
        let p = Posting {
            customer: r.customer,
            wallet: r.wallet,
            kind: PostingKind::Redeem,
            points: -r.points,
            at: r.at,
            key: r.key.clone(),
            cause: Cause::Redemption {
                item: r.item.clone(),
            },
            dealer: r.dealer.or(match r.wallet {
                Wallet::Dealer(dl) => Some(dl),
                Wallet::Brand => None,
            }),
            expires: None,
            draws: Vec::new(),
            shortfall: 0,
        };
        let id = self.debit(p, r.points)?;
        self.requests.insert(r.key.clone(), (req, id));
        Ok(id)
    }

    fn adjust(&mut self, a: &Adjustment) -> Result<u64, Expect> {
        let req = Request::Adjust(a.clone());
        if let Some(id) = self.idempotent(&a.key, &req)? {
            return Ok(id);
        }
        let p = Posting {
            customer: a.customer,
            wallet: a.wallet,
            kind: PostingKind::Adjust,
            points: a.points,
            at: a.at,
            key: a.key.clone(),
            cause: Cause::Operator {
                operator: a.operator.clone(),
                reason: a.reason.clone(),
            },
            dealer: None,
            expires: None,
            draws: Vec::new(),
            shortfall: 0,
        };
        let id = if a.points > 0 {
            self.credit(p)
        } else {
            self.debit(p, -a.points)?
        };
        self.requests.insert(a.key.clone(), (req, id));
        Ok(id)
    }

    fn reverse(&mut self, r: &Reversal) -> Result<u64, Expect> {
        let req = Request::Reverse(r.clone());
        if let Some(id) = self.idempotent(&r.key, &req)? {
            return Ok(id);
        }
        let credit = self.postings[&r.credit].clone();
        let is_credit = matches!(credit.kind, PostingKind::Earn | PostingKind::Adjust);
        if !is_credit || credit.points <= 0 {
            return Err(Expect::Invalid(Refusal::ReverseNotACredit));
        }
        let lot = self.lots[&r.credit].clone();
        if lot.reversal.is_some() {
            return Err(Expect::Invalid(Refusal::AlreadyReversed));
        }
        let own = lot.remaining;
        let mut draws = Vec::new();
        if own > 0 {
            draws.push((r.credit, own));
        }
        let others = self.draw(
            credit.customer,
            credit.wallet,
            lot.spent,
            None,
            Some(r.credit),
        );
        let clawed: i64 = others.iter().map(|x| x.1).sum();
        draws.extend(others);
        let shortfall = lot.spent - clawed;
        if shortfall > 0 {
            note("reversal leaves points owed");
        }
        if clawed > 0 {
            note("reversal claws back from other lots");
        }
        if lot.expired > 0 {
            note("reversal of a partly expired lot");
        }
        let id = self.append(
            Posting {
                customer: credit.customer,
                wallet: credit.wallet,
                kind: PostingKind::Reverse,
                points: -(own + clawed),
                at: r.at,
                key: r.key.clone(),
                cause: Cause::Reversal {
                    credit: r.credit,
                    operator: r.operator.clone(),
                    reason: r.reason.clone(),
                },
                dealer: credit.dealer,
                expires: None,
                draws,
                shortfall,
            },
            shortfall,
        );
        let lot = self.lots.get_mut(&r.credit).unwrap();
        lot.reversed = own;
        lot.remaining = 0;
        lot.reversal = Some(id);
        self.requests.insert(r.key.clone(), (req, id));
        Ok(id)
    }

    fn expire(&mut self, as_of: Date) -> ExpiryReport {
        let mut due: Vec<(Date, u64)> = self
            .lots
            .iter()
            .filter(|(_, l)| l.remaining > 0 && l.expires <= as_of)
            .map(|(&id, l)| (l.expires, id))
            .collect();
        due.sort();
        let mut report = ExpiryReport::default();
        for (expires, id) in due {
            let lot = self.lots.get_mut(&id).unwrap();
            let n = lot.remaining;
            lot.remaining = 0;
            lot.expired += n;
            let (customer, wallet) = (lot.customer, lot.wallet);
            self.append(
                Posting {
                    customer,
                    wallet,
                    kind: PostingKind::Expire,
                    points: -n,
                    at: expires.at_midnight(),
                    key: format!("expire/{id}"),
                    cause: Cause::Expiry { as_of },
                    dealer: None,
                    expires: None,
                    draws: vec![(id, n)],
                    shortfall: 0,
                },
                0,
            );
            report.lots += 1;
            report.points += n;
        }
        report
    }

    fn credits(&self) -> Vec<u64> {
        self.postings
            .iter()
            .filter(|(_, p)| {
                matches!(p.kind, PostingKind::Earn | PostingKind::Adjust) && p.points > 0
            })
            .map(|(&id, _)| id)
            .collect()
    }

    fn non_credits(&self) -> Vec<u64> {
        let credits = self.credits();
        self.postings
            .keys()
            .copied()
            .filter(|id| !credits.contains(id))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Running operations.

/// Two dealers and three customers: the first in both dealers' clubs, the second in the first
/// dealer's club, the third only in the brand club and only from 90 days after the start.
fn setup(db: &Database) -> Result<Model, String> {
    let (customers, dealers) = db
        .write(|tx| {
            tx.set_loyalty_config(&LoyaltyConfig::default())?;
            let d1 = tx.insert_dealer(&dealer("SH001"))?;
            let d2 = tx.insert_dealer(&dealer("SH002"))?;
            let a = tx.insert_customer(&Customer::person("王小明"))?;
            let b = tx.insert_customer(&Customer::person("李华"))?;
            let c = tx.insert_customer(&Customer::person("张伟"))?;
            tx.join_dealer_club(a, d1, start(), "dealer")?;
            tx.join_dealer_club(a, d2, start(), "dealer")?;
            tx.join_dealer_club(b, d1, start(), "dealer")?;
            tx.join_brand_club(c, start().add_days(90), "owner_app")?;
            Ok((vec![a, b, c], vec![d1, d2]))
        })
        .map_err(|e| format!("setup failed: {e}"))?;
    Ok(Model {
        clubs: vec![dealers.clone(), vec![dealers[0]], vec![]],
        brand_from: vec![start(), start(), start().add_days(90)],
        customers,
        dealers,
        today: start(),
        next_posting: 1,
        postings: BTreeMap::new(),
        keys: BTreeMap::new(),
        lots: BTreeMap::new(),
        balances: BTreeMap::new(),
        touchpoints: Vec::new(),
        requests: BTreeMap::new(),
        seq: 0,
    })
}

/// Opens the file. Commits need not reach the disk for this test: a clean close (`Reopen`) makes
/// them durable, and crash durability is `ledger_crash.rs`'s business.
fn open(path: &Path) -> Result<Database, String> {
    Database::options()
        .durable(false)
        .open(path)
        .map_err(|e| format!("open failed: {e}"))
}

/// Runs `f` in its own write transaction, committed whatever `f` returned: a refused call must
/// have written nothing.
fn in_txn<T>(
    db: &Database,
    f: impl FnOnce(&mut autocrm::WriteTxn) -> autocrm::Result<T>,
) -> Result<autocrm::Result<T>, String> {
    let mut tx = db.begin_write().map_err(|e| e.to_string())?;
    let out = f(&mut tx);
    tx.commit()
        .map_err(|e| format!("commit after the call failed: {e}"))?;
    Ok(out)
}

fn run_redeem(
    db: &Database,
    m: &mut Model,
    r: &Redemption,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let got = in_txn(db, |tx| tx.redeem(r))?;
    let want = m.redeem(r);
    log.push(format!("redeem({r:?}) -> {got:?}"));
    compare("redeem", got, &want).map(drop)
}

fn run_adjust(
    db: &Database,
    m: &mut Model,
    a: &Adjustment,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let got = in_txn(db, |tx| tx.adjust(a))?;
    let want = m.adjust(a);
    log.push(format!("adjust({a:?}) -> {got:?}"));
    compare("adjust", got, &want).map(drop)
}

fn run_reverse(
    db: &Database,
    m: &mut Model,
    r: &Reversal,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let got = in_txn(db, |tx| tx.reverse(r))?;
    let want = m.reverse(r);
    log.push(format!("reverse({r:?}) -> {got:?}"));
    compare("reverse", got, &want).map(drop)
}

fn run_step(
    db: &mut Option<Database>,
    path: &Path,
    m: &mut Model,
    step: &Step,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let next = match step.advance {
        Advance::Days(n) => m.today.add_days(i32::from(n)),
        Advance::ToExpiry(offset) => m
            .lots
            .values()
            .filter(|l| l.remaining > 0)
            .map(|l| l.expires.add_days(i32::from(offset)))
            .filter(|&on| on > m.today)
            .min()
            .unwrap_or(m.today),
    };
    // Stay within plausible dates (up to 2100) however long the sequence. The model runs
    // ahead of the clock: each transaction that stores a touchpoint says that it is `today`
    // (WriteTxn::set_now), or touchpoints after the real today would be implausible.
    if next < d("2095-01-01") {
        m.today = next;
    }
    let today = m.today;
    let at = today.at(10, 0, 0);
    let handle = db.as_ref().unwrap().clone();
    match &step.op {
        Op::Reopen => {
            log.push("reopen".into());
            drop(handle);
            *db = None;
            *db = Some(open(path)?);
        }
        Op::Earn { who, what, dealer } => {
            let c = m.customer(*who);
            let dealer = m.dealers.get(*dealer as usize).copied();
            m.seq += 1;
            let base = |kind, channel| Touchpoint {
                dealer,
                source: Some(SourceRef::new("dms", format!("RO-{}", m.seq))),
                ..Touchpoint::new(at, c, channel, kind)
            };
            let t = match *what {
                Earn::Purchase { fen } => Touchpoint {
                    amount: fen.map(|f| Money(i64::from(f))),
                    ..base(TouchpointKind::Purchase, Channel::Showroom)
                },
                Earn::Service {
                    labour_fen,
                    parts_fen,
                } => Touchpoint {
                    amount: Some(Money(i64::from(labour_fen) + i64::from(parts_fen))),
                    labour_amount: Some(Money(i64::from(labour_fen))),
                    parts_amount: Some(Money(i64::from(parts_fen))),
                    ..base(TouchpointKind::ServiceVisit, Channel::Showroom)
                },
                Earn::Forum => Touchpoint {
                    dealer: None,
                    ..base(TouchpointKind::ForumPost, Channel::App)
                },
            };
            let got = in_txn(&handle, |tx| {
                tx.set_now(at);
                tx.insert_touchpoint(&t)
            })?;
            log.push(format!("insert_touchpoint({t:?}) -> {got:?}"));
            record_stat("earn", &got);
            let id = got.map_err(|e| format!("insert_touchpoint failed: {e}"))?;
            m.earn(id, &t);
            m.touchpoints.push((id, t));
        }
        Op::Replay { pick } => {
            if m.touchpoints.is_empty() {
                return check(&handle, m, false);
            }
            let (id, t) = m.touchpoints[*pick as usize % m.touchpoints.len()].clone();
            let got = in_txn(&handle, |tx| {
                tx.set_now(at);
                tx.insert_touchpoint(&t)
            })?;
            log.push(format!("insert_touchpoint(again {t:?}) -> {got:?}"));
            compare("replay touchpoint", got, &Ok(id))?;
        }
        Op::Redeem {
            who,
            wallet,
            frac,
            at_dealer,
        } => {
            let (c, wallet) = m.debit_target(*who, *wallet);
            let can = m.spendable(c, wallet, today);
            let r = Redemption {
                customer: c,
                wallet,
                points: (can * i64::from(*frac) / 200).max(1),
                at,
                dealer: m.dealers.get(*at_dealer as usize).copied(),
                item: "car wash".into(),
                key: m.fresh_key("redeem"),
            };
            run_redeem(&handle, m, &r, log)?;
        }
        Op::Adjust {
            who,
            wallet,
            credit,
            points,
            frac,
        } => {
            let (c, wallet) = if *credit {
                (m.customer(*who), m.wallet(*wallet))
            } else {
                m.debit_target(*who, *wallet)
            };
            let points = if *credit {
                i64::from(*points)
            } else {
                -(m.spendable(c, wallet, today) * i64::from(*frac) / 200).max(1)
            };
            let a = Adjustment {
                customer: c,
                wallet,
                points,
                at,
                operator: format!("op{}", m.seq % 3),
                reason: if *credit { "goodwill" } else { "correction" }.into(),
                key: m.fresh_key("adjust"),
            };
            run_adjust(&handle, m, &a, log)?;
        }
        Op::Reverse { pick, among, again } => {
            let pool = match among {
                0 => m.non_credits(),
                1 => m.credits(),
                _ => m
                    .credits()
                    .into_iter()
                    .filter(|id| m.lots[id].reversal.is_none())
                    .collect(),
            };
            if pool.is_empty() {
                return check(&handle, m, false);
            }
            let r = Reversal {
                credit: pool[*pick as usize % pool.len()],
                at,
                operator: "op1".into(),
                reason: "refund".into(),
                key: m.fresh_key("reverse"),
            };
            run_reverse(&handle, m, &r, log)?;
            check(&handle, m, false)?;
            match again {
                1 => {
                    let second = Reversal {
                        key: m.fresh_key("reverse"),
                        ..r
                    };
                    run_reverse(&handle, m, &second, log)?;
                }
                2 => run_reverse(&handle, m, &r, log)?,
                _ => {}
            }
        }
        Op::Expire { back } => {
            let as_of = today.add_days(-i32::from(*back));
            let got = in_txn(&handle, |tx| tx.expire_lots(as_of))?;
            let want = m.expire(as_of);
            log.push(format!("expire_lots({as_of}) -> {got:?}"));
            compare("expire", got, &Ok(want))?;
        }
        Op::Retry { pick, how } => {
            if m.requests.is_empty() {
                return check(&handle, m, false);
            }
            let (req, _) = m
                .requests
                .values()
                .nth(*pick as usize % m.requests.len())
                .unwrap()
                .clone();
            let key = req.key().to_string();
            match (*how, req) {
                (0, Request::Redeem(r)) => run_redeem(&handle, m, &r, log)?,
                (0, Request::Adjust(a)) => run_adjust(&handle, m, &a, log)?,
                (0, Request::Reverse(r)) => run_reverse(&handle, m, &r, log)?,
                (1, Request::Redeem(r)) => {
                    let r = Redemption {
                        points: r.points + 1,
                        ..r
                    };
                    run_redeem(&handle, m, &r, log)?
                }
                (1, Request::Adjust(a)) => {
                    let a = Adjustment {
                        points: a.points + a.points.signum(),
                        ..a
                    };
                    run_adjust(&handle, m, &a, log)?
                }
                (1, Request::Reverse(r)) => {
                    let r = Reversal {
                        reason: "another refund".into(),
                        ..r
                    };
                    run_reverse(&handle, m, &r, log)?
                }
                (_, Request::Redeem(r)) => {
                    let a = Adjustment {
                        customer: r.customer,
                        wallet: r.wallet,
                        points: 5,
                        at: r.at,
                        operator: "op1".into(),
                        reason: "goodwill".into(),
                        key,
                    };
                    run_adjust(&handle, m, &a, log)?
                }
                (_, _) => {
                    let r = Redemption {
                        customer: m.customers[0],
                        wallet: Wallet::Brand,
                        points: 1,
                        at,
                        dealer: None,
                        item: "car wash".into(),
                        key,
                    };
                    run_redeem(&handle, m, &r, log)?
                }
            }
        }
    }
    check(db.as_ref().unwrap(), m, matches!(step.op, Op::Reopen))
}

fn ok<T>(r: autocrm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e} ({e:?})"))
}

macro_rules! ensure_eq {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let (got, want) = ($got, $want);
        if got != want {
            return Err(format!(
                "{}: database has {:?}, model has {:?}",
                format!($($what)+),
                got,
                want
            ));
        }
    }};
}

/// The ledger against the model, through a fresh read transaction. Every posting (with its
/// draws), balance and live lot is compared after every operation; `deep` also compares every
/// lot ever created and looks every key up (after a reopen and at the end of a sequence).
fn check(db: &Database, m: &Model, deep: bool) -> Result<(), String> {
    let r = ok(db.begin_read(), "begin_read")?;
    let ledger = ok(r.verify_ledger(), "verify_ledger")?;
    if !ledger.problems.is_empty() {
        return Err(format!("verify_ledger: {:#?}", ledger.problems));
    }
    ensure_eq!(ledger.postings, m.postings.len() as u64, "postings checked");
    ensure_eq!(ledger.lots, m.lots.len() as u64, "lots checked");
    ensure_eq!(ledger.wallets, m.balances.len() as u64, "wallets checked");

    let wallets: Vec<Wallet> = std::iter::once(Wallet::Brand)
        .chain(m.dealers.iter().map(|&dl| Wallet::Dealer(dl)))
        .collect();
    let today = m.today;
    let dates = [today, today.add_days(365), today.add_days(LOT_DAYS)];
    for &c in &m.customers {
        let want_wallets: Vec<(Wallet, Balance)> = m
            .balances
            .iter()
            .filter(|((cc, _), _)| *cc == c.0)
            .map(|((_, w), b)| (*w, *b))
            .collect();
        ensure_eq!(
            ok(r.wallets_of(c), "wallets_of")?,
            want_wallets,
            "wallets of {c:?}"
        );
        for &w in &wallets {
            let b = ok(r.balance(c, w), "balance")?;
            if b.points < 0 || b.owed < 0 {
                return Err(format!("negative balance of {c:?} {w}: {b:?}"));
            }
            ensure_eq!(b, m.balance(c, w), "balance of {c:?} {w}");
            for on in dates {
                ensure_eq!(
                    ok(r.spendable(c, w, on), "spendable")?,
                    m.spendable(c, w, on),
                    "spendable of {c:?} {w} on {on}"
                );
            }
            let want_lots: Vec<(u64, Lot)> = m
                .live_lots(c, w)
                .into_iter()
                .map(|id| (id, m.lots[&id].clone()))
                .collect();
            ensure_eq!(
                ok(r.lots_of(c, w), "lots_of")?,
                want_lots,
                "live lots of {c:?} {w}"
            );
        }
        let want_postings: Vec<(u64, Posting)> = m
            .postings
            .iter()
            .filter(|(_, p)| p.customer == c)
            .map(|(&id, p)| (id, p.clone()))
            .collect();
        ensure_eq!(
            ok(r.postings_of(c), "postings_of")?,
            want_postings,
            "postings of {c:?}"
        );
    }
    if !deep {
        return Ok(());
    }
    for (&id, lot) in &m.lots {
        ensure_eq!(ok(r.lot(id), "lot")?, lot.clone(), "lot {id}");
    }
    for (key, &id) in &m.keys {
        let got = ok(r.posting_by_key(key), "posting_by_key")?.map(|(id, _)| id);
        ensure_eq!(got, Some(id), "posting of key {key:?}");
    }
    Ok(())
}

fn run_sequence(steps: &[Step]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join("ledger.redb");
    let mut db = Some(open(&path).map_err(TestCaseError::fail)?);
    let mut model = setup(db.as_ref().unwrap()).map_err(TestCaseError::fail)?;
    let mut log = Vec::new();
    check(db.as_ref().unwrap(), &model, true).map_err(TestCaseError::fail)?;
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = run_step(&mut db, &path, &mut model, step, &mut log) {
            return Err(TestCaseError::fail(format!(
                "after step #{i} ({step:?}) on {}: {e}\nresolved calls:\n  {}",
                model.today,
                log.join("\n  ")
            )));
        }
    }
    check(db.as_ref().unwrap(), &model, true)
        .map_err(|e| TestCaseError::fail(format!("at the end: {e}\n  {}", log.join("\n  "))))
}

#[test]
fn ledger_agrees_with_the_model() {
    assert_eq!(
        LoyaltyConfig::default().lot_days as i32,
        LOT_DAYS,
        "the model assumes the default lot life"
    );
    let config = ProptestConfig {
        // PROPTEST_CASES=2000 for a deeper search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        // Only this file is ours: keep regressions out of the source tree.
        failure_persistence: None,
        max_shrink_iters: 4096,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    // A few earnings up front so that most operations meet wallets with points.
    let earnings = proptest::collection::vec(
        (any::<u8>(), earn(), 0u8..3).prop_map(|(who, what, dealer)| Step {
            advance: Advance::Days(0),
            op: Op::Earn { who, what, dealer },
        }),
        0..5,
    );
    let steps = (earnings, proptest::collection::vec(step(), 1..40)).prop_map(|(mut all, rest)| {
        all.extend(rest);
        all
    });
    let result = runner.run(&steps, |steps| run_sequence(&steps));
    if std::env::var_os("LEDGER_MODEL_STATS").is_some() {
        STATS.with(|st| st.borrow().iter().for_each(|(k, v)| eprintln!("{v:6} {k}")));
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Focused tests.

/// Regression: a caller's key shaped like a key the ledger gives its own postings (an expiry,
/// a recovery, a touchpoint's earning) used to be accepted; the ledger's posting then took the
/// key over (`verify_ledger`: "key leads to" another posting, fewer keys than postings), or the
/// touchpoint could no longer be stored (`idempotency_conflict`). Such keys are now refused.
#[test]
fn caller_keys_cannot_take_the_ledgers_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("keys.redb")).unwrap();
    let m = setup(&db).unwrap();
    let c = m.customers[0];
    let on = start().add_days(1);
    let adjust = |points, key: &str| Adjustment {
        customer: c,
        wallet: Wallet::Brand,
        points,
        at: on.at(9, 0, 0),
        operator: "op1".into(),
        reason: "goodwill".into(),
        key: key.into(),
    };
    let redeem = |points, key: &str| Redemption {
        customer: c,
        wallet: Wallet::Brand,
        points,
        at: on.at(10, 0, 0),
        dealer: None,
        item: "car wash".into(),
        key: key.into(),
    };
    let lot = db.write(|tx| tx.adjust(&adjust(100, "a1"))).unwrap();
    let reverse = |key: &str| Reversal {
        credit: lot,
        at: on.at(11, 0, 0),
        operator: "op1".into(),
        reason: "refund".into(),
        key: key.into(),
    };
    let not_allowed = |r: autocrm::Result<u64>| match r {
        Err(Error::Validation(v)) => {
            assert_eq!((v.field, v.rule), ("key", autocrm::Rule::NotAllowed));
        }
        other => panic!("expected a refused key, got {other:?}"),
    };
    let expiry_key = format!("expire/{lot}");
    not_allowed(db.write(|tx| tx.adjust(&adjust(50, &expiry_key))));
    not_allowed(db.write(|tx| tx.adjust(&adjust(-5, " tp/1/purchase "))));
    not_allowed(db.write(|tx| tx.redeem(&redeem(5, "a2/recover"))));
    not_allowed(db.write(|tx| tx.reverse(&reverse("tp/9/forum_post"))));
    // Keys that merely resemble them are fine.
    db.write(|tx| tx.redeem(&redeem(60, "recover"))).unwrap();
    db.write(|tx| tx.reverse(&reverse("expire"))).unwrap();
    // 60 points are owed now: the next credit's recovery, a touchpoint's earning and the
    // expiry run each get their own key.
    db.write(|tx| tx.adjust(&adjust(70, "a2"))).unwrap();
    let t = Touchpoint {
        amount: Some(Money::yuan(100)),
        ..Touchpoint::new(
            on.at(12, 0, 0),
            c,
            Channel::Showroom,
            TouchpointKind::Purchase,
        )
    };
    db.write(|tx| tx.insert_touchpoint(&t)).unwrap();
    let report = db
        .write(|tx| tx.expire_lots(on.add_days(LOT_DAYS)))
        .unwrap();
    assert_eq!((report.lots, report.points), (2, 110));
    let r = db.begin_read().unwrap();
    let check = r.verify_ledger().unwrap();
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
    assert_eq!(check.postings, 8);
    assert!(r.posting_by_key("a2/recover").unwrap().is_some());
    assert_eq!(r.balance(c, Wallet::Brand).unwrap(), Balance::default());
}
