//! Forecasts for the months after the last month of data.

use crate::backtest::model_id;
use crate::error::ForecastError;
use crate::features::Features;
use crate::models::{ModelKind, OriginState};
use crate::panel::{Panel, Target};
use crate::rng::{Rng, mix_seed};
use serde::Serialize;
use vitalcore_framework::Month;

/// The thresholds N of the P(y >= N) columns.
pub const THRESHOLDS: [u32; 3] = [1, 10, 25];

/// The forecast of one unit for one month ahead, summarised from the draws.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitForecast {
    pub unit: String,
    pub name: String,
    pub country: Option<String>,
    pub origin: Month,
    pub month: Month,
    pub horizon: usize,
    pub model: String,
    pub mean: f64,
    pub p_any: f64,
    /// P(y >= N) for N in [`THRESHOLDS`].
    pub p_ge_1: f64,
    pub p_ge_10: f64,
    pub p_ge_25: f64,
    pub q05: f64,
    pub q50: f64,
    pub q95: f64,
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub target: Target,
    pub horizons: Vec<usize>,
    pub samples: usize,
    pub seed: u64,
    pub train_window: usize,
    pub model: ModelKind,
}

/// Forecasts every unit for each horizon after the panel's last month.
pub fn forecast(panel: &Panel, features: &Features, cfg: &RunConfig) -> Result<Vec<UnitForecast>, ForecastError> {
    if let Some(&h) = cfg.horizons.iter().find(|&&h| h == 0) {
        return Err(ForecastError::BadHorizon(h));
    }
    let origin = panel.months - 1;
    let max_h = cfg.horizons.iter().copied().max().unwrap_or(1);
    let y = panel.target(cfg.target);
    let learned = matches!(cfg.model, ModelKind::Hurdle | ModelKind::Ensemble);
    let state =
        OriginState::new(y, panel.months, panel.n_units(), features, origin, origin, max_h, cfg.train_window, learned);
    let origin_month = panel.last();
    let mut out = Vec::with_capacity(panel.n_units() * cfg.horizons.len());
    for (u, unit) in panel.units.iter().enumerate() {
        for &h in &cfg.horizons {
            let mut rng =
                Rng::new(mix_seed(&[cfg.seed, model_id(cfg.model), origin_month.index() as u64, h as u64, u as u64]));
            let d = state.draw(cfg.model, u, h, cfg.samples, &mut rng);
            let v = d.view();
            out.push(UnitForecast {
                unit: unit.id.clone(),
                name: unit.name.clone(),
                country: unit.country.clone(),
                origin: origin_month,
                month: origin_month.plus(h as i32),
                horizon: h,
                model: cfg.model.name().into(),
                mean: v.mean(),
                p_any: v.p_any(),
                p_ge_1: v.p_at_least(THRESHOLDS[0] as f64),
                p_ge_10: v.p_at_least(THRESHOLDS[1] as f64),
                p_ge_25: v.p_at_least(THRESHOLDS[2] as f64),
                q05: v.quantile(0.05),
                q50: v.quantile(0.5),
                q95: v.quantile(0.95),
            });
        }
    }
    Ok(out)
}
