//! `vitalcore history SOURCE ID`: every stored version of one source event,
//! oldest first, with the file and line each came from.

use crate::context::Global;
use anyhow::{Result, bail};
use vitalcore_framework::Source;

#[derive(clap::Args)]
pub struct Args {
    /// ucdp-ged or acled
    pub source: Source,
    /// The source's id (UCDP `id`, ACLED `event_id_cnty`)
    pub id: String,
    /// Print the versions as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let store = global.open_store()?;
    let versions = store.event_history(args.source, &args.id)?;
    if versions.is_empty() {
        bail!("no {} event with id `{}` is stored", args.source, args.id);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&versions)?);
        return Ok(());
    }
    for v in &versions {
        let e = &v.event;
        let line = format!(
            "version {} stored {}: {} {} {} fatalities, {} (from {} line {})",
            v.version,
            v.stored_at,
            e.date,
            e.event_type,
            e.fatalities,
            e.place.location.as_deref().unwrap_or("-"),
            e.provenance.file,
            e.provenance.line
        );
        println!("{}", crate::output::terminal_safe(&line));
    }
    Ok(())
}
