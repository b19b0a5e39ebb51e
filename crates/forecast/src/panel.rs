//! The unit-month panel: every unit x every month from the first to the last,
//! zeros filled where nothing was recorded.

use crate::error::ForecastError;
use std::collections::HashMap;
use vitalcore_framework::{Event, Month, Source, UnitKind, prio_grid_gid};

/// What is forecast: summed fatalities or the number of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Fatalities,
    Events,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        match s {
            "fatalities" | "deaths" => Ok(Target::Fatalities),
            "events" | "count" => Ok(Target::Events),
            other => Err(format!("`{other}` is not a target: use fatalities or events")),
        }
    }
}

/// One spatial unit of the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Stable key: P-code, `country/name`, PRIO-GRID gid or country name.
    pub id: String,
    pub name: String,
    pub country: Option<String>,
    /// Mean (lat, lon) of the unit's located events, or the cell centre.
    pub centroid: Option<(f64, f64)>,
}

/// Options of [`Panel::from_events`].
#[derive(Debug, Clone, Default)]
pub struct PanelOptions {
    /// First month of the panel (default: month of the first event).
    pub first: Option<Month>,
    /// Last month (default: month of the last event).
    pub last: Option<Month>,
    /// Grid only: also add the 8 neighbours of every cell with an event.
    pub grid_neighbours: bool,
    /// How many event types get their own feature series (most frequent first).
    pub max_event_types: usize,
}

/// Unit x month series, stored unit-major: value of unit u, month t at `u * months + t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub kind: UnitKind,
    pub first: Month,
    pub months: usize,
    pub units: Vec<Unit>,
    /// Sum of fatalities of event-data records.
    pub fatalities: Vec<f64>,
    /// Number of event-data records.
    pub events: Vec<f64>,
    /// (event type, event counts) for the most frequent types.
    pub event_types: Vec<(String, Vec<f64>)>,
    /// (dimension, community-report counts) for every dimension reported.
    pub community: Vec<(String, Vec<f64>)>,
    /// For each unit, the indices of its neighbouring units.
    pub neighbours: Vec<Vec<usize>>,
}

impl Panel {
    pub fn n_units(&self) -> usize {
        self.units.len()
    }

    pub fn last(&self) -> Month {
        self.first.plus(self.months as i32 - 1)
    }

    /// Index of a month in the panel, if inside it.
    pub fn month_index(&self, m: Month) -> Option<usize> {
        let i = m.index() - self.first.index();
        (i >= 0 && (i as usize) < self.months).then_some(i as usize)
    }

    pub fn target(&self, t: Target) -> &[f64] {
        match t {
            Target::Fatalities => &self.fatalities,
            Target::Events => &self.events,
        }
    }

    pub fn value(&self, target: Target, unit: usize, month: usize) -> f64 {
        self.target(target)[unit * self.months + month]
    }

    /// Community-report counts of one unit summed over dimensions.
    pub fn community_total(&self, unit: usize) -> Vec<f64> {
        let mut total = vec![0.0; self.months];
        for (_, series) in &self.community {
            for (t, v) in series[unit * self.months..(unit + 1) * self.months].iter().enumerate() {
                total[t] += v;
            }
        }
        total
    }

    /// Builds the panel from events. Event data (UCDP, ACLED, HXL) feed the
    /// targets and event types; community reports feed the per-dimension
    /// report counts only. Events that cannot be placed in a unit are skipped
    /// and counted in the returned number. See [`PanelBuilder`] for events
    /// that come one at a time.
    pub fn from_events(events: &[Event], kind: UnitKind, opts: &PanelOptions) -> Result<(Panel, usize), ForecastError> {
        let mut builder = PanelBuilder::new(kind);
        for e in events {
            builder.push(e);
        }
        builder.finish(opts)
    }
}

