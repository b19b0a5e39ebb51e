//! The framework file: dimensions, themes, principles, scales, mappings and
//! the multilingual lexicon, parsed and validated.

use crate::error::FrameworkError;
use crate::mandates::{MandateTask, MandateVerb, Mission};
use crate::mapping::Mappings;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The framework built into the binary. The lexicon lives in its own file so
/// that it can grow without touching the taxonomy; a user's framework file
/// holds both in one.
/// The built-in taxonomy and mappings (`data/framework.toml`), as text.
pub const BUILTIN_TAXONOMY: &str = include_str!("../data/framework.toml");
/// The built-in multilingual lexicon (`data/lexicon.toml`): the keywords the
/// text classifier starts from.
pub const BUILTIN_LEXICON: &str = include_str!("../data/lexicon.toml");
/// The built-in mandate tables (`data/mandates.toml`): task families,
/// operative verbs and peace operations, read by `vitalcore mandate`.
pub const BUILTIN_MANDATES: &str = include_str!("../data/mandates.toml");

/// Labels keyed by language code (`en`, `fr`, `ar`, `sw`, `ht`, `sg`, ...).
pub type Labels = BTreeMap<String, String>;

/// Keywords per language for one dimension or theme.
pub type LexiconEntry = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub languages: Vec<String>,
}

