//! `vitalcore warnings`: forecasts for the coming months from the events in
//! the database, stored with the backtest skill they were chosen on, and the
//! early-warning queue (forecast probabilities over a threshold, bursts of
//! community reports above their recent level).

use anyhow::{Context as _, Result, anyhow, bail};
use jiff::Timestamp;
use vitalcore_app::analysis::load;
use vitalcore_assess::Period;
use vitalcore_forecast::backtest::MIN_HISTORY;
use vitalcore_forecast::run::THRESHOLDS;
use vitalcore_forecast::warnings::{BurstParams, Quantity, Warning, panel_burst_warnings, threshold_warnings};
use vitalcore_forecast::{
    ALL_MODELS, BacktestConfig, BacktestReport, Features, ModelKind, Panel, PanelOptions, RunConfig, Target,
    UnitForecast, backtest, forecast,
};
use vitalcore_framework::{Event, Source, UnitKind};
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastRow, ForecastRun, WarningFilter, WarningKind, WarningStatus, clean_note,
};

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
    if user.trim().is_empty() {
        bail!("say who with --as NAME (or VITALCORE_USER)");
    }
    let note = clean_note(note).map_err(|e| anyhow!("--note: {e}"))?;
    let now = Timestamp::now().to_string();
    let w = global
        .open_forecasts()?
        .set_warning_status(id, status, user, &now, note.as_deref())?
        .ok_or_else(|| anyhow!("no early warning {id}: see `vitalcore warnings list`"))?;
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
    let (store, reports) = global.open_stores()?;
    let (events, opts) = load(&*store, Some(&*reports), &a.range.range(), Period::Month)?;
    let reports = events.iter().filter(|e| e.provenance.source == Source::CommunityReport).count();
    let panel_opts =
        PanelOptions { first: Some(opts.from), last: Some(opts.to), grid_neighbours: false, max_event_types: 4 };
    let (mut panel, skipped) = Panel::from_events(&events, opts.unit, &panel_opts)?;
    for unit in &mut panel.units {
        if let Some(name) = opts.area_names.get(&unit.id) {
            unit.name = name.clone();
        }
    }
    global.note(format!(
        "panel: {} {} units x {} months ({} to {}), {reports} community reports; {skipped} events without a {} left out",
        panel.n_units(),
        opts.unit,
        panel.months,
        panel.first,
        panel.last(),
        opts.unit
    ));
    let features = Features::build(&panel, a.target);
    let skill = skill_backtest(&panel, &features, &a, global)?;
    let model = choose_model(&a.model, skill.as_ref())?;
    let cfg = RunConfig {
        target: a.target,
        horizons: a.horizons.clone(),
        samples: a.samples,
        seed: a.seed,
        train_window: a.train_window,
        model,
    };
    let forecasts = forecast(&panel, &features, &cfg)?;
    let run = ForecastRun {
        id: 0,
        created: String::new(),
        model: model.name().into(),
        unit_kind: opts.unit.to_string(),
        target: target_name(a.target).into(),
        origin: panel.last(),
        horizons: a.horizons.iter().map(|&h| h as u32).collect(),
        skill: serde_json::to_string(&skill)?,
        parameters: serde_json::json!({
            "samples": a.samples, "seed": a.seed, "train_window": a.train_window,
            "skill_origins": a.skill_origins, "model_option": a.model,
            "first": panel.first.to_string(), "last": panel.last().to_string(),
        })
        .to_string(),
    };
    let fstore = global.open_forecasts()?;
    let rows: Vec<ForecastRow> = forecasts.iter().map(row_of).collect();
    let run_id = fstore.save_forecast_run(&run, &rows).context("storing the forecast run")?;
    global.note(format!(
        "forecast run {run_id}: model {}, {} rows ({} units x {} horizons) from origin {}",
        run.model,
        rows.len(),
        panel.n_units(),
        a.horizons.len(),
        run.origin
    ));

    let report_panel = report_count_panel(&events, opts.unit, &panel_opts)?;
    let candidates = candidate_warnings(report_panel.as_ref(), &forecasts, &a, &p_ge, run_id);
    let added = fstore.add_warnings(&candidates)?;
    global.note(format!(
        "{} warnings raised, {} new ({} already in the queue)",
        candidates.len(),
        added.len(),
        candidates.len() - added.len()
    ));
    write_output(None, &render(&added, a.format)?)
}

fn target_name(t: Target) -> &'static str {
    match t {
        Target::Fatalities => "fatalities",
        Target::Events => "events",
    }
}

