//! Lagged association, permutation p-values and Benjamini-Hochberg q-values.

use serde::Serialize;

use crate::panel::DimensionPanel;

#[derive(Debug, Clone, Serialize)]
pub struct NetworkConfig {
    /// Largest lag in months (lags 0..=max_lag are tested).
    pub max_lag: usize,
    /// Permutations per test (the smallest reachable p is 1/(permutations+1)).
    pub permutations: usize,
    /// False-discovery rate: edges with q <= fdr are kept.
    pub fdr: f64,
    pub seed: u64,
    /// Also compute one network per unit (each from that unit's months only).
    pub per_unit: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig { max_lag: 3, permutations: 999, fdr: 0.1, seed: 42, per_unit: false }
    }
}

/// A tested link: `from` at month t-lag associated with `to` at month t.
/// At lag 0 the link is undirected (co-occurrence in the same month).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub lag: usize,
    /// Pearson correlation of within-unit demeaned ln(1+count), -1..1.
    pub strength: f64,
    pub p_value: f64,
    pub q_value: f64,
    /// Unit-months that entered the correlation.
    pub pairs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// "pooled" or the unit's name.
    pub scope: String,
    pub units: usize,
    pub months: usize,
    /// Number of (pair, lag) tests the false-discovery rate was controlled over.
    pub tested: usize,
    /// Edges with q <= fdr, most significant first.
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkReport {
    pub config: NetworkConfig,
    pub dimensions: Vec<String>,
    pub pooled: Network,
    pub per_unit: Vec<Network>,
}

/// The pooled network over all units, and per unit when `config.per_unit`.
pub fn threat_network(panel: &DimensionPanel, config: &NetworkConfig) -> NetworkReport {
    let pooled = unit_network(panel, config, "pooled");
    let per_unit = if config.per_unit {
        (0..panel.units.len())
            .map(|u| {
                let cfg = NetworkConfig { seed: config.seed.wrapping_add(u as u64 + 1), ..config.clone() };
                unit_network(&panel.single_unit(u), &cfg, &panel.units[u])
            })
            .collect()
    } else {
        Vec::new()
    };
    NetworkReport { config: config.clone(), dimensions: panel.dimensions.clone(), pooled, per_unit }
}

#[derive(Clone, Copy)]
struct Test {
    from: usize,
    to: usize,
    lag: usize,
}

/// One network from all units of `panel`, pooled.
pub fn unit_network(panel: &DimensionPanel, config: &NetworkConfig, scope: &str) -> Network {
    let z = demeaned_log_counts(panel);
    let tests = test_list(panel.dimensions.len(), config.max_lag, panel.months.len());
    let observed: Vec<Option<(f64, usize)>> = tests.iter().map(|t| lagged_correlation(&z, &z, *t)).collect();
    let p_values = permutation_p_values(&z, &tests, &observed, config);
    let q_values = benjamini_hochberg(&p_values);
    let mut edges: Vec<Edge> = tests
        .iter()
        .zip(&observed)
        .zip(p_values.iter().zip(&q_values))
        .filter(|(_, (_, q))| **q <= config.fdr)
        .filter_map(|((t, obs), (&p, &q))| {
            let (r, pairs) = (*obs)?;
            Some(Edge {
                from: panel.dimensions[t.from].clone(),
                to: panel.dimensions[t.to].clone(),
                lag: t.lag,
                strength: r,
                p_value: p,
                q_value: q,
                pairs,
            })
        })
        .collect();
    edges.sort_by(|a, b| a.q_value.total_cmp(&b.q_value).then(b.strength.abs().total_cmp(&a.strength.abs())));
    Network {
        scope: scope.to_string(),
        units: panel.units.len(),
        months: panel.months.len(),
        tested: tests.len(),
        edges,
    }
}

/// `z[unit][dim][month]` = ln(1+count) minus that unit's mean of the dimension.
fn demeaned_log_counts(panel: &DimensionPanel) -> Vec<Vec<Vec<f64>>> {
    (0..panel.units.len())
        .map(|u| {
            (0..panel.dimensions.len())
                .map(|d| {
                    let s: Vec<f64> = panel.series(u, d).iter().map(|c| c.ln_1p()).collect();
                    let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
                    s.iter().map(|x| x - mean).collect()
                })
                .collect()
        })
        .collect()
}

/// Unordered pairs at lag 0, ordered pairs at lags 1..=max_lag (lags that
/// leave fewer than 3 months are skipped).
fn test_list(dims: usize, max_lag: usize, months: usize) -> Vec<Test> {
    let mut tests = Vec::new();
    for lag in 0..=max_lag {
        if months < lag + 3 {
            break;
        }
        for from in 0..dims {
            for to in 0..dims {
                if from == to || (lag == 0 && from > to) {
                    continue;
                }
                tests.push(Test { from, to, lag });
            }
        }
    }
    tests
}

/// Pearson correlation of (source[u][from][t-lag], target[u][to][t]) over all
/// units and t >= lag; `None` when either side has no variance.
fn lagged_correlation(source: &[Vec<Vec<f64>>], target: &[Vec<Vec<f64>>], t: Test) -> Option<(f64, usize)> {
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (su, tu) in source.iter().zip(target) {
        let (a, b) = (&su[t.from], &tu[t.to]);
        for m in t.lag..b.len() {
            let (x, y) = (a[m - t.lag], b[m]);
            n += 1;
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
        }
    }
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let vx = sxx - sx * sx / nf;
    let vy = syy - sy * sy / nf;
    if vx <= 1e-12 * nf || vy <= 1e-12 * nf {
        return None;
    }
    Some(((sxy - sx * sy / nf) / (vx * vy).sqrt(), n))
}

