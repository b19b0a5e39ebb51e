//! The multilingual keyword lexicon: the cold-start reader.
//!
//! File format (TOML, the `[lexicon]` part of the framework file):
//! one table per dimension or theme id, one array of keywords per language
//! code. A keyword matches a whole normalised word (see [`crate::normalize`]);
//! a trailing `*` matches any word that starts with it (`inond*`); a keyword of
//! several words matches them in sequence (`groupe arme*`). Arabic words are
//! also tried without their attached proclitics (و, ال, ب, ...).
//!
//! A *compound* keyword, `loot*|raid*|stole & cattle|livestock|food aid`,
//! has parts separated by `&`, each a list of alternatives separated by `|`
//! (each alternative a keyword as above). It fires when every part matches
//! within [`COMPOUND_WINDOW`] words of the others, and then decides its label
//! on its own: the lexicon reading and a trained model both give the label,
//! whatever the model's score. Compounds are for what the training data
//! never shows (violence against food and livelihoods in conflict reports),
//! so they must be specific; they add no keyword hit and no model feature.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::text::{arabic_proclitic_len, normalize_into};

/// The lexicon shipped in the framework data file.
pub use vitalcore_framework::BUILTIN_LEXICON;

/// The parts of a compound keyword must all match within this many words
/// (the distance between the first words of the first and last part).
pub const COMPOUND_WINDOW: usize = 12;

/// Bits available for compound keyword parts in one lexicon.
const MAX_PARTS: usize = 64;

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
    trie: Trie,
    /// Compound keywords: (label index, mask of their parts' bits).
    compounds: Vec<(usize, u64)>,
    /// The compound of each part bit (index into `compounds`).
    compound_of_part: Vec<u16>,
    source: String,
}

/// The trie while keywords are inserted.
#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(u8, u32)>,
    /// Labels whose keyword ends here and must end at a word boundary.
    exact: u64,
    /// Labels whose keyword is a prefix (`word*`) ending here.
    prefix: u64,
    /// The same for the parts of compound keywords (bits are part numbers).
    part_exact: u64,
    part_prefix: u64,
}

/// The trie as matched, in flat arrays: a node with one child keeps it
/// inline, a node with several has a dense row indexed by byte class (the
/// bytes keywords use), so a step is one lookup with no search loop whose
/// length the processor would have to guess.
#[derive(Debug, Clone, Default)]
struct Trie {
    nodes: Vec<FlatNode>,
    /// Byte -> class (0: no keyword has this byte).
    class_of: Vec<u16>,
    classes: usize,
    /// `classes` children per row (0: none).
    rows: Vec<u32>,
}

#[derive(Debug, Clone, Copy, Default)]
struct FlatNode {
    exact: u64,
    prefix: u64,
    part_exact: u64,
    part_prefix: u64,
    /// Row in `rows` of a node with several children, or `NO_ROW`.
    row: u32,
    /// The one child of a node with a single child (`only_target` 0: none).
    only_byte: u8,
    only_target: u32,
}

const NO_ROW: u32 = u32::MAX;

impl Trie {
    fn flatten(nodes: &[Node]) -> Trie {
        let mut class_of = vec![0u16; 256];
        let mut classes = 1;
        for &(b, _) in nodes.iter().flat_map(|n| &n.children) {
            if class_of[b as usize] == 0 {
                class_of[b as usize] = classes as u16;
                classes += 1;
            }
        }
        let mut trie = Trie { class_of, classes, ..Trie::default() };
        for node in nodes {
            let mut flat = FlatNode {
                exact: node.exact,
                prefix: node.prefix,
                part_exact: node.part_exact,
                part_prefix: node.part_prefix,
                row: NO_ROW,
                ..FlatNode::default()
            };
            match node.children.as_slice() {
                [] => {}
                &[(b, next)] => (flat.only_byte, flat.only_target) = (b, next),
                children => {
                    flat.row = (trie.rows.len() / classes) as u32;
                    trie.rows.resize(trie.rows.len() + classes, 0);
                    let row = &mut trie.rows[flat.row as usize * classes..];
                    for &(b, next) in children {
                        row[trie.class_of[b as usize] as usize] = next;
                    }
                }
            }
            trie.nodes.push(flat);
        }
        trie
    }

