//! Reading an import file as a stream of rows: byte counting, encoding detection, splitting
//! the raw bytes into records (at most [`MAX_ROW_BYTES`] held), decoding each record (a row
//! with bytes invalid in the encoding is flagged, not altered silently), and the CSV and JSON
//! Lines readers. Nothing here holds more than one row (plus fixed buffers) in memory.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::columns::{Raw, Row, Schema};
use super::{Encoding, Format, ImportCode, ImportError};

/// Bytes looked at to choose the encoding of input that cannot be read twice.
pub(crate) const SNIFF_BYTES: usize = 1 << 20;

/// Longest row accepted (bytes as read, before decoding). A longer CSV record or JSON line is
/// rejected (`import.line_too_long`) and skipped without being held, so one runaway cell or
/// line cannot make the import hold an unbounded buffer.
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

/// Counts of a UTF-8 reading of some bytes: characters of more than one byte, and invalid
/// sequences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Utf8Tally {
    multibyte: u64,
    invalid: u64,
}

impl Utf8Tally {
    /// Adds `bytes`; returns how many were used (a character cut off by the end is left).
    fn add(&mut self, bytes: &[u8]) -> usize {
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(_) => {
                    self.multibyte += lead_bytes(rest);
                    return bytes.len();
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    self.multibyte += lead_bytes(&rest[..valid]);
                    match e.error_len() {
                        None => return bytes.len() - (rest.len() - valid),
                        Some(n) => {
                            self.invalid += 1;
                            rest = &rest[valid + n..];
                        }
                    }
                }
            }
        }
    }

    /// Whether the bytes are UTF-8: valid, or nearly (at most one invalid sequence per 16
    /// multi-byte characters: stray bytes in a UTF-8 export, whose rows are then rejected as
    /// `import.bad_encoding`). GBK text read as UTF-8 is invalid at nearly every character.
    fn is_utf8(self) -> bool {
        self.invalid == 0 || self.multibyte >= 16 * self.invalid
    }
}

/// Lead bytes of multi-byte characters in valid UTF-8.
fn lead_bytes(valid: &[u8]) -> u64 {
    valid.iter().filter(|&&b| b >= 0xC0).count() as u64
}

/// The encoding chosen for the bytes (`prefix` is all of them when `complete`): a BOM, valid
/// UTF-8 or nearly valid UTF-8 ([`Utf8Tally::is_utf8`]) means UTF-8, anything else GBK. A
/// multi-byte character cut off by the end of an incomplete prefix does not count against
/// UTF-8.
pub(crate) fn detect(prefix: &[u8], complete: bool) -> Encoding {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8;
    }
    let mut tally = Utf8Tally::default();
    let used = tally.add(prefix);
    if complete && used < prefix.len() {
        tally.invalid += 1;
    }
    if tally.is_utf8() {
        Encoding::Utf8
    } else {
        Encoding::Gbk
    }
}

/// Whether the whole stream reads as UTF-8 ([`Utf8Tally::is_utf8`]), read in fixed-size
/// chunks.
pub(crate) fn is_utf8_stream(mut r: impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = 0usize;
    let mut tally = Utf8Tally::default();
    loop {
        let n = match r.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let filled = carry + n;
        if n == 0 {
            if carry > 0 {
                tally.invalid += 1;
            }
            return Ok(tally.is_utf8());
        }
        // A character cut by the chunk boundary: keep its bytes for the next round.
        let used = tally.add(&buf[..filled]);
        buf.copy_within(used..filled, 0);
        carry = filled - used;
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

/// The decoder of `encoding` (`Auto` has been resolved by then; it counts as UTF-8).
pub(crate) fn decoder(encoding: Encoding) -> &'static encoding_rs::Encoding {
    match encoding {
        Encoding::Gbk => encoding_rs::GB18030,
        Encoding::Utf8 | Encoding::Auto => encoding_rs::UTF_8,
    }
}

/// `bytes` decoded, and whether they were valid in the encoding. Invalid bytes become U+FFFD
/// in the text, which is then only good for showing the row back in a rejection.
fn decode<'b>(enc: &'static encoding_rs::Encoding, bytes: &'b [u8]) -> (Cow<'b, str>, bool) {
    match enc.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => (text, true),
        None => (enc.decode_without_bom_handling(bytes).0, false),
    }
}

