//! Events reduced to what the analyses read, with every string interned:
//! about 40 bytes an event (plus one copy of each distinct name) instead of
//! the ~1 KB of a full [`Event`], and grouping compares integers instead of
//! hashing strings. The server keeps one table of the stored events and
//! reuses it across requests; the `&[Event]` functions of this crate build
//! one per call. Both give the same answers (tests/it/reference.rs holds
//! the string-keyed implementation they are checked against).
//!
//! A table is a list of shared parts: [`EventTable::with`] adds events (the
//! community reports of one request) without copying the rows it shares.

use crate::assess::{AssessOptions, CellTotals, category_order, score_cell};
use crate::period::{Period, Span};
use crate::units::{locality_of, unit_of};
use jiff::civil::Date;
// foldhash: the keys are small integers and interned strings, hashed
// millions of times a request; SipHash took over half of a map request's
// time (perf, 1M events).
use foldhash::{HashMap, HashSet};
use std::collections::BTreeMap;
use std::sync::Arc;
use vitalcore_framework::{Event, Framework, Month, Source, UnitKind};
use vitalcore_proto::{AreaProfile, AreaSummary, Assessment, ProfileDimension, ThreatLink, TrendPoint};
use vitalcore_threat_links::{DimensionPanel, NetworkConfig, unit_network};

/// No unit (or no locality) at this level.
const NONE: u32 = u32::MAX;

/// Day numbers count from here (any fixed day would do).
const EPOCH: Date = Date::constant(2000, 1, 1);

fn slot(kind: UnitKind) -> usize {
    match kind {
        UnitKind::Country => 0,
        UnitKind::Admin1 => 1,
        UnitKind::Admin2 => 2,
        UnitKind::Grid => 3,
    }
}

const KINDS: [UnitKind; 4] = [UnitKind::Country, UnitKind::Admin1, UnitKind::Admin2, UnitKind::Grid];

/// One event as the analyses see it.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Days since [`EPOCH`].
    day: i32,
    /// [`Month::index`] of the date.
    month: i32,
    fatalities: u32,
    /// Civilian fatalities, 0 when not given (every analysis reads it so).
    civilian_fatalities: u32,
    /// Per unit kind ([`slot`]), an index into `Dict::units`, or [`NONE`].
    units: [u32; 4],
    /// The locality key's string, or [`NONE`].
    locality: u32,
    /// Index into `Dict::tag_sets`.
    tags: u32,
    source: Source,
    severity: u8,
}

/// Strings, each stored once.
#[derive(Debug, Clone, Default)]
struct Strings {
    text: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        let id = self.text.len() as u32;
        self.text.push(s.into());
        self.index.insert(s.into(), id);
        id
    }

    fn get(&self, id: u32) -> &str {
        &self.text[id as usize]
    }

    fn find(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }
}

/// What the rows' integers stand for.
#[derive(Debug, Clone, Default)]
struct Dict {
    strings: Strings,
    /// (id, display name) string pairs of units.
    units: Vec<(u32, u32)>,
    unit_index: HashMap<(u32, u32), u32>,
    /// (0 dimension or 1 theme, name string) of categories.
    categories: Vec<(u8, u32)>,
    category_index: HashMap<(u8, u32), u32>,
    /// An event's categories in its order (dimensions, then themes).
    tag_sets: Vec<Vec<u32>>,
    tag_set_index: HashMap<Vec<u32>, u32>,
}

impl Dict {
    fn unit(&mut self, id: &str, name: &str) -> u32 {
        let key = (self.strings.id(id), self.strings.id(name));
        let next = self.units.len() as u32;
        *self.unit_index.entry(key).or_insert_with(|| {
            self.units.push(key);
            next
        })
    }

    fn category(&mut self, kind: u8, name: &str) -> u32 {
        let key = (kind, self.strings.id(name));
        let next = self.categories.len() as u32;
        *self.category_index.entry(key).or_insert_with(|| {
            self.categories.push(key);
            next
        })
    }

