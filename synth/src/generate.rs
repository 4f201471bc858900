//! Generating one customer: its party, vehicles, leads, complaints, surveys and touchpoints.

use autocrm::complaint::{Complaint, ComplaintStatus};
use autocrm::customer::{Customer, Gender, Organisation, Party, Person, RelationKind};
use autocrm::date::{Date, DateTime};
use autocrm::ids::{CustomerId, DealerId, VehicleId};
use autocrm::lead::{Intent, Lead, LeadSource, LeadStatus, PurchaseType};
use autocrm::money::Money;
use autocrm::source::SourceRef;
use autocrm::survey::{Factor, Survey, SurveyKind};
use autocrm::touchpoint::{Channel, LifecycleStage, ServiceKind, Touchpoint, TouchpointKind};
use autocrm::validate;
use autocrm::vehicle::{Usage, Vehicle};

use crate::*;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Site {
    pub(crate) province: u8,
    pub(crate) city: u8,
    /// The 4S shop where customers of this dealer buy their cars.
    pub(crate) sales: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Prospect,
    PersonOwner,
    Organisation,
}

/// A customer's part in a used-car sale between two customers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
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
pub(crate) struct Archetype {
    pub(crate) kind: Kind,
    pub(crate) segment: Segment,
    pub(crate) role: Role,
}

impl Network {
    /// The birth date and resident-ID sequence pair (0..500) of person `index`: a bijection, so
    /// no two persons share both.
    pub(crate) fn birth_slot(&self, index: usize) -> (Date, u32) {
        let h = scramble(index as u64, ID_SPACE, ID_MULT, self.keys.id);
        (
            BIRTH_START.add_days((h % BIRTH_DAYS) as i32),
            (h / BIRTH_DAYS) as u32,
        )
    }

    /// The used-car sale of block `block`, if any: (seller, buyer, date). Both sides compute it,
    /// so the seller knows its car will go and the buyer knows where it comes from.
    pub(crate) fn pair(&self, block: usize) -> Option<(usize, usize, Date)> {
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

    pub(crate) fn role(&self, index: usize) -> Role {
        match self.pair(index / PAIR_BLOCK) {
            Some((s, _, on)) if s == index => Role::Seller { on },
            Some((s, b, on)) if b == index => Role::Buyer { seller: s, on },
            _ => Role::Regular,
        }
    }

    /// The archetype of customer `index`, drawn as the first values of its stream `rng`.
    pub(crate) fn archetype(&self, index: usize, rng: &mut Rng) -> Archetype {
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
    pub(crate) fn home(&self, rng: &mut Rng) -> usize {
        let x = rng.below(*self.cumulative.last().unwrap_or(&1));
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.dealers.len() - 1)
    }

    /// The archetype of customer `index` without generating the customer.
    pub(crate) fn peek(&self, index: usize) -> Archetype {
        let mut rng = Rng::for_key(self.config.seed, TAG_CUSTOMER, index as u64);
        self.archetype(index, &mut rng)
    }

    pub(crate) fn phone(&self, n: u64) -> String {
        let h = scramble(n, PHONE_SPACE, PHONE_MULT, self.keys.phone);
        format!(
            "{}{:08}",
            MOBILE_PREFIXES[(h / 100_000_000) as usize],
            h % 100_000_000
        )
    }
}

/// The state of one customer's generation.
pub(crate) struct Gen<'a> {
    pub(crate) net: &'a Network,
    pub(crate) index: usize,
    pub(crate) rng: Rng,
    pub(crate) arch: Archetype,
    pub(crate) home: usize,
    /// The 4S shop the customer buys from.
    pub(crate) sales: usize,
    pub(crate) birth: Date,
    /// Customer's overall satisfaction, 0–10.
    pub(crate) sat: i64,
    /// Mean days between workshop visits.
    pub(crate) interval: i32,
    pub(crate) churn: Option<Date>,
    pub(crate) complainer: bool,
    pub(crate) referred: bool,
    /// Per vehicle: serial number.
    pub(crate) serials: Vec<u64>,
    /// Per vehicle: the day the customer gave it up (after the history if still owned).
    pub(crate) ends: Vec<Date>,
    pub(crate) vehicles: Vec<SynthVehicle>,
    pub(crate) touchpoints: Vec<Touchpoint>,
    pub(crate) leads: Vec<Lead>,
    pub(crate) complaints: Vec<Complaint>,
    pub(crate) surveys: Vec<Survey>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(net: &'a Network, index: usize) -> Gen<'a> {
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

    pub(crate) fn run(mut self) -> CustomerBundle {
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

    pub(crate) fn as_of(&self) -> Date {
        self.net.config.as_of
    }

    pub(crate) fn in_window(&self, d: Date) -> bool {
        d >= self.net.start && d <= self.as_of()
    }

    pub(crate) fn province(&self) -> &'static Province {
        &PROVINCES[self.net.sites[self.home].province as usize]
    }

    pub(crate) fn city(&self) -> &'static City {
        &self.province().cities[self.net.sites[self.home].city as usize]
    }

    pub(crate) fn code(&self, dealer: usize) -> &'a str {
        &self.net.dealers[dealer].code
    }

