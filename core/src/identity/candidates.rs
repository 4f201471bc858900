//! Duplicate candidates: blocking, pair rules and scores (see the module documentation).

use std::collections::{HashMap, HashSet};

use redb::ReadableTable;

use crate::customer::{Customer, Gender, Party};
use crate::date::Date;
use crate::error::Result;
use crate::ids::CustomerId;
use crate::store::{decode_stored, ReadTxn};

/// A rule that fired on a pair of customers, with its points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MatchReason {
    /// Trigger, 90: a shared mobile and the same name.
    PhoneAndName,
    /// Trigger, 70: a shared mobile and a similar name (same surname, small edit distance).
    PhoneAndSimilarName,
    /// Trigger, 85: same name and same birth date.
    NameAndBirthDate,
    /// Trigger, 80: same name and same employer.
    NameAndEmployer,
    /// Trigger, 80: same name and same postal address.
    NameAndAddress,
    /// Trigger, 70: two organisations with the same name.
    OrganisationName,
    /// Support, 40: a similar (not equal) name and the same birth date.
    SimilarNameAndBirthDate,
    /// Support, 20: same city (with another rule, it makes a move or a typo less likely).
    SameCity,
    /// Contradiction, −40: both birth dates known and different.
    BirthDateDiffers,
    /// Contradiction, −30: both genders known and different.
    GenderDiffers,
    /// Contradiction, −20: two organisations in different cities.
    CityDiffers,
}

impl MatchReason {
    /// Points: positive for evidence of one identity, negative for evidence against.
    pub fn points(self) -> i32 {
        match self {
            MatchReason::PhoneAndName => 90,
            MatchReason::PhoneAndSimilarName => 70,
            MatchReason::NameAndBirthDate => 85,
            MatchReason::NameAndEmployer => 80,
            MatchReason::NameAndAddress => 80,
            MatchReason::OrganisationName => 70,
            MatchReason::SimilarNameAndBirthDate => 40,
            MatchReason::SameCity => 20,
            MatchReason::BirthDateDiffers => -40,
            MatchReason::GenderDiffers => -30,
            MatchReason::CityDiffers => -20,
        }
    }

    /// Whether this rule alone makes a pair a candidate.
    pub fn is_trigger(self) -> bool {
        matches!(
            self,
            MatchReason::PhoneAndName
                | MatchReason::PhoneAndSimilarName
                | MatchReason::NameAndBirthDate
                | MatchReason::NameAndEmployer
                | MatchReason::NameAndAddress
                | MatchReason::OrganisationName
        )
    }

    /// The stable snake-case name, e.g. `"phone_and_similar_name"`.
    pub fn name(self) -> &'static str {
        match self {
            MatchReason::PhoneAndName => "phone_and_name",
            MatchReason::PhoneAndSimilarName => "phone_and_similar_name",
            MatchReason::NameAndBirthDate => "name_and_birth_date",
            MatchReason::NameAndEmployer => "name_and_employer",
            MatchReason::NameAndAddress => "name_and_address",
            MatchReason::OrganisationName => "organisation_name",
            MatchReason::SimilarNameAndBirthDate => "similar_name_and_birth_date",
            MatchReason::SameCity => "same_city",
            MatchReason::BirthDateDiffers => "birth_date_differs",
            MatchReason::GenderDiffers => "gender_differs",
            MatchReason::CityDiffers => "city_differs",
        }
    }
}

/// Two customers that may be one, with the score and the rules that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateCandidate {
    /// One customer: the lower id in [`ReadTxn::duplicate_candidates`], the customer asked
    /// about in [`ReadTxn::duplicates_of`].
    pub customer: CustomerId,
    /// The other customer.
    pub other: CustomerId,
    /// 0–100: how likely the two are one.
    pub score: u8,
    /// The rules that fired, in the order of [`MatchReason`].
    pub reasons: Vec<MatchReason>,
}