    fn tag_set(&mut self, event: &Event, scratch: &mut Vec<u32>) -> u32 {
        scratch.clear();
        for d in &event.tags.dimensions {
            let c = self.category(0, d);
            scratch.push(c);
        }
        for t in &event.tags.themes {
            let c = self.category(1, t);
            scratch.push(c);
        }
        if let Some(&id) = self.tag_set_index.get(scratch.as_slice()) {
            return id;
        }
        let id = self.tag_sets.len() as u32;
        self.tag_sets.push(scratch.clone());
        self.tag_set_index.insert(scratch.clone(), id);
        id
    }

    fn row(&mut self, e: &Event, scratch: &mut Vec<u32>) -> Row {
        let mut units = [NONE; 4];
        for (slot, kind) in KINDS.into_iter().enumerate() {
            if let Some((id, name)) = unit_of(e, kind) {
                units[slot] = self.unit(&id, &name);
            }
        }
        Row {
            day: (e.date - EPOCH).get_days(),
            month: Month::of(e.date).index(),
            fatalities: e.fatalities,
            civilian_fatalities: e.civilian_fatalities.unwrap_or(0),
            units,
            locality: locality_of(e).map_or(NONE, |l| self.strings.id(&l)),
            tags: self.tag_set(e, scratch),
            source: e.provenance.source,
            severity: e.tags.severity,
        }
    }

    fn unit_id(&self, unit: u32) -> u32 {
        self.units[unit as usize].0
    }

    fn unit_name(&self, unit: u32) -> &str {
        self.strings.get(self.units[unit as usize].1)
    }

    fn heap_bytes(&self) -> usize {
        let strings: usize = self.strings.text.iter().map(|s| 2 * s.len() + 2 * 16 + 8).sum();
        let units = self.units.len() * (8 + 16);
        let categories = self.categories.len() * (8 + 16);
        let sets: usize = self.tag_sets.iter().map(|s| 2 * (s.len() * 4 + 24) + 8).sum();
        strings + units + categories + sets
    }
}

/// Stored events as the analyses read them; cheap to clone (shared parts).
#[derive(Debug, Clone, Default)]
pub struct EventTable {
    parts: Vec<Arc<[Row]>>,
    dict: Arc<Dict>,
    /// First and last month index with an event.
    months: Option<(i32, i32)>,
}

