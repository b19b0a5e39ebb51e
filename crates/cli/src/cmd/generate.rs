//! `vitalcore generate acled`: synthetic ACLED-shaped files for benchmarks and tests.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use vitalcore_scan::generate::{AcledConfig, DateFormat, Shape, write_acled};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// An ACLED export (current 31-column schema) with invented names, deterministic per seed
    Acled(AcledArgs),
}

#[derive(clap::Args)]
struct AcledArgs {
    /// Number of event rows
    #[arg(long, default_value_t = 1000)]
    rows: u64,
    /// Seed: the same seed and row count always give the same file
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (`-` for standard output)
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// How event_date is written: iso (2020-12-09), dmy (09/12/2020), dmy-short (09/12/20), long (09 December 2020)
    #[arg(long, value_enum, default_value_t = DateArg::Iso)]
    date_format: DateArg,
    /// Shape of the names: standard (60 countries, 4-30 admin-1 areas each) or distinct-admin1
    /// (very high cardinality: about one admin-1 name per row, see --admin1-names)
    #[arg(long, value_enum, default_value_t = ShapeArg::Standard)]
    shape: ShapeArg,
    /// With --shape distinct-admin1: how many distinct country/admin-1 pairs (default: one per row)
    #[arg(long)]
    admin1_names: Option<u64>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ShapeArg {
    Standard,
    DistinctAdmin1,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DateArg {
    Iso,
    Dmy,
    DmyShort,
    Long,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let What::Acled(a) = args.what;
    let date_format = match a.date_format {
        DateArg::Iso => DateFormat::Iso,
        DateArg::Dmy => DateFormat::Dmy,
        DateArg::DmyShort => DateFormat::DmyShort,
        DateArg::Long => DateFormat::Long,
    };
    let shape = match a.shape {
        ShapeArg::Standard => Shape::Standard,
        ShapeArg::DistinctAdmin1 => Shape::DistinctAdmin1 { names: a.admin1_names.unwrap_or(a.rows).max(1) },
    };
    let config = AcledConfig { rows: a.rows, seed: a.seed, date_format, shape };
    if a.out.as_os_str() == "-" {
        return write_acled(&config, std::io::stdout().lock()).context("writing to standard output");
    }
    let file = File::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    write_acled(&config, file).with_context(|| format!("writing {}", a.out.display()))
}
