//! JSON API handlers. Store reads and analyses run on the blocking pool.
//! The analyses read the shared snapshot of the stored events
//! ([`crate::snapshot`]) with the community reports added per request.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use vitalcore_app::disclosure::{self, Audience, Disclosed};
use vitalcore_assess::{AssessOptions, EventTable, Period};
use vitalcore_framework::{Framework, Month, UnitKind, prio_grid_gid};
use vitalcore_proto::AssessmentRow;
use vitalcore_store::Area;

/// Query parameters shared by the assessment endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    /// country, admin1 (default), admin2 or grid
    unit: Option<String>,
    /// YYYY-MM; default: the first month with data
    from: Option<String>,
    /// YYYY-MM; default: the last month with data
    to: Option<String>,
    /// month (default), quarter, year or all
    period: Option<String>,
    /// colour the map by this dimension or theme (default: the top one)
    category: Option<String>,
}

/// What an analysis request reads: the events (the shared snapshot, with
/// the community reports added), the options, and the stored areas.
struct Loaded {
    events: EventTable,
    opts: AssessOptions,
    areas: Vec<Area>,
}

fn parse_month(value: &Option<String>, name: &str) -> Result<Option<Month>, ApiError> {
    value
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Month>().map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

/// Runs blocking work (store reads) off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal(e.to_string()))
}

/// Runs an analysis on the analysis threads, one per core (the others wait
/// their turn: see [`crate::pool`]).
async fn analyse<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    state.analyses.run(work).await.map_err(|e| ApiError::internal(e.to_string()))
}

async fn load(state: &Arc<AppState>, q: &RangeQuery) -> Result<Loaded, ApiError> {
    let unit: UnitKind = q.unit.as_deref().unwrap_or("admin1").parse().map_err(ApiError::bad_request)?;
    let period: Period = q.period.as_deref().unwrap_or("month").parse().map_err(ApiError::bad_request)?;
    let from = parse_month(&q.from, "from")?;
    let to = parse_month(&q.to, "to")?;
    let (store, snapshots) = (state.store.clone(), state.snapshots.clone());
    let (snapshot, areas) =
        blocking(move || Ok::<_, vitalcore_store::StoreError>((snapshots.current(&*store)?, store.areas()?)))
            .await?
            .map_err(|e| ApiError::internal(e.to_string()))?;
    // Community reports are few and change often: read for each request.
    let events = match state.reports.clone() {
        None => snapshot.table.clone(),
        Some(reports) => blocking(move || {
            let all = reports.store.reports(&vitalcore_store::reports::ReportFilter::default())?;
            let community = vitalcore_app::reports::community_events(&all, &reports.areas);
            Ok::<_, vitalcore_store::StoreError>(snapshot.table.with(&community))
        })
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?,
    };
    // The first and last month with data within the bounds given (the
    // table's analyses skip events outside the range).
    let first = events.months().map(|(lo, _)| lo).filter(|lo| to.is_none_or(|t| *lo <= t));
    let last = events.months().map(|(_, hi)| hi).filter(|hi| from.is_none_or(|f| *hi >= f));
    let (from, to) = match (from.or(first), to.or(last)) {
        (Some(f), Some(t)) => (f, t),
        _ => {
            let now = Month::new(2000, 1).expect("valid");
            (now, now)
        }
    };
    if from > to {
        return Err(ApiError::bad_request(format!("from ({from}) is after to ({to})")));
    }
    let mut opts = AssessOptions::new(unit, from, to, period);
    opts.area_names = areas.iter().map(|a| (a.pcode.clone(), a.name.clone())).collect();
    Ok(Loaded { events, opts, areas })
}

pub async fn health(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let counts = tokio::task::spawn_blocking(move || store.counts())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(json!({ "status": "ok", "counts": counts })))
}

pub async fn framework(State(state): State<Arc<AppState>>) -> Json<Value> {
    let fw = &state.framework;
    Json(json!({
        "name": fw.framework.name,
        "version": fw.framework.version,
        "dimensions": fw.dimensions,
        "themes": fw.themes,
        "principles": fw.principles,
        "bands": fw.scales.bands,
    }))
}

/// An answer as `audience` may see it, with its `disclosure` note (see
/// [`vitalcore_app::disclosure`]).
fn published<T: serde::Serialize>(answer: T, audience: &Audience) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(Disclosed::new(answer, audience)).map(Json).map_err(|e| ApiError::internal(e.to_string()))
}

