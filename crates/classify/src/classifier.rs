//! The one interface the server and the CLI call: a lexicon alone (cold
//! start) or a trained model (which itself falls back to the lexicon for the
//! labels it could not learn).

use std::cell::RefCell;

use crate::features::Scratch;
use crate::lexicon::{Lexicon, lexicon_score};
use crate::model::Model;
use crate::text::normalize_into;

/// Threshold on the lexicon's heuristic score: any keyword hit counts.
const LEXICON_THRESHOLD: f32 = 0.5;

/// A label's probability for one text and the threshold above which the
/// label is assigned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelScore<'a> {
    pub label: &'a str,
    pub probability: f32,
    pub threshold: f32,
}

impl LabelScore<'_> {
    pub fn is_positive(&self) -> bool {
        self.probability >= self.threshold
    }
}

#[derive(Debug, Clone)]
pub enum Classifier {
    Lexicon(Lexicon),
    Model(Box<Model>),
}

thread_local! {
    static SCRATCH: RefCell<(Scratch, Vec<f32>)> = RefCell::new((Scratch::default(), Vec::new()));
}

impl Classifier {
    /// The cold-start reader: the built-in multilingual lexicon, no model.
    pub fn lexicon_only() -> Classifier {
        Classifier::Lexicon(Lexicon::builtin())
    }

    pub fn labels(&self) -> &[String] {
        match self {
            Classifier::Lexicon(l) => l.labels(),
            Classifier::Model(m) => m.labels(),
        }
    }

    /// Every label with its probability and threshold, in [`Classifier::labels`] order.
    /// Allocation-free apart from the returned vector.
    pub fn predict(&self, text: &str) -> Vec<LabelScore<'_>> {
        SCRATCH.with(|cell| {
            let (scratch, probabilities) = &mut *cell.borrow_mut();
            match self {
                Classifier::Lexicon(lexicon) => {
                    normalize_into(text, &mut scratch.normalized);
                    scratch.hits.resize(lexicon.labels().len(), 0);
                    let decided = lexicon.count_hits(&scratch.normalized, &mut scratch.hits);
                    lexicon
                        .labels()
                        .iter()
                        .zip(&scratch.hits)
                        .enumerate()
                        .map(|(i, (label, &h))| LabelScore {
                            label,
                            probability: lexicon_score(h, decided, i),
                            threshold: LEXICON_THRESHOLD,
                        })
                        .collect()
                }
                Classifier::Model(model) => {
                    model.probabilities(text, scratch, probabilities);
                    model
                        .labels()
                        .iter()
                        .zip(probabilities.iter())
                        .zip(model.thresholds())
                        .map(|((label, &probability), &threshold)| LabelScore { label, probability, threshold })
                        .collect()
                }
            }
        })
    }

    /// Labels of many texts (bit sets, in order), read on `threads` threads.
    pub fn predict_bits_batch(&self, texts: &[&str], threads: usize) -> Vec<u64> {
        let threads = threads.clamp(1, texts.len().max(1));
        let chunk = texts.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(|t| self.predict_bits(t)).collect::<Vec<u64>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("a prediction thread panicked")).collect()
        })
    }

    /// The labels assigned to `text`, as a bit set over [`Classifier::labels`].
    pub fn predict_bits(&self, text: &str) -> u64 {
        match self {
            Classifier::Lexicon(_) => self
                .predict(text)
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_positive())
                .fold(0, |acc, (i, _)| acc | 1 << i),
            Classifier::Model(model) => SCRATCH.with(|cell| {
                let (scratch, _) = &mut *cell.borrow_mut();
                model.predict_bits(text, scratch)
            }),
        }
    }
}
