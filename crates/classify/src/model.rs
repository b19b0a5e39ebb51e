//! The trained classifier and its file format.
//!
//! File layout (little endian):
//! `VCCLSMDL` (8 bytes) | format version u32 | header length u32 | header
//! (JSON: labels, feature settings, per-label weight scales, calibration,
//! thresholds, the lexicon's TOML, training summary) | weight count u64 |
//! weights i16, feature-major (weight = value * scale of its label) |
//! optionally one IDF f32 per bucket.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::error::Error;
use crate::features::{FeatureConfig, Scratch, inverse_document_frequency};
use crate::lexicon::{HIT_SCORE_CAP, Lexicon, hit_score, lexicon_score};
use crate::linear::{Csr, Linear, SgdParams, SplitMix, Targets, best_f1_threshold, fit, platt, sigmoid};
use crate::text::normalize_into;

/// Version of the model file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"VCCLSMDL";

/// Training settings. The defaults were chosen on out-of-fold scores of the
/// training data only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    /// Cross-fitting folds for calibration and thresholds.
    pub folds: usize,
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub balance_power: f32,
    /// A label is learned only with at least this many positive and negative
    /// examples; otherwise the lexicon reads it.
    pub min_examples: usize,
    /// Weight features by inverse document frequency.
    pub idf: bool,
    /// Train the final model again on all data (true) or average the fold
    /// models' weights (false: one training fewer, and a bagging effect).
    pub refit_on_all: bool,
    pub seed: u64,
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            folds: 5,
            epochs: 3,
            learning_rate: 0.05,
            l2: 0.0,
            balance_power: 0.5,
            min_examples: 10,
            idf: false,
            refit_on_all: false,
            seed: 20240601,
            threads: 2,
        }
    }
}

/// What training saw and how well each learned label did out of fold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub examples: usize,
    /// Label, positives, out-of-fold F1 at the tuned threshold.
    pub learned: Vec<(String, usize, f64)>,
    /// Labels read by the lexicon alone (too few examples to learn).
    pub lexicon_only: Vec<String>,
    pub seconds: f64,
    pub config: TrainConfig,
}

#[derive(Serialize, Deserialize)]
struct Header {
    labels: Vec<String>,
    features: FeatureConfig,
    /// Label index of each weight column.
    columns: Vec<usize>,
    bias: Vec<f32>,
    /// Per weight column: weight = stored i16 * scale.
    scale: Vec<f32>,
    platt: Vec<[f32; 3]>,
    /// Per label (all labels).
    thresholds: Vec<f32>,
    lexicon_toml: String,
    /// Whether an IDF table (one f32 per bucket) follows the weights.
    idf: bool,
    summary: TrainingSummary,
}

/// A trained classifier: learned labels plus lexicon fallback.
#[derive(Debug, Clone)]
pub struct Model {
    labels: Vec<String>,
    features: FeatureConfig,
    lexicon: Lexicon,
    /// For each label, its index in the lexicon's labels.
    lexicon_index: Vec<Option<usize>>,
    columns: Vec<usize>,
    linear: Quantized,
    idf: Option<Vec<f32>>,
    platt: Vec<[f32; 3]>,
    thresholds: Vec<f32>,
    /// The thresholds restated for [`Model::predict_bits`].
    decision: Decision,
    summary: TrainingSummary,
}

impl Model {
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn thresholds(&self) -> &[f32] {
        &self.thresholds
    }

