//! Reading one file: header, parallel chunks, and the exact merge.
//!
//! # Parallel chunks and quoted line breaks
//!
//! The data rows are cut into chunks at nominal byte offsets. A worker cannot
//! know whether its offset lies inside a quoted field (ACLED notes hold line
//! breaks), and quote parity does not settle it either: with csv-core rules a
//! `"` inside an unquoted field is an ordinary byte, so counting quotes from
//! the start of the file can be wrong. So each worker *speculates*: it starts
//! right after the first `\n` at or after its offset, as if that were a row
//! start, and parses up to the first row that starts at or after the next
//! chunk's offset (its `exit`). It keeps its first [`SYNC_ROWS`] rows apart,
//! each with its start offset, and folds the rest into its own totals.
//!
//! The merge then walks the chunks in order holding `pos`, a row start known
//! to be exact (the first data row, then each accepted chunk's exit). A chunk
//! is accepted from its kept row that starts exactly at `pos`: splitting is a
//! deterministic function of the start offset, so from a shared row start on,
//! the speculative parse and the exact one are the same. If no kept row
//! starts at `pos` (the guess fell inside a quoted field and had not yet
//! resynchronised), the merge parses rows itself from `pos` until it meets a
//! kept row of that chunk, or of a later one, dropping the chunks it passes.
//! The result is exactly that of one sequential pass; the usual cost is zero
//! extra rows, since a wrong guess resynchronises within a row or two (a quote
//! only opens a field at a field start).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use memchr::memchr;

use crate::agg::{Aggregator, Key};
use crate::date::{Month, parse_month};
use crate::header::{ADMIN1, ADMIN2, COUNTRY, DATE, EVENT_ID, FATALITIES, LOCATION, Projection};
use crate::split::{CommaEnds, MAX_WANTED, Span, Split, Wanted, decode_field, skip_line_breaks, split_all, split_row};
use crate::{BadReason, ScanOptions};

/// Chunks per worker thread when the chunk size is not forced.
const CHUNKS_PER_THREAD: u64 = 4;

/// Rows a worker keeps apart at the start of its chunk for the merge to sync on.
const SYNC_ROWS: usize = 16;

/// A block-buffered reader that yields rows from a byte offset of a file.
struct Cursor {
    file: File,
    buf: Vec<u8>,
    filled: usize,
    pos: usize,
    /// File offset of `buf[0]`.
    buf_start: u64,
    eof: bool,
    block: usize,
    /// Scratch space of the row splitter.
    ends: CommaEnds,
}

impl Cursor {
    fn open(path: &Path, offset: u64, block: usize) -> io::Result<Cursor> {
        let mut cursor = Cursor {
            file: File::open(path)?,
            buf: vec![0; block.max(1)],
            filled: 0,
            pos: 0,
            buf_start: 0,
            eof: false,
            block,
            ends: [0; 64],
        };
        cursor.seek(offset)?;
        Ok(cursor)
    }

    fn seek(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.buf_start = offset;
        (self.filled, self.pos, self.eof) = (0, 0, false);
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.buf_start + self.pos as u64
    }

