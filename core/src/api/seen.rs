//! Visibility judged once per customer for calls that go over many rows (scoped exports,
//! conflict and duplicate lists), and the customers those rows name.

use std::collections::HashMap;

use crate::access::Access;
use crate::error::Result;
use crate::ids::CustomerId;
use crate::store::ReadTxn;

/// Whether the scope sees a customer, judged once per customer and call (a table or a list
/// names a customer in many rows, and a dealer's or a consent-limited role's judgement reads
/// the store), and the customers the rows kept name: what the call's audit entry names.
pub(super) struct Seen<'a> {
    r: &'a ReadTxn,
    pub(super) a: &'a Access,
    judged: HashMap<CustomerId, bool>,
    pub(super) named: Vec<CustomerId>,
}

impl<'a> Seen<'a> {
    pub(super) fn new(r: &'a ReadTxn, a: &'a Access) -> Seen<'a> {
        Seen {
            r,
            a,
            judged: HashMap::new(),
            named: Vec::new(),
        }
    }

    /// Whether the scope sees customer `id` (judged once).
    pub(super) fn customer(&mut self, id: CustomerId) -> Result<bool> {
        if let Some(&seen) = self.judged.get(&id) {
            return Ok(seen);
        }
        let seen = self.a.sees(self.r, id)?;
        self.judged.insert(id, seen);
        Ok(seen)
    }

    /// Whether the scope sees a record of customer `customer` naming dealer `dealer`; the
    /// customer is noted as named if so. The dealer test comes first: it reads nothing.
    pub(super) fn record(
        &mut self,
        customer: CustomerId,
        dealer: Option<crate::ids::DealerId>,
    ) -> Result<bool> {
        let seen = self.a.sees_own(dealer) && self.customer(customer)?;
        if seen {
            self.named.push(customer);
        }
        Ok(seen)
    }
}

/// `ids` sorted, each once: the customers an audit entry names.
pub(super) fn distinct(mut ids: Vec<CustomerId>) -> Vec<CustomerId> {
    ids.sort_unstable();
    ids.dedup();
    ids
}
