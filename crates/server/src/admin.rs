//! Administration pages for admins: users and roles (list, add, disable,
//! enable), a user's API tokens (create, list, revoke) and browser sessions
//! (list, end), and who is on call (list, add, remove). Each form posts
//! with the page's CSRF token; each change calls the same
//! `vitalcore_app::accounts` or `vitalcore_app::notify` function as
//! `vitalcore users` and `vitalcore oncall` (a rota change is on the audit
//! chain, by the admin) and is logged (who did what to whom, never a password or token) like
//! every other security event of the server. Only admins: everyone else
//! is refused (403), nobody signed in is sent to /login (pages) or refused
//! (401, forms).

use crate::auth::Caller;
use crate::ctx::{Ctx, Visit};
use crate::error::{ApiError, PageError};
use crate::html::{page, redirect};
use crate::i18n::{self, label, t, tf};
use crate::shell::{Section, Shell};
use crate::web::{Form, check_csrf};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Deserialize;
use vitalcore_app::accounts::{self, AccountError, SessionPolicy};
use vitalcore_app::reports::Reports;
use vitalcore_intake::duration::parse_duration;
use vitalcore_security::auth::{ApiToken, Role};
use vitalcore_store::reports::TokenSelector;

impl From<vitalcore_app::notify::NotifyError> for ApiError {
    fn from(e: vitalcore_app::notify::NotifyError) -> ApiError {
        use vitalcore_app::notify::NotifyError as E;
        match e {
            E::Store(vitalcore_store::StoreError::NotFound(what)) => ApiError::not_found(format!("no {what}")),
            E::Store(e) => e.into(),
            E::Invalid(reason) => ApiError::status(422, reason),
            E::Denied(reason) => ApiError::forbidden(reason),
            E::Channel(reason) => ApiError::internal(reason),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        ApiError::status(e.http_status(), e.to_string())
    }
}

/// The admin calling, with the page's language and CSRF token.
struct Admin {
    caller: Caller,
    lang: &'static str,
    csrf: String,
}

/// The signed-in admin of a browser session, or the refusal.
fn admin(reports: &Reports, visit: Visit) -> Result<Result<Admin, Response>, ApiError> {
    let Some(caller) = visit.caller else { return Ok(Err(redirect("/login", vec![]))) };
    let Some(session) = caller.session else {
        return Err(ApiError::forbidden("the administration pages are for browser sessions"));
    };
    accounts::may_manage_accounts(&caller.user)?;
    let csrf = reports.csrf.issue(&session, visit.now);
    Ok(Ok(Admin { lang: i18n::language(&visit.headers), caller, csrf }))
}

/// A posted form of a signed-in admin, CSRF-checked.
fn admin_form(reports: &Reports, visit: &Visit, form: &Form) -> Result<Caller, ApiError> {
    let caller = visit.caller.clone().ok_or_else(|| ApiError::unauthorized("sign in first"))?;
    check_csrf(reports, Some(&caller), &visit.headers, form)?;
    accounts::may_manage_accounts(&caller.user)?;
    Ok(caller)
}

/// An administrator's form post: the form read, the caller checked (signed
/// in, CSRF token, may manage accounts), then `act` on the blocking pool
/// with the service, the visit, the admin and the form.
async fn admin_post(
    ctx: Ctx,
    body: Result<Bytes, BytesRejection>,
    op: &'static str,
    act: impl FnOnce(&Reports, Visit, Caller, Form) -> Result<Response, ApiError> + Send + 'static,
) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let form = Form::parse(body)?;
    let answer = ctx
        .visit(&reports, op, move |service, visit| {
            let by = admin_form(service, &visit, &form)?;
            act(service, visit, by, form)
        })
        .await?;
    Ok(answer)
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

struct UserRow {
    username: String,
    role: String,
    community: String,
    active: bool,
    status: String,
    sessions: usize,
    tokens: usize,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct UsersPage {
    shell: Shell,
    csrf: String,
    notice: Option<String>,
    users: Vec<UserRow>,
    /// (value, label) of every role, for the new user's select.
    roles: Vec<(&'static str, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
    name: Option<String>,
    role: Option<String>,
    n: Option<String>,
    m: Option<String>,
}

/// The notice a redirect after a change asks for (`?done=...`), from the
/// message table only: nothing of the address is shown but a user name and
/// counts, escaped.
fn notice(lang: &str, q: &Done) -> Option<String> {
    let name = q.name.as_deref().unwrap_or("");
    let count = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0).to_string();
    let (n, m) = (count(&q.n), count(&q.m));
    let role = q.role.as_deref().and_then(|r| r.parse::<Role>().ok()).map(|r| label(lang, "role", r.as_str()));
    Some(match q.done.as_deref()? {
        "created" => tf(lang, "admin.created", &[("name", name), ("role", &role.unwrap_or_default())]),
        "disabled" => tf(lang, "admin.disabled_done", &[("name", name), ("sessions", &n), ("tokens", &m)]),
        "enabled" => tf(lang, "admin.enabled_done", &[("name", name)]),
        "role" => tf(
            lang,
            "admin.role_done",
            &[("name", name), ("role", &role.unwrap_or_default()), ("sessions", &n), ("tokens", &m)],
        ),
        "revoked" => tf(lang, "admin.revoked_done", &[("id", name)]),
        "ended" => tf(lang, "admin.ended_done", &[("n", &n)]),
        _ => return None,
    })
}

/// `GET /admin`: every account with its role, community, status, live
/// sessions and tokens; the form to add one.
pub async fn users_page(ctx: Ctx, Query(q): Query<Done>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let answer = ctx
        .visit(&reports, "admin.users", move |service, visit| {
            let now = visit.now;
            let a = match admin(service, visit)? {
                Ok(a) => a,
                Err(to_login) => return Ok(to_login),
            };
            let lang = a.lang;
            let policy = SessionPolicy::of(&service.config);
            let users = accounts::list_users(&*service.store, &policy, now)?
                .into_iter()
                .map(|u| UserRow {
                    role: label(lang, "role", u.role.as_str()),
                    community: u.community.unwrap_or_default(),
                    active: u.active,
                    status: t(lang, if u.active { "admin.enabled" } else { "admin.disabled" }).to_string(),
                    sessions: u.sessions,
                    tokens: u.tokens,
                    last_seen: u.last_seen_at.map(when).unwrap_or_default(),
                    username: u.username,
                })
                .collect();
            let view = UsersPage {
                shell: Shell::new(
                    lang,
                    Section::Admin,
                    t(lang, "admin.title"),
                    "/admin",
                    Some(&a.caller),
                    Some(service),
                ),
                csrf: a.csrf,
                notice: notice(lang, &q),
                users,
                roles: Role::ALL.iter().rev().map(|r| (r.as_str(), label(lang, "role", r.as_str()))).collect(),
            };
            page(StatusCode::OK, vec![], &view)
        })
        .await?;
    Ok(answer)
}

/// A form value that goes into an address (`?name=`): letters, digits and `-_.` only.
fn url_safe(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect()
}

/// `POST /admin/users` (`username`, `role`, `community`, `password`):
/// `accounts::create_user`, as `vitalcore users add`.
pub async fn create(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.create_user", move |service, _, by, form| {
        let username = form.text("username");
        let role: Role = form.text("role").parse().map_err(|e: String| ApiError::status(422, e))?;
        let community = community_for(service, role, &form.text("community"))?;
        let password = form.get_raw("password");
        let user =
            accounts::create_user(&*service.store, &username, role, community.as_deref(), &password, &by.user.id)?;
        tracing::info!(by = %by.user.username, user = %user.username, role = %user.role, "account created");
        let to = format!("/admin?done=created&name={}&role={}", url_safe(&user.username), user.role.as_str());
        Ok(redirect(&to, vec![]))
    })
    .await
}

