//! The fast prediction path checked against plain reference versions of each
//! step (written the simple, slow way this crate first computed them): text
//! normalisation, feature hashing, keyword matching and the label decision.
//! Any change in what the model predicts shows up here.

use std::path::Path;

use crate::features::{FeatureConfig, Scratch};
use crate::lexicon::{COMPOUND_WINDOW, Lexicon, hit_score};
use crate::linear::{SplitMix, sigmoid};
use crate::model::{Model, TrainConfig, train};
use crate::text::{arabic_proclitic_len, normalize, normalize_into};
use crate::{Classifier, Crosswalk, TextColumn, label_universe, read_labelled, read_texts};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Fixture messages and originals, plus pseudo-random texts mixing their
/// words with case, digits, punctuation, accents, Arabic (with short vowels
/// and proclitics), other scripts and long tokens.
fn texts() -> Vec<String> {
    // Empty, punctuation only, and long enough for the model's 64-bit sums.
    let mut texts: Vec<String> = vec![String::new(), "   ...   ".into(), "water food shelter ".repeat(700)];
    for file in ["messages_train.csv", "messages_test.csv"] {
        for column in ["message", "original"] {
            texts.extend(read_texts(&fixture(file), column).expect("fixture reads"));
        }
    }
    // Conflict incidents, so that compound keywords fire.
    texts.extend(read_texts(&fixture("conflict_incidents.csv"), "text").expect("fixture reads"));
    let mut words: Vec<String> = texts.iter().flat_map(|t| t.split_whitespace().map(String::from)).collect();
    words.extend(
        [
            "والماء",
            "الفيضان",
            "مَدْرَسَة",
            "أطفال",
            "Élève",
            "BLESSÉ",
            "12h!!",
            "l'eau",
            "œuvre",
            "Æsir",
            "ÇA",
            "naïve",
            "Ωmega",
            "東京",
            "İstanbul",
            "ß",
            "ﬁre",
            "٣٤٥",
            "—",
            "…",
            "\t",
            "\n",
            "a",
            "x1y2",
            "supercalifragilisticexpialidocious",
            "rain",
            "flood",
            "inondation",
            "njaa",
            "mafuriko",
            "grangou",
        ]
        .map(String::from),
    );
    let mut rng = SplitMix(7);
    for _ in 0..3000 {
        let n = (rng.next() % 40) as usize;
        let mut t = String::new();
        for _ in 0..n {
            t.push_str(&words[(rng.next() % words.len() as u64) as usize]);
            t.push_str([" ", " ", " ", ", ", "  ", "-", "."][(rng.next() % 7) as usize]);
        }
        texts.push(t);
    }
    texts
}

/// Normalisation as first written: one `char` at a time, no ASCII shortcut.
fn reference_normalize(text: &str) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for c in text.chars() {
        if matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}') {
        } else if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii_digit() {
                out.push('0');
            } else if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                // The folding table of other letters is shared: reached one char at a time.
                out.push_str(&normalize(c.encode_utf8(&mut [0; 4])));
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// Hashed features as first written: a `Vec<char>` per token, FNV-1a from
/// every start, multiply-shift to a bucket.
fn reference_hashes(config: &FeatureConfig, normalized: &str) -> Vec<(u32, bool)> {
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let step = |h: u64, c: char| (h ^ c as u64).wrapping_mul(FNV_PRIME);
    let bucket = |h: u64| (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - config.bits as u32)) as u32;
    let mut out = Vec::new();
    let mut prev_word = 0u64;
    for (words, token) in normalized.split(' ').filter(|t| !t.is_empty()).enumerate() {
        let chars: Vec<char> = std::iter::once('<').chain(token.chars()).chain(std::iter::once('>')).collect();
        for start in 0..chars.len() {
            let mut h = 0x9e37_79b9_7f4a_7c15u64;
            for n in 0..config.char_max as usize {
                let Some(&c) = chars.get(start + n) else {
                    break;
                };
                h = step(h, c);
                if n + 1 >= config.char_min as usize {
                    out.push((bucket(h), false));
                }
            }
        }
        let word = token.chars().fold(0xc2b2_ae3d_27d4_eb4fu64, step);
        out.push((bucket(word), true));
        if words > 0 {
            out.push((bucket(prev_word.rotate_left(17) ^ word ^ 0x1656_67b1_9e37_79f9), true));
        }
        prev_word = word;
    }
    out
}