pub async fn assessment(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Value>, ApiError> {
    let audience = crate::auth::audience(&state, &headers).await?;
    let loaded = load(&state, &q).await?;
    let fw = state.framework.clone();
    // Published on the analysis thread: the JSON tree of a long table is
    // as large as the table.
    analyse(&state, move || {
        published(disclosure::publish_assessment(loaded.events.assess(&fw, &loaded.opts), &audience), &audience)
    })
    .await?
}

pub async fn areas(State(state): State<Arc<AppState>>, Query(q): Query<RangeQuery>) -> Result<Json<Value>, ApiError> {
    let loaded = load(&state, &q).await?;
    let (fw, opts) = (state.framework.clone(), loaded.opts.clone());
    let list = analyse(&state, move || loaded.events.summaries(&fw, &loaded.opts, level_of(loaded.opts.unit))).await?;
    let list = disclosure::publish_summaries(list);
    Ok(Json(json!({ "unit": opts.unit, "from": opts.from, "to": opts.to, "areas": list })))
}

pub async fn profile(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Value>, ApiError> {
    let audience = crate::auth::audience(&state, &headers).await?;
    let loaded = load(&state, &q).await?;
    let fw = state.framework.clone();
    analyse(&state, move || {
        let mut profile = loaded.events.profile(&fw, &loaded.opts, &id).ok_or_else(|| {
            ApiError::not_found(format!("no events for an area `{id}` in {}..{}", loaded.opts.from, loaded.opts.to))
        })?;
        profile.links = loaded.events.area_links(&fw, &loaded.opts, &profile.unit_id, 5);
        published(disclosure::publish_profile(profile, &audience), &audience)
    })
    .await?
}

fn level_of(unit: UnitKind) -> u8 {
    match unit {
        UnitKind::Country => 0,
        UnitKind::Admin1 => 1,
        UnitKind::Admin2 => 2,
        UnitKind::Grid => 9,
    }
}

/// Areas as a GeoJSON FeatureCollection with their scores as properties:
/// stored boundaries for admin units, 0.5-degree squares for grid cells.
pub async fn boundaries(
    State(state): State<Arc<AppState>>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Value>, ApiError> {
    let loaded = load(&state, &q).await?;
    let fw = state.framework.clone();
    analyse(&state, move || feature_collection(&loaded, &fw, q.category.as_deref())).await
}

fn feature_collection(loaded: &Loaded, fw: &Framework, category: Option<&str>) -> Json<Value> {
    let unit = loaded.opts.unit;
    let whole = AssessOptions { period: Period::All, ..loaded.opts.clone() };
    let scored = loaded.events.assess(fw, &whole);
    let list = disclosure::publish_summaries(loaded.events.summaries_of(&scored, &loaded.opts, level_of(unit)));
    // Each unit's first row of the chosen category.
    let mut chosen: HashMap<&str, &AssessmentRow> = HashMap::new();
    for r in scored.rows.iter().filter(|r| Some(r.category.as_str()) == category) {
        chosen.entry(r.unit_id.as_str()).or_insert(r);
    }
    let mut by_id: HashMap<String, Value> = HashMap::new();
    for s in &list {
        let (critical, pervasive, category) = match (chosen.get(s.unit_id.as_str()), category) {
            (Some(r), _) => (r.critical, r.pervasive, Some(r.category.clone())),
            (None, Some(c)) => (0.0, 0.0, Some(c.to_string())),
            (None, None) => (s.critical, s.pervasive, s.top_dimension.clone()),
        };
        by_id.insert(
            s.unit_id.clone(),
            json!({ "events": s.events, "fatalities": s.fatalities, "critical": critical, "pervasive": pervasive, "category": category }),
        );
    }
    let features: Vec<Value> = if unit == UnitKind::Grid {
        grid_features(&by_id)
    } else {
        area_features(&loaded.areas, level_of(unit), &by_id, &list)
    };
    Json(json!({
        "type": "FeatureCollection",
        "unit": unit,
        "from": loaded.opts.from,
        "to": loaded.opts.to,
        "features": features,
    }))
}

fn area_features(
    areas: &[Area],
    level: u8,
    scores: &HashMap<String, Value>,
    list: &[vitalcore_proto::AreaSummary],
) -> Vec<Value> {
    let empty = json!({ "events": 0, "fatalities": 0, "critical": 0.0, "pervasive": 0.0, "category": null });
    let mut out: Vec<Value> = areas
        .iter()
        .filter(|a| a.level == level)
        .filter_map(|a| {
            let geometry: Value = serde_json::from_str(a.geometry.as_deref()?).ok()?;
            let mut props = scores.get(&a.pcode).cloned().unwrap_or_else(|| empty.clone());
            props["id"] = json!(a.pcode);
            props["name"] = json!(a.name);
            Some(json!({ "type": "Feature", "properties": props, "geometry": geometry }))
        })
        .collect();
    // Units with events but no stored boundary are listed without geometry so
    // the page can still show them in its table.
    for s in list.iter().filter(|s| !areas.iter().any(|a| a.pcode == s.unit_id)) {
        let mut props = scores[&s.unit_id].clone();
        props["id"] = json!(s.unit_id);
        props["name"] = json!(s.name);
        out.push(json!({ "type": "Feature", "properties": props, "geometry": null }));
    }
    out
}

fn grid_features(scores: &HashMap<String, Value>) -> Vec<Value> {
    scores
        .iter()
        .filter_map(|(id, props)| {
            let gid: u32 = id.parse().ok()?;
            let (lat, lon) = vitalcore_framework::domain::prio_grid_centre(gid);
            debug_assert_eq!(prio_grid_gid(lat, lon), Some(gid));
            let (w, s, e, n) = (lon - 0.25, lat - 0.25, lon + 0.25, lat + 0.25);
            let mut props = props.clone();
            props["id"] = json!(id);
            props["name"] = json!(format!("PRIO-GRID {id}"));
            Some(json!({
                "type": "Feature",
                "properties": props,
                "geometry": { "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
            }))
        })
        .collect()
}
