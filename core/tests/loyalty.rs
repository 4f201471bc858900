//! The loyalty club through the public API, with hand-computed expectations: earning under the
//! default rules, FIFO redemption, expiry boundaries, reversal after spending (owed points and
//! their recovery), idempotency keys, tiers with grace and floors, benefits and settlement.

use autocrm::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{d, dealer};

struct Club {
    db: Database,
    d1: DealerId,
    d2: DealerId,
    wang: CustomerId,
    li: CustomerId,
}

/// Two dealers, two customers; Wang is in D1's club (and so the brand club), Li only in the
/// brand club. Default configuration.
fn club() -> Club {
    let db = Database::in_memory().unwrap();
    let (d1, d2, wang, li) = db
        .write(|tx| {
            tx.set_loyalty_config(&LoyaltyConfig::default())?;
            let d1 = tx.insert_dealer(&dealer("SH001"))?;
            let d2 = tx.insert_dealer(&dealer("SH002"))?;
            let wang = tx.insert_customer(&Customer::person("王小明"))?;
            let li = tx.insert_customer(&Customer::person("李华"))?;
            tx.join_dealer_club(wang, d1, d("2024-01-01"), "dealer")?;
            tx.join_brand_club(li, d("2024-01-01"), "owner_app")?;
            Ok((d1, d2, wang, li))
        })
        .unwrap();
    Club {
        db,
        d1,
        d2,
        wang,
        li,
    }
}

fn touch(
    c: CustomerId,
    at: DateTime,
    kind: TouchpointKind,
    dealer: Option<DealerId>,
) -> Touchpoint {
    Touchpoint {
        dealer,
        ..Touchpoint::new(at, c, Channel::Showroom, kind)
    }
}

fn purchase(c: CustomerId, on: &str, yuan_fen: i64, dealer: DealerId) -> Touchpoint {
    Touchpoint {
        amount: Some(Money(yuan_fen)),
        ..touch(
            c,
            d(on).at(10, 0, 0),
            TouchpointKind::Purchase,
            Some(dealer),
        )
    }
}

fn service(c: CustomerId, on: &str, labour: i64, parts: i64, dealer: DealerId) -> Touchpoint {
    Touchpoint {
        amount: Some(Money(labour + parts)),
        labour_amount: Some(Money(labour)),
        parts_amount: Some(Money(parts)),
        ..touch(
            c,
            d(on).at(9, 0, 0),
            TouchpointKind::ServiceVisit,
            Some(dealer),
        )
    }
}

fn redemption(c: CustomerId, wallet: Wallet, points: i64, on: &str, key: &str) -> Redemption {
    Redemption {
        customer: c,
        wallet,
        points,
        at: d(on).at(12, 0, 0),
        dealer: None,
        item: "car wash".into(),
        key: key.into(),
    }
}

fn credit(c: CustomerId, wallet: Wallet, points: i64, on: &str, key: &str) -> Adjustment {
    Adjustment {
        customer: c,
        wallet,
        points,
        at: d(on).at(8, 0, 0),
        operator: "op1".into(),
        reason: "goodwill".into(),
        key: key.into(),
    }
}

fn sound(db: &Database) {
    let check = db.begin_read().unwrap().verify_ledger().unwrap();
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
}

