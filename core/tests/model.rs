//! Model-based property test: random sequences of operations run against a file-backed database
//! and against a plain in-memory reference model (`BTreeMap`s), and after every operation the
//! database must agree with the model — records, unique and non-unique indexes, ownership
//! histories, rollups, timeline paging and relations. Ids are predicted exactly (they start at 1,
//! grow by one per record written and are never reused).
//!
//! Every single operation runs in its own write transaction that is committed *even when the
//! call failed*: the calls refuse before writing anything, so committing must change nothing.
//! `Group` runs several operations in one transaction (exercising the per-transaction rollup
//! and id-counter caches) and then commits or drops it; `Reopen` closes every handle and opens
//! the file again; `Batch` runs `insert_customers` inside `Database::write`.
//!
//! Plain `#[test]`s at the end cover batch atomicity, source-record idempotence, the
//! single-open guard and a transferred vehicle in both owners' 360° views, and two regressions
//! (a deleted customer's source record, a one-record batch naming its record).
//!
//! `PROPTEST_CASES=5000` searches deeper; `MODEL_STATS=1` (with `--nocapture`) prints how often
//! each call succeeded or failed with each error code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::LazyLock;

use autocrm::validate;
use autocrm::{
    Channel, Customer, CustomerId, Database, Date, DateTime, Error, Money, Ownership,
    OwnershipHistory, Party, Person, Refusal, Relation, RelationKind, Rollup, Rule, ServiceKind,
    SourceRef, TimelineCursor, Touchpoint, TouchpointId, TouchpointKind, Vehicle, VehicleId,
    WriteTxn,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::d;

// ---------------------------------------------------------------------------------------------
// Pools of valid keys: small, so that keys collide and phones are shared.

/// Six valid national IDs; the last one ends in the check character `X`.
static NATIONAL_IDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut digit = Vec::new();
    let mut x = None;
    for seq in 1..1000 {
        let first17 = format!("11010519900307{seq:03}");
        let check = validate::national_id_check_digit(&first17).unwrap();
        let id = format!("{first17}{check}");
        if check == 'X' {
            x.get_or_insert(id);
        } else if digit.len() < 5 {
            digit.push(id);
        }
        if digit.len() == 5 && x.is_some() {
            break;
        }
    }
    digit.push(x.expect("some sequence number gives check character X"));
    for id in &digit {
        assert_eq!(validate::national_id("t", id).as_deref(), Ok(id.as_str()));
    }
    digit
});

/// A valid national ID as a caller might type it: variant 1 pads it with spaces and lower-cases
/// a trailing X.
fn nid_input(i: u8, variant: bool) -> (String, String) {
    let id = NATIONAL_IDS[i as usize % NATIONAL_IDS.len()].clone();
    let input = if variant {
        format!(" {} ", id.replace('X', "x"))
    } else {
        id.clone()
    };
    (input, id)
}

/// Four mainland mobiles as (normalised, formatted input).
const PHONES: [(&str, &str); 4] = [
    ("13800138000", "+86 138-0013-8000"),
    ("13912345678", "0086 139 1234 5678"),
    ("15000001111", "(150) 0000-1111"),
    ("18600002222", "8618600002222"),
];

fn phone_input(i: u8, formatted: bool) -> (String, String) {
    let (bare, fmt) = PHONES[i as usize % PHONES.len()];
    (
        if formatted { fmt } else { bare }.to_string(),
        bare.to_string(),
    )
}

/// Five valid China VINs (WMI `LSV`), check digit computed.
static VINS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..5)
        .map(|k| {
            let placeholder = format!("LSVAU2180N21832{k:02}");
            let check = validate::vin_check_digit(&placeholder).unwrap();
            let vin = format!("LSVAU218{check}N21832{k:02}");
            assert_eq!(validate::vin("t", &vin).as_deref(), Ok(vin.as_str()));
            vin
        })
        .collect()
});

fn vin_input(i: u8, lower: bool) -> (String, String) {
    let vin = VINS[i as usize % VINS.len()].clone();
    (
        if lower {
            vin.to_ascii_lowercase()
        } else {
            vin.clone()
        },
        vin,
    )
}

/// Four plates as (normalised, as printed on the plate).
const PLATES: [(&str, &str); 4] = [
    ("沪A12345", "沪a·12345"),
    ("京B6789学", "京B 6789学"),
    ("粤BD12345", "粤B-D12345"),
    ("苏E5A7K9", "苏e5a7k9"),
];

fn plate_input(i: u8, printed: bool) -> (String, String) {
    let (bare, printed_form) = PLATES[i as usize % PLATES.len()];
    (
        if printed { printed_form } else { bare }.to_string(),
        bare.to_string(),
    )
}

/// Person names as (input, normalised).
const NAMES: [(&str, &str); 6] = [
    ("王小明", "王小明"),
    (" 李华 ", "李华"),
    ("欧阳  娜娜", "欧阳 娜娜"),
    ("Zhao\u{3000}Lei", "Zhao Lei"),
    ("张伟", "张伟"),
    ("欧阳先生", "欧阳先生"),
];

const CUSTOMER_SYSTEM: &str = "crm_import";
const TOUCHPOINT_SYSTEM: &str = "dms";
const SOURCE_IDS: [&str; 4] = ["R1", "R2", "R3", "R4"];

/// Touchpoint dates: around 1970-01-01 (negative timestamps) or in mid-2023, few enough that
/// several touchpoints share a time and the id breaks the tie.
fn tp_at(day: u8, hour: u8) -> DateTime {
    let date = if day.is_multiple_of(2) {
        d("1969-12-28").add_days(i32::from(day / 2 % 8))
    } else {
        d("2023-06-01").add_days(i32::from(day / 2 % 24))
    };
    date.at([0, 9, 9, 23][hour as usize % 4], 0, 0)
}

fn owner_from(day: u8) -> Date {
    d("2015-01-01").add_days(i32::from(day) * 20)
}

fn relation_kind(k: u8) -> RelationKind {
    RelationKind::ALL[k as usize % RelationKind::ALL.len()]
}

// ---------------------------------------------------------------------------------------------
// Operations. Selectors (`u8`) pick among the records alive when the operation runs; a high
// selector picks a deleted or never-issued id to exercise `NotFound`.

#[derive(Clone, Debug)]
struct CustSpec {
    name: u8,
    national_id: Option<(u8, bool)>,
    phones: Vec<(u8, bool)>,
    source: Option<u8>,
}

#[derive(Clone, Debug)]
struct TpSpec {
    who: u8,
    kind: u8,
    day: u8,
    hour: u8,
    service: u8,
    amount: Option<u16>,
    parts: Option<u16>,
    labour: Option<u16>,
    mileage: Option<u16>,
    vehicle: Option<u8>,
    source: Option<(u8, bool)>,
    sensitive: bool,
    /// 0: valid; 1: negative amount; 2: a service kind on a touchpoint that is no service visit.
    bad: u8,
}

#[derive(Clone, Debug)]
enum Op {
    InsertCustomer(CustSpec),
    UpdateCustomer {
        who: u8,
        spec: CustSpec,
    },
    DeleteCustomer {
        who: u8,
    },
    InsertVehicle {
        vin: (u8, bool),
        plate: Option<(u8, bool)>,
        owner: Option<(u8, u8)>,
    },
    UpdateVehicle {
        which: u8,
        vin: (u8, bool),
        plate: Option<(u8, bool)>,
    },
    TransferVehicle {
        which: u8,
        to: u8,
        delta_days: i16,
    },
    InsertTouchpoint(TpSpec),
    InsertTouchpoints(Vec<TpSpec>),
    DeleteTouchpoint {
        which: u8,
    },
    Relate {
        from: u8,
        kind: u8,
        to: u8,
    },
    Unrelate {
        from: u8,
        kind: u8,
        to: u8,
    },
    /// Drop every handle and `Database::open` the file again.
    Reopen,
    /// `insert_customers` inside `Database::write`, optionally with one invalid record at
    /// `bad.0` (kind `bad.1`: placeholder name, short phone, wrong national-ID check digit).
    Batch {
        records: Vec<CustSpec>,
        bad: Option<(u8, u8)>,
    },
    /// Several operations in one write transaction, then commit (or drop it if `!commit`).
    Group {
        ops: Vec<Op>,
        commit: bool,
    },
}

