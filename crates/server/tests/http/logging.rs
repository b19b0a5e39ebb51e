//! What the log says about a request, and what it never says. The log of
//! this test binary is captured (one global subscriber at `info`, as
//! `vitalcore serve` logs); every test here adds to it.

use super::{PASSWORD, Site, form_encode, hidden_csrf};
use axum::http::Method;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged so far by this test binary.
fn logged() -> String {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    let capture = CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber =
            tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).with_writer(move || writer.clone()).finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        capture
    });
    String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned()
}

#[tokio::test]
async fn requests_logins_tokens_and_contact_reads_are_logged_without_secrets_or_report_text() {
    logged();
    let site = Site::new();
    let responder = site.token("responder1");
    let text = "Armed men took the headman of Bossembele at night";
    let contact = "+236 72 55 44 33";
    let body = format!(r#"{{"text":"{text}","area_pcode":"CF32","category":"abduction","contact":"{contact}"}}"#);
    let submitted = site.post_json("/api/v1/reports?secret=in-the-query", &responder, &body).await;
    assert_eq!(submitted.status, 201, "{}", submitted.body);
    let reference = submitted.json()["reference"].as_str().unwrap().to_string();
    let request_id = submitted.header("x-request-id").unwrap().to_string();
    let read = site.get_auth(&format!("/api/v1/reports/{reference}/contact?purpose=call+back"), &responder).await;
    assert_eq!(read.status, 200);
    let viewer = site.token("viewer1");
    assert_eq!(site.get_auth("/api/v1/alerts", &viewer).await.status, 403);
    assert_eq!(site.get_auth("/api/v1/alerts", "vca_no-such-token").await.status, 401);

    let login = site.get("/login", &[]).await;
    let cookie = login.cookie("vc_form").unwrap();
    let ctype = ("Content-Type", "application/x-www-form-urlencoded");
    let wrong = "a wrong password, typed by mistake";
    for (user, password, status) in [("analyst1", wrong, 401), ("analyst1", PASSWORD, 303)] {
        let creds = form_encode(&[("csrf", &hidden_csrf(&login.body)), ("username", user), ("password", password)]);
        let r = site.request(Method::POST, "/login", &[ctype, ("Cookie", &cookie)], creds.as_bytes()).await;
        assert_eq!(r.status, status);
    }

    let log = logged();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&request_id)).collect();
    assert!(
        lines.iter().any(|l| l.contains("POST") && l.contains("path=/api/v1/reports") && l.contains("status=201")),
        "the request's span and status: {lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains("user=responder1")), "who: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("API token used") && l.contains("partner-of-responder1")), "{lines:?}");
    assert!(log.contains(&format!("reference={reference}")) && log.contains("contact read"), "{log}");
    assert!(
        log.lines().any(|l| l.contains("refused") && l.contains("status=403") && l.contains("user=viewer1")),
        "{log}"
    );
    assert!(log.contains("API token refused"), "{log}");
    assert!(log.lines().any(|l| l.contains("login failed") && l.contains("analyst1")), "{log}");
    assert!(log.lines().any(|l| l.contains("login") && l.contains("username=analyst1") && l.contains("role=analyst")));
    for secret in
        [PASSWORD, wrong, &responder, &viewer, "vca_no-such-token", contact, "72 55 44 33", text, "secret=in-the-query"]
    {
        assert!(!log.contains(secret), "`{secret}` is in the log:\n{log}");
    }
}
