//! Small fixtures the integration tests share: dates, times and valid natural keys.
// Each test binary includes this file and uses only some of it.
#![allow(dead_code)]

use autocrm::validate::{credit_code_check_char, national_id_check_digit};
use autocrm::{
    Complaint, ComplaintStatus, CustomerId, Date, DateTime, Dealer, DealerKind, Intent, Lead,
    LeadSource, LeadStatus, PurchaseType, Survey, SurveyKind,
};

/// A generated network of `customers` customers and four dealers, in memory, behind a
/// shareable [`autocrm::api::Store`].
pub fn synth_store(seed: u64, customers: usize) -> autocrm::api::Store {
    let db = autocrm::Database::in_memory().unwrap();
    let cfg = autocrm_synth::SynthConfig {
        seed,
        dealers: 4,
        ..autocrm_synth::SynthConfig::new(customers)
    };
    autocrm_synth::Network::new(cfg)
        .load(&db, 100, |_| {})
        .unwrap();
    autocrm::api::Store::new(db)
}

/// A 4S dealer `code` (named "<code> 4S") in Shanghai, East region.
pub fn dealer(code: &str) -> Dealer {
    Dealer {
        code: code.into(),
        name: format!("{code} 4S"),
        region: "East".into(),
        province: "上海".into(),
        city: "上海".into(),
        kind: DealerKind::FourS,
    }
}

/// A date from `YYYY-MM-DD`.
pub fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// A time from `YYYY-MM-DD HH:MM` (or with seconds).
pub fn t(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// A resident ID from its first 17 characters, with the check digit that makes it valid.
pub fn nid(first17: &str) -> String {
    format!("{first17}{}", national_id_check_digit(first17).unwrap())
}

/// A unified social credit code from its first 17 characters, with its check character.
pub fn credit(first17: &str) -> String {
    format!("{first17}{}", credit_code_check_char(first17).unwrap())
}

/// A new web lead of `c` for a Passat, received on 2024-03-01.
pub fn lead(c: CustomerId) -> Lead {
    Lead {
        customer: c,
        origin: LeadSource::Web,
        model: "Passat".into(),
        intent: Intent::A,
        purchase_type: PurchaseType::First,
        dealer: None,
        received: d("2024-03-01").at(10, 0, 0),
        status: LeadStatus::New,
        status_at: None,
        source: None,
    }
}

/// A complaint of `c` about repair quality, received on 2024-04-01.
pub fn complaint(c: CustomerId) -> Complaint {
    Complaint {
        customer: c,
        vehicle: None,
        dealer: None,
        category: "repair quality".into(),
        received: d("2024-04-01").at(10, 0, 0),
        status: ComplaintStatus::Received,
        first_response: None,
        analysed: None,
        resolved: None,
        called_back: None,
        closed: None,
        note: None,
        source: None,
    }
}

/// An empty service survey of `c` dated 2024-05-01.
pub fn survey(c: CustomerId) -> Survey {
    Survey {
        customer: c,
        dealer: None,
        kind: SurveyKind::Service,
        date: d("2024-05-01"),
        items: vec![],
        source: None,
    }
}
