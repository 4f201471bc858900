//! The one place that reads the wall clock.
//!
//! Stored times are naive local times of the dealer network's own clock ([`DateTime`]); the
//! domain never asks for "now". Front ends do — an import stamps the time it received a file, an
//! operator's merge or conflict resolution the time it was made — and every one of them (the
//! CLI, the Python, Node and mobile bindings) takes it from the [`Clock`] its [`Database`] was
//! opened with, so the same file gets the same times whatever tool writes it. The default is the
//! system clock at UTC+08:00 (China Standard Time, the seeds' carmakers); a network elsewhere
//! sets its offset once when it opens the file, and tests use a fixed clock.
//!
//! [`Database`]: crate::Database

use std::fmt;
use std::str::FromStr;

use crate::date::{Date, DateTime};

/// An offset from UTC in whole minutes, east positive (`+08:00` is 480).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UtcOffset(i16);

impl UtcOffset {
    /// UTC+08:00, China Standard Time: the default of every clock.
    pub const CHINA: UtcOffset = UtcOffset(8 * 60);
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);

    /// The offset of `minutes` east of UTC; `None` outside ±18:00, where no zone lies.
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (-18 * 60..=18 * 60)
            .contains(&minutes)
            .then_some(UtcOffset(minutes as i16))
    }

    /// Minutes east of UTC.
    pub fn minutes(self) -> i32 {
        i32::from(self.0)
    }
}

impl Default for UtcOffset {
    fn default() -> UtcOffset {
        UtcOffset::CHINA
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes();
        let sign = if m < 0 { '-' } else { '+' };
        write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
    }
}

/// An offset that is not `±HH:MM` within ±18:00.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a UTC offset: expected +HH:MM or -HH:MM within ±18:00, e.g. +08:00")]
pub struct ParseOffsetError(pub String);

impl FromStr for UtcOffset {
    type Err = ParseOffsetError;

    /// Parses `+08:00`, `-05:30`, `+0800` or `Z`.
    fn from_str(s: &str) -> Result<UtcOffset, ParseOffsetError> {
        let bad = || ParseOffsetError(s.to_string());
        let t = s.trim();
        if t.eq_ignore_ascii_case("z") {
            return Ok(UtcOffset::UTC);
        }
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let digits: String = rest.chars().filter(|&c| c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 5 {
            return Err(bad());
        }
        let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
        let minutes: i32 = digits[2..].parse().map_err(|_| bad())?;
        if minutes >= 60 {
            return Err(bad());
        }
        UtcOffset::from_minutes(sign * (hours * 60 + minutes)).ok_or_else(bad)
    }
}

/// Where "now" comes from: the system clock read at a fixed UTC offset, or a fixed instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    offset: UtcOffset,
    fixed: Option<DateTime>,
}

impl Default for Clock {
    /// The system clock at UTC+08:00.
    fn default() -> Clock {
        Clock::system(UtcOffset::CHINA)
    }
}

impl Clock {
    /// The system clock, read as local time at `offset`.
    pub fn system(offset: UtcOffset) -> Clock {
        Clock {
            offset,
            fixed: None,
        }
    }

    /// A clock that always says `at` (tests, replays of a day's batch).
    pub fn fixed(at: DateTime) -> Clock {
        Clock {
            offset: UtcOffset::CHINA,
            fixed: Some(at),
        }
    }

    /// The offset local times are read at.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The local time now.
    pub fn now(&self) -> DateTime {
        if let Some(at) = self.fixed {
            return at;
        }
        let utc = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        DateTime::from_seconds(utc + i64::from(self.offset.minutes()) * 60)
    }

    /// The local date today.
    pub fn today(&self) -> Date {
        self.now().date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!("+08:00".parse::<UtcOffset>().unwrap(), UtcOffset::CHINA);
        assert_eq!("+0800".parse::<UtcOffset>().unwrap(), UtcOffset::CHINA);
        assert_eq!("Z".parse::<UtcOffset>().unwrap(), UtcOffset::UTC);
        let ist: UtcOffset = "-05:30".parse().unwrap();
        assert_eq!(ist.minutes(), -330);
        assert_eq!(ist.to_string(), "-05:30");
        assert_eq!(UtcOffset::CHINA.to_string(), "+08:00");
        for bad in ["08:00", "+8", "+19:00", "+08:60", "+08:00:00", "", "+0a:00"] {
            assert!(bad.parse::<UtcOffset>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_system_clock_reads_at_its_offset() {
        let utc = Clock::system(UtcOffset::UTC);
        let china = Clock::default();
        let (a, b) = (utc.now(), china.now());
        let diff = b.seconds() - a.seconds();
        // Read one after the other: 8 hours apart, give or take the second between the reads.
        assert!((8 * 3600..=8 * 3600 + 2).contains(&diff), "{diff}");
        let at: DateTime = "2026-07-01T09:00".parse().unwrap();
        assert_eq!(Clock::fixed(at).now(), at);
        assert_eq!(Clock::fixed(at).today(), at.date());
    }
}
