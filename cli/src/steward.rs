//! The data-stewardship and report commands — `import`, `quality`, `kpi`, `conflicts`,
//! `resolve`, `feedback`, `duplicates`, `merge` — written once for both ways the tool reaches the file: unscoped (full
//! access) and under `--as` (core's scoped API checks `manage_data` / `analytics`, filters what
//! the scope sees and audits). Each way is a [`Steward`]; `labels` is the file read unscoped for
//! what is not customer data (dealer codes, the clock) and, for `duplicates`, the names of the
//! pairs a steward was already allowed to list.

use std::path::Path;

use autocrm::api::ScopedStore;
use autocrm::export::lake::{self, LakeOptions, LakeReport};
use autocrm::identity::{DuplicateCandidate, MergeRecord};
use autocrm::import::{self, ImportOptions, ImportReport, Progress};
use autocrm::integration::{Conflict, FeedbackEntry, QualityReport, Resolution};
use autocrm::kpi::{Dimension, Kpi, KpiRow, Period};
use autocrm::{ConflictId, CustomerId, Database, Date, DealerId, Result};

use crate::admin::{parse_key, Admin};
use crate::{
    dealer_id, kind_from_name, parse_id, print, progress_bar, write_reports, CliResult, Failure,
    ImportArgs,
};

