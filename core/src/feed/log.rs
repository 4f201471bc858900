//! The changes of one write transaction, gathered as its tables are written and appended to
//! the feed when it commits; and pruning.

use std::cell::{Cell, RefCell};

use redb::ReadableTable;

use super::{
    chunk_of, last_change, meta_u64, settings, ChangeChunk, ChangeOp, CommitHead, Entity,
    Retention, CHANGE_COUNTER, CHUNK, COMMIT_COUNTER, PRUNED_KEY, PRUNE_BATCH,
};
use crate::codec;
use crate::error::Result;
use crate::store::{decode_stored, Tx};

/// How many commits apart the automatic prune runs.
const PRUNE_EVERY: u64 = 256;

/// The changes a write transaction has made so far (while the feed is on), and who makes them.
#[derive(Default)]
pub(crate) struct FeedLog {
    enabled: Cell<bool>,
    pending: RefCell<Pending>,
}

#[derive(Default)]
struct Pending {
    /// (entity code, key bytes, op), in the order the writes happened.
    changes: Vec<(u8, Vec<u8>, ChangeOp)>,
    actor: Option<String>,
    scope: Option<String>,
    source: Option<String>,
}

impl FeedLog {
    /// A log for a transaction on a file whose feed is on or off.
    pub(crate) fn new(enabled: bool) -> FeedLog {
        FeedLog {
            enabled: Cell::new(enabled),
            pending: RefCell::default(),
        }
    }

    /// Notes a write of the record with key `key` (its table's key bytes) of `entity`.
    #[inline]
    pub(crate) fn note(&self, entity: Entity, key: &[u8], op: ChangeOp) {
        if self.enabled.get() {
            self.pending
                .borrow_mut()
                .changes
                .push((entity as u8, key.to_vec(), op));
        }
    }

    pub(super) fn enable(&self) {
        self.enabled.set(true);
    }

    pub(super) fn disable(&self) {
        self.enabled.set(false);
        self.pending.borrow_mut().changes.clear();
    }

    pub(super) fn set_actor(&self, actor: &str, scope: Option<&str>) {
        let mut p = self.pending.borrow_mut();
        p.actor = Some(actor.to_owned());
        p.scope = scope.map(str::to_owned);
    }

    pub(super) fn set_source(&self, source: &str) {
        self.pending.borrow_mut().source = Some(source.to_owned());
    }
}

/// The net change of each record written, in (entity, key) order: several writes to one record
/// are one change, and a record inserted then deleted is none.
fn net(mut changes: Vec<(u8, Vec<u8>, ChangeOp)>) -> Vec<(u8, Vec<u8>, ChangeOp)> {
    // Stable: the writes to one record stay in the order they happened.
    changes.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out: Vec<(u8, Vec<u8>, ChangeOp)> = Vec::with_capacity(changes.len());
    let mut run: Option<(u8, Vec<u8>, Option<ChangeOp>)> = None;
    for (entity, key, op) in changes {
        match &mut run {
            Some((e, k, acc)) if *e == entity && *k == key => {
                // A record inserted and deleted again, then written once more, was inserted.
                *acc = match *acc {
                    Some(prev) => prev.then(op),
                    None => Some(ChangeOp::Insert).filter(|_| op != ChangeOp::Delete),
                };
            }
            _ => {
                if let Some((e, k, Some(op))) = run.take() {
                    out.push((e, k, op));
                }
                run = Some((entity, key, Some(op)));
            }
        }
    }
    if let Some((e, k, Some(op))) = run {
        out.push((e, k, op));
    }
    out
}

