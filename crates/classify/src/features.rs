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
    /// Code points of the current token with its `<` `>` padding.
    pub chars: Vec<u32>,
    pub hits: Vec<u16>,
    /// Lexicon labels decided by a compound keyword (bit = lexicon label index).
    pub decided: u64,
    pub features: Vec<(u32, f32)>,
    /// Buckets of the char n-grams and of the words and bigrams of a text.
    pub char_buckets: Vec<u32>,
    pub word_buckets: Vec<u32>,
}

#[inline(always)]
fn fnv_step(h: u64, c: u32) -> u64 {
    (h ^ c as u64).wrapping_mul(FNV_PRIME)
}

impl FeatureConfig {
    /// Fibonacci (multiply-shift) hashing of the FNV state to a bucket.
    #[inline(always)]
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
        let Scratch { normalized, chars, hits, features, decided, .. } = scratch;
        features.clear();
        // Value 0.0 marks the char block, 1.0 the word block, until `scale_blocks`.
        self.for_each_hashed(normalized, chars, |bucket, is_word| {
            features.push((bucket, if is_word { 1.0 } else { 0.0 }))
        });
        scale_blocks(features, idf);
        *decided = self.count_lexicon_hits(lexicon, normalized, hits);
        for (label, &h) in hits.iter().enumerate() {
            if h > 0 {
                features.push((self.lexicon_bucket(label), self.lexicon_value(h)));
            }
        }
    }

    /// Returns the labels decided by a compound keyword (see [`Lexicon`]).
    pub(crate) fn count_lexicon_hits(&self, lexicon: &Lexicon, normalized: &str, hits: &mut Vec<u16>) -> u64 {
        hits.resize(lexicon.labels().len(), 0);
        lexicon.count_hits(normalized, hits)
    }

    #[inline]
    pub(crate) fn lexicon_bucket(&self, label: usize) -> u32 {
        self.bucket(SEED_LEXICON ^ (label as u64 + 1).wrapping_mul(FNV_PRIME))
    }

    #[inline]
    pub(crate) fn lexicon_value(&self, hits: u16) -> f32 {
        self.lexicon_weight * (1.0 + hits as f32).ln()
    }

    /// The buckets of the char n-grams and of the words and bigrams of an
    /// already normalised text, each block in [`FeatureConfig::for_each_hashed`]
    /// order. The buffers only grow and are written by index, and the loop
    /// has no closures, so counts and pointers stay in registers.
    pub(crate) fn hash_blocks<'a>(
        &self,
        normalized: &str,
        chars: &mut Vec<u32>,
        grams: &'a mut Vec<u32>,
        words: &'a mut Vec<u32>,
    ) -> (&'a [u32], &'a [u32]) {
        // A token of L code points has L + 2 n-gram starts, each with at most
        // `sizes` n-grams; tokens of L >= 1 bytes and a space between them:
        // the starts add up to at most 2 * bytes + 1.
        let sizes = (self.char_max as usize + 1).saturating_sub(self.char_min.max(1) as usize);
        // Plus slack: the last n-grams of a token are written, then dropped.
        grow(grams, sizes * (2 * normalized.len() + 2));
        grow(words, normalized.len() + 1);
        // Plus slack: windows run up to `char_max` - 1 code points past a token.
        grow(chars, normalized.len() + 2 + self.char_max as usize);
        let mut out = BlockWriter { grams, words, n_grams: 0, n_words: 0, prev_word: None };
        if normalized.is_ascii() {
            // Most messages are ASCII after normalisation: bytes are code points.
            for token in normalized.as_bytes().split(|&b| b == b' ').filter(|t| !t.is_empty()) {
                let len = pad_ascii(token, chars);
                self.hash_token_into(chars, len, &mut out);
            }
        } else {
            for token in normalized.split(' ').filter(|t| !t.is_empty()) {
                let len = pad_chars(token, chars);
                self.hash_token_into(chars, len, &mut out);
            }
        }
        let BlockWriter { grams, words, n_grams, n_words, .. } = out;
        (&grams[..n_grams], &words[..n_words])
    }

    /// One token, padded, in `chars[..len]` (slack after it).
    #[inline(always)]
    fn hash_token_into(&self, chars: &[u32], len: usize, out: &mut BlockWriter) {
        let grams = &mut out.grams[out.n_grams..];
        out.n_grams += if (self.char_min, self.char_max) == (3, 5) {
            self.char_ngrams_into::<3, 5>(chars, len, grams)
        } else {
            let mut n = 0;
            self.char_ngrams(&chars[..len], &mut |bucket| {
                grams[n] = bucket;
                n += 1;
            });
            n
        };
        let (word, bigram) = self.word_and_bigram(&chars[..len], &mut out.prev_word);
        out.words[out.n_words] = word;
        out.n_words += 1;
        if let Some(bigram) = bigram {
            out.words[out.n_words] = bigram;
            out.n_words += 1;
        }
    }

    /// Writes the n-gram buckets of the padded token `chars[..len]` at the
    /// start of `out`; their count. Branch-free: from every start with at
    /// least `LO` code points, all `HI - LO + 1` sizes are hashed and written
    /// (reading past the token into slack), and the count only advances for
    /// the n-grams inside the token, so the others are overwritten.
    #[inline(always)]
    fn char_ngrams_into<const LO: usize, const HI: usize>(&self, chars: &[u32], len: usize, out: &mut [u32]) -> usize {
        let mut n = 0;
        for start in 0..(len + 1).saturating_sub(LO) {
            let window: &[u32; HI] = chars[start..start + HI].try_into().expect("a window of HI");
            // One bounds check per start, not per n-gram.
            let dst = &mut out[n..n + HI + 1 - LO];
            let mut kept = 0;
            let mut h = SEED_CHAR;
            for (k, &c) in window.iter().enumerate() {
                h = fnv_step(h, c);
                if k + 1 >= LO {
                    dst[k + 1 - LO] = self.bucket(h);
                    kept += (start + k < len) as usize;
                }
            }
            n += kept;
        }
        n
    }

    /// Calls `visit(bucket, is_word)` for every char n-gram (`false`) and word
    /// unigram or bigram (`true`) of an already normalised text, token by
    /// token: the token's n-grams by start then length, its word, its bigram
    /// with the previous word. Hashes are FNV-1a over Unicode code points.
    pub(crate) fn for_each_hashed(&self, normalized: &str, chars: &mut Vec<u32>, mut visit: impl FnMut(u32, bool)) {
        let mut prev_word = None;
        for_each_padded_token(normalized, chars, |padded| {
            self.char_ngrams(padded, &mut |bucket| visit(bucket, false));
            let (word, bigram) = self.word_and_bigram(padded, &mut prev_word);
            visit(word, true);
            if let Some(bigram) = bigram {
                visit(bigram, true);
            }
        });
    }

    /// Buckets of a token's word and of its bigram with the previous word
    /// (whose hash `prev_word` holds, and is then updated).
    #[inline(always)]
    fn word_and_bigram(&self, padded: &[u32], prev_word: &mut Option<u64>) -> (u32, Option<u32>) {
        let word = padded[1..padded.len() - 1].iter().fold(SEED_WORD, |h, &c| fnv_step(h, c));
        let bigram = prev_word.map(|prev| self.bucket(prev.rotate_left(17) ^ word ^ SEED_BIGRAM));
        *prev_word = Some(word);
        (self.bucket(word), bigram)
    }

    /// All n-grams with `char_min <= n <= char_max`, one incremental FNV-1a
    /// pass per start.
    fn char_ngrams(&self, padded: &[u32], emit: &mut impl FnMut(u32)) {
        let (lo, hi) = (self.char_min as usize, self.char_max as usize);
        for start in 0..padded.len() {
            let mut h = SEED_CHAR;
            for (n, &c) in padded[start..].iter().take(hi).enumerate() {
                h = fnv_step(h, c);
                if n + 1 >= lo {
                    emit(self.bucket(h));
                }
            }
        }
    }
}

