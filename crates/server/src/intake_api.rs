//! JSON API for reports and alerts, and the SMS gateway webhooks.

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use vitalcore_app::access::{
    AccessError, act_on_alert, correct_report_tags, load_alert, report_for, reports_for, reveal_contact,
};
use vitalcore_app::disclosure::{Audience, publish_metrics};
use vitalcore_app::reports::{RAPIDPRO_SECRET_HOW, Reports, SubmitError, TWILIO_TOKEN_HOW};
use vitalcore_framework::{Month, Tags};
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::sms::{self, InboundSms, SmsError};
use vitalcore_intake::workflow::{
    Alert, AlertState, AlertStatus, Overdue, ResponseMetrics, Step, StepChannel, StepRecord, metrics, overdue_queue,
};
use vitalcore_intake::{Channel, Reference, Report, ReportDraft, Urgency};
use vitalcore_proto::api::{
    AlertQueue, FieldProblem, ReportList, ReportView, ReportWithAlert, RevealedContact, SmsReply, Submitted,
    TagCorrectionRequest,
};
use vitalcore_security::auth::{Action, Resource, Role, authorize};
use vitalcore_security::crypto::ContactRead;
use vitalcore_security::webhook::shared_secret_matches;
use vitalcore_store::reports::{ReportFilter, TagCorrection};

/// An alert as the API shows it.
pub type AlertJson = vitalcore_proto::api::AlertView<Urgency, AlertState, AlertStatus, Overdue, StepRecord>;

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
            tracing::warn!(reference = %reference, "refused: a report of another community (answered as not found)");
            ApiError::not_found(format!("report {reference} not found"))
        }
        e => e.into(),
    }
}

pub(crate) fn parse_reference(raw: &str) -> Result<Reference, ApiError> {
    raw.parse().map_err(|e: vitalcore_intake::report::BadReference| ApiError::not_found(e.to_string()))
}

