//! The loyalty club end to end on a database file: a customer joins a dealer club (and so the
//! brand club), earns points from a purchase and service visits, reaches silver at a tier
//! review, redeems points at another dealer, has an earning reversed after a refund, sees a lot
//! expire and drops back to normal when the grace period ends. Then the settlement between the
//! two dealers and a check of every ledger invariant.
//!
//! ```sh
//! cargo run -p autocrm --example loyalty [-- --db PATH]
//! ```

use autocrm::*;

fn d(s: &str) -> Date {
    s.parse().expect("valid date")
}

fn dealer(code: &str, city: &str) -> Dealer {
    Dealer {
        code: code.into(),
        name: format!("{city} {code} 4S"),
        region: "East".into(),
        province: "江苏".into(),
        city: city.into(),
        kind: DealerKind::FourS,
    }
}

fn service(c: CustomerId, on: &str, labour_yuan: i64, parts_yuan: i64, at: DealerId) -> Touchpoint {
    Touchpoint {
        dealer: Some(at),
        amount: Some(Money::yuan(labour_yuan + parts_yuan)),
        labour_amount: Some(Money::yuan(labour_yuan)),
        parts_amount: Some(Money::yuan(parts_yuan)),
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(
            d(on).at(9, 30, 0),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

fn show(db: &Database, who: CustomerId, on: &str, what: &str) -> Result<()> {
    let r = db.begin_read()?;
    let tier = r.tier_status(who, d(on))?;
    let wallets: Vec<String> = r
        .wallets_of(who)?
        .into_iter()
        .map(|(w, b)| {
            let owed = if b.owed > 0 {
                format!(" (owes {})", b.owed)
            } else {
                String::new()
            };
            format!("{w}: {}{owed}", b.points)
        })
        .collect();
    println!(
        "{on}  {what:<44} tier {:<6}{}  {}",
        tier.tier.name(),
        if tier.by_grace { " (grace)" } else { "" },
        wallets.join(", ")
    );
    Ok(())
}

fn main() -> Result<()> {
    let mut path =
        std::env::temp_dir().join(format!("autocrm-loyalty-{}.redb", std::process::id()));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => path = args.next().expect("--db needs a path").into(),
            other => panic!("unknown argument {other}; usage: loyalty [--db PATH]"),
        }
    }
    let _ = std::fs::remove_file(&path);
    let db = Database::open(&path)?;
    println!("club database: {}\n", path.display());

    let (suzhou, wuxi, zhang) = db.write(|tx| {
        tx.set_loyalty_config(&LoyaltyConfig::default())?;
        let suzhou = tx.insert_dealer(&dealer("JS010", "苏州"))?;
        let wuxi = tx.insert_dealer(&dealer("JS020", "无锡"))?;
        let zhang = tx.insert_customer(&Customer {
            phones: vec!["13912345678".into()],
            ..Customer::person("张伟")
        })?;
        Ok((suzhou, wuxi, zhang))
    })?;

    db.write(|tx| {
        tx.join_dealer_club(zhang, suzhou, d("2024-03-01"), "dealer")
            .map(|_| ())
    })?;
    show(
        &db,
        zhang,
        "2024-03-01",
        "joins the Suzhou club (and the brand club)",
    )?;

    let purchase = db.write(|tx| {
        tx.insert_touchpoint(&Touchpoint {
            dealer: Some(suzhou),
            amount: Some(Money::yuan(12_000)),
            note: Some("accessories package".into()),
            ..Touchpoint::new(
                d("2024-03-02").at(15, 0, 0),
                zhang,
                Channel::Showroom,
                TouchpointKind::Purchase,
            )
        })
    })?;
    show(
        &db,
        zhang,
        "2024-03-02",
        "buys ¥12,000 of accessories: 1 pt/yuan",
    )?;

    db.write(|tx| {
        tx.insert_touchpoint(&service(zhang, "2024-06-10", 400, 600, suzhou))
            .map(|_| ())
    })?;
    db.write(|tx| {
        tx.insert_touchpoint(&service(zhang, "2024-12-05", 300, 200, suzhou))
            .map(|_| ())
    })?;
    show(
        &db,
        zhang,
        "2024-12-05",
        "two services: labour 2 pts/yuan to Suzhou",
    )?;

    let changes = db.write(|tx| tx.review_tiers(d("2024-12-31")))?;
    for (_, c) in &changes {
        println!(
            "{}  tier review: {} → {} ({})",
            c.on,
            c.from.name(),
            c.to.name(),
            c.why
        );
    }
    let benefits = db.begin_read()?.benefits(zhang, d("2024-12-31"))?;
    println!(
        "            silver benefits: {}% off labour, {}% off rescue",
        benefits.labour_discount_pct, benefits.rescue_discount_pct
    );

    db.write(|tx| {
        tx.redeem(&Redemption {
            customer: zhang,
            wallet: Wallet::Brand,
            points: 5_000,
            at: d("2025-01-20").at(11, 0, 0),
            dealer: Some(wuxi),
            item: "winter tyre fitting".into(),
            key: "wuxi-pos-000173".into(),
        })
        .map(|_| ())
    })?;
    show(
        &db,
        zhang,
        "2025-01-20",
        "redeems 5,000 brand points in Wuxi",
    )?;

    // The accessories are returned: reverse the purchase's earning. 5,000 of its 12,000
    // points were spent, and the brand wallet holds only 7,800, all from that lot and the
    // services: see the module docs of autocrm::loyalty for what happens.
    let earning = db.begin_read()?.earnings_of_touchpoint(purchase)?[0];
    db.write(|tx| {
        tx.reverse(&Reversal {
            credit: earning,
            at: d("2025-02-01").at(10, 0, 0),
            operator: "suzhou.cashier.07".into(),
            reason: "accessories returned, invoice 2024-0302-11 refunded".into(),
            key: "refund-2024-0302-11".into(),
        })
        .map(|_| ())
    })?;
    show(
        &db,
        zhang,
        "2025-02-01",
        "accessories refunded: earning reversed",
    )?;

    let expired = db.write(|tx| tx.expire_lots(d("2026-06-10")))?;
    show(
        &db,
        zhang,
        "2026-06-10",
        &format!(
            "expiry run: {} lot(s), {} pts",
            expired.lots, expired.points
        ),
    )?;

    let changes = db.write(|tx| tx.review_tiers(d("2026-06-10")))?;
    for (_, c) in &changes {
        println!(
            "{}  tier review: {} → {} ({})",
            c.on,
            c.from.name(),
            c.to.name(),
            c.why
        );
    }

    let r = db.begin_read()?;
    println!("\nsettlement for January 2025:");
    for line in r.settlement(d("2025-01-01"), d("2025-02-01"))? {
        let name = |id| r.dealer(id).map(|x| x.name).unwrap_or_default();
        println!(
            "  {} owes {}: {} points = {}",
            name(line.debtor),
            name(line.creditor),
            line.points,
            line.amount
        );
    }
    println!("\npostings of {}:", r.customer(zhang)?.name());
    for (id, p) in r.postings_of(zhang)? {
        println!(
            "  #{id:<3} {}  {:<8} {:>7}  {}",
            p.at,
            format!("{:?}", p.kind),
            p.points,
            p.key
        );
    }
    let check = r.verify_ledger()?;
    println!(
        "\nledger check: {} postings, {} lots, {} wallets, {} problems",
        check.postings,
        check.lots,
        check.wallets,
        check.problems.len()
    );
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    drop(r);
    drop(db);
    let _ = std::fs::remove_file(&path);
    Ok(())
}
