//! The tagger: for every operative paragraph and point, the task families it
//! gives (framework `mandate_tasks`), their dimensions and themes, the
//! operative verb (strength), "all necessary means", and the missions named.
//!
//! A paragraph is cut into clauses where an operative verb is printed
//! (italic or underlined: "*Welcomes* ..., *requests* the Secretary-General
//! ..."). A task is tagged only in a clause whose verb gives tasks (decides,
//! authorizes, requests, calls upon, urges, encourages, ...): "condemns attacks
//! on civilians" names a topic and gives nothing. Points take the verb of the
//! clause that introduces them ("Decides that the mandate of MINUSMA shall be
//! the following: (a) ...").

use crate::model::{Kind, Paragraph, Point, Resolution};
use crate::phrase::PhraseIndex;
use std::collections::{BTreeSet, HashMap};
use vitalcore_framework::{Framework, normalize_phrase};

/// Words skipped before the verb of a clause ("*Further* requests").
const MODIFIERS: &[&str] = &[
    "further",
    "also",
    "again",
    "once",
    "and",
    "furthermore",
    "moreover",
    "therefore",
    "additionally",
    "accordingly",
    "hereby",
    "then",
    "in",
    "this",
    "regard",
    "context",
    "addition",
    "particular",
];

#[derive(Clone)]
struct Verb {
    id: String,
    gives_tasks: bool,
    rank: u8,
}

/// What the tagger found in one clause or node.
#[derive(Default, Clone)]
struct Found {
    tasks: BTreeSet<usize>,
    /// (rank, verb) of the best verb that gave a task
    best: Option<(u8, String)>,
    anm: bool,
}

impl Found {
    fn merge(&mut self, other: &Found) {
        self.tasks.extend(&other.tasks);
        if let Some(b) = &other.best
            && self.best.as_ref().is_none_or(|mine| b.0 > mine.0)
        {
            self.best = Some(b.clone());
        }
        self.anm |= other.anm;
    }
}

/// Tags resolutions with one framework's mandate tables.
pub struct Tagger<'f> {
    fw: &'f Framework,
    triggers: PhraseIndex,
    unless: PhraseIndex,
    has_unless: Vec<bool>,
    verbs: Vec<(String, Verb)>,
    mission_names: PhraseIndex,
    acronyms: HashMap<&'f str, usize>,
    anm: PhraseIndex,
}

