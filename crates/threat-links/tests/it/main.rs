//! Honesty of the threat network's significance: calibration under the null
//! (independent series, time order shuffled) and recovery of a planted lag.

use vitalcore_threat_links::{DimensionPanel, NetworkConfig, threat_network, to_dot};

/// Knuth's Poisson sampler (fine for the small means used here).
fn poisson(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.f64();
        if p <= limit {
            return k;
        }
        k += 1.0;
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn months(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{:04}-{:02}", 2020 + i / 12, i % 12 + 1)).collect()
}

/// Independent Poisson series, a different mean per unit and dimension.
fn independent_panel(seed: u64, units: usize, n_months: usize, dims: usize) -> DimensionPanel {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut p = DimensionPanel::zeros(names("area", units), months(n_months), names("dim", dims));
    for u in 0..units {
        for d in 0..dims {
            let mean = 0.5 + 3.0 * rng.f64();
            for m in 0..n_months {
                p.set(u, m, d, poisson(&mut rng, mean));
            }
        }
    }
    p
}

/// dim1 at month t follows dim0 at month t-1; dim2, dim3 are unrelated.
fn planted_panel(seed: u64, units: usize, n_months: usize) -> DimensionPanel {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut p = DimensionPanel::zeros(names("area", units), months(n_months), names("dim", 4));
    for u in 0..units {
        let a: Vec<f64> = (0..n_months).map(|_| poisson(&mut rng, 2.0)).collect();
        for m in 0..n_months {
            p.set(u, m, 0, a[m]);
            let prev = if m == 0 { 2.0 } else { a[m - 1] };
            p.set(u, m, 1, poisson(&mut rng, 0.5 + prev));
            p.set(u, m, 2, poisson(&mut rng, 1.5));
            p.set(u, m, 3, poisson(&mut rng, 1.5));
        }
    }
    p
}

/// Shuffles each unit's months independently for every dimension.
fn shuffle_time(panel: &DimensionPanel, seed: u64) -> DimensionPanel {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = panel.clone();
    for u in 0..panel.units.len() {
        for d in 0..panel.dimensions.len() {
            let mut s = panel.series(u, d);
            rng.shuffle(&mut s);
            for (m, x) in s.into_iter().enumerate() {
                out.set(u, m, d, x);
            }
        }
    }
    out
}

fn config(seed: u64) -> NetworkConfig {
    NetworkConfig { max_lag: 3, permutations: 199, fdr: 0.1, seed, per_unit: false }
}

/// Under the complete null every discovery is false, and Benjamini-Hochberg at
/// q = 0.1 keeps P(any discovery) <= 0.1. Over 40 fixed seeds we therefore
/// expect about 4 runs with a discovery or fewer; we allow 10 (if the true rate
/// were 0.1, 11 or more of 40 would happen with probability about 0.002).
/// Unadjusted p < 0.1 on the same runs must find many more, so the test can
/// tell controlled from uncontrolled.
#[test]
fn independent_series_give_few_discoveries_at_fdr_0_1() {
    let (mut runs_with_discovery, mut discoveries, mut naive) = (0, 0, 0);
    for seed in 0..40 {
        let panel = independent_panel(1000 + seed, 8, 24, 4);
        let report = threat_network(&panel, &config(seed));
        assert_eq!(report.pooled.tested, 6 + 3 * 12);
        let found = report.pooled.edges.len();
        discoveries += found;
        runs_with_discovery += usize::from(found > 0);
        let all = threat_network(&panel, &NetworkConfig { fdr: 1.0, ..config(seed) });
        naive += all.pooled.edges.iter().filter(|e| e.p_value < 0.1).count();
    }
    eprintln!(
        "null: {runs_with_discovery}/40 runs with a discovery, {discoveries} false edges, {naive} unadjusted p<0.1"
    );
    assert!(runs_with_discovery <= 10, "{runs_with_discovery} of 40 null runs had a discovery ({discoveries} edges)");
    assert!(discoveries <= 15, "{discoveries} false edges over 40 null runs");
    // 40 runs x 42 tests x 0.1 = 168 expected without correction
    assert!(naive >= 100, "unadjusted p < 0.1 found only {naive} edges; the null check has no power to fail");
}

#[test]
fn shuffling_time_removes_a_planted_dependency() {
    let mut runs_with_discovery = 0;
    for seed in 0..20 {
        let panel = planted_panel(500 + seed, 10, 36);
        let shuffled = shuffle_time(&panel, 9000 + seed);
        let report = threat_network(&shuffled, &config(seed));
        runs_with_discovery += usize::from(!report.pooled.edges.is_empty());
    }
    eprintln!("shuffled: {runs_with_discovery}/20 runs with a discovery");
    // expected about 2 of 20 at most; 7 or more would have probability < 0.003 at rate 0.1
    assert!(runs_with_discovery <= 6, "{runs_with_discovery} of 20 shuffled runs had a discovery");
}

#[test]
fn planted_one_month_lag_is_found_with_the_right_lag() {
    let panel = planted_panel(7, 10, 36);
    let report = threat_network(&panel, &config(1));
    let top = report.pooled.edges.first().expect("at least one edge");
    assert_eq!((top.from.as_str(), top.to.as_str(), top.lag), ("dim0", "dim1", 1), "{:?}", report.pooled.edges);
    assert!(top.strength > 0.3, "{top:?}");
    assert!(top.q_value <= 0.01, "{top:?}");
    // nothing else is planted: any other edge must be far weaker
    for e in &report.pooled.edges[1..] {
        assert!(e.strength.abs() < top.strength / 2.0, "{e:?}");
    }
    let dot = to_dot(&report.pooled, &report.dimensions);
    assert!(dot.starts_with("digraph") && dot.contains("\"dim0\" -> \"dim1\" [label=\"lag 1 r="), "{dot}");
}

#[test]
fn per_unit_networks_are_computed_for_each_unit() {
    let panel = planted_panel(11, 3, 48);
    let report = threat_network(&panel, &NetworkConfig { per_unit: true, ..config(3) });
    assert_eq!(report.per_unit.len(), 3);
    assert!(report.per_unit.iter().all(|n| n.units == 1 && n.months == 48));
    // the pooled network (3 x 48 unit-months) finds the planted link
    assert!(report.pooled.edges.iter().any(|e| e.from == "dim0" && e.to == "dim1" && e.lag == 1));
}

#[test]
fn same_seed_same_result() {
    let panel = independent_panel(3, 4, 24, 3);
    let a = threat_network(&panel, &NetworkConfig { fdr: 1.0, ..config(5) });
    let b = threat_network(&panel, &NetworkConfig { fdr: 1.0, ..config(5) });
    assert_eq!(a.pooled.edges, b.pooled.edges);
}
