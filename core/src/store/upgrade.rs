//! Upgrades of a file written by an older format, run once in the transaction that opens it
//! for writing and records the new format version. Reading an older file never needs them
//! (every older record version decodes); they restore what an older format did not keep.

use redb::ReadableTable;

use crate::codec;
use crate::error::Result;
use crate::rollup::{Event, Rollup};
use crate::store::tables::{ROLLUPS, TOUCHPOINTS};
use crate::store::{decode_stored, get_record};
use crate::touchpoint::Touchpoint;

/// Format 1 rollups kept their events without the minute of the day (read as midnight), so
/// two visits on one day could not be ordered. Recomputes every customer's events from his
/// timeline — one scan of the touchpoints, which are stored in customer order — and writes
/// each rollup back once.
pub(crate) fn rollup_event_minutes(txn: &redb::WriteTransaction) -> Result<()> {
    let touchpoints = txn.open_table(TOUCHPOINTS)?;
    let mut rollups = txn.open_table(ROLLUPS)?;
    let mut customer: Option<u64> = None;
    let mut events: Vec<Event> = Vec::new();
    let mut flush = |customer: u64, events: &mut Vec<Event>| -> Result<()> {
        if let Some(mut r) = get_record::<Rollup>(&rollups, customer)? {
            events.sort();
            r.events = std::mem::take(events);
            rollups.insert(customer, codec::encode(&r).as_slice())?;
        }
        events.clear();
        Ok(())
    };
    for entry in touchpoints.iter()? {
        let (key, value) = entry?;
        let (c, _, _) = key.value();
        if customer != Some(c) {
            if let Some(done) = customer {
                flush(done, &mut events)?;
            }
            customer = Some(c);
        }
        let t: Touchpoint = decode_stored(value.value())?;
        events.push(Event::of(&t));
    }
    if let Some(done) = customer {
        flush(done, &mut events)?;
    }
    Ok(())
}
