//! The string-keyed implementation that `EventTable` replaced (as of commit
//! 979448e), kept as the reference its answers are checked against: every
//! event grouped by owned strings, one pass per call.

use std::collections::{BTreeMap, HashMap, HashSet};
use vitalcore_assess::period::Span;
use vitalcore_assess::units::{locality_of, unit_of};
use vitalcore_assess::{AssessOptions, Period, scores};
use vitalcore_framework::{Event, Framework, Month, Source};
use vitalcore_proto::{
    AreaProfile, AreaSummary, Assessment, AssessmentRow, ProfileDimension, ScoreComponents, TrendPoint,
};
use vitalcore_threat_links::DimensionPanel;

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
    kind: u8,
    order: usize,
    category: String,
}

pub fn assess<'a>(events: impl IntoIterator<Item = &'a Event>, fw: &Framework, opts: &AssessOptions) -> Assessment {
    let mut cells: HashMap<CellKey, Cell> = HashMap::new();
    let mut known_localities: HashMap<String, HashSet<String>> = HashMap::new();
    let (mut unplaced, mut unplaced_reports) = (0u64, 0u64);
    let order: BTreeMap<&str, usize> =
        fw.dimension_ids().chain(fw.theme_ids()).enumerate().map(|(i, id)| (id, i)).collect();
    for event in events {
        let month = Month::of(event.date);
        if month < opts.from || month > opts.to {
            continue;
        }
        let report = event.provenance.source == Source::CommunityReport;
        let Some((unit_id, unit_name)) = unit_of(event, opts.unit) else {
            if report {
                unplaced_reports += 1
            } else {
                unplaced += 1
            }
            continue;
        };
        let locality = locality_of(event);
        if let Some(l) = locality.as_ref().filter(|_| !report) {
            known_localities.entry(unit_id.clone()).or_default().insert(l.clone());
        }
        let span = opts.period.span_of(month, opts.from, opts.to);
        let week = (event.date - span.first_day()).get_days() as i64 / 7;
        let categories =
            event.tags.dimensions.iter().map(|d| (0u8, d)).chain(event.tags.themes.iter().map(|t| (1u8, t)));
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
            if event.provenance.source == Source::CommunityReport {
                cell.reports += 1;
                continue;
            }
            cell.events += 1;
            cell.fatalities += event.fatalities as u64;
            cell.civilian_fatalities += event.civilian_fatalities.unwrap_or(0) as u64;
            cell.by_severity[(event.tags.severity as usize).min(4)] += 1;
            cell.severity_weight += fw.severity_weight(event.tags.severity);
            if let Some(l) = &locality {
                cell.localities.insert(l.clone());
            }
            cell.weeks.insert(week);
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
        unplaced_reports,
    }
}

