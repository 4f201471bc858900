//! Feeds arbitrary UTF-8 to the segment rule parser (`autocrm::SegmentRule::parse`): it must
//! return a rule or a positioned error, never panic. Rules that parse are also evaluated on
//! two small customers at ordinary and extreme as-of dates, which must not panic either.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use autocrm::analytics::{CustomerFacts, VehicleFact};
use autocrm::rollup::{Event, Rollup};
use autocrm::segment::EvalContext;
use autocrm::*;
use libfuzzer_sys::fuzz_target;

fn sample() -> &'static (
    Vec<CustomerFacts>,
    LoyaltyConfig,
    HashMap<String, CustomerSet>,
) {
    static SAMPLE: OnceLock<(
        Vec<CustomerFacts>,
        LoyaltyConfig,
        HashMap<String, CustomerSet>,
    )> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let day = |s: &str| s.parse::<Date>().unwrap();
        let event = |d: &str, kind, amount| Event {
            day: day(d),
            minute: 600,
            kind,
            service_kind: (kind == TouchpointKind::ServiceVisit).then_some(ServiceKind::Repair),
            dealer: Some(DealerId(1)),
            amount: Money::yuan(amount),
            succeeded: true,
        };
        let owner = CustomerFacts {
            id: CustomerId(1),
            customer: Customer {
                phones: vec!["13800138000".into()],
                city: Some("上海".into()),
                ..Customer::person("王小明")
            },
            rollup: Rollup {
                service_dates: vec![day("2024-03-01"), day("2025-01-05")],
                events: vec![
                    event("2020-05-01", TouchpointKind::Purchase, 150_000),
                    event("2024-03-01", TouchpointKind::ServiceVisit, 900),
                    event("2025-01-05", TouchpointKind::ServiceVisit, 1_200),
                    event("2025-02-01", TouchpointKind::Referral, 0),
                ],
                ..Rollup::default()
            },
            vehicles: vec![VehicleFact {
                id: VehicleId(1),
                vehicle: Vehicle {
                    purchase_date: Some(day("2020-05-01")),
                    warranty_end: Some(day("2023-05-01")),
                    first_service_date: Some(day("2020-08-01")),
                    ..Vehicle::new("LSVAU218XN2183294", "Volkswagen", "Jetta")
                },
                periods: vec![(day("2020-05-01"), None)],
            }],
            leads: vec![],
            complaints: vec![],
            surveys: vec![],
            consents: Consents::default(),
            membership: Some(Membership {
                enrolled: day("2021-01-01"),
                source: "dealer".into(),
                dealer_clubs: vec![(DealerId(1), day("2021-01-01"))],
            }),
            tiers: TierRecord::default(),
            balances: vec![(
                Wallet::Brand,
                Balance {
                    points: 1_000,
                    owed: 0,
                },
            )],
            valid_info: true,
        };
        let prospect = CustomerFacts {
            id: CustomerId(2),
            customer: Customer::organisation("上海申通物流有限公司"),
            rollup: Rollup::default(),
            vehicles: vec![],
            membership: None,
            balances: vec![],
            ..owner.clone()
        };
        let mut segments = HashMap::new();
        segments.insert("vip".to_string(), [CustomerId(1)].into_iter().collect());
        (vec![owner, prospect], LoyaltyConfig::default(), segments)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rule = match SegmentRule::parse(text, &|name| name == "vip") {
        Ok(rule) => rule,
        Err(e) => {
            // The error's position lies inside the text.
            assert!(e.line >= 1 && e.column >= 1);
            assert!(e.line <= text.matches('\n').count() + 1);
            return;
        }
    };
    let (customers, config, segments) = sample();
    for as_of in [Date::from_days(20_000), Date::MIN, Date::MAX] {
        let ctx = EvalContext {
            as_of,
            config,
            segments,
        };
        for c in customers {
            let _ = rule.matches(c, &ctx);
        }
    }
});