    pub fn summary(&self) -> &TrainingSummary {
        &self.summary
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    #[cfg(test)]
    pub(crate) fn feature_config(&self) -> FeatureConfig {
        self.features
    }

    /// Learned labels (weight columns), as indices into [`Model::labels`].
    #[cfg(test)]
    pub(crate) fn columns(&self) -> &[usize] {
        &self.columns
    }

    #[cfg(test)]
    pub(crate) fn weight(&self, bucket: u32, column: usize) -> i16 {
        self.linear.weight(bucket, column)
    }

    #[cfg(test)]
    pub(crate) fn bias(&self) -> &[f32] {
        &self.linear.bias
    }

    #[cfg(test)]
    pub(crate) fn scale(&self) -> &[f32] {
        &self.linear.scale
    }

    #[cfg(test)]
    pub(crate) fn platt(&self) -> &[[f32; 3]] {
        &self.platt
    }

    /// Probability per label (in [`Model::labels`] order) into `out`.
    pub(crate) fn probabilities(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<f32>) {
        let mut acc = [0.0f32; 64];
        let acc = &mut acc[..self.linear.k];
        self.raw_scores(text, scratch, acc);
        out.clear();
        out.resize(self.labels.len(), 0.0);
        for (label, p) in out.iter_mut().enumerate() {
            if let Some(l) = self.lexicon_index[label] {
                *p = lexicon_score(scratch.hits[l], scratch.decided, l);
            }
        }
        for (c, &label) in self.columns.iter().enumerate() {
            out[label] = sigmoid(self.calibrated_logit(c, acc[c], &scratch.hits));
        }
        // A compound keyword decides its label whatever the model's score.
        if scratch.decided != 0 {
            for (label, p) in out.iter_mut().enumerate() {
                if self.lexicon_index[label].is_some_and(|l| scratch.decided >> l & 1 == 1) {
                    *p = p.max(self.thresholds[label]);
                }
            }
        }
    }

    /// The labels assigned to `text` as a bit set: the same decisions as
    /// `probability >= threshold` on [`Model::probabilities`], mostly taken on
    /// the logit (see [`LogitCut`]).
    pub(crate) fn predict_bits(&self, text: &str, scratch: &mut Scratch) -> u64 {
        let mut acc = [0.0f32; 64];
        let acc = &mut acc[..self.linear.k];
        self.raw_scores(text, scratch, acc);
        let mut bits = 0u64;
        for rule in &self.decision.unlearned {
            let hits = rule.lexicon.map_or(0, |l| scratch.hits[l]);
            bits |= (rule.positive_at_hits >> hits.min(HIT_SCORE_CAP) & 1) << rule.label;
        }
        for (c, cut) in self.decision.cuts.iter().enumerate() {
            let x = self.calibrated_logit(c, acc[c], &scratch.hits);
            bits |= (cut.is_positive(x) as u64) << self.columns[c];
        }
        if scratch.decided != 0 {
            bits |= self.decided_labels(scratch.decided);
        }
        bits
    }

    /// Label bits of the lexicon labels (bits) decided by a compound keyword.
    #[cold]
    fn decided_labels(&self, decided: u64) -> u64 {
        self.lexicon_index
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_some_and(|l| decided >> l & 1 == 1))
            .fold(0, |bits, (label, _)| bits | 1 << label)
    }

    /// `a * z + b + l * ln(1 + hits)` of weight column `c` (Platt scaling
    /// with the lexicon as a second input), from its raw score.
    #[inline]
    fn calibrated_logit(&self, c: usize, raw: f32, hits: &[u16]) -> f32 {
        let z = self.linear.bias[c] + self.linear.scale[c] * raw;
        let [a, b, l] = self.platt[c];
        let evidence = self.lexicon_index[self.columns[c]].map_or(0.0, |i| ln_1p_hits(hits[i]));
        a * z + b + l * evidence
    }

    /// Unscaled weight sums per column into `acc`, lexicon hits into `scratch.hits`.
    fn raw_scores(&self, text: &str, scratch: &mut Scratch, acc: &mut [f32]) {
        if self.idf.is_some() {
            self.features.extract(&self.lexicon, self.idf.as_deref(), text, scratch);
            for &(j, x) in &scratch.features {
                self.linear.add_row(j, x, acc);
            }
            return;
        }
        match self.linear.blocks {
            1 => self.fused_scores::<1>(text, scratch, acc),
            2 => self.fused_scores::<2>(text, scratch, acc),
            3 => self.fused_scores::<3>(text, scratch, acc),
            4 => self.fused_scores::<4>(text, scratch, acc),
            5 => self.fused_scores::<5>(text, scratch, acc),
            6 => self.fused_scores::<6>(text, scratch, acc),
            7 => self.fused_scores::<7>(text, scratch, acc),
            _ => self.fused_scores::<8>(text, scratch, acc),
        }
    }