/// Every plain keyword of a lexicon file as (label index, normalised stem, is a prefix).
fn reference_keywords(lexicon: &Lexicon) -> Vec<(usize, String, bool)> {
    reference_keyword_strings(lexicon)
        .into_iter()
        .filter(|(_, k)| !k.contains('&'))
        .map(|(l, keyword)| (l, reference_stem(&keyword).0, reference_stem(&keyword).1))
        .collect()
}

fn reference_keyword_strings(lexicon: &Lexicon) -> Vec<(usize, String)> {
    let file: toml::Table = toml::from_str(lexicon.source()).expect("lexicon parses");
    let table = file["lexicon"].as_table().expect("a [lexicon] table");
    let mut out = Vec::new();
    for (l, label) in lexicon.labels().iter().enumerate() {
        for keywords in table[label].as_table().expect("languages").values() {
            for keyword in keywords.as_array().expect("keywords") {
                out.push((l, keyword.as_str().expect("a string").to_string()));
            }
        }
    }
    out
}

fn reference_stem(keyword: &str) -> (String, bool) {
    let keyword = keyword.trim();
    let (stem, is_prefix) = keyword.strip_suffix('*').map_or((keyword, false), |s| (s, true));
    (normalize(stem), is_prefix)
}

/// Lexicon labels decided by a compound keyword, by brute force: the words
/// at which each part matches (any alternative); decided when, starting at
/// one of those words, every part matches within the window after it.
fn reference_decided(lexicon: &Lexicon, normalized: &str) -> u64 {
    let mut decided = 0u64;
    for (label, keyword) in reference_keyword_strings(lexicon).into_iter().filter(|(_, k)| k.contains('&')) {
        let words_of_part: Vec<Vec<usize>> = keyword
            .split('&')
            .map(|part| {
                let alternatives: Vec<(usize, String, bool)> = part
                    .split('|')
                    .map(|a| {
                        let (stem, is_prefix) = reference_stem(a);
                        (0, stem, is_prefix)
                    })
                    .collect();
                reference_match_words(&alternatives, normalized)
            })
            .collect();
        let complete = words_of_part.iter().flatten().any(|&first| {
            words_of_part.iter().all(|words| words.iter().any(|&w| w >= first && w <= first + COMPOUND_WINDOW))
        });
        if complete {
            decided |= 1 << label;
        }
    }
    decided
}

/// Keyword hits by brute force: every keyword tried at every word start (and
/// after an Arabic proclitic); a word counts once per label.
fn reference_hits(keywords: &[(usize, String, bool)], n_labels: usize, normalized: &str) -> Vec<u16> {
    let mut hits = vec![0u16; n_labels];
    for (label, _) in reference_matches(keywords, normalized) {
        hits[label] += 1;
    }
    hits
}

/// The words at which one of `keywords` matches.
fn reference_match_words(keywords: &[(usize, String, bool)], normalized: &str) -> Vec<usize> {
    let words: std::collections::BTreeSet<usize> = reference_matches(keywords, normalized).map(|(_, w)| w).collect();
    words.into_iter().collect()
}

/// (label, word) of every keyword match, each pair once.
fn reference_matches(
    keywords: &[(usize, String, bool)],
    normalized: &str,
) -> std::collections::btree_set::IntoIter<(usize, usize)> {
    let mut starts = Vec::new();
    let mut pos = 0;
    for (word, token) in normalized.split(' ').enumerate() {
        starts.push((word, pos));
        if !token.is_empty() && token.as_bytes()[0] >= 0xd8 && arabic_proclitic_len(token) > 0 {
            starts.push((word, pos + arabic_proclitic_len(token)));
        }
        pos += token.len() + 1;
    }
    let mut hit = std::collections::BTreeSet::new();
    for (label, stem, is_prefix) in keywords {
        for &(word, s) in &starts {
            let rest = &normalized[s..];
            let ends_at_word = rest.len() == stem.len() || rest.as_bytes().get(stem.len()) == Some(&b' ');
            if rest.starts_with(stem.as_str()) && (*is_prefix || ends_at_word) {
                hit.insert((*label, word));
            }
        }
    }
    hit.into_iter()
}

