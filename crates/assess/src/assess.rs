//! The assessment: events grouped by unit, period and category, scored.

use crate::period::{Period, Span};
use crate::scores::{self, ScoreParams};
use crate::units::{locality_of, unit_of};
use std::collections::{BTreeMap, HashMap, HashSet};
use vitalcore_framework::{Event, Framework, Month, Source, UnitKind};
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

/// Running totals of one (unit, period, category) cell.
#[derive(Default)]
struct Cell {
    unit_name: String,
    events: u64,
    fatalities: u64,
    civilian_fatalities: u64,
    reports: u64,
    by_severity: [u64; 5],
    severity_weight: f64,
    localities: HashSet<String>,
    weeks: HashSet<i64>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, Clone)]
struct CellKey {
    unit_id: String,
    span: Span,
    /// 0 = dimension, 1 = theme; then the framework's order.
    kind: u8,
    order: usize,
    category: String,
}

/// Assesses `events` (any order; those outside the range are skipped).
pub fn assess<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    fw: &Framework,
    opts: &AssessOptions,
) -> Assessment {
    let mut cells: HashMap<CellKey, Cell> = HashMap::new();
    let mut known_localities: HashMap<String, HashSet<String>> = HashMap::new();
    let mut unplaced = 0u64;
    let order = category_order(fw);
    for event in events {
        let month = Month::of(event.date);
        if month < opts.from || month > opts.to {
            continue;
        }
        let Some((unit_id, unit_name)) = unit_of(event, opts.unit) else {
            unplaced += 1;
            continue;
        };
        let locality = locality_of(event);
        if let Some(l) = &locality {
            known_localities.entry(unit_id.clone()).or_default().insert(l.clone());
        }
        let span = opts.period.span_of(month, opts.from, opts.to);
        let week = (event.date - span.first_day()).get_days() as i64 / 7;
        let categories = event.tags.dimensions.iter().map(|d| (0u8, d)).chain(event.tags.themes.iter().map(|t| (1u8, t)));
        for (kind, category) in categories {
            let key = CellKey {
                unit_id: unit_id.clone(),
                span: span.clone(),
                kind,
                order: order.get(category.as_str()).copied().unwrap_or(usize::MAX),
                category: category.clone(),
            };
            let cell = cells.entry(key).or_default();
            if cell.unit_name.is_empty() {
                cell.unit_name = unit_name.clone();
            }
            add_event(cell, event, fw, locality.as_ref(), week);
        }
    }
    let mut keys: Vec<CellKey> = cells.keys().cloned().collect();
    keys.sort();
    let rows = keys
        .into_iter()
        .map(|key| {
            let cell = &cells[&key];
            let known = known_localities.get(&key.unit_id).map_or(0, |s| s.len() as u64);
            score_cell(&key, cell, known, fw, opts)
        })
        .collect();
    Assessment {
        unit: opts.unit.to_string(),
        from: opts.from.to_string(),
        to: opts.to.to_string(),
        period: format!("{:?}", opts.period).to_lowercase(),
        rows,
        unplaced_events: unplaced,
    }
}

fn category_order(fw: &Framework) -> BTreeMap<&str, usize> {
    fw.dimension_ids().chain(fw.theme_ids()).enumerate().map(|(i, id)| (id, i)).collect()
}

fn add_event(cell: &mut Cell, event: &Event, fw: &Framework, locality: Option<&String>, week: i64) {
    // Community reports are shown next to event data, never mixed into its scores.
    if event.provenance.source == Source::CommunityReport {
        cell.reports += 1;
        return;
    }
    cell.events += 1;
    cell.fatalities += event.fatalities as u64;
    cell.civilian_fatalities += event.civilian_fatalities.unwrap_or(0) as u64;
    cell.by_severity[(event.tags.severity as usize).min(4)] += 1;
    cell.severity_weight += fw.severity_weight(event.tags.severity);
    if let Some(l) = locality {
        cell.localities.insert(l.clone());
    }
    cell.weeks.insert(week);
}

fn score_cell(key: &CellKey, cell: &Cell, localities_known: u64, fw: &Framework, opts: &AssessOptions) -> AssessmentRow {
    let p = &opts.params;
    let months = key.span.months() as f64;
    let harm = (cell.severity_weight + cell.fatalities as f64 + cell.civilian_fatalities as f64) / months;
    let localities_affected = cell.localities.len() as u64;
    let weeks_in_period = key.span.weeks();
    let spatial = scores::share(localities_affected, localities_known);
    let temporal = scores::share(cell.weeks.len() as u64, weeks_in_period);
    let frequency = scores::frequency(cell.events as f64 / months, p);
    let critical = scores::round2(scores::critical(harm, p));
    let pervasive = scores::round2(scores::pervasive(spatial, temporal, frequency));
    AssessmentRow {
        unit: opts.unit.to_string(),
        unit_id: key.unit_id.clone(),
        unit_name: opts.area_names.get(&key.unit_id).cloned().unwrap_or_else(|| cell.unit_name.clone()),
        period: key.span.label.clone(),
        category_kind: if key.kind == 0 { "dimension" } else { "theme" }.to_string(),
        category: key.category.clone(),
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
            weeks_affected: cell.weeks.len() as u64,
            weeks_in_period,
            temporal_spread: scores::round2(temporal),
            event_reference: p.event_reference,
            frequency: scores::round2(frequency),
        },
    }
}
