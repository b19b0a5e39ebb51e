//! `vitalcore network`: which threat dimensions co-occur and which precede which.

use std::path::PathBuf;

use crate::cmd::assess::RangeArgs;
use crate::context::Global;
use vitalcore_app::analysis::load_table;
use vitalcore_assess::Period;

use anyhow::Context;
use vitalcore_threat_links::{DimensionPanel, NetworkConfig, threat_network, to_dot};

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Dot,
}

#[derive(clap::Args)]
pub struct Args {
    /// Panel of counts: CSV with columns unit,month,dimension,count (months YYYY-MM).
    /// Without it, the panel is built from the events in the database.
    #[arg(long)]
    panel: Option<PathBuf>,
    #[command(flatten)]
    range: RangeArgs,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// False-discovery rate (Benjamini-Hochberg) for keeping an edge
    #[arg(long, default_value_t = 0.1)]
    fdr: f64,
    /// Largest lag in months (lags 0..=max-lag are tested)
    #[arg(long, default_value_t = 3)]
    max_lag: usize,
    /// Permutations per test
    #[arg(long, default_value_t = 999)]
    permutations: usize,
    /// Seed of the permutations (same seed, same result)
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also compute one network per unit (JSON: `per_unit`; DOT: one graph per unit after the pooled one)
    #[arg(long)]
    per_unit: bool,
    /// No progress messages on stderr
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

pub fn run(mut args: Args, global: &Global) -> anyhow::Result<()> {
    args.quiet = global.quiet;
    if !(args.fdr > 0.0 && args.fdr <= 1.0) {
        anyhow::bail!("--fdr must be in (0, 1], got {}", args.fdr);
    }
    let panel = match &args.panel {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            DimensionPanel::from_csv(file, &path.display().to_string())?
        }
        None => panel_from_store(&args.range, global)?,
    };
    if !args.quiet {
        eprintln!(
            "panel: {} units x {} months x {} dimensions; {} permutations per test",
            panel.units.len(),
            panel.months.len(),
            panel.dimensions.len(),
            args.permutations
        );
    }
    let config = NetworkConfig {
        max_lag: args.max_lag,
        permutations: args.permutations,
        fdr: args.fdr,
        seed: args.seed,
        per_unit: args.per_unit,
    };
    let report = threat_network(&panel, &config);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Dot => {
            print!("{}", to_dot(&report.pooled, &report.dimensions));
            for n in &report.per_unit {
                print!("{}", to_dot(n, &report.dimensions));
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "pooled: {} of {} tested edges kept at FDR {}",
            report.pooled.edges.len(),
            report.pooled.tested,
            args.fdr
        );
    }
    Ok(())
}

/// Events per unit, month and dimension from the database, zeros filled:
/// every unit with an event in range, every month from --from to --to.
fn panel_from_store(range: &RangeArgs, global: &Global) -> anyhow::Result<DimensionPanel> {
    let framework = global.load_framework()?;
    let (store, reports) = global.open_stores()?;
    let (events, opts) = load_table(&*store, Some(&*reports), &range.range(), Period::Month)?;
    events.dimension_panel(&framework, &opts, None).ok_or_else(|| {
        anyhow::anyhow!("no events with a {} between {} and {}: nothing to relate", opts.unit, opts.from, opts.to)
    })
}
