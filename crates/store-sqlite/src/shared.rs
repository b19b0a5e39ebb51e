//! Code both store backends share: content fingerprints, the batch rule for
//! duplicate ids, and the column encodings (dates, months, tag lists).
//!
//! The PostgreSQL crate includes this file with `#[path]` so that both
//! backends compute the same fingerprints; it depends only on
//! `vitalcore-framework`, `vitalcore-store`, `jiff` and `xxhash-rust`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use jiff::civil::Date;
use vitalcore_framework::{Event, Month, Observation, Place, Source, Tags, prio_grid_gid};
use vitalcore_store::StoreError;

/// Separator of the compact tag lists stored in `dimensions` and `themes`
/// (`personal;political`). Framework keys never contain it.
pub const TAG_SEPARATOR: char = ';';

/// Content fingerprint of a record: XXH3-64 of a length-prefixed binary
/// serialisation of every field except the provenance file and line (so the
/// same event read from a renamed or re-sorted file is "unchanged").
///
/// Serialisation, in field order: strings as u32-LE byte length + UTF-8
/// bytes; `Option`s as one byte 0 (none) or 1 followed by the value;
/// integers little-endian at their declared width; floats as their IEEE-754
/// bits (u64-LE); dates as i16 year, i8 month, i8 day; lists as u32-LE count
/// then items. A leading record-kind byte (`E` event, `O` observation)
/// keeps the two kinds apart. Changing this layout changes every stored
/// fingerprint: only ever do it with a migration that recomputes them.
#[derive(Default)]
pub struct Fingerprinter {
    buf: Vec<u8>,
}

impl Fingerprinter {
    pub fn event(&mut self, e: &Event) -> i64 {
        self.buf.clear();
        self.buf.push(b'E');
        self.str(e.provenance.source.as_str());
        self.str(&e.provenance.source_id);
        self.date(e.date);
        self.opt(e.date_end, Self::date);
        self.place(&e.place);
        self.str(&e.event_type);
        self.opt(e.sub_event_type.as_deref(), Self::str);
        self.opt(e.actor1.as_deref(), Self::str);
        self.opt(e.actor2.as_deref(), Self::str);
        self.buf.extend_from_slice(&e.fatalities.to_le_bytes());
        self.opt(e.civilian_fatalities, |f, v| f.buf.extend_from_slice(&v.to_le_bytes()));
        self.buf.push(e.civilian_targeting as u8);
        self.opt(e.notes.as_deref(), Self::str);
        self.tags(&e.tags);
        self.digest()
    }

    pub fn observation(&mut self, o: &Observation) -> i64 {
        self.buf.clear();
        self.buf.push(b'O');
        self.str(o.provenance.source.as_str());
        self.str(&o.provenance.source_id);
        self.opt(o.date, Self::date);
        self.place(&o.place);
        self.len(o.values.len());
        for (tag, value) in &o.values {
            self.str(tag);
            self.str(value);
        }
        self.tags(&o.tags);
        self.digest()
    }

    fn digest(&self) -> i64 {
        xxhash_rust::xxh3::xxh3_64(&self.buf) as i64
    }

    fn len(&mut self, n: usize) {
        self.buf.extend_from_slice(&(n as u32).to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn date(&mut self, d: Date) {
        self.buf.extend_from_slice(&d.year().to_le_bytes());
        self.buf.push(d.month() as u8);
        self.buf.push(d.day() as u8);
    }

    fn f64(&mut self, x: f64) {
        self.buf.extend_from_slice(&x.to_bits().to_le_bytes());
    }

    fn opt<T>(&mut self, v: Option<T>, write: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.buf.push(0),
            Some(v) => {
                self.buf.push(1);
                write(self, v);
            }
        }
    }

    fn place(&mut self, p: &Place) {
        for s in [&p.country, &p.iso3, &p.admin1, &p.admin2, &p.location] {
            self.opt(s.as_deref(), Self::str);
        }
        self.opt(p.latitude, Self::f64);
        self.opt(p.longitude, Self::f64);
        self.opt(p.precision, |f, v| f.buf.push(v));
        self.opt(p.admin1_pcode.as_deref(), Self::str);
        self.opt(p.admin2_pcode.as_deref(), Self::str);
    }

    fn tags(&mut self, t: &Tags) {
        for list in [&t.dimensions, &t.themes] {
            self.len(list.len());
            for s in list {
                self.str(s);
            }
        }
        self.buf.push(t.severity);
        self.str(&t.rule);
    }
}

/// One record of a batch as the duplicate rule sees it.
pub struct BatchKey<'a> {
    pub source: Source,
    pub source_id: &'a str,
    pub fingerprint: i64,
    pub line: u64,
}

