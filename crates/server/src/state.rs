use std::sync::Arc;
use vitalcore_framework::Framework;
use vitalcore_store::Store;

/// What every request handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub framework: Arc<Framework>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, framework: Arc<Framework>) -> Arc<AppState> {
        Arc::new(AppState { store, framework })
    }
}
