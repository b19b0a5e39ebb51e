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
#[derive(Debug, Clone)]
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
    /// and counted in the returned number.
    pub fn from_events(events: &[Event], kind: UnitKind, opts: &PanelOptions) -> Result<(Panel, usize), ForecastError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut units: Vec<Unit> = Vec::new();
        let mut coord_sums: Vec<(f64, f64, f64)> = Vec::new();
        let mut placed: Vec<(usize, Month, &Event)> = Vec::with_capacity(events.len());
        let mut skipped = 0;
        for e in events {
            let Some((id, name)) = unit_key(e, kind) else {
                skipped += 1;
                continue;
            };
            let u = *index.entry(id.clone()).or_insert_with(|| {
                units.push(Unit { id, name, country: e.place.country.clone(), centroid: None });
                coord_sums.push((0.0, 0.0, 0.0));
                units.len() - 1
            });
            if let Some((lon, lat)) = e.place.point() {
                coord_sums[u].0 += lat;
                coord_sums[u].1 += lon;
                coord_sums[u].2 += 1.0;
            }
            placed.push((u, Month::of(e.date), e));
        }
        if units.is_empty() {
            return Err(ForecastError::NoUnits { unit: kind.to_string(), what: what_is_missing(kind) });
        }
        for (u, (la, lo, n)) in coord_sums.iter().enumerate() {
            units[u].centroid = if kind == UnitKind::Grid {
                units[u].id.parse().ok().map(vitalcore_framework::domain::prio_grid_centre)
            } else {
                (*n > 0.0).then(|| (la / n, lo / n))
            };
        }
        if kind == UnitKind::Grid && opts.grid_neighbours {
            add_grid_neighbours(&mut units, &mut index);
        }
        let first = opts.first.unwrap_or_else(|| placed.iter().map(|p| p.1).min().expect("units imply events"));
        let last = opts.last.unwrap_or_else(|| placed.iter().map(|p| p.1).max().expect("units imply events"));
        let months = (last.index() - first.index() + 1).max(1) as usize;
        let n = units.len() * months;
        let top_types = most_frequent_types(&placed, opts.max_event_types);
        let mut panel = Panel {
            kind,
            first,
            months,
            fatalities: vec![0.0; n],
            events: vec![0.0; n],
            event_types: top_types.iter().map(|t| (t.clone(), vec![0.0; n])).collect(),
            community: Vec::new(),
            neighbours: Vec::new(),
            units,
        };
        let mut dim_index: HashMap<String, usize> = HashMap::new();
        for (u, m, e) in placed {
            let t = m.index() - first.index();
            if t < 0 || t as usize >= months {
                continue;
            }
            let cell = u * months + t as usize;
            if e.provenance.source == Source::CommunityReport {
                for d in &e.tags.dimensions {
                    let k = *dim_index.entry(d.clone()).or_insert_with(|| {
                        panel.community.push((d.clone(), vec![0.0; n]));
                        panel.community.len() - 1
                    });
                    panel.community[k].1[cell] += 1.0;
                }
                continue;
            }
            panel.fatalities[cell] += e.fatalities as f64;
            panel.events[cell] += 1.0;
            if let Some(k) = top_types.iter().position(|t| *t == e.event_type) {
                panel.event_types[k].1[cell] += 1.0;
            }
        }
        panel.neighbours = neighbours_of(&panel.units, kind);
        Ok((panel, skipped))
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

fn most_frequent_types(placed: &[(usize, Month, &Event)], max: usize) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, _, e) in placed.iter().filter(|p| p.2.provenance.source.is_event_data()) {
        if !e.event_type.is_empty() {
            *counts.entry(e.event_type.as_str()).or_default() += 1;
        }
    }
    let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if v.len() < 2 {
        return Vec::new(); // one type carries no information beyond the event count
    }
    v.into_iter().take(max).map(|(t, _)| t.to_string()).collect()
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
