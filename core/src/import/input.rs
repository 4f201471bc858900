//! Reading an import file as a stream of rows: byte counting, encoding detection and decoding,
//! and the CSV and JSON Lines readers. Nothing here holds more than one row (plus the readers'
//! fixed buffers) in memory.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use encoding_rs_io::DecodeReaderBytesBuilder;

use super::columns::{Raw, Row, Schema};
use super::{codes, Encoding, Format, ImportError};

/// Bytes looked at to choose the encoding of input that cannot be read twice.
pub(crate) const SNIFF_BYTES: usize = 1 << 20;

/// Longest row accepted (bytes of decoded text). A longer JSON line is rejected and skipped,
/// so one runaway line cannot make the import hold an unbounded buffer.
pub(crate) const MAX_ROW_BYTES: usize = 1 << 20;

/// A reader that counts the bytes it hands out, for progress reports.
pub(crate) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Counting<R> {
    pub(crate) fn new(inner: R) -> (Counting<R>, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Counting {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The encoding chosen for the bytes (`prefix` is all of them when `complete`): a BOM or valid
/// UTF-8 means UTF-8, anything else GBK. A multi-byte character cut off by the end of an
/// incomplete prefix does not count against UTF-8.
pub(crate) fn detect(prefix: &[u8], complete: bool) -> Encoding {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() && !complete => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    }
}

/// Whether the whole stream is valid UTF-8, read in fixed-size chunks.
pub(crate) fn is_utf8_stream(mut r: impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = 0usize;
    loop {
        let n = match r.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let filled = carry + n;
        if n == 0 {
            return Ok(filled == 0);
        }
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                // A character cut by the chunk boundary: keep its bytes for the next round.
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// Reads the first [`SNIFF_BYTES`] of `r` (fewer if it ends), for detection; returns them and
/// whether the input ended within them.
pub(crate) fn sniff(r: &mut impl Read) -> io::Result<(Vec<u8>, bool)> {
    let mut prefix = Vec::new();
    r.take(SNIFF_BYTES as u64).read_to_end(&mut prefix)?;
    let complete = prefix.len() < SNIFF_BYTES;
    Ok((prefix, complete))
}

/// `r` decoded from `encoding` to UTF-8. A BOM is honoured and removed; bytes that are not
/// valid in the encoding become U+FFFD rather than failing the import.
pub(crate) fn decoded<R: Read>(r: R, encoding: Encoding) -> impl Read {
    let enc = match encoding {
        Encoding::Gbk => encoding_rs::GBK,
        Encoding::Utf8 | Encoding::Auto => encoding_rs::UTF_8,
    };
    DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .bom_override(true)
        .build(r)
}

/// The format of input whose first bytes are `prefix`: JSON Lines if the first non-blank
/// character (after a BOM) is `{`, else CSV.
pub(crate) fn sniff_format(prefix: &[u8]) -> Format {
    let body = prefix.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(prefix);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::JsonLines,
        _ => Format::Csv,
    }
}

/// What reading the next row gave.
pub(crate) enum Next {
    /// A row.
    Row(Row),
    /// A row that could not be read as a row at all (malformed CSV or JSON): rejected.
    Bad {
        line: u64,
        raw: String,
        error: ImportError,
    },
    /// End of input.
    End,
}

/// A source of rows: CSV or JSON Lines.
pub(crate) enum Rows<R: Read> {
    Csv(CsvRows<R>),
    Json(JsonRows<R>),
}

impl<R: Read> Rows<R> {
    /// Opens `input` as `format` rows of `schema`. A CSV file's header is read here: a missing
    /// header, a duplicate column or a missing required column is a file-level error.
    pub(crate) fn open(
        input: R,
        format: Format,
        schema: &'static Schema,
        file: &str,
        delimiter: u8,
    ) -> Result<(Rows<R>, Vec<String>), ImportError> {
        match format {
            Format::Csv => {
                let (rows, ignored) = CsvRows::open(input, schema, file, delimiter)?;
                Ok((Rows::Csv(rows), ignored))
            }
            Format::JsonLines => Ok((
                Rows::Json(JsonRows {
                    input: BufReader::with_capacity(64 * 1024, input),
                    schema,
                    line: 0,
                    buf: Vec::new(),
                    file: file.to_string(),
                    ignored: Vec::new(),
                }),
                Vec::new(),
            )),
        }
    }

    pub(crate) fn next(&mut self) -> Result<Next, ImportError> {
        match self {
            Rows::Csv(r) => r.next(),
            Rows::Json(r) => r.next(),
        }
    }

    /// Takes back a row that has been handled, so that its buffers serve the next one.
    pub(crate) fn recycle(&mut self, row: Row) {
        if let (Rows::Csv(r), Raw::Csv(record)) = (self, row.raw) {
            r.spare = Some(record);
        }
    }

    /// Columns (CSV) or keys (JSON) that the schema does not know and that were ignored.
    pub(crate) fn ignored(&self) -> &[String] {
        match self {
            Rows::Csv(r) => &r.ignored,
            Rows::Json(r) => &r.ignored,
        }
    }
}

/// Normalises a column name: trimmed, lower case, spaces and dashes as underscores, a stray BOM
/// removed.
fn column_name(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

pub(crate) struct CsvRows<R: Read> {
    reader: csv::Reader<R>,
    schema: &'static Schema,
    /// Schema column of each CSV column (`None`: ignored).
    map: Vec<Option<usize>>,
    record: csv::StringRecord,
    /// A record handed back by [`Rows::recycle`], reused for the next row.
    spare: Option<csv::StringRecord>,
    file: String,
    ignored: Vec<String>,
}

impl<R: Read> CsvRows<R> {
    fn open(
        input: R,
        schema: &'static Schema,
        file: &str,
        delimiter: u8,
    ) -> Result<(CsvRows<R>, Vec<String>), ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            // Records end at LF only: the reader's CRLF handling numbers the lines after the
            // first CRLF one too low. A CR before the LF stays in the last cell, which is
            // trimmed like every cell.
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input);
        let mut header = csv::StringRecord::new();
        let no_header = || {
            ImportError::file(
                codes::NO_HEADER,
                file,
                "the file is empty: a CSV import starts with a header row naming the columns",
            )
        };
        loop {
            match reader.read_record(&mut header) {
                Ok(true) if header.iter().all(|f| f.trim().is_empty()) => continue,
                Ok(true) => break,
                Ok(false) => return Err(no_header()),
                Err(e) => {
                    return Err(ImportError::file(
                        codes::BAD_CSV,
                        file,
                        format!("the header row could not be read: {e}"),
                    ))
                }
            }
        }
        let mut map = Vec::with_capacity(header.len());
        let mut ignored = Vec::new();
        let mut seen = vec![false; schema.columns.len()];
        for name in header.iter() {
            let name = column_name(name);
            match schema.index(&name) {
                Some(i) if seen[i] => {
                    return Err(ImportError::file(
                        codes::DUPLICATE_COLUMN,
                        file,
                        format!(
                            "column `{}` appears twice in the header",
                            schema.columns[i].name
                        ),
                    )
                    .with_line(1)
                    .with_field(schema.columns[i].name))
                }
                Some(i) => {
                    seen[i] = true;
                    map.push(Some(i));
                }
                None => {
                    if !name.is_empty() {
                        ignored.push(name);
                    }
                    map.push(None);
                }
            }
        }
        for (i, c) in schema.columns.iter().enumerate() {
            if c.required && !seen[i] {
                return Err(ImportError::file(
                    codes::MISSING_COLUMN,
                    file,
                    format!(
                        "the header has no column `{}`, which every {} row needs",
                        c.name, schema.kind_name
                    ),
                )
                .with_line(1)
                .with_field(c.name));
            }
        }
        Ok((
            CsvRows {
                reader,
                schema,
                map,
                record: csv::StringRecord::new(),
                spare: None,
                file: file.to_string(),
                ignored: ignored.clone(),
            },
            ignored,
        ))
    }

    fn next(&mut self) -> Result<Next, ImportError> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return Ok(Next::End),
                Ok(true) => {
                    let line = self.record.position().map_or(0, |p| p.line());
                    if self.record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    let mut values = vec![None; self.schema.columns.len()];
                    for (field, col) in self.record.iter().zip(&self.map) {
                        if let Some(i) = col {
                            let v = field.trim();
                            if !v.is_empty() {
                                values[*i] = Some(v.to_string());
                            }
                        }
                    }
                    // The record moves into the row (a recycled one takes its place): the CSV
                    // line is rebuilt from it only if the row is rejected.
                    let spare = self.spare.take().unwrap_or_default();
                    let record = std::mem::replace(&mut self.record, spare);
                    return Ok(Next::Row(Row {
                        line,
                        values,
                        raw: Raw::Csv(record),
                    }));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    match e.kind() {
                        csv::ErrorKind::Io(_) => {
                            return Err(ImportError::file(
                                codes::FILE_UNREADABLE,
                                &self.file,
                                format!("reading failed: {e}"),
                            )
                            .with_line(line))
                        }
                        _ => {
                            return Ok(Next::Bad {
                                line,
                                raw: String::new(),
                                error: ImportError::row(
                                    codes::BAD_CSV,
                                    line,
                                    None,
                                    "",
                                    format!("the row is not valid CSV: {e}"),
                                ),
                            })
                        }
                    }
                }
            }
        }
    }
}

