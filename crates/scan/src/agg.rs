//! Event counts and fatality sums by (country, admin1, month).

use std::hash::Hasher;

use crate::date::Month;

/// FxHash (the rustc hasher: rotate, xor, multiply per word) with the final
/// rotation of rustc-hash 2 so that the low bits, which pick the bucket,
/// depend on the whole key. Keys are short names; SipHash would dominate.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(FX_SEED).rotate_left(5);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
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
/// table keyed by the hash of the country and admin1 bytes (no key is built
/// or copied per row); totals sit in one row per month indexed by area id.
/// Event files are sorted by date, so consecutive rows share a month and hit
/// the same few kilobytes instead of a month array per area.
#[derive(Default, Debug)]
pub struct Aggregator {
    /// Slots of (hash, area id + 1); 0 marks an empty slot. Power-of-two size.
    slots: Vec<(u64, u32)>,
    areas: Vec<Area>,
    /// Month of `by_month[0]`.
    first: u32,
    /// `by_month[m - first][area id]`.
    by_month: Vec<Vec<Totals>>,
}

#[inline]
fn area_hash(country: &[u8], admin1: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(country);
    h.add(0xff);
    h.write(admin1);
    h.finish()
}

/// Byte equality without a library call for the short names compared here.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        if word(x) != word(y) {
            return false;
        }
    }
    ca.remainder().iter().zip(cb.remainder()).all(|(x, y)| x == y)
}

#[inline(always)]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
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
            self.slots = vec![(0, 0); 1024];
        }
        let hash = area_hash(country, admin1);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let (h, id) = self.slots[i];
            if id == 0 {
                break;
            }
            if h == hash {
                let area = &self.areas[id as usize - 1];
                if same(&area.country, country) && same(&area.admin1, admin1) {
                    return id as usize - 1;
                }
            }
            i = (i + 1) & mask;
        }
        self.areas.push(Area { country: country.into(), admin1: admin1.into() });
        self.slots[i] = (hash, self.areas.len() as u32);
        if self.areas.len() * 2 > self.slots.len() {
            self.grow();
        }
        self.areas.len() - 1
    }

    fn grow(&mut self) {
        let mut slots = vec![(0u64, 0u32); self.slots.len() * 2];
        let mask = slots.len() - 1;
        for &(h, id) in self.slots.iter().filter(|s| s.1 != 0) {
            let mut i = h as usize & mask;
            while slots[i].1 != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = (h, id);
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

    /// The rows, sorted by country, admin1 (byte order) and month.
    pub fn into_rows(self) -> Vec<RollupRow> {
        let mut names: Vec<(String, String, usize)> = self
            .areas
            .iter()
            .enumerate()
            .map(|(id, a)| (String::from_utf8_lossy(&a.country).into_owned(), String::from_utf8_lossy(&a.admin1).into_owned(), id))
            .collect();
        names.sort_unstable();
        let mut rows = Vec::new();
        for (country, admin1, id) in names {
            for (m, row) in self.by_month.iter().enumerate() {
                if let Some(t) = row.get(id).filter(|t| t.events > 0) {
                    rows.push(RollupRow { country: country.clone(), admin1: admin1.clone(), month: Month(self.first + m as u32), totals: *t });
                }
            }
        }
        rows
    }
}

/// One line of the rollup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupRow {
    pub country: String,
    pub admin1: String,
    pub month: Month,
    pub totals: Totals,
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .map(|r| (r.country, r.admin1, r.month.to_string(), r.totals.events, r.totals.fatalities))
            .collect();
        let expect = [("A", "y", "2020-01", 1, 5), ("B", "x", "2019-12", 1, 0), ("B", "x", "2020-03", 2, 3), ("Bx", "", "2020-03", 1, 7)];
        let expect: Vec<_> = expect.iter().map(|&(c, a, m, e, f)| (c.to_string(), a.to_string(), m.to_string(), e, f)).collect();
        assert_eq!(rows, expect);
    }
}
