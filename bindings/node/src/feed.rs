//! The change feed (core's `autocrm::feed`) on write and read transactions: consumers, their
//! positions, retention, and pages of changes as plain objects (camelCase, `Date`s).

use autocrm::feed::{Change, ChangeKey, ChangePage, Consumer, Retention};
use autocrm::Named;
use napi_derive::napi;
use serde_json::Value;

use crate::error::{value_error, OrJs};
use crate::input;
use crate::obj;
use crate::value::{ToV, V};
use crate::{written, NativeRead, NativeScoped, NativeWrite};

impl ToV for ChangeKey {
    fn to_v(&self) -> V {
        match self {
            ChangeKey::Id(id) => obj! { "id" => id.to_v() },
            ChangeKey::Name(name) => obj! { "name" => name.to_v() },
            ChangeKey::Touchpoint { customer, id } => {
                obj! { "customer" => customer.to_v(), "id" => id.to_v() }
            }
            ChangeKey::Relation { from, kind, to } => obj! {
                "from" => from.to_v(), "kind" => V::Str(kind.name().to_string()), "to" => to.to_v(),
            },
            ChangeKey::SegmentDay { segment, day } => {
                obj! { "segment" => segment.to_v(), "day" => day.to_v() }
            }
            ChangeKey::Merge { survivor, merged } => {
                obj! { "survivor" => survivor.to_v(), "merged" => merged.to_v() }
            }
            // A key kind added to core later: the entity and id still reach the caller.
            _ => obj! {},
        }
    }
}

impl ToV for Change {
    fn to_v(&self) -> V {
        obj! {
            "id" => self.id.to_v(), "commit" => self.commit.to_v(), "at" => self.at.to_v(),
            "actor" => self.actor.to_v(), "scope" => self.scope.to_v(),
            "source" => self.source.to_v(), "entity" => V::Str(self.entity.name().to_string()),
            "op" => V::Str(self.op.name().to_string()), "key" => self.key.to_v(),
            "customer" => self.customer().map(|c| c.0).to_v(),
        }
    }
}

impl ToV for ChangePage {
    fn to_v(&self) -> V {
        obj! {
            "changes" => V::Arr(self.changes.iter().map(ToV::to_v).collect()),
            "next" => self.next.to_v(), "last" => self.last.to_v(),
        }
    }
}

impl ToV for Consumer {
    fn to_v(&self) -> V {
        obj! { "name" => self.name.to_v(), "position" => self.position.to_v() }
    }
}

impl ToV for Retention {
    fn to_v(&self) -> V {
        match self {
            Retention::Days(n) => n.to_v(),
            other => V::Str(other.to_string()),
        }
    }
}

/// A retention given as `'untilConsumed'` / `'until_consumed'`, `'forever'`, or days.
fn retention(v: &Value) -> napi::Result<Retention> {
    match v {
        Value::Number(_) => {
            let days = input::uint("retention", v)?;
            u32::try_from(days)
                .map(Retention::Days)
                .map_err(|_| value_error("retention: too many days"))
        }
        Value::String(s) if s == "untilConsumed" => Ok(Retention::UntilConsumed),
        Value::String(s) => s.parse::<Retention>().js(),
        _ => Err(value_error(
            "retention: use 'untilConsumed', 'forever' or a number of days",
        )),
    }
}

fn position(v: f64) -> napi::Result<u64> {
    input::uint("position", &Value::from(v))
}

#[napi]
impl NativeWrite {
    /// Registers a change-feed consumer at the latest change (turning the feed on).
    #[napi(catch_unwind)]
    pub fn register_consumer(&self, name: String) -> napi::Result<V> {
        written(self.s.with(|t| t.register_consumer(&name)))
    }

    /// Removes a consumer; whether it was registered.
    #[napi(catch_unwind)]
    pub fn unregister_consumer(&self, name: String) -> napi::Result<V> {
        written(self.s.with(|t| t.unregister_consumer(&name)))
    }

    /// Records that `name` has read every change up to `position`.
    #[napi(catch_unwind)]
    pub fn acknowledge(&self, name: String, position: f64) -> napi::Result<V> {
        let p = self::position(position)?;
        written(self.s.with(|t| t.acknowledge(&name, p)))
    }

    /// Sets how long the feed keeps changes.
    #[napi(catch_unwind)]
    pub fn set_change_retention(&self, retention: Value) -> napi::Result<()> {
        let r = self::retention(&retention)?;
        self.s.with(|t| t.set_change_retention(r)).js()
    }

    /// Turns the feed off.
    #[napi(catch_unwind)]
    pub fn disable_change_feed(&self) -> napi::Result<()> {
        self.s.with(|t| t.disable_change_feed()).js()
    }

    /// Removes the changes the retention no longer keeps; how many.
    #[napi(catch_unwind)]
    pub fn prune_changes(&self) -> napi::Result<V> {
        written(self.s.with(|t| t.prune_changes()))
    }

    /// Who makes this transaction's changes (and under which scope), for the feed.
    #[napi(catch_unwind)]
    pub fn set_actor(&self, actor: String, scope: Option<String>) -> napi::Result<()> {
        self.s
            .with(|t| {
                t.set_actor(&actor, scope.as_deref());
                Ok(())
            })
            .js()
    }

    /// The source system this transaction's changes come from, for the feed.
    #[napi(catch_unwind)]
    pub fn set_source(&self, source: String) -> napi::Result<()> {
        self.s
            .with(|t| {
                t.set_source(&source);
                Ok(())
            })
            .js()
    }
}

/// A page's `after` and `limit` (defaults 0 and 1000).
fn page_args(after: Option<f64>, limit: Option<f64>) -> napi::Result<(u64, usize)> {
    let after = after.map_or(Ok(0), position)?;
    let limit = match limit {
        Some(l) => usize::try_from(input::uint("limit", &Value::from(l))?)
            .map_err(|_| value_error("limit: too large"))?,
        None => 1000,
    };
    Ok((after, limit))
}

#[napi]
impl NativeScoped {
    /// The changes after `after` this scope may see: `{ changes, next, last }`.
    #[napi(catch_unwind)]
    pub fn changes(&self, after: Option<f64>, limit: Option<f64>) -> napi::Result<V> {
        let (after, limit) = page_args(after, limit)?;
        written(self.s.changes_after(after, limit))
    }
}

#[napi]
impl NativeRead {
    /// The changes after `after`: `{ changes, next, last }`.
    #[napi(catch_unwind)]
    pub fn changes(&self, after: Option<f64>, limit: Option<f64>) -> napi::Result<V> {
        let (after, limit) = page_args(after, limit)?;
        written(self.s.with(|r| r.changes_after(after, limit)))
    }

    /// The id of the latest change (0: none).
    #[napi(catch_unwind)]
    pub fn last_change(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.last_change()))
    }

    /// Whether commits append to the feed.
    #[napi(catch_unwind)]
    pub fn change_feed_enabled(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.change_feed_enabled()))
    }

    /// How long the feed keeps changes: `'until_consumed'`, `'forever'` or days.
    #[napi(catch_unwind)]
    pub fn change_retention(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.change_retention()))
    }

    /// The registered consumers.
    #[napi(catch_unwind)]
    pub fn consumers(&self) -> napi::Result<V> {
        written(self.s.with(|r| r.consumers()))
    }

    /// How far `name` has read.
    #[napi(catch_unwind)]
    pub fn consumer_position(&self, name: String) -> napi::Result<V> {
        written(self.s.with(|r| r.consumer_position(&name)))
    }
}