fn fixture_model(bits: u8, min_examples: usize) -> Model {
    let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).expect("crosswalk");
    let lexicon = Lexicon::builtin();
    let cw = crosswalk.labels();
    let labels = label_universe(cw.iter().map(String::as_str).chain(lexicon.labels().iter().map(String::as_str)));
    let data = read_labelled(&fixture("messages_train.csv"), &crosswalk, &TextColumn::MessageAndOriginal, &labels)
        .expect("fixture reads");
    let config = TrainConfig {
        features: FeatureConfig { bits, ..FeatureConfig::default() },
        min_examples,
        epochs: 10,
        learning_rate: 0.2,
        ..TrainConfig::default()
    };
    train(&data.examples, labels, lexicon, &config).expect("fixture trains")
}

/// The label bits as first computed: f32 sums of dequantised weights per
/// block in visiting order, lexicon rows, Platt-calibrated probability,
/// `probability >= threshold`.
fn reference_bits(model: &Model, keywords: &[(usize, String, bool)], text: &str) -> u64 {
    let features = model.feature_config();
    let normalized = reference_normalize(text);
    let k = model.columns().len();
    let (mut char_sum, mut word_sum) = (vec![0.0f32; k], vec![0.0f32; k]);
    let (mut n_char, mut n_word) = (0usize, 0usize);
    for (bucket, is_word) in reference_hashes(&features, &normalized) {
        let (sum, n) = if is_word { (&mut word_sum, &mut n_word) } else { (&mut char_sum, &mut n_char) };
        *n += 1;
        for (c, s) in sum.iter_mut().enumerate() {
            *s += model.weight(bucket, c) as f32;
        }
    }
    let char_scale = if n_char > 0 { 1.0 / (n_char as f32).sqrt() } else { 0.0 };
    let word_scale = if n_word > 0 { 1.0 / (n_word as f32).sqrt() } else { 0.0 };
    let mut acc: Vec<f32> = (0..k).map(|c| char_sum[c] * char_scale + word_sum[c] * word_scale).collect();
    let lexicon = model.lexicon();
    let hits = reference_hits(keywords, lexicon.labels().len(), &normalized);
    let decided = reference_decided(lexicon, &normalized);
    for (label, &h) in hits.iter().enumerate() {
        if h > 0 {
            let x = features.lexicon_weight * (1.0 + h as f32).ln();
            for (c, a) in acc.iter_mut().enumerate() {
                *a += model.weight(features.lexicon_bucket(label), c) as f32 * x;
            }
        }
    }
    let lexicon_index: Vec<Option<usize>> =
        model.labels().iter().map(|l| lexicon.labels().iter().position(|x| x == l)).collect();
    let score = |i: usize| hit_score(if decided >> i & 1 == 1 { hits[i].max(1) } else { hits[i] });
    let mut p: Vec<f32> = lexicon_index.iter().map(|i| i.map_or(0.0, score)).collect();
    for (c, &label) in model.columns().iter().enumerate() {
        let z = model.bias()[c] + model.scale()[c] * acc[c];
        let [a, b, l] = model.platt()[c];
        let evidence = lexicon_index[label].map_or(0.0, |i| (1.0 + hits[i] as f32).ln());
        p[label] = sigmoid(a * z + b + l * evidence);
    }
    let bits =
        p.iter().zip(model.thresholds()).enumerate().filter(|(_, (p, t))| p >= t).fold(0, |acc, (i, _)| acc | 1 << i);
    // A compound keyword decides its label.
    lexicon_index
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is_some_and(|i| decided >> i & 1 == 1))
        .fold(bits, |b, (l, _)| b | 1 << l)
}

#[test]
fn normalisation_matches_the_reference() {
    let mut out = String::new();
    for t in texts() {
        normalize_into(&t, &mut out);
        assert_eq!(out, reference_normalize(&t), "text {t:?}");
    }
}

#[test]
fn hashed_features_match_the_reference() {
    for config in [
        FeatureConfig::default(),
        FeatureConfig { bits: 12, char_min: 2, char_max: 4, ..FeatureConfig::default() },
        FeatureConfig { bits: 20, char_min: 1, char_max: 6, ..FeatureConfig::default() },
    ] {
        let mut scratch = Scratch::default();
        for t in texts() {
            let normalized = normalize(&t);
            let mut seen = Vec::new();
            config.for_each_hashed(&normalized, &mut scratch.chars, |b, w| seen.push((b, w)));
            assert_eq!(seen, reference_hashes(&config, &normalized), "text {t:?}, {config:?}");
        }
    }
}

