//! One-vs-rest logistic regression on hashed sparse features, trained for all
//! labels at once with per-coordinate AdaGrad (Duchi, Hazan & Singer 2011)
//! and class-balanced example weights; Platt scaling (Platt 1999, with the
//! Newton method of Lin, Lin & Weng 2007) and an F1-maximising threshold.

/// Sparse rows in compressed form.
#[derive(Debug, Default)]
pub(crate) struct Csr {
    pub indptr: Vec<usize>,
    pub index: Vec<u32>,
    pub value: Vec<f32>,
}

impl Csr {
    pub fn new() -> Csr {
        Csr { indptr: vec![0], index: Vec::new(), value: Vec::new() }
    }

    pub fn push_row(&mut self, features: &[(u32, f32)]) {
        for &(i, v) in features {
            self.index.push(i);
            self.value.push(v);
        }
        self.indptr.push(self.index.len());
    }

    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.index[a..b], &self.value[a..b])
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SgdParams {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    /// Class weights `(n / (2 n_class))^power`: 1 is scikit-learn's
    /// "balanced", 0 is unweighted.
    pub balance_power: f32,
    pub seed: u64,
}

/// Weights for `k` outputs, stored feature-major (`weights[j * k + c]`) so a
/// feature's weights for every label sit in one cache line.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    pub k: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Linear {
    /// Raw scores (logits) of one sparse row into `out` (length `k`).
    #[inline]
    pub fn scores(&self, index: &[u32], value: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        let k = self.k;
        for (&j, &x) in index.iter().zip(value) {
            let w = &self.weights[j as usize * k..j as usize * k + k];
            for (o, &wc) in out.iter_mut().zip(w) {
                *o += wc * x;
            }
        }
    }
}

/// Per-label training targets: for output `c`, label bit `bits[c]`.
pub(crate) struct Targets<'a> {
    pub positive: &'a [u64],
    pub known: &'a [u64],
    pub weight: &'a [f32],
    pub bits: &'a [usize],
}

/// Trains on the rows listed in `rows`.
pub(crate) fn fit(x: &Csr, buckets: usize, rows: &[usize], t: &Targets, p: &SgdParams) -> Linear {
    let k = t.bits.len();
    let class_weights = class_weights(rows, t, p.balance_power);
    let mut model = Linear { k, weights: vec![0.0; buckets * k], bias: vec![0.0; k] };
    // AdaGrad with one accumulator per feature shared by all labels (the
    // squared gradient norm over labels): one square root per feature and
    // example instead of one per weight.
    let mut g2 = vec![0.0f32; buckets];
    let mut g2_bias = vec![0.0f32; k];
    let mut order = rows.to_vec();
    let mut rng = SplitMix(p.seed);
    let (mut z, mut g) = (vec![0.0f32; k], vec![0.0f32; k]);
    for _ in 0..p.epochs {
        shuffle(&mut order, &mut rng);
        for &r in &order {
            let (index, value) = x.row(r);
            model.scores(index, value, &mut z);
            let mut any = false;
            for c in 0..k {
                let bit = 1u64 << t.bits[c];
                g[c] = if t.known[r] & bit == 0 {
                    0.0
                } else {
                    let y = t.positive[r] & bit != 0;
                    let cw = if y { class_weights[c].1 } else { class_weights[c].0 };
                    any = true;
                    cw * t.weight[r] * (sigmoid(z[c]) - if y { 1.0 } else { 0.0 })
                };
            }
            if !any {
                continue;
            }
            let g_norm_sq: f32 = g.iter().map(|v| v * v).sum::<f32>() / k as f32;
            for (&j, &xv) in index.iter().zip(value) {
                let j = j as usize;
                let w = &mut model.weights[j * k..j * k + k];
                let mut reg_sq = 0.0;
                if p.l2 > 0.0 {
                    reg_sq = w.iter().map(|v| v * v).sum::<f32>() * p.l2 * p.l2 / k as f32;
                }
                g2[j] += g_norm_sq * xv * xv + reg_sq;
                let rate = p.learning_rate / (g2[j].sqrt() + 1e-6);
                for (wc, &gc) in w.iter_mut().zip(&g) {
                    *wc -= rate * (gc * xv + p.l2 * *wc);
                }
            }
            for c in 0..k {
                if g[c] != 0.0 {
                    g2_bias[c] += g[c] * g[c];
                    model.bias[c] -= p.learning_rate * g[c] / (g2_bias[c].sqrt() + 1e-6);
                }
            }
        }
    }
    model
}

