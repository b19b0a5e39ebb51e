//! `vitalcore assess`: per unit and period, each dimension's and theme's
//! events, fatalities and critical/pervasive scores.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Result, bail};
use std::path::PathBuf;
use vitalcore_app::analysis::{Range, load_table};
use vitalcore_app::disclosure::{Audience, publish_assessment};
use vitalcore_assess::Period;
use vitalcore_framework::{Month, UnitKind};

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

impl RangeArgs {
    /// The range the options give, for the analysis use cases.
    pub fn range(&self) -> Range {
        Range { unit: self.unit, from: self.from, to: self.to }
    }
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
    /// Publish community-report counts: 1 to N-1 as "<N", others rounded to
    /// 5, "np" over periods that are not a calendar month, quarter or year
    /// (0 = exact counts). Exports for publication use 5 by default.
    #[arg(long, default_value_t = 0)]
    pub suppress_below: u64,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = global.load_framework()?;
    let (store, reports) = global.open_stores()?;
    let (events, opts) = load_table(&*store, Some(&*reports), &args.range.range(), args.period)?;
    let mut result = events.assess(&framework, &opts);
    if args.high_only {
        result.rows.retain(|r| r.priority || r.critical.max(r.pervasive) >= 5.0);
    }
    if result.unplaced_events > 0 {
        global.note(format!(
            "{} events have no {} and are left out (load boundaries with `vitalcore import BOUNDARIES.geojson` and re-import, or use --unit grid)",
            result.unplaced_events, opts.unit
        ));
    }
    // Community-report counts as the rule publishes them (exact with --suppress-below 0).
    let result = publish_assessment(result, &Audience::export(args.suppress_below));
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&result)? + "\n",
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
                    r.reports.to_string(),
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
