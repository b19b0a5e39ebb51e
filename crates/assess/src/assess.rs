//! The assessment: events grouped by unit, period and category, scored.

use crate::period::{Period, Span};
use crate::scores::{self, ScoreParams};
use crate::table::EventTable;
use std::collections::BTreeMap;
use vitalcore_framework::{Event, Framework, Month, UnitKind};
use vitalcore_proto::{Assessment, AssessmentRow, ScoreComponents};

#[derive(Debug, Clone)]
pub struct AssessOptions {
    pub unit: UnitKind,
    pub from: Month,
    pub to: Month,
    pub period: Period,
    pub params: ScoreParams,
    /// Display names of areas by P-code (from loaded boundaries), preferred
    /// over the names the sources spell.
    pub area_names: BTreeMap<String, String>,
}

impl AssessOptions {
    pub fn new(unit: UnitKind, from: Month, to: Month, period: Period) -> AssessOptions {
        AssessOptions { unit, from, to, period, params: ScoreParams::default(), area_names: BTreeMap::new() }
    }
}

/// Assesses `events` (any order; those outside the range are skipped).
/// Builds an [`EventTable`] of them; a caller that assesses the same events
/// again should keep the table.
pub fn assess<'a>(events: impl IntoIterator<Item = &'a Event>, fw: &Framework, opts: &AssessOptions) -> Assessment {
    EventTable::new(events).assess(fw, opts)
}

pub(crate) fn category_order(fw: &Framework) -> BTreeMap<&str, usize> {
    fw.dimension_ids().chain(fw.theme_ids()).enumerate().map(|(i, id)| (id, i)).collect()
}

/// The totals of one (unit, period, category) cell, as scored.
pub(crate) struct CellTotals<'a> {
    /// The name the cell's first event gives its unit.
    pub unit_name: &'a str,
    pub events: u64,
    pub fatalities: u64,
    pub civilian_fatalities: u64,
    pub reports: u64,
    pub by_severity: [u64; 5],
    pub severity_weight: f64,
    pub localities_affected: u64,
    pub localities_known: u64,
    pub weeks_affected: u64,
}

/// Scores one cell (`kind` 0 is a dimension, 1 a theme).
pub(crate) fn score_cell(
    unit_id: &str,
    span: &Span,
    kind: u8,
    category: &str,
    cell: &CellTotals<'_>,
    fw: &Framework,
    opts: &AssessOptions,
) -> AssessmentRow {
    let p = &opts.params;
    let months = span.months() as f64;
    let harm = (cell.severity_weight + cell.fatalities as f64 + cell.civilian_fatalities as f64) / months;
    let (localities_affected, localities_known) = (cell.localities_affected, cell.localities_known);
    let weeks_in_period = span.weeks();
    let spatial = scores::share(localities_affected, localities_known);
    let temporal = scores::share(cell.weeks_affected, weeks_in_period);
    let frequency = scores::frequency(cell.events as f64 / months, p);
    let critical = scores::round2(scores::critical(harm, p));
    let pervasive = scores::round2(scores::pervasive(spatial, temporal, frequency));
    AssessmentRow {
        unit: opts.unit.to_string(),
        unit_id: unit_id.to_string(),
        unit_name: opts.area_names.get(unit_id).cloned().unwrap_or_else(|| cell.unit_name.to_string()),
        period: span.label.clone(),
        category_kind: if kind == 0 { "dimension" } else { "theme" }.to_string(),
        category: category.to_string(),
        events: cell.events,
        fatalities: cell.fatalities,
        civilian_fatalities: cell.civilian_fatalities,
        reports: cell.reports,
        critical,
        pervasive,
        band: fw.band(critical.max(pervasive)).id.clone(),
        priority: critical >= p.priority_threshold && pervasive >= p.priority_threshold,
        components: ScoreComponents {
            events_by_severity: cell.by_severity.to_vec(),
            severity_weight: cell.severity_weight,
            harm,
            harm_reference: p.harm_reference,
            localities_affected,
            localities_known,
            spatial_spread: scores::round2(spatial),
            weeks_affected: cell.weeks_affected,
            weeks_in_period,
            temporal_spread: scores::round2(temporal),
            event_reference: p.event_reference,
            frequency: scores::round2(frequency),
        },
    }
}