/// What the rules look at, computed once per customer.
#[derive(Clone, Debug)]
pub(crate) struct Features {
    id: u64,
    org: bool,
    name: String,
    surname: String,
    latin: bool,
    phones: Vec<String>,
    birth: Option<Date>,
    gender: Option<Gender>,
    employer: Option<String>,
    address: Option<String>,
    city: Option<String>,
    /// National ID or credit code.
    unique_key: Option<String>,
}

/// Chinese compound surnames (复姓) common enough to meet in a customer file.
const COMPOUND_SURNAMES: [&str; 24] = [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "百里", "钟离", "申屠", "澹台",
];

/// Letters and digits only, lower case: the key addresses and employers are compared on.
fn text_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The name key (see the module documentation) and whether the name is in Latin script.
fn name_key(name: &str) -> (String, bool) {
    let mut words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect();
    let latin = words.iter().all(|w| w.is_ascii());
    if latin {
        // "Zhao Lei" and "Lei Zhao" are the same person written in two orders.
        words.sort();
    }
    (words.concat(), latin)
}

/// The surname of a Chinese name key; empty for Latin-script names, whose word order does not
/// say which word is the surname (their phone block is then the whole phone).
fn surname(key: &str, latin: bool) -> String {
    if latin {
        return String::new();
    }
    if let Some(s) = COMPOUND_SURNAMES.iter().find(|s| key.starts_with(**s)) {
        return (*s).to_string();
    }
    key.chars().take(1).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

impl Features {
    pub(crate) fn of(id: u64, c: &Customer) -> Features {
        let (name, latin) = name_key(c.name());
        let (org, birth, gender, employer) = match &c.party {
            Party::Person(p) => (
                false,
                p.birth_date,
                p.gender,
                p.employer.as_deref().map(text_key),
            ),
            Party::Organisation(_) => (true, None, None, None),
        };
        Features {
            id,
            org,
            surname: surname(&name, latin),
            name,
            latin,
            phones: c.phones.clone(),
            birth,
            gender,
            employer: employer.filter(|e| !e.is_empty()),
            address: c.address.as_deref().map(text_key).filter(|a| !a.is_empty()),
            city: c.city.as_deref().map(text_key).filter(|a| !a.is_empty()),
            unique_key: c.national_id().or(c.credit_code()).map(str::to_string),
        }
    }

    /// The blocks this customer falls in: two customers a trigger rule can fire on always
    /// share one.
    fn blocks(&self) -> Vec<Block> {
        let mut out = Vec::new();
        if self.name.is_empty() {
            return out;
        }
        for p in &self.phones {
            out.push(Block::Phone(p.clone(), self.surname.clone()));
        }
        if let Some(b) = self.birth {
            out.push(Block::Birth(self.name.clone(), b));
        }
        if let Some(e) = &self.employer {
            out.push(Block::Employer(self.name.clone(), e.clone()));
        }
        if let Some(a) = &self.address {
            out.push(Block::Address(self.name.clone(), a.clone()));
        }
        if self.org {
            out.push(Block::Organisation(self.name.clone()));
        }
        out
    }

    /// Whether the two names are similar but not equal (see the module documentation).
    fn similar_name(&self, other: &Features) -> bool {
        if self.name == other.name || self.surname != other.surname || self.latin != other.latin {
            return false;
        }
        let longest = self.name.chars().count().max(other.name.chars().count());
        let distance = edit_distance(&self.name, &other.name);
        // Chinese: at most 40 % of the characters differ; Latin script: at most 20 %.
        let percent = if self.latin { 20 } else { 40 };
        distance * 100 <= longest * percent
    }

    /// The rules that fire on the pair, or `None` when no trigger fires or the two can never
    /// be one (different party kinds, different national IDs or credit codes).
    fn compare(&self, other: &Features) -> Option<(u8, Vec<MatchReason>)> {
        if self.id == other.id || self.org != other.org || self.name.is_empty() {
            return None;
        }
        if let (Some(a), Some(b)) = (&self.unique_key, &other.unique_key) {
            if a != b {
                return None;
            }
        }
        let same_name = self.name == other.name;
        let shared_phone = self.phones.iter().any(|p| other.phones.contains(p));
        let similar = self.similar_name(other);
        let both =
            |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a == b);
        let mut reasons = Vec::new();
        if shared_phone && same_name {
            reasons.push(MatchReason::PhoneAndName);
        }
        if shared_phone && similar {
            reasons.push(MatchReason::PhoneAndSimilarName);
        }
        let same_birth = self.birth.is_some() && self.birth == other.birth;
        if same_name && same_birth {
            reasons.push(MatchReason::NameAndBirthDate);
        }
        if same_name && both(&self.employer, &other.employer) {
            reasons.push(MatchReason::NameAndEmployer);
        }
        if same_name && both(&self.address, &other.address) {
            reasons.push(MatchReason::NameAndAddress);
        }
        if same_name && self.org {
            reasons.push(MatchReason::OrganisationName);
        }
        if !reasons.iter().any(|r| r.is_trigger()) {
            return None;
        }
        if similar && same_birth {
            reasons.push(MatchReason::SimilarNameAndBirthDate);
        }
        if both(&self.city, &other.city) {
            reasons.push(MatchReason::SameCity);
        }
        if self.birth.is_some() && other.birth.is_some() && !same_birth {
            reasons.push(MatchReason::BirthDateDiffers);
        }
        if matches!((self.gender, other.gender), (Some(a), Some(b)) if a != b) {
            reasons.push(MatchReason::GenderDiffers);
        }
        if self.org && matches!((&self.city, &other.city), (Some(a), Some(b)) if a != b) {
            reasons.push(MatchReason::CityDiffers);
        }
        reasons.sort();
        Some((score(&reasons), reasons))
    }
}

