//! The column sets of the four record kinds (docs/import.md documents them) and the parsing of
//! one row's cells into typed values, each failure a positioned [`ImportError`].

use crate::api::{CustomerRecord, PartyKind};
use crate::customer::{Customer, Gender};
use crate::date::{Date, DateTime};
use crate::ids::CustomerId;
use crate::lead::{Intent, Lead, LeadSource, LeadStatus, PurchaseType};
use crate::money::Money;
use crate::names::Named;
use crate::source::SourceRef;
use crate::touchpoint::{Channel, Touchpoint, TouchpointKind};
use crate::vehicle::{Usage, Vehicle};

use super::{ImportCode, ImportError};

/// One column of a schema.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    /// A CSV header must name it, and every row must fill it.
    pub required: bool,
}

const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// The columns of one record kind.
#[derive(Debug)]
pub(crate) struct Schema {
    pub kind_name: &'static str,
    pub columns: &'static [Column],
}

/// Other spellings source systems use for some columns.
const ALIASES: &[(&str, &str)] = &[
    ("phone", "phones"),
    ("mobile", "phones"),
    ("mobiles", "phones"),
    ("dealer_code", "dealer"),
    ("source", "source_system"),
    ("system", "source_system"),
    ("record_id", "source_id"),
    ("id_card", "national_id"),
    ("owner_national_id", "customer_national_id"),
    ("owner_credit_code", "customer_credit_code"),
    ("owner_phone", "customer_phone"),
    ("owner_source_id", "customer_source_id"),
    ("owner_source_system", "customer_source_system"),
    ("owner_name", "customer_name"),
];

impl Schema {
    /// The position of column `name` (already normalised), aliases included.
    pub fn index(&self, name: &str) -> Option<usize> {
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, real)| *real);
        self.columns.iter().position(|c| c.name == name)
    }
}

macro_rules! schema {
    ($name:ident, $kind:literal, [$($col:expr),* $(,)?]) => {
        pub(crate) static $name: Schema = Schema {
            kind_name: $kind,
            columns: &[
                opt("source_system"),
                req("source_id"),
                opt("dealer"),
                opt("received_at"),
                $($col,)*
            ],
        };
    };
}

schema!(
    CUSTOMER,
    "customer",
    [
        opt("type"),
        req("name"),
        opt("gender"),
        opt("birth_date"),
        opt("national_id"),
        opt("occupation"),
        opt("employer"),
        opt("interests"),
        opt("credit_code"),
        opt("industry"),
        opt("phones"),
        opt("province"),
        opt("city"),
        opt("address"),
        opt("vin"),
    ]
);

schema!(
    VEHICLE,
    "vehicle",
    [
        req("vin"),
        opt("plate"),
        req("brand"),
        req("model"),
        opt("trim"),
        opt("purchase_date"),
        opt("invoice_date"),
        opt("registration_date"),
        opt("first_service_date"),
        opt("warranty_end"),
        opt("insurance_expiry"),
        opt("inspection_due"),
        opt("usage"),
        opt("selling_dealer"),
        opt("customer_source_system"),
        opt("customer_source_id"),
        opt("customer_national_id"),
        opt("customer_credit_code"),
        opt("customer_phone"),
        opt("customer_name"),
    ]
);

schema!(
    TOUCHPOINT,
    "touchpoint",
    [
        req("at"),
        req("channel"),
        req("kind"),
        opt("service_kind"),
        opt("stage"),
        opt("sensitive"),
        opt("amount"),
        opt("parts_amount"),
        opt("labour_amount"),
        opt("mileage_km"),
        opt("score"),
        opt("outcome"),
        opt("note"),
        opt("vin"),
        opt("customer_source_system"),
        opt("customer_source_id"),
        opt("customer_national_id"),
        opt("customer_credit_code"),
        opt("customer_phone"),
        opt("customer_name"),
    ]
);