    /// The child of `node` for byte `b` (0: none).
    #[inline(always)]
    fn child(&self, node: &FlatNode, b: u8) -> usize {
        if node.row != NO_ROW {
            self.rows[node.row as usize * self.classes + self.class_of[b as usize] as usize] as usize
        } else if node.only_byte == b {
            node.only_target as usize
        } else {
            0
        }
    }

    /// Labels of the keywords, and compound parts, that match the text
    /// starting at byte `start`.
    #[inline]
    fn walk(&self, bytes: &[u8], start: usize) -> (u64, u64) {
        let (mut matched, mut parts) = (0u64, 0u64);
        let mut node = self.child(&self.nodes[0], bytes[start]);
        let mut pos = start;
        while node != 0 {
            let n = &self.nodes[node];
            let next = bytes.get(pos + 1).copied();
            matched |= n.prefix;
            parts |= n.part_prefix;
            if matches!(next, None | Some(b' ')) {
                matched |= n.exact;
                parts |= n.part_exact;
            }
            let Some(b) = next else { break };
            node = self.child(n, b);
            pos += 1;
        }
        (matched, parts)
    }
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
            trie: Trie::default(),
            compounds: Vec::new(),
            compound_of_part: Vec::new(),
            source: toml_text.to_string(),
        };
        let mut nodes = vec![Node::default()];
        let mut buf = String::new();
        for (label, by_language) in &file.lexicon {
            let bit = 1u64 << lexicon.labels.len();
            lexicon.labels.push(label.clone());
            for (language, keywords) in by_language {
                if !lexicon.languages.contains(language) {
                    lexicon.languages.push(language.clone());
                }
                for keyword in keywords {
                    if !keyword.contains('&') {
                        if !insert_keyword(&mut nodes, &mut buf, keyword, Slot::Label(bit)) {
                            return Err(lex_err(format!(
                                "lexicon.{label}.{language}: keyword `{keyword}` has no letters; remove it"
                            )));
                        }
                        lexicon.keyword_count += 1;
                        continue;
                    }
                    let mut mask = 0u64;
                    for part in keyword.split('&') {
                        let part_bit = lexicon.compound_of_part.len();
                        if part_bit == MAX_PARTS {
                            return Err(lex_err(format!(
                                "lexicon.{label}.{language}: keyword `{keyword}`: more than {MAX_PARTS} compound \
                                 parts in the lexicon; merge some compounds"
                            )));
                        }
                        lexicon.compound_of_part.push(lexicon.compounds.len() as u16);
                        mask |= 1 << part_bit;
                        for alternative in part.split('|') {
                            if !insert_keyword(&mut nodes, &mut buf, alternative, Slot::Part(1 << part_bit)) {
                                return Err(lex_err(format!(
                                    "lexicon.{label}.{language}: compound keyword `{keyword}` has an alternative \
                                     without letters (`{}`); remove it",
                                    alternative.trim()
                                )));
                            }
                        }
                    }
                    lexicon.compounds.push((lexicon.labels.len() - 1, mask));
                    lexicon.keyword_count += 1;
                }
            }
        }
        lexicon.languages.sort();
        lexicon.trie = Trie::flatten(&nodes);
        Ok(lexicon)
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
    /// Returns the labels decided by a compound keyword (bit = label index).
    pub(crate) fn count_hits(&self, normalized: &str, hits: &mut [u16]) -> u64 {
        hits.iter_mut().for_each(|h| *h = 0);
        let bytes = normalized.as_bytes();
        let mut start = 0usize;
        let mut word = 0usize;
        let mut decided = 0u64;
        // Word (+ 1) at which each compound part last matched; 0: not yet.
        let mut last = [0usize; MAX_PARTS];
        while start < bytes.len() {
            let end = memchr_space(bytes, start);
            let token = &normalized[start..end];
            let (mut matched, mut parts) = self.trie.walk(bytes, start);
            let clitic = if token.as_bytes()[0] >= 0xd8 { arabic_proclitic_len(token) } else { 0 };
            if clitic > 0 {
                let (m, p) = self.trie.walk(bytes, start + clitic);
                (matched, parts) = (matched | m, parts | p);
            }
            while matched != 0 {
                let label = matched.trailing_zeros() as usize;
                hits[label] = hits[label].saturating_add(1);
                matched &= matched - 1;
            }
            word += 1;
            if parts != 0 {
                decided |= self.compounds_at(parts, word, &mut last);
            }
            start = end + 1;
        }
        decided
    }

    /// Records that the compound `parts` matched at `word` (counted from 1)
    /// and returns the labels of the compounds now complete within the window.
    #[cold]
    fn compounds_at(&self, mut parts: u64, word: usize, last: &mut [usize; MAX_PARTS]) -> u64 {
        let mut decided = 0u64;
        let mut check = parts;
        while parts != 0 {
            last[parts.trailing_zeros() as usize] = word;
            parts &= parts - 1;
        }
        while check != 0 {
            let (label, mut mask) = self.compounds[self.compound_of_part[check.trailing_zeros() as usize] as usize];
            let mut complete = true;
            while mask != 0 {
                let seen = last[mask.trailing_zeros() as usize];
                complete &= seen != 0 && seen + COMPOUND_WINDOW >= word;
                mask &= mask - 1;
            }
            decided |= (complete as u64) << label;
            check &= check - 1;
        }
        decided
    }

    /// Cold-start reading of one text: for each label, a score in [0, 1) that
    /// grows with the number of keyword hits (`1 - 0.4^hits`: one hit 0.6,
    /// two 0.84). A heuristic, not a calibrated probability.
    pub fn scores(&self, text: &str) -> Vec<(&str, f32)> {
        let mut normalized = String::new();
        normalize_into(text, &mut normalized);
        let mut hits = vec![0u16; self.labels.len()];
        let decided = self.count_hits(&normalized, &mut hits);
        self.labels
            .iter()
            .zip(&hits)
            .enumerate()
            .map(|(i, (l, &h))| (l.as_str(), lexicon_score(h, decided, i)))
            .collect()
    }
}

