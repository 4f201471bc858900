#![doc = include_str!("../../../../docs/rules.md")]

mod check;
mod eval;
mod lexer;
mod parser;

use crate::analytics::CustomerFacts;
use crate::segment::{EvalContext, RuleError};

/// A parsed and checked segment rule, compiled for evaluation (see the [module docs](self)
/// for the language).
///
/// Parsing resolves every field, parameter, duration and literal, so [`Rule::matches`] only
/// reads the customer's facts and compares integers: it never allocates.
#[derive(Clone, Debug)]
pub struct Rule {
    text: String,
    root: eval::Node,
    segments: Vec<String>,
}

impl Rule {
    /// Parses and checks `text`; `known_segment` says whether a saved segment name exists.
    ///
    /// Errors are [`RuleError`]s of kind `Syntax` (the text does not follow the grammar),
    /// `UnknownField` (a field, parameter or touchpoint kind that does not exist),
    /// `UnknownSegment` (`segment("...")` names no saved segment) or `Type` (a comparison of
    /// values of different types, a value outside a field's choices, a wrong argument), each
    /// with the line, column and caret of the offending token.
    pub fn parse(text: &str, known_segment: &dyn Fn(&str) -> bool) -> Result<Rule, RuleError> {
        let ast = parser::parse(text)?;
        let mut checker = check::Checker::new(text, known_segment);
        let root = checker.rule(&ast)?;
        Ok(Rule {
            text: text.to_string(),
            root,
            segments: checker.segments,
        })
    }

    /// Names of the saved segments the rule uses, each once, in order of first appearance.
    pub fn segments(&self) -> Vec<String> {
        self.segments.clone()
    }

    /// Whether customer `c` is a member as of `ctx.as_of`.
    #[inline]
    pub fn matches(&self, c: &CustomerFacts, ctx: &EvalContext<'_>) -> bool {
        self.root.eval(c, None, ctx)
    }

    /// The rule's text, as given.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::check::{CUSTOMER_FIELDS, VEHICLE_FIELDS};
    use super::eval::{OWNER_STATUSES, SERVICE_KINDS, STAGES, TOUCHPOINT_KINDS, USAGES};
    use super::*;

    const DOC: &str = include_str!("../../../../docs/rules.md");

    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}

    #[test]
    fn rule_is_clone_debug_send_sync() {
        assert_send_sync::<Rule>();
    }

    #[test]
    fn every_field_kind_and_value_is_documented() {
        for name in CUSTOMER_FIELDS
            .iter()
            .chain(VEHICLE_FIELDS)
            .chain(TOUCHPOINT_KINDS)
            .chain(SERVICE_KINDS)
        {
            assert!(
                DOC.contains(&format!("`{name}")),
                "docs/rules.md lacks `{name}`"
            );
        }
        for v in OWNER_STATUSES.iter().chain(STAGES).chain(USAGES) {
            assert!(
                DOC.contains(&format!("\"{v}\"")),
                "docs/rules.md lacks \"{v}\""
            );
        }
    }

    /// Every example in a ```rule block of docs/rules.md parses (one rule per block).
    #[test]
    fn every_documented_example_parses() {
        let mut n = 0;
        let mut rest = DOC;
        while let Some(start) = rest.find("```rule\n") {
            let body = &rest[start + 8..];
            let end = body.find("```").expect("closed block");
            let text = &body[..end];
            Rule::parse(text, &|s| s == "vip_owners" || s == "recent_buyers")
                .unwrap_or_else(|e| panic!("documented example does not parse:\n{text}\n{e}"));
            n += 1;
            rest = &body[end + 3..];
        }
        assert!(n >= 10, "only {n} examples");
    }
}
