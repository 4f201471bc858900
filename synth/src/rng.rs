//! Random streams and the bijections that derive unique natural keys from a customer index.

use autocrm::date::{Date, DateTime};

/// SplitMix64: tiny, fast, and identical on every platform.
#[derive(Clone, Debug)]
pub(crate) struct Rng(pub(crate) u64);

pub(crate) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective 64-bit mixer.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) const TAG_DEALERS: u64 = 1;
pub(crate) const TAG_CUSTOMER: u64 = 2;
pub(crate) const TAG_PAIR: u64 = 3;

impl Rng {
    /// An independent stream for `key` of kind `tag` under `seed`.
    pub(crate) fn for_key(seed: u64, tag: u64, key: u64) -> Rng {
        Rng(mix(
            mix(seed ^ tag.wrapping_mul(GOLDEN)) ^ key.wrapping_mul(0xD1B5_4A32_D192_ED03)
        ))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-high: no modulo bias worth speaking of.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// Uniform in `lo..=hi` for small ranges.
    pub(crate) fn between(&mut self, lo: u32, hi: u32) -> u32 {
        self.range(i64::from(lo), i64::from(hi)) as u32
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An index in `0..n` with probability proportional to `weight(i)`.
    pub(crate) fn weighted_index(&mut self, n: usize, weight: impl Fn(usize) -> u32) -> usize {
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
    pub(crate) fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        items[self.weighted_index(items.len(), |i| items[i].1)].0
    }

    /// A day uniformly in `lo..=hi` (`lo` when `hi < lo`).
    pub(crate) fn date(&mut self, lo: Date, hi: Date) -> Date {
        lo.add_days(self.range(0, i64::from(hi.days_since(lo))) as i32)
    }

    /// A time of day on `d` between `from_hour` and `to_hour` (exclusive).
    pub(crate) fn time(&mut self, d: Date, from_hour: u32, to_hour: u32) -> DateTime {
        let hour = self.between(from_hour, to_hour.max(from_hour + 1) - 1);
        d.at(hour, self.between(0, 59), self.between(0, 59))
    }
}

/// Seed-dependent offsets of the bijections that derive natural keys from customer indexes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keys {
    pub(crate) id: u64,
    pub(crate) phone: u64,
    pub(crate) credit: u64,
    pub(crate) plate: u64,
    pub(crate) vin: u64,
}

impl Keys {
    pub(crate) fn new(seed: u64) -> Keys {
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
pub(crate) fn scramble(x: u64, m: u64, mult: u64, offset: u64) -> u64 {
    match x.checked_mul(mult).and_then(|y| y.checked_add(offset)) {
        Some(y) => y % m,
        None => ((u128::from(x) * u128::from(mult) + u128::from(offset)) % u128::from(m)) as u64,
    }
}

/// Days from 1955-01-01 to 2003-12-31 inclusive: the birth dates of generated persons.
pub(crate) const BIRTH_DAYS: u64 = 17_897;
/// 1955-01-01.
pub(crate) const BIRTH_START: Date = Date::from_days(-5_479);
/// (birth day, sequence pair) slots of resident IDs: 500 sequence numbers per gender and day.
pub(crate) const ID_SPACE: u64 = BIRTH_DAYS * 500;
pub(crate) const ID_MULT: u64 = 1_000_003;
/// 30 mobile prefixes × 10^8 subscriber numbers.
pub(crate) const PHONE_SPACE: u64 = 30 * 100_000_000;
pub(crate) const PHONE_MULT: u64 = 2_654_435_761;
/// 8-digit organisation numbers of credit codes.
pub(crate) const CREDIT_SPACE: u64 = 100_000_000;
pub(crate) const CREDIT_MULT: u64 = 48_271;
/// 34^5 five-character plate serials (digits and letters without I and O).
pub(crate) const PLATE_SPACE: u64 = 45_435_424;
/// A prime above `PLATE_SPACE`, hence coprime with every plate space in use.
pub(crate) const PLATE_MULT: u64 = 1_000_000_007;
/// Six-digit VIN serials.
pub(crate) const VIN_LOW_SPACE: u64 = 1_000_000;
pub(crate) const VIN_MULT: u64 = 7_654_321;
/// Vehicle slots per customer: vehicle `k` of customer `i` has serial `i * SLOTS + k`.
pub(crate) const SLOTS: u64 = 6;
/// Customers per block of the used-car pairing.
pub(crate) const PAIR_BLOCK: usize = 32;
/// 1900-01-01, the earliest plausible date.
pub(crate) const EARLIEST_DATE: Date = Date::from_days(-25_567);
/// 1985-01-01: no generated car is older.
pub(crate) const EARLIEST_PURCHASE: Date = Date::from_days(5_479);