#[test]
fn members_earn_under_the_rules_and_replays_earn_nothing() {
    let c = club();
    let stranger =
        c.db.write(|tx| tx.insert_customer(&Customer::person("赵强")))
            .unwrap();
    c.db.write(|tx| {
        // ¥200,000.50: 200,000 points, the half yuan earns nothing.
        tx.insert_touchpoint(&purchase(c.wang, "2024-03-01", 20_000_050, c.d1))?;
        // Labour ¥300.99 → 2 × 300 dealer points at D1; parts ¥150 → 150 brand points.
        let mut s = service(c.wang, "2024-06-01", 30_099, 15_000, c.d1);
        s.source = Some(SourceRef::new("dms", "RO-1"));
        tx.insert_touchpoint(&s)?;
        tx.insert_touchpoint(&s)?; // delivered twice by the feed
                                   // Li is not in D1's club: the parts points only.
        tx.insert_touchpoint(&service(c.li, "2024-06-01", 30_000, 10_000, c.d1))?;
        // Not a member: nothing.
        tx.insert_touchpoint(&purchase(stranger, "2024-03-01", 1_000_000, c.d1))?;
        Ok(())
    })
    .unwrap();
    let r = c.db.begin_read().unwrap();
    assert_eq!(r.balance(c.wang, Wallet::Brand).unwrap().points, 200_150);
    assert_eq!(r.balance(c.wang, Wallet::Dealer(c.d1)).unwrap().points, 600);
    assert_eq!(r.balance(c.li, Wallet::Brand).unwrap().points, 100);
    assert_eq!(r.balance(c.li, Wallet::Dealer(c.d1)).unwrap().points, 0);
    assert!(r.postings_of(stranger).unwrap().is_empty());
    assert_eq!(r.postings_of(c.wang).unwrap().len(), 3);
    // The purchase lot expires 730 days after it was earned, and names its touchpoint.
    let (id, p) = &r.postings_of(c.wang).unwrap()[0];
    assert_eq!(p.expires, Some(d("2024-03-01").add_days(730)));
    let Cause::Touchpoint { touchpoint, rule } = &p.cause else {
        panic!("{p:?}")
    };
    assert_eq!(rule, "purchase");
    assert_eq!(r.earnings_of_touchpoint(*touchpoint).unwrap(), vec![*id]);
    sound(&c.db);
}

#[test]
fn redemption_spends_earliest_expiring_lots_and_never_overdraws() {
    let c = club();
    let w = Wallet::Brand;
    c.db.write(|tx| {
        tx.adjust(&credit(c.wang, w, 300, "2024-05-01", "a"))?; // expires 2026-05-01
        tx.adjust(&credit(c.wang, w, 500, "2024-01-01", "b"))?; // expires 2025-12-31
        Ok(())
    })
    .unwrap();
    let id =
        c.db.write(|tx| tx.redeem(&redemption(c.wang, w, 600, "2025-01-01", "r1")))
            .unwrap();
    let r = c.db.begin_read().unwrap();
    let p = r.posting(id).unwrap();
    let b = r.posting_by_key("b").unwrap().unwrap().0;
    let a = r.posting_by_key("a").unwrap().unwrap().0;
    assert_eq!(p.draws, vec![(b, 500), (a, 100)]);
    assert_eq!(r.balance(c.wang, w).unwrap().points, 200);
    drop(r);

    // More than the wallet holds: refused, nothing written.
    let err =
        c.db.write(|tx| tx.redeem(&redemption(c.wang, w, 201, "2025-01-02", "r2")))
            .unwrap_err();
    assert_eq!(err.code(), "insufficient_points");
    assert!(c
        .db
        .begin_read()
        .unwrap()
        .posting_by_key("r2")
        .unwrap()
        .is_none());

    // Dealer points only at their dealer.
    c.db.write(|tx| tx.adjust(&credit(c.wang, Wallet::Dealer(c.d1), 50, "2025-01-01", "c")))
        .unwrap();
    let mut at_d2 = redemption(c.wang, Wallet::Dealer(c.d1), 10, "2025-01-02", "r3");
    at_d2.dealer = Some(c.d2);
    let err = c.db.write(|tx| tx.redeem(&at_d2)).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.wallet_other_dealer");
    sound(&c.db);
}

#[test]
fn expiry_runs_on_the_expiry_day_once() {
    let c = club();
    let w = Wallet::Brand;
    c.db.write(|tx| tx.adjust(&credit(c.wang, w, 400, "2024-01-01", "a")))
        .unwrap();
    let expires = d("2024-01-01").add_days(730); // 2025-12-31
    assert_eq!(expires, d("2025-12-31"));
    let r = c.db.begin_read().unwrap();
    assert_eq!(r.spendable(c.wang, w, d("2025-12-30")).unwrap(), 400);
    assert_eq!(r.spendable(c.wang, w, expires).unwrap(), 0); // not spendable on the day
    drop(r);
    let err =
        c.db.write(|tx| tx.redeem(&redemption(c.wang, w, 1, "2025-12-31", "late")))
            .unwrap_err();
    assert_eq!(err.code(), "insufficient_points");

    let before = c.db.write(|tx| tx.expire_lots(d("2025-12-30"))).unwrap();
    assert_eq!(before, ExpiryReport::default());
    let on_day = c.db.write(|tx| tx.expire_lots(expires)).unwrap();
    assert_eq!((on_day.lots, on_day.points), (1, 400));
    let again = c.db.write(|tx| tx.expire_lots(d("2026-06-01"))).unwrap();
    assert_eq!(again, ExpiryReport::default());
    let r = c.db.begin_read().unwrap();
    assert_eq!(r.balance(c.wang, w).unwrap().points, 0);
    let (_, p) = r.postings_of(c.wang).unwrap().pop().unwrap();
    assert_eq!(
        (p.kind, p.points, p.at),
        (PostingKind::Expire, -400, expires.at_midnight())
    );
    sound(&c.db);
}