impl<'f> Tagger<'f> {
    pub fn new(fw: &'f Framework) -> Tagger<'f> {
        let tasks = &fw.mandate_tasks;
        let triggers = PhraseIndex::new(
            tasks.iter().enumerate().flat_map(|(i, t)| t.triggers.iter().map(move |p| (p.as_str(), i))),
            false,
        );
        let unless = PhraseIndex::new(
            tasks.iter().enumerate().flat_map(|(i, t)| t.unless.iter().map(move |p| (p.as_str(), i))),
            false,
        );
        let mut verbs: Vec<(String, Verb)> = fw
            .mandate_verbs
            .iter()
            .flat_map(|v| {
                v.phrases.iter().map(move |p| {
                    (normalize_phrase(p), Verb { id: v.id.clone(), gives_tasks: v.gives_tasks, rank: v.rank })
                })
            })
            .collect();
        // longest phrase first: "calls upon" before "calls"
        verbs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mission_names = PhraseIndex::new(
            fw.missions.iter().enumerate().flat_map(|(i, m)| m.names.iter().map(move |n| (n.as_str(), i))),
            true,
        );
        let acronyms = fw.missions.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
        let anm = PhraseIndex::new([("all necessary means", 0), ("all necessary measures", 0)], true);
        Tagger {
            fw,
            triggers,
            unless,
            has_unless: tasks.iter().map(|t| !t.unless.is_empty()).collect(),
            verbs,
            mission_names,
            acronyms,
            anm,
        }
    }

    /// Tags every paragraph and point of `res` in place, and sets the
    /// missions it addresses (those its operative paragraphs name).
    pub fn tag(&self, res: &mut Resolution) {
        let mut missions: Vec<usize> = Vec::new();
        for p in &mut res.paragraphs {
            self.tag_paragraph(p);
            if p.kind == Kind::Operative {
                for m in &p.missions {
                    let i = self.acronyms[m.as_str()];
                    if !missions.contains(&i) {
                        missions.push(i);
                    }
                }
            }
        }
        res.missions = missions.into_iter().map(|i| self.fw.missions[i].id.clone()).collect();
    }

    fn tag_paragraph(&self, p: &mut Paragraph) {
        let mut named = Vec::new();
        self.missions_in(&p.text, &mut named);
        points_missions(self, &p.points, &mut named);
        named.sort();
        named.dedup();
        p.missions = named.into_iter().map(|i| self.fw.missions[i].id.clone()).collect();
        if p.kind != Kind::Operative {
            return;
        }
        let (found, first, last) = self.clauses(&p.text, &p.emphasis, None);
        let mut all = found;
        for point in &mut p.points {
            let f = self.tag_point(point, last.clone());
            all.merge(&f);
        }
        self.fill(&all, &mut p.tasks, &mut p.dimensions, &mut p.themes);
        p.strength = all.best.as_ref().map(|b| b.1.clone()).or(first.map(|v| v.id));
        p.all_necessary_means = all.anm;
    }

    fn tag_point(&self, point: &mut Point, inherited: Option<Verb>) -> Found {
        let (found, first, last) = self.clauses(&point.text, &point.emphasis, inherited);
        let mut all = found;
        for sub in &mut point.points {
            let f = self.tag_point(sub, last.clone());
            all.merge(&f);
        }
        self.fill(&all, &mut point.tasks, &mut point.dimensions, &mut point.themes);
        point.strength = all.best.as_ref().map(|b| b.1.clone()).or(first.map(|v| v.id));
        point.all_necessary_means = all.anm;
        all
    }

    fn fill(&self, found: &Found, tasks: &mut Vec<String>, dims: &mut Vec<String>, themes: &mut Vec<String>) {
        let defs = &self.fw.mandate_tasks;
        *tasks = found.tasks.iter().map(|&i| defs[i].id.clone()).collect();
        let ds: BTreeSet<&str> =
            found.tasks.iter().flat_map(|&i| defs[i].dimensions.iter().map(String::as_str)).collect();
        let ts: BTreeSet<&str> = found.tasks.iter().flat_map(|&i| defs[i].themes.iter().map(String::as_str)).collect();
        *dims = self.fw.dimension_ids().filter(|d| ds.contains(d)).map(str::to_string).collect();
        *themes = self.fw.theme_ids().filter(|t| ts.contains(t)).map(str::to_string).collect();
    }

    /// Cuts `text` into clauses and tags each. Returns what was found, the
    /// verb of the first clause and the verb in force at the end (which the
    /// points below take).
    fn clauses(
        &self,
        text: &str,
        emphasis: &[(usize, usize)],
        inherited: Option<Verb>,
    ) -> (Found, Option<Verb>, Option<Verb>) {
        let mut starts = vec![0usize];
        let mut verbs_at: Vec<Option<Verb>> = Vec::new();
        let opening = self.verb_at(prefix(text, 0, 80));
        verbs_at.push(match (opening, &inherited) {
            (Some(v), _) if self.is_known(&v) => Some(v),
            (_, Some(inh)) => Some(inh.clone()),
            (v, None) => v,
        });
        let mut candidates: Vec<usize> = emphasis.iter().map(|e| e.0).filter(|&s| s > 0).collect();
        if emphasis.is_empty() {
            candidates.extend(text.match_indices("; ").map(|(i, _)| i + 2));
            candidates.extend(text.match_indices(", and ").map(|(i, _)| i + 6));
            candidates.extend(text.match_indices(", ").map(|(i, _)| i + 2));
        }
        candidates.sort_unstable();
        candidates.dedup();
        for s in candidates {
            if s >= text.len() || !text.is_char_boundary(s) {
                continue;
            }
            let before = text[..s].trim_end();
            let after_break = before.is_empty()
                || before.ends_with([',', ';', ':', '.'])
                || before.ends_with(" and")
                || before.ends_with(" also");
            if !after_break {
                continue;
            }
            if let Some(v) = self.verb_at(prefix(text, s, 80))
                && (self.is_known(&v) || (!emphasis.is_empty() && looks_like_verb(&v.id)))
            {
                starts.push(s);
                verbs_at.push(Some(v));
            }
        }
        let mut found = Found::default();
        for (k, &s) in starts.iter().enumerate() {
            let e = starts.get(k + 1).copied().unwrap_or(text.len());
            let Some(verb) = &verbs_at[k] else { continue };
            if !verb.gives_tasks {
                continue;
            }
            let norm = normalize_phrase(&text[s..e]);
            let tasks = self.tasks_in(&norm);
            if !tasks.is_empty() {
                if found.best.as_ref().is_none_or(|b| verb.rank > b.0) {
                    found.best = Some((verb.rank, verb.id.clone()));
                }
                found.tasks.extend(tasks);
            }
            if self.anm.any(&norm) {
                found.anm = true;
            }
        }
        let first = verbs_at[0].clone();
        let last = verbs_at.last().cloned().flatten();
        (found, first, last)
    }

    fn is_known(&self, v: &Verb) -> bool {
        self.verbs.iter().any(|(_, known)| known.id == v.id)
    }

    /// The verb opening `clause`: a known one (after adverbs such as
    /// "further"), else its first word, which gives no task.
    fn verb_at(&self, clause: &str) -> Option<Verb> {
        let norm = normalize_phrase(clause);
        let mut rest = norm.as_str();
        loop {
            let word = rest.split(' ').next().unwrap_or("");
            if word.is_empty() {
                return None;
            }
            if MODIFIERS.contains(&word) || (word.ends_with("ly") && word.len() > 4) {
                rest = rest[word.len()..].trim_start();
                continue;
            }
            for (phrase, verb) in &self.verbs {
                if rest.starts_with(phrase.as_str())
                    && (rest.len() == phrase.len() || rest.as_bytes()[phrase.len()] == b' ')
                {
                    return Some(verb.clone());
                }
            }
            if word.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            return Some(Verb { id: word.to_string(), gives_tasks: false, rank: 0 });
        }
    }

    /// The task families a clause (normalised) names.
    fn tasks_in(&self, norm: &str) -> BTreeSet<usize> {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        self.triggers.for_each(norm, |task, start, _| hits.push((task, start)));
        if hits.is_empty() {
            return BTreeSet::new();
        }
        let mut blocked: Vec<(usize, usize, usize)> = Vec::new();
        if hits.iter().any(|(t, _)| self.has_unless[*t]) {
            self.unless.for_each(norm, |task, s, e| blocked.push((task, s, e)));
        }
        hits.into_iter()
            .filter(|(t, pos)| !blocked.iter().any(|(bt, s, e)| bt == t && pos >= s && pos < e))
            .map(|(t, _)| t)
            .collect()
    }

    fn missions_in(&self, text: &str, out: &mut Vec<usize>) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_uppercase() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
                let end = (i..b.len()).find(|&j| !b[j].is_ascii_alphanumeric()).unwrap_or(b.len());
                if let Some(&m) = self.acronyms.get(&text[i..end]) {
                    out.push(m);
                }
                i = end;
            } else {
                i += 1;
            }
        }
        if text.contains("United Nations") || text.contains("African") || text.contains("nternational") {
            self.mission_names.for_each(&normalize_phrase(text), |m, _, _| out.push(m));
        }
    }
}

fn points_missions(t: &Tagger, points: &[Point], out: &mut Vec<usize>) {
    for p in points {
        t.missions_in(&p.text, out);
        points_missions(t, &p.points, out);
    }
}

/// An emphasised word that reads as an operative verb ("Welcomes",
/// "condemns"), not as a name in italics ("Janjaweed", "inter alia").
fn looks_like_verb(word: &str) -> bool {
    word.len() >= 4 && word.ends_with('s') && word.chars().all(|c| c.is_ascii_lowercase())
}

/// Up to `len` bytes of `text` from `start`, cut at a character boundary.
fn prefix(text: &str, start: usize, len: usize) -> &str {
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[start..end]
}
