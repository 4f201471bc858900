//! Validation rules applied at the boundary of the database.
//!
//! Every value a caller hands to autocrm passes through one of these functions before anything is
//! written, so the store only ever holds normalised values: a phone number is always its 11 bare
//! digits, an ID or VIN is always upper case, a name never has stray spaces. That is what makes
//! look-ups by phone, ID, credit code, VIN or plate exact-match lookups instead of fuzzy searches.
//!
//! Each function returns either the normalised value or a [`ValidationError`] that names the field
//! (as given by the caller, e.g. `"vehicle.vin"`) and the [`Rule`] that failed, together with the
//! value as the caller supplied it, so the message can point at exactly what to re-type.
//!
//! The formats are short and fixed, and the identifiers carry check characters that need
//! arithmetic anyway, so every check is hand-written rather than built on regular expressions.

use crate::date::Date;
use crate::error::{Rule, ValidationError};

/// Longest person name accepted; longer input is almost always a pasted note, not a name.
const MAX_PERSON_NAME_CHARS: usize = 64;

/// 1900-01-01: nobody alive and no vehicle on the road predates it, so earlier dates are typos.
const EARLIEST_PLAUSIBLE: Date = Date::from_days(-25_567);

/// 2100-12-31: far enough ahead for warranty ends and contract dates, near enough to catch typos.
const LATEST_PLAUSIBLE: Date = Date::from_days(47_846);

/// GB 11643-1999 weights, `2^(18-i) mod 11` for positions `i = 1..=17`.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z. A character's index is its
/// value in the check-character computation.
const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015 weights, `3^(i-1) mod 31` for positions `i = 1..=17`.
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// ISO 3779 position weights; position 9 (the check digit itself) weighs 0.
const VIN_WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// One-character abbreviations of the 31 mainland provinces, municipalities and autonomous regions
/// that open every civilian plate.
const PLATE_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Characters that replace the last serial character on special ordinary plates: driving-school,
/// police, trailer, consular, Hong Kong and Macau cross-border plates.
const PLATE_SUFFIXES: &str = "学警挂领港澳";

/// Trims and collapses inner runs of whitespace (including the full-width space U+3000 that
/// Chinese input methods produce) to one ASCII space, so "王  小明" and "王 小明" are one name.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks that `s` has no control characters ([`crate::text::is_control`], except the line
/// breaks and tabs in `allowed`) and no bidirectional controls ([`crate::text::is_bidi_control`]),
/// else [`Rule::ControlCharacter`]; and that it is not made only of whitespace and invisible
/// characters ([`crate::text::is_invisible`]) while having some of the latter, else
/// [`Rule::InvisibleText`]. Applied to every name and free text before it is stored, so
/// nothing stored can send an escape sequence to a terminal or look blank while not being
/// blank.
pub fn plain_text(field: &'static str, s: &str, allowed: &[char]) -> Result<(), ValidationError> {
    use crate::text::{is_bidi_control, is_control, is_invisible};
    if s.chars()
        .any(|c| (is_control(c) && !allowed.contains(&c)) || is_bidi_control(c))
    {
        return Err(ValidationError::new(field, Rule::ControlCharacter, s));
    }
    let mut invisible = false;
    for c in s.chars() {
        if is_invisible(c) {
            invisible = true;
        } else if !c.is_whitespace() {
            return Ok(());
        }
    }
    if invisible {
        return Err(ValidationError::new(field, Rule::InvisibleText, s));
    }
    Ok(())
}

/// Line breaks and tabs: the control characters free text may carry.
const TEXT_WHITESPACE: [char; 3] = ['\n', '\r', '\t'];

/// Validates and normalises a person's name.
///
/// Whitespace is trimmed and inner runs collapse to one space. A name must have 2 to 64
/// characters (counted as characters, not bytes, so "王明" is long enough). A 3-character name
/// containing 先生 (Mr) or 女士 (Ms), such as "王先生", is rejected with
/// [`Rule::NamePlaceholder`]: it is how staff write down a caller whose name they did not ask,
/// and storing it would merge unrelated customers named 王. Longer names such as "欧阳先生"
/// pass: beyond the single-surname pattern a salutation cannot be told from a given name, and
/// letting a rare placeholder through is cheaper than refusing a customer's real name.
pub fn person_name(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(field, rule, s);
    plain_text(field, s, &TEXT_WHITESPACE)?;
    let name = collapse_whitespace(s);
    if name.is_empty() {
        return Err(err(Rule::Required));
    }
    let len = name.chars().count();
    if len < 2 {
        return Err(err(Rule::NameTooShort));
    }
    if len > MAX_PERSON_NAME_CHARS {
        return Err(err(Rule::TooLong));
    }
    if is_salutation(&name) {
        return Err(err(Rule::NamePlaceholder));
    }
    Ok(name)
}

/// Whether `name` is a surname plus 先生 / 女士. Spaces are ignored for this test so that
/// "王 先生" is caught as well as "王先生".
fn is_salutation(name: &str) -> bool {
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    compact.chars().count() == 3 && (compact.contains("先生") || compact.contains("女士"))
}