    /// Same sums as extracting the features then taking dot products, without
    /// materialising them: every feature of a block has the same value
    /// (`1/sqrt(block size)`), so weights are summed per block and scaled once.
    /// The buckets are hashed first and the rows summed after, in a loop of
    /// independent loads the processor can overlap.
    fn fused_scores<const B: usize>(&self, text: &str, scratch: &mut Scratch, acc: &mut [f32]) {
        normalize_into(text, &mut scratch.normalized);
        if self.linear.k == 0 {
            // Nothing learned: the lexicon reads every label.
            scratch.decided = self.features.count_lexicon_hits(&self.lexicon, &scratch.normalized, &mut scratch.hits);
            return;
        }
        let Scratch { normalized, chars, char_buckets, word_buckets, .. } = scratch;
        let (grams, words) = self.features.hash_blocks(normalized, chars, char_buckets, word_buckets);
        let rows = self.linear.rows::<B>();
        let (char_sums, word_sums) = (sum_rows(rows, grams), sum_rows(rows, words));
        let (char_scale, word_scale) = (l2_scale(grams.len()), l2_scale(words.len()));
        for (c, a) in acc.iter_mut().enumerate() {
            *a = char_sums[c] as f32 * char_scale + word_sums[c] as f32 * word_scale;
        }
        scratch.decided = self.features.count_lexicon_hits(&self.lexicon, &scratch.normalized, &mut scratch.hits);
        for (label, &h) in scratch.hits.iter().enumerate() {
            if h > 0 {
                self.linear.add_row(self.features.lexicon_bucket(label), self.features.lexicon_value(h), acc);
            }
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let header = Header {
            labels: self.labels.clone(),
            features: self.features,
            columns: self.columns.clone(),
            bias: self.linear.bias.clone(),
            scale: self.linear.scale.clone(),
            platt: self.platt.clone(),
            thresholds: self.thresholds.clone(),
            lexicon_toml: self.lexicon.source().to_string(),
            idf: self.idf.is_some(),
            summary: self.summary.clone(),
        };
        let header = serde_json::to_vec(&header).expect("the model header serialises");
        let mut bytes = Vec::with_capacity(24 + header.len() + self.linear.weight_count() * 2);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&(self.linear.weight_count() as u64).to_le_bytes());
        for w in self.linear.column_weights() {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        for w in self.idf.iter().flatten() {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }

    pub fn load(path: &Path) -> Result<Model, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Model::from_bytes(&bytes, path)
    }

    /// Parses a model file's bytes; `path` only names the file in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model, Error> {
        let corrupt = |message: &str| Error::CorruptModel { path: path.into(), message: message.into() };
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(Error::NotAModel { path: path.into() });
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion { path: path.into(), found: version, supported: FORMAT_VERSION });
        }
        let header_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        let header_end = 16 + header_len;
        let header_bytes = bytes.get(16..header_end).ok_or_else(|| corrupt("the header is cut short"))?;
        let header: Header = serde_json::from_slice(header_bytes).map_err(|e| corrupt(&format!("bad header: {e}")))?;
        let count_bytes = bytes.get(header_end..header_end + 8).ok_or_else(|| corrupt("the weights are missing"))?;
        let count = u64::from_le_bytes(count_bytes.try_into().expect("8 bytes")) as usize;
        let k = header.columns.len();
        if header.features.bits < 4 || header.features.bits > 26 || count != (1usize << header.features.bits) * k {
            return Err(corrupt("the weight count does not match the feature settings"));
        }
        let data = &bytes[header_end + 8..];
        let idf_count = if header.idf { 1usize << header.features.bits } else { 0 };
        if data.len() != count * 2 + idf_count * 4 {
            return Err(corrupt("the weights are cut short or followed by extra bytes"));
        }
        let (weight_bytes, idf_bytes) = data.split_at(count * 2);
        let weights: Vec<i16> =
            weight_bytes.chunks_exact(2).map(|c| i16::from_le_bytes(c.try_into().expect("2 bytes"))).collect();
        let idf: Option<Vec<f32>> = header
            .idf
            .then(|| idf_bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect());
        let n = header.labels.len();
        if header.bias.len() != k
            || header.scale.len() != k
            || header.platt.len() != k
            || header.thresholds.len() != n
            || header.columns.iter().any(|&c| c >= n)
        {
            return Err(corrupt("label tables of different lengths"));
        }
        let lexicon = Lexicon::parse(&header.lexicon_toml, "model file's lexicon")?;
        let lexicon_index = lexicon_index(&header.labels, &lexicon);
        let decision = Decision::new(&header.thresholds, &header.columns, &lexicon_index);
        Ok(Model {
            labels: header.labels,
            features: header.features,
            lexicon,
            lexicon_index,
            columns: header.columns,
            linear: Quantized::from_column_weights(k, &weights, header.scale, header.bias),
            idf,
            decision,
            platt: header.platt,
            thresholds: header.thresholds,
            summary: header.summary,
        })
    }
}

