//! A deterministic synthetic dealer network for examples, tests and benchmarks.
//!
//! [`Network::new`] builds the dealers of a Volkswagen-like brand in China (4S shops and service
//! stations across the six sales regions) and then generates customers one at a time, each with
//! the vehicles they bought, their leads, complaints and surveys, and every touchpoint of the
//! recorded history. Nothing is kept in memory but the dealers: customer `i` is generated from a
//! random stream seeded by `(seed, i)`, so [`Network::customers`] streams any number of customers
//! in constant memory and [`Network::customer`] regenerates any single one on its own.
//!
//! # The model
//!
//! * **Dealers.** About 85% are 4S shops (sales and service), the rest service-only stations;
//!   each sits in a real city of a real province, has a carmaker code such as `SH0001`, and a
//!   size that makes some dealers busier than others. Every customer has a home dealer; cars are
//!   bought at the home dealer or, for customers of a service station, at the nearest 4S shop.
//! * **Customers.** About 7% are organisations (fleets and key accounts with a valid unified
//!   social credit code) buying 2–6 fleet cars in one to three batches, with relations to earlier
//!   person customers as their decision maker, purchaser and drivers. About 15% are prospects
//!   (A-card) who only have leads and enquiry-stage touchpoints. The rest are private owners
//!   (C-card) with one car, sometimes two (a replacement, often an upgrade, or an additional
//!   car); about 3% of them bought a used car that an earlier customer traded in. Persons carry
//!   plausible Chinese names, a resident ID whose region, birth date, gender digit and check digit
//!   agree, and a unique mobile number; some are relatives of, or were referred by, earlier
//!   customers.
//! * **Vehicles.** Models of a Volkswagen/Audi line-up with Chinese WMIs (`LSV`, `LFV`) and
//!   valid check digits, plates of the home city (all digits in small networks, at most two
//!   letters up to a million customers), purchase ≤ invoice ≤ registration dates, a three-year
//!   warranty, and insurance and inspection dates as of the end of the history.
//! * **Segments.** Every owner has a [`Segment`] that drives the cadence below; it is exposed on
//!   the bundle as ground truth for churn models and rollups.
//!
//! # Cadence
//!
//! The history covers [`SynthConfig::years`] years ending at [`SynthConfig::as_of`]; nothing is
//! recorded outside it, and nothing about a vehicle before its owner acquired it. A new car's
//! sale is preceded by a lead, often an enquiry and a test drive, and followed by order,
//! purchase, delivery and callbacks on days 3, 7 and 30. Its first service comes 2–4 months
//! after delivery, then visits follow the owner's [`Segment`]: loyal owners (about 55%) come 2–4
//! times a year, swinging owners about once a year and often to another dealer of the province,
//! and churners (about 25%) come about 1–1.5 times a year until a random point, then never
//! again. A car traded in stops appearing on its old owner's timeline on the day it goes. Around the visits there
//! are service callbacks, CSI surveys, SSI surveys after sales, occasional complaints (about 3%
//! of customers), roadside rescues, club activities, forum posts and referrals. Mileage grows
//! with the car's age at 8,000–22,000 km a year (more for fleet cars).
//!
//! # Local ids
//!
//! A [`CustomerBundle`] is self-contained; its records use local ids that a loader maps to the
//! ids the store assigns: `CustomerId(0)` means the bundle's own customer, `VehicleId(k)` means
//! `vehicles[k]`, and `DealerId(d)` means `Network::dealers()[d]`. Relations and used-car
//! sellers always refer to earlier customers, so a loader that writes bundles in index order can
//! resolve every reference to a store id it already holds.
//!
//! # Determinism and limits
//!
//! The generator uses its own SplitMix64 streams and integer arithmetic; floating point only
//! turns probabilities into thresholds with basic IEEE 754 operations, which every platform
//! rounds identically. A configuration therefore produces the same network on every platform and
//! Rust version. Natural keys (resident IDs, credit codes, phones, VINs, plates and source
//! record ids) are derived from the customer index through bijections and are unique for networks
//! of up to 7,000,000 customers.

