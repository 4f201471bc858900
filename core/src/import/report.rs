//! What an import did: counts that are always exact, and the first rejections in full.

use std::collections::BTreeMap;
use std::io::Write;

use crate::integration::RecordKind;

/// One rejected row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Line of the file where the row starts (1-based; a CSV header is line 1).
    pub line: u64,
    /// The row's source record id, if it had one.
    pub source_id: Option<String>,
    /// Stable reason code, e.g. `import.bad_date` or `validation.name_placeholder`.
    pub code: String,
    /// The column or field at fault, if one is.
    pub field: Option<String>,
    /// What was wrong, readable.
    pub message: String,
}

/// The outcome of one import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// The name the input was imported under (the file's path).
    pub file: String,
    /// The kind of record imported.
    pub kind: RecordKind,
    /// The encoding the input was read in: `"UTF-8"` or `"GBK"`.
    pub encoding: &'static str,
    /// Rows read (not counting a CSV header and blank lines).
    pub rows: u64,
    /// Rows that created a record.
    pub created: u64,
    /// Rows matched to a stored record that changed at least one field (merged).
    pub updated: u64,
    /// Rows matched to a stored record that did not change it (a replayed source record, or
    /// equal values, or only conflicting values).
    pub unchanged: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rejected rows per reason code.
    pub rejected_by_code: BTreeMap<String, u64>,
    /// Conflicts recorded (values offered by a lower-priority source and not applied).
    pub conflicts: u64,
    /// Customer rows stored but still lacking basic fields (mobile, national ID / credit
    /// code, province, city): queued for the sending dealer to complete
    /// (`validation.incomplete`). Counted in `created` / `updated` / `unchanged` too.
    pub incomplete: u64,
    /// The first rejections, in file order: at most the `max_rejections` of the options.
    /// `rejected` always counts all of them.
    pub rejections: Vec<Rejection>,
    /// Columns (or JSON keys) the kind does not know; they were ignored.
    pub ignored_columns: Vec<String>,
    /// Bytes of input read.
    pub bytes: u64,
}

impl ImportReport {
    pub(crate) fn new(file: &str, kind: RecordKind, encoding: &'static str) -> ImportReport {
        ImportReport {
            file: file.to_string(),
            kind,
            encoding,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            rejected_by_code: BTreeMap::new(),
            conflicts: 0,
            incomplete: 0,
            rejections: Vec::new(),
            ignored_columns: Vec::new(),
            bytes: 0,
        }
    }

    /// Rows accepted: created, updated or unchanged.
    pub fn accepted(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }

    pub(crate) fn reject(&mut self, r: Rejection, keep: usize) {
        self.rejected += 1;
        *self.rejected_by_code.entry(r.code.clone()).or_insert(0) += 1;
        if self.rejections.len() < keep {
            self.rejections.push(r);
        }
    }

    /// Writes the report as one CSV table with the columns
    /// `record,line,source_id,code,field,count,message`: `summary` rows (code `rows`,
    /// `created`, `updated`, `unchanged`, `rejected`, `conflicts` with their count), one
    /// `rejected` row per reason code with its count, then one `rejection` row per kept
    /// rejection with its line, source id, code, field and message. Every cell goes through
    /// [`crate::text::spreadsheet_safe`]: a source id or message that starts with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows it
    /// instead of running it as a formula.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = SafeWriter(csv::Writer::from_writer(out));
        let io = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => std::io::Error::other(format!("{other:?}")),
        };
        w.write_record([
            "record",
            "line",
            "source_id",
            "code",
            "field",
            "count",
            "message",
        ])
        .map_err(io)?;
        let summary = [
            ("rows", self.rows),
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("rejected", self.rejected),
            ("conflicts", self.conflicts),
            ("incomplete", self.incomplete),
        ];
        for (code, count) in summary {
            w.write_record(["summary", "", "", code, "", &count.to_string(), ""])
                .map_err(io)?;
        }
        for (code, count) in &self.rejected_by_code {
            w.write_record(["rejected", "", "", code, "", &count.to_string(), ""])
                .map_err(io)?;
        }
        for r in &self.rejections {
            w.write_record([
                "rejection",
                &r.line.to_string(),
                r.source_id.as_deref().unwrap_or(""),
                &r.code,
                r.field.as_deref().unwrap_or(""),
                "",
                &r.message,
            ])
            .map_err(io)?;
        }
        w.0.flush()
    }
}

/// A CSV writer whose every cell passes through [`crate::text::spreadsheet_safe`].
struct SafeWriter<W: Write>(csv::Writer<W>);

impl<W: Write> SafeWriter<W> {
    fn write_record<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> csv::Result<()> {
        let cells: Vec<_> = cells
            .into_iter()
            .map(crate::text::spreadsheet_safe)
            .collect();
        self.0.write_record(cells.iter().map(|c| c.as_bytes()))
    }
}

impl std::fmt::Display for ImportReport {
    /// A short human summary, one line per count.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{}: {} rows of {} ({}): {} created, {} updated, {} unchanged, {} rejected, \
             {} conflicts, {} incomplete",
            self.file,
            self.rows,
            self.kind.name(),
            self.encoding,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected,
            self.conflicts,
            self.incomplete
        )?;
        for (code, n) in &self.rejected_by_code {
            writeln!(f, "  {code}: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        let mut report = ImportReport::new("=evil.csv", RecordKind::Customer, "UTF-8");
        report.reject(
            Rejection {
                line: 2,
                source_id: Some("=cmd|' /C calc'!A0".into()),
                code: "validation.name_too_short".into(),
                field: Some("name".into()),
                message: "=HYPERLINK(\"http://x\",\"click\")".into(),
            },
            10,
        );
        report.reject(
            Rejection {
                line: 3,
                source_id: Some("@SUM(1+1)*cmd|' /C calc'!A0".into()),
                code: "validation.required".into(),
                field: Some("-name".into()),
                message: "+86 is not a name".into(),
            },
            10,
        );
        let mut out = Vec::new();
        report.write_csv(&mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let rejections: Vec<&csv::StringRecord> =
            rows.iter().filter(|r| &r[0] == "rejection").collect();
        assert_eq!(rejections.len(), 2);
        assert_eq!(&rejections[0][2], "'=cmd|' /C calc'!A0");
        assert_eq!(&rejections[0][6], "'=HYPERLINK(\"http://x\",\"click\")");
        assert_eq!(&rejections[1][2], "'@SUM(1+1)*cmd|' /C calc'!A0");
        assert_eq!(&rejections[1][4], "'-name");
        assert_eq!(&rejections[1][6], "'+86 is not a name");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(crate::text::FORMULA_TRIGGERS),
                    "unsafe cell {cell:?}"
                );
            }
        }
    }
}