fn invalid_to_api(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Invalid(inv) => {
            let fields = inv
                .errors
                .iter()
                .map(|f| FieldProblem { field: f.field.into(), code: f.code.into(), message: f.message.clone() })
                .collect();
            ApiError::unprocessable(inv.to_string(), fields)
        }
        SubmitError::Store(s) => s.into(),
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

fn report_view(report: Report) -> ReportView<Report> {
    let has_contact = report.contact.is_some();
    ReportView { report, has_contact }
}

/// `POST /api/v1/reports`: a partner system submits one report (JSON).
pub async fn submit(
    ctx: Ctx,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Submitted<Tags, DuplicateLink>>), ApiError> {
    let reports = ctx.reports()?;
    let body = body_or_reason(body, reports.config.max_api_body)?;
    let mut draft: ReportDraft = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a report in JSON: {e}; nothing was stored")))?;
    let report = ctx
        .signed_in(&reports, "reports.submit", move |service, call| {
            call.check_api_write()?;
            prepare_submission(&call.caller, &mut draft)?;
            let channel = match &call.caller.partner {
                Some(p) => Channel::Api { partner: p.clone() },
                None => Channel::WebForm,
            };
            service.submit(&draft, channel, call.now).map_err(invalid_to_api)
        })
        .await?;
    tracing::info!(reference = %report.reference, "report received");
    let submitted = Submitted {
        reference: report.reference.to_string(),
        area_pcode: report.place.area_pcode,
        received_at: report.received_at.to_string(),
        tags: report.tags,
        duplicates: report.duplicates,
    };
    Ok((StatusCode::CREATED, Json(submitted)))
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
pub async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Json<ReportList<Report>>, ApiError> {
    let reports = ctx.reports()?;
    let filter = filter_of(&q)?;
    let list = ctx
        .signed_in(&reports, "reports.list", move |service, call| {
            let mut list = reports_for(&*service.store, &call.caller.user, &filter)?;
            let total = list.len();
            list.reverse(); // newest first
            list.truncate(q.limit.unwrap_or(500).min(5_000));
            Ok(ReportList { total, reports: list.into_iter().map(report_view).collect() })
        })
        .await?;
    Ok(Json(list))
}

/// The alert of a report, with its deadline state at `now`.
fn alert_view(reports: &Reports, report: &Report, alert: &Alert, now: Timestamp) -> AlertJson {
    AlertJson {
        reference: report.reference.to_string(),
        area_pcode: report.place.area_pcode.clone(),
        category: report.category.clone(),
        urgency: report.effective_urgency(),
        received_at: report.received_at.to_string(),
        state: alert.state(),
        status: alert.status().clone(),
        overdue: alert.overdue(&reports.deadlines, now),
        steps: alert.steps().to_vec(),
    }
}

/// `GET /api/v1/reports/{ref}`: one report with its alert.
pub async fn show(ctx: Ctx, Path(raw): Path<String>) -> Result<Json<ReportWithAlert<Report, AlertJson>>, ApiError> {
    let reports = ctx.reports()?;
    let shown = ctx
        .signed_in(&reports, "reports.show", move |service, call| {
            let reference = parse_reference(&raw)?;
            let report = report_for(&*service.store, &call.caller.user, &reference)
                .map_err(|e| hide_other_communities(e, &call.caller, &reference))?;
            let alert = load_alert(&*service.store, &report)?;
            let alert = alert_view(service, &report, &alert, call.now);
            Ok(ReportWithAlert { view: report_view(report), alert })
        })
        .await?;
    Ok(Json(shown))
}

#[derive(Debug, Deserialize)]
pub struct ContactQuery {
    purpose: Option<String>,
}

/// `GET /api/v1/reports/{ref}/contact?purpose=...`: the reporter's contact,
/// for roles allowed to read it; the read is in the audit log before the
/// answer is sent.
pub async fn contact(
    ctx: Ctx,
    Path(raw): Path<String>,
    Query(q): Query<ContactQuery>,
) -> Result<Json<RevealedContact<ContactRead>>, ApiError> {
    let reports = ctx.reports()?;
    if !reports.key_configured {
        return Err(ApiError::unavailable("this server has no contact key (start it with --key-file FILE)"));
    }
    let revealed = ctx
        .signed_in(&reports, "reports.reveal_contact", move |service, call| {
            let reference = parse_reference(&raw)?;
            let purpose = q.purpose.unwrap_or_default();
            let revealed = reveal_contact(
                &*service.store,
                service.intake.key(),
                &call.caller.user,
                &reference,
                &purpose,
                call.now,
            )
            .map_err(|e| hide_other_communities(e, &call.caller, &reference))?;
            // Who read which report's contact; never the contact or the purpose's words.
            tracing::info!(reference = %reference, "contact read");
            Ok(RevealedContact {
                reference: reference.to_string(),
                contact: revealed.contact.expose_secret().to_string(),
                read: revealed.audit,
            })
        })
        .await?;
    Ok(Json(revealed))
}

/// `POST /api/v1/alerts/{ref}/steps`: one workflow step, e.g.
/// `{"step": "assign", "owner": "...", "unit": "..."}`.
pub async fn step(
    ctx: Ctx,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AlertJson>, ApiError> {
    let reports = ctx.reports()?;
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
    let alert = ctx
        .signed_in(&reports, "alerts.step", move |service, call| {
            call.check_api_write()?;
            let reference = parse_reference(&raw)?;
            // Reading first hides other communities' references from focal points.
            let report = report_for(&*service.store, &call.caller.user, &reference)
                .map_err(|e| hide_other_communities(e, &call.caller, &reference))?;
            let alert = act_on_alert(&*service.store, &call.caller.user, &reference, step, call.now, StepChannel::Api)?;
            Ok(alert_view(service, &report, &alert, call.now))
        })
        .await?;
    Ok(Json(alert))
}

/// `POST /api/v1/reports/{ref}/dimensions`: an analyst or admin confirms or
/// corrects a report's dimensions (and themes), e.g.
/// `{"dimensions": ["personal", "political"], "themes": ["armed_conflict"]}`.
/// Stored append-only with who and when; the answer is the stored correction.
pub async fn correct_dimensions(
    ctx: Ctx,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TagCorrection>, ApiError> {
    let reports = ctx.reports()?;
    let body = body_or_reason(body, reports.config.max_api_body)?;
    let tags: TagCorrectionRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a tag correction: {e}. Send for example \
             {{\"dimensions\": [\"personal\", \"political\"], \"themes\": [\"armed_conflict\"]}} \
             (themes may be left out to keep them)"
        ))
    })?;
    let framework = ctx.state.framework.clone();
    let correction = ctx
        .signed_in(&reports, "reports.correct_tags", move |service, call| {
            call.check_api_write()?;
            let reference = parse_reference(&raw)?;
            report_for(&*service.store, &call.caller.user, &reference)
                .map_err(|e| hide_other_communities(e, &call.caller, &reference))?;
            Ok(correct_report_tags(
                &*service.store,
                &framework,
                &call.caller.user,
                &reference,
                tags.dimensions,
                tags.themes,
                call.now,
            )?)
        })
        .await?;
    Ok(Json(correction))
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
pub async fn alerts(ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Json<AlertQueue<AlertJson>>, ApiError> {
    let reports = ctx.reports()?;
    let filter = filter_of(&q)?;
    let queue = ctx
        .signed_in(&reports, "alerts.list", move |service, call| {
            let mut pairs = alert_list(service, &call.caller, &filter, q.overdue.unwrap_or(false), call.now)?;
            pairs.truncate(q.limit.unwrap_or(500).min(5_000));
            let alerts = pairs.iter().map(|(r, a)| alert_view(service, r, a, call.now)).collect();
            Ok(AlertQueue { at: call.now.to_string(), alerts })
        })
        .await?;
    Ok(Json(queue))
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
    let list = reports.store.reports(&filter)?;
    let mut alerts = Vec::with_capacity(list.len());
    for r in &list {
        alerts.push(load_alert(&*reports.store, r)?);
    }
    Ok(metrics(&alerts))
}

/// `GET /api/v1/alerts/metrics?from=YYYY-MM&to=YYYY-MM`: per area and month,
/// times to acknowledge and respond, share responded, share with feedback,
/// as the caller may see them ([`vitalcore_app::disclosure::publish_metrics`]).
pub async fn alert_metrics(ctx: Ctx, Query(q): Query<MetricsQuery>) -> Result<Json<Value>, ApiError> {
    let reports = ctx.reports()?;
    let (from, to) = (crate::api::parse_month(&q.from, "from")?, crate::api::parse_month(&q.to, "to")?);
    let rows = ctx
        .signed_in(&reports, "alerts.metrics", move |service, call| {
            authorize(&call.caller.user, Action::ReadAggregates, Resource::Global)
                .map_err(|d| ApiError::forbidden(d.message))?;
            Ok(publish_metrics(metrics_between(service, from, to)?, &Audience::of(Some(&call.caller.user))))
        })
        .await?;
    Ok(Json(json!({ "from": from, "to": to, "metrics": rows })))
}

/// Largest SMS webhook body read (the intake crate refuses above 16 KB with its own reason).
pub const SMS_BODY_LIMIT: usize = 64 * 1024;

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn sms_error(e: SmsError) -> ApiError {
    ApiError::status(e.http_status(), format!("{e}; nothing was stored"))
}

/// What an inbound SMS became.
enum Taken {
    /// A report: its reference goes back in the reporter's language.
    Report(Box<Report>, String),
    /// Not a report (empty): the rejection text in this language; nothing stored.
    Rejected(String),
    /// `ACK <reference>` from a staff member's registered phone: the
    /// confirmation (or why not) goes back; no report is stored.
    Staff(String),
}

/// Takes an inbound SMS: an `ACK <reference>` from a staff member's
/// registered phone acknowledges that alert as them
/// ([`vitalcore_app::notify::ack_by_sms`]); anything else is a report.
fn take_sms(reports: &Reports, sms: &InboundSms) -> Result<Taken, ApiError> {
    let acked =
        vitalcore_app::notify::ack_by_sms(&*reports.store, sms.from.expose_secret(), &sms.body, Timestamp::now())
            .map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(reply) = acked {
        let text = match reply {
            vitalcore_app::notify::AckReply::Done(t) => {
                tracing::info!(gateway = sms.gateway.as_str(), "alert acknowledged by SMS");
                t
            }
            vitalcore_app::notify::AckReply::Refused(t) => t,
        };
        return Ok(Taken::Staff(text));
    }
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
        Ok(report) => {
            tracing::info!(reference = %report.reference, gateway = sms.gateway.as_str(), "SMS report received");
            Ok(Taken::Report(Box::new(report), lang))
        }
        Err(SubmitError::Invalid(_)) => Ok(Taken::Rejected(lang)),
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}

/// `POST /sms/twilio`: Twilio's inbound message webhook; answers TwiML with
/// the reference in the reporter's language. Closed unless the operator
/// configured the account's auth token: every request is then refused (403)
/// before its body is read as a message. With the token, a request must
/// carry a matching `X-Twilio-Signature` (403 otherwise). A message whose
/// `MessageSid` is already stored (Twilio retrying, or a replay) is answered
/// with the first report's reference and stored again nowhere.
pub async fn twilio(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let reports = ctx.reports()?;
    let Some(token) = reports.config.twilio_auth_token.clone() else {
        return Err(ApiError::forbidden(format!(
            "SMS through Twilio is closed on this server: no Twilio auth token is configured, so no request can be \
             checked to come from Twilio ({TWILIO_TOKEN_HOW}); nothing was stored"
        )));
    };
    let body = body_or_reason(body, SMS_BODY_LIMIT)?;
    let base = match &reports.config.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{}", ctx.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("")),
    };
    let signature = ctx.headers().get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
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
    let outcome = ctx.blocking("sms.twilio", move || take_sms(&reports, &inbound)).await?;
    Ok(match outcome {
        Taken::Report(report, lang) => xml(StatusCode::OK, sms::twiml(&sms::receipt_text(&lang, &report.reference))),
        Taken::Rejected(lang) => xml(StatusCode::OK, sms::twiml(&sms::rejection_text(&lang))),
        Taken::Staff(text) => xml(StatusCode::OK, sms::twiml(&text)),
    })
}

/// `POST /sms/rapidpro`: RapidPro/TextIt (flow webhook JSON or external
/// channel form); answers JSON with the reference and the reply text.
/// Closed unless the operator configured a shared secret: every request is
/// then refused (403). With it, a request must carry
/// `Authorization: Token <secret>` (403 otherwise; compared in constant
/// time). A message whose id is already stored is answered with the first
/// report's reference and stored again nowhere.
pub async fn rapidpro(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Json<SmsReply>, ApiError> {
    let reports = ctx.reports()?;
    let Some(secret) = reports.config.rapidpro_secret.clone() else {
        return Err(ApiError::forbidden(format!(
            "SMS through RapidPro is closed on this server: no shared secret is configured, so no request can be \
             checked to come from RapidPro ({RAPIDPRO_SECRET_HOW}); nothing was stored"
        )));
    };
    let authorization = ctx.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !shared_secret_matches(secret.expose_secret(), authorization) {
        return Err(ApiError::forbidden(
            "the request does not carry this server's RapidPro secret as `Authorization: Token <secret>`; \
             nothing was stored",
        ));
    }
    let body = body_or_reason(body, SMS_BODY_LIMIT)?;
    let inbound = sms::parse_rapidpro(&body).map_err(sms_error)?;
    let outcome = ctx.blocking("sms.rapidpro", move || take_sms(&reports, &inbound)).await?;
    Ok(Json(match outcome {
        Taken::Report(report, lang) => SmsReply {
            reference: Some(report.reference.to_string()),
            message: sms::receipt_text(&lang, &report.reference),
        },
        Taken::Rejected(lang) => SmsReply { reference: None, message: sms::rejection_text(&lang) },
        Taken::Staff(text) => SmsReply { reference: None, message: text },
    }))
}
