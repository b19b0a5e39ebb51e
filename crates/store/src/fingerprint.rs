//! Content fingerprints of records and the batch rule for repeated ids,
//! shared by every backend so that all of them tell "unchanged" from
//! "revised" the same way (a database moved from SQLite to PostgreSQL keeps
//! its fingerprints valid).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use jiff::civil::Date;
use vitalcore_framework::{Event, Observation, Place, Source, Tags};

use crate::StoreError;

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
                return Err(StoreError::BatchConflict {
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

/// The batch rule of [`first_occurrences`] for records that arrive one at a
/// time (streamed imports), in memory that grows with the ids, not the
/// records: each id is kept as a 64-bit hash with 32 bits of the
/// fingerprint and the line of its first occurrence, a 16-byte table entry
/// (24 bytes before: 10M ids took 614 MB at the peak, when the table
/// doubles). Two different ids with the same hash (about 1 in 10^7 for a
/// file of 2M ids) would be taken for a repeat: an unchanged duplicate if
/// their contents hash alike, else a refused file. A repeated id whose
/// content differs is taken for an unchanged duplicate, and dropped, only
/// if the two fingerprints agree in those 32 bits (1 in 4x10^9).
#[derive(Default)]
pub struct SeenIds {
    /// id hash -> (low 32 bits of the fingerprint, line, saturated at u32::MAX).
    seen: HashMap<u64, (u32, u32), std::hash::BuildHasherDefault<IdentityHasher>>,
    /// Later occurrences dropped as unchanged duplicates.
    pub duplicates: u64,
}

impl SeenIds {
    /// Whether this is the first occurrence of the id in the batch (false:
    /// an unchanged duplicate, counted); a conflict when the id was seen
    /// with other content.
    pub fn first(&mut self, file: &str, what: &str, key: BatchKey<'_>) -> Result<bool, StoreError> {
        let fingerprint = key.fingerprint as u32;
        match self.seen.entry(id_hash(key.source, key.source_id)) {
            Entry::Vacant(slot) => {
                slot.insert((fingerprint, u32::try_from(key.line).unwrap_or(u32::MAX)));
                Ok(true)
            }
            Entry::Occupied(prior) if prior.get().0 == fingerprint => {
                self.duplicates += 1;
                Ok(false)
            }
            Entry::Occupied(prior) => Err(StoreError::BatchConflict {
                file: file.to_string(),
                what: what.to_string(),
                id: key.source_id.to_string(),
                id_source: key.source.to_string(),
                first_line: u64::from(prior.get().1),
                second_line: key.line,
            }),
        }
    }
}

/// The 64-bit key of an id in [`SeenIds`]: XXH3 of the source id seeded
/// with the source's name, one-shot (no streaming state set up and
/// finalised per id). The batch rule's time is still mostly the table's
/// cache misses, one random probe per id (perf annotate, 2M-row import).
fn id_hash(source: Source, source_id: &str) -> u64 {
    let seed = xxhash_rust::xxh3::xxh3_64(source.as_str().as_bytes());
    xxhash_rust::xxh3::xxh3_64_with_seed(source_id.as_bytes(), seed)
}

/// The keys of [`SeenIds`] are hashes already.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_framework::Provenance;

    fn event(source_id: &str) -> Event {
        Event {
            provenance: Provenance {
                source: Source::Acled,
                source_id: source_id.to_string(),
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
        }
    }

    fn observation() -> Observation {
        Observation {
            provenance: Provenance {
                source: Source::Hxl,
                source_id: "row-1".to_string(),
                file: "t.csv".to_string(),
                line: 3,
            },
            date: Some(Date::constant(2021, 5, 1)),
            place: Place { admin1_pcode: Some("CF32".to_string()), ..Place::default() },
            values: vec![("#population".to_string(), "1200".to_string())],
            tags: Tags {
                dimensions: vec!["economic".to_string()],
                themes: Vec::new(),
                severity: 0,
                rule: String::new(),
            },
        }
    }

    const PINNED_EVENT: i64 = 4_072_845_606_681_703_581;
    const PINNED_OBSERVATION: i64 = -4_253_425_317_673_179_580;

    /// Stored fingerprints must survive a rebuild: these values were computed
    /// by the layout documented on [`Fingerprinter`]; if this test fails the
    /// layout changed, and every stored fingerprint with it.
    #[test]
    fn the_fingerprint_layout_is_unchanged() {
        let mut fp = Fingerprinter::default();
        assert_eq!(fp.event(&event("E1")), PINNED_EVENT);
        assert_eq!(fp.observation(&observation()), PINNED_OBSERVATION);
    }

    #[test]
    fn the_file_and_line_do_not_count_but_every_field_does() {
        let mut fp = Fingerprinter::default();
        let original = fp.event(&event("E1"));
        let mut moved = event("E1");
        moved.provenance.file = "renamed.csv".to_string();
        moved.provenance.line = 99;
        assert_eq!(fp.event(&moved), original);
        let mut revised = event("E1");
        revised.fatalities = 1;
        assert_ne!(fp.event(&revised), original);
        let mut retagged = event("E1");
        retagged.tags.themes.push("displacement".to_string());
        assert_ne!(fp.event(&retagged), original);
        // `None` and an empty string are told apart.
        let mut noted = event("E1");
        noted.notes = Some(String::new());
        assert_ne!(fp.event(&noted), original);
        assert_ne!(fp.event(&event("E2")), original);
    }

    #[test]
    fn fingerprints_of_a_large_batch_on_threads_are_in_record_order() {
        let events: Vec<Event> = (0..50_001).map(|i| event(&format!("E{i}"))).collect();
        let mut fp = Fingerprinter::default();
        let one_by_one: Vec<i64> = events.iter().map(|e| fp.event(e)).collect();
        assert_eq!(fingerprints(&events, Fingerprinter::event), one_by_one);
        assert_eq!(scan_events("f.csv", &events).unwrap().fingerprints, one_by_one);
    }

    #[test]
    fn a_repeated_equal_observation_is_a_duplicate() {
        let rows = vec![observation(), observation()];
        let batch = scan_observations("t.csv", &rows).unwrap();
        assert_eq!(batch.first, vec![true, false]);
        assert_eq!(batch.duplicates, 1);
        assert_eq!(batch.fingerprints[0], batch.fingerprints[1]);
    }

    #[test]
    fn seen_ids_tell_a_repeat_from_a_conflict_and_name_both_lines() {
        let key = |id, fingerprint, line| BatchKey { source: Source::Acled, source_id: id, fingerprint, line };
        let mut seen = SeenIds::default();
        assert!(seen.first("f.csv", "event", key("a", 11, 2)).unwrap());
        assert!(seen.first("f.csv", "event", key("b", 12, 3)).unwrap());
        assert!(!seen.first("f.csv", "event", key("a", 11, 9)).unwrap(), "same content: a repeat");
        assert_eq!(seen.duplicates, 1);
        // Other content under a known id: refused, naming both lines.
        let err = seen.first("f.csv", "event", key("b", 13, 40)).unwrap_err();
        assert!(matches!(err, StoreError::BatchConflict { first_line: 3, second_line: 40, .. }), "{err:?}");
        // Lines past u32 are kept saturated, not wrapped.
        assert!(seen.first("f.csv", "event", key("c", 1, u64::MAX)).unwrap());
        let err = seen.first("f.csv", "event", key("c", 2, 5)).unwrap_err();
        assert!(matches!(err, StoreError::BatchConflict { first_line, .. } if first_line == u64::from(u32::MAX)));
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
