//! Server-rendered HTML for slow links and cheap phones: the public report
//! form (English, French), login/logout, and the staff alert queue. No
//! JavaScript, no external resources, a few kilobytes per page.
//!
//! CSRF: every state-changing form carries an HMAC token (OWASP "signed
//! double-submit cookie"): bound to the session when there is one, else to a
//! random `vc_form` cookie set with the page.

use crate::auth::{Caller, FORM_COOKIE, SESSION_COOKIE, blocking, caller, cookie, reports, set_cookie};
use crate::early_warnings::{self, counts, open_warnings};
use crate::error::ApiError;
use crate::intake_api::{alert_list, prepare_submission};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;
use vitalcore_app::access::act_on_alert;
use vitalcore_app::reports::{Reports, SubmitError};
use vitalcore_intake::messages::{FALLBACK, Messages};
use vitalcore_intake::report::FieldError;
use vitalcore_intake::sms::parse_form;
use vitalcore_intake::workflow::{AlertState, Feedback, Step};
use vitalcore_intake::{Channel, Reference, ReportDraft, Urgency};
use vitalcore_security::auth::{Session, Token, TokenHash, TokenKind, verify_password};
use vitalcore_store::reports::ReportFilter;

/// Largest form body read.
pub const FORM_BODY_LIMIT: usize = 32 * 1024;

const STYLE: &str = "body{font:16px sans-serif;max-width:40em;margin:0 auto;padding:.5em}\
label{display:block;margin-top:.7em;font-weight:bold}input,select,textarea{width:100%;box-sizing:border-box;font-size:1em}\
.err{color:#b00020}.ok{background:#e6f4ea;padding:.5em}.ref{font-size:1.6em;font-weight:bold}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}\
form.i{display:inline}.late{color:#b00020;font-weight:bold}button{font-size:1em;margin-top:.5em}\
tr.ew td:first-child{border-left:4px solid #e37400}.ewk{font-weight:bold;color:#8a4b00}.ewn{margin-top:.3em;font-size:.9em}";

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The form's language: `?lang=` when the message table has it, else the
/// first language of Accept-Language it has, else English.
fn language(q: &LangQuery, headers: &HeaderMap) -> &'static str {
    let messages = Messages::built_in();
    if let Some(l) = q.lang.as_deref().filter(|l| !l.is_empty()) {
        return messages.language(Some(l));
    }
    let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    accepted.split(',').find_map(|tag| messages.known_language(tag.split(';').next().unwrap_or(""))).unwrap_or(FALLBACK)
}

/// An interface text of the report form in `lang`, from the message table
/// (`form.*` keys of `vitalcore-intake`'s `data/messages.toml`).
fn t(lang: &str, key: &str) -> &'static str {
    Messages::built_in().get(lang, &format!("form.{key}")).unwrap_or("")
}

/// A validation error as the form shows it: the field's name and the
/// message, in the form's language.
fn field_error(lang: &str, e: &FieldError) -> String {
    format!("<div class=\"err\">{}</div>", esc(&e.describe_in(lang)))
}

/// Links to the form in the table's other languages, each named in itself.
fn language_links(lang: &str) -> String {
    let messages = Messages::built_in();
    messages
        .languages()
        .filter(|l| *l != lang)
        .map(|l| format!("<a href=\"/report?lang={l}\" lang=\"{l}\">{}</a>", esc(t(l, "language_name"))))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

fn html(status: StatusCode, cookies: Vec<String>, body: String) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn redirect(to: &str, cookies: Vec<String>) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    resp.headers_mut().insert(header::LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
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
    let token = Token::generate(TokenKind::Session).map_err(|e| ApiError::internal(e.to_string()))?;
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

    pub(crate) fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").trim().to_string()
    }

    fn opt(&self, key: &str) -> Option<String> {
        Some(self.text(key)).filter(|s| !s.is_empty())
    }
}

