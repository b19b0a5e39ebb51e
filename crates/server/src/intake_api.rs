//! JSON API for reports and alerts, and the SMS gateway webhooks.

use crate::auth::{Caller, blocking, reports, require_caller};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use vitalcore_app::access::{
    AccessError, act_on_alert, correct_report_tags, load_alert, report_for, reports_for, reveal_contact,
};
use vitalcore_app::disclosure::{Audience, publish_metrics};
use vitalcore_app::reports::{RAPIDPRO_SECRET_HOW, Reports, SubmitError, TWILIO_TOKEN_HOW};
use vitalcore_framework::Month;
use vitalcore_intake::sms::{self, InboundSms, SmsError};
use vitalcore_intake::workflow::{Alert, ResponseMetrics, Step, metrics, overdue_queue};
use vitalcore_intake::{Channel, Reference, Report, ReportDraft};
use vitalcore_security::auth::{Action, Resource, Role, authorize};
use vitalcore_security::webhook::shared_secret_matches;
use vitalcore_store::reports::ReportFilter;

/// The body, or a 4xx naming why it was refused (too large, unreadable).
pub fn body_or_reason(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        let status = r.status();
        let reason = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the request body is larger than the limit of {limit} bytes; nothing was stored")
        } else {
            format!("the request body could not be read ({}); nothing was stored", r.body_text())
        };
        ApiError::new(status, reason)
    })
}

/// A focal point asking about another community's report learns nothing,
/// not even that the reference exists.
pub(crate) fn hide_other_communities(e: AccessError, caller: &Caller, reference: &Reference) -> ApiError {
    match e {
        AccessError::Denied(_) if caller.user.role == Role::FocalPoint => {
            ApiError::not_found(format!("report {reference} not found"))
        }
        e => e.into(),
    }
}

fn parse_reference(raw: &str) -> Result<Reference, ApiError> {
    raw.parse().map_err(|e: vitalcore_intake::report::BadReference| ApiError::not_found(e.to_string()))
}

fn invalid_to_api(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Invalid(inv) => {
            let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, inv.to_string());
            err.fields = serde_json::to_value(&inv.errors).ok();
            err
        }
        SubmitError::Store(s) => ApiError::internal(s.to_string()),
    }
}

/// Files a focal point's submission under their community when it names none,
/// and checks the caller may submit there.
pub fn prepare_submission(caller: &Caller, draft: &mut ReportDraft) -> Result<(), ApiError> {
    if caller.user.role == Role::FocalPoint && draft.area_pcode.as_deref().is_none_or(|a| a.trim().is_empty()) {
        draft.area_pcode = caller.user.community.clone();
    }
    authorize(&caller.user, Action::SubmitReport, Resource::Area(draft.area_pcode.as_deref()))
        .map_err(|d| ApiError::forbidden(d.message))
}

fn report_json(report: &Report) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    v["has_contact"] = json!(report.contact.is_some());
    v
}

/// A browser session may call the JSON API only with a JSON content type,
/// which a cross-site form cannot send (on top of SameSite=Strict cookies).
fn check_session_write(caller: &Caller, headers: &HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
    if caller.session.is_some() && !json {
        return Err(ApiError::forbidden("send Content-Type: application/json (or use an API token)"));
    }
    Ok(())
}

/// `POST /api/v1/reports`: a partner system submits one report (JSON).
pub async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let reports = reports(&state)?;
    let body = body_or_reason(body, reports.config.max_api_body)?;
    let mut draft: ReportDraft = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a report in JSON: {e}; nothing was stored")))?;
    blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        check_session_write(&caller, &headers)?;
        prepare_submission(&caller, &mut draft)?;
        let channel = match &caller.partner {
            Some(p) => Channel::Api { partner: p.clone() },
            None => Channel::WebForm,
        };
        let report = reports.submit(&draft, channel, now).map_err(invalid_to_api)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({
                "reference": report.reference,
                "area_pcode": report.place.area_pcode,
                "received_at": report.received_at,
                "tags": report.tags,
                "duplicates": report.duplicates,
            })),
        ))
    })
    .await?
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    area: Option<String>,
    /// RFC 3339 time or date: received at or after.
    from: Option<String>,
    /// RFC 3339 time or date: received before.
    to: Option<String>,
    limit: Option<usize>,
    overdue: Option<bool>,
}

