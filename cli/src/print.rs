//! Plain-text rendering of reports for a terminal: aligned columns, one record per line, so the
//! output also reads well in a log or through `grep`.

use autocrm::identity::DuplicateCandidate;
use autocrm::import::ImportReport;
use autocrm::integration::{Conflict, ConflictStatus, FeedbackEntry, FieldGroup, SourceRegistry};
use autocrm::{Date, DealerId, ReadTxn};
use unicode_width::UnicodeWidthChar;

use crate::CliResult;

/// `text` as it may reach a terminal: control characters other than the line break, and
/// invisible formatting characters such as direction overrides, are written as visible
/// escapes (`\u{1b}`), so stored or imported text can never send an escape sequence to the
/// terminal (retitle it, recolour it, hide what follows). Everything the tool prints, to
/// stdout and stderr, goes through it.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    autocrm::text::escape_control(text)
}

/// One import's outcome: counts, then rejections by reason, then the first rejected rows.
pub fn import_report(r: &ImportReport) {
    say!(
        "{}: {} rows ({} {}): {} created, {} updated, {} unchanged, {} rejected, {} conflicts, \
         {} incomplete",
        r.file,
        r.rows,
        r.kind.name(),
        r.encoding,
        r.created,
        r.updated,
        r.unchanged,
        r.rejected,
        r.conflicts,
        r.incomplete
    );
    for (code, n) in &r.rejected_by_code {
        say!("  rejected {n:>6}  {code}");
    }
    const SHOWN: usize = 5;
    for rej in r.rejections.iter().take(SHOWN) {
        say!(
            "    line {}{}: {} ({})",
            rej.line,
            rej.field
                .as_deref()
                .map_or(String::new(), |f| format!(" field {f}")),
            rej.message,
            rej.code
        );
    }
    if r.rejected as usize > SHOWN {
        say!(
            "    … {} more; --report FILE writes them all",
            r.rejected as usize - SHOWN
        );
    }
    if !r.ignored_columns.is_empty() {
        say!("  ignored columns: {}", r.ignored_columns.join(", "));
    }
}

/// One conflict on one line.
pub fn conflict_line(c: &Conflict) -> String {
    let status = match &c.status {
        ConflictStatus::Open => "open".to_string(),
        ConflictStatus::Accepted { by, at } => format!("accepted by {by} {at}"),
        ConflictStatus::Rejected { by, at } => format!("rejected by {by} {at}"),
    };
    let current_from = c.current_lineage.as_ref().map_or(String::new(), |l| {
        format!(" (from {} p{})", l.source.system, l.priority)
    });
    let record = match (c.customer(), c.vehicle()) {
        (Some(id), _) => id.to_string(),
        (_, Some(id)) => id.to_string(),
        _ => c.record.to_string(),
    };
    format!(
        "{} {} {record} {}: stored {:?}{current_from}, offered {:?} by {}/{} p{} — {} [{status}]",
        c.id,
        c.entity.name(),
        c.field.name(),
        c.current.as_ref().map_or(String::new(), |v| v.to_string()),
        c.offered.to_string(),
        c.received.source.system,
        c.received.source.record_id,
        c.priority,
        c.reason.code(),
    )
}

/// Conflicts, one per line.
pub fn conflicts(list: &[Conflict]) {
    if list.is_empty() {
        say!("no conflicts");
        return;
    }
    for c in list {
        say!("{}", conflict_line(c));
    }
    say!(
        "{} conflicts; `autocrm resolve <id> --accept|--reject --by <name>` decides one",
        list.len()
    );
}

/// Feedback-queue entries, oldest first per dealer.
pub fn feedback(rtx: &ReadTxn, entries: &[FeedbackEntry], today: Date) -> CliResult {
    if entries.is_empty() {
        say!("feedback queue empty");
        return Ok(());
    }
    for e in entries {
        let dealer = match e.dealer {
            Some(d) => dealer_label(rtx, d)?,
            None => "(no dealer)".into(),
        };
        say!(
            "{} {} {} {}/{}{} {}d: {} [{}]",
            e.id,
            pad(&dealer, 24),
            e.kind.name(),
            e.source.system,
            e.source.record_id,
            e.field
                .as_deref()
                .map_or(String::new(), |f| format!(" field {f}")),
            e.age_days(today),
            e.message,
            e.code
        );
    }
    say!(
        "{} records wait for correction; a corrected record re-imported with the same source id \
         leaves the queue",
        entries.len()
    );
    Ok(())
}

/// Duplicate candidate pairs with both names and the rules that fired.
pub fn duplicates(rtx: &ReadTxn, pairs: &[DuplicateCandidate], limit: usize) -> CliResult {
    if pairs.is_empty() {
        say!("no duplicate candidates");
        return Ok(());
    }
    for p in pairs.iter().take(limit) {
        let a = rtx.customer(p.customer)?;
        let b = rtx.customer(p.other)?;
        let reasons: Vec<&str> = p.reasons.iter().map(|r| r.name()).collect();
        say!(
            "{:>3}  {} {} ~ {} {}  [{}]",
            p.score,
            p.customer,
            a.name(),
            p.other,
            b.name(),
            reasons.join(", ")
        );
    }
    if pairs.len() > limit {
        say!("… {} more (--limit)", pairs.len() - limit);
    }
    say!("`autocrm merge <survivor> <merged> --by <name>` merges a pair");
    Ok(())
}

