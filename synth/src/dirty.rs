//! Dirty source-system exports of a synthetic network, for trying the importer, the cleaning
//! rules, survivorship and duplicate detection on realistic input.
//!
//! [`write_dirty_csvs`] takes the customers of a seeded [`Network`] and writes them as three
//! source systems would deliver them, plus the vehicles as the invoice system knows them:
//!
//! | file | source system | who | what |
//! |---|---|---|---|
//! | `customers_finance.csv` | `finance` | owners who bought on credit (about 40%) | name, national ID / credit code, phone, VIN; clean |
//! | `customers_invoice.csv` | `invoice` | every owner | name, national ID / credit code, phone, address, VIN |
//! | `customers_dms.csv` | `dms` | every customer, prospects too | name, gender, phone, address, occupation, employer; the national ID only sometimes |
//! | `vehicles_invoice.csv` | `invoice` | every new car | VIN, plate, model, dates, selling dealer, owner's national ID / credit code |
//!
//! Import them in that order (the order of [`DirtyFiles::files`]) after registering the
//! network's dealers ([`insert_dealers`]). About [`DirtyConfig::dirt`] of the rows carry one
//! kind of dirt each, counted in [`DirtyFiles::injected`]:
//!
//! * `placeholder_name`: a DMS name written as a salutation, 王先生 / 李女士;
//! * `short_phone`: a DMS phone missing one to three digits;
//! * `bad_national_id`: an invoice or DMS national ID whose check digit is wrong;
//! * `bad_vin`: a vehicle whose VIN check digit is wrong;
//! * `implausible_date`: a vehicle invoiced before it was bought, or bought in 1899;
//! * `conflict`: a DMS row with the same national ID as the finance row but another spelling
//!   of the name, or another birth date (the finance value must survive, the DMS one becomes a
//!   conflict);
//! * `missing_place`: an owner whose province and city no source knows (stored, but
//!   incomplete: queued for the dealer to complete);
//! * `duplicate`: an extra DMS row of the same person from another dealer, without national ID,
//!   with one character of the name changed or one digit of the phone changed.
//!
//! Phones are also written in the harmless variants people type (`+86 138-1234-5678`). With
//! [`DirtyConfig::gbk`] every file is GBK-encoded, as Chinese source systems export. The output
//! depends only on the configuration.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Network, Rng, SynthConfig};
use autocrm::customer::{Gender, Party};
use autocrm::date::Date;
use autocrm::dealer::Dealer;
use autocrm::error::{Error, Result};
use autocrm::import::{ImportCode, ImportError};
use autocrm::integration::RecordKind;
use autocrm::store::Database;

/// Random stream tag of the dirt (distinct from the generator's own tags).
const TAG_DIRT: u64 = 101;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DirtyConfig {
    /// Seed of the network and of the dirt.
    pub seed: u64,
    /// Number of customers of the network.
    pub customers: usize,
    /// Share of rows that carry dirt, 0.0–1.0 (default 0.1).
    pub dirt: f64,
    /// Write the files GBK-encoded instead of UTF-8.
    pub gbk: bool,
    /// The last day of the network's history.
    pub as_of: Date,
}

impl DirtyConfig {
    /// `customers` customers, seed 42, 10% dirt, UTF-8, history ending 2026-06-30.
    pub fn new(customers: usize) -> DirtyConfig {
        let synth = SynthConfig::new(customers);
        DirtyConfig {
            seed: synth.seed,
            customers,
            dirt: 0.1,
            gbk: false,
            as_of: synth.as_of,
        }
    }

    fn network(&self) -> Network {
        Network::new(SynthConfig {
            seed: self.seed,
            as_of: self.as_of,
            ..SynthConfig::new(self.customers)
        })
    }
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyFile {
    /// Where it was written.
    pub path: PathBuf,
    /// The kind of record its rows are.
    pub kind: RecordKind,
    /// The source system its rows come from.
    pub source_system: &'static str,
    /// Data rows (without the header).
    pub rows: u64,
}

/// What [`write_dirty_csvs`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyFiles {
    /// The files, in the order to import them.
    pub files: Vec<DirtyFile>,
    /// The dealers the rows name by code (register them before importing).
    pub dealers: Vec<Dealer>,
    /// Rows carrying each kind of dirt (see the module documentation), by name.
    pub injected: BTreeMap<&'static str, u64>,
    /// `"GBK"` or `"UTF-8"`.
    pub encoding: &'static str,
}

