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

use crate::complaint::{Complaint, ComplaintStatus};
use crate::customer::{Customer, Gender, Organisation, Party, Person, RelationKind};
use crate::date::{Date, DateTime};
use crate::dealer::{Dealer, DealerKind};
use crate::ids::{CustomerId, DealerId, VehicleId};
use crate::lead::{Intent, Lead, LeadSource, LeadStatus, PurchaseType};
use crate::money::Money;
use crate::source::SourceRef;
use crate::survey::{Factor, Survey, SurveyKind};
use crate::touchpoint::{Channel, LifecycleStage, ServiceKind, Touchpoint, TouchpointKind};
use crate::validate;
use crate::vehicle::{Usage, Vehicle};

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

// ---------------------------------------------------------------------------------------------
// Random numbers

/// SplitMix64: tiny, fast, and identical on every platform.
#[derive(Clone, Debug)]
struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const TAG_DEALERS: u64 = 1;
const TAG_CUSTOMER: u64 = 2;
const TAG_PAIR: u64 = 3;

impl Rng {
    /// An independent stream for `key` of kind `tag` under `seed`.
    fn for_key(seed: u64, tag: u64, key: u64) -> Rng {
        Rng(mix(
            mix(seed ^ tag.wrapping_mul(GOLDEN)) ^ key.wrapping_mul(0xD1B5_4A32_D192_ED03)
        ))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-high: no modulo bias worth speaking of.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// Uniform in `lo..=hi` for small ranges.
    fn between(&mut self, lo: u32, hi: u32) -> u32 {
        self.range(i64::from(lo), i64::from(hi)) as u32
    }

    /// `true` with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An index in `0..n` with probability proportional to `weight(i)`.
    fn weighted_index(&mut self, n: usize, weight: impl Fn(usize) -> u32) -> usize {
        let total: u64 = (0..n).map(|i| u64::from(weight(i))).sum();
        let mut x = self.below(total);
        for i in 0..n {
            let w = u64::from(weight(i));
            if x < w {
                return i;
            }
            x -= w;
        }
        n - 1
    }

    /// A value from `(value, weight)` pairs, with probability proportional to its weight.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        items[self.weighted_index(items.len(), |i| items[i].1)].0
    }

    /// A day uniformly in `lo..=hi` (`lo` when `hi < lo`).
    fn date(&mut self, lo: Date, hi: Date) -> Date {
        lo.add_days(self.range(0, i64::from(hi.days_since(lo))) as i32)
    }

    /// A time of day on `d` between `from_hour` and `to_hour` (exclusive).
    fn time(&mut self, d: Date, from_hour: u32, to_hour: u32) -> DateTime {
        let hour = self.between(from_hour, to_hour.max(from_hour + 1) - 1);
        d.at(hour, self.between(0, 59), self.between(0, 59))
    }
}

/// Seed-dependent offsets of the bijections that derive natural keys from customer indexes.
#[derive(Clone, Copy, Debug)]
struct Keys {
    id: u64,
    phone: u64,
    credit: u64,
    plate: u64,
    vin: u64,
}

impl Keys {
    fn new(seed: u64) -> Keys {
        let k = |tag: u64, m: u64| mix(seed ^ mix(tag)) % m;
        Keys {
            id: k(11, ID_SPACE),
            phone: k(12, PHONE_SPACE),
            credit: k(13, CREDIT_SPACE),
            plate: mix(seed ^ mix(14)),
            vin: k(15, VIN_LOW_SPACE),
        }
    }
}

/// `x ↦ (x·mult + offset) mod m`: a bijection of `0..m` when `gcd(mult, m) = 1`.
fn scramble(x: u64, m: u64, mult: u64, offset: u64) -> u64 {
    match x.checked_mul(mult).and_then(|y| y.checked_add(offset)) {
        Some(y) => y % m,
        None => ((u128::from(x) * u128::from(mult) + u128::from(offset)) % u128::from(m)) as u64,
    }
}

/// Days from 1955-01-01 to 2003-12-31 inclusive: the birth dates of generated persons.
const BIRTH_DAYS: u64 = 17_897;
/// 1955-01-01.
const BIRTH_START: Date = Date::from_days(-5_479);
/// (birth day, sequence pair) slots of resident IDs: 500 sequence numbers per gender and day.
const ID_SPACE: u64 = BIRTH_DAYS * 500;
const ID_MULT: u64 = 1_000_003;
/// 30 mobile prefixes × 10^8 subscriber numbers.
const PHONE_SPACE: u64 = 30 * 100_000_000;
const PHONE_MULT: u64 = 2_654_435_761;
/// 8-digit organisation numbers of credit codes.
const CREDIT_SPACE: u64 = 100_000_000;
const CREDIT_MULT: u64 = 48_271;
/// 34^5 five-character plate serials (digits and letters without I and O).
const PLATE_SPACE: u64 = 45_435_424;
/// A prime above `PLATE_SPACE`, hence coprime with every plate space in use.
const PLATE_MULT: u64 = 1_000_000_007;
/// Six-digit VIN serials.
const VIN_LOW_SPACE: u64 = 1_000_000;
const VIN_MULT: u64 = 7_654_321;
/// Vehicle slots per customer: vehicle `k` of customer `i` has serial `i * SLOTS + k`.
const SLOTS: u64 = 6;
/// Customers per block of the used-car pairing.
const PAIR_BLOCK: usize = 32;
/// 1900-01-01, the earliest plausible date.
const EARLIEST_DATE: Date = Date::from_days(-25_567);
/// 1985-01-01: no generated car is older.
const EARLIEST_PURCHASE: Date = Date::from_days(5_479);

// ---------------------------------------------------------------------------------------------
// Reference data

struct Province {
    short: &'static str,
    full: &'static str,
    plate: char,
    code: &'static str,
    region: &'static str,
    weight: u32,
    cities: &'static [City],
}

struct City {
    name: &'static str,
    /// Letters of the city's plates.
    plates: &'static str,
    /// First four digits of the administrative division code.
    code: u32,
    /// Districts: last two digits of the division code and name.
    districts: &'static [(u32, &'static str)],
}

macro_rules! city {
    ($name:literal, $plates:literal, $code:literal, [$(($d:literal, $dn:literal)),+ $(,)?]) => {
        City { name: $name, plates: $plates, code: $code, districts: &[$(($d, $dn)),+] }
    };
}

#[rustfmt::skip]
static PROVINCES: &[Province] = &[
    Province { short: "上海", full: "上海市", plate: '沪', code: "SH", region: "East", weight: 6, cities: &[
        city!("上海", "ABDEFGHJKLMN", 3101, [(1, "黄浦区"), (4, "徐汇区"), (5, "长宁区"), (6, "静安区"), (7, "普陀区"), (10, "杨浦区"), (12, "闵行区"), (13, "宝山区"), (15, "浦东新区")]),
    ] },
    Province { short: "北京", full: "北京市", plate: '京', code: "BJ", region: "North", weight: 5, cities: &[
        city!("北京", "ABCEFGHJKLMNPQ", 1101, [(1, "东城区"), (2, "西城区"), (5, "朝阳区"), (6, "丰台区"), (7, "石景山区"), (8, "海淀区")]),
    ] },
    Province { short: "天津", full: "天津市", plate: '津', code: "TJ", region: "North", weight: 2, cities: &[
        city!("天津", "ABCEFGHJKLMN", 1201, [(1, "和平区"), (2, "河东区"), (3, "河西区"), (4, "南开区"), (5, "河北区")]),
    ] },
    Province { short: "重庆", full: "重庆市", plate: '渝', code: "CQ", region: "West", weight: 3, cities: &[
        city!("重庆", "ABCDFGH", 5001, [(3, "渝中区"), (5, "江北区"), (6, "沙坪坝区"), (7, "九龙坡区"), (8, "南岸区"), (12, "渝北区")]),
    ] },
    Province { short: "江苏", full: "江苏省", plate: '苏', code: "JS", region: "East", weight: 11, cities: &[
        city!("南京", "A", 3201, [(2, "玄武区"), (4, "秦淮区"), (5, "建邺区"), (6, "鼓楼区"), (13, "栖霞区"), (15, "江宁区")]),
        city!("苏州", "E", 3205, [(5, "虎丘区"), (6, "吴中区"), (7, "相城区"), (8, "姑苏区")]),
        city!("无锡", "B", 3202, [(5, "锡山区"), (6, "惠山区"), (11, "滨湖区"), (13, "梁溪区")]),
        city!("常州", "D", 3204, [(2, "天宁区"), (4, "钟楼区"), (11, "新北区"), (12, "武进区")]),
    ] },
    Province { short: "浙江", full: "浙江省", plate: '浙', code: "ZJ", region: "East", weight: 10, cities: &[
        city!("杭州", "A", 3301, [(2, "上城区"), (5, "拱墅区"), (6, "西湖区"), (8, "滨江区"), (9, "萧山区"), (10, "余杭区")]),
        city!("宁波", "B", 3302, [(3, "江北区"), (6, "北仑区"), (12, "鄞州区")]),
        city!("温州", "C", 3303, [(2, "鹿城区"), (3, "龙湾区"), (4, "瓯海区")]),
        city!("嘉兴", "F", 3304, [(2, "南湖区"), (11, "秀洲区")]),
    ] },
    Province { short: "山东", full: "山东省", plate: '鲁', code: "SD", region: "East", weight: 8, cities: &[
        city!("济南", "A", 3701, [(2, "历下区"), (3, "市中区"), (4, "槐荫区"), (5, "天桥区"), (12, "历城区")]),
        city!("青岛", "B", 3702, [(2, "市南区"), (3, "市北区"), (11, "黄岛区"), (12, "崂山区"), (13, "李沧区")]),
        city!("烟台", "F", 3706, [(2, "芝罘区"), (11, "福山区"), (13, "莱山区")]),
    ] },
    Province { short: "安徽", full: "安徽省", plate: '皖', code: "AH", region: "East", weight: 4, cities: &[
        city!("合肥", "A", 3401, [(2, "瑶海区"), (3, "庐阳区"), (4, "蜀山区"), (11, "包河区")]),
        city!("芜湖", "B", 3402, [(2, "镜湖区"), (7, "弋江区"), (8, "鸠江区")]),
    ] },
    Province { short: "福建", full: "福建省", plate: '闽', code: "FJ", region: "South", weight: 4, cities: &[
        city!("福州", "A", 3501, [(2, "鼓楼区"), (3, "台江区"), (4, "仓山区"), (5, "马尾区")]),
        city!("厦门", "D", 3502, [(3, "思明区"), (5, "海沧区"), (6, "湖里区"), (11, "集美区")]),
    ] },
    Province { short: "广东", full: "广东省", plate: '粤', code: "GD", region: "South", weight: 12, cities: &[
        city!("广州", "A", 4401, [(3, "荔湾区"), (4, "越秀区"), (5, "海珠区"), (6, "天河区"), (11, "白云区"), (13, "番禺区")]),
        city!("深圳", "B", 4403, [(3, "罗湖区"), (4, "福田区"), (5, "南山区"), (6, "宝安区"), (7, "龙岗区")]),
        city!("佛山", "E", 4406, [(4, "禅城区"), (5, "南海区"), (6, "顺德区")]),
        city!("东莞", "S", 4419, [(0, "南城街道"), (0, "东城街道"), (0, "松山湖")]),
    ] },
    Province { short: "广西", full: "广西壮族自治区", plate: '桂', code: "GX", region: "South", weight: 2, cities: &[
        city!("南宁", "A", 4501, [(2, "兴宁区"), (3, "青秀区"), (7, "西乡塘区")]),
    ] },
    Province { short: "海南", full: "海南省", plate: '琼', code: "HI", region: "South", weight: 1, cities: &[
        city!("海口", "A", 4601, [(5, "秀英区"), (6, "龙华区"), (7, "琼山区"), (8, "美兰区")]),
    ] },
    Province { short: "河北", full: "河北省", plate: '冀', code: "HE", region: "North", weight: 5, cities: &[
        city!("石家庄", "A", 1301, [(2, "长安区"), (4, "桥西区"), (5, "新华区"), (8, "裕华区")]),
        city!("唐山", "B", 1302, [(2, "路南区"), (3, "路北区")]),
    ] },
    Province { short: "山西", full: "山西省", plate: '晋', code: "SX", region: "North", weight: 2, cities: &[
        city!("太原", "A", 1401, [(5, "小店区"), (6, "迎泽区"), (7, "杏花岭区"), (9, "万柏林区")]),
    ] },
    Province { short: "内蒙古", full: "内蒙古自治区", plate: '蒙', code: "NM", region: "North", weight: 1, cities: &[
        city!("呼和浩特", "A", 1501, [(2, "新城区"), (3, "回民区"), (5, "赛罕区")]),
    ] },
    Province { short: "河南", full: "河南省", plate: '豫', code: "HA", region: "Central", weight: 6, cities: &[
        city!("郑州", "A", 4101, [(2, "中原区"), (3, "二七区"), (4, "管城回族区"), (5, "金水区")]),
        city!("洛阳", "C", 4103, [(2, "老城区"), (3, "西工区"), (5, "涧西区")]),
    ] },
    Province { short: "湖北", full: "湖北省", plate: '鄂', code: "HB", region: "Central", weight: 5, cities: &[
        city!("武汉", "A", 4201, [(2, "江岸区"), (3, "江汉区"), (4, "硚口区"), (5, "汉阳区"), (6, "武昌区"), (11, "洪山区")]),
        city!("宜昌", "E", 4205, [(2, "西陵区"), (3, "伍家岗区")]),
    ] },
    Province { short: "湖南", full: "湖南省", plate: '湘', code: "HN", region: "Central", weight: 4, cities: &[
        city!("长沙", "A", 4301, [(2, "芙蓉区"), (3, "天心区"), (4, "岳麓区"), (5, "开福区"), (11, "雨花区")]),
    ] },
    Province { short: "江西", full: "江西省", plate: '赣', code: "JX", region: "Central", weight: 2, cities: &[
        city!("南昌", "A", 3601, [(2, "东湖区"), (3, "西湖区"), (4, "青云谱区"), (11, "青山湖区")]),
    ] },
    Province { short: "四川", full: "四川省", plate: '川', code: "SC", region: "West", weight: 6, cities: &[
        city!("成都", "A", 5101, [(4, "锦江区"), (5, "青羊区"), (6, "金牛区"), (7, "武侯区"), (8, "成华区")]),
        city!("绵阳", "B", 5107, [(3, "涪城区"), (4, "游仙区")]),
    ] },
    Province { short: "云南", full: "云南省", plate: '云', code: "YN", region: "West", weight: 2, cities: &[
        city!("昆明", "A", 5301, [(2, "五华区"), (3, "盘龙区"), (11, "官渡区"), (12, "西山区")]),
    ] },
    Province { short: "贵州", full: "贵州省", plate: '贵', code: "GZ", region: "West", weight: 1, cities: &[
        city!("贵阳", "A", 5201, [(2, "南明区"), (3, "云岩区"), (11, "花溪区")]),
    ] },
    Province { short: "陕西", full: "陕西省", plate: '陕', code: "SN", region: "West", weight: 3, cities: &[
        city!("西安", "A", 6101, [(2, "新城区"), (3, "碑林区"), (4, "莲湖区"), (11, "灞桥区"), (13, "雁塔区")]),
    ] },
    Province { short: "甘肃", full: "甘肃省", plate: '甘', code: "GS", region: "West", weight: 1, cities: &[
        city!("兰州", "A", 6201, [(2, "城关区"), (3, "七里河区"), (4, "西固区")]),
    ] },
    Province { short: "新疆", full: "新疆维吾尔自治区", plate: '新', code: "XJ", region: "West", weight: 1, cities: &[
        city!("乌鲁木齐", "A", 6501, [(2, "天山区"), (3, "沙依巴克区"), (4, "新市区")]),
    ] },
    Province { short: "辽宁", full: "辽宁省", plate: '辽', code: "LN", region: "Northeast", weight: 3, cities: &[
        city!("沈阳", "A", 2101, [(2, "和平区"), (3, "沈河区"), (4, "大东区"), (5, "皇姑区"), (6, "铁西区")]),
        city!("大连", "B", 2102, [(2, "中山区"), (3, "西岗区"), (4, "沙河口区"), (11, "甘井子区")]),
    ] },
    Province { short: "吉林", full: "吉林省", plate: '吉', code: "JL", region: "Northeast", weight: 2, cities: &[
        city!("长春", "A", 2201, [(2, "南关区"), (3, "宽城区"), (4, "朝阳区"), (5, "二道区")]),
    ] },
    Province { short: "黑龙江", full: "黑龙江省", plate: '黑', code: "HL", region: "Northeast", weight: 2, cities: &[
        city!("哈尔滨", "A", 2301, [(2, "道里区"), (3, "南岗区"), (4, "道外区"), (8, "平房区"), (9, "松北区")]),
    ] },
];

