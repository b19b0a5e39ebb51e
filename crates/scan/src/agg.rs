//! Event counts and fatality sums by any grouping keys (country, admin1,
//! admin2, location, month), in memory that grows by a few dozen bytes per
//! group.
//!
//! Each group is its key values encoded once, back to back, in one byte
//! arena (a name as its u32 length and bytes, a month as a u32); an
//! open-addressing table of 8-byte slots (32 bits of hash, 32 bits of group
//! id) finds a group from its encoding; totals sit in a vector indexed by
//! group id. Per group: the encoded names, 8 bytes of end offset, 16 of
//! totals and 16-32 of table: no allocation, no map entry, no copy of the
//! key per row. The issue this replaced (#14): one totals row per month
//! over every area, kilobytes per area once areas were nearly all distinct.

use crate::date::Month;

/// A grouping key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Country,
    Admin1,
    Admin2,
    Location,
    Month,
}

impl Key {
    /// The column name in output, as the user writes it in `--by`.
    pub fn name(self) -> &'static str {
        match self {
            Key::Country => "country",
            Key::Admin1 => "admin1",
            Key::Admin2 => "admin2",
            Key::Location => "location",
            Key::Month => "month",
        }
    }

    /// Index of a name key in the `names` array of [`Aggregator::add`]; `None` for the month.
    pub(crate) fn name_slot(self) -> Option<usize> {
        match self {
            Key::Country => Some(0),
            Key::Admin1 => Some(1),
            Key::Admin2 => Some(2),
            Key::Location => Some(3),
            Key::Month => None,
        }
    }
}

/// Events and fatalities of one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub events: u64,
    pub fatalities: u64,
}

#[inline(always)]
pub(crate) fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A wyhash-style hash of a short byte string (Wang Yi, 2019): 8 bytes at a
/// time through a folded multiply.
#[inline]
pub(crate) fn hash_bytes(b: &[u8]) -> u64 {
    const K: [u64; 3] = [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3];
    let mut h = K[0] ^ b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        h = fold_mul(h ^ u64::from_le_bytes(w.try_into().expect("8 bytes")), K[1]);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = fold_mul(h ^ u64::from_le_bytes(w), K[2]);
    }
    fold_mul(h ^ K[2], K[1])
}

/// The rollup under construction (see the module comment).
#[derive(Debug)]
pub struct Aggregator {
    keys: Vec<Key>,
    /// `hash >> 32 << 32 | (id + 1)`; 0 marks an empty slot. Power-of-two
    /// size, at most half full.
    slots: Vec<u64>,
    /// Encoded groups, back to back.
    arena: Vec<u8>,
    /// End of group `i`'s encoding in `arena` (it starts at the previous end).
    ends: Vec<u64>,
    totals: Vec<Totals>,
    /// The encoding of the row being added.
    scratch: Vec<u8>,
}

impl Default for Aggregator {
    /// By country, admin1 and month.
    fn default() -> Self {
        Aggregator::new(&[Key::Country, Key::Admin1, Key::Month])
    }
}