/// Registers the dealers of `config`'s network that `db` does not have yet (by code); returns
/// how many were added.
pub fn insert_dealers(db: &Database, config: &DirtyConfig) -> Result<usize> {
    let net = config.network();
    db.write(|tx| {
        let mut added = 0;
        for d in net.dealers() {
            match tx.insert_dealer(d) {
                Ok(_) => added += 1,
                Err(Error::DuplicateKey { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    })
}

/// A CSV file being written, UTF-8 or GBK, one record at a time.
struct Out {
    file: BufWriter<File>,
    path: PathBuf,
    gbk: bool,
    /// The line being written, reused.
    line: String,
    rows: u64,
}

impl Out {
    fn create(dir: &Path, name: &str, gbk: bool, header: &[&str]) -> Result<Out> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| io_error(&path, e))?;
        let mut out = Out {
            file: BufWriter::new(file),
            path,
            gbk,
            line: String::new(),
            rows: 0,
        };
        out.write(header)?;
        out.rows = 0;
        Ok(out)
    }

    fn write(&mut self, fields: &[&str]) -> Result<()> {
        let path = self.path.clone();
        let fail = |e: std::io::Error| io_error(&path, e);
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            if f.contains([',', '"', '\r', '\n']) {
                self.line.push('"');
                self.line.push_str(&f.replace('"', "\"\""));
                self.line.push('"');
            } else {
                self.line.push_str(f);
            }
        }
        self.line.push_str("\r\n");
        if self.gbk {
            let (encoded, _, _) = encoding_rs::GBK.encode(&self.line);
            self.file.write_all(&encoded).map_err(fail)?;
        } else {
            self.file.write_all(self.line.as_bytes()).map_err(fail)?;
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self, kind: RecordKind, source_system: &'static str) -> Result<DirtyFile> {
        let path = self.path.clone();
        self.file.flush().map_err(|e| io_error(&path, e))?;
        Ok(DirtyFile {
            path: self.path,
            kind,
            source_system,
            rows: self.rows,
        })
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    ImportError {
        code: ImportCode::FileUnreadable,
        file: Some(path.display().to_string()),
        line: None,
        field: None,
        value: None,
        message: format!("cannot write: {e}"),
    }
    .into()
}

/// The columns of the customer files, in order (the bench's SQLite loader binds them in this
/// order too).
pub const CUSTOMER_HEADER: &[&str] = &[
    "source_system",
    "source_id",
    "dealer",
    "type",
    "name",
    "gender",
    "birth_date",
    "national_id",
    "credit_code",
    "industry",
    "occupation",
    "employer",
    "phones",
    "province",
    "city",
    "address",
    "vin",
];

/// The columns of the vehicles file, in order; the owner's keys are the last two.
pub const VEHICLE_HEADER: &[&str] = &[
    "source_system",
    "source_id",
    "dealer",
    "vin",
    "plate",
    "brand",
    "model",
    "trim",
    "purchase_date",
    "invoice_date",
    "registration_date",
    "warranty_end",
    "usage",
    "selling_dealer",
    "customer_national_id",
    "customer_credit_code",
];

/// One customer row, before it is written.
#[derive(Clone, Default)]
struct CustomerRow {
    system: &'static str,
    id: String,
    dealer: String,
    org: bool,
    name: String,
    gender: String,
    birth_date: String,
    national_id: String,
    credit_code: String,
    industry: String,
    occupation: String,
    employer: String,
    phone: String,
    province: String,
    city: String,
    address: String,
    vin: String,
}

impl CustomerRow {
    fn write(&self, out: &mut Out) -> Result<()> {
        out.write(&[
            self.system,
            &self.id,
            &self.dealer,
            if self.org { "organisation" } else { "person" },
            &self.name,
            &self.gender,
            &self.birth_date,
            &self.national_id,
            &self.credit_code,
            &self.industry,
            &self.occupation,
            &self.employer,
            &self.phone,
            &self.province,
            &self.city,
            &self.address,
            &self.vin,
        ])
    }
}

/// Similar-looking or similar-sounding given-name characters, for near-duplicate names.
const NAME_VARIANTS: &[(char, char)] = &[
    ('明', '铭'),
    ('伟', '玮'),
    ('华', '桦'),
    ('丽', '莉'),
    ('军', '君'),
    ('静', '婧'),
    ('敏', '民'),
    ('磊', '垒'),
    ('洋', '阳'),
    ('勇', '永'),
    ('艳', '燕'),
    ('杰', '洁'),
    ('涛', '韬'),
    ('芳', '方'),
    ('娜', '那'),
    ('秀', '绣'),
    ('英', '瑛'),
    ('平', '萍'),
    ('刚', '钢'),
    ('斌', '彬'),
];

/// The name with its last character replaced by a look-alike.
fn name_variant(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if let Some(last) = chars.last_mut() {
        *last = NAME_VARIANTS
            .iter()
            .find_map(|&(a, b)| {
                if *last == a {
                    Some(b)
                } else if *last == b {
                    Some(a)
                } else {
                    None
                }
            })
            .unwrap_or(if *last == '华' { '明' } else { '华' });
    }
    chars.into_iter().collect()
}

/// The ID or VIN with the character at `pos` replaced by another valid one, so its check
/// digit no longer matches.
fn break_check(s: &str, pos: usize, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if let Some(c) = chars.get_mut(pos) {
        let shift = 1 + rng.below(9) as u32;
        let d = c.to_digit(10).unwrap_or(0);
        *c = char::from_digit((d + shift) % 10, 10).unwrap_or('0');
    }
    chars.into_iter().collect()
}

/// A phone as people type it: bare, with +86, or with dashes and spaces.
fn phone_variant(phone: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 if phone.len() == 11 => format!("+86 {}-{}-{}", &phone[..3], &phone[3..7], &phone[7..]),
        1 if phone.len() == 11 => format!("{} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
        _ => phone.to_string(),
    }
}

/// Writes the dirty exports of `config`'s network into `dir` (created if missing). The same
/// configuration writes the same bytes.
pub fn write_dirty_csvs(dir: impl AsRef<Path>, config: &DirtyConfig) -> Result<DirtyFiles> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let net = config.network();
    let gbk = config.gbk;
    let mut finance = Out::create(dir, "customers_finance.csv", gbk, CUSTOMER_HEADER)?;
    let mut invoice = Out::create(dir, "customers_invoice.csv", gbk, CUSTOMER_HEADER)?;
    let mut dms = Out::create(dir, "customers_dms.csv", gbk, CUSTOMER_HEADER)?;
    let mut vehicles = Out::create(dir, "vehicles_invoice.csv", gbk, VEHICLE_HEADER)?;
    let mut injected: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut count = |what: &'static str| *injected.entry(what).or_insert(0) += 1;
    let dirt = config.dirt.clamp(0.0, 1.0);
    let dealers = net.dealers();
    let n_dealers = dealers.len().max(1);

    for b in net.customers() {
        let mut rng = Rng::for_key(config.seed, TAG_DIRT, b.index as u64);
        let c = &b.customer;
        let home = c
            .source
            .as_ref()
            .and_then(|s| s.record_id.split_once("-C"))
            .map(|(code, _)| code.to_string())
            .unwrap_or_else(|| dealers[0].code.clone());
        let mut base = CustomerRow {
            dealer: home.clone(),
            name: c.name().to_string(),
            phone: c.phones.first().cloned().unwrap_or_default(),
            province: c.province.clone().unwrap_or_default(),
            city: c.city.clone().unwrap_or_default(),
            address: c.address.clone().unwrap_or_default(),
            vin: b
                .vehicles
                .first()
                .map(|v| v.vehicle.vin.clone())
                .unwrap_or_default(),
            ..CustomerRow::default()
        };
        let mut gender = None;
        match &c.party {
            Party::Person(p) => {
                gender = p.gender;
                base.gender = match p.gender {
                    Some(Gender::Male) => "male".into(),
                    Some(Gender::Female) => "female".into(),
                    None => String::new(),
                };
                base.birth_date = p.birth_date.map(|d| d.to_string()).unwrap_or_default();
                base.national_id = p.national_id.clone().unwrap_or_default();
                base.occupation = p.occupation.clone().unwrap_or_default();
                base.employer = p.employer.clone().unwrap_or_default();
            }
            Party::Organisation(o) => {
                base.org = true;
                base.credit_code = o.credit_code.clone().unwrap_or_default();
                base.industry = o.industry.clone().unwrap_or_default();
            }
        }
        let owner = !b.vehicles.is_empty();
        if owner && rng.chance(dirt / 4.0) {
            // Nobody asked where the customer lives: every source leaves the place blank. The
            // record is stored, but incomplete: it lowers the valid customer information ratio
            // and waits in the dealer's feedback queue for completion.
            base.province.clear();
            base.city.clear();
            count("missing_place");
        }
        let financed = owner && rng.chance(0.4);

        if financed {
            // The finance system is the cleanest source: what it says survives.
            CustomerRow {
                system: "finance",
                id: format!("FIN-{:07}", b.index),
                address: String::new(),
                occupation: String::new(),
                employer: String::new(),
                ..base.clone()
            }
            .write(&mut finance)?;
        }
        if owner {
            let mut row = CustomerRow {
                system: "invoice",
                id: format!("INV-C{:07}", b.index),
                occupation: String::new(),
                employer: String::new(),
                birth_date: String::new(),
                ..base.clone()
            };
            if !row.national_id.is_empty() && rng.chance(dirt / 3.0) {
                row.national_id = break_check(&row.national_id, 17, &mut rng);
                if row.national_id.ends_with('X') {
                    row.national_id.pop();
                    row.national_id.push('0');
                }
                count("bad_national_id");
            }
            row.write(&mut invoice)?;
        }

        // The dealer's DMS: everyone, with the dirt people type in.
        let mut row = CustomerRow {
            system: "dms",
            id: c
                .source
                .as_ref()
                .map(|s| s.record_id.clone())
                .unwrap_or_else(|| format!("DMS-{}", b.index)),
            vin: String::new(),
            phone: phone_variant(&base.phone, &mut rng),
            ..base.clone()
        };
        let person = !base.org;
        if person && !rng.chance(0.7) {
            row.national_id.clear();
        }
        if rng.chance(dirt) {
            let roll = rng.below(if person { 4 } else { 1 });
            match roll {
                0 if person => {
                    let surname: String = base.name.chars().take(1).collect();
                    let title = if gender == Some(Gender::Female) {
                        "女士"
                    } else {
                        "先生"
                    };
                    row.name = format!("{surname}{title}");
                    count("placeholder_name");
                }
                1 if !base.national_id.is_empty() => {
                    row.national_id = base.national_id.clone();
                    if financed && rng.chance(0.5) {
                        row.name = name_variant(&base.name);
                        count("conflict");
                    } else if financed && !base.birth_date.is_empty() {
                        if let Ok(d) = base.birth_date.parse::<Date>() {
                            row.birth_date = d.add_days(1 + rng.below(300) as i32).to_string();
                            count("conflict");
                        }
                    } else {
                        row.national_id = break_check(&base.national_id, 16, &mut rng);
                        count("bad_national_id");
                    }
                }
                2 => {
                    let keep = base.phone.len().saturating_sub(1 + rng.below(3) as usize);
                    row.phone = base.phone[..keep].to_string();
                    count("short_phone");
                }
                _ => {
                    let keep = base.phone.len().saturating_sub(1 + rng.below(3) as usize);
                    row.phone = base.phone[..keep].to_string();
                    count("short_phone");
                }
            }
        }
        row.write(&mut dms)?;
        if person && rng.chance(dirt / 2.0) {
            // The same person walks into another dealer, who records them without ID.
            let other = &dealers[(rng.below(n_dealers as u64) as usize) % n_dealers].code;
            let mut dup = CustomerRow {
                system: "dms",
                id: format!("{other}-D{}", b.index),
                dealer: other.clone(),
                national_id: String::new(),
                birth_date: String::new(),
                vin: String::new(),
                ..base.clone()
            };
            if rng.chance(0.5) {
                dup.name = name_variant(&base.name);
            } else if base.phone.len() == 11 {
                let mut p: Vec<char> = base.phone.chars().collect();
                let d = p[10].to_digit(10).unwrap_or(0);
                p[10] = char::from_digit((d + 1) % 10, 10).unwrap_or('0');
                dup.phone = p.into_iter().collect();
            }
            dup.write(&mut dms)?;
            count("duplicate");
        }

        for sv in b.vehicles.iter().filter(|v| v.previous_owner.is_none()) {
            let v = &sv.vehicle;
            let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            let mut vin = v.vin.clone();
            let mut purchase = date(v.purchase_date);
            let mut invoice_date = date(v.invoice_date);
            if rng.chance(dirt / 2.0) {
                if rng.chance(0.5) {
                    vin = break_check(&v.vin, 8, &mut rng);
                    count("bad_vin");
                } else if let (Some(p), Some(_)) = (v.purchase_date, v.invoice_date) {
                    if rng.chance(0.5) {
                        invoice_date = p.add_days(-30).to_string();
                    } else {
                        let (_, m, d) = p.ymd();
                        purchase = format!("1899-{m:02}-{d:02}");
                    }
                    count("implausible_date");
                }
            }
            let selling = v
                .selling_dealer
                .and_then(|d| dealers.get(d.0 as usize))
                .map(|d| d.code.clone())
                .unwrap_or_default();
            let usage = match v.usage {
                autocrm::vehicle::Usage::Private => "private",
                autocrm::vehicle::Usage::Fleet => "fleet",
                autocrm::vehicle::Usage::Taxi => "taxi",
                autocrm::vehicle::Usage::Rental => "rental",
            };
            vehicles.write(&[
                "invoice",
                &format!("INV-V{}", v.vin),
                &selling,
                &vin,
                v.plate.as_deref().unwrap_or(""),
                &v.brand,
                &v.model,
                v.trim.as_deref().unwrap_or(""),
                &purchase,
                &invoice_date,
                &date(v.registration_date),
                &date(v.warranty_end),
                usage,
                &selling,
                &base.national_id,
                &base.credit_code,
            ])?;
        }
    }
    let files = vec![
        finance.finish(RecordKind::Customer, "finance")?,
        invoice.finish(RecordKind::Customer, "invoice")?,
        dms.finish(RecordKind::Customer, "dms")?,
        vehicles.finish(RecordKind::Vehicle, "invoice")?,
    ];
    Ok(DirtyFiles {
        files,
        dealers: dealers.to_vec(),
        injected,
        encoding: if gbk { "GBK" } else { "UTF-8" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_variants_differ_by_one_character() {
        assert_eq!(name_variant("王小明"), "王小铭");
        assert_eq!(name_variant("王小铭"), "王小明");
        assert_eq!(name_variant("李四"), "李华");
    }

    #[test]
    fn same_config_writes_same_bytes_and_dirt_is_counted() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let cfg = DirtyConfig {
            dirt: 0.5,
            ..DirtyConfig::new(300)
        };
        let fa = write_dirty_csvs(a.path(), &cfg).unwrap();
        let fb = write_dirty_csvs(b.path(), &cfg).unwrap();
        assert_eq!(fa.injected, fb.injected);
        for (x, y) in fa.files.iter().zip(&fb.files) {
            assert_eq!(
                std::fs::read(&x.path).unwrap(),
                std::fs::read(&y.path).unwrap()
            );
            assert!(x.rows > 0, "{} is empty", x.path.display());
        }
        for kind in [
            "placeholder_name",
            "short_phone",
            "bad_national_id",
            "bad_vin",
            "implausible_date",
            "conflict",
            "duplicate",
        ] {
            assert!(fa.injected.get(kind).copied().unwrap_or(0) > 0, "no {kind}");
        }
    }

    #[test]
    fn gbk_output_is_gbk() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DirtyConfig {
            gbk: true,
            ..DirtyConfig::new(50)
        };
        let files = write_dirty_csvs(dir.path(), &cfg).unwrap();
        let bytes = std::fs::read(&files.files[2].path).unwrap();
        assert!(std::str::from_utf8(&bytes).is_err());
        let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
        assert!(!had_errors);
        assert!(text.starts_with("source_system,source_id,dealer"));
    }
}