/// Rolling-origin backtest of every model over the last `--skill-origins`
/// origins that can still be scored at the longest horizon; `None` when the
/// data are too short or the option is 0.
fn skill_backtest(panel: &Panel, features: &Features, a: &RunArgs, global: &Global) -> Result<Option<BacktestReport>> {
    let max_h = a.horizons.iter().copied().max().unwrap_or(1);
    if a.skill_origins == 0 || panel.months < MIN_HISTORY + max_h + 1 {
        return Ok(None);
    }
    let end = panel.months - 1 - max_h;
    let start = end.saturating_sub(a.skill_origins - 1).max(MIN_HISTORY);
    let cfg = BacktestConfig {
        target: a.target,
        start: panel.first.plus(start as i32),
        end: panel.first.plus(end as i32),
        horizons: a.horizons.clone(),
        samples: a.samples,
        seed: a.seed,
        train_window: a.train_window,
        refit_every: 1,
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        models: ALL_MODELS.to_vec(),
    };
    let report = backtest(panel, features, &cfg, &|_, _| {})?;
    global.note(format!(
        "backtest of {} origins ({} to {}): best model {}",
        report.origins.len(),
        cfg.start,
        cfg.end,
        report.best
    ));
    Ok(Some(report))
}

fn choose_model(option: &str, skill: Option<&BacktestReport>) -> Result<ModelKind> {
    match (option, skill) {
        ("best", Some(report)) => Ok(ModelKind::parse(&report.best)?),
        // too little history to compare: the learned model
        ("best", None) => Ok(ModelKind::Hurdle),
        (name, _) => Ok(ModelKind::parse(name)?),
    }
}

fn row_of(f: &UnitForecast) -> ForecastRow {
    ForecastRow {
        unit: f.unit.clone(),
        name: f.name.clone(),
        month: f.month,
        mean: f.mean,
        p_any: f.p_any,
        p_ge: vec![(THRESHOLDS[0], f.p_ge_1), (THRESHOLDS[1], f.p_ge_10), (THRESHOLDS[2], f.p_ge_25)],
        quantiles: vec![(0.05, f.q05), (0.5, f.q50), (0.95, f.q95)],
    }
}

/// Threshold warnings (the larger N first, so the most severe crossing
/// names the unit-month) and report bursts in the last months of data.
/// A panel of community-report counts, one series of reports per unit:
/// every report counts once (the forecast panel counts a report once per
/// dimension it is tagged with, which suits features but would let a report
/// tagged with two dimensions count twice towards a burst). `None` when no
/// reports are stored.
fn report_count_panel(events: &[Event], unit: UnitKind, opts: &PanelOptions) -> Result<Option<Panel>> {
    let reports: Vec<Event> = events
        .iter()
        .filter(|e| e.provenance.source == Source::CommunityReport)
        .map(|e| {
            let mut e = e.clone();
            e.tags.dimensions = vec!["reports".into()];
            e
        })
        .collect();
    if reports.is_empty() {
        return Ok(None);
    }
    Ok(Some(Panel::from_events(&reports, unit, opts)?.0))
}

fn candidate_warnings(
    reports: Option<&Panel>,
    forecasts: &[UnitForecast],
    a: &RunArgs,
    p_ge: &[(u32, f64)],
    run_id: i64,
) -> Vec<EarlyWarning> {
    let mut by_severity = p_ge.to_vec();
    by_severity.sort_by_key(|x| std::cmp::Reverse(x.0));
    let mut threshold: Vec<Warning> = Vec::new();
    for (n, p) in by_severity {
        threshold.extend(threshold_warnings(forecasts, Quantity::PAtLeast(n), p));
    }
    threshold.extend(threshold_warnings(forecasts, Quantity::PAny, a.p_any));
    let bursts = reports.into_iter().flat_map(|panel| {
        let recent = panel.last().plus(1 - a.burst_months.max(1) as i32);
        panel_burst_warnings(panel, BurstParams::default()).into_iter().filter(move |w| w.month >= recent)
    });
    let early = |w: Warning, kind: WarningKind, run_id: Option<i64>| EarlyWarning {
        id: 0,
        created: String::new(),
        unit: w.area,
        month: w.month,
        kind,
        value: w.value,
        threshold: w.threshold,
        reason: w.reason,
        run_id,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    };
    threshold
        .into_iter()
        .map(|w| early(w, WarningKind::ForecastThreshold, Some(run_id)))
        .chain(bursts.map(|w| early(w, WarningKind::ReportBurst, None)))
        .collect()
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
