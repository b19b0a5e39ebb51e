//! `vitalcore profile AREA`: one area's threats by dimension and theme.

use crate::cmd::assess::RangeArgs;
use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Result, anyhow, bail};
use vitalcore_app::analysis::load_table;
use vitalcore_assess::Period;

#[derive(clap::Args)]
pub struct Args {
    /// The area: a P-code (CF11), a name (Ouham), or a PRIO-GRID id with --unit grid
    pub area: String,
    #[command(flatten)]
    pub range: RangeArgs,
    #[arg(long, default_value = "table")]
    pub format: Format,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = global.load_framework()?;
    let (store, reports) = global.open_stores()?;
    let (events, opts) = load_table(&*store, Some(&*reports), &args.range.range(), Period::Month)?;
    let mut p = events.profile(&framework, &opts, &args.area).ok_or_else(|| {
        anyhow!(
            "no {} called `{}` has events between {} and {}: check the spelling or P-code (`vitalcore assess --unit {} --period all` lists them)",
            opts.unit, args.area, opts.from, opts.to, opts.unit
        )
    })?;
    let mut observations = Vec::new();
    store.for_each_observation(&mut |o| observations.push(o))?;
    let tree = vitalcore_risk_index::Tree::local_default();
    p.risk = vitalcore_assess::risk::area_risk_in(&events, &observations, &framework, &opts, &tree, &p.unit_id);
    p.links = events.area_links(&framework, &opts, &p.unit_id, 5);
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&p)? + "\n",
        Format::Table | Format::Csv | Format::Hxl => {
            let mut t = Table::new(&[
                ("kind", "#meta+kind"),
                ("category", "#indicator+category"),
                ("label", "#indicator+label"),
                ("events", "#event+num"),
                ("fatalities", "#affected+killed"),
                ("civilian_fatalities", "#affected+killed+civilians"),
                ("critical", "#severity+critical"),
                ("pervasive", "#severity+pervasive"),
                ("band", "#severity+band"),
                ("last_12_months", "#event+num+trend"),
            ]);
            for d in p.dimensions.iter().chain(&p.themes) {
                let trend: Vec<String> = d.trend.iter().rev().take(12).rev().map(|t| t.events.to_string()).collect();
                t.row(vec![
                    d.category_kind.clone(),
                    d.category.clone(),
                    d.label.clone(),
                    d.total.events.to_string(),
                    d.total.fatalities.to_string(),
                    d.total.civilian_fatalities.to_string(),
                    format!("{:.2}", d.total.critical),
                    format!("{:.2}", d.total.pervasive),
                    d.total.band.clone(),
                    trend.join(" "),
                ]);
            }
            let mut text = String::new();
            if args.format == Format::Table {
                text.push_str(&format!(
                    "{} ({}), {} to {}: {} events, {} deaths of which {} civilians\n\n",
                    p.name, p.unit_id, p.from, p.to, p.events, p.fatalities, p.civilian_fatalities
                ));
                if let Some(r) = &p.risk {
                    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
                    text.push_str(&format!(
                        "Risk {} = hazard {} x vulnerability {} x lack of coping capacity {} (geometric mean, 0-10)\n",
                        f(r.risk),
                        f(r.hazard),
                        f(r.vulnerability),
                        f(r.coping)
                    ));
                }
                for l in &p.links {
                    let when =
                        if l.lag == 0 { "in the same month".to_string() } else { format!("{} month(s) later", l.lag) };
                    text.push_str(&format!(
                        "Linked: {} -> {} {when} (r = {:.2}, q = {:.3})\n",
                        l.from, l.to, l.strength, l.q_value
                    ));
                }
                text.push('\n');
            }
            text + &t.render(args.format)?
        }
        Format::Geojson => bail!("a profile has no GeoJSON form: use `vitalcore export --format geojson`"),
    };
    write_output(None, &text)
}
