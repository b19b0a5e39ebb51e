//! Rolling-origin backtest (Tashman 2000): for each origin month o in
//! [start, end], every model sees data up to o only, draws forecasts for
//! o + h, and is scored against what happened.

use crate::error::ForecastError;
use crate::features::Features;
use crate::hurdle::{self, HurdleFit};
use crate::metrics::{average_precision, brier, squared_log_error};
use crate::models::{ALL_MODELS, ModelKind, OriginState};
use crate::panel::{Panel, Target};
use crate::rng::{Rng, mix_seed};
use crate::score_engine::RunBuilder;
use serde::Serialize;
use std::collections::BTreeMap;
use vitalcore_framework::Month;

/// Fewest months of history before the first origin.
pub const MIN_HISTORY: usize = 13;
/// Level of the central interval scored by the interval score (the VIEWS
/// competition default).
pub const INTERVAL_LEVEL: f64 = 0.95;

#[derive(Debug, Clone)]
pub struct BacktestConfig {
    pub target: Target,
    pub start: Month,
    pub end: Month,
    pub horizons: Vec<usize>,
    pub samples: usize,
    pub seed: u64,
    /// Months of training rows for the learned model and the bootstrap pool.
    pub train_window: usize,
    /// Refit the learned model every this many origins (1 = every origin).
    pub refit_every: usize,
    pub threads: usize,
    pub models: Vec<ModelKind>,
}

/// Scores of one model at one horizon, averaged over units and origins.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HorizonScores {
    pub crps: f64,
    pub brier: f64,
    /// Average precision for "any fatality"; null when nothing happened.
    pub ap: Option<f64>,
    /// Mean squared log error of the sample mean.
    pub msle: f64,
    /// Mean predicted (sample mean) over mean observed; null if nothing observed.
    pub bias_ratio: Option<f64>,
    /// Ignorance score on the VIEWS bins, bits.
    pub ign: f64,
    /// Interval score of the central 95% interval.
    pub interval: f64,
    pub mean_pred: f64,
    pub mean_obs: f64,
    /// Mean forecast P(any) and the share of unit-months with any
    /// (calibration in the large of the occurrence part).
    pub mean_p_any: f64,
    pub share_any: f64,
    /// Unit-months scored.
    pub n: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BacktestReport {
    pub unit: String,
    pub target: String,
    pub units: usize,
    pub origins: Vec<Month>,
    pub samples: usize,
    pub seed: u64,
    pub models: BTreeMap<String, BTreeMap<String, HorizonScores>>,
    /// Lowest CRPS averaged over horizons.
    pub best: String,
}

#[derive(Default, Clone)]
struct Acc {
    crps: f64,
    brier: f64,
    msle: f64,
    ign: f64,
    interval: f64,
    pred: f64,
    obs: f64,
    p_any: f64,
    any: f64,
    n: usize,
    ranked: Vec<(f64, bool)>,
}

impl Acc {
    fn merge(&mut self, o: Acc) {
        self.crps += o.crps;
        self.brier += o.brier;
        self.msle += o.msle;
        self.ign += o.ign;
        self.interval += o.interval;
        self.pred += o.pred;
        self.obs += o.obs;
        self.p_any += o.p_any;
        self.any += o.any;
        self.n += o.n;
        self.ranked.extend(o.ranked);
    }

    fn finish(mut self) -> HorizonScores {
        let n = self.n.max(1) as f64;
        HorizonScores {
            crps: self.crps / n,
            brier: self.brier / n,
            ap: average_precision(&mut self.ranked),
            msle: self.msle / n,
            bias_ratio: (self.obs > 0.0).then(|| self.pred / self.obs),
            ign: self.ign / n,
            interval: self.interval / n,
            mean_pred: self.pred / n,
            mean_obs: self.obs / n,
            mean_p_any: self.p_any / n,
            share_any: self.any / n,
            n: self.n,
        }
    }
}

/// Origin indices in the panel, checked against the data.
fn origin_range(panel: &Panel, cfg: &BacktestConfig) -> Result<std::ops::RangeInclusive<usize>, ForecastError> {
    let outside = || ForecastError::OriginsOutsideData {
        start: cfg.start.to_string(),
        end: cfg.end.to_string(),
        first: panel.first.to_string(),
        last: panel.last().to_string(),
    };
    let start = panel.month_index(cfg.start).ok_or_else(outside)?;
    let end = panel.month_index(cfg.end).ok_or_else(outside)?;
    if end < start {
        return Err(outside());
    }
    if start < MIN_HISTORY {
        return Err(ForecastError::TooLittleHistory {
            origin: cfg.start.to_string(),
            needed: MIN_HISTORY,
            first: panel.first.to_string(),
        });
    }
    if let Some(&h) = cfg.horizons.iter().find(|&&h| h == 0) {
        return Err(ForecastError::BadHorizon(h));
    }
    Ok(start..=end)
}