/// The lexicon reading of a label: its hit score, and at least one hit's
/// score when a compound keyword decided it.
pub(crate) fn lexicon_score(hits: u16, decided: u64, label: usize) -> f32 {
    hit_score(if decided >> label & 1 == 1 { hits.max(1) } else { hits })
}

enum Slot {
    /// A keyword of the label with this bit.
    Label(u64),
    /// An alternative of the compound part with this bit.
    Part(u64),
}

/// Inserts one keyword (`word`, `word*`, `several words`); false when it has no letters.
fn insert_keyword(nodes: &mut Vec<Node>, buf: &mut String, keyword: &str, slot: Slot) -> bool {
    let (stem, is_prefix) = match keyword.trim().strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (keyword.trim(), false),
    };
    normalize_into(stem, buf);
    if buf.is_empty() {
        return false;
    }
    let node = insert(nodes, buf.as_bytes());
    let n = &mut nodes[node];
    match (slot, is_prefix) {
        (Slot::Label(bit), true) => n.prefix |= bit,
        (Slot::Label(bit), false) => n.exact |= bit,
        (Slot::Part(bit), true) => n.part_prefix |= bit,
        (Slot::Part(bit), false) => n.part_exact |= bit,
    }
    true
}

/// The node that ends `key`, created with those before it as needed.
fn insert(nodes: &mut Vec<Node>, key: &[u8]) -> usize {
    let mut node = 0usize;
    for &b in key {
        node = match nodes[node].children.iter().find(|(c, _)| *c == b) {
            Some(&(_, next)) => next as usize,
            None => {
                let next = nodes.len();
                nodes.push(Node::default());
                nodes[node].children.push((b, next as u32));
                next
            }
        };
    }
    node
}

