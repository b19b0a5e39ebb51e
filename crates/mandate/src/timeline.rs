//! A mission's mandate over time: the resolutions whose operative paragraphs
//! address it, in order, and what each added to or dropped from the mandate
//! in force, by task, dimension and theme.
//!
//! A resolution that lists the mission's tasks (an operative paragraph naming
//! the mission with points that give tasks: "the mandate of MINUSMA shall be
//! the following: (a) ...") restates the mandate: what it leaves out is
//! dropped. Any other resolution (a technical extension, a request) only adds.

use crate::model::{Kind, Resolution};
use serde::Serialize;
use std::collections::BTreeSet;
use vitalcore_framework::Framework;

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub mission: String,
    pub resolutions: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub symbol: String,
    pub date: String,
    /// `restates` (lists the mandate) or `adds` (extension, request).
    pub kind: &'static str,
    /// The tasks in force after this resolution.
    pub tasks: Vec<String>,
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
    pub added: Change,
    pub dropped: Change,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    pub tasks: Vec<String>,
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
}

/// The timeline of `mission` (an acronym, any case) over tagged resolutions.
pub fn timeline(fw: &Framework, resolutions: &[Resolution], mission: &str) -> Timeline {
    let id = fw.missions.iter().find(|m| m.id.eq_ignore_ascii_case(mission)).map_or(mission, |m| m.id.as_str());
    let mut ordered: Vec<&Resolution> = resolutions.iter().collect();
    ordered.sort_by(|a, b| (&a.date, a.number).cmp(&(&b.date, b.number)));
    let mut in_force: BTreeSet<String> = BTreeSet::new();
    let mut steps = Vec::new();
    for res in ordered {
        let addressing: Vec<_> =
            res.paragraphs.iter().filter(|p| p.kind == Kind::Operative && p.missions.iter().any(|m| m == id)).collect();
        if addressing.is_empty() {
            continue;
        }
        let given: BTreeSet<String> = addressing.iter().flat_map(|p| p.tasks.iter().cloned()).collect();
        let restates = addressing.iter().any(|p| !p.points.is_empty() && !p.tasks.is_empty());
        let before = in_force.clone();
        if restates {
            in_force = given;
        } else {
            in_force.extend(given);
        }
        let (dims_before, themes_before) = facets(fw, &before);
        let (dims, themes) = facets(fw, &in_force);
        steps.push(Step {
            symbol: res.symbol.clone(),
            date: res.date.clone(),
            kind: if restates { "restates" } else { "adds" },
            added: Change {
                tasks: ordered_tasks(fw, in_force.difference(&before)),
                dimensions: dims.iter().filter(|d| !dims_before.contains(d)).cloned().collect(),
                themes: themes.iter().filter(|t| !themes_before.contains(t)).cloned().collect(),
            },
            dropped: Change {
                tasks: ordered_tasks(fw, before.difference(&in_force)),
                dimensions: dims_before.iter().filter(|d| !dims.contains(d)).cloned().collect(),
                themes: themes_before.iter().filter(|t| !themes.contains(t)).cloned().collect(),
            },
            tasks: ordered_tasks(fw, in_force.iter()),
            dimensions: dims,
            themes,
        });
    }
    Timeline { mission: id.to_string(), resolutions: steps }
}

fn ordered_tasks<'a>(fw: &Framework, tasks: impl Iterator<Item = &'a String>) -> Vec<String> {
    let set: BTreeSet<&String> = tasks.collect();
    fw.mandate_tasks.iter().filter(|t| set.contains(&t.id)).map(|t| t.id.clone()).collect()
}

/// The dimensions and themes of a set of tasks, in framework order.
fn facets(fw: &Framework, tasks: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let defs: Vec<_> = tasks.iter().filter_map(|t| fw.mandate_task(t)).collect();
    let dims = fw.dimension_ids().filter(|d| defs.iter().any(|t| t.dimensions.iter().any(|x| x == d)));
    let themes = fw.theme_ids().filter(|d| defs.iter().any(|t| t.themes.iter().any(|x| x == d)));
    (dims.map(str::to_string).collect(), themes.map(str::to_string).collect())
}