pub(crate) fn error_page(e: ApiError) -> Response {
    let body = page(
        "en",
        "Error",
        &format!(
            "<h1>{}</h1><p class=\"err\">{}</p><p><a href=\"javascript:history.back()\">Back</a></p>",
            e.status.as_u16(),
            esc(&e.reason)
        ),
    );
    html(e.status, vec![], body)
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

fn report_form(reports: &Reports, lang: &str, csrf: &str, values: &FormValues, errors: &[FieldError]) -> String {
    let err_for = |fields: &[&str]| -> String {
        errors.iter().filter(|e| fields.contains(&e.field)).map(|e| field_error(lang, e)).collect()
    };
    let mut b = String::with_capacity(4096);
    let _ = write!(b, "<p>{}</p><h1>{}</h1>", language_links(lang), t(lang, "title"));
    if !errors.is_empty() {
        let _ = write!(b, "<p class=\"err\">{}</p>", t(lang, "fix"));
        let shown = ["text", "place_name", "latitude", "longitude", "event_time", "category", "urgency", "contact"];
        for e in errors.iter().filter(|e| !shown.contains(&e.field)) {
            b.push_str(&field_error(lang, e));
        }
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/report\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label for=\"text\">{}</label>{}<textarea id=\"text\" name=\"text\" rows=\"5\" maxlength=\"5000\" required>{}</textarea>\
         <label for=\"place\">{}</label>{}<input id=\"place\" name=\"place\" maxlength=\"200\" value=\"{}\">\
         <label for=\"lat\">{}</label>{}<input id=\"lat\" name=\"latitude\" inputmode=\"decimal\" value=\"{}\">\
         <label for=\"lon\">{}</label>{}<input id=\"lon\" name=\"longitude\" inputmode=\"decimal\" value=\"{}\">\
         <label for=\"when\">{}</label>{}<input id=\"when\" name=\"event_time\" type=\"date\" value=\"{}\">\
         <label for=\"cat\">{}</label>{}<select id=\"cat\" name=\"category\"><option value=\"\">{}</option>",
        esc(csrf),
        t(lang, "text"),
        err_for(&["text"]),
        esc(&values.text),
        t(lang, "place"),
        err_for(&["place_name"]),
        esc(&values.place),
        t(lang, "lat"),
        err_for(&["latitude"]),
        esc(&values.lat),
        t(lang, "lon"),
        err_for(&["longitude"]),
        esc(&values.lon),
        t(lang, "when"),
        err_for(&["event_time"]),
        esc(&values.when),
        t(lang, "category"),
        err_for(&["category"]),
        t(lang, "choose"),
    );
    for c in reports.intake.categories.categories() {
        let selected = if c.id == values.category { " selected" } else { "" };
        let _ = write!(
            b,
            "<option value=\"{}\"{selected}>{}</option>",
            esc(&c.id),
            esc(reports.intake.categories.label(&c.id, lang))
        );
    }
    let _ = write!(
        b,
        "</select><label for=\"urg\">{}</label>{}<select id=\"urg\" name=\"urgency\"><option value=\"\">{}</option>",
        t(lang, "urgency"),
        err_for(&["urgency"]),
        t(lang, "choose")
    );
    for u in Urgency::ALL {
        let selected = if u.as_str() == values.urgency { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{}\"{selected}>{}</option>", u.as_str(), t(lang, u.as_str()));
    }
    let _ = write!(
        b,
        "</select><label for=\"contact\">{}</label>{}<input id=\"contact\" name=\"contact\" maxlength=\"200\" autocomplete=\"tel\">\
         <button type=\"submit\">{}</button></form>",
        t(lang, "contact"),
        err_for(&["contact"]),
        t(lang, "send")
    );
    page(lang, t(lang, "title"), &b)
}

/// `GET /report`: the public report form.
pub async fn report_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = language(&q, &headers);
    let result = async {
        let reports = reports(&state)?;
        blocking(move || {
            let caller = caller(&reports, &headers, Timestamp::now())?;
            if reports.config.require_login && caller.is_none() {
                return Ok(redirect("/login", vec![]));
            }
            let (bound, cookies) = binding(&reports, caller.as_ref(), &headers)?;
            let csrf = reports.csrf.issue(&bound, Timestamp::now());
            Ok(html(StatusCode::OK, cookies, report_form(&reports, lang, &csrf, &FormValues::default(), &[])))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

/// `POST /report`: takes the form; the reference page, or the form again with messages.
pub async fn report_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let form = Form::parse(body)?;
        blocking(move || submit_form(&reports, &headers, &form)).await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

fn submit_form(reports: &Reports, headers: &HeaderMap, form: &Form) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let lang = Messages::built_in().language(Some(&form.text("lang")));
    let caller = caller(reports, headers, now)?;
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
        Ok(html(StatusCode::UNPROCESSABLE_ENTITY, cookies, report_form(reports, lang, &csrf, &values, errors)))
    };
    if !errors.is_empty() {
        return rerender(&errors);
    }
    match reports.submit(&draft, Channel::WebForm, now) {
        Ok(report) => {
            let body = format!(
                "<div class=\"ok\"><p>{}</p><p>{}</p><p class=\"ref\">{}</p><p>{}</p></div><p><a href=\"/report?lang={lang}\">{}</a></p>",
                t(lang, "thanks"),
                t(lang, "yourref"),
                esc(report.reference.as_str()),
                t(lang, "quote"),
                t(lang, "another")
            );
            Ok(html(StatusCode::OK, vec![], page(lang, t(lang, "thanks"), &body)))
        }
        Err(SubmitError::Invalid(inv)) => rerender(&inv.errors),
        Err(SubmitError::Store(e)) => Err(ApiError::internal(e.to_string())),
    }
}

fn login_form(csrf: &str, message: Option<&str>) -> String {
    let msg = message.map(|m| format!("<p class=\"err\">{}</p>", esc(m))).unwrap_or_default();
    page(
        "en",
        "Log in",
        &format!(
            "<h1>Log in</h1>{msg}<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"u\">User name</label><input id=\"u\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"p\">Password</label><input id=\"p\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Log in</button></form><p><a href=\"/report\">Report an incident</a></p>",
            esc(csrf)
        ),
    )
}

/// `GET /login`.
pub async fn login_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let result = async {
        let reports = reports(&state)?;
        // The login form is bound to the form cookie, never to an old session.
        let (bound, cookies) = binding(&reports, None, &headers)?;
        let csrf = reports.csrf.issue(&bound, Timestamp::now());
        Ok::<_, ApiError>(html(StatusCode::OK, cookies, login_form(&csrf, None)))
    }
    .await;
    result.unwrap_or_else(error_page)
}

/// A hash to check unknown user names against.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| vitalcore_security::auth::hash_password("not a password of anyone").unwrap_or_default())
}