    /// Keeps the unread bytes, makes room (growing for rows longer than the
    /// buffer) and reads until the buffer is full or the file ends.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.buf_start += self.pos as u64;
        self.filled -= self.pos;
        self.pos = 0;
        if self.filled == self.buf.len() {
            let grow = self.buf.len().max(self.block);
            self.buf.resize(self.buf.len() + grow, 0);
        }
        while self.filled < self.buf.len() {
            match self.file.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Skips line breaks; the offset of the next row start, or `None` at the end.
    fn next_row_start(&mut self) -> io::Result<Option<u64>> {
        loop {
            self.pos = skip_line_breaks(&self.buf[..self.filled], self.pos);
            if self.pos < self.filled {
                return Ok(Some(self.offset()));
            }
            if self.eof {
                return Ok(None);
            }
            self.refill()?;
        }
    }

    /// Moves past the first `\n` at or after the current offset.
    fn skip_past_newline(&mut self) -> io::Result<()> {
        loop {
            if let Some(o) = memchr(b'\n', &self.buf[self.pos..self.filled]) {
                self.pos += o + 1;
                return Ok(());
            }
            self.pos = self.filled;
            if self.eof {
                return Ok(());
            }
            self.refill()?;
        }
    }

    /// Splits the next row into `spans` (relative to [`Cursor::buffer`]).
    /// Returns its start offset and field count, or `None` at the end.
    fn next_row(&mut self, wanted: &Wanted, spans: &mut [Span; MAX_WANTED]) -> io::Result<Option<(u64, usize)>> {
        if self.next_row_start()?.is_none() {
            return Ok(None);
        }
        loop {
            match split_row(&self.buf[..self.filled], self.pos, self.eof, wanted, spans, &mut self.ends) {
                Split::Row { next, fields } => {
                    let start = self.offset();
                    self.pos = next;
                    return Ok(Some((start, fields)));
                }
                Split::NeedMore => self.refill()?,
            }
        }
    }

    fn buffer(&self) -> &[u8] {
        &self.buf[..self.filled]
    }
}

/// A rejected row before line numbers are known.
#[derive(Clone, Debug)]
pub(crate) struct RawBad {
    pub offset: u64,
    pub slot: Option<usize>,
    pub value: String,
    pub reason: BadReason,
}

/// A row's verdict, owned, for the rows kept apart at a chunk's start.
enum KeptRow {
    Good { names: [Box<[u8]>; 4], month: Month, fatalities: u64, event: Box<[u8]> },
    Bad(RawBad),
}

/// Turns projected spans into values; owns the scratch space for decoding.
struct RowReader<'p> {
    projection: &'p Projection,
    scratch: [Vec<u8>; 6],
}

enum Verdict<'a> {
    Good {
        /// Country, admin1, admin2, location (empty when not read).
        names: [&'a [u8]; 4],
        month: Month,
        fatalities: u64,
        /// The event id and date, for [`LastEvent`] (empty id when the file has none).
        id: &'a [u8],
        date: &'a [u8],
    },
    Bad(RawBad),
}

fn field<'a>(buf: &'a [u8], span: Span, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    match span {
        Span::Plain { start, end } => &buf[start..end],
        Span::Complex { start, end } => {
            decode_field(&buf[start..end], scratch);
            scratch
        }
        Span::Missing => &[],
    }
}