/// The community a form gives for `role`: a loaded area for a focal point,
/// none for the other roles.
fn community_for(reports: &Reports, role: Role, raw: &str) -> Result<Option<String>, ApiError> {
    match (raw.trim(), role) {
        ("", Role::FocalPoint) => Err(ApiError::status(422, "a focal point needs their community's P-code")),
        ("", _) => Ok(None),
        (c, Role::FocalPoint) => Ok(Some(known_area(reports, c)?)),
        _ => Err(ApiError::status(422, "only a focal point has a community: leave it empty")),
    }
}

/// A focal point's community: one of the loaded areas, spelt as stored (as
/// `vitalcore users add --community` takes it); any P-code-shaped code when
/// no area is loaded.
fn known_area(reports: &Reports, raw: &str) -> Result<String, ApiError> {
    if let Some(area) = reports.areas.by_pcode(raw).or_else(|| reports.areas.by_pcode(&raw.to_ascii_uppercase())) {
        return Ok(area.pcode.clone());
    }
    if reports.areas.areas().is_empty() && vitalcore_intake::text::is_pcode(raw) {
        return Ok(raw.to_string());
    }
    Err(ApiError::status(
        422,
        format!("`{}` is not the P-code of a loaded area", vitalcore_intake::text::clean_line(raw)),
    ))
}

