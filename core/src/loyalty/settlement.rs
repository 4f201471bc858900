//! Settlement of brand points between dealers: points issued by one dealer and redeemed at
//! another are owed by the issuer to the redeemer, at the configured rate.

use std::collections::BTreeMap;

use super::ledger::{Posting, PostingKind};
use super::{Lot, Wallet};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::ids::DealerId;
use crate::money::Money;
use crate::store::{get_record, ReadTxn};

/// One line of a settlement statement: `debtor` owes `creditor` for `points` brand points
/// redeemed at the creditor that the debtor issued, net of the opposite direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettlementLine {
    /// The dealer that issued the points (and was paid for what earned them).
    pub debtor: DealerId,
    /// The dealer where they were redeemed.
    pub creditor: DealerId,
    /// Net points.
    pub points: i64,
    /// What they are worth at the configured rate, rounded half up to the fen.
    pub amount: Money,
}

/// `points` at `per_100` per 100 points, rounded half up to the fen (exact integer maths).
pub(crate) fn points_value(points: i64, per_100: Money) -> Money {
    let fen = i128::from(points) * i128::from(per_100.0);
    Money(((fen + 50).div_euclid(100)) as i64)
}

impl ReadTxn {
    /// The settlement statement for redemptions made on days in `[from, to)`: for each pair of
    /// dealers, who owes whom in points and money. Only brand points move between dealers;
    /// points without an issuing dealer (operator credits) or redeemed without a dealer, and
    /// points redeemed where they were issued, settle nothing.
    pub fn settlement(&self, from: Date, to: Date) -> Result<Vec<SettlementLine>> {
        let rate = self
            .loyalty_config()?
            .unwrap_or_default()
            .settlement_per_100_points;
        let postings = self.tables.postings()?;
        let lots = self.tables.lots()?;
        let mut gross: BTreeMap<(DealerId, DealerId), i64> = BTreeMap::new();
        for e in self
            .tables
            .redemptions()?
            .range((from.days(), 0)..(to.days(), 0))?
        {
            let id = e?.0.value().1;
            let p: Posting = get_record(postings, id)?
                .ok_or_else(|| Error::dangling("redemptions", "posting", id))?;
            let (PostingKind::Redeem, Wallet::Brand, Some(redeemer)) = (p.kind, p.wallet, p.dealer)
            else {
                continue;
            };
            for (lot_id, n) in p.draws {
                let lot: Lot = get_record(lots, lot_id)?
                    .ok_or_else(|| Error::dangling("posting", "lot", lot_id))?;
                if let Some(issuer) = lot.issuer.filter(|i| *i != redeemer) {
                    *gross.entry((issuer, redeemer)).or_default() += n;
                }
            }
        }
        let mut lines = Vec::new();
        for (&(a, b), &ab) in &gross {
            if a > b && gross.contains_key(&(b, a)) {
                continue; // netted from the other side
            }
            let ba = gross.get(&(b, a)).copied().unwrap_or(0);
            let (debtor, creditor, points) = if ab >= ba {
                (a, b, ab - ba)
            } else {
                (b, a, ba - ab)
            };
            if points > 0 {
                lines.push(SettlementLine {
                    debtor,
                    creditor,
                    points,
                    amount: points_value(points, rate),
                });
            }
        }
        lines.sort_by_key(|l| (l.debtor, l.creditor));
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rounds_half_up_to_the_fen() {
        assert_eq!(points_value(150, Money::yuan(1)), Money(150)); // ¥1 per 100 → 1 fen each
        assert_eq!(points_value(1, Money(50)), Money(1)); // 0.5 fen → 1
        assert_eq!(points_value(1, Money(49)), Money(0)); // 0.49 fen → 0
        assert_eq!(points_value(3, Money(50)), Money(2)); // 1.5 fen → 2
    }
}
