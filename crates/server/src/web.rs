//! Server-rendered HTML for slow links and cheap phones: the public report
//! form (English, French), login/logout, and the staff alert queue. No
//! JavaScript, no external resources, a few kilobytes per page; the
//! templates are in `templates/` ([`crate::html`]).
//!
//! CSRF: every state-changing form carries an HMAC token (OWASP "signed
//! double-submit cookie"): bound to the session when there is one, else to a
//! random `vc_form` cookie set with the page.

use crate::auth::{Caller, FORM_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::ctx::Ctx;
use crate::early_warnings::{self, WarningSection};
use crate::error::{ApiError, PageError};
use crate::html::{page, redirect};
use crate::i18n;
use crate::intake_api::{alert_list, parse_reference, prepare_submission};
use crate::shell::{Section, Shell};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use vitalcore_app::access::act_on_alert;
use vitalcore_app::accounts::{LoginOutcome, SessionPolicy, login};
use vitalcore_app::reports::{Reports, SubmitError};
use vitalcore_intake::messages::{FALLBACK, Messages};
use vitalcore_intake::report::FieldError;
use vitalcore_intake::sms::parse_form;
use vitalcore_intake::workflow::{AlertState, Feedback, Step, StepChannel};
use vitalcore_intake::{Channel, ReportDraft, Urgency};
use vitalcore_security::auth::{Role, Token, TokenHash, TokenKind};
use vitalcore_store::reports::ReportFilter;

/// Largest form body read.
pub const FORM_BODY_LIMIT: usize = 32 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The form's language: `?lang=` when the message table has it (a link
/// to the form in a language), else the page language
/// ([`crate::i18n::language`]: the user's choice, then Accept-Language),
/// when the form's table has it, else English.
fn language(q: &LangQuery, headers: &HeaderMap) -> &'static str {
    let messages = Messages::built_in();
    if let Some(l) = q.lang.as_deref().filter(|l| !l.is_empty()) {
        return messages.language(Some(l));
    }
    messages.known_language(i18n::language(headers)).map(page_lang).unwrap_or(FALLBACK)
}

/// A language both tables have, as the staff table spells it (static).
fn page_lang(code: &str) -> &'static str {
    i18n::messages().languages().find(|l| *l == code).unwrap_or(FALLBACK)
}

/// An interface text of the report form in `lang`, from the message table
/// (`form.*` keys of `vitalcore-intake`'s `data/messages.toml`), built into
/// the binary: the templates insert these as they are.
fn t(lang: &str, key: &str) -> &'static str {
    Messages::built_in().get(lang, &format!("form.{key}")).unwrap_or("")
}

/// The CSRF binding of this browser: its session, else its form cookie
/// (a new one, returned as a cookie to set, when it has none).
fn binding(
    reports: &Reports,
    caller: Option<&Caller>,
    headers: &HeaderMap,
) -> Result<(TokenHash, Vec<String>), ApiError> {
    if let Some(s) = caller.and_then(|c| c.session) {
        return Ok((s, vec![]));
    }
    if let Some(v) = cookie(headers, FORM_COOKIE) {
        return Ok((TokenHash::of(v), vec![]));
    }
    let token = Token::generate(TokenKind::Session).map_err(ApiError::internal)?;
    let value = secrecy::ExposeSecret::expose_secret(&token.secret).to_string();
    Ok((token.hash(), vec![set_cookie(reports, FORM_COOKIE, &value, 8 * 3600)]))
}

/// Checks a posted form's CSRF token against this browser's binding.
pub(crate) fn check_csrf(
    reports: &Reports,
    caller: Option<&Caller>,
    headers: &HeaderMap,
    form: &Form,
) -> Result<(), ApiError> {
    let bound = caller.and_then(|c| c.session).or_else(|| cookie(headers, FORM_COOKIE).map(TokenHash::of)).ok_or_else(
        || {
            ApiError::forbidden(
                "the form's security cookie is missing: enable cookies, reload the page and submit again",
            )
        },
    )?;
    reports.csrf.verify(&bound, form.get("csrf"), Timestamp::now()).map_err(|e| ApiError::forbidden(e.to_string()))
}

