//! The tokens of the rule language and the hand-written lexer that produces them.
//!
//! Every token carries the byte offset where it starts, so errors can point at it; offsets are
//! always on character boundaries.

use crate::date::Date;
use crate::segment::{RuleError, RuleErrorKind};

/// Largest number of days (or weeks × 7) a duration may have: about 270 years.
const MAX_DURATION_DAYS: i64 = 100_000;
/// Largest number of months (or years × 12) a duration may have: 1,000 years.
const MAX_DURATION_MONTHS: i64 = 12_000;

/// The unit a duration literal was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// `d`
    Days,
    /// `w`
    Weeks,
    /// `m`
    Months,
    /// `y`
    Years,
}

/// A duration literal such as `90d`, `12m` or `2y`: days and weeks are exact day counts,
/// months and years are calendar months (a year is 12 months).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dur {
    /// The number as written.
    pub n: i32,
    /// The unit as written.
    pub unit: Unit,
}

impl Dur {
    /// The exact number of days, for days and weeks; `None` for calendar units.
    pub fn days(self) -> Option<i32> {
        match self.unit {
            Unit::Days => Some(self.n),
            Unit::Weeks => Some(self.n * 7),
            Unit::Months | Unit::Years => None,
        }
    }

    /// The number of whole years, for a duration written in years.
    pub fn years(self) -> Option<i32> {
        (self.unit == Unit::Years).then_some(self.n)
    }
}

impl std::fmt::Display for Dur {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let u = match self.unit {
            Unit::Days => 'd',
            Unit::Weeks => 'w',
            Unit::Months => 'm',
            Unit::Years => 'y',
        };
        write!(f, "{}{u}", self.n)
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    /// `=` (or `==`)
    Eq,
    /// `!=` (or `<>`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as the documentation writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether the operator needs an order (`<`, `<=`, `>`, `>=`).
    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// `a op b`.
    #[inline]
    pub fn test<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok<'a> {
    /// A name: a field, function, keyword or touchpoint kind (`[A-Za-z_][A-Za-z0-9_]*`).
    Ident(&'a str),
    /// A quoted string, escapes resolved.
    Str(String),
    /// An integer.
    Int(i64),
    /// Money in fen, from `¥1234.50`.
    Money(i64),
    /// A date, from `2025-01-01`.
    Date(Date),
    /// A duration, from `90d`.
    Dur(Dur),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// A comparison operator.
    Op(CmpOp),
    /// The end of the text.
    Eof,
}

impl Tok<'_> {
    /// How an error message names the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{}`", crate::segment::shorten(s, 40)),
            Tok::Str(s) => format!("the string {:?}", crate::segment::shorten(s, 40)),
            Tok::Int(n) => format!("the number {n}"),
            Tok::Money(f) => format!("the amount {}", crate::money::Money(*f)),
            Tok::Date(d) => format!("the date {d}"),
            Tok::Dur(d) => format!("the duration {d}"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::Eof => "the end of the rule".into(),
        }
    }
}

/// A token and the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token<'a> {
    /// What it is.
    pub tok: Tok<'a>,
    /// Byte offset of its first character.
    pub pos: usize,
}

