//! `vitalcore warnings`: forecasts for the coming months from the events in
//! the database, stored with the backtest skill they were chosen on, and the
//! early-warning queue (forecast probabilities over a threshold, bursts of
//! community reports above their recent level).

use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use vitalcore_app::warnings::{Progress, RunOptions, StatusChange, StatusError, WarningRules};
use vitalcore_forecast::Target;
use vitalcore_forecast::run::THRESHOLDS;
use vitalcore_store::forecasts::{EarlyWarning, WarningFilter, WarningStatus};

use crate::cmd::assess::RangeArgs;
use crate::context::Global;
use crate::output::{Format, Table, write_output};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Forecast the coming months from the stored events, store the run and raise new warnings
    Run(RunArgs),
    /// The early-warning queue, newest first
    List {
        /// Only new, acknowledged or closed warnings
        #[arg(long)]
        status: Option<String>,
        /// Leave out closed warnings
        #[arg(long)]
        open: bool,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Someone has seen the warning
    Ack {
        id: i64,
        /// Who (recorded with the time)
        #[arg(long = "as", env = "VITALCORE_USER")]
        user: String,
        /// What was checked or decided (kept with who and when)
        #[arg(long)]
        note: Option<String>,
    },
    /// The warning needs nothing more
    Close {
        id: i64,
        #[arg(long = "as", env = "VITALCORE_USER")]
        user: String,
        /// What was checked or decided (kept with who and when)
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    range: RangeArgs,
    /// What to forecast: fatalities or events
    #[arg(long, default_value = "fatalities")]
    target: Target,
    /// Months ahead, comma-separated
    #[arg(long, default_value = "1,2,3", value_delimiter = ',')]
    horizons: Vec<usize>,
    /// Model: `best` (lowest CRPS in the backtest of the last origins) or a model name
    #[arg(long, default_value = "best")]
    model: String,
    /// Origins of the backtest that measures skill (and picks `best`); 0 skips it
    #[arg(long, default_value_t = 12)]
    skill_origins: usize,
    /// Draws per unit-month
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Months of history the learned model and the bootstrap train on
    #[arg(long, default_value_t = 120)]
    train_window: usize,
    /// Warn when P(any fatality) reaches this
    #[arg(long, default_value_t = 0.5)]
    p_any: f64,
    /// Warn when P(>= N) reaches P, as N:P (N one of 1, 10, 25); repeatable
    #[arg(long, default_value = "10:0.3")]
    p_ge: Vec<String>,
    /// Report bursts only in the last this many months of data
    #[arg(long, default_value_t = 3)]
    burst_months: usize,
    #[arg(long, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    match args.command {
        Command::Run(a) => run_warnings(a, global),
        Command::List { status, open, format } => {
            let status = status.as_deref().map(parse_status).transpose()?;
            let list = global.open_forecasts()?.warnings(&WarningFilter { status, open_only: open, unit: None })?;
            write_output(None, &render(&list, format)?)
        }
        Command::Ack { id, user, note } => set_status(global, id, WarningStatus::Acknowledged, &user, note.as_deref()),
        Command::Close { id, user, note } => set_status(global, id, WarningStatus::Closed, &user, note.as_deref()),
    }
}

/// `vitalcore warnings run` with its defaults (the demo uses it).
pub fn run_with_defaults(global: &Global) -> Result<()> {
    use clap::{Args as _, FromArgMatches as _};
    let matches = RunArgs::augment_args(clap::Command::new("run")).try_get_matches_from(["run"])?;
    run_warnings(RunArgs::from_arg_matches(&matches)?, global)
}

fn parse_status(s: &str) -> Result<WarningStatus> {
    WarningStatus::parse(s).ok_or_else(|| anyhow!("--status `{s}`: use new, acknowledged or closed"))
}

fn set_status(global: &Global, id: i64, status: WarningStatus, user: &str, note: Option<&str>) -> Result<()> {
    let change = StatusChange::by_name(status, user, note).map_err(status_error)?;
    let now = Timestamp::now();
    let w = change.apply(&*global.open_forecasts()?, id, now).map_err(status_error)?;
    global.note(format!(
        "warning {} ({} {} {}) is {} by {user} at {now}",
        w.id,
        w.unit,
        w.month,
        w.kind.as_str(),
        status.as_str()
    ));
    Ok(())
}