/// Builds a [`Panel`] from events pushed one at a time (a store's stream),
/// keeping only per unit-month counts: memory follows the units and months
/// with events, not the events. Gives the same panel as
/// [`Panel::from_events`] on the same events in the same order.
#[derive(Debug)]
pub struct PanelBuilder {
    kind: UnitKind,
    index: HashMap<String, usize>,
    units: Vec<Unit>,
    /// Per unit: sums of latitude and longitude, and how many points.
    coord_sums: Vec<(f64, f64, f64)>,
    skipped: usize,
    /// First and last month of a placed event.
    months: Option<(Month, Month)>,
    /// (unit, month index) -> (fatalities, events) of event data.
    targets: HashMap<(usize, i32), (f64, f64)>,
    types: Names,
    /// Per event type: how many event-data events have it.
    type_counts: Vec<usize>,
    /// (unit, month index, event type) -> events that are not community reports.
    type_cells: HashMap<(usize, i32, usize), f64>,
    dimensions: Names,
    /// (dimension, unit, month index) -> community reports.
    community_cells: HashMap<(usize, usize, i32), f64>,
    /// (dimension, month index) -> the earliest push of a report with it
    /// that month: the panel lists dimensions in the order of their first
    /// report inside its months, known only once they are.
    first_report: HashMap<(usize, i32), u64>,
    pushed: u64,
}