static DEALER_GROUPS: &[&str] = &[
    "永达",
    "广汇",
    "中升",
    "庞大",
    "利星行",
    "恒信",
    "申蓉",
    "润东",
    "元通",
    "宝利",
    "和谐",
    "物产",
    "正通",
    "冠德",
    "运通",
    "东昌",
];

#[rustfmt::skip]
static SURNAMES: &[(&str, u32)] = &[
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 23), ("赵", 22),
    ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13), ("胡", 13), ("郭", 12),
    ("何", 12), ("高", 11), ("林", 11), ("罗", 10), ("郑", 9), ("梁", 9), ("谢", 8), ("宋", 7),
    ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5),
    ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4), ("蒋", 4), ("蔡", 4),
    ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 2), ("贾", 2), ("夏", 2),
    ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
    ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2), ("侯", 2),
    ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2),
    ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2), ("覃", 1), ("武", 1), ("戴", 1),
    ("莫", 1), ("孔", 1),
];

static COMPOUND_SURNAMES: &[&str] = &["欧阳", "司马", "上官", "诸葛", "司徒", "东方", "皇甫"];

static MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宁", "建", "俊", "峰", "浩", "宇", "博", "志", "国", "东", "海", "亮", "成", "龙",
    "健", "凯", "晨", "阳", "洋", "旭", "昊", "轩", "睿", "振", "永", "庆", "荣", "彬", "毅", "威",
];

static FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "婷", "雪", "慧", "琳", "颖", "倩",
    "洁", "璐", "佳", "欣", "怡", "萍", "红", "梅", "丹", "莉", "晶", "燕", "琴", "云", "兰", "凤",
    "茜", "悦", "思", "雨", "梦", "诗", "彤", "欢", "瑶", "蕾",
];

static NEUTRAL_CHARS: &[&str] = &[
    "小", "文", "晓", "春", "海", "安", "一", "嘉", "子", "新", "立", "天", "家", "志", "婉", "明",
];

static OCCUPATIONS: &[&str] = &[
    "教师",
    "医生",
    "工程师",
    "公务员",
    "个体经营",
    "销售经理",
    "软件工程师",
    "会计",
    "律师",
    "护士",
    "企业主",
    "设计师",
    "司机",
    "自由职业",
    "银行职员",
    "研究员",
    "财务总监",
    "项目经理",
];

static EMPLOYERS: &[&str] = &[
    "{}市第一人民医院",
    "{}市实验中学",
    "中国银行{}分行",
    "{}地铁集团有限公司",
    "华为技术有限公司",
    "{}市税务局",
    "中国移动{}分公司",
    "{}大学",
    "国家电网{}供电公司",
    "阿里巴巴集团",
    "{}市人民政府",
    "中国石化{}分公司",
];

static INTERESTS: &[&str] = &[
    "自驾游",
    "高尔夫",
    "摄影",
    "钓鱼",
    "跑步",
    "露营",
    "骑行",
    "美食",
    "亲子活动",
    "音乐",
    "羽毛球",
    "健身",
    "茶艺",
    "书法",
    "越野",
    "电竞",
];

static ROADS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "文化路",
    "胜利路",
    "青年路",
    "光明路",
    "东风路",
    "学府路",
    "滨江大道",
    "世纪大道",
    "迎宾大道",
    "朝阳街",
];

static ORG_WORDS: &[&str] = &[
    "恒通", "华信", "中联", "宏达", "天成", "锦程", "鼎盛", "新元", "金桥", "博远", "瑞丰", "安达",
    "众诚", "远航", "鸿运", "盛世", "嘉禾", "万通", "合力", "长城",
];

/// (part of the company name, industry).
static ORG_INDUSTRIES: &[(&str, &str)] = &[
    ("物流", "物流"),
    ("汽车租赁", "汽车租赁"),
    ("建设工程", "建筑"),
    ("信息科技", "信息技术"),
    ("商贸", "批发零售"),
    ("医药", "医药"),
    ("食品", "食品"),
    ("物业管理", "物业"),
    ("出租汽车", "出租车"),
    ("电力工程", "能源"),
    ("环保科技", "环保"),
    ("房地产开发", "房地产"),
];

/// A model of the line-up.
struct Model {
    brand: &'static str,
    name: &'static str,
    /// World manufacturer identifier.
    wmi: &'static str,
    /// VIN positions 4–7.
    vds: &'static str,
    /// New price range in thousands of yuan.
    price: (u32, u32),
    /// Weight among private buyers.
    weight: u32,
    /// Weight among fleet buyers.
    fleet: u32,
    /// Service cost in percent of a compact car's.
    cost: i64,
    trims: &'static [&'static str],
}

#[rustfmt::skip]
static MODELS: &[Model] = &[
    Model { brand: "Volkswagen", name: "Santana", wmi: "LSV", vds: "AA2C", price: (80, 110), weight: 10, fleet: 8, cost: 90, trims: &["1.5L 手动风尚版", "1.5L 自动舒适版", "1.5L 自动豪华版"] },
    Model { brand: "Volkswagen", name: "Lavida", wmi: "LSV", vds: "AB2L", price: (110, 160), weight: 20, fleet: 5, cost: 100, trims: &["1.5L 自动风尚版", "280TSI DSG 舒适版", "280TSI DSG 星空版"] },
    Model { brand: "Volkswagen", name: "Jetta", wmi: "LFV", vds: "AC3J", price: (80, 120), weight: 6, fleet: 5, cost: 90, trims: &["VA3 1.5L 自动进取版", "VS5 280TSI 悦享版", "VS7 280TSI 荣耀版"] },
    Model { brand: "Volkswagen", name: "Bora", wmi: "LFV", vds: "AD2B", price: (110, 150), weight: 10, fleet: 2, cost: 100, trims: &["1.5L 自动熠动版", "280TSI DSG 精英版"] },
    Model { brand: "Volkswagen", name: "Sagitar", wmi: "LFV", vds: "AE2S", price: (130, 180), weight: 14, fleet: 3, cost: 105, trims: &["200TSI DSG 时尚版", "280TSI DSG 舒适版", "300TSI DSG 旗舰版"] },
    Model { brand: "Volkswagen", name: "Passat", wmi: "LSV", vds: "AF3P", price: (180, 260), weight: 10, fleet: 6, cost: 120, trims: &["280TSI 精英版", "330TSI 豪华版", "380TSI 旗舰版"] },
    Model { brand: "Volkswagen", name: "Magotan", wmi: "LFV", vds: "AG3M", price: (180, 280), weight: 8, fleet: 5, cost: 120, trims: &["280TSI 商务版", "330TSI 豪华版", "380TSI 旗舰版"] },
    Model { brand: "Volkswagen", name: "Tiguan L", wmi: "LSV", vds: "AH4T", price: (200, 300), weight: 9, fleet: 2, cost: 125, trims: &["280TSI 两驱精英版", "330TSI 四驱豪华版", "380TSI 四驱旗舰版"] },
    Model { brand: "Volkswagen", name: "Tayron", wmi: "LFV", vds: "AJ4Y", price: (220, 300), weight: 4, fleet: 1, cost: 125, trims: &["330TSI 两驱豪华版", "380TSI 四驱旗舰版"] },
    Model { brand: "Volkswagen", name: "Touran L", wmi: "LSV", vds: "AK5R", price: (160, 220), weight: 3, fleet: 3, cost: 115, trims: &["280TSI 七座舒适版", "330TSI 七座豪华版"] },
    Model { brand: "Volkswagen", name: "Teramont", wmi: "LSV", vds: "AL6E", price: (290, 400), weight: 3, fleet: 1, cost: 140, trims: &["380TSI 四驱豪华版", "530V6 四驱旗舰版"] },
    Model { brand: "Audi", name: "A4L", wmi: "LFV", vds: "BM4A", price: (300, 400), weight: 4, fleet: 1, cost: 170, trims: &["40 TFSI 时尚动感型", "45 TFSI quattro 臻选动感型"] },
    Model { brand: "Audi", name: "A6L", wmi: "LFV", vds: "BN6A", price: (400, 500), weight: 3, fleet: 2, cost: 190, trims: &["45 TFSI 臻选致雅型", "45 TFSI quattro 臻选动感型", "55 TFSI quattro 旗舰型"] },
    Model { brand: "Audi", name: "Q5L", wmi: "LFV", vds: "BP5K", price: (380, 500), weight: 3, fleet: 0, cost: 180, trims: &["40 TFSI 时尚动感型", "45 TFSI 豪华动感型"] },
];

