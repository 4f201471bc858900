//! The recursive-descent parser: tokens to an untyped syntax tree with positions. Names are
//! resolved and types checked afterwards, in `check`.

use super::lexer::{lex, CmpOp, Dur, Tok, Token};
use crate::date::Date;
use crate::segment::{RuleError, RuleErrorKind};

/// How deeply parentheses, `not` and quantifiers may nest: deep enough for any real rule,
/// shallow enough that parsing, checking, evaluating and dropping never exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lit {
    /// `"text"`
    Str(String),
    /// `42`
    Int(i64),
    /// `¥12.50`, in fen.
    Money(i64),
    /// `2025-01-01`
    Date(Date),
    /// `90d`
    Dur(Dur),
    /// `true` / `false`
    Bool(bool),
    /// `never`: no such event (greater than every number of days).
    Never,
    /// `none`: the value is unknown.
    None,
}

impl Lit {
    /// How an error message names the literal's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Lit::Str(_) => "text",
            Lit::Int(_) => "a whole number",
            Lit::Money(_) => "an amount of money",
            Lit::Date(_) => "a date",
            Lit::Dur(_) => "a duration",
            Lit::Bool(_) => "true/false",
            Lit::Never => "`never`",
            Lit::None => "`none`",
        }
    }
}

/// Something with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct At<T> {
    /// The thing.
    pub it: T,
    /// Byte offset.
    pub pos: usize,
}

/// A function argument's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ArgValue {
    /// A literal.
    Lit(Lit),
    /// A bare name, e.g. a touchpoint kind.
    Name(String),
    /// `[a, b]`: literals or names.
    List(Vec<At<ArgValue>>),
}

/// A function argument, positional or `name = value`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    /// The parameter name, if given.
    pub name: Option<At<String>>,
    /// The value (its position is the value's).
    pub value: At<ArgValue>,
}

/// A field or function: `card`, `owner_status(window = 183d)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Term {
    /// The name and its position.
    pub name: At<String>,
    /// The arguments, if parentheses were written (their position is the `(`).
    pub args: Option<At<Vec<Arg>>>,
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Rhs {
    /// `op value`
    Cmp(At<CmpOp>, At<Lit>),
    /// `[not] in [values]`; the position is the `in` (or `not`).
    In {
        /// `not in`
        negated: bool,
        /// Position of the operator.
        pos: usize,
        /// The values.
        values: Vec<At<Lit>>,
    },
}

/// An untyped condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// `true` or `false`.
    Const(bool),
    /// `a or b or ...`
    Or(Vec<Expr>),
    /// `a and b and ...`
    And(Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `any vehicle (...)` / `all vehicles (...)`, at the quantifier's position.
    Vehicles {
        /// `all` rather than `any`.
        all: bool,
        /// Position of `any` / `all`.
        pos: usize,
        /// The condition on each vehicle.
        body: Box<Expr>,
    },
    /// A field, alone (a yes/no field) or compared.
    Test(Term, Option<Rhs>),
}

/// Parses `text` into a syntax tree.
pub(crate) fn parse(text: &str) -> Result<Expr, RuleError> {
    let tokens = lex(text)?;
    let mut p = Parser {
        text,
        tokens,
        at: 0,
        depth: 0,
    };
    if p.peek() == &Tok::Eof {
        return Err(p.err(
            0,
            "the rule is empty: write a condition such as card = \"C\"",
        ));
    }
    let e = p.or()?;
    if p.peek() != &Tok::Eof {
        let what = p.peek().describe();
        let hint = if matches!(p.peek(), Tok::RParen) {
            "this `)` closes nothing"
        } else {
            "join conditions with `and` or `or`"
        };
        return Err(p.err(
            p.pos(),
            format!("unexpected {what} after a complete condition: {hint}"),
        ));
    }
    Ok(e)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    at: usize,
    depth: usize,
}