/// Where a field is inside a CSV record, for finding where a record ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// At the start of a field.
    Start,
    /// In a field that did not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// A quote inside a quoted field: its end, or the first half of `""`.
    Closing,
}

/// Splits the raw input into records — lines, or CSV records whose quoted cells may span lines
/// — before decoding, holding at most [`MAX_ROW_BYTES`] of one record: a longer record is
/// skipped to its end (its quoting followed) and reported as too long. Splitting raw bytes is
/// safe for UTF-8 and GBK/GB18030: no byte of a multi-byte character is a line end, a quote
/// or a delimiter.
///
/// Records end at LF (a CR before it stays in the record; cells are trimmed), or at CR if the
/// input's first line ends with a lone CR (old Mac exports).
pub(crate) struct Records<R: Read> {
    input: BufReader<R>,
    /// The CSV delimiter; `None`: lines (JSON Lines), no quoting.
    delimiter: Option<u8>,
    terminator: u8,
    /// Line ends consumed so far.
    line: u64,
    /// The current record's bytes (without its terminator).
    pub(crate) buf: Vec<u8>,
    /// The decoder (UTF-8 if the input starts with a UTF-8 BOM).
    pub(crate) encoding: &'static encoding_rs::Encoding,
}

impl<R: Read> Records<R> {
    pub(crate) fn new(input: R, encoding: Encoding, delimiter: Option<u8>) -> io::Result<Self> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut enc = decoder(encoding);
        let head = loop {
            match input.fill_buf() {
                Ok(h) => break h,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
        // A lone CR before the first LF: the file's lines end with CR.
        let lone_cr = head
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .is_some_and(|i| head[i] == b'\r' && i + 1 < head.len() && head[i + 1] != b'\n');
        if bom {
            input.consume(3);
            enc = encoding_rs::UTF_8;
        }
        Ok(Records {
            input,
            delimiter,
            terminator: if lone_cr { b'\r' } else { b'\n' },
            line: 0,
            buf: Vec::new(),
            encoding: enc,
        })
    }

    /// The byte that ends a record.
    pub(crate) fn terminator(&self) -> u8 {
        self.terminator
    }

    /// Reads the next record into `buf`: `None` at the end, else its first line and whether
    /// it fits (`false`: longer than [`MAX_ROW_BYTES`], skipped, `buf` empty).
    pub(crate) fn next(&mut self) -> io::Result<Option<(u64, bool)>> {
        self.buf.clear();
        let start = self.line + 1;
        let mut any = false;
        let mut fits = true;
        let mut q = Quote::Start;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some((start, fits)));
            }
            any = true;
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                if b == self.terminator {
                    self.line += 1;
                }
                let Some(delim) = self.delimiter else {
                    if b == self.terminator {
                        end = Some(i);
                        break;
                    }
                    continue;
                };
                q = match q {
                    Quote::Quoted if b == b'"' => Quote::Closing,
                    Quote::Quoted => Quote::Quoted,
                    _ if b == self.terminator => {
                        end = Some(i);
                        break;
                    }
                    _ if b == delim => Quote::Start,
                    Quote::Start | Quote::Closing if b == b'"' => Quote::Quoted,
                    _ => Quote::Unquoted,
                };
            }
            let take = end.unwrap_or(chunk.len());
            if fits && self.buf.len() + take <= MAX_ROW_BYTES {
                self.buf.extend_from_slice(&chunk[..take]);
            } else {
                fits = false;
                self.buf = Vec::new();
            }
            self.input.consume(take + usize::from(end.is_some()));
            if end.is_some() {
                return Ok(Some((start, fits)));
            }
        }
    }
}

fn too_long(line: u64) -> Next {
    Next::Bad {
        line,
        raw: String::new(),
        error: ImportError::row(
            ImportCode::LineTooLong,
            line,
            None,
            "",
            format!("the row is longer than {MAX_ROW_BYTES} bytes"),
        ),
    }
}