#[test]
fn feature_blocks_are_the_visited_features_split_by_block() {
    for config in [
        FeatureConfig::default(),
        FeatureConfig { bits: 12, char_min: 2, char_max: 2, ..FeatureConfig::default() },
        FeatureConfig { bits: 12, char_min: 1, char_max: 2, ..FeatureConfig::default() },
        FeatureConfig { bits: 20, char_min: 0, char_max: 7, ..FeatureConfig::default() },
    ] {
        let mut scratch = Scratch::default();
        let mut texts = texts();
        // Short texts first, while the buffers are still small.
        texts.extend(["x y z w", "ab c d", "é", "a b", "a"].map(String::from));
        for t in texts.iter().rev() {
            let normalized = normalize(t);
            let (mut grams, mut words) = (Vec::new(), Vec::new());
            config.for_each_hashed(&normalized, &mut scratch.chars, |b, is_word| {
                if is_word { words.push(b) } else { grams.push(b) }
            });
            let Scratch { chars, char_buckets, word_buckets, .. } = &mut scratch;
            let (g, w) = config.hash_blocks(&normalized, chars, char_buckets, word_buckets);
            assert_eq!((g, w), (grams.as_slice(), words.as_slice()), "text {t:?}, {config:?}");
        }
    }
}

#[test]
fn keyword_hits_match_brute_force() {
    let lexicon = Lexicon::builtin();
    let mut hits = vec![0u16; lexicon.labels().len()];
    let keywords = reference_keywords(&lexicon);
    let (mut matched_any, mut decided_any) = (0, 0);
    let mut texts = texts();
    texts.truncate(1500);
    // The conflict incidents (before the generated texts in `texts`) plus
    // the same with words around them, so that windows are exercised.
    let incidents = read_texts(&fixture("conflict_incidents.csv"), "text").expect("fixture reads");
    texts.extend(incidents.iter().map(|t| format!("{t} {t}")));
    texts.extend(incidents.iter().map(|t| t.split(' ').rev().collect::<Vec<_>>().join(" one two three ")));
    for t in &texts {
        let normalized = normalize(t);
        let decided = lexicon.count_hits(&normalized, &mut hits);
        assert_eq!(hits, reference_hits(&keywords, hits.len(), &normalized), "text {t:?}");
        assert_eq!(decided, reference_decided(&lexicon, &normalized), "text {t:?}");
        matched_any += hits.iter().any(|&h| h > 0) as usize;
        decided_any += (decided != 0) as usize;
    }
    assert!(matched_any > 100, "the texts exercise the lexicon ({matched_any} with hits)");
    assert!(decided_any > 20, "the texts exercise compound keywords ({decided_any} decided)");
}

#[test]
fn predicted_labels_match_the_reference_computation() {
    for bits in [14, 17] {
        let model = fixture_model(bits, 5);
        let label_counts = assert_matches_reference(&model, 1000);
        let varied = label_counts.iter().filter(|&&n| n > 0 && n < 1000).count();
        assert!(varied >= 4, "labels both given and withheld: {label_counts:?}");
    }
}

#[test]
fn a_model_that_learned_nothing_reads_with_the_lexicon() {
    let model = fixture_model(12, 1_000_000);
    assert!(model.columns().is_empty());
    let label_counts = assert_matches_reference(&model, 300);
    assert!(label_counts.iter().any(|&n| n > 0), "the lexicon gives labels");
}

/// Label bits of the first `n` texts by the classifier (both paths) and by
/// the reference; how often each label was given.
fn assert_matches_reference(model: &Model, n: usize) -> Vec<usize> {
    let classifier = Classifier::Model(Box::new(model.clone()));
    let keywords = reference_keywords(model.lexicon());
    let mut label_counts = vec![0usize; model.labels().len()];
    for t in texts().iter().take(n) {
        let expected = reference_bits(model, &keywords, t);
        assert_eq!(classifier.predict_bits(t), expected, "text {t:?}");
        let from_probabilities =
            classifier.predict(t).iter().enumerate().filter(|(_, s)| s.is_positive()).fold(0, |a, (i, _)| a | 1 << i);
        assert_eq!(from_probabilities, expected, "text {t:?}");
        for (l, count) in label_counts.iter_mut().enumerate() {
            *count += (expected >> l & 1) as usize;
        }
    }
    label_counts
}
