//! Small fixtures the integration tests share: dates, times and valid natural keys.
// Each test binary includes this file and uses only some of it.
#![allow(dead_code)]

use autocrm::validate::{credit_code_check_char, national_id_check_digit};
use autocrm::{Date, DateTime};

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