/// (negative, positive) example weights per output.
fn class_weights(rows: &[usize], t: &Targets, power: f32) -> Vec<(f32, f32)> {
    t.bits
        .iter()
        .map(|&bit| {
            let bit = 1u64 << bit;
            let (mut pos, mut neg) = (0usize, 0usize);
            for &r in rows {
                if t.known[r] & bit != 0 {
                    if t.positive[r] & bit != 0 { pos += 1 } else { neg += 1 }
                }
            }
            let n = (pos + neg) as f32;
            let w = |count: usize| if count == 0 { 1.0 } else { (n / (2.0 * count as f32)).powf(power) };
            (w(neg), w(pos))
        })
        .collect()
}

#[inline]
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Platt scaling extended with the lexicon as a second input (stacking):
/// `(a, b, c)` such that `sigmoid(a * z + b + c * l)` is a calibrated
/// probability, where `z` is the model's held-out score and `l` the lexicon
/// evidence `ln(1 + hits)`. Fitted by Newton's method (Lin, Lin & Weng 2007)
/// with Platt's smoothed targets `(N+ + 1)/(N+ + 2)` and `1/(N- + 2)`; a tiny
/// ridge keeps `c` at 0 when there is no lexicon evidence.
pub(crate) fn platt(z: &[f32], lexicon: &[f32], y: &[bool]) -> [f32; 3] {
    const RIDGE: f64 = 1e-6;
    let n_pos = y.iter().filter(|&&v| v).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    let (t_pos, t_neg) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
    let rows: Vec<([f64; 3], f64)> = z
        .iter()
        .zip(lexicon)
        .zip(y)
        .map(|((&zi, &li), &yi)| ([zi as f64, 1.0, li as f64], if yi { t_pos } else { t_neg }))
        .collect();
    let loss = |theta: &[f64; 3]| -> f64 {
        let mut total = RIDGE * theta.iter().map(|t| t * t).sum::<f64>() / 2.0;
        for (x, t) in &rows {
            let f = x[0] * theta[0] + x[1] * theta[1] + x[2] * theta[2];
            // log(1 + e^f) - t f, computed stably
            let softplus = if f > 0.0 { f + (-f).exp().ln_1p() } else { f.exp().ln_1p() };
            total += softplus - t * f;
        }
        total
    };
    let mut theta = [1.0f64, 0.0, 0.0];
    let mut current = loss(&theta);
    for _ in 0..100 {
        let mut grad = [0.0f64; 3];
        let mut hess = [[0.0f64; 3]; 3];
        for (i, g) in grad.iter_mut().enumerate() {
            *g = RIDGE * theta[i];
            hess[i][i] = RIDGE;
        }
        for (x, t) in &rows {
            let f = x[0] * theta[0] + x[1] * theta[1] + x[2] * theta[2];
            let p = 1.0 / (1.0 + (-f).exp());
            let h = p * (1.0 - p);
            for i in 0..3 {
                grad[i] += (p - t) * x[i];
                for j in 0..3 {
                    hess[i][j] += h * x[i] * x[j];
                }
            }
        }
        let Some(step) = solve3(hess, grad) else { break };
        let mut scale = 1.0;
        let mut improved = false;
        while scale > 1e-8 {
            let candidate = [theta[0] - scale * step[0], theta[1] - scale * step[1], theta[2] - scale * step[2]];
            let l = loss(&candidate);
            if l < current - 1e-12 {
                (theta, current, improved) = (candidate, l, true);
                break;
            }
            scale /= 2.0;
        }
        if !improved || step.iter().map(|s| s.abs()).sum::<f64>() * scale < 1e-9 {
            break;
        }
    }
    [theta[0] as f32, theta[1] as f32, theta[2] as f32]
}