/// A refused status change in the CLI's words.
fn status_error(e: StatusError) -> anyhow::Error {
    match e {
        StatusError::NoOne => anyhow!("say who with --as NAME (or VITALCORE_USER)"),
        StatusError::Note(e) => anyhow!("--note: {e}"),
        StatusError::NotFound(id) => anyhow!("no early warning {id}: see `vitalcore warnings list`"),
        StatusError::Store(e) => e.into(),
        e @ StatusError::Denied(_) => e.into(),
    }
}

/// `--p-ge N:P` as (N, P), N one of the forecast's thresholds.
fn parse_p_ge(spec: &str) -> Result<(u32, f64)> {
    let usage =
        || format!("--p-ge `{spec}`: write N:P, e.g. 10:0.3, with N one of {THRESHOLDS:?} and P between 0 and 1");
    let (n, p) = spec.split_once(':').ok_or_else(|| anyhow!(usage()))?;
    let n: u32 = n.trim().parse().map_err(|_| anyhow!(usage()))?;
    let p: f64 = p.trim().parse().map_err(|_| anyhow!(usage()))?;
    if !THRESHOLDS.contains(&n) || !(0.0..=1.0).contains(&p) {
        bail!(usage());
    }
    Ok((n, p))
}

fn run_warnings(a: RunArgs, global: &Global) -> Result<()> {
    if !(0.0..=1.0).contains(&a.p_any) {
        bail!("--p-any {} must be between 0 and 1", a.p_any);
    }
    let p_ge = a.p_ge.iter().map(|s| parse_p_ge(s)).collect::<Result<Vec<_>>>()?;
    let options = RunOptions {
        range: a.range.range(),
        target: a.target,
        horizons: a.horizons,
        model: a.model,
        skill_origins: a.skill_origins,
        samples: a.samples,
        seed: a.seed,
        train_window: a.train_window,
        rules: WarningRules { p_any: a.p_any, p_ge, burst_months: a.burst_months },
    };
    let stores = global.open()?;
    let outcome = vitalcore_app::warnings::run(
        &*stores.events,
        Some(&*stores.reports),
        &*stores.forecasts,
        &options,
        &mut |step| global.note(progress_note(step)),
    )?;
    write_output(None, &render(&outcome.added, a.format)?)
}

/// What the run has done, as told on stderr.
fn progress_note(step: Progress<'_>) -> String {
    match step {
        Progress::Panel { panel, unit, reports, skipped } => format!(
            "panel: {} {unit} units x {} months ({} to {}), {reports} community reports; {skipped} events without a {unit} left out",
            panel.n_units(),
            panel.months,
            panel.first,
            panel.last(),
        ),
        Progress::Backtest { report, start, end } => {
            format!("backtest of {} origins ({start} to {end}): best model {}", report.origins.len(), report.best)
        }
        Progress::Stored { run_id, run, rows, units, horizons } => format!(
            "forecast run {run_id}: model {}, {rows} rows ({units} units x {horizons} horizons) from origin {}",
            run.model, run.origin
        ),
        Progress::Raised { raised, added } => {
            format!("{raised} warnings raised, {added} new ({} already in the queue)", raised - added)
        }
    }
}

fn render(list: &[EarlyWarning], format: Format) -> Result<String> {
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(list)? + "\n");
    }
    let mut t = Table::new(&[
        ("id", "#meta+id"),
        ("unit", "#adm1+code"),
        ("month", "#date+month"),
        ("kind", "#meta+kind"),
        ("value", "#indicator+value"),
        ("threshold", "#indicator+threshold"),
        ("status", "#status"),
        ("reason", "#description"),
        ("note", "#description+note"),
    ]);
    for w in list {
        t.row(vec![
            w.id.to_string(),
            w.unit.clone(),
            w.month.to_string(),
            w.kind.as_str().into(),
            format!("{:.3}", w.value),
            format!("{:.3}", w.threshold),
            w.status.as_str().into(),
            w.reason.clone(),
            w.note.as_ref().map(|n| format!("{} ({} {})", n.text, n.by, n.at)).unwrap_or_default(),
        ]);
    }
    t.render(format)
}
