//! Definition-time checking: resolves every name against the field catalogue of its scope
//! (customer, or vehicle inside `any vehicle (...)` / `all vehicles (...)`), binds function
//! arguments, checks that every comparison compares values of one type, and compiles the
//! result into the [`Node`] tree that is evaluated per customer.

use super::eval::*;
use super::lexer::{CmpOp, Dur};
use super::parser::{ArgValue, At, Expr, Lit, Rhs, Term};
use crate::consent::ConsentChannel;
use crate::ids::DealerId;
use crate::money::Money;
use crate::segment::builtin::{LifecycleParams, OwnerStatusParams, UpgradeParams};
use crate::segment::{RuleError, RuleErrorKind};

/// Fields of a customer (outside vehicle quantifiers).
pub(crate) const CUSTOMER_FIELDS: &[&str] = &[
    "kind",
    "gender",
    "age",
    "birth_date",
    "province",
    "city",
    "occupation",
    "employer",
    "industry",
    "has_phone",
    "card",
    "vehicle_count",
    "first_vehicle",
    "owner_status",
    "value_tier",
    "contribution",
    "upgrade_candidate",
    "count",
    "sum",
    "max",
    "days_since",
    "days_until",
    "tier",
    "member",
    "member_since",
    "balance",
    "consents",
    "segment",
];

/// Fields of a vehicle (inside `any vehicle (...)` / `all vehicles (...)`).
pub(crate) const VEHICLE_FIELDS: &[&str] = &[
    "model",
    "brand",
    "trim",
    "usage",
    "age",
    "owned_for",
    "in_warranty",
    "stage",
    "selling_dealer",
    "purchase_date",
    "invoice_date",
    "registration_date",
    "first_service_date",
    "warranty_end",
    "insurance_expiry",
    "inspection_due",
    "acquired",
    "days_since",
    "days_until",
];

const CUSTOMER_DATES: &[(&str, DateField)] = &[
    ("birth_date", DateField::BirthDate),
    ("first_vehicle", DateField::FirstVehicle),
    ("member_since", DateField::MemberSince),
];

const VEHICLE_DATES: &[(&str, DateField)] = &[
    ("purchase_date", DateField::Purchase),
    ("invoice_date", DateField::Invoice),
    ("registration_date", DateField::Registration),
    ("first_service_date", DateField::FirstService),
    ("warranty_end", DateField::WarrantyEnd),
    ("insurance_expiry", DateField::InsuranceExpiry),
    ("inspection_due", DateField::InspectionDue),
    ("acquired", DateField::Acquired),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Customer,
    Vehicle,
}

/// The type of a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    Money,
    Date,
    Days,
    Dur,
    Text,
    Choice(&'static [&'static str]),
    Tier,
}

impl Ty {
    fn describe(self) -> String {
        match self {
            Ty::Bool => "a yes/no condition".into(),
            Ty::Int => "a whole number".into(),
            Ty::Money => "an amount of money (written ¥5000)".into(),
            Ty::Date => "a date (written 2025-01-31)".into(),
            Ty::Days => "a number of days (or never)".into(),
            Ty::Dur => "a duration (written 90d, 6m or 5y)".into(),
            Ty::Text => "text".into(),
            Ty::Choice(vs) => format!("one of {}", quoted(vs)),
            Ty::Tier => format!("a tier, one of {} (lowest first)", quoted(TIERS)),
        }
    }

    fn example(self, name: &str) -> String {
        match self {
            Ty::Bool => name.to_string(),
            Ty::Int => format!("{name} >= 3"),
            Ty::Money => format!("{name} >= ¥5000"),
            Ty::Date => format!("{name} < 2025-01-01"),
            Ty::Days => format!("{name} > 90"),
            Ty::Dur => format!("{name} >= 5y"),
            Ty::Text => format!("{name} = \"...\""),
            Ty::Choice(vs) => format!("{name} = \"{}\"", display_value(vs[0])),
            Ty::Tier => format!("{name} >= \"silver\""),
        }
    }
}

/// How a closed value is written in messages (cards are upper case).
fn display_value(v: &str) -> String {
    if v.len() == 1 {
        v.to_ascii_uppercase()
    } else {
        v.to_string()
    }
}

