//! One area's profile: totals, scores and monthly trend per dimension and
//! theme; and the per-area summaries a map colours by.

use crate::assess::{AssessOptions, assess};
use crate::period::Period;
use crate::units::unit_of;
use std::collections::BTreeMap;
use vitalcore_framework::{Event, Framework, Month};
use vitalcore_proto::{AreaProfile, AreaSummary, Assessment, ProfileDimension, TrendPoint};

/// Does `query` name this unit? Matches the id (P-code) exactly or the name
/// case-insensitively.
fn names_unit(query: &str, id: &str, name: &str) -> bool {
    id.eq_ignore_ascii_case(query) || name.to_lowercase() == query.to_lowercase()
}

/// The profile of the unit named `query` (P-code, id or name), or None when
/// no event in range belongs to it.
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
    // Localities known must come from the whole unit, so assess all of its events.
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
        dimensions,
        themes,
        sources: sources.into_iter().collect(),
        links: Vec::new(),
        risk: None,
    })
}

/// Per category, one point per month in range (zeros included).
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
                months.iter().map(|m| TrendPoint { month: m.to_string(), events: 0, fatalities: 0 }).collect()
            });
            series[i].events += 1;
            series[i].fatalities += e.fatalities as u64;
        }
    }
    out
}

/// Per unit: event totals and the highest-scoring dimension over the range
/// (one period), for a map.
pub fn summaries(events: &[Event], fw: &Framework, opts: &AssessOptions, level: u8) -> Vec<AreaSummary> {
    let whole = AssessOptions { period: Period::All, ..opts.clone() };
    let assessment: Assessment = assess(events, fw, &whole);
    let mut by_unit: BTreeMap<String, AreaSummary> = BTreeMap::new();
    for e in events.iter().filter(|e| (opts.from..=opts.to).contains(&Month::of(e.date))) {
        if e.provenance.source == vitalcore_framework::Source::CommunityReport {
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