schema!(
    LEAD,
    "lead",
    [
        req("origin"),
        req("model"),
        req("intent"),
        opt("purchase_type"),
        req("received"),
        opt("status"),
        opt("lost_reason"),
        opt("status_at"),
        opt("customer_source_system"),
        opt("customer_source_id"),
        opt("customer_national_id"),
        opt("customer_credit_code"),
        opt("customer_phone"),
        opt("customer_name"),
    ]
);

/// One row: its line number (first line of the record), its cells by schema column (trimmed,
/// blank as `None`), the row as it was read, for the feedback queue, and its flaw if any.
#[derive(Debug)]
pub(crate) struct Row {
    pub line: u64,
    pub values: Vec<Option<String>>,
    pub raw: Raw,
    /// A problem the row was read with (bad encoding, cells beyond the header): the row is
    /// rejected with it once its source record is known.
    pub flaw: Option<super::input::Flaw>,
}

/// A row as it was read. A CSV record is kept as parsed and written back as a CSV line only
/// if the row is rejected (most rows are not).
#[derive(Debug)]
pub(crate) enum Raw {
    Csv(csv::StringRecord),
    Text(String),
}

impl Row {
    /// The row as one line of text, for the feedback queue.
    pub(crate) fn raw(&self) -> std::borrow::Cow<'_, str> {
        match &self.raw {
            Raw::Csv(record) => super::input::raw_csv(record).into(),
            Raw::Text(s) => s.as_str().into(),
        }
    }
}

/// Reads a row's cells against its schema.
pub(crate) struct Cells<'a> {
    pub row: &'a Row,
    pub schema: &'static Schema,
}