fn lexicon_index(labels: &[String], lexicon: &Lexicon) -> Vec<Option<usize>> {
    labels.iter().map(|l| lexicon.labels().iter().position(|x| x == l)).collect()
}

/// Trains a model on `examples` whose label bits refer to `labels`.
///
/// Method: features of every example are extracted once; the examples are
/// split into `folds` groups (a message and its original stay together);
/// one model per fold is trained on the other folds and scores its own fold
/// (cross-fitting), and a final model is trained on everything. The
/// out-of-fold scores fit the Platt calibration and the per-label F1-optimal
/// threshold, so neither is tuned on the data being evaluated later.
pub fn train(
    examples: &[Example],
    labels: Vec<String>,
    lexicon: Lexicon,
    config: &TrainConfig,
) -> Result<Model, Error> {
    let started = Instant::now();
    if labels.len() > 64 {
        return Err(Error::TooManyLabels(labels.len()));
    }
    if examples.is_empty() {
        return Err(Error::NoExamples("the data has no message with text".into()));
    }
    let columns = learnable_labels(examples, labels.len(), config.min_examples);
    let bits: Vec<usize> = columns.clone();
    let buckets = config.features.buckets();

    let mut scratch = Scratch::default();
    let extract_all = |idf: Option<&[f32]>, scratch: &mut Scratch| {
        let mut x = Csr::new();
        for e in examples {
            config.features.extract(&lexicon, idf, &e.text, scratch);
            x.push_row(&scratch.features);
        }
        x
    };
    let mut x = extract_all(None, &mut scratch);
    let idf = config.idf.then(|| inverse_document_frequency(buckets, examples.len(), &x.index));
    if idf.is_some() {
        x = extract_all(idf.as_deref(), &mut scratch);
    }
    let positive: Vec<u64> = examples.iter().map(|e| e.positive).collect();
    let known: Vec<u64> = examples.iter().map(|e| e.known).collect();
    let weight: Vec<f32> = examples.iter().map(|e| e.weight).collect();
    let targets = Targets { positive: &positive, known: &known, weight: &weight, bits: &bits };

    let folds = config.folds.max(2);
    let fold_of: Vec<usize> = examples
        .iter()
        .map(|e| (SplitMix(config.seed ^ (e.group as u64).wrapping_mul(0x9e37_79b9)).next() % folds as u64) as usize)
        .collect();
    // Jobs 0..folds: leave one fold out; job `folds` (when refitting): all data.
    let n_jobs = if config.refit_on_all { folds + 1 } else { folds };
    let jobs: Vec<Vec<usize>> =
        (0..n_jobs).map(|f| (0..examples.len()).filter(|&r| f == folds || fold_of[r] != f).collect()).collect();
    let params = SgdParams {
        epochs: config.epochs,
        learning_rate: config.learning_rate,
        l2: config.l2,
        balance_power: config.balance_power,
        seed: config.seed,
    };
    let fitted = run_jobs(&jobs, config.threads.max(1), |rows| fit(&x, buckets, rows, &targets, &params));

    // Out-of-fold raw scores.
    let k = columns.len();
    let mut oof = vec![0.0f32; examples.len() * k];
    for (r, chunk) in oof.chunks_mut(k.max(1)).enumerate().take(examples.len()) {
        let (index, value) = x.row(r);
        if k > 0 {
            fitted[fold_of[r]].scores(index, value, chunk);
        }
    }

    let lexicon_index = lexicon_index(&labels, &lexicon);
    let evidence: Vec<Vec<f32>> = examples
        .iter()
        .map(|e| {
            normalize_into(&e.text, &mut scratch.normalized);
            scratch.hits.resize(lexicon.labels().len(), 0);
            lexicon.count_hits(&scratch.normalized, &mut scratch.hits);
            lexicon_index.iter().map(|i| i.map_or(0.0, |i| (1.0 + scratch.hits[i] as f32).ln())).collect()
        })
        .collect();
    let mut thresholds: Vec<f32> = vec![0.5; labels.len()];
    let mut calibration = Vec::with_capacity(k);
    let mut learned = Vec::new();
    for (c, &label) in columns.iter().enumerate() {
        let bit = 1u64 << label;
        let rows: Vec<usize> = (0..examples.len()).filter(|&r| known[r] & bit != 0).collect();
        let z: Vec<f32> = rows.iter().map(|&r| oof[r * k + c]).collect();
        let y: Vec<bool> = rows.iter().map(|&r| positive[r] & bit != 0).collect();
        let l: Vec<f32> = rows.iter().map(|&r| evidence[r][label]).collect();
        let [a, b, w] = platt(&z, &l, &y);
        let p: Vec<f32> = z.iter().zip(&l).map(|(&zi, &li)| sigmoid(a * zi + b + w * li)).collect();
        let (threshold, f1) = best_f1_threshold(&p, &y);
        thresholds[label] = threshold;
        calibration.push([a, b, w]);
        learned.push((labels[label].clone(), y.iter().filter(|&&v| v).count(), f1));
    }
    let lexicon_only = (0..labels.len()).filter(|l| !columns.contains(l)).map(|l| labels[l].clone()).collect();
    let final_model = if config.refit_on_all {
        fitted.into_iter().nth(folds).expect("the full-data job ran")
    } else {
        average(&fitted[..folds])
    };
    let decision = Decision::new(&thresholds, &columns, &lexicon_index);
    Ok(Model {
        labels,
        features: config.features,
        lexicon,
        lexicon_index,
        columns,
        linear: Quantized::from(&final_model),
        idf,
        decision,
        platt: calibration,
        thresholds,
        summary: TrainingSummary {
            examples: examples.len(),
            learned,
            lexicon_only,
            seconds: started.elapsed().as_secs_f64(),
            config: config.clone(),
        },
    })
}

