//! vitalcore-forecast: monthly violence forecasts per area, scored properly.
//!
//! - [`panel`]: the unit-month panel (admin1, admin2, PRIO-GRID cell, country)
//!   from events, zeros filled.
//! - [`models`]: baselines `zero`, `last`, `conflictology`, `bootstrap` and the
//!   learned [`hurdle`] model and its [`ensemble`] with a baseline; every model gives sample draws ([`metrics::Draws`]).
//! - [`metrics`]: CRPS, ignorance score, interval score, Brier, average
//!   precision, MSLE.
//! - [`backtest`]: the rolling-origin backtest; [`run`]: forecasts ahead;
//!   [`warnings`]: threshold and report-burst warnings;
//!   [`synthetic`]: a synthetic PRIO-GRID panel for benchmarks and tests.
//!
//! See README.md in this crate for the formulas.

pub mod backtest;
pub mod ensemble;
pub mod error;
pub mod features;
pub mod hurdle;
pub mod metrics;
pub mod models;
pub mod panel;
pub mod rng;
pub mod run;
pub mod score_engine;
pub mod synthetic;
pub mod warnings;

pub use backtest::{BacktestConfig, BacktestReport, HorizonScores, backtest};
pub use error::ForecastError;
pub use features::Features;
pub use metrics::Draws;
pub use models::{ALL_MODELS, ModelKind};
pub use panel::{Panel, PanelBuilder, PanelOptions, Target};
pub use run::{RunConfig, UnitForecast, forecast};
