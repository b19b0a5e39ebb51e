//! `vitalcore network`: which threat dimensions co-occur and which precede which.

use std::path::PathBuf;

use anyhow::Context;
use vitalcore_network::{DimensionPanel, NetworkConfig, threat_network, to_dot};

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Dot,
}

#[derive(clap::Args)]
pub struct Args {
    /// Panel of counts: CSV with columns unit,month,dimension,count (months YYYY-MM)
    #[arg(long)]
    panel: PathBuf,
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
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.fdr > 0.0 && args.fdr <= 1.0) {
        anyhow::bail!("--fdr must be in (0, 1], got {}", args.fdr);
    }
    let file = std::fs::File::open(&args.panel).with_context(|| format!("cannot open {}", args.panel.display()))?;
    let panel = DimensionPanel::from_csv(file, &args.panel.display().to_string())?;
    if !args.quiet {
        eprintln!(
            "panel: {} units x {} months x {} dimensions; {} permutations per test",
            panel.units.len(),
            panel.months.len(),
            panel.dimensions.len(),
            args.permutations
        );
    }
    let config = NetworkConfig { max_lag: args.max_lag, permutations: args.permutations, fdr: args.fdr, seed: args.seed, per_unit: args.per_unit };
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
        eprintln!("pooled: {} of {} tested edges kept at FDR {}", report.pooled.edges.len(), report.pooled.tested, args.fdr);
    }
    Ok(())
}
