//! The share of resolutions whose text uses a term, by year or by band of
//! three years: all text (preamble and operative) and operative text only.

use crate::error::MandateError;
use crate::model::Resolution;
use crate::phrase::PhraseIndex;
use serde::Serialize;
use std::collections::BTreeMap;
use vitalcore_framework::normalize_phrase;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Year,
    /// Three-year bands from 2000: 2000-2002, ..., 2012-2014, ...
    Band,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub term: String,
    pub rows: Vec<TrendRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
    pub resolutions: u32,
    pub with_term: u32,
    pub share: f64,
    pub share_operative: f64,
}

/// A term matched at the start of a word, case-insensitive, any ending;
/// "iz" and "is" spellings both ("stabiliz" finds stabilisation too).
pub struct Term {
    term: String,
    index: PhraseIndex,
}

impl Term {
    pub fn new(term: &str) -> Result<Term, MandateError> {
        let norm = normalize_phrase(term);
        if norm.is_empty() {
            return Err(MandateError::EmptyTerm);
        }
        let mut variants = vec![norm.clone()];
        for (from, to) in [("iz", "is"), ("is", "iz")] {
            let v = norm.replace(from, to);
            if !variants.contains(&v) {
                variants.push(v);
            }
        }
        let index = PhraseIndex::new(variants.iter().map(|v| (v.as_str(), 0)), false);
        Ok(Term { term: term.trim().to_string(), index })
    }

    pub fn found_in(&self, text: &str) -> bool {
        self.index.any(&normalize_phrase(text))
    }

    /// (in all text, in operative text)
    pub fn in_resolution(&self, res: &Resolution) -> (bool, bool) {
        let operative = res.texts(true).any(|t| self.found_in(t));
        (operative || res.texts(false).any(|t| self.found_in(t)), operative)
    }
}

pub fn trend(resolutions: &[Resolution], term: &Term, by: By) -> Trend {
    // key -> (resolutions, with term, with term in operative text)
    let mut groups: BTreeMap<i32, (u32, u32, u32)> = BTreeMap::new();
    for res in resolutions {
        let key = match by {
            By::Year => res.year,
            By::Band => band_start(res.year),
        };
        let (all, operative) = term.in_resolution(res);
        let g = groups.entry(key).or_default();
        g.0 += 1;
        g.1 += u32::from(all);
        g.2 += u32::from(operative);
    }
    let rows = groups
        .into_iter()
        .map(|(key, (n, with, with_op))| TrendRow {
            year: (by == By::Year).then_some(key),
            band: (by == By::Band).then(|| format!("{key}-{}", key + 2)),
            resolutions: n,
            with_term: with,
            share: round3(f64::from(with) / f64::from(n)),
            share_operative: round3(f64::from(with_op) / f64::from(n)),
        })
        .collect();
    Trend { term: term.term.clone(), rows }
}

fn band_start(year: i32) -> i32 {
    2000 + (year - 2000).div_euclid(3) * 3
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
