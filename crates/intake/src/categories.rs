//! Reporter categories and the documented mapping from each to framework
//! dimensions and themes. The map is data (`data/categories.toml`), so an
//! organisation can add or rename categories without touching code.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use vitalcore_framework::{Framework, Tags};

const DEFAULT_CATEGORIES: &str = include_str!("../data/categories.toml");

#[derive(Debug, Error, PartialEq)]
pub enum CategoryError {
    #[error("category file: {0}")]
    Syntax(String),
    #[error("category file, `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

/// One category a reporter can choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    /// Labels by language code (`en`, `fr`, ...).
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub dimensions: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
    /// Severity level on the framework's severity scale.
    #[serde(default)]
    pub severity: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    category: Vec<Category>,
}

/// The categories in use, checked against a framework.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryMap {
    categories: Vec<Category>,
}

impl CategoryMap {
    /// The built-in categories, checked against the built-in framework.
    pub fn built_in() -> CategoryMap {
        CategoryMap::from_toml(DEFAULT_CATEGORIES, &Framework::built_in())
            .expect("the built-in categories are valid (tested)")
    }

    /// Parses a category file and checks every dimension and theme id
    /// against `framework`.
    pub fn from_toml(text: &str, framework: &Framework) -> Result<CategoryMap, CategoryError> {
        let file: CategoryFile = toml::from_str(text).map_err(|e| CategoryError::Syntax(e.to_string()))?;
        let map = CategoryMap { categories: file.category };
        map.validate(framework)?;
        Ok(map)
    }

    fn validate(&self, framework: &Framework) -> Result<(), CategoryError> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let key = |field: &str| format!("category[{i}].{field} (id `{}`)", c.id);
            let invalid = |field: &str, reason: String| CategoryError::Invalid { key: key(field), reason };
            if c.id.trim().is_empty() {
                return Err(invalid("id", "the id is empty".into()));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(invalid("id", "this id is used twice".into()));
            }
            if !c.labels.contains_key("en") {
                return Err(invalid("labels", "an English label (`en`) is required".into()));
            }
            if let Some(d) = c.dimensions.iter().find(|d| !framework.is_dimension(d)) {
                let known: Vec<&str> = framework.dimension_ids().collect();
                return Err(invalid(
                    "dimensions",
                    format!("`{d}` is not a dimension of the framework; use one of {}", known.join(", ")),
                ));
            }
            if let Some(t) = c.themes.iter().find(|t| !framework.is_theme(t)) {
                let known: Vec<&str> = framework.theme_ids().collect();
                return Err(invalid(
                    "themes",
                    format!("`{t}` is not a theme of the framework; use one of {}", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|c| c.id.as_str())
    }

    /// Finds a category by id or by a label in any language, ignoring case
    /// and surrounding spaces (reporters and KoBo exports write either).
    pub fn find(&self, raw: &str) -> Option<&Category> {
        let wanted = raw.trim();
        self.categories.iter().find(|c| c.id.eq_ignore_ascii_case(wanted)).or_else(|| {
            let lower = wanted.to_lowercase();
            self.categories.iter().find(|c| c.labels.values().any(|l| l.to_lowercase() == lower))
        })
    }

    /// The label of a category in `lang`, falling back to English.
    pub fn label<'a>(&'a self, id: &'a str, lang: &str) -> &'a str {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.labels.get(lang).or_else(|| c.labels.get("en")))
            .map(String::as_str)
            .unwrap_or(id)
    }

    /// Tags of a category: its dimensions, themes and severity, with the rule
    /// that produced them for the record's explanation.
    pub fn tags(&self, category: &Category) -> Tags {
        Tags {
            dimensions: category.dimensions.clone(),
            themes: category.themes.clone(),
            severity: category.severity,
            rule: format!("reporter category `{}`", category.id),
        }
    }
}

impl Default for CategoryMap {
    fn default() -> Self {
        CategoryMap::built_in()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_categories_are_valid_and_found_by_label() {
        let map = CategoryMap::built_in();
        assert_eq!(map.find("Enlèvement").unwrap().id, "abduction");
        assert_eq!(map.find("  SEXUAL_VIOLENCE ").unwrap().id, "sexual_violence");
        assert!(map.find("weather").is_none());
        let tags = map.tags(map.find("sexual_violence").unwrap());
        assert!(tags.themes.contains(&"conflict_related_sexual_violence".to_string()));
    }

    #[test]
    fn unknown_dimension_names_the_key() {
        let text = "[[category]]\nid = \"x\"\nlabels = { en = \"X\" }\ndimensions = [\"spiritual\"]\n";
        let err = CategoryMap::from_toml(text, &Framework::built_in()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("category[0].dimensions"), "{msg}");
        assert!(msg.contains("spiritual"), "{msg}");
    }
}