fn grow(buffer: &mut Vec<u32>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
}

/// Where [`FeatureConfig::hash_blocks`] writes, and how far it got.
struct BlockWriter<'a> {
    grams: &'a mut [u32],
    words: &'a mut [u32],
    n_grams: usize,
    n_words: usize,
    prev_word: Option<u64>,
}

/// Writes `<token>` as code points into `chars`; its length.
#[inline(always)]
fn pad_ascii(token: &[u8], chars: &mut [u32]) -> usize {
    let padded = &mut chars[..token.len() + 2];
    padded[0] = '<' as u32;
    for (c, &b) in padded[1..].iter_mut().zip(token) {
        *c = b as u32;
    }
    padded[token.len() + 1] = '>' as u32;
    token.len() + 2
}

#[inline(always)]
fn pad_chars(token: &str, chars: &mut [u32]) -> usize {
    chars[0] = '<' as u32;
    let mut len = 1;
    for c in token.chars() {
        chars[len] = c as u32;
        len += 1;
    }
    chars[len] = '>' as u32;
    len + 1
}

/// Calls `f` with every token of an already normalised text as code points
/// padded `<token>`, in `chars` (grown to fit, reused).
#[inline(always)]
fn for_each_padded_token(normalized: &str, chars: &mut Vec<u32>, mut f: impl FnMut(&[u32])) {
    grow(chars, normalized.len() + 2);
    if normalized.is_ascii() {
        for token in normalized.as_bytes().split(|&b| b == b' ').filter(|t| !t.is_empty()) {
            let len = pad_ascii(token, chars);
            f(&chars[..len]);
        }
    } else {
        for token in normalized.split(' ').filter(|t| !t.is_empty()) {
            let len = pad_chars(token, chars);
            f(&chars[..len]);
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
