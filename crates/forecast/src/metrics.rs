//! Proper scores for sample (ensemble) forecasts of counts, and the
//! classification scores for "any fatality".
//!
//! Forecast draws are held sorted, with the zeros counted rather than stored
//! ([`Draws`]): conflict counts are mostly zero, so this is both the memory
//! and the speed win. Every formula below reads the full sorted sample
//! x(1) <= ... <= x(n) whose first `zeros` entries are 0.

/// Edges of the ignorance-score bins of the VIEWS 2023/24 prediction
/// competition (Hegre et al. 2024): 0, 1-2, 3-5, 6-10, 11-25, 26-50, 51-100,
/// 101-250, 251-500, 501-1000, more than 1000.
pub const IGN_EDGES: [f64; 11] = [0.0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5];

/// Sample draws of one unit-month: `n` draws in all, the positive ones kept
/// sorted ascending in `pos`, the rest zero. For samples with negative values
/// (never produced here, accepted for generality) `pos` holds every draw
/// sorted and `n == pos.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    pub n: usize,
    pub pos: Vec<f64>,
}

impl Draws {
    pub fn zero(n: usize) -> Draws {
        Draws { n, pos: Vec::new() }
    }

    /// From raw samples in any order.
    pub fn from_samples(samples: &[f64]) -> Draws {
        let mut pos = Vec::new();
        let n = sort_into(samples, &mut pos);
        Draws { n, pos }
    }

    /// From positive draws in any order and the total number of draws.
    pub fn from_positive(n: usize, mut pos: Vec<f64>) -> Draws {
        pos.sort_unstable_by(f64::total_cmp);
        Draws { n, pos }
    }

    pub fn view(&self) -> Sorted<'_> {
        Sorted { n: self.n, pos: &self.pos }
    }
}

/// Puts the non-zero samples of `samples` into `buf` sorted and returns n.
/// Zeros are only counted; if any sample is negative every sample is kept.
pub fn sort_into(samples: &[f64], buf: &mut Vec<f64>) -> usize {
    buf.clear();
    if samples.iter().any(|&x| x < 0.0) {
        buf.extend_from_slice(samples);
    } else {
        buf.extend(samples.iter().copied().filter(|&x| x != 0.0));
    }
    buf.sort_unstable_by(f64::total_cmp);
    samples.len()
}

/// A borrowed sorted sample: `n - pos.len()` zeros, then `pos`.
#[derive(Debug, Clone, Copy)]
pub struct Sorted<'a> {
    pub n: usize,
    pub pos: &'a [f64],
}