/// The score of a set of reasons: positive points combined as independent evidence, negative
/// points subtracted, clamped to 0–100.
fn score(reasons: &[MatchReason]) -> u8 {
    // Exact integer arithmetic: the chance that every positive rule is wrong is
    // Π(100 − pᵢ) / 100ⁿ, rounded half up after taking it from 100.
    let (mut unlikely, mut denominator, mut minus) = (1u128, 1u128, 0i64);
    for r in reasons {
        let p = r.points();
        if p > 0 {
            unlikely *= (100 - p) as u128;
            denominator *= 100;
        } else {
            minus -= i64::from(p);
        }
    }
    let plus = ((100 * (denominator - unlikely) + denominator / 2) / denominator) as i64;
    (plus - minus).clamp(0, 100) as u8
}

/// A blocking key: only customers sharing one are compared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Block {
    Phone(String, String),
    Birth(String, Date),
    Employer(String, String),
    Address(String, String),
    Organisation(String),
}

fn candidate(a: &Features, b: &Features, min_score: u8) -> Option<DuplicateCandidate> {
    let (score, reasons) = a.compare(b)?;
    (score >= min_score).then_some(DuplicateCandidate {
        customer: CustomerId(a.id),
        other: CustomerId(b.id),
        score,
        reasons,
    })
}

fn sort(out: &mut [DuplicateCandidate]) {
    out.sort_by(|x, y| {
        y.score
            .cmp(&x.score)
            .then(x.customer.cmp(&y.customer))
            .then(x.other.cmp(&y.other))
    });
}

/// Refuses a minimum score above 100 (`validation.out_of_range` on `min_score`): scores are
/// 0–100, so such a call could only ever list nothing, which looks like "no duplicates".
pub(crate) fn check_min_score(min_score: u8) -> Result<()> {
    if min_score > 100 {
        return Err(crate::ValidationError::new(
            "min_score",
            crate::Rule::OutOfRange,
            min_score.to_string(),
        )
        .into());
    }
    Ok(())
}

