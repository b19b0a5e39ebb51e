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
//! Speed: rows are classified 64 bytes at a time into bit masks of quotes,
//! delimiters and line breaks (loops the compiler turns into SIMD compares
//! and byte-mask moves), and whether each byte lies inside quotes is the
//! prefix XOR of the quote mask, as in simdjson (Langdale and Lemire 2019,
//! "Parsing gigabytes of JSON per second"). Field and row boundaries are then
//! the set bits of `delimiters & !inside`, walked with trailing-zero counts;
//! fields that are not projected cost one bit each, not a search.
//!
//! The prefix-XOR model equals csv-core as long as every quote that opens a
//! quoted stretch stands at a field start or right after a closing quote
//! (the `""` escape). A row where that fails (`ab"c`, `"ab"c"d`) is split
//! again by [`split_row_exact`], the field-by-field reference splitter:
//! inside an unquoted field it jumps with `memchr3` to the next `,`, `\r` or
//! `\n`; inside a quoted field with `memchr` to the next `"`. Only the
//! projected columns are recorded, as byte ranges.

use memchr::{memchr, memchr3};

/// How many columns the scanner projects at most.
pub(crate) const MAX_WANTED: usize = 8;
/// Marker in the column-to-slot table for a column that is not wanted.
pub(crate) const NOT_WANTED: u8 = u8::MAX;

/// The projected columns, looked up both ways.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wanted {
    /// Column index to slot, [`NOT_WANTED`] for the others; as long as the
    /// last projected column + 1.
    pub slot_of_col: Vec<u8>,
    /// Slot to column index, for the first `slots` slots.
    pub col_of_slot: [usize; MAX_WANTED],
    pub slots: usize,
    /// Bit `i` set if the comma that ends field `i` bounds a projected field
    /// (for the first 64 fields; always set for the last projected column).
    pub needed_commas: u64,
}

impl Wanted {
    /// `columns[slot]` is the column index projected into `slot`.
    pub(crate) fn new(columns: &[usize]) -> Wanted {
        assert!(columns.len() <= MAX_WANTED, "at most {MAX_WANTED} projected columns");
        let mut slot_of_col = vec![NOT_WANTED; columns.iter().max().map_or(0, |&c| c + 1)];
        let mut col_of_slot = [0; MAX_WANTED];
        for (slot, &col) in columns.iter().enumerate() {
            slot_of_col[col] = slot as u8;
            col_of_slot[slot] = col;
        }
        let mut needed_commas = 0u64;
        for &col in columns.iter().filter(|&&c| c < 64) {
            needed_commas |= 1 << col;
            if col > 0 {
                needed_commas |= 1 << (col - 1);
            }
        }
        Wanted { slot_of_col, col_of_slot, slots: columns.len(), needed_commas }
    }
}

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
    /// `fields` how many fields the row has, or any number above
    /// `wanted.len()` when it has more than that.
    Row { next: usize, fields: usize },
    /// The row runs past the end of the buffer: read more and try again.
    NeedMore,
}

#[inline]
fn is_row_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Splits the row that starts at `start` (not a line break) and records the
/// projected fields in `spans` (by slot). `eof` says that
/// `buf` ends where the file ends, so an unfinished row is complete.
#[inline]
pub(crate) fn split_row(
    buf: &[u8],
    start: usize,
    eof: bool,
    wanted: &Wanted,
    spans: &mut [Span; MAX_WANTED],
    ends: &mut CommaEnds,
) -> Split {
    match split_row_masked(buf, start, eof, wanted, spans, ends) {
        Some(split) => split,
        None => split_row_exact(buf, start, eof, &wanted.slot_of_col, spans),
    }
}

/// Bytes classified per step of [`split_row_masked`].
const WINDOW: usize = 64;

