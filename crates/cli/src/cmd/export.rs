//! `vitalcore export`: the assessment as CSV, HXL-tagged CSV, or a GeoJSON
//! map layer of areas with their scores. Exports carry aggregates only: no
//! event notes, no reporter details.

use crate::cmd::assess::RangeArgs;
use crate::context::Global;
use crate::output::{Format, write_output};
use anyhow::{Result, bail};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vitalcore_app::analysis::load_table;
use vitalcore_app::audit::CLI_ACTOR;
use vitalcore_app::disclosure::publish_summaries;
use vitalcore_assess::{AssessOptions, Period};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub range: RangeArgs,
    /// csv, hxl (CSV with hashtags) or geojson (areas with scores per dimension)
    #[arg(long, default_value = "csv")]
    pub format: Format,
    /// month, quarter, year or all (csv and hxl)
    #[arg(long, default_value = "month")]
    pub period: Period,
    /// Write to this file instead of standard output
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Community-report counts from 1 to N-1 are published as "<N" (they
    /// could identify who reported), others rounded to 5, over calendar
    /// months, quarters and years only ("np" otherwise); 0 publishes exact counts.
    #[arg(long, default_value_t = 5)]
    pub suppress_below: u64,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let file = args.out.as_ref().map_or("standard output".to_string(), |p| p.display().to_string());
    let month = |m: Option<vitalcore_framework::Month>, none: &str| m.map_or(none.to_string(), |m| m.to_string());
    let detail = format!(
        "{} assessment by {}, {} to {}, report counts below {} suppressed",
        format_name(args.format),
        args.range.unit,
        month(args.range.from, "first month"),
        month(args.range.to, "last month"),
        args.suppress_below
    );
    write(args, global)?;
    // Aggregates only, but what leaves the system is on record.
    let reports = global.open_reports()?;
    vitalcore_app::audit::record_export(&*reports, CLI_ACTOR, &file, &detail, jiff::Timestamp::now())?;
    Ok(())
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Hxl => "hxl",
        Format::Geojson => "geojson",
        Format::Json => "json",
        Format::Table => "table",
    }
}

fn write(args: Args, global: &Global) -> Result<()> {
    match args.format {
        Format::Csv | Format::Hxl => {
            let assess_args = crate::cmd::assess::Args {
                range: args.range,
                period: args.period,
                format: args.format,
                high_only: false,
                out: args.out,
                suppress_below: args.suppress_below,
            };
            crate::cmd::assess::run(assess_args, global)
        }
        Format::Geojson => {
            let text = serde_json::to_string(&geojson(&args.range, global)?)? + "\n";
            write_output(args.out.as_deref(), &text)
        }
        Format::Json | Format::Table => {
            bail!("export writes csv, hxl or geojson; for JSON use `vitalcore assess --format json`")
        }
    }
}

/// Areas with stored boundaries, each with per-dimension scores over the
/// whole range as flat properties (`personal_critical`, ...) that GIS tools read.
fn geojson(range: &RangeArgs, global: &Global) -> Result<Value> {
    let framework = global.load_framework()?;
    let (store, reports) = global.open_stores()?;
    let (events, opts) = load_table(&*store, Some(&*reports), &range.range(), Period::All)?;
    let whole = AssessOptions { period: Period::All, ..opts.clone() };
    let assessment = events.assess(&framework, &whole);
    let level = match opts.unit {
        vitalcore_framework::UnitKind::Admin2 => 2,
        vitalcore_framework::UnitKind::Country => 0,
        _ => 1,
    };
    let totals: BTreeMap<String, _> = publish_summaries(events.summaries(&framework, &opts, level))
        .into_iter()
        .map(|s| (s.unit_id.clone(), s))
        .collect();
    let mut features = Vec::new();
    for area in store.areas()?.into_iter().filter(|a| a.level == level) {
        let Some(geometry) = area.geometry.as_deref().and_then(|g| serde_json::from_str::<Value>(g).ok()) else {
            continue;
        };
        let mut props = serde_json::Map::new();
        props.insert("pcode".into(), json!(area.pcode));
        props.insert("name".into(), json!(area.name));
        props.insert("from".into(), json!(opts.from.to_string()));
        props.insert("to".into(), json!(opts.to.to_string()));
        let t = totals.get(&area.pcode);
        props.insert("events".into(), json!(t.map_or(0, |t| t.events)));
        props.insert("fatalities".into(), json!(t.map_or(0, |t| t.fatalities)));
        for id in framework.dimension_ids().chain(framework.theme_ids()) {
            let row = assessment.rows.iter().find(|r| r.unit_id == area.pcode && r.category == id);
            props.insert(format!("{id}_critical"), json!(row.map_or(0.0, |r| r.critical)));
            props.insert(format!("{id}_pervasive"), json!(row.map_or(0.0, |r| r.pervasive)));
        }
        features.push(json!({ "type": "Feature", "properties": props, "geometry": geometry }));
    }
    if features.is_empty() {
        bail!("no boundaries are loaded for {}: import a boundaries GeoJSON with P-codes first", opts.unit);
    }
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}