fn score_cell(
    key: &CellKey,
    cell: &Cell,
    localities_known: u64,
    fw: &Framework,
    opts: &AssessOptions,
) -> AssessmentRow {
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

fn names_unit(query: &str, id: &str, name: &str) -> bool {
    id.eq_ignore_ascii_case(query) || name.to_lowercase() == query.to_lowercase()
}

/// `events` as the server and the CLI pass them: already within the range.
pub fn profile(events: &[Event], fw: &Framework, opts: &AssessOptions, query: &str) -> Option<AreaProfile> {
    let mine: Vec<&Event> = events
        .iter()
        .filter(|e| {
            unit_of(e, opts.unit).is_some_and(|(id, name)| {
                names_unit(query, &id, &name) || opts.area_names.get(&id).is_some_and(|n| names_unit(query, &id, n))
            })
        })
        .collect();
    let (unit_id, name) = unit_of(mine.first()?, opts.unit)?;
    let name = opts.area_names.get(&unit_id).cloned().unwrap_or(name);
    let whole = AssessOptions { period: Period::All, ..opts.clone() };
    let totals = assess(mine.iter().copied(), fw, &whole);
    let trends = monthly_trends(&mine, opts.from, opts.to);
    let mut dimensions = Vec::new();
    let mut themes = Vec::new();
    for row in totals.rows {
        let trend = trends.get(&row.category).cloned().unwrap_or_default();
        let entry = ProfileDimension {
            category_kind: row.category_kind.clone(),
            category: row.category.clone(),
            label: fw.label(&row.category, "en").to_string(),
            total: row,
            trend,
        };
        if entry.category_kind == "dimension" { dimensions.push(entry) } else { themes.push(entry) }
    }
    let in_range: Vec<&&Event> = mine.iter().filter(|e| (opts.from..=opts.to).contains(&Month::of(e.date))).collect();
    let (reports, in_range): (Vec<&&Event>, Vec<&&Event>) =
        in_range.into_iter().partition(|e| e.provenance.source == Source::CommunityReport);
    let mut sources: BTreeMap<String, u64> = BTreeMap::new();
    for e in &in_range {
        *sources.entry(e.provenance.source.to_string()).or_default() += 1;
    }
    Some(AreaProfile {
        unit: opts.unit.to_string(),
        unit_id,
        name,
        from: opts.from.to_string(),
        to: opts.to.to_string(),
        events: in_range.len() as u64,
        fatalities: in_range.iter().map(|e| e.fatalities as u64).sum(),
        civilian_fatalities: in_range.iter().map(|e| e.civilian_fatalities.unwrap_or(0) as u64).sum(),
        reports: reports.len() as u64,
        dimensions,
        themes,
        sources: sources.into_iter().collect(),
        links: Vec::new(),
        risk: None,
    })
}

fn monthly_trends(events: &[&Event], from: Month, to: Month) -> BTreeMap<String, Vec<TrendPoint>> {
    let months: Vec<Month> = from.through(to).collect();
    let mut out: BTreeMap<String, Vec<TrendPoint>> = BTreeMap::new();
    for e in events {
        let month = Month::of(e.date);
        if month < from || month > to {
            continue;
        }
        let i = (month.index() - from.index()) as usize;
        for category in e.tags.dimensions.iter().chain(&e.tags.themes) {
            let series = out.entry(category.clone()).or_insert_with(|| {
                months
                    .iter()
                    .map(|m| TrendPoint { month: m.to_string(), events: 0, fatalities: 0, reports: 0 })
                    .collect()
            });
            if e.provenance.source == Source::CommunityReport {
                series[i].reports += 1;
            } else {
                series[i].events += 1;
                series[i].fatalities += e.fatalities as u64;
            }
        }
    }
    out
}

pub fn summaries(events: &[Event], fw: &Framework, opts: &AssessOptions, level: u8) -> Vec<AreaSummary> {
    let whole = AssessOptions { period: Period::All, ..opts.clone() };
    let assessment: Assessment = assess(events, fw, &whole);
    let mut by_unit: BTreeMap<String, AreaSummary> = BTreeMap::new();
    for e in events.iter().filter(|e| (opts.from..=opts.to).contains(&Month::of(e.date))) {
        if e.provenance.source == Source::CommunityReport {
            continue;
        }
        let Some((id, name)) = unit_of(e, opts.unit) else { continue };
        let name = opts.area_names.get(&id).cloned().unwrap_or(name);
        let s = by_unit.entry(id.clone()).or_insert_with(|| AreaSummary {
            unit_id: id,
            name,
            level,
            events: 0,
            fatalities: 0,
            top_dimension: None,
            critical: 0.0,
            pervasive: 0.0,
        });
        s.events += 1;
        s.fatalities += e.fatalities as u64;
    }
    for row in assessment.rows.iter().filter(|r| r.category_kind == "dimension") {
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

pub fn dimension_panel(
    events: &[Event],
    fw: &Framework,
    opts: &AssessOptions,
    only_unit: Option<&str>,
) -> Option<DimensionPanel> {
    let dimensions: Vec<String> = fw.dimension_ids().map(str::to_string).collect();
    let mut cells: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
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