/// Weight columns per block of a bucket's row.
const LANES: usize = 8;

/// One 16-byte block of a bucket's row: the i16 weights of `LANES` columns,
/// two to an i32 (column `m` in the low half of element `m`, column `m + 4`
/// in the high half), so that summing them needs only 32-bit shifts and adds,
/// which the compiler turns into SSE2 vector operations. Aligned so that a
/// row never straddles two cache lines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C, align(16))]
struct Block([i32; HALF]);

const HALF: usize = LANES / 2;

impl Block {
    #[inline]
    fn get(&self, lane: usize) -> i16 {
        let pair = self.0[lane % HALF];
        (if lane < HALF { pair } else { pair >> 16 }) as i16
    }

    fn set(&mut self, lane: usize, w: i16) {
        let shift = if lane < HALF { 0 } else { 16 };
        let pair = &mut self.0[lane % HALF];
        *pair = ((*pair as u32 & !(0xffff << shift)) | (w as u16 as u32) << shift) as i32;
    }
}

/// Weights stored as 16-bit integers with one scale per label: a quarter of
/// the memory of f64, half of f32, so the table stays in cache at prediction
/// time; the rounding error (max |w| / 65534 per weight) is far below the
/// noise of training. Feature-major: a bucket's row is `blocks` blocks, the
/// columns past `k` zero.
#[derive(Debug, Clone)]
struct Quantized {
    k: usize,
    /// Blocks per bucket: `k` rounded up to a multiple of `LANES`, at least one.
    blocks: usize,
    weights: Vec<Block>,
    scale: Vec<f32>,
    bias: Vec<f32>,
}