impl ReadTxn {
    /// Every pair of live customers that may be one person or organisation, scoring at least
    /// `min_score` (0–100; above is `validation.out_of_range`), highest score first (then by
    /// ids). Each pair appears once, the lower id as `customer`. One scan of the customer
    /// table; only customers sharing a block are compared (see [`crate::identity`]).
    pub fn duplicate_candidates(&self, min_score: u8) -> Result<Vec<DuplicateCandidate>> {
        check_min_score(min_score)?;
        let features = self.all_features()?;
        let mut blocks: HashMap<Block, Vec<u32>> = HashMap::new();
        for (i, f) in features.iter().enumerate() {
            for b in f.blocks() {
                blocks.entry(b).or_default().push(i as u32);
            }
        }
        let mut pairs: HashSet<(u32, u32)> = HashSet::new();
        for members in blocks.values().filter(|m| m.len() > 1) {
            for (k, &a) in members.iter().enumerate() {
                for &b in &members[k + 1..] {
                    // Features are in id order, so (a, b) with a < b names the lower id first.
                    pairs.insert((a.min(b), a.max(b)));
                }
            }
        }
        let mut out: Vec<DuplicateCandidate> = pairs
            .into_iter()
            .filter_map(|(a, b)| candidate(&features[a as usize], &features[b as usize], min_score))
            .collect();
        sort(&mut out);
        Ok(out)
    }

    /// The duplicate candidates of one customer (any score), highest score first, the customer
    /// as `customer` in each. A merged id is followed to its survivor. The same pairs and
    /// scores as [`ReadTxn::duplicate_candidates`] reports for this customer; it compares the
    /// customer with every other one in one scan, as names have no index.
    pub fn duplicates_of(&self, customer: CustomerId) -> Result<Vec<DuplicateCandidate>> {
        let (id, c) = self.live_customer(customer)?;
        let me = Features::of(id.0, &c);
        let mut out = Vec::new();
        for entry in self.tables.customers()?.iter()? {
            let (k, v) = entry?;
            if k.value() == id.0 {
                continue;
            }
            let other = Features::of(k.value(), &decode_stored(v.value())?);
            out.extend(candidate(&me, &other, 0));
        }
        sort(&mut out);
        Ok(out)
    }

    fn all_features(&self) -> Result<Vec<Features>> {
        let t = self.tables.customers()?;
        let mut out = Vec::new();
        for entry in t.iter()? {
            let (k, v) = entry?;
            out.push(Features::of(k.value(), &decode_stored(v.value())?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_characters_not_bytes() {
        assert_eq!(edit_distance("王小明", "王明"), 1);
        assert_eq!(edit_distance("王小明", "王晓明"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn names_keys_and_surnames() {
        assert_eq!(name_key("Zhao Lei"), name_key("lei  ZHAO"));
        assert_eq!(name_key("欧阳 娜娜").0, "欧阳娜娜");
        assert_eq!(surname("欧阳娜娜", false), "欧阳");
        assert_eq!(surname("王小明", false), "王");
    }

    #[test]
    fn similar_names_share_a_surname_and_differ_little() {
        let f = |name: &str| Features::of(1, &Customer::person(name));
        let similar = |a: &str, b: &str| f(a).similar_name(&f(b));
        assert!(similar("王小明", "王晓明"));
        assert!(similar("王小明", "王明"));
        assert!(similar("欧阳娜娜", "欧阳娜"));
        assert!(!similar("欧阳娜娜", "欧娜娜"), "another surname");
        assert!(!similar("王伟", "王芳"), "half the name differs");
        assert!(!similar("王小明", "李小明"), "another surname");
        assert!(!similar("王小明", "王小明"), "equal is not merely similar");
        assert!(similar("Wang Xiaoming", "xiaomin wang"));
        assert!(!similar("Zhao Lei", "Zhao Lie"), "two letters of seven");
    }

    #[test]
    fn scores_combine_as_independent_evidence() {
        use MatchReason::*;
        assert_eq!(score(&[PhoneAndName]), 90);
        assert_eq!(score(&[PhoneAndName, NameAndBirthDate]), 99);
        assert_eq!(score(&[PhoneAndSimilarName, GenderDiffers]), 40);
        assert_eq!(
            score(&[OrganisationName, CityDiffers, BirthDateDiffers]),
            10
        );
    }
}