/// VIN characters (no I, O, Q).
const VIN_CHARS: &[u8; 33] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
/// Letters of plate serials (no I, O).
const PLATE_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
/// VIN model-year codes from 1980, repeating every 30 years.
const YEAR_CODES: &[u8; 30] = b"ABCDEFGHJKLMNPRSTVWXY123456789";
/// The 30 mobile prefixes numbers are drawn from.
static MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "185", "186",
    "187", "188", "189", "199",
];

/// Complaint categories with typical notes.
static COMPLAINTS: &[(&str, &[&str])] = &[
    (
        "repair quality",
        &[
            "保养后发动机异响仍未解决",
            "维修后同一故障再次出现",
            "更换零件后仍有漏油",
        ],
    ),
    (
        "service attitude",
        &["服务顾问态度冷淡，不解释维修项目", "前台长时间无人接待"],
    ),
    (
        "waiting time",
        &["常规保养等待超过四小时", "预约到店后仍需排队"],
    ),
    ("billing", &["结算金额与报价不符", "未经同意增加维修项目"]),
    (
        "product quality",
        &["车机系统频繁死机", "空调出风有异味", "低速换挡顿挫"],
    ),
    ("parts availability", &["配件缺货，等待超过两周"]),
];

static SALES_COMPLAINTS: &[&str] = &["销售顾问承诺的优惠未兑现", "试驾预约后无人接待"];

static LOST_REASONS: &[&str] = &[
    "已购买竞品",
    "价格超出预算",
    "暂缓购车",
    "多次联系未接通",
    "贷款审批未通过",
    "等待新款上市",
];

// ---------------------------------------------------------------------------------------------
// Customer generation

#[derive(Clone, Copy, Debug)]
struct Site {
    province: u8,
    city: u8,
    /// The 4S shop where customers of this dealer buy their cars.
    sales: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Prospect,
    PersonOwner,
    Organisation,
}

/// A customer's part in a used-car sale between two customers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Regular,
    /// Trades vehicle 0 in on `on` (and buys a new car that day).
    Seller {
        on: Date,
    },
    /// Buys `seller`'s vehicle 0 on `on`.
    Buyer {
        seller: usize,
        on: Date,
    },
}

#[derive(Clone, Copy, Debug)]
struct Archetype {
    kind: Kind,
    segment: Segment,
    role: Role,
}

impl Network {
    /// The birth date and resident-ID sequence pair (0..500) of person `index`: a bijection, so
    /// no two persons share both.
    fn birth_slot(&self, index: usize) -> (Date, u32) {
        let h = scramble(index as u64, ID_SPACE, ID_MULT, self.keys.id);
        (
            BIRTH_START.add_days((h % BIRTH_DAYS) as i32),
            (h / BIRTH_DAYS) as u32,
        )
    }

    /// The used-car sale of block `block`, if any: (seller, buyer, date). Both sides compute it,
    /// so the seller knows its car will go and the buyer knows where it comes from.
    fn pair(&self, block: usize) -> Option<(usize, usize, Date)> {
        let mut r = Rng::for_key(self.config.seed, TAG_PAIR, block as u64);
        if !r.chance(0.85) {
            return None;
        }
        let (lo, hi) = (self.start.add_days(90), self.config.as_of.add_days(-60));
        if hi <= lo {
            return None;
        }
        let on = r.date(lo, hi);
        let half = PAIR_BLOCK / 2;
        let base = block * PAIR_BLOCK;
        let find = |first: usize, offset: u64, latest_birth: Date| {
            (0..half)
                .map(|i| first + (offset as usize + i) % half)
                .find(|&j| j < self.config.customers && self.birth_slot(j).0 <= latest_birth)
        };
        let (s_off, b_off) = (r.below(half as u64), r.below(half as u64));
        let seller = find(base, s_off, on.add_days(-22 * 366))?;
        let buyer = find(base + half, b_off, on.add_days(-19 * 366))?;
        Some((seller, buyer, on))
    }

    fn role(&self, index: usize) -> Role {
        match self.pair(index / PAIR_BLOCK) {
            Some((s, _, on)) if s == index => Role::Seller { on },
            Some((s, b, on)) if b == index => Role::Buyer { seller: s, on },
            _ => Role::Regular,
        }
    }

    /// The archetype of customer `index`, drawn as the first values of its stream `rng`.
    fn archetype(&self, index: usize, rng: &mut Rng) -> Archetype {
        let role = self.role(index);
        let (u, s) = (rng.below(1000), rng.below(100));
        let kind = match role {
            Role::Regular if u < 70 => Kind::Organisation,
            Role::Regular if u < 230 => Kind::Prospect,
            _ => Kind::PersonOwner,
        };
        let segment = match (kind, role) {
            (Kind::Prospect, _) => Segment::Prospect,
            (_, Role::Seller { .. }) => Segment::Loyal,
            (Kind::Organisation, _) if s < 55 => Segment::Loyal,
            (Kind::Organisation, _) if s < 80 => Segment::Swinging,
            (Kind::PersonOwner, _) if s < 55 => Segment::Loyal,
            (Kind::PersonOwner, _) if s < 75 => Segment::Swinging,
            _ => Segment::Churner,
        };
        Archetype {
            kind,
            segment,
            role,
        }
    }

    /// A home dealer drawn from `rng`, with probability proportional to dealer size.
    fn home(&self, rng: &mut Rng) -> usize {
        let x = rng.below(*self.cumulative.last().unwrap_or(&1));
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.dealers.len() - 1)
    }

    /// The archetype of customer `index` without generating the customer.
    fn peek(&self, index: usize) -> Archetype {
        let mut rng = Rng::for_key(self.config.seed, TAG_CUSTOMER, index as u64);
        self.archetype(index, &mut rng)
    }

    fn phone(&self, n: u64) -> String {
        let h = scramble(n, PHONE_SPACE, PHONE_MULT, self.keys.phone);
        format!(
            "{}{:08}",
            MOBILE_PREFIXES[(h / 100_000_000) as usize],
            h % 100_000_000
        )
    }
}

/// The state of one customer's generation.
struct Gen<'a> {
    net: &'a Network,
    index: usize,
    rng: Rng,
    arch: Archetype,
    home: usize,
    /// The 4S shop the customer buys from.
    sales: usize,
    birth: Date,
    /// Customer's overall satisfaction, 0–10.
    sat: i64,
    /// Mean days between workshop visits.
    interval: i32,
    churn: Option<Date>,
    complainer: bool,
    referred: bool,
    /// Per vehicle: serial number.
    serials: Vec<u64>,
    /// Per vehicle: the day the customer gave it up (after the history if still owned).
    ends: Vec<Date>,
    vehicles: Vec<SynthVehicle>,
    touchpoints: Vec<Touchpoint>,
    leads: Vec<Lead>,
    complaints: Vec<Complaint>,
    surveys: Vec<Survey>,
}

impl<'a> Gen<'a> {
    fn new(net: &'a Network, index: usize) -> Gen<'a> {
        let mut rng = Rng::for_key(net.config.seed, TAG_CUSTOMER, index as u64);
        let arch = net.archetype(index, &mut rng);
        let mut home = net.home(&mut rng);
        if let Role::Buyer { seller, .. } = arch.role {
            // The used car is resold where it was traded in, to a buyer from the same city.
            let mut theirs = Rng::for_key(net.config.seed, TAG_CUSTOMER, seller as u64);
            net.archetype(seller, &mut theirs);
            home = net.home(&mut theirs);
        }
        let sales = net.sites[home].sales as usize;
        let sat = rng.range(6, 10);
        let interval = match arch.segment {
            Segment::Loyal => 365 / rng.weighted(&[(2, 80), (3, 15), (4, 5)]),
            Segment::Swinging => rng.range(260, 420) as i32,
            Segment::Churner => rng.range(220, 360) as i32,
            Segment::Prospect => 365,
        };
        Gen {
            net,
            index,
            rng,
            arch,
            home,
            sales,
            birth: net.birth_slot(index).0,
            sat,
            interval,
            churn: None,
            complainer: false,
            referred: false,
            serials: Vec::new(),
            ends: Vec::new(),
            vehicles: Vec::new(),
            touchpoints: Vec::with_capacity(32),
            leads: Vec::new(),
            complaints: Vec::new(),
            surveys: Vec::new(),
        }
    }

    fn run(mut self) -> CustomerBundle {
        self.complainer = self.rng.chance(0.03);
        if self.complainer {
            self.sat = (self.sat - 3).max(2);
        }
        let customer = match self.arch.kind {
            Kind::Organisation => self.organisation(),
            Kind::PersonOwner => self.person(true),
            Kind::Prospect => self.person(false),
        };
        match self.arch.kind {
            Kind::Prospect => self.prospect(),
            Kind::PersonOwner => self.person_vehicles(),
            Kind::Organisation => self.fleet(),
        }
        if self.arch.kind != Kind::Prospect {
            self.owner_extras();
        }
        if self.complainer {
            self.complaint();
        }
        let relations = self.relations();
        let mut touchpoints = self.touchpoints;
        touchpoints.sort_by_key(|t| t.at);
        CustomerBundle {
            index: self.index,
            segment: self.arch.segment,
            customer,
            vehicles: self.vehicles,
            touchpoints,
            leads: self.leads,
            complaints: self.complaints,
            surveys: self.surveys,
            relations,
        }
    }

    // --- helpers -----------------------------------------------------------------------------

    fn as_of(&self) -> Date {
        self.net.config.as_of
    }

    fn in_window(&self, d: Date) -> bool {
        d >= self.net.start && d <= self.as_of()
    }

    fn province(&self) -> &'static Province {
        &PROVINCES[self.net.sites[self.home].province as usize]
    }

