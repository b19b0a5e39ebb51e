//! The mandate tables of the framework file (`data/mandates.toml`): the task
//! families a Security Council resolution can give, the operative verbs that
//! give them and the peace operations it can address. Data, validated here;
//! read by `crates/mandate`.

use crate::error::FrameworkError;
use crate::taxonomy::{Framework, Labels};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A mandate task family (`protection_of_civilians`, `elections`, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandateTask {
    pub id: String,
    pub labels: Labels,
    #[serde(default)]
    pub dimensions: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
    /// Phrases that name the task (normalised: lower case, letters and digits).
    pub triggers: Vec<String>,
    /// Phrases inside which a trigger does not count.
    #[serde(default)]
    pub unless: Vec<String>,
    pub why: String,
}

/// An operative verb (`decides`, `calls_upon`, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandateVerb {
    pub id: String,
    pub phrases: Vec<String>,
    pub gives_tasks: bool,
    pub rank: u8,
}

/// A peace operation a resolution can address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mission {
    /// The acronym as printed (`MINUSMA`).
    pub id: String,
    #[serde(default)]
    pub names: Vec<String>,
    /// ISO 3166-1 alpha-3 codes, space-separated.
    pub country: String,
}

/// The three mandate tables on their own (the built-in file's shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MandateTables {
    #[serde(default)]
    pub mandate_tasks: Vec<MandateTask>,
    #[serde(default)]
    pub mandate_verbs: Vec<MandateVerb>,
    #[serde(default)]
    pub missions: Vec<Mission>,
}

/// Lower case; every character that is not a letter or digit becomes one
/// space; no leading, trailing or double spaces. Triggers and texts are
/// compared in this form.
pub fn normalize_phrase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(ch.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

impl Framework {
    pub(crate) fn validate_mandates(&self) -> Result<(), FrameworkError> {
        let mut seen = BTreeSet::new();
        for task in &self.mandate_tasks {
            let key = format!("mandate_tasks.{}", task.id);
            let valid = !task.id.is_empty()
                && task.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(FrameworkError::invalid(
                    format!("mandate_tasks.id = \"{}\"", task.id),
                    "ids are lower-case letters, digits and underscores, e.g. \"elections\"",
                ));
            }
            if !seen.insert(task.id.as_str()) {
                return Err(FrameworkError::invalid(key, "this task id is defined twice"));
            }
            if let Some(d) = task.dimensions.iter().find(|d| !self.is_dimension(d)) {
                let known: Vec<&str> = self.dimension_ids().collect();
                return Err(FrameworkError::invalid(
                    format!("{key}.dimensions"),
                    format!("`{d}` is not a dimension id; known: {}", known.join(", ")),
                ));
            }
            if let Some(t) = task.themes.iter().find(|t| !self.is_theme(t)) {
                let known: Vec<&str> = self.theme_ids().collect();
                return Err(FrameworkError::invalid(
                    format!("{key}.themes"),
                    format!("`{t}` is not a theme id; known: {}", known.join(", ")),
                ));
            }
            if task.triggers.is_empty() {
                return Err(FrameworkError::invalid(format!("{key}.triggers"), "give at least one trigger phrase"));
            }
            if let Some(bad) = task.triggers.iter().chain(&task.unless).find(|p| normalize_phrase(p).is_empty()) {
                return Err(FrameworkError::invalid(
                    format!("{key}.triggers"),
                    format!("the phrase {bad:?} has no letter or digit"),
                ));
            }
            if task.why.trim().is_empty() {
                return Err(FrameworkError::invalid(format!("{key}.why"), "say why the task reads as it does"));
            }
        }
        let mut seen = BTreeSet::new();
        for verb in &self.mandate_verbs {
            if !seen.insert(verb.id.as_str()) {
                return Err(FrameworkError::invalid(format!("mandate_verbs.{}", verb.id), "defined twice"));
            }
            if verb.phrases.is_empty() || verb.phrases.iter().any(|p| normalize_phrase(p).is_empty()) {
                return Err(FrameworkError::invalid(
                    format!("mandate_verbs.{}.phrases", verb.id),
                    "give at least one phrase, each with a letter",
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for mission in &self.missions {
            if mission.id.trim().is_empty() || !seen.insert(mission.id.as_str()) {
                return Err(FrameworkError::invalid(
                    format!("missions.id = \"{}\"", mission.id),
                    "each mission needs its own non-empty acronym",
                ));
            }
        }
        Ok(())
    }

    /// Fills the mandate tables from the built-in file when a user's
    /// framework file has none of them.
    pub(crate) fn default_mandates(&mut self) {
        if self.mandate_tasks.is_empty() && self.mandate_verbs.is_empty() && self.missions.is_empty() {
            let tables: MandateTables =
                toml::from_str(crate::taxonomy::BUILTIN_MANDATES).expect("the built-in mandate tables are valid");
            self.mandate_tasks = tables.mandate_tasks;
            self.mandate_verbs = tables.mandate_verbs;
            self.missions = tables.missions;
        }
    }

    /// The task family with this id.
    pub fn mandate_task(&self, id: &str) -> Option<&MandateTask> {
        self.mandate_tasks.iter().find(|t| t.id == id)
    }
}