/// A dimension or a theme.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub labels: Labels,
    /// What threatens it (dimensions).
    #[serde(default)]
    pub threats: Option<String>,
    /// Where the category comes from (themes).
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principle {
    pub id: String,
    pub labels: Labels,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityLevel {
    pub level: u8,
    pub id: String,
    pub labels: Labels,
    /// Harm weight used by the critical score.
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min: f64,
    pub id: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scales {
    pub severity: Vec<SeverityLevel>,
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub framework: Meta,
    pub dimensions: Vec<Category>,
    pub themes: Vec<Category>,
    pub principles: Vec<Principle>,
    pub scales: Scales,
    pub mappings: Mappings,
    #[serde(default)]
    pub lexicon: BTreeMap<String, LexiconEntry>,
    /// Mandate task families (`data/mandates.toml`); built-in ones when a
    /// file has none of the three mandate tables.
    #[serde(default)]
    pub mandate_tasks: Vec<MandateTask>,
    #[serde(default)]
    pub mandate_verbs: Vec<MandateVerb>,
    #[serde(default)]
    pub missions: Vec<Mission>,
}

impl Default for Framework {
    fn default() -> Self {
        Framework::built_in()
    }
}

impl Framework {
    /// The framework shipped with vitalcore.
    pub fn built_in() -> Framework {
        let text = format!("{BUILTIN_TAXONOMY}\n{BUILTIN_LEXICON}\n{BUILTIN_MANDATES}");
        Framework::from_toml(&text).expect("the built-in framework is valid (tested)")
    }

    /// Parses and validates a framework file's text.
    pub fn from_toml(text: &str) -> Result<Framework, FrameworkError> {
        let mut framework: Framework = toml::from_str(text).map_err(|e| FrameworkError::Syntax(e.to_string()))?;
        framework.default_mandates();
        framework.validate()?;
        Ok(framework)
    }

    pub fn dimension_ids(&self) -> impl Iterator<Item = &str> {
        self.dimensions.iter().map(|d| d.id.as_str())
    }

    pub fn theme_ids(&self) -> impl Iterator<Item = &str> {
        self.themes.iter().map(|t| t.id.as_str())
    }

    pub fn is_dimension(&self, id: &str) -> bool {
        self.dimensions.iter().any(|d| d.id == id)
    }

    pub fn is_theme(&self, id: &str) -> bool {
        self.themes.iter().any(|t| t.id == id)
    }

    /// The label of a dimension, theme or principle in `lang`, falling back to
    /// English and then to the id.
    pub fn label<'a>(&'a self, id: &'a str, lang: &str) -> &'a str {
        let labels = self
            .dimensions
            .iter()
            .chain(&self.themes)
            .find(|c| c.id == id)
            .map(|c| &c.labels)
            .or_else(|| self.principles.iter().find(|p| p.id == id).map(|p| &p.labels));
        labels.and_then(|l| l.get(lang).or_else(|| l.get("en"))).map(String::as_str).unwrap_or(id)
    }

    /// Harm weight of a severity level (unknown levels weigh as the highest).
    pub fn severity_weight(&self, level: u8) -> f64 {
        self.scales
            .severity
            .iter()
            .find(|s| s.level == level)
            .or_else(|| self.scales.severity.iter().max_by_key(|s| s.level))
            .map(|s| s.weight)
            .unwrap_or(0.0)
    }

    /// The band (very low .. very high) a 0-10 score falls in.
    pub fn band(&self, score: f64) -> &Band {
        self.scales.bands.iter().rev().find(|b| score >= b.min).unwrap_or(&self.scales.bands[0])
    }

    fn validate(&self) -> Result<(), FrameworkError> {
        if self.dimensions.is_empty() {
            return Err(FrameworkError::invalid("dimensions", "at least one [[dimensions]] entry is needed"));
        }
        check_categories("dimensions", &self.dimensions)?;
        check_categories("themes", &self.themes)?;
        let ids: BTreeSet<&str> = self.dimension_ids().collect();
        if let Some(dup) = self.themes.iter().find(|t| ids.contains(t.id.as_str())) {
            return Err(FrameworkError::invalid(
                format!("themes.{}", dup.id),
                "a theme cannot have the id of a dimension: rename one of them",
            ));
        }
        self.validate_scales()?;
        self.mappings.validate(self)?;
        self.validate_lexicon()?;
        self.validate_mandates()
    }

    fn validate_scales(&self) -> Result<(), FrameworkError> {
        let severity = &self.scales.severity;
        if severity.is_empty() {
            return Err(FrameworkError::invalid("scales.severity", "define at least one severity level"));
        }
        let mut seen = BTreeSet::new();
        for s in severity {
            if !seen.insert(s.level) {
                return Err(FrameworkError::invalid(
                    format!("scales.severity.level = {}", s.level),
                    "each severity level must appear once",
                ));
            }
            if !(s.weight.is_finite() && s.weight >= 0.0) {
                return Err(FrameworkError::invalid(
                    format!("scales.severity.{}.weight", s.id),
                    "the weight must be a number of zero or more",
                ));
            }
        }
        let bands = &self.scales.bands;
        if bands.is_empty() || bands[0].min > 0.0 {
            return Err(FrameworkError::invalid("scales.bands", "the first band must start at min = 0"));
        }
        if bands.windows(2).any(|w| w[1].min <= w[0].min) {
            return Err(FrameworkError::invalid("scales.bands", "bands must be listed with increasing `min`"));
        }
        Ok(())
    }

    fn validate_lexicon(&self) -> Result<(), FrameworkError> {
        for (id, languages) in &self.lexicon {
            if !self.is_dimension(id) && !self.is_theme(id) {
                return Err(FrameworkError::invalid(
                    format!("lexicon.{id}"),
                    "this is neither a dimension nor a theme id of the framework",
                ));
            }
            for (lang, words) in languages {
                if words.iter().any(|w| w.trim().is_empty()) {
                    return Err(FrameworkError::invalid(format!("lexicon.{id}.{lang}"), "remove the empty keyword"));
                }
            }
        }
        Ok(())
    }
}

fn check_categories(key: &str, categories: &[Category]) -> Result<(), FrameworkError> {
    let mut seen = BTreeSet::new();
    for c in categories {
        let valid_id =
            !c.id.is_empty() && c.id.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !valid_id {
            return Err(FrameworkError::invalid(
                format!("{key}.id = \"{}\"", c.id),
                "ids are lower-case letters, digits and underscores, e.g. \"food\"",
            ));
        }
        if !seen.insert(c.id.as_str()) {
            return Err(FrameworkError::invalid(format!("{key}.{}", c.id), "this id is defined twice"));
        }
        if !c.labels.contains_key("en") {
            return Err(FrameworkError::invalid(
                format!("{key}.{}.labels", c.id),
                "give at least an English label: labels = { en = \"...\" }",
            ));
        }
    }
    Ok(())
}