/// The source registry: one line per system, a column per field group.
pub fn sources(registry: &SourceRegistry) {
    say_inline!("{:<14}", "source");
    for g in FieldGroup::ALL {
        say_inline!(" {:>14}", g.name());
    }
    say!(" verifies");
    for s in &registry.systems {
        say_inline!("{:<14}", s.name);
        for g in FieldGroup::ALL {
            say_inline!(" {:>14}", s.priority(g));
        }
        say!(" {}", if s.verifies { "yes" } else { "no" });
    }
}

fn dealer_label(rtx: &ReadTxn, id: DealerId) -> CliResult<String> {
    let d = rtx.dealer(id)?;
    Ok(format!("{} {}", d.code, d.name))
}

/// `s` cut or padded to `width` terminal columns. Chinese names are double-width: counting
/// bytes or characters would misalign every column after them.
fn pad(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.extend(std::iter::repeat_n(' ', width - used));
    out
}

/// The outcome of verifying the audit chain; an error when it is broken.
pub fn audit_verification(v: &autocrm::audit::AuditVerification) -> CliResult {
    match &v.problem {
        None => {
            say!("audit trail intact: {} entries, head {}", v.entries, v.head);
            Ok(())
        }
        Some(p) => Err(crate::Failure(format!(
            "the audit trail is broken at entry {}: {p}; restore the file from a backup and \
             compare it with the anchored heads",
            p.seq
        ))),
    }
}

/// The chain head as `SEQ:HASH`, the form `audit verify --anchor` takes.
pub fn audit_head(h: &autocrm::audit::AuditHead) {
    say!("{h}");
}

/// The receipt of an erasure: what went, and the audit head to keep with it (a restored
/// backup fails `audit verify --anchor` against it; erase the listed ids again then).
pub fn erasure(e: &autocrm::erasure::Erasure, head: &autocrm::audit::AuditHead) {
    let merged: Vec<String> = e.merged.iter().map(|c| c.to_string()).collect();
    let c = &e.counts;
    say!(
        "erased customer {}{} at {} by {}: {}",
        e.customer,
        if merged.is_empty() {
            String::new()
        } else {
            format!(" (and merged ids {})", merged.join(", "))
        },
        e.at,
        e.by,
        e.reason
    );
    say!(
        "  removed: {} touchpoint notes, {} complaint notes, {} lineage entries, {} conflicts, \
         {} feedback entries; {} merge records scrubbed",
        c.touchpoint_notes,
        c.complaint_notes,
        c.lineage_entries,
        c.conflicts,
        c.feedback_entries,
        c.merge_records
    );
    say!("  audit head {head}: keep it with this receipt (autocrm audit verify --anchor {head})");
}

/// Audit entries, one per line: seq, time, scope, actor, action, operation, customers,
/// purpose.
pub fn audit_entries(entries: &[autocrm::audit::AuditEntry]) {
    for e in entries {
        let customers: Vec<String> = e.customers.iter().map(|c| c.to_string()).collect();
        say!(
            "{:>8}  {}  {:<16} {:<12} {:<8} {:<18} {}{}",
            e.seq,
            e.at,
            e.scope,
            e.actor,
            e.action.name(),
            e.what,
            customers.join(","),
            e.purpose
                .as_deref()
                .map(|p| format!("  ({p})"))
                .unwrap_or_default()
        );
    }
}

/// The HQ roles with their permissions.
pub fn roles(roles: &autocrm::access::Roles) {
    use autocrm::Named;
    for (name, role) in &roles.0 {
        let permissions: Vec<&str> = role.permissions.iter().map(|p| p.name()).collect();
        let consent = role
            .consented_channel
            .map(|c| format!("  (only customers consenting to {})", c.name()))
            .unwrap_or_default();
        say!("{name:<14} {}{consent}", permissions.join(", "));
    }
}

/// KPI rows as CSV: one line per group and period, the value empty when there is nothing to
/// divide by.
pub fn kpi_rows(rows: &[autocrm::KpiRow]) {
    say!("kpi,dimension,label,period_from,period_to,numerator,denominator,value");
    for r in rows {
        let (dimension, _) = r.key.parts();
        let value = r.value.map(|v| v.to_string()).unwrap_or_default();
        say!(
            "{},{},{},{},{},{},{},{}",
            r.kpi.name(),
            dimension,
            csv_field(&r.label),
            r.period.from,
            r.period.to,
            r.numerator,
            r.denominator,
            value
        );
    }
}

/// What `autocrm export` wrote: one line per table, then the totals and the rate.
pub fn lake_report(r: &autocrm::export::lake::LakeReport) {
    say!(
        "exported snapshot of {} to {}{}",
        r.snapshot_at,
        r.dir.display(),
        r.scope
            .as_deref()
            .map_or(String::new(), |s| format!(" as {s}"))
    );
    for t in &r.tables {
        say!(
            "  {:<13} {:>10} rows {:>12} {:>5} files",
            t.name,
            t.rows,
            human_bytes(t.bytes),
            t.files.len()
        );
    }
    let secs = r.elapsed.as_secs_f64();
    say!(
        "{} tables, {} rows, {} in {} files, {:.2} s ({:.0} rows/s); manifest {}",
        r.tables.len(),
        r.rows(),
        human_bytes(r.bytes()),
        r.files(),
        secs,
        r.rows_per_second(),
        autocrm::export::lake::MANIFEST
    );
    if let Some(position) = r.sequence {
        say!("current to change {position} of the change feed");
    }
}

/// `n` bytes as B, KiB, MiB or GiB.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub(crate) fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        terminal_safe(text)
    }
}