use autocrm::complaint::Complaint;
use autocrm::customer::{Customer, RelationKind};
use autocrm::date::Date;
use autocrm::dealer::{Dealer, DealerKind};
use autocrm::lead::Lead;
use autocrm::survey::Survey;
use autocrm::touchpoint::Touchpoint;
use autocrm::vehicle::Vehicle;

pub mod dirty;
pub mod load;
pub use load::LoadStats;

// ---------------------------------------------------------------------------------------------
// Public API

/// How big a network to generate, from which seed, and over which period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    /// Seed of every random choice: the same configuration gives the same network everywhere.
    pub seed: u64,
    /// Number of customers (persons and organisations).
    pub customers: usize,
    /// Number of dealers; at least one is generated, and dealer 0 is always a 4S shop.
    pub dealers: usize,
    /// The last day of the recorded history.
    pub as_of: Date,
    /// Length of the recorded history in years, ending at `as_of` (at least 1 is used).
    pub years: u32,
}

impl SynthConfig {
    /// A configuration for `customers` customers: seed 42, one dealer per 2,000 customers (at
    /// least 4, at most 2,000), five years of history ending 2026-06-30.
    pub fn new(customers: usize) -> SynthConfig {
        SynthConfig {
            seed: 42,
            customers,
            dealers: (customers / 2000).clamp(4, 2000),
            as_of: Date::from_days(20_634), // 2026-06-30
            years: 5,
        }
    }
}

/// How a customer behaves towards the brand's workshops: the ground truth behind the generated
/// history, useful to check churn models and rollups against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// No vehicle: leads and enquiries only (A-card).
    Prospect,
    /// Services every car 2–4 times a year at the home dealer.
    Loyal,
    /// Services about once or twice a year, sometimes at another dealer.
    Swinging,
    /// Stops coming after a random point of the history.
    Churner,
}

/// A vehicle of a [`CustomerBundle`] and how the customer came to own it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthVehicle {
    /// The vehicle; `selling_dealer` is a dealer index (`DealerId(d)` is `dealers()[d]`).
    pub vehicle: Vehicle,
    /// The day the customer acquired it: the purchase date of a new car, the transfer date of a
    /// used one.
    pub acquired: Date,
    /// For a used car bought from an earlier customer: that customer's global index and the
    /// vehicle's index in that customer's bundle. `vehicle` is then equal to the earlier one and
    /// a loader transfers it (on `acquired`) instead of inserting it again.
    pub previous_owner: Option<(usize, usize)>,
}

/// One customer with everything that happened to them, using bundle-local ids (see the module
/// documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerBundle {
    /// Global index of the customer, `0..config.customers`.
    pub index: usize,
    /// How the customer behaves (ground truth of the generator).
    pub segment: Segment,
    /// The customer.
    pub customer: Customer,
    /// Vehicles the customer bought new or used, in order of acquisition.
    pub vehicles: Vec<SynthVehicle>,
    /// Every touchpoint, sorted by `at`. `customer` is `CustomerId(0)` (this customer),
    /// `vehicle` is `Some(VehicleId(k))` for `vehicles[k]`, `dealer` is a dealer index.
    pub touchpoints: Vec<Touchpoint>,
    /// Leads, with the same local-id convention.
    pub leads: Vec<Lead>,
    /// Complaints, with the same local-id convention.
    pub complaints: Vec<Complaint>,
    /// Surveys, with the same local-id convention.
    pub surveys: Vec<Survey>,
    /// Relations from this customer to earlier customers, by global index (always `< index`).
    pub relations: Vec<(RelationKind, usize)>,
}

/// A generated dealer network: the dealers, and customers generated on demand.
#[derive(Clone, Debug)]
pub struct Network {
    config: SynthConfig,
    dealers: Vec<Dealer>,
    sites: Vec<Site>,
    /// Cumulative dealer sizes, for picking a customer's home dealer.
    cumulative: Vec<u64>,
    /// Dealer indexes per province.
    by_province: Vec<Vec<u32>>,
    /// First day of the recorded history.
    start: Date,
    keys: Keys,
    /// Number of plate serials in use: the fewest-letter classes that hold every vehicle slot.
    plate_space: u64,
}