/// Quote, comma and line-break masks of 64 bytes (bit `i` for byte `i`):
/// per 16 bytes, SSE2 byte compares and `pmovmskb` (through `safe_arch`,
/// so this crate keeps `unsafe` forbidden).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8; WINDOW]) -> (u64, u64, u64) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, move_mask_i8_m128i as mask,
        set_splat_i8_m128i as splat,
    };
    let (quote, comma, lf, cr) = (splat(b'"' as i8), splat(b',' as i8), splat(b'\n' as i8), splat(b'\r' as i8));
    let (mut quotes, mut commas, mut breaks) = (0u64, 0u64, 0u64);
    for (lane, bytes) in block.chunks_exact(16).enumerate() {
        let v = load_unaligned_m128i(bytes.try_into().expect("16 bytes"));
        let shift = 16 * lane;
        quotes |= u64::from(mask(eq(v, quote)) as u16) << shift;
        commas |= u64::from(mask(eq(v, comma)) as u16) << shift;
        breaks |= u64::from(mask(bitor_m128i(eq(v, lf), eq(v, cr))) as u16) << shift;
    }
    (quotes, commas, breaks)
}

/// Portable version of the classifier above.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(block: &[u8; WINDOW]) -> (u64, u64, u64) {
    let (mut quotes, mut commas, mut breaks) = (0u64, 0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        quotes |= u64::from(b == b'"') << i;
        commas |= u64::from(b == b',') << i;
        breaks |= u64::from((b == b'\n') | (b == b'\r')) << i;
    }
    (quotes, commas, breaks)
}

