//! The club's rules as data: earning rules, tier multipliers, lot life, tier thresholds,
//! benefits and the settlement rate. Stored in the database, so every program that opens the
//! file applies the same rules.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::Tier;
use crate::codec::{self, Model, ModelKind};
use crate::error::{Result, Rule, ValidationError};
use crate::money::Money;
use crate::store::ReadView;
use crate::store::{decode_stored, ReadTxn, Tx, WriteTxn};
use crate::touchpoint::{Touchpoint, TouchpointKind};

/// Which amount of a touchpoint a per-yuan rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmountField {
    /// The total amount paid.
    Total,
    /// The parts share.
    Parts,
    /// The labour share.
    Labour,
}

/// How many points a qualifying touchpoint earns before the tier multiplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EarnBasis {
    /// `points_per_yuan` for every whole yuan of an amount (fractions of a yuan earn nothing).
    PerYuan {
        /// The amount read.
        amount: AmountField,
        /// Points per whole yuan.
        points_per_yuan: u32,
    },
    /// A fixed number of points (events, forum posts, referrals).
    Fixed(u32),
}

/// Which wallet a rule credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalletRule {
    /// The brand wallet (the issuing dealer, if any, is recorded for settlement).
    Brand,
    /// The wallet of the touchpoint's dealer; touchpoints without a dealer earn nothing here.
    IssuingDealer,
}

/// One earning rule: touchpoints of `kind` earn points into a wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarnRule {
    /// Unique name; part of the idempotency key of the postings it makes.
    pub name: String,
    /// The touchpoint kind that qualifies.
    pub kind: TouchpointKind,
    /// Points before the tier multiplier.
    pub basis: EarnBasis,
    /// The wallet credited.
    pub wallet: WalletRule,
}

impl EarnRule {
    /// Points `t` earns under this rule before the tier multiplier (0 if it does not qualify).
    pub fn base_points(&self, t: &Touchpoint) -> i64 {
        if t.kind != self.kind {
            return 0;
        }
        match self.basis {
            EarnBasis::Fixed(p) => i64::from(p),
            EarnBasis::PerYuan {
                amount,
                points_per_yuan,
            } => {
                let fen = match amount {
                    AmountField::Total => t.amount,
                    AmountField::Parts => t.parts_amount,
                    AmountField::Labour => t.labour_amount,
                }
                .map_or(0, |m| m.0.max(0));
                fen / 100 * i64::from(points_per_yuan)
            }
        }
    }
}

/// The thresholds that qualify a customer for a tier over the tier window. Meeting any one
/// set threshold is enough; unset thresholds do not count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRule {
    /// The tier granted (above normal).
    pub tier: Tier,
    /// Vehicles bought (purchase touchpoints) in the window.
    pub min_vehicles: Option<u32>,
    /// Service visits in the window.
    pub min_service_visits: Option<u32>,
    /// Total amount paid in the window.
    pub min_total_spend: Option<Money>,
    /// Largest single amount paid in the window.
    pub min_single_ticket: Option<Money>,
    /// Points earned in the window (credits from touchpoints, net of reversals; not the
    /// spendable balance).
    pub min_qualifying_points: Option<i64>,
}

/// What a tier is entitled to. Discounts are in whole percent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefits {
    /// Discount on labour.
    pub labour_discount_pct: u8,
    /// Discount on parts.
    pub parts_discount_pct: u8,
    /// Discount on roadside rescue.
    pub rescue_discount_pct: u8,
    /// Priority booking and reception.
    pub priority: bool,
}

/// The whole club configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyConfig {
    /// Earning rules; several may apply to one touchpoint.
    pub rules: Vec<EarnRule>,
    /// Earning multiplier per tier in percent (100 = ×1); tiers not listed earn ×1.
    pub multipliers: Vec<(Tier, u32)>,
    /// Days from earning to expiry of a lot.
    pub lot_days: u32,
    /// Tier thresholds; the highest tier whose rule is met applies.
    pub tiers: Vec<TierRule>,
    /// Length of the tier qualification window in days, ending on the as-of date.
    pub tier_window_days: u32,
    /// A customer keeps a tier for this many days after last qualifying for it.
    pub downgrade_grace_days: u32,
    /// Benefits per tier; tiers not listed have none.
    pub benefits: Vec<(Tier, Benefits)>,
    /// What 100 points are worth when dealers settle brand points between them.
    pub settlement_per_100_points: Money,
}

