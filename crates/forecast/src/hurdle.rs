//! The learned model: a hurdle model (Mullahy 1986) fitted directly for each
//! horizon h on (features at t, outcome at t + h).
//!
//! - P(y > 0): ridge-penalised logistic regression fitted by Newton-Raphson
//!   (iteratively reweighted least squares; McCullagh and Nelder 1989).
//! - size given y > 0: linear regression of ln y on the same features; draws
//!   are exp(x'b + e) with e resampled from the fitted residuals (Duan's 1983
//!   smearing, non-parametric), rounded, at least 1.
//! - calibration: recalibration in the large on the last 24 months of the
//!   training window (see [`recalibrate`]).
//!
//! Rows whose features are all "no history" are identical and enter the
//! logistic fit as one weighted row, which makes sparse grids cheap.

use crate::features::Features;
use crate::metrics::Draws;
use crate::rng::Rng;

/// Half-life (months) of the weight of a training row by its age: recent
/// months count more, since conflict dynamics drift (discounted likelihood).
pub const RECENCY_HALF_LIFE: f64 = 36.0;

/// Ridge penalty on the non-intercept coefficients of P(y > 0) (features
/// are O(1)): a prior worth about 200 recency-weighted unit-months, which
/// shrinks unit-specific probabilities toward the pooled rate. Where past
/// activity does not say where the next events fall (ACLED Burundi
/// 2016-20: with penalty 1 the Brier score at h2-h3 was no better than a
/// constant's), this is what keeps the model from concentrating probability
/// on the wrong units; where it does (UCDP CAR), the data outweigh it.
/// Penalties 1, 10, 30, 50, 200, 300, 500, 2000 were compared on every
/// backtest in bench/forecast/RESULTS.md; 200 was best or within 0.005 of
/// the best CRPS ratio on each.
pub const RIDGE: f64 = 200.0;
const MAX_NEWTON: usize = 30;
/// Ridge penalty of the size model: a strong prior that shrinks ln-size
/// toward the recency-weighted mean of the positive months (the intercept),
/// the same weight as [`RIDGE`]. The size model is fitted on few positive
/// rows, and with a weak penalty it carried the sizes of a past peak into
/// forecasts after it, more so at longer horizons (CAR 2012-16, Burundi
/// 2016-20); penalties 1 to 2000 were compared on every backtest in
/// bench/forecast/RESULTS.md together with [`RIDGE`].
pub const SIZE_RIDGE: f64 = 200.0;

#[derive(Debug, Clone)]
pub struct HurdleFit {
    pub logit: Vec<f64>,
    pub size: Vec<f64>,
    pub residuals: Vec<f64>,
    /// Recency weights of the residuals (their sampling distribution).
    pub resid_weights: Vec<f64>,
    /// Walker's alias table over `resid_weights`: O(1) weighted draws.
    pub alias: Alias,
    /// Largest fitted ln-size in training: the size model does not
    /// extrapolate beyond it.
    pub max_fitted: f64,
    /// Calibration factor applied to sizes.
    pub scale: f64,
    pub train_rows: usize,
}

/// Training rows for horizon h at an origin: months t in
/// [origin - h - window + 1, origin - h] (outcome month t + h <= origin).
pub fn training_months(origin: usize, h: usize, window: usize) -> std::ops::Range<usize> {
    if origin < h {
        return 0..0;
    }
    let hi = origin - h;
    (hi + 1).saturating_sub(window)..hi + 1
}

fn dot(b: &[f64], x: &[f32]) -> f64 {
    b[0] + b[1..].iter().zip(x).map(|(b, &x)| b * x as f64).sum::<f64>()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Adds w * [1, x] [1, x]' to the upper triangle of `h` and g_coef * [1, x] to `g`.
fn accumulate(h: &mut [f64], g: &mut [f64], x: &[f32], w: f64, g_coef: f64) {
    let p = g.len();
    let xi = |i: usize| if i == 0 { 1.0 } else { x[i - 1] as f64 };
    for i in 0..p {
        let v = xi(i);
        if v == 0.0 {
            continue;
        }
        g[i] += g_coef * v;
        let wi = w * v;
        let row = &mut h[i * p..(i + 1) * p];
        row[i] += wi * v;
        for (j, hij) in row.iter_mut().enumerate().skip(i + 1) {
            *hij += wi * xi(j);
        }
    }
}

/// Solves (H + ridge) delta = g by Cholesky; H holds the upper triangle.
fn solve_ridge(h: &mut [f64], g: &[f64], ridge: f64) -> Vec<f64> {
    let p = g.len();
    for i in 0..p {
        for j in 0..i {
            h[i * p + j] = h[j * p + i];
        }
        h[i * p + i] += if i == 0 { 1e-9 } else { ridge };
    }
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = h[i * p + j] - (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum::<f64>();
            l[i * p + j] = if i == j { s.max(1e-12).sqrt() } else { s / l[j * p + j] };
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        z[i] = (g[i] - (0..i).map(|k| l[i * p + k] * z[k]).sum::<f64>()) / l[i * p + i];
    }
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        x[i] = (z[i] - (i + 1..p).map(|k| l[k * p + i] * x[k]).sum::<f64>()) / l[i * p + i];
    }
    x
}

