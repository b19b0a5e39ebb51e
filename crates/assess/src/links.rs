//! Threat interconnection for assessments: the events' dimension counts as a
//! unit x month panel, and an area's strongest significant links
//! (`vitalcore-threat-links`: lagged within-unit correlation, permutation test,
//! Benjamini-Hochberg false-discovery rate). The work is done by
//! [`EventTable`]; these build one for a single call.

use crate::assess::AssessOptions;
use crate::table::EventTable;
use vitalcore_framework::{Event, Framework};
use vitalcore_proto::ThreatLink;
use vitalcore_threat_links::DimensionPanel;

/// Events per unit, month and dimension in the options' range, zeros
/// filled; `only_unit` restricts it to one unit id. None when no event in
/// range has a unit. Event data only (no community reports).
pub fn dimension_panel(
    events: &[Event],
    fw: &Framework,
    opts: &AssessOptions,
    only_unit: Option<&str>,
) -> Option<DimensionPanel> {
    EventTable::new(events).dimension_panel(fw, opts, only_unit)
}

/// The `limit` strongest links of one area kept at a 10% false-discovery
/// rate. 199 permutations keep a page view fast; `vitalcore network` runs 999.
pub fn area_links(
    events: &[Event],
    fw: &Framework,
    opts: &AssessOptions,
    unit_id: &str,
    limit: usize,
) -> Vec<ThreatLink> {
    EventTable::new(events).area_links(fw, opts, unit_id, limit)
}
