//! `Panel::from_events` as it was when it held every event in memory (all
//! events placed, then counted), kept as the reference the streaming
//! `PanelBuilder` behind it now is checked against.

use std::collections::HashMap;
use vitalcore_forecast::panel::{Unit, grid_neighbour_gids, neighbours_of};
use vitalcore_forecast::{ForecastError, Panel, PanelOptions};
use vitalcore_framework::{Event, Month, Source, UnitKind, prio_grid_gid};

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
        return Err(ForecastError::NoUnits { unit: kind.to_string(), what: "a unit" });
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
