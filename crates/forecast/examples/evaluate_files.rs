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
use std::collections::HashMap;
use vitalcore_forecast::{BacktestConfig, Features, ModelKind, Panel, PanelOptions, Target, backtest};
use vitalcore_framework::{Framework, Month, UnitKind};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opt: HashMap<String, Vec<String>> = HashMap::new();
    let mut i = 0;
    while i + 1 < args.len() {
        opt.entry(args[i].trim_start_matches("--").to_string()).or_default().push(args[i + 1].clone());
        i += 2;
    }
    let one = |k: &str| opt.get(k).and_then(|v| v.last().cloned());
    let month = |k: &str| one(k).map(|v| v.parse::<Month>().unwrap_or_else(|e| panic!("--{k}: {e}")));
    let framework = Framework::built_in();
    let areas = one("boundaries").map(|p| {
        let a = vitalcore_import::read_boundaries(p.as_ref()).expect("boundaries");
        vitalcore_spatial::AreaIndex::new(&a).expect("index")
    });
    let mut events = Vec::new();
    for p in opt.get("events").expect("--events FILE") {
        events.extend(
            vitalcore_import::read_events(p.as_ref(), &framework, areas.as_ref(), &|_| {}).expect("events").events,
        );
    }
    if let Some(c) = one("country") {
        let is = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&c));
        events.retain(|e| is(&e.place.country) || is(&e.place.iso3));
    }
    let unit: UnitKind = one("unit").unwrap_or("admin1".into()).parse().expect("--unit");
    let target: Target = one("target").unwrap_or("fatalities".into()).parse().expect("--target");
    let opts = PanelOptions { first: month("first"), last: month("last"), grid_neighbours: false, max_event_types: 4 };
    let (panel, _) = Panel::from_events(&events, unit, &opts).expect("panel");
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