impl Network {
    /// Builds the dealers of the network described by `config`. Customers are generated lazily.
    pub fn new(config: SynthConfig) -> Network {
        let as_of = config.as_of;
        let years = config.years.clamp(1, 100) as i32;
        let start = as_of.add_months(-12 * years).max(EARLIEST_DATE);
        let n = config.dealers.max(1);
        let mut rng = Rng::for_key(config.seed, TAG_DEALERS, 0);
        let mut dealers = Vec::with_capacity(n);
        let mut sites = Vec::with_capacity(n);
        let mut by_province = vec![Vec::new(); PROVINCES.len()];
        let mut counters = vec![0u32; PROVINCES.len()];
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0u64;
        for d in 0..n {
            let p = rng.weighted_index(PROVINCES.len(), |i| PROVINCES[i].weight);
            let prov = &PROVINCES[p];
            let c = rng.weighted_index(prov.cities.len(), |i| if i == 0 { 3 } else { 1 });
            let city = &prov.cities[c];
            let kind = if d == 0 || rng.chance(0.85) {
                DealerKind::FourS
            } else {
                DealerKind::ServiceStation
            };
            counters[p] += 1;
            let group = rng.pick(DEALER_GROUPS);
            let name = match kind {
                DealerKind::FourS => format!("{}{group}大众4S店", city.name),
                DealerKind::ServiceStation => format!("{}{group}大众特约服务站", city.name),
            };
            dealers.push(Dealer {
                code: format!("{}{:04}", prov.code, counters[p]),
                name,
                region: prov.region.to_string(),
                province: prov.short.to_string(),
                city: city.name.to_string(),
                kind,
            });
            let size = match kind {
                DealerKind::FourS => 2 + rng.below(5),
                DealerKind::ServiceStation => 1 + rng.below(2),
            };
            total += size;
            cumulative.push(total);
            by_province[p].push(d as u32);
            sites.push(Site {
                province: p as u8,
                city: c as u8,
                sales: 0,
            });
        }
        for d in 0..n {
            sites[d].sales = if dealers[d].kind == DealerKind::FourS {
                d as u32
            } else {
                let same = &by_province[sites[d].province as usize];
                let four_s = |&&e: &&u32| dealers[e as usize].kind == DealerKind::FourS;
                let same_city = |&&e: &&u32| sites[e as usize].city == sites[d].city;
                same.iter()
                    .filter(four_s)
                    .find(same_city)
                    .or_else(|| same.iter().find(four_s))
                    .copied()
                    .unwrap_or(0)
            };
        }
        let plate_space = plate_space(config.customers as u64 * SLOTS);
        let mut keys = Keys::new(config.seed);
        keys.plate %= plate_space;
        Network {
            config,
            dealers,
            sites,
            cumulative,
            by_province,
            start,
            keys,
            plate_space,
        }
    }

    /// The configuration the network was built from.
    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// The dealers; `DealerId(d)` in a bundle means `dealers()[d]`.
    pub fn dealers(&self) -> &[Dealer] {
        &self.dealers
    }

    /// The first day of the recorded history (`as_of` minus `years` years): every touchpoint,
    /// lead, complaint and survey falls in `start()..=config().as_of`.
    pub fn start(&self) -> Date {
        self.start
    }

    /// Every customer in index order, generated one at a time.
    pub fn customers(&self) -> impl Iterator<Item = CustomerBundle> + '_ {
        (0..self.config.customers).map(move |i| self.customer(i))
    }

    /// Customer `index` with everything that happened to them; equal to the `index`-th item of
    /// [`Network::customers`].
    ///
    /// # Panics
    ///
    /// If `index` is not below `config().customers`.
    pub fn customer(&self, index: usize) -> CustomerBundle {
        assert!(
            index < self.config.customers,
            "customer {index} of a network of {} customers",
            self.config.customers
        );
        Gen::new(self, index).run()
    }
}

mod generate;
mod reference;
mod rng;

use generate::*;
use reference::*;
use rng::*;

#[cfg(test)]
mod tests;