/// `POST /admin/users/{name}/role` (`role`, `community`): `accounts::set_role`,
/// as `vitalcore users role`; the account's sessions and tokens end.
pub async fn change_role(
    ctx: Ctx,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.set_role", move |service, visit, by, form| {
        let role: Role = form.text("role").parse().map_err(|e: String| ApiError::status(422, e))?;
        let community = community_for(service, role, &form.text("community"))?;
        let (user, ended) =
            accounts::set_role(&*service.store, &name, role, community.as_deref(), visit.now, &by.user.id)?;
        tracing::info!(by = %by.user.username, user = %user.username, role = %user.role,
            sessions = ended.sessions_ended, tokens = ended.tokens_revoked, "role changed");
        let to = format!(
            "/admin?done=role&name={}&role={}&n={}&m={}",
            url_safe(&user.username),
            user.role.as_str(),
            ended.sessions_ended,
            ended.tokens_revoked
        );
        Ok(redirect(&to, vec![]))
    })
    .await
}

/// `POST /admin/users/{name}/disable` and `.../enable`.
pub async fn set_active(
    ctx: Ctx,
    Path((name, what)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.set_active", move |service, visit, by, _| {
        let store = &*service.store;
        let to = match what.as_str() {
            "disable" => {
                let (user, ended) = accounts::disable_user(store, &name, visit.now, &by.user.id)?;
                tracing::info!(by = %by.user.username, user = %user.username, sessions = ended.sessions_ended,
                    tokens = ended.tokens_revoked, "account disabled");
                format!(
                    "/admin?done=disabled&name={}&n={}&m={}",
                    url_safe(&user.username),
                    ended.sessions_ended,
                    ended.tokens_revoked
                )
            }
            "enable" => {
                let user = accounts::enable_user(store, &name, &by.user.id)?;
                tracing::info!(by = %by.user.username, user = %user.username, "account enabled");
                format!("/admin?done=enabled&name={}", url_safe(&user.username))
            }
            other => return Err(ApiError::not_found(format!("no action `{other}` on accounts"))),
        };
        Ok(redirect(&to, vec![]))
    })
    .await
}

struct TokenRow {
    id: String,
    partner: String,
    created: String,
    expires: String,
    revoked: String,
    state: &'static str,
    live: bool,
}

