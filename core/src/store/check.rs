//! The integrity check (like SQLite's `PRAGMA integrity_check`): redb's own page check, then
//! every record of every table decodes (checksum included), every index agrees with its
//! records, every rollup equals a rebuild from the records, the loyalty ledger verifies, and
//! the audit trail's hash chain holds.
//!
//! The check reports; it never stops at the first problem. A table whose scan fails (a damaged
//! page, or a panic in the storage engine on one) is reported and the check goes on with the
//! next table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use redb::{ReadableMultimapTable, ReadableTable};

use super::records::{Owned, RecordTables, COMPLAINT_TABLES, LEAD_TABLES, SURVEY_TABLES};
use super::{Database, ReadTxn};
use crate::codec::{self, Model};
use crate::error::Result;
use crate::ids::CustomerId;

/// Problems listed per index or table before the rest are only counted.
const MAX_LISTED: usize = 20;

/// What the storage engine's own check found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageCheck {
    /// redb verified the checksum of every page of the committed trees: they are intact.
    Verified,
    /// redb found damage and repaired what it could (it rebuilt its allocator state or fell
    /// back to the previous commit); the repair is written to the file. The damage is also
    /// listed in [`CheckReport::problems`].
    Repaired,
    /// redb's check could not run, for the reason given (a read-only handle, other open
    /// handles or transactions); the record, index, rollup and ledger checks still ran.
    Skipped(String),
}

/// One problem the integrity check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The table (or `"storage"` for redb's own check, `"ledger"` for the points ledger).
    pub table: &'static str,
    /// What is wrong, naming the record's key.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.table, self.detail)
    }
}

/// The result of [`Database::check`] / [`ReadTxn::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// redb's page-level check.
    pub storage: StorageCheck,
    /// Records (or index entries) checked, per table, in the order checked.
    pub checked: Vec<(&'static str, u64)>,
    /// Every problem found; empty when the file is sound.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.storage {
            StorageCheck::Verified => writeln!(f, "storage: every page checksum verified")?,
            StorageCheck::Repaired => writeln!(f, "storage: damage found and repaired by redb")?,
            StorageCheck::Skipped(why) => writeln!(f, "storage: page check skipped ({why})")?,
        }
        for (table, n) in &self.checked {
            writeln!(f, "{table}: {n} checked")?;
        }
        for p in &self.problems {
            writeln!(f, "problem: {p}")?;
        }
        if self.is_ok() {
            writeln!(f, "ok")
        } else {
            writeln!(f, "{} problems", self.problems.len())
        }
    }
}

impl Database {
    /// Checks the whole file: redb's check of every page checksum, then [`ReadTxn::check`]
    /// (records, indexes, rollups, ledger). Reads the whole file: minutes for a large one.
    ///
    /// redb's check needs this handle alone: with other clones of it or transactions alive, or
    /// on a read-only handle, it is skipped ([`StorageCheck::Skipped`]) and the rest still
    /// runs. When redb finds damage it repairs what it can in place (as it does after a
    /// crash); back the file up before checking a damaged one if you may want it as it was.
    pub fn check(&mut self) -> Result<CheckReport> {
        let mut storage_problem = None;
        let read_only = self.is_read_only();
        let storage = match self.exclusive_redb() {
            None if read_only => {
                StorageCheck::Skipped("a read-only handle cannot run redb's check".into())
            }
            None => StorageCheck::Skipped(
                "other handles or transactions on this database are open".into(),
            ),
            Some(redb) => match crate::guard(|| Ok(redb.check_integrity())) {
                Ok(Ok(true)) => StorageCheck::Verified,
                Ok(Ok(false)) => {
                    storage_problem =
                        Some("redb found damaged or stale structures and repaired them".into());
                    StorageCheck::Repaired
                }
                Ok(Err(e)) => {
                    storage_problem = Some(format!("redb's check failed: {e}"));
                    StorageCheck::Skipped("it failed".into())
                }
                Err(e) => {
                    storage_problem = Some(e.to_string());
                    StorageCheck::Skipped("it failed".into())
                }
            },
        };
        let mut report = crate::guard(|| self.begin_read()?.check())?;
        report.storage = storage;
        if let Some(p) = storage_problem {
            report.problems.insert(
                0,
                Problem {
                    table: "storage",
                    detail: p,
                },
            );
        }
        Ok(report)
    }
}