/// A decoded form body.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: Result<Bytes, BytesRejection>) -> Result<Form, ApiError> {
        let body = crate::intake_api::body_or_reason(body, FORM_BODY_LIMIT)?;
        if body.is_empty() {
            return Ok(Form(vec![]));
        }
        parse_form(&body).map(Form).map_err(|e| ApiError::bad_request(e.to_string()))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A value as typed, not trimmed (a password).
    pub(crate) fn get_raw(&self, key: &str) -> String {
        self.get(key).unwrap_or("").to_string()
    }

    pub(crate) fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").trim().to_string()
    }

    fn opt(&self, key: &str) -> Option<String> {
        Some(self.text(key)).filter(|s| !s.is_empty())
    }
}

/// The values the form shows again after a failed submission (never the contact).
#[derive(Default)]
struct FormValues {
    text: String,
    place: String,
    lat: String,
    lon: String,
    when: String,
    category: String,
    urgency: String,
}

/// An option of a select list.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The fields the form shows errors next to; errors of any other field are listed on top.
const FIELDS_SHOWN: [&str; 8] =
    ["text", "place_name", "latitude", "longitude", "event_time", "category", "urgency", "contact"];

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportForm<'a> {
    shell: Shell,
    lang: &'a str,
    csrf: &'a str,
    values: &'a FormValues,
    errors: &'a [FieldError],
    categories: Vec<Choice>,
    urgencies: Vec<Choice>,
}

impl ReportForm<'_> {
    fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    /// The messages of `field`'s errors, in the form's language.
    fn errors_for(&self, field: &str) -> Vec<String> {
        self.errors.iter().filter(|e| e.field == field).map(|e| e.describe_in(self.lang)).collect()
    }

    /// The messages of errors of fields the form has no place for.
    fn errors_elsewhere(&self) -> Vec<String> {
        self.errors.iter().filter(|e| !FIELDS_SHOWN.contains(&e.field)).map(|e| e.describe_in(self.lang)).collect()
    }
}

fn report_form<'a>(
    reports: &Reports,
    caller: Option<&Caller>,
    lang: &'static str,
    csrf: &'a str,
    values: &'a FormValues,
    errors: &'a [FieldError],
) -> ReportForm<'a> {
    let categories = reports
        .intake
        .categories
        .categories()
        .iter()
        .map(|c| Choice {
            value: c.id.clone(),
            label: reports.intake.categories.label(&c.id, lang).to_string(),
            selected: c.id == values.category,
        })
        .collect();
    let urgencies = Urgency::ALL
        .iter()
        .map(|u| Choice { value: u.as_str().into(), label: String::new(), selected: u.as_str() == values.urgency })
        .collect();
    ReportForm {
        shell: Shell::new(page_lang(lang), Section::Report, t(lang, "title"), "/report", caller, Some(reports)),
        lang,
        csrf,
        values,
        errors,
        categories,
        urgencies,
    }
}

#[derive(Template)]
#[template(path = "report_received.html")]
struct ReportReceived<'a> {
    shell: Shell,
    lang: &'a str,
    reference: &'a str,
}

impl ReportReceived<'_> {
    fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }
}

/// `GET /report`: the public report form.
pub async fn report_page(ctx: Ctx, Query(q): Query<LangQuery>) -> Result<Response, PageError> {
    let lang = language(&q, ctx.headers());
    let reports = ctx.reports()?;
    let answer = ctx
        .visit(&reports, "form.report", move |service, visit| {
            if service.config.require_login && visit.caller.is_none() {
                return Ok(redirect("/login", vec![]));
            }
            let (bound, cookies) = binding(service, visit.caller.as_ref(), &visit.headers)?;
            let csrf = service.csrf.issue(&bound, visit.now);
            let empty = FormValues::default();
            let form = report_form(service, visit.caller.as_ref(), lang, &csrf, &empty, &[]);
            page(StatusCode::OK, cookies, &form)
        })
        .await?;
    Ok(answer)
}