#[test]
fn reversal_after_spending_owes_the_shortfall_and_recovers_it_from_later_earnings() {
    let c = club();
    let w = Wallet::Brand;
    c.db.write(|tx| {
        tx.adjust(&credit(c.wang, w, 1000, "2024-01-01", "lot1"))?;
        tx.adjust(&credit(c.wang, w, 500, "2024-02-01", "lot2"))?;
        tx.redeem(&redemption(c.wang, w, 1200, "2024-03-01", "spend"))?; // lot1 1000, lot2 200
        Ok(())
    })
    .unwrap();
    let lot1 =
        c.db.begin_read()
            .unwrap()
            .posting_by_key("lot1")
            .unwrap()
            .unwrap()
            .0;
    let reversal = Reversal {
        credit: lot1,
        at: d("2024-04-01").at(9, 0, 0),
        operator: "op1".into(),
        reason: "refund of invoice 42".into(),
        key: "rev1".into(),
    };
    let rev = c.db.write(|tx| tx.reverse(&reversal)).unwrap();
    let r = c.db.begin_read().unwrap();
    let p = r.posting(rev).unwrap();
    // Nothing left in lot1; its 1000 spent points: 300 from lot2, 700 owed.
    assert_eq!((p.points, p.shortfall), (-300, 700));
    assert_eq!(
        r.balance(c.wang, w).unwrap(),
        Balance {
            points: 0,
            owed: 700
        }
    );
    drop(r);
    sound(&c.db);

    // Same key, same request: the same posting. Reversing again: refused.
    assert_eq!(c.db.write(|tx| tx.reverse(&reversal)).unwrap(), rev);
    let twice = Reversal {
        key: "rev2".into(),
        ..reversal.clone()
    };
    let err = c.db.write(|tx| tx.reverse(&twice)).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.already_reversed");

    // The next earnings repay what is owed first.
    c.db.write(|tx| tx.adjust(&credit(c.wang, w, 1000, "2024-05-01", "lot3")))
        .unwrap();
    let r = c.db.begin_read().unwrap();
    assert_eq!(
        r.balance(c.wang, w).unwrap(),
        Balance {
            points: 300,
            owed: 0
        }
    );
    let recover = r.posting_by_key("lot3/recover").unwrap().unwrap().1;
    assert_eq!((recover.kind, recover.points), (PostingKind::Recover, -700));
    drop(r);
    sound(&c.db);
}

#[test]
fn idempotency_keys_return_the_posting_or_refuse_a_different_request() {
    let c = club();
    let w = Wallet::Brand;
    c.db.write(|tx| tx.adjust(&credit(c.wang, w, 1000, "2024-01-01", "a")))
        .unwrap();
    let req = redemption(c.wang, w, 100, "2024-02-01", "r");
    let first = c.db.write(|tx| tx.redeem(&req)).unwrap();
    let retry = c.db.write(|tx| tx.redeem(&req)).unwrap();
    assert_eq!(first, retry);
    let other = Redemption {
        points: 101,
        ..req.clone()
    };
    let err = c.db.write(|tx| tx.redeem(&other)).unwrap_err();
    assert!(
        matches!(err, Error::IdempotencyConflict { existing, .. } if existing == first),
        "{err:?}"
    );
    let r = c.db.begin_read().unwrap();
    assert_eq!(r.balance(c.wang, w).unwrap().points, 900);
    assert_eq!(r.postings_of(c.wang).unwrap().len(), 2);
    drop(r);
    // Bad requests name the field.
    let err =
        c.db.write(|tx| {
            tx.adjust(&Adjustment {
                reason: " ".into(),
                ..credit(c.wang, w, 5, "2024-01-01", "x")
            })
        })
        .unwrap_err();
    assert_eq!(err.code(), "validation.required");
    let err =
        c.db.write(|tx| tx.redeem(&redemption(c.wang, w, 0, "2024-02-01", "y")))
            .unwrap_err();
    assert_eq!(err.code(), "validation.out_of_range");
}

