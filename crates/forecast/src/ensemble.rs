//! The `ensemble` model: a linear pool of the hurdle model's draws and a
//! baseline's (conflictology or bootstrap), its weights chosen at each fit
//! by a strictly out-of-sample inner backtest inside the training data.
//!
//! At fit origin o and horizon h, a hurdle model is fitted at the inner
//! origin o_in = o - h - [`INNER_ORIGINS`] (it sees outcomes up to o_in only)
//! and every inner origin o' in [o_in, o - h] is forecast for o' + h, with
//! features and baselines from data up to o'. Every outcome scored is at or
//! before o, so nothing after the origin is ever read. The candidate pool
//! (hurdle share in {0, 1/4, 1/2, 3/4, 1} x partner in {conflictology,
//! bootstrap}) with the lowest summed CRPS wins; ties go to the larger hurdle
//! share. Linear pools of forecast distributions are a standard hedge when a
//! model's edge is unstable (Gneiting and Ranjan 2013; the VIEWS ensembles):
//! after a peak or on short, bursty series the inner backtest moves weight
//! to the baseline that has recently scored better.

use crate::features::Features;
use crate::hurdle;
use crate::metrics::Draws;
use crate::models::{ModelKind, OriginState};
use crate::rng::{Rng, mix_seed};
use crate::score_engine::RunBuilder;

/// Inner origins scored before each fit origin (one year).
pub const INNER_ORIGINS: usize = 12;
/// Draws per candidate and unit-month in the inner backtest.
pub const INNER_DRAWS: usize = 200;
/// Hurdle shares tried.
pub const SHARES: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
/// Baselines the hurdle is pooled with.
pub const PARTNERS: [ModelKind; 2] = [ModelKind::Conflictology, ModelKind::Bootstrap];

/// The chosen pool for one horizon: `hurdle_share` of the draws from the
/// hurdle model, the rest from `partner`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blend {
    pub partner: ModelKind,
    pub hurdle_share: f64,
}

impl Blend {
    /// The hurdle alone (also the choice when there is too little history
    /// for an inner backtest).
    pub const HURDLE: Blend = Blend { partner: ModelKind::Conflictology, hurdle_share: 1.0 };

    /// Number of the `n` draws that come from the hurdle model.
    pub fn hurdle_draws(&self, n: usize) -> usize {
        (self.hurdle_share * n as f64).round() as usize
    }
}

/// Chooses the blend for horizon `h` at `origin` (see the module doc).
#[allow(clippy::too_many_arguments)]
pub fn select_blend(
    y: &[f64],
    months: usize,
    n_units: usize,
    features: &Features,
    origin: usize,
    h: usize,
    window: usize,
    seed: u64,
) -> Blend {
    let Some(inner_fit_origin) = origin.checked_sub(h + INNER_ORIGINS) else { return Blend::HURDLE };
    if inner_fit_origin < crate::backtest::MIN_HISTORY {
        return Blend::HURDLE;
    }
    let fit = hurdle::fit(features, y, n_units, inner_fit_origin, h, window);
    let mut totals = vec![[0.0f64; SHARES.len()]; PARTNERS.len()];
    let mut runs = RunBuilder::default();
    for o in inner_fit_origin..=origin - h {
        let state = OriginState::new(y, months, n_units, features, o, o, 0, window, false);
        // Units with no history nearby and nothing observed all get the same
        // forecasts (same features, no own history, the shared bootstrap
        // pool): one of them is scored and counted for all.
        let mut idle: Option<(usize, f64)> = None;
        for u in 0..n_units {
            let obs = y[u * months + o + h];
            if !features.is_active(u, o) && obs == 0.0 {
                match &mut idle {
                    Some((_, count)) => {
                        *count += 1.0;
                        continue;
                    }
                    None => idle = Some((u, 1.0)),
                }
                continue;
            }
            add_unit_scores(&mut totals, &state, &fit, features, u, o, h, obs, 1.0, seed, &mut runs);
        }
        if let Some((u, count)) = idle {
            add_unit_scores(&mut totals, &state, &fit, features, u, o, h, 0.0, count, seed, &mut runs);
        }
    }
    let mut best = (f64::INFINITY, Blend::HURDLE);
    // larger shares first, so that ties keep the hurdle
    for (p, partner) in PARTNERS.iter().enumerate() {
        for (s, &share) in SHARES.iter().enumerate().rev() {
            if totals[p][s] < best.0 - 1e-12 * best.0.abs() {
                best = (totals[p][s], Blend { partner: *partner, hurdle_share: share });
            }
        }
    }
    if best.1.hurdle_share == 1.0 { Blend::HURDLE } else { best.1 }
}

/// Adds `weight` x the CRPS of every candidate pool for unit `u` at inner
/// origin `o` to `totals`.
#[allow(clippy::too_many_arguments)]
fn add_unit_scores(
    totals: &mut [[f64; SHARES.len()]],
    state: &OriginState,
    fit: &hurdle::HurdleFit,
    features: &Features,
    u: usize,
    o: usize,
    h: usize,
    obs: f64,
    weight: f64,
    seed: u64,
    runs: &mut RunBuilder,
) {
    let x = features.row(u, o);
    for (p, &partner) in PARTNERS.iter().enumerate() {
        for (s, &share) in SHARES.iter().enumerate() {
            let mut rng = Rng::new(mix_seed(&[seed, 0x01e5_eb1e, o as u64, h as u64, u as u64, p as u64, s as u64]));
            let blend = Blend { partner, hurdle_share: share };
            let k = blend.hurdle_draws(INNER_DRAWS);
            let a = fit.draw(x, k, &mut rng);
            let b = state.draw(partner, u, h, INNER_DRAWS - k, &mut rng);
            let d = pool(&a, &b);
            totals[p][s] += weight * runs.build_sparse(d.n, &d.pos).crps(obs);
        }
    }
}

/// The draws of two samples together.
pub fn pool(a: &Draws, b: &Draws) -> Draws {
    let mut pos = Vec::with_capacity(a.pos.len() + b.pos.len());
    pos.extend_from_slice(&a.pos);
    pos.extend_from_slice(&b.pos);
    Draws::from_positive(a.n + b.n, pos)
}