/// Solves a 3x3 linear system by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-15 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The threshold on `p` (predict positive when `p >= threshold`) that
/// maximises F1 on these examples, and that F1. Cuts are placed halfway
/// between consecutive distinct probabilities.
pub(crate) fn best_f1_threshold(p: &[f32], y: &[bool]) -> (f32, f64) {
    let total_pos = y.iter().filter(|&&v| v).count();
    if total_pos == 0 {
        return (0.5, 0.0);
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&i, &j| p[j].total_cmp(&p[i]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut best_f1, mut best_threshold) = (-1.0f64, 0.5f32);
    for (rank, &i) in order.iter().enumerate() {
        if y[i] {
            tp += 1
        } else {
            fp += 1
        }
        let next = order.get(rank + 1).map(|&j| p[j]);
        if next == Some(p[i]) {
            continue; // cannot cut between equal probabilities
        }
        let f1 = 2.0 * tp as f64 / (tp + fp + total_pos) as f64;
        if f1 > best_f1 {
            best_f1 = f1;
            best_threshold = match next {
                Some(q) => (p[i] + q) / 2.0,
                None => p[i],
            };
        }
    }
    (best_threshold, best_f1)
}

/// Deterministic pseudo-random numbers (SplitMix64, Steele et al. 2014).
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Fisher-Yates shuffle.
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix) {
    for i in (1..items.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_maximises_f1_on_a_hand_case() {
        // p:  0.9 (pos) 0.8 (neg) 0.7 (pos) 0.2 (pos) 0.1 (neg)
        // cut after 0.7: tp 2, fp 1, P 3 -> F1 = 4/6 = 0.667
        // cut after 0.2: tp 3, fp 1      -> F1 = 6/7 = 0.857 (best)
        // cut after 0.1: tp 3, fp 2      -> F1 = 6/8 = 0.75
        let p = [0.9, 0.8, 0.7, 0.2, 0.1];
        let y = [true, false, true, true, false];
        let (t, f1) = best_f1_threshold(&p, &y);
        assert!((f1 - 6.0 / 7.0).abs() < 1e-9);
        assert!((t - 0.15).abs() < 1e-6, "{t}");
    }

    #[test]
    fn platt_recovers_a_known_scaling() {
        // Scores whose true probability is sigmoid(2 z - 1): expected counts per bin.
        let mut z = Vec::new();
        let mut y = Vec::new();
        for step in -20..=20 {
            let zi = step as f32 / 10.0;
            let p = sigmoid(2.0 * zi - 1.0);
            let pos = (p * 1000.0).round() as usize;
            for n in 0..1000 {
                z.push(zi);
                y.push(n < pos);
            }
        }
        let no_lexicon = vec![0.0; z.len()];
        let [a, b, c] = platt(&z, &no_lexicon, &y);
        assert!((a - 2.0).abs() < 0.05 && (b + 1.0).abs() < 0.05 && c.abs() < 1e-3, "a={a} b={b} c={c}");
    }

    #[test]
    fn learns_a_separable_toy_problem() {
        let mut x = Csr::new();
        let mut positive = Vec::new();
        for i in 0..200 {
            let feature = (i % 2) as u32; // feature 1 <=> label 0
            x.push_row(&[(feature, 1.0), (2, 1.0)]);
            positive.push(if feature == 1 { 1u64 } else { 0 });
        }
        let known = vec![1u64; 200];
        let weight = vec![1.0f32; 200];
        let targets = Targets { positive: &positive, known: &known, weight: &weight, bits: &[0] };
        let params = SgdParams { epochs: 5, learning_rate: 0.5, l2: 0.0, balance_power: 1.0, seed: 1 };
        let rows: Vec<usize> = (0..200).collect();
        let m = fit(&x, 4, &rows, &targets, &params);
        let mut z = [0.0];
        m.scores(&[1, 2], &[1.0, 1.0], &mut z);
        assert!(z[0] > 2.0, "{z:?}");
        m.scores(&[0, 2], &[1.0, 1.0], &mut z);
        assert!(z[0] < -2.0, "{z:?}");
    }
}
