//! `vitalcore forecast`: monthly violence forecasts per area from event files,
//! their rolling-origin backtest against the baselines, and warnings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use vitalcore_forecast::panel::{Panel, PanelOptions, Target};
use vitalcore_forecast::synthetic::{SyntheticGrid, synthetic_grid};
use vitalcore_forecast::warnings::{BurstParams, Quantity, panel_burst_warnings, threshold_warnings};
use vitalcore_forecast::{BacktestConfig, BacktestReport, Features, ModelKind, RunConfig, backtest, forecast};
use vitalcore_framework::{Framework, Month, UnitKind};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Rolling-origin backtest of the baselines and the learned model
    Evaluate(EvaluateArgs),
    /// Forecasts for the months after the data, per unit, with warnings
    Run(RunArgs),
    /// Scores a dense sample matrix (benchmark of the scoring engine)
    #[command(hide = true)]
    ScoreBench(ScoreBenchArgs),
}

#[derive(clap::Args)]
struct Input {
    /// Event files: UCDP GED (CSV, GeoJSON) or ACLED exports
    #[arg(long, num_args = 1.., required_unless_present = "synthetic_grid")]
    events: Vec<PathBuf>,
    /// Admin boundaries (GeoJSON with P-codes) to place events by point-in-polygon
    #[arg(long)]
    boundaries: Option<PathBuf>,
    /// Spatial unit: admin1, admin2, grid (PRIO-GRID) or country
    #[arg(long, default_value = "admin1")]
    unit: UnitKind,
    /// What to forecast: fatalities or events
    #[arg(long, default_value = "fatalities")]
    target: Target,
    /// Grid only: add the 8 neighbours of every cell that had an event
    #[arg(long)]
    grid_neighbours: bool,
    /// Keep only events in these countries (name or ISO3, comma-separated, any case)
    #[arg(long, value_delimiter = ',')]
    country: Vec<String>,
    /// First month of the panel (default: month of the first event)
    #[arg(long)]
    first: Option<Month>,
    /// Last month of the panel (default: month of the last event)
    #[arg(long)]
    last: Option<Month>,
    /// Use a synthetic Africa-sized PRIO-GRID panel (ROWSxCOLSxMONTHS, e.g. 100x100x360) instead of files
    #[arg(long, hide = true)]
    synthetic_grid: Option<String>,
    /// Print nothing on standard error but errors
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(clap::Args)]
struct Common {
    /// Months ahead, comma-separated
    #[arg(long, default_value = "1,2,3", value_delimiter = ',')]
    horizons: Vec<usize>,
    /// Draws per unit-month
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Seed of every random draw
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Months of history the learned model and the bootstrap train on
    #[arg(long, default_value_t = 120)]
    train_window: usize,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
    /// First origin month (the last month of data a forecast may use)
    #[arg(long)]
    start: Month,
    /// Last origin month
    #[arg(long)]
    end: Month,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Models to compare, comma-separated (ensemble: the hurdle pooled with conflictology, bootstrap and last value)
    #[arg(long, default_value = "zero,last,conflictology,bootstrap,hurdle,ensemble", value_delimiter = ',')]
    models: Vec<String>,
    /// Refit the learned model every N origins (1 = at every origin)
    #[arg(long, default_value_t = 1)]
    refit_every: usize,
    /// Worker threads (default: all cores)
    #[arg(long)]
    threads: Option<usize>,
    /// Write the report here instead of standard output
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Json,
    Table,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
    /// Model to forecast with (ensemble: the hurdle pooled with three baselines; bench/forecast/RESULTS.md)
    #[arg(long, default_value = "ensemble")]
    model: String,
    /// Forecast file: .json for JSON, anything else for CSV
    #[arg(long)]
    out: PathBuf,
    /// Write warnings (JSON) here: forecasts over the threshold and report bursts
    #[arg(long)]
    warnings: Option<PathBuf>,
    /// Warn when P(any fatality) reaches this
    #[arg(long, default_value_t = 0.5)]
    warn_p_any: f64,
    /// Warn when P(>= 25 fatalities) reaches this
    #[arg(long, default_value_t = 0.2)]
    warn_p_25: f64,
}

