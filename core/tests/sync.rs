//! Replicas that sync with HQ (core/src/sync): a dealer's and an owner's file kept in step by
//! push / serve / pull round trips, refusals, and a property test that random edits on HQ and
//! three replicas, synced in random orders, converge without a replica ever holding what its
//! scope may not see.

use std::collections::BTreeMap;

use autocrm::access::{Access, Scope};
use autocrm::integration::Received;
use autocrm::sync::{self, SyncBatch};
use autocrm::*;
use proptest::prelude::*;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{dealer, t};

const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = [
    "小明", "建国", "丽华", "志强", "秀英", "海燕", "国庆", "晓东",
];

fn name(i: usize) -> String {
    format!("{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8])
}

fn phone(i: usize) -> String {
    format!("1380000{:04}", i)
}

fn person(i: usize) -> Customer {
    Customer {
        phones: vec![phone(i)],
        ..Customer::person(name(i))
    }
}

fn from(system: &str, id: &str) -> Received {
    Received {
        source: SourceRef::new(system, id),
        dealer: None,
        at: t("2025-06-01 09:00"),
    }
}

fn visit(c: CustomerId, dealer: Option<DealerId>, minute: usize) -> Touchpoint {
    Touchpoint {
        dealer,
        service_kind: Some(ServiceKind::Maintenance),
        ..Touchpoint::new(
            t("2025-01-01 08:00").add_seconds(minute as i64 * 60),
            c,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
        )
    }
}

fn code_of(db: &Database, code: &str) -> Option<DealerId> {
    db.begin_read().unwrap().dealer_by_code(code).unwrap()
}

fn hq() -> Database {
    let db = Database::in_memory().unwrap();
    db.write(|w| {
        w.insert_dealer(&dealer("SH001"))?;
        w.insert_dealer(&dealer("BJ002"))
    })
    .unwrap();
    db
}

/// What a customer looks like, file-independently: name, address, its touchpoints as
/// (time, dealer code, sensitive), and its consent events.
type Picture = BTreeMap<
    String,
    (
        String,
        Option<String>,
        Vec<(DateTime, Option<String>, bool)>,
        Vec<String>,
    ),
>;

/// The live, not erased customers of `db` that `keep` keeps, keyed by phone, with the
/// touchpoints `keep_tp` keeps.
fn picture(
    db: &Database,
    keep: impl Fn(&ReadTxn, CustomerId) -> bool,
    keep_tp: impl Fn(Option<DealerId>) -> bool,
) -> Picture {
    let r = db.begin_read().unwrap();
    let codes: BTreeMap<DealerId, String> = r
        .dealers()
        .unwrap()
        .into_iter()
        .map(|(id, d)| (id, d.code))
        .collect();
    let mut out = Picture::new();
    for id in r.customer_ids().unwrap() {
        if r.erasure(id).unwrap().is_some() || !keep(&r, id) {
            continue;
        }
        let c = r.customer(id).unwrap();
        let mut tps: Vec<_> = r
            .timeline(id, None, usize::MAX)
            .unwrap()
            .items
            .into_iter()
            .filter(|(_, tp)| keep_tp(tp.dealer))
            .map(|(_, tp)| {
                (
                    tp.at,
                    tp.dealer.and_then(|d| codes.get(&d).cloned()),
                    tp.sensitive,
                )
            })
            .collect();
        tps.sort();
        let mut consents: Vec<String> = r
            .consents(id)
            .unwrap()
            .0
            .iter()
            .map(|e| format!("{:?}", e))
            .collect();
        consents.sort();
        let key = c.phones.first().cloned().unwrap_or_default();
        let previous = out.insert(
            key.clone(),
            (c.name().to_string(), c.address.clone(), tps, consents),
        );
        assert!(previous.is_none(), "two live customers with phone {key}");
    }
    out
}

/// HQ's customers as `scope` sees them.
fn hq_picture(hq: &Database, scope: &Scope) -> Picture {
    let r = hq.begin_read().unwrap();
    let a = Access::resolve(&r, scope, "test", hq.now().date()).unwrap();
    drop(r);
    picture(hq, |r, id| a.sees(r, id).unwrap(), |d| a.sees_own(d))
}

fn replica_picture(replica: &Database) -> Picture {
    picture(replica, |_, _| true, |_| true)
}

fn sync_all(replica: &Database, hq: &Database) {
    sync::sync(replica, hq, 100).unwrap();
}

#[test]
fn a_dealer_replica_holds_its_customers_and_sends_its_visits_back() {
    let hq = hq();
    let (sh, bj) = (code_of(&hq, "SH001"), code_of(&hq, "BJ002"));
    let ids = hq
        .write(|w| {
            let mut ids = Vec::new();
            for i in 0..3 {
                ids.push(
                    w.upsert_customer(&person(i), None, &from("finance", &format!("F{i}")))?
                        .id,
                );
            }
            w.insert_touchpoint(&visit(ids[0], sh, 1))?;
            w.insert_touchpoint(&visit(ids[1], bj, 2))?;
            w.insert_touchpoint(&visit(ids[2], sh, 3))?;
            w.insert_touchpoint(&visit(ids[2], bj, 4))?;
            Ok(ids)
        })
        .unwrap();
    let scope = Scope::Dealer("SH001".into());
    sync::register_replica(&hq, "sh001", &scope).unwrap();
    let replica = Database::in_memory().unwrap();
    sync::init_replica(&replica, "sh001", &scope).unwrap();

    sync_all(&replica, &hq);
    let got = replica_picture(&replica);
    assert_eq!(got, hq_picture(&hq, &scope));
    assert_eq!(got.len(), 2, "customers 0 and 2 visited SH001; 1 did not");
    assert!(!got.contains_key(&phone(1)));
    assert_eq!(
        got[&phone(2)].2.len(),
        1,
        "only SH001's own visit of customer 2"
    );
    // What left HQ is on record, naming exactly the customers sent.
    let log = hq.begin_read().unwrap().audit_log(None, None, 100).unwrap();
    let sent = log
        .iter()
        .find(|e| e.what == "sync_down")
        .expect("an audit entry");
    assert_eq!(sent.customers, vec![ids[0], ids[2]]);
    assert_eq!(
        (sent.actor.as_str(), sent.scope.as_str()),
        ("replica:sh001", "dealer:SH001")
    );

    // The dealer records a visit and a complaint call, and a customer of its own.
    let local_sh = code_of(&replica, "SH001");
    let local0 = replica.begin_read().unwrap().customer_ids().unwrap()[0];
    replica
        .write(|w| {
            w.insert_touchpoint(&visit(local0, local_sh, 10))?;
            w.insert_touchpoint(&Touchpoint {
                dealer: local_sh,
                ..Touchpoint::new(
                    t("2025-02-01 10:00"),
                    local0,
                    Channel::PhoneIn,
                    TouchpointKind::Complaint,
                )
            })?;
            let new = w
                .upsert_customer(&person(7), None, &from("dms", "SH-77"))?
                .id;
            w.insert_touchpoint(&visit(new, local_sh, 11))?;
            Ok(())
        })
        .unwrap();
    let status = sync::status(&replica).unwrap();
    assert!(status.pending >= 4, "{status:?}");
    assert_eq!(
        status.pending_sensitive, 1,
        "the complaint asks for an immediate sync"
    );

    let (served, _) = sync::sync(&replica, &hq, 100).unwrap();
    assert!(served.rejected.is_empty(), "{:?}", served.rejected);
    assert_eq!(sync::status(&replica).unwrap().pending, 0);
    let r = hq.begin_read().unwrap();
    assert_eq!(r.timeline(ids[0], None, 100).unwrap().items.len(), 3);
    let new_at_hq = r.customers_by_phone(&phone(7)).unwrap();
    assert_eq!(
        new_at_hq.len(),
        1,
        "the dealer's new customer reached HQ once"
    );
    drop(r);

    // Syncing again changes nothing: what went up does not come back as a copy.
    sync_all(&replica, &hq);
    sync_all(&replica, &hq);
    assert_eq!(replica_picture(&replica), hq_picture(&hq, &scope));
    assert_eq!(replica_picture(&replica)[&phone(0)].2.len(), 3);

    // HQ's change arrives; HQ's erasure wins.
    hq.write(|w| {
        w.upsert_customer(
            &Customer {
                address: Some("上海市徐汇区漕溪北路1号".into()),
                ..person(0)
            },
            None,
            &from("finance", "F0"),
        )?;
        w.erase_customer(ids[2], "dpo", "request 7")
    })
    .unwrap();
    sync_all(&replica, &hq);
    let got = replica_picture(&replica);
    assert_eq!(got, hq_picture(&hq, &scope));
    assert_eq!(got[&phone(0)].1.as_deref(), Some("上海市徐汇区漕溪北路1号"));
    assert!(!got.contains_key(&phone(2)), "erased at HQ, erased here");
    assert_eq!(replica.begin_read().unwrap().erasures().unwrap().len(), 1);

    // A visit naming another dealer is refused at HQ, the rest goes through.
    let local_bj = code_of(&replica, "BJ002");
    replica
        .write(|w| w.insert_touchpoint(&visit(local0, local_bj, 20)).map(drop))
        .unwrap();
    let (served, _) = sync::sync(&replica, &hq, 100).unwrap();
    assert_eq!(served.rejected.len(), 1);
    assert_eq!(served.rejected[0].code, "access_denied");
}

#[test]
fn an_owner_replica_holds_only_himself() {
    let hq = hq();
    let sh = code_of(&hq, "SH001");
    let me = hq
        .write(|w| {
            let me = w
                .upsert_customer(&person(0), None, &from("finance", "F0"))?
                .id;
            let other = w
                .upsert_customer(&person(1), None, &from("finance", "F1"))?
                .id;
            w.insert_touchpoint(&visit(me, sh, 1))?;
            w.insert_touchpoint(&visit(other, sh, 2))?;
            Ok(me)
        })
        .unwrap();
    let scope = Scope::Owner(me);
    sync::register_replica(&hq, "phone-1", &scope).unwrap();
    let phone_db = Database::in_memory().unwrap();
    sync::init_replica(&phone_db, "phone-1", &scope).unwrap();
    sync_all(&phone_db, &hq);
    let got = replica_picture(&phone_db);
    assert_eq!(got.len(), 1);
    assert_eq!(got, hq_picture(&hq, &scope));

    // He erases himself on the phone: HQ erases him too.
    let local = phone_db.begin_read().unwrap().customer_ids().unwrap()[0];
    let r = phone_db.begin_read().unwrap();
    assert_eq!(sync::local_customer(&r, me).unwrap(), Some(local));
    assert_eq!(
        sync::local_customer(&r, CustomerId(me.0 + 1000)).unwrap(),
        None
    );
    drop(r);
    phone_db
        .write(|w| {
            w.erase_customer(local, "owner", "delete my account")
                .map(drop)
        })
        .unwrap();
    let (served, _) = sync::sync(&phone_db, &hq, 10).unwrap();
    assert_eq!(served.erasures, 1, "{served:?}");
    assert!(hq.begin_read().unwrap().erasure(me).unwrap().is_some());
}

#[test]
fn batches_travel_as_bytes_and_are_applied_once() {
    let hq = hq();
    let sh = code_of(&hq, "SH001");
    hq.write(|w| {
        let c = w
            .upsert_customer(&person(0), None, &from("finance", "F0"))?
            .id;
        w.insert_touchpoint(&visit(c, sh, 1)).map(drop)
    })
    .unwrap();
    let scope = Scope::Dealer("SH001".into());
    sync::register_replica(&hq, "sh001", &scope).unwrap();
    // Registering again is a no-op; with another scope it is refused.
    sync::register_replica(&hq, "sh001", &scope).unwrap();
    let err = sync::register_replica(&hq, "sh001", &Scope::Dealer("BJ002".into())).unwrap_err();
    assert_eq!(err.code(), "duplicate_key");
    let err = sync::register_replica(&hq, "dms", &scope).unwrap_err();
    assert_eq!(err.code(), "duplicate_key", "a source system's name");
    let err = sync::register_replica(&hq, "hq", &scope).unwrap_err();
    assert_eq!(err.code(), "validation.not_allowed");
    let err = sync::register_replica(&hq, "all", &Scope::Hq("analyst".into())).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.replica_scope");

    let replica = Database::in_memory().unwrap();
    let err = sync::push(&replica).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.not_a_replica");
    sync::init_replica(&replica, "sh001", &scope).unwrap();

    let up = SyncBatch::from_bytes(&sync::push(&replica).unwrap().to_bytes()).unwrap();
    let (down, _) = sync::serve(&hq, &up).unwrap();
    let bytes = down.to_bytes();
    let down = SyncBatch::from_bytes(&bytes).unwrap();
    let first = sync::pull(&replica, &down).unwrap();
    assert_eq!((first.customers, first.touchpoints), (1, 1));
    let again = sync::pull(&replica, &down).unwrap();
    assert!(again.already_applied);
    assert_eq!(replica.begin_read().unwrap().customer_count().unwrap(), 1);

    // Damaged or foreign bytes are refused before anything is applied.
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x55;
    let err = SyncBatch::from_bytes(&damaged).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.sync_batch_unreadable");
    assert_eq!(
        SyncBatch::from_bytes(b"not a batch").unwrap_err().code(),
        "invalid_operation.sync_batch_unreadable"
    );
    // An up batch pulled, or a batch for another replica, is refused.
    let err = sync::pull(&replica, &up).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.sync_batch_mismatch");
    let other = Database::in_memory().unwrap();
    sync::init_replica(&other, "bj002", &Scope::Dealer("BJ002".into())).unwrap();
    let err = sync::pull(&other, &down).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.sync_batch_mismatch");
    let err = sync::serve(&hq, &sync::push(&other).unwrap()).unwrap_err();
    assert_eq!(err.code(), "not_found", "bj002 is not registered at HQ");

    // Only an empty file becomes a replica.
    let err = sync::init_replica(&hq, "x", &scope).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.replica_not_empty");
}

#[test]
fn the_first_copy_comes_in_pages_and_changes_during_it_are_not_lost() {
    let hq = hq();
    let sh = code_of(&hq, "SH001");
    let n = sync::COPY_PAGE + 20;
    hq.write(|w| {
        for i in 0..n {
            let c = w
                .upsert_customer(&person(i), None, &from("finance", &format!("F{i}")))?
                .id;
            w.insert_touchpoint(&visit(c, sh, i))?;
        }
        Ok(())
    })
    .unwrap();
    let scope = Scope::Dealer("SH001".into());
    sync::register_replica(&hq, "sh001", &scope).unwrap();
    let replica = Database::in_memory().unwrap();
    sync::init_replica(&replica, "sh001", &scope).unwrap();

    let up = sync::push(&replica).unwrap();
    let (down, served) = sync::serve(&hq, &up).unwrap();
    assert!(served.more, "a second page is due");
    sync::pull(&replica, &down).unwrap();
    assert_eq!(
        replica.begin_read().unwrap().customer_count().unwrap(),
        sync::COPY_PAGE as u64
    );
    // HQ changes a customer already copied while the copy is under way.
    hq.write(|w| {
        w.upsert_customer(
            &Customer {
                address: Some("北京市朝阳区".into()),
                ..person(0)
            },
            None,
            &from("finance", "F0"),
        )
        .map(drop)
    })
    .unwrap();
    sync_all(&replica, &hq);
    let got = replica_picture(&replica);
    assert_eq!(got.len(), n);
    assert_eq!(got, hq_picture(&hq, &scope));
}

// ---------------------------------------------------------------------------------------------
// Convergence

#[derive(Clone, Debug)]
enum Op {
    /// HQ: a new customer (from finance) with a visit at dealer `dealer` (0 or 1).
    HqCustomer { dealer: usize },
    /// HQ: a visit of its `nth` customer at dealer `dealer`.
    HqVisit { nth: usize, dealer: usize },
    /// HQ: finance sends its `nth` customer again with address `address`.
    HqAddress { nth: usize, address: usize },
    /// HQ: erases its `nth` customer.
    HqErase { nth: usize },
    /// Replica `replica`: a new customer (from its DMS) with a visit at its dealer.
    ReplicaCustomer { replica: usize },
    /// Replica `replica`: a visit of its `nth` customer at its dealer.
    ReplicaVisit {
        replica: usize,
        nth: usize,
        sensitive: bool,
    },
    /// Replica `replica`: its `nth` customer's address edited locally.
    ReplicaAddress {
        replica: usize,
        nth: usize,
        address: usize,
    },
    /// HQ: the call centre records a grant or withdrawal for its `nth` customer.
    HqConsent {
        nth: usize,
        channel: usize,
        granted: bool,
    },
    /// Replica `replica`: a grant or withdrawal recorded for its `nth` customer.
    ReplicaConsent {
        replica: usize,
        nth: usize,
        channel: usize,
        granted: bool,
    },
    /// One round trip of replica `replica`.
    Sync { replica: usize },
}

const CHANNELS: [ConsentChannel; 3] = [
    ConsentChannel::Phone,
    ConsentChannel::Sms,
    ConsentChannel::WeChat,
];

fn consent(channel: usize, granted: bool, minute: usize, source: &str) -> ConsentEvent {
    ConsentEvent {
        channel: CHANNELS[channel],
        granted,
        at: t("2025-03-01 08:00").add_seconds(minute as i64 * 60),
        source: source.into(),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize).prop_map(|dealer| Op::HqCustomer { dealer }),
        (0..50usize, 0..2usize).prop_map(|(nth, dealer)| Op::HqVisit { nth, dealer }),
        (0..50usize, 0..4usize).prop_map(|(nth, address)| Op::HqAddress { nth, address }),
        (0..50usize).prop_map(|nth| Op::HqErase { nth }),
        (0..3usize).prop_map(|replica| Op::ReplicaCustomer { replica }),
        (0..3usize, 0..50usize, any::<bool>()).prop_map(|(replica, nth, sensitive)| {
            Op::ReplicaVisit {
                replica,
                nth,
                sensitive,
            }
        }),
        (0..3usize, 0..50usize, 0..4usize).prop_map(|(replica, nth, address)| Op::ReplicaAddress {
            replica,
            nth,
            address
        }),
        (0..50usize, 0..3usize, any::<bool>()).prop_map(|(nth, channel, granted)| Op::HqConsent {
            nth,
            channel,
            granted
        }),
        (0..3usize, 0..50usize, 0..3usize, any::<bool>()).prop_map(
            |(replica, nth, channel, granted)| Op::ReplicaConsent {
                replica,
                nth,
                channel,
                granted
            }
        ),
        (0..3usize).prop_map(|replica| Op::Sync { replica }),
        (0..3usize).prop_map(|replica| Op::Sync { replica }),
    ]
}