impl Quantized {
    /// From weights in the file's layout (`k` per bucket, feature-major).
    fn from_column_weights(k: usize, column_weights: &[i16], scale: Vec<f32>, bias: Vec<f32>) -> Quantized {
        let blocks = k.div_ceil(LANES).max(1);
        let buckets = column_weights.len().checked_div(k).unwrap_or(0);
        let mut weights = vec![Block::default(); buckets * blocks];
        for (j, row) in column_weights.chunks_exact(k.max(1)).enumerate() {
            for (c, &w) in row.iter().enumerate() {
                weights[j * blocks + c / LANES].set(c % LANES, w);
            }
        }
        Quantized { k, blocks, weights, scale, bias }
    }

    fn weight_count(&self) -> usize {
        self.weights.len() / self.blocks * self.k
    }

    /// Weights in the file's layout (`k` per bucket, feature-major).
    fn column_weights(&self) -> impl Iterator<Item = i16> + '_ {
        self.weights
            .chunks_exact(self.blocks)
            .flat_map(move |row| (0..self.k).map(move |c| row[c / LANES].get(c % LANES)))
    }

    #[inline]
    fn weight(&self, bucket: u32, c: usize) -> i16 {
        self.weights[bucket as usize * self.blocks + c / LANES].get(c % LANES)
    }

    /// The rows as arrays of `B` blocks (`B == self.blocks`).
    fn rows<const B: usize>(&self) -> &[[Block; B]] {
        assert_eq!(B, self.blocks, "row width");
        self.weights.as_chunks::<B>().0
    }

    /// `acc += x * row j` (unscaled).
    #[inline]
    fn add_row(&self, j: u32, x: f32, acc: &mut [f32]) {
        for (c, o) in acc.iter_mut().enumerate().take(self.k) {
            *o += self.weight(j, c) as f32 * x;
        }
    }
}

/// `1/sqrt(rows)`, 0 without rows: a feature block's L2 normalisation.
fn l2_scale(rows: usize) -> f32 {
    if rows > 0 { 1.0 / (rows as f32).sqrt() } else { 0.0 }
}

/// Per-column sums of the rows of `buckets`: exact integer sums of the i16
/// weights, equal to the f32 sums this crate first computed as long as every
/// partial sum stays below 2^24 in magnitude (f32 adds integers exactly up to
/// there). Summed in i32 lanes, 2^16 - 1 rows at a time (|sum| < 2^31).
fn sum_rows<const B: usize>(rows: &[[Block; B]], buckets: &[u32]) -> [i64; 64] {
    let mut total = [0i64; 64];
    for part in buckets.chunks(u16::MAX as usize) {
        let (low, high) = sum_rows_i32(rows, part);
        for (b, (low, high)) in low.iter().zip(&high).enumerate() {
            for m in 0..HALF {
                total[b * LANES + m] += low[m] as i64;
                total[b * LANES + HALF + m] += high[m] as i64;
            }
        }
    }
    total
}

/// Sums of the low and the high halves of the blocks; at most 2^16 - 1 rows.
/// Not inlined: on its own the loop compiles to whole-block vector adds.
#[inline(never)]
fn sum_rows_i32<const B: usize>(rows: &[[Block; B]], buckets: &[u32]) -> ([[i32; HALF]; B], [[i32; HALF]; B]) {
    let mut low = [[0i32; HALF]; B];
    let mut high = [[0i32; HALF]; B];
    for &bucket in buckets {
        for ((low, high), block) in low.iter_mut().zip(&mut high).zip(&rows[bucket as usize]) {
            for ((l, h), &pair) in low.iter_mut().zip(high.iter_mut()).zip(&block.0) {
                *l += (pair << 16) >> 16;
                *h += pair >> 16;
            }
        }
    }
    (low, high)
}

