//! The dashboard (`/dashboard`) and the situation-report page (`/sitrep`),
//! for signed-in users. Both show a [`vitalcore_app::briefing`] for a
//! period and area (mission-wide by default; the last six months with
//! data when no period is given): staff who may read every community
//! report see it exactly, everyone else (viewers, focal points) the public
//! briefing, whatever they ask for. The dashboard lays out the same blocks
//! as the report (`vitalcore_sitrep::doc`), its charts as server-side SVG;
//! `/sitrep?format=html|pdf` downloads the report file.
//!
//! The pages are `templates/dashboard.html` and `templates/sitrep.html`;
//! their style is `/static/dashboard.css` (no inline style or script).

use crate::ctx::Ctx;
use crate::error::{ApiError, PageError};
use crate::html::{page, redirect};
use crate::i18n;
use crate::shell::{Section, Shell};
use askama::Template;
use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vitalcore_app::briefing::{Briefing, BriefingAudience, BriefingRequest, Sources, gather, texts};
use vitalcore_app::disclosure::Audience;
use vitalcore_framework::Month;
use vitalcore_sitrep::doc::{Block, blocks};

const DASHBOARD_CSS: &str = include_str!("../static/dashboard.css");

/// `GET /static/dashboard.css`.
pub async fn dashboard_css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], DASHBOARD_CSS)
}

/// The query both pages take.
#[derive(Debug, Default, Deserialize)]
pub struct BriefingQuery {
    from: Option<String>,
    to: Option<String>,
    area: Option<String>,
    audience: Option<String>,
    format: Option<String>,
}

/// An area in the picker.
pub struct AreaOption {
    pcode: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    shell: Shell,
    audience: &'a str,
    from: String,
    to: String,
    areas: Vec<AreaOption>,
    summary: Vec<String>,
    blocks: Vec<Block>,
    report_link: String,
}

#[derive(Template)]
#[template(path = "sitrep.html")]
struct SitrepPage {
    shell: Shell,
    staff: bool,
    from: String,
    to: String,
    areas: Vec<AreaOption>,
    summary: Vec<String>,
    heading: String,
}

struct Resolved {
    from: Month,
    to: Month,
    area: Option<String>,
}

fn month(value: &Option<String>, name: &str) -> Result<Option<Month>, ApiError> {
    crate::api::parse_month(value, name)
}

/// The period asked for, or the last six months with event data.
fn resolve(q: &BriefingQuery, data: Option<(Month, Month)>) -> Result<Resolved, ApiError> {
    let (from, to) = (month(&q.from, "from")?, month(&q.to, "to")?);
    let last = to.or(data.map(|d| d.1)).unwrap_or_else(|| Month::new(2000, 1).expect("valid"));
    let from = from.unwrap_or_else(|| last.plus(-5));
    let area = q.area.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
    Ok(Resolved { from, to: last, area })
}

/// The briefing for the caller: staff see theirs only if they may read every report.
async fn briefing_for(
    ctx: &Ctx,
    q: BriefingQuery,
    op: &'static str,
    section: Section,
) -> Result<Result<Page, Response>, ApiError> {
    let reports = ctx.reports()?;
    let forecasts = ctx.state.forecasts.clone();
    let mandates = ctx.state.mandate_store.clone();
    let (store, framework, snapshots) =
        (ctx.state.store.clone(), ctx.state.framework.clone(), ctx.state.snapshots.clone());
    ctx.visit(&reports, op, move |service, visit| {
        let Some(caller) = visit.caller else { return Ok(Err(redirect("/login", vec![]))) };
        let audience = Audience::of(Some(&caller.user));
        let wanted = match q.audience.as_deref() {
            None | Some("") => BriefingAudience::Staff,
            Some(a) => a.parse().map_err(ApiError::bad_request)?,
        };
        let who = BriefingAudience::for_caller(&audience, wanted);
        let data = snapshots.current(&store)?.table.months();
        let r = resolve(&q, data)?;
        let sources = Sources {
            events: &*store,
            reports: Some(&*service.store),
            forecasts: forecasts.as_deref(),
            mandates: mandates.as_deref(),
            framework: &framework,
            deadlines: &service.deadlines,
        };
        let lang = i18n::language(&visit.headers);
        // The report speaks the page's language when a briefing can be written in it.
        let text_lang = texts::language(lang).unwrap_or("en");
        let request = BriefingRequest { from: r.from, to: r.to, area: r.area.clone(), audience: who, lang: text_lang };
        let briefing = gather(&sources, &request, visit.now).map_err(|e| {
            use vitalcore_app::briefing::BriefingError as E;
            match e {
                E::Reversed { .. } | E::TooLong { .. } | E::UnknownArea { .. } => ApiError::bad_request(e.to_string()),
                E::Store(e) => ApiError::from(e),
                other => ApiError::internal(other),
            }
        })?;
        let areas = store
            .areas()?
            .into_iter()
            .filter(|a| a.level == 1)
            .map(|a| AreaOption {
                selected: r.area.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&a.pcode)),
                pcode: a.pcode,
                name: a.name,
            })
            .collect();
        let path = if section == Section::Dashboard { "/dashboard" } else { "/sitrep" };
        let shell = Shell::new(lang, section, String::new(), path, Some(&caller), Some(service));
        Ok(Ok(Page { shell, staff: audience.is_exact(), format: q.format.clone(), briefing, areas }))
    })
    .await
}