fn cust_spec() -> impl Strategy<Value = CustSpec> {
    (
        any::<u8>(),
        proptest::option::weighted(0.7, (0u8..6, any::<bool>())),
        proptest::collection::vec((0u8..4, any::<bool>()), 0..3),
        proptest::option::weighted(0.3, 0u8..4),
    )
        .prop_map(|(name, national_id, phones, source)| CustSpec {
            name,
            national_id,
            phones,
            source,
        })
}

fn tp_spec() -> impl Strategy<Value = TpSpec> {
    (
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
        ),
        (
            proptest::option::of(0u16..5000),
            proptest::option::weighted(0.2, 0u16..500),
            proptest::option::weighted(0.2, 0u16..500),
            proptest::option::weighted(0.3, any::<u16>()),
        ),
        proptest::option::weighted(0.3, any::<u8>()),
        proptest::option::weighted(0.4, (0u8..4, any::<bool>())),
        prop_oneof![12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(
                (who, kind, day, hour, service),
                (amount, parts, labour, mileage),
                vehicle,
                source,
                bad,
                sensitive,
            )| {
                TpSpec {
                    who,
                    kind,
                    day,
                    hour,
                    service,
                    amount,
                    parts,
                    labour,
                    mileage,
                    vehicle,
                    source,
                    sensitive,
                    bad,
                }
            },
        )
}

fn plate_sel() -> impl Strategy<Value = Option<(u8, bool)>> {
    proptest::option::weighted(0.7, (0u8..4, any::<bool>()))
}

fn simple_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => cust_spec().prop_map(Op::InsertCustomer),
        2 => (any::<u8>(), cust_spec()).prop_map(|(who, spec)| Op::UpdateCustomer { who, spec }),
        2 => any::<u8>().prop_map(|who| Op::DeleteCustomer { who }),
        3 => ((0u8..5, any::<bool>()), plate_sel(), proptest::option::weighted(0.9, (any::<u8>(), any::<u8>())))
            .prop_map(|(vin, plate, owner)| Op::InsertVehicle { vin, plate, owner }),
        1 => (any::<u8>(), (0u8..5, any::<bool>()), plate_sel())
            .prop_map(|(which, vin, plate)| Op::UpdateVehicle { which, vin, plate }),
        3 => (any::<u8>(), any::<u8>(), -40i16..200)
            .prop_map(|(which, to, delta_days)| Op::TransferVehicle { which, to, delta_days }),
        6 => tp_spec().prop_map(Op::InsertTouchpoint),
        1 => proptest::collection::vec(tp_spec(), 1..5).prop_map(Op::InsertTouchpoints),
        2 => any::<u8>().prop_map(|which| Op::DeleteTouchpoint { which }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(from, kind, to)| Op::Relate { from, kind, to }),
        1 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(from, kind, to)| Op::Unrelate { from, kind, to }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => simple_op(),
        2 => Just(Op::Reopen),
        2 => (
            proptest::collection::vec(cust_spec(), 1..4),
            proptest::option::weighted(0.6, (any::<u8>(), 0u8..3)),
        )
            .prop_map(|(records, bad)| Op::Batch { records, bad }),
        2 => (proptest::collection::vec(simple_op(), 2..5), proptest::bool::weighted(0.75))
            .prop_map(|(ops, commit)| Op::Group { ops, commit }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The reference model.

#[derive(Clone, Debug, Default)]
struct Model {
    next_customer: u64,
    next_vehicle: u64,
    next_touchpoint: u64,
    customers: BTreeMap<u64, Customer>,
    dead_customers: BTreeSet<u64>,
    /// Customer source record id → customer.
    customer_sources: BTreeMap<String, u64>,
    vehicles: BTreeMap<u64, Vehicle>,
    ownership: BTreeMap<u64, Vec<Ownership>>,
    touchpoints: BTreeMap<u64, Touchpoint>,
    dead_touchpoints: BTreeSet<u64>,
    /// Touchpoint source record id → touchpoint.
    touchpoint_sources: BTreeMap<String, u64>,
    /// (from, kind code, to).
    relations: BTreeSet<(u64, u8, u64)>,
}

/// What a call is expected to fail with.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Validation {
        record: Option<usize>,
        field: &'static str,
        rule: Rule,
    },
    NotFound(&'static str),
    Duplicate {
        entity: &'static str,
        field: &'static str,
        existing: u64,
    },
    Invalid(Refusal),
    InRecord(usize, Box<Expect>),
}

fn matches_expect(e: &Error, x: &Expect) -> bool {
    match (e, x) {
        (
            Error::Validation(v),
            Expect::Validation {
                record,
                field,
                rule,
            },
        ) => v.record == *record && v.field == *field && v.rule == *rule,
        (Error::NotFound { entity, .. }, Expect::NotFound(want)) => entity == want,
        (
            Error::DuplicateKey {
                entity,
                field,
                existing,
                ..
            },
            Expect::Duplicate {
                entity: we,
                field: wf,
                existing: wx,
            },
        ) => entity == we && field == wf && existing == wx,
        (Error::InvalidOperation { refusal, .. }, Expect::Invalid(x)) => refusal == x,
        (Error::InRecord { index, source }, Expect::InRecord(wi, inner)) => {
            index == wi && matches_expect(source, inner)
        }
        _ => false,
    }
}

thread_local! {
    /// Outcome counts per call, printed with `MODEL_STATS=1` to see what the cases exercise.
    static STATS: std::cell::RefCell<BTreeMap<String, usize>> = Default::default();
}

/// Compares a call's result with the model's expectation.
fn compare<T: std::fmt::Debug + PartialEq>(
    what: &str,
    got: &autocrm::Result<T>,
    want: &Result<T, Expect>,
) -> Result<(), String> {
    let ok = match (got, want) {
        (Ok(g), Ok(w)) => g == w,
        (Err(e), Err(x)) => matches_expect(e, x),
        _ => false,
    };
    STATS.with(|st| {
        let key = match got {
            Ok(_) => format!("{what} ok"),
            Err(e) => format!("{what} {}", e.code()),
        };
        *st.borrow_mut().entry(key).or_insert(0usize) += 1;
    });
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, model expected {want:?}"))
    }
}

impl Model {
    fn new() -> Model {
        Model {
            next_customer: 1,
            next_vehicle: 1,
            next_touchpoint: 1,
            ..Model::default()
        }
    }

    fn pick_customer(&self, sel: u8) -> CustomerId {
        let alive: Vec<u64> = self.customers.keys().copied().collect();
        if sel < 240 && !alive.is_empty() {
            return CustomerId(alive[sel as usize % alive.len()]);
        }
        let dead: Vec<u64> = self.dead_customers.iter().copied().collect();
        if sel.is_multiple_of(2) && !dead.is_empty() {
            CustomerId(dead[sel as usize % dead.len()])
        } else {
            CustomerId(self.next_customer + 7)
        }
    }

    fn pick_vehicle(&self, sel: u8) -> VehicleId {
        let all: Vec<u64> = self.vehicles.keys().copied().collect();
        if sel < 245 && !all.is_empty() {
            VehicleId(all[sel as usize % all.len()])
        } else {
            VehicleId(self.next_vehicle + 3)
        }
    }