/// The problem a row was read with that does not stop its source record from being known: it
/// is rejected with it once its source record (and sending dealer) are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flaw {
    pub code: ImportCode,
    pub field: Option<&'static str>,
    pub message: String,
}

/// The flaw of a row whose bytes were not valid in the encoding: names the first column whose
/// text shows a replacement character.
fn bad_encoding(
    encoding: &'static encoding_rs::Encoding,
    schema: &'static Schema,
    values: &[Option<String>],
) -> Flaw {
    let field = values
        .iter()
        .position(|v| v.as_deref().is_some_and(|v| v.contains('\u{FFFD}')))
        .map(|i| schema.columns[i].name);
    Flaw {
        code: ImportCode::BadEncoding,
        field,
        message: format!(
            "the row has bytes that are not valid {}; export the file in one encoding (UTF-8 \
             or GBK) or force the right one",
            encoding.name()
        ),
    }
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
        encoding: Encoding,
        schema: &'static Schema,
        file: &str,
        delimiter: u8,
    ) -> Result<(Rows<R>, Vec<String>), ImportError> {
        match format {
            Format::Csv => {
                let (rows, ignored) = CsvRows::open(input, encoding, schema, file, delimiter)?;
                Ok((Rows::Csv(rows), ignored))
            }
            Format::JsonLines => {
                let records = Records::new(input, encoding, None).map_err(|e| {
                    ImportError::file(
                        ImportCode::FileUnreadable,
                        file,
                        format!("reading failed: {e}"),
                    )
                })?;
                Ok((
                    Rows::Json(JsonRows {
                        records,
                        schema,
                        file: file.to_string(),
                        ignored: Vec::new(),
                    }),
                    Vec::new(),
                ))
            }
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
    records: Records<R>,
    delimiter: u8,
    schema: &'static Schema,
    /// Schema column of each CSV column (`None`: ignored).
    map: Vec<Option<usize>>,
    /// A record handed back by [`Rows::recycle`], reused for the next row.
    spare: Option<csv::StringRecord>,
    file: String,
    ignored: Vec<String>,
}

/// Parses one record's text (as [`Records`] cut it) into `into`.
fn parse_record(
    text: &str,
    delimiter: u8,
    terminator: u8,
    into: &mut csv::StringRecord,
) -> Result<(), csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(terminator))
        .buffer_capacity(text.len().clamp(64, 8 * 1024))
        .from_reader(text.as_bytes());
    if !reader.read_record(into)? {
        into.clear();
    }
    Ok(())
}

