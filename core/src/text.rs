//! Text that leaves the database: cells of the CSV files autocrm writes.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return
//! before one) as a formula (CSV injection, OWASP). Every CSV writer of the project passes its
//! cells through [`spreadsheet_safe`].

use std::borrow::Cow;

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
}
