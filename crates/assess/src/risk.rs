//! An area's risk, INFORM-style: hazard from its threat profile, and
//! vulnerability and lack of coping capacity from the indicator tables (HXL)
//! in the store, through a composite-index tree (`vitalcore-risk-index`, default
//! tree `crates/risk-index/data/local-risk.toml`).
//!
//! Hazard (0-10) = over the last 12 months of the range, the highest mean of
//! critical and pervasive among the dimensions: the worst threat sets the
//! hazard, as INFORM takes conflict intensity from the worst conflict.
//!
//! Indicators from HXL rows: a tree input with tag `#affected+infected`
//! matches every column whose hashtag is `#affected` and whose attributes
//! include `+infected`. For each area, matching column and locality within
//! the area, the latest dated value counts; localities are summed (counts)
//! or averaged (inputs whose tag has `+pct`); across several matching columns
//! the largest total is taken (tables often give new, confirmed and total
//! side by side, and summing them would count people twice).

use crate::assess::AssessOptions;
use crate::period::Period;
use crate::table::EventTable;
use crate::units::unit_of;
use serde::Serialize;
use std::collections::BTreeMap;
use vitalcore_framework::{Event, Framework, Observation, UnitKind};
use vitalcore_risk_index::{Inputs, Tree, local_risk};

/// One area's risk and its components (0-10; None when inputs are missing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRisk {
    pub unit_id: String,
    pub hazard: Option<f64>,
    pub vulnerability: Option<f64>,
    pub coping: Option<f64>,
    pub risk: Option<f64>,
    pub missing_inputs: Vec<String>,
}

/// Risk for every area with events or indicators.
pub fn area_risks(
    events: &[Event],
    observations: &[Observation],
    fw: &Framework,
    opts: &AssessOptions,
    tree: &Tree,
) -> Vec<AreaRisk> {
    area_risks_in(&EventTable::new(events), observations, fw, opts, tree)
}

/// [`area_risks`] of the events of a table.
pub fn area_risks_in(
    table: &EventTable,
    observations: &[Observation],
    fw: &Framework,
    opts: &AssessOptions,
    tree: &Tree,
) -> Vec<AreaRisk> {
    let hazard = hazard_in(table, fw, opts);
    let indicators = indicators_by_area(observations, opts.unit, tree);
    local_risk(tree, &indicators, &hazard)
        .into_iter()
        .map(|s| AreaRisk {
            hazard: s.components.get("hazard").copied().flatten(),
            vulnerability: s.components.get("vulnerability").copied().flatten(),
            coping: s.components.get("coping").copied().flatten(),
            risk: s.risk,
            missing_inputs: s.missing_inputs,
            unit_id: s.area,
        })
        .collect()
}

/// Highest mean of critical and pervasive over the dimensions, last 12 months.
pub fn hazard_by_area(events: &[Event], fw: &Framework, opts: &AssessOptions) -> BTreeMap<String, f64> {
    hazard_in(&EventTable::new(events), fw, opts)
}

/// [`hazard_by_area`] of the events of a table.
pub fn hazard_in(table: &EventTable, fw: &Framework, opts: &AssessOptions) -> BTreeMap<String, f64> {
    let recent = AssessOptions { from: opts.from.max(opts.to.plus(-11)), period: Period::All, ..opts.clone() };
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for row in table.assess(fw, &recent).rows.iter().filter(|r| r.category_kind == "dimension") {
        let h = (row.critical + row.pervasive) / 2.0;
        let entry = out.entry(row.unit_id.clone()).or_insert(0.0);
        *entry = entry.max(h);
    }
    out
}

/// An HXL tag: (hashtag, attributes), lower case.
type HxlTag = (String, Vec<String>);

/// The [`HxlTag`] of a tag spec such as `#affected +infected+new`.
fn parse_tag(spec: &str) -> HxlTag {
    let compact: String = spec.split_whitespace().collect();
    let mut parts = compact.split('+');
    let hashtag = parts.next().unwrap_or_default().to_ascii_lowercase();
    (hashtag, parts.filter(|p| !p.is_empty()).map(|p| p.to_ascii_lowercase()).collect())
}