/// Runs one table's check, turning a failed or panicking scan into a problem.
fn run(
    report: &mut CheckReport,
    table: &'static str,
    f: impl FnOnce(&mut Vec<Problem>) -> Result<u64>,
) {
    let mut found = Vec::new();
    match crate::guard(|| f(&mut found)) {
        Ok(n) => report.checked.push((table, n)),
        Err(e) => found.push(Problem {
            table,
            detail: format!("the scan stopped: {e}"),
        }),
    }
    report.problems.extend(found);
}

/// Lists what is in one set and not the other: `want` from the records, `have` from the index.
fn compare<T: Ord + fmt::Debug>(
    out: &mut Vec<Problem>,
    table: &'static str,
    want: &BTreeSet<T>,
    have: &BTreeSet<T>,
) {
    let missing: Vec<&T> = want.difference(have).collect();
    let stale: Vec<&T> = have.difference(want).collect();
    for (what, list) in [
        ("missing from the index", missing),
        ("not backed by a record", stale),
    ] {
        for e in list.iter().take(MAX_LISTED) {
            out.push(Problem {
                table,
                detail: format!("entry {e:?} {what}"),
            });
        }
        if list.len() > MAX_LISTED {
            out.push(Problem {
                table,
                detail: format!("… and {} more entries {what}", list.len() - MAX_LISTED),
            });
        }
    }
}

/// Pushes a problem unless `MAX_LISTED` were already pushed for this table.
fn note(out: &mut Vec<Problem>, table: &'static str, detail: String) {
    if out.len() < MAX_LISTED {
        out.push(Problem { table, detail });
    } else if out.len() == MAX_LISTED {
        out.push(Problem {
            table,
            detail: "… more problems in this table are not listed".into(),
        });
    }
}