/// Validates and normalises an organisation's name.
///
/// Whitespace is trimmed and collapsed as for [`person_name`]; the name must have at least 2
/// characters. There is no upper limit because registered company names (e.g. a full
/// "...汽车销售服务有限公司" with branch suffix) are legitimately long.
pub fn org_name(field: &'static str, s: &str) -> Result<String, ValidationError> {
    plain_text(field, s, &TEXT_WHITESPACE)?;
    let name = collapse_whitespace(s);
    if name.is_empty() {
        return Err(ValidationError::new(field, Rule::Required, s));
    }
    if name.chars().count() < 2 {
        return Err(ValidationError::new(field, Rule::NameTooShort, s));
    }
    Ok(name)
}

/// Validates a mainland China mobile number and returns its 11 bare digits.
///
/// Digits may be separated by spaces, `-`, `.` and brackets, and may carry a leading `+`; any
/// other character is [`Rule::PhoneInvalidCharacters`]. The country code is removed when written
/// `+86` or `0086`, or as a bare `86` in front of 11 further digits. A `+` followed by any other
/// country code is [`Rule::PhoneNotMobile`]: it is not a mainland number, even when its digits
/// happen to look like one. What remains must be 11 digits matching `1[3-9]\d{9}`: fewer is
/// [`Rule::PhoneTooShort`], anything else [`Rule::PhoneNotMobile`] (landlines included, since
/// they cannot receive the SMS that dealer workflows send).
pub fn mobile_phone(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(field, rule, s);
    let trimmed = s.trim();
    let (plus, body) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(err(Rule::PhoneInvalidCharacters)),
        }
    }
    let national = if plus {
        match digits.strip_prefix("86") {
            Some(rest) => rest,
            None if digits.is_empty() => "",
            None => return Err(err(Rule::PhoneNotMobile)),
        }
    } else if let Some(rest) = digits.strip_prefix("0086") {
        rest
    } else if digits.len() == 13 && digits.starts_with("86") {
        &digits[2..]
    } else {
        &digits
    };
    if national.is_empty() {
        return Err(err(Rule::Required));
    }
    if national.len() < 11 {
        return Err(err(Rule::PhoneTooShort));
    }
    if !is_mainland_mobile(national) {
        return Err(err(Rule::PhoneNotMobile));
    }
    Ok(national.to_string())
}

/// `1[3-9]\d{9}`: the number ranges the MIIT has allocated to mobile carriers.
fn is_mainland_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

/// Trims and upper-cases a trailing `x`, the one letter a resident ID can contain, which people
/// often type in lower case.
fn normalise_national_id(s: &str) -> String {
    let t = s.trim();
    match t.strip_suffix('x') {
        Some(head) => format!("{head}X"),
        None => t.to_string(),
    }
}

/// 17 ASCII digits followed by a digit or `X` (already normalised to upper case).
fn is_national_id_format(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
}

/// Validates an 18-character GB 11643-1999 resident identity number and returns it normalised
/// (trimmed, trailing `x` upper-cased).
///
/// The checks run from coarse to fine so the error names the first thing wrong: the shape (17
/// digits plus a digit or `X`, region code not starting with 0) is [`Rule::NationalIdFormat`];
/// digits 7-14 must be a real date between 1900 and 2100, else [`Rule::NationalIdBirthDate`];
/// and the mod-11 check character must match, else [`Rule::NationalIdCheckDigit`]. The check
/// catches every single mistyped digit, which is why a mismatch means "re-type it", not "guess".
pub fn national_id(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(field, rule, s);
    let id = normalise_national_id(s);
    if !is_national_id_format(&id) || id.starts_with('0') {
        return Err(err(Rule::NationalIdFormat));
    }
    match national_id_birth_date(&id) {
        Some(d) if (EARLIEST_PLAUSIBLE..=LATEST_PLAUSIBLE).contains(&d) => {}
        _ => return Err(err(Rule::NationalIdBirthDate)),
    }
    if national_id_check_digit(&id[..17]) != id[17..].chars().next() {
        return Err(err(Rule::NationalIdCheckDigit));
    }
    Ok(id)
}

/// The GB 11643-1999 check character for the first 17 digits of a resident ID (`'0'..='9'` or
/// `'X'`), or `None` if `first17` is not exactly 17 ASCII digits.
///
/// Exposed so the synthetic data generator can build IDs that [`national_id`] accepts.
pub fn national_id_check_digit(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    let value = (12 - sum % 11) % 11;
    Some(if value == 10 {
        'X'
    } else {
        char::from(b'0' + value as u8)
    })
}

/// The birth date embedded in digits 7-14 of a resident ID, or `None` if `id` does not have the
/// ID's shape or those digits are not a real date.
///
/// The check character is not verified here: callers that need a trusted date validate the ID
/// with [`national_id`] first. Used to fill in a missing birth date and to cross-check a given one.
pub fn national_id_birth_date(id: &str) -> Option<Date> {
    let id = normalise_national_id(id);
    if !is_national_id_format(&id) {
        return None;
    }
    let year = id[6..10].parse().ok()?;
    let month = id[10..12].parse().ok()?;
    let day = id[12..14].parse().ok()?;
    Date::from_ymd(year, month, day)
}

/// Whether a resident ID belongs to a woman (its 17th digit, the sequence number's last, is
/// even), or `None` if `id` does not have the ID's shape.
pub fn national_id_is_female(id: &str) -> Option<bool> {
    let id = normalise_national_id(id);
    if !is_national_id_format(&id) {
        return None;
    }
    Some((id.as_bytes()[16] - b'0').is_multiple_of(2))
}