struct SessionRow {
    id: String,
    started: String,
    last_seen: String,
    ends: String,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    shell: Shell,
    csrf: String,
    notice: Option<String>,
    username: String,
    /// (value, label, current) of every role, for the role form.
    roles: Vec<(&'static str, String, bool)>,
    community: String,
    /// The token just created, shown this once.
    new_token: Option<String>,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
}

fn token_row(lang: &str, k: &ApiToken, now: Timestamp) -> TokenRow {
    let state = match (k.revoked_at, k.expires_at) {
        (Some(_), _) => "admin.revoked",
        (None, Some(e)) if e <= now => "admin.expired",
        _ => "admin.valid",
    };
    TokenRow {
        id: k.public_id(),
        partner: k.partner.clone(),
        created: when(k.created_at),
        expires: k.expires_at.map(when).unwrap_or_default(),
        revoked: k.revoked_at.map(when).unwrap_or_default(),
        state: i18n::messages().text(lang, state),
        live: state == "admin.valid",
    }
}

/// The page of one account: its tokens and sessions (and a new token once).
fn user_page(
    service: &Reports,
    a: Admin,
    name: &str,
    now: Timestamp,
    notice: Option<String>,
    new_token: Option<String>,
) -> Result<Response, ApiError> {
    let lang = a.lang;
    let account = service.store.user_by_username(name)?.ok_or_else(|| AccountError::NoSuchUser(name.to_string()))?;
    let roles =
        Role::ALL.iter().rev().map(|r| (r.as_str(), label(lang, "role", r.as_str()), *r == account.role)).collect();
    let tokens = accounts::tokens_of(&*service.store, name)?.iter().map(|k| token_row(lang, k, now)).collect();
    let idle = SessionPolicy::of(&service.config).idle;
    let sessions = accounts::sessions_of(&*service.store, name)?
        .iter()
        .filter(|s| s.is_valid_at(now, idle))
        .map(|s| SessionRow {
            id: s.public_id(),
            started: when(s.created_at),
            last_seen: when(s.last_seen_at),
            ends: when(s.expires_at),
        })
        .collect();
    let title = tf(lang, "admin.user_title", &[("name", name)]);
    let back = format!("/admin/users/{}", url_safe(name));
    let view = UserPage {
        shell: Shell::new(lang, Section::Admin, title, &back, Some(&a.caller), Some(service)),
        csrf: a.csrf,
        notice,
        username: name.to_string(),
        roles,
        community: account.community.unwrap_or_default(),
        new_token,
        tokens,
        sessions,
    };
    page(StatusCode::OK, vec![], &view)
}

/// `GET /admin/users/{name}`.
pub async fn user(ctx: Ctx, Path(name): Path<String>, Query(q): Query<Done>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let answer = ctx
        .visit(&reports, "admin.user", move |service, visit| {
            let now = visit.now;
            let a = match admin(service, visit)? {
                Ok(a) => a,
                Err(to_login) => return Ok(to_login),
            };
            let notice = notice(a.lang, &q);
            user_page(service, a, &name, now, notice, None)
        })
        .await?;
    Ok(answer)
}

/// `POST /admin/users/{name}/tokens` (`partner`, `expires` such as 90d):
/// `accounts::issue_api_token`, as `vitalcore users token`; the token is on
/// the answer only (never in an address, never stored).
pub async fn issue_token(
    ctx: Ctx,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.issue_token", move |service, visit, by, form| {
        let expires = Some(form.text("expires"))
            .filter(|e| !e.is_empty())
            .map(|e| parse_duration(&e))
            .transpose()
            .map_err(|e| ApiError::status(422, format!("expires: {e}")))?;
        let (token, stored) =
            accounts::issue_api_token(&*service.store, &name, &form.text("partner"), expires, visit.now, &by.user.id)?;
        tracing::info!(by = %by.user.username, user = %name, partner = %stored.partner,
            token = %stored.public_id(), "API token created");
        let now = visit.now;
        let a = match admin(service, visit)? {
            Ok(a) => a,
            Err(to_login) => return Ok(to_login),
        };
        let said = tf(a.lang, "admin.token_once", &[("partner", &stored.partner), ("name", &name)]);
        user_page(service, a, &name, now, Some(said), Some(token.secret.expose_secret().to_string()))
    })
    .await
}

/// `POST /admin/tokens/{id}/revoke`: `accounts::revoke_tokens` by the
/// token's public id, as `vitalcore users revoke --id`.
pub async fn revoke_token(
    ctx: Ctx,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.revoke_token", move |service, visit, by, _| {
        let which = TokenSelector::PublicId(id.clone());
        let revoked = accounts::revoke_tokens(&*service.store, &which, visit.now, &by.user.id)?;
        let mut owner = None;
        for k in &revoked {
            let user = service.store.user(&k.user_id)?.map(|u| u.username);
            tracing::info!(by = %by.user.username, token = %k.public_id(), partner = %k.partner,
                user = %user.as_deref().unwrap_or(&k.user_id), "API token revoked");
            owner = owner.or(user);
        }
        let owner = match owner {
            Some(o) => o,
            None => {
                // Revoked before: back to the account that holds it.
                let all = service.store.api_tokens(&which)?;
                let first = all.first().ok_or_else(|| ApiError::not_found(format!("no API token `{id}`")))?;
                service.store.user(&first.user_id)?.map(|u| u.username).unwrap_or_default()
            }
        };
        Ok(redirect(&format!("/admin/users/{}?done=revoked&name={}", url_safe(&owner), url_safe(&id)), vec![]))
    })
    .await
}

/// `POST /admin/users/{name}/sessions/end`: `accounts::end_sessions`, as
/// `vitalcore users revoke-sessions`.
pub async fn end_sessions(
    ctx: Ctx,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.end_sessions", move |service, _, by, _| {
        let n = accounts::end_sessions(&*service.store, &name, None)?;
        tracing::info!(by = %by.user.username, user = %name, sessions = n, "sessions ended");
        Ok(redirect(&format!("/admin/users/{}?done=ended&n={n}", url_safe(&name)), vec![]))
    })
    .await
}

