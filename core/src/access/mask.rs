//! Masking by field: what a scope without the permission to see a value gets instead.
//! Applied in core before a value leaves it (views, exports, reports), so no front end can
//! forget it.

use crate::customer::{Customer, Party};
use crate::date::Date;

/// `110105199001011234` → `110***********1234`: the first three and last four characters kept
/// (region and check digit), everything between starred. Values of seven characters or fewer
/// are starred whole.
pub fn mask_id(value: &str) -> String {
    keep_ends(value, 3, 4)
}

/// `13812345678` → `138****5678`.
pub fn mask_phone(value: &str) -> String {
    keep_ends(value, 3, 4)
}

/// A birth date to its year: 1 January of the same year.
pub fn mask_birth_date(d: Date) -> Date {
    Date::from_ymd(d.year(), 1, 1).unwrap_or(d)
}

fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Which personal fields a scope sees unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Sight {
    /// National ID and credit code.
    pub national_id: bool,
    /// Phones.
    pub phone: bool,
    /// Street address (else province and city only).
    pub address: bool,
    /// Full birth date (else 1 January of its year).
    pub birth_date: bool,
}

impl Sight {
    /// Everything unmasked (the unscoped API, a data administrator).
    pub const ALL: Sight = Sight {
        national_id: true,
        phone: true,
        address: true,
        birth_date: true,
    };

    /// `c` as this sight shows it, and the names of the fields it masked.
    pub fn customer(self, c: &Customer) -> (Customer, Vec<&'static str>) {
        let mut c = c.clone();
        let mut masked = Vec::new();
        match &mut c.party {
            Party::Person(p) => {
                if !self.national_id {
                    if let Some(id) = &mut p.national_id {
                        *id = mask_id(id);
                        masked.push("national_id");
                    }
                }
                if !self.birth_date {
                    if let Some(b) = &mut p.birth_date {
                        *b = mask_birth_date(*b);
                        masked.push("birth_date");
                    }
                }
            }
            Party::Organisation(o) => {
                if !self.national_id {
                    if let Some(code) = &mut o.credit_code {
                        *code = mask_id(code);
                        masked.push("credit_code");
                    }
                }
            }
        }
        if !self.phone && !c.phones.is_empty() {
            c.phones = c.phones.iter().map(|p| mask_phone(p)).collect();
            masked.push("phones");
        }
        if !self.address && c.address.is_some() {
            c.address = None;
            masked.push("address");
        }
        (c, masked)
    }

    /// A lineage value of field `field` (by its stable name) as this sight shows it.
    pub fn field_value(self, field: &str, value: &str) -> String {
        match field {
            "national_id" | "credit_code" if !self.national_id => mask_id(value),
            "phones" if !self.phone => value
                .split(',')
                .map(|p| mask_phone(p.trim()))
                .collect::<Vec<_>>()
                .join(","),
            "address" if !self.address => "***".into(),
            "birth_date" if !self.birth_date => value
                .parse::<Date>()
                .map(|d| mask_birth_date(d).to_string())
                .unwrap_or_else(|_| "***".into()),
            _ => value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_the_domain_says() {
        assert_eq!(mask_id("110105199001011234"), "110***********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("1234567"), "*******");
        let d: Date = "1990-07-15".parse().unwrap();
        assert_eq!(mask_birth_date(d).to_string(), "1990-01-01");
    }
}
