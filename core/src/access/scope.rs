//! Who a call is made as: an HQ role, a dealer, or an owner.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::ids::CustomerId;

/// Who a read or write is made as. Spelled `hq:<role>`, `dealer:<code>` or
/// `owner:<customer id>` (the CLI's `--as`, every binding's scope argument).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A head-office user acting in a role; the role's permissions are stored in the file
    /// ([`crate::access::Roles`]).
    Hq(String),
    /// A dealer, by its dealer code: sees the customers it serves
    /// ([`crate::access::served_by`]), writes only its own records.
    Dealer(String),
    /// An owner: sees and changes only himself.
    Owner(CustomerId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Hq(role) => write!(f, "hq:{role}"),
            Scope::Dealer(code) => write!(f, "dealer:{code}"),
            Scope::Owner(id) => write!(f, "owner:{}", id.0),
        }
    }
}

impl FromStr for Scope {
    type Err = Error;

    /// Parses `hq:<role>`, `dealer:<code>` or `owner:<customer id>` (`owner:C12` or
    /// `owner:12`); anything else is `unknown_scope`. Whether the role, dealer or customer
    /// exists is checked when the scope is used on a database.
    fn from_str(text: &str) -> Result<Scope, Error> {
        let bad = |why: &str| Error::UnknownScope {
            scope: crate::text::escape_control(text).chars().take(80).collect(),
            why: why.to_string(),
        };
        let (kind, name) = text.split_once(':').ok_or_else(|| {
            bad("a scope is hq:<role>, dealer:<dealer code> or owner:<customer id>")
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the part after the colon is empty"));
        }
        match kind.trim() {
            "hq" => Ok(Scope::Hq(name.to_string())),
            "dealer" => Ok(Scope::Dealer(name.to_string())),
            "owner" => {
                let digits = name.strip_prefix(['C', 'c']).unwrap_or(name);
                digits
                    .parse::<u64>()
                    .map(|n| Scope::Owner(CustomerId(n)))
                    .map_err(|_| bad("an owner scope names a customer id, e.g. owner:C42"))
            }
            _ => Err(bad("the kind of scope is hq, dealer or owner")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_spelling() {
        for s in ["hq:marketing", "dealer:D0001", "owner:42"] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        assert_eq!(
            "owner:C7".parse::<Scope>().unwrap(),
            Scope::Owner(CustomerId(7))
        );
        for bad in ["", "hq", "hq:", "root:x", "owner:abc", "dealer: "] {
            let e = bad.parse::<Scope>().unwrap_err();
            assert_eq!(e.code(), "unknown_scope", "{bad}");
        }
    }
}