impl Sorted<'_> {
    fn zeros(&self) -> usize {
        self.n - self.pos.len()
    }

    /// The i-th smallest draw, 0-based.
    pub fn get(&self, i: usize) -> f64 {
        let z = self.zeros();
        if i < z { 0.0 } else { self.pos[i - z] }
    }

    pub fn mean(&self) -> f64 {
        self.pos.iter().sum::<f64>() / self.n as f64
    }

    /// Share of draws >= `k`.
    pub fn p_at_least(&self, k: f64) -> f64 {
        let below = if k <= 0.0 { 0 } else { self.zeros() + self.pos.partition_point(|&x| x < k) };
        (self.n - below) as f64 / self.n as f64
    }

    pub fn p_any(&self) -> f64 {
        self.pos.iter().filter(|&&x| x > 0.0).count() as f64 / self.n as f64
    }

    /// Count of draws in [lo, hi).
    fn count_in(&self, lo: f64, hi: f64) -> usize {
        let at_least = |v: f64| -> usize {
            let z = self.zeros();
            let zeros_at_least = if 0.0 >= v { z } else { 0 };
            zeros_at_least + self.pos.len() - self.pos.partition_point(|&x| x < v)
        };
        at_least(lo) - at_least(hi)
    }

    /// Sample quantile with linear interpolation between order statistics
    /// (Hyndman and Fan type 7, numpy's default), interpolated the way numpy's
    /// `_lerp` does so results agree to the last bits.
    pub fn quantile(&self, q: f64) -> f64 {
        let vi = q * (self.n - 1) as f64;
        let lo = vi.floor();
        let i = lo as usize;
        let j = (i + 1).min(self.n - 1);
        let t = vi - lo;
        let (a, b) = (self.get(i), self.get(j));
        let d = b - a;
        if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
    }

    /// CRPS of the empirical distribution of the draws (Gneiting and Raftery
    /// 2007, eq. 21): CRPS = E|X - y| - 0.5 E|X - X'|, with
    /// E|X - X'| = (2/n^2) sum_i (2i - n - 1) x(i) over the sorted sample
    /// (the O(n log n) form; Jordan, Krüger and Lerch 2019). This is the
    /// same quantity properscoring's `crps_ensemble` integrates.
    pub fn crps(&self, y: f64) -> f64 {
        let n = self.n as f64;
        let z = self.zeros();
        let mut abs_err = z as f64 * y.abs();
        let mut spread = 0.0;
        for (j, &x) in self.pos.iter().enumerate() {
            abs_err += (x - y).abs();
            let i = (z + j + 1) as f64;
            spread += (2.0 * i - n - 1.0) * x;
        }
        abs_err / n - spread / (n * n)
    }

    /// Ignorance (log) score in bits on the VIEWS bins: the predictive
    /// probability of the observation's bin is (draws in it + 1) / (n + 11),
    /// one pseudo-draw added to each of the 11 bins so it is never zero.
    pub fn ignorance(&self, y: f64) -> f64 {
        let b = IGN_EDGES.partition_point(|&e| e <= y);
        if b == 0 {
            return f64::NAN;
        }
        let lo = IGN_EDGES[b - 1];
        let hi = IGN_EDGES.get(b).copied().unwrap_or(f64::INFINITY);
        let count = self.count_in(lo, hi) as f64 + 1.0;
        -(count / (self.n as f64 + IGN_EDGES.len() as f64)).log2()
    }

    /// Interval score of the central (level x 100)% interval from sample
    /// quantiles (Gneiting and Raftery 2007, sec. 6.2):
    /// (u - l) + 2/a (l - y) 1{y < l} + 2/a (y - u) 1{y > u}, a = 1 - level.
    pub fn interval_score(&self, y: f64, level: f64) -> f64 {
        let alpha = 1.0 - level;
        let l = self.quantile(alpha / 2.0);
        let u = self.quantile(1.0 - alpha / 2.0);
        let mut s = u - l;
        if y < l {
            s += (2.0 / alpha) * (l - y);
        }
        if y > u {
            s += (2.0 / alpha) * (y - u);
        }
        s
    }
}

/// Brier score of one probability forecast for a binary outcome.
pub fn brier(p: f64, happened: bool) -> f64 {
    let o = if happened { 1.0 } else { 0.0 };
    (p - o) * (p - o)
}

