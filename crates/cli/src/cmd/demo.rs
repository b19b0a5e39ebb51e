//! `vitalcore demo`: imports the bundled real data (UCDP GED events in the
//! Central African Republic and OCHA prefecture boundaries) into a fresh
//! database, prints the areas most threatened, and serves the web page.

use crate::context::Global;
use anyhow::{Context as _, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_app::backend::Database;
use vitalcore_assess::{AssessOptions, Period, summaries};
use vitalcore_framework::{Month, UnitKind};
use vitalcore_spatial::AreaIndex;

const UCDP_CAF: &[u8] = include_bytes!("../../../../data/demo/ucdp-ged-23.1-caf.geojson");
const CAF_ADM1: &[u8] = include_bytes!("../../../../data/demo/caf-adm1-ocha.geojson");

#[derive(clap::Args)]
pub struct Args {
    /// The demo's own database, recreated at every run
    #[arg(long, default_value = "vitalcore-demo.db")]
    pub demo_db: PathBuf,
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:8080", env = "VITALCORE_ADDR")]
    pub addr: SocketAddr,
    /// Import and print, but do not start the server
    #[arg(long)]
    pub no_serve: bool,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = Arc::new(global.load_framework()?);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = args.demo_db.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let store = Database::Sqlite(args.demo_db.clone()).open_events()?;
    let areas = vitalcore_import::read_boundaries_from_bytes("caf-adm1-ocha.geojson", CAF_ADM1)?;
    store.save_areas(&areas)?;
    let index = AreaIndex::new(&areas).context("indexing the bundled boundaries")?;
    let parsed = vitalcore_import::read_events_from_bytes(
        "ucdp-ged-23.1-caf.geojson",
        UCDP_CAF,
        &framework,
        Some(&index),
        &|_| {},
    )?;
    let counts = store.import_events(&parsed.file, &parsed.events)?;
    println!(
        "Imported {} UCDP GED events (Central African Republic, 1989-2022) into {} prefectures: {} rows read, {} rejected.",
        counts.imported,
        areas.len(),
        parsed.rows_read,
        parsed.rejects.len()
    );
    let names = areas.iter().map(|a| (a.pcode.clone(), a.name.clone())).collect();
    print_top_areas(&parsed.events, &framework, names)?;
    println!(
        "Database: {} (try `vitalcore --db {} assess --unit admin1 --period year`)",
        args.demo_db.display(),
        args.demo_db.display()
    );
    drop(store);
    // Forecast the coming months from the demo data, so profiles show an
    // outlook and the early-warning queue has its first entries.
    let demo = Global { db: args.demo_db.clone(), database_url: None, ..global.clone() };
    println!("Forecasting the next three months for each prefecture (backtest of the last 12 origins)...");
    crate::cmd::warnings::run_with_defaults(&demo)?;
    if args.no_serve {
        return Ok(());
    }
    crate::cmd::serve::run(crate::cmd::serve::Args::defaults(args.addr), &demo)
}

fn print_top_areas(
    events: &[vitalcore_framework::Event],
    framework: &vitalcore_framework::Framework,
    names: std::collections::BTreeMap<String, String>,
) -> Result<()> {
    let (Some(from), Some(to)) =
        (events.iter().map(|e| Month::of(e.date)).min(), events.iter().map(|e| Month::of(e.date)).max())
    else {
        return Ok(());
    };
    // The last five years of data: what a mission would look at first.
    let from = from.max(to.plus(-59));
    let mut opts = AssessOptions::new(UnitKind::Admin1, from, to, Period::All);
    opts.area_names = names;
    let mut list = summaries(events, framework, &opts, 1);
    list.sort_by(|a, b| (b.critical + b.pervasive).total_cmp(&(a.critical + a.pervasive)));
    println!("\nMost threatened prefectures, {from} to {to} (scores 0-10):");
    println!(
        "  {:<22} {:>7} {:>7}  {:<14} {:>8} {:>9}",
        "prefecture", "events", "deaths", "top threat", "critical", "pervasive"
    );
    for s in list.iter().take(8) {
        let top = s.top_dimension.as_deref().map(|d| framework.label(d, "en")).unwrap_or("-");
        println!(
            "  {:<22} {:>7} {:>7}  {:<14} {:>8.1} {:>9.1}",
            s.name,
            s.events,
            s.fatalities,
            top.trim_end_matches(" security"),
            s.critical,
            s.pervasive
        );
    }
    println!();
    Ok(())
}
