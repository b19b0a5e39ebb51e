use crate::reports::Reports;
use crate::snapshot::EventSnapshots;
use std::sync::Arc;
use tokio::sync::Semaphore;
use vitalcore_framework::Framework;
use vitalcore_store::Store;
use vitalcore_store::forecasts::ForecastStore;

/// What every request handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub framework: Arc<Framework>,
    /// Community reports, users and alerts; `None` serves event data only
    /// (the intake routes then answer 503).
    pub reports: Option<Arc<Reports>>,
    /// Stored forecasts and early warnings; `None`: those routes answer 503.
    pub forecasts: Option<Arc<dyn ForecastStore>>,
    /// The stored events as the analyses read them, shared by all requests.
    pub snapshots: Arc<EventSnapshots>,
    /// One permit per core for the analyses: they are CPU-bound, so more at
    /// once would not finish sooner, and each holds its working memory
    /// (tens of MB at a million events) until it does.
    pub analyses: Arc<Semaphore>,
}

fn analyses() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, framework: Arc<Framework>) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            framework,
            reports: None,
            forecasts: None,
            snapshots: Arc::default(),
            analyses: analyses(),
        })
    }

    /// With the intake channels, users and the alert workflow.
    pub fn with_reports(store: Arc<dyn Store>, framework: Arc<Framework>, reports: Arc<Reports>) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            framework,
            reports: Some(reports),
            forecasts: None,
            snapshots: Arc::default(),
            analyses: analyses(),
        })
    }

    /// The same state with the forecast store (forecasts and early warnings).
    pub fn with_forecasts(state: Arc<AppState>, forecasts: Arc<dyn ForecastStore>) -> Arc<AppState> {
        Arc::new(AppState {
            store: state.store.clone(),
            framework: state.framework.clone(),
            reports: state.reports.clone(),
            forecasts: Some(forecasts),
            snapshots: state.snapshots.clone(),
            analyses: state.analyses.clone(),
        })
    }
}