/// The record written back as one CSV line, for the feedback queue.
pub(crate) fn raw_csv(record: &csv::StringRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let last = record.len().saturating_sub(1);
    let fields = record.iter().enumerate().map(|(i, f)| {
        if i == last {
            f.trim_end_matches('\r')
        } else {
            f
        }
    });
    if w.write_record(fields).is_err() {
        return String::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut s = String::from_utf8(bytes).unwrap_or_default();
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

pub(crate) struct JsonRows<R: Read> {
    input: BufReader<R>,
    schema: &'static Schema,
    line: u64,
    buf: Vec<u8>,
    file: String,
    ignored: Vec<String>,
}

impl<R: Read> JsonRows<R> {
    /// Reads one line into `buf` (without its terminator), keeping at most [`MAX_ROW_BYTES`];
    /// returns `None` at the end, `Some(false)` for an over-long line (skipped to its end).
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let mut any = false;
        let mut fits = true;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(fits));
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if fits && self.buf.len() + take <= MAX_ROW_BYTES {
                self.buf.extend_from_slice(&chunk[..take]);
            } else {
                fits = false;
                self.buf.clear();
            }
            self.input.consume(take + usize::from(done));
            if done {
                return Ok(Some(fits));
            }
        }
    }

    fn next(&mut self) -> Result<Next, ImportError> {
        loop {
            let read = self.read_line().map_err(|e| {
                ImportError::file(
                    codes::FILE_UNREADABLE,
                    &self.file,
                    format!("reading failed: {e}"),
                )
                .with_line(self.line + 1)
            })?;
            self.line += 1;
            let line = self.line;
            let fits = match read {
                None => return Ok(Next::End),
                Some(fits) => fits,
            };
            if !fits {
                return Ok(Next::Bad {
                    line,
                    raw: String::new(),
                    error: ImportError::row(
                        codes::LINE_TOO_LONG,
                        line,
                        None,
                        "",
                        format!("the line is longer than {MAX_ROW_BYTES} bytes"),
                    ),
                });
            }
            // Decoding produced UTF-8, but stay total on anything.
            let text = String::from_utf8_lossy(&self.buf);
            let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            if text.is_empty() {
                continue;
            }
            let raw = text.to_string();
            let object =
                match serde_json::from_str::<serde_json::Value>(&raw) {
                    Ok(serde_json::Value::Object(o)) => o,
                    Ok(_) => return Ok(Next::Bad {
                        line,
                        error: ImportError::row(
                            codes::BAD_JSON,
                            line,
                            None,
                            "",
                            "the line is JSON but not an object; each line holds one record as \
                             {\"column\": value, ...}",
                        ),
                        raw,
                    }),
                    Err(e) => {
                        return Ok(Next::Bad {
                            line,
                            error: ImportError::row(
                                codes::BAD_JSON,
                                line,
                                None,
                                "",
                                format!("the line is not valid JSON: {e}"),
                            ),
                            raw,
                        })
                    }
                };
            let mut values = vec![None; self.schema.columns.len()];
            for (key, value) in object {
                let name = column_name(&key);
                let Some(i) = self.schema.index(&name) else {
                    if self.ignored.len() < 64 && !self.ignored.contains(&name) {
                        self.ignored.push(name);
                    }
                    continue;
                };
                let text = match json_text(&value) {
                    Ok(t) => t,
                    Err(what) => {
                        return Ok(Next::Bad {
                            line,
                            error: ImportError::row(
                                codes::BAD_VALUE,
                                line,
                                Some(self.schema.columns[i].name),
                                &value.to_string(),
                                format!("{what}; give a string, number or boolean"),
                            ),
                            raw,
                        })
                    }
                };
                if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
                    values[i] = Some(t.trim().to_string());
                }
            }
            return Ok(Next::Row(Row {
                line,
                values,
                raw: Raw::Text(raw),
            }));
        }
    }
}