fn parse_time(raw: &Option<String>, name: &str) -> Result<Option<Timestamp>, ApiError> {
    raw.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| vitalcore_intake::report::parse_time(s).map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

fn filter_of(q: &ListQuery) -> Result<ReportFilter, ApiError> {
    Ok(ReportFilter {
        area_pcode: q.area.clone().filter(|a| !a.trim().is_empty()),
        received_from: parse_time(&q.from, "from")?,
        received_until: parse_time(&q.to, "to")?,
        limit: None,
    })
}

/// `GET /api/v1/reports`: the reports the caller may read (never contacts).
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let filter = filter_of(&q)?;
    blocking(move || {
        let caller = require_caller(&reports, &headers, Timestamp::now())?;
        let mut list = reports_for(&*reports.store, &caller.user, &filter)?;
        let total = list.len();
        list.reverse(); // newest first
        list.truncate(q.limit.unwrap_or(500).min(5_000));
        let items: Vec<Value> = list.iter().map(report_json).collect();
        Ok(Json(json!({ "total": total, "reports": items })))
    })
    .await?
}

/// The alert of a report as JSON, with its deadline state at `now`.
fn alert_json(reports: &Reports, report: &Report, alert: &Alert, now: Timestamp) -> Value {
    json!({
        "reference": report.reference,
        "area_pcode": report.place.area_pcode,
        "category": report.category,
        "urgency": report.effective_urgency(),
        "received_at": report.received_at,
        "state": alert.state(),
        "status": alert.status(),
        "overdue": alert.overdue(&reports.deadlines, now),
        "steps": alert.steps(),
    })
}

/// `GET /api/v1/reports/{ref}`: one report with its alert.
pub async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        let reference = parse_reference(&raw)?;
        let report = report_for(&*reports.store, &caller.user, &reference)
            .map_err(|e| hide_other_communities(e, &caller, &reference))?;
        let alert = load_alert(&*reports.store, &report)?;
        let mut v = report_json(&report);
        v["alert"] = alert_json(&reports, &report, &alert, now);
        Ok(Json(v))
    })
    .await?
}

#[derive(Debug, Deserialize)]
pub struct ContactQuery {
    purpose: Option<String>,
}

/// `GET /api/v1/reports/{ref}/contact?purpose=...`: the reporter's contact,
/// for roles allowed to read it; the read is in the audit log before the
/// answer is sent.
pub async fn contact(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(q): Query<ContactQuery>,
) -> Result<Response, ApiError> {
    let reports = reports(&state)?;
    if !reports.key_configured {
        return Err(ApiError::unavailable("this server has no contact key (start it with --key-file FILE)"));
    }
    let value = blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        let reference = parse_reference(&raw)?;
        let purpose = q.purpose.unwrap_or_default();
        let revealed = reveal_contact(&*reports.store, reports.intake.key(), &caller.user, &reference, &purpose, now)
            .map_err(|e| hide_other_communities(e, &caller, &reference))?;
        Ok::<_, ApiError>(json!({
            "reference": reference,
            "contact": revealed.contact.expose_secret(),
            "read": revealed.audit,
        }))
    })
    .await??;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(value)).into_response())
}

/// `POST /api/v1/alerts/{ref}/steps`: one workflow step, e.g.
/// `{"step": "assign", "owner": "...", "unit": "..."}`.
pub async fn step(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let body = body_or_reason(body, reports.config.max_api_body)?;
    let step: Step = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a workflow step: {e}. Send for example {{\"step\": \"acknowledge\"}}, \
             {{\"step\": \"verify\", \"note\": \"...\"}}, {{\"step\": \"mark_unfounded\", \"reason\": \"...\"}}, \
             {{\"step\": \"assign\", \"owner\": \"...\", \"unit\": \"...\"}}, \
             {{\"step\": \"respond\", \"action\": \"...\", \"feedback\": {{\"message\": \"...\", \"channel\": \"sms\", \"sent_at\": \"2024-05-01T10:00:00Z\"}}}}, \
             {{\"step\": \"close\", \"outcome\": \"...\"}}"
        ))
    })?;
    blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        check_session_write(&caller, &headers)?;
        let reference = parse_reference(&raw)?;
        // Reading first hides other communities' references from focal points.
        let report = report_for(&*reports.store, &caller.user, &reference)
            .map_err(|e| hide_other_communities(e, &caller, &reference))?;
        let alert = act_on_alert(&*reports.store, &caller.user, &reference, step, now)?;
        Ok(Json(alert_json(&reports, &report, &alert, now)))
    })
    .await?
}

/// What an analyst sends to confirm or correct a report's tags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    dimensions: Vec<String>,
    /// Absent: the themes stay as they are.
    themes: Option<Vec<String>>,
}