fn quoted(vs: &[&str]) -> String {
    vs.iter()
        .map(|v| format!("\"{}\"", display_value(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A resolved field: the operand, its type, and whether its value can be unknown.
struct Typed {
    op: Operand,
    ty: Ty,
    optional: bool,
}

fn typed(op: Operand, ty: Ty) -> Typed {
    Typed {
        op,
        ty,
        optional: false,
    }
}

fn optional(op: Operand, ty: Ty) -> Typed {
    Typed {
        op,
        ty,
        optional: true,
    }
}

/// The checker: the text (for error positions), the saved-segment oracle, and the segments
/// named so far.
pub(crate) struct Checker<'a> {
    text: &'a str,
    known_segment: &'a dyn Fn(&str) -> bool,
    /// Saved segments the rule names, each once, in order of appearance.
    pub segments: Vec<String>,
}

type Res<T> = Result<T, RuleError>;

/// Levenshtein distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    let best = candidates
        .iter()
        .map(|c| (distance(name, c), *c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= 2.max(name.chars().count() / 3) && d < name.chars().count() => {
            format!(" (did you mean `{c}`?)")
        }
        _ => String::new(),
    }
}

/// Compiles owner-status tests into [`Node::OwnerStatusIn`] (and `owner_status = none` into
/// `card = "A"`), which reads the vehicles only when the service dates leave it open.
fn specialise(op: Operand, test: Test) -> Node {
    let Operand::OwnerStatus(params) = op else {
        return Node::Test(op, test);
    };
    let all: u8 = (1 << OWNER_STATUSES.len()) - 1;
    let bits = |list: &[i64]| list.iter().fold(0u8, |m, &i| m | (1 << i));
    let mask = match &test {
        Test::Cmp(CmpOp::Eq, i) => 1 << i,
        Test::Cmp(CmpOp::Ne, i) => all & !(1 << i),
        Test::In(list, false) => bits(list),
        Test::In(list, true) => all & !bits(list),
        Test::IsNone(none) => {
            return Node::Test(Operand::Card, Test::Cmp(CmpOp::Eq, i64::from(!none)))
        }
        _ => return Node::Test(op, test),
    };
    Node::OwnerStatusIn { params, mask }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(text: &'a str, known_segment: &'a dyn Fn(&str) -> bool) -> Self {
        Checker {
            text,
            known_segment,
            segments: Vec::new(),
        }
    }

    fn err(&self, kind: RuleErrorKind, pos: usize, message: impl Into<String>) -> RuleError {
        RuleError::at(kind, self.text, pos, message)
    }

    fn syntax(&self, pos: usize, message: impl Into<String>) -> RuleError {
        self.err(RuleErrorKind::Syntax, pos, message)
    }

    fn type_err(&self, pos: usize, message: impl Into<String>) -> RuleError {
        self.err(RuleErrorKind::Type, pos, message)
    }

    fn unknown(&self, pos: usize, message: impl Into<String>) -> RuleError {
        self.err(RuleErrorKind::UnknownField, pos, message)
    }

    /// Checks and compiles a whole rule.
    pub(crate) fn rule(&mut self, e: &Expr) -> Res<Node> {
        self.expr(e, Scope::Customer)
    }

    fn expr(&mut self, e: &Expr, scope: Scope) -> Res<Node> {
        Ok(match e {
            Expr::Const(b) => Node::Const(*b),
            Expr::Or(parts) => Node::Or(self.all(parts, scope)?),
            Expr::And(parts) => Node::And(self.all(parts, scope)?),
            Expr::Not(inner) => Node::Not(Box::new(self.expr(inner, scope)?)),
            Expr::Vehicles { all, pos, body } => {
                if scope == Scope::Vehicle {
                    return Err(self.syntax(
                        *pos,
                        "vehicle conditions cannot nest: inside `any vehicle (...)` each vehicle is already one vehicle",
                    ));
                }
                Node::Vehicles {
                    all: *all,
                    body: Box::new(self.expr(body, Scope::Vehicle)?),
                }
            }
            Expr::Test(term, rhs) => {
                let t = self.term(term, scope)?;
                let test = self.test(&t, term, rhs.as_ref())?;
                specialise(t.op, test)
            }
        })
    }

    /// The parts of an `and` or `or`, cheapest first (see [`Node::cost`]).
    fn all(&mut self, parts: &[Expr], scope: Scope) -> Res<Box<[Node]>> {
        let mut nodes = parts
            .iter()
            .map(|p| self.expr(p, scope))
            .collect::<Res<Vec<_>>>()?;
        nodes.sort_by_key(Node::cost);
        Ok(nodes.into_boxed_slice())
    }

    // -----------------------------------------------------------------------------------------
    // Comparisons

    fn test(&self, t: &Typed, term: &Term, rhs: Option<&Rhs>) -> Res<Test> {
        let name = match &term.args {
            Some(_) => format!("{}(...)", term.name.it),
            None => term.name.it.clone(),
        };
        let name = name.as_str();
        match rhs {
            None => {
                if t.ty == Ty::Bool {
                    Ok(Test::Cmp(CmpOp::Eq, 1))
                } else {
                    Err(self.type_err(
                        term.name.pos,
                        format!(
                            "`{name}` is {}, not a condition: compare it, e.g. {}",
                            t.ty.describe(),
                            t.ty.example(name)
                        ),
                    ))
                }
            }
            Some(Rhs::Cmp(op, lit)) => self.compare(t, name, op, lit),
            Some(Rhs::In {
                negated,
                pos,
                values,
            }) => {
                if matches!(t.ty, Ty::Bool | Ty::Dur) {
                    return Err(self.type_err(
                        *pos,
                        format!(
                            "`in` needs a field with a list of possible values, but `{name}` is {}: write e.g. {}",
                            t.ty.describe(),
                            t.ty.example(name)
                        ),
                    ));
                }
                let eq = At {
                    it: CmpOp::Eq,
                    pos: *pos,
                };
                if t.ty == Ty::Text {
                    let mut list = Vec::with_capacity(values.len());
                    for v in values {
                        match self.compare(t, name, &eq, v)? {
                            Test::Text(_, s) => list.push(s),
                            _ => return Err(self.type_err(v.pos, "`none` cannot be in a list")),
                        }
                    }
                    return Ok(Test::TextIn(list.into_boxed_slice(), *negated));
                }
                let mut list = Vec::with_capacity(values.len());
                for v in values {
                    match self.compare(t, name, &eq, v)? {
                        Test::Cmp(_, n) => list.push(n),
                        _ => return Err(self.type_err(v.pos, "`none` cannot be in a list")),
                    }
                }
                Ok(Test::In(list.into_boxed_slice(), *negated))
            }
        }
    }

    fn compare(&self, t: &Typed, name: &str, op: &At<CmpOp>, lit: &At<Lit>) -> Res<Test> {
        let ordering = op.it.is_ordering();
        if lit.it == Lit::None {
            if ordering {
                return Err(self.type_err(
                    op.pos,
                    "`none` (unknown) has no order: use `= none` or `!= none`",
                ));
            }
            if !t.optional {
                return Err(self.type_err(
                    lit.pos,
                    format!("`{name}` is always known, so it is never `none`"),
                ));
            }
            return Ok(Test::IsNone(op.it == CmpOp::Eq));
        }
        let unordered = |what: &str| {
            Err(self.type_err(
                op.pos,
                format!("{what} have no order: compare `{name}` with = or != (or `in [...]`)"),
            ))
        };
        let test = match (t.ty, &lit.it) {
            (Ty::Bool, Lit::Bool(b)) => {
                if ordering {
                    return unordered("yes/no values");
                }
                Test::Cmp(op.it, i64::from(*b))
            }
            (Ty::Int, Lit::Int(n)) => Test::Cmp(op.it, *n),
            (Ty::Money, Lit::Money(f)) => Test::Cmp(op.it, *f),
            (Ty::Date, Lit::Date(d)) => Test::Cmp(op.it, i64::from(d.days())),
            (Ty::Days, Lit::Int(n)) => Test::Cmp(op.it, *n),
            (Ty::Days, Lit::Never) => Test::Cmp(op.it, NEVER),
            (Ty::Dur, Lit::Dur(d)) => {
                if !ordering {
                    return Err(self.type_err(
                        op.pos,
                        format!("`{name}` compares with <, <=, > or >= (e.g. {name} >= {d}): an age is rarely exactly a duration"),
                    ));
                }
                Test::Age(op.it, *d)
            }
            (Ty::Text, Lit::Str(s)) => {
                if ordering {
                    return unordered("texts");
                }
                Test::Text(op.it == CmpOp::Eq, s.as_str().into())
            }
            (Ty::Choice(vs), Lit::Str(s)) => {
                if ordering {
                    return unordered("these values");
                }
                Test::Cmp(op.it, self.choice(vs, name, s, lit.pos)?)
            }
            (Ty::Tier, Lit::Str(s)) => Test::Cmp(op.it, self.choice(TIERS, name, s, lit.pos)?),
            (ty, other) => {
                let hint = match (ty, other) {
                    (Ty::Money, Lit::Int(n)) => format!(": write money with ¥, e.g. ¥{n}"),
                    (Ty::Int | Ty::Days, Lit::Money(f)) => {
                        format!(": compare it with a whole number such as {}", f / 100)
                    }
                    (Ty::Int | Ty::Days, Lit::Dur(d)) => match d.days() {
                        Some(n) => format!(": write the number alone, e.g. {n}"),
                        None => ": write a whole number".into(),
                    },
                    (Ty::Dur, Lit::Int(n)) => format!(": write a duration such as {n}y or {n}d"),
                    (Ty::Date, Lit::Str(_)) => {
                        ": write dates without quotes, e.g. 2025-01-31".into()
                    }
                    (Ty::Text | Ty::Choice(_) | Ty::Tier, _) => {
                        ": write text in double quotes".into()
                    }
                    (_, Lit::Never) => ": only days_since and days_until can be `never`".into(),
                    _ => String::new(),
                };
                return Err(self.type_err(
                    lit.pos,
                    format!(
                        "`{name}` is {}, but it is compared with {}{hint}",
                        t.ty.describe(),
                        other.kind()
                    ),
                ));
            }
        };
        Ok(test)
    }

    fn choice(&self, vs: &[&str], name: &str, s: &str, pos: usize) -> Res<i64> {
        let s = s.trim();
        let found = vs
            .iter()
            .position(|v| v.eq_ignore_ascii_case(s))
            .or_else(|| {
                // Accept the American spelling.
                (s.eq_ignore_ascii_case("organization"))
                    .then(|| vs.iter().position(|v| *v == "organisation"))
                    .flatten()
            });
        match found {
            Some(i) => Ok(i as i64),
            None => Err(self.type_err(
                pos,
                format!(
                    "\"{s}\" is not a value of `{name}`: it is one of {}{}",
                    quoted(vs),
                    did_you_mean(&s.to_ascii_lowercase(), vs)
                ),
            )),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Arguments

    /// Binds the arguments of `term` to `params` (positional first, then `name = value`); the
    /// first `required` parameters must be given.
    fn bind<'t>(
        &self,
        term: &'t Term,
        params: &[&'static str],
        required: usize,
        usage: &str,
    ) -> Res<Vec<Option<&'t At<ArgValue>>>> {
        let name = term.name.it.as_str();
        let mut out: Vec<Option<&At<ArgValue>>> = vec![None; params.len()];
        let Some(args) = &term.args else {
            if required > 0 {
                return Err(
                    self.syntax(term.name.pos, format!("`{name}` needs arguments: {usage}"))
                );
            }
            return Ok(out);
        };
        if params.is_empty() && !args.it.is_empty() {
            return Err(self.syntax(args.pos, format!("`{name}` takes no arguments")));
        }
        let mut next = 0;
        let mut named = false;
        for a in &args.it {
            let i = match &a.name {
                Some(n) => {
                    named = true;
                    params.iter().position(|p| *p == n.it).ok_or_else(|| {
                        self.unknown(
                            n.pos,
                            format!(
                                "`{name}` has no parameter `{}`{}: {usage}",
                                n.it,
                                did_you_mean(&n.it, params)
                            ),
                        )
                    })?
                }
                None => {
                    if named {
                        return Err(self.syntax(
                            a.value.pos,
                            "positional arguments come before named ones (name = value)",
                        ));
                    }
                    if next >= params.len() {
                        return Err(self.syntax(
                            a.value.pos,
                            format!("too many arguments for `{name}`: {usage}"),
                        ));
                    }
                    next += 1;
                    next - 1
                }
            };
            if out[i].is_some() {
                let at = a.name.as_ref().map_or(a.value.pos, |n| n.pos);
                return Err(self.syntax(at, format!("`{}` is given twice", params[i])));
            }
            out[i] = Some(&a.value);
        }
        if let Some(i) = (0..required).find(|&i| out[i].is_none()) {
            return Err(self.syntax(
                args.pos,
                format!("`{name}` needs its `{}`: {usage}", params[i]),
            ));
        }
        Ok(out)
    }

    fn dur(&self, v: &At<ArgValue>, what: &str) -> Res<Dur> {
        match &v.it {
            ArgValue::Lit(Lit::Dur(d)) => Ok(*d),
            _ => Err(self.type_err(
                v.pos,
                format!("{what} is a duration such as 90d, 12m or 2y"),
            )),
        }
    }

    fn days(&self, v: &At<ArgValue>, what: &str, min: i32) -> Res<i32> {
        let d = self.dur(v, what)?;
        match d.days() {
            Some(n) if n >= min => Ok(n),
            Some(_) => Err(self.type_err(v.pos, format!("{what} must be at least {min}d"))),
            None => Err(self.type_err(
                v.pos,
                format!(
                    "{what} is a whole number of days: write it in d or w (e.g. 183d), not {d}"
                ),
            )),
        }
    }

    fn years(&self, v: &At<ArgValue>, what: &str) -> Res<i32> {
        let d = self.dur(v, what)?;
        d.years().ok_or_else(|| {
            self.type_err(
                v.pos,
                format!("{what} is a whole number of years: write it in y (e.g. 5y), not {d}"),
            )
        })
    }

    fn money(&self, v: &At<ArgValue>, what: &str) -> Res<i64> {
        match &v.it {
            ArgValue::Lit(Lit::Money(f)) => Ok(*f),
            ArgValue::Lit(Lit::Int(n)) => {
                Err(self.type_err(v.pos, format!("{what} is an amount of money: write ¥{n}")))
            }
            _ => Err(self.type_err(v.pos, format!("{what} is an amount of money such as ¥5000"))),
        }
    }

    fn dealer(&self, v: &At<ArgValue>) -> Res<DealerId> {
        match &v.it {
            ArgValue::Lit(Lit::Int(n)) => u32::try_from(*n).map(DealerId).map_err(|_| {
                self.type_err(v.pos, "a dealer id is a whole number from 0 to 4294967295")
            }),
            _ => Err(self.type_err(
                v.pos,
                "dealer is the dealer's id, a whole number (e.g. dealer = 12)",
            )),
        }
    }

    fn boolean(&self, v: &At<ArgValue>, what: &str) -> Res<bool> {
        match &v.it {
            ArgValue::Lit(Lit::Bool(b)) => Ok(*b),
            _ => Err(self.type_err(v.pos, format!("{what} is true or false"))),
        }
    }

    fn string<'t>(&self, v: &'t At<ArgValue>, what: &str) -> Res<&'t str> {
        match &v.it {
            ArgValue::Lit(Lit::Str(s)) => Ok(s),
            ArgValue::Name(n) => Err(self.type_err(
                v.pos,
                format!("{what} is text: write it in double quotes, \"{n}\""),
            )),
            _ => Err(self.type_err(v.pos, format!("{what} is text in double quotes"))),
        }
    }

    fn strings(&self, v: &At<ArgValue>, what: &str) -> Res<Vec<String>> {
        match &v.it {
            ArgValue::List(items) => items
                .iter()
                .map(|i| self.string(i, what).map(|s| s.trim().to_string()))
                .collect(),
            _ => Ok(vec![self.string(v, what)?.trim().to_string()]),
        }
    }

    /// A touchpoint selection: a kind, a service kind, `any`, or a list of them.
    fn sel(&self, v: &At<ArgValue>) -> Res<Sel> {
        let one = |name: &str, pos: usize| -> Res<Sel> {
            if name == "any" {
                return Ok(Sel::ANY);
            }
            if let Some(k) = TOUCHPOINT_KINDS.iter().position(|k| *k == name) {
                return Ok(Sel {
                    kinds: 1 << k,
                    service: 0,
                });
            }
            if let Some(s) = SERVICE_KINDS.iter().position(|k| *k == name) {
                return Ok(Sel {
                    kinds: 0,
                    service: 1 << s,
                });
            }
            let all: Vec<&str> = TOUCHPOINT_KINDS
                .iter()
                .chain(SERVICE_KINDS)
                .copied()
                .chain(["any"])
                .collect();
            Err(self.unknown(
                pos,
                format!(
                    "`{name}` is not a touchpoint kind{}: use one of {}, a service kind ({}), or any",
                    did_you_mean(name, &all),
                    TOUCHPOINT_KINDS.join(", "),
                    SERVICE_KINDS.join(", ")
                ),
            ))
        };
        let item = |v: &At<ArgValue>| -> Res<Sel> {
            match &v.it {
                ArgValue::Name(n) => one(n, v.pos),
                ArgValue::Lit(Lit::Str(s)) => Err(self.type_err(
                    v.pos,
                    format!("touchpoint kinds are names, not text: write {s} without quotes"),
                )),
                _ => Err(self.type_err(
                    v.pos,
                    "expected a touchpoint kind such as service_visit (or a list: [repair, warranty_repair])",
                )),
            }
        };
        match &v.it {
            ArgValue::List(items) => {
                let mut sel = Sel::default();
                for i in items {
                    let s = item(i)?;
                    sel.kinds |= s.kinds;
                    sel.service |= s.service;
                }
                Ok(sel)
            }
            _ => item(v),
        }
    }

    fn events(
        &self,
        sel: Sel,
        window: Option<&At<ArgValue>>,
        dealer: Option<&At<ArgValue>>,
        succeeded: Option<&At<ArgValue>>,
    ) -> Res<Events> {
        Ok(Events {
            sel,
            window: window.map(|w| self.dur(w, "the window")).transpose()?,
            dealer: dealer.map(|d| self.dealer(d)).transpose()?,
            succeeded: succeeded
                .map(|s| self.boolean(s, "succeeded"))
                .transpose()?,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Fields

    fn term(&mut self, term: &Term, scope: Scope) -> Res<Typed> {
        match scope {
            Scope::Customer => self.customer_field(term),
            Scope::Vehicle => self.vehicle_field(term),
        }
    }

    fn unknown_field(&self, term: &Term, scope: Scope) -> RuleError {
        let name = term.name.it.as_str();
        let pos = term.name.pos;
        let (here, there) = match scope {
            Scope::Customer => (CUSTOMER_FIELDS, VEHICLE_FIELDS),
            Scope::Vehicle => (VEHICLE_FIELDS, CUSTOMER_FIELDS),
        };
        if there.contains(&name) {
            let msg = match scope {
                Scope::Customer => format!(
                    "`{name}` is a vehicle field: ask it of the vehicles, e.g. any vehicle ({name} ...)"
                ),
                Scope::Vehicle => format!(
                    "`{name}` is a customer field: inside `any vehicle (...)` only vehicle fields apply ({}); move it outside the parentheses",
                    VEHICLE_FIELDS.join(", ")
                ),
            };
            return self.unknown(pos, msg);
        }
        if scope == Scope::Customer
            && (TOUCHPOINT_KINDS.contains(&name) || SERVICE_KINDS.contains(&name))
        {
            return self.unknown(
                pos,
                format!("`{name}` is a touchpoint kind, not a field: count it, e.g. count({name}, 365d) >= 1"),
            );
        }
        self.unknown(
            pos,
            format!(
                "unknown field `{name}`{}; the fields are: {}",
                did_you_mean(name, here),
                here.join(", ")
            ),
        )
    }

    fn no_args(&self, term: &Term) -> Res<()> {
        self.bind(term, &[], 0, "").map(|_| ())
    }

    fn customer_field(&mut self, term: &Term) -> Res<Typed> {
        let name = term.name.it.as_str();
        if let Some((_, f)) = CUSTOMER_DATES.iter().find(|(n, _)| *n == name) {
            self.no_args(term)?;
            return Ok(optional(Operand::Date(*f), Ty::Date));
        }
        let simple = match name {
            "kind" => Some(typed(Operand::Kind, Ty::Choice(KINDS))),
            "gender" => Some(optional(Operand::Gender, Ty::Choice(GENDERS))),
            "age" => Some(optional(Operand::Age, Ty::Int)),
            "province" => Some(optional(Operand::Province, Ty::Text)),
            "city" => Some(optional(Operand::City, Ty::Text)),
            "occupation" => Some(optional(Operand::Occupation, Ty::Text)),
            "employer" => Some(optional(Operand::Employer, Ty::Text)),
            "industry" => Some(optional(Operand::Industry, Ty::Text)),
            "has_phone" => Some(typed(Operand::HasPhone, Ty::Bool)),
            "card" => Some(typed(Operand::Card, Ty::Choice(CARDS))),
            "vehicle_count" => Some(typed(Operand::VehicleCount, Ty::Int)),
            "value_tier" => Some(typed(Operand::ValueTier, Ty::Tier)),
            "tier" => Some(typed(Operand::Tier, Ty::Tier)),
            _ => None,
        };
        if let Some(t) = simple {
            self.no_args(term)?;
            return Ok(t);
        }
        let t = match name {
            "owner_status" => {
                let a = self.bind(
                    term,
                    &["window", "recent"],
                    0,
                    "owner_status(window = 365d, recent = 90d)",
                )?;
                let mut p = OwnerStatusParams::default();
                if let Some(w) = a[0] {
                    p.window_days = self.days(w, "the window", 1)?;
                }
                if let Some(r) = a[1] {
                    p.recent_days = self.days(r, "recent", 0)?;
                }
                optional(Operand::OwnerStatus(p), Ty::Choice(OWNER_STATUSES))
            }
            "contribution" => {
                let a = self.bind(
                    term,
                    &["window", "per_referral"],
                    0,
                    "contribution(window = 365d, per_referral = ¥0)",
                )?;
                let window = match a[0] {
                    Some(w) => self.dur(w, "the window")?,
                    None => Dur {
                        n: 365,
                        unit: super::lexer::Unit::Days,
                    },
                };
                let per_referral = a[1]
                    .map(|m| self.money(m, "per_referral"))
                    .transpose()?
                    .unwrap_or(0);
                typed(
                    Operand::Contribution {
                        window,
                        per_referral,
                    },
                    Ty::Money,
                )
            }
            "upgrade_candidate" => {
                let usage = "upgrade_candidate(models = [\"Jetta\"], min_age = 5y, min_spend = ¥0, window = 365d)";
                let a = self.bind(
                    term,
                    &["models", "min_age", "min_spend", "window"],
                    1,
                    usage,
                )?;
                let models = self.strings(a[0].expect("required"), "models")?;
                let p = UpgradeParams {
                    entry_models: models,
                    min_age_years: a[1]
                        .map(|v| self.years(v, "min_age"))
                        .transpose()?
                        .unwrap_or(5),
                    min_service_spend: Money(
                        a[2].map(|v| self.money(v, "min_spend"))
                            .transpose()?
                            .unwrap_or(0),
                    ),
                    spend_window_days: a[3]
                        .map(|v| self.days(v, "the window", 0))
                        .transpose()?
                        .unwrap_or(365),
                };
                typed(Operand::Upgrade(Box::new(p)), Ty::Bool)
            }
            "count" => {
                let a = self.bind(
                    term,
                    &["kind", "window", "dealer", "succeeded"],
                    1,
                    "count(kind, window, dealer = id, succeeded = true), e.g. count(service_visit, 365d)",
                )?;
                let sel = self.sel(a[0].expect("required"))?;
                typed(Operand::Count(self.events(sel, a[1], a[2], a[3])?), Ty::Int)
            }
            "sum" | "max" => {
                let usage = format!(
                    "{name}(amount, kind, window, dealer = id, succeeded = true), e.g. {name}(amount, purchase, 2y)"
                );
                let a = self.bind(
                    term,
                    &["measure", "kind", "window", "dealer", "succeeded"],
                    2,
                    &usage,
                )?;
                let m = a[0].expect("required");
                if m.it != ArgValue::Name("amount".into()) {
                    return Err(self.unknown(
                        m.pos,
                        format!("`{name}` adds up `amount`, the amount paid: {usage}"),
                    ));
                }
                let q = self.events(self.sel(a[1].expect("required"))?, a[2], a[3], a[4])?;
                let op = if name == "sum" {
                    Operand::Sum(q)
                } else {
                    Operand::Max(q)
                };
                typed(op, Ty::Money)
            }
            "days_since" | "days_until" => {
                let usage = if name == "days_since" {
                    "days_since(kind, dealer = id, succeeded = true) or days_since(date field), e.g. days_since(service_visit) > 90"
                } else {
                    "days_until(date field)"
                };
                let a = self.bind(term, &["what", "dealer", "succeeded"], 1, usage)?;
                let what = a[0].expect("required");
                let field = match &what.it {
                    ArgValue::Name(n) => CUSTOMER_DATES.iter().find(|(f, _)| f == n),
                    _ => None,
                };
                match field {
                    Some((_, f)) => {
                        if let Some(x) = a[1].or(a[2]) {
                            return Err(self.syntax(
                                x.pos,
                                "dealer and succeeded filter touchpoints, not dates",
                            ));
                        }
                        let op = if name == "days_since" {
                            Operand::DaysSince(*f)
                        } else {
                            Operand::DaysUntil(*f)
                        };
                        optional(op, Ty::Days)
                    }
                    None if name == "days_until" => {
                        let fields: Vec<&str> = CUSTOMER_DATES.iter().map(|(n, _)| *n).collect();
                        return Err(self.date_field_error(what, &fields));
                    }
                    None => {
                        let sel = self.sel(what)?;
                        typed(
                            Operand::DaysSinceEvent(self.events(sel, None, a[1], a[2])?),
                            Ty::Days,
                        )
                    }
                }
            }
            "consents" => {
                let a = self.bind(term, &["channel"], 1, "consents(\"sms\")")?;
                let v = a[0].expect("required");
                let s = self.string(v, "the channel")?;
                let ch =
                    ConsentChannel::from_name(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
                        let names: Vec<&str> =
                            ConsentChannel::ALL.iter().map(|c| c.name()).collect();
                        self.type_err(
                            v.pos,
                            format!(
                                "\"{s}\" is not a consent channel: use one of {}",
                                quoted(&names)
                            ),
                        )
                    })?;
                typed(Operand::Consents(ch), Ty::Bool)
            }
            "segment" => {
                let a = self.bind(term, &["name"], 1, "segment(\"vip_owners\")")?;
                let v = a[0].expect("required");
                let s = self.string(v, "the segment name")?.trim().to_string();
                if !(self.known_segment)(&s) {
                    return Err(self.err(
                        RuleErrorKind::UnknownSegment,
                        v.pos,
                        format!("there is no saved segment \"{s}\": save it first, or check the spelling"),
                    ));
                }
                if !self.segments.contains(&s) {
                    self.segments.push(s.clone());
                }
                typed(Operand::Segment(s.into_boxed_str()), Ty::Bool)
            }
            "member" | "balance" => {
                let usage = format!("{name} (brand club) or {name}(dealer = id)");
                let a = self.bind(term, &["dealer"], 0, &usage)?;
                let dealer = a[0].map(|v| self.dealer(v)).transpose()?;
                if name == "member" {
                    typed(Operand::Member(dealer), Ty::Bool)
                } else {
                    typed(Operand::Balance(dealer), Ty::Int)
                }
            }
            _ => return Err(self.unknown_field(term, Scope::Customer)),
        };
        Ok(t)
    }

    fn date_field_error(&self, what: &At<ArgValue>, fields: &[&str]) -> RuleError {
        let msg = match &what.it {
            ArgValue::Name(n) if VEHICLE_DATES.iter().any(|(f, _)| f == n) => format!(
                "`{n}` is a vehicle's date: ask it of the vehicles, e.g. any vehicle (days_until({n}) <= 30)"
            ),
            ArgValue::Name(n) => format!(
                "`{n}` is not a date field here{}: use one of {}",
                did_you_mean(n, fields),
                fields.join(", ")
            ),
            _ => format!("expected a date field: one of {}", fields.join(", ")),
        };
        match &what.it {
            ArgValue::Name(_) => self.unknown(what.pos, msg),
            _ => self.type_err(what.pos, msg),
        }
    }

    fn vehicle_field(&mut self, term: &Term) -> Res<Typed> {
        let name = term.name.it.as_str();
        if let Some((_, f)) = VEHICLE_DATES.iter().find(|(n, _)| *n == name) {
            self.no_args(term)?;
            let t = if *f == DateField::Acquired {
                typed(Operand::Date(*f), Ty::Date)
            } else {
                optional(Operand::Date(*f), Ty::Date)
            };
            return Ok(t);
        }
        let simple = match name {
            "model" => Some(typed(Operand::Model, Ty::Text)),
            "brand" => Some(typed(Operand::Brand, Ty::Text)),
            "trim" => Some(optional(Operand::Trim, Ty::Text)),
            "usage" => Some(typed(Operand::Usage, Ty::Choice(USAGES))),
            "age" => Some(typed(Operand::VehicleAge, Ty::Dur)),
            "owned_for" => Some(typed(Operand::OwnedFor, Ty::Dur)),
            "in_warranty" => Some(typed(Operand::InWarranty, Ty::Bool)),
            "selling_dealer" => Some(optional(Operand::SellingDealer, Ty::Int)),
            _ => None,
        };
        if let Some(t) = simple {
            self.no_args(term)?;
            return Ok(t);
        }
        match name {
            "stage" => {
                let a = self.bind(term, &["replacement"], 0, "stage(replacement = 6y)")?;
                let mut p = LifecycleParams::default();
                if let Some(v) = a[0] {
                    p.replacement_age_years = self.years(v, "replacement")?;
                    if p.replacement_age_years < 1 {
                        return Err(self.type_err(v.pos, "replacement must be at least 1y"));
                    }
                }
                Ok(typed(Operand::Stage(p), Ty::Choice(STAGES)))
            }
            "days_since" | "days_until" => {
                let usage = format!("{name}(date field), e.g. {name}(warranty_end)");
                let a = self.bind(term, &["what"], 1, &usage)?;
                let what = a[0].expect("required");
                let field = match &what.it {
                    ArgValue::Name(n) => VEHICLE_DATES.iter().find(|(f, _)| f == n),
                    _ => None,
                };
                let Some((_, f)) = field else {
                    let fields: Vec<&str> = VEHICLE_DATES.iter().map(|(n, _)| *n).collect();
                    return Err(self.date_field_error(what, &fields));
                };
                let op = if name == "days_since" {
                    Operand::DaysSince(*f)
                } else {
                    Operand::DaysUntil(*f)
                };
                Ok(Typed {
                    op,
                    ty: Ty::Days,
                    optional: *f != DateField::Acquired,
                })
            }
            _ => Err(self.unknown_field(term, Scope::Vehicle)),
        }
    }
}