    fn city(&self) -> &'static City {
        &self.province().cities[self.net.sites[self.home].city as usize]
    }

    fn code(&self, dealer: usize) -> &'a str {
        &self.net.dealers[dealer].code
    }

    /// Where a workshop visit happens: mostly the home dealer; swinging owners also try other
    /// dealers of the province.
    fn service_dealer(&mut self) -> usize {
        let away = match self.arch.segment {
            Segment::Swinging => 0.35,
            Segment::Churner => 0.15,
            _ => 0.04,
        };
        if self.rng.chance(away) {
            let list = &self.net.by_province[self.net.sites[self.home].province as usize];
            list[self.rng.below(list.len() as u64) as usize] as usize
        } else {
            self.home
        }
    }

    fn touchpoint(
        &self,
        at: DateTime,
        channel: Channel,
        kind: TouchpointKind,
        dealer: Option<usize>,
        vehicle: Option<usize>,
    ) -> Touchpoint {
        Touchpoint {
            vehicle: vehicle.map(|k| VehicleId(k as u64)),
            dealer: dealer.map(|d| DealerId(d as u32)),
            stage: self.stage(vehicle, at.date()),
            ..Touchpoint::new(at, CustomerId(0), channel, kind)
        }
    }

    /// Keeps `t` if it falls in the history (and after its vehicle's acquisition), deriving the
    /// sensitive flag and a network-wide unique source record.
    fn push(&mut self, mut t: Touchpoint) {
        let day = t.at.date();
        if !self.in_window(day) {
            return;
        }
        if let Some(VehicleId(k)) = t.vehicle {
            if day < self.vehicles[k as usize].acquired || day >= self.ends[k as usize] {
                return;
            }
        }
        // DOMAIN §3: complaints, warranty claims and rescue are sensitive by kind (core derives
        // that on write). Parts used in a routine service are not "parts business": a
        // maintenance visit with an oil filter on its bill may arrive in the daily batch.
        t.sensitive = t.sensitive_by_kind();
        let seq = self.touchpoints.len();
        let i = self.index;
        t.source = Some(match (t.channel, t.dealer) {
            (Channel::Showroom | Channel::Event, Some(d)) => {
                SourceRef::new("dms", format!("{}-T{i}-{seq}", self.code(d.0 as usize)))
            }
            (Channel::PhoneIn | Channel::PhoneOut, _) => {
                SourceRef::new("call_centre", format!("CC-T{i}-{seq}"))
            }
            (Channel::App | Channel::Web | Channel::WeChat, _) => {
                SourceRef::new("app", format!("APP-T{i}-{seq}"))
            }
            _ => SourceRef::new("crm", format!("CRM-T{i}-{seq}")),
        });
        self.touchpoints.push(t);
    }

    /// The lifecycle stage on `day`, of the vehicle if one is concerned, else Prospect while the
    /// customer has no vehicle yet.
    fn stage(&self, vehicle: Option<usize>, day: Date) -> Option<LifecycleStage> {
        let Some(k) = vehicle else {
            let owns = self.vehicles.iter().any(|v| v.acquired <= day);
            return (!owns).then_some(LifecycleStage::Prospect);
        };
        let v = &self.vehicles[k].vehicle;
        let bought = v.purchase_date?;
        let age = day.days_since(bought);
        Some(if age < 90 {
            LifecycleStage::New
        } else if v.first_service_date.map_or(age < 365, |f| day < f) {
            LifecycleStage::BeforeFirstService
        } else if v.warranty_end.is_some_and(|w| day < w) {
            LifecycleStage::InWarranty
        } else if age >= 7 * 365 {
            LifecycleStage::FinalYear
        } else {
            LifecycleStage::OutOfWarranty
        })
    }

    fn pick_model(&mut self, fleet: bool) -> &'static Model {
        let i = self.rng.weighted_index(MODELS.len(), |i| {
            if fleet {
                MODELS[i].fleet
            } else {
                MODELS[i].weight
            }
        });
        &MODELS[i]
    }

    /// A replacement for `old`: usually the same class or better.
    fn upgrade(&mut self, old: &'static Model) -> &'static Model {
        for _ in 0..6 {
            let m = self.pick_model(false);
            if m.price.0 >= old.price.0 {
                return m;
            }
        }
        old
    }

    fn price(&mut self, m: &Model) -> Money {
        let yuan = i64::from(m.price.0) * 1000
            + self.rng.range(0, i64::from(m.price.1 - m.price.0) * 10) * 100;
        Money::yuan(yuan)
    }

    fn item_score(&mut self) -> u8 {
        (self.sat + self.rng.range(-2, 1)).clamp(0, 10) as u8
    }

    // --- customers ---------------------------------------------------------------------------

    fn person(&mut self, owner: bool) -> Customer {
        let net = self.net;
        let male = self.rng.chance(if owner { 0.66 } else { 0.6 });
        let name = self.name(male);
        let (birth, pair) = net.birth_slot(self.index);
        let city = self.city();
        let district = self.rng.pick(city.districts);
        let with_id = owner || self.rng.chance(0.25);
        let national_id = with_id.then(|| {
            let (y, m, d) = birth.ymd();
            let seq = pair * 2 + u32::from(male);
            let first17 = format!(
                "{:04}{:02}{y:04}{m:02}{d:02}{seq:03}",
                city.code, district.0
            );
            let check = validate::national_id_check_digit(&first17).unwrap_or('0');
            format!("{first17}{check}")
        });
        let birth_date = (with_id || self.rng.chance(0.3)).then_some(birth);
        let gender = (with_id || self.rng.chance(0.9)).then_some(if male {
            Gender::Male
        } else {
            Gender::Female
        });
        let occupation = self
            .rng
            .chance(0.4)
            .then(|| self.rng.pick(OCCUPATIONS).to_string());
        let employer = self
            .rng
            .chance(if owner { 0.25 } else { 0.1 })
            .then(|| self.rng.pick(EMPLOYERS).replace("{}", city.name));
        let mut interests = Vec::new();
        if self.rng.chance(0.3) {
            for _ in 0..self.rng.between(1, 3) {
                let i = self.rng.pick(INTERESTS);
                if !interests.iter().any(|x: &String| x == i) {
                    interests.push(i.to_string());
                }
            }
        }
        let mut phones = vec![net.phone(2 * self.index as u64)];
        if self.rng.chance(0.1) {
            phones.push(net.phone(2 * self.index as u64 + 1));
        }
        let address = self
            .rng
            .chance(if owner { 0.75 } else { 0.2 })
            .then(|| self.address(district.1));
        Customer {
            party: Party::Person(Person {
                name,
                gender,
                birth_date,
                occupation,
                employer,
                interests,
                national_id,
            }),
            phones,
            province: Some(self.province().short.to_string()),
            city: Some(city.name.to_string()),
            address,
            source: Some(SourceRef::new(
                "dms",
                format!("{}-C{}", self.code(self.home), self.index),
            )),
        }
    }

    fn name(&mut self, male: bool) -> String {
        let mut name = String::with_capacity(12);
        if self.rng.chance(0.003) {
            name.push_str(self.rng.pick(COMPOUND_SURNAMES));
        } else {
            name.push_str(self.rng.weighted(SURNAMES));
        }
        let own = if male { MALE_CHARS } else { FEMALE_CHARS };
        if self.rng.chance(0.75) {
            let first = if self.rng.chance(0.25) {
                NEUTRAL_CHARS
            } else {
                own
            };
            name.push_str(self.rng.pick(first));
        }
        name.push_str(self.rng.pick(own));
        name
    }

    fn address(&mut self, district: &str) -> String {
        let p = self.province();
        let city = self.city();
        let road = self.rng.pick(ROADS);
        let (no, building, room) = (
            self.rng.between(1, 999),
            self.rng.between(1, 30),
            self.rng.between(101, 2806),
        );
        if p.full.starts_with(city.name) {
            format!("{}{district}{road}{no}号{building}幢{room}室", p.full)
        } else {
            format!(
                "{}{}市{district}{road}{no}号{building}幢{room}室",
                p.full, city.name
            )
        }
    }

    fn organisation(&mut self) -> Customer {
        let net = self.net;
        let city = self.city();
        let district = self.rng.pick(city.districts);
        let word = self.rng.pick(ORG_WORDS);
        let (part, industry) = self.rng.pick(ORG_INDUSTRIES);
        let org = scramble(
            self.index as u64,
            CREDIT_SPACE,
            CREDIT_MULT,
            net.keys.credit,
        );
        let digits = format!("{org:08}");
        let first17 = format!(
            "91{:04}{:02}{digits}{}",
            city.code,
            district.0,
            organisation_check(&digits)
        );
        let check = validate::credit_code_check_char(&first17).unwrap_or('0');
        let address = self.rng.chance(0.9).then(|| self.address(district.1));
        Customer {
            party: Party::Organisation(Organisation {
                name: format!("{}{word}{part}有限公司", city.name),
                credit_code: Some(format!("{first17}{check}")),
                industry: Some(industry.to_string()),
            }),
            phones: vec![net.phone(2 * self.index as u64)],
            province: Some(self.province().short.to_string()),
            city: Some(city.name.to_string()),
            address,
            source: Some(SourceRef::new(
                "dms",
                format!("{}-C{}", self.code(self.home), self.index),
            )),
        }
    }

    fn relations(&mut self) -> Vec<(RelationKind, usize)> {
        let mut out: Vec<(RelationKind, usize)> = Vec::new();
        if self.index == 0 {
            return out;
        }
        let mut wanted = Vec::new();
        if self.arch.kind == Kind::Organisation {
            if self.rng.chance(0.85) {
                wanted.push(RelationKind::DecisionMaker);
            }
            if self.rng.chance(0.6) {
                wanted.push(RelationKind::Purchaser);
            }
            for _ in 0..self.vehicles.len().min(3) {
                if self.rng.chance(0.4) {
                    wanted.push(RelationKind::Driver);
                }
            }
        } else {
            if self.rng.chance(0.06) {
                wanted.push(RelationKind::Relative);
            }
            if self.referred {
                wanted.push(RelationKind::ReferredBy);
            }
        }
        for kind in wanted {
            // Referrers are existing customers (owners); every other relation names a person.
            let fits = |a: Archetype| match kind {
                RelationKind::ReferredBy => a.kind != Kind::Prospect,
                _ => a.kind != Kind::Organisation,
            };
            for _ in 0..8 {
                let back = self.rng.below(self.index.min(50_000) as u64) as usize;
                let j = self.index - 1 - back;
                if fits(self.net.peek(j)) {
                    if !out.contains(&(kind, j)) {
                        out.push((kind, j));
                    }
                    break;
                }
            }
        }
        out
    }

    // --- prospects ---------------------------------------------------------------------------

    fn prospect(&mut self) {
        let as_of = self.as_of();
        let n = if self.rng.chance(0.2) { 2 } else { 1 };
        for i in 0..n {
            let received = self
                .rng
                .date(self.net.start.max(as_of.add_days(-540)), as_of);
            let dealer = if i == 0 {
                self.sales
            } else {
                self.other_four_s()
            };
            let model = self.pick_model(false);
            let origin = self.origin(false);
            if i == 0 && origin == LeadSource::Referral {
                self.referred = true;
            }
            let intent = self.rng.weighted(&[
                (Intent::H, 10),
                (Intent::A, 20),
                (Intent::B, 30),
                (Intent::C, 40),
            ]);
            let purchase_type = self.rng.weighted(&[
                (PurchaseType::First, 60),
                (PurchaseType::OtherBrandReplacement, 25),
                (PurchaseType::Additional, 15),
            ]);
            let fresh = as_of.days_since(received) < 7;
            let status = match self.rng.below(100) {
                _ if fresh && self.rng.chance(0.6) => LeadStatus::New,
                0..=9 => LeadStatus::New,
                10..=44 => LeadStatus::Contacted,
                45..=59 => LeadStatus::TestDrive,
                _ => LeadStatus::Lost(self.rng.pick(LOST_REASONS).to_string()),
            };
            let received_at = self.rng.time(received, 9, 21);
            let status_day = received.add_days(self.rng.range(1, 7) as i32).min(as_of);
            let status_at = (status != LeadStatus::New && status_day > received)
                .then(|| self.rng.time(status_day, 9, 19));
            let status = if status_at.is_none() {
                LeadStatus::New
            } else {
                status
            };
            if self.rng.chance(0.6) {
                let day = received.add_days(-(self.rng.range(0, 7) as i32));
                let at = if day == received {
                    received.at(8, self.rng.between(0, 59), 0)
                } else {
                    self.rng.time(day, 9, 21)
                };
                let channel = self.enquiry_channel(origin);
                let t = self.touchpoint(at, channel, TouchpointKind::Enquiry, Some(dealer), None);
                let t = Touchpoint {
                    note: Some(format!("咨询{}", model.name)),
                    ..t
                };
                self.push(t);
            }
            let t = self.touchpoint(
                received_at,
                lead_channel(origin),
                TouchpointKind::Lead,
                Some(dealer),
                None,
            );
            self.push(t);
            if let Some(at) = status_at {
                let reached = self.rng.chance(0.8);
                let t = self.touchpoint(
                    at,
                    Channel::PhoneOut,
                    TouchpointKind::Callback,
                    Some(dealer),
                    None,
                );
                let outcome = if reached { "reached" } else { "no answer" };
                self.push(Touchpoint {
                    outcome: Some(outcome.into()),
                    ..t
                });
                let drove = status == LeadStatus::TestDrive
                    || (matches!(status, LeadStatus::Lost(_)) && self.rng.chance(0.3));
                if drove {
                    let day = at.date().add_days(self.rng.range(0, 3) as i32).min(as_of);
                    let drive = self.rng.time(day, 10, 18).max(at.add_seconds(3600));
                    let t = self.touchpoint(
                        drive,
                        Channel::Showroom,
                        TouchpointKind::TestDrive,
                        Some(dealer),
                        None,
                    );
                    self.push(Touchpoint {
                        note: Some(format!("试驾{}", model.name)),
                        ..t
                    });
                }
            }
            let seq = self.leads.len();
            self.leads.push(Lead {
                customer: CustomerId(0),
                origin,
                model: model.name.to_string(),
                intent,
                purchase_type,
                dealer: Some(DealerId(dealer as u32)),
                received: received_at,
                status,
                status_at,
                source: Some(SourceRef::new(
                    "dms",
                    format!("{}-L{}-{seq}", self.code(dealer), self.index),
                )),
            });
        }
    }

    fn other_four_s(&mut self) -> usize {
        let list = &self.net.by_province[self.net.sites[self.home].province as usize];
        let d = list[self.rng.below(list.len() as u64) as usize] as usize;
        self.net.sites[d].sales as usize
    }

    fn origin(&mut self, org: bool) -> LeadSource {
        if org {
            self.rng.weighted(&[
                (LeadSource::CallCentre, 40),
                (LeadSource::WalkIn, 40),
                (LeadSource::Referral, 20),
            ])
        } else {
            self.rng.weighted(&[
                (LeadSource::WalkIn, 35),
                (LeadSource::Web, 25),
                (LeadSource::CallCentre, 15),
                (LeadSource::AutoShow, 10),
                (LeadSource::Referral, 15),
            ])
        }
    }

    fn enquiry_channel(&mut self, origin: LeadSource) -> Channel {
        match origin {
            LeadSource::Web => self
                .rng
                .pick(&[Channel::Web, Channel::App, Channel::WeChat]),
            LeadSource::CallCentre => Channel::PhoneIn,
            LeadSource::Referral => Channel::WeChat,
            LeadSource::AutoShow => Channel::Event,
            LeadSource::WalkIn => Channel::Showroom,
        }
    }

    // --- owners ------------------------------------------------------------------------------

    fn person_vehicles(&mut self) {
        let as_of = self.as_of();
        let adult = self.birth.add_months(12 * 18 + 6);
        match self.arch.role {
            Role::Seller { on } => {
                let lo = on.add_months(-84).max(adult).max(EARLIEST_PURCHASE);
                let bought = self.rng.date(lo, on.add_months(-36));
                let model = self.pick_model(false);
                let k = self.new_vehicle(bought, model, Some(on), Usage::Private);
                self.sale(&[k], PurchaseType::First, false);
                let next = self.upgrade(model);
                let k = self.new_vehicle(on, next, None, Usage::Private);
                self.sale(&[k], PurchaseType::SameBrandReplacement, true);
            }
            Role::Buyer { seller, on } => {
                let earlier = self.net.customer(seller);
                let vehicle = earlier.vehicles[0].vehicle.clone();
                self.used_vehicle(vehicle, seller, on);
            }
            Role::Regular => {
                let years = self.net.config.years.clamp(1, 100) as i32;
                let earliest = as_of
                    .add_months(-12 * (years + 6))
                    .max(adult)
                    .max(EARLIEST_PURCHASE);
                let latest = as_of.add_days(-10);
                let first = self.rng.date(earliest.min(latest), latest);
                let model = self.pick_model(false);
                let stays = self.arch.segment != Segment::Churner;
                if stays && first <= as_of.add_months(-72) && self.rng.chance(0.4) {
                    let hi = first.add_months(108).min(latest);
                    let second = self.rng.date(first.add_months(60), hi);
                    let k = self.new_vehicle(first, model, Some(second), Usage::Private);
                    let kind = self.first_purchase_type();
                    self.sale(&[k], kind, false);
                    let next = self.upgrade(model);
                    let k = self.new_vehicle(second, next, None, Usage::Private);
                    self.sale(&[k], PurchaseType::SameBrandReplacement, true);
                } else if stays && first.add_days(365) <= latest && self.rng.chance(0.08) {
                    let second = self.rng.date(first.add_days(365), latest);
                    let k = self.new_vehicle(first, model, None, Usage::Private);
                    let kind = self.first_purchase_type();
                    self.sale(&[k], kind, false);
                    let other = self.pick_model(false);
                    let k = self.new_vehicle(second, other, None, Usage::Private);
                    self.sale(&[k], PurchaseType::Additional, false);
                } else {
                    let k = self.new_vehicle(first, model, None, Usage::Private);
                    let kind = self.first_purchase_type();
                    self.sale(&[k], kind, false);
                }
            }
        }
    }

    fn first_purchase_type(&mut self) -> PurchaseType {
        if self.rng.chance(0.7) {
            PurchaseType::First
        } else {
            PurchaseType::OtherBrandReplacement
        }
    }

    fn fleet(&mut self) {
        let as_of = self.as_of();
        let years = self.net.config.years.clamp(1, 100) as i32;
        let n = self
            .rng
            .weighted(&[(2, 45), (3, 25), (4, 14), (5, 9), (6, 7)]);
        let batches = self.rng.between(1, n.min(3) as u32) as usize;
        let earliest = as_of.add_months(-12 * (years + 4)).max(EARLIEST_PURCHASE);
        let latest = as_of.add_days(-10);
        let mut dates: Vec<Date> = (0..batches)
            .map(|_| self.rng.date(earliest, latest))
            .collect();
        dates.sort();
        for (b, &day) in dates.iter().enumerate() {
            let mut ks = Vec::with_capacity(n / batches + 1);
            for _ in (b..n).step_by(batches) {
                let model = self.pick_model(true);
                ks.push(self.new_vehicle(day, model, None, Usage::Fleet));
            }
            let kind = if b == 0 {
                PurchaseType::First
            } else {
                PurchaseType::Additional
            };
            self.sale(&ks, kind, false);
        }
    }

    /// A new car bought on `bought` at the customer's 4S shop, given up on `sold` if ever; with
    /// its workshop visits.
    fn new_vehicle(
        &mut self,
        bought: Date,
        model: &'static Model,
        sold: Option<Date>,
        usage: Usage,
    ) -> usize {
        let as_of = self.as_of();
        let k = self.vehicles.len();
        let serial = self.index as u64 * SLOTS + k as u64;
        let invoice = bought.add_days(self.rng.range(0, 3) as i32);
        let registration = invoice.add_days(self.rng.range(2, 12) as i32);
        if self.arch.segment == Segment::Churner && self.churn.is_none() {
            let lo = bought.add_days(150).max(self.net.start.add_days(60));
            let hi = as_of.add_days(-60);
            self.churn = Some(if lo < hi { self.rng.date(lo, hi) } else { lo });
        }
        let end = self.end(sold);
        let came = self.rng.chance(match self.arch.segment {
            Segment::Loyal => 0.97,
            Segment::Swinging => 0.85,
            _ => 0.75,
        });
        let first_visit = registration.add_days(self.rng.range(60, 120) as i32);
        let first_service = (came && first_visit < end).then_some(first_visit);
        let registered = registration <= as_of;
        let (province, letters) = (self.province().plate, self.city().plates.as_bytes());
        let (plate_key, space) = (self.net.keys.plate, self.net.plate_space);
        let plate = registered.then(|| {
            let letter = char::from(letters[self.rng.below(letters.len() as u64) as usize]);
            let rank = scramble(serial, space, PLATE_MULT, plate_key);
            plate(province, letter, rank)
        });
        // Policies renew on the registration anniversary; some lapsed at the last one.
        let insurance_expiry = registered.then(|| {
            let next = next_anniversary(registration, as_of);
            let last = next.add_months(-12);
            if last > registration && self.rng.chance(0.08) {
                last
            } else {
                next
            }
        });
        // Private cars are inspection-exempt for six years, then inspected every year.
        let inspection_due = registered.then(|| {
            let six = registration.add_months(72);
            if six > as_of {
                six
            } else {
                next_anniversary(registration, as_of)
            }
        });
        let dealer = self.sales;
        let vehicle = Vehicle {
            vin: vin(model, serial, bought.year(), self.net.keys.vin),
            plate,
            brand: model.brand.to_string(),
            model: model.name.to_string(),
            trim: Some(self.rng.pick(model.trims).to_string()),
            purchase_date: Some(bought),
            invoice_date: (invoice <= as_of).then_some(invoice),
            registration_date: registered.then_some(registration),
            first_service_date: first_service,
            warranty_end: Some(bought.add_months(36)),
            insurance_expiry,
            inspection_due,
            usage,
            selling_dealer: Some(DealerId(dealer as u32)),
            source: Some(SourceRef::new(
                "dms",
                format!("{}-V{}-{k}", self.code(dealer), self.index),
            )),
        };
        self.vehicles.push(SynthVehicle {
            vehicle,
            acquired: bought,
            previous_owner: None,
        });
        self.serials.push(serial);
        self.ends.push(sold.unwrap_or(as_of.add_days(1)));
        let next = first_visit.add_days(self.jitter());
        self.workshop(k, first_service, next, end, model);
        k
    }

    /// A used car bought on `on` from `seller`, with its workshop visits.
    fn used_vehicle(&mut self, vehicle: Vehicle, seller: usize, on: Date) {
        let k = self.vehicles.len();
        let model = MODELS
            .iter()
            .find(|m| m.name == vehicle.model)
            .unwrap_or(&MODELS[0]);
        if self.arch.segment == Segment::Churner {
            let lo = on.add_days(150);
            let hi = self.as_of().add_days(-60);
            self.churn = Some(if lo < hi { self.rng.date(lo, hi) } else { lo });
        }
        self.vehicles.push(SynthVehicle {
            vehicle,
            acquired: on,
            previous_owner: Some((seller, 0)),
        });
        self.serials.push(seller as u64 * SLOTS);
        let end = self.end(None);
        self.ends.push(self.as_of().add_days(1));
        let dealer = self.sales;
        let at = self.rng.time(on, 10, 17);
        let new_price = self.price(model);
        let price = Money(new_price.0 * self.rng.range(40, 65) / 100 / 10_000 * 10_000);
        let t = self.touchpoint(
            at,
            Channel::Showroom,
            TouchpointKind::Purchase,
            Some(dealer),
            Some(k),
        );
        self.push(Touchpoint {
            amount: Some(price),
            note: Some("二手车置换购入".into()),
            ..t
        });
        let first = on.add_days(self.rng.range(20, 90) as i32);
        self.workshop(k, None, first, end, model);
    }

    /// The day the customer's workshop visits of a car given up on `sold` (or kept) end: when
    /// the car goes, when a churner stops coming, or after the history.
    fn end(&self, sold: Option<Date>) -> Date {
        let mut end = self.as_of().add_days(1);
        if let Some(s) = sold {
            end = end.min(s);
        }
        if let Some(c) = self.churn {
            end = end.min(c);
        }
        end
    }

    fn jitter(&mut self) -> i32 {
        let i = self.interval;
        i * 3 / 4 + self.rng.range(0, i64::from(i / 2)) as i32
    }

    /// Workshop visits of vehicle `k`: the first service if it happened, then visits from `next`
    /// at the customer's cadence until `end`.
    fn workshop(
        &mut self,
        k: usize,
        first_service: Option<Date>,
        mut next: Date,
        end: Date,
        model: &'static Model,
    ) {
        if let Some(d) = first_service {
            self.visit(k, d, ServiceKind::FirstService, model);
        }
        while next < end {
            if next >= self.net.start {
                let kind = self.rng.weighted(&[
                    (ServiceKind::Maintenance, 70),
                    (ServiceKind::Repair, 14),
                    (ServiceKind::WarrantyRepair, 8),
                    (ServiceKind::BodyAndPaint, 8),
                ]);
                self.visit(k, next, kind, model);
            }
            next = next.add_days(self.jitter());
        }
    }

    fn visit(&mut self, k: usize, day: Date, kind: ServiceKind, model: &'static Model) {
        if !self.in_window(day) {
            return;
        }
        let v = &self.vehicles[k].vehicle;
        let kind = match kind {
            ServiceKind::WarrantyRepair if v.warranty_end.is_some_and(|w| day >= w) => {
                ServiceKind::Repair
            }
            other => other,
        };
        let bought = v.purchase_date.unwrap_or(day);
        let fleet = v.usage == Usage::Fleet;
        let dealer = if fleet {
            self.home
        } else {
            self.service_dealer()
        };
        let ((p0, p1), (l0, l1)) = match kind {
            ServiceKind::FirstService if self.rng.chance(0.35) => ((0, 0), (0, 0)),
            ServiceKind::FirstService => ((150, 400), (0, 150)),
            ServiceKind::Maintenance => ((300, 1500), (150, 500)),
            ServiceKind::Repair => ((200, 5000), (150, 1500)),
            ServiceKind::WarrantyRepair => ((300, 6000), (200, 1200)),
            ServiceKind::BodyAndPaint => ((200, 3000), (400, 2500)),
        };
        let parts = Money::yuan(self.rng.range(p0, p1) * model.cost / 100);
        let labour = Money::yuan(self.rng.range(l0, l1) * model.cost / 100);
        let km = mileage(
            self.serials[k],
            fleet,
            self.net.config.seed,
            day.days_since(bought),
        );
        let at = self.rng.time(day, 8, 17);
        let t = self.touchpoint(
            at,
            Channel::Showroom,
            TouchpointKind::ServiceVisit,
            Some(dealer),
            Some(k),
        );
        self.push(Touchpoint {
            service_kind: Some(kind),
            amount: Some(parts + labour),
            parts_amount: Some(parts),
            labour_amount: Some(labour),
            mileage_km: Some(km),
            note: (kind == ServiceKind::WarrantyRepair).then(|| "厂家保修".to_string()),
            ..t
        });
        if self.rng.chance(0.06) {
            let day = day.add_days(self.rng.range(1, 3) as i32);
            self.callback(day, dealer, Some(k));
        }
        if self.rng.chance(0.05) {
            let day = day.add_days(self.rng.range(1, 5) as i32);
            self.survey(SurveyKind::Service, day, dealer, k);
        }
    }

    fn callback(&mut self, day: Date, dealer: usize, vehicle: Option<usize>) {
        let outcome = self.rng.weighted(&[
            ("reached", 55),
            ("satisfied", 20),
            ("no answer", 20),
            ("issue raised", 5),
        ]);
        let score = (matches!(outcome, "reached" | "satisfied") && self.rng.chance(0.5))
            .then(|| self.item_score());
        let at = self.rng.time(day, 9, 20);
        let t = self.touchpoint(
            at,
            Channel::PhoneOut,
            TouchpointKind::Callback,
            Some(dealer),
            vehicle,
        );
        self.push(Touchpoint {
            outcome: Some(outcome.into()),
            score,
            ..t
        });
    }

    fn survey(&mut self, kind: SurveyKind, day: Date, dealer: usize, vehicle: usize) {
        if !self.in_window(day) || day >= self.ends[vehicle] {
            return;
        }
        let factors: &[Factor] = match kind {
            SurveyKind::Sales => &[
                Factor::Friendliness,
                Factor::Initiative,
                Factor::ServiceQuality,
                Factor::VehiclePickUp,
            ],
            SurveyKind::Service => &[
                Factor::Friendliness,
                Factor::Initiative,
                Factor::Supervision,
                Factor::RepairProcess,
                Factor::ProductIssues,
                Factor::ServiceQuality,
                Factor::VehiclePickUp,
            ],
        };
        let items: Vec<(Factor, u8)> = factors.iter().map(|&f| (f, self.item_score())).collect();
        let weights: u32 = items.iter().map(|(f, _)| f.weight()).sum();
        let weighted: u32 = items.iter().map(|(f, s)| f.weight() * u32::from(*s)).sum();
        let overall = ((weighted + weights / 2) / weights) as u8;
        let seq = self.surveys.len();
        self.surveys.push(Survey {
            customer: CustomerId(0),
            dealer: Some(DealerId(dealer as u32)),
            kind,
            date: day,
            items,
            source: Some(SourceRef::new("survey", format!("SV-{}-{seq}", self.index))),
        });
        let channel = self
            .rng
            .pick(&[Channel::Sms, Channel::WeChat, Channel::PhoneOut]);
        let at = self.rng.time(day, 9, 21);
        let t = self.touchpoint(
            at,
            channel,
            TouchpointKind::Survey,
            Some(dealer),
            Some(vehicle),
        );
        self.push(Touchpoint {
            score: Some(overall),
            ..t
        });
    }

    /// The sale of vehicles `ks` (bought together): lead, enquiry, test drive, order, purchase,
    /// delivery, callbacks and a sales survey, as far as they fall in the history.
    fn sale(&mut self, ks: &[usize], purchase_type: PurchaseType, trade_in: bool) {
        let as_of = self.as_of();
        let org = self.arch.kind == Kind::Organisation;
        let first = &self.vehicles[ks[0]];
        let bought = first.acquired;
        let dealer = first
            .vehicle
            .selling_dealer
            .map_or(self.sales, |d| d.0 as usize);
        let model = first.vehicle.model.clone();
        let gap = self.rng.range(2, 60) as i32;
        let received = bought.add_days(-gap);
        if received > self.as_of() || bought.add_days(45) < self.net.start {
            return;
        }
        let origin = self.origin(org);
        if self.vehicles.len() == ks.len() && origin == LeadSource::Referral {
            self.referred = true;
        }
        let intent = match gap {
            ..=7 => Intent::H,
            8..=15 => Intent::A,
            16..=30 => Intent::B,
            _ => Intent::C,
        };
        let received_at = self.rng.time(received, 9, 20);
        let ordered_at = self.rng.time(bought, 9, 11);
        if self.in_window(received) {
            let seq = self.leads.len();
            self.leads.push(Lead {
                customer: CustomerId(0),
                origin,
                model: model.clone(),
                intent,
                purchase_type,
                dealer: Some(DealerId(dealer as u32)),
                received: received_at,
                status: LeadStatus::Won,
                status_at: Some(ordered_at),
                source: Some(SourceRef::new(
                    "dms",
                    format!("{}-L{}-{seq}", self.code(dealer), self.index),
                )),
            });
        }
        if self.rng.chance(0.5) {
            let day = received.add_days(-(self.rng.range(1, 10) as i32));
            let at = self.rng.time(day, 9, 21);
            let channel = self.enquiry_channel(origin);
            let t = self.touchpoint(at, channel, TouchpointKind::Enquiry, Some(dealer), None);
            self.push(Touchpoint {
                note: Some(format!("咨询{model}")),
                ..t
            });
        }
        let t = self.touchpoint(
            received_at,
            lead_channel(origin),
            TouchpointKind::Lead,
            Some(dealer),
            None,
        );
        self.push(t);
        if gap > 1 && self.rng.chance(if org { 0.3 } else { 0.6 }) {
            let day = self.rng.date(received.add_days(1), bought.add_days(-1));
            let at = self.rng.time(day, 10, 18);
            let t = self.touchpoint(
                at,
                Channel::Showroom,
                TouchpointKind::TestDrive,
                Some(dealer),
                None,
            );
            self.push(Touchpoint {
                note: Some(format!("试驾{model}")),
                ..t
            });
        }
        let t = self.touchpoint(
            ordered_at,
            Channel::Showroom,
            TouchpointKind::Order,
            Some(dealer),
            Some(ks[0]),
        );
        self.push(t);
        let mut delivered = None;
        for &k in ks {
            let v = &self.vehicles[k].vehicle;
            let (invoice, registration) = (v.invoice_date, v.registration_date);
            let m = MODELS
                .iter()
                .find(|m| m.name == v.model)
                .unwrap_or(&MODELS[0]);
            let price = self.price(m);
            if let Some(invoice) = invoice {
                let at = self.rng.time(invoice, 11, 14);
                let t = self.touchpoint(
                    at,
                    Channel::Showroom,
                    TouchpointKind::Purchase,
                    Some(dealer),
                    Some(k),
                );
                let note = trade_in.then(|| "旧车置换".to_string());
                self.push(Touchpoint {
                    amount: Some(price),
                    note,
                    ..t
                });
            }
            if let Some(reg) = registration {
                let at = self.rng.time(reg, 14, 18);
                let t = self.touchpoint(
                    at,
                    Channel::Showroom,
                    TouchpointKind::Delivery,
                    Some(dealer),
                    Some(k),
                );
                self.push(t);
                delivered = delivered.or(Some(reg));
            }
        }
        let Some(delivered) = delivered else { return };
        for (after, p) in [(3, 0.8), (7, 0.3), (30, 0.2)] {
            let day = delivered.add_days(after);
            if day <= as_of && self.rng.chance(p) {
                self.callback(day, dealer, Some(ks[0]));
            }
        }
        if self.rng.chance(0.4) {
            let day = delivered.add_days(self.rng.range(3, 14) as i32);
            self.survey(SurveyKind::Sales, day, dealer, ks[0]);
        }
    }

    /// Occasional contacts of owners: rescues, club activities, forum posts, referrals and
    /// inbound questions, while the customer is active.
    fn owner_extras(&mut self) {
        let Some(first) = self.vehicles.iter().map(|v| v.acquired).min() else {
            return;
        };
        let from = first.max(self.net.start);
        let to = self
            .as_of()
            .min(self.churn.map_or(self.as_of(), |c| c.add_days(-1)));
        if to <= from {
            return;
        }
        let years = i64::from(to.days_since(from)) as f64 / 365.0;
        let n = self.vehicles.len() as f64;
        let rescue_p = (0.04 * years * n).min(0.9);
        if self.rng.chance(rescue_p) {
            let day = self.rng.date(from, to);
            if let Some(k) = self.vehicle_on(day) {
                let at = self.rng.time(day, 0, 24);
                let outcome =
                    self.rng
                        .pick(&["towed to dealer", "fixed on site", "battery jump-start"]);
                let t = self.touchpoint(
                    at,
                    Channel::PhoneIn,
                    TouchpointKind::Rescue,
                    Some(self.home),
                    Some(k),
                );
                self.push(Touchpoint {
                    outcome: Some(outcome.into()),
                    ..t
                });
            }
        }
        if self.rng.chance(0.08) {
            for _ in 0..self.rng.between(1, 3) {
                let day = self.rng.date(from, to);
                let at = self.rng.time(day, 9, 17);
                let note =
                    self.rng
                        .pick(&["车主自驾游", "亲子嘉年华", "新车品鉴会", "爱车养护课堂"]);
                let t = self.touchpoint(
                    at,
                    Channel::Event,
                    TouchpointKind::ClubActivity,
                    Some(self.sales),
                    None,
                );
                self.push(Touchpoint {
                    note: Some(note.into()),
                    ..t
                });
            }
        }
        if self.rng.chance(0.06) {
            for _ in 0..self.rng.between(1, 6) {
                let day = self.rng.date(from, to);
                let at = self.rng.time(day, 7, 24);
                let k = self.vehicle_on(day);
                let t = self.touchpoint(at, Channel::App, TouchpointKind::ForumPost, None, k);
                self.push(t);
            }
        }
        if self.rng.chance(0.04) {
            let day = self.rng.date(from, to);
            let at = self.rng.time(day, 9, 20);
            let t = self.touchpoint(
                at,
                Channel::WeChat,
                TouchpointKind::Referral,
                Some(self.sales),
                None,
            );
            self.push(Touchpoint {
                note: Some("推荐朋友到店看车".into()),
                ..t
            });
        }
        if self.rng.chance(0.06) {
            let day = self.rng.date(from, to);
            let at = self.rng.time(day, 9, 20);
            let k = self.vehicle_on(day);
            let t = self.touchpoint(
                at,
                Channel::PhoneIn,
                TouchpointKind::Enquiry,
                Some(self.home),
                k,
            );
            self.push(Touchpoint {
                note: Some("咨询保养项目与价格".into()),
                ..t
            });
        }
    }

    /// A vehicle the customer had on `day`, if any.
    fn vehicle_on(&self, day: Date) -> Option<usize> {
        (0..self.vehicles.len()).find(|&k| self.vehicles[k].acquired <= day && day < self.ends[k])
    }

    fn complaint(&mut self) {
        let as_of = self.as_of();
        let first = self
            .vehicles
            .iter()
            .map(|v| v.acquired)
            .chain(self.leads.iter().map(|l| l.received.date()))
            .min();
        let Some(first) = first else { return };
        let from = first.max(self.net.start);
        if from > as_of {
            return;
        }
        // A churner's complaint comes before they stop coming (often it is why they stop).
        let to = self.churn.map_or(as_of, |c| c.min(as_of)).max(from);
        let day = self.rng.date(from, to);
        let vehicle = self.vehicle_on(day);
        let (category, notes) = if vehicle.is_some() {
            self.rng.pick(COMPLAINTS)
        } else {
            ("sales attitude", SALES_COMPLAINTS)
        };
        let note = self.rng.pick(notes);
        let dealer = if vehicle.is_some() {
            self.home
        } else {
            self.sales
        };
        let received = self.rng.time(day, 8, 21);
        let age = as_of.days_since(day);
        let status = match age {
            ..=1 => ComplaintStatus::Received,
            2..=6 => ComplaintStatus::Analysed,
            7..=13 => ComplaintStatus::Resolved,
            _ if self.rng.chance(0.1) => ComplaintStatus::CalledBack,
            _ => ComplaintStatus::Closed,
        };
        let end_of_history = as_of.at(23, 59, 59);
        let response = received.add_seconds(if self.rng.chance(0.9) {
            self.rng.range(1800, 86_000)
        } else {
            self.rng.range(90_000, 259_200)
        });
        let first_response = (status > ComplaintStatus::Received || self.rng.chance(0.5))
            .then_some(response)
            .filter(|&r| r <= end_of_history);
        let resolved = (status >= ComplaintStatus::Resolved)
            .then(|| received.add_seconds(self.rng.range(86_400, 10 * 86_400)))
            .map(|r| r.min(end_of_history));
        // Later steps follow at fixed offsets (no random draws, so the rest of the stream is
        // unchanged): analysis 4 h after receipt, the callback 2 days after the resolution,
        // closing a day after that.
        let step = |reached: bool, t: DateTime| reached.then(|| t.min(end_of_history));
        let analysed = step(
            status >= ComplaintStatus::Analysed,
            received.add_seconds(4 * 3600),
        );
        let called_back = resolved.and_then(|r| {
            step(
                status >= ComplaintStatus::CalledBack,
                r.add_seconds(2 * 86_400),
            )
        });
        let closed = called_back
            .and_then(|c| step(status == ComplaintStatus::Closed, c.add_seconds(86_400)));
        let seq = self.complaints.len();
        self.complaints.push(Complaint {
            customer: CustomerId(0),
            vehicle: vehicle.map(|k| VehicleId(k as u64)),
            dealer: Some(DealerId(dealer as u32)),
            category: category.to_string(),
            received,
            status,
            first_response,
            analysed,
            resolved,
            called_back,
            closed,
            note: Some(note.to_string()),
            source: Some(SourceRef::new(
                "call_centre",
                format!("CC-K{}-{seq}", self.index),
            )),
        });
        let t = self.touchpoint(
            received,
            Channel::PhoneIn,
            TouchpointKind::Complaint,
            Some(dealer),
            vehicle,
        );
        self.push(Touchpoint {
            note: Some(note.to_string()),
            ..t
        });
        if let Some(r) = resolved.filter(|_| status >= ComplaintStatus::CalledBack) {
            let day = r.date().add_days(1);
            if day <= as_of {
                let at = self.rng.time(day, 9, 20);
                let t = self.touchpoint(
                    at,
                    Channel::PhoneOut,
                    TouchpointKind::Callback,
                    Some(dealer),
                    vehicle,
                );
                self.push(Touchpoint {
                    outcome: Some("resolved".into()),
                    ..t
                });
            }
        }
    }
}

