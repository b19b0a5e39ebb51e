//! The forecasting models: four baselines that are hard to beat in conflict
//! forecasting (VIEWS; Hegre et al. 2019, 2022) and the learned hurdle model.

use crate::ensemble::{STACK_WEIGHTS, component_draws, pool};
use crate::error::ForecastError;
use crate::features::Features;
use crate::hurdle::{self, HurdleFit};
use crate::metrics::Draws;
use crate::rng::Rng;

/// Months of own history the conflictology baseline resamples.
pub const CONFLICTOLOGY_MONTHS: usize = 36;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// Point mass at zero.
    Zero,
    /// Poisson draws around the unit's value in the origin month.
    Last,
    /// Resampling of the unit's own last 36 months.
    Conflictology,
    /// Resampling of every unit-month in the training window.
    Bootstrap,
    /// The learned hurdle model.
    Hurdle,
    /// The hurdle model pooled with conflictology, bootstrap and last value,
    /// fixed weights fitted on the tuning countries ([`crate::ensemble`]).
    Ensemble,
}

pub const ALL_MODELS: [ModelKind; 6] = [
    ModelKind::Zero,
    ModelKind::Last,
    ModelKind::Conflictology,
    ModelKind::Bootstrap,
    ModelKind::Hurdle,
    ModelKind::Ensemble,
];

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Zero => "zero",
            ModelKind::Last => "last",
            ModelKind::Conflictology => "conflictology",
            ModelKind::Bootstrap => "bootstrap",
            ModelKind::Hurdle => "hurdle",
            ModelKind::Ensemble => "ensemble",
        }
    }

    pub fn parse(s: &str) -> Result<ModelKind, ForecastError> {
        ALL_MODELS.iter().copied().find(|m| m.name() == s).ok_or_else(|| ForecastError::UnknownModel(s.into()))
    }
}

/// Everything a model may read at one origin: the target series (unit-major,
/// `months` per unit), the features, and the per-origin fitted state.
pub struct OriginState<'a> {
    pub y: &'a [f64],
    pub months: usize,
    pub features: &'a Features,
    pub origin: usize,
    /// Hurdle fits per horizon (index h - 1), when the hurdle model runs.
    pub hurdle: Vec<HurdleFit>,
    /// Global bootstrap pool: number of unit-months and their non-zero values.
    pub pool_n: usize,
    pub pool_pos: Vec<f64>,
}

impl<'a> OriginState<'a> {
    /// Prepares the state at `origin`: the bootstrap pool over the training
    /// window, and (if `with_hurdle`) one hurdle fit per horizon `fit_origin`
    /// (the last refit point at or before `origin`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        y: &'a [f64],
        months: usize,
        n_units: usize,
        features: &'a Features,
        origin: usize,
        fit_origin: usize,
        horizons: usize,
        window: usize,
        with_hurdle: bool,
    ) -> OriginState<'a> {
        let lo = (origin + 1).saturating_sub(window);
        let mut pool_pos = Vec::new();
        for u in 0..n_units {
            pool_pos.extend(y[u * months + lo..=u * months + origin].iter().copied().filter(|&v| v > 0.0));
        }
        let hurdle = if with_hurdle {
            (1..=horizons).map(|h| hurdle::fit(features, y, n_units, fit_origin, h, window)).collect()
        } else {
            Vec::new()
        };
        OriginState { y, months, features, origin, hurdle, pool_n: n_units * (origin + 1 - lo), pool_pos }
    }

    /// `n` draws of model `m` for `unit`, `h` months after the origin.
    pub fn draw(&self, m: ModelKind, unit: usize, h: usize, n: usize, rng: &mut Rng) -> Draws {
        let series = &self.y[unit * self.months..(unit + 1) * self.months];
        match m {
            ModelKind::Zero => Draws::zero(n),
            ModelKind::Last => {
                let last = series[self.origin];
                if last <= 0.0 {
                    return Draws::zero(n);
                }
                let pos = (0..n).map(|_| rng.poisson(last) as f64).filter(|&v| v > 0.0).collect();
                Draws::from_positive(n, pos)
            }
            ModelKind::Conflictology => {
                let lo = (self.origin + 1).saturating_sub(CONFLICTOLOGY_MONTHS);
                let recent = &series[lo..=self.origin];
                let nonzero: Vec<f64> = recent.iter().copied().filter(|&v| v > 0.0).collect();
                resample(&nonzero, recent.len(), n, rng)
            }
            ModelKind::Bootstrap => resample(&self.pool_pos, self.pool_n, n, rng),
            ModelKind::Hurdle => self.hurdle[h - 1].draw(self.features.row(unit, self.origin), n, rng),
            ModelKind::Ensemble => {
                let counts = component_draws(n);
                let mut out = Draws::zero(0);
                for ((m, _), k) in STACK_WEIGHTS.iter().zip(counts) {
                    if k > 0 {
                        out = pool(&out, &self.draw(*m, unit, h, k, rng));
                    }
                }
                out
            }
        }
    }
}

/// n draws with replacement from a pool of `pool_n` values whose non-zero
/// members are `nonzero`: the number of non-zero draws is binomial, each then
/// picked uniformly, which is the same distribution as drawing from the pool.
fn resample(nonzero: &[f64], pool_n: usize, n: usize, rng: &mut Rng) -> Draws {
    if nonzero.is_empty() || pool_n == 0 {
        return Draws::zero(n);
    }
    let k = rng.binomial(n as u32, nonzero.len() as f64 / pool_n as f64) as usize;
    let pos = (0..k).map(|_| nonzero[rng.below(nonzero.len())]).collect();
    Draws::from_positive(n, pos)
}