/// The GB 32100 value of a credit-code character (its index in the alphabet); lower case is
/// accepted.
fn credit_value(c: u8) -> Option<u32> {
    let c = c.to_ascii_uppercase();
    CREDIT_ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|i| i as u32)
}

/// Validates an 18-character GB 32100-2015 unified social credit code (统一社会信用代码) and
/// returns it trimmed and upper-cased.
///
/// Every character must come from the 31-character alphabet (digits and capitals without I, O,
/// S, V, Z), else [`Rule::CreditCodeFormat`]; the mod-31 check character must match, else
/// [`Rule::CreditCodeCheckDigit`].
pub fn credit_code(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(field, rule, s);
    let code = s.trim().to_ascii_uppercase();
    if code.len() != 18 || !code.bytes().all(|c| credit_value(c).is_some()) {
        return Err(err(Rule::CreditCodeFormat));
    }
    if credit_code_check_char(&code[..17]) != code[17..].chars().next() {
        return Err(err(Rule::CreditCodeCheckDigit));
    }
    Ok(code)
}

/// The GB 32100-2015 check character for the first 17 characters of a unified social credit
/// code, or `None` if `first17` is not 17 characters of the code's alphabet (either case).
///
/// Exposed so the synthetic data generator can build codes that [`credit_code`] accepts.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&c, w) in b.iter().zip(CREDIT_WEIGHTS) {
        sum += credit_value(c)? * w;
    }
    let value = (31 - sum % 31) % 31;
    Some(char::from(CREDIT_ALPHABET[value as usize]))
}

/// The ISO 3779 transliteration value of a VIN character, or `None` for characters a VIN cannot
/// contain (including I, O and Q, which are barred because they read as 1 and 0).
fn vin_value(c: char) -> Option<u32> {
    let v = match c.to_ascii_uppercase() {
        d @ '0'..='9' => d as u32 - '0' as u32,
        'A' | 'J' => 1,
        'B' | 'K' | 'S' => 2,
        'C' | 'L' | 'T' => 3,
        'D' | 'M' | 'U' => 4,
        'E' | 'N' | 'V' => 5,
        'F' | 'W' => 6,
        'G' | 'P' | 'X' => 7,
        'H' | 'Y' => 8,
        'R' | 'Z' => 9,
        _ => return None,
    };
    Some(v)
}

/// Validates a 17-character vehicle identification number (ISO 3779 / GB 16735) and returns it
/// trimmed and upper-cased.
///
/// It must be 17 ASCII letters and digits ([`Rule::VinFormat`]) without I, O or Q
/// ([`Rule::VinForbiddenLetter`]). The position-9 check digit is only mandatory where the
/// country of manufacture requires it (see [`vin_requires_check_digit`]); a mismatch there is
/// [`Rule::VinCheckDigit`]. Elsewhere, notably Europe, position 9 is often a filler such as `Z`,
/// so imported vehicles are accepted without the check.
pub fn vin(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let err = |rule| ValidationError::new(field, rule, s);
    let v = s.trim().to_ascii_uppercase();
    if v.len() != 17 || !v.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return Err(err(Rule::VinFormat));
    }
    if v.bytes().any(|c| matches!(c, b'I' | b'O' | b'Q')) {
        return Err(err(Rule::VinForbiddenLetter));
    }
    if vin_requires_check_digit(&v) && vin_check_digit(&v) != Some(char::from(v.as_bytes()[8])) {
        return Err(err(Rule::VinCheckDigit));
    }
    Ok(v)
}

/// The ISO 3779 check character (`'0'..='9'` or `'X'`) that belongs at position 9 of `vin17`,
/// or `None` unless the other 16 positions are valid VIN characters (either case) and there are
/// 17 characters in all.
///
/// Whatever sits at position 9 is ignored, so a generator can pass a placeholder there.
pub fn vin_check_digit(vin17: &str) -> Option<char> {
    let chars: Vec<char> = vin17.chars().collect();
    if chars.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (i, (&c, w)) in chars.iter().zip(VIN_WEIGHTS).enumerate() {
        if i != 8 {
            sum += vin_value(c)? * w;
        }
    }
    let value = sum % 11;
    Some(if value == 10 {
        'X'
    } else {
        char::from(b'0' + value as u8)
    })
}

/// Whether the VIN's world manufacturer identifier obliges a valid check digit: China (WMI
/// starting with `L`, required by GB 16735) and North America (`1`-`5`, required by 49 CFR 565).
/// Only the first character is inspected; leading whitespace and case are ignored.
pub fn vin_requires_check_digit(vin: &str) -> bool {
    matches!(vin.trim_start().chars().next(), Some('L' | 'l' | '1'..='5'))
}

/// Validates a mainland Chinese licence plate and returns it normalised, e.g. `"沪A12345"`.
///
/// Spaces, `·`, `-` and `.` (which people copy from the plate's printed layout "沪A·12345") are
/// removed and ASCII letters upper-cased. The plate must then be a province character, the
/// issuing authority's letter, and a serial of 5 letters/digits (ordinary plates) or 6 (green
/// new-energy plates); an ordinary plate may end in one of 学警挂领港澳 after 4 letters/digits
/// instead. Serials never use I or O (they read as 1 and 0). Anything else is
/// [`Rule::PlateFormat`].
pub fn plate(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let p: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '-' | '.'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if is_plate(&p) {
        Ok(p)
    } else {
        Err(ValidationError::new(field, Rule::PlateFormat, s))
    }
}

