use crate::reports::Reports;
use std::sync::Arc;
use vitalcore_framework::Framework;
use vitalcore_store::Store;

/// What every request handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub framework: Arc<Framework>,
    /// Community reports, users and alerts; `None` serves event data only
    /// (the intake routes then answer 503).
    pub reports: Option<Arc<Reports>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, framework: Arc<Framework>) -> Arc<AppState> {
        Arc::new(AppState { store, framework, reports: None })
    }

    /// With the intake channels, users and the alert workflow.
    pub fn with_reports(store: Arc<dyn Store>, framework: Arc<Framework>, reports: Arc<Reports>) -> Arc<AppState> {
        Arc::new(AppState { store, framework, reports: Some(reports) })
    }
}
