//! What a reporter reads, in their language, from one message table
//! (`data/messages.toml`): the report form's labels and validation
//! messages, the SMS replies, the feedback sent by SMS.
//!
//! A message is looked up by key (`invalid.text_empty`) and language; a
//! language without the key, or without any table, gets the English text.
//! `{name}` placeholders are filled from the values given; one without a
//! value stays as written, so a missing value shows instead of vanishing.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use thiserror::Error;

const BUILT_IN: &str = include_str!("../data/messages.toml");

/// The language every key must have, and the fallback.
pub const FALLBACK: &str = "en";

#[derive(Debug, Error, PartialEq)]
pub enum MessagesError {
    #[error("message file: {0}")]
    Syntax(String),
    #[error("message file: `{language}.{key}`: {reason}")]
    Invalid { language: String, key: String, reason: String },
}

/// The message table: language -> `section.name` -> text.
#[derive(Debug, Clone, PartialEq)]
pub struct Messages {
    languages: BTreeMap<String, BTreeMap<String, String>>,
}

type RawFile = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;

impl Messages {
    /// The table built into the program (checked by the tests).
    pub fn built_in() -> &'static Messages {
        static TABLE: OnceLock<Messages> = OnceLock::new();
        TABLE.get_or_init(|| Messages::from_toml(BUILT_IN).expect("the built-in message table is valid (tested)"))
    }

    /// Reads a message file: `[LANG.SECTION]` tables of `name = "text"`.
    /// English must have every key any language has; a translation may not
    /// use a placeholder its English text does not have.
    pub fn from_toml(text: &str) -> Result<Messages, MessagesError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| MessagesError::Syntax(e.to_string()))?;
        let languages: BTreeMap<String, BTreeMap<String, String>> = raw
            .into_iter()
            .map(|(lang, sections)| {
                let flat = sections
                    .into_iter()
                    .flat_map(|(section, names)| {
                        names.into_iter().map(move |(name, text)| (format!("{section}.{name}"), text))
                    })
                    .collect();
                (lang, flat)
            })
            .collect();
        let messages = Messages { languages };
        messages.check()?;
        Ok(messages)
    }

    fn check(&self) -> Result<(), MessagesError> {
        let invalid = |language: &str, key: &str, reason: String| MessagesError::Invalid {
            language: language.to_string(),
            key: key.to_string(),
            reason,
        };
        let english = self
            .languages
            .get(FALLBACK)
            .ok_or_else(|| invalid(FALLBACK, "*", "English is the fallback and must be there".into()))?;
        for (lang, table) in &self.languages {
            if lang.len() < 2 || lang.len() > 3 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(invalid(lang, "*", "a language is a 2- or 3-letter lower-case code (en, fr, sg)".into()));
            }
            for (key, text) in table {
                let Some(en) = english.get(key) else {
                    return Err(invalid(lang, key, "English has no such key; add it to [en] first".into()));
                };
                let allowed = placeholders(en);
                if let Some(extra) = placeholders(text).into_iter().find(|p| !allowed.contains(p)) {
                    return Err(invalid(
                        lang,
                        key,
                        format!("{{{extra}}} is not filled for this message (English uses {allowed:?})"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The languages the table has, English first.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        std::iter::once(FALLBACK).chain(self.languages.keys().map(String::as_str).filter(|l| *l != FALLBACK))
    }

    /// The table's language for a code as a reporter or channel gives it
    /// (`fr`, `FR`, `fr-CF`, `fr_CF`), or English.
    pub fn language<'a>(&'a self, requested: Option<&str>) -> &'a str {
        self.known_language(requested.unwrap_or("")).unwrap_or(FALLBACK)
    }

    /// The table's language for a code, `None` when the table has no such language.
    pub fn known_language<'a>(&'a self, requested: &str) -> Option<&'a str> {
        let base = requested.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        self.languages.get_key_value(base.as_str()).map(|(k, _)| k.as_str())
    }

    /// The text of `key` in `lang`, or English when the language lacks it.
    pub fn get(&self, lang: &str, key: &str) -> Option<&str> {
        self.languages
            .get(lang)
            .and_then(|t| t.get(key))
            .or_else(|| self.languages.get(FALLBACK).and_then(|t| t.get(key)))
            .map(String::as_str)
    }

    /// The text of `key` in `lang`, English when the language lacks it, the
    /// key itself when English lacks it too (a programming mistake the tests catch).
    pub fn text<'a>(&'a self, lang: &str, key: &'a str) -> &'a str {
        self.get(lang, key).unwrap_or(key)
    }

    /// The text of `key` in `lang` with its placeholders filled.
    pub fn render(&self, lang: &str, key: &str, values: &[(&str, &str)]) -> String {
        fill(self.text(lang, key), values)
    }

    /// Every key English has (for checks and tests).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.languages.get(FALLBACK).into_iter().flat_map(|t| t.keys().map(String::as_str))
    }
}

/// Replaces each `{name}` with its value; unknown names stay as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                let name = &after[..close];
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The placeholder names a text uses.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                out.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_is_valid_and_french_has_every_key() {
        let m = Messages::built_in();
        let fr_missing: Vec<&str> = m.keys().filter(|k| !m.languages["fr"].contains_key(*k)).collect();
        assert!(fr_missing.is_empty(), "French lacks {fr_missing:?}");
        assert_eq!(m.languages().collect::<Vec<_>>(), ["en", "fr"]);
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_stay() {
        assert_eq!(fill("{field} : {message}", &[("field", "Latitude"), ("message", "x")]), "Latitude : x");
        assert_eq!(fill("a {missing} b", &[]), "a {missing} b");
        assert_eq!(fill("{ not a name } {x", &[("x", "1")]), "{ not a name } {x");
        assert_eq!(fill("{n}{n}", &[("n", "7")]), "77");
    }

    #[test]
    fn languages_fall_back_to_english_by_key_and_by_table() {
        let m = Messages::from_toml("[en.a]\nx = \"one {n}\"\ny = \"two\"\n[fr.a]\nx = \"un {n}\"\n").unwrap();
        assert_eq!(m.render("fr", "a.x", &[("n", "1")]), "un 1");
        assert_eq!(m.text("fr", "a.y"), "two", "a key French lacks is English");
        assert_eq!(m.text("sg", "a.x"), "one {n}", "a language without a table is English");
        assert_eq!(m.text("fr", "a.nothing"), "a.nothing");
        assert_eq!(m.language(Some("FR-cf")), "fr");
        assert_eq!(m.language(Some("ar")), "en");
        assert_eq!(m.language(None), "en");
        assert_eq!((m.known_language("en-GB"), m.known_language("sg")), (Some("en"), None));
    }

    #[test]
    fn a_translation_with_a_placeholder_english_lacks_or_a_key_english_lacks_is_refused() {
        let e = Messages::from_toml("[en.a]\nx = \"one\"\n[fr.a]\nx = \"un {n}\"\n").unwrap_err();
        assert!(e.to_string().contains("fr.a.x") && e.to_string().contains("{n}"), "{e}");
        let e = Messages::from_toml("[en.a]\nx = \"one\"\n[fr.a]\nz = \"un\"\n").unwrap_err();
        assert!(e.to_string().contains("fr.a.z"), "{e}");
        assert!(Messages::from_toml("[fr.a]\nx = \"un\"\n").is_err(), "English is required");
        assert!(Messages::from_toml("[en.a]\nx = 1\n").is_err(), "texts are strings");
    }
}