    fn pick_touchpoint(&self, sel: u8) -> TouchpointId {
        let alive: Vec<u64> = self.touchpoints.keys().copied().collect();
        if sel < 240 && !alive.is_empty() {
            return TouchpointId(alive[sel as usize % alive.len()]);
        }
        let dead: Vec<u64> = self.dead_touchpoints.iter().copied().collect();
        if sel.is_multiple_of(2) && !dead.is_empty() {
            TouchpointId(dead[sel as usize % dead.len()])
        } else {
            TouchpointId(self.next_touchpoint + 5)
        }
    }

    fn holder_of_national_id(&self, id: &str) -> Option<u64> {
        self.customers
            .iter()
            .find(|(_, c)| c.national_id() == Some(id))
            .map(|(k, _)| *k)
    }

    fn with_phone(&self, phone: &str) -> Vec<CustomerId> {
        self.customers
            .iter()
            .filter(|(_, c)| c.phones.iter().any(|p| p == phone))
            .map(|(k, _)| CustomerId(*k))
            .collect()
    }

    fn vehicle_with(&self, f: impl Fn(&Vehicle) -> bool) -> Option<u64> {
        self.vehicles.iter().find(|(_, v)| f(v)).map(|(k, _)| *k)
    }

    fn ever_owned(&self, c: u64) -> bool {
        self.ownership
            .values()
            .any(|h| h.iter().any(|o| o.customer.0 == c))
    }

    /// Vehicles `c` owns or owned, in id order.
    fn vehicles_of(&self, c: u64) -> Vec<u64> {
        self.ownership
            .iter()
            .filter(|(_, h)| h.iter().any(|o| o.customer.0 == c))
            .map(|(v, _)| *v)
            .collect()
    }

    /// `c`'s timeline newest first: by (time, id) descending.
    fn timeline(&self, c: u64) -> Vec<(TouchpointId, Touchpoint)> {
        let mut all: Vec<(TouchpointId, Touchpoint)> = self
            .touchpoints
            .iter()
            .filter(|(_, t)| t.customer.0 == c)
            .map(|(id, t)| (TouchpointId(*id), t.clone()))
            .collect();
        all.sort_by_key(|(id, t)| std::cmp::Reverse((t.at, *id)));
        all
    }

    fn relations_of(&self, c: u64) -> Vec<Relation> {
        let mut out: Vec<Relation> = self
            .relations
            .iter()
            .filter(|(f, _, t)| *f == c || *t == c)
            .map(|&(f, k, t)| Relation {
                from: CustomerId(f),
                kind: RelationKind::ALL
                    .into_iter()
                    .find(|x| *x as u8 == k)
                    .unwrap(),
                to: CustomerId(t),
            })
            .collect();
        out.sort();
        out
    }

    /// The rollup recomputed from scratch from the model's touchpoints and ownerships.
    fn rollup(&self, c: u64) -> Rollup {
        let mut r = Rollup::default();
        for t in self.touchpoints.values().filter(|t| t.customer.0 == c) {
            let k = TouchpointKind::ALL
                .iter()
                .position(|x| *x == t.kind)
                .unwrap();
            r.counts[k] += 1;
            r.spend[k] = Money(r.spend[k].0 + t.amount.map_or(0, |m| m.0));
            r.parts_spend = Money(r.parts_spend.0 + t.parts_amount.map_or(0, |m| m.0));
            r.labour_spend = Money(r.labour_spend.0 + t.labour_amount.map_or(0, |m| m.0));
            let date = t.at.date();
            if t.kind == TouchpointKind::ServiceVisit {
                r.service_dates.push(date);
            }
            if t.kind == TouchpointKind::Purchase {
                r.first_purchase = r.first_purchase.min(Some(date)).or(Some(date));
                r.last_purchase = r.last_purchase.max(Some(date));
            }
            r.first_touch = r.first_touch.min(Some(t.at)).or(Some(t.at));
            r.last_touch = r.last_touch.max(Some(t.at));
            if let Some(km) = t.mileage_km {
                r.max_mileage_km = r.max_mileage_km.max(Some(km));
            }
            r.events.push(autocrm::rollup::Event {
                day: date,
                minute: (t.at.second_of_day() / 60) as u16,
                kind: t.kind,
                service_kind: t.service_kind,
                dealer: t.dealer,
                amount: t.amount.unwrap_or_default(),
                succeeded: t.succeeded(),
            });
        }
        r.service_dates.sort();
        r.events.sort();
        r.relations = self
            .relations
            .iter()
            .filter(|(f, _, t)| *f == c || *t == c)
            .count() as u32;
        for h in self.ownership.values() {
            let mine: Vec<&Ownership> = h.iter().filter(|o| o.customer.0 == c).collect();
            if mine.is_empty() {
                continue;
            }
            r.vehicles_total += 1;
            r.vehicles_current += mine.iter().filter(|o| o.to.is_none()).count() as u32;
            for o in mine {
                r.first_vehicle = r.first_vehicle.min(Some(o.from)).or(Some(o.from));
            }
        }
        r
    }

    // ---- building inputs and expected stored records ----

    /// The customer as given to the library and as it must be stored.
    fn customer_input(&self, spec: &CustSpec, with_source: bool) -> (Customer, Customer) {
        let (name_in, name) = NAMES[spec.name as usize % NAMES.len()];
        let nid = spec.national_id.map(|(i, v)| nid_input(i, v));
        let phones: Vec<(String, String)> = spec
            .phones
            .iter()
            .map(|&(i, f)| phone_input(i, f))
            .collect();
        let source = if with_source {
            spec.source.map(|i| {
                let rid = SOURCE_IDS[i as usize % SOURCE_IDS.len()];
                SourceRef::new(CUSTOMER_SYSTEM, format!(" {rid}"))
            })
        } else {
            None
        };
        let input = Customer {
            party: Party::Person(Person {
                name: name_in.to_string(),
                national_id: nid.as_ref().map(|(i, _)| i.clone()),
                ..Person::default()
            }),
            phones: phones.iter().map(|(i, _)| i.clone()).collect(),
            source: source.clone(),
            ..Customer::person("")
        };
        let mut norm_phones: Vec<String> = Vec::new();
        for (_, p) in phones {
            if !norm_phones.contains(&p) {
                norm_phones.push(p);
            }
        }
        let expected = Customer {
            party: Party::Person(Person {
                name: name.to_string(),
                national_id: nid.map(|(_, n)| n),
                ..Person::default()
            }),
            phones: norm_phones,
            source: source.map(|s| SourceRef::new(s.system.trim(), s.record_id.trim())),
            ..Customer::person("")
        };
        (input, expected)
    }

    /// Applies one customer insert to the model (as the library does inside a batch too).
    fn insert_customer(&mut self, expected: Customer) -> Result<CustomerId, Expect> {
        if let Some(src) = &expected.source {
            if let Some(&id) = self.customer_sources.get(&src.record_id) {
                return Ok(CustomerId(id));
            }
        }
        if let Some(nid) = expected.national_id() {
            if let Some(existing) = self.holder_of_national_id(nid) {
                return Err(Expect::Duplicate {
                    entity: "customer",
                    field: "national_id",
                    existing,
                });
            }
        }
        let id = self.next_customer;
        self.next_customer += 1;
        if let Some(src) = &expected.source {
            self.customer_sources.insert(src.record_id.clone(), id);
        }
        self.customers.insert(id, expected);
        Ok(CustomerId(id))
    }