/// `POST /report`: takes the form; the reference page, or the form again with messages.
pub async fn report_post(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let form = Form::parse(body)?;
    let answer = ctx
        .visit(&reports, "form.submit", move |service, visit| {
            submit_form(service, visit.caller, &visit.headers, &form, visit.now)
        })
        .await?;
    Ok(answer)
}

fn submit_form(
    reports: &Reports,
    caller: Option<Caller>,
    headers: &HeaderMap,
    form: &Form,
    now: Timestamp,
) -> Result<Response, ApiError> {
    let lang = Messages::built_in().language(Some(&form.text("lang")));
    if reports.config.require_login && caller.is_none() {
        return Err(ApiError::unauthorized(t(lang, "login_needed")));
    }
    check_csrf(reports, caller.as_ref(), headers, form)?;
    let values = FormValues {
        text: form.text("text"),
        place: form.text("place"),
        lat: form.text("latitude"),
        lon: form.text("longitude"),
        when: form.text("event_time"),
        category: form.text("category"),
        urgency: form.text("urgency"),
    };
    let mut errors = Vec::new();
    let mut number = |raw: &str, field: &'static str| -> Option<f64> {
        if raw.is_empty() {
            return None;
        }
        match raw.replace(',', ".").parse::<f64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new(field, "invalid.not_a_number", vec![("value", raw.to_string())]));
                None
            }
        }
    };
    let latitude = number(&values.lat, "latitude");
    let longitude = number(&values.lon, "longitude");
    let mut draft = ReportDraft {
        text: values.text.clone(),
        language: Some(lang.to_string()),
        category: Some(values.category.clone()),
        urgency: Some(values.urgency.clone()),
        place_name: Some(values.place.clone()),
        latitude,
        longitude,
        event_time: Some(values.when.clone()),
        contact: form.opt("contact").map(SecretString::from),
        ..ReportDraft::default()
    };
    if let Some(c) = &caller {
        prepare_submission(c, &mut draft)?;
    }
    let rerender = |errors: &[FieldError]| -> Result<Response, ApiError> {
        let (bound, cookies) = binding(reports, caller.as_ref(), headers)?;
        let csrf = reports.csrf.issue(&bound, now);
        let form = report_form(reports, caller.as_ref(), lang, &csrf, &values, errors);
        page(StatusCode::UNPROCESSABLE_ENTITY, cookies, &form)
    };
    if !errors.is_empty() {
        return rerender(&errors);
    }
    match reports.submit(&draft, Channel::WebForm, now) {
        Ok(report) => {
            tracing::info!(reference = %report.reference, "report received");
            let shell = Shell::new(
                page_lang(lang),
                Section::Report,
                t(lang, "thanks"),
                "/report",
                caller.as_ref(),
                Some(reports),
            );
            let received = ReportReceived { shell, lang, reference: report.reference.as_str() };
            page(StatusCode::OK, vec![], &received)
        }
        Err(SubmitError::Invalid(inv)) => rerender(&inv.errors),
        Err(SubmitError::Store(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginForm<'a> {
    shell: Shell,
    csrf: &'a str,
    message: Option<&'a str>,
}

fn login_form<'a>(lang: &'static str, csrf: &'a str, message: Option<&'a str>) -> LoginForm<'a> {
    let shell = Shell::new(lang, Section::Other, i18n::t(lang, "login.title"), "/login", None, None);
    LoginForm { shell, csrf, message }
}

/// `GET /login`.
pub async fn login_page(ctx: Ctx) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    // The login form is bound to the form cookie, never to an old session.
    let (bound, cookies) = binding(&reports, None, ctx.headers())?;
    let csrf = reports.csrf.issue(&bound, Timestamp::now());
    let lang = i18n::language(ctx.headers());
    Ok(page(StatusCode::OK, cookies, &login_form(lang, &csrf, None))?)
}

