//! A mission's mandate over time: the resolutions that mandate it, in order,
//! and what each added to or dropped from the mandate in force, by task,
//! dimension and theme.
//!
//! A resolution mandates a mission when one of its operative paragraphs is
//! addressed to the mission or its mandate ([`mandates_mission`]): "Decides
//! that the mandate of MINUSMA shall be", "Decides to extend the mandate of
//! UNMIL", "Requests MINUSMA to". One that merely names it ("Authorizes the
//! Secretary-General to ensure inter-mission cooperation, notably between
//! MINUSMA, UNMIL and UNOCI") is not part of its timeline. The tasks a
//! mandating resolution gives the mission are those of its operative
//! paragraphs naming it.
//!
//! A resolution that lists the mission's tasks (an operative paragraph naming
//! the mission with points that give tasks: "the mandate of MINUSMA shall be
//! the following: (a) ...") restates the mandate: what it leaves out is
//! dropped. Any other resolution (a technical extension, a request) only adds.

use crate::model::{Kind, Paragraph, Resolution};
use serde::Serialize;
use std::collections::BTreeSet;
use vitalcore_framework::{Framework, Mission, normalize_phrase};

/// Verbs by which the Council gives a mission its mandate.
const MANDATING_VERBS: &[&str] = &["decides", "authorizes", "authorises", "requests", "mandates"];
/// Words before the verb that leave it the paragraph's verb ("*Further* decides").
const LEADING: &[&str] = &["further", "also", "again", "and", "furthermore", "moreover", "hereby", "therefore"];
/// Words between the verb and the mission that show someone else is addressed.
const OTHER_ADDRESSEE: &[&str] = &[
    "secretary",
    "states",
    "member",
    "government",
    "governments",
    "parties",
    "authorities",
    "all",
    "countries",
    "between",
    "notably",
    "including",
    "with",
    "among",
    "other",
    "organizations",
    "union",
    "community",
];
/// At most this many words between the verb and the mission.
const MAX_GAP_WORDS: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub mission: String,
    pub resolutions: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub symbol: String,
    pub date: String,
    /// The numbers (as printed; else the `eId`) of its operative paragraphs
    /// that mandate the mission: why it is on the timeline.
    pub mandating: Vec<String>,
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
    let found = fw.missions.iter().find(|m| m.id.eq_ignore_ascii_case(mission));
    let id = found.map_or(mission, |m| m.id.as_str());
    let fallback = Mission { id: id.to_string(), names: Vec::new(), country: String::new() };
    let def = found.unwrap_or(&fallback);
    let mut ordered: Vec<&Resolution> = resolutions.iter().collect();
    ordered.sort_by(|a, b| (&a.date, a.number).cmp(&(&b.date, b.number)));
    let mut in_force: BTreeSet<String> = BTreeSet::new();
    let mut steps = Vec::new();
    for res in ordered {
        let addressing: Vec<&Paragraph> =
            res.paragraphs.iter().filter(|p| p.kind == Kind::Operative && p.missions.iter().any(|m| m == id)).collect();
        let mandating: Vec<&&Paragraph> = addressing.iter().filter(|p| mandates_mission(p, def)).collect();
        if mandating.is_empty() {
            continue;
        }
        // Its tasks for the mission: those of every paragraph naming it
        // ("Requests the Secretary-General to ensure that UNMIL has the
        // advisers ... on security sector reform" gives UNMIL that task).
        let given: BTreeSet<String> = addressing.iter().flat_map(|p| p.tasks.iter().cloned()).collect();
        let restates = mandating.iter().any(|p| !p.points.is_empty() && !p.tasks.is_empty());
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
            mandating: mandating.iter().map(|p| p.num.clone().unwrap_or_else(|| p.eid.clone())).collect(),
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

/// Whether operative paragraph `p` mandates `mission`: its verb decides,
/// authorizes, requests or mandates, and the mission (by acronym or name) is
/// what the verb acts on, within a few words of it and with no other
/// addressee between ("Decides that UNMIL shall", "Decides to extend until
/// 31 December 2014 the mandate of UNMIL"; not "Requests the
/// Secretary-General to ensure that UNMIL ...").
pub fn mandates_mission(p: &Paragraph, mission: &Mission) -> bool {
    let norm = normalize_phrase(&p.text);
    let words: Vec<&str> = norm.split(' ').collect();
    let Some(verb) = words.iter().position(|w| !LEADING.contains(w)) else { return false };
    if !MANDATING_VERBS.contains(&words[verb]) {
        return false;
    }
    let Some(at) = first_mention(&words, mission) else { return false };
    let gap = words.get(verb + 1..at).unwrap_or_default();
    at > verb && gap.len() <= MAX_GAP_WORDS && !gap.iter().any(|w| OTHER_ADDRESSEE.contains(w))
}

/// The index of the first word naming the mission (its acronym, or the first
/// word of one of its names).
fn first_mention(words: &[&str], mission: &Mission) -> Option<usize> {
    let acronym = mission.id.to_lowercase();
    let names: Vec<Vec<String>> =
        mission.names.iter().map(|n| normalize_phrase(n).split(' ').map(str::to_string).collect()).collect();
    (0..words.len()).find(|&i| {
        words[i] == acronym
            || names
                .iter()
                .any(|n| !n.is_empty() && words.len() >= i + n.len() && n.iter().zip(&words[i..]).all(|(a, b)| a == b))
    })
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
