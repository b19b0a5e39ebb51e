//! RFC 4180 row splitting over a byte buffer, with exactly the rules of the
//! `csv` crate's reader (csv-core, default settings), so that results agree
//! with it byte for byte:
//!
//! - a field that starts with `"` is quoted: delimiters and line breaks inside
//!   it are data, and `""` stands for one `"`;
//! - after the closing quote, any bytes up to the next delimiter are appended
//!   to the field as they are (`"ab"cd` reads `abcd`);
//! - a `"` that is not at the start of a field is an ordinary byte;
//! - `\n`, `\r` and `\r\n` end a row; empty lines are skipped.
//!
//! Speed: the splitter never looks at bytes one by one. Inside an unquoted
//! field it jumps with `memchr3` to the next `,`, `\r` or `\n`; inside a quoted
//! field it jumps with `memchr` to the next `"`. Both use SIMD where the CPU
//! has it. Only the projected columns are recorded, as byte ranges.

use memchr::{memchr, memchr3};

/// How many columns the scanner projects at most.
pub(crate) const MAX_WANTED: usize = 4;
/// Marker in the column-to-slot table for a column that is not wanted.
pub(crate) const NOT_WANTED: u8 = u8::MAX;

/// Where one projected field lies in the buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Span {
    /// The row ended before this column.
    #[default]
    Missing,
    /// The field's value is exactly `buf[start..end]` (quotes already stripped).
    Plain { start: usize, end: usize },
    /// The raw field `buf[start..end]` holds `""` escapes or text after the
    /// closing quote: decode it with [`decode_field`].
    Complex { start: usize, end: usize },
}

/// Outcome of splitting one row.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// A whole row: `next` is where the following row (or line break) starts,
    /// `fields` how many fields the row has.
    Row { next: usize, fields: usize },
    /// The row runs past the end of the buffer: read more and try again.
    NeedMore,
}

