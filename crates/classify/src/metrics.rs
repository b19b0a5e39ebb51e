//! Per-label precision, recall, F1 and support; macro- and micro-F1 over the
//! dimensions that have at least one positive in the evaluated file. True
//! negatives never enter any figure (no accuracy, no weighted average).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::labels::{LabelKind, label_kind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl Counts {
    /// tp / (tp + fp); 0 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }
    /// tp / (tp + fn); 0 when there is no positive.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }
    /// 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.true_positives, 2 * self.true_positives + self.false_positives + self.false_negatives)
    }
    pub fn support(&self) -> u64 {
        self.true_positives + self.false_negatives
    }
    fn add(&mut self, other: &Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LabelMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

impl From<&Counts> for LabelMetrics {
    fn from(c: &Counts) -> Self {
        LabelMetrics { precision: c.precision(), recall: c.recall(), f1: c.f1(), support: c.support() }
    }
}

/// The evaluation report (its JSON form is the published contract).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evaluation {
    pub dimensions: BTreeMap<String, LabelMetrics>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub themes: BTreeMap<String, LabelMetrics>,
    /// Mean F1 over dimensions with support > 0; null when there is none.
    pub macro_f1: Option<f64>,
    /// F1 of the pooled counts of those same dimensions.
    pub micro_f1: Option<f64>,
}

/// Scores predictions against the truth. `truth[i] = (positive, known)` and
/// `predicted[i]` are bit sets over `labels`; only `evaluated` labels (those
/// the data can speak about, e.g. the crosswalk's) are reported, each over
/// the messages where it is known.
pub fn evaluate(truth: &[(u64, u64)], predicted: &[u64], labels: &[String], evaluated: &[String]) -> Evaluation {
    let mut report =
        Evaluation { dimensions: BTreeMap::new(), themes: BTreeMap::new(), macro_f1: None, micro_f1: None };
    let (mut pooled, mut f1_sum, mut counted) = (Counts::default(), 0.0, 0usize);
    for (i, label) in labels.iter().enumerate() {
        if !evaluated.contains(label) {
            continue;
        }
        let bit = 1u64 << i;
        let mut c = Counts::default();
        for (&(positive, known), &p) in truth.iter().zip(predicted) {
            if known & bit == 0 {
                continue;
            }
            match (positive & bit != 0, p & bit != 0) {
                (true, true) => c.true_positives += 1,
                (false, true) => c.false_positives += 1,
                (true, false) => c.false_negatives += 1,
                (false, false) => {}
            }
        }
        match label_kind(label) {
            LabelKind::Dimension => {
                if c.support() > 0 {
                    pooled.add(&c);
                    f1_sum += c.f1();
                    counted += 1;
                }
                report.dimensions.insert(label.clone(), LabelMetrics::from(&c));
            }
            LabelKind::Theme => {
                report.themes.insert(label.clone(), LabelMetrics::from(&c));
            }
        }
    }
    if counted > 0 {
        report.macro_f1 = Some(f1_sum / counted as f64);
        report.micro_f1 = Some(pooled.f1());
    }
    report
}