/// The batch rule for repeated ids: within one batch (one file), a record
/// whose (source, source_id) was already seen with the same content is an
/// unchanged duplicate; with different content the whole batch is refused,
/// because the store cannot tell which of the two rows is the revision.
/// Returns, per record, whether it is the first occurrence of its id, and
/// how many later occurrences were dropped as duplicates.
pub fn first_occurrences<'a>(
    file: &str,
    what: &str,
    keys: impl ExactSizeIterator<Item = BatchKey<'a>>,
) -> Result<(Vec<bool>, u64), StoreError> {
    let mut seen: HashMap<(Source, &'a str), (i64, u64)> = HashMap::with_capacity(keys.len());
    let mut first = Vec::with_capacity(keys.len());
    let mut duplicates = 0;
    for key in keys {
        match seen.entry((key.source, key.source_id)) {
            Entry::Vacant(slot) => {
                slot.insert((key.fingerprint, key.line));
                first.push(true);
            }
            Entry::Occupied(prior) if prior.get().0 == key.fingerprint => {
                duplicates += 1;
                first.push(false);
            }
            Entry::Occupied(prior) => {
                return Err(StoreError::Conflict {
                    file: file.to_string(),
                    what: what.to_string(),
                    id: key.source_id.to_string(),
                    id_source: key.source.to_string(),
                    first_line: prior.get().1,
                    second_line: key.line,
                });
            }
        }
    }
    Ok((first, duplicates))
}

/// A batch with each record's fingerprint and whether it is the first
/// occurrence of its id (see [`first_occurrences`]).
pub struct ScannedBatch {
    pub fingerprints: Vec<i64>,
    pub first: Vec<bool>,
    pub duplicates: u64,
}

/// Fingerprints of `records` in order, `one` at a time; a large batch is cut
/// into one slice per core (at most 4), each fingerprinted on its own thread.
fn fingerprints<T: Sync>(records: &[T], one: fn(&mut Fingerprinter, &T) -> i64) -> Vec<i64> {
    /// Below this, starting threads costs more than it saves.
    const PARALLEL_FROM: usize = 20_000;
    let serial = |slice: &[T]| -> Vec<i64> {
        let mut fp = Fingerprinter::default();
        slice.iter().map(|r| one(&mut fp, r)).collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if records.len() < PARALLEL_FROM || threads < 2 {
        return serial(records);
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut slices = records.chunks(chunk);
        let first = slices.next().unwrap_or_default();
        let others: Vec<_> = slices.map(|slice| scope.spawn(move || serial(slice))).collect();
        let mut out = Vec::with_capacity(records.len());
        out.extend(serial(first));
        for other in others {
            out.extend(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        out
    })
}

pub fn scan_events(file: &str, events: &[Event]) -> Result<ScannedBatch, StoreError> {
    let fingerprints = fingerprints(events, Fingerprinter::event);
    let keys = events.iter().zip(&fingerprints).map(|(e, &fingerprint)| BatchKey {
        source: e.provenance.source,
        source_id: &e.provenance.source_id,
        fingerprint,
        line: e.provenance.line,
    });
    let (first, duplicates) = first_occurrences(file, "source event", keys)?;
    Ok(ScannedBatch { fingerprints, first, duplicates })
}

pub fn scan_observations(file: &str, rows: &[Observation]) -> Result<ScannedBatch, StoreError> {
    let fingerprints = fingerprints(rows, Fingerprinter::observation);
    let keys = rows.iter().zip(&fingerprints).map(|(o, &fingerprint)| BatchKey {
        source: o.provenance.source,
        source_id: &o.provenance.source_id,
        fingerprint,
        line: o.provenance.line,
    });
    let (first, duplicates) = first_occurrences(file, "row", keys)?;
    Ok(ScannedBatch { fingerprints, first, duplicates })
}

/// A date as the integer yyyymmdd (2020-12-30 -> 20201230): compact,
/// sortable, and readable in a SQL shell.
pub fn date_code(d: Date) -> i64 {
    d.year() as i64 * 10_000 + d.month() as i64 * 100 + d.day() as i64
}

pub fn date_from_code(code: i64) -> Result<Date, StoreError> {
    let (y, m, d) = (code / 10_000, (code / 100) % 100, code % 100);
    Date::new(y as i16, m as i8, d as i8)
        .map_err(|_| StoreError::Corrupt(format!("stored date {code} is not a yyyymmdd date")))
}

/// A month as the integer yyyymm (2014-03 -> 201403).
pub fn month_code(m: Month) -> i64 {
    m.year as i64 * 100 + m.month as i64
}

/// Days since 2000-01-01 (PostgreSQL's date epoch), proleptic Gregorian
/// (H. Hinnant, "chrono-compatible low-level date algorithms", days_from_civil).
pub fn days_since_2000(d: Date) -> i32 {
    let (y, m, day) = (d.year() as i64, d.month() as i64, d.day() as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days_since_1970 = era * 146_097 + doe - 719_468;
    (days_since_1970 - 10_957) as i32
}

/// Inverse of [`days_since_2000`] (Hinnant's civil_from_days).
pub fn date_from_days_since_2000(days: i32) -> Result<Date, StoreError> {
    let z = days as i64 + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    Date::new(y as i16, m as i8, d as i8)
        .map_err(|_| StoreError::Corrupt(format!("stored date {days} (days since 2000-01-01) is out of range")))
}

pub fn join_tags(list: &[String]) -> String {
    list.join(";")
}

pub fn split_tags(text: &str) -> Vec<String> {
    if text.is_empty() { Vec::new() } else { text.split(TAG_SEPARATOR).map(str::to_owned).collect() }
}

/// PRIO-GRID cell of a place's point, when it has one.
pub fn grid_of(place: &Place) -> Option<i64> {
    prio_grid_gid(place.latitude?, place.longitude?).map(i64::from)
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// Tag-value pairs of an observation as stored: a JSON array of pairs.
pub fn values_to_json(values: &[(String, String)]) -> String {
    serde_json::to_string(values).expect("string pairs always serialise")
}

pub fn values_from_json(text: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored observation values are not valid: {e}")))
}

pub fn to_u32(v: i64, column: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {column} {v} is out of range")))
}

pub fn to_u8(v: i64, column: &str) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {column} {v} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_days_match_known_dates() {
        // PostgreSQL: SELECT DATE '2020-12-30' - DATE '2000-01-01' = 7669.
        assert_eq!(days_since_2000(Date::constant(2000, 1, 1)), 0);
        assert_eq!(days_since_2000(Date::constant(2020, 12, 30)), 7669);
        assert_eq!(days_since_2000(Date::constant(1999, 12, 31)), -1);
        assert_eq!(days_since_2000(Date::constant(1970, 1, 1)), -10_957);
        for d in [Date::constant(1989, 2, 28), Date::constant(2024, 2, 29), Date::constant(2100, 3, 1)] {
            assert_eq!(date_from_days_since_2000(days_since_2000(d)).unwrap(), d);
        }
    }

    #[test]
    fn date_and_month_codes_are_readable_integers() {
        assert_eq!(date_code(Date::constant(2020, 12, 30)), 20201230);
        assert_eq!(date_from_code(20201230).unwrap(), Date::constant(2020, 12, 30));
        assert!(date_from_code(20201332).is_err());
        assert_eq!(month_code(Month::new(2014, 3).unwrap()), 201403);
    }

    #[test]
    fn tag_lists_round_trip_including_empty() {
        let tags = vec!["personal".to_string(), "political".to_string()];
        assert_eq!(join_tags(&tags), "personal;political");
        assert_eq!(split_tags("personal;political"), tags);
        assert!(split_tags("").is_empty());
    }

    #[test]
    fn fingerprints_of_a_large_batch_on_threads_are_in_record_order() {
        let base = Event {
            provenance: vitalcore_framework::Provenance {
                source: Source::Acled,
                source_id: String::new(),
                file: "f.csv".to_string(),
                line: 0,
            },
            date: Date::constant(2020, 1, 1),
            date_end: None,
            place: Place::default(),
            event_type: "Battles".to_string(),
            sub_event_type: None,
            actor1: None,
            actor2: None,
            fatalities: 0,
            civilian_fatalities: None,
            civilian_targeting: false,
            notes: None,
            tags: Tags { dimensions: Vec::new(), themes: Vec::new(), severity: 1, rule: "r".to_string() },
        };
        let events: Vec<Event> = (0..50_001)
            .map(|i| Event {
                provenance: vitalcore_framework::Provenance { source_id: format!("E{i}"), ..base.provenance.clone() },
                ..base.clone()
            })
            .collect();
        let mut fp = Fingerprinter::default();
        let one_by_one: Vec<i64> = events.iter().map(|e| fp.event(e)).collect();
        assert_eq!(fingerprints(&events, Fingerprinter::event), one_by_one);
        assert_eq!(scan_events("f.csv", &events).unwrap().fingerprints, one_by_one);
    }

    #[test]
    fn conflicting_duplicate_ids_refuse_the_batch_and_equal_ones_count_once() {
        let key = |id, fingerprint, line| BatchKey { source: Source::Acled, source_id: id, fingerprint, line };
        let (first, dups) =
            first_occurrences("f.csv", "event", vec![key("a", 1, 2), key("b", 2, 3), key("a", 1, 4)].into_iter())
                .unwrap();
        assert_eq!(first, vec![true, true, false]);
        assert_eq!(dups, 1);
        let err = first_occurrences("f.csv", "event", vec![key("a", 1, 2), key("a", 9, 7)].into_iter())
            .unwrap_err()
            .to_string();
        assert!(err.contains("lines 2 and 7") && err.contains("f.csv"), "{err}");
        assert!(!err.starts_with("database error"), "a conflict in the data is not a database error: {err}");
    }
}
