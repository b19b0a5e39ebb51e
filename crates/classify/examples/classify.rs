//! The `vitalcore classify` command built from this crate alone, so the
//! classifier can be trained, evaluated and benchmarked while other crates of
//! the workspace are being changed. Same source as the real subcommand:
//! `cargo run --release -p vitalcore-classify --example classify -- train ...`

#[path = "../../cli/src/cmd/classify.rs"]
mod classify;

use clap::Parser;

#[derive(Parser)]
#[command(name = "vitalcore classify")]
struct Cli {
    #[command(flatten)]
    args: classify::Args,
}

fn main() -> anyhow::Result<()> {
    classify::run(Cli::parse().args)
}