/// Runs the backtest. `progress` is called with (origins done, origins).
pub fn backtest(
    panel: &Panel,
    features: &Features,
    cfg: &BacktestConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<BacktestReport, ForecastError> {
    let range = origin_range(panel, cfg)?;
    let origins: Vec<usize> = range.clone().collect();
    let max_h = cfg.horizons.iter().copied().max().unwrap_or(1);
    let threads = cfg.threads.max(1).min(origins.len());
    let chunk = origins.len().div_ceil(threads);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let first_origin = *range.start();
    let n_origins = origins.len();
    // per-origin sums, merged in origin order so the thread count cannot
    // change the floating-point result
    let parts: Vec<Vec<(usize, Vec<Vec<Acc>>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = origins
            .chunks(chunk)
            .map(|os| {
                let done = &done;
                s.spawn(move || {
                    let every = cfg.refit_every.max(1);
                    let mut per_origin = Vec::with_capacity(os.len());
                    let mut fits: Option<(usize, Vec<HurdleFit>)> = None;
                    let learned = cfg.models.contains(&ModelKind::Hurdle) || cfg.models.contains(&ModelKind::Ensemble);
                    for &o in os {
                        let fit_origin = first_origin + (o - first_origin) / every * every;
                        if learned && fits.as_ref().map(|f| f.0) != Some(fit_origin) {
                            let y = panel.target(cfg.target);
                            let f = (1..=max_h)
                                .map(|h| hurdle::fit(features, y, panel.n_units(), fit_origin, h, cfg.train_window))
                                .collect();
                            fits = Some((fit_origin, f));
                        }
                        let mut acc = vec![vec![Acc::default(); cfg.horizons.len()]; cfg.models.len()];
                        let f = fits.as_ref().map(|f| f.1.clone()).unwrap_or_default();
                        score_origin(panel, features, cfg, o, f, &mut acc);
                        per_origin.push((o, acc));
                        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        progress(d, n_origins);
                    }
                    per_origin
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("backtest worker panicked")).collect()
    });
    let mut total = vec![vec![Acc::default(); cfg.horizons.len()]; cfg.models.len()];
    let mut all: Vec<(usize, Vec<Vec<Acc>>)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|p| p.0);
    for (_, part) in all {
        for (m, per_h) in part.into_iter().enumerate() {
            for (k, a) in per_h.into_iter().enumerate() {
                total[m][k].merge(a);
            }
        }
    }
    let mut models = BTreeMap::new();
    for (m, per_h) in total.into_iter().enumerate() {
        let scores: BTreeMap<String, HorizonScores> =
            per_h.into_iter().enumerate().map(|(k, a)| (format!("h{}", cfg.horizons[k]), a.finish())).collect();
        models.insert(cfg.models[m].name().to_string(), scores);
    }
    let best = models
        .iter()
        .map(|(name, s)| (name.clone(), s.values().map(|v| v.crps).sum::<f64>() / s.len().max(1) as f64))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| n)
        .unwrap_or_default();
    Ok(BacktestReport {
        unit: panel.kind.to_string(),
        target: match cfg.target {
            Target::Fatalities => "fatalities".into(),
            Target::Events => "events".into(),
        },
        units: panel.n_units(),
        origins: origins.iter().map(|&o| panel.first.plus(o as i32)).collect(),
        samples: cfg.samples,
        seed: cfg.seed,
        models,
        best,
    })
}

#[allow(clippy::too_many_arguments)]
fn score_origin(
    panel: &Panel,
    features: &Features,
    cfg: &BacktestConfig,
    o: usize,
    fits: Vec<HurdleFit>,
    acc: &mut [Vec<Acc>],
) {
    let y = panel.target(cfg.target);
    let t_len = panel.months;
    let mut state = OriginState::new(y, t_len, panel.n_units(), features, o, o, 0, cfg.train_window, false);
    state.hurdle = fits;
    let origin_month = panel.first.plus(o as i32).index() as u64;
    let mut runs = RunBuilder::default();
    for (mi, &m) in cfg.models.iter().enumerate() {
        for (k, &h) in cfg.horizons.iter().enumerate() {
            if o + h >= t_len {
                continue;
            }
            let a = &mut acc[mi][k];
            for u in 0..panel.n_units() {
                let obs = y[u * t_len + o + h];
                let mut rng = Rng::new(mix_seed(&[cfg.seed, model_id(m), origin_month, h as u64, u as u64]));
                let d = state.draw(m, u, h, cfg.samples, &mut rng);
                let v = runs.build_sparse(d.n, &d.pos);
                let (mean, p_any) = (v.mean(), v.p_any());
                a.crps += v.crps(obs);
                a.ign += v.ignorance(obs);
                a.interval += v.interval_score(obs, INTERVAL_LEVEL);
                a.brier += brier(p_any, obs > 0.0);
                a.msle += squared_log_error(mean, obs);
                a.pred += mean;
                a.obs += obs;
                a.p_any += p_any;
                a.any += (obs > 0.0) as u8 as f64;
                a.n += 1;
                a.ranked.push((p_any, obs > 0.0));
            }
        }
    }
}

/// A model's fixed number in random streams, whatever models a run compares.
pub(crate) fn model_id(m: ModelKind) -> u64 {
    ALL_MODELS.iter().position(|&x| x == m).unwrap_or(0) as u64
}