/// A JSON value as the text a CSV cell would hold: strings as they are, numbers and booleans
/// as written, `null` as absent, an array of those as a `;`-separated list.
fn json_text(v: &serde_json::Value) -> Result<Option<String>, &'static str> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Array(_) | Value::Object(_) => {
                        return Err("a list inside a list or an object in a list")
                    }
                    other => {
                        if let Some(t) = json_text(other)? {
                            parts.push(t);
                        }
                    }
                }
            }
            Some(parts.join(";"))
        }
        Value::Object(_) => return Err("an object is not a column value"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_bom_and_gbk() {
        assert_eq!(detect("王小明".as_bytes(), true), Encoding::Utf8);
        assert_eq!(detect(b"\xEF\xBB\xBFname", true), Encoding::Utf8);
        let (gbk, _, _) = encoding_rs::GBK.encode("王小明");
        assert_eq!(detect(&gbk, true), Encoding::Gbk);
        // A character cut by the end of a prefix is not evidence against UTF-8.
        let cut = &"王".as_bytes()[..2];
        assert_eq!(detect(cut, false), Encoding::Utf8);
        assert_eq!(detect(cut, true), Encoding::Gbk);
    }

    #[test]
    fn streams_utf8_check_across_chunk_boundaries() {
        let text = "王小明,".repeat(30_000);
        assert!(is_utf8_stream(text.as_bytes()).unwrap());
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert!(!is_utf8_stream(&gbk[..]).unwrap());
        assert!(is_utf8_stream(&b""[..]).unwrap());
    }

    #[test]
    fn column_names_are_normalised() {
        assert_eq!(column_name("\u{feff} Source-System "), "source_system");
        assert_eq!(column_name("National ID"), "national_id");
    }
}