/// What the stewardship commands need of the file.
pub(crate) trait Steward: Admin {
    /// Imports one file.
    fn import(
        &self,
        path: &Path,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport>;
    /// The quality report.
    fn quality(&self, as_of: Date) -> Result<QualityReport>;
    /// Conflicts, all or one customer's.
    fn conflicts(&self, open_only: bool, customer: Option<CustomerId>) -> Result<Vec<Conflict>>;
    /// Resolves a conflict, decided by `by`.
    fn resolve(&self, id: ConflictId, resolution: Resolution, by: &str) -> Result<Conflict>;
    /// A dealer's feedback queue, or (`None`) every queue the way may read.
    fn feedback(&self, dealer: Option<DealerId>) -> Result<Vec<FeedbackEntry>>;
    /// Duplicate candidates, all or one customer's.
    fn duplicates(
        &self,
        min_score: u8,
        customer: Option<CustomerId>,
    ) -> Result<Vec<DuplicateCandidate>>;
    /// Merges `merged` into `survivor`, by `by`.
    fn merge(&self, survivor: CustomerId, merged: CustomerId, by: &str) -> Result<MergeRecord>;
    /// KPI rows for each period, on one snapshot.
    fn kpi(&self, kpi: Kpi, by: Dimension, periods: &[Period]) -> Result<Vec<KpiRow>>;
    /// The lakehouse export into `dir`.
    fn export_lake(&self, dir: &Path, opts: &LakeOptions) -> Result<LakeReport>;
}

impl Steward for Database {
    fn import(
        &self,
        path: &Path,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport> {
        import::import_file(self, path, opts, progress)
    }
    fn quality(&self, as_of: Date) -> Result<QualityReport> {
        self.begin_read()?.quality_report(as_of)
    }
    fn conflicts(&self, open_only: bool, customer: Option<CustomerId>) -> Result<Vec<Conflict>> {
        let r = self.begin_read()?;
        match customer {
            Some(id) => Ok(r
                .conflicts_of(id)?
                .into_iter()
                .filter(|c| !open_only || c.is_open())
                .collect()),
            None => r.conflicts(open_only),
        }
    }
    fn resolve(&self, id: ConflictId, resolution: Resolution, by: &str) -> Result<Conflict> {
        self.write(|tx| tx.resolve_conflict(id, resolution, by, tx.now()))
    }
    fn feedback(&self, dealer: Option<DealerId>) -> Result<Vec<FeedbackEntry>> {
        let r = self.begin_read()?;
        match dealer {
            Some(d) => r.feedback(Some(d)),
            None => r.feedback_all(),
        }
    }
    fn duplicates(
        &self,
        min_score: u8,
        customer: Option<CustomerId>,
    ) -> Result<Vec<DuplicateCandidate>> {
        let r = self.begin_read()?;
        let mut pairs = match customer {
            Some(id) => r.duplicates_of(id)?,
            None => r.duplicate_candidates(min_score)?,
        };
        pairs.retain(|p| p.score >= min_score);
        Ok(pairs)
    }
    fn merge(&self, survivor: CustomerId, merged: CustomerId, by: &str) -> Result<MergeRecord> {
        self.write(|tx| tx.merge_customers(survivor, merged, tx.now(), by))
    }
    fn kpi(&self, kpi: Kpi, by: Dimension, periods: &[Period]) -> Result<Vec<KpiRow>> {
        let facts = self.begin_read()?.facts()?;
        Ok(periods
            .iter()
            .flat_map(|&p| facts.kpi(kpi, by, p))
            .collect())
    }
    fn export_lake(&self, dir: &Path, opts: &LakeOptions) -> Result<LakeReport> {
        lake::write_snapshot(&self.begin_read()?, dir, opts)
    }
}

impl Steward for ScopedStore {
    fn import(
        &self,
        path: &Path,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport> {
        self.import_file(path, opts, progress)
    }
    fn quality(&self, as_of: Date) -> Result<QualityReport> {
        self.quality_report(as_of)
    }
    fn conflicts(&self, open_only: bool, customer: Option<CustomerId>) -> Result<Vec<Conflict>> {
        ScopedStore::conflicts(self, open_only, customer)
    }
    fn resolve(&self, id: ConflictId, resolution: Resolution, _by: &str) -> Result<Conflict> {
        self.resolve_conflict(id, resolution)
    }
    fn feedback(&self, dealer: Option<DealerId>) -> Result<Vec<FeedbackEntry>> {
        ScopedStore::feedback(self, dealer)
    }
    fn duplicates(
        &self,
        min_score: u8,
        customer: Option<CustomerId>,
    ) -> Result<Vec<DuplicateCandidate>> {
        ScopedStore::duplicates(self, min_score, customer)
    }
    fn merge(&self, survivor: CustomerId, merged: CustomerId, _by: &str) -> Result<MergeRecord> {
        ScopedStore::merge(self, survivor, merged)
    }
    fn kpi(&self, kpi: Kpi, by: Dimension, periods: &[Period]) -> Result<Vec<KpiRow>> {
        ScopedStore::kpi(self, kpi, by, periods)
    }
    fn export_lake(&self, dir: &Path, opts: &LakeOptions) -> Result<LakeReport> {
        ScopedStore::export_lake(self, dir, opts)
    }
}

/// `autocrm import FILE…`.
pub(crate) fn import_files(s: &impl Steward, labels: &Database, args: &ImportArgs) -> CliResult {
    let received_at = args.received_at.unwrap_or_else(|| labels.now());
    let encoding = import::Encoding::parse(&args.encoding)?;
    let format = args
        .format
        .as_deref()
        .map(import::Format::parse)
        .transpose()?;
    let mut reports = Vec::new();
    for path in &args.files {
        let kind = match &args.kind {
            Some(k) => import::parse_kind(k)?,
            None => kind_from_name(path)?,
        };
        let opts = ImportOptions {
            format,
            encoding,
            batch_size: args.batch,
            source_system: args.source.clone(),
            ..ImportOptions::new(kind, received_at)
        };
        let bar = progress_bar(path, args.quiet);
        let report = s.import(path, &opts, &mut |p| {
            if let Some(total) = p.total_bytes {
                bar.set_length(total);
            }
            bar.set_position(p.bytes);
            bar.set_message(format!("{} rows", p.rows));
        });
        bar.finish_and_clear();
        let report = report?;
        print::import_report(&report);
        reports.push(report);
    }
    if let Some(out) = &args.report {
        write_reports(out, &reports)?;
    }
    Ok(())
}

/// `autocrm quality [--as-of DAY]`.
pub(crate) fn quality(s: &impl Steward, labels: &Database, as_of: Option<Date>) -> CliResult {
    let report = s.quality(as_of.unwrap_or_else(|| labels.clock().today()))?;
    s.flush()?;
    say_inline!("{report}");
    Ok(())
}

/// `autocrm kpi NAME --period P… | --months YEAR [--by DIMENSION]`, or `autocrm kpi list`.
pub(crate) fn kpi(
    s: &impl Steward,
    name: &str,
    by: &str,
    periods: Vec<Period>,
    months: Option<i32>,
) -> CliResult {
    let Some((kpi, by, periods)) = kpi_args(name, by, periods, months)? else {
        return Ok(());
    };
    let rows = s.kpi(kpi, by, &periods)?;
    s.flush()?;
    print::kpi_rows(&rows);
    Ok(())
}

/// `autocrm export DIR`: the lakehouse folder, and a summary of what was written.
pub(crate) fn export(s: &impl Steward, dir: &Path, as_of: Option<Date>) -> CliResult {
    let opts = LakeOptions {
        as_of,
        ..LakeOptions::default()
    };
    let report = s.export_lake(dir, &opts)?;
    print::lake_report(&report);
    Ok(())
}

/// The KPI, dimension and periods `autocrm kpi` was given; `None` after `kpi list` printed
/// the names.
fn kpi_args(
    name: &str,
    by: &str,
    periods: Vec<Period>,
    months: Option<i32>,
) -> CliResult<Option<(Kpi, Dimension, Vec<Period>)>> {
    if name == "list" {
        for k in Kpi::ALL {
            say!("{}", k.name());
        }
        return Ok(None);
    }
    let kpi = Kpi::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Kpi::ALL.iter().map(|k| k.name()).collect();
        Failure(format!(
            "no KPI is named {name:?}; use one of {}",
            names.join(", ")
        ))
    })?;
    let dim = Dimension::from_name(by).ok_or_else(|| {
        let names: Vec<_> = Dimension::ALL.iter().map(|d| d.name()).collect();
        Failure(format!("--by {by:?}: use one of {}", names.join(", ")))
    })?;
    let periods = match months {
        Some(y) => (1..=12)
            .map(|m| Period::month(y, m))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Failure(format!("--months {y}: not a year from 1 to 9999")))?,
        None if periods.is_empty() => {
            return Err(Failure(
                "kpi needs --period (e.g. --period 2025-Q3, repeatable) or --months YEAR".into(),
            ))
        }
        None => periods,
    };
    Ok(Some((kpi, dim, periods)))
}

