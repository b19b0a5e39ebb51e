//! `vitalcore status`: what the database holds.

use crate::context::Global;
use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, global: &Global) -> Result<()> {
    let store = global.open_store()?;
    let c = store.counts()?;
    println!("database: {}", global.location());
    println!("events: {} (and {} prior versions of revised events)", c.events, c.prior_versions);
    println!("table rows (HXL): {}", c.observations);
    println!("administrative areas: {}", c.areas);
    println!("files imported: {}", c.imports);
    for f in store.imports()?.iter().take(10) {
        println!("  {} ({}, {} rows, {} rejected)", f.path, f.format, f.rows_read, f.rows_rejected);
    }
    Ok(())
}
