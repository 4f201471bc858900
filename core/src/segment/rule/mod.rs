//! PLACEHOLDER until the rule language lands: the interface only.

use crate::analytics::CustomerFacts;
use crate::segment::{EvalContext, RuleError, RuleErrorKind};

/// A parsed and checked segment rule.
#[derive(Clone, Debug)]
pub struct Rule {
    _text: String,
}

impl Rule {
    /// Parses and checks `text`; `known_segment` says whether a saved segment name exists.
    pub fn parse(text: &str, known_segment: &dyn Fn(&str) -> bool) -> Result<Rule, RuleError> {
        let _ = known_segment;
        Err(RuleError::at(
            RuleErrorKind::Syntax,
            text,
            0,
            "not implemented",
        ))
    }

    /// Names of the saved segments the rule uses.
    pub fn segments(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether customer `c` is a member as of `ctx.as_of`.
    pub fn matches(&self, c: &CustomerFacts, ctx: &EvalContext<'_>) -> bool {
        let _ = (c, ctx);
        false
    }
}
