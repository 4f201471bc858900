//! Text that leaves the database: cells of the CSV files autocrm writes, and text shown on a
//! terminal; and the characters that have no place in stored text.
//!
//! Both outputs interpret some characters: a spreadsheet runs a cell that starts with `=`, `+`,
//! `-` or `@` (or a tab or carriage return before one) as a formula (CSV injection, OWASP), and
//! a terminal runs escape sequences (`ESC ] 0 ; … BEL` retitles the window, others move the
//! cursor or hide text). Every CSV writer of the project passes its cells through
//! [`spreadsheet_safe`]; the command-line tool prints through [`escape_control`]. The
//! validation rules `control_character` and `invisible_text` ([`crate::validate`]) keep such
//! characters out of stored names and free text in the first place.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The characters that make a spreadsheet treat a cell as a formula when it starts with one.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` made safe to open in a spreadsheet: a cell that starts with one of
/// [`FORMULA_TRIGGERS`] gets a leading single quote, so the spreadsheet shows it as text
/// instead of evaluating it; the rest of the cell is kept unchanged. Other cells are returned
/// as they are.
///
/// ```
/// use autocrm::text::spreadsheet_safe;
/// assert_eq!(spreadsheet_safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
/// assert_eq!(spreadsheet_safe("DMS-001"), "DMS-001");
/// ```
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Whether `c` is a control character: the C0 and C1 ranges and DEL (`U+0000`–`U+001F`,
/// `U+007F`–`U+009F`).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Whether `c` is an invisible formatting character that can hide or reorder what a reader
/// sees: zero-width spaces and joiners, the word joiner and invisible operators, the byte order
/// mark, soft hyphen, and the bidirectional marks, embeddings, overrides and isolates
/// (`U+202A`–`U+202E`, `U+2066`–`U+2069`: the "RTL override" that makes `txt.exe` read
/// `exe.txt`).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// Whether `c` is a bidirectional formatting control (`U+061C`, `U+200E`, `U+200F`,
/// `U+202A`–`U+202E`, `U+2066`–`U+2069`): marks, embeddings, overrides and isolates that
/// reorder how the text around them is shown.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `s` with every control character (see [`is_control`]) except the line break written as a
/// visible escape (`\u{1b}` for ESC, `\t` for a tab, `\r`, `\0`), so printing it can never send
/// an escape sequence to a terminal. Invisible formatting characters (see [`is_invisible`]) are
/// escaped too, so a bidirectional override cannot reorder the rest of the line. Text without
/// either is returned as it is.
///
/// ```
/// use autocrm::text::escape_control;
/// assert_eq!(escape_control("王\u{1b}]0;owned\u{7}"), "王\\u{1b}]0;owned\\u{7}");
/// assert_eq!(escape_control("line 1\nline 2"), "line 1\nline 2");
/// ```
pub fn escape_control(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c != '\n' && (is_control(c) || is_invisible(c));
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_leading_quote_and_keep_the_rest() {
        for cell in [
            "=cmd|' /C calc'!A0",
            "=HYPERLINK(\"http://x\",\"y\")",
            "+86 138",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        for cell in ["", "DMS-001", "王小明", " =1", "a=b", "'=1"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }

    #[test]
    fn control_and_invisible_characters_are_escaped_for_terminals() {
        assert_eq!(escape_control("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_control("a\0b\tc\rd"), "a\\0b\\tc\\rd");
        assert_eq!(escape_control("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(escape_control("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(escape_control("王小明\n上海"), "王小明\n上海");
        assert!(matches!(escape_control("plain"), Cow::Borrowed(_)));
    }
}
