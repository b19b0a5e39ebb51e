//! Hashed sparse features of a message (the "hashing trick", Weinberger et
//! al. 2009): character n-grams inside word boundaries (fastText-style
//! `<word>` padding, Bojanowski et al. 2017), word unigrams and bigrams, and
//! the lexicon's hit counts per label. Memory is bounded by `2^bits` buckets
//! whatever the vocabulary or language.

use serde::{Deserialize, Serialize};

use crate::lexicon::Lexicon;
use crate::text::normalize_into;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// Number of hash buckets is `2^bits`.
    pub bits: u8,
    /// Shortest and longest character n-gram (in characters, `<` `>` padding included).
    pub char_min: u8,
    pub char_max: u8,
    /// Value of a lexicon-hit feature is `lexicon_weight * ln(1 + hits)`.
    pub lexicon_weight: f32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig { bits: 17, char_min: 3, char_max: 5, lexicon_weight: 1.0 }
    }
}

const SEED_CHAR: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_WORD: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SEED_BIGRAM: u64 = 0x1656_67b1_9e37_79f9;
const SEED_LEXICON: u64 = 0x27d4_eb2f_1656_67c5;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Reusable buffers so that extracting features allocates nothing per message.
#[derive(Default)]
pub(crate) struct Scratch {
    pub normalized: String,
    pub chars: Vec<char>,
    pub hits: Vec<u16>,
    pub features: Vec<(u32, f32)>,
}

#[inline]
fn fnv_step(h: u64, c: char) -> u64 {
    (h ^ c as u64).wrapping_mul(FNV_PRIME)
}

impl FeatureConfig {
    /// Fibonacci (multiply-shift) hashing of the FNV state to a bucket.
    #[inline]
    fn bucket(&self, h: u64) -> u32 {
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.bits as u32)) as u32
    }

    pub fn buckets(&self) -> usize {
        1usize << self.bits
    }

    /// Extracts the features of `text` into `scratch.features` (and lexicon
    /// hits into `scratch.hits`). Each block (character n-grams, words) is
    /// scaled to unit L2 norm, so long and short messages weigh alike.
    pub(crate) fn extract(&self, lexicon: &Lexicon, idf: Option<&[f32]>, text: &str, scratch: &mut Scratch) {
        normalize_into(text, &mut scratch.normalized);
        let Scratch { normalized, chars, hits, features } = scratch;
        features.clear();
        // Value 0.0 marks the char block, 1.0 the word block, until `scale_blocks`.
        self.for_each_hashed(normalized, chars, |bucket, is_word| {
            features.push((bucket, if is_word { 1.0 } else { 0.0 }))
        });
        scale_blocks(features, idf);
        self.count_lexicon_hits(lexicon, normalized, hits);
        for (label, &h) in hits.iter().enumerate() {
            if h > 0 {
                features.push((self.lexicon_bucket(label), self.lexicon_value(h)));
            }
        }
    }

    pub(crate) fn count_lexicon_hits(&self, lexicon: &Lexicon, normalized: &str, hits: &mut Vec<u16>) {
        hits.resize(lexicon.labels().len(), 0);
        lexicon.count_hits(normalized, hits);
    }

    #[inline]
    pub(crate) fn lexicon_bucket(&self, label: usize) -> u32 {
        self.bucket(SEED_LEXICON ^ (label as u64 + 1).wrapping_mul(FNV_PRIME))
    }

    #[inline]
    pub(crate) fn lexicon_value(&self, hits: u16) -> f32 {
        self.lexicon_weight * (1.0 + hits as f32).ln()
    }

    /// Calls `visit(bucket, is_word)` for every char n-gram (`false`) and word
    /// unigram or bigram (`true`) of an already normalised text.
    #[inline]
    pub(crate) fn for_each_hashed(&self, normalized: &str, chars: &mut Vec<char>, mut visit: impl FnMut(u32, bool)) {
        let (lo, hi) = (self.char_min as usize, self.char_max as usize);
        let mut prev_word: u64 = 0;
        for (words, token) in normalized.split(' ').filter(|t| !t.is_empty()).enumerate() {
            chars.clear();
            chars.push('<');
            chars.extend(token.chars());
            chars.push('>');
            // All n-grams with lo <= n <= hi, one incremental FNV-1a pass per start.
            for start in 0..chars.len() {
                let mut h = SEED_CHAR;
                for (n, &c) in chars[start..].iter().take(hi).enumerate() {
                    h = fnv_step(h, c);
                    if n + 1 >= lo {
                        visit(self.bucket(h), false);
                    }
                }
            }
            let word = token.chars().fold(SEED_WORD, fnv_step);
            visit(self.bucket(word), true);
            if words > 0 {
                visit(self.bucket(prev_word.rotate_left(17) ^ word ^ SEED_BIGRAM), true);
            }
            prev_word = word;
        }
    }
}

/// Char n-grams were pushed with value 0.0 and words with 1.0. Each feature
/// gets its inverse document frequency (1 without one) and each block is then
/// scaled to unit L2 norm (TF-IDF with L2 normalisation, Salton & Buckley 1988).
fn scale_blocks(features: &mut [(u32, f32)], idf: Option<&[f32]>) {
    let (mut word_sq, mut char_sq) = (0.0f32, 0.0f32);
    for f in features.iter_mut() {
        let weight = idf.map_or(1.0, |idf| idf[f.0 as usize]);
        if f.1 != 0.0 {
            word_sq += weight * weight;
            f.1 = weight;
        } else {
            char_sq += weight * weight;
            f.1 = -weight;
        }
    }
    let word_scale = if word_sq > 0.0 { 1.0 / word_sq.sqrt() } else { 0.0 };
    let char_scale = if char_sq > 0.0 { 1.0 / char_sq.sqrt() } else { 0.0 };
    for f in features.iter_mut() {
        f.1 = if f.1 > 0.0 { f.1 * word_scale } else { -f.1 * char_scale };
    }
}

/// Smoothed inverse document frequency per bucket, `ln((1 + n) / (1 + df)) + 1`
/// (scikit-learn's `smooth_idf`), from the rows of a sparse matrix.
pub(crate) fn inverse_document_frequency(buckets: usize, rows: usize, index: &[u32]) -> Vec<f32> {
    let mut df = vec![0u32; buckets];
    for &j in index {
        df[j as usize] += 1;
    }
    df.iter().map(|&d| ((1.0 + rows as f32) / (1.0 + d as f32)).ln() + 1.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> Vec<(u32, f32)> {
        let lex = Lexicon::parse("[lexicon.food]\nen = [\"rice\"]\n", "t").unwrap();
        let mut s = Scratch::default();
        FeatureConfig::default().extract(&lex, None, text, &mut s);
        s.features
    }

    #[test]
    fn counts_char_ngrams_words_and_bigrams() {
        // "ab cd": padded "<ab>" has 2 trigrams and 1 four-gram = 3 char n-grams
        // per word (n from 3 to 5); 2 words, 1 bigram.
        let f = features("ab cd");
        assert_eq!(f.len(), 3 + 3 + 2 + 1);
        let word_value = 1.0 / 3f32.sqrt();
        assert_eq!(f.iter().filter(|x| (x.1 - word_value).abs() < 1e-6).count(), 3);
    }

    #[test]
    fn same_text_same_features_and_case_does_not_matter() {
        assert_eq!(features("Need RICE"), features("need rice"));
        assert_ne!(features("need rice"), features("need water"));
    }

    #[test]
    fn lexicon_hit_adds_one_feature() {
        assert_eq!(features("rice rice").len(), features("ricx ricx").len() + 1);
    }
}