impl EventTable {
    /// A table of `events`, in their order.
    pub fn new<'a>(events: impl IntoIterator<Item = &'a Event>) -> EventTable {
        EventTable::default().with(events)
    }

    /// This table followed by `more`. The rows of this table are shared, not
    /// copied; its strings are copied once when `more` is not empty.
    pub fn with<'a>(&self, more: impl IntoIterator<Item = &'a Event>) -> EventTable {
        let mut more = more.into_iter().peekable();
        if more.peek().is_none() {
            return self.clone();
        }
        let mut builder = self.extend();
        for e in more {
            builder.push(e);
        }
        builder.finish()
    }

    /// A builder of this table followed by the events pushed to it, for
    /// events that come one at a time (a store's stream).
    pub fn extend(&self) -> EventTableBuilder {
        EventTableBuilder {
            parts: self.parts.clone(),
            dict: (*self.dict).clone(),
            rows: Vec::new(),
            scratch: Vec::new(),
            months: self.months,
        }
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first and the last month with an event.
    pub fn months(&self) -> Option<(Month, Month)> {
        self.months.map(|(lo, hi)| (Month::from_index(lo), Month::from_index(hi)))
    }

    /// Heap bytes the table holds (rows and strings; an estimate of the
    /// hash tables' share).
    pub fn heap_bytes(&self) -> usize {
        self.len() * std::mem::size_of::<Row>() + self.dict.heap_bytes()
    }

    fn rows(&self) -> impl Iterator<Item = &Row> {
        self.parts.iter().flat_map(|p| p.iter())
    }

    fn in_range(&self, opts: &AssessOptions) -> impl Iterator<Item = &Row> {
        let (from, to) = (opts.from.index(), opts.to.index());
        self.rows().filter(move |r| r.month >= from && r.month <= to)
    }

    /// See [`crate::assess()`].
    pub fn assess(&self, fw: &Framework, opts: &AssessOptions) -> Assessment {
        self.assess_rows(self.rows(), fw, opts)
    }

    fn assess_rows<'r>(&self, rows: impl Iterator<Item = &'r Row>, fw: &Framework, opts: &AssessOptions) -> Assessment {
        let dict = &*self.dict;
        let slot = slot(opts.unit);
        let spans = Spans::new(opts);
        let weights: Vec<f64> = (0..=u8::MAX).map(|level| fw.severity_weight(level)).collect();
        // Cells by (unit id, span, category), kept in `cells`.
        let mut cell_index: HashMap<(u32, u32, u32), u32> = HashMap::default();
        let mut cells: Vec<Cell> = Vec::new();
        // Distinct things are counted through one set of (owner, thing)
        // pairs each, packed in a u64: cheaper than a set per owner.
        let mut known: HashSet<u64> = HashSet::default();
        let mut known_per_unit: HashMap<u32, u64> = HashMap::default();
        let mut cell_localities: HashSet<u64> = HashSet::default();
        let mut cell_weeks: HashSet<u64> = HashSet::default();
        let (mut unplaced, mut unplaced_reports) = (0u64, 0u64);
        let (from, to) = (opts.from.index(), opts.to.index());
        for row in rows {
            if row.month < from || row.month > to {
                continue;
            }
            let report = row.source == Source::CommunityReport;
            let unit = row.units[slot];
            if unit == NONE {
                if report {
                    unplaced_reports += 1
                } else {
                    unplaced += 1
                }
                continue;
            }
            let unit_id = dict.unit_id(unit);
            // The localities a unit is known to have come from event data
            // only: a report's point must not move the event scores.
            if !report && row.locality != NONE && known.insert(pair(unit_id, row.locality)) {
                *known_per_unit.entry(unit_id).or_default() += 1;
            }
            let span = spans.of_month[(row.month - from) as usize];
            // Non-negative: the span starts on or before the row's day.
            let week = ((row.day - spans.first_day[span as usize]) / 7) as u32;
            for &category in &dict.tag_sets[row.tags as usize] {
                let at = *cell_index.entry((unit_id, span, category)).or_insert_with(|| {
                    cells.push(Cell::named(unit));
                    cells.len() as u32 - 1
                });
                let cell = &mut cells[at as usize];
                // Community reports are shown next to event data, never mixed into its scores.
                if report {
                    cell.reports += 1;
                    continue;
                }
                cell.add(row, &weights);
                if row.locality != NONE && cell_localities.insert(pair(at, row.locality)) {
                    cell.localities += 1;
                }
                if cell_weeks.insert(pair(at, week)) {
                    cell.weeks += 1;
                }
            }
        }
        let order = category_order(fw);
        let rank = |c: u32| {
            let (kind, name) = dict.categories[c as usize];
            (kind, order.get(dict.strings.get(name)).copied().unwrap_or(usize::MAX), dict.strings.get(name))
        };
        let mut keys: Vec<((u32, u32, u32), u32)> = cell_index.into_iter().collect();
        // The order of the string-keyed cells: unit id, period, kind,
        // framework order, category name.
        keys.sort_by(|(a, _), (b, _)| {
            dict.strings
                .get(a.0)
                .cmp(dict.strings.get(b.0))
                .then_with(|| spans.list[a.1 as usize].cmp(&spans.list[b.1 as usize]))
                .then_with(|| rank(a.2).cmp(&rank(b.2)))
        });
        let rows = keys
            .into_iter()
            .map(|((unit_id, span, category), at)| {
                let cell = &cells[at as usize];
                let known = known_per_unit.get(&unit_id).copied().unwrap_or(0);
                let (kind, name) = dict.categories[category as usize];
                let totals = cell.totals(dict.unit_name(cell.unit), known);
                score_cell(
                    dict.strings.get(unit_id),
                    &spans.list[span as usize],
                    kind,
                    dict.strings.get(name),
                    &totals,
                    fw,
                    opts,
                )
            })
            .collect();
        Assessment {
            unit: opts.unit.to_string(),
            from: opts.from.to_string(),
            to: opts.to.to_string(),
            period: format!("{:?}", opts.period).to_lowercase(),
            rows,
            unplaced_events: unplaced,
            unplaced_reports,
        }
    }

    /// See [`crate::summaries`].
    pub fn summaries(&self, fw: &Framework, opts: &AssessOptions, level: u8) -> Vec<AreaSummary> {
        let whole = AssessOptions { period: Period::All, ..opts.clone() };
        self.summaries_of(&self.assess(fw, &whole), opts, level)
    }

    /// [`EventTable::summaries`] from an assessment of the same table and
    /// options with [`Period::All`], for a caller that needs both.
    pub fn summaries_of(&self, whole: &Assessment, opts: &AssessOptions, level: u8) -> Vec<AreaSummary> {
        let dict = &*self.dict;
        let slot = slot(opts.unit);
        let mut by_unit: HashMap<u32, AreaSummary> = HashMap::default();
        for row in self.in_range(opts).filter(|r| r.source != Source::CommunityReport) {
            let unit = row.units[slot];
            if unit == NONE {
                continue;
            }
            let s = by_unit.entry(dict.unit_id(unit)).or_insert_with(|| {
                let id = dict.strings.get(dict.unit_id(unit)).to_string();
                let name = opts.area_names.get(&id).cloned().unwrap_or_else(|| dict.unit_name(unit).to_string());
                AreaSummary {
                    unit_id: id,
                    name,
                    level,
                    events: 0,
                    fatalities: 0,
                    top_dimension: None,
                    critical: 0.0,
                    pervasive: 0.0,
                }
            });
            s.events += 1;
            s.fatalities += row.fatalities as u64;
        }
        let mut by_unit: BTreeMap<String, AreaSummary> =
            by_unit.into_values().map(|s| (s.unit_id.clone(), s)).collect();
        for row in whole.rows.iter().filter(|r| r.category_kind == "dimension") {
            if let Some(s) = by_unit.get_mut(&row.unit_id)
                && row.critical + row.pervasive > s.critical + s.pervasive
            {
                s.critical = row.critical;
                s.pervasive = row.pervasive;
                s.top_dimension = Some(row.category.clone());
            }
        }
        by_unit.into_values().collect()
    }

    /// See [`crate::profile()`].
    pub fn profile(&self, fw: &Framework, opts: &AssessOptions, query: &str) -> Option<AreaProfile> {
        let dict = &*self.dict;
        let slot = slot(opts.unit);
        let named: Vec<bool> = dict
            .units
            .iter()
            .map(|&(id, name)| {
                let (id, name) = (dict.strings.get(id), dict.strings.get(name));
                names_unit(query, id, name) || opts.area_names.get(id).is_some_and(|n| names_unit(query, id, n))
            })
            .collect();
        let mine: Vec<&Row> =
            self.in_range(opts).filter(|r| r.units[slot] != NONE && named[r.units[slot] as usize]).collect();
        let first = mine.first()?.units[slot];
        let unit_id = dict.strings.get(dict.unit_id(first)).to_string();
        let name = opts.area_names.get(&unit_id).cloned().unwrap_or_else(|| dict.unit_name(first).to_string());
        let whole = AssessOptions { period: Period::All, ..opts.clone() };
        // Localities known must come from the whole unit, so assess all of its events.
        let totals = self.assess_rows(mine.iter().copied(), fw, &whole);
        let trends = self.monthly_trends(&mine, opts.from, opts.to);
        let mut dimensions = Vec::new();
        let mut themes = Vec::new();
        for row in totals.rows {
            let trend = trends.get(row.category.as_str()).cloned().unwrap_or_default();
            let entry = ProfileDimension {
                category_kind: row.category_kind.clone(),
                category: row.category.clone(),
                label: fw.label(&row.category, "en").to_string(),
                total: row,
                trend,
            };
            if entry.category_kind == "dimension" { dimensions.push(entry) } else { themes.push(entry) }
        }
        // Event data and community reports are counted apart, as in the rows.
        let (reports, events): (Vec<&Row>, Vec<&Row>) = mine.iter().partition(|r| r.source == Source::CommunityReport);
        let mut sources: BTreeMap<String, u64> = BTreeMap::new();
        for r in &events {
            *sources.entry(r.source.to_string()).or_default() += 1;
        }
        Some(AreaProfile {
            unit: opts.unit.to_string(),
            unit_id,
            name,
            from: opts.from.to_string(),
            to: opts.to.to_string(),
            events: events.len() as u64,
            fatalities: events.iter().map(|r| r.fatalities as u64).sum(),
            civilian_fatalities: events.iter().map(|r| r.civilian_fatalities as u64).sum(),
            reports: reports.len() as u64,
            dimensions,
            themes,
            sources: sources.into_iter().collect(),
            links: Vec::new(),
            risk: None,
        })
    }

    /// Per category name, one point per month in range (zeros included).
    fn monthly_trends(&self, rows: &[&Row], from: Month, to: Month) -> HashMap<&str, Vec<TrendPoint>> {
        let dict = &*self.dict;
        let months: Vec<Month> = from.through(to).collect();
        let mut out: HashMap<&str, Vec<TrendPoint>> = HashMap::default();
        for r in rows {
            if r.month < from.index() || r.month > to.index() {
                continue;
            }
            let i = (r.month - from.index()) as usize;
            for &c in &dict.tag_sets[r.tags as usize] {
                let name = dict.strings.get(dict.categories[c as usize].1);
                let series = out.entry(name).or_insert_with(|| {
                    months
                        .iter()
                        .map(|m| TrendPoint { month: m.to_string(), events: 0, fatalities: 0, reports: 0 })
                        .collect()
                });
                if r.source == Source::CommunityReport {
                    series[i].reports += 1;
                } else {
                    series[i].events += 1;
                    series[i].fatalities += r.fatalities as u64;
                }
            }
        }
        out
    }

    /// See [`crate::dimension_panel`].
    pub fn dimension_panel(
        &self,
        fw: &Framework,
        opts: &AssessOptions,
        only_unit: Option<&str>,
    ) -> Option<DimensionPanel> {
        let dict = &*self.dict;
        let slot = slot(opts.unit);
        let dimensions: Vec<String> = fw.dimension_ids().map(str::to_string).collect();
        // A framework dimension's column, per category of the table.
        let column: Vec<Option<usize>> = dict
            .categories
            .iter()
            .map(|&(kind, name)| {
                (kind == 0).then(|| dimensions.iter().position(|d| d == dict.strings.get(name))).flatten()
            })
            .collect();
        let only = match only_unit {
            Some(u) => Some(dict.strings.find(u)?),
            None => None,
        };
        let mut cells: HashMap<u32, Vec<(usize, usize)>> = HashMap::default();
        // Event data only: community reports measure who speaks up as much as
        // what happens, and would link dimensions through reporting habits.
        for r in self.in_range(opts).filter(|r| r.source.is_event_data()) {
            let unit = r.units[slot];
            if unit == NONE || only.is_some_and(|u| u != dict.unit_id(unit)) {
                continue;
            }
            let m = (r.month - opts.from.index()) as usize;
            let list = cells.entry(dict.unit_id(unit)).or_default();
            for &c in &dict.tag_sets[r.tags as usize] {
                if let Some(d) = column[c as usize] {
                    list.push((m, d));
                }
            }
        }
        if cells.is_empty() {
            return None;
        }
        let cells: BTreeMap<&str, Vec<(usize, usize)>> =
            cells.into_iter().map(|(u, list)| (dict.strings.get(u), list)).collect();
        let months = opts.from.through(opts.to).map(|m| m.to_string()).collect();
        let mut panel = DimensionPanel::zeros(cells.keys().map(|u| u.to_string()).collect(), months, dimensions);
        for (u, list) in cells.values().enumerate() {
            for &(m, d) in list {
                panel.set(u, m, d, panel.get(u, m, d) + 1.0);
            }
        }
        Some(panel)
    }

    /// See [`crate::area_links`].
    pub fn area_links(&self, fw: &Framework, opts: &AssessOptions, unit_id: &str, limit: usize) -> Vec<ThreatLink> {
        let Some(panel) = self.dimension_panel(fw, opts, Some(unit_id)) else { return Vec::new() };
        let config = NetworkConfig { permutations: 199, ..NetworkConfig::default() };
        let network = unit_network(&panel, &config, unit_id);
        let mut edges = network.edges;
        edges.sort_by(|a, b| b.strength.abs().total_cmp(&a.strength.abs()));
        edges
            .into_iter()
            .take(limit)
            .map(|e| ThreatLink { from: e.from, to: e.to, lag: e.lag as u32, strength: e.strength, q_value: e.q_value })
            .collect()
    }
}