/// `ln(1 + hits)`, the lexicon evidence of the calibration (no hit: exactly 0).
#[inline]
fn ln_1p_hits(hits: u16) -> f32 {
    if hits == 0 { 0.0 } else { (1.0 + hits as f32).ln() }
}

/// The per-label thresholds restated so that deciding a label needs neither
/// `exp` (learned labels: a cut on the logit) nor `powi` (labels the lexicon
/// reads alone: the hit counts at which the label is on).
#[derive(Debug, Clone)]
struct Decision {
    cuts: Vec<LogitCut>,
    unlearned: Vec<UnlearnedRule>,
}

#[derive(Debug, Clone)]
struct UnlearnedRule {
    label: usize,
    lexicon: Option<usize>,
    /// Bit `h` set: positive with `h` hits (`h` capped at [`HIT_SCORE_CAP`]).
    positive_at_hits: u64,
}

/// `sigmoid(x) >= threshold` decided on the logit `x`: below `negative_below`
/// it is false and from `positive_from` on it is true; in the narrow band
/// between, the sigmoid is computed as before. The band reaches
/// `1e-4 / min(t, 1 - t)` either side of the threshold's logit `ln(t / (1 - t))`:
/// there the true sigmoid is at least `1e-4 * max(t, 1 - t)` away from `t`,
/// hundreds of times the few ulps by which f32 `exp` and division can move
/// the computed one, so the decisions are exactly those of the probability
/// (and `model::tests` checks every f32 around the cut).
#[derive(Debug, Clone, Copy)]
struct LogitCut {
    threshold: f32,
    negative_below: f32,
    positive_from: f32,
}

impl LogitCut {
    fn new(threshold: f32) -> LogitCut {
        let t = threshold as f64;
        if !(t > 1e-6 && t < 1.0 - 1e-6) {
            // Degenerate thresholds: no comparison with NaN holds, so the sigmoid is always computed.
            return LogitCut { threshold, negative_below: f32::NAN, positive_from: f32::NAN };
        }
        let logit = (t / (1.0 - t)).ln();
        let margin = 1e-4 / t.min(1.0 - t);
        LogitCut { threshold, negative_below: (logit - margin) as f32, positive_from: (logit + margin) as f32 }
    }

    #[inline]
    fn is_positive(&self, x: f32) -> bool {
        if x >= self.positive_from {
            true
        } else if x < self.negative_below {
            false
        } else {
            sigmoid(x) >= self.threshold
        }
    }
}

impl Decision {
    fn new(thresholds: &[f32], columns: &[usize], lexicon_index: &[Option<usize>]) -> Decision {
        let cuts = columns.iter().map(|&label| LogitCut::new(thresholds[label])).collect();
        let unlearned = (0..thresholds.len())
            .filter(|label| !columns.contains(label))
            .map(|label| {
                let lexicon = lexicon_index[label];
                let probability = |h: u16| if lexicon.is_some() { hit_score(h) } else { 0.0 };
                let positive_at_hits = (0..=HIT_SCORE_CAP)
                    .filter(|&h| probability(h) >= thresholds[label])
                    .fold(0u64, |acc, h| acc | 1 << h);
                UnlearnedRule { label, lexicon, positive_at_hits }
            })
            .collect();
        Decision { cuts, unlearned }
    }
}

