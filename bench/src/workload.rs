//! The workload: generated customers resolved to the ids every store assigns, each record both
//! as generated (what autocrm validates) and normalised (what SQLite and raw redb store), and
//! the fixed-seed sequences the read and single-write tests use.
//!
//! All three stores receive the same records in the same order and start from empty files, so
//! autocrm's id counters, raw redb's local counters and SQLite's explicit ids agree: the plan
//! predicts them once and every store uses (autocrm: asserts) the same ids.

use autocrm::{
    Channel, Complaint, Customer, CustomerId, Date, DateTime, Dealer, DealerId, Lead, RelationKind,
    SourceRef, Survey, Touchpoint, TouchpointKind, Vehicle, VehicleId,
};
use autocrm_synth::{CustomerBundle, LoadStats, Network};

use crate::BenchResult;

/// A small, fast, seeded pseudo-random generator (SplitMix64): the same sequence on every
/// machine, no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for picking benchmark keys.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// `count` customer ids drawn uniformly from `1..=customers` with `seed`.
pub fn random_customer_ids(customers: u64, count: usize, seed: u64) -> Vec<CustomerId> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| CustomerId(1 + rng.below(customers)))
        .collect()
}

/// Records of one kind owned by one customer, with consecutive ids from `first_id`.
#[derive(Clone, Debug, Default)]
pub struct Owned<T> {
    /// Id of `stored[0]`; record `i` gets `first_id + i`.
    pub first_id: u64,
    /// Normalised (autocrm's `normalised()`, computed outside the timing): what SQLite and raw
    /// redb store.
    pub stored: Vec<T>,
}

impl<T> Owned<T> {
    /// The records with their ids.
    pub fn with_ids(&self) -> impl Iterator<Item = (u64, &T)> {
        (self.first_id..).zip(&self.stored)
    }
}

/// One vehicle step of a customer: a new vehicle, or a used one passed on from an earlier
/// customer.
#[derive(Clone, Debug)]
pub enum VehicleStep {
    /// A new vehicle with its first owner.
    New {
        /// Its id.
        id: VehicleId,
        /// As generated (dealer id resolved).
        input: Box<Vehicle>,
        /// Normalised.
        stored: Box<Vehicle>,
        /// First day of ownership.
        from: Date,
    },
    /// An existing vehicle passed to this customer.
    Transfer {
        /// The vehicle.
        id: VehicleId,
        /// Day of the transfer.
        on: Date,
    },
}

/// One customer and everything written with it.
#[derive(Clone, Debug)]
pub struct CustomerRecords {
    /// Its id.
    pub id: CustomerId,
    /// The customer, normalised (the generated input is in [`Batch::customer_inputs`]).
    pub stored: Customer,
    /// Relations to earlier customers.
    pub relations: Vec<(RelationKind, CustomerId)>,
    /// Vehicles, in generation order.
    pub vehicles: Vec<VehicleStep>,
    /// Touchpoints.
    pub touchpoints: Owned<Touchpoint>,
    /// Leads.
    pub leads: Owned<Lead>,
    /// Complaints.
    pub complaints: Owned<Complaint>,
    /// Surveys.
    pub surveys: Owned<Survey>,
}

/// The customers of one ingest transaction, prepared before the clock starts.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The customers as generated, for autocrm's batch `insert_customers`.
    pub customer_inputs: Vec<Customer>,
    /// The batch's touchpoints as generated, in customer order, for autocrm's batch
    /// `insert_touchpoints` (as are leads, complaints and surveys below).
    pub touchpoint_inputs: Vec<Touchpoint>,
    /// Leads as generated.
    pub lead_inputs: Vec<Lead>,
    /// Complaints as generated.
    pub complaint_inputs: Vec<Complaint>,
    /// Surveys as generated.
    pub survey_inputs: Vec<Survey>,
    /// Per customer: its normalised record and everything written with it.
    pub customers: Vec<CustomerRecords>,
    /// Rows this batch writes (customers, new vehicles, touchpoints, leads, complaints,
    /// surveys, relations; transfers update a vehicle and are not counted).
    pub rows: u64,
}