/// Population count in a few shifts and one multiply (the `popcnt`
/// instruction is not in the x86-64 baseline this crate is built for).
#[inline(always)]
fn count_ones(x: u64) -> usize {
    let x = x - ((x >> 1) & 0x5555_5555_5555_5555);
    let x = (x & 0x3333_3333_3333_3333) + ((x >> 2) & 0x3333_3333_3333_3333);
    let x = (x + (x >> 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    (x.wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// Bit `i` is the XOR of bits `0..=i`: set where an odd number of quotes has
/// been seen, i.e. inside a quoted stretch (opening quotes included).
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The span of a projected field from its raw bytes `buf[start..end]`, as
/// [`split_row_exact`] would give it.
#[inline]
fn span_of_raw(buf: &[u8], start: usize, end: usize) -> Span {
    if buf.get(start) != Some(&b'"') || start == end {
        return Span::Plain { start, end };
    }
    if end - start >= 2 && buf[end - 1] == b'"' && memchr(b'"', &buf[start + 1..end - 1]).is_none() {
        Span::Plain { start: start + 1, end: end - 1 }
    } else {
        Span::Complex { start, end }
    }
}

/// Most columns the bit-mask splitter projects from; wider projections go
/// through [`split_row_exact`].
const MAX_MASKED_COLUMNS: usize = 64;

/// Scratch space of [`split_row`], kept by the caller between rows:
/// `ends[i]` is the offset of the comma that ends field `i`.
pub(crate) type CommaEnds = [usize; MAX_MASKED_COLUMNS];

/// The bit-mask splitter (see the module comment). `None` when a quote sits
/// where the prefix-XOR model and csv-core disagree; the caller then splits
/// the row with [`split_row_exact`].
#[inline]
fn split_row_masked(
    buf: &[u8],
    start: usize,
    eof: bool,
    wanted: &Wanted,
    spans: &mut [Span; MAX_WANTED],
    ends: &mut CommaEnds,
) -> Option<Split> {
    let limit = wanted.slot_of_col.len();
    if limit > MAX_MASKED_COLUMNS {
        return None;
    }
    // `ends[i]` is set for the needed commas among the first `limit`.
    let mut commas_seen = 0usize;
    // Carries from the previous window: all ones if inside quotes; bit 0 set
    // if its last byte was a delimiter outside quotes (or the row start), or a quote.
    let (mut inside, mut after_delim, mut after_quote) = (0u64, 1u64, 0u64);
    let mut w = start;
    let row_end = loop {
        let (quotes, commas, breaks, valid) = match buf.get(w..w + WINDOW) {
            Some(block) => {
                let (q, c, n) = classify(block.try_into().expect("64 bytes"));
                (q, c, n, u64::MAX)
            }
            None => {
                let rest = &buf[w.min(buf.len())..];
                let mut block = [0u8; WINDOW];
                block[..rest.len()].copy_from_slice(rest);
                let (q, c, n) = classify(&block);
                (q, c, n, (1u64 << rest.len()).wrapping_sub(1))
            }
        };
        let in_quotes = prefix_xor(quotes) ^ inside;
        let row_breaks = breaks & !in_quotes & valid;
        // Bits strictly before the row end (or every valid bit if the row goes on).
        let in_row = if row_breaks != 0 { (row_breaks & row_breaks.wrapping_neg()) - 1 } else { valid };
        let delims = (commas | breaks) & !in_quotes;
        let opening = quotes & in_quotes & in_row;
        let may_open = (delims << 1) | after_delim | (quotes << 1) | after_quote;
        if opening & !may_open != 0 {
            return None;
        }
        // Only the commas around projected fields are recorded; the others
        // are counted in bulk. Commas past the last projected column are
        // neither needed nor counted.
        let mut seps = commas & !in_quotes & in_row;
        while seps != 0 && commas_seen < limit {
            let next = commas_seen + (wanted.needed_commas >> commas_seen).trailing_zeros() as usize;
            let skip = next - commas_seen;
            if skip > 0 {
                let here = count_ones(seps);
                if here <= skip {
                    commas_seen += here;
                    break;
                }
                for _ in 0..skip {
                    seps &= seps - 1;
                }
            }
            ends[next] = w + seps.trailing_zeros() as usize;
            commas_seen = next + 1;
            seps &= seps - 1;
        }
        if row_breaks != 0 {
            break w + row_breaks.trailing_zeros() as usize;
        }
        if valid != u64::MAX {
            if !eof {
                return Some(Split::NeedMore);
            }
            break buf.len();
        }
        if in_quotes >> 63 == 1 {
            // Long quoted fields (notes) are crossed with `memchr`, which
            // picks AVX2 at run time, instead of window by window.
            match closing_quote(buf, w + WINDOW, eof) {
                Closing::At(q) => {
                    (inside, after_delim, after_quote) = (0, 0, 1);
                    w = q + 1;
                }
                Closing::Unterminated => break buf.len(),
                Closing::NeedMore => return Some(Split::NeedMore),
            }
            continue;
        }
        (inside, after_delim, after_quote) = (0, delims >> 63, quotes >> 63);
        w += WINDOW;
    };
    for (span, &col) in spans.iter_mut().zip(&wanted.col_of_slot).take(wanted.slots) {
        *span = match col {
            _ if col > commas_seen => Span::Missing,
            0 if commas_seen == 0 => span_of_raw(buf, start, row_end),
            0 => span_of_raw(buf, start, ends[0]),
            _ if col == commas_seen => span_of_raw(buf, ends[col - 1] + 1, row_end),
            _ => span_of_raw(buf, ends[col - 1] + 1, ends[col]),
        };
    }
    Some(Split::Row { next: (row_end + 1).min(buf.len()), fields: commas_seen + 1 })
}

/// Where a quoted stretch ends.
enum Closing {
    /// At the quote with this offset.
    At(usize),
    /// Never: the file ends inside the quotes.
    Unterminated,
    /// Not within the buffer.
    NeedMore,
}

/// The quote that closes a quoted stretch, searching from `from` (inside the
/// quotes); `""` pairs are escapes and do not close it.
#[inline]
fn closing_quote(buf: &[u8], from: usize, eof: bool) -> Closing {
    let mut i = from;
    loop {
        let Some(o) = buf.get(i..).and_then(|rest| memchr(b'"', rest)) else {
            return if eof { Closing::Unterminated } else { Closing::NeedMore };
        };
        let q = i + o;
        match buf.get(q + 1) {
            Some(b'"') => i = q + 2,
            Some(_) => return Closing::At(q),
            None if eof => return Closing::At(q),
            None => return Closing::NeedMore,
        }
    }
}

/// The reference splitter: field by field, with `memchr` searches.
/// `wanted[col]` is the slot in `spans` for column `col`, or [`NOT_WANTED`].
pub(crate) fn split_row_exact(
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
        if let Some(&slot) = wanted.get(col)
            && slot != NOT_WANTED
        {
            spans[slot as usize] = span;
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
            return eof.then_some((Span::Complex { start: p, end: buf.len() }, buf.len()));
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
    if escaped { Span::Complex { start: open, end: close + 1 } } else { Span::Plain { start: open + 1, end: close } }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(row: &str) -> Vec<String> {
        let wanted = Wanted::new(&[0, 1, 2, 3]);
        let mut spans = [Span::Missing; MAX_WANTED];
        let buf = row.as_bytes();
        let Split::Row { .. } = split_row(buf, 0, true, &wanted, &mut spans, &mut [0; MAX_MASKED_COLUMNS]) else {
            panic!("row not complete")
        };
        let mut scratch = Vec::new();
        spans[..4]
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

    /// Random text of delimiters, quotes, escapes and line breaks, with long
    /// runs so that rows and quoted fields cross the 64-byte windows.
    fn random_text() -> impl Strategy<Value = Vec<u8>> {
        let pieces = vec![
            "a",
            "bc",
            ",",
            ",",
            "\"",
            "\"\"",
            "\n",
            "\r",
            "\r\n",
            "Zé",
            "0123456789012345678901234567890123456789012345678901234567890",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..120).prop_map(|p| p.concat().into_bytes())
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// The bit-mask splitter (with its fallback) gives, row after row, the
        /// same spans and row ends as the field-by-field reference splitter,
        /// whether or not the buffer ends where the file does.
        #[test]
        fn masked_splitter_agrees_with_the_exact_one(text in random_text(), cols in prop::sample::subsequence((0..70usize).collect::<Vec<_>>(), 1..=MAX_WANTED), eof in any::<bool>()) {
            let mut cols = cols;
            cols.reverse();
            let wanted = Wanted::new(&cols);
            let (mut a, mut b) = ([Span::Missing; MAX_WANTED], [Span::Missing; MAX_WANTED]);
            let mut pos = skip_line_breaks(&text, 0);
            while pos < text.len() {
                let fast = split_row(&text, pos, eof, &wanted, &mut a, &mut [0; MAX_MASKED_COLUMNS]);
                let exact = split_row_exact(&text, pos, eof, &wanted.slot_of_col, &mut b);
                match (fast, exact) {
                    (Split::Row { next: n1, fields: f1 }, Split::Row { next: n2, fields: f2 }) => {
                        prop_assert_eq!(n1, n2);
                        let limit = wanted.slot_of_col.len();
                        prop_assert_eq!(f1.min(limit + 1), f2.min(limit + 1));
                        prop_assert_eq!(a, b);
                        pos = skip_line_breaks(&text, n1);
                    }
                    (x, y) => {
                        prop_assert_eq!(x, y);
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn unfinished_row_asks_for_more_input() {
        let wanted = Wanted::new(&[0]);
        let mut spans = [Span::Missing; MAX_WANTED];
        assert_eq!(
            split_row(b"a,\"b\nc", 0, false, &wanted, &mut spans, &mut [0; MAX_MASKED_COLUMNS]),
            Split::NeedMore
        );
        assert_eq!(split_row(b"a,b", 0, false, &wanted, &mut spans, &mut [0; MAX_MASKED_COLUMNS]), Split::NeedMore);
        assert_eq!(split_row(b"a,\"b\"", 0, false, &wanted, &mut spans, &mut [0; MAX_MASKED_COLUMNS]), Split::NeedMore);
    }
}