/// Fits the hurdle model for horizon h at `origin` on the last `window`
/// months of training rows.
pub fn fit(features: &Features, y: &[f64], n_units: usize, origin: usize, h: usize, window: usize) -> HurdleFit {
    let t_len = features.months;
    let months = training_months(origin, h, window);
    let p = features.d + 1;
    let mut active_rows: Vec<(usize, f64, f64)> = Vec::new();
    let (mut idle_n, mut idle_pos) = (0.0f64, 0.0f64);
    let mut positives: Vec<(Vec<f32>, f64, f64)> = Vec::new();
    let idle_x = features.inactive_row();
    let half_life = RECENCY_HALF_LIFE;
    let mut train_rows = 0;
    for u in 0..n_units {
        for t in months.clone() {
            let r = u * t_len + t;
            let out = y[u * t_len + t + h];
            let w = 0.5f64.powf((months.end - 1 - t) as f64 / half_life);
            train_rows += 1;
            if features.active[r] {
                active_rows.push((r, out, w));
                if out > 0.0 {
                    positives.push((features.x[r * features.d..(r + 1) * features.d].to_vec(), out, w));
                }
            } else {
                idle_n += w;
                if out > 0.0 {
                    idle_pos += w;
                    positives.push((idle_x.clone(), out, w));
                }
            }
        }
    }
    let total_w: f64 = idle_n + active_rows.iter().map(|r| r.2).sum::<f64>();
    let pos_w: f64 = positives.iter().map(|p| p.2).sum();
    let base = ((pos_w + 0.5) / (total_w + 1.0)).clamp(1e-6, 1.0 - 1e-6);
    let mut beta = vec![0.0; p];
    beta[0] = (base / (1.0 - base)).ln();
    let row_of = |r: usize| &features.x[r * features.d..(r + 1) * features.d];
    for _ in 0..MAX_NEWTON {
        let mut hess = vec![0.0; p * p];
        let mut grad = vec![0.0; p];
        for &(r, out, w) in &active_rows {
            let x = row_of(r);
            let mu = sigmoid(dot(&beta, x));
            accumulate(&mut hess, &mut grad, x, w * mu * (1.0 - mu), w * ((out > 0.0) as u8 as f64 - mu));
        }
        if idle_n > 0.0 {
            let mu = sigmoid(dot(&beta, &idle_x));
            accumulate(&mut hess, &mut grad, &idle_x, idle_n * mu * (1.0 - mu), idle_pos - idle_n * mu);
        }
        for (i, gi) in grad.iter_mut().enumerate().skip(1) {
            *gi -= RIDGE * beta[i];
        }
        let step = solve_ridge(&mut hess, &grad, RIDGE);
        // damped Newton: halve the step until the penalised log-likelihood rises
        let current = penalised_loglik(&beta, &active_rows, row_of, &idle_x, idle_n, idle_pos);
        let mut t = 1.0;
        let mut next = beta.clone();
        for _ in 0..20 {
            for ((n, b), s) in next.iter_mut().zip(&beta).zip(&step) {
                *n = b + t * s;
            }
            if penalised_loglik(&next, &active_rows, row_of, &idle_x, idle_n, idle_pos)
                >= current - 1e-9 * current.abs()
            {
                break;
            }
            t *= 0.5;
        }
        let max_step = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
        beta = next;
        if max_step < 1e-7 {
            break;
        }
    }
    let (size, residuals) = fit_size(&positives, p);
    let max_fitted = positives.iter().map(|(x, _, _)| dot(&size, x)).fold(0.0f64, f64::max);
    // residuals are resampled with their rows' recency weights, as they were fitted
    let resid_weights: Vec<f64> =
        if positives.is_empty() { vec![1.0] } else { positives.iter().map(|p| p.2).collect() };
    let alias = Alias::new(&resid_weights);
    let mut fit = HurdleFit { logit: beta, size, residuals, resid_weights, alias, max_fitted, scale: 1.0, train_rows };
    recalibrate(&mut fit, features, y, n_units, months, h);
    fit
}