/// Resolves generated bundles into batches, assigning the ids the stores will assign.
pub struct Plan {
    dealers: u32,
    next_customer: u64,
    next_vehicle: u64,
    next_touchpoint: u64,
    next_lead: u64,
    next_complaint: u64,
    next_survey: u64,
    /// `vehicles[vehicle_start[i] + k]` is vehicle `k` of customer index `i`.
    vehicles: Vec<VehicleId>,
    vehicle_start: Vec<usize>,
    customers: Vec<CustomerId>,
    /// Records resolved so far.
    pub counts: LoadStats,
}

impl Plan {
    /// A plan for a network with `dealers` dealers (ids `1..=dealers`).
    pub fn new(dealers: usize) -> Plan {
        Plan {
            dealers: u32::try_from(dealers).expect("fewer than 4 billion dealers"),
            next_customer: 1,
            next_vehicle: 1,
            next_touchpoint: 1,
            next_lead: 1,
            next_complaint: 1,
            next_survey: 1,
            vehicles: Vec::new(),
            vehicle_start: Vec::new(),
            customers: Vec::new(),
            counts: LoadStats {
                dealers: dealers as u64,
                ..LoadStats::default()
            },
        }
    }

    /// The dealers' stored ids: dealer `d` of the generator is `DealerId(d + 1)`.
    fn dealer(&self, local: Option<DealerId>) -> Option<DealerId> {
        local.map(|d| {
            debug_assert!(d.0 < self.dealers);
            DealerId(d.0 + 1)
        })
    }

    /// The next touchpoint id (for single writes after the ingest).
    pub fn take_touchpoint_id(&mut self) -> u64 {
        let id = self.next_touchpoint;
        self.next_touchpoint += 1;
        id
    }

    /// Resolves one generated customer bundle and appends it to `batch`.
    pub fn add(&mut self, b: &CustomerBundle, batch: &mut Batch) -> BenchResult<()> {
        assert_eq!(
            b.index,
            self.customers.len(),
            "bundles arrive in index order"
        );
        let me = CustomerId(self.next_customer);
        self.next_customer += 1;
        self.customers.push(me);
        self.vehicle_start.push(self.vehicles.len());
        let before = self.counts.records();

        let relations: Vec<(RelationKind, CustomerId)> = b
            .relations
            .iter()
            .map(|&(kind, earlier)| (kind, self.customers[earlier]))
            .collect();
        self.counts.relations += relations.len() as u64;

        let mut vehicles = Vec::with_capacity(b.vehicles.len());
        for sv in &b.vehicles {
            match sv.previous_owner {
                Some((owner, k)) => {
                    let id = self.vehicles[self.vehicle_start[owner] + k];
                    self.vehicles.push(id);
                    self.counts.transfers += 1;
                    vehicles.push(VehicleStep::Transfer {
                        id,
                        on: sv.acquired,
                    });
                }
                None => {
                    let id = VehicleId(self.next_vehicle);
                    self.next_vehicle += 1;
                    self.vehicles.push(id);
                    self.counts.vehicles += 1;
                    let input = Vehicle {
                        selling_dealer: self.dealer(sv.vehicle.selling_dealer),
                        ..sv.vehicle.clone()
                    };
                    let stored = Box::new(input.normalised()?);
                    vehicles.push(VehicleStep::New {
                        id,
                        input: Box::new(input),
                        stored,
                        from: sv.acquired,
                    });
                }
            }
        }

        let local = &self.vehicles[self.vehicle_start[b.index]..];
        let vehicle = |v: Option<VehicleId>| v.map(|v| local[v.0 as usize]);
        let touchpoints: Vec<Touchpoint> = b
            .touchpoints
            .iter()
            .map(|t| Touchpoint {
                customer: me,
                vehicle: vehicle(t.vehicle),
                dealer: self.dealer(t.dealer),
                ..t.clone()
            })
            .collect();
        let leads: Vec<Lead> = b
            .leads
            .iter()
            .map(|l| Lead {
                customer: me,
                dealer: self.dealer(l.dealer),
                ..l.clone()
            })
            .collect();
        let complaints: Vec<Complaint> = b
            .complaints
            .iter()
            .map(|c| Complaint {
                customer: me,
                vehicle: vehicle(c.vehicle),
                dealer: self.dealer(c.dealer),
                ..c.clone()
            })
            .collect();
        let surveys: Vec<Survey> = b
            .surveys
            .iter()
            .map(|s| Survey {
                customer: me,
                dealer: self.dealer(s.dealer),
                ..s.clone()
            })
            .collect();

        let touchpoints = owned(
            &mut self.next_touchpoint,
            &mut self.counts.touchpoints,
            touchpoints,
            &mut batch.touchpoint_inputs,
            Touchpoint::normalised,
        )?;
        let leads = owned(
            &mut self.next_lead,
            &mut self.counts.leads,
            leads,
            &mut batch.lead_inputs,
            Lead::normalised,
        )?;
        let complaints = owned(
            &mut self.next_complaint,
            &mut self.counts.complaints,
            complaints,
            &mut batch.complaint_inputs,
            Complaint::normalised,
        )?;
        let surveys = owned(
            &mut self.next_survey,
            &mut self.counts.surveys,
            surveys,
            &mut batch.survey_inputs,
            Survey::normalised,
        )?;

        self.counts.customers += 1;
        batch.customer_inputs.push(b.customer.clone());
        batch.customers.push(CustomerRecords {
            id: me,
            stored: b.customer.normalised()?,
            relations,
            vehicles,
            touchpoints,
            leads,
            complaints,
            surveys,
        });
        batch.rows += self.counts.records() - before;
        Ok(())
    }
}