#[test]
fn tiers_follow_the_window_with_grace_and_floors() {
    let c = club();
    c.db.write(|tx| {
        tx.insert_touchpoint(&service(c.wang, "2025-01-10", 10_000, 0, c.d1))?;
        tx.insert_touchpoint(&service(c.wang, "2025-03-01", 10_000, 0, c.d1))?;
        Ok(())
    })
    .unwrap();
    let tier = |on: &str| {
        c.db.begin_read()
            .unwrap()
            .tier_status(c.wang, d(on))
            .unwrap()
    };
    assert_eq!(tier("2025-02-28").tier, Tier::Normal); // one visit
    assert_eq!(tier("2025-03-01").tier, Tier::Silver); // two visits in the window
                                                       // 2026-01-10: the 2025-01-10 visit is exactly 365 days back, outside the window; grace
                                                       // keeps silver for 90 days after the last day it qualified (2026-01-09).
    let s = tier("2026-01-10");
    assert_eq!(
        (s.qualified, s.tier, s.by_grace),
        (Tier::Normal, Tier::Silver, true)
    );
    assert_eq!(tier("2026-04-09").tier, Tier::Silver);
    assert_eq!(tier("2026-04-10").tier, Tier::Normal);

    // The spendable balance does not make a tier.
    c.db.write(|tx| {
        tx.adjust(&credit(
            c.wang,
            Wallet::Brand,
            1_000_000,
            "2025-03-01",
            "big",
        ))
    })
    .unwrap();
    assert_eq!(tier("2025-03-02").tier, Tier::Silver);

    // An operator floor lifts the tier while it applies.
    c.db.write(|tx| {
        tx.set_tier_floor(
            c.wang,
            &Floor {
                tier: Tier::Gold,
                from: d("2026-02-01"),
                until: Some(d("2026-03-01")),
                operator: "op1".into(),
                reason: "fleet account".into(),
            },
        )
    })
    .unwrap();
    let s = tier("2026-02-15");
    assert_eq!(s.tier, Tier::Gold);
    assert_eq!(s.floor.unwrap().reason, "fleet account");
    assert_eq!(tier("2026-03-01").tier, Tier::Silver); // floor over, grace still on
    let r = c.db.begin_read().unwrap();
    assert_eq!(
        r.benefits(c.wang, d("2026-02-15"))
            .unwrap()
            .labour_discount_pct,
        10
    );
    assert_eq!(
        r.benefits(c.wang, d("2025-03-01"))
            .unwrap()
            .labour_discount_pct,
        5
    );
    assert_eq!(
        r.benefits(c.wang, d("2027-01-01")).unwrap(),
        Benefits::default()
    );
}

#[test]
fn tier_reviews_record_history_and_drive_multipliers() {
    let c = club();
    c.db.write(|tx| {
        tx.insert_touchpoint(&service(c.wang, "2025-01-10", 10_000, 0, c.d1))?;
        tx.insert_touchpoint(&service(c.wang, "2025-03-01", 10_000, 0, c.d1))?;
        Ok(())
    })
    .unwrap();
    let changes = c.db.write(|tx| tx.review_tiers(d("2025-03-01"))).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].0, changes[0].1.to), (c.wang, Tier::Silver));
    assert!(c
        .db
        .write(|tx| tx.review_tiers(d("2025-03-01")))
        .unwrap()
        .is_empty());
    // Silver earns ×1.2: a forum post's 10 points become 12.
    c.db.write(|tx| {
        tx.insert_touchpoint(&touch(
            c.wang,
            d("2025-03-02").at(20, 0, 0),
            TouchpointKind::ForumPost,
            None,
        ))
    })
    .unwrap();
    let r = c.db.begin_read().unwrap();
    let (_, p) = r.postings_of(c.wang).unwrap().pop().unwrap();
    assert_eq!(p.points, 12);
    drop(r);
    // Reviews move forward; the grace period ends on 2026-04-10.
    let err =
        c.db.write(|tx| tx.review_tiers(d("2025-02-01")))
            .unwrap_err();
    assert_eq!(err.code(), "invalid_operation.tier_review_out_of_order");
    let down = c.db.write(|tx| tx.review_tiers(d("2026-04-10"))).unwrap();
    assert_eq!(down[0].1.to, Tier::Normal);
    assert_eq!(down[0].1.why, "grace ended");
    let history = c.db.begin_read().unwrap().tier_history(c.wang).unwrap();
    assert_eq!(history.changes.len(), 2);
    assert_eq!(history.tier_on(d("2025-06-01")), Tier::Silver);
}

