//! The owner app's calls on the scoped handle (`db.as('owner:<id>', …)`): thin calls of core's
//! `ScopedStore::my_*` (core/src/api/owner.rs), which find "me" from the owner scope and refuse
//! every other scope (`access_denied`). Converters for the owner-only values live here.

use autocrm::api::{OwnerProfile, OwnerTier, OwnerWallet, Referral};
use autocrm::loyalty::Benefits;
use napi_derive::napi;
use serde_json::Value;

use crate::error::OrJs;
use crate::input::{self, datetime, named, string, Rec};
use crate::obj;
use crate::out;
use crate::value::{ToV, V};
use crate::{cursor, limit, written, NativeScoped};

impl ToV for OwnerProfile {
    fn to_v(&self) -> V {
        obj! {
            "id" => self.id.to_v(),
            "customer" => out::customer(self.id.0, &self.customer),
            "masked" => V::Arr(self.masked.iter().map(|m| V::Str(crate::camel(m))).collect()),
        }
    }
}

impl ToV for OwnerWallet {
    fn to_v(&self) -> V {
        obj! {
            "wallet" => out::wallet(self.wallet), "balance" => self.balance.to_v(),
            "spendable" => self.spendable.to_v(),
            // What the app shows of a lot: how much of it is left and when it lapses.
            "expiring" => V::Arr(self.expiring.iter().map(|(id, l)| obj! {
                "lot" => id.to_v(), "points" => l.remaining.to_v(), "expires" => l.expires.to_v(),
            }).collect()),
        }
    }
}

impl ToV for OwnerTier {
    fn to_v(&self) -> V {
        let next = self.next.as_ref().map_or(V::Null, |g| {
            obj! {
                "tier" => out::name(g.tier), "vehicles" => g.vehicles.to_v(),
                "serviceVisits" => g.service_visits.to_v(), "totalSpend" => g.total_spend.to_v(),
                "singleTicket" => g.single_ticket.to_v(), "points" => g.points.to_v(),
            }
        });
        obj! { "status" => self.status.to_v(), "next" => next }
    }
}

impl ToV for Benefits {
    fn to_v(&self) -> V {
        obj! {
            "labourDiscountPct" => self.labour_discount_pct.to_v(),
            "partsDiscountPct" => self.parts_discount_pct.to_v(),
            "rescueDiscountPct" => self.rescue_discount_pct.to_v(),
            "priority" => self.priority.to_v(),
        }
    }
}

/// A window in days (core caps it and refuses a longer one).
fn days(n: Option<u32>, default: u32) -> u32 {
    n.unwrap_or(default)
}

#[napi]
impl NativeScoped {
    /// My profile (owner scope), masked as the owner scope shows it.
    #[napi(catch_unwind)]
    pub fn my_profile(&self) -> napi::Result<V> {
        written(self.s.my_profile())
    }

    /// My vehicles, owned now or before, with my own ownership periods only.
    #[napi(catch_unwind)]
    pub fn my_vehicles(&self) -> napi::Result<V> {
        written(self.s.my_vehicles())
    }

    /// A page of my history, newest first (`before`: the previous page's `next`).
    #[napi(catch_unwind)]
    pub fn my_history(&self, limit_: Option<u32>, before: Option<Value>) -> napi::Result<V> {
        written(self.s.my_history(cursor(before)?, limit(limit_, 50)))
    }

    /// My points per wallet, with the lots expiring within `withinDays` days (30 unless given).
    #[napi(catch_unwind)]
    pub fn my_points(&self, within_days: Option<u32>) -> napi::Result<V> {
        written(self.s.my_points(days(within_days, 30)))
    }

    /// My tier today and what is missing for the next one.
    #[napi(catch_unwind)]
    pub fn my_tier(&self) -> napi::Result<V> {
        written(self.s.my_tier())
    }

    /// The benefits of my tier today.
    #[napi(catch_unwind)]
    pub fn my_benefits(&self) -> napi::Result<V> {
        written(self.s.my_benefits())
    }

    /// My reminders due from today for `days` days (90 unless given).
    #[napi(catch_unwind)]
    pub fn my_reminders(&self, days_: Option<u32>) -> napi::Result<V> {
        written(self.s.my_reminders(days(days_, 90)))
    }

    /// My consents today: `{ channel: granted }` for every channel.
    #[napi(catch_unwind)]
    pub fn my_consents(&self) -> napi::Result<V> {
        let v = self.s.my_consents().js()?;
        Ok(V::Map(
            v.into_iter()
                .map(|(ch, on)| (autocrm::Named::name(ch).to_string(), on.to_v()))
                .collect(),
        ))
    }

    /// Grants or withdraws my consent for `channel`.
    #[napi(catch_unwind)]
    pub fn set_my_consent(&self, channel: String, granted: bool) -> napi::Result<()> {
        let ch = named("channel", &Value::from(channel))?;
        self.s.set_my_consent(ch, granted).js()
    }

    /// Redeems my points, `{ points, item, key, at, wallet = "brand" }`: `key` and `at` come
    /// from the phone, so a retry with both the same spends nothing more.
    #[napi(catch_unwind)]
    pub fn redeem_mine(&self, rec: Value) -> napi::Result<V> {
        let mut r = Rec::new("redemption", Some(rec))?;
        let points = r.req("points", input::int)?;
        let item = r.req("item", string)?;
        let key = r.req("key", string)?;
        let at = r.req("at", datetime)?;
        let wallet = r
            .opt("wallet", input::wallet)?
            .unwrap_or(autocrm::loyalty::Wallet::Brand);
        r.done()?;
        written(self.s.redeem_mine(wallet, points, &item, &key, at))
    }

    /// Refers a friend, `{ name, phone, dealer (code), model, key }`; returns the referral
    /// lead's id (a retry with the same key returns the same lead).
    #[napi(catch_unwind)]
    pub fn refer_friend(&self, rec: Value) -> napi::Result<V> {
        let mut r = Rec::new("referral", Some(rec))?;
        let referral = Referral {
            name: r.req("name", string)?,
            phone: r.req("phone", string)?,
            dealer: r.req("dealer", string)?,
            model: r.req("model", string)?,
            key: r.req("key", string)?,
        };
        r.done()?;
        written(self.s.refer_friend(&referral))
    }
}
