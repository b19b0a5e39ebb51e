//! vitalcore-classify: reads a report's free text (English, French, Haitian
//! Creole, Sango, Arabic, Swahili, ...) into the framework's human-security
//! dimensions and protection themes.
//!
//! Two readers share one interface, [`Classifier`]:
//! - a multilingual keyword [`Lexicon`] that works on day one with no training
//!   data (cold start);
//! - a trained [`Model`]: hashed character n-grams and word uni/bigrams, a
//!   one-vs-rest logistic regression trained with AdaGrad, Platt-calibrated
//!   probabilities and a per-label threshold tuned on out-of-fold predictions
//!   of the training data. Lexicon hits are extra features of the model, and
//!   labels the training data cannot speak about fall back to the lexicon.
//!
//! ```
//! use vitalcore_classify::Classifier;
//! let reader = Classifier::lexicon_only();
//! let scores = reader.predict("Des hommes armés ont pillé le marché et brûlé les greniers");
//! assert!(scores.iter().any(|s| s.label == "economic" && s.is_positive()));
//! ```

mod classifier;
mod data;
mod error;
mod features;
mod labels;
mod lexicon;
mod linear;
mod metrics;
mod model;
#[cfg(test)]
mod reference_tests;
mod text;

pub use classifier::{Classifier, LabelScore};
pub use data::{Crosswalk, Dataset, Example, TextColumn, read_corrections, read_labelled, read_texts};
pub use error::Error;
pub use features::FeatureConfig;
pub use labels::{DIMENSIONS, LabelKind, THEMES, label_kind, label_universe};
pub use lexicon::Lexicon;
pub use metrics::{Counts, Evaluation, LabelMetrics, evaluate};
pub use model::{FORMAT_VERSION, Model, TrainConfig, TrainingSummary, train};
pub use text::normalize;