/// Names numbered in the order first seen.
#[derive(Debug, Default)]
struct Names {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Names {
    fn id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        self.list.push(name.to_string());
        self.index.insert(name.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

impl PanelBuilder {
    pub fn new(kind: UnitKind) -> PanelBuilder {
        PanelBuilder {
            kind,
            index: HashMap::new(),
            units: Vec::new(),
            coord_sums: Vec::new(),
            skipped: 0,
            months: None,
            targets: HashMap::new(),
            types: Names::default(),
            type_counts: Vec::new(),
            type_cells: HashMap::new(),
            dimensions: Names::default(),
            community_cells: HashMap::new(),
            first_report: HashMap::new(),
            pushed: 0,
        }
    }

    /// Counts one event in its unit and month (or as skipped when it has no unit).
    pub fn push(&mut self, e: &Event) {
        let Some(u) = self.unit_of(e) else {
            self.skipped += 1;
            return;
        };
        if let Some((lon, lat)) = e.place.point() {
            let sums = &mut self.coord_sums[u];
            sums.0 += lat;
            sums.1 += lon;
            sums.2 += 1.0;
        }
        let month = Month::of(e.date);
        self.months = Some(self.months.map_or((month, month), |(lo, hi)| (lo.min(month), hi.max(month))));
        let m = month.index();
        if e.provenance.source == Source::CommunityReport {
            for d in &e.tags.dimensions {
                let d = self.dimensions.id(d);
                *self.community_cells.entry((d, u, m)).or_default() += 1.0;
                self.first_report.entry((d, m)).or_insert(self.pushed);
                self.pushed += 1;
            }
            return;
        }
        let cell = self.targets.entry((u, m)).or_default();
        cell.0 += e.fatalities as f64;
        cell.1 += 1.0;
        if !e.event_type.is_empty() {
            let t = self.types.id(&e.event_type);
            if t == self.type_counts.len() {
                self.type_counts.push(0);
            }
            // Every source here is event data (reports returned above).
            self.type_counts[t] += 1;
            *self.type_cells.entry((u, m, t)).or_default() += 1.0;
        }
    }

    fn unit_of(&mut self, e: &Event) -> Option<usize> {
        let (id, name) = unit_key(e, self.kind)?;
        if let Some(&u) = self.index.get(&id) {
            return Some(u);
        }
        self.units.push(Unit { id: id.clone(), name, country: e.place.country.clone(), centroid: None });
        self.coord_sums.push((0.0, 0.0, 0.0));
        self.index.insert(id, self.units.len() - 1);
        Some(self.units.len() - 1)
    }

    /// The panel over `opts`' months (default: those of the events), and
    /// how many events had no unit.
    pub fn finish(mut self, opts: &PanelOptions) -> Result<(Panel, usize), ForecastError> {
        let kind = self.kind;
        let Some((first_seen, last_seen)) = self.months else {
            return Err(ForecastError::NoUnits { unit: kind.to_string(), what: what_is_missing(kind) });
        };
        for (u, (la, lo, n)) in self.coord_sums.iter().enumerate() {
            self.units[u].centroid = if kind == UnitKind::Grid {
                self.units[u].id.parse().ok().map(vitalcore_framework::domain::prio_grid_centre)
            } else {
                (*n > 0.0).then(|| (la / n, lo / n))
            };
        }
        if kind == UnitKind::Grid && opts.grid_neighbours {
            add_grid_neighbours(&mut self.units, &mut self.index);
        }
        let first = opts.first.unwrap_or(first_seen);
        let last = opts.last.unwrap_or(last_seen);
        let months = (last.index() - first.index() + 1).max(1) as usize;
        let n = self.units.len() * months;
        // The panel's cell of a unit and month index, if the month is inside it.
        let cell = |u: usize, m: i32| {
            let t = m - first.index();
            (t >= 0 && (t as usize) < months).then(|| u * months + t as usize)
        };
        let mut fatalities = vec![0.0; n];
        let mut events = vec![0.0; n];
        for (&(u, m), &(f, count)) in &self.targets {
            if let Some(c) = cell(u, m) {
                fatalities[c] += f;
                events[c] += count;
            }
        }
        let top_types = self.most_frequent_types(opts.max_event_types);
        let mut event_types: Vec<(String, Vec<f64>)> =
            top_types.iter().map(|&t| (self.types.list[t].clone(), vec![0.0; n])).collect();
        for (&(u, m, t), &count) in &self.type_cells {
            if let (Some(k), Some(c)) = (top_types.iter().position(|&top| top == t), cell(u, m)) {
                event_types[k].1[c] += count;
            }
        }
        let mut community: Vec<(String, Vec<f64>)> = Vec::new();
        for d in self.dimensions_in_order(first.index(), last.index().max(first.index())) {
            let mut series = vec![0.0; n];
            for (&(dim, u, m), &count) in &self.community_cells {
                if let (true, Some(c)) = (dim == d, cell(u, m)) {
                    series[c] += count;
                }
            }
            community.push((self.dimensions.list[d].clone(), series));
        }
        let neighbours = neighbours_of(&self.units, kind);
        let panel =
            Panel { kind, first, months, units: self.units, fatalities, events, event_types, community, neighbours };
        Ok((panel, self.skipped))
    }

    /// The most frequent event types of event data, at most `max` (none
    /// when there is only one: it carries nothing beyond the event count).
    fn most_frequent_types(&self, max: usize) -> Vec<usize> {
        let mut v: Vec<(usize, usize)> = self.type_counts.iter().copied().enumerate().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(self.types.list[a.0].cmp(&self.types.list[b.0])));
        if v.len() < 2 {
            return Vec::new();
        }
        v.into_iter().take(max).map(|(t, _)| t).collect()
    }

    /// Dimensions with a report in the months `first..=last`, in the order
    /// of their first such report.
    fn dimensions_in_order(&self, first: i32, last: i32) -> Vec<usize> {
        let mut earliest: HashMap<usize, u64> = HashMap::new();
        for (&(d, m), &at) in &self.first_report {
            if (first..=last).contains(&m) {
                let e = earliest.entry(d).or_insert(at);
                *e = (*e).min(at);
            }
        }
        let mut order: Vec<(u64, usize)> = earliest.into_iter().map(|(d, at)| (at, d)).collect();
        order.sort_unstable();
        order.into_iter().map(|(_, d)| d).collect()
    }
}

fn what_is_missing(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Country => "a country",
        UnitKind::Admin1 => "an admin1 name or P-code",
        UnitKind::Admin2 => "an admin2 name or P-code",
        UnitKind::Grid => "coordinates",
    }
}

/// The unit key and display name of an event. Admin units use the P-code when
/// it was resolved, else `country/admin1[/admin2]` names.
fn unit_key(e: &Event, kind: UnitKind) -> Option<(String, String)> {
    let p = &e.place;
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let country = nonempty(&p.country).or_else(|| nonempty(&p.iso3)).unwrap_or_default();
    match kind {
        UnitKind::Country => nonempty(&p.country).or_else(|| nonempty(&p.iso3)).map(|c| (c.clone(), c)),
        UnitKind::Admin1 => {
            let name = nonempty(&p.admin1);
            match nonempty(&p.admin1_pcode) {
                Some(code) => Some((code.clone(), name.unwrap_or(code))),
                None => name.map(|n| (format!("{country}/{n}"), n)),
            }
        }
        UnitKind::Admin2 => {
            let name = nonempty(&p.admin2);
            match nonempty(&p.admin2_pcode) {
                Some(code) => Some((code.clone(), name.unwrap_or(code))),
                None => name.map(|n| {
                    let a1 = nonempty(&p.admin1).unwrap_or_default();
                    (format!("{country}/{a1}/{n}"), n)
                }),
            }
        }
        UnitKind::Grid => {
            let (lon, lat) = p.point()?;
            let gid = prio_grid_gid(lat, lon)?;
            Some((gid.to_string(), format!("cell {gid}")))
        }
    }
}

/// The 8 PRIO-GRID cells around a cell (no wrap at the date line).
pub fn grid_neighbour_gids(gid: u32) -> Vec<u32> {
    let (row, col) = ((gid - 1) / 720, (gid - 1) % 720);
    let mut out = Vec::with_capacity(8);
    for dr in -1i32..=1 {
        for dc in -1i32..=1 {
            let (r, c) = (row as i32 + dr, col as i32 + dc);
            if (dr, dc) != (0, 0) && (0..360).contains(&r) && (0..720).contains(&c) {
                out.push(r as u32 * 720 + c as u32 + 1);
            }
        }
    }
    out
}

fn add_grid_neighbours(units: &mut Vec<Unit>, index: &mut HashMap<String, usize>) {
    let gids: Vec<u32> = units.iter().filter_map(|u| u.id.parse().ok()).collect();
    for gid in gids {
        for n in grid_neighbour_gids(gid) {
            let id = n.to_string();
            if !index.contains_key(&id) {
                index.insert(id.clone(), units.len());
                let centroid = Some(vitalcore_framework::domain::prio_grid_centre(n));
                units.push(Unit { id, name: format!("cell {n}"), country: None, centroid });
            }
        }
    }
}

/// How many nearest units count as neighbours of an admin unit or country.
pub const NEAREST_NEIGHBOURS: usize = 4;

/// Neighbours: for grid cells the 8 adjacent cells present in the panel; for
/// admin units the [`NEAREST_NEIGHBOURS`] units of the same country whose
/// event centroids are nearest (or every unit of the country when a unit has
/// no coordinates); for countries the nearest countries by centroid.
pub fn neighbours_of(units: &[Unit], kind: UnitKind) -> Vec<Vec<usize>> {
    if kind == UnitKind::Grid {
        let index: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
        return units
            .iter()
            .map(|u| match u.id.parse::<u32>() {
                Ok(gid) => {
                    grid_neighbour_gids(gid).iter().filter_map(|n| index.get(n.to_string().as_str()).copied()).collect()
                }
                Err(_) => Vec::new(),
            })
            .collect();
    }
    units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let same_area = |j: usize| kind == UnitKind::Country || units[j].country == u.country;
            let candidates: Vec<usize> = (0..units.len()).filter(|&j| j != i && same_area(j)).collect();
            let Some((la, lo)) = u.centroid else { return candidates };
            let mut by_distance: Vec<(f64, usize)> = candidates
                .into_iter()
                .map(|j| {
                    let d =
                        units[j].centroid.map(|(b, c)| (b - la).powi(2) + ((c - lo) * la.to_radians().cos()).powi(2));
                    (d.unwrap_or(f64::INFINITY), j)
                })
                .collect();
            by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
            by_distance.into_iter().take(NEAREST_NEIGHBOURS).map(|(_, j)| j).collect()
        })
        .collect()
}