impl<R: Read> CsvRows<R> {
    fn open(
        input: R,
        encoding: Encoding,
        schema: &'static Schema,
        file: &str,
        delimiter: u8,
    ) -> Result<(CsvRows<R>, Vec<String>), ImportError> {
        let unreadable = |e: io::Error| {
            ImportError::file(
                ImportCode::FileUnreadable,
                file,
                format!("reading failed: {e}"),
            )
        };
        let mut records = Records::new(input, encoding, Some(delimiter)).map_err(unreadable)?;
        let mut header = csv::StringRecord::new();
        let no_header = || {
            ImportError::file(
                ImportCode::NoHeader,
                file,
                "the file is empty: a CSV import starts with a header row naming the columns",
            )
        };
        loop {
            let Some((line, fits)) = records.next().map_err(unreadable)? else {
                return Err(no_header());
            };
            if !fits {
                return Err(ImportError::file(
                    ImportCode::LineTooLong,
                    file,
                    format!("the header row is longer than {MAX_ROW_BYTES} bytes"),
                )
                .with_line(line));
            }
            let (text, clean) = decode(records.encoding, &records.buf);
            if !clean {
                return Err(ImportError::file(
                    ImportCode::BadEncoding,
                    file,
                    format!(
                        "the header row has bytes that are not valid {}; export the file in \
                         one encoding (UTF-8 or GBK) or force the right one",
                        records.encoding.name()
                    ),
                )
                .with_line(line));
            }
            parse_record(&text, delimiter, records.terminator(), &mut header).map_err(|e| {
                ImportError::file(
                    ImportCode::BadCsv,
                    file,
                    format!("the header row could not be read: {e}"),
                )
                .with_line(line)
            })?;
            if !header.iter().all(|f| f.trim().is_empty()) {
                break;
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
                        ImportCode::DuplicateColumn,
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
                    ImportCode::MissingColumn,
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
                records,
                delimiter,
                schema,
                map,
                spare: None,
                file: file.to_string(),
                ignored: ignored.clone(),
            },
            ignored,
        ))
    }

    fn next(&mut self) -> Result<Next, ImportError> {
        loop {
            let read = self.records.next().map_err(|e| {
                ImportError::file(
                    ImportCode::FileUnreadable,
                    &self.file,
                    format!("reading failed: {e}"),
                )
            })?;
            let Some((line, fits)) = read else {
                return Ok(Next::End);
            };
            if !fits {
                return Ok(too_long(line));
            }
            let (text, clean) = decode(self.records.encoding, &self.records.buf);
            let mut record = self.spare.take().unwrap_or_default();
            if let Err(e) = parse_record(
                &text,
                self.delimiter,
                self.records.terminator(),
                &mut record,
            ) {
                return Ok(Next::Bad {
                    line,
                    raw: text.trim_end_matches('\r').to_string(),
                    error: ImportError::row(
                        ImportCode::BadCsv,
                        line,
                        None,
                        "",
                        format!("the row is not valid CSV: {e}"),
                    ),
                });
            }
            if record.iter().all(|f| f.trim().is_empty()) {
                self.spare = Some(record);
                continue;
            }
            let mut values = vec![None; self.schema.columns.len()];
            for (field, col) in record.iter().zip(&self.map) {
                if let Some(i) = col {
                    let v = field.trim();
                    if !v.is_empty() {
                        values[*i] = Some(v.to_string());
                    }
                }
            }
            let extra = record
                .iter()
                .skip(self.map.len())
                .filter(|f| !f.trim().is_empty())
                .count();
            let flaw = if !clean {
                Some(bad_encoding(self.records.encoding, self.schema, &values))
            } else if extra > 0 {
                Some(Flaw {
                    code: ImportCode::ExtraCells,
                    field: None,
                    message: format!(
                        "the row has {} cells, the header names {} columns: {extra} non-empty \
                         cell(s) beyond the last column; quote a cell that contains the \
                         delimiter, or add the column to the header",
                        record.len(),
                        self.map.len()
                    ),
                })
            } else {
                None
            };
            // The record moves into the row (a recycled one takes its place later): the CSV
            // line is rebuilt from it only if the row is rejected.
            return Ok(Next::Row(Row {
                line,
                values,
                raw: Raw::Csv(record),
                flaw,
            }));
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
    records: Records<R>,
    schema: &'static Schema,
    file: String,
    ignored: Vec<String>,
}

impl<R: Read> JsonRows<R> {
    fn next(&mut self) -> Result<Next, ImportError> {
        loop {
            let read = self.records.next().map_err(|e| {
                ImportError::file(
                    ImportCode::FileUnreadable,
                    &self.file,
                    format!("reading failed: {e}"),
                )
            })?;
            let Some((line, fits)) = read else {
                return Ok(Next::End);
            };
            if !fits {
                return Ok(too_long(line));
            }
            let (text, clean) = decode(self.records.encoding, &self.records.buf);
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
                            ImportCode::BadJson,
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
                                ImportCode::BadJson,
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
                                ImportCode::BadValue,
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
            let flaw = (!clean).then(|| bad_encoding(self.records.encoding, self.schema, &values));
            return Ok(Next::Row(Row {
                line,
                values,
                raw: Raw::Text(raw),
                flaw,
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
        // A stray byte in a UTF-8 file does not make it GBK; GBK text stays GBK.
        let mut stray = text.clone().into_bytes();
        stray.insert(100, 0xFF);
        assert!(is_utf8_stream(&stray[..]).unwrap());
        assert_eq!(detect(&stray, true), Encoding::Utf8);
        assert_eq!(detect(&gbk, true), Encoding::Gbk);
    }

    #[test]
    fn column_names_are_normalised() {
        assert_eq!(column_name("\u{feff} Source-System "), "source_system");
        assert_eq!(column_name("National ID"), "national_id");
    }
}