impl From<&Linear> for Quantized {
    fn from(m: &Linear) -> Self {
        let k = m.k;
        let scale: Vec<f32> = (0..k)
            .map(|c| {
                let max = m.weights.iter().skip(c).step_by(k.max(1)).fold(0.0f32, |a, w| a.max(w.abs()));
                if max > 0.0 { max / i16::MAX as f32 } else { 1.0 }
            })
            .collect();
        let weights: Vec<i16> = m
            .weights
            .iter()
            .enumerate()
            .map(|(i, w)| (w / scale[i % k]).round().clamp(-(i16::MAX as f32), i16::MAX as f32) as i16)
            .collect();
        Quantized::from_column_weights(k, &weights, scale, m.bias.clone())
    }
}

/// The mean of linear models' weights and biases (their logits average too).
fn average(models: &[Linear]) -> Linear {
    let mut mean = models[0].clone();
    let n = models.len() as f32;
    for m in &models[1..] {
        mean.weights.iter_mut().zip(&m.weights).for_each(|(a, b)| *a += b);
        mean.bias.iter_mut().zip(&m.bias).for_each(|(a, b)| *a += b);
    }
    mean.weights.iter_mut().chain(mean.bias.iter_mut()).for_each(|w| *w /= n);
    mean
}

/// Labels with at least `min` known positives and `min` known negatives.
fn learnable_labels(examples: &[Example], n_labels: usize, min: usize) -> Vec<usize> {
    (0..n_labels)
        .filter(|&l| {
            let bit = 1u64 << l;
            let known = examples.iter().filter(|e| e.known & bit != 0);
            let pos = known.clone().filter(|e| e.positive & bit != 0).count();
            let neg = known.count() - pos;
            pos >= min && neg >= min
        })
        .collect()
}

/// Runs `work` on every job with `threads` worker threads; results in job order.
fn run_jobs<T: Send, F: Fn(&[usize]) -> T + Sync>(jobs: &[Vec<usize>], threads: usize, work: F) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(jobs.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        if j >= jobs.len() {
                            break done;
                        }
                        done.push((j, work(&jobs[j])));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a training thread panicked")).collect()
    });
    results.sort_by_key(|(j, _)| *j);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cut: &LogitCut, threshold: f32, x: f32) {
        assert_eq!(cut.is_positive(x), sigmoid(x) >= threshold, "threshold {threshold}, logit {x}");
    }

    #[test]
    fn logit_cut_decides_as_the_probability_does() {
        let mut rng = SplitMix(3);
        let mut thresholds =
            vec![0.0, 1e-7, 1e-6, 2e-6, 0.01, 0.5, 0.99, 1.0 - 2e-6, 1.0 - 1e-7, 1.0, -0.5, 1.5, f32::NAN];
        thresholds.extend((0..300).map(|_| (rng.next() >> 40) as f32 / (1u64 << 24) as f32));
        for t in thresholds {
            let cut = LogitCut::new(t);
            let logit = (t as f64 / (1.0 - t as f64)).ln() as f32;
            let centre = if logit.is_finite() { logit } else { 0.0 };
            // Every f32 within 2^13 ulps of the threshold's logit (the band
            // and past both of its edges), then a coarse sweep.
            for i in -8192i64..=8192 {
                check(&cut, t, f32::from_bits((centre.to_bits() as i64 + i) as u32));
            }
            for i in -3000..=3000 {
                check(&cut, t, centre + i as f32 * 0.01);
            }
            for x in [f32::NEG_INFINITY, -1e30, -100.0, 0.0, -0.0, 100.0, 1e30, f32::INFINITY, f32::NAN] {
                check(&cut, t, x);
            }
        }
    }

    #[test]
    fn blocks_keep_every_weight_and_the_file_layout() {
        for k in [0, 1, 7, 8, 9, 20, 64] {
            let weights: Vec<i16> = (0..16 * k).map(|i| ((i as i64 * 7919 + 13) % 65535 - 32767) as i16).collect();
            let q = Quantized::from_column_weights(k, &weights, vec![1.0; k], vec![0.0; k]);
            assert_eq!(q.weight_count(), weights.len());
            assert_eq!(q.column_weights().collect::<Vec<_>>(), weights, "k = {k}");
            for (i, &w) in weights.iter().enumerate() {
                assert_eq!(q.weight((i / k) as u32, i % k), w);
            }
        }
    }
}
