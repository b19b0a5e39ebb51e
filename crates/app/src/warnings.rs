//! The early-warning rule: forecasts for the coming months from the stored
//! events, chosen on their backtest skill and stored with it, and the
//! warnings raised into the queue (forecast probabilities over a threshold,
//! bursts of community reports above their recent level); moving a warning
//! on (acknowledged, closed) with who, when and a note.
//!
//! The front ends parse their options into [`RunOptions`], call [`run`],
//! and render the warnings it added.

use jiff::Timestamp;
use thiserror::Error;
use vitalcore_assess::Period;
use vitalcore_forecast::backtest::MIN_HISTORY;
use vitalcore_forecast::run::THRESHOLDS;
use vitalcore_forecast::warnings::{BurstParams, Quantity, Warning, panel_burst_warnings, threshold_warnings};
use vitalcore_forecast::{
    ALL_MODELS, BacktestConfig, BacktestReport, Features, ForecastError, ModelKind, Panel, PanelBuilder, PanelOptions,
    RunConfig, Target, UnitForecast, backtest, forecast,
};
use vitalcore_framework::{Event, Month, Source, UnitKind};
use vitalcore_security::auth::{Role, User};
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningKind, WarningStatus, clean_note,
};
use vitalcore_store::reports::ReportStore;
use vitalcore_store::{Store, StoreError};

use crate::analysis::{AnalysisError, Range, for_each_in_range};

/// When a warning is raised.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningRules {
    /// Warn when P(any fatality) reaches this.
    pub p_any: f64,
    /// Warn when P(>= N) reaches P, as (N, P), N one of [`THRESHOLDS`].
    pub p_ge: Vec<(u32, f64)>,
    /// Report bursts only in the last this many months of data.
    pub burst_months: usize,
}

/// A forecast run from the stored events and the warnings it raises.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub range: Range,
    /// What to forecast.
    pub target: Target,
    /// Months ahead.
    pub horizons: Vec<usize>,
    /// `best` (lowest CRPS in the skill backtest) or a model name.
    pub model: String,
    /// Origins of the backtest that measures skill (and picks `best`); 0 skips it.
    pub skill_origins: usize,
    /// Draws per unit-month.
    pub samples: usize,
    pub seed: u64,
    /// Months of history the learned model and the bootstrap train on.
    pub train_window: usize,
    pub rules: WarningRules,
}