/// `POST /login`: checks the password (argon2id) and starts a session.
pub async fn login_post(
    ctx: Ctx,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let client = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    let reports = ctx.reports()?;
    let form = Form::parse(body)?;
    let headers = ctx.headers().clone();
    let answer = ctx
        .blocking("login", move || {
            let now = Timestamp::now();
            let lang = i18n::language(&headers);
            check_csrf(&reports, None, &headers, &form)?;
            let username = form.text("username");
            let password = form.get("password").unwrap_or("").to_string();
            let policy = SessionPolicy::of(&reports.config);
            let outcome = login(&*reports.store, &reports.logins, &username, &password, client, &policy, now)
                .map_err(|e| ApiError::status(e.http_status(), e.to_string()))?;
            let refuse = |status: StatusCode, message: &str| -> Result<Response, ApiError> {
                let (bound, cookies) = binding(&reports, None, &headers)?;
                let csrf = reports.csrf.issue(&bound, now);
                page(status, cookies, &login_form(lang, &csrf, Some(message)))
            };
            match outcome {
                LoginOutcome::LoggedIn(new) => {
                    tracing::info!(username = %new.user.username, role = %new.user.role, "login");
                    let value = secrecy::ExposeSecret::expose_secret(&new.token.secret).to_string();
                    let max_age = policy.hours * 3600;
                    // Viewers read published figures only: the map, not the alert queue.
                    let home = if new.user.role == Role::Viewer { "/" } else { "/alerts" };
                    Ok(redirect(home, vec![set_cookie(&reports, SESSION_COOKIE, &value, max_age)]))
                }
                // A disabled account is refused like a wrong password: the
                // answer does not confirm a password to anyone.
                LoginOutcome::Refused { .. } | LoginOutcome::Disabled => {
                    tracing::warn!(username = %username, "login failed");
                    refuse(StatusCode::UNAUTHORIZED, i18n::t(lang, "login.wrong"))
                }
                LoginOutcome::Throttled(wait) => {
                    let secs = wait.retry_after_secs();
                    tracing::warn!(username = %username, retry_after = secs, "login throttled");
                    let message = i18n::tf(lang, "login.throttled", &[("secs", &secs.to_string())]);
                    let mut resp = refuse(StatusCode::TOO_MANY_REQUESTS, &message)?;
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                    Ok(resp)
                }
            }
        })
        .await?;
    Ok(answer)
}

/// `POST /logout`: ends the session (CSRF-checked).
pub async fn logout(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let form = Form::parse(body)?;
    let answer = ctx
        .visit(&reports, "logout", move |service, visit| {
            if let Some(c) = &visit.caller {
                check_csrf(service, Some(c), &visit.headers, &form)?;
                if let Some(s) = c.session {
                    service.store.delete_session(&s)?;
                    tracing::info!(username = %c.user.username, "logout");
                }
            }
            Ok(redirect("/login", vec![set_cookie(service, SESSION_COOKIE, "", 0)]))
        })
        .await?;
    Ok(answer)
}

/// A workflow step's form on the alert page: hidden step, the text inputs
/// (name, hint), and optionally the feedback message with its channel.
struct ActionForm {
    step: &'static str,
    inputs: Vec<(&'static str, &'static str)>,
    feedback: bool,
    feedback_required: bool,
    label: &'static str,
}

/// A step's form in `lang`: `inputs` are (field, hint key of `step.*`); the
/// button is `step.<label>`.
fn action(lang: &str, step: &'static str, inputs: &[(&'static str, &'static str)], label: &'static str) -> ActionForm {
    let inputs = inputs.iter().map(|(name, hint)| (*name, i18n::messages().text(lang, hint))).collect();
    ActionForm { step, inputs, feedback: false, feedback_required: false, label: i18n::messages().text(lang, label) }
}

/// The same with the feedback message (`required` for the Tell form).
fn with_feedback(mut form: ActionForm, required: bool) -> ActionForm {
    form.feedback = true;
    form.feedback_required = required;
    form
}