/// Numbers `input` from `*next`, counts it, normalises every record and appends the input
/// to the batch's `inputs`.
fn owned<T, E>(
    next: &mut u64,
    count: &mut u64,
    mut input: Vec<T>,
    inputs: &mut Vec<T>,
    normalise: impl Fn(&T) -> Result<T, E>,
) -> Result<Owned<T>, E> {
    let stored = input.iter().map(normalise).collect::<Result<Vec<_>, E>>()?;
    let first_id = *next;
    *next += input.len() as u64;
    *count += input.len() as u64;
    inputs.append(&mut input);
    Ok(Owned { first_id, stored })
}

/// Streams `network`'s customers as batches of `size`, resolved by `plan`. Generation and
/// normalisation happen here, outside any timing.
pub fn batches<'a>(
    network: &'a Network,
    plan: &'a mut Plan,
    size: usize,
) -> impl Iterator<Item = BenchResult<Batch>> + 'a {
    let mut bundles = network.customers().peekable();
    std::iter::from_fn(move || {
        bundles.peek()?;
        let mut batch = Batch::default();
        for b in bundles.by_ref().take(size) {
            if let Err(e) = plan.add(&b, &mut batch) {
                return Some(Err(e));
            }
        }
        Some(Ok(batch))
    })
}

/// The dealers as stored: autocrm's dealer normalisation is crate-private, and the generator's
/// dealers are already in normal form (upper-case codes, trimmed names), so SQLite and raw redb
/// store them as generated.
pub fn stored_dealers(network: &Network) -> Vec<(DealerId, Dealer)> {
    network
        .dealers()
        .iter()
        .enumerate()
        .map(|(i, d)| (DealerId(i as u32 + 1), d.clone()))
        .collect()
}

/// One single-touchpoint transaction of the durable-write test.
#[derive(Clone, Debug)]
pub struct SingleWrite {
    /// The id every store assigns to it.
    pub id: u64,
    /// As a caller would pass it.
    pub input: Touchpoint,
    /// Normalised.
    pub stored: Touchpoint,
}

/// `count` single writes: call-centre callbacks to random existing customers, each with its
/// own source record, at increasing times.
pub fn single_writes(plan: &mut Plan, count: usize, seed: u64) -> BenchResult<Vec<SingleWrite>> {
    let mut rng = Rng::new(seed);
    let customers = plan.counts.customers;
    let dealers = u64::from(plan.dealers);
    let start = Date::from_ymd(2025, 6, 2)
        .expect("valid date")
        .at(9, 0, 0)
        .seconds();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let customer = CustomerId(1 + rng.below(customers));
        let dealer = (dealers > 0).then(|| DealerId(1 + rng.below(dealers) as u32));
        let input = Touchpoint {
            dealer,
            score: Some((rng.below(11)) as u8),
            outcome: Some("reached".into()),
            note: Some("benchmark callback: customer satisfied with the last service".into()),
            source: Some(SourceRef::new("bench_call_centre", format!("cb-{i:07}"))),
            ..Touchpoint::new(
                DateTime::from_seconds(start + 60 * i as i64),
                customer,
                Channel::PhoneOut,
                TouchpointKind::Callback,
            )
        };
        let stored = input.normalised()?;
        out.push(SingleWrite {
            id: plan.take_touchpoint_id(),
            input,
            stored,
        });
    }
    Ok(out)
}