struct RotaRow {
    id: i64,
    area: String,
    role: String,
    user: String,
    from: String,
    to: String,
    fallback: String,
}

#[derive(Template)]
#[template(path = "admin_oncall.html")]
struct OnCallPage {
    shell: Shell,
    csrf: String,
    notice: Option<String>,
    rota: Vec<RotaRow>,
    /// (value, label) of every duty, for the new entry's select.
    roles: Vec<(&'static str, String)>,
}

/// `GET /admin/oncall`: the on-call rota (as `vitalcore oncall show`) and
/// the form to put someone on call.
pub async fn oncall_page(ctx: Ctx, Query(q): Query<Done>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let answer = ctx
        .visit(&reports, "admin.oncall", move |service, visit| {
            let a = match admin(service, visit)? {
                Ok(a) => a,
                Err(to_login) => return Ok(to_login),
            };
            let lang = a.lang;
            let users = service.store.users()?;
            let name =
                |id: &str| users.iter().find(|u| u.id == id).map_or_else(|| id.to_string(), |u| u.username.clone());
            let rota = service
                .store
                .rota()?
                .into_iter()
                .map(|e| RotaRow {
                    id: e.id,
                    area: e.area_pcode.clone(),
                    role: label(lang, "duty", e.role.as_str()),
                    user: name(&e.user_id),
                    from: when(e.from),
                    to: e.to.map(when).unwrap_or_else(|| t(lang, "oncall.open_ended").to_string()),
                    fallback: if e.fallback { t(lang, "oncall.yes").to_string() } else { String::new() },
                })
                .collect();
            let id = q.n.as_deref().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0).to_string();
            let notice = match q.done.as_deref() {
                Some("added") => Some(tf(lang, "oncall.added_done", &[("id", &id)])),
                Some("removed") => Some(tf(lang, "oncall.removed_done", &[("id", &id)])),
                _ => None,
            };
            let roles = vitalcore_intake::notify::DutyRole::ALL
                .iter()
                .map(|r| (r.as_str(), label(lang, "duty", r.as_str())))
                .collect();
            let shell = Shell::new(
                lang,
                Section::Admin,
                t(lang, "oncall.title"),
                "/admin/oncall",
                Some(&a.caller),
                Some(service),
            );
            page(StatusCode::OK, vec![], &OnCallPage { shell, csrf: a.csrf, notice, rota, roles })
        })
        .await?;
    Ok(answer)
}

/// `POST /admin/oncall`: `notify::put_on_call`, as `vitalcore oncall set`.
pub async fn oncall_add(ctx: Ctx, body: Result<Bytes, BytesRejection>) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.oncall_add", move |service, visit, by, form| {
        let request = vitalcore_app::notify::OnCallRequest {
            area: form.text("area"),
            role: form.text("role"),
            user: form.text("user"),
            from: form.text("from"),
            to: form.text("to"),
            fallback: !form.text("fallback").is_empty(),
        };
        let (id, entry) = vitalcore_app::notify::put_on_call(&*service.store, &by.user, &request, visit.now)?;
        tracing::info!(by = %by.user.username, entry = id, user = %request.user, area = %entry.area_pcode,
            role = %entry.role, "put on call");
        Ok(redirect(&format!("/admin/oncall?done=added&n={id}"), vec![]))
    })
    .await
}

/// `POST /admin/oncall/{id}/remove`: `notify::remove_on_call`, as
/// `vitalcore oncall remove`.
pub async fn oncall_remove(
    ctx: Ctx,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    admin_post(ctx, body, "admin.oncall_remove", move |service, visit, by, _| {
        let id: i64 = id.parse().map_err(|_| ApiError::not_found(format!("no rota entry `{id}`")))?;
        let removed = vitalcore_app::notify::remove_on_call(&*service.store, &by.user, id, visit.now)?;
        tracing::info!(by = %by.user.username, entry = id, area = %removed.area_pcode, role = %removed.role,
            "taken off the rota");
        Ok(redirect(&format!("/admin/oncall?done=removed&n={id}"), vec![]))
    })
    .await
}