    fn tp_input(&self, spec: &TpSpec) -> (Touchpoint, Touchpoint, Option<Expect>) {
        let k = spec.kind % 24;
        let mut kind = if k < 5 {
            TouchpointKind::ServiceVisit
        } else if k < 9 {
            TouchpointKind::Purchase
        } else {
            TouchpointKind::ALL[(k - 9) as usize % TouchpointKind::COUNT]
        };
        let customer = self.pick_customer(spec.who);
        let at = tp_at(spec.day, spec.hour);
        let channel =
            [Channel::Showroom, Channel::PhoneIn, Channel::WeChat][spec.kind as usize % 3];
        let mut input = Touchpoint::new(at, customer, channel, kind);
        input.sensitive = spec.sensitive;
        input.amount = spec.amount.map(|a| Money(i64::from(a) * 100));
        input.parts_amount = spec.parts.map(|a| Money(i64::from(a) * 10));
        input.labour_amount = spec.labour.map(|a| Money(i64::from(a) * 10));
        input.mileage_km = spec.mileage.map(u32::from);
        input.vehicle = spec.vehicle.map(|v| self.pick_vehicle(v));
        if kind == TouchpointKind::ServiceVisit {
            input.service_kind = Some(
                [
                    ServiceKind::FirstService,
                    ServiceKind::Maintenance,
                    ServiceKind::Repair,
                    ServiceKind::WarrantyRepair,
                    ServiceKind::BodyAndPaint,
                ][spec.service as usize % 5],
            );
        }
        input.source = spec.source.map(|(i, pad)| {
            let rid = SOURCE_IDS[i as usize % SOURCE_IDS.len()];
            SourceRef::new(
                TOUCHPOINT_SYSTEM,
                if pad {
                    format!("  {rid} ")
                } else {
                    rid.to_string()
                },
            )
        });
        let mut invalid = None;
        if spec.bad == 2 && kind != TouchpointKind::ServiceVisit {
            input.service_kind = Some(ServiceKind::Repair);
            invalid = Some(Expect::Validation {
                record: None,
                field: "service_kind",
                rule: Rule::NotAllowed,
            });
        } else if spec.bad != 0 {
            input.amount = Some(Money(-100));
            invalid = Some(Expect::Validation {
                record: None,
                field: "amount",
                rule: Rule::Negative,
            });
        }
        kind = input.kind;
        let mut expected = input.clone();
        expected.source = input
            .source
            .as_ref()
            .map(|s| SourceRef::new(s.system.trim(), s.record_id.trim()));
        // Kept if given; always set for complaints, rescues and warranty repairs.
        expected.sensitive = input.sensitive
            || matches!(kind, TouchpointKind::Complaint | TouchpointKind::Rescue)
            || input.service_kind == Some(ServiceKind::WarrantyRepair);
        (input, expected, invalid)
    }

    /// The error a touchpoint's references raise, if any.
    fn tp_refs(&self, t: &Touchpoint) -> Option<Expect> {
        if !self.customers.contains_key(&t.customer.0) {
            return Some(Expect::NotFound("customer"));
        }
        if let Some(v) = t.vehicle {
            if !self.vehicles.contains_key(&v.0) {
                return Some(Expect::NotFound("vehicle"));
            }
        }
        None
    }

    /// Stores a checked touchpoint (or returns the id of its source record).
    fn add_touchpoint(&mut self, t: Touchpoint) -> TouchpointId {
        if let Some(src) = &t.source {
            if let Some(&id) = self.touchpoint_sources.get(&src.record_id) {
                return TouchpointId(id);
            }
        }
        let id = self.next_touchpoint;
        self.next_touchpoint += 1;
        if let Some(src) = &t.source {
            self.touchpoint_sources.insert(src.record_id.clone(), id);
        }
        self.touchpoints.insert(id, t);
        TouchpointId(id)
    }

    fn remove_touchpoint(&mut self, id: u64) {
        if let Some(t) = self.touchpoints.remove(&id) {
            if let Some(src) = &t.source {
                self.touchpoint_sources.remove(&src.record_id);
            }
            self.dead_touchpoints.insert(id);
        }
    }

    fn vehicle_input(&self, vin: (u8, bool), plate: Option<(u8, bool)>) -> (Vehicle, Vehicle) {
        let (vin_in, vin_norm) = vin_input(vin.0, vin.1);
        let plate = plate.map(|(i, p)| plate_input(i, p));
        let input = Vehicle {
            plate: plate.as_ref().map(|(i, _)| i.clone()),
            ..Vehicle::new(vin_in, " Volkswagen", "Passat ")
        };
        let expected = Vehicle {
            plate: plate.map(|(_, n)| n),
            ..Vehicle::new(vin_norm, "Volkswagen", "Passat")
        };
        (input, expected)
    }