#[test]
fn settlement_nets_brand_points_redeemed_at_another_dealer() {
    let c = club();
    c.db.write(|tx| {
        tx.insert_touchpoint(&purchase(c.wang, "2025-01-05", 1_000_000, c.d1))?; // 10,000 by D1
        tx.insert_touchpoint(&purchase(c.li, "2025-01-05", 50_000, c.d2))?; // 500 by D2
        let mut at = |c, points, dealer, key: &str| {
            let mut r = redemption(c, Wallet::Brand, points, "2025-02-01", key);
            r.dealer = Some(dealer);
            tx.redeem(&r)
        };
        at(c.wang, 3000, c.d2, "w1")?; // D1's points at D2
        at(c.wang, 1000, c.d1, "w2")?; // at home: nothing to settle
        at(c.li, 500, c.d1, "l1")?; // D2's points at D1
        Ok(())
    })
    .unwrap();
    let r = c.db.begin_read().unwrap();
    let lines = r.settlement(d("2025-02-01"), d("2025-03-01")).unwrap();
    assert_eq!(
        lines,
        vec![SettlementLine {
            debtor: c.d1,
            creditor: c.d2,
            points: 2500,
            amount: Money::yuan(25),
        }]
    );
    assert!(r
        .settlement(d("2025-03-01"), d("2025-04-01"))
        .unwrap()
        .is_empty());
}

#[test]
fn the_ledger_keeps_what_it_refers_to() {
    let c = club();
    let t =
        c.db.write(|tx| tx.insert_touchpoint(&purchase(c.wang, "2025-01-05", 10_000, c.d1)))
            .unwrap();
    let err = c.db.write(|tx| tx.delete_touchpoint(t)).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.touchpoint_has_postings");
    let err = c.db.write(|tx| tx.delete_customer(c.wang)).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.customer_has_postings");
    // A touchpoint that earned nothing can go.
    let t2 =
        c.db.write(|tx| {
            tx.insert_touchpoint(&touch(
                c.wang,
                d("2025-01-06").at(9, 0, 0),
                TouchpointKind::Enquiry,
                None,
            ))
        })
        .unwrap();
    c.db.write(|tx| tx.delete_touchpoint(t2)).unwrap();
}

#[test]
fn membership_is_one_card() {
    let c = club();
    let r = c.db.begin_read().unwrap();
    let m = r.membership(c.wang).unwrap().unwrap();
    assert!(m.brand_member_on(d("2024-01-01")));
    assert!(m.dealer_member_on(c.d1, d("2024-01-01")));
    assert!(!m.dealer_member_on(c.d2, d("2024-01-01")));
    drop(r);
    // Joining again changes nothing; a second dealer club adds to the same card.
    let again =
        c.db.write(|tx| tx.join_dealer_club(c.wang, c.d1, d("2025-01-01"), "dealer"))
            .unwrap();
    assert_eq!(again, m);
    let two =
        c.db.write(|tx| tx.join_dealer_club(c.wang, c.d2, d("2025-01-01"), "dealer"))
            .unwrap();
    assert_eq!(two.enrolled, d("2024-01-01"));
    assert_eq!(two.dealer_clubs.len(), 2);
    let err =
        c.db.write(|tx| tx.join_brand_club(CustomerId(999), d("2025-01-01"), "app"))
            .unwrap_err();
    assert_eq!(err.code(), "not_found");
}
