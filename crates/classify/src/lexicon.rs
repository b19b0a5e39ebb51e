//! The multilingual keyword lexicon: the cold-start reader.
//!
//! File format (TOML, the `[lexicon]` part of the framework file):
//! one table per dimension or theme id, one array of keywords per language
//! code. A keyword matches a whole normalised word (see [`crate::normalize`]);
//! a trailing `*` matches any word that starts with it (`inond*`); a keyword of
//! several words matches them in sequence (`groupe arme*`). Arabic words are
//! also tried without their attached proclitics (و, ال, ب, ...).

use std::collections::BTreeMap;

use crate::error::Error;
use crate::text::{arabic_proclitic_len, normalize_into};

/// The lexicon shipped in the framework data file.
pub const BUILTIN_LEXICON: &str = include_str!("../../framework/data/lexicon.toml");

#[derive(serde::Deserialize)]
struct LexiconFile {
    #[serde(default)]
    lexicon: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A keyword lexicon compiled into a byte trie over normalised text.
#[derive(Debug, Clone)]
pub struct Lexicon {
    labels: Vec<String>,
    languages: Vec<String>,
    keyword_count: usize,
    nodes: Vec<Node>,
    /// Child of the root for each first byte (0: none), so the walk that
    /// starts at every word costs one lookup when nothing matches.
    root: Vec<u32>,
    source: String,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(u8, u32)>,
    /// Labels whose keyword ends here and must end at a word boundary.
    exact: u64,
    /// Labels whose keyword is a prefix (`word*`) ending here.
    prefix: u64,
}

impl Lexicon {
    /// The lexicon built into vitalcore (from the framework data file).
    pub fn builtin() -> Lexicon {
        Lexicon::parse(BUILTIN_LEXICON, "built-in lexicon").expect("the built-in lexicon is valid (tested)")
    }

    /// Parses a lexicon file's text; `origin` names it in error messages.
    pub fn parse(toml_text: &str, origin: &str) -> Result<Lexicon, Error> {
        let lex_err = |message: String| Error::Lexicon { origin: origin.to_string(), message };
        let file: LexiconFile = toml::from_str(toml_text).map_err(|e| lex_err(e.to_string()))?;
        if file.lexicon.len() > 64 {
            return Err(Error::TooManyLabels(file.lexicon.len()));
        }
        let mut lexicon = Lexicon {
            labels: Vec::new(),
            languages: Vec::new(),
            keyword_count: 0,
            nodes: vec![Node::default()],
            root: vec![0; 256],
            source: toml_text.to_string(),
        };
        let mut buf = String::new();
        for (label, by_language) in &file.lexicon {
            let bit = 1u64 << lexicon.labels.len();
            lexicon.labels.push(label.clone());
            for (language, keywords) in by_language {
                if !lexicon.languages.contains(language) {
                    lexicon.languages.push(language.clone());
                }
                for keyword in keywords {
                    let (stem, is_prefix) = match keyword.trim().strip_suffix('*') {
                        Some(stem) => (stem, true),
                        None => (keyword.trim(), false),
                    };
                    normalize_into(stem, &mut buf);
                    if buf.is_empty() {
                        return Err(lex_err(format!(
                            "lexicon.{label}.{language}: keyword `{keyword}` has no letters; remove it"
                        )));
                    }
                    lexicon.insert(buf.as_bytes(), bit, is_prefix);
                    lexicon.keyword_count += 1;
                }
            }
        }
        lexicon.languages.sort();
        for &(b, next) in &lexicon.nodes[0].children {
            lexicon.root[b as usize] = next;
        }
        Ok(lexicon)
    }