/// The action forms an alert in `state` offers, in `lang`.
fn actions(lang: &str, state: AlertState) -> Vec<ActionForm> {
    let tell = || with_feedback(action(lang, "feedback", &[], "step.feedback"), true);
    let close = || action(lang, "close", &[("outcome", "step.outcome")], "step.close");
    match state {
        AlertState::New => vec![action(lang, "acknowledge", &[], "step.acknowledge")],
        AlertState::Acknowledged => vec![
            action(lang, "verify", &[("note", "step.how_verified")], "step.verify"),
            action(lang, "unfounded", &[("reason", "step.why_unfounded")], "step.unfounded"),
        ],
        AlertState::Verified => {
            vec![action(lang, "assign", &[("owner", "step.owner"), ("unit", "step.unit")], "step.assign")]
        }
        AlertState::ResponseAssigned => {
            vec![with_feedback(action(lang, "respond", &[("action", "step.action_taken")], "step.respond"), false)]
        }
        AlertState::Responded => vec![
            with_feedback(action(lang, "respond", &[("action", "step.further_action")], "step.respond"), false),
            close(),
            tell(),
        ],
        AlertState::Unfounded => vec![close(), tell()],
        AlertState::Closed => vec![tell()],
    }
}

/// How feedback reaches people (labels are `channel.*`). `sms` queues a
/// message to the reporter (when they left a phone) in the outbox; nothing
/// is sent from the page.
const FEEDBACK_CHANNELS: [&str; 6] = ["sms", "phone", "community_meeting", "radio", "focal_point", "web"];