/// Decodes every value of a table as `M`, calling `each` with the key and the record.
fn decode_all<K, M>(
    out: &mut Vec<Problem>,
    name: &'static str,
    table: &impl ReadableTable<K, &'static [u8]>,
    mut each: impl FnMut(K::SelfType<'_>, M),
) -> Result<u64>
where
    K: redb::Key + 'static,
    for<'a> K::SelfType<'a>: fmt::Debug + Clone,
    M: Model,
{
    let mut n = 0;
    for entry in table.iter()? {
        let (k, v) = entry?;
        n += 1;
        match codec::decode::<M>(v.value()) {
            Ok(m) => each(k.value(), m),
            Err(e) => note(out, name, format!("record {:?}: {e}", k.value())),
        }
    }
    Ok(n)
}

impl ReadTxn {
    /// Checks every record, index, rollup and the ledger in this snapshot (everything of
    /// [`Database::check`] but redb's page check, which needs the handle alone). A damaged
    /// record is a problem in the report, not an error; an error is returned only when the
    /// check itself cannot run.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport {
            storage: StorageCheck::Skipped("a read transaction cannot run redb's check".into()),
            checked: Vec::new(),
            problems: Vec::new(),
        };
        let t = &self.tables;

        // Dealers and their code index.
        let mut codes = BTreeSet::new();
        run(&mut report, "dealers", |out| {
            decode_all::<u32, crate::Dealer>(out, "dealers", t.dealers()?, |id, d| {
                codes.insert((d.code.clone(), id));
            })
        });
        run(&mut report, "dealer_by_code", |out| {
            let have = pairs(t.dealer_by_code()?, |k: &str, v: u32| (k.to_string(), v))?;
            compare(out, "dealer_by_code", &codes, &have);
            Ok(have.len() as u64)
        });

        // Customers and their three indexes.
        let (mut nids, mut codes, mut phones) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut customers = BTreeSet::new();
        run(&mut report, "customers", |out| {
            decode_all::<u64, crate::Customer>(out, "customers", t.customers()?, |id, c| {
                customers.insert(id);
                if let Some(n) = c.national_id() {
                    nids.insert((n.to_string(), id));
                }
                if let Some(n) = c.credit_code() {
                    codes.insert((n.to_string(), id));
                }
                for p in &c.phones {
                    phones.insert((p.clone(), id));
                }
            })
        });
        run(&mut report, "customer_by_national_id", |out| {
            let have = pairs(t.customer_by_national_id()?, |k: &str, v: u64| {
                (k.to_string(), v)
            })?;
            compare(out, "customer_by_national_id", &nids, &have);
            Ok(have.len() as u64)
        });
        run(&mut report, "customer_by_credit_code", |out| {
            let have = pairs(t.customer_by_credit_code()?, |k: &str, v: u64| {
                (k.to_string(), v)
            })?;
            compare(out, "customer_by_credit_code", &codes, &have);
            Ok(have.len() as u64)
        });
        run(&mut report, "customer_by_phone", |out| {
            let have = multi(t.customer_by_phone()?, |k: &str, v: u64| (k.to_string(), v))?;
            compare(out, "customer_by_phone", &phones, &have);
            Ok(have.len() as u64)
        });

        // Vehicles, their indexes, ownership and the customer → vehicles links.
        let (mut vins, mut plates, mut vehicles) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        run(&mut report, "vehicles", |out| {
            decode_all::<u64, crate::Vehicle>(out, "vehicles", t.vehicles()?, |id, v| {
                vehicles.insert(id);
                vins.insert((v.vin.clone(), id));
                if let Some(p) = &v.plate {
                    plates.insert((p.clone(), id));
                }
            })
        });
        run(&mut report, "vehicle_by_vin", |out| {
            let have = pairs(t.vehicle_by_vin()?, |k: &str, v: u64| (k.to_string(), v))?;
            compare(out, "vehicle_by_vin", &vins, &have);
            Ok(have.len() as u64)
        });
        run(&mut report, "vehicle_by_plate", |out| {
            let have = pairs(t.vehicle_by_plate()?, |k: &str, v: u64| (k.to_string(), v))?;
            compare(out, "vehicle_by_plate", &plates, &have);
            Ok(have.len() as u64)
        });
        let mut owned = BTreeSet::new();
        let mut histories = BTreeSet::new();
        run(&mut report, "ownership", |out| {
            let n = decode_all::<u64, crate::OwnershipHistory>(
                out,
                "ownership",
                t.ownership()?,
                |id, h| {
                    histories.insert(id);
                    for o in &h.0 {
                        owned.insert((o.customer.0, id));
                    }
                },
            )?;
            let without: Vec<&u64> = vehicles.difference(&histories).collect();
            for v in without.iter().take(MAX_LISTED) {
                out.push(Problem {
                    table: "ownership",
                    detail: format!("vehicle {v} has no ownership history"),
                });
            }
            Ok(n)
        });
        run(&mut report, "customer_vehicles", |out| {
            let have = multi(t.customer_vehicles()?, |k: u64, v: u64| (k, v))?;
            compare(out, "customer_vehicles", &owned, &have);
            Ok(have.len() as u64)
        });

        // Touchpoints and their id index.
        let mut keys = BTreeSet::new();
        run(&mut report, "touchpoints", |out| {
            let mut wrong = Vec::new();
            let n = decode_all::<(u64, i64, u64), crate::Touchpoint>(
                out,
                "touchpoints",
                t.touchpoints()?,
                |(c, at, id), tp| {
                    keys.insert((id, (c, at)));
                    if tp.customer.0 != c || tp.at.seconds() != at {
                        wrong.push(format!(
                            "record {:?} says customer {} at {}",
                            (c, at, id),
                            tp.customer,
                            tp.at
                        ));
                    }
                },
            )?;
            for w in wrong {
                note(out, "touchpoints", w);
            }
            Ok(n)
        });
        run(&mut report, "touchpoint_keys", |out| {
            let have = pairs(t.touchpoint_keys()?, |k: u64, v: (u64, i64)| (k, v))?;
            compare(out, "touchpoint_keys", &keys, &have);
            Ok(have.len() as u64)
        });

        // Leads, complaints, surveys and their customer links.
        owned_records::<crate::Lead>(&mut report, self, &LEAD_TABLES, "leads", "customer_leads");
        owned_records::<crate::Complaint>(
            &mut report,
            self,
            &COMPLAINT_TABLES,
            "complaints",
            "customer_complaints",
        );
        owned_records::<crate::Survey>(
            &mut report,
            self,
            &SURVEY_TABLES,
            "surveys",
            "customer_surveys",
        );

        // Rollups: each equals a rebuild from the customer's records.
        let mut stored = BTreeMap::new();
        run(&mut report, "rollups", |out| {
            decode_all::<u64, crate::Rollup>(out, "rollups", t.rollups()?, |id, r| {
                stored.insert(id, r);
            })
        });
        run(&mut report, "rollups (rebuilt)", |out| {
            let links = [
                t.customer_leads()?,
                t.customer_complaints()?,
                t.customer_surveys()?,
            ];
            for &id in &customers {
                let c = CustomerId(id);
                let rebuilt = crate::identity::merge::rebuild_rollup(
                    c,
                    t.touchpoints()?,
                    t.ownership()?,
                    t.customer_vehicles()?,
                    self.relations_of(c)?.len() as u32,
                    links,
                );
                match rebuilt {
                    Ok(r) if stored.get(&id).cloned().unwrap_or_default() == r => {}
                    Ok(_) => note(
                        out,
                        "rollups",
                        format!(
                            "customer {c}: stored rollup differs from a rebuild from its records"
                        ),
                    ),
                    Err(e) => note(out, "rollups", format!("customer {c}: cannot rebuild: {e}")),
                }
            }
            Ok(customers.len() as u64)
        });

        // Everything else decodes.
        macro_rules! decodes {
            ($($name:literal: $table:ident => $k:ty, $m:ty;)*) => {$(
                run(&mut report, $name, |out| {
                    decode_all::<$k, $m>(out, $name, t.$table()?, |_, _| {})
                });
            )*};
        }
        decodes! {
            "members": members => u64, crate::loyalty::Membership;
            "loyalty": loyalty => &str, crate::loyalty::LoyaltyConfig;
            "access": access => &str, crate::access::Roles;
            "postings": postings => u64, crate::loyalty::Posting;
            "balances": balances => (u64, u64), crate::loyalty::Balance;
            "lots": lots => u64, crate::loyalty::Lot;
            "tiers": tiers => u64, crate::loyalty::TierRecord;
            "consents": consents => u64, crate::consent::Consents;
            "segments": segments => &str, crate::segment::SegmentRecord;
            "segment_members": segment_members => (&str, i32), crate::segment::Materialised;
            "sources": sources => &str, crate::integration::SourceRegistry;
            "lineage": lineage => (u8, u64), crate::integration::RecordLineage;
            "conflicts": conflicts => u64, crate::integration::Conflict;
            "feedback": feedback => (u32, u64), crate::integration::FeedbackEntry;
            "merges": merges => (u64, u64), crate::identity::MergeRecord;
            "erasures": erasures => u64, crate::erasure::Erasure;
        }

        // The audit trail: every entry decodes, the hash chain holds, the customer index
        // agrees with the entries.
        let mut audited = BTreeSet::new();
        run(&mut report, "audit", |out| {
            let n =
                decode_all::<u64, crate::audit::AuditEntry>(out, "audit", t.audit()?, |seq, e| {
                    audited.extend(e.customers.iter().map(|c| (c.0, seq)));
                })?;
            if let Some(p) = crate::audit::chain_problem(self)? {
                note(out, "audit", format!("the hash chain breaks at {p}"));
            }
            Ok(n)
        });
        run(&mut report, "audit_by_customer", |out| {
            let have = pairs(t.audit_by_customer()?, |k: (u64, u64), _: ()| k)?;
            compare(out, "audit_by_customer", &audited, &have);
            Ok(have.len() as u64)
        });

        // The points ledger: balances = postings = lots.
        run(&mut report, "ledger", |out| {
            let ledger = self.verify_ledger()?;
            for p in ledger.problems {
                note(out, "ledger", p);
            }
            Ok(ledger.postings)
        });
        Ok(report)
    }
}