    /// Where a workshop visit happens: mostly the home dealer; swinging owners also try other
    /// dealers of the province.
    pub(crate) fn service_dealer(&mut self) -> usize {
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

    pub(crate) fn touchpoint(
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
    pub(crate) fn push(&mut self, mut t: Touchpoint) {
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
    pub(crate) fn stage(&self, vehicle: Option<usize>, day: Date) -> Option<LifecycleStage> {
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

    pub(crate) fn pick_model(&mut self, fleet: bool) -> &'static Model {
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
    pub(crate) fn upgrade(&mut self, old: &'static Model) -> &'static Model {
        for _ in 0..6 {
            let m = self.pick_model(false);
            if m.price.0 >= old.price.0 {
                return m;
            }
        }
        old
    }

    pub(crate) fn price(&mut self, m: &Model) -> Money {
        let yuan = i64::from(m.price.0) * 1000
            + self.rng.range(0, i64::from(m.price.1 - m.price.0) * 10) * 100;
        Money::yuan(yuan)
    }

    pub(crate) fn item_score(&mut self) -> u8 {
        (self.sat + self.rng.range(-2, 1)).clamp(0, 10) as u8
    }

    // --- customers ---------------------------------------------------------------------------

    pub(crate) fn person(&mut self, owner: bool) -> Customer {
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

    pub(crate) fn name(&mut self, male: bool) -> String {
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

    pub(crate) fn address(&mut self, district: &str) -> String {
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

    pub(crate) fn organisation(&mut self) -> Customer {
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

    pub(crate) fn relations(&mut self) -> Vec<(RelationKind, usize)> {
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

    pub(crate) fn prospect(&mut self) {
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

    pub(crate) fn other_four_s(&mut self) -> usize {
        let list = &self.net.by_province[self.net.sites[self.home].province as usize];
        let d = list[self.rng.below(list.len() as u64) as usize] as usize;
        self.net.sites[d].sales as usize
    }

    pub(crate) fn origin(&mut self, org: bool) -> LeadSource {
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

    pub(crate) fn enquiry_channel(&mut self, origin: LeadSource) -> Channel {
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

    pub(crate) fn person_vehicles(&mut self) {
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

    pub(crate) fn first_purchase_type(&mut self) -> PurchaseType {
        if self.rng.chance(0.7) {
            PurchaseType::First
        } else {
            PurchaseType::OtherBrandReplacement
        }
    }

    pub(crate) fn fleet(&mut self) {
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
    pub(crate) fn new_vehicle(
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
    pub(crate) fn used_vehicle(&mut self, vehicle: Vehicle, seller: usize, on: Date) {
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
    pub(crate) fn end(&self, sold: Option<Date>) -> Date {
        let mut end = self.as_of().add_days(1);
        if let Some(s) = sold {
            end = end.min(s);
        }
        if let Some(c) = self.churn {
            end = end.min(c);
        }
        end
    }

    pub(crate) fn jitter(&mut self) -> i32 {
        let i = self.interval;
        i * 3 / 4 + self.rng.range(0, i64::from(i / 2)) as i32
    }

    /// Workshop visits of vehicle `k`: the first service if it happened, then visits from `next`
    /// at the customer's cadence until `end`.
    pub(crate) fn workshop(
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

    pub(crate) fn visit(&mut self, k: usize, day: Date, kind: ServiceKind, model: &'static Model) {
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

    pub(crate) fn callback(&mut self, day: Date, dealer: usize, vehicle: Option<usize>) {
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

    pub(crate) fn survey(&mut self, kind: SurveyKind, day: Date, dealer: usize, vehicle: usize) {
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
    pub(crate) fn sale(&mut self, ks: &[usize], purchase_type: PurchaseType, trade_in: bool) {
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
    pub(crate) fn owner_extras(&mut self) {
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
    pub(crate) fn vehicle_on(&self, day: Date) -> Option<usize> {
        (0..self.vehicles.len()).find(|&k| self.vehicles[k].acquired <= day && day < self.ends[k])
    }

    pub(crate) fn complaint(&mut self) {
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

pub(crate) fn lead_channel(origin: LeadSource) -> Channel {
    match origin {
        LeadSource::CallCentre => Channel::PhoneIn,
        LeadSource::Web => Channel::Web,
        LeadSource::AutoShow => Channel::Event,
        LeadSource::WalkIn => Channel::Showroom,
        LeadSource::Referral => Channel::WeChat,
    }
}

/// The first anniversary of `from` after `after`.
pub(crate) fn next_anniversary(from: Date, after: Date) -> Date {
    let years = (after.year() - from.year()).max(1);
    let e = from.add_months(12 * years);
    if e > after {
        e
    } else {
        from.add_months(12 * (years + 1))
    }
}

/// The GB 11714 check character of an 8-digit organisation number.
pub(crate) fn organisation_check(digits: &str) -> char {
    pub(crate) const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
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
pub(crate) fn vin(model: &Model, serial: u64, year: i32, offset: u64) -> String {
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
pub(crate) const CHOOSE_5: [u64; 6] = [1, 5, 10, 10, 5, 1];

/// Five-character plate serials with exactly `letters` letters (the rest digits).
pub(crate) fn plate_class(letters: u32) -> u64 {
    CHOOSE_5[letters as usize] * 24u64.pow(letters) * 10u64.pow(5 - letters)
}

/// The number of plate serials needed for `slots` vehicles: serials are used in order of their
/// letter count, so small networks get all-digit plates and large ones at most two or three
/// letters, as on real plates.
pub(crate) fn plate_space(slots: u64) -> u64 {
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
pub(crate) fn plate(province: char, letter: char, mut rank: u64) -> String {
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
pub(crate) fn mileage(serial: u64, fleet: bool, seed: u64, days: i32) -> u32 {
    let yearly = 8_000 + mix(serial ^ mix(seed ^ 0x6D11)) % 14_000 + if fleet { 15_000 } else { 0 };
    (yearly * u64::from(days.max(0).unsigned_abs()) / 365 + 5) as u32
}