/// `POST /api/v1/reports/{ref}/dimensions`: an analyst or admin confirms or
/// corrects a report's dimensions (and themes), e.g.
/// `{"dimensions": ["personal", "political"], "themes": ["armed_conflict"]}`.
/// Stored append-only with who and when; the answer is the stored correction.
pub async fn correct_dimensions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let body = body_or_reason(body, reports.config.max_api_body)?;
    let tags: TagsBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a tag correction: {e}. Send for example \
             {{\"dimensions\": [\"personal\", \"political\"], \"themes\": [\"armed_conflict\"]}} \
             (themes may be left out to keep them)"
        ))
    })?;
    blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        check_session_write(&caller, &headers)?;
        let reference = parse_reference(&raw)?;
        report_for(&*reports.store, &caller.user, &reference)
            .map_err(|e| hide_other_communities(e, &caller, &reference))?;
        let correction = correct_report_tags(
            &*reports.store,
            &state.framework,
            &caller.user,
            &reference,
            tags.dimensions,
            tags.themes,
            now,
        )?;
        Ok(Json(serde_json::to_value(&correction).unwrap_or(Value::Null)))
    })
    .await?
}

/// Alerts the caller may see, with their state; overdue ones first.
pub fn alert_list(
    reports: &Reports,
    caller: &Caller,
    filter: &ReportFilter,
    only_overdue: bool,
    now: Timestamp,
) -> Result<Vec<(Report, Alert)>, ApiError> {
    let list = reports_for(&*reports.store, &caller.user, filter)?;
    let mut pairs = Vec::with_capacity(list.len());
    for r in list {
        let alert = load_alert(&*reports.store, &r)?;
        pairs.push((r, alert));
    }
    let alerts: Vec<Alert> = pairs.iter().map(|(_, a)| a.clone()).collect();
    let queue = overdue_queue(&alerts, &reports.deadlines, now);
    let order: Vec<Reference> = queue.iter().map(|(a, _)| a.reference.clone()).collect();
    let rank = |r: &Reference| order.iter().position(|o| o == r).unwrap_or(usize::MAX);
    pairs.sort_by(|(ra, _), (rb, _)| {
        rank(&ra.reference).cmp(&rank(&rb.reference)).then(rb.received_at.cmp(&ra.received_at))
    });
    if only_overdue {
        pairs.retain(|(r, _)| rank(&r.reference) != usize::MAX);
    }
    Ok(pairs)
}

/// `GET /api/v1/alerts?overdue=true`: the alert queue.
pub async fn alerts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let filter = filter_of(&q)?;
    blocking(move || {
        let now = Timestamp::now();
        let caller = require_caller(&reports, &headers, now)?;
        let mut pairs = alert_list(&reports, &caller, &filter, q.overdue.unwrap_or(false), now)?;
        pairs.truncate(q.limit.unwrap_or(500).min(5_000));
        let items: Vec<Value> = pairs.iter().map(|(r, a)| alert_json(&reports, r, a, now)).collect();
        Ok(Json(json!({ "at": now, "alerts": items })))
    })
    .await?
}

#[derive(Debug, Deserialize)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Alerts received in `from..=to` (months) and their response metrics.
pub fn metrics_between(
    reports: &Reports,
    from: Option<Month>,
    to: Option<Month>,
) -> Result<Vec<ResponseMetrics>, ApiError> {
    let start = |m: Month| jiff::tz::TimeZone::UTC.to_timestamp(m.first_day().at(0, 0, 0, 0)).ok();
    let filter = ReportFilter {
        received_from: from.and_then(start),
        received_until: to.and_then(|m| start(m.succ())),
        ..ReportFilter::default()
    };
    let list = reports.store.reports(&filter).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut alerts = Vec::with_capacity(list.len());
    for r in &list {
        alerts.push(load_alert(&*reports.store, r)?);
    }
    Ok(metrics(&alerts))
}

fn month_param(raw: &Option<String>, name: &str) -> Result<Option<Month>, ApiError> {
    raw.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Month>().map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
        .transpose()
}

/// `GET /api/v1/alerts/metrics?from=YYYY-MM&to=YYYY-MM`: per area and month,
/// times to acknowledge and respond, share responded, share with feedback,
/// as the caller may see them ([`vitalcore_app::disclosure::publish_metrics`]).
pub async fn alert_metrics(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<MetricsQuery>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let (from, to) = (month_param(&q.from, "from")?, month_param(&q.to, "to")?);
    blocking(move || {
        let caller = require_caller(&reports, &headers, Timestamp::now())?;
        authorize(&caller.user, Action::ReadAggregates, Resource::Global)
            .map_err(|d| ApiError::forbidden(d.message))?;
        let rows = publish_metrics(metrics_between(&reports, from, to)?, &Audience::of(Some(&caller.user)));
        Ok(Json(json!({ "from": from, "to": to, "metrics": rows })))
    })
    .await?
}