fn lead_channel(origin: LeadSource) -> Channel {
    match origin {
        LeadSource::CallCentre => Channel::PhoneIn,
        LeadSource::Web => Channel::Web,
        LeadSource::AutoShow => Channel::Event,
        LeadSource::WalkIn => Channel::Showroom,
        LeadSource::Referral => Channel::WeChat,
    }
}

/// The first anniversary of `from` after `after`.
fn next_anniversary(from: Date, after: Date) -> Date {
    let years = (after.year() - from.year()).max(1);
    let e = from.add_months(12 * years);
    if e > after {
        e
    } else {
        from.add_months(12 * (years + 1))
    }
}

/// The GB 11714 check character of an 8-digit organisation number.
fn organisation_check(digits: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from(b'0' + c as u8),
    }
}

/// A VIN of `model` with a unique serial, built in `year`, with a valid check digit.
fn vin(model: &Model, serial: u64, year: i32, offset: u64) -> String {
    let high = (serial / VIN_LOW_SPACE) as usize;
    let low = scramble(serial % VIN_LOW_SPACE, VIN_LOW_SPACE, VIN_MULT, offset);
    let mut s = String::with_capacity(17);
    s.push_str(model.wmi);
    s.push_str(model.vds);
    s.push(char::from(VIN_CHARS[high / 33 % 33]));
    s.push('0');
    s.push(char::from(
        YEAR_CODES[(year - 1980).rem_euclid(30) as usize],
    ));
    s.push(char::from(VIN_CHARS[high % 33]));
    s.push_str(&format!("{low:06}"));
    let check = validate::vin_check_digit(&s).unwrap_or('0');
    s.replace_range(8..9, check.encode_utf8(&mut [0; 4]));
    s
}

