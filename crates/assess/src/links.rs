//! Threat interconnection for assessments: the events' dimension counts as a
//! unit x month panel, and an area's strongest significant links
//! (`vitalcore-network`: lagged within-unit correlation, permutation test,
//! Benjamini-Hochberg false-discovery rate).

use crate::assess::AssessOptions;
use crate::units::unit_of;
use std::collections::BTreeMap;
use vitalcore_framework::{Event, Framework, Month};
use vitalcore_network::{DimensionPanel, NetworkConfig, unit_network};
use vitalcore_proto::ThreatLink;

/// Events per unit, month and dimension in the options' range, zeros
/// filled; `only_unit` restricts it to one unit id. None when no event in
/// range has a unit.
pub fn dimension_panel(events: &[Event], fw: &Framework, opts: &AssessOptions, only_unit: Option<&str>) -> Option<DimensionPanel> {
    let dimensions: Vec<String> = fw.dimension_ids().map(str::to_string).collect();
    let mut cells: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    // Event data only: community reports measure who speaks up as much as
    // what happens, and would link dimensions through reporting habits.
    for e in events.iter().filter(|e| e.provenance.source.is_event_data()) {
        let month = Month::of(e.date);
        if month < opts.from || month > opts.to {
            continue;
        }
        let Some((unit, _)) = unit_of(e, opts.unit) else { continue };
        if only_unit.is_some_and(|u| u != unit) {
            continue;
        }
        let m = (month.index() - opts.from.index()) as usize;
        let list = cells.entry(unit).or_default();
        for d in &e.tags.dimensions {
            if let Some(i) = dimensions.iter().position(|x| x == d) {
                list.push((m, i));
            }
        }
    }
    if cells.is_empty() {
        return None;
    }
    let months = opts.from.through(opts.to).map(|m| m.to_string()).collect();
    let mut panel = DimensionPanel::zeros(cells.keys().cloned().collect(), months, dimensions);
    for (u, list) in cells.values().enumerate() {
        for &(m, d) in list {
            panel.set(u, m, d, panel.get(u, m, d) + 1.0);
        }
    }
    Some(panel)
}

/// The `limit` strongest links of one area kept at a 10% false-discovery
/// rate. 199 permutations keep a page view fast; `vitalcore network` runs 999.
pub fn area_links(events: &[Event], fw: &Framework, opts: &AssessOptions, unit_id: &str, limit: usize) -> Vec<ThreatLink> {
    let Some(panel) = dimension_panel(events, fw, opts, Some(unit_id)) else { return Vec::new() };
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