fn matches(input: &HxlTag, column: &HxlTag) -> bool {
    input.0 == column.0 && input.1.iter().all(|a| column.1.contains(a))
}

fn number(text: &str) -> Option<f64> {
    let cleaned: String = text.trim().chars().filter(|c| !matches!(c, ',' | ' ' | '%')).collect();
    cleaned.parse().ok().filter(|v: &f64| v.is_finite())
}

/// Tree inputs per area from HXL rows (see the module comment for the rule).
pub fn indicators_by_area(observations: &[Observation], unit: UnitKind, tree: &Tree) -> BTreeMap<String, Inputs> {
    let wanted: Vec<(&str, HxlTag, bool)> = tree
        .inputs
        .iter()
        .filter_map(|i| {
            let tag = parse_tag(i.hxl.as_deref()?);
            let pct = tag.1.iter().any(|a| a == "pct");
            Some((i.id.as_str(), tag, pct))
        })
        .collect();
    // (area, input, column spec, locality) -> (date, value): the latest value wins.
    type Key = (String, String, String, String);
    let mut latest: BTreeMap<Key, (Option<jiff::civil::Date>, f64)> = BTreeMap::new();
    for obs in observations {
        let Some(area) = area_of(obs, unit) else { continue };
        let locality = obs.place.location.clone().or_else(|| obs.place.admin2.clone()).unwrap_or_default();
        for (spec, value) in &obs.values {
            let column = parse_tag(spec);
            let Some(v) = number(value) else { continue };
            for (id, tag, _) in &wanted {
                if !matches(tag, &column) {
                    continue;
                }
                let key = (area.clone(), id.to_string(), spec.clone(), locality.clone());
                let newer = latest.get(&key).is_none_or(|(d, _)| obs.date >= *d);
                if newer {
                    latest.insert(key, (obs.date, v));
                }
            }
        }
    }
    // Sum or average localities per column, then the largest column per input.
    let mut per_column: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for ((area, id, spec, _), (_, v)) in latest {
        per_column.entry((area, id, spec)).or_default().push(v);
    }
    let mut out: BTreeMap<String, Inputs> = BTreeMap::new();
    for ((area, id, _), values) in per_column {
        let pct = wanted.iter().any(|(w, _, p)| *w == id && *p);
        let total = if pct { values.iter().sum::<f64>() / values.len() as f64 } else { values.iter().sum() };
        let inputs = out.entry(area).or_default();
        let slot = inputs.entry(id).or_insert(f64::MIN);
        *slot = slot.max(total);
    }
    out
}

/// The unit an HXL row belongs to: its resolved P-code, else its names.
fn area_of(obs: &Observation, unit: UnitKind) -> Option<String> {
    let as_event = Event {
        provenance: obs.provenance.clone(),
        date: obs.date.unwrap_or(jiff::civil::date(2000, 1, 1)),
        date_end: None,
        place: obs.place.clone(),
        event_type: String::new(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities: 0,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: obs.tags.clone(),
    };
    unit_of(&as_event, unit).map(|(id, _)| id)
}

impl From<AreaRisk> for vitalcore_proto::RiskSummary {
    fn from(r: AreaRisk) -> Self {
        vitalcore_proto::RiskSummary {
            hazard: r.hazard,
            vulnerability: r.vulnerability,
            coping: r.coping,
            risk: r.risk,
            missing_inputs: r.missing_inputs,
        }
    }
}

/// The risk summary of one unit, for its profile.
pub fn area_risk(
    events: &[Event],
    observations: &[Observation],
    fw: &Framework,
    opts: &AssessOptions,
    tree: &Tree,
    unit_id: &str,
) -> Option<vitalcore_proto::RiskSummary> {
    area_risk_in(&EventTable::new(events), observations, fw, opts, tree, unit_id)
}

/// [`area_risk`] of the events of a table.
pub fn area_risk_in(
    table: &EventTable,
    observations: &[Observation],
    fw: &Framework,
    opts: &AssessOptions,
    tree: &Tree,
    unit_id: &str,
) -> Option<vitalcore_proto::RiskSummary> {
    area_risks_in(table, observations, fw, opts, tree).into_iter().find(|r| r.unit_id == unit_id).map(Into::into)
}