struct Page {
    /// The application shell (its title set by each page).
    shell: Shell,
    staff: bool,
    format: Option<String>,
    briefing: Briefing,
    areas: Vec<AreaOption>,
}

/// `GET /dashboard?from=YYYY-MM&to=YYYY-MM&area=PCODE`.
pub async fn dashboard(ctx: Ctx, Query(q): Query<BriefingQuery>) -> Result<Response, PageError> {
    let p = match briefing_for(&ctx, q, "dashboard.page", Section::Dashboard).await? {
        Ok(p) => p,
        Err(redirect) => return Ok(redirect),
    };
    let b = &p.briefing;
    let area = b.area.as_ref().map(|a| a.pcode.clone()).unwrap_or_default();
    let mut report_link = format!("/sitrep?from={}&to={}", b.from, b.to);
    if !area.is_empty() {
        report_link.push_str(&format!("&area={area}"));
    }
    let lang = p.shell.lang;
    let title = i18n::tf(lang, "brief.dashboard_title", &[("period", &texts::period(b.lang, b.from, b.to))]);
    let audience = match b.audience {
        BriefingAudience::Staff => i18n::t(lang, "brief.for_staff"),
        BriefingAudience::Public => i18n::t(lang, "brief.for_public"),
    };
    // The summary is shown apart, at the top.
    let all = blocks(b).into_iter().filter(|x| !matches!(x, Block::Summary(_))).skip(1).collect();
    let view = DashboardPage {
        shell: Shell { title, ..p.shell },
        audience,
        from: b.from.to_string(),
        to: b.to.to_string(),
        areas: p.areas,
        summary: b.summary.clone(),
        blocks: all,
        report_link,
    };
    Ok(page(StatusCode::OK, vec![], &view)?)
}

/// `GET /sitrep`: the form; with `format=html|pdf`, the report file.
pub async fn sitrep(ctx: Ctx, Query(q): Query<BriefingQuery>) -> Result<Response, PageError> {
    let p = match briefing_for(&ctx, q, "sitrep.page", Section::Sitrep).await? {
        Ok(p) => p,
        Err(redirect) => return Ok(redirect),
    };
    let b = &p.briefing;
    let name = format!(
        "sitrep-{}-{}{}-{}",
        b.from,
        b.to,
        b.area.as_ref().map(|a| format!("-{}", a.pcode)).unwrap_or_default(),
        b.audience
    );
    let download = |bytes: Vec<u8>, kind: &'static str, ext: &str| {
        let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, kind)], bytes).into_response();
        let disposition = format!("attachment; filename=\"{name}.{ext}\"");
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        response
    };
    match p.format.as_deref() {
        Some("html") => {
            return Ok(download(vitalcore_sitrep::html(b).into_bytes(), "text/html; charset=utf-8", "html"));
        }
        Some("pdf") => {
            let pdf = vitalcore_sitrep::pdf(b).map_err(ApiError::internal)?;
            return Ok(download(pdf, "application/pdf", "pdf"));
        }
        None | Some("") => {}
        Some(other) => {
            let said = i18n::tf(p.shell.lang, "brief.bad_format", &[("format", other)]);
            return Err(ApiError::bad_request(said).into());
        }
    }
    let view = SitrepPage {
        shell: Shell { title: i18n::t(p.shell.lang, "brief.sitrep_title").into(), ..p.shell },
        staff: p.staff,
        from: b.from.to_string(),
        to: b.to.to_string(),
        areas: p.areas,
        summary: b.summary.clone(),
        heading: b.title.clone(),
    };
    Ok(page(StatusCode::OK, vec![], &view)?)
}