const ADDRESSES: [&str; 4] = [
    "上海市徐汇区",
    "上海市浦东新区",
    "北京市朝阳区",
    "广州市天河区",
];

struct World {
    hq: Database,
    replicas: Vec<(Database, Scope, Option<&'static str>)>,
    next_customer: usize,
    minute: usize,
}

impl World {
    fn new() -> World {
        let hq = hq();
        let sh = code_of(&hq, "SH001");
        // The owner: customer 0, with a visit at SH001.
        let owner = hq
            .write(|w| {
                let c = w
                    .upsert_customer(&person(0), None, &from("finance", "F0"))?
                    .id;
                w.insert_touchpoint(&visit(c, sh, 0))?;
                Ok(c)
            })
            .unwrap();
        let scopes = [
            ("sh001", Scope::Dealer("SH001".into()), Some("SH001")),
            ("bj002", Scope::Dealer("BJ002".into()), Some("BJ002")),
            ("phone", Scope::Owner(owner), None),
        ];
        let mut replicas = Vec::new();
        for (name, scope, dealer) in scopes {
            sync::register_replica(&hq, name, &scope).unwrap();
            let db = Database::in_memory().unwrap();
            sync::init_replica(&db, name, &scope).unwrap();
            replicas.push((db, scope, dealer));
        }
        World {
            hq,
            replicas,
            next_customer: 1,
            minute: 1,
        }
    }