    fn insert(&mut self, key: &[u8], bit: u64, is_prefix: bool) {
        let mut node = 0usize;
        for &b in key {
            node = match self.nodes[node].children.iter().find(|(c, _)| *c == b) {
                Some(&(_, next)) => next as usize,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].children.push((b, next as u32));
                    next
                }
            };
        }
        if is_prefix {
            self.nodes[node].prefix |= bit;
        } else {
            self.nodes[node].exact |= bit;
        }
    }

    /// Label ids, in the order used by [`Lexicon::count_hits`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Language codes present in the file.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    pub fn keyword_count(&self) -> usize {
        self.keyword_count
    }

    /// The TOML text this lexicon was parsed from (stored in model files).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Counts, per label, the words of an already normalised text at which a
    /// keyword of that label starts. `hits` must have one slot per label.
    pub(crate) fn count_hits(&self, normalized: &str, hits: &mut [u16]) {
        hits.iter_mut().for_each(|h| *h = 0);
        let bytes = normalized.as_bytes();
        let mut start = 0usize;
        while start < bytes.len() {
            let end = memchr_space(bytes, start);
            let token = &normalized[start..end];
            let mut matched = self.walk(bytes, start);
            let clitic = if token.as_bytes()[0] >= 0xd8 { arabic_proclitic_len(token) } else { 0 };
            if clitic > 0 {
                matched |= self.walk(bytes, start + clitic);
            }
            while matched != 0 {
                let label = matched.trailing_zeros() as usize;
                hits[label] = hits[label].saturating_add(1);
                matched &= matched - 1;
            }
            start = end + 1;
        }
    }

    /// Labels of the keywords that match the text starting at byte `start`.
    fn walk(&self, bytes: &[u8], start: usize) -> u64 {
        let mut node = 0usize;
        let mut matched = 0u64;
        for pos in start..bytes.len() {
            let b = bytes[pos];
            let next = if node == 0 {
                self.root[b as usize] as usize
            } else {
                self.nodes[node].children.iter().find(|(c, _)| *c == b).map_or(0, |&(_, n)| n as usize)
            };
            if next == 0 {
                break;
            }
            node = next;
            let n = &self.nodes[node];
            matched |= n.prefix;
            if n.exact != 0 && (pos + 1 == bytes.len() || bytes[pos + 1] == b' ') {
                matched |= n.exact;
            }
        }
        matched
    }

    /// Cold-start reading of one text: for each label, a score in [0, 1) that
    /// grows with the number of keyword hits (`1 - 0.4^hits`: one hit 0.6,
    /// two 0.84). A heuristic, not a calibrated probability.
    pub fn scores(&self, text: &str) -> Vec<(&str, f32)> {
        let mut normalized = String::new();
        normalize_into(text, &mut normalized);
        let mut hits = vec![0u16; self.labels.len()];
        self.count_hits(&normalized, &mut hits);
        self.labels.iter().zip(&hits).map(|(l, &h)| (l.as_str(), hit_score(h))).collect()
    }
}

/// Heuristic cold-start score for a number of keyword hits.
pub(crate) fn hit_score(hits: u16) -> f32 {
    1.0 - 0.4f32.powi(hits.min(20) as i32)
}

fn memchr_space(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b' ').map_or(bytes.len(), |p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
[lexicon.food]
en = ["hunger", "food"]
fr = ["famine", "nourriture"]

[lexicon.environmental]
en = ["flood*", "heavy rain"]
ar = ["فيضان"]
"#;

    fn hits(lex: &Lexicon, text: &str) -> BTreeMap<String, u16> {
        let mut h = vec![0; lex.labels().len()];
        lex.count_hits(&crate::normalize(text), &mut h);
        lex.labels().iter().cloned().zip(h).filter(|(_, n)| *n > 0).collect()
    }

    #[test]
    fn exact_keywords_match_whole_words_only() {
        let lex = Lexicon::parse(SMALL, "test").unwrap();
        assert_eq!(hits(&lex, "Hunger in the camp").get("food"), Some(&1));
        assert!(hits(&lex, "hungery foods").is_empty());
    }

    #[test]
    fn prefix_and_phrase_keywords() {
        let lex = Lexicon::parse(SMALL, "test").unwrap();
        assert_eq!(hits(&lex, "Flooding after HEAVY  rain").get("environmental"), Some(&2));
        assert!(hits(&lex, "heavy rains").is_empty(), "a phrase without * ends at a word boundary");
    }

    #[test]
    fn arabic_with_attached_proclitic() {
        let lex = Lexicon::parse(SMALL, "test").unwrap();
        assert_eq!(hits(&lex, "والفيضان دمر القرية").get("environmental"), Some(&1));
    }

    #[test]
    fn rejects_empty_keywords() {
        let err = Lexicon::parse("[lexicon.food]\nen = [\"*\"]\n", "mine.toml").unwrap_err();
        assert!(err.to_string().contains("lexicon.food.en"), "{err}");
    }
}