/// The channel a form names (`web` when it names none, as older pages post).
fn feedback_channel(form: &Form) -> Result<String, ApiError> {
    let raw = form.opt("feedback_channel").unwrap_or_else(|| "web".into());
    match FEEDBACK_CHANNELS.iter().find(|value| **value == raw) {
        Some(value) => Ok(value.to_string()),
        None => Err(ApiError::bad_request(format!("`{raw}` is not a feedback channel"))),
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

/// One community alert on the alert page.
struct AlertRow {
    reference: String,
    received: String,
    area: String,
    text: String,
    category: String,
    urgency: String,
    place: String,
    state: String,
    /// The last step: what, by whom, through which channel.
    last_step: Option<String>,
    overdue: Option<String>,
    actions: Vec<ActionForm>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage<'a> {
    shell: Shell,
    csrf: &'a str,
    /// How many alerts came in the last 30 days (the rows are the first 50).
    summary: String,
    warnings: Option<WarningSection>,
    /// Data freshness per area, when this database synchronises.
    freshness: Option<Vec<crate::freshness::FreshnessRow>>,
    alerts: Vec<AlertRow>,
    /// Feedback channels: (value, label).
    channels: Vec<(&'static str, String)>,
}

/// Rows of community alerts shown.
const ALERTS_SHOWN: usize = 50;

/// `GET /alerts`: the alert queue for staff: the open early warnings (when
/// the server has the forecast store), then community alerts, overdue first
/// (at most 50 rows each).
pub async fn alerts_page(ctx: Ctx) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let forecasts = ctx.state.forecasts.clone();
    let sync = ctx.state.sync.clone();
    let answer = ctx
        .visit(&reports, "alerts.page", move |service, visit| {
            let now = visit.now;
            let Some(caller) = visit.caller else { return Ok(redirect("/login", vec![])) };
            let Some(session) = caller.session else {
                return Err(ApiError::forbidden(
                    "the alert page is for browser sessions; use /api/v1/alerts with a token",
                ));
            };
            // The page shows alerts received in the last 30 days (the API takes any range).
            let since = now.checked_sub(SignedDuration::from_hours(24 * 30)).ok();
            let filter = ReportFilter { received_from: since, ..ReportFilter::default() };
            let pairs = alert_list(service, &caller, &filter, false, now)?;
            let lang = i18n::language(&visit.headers);
            let warnings = match &forecasts {
                Some(store) => Some(early_warnings::section(lang, service, &**store, &caller)?),
                None => None,
            };
            let csrf = service.csrf.issue(&session, now);
            let alerts = pairs
                .iter()
                .take(ALERTS_SHOWN)
                .map(|(report, alert)| AlertRow {
                    reference: report.reference.to_string(),
                    received: report.received_at.strftime("%Y-%m-%d %H:%M").to_string(),
                    area: report.place.area_pcode.clone().unwrap_or_else(|| "-".into()),
                    text: shorten(&report.text, 160),
                    category: report.category.clone().unwrap_or_else(|| "-".into()),
                    urgency: i18n::label(lang, "urgency", report.effective_urgency().as_str()),
                    place: report.place.name.clone().unwrap_or_default(),
                    state: i18n::label(lang, "state", alert.state().as_str()),
                    last_step: alert.steps().last().map(|s| {
                        let user = service.store.user(&s.user_id).ok().flatten().map(|u| u.username);
                        i18n::tf(
                            lang,
                            "alerts.last_step",
                            &[
                                ("step", &i18n::label(lang, "step", s.step.name())),
                                ("user", user.as_deref().unwrap_or(&s.user_id)),
                                ("channel", &i18n::label(lang, "step_channel", s.channel.as_str())),
                            ],
                        )
                    }),
                    overdue: alert.overdue(&service.deadlines, now).map(|o| {
                        i18n::tf(
                            lang,
                            "alerts.overdue",
                            &[("kind", &format!("{:?}", o.kind)), ("level", &o.level.to_string())],
                        )
                    }),
                    actions: actions(lang, alert.state()),
                })
                .collect();
            let freshness = match &sync {
                Some(store) => {
                    let areas: Vec<String> = pairs
                        .iter()
                        .take(ALERTS_SHOWN)
                        .filter_map(|(report, _)| report.place.area_pcode.clone())
                        .collect();
                    crate::freshness::section(lang, &**store, &areas, now)?
                }
                None => None,
            };
            let shown = pairs.len().min(ALERTS_SHOWN).to_string();
            let summary = i18n::tf(lang, "alerts.received", &[("n", &pairs.len().to_string()), ("shown", &shown)]);
            let shell = Shell::new(
                lang,
                Section::Alerts,
                i18n::t(lang, "alerts.title"),
                "/alerts",
                Some(&caller),
                Some(service),
            );
            let channels = FEEDBACK_CHANNELS.iter().map(|c| (*c, i18n::label(lang, "channel", c))).collect();
            let view = AlertsPage { shell, csrf: &csrf, summary, warnings, freshness, alerts, channels };
            page(StatusCode::OK, vec![], &view)
        })
        .await?;
    Ok(answer)
}

/// `POST /alerts/{ref}/step`: one workflow step from the alert page.
pub async fn alert_step(
    ctx: Ctx,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let form = Form::parse(body)?;
    let answer = ctx
        .visit(&reports, "alerts.step", move |service, visit| {
            let caller = visit.caller.ok_or_else(|| ApiError::unauthorized("log in first"))?;
            check_csrf(service, Some(&caller), &visit.headers, &form)?;
            let reference = parse_reference(&raw)?;
            let step = form_step(&form, visit.now)?;
            // Another community's reference is answered as an unknown one (same status, same body).
            vitalcore_app::access::report_for(&*service.store, &caller.user, &reference)
                .map_err(|e| crate::intake_api::hide_other_communities(e, &caller, &reference))?;
            act_on_alert(&*service.store, &caller.user, &reference, step, visit.now, StepChannel::Web)?;
            Ok(redirect("/alerts", vec![]))
        })
        .await?;
    Ok(answer)
}

fn form_step(form: &Form, now: Timestamp) -> Result<Step, ApiError> {
    Ok(match form.text("step").as_str() {
        "acknowledge" => Step::Acknowledge,
        "verify" => Step::Verify { note: form.text("note") },
        "unfounded" => Step::MarkUnfounded { reason: form.text("reason") },
        "assign" => Step::Assign { owner: form.text("owner"), unit: form.text("unit") },
        "respond" => {
            let channel = feedback_channel(form)?;
            Step::Respond {
                action: form.text("action"),
                feedback: form.opt("feedback").map(|message| Feedback { message, channel, sent_at: now }),
            }
        }
        "feedback" => Step::GiveFeedback {
            feedback: Feedback { message: form.text("feedback"), channel: feedback_channel(form)?, sent_at: now },
        },
        "close" => Step::Close { outcome: form.text("outcome") },
        other => return Err(ApiError::bad_request(format!("`{other}` is not a workflow step"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn lang_of(query: Option<&str>, accept: Option<&str>) -> &'static str {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(a).unwrap());
        }
        language(&LangQuery { lang: query.map(str::to_string) }, &headers)
    }

    #[test]
    fn the_form_speaks_the_first_language_the_message_table_has() {
        assert_eq!(lang_of(Some("fr"), Some("en")), "fr", "the link wins");
        assert_eq!(lang_of(Some("sg"), Some("fr")), "en", "a language the table lacks is English");
        assert_eq!(lang_of(None, Some("fr-CF,fr;q=0.9,en;q=0.5")), "fr");
        assert_eq!(lang_of(None, Some("en-US,fr;q=0.5")), "en");
        assert_eq!(lang_of(None, Some("sg, fr;q=0.8")), "fr", "Sango has no table yet: the next choice");
        assert_eq!(lang_of(None, None), "en");
    }

    /// The form as rendered for `lang` with `errors`.
    fn rendered(lang: &'static str, errors: &[FieldError]) -> String {
        let values = FormValues::default();
        let form = ReportForm {
            shell: Shell::new(lang, Section::Report, t(lang, "title"), "/report", None, None),
            lang,
            csrf: "c",
            values: &values,
            errors,
            categories: vec![],
            urgencies: vec![],
        };
        form.render().unwrap()
    }

    #[test]
    fn form_texts_and_errors_come_from_the_message_table_in_the_forms_language() {
        assert_eq!(t("fr", "send"), "Envoyer");
        assert_eq!(t("en", "send"), "Send");
        assert_eq!(t("sg", "send"), "Send", "English for a language without a table");
        let e = FieldError::new("longitude", "invalid.longitude_missing", vec![]);
        let fr = rendered("fr", std::slice::from_ref(&e));
        assert!(fr.contains("<div class=\"err\">Longitude : manque alors que la latitude est donnée</div>"), "{fr}");
        let en = rendered("en", std::slice::from_ref(&e));
        assert!(en.contains("<div class=\"err\">Longitude: is missing while latitude is given</div>"), "{en}");
        assert!(en.contains("<a href=\"/lang/fr?back=/report\" lang=\"fr\" hreflang=\"fr\">Français</a>"), "{en}");
        assert!(fr.contains("<a href=\"/report\" aria-current=\"page\">Nouveau signalement</a>"), "{fr}");
    }

    #[test]
    fn what_a_reporter_typed_is_escaped_and_the_page_has_no_inline_script_or_style() {
        let values = FormValues {
            text: "</textarea><script>alert(1)</script>".into(),
            place: "\" onfocus=\"alert(1)".into(),
            lat: "'x'".into(),
            ..FormValues::default()
        };
        let error = FieldError::new("text", "invalid.not_a_number", vec![("value", "<b>&".to_string())]);
        let form = ReportForm {
            shell: Shell::new("en", Section::Report, "<t>", "/report", None, None),
            lang: "en",
            csrf: "\"><x",
            values: &values,
            errors: std::slice::from_ref(&error),
            categories: vec![Choice { value: "a\"b".into(), label: "<i>".into(), selected: true }],
            urgencies: vec![],
        };
        let page = form.render().unwrap();
        assert!(page.contains("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>"), "{page}");
        assert!(page.contains("value=\"&quot; onfocus=&quot;alert(1)\""), "{page}");
        assert!(page.contains("value=\"&#39;x&#39;\""), "{page}");
        assert!(page.contains("value=\"&quot;&gt;&lt;x\""), "{page}");
        assert!(page.contains("<option value=\"a&quot;b\" selected>&lt;i&gt;</option>"), "{page}");
        assert!(page.contains("&lt;b&gt;&amp;"), "{page}");
        assert!(!page.contains("<script") && !page.contains("style="), "{page}");
    }
}
