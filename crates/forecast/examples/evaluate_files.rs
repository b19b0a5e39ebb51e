//! The rolling-origin backtest from event files without the CLI (same library
//! code as `vitalcore forecast evaluate`), printing the bars per
//! horizon: the hurdle's CRPS over conflictology's, its Brier score against
//! last value's, and its bias ratio.
//!
//! cargo run --release -p vitalcore-forecast --features files --example evaluate_files -- \
//!   --events FILE [--boundaries FILE] [--country NAME] [--unit admin1] [--target fatalities] \
//!   [--first YYYY-MM] [--last YYYY-MM] --start YYYY-MM --end YYYY-MM [--json OUT]
//!
//! Environment: MODELS=zero,last,... to compare fewer models (faster);
//! COMPACT=1 (HURDLE=1, DIAG=1) for one line per data set.
mod common;

use vitalcore_forecast::{BacktestConfig, Features, ModelKind, backtest};

fn main() {
    let opt = common::Opts::from_args();
    let one = |k: &str| opt.one(k);
    let month = |k: &str| opt.month(k);
    let (events, panel, target) = common::panel_from_files(&opt);
    let features = Features::build(&panel, target);
    let cfg = BacktestConfig {
        target,
        start: month("start").expect("--start"),
        end: month("end").expect("--end"),
        horizons: vec![1, 2, 3],
        samples: one("samples").map(|s| s.parse().expect("--samples")).unwrap_or(1000),
        seed: 1,
        train_window: 120,
        refit_every: 1,
        threads: 2,
        models: match std::env::var("MODELS") {
            Ok(list) => list.split(',').map(|m| ModelKind::parse(m).expect("MODELS")).collect(),
            Err(_) => vitalcore_forecast::ALL_MODELS.to_vec(),
        },
    };
    let r = backtest(&panel, &features, &cfg, &|_, _| {}).expect("backtest");
    if let Some(out) = one("json") {
        std::fs::write(out, serde_json_like(&r)).expect("write");
    }
    if std::env::var_os("COMPACT").is_none() {
        println!(
            "{} units, {} events, {} origins {}..{}, best {}",
            r.units,
            events.len(),
            r.origins.len(),
            cfg.start,
            cfg.end,
            r.best
        );
    }
    let m = |k: ModelKind| &r.models[k.name()];
    let compact = std::env::var_os("COMPACT").is_some();
    for learned in [ModelKind::Hurdle, ModelKind::Ensemble] {
        if !r.models.contains_key(learned.name()) {
            continue;
        }
        if compact && (learned == ModelKind::Hurdle) != std::env::var_os("HURDLE").is_some() {
            continue;
        }
        for h in ["h1", "h2", "h3"] {
            let (hu, co, la, bo) =
                (&m(learned)[h], &m(ModelKind::Conflictology)[h], &m(ModelKind::Last)[h], &m(ModelKind::Bootstrap)[h]);
            let ratio = hu.crps / co.crps;
            let bias = hu.bias_ratio.unwrap_or(f64::NAN);
            let pass = ratio <= 0.95 && hu.brier < la.brier && (0.8..=1.25).contains(&bias);
            let verdict = if pass { "PASS" } else { "fail" };
            if compact {
                let size = |s: &vitalcore_forecast::HorizonScores| s.mean_pred / s.mean_p_any.max(1e-12);
                let diag = if std::env::var_os("DIAG").is_some() {
                    format!(
                        " p{:.3}/{:.3} s{:.1}/{:.1}",
                        hu.mean_p_any,
                        hu.share_any,
                        size(hu),
                        hu.mean_obs / hu.share_any.max(1e-12)
                    )
                } else {
                    String::new()
                };
                print!("{h} r{ratio:.3} b{bias:.2} B{:.3}/{:.3}{diag} {verdict} | ", hu.brier, la.brier);
                continue;
            }
            println!(
                "{:<8} {h} crps {:.4} confl {:.4} ratio {ratio:.3} | brier {:.4} last {:.4} | bias {bias:.3} (confl {:.2} boot {:.2}; boot crps {:.4}) {verdict}",
                learned.name(),
                hu.crps,
                co.crps,
                hu.brier,
                la.brier,
                co.bias_ratio.unwrap_or(f64::NAN),
                bo.bias_ratio.unwrap_or(f64::NAN),
                bo.crps,
            );
        }
    }
    if compact {
        println!("best {}", r.best);
    }
}

fn serde_json_like(r: &vitalcore_forecast::BacktestReport) -> String {
    format!("{:#?}", r.models)
}