/// `autocrm conflicts [--all] [--customer KEY]`.
pub(crate) fn conflicts(s: &impl Steward, all: bool, customer: Option<&str>) -> CliResult {
    let list = match customer {
        Some(key) => {
            let mut out = Vec::new();
            for id in found(s, key)? {
                out.extend(s.conflicts(!all, Some(id))?);
            }
            out
        }
        None => s.conflicts(!all, None)?,
    };
    s.flush()?;
    print::conflicts(&list);
    Ok(())
}

/// `autocrm resolve ID --accept|--reject [--by NAME]`.
pub(crate) fn resolve(s: &impl Steward, id: &str, accept: bool, by: Option<&str>) -> CliResult {
    let by = s.operator(by)?;
    let id = ConflictId(parse_id(id, 'X', "conflict")?);
    let resolution = if accept {
        Resolution::Accept
    } else {
        Resolution::Reject
    };
    let c = s.resolve(id, resolution, by)?;
    say!("{}", print::conflict_line(&c));
    Ok(())
}

/// `autocrm feedback [--dealer CODE]`.
pub(crate) fn feedback(s: &impl Steward, labels: &Database, dealer: Option<&str>) -> CliResult {
    let rtx = labels.begin_read()?;
    let dealer = dealer.map(|code| dealer_id(&rtx, code)).transpose()?;
    let entries = s.feedback(dealer)?;
    s.flush()?;
    print::feedback(&rtx, &entries, labels.clock().today())
}

/// `autocrm duplicates [--min-score N] [--customer KEY] [--limit N]`.
pub(crate) fn duplicates(
    s: &impl Steward,
    labels: &Database,
    min_score: u8,
    customer: Option<&str>,
    limit: usize,
) -> CliResult {
    let pairs = match customer {
        Some(key) => {
            let mut out = Vec::new();
            for id in found(s, key)? {
                out.extend(s.duplicates(min_score, Some(id))?);
            }
            out
        }
        None => s.duplicates(min_score, None)?,
    };
    s.flush()?;
    print::duplicates(&labels.begin_read()?, &pairs, limit)
}

/// `autocrm merge SURVIVOR MERGED [--by NAME]`.
pub(crate) fn merge(s: &impl Steward, survivor: &str, merged: &str, by: Option<&str>) -> CliResult {
    let by = s.operator(by)?;
    let record = s.merge(one(s, survivor)?, one(s, merged)?, by)?;
    let n = &record.counts;
    say!(
        "merged {} into {}: moved {} vehicles, {} touchpoints, {} relations, {} leads, \
         {} complaints, {} surveys, {} consent events; {} phones and {} fields added; \
         {} keeps finding {}",
        record.merged,
        record.survivor,
        n.vehicles,
        n.touchpoints,
        n.relations,
        n.leads,
        n.complaints,
        n.surveys,
        n.consent_events,
        n.phones_added,
        record.filled.len(),
        record.merged,
        record.survivor
    );
    Ok(())
}

/// The customers `key` finds (at least one).
fn found(s: &impl Steward, key: &str) -> CliResult<Vec<CustomerId>> {
    let ids = s.find(&parse_key(key)?)?;
    if ids.is_empty() {
        return Err(Failure(format!("no customer matches {key:?}")));
    }
    Ok(ids)
}

/// The one customer `key` names; a shared phone naming several is an error listing them.
fn one(s: &impl Steward, key: &str) -> CliResult<CustomerId> {
    match found(s, key)?.as_slice() {
        [id] => Ok(*id),
        many => {
            let list: Vec<String> = many.iter().map(|c| c.to_string()).collect();
            Err(Failure(format!(
                "{key:?} matches several customers ({}); use an id",
                list.join(", ")
            )))
        }
    }
}