/// Binomial coefficients C(5, k): the ways to place k letters in a five-character serial.
const CHOOSE_5: [u64; 6] = [1, 5, 10, 10, 5, 1];

/// Five-character plate serials with exactly `letters` letters (the rest digits).
fn plate_class(letters: u32) -> u64 {
    CHOOSE_5[letters as usize] * 24u64.pow(letters) * 10u64.pow(5 - letters)
}

/// The number of plate serials needed for `slots` vehicles: serials are used in order of their
/// letter count, so small networks get all-digit plates and large ones at most two or three
/// letters, as on real plates.
fn plate_space(slots: u64) -> u64 {
    let mut total = 0;
    for letters in 0..=5 {
        total += plate_class(letters);
        if total >= slots {
            break;
        }
    }
    total
}

/// A plate of the given province and authority letter with the five-character serial of `rank`
/// (a bijection of `0..PLATE_SPACE`, fewest letters first).
fn plate(province: char, letter: char, mut rank: u64) -> String {
    debug_assert!(rank < PLATE_SPACE, "plate rank {rank} out of range");
    let mut tail = [b'0'; 5];
    for letters in 0..=5u32 {
        let size = plate_class(letters);
        if rank >= size {
            rank -= size;
            continue;
        }
        let per_pattern = size / CHOOSE_5[letters as usize];
        let (pattern, mut x) = (rank / per_pattern, rank % per_pattern);
        // The `pattern`-th choice of letter positions (bit i: position i from the left).
        let mask = (0u32..32)
            .filter(|m| m.count_ones() == letters)
            .nth(pattern as usize)
            .unwrap_or(0);
        for (pos, c) in tail.iter_mut().enumerate().rev() {
            if mask & (1 << pos) != 0 {
                *c = PLATE_LETTERS[(x % 24) as usize];
                x /= 24;
            } else {
                *c = b'0' + (x % 10) as u8;
                x /= 10;
            }
        }
        break;
    }
    let mut s = String::with_capacity(12);
    s.push(province);
    s.push(letter);
    s.push_str(std::str::from_utf8(&tail).unwrap_or("00000"));
    s
}