fn is_kw(tok: &Tok<'_>, kw: &str) -> bool {
    matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

/// Words that cannot name a field.
const KEYWORDS: [&str; 4] = ["and", "or", "not", "in"];

impl<'a> Parser<'a> {
    fn err(&self, pos: usize, message: impl Into<String>) -> RuleError {
        RuleError::at(RuleErrorKind::Syntax, self.text, pos, message)
    }

    fn peek(&self) -> &Tok<'a> {
        &self.tokens[self.at].tok
    }

    fn peek_at(&self, k: usize) -> &Tok<'a> {
        let i = (self.at + k).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn pos(&self) -> usize {
        self.tokens[self.at].pos
    }

    fn next(&mut self) -> Token<'a> {
        let t = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.next();
            true
        } else {
            false
        }
    }

    /// One level deeper, for the construct starting at `pos`.
    fn deeper(&mut self, pos: usize) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(
                pos,
                format!("the rule nests more than {MAX_DEPTH} levels deep: simplify it or save parts as segments"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.and()?];
        while self.eat_kw("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.unary()?];
        while self.eat_kw("and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        let pos = self.pos();
        if self.eat_kw("not") {
            self.deeper(pos)?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn expect_close(&mut self, open: usize, what: &str) -> Result<(), RuleError> {
        if self.peek() == &Tok::RParen {
            self.next();
            return Ok(());
        }
        let found = self.peek().describe();
        let line = RuleError::at(RuleErrorKind::Syntax, self.text, open, "");
        Err(self.err(
            self.pos(),
            format!(
                "expected `)` to close the `(` {what}at line {}, column {}, found {found}",
                line.line, line.column
            ),
        ))
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::LParen => {
                self.next();
                self.deeper(pos)?;
                let e = self.or()?;
                self.expect_close(pos, "")?;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Ident(w)
                if (w.eq_ignore_ascii_case("any") || w.eq_ignore_ascii_case("all"))
                    && (is_kw(self.peek_at(1), "vehicle")
                        || is_kw(self.peek_at(1), "vehicles")) =>
            {
                let all = w.eq_ignore_ascii_case("all");
                self.next();
                self.next();
                let open = self.pos();
                if self.peek() != &Tok::LParen {
                    let found = self.peek().describe();
                    return Err(self.err(
                        open,
                        format!("expected `(` and a condition on each vehicle after `{w} vehicle`, found {found}"),
                    ));
                }
                self.next();
                self.deeper(pos)?;
                let body = self.or()?;
                self.expect_close(open, &format!("of `{w} vehicle` "))?;
                self.depth -= 1;
                Ok(Expr::Vehicles {
                    all,
                    pos,
                    body: Box::new(body),
                })
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") => {
                self.next();
                if matches!(self.peek(), Tok::Op(_)) || is_kw(self.peek(), "in") {
                    return Err(self.err(
                        self.pos(),
                        "`true` and `false` are conditions of their own: put the field on the left, e.g. has_phone = true",
                    ));
                }
                Ok(Expr::Const(w.eq_ignore_ascii_case("true")))
            }
            Tok::Ident(w) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => Err(self.err(
                pos,
                format!("expected a condition, found the keyword `{w}`"),
            )),
            Tok::Ident(_) => {
                let term = self.term()?;
                let rhs = self.rhs()?;
                Ok(Expr::Test(term, rhs))
            }
            Tok::Eof => Err(self.err(pos, "the rule ends too early: expected a condition")),
            other => {
                let hint = match other {
                    Tok::Str(_) | Tok::Int(_) | Tok::Money(_) | Tok::Date(_) | Tok::Dur(_) => {
                        ": a comparison puts the field first, e.g. age >= 30"
                    }
                    _ => "",
                };
                Err(self.err(
                    pos,
                    format!("expected a condition, found {}{hint}", other.describe()),
                ))
            }
        }
    }

    fn term(&mut self) -> Result<Term, RuleError> {
        let t = self.next();
        let Tok::Ident(name) = t.tok else {
            unreachable!("term starts at a name")
        };
        let name = At {
            it: name.to_ascii_lowercase(),
            pos: t.pos,
        };
        if self.peek() != &Tok::LParen {
            return Ok(Term { name, args: None });
        }
        let open = self.pos();
        self.next();
        let mut args = Vec::new();
        if self.peek() != &Tok::RParen {
            loop {
                args.push(self.arg()?);
                if self.peek() == &Tok::Comma {
                    self.next();
                    continue;
                }
                break;
            }
        }
        if self.peek() != &Tok::RParen {
            let found = self.peek().describe();
            return Err(self.err(
                self.pos(),
                format!(
                    "expected `,` or `)` in the arguments of `{}`, found {found}",
                    name.it
                ),
            ));
        }
        self.next();
        Ok(Term {
            name,
            args: Some(At {
                it: args,
                pos: open,
            }),
        })
    }

    fn arg(&mut self) -> Result<Arg, RuleError> {
        let mut name = None;
        if let Tok::Ident(n) = self.peek() {
            if self.peek_at(1) == &Tok::Op(CmpOp::Eq) {
                name = Some(At {
                    it: n.to_ascii_lowercase(),
                    pos: self.pos(),
                });
                self.next();
                self.next();
            }
        }
        let value = self.arg_value(true)?;
        Ok(Arg { name, value })
    }

    fn arg_value(&mut self, lists: bool) -> Result<At<ArgValue>, RuleError> {
        let pos = self.pos();
        let it = match self.peek().clone() {
            Tok::LBracket if lists => {
                self.next();
                let mut items = Vec::new();
                loop {
                    if self.peek() == &Tok::RBracket && !items.is_empty() {
                        break;
                    }
                    items.push(self.arg_value(false)?);
                    if self.peek() == &Tok::Comma {
                        self.next();
                        continue;
                    }
                    break;
                }
                if self.peek() != &Tok::RBracket {
                    let found = self.peek().describe();
                    return Err(self.err(
                        self.pos(),
                        format!("expected `,` or `]` in the list, found {found}"),
                    ));
                }
                self.next();
                ArgValue::List(items)
            }
            Tok::Ident(w) => {
                self.next();
                match keyword_literal(w) {
                    Some(l) => ArgValue::Lit(l),
                    None => ArgValue::Name(w.to_ascii_lowercase()),
                }
            }
            _ => match self.literal_token() {
                Some(l) => {
                    self.next();
                    ArgValue::Lit(l)
                }
                None => {
                    let found = self.peek().describe();
                    return Err(self.err(pos, format!("expected an argument, found {found}")));
                }
            },
        };
        Ok(At { it, pos })
    }

    fn literal_token(&self) -> Option<Lit> {
        Some(match self.peek() {
            Tok::Str(s) => Lit::Str(s.clone()),
            Tok::Int(n) => Lit::Int(*n),
            Tok::Money(m) => Lit::Money(*m),
            Tok::Date(d) => Lit::Date(*d),
            Tok::Dur(d) => Lit::Dur(*d),
            Tok::Ident(w) => keyword_literal(w)?,
            _ => return None,
        })
    }

    fn value(&mut self, after: &str) -> Result<At<Lit>, RuleError> {
        let pos = self.pos();
        match self.literal_token() {
            Some(it) => {
                self.next();
                Ok(At { it, pos })
            }
            None => {
                let msg = match self.peek() {
                    Tok::Ident(w) => format!(
                        "expected a value after `{after}`, found the name `{w}`: write text in double quotes, e.g. \"{w}\" (values never name fields)"
                    ),
                    other => format!("expected a value after `{after}`, found {}", other.describe()),
                };
                Err(self.err(pos, msg))
            }
        }
    }

    fn rhs(&mut self) -> Result<Option<Rhs>, RuleError> {
        let pos = self.pos();
        if let Tok::Op(op) = *self.peek() {
            self.next();
            let v = self.value(op.symbol())?;
            return Ok(Some(Rhs::Cmp(At { it: op, pos }, v)));
        }
        let negated = is_kw(self.peek(), "not") && is_kw(self.peek_at(1), "in");
        if negated {
            self.next();
        }
        if !self.eat_kw("in") {
            return Ok(None);
        }
        let open = self.pos();
        if self.peek() != &Tok::LBracket {
            let found = self.peek().describe();
            return Err(self.err(
                open,
                format!("expected `[` and a list of values after `in`, found {found}"),
            ));
        }
        self.next();
        let mut values = Vec::new();
        loop {
            if self.peek() == &Tok::RBracket && !values.is_empty() {
                break;
            }
            if self.peek() == &Tok::RBracket {
                return Err(self.err(
                    self.pos(),
                    "an empty list matches nothing: give at least one value",
                ));
            }
            values.push(self.value(if values.is_empty() { "[" } else { "," })?);
            if self.peek() == &Tok::Comma {
                self.next();
                continue;
            }
            break;
        }
        if self.peek() != &Tok::RBracket {
            let found = self.peek().describe();
            return Err(self.err(
                self.pos(),
                format!("expected `,` or `]` in the list, found {found}"),
            ));
        }
        self.next();
        Ok(Some(Rhs::In {
            negated,
            pos,
            values,
        }))
    }
}

fn keyword_literal(w: &str) -> Option<Lit> {
    let l = w.to_ascii_lowercase();
    Some(match l.as_str() {
        "true" => Lit::Bool(true),
        "false" => Lit::Bool(false),
        "never" => Lit::Never,
        "none" => Lit::None,
        _ => return None,
    })
}