/// The plate grammar of [`plate`], on an already normalised plate.
fn is_plate(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    let [province, authority, serial @ ..] = chars.as_slice() else {
        return false;
    };
    if !PLATE_PROVINCES.contains(*province) || !authority.is_ascii_uppercase() {
        return false;
    }
    let serial_char =
        |c: &char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O'));
    match serial {
        [body @ .., last] if body.len() == 4 && PLATE_SUFFIXES.contains(*last) => {
            body.iter().all(serial_char)
        }
        _ => matches!(serial.len(), 5 | 6) && serial.iter().all(serial_char),
    }
}

/// Accepts dates from 1900-01-01 to 2100-12-31 inclusive, else [`Rule::DateImplausible`].
///
/// Dates outside that window are typos (a two-digit year, 0001-01-01 defaults from source
/// systems) and would distort every rollup that takes a first or last date.
pub fn plausible_date(field: &'static str, d: Date) -> Result<Date, ValidationError> {
    if (EARLIEST_PLAUSIBLE..=LATEST_PLAUSIBLE).contains(&d) {
        Ok(d)
    } else {
        Err(ValidationError::new(
            field,
            Rule::DateImplausible,
            d.to_string(),
        ))
    }
}

/// Days after the reference time a birth or a touchpoint may lie and still be plausible: one
/// day, for clocks that run ahead and for a source system whose local time zone is ahead of
/// the network's clock ([`crate::Clock`], UTC+08:00 by default).
pub const FUTURE_TOLERANCE_DAYS: i32 = 1;

/// A date that has happened: a plausible date ([`plausible_date`]) not after `now` plus
/// [`FUTURE_TOLERANCE_DAYS`], else [`Rule::DateImplausible`]. `now` is the time the record was
/// received (its `Received::at`), or the current time for a record without one
/// ([`crate::WriteTxn::now`]). Births and touchpoints must pass it: a birth date of 2030-01-01
/// or a service visit on 2100-12-31 is a typo, not a plan.
pub fn past_date(
    field: &'static str,
    d: Date,
    now: crate::date::DateTime,
) -> Result<Date, ValidationError> {
    plausible_date(field, d)?;
    if d > now.date().add_days(FUTURE_TOLERANCE_DAYS) {
        return Err(ValidationError::new(
            field,
            Rule::DateImplausible,
            format!("{d} after {}", now.date()),
        ));
    }
    Ok(d)
}

/// Checks that `later` does not precede `earlier` when both are known; equal dates are fine
/// (a car can be bought and invoiced on one day).
///
/// The error is reported on `field`, which names the later date, because that is the one that
/// is usually mistyped (e.g. an invoice date before the purchase it invoices); its value reads
/// `"<later> before <earlier>"`.
pub fn date_order(
    field: &'static str,
    earlier: Option<Date>,
    later: Option<Date>,
) -> Result<(), ValidationError> {
    match (earlier, later) {
        (Some(e), Some(l)) if l < e => Err(ValidationError::new(
            field,
            Rule::DateOrder,
            format!("{l} before {e}"),
        )),
        _ => Ok(()),
    }
}

/// Accepts zero or more, else [`Rule::Negative`]: amounts, mileage and counts are never
/// negative (refunds are recorded as their own events, not as negative prices).
pub fn non_negative(field: &'static str, v: i64) -> Result<i64, ValidationError> {
    if v < 0 {
        Err(ValidationError::new(field, Rule::Negative, v.to_string()))
    } else {
        Ok(v)
    }
}

/// Accepts a score on the 0-10 scale used by satisfaction and NPS surveys, else
/// [`Rule::ScoreOutOfRange`].
pub fn score(field: &'static str, v: u8) -> Result<u8, ValidationError> {
    if v <= 10 {
        Ok(v)
    } else {
        Err(ValidationError::new(
            field,
            Rule::ScoreOutOfRange,
            v.to_string(),
        ))
    }
}