/// `POST /login`: checks the password (argon2id) and starts a session.
pub async fn login_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let form = Form::parse(body)?;
        blocking(move || {
            let now = Timestamp::now();
            check_csrf(&reports, None, &headers, &form)?;
            let username = form.text("username");
            let password = form.get("password").unwrap_or("").to_string();
            let user = reports.store.user_by_username(&username).map_err(|e| ApiError::internal(e.to_string()))?;
            let ok = match &user {
                Some(u) if u.active => verify_password(&password, &u.password_hash).unwrap_or(false),
                _ => {
                    // Same work whether or not the name exists, so timing does not tell.
                    let _ = verify_password(&password, dummy_hash());
                    false
                }
            };
            let Some(user) = user.filter(|_| ok) else {
                vitalcore_app::audit::record_login_failed(&*reports.store, &username, now)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                let (bound, cookies) = binding(&reports, None, &headers)?;
                let csrf = reports.csrf.issue(&bound, now);
                return Ok(html(
                    StatusCode::UNAUTHORIZED,
                    cookies,
                    login_form(&csrf, Some("Wrong user name or password.")),
                ));
            };
            let token = Token::generate(TokenKind::Session).map_err(|e| ApiError::internal(e.to_string()))?;
            let hours = reports.config.session_hours;
            let session = Session {
                token_hash: token.hash(),
                user_id: user.id.clone(),
                created_at: now,
                expires_at: now.checked_add(SignedDuration::from_hours(hours)).unwrap_or(now),
            };
            reports.store.save_session(&session).map_err(|e| ApiError::internal(e.to_string()))?;
            vitalcore_app::audit::record_login(&*reports.store, &user, now)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let value = secrecy::ExposeSecret::expose_secret(&token.secret).to_string();
            Ok(redirect("/alerts", vec![set_cookie(&reports, SESSION_COOKIE, &value, hours * 3600)]))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

/// `POST /logout`: ends the session (CSRF-checked).
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let form = Form::parse(body)?;
        blocking(move || {
            let caller = caller(&reports, &headers, Timestamp::now())?;
            if let Some(c) = &caller {
                check_csrf(&reports, Some(c), &headers, &form)?;
                if let Some(s) = c.session {
                    reports.store.delete_session(&s).map_err(|e| ApiError::internal(e.to_string()))?;
                }
            }
            Ok(redirect("/login", vec![set_cookie(&reports, SESSION_COOKIE, "", 0)]))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

/// The action forms an alert in `state` offers.
fn actions(reference: &str, state: AlertState, csrf: &str) -> String {
    let form = |step: &str, fields: &str, label: &str| {
        format!(
            "<form class=\"i\" method=\"post\" action=\"/alerts/{reference}/step\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"step\" value=\"{step}\">{fields}<button>{label}</button></form> "
        )
    };
    let input = |name: &str, hint: &str| format!("<input name=\"{name}\" placeholder=\"{hint}\" required>");
    let feedback = |required: bool| {
        format!(
            "<input name=\"feedback\" placeholder=\"message to the reporter or community\"{}>{}",
            if required { " required" } else { "" },
            channel_select()
        )
    };
    let tell = form("feedback", &feedback(true), "Tell");
    match state {
        AlertState::New => form("acknowledge", "", "Acknowledge"),
        AlertState::Acknowledged => {
            form("verify", &input("note", "how verified"), "Verified")
                + &form("unfounded", &input("reason", "why unfounded"), "Unfounded")
        }
        AlertState::Verified => form("assign", &(input("owner", "owner") + &input("unit", "unit")), "Assign"),
        AlertState::ResponseAssigned => {
            form("respond", &(input("action", "action taken") + &feedback(false)), "Respond")
        }
        AlertState::Responded => {
            form("respond", &(input("action", "further action") + &feedback(false)), "Respond")
                + &form("close", &input("outcome", "outcome"), "Close")
                + &tell
        }
        AlertState::Unfounded => form("close", &input("outcome", "outcome"), "Close") + &tell,
        AlertState::Closed => tell,
    }
}

/// How feedback reaches people. `sms` queues a message to the reporter
/// (when they left a phone) in the outbox; nothing is sent from the page.
const FEEDBACK_CHANNELS: [(&str, &str); 6] = [
    ("sms", "by SMS to the reporter (queued)"),
    ("phone", "by phone"),
    ("community_meeting", "at a community meeting"),
    ("radio", "on the radio"),
    ("focal_point", "through the focal point"),
    ("web", "on the web"),
];

fn channel_select() -> String {
    let options: String =
        FEEDBACK_CHANNELS.iter().map(|(value, label)| format!("<option value=\"{value}\">{label}</option>")).collect();
    format!("<select name=\"feedback_channel\" aria-label=\"how\">{options}</select>")
}

/// The channel a form names (`web` when it names none, as older pages post).
fn feedback_channel(form: &Form) -> Result<String, ApiError> {
    let raw = form.opt("feedback_channel").unwrap_or_else(|| "web".into());
    match FEEDBACK_CHANNELS.iter().find(|(value, _)| *value == raw) {
        Some((value, _)) => Ok(value.to_string()),
        None => Err(ApiError::bad_request(format!("`{raw}` is not a feedback channel"))),
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

/// `GET /alerts`: the alert queue for staff: the open early warnings (when
/// the server has the forecast store), then community alerts, overdue first
/// (at most 50 rows each).
pub async fn alerts_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let forecasts = state.forecasts.clone();
        blocking(move || {
            let now = Timestamp::now();
            let Some(caller) = caller(&reports, &headers, now)? else { return Ok(redirect("/login", vec![])) };
            let Some(session) = caller.session else { return Err(ApiError::forbidden("the alert page is for browser sessions; use /api/v1/alerts with a token")) };
            // The page shows alerts received in the last 30 days (the API takes any range).
            let since = now.checked_sub(SignedDuration::from_hours(24 * 30)).ok();
            let filter = ReportFilter { received_from: since, ..ReportFilter::default() };
            let pairs = alert_list(&reports, &caller, &filter, false, now)?;
            let warnings = match &forecasts {
                Some(store) => Some(open_warnings(&**store, &reports.areas, &caller)?),
                None => None,
            };
            let csrf = reports.csrf.issue(&session, now);
            let mut b = String::with_capacity(16 * 1024);
            let warning_count = warnings
                .as_deref()
                .map(counts)
                .map(|(open, new)| format!(" <a href=\"#early-warnings\">{open} early warnings open ({new} new)</a>."))
                .unwrap_or_default();
            let _ = write!(
                b,
                "<form method=\"post\" action=\"/logout\" style=\"float:right\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Log out {}</button></form>\
                 <h1>Alerts</h1><p>{} alerts received in the last 30 days, overdue first (50 shown).{warning_count} <a href=\"/report\">New report</a></p>",
                esc(&csrf),
                esc(&caller.user.username),
                pairs.len()
            );
            if let Some(list) = &warnings {
                b.push_str(&early_warnings::section(&reports, list, &caller, &esc(&csrf)));
                b.push_str("<h2>Community alerts</h2>");
            }
            b.push_str("<table><tr><th>Reference</th><th>Report</th><th>State</th><th>Actions</th></tr>");
            for (report, alert) in pairs.iter().take(50) {
                let late = alert
                    .overdue(&reports.deadlines, now)
                    .map(|o| format!("<div class=\"late\">OVERDUE ({:?}, level {})</div>", o.kind, o.level))
                    .unwrap_or_default();
                let _ = write!(
                    b,
                    "<tr><td>{}<br>{}<br>{}</td><td>{}<br><small>{} · {} · {}</small></td><td>{}{late}</td><td>{}</td></tr>",
                    esc(report.reference.as_str()),
                    esc(&report.received_at.strftime("%Y-%m-%d %H:%M").to_string()),
                    esc(report.place.area_pcode.as_deref().unwrap_or("-")),
                    esc(&shorten(&report.text, 160)),
                    esc(report.category.as_deref().unwrap_or("-")),
                    report.effective_urgency(),
                    esc(report.place.name.as_deref().unwrap_or("")),
                    alert.state(),
                    actions(report.reference.as_str(), alert.state(), &esc(&csrf)),
                );
            }
            b.push_str("</table>");
            Ok(html(StatusCode::OK, vec![], page("en", "Alerts", &b)))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

/// `POST /alerts/{ref}/step`: one workflow step from the alert page.
pub async fn alert_step(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let form = Form::parse(body)?;
        blocking(move || {
            let now = Timestamp::now();
            let caller = caller(&reports, &headers, now)?.ok_or_else(|| ApiError::unauthorized("log in first"))?;
            check_csrf(&reports, Some(&caller), &headers, &form)?;
            let reference: Reference =
                raw.parse().map_err(|e: vitalcore_intake::report::BadReference| ApiError::not_found(e.to_string()))?;
            let step = form_step(&form, now)?;
            act_on_alert(&*reports.store, &caller.user, &reference, step, now)?;
            Ok(redirect("/alerts", vec![]))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
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

    #[test]
    fn form_texts_and_errors_come_from_the_message_table_in_the_forms_language() {
        assert_eq!(t("fr", "send"), "Envoyer");
        assert_eq!(t("en", "send"), "Send");
        assert_eq!(t("sg", "send"), "Send", "English for a language without a table");
        let e = FieldError::new("longitude", "invalid.longitude_missing", vec![]);
        assert_eq!(
            field_error("fr", &e),
            "<div class=\"err\">Longitude : manque alors que la latitude est donnée</div>"
        );
        assert_eq!(field_error("en", &e), "<div class=\"err\">Longitude: is missing while latitude is given</div>");
        assert_eq!(language_links("en"), "<a href=\"/report?lang=fr\" lang=\"fr\">Français</a>");
    }
}
