//! Marketing consents per customer and channel (DOMAIN.md §8: marketing actions go only to
//! customers who consented to that channel). A consent is a history of grants and withdrawals;
//! the latest event on or before a date decides.

use serde::{Deserialize, Serialize};

use crate::codec::{self, Model, ModelKind};
use crate::date::{Date, DateTime};
use crate::error::{Error, Result, Rule, ValidationError};
use crate::ids::CustomerId;
use crate::store::tables::CUSTOMERS;
use crate::store::{get_record, ReadTxn, ReadView, Tx, WriteTxn};

/// A channel marketing may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConsentChannel {
    /// Outbound phone calls.
    Phone,
    /// SMS.
    Sms,
    /// Email.
    Email,
    /// WeChat messages.
    WeChat,
    /// Owner-app notifications.
    App,
    /// Post.
    Mail,
}

impl ConsentChannel {
    /// Every channel.
    pub const ALL: [ConsentChannel; 6] = [
        ConsentChannel::Phone,
        ConsentChannel::Sms,
        ConsentChannel::Email,
        ConsentChannel::WeChat,
        ConsentChannel::App,
        ConsentChannel::Mail,
    ];

    /// The channel's stable name, e.g. `"wechat"`.
    pub fn name(self) -> &'static str {
        match self {
            ConsentChannel::Phone => "phone",
            ConsentChannel::Sms => "sms",
            ConsentChannel::Email => "email",
            ConsentChannel::WeChat => "wechat",
            ConsentChannel::App => "app",
            ConsentChannel::Mail => "mail",
        }
    }

    /// The channel named `name` (as [`ConsentChannel::name`] gives it).
    pub fn from_name(name: &str) -> Option<ConsentChannel> {
        ConsentChannel::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One grant or withdrawal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// The channel.
    pub channel: ConsentChannel,
    /// Granted (true) or withdrawn (false).
    pub granted: bool,
    /// When the customer said so.
    pub at: DateTime,
    /// Where it was recorded, e.g. `"call_centre"`.
    pub source: String,
}

/// A customer's consent history, in the order the events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consents(pub Vec<ConsentEvent>);

impl Consents {
    /// Whether marketing may use `channel` on `on`: the latest event for the channel on or
    /// before that day is a grant. No event means no consent.
    pub fn allows(&self, channel: ConsentChannel, on: Date) -> bool {
        self.0
            .iter()
            .rev()
            .find(|e| e.channel == channel && e.at.date() <= on)
            .is_some_and(|e| e.granted)
    }
}

impl Model for Consents {
    const KIND: ModelKind = ModelKind::Consents;
    /// 2: the envelope gained its checksum; the payload is version 1's.
    const VERSION: u16 = 2;
    const NAME: &'static str = "consents";
}

/// Most consent events one customer's history holds (1,000: years of grants and withdrawals
/// on every channel). With sources of at most [`MAX_SOURCE_CHARS`] characters the history
/// stays far below what the decoder reads of one record; one more event is refused with
/// `limit_exceeded.consent_history`.
pub const MAX_CONSENT_EVENTS: usize = 1_000;

/// Longest source of a consent event, in characters.
pub const MAX_SOURCE_CHARS: usize = 64;

impl Tx<'_> {
    /// Records a grant or withdrawal of consent for a channel. The source has at most
    /// [`MAX_SOURCE_CHARS`] characters; a customer's history holds at most
    /// [`MAX_CONSENT_EVENTS`] events.
    pub fn record_consent(&mut self, customer: CustomerId, event: &ConsentEvent) -> Result<()> {
        crate::validate::plausible_date("at", event.at.date())?;
        let Some(source) =
            crate::validate::optional_text("source", &event.source, MAX_SOURCE_CHARS)?
        else {
            return Err(ValidationError::new("source", Rule::Required, &event.source).into());
        };
        self.require(CUSTOMERS, "customer", customer.0)?;
        let mut all: Consents = get_record(&*self.t.consents()?, customer.0)?.unwrap_or_default();
        if all.0.len() >= MAX_CONSENT_EVENTS {
            return Err(Error::LimitExceeded {
                limit_kind: crate::error::Limit::ConsentHistory,
                what: format!("the consent history of customer {customer} (events)"),
                size: all.0.len() + 1,
                limit: MAX_CONSENT_EVENTS,
                hint: "the customer's consents are recorded in full already; \
                       record only changes of mind",
            });
        }
        let at = all.0.partition_point(|e| e.at <= event.at);
        all.0.insert(
            at,
            ConsentEvent {
                source,
                ..event.clone()
            },
        );
        self.writing(|tx| {
            tx.t.consents()?
                .insert(customer.0, codec::encode(&all).as_slice())?;
            Ok(())
        })
    }
}

impl Tx<'_> {
    /// Removes the customer's consent history (the customer is being deleted).
    pub(crate) fn forget_consents(&mut self, customer: CustomerId) -> Result<()> {
        self.t.consents()?.remove(customer.0)?;
        Ok(())
    }
}

/// The customer's consent history, from either kind of transaction.
pub(crate) fn consents_in(t: &impl ReadView, customer: CustomerId) -> Result<Consents> {
    Ok(get_record(&*t.consents()?, customer.0)?.unwrap_or_default())
}

impl ReadTxn {
    /// The customer's consent history (empty if none was ever recorded).
    pub fn consents(&self, customer: CustomerId) -> Result<Consents> {
        Ok(get_record(self.tables.consents()?, customer.0)?.unwrap_or_default())
    }
}

/// The public operations, each on its own view of the transaction (`WriteTxn::tx`, crate-private).
impl WriteTxn {
    /// Records a grant or withdrawal of consent for a channel. The source has at most
    /// [`MAX_SOURCE_CHARS`] characters; a customer's history holds at most
    /// [`MAX_CONSENT_EVENTS`] events.
    pub fn record_consent(&mut self, customer: CustomerId, event: &ConsentEvent) -> Result<()> {
        self.tx().record_consent(customer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_event_on_or_before_the_day_decides() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let ev = |day: &str, granted| ConsentEvent {
            channel: ConsentChannel::Sms,
            granted,
            at: d(day).at(10, 0, 0),
            source: "call_centre".into(),
        };
        let c = Consents(vec![ev("2024-01-01", true), ev("2024-06-01", false)]);
        assert!(!c.allows(ConsentChannel::Sms, d("2023-12-31")));
        assert!(c.allows(ConsentChannel::Sms, d("2024-01-01")));
        assert!(c.allows(ConsentChannel::Sms, d("2024-05-31")));
        assert!(!c.allows(ConsentChannel::Sms, d("2024-06-01")));
        assert!(!c.allows(ConsentChannel::Email, d("2024-03-01")));
    }
}