    fn vehicle_keys(&self, v: &Vehicle, me: Option<u64>) -> Option<Expect> {
        if let Some(existing) = self.vehicle_with(|x| x.vin == v.vin) {
            if Some(existing) != me {
                return Some(Expect::Duplicate {
                    entity: "vehicle",
                    field: "vin",
                    existing,
                });
            }
        }
        if let Some(p) = &v.plate {
            if let Some(existing) = self.vehicle_with(|x| x.plate.as_ref() == Some(p)) {
                if Some(existing) != me {
                    return Some(Expect::Duplicate {
                        entity: "vehicle",
                        field: "plate",
                        existing,
                    });
                }
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Running operations against both.

/// Runs one simple operation in `tx` and on `m`, comparing the call's result with the model's.
fn step(tx: &mut WriteTxn, m: &mut Model, op: &Op, log: &mut Vec<String>) -> Result<(), String> {
    match op {
        Op::InsertCustomer(spec) => {
            let (input, expected) = m.customer_input(spec, true);
            let got = tx.insert_customer(&input);
            log.push(format!("insert_customer({input:?}) -> {got:?}"));
            let want = m.insert_customer(expected);
            compare("insert_customer", &got, &want)
        }
        Op::UpdateCustomer { who, spec } => {
            let id = m.pick_customer(*who);
            let (input, mut expected) = m.customer_input(spec, false);
            let got = tx.update_customer(id, &input);
            log.push(format!("update_customer({id}, {input:?}) -> {got:?}"));
            let want = match m.customers.get(&id.0) {
                None => Err(Expect::NotFound("customer")),
                Some(old) => {
                    expected.source = old.source.clone();
                    let dup = expected
                        .national_id()
                        .and_then(|n| m.holder_of_national_id(n))
                        .filter(|holder| *holder != id.0);
                    match dup {
                        Some(existing) => Err(Expect::Duplicate {
                            entity: "customer",
                            field: "national_id",
                            existing,
                        }),
                        None => {
                            m.customers.insert(id.0, expected);
                            Ok(())
                        }
                    }
                }
            };
            compare("update_customer", &got, &want)
        }
        Op::DeleteCustomer { who } => {
            let id = m.pick_customer(*who);
            let got = tx.delete_customer(id);
            log.push(format!("delete_customer({id}) -> {got:?}"));
            let want = if !m.customers.contains_key(&id.0) {
                Err(Expect::NotFound("customer"))
            } else if m.ever_owned(id.0) {
                Err(Expect::Invalid(Refusal::CustomerHasVehicles))
            } else {
                let c = m.customers.remove(&id.0).unwrap();
                m.dead_customers.insert(id.0);
                if let Some(src) = c.source {
                    m.customer_sources.remove(&src.record_id);
                }
                let tps: Vec<u64> = m
                    .touchpoints
                    .iter()
                    .filter(|(_, t)| t.customer == id)
                    .map(|(k, _)| *k)
                    .collect();
                for t in tps {
                    m.remove_touchpoint(t);
                }
                m.relations.retain(|(f, _, t)| *f != id.0 && *t != id.0);
                Ok(())
            };
            compare("delete_customer", &got, &want)
        }
        Op::InsertVehicle { vin, plate, owner } => {
            let (input, expected) = m.vehicle_input(*vin, *plate);
            let owner = owner.map(|(who, day)| (m.pick_customer(who), owner_from(day)));
            let got = tx.insert_vehicle(&input, owner);
            log.push(format!("insert_vehicle({input:?}, {owner:?}) -> {got:?}"));
            let want = if let Some(e) = m.vehicle_keys(&expected, None) {
                Err(e)
            } else if owner.is_some_and(|(c, _)| !m.customers.contains_key(&c.0)) {
                Err(Expect::NotFound("customer"))
            } else {
                let id = m.next_vehicle;
                m.next_vehicle += 1;
                m.vehicles.insert(id, expected);
                let history = owner
                    .map(|(customer, from)| Ownership {
                        customer,
                        from,
                        to: None,
                    })
                    .into_iter()
                    .collect();
                m.ownership.insert(id, history);
                Ok(VehicleId(id))
            };
            compare("insert_vehicle", &got, &want)
        }
        Op::UpdateVehicle { which, vin, plate } => {
            let id = m.pick_vehicle(*which);
            let (input, expected) = m.vehicle_input(*vin, *plate);
            let got = tx.update_vehicle(id, &input);
            log.push(format!("update_vehicle({id}, {input:?}) -> {got:?}"));
            let want = if !m.vehicles.contains_key(&id.0) {
                Err(Expect::NotFound("vehicle"))
            } else if let Some(e) = m.vehicle_keys(&expected, Some(id.0)) {
                Err(e)
            } else {
                m.vehicles.insert(id.0, expected);
                Ok(())
            };
            compare("update_vehicle", &got, &want)
        }
        Op::TransferVehicle {
            which,
            to: to_sel,
            delta_days,
        } => {
            let id = m.pick_vehicle(*which);
            let current = m
                .ownership
                .get(&id.0)
                .and_then(|h| h.last().filter(|o| o.to.is_none()).copied());
            let mut to = m.pick_customer(*to_sel);
            if current.is_some_and(|o| o.customer == to) && *delta_days % 4 != 0 {
                // Mostly pass it on to someone else; sometimes try the current owner again.
                to = m.pick_customer(to_sel.wrapping_add(1));
            }
            let base = current.map_or(d("2020-01-01"), |o| o.from);
            let on = base.add_days(i32::from(*delta_days));
            let got = tx.transfer_vehicle(id, to, on);
            log.push(format!("transfer_vehicle({id}, {to}, {on}) -> {got:?}"));
            let want = if !m.customers.contains_key(&to.0) {
                Err(Expect::NotFound("customer"))
            } else if !m.vehicles.contains_key(&id.0) {
                Err(Expect::NotFound("vehicle"))
            } else if current.is_some_and(|o| o.customer == to) {
                Err(Expect::Invalid(Refusal::AlreadyOwner))
            } else if current.is_some_and(|o| on < o.from) {
                Err(Expect::Validation {
                    record: None,
                    field: "on",
                    rule: Rule::DateOrder,
                })
            } else {
                let h = m.ownership.get_mut(&id.0).unwrap();
                if let Some(last) = h.last_mut().filter(|o| o.to.is_none()) {
                    last.to = Some(on);
                }
                h.push(Ownership {
                    customer: to,
                    from: on,
                    to: None,
                });
                Ok(())
            };
            compare("transfer_vehicle", &got, &want)
        }
        Op::InsertTouchpoint(spec) => {
            let (input, expected, invalid) = m.tp_input(spec);
            let got = tx.insert_touchpoint(&input);
            log.push(format!("insert_touchpoint({input:?}) -> {got:?}"));
            let want = match invalid.or_else(|| m.tp_refs(&expected)) {
                Some(e) => Err(e),
                None => Ok(m.add_touchpoint(expected)),
            };
            compare("insert_touchpoint", &got, &want)
        }
        Op::InsertTouchpoints(specs) => {
            let built: Vec<_> = specs.iter().map(|s| m.tp_input(s)).collect();
            let inputs: Vec<Touchpoint> = built.iter().map(|(i, _, _)| i.clone()).collect();
            let got = tx.insert_touchpoints(&inputs);
            log.push(format!("insert_touchpoints({inputs:?}) -> {got:?}"));
            // Every record is validated first, then references are checked.
            let invalid = built
                .iter()
                .enumerate()
                .find_map(|(i, (_, _, invalid))| match invalid {
                    Some(Expect::Validation { field, rule, .. }) => Some(Expect::Validation {
                        record: Some(i),
                        field,
                        rule: *rule,
                    }),
                    _ => None,
                });
            let failure = invalid.or_else(|| {
                built.iter().enumerate().find_map(|(i, (_, expected, _))| {
                    let e = m.tp_refs(expected)?;
                    Some(Expect::InRecord(i, Box::new(e)))
                })
            });
            let want = match failure {
                Some(e) => Err(e),
                None => Ok(built
                    .into_iter()
                    .map(|(_, e, _)| m.add_touchpoint(e))
                    .collect::<Vec<_>>()),
            };
            compare("insert_touchpoints", &got, &want)
        }
        Op::DeleteTouchpoint { which } => {
            let id = m.pick_touchpoint(*which);
            let got = tx.delete_touchpoint(id);
            log.push(format!("delete_touchpoint({id}) -> {got:?}"));
            let want = if m.touchpoints.contains_key(&id.0) {
                m.remove_touchpoint(id.0);
                Ok(())
            } else {
                Err(Expect::NotFound("touchpoint"))
            };
            compare("delete_touchpoint", &got, &want)
        }
        Op::Relate { from, kind, to } => {
            let (from, kind, to) = (
                m.pick_customer(*from),
                relation_kind(*kind),
                m.pick_customer(*to),
            );
            let got = tx.relate(from, kind, to);
            log.push(format!("relate({from}, {kind:?}, {to}) -> {got:?}"));
            let want = if from == to {
                Err(Expect::Invalid(Refusal::RelationToItself))
            } else if !m.customers.contains_key(&from.0) || !m.customers.contains_key(&to.0) {
                Err(Expect::NotFound("customer"))
            } else {
                m.relations.insert((from.0, kind as u8, to.0));
                Ok(())
            };
            compare("relate", &got, &want)
        }
        Op::Unrelate { from, kind, to } => {
            // Mostly undo an existing relation; otherwise an arbitrary (often absent) one.
            let (from, kind, to) = match m.relations.iter().nth(*from as usize % 8) {
                Some(&(f, k, t)) if *to < 200 => (
                    CustomerId(f),
                    RelationKind::ALL
                        .into_iter()
                        .find(|x| *x as u8 == k)
                        .unwrap(),
                    CustomerId(t),
                ),
                _ => (
                    m.pick_customer(*from),
                    relation_kind(*kind),
                    m.pick_customer(*to),
                ),
            };
            let got = tx.unrelate(from, kind, to);
            log.push(format!("unrelate({from}, {kind:?}, {to}) -> {got:?}"));
            let want = Ok(m.relations.remove(&(from.0, kind as u8, to.0)));
            compare("unrelate", &got, &want)
        }
        Op::Reopen | Op::Batch { .. } | Op::Group { .. } => unreachable!("top-level only"),
    }
}

/// One step of the state machine, then the full comparison.
fn run_op(
    db: &mut Option<Database>,
    path: &Path,
    m: &mut Model,
    op: &Op,
    log: &mut Vec<String>,
) -> Result<(), String> {
    let handle = db.as_ref().unwrap();
    match op {
        Op::Reopen => {
            log.push("reopen".into());
            *db = None;
            *db = Some(Database::open(path).map_err(|e| format!("reopen failed: {e}"))?);
        }
        Op::Batch { records, bad } => {
            let mut inputs = Vec::new();
            let mut expected = Vec::new();
            for spec in records {
                let (i, e) = m.customer_input(spec, true);
                inputs.push(i);
                expected.push(e);
            }
            let mut want_err = None;
            if let Some((at, kind)) = bad {
                let at = *at as usize % (inputs.len() + 1);
                let (bad_input, field, rule) = bad_customer(*kind);
                inputs.insert(at, bad_input);
                want_err = Some(Expect::Validation {
                    record: Some(at),
                    field,
                    rule,
                });
            }
            let got = handle.write(|tx| tx.insert_customers(&inputs));
            log.push(format!("db.write(insert_customers({inputs:?})) -> {got:?}"));
            let want = match want_err {
                Some(e) => Err(e),
                None => {
                    // Sequentially on a scratch model; the whole batch rolls back on a failure.
                    let mut scratch = m.clone();
                    let mut ids = Vec::new();
                    let mut failure = None;
                    for (i, e) in expected.into_iter().enumerate() {
                        match scratch.insert_customer(e) {
                            Ok(id) => ids.push(id),
                            Err(x) => {
                                failure = Some(Expect::InRecord(i, Box::new(x)));
                                break;
                            }
                        }
                    }
                    match failure {
                        Some(x) => Err(x),
                        None => {
                            *m = scratch;
                            Ok(ids)
                        }
                    }
                }
            };
            compare("insert_customers batch", &got, &want)?;
        }
        Op::Group { ops, commit } => {
            log.push(format!("begin group (commit: {commit})"));
            let before = m.clone();
            let mut tx = handle.begin_write().map_err(|e| e.to_string())?;
            for op in ops {
                step(&mut tx, m, op, log)?;
            }
            if *commit {
                tx.commit()
                    .map_err(|e| format!("group commit failed: {e}"))?;
            } else {
                drop(tx);
                *m = before;
            }
            log.push("end group".into());
        }
        op => {
            let mut tx = handle.begin_write().map_err(|e| e.to_string())?;
            step(&mut tx, m, op, log)?;
            // Committed even if the call failed: a refused call must have written nothing.
            tx.commit()
                .map_err(|e| format!("commit after the call failed: {e}"))?;
        }
    }
    check(db.as_ref().unwrap(), m)
}

/// An invalid customer for a batch: (record, field, rule).
fn bad_customer(kind: u8) -> (Customer, &'static str, Rule) {
    match kind % 3 {
        0 => (Customer::person("王先生"), "name", Rule::NamePlaceholder),
        1 => (
            Customer {
                phones: vec!["138001".into()],
                ..Customer::person("王小明")
            },
            "phones",
            Rule::PhoneTooShort,
        ),
        _ => {
            let good = &NATIONAL_IDS[0];
            let last = good.chars().last().unwrap();
            let wrong = if last == '1' { '2' } else { '1' };
            let id = format!("{}{wrong}", &good[..17]);
            (
                person_with_id("李华", &id),
                "national_id",
                Rule::NationalIdCheckDigit,
            )
        }
    }
}

/// A person with a national ID.
fn person_with_id(name: &str, id: &str) -> Customer {
    Customer {
        party: Party::Person(Person {
            name: name.into(),
            national_id: Some(id.into()),
            ..Person::default()
        }),
        ..Customer::person("")
    }
}

macro_rules! ensure_eq {
    ($db:expr, $model:expr, $($ctx:tt)+) => {{
        let (db, model) = (&$db, &$model);
        if db != model {
            return Err(format!("{}:\n  db    {:?}\n  model {:?}", format!($($ctx)+), db, model));
        }
    }};
}

fn ok<T>(r: autocrm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e} ({e:?})"))
}

/// The whole database against the model, through a fresh read transaction.
fn check(db: &Database, m: &Model) -> Result<(), String> {
    let r = ok(db.begin_read(), "begin_read")?;

    // Customers and their unique / non-unique indexes.
    let ids: Vec<CustomerId> = m.customers.keys().map(|k| CustomerId(*k)).collect();
    ensure_eq!(ok(r.customer_ids(), "customer_ids")?, ids, "customer ids");
    ensure_eq!(
        ok(r.customer_count(), "customer_count")?,
        ids.len() as u64,
        "customer count"
    );
    let all: Vec<(CustomerId, Customer)> = m
        .customers
        .iter()
        .map(|(id, c)| (CustomerId(*id), c.clone()))
        .collect();
    ensure_eq!(
        ok(r.all_customers(), "all_customers")?,
        all,
        "every customer in one scan"
    );
    ensure_eq!(
        ok(r.customer_id_range(), "customer_id_range")?,
        ids.first().copied().zip(ids.last().copied()),
        "lowest and highest customer id"
    );
    if let Some(mid) = ids.get(ids.len() / 2) {
        // Two range scans split at an existing id give the whole table, in order.
        let mut halves = Vec::new();
        ok(
            r.each_customer(..*mid, |id, c| halves.push((id, c))),
            "each_customer",
        )?;
        ok(
            r.each_customer(*mid.., |id, c| halves.push((id, c))),
            "each_customer",
        )?;
        ensure_eq!(halves, all, "each_customer over two ranges");
    }
    for (id, c) in &m.customers {
        ensure_eq!(
            ok(r.customer(CustomerId(*id)), "customer")?,
            *c,
            "customer C{id}"
        );
    }
    for id in &m.dead_customers {
        let c = CustomerId(*id);
        if !matches!(r.customer(c), Err(Error::NotFound { .. })) {
            return Err(format!("deleted customer {c} still readable"));
        }
        ensure_eq!(
            ok(r.rollup(c), "rollup")?,
            Rollup::default(),
            "rollup of deleted {c}"
        );
        ensure_eq!(
            ok(r.relations_of(c), "relations_of")?,
            vec![],
            "relations of deleted {c}"
        );
        ensure_eq!(
            ok(r.timeline(c, None, 3), "timeline")?.items,
            vec![],
            "timeline of deleted {c}"
        );
    }
    for (i, nid) in NATIONAL_IDS.iter().enumerate() {
        let want = m.holder_of_national_id(nid).map(CustomerId);
        let (input, _) = nid_input(i as u8, i % 2 == 1);
        ensure_eq!(
            ok(r.customer_by_national_id(&input), "customer_by_national_id")?,
            want,
            "customer_by_national_id({input:?})"
        );
    }
    for (i, (bare, _)) in PHONES.iter().enumerate() {
        let (input, _) = phone_input(i as u8, i % 2 == 0);
        ensure_eq!(
            ok(r.customers_by_phone(&input), "customers_by_phone")?,
            m.with_phone(bare),
            "customers_by_phone({input:?})"
        );
    }

    // Vehicles, their indexes and ownership.
    ensure_eq!(
        ok(r.vehicle_count(), "vehicle_count")?,
        m.vehicles.len() as u64,
        "vehicle count"
    );
    for (id, v) in &m.vehicles {
        let vid = VehicleId(*id);
        ensure_eq!(ok(r.vehicle(vid), "vehicle")?, *v, "vehicle {vid}");
        ensure_eq!(
            ok(r.ownership(vid), "ownership")?,
            OwnershipHistory(m.ownership[id].clone()),
            "ownership of {vid}"
        );
    }
    for (i, vin) in VINS.iter().enumerate() {
        let (input, _) = vin_input(i as u8, i % 2 == 0);
        ensure_eq!(
            ok(r.vehicle_by_vin(&input), "vehicle_by_vin")?,
            m.vehicle_with(|v| v.vin == *vin).map(VehicleId),
            "vehicle_by_vin({input:?})"
        );
    }
    for (i, (bare, _)) in PLATES.iter().enumerate() {
        let (input, _) = plate_input(i as u8, i % 2 == 1);
        ensure_eq!(
            ok(r.vehicle_by_plate(&input), "vehicle_by_plate")?,
            m.vehicle_with(|v| v.plate.as_deref() == Some(*bare))
                .map(VehicleId),
            "vehicle_by_plate({input:?})"
        );
    }

    // Touchpoints.
    ensure_eq!(
        ok(r.touchpoint_count(), "touchpoint_count")?,
        m.touchpoints.len() as u64,
        "touchpoint count"
    );
    for (id, t) in &m.touchpoints {
        ensure_eq!(
            ok(r.touchpoint(TouchpointId(*id)), "touchpoint")?,
            *t,
            "touchpoint T{id}"
        );
    }
    for id in &m.dead_touchpoints {
        if !matches!(r.touchpoint(TouchpointId(*id)), Err(Error::NotFound { .. })) {
            return Err(format!("deleted touchpoint T{id} still readable"));
        }
    }

    // Per customer: vehicles, rollup, timeline paging, relations, 360° view.
    for id in m.customers.keys() {
        let c = CustomerId(*id);
        let owned = ok(r.vehicles_of(c), "vehicles_of")?;
        let owned_ids: Vec<VehicleId> = owned.iter().map(|o| o.id).collect();
        let want_ids: Vec<VehicleId> = m.vehicles_of(*id).into_iter().map(VehicleId).collect();
        ensure_eq!(owned_ids, want_ids, "vehicles_of({c})");
        for o in &owned {
            ensure_eq!(
                o.vehicle,
                m.vehicles[&o.id.0],
                "vehicles_of({c}) record {}",
                o.id
            );
            ensure_eq!(
                o.ownership.0,
                m.ownership[&o.id.0],
                "vehicles_of({c}) ownership {}",
                o.id
            );
        }

        let rollup = m.rollup(*id);
        ensure_eq!(ok(r.rollup(c), "rollup")?, rollup, "rollup of {c}");

        let want_timeline = m.timeline(*id);
        let mut got_timeline = Vec::new();
        let mut cursor: Option<TimelineCursor> = None;
        let mut pages = 0;
        loop {
            let page = ok(r.timeline(c, cursor, 3), "timeline")?;
            pages += 1;
            if page.items.len() > 3 || (page.next.is_some() && page.items.len() != 3) {
                return Err(format!("timeline of {c}: malformed page {page:?}"));
            }
            got_timeline.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
            if pages > 100 {
                return Err(format!("timeline of {c}: paging does not end"));
            }
        }
        ensure_eq!(got_timeline, want_timeline, "timeline of {c} in pages of 3");
        ensure_eq!(
            pages,
            want_timeline.len().div_ceil(3).max(1),
            "timeline pages of {c}"
        );

        let mut relations = ok(r.relations_of(c), "relations_of")?;
        relations.sort();
        ensure_eq!(relations, m.relations_of(*id), "relations_of({c})");

        let view = ok(r.customer_360(c, 3), "customer_360")?;
        ensure_eq!(view.customer, m.customers[id], "360 of {c}: customer");
        ensure_eq!(view.rollup, rollup, "360 of {c}: rollup");
        let (cur, past): (Vec<u64>, Vec<u64>) = m.vehicles_of(*id).into_iter().partition(|v| {
            m.ownership[v]
                .last()
                .is_some_and(|o| o.to.is_none() && o.customer == c)
        });
        ensure_eq!(
            view.current_vehicles
                .iter()
                .map(|v| v.id.0)
                .collect::<Vec<_>>(),
            cur,
            "360 of {c}: current vehicles"
        );
        ensure_eq!(
            view.past_vehicles
                .iter()
                .map(|v| v.id.0)
                .collect::<Vec<_>>(),
            past,
            "360 of {c}: past vehicles"
        );
        ensure_eq!(
            view.timeline.items,
            want_timeline.iter().take(3).cloned().collect::<Vec<_>>(),
            "360 of {c}: first timeline page"
        );
    }
    Ok(())
}

fn run_sequence(ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join("crm.redb");
    let mut db = Some(Database::open(&path).map_err(|e| TestCaseError::fail(e.to_string()))?);
    let mut model = Model::new();
    let mut log = Vec::new();
    check(db.as_ref().unwrap(), &model).map_err(TestCaseError::fail)?;
    for (i, op) in ops.iter().enumerate() {
        if let Err(e) = run_op(&mut db, &path, &mut model, op, &mut log) {
            return Err(TestCaseError::fail(format!(
                "after op #{i} ({op:?}): {e}\nresolved calls:\n  {}",
                log.join("\n  ")
            )));
        }
    }
    Ok(())
}

#[test]
fn database_agrees_with_the_model() {
    let config = ProptestConfig {
        // PROPTEST_CASES=5000 for a deeper search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        // Only this file is ours: keep regressions out of the source tree.
        failure_persistence: None,
        // Every shrink step replays a whole sequence; allow enough of them to get it short.
        max_shrink_iters: 2048,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    // A few customers and vehicles up front so that most operations meet a populated store.
    let setup = (
        proptest::collection::vec(cust_spec().prop_map(Op::InsertCustomer), 0..4),
        proptest::collection::vec(
            (
                (0u8..5, any::<bool>()),
                plate_sel(),
                (any::<u8>(), any::<u8>()),
            )
                .prop_map(|(vin, plate, owner)| Op::InsertVehicle {
                    vin,
                    plate,
                    owner: Some(owner),
                }),
            0..3,
        ),
    );
    let ops =
        (setup, proptest::collection::vec(op(), 1..36)).prop_map(|((mut all, vehicles), rest)| {
            all.extend(vehicles);
            all.extend(rest);
            all
        });
    let result = runner.run(&ops, |ops| run_sequence(&ops));
    if std::env::var_os("MODEL_STATS").is_some() {
        // How often each call succeeded or failed with each error code over all cases.
        STATS.with(|st| st.borrow().iter().for_each(|(k, v)| eprintln!("{v:6} {k}")));
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Focused tests.

fn counts(db: &Database) -> (u64, u64, u64) {
    let r = db.begin_read().unwrap();
    (
        r.customer_count().unwrap(),
        r.vehicle_count().unwrap(),
        r.touchpoint_count().unwrap(),
    )
}

#[test]
fn a_batch_with_one_bad_record_writes_nothing_and_names_it() {
    let db = Database::in_memory().unwrap();
    let batch = vec![
        Customer {
            phones: vec!["13800138000".into()],
            ..Customer::person("王小明")
        },
        Customer::person("李华"),
        Customer::person("王先生"),
        Customer::person("张伟"),
    ];
    let err = db.write(|tx| tx.insert_customers(&batch)).unwrap_err();
    match &err {
        Error::Validation(v) => {
            assert_eq!(v.record, Some(2), "{err}");
            assert_eq!(v.field, "name");
            assert_eq!(v.rule, Rule::NamePlaceholder);
            assert_eq!(v.value, "王先生");
        }
        e => panic!("expected a validation error, got {e:?}"),
    }
    assert_eq!(err.code(), "validation.name_placeholder");
    assert!(err.to_string().starts_with("record 2: "), "{err}");
    assert_eq!(counts(&db), (0, 0, 0));
    let r = db.begin_read().unwrap();
    assert!(r.customers_by_phone("13800138000").unwrap().is_empty());
    drop(r);

    // A batch whose records are valid but collide (here: with an earlier record of the same
    // batch) fails at the colliding record, after earlier ones were written; `write` rolls
    // all of them back, id counter included.
    let nid = NATIONAL_IDS[0].clone();
    let with_id = |name: &str| person_with_id(name, &nid);
    let batch = vec![Customer::person("李华"), with_id("王小明"), with_id("张伟")];
    let err = db.write(|tx| tx.insert_customers(&batch)).unwrap_err();
    match &err {
        Error::InRecord { index, source } => {
            assert_eq!(*index, 2, "{err}");
            assert!(
                matches!(
                    **source,
                    Error::DuplicateKey {
                        field: "national_id",
                        existing: 2,
                        ..
                    }
                ),
                "{source:?}"
            );
        }
        e => panic!("expected InRecord, got {e:?}"),
    }
    assert_eq!(err.code(), "duplicate_key");
    assert_eq!(counts(&db), (0, 0, 0));
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_by_national_id(&nid).unwrap(), None);
    drop(r);
    let id = db
        .write(|tx| tx.insert_customer(&Customer::person("李华")))
        .unwrap();
    assert_eq!(id, CustomerId(1), "a rolled-back batch consumes no ids");
}

#[test]
fn the_same_source_record_twice_is_a_no_op_returning_the_same_id() {
    let db = Database::in_memory().unwrap();
    let src = SourceRef::new("dms", "SO-1001");
    let first = Customer {
        source: Some(src.clone()),
        phones: vec!["13800138000".into()],
        ..Customer::person("王小明")
    };
    let c = db.write(|tx| tx.insert_customer(&first)).unwrap();
    // Delivered again (padded, and with changed data): same id, nothing written.
    let again = Customer {
        source: Some(SourceRef::new(" dms ", " SO-1001")),
        phones: vec!["13912345678".into()],
        ..Customer::person("李华")
    };
    assert_eq!(db.write(|tx| tx.insert_customer(&again)).unwrap(), c);
    let r = db.begin_read().unwrap();
    assert_eq!(r.customer_count().unwrap(), 1);
    assert_eq!(r.customer(c).unwrap().name(), "王小明");
    assert!(r.customers_by_phone("13912345678").unwrap().is_empty());
    drop(r);

    let at = d("2024-05-01").at(10, 0, 0);
    let tp = Touchpoint {
        source: Some(SourceRef::new("dms", "RO-7")),
        amount: Some(Money::yuan(800)),
        ..Touchpoint::new(at, c, Channel::Showroom, TouchpointKind::ServiceVisit)
    };
    let t1 = db.write(|tx| tx.insert_touchpoint(&tp)).unwrap();
    let t2 = db.write(|tx| tx.insert_touchpoint(&tp)).unwrap();
    assert_eq!(t1, t2);
    // Twice more in one batch, and once in the same transaction as the first write.
    let ids = db
        .write(|tx| tx.insert_touchpoints(&[tp.clone(), tp.clone()]))
        .unwrap();
    assert_eq!(ids, vec![t1, t1]);
    let tp2 = Touchpoint {
        source: Some(SourceRef::new("dms", "RO-8")),
        ..tp.clone()
    };
    let (a, b) = db
        .write(|tx| Ok((tx.insert_touchpoint(&tp2)?, tx.insert_touchpoint(&tp2)?)))
        .unwrap();
    assert_eq!(a, b);
    let r = db.begin_read().unwrap();
    assert_eq!(r.touchpoint_count().unwrap(), 2);
    let rollup = r.rollup(c).unwrap();
    assert_eq!(rollup.count(TouchpointKind::ServiceVisit), 2);
    assert_eq!(
        rollup.spent(TouchpointKind::ServiceVisit),
        Money::yuan(1600)
    );
    assert_eq!(rollup.service_dates, vec![at.date(), at.date()]);
}

#[test]
fn a_second_open_of_the_same_file_gets_already_open_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crm.redb");
    let first = Database::open(&path).unwrap();
    let id = first
        .write(|tx| tx.insert_customer(&Customer::person("王小明")))
        .unwrap();

    let err = Database::open(&path).err().expect("second open must fail");
    assert!(matches!(err, Error::AlreadyOpen { .. }), "{err:?}");
    assert_eq!(err.code(), "already_open");

    // A transaction keeps the file open after its database handle is gone.
    let read = first.begin_read().unwrap();
    drop(first);
    let err = Database::open(&path)
        .err()
        .expect("open while a transaction lives must fail");
    assert_eq!(err.code(), "already_open");
    assert_eq!(read.customer(id).unwrap().name(), "王小明");
    drop(read);

    let second = Database::open(&path).unwrap();
    assert_eq!(
        second.begin_read().unwrap().customer(id).unwrap().name(),
        "王小明"
    );
}

#[test]
fn a_transferred_vehicle_is_past_for_the_seller_and_current_for_the_buyer() {
    let db = Database::in_memory().unwrap();
    let bought = d("2019-03-01");
    let sold = d("2023-09-15");
    let (a, b, v) = db
        .write(|tx| {
            let a = tx.insert_customer(&Customer::person("王小明"))?;
            let b = tx.insert_customer(&Customer::person("李华"))?;
            let v = tx.insert_vehicle(
                &Vehicle {
                    plate: Some("沪A12345".into()),
                    ..Vehicle::new(VINS[0].clone(), "Volkswagen", "Passat")
                },
                Some((a, bought)),
            )?;
            Ok((a, b, v))
        })
        .unwrap();
    // A transfer dated before the current ownership began is refused and changes nothing.
    let err = db
        .write(|tx| tx.transfer_vehicle(v, b, bought.add_days(-1)))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e.field == "on" && e.rule == Rule::DateOrder),
        "{err:?}"
    );
    db.write(|tx| tx.transfer_vehicle(v, b, sold)).unwrap();

    let r = db.begin_read().unwrap();
    let history = r.ownership(v).unwrap();
    assert_eq!(
        history.0,
        vec![
            Ownership {
                customer: a,
                from: bought,
                to: Some(sold)
            },
            Ownership {
                customer: b,
                from: sold,
                to: None
            },
        ]
    );
    assert_eq!(history.owner_on(d("2020-01-01")), Some(a));
    assert_eq!(history.owner_on(sold), Some(b));

    let seller = r.customer_360(a, 10).unwrap();
    assert!(seller.current_vehicles.is_empty());
    assert_eq!(seller.past_vehicles.len(), 1);
    assert_eq!(seller.past_vehicles[0].id, v);
    assert_eq!(seller.past_vehicles[0].ownership, history);
    assert_eq!(
        (
            seller.rollup.vehicles_current,
            seller.rollup.vehicles_total,
            seller.rollup.first_vehicle
        ),
        (0, 1, Some(bought))
    );

    let buyer = r.customer_360(b, 10).unwrap();
    assert!(buyer.past_vehicles.is_empty());
    assert_eq!(buyer.current_vehicles.len(), 1);
    assert_eq!(buyer.current_vehicles[0].id, v);
    assert_eq!(
        (
            buyer.rollup.vehicles_current,
            buyer.rollup.vehicles_total,
            buyer.rollup.first_vehicle
        ),
        (1, 1, Some(sold))
    );
    assert_eq!(
        r.find_customers(&autocrm::CustomerKey::Plate("沪A12345".into()))
            .unwrap(),
        vec![b]
    );
    drop(r);

    // The seller cannot be deleted: the ownership history keeps every owner.
    let err = db.write(|tx| tx.delete_customer(a)).unwrap_err();
    assert_eq!(err.code(), "invalid_operation.customer_has_vehicles");
}

/// Regression: deleting a customer used to leave its source record in the source index, so
/// delivering that source record again returned the deleted customer's id and wrote nothing.
#[test]
fn a_deleted_customers_source_record_does_not_resolve_to_the_dead_id() {
    let db = Database::in_memory().unwrap();
    let with_src = Customer {
        source: Some(SourceRef::new("crm_import", "C-1")),
        ..Customer::person("王小明")
    };
    let c = db.write(|tx| tx.insert_customer(&with_src)).unwrap();
    db.write(|tx| tx.delete_customer(c)).unwrap();
    match db.write(|tx| tx.insert_customer(&with_src)) {
        // Either a refusal or a live customer is acceptable; a dead id is not.
        Err(_) => {}
        Ok(id) => {
            let r = db.begin_read().unwrap();
            assert!(
                r.customer(id).is_ok(),
                "insert_customer returned {id}, the id of the deleted customer {c}, and wrote nothing"
            );
        }
    }
}

/// Regression: `insert_touchpoints` names the record of a missing reference even in a
/// one-record batch (it used to return a bare `NotFound` there).
#[test]
fn a_one_record_touchpoint_batch_names_the_record_of_a_missing_reference() {
    let db = Database::in_memory().unwrap();
    let t = Touchpoint::new(
        d("2024-05-01").at(10, 0, 0),
        CustomerId(42),
        Channel::Showroom,
        TouchpointKind::Enquiry,
    );
    let two = db
        .write(|tx| tx.insert_touchpoints(&[t.clone(), t.clone()]))
        .unwrap_err();
    assert!(matches!(two, Error::InRecord { index: 0, .. }), "{two:?}");
    let one = db.write(|tx| tx.insert_touchpoints(&[t])).unwrap_err();
    assert!(matches!(one, Error::InRecord { index: 0, .. }), "{one:?}");
}