impl Aggregator {
    /// An empty rollup grouped by `keys`, in that order.
    pub fn new(keys: &[Key]) -> Aggregator {
        Aggregator {
            keys: keys.to_vec(),
            slots: Vec::new(),
            arena: Vec::new(),
            ends: Vec::new(),
            totals: Vec::new(),
            scratch: Vec::with_capacity(64),
        }
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Number of groups so far.
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    /// Adds to the group of these names (country, admin1, admin2, location:
    /// only those among the keys are read) and month.
    #[inline]
    pub fn add(&mut self, names: [&[u8]; 4], month: Month, events: u64, fatalities: u64) {
        let mut enc = std::mem::take(&mut self.scratch);
        enc.clear();
        for &k in &self.keys {
            match k.name_slot() {
                Some(i) => {
                    enc.extend_from_slice(&(names[i].len() as u32).to_le_bytes());
                    enc.extend_from_slice(names[i]);
                }
                None => enc.extend_from_slice(&month.0.to_le_bytes()),
            }
        }
        self.add_encoded(&enc, Totals { events, fatalities });
        self.scratch = enc;
    }

    fn group(&self, id: usize) -> &[u8] {
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.arena[start..self.ends[id] as usize]
    }

    #[inline]
    fn add_encoded(&mut self, enc: &[u8], add: Totals) {
        self.add_hashed(enc, hash_bytes(enc) >> 32 << 32, add);
    }

    /// Slot index of a tag in a table of `len` slots: the tag's top bits,
    /// so that growing the table or merging another one needs no rehash.
    #[inline(always)]
    fn home(tag: u64, len: usize) -> usize {
        (tag >> (64 - len.trailing_zeros())) as usize
    }

    /// `tag` is the hash's high 32 bits, in place (the low 32 are zero).
    #[inline]
    fn add_hashed(&mut self, enc: &[u8], tag: u64, add: Totals) {
        if self.slots.is_empty() {
            self.slots = vec![0; 1024];
        }
        let mask = self.slots.len() - 1;
        let mut i = Self::home(tag, self.slots.len());
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                break;
            }
            if slot & !0xffff_ffff == tag {
                let id = (slot as u32 - 1) as usize;
                if self.group(id) == enc {
                    let t = &mut self.totals[id];
                    t.events += add.events;
                    t.fatalities += add.fatalities;
                    return;
                }
            }
            i = (i + 1) & mask;
        }
        let id = self.totals.len();
        assert!(id < u32::MAX as usize - 1, "more than 4 billion groups");
        self.arena.extend_from_slice(enc);
        self.ends.push(self.arena.len() as u64);
        self.totals.push(add);
        self.slots[i] = tag | (id as u64 + 1);
        if self.totals.len() * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Doubles the table; slots move by their tags, no group is read.
    fn grow(&mut self) {
        assert!(self.slots.len() < 1 << 32, "table at its largest");
        let mut slots = vec![0u64; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for &slot in self.slots.iter().filter(|&&s| s != 0) {
            let mut i = Self::home(slot, slots.len());
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = slot;
        }
        self.slots = slots;
    }

    /// Adds another rollup with the same keys.
    pub fn merge(&mut self, other: Aggregator) {
        debug_assert_eq!(self.keys, other.keys);
        if self.is_empty() {
            let scratch = std::mem::take(&mut self.scratch);
            *self = Aggregator { scratch, ..other };
            return;
        }
        // Room first, then each group by the tag it already has (no rehash).
        while (self.totals.len() + other.totals.len()) * 2 > self.slots.len() {
            self.grow();
        }
        for &slot in other.slots.iter().filter(|&&s| s != 0) {
            let id = (slot as u32 - 1) as usize;
            self.add_hashed(other.group(id), slot & !0xffff_ffff, other.totals[id]);
        }
    }

    /// The groups, sorted by their keys in order (names in byte order, months in time order).
    pub fn into_rollup(self) -> Rollup {
        let Aggregator { keys, arena, ends, totals, .. } = self;
        drop(self.slots);
        let mut rollup = Rollup { keys, arena, ends, totals, order: Vec::new() };
        let mut order: Vec<u32> = (0..rollup.totals.len() as u32).collect();
        // The first 32 bytes of an order-preserving encoding of the keys
        // (a name's 0 bytes as 0 255, then 0 0 as its end; a month as 4
        // big-endian bytes) settle most comparisons without decoding.
        let prefix = |id: u32| -> [u128; 2] {
            let mut p = [0u8; 32];
            let mut n = 0;
            let mut put = |b: u8| {
                if n < 32 {
                    p[n] = b;
                    n += 1;
                }
            };
            for v in rollup.values(id) {
                match v {
                    Value::Name(bytes) => {
                        for &b in bytes.iter().take(32) {
                            put(b);
                            if b == 0 {
                                put(255);
                            }
                        }
                        put(0);
                        put(0);
                    }
                    Value::Month(m) => m.0.to_be_bytes().into_iter().for_each(&mut put),
                }
            }
            let (a, b) = p.split_at(16);
            [u128::from_be_bytes(a.try_into().expect("16")), u128::from_be_bytes(b.try_into().expect("16"))]
        };
        let mut keyed: Vec<([u128; 2], u32)> = order.iter().map(|&id| (prefix(id), id)).collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| rollup.compare(a.1, b.1)));
        order.clear();
        order.extend(keyed.into_iter().map(|(_, id)| id));
        rollup.order = order;
        rollup
    }

    /// The rows, sorted; the default keys' shape (country, admin1, month).
    pub fn into_rows(self) -> Vec<RollupRow> {
        let rollup = self.into_rollup();
        rollup.rows().map(|r| r.to_owned_row()).collect()
    }
}

/// The finished rollup: groups sorted by their keys.
#[derive(Debug)]
pub struct Rollup {
    keys: Vec<Key>,
    arena: Vec<u8>,
    ends: Vec<u64>,
    totals: Vec<Totals>,
    order: Vec<u32>,
}

/// One key value of a rollup row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Name(&'a [u8]),
    Month(Month),
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Name(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Month(m) => m.fmt(f),
        }
    }
}

/// Walks the values of an encoded group.
struct Values<'a> {
    keys: std::slice::Iter<'a, Key>,
    rest: &'a [u8],
}

impl<'a> Iterator for Values<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        let key = self.keys.next()?;
        let (word, rest) = self.rest.split_at(4);
        let word = u32::from_le_bytes(word.try_into().expect("4 bytes"));
        if *key == Key::Month {
            self.rest = rest;
            return Some(Value::Month(Month(word)));
        }
        let (name, rest) = rest.split_at(word as usize);
        self.rest = rest;
        Some(Value::Name(name))
    }
}