/// Rows a builder gathers before it seals them as one part: the rows are
/// copied once into their shared part, a part at a time, so building a
/// table of N events peaks near N rows (440 MB at 10M) instead of twice
/// that, and the rows vector never grows past one part.
const PART_ROWS: usize = 1 << 20;

/// Builds an [`EventTable`] one event at a time ([`EventTable::extend`],
/// or `EventTable::default().extend()` for a new table).
pub struct EventTableBuilder {
    parts: Vec<Arc<[Row]>>,
    dict: Dict,
    rows: Vec<Row>,
    scratch: Vec<u32>,
    months: Option<(i32, i32)>,
}

impl EventTableBuilder {
    pub fn push(&mut self, event: &Event) {
        if self.rows.len() == PART_ROWS {
            let full = std::mem::take(&mut self.rows);
            self.parts.push(full.into());
        }
        let row = self.dict.row(event, &mut self.scratch);
        self.months =
            Some(self.months.map_or((row.month, row.month), |(lo, hi)| (lo.min(row.month), hi.max(row.month))));
        self.rows.push(row);
    }

    pub fn finish(self) -> EventTable {
        let mut parts = self.parts;
        if !self.rows.is_empty() {
            parts.push(self.rows.into());
        }
        EventTable { parts, dict: Arc::new(self.dict), months: self.months }
    }
}

