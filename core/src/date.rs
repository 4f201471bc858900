//! Calendar dates and local date-times without a hidden wall clock.
//!
//! A [`Date`] is a day count since 1970-01-01 stored in an `i32`: four bytes, totally ordered,
//! cheap to keep by the dozen in per-customer rollups. A [`DateTime`] is a *naive local* time in
//! seconds since 1970-01-01T00:00:00 of the dealer network's own clock (China Standard Time for
//! the seeds' carmakers). Nothing in the domain reads the system clock: operations that depend on
//! "now" take an as-of [`Date`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar date (proleptic Gregorian), as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(i32);

/// A naive local date and time, as seconds since 1970-01-01T00:00:00.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateTime(i64);

/// A date or date-time string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid date: expected YYYY-MM-DD (or YYYY-MM-DDTHH:MM[:SS] for a time)")]
pub struct ParseDateError {
    /// The text that was given.
    pub input: String,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Date {
    /// The earliest date accepted anywhere in autocrm (0001-01-01).
    pub const MIN: Date = Date(-719_162);
    /// The latest date accepted anywhere in autocrm (9999-12-31).
    pub const MAX: Date = Date(2_932_896);

    /// The date with the given year, month (1–12) and day (1–31), or `None` if it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// The date that is `days` days after 1970-01-01 (negative: before).
    pub const fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// This date moved by `days` days (negative moves back).
    pub const fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Whole days from `earlier` to `self` (negative if `earlier` is later).
    pub const fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// This date moved by whole months, clamping the day to the target month's length
    /// (2024-01-31 plus one month is 2024-02-29).
    pub fn add_months(self, months: i32) -> Date {
        let (y, m, d) = self.ymd();
        let total = y * 12 + (m as i32 - 1) + months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        let nd = d.min(days_in_month(ny, nm));
        Date(days_from_civil(ny, nm, nd))
    }

    /// Midnight at the start of this date.
    pub const fn at_midnight(self) -> DateTime {
        DateTime(self.0 as i64 * SECONDS_PER_DAY)
    }

    /// This date at the given hour, minute and second.
    pub fn at(self, hour: u32, minute: u32, second: u32) -> DateTime {
        DateTime(self.0 as i64 * SECONDS_PER_DAY + (hour * 3600 + minute * 60 + second) as i64)
    }
}

impl DateTime {
    /// The date-time `seconds` seconds after 1970-01-01T00:00:00.
    pub const fn from_seconds(seconds: i64) -> DateTime {
        DateTime(seconds)
    }

    /// Seconds since 1970-01-01T00:00:00.
    pub const fn seconds(self) -> i64 {
        self.0
    }

    /// The calendar date of this instant.
    pub const fn date(self) -> Date {
        Date(self.0.div_euclid(SECONDS_PER_DAY) as i32)
    }

    /// Seconds since midnight.
    pub const fn second_of_day(self) -> u32 {
        self.0.rem_euclid(SECONDS_PER_DAY) as u32
    }

    /// This instant moved by `seconds`.
    pub const fn add_seconds(self, seconds: i64) -> DateTime {
        DateTime(self.0 + seconds)
    }

    /// The current time from the system clock (UTC, as a naive date-time; 1970-01-01 if the
    /// clock is set before it). Only what needs "now" reads it: the plausibility of dates
    /// without a received time ([`crate::WriteTxn::now`]).
    pub fn now() -> DateTime {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        DateTime(secs)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days: exact over the proleptic Gregorian calendar.
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.second_of_day();
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date(),
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }
}

fn parse_fixed_digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FromStr for Date {
    type Err = ParseDateError;

    /// Parses `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` (the forms Chinese source systems export).
    fn from_str(s: &str) -> Result<Date, ParseDateError> {
        let err = || ParseDateError {
            input: s.to_string(),
        };
        let t = s.trim();
        let (y, m, d) = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
            (&t[0..4], &t[4..6], &t[6..8])
        } else {
            let mut parts = t.split(['-', '/']);
            let (y, m, d) = (parts.next(), parts.next(), parts.next());
            if parts.next().is_some() {
                return Err(err());
            }
            (y.ok_or_else(err)?, m.ok_or_else(err)?, d.ok_or_else(err)?)
        };
        if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
            return Err(err());
        }
        let (y, m, d) = (
            parse_fixed_digits(y).ok_or_else(err)?,
            parse_fixed_digits(m).ok_or_else(err)?,
            parse_fixed_digits(d).ok_or_else(err)?,
        );
        Date::from_ymd(y as i32, m, d).ok_or_else(err)
    }
}

