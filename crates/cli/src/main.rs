//! `vitalcore`: the command-line entry point. Each subcommand lives in
//! `cmd/<name>.rs`; this file only parses arguments and dispatches.

mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vitalcore", version, about = "Human-security early warning and response for peace operations")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train and evaluate the text classifier that reads reports into dimensions
    Classify(cmd::classify::Args),
    /// Monthly violence forecasts per area, and their backtest
    Forecast(cmd::forecast::Args),
    /// Composite risk indices (INFORM and local)
    Index(cmd::index::Args),
    /// Which threats move together or precede one another
    Network(cmd::network::Args),
    /// Count events and sum fatalities straight from a large event file, no database
    Aggregate(cmd::aggregate::Args),
    /// Write synthetic ACLED-shaped event files for benchmarks and tests
    #[command(hide = true)]
    Generate(cmd::generate::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Classify(args) => cmd::classify::run(args),
        Command::Forecast(args) => cmd::forecast::run(args),
        Command::Index(args) => cmd::index::run(args),
        Command::Network(args) => cmd::network::run(args),
        Command::Aggregate(args) => cmd::aggregate::run(args),
        Command::Generate(args) => cmd::generate::run(args),
    }
}
