//! Event counts and fatality sums by (country, admin1, month).

use std::sync::Arc;

use crate::date::Month;

/// A name reduced to its length and two words that, for names up to 16
/// bytes, hold every byte (first and last 8, 4 or 1-2 bytes, overlapping),
/// as wyhash reads short keys (Wang Yi, 2019). Equal words and lengths mean
/// equal names up to 16 bytes; longer names are compared byte by byte too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NameWords {
    len: u64,
    head: u64,
    tail: u64,
}

/// Names up to this length are told apart by their [`NameWords`] alone.
const WORDS_COVER: usize = 16;

#[inline(always)]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[inline(always)]
fn half_word(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[inline]
fn name_words(s: &[u8]) -> NameWords {
    let n = s.len();
    let (head, tail) = if n >= 8 {
        (word(s), word(&s[n - 8..]))
    } else if n >= 4 {
        (half_word(s), half_word(&s[n - 4..]))
    } else if n > 0 {
        (u64::from(s[0]) | u64::from(s[n / 2]) << 8 | u64::from(s[n - 1]) << 16, 0)
    } else {
        (0, 0)
    };
    NameWords { len: n as u64, head, tail }
}

/// wyhash's folded multiply: the high and low halves of a 128-bit product, xored.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// An area as five words: both names' [`NameWords`], lengths packed
/// together. Equal keys mean equal names when both are up to 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AreaKey {
    lens: u64,
    country_head: u64,
    country_tail: u64,
    admin1_head: u64,
    admin1_tail: u64,
}

impl AreaKey {
    #[inline]
    fn new(country: &[u8], admin1: &[u8]) -> AreaKey {
        let (c, a) = (name_words(country), name_words(admin1));
        AreaKey {
            lens: c.len << 32 ^ a.len,
            country_head: c.head,
            country_tail: c.tail,
            admin1_head: a.head,
            admin1_tail: a.tail,
        }
    }

    /// Whether equal keys are enough to tell equal names.
    #[inline]
    fn covers_names(&self) -> bool {
        (self.lens >> 32) as usize <= WORDS_COVER && (self.lens as u32) as usize <= WORDS_COVER
    }

    #[inline]
    fn hash(&self) -> u64 {
        const K: [u64; 4] =
            [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3, 0x5899_65cc_7537_4cc3];
        let c = fold_mul(self.country_head ^ K[0], self.country_tail ^ K[1] ^ self.lens);
        let a = fold_mul(self.admin1_head ^ K[2], self.admin1_tail ^ K[3]);
        fold_mul(c ^ K[1], a ^ K[0])
    }
}

/// A slot of the area table: the key inline, so that a lookup reads one
/// cache line and nothing else for names up to 16 bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    key: AreaKey,
    /// Area id + 1; 0 marks an empty slot.
    id: u32,
}

/// Events and fatalities of one (country, admin1, month).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub fatalities: u64,
}

/// The names of one area, as read (bytes).
#[derive(Debug)]
struct Area {
    country: Box<[u8]>,
    admin1: Box<[u8]>,
}

/// Rollup under construction. Areas get small ids from an open-addressing
/// table keyed by a hash of the country and admin1 words (no key is built
/// or copied per row); totals sit in one row per month indexed by area id.
/// Event files are sorted by date, so consecutive rows share a month and hit
/// the same few kilobytes instead of a month array per area.
#[derive(Default, Debug)]
pub struct Aggregator {
    /// Open-addressing table (linear probing), power-of-two size, at most half full.
    slots: Vec<Slot>,
    areas: Vec<Area>,
    /// Month of `by_month[0]`.
    first: u32,
    /// `by_month[m - first][area id]`.
    by_month: Vec<Vec<Totals>>,
}

impl Aggregator {
    #[inline]
    pub fn add(&mut self, country: &[u8], admin1: &[u8], month: Month, events: u64, fatalities: u64) {
        let id = self.area_id(country, admin1);
        self.add_by_id(id, month, events, fatalities);
    }

    #[inline]
    fn add_by_id(&mut self, id: usize, month: Month, events: u64, fatalities: u64) {
        let row = self.month_row(month);
        if id >= row.len() {
            row.resize(id + 1, Totals::default());
        }
        let totals = &mut row[id];
        totals.events += events;
        totals.fatalities += fatalities;
    }

    /// The totals row of `month`, growing the month range as needed.
    #[inline]
    fn month_row(&mut self, month: Month) -> &mut Vec<Totals> {
        if self.by_month.is_empty() {
            self.first = month.0;
        } else if month.0 < self.first {
            // Files often run newest first: grow the front geometrically so
            // that prepending months costs amortised O(1).
            let needed = self.first - month.0;
            let grow = needed.max(self.by_month.len() as u32).max(12).min(self.first);
            self.by_month.splice(0..0, std::iter::repeat_n(Vec::new(), grow as usize));
            self.first -= grow;
        }
        let i = (month.0 - self.first) as usize;
        if i >= self.by_month.len() {
            self.by_month.resize(i + 1, Vec::new());
        }
        &mut self.by_month[i]
    }