/// Largest SMS webhook body read (the intake crate refuses above 16 KB with its own reason).
pub const SMS_BODY_LIMIT: usize = 64 * 1024;

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn sms_error(e: SmsError) -> ApiError {
    ApiError::status(e.http_status(), format!("{e}; nothing was stored"))
}

/// Takes an inbound SMS as a report. `Ok(Err(lang))` when the text was not
/// a report (empty): the reporter gets the rejection text, nothing is stored.
fn take_sms(reports: &Reports, sms: &InboundSms) -> Result<Result<(Report, String), String>, ApiError> {
    let draft = sms.to_draft("en");
    let lang = draft.language.clone().unwrap_or_else(|| "en".into());
    if !reports.key_configured {
        return Err(ApiError::unavailable(
            "this server has no contact key, so the sender's number cannot be stored safely: \
             create one with `vitalcore users keygen --out FILE` and start the server with --key-file FILE",
        ));
    }
    let channel = Channel::Sms { gateway: sms.gateway.as_str().to_string() };
    match reports.submit(&draft, channel, Timestamp::now()) {
        Ok(report) => Ok(Ok((report, lang))),
        Err(SubmitError::Invalid(_)) => Ok(Err(lang)),
        Err(SubmitError::Store(e)) => Err(ApiError::internal(e.to_string())),
    }
}

/// `POST /sms/twilio`: Twilio's inbound message webhook; answers TwiML with
/// the reference in the reporter's language. Closed unless the operator
/// configured the account's auth token: every request is then refused (403)
/// before its body is read as a message. With the token, a request must
/// carry a matching `X-Twilio-Signature` (403 otherwise). A message whose
/// `MessageSid` is already stored (Twilio retrying, or a replay) is answered
/// with the first report's reference and stored again nowhere.
pub async fn twilio(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let reports = reports(&state)?;
    let Some(token) = reports.config.twilio_auth_token.clone() else {
        return Err(ApiError::forbidden(format!(
            "SMS through Twilio is closed on this server: no Twilio auth token is configured, so no request can be \
             checked to come from Twilio ({TWILIO_TOKEN_HOW}); nothing was stored"
        )));
    };
    let body = body_or_reason(body, SMS_BODY_LIMIT)?;
    let base = match &reports.config.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{}", headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("")),
    };
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !sms::verify_twilio_signature(token.expose_secret(), &format!("{base}/sms/twilio"), &body, signature) {
        // A body that is not form data cannot be signed: say what is wrong with it.
        sms::parse_form(&body).map_err(sms_error)?;
        return Err(ApiError::forbidden(if signature.is_empty() {
            "the request has no X-Twilio-Signature header; nothing was stored"
        } else {
            "the X-Twilio-Signature does not match this request; nothing was stored"
        }));
    }
    let inbound = sms::parse_twilio(&body).map_err(sms_error)?;
    let outcome = blocking(move || take_sms(&reports, &inbound)).await??;
    Ok(match outcome {
        Ok((report, lang)) => xml(StatusCode::OK, sms::twiml(&sms::receipt_text(&lang, &report.reference))),
        Err(lang) => xml(StatusCode::OK, sms::twiml(&sms::rejection_text(&lang))),
    })
}

/// `POST /sms/rapidpro`: RapidPro/TextIt (flow webhook JSON or external
/// channel form); answers JSON with the reference and the reply text.
/// Closed unless the operator configured a shared secret: every request is
/// then refused (403). With it, a request must carry
/// `Authorization: Token <secret>` (403 otherwise; compared in constant
/// time). A message whose id is already stored is answered with the first
/// report's reference and stored again nowhere.
pub async fn rapidpro(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let reports = reports(&state)?;
    let Some(secret) = reports.config.rapidpro_secret.clone() else {
        return Err(ApiError::forbidden(format!(
            "SMS through RapidPro is closed on this server: no shared secret is configured, so no request can be \
             checked to come from RapidPro ({RAPIDPRO_SECRET_HOW}); nothing was stored"
        )));
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !shared_secret_matches(secret.expose_secret(), authorization) {
        return Err(ApiError::forbidden(
            "the request does not carry this server's RapidPro secret as `Authorization: Token <secret>`; \
             nothing was stored",
        ));
    }
    let body = body_or_reason(body, SMS_BODY_LIMIT)?;
    let inbound = sms::parse_rapidpro(&body).map_err(sms_error)?;
    let outcome = blocking(move || take_sms(&reports, &inbound)).await??;
    Ok(Json(match outcome {
        Ok((report, lang)) => {
            json!({ "reference": report.reference, "message": sms::receipt_text(&lang, &report.reference) })
        }
        Err(lang) => json!({ "reference": null, "message": sms::rejection_text(&lang) }),
    }))
}