/// The odometer of the car with `serial` `days` after its first sale: a per-car yearly distance
/// that both of a used car's owners agree on.
fn mileage(serial: u64, fleet: bool, seed: u64, days: i32) -> u32 {
    let yearly = 8_000 + mix(serial ^ mix(seed ^ 0x6D11)) % 14_000 + if fleet { 15_000 } else { 0 };
    (yearly * u64::from(days.max(0).unsigned_abs()) / 365 + 5) as u32
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn network(customers: usize) -> Network {
        Network::new(SynthConfig::new(customers))
    }

    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }

    #[test]
    fn default_configuration() {
        let c = SynthConfig::new(100_000);
        assert_eq!(
            (c.seed, c.customers, c.dealers, c.years),
            (42, 100_000, 50, 5)
        );
        assert_eq!(c.as_of, Date::from_ymd(2026, 6, 30).unwrap());
        assert_eq!(SynthConfig::new(10).dealers, 4);
        assert_eq!(SynthConfig::new(10_000_000).dealers, 2000);
        assert_eq!(BIRTH_START, Date::from_ymd(1955, 1, 1).unwrap());
        assert_eq!(
            BIRTH_START.add_days(BIRTH_DAYS as i32 - 1),
            Date::from_ymd(2003, 12, 31).unwrap()
        );
        assert_eq!(EARLIEST_DATE, Date::from_ymd(1900, 1, 1).unwrap());
        assert_eq!(EARLIEST_PURCHASE, Date::from_ymd(1985, 1, 1).unwrap());
    }

    #[test]
    fn only_sensitive_kinds_are_flagged_sensitive() {
        // DOMAIN §3: complaints, warranty claims and rescue are sensitive; routine maintenance,
        // first services and repairs (whose bills list parts) are not.
        let net = network(300);
        let (mut routine, mut flagged) = (0, 0);
        for bundle in net.customers() {
            for t in &bundle.touchpoints {
                let by_kind = matches!(t.kind, TouchpointKind::Complaint | TouchpointKind::Rescue)
                    || t.service_kind == Some(ServiceKind::WarrantyRepair);
                assert_eq!(t.sensitive, by_kind, "{t:?}");
                if matches!(
                    t.service_kind,
                    Some(ServiceKind::Maintenance | ServiceKind::FirstService)
                ) {
                    routine += 1;
                }
                flagged += usize::from(t.sensitive);
            }
        }
        assert!(
            routine > 100 && flagged > 0,
            "{routine} routine, {flagged} flagged"
        );
    }

    #[test]
    fn key_derivations_are_bijections() {
        for (mult, space) in [
            (ID_MULT, ID_SPACE),
            (PHONE_MULT, PHONE_SPACE),
            (CREDIT_MULT, CREDIT_SPACE),
            (PLATE_MULT, plate_space(1)),
            (PLATE_MULT, plate_space(200_000)),
            (PLATE_MULT, plate_space(2_000_000)),
            (PLATE_MULT, PLATE_SPACE),
            (VIN_MULT, VIN_LOW_SPACE),
        ] {
            assert_eq!(gcd(mult, space), 1, "{mult} and {space}");
        }
        assert_eq!(PLATE_SPACE, 34u64.pow(5));
        assert_eq!(MOBILE_PREFIXES.len() as u64 * 100_000_000, PHONE_SPACE);
        // The documented capacity of 7,000,000 customers fits every key space.
        let customers = 7_000_000u64;
        assert!(customers <= ID_SPACE && 2 * customers <= PHONE_SPACE);
        assert!(customers <= CREDIT_SPACE && customers * SLOTS <= PLATE_SPACE);
        assert!(customers * SLOTS <= 33 * 33 * VIN_LOW_SPACE);
    }

    #[test]
    fn anniversaries_come_after_the_given_day() {
        let d = |y, m, dd| Date::from_ymd(y, m, dd).unwrap();
        assert_eq!(
            next_anniversary(d(2020, 5, 28), d(2026, 6, 30)),
            d(2027, 5, 28)
        );
        assert_eq!(
            next_anniversary(d(2020, 7, 6), d(2026, 6, 30)),
            d(2026, 7, 6)
        );
        assert_eq!(
            next_anniversary(d(2026, 6, 30), d(2026, 6, 30)),
            d(2027, 6, 30)
        );
        assert_eq!(
            next_anniversary(d(2026, 5, 1), d(2026, 6, 30)),
            d(2027, 5, 1)
        );
        assert_eq!(
            next_anniversary(d(2019, 6, 30), d(2026, 6, 30)),
            d(2027, 6, 30)
        );
    }

    #[test]
    fn plate_serials_are_distinct_and_use_few_letters() {
        assert_eq!((0..=5).map(plate_class).sum::<u64>(), PLATE_SPACE);
        assert_eq!(plate_space(1), 100_000);
        assert_eq!(plate_space(100_000), 100_000);
        assert_eq!(plate_space(100_001), 1_300_000);
        assert_eq!(plate_space(6_000_000), 7_060_000);
        assert_eq!(plate('沪', 'A', 0), "沪A00000");
        assert_eq!(plate('沪', 'A', 99_999), "沪A99999");
        assert_eq!(plate('沪', 'A', 100_000), "沪AA0000");
        assert_eq!(plate('沪', 'A', 100_001), "沪AA0001");
        assert_eq!(plate('沪', 'A', PLATE_SPACE - 1), "沪AZZZZZ");
        let mut rng = Rng::for_key(5, 5, 5);
        let boundaries = [0, 100_000, 1_300_000, 7_060_000, 20_884_000, 37_472_800];
        let ranks: HashSet<u64> = boundaries
            .iter()
            .flat_map(|&b: &u64| b.saturating_sub(500)..(b + 500).min(PLATE_SPACE))
            .chain((0..20_000).map(|_| rng.below(PLATE_SPACE)))
            .collect();
        let mut plates = HashSet::new();
        for &rank in &ranks {
            let p = plate('沪', 'A', rank);
            let letters = p.chars().skip(2).filter(char::is_ascii_uppercase).count() as u32;
            let class_start: u64 = (0..letters).map(plate_class).sum();
            assert!(
                rank >= class_start && rank < class_start + plate_class(letters),
                "{rank}"
            );
            assert_eq!(validate::plate("plate", &p).unwrap(), p);
            plates.insert(p);
        }
        assert_eq!(plates.len(), ranks.len());
        let distinct: HashSet<String> = (0..200_000).map(|r| plate('沪', 'A', r)).collect();
        assert_eq!(distinct.len(), 200_000);
    }

    #[test]
    fn rng_helpers_stay_in_range() {
        let mut r = Rng::for_key(1, 2, 3);
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            let x = r.range(-3, 4);
            assert!((-3..=4).contains(&x));
            assert!(r.between(5, 5) == 5);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(9, 2), 9);
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
        assert!(!(0..1000).any(|_| r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
        let mut counts = [0; 3];
        for _ in 0..9_000 {
            counts[r.weighted_index(3, |i| [1, 0, 2][i])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2_700..3_300).contains(&counts[0]), "{counts:?}");
        // The stream itself is part of the contract: these values must never change.
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn same_seed_gives_the_same_network_and_another_seed_another() {
        let (a, b) = (network(400), network(400));
        assert_eq!(a.dealers(), b.dealers());
        let xa: Vec<CustomerBundle> = a.customers().collect();
        let xb: Vec<CustomerBundle> = b.customers().collect();
        assert_eq!(xa, xb);
        assert_eq!(format!("{xa:?}"), format!("{xb:?}"));
        let c = Network::new(SynthConfig {
            seed: 7,
            ..SynthConfig::new(400)
        });
        assert_ne!(c.dealers(), a.dealers());
        let same = xa
            .iter()
            .zip(c.customers())
            .filter(|(x, y)| **x == *y)
            .count();
        assert_eq!(same, 0);
    }

    #[test]
    fn any_customer_can_be_generated_on_its_own() {
        let n = network(2_000);
        let all: Vec<CustomerBundle> = n.customers().collect();
        assert_eq!(all.len(), 2_000);
        for i in (0..2_000).rev().step_by(3) {
            assert_eq!(n.customer(i), all[i]);
            assert_eq!(all[i].index, i);
        }
    }

    #[test]
    fn every_record_passes_validation_unchanged() {
        let n = network(3_000);
        assert_eq!(n.dealers().len(), 4);
        let big = network(2_000 * 300);
        for d in n.dealers().iter().chain(big.dealers()) {
            assert_eq!(&d.normalised().unwrap(), d);
        }
        assert_eq!(big.dealers()[0].kind, DealerKind::FourS);
        let codes: HashSet<&str> = big.dealers().iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes.len(), big.dealers().len());
        let regions = ["East", "North", "South", "West", "Central", "Northeast"];
        assert!(big
            .dealers()
            .iter()
            .all(|d| regions.contains(&d.region.as_str())));
        let stations = big
            .dealers()
            .iter()
            .filter(|d| d.kind == DealerKind::ServiceStation);
        assert!(
            (20..80).contains(&stations.count()),
            "about 15% service stations"
        );
        for b in n.customers() {
            let c = &b.customer;
            assert_eq!(&c.normalised().unwrap(), c, "customer {}", b.index);
            if let Party::Person(p) = &c.party {
                if let Some(id) = &p.national_id {
                    assert_eq!(validate::national_id_birth_date(id), p.birth_date);
                    let female = p.gender == Some(Gender::Female);
                    assert_eq!(validate::national_id_is_female(id), Some(female), "{id}");
                }
            }
            for v in &b.vehicles {
                assert_eq!(
                    v.vehicle.normalised().unwrap(),
                    v.vehicle,
                    "customer {}",
                    b.index
                );
                assert!(v.vehicle.vin.starts_with('L'));
            }
            for t in &b.touchpoints {
                assert_eq!(&t.normalised().unwrap(), t, "customer {}", b.index);
            }
            for l in &b.leads {
                assert_eq!(&l.normalised().unwrap(), l);
            }
            for k in &b.complaints {
                assert_eq!(&k.normalised().unwrap(), k);
            }
            for s in &b.surveys {
                assert_eq!(&s.normalised().unwrap(), s);
            }
        }
    }

    #[test]
    fn network_invariants_hold() {
        const N: usize = 20_000;
        let n = network(N);
        let as_of = n.config().as_of;
        let (start, end) = (n.start().at_midnight(), as_of.at(23, 59, 59));
        assert_eq!(n.start(), Date::from_ymd(2021, 6, 30).unwrap());
        let mut ids = HashSet::new();
        let mut codes = HashSet::new();
        let mut phones = HashSet::new();
        let mut vins = HashSet::new();
        let mut plates = HashSet::new();
        let mut sources = HashSet::new();
        let mut traded = HashSet::new();
        let mut source = |s: &Option<SourceRef>| {
            let s = s.as_ref().expect("every record has a source");
            assert!(
                sources.insert((s.system.clone(), s.record_id.clone())),
                "{s:?}"
            );
        };
        let (mut orgs, mut prospects, mut owners, mut used, mut touchpoints) = (0, 0, 0, 0, 0);
        let (mut complainers, mut with_relations) = (0, 0);
        let (mut loyal_visits, mut loyal_cars, mut churn_visits, mut churn_cars) = (0, 0, 0, 0);
        for b in n.customers() {
            let c = &b.customer;
            source(&c.source);
            if let Some(id) = c.national_id() {
                assert!(ids.insert(id.to_string()), "{id}");
            }
            if let Some(code) = c.credit_code() {
                assert!(codes.insert(code.to_string()), "{code}");
            }
            for p in &c.phones {
                assert!(phones.insert(p.clone()), "{p}");
            }
            orgs += usize::from(c.is_organisation());
            complainers += usize::from(!b.complaints.is_empty());
            with_relations += usize::from(!b.relations.is_empty());
            if b.segment == Segment::Prospect {
                prospects += 1;
                assert!(b.vehicles.is_empty() && !b.leads.is_empty(), "{}", b.index);
                assert!(b.leads.iter().all(|l| l.status != LeadStatus::Won));
            } else {
                owners += 1;
                assert!(!b.vehicles.is_empty(), "{}", b.index);
            }
            if c.is_organisation() {
                assert!((2..=6).contains(&b.vehicles.len()));
                assert!(b.vehicles.iter().all(|v| v.vehicle.usage == Usage::Fleet));
            }
            for (k, v) in b.vehicles.iter().enumerate() {
                let d = v.vehicle.selling_dealer.expect("selling dealer").0 as usize;
                assert_eq!(n.dealers()[d].kind, DealerKind::FourS);
                match v.previous_owner {
                    None => {
                        assert_eq!(v.vehicle.purchase_date, Some(v.acquired));
                        assert!(vins.insert(v.vehicle.vin.clone()), "{}", v.vehicle.vin);
                        if let Some(p) = &v.vehicle.plate {
                            assert!(plates.insert(p.clone()), "{p}");
                        }
                        source(&v.vehicle.source);
                    }
                    Some((j, kj)) => {
                        used += 1;
                        assert!(j < b.index && traded.insert((j, kj)));
                        let seller = n.customer(j);
                        let old = &seller.vehicles[kj];
                        assert_eq!(old.vehicle, v.vehicle);
                        assert_eq!(seller.customer.city, c.city);
                        assert!(old.previous_owner.is_none());
                        assert!(old.acquired.add_months(36) <= v.acquired);
                        let theirs = seller.touchpoints.iter().filter(|t| t.vehicle.is_some());
                        for t in theirs.filter(|t| t.vehicle == Some(VehicleId(kj as u64))) {
                            assert!(t.date() < v.acquired, "seller {j} still uses the car");
                        }
                        assert!(b
                            .touchpoints
                            .iter()
                            .any(|t| t.vehicle == Some(VehicleId(k as u64))));
                    }
                }
            }
            touchpoints += b.touchpoints.len();
            assert!(
                b.touchpoints.windows(2).all(|w| w[0].at <= w[1].at),
                "{}",
                b.index
            );
            for t in &b.touchpoints {
                assert!(start <= t.at && t.at <= end, "{} {:?}", b.index, t);
                assert_eq!(t.customer, CustomerId(0));
                assert!(t.dealer.is_none_or(|d| (d.0 as usize) < n.dealers().len()));
                if let Some(VehicleId(k)) = t.vehicle {
                    let v = &b.vehicles[k as usize];
                    assert!(v.acquired <= t.date(), "{} {:?}", b.index, t);
                }
                assert_eq!(
                    t.service_kind.is_some(),
                    t.kind == TouchpointKind::ServiceVisit
                );
                if t.kind == TouchpointKind::ServiceVisit {
                    let (p, l) = (t.parts_amount.unwrap(), t.labour_amount.unwrap());
                    assert_eq!(t.amount, Some(p + l));
                    assert!(t.mileage_km.is_some());
                }
                if t.kind == TouchpointKind::Purchase && t.note.as_deref() != Some("二手车置换购入")
                {
                    let yuan = t.amount.unwrap().fen() / 100;
                    assert!((80_000..=500_000).contains(&yuan), "{yuan}");
                }
                source(&t.source);
            }
            for (kind, j) in &b.relations {
                assert!(*j < b.index);
                let target = n.peek(*j);
                if *kind == RelationKind::ReferredBy {
                    assert_ne!(target.kind, Kind::Prospect);
                } else {
                    assert!(c.is_organisation() == kind.is_key_person());
                    assert_ne!(target.kind, Kind::Organisation);
                }
            }
            for l in &b.leads {
                assert!(start <= l.received && l.received <= end);
                assert_eq!(l.customer, CustomerId(0));
                source(&l.source);
            }
            for k in &b.complaints {
                assert!(start <= k.received && k.received <= end);
                assert!(k.vehicle.is_none_or(|v| (v.0 as usize) < b.vehicles.len()));
                source(&k.source);
            }
            let kinds = |kind| b.touchpoints.iter().filter(move |t| t.kind == kind).count();
            assert_eq!(kinds(TouchpointKind::Complaint), b.complaints.len());
            assert_eq!(kinds(TouchpointKind::Survey), b.surveys.len());
            for s in &b.surveys {
                assert!(n.start() <= s.date && s.date <= as_of);
                source(&s.source);
            }
            // Cadence: visits in the last year of cars owned all year (single-car customers).
            if b.vehicles.len() == 1 && b.vehicles[0].acquired <= as_of.add_days(-400) {
                let last_year = as_of.add_days(-365).at_midnight();
                let visits = b
                    .touchpoints
                    .iter()
                    .filter(|t| t.kind == TouchpointKind::ServiceVisit && t.at > last_year)
                    .count();
                match b.segment {
                    Segment::Loyal => {
                        (loyal_visits, loyal_cars) = (loyal_visits + visits, loyal_cars + 1)
                    }
                    Segment::Churner => {
                        (churn_visits, churn_cars) = (churn_visits + visits, churn_cars + 1)
                    }
                    _ => {}
                }
            }
        }
        let pct = |x: usize, of: usize| x as f64 * 100.0 / of as f64;
        assert!((5.5..8.5).contains(&pct(orgs, N)), "orgs {}", pct(orgs, N));
        assert!(
            (12.0..17.0).contains(&pct(prospects, N)),
            "prospects {}",
            pct(prospects, N)
        );
        assert!(
            (2.0..4.5).contains(&pct(used, owners)),
            "used {}",
            pct(used, owners)
        );
        assert!(
            (2.0..4.5).contains(&pct(complainers, N)),
            "complaints {}",
            pct(complainers, N)
        );
        assert!(with_relations > N / 20, "{with_relations}");
        let average = touchpoints as f64 / N as f64;
        assert!(
            (8.0..=12.5).contains(&average),
            "{average} touchpoints per customer"
        );
        let loyal = loyal_visits as f64 / loyal_cars as f64;
        let churn = churn_visits as f64 / churn_cars as f64;
        assert!(
            loyal >= 2.0,
            "loyal owners: {loyal} visits in the last year"
        );
        assert!(churn < 1.0, "churners: {churn} visits in the last year");
    }
}