impl FromStr for DateTime {
    type Err = ParseDateError;

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD HH:MM:SS`.
    fn from_str(s: &str) -> Result<DateTime, ParseDateError> {
        let err = || ParseDateError {
            input: s.to_string(),
        };
        let t = s.trim();
        let (date_part, time_part) = match t.find(['T', ' ']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let date: Date = date_part.parse().map_err(|_| err())?;
        let Some(time) = time_part else {
            return Ok(date.at_midnight());
        };
        let mut parts = time.split(':');
        let h = parts.next().and_then(parse_fixed_digits).ok_or_else(err)?;
        let mi = parts.next().and_then(parse_fixed_digits).ok_or_else(err)?;
        let se = match parts.next() {
            Some(p) => parse_fixed_digits(p).ok_or_else(err)?,
            None => 0,
        };
        if parts.next().is_some() || h > 23 || mi > 59 || se > 59 {
            return Err(err());
        }
        Ok(date.at(h, mi, se))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_civil_dates() {
        for days in [-719_162, -1, 0, 1, 10_957, 19_723, 2_932_896] {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
        }
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::from_ymd(2000, 1, 1).unwrap().days(), 10_957);
        assert_eq!(Date::MIN.ymd(), (1, 1, 1));
        assert_eq!(Date::MAX.ymd(), (9999, 12, 31));
    }

    #[test]
    fn rejects_days_that_do_not_exist() {
        assert!(Date::from_ymd(2023, 2, 29).is_none());
        assert!(Date::from_ymd(2024, 2, 29).is_some());
        assert!(Date::from_ymd(1900, 2, 29).is_none());
        assert!(Date::from_ymd(2024, 13, 1).is_none());
        assert!("2024-04-31".parse::<Date>().is_err());
        assert!("2024-4-3x".parse::<Date>().is_err());
        assert!("24-04-01".parse::<Date>().is_err());
    }

    #[test]
    fn parses_the_forms_source_systems_export() {
        let d = Date::from_ymd(2024, 3, 5).unwrap();
        assert_eq!("2024-03-05".parse::<Date>().unwrap(), d);
        assert_eq!("2024/3/5".parse::<Date>().unwrap(), d);
        assert_eq!("20240305".parse::<Date>().unwrap(), d);
        let t: DateTime = "2024-03-05 14:07:09".parse().unwrap();
        assert_eq!(t.date(), d);
        assert_eq!(t.to_string(), "2024-03-05T14:07:09");
        assert_eq!(
            "2024-03-05T14:07".parse::<DateTime>().unwrap(),
            d.at(14, 7, 0)
        );
        assert!("2024-03-05T24:00".parse::<DateTime>().is_err());
    }

    #[test]
    fn month_arithmetic_clamps_to_month_end() {
        let d = Date::from_ymd(2024, 1, 31).unwrap();
        assert_eq!(d.add_months(1), Date::from_ymd(2024, 2, 29).unwrap());
        assert_eq!(d.add_months(-2), Date::from_ymd(2023, 11, 30).unwrap());
        assert_eq!(d.add_months(12), Date::from_ymd(2025, 1, 31).unwrap());
    }

    #[test]
    fn date_times_before_1970_floor_to_the_right_day() {
        let t = DateTime::from_seconds(-1);
        assert_eq!(t.date(), Date::from_days(-1));
        assert_eq!(t.second_of_day(), 86_399);
    }
}