/// Two-sided permutation p-values: each permutation shuffles the months of
/// every dimension within each unit (one shuffle per source dimension, shared
/// by the tests that use it), which keeps each unit's distribution of counts
/// and destroys any time alignment. Untestable edges (no variance) get p = 1.
///
/// A plain permutation p cannot go below 1/(permutations+1), too coarse for
/// Benjamini-Hochberg over many tests. So when fewer than
/// [`TAIL_EXCEEDANCES`] permuted statistics reach the observed one, the tail
/// is estimated instead from a normal distribution with the permutation
/// distribution's own mean and variance (a tail approximation of the
/// permutation null; the bulk of p-values stays the exact permutation count).
fn permutation_p_values(
    z: &[Vec<Vec<f64>>],
    tests: &[Test],
    observed: &[Option<(f64, usize)>],
    config: &NetworkConfig,
) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let mut exceed = vec![0usize; tests.len()];
    let mut moments = vec![(0.0f64, 0.0f64, 0usize); tests.len()];
    let mut shuffled = z.to_vec();
    for _ in 0..config.permutations {
        for (u, unit) in shuffled.iter_mut().enumerate() {
            for (d, series) in unit.iter_mut().enumerate() {
                series.copy_from_slice(&z[u][d]);
                rng.shuffle(series);
            }
        }
        for (i, t) in tests.iter().enumerate() {
            let Some((r_obs, _)) = observed[i] else { continue };
            let Some((r, _)) = lagged_correlation(&shuffled, z, *t) else { continue };
            if r.abs() >= r_obs.abs() - 1e-12 {
                exceed[i] += 1;
            }
            let m = &mut moments[i];
            m.0 += r;
            m.1 += r * r;
            m.2 += 1;
        }
    }
    let exact = |k: usize| (1 + k) as f64 / (1 + config.permutations) as f64;
    observed
        .iter()
        .zip(exceed.iter().zip(&moments))
        .map(|(obs, (&k, &(s, ss, n)))| {
            let Some((r, _)) = obs else { return 1.0 };
            if k >= TAIL_EXCEEDANCES || n < 30 {
                return exact(k);
            }
            let mean = s / n as f64;
            let sd = (ss / n as f64 - mean * mean).max(0.0).sqrt();
            if sd <= 0.0 {
                return exact(k);
            }
            // two-sided normal tail, never above the exact permutation estimate
            let tail = erfc(((r - mean).abs() / sd) / std::f64::consts::SQRT_2);
            tail.min(exact(k))
        })
        .collect()
}

/// Below this many permuted exceedances, the p-value tail is approximated.
pub const TAIL_EXCEEDANCES: usize = 10;

/// Complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Benjamini-Hochberg q-values: q_(i) = min over j >= i of p_(j) * m / j,
/// capped at 1 (in the input order).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benjamini_hochberg_matches_hand_computation() {
        // m = 4; sorted p 0.01, 0.02, 0.03, 0.5 -> raw 0.04, 0.04, 0.04, 0.5
        let q = benjamini_hochberg(&[0.03, 0.5, 0.01, 0.02]);
        let want = [0.04, 0.5, 0.04, 0.04];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        // monotone step-up: p = 0.01, 0.04 (m=2) -> 0.02, 0.04
        let q = benjamini_hochberg(&[0.04, 0.01]);
        assert!((q[0] - 0.04).abs() < 1e-12 && (q[1] - 0.02).abs() < 1e-12);
        assert_eq!(benjamini_hochberg(&[0.9, 0.95]), vec![0.95, 0.95]);
    }

    #[test]
    fn lagged_correlation_of_a_shifted_copy_is_one() {
        // target[t] = source[t-1] exactly -> r = 1 at lag 1
        let a = vec![1.0, -2.0, 3.0, 0.5, -1.0, 2.0];
        let b: Vec<f64> = std::iter::once(0.0).chain(a[..5].iter().copied()).collect();
        let z = vec![vec![a, b]];
        let (r, n) = lagged_correlation(&z, &z, Test { from: 0, to: 1, lag: 1 }).unwrap();
        assert!((r - 1.0).abs() < 1e-12);
        assert_eq!(n, 5);
        let flat = [vec![vec![1.0; 5], vec![0.0, 1.0, 0.0, 1.0, 0.0]]];
        assert!(lagged_correlation(&flat, &flat, Test { from: 0, to: 1, lag: 0 }).is_none());
    }

    #[test]
    fn erfc_matches_known_values() {
        // erfc(0) = 1, erfc(1) = 0.157299..., erfc(1.959964/sqrt 2) = 0.05
        assert!((erfc(0.0) - 1.0).abs() < 1e-6);
        assert!((erfc(1.0) - 0.157_299_2).abs() < 1e-6);
        assert!((erfc(1.959_964 / std::f64::consts::SQRT_2) - 0.05).abs() < 1e-6);
        assert!((erfc(-1.0) - 1.842_700_8).abs() < 1e-6);
    }

    #[test]
    fn test_list_counts() {
        // 3 dims, lags 0..=2: 3 unordered + 2 * 6 ordered
        assert_eq!(test_list(3, 2, 24).len(), 15);
        // 4 months: lag 2 leaves 2 months -> skipped
        assert_eq!(test_list(3, 2, 4).len(), 9);
    }
}