/// Whole non-negative numbers, also written as `2.0` (UCDP `best`).
#[inline]
fn parse_fatalities(raw: &[u8]) -> Option<u64> {
    // Fast path: plain digits that cannot overflow (almost every row).
    if !raw.is_empty() && raw.len() <= 18 && raw.iter().all(u8::is_ascii_digit) {
        return Some(raw.iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')));
    }
    parse_fatalities_general(raw)
}

fn parse_fatalities_general(raw: &[u8]) -> Option<u64> {
    let s = raw.trim_ascii();
    let (whole, fraction) = match memchr(b'.', s) {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &[][..]),
    };
    if whole.is_empty() || !fraction.iter().all(|&b| b == b'0') {
        return None;
    }
    whole.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

impl<'p> RowReader<'p> {
    fn new(projection: &'p Projection) -> Self {
        RowReader { projection, scratch: Default::default() }
    }

    fn read<'a>(&'a mut self, buf: &'a [u8], spans: &[Span; MAX_WANTED], offset: u64, fields: usize) -> Verdict<'a> {
        let needed = self.projection.min_fields();
        if fields < needed {
            return Verdict::Bad(RawBad {
                offset,
                slot: None,
                value: String::new(),
                reason: BadReason::TooFewFields { found: fields, needed },
            });
        }
        let slots = self.projection.slots;
        let span = |role: usize| slots[role].map_or(Span::Missing, |s| spans[s]);
        let [s_date, s_fatal, s_country, s_admin1, s_admin2, s_location] = &mut self.scratch;
        let date = field(buf, span(DATE), s_date);
        let Some(month) = parse_month(date) else {
            return bad_value(offset, DATE, date, BadReason::Date);
        };
        let fatal = field(buf, span(FATALITIES), s_fatal);
        let Some(fatalities) = parse_fatalities(fatal) else {
            return bad_value(offset, FATALITIES, fatal, BadReason::Fatalities);
        };
        let names = [
            field(buf, span(COUNTRY), s_country),
            field(buf, span(ADMIN1), s_admin1),
            field(buf, span(ADMIN2), s_admin2),
            field(buf, span(LOCATION), s_location),
        ];
        // Ids are plain in ACLED files; a quoted one is read raw (still one per event).
        let id = match span(EVENT_ID) {
            Span::Plain { start, end } | Span::Complex { start, end } => &buf[start..end],
            Span::Missing => &[],
        };
        Verdict::Good { names, month, fatalities, id, date }
    }
}

/// What the previous row was, to fold ACLED's one-row-per-actor exports
/// (`vitalcore_import::monadic` holds the rule; this applies it on the
/// columns a scan reads): a row with the previous row's event id is another
/// row of that event when its date, fatalities and names are the same too
/// (it then adds nothing), and a conflict otherwise.
#[derive(Clone, Debug, Default)]
struct LastEvent {
    /// The previous row's event id (empty: none, or the file has no ids).
    id: Vec<u8>,
    /// A 64-bit hash of its date, names and fatalities: rows of one event
    /// are told from a conflict by it (a collision, about 1 in 10^19, would
    /// take a conflict for a repeat).
    content: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    New,
    /// Another row of the previous row's event.
    Repeat,
    /// The previous row's event id with a different date, place or fatalities.
    Conflict,
}

impl LastEvent {
    #[inline]
    fn see(&mut self, id: &[u8], date: &[u8], names: &[&[u8]; 4], fatalities: u64) -> Seen {
        if id.is_empty() {
            self.id.clear();
            return Seen::New;
        }
        let mut content = crate::agg::hash_bytes(date) ^ fatalities;
        for n in names {
            content = crate::agg::fold_mul(content ^ crate::agg::hash_bytes(n), 0x9e37_79b9_7f4a_7c15);
        }
        if self.id == id {
            return if content == self.content { Seen::Repeat } else { Seen::Conflict };
        }
        self.id.clear();
        self.id.extend_from_slice(id);
        self.content = content;
        Seen::New
    }
}

/// Rolls one row into `agg` (or counts it as merged, or as a conflict).
#[inline]
fn take_good(
    agg: &mut Aggregator,
    last: &mut LastEvent,
    totals: &mut FileTotals,
    offset: u64,
    good: (&[&[u8]; 4], Month, u64, &[u8], &[u8]),
) {
    let (names, month, fatalities, id, date) = good;
    match last.see(id, date, names, fatalities) {
        Seen::New => agg.add(*names, month, 1, fatalities),
        Seen::Repeat => totals.merged += 1,
        Seen::Conflict => {
            totals.conflicts += 1;
            if totals.first_conflict.is_none() {
                totals.first_conflict = Some(RawBad {
                    offset,
                    slot: Some(EVENT_ID),
                    value: String::from_utf8_lossy(id).into_owned(),
                    reason: BadReason::Conflict,
                });
            }
        }
    }
}

fn bad_value<'a>(offset: u64, slot: usize, raw: &[u8], reason: BadReason) -> Verdict<'a> {
    let mut value = String::from_utf8_lossy(raw).into_owned();
    if value.len() > 80 {
        let cut = (0..=80).rev().find(|&i| value.is_char_boundary(i)).unwrap_or(0);
        value.truncate(cut);
        value.push('…');
    }
    Verdict::Bad(RawBad { offset, slot: Some(slot), value, reason })
}

/// What one file contributes.
#[derive(Default)]
pub(crate) struct FileTotals {
    pub rows: u64,
    pub bad: Vec<RawBad>,
    pub bad_count: u64,
    /// Rows folded into the previous row's event.
    pub merged: u64,
    pub conflicts: u64,
    pub first_conflict: Option<RawBad>,
}

impl FileTotals {
    fn reject(&mut self, bad: RawBad, keep: usize) {
        self.bad_count += 1;
        if self.bad.len() < keep {
            self.bad.push(bad);
        }
    }
}

/// One worker's output for one chunk.
struct ChunkOut {
    kept: Vec<(u64, KeptRow)>,
    agg: Aggregator,
    totals: FileTotals,
    exit: u64,
    /// The event of the chunk's last row, where the merge goes on from.
    last: LastEvent,
}

/// Where the header row is, what it says, and where data rows start.
pub(crate) struct Header {
    pub fields: Vec<String>,
    pub data_start: u64,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the header row (after an optional UTF-8 byte-order mark).
pub(crate) fn read_header(path: &Path, block: usize) -> io::Result<Option<Header>> {
    // The first read must be long enough to see a whole byte-order mark.
    let mut cursor = Cursor::open(path, 0, block.max(BOM.len()))?;
    cursor.refill()?;
    if cursor.buffer().starts_with(BOM) {
        cursor.pos = BOM.len();
    }
    let mut spans = [Span::Missing; MAX_WANTED];
    let Some((start, _)) = cursor.next_row(&Wanted::default(), &mut spans)? else {
        return Ok(None);
    };
    let row = &cursor.buffer()[(start - cursor.buf_start) as usize..cursor.pos];
    let fields = split_all(row).into_iter().map(|f| String::from_utf8_lossy(&f).into_owned()).collect();
    Ok(Some(Header { fields, data_start: cursor.offset() }))
}

/// Rolls up the data rows of one file into `agg`.
pub(crate) fn scan_rows(
    path: &Path,
    projection: &Projection,
    data_start: u64,
    opts: &ScanOptions,
    agg: &mut Aggregator,
) -> io::Result<FileTotals> {
    let file_len = std::fs::metadata(path)?.len();
    let data_len = file_len.saturating_sub(data_start);
    let threads = opts.threads.max(1) as u64;
    // A few chunks per thread, taken from a shared counter, keep every core
    // busy when one thread is slowed down (a shared machine).
    let per_thread = if threads > 1 { CHUNKS_PER_THREAD } else { 1 };
    let chunk_len = opts.chunk_size.unwrap_or(data_len.div_ceil(threads * per_thread)).max(1);
    let chunks = data_len.div_ceil(chunk_len).max(1) as usize;
    let starts: Vec<u64> = (0..chunks).map(|j| data_start + j as u64 * chunk_len).collect();
    let outs = run_chunks(path, projection, agg.keys(), &starts, file_len, opts)?;
    merge_chunks(path, projection, data_start, outs, opts, agg)
}

fn run_chunks(
    path: &Path,
    projection: &Projection,
    keys: &[Key],
    starts: &[u64],
    file_len: u64,
    opts: &ScanOptions,
) -> io::Result<Vec<ChunkOut>> {
    let stop = |j: usize| starts.get(j + 1).copied().unwrap_or(file_len);
    let first = starts[0];
    if starts.len() == 1 || opts.threads <= 1 {
        return (0..starts.len())
            .map(|j| scan_chunk(path, projection, keys, starts[j], starts[j] == first, stop(j), opts))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<io::Result<ChunkOut>>>> = Mutex::new((0..starts.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.min(starts.len()) {
            scope.spawn(|| {
                loop {
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    if j >= starts.len() {
                        break;
                    }
                    let out = scan_chunk(path, projection, keys, starts[j], starts[j] == first, stop(j), opts);
                    slots.lock().unwrap_or_else(|e| e.into_inner())[j] = Some(out);
                }
            });
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
    slots.into_iter().map(|s| s.expect("every chunk is scanned")).collect()
}

/// Parses the rows that start in `[nominal, stop)`, guessing the first row
/// start unless `exact` (see the module comment).
fn scan_chunk(
    path: &Path,
    projection: &Projection,
    keys: &[Key],
    nominal: u64,
    exact: bool,
    stop: u64,
    opts: &ScanOptions,
) -> io::Result<ChunkOut> {
    let mut cursor = Cursor::open(path, if exact { nominal } else { nominal - 1 }, opts.block_size)?;
    if !exact {
        cursor.skip_past_newline()?;
    }
    let mut reader = RowReader::new(projection);
    let mut spans = [Span::Missing; MAX_WANTED];
    let mut out = ChunkOut {
        kept: Vec::with_capacity(SYNC_ROWS),
        agg: Aggregator::new(keys),
        totals: FileTotals::default(),
        exit: u64::MAX,
        last: LastEvent::default(),
    };
    while let Some((start, fields)) = cursor.next_row(&projection.wanted, &mut spans)? {
        if start >= stop {
            out.exit = start;
            return Ok(out);
        }
        let verdict = reader.read(&cursor.buf[..cursor.filled], &spans, start, fields);
        if out.kept.len() < SYNC_ROWS {
            // Kept rows are folded by the merge, but they are what the next rows follow.
            if let Verdict::Good { names, fatalities, id, date, .. } = &verdict {
                out.last.see(id, date, names, *fatalities);
            }
            out.kept.push((start, keep(verdict)));
            continue;
        }
        out.totals.rows += 1;
        match verdict {
            Verdict::Good { names, month, fatalities, id, date } => {
                take_good(&mut out.agg, &mut out.last, &mut out.totals, start, (&names, month, fatalities, id, date))
            }
            Verdict::Bad(bad) => out.totals.reject(bad, opts.max_bad_rows_kept),
        }
    }
    out.exit = u64::MAX;
    Ok(out)
}

fn keep(verdict: Verdict<'_>) -> KeptRow {
    match verdict {
        Verdict::Good { names, month, fatalities, id, date } => {
            // Id and date in one box, length-prefixed id first.
            let mut event = Vec::with_capacity(4 + id.len() + date.len());
            event.extend_from_slice(&(id.len() as u32).to_le_bytes());
            event.extend_from_slice(id);
            event.extend_from_slice(date);
            KeptRow::Good { names: names.map(Box::from), month, fatalities, event: event.into() }
        }
        Verdict::Bad(bad) => KeptRow::Bad(bad),
    }
}

/// The id and date of a kept row's `event` box.
fn id_and_date(event: &[u8]) -> (&[u8], &[u8]) {
    let n = u32::from_le_bytes(event[..4].try_into().expect("length")) as usize;
    (&event[4..4 + n], &event[4 + n..])
}

/// Stitches chunk results together in file order (see the module comment).
fn merge_chunks(
    path: &Path,
    projection: &Projection,
    data_start: u64,
    outs: Vec<ChunkOut>,
    opts: &ScanOptions,
    agg: &mut Aggregator,
) -> io::Result<FileTotals> {
    let mut totals = FileTotals::default();
    let mut bridge = Bridge::new(path, projection, opts.block_size)?;
    // `pos` is an exact row start; `None` once the file is done.
    let mut pos = bridge.row_start_at(data_start)?;
    let mut chunks = outs.into_iter().peekable();
    while let Some(at) = pos {
        let Some(chunk) = chunks.peek() else {
            pos = bridge.take_row(at, agg, &mut totals, opts)?;
            continue;
        };
        if let Some(i) = chunk.kept.iter().position(|(start, _)| *start == at) {
            let chunk = chunks.next().expect("peeked");
            let exit = chunk.exit;
            accept_chunk(chunk, i, agg, &mut bridge.last, &mut totals, opts);
            pos = (exit != u64::MAX).then_some(exit);
            continue;
        }
        match chunk.kept.last() {
            Some(&(last, _)) if at < last => pos = bridge.take_row(at, agg, &mut totals, opts)?,
            _ => {
                chunks.next();
            }
        }
    }
    Ok(totals)
}

/// Adds a chunk's results from its kept row `from` on; `last` is the
/// event of the row before, and becomes that of the chunk's last row.
fn accept_chunk(
    chunk: ChunkOut,
    from: usize,
    agg: &mut Aggregator,
    last: &mut LastEvent,
    totals: &mut FileTotals,
    opts: &ScanOptions,
) {
    for (start, row) in chunk.kept.into_iter().skip(from) {
        totals.rows += 1;
        match row {
            KeptRow::Good { names, month, fatalities, event } => {
                let names = [&*names[0], &*names[1], &*names[2], &*names[3]];
                let (id, date) = id_and_date(&event);
                take_good(agg, last, totals, start, (&names, month, fatalities, id, date));
            }
            KeptRow::Bad(bad) => totals.reject(bad, opts.max_bad_rows_kept),
        }
    }
    agg.merge(chunk.agg);
    *last = chunk.last;
    let t = chunk.totals;
    totals.rows += t.rows;
    totals.bad_count += t.bad_count;
    totals.merged += t.merged;
    totals.conflicts += t.conflicts;
    if totals.first_conflict.is_none() {
        totals.first_conflict = t.first_conflict;
    }
    let room = opts.max_bad_rows_kept.saturating_sub(totals.bad.len());
    totals.bad.extend(t.bad.into_iter().take(room));
}

/// Sequential parsing from an exact row start, for the stretches where a
/// chunk's guess had not yet resynchronised.
struct Bridge<'p> {
    cursor: Cursor,
    reader: RowReader<'p>,
    /// The event of the last row rolled up, in file order.
    last: LastEvent,
}

impl<'p> Bridge<'p> {
    fn new(path: &Path, projection: &'p Projection, block: usize) -> io::Result<Self> {
        Ok(Bridge {
            cursor: Cursor::open(path, 0, block)?,
            reader: RowReader::new(projection),
            last: LastEvent::default(),
        })
    }

    fn row_start_at(&mut self, offset: u64) -> io::Result<Option<u64>> {
        if self.cursor.offset() != offset {
            self.cursor.seek(offset)?;
        }
        self.cursor.next_row_start()
    }

    /// Rolls up the row starting at `at`; returns the next row start.
    fn take_row(
        &mut self,
        at: u64,
        agg: &mut Aggregator,
        totals: &mut FileTotals,
        opts: &ScanOptions,
    ) -> io::Result<Option<u64>> {
        if self.row_start_at(at)?.is_none() {
            return Ok(None);
        }
        let mut spans = [Span::Missing; MAX_WANTED];
        let wanted = &self.reader.projection.wanted;
        let Some((start, fields)) = self.cursor.next_row(wanted, &mut spans)? else {
            return Ok(None);
        };
        totals.rows += 1;
        match self.reader.read(&self.cursor.buf[..self.cursor.filled], &spans, start, fields) {
            Verdict::Good { names, month, fatalities, id, date } => {
                take_good(agg, &mut self.last, totals, start, (&names, month, fatalities, id, date))
            }
            Verdict::Bad(bad) => totals.reject(bad, opts.max_bad_rows_kept),
        }
        self.cursor.next_row_start()
    }
}

/// Line number (1-based, counting every `\n` in the file) of each offset;
/// `offsets` must be sorted.
pub(crate) fn line_numbers(path: &Path, offsets: &[u64], block: usize) -> io::Result<Vec<u64>> {
    let mut lines = Vec::with_capacity(offsets.len());
    let mut cursor = Cursor::open(path, 0, block)?;
    let mut line = 1u64;
    for &target in offsets {
        loop {
            let upto = ((target.saturating_sub(cursor.buf_start)) as usize).min(cursor.filled);
            if upto > cursor.pos {
                line += memchr::memchr_iter(b'\n', &cursor.buf[cursor.pos..upto]).count() as u64;
                cursor.pos = upto;
            }
            if cursor.offset() >= target || cursor.eof {
                break;
            }
            cursor.refill()?;
        }
        lines.push(line);
    }
    Ok(lines)
}