    fn tick(&mut self) -> usize {
        self.minute += 1;
        self.minute
    }

    fn nth(db: &Database, nth: usize) -> Option<CustomerId> {
        let r = db.begin_read().unwrap();
        let live: Vec<_> = r
            .customer_ids()
            .unwrap()
            .into_iter()
            .filter(|c| r.erasure(*c).unwrap().is_none())
            .collect();
        (!live.is_empty()).then(|| live[nth % live.len()])
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::HqCustomer { dealer } => {
                let i = self.next_customer;
                self.next_customer += 1;
                let m = self.tick();
                let d = code_of(&self.hq, ["SH001", "BJ002"][dealer]);
                self.hq
                    .write(|w| {
                        let c = w
                            .upsert_customer(&person(i), None, &from("finance", &format!("F{i}")))?
                            .id;
                        w.insert_touchpoint(&visit(c, d, m)).map(drop)
                    })
                    .unwrap();
            }
            Op::HqVisit { nth, dealer } => {
                let m = self.tick();
                let d = code_of(&self.hq, ["SH001", "BJ002"][dealer]);
                if let Some(c) = World::nth(&self.hq, nth) {
                    self.hq
                        .write(|w| w.insert_touchpoint(&visit(c, d, m)).map(drop))
                        .unwrap();
                }
            }
            Op::HqAddress { nth, address } => {
                if let Some(c) = World::nth(&self.hq, nth) {
                    let r = self.hq.begin_read().unwrap();
                    let phone = r.customer(c).unwrap().phones[0].clone();
                    let i: usize = phone[7..].parse().unwrap();
                    drop(r);
                    let incoming = Customer {
                        address: Some(ADDRESSES[address].into()),
                        ..person(i)
                    };
                    // A customer a replica made has no finance record: finance sends one.
                    self.hq
                        .write(|w| {
                            w.upsert_customer(&incoming, None, &from("finance", &format!("F{i}")))
                                .map(drop)
                        })
                        .unwrap();
                }
            }
            Op::HqErase { nth } => {
                // Never the owner (the phone's scope would be gone).
                if let Some(c) = World::nth(&self.hq, nth).filter(|c| c.0 != 1) {
                    self.hq
                        .write(|w| w.erase_customer(c, "dpo", "request").map(drop))
                        .unwrap();
                }
            }
            Op::ReplicaCustomer { replica } => {
                let Some(code) = self.replicas[replica].2 else {
                    return;
                };
                let i = self.next_customer;
                self.next_customer += 1;
                let m = self.tick();
                let db = &self.replicas[replica].0;
                let Some(d) = code_of(db, code) else { return };
                db.write(|w| {
                    let c = w
                        .upsert_customer(&person(i), None, &from("dms", &format!("D{i}")))?
                        .id;
                    w.insert_touchpoint(&visit(c, Some(d), m)).map(drop)
                })
                .unwrap();
            }
            Op::ReplicaVisit {
                replica,
                nth,
                sensitive,
            } => {
                let m = self.tick();
                let (db, _, code) = &self.replicas[replica];
                let d = match code {
                    Some(code) => match code_of(db, code) {
                        Some(d) => Some(d),
                        None => return,
                    },
                    None => None,
                };
                if let Some(c) = World::nth(db, nth) {
                    let tp = Touchpoint {
                        sensitive,
                        ..visit(c, d, m)
                    };
                    db.write(|w| w.insert_touchpoint(&tp).map(drop)).unwrap();
                }
            }
            Op::ReplicaAddress {
                replica,
                nth,
                address,
            } => {
                let db = &self.replicas[replica].0;
                if let Some(c) = World::nth(db, nth) {
                    db.write(|w| {
                        let mut now = w.customer(c)?;
                        now.address = Some(ADDRESSES[address].into());
                        w.update_customer(c, &now)
                    })
                    .unwrap();
                }
            }
            Op::HqConsent {
                nth,
                channel,
                granted,
            } => {
                let m = self.tick();
                if let Some(c) = World::nth(&self.hq, nth) {
                    let e = consent(channel, granted, m, "call_centre");
                    self.hq.write(|w| w.record_consent(c, &e)).unwrap();
                }
            }
            Op::ReplicaConsent {
                replica,
                nth,
                channel,
                granted,
            } => {
                let m = self.tick();
                let db = &self.replicas[replica].0;
                if let Some(c) = World::nth(db, nth) {
                    let e = consent(channel, granted, m, "dealer");
                    db.write(|w| w.record_consent(c, &e)).unwrap();
                }
            }
            Op::Sync { replica } => {
                let (served, pulled) =
                    sync::sync(&self.replicas[replica].0, &self.hq, 100).unwrap();
                // The one refusal a replica may meet: an edit of a customer HQ erased since
                // (the erasure wins, and comes down).
                let erased =
                    |r: &sync::SyncRejection| r.code == "invalid_operation.customer_erased";
                assert!(served.rejected.iter().all(erased), "{:?}", served.rejected);
                assert!(pulled.rejected.is_empty(), "{:?}", pulled.rejected);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_with_hq_and_see_only_their_scope(ops in prop::collection::vec(op(), 1..40)) {
        let mut world = World::new();
        for op in &ops {
            world.run(op);
        }
        // Quiesce: every replica syncs twice (the second round carries echoes of the first).
        for _ in 0..2 {
            for r in 0..world.replicas.len() {
                world.run(&Op::Sync { replica: r });
            }
        }
        for (db, scope, _) in &world.replicas {
            prop_assert_eq!(sync::status(db).unwrap().pending, 0);
            prop_assert_eq!(replica_picture(db), hq_picture(&world.hq, scope), "scope {}", scope);
        }
        // Every touchpoint made anywhere reached HQ exactly once.
        let r = world.hq.begin_read().unwrap();
        let mut at_hq: Vec<DateTime> = Vec::new();
        for id in r.customer_ids().unwrap() {
            at_hq.extend(r.timeline(id, None, usize::MAX).unwrap().items.into_iter().map(|(_, t)| t.at));
        }
        let total = at_hq.len();
        at_hq.sort();
        at_hq.dedup();
        prop_assert_eq!(at_hq.len(), total, "a touchpoint arrived twice");
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzz seeds

fn seeds_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/sync_batch")
}

/// What the `sync_batch` fuzz target does with its input.
fn fuzz_one(data: &[u8]) {
    let batch = match SyncBatch::from_bytes(data) {
        Ok(b) => b,
        Err(_) => match autocrm::codec::decode_payload::<SyncBatch>(data) {
            Ok(b) => b,
            Err(_) => return,
        },
    };
    let Ok(scope) = batch.scope.parse::<Scope>() else {
        return;
    };
    let db = Database::in_memory().unwrap();
    if sync::init_replica(&db, &batch.replica, &scope).is_err() {
        return;
    }
    let _ = sync::pull(&db, &batch);
}

/// The fuzz target's seeds (real down batches: a first copy and a page of changes with an
/// erasure and a merge, as bare payloads) replay, whole and mutated, without a panic. Run with
/// `UPDATE_SEEDS=1` to write them again.
#[test]
fn the_sync_batch_fuzz_seeds_replay() {
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        let hq = hq();
        let sh = code_of(&hq, "SH001");
        let ids = hq
            .write(|w| {
                let mut ids = Vec::new();
                for i in 0..4 {
                    let c = w
                        .upsert_customer(&person(i), None, &from("finance", &format!("F{i}")))?
                        .id;
                    w.insert_touchpoint(&visit(c, sh, i))?;
                    ids.push(c);
                }
                Ok(ids)
            })
            .unwrap();
        let scope = Scope::Dealer("SH001".into());
        sync::register_replica(&hq, "sh001", &scope).unwrap();
        let replica = Database::in_memory().unwrap();
        sync::init_replica(&replica, "sh001", &scope).unwrap();
        let payload = |b: &SyncBatch| {
            let e = b.to_bytes();
            e[autocrm::codec::HEADER_LEN..e.len() - autocrm::codec::CHECKSUM_LEN].to_vec()
        };
        let (copy, _) = sync::serve(&hq, &sync::push(&replica).unwrap()).unwrap();
        sync::pull(&replica, &copy).unwrap();
        hq.write(|w| {
            w.erase_customer(ids[3], "dpo", "request")?;
            w.merge_customers(ids[0], ids[1], t("2025-07-01 09:00"), "steward")
                .map(drop)
        })
        .unwrap();
        let (changes, _) = sync::serve(&hq, &sync::push(&replica).unwrap()).unwrap();
        assert!(!changes.erasures.is_empty() && !changes.merges.is_empty());
        std::fs::create_dir_all(seeds_dir()).unwrap();
        std::fs::write(seeds_dir().join("copy"), payload(&copy)).unwrap();
        std::fs::write(seeds_dir().join("changes"), payload(&changes)).unwrap();
        std::fs::write(seeds_dir().join("changes.envelope"), changes.to_bytes()).unwrap();
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(seeds_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += 1;
        fuzz_one(&bytes);
        for cut in [
            1,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len().saturating_sub(1),
        ] {
            fuzz_one(&bytes[..cut.min(bytes.len())]);
        }
        for at in (0..bytes.len()).step_by(7) {
            let mut m = bytes.clone();
            m[at] ^= 0xA5;
            fuzz_one(&m);
        }
    }
    assert!(seen >= 3, "the seeds are in fuzz/seeds/sync_batch");
}
