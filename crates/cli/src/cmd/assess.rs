//! `vitalcore assess`: per unit and period, each dimension's and theme's
//! events, fatalities and critical/pervasive scores.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Result, bail};
use std::path::PathBuf;
use vitalcore_assess::{AssessOptions, Period, assess};
use vitalcore_framework::{Event, Month, UnitKind};
use vitalcore_store::{EventFilter, Store};

#[derive(clap::Args, Clone)]
pub struct RangeArgs {
    /// country, admin1, admin2 or grid (PRIO-GRID 0.5 degree cells)
    #[arg(long, default_value = "admin1")]
    pub unit: UnitKind,
    /// First month, YYYY-MM (default: the first month with data)
    #[arg(long)]
    pub from: Option<Month>,
    /// Last month, YYYY-MM (default: the last month with data)
    #[arg(long)]
    pub to: Option<Month>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub range: RangeArgs,
    /// month, quarter, year, or all (the whole range as one period)
    #[arg(long, default_value = "month")]
    pub period: Period,
    #[arg(long, default_value = "table")]
    pub format: Format,
    /// Only rows in the high band or above, or marked priority
    #[arg(long)]
    pub high_only: bool,
    /// Write to this file instead of standard output
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Show community-report counts from 1 to N-1 as "<N" (0 = exact counts).
    /// Exports for publication use 5 by default.
    #[arg(long, default_value_t = 0)]
    pub suppress_below: u64,
}

/// A community-report count as published: counts from 1 to `k - 1` could
/// identify the people who reported, so they read "<k" (k = 0: exact).
pub fn published_count(n: u64, k: u64) -> Option<u64> {
    (k == 0 || n == 0 || n >= k).then_some(n)
}

/// Events in range and the resolved options.
pub fn load(store: &dyn Store, range: &RangeArgs, period: Period) -> Result<(Vec<Event>, AssessOptions)> {
    let filter = EventFilter { from: range.from, to: range.to, ..EventFilter::default() };
    let mut events = vitalcore_store::events(store, &filter)?;
    // Community reports stored beside the database join as `CommunityReport`
    // events: counted in their own `reports` column, never in event scores.
    let in_range = |e: &Event| {
        range.from.is_none_or(|f| Month::of(e.date) >= f) && range.to.is_none_or(|t| Month::of(e.date) <= t)
    };
    events.extend(crate::context::community_events(&store.areas()?)?.into_iter().filter(in_range));
    let first = events.iter().map(|e| Month::of(e.date)).min();
    let last = events.iter().map(|e| Month::of(e.date)).max();
    let (Some(from), Some(to)) = (range.from.or(first), range.to.or(last)) else {
        bail!("there are no events in the database for this period: import some with `vitalcore import FILE`");
    };
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let mut opts = AssessOptions::new(range.unit, from, to, period);
    opts.area_names = store.areas()?.into_iter().map(|a| (a.pcode, a.name)).collect();
    Ok((events, opts))
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = global.load_framework()?;
    let store = global.open_store()?;
    let (events, opts) = load(&*store, &args.range, args.period)?;
    let mut result = assess(&events, &framework, &opts);
    if args.high_only {
        result.rows.retain(|r| r.priority || r.critical.max(r.pervasive) >= 5.0);
    }
    if result.unplaced_events > 0 {
        global.note(format!(
            "{} events have no {} and are left out (load boundaries with `vitalcore import BOUNDARIES.geojson` and re-import, or use --unit grid)",
            result.unplaced_events, opts.unit
        ));
    }
    let text = match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(&result)?;
            if let Some(rows) = value["rows"].as_array_mut() {
                for (row, r) in rows.iter_mut().zip(&result.rows) {
                    if published_count(r.reports, args.suppress_below).is_none() {
                        row["reports"] = serde_json::Value::Null;
                        row["reports_suppressed"] = serde_json::Value::Bool(true);
                    }
                }
            }
            serde_json::to_string_pretty(&value)? + "\n"
        }
        Format::Csv | Format::Table | Format::Hxl => {
            let mut t = Table::new(&[
                ("unit_id", "#adm1+code"),
                ("unit_name", "#adm1+name"),
                ("period", "#date+period"),
                ("kind", "#meta+kind"),
                ("category", "#indicator+category"),
                ("events", "#event+num"),
                ("fatalities", "#affected+killed"),
                ("civilian_fatalities", "#affected+killed+civilians"),
                ("reports", "#event+num+reports"),
                ("critical", "#severity+critical"),
                ("pervasive", "#severity+pervasive"),
                ("band", "#severity+band"),
                ("priority", "#priority"),
            ]);
            for r in &result.rows {
                t.row(vec![
                    r.unit_id.clone(),
                    r.unit_name.clone(),
                    r.period.clone(),
                    r.category_kind.clone(),
                    r.category.clone(),
                    r.events.to_string(),
                    r.fatalities.to_string(),
                    r.civilian_fatalities.to_string(),
                    published_count(r.reports, args.suppress_below)
                        .map_or_else(|| format!("<{}", args.suppress_below), |n| n.to_string()),
                    format!("{:.2}", r.critical),
                    format!("{:.2}", r.pervasive),
                    r.band.clone(),
                    if r.priority { "yes" } else { "" }.to_string(),
                ]);
            }
            t.render(args.format)?
        }
        Format::Geojson => bail!("use `vitalcore export --format geojson` for a map layer"),
    };
    write_output(args.out.as_deref(), &text)
}