impl Tx<'_> {
    /// The id of the latest committed change (0: none).
    pub(crate) fn last_change(&self) -> Result<u64> {
        last_change(&self.t)
    }

    /// Appends this transaction's changes to the feed as one commit. Runs at commit, before
    /// the id counters are written back.
    pub(crate) fn flush_feed(&self) -> Result<()> {
        let pending = std::mem::take(&mut *self.s.feed.pending.borrow_mut());
        let changes = net(pending.changes);
        if changes.is_empty() {
            return Ok(());
        }
        let commit = self.next_id(COMMIT_COUNTER)?;
        let mut head = Some(CommitHead {
            at: self.now(),
            actor: pending.actor,
            scope: pending.scope,
            source: pending.source,
            count: changes.len() as u32,
        });
        let mut table = self.t.changes()?;
        let mut first = 0;
        let mut rest = changes.into_iter().peekable();
        while rest.peek().is_some() {
            let part: Vec<(u8, u8, Vec<u8>)> = rest
                .by_ref()
                .take(CHUNK)
                .map(|(entity, key, op)| (entity, op as u8, key))
                .collect();
            let start = self.next_id(CHANGE_COUNTER)?;
            for _ in 1..part.len() {
                self.next_id(CHANGE_COUNTER)?;
            }
            if first == 0 {
                first = start;
            }
            let chunk = ChangeChunk {
                commit,
                first,
                head: head.take(),
                changes: part,
            };
            table.insert(start, codec::encode(&chunk).as_slice())?;
        }
        drop(table);
        if commit % PRUNE_EVERY == 0 {
            self.prune_changes(PRUNE_BATCH)?;
        }
        Ok(())
    }

    /// Removes up to `max` of the oldest changes the retention no longer keeps, whole commits
    /// only (a commit's first change carries what the others need); returns how many.
    pub(crate) fn prune_changes(&self, max: usize) -> Result<u64> {
        let pruned = meta_u64(&self.t, PRUNED_KEY)?;
        let keep_after = match settings(&self.t)?.retention {
            Retention::Forever => return Ok(0),
            Retention::UntilConsumed => {
                let consumers = self.t.feed_consumers()?;
                let mut least: Option<u64> = None;
                for item in consumers.iter()? {
                    let position = item?.1.value();
                    least = Some(least.map_or(position, |l| l.min(position)));
                }
                match least {
                    Some(l) => l,
                    None => return Ok(0),
                }
            }
            // The last change of the last commit older than the cutoff.
            Retention::Days(days) => {
                let cutoff = self.now().add_seconds(-i64::from(days) * 86_400);
                let changes = self.t.changes()?;
                let mut through = pruned;
                let mut id = pruned + 1;
                while id - pruned <= max as u64 {
                    let Some(v) = changes.get(id)? else { break };
                    let c: ChangeChunk = decode_stored(v.value())?;
                    let Some(h) = c.head else { break };
                    if h.at >= cutoff {
                        break;
                    }
                    through = id + u64::from(h.count) - 1;
                    id = through + 1;
                }
                through
            }
        };
        let mut upto = keep_after.min(pruned.saturating_add(max as u64));
        let mut changes = self.t.changes()?;
        // Whole commits only: if the change after `upto` belongs to the same commit, stop
        // before that commit — unless it is the first one left, which then goes whole (even
        // past `max`: one commit bigger than `max` must not stop pruning for ever). A consumer
        // acknowledged inside a commit keeps that commit.
        if upto > pruned {
            if let Some((_, c)) = chunk_of(&*changes, upto + 1)? {
                if c.first <= upto {
                    upto = if c.first - 1 > pruned {
                        c.first - 1
                    } else {
                        let head = chunk_of(&*changes, c.first)?.and_then(|(_, f)| f.head);
                        let end = head.map_or(0, |h| c.first + u64::from(h.count) - 1);
                        if end > 0 && end <= keep_after {
                            end
                        } else {
                            pruned
                        }
                    };
                }
            }
        }
        if upto <= pruned {
            return Ok(0);
        }
        // Whole commits, so whole chunks: every chunk starting in (pruned, upto] goes.
        let starts: Vec<u64> = changes
            .range(pruned + 1..=upto)?
            .map(|item| item.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for start in starts {
            changes.remove(start)?;
        }
        drop(changes);
        self.t.meta()?.insert(PRUNED_KEY, &upto.to_le_bytes()[..])?;
        Ok(upto - pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(e: u8, k: u8, op: ChangeOp) -> (u8, Vec<u8>, ChangeOp) {
        (e, vec![k], op)
    }

    #[test]
    fn writes_to_one_record_net_out() {
        use ChangeOp::*;
        let got = net(vec![
            c(2, 1, Insert),
            c(2, 2, Update),
            c(2, 1, Update),
            c(2, 3, Insert),
            c(2, 3, Delete),
            c(2, 2, Delete),
            c(1, 9, Delete),
            c(1, 9, Insert),
            c(2, 4, Insert),
            c(2, 4, Delete),
            c(2, 4, Insert),
        ]);
        assert_eq!(
            got,
            vec![
                c(1, 9, Update),
                c(2, 1, Insert),
                c(2, 2, Delete),
                c(2, 4, Insert),
            ]
        );
    }
}
