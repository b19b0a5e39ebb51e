//! Backtest on the synthetic Africa-sized grid without the CLI:
//! `cargo run --release -p vitalcore-forecast --example synthetic_backtest -- [ROWS COLS MONTHS REFIT_EVERY SAMPLES]`
use std::time::Instant;
use vitalcore_forecast::synthetic::{SyntheticGrid, synthetic_grid};
use vitalcore_forecast::{ALL_MODELS, BacktestConfig, Features, ModelKind, Target, backtest};
use vitalcore_framework::Month;

fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().expect("numbers")).collect();
    let get = |i: usize, d: usize| a.get(i).copied().unwrap_or(d);
    let g = SyntheticGrid { rows: get(0, 100), cols: get(1, 100), months: get(2, 360), ..SyntheticGrid::africa() };
    let t = Instant::now();
    let panel = synthetic_grid(g);
    let nz = panel.fatalities.iter().filter(|&&v| v > 0.0).count() as f64 / panel.fatalities.len() as f64;
    eprintln!("panel {:.2}s, {:.2}% non-zero", t.elapsed().as_secs_f64(), nz * 100.0);
    let t = Instant::now();
    let features = Features::build(&panel, Target::Fatalities);
    eprintln!(
        "features {:.2}s, active {:.1}%",
        t.elapsed().as_secs_f64(),
        100.0 * features.active.iter().filter(|&&x| x).count() as f64 / features.active.len() as f64
    );
    let end = panel.last().plus(-3);
    let cfg = BacktestConfig {
        target: Target::Fatalities,
        start: end.plus(-59),
        end,
        horizons: vec![1, 2, 3],
        samples: get(4, 1000),
        seed: 1,
        train_window: 120,
        refit_every: get(3, 12),
        threads: 2,
        // the CLI's default list (every model); MODELS=a,b,... for fewer
        models: match std::env::var("MODELS") {
            Ok(list) => list.split(',').map(|m| ModelKind::parse(m).expect("MODELS")).collect(),
            Err(_) => ALL_MODELS.to_vec(),
        },
    };
    let _ = Month::new(2000, 1);
    let t = Instant::now();
    let r = backtest(&panel, &features, &cfg, &|_, _| {}).unwrap();
    eprintln!("backtest {:.2}s", t.elapsed().as_secs_f64());
    for (m, s) in &r.models {
        for (h, v) in s {
            println!("{m:14} {h} crps {:.4} brier {:.4} ap {:?} bias {:?}", v.crps, v.brier, v.ap, v.bias_ratio);
        }
    }
}