/// Log-likelihood of the logistic part minus the ridge penalty.
fn penalised_loglik<'a>(
    beta: &[f64],
    rows: &[(usize, f64, f64)],
    row_of: impl Fn(usize) -> &'a [f32],
    idle_x: &[f32],
    idle_n: f64,
    idle_pos: f64,
) -> f64 {
    // log sigma(z) = -ln(1 + e^-z), computed stably
    let log_sig = |z: f64| if z > 0.0 { -(-z).exp().ln_1p() } else { z - z.exp().ln_1p() };
    let mut ll = 0.0;
    for &(r, out, w) in rows {
        let z = dot(beta, row_of(r));
        ll += w * if out > 0.0 { log_sig(z) } else { log_sig(-z) };
    }
    if idle_n > 0.0 {
        let z = dot(beta, idle_x);
        ll += idle_pos * log_sig(z) + (idle_n - idle_pos) * log_sig(-z);
    }
    ll - 0.5 * RIDGE * beta[1..].iter().map(|b| b * b).sum::<f64>()
}

/// Ridge regression (penalty [`SIZE_RIDGE`]) of ln y on the features for the
/// positive rows.
fn fit_size(positives: &[(Vec<f32>, f64, f64)], p: usize) -> (Vec<f64>, Vec<f64>) {
    if positives.is_empty() {
        return (vec![0.0; p], vec![0.0]);
    }
    let mut hess = vec![0.0; p * p];
    let mut grad = vec![0.0; p];
    for (x, y, w) in positives {
        accumulate(&mut hess, &mut grad, x, *w, w * y.ln());
    }
    let beta = solve_ridge(&mut hess, &grad, SIZE_RIDGE);
    let residuals = positives.iter().map(|(x, y, _)| y.ln() - dot(&beta, x)).collect();
    (beta, residuals)
}

/// Months at the end of the training window used for recalibration.
pub const CALIBRATION_MONTHS: usize = 24;
/// Half-life (months) of the weights of the calibration months for P(y > 0):
/// the share of non-zero unit-months the forecasts are matched to is an
/// exponentially weighted recent share, so it follows a decline after a
/// peak within months, not years.
pub const CALIBRATION_HALF_LIFE: f64 = 3.0;
/// Half-life (months) of the weights for the size scale: after a peak the
/// sizes of events fall faster than their frequency (Burundi 2016, CAR
/// 2015), so the mean is matched to the last month or two. The scale only
/// shrinks (see [`MIN_SCALE`]), so a noisy low month can pull forecasts
/// down but a single extreme month cannot blow them up; the cost is a
/// bias ratio a little below 1 in steady periods (0.84-0.94 on the
/// backtests in bench/forecast/RESULTS.md).
pub const SIZE_CALIBRATION_HALF_LIFE: f64 = 1.0;
/// Smallest size scale. The scale is never above 1: Duan's smearing already
/// makes the retransformed sizes unbiased in the training window, and an
/// upward recalibration is driven by the few extreme months in the
/// calibration window, which rarely recur (out of sample it raised the bias
/// ratio after every peak we tried: CAR 2012-16, Burundi 2016-20).
pub const MIN_SCALE: f64 = 0.2;