impl Default for LoyaltyConfig {
    /// A plausible starting configuration: 1 brand point per yuan of a purchase and of parts,
    /// 2 dealer points per yuan of labour, fixed points for club activities, forum posts and
    /// referrals; lots live two years; silver and gold over a one-year window with 90 days of
    /// grace; 100 points settle at ¥1.
    fn default() -> LoyaltyConfig {
        let rule = |name: &str, kind, basis, wallet| EarnRule {
            name: name.into(),
            kind,
            basis,
            wallet,
        };
        let per_yuan = |amount, points_per_yuan| EarnBasis::PerYuan {
            amount,
            points_per_yuan,
        };
        LoyaltyConfig {
            rules: vec![
                rule(
                    "purchase",
                    TouchpointKind::Purchase,
                    per_yuan(AmountField::Total, 1),
                    WalletRule::Brand,
                ),
                rule(
                    "service_labour",
                    TouchpointKind::ServiceVisit,
                    per_yuan(AmountField::Labour, 2),
                    WalletRule::IssuingDealer,
                ),
                rule(
                    "service_parts",
                    TouchpointKind::ServiceVisit,
                    per_yuan(AmountField::Parts, 1),
                    WalletRule::Brand,
                ),
                rule(
                    "club_activity",
                    TouchpointKind::ClubActivity,
                    EarnBasis::Fixed(200),
                    WalletRule::Brand,
                ),
                rule(
                    "forum_post",
                    TouchpointKind::ForumPost,
                    EarnBasis::Fixed(10),
                    WalletRule::Brand,
                ),
                rule(
                    "referral",
                    TouchpointKind::Referral,
                    EarnBasis::Fixed(5000),
                    WalletRule::Brand,
                ),
            ],
            multipliers: vec![(Tier::Silver, 120), (Tier::Gold, 150)],
            lot_days: 730,
            tiers: vec![
                TierRule {
                    tier: Tier::Silver,
                    min_service_visits: Some(2),
                    min_total_spend: Some(Money::yuan(20_000)),
                    ..TierRule::default()
                },
                TierRule {
                    tier: Tier::Gold,
                    min_vehicles: Some(2),
                    min_total_spend: Some(Money::yuan(100_000)),
                    min_qualifying_points: Some(100_000),
                    ..TierRule::default()
                },
            ],
            tier_window_days: 365,
            downgrade_grace_days: 90,
            benefits: vec![
                (
                    Tier::Silver,
                    Benefits {
                        labour_discount_pct: 5,
                        parts_discount_pct: 0,
                        rescue_discount_pct: 50,
                        priority: false,
                    },
                ),
                (
                    Tier::Gold,
                    Benefits {
                        labour_discount_pct: 10,
                        parts_discount_pct: 5,
                        rescue_discount_pct: 100,
                        priority: true,
                    },
                ),
            ],
            settlement_per_100_points: Money::yuan(1),
        }
    }
}

impl LoyaltyConfig {
    /// The earning multiplier of `tier` in percent.
    pub fn multiplier(&self, tier: Tier) -> u32 {
        self.multipliers
            .iter()
            .find(|(t, _)| *t == tier)
            .map_or(100, |(_, m)| *m)
    }

    /// The benefits of `tier`.
    pub fn benefits_of(&self, tier: Tier) -> Benefits {
        self.benefits
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }

    /// Checks the configuration; the error names the field and the rule.
    pub fn validate(&self) -> std::result::Result<(), ValidationError> {
        let mut names: Vec<&str> = Vec::new();
        for r in &self.rules {
            let name = r.name.trim();
            if name.is_empty() {
                return Err(ValidationError::new("rules.name", Rule::Required, name));
            }
            if name != r.name || name.contains('/') {
                return Err(ValidationError::new(
                    "rules.name",
                    Rule::NotAllowed,
                    &r.name,
                ));
            }
            if names.contains(&name) {
                return Err(ValidationError::new("rules.name", Rule::Duplicate, name));
            }
            names.push(name);
        }
        for &(tier, pct) in &self.multipliers {
            if pct > 1000 {
                return Err(ValidationError::new(
                    "multipliers",
                    Rule::OutOfRange,
                    format!("{}: {pct}%", tier.name()),
                ));
            }
        }
        if self.lot_days == 0 || self.lot_days > 36_500 {
            return Err(ValidationError::new(
                "lot_days",
                Rule::OutOfRange,
                self.lot_days.to_string(),
            ));
        }
        if self.tier_window_days == 0 || self.tier_window_days > 3_650 {
            return Err(ValidationError::new(
                "tier_window_days",
                Rule::OutOfRange,
                self.tier_window_days.to_string(),
            ));
        }
        if self.downgrade_grace_days > 3_650 {
            return Err(ValidationError::new(
                "downgrade_grace_days",
                Rule::OutOfRange,
                self.downgrade_grace_days.to_string(),
            ));
        }
        for t in &self.tiers {
            if t.tier == Tier::Normal {
                return Err(ValidationError::new(
                    "tiers.tier",
                    Rule::NotAllowed,
                    "normal",
                ));
            }
            let none = t.min_vehicles.is_none()
                && t.min_service_visits.is_none()
                && t.min_total_spend.is_none()
                && t.min_single_ticket.is_none()
                && t.min_qualifying_points.is_none();
            if none {
                return Err(ValidationError::new(
                    "tiers",
                    Rule::Required,
                    format!("{}: no threshold", t.tier.name()),
                ));
            }
        }
        if self.settlement_per_100_points.0 < 0 {
            return Err(ValidationError::new(
                "settlement_per_100_points",
                Rule::Negative,
                self.settlement_per_100_points.to_string(),
            ));
        }
        Ok(())
    }
}

impl Model for LoyaltyConfig {
    const KIND: ModelKind = ModelKind::LoyaltyConfig;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "loyalty configuration";
}

const CONFIG_KEY: &str = "config";

impl Tx<'_> {
    /// Stores the club configuration (validated first). Postings already made keep the points
    /// they were made with; new touchpoints earn under the new rules.
    pub fn set_loyalty_config(&mut self, config: &LoyaltyConfig) -> Result<()> {
        config.validate()?;
        self.writing(|tx| {
            tx.t.loyalty()?
                .insert(CONFIG_KEY, codec::encode(config).as_slice())?;
            Ok(())
        })
    }

    /// The club configuration, if the club has been set up.
    pub fn loyalty_config(&self) -> Result<Option<LoyaltyConfig>> {
        loyalty_config_in(&self.t)
    }
}

impl ReadTxn {
    /// The club configuration, if the club has been set up.
    pub fn loyalty_config(&self) -> Result<Option<LoyaltyConfig>> {
        loyalty_config_in(&self.tables)
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Stores the club configuration (validated first). Postings already made keep the points
    /// they were made with; new touchpoints earn under the new rules.
    pub fn set_loyalty_config(&mut self, config: &LoyaltyConfig) -> Result<()> {
        self.tx().set_loyalty_config(config)
    }

    /// The club configuration, if the club has been set up.
    pub fn loyalty_config(&self) -> Result<Option<LoyaltyConfig>> {
        self.tx().loyalty_config()
    }
}

/// [`ReadTxn::loyalty_config`], for either kind of transaction.
pub(crate) fn loyalty_config_in(t: &impl ReadView) -> Result<Option<LoyaltyConfig>> {
    let t = t.loyalty()?;
    let v = t.get(CONFIG_KEY)?;
    v.map(|v| decode_stored(v.value())).transpose()
}