impl<'a> Cells<'a> {
    /// The cell of column `name`, if filled.
    pub fn text(&self, name: &'static str) -> Option<&'a str> {
        let i = self.schema.index(name);
        debug_assert!(
            i.is_some(),
            "column {name} not in the {} schema",
            self.schema.kind_name
        );
        i.and_then(|i| self.row.values.get(i)?.as_deref())
    }

    /// The cell as an owned string.
    pub fn string(&self, name: &'static str) -> Option<String> {
        self.text(name).map(str::to_string)
    }

    fn error(
        &self,
        code: ImportCode,
        field: &'static str,
        value: &str,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError::row(code, self.row.line, Some(field), value, message)
    }

    /// A cell that must be filled.
    pub fn required(&self, name: &'static str) -> Result<&'a str, ImportError> {
        self.text(name).ok_or_else(|| {
            self.error(
                ImportCode::MissingColumn,
                name,
                "",
                format!("column `{name}` is required and was missing or blank"),
            )
        })
    }

    /// A date: `YYYY-MM-DD`, `YYYY/M/D` or `YYYYMMDD`; a time part after the date is ignored.
    pub fn date(&self, name: &'static str) -> Result<Option<Date>, ImportError> {
        let Some(s) = self.text(name) else {
            return Ok(None);
        };
        let parsed = s
            .parse::<Date>()
            .ok()
            .or_else(|| s.parse::<DateTime>().ok().map(DateTime::date));
        parsed.map(Some).ok_or_else(|| {
            self.error(
                ImportCode::BadDate,
                name,
                s,
                "not a date; write YYYY-MM-DD (also YYYY/MM/DD or YYYYMMDD)",
            )
        })
    }

    /// A date and time: a date, optionally followed by `T` or a space and `HH:MM[:SS]`.
    pub fn datetime(&self, name: &'static str) -> Result<Option<DateTime>, ImportError> {
        let Some(s) = self.text(name) else {
            return Ok(None);
        };
        s.parse::<DateTime>().map(Some).map_err(|_| {
            self.error(
                ImportCode::BadDate,
                name,
                s,
                "not a date-time; write YYYY-MM-DD HH:MM[:SS] (or YYYY-MM-DDTHH:MM)",
            )
        })
    }

    /// An amount in yuan with at most two decimals (`1234.50`; a leading ¥ and thousands
    /// commas are allowed).
    pub fn money(&self, name: &'static str) -> Result<Option<Money>, ImportError> {
        let Some(s) = self.text(name) else {
            return Ok(None);
        };
        parse_money(s).map(|fen| Some(Money(fen))).ok_or_else(|| {
            self.error(
                ImportCode::BadNumber,
                name,
                s,
                "not an amount; write yuan with at most two decimals, e.g. 1234.50",
            )
        })
    }

    /// A whole number that fits `T`.
    pub fn number<T: TryFrom<u64>>(&self, name: &'static str) -> Result<Option<T>, ImportError> {
        let Some(s) = self.text(name) else {
            return Ok(None);
        };
        let digits = s.strip_suffix(".0").unwrap_or(s);
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| T::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    ImportCode::BadNumber,
                    name,
                    s,
                    "not a whole number in range (no sign, no decimals)",
                )
            })
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`, `y`/`n`, 是/否).
    pub fn flag(&self, name: &'static str) -> Result<Option<bool>, ImportError> {
        self.choice(
            name,
            &[
                ("true", true),
                ("yes", true),
                ("y", true),
                ("1", true),
                ("是", true),
                ("false", false),
                ("no", false),
                ("n", false),
                ("0", false),
                ("否", false),
            ],
        )
    }

    /// One of the spellings in `table` (case, spaces and dashes do not matter).
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        table: &[(&str, T)],
    ) -> Result<Option<T>, ImportError> {
        self.spelled(name, table, &[])
    }

    /// A value of `T` by its stable name ([`Named`]) or one of `aliases` (case, spaces and
    /// dashes do not matter).
    pub fn named<T: Named>(
        &self,
        name: &'static str,
        aliases: &[(&str, T)],
    ) -> Result<Option<T>, ImportError> {
        let names: Vec<(&str, T)> = T::all().iter().map(|v| (v.name(), *v)).collect();
        self.spelled(name, &names, aliases)
    }

    /// The value whose spelling in `table` or `aliases` matches the cell, compared in lower
    /// case with spaces and dashes as `_`.
    fn spelled<T: Copy>(
        &self,
        name: &'static str,
        table: &[(&str, T)],
        aliases: &[(&str, T)],
    ) -> Result<Option<T>, ImportError> {
        let Some(s) = self.text(name) else {
            return Ok(None);
        };
        let key: String = s
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let all = || table.iter().chain(aliases);
        match all().find(|(spelling, _)| spelling.eq_ignore_ascii_case(&key)) {
            Some((_, v)) => Ok(Some(*v)),
            None => {
                let mut allowed: Vec<&str> =
                    all().map(|(s, _)| *s).filter(|s| s.is_ascii()).collect();
                allowed.dedup();
                Err(self.error(
                    ImportCode::UnknownValue,
                    name,
                    s,
                    format!("unknown value; use one of {}", allowed.join(", ")),
                ))
            }
        }
    }

    /// A `;`-separated list (also `,`, `；` and `，`), blanks dropped.
    pub fn list(&self, name: &'static str) -> Vec<String> {
        self.text(name)
            .map(|s| {
                s.split([';', ',', '；', '，', '|'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The columns holding amounts (yuan in the file, fen in the record).
pub(crate) const MONEY_COLUMNS: [&str; 3] = ["amount", "parts_amount", "labour_amount"];

/// Fen from a yuan amount text, or `None`.
fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let s = s
        .strip_prefix('¥')
        .or_else(|| s.strip_prefix('￥'))
        .unwrap_or(s);
    let s: String = s.chars().filter(|&c| c != ',').collect();
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 15 {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut fen: i64 = whole.parse::<i64>().ok()?.checked_mul(100)?;
    let frac_fen = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    fen = fen.checked_add(frac_fen)?;
    Some(if negative { -fen } else { fen })
}

/// Spellings of a gender besides its name.
const GENDER_ALIASES: &[(&str, Gender)] = &[
    ("m", Gender::Male),
    ("男", Gender::Male),
    ("f", Gender::Female),
    ("女", Gender::Female),
];

/// Spellings of a lead origin besides its name.
const ORIGIN_ALIASES: &[(&str, LeadSource)] = &[("call_center", LeadSource::CallCentre)];

/// The parts every row has: its source record, the sending dealer's code, and when it was
/// received (if the row says).
pub(crate) struct Common {
    pub source: SourceRef,
    pub dealer: Option<String>,
    pub received_at: Option<DateTime>,
}

impl Cells<'_> {
    /// The common columns. `default_system` fills a missing `source_system`.
    pub fn common(&self, default_system: Option<&str>) -> Result<Common, ImportError> {
        let system = match self.text("source_system").or(default_system) {
            Some(s) => s,
            None => {
                return Err(self.error(
                    ImportCode::MissingColumn,
                    "source_system",
                    "",
                    "column `source_system` is required (or set a default source system for \
                     the file)",
                ))
            }
        };
        let id = self.required("source_id")?;
        Ok(Common {
            source: SourceRef::new(system, id),
            dealer: self.string("dealer"),
            received_at: self.datetime("received_at")?,
        })
    }

    /// A customer row: the customer and the VIN it names (a match key). A field of the other
    /// kind of party (a national ID on an organisation row) is refused as
    /// `validation.not_allowed`, as in every binding ([`CustomerRecord::into_customer`]).
    pub fn customer(&self, source: &SourceRef) -> crate::Result<(Customer, Option<String>)> {
        let record = CustomerRecord {
            kind: self
                .choice("type", PartyKind::SPELLINGS)?
                .unwrap_or(PartyKind::Person),
            name: self.required("name")?.to_string(),
            gender: self.named("gender", GENDER_ALIASES)?,
            birth_date: self.date("birth_date")?,
            occupation: self.string("occupation"),
            employer: self.string("employer"),
            interests: self.list("interests"),
            national_id: self.string("national_id"),
            credit_code: self.string("credit_code"),
            industry: self.string("industry"),
            phones: self.list("phones"),
            province: self.string("province"),
            city: self.string("city"),
            address: self.string("address"),
            source: Some(source.clone()),
        };
        Ok((record.into_customer()?, self.string("vin")))
    }

    /// A vehicle row: the vehicle and its selling dealer's code.
    pub fn vehicle(&self, source: &SourceRef) -> Result<(Vehicle, Option<String>), ImportError> {
        let v = Vehicle {
            vin: self.required("vin")?.to_string(),
            plate: self.string("plate"),
            brand: self.required("brand")?.to_string(),
            model: self.required("model")?.to_string(),
            trim: self.string("trim"),
            purchase_date: self.date("purchase_date")?,
            invoice_date: self.date("invoice_date")?,
            registration_date: self.date("registration_date")?,
            first_service_date: self.date("first_service_date")?,
            warranty_end: self.date("warranty_end")?,
            insurance_expiry: self.date("insurance_expiry")?,
            inspection_due: self.date("inspection_due")?,
            usage: self.named::<Usage>("usage", &[])?.unwrap_or_default(),
            selling_dealer: None,
            source: Some(source.clone()),
        };
        Ok((v, self.string("selling_dealer")))
    }

    /// A touchpoint row, with a placeholder customer the caller resolves.
    pub fn touchpoint(&self, source: &SourceRef) -> Result<Touchpoint, ImportError> {
        let at = self.datetime("at")?.ok_or_else(|| self.missing("at"))?;
        let channel = self
            .named::<Channel>("channel", &[])?
            .ok_or_else(|| self.missing("channel"))?;
        let kind = self
            .named::<TouchpointKind>("kind", &[])?
            .ok_or_else(|| self.missing("kind"))?;
        Ok(Touchpoint {
            service_kind: self.named("service_kind", &[])?,
            stage: self.named("stage", &[])?,
            sensitive: self.flag("sensitive")?.unwrap_or(false),
            amount: self.money("amount")?,
            parts_amount: self.money("parts_amount")?,
            labour_amount: self.money("labour_amount")?,
            mileage_km: self.number("mileage_km")?,
            score: self.number("score")?,
            outcome: self.string("outcome"),
            note: self.string("note"),
            source: Some(source.clone()),
            ..Touchpoint::new(at, CustomerId(0), channel, kind)
        })
    }

    /// A lead row, with a placeholder customer the caller resolves.
    pub fn lead(&self, source: &SourceRef) -> crate::Result<Lead> {
        let names = LeadStatus::NAMES.map(|n| (n, n));
        let name = self.choice("status", &names)?.unwrap_or("new");
        let status = crate::api::lead_status(name, self.string("lost_reason"))?;
        if matches!(&status, LeadStatus::Lost(reason) if reason.is_empty()) {
            self.required("lost_reason")?;
        }
        Ok(Lead {
            customer: CustomerId(0),
            origin: self
                .named("origin", ORIGIN_ALIASES)?
                .ok_or_else(|| self.missing("origin"))?,
            model: self.required("model")?.to_string(),
            intent: self
                .named::<Intent>("intent", &[])?
                .ok_or_else(|| self.missing("intent"))?,
            purchase_type: self
                .named::<PurchaseType>("purchase_type", &[])?
                .unwrap_or(PurchaseType::First),
            dealer: None,
            received: self
                .datetime("received")?
                .ok_or_else(|| self.missing("received"))?,
            status,
            status_at: self.datetime("status_at")?,
            source: Some(source.clone()),
        })
    }

    fn missing(&self, name: &'static str) -> ImportError {
        match self.required(name) {
            Err(e) => e,
            Ok(_) => self.error(ImportCode::MissingColumn, name, "", "required"),
        }
    }

    /// The customer a vehicle, touchpoint or lead row names.
    pub fn customer_keys(&self, system: &str) -> CustomerKeys {
        CustomerKeys {
            source: self.string("customer_source_id").map(|id| {
                SourceRef::new(self.text("customer_source_system").unwrap_or(system), id)
            }),
            national_id: self.string("customer_national_id"),
            credit_code: self.string("customer_credit_code"),
            phone: self.string("customer_phone"),
            name: self.string("customer_name"),
        }
    }
}

/// The keys by which a row names its customer, tried in this order.
#[derive(Debug, Default)]
pub(crate) struct CustomerKeys {
    /// The customer's own source record (`customer_source_system` defaults to the row's).
    pub source: Option<SourceRef>,
    pub national_id: Option<String>,
    pub credit_code: Option<String>,
    pub phone: Option<String>,
    /// Only narrows a phone shared by several customers.
    pub name: Option<String>,
}

impl CustomerKeys {
    /// Whether no key at all was given.
    pub fn is_empty(&self) -> bool {
        self.source.is_none()
            && self.national_id.is_none()
            && self.credit_code.is_none()
            && self.phone.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_fen() {
        assert_eq!(parse_money("1234.50"), Some(123_450));
        assert_eq!(parse_money("¥1,234.5"), Some(123_450));
        assert_eq!(parse_money("7"), Some(700));
        assert_eq!(parse_money("-3.01"), Some(-301));
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money("."), None);
        assert_eq!(parse_money("99999999999999999999"), None);
    }

    #[test]
    fn every_required_column_is_in_its_schema() {
        for s in [&CUSTOMER, &VEHICLE, &TOUCHPOINT, &LEAD] {
            assert_eq!(s.index("source_id"), Some(1));
            assert!(s.index("record_id").is_some());
            let mut names: Vec<_> = s.columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                s.columns.len(),
                "{} has a duplicate",
                s.kind_name
            );
        }
    }
}