/// Recalibration in the large on the most recent [`CALIBRATION_MONTHS`] of
/// training rows (Steyerberg 2019, ch. 20): the logistic intercept is
/// shifted so the predicted count of non-zero months, each month weighted by
/// 0.5^(age / [`CALIBRATION_HALF_LIFE`]), equals the observed one; then the
/// sizes are scaled down so the mean prediction equals the mean outcome with
/// months weighted by 0.5^(age / [`SIZE_CALIBRATION_HALF_LIFE`]). Conflict
/// levels drift; this keeps the bias ratio near 1 when a long training
/// window spans a past peak. Shift and scale are clamped
/// ([-3, 3], [[`MIN_SCALE`], 1]).
fn recalibrate(
    fit: &mut HurdleFit,
    features: &Features,
    y: &[f64],
    n_units: usize,
    months: std::ops::Range<usize>,
    h: usize,
) {
    if months.is_empty() {
        return;
    }
    let recent = months.end.saturating_sub(CALIBRATION_MONTHS).max(months.start)..months.end;
    let smear = fit.smear();
    let t_len = features.months;
    let n_age = recent.len();
    // (logit, expected size, age in months, count of rows)
    let mut rows: Vec<(f64, f64, usize, f64)> = Vec::new();
    let idle = features.inactive_row();
    let (idle_z, idle_s) = (dot(&fit.logit, &idle), fit.unscaled_mean_size(&idle, smear));
    let mut idle_by_age = vec![0.0; n_age];
    let (mut nonzero_by_age, mut total_by_age) = (vec![0.0; n_age], vec![0.0; n_age]);
    for u in 0..n_units {
        for t in recent.clone() {
            let age = recent.end - 1 - t;
            let r = u * t_len + t;
            let out = y[r + h];
            total_by_age[age] += out;
            nonzero_by_age[age] += (out > 0.0) as u8 as f64;
            if features.active[r] {
                let x = &features.x[r * features.d..(r + 1) * features.d];
                rows.push((dot(&fit.logit, x), fit.unscaled_mean_size(x, smear), age, 1.0));
            } else {
                idle_by_age[age] += 1.0;
            }
        }
    }
    rows.extend(idle_by_age.iter().enumerate().filter(|(_, n)| **n > 0.0).map(|(age, &n)| (idle_z, idle_s, age, n)));
    let weights = |hl: f64| -> Vec<f64> { (0..n_age).map(|a| 0.5f64.powf(a as f64 / hl)).collect() };
    let (wp, ws) = (weights(CALIBRATION_HALF_LIFE), weights(SIZE_CALIBRATION_HALF_LIFE));
    let target = nonzero_by_age.iter().zip(&wp).map(|(n, w)| n * w).sum::<f64>().max(0.5);
    let mut shift = 0.0f64;
    for _ in 0..50 {
        let (f, df) = rows.iter().fold((0.0, 0.0), |(f, df), &(z, _, age, n)| {
            let p = sigmoid(z + shift);
            (f + wp[age] * n * p, df + wp[age] * n * p * (1.0 - p))
        });
        if df <= 0.0 {
            break;
        }
        let step = ((target - f) / df).clamp(-1.0, 1.0);
        shift = (shift + step).clamp(-3.0, 3.0);
        if step.abs() < 1e-9 {
            break;
        }
    }
    fit.logit[0] += shift;
    let total: f64 = total_by_age.iter().zip(&ws).map(|(v, w)| v * w).sum();
    let pred: f64 = rows.iter().map(|&(z, s, age, n)| ws[age] * n * sigmoid(z + shift) * s).sum();
    fit.scale = if pred > 0.0 { (total / pred).clamp(MIN_SCALE, 1.0) } else { 1.0 };
}

impl HurdleFit {
    /// Mean of exp(residual) under the residual sampling weights.
    pub fn smear(&self) -> f64 {
        let total: f64 = self.resid_weights.iter().sum();
        self.residuals.iter().zip(&self.resid_weights).map(|(e, w)| w * e.exp()).sum::<f64>() / total
    }

    fn sample_residual(&self, rng: &mut Rng) -> f64 {
        self.residuals[self.alias.sample(rng)]
    }

    /// Linear predictor of ln size, capped at the training maximum.
    pub fn size_mean_log(&self, x: &[f32]) -> f64 {
        dot(&self.size, x).min(self.max_fitted)
    }

    /// Expected size given y > 0 before the calibration scale: the
    /// retransformed linear predictor times the smearing factor (Duan 1983).
    fn unscaled_mean_size(&self, x: &[f32], smear: f64) -> f64 {
        self.size_mean_log(x).min(30.0).exp() * smear
    }

    pub fn p_any(&self, x: &[f32]) -> f64 {
        sigmoid(dot(&self.logit, x))
    }

    /// `n` draws for a unit whose features are `x`.
    pub fn draw(&self, x: &[f32], n: usize, rng: &mut Rng) -> Draws {
        let k = rng.binomial(n as u32, self.p_any(x)) as usize;
        let mu = self.size_mean_log(x);
        let pos = (0..k)
            .map(|_| {
                let e = self.sample_residual(rng);
                (self.scale * (mu + e).min(30.0).exp()).round().max(1.0)
            })
            .collect();
        Draws::from_positive(n, pos)
    }
}

/// Walker's (1977) alias method with Vose's (1991) construction: draws an
/// index with probability proportional to its weight in O(1).
#[derive(Debug, Clone)]
pub struct Alias {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    pub fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut prob: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in small.into_iter().chain(large) {
            prob[i] = 1.0; // rounding leftovers
        }
        Alias { prob, alias }
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let i = rng.below(self.prob.len());
        if rng.uniform() < self.prob[i] { i } else { self.alias[i] as usize }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_draws_follow_the_weights() {
        let a = Alias::new(&[1.0, 2.0, 0.0, 7.0]);
        let mut rng = Rng::new(4);
        let mut counts = [0usize; 4];
        for _ in 0..200_000 {
            counts[a.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0, "a zero weight is never drawn");
        for (c, w) in counts.iter().zip([0.1, 0.2, 0.0, 0.7]) {
            assert!((*c as f64 / 200_000.0 - w).abs() < 0.005, "{counts:?}");
        }
    }
}