/// Trims free text: blank becomes `None`, so "no value" is stored one way only; text longer
/// than `max_chars` characters (not bytes) is [`Rule::TooLong`]. Inner whitespace and line
/// breaks are kept because they carry meaning in notes and addresses; other control characters
/// and invisible-only text are refused ([`plain_text`]).
pub fn optional_text(
    field: &'static str,
    s: &str,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        Ok(None)
    } else if t.chars().count() > max_chars {
        Err(ValidationError::new(field, Rule::TooLong, t))
    } else {
        plain_text(field, t, &TEXT_WHITESPACE)?;
        Ok(Some(t.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule<T: std::fmt::Debug>(r: Result<T, ValidationError>) -> Rule {
        r.expect_err("expected a validation error").rule
    }

    fn ymd(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn past_dates_are_not_after_the_reference_plus_a_day() {
        let now = ymd(2026, 12, 4).at(10, 0, 0);
        assert_eq!(past_date("d", ymd(2026, 12, 4), now), Ok(ymd(2026, 12, 4)));
        assert_eq!(past_date("d", ymd(2026, 12, 5), now), Ok(ymd(2026, 12, 5)));
        assert_eq!(past_date("d", ymd(1950, 1, 1), now), Ok(ymd(1950, 1, 1)));
        for d in [
            ymd(2026, 12, 6),
            ymd(2030, 1, 1),
            ymd(2100, 12, 31),
            ymd(9999, 12, 31),
        ] {
            assert_eq!(rule(past_date("d", d, now)), Rule::DateImplausible, "{d}");
        }
        assert_eq!(
            rule(past_date("d", ymd(1899, 12, 31), now)),
            Rule::DateImplausible
        );
        let e = past_date("birth_date", ymd(2030, 1, 1), now).unwrap_err();
        assert_eq!(e.value, "2030-01-01 after 2026-12-04");
    }

    #[test]
    fn plausible_bounds_are_the_documented_dates() {
        assert_eq!(EARLIEST_PLAUSIBLE, ymd(1900, 1, 1));
        assert_eq!(LATEST_PLAUSIBLE, ymd(2100, 12, 31));
    }

    #[test]
    fn person_names_are_trimmed_and_collapsed() {
        assert_eq!(person_name("name", "  王小明 ").unwrap(), "王小明");
        assert_eq!(person_name("name", "王明").unwrap(), "王明");
        assert_eq!(person_name("name", "欧阳先生").unwrap(), "欧阳先生");
        assert_eq!(person_name("name", " Zhang \t  Wei ").unwrap(), "Zhang Wei");
        assert_eq!(person_name("name", "王\u{3000}小明").unwrap(), "王 小明");
        assert_eq!(
            person_name("name", &"李".repeat(64))
                .unwrap()
                .chars()
                .count(),
            64
        );
    }

    #[test]
    fn person_name_failures() {
        assert_eq!(rule(person_name("name", "")), Rule::Required);
        assert_eq!(rule(person_name("name", "  ")), Rule::Required);
        assert_eq!(rule(person_name("name", "\u{3000}")), Rule::Required);
        assert_eq!(rule(person_name("name", "王")), Rule::NameTooShort);
        assert_eq!(rule(person_name("name", " 王 ")), Rule::NameTooShort);
        assert_eq!(rule(person_name("name", "王先生")), Rule::NamePlaceholder);
        assert_eq!(rule(person_name("name", "李女士")), Rule::NamePlaceholder);
        assert_eq!(rule(person_name("name", "王 先生")), Rule::NamePlaceholder);
        assert_eq!(rule(person_name("name", &"李".repeat(65))), Rule::TooLong);
        let e = person_name("buyer.name", "王先生").unwrap_err();
        assert_eq!((e.field, e.value.as_str()), ("buyer.name", "王先生"));
    }

    #[test]
    fn control_characters_and_invisible_text_are_refused() {
        for name in [
            "王\0小明",
            "王小明\u{1b}]0;owned\u{7}",
            "\u{1b}[31m王小明",
            "王小明\u{7f}",
            "王小明\u{9b}",
            "\u{202e}明小王",
            "王\u{2066}小明",
        ] {
            assert_eq!(
                rule(person_name("name", name)),
                Rule::ControlCharacter,
                "{name:?}"
            );
            assert_eq!(
                rule(org_name("name", name)),
                Rule::ControlCharacter,
                "{name:?}"
            );
            assert_eq!(
                rule(optional_text("note", name, 100)),
                Rule::ControlCharacter
            );
        }
        for name in [
            "\u{200b}\u{200b}",
            "\u{200b} \u{feff}\u{2060}",
            "\u{ad}\u{ad}\u{ad}",
        ] {
            assert_eq!(
                rule(person_name("name", name)),
                Rule::InvisibleText,
                "{name:?}"
            );
            assert_eq!(
                rule(org_name("name", name)),
                Rule::InvisibleText,
                "{name:?}"
            );
            assert_eq!(
                rule(optional_text("address", name, 100)),
                Rule::InvisibleText
            );
        }
        // Line breaks and tabs stay allowed in free text, and visible text with a joiner passes.
        assert_eq!(
            optional_text("note", "第一行\n第二行\t完", 100)
                .unwrap()
                .as_deref(),
            Some("第一行\n第二行\t完")
        );
        assert_eq!(person_name("name", "王\t小明").unwrap(), "王 小明");
        assert!(optional_text("note", "👨\u{200d}👩", 100).is_ok());
        let e = person_name("name", "王\0小明").unwrap_err();
        assert_eq!(e.rule.code(), "control_character");
    }

    #[test]
    fn org_names() {
        assert_eq!(org_name("name", "  上海  大众 ").unwrap(), "上海 大众");
        let long = "上海".repeat(200);
        assert_eq!(org_name("name", &long).unwrap(), long);
        assert_eq!(rule(org_name("name", " ")), Rule::Required);
        assert_eq!(rule(org_name("name", "厂")), Rule::NameTooShort);
    }

    #[test]
    fn mobile_phones_normalise_to_eleven_digits() {
        for s in [
            "+86 138-1234-5678",
            "13812345678",
            " 138 1234 5678 ",
            "138.1234.5678",
            "(138) 1234-5678",
            "0086 13812345678",
            "8613812345678",
            "+8613812345678",
            "+(86) 138 1234 5678",
        ] {
            assert_eq!(mobile_phone("phone", s).unwrap(), "13812345678", "{s}");
        }
        assert_eq!(mobile_phone("phone", "19912345678").unwrap(), "19912345678");
    }

    #[test]
    fn mobile_phone_failures() {
        assert_eq!(rule(mobile_phone("p", "1381234567")), Rule::PhoneTooShort);
        assert_eq!(rule(mobile_phone("p", "+86 138 1234")), Rule::PhoneTooShort);
        assert_eq!(rule(mobile_phone("p", "12812345678")), Rule::PhoneNotMobile);
        assert_eq!(rule(mobile_phone("p", "02112345678")), Rule::PhoneNotMobile);
        assert_eq!(
            rule(mobile_phone("p", "138123456789")),
            Rule::PhoneNotMobile
        );
        assert_eq!(
            rule(mobile_phone("p", "+1 415 555 2671")),
            Rule::PhoneNotMobile
        );
        assert_eq!(
            rule(mobile_phone("p", "138a1234567")),
            Rule::PhoneInvalidCharacters
        );
        assert_eq!(
            rule(mobile_phone("p", "138+1234567")),
            Rule::PhoneInvalidCharacters
        );
        assert_eq!(
            rule(mobile_phone("p", "138/1234/5678")),
            Rule::PhoneInvalidCharacters
        );
        assert_eq!(rule(mobile_phone("p", "")), Rule::Required);
        assert_eq!(rule(mobile_phone("p", " - ")), Rule::Required);
        assert_eq!(rule(mobile_phone("p", "+86")), Rule::Required);
        assert_eq!(
            mobile_phone("p", "138a1234567").unwrap_err().value,
            "138a1234567"
        );
    }

    #[test]
    fn national_id_known_examples() {
        assert_eq!(national_id_check_digit("11010519491231002"), Some('X'));
        assert_eq!(
            national_id("id", "11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            national_id("id", " 11010519491231002x ").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            rule(national_id("id", "110105194912310021")),
            Rule::NationalIdCheckDigit
        );
        assert_eq!(
            rule(national_id("id", "11010519491331002X")),
            Rule::NationalIdBirthDate
        );
        assert_eq!(
            national_id_birth_date("11010519491231002X"),
            Some(ymd(1949, 12, 31))
        );
        assert_eq!(national_id_is_female("11010519491231002X"), Some(true));
        assert_eq!(national_id_is_female("11010519491231001X"), Some(false));
    }

    #[test]
    fn national_id_format_and_birth_date_failures() {
        for s in [
            "",
            "11010519491231002",
            "11010519491231002XX",
            "1101051949123100XX",
            "11010519491231002Y",
            "1101051949123１002X",
            "01010519491231002X",
        ] {
            assert_eq!(rule(national_id("id", s)), Rule::NationalIdFormat, "{s:?}");
        }
        // 1899 and 2101 are outside the plausible window; 1900-02-29 never existed.
        for first17 in [
            "11010518991231002",
            "11010521010101002",
            "11010519000229002",
        ] {
            let id = format!("{first17}{}", national_id_check_digit(first17).unwrap());
            assert_eq!(
                rule(national_id("id", &id)),
                Rule::NationalIdBirthDate,
                "{id}"
            );
        }
        assert_eq!(national_id_check_digit("1101051949123100"), None);
        assert_eq!(national_id_check_digit("1101051949123100A"), None);
        assert_eq!(national_id_birth_date("110105194912310"), None);
        assert_eq!(national_id_is_female("not an id"), None);
    }

    /// A deterministic, well-spread resident ID built with the generator.
    fn generated_id(n: u32) -> (String, Date, bool) {
        let region = 110_000 + (n * 7_919) % 800_000;
        let birth = ymd(1930, 1, 1).add_days(((n * 131) % 30_000) as i32);
        let (y, m, d) = birth.ymd();
        let seq = (n * 37) % 1000;
        let first17 = format!("{region:06}{y:04}{m:02}{d:02}{seq:03}");
        let check = national_id_check_digit(&first17).unwrap();
        (format!("{first17}{check}"), birth, seq.is_multiple_of(2))
    }

    #[test]
    fn generated_national_ids_validate() {
        let mut saw_x = false;
        for n in 0..400 {
            let (id, birth, female) = generated_id(n);
            assert_eq!(national_id("id", &id).unwrap(), id);
            assert_eq!(national_id("id", &id.to_lowercase()).unwrap(), id);
            assert_eq!(national_id_birth_date(&id), Some(birth));
            assert_eq!(national_id_is_female(&id), Some(female));
            saw_x |= id.ends_with('X');
        }
        assert!(saw_x, "the sample should include an X check character");
    }

    #[test]
    fn any_single_substitution_breaks_a_national_id() {
        let mut ids = vec!["11010519491231002X".to_string()];
        ids.extend((0..40).map(|n| generated_id(n * 11).0));
        for id in ids {
            for pos in 0..18 {
                for c in "0123456789X".chars() {
                    let mut bytes = id.clone().into_bytes();
                    if bytes[pos] == c as u8 {
                        continue;
                    }
                    bytes[pos] = c as u8;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert!(national_id("id", &changed).is_err(), "{id} -> {changed}");
                }
            }
        }
    }

    #[test]
    fn credit_code_known_examples() {
        assert_eq!(credit_code_check_char("91350100M000100Y4"), Some('3'));
        assert_eq!(
            credit_code("c", "91350100M000100Y43").unwrap(),
            "91350100M000100Y43"
        );
        assert_eq!(
            credit_code("c", " 91350100m000100y43 ").unwrap(),
            "91350100M000100Y43"
        );
        assert_eq!(
            rule(credit_code("c", "91350100M000100Y44")),
            Rule::CreditCodeCheckDigit
        );
        for s in [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100O000100Y43",
        ] {
            assert_eq!(rule(credit_code("c", s)), Rule::CreditCodeFormat, "{s:?}");
        }
        assert_eq!(
            rule(credit_code("c", "91350100M000100Y4中")),
            Rule::CreditCodeFormat
        );
        assert_eq!(credit_code_check_char("91350100M000100Y"), None);
        assert_eq!(credit_code_check_char("91350100M000100YI"), None);
    }

    /// A deterministic credit code built with the generator.
    fn generated_credit_code(n: usize) -> String {
        let mut first17: String = (0..17)
            .map(|i| char::from(CREDIT_ALPHABET[(n * 7 + i * i * 3 + i + n / 5) % 31]))
            .collect();
        let check = credit_code_check_char(&first17).unwrap();
        first17.push(check);
        first17
    }

    #[test]
    fn generated_credit_codes_validate() {
        for n in 0..400 {
            let code = generated_credit_code(n);
            assert_eq!(credit_code("c", &code).unwrap(), code);
            assert_eq!(credit_code("c", &code.to_lowercase()).unwrap(), code);
        }
    }

    #[test]
    fn any_single_substitution_breaks_a_credit_code() {
        let mut codes = vec!["91350100M000100Y43".to_string()];
        codes.extend((0..30).map(|n| generated_credit_code(n * 13)));
        for code in codes {
            for pos in 0..18 {
                for &c in CREDIT_ALPHABET {
                    let mut bytes = code.clone().into_bytes();
                    if bytes[pos] == c {
                        continue;
                    }
                    bytes[pos] = c;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert_eq!(
                        rule(credit_code("c", &changed)),
                        Rule::CreditCodeCheckDigit,
                        "{code} -> {changed}"
                    );
                }
            }
        }
    }

    #[test]
    fn vin_check_digit_known_examples() {
        assert_eq!(vin_check_digit("1M8GDM9AXKP042788"), Some('X'));
        assert_eq!(vin_check_digit("11111111111111111"), Some('1'));
        assert_eq!(
            vin("vin", "1M8GDM9AXKP042788").unwrap(),
            "1M8GDM9AXKP042788"
        );
        assert_eq!(
            vin("vin", " 1m8gdm9axkp042788").unwrap(),
            "1M8GDM9AXKP042788"
        );
        assert_eq!(
            vin("vin", "11111111111111111").unwrap(),
            "11111111111111111"
        );
        // LSVAU2180N2183294 transliterates to a weighted sum of 351 = 31 * 11 + 10, so its check
        // digit is X, not the 0 it carries: a Chinese WMI makes that a hard error.
        assert_eq!(vin_check_digit("LSVAU2180N2183294"), Some('X'));
        assert_eq!(rule(vin("vin", "LSVAU2180N2183294")), Rule::VinCheckDigit);
        assert_eq!(
            vin("vin", "lsvau218xn2183294").unwrap(),
            "LSVAU218XN2183294"
        );
        assert_eq!(rule(vin("vin", "1M8GDM9A1KP042788")), Rule::VinCheckDigit);
        assert_eq!(rule(vin("vin", "11111111211111111")), Rule::VinCheckDigit);
    }

    #[test]
    fn european_vins_skip_the_check_digit() {
        assert!(!vin_requires_check_digit("WVWZZZ1JZXW000001"));
        assert_eq!(
            vin("vin", "WVWZZZ1JZXW000001").unwrap(),
            "WVWZZZ1JZXW000001"
        );
        assert_eq!(
            vin("vin", "wauzzz8v0ja000001").unwrap(),
            "WAUZZZ8V0JA000001"
        );
        assert!(vin_requires_check_digit("LSVAU2180N2183294"));
        assert!(vin_requires_check_digit(" lsvau2180n2183294"));
        for c in ['1', '2', '3', '4', '5'] {
            assert!(vin_requires_check_digit(&format!("{c}FTFW1ET5DFC10312")));
        }
        for c in ['6', '9', 'J', 'K', 'S', 'W', 'Z'] {
            assert!(!vin_requires_check_digit(&format!("{c}FTFW1ET5DFC10312")));
        }
        assert!(!vin_requires_check_digit(""));
    }

    #[test]
    fn vin_format_failures() {
        for s in [
            "",
            "1M8GDM9AXKP04278",
            "1M8GDM9AXKP0427888",
            "1M8GDM9AXKP04278-",
            "车M8GDM9AXKP0427",
        ] {
            assert_eq!(rule(vin("vin", s)), Rule::VinFormat, "{s:?}");
        }
        for s in [
            "WVWZZZ1JZXW00000I",
            "WVWZZZ1JZXW00000O",
            "wvwzzz1jzxw00000q",
        ] {
            assert_eq!(rule(vin("vin", s)), Rule::VinForbiddenLetter, "{s:?}");
        }
        assert_eq!(vin_check_digit("1M8GDM9AXKP04278"), None);
        assert_eq!(vin_check_digit("1M8GDM9AXKP04278O"), None);
        // Position 9 is ignored, so a placeholder there is fine.
        assert_eq!(vin_check_digit("1M8GDM9A*KP042788"), Some('X'));
    }

    #[test]
    fn generated_vins_validate() {
        const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
        for n in 0..400usize {
            let mut bytes: Vec<u8> = (0..17)
                .map(|i| CHARS[(n * 5 + i * 11 + i * i * n) % CHARS.len()])
                .collect();
            bytes[0] = b"L12345"[n % 6];
            bytes[8] = b'0';
            let draft = String::from_utf8(bytes.clone()).unwrap();
            bytes[8] = vin_check_digit(&draft).unwrap() as u8;
            let good = String::from_utf8(bytes.clone()).unwrap();
            assert_eq!(vin("vin", &good).unwrap(), good);
            assert_eq!(vin("vin", &good.to_lowercase()).unwrap(), good);
            bytes[8] = if bytes[8] == b'7' { b'8' } else { b'7' };
            let bad = String::from_utf8(bytes).unwrap();
            assert_eq!(rule(vin("vin", &bad)), Rule::VinCheckDigit, "{bad}");
        }
    }

    #[test]
    fn plates() {
        assert_eq!(plate("plate", "沪A12345").unwrap(), "沪A12345");
        assert_eq!(plate("plate", "粤B D12345").unwrap(), "粤BD12345");
        assert_eq!(plate("plate", "京A1234学").unwrap(), "京A1234学");
        assert_eq!(plate("plate", " 沪a·123ab ").unwrap(), "沪A123AB");
        assert_eq!(plate("plate", "苏E-12345").unwrap(), "苏E12345");
        assert_eq!(plate("plate", "浙A.D1234F").unwrap(), "浙AD1234F");
        assert_eq!(plate("plate", "粤Z1234港").unwrap(), "粤Z1234港");
        for s in [
            "",
            "沪12345",
            "XA12345",
            "沪AI2345",
            "沪A1234O",
            "沪A1234",
            "沪A1234567",
            "沪A123学",
            "沪A12345学",
            "沪A1234使",
            "沪A1234学5",
            "台A12345",
            "沪中12345",
        ] {
            assert_eq!(rule(plate("plate", s)), Rule::PlateFormat, "{s:?}");
        }
    }

    #[test]
    fn plausible_dates() {
        for d in [ymd(1900, 1, 1), ymd(2024, 5, 1), ymd(2100, 12, 31)] {
            assert_eq!(plausible_date("d", d).unwrap(), d);
        }
        let e = plausible_date("birth_date", ymd(1899, 12, 31)).unwrap_err();
        assert_eq!(
            (e.field, e.rule, e.value.as_str()),
            ("birth_date", Rule::DateImplausible, "1899-12-31")
        );
        assert_eq!(
            rule(plausible_date("d", ymd(2101, 1, 1))),
            Rule::DateImplausible
        );
        assert_eq!(rule(plausible_date("d", Date::MIN)), Rule::DateImplausible);
    }

    #[test]
    fn date_orders() {
        let (a, b) = (ymd(2024, 5, 1), ymd(2024, 5, 3));
        assert!(date_order("invoice_date", Some(a), Some(b)).is_ok());
        assert!(date_order("invoice_date", Some(a), Some(a)).is_ok());
        assert!(date_order("invoice_date", None, Some(a)).is_ok());
        assert!(date_order("invoice_date", Some(b), None).is_ok());
        assert!(date_order("invoice_date", None, None).is_ok());
        let e = date_order("invoice_date", Some(b), Some(a)).unwrap_err();
        assert_eq!(e.field, "invoice_date");
        assert_eq!(e.rule, Rule::DateOrder);
        assert_eq!(e.value, "2024-05-01 before 2024-05-03");
    }

    #[test]
    fn numbers_and_scores() {
        assert_eq!(non_negative("mileage", 0).unwrap(), 0);
        assert_eq!(non_negative("mileage", i64::MAX).unwrap(), i64::MAX);
        let e = non_negative("mileage", -1).unwrap_err();
        assert_eq!((e.rule, e.value.as_str()), (Rule::Negative, "-1"));
        assert_eq!(rule(non_negative("price", i64::MIN)), Rule::Negative);
        assert_eq!(score("score", 0).unwrap(), 0);
        assert_eq!(score("score", 10).unwrap(), 10);
        assert_eq!(rule(score("score", 11)), Rule::ScoreOutOfRange);
        assert_eq!(rule(score("score", u8::MAX)), Rule::ScoreOutOfRange);
    }

    #[test]
    fn optional_texts() {
        assert_eq!(optional_text("note", "", 5).unwrap(), None);
        assert_eq!(optional_text("note", " \n\t\u{3000}", 5).unwrap(), None);
        assert_eq!(
            optional_text("note", "  上海市  ", 3).unwrap().as_deref(),
            Some("上海市")
        );
        assert_eq!(
            optional_text("note", "a\n b", 4).unwrap().as_deref(),
            Some("a\n b")
        );
        assert_eq!(rule(optional_text("note", "上海市浦东", 4)), Rule::TooLong);
        assert_eq!(
            optional_text("note", "x", 0).unwrap_err().rule,
            Rule::TooLong
        );
    }

    #[test]
    fn errors_carry_field_and_stable_code() {
        let e = vin("vehicle.vin", "LSVAU2180N2183294").unwrap_err();
        assert_eq!(e.field, "vehicle.vin");
        assert_eq!(e.rule.code(), "vin_check_digit");
        assert_eq!(e.value, "LSVAU2180N2183294");
    }
}