/// What a run has done so far, as it goes (the front ends tell the user).
#[derive(Debug)]
pub enum Progress<'a> {
    /// The forecast panel is built: `reports` community reports joined,
    /// `skipped` events had no unit of the kind asked for.
    Panel { panel: &'a Panel, unit: UnitKind, reports: usize, skipped: usize },
    /// The skill backtest over the origins `start` to `end` is done.
    Backtest { report: &'a BacktestReport, start: Month, end: Month },
    /// The run and its `rows` rows are stored as `run_id`.
    Stored { run_id: i64, run: &'a ForecastRun, rows: usize, units: usize, horizons: usize },
    /// `raised` warnings were found, `added` of them new to the queue.
    Raised { raised: usize, added: usize },
}

/// A stored run and the warnings it added to the queue.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: i64,
    pub run: ForecastRun,
    /// Warnings raised, new or already in the queue.
    pub raised: usize,
    /// The warnings new to the queue, with their ids.
    pub added: Vec<EarlyWarning>,
}

#[derive(Debug, Error)]
pub enum WarningsError {
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error(transparent)]
    Forecast(#[from] ForecastError),
    #[error("storing the forecast run")]
    StoringRun(#[source] StoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Forecasts the coming months from the events (and community reports) in
/// `events` and `reports`, with the model chosen on its backtest skill;
/// stores the run in `forecasts` and adds the warnings it raises to the
/// queue (those already there for their unit, month and kind are not
/// added twice).
pub fn run(
    events: &dyn Store,
    reports: Option<&dyn ReportStore>,
    forecasts: &dyn ForecastStore,
    o: &RunOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunOutcome, WarningsError> {
    // The events are rolled up into the two panels as they stream from the store.
    let mut forecast_panel = PanelBuilder::new(o.range.unit);
    let mut report_panel = PanelBuilder::new(o.range.unit);
    let mut report_count = 0;
    let opts = for_each_in_range(events, reports, &o.range, Period::Month, &mut |e| {
        forecast_panel.push(e);
        if e.provenance.source == Source::CommunityReport {
            report_count += 1;
            report_panel.push(&counted_once(e));
        }
    })?;
    let reports = report_count;
    let panel_opts = panel_options(&opts);
    let (mut panel, skipped) = forecast_panel.finish(&panel_opts)?;
    for unit in &mut panel.units {
        if let Some(name) = opts.area_names.get(&unit.id) {
            unit.name = name.clone();
        }
    }
    progress(Progress::Panel { panel: &panel, unit: opts.unit, reports, skipped });
    let features = Features::build(&panel, o.target);
    let skill = skill_backtest(&panel, &features, o, progress)?;
    let model = choose_model(&o.model, skill.as_ref())?;
    let cfg = RunConfig {
        target: o.target,
        horizons: o.horizons.clone(),
        samples: o.samples,
        seed: o.seed,
        train_window: o.train_window,
        model,
    };
    let unit_forecasts = forecast(&panel, &features, &cfg)?;
    let run = ForecastRun {
        id: 0,
        created: String::new(),
        model: model.name().into(),
        unit_kind: opts.unit.to_string(),
        target: target_name(o.target).into(),
        origin: panel.last(),
        horizons: o.horizons.iter().map(|&h| h as u32).collect(),
        skill: serde_json::to_string(&skill)?,
        parameters: serde_json::json!({
            "samples": o.samples, "seed": o.seed, "train_window": o.train_window,
            "skill_origins": o.skill_origins, "model_option": o.model,
            "first": panel.first.to_string(), "last": panel.last().to_string(),
        })
        .to_string(),
    };
    let rows: Vec<ForecastRow> = unit_forecasts.iter().map(row_of).collect();
    let run_id = forecasts.save_forecast_run(&run, &rows).map_err(WarningsError::StoringRun)?;
    progress(Progress::Stored {
        run_id,
        run: &run,
        rows: rows.len(),
        units: panel.n_units(),
        horizons: o.horizons.len(),
    });

    let report_panel = if reports == 0 { None } else { Some(report_panel.finish(&panel_opts)?.0) };
    let candidates = candidate_warnings(report_panel.as_ref(), &unit_forecasts, &o.rules, run_id);
    let added = forecasts.add_warnings(&candidates)?;
    progress(Progress::Raised { raised: candidates.len(), added: added.len() });
    Ok(RunOutcome { run_id, run, raised: candidates.len(), added })
}

/// The forecast panel's options: the months of the analysis range.
fn panel_options(opts: &vitalcore_assess::AssessOptions) -> PanelOptions {
    PanelOptions { first: Some(opts.from), last: Some(opts.to), grid_neighbours: false, max_event_types: 4 }
}

/// The name a target is stored under.
pub fn target_name(t: Target) -> &'static str {
    match t {
        Target::Fatalities => "fatalities",
        Target::Events => "events",
    }
}

/// Rolling-origin backtest of every model over the last `skill_origins`
/// origins that can still be scored at the longest horizon; `None` when the
/// data are too short or the option is 0.
fn skill_backtest(
    panel: &Panel,
    features: &Features,
    o: &RunOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Option<BacktestReport>, ForecastError> {
    let max_h = o.horizons.iter().copied().max().unwrap_or(1);
    if o.skill_origins == 0 || panel.months < MIN_HISTORY + max_h + 1 {
        return Ok(None);
    }
    let end = panel.months - 1 - max_h;
    let start = end.saturating_sub(o.skill_origins - 1).max(MIN_HISTORY);
    let cfg = BacktestConfig {
        target: o.target,
        start: panel.first.plus(start as i32),
        end: panel.first.plus(end as i32),
        horizons: o.horizons.clone(),
        samples: o.samples,
        seed: o.seed,
        train_window: o.train_window,
        refit_every: 1,
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        models: ALL_MODELS.to_vec(),
    };
    let report = backtest(panel, features, &cfg, &|_, _| {})?;
    progress(Progress::Backtest { report: &report, start: cfg.start, end: cfg.end });
    Ok(Some(report))
}

/// The model a run uses: `best` is the lowest CRPS in the skill backtest,
/// or the learned model (the ensemble: hurdle pooled with baselines) when there was too little history to
/// compare; any other option names a model.
pub fn choose_model(option: &str, skill: Option<&BacktestReport>) -> Result<ModelKind, ForecastError> {
    match (option, skill) {
        ("best", Some(report)) => ModelKind::parse(&report.best),
        // too little history to compare: the learned model
        ("best", None) => Ok(ModelKind::Ensemble),
        (name, _) => ModelKind::parse(name),
    }
}

/// A unit-month forecast as stored.
pub fn row_of(f: &UnitForecast) -> ForecastRow {
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

/// A panel of community-report counts, one series of reports per unit:
/// every report counts once (the forecast panel counts a report once per
/// dimension it is tagged with, which suits features but would let a report
/// tagged with two dimensions count twice towards a burst). `None` when no
/// reports are stored.
pub fn report_count_panel(
    events: &[Event],
    unit: UnitKind,
    opts: &PanelOptions,
) -> Result<Option<Panel>, ForecastError> {
    let reports: Vec<Event> =
        events.iter().filter(|e| e.provenance.source == Source::CommunityReport).map(counted_once).collect();
    if reports.is_empty() {
        return Ok(None);
    }
    Ok(Some(Panel::from_events(&reports, unit, opts)?.0))
}

/// A community report as the report-count panel counts it: once, under
/// the one dimension `reports`.
fn counted_once(report: &Event) -> Event {
    let mut e = report.clone();
    e.tags.dimensions = vec!["reports".into()];
    e
}

/// The warnings a run raises: threshold warnings (the larger N first, so
/// the most severe crossing names the unit-month, then P(any)), tied to
/// the run `run_id`, and report bursts in the last `rules.burst_months`
/// months of the report panel.
pub fn candidate_warnings(
    reports: Option<&Panel>,
    forecasts: &[UnitForecast],
    rules: &WarningRules,
    run_id: i64,
) -> Vec<EarlyWarning> {
    let mut by_severity = rules.p_ge.clone();
    by_severity.sort_by_key(|x| std::cmp::Reverse(x.0));
    let mut threshold: Vec<Warning> = Vec::new();
    for (n, p) in by_severity {
        threshold.extend(threshold_warnings(forecasts, Quantity::PAtLeast(n), p));
    }
    threshold.extend(threshold_warnings(forecasts, Quantity::PAny, rules.p_any));
    let bursts = reports.into_iter().flat_map(|panel| {
        let recent = panel.last().plus(1 - rules.burst_months.max(1) as i32);
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

/// Why a warning could not be moved on.
#[derive(Debug, Error)]
pub enum StatusError {
    /// Nobody is named to record the change under.
    #[error("say who moves the warning on")]
    NoOne,
    /// The account may not move warnings on.
    #[error("{0}")]
    Denied(String),
    /// The note is refused (see [`clean_note`]).
    #[error("{0}")]
    Note(String),
    #[error("no early warning {0}")]
    NotFound(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked change of a warning's status: who, to what, and the note
/// (trimmed; empty is none). Checked before any store is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub status: WarningStatus,
    pub by: String,
    pub note: Option<String>,
}

impl StatusChange {
    /// A change recorded under the name `by` (the CLI's `--as`), which must
    /// not be blank.
    pub fn by_name(status: WarningStatus, by: &str, note: Option<&str>) -> Result<StatusChange, StatusError> {
        if by.trim().is_empty() {
            return Err(StatusError::NoOne);
        }
        let note = clean_note(note).map_err(StatusError::Note)?;
        Ok(StatusChange { status, by: by.to_string(), note })
    }

    /// A change by the account `user`: admins, analysts and responders (the
    /// roles that triage community alerts) move warnings on; focal points
    /// and viewers only read them, and a deactivated account does nothing.
    pub fn by_user(status: WarningStatus, user: &User, note: Option<&str>) -> Result<StatusChange, StatusError> {
        may_move_warnings(user)?;
        let note = clean_note(note).map_err(StatusError::Note)?;
        Ok(StatusChange { status, by: user.username.clone(), note })
    }

    /// Moves warning `id` on, recording who, `now` and the note in its history.
    pub fn apply(&self, store: &dyn ForecastStore, id: i64, now: Timestamp) -> Result<EarlyWarning, StatusError> {
        store
            .set_warning_status(id, self.status, &self.by, &now.to_string(), self.note.as_deref())?
            .ok_or(StatusError::NotFound(id))
    }
}

impl StatusError {
    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            StatusError::NoOne | StatusError::Note(_) => 400,
            StatusError::Denied(_) => 403,
            StatusError::NotFound(_) => 404,
            StatusError::Store(StoreError::Conflict(_)) => 409,
            StatusError::Store(StoreError::NotFound(_)) => 404,
            StatusError::Store(_) => 500,
        }
    }
}

/// Who moves early warnings on (see [`StatusChange::by_user`]).
pub fn may_move_warnings(user: &User) -> Result<(), StatusError> {
    if !user.active {
        return Err(StatusError::Denied(format!("the account `{}` is deactivated", user.username)));
    }
    if !matches!(user.role, Role::Admin | Role::Analyst | Role::Responder) {
        return Err(StatusError::Denied("only admins, analysts and responders move early warnings on".into()));
    }
    Ok(())
}