/// Two 32-bit ids as one set key.
fn pair(owner: u32, thing: u32) -> u64 {
    (owner as u64) << 32 | thing as u64
}

/// Does `query` name this unit? Matches the id (P-code) exactly or the name
/// case-insensitively.
fn names_unit(query: &str, id: &str, name: &str) -> bool {
    id.eq_ignore_ascii_case(query) || name.to_lowercase() == query.to_lowercase()
}

/// The periods of the options' range: each month's period, and each
/// period's first day as a day number.
struct Spans {
    list: Vec<Span>,
    of_month: Vec<u32>,
    first_day: Vec<i32>,
}

impl Spans {
    fn new(opts: &AssessOptions) -> Spans {
        let mut spans = Spans { list: Vec::new(), of_month: Vec::new(), first_day: Vec::new() };
        for month in opts.from.through(opts.to) {
            let span = opts.period.span_of(month, opts.from, opts.to);
            let at = match spans.list.iter().position(|s| *s == span) {
                Some(at) => at,
                None => {
                    spans.first_day.push((span.first_day() - EPOCH).get_days());
                    spans.list.push(span);
                    spans.list.len() - 1
                }
            };
            spans.of_month.push(at as u32);
        }
        spans
    }
}

/// Running totals of one (unit, period, category) cell.
struct Cell {
    /// The unit (id and name) of the cell's first event: its name is shown.
    unit: u32,
    events: u64,
    fatalities: u64,
    civilian_fatalities: u64,
    reports: u64,
    by_severity: [u64; 5],
    severity_weight: f64,
    /// Distinct localities and weeks with events (counted by the caller).
    localities: u64,
    weeks: u64,
}

impl Cell {
    fn named(unit: u32) -> Cell {
        Cell {
            unit,
            events: 0,
            fatalities: 0,
            civilian_fatalities: 0,
            reports: 0,
            by_severity: [0; 5],
            severity_weight: 0.0,
            localities: 0,
            weeks: 0,
        }
    }

    /// Adds an event (not a community report).
    fn add(&mut self, row: &Row, weights: &[f64]) {
        self.events += 1;
        self.fatalities += row.fatalities as u64;
        self.civilian_fatalities += row.civilian_fatalities as u64;
        self.by_severity[(row.severity as usize).min(4)] += 1;
        self.severity_weight += weights[row.severity as usize];
    }

    fn totals<'a>(&self, unit_name: &'a str, localities_known: u64) -> CellTotals<'a> {
        CellTotals {
            unit_name,
            events: self.events,
            fatalities: self.fatalities,
            civilian_fatalities: self.civilian_fatalities,
            reports: self.reports,
            by_severity: self.by_severity,
            severity_weight: self.severity_weight,
            localities_affected: self.localities,
            localities_known,
            weeks_affected: self.weeks,
        }
    }
}