/// Splits `text` into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(text: &str) -> Result<Vec<Token<'_>>, RuleError> {
    Lexer { text, pos: 0 }.run()
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    fn err(&self, at: usize, message: impl Into<String>) -> RuleError {
        RuleError::at(RuleErrorKind::Syntax, self.text, at, message)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.text[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn run(mut self) -> Result<Vec<Token<'a>>, RuleError> {
        let mut out = Vec::new();
        loop {
            self.skip_blank();
            let start = self.pos;
            let Some(c) = self.peek() else {
                out.push(Token {
                    tok: Tok::Eof,
                    pos: start,
                });
                return Ok(out);
            };
            let tok = match c {
                '(' => self.single(Tok::LParen),
                ')' => self.single(Tok::RParen),
                '[' => self.single(Tok::LBracket),
                ']' => self.single(Tok::RBracket),
                ',' => self.single(Tok::Comma),
                '=' => {
                    self.bump();
                    if self.peek() == Some('=') {
                        self.bump();
                    }
                    Tok::Op(CmpOp::Eq)
                }
                '!' => {
                    self.bump();
                    if self.peek() != Some('=') {
                        return Err(self.err(start, "`!` alone is not an operator: write `not` to negate a condition, or `!=` for \"not equal\""));
                    }
                    self.bump();
                    Tok::Op(CmpOp::Ne)
                }
                '<' => {
                    self.bump();
                    match self.peek() {
                        Some('=') => {
                            self.bump();
                            Tok::Op(CmpOp::Le)
                        }
                        Some('>') => {
                            self.bump();
                            Tok::Op(CmpOp::Ne)
                        }
                        _ => Tok::Op(CmpOp::Lt),
                    }
                }
                '>' => {
                    self.bump();
                    if self.peek() == Some('=') {
                        self.bump();
                        Tok::Op(CmpOp::Ge)
                    } else {
                        Tok::Op(CmpOp::Gt)
                    }
                }
                '&' | '|' => {
                    let word = if c == '&' { "and" } else { "or" };
                    return Err(
                        self.err(start, format!("`{c}` is not an operator: write `{word}`"))
                    );
                }
                '"' | '\'' => self.string(c)?,
                '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' => {
                    return Err(self.err(
                        start,
                        "typographic quotes are not string quotes: write \"...\" with straight double quotes",
                    ));
                }
                '¥' | '￥' => self.money()?,
                '-' => {
                    if self.peek2().is_some_and(|c| c.is_ascii_digit()) {
                        self.bump();
                        self.number(start, true)?
                    } else {
                        return Err(self.err(
                            start,
                            "unexpected `-`: only numbers can be negative (there is no arithmetic)",
                        ));
                    }
                }
                c if c.is_ascii_digit() => self.number(start, false)?,
                c if is_ident_start(c) => {
                    while self.peek().is_some_and(is_ident_char) {
                        self.bump();
                    }
                    Tok::Ident(&self.text[start..self.pos])
                }
                c => {
                    let hint = if c.is_alphabetic() {
                        ": names are ASCII letters, digits and `_`; put text values in double quotes, e.g. \"上海\""
                    } else {
                        ""
                    };
                    return Err(self.err(start, format!("unexpected character `{c}`{hint}")));
                }
            };
            out.push(Token { tok, pos: start });
        }
    }

    fn single(&mut self, tok: Tok<'a>) -> Tok<'a> {
        self.bump();
        tok
    }

    /// Skips whitespace (including the ideographic space) and `#` comments.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn string(&mut self, quote: char) -> Result<Tok<'a>, RuleError> {
        let start = self.pos;
        self.bump();
        let mut s = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None | Some('\n') => {
                    return Err(self.err(
                        start,
                        format!("this string is not closed: end it with {quote} on the same line"),
                    ))
                }
                Some(c) if c == quote => return Ok(Tok::Str(s)),
                Some('\\') => match self.bump() {
                    Some('"') => s.push('"'),
                    Some('\'') => s.push('\''),
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    _ => {
                        return Err(self.err(
                            at,
                            "unknown escape: inside a string write \\\", \\', \\\\, \\n or \\t",
                        ))
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }

    /// Digits with optional `_` separators; returns the value or an error at `start`.
    fn digits(&mut self, start: usize) -> Result<(i64, usize), RuleError> {
        let mut value: i64 = 0;
        let mut count = 0usize;
        while let Some(c) = self.peek() {
            if let Some(d) = c.to_digit(10) {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(i64::from(d)))
                    .ok_or_else(|| self.err(start, "this number is too large"))?;
                count += 1;
            } else if c != '_' {
                break;
            }
            self.bump();
        }
        Ok((value, count))
    }

    fn number(&mut self, start: usize, negative: bool) -> Result<Tok<'a>, RuleError> {
        let digits_start = self.pos;
        let (n, count) = self.digits(start)?;
        let plain = self.pos - digits_start == count;
        if !negative && plain && count == 4 && self.peek() == Some('-') {
            return self.date(start, n);
        }
        match self.peek() {
            Some('.') => Err(self.err(
                start,
                "numbers are whole: only money has decimals, written ¥12.50",
            )),
            Some(c) if is_ident_start(c) => {
                let unit_at = self.pos;
                while self.peek().is_some_and(is_ident_char) {
                    self.bump();
                }
                let unit = match &self.text[unit_at..self.pos] {
                    "d" | "D" => Unit::Days,
                    "w" | "W" => Unit::Weeks,
                    "m" | "M" => Unit::Months,
                    "y" | "Y" => Unit::Years,
                    other => {
                        return Err(self.err(
                            unit_at,
                            format!("unknown duration unit `{other}`: write d (days), w (weeks), m (months) or y (years), e.g. 90d"),
                        ))
                    }
                };
                if negative {
                    return Err(self.err(start, "durations cannot be negative"));
                }
                let (limit, months) = match unit {
                    Unit::Days => (MAX_DURATION_DAYS, false),
                    Unit::Weeks => (MAX_DURATION_DAYS / 7, false),
                    Unit::Months => (MAX_DURATION_MONTHS, true),
                    Unit::Years => (MAX_DURATION_MONTHS / 12, true),
                };
                if n > limit {
                    let what = if months { "1000 years" } else { "100000 days" };
                    return Err(
                        self.err(start, format!("this duration is too long: at most {what}"))
                    );
                }
                Ok(Tok::Dur(Dur { n: n as i32, unit }))
            }
            _ => Ok(Tok::Int(if negative { -n } else { n })),
        }
    }

    fn date(&mut self, start: usize, year: i64) -> Result<Tok<'a>, RuleError> {
        let bad = |l: &Self| {
            l.err(
                start,
                "a date is written YYYY-MM-DD with a real day, e.g. 2025-01-31",
            )
        };
        let mut part = || -> Option<u32> {
            if self.peek() != Some('-') {
                return None;
            }
            self.bump();
            let at = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            let s = &self.text[at..self.pos];
            if s.is_empty() || s.len() > 2 {
                return None;
            }
            s.parse().ok()
        };
        let month = part();
        let day = month.and_then(|_| part());
        let (Some(month), Some(day)) = (month, day) else {
            return Err(bad(self));
        };
        if self
            .peek()
            .is_some_and(|c| is_ident_char(c) || c == '-' || c == '.')
        {
            return Err(bad(self));
        }
        Date::from_ymd(year as i32, month, day)
            .map(Tok::Date)
            .ok_or_else(|| bad(self))
    }

    fn money(&mut self) -> Result<Tok<'a>, RuleError> {
        let start = self.pos;
        self.bump();
        let bad = "write money as ¥ followed by yuan, with at most two decimals: ¥5000 or ¥99.50";
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.err(start, bad));
        }
        let (yuan, _) = self.digits(start)?;
        let mut fen = 0i64;
        if self.peek() == Some('.') {
            self.bump();
            let at = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            let frac = &self.text[at..self.pos];
            if frac.is_empty() || frac.len() > 2 {
                return Err(self.err(start, bad));
            }
            fen = frac.parse::<i64>().map_err(|_| self.err(start, bad))?;
            if frac.len() == 1 {
                fen *= 10;
            }
        }
        if self.peek().is_some_and(|c| is_ident_char(c) || c == '.') {
            return Err(self.err(start, bad));
        }
        yuan.checked_mul(100)
            .and_then(|f| f.checked_add(fen))
            .map(Tok::Money)
            .ok_or_else(|| self.err(start, "this amount is too large"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_every_literal_form() {
        assert_eq!(
            toks("age >= 30 and sum(amount) > ¥1_000.5 # note\n d = 2025-01-31 90d 2y -3 'x'"),
            vec![
                Tok::Ident("age"),
                Tok::Op(CmpOp::Ge),
                Tok::Int(30),
                Tok::Ident("and"),
                Tok::Ident("sum"),
                Tok::LParen,
                Tok::Ident("amount"),
                Tok::RParen,
                Tok::Op(CmpOp::Gt),
                Tok::Money(100_050),
                Tok::Ident("d"),
                Tok::Op(CmpOp::Eq),
                Tok::Date(Date::from_ymd(2025, 1, 31).unwrap()),
                Tok::Dur(Dur {
                    n: 90,
                    unit: Unit::Days
                }),
                Tok::Dur(Dur {
                    n: 2,
                    unit: Unit::Years
                }),
                Tok::Int(-3),
                Tok::Str("x".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn refuses_bad_literals_with_positions() {
        for (text, col) in [
            ("x = 2025-02-30", 5),
            ("x = 90q", 7),
            ("x = \"open", 5),
            ("x = ¥", 5),
            ("x = 1.5", 5),
            ("x = 99999999999999999999", 5),
            ("x = ¥1.234", 5),
            ("x 上海", 3),
        ] {
            let e = lex(text).unwrap_err();
            assert_eq!((e.kind, e.column), (RuleErrorKind::Syntax, col), "{text}");
        }
    }
}