#[derive(clap::Args)]
struct ScoreBenchArgs {
    /// Observations: little-endian f64, one per row
    #[arg(long)]
    obs: PathBuf,
    /// Draws: little-endian u16, rows x draws, row-major
    #[arg(long)]
    draws: PathBuf,
    /// Draws per row
    #[arg(long, default_value_t = 1000)]
    n: usize,
    #[arg(long)]
    threads: Option<usize>,
    /// Write crps, ignorance and interval scores (f64 LE, one block each) here
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    match args.command {
        Sub::Evaluate(mut a) => {
            a.input.quiet = global.quiet;
            evaluate(a)
        }
        Sub::Run(mut a) => {
            a.input.quiet = global.quiet;
            run_forecast(a)
        }
        Sub::ScoreBench(a) => score_bench(a),
    }
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

fn load_panel(input: &Input) -> anyhow::Result<Panel> {
    let started = Instant::now();
    if let Some(spec) = &input.synthetic_grid {
        let dims: Vec<usize> = spec
            .split('x')
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .context("--synthetic-grid is ROWSxCOLSxMONTHS, for example 100x100x360")?;
        let [rows, cols, months] = dims[..] else {
            bail!("--synthetic-grid is ROWSxCOLSxMONTHS, for example 100x100x360")
        };
        let panel = synthetic_grid(SyntheticGrid { rows, cols, months, ..SyntheticGrid::africa() });
        if !input.quiet {
            let nonzero = panel.fatalities.iter().filter(|&&v| v > 0.0).count();
            eprintln!(
                "synthetic grid: {} cells x {} months, {:.2}% cell-months with fatalities ({:.1} s)",
                panel.n_units(),
                panel.months,
                100.0 * nonzero as f64 / panel.fatalities.len() as f64,
                started.elapsed().as_secs_f64()
            );
        }
        return Ok(panel);
    }
    let framework = Framework::built_in();
    let areas = match &input.boundaries {
        Some(path) => {
            let areas = vitalcore_import::read_boundaries(path)
                .with_context(|| format!("reading boundaries {}", path.display()))?;
            Some(
                vitalcore_spatial::AreaIndex::new(&areas)
                    .with_context(|| format!("indexing boundaries {}", path.display()))?,
            )
        }
        None => None,
    };
    let mut events = Vec::new();
    for path in &input.events {
        let mut parsed = vitalcore_import::read_events(path, &framework, areas.as_ref(), &|_| {})
            .with_context(|| format!("reading {}", path.display()))?;
        let repeated = vitalcore_import::monadic::one_event_per_id(&mut parsed.events)?;
        if !input.quiet {
            let mut merged = String::new();
            if parsed.merged_rows > 0 {
                merged =
                    format!(", {} rows merged into the row before (one event, one row per actor)", parsed.merged_rows);
            }
            if repeated > 0 {
                merged.push_str(&format!(", {repeated} repeated rows left out"));
            }
            eprintln!(
                "{}: {} events, {} rows rejected{merged}",
                path.display(),
                parsed.events.len(),
                parsed.rejects.len()
            );
        }
        events.extend(parsed.events);
    }
    if !input.country.is_empty() {
        let wanted = |v: &Option<String>| {
            v.as_deref().is_some_and(|v| input.country.iter().any(|c| c.trim().eq_ignore_ascii_case(v)))
        };
        let before = events.len();
        events.retain(|e| wanted(&e.place.country) || wanted(&e.place.iso3));
        if events.is_empty() {
            bail!(
                "no event is in --country {}: {before} events read, none with that country name or ISO3 code",
                input.country.join(",")
            );
        }
        if !input.quiet {
            eprintln!("--country: kept {} of {before} events", events.len());
        }
    }
    let opts = PanelOptions {
        first: input.first,
        last: input.last,
        grid_neighbours: input.grid_neighbours,
        max_event_types: 4,
    };
    let (mut panel, skipped) = Panel::from_events(&events, input.unit, &opts)?;
    if let Some(index) = &areas {
        // units keyed by a P-code get the boundary file's name
        for unit in &mut panel.units {
            if let Some(area) = index.by_pcode(&unit.id).filter(|a| !a.name.is_empty()) {
                unit.name = area.name.clone();
            }
        }
    }
    if !input.quiet {
        eprintln!(
            "panel: {} {} units x {} months ({} to {}); {} events without a {} left out",
            panel.n_units(),
            input.unit,
            panel.months,
            panel.first,
            panel.last(),
            skipped,
            input.unit
        );
    }
    Ok(panel)
}

fn evaluate(a: EvaluateArgs) -> anyhow::Result<()> {
    let panel = load_panel(&a.input)?;
    let models = a.models.iter().map(|m| ModelKind::parse(m.trim())).collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let features = Features::build(&panel, a.input.target);
    let cfg = BacktestConfig {
        target: a.input.target,
        start: a.start,
        end: a.end,
        horizons: a.common.horizons.clone(),
        samples: a.common.samples,
        seed: a.common.seed,
        train_window: a.common.train_window,
        refit_every: a.refit_every,
        threads: threads(a.threads),
        models,
    };
    let quiet = a.input.quiet;
    let progress = move |done: usize, total: usize| {
        if !quiet && (done.is_multiple_of(12) || done == total) {
            eprintln!("backtest: {done}/{total} origins");
        }
    };
    let report = backtest(&panel, &features, &cfg, &progress)?;
    if !quiet {
        eprintln!(
            "backtest took {:.2} s (features and {} origins)",
            started.elapsed().as_secs_f64(),
            report.origins.len()
        );
    }
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => table(&report),
    };
    match &a.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn table(r: &BacktestReport) -> String {
    let mut s = format!(
        "{} {} units, target {}, {} origins {}..{}, {} draws\n{:<14} {:>3} {:>9} {:>7} {:>7} {:>7} {:>6} {:>6} {:>9}\n",
        r.units,
        r.unit,
        r.target,
        r.origins.len(),
        r.origins.first().map(|m| m.to_string()).unwrap_or_default(),
        r.origins.last().map(|m| m.to_string()).unwrap_or_default(),
        r.samples,
        "model",
        "h",
        "crps",
        "brier",
        "ap",
        "msle",
        "bias",
        "ign",
        "interval"
    );
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
    for (name, per_h) in &r.models {
        for (h, sc) in per_h {
            s += &format!(
                "{:<14} {:>3} {:>9.4} {:>7.4} {:>7} {:>7.4} {:>6} {:>6.3} {:>9.3}\n",
                name,
                &h[1..],
                sc.crps,
                sc.brier,
                opt(sc.ap),
                sc.msle,
                opt(sc.bias_ratio),
                sc.ign,
                sc.interval
            );
        }
    }
    s + &format!("best (lowest mean CRPS over horizons): {}\n", r.best)
}

fn run_forecast(a: RunArgs) -> anyhow::Result<()> {
    let panel = load_panel(&a.input)?;
    let features = Features::build(&panel, a.input.target);
    let cfg = RunConfig {
        target: a.input.target,
        horizons: a.common.horizons.clone(),
        samples: a.common.samples,
        seed: a.common.seed,
        train_window: a.common.train_window,
        model: ModelKind::parse(&a.model)?,
    };
    let rows = forecast(&panel, &features, &cfg)?;
    write_forecasts(&a.out, &rows)?;
    if !a.input.quiet {
        eprintln!(
            "{} forecasts ({} units x {} horizons) written to {}",
            rows.len(),
            panel.n_units(),
            cfg.horizons.len(),
            a.out.display()
        );
    }
    if let Some(path) = &a.warnings {
        let mut warnings = threshold_warnings(&rows, Quantity::PAny, a.warn_p_any);
        warnings.extend(threshold_warnings(&rows, Quantity::PAtLeast(25), a.warn_p_25));
        warnings.extend(panel_burst_warnings(&panel, BurstParams::default()));
        std::fs::write(path, serde_json::to_string_pretty(&warnings)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        if !a.input.quiet {
            eprintln!("{} warnings written to {}", warnings.len(), path.display());
        }
    }
    Ok(())
}

fn write_forecasts(path: &Path, rows: &[vitalcore_forecast::UnitForecast]) -> anyhow::Result<()> {
    let text = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        serde_json::to_string_pretty(rows)? + "\n"
    } else {
        let mut s = String::from(
            "unit,name,country,origin,month,horizon,model,mean,p_any,p_ge_1,p_ge_10,p_ge_25,q05,q50,q95\n",
        );
        let quote = |v: &str| {
            if v.contains([',', '"', '\n']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
        };
        for r in rows {
            s += &format!(
                "{},{},{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.2},{:.2},{:.2}\n",
                quote(&r.unit),
                quote(&r.name),
                quote(r.country.as_deref().unwrap_or("")),
                r.origin,
                r.month,
                r.horizon,
                r.model,
                r.mean,
                r.p_any,
                r.p_ge_1,
                r.p_ge_10,
                r.p_ge_25,
                r.q05,
                r.q50,
                r.q95
            );
        }
        s
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn score_bench(a: ScoreBenchArgs) -> anyhow::Result<()> {
    let line =
        vitalcore_forecast::score_engine::bench_files(&a.obs, &a.draws, a.n, threads(a.threads), a.out.as_deref())?;
    println!("{line}");
    Ok(())
}
