//! JSON API handlers for the stored events and the analyses. Store reads
//! run on the blocking pool, analyses on the analysis threads. The analyses
//! read the shared snapshot of the stored events ([`crate::snapshot`]) with
//! the community reports added per request.

use crate::ctx::Ctx;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use vitalcore_app::disclosure::{self, Audience, Disclosed};
use vitalcore_assess::{AssessOptions, EventTable, Period};
use vitalcore_framework::taxonomy::{Band, Category, Principle};
use vitalcore_framework::{Framework, Month, UnitKind, prio_grid_gid};
use vitalcore_proto::api::{
    AreaList, AreaScores, Feature, FeatureCollection, FeatureCollectionType, FeatureType, FrameworkSummary, Geometry,
    Health, Polygon, PolygonType,
};
use vitalcore_proto::{AreaSummary, Assessment, AssessmentRow};
use vitalcore_store::{Area, StoreCounts};

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

pub(crate) fn parse_month(value: &Option<String>, name: &str) -> Result<Option<Month>, ApiError> {
    value
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Month>().map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

async fn load(ctx: &Ctx, q: &RangeQuery) -> Result<Loaded, ApiError> {
    let unit: UnitKind = q.unit.as_deref().unwrap_or("admin1").parse().map_err(ApiError::bad_request)?;
    let period: Period = q.period.as_deref().unwrap_or("month").parse().map_err(ApiError::bad_request)?;
    let from = parse_month(&q.from, "from")?;
    let to = parse_month(&q.to, "to")?;
    let (store, snapshots) = (ctx.state.store.clone(), ctx.state.snapshots.clone());
    let (snapshot, areas) =
        ctx.blocking("events.snapshot", move || Ok((snapshots.current(&store)?, store.areas()?))).await?;
    // Community reports are few and change often: read for each request.
    let events = match ctx.state.reports.clone() {
        None => snapshot.table.clone(),
        Some(reports) => {
            ctx.blocking("reports.as_events", move || {
                let all = reports.store.reports(&vitalcore_store::reports::ReportFilter::default())?;
                let community = vitalcore_app::reports::community_events(&all, &reports.areas);
                Ok(snapshot.table.with(&community))
            })
            .await?
        }
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

/// `GET /api/v1/health`.
pub async fn health(ctx: Ctx) -> Result<Json<Health<StoreCounts>>, ApiError> {
    let store = ctx.state.store.clone();
    let counts = ctx.blocking("store.counts", move || Ok(store.counts()?)).await?;
    Ok(Json(Health { status: "ok".into(), counts }))
}

/// `GET /api/v1/framework`.
pub async fn framework(ctx: Ctx) -> Json<FrameworkSummary<Category, Principle, Band>> {
    let fw = &ctx.state.framework;
    Json(FrameworkSummary {
        name: fw.framework.name.clone(),
        version: fw.framework.version.clone(),
        dimensions: fw.dimensions.clone(),
        themes: fw.themes.clone(),
        principles: fw.principles.clone(),
        bands: fw.scales.bands.clone(),
    })
}

/// An answer as `audience` may see it, with its `disclosure` note (see
/// [`vitalcore_app::disclosure`]). A JSON tree: the published types of
/// disclosure wrap the proto types.
fn published<T: serde::Serialize>(answer: T, audience: &Audience) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(Disclosed::new(answer, audience)).map(Json).map_err(ApiError::internal)
}

/// `GET /api/v1/assessment`: an [`Assessment`] as the caller may see it.
pub async fn assessment(ctx: Ctx, Query(q): Query<RangeQuery>) -> Result<Json<Value>, ApiError> {
    let audience = ctx.audience().await?;
    let loaded = load(&ctx, &q).await?;
    let fw = ctx.state.framework.clone();
    // Published on the analysis thread: the JSON tree of a long table is
    // as large as the table.
    ctx.analyse("assess", move || {
        let table: Assessment = loaded.events.assess(&fw, &loaded.opts);
        published(disclosure::publish_assessment(table, &audience), &audience)
    })
    .await?
}

/// `GET /api/v1/areas`: report counts as the public sees them.
pub async fn areas(ctx: Ctx, Query(q): Query<RangeQuery>) -> Result<Json<AreaList>, ApiError> {
    let loaded = load(&ctx, &q).await?;
    let fw = ctx.state.framework.clone();
    let opts = loaded.opts.clone();
    let areas = ctx
        .analyse("summaries", move || loaded.events.summaries(&fw, &loaded.opts, level_of(loaded.opts.unit)))
        .await?;
    let areas = disclosure::publish_summaries(areas);
    Ok(Json(AreaList { unit: opts.unit.to_string(), from: opts.from.to_string(), to: opts.to.to_string(), areas }))
}

/// `GET /api/v1/areas/{id}/profile`: an [`AreaProfile`] as the caller may see it.
pub async fn profile(ctx: Ctx, Path(id): Path<String>, Query(q): Query<RangeQuery>) -> Result<Json<Value>, ApiError> {
    let audience = ctx.audience().await?;
    let loaded = load(&ctx, &q).await?;
    let fw = ctx.state.framework.clone();
    ctx.analyse("profile", move || {
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

/// `GET /api/v1/boundaries`: areas as a GeoJSON FeatureCollection with
/// their scores as properties: stored boundaries for admin units,
/// 0.5-degree squares for grid cells.
pub async fn boundaries(ctx: Ctx, Query(q): Query<RangeQuery>) -> Result<Json<FeatureCollection>, ApiError> {
    let loaded = load(&ctx, &q).await?;
    let fw = ctx.state.framework.clone();
    let map = ctx.analyse("boundaries", move || feature_collection(&loaded, &fw, q.category.as_deref())).await?;
    Ok(Json(map))
}

fn feature_collection(loaded: &Loaded, fw: &Framework, category: Option<&str>) -> FeatureCollection {
    let unit = loaded.opts.unit;
    let whole = AssessOptions { period: Period::All, ..loaded.opts.clone() };
    let scored = loaded.events.assess(fw, &whole);
    let list = disclosure::publish_summaries(loaded.events.summaries_of(&scored, &loaded.opts, level_of(unit)));
    // Each unit's first row of the chosen category.
    let mut chosen: HashMap<&str, &AssessmentRow> = HashMap::new();
    for r in scored.rows.iter().filter(|r| Some(r.category.as_str()) == category) {
        chosen.entry(r.unit_id.as_str()).or_insert(r);
    }
    let mut by_id: HashMap<String, AreaScores> = HashMap::new();
    for s in &list {
        let (critical, pervasive, category) = match (chosen.get(s.unit_id.as_str()), category) {
            (Some(r), _) => (r.critical, r.pervasive, Some(r.category.clone())),
            (None, Some(c)) => (0.0, 0.0, Some(c.to_string())),
            (None, None) => (s.critical, s.pervasive, s.top_dimension.clone()),
        };
        let scores = AreaScores {
            id: s.unit_id.clone(),
            name: s.name.clone(),
            events: s.events,
            fatalities: s.fatalities,
            critical,
            pervasive,
            category,
        };
        by_id.insert(s.unit_id.clone(), scores);
    }
    let features = if unit == UnitKind::Grid {
        grid_features(by_id)
    } else {
        area_features(&loaded.areas, level_of(unit), &by_id, &list)
    };
    FeatureCollection {
        kind: FeatureCollectionType::FeatureCollection,
        unit: unit.to_string(),
        from: loaded.opts.from.to_string(),
        to: loaded.opts.to.to_string(),
        features,
    }
}

fn feature(properties: AreaScores, geometry: Option<Geometry>) -> Feature {
    Feature { kind: FeatureType::Feature, properties, geometry }
}

fn area_features(
    areas: &[Area],
    level: u8,
    scores: &HashMap<String, AreaScores>,
    list: &[AreaSummary],
) -> Vec<Feature> {
    let mut out: Vec<Feature> = areas
        .iter()
        .filter(|a| a.level == level)
        .filter_map(|a| {
            let geometry: Value = serde_json::from_str(a.geometry.as_deref()?).ok()?;
            let properties = match scores.get(&a.pcode) {
                Some(s) => AreaScores { id: a.pcode.clone(), name: a.name.clone(), ..s.clone() },
                None => AreaScores {
                    id: a.pcode.clone(),
                    name: a.name.clone(),
                    events: 0,
                    fatalities: 0,
                    critical: 0.0,
                    pervasive: 0.0,
                    category: None,
                },
            };
            Some(feature(properties, Some(Geometry::Stored(geometry))))
        })
        .collect();
    // Units with events but no stored boundary are listed without geometry so
    // the page can still show them in its table.
    for s in list.iter().filter(|s| !areas.iter().any(|a| a.pcode == s.unit_id)) {
        if let Some(properties) = scores.get(&s.unit_id) {
            out.push(feature(properties.clone(), None));
        }
    }
    out
}

fn grid_features(scores: HashMap<String, AreaScores>) -> Vec<Feature> {
    scores
        .into_iter()
        .filter_map(|(id, props)| {
            let gid: u32 = id.parse().ok()?;
            let (lat, lon) = vitalcore_framework::domain::prio_grid_centre(gid);
            debug_assert_eq!(prio_grid_gid(lat, lon), Some(gid));
            let (w, s, e, n) = (lon - 0.25, lat - 0.25, lon + 0.25, lat + 0.25);
            let square =
                Polygon { kind: PolygonType::Polygon, coordinates: vec![vec![[w, s], [e, s], [e, n], [w, n], [w, s]]] };
            let properties = AreaScores { name: format!("PRIO-GRID {id}"), id, ..props };
            Some(feature(properties, Some(Geometry::Square(square))))
        })
        .collect()
}
