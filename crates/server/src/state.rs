use crate::pool::AnalysisPool;
use crate::snapshot::EventSnapshots;
use std::sync::Arc;
use vitalcore_app::reports::Reports;
use vitalcore_framework::Framework;
use vitalcore_store::Store;
use vitalcore_store::forecasts::ForecastStore;
use vitalcore_store::mandates::MandateStore;
use vitalcore_store::sync::SyncStore;

/// What every request handler shares (every field shared, so a copy is cheap).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub framework: Arc<Framework>,
    /// Community reports, users and alerts; `None` serves event data only
    /// (the intake routes then answer 503).
    pub reports: Option<Arc<Reports>>,
    /// Stored forecasts and early warnings; `None`: those routes answer 503.
    pub forecasts: Option<Arc<dyn ForecastStore>>,
    /// Synchronisation with field offices (`POST /api/v1/sync`); `None`: 503.
    pub sync: Option<Arc<dyn SyncStore>>,
    /// The stored events as the analyses read them, shared by all requests.
    pub snapshots: Arc<EventSnapshots>,
    /// The threads the analyses run on, one per core (see [`crate::pool`]).
    pub analyses: Arc<AnalysisPool>,
    /// The folder (or file) of Security Council resolutions the mandate
    /// routes read; `None`: those routes answer 503.
    pub mandates: Option<std::path::PathBuf>,
    /// The resolutions stored by `vitalcore mandate import`, read by the
    /// mandate routes and page when no folder is given.
    pub mandate_store: Option<Arc<dyn MandateStore>>,
}

fn analyses() -> Arc<AnalysisPool> {
    Arc::new(AnalysisPool::per_core())
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, framework: Arc<Framework>) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            framework,
            reports: None,
            forecasts: None,
            sync: None,
            snapshots: Arc::default(),
            analyses: analyses(),
            mandates: None,
            mandate_store: None,
        })
    }

    /// With the intake channels, users and the alert workflow.
    pub fn with_reports(store: Arc<dyn Store>, framework: Arc<Framework>, reports: Arc<Reports>) -> Arc<AppState> {
        Arc::new(AppState { reports: Some(reports), ..(*AppState::new(store, framework)).clone() })
    }

    /// The same state with the forecast store (forecasts and early warnings).
    pub fn with_forecasts(state: Arc<AppState>, forecasts: Arc<dyn ForecastStore>) -> Arc<AppState> {
        Arc::new(AppState { forecasts: Some(forecasts), ..(*state).clone() })
    }

    /// The same state serving synchronisation to field offices.
    pub fn with_sync(state: Arc<AppState>, sync: Arc<dyn SyncStore>) -> Arc<AppState> {
        Arc::new(AppState { sync: Some(sync), ..(*state).clone() })
    }

    /// The same state reading Security Council resolutions from `dir` (`vitalcore serve --mandates DIR`).
    pub fn with_mandates(state: Arc<AppState>, dir: std::path::PathBuf) -> Arc<AppState> {
        Arc::new(AppState { mandates: Some(dir), ..(*state).clone() })
    }

    /// The same state reading the resolutions stored in `store`.
    pub fn with_mandate_store(state: Arc<AppState>, store: Arc<dyn MandateStore>) -> Arc<AppState> {
        Arc::new(AppState { mandate_store: Some(store), ..(*state).clone() })
    }

    /// Where the mandate routes read resolutions: the folder given to
    /// `serve --mandates`, else the store; `None` when neither is there.
    pub fn mandate_source(&self) -> Option<MandateSource> {
        match (&self.mandates, &self.mandate_store) {
            (Some(dir), _) => Some(MandateSource::Files(vec![dir.clone()])),
            (None, Some(store)) => Some(MandateSource::Stored(store.clone())),
            (None, None) => None,
        }
    }
}

/// An owned [`vitalcore_app::mandates::Resolutions`], to move into an analysis.
#[derive(Clone)]
pub enum MandateSource {
    Files(Vec<std::path::PathBuf>),
    Stored(Arc<dyn MandateStore>),
}

impl MandateSource {
    pub fn borrow(&self) -> vitalcore_app::mandates::Resolutions<'_> {
        match self {
            MandateSource::Files(paths) => vitalcore_app::mandates::Resolutions::Files(paths),
            MandateSource::Stored(store) => vitalcore_app::mandates::Resolutions::Stored(&**store),
        }
    }
}