/// [`hit_score`] stops growing at this many hits.
pub(crate) const HIT_SCORE_CAP: u16 = 20;

/// Heuristic cold-start score for a number of keyword hits.
pub(crate) fn hit_score(hits: u16) -> f32 {
    1.0 - 0.4f32.powi(hits.min(HIT_SCORE_CAP) as i32)
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
        let err = Lexicon::parse("[lexicon.food]\nen = [\"cattle & raid*| \"]\n", "mine.toml").unwrap_err();
        assert!(err.to_string().contains("lexicon.food.en") && err.to_string().contains("cattle & raid*|"), "{err}");
    }

    const COMPOUNDS: &str = r#"
[lexicon.economic]
en = ["market"]

[lexicon.food]
en = ["hunger", "cattle|livestock|goat* & raid*|stole|looted the", "fields & cannot reach|unable to reach & armed men"]
"#;

    /// Hits and decided labels (by id) of a text.
    fn read(lex: &Lexicon, text: &str) -> (BTreeMap<String, u16>, Vec<String>) {
        let mut h = vec![0; lex.labels().len()];
        let decided = lex.count_hits(&crate::normalize(text), &mut h);
        let ids = lex.labels().iter().enumerate().filter(|(i, _)| decided >> i & 1 == 1).map(|(_, l)| l.clone());
        (lex.labels().iter().cloned().zip(h).filter(|(_, n)| *n > 0).collect(), ids.collect())
    }

    #[test]
    fn a_compound_needs_every_part_and_adds_no_hit() {
        let lex = Lexicon::parse(COMPOUNDS, "test").unwrap();
        assert_eq!(lex.keyword_count(), 4);
        let (hits, decided) = read(&lex, "Gunmen raided the village and took 200 CATTLE.");
        assert_eq!(decided, ["food"]);
        assert!(hits.is_empty(), "compound parts are not keywords: {hits:?}");
        assert_eq!(read(&lex, "Armed men looted the goats' pens").1, ["food"], "multi-word alternative, prefix");
        assert!(read(&lex, "Gunmen raided the village").1.is_empty(), "one part alone");
        assert!(read(&lex, "The cattle market").1.is_empty());
        assert!(read(&lex, "They looted them").1.is_empty(), "`looted the` is a sequence");
        // Three parts, in any order.
        assert_eq!(read(&lex, "Armed men: farmers unable to reach their fields").1, ["food"]);
        assert!(read(&lex, "Farmers unable to reach their fields").1.is_empty());
    }

    #[test]
    fn compound_parts_must_fall_within_the_window() {
        let lex = Lexicon::parse(COMPOUNDS, "test").unwrap();
        let gap = |n: usize| format!("cattle {} stole", "word ".repeat(n));
        // `cattle` is word 1, `stole` word n + 2: n + 1 words apart.
        assert_eq!(read(&lex, &gap(COMPOUND_WINDOW - 1)).1, ["food"]);
        assert!(read(&lex, &gap(COMPOUND_WINDOW)).1.is_empty());
        // The latest match of a part counts: an early `cattle` and a late one.
        let text = format!("cattle {} cattle then stole", "word ".repeat(2 * COMPOUND_WINDOW));
        assert_eq!(read(&lex, &text).1, ["food"]);
    }

    #[test]
    fn a_compound_decides_the_lexicon_reading() {
        let lex = Lexicon::parse(COMPOUNDS, "test").unwrap();
        let scores: BTreeMap<&str, f32> = lex.scores("Raiders stole the livestock").into_iter().collect();
        assert_eq!(scores["food"], hit_score(1));
        assert_eq!(scores["economic"], 0.0);
        let scores: BTreeMap<&str, f32> = lex.scores("Raiders stole the livestock; hunger").into_iter().collect();
        assert_eq!(scores["food"], hit_score(1), "a compound adds no hit to the keywords' own");
    }
}