impl Rollup {
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn group(&self, id: usize) -> &[u8] {
        let start = if id == 0 { 0 } else { self.ends[id - 1] as usize };
        &self.arena[start..self.ends[id] as usize]
    }

    fn values(&self, id: u32) -> Values<'_> {
        Values { keys: self.keys.iter(), rest: self.group(id as usize) }
    }

    fn compare(&self, a: u32, b: u32) -> std::cmp::Ordering {
        for (x, y) in self.values(a).zip(self.values(b)) {
            let o = match (x, y) {
                (Value::Name(x), Value::Name(y)) => x.cmp(y),
                (Value::Month(x), Value::Month(y)) => x.cmp(&y),
                _ => unreachable!("same keys"),
            };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    }

    /// The rows in key order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.order.iter().map(|&id| Row { rollup: self, id })
    }

    /// Total events over every group.
    pub fn events(&self) -> u64 {
        self.totals.iter().map(|t| t.events).sum()
    }
}

/// One row of a [`Rollup`].
#[derive(Clone, Copy)]
pub struct Row<'a> {
    rollup: &'a Rollup,
    id: u32,
}

impl<'a> Row<'a> {
    /// The key values, in the rollup's key order.
    pub fn values(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.rollup.values(self.id)
    }

    pub fn totals(&self) -> Totals {
        self.rollup.totals[self.id as usize]
    }

    /// The row with owned names.
    pub fn to_owned_row(self) -> RollupRow {
        let mut row = RollupRow::default();
        for (k, v) in self.rollup.keys.iter().zip(self.values()) {
            match (k, v) {
                (Key::Country, v) => row.country = v.to_string(),
                (Key::Admin1, v) => row.admin1 = v.to_string(),
                (Key::Admin2, v) => row.admin2 = v.to_string(),
                (Key::Location, v) => row.location = v.to_string(),
                (Key::Month, Value::Month(m)) => row.month = m,
                (Key::Month, Value::Name(_)) => unreachable!("a month key holds a month"),
            }
        }
        row.totals = self.totals();
        row
    }
}

/// One line of the rollup, owned (tests and small outputs); the keys not
/// grouped by are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupRow {
    pub country: String,
    pub admin1: String,
    pub admin2: String,
    pub location: String,
    pub month: Month,
    pub totals: Totals,
}

impl Default for RollupRow {
    fn default() -> Self {
        RollupRow {
            country: String::new(),
            admin1: String::new(),
            admin2: String::new(),
            location: String::new(),
            month: Month(0),
            totals: Totals::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: &mut Aggregator, country: &[u8], admin1: &[u8], month: Month, events: u64, fatalities: u64) {
        a.add([country, admin1, b"", b""], month, events, fatalities);
    }

    #[test]
    fn names_that_share_their_first_and_last_bytes_stay_apart() {
        let mut a = Aggregator::default();
        let names: [&[u8]; 6] =
            [b"Haut-Kaxxx-Mbomou", b"Haut-Kayyy-Mbomou", b"Haut-Kaxxxx-Mbomou", b"abc", b"acc", b"ab"];
        for (i, name) in names.iter().enumerate() {
            for _ in 0..=i {
                add(&mut a, b"C", name, Month::new(2020, 1), 1, 0);
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
        add(&mut a, b"B", b"x", Month::new(2020, 3), 1, 2);
        add(&mut a, b"B", b"x", Month::new(2019, 12), 1, 0);
        add(&mut a, b"A", b"y", Month::new(2020, 1), 1, 5);
        let mut b = Aggregator::default();
        add(&mut b, b"B", b"x", Month::new(2020, 3), 1, 1);
        // Same bytes split differently between country and admin1 must not collide.
        add(&mut b, b"Bx", b"", Month::new(2020, 3), 1, 7);
        a.merge(b);
        let rows: Vec<_> = a
            .into_rows()
            .into_iter()
            .map(|r| (r.country, r.admin1, r.month.to_string(), r.totals.events, r.totals.fatalities))
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

    #[test]
    fn any_keys_in_any_order_and_many_groups() {
        let mut a = Aggregator::new(&[Key::Month, Key::Location]);
        for i in 0..50_000u32 {
            let loc = format!("place {}", i % 20_000);
            a.add([b"C", b"A1", b"A2", loc.as_bytes()], Month(24_000 + i % 3), 1, u64::from(i % 2));
        }
        let rollup = a.into_rollup();
        // (i % 20000, i % 3) repeats only every 60,000: 50,000 groups of one event each.
        assert_eq!(rollup.len(), 50_000);
        assert_eq!(rollup.events(), 50_000);
        let keys: Vec<(u32, Vec<u8>)> = rollup
            .rows()
            .map(|r| {
                let v: Vec<Value> = r.values().collect();
                match (v[0], v[1]) {
                    (Value::Month(m), Value::Name(n)) => (m.0, n.to_vec()),
                    _ => panic!("month, then location"),
                }
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted by month, then location");
    }
}
