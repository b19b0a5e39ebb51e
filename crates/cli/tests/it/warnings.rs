//! `vitalcore warnings`: forecasts from the stored events land in the store,
//! the API serves them with their uncertainty and skill, re-running raises
//! no duplicate warnings, and the `ForecastStore` contract holds on both
//! backends (SQLite in memory, PostgreSQL in a fresh schema).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use vitalcore_framework::Month;
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastRow, ForecastRun, ForecastStore, WarningFilter, WarningKind, WarningNote, WarningStatus,
};

use super::{Server, car_db, http_get, json_body, ok, vitalcore};

fn month(s: &str) -> Month {
    s.parse().unwrap()
}

#[test]
fn warnings_run_stores_forecasts_the_api_serves_and_rerunning_adds_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    // A low threshold, so that some unit-months cross it.
    let args = [
        "warnings",
        "run",
        "--samples",
        "400",
        "--skill-origins",
        "6",
        "--p-any",
        "0.005",
        "--p-ge",
        "25:1.0",
        "--format",
        "json",
    ];
    let (first, stderr) = ok(vitalcore(&db, &args));
    assert!(stderr.contains("forecast run 1"), "{stderr}");
    let added: serde_json::Value = serde_json::from_str(&first).unwrap();
    let added = added.as_array().unwrap();

    let server = Server::on(&db);
    let addr = server.addr.clone();
    {
        let (status, body) = http_get(&addr, "/api/v1/forecasts?unit=admin1");
        assert_eq!(status, 200, "{body}");
        let v = json_body(&body);
        assert_eq!(v["run"]["id"], 1);
        assert_eq!(v["run"]["origin"], "2022-12", "the CAR fixture ends in December 2022");
        assert_eq!(v["run"]["horizons"], serde_json::json!([1, 2, 3]));
        let model = v["run"]["model"].as_str().unwrap();
        // the model was chosen on the backtest: it has the lowest mean CRPS there
        let skill = &v["skill"]["models"];
        let mean_crps = |m: &serde_json::Value| {
            ["h1", "h2", "h3"].iter().map(|h| m[h]["crps"].as_f64().unwrap()).sum::<f64>() / 3.0
        };
        let best = skill.as_object().unwrap().values().map(mean_crps).fold(f64::INFINITY, f64::min);
        assert!((mean_crps(&skill[model]) - best).abs() < 1e-12, "{model} is not the lowest-CRPS model");
        assert_eq!(v["model_skill"], skill[model]);
        let rows = v["rows"].as_array().unwrap();
        let units: BTreeSet<&str> = rows.iter().map(|r| r["unit"].as_str().unwrap()).collect();
        assert!(units.len() >= 10, "{} units", units.len());
        assert_eq!(rows.len(), units.len() * 3, "one row per unit and horizon");
        for r in rows {
            let p = |k: &str| r[k].as_f64().unwrap();
            let (q05, q50, q95) = (p("q05"), p("q50"), p("q95"));
            assert!(q05 <= q50 && q50 <= q95, "{r}");
            assert!(q05 >= 0.0 && p("mean") >= 0.0, "{r}");
            assert!((0.0..=1.0).contains(&p("p_any")), "{r}");
            let (p1, p10, p25) = (
                r["p_ge"]["1"].as_f64().unwrap(),
                r["p_ge"]["10"].as_f64().unwrap(),
                r["p_ge"]["25"].as_f64().unwrap(),
            );
            // counts: P(y >= 1) is P(any), and P(y >= N) falls with N
            assert!((p1 - p("p_any")).abs() < 1e-12 && p10 <= p1 && p25 <= p10 && p25 >= 0.0, "{r}");
            let h = r["horizon"].as_i64().unwrap();
            assert_eq!(r["month"].as_str().unwrap(), month("2022-12").plus(h as i32).to_string());
        }
        // every unit-month at or over the P(any) threshold has a warning, no others
        let over: BTreeSet<(String, String)> = rows
            .iter()
            .filter(|r| r["p_any"].as_f64().unwrap() >= 0.005)
            .map(|r| (r["unit"].as_str().unwrap().to_string(), r["month"].as_str().unwrap().to_string()))
            .collect();
        let (status, body) = http_get(&addr, "/api/v1/warnings");
        assert_eq!(status, 200, "{body}");
        let listed = json_body(&body)["warnings"].as_array().unwrap().clone();
        let warned: BTreeSet<(String, String)> = listed
            .iter()
            .map(|w| (w["unit"].as_str().unwrap().to_string(), w["month"].as_str().unwrap().to_string()))
            .collect();
        assert!(!over.is_empty(), "the threshold is low enough for some warnings");
        assert_eq!(warned, over);
        assert_eq!(listed.len(), added.len());
        assert!(listed.iter().all(|w| w["kind"] == "forecast-threshold" && w["status"] == "new" && w["run_id"] == 1));
    }

    // the same data again: a second run, no new warnings
    let (second, stderr) = ok(vitalcore(&db, &args));
    assert!(stderr.contains("forecast run 2"), "{stderr}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&second).unwrap(), serde_json::json!([]));
    let (list, _) = ok(vitalcore(&db, &["warnings", "list", "--format", "json"]));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), added.len());

    // the queue: acknowledge, close, and closed ones leave the open list
    let id = added[0]["id"].as_i64().unwrap().to_string();
    let too_long = "x".repeat(1001);
    let refused = vitalcore(&db, &["warnings", "ack", &id, "--as", "analyst1", "--note", &too_long]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--note"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    ok(vitalcore(
        &db,
        &["warnings", "ack", &id, "--as", "analyst1", "--note", " Called the prefect: patrols doubled "],
    ));
    ok(vitalcore(&db, &["warnings", "close", &id, "--as", "analyst2"]));
    let (open, _) = ok(vitalcore(&db, &["warnings", "list", "--open", "--format", "json"]));
    let open: serde_json::Value = serde_json::from_str(&open).unwrap();
    assert_eq!(open.as_array().unwrap().len(), added.len() - 1);
    let (closed, _) = ok(vitalcore(&db, &["warnings", "list", "--status", "closed", "--format", "json"]));
    let closed: serde_json::Value = serde_json::from_str(&closed).unwrap();
    assert_eq!(closed[0]["status_by"], "analyst2");
    // Closing without a note keeps the acknowledgement's note as the latest, with who, when and which change.
    let note = &closed[0]["note"];
    assert_eq!(
        (note["text"].as_str(), note["by"].as_str(), note["status"].as_str()),
        (Some("Called the prefect: patrols doubled"), Some("analyst1"), Some("acknowledged")),
        "{note}"
    );
    assert!(note["at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
    let (table, _) = ok(vitalcore(&db, &["warnings", "list", "--status", "closed"]));
    assert!(table.contains("Called the prefect: patrols doubled (analyst1"), "{table}");
    let missing = vitalcore(&db, &["warnings", "ack", "999999", "--as", "analyst1"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no early warning 999999"));
}

/// Community reports jump from none to 6 (CF32) and 4 (CF22) in the last
/// month of data: with no reports before, the EWMA baseline is 0 and the
/// control limit 0 + 3 sqrt(1) = 3, so both are bursts; 2 reports (CF11) are
/// under the 3-report minimum. The API hides the count under 5.
#[test]
fn a_burst_of_community_reports_raises_one_warning_per_area() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    for (area, n) in [("CF32", 6), ("CF22", 4), ("CF11", 2)] {
        for i in 0..n {
            let text = format!("Armed men attacked the village, houses burned ({area} {i})");
            ok(vitalcore(
                &db,
                &[
                    "report",
                    "submit",
                    "--text",
                    &text,
                    "--area",
                    area,
                    "--category",
                    "attack",
                    "--event-time",
                    "2022-12-10",
                ],
            ));
        }
    }
    let args = [
        "warnings",
        "run",
        "--samples",
        "200",
        "--skill-origins",
        "0",
        "--p-any",
        "1.0",
        "--p-ge",
        "25:1.0",
        "--format",
        "json",
    ];
    let (out, stderr) = ok(vitalcore(&db, &args));
    assert!(stderr.contains("12 community reports"), "{stderr}");
    let added: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut bursts: Vec<(String, f64)> = added
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "report-burst")
        .map(|w| (w["unit"].as_str().unwrap().to_string(), w["value"].as_f64().unwrap()))
        .collect();
    bursts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(bursts, vec![("CF22".to_string(), 4.0), ("CF32".to_string(), 6.0)]);
    assert!(added.as_array().unwrap().iter().all(|w| w["kind"] != "report-burst" || w["month"] == "2022-12"));
    let (again, _) = ok(vitalcore(&db, &args));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&again).unwrap(), serde_json::json!([]));
    let analyst = account(&db, "analyst1", "analyst");
    let viewer = account(&db, "viewer1", "viewer");

    let server = Server::on(&db);
    let addr = server.addr.clone();
    {
        // To an anonymous caller, a burst of 4 reports is not shown (that it
        // fired bounds a count shown as suppressed); 6 reports read 5, with
        // no control limit (computed from past exact counts).
        let (status, body) = http_get(&addr, "/api/v1/warnings?area=CF22");
        assert_eq!(status, 200, "{body}");
        let v = json_body(&body);
        assert!(v["warnings"].as_array().unwrap().iter().all(|w| w["kind"] != "report-burst"), "{v}");
        let (_, body) = http_get(&addr, "/api/v1/warnings?area=CF32");
        let cf32 = json_body(&body)["warnings"][0].clone();
        assert_eq!((cf32["kind"].as_str(), cf32["value"].as_f64()), (Some("report-burst"), Some(5.0)), "{cf32}");
        assert!(cf32["threshold"].is_null() && !cf32["reason"].as_str().unwrap().contains('6'), "{cf32}");
        // moving it on takes an analyst (or admin, responder); the caller is recorded
        let path = format!("/api/v1/warnings/{}/status", cf32["id"]);
        assert_eq!(post_json(&addr, &path, None, r#"{"status":"acknowledged"}"#).0, 401);
        assert_eq!(post_json(&addr, &path, Some(&viewer), r#"{"status":"acknowledged"}"#).0, 403);
        assert_eq!(post_json(&addr, &path, Some(&analyst), r#"{"status":"new"}"#).0, 400);
        let long = format!(r#"{{"status":"acknowledged","note":"{}"}}"#, "x".repeat(1001));
        let (status, body) = post_json(&addr, &path, Some(&analyst), &long);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("1001"), "{body}");
        let (status, body) = post_json(
            &addr,
            &path,
            Some(&analyst),
            r#"{"status":"acknowledged","note":"Focal point confirms: two villages emptied"}"#,
        );
        assert_eq!(status, 200, "{body}");
        let w = json_body(&body);
        assert_eq!((w["status"].as_str(), w["status_by"].as_str()), (Some("acknowledged"), Some("analyst1")));
        assert_eq!(
            (w["note"]["text"].as_str(), w["note"]["by"].as_str()),
            (Some("Focal point confirms: two villages emptied"), Some("analyst1"))
        );
        assert_eq!(post_json(&addr, "/api/v1/warnings/999999/status", Some(&analyst), r#"{"status":"closed"}"#).0, 404);
        let (_, body) = http_get(&addr, "/api/v1/warnings?status=acknowledged");
        assert_eq!(json_body(&body)["warnings"].as_array().unwrap().len(), 1);
    }
}

/// The early warnings `vitalcore warnings run` raised appear in the staff
/// alert queue at /alerts: an analyst sees them marked by kind with area,
/// month and level, acknowledges and closes one through the page's forms
/// (CSRF-checked), and `vitalcore warnings list` shows who did it; a focal
/// point sees only their community's warnings and cannot move them; a viewer
/// does not get the page.
#[test]
fn the_alert_page_lists_early_warnings_and_moves_them_on_with_csrf_for_the_roles_that_may() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    for i in 0..6 {
        let text = format!("Armed men attacked the village, houses burned ({i})");
        ok(vitalcore(
            &db,
            &[
                "report",
                "submit",
                "--text",
                &text,
                "--area",
                "CF32",
                "--category",
                "attack",
                "--event-time",
                "2022-12-10",
            ],
        ));
    }
    // A low threshold, so that several areas have warnings; 12 units x 3
    // months and one burst stay under the 50 rows the page shows.
    let run = [
        "warnings",
        "run",
        "--samples",
        "200",
        "--skill-origins",
        "0",
        "--p-any",
        "0.005",
        "--p-ge",
        "25:1.0",
        "--format",
        "json",
    ];
    ok(vitalcore(&db, &run));
    let listed = warning_list(&db, &[]);
    let find = |kind: &str, unit: Option<&str>| -> serde_json::Value {
        listed
            .iter()
            .filter(|w| w["kind"] == kind && unit.is_none_or(|u| w["unit"] == u))
            .max_by_key(|w| w["id"].as_i64())
            .unwrap_or_else(|| panic!("no {kind} warning in {listed:?}"))
            .clone()
    };
    let burst = find("report-burst", Some("CF32"));
    let elsewhere = find("forecast-threshold", None);
    let other_area = listed.iter().find(|w| w["unit"] != "CF32").expect("a warning outside CF32").clone();
    add_user(&db, "analyst1", "analyst", &[]);
    add_user(&db, "focal32", "focal-point", &["--community", "CF32"]);
    add_user(&db, "viewer1", "viewer", &[]);

    let server = Server::on(&db);
    let addr = server.addr.as_str();
    let analyst = login(addr, "analyst1");
    let page = alerts_page(addr, &analyst);
    let section = warning_section(&page);
    assert!(section.contains(&format!("{n} open ({n} new)", n = listed.len())), "{section}");
    let row = warning_row(section, &burst);
    assert!(
        row.contains("Report burst") && row.contains("CF32") && row.contains("Ouham") && row.contains("2022-12"),
        "{row}"
    );
    assert!(row.contains("6 reports") && row.contains("Acknowledge") && row.contains("Close"), "{row}");
    let row = warning_row(section, &elsewhere);
    let month = elsewhere["month"].as_str().unwrap();
    assert!(row.contains("Forecast threshold") && row.contains(month) && row.contains("% (threshold 0.5%)"), "{row}");
    assert!(!page.contains("<script") && !page.contains("https://"), "server-rendered, nothing loaded from outside");

    // Acknowledge through the page: only with the page's CSRF token.
    let csrf = hidden_csrf(&page);
    let id = burst["id"].as_i64().unwrap();
    let path = format!("/alerts/warnings/{id}/status");
    assert_eq!(post_form(addr, &path, &analyst, &[("status", "acknowledged")]).0, 403, "no CSRF token, no change");
    assert_eq!(post_form(addr, &path, &analyst, &[("csrf", "1700000000.AAAA"), ("status", "acknowledged")]).0, 403);
    assert_eq!(warning_list(&db, &["--status", "acknowledged"]), Vec::<serde_json::Value>::new());
    assert_eq!(post_form(addr, &path, &analyst, &[("csrf", &csrf), ("status", "new")]).0, 400);
    assert_eq!(
        post_form(addr, "/alerts/warnings/999999/status", &analyst, &[("csrf", &csrf), ("status", "closed")]).0,
        404
    );
    assert!(warning_row(warning_section(&page), &burst).contains("name=\"note\""), "the forms take a note");
    let (status, head) = post_form(
        addr,
        &path,
        &analyst,
        &[("csrf", &csrf), ("status", "acknowledged"), ("note", "Asked the <b>focal point</b> to check")],
    );
    assert_eq!(status, 303, "{head}");
    assert!(head.contains(&format!("/alerts#warning-{id}")), "{head}");
    let acked = warning_list(&db, &["--status", "acknowledged"]);
    assert_eq!(acked.len(), 1);
    assert_eq!((acked[0]["id"].as_i64(), acked[0]["status_by"].as_str()), (Some(id), Some("analyst1")));
    let page = alerts_page(addr, &analyst);
    let section = warning_section(&page);
    assert!(section.contains(&format!("{} open ({} new)", listed.len(), listed.len() - 1)), "{section}");
    let row = warning_row(section, &burst);
    assert!(
        row.contains("acknowledged")
            && row.contains("by analyst1")
            && !row.contains("Acknowledge")
            && row.contains("Close"),
        "{row}"
    );
    assert!(row.contains("Note: Asked the &lt;b&gt;focal point&lt;/b&gt; to check"), "the latest note, escaped: {row}");
    assert_eq!(acked[0]["note"]["text"], "Asked the <b>focal point</b> to check");

    // A focal point of CF32 sees that area's warnings, read-only, and cannot move them.
    let focal = login(addr, "focal32");
    let page = alerts_page(addr, &focal);
    let section = warning_section(&page);
    warning_row(section, &burst);
    assert!(!section.contains(&format!("id=\"warning-{}\"", other_area["id"])), "another area's warning: {section}");
    assert!(!section.contains("<form"), "no actions for a focal point: {section}");
    let focal_csrf = hidden_csrf(&page);
    assert_eq!(post_form(addr, &path, &focal, &[("csrf", &focal_csrf), ("status", "closed")]).0, 403);
    assert_eq!(warning_list(&db, &["--status", "closed"]), Vec::<serde_json::Value>::new());
    let viewer = login(addr, "viewer1");
    assert_eq!(get_page(addr, "/alerts", &viewer).0, 403, "a viewer does not read the alert queue");

    // Closing takes it out of the open queue, on the page and in the CLI.
    let (status, _) = post_form(
        addr,
        &path,
        &analyst,
        &[("csrf", &csrf), ("status", "closed"), ("note", "Calm again after the patrol")],
    );
    assert_eq!(status, 303);
    let closed = warning_list(&db, &["--status", "closed"]);
    assert_eq!((closed.len(), closed[0]["status_by"].as_str()), (1, Some("analyst1")));
    assert_eq!(
        (closed[0]["note"]["text"].as_str(), closed[0]["note"]["status"].as_str()),
        (Some("Calm again after the patrol"), Some("closed"))
    );
    assert_eq!(warning_list(&db, &["--open"]).len(), listed.len() - 1);
    let page = alerts_page(addr, &analyst);
    let section = warning_section(&page);
    assert!(!section.contains(&format!("id=\"warning-{id}\"")), "{section}");
    assert!(section.contains(&format!("{} open ({} new)", listed.len() - 1, listed.len() - 1)), "{section}");
}

/// `vitalcore warnings list --format json` with `extra` options.
fn warning_list(db: &std::path::Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["warnings", "list", "--format", "json"];
    args.extend(extra);
    let (out, _) = ok(vitalcore(db, &args));
    serde_json::from_str::<serde_json::Value>(&out).unwrap().as_array().unwrap().clone()
}

/// One HTTP/1.1 request; (status, head, body). The pages are sent with a
/// length, not chunked.
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    s.write_all(format!("{req}\r\n{body}").as_bytes()).unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let (head, body) = buf.split_once("\r\n\r\n").unwrap_or((&buf, ""));
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (head.split_whitespace().nth(1).unwrap().parse().unwrap(), head.to_string(), body.to_string())
}

/// `name=value` of the response's Set-Cookie for `name`.
fn set_cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")))
        .map(|(_, v)| v.trim().split(';').next().unwrap().to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
}

fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

/// Form encoding of the few characters these tests send.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.replace('%', "%25")
            .replace('+', "%2B")
            .replace(' ', "+")
            .replace('/', "%2F")
            .replace('&', "%26")
            .replace('=', "%3D")
            .replace(':', "%3A")
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// Logs in through /login as a browser does; returns the session cookie.
fn login(addr: &str, user: &str) -> String {
    let (_, head, page) = request(addr, "GET", "/login", &[], "");
    let form_cookie = set_cookie(&head, "vc_form");
    let body = form_encode(&[("csrf", &hidden_csrf(&page)), ("username", user), ("password", PASSWORD)]);
    let (status, head, _) = request(
        addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &form_cookie)],
        &body,
    );
    assert_eq!(status, 303, "{head}");
    set_cookie(&head, "vc_session")
}

fn get_page(addr: &str, path: &str, session: &str) -> (u16, String) {
    let (status, _, body) = request(addr, "GET", path, &[("Cookie", session)], "");
    (status, body)
}

fn alerts_page(addr: &str, session: &str) -> String {
    let (status, page) = get_page(addr, "/alerts", session);
    assert_eq!(status, 200, "{page}");
    page
}

/// The early-warning section of the alert page (before the community alerts).
fn warning_section(page: &str) -> &str {
    let start = page.find("id=\"early-warnings\"").unwrap_or_else(|| panic!("no early-warning section in {page}"));
    let end = page[start..].find("Community alerts").map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// The table row of warning `w` in the section.
fn warning_row<'a>(section: &'a str, w: &serde_json::Value) -> &'a str {
    let start =
        section.find(&format!("id=\"warning-{}\"", w["id"])).unwrap_or_else(|| panic!("warning {w} not in {section}"));
    let end = section[start..].find("</tr>").map_or(section.len(), |e| start + e);
    &section[start..end]
}

/// POSTs a form with the session cookie; (status, head).
fn post_form(addr: &str, path: &str, session: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", session)];
    let (status, head, _) = request(addr, "POST", path, &headers, &form_encode(pairs));
    (status, head)
}

const PASSWORD: &str = "correct horse battery staple";

/// An account with `role`; returns an API token of it.
fn account(db: &std::path::Path, name: &str, role: &str) -> String {
    add_user(db, name, role, &[]);
    ok(vitalcore(db, &["users", "token", name, "--partner", "ops"])).0.trim().to_string()
}

/// An account with `role` and [`PASSWORD`]; `extra` options for `users add`.
fn add_user(db: &std::path::Path, name: &str, role: &str, extra: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .arg("--db")
        .arg(db)
        .args(["users", "add", name, "--role", role, "--password-stdin"])
        .args(extra)
        .env_remove("VITALCORE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    ok(child.wait_with_output().unwrap());
}

/// (status, body) of a JSON POST, with a bearer token if given.
fn post_json(addr: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn a_bad_threshold_is_refused_with_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let out = vitalcore(&db, &["warnings", "run", "--p-ge", "7:0.3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--p-ge `7:0.3`") && stderr.contains("N:P"), "{stderr}");
}

// ---- the ForecastStore contract, on both backends ----

fn sample_run() -> (ForecastRun, Vec<ForecastRow>) {
    let run = ForecastRun {
        id: 0,
        created: String::new(),
        model: "hurdle".into(),
        unit_kind: "admin1".into(),
        target: "fatalities".into(),
        origin: month("2022-12"),
        horizons: vec![1, 2],
        skill: r#"{"best":"hurdle"}"#.into(),
        parameters: r#"{"samples":1000}"#.into(),
    };
    let row = |unit: &str, m: &str, mean: f64| ForecastRow {
        unit: unit.into(),
        name: format!("Préfecture {unit}"),
        month: month(m),
        mean,
        p_any: 0.25,
        p_ge: vec![(1, 0.25), (10, 0.125), (25, 0.0)],
        quantiles: vec![(0.05, 0.0), (0.5, 1.0), (0.95, 17.5)],
    };
    (run, vec![row("CF11", "2023-01", 0.1 + 0.2), row("CF11", "2023-02", 3.0), row("CF22", "2023-01", 1e-300)])
}

fn warning(unit: &str, m: &str, kind: WarningKind) -> EarlyWarning {
    EarlyWarning {
        id: 0,
        created: String::new(),
        unit: unit.into(),
        month: month(m),
        kind,
        value: 0.75,
        threshold: 0.5,
        reason: "forecast P(any fatality) at or above the threshold".into(),
        run_id: None,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    }
}

fn forecast_store_contract(store: &dyn ForecastStore) {
    assert_eq!(store.latest_forecast_run(None).unwrap(), None);
    let (run, rows) = sample_run();
    let first = store.save_forecast_run(&run, &rows).unwrap();
    let mut grid = run.clone();
    grid.unit_kind = "grid".into();
    let second = store.save_forecast_run(&grid, &rows[..1]).unwrap();
    assert_ne!(first, second);
    let latest = store.latest_forecast_run(Some("admin1")).unwrap().unwrap();
    assert_eq!(latest.id, first);
    assert!(latest.created.parse::<jiff::Timestamp>().is_ok(), "created is RFC 3339: {}", latest.created);
    assert_eq!(ForecastRun { id: 0, created: String::new(), ..latest }, run);
    assert_eq!(store.latest_forecast_run(None).unwrap().unwrap().id, second);
    assert_eq!(store.latest_forecast_run(Some("country")).unwrap(), None);
    // floats come back bit-exact, rows ordered by unit then month
    assert_eq!(store.forecast_rows(first).unwrap(), rows);
    assert_eq!(store.forecast_rows(second).unwrap(), rows[..1].to_vec());
    assert_eq!(store.forecast_rows(first).unwrap()[0].quantile(0.95), Some(17.5));

    let mut threshold = warning("CF11", "2023-01", WarningKind::ForecastThreshold);
    threshold.run_id = Some(first);
    let batch = [
        threshold.clone(),
        warning("CF11", "2023-01", WarningKind::ReportBurst),
        warning("CF22", "2023-01", WarningKind::ForecastThreshold),
    ];
    let added = store.add_warnings(&batch).unwrap();
    assert_eq!(added.len(), 3);
    assert!(added.iter().all(|w| w.status == WarningStatus::New && w.id > 0 && w.status_by.is_none()));
    assert_eq!(added[0].run_id, Some(first));
    assert_eq!(added[0].reason, threshold.reason);
    // the same (unit, month, kind) again is not added, even with other values
    let mut again = threshold.clone();
    again.value = 0.9;
    let more = store.add_warnings(&[again, warning("CF11", "2023-02", WarningKind::ForecastThreshold)]).unwrap();
    assert_eq!(more.len(), 1);
    assert_eq!((more[0].unit.as_str(), more[0].month), ("CF11", month("2023-02")));
    let all = store.warnings(&WarningFilter::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all.iter().find(|w| w.id == added[0].id).unwrap().value, 0.75, "the first warning is kept");

    assert!(added.iter().all(|w| w.note.is_none()));
    let acked = store
        .set_warning_status(
            added[1].id,
            WarningStatus::Acknowledged,
            "ana",
            "2026-01-02T03:04:05Z",
            Some(" seen; «calling» the prefect "),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (acked.status, acked.status_by.as_deref(), acked.status_at.as_deref()),
        (WarningStatus::Acknowledged, Some("ana"), Some("2026-01-02T03:04:05Z"))
    );
    let note = |text: &str, by: &str, at: &str, status| {
        Some(WarningNote { text: text.into(), by: by.into(), at: at.into(), status })
    };
    assert_eq!(
        acked.note,
        note("seen; «calling» the prefect", "ana", "2026-01-02T03:04:05Z", WarningStatus::Acknowledged)
    );
    // A change without a note (or a blank one) keeps the latest note; a later note replaces it.
    let closed = store
        .set_warning_status(added[1].id, WarningStatus::Closed, "ben", "2026-01-02T05:00:00Z", Some("  "))
        .unwrap()
        .unwrap();
    assert_eq!((closed.status, closed.status_by.as_deref()), (WarningStatus::Closed, Some("ben")));
    assert_eq!(closed.note, acked.note);
    store.set_warning_status(added[2].id, WarningStatus::Closed, "ben", "2026-01-03T00:00:00Z", None).unwrap().unwrap();
    let reopened = store
        .set_warning_status(added[1].id, WarningStatus::Acknowledged, "cat", "2026-01-04T00:00:00Z", Some("not over"))
        .unwrap()
        .unwrap();
    assert_eq!(reopened.note, note("not over", "cat", "2026-01-04T00:00:00Z", WarningStatus::Acknowledged));
    assert_eq!(
        store.set_warning_status(987_654, WarningStatus::Closed, "ben", "2026-01-03T00:00:00Z", Some("x")).unwrap(),
        None
    );
    let listed = store.warnings(&WarningFilter::default()).unwrap();
    assert_eq!(listed.iter().find(|w| w.id == added[1].id).unwrap().note, reopened.note, "lists carry the latest note");
    assert_eq!(listed.iter().find(|w| w.id == added[2].id).unwrap().note, None);
    let open = store.warnings(&WarningFilter { open_only: true, ..WarningFilter::default() }).unwrap();
    assert_eq!(open.len(), 3);
    let new = store.warnings(&WarningFilter { status: Some(WarningStatus::New), ..WarningFilter::default() }).unwrap();
    assert_eq!(new.len(), 2);
    let cf11 = store.warnings(&WarningFilter { unit: Some("CF11".into()), ..WarningFilter::default() }).unwrap();
    assert_eq!(cf11.len(), 3);
}

#[test]
fn forecast_store_contract_sqlite_in_memory() {
    forecast_store_contract(&vitalcore_store_sqlite::SqliteStore::open_in_memory().unwrap());
}

#[test]
fn forecast_store_contract_sqlite_file_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    forecast_store_contract(&vitalcore_store_sqlite::SqliteStore::open(&path).unwrap());
    let reopened = vitalcore_store_sqlite::SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.warnings(&WarningFilter::default()).unwrap().len(), 4);
}

#[test]
fn forecast_store_contract_postgres_fresh_schema() {
    let Some(url) = vitalcore_test_postgres::database_url_or_skip() else { return };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let schema = format!("vc_test_fc_{}_{nanos}", std::process::id());
    let store = vitalcore_store_postgres::PostgresStore::connect_with_schema(&url, &schema).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| forecast_store_contract(&store)));
    drop(store);
    vitalcore_test_postgres::drop_schema(&schema);
    result.unwrap();
}