    #[inline]
    fn area_id(&mut self, country: &[u8], admin1: &[u8]) -> usize {
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); 1024];
        }
        let key = AreaKey::new(country, admin1);
        let mask = self.slots.len() - 1;
        let mut i = key.hash() as usize & mask;
        loop {
            let slot = &self.slots[i];
            if slot.id == 0 {
                break;
            }
            if slot.key == key {
                let id = slot.id as usize - 1;
                let area = &self.areas[id];
                if key.covers_names() || (*area.country == *country && *area.admin1 == *admin1) {
                    return id;
                }
            }
            i = (i + 1) & mask;
        }
        self.areas.push(Area { country: country.into(), admin1: admin1.into() });
        self.slots[i] = Slot { key, id: self.areas.len() as u32 };
        if self.areas.len() * 2 > self.slots.len() {
            self.grow();
        }
        self.areas.len() - 1
    }

    fn grow(&mut self) {
        let mut slots = vec![Slot::default(); self.slots.len() * 2];
        let mask = slots.len() - 1;
        for slot in self.slots.iter().filter(|s| s.id != 0) {
            let mut i = slot.key.hash() as usize & mask;
            while slots[i].id != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = *slot;
        }
        self.slots = slots;
    }

    pub fn merge(&mut self, other: Aggregator) {
        let ids: Vec<usize> = other.areas.iter().map(|a| self.area_id(&a.country, &a.admin1)).collect();
        for (m, row) in other.by_month.iter().enumerate() {
            for (id, t) in row.iter().enumerate() {
                if t.events > 0 {
                    self.add_by_id(ids[id], Month(other.first + m as u32), t.events, t.fatalities);
                }
            }
        }
    }

    /// The rows, sorted by country, admin1 (byte order) and month. Month
    /// rows are read in memory order (a counting sort by area rank), not area
    /// by area across every month row.
    pub fn into_rows(self) -> Vec<RollupRow> {
        let mut names: Vec<(String, String, usize)> = self
            .areas
            .iter()
            .enumerate()
            .map(|(id, a)| {
                (String::from_utf8_lossy(&a.country).into_owned(), String::from_utf8_lossy(&a.admin1).into_owned(), id)
            })
            .collect();
        names.sort_unstable();
        let mut rank = vec![0usize; names.len()];
        for (r, &(_, _, id)) in names.iter().enumerate() {
            rank[id] = r;
        }
        // Rows per area rank, then where each rank's rows start.
        let mut start = vec![0usize; names.len() + 1];
        for row in &self.by_month {
            for (id, t) in row.iter().enumerate() {
                start[rank[id] + 1] += usize::from(t.events > 0);
            }
        }
        for r in 0..names.len() {
            start[r + 1] += start[r];
        }
        let mut placed: Vec<(u32, Totals)> = vec![(0, Totals::default()); start[names.len()]];
        for (m, row) in self.by_month.iter().enumerate() {
            for (id, t) in row.iter().enumerate().filter(|(_, t)| t.events > 0) {
                let slot = &mut start[rank[id]];
                placed[*slot] = (self.first + m as u32, *t);
                *slot += 1;
            }
        }
        // `start[r]` now marks the end of rank r's rows, in rank order.
        let mut rows = Vec::with_capacity(placed.len());
        let mut from = 0;
        for (r, (country, admin1, _)) in names.into_iter().enumerate() {
            let (country, admin1): (Arc<str>, Arc<str>) = (country.into(), admin1.into());
            for &(month, totals) in &placed[from..start[r]] {
                rows.push(RollupRow { country: country.clone(), admin1: admin1.clone(), month: Month(month), totals });
            }
            from = start[r];
        }
        rows
    }
}

/// One line of the rollup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupRow {
    /// Shared by every month row of the area (no copy per row).
    pub country: Arc<str>,
    pub admin1: Arc<str>,
    pub month: Month,
    pub totals: Totals,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_share_their_first_and_last_bytes_stay_apart() {
        let mut a = Aggregator::default();
        // 17 bytes and more: the words see only the first and last 8.
        let names: [&[u8]; 6] =
            [b"Haut-Kaxxx-Mbomou", b"Haut-Kayyy-Mbomou", b"Haut-Kaxxxx-Mbomou", b"abc", b"acc", b"ab"];
        for (i, name) in names.iter().enumerate() {
            for _ in 0..=i {
                a.add(b"C", name, Month::new(2020, 1), 1, 0);
            }
        }
        let rows = a.into_rows();
        assert_eq!(rows.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            let row = rows.iter().find(|r| r.admin1.as_bytes() == *name).unwrap();
            assert_eq!(row.totals.events, i as u64 + 1, "{}", row.admin1);
        }
    }

    #[test]
    fn adds_and_merges_by_area_and_month() {
        let mut a = Aggregator::default();
        a.add(b"B", b"x", Month::new(2020, 3), 1, 2);
        a.add(b"B", b"x", Month::new(2019, 12), 1, 0);
        a.add(b"A", b"y", Month::new(2020, 1), 1, 5);
        let mut b = Aggregator::default();
        b.add(b"B", b"x", Month::new(2020, 3), 1, 1);
        // Same bytes split differently between country and admin1 must not collide.
        b.add(b"Bx", b"", Month::new(2020, 3), 1, 7);
        a.merge(b);
        let rows: Vec<_> = a
            .into_rows()
            .into_iter()
            .map(|r| {
                (r.country.to_string(), r.admin1.to_string(), r.month.to_string(), r.totals.events, r.totals.fatalities)
            })
            .collect();
        let expect = [
            ("A", "y", "2020-01", 1, 5),
            ("B", "x", "2019-12", 1, 0),
            ("B", "x", "2020-03", 2, 3),
            ("Bx", "", "2020-03", 1, 7),
        ];
        let expect: Vec<_> =
            expect.iter().map(|&(c, a, m, e, f)| (c.to_string(), a.to_string(), m.to_string(), e, f)).collect();
        assert_eq!(rows, expect);
    }
}