#[inline]
fn is_row_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Splits the row that starts at `start` (not a line break). `wanted[col]` is
/// the slot in `spans` for column `col`, or [`NOT_WANTED`]. `eof` says that
/// `buf` ends where the file ends, so an unfinished row is complete.
pub(crate) fn split_row(
    buf: &[u8],
    start: usize,
    eof: bool,
    wanted: &[u8],
    spans: &mut [Span; MAX_WANTED],
) -> Split {
    *spans = [Span::Missing; MAX_WANTED];
    let mut p = start;
    let mut col = 0usize;
    loop {
        let (span, after) = if buf.get(p) == Some(&b'"') {
            match split_quoted(buf, p, eof) {
                Some(found) => found,
                None => return Split::NeedMore,
            }
        } else {
            match find_unquoted_end(buf, p) {
                Some(e) => (Span::Plain { start: p, end: e }, e),
                None if eof => (Span::Plain { start: p, end: buf.len() }, buf.len()),
                None => return Split::NeedMore,
            }
        };
        if let Some(&slot) = wanted.get(col) {
            if slot != NOT_WANTED {
                spans[slot as usize] = span;
            }
        }
        col += 1;
        match buf.get(after) {
            Some(b',') => p = after + 1,
            Some(_) => return Split::Row { next: after + 1, fields: col },
            None => return Split::Row { next: buf.len(), fields: col },
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` equal to `b` (and possibly in bytes
/// above a match, which never matters: only the lowest set bit is used).
#[inline(always)]
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI
}

/// End of an unquoted field: the next `,`, `\n` or `\r` at or after `p`.
/// Most fields are short, so the first 16 bytes are tested eight at a time
/// in a register (SWAR) before handing over to `memchr3`, whose set-up cost
/// dominates on short haystacks.
#[inline]
fn find_unquoted_end(buf: &[u8], p: usize) -> Option<usize> {
    let mut i = p;
    for _ in 0..2 {
        let Some(bytes) = buf.get(i..i + 8) else { break };
        let w = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        let m = bytes_equal(w, b',') | bytes_equal(w, b'\n') | bytes_equal(w, b'\r');
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr3(b',', b'\n', b'\r', &buf[i..]).map(|o| i + o)
}

/// Splits a quoted field starting at `p` (on its opening quote). Returns the
/// span and the index of the byte that ends the field (delimiter, line break
/// or `buf.len()`), or `None` if more input is needed.
fn split_quoted(buf: &[u8], p: usize, eof: bool) -> Option<(Span, usize)> {
    let mut i = p + 1;
    let mut escaped = false;
    loop {
        let Some(o) = memchr(b'"', &buf[i..]) else {
            // Unterminated quote: csv-core keeps everything up to the end of input.
            return eof.then(|| (Span::Complex { start: p, end: buf.len() }, buf.len()));
        };
        let q = i + o;
        let Some(&next) = buf.get(q + 1) else {
            if !eof {
                return None;
            }
            return Some((closed_span(p, q, escaped), q + 1));
        };
        if next == b'"' {
            escaped = true;
            i = q + 2;
        } else if next == b',' || is_row_end(next) {
            return Some((closed_span(p, q, escaped), q + 1));
        } else {
            // Text after the closing quote belongs to the same field.
            let tail = q + 1;
            let after = match memchr3(b',', b'\n', b'\r', &buf[tail..]) {
                Some(o) => tail + o,
                None if eof => buf.len(),
                None => return None,
            };
            return Some((Span::Complex { start: p, end: after }, after));
        }
    }
}

fn closed_span(open: usize, close: usize, escaped: bool) -> Span {
    if escaped {
        Span::Complex { start: open, end: close + 1 }
    } else {
        Span::Plain { start: open + 1, end: close }
    }
}

/// Decodes a raw field (as it stands in the file, quotes included) with the
/// csv-core state machine: quoted part, `""` escapes, literal tail.
pub(crate) fn decode_field(raw: &[u8], out: &mut Vec<u8>) {
    enum State {
        Unquoted,
        Quoted,
        AfterQuote,
    }
    out.clear();
    let (mut state, body) = match raw.first() {
        Some(b'"') => (State::Quoted, &raw[1..]),
        _ => (State::Unquoted, raw),
    };
    for &b in body {
        state = match state {
            State::Unquoted => {
                out.push(b);
                State::Unquoted
            }
            State::Quoted if b == b'"' => State::AfterQuote,
            State::Quoted => {
                out.push(b);
                State::Quoted
            }
            State::AfterQuote if b == b'"' => {
                out.push(b'"');
                State::Quoted
            }
            State::AfterQuote => {
                out.push(b);
                State::Unquoted
            }
        };
    }
}

/// Position of the first byte at or after `pos` that is not a line break.
#[inline]
pub(crate) fn skip_line_breaks(buf: &[u8], mut pos: usize) -> usize {
    while pos < buf.len() && is_row_end(buf[pos]) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(row: &str) -> Vec<String> {
        let wanted = [0u8, 1, 2, 3];
        let mut spans = [Span::Missing; MAX_WANTED];
        let buf = row.as_bytes();
        let Split::Row { .. } = split_row(buf, 0, true, &wanted, &mut spans) else {
            panic!("row not complete")
        };
        let mut scratch = Vec::new();
        spans
            .iter()
            .map(|s| match *s {
                Span::Missing => "<missing>".to_string(),
                Span::Plain { start, end } => String::from_utf8_lossy(&buf[start..end]).into_owned(),
                Span::Complex { start, end } => {
                    decode_field(&buf[start..end], &mut scratch);
                    String::from_utf8_lossy(&scratch).into_owned()
                }
            })
            .collect()
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        assert_eq!(fields("a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\n"), ["a", "b,c", "say \"hi\"", "x\ny"]);
    }

    #[test]
    fn text_after_closing_quote_and_quotes_inside_unquoted_fields_are_literal() {
        assert_eq!(fields("\"ab\"cd,e\"f,,g"), ["abcd", "e\"f", "", "g"]);
    }

    #[test]
    fn short_rows_leave_columns_missing() {
        assert_eq!(fields("a,b\r\n"), ["a", "b", "<missing>", "<missing>"]);
    }

    #[test]
    fn unfinished_row_asks_for_more_input() {
        let wanted = [0u8];
        let mut spans = [Span::Missing; MAX_WANTED];
        assert_eq!(split_row(b"a,\"b\nc", 0, false, &wanted, &mut spans), Split::NeedMore);
        assert_eq!(split_row(b"a,b", 0, false, &wanted, &mut spans), Split::NeedMore);
        assert_eq!(split_row(b"a,\"b\"", 0, false, &wanted, &mut spans), Split::NeedMore);
    }
}

/// Splits one whole row (as found by [`split_row`]) into decoded fields.
/// For header rows; data rows go through the projected fast path.
pub(crate) fn split_all(row: &[u8]) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    let mut p = 0;
    loop {
        let (span, after) = if row.get(p) == Some(&b'"') {
            split_quoted(row, p, true).unwrap_or((Span::Complex { start: p, end: row.len() }, row.len()))
        } else {
            let end = memchr3(b',', b'\n', b'\r', &row[p..]).map_or(row.len(), |o| p + o);
            (Span::Plain { start: p, end }, end)
        };
        let mut value = Vec::new();
        match span {
            Span::Plain { start, end } => value.extend_from_slice(&row[start..end]),
            Span::Complex { start, end } => decode_field(&row[start..end], &mut value),
            Span::Missing => {}
        }
        fields.push(value);
        match row.get(after) {
            Some(b',') => p = after + 1,
            _ => return fields,
        }
    }
}
