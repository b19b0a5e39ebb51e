//! What every answer carries: the security headers, a request id of the
//! server's own, `Cache-Control: no-store` wherever report data can be;
//! a failure of the store is a 500 that names the request and nothing of
//! the backend; the pages hold no inline script or style the CSP refuses.

use super::{PASSWORD, Site, form_encode, hidden_csrf, send};
use axum::http::Method;
use std::sync::Arc;
use vitalcore_framework::Framework;
use vitalcore_proto::api::ErrorBody;
use vitalcore_server::{AppState, CONTENT_SECURITY_POLICY, cacheable};
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::{EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningFilter, WarningStatus};
use vitalcore_store_sqlite::SqliteStore;

/// Every route, and a path no route has.
const ROUTES: [(&str, &str); 28] = [
    ("GET", "/"),
    ("GET", "/static/app.js"),
    ("GET", "/static/app.css"),
    ("GET", "/static/pages.css"),
    ("GET", "/static/back.js"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/framework"),
    ("GET", "/api/v1/areas"),
    ("GET", "/api/v1/boundaries"),
    ("GET", "/api/v1/assessment"),
    ("GET", "/api/v1/areas/CF32/profile"),
    ("GET", "/api/v1/reports"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports/VC-0000-000"),
    ("GET", "/api/v1/reports/VC-0000-000/contact"),
    ("POST", "/api/v1/reports/VC-0000-000/dimensions"),
    ("POST", "/api/v1/alerts/VC-0000-000/steps"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts/metrics"),
    ("GET", "/api/v1/forecasts"),
    ("GET", "/api/v1/warnings"),
    ("POST", "/api/v1/warnings/1/status"),
    ("POST", "/sms/rapidpro"),
    ("GET", "/report"),
    ("GET", "/login"),
    ("GET", "/alerts"),
    ("POST", "/alerts/warnings/1/status"),
    ("GET", "/no/such/page"),
];

#[tokio::test]
async fn every_answer_carries_the_security_headers_a_request_id_and_no_store_where_report_data_can_be() {
    let site = Site::new();
    let admin = site.token("admin1");
    let auth = format!("Bearer {admin}");
    let mut ids = std::collections::HashSet::new();
    for (method, path) in ROUTES {
        let method: Method = method.parse().unwrap();
        let r = site
            .request(method.clone(), path, &[("Authorization", &auth), ("X-Request-Id", "chosen-by-the-client")], b"{}")
            .await;
        let at = format!("{method} {path} ({})", r.status);
        assert_eq!(r.header("content-security-policy"), Some(CONTENT_SECURITY_POLICY), "{at}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{at}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{at}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{at}");
        let id = r.header("x-request-id").unwrap_or_else(|| panic!("{at}: no request id")).to_string();
        assert_ne!(id, "chosen-by-the-client", "{at}: the id is the server's own");
        assert!(ids.insert(id), "{at}: each request has its own id");
        let cache = r.header("cache-control");
        if cacheable(path) {
            assert_eq!(cache, None, "{at}");
        } else {
            assert_eq!(cache, Some("no-store"), "{at}");
        }
    }
    // Only what carries no report data is cacheable.
    for path in ["/static/app.js", "/static/pages.css", "/api/v1/framework"] {
        assert!(cacheable(path));
    }
    // The map page names who is signed in: never cached either.
    for path in [
        "/",
        "/api/v1/assessment",
        "/api/v1/health",
        "/report",
        "/alerts",
        "/login",
        "/admin",
        "/api/v1/reports/VC-0000-000/contact",
    ] {
        assert!(!cacheable(path), "{path}");
    }
}

#[test]
fn the_policy_allows_no_inline_script_or_style_nor_framing() {
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(CONTENT_SECURITY_POLICY.split("; ").any(|d| d == directive), "{directive}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
}

/// Markup the policy would refuse: inline scripts, inline styles, event
/// handler attributes, `javascript:` links.
fn refused_by_the_policy(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        if !rest[at..tag_end].contains(" src=") {
            found.push(rest[at..tag_end].to_string());
        }
        rest = &rest[tag_end..];
    }
    for bad in ["<style", " style=", "javascript:", " onclick=", " onsubmit=", " onload=", " onchange=", " onerror="] {
        if lower.contains(bad) {
            found.push(bad.to_string());
        }
    }
    found
}

#[tokio::test]
async fn the_pages_work_under_the_policy() {
    let site = Site::new();
    let page = |body: &str| refused_by_the_policy(body);
    assert_eq!(page(&site.get("/", &[]).await.body), Vec::<String>::new(), "the map page");
    assert_eq!(page(&site.get("/report", &[]).await.body), Vec::<String>::new());
    let login = site.get("/login", &[]).await;
    assert_eq!(page(&login.body), Vec::<String>::new());
    let session = sign_in(&site, "responder1").await;
    let alerts = site.get("/alerts", &[("Cookie", &session)]).await;
    assert_eq!(alerts.status, 200);
    assert_eq!(page(&alerts.body), Vec::<String>::new());
    let error = site
        .request(Method::POST, "/report", &[("Content-Type", "application/x-www-form-urlencoded")], b"text=x")
        .await;
    assert_eq!(error.status, 403);
    assert_eq!(page(&error.body), Vec::<String>::new(), "{}", error.body);
    // The map's script sets its colours and bar widths through the DOM, never in markup.
    let script = site.get("/static/app.js", &[]).await.body;
    assert!(!script.contains("style=") && !script.contains("javascript:"), "inline style in app.js");
    for stylesheet in ["/static/app.css", "/static/pages.css"] {
        let r = site.get(stylesheet, &[]).await;
        assert_eq!((r.status, r.header("content-type")), (200, Some("text/css; charset=utf-8")), "{stylesheet}");
    }
    assert!(site.get("/report", &[]).await.body.contains("<link rel=\"stylesheet\" href=\"/static/pages.css\">"));
}

/// Logs `user` in through /login; the session cookie.
async fn sign_in(site: &Site, user: &str) -> String {
    let login = site.get("/login", &[]).await;
    let form_cookie = login.cookie("vc_form").unwrap();
    let creds = form_encode(&[("csrf", &hidden_csrf(&login.body)), ("username", user), ("password", PASSWORD)]);
    let ctype = ("Content-Type", "application/x-www-form-urlencoded");
    let r = site.request(Method::POST, "/login", &[ctype, ("Cookie", &form_cookie)], creds.as_bytes()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.cookie("vc_session").unwrap()
}

/// What a broken database says; none of it may reach a client.
const BACKEND_TEXT: &str = "disk I/O error in /var/lib/vitalcore/secret-path.db (SQLITE_IOERR 10)";

/// The forecast store with its warnings failing.
struct Failing(SqliteStore);

impl ForecastStore for Failing {
    fn save_forecast_run(&self, run: &ForecastRun, rows: &[ForecastRow]) -> Result<i64, StoreError> {
        self.0.save_forecast_run(run, rows)
    }
    fn latest_forecast_run(&self, unit_kind: Option<&str>) -> Result<Option<ForecastRun>, StoreError> {
        self.0.latest_forecast_run(unit_kind)
    }
    fn forecast_rows(&self, run_id: i64) -> Result<Vec<ForecastRow>, StoreError> {
        self.0.forecast_rows(run_id)
    }
    fn add_warnings(&self, warnings: &[EarlyWarning]) -> Result<Vec<EarlyWarning>, StoreError> {
        self.0.add_warnings(warnings)
    }
    fn warnings(&self, _: &WarningFilter) -> Result<Vec<EarlyWarning>, StoreError> {
        Err(StoreError::Backend(BACKEND_TEXT.into()))
    }
    fn set_warning_status(
        &self,
        id: i64,
        status: WarningStatus,
        by: &str,
        at: &str,
        note: Option<&str>,
    ) -> Result<Option<EarlyWarning>, StoreError> {
        self.0.set_warning_status(id, status, by, at, note)
    }
}

#[tokio::test]
async fn a_store_failure_is_a_500_naming_the_request_and_nothing_of_the_backend() {
    let site = Site::new();
    let session = sign_in(&site, "analyst1").await;
    let dir = tempfile::tempdir().unwrap();
    let failing = Arc::new(Failing(SqliteStore::open(dir.path().join("f.db")).unwrap()));
    let state = AppState::with_reports(site.store.clone(), Arc::new(Framework::built_in()), site.reports.clone());
    let router = vitalcore_server::router(AppState::with_forecasts(state, failing));

    let r = send(&router, Method::GET, "/api/v1/warnings?open=true", &[], b"").await;
    assert_eq!(r.status, 500, "{}", r.body);
    let id = r.header("x-request-id").expect("a request id").to_string();
    let body: ErrorBody = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body, ErrorBody { error: "internal error".into(), fields: None, request_id: Some(id.clone()) });
    assert!(!r.body.contains("disk") && !r.body.contains("secret") && !r.body.contains("SQLITE"), "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));

    // A page says the same in HTML.
    let page = send(&router, Method::GET, "/alerts", &[("Cookie", &session)], b"").await;
    assert_eq!(page.status, 500, "{}", page.body);
    let id = page.header("x-request-id").unwrap().to_string();
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        page.body.contains("internal error") && page.body.contains(&format!("<code class=\"rid\">{id}</code>")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("disk") && !page.body.contains("secret") && !page.body.contains("SQLITE"),
        "{}",
        page.body
    );

    // Client errors keep their reasons.
    let refused = send(&router, Method::GET, "/api/v1/warnings?status=soon", &[], b"").await;
    assert_eq!(refused.status, 400);
    assert!(refused.json()["error"].as_str().unwrap().contains("use new, acknowledged or closed"));
    assert!(refused.json().get("request_id").is_none());
}

#[tokio::test]
async fn without_the_intake_service_its_routes_answer_503_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("e.db")).unwrap());
    let router = vitalcore_server::router(AppState::new(store, Arc::new(Framework::built_in())));
    let r = send(&router, Method::GET, "/api/v1/reports", &[], b"").await;
    assert_eq!(r.status, 503);
    assert!(r.json()["error"].as_str().unwrap().contains("community reports are not enabled"));
    let forecasts = send(&router, Method::GET, "/api/v1/warnings", &[], b"").await;
    assert_eq!(forecasts.status, 503);
    assert!(forecasts.json()["error"].as_str().unwrap().contains("without the forecast store"));
}