/// Average precision (area under the precision-recall curve as a step sum,
/// sum_k (R_k - R_{k-1}) P_k over distinct score thresholds, as scikit-learn's
/// `average_precision_score`). `None` when no case is positive.
pub fn average_precision(scored: &mut [(f64, bool)]) -> Option<f64> {
    let positives = scored.iter().filter(|s| s.1).count();
    if positives == 0 {
        return None;
    }
    scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut ap, mut prev_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < scored.len() {
        let score = scored[i].0;
        while i < scored.len() && scored[i].0 == score {
            if scored[i].1 {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        let recall = tp as f64 / positives as f64;
        ap += (recall - prev_recall) * tp as f64 / (tp + fp) as f64;
        prev_recall = recall;
    }
    Some(ap)
}

/// Squared log error of a point forecast: (ln(1 + yhat) - ln(1 + y))^2, the
/// VIEWS point metric; averaged it is the MSLE.
pub fn squared_log_error(yhat: f64, y: f64) -> f64 {
    let d = yhat.max(0.0).ln_1p() - y.max(0.0).ln_1p();
    d * d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(v: &[f64]) -> Draws {
        Draws::from_samples(v)
    }

    #[test]
    fn crps_of_a_point_mass_is_the_absolute_error() {
        let d = draws(&[3.0; 10]);
        assert!((d.view().crps(7.0) - 4.0).abs() < 1e-12);
        let z = Draws::zero(1000);
        assert_eq!(z.view().crps(5.0), 5.0);
        assert_eq!(z.view().crps(0.0), 0.0);
    }

    #[test]
    fn crps_of_two_samples_by_hand() {
        // X uniform on {0, 2}, y = 1: E|X-y| = 1, E|X-X'| = (0+2+2+0)/4 = 1 -> 1 - 0.5 = 0.5
        assert!((draws(&[2.0, 0.0]).view().crps(1.0) - 0.5).abs() < 1e-12);
        // y = 2: E|X-y| = 1, -> 0.5
        assert!((draws(&[0.0, 2.0]).view().crps(2.0) - 0.5).abs() < 1e-12);
        // {1, 3}, y = 0: E|X-y| = 2, E|X-X'| = 1 -> 1.5
        assert!((draws(&[3.0, 1.0]).view().crps(0.0) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn crps_equals_the_integral_of_squared_cdf_difference() {
        // Draws {0,0,1,4}, y = 2. F = 0.5 on [0,1), 0.75 on [1,4); H = 1 from 2.
        // integral = 0.5^2*1 + 0.75^2*1 + (0.75-1)^2*2 = 0.25 + 0.5625 + 0.125
        let c = draws(&[4.0, 0.0, 1.0, 0.0]).view().crps(2.0);
        assert!((c - 0.9375).abs() < 1e-12, "{c}");
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let d = draws(&[0.0, 1.0, 2.0, 10.0]);
        // np.quantile([0,1,2,10], 0.5) = 1.5 ; 0.9 -> vi 2.7 -> 2 + 0.7*8 = 7.6
        assert!((d.view().quantile(0.5) - 1.5).abs() < 1e-12);
        assert!((d.view().quantile(0.9) - 7.6).abs() < 1e-12);
        assert_eq!(d.view().quantile(0.0), 0.0);
        assert_eq!(d.view().quantile(1.0), 10.0);
    }

    #[test]
    fn interval_score_penalises_misses() {
        let d = draws(&[5.0; 20]);
        assert_eq!(d.view().interval_score(5.0, 0.9), 0.0);
        // width 0, miss by 2 above: 2/0.1 * 2 = 40
        assert!((d.view().interval_score(7.0, 0.9) - 40.0).abs() < 1e-9);
    }

    #[test]
    fn ignorance_uses_the_views_bins_with_one_pseudo_draw_each() {
        // 9 draws of 0 and 1 of 3; observation 0: (9+1)/(10+11) -> -log2(10/21)
        let mut v = vec![0.0; 9];
        v.push(3.0);
        let d = draws(&v);
        assert!((d.view().ignorance(0.0) - (-(10.0f64 / 21.0).log2())).abs() < 1e-12);
        // observation 4 falls in bin 3-5 with the draw 3: (1+1)/21
        assert!((d.view().ignorance(4.0) - (-(2.0f64 / 21.0).log2())).abs() < 1e-12);
        // observation 2000 in the open top bin: 1/21
        assert!((d.view().ignorance(2000.0) - (21.0f64).log2()).abs() < 1e-12);
    }

    #[test]
    fn brier_and_probabilities() {
        assert!((brier(0.8, true) - 0.04).abs() < 1e-12);
        assert!((brier(0.3, false) - 0.09).abs() < 1e-12);
        assert_eq!(brier(0.0, false), 0.0);
        let d = draws(&[0.0, 0.0, 1.0, 12.0]);
        assert_eq!(d.view().p_any(), 0.5);
        assert_eq!(d.view().p_at_least(10.0), 0.25);
        assert_eq!(d.view().p_at_least(0.0), 1.0);
        assert!((d.view().mean() - 3.25).abs() < 1e-12);
    }

    #[test]
    fn average_precision_known_values() {
        // scikit-learn doc example: y = [0,0,1,1], s = [0.1,0.4,0.35,0.8] -> 0.8333...
        let mut s = vec![(0.1, false), (0.4, false), (0.35, true), (0.8, true)];
        assert!((average_precision(&mut s).unwrap() - 0.8333333333333333).abs() < 1e-12);
        // perfect ranking -> 1
        let mut p = vec![(0.9, true), (0.1, false)];
        assert_eq!(average_precision(&mut p), Some(1.0));
        // all tied: precision = base rate
        let mut t = vec![(0.5, true), (0.5, false), (0.5, false), (0.5, false)];
        assert_eq!(average_precision(&mut t), Some(0.25));
        let mut none = vec![(0.5, false)];
        assert_eq!(average_precision(&mut none), None);
    }

    #[test]
    fn msle_by_hand() {
        assert!((squared_log_error(0.0, (1f64).exp() - 1.0) - 1.0).abs() < 1e-12);
        assert_eq!(squared_log_error(3.0, 3.0), 0.0);
    }
}