/// Leads, complaints or surveys: every record decodes, and the customer links agree.
fn owned_records<M: Owned>(
    report: &mut CheckReport,
    r: &ReadTxn,
    spec: &RecordTables,
    records: &'static str,
    links: &'static str,
) {
    let mut want = BTreeSet::new();
    run(report, records, |out| {
        decode_all::<u64, M>(out, records, (spec.read_records)(&r.tables)?, |id, m| {
            want.insert((m.customer().0, id));
        })
    });
    run(report, links, |out| {
        let have = multi((spec.read_links)(&r.tables)?, |k: u64, v: u64| (k, v))?;
        compare(out, links, &want, &have);
        Ok(have.len() as u64)
    });
}

/// Every entry of a table, mapped to owned values.
fn pairs<K, V, T: Ord>(
    table: &impl ReadableTable<K, V>,
    map: impl Fn(K::SelfType<'_>, V::SelfType<'_>) -> T,
) -> Result<BTreeSet<T>>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
{
    let mut out = BTreeSet::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        out.insert(map(k.value(), v.value()));
    }
    Ok(out)
}

/// Every entry of a multimap table, mapped to owned values.
fn multi<K, V, T: Ord>(
    table: &impl ReadableMultimapTable<K, V>,
    map: impl Fn(K::SelfType<'_>, V::SelfType<'_>) -> T,
) -> Result<BTreeSet<T>>
where
    K: redb::Key + 'static,
    V: redb::Key + 'static,
{
    let mut out = BTreeSet::new();
    for entry in table.iter()? {
        let (k, values) = entry?;
        for v in values {
            out.insert(map(k.value(), v?.value()));
        }
    }
    Ok(out)
}
