//! Community intake end to end over real HTTP against the running binary
//! (a report through the form and one through the partner API, listed,
//! shown and its contact read, as the CLI then sees them), KoBo import and
//! the alert queue through the CLI, the published assessment, and feedback
//! by SMS. The routes' own tests (every status, CSRF, roles, webhooks, the
//! alert page) run in-process in `crates/server/tests/http`.

use super::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn import_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures").join(name)
}

fn kobo_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../intake/tests/fixtures/kobo").join(name)
}

const PASSWORD: &str = "correct horse battery staple";

struct Site {
    dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
}

impl Site {
    /// A database with the CAR prefectures, a contact key and five accounts.
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let key = dir.path().join("contact.key");
        let site = Site { dir, db, key };
        site.ok(&["import", import_fixture("caf_adm1_simplified.geojson").to_str().unwrap()]);
        site.ok(&["users", "keygen", "--out", site.key.to_str().unwrap()]);
        for (name, role, community) in [
            ("admin1", "admin", None),
            ("analyst1", "analyst", None),
            ("responder1", "responder", None),
            ("focal32", "focal-point", Some("CF32")),
            ("viewer1", "viewer", None),
        ] {
            let mut args = vec!["users", "add", name, "--role", role, "--password-stdin"];
            if let Some(c) = community {
                args.extend(["--community", c]);
            }
            site.run_stdin(&args, PASSWORD);
        }
        site
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        c.arg("--db").arg(&self.db).arg("--key-file").arg(&self.key).args(args);
        c.env_remove("VITALCORE_DATABASE_URL").env("RUST_BACKTRACE", "0");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn run_stdin(&self, args: &[&str], input: &str) -> String {
        let mut child =
            self.cmd(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{input}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn token(&self, user: &str) -> String {
        self.ok(&["users", "token", user, "--partner", &format!("partner-of-{user}")]).trim().to_string()
    }

    fn serve(&self, extra: &[&str]) -> Server {
        let mut args = vec!["--quiet", "serve", "--addr", "127.0.0.1:0"];
        args.extend(extra);
        Server::start(self.cmd(&args))
    }
}

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `name=value` of a Set-Cookie header.
    fn cookie(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .map(|l| l.split_once(':').unwrap().1.trim())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
    }

    fn header_line(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
            .map(str::to_string)
    }
}

/// A tiny HTTP/1.1 client: one request per connection, chunked bodies decoded.
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body; ignore a reset while writing.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, raw) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(raw) } else { raw.to_string() };
    Resp { status, head: head.to_string(), body }
}

fn dechunk(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn post_json(addr: &str, path: &str, token: &str, body: &str) -> Resp {
    let auth = bearer(token);
    http(addr, "POST", path, &[("Authorization", &auth), ("Content-Type", "application/json")], body.as_bytes())
}

fn get_auth(addr: &str, path: &str, token: &str) -> Resp {
    let auth = bearer(token);
    http(addr, "GET", path, &[("Authorization", &auth)], b"")
}

/// Reports the admin can see, by the API.
fn stored_count(addr: &str, admin: &str) -> u64 {
    let r = get_auth(addr, "/api/v1/reports?limit=1", admin);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["total"].as_u64().unwrap()
}

fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

#[test]
fn over_the_binary_reports_come_in_by_the_form_and_the_api_are_listed_and_a_contact_is_read_with_an_audit_record() {
    let site = Site::new();
    let (admin, responder) = (site.token("admin1"), site.token("responder1"));
    let server = site.serve(&[]);
    let addr = &server.addr;

    // The public form, as a phone's browser sends it.
    let page = http(addr, "GET", "/report", &[], b"");
    assert_eq!(page.status, 200);
    let cookie = page.cookie("vc_form").expect("a form cookie");
    let form = form_encode(&[
        ("csrf", &hidden_csrf(&page.body)),
        ("lang", "en"),
        ("text", "Armed men burned the school in Bossangoa"),
        ("place", "Bossangoa"),
        ("category", "attack"),
        ("contact", "+236 72 00 00 07"),
    ]);
    let sent = http(
        addr,
        "POST",
        "/report",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &cookie)],
        form.as_bytes(),
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    let at = sent.body.find("VC-").expect("a reference on the page");
    let by_form = sent.body[at..at + "VC-0000-000".len()].to_string();

    // A partner's system, with its token.
    let body = r#"{"text":"Shots near the market of Bouca","area_pcode":"CF32","category":"attack","contact":"+236 72 00 00 08"}"#;
    let r = post_json(addr, "/api/v1/reports", &responder, body);
    assert_eq!(r.status, 201, "{}", r.body);
    let by_api = r.json()["reference"].as_str().unwrap().to_string();

    // Both are listed, newest first, without their contacts.
    assert_eq!(stored_count(addr, &admin), 2);
    let listed = get_auth(addr, "/api/v1/reports", &admin);
    let list = listed.json();
    let refs: Vec<&str> =
        list["reports"].as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
    assert_eq!(refs, [by_api.as_str(), by_form.as_str()]);
    assert!(!listed.body.contains("+236") && !listed.body.contains("72 00"), "{}", listed.body);
    let shown = get_auth(addr, &format!("/api/v1/reports/{by_form}"), &admin).json();
    assert_eq!((shown["channel"]["kind"].as_str(), shown["has_contact"].as_bool()), (Some("web_form"), Some(true)));
    assert_eq!(shown["alert"]["state"], "new");

    // The contact, read once with a purpose: never cached, and the answer names its request.
    let read = get_auth(addr, &format!("/api/v1/reports/{by_api}/contact?purpose=call+back"), &responder);
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["contact"], "+236 72 00 00 08");
    assert!(read.header_line("cache-control").unwrap().contains("no-store"));
    assert!(read.header_line("content-security-policy").unwrap().contains("script-src 'self'"));
    assert!(read.header_line("x-request-id").is_some());

    // The CLI lists no contact, sealed or not, and shows the audit record of the read.
    let csv = site.ok(&["report", "list", "--format", "csv"]);
    let json = site.ok(&["report", "list", "--format", "json"]);
    assert!(
        !csv.contains("+236") && !json.contains("+236") && !json.contains("vc1."),
        "the CLI lists no contact, sealed or not"
    );
    let reads = contact_reads(&site, &by_api);
    assert_eq!(reads.len(), 1, "one reveal, one audit record: {reads:?}");
    assert_eq!((reads[0]["user_id"].as_str(), reads[0]["purpose"].as_str()), (Some("u-responder1"), Some("call back")));
    assert!(contact_reads(&site, &by_form).is_empty(), "no read, no record");
}

#[test]
fn kobo_export_is_imported_by_the_cli_once_with_rejects_named_by_line_and_field() {
    let site = Site::new();
    let export = kobo_fixture("alerts_groups.csv");
    let mapping = kobo_fixture("alerts_groups.toml");
    let rejects = site.dir.path().join("rejects.csv");
    let args = [
        "report",
        "import-kobo",
        export.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    let out = site.run(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 5 rows: an empty description (line 4), a 95 E point with 18 N (line 5:
    // outside nothing, but valid) and an unknown category `weather` (line 6).
    let nums: Vec<u64> = stdout.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    let (rows, imported, seen, rejected) =
        (nums[nums.len() - 6], nums[nums.len() - 5], nums[nums.len() - 4], nums[nums.len() - 3]);
    assert_eq!(rows, 5, "{stdout}");
    assert_eq!(rows, imported + seen + rejected);
    assert!(rejected >= 2, "{stdout}");
    assert!(stderr.lines().filter(|l| l.starts_with("rejected:")).all(|l| l.contains("line ")), "{stderr}");
    assert!(stderr.contains("category") && stderr.contains("weather"), "{stderr}");
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(written.lines().count() as u64, rejected + 1);
    let listed = site.ok(&["report", "list", "--format", "json"]);
    let reports: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(reports.as_array().unwrap().len() as u64, imported);
    assert!(reports.as_array().unwrap().iter().all(|r| r["channel"]["kind"] == "kobo"));

    let again = site.ok(&args);
    let nums: Vec<u64> = again.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect();
    assert_eq!(nums[nums.len() - 5], 0, "re-import adds nothing: {again}");
    assert_eq!(nums[nums.len() - 4], imported, "{again}");
    let listed_again: serde_json::Value =
        serde_json::from_str(&site.ok(&["report", "list", "--format", "json"])).unwrap();
    assert_eq!(listed_again.as_array().unwrap().len() as u64, imported);

    // Submitted in May 2024 and never acknowledged: every one is overdue, most urgent first.
    let overdue: serde_json::Value =
        serde_json::from_str(&site.ok(&["alerts", "list", "--overdue", "--format", "json"])).unwrap();
    let overdue = overdue.as_array().unwrap();
    assert_eq!(overdue.len() as u64, imported);
    assert!(overdue.iter().all(|a| a["overdue"]["kind"] == "acknowledge" && a["overdue"]["level"].as_u64() >= Some(1)));
    let first = overdue[0]["reference"].as_str().unwrap().to_string();
    let denied = site.run(&["alerts", "assign", &first, "--owner", "x", "--unit", "y", "--as", "analyst1"]);
    assert!(!denied.status.success(), "an analyst cannot assign");
    assert!(String::from_utf8_lossy(&denied.stderr).contains("cannot"));
    assert!(site.ok(&["alerts", "ack", &first, "--as", "analyst1"]).contains("acknowledged"));
    let still: serde_json::Value =
        serde_json::from_str(&site.ok(&["alerts", "list", "--overdue", "--format", "json"])).unwrap();
    let again = still
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["reference"] == first.as_str())
        .expect("still overdue, now to respond");
    assert_eq!(again["overdue"]["kind"], "respond");
    let metrics: serde_json::Value = serde_json::from_str(
        &site.ok(&["alerts", "metrics", "--from", "2024-05", "--to", "2024-05", "--format", "json"]),
    )
    .unwrap();
    let alerts: u64 = metrics.as_array().unwrap().iter().map(|m| m["alerts"].as_u64().unwrap()).sum();
    let acknowledged: u64 = metrics.as_array().unwrap().iter().map(|m| m["acknowledged"].as_u64().unwrap()).sum();
    assert_eq!((alerts, acknowledged), (imported, 1));
}

#[test]
fn community_reports_join_the_assessment_apart_from_events_and_small_counts_are_suppressed_when_published() {
    let site = Site::new();
    site.ok(&["import", import_fixture("ucdp_ged_car.geojson").to_str().unwrap()]);
    for i in 0..3 {
        site.ok(&[
            "report",
            "submit",
            "--text",
            &format!("Market looted in Bossangoa, shop {i}"),
            "--area",
            "CF32",
            "--category",
            "looting_extortion",
            "--event-time",
            "2020-06-15",
        ]);
    }
    let refused = Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .arg("--db")
        .arg(&site.db)
        .args(["report", "submit", "--text", "x", "--contact", "+236"])
        .env_remove("VITALCORE_KEY_FILE")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("vitalcore users keygen"), "says how to make a key");
    let json = site.ok(&["assess", "--period", "all", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == "CF32" && r["category"] == "economic")
        .expect("an economic row for Ouham")
        .clone();
    assert_eq!(row["reports"], 3, "the operator's CLI shows the count");
    let server = site.serve(&[]);
    let r = http(&server.addr, "GET", "/api/v1/assessment?period=all", &[], b"");
    let published = r.json();
    let row = published["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == "CF32" && r["category"] == "economic")
        .unwrap()
        .clone();
    assert_eq!(row["reports"], serde_json::Value::Null, "3 reports is below 5: suppressed");
    assert_eq!(row["reports_suppressed"], true);
    assert_eq!(row["events"], serde_json::json!(row["events"].as_u64().unwrap()), "event counts are not affected");
}

// ---- feedback to reporters by SMS: the outbox ----

/// `report submit` as the CLI does it; returns the reference.
fn submit(site: &Site, text: &str, language: &str, contact: Option<&str>) -> String {
    let mut args =
        vec!["report", "submit", "--text", text, "--area", "CF32", "--category", "attack", "--language", language];
    if let Some(c) = contact {
        args.extend(["--contact", c]);
    }
    site.ok(&args).trim().to_string()
}

/// Takes an alert to unfounded, then records `message` as feedback by SMS.
fn unfounded_with_sms(site: &Site, reference: &str, message: &str) -> Output {
    site.ok(&["alerts", "ack", reference, "--as", "responder1"]);
    site.ok(&["alerts", "unfounded", reference, "--reason", "nobody there knew of it", "--as", "responder1"]);
    site.run(&["alerts", "feedback", reference, "--message", message, "--channel", "sms", "--as", "responder1"])
}

fn outbox(site: &Site) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(&site.ok(&["feedback", "outbox", "list", "--format", "json"])).unwrap();
    v.as_array().unwrap().clone()
}

fn message_of<'a>(outbox: &'a [serde_json::Value], reference: &str) -> &'a serde_json::Value {
    outbox.iter().find(|m| m["report"] == reference).unwrap_or_else(|| panic!("no message for {reference}: {outbox:?}"))
}

fn status_of(site: &Site, reference: &str) -> (String, String) {
    let all = outbox(site);
    let m = message_of(&all, reference);
    let last = m["history"].as_array().unwrap().last().unwrap();
    (last["status"].as_str().unwrap().to_string(), last["detail"].as_str().unwrap_or("").to_string())
}

fn contact_reads(site: &Site, reference: &str) -> Vec<serde_json::Value> {
    let shown: serde_json::Value =
        serde_json::from_str(&site.ok(&["report", "show", reference, "--format", "json"])).unwrap();
    shown["contact_reads"].as_array().unwrap().clone()
}

#[test]
fn sms_feedback_is_queued_then_exported_with_audited_reads_and_marked_sent_and_nothing_leaves_unasked() {
    let site = Site::new();
    let survivor_text = "Des hommes armés ont enlevé deux filles près de Bouca";
    let fr = submit(&site, survivor_text, "fr", Some("+236 72 00 00 01"));
    let local = submit(&site, "Cattle stolen at the river", "en", Some("72 00 00 02"));
    let email = submit(&site, "Market burned", "en", Some("jean@example.org"));
    let anonymous = submit(&site, "Shots at night", "en", None);

    // Feedback by SMS queues one message per reporter with a contact, in their language.
    for r in [&local, &email, &anonymous] {
        let out = unfounded_with_sms(&site, r, "We went there and found nothing; call us if it happens again");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    site.ok(&["alerts", "ack", &fr, "--as", "responder1"]);
    site.ok(&["alerts", "verify", &fr, "--note", "seen by the focal point", "--as", "responder1"]);
    site.ok(&["alerts", "assign", &fr, "--owner", "Capt. X", "--unit", "BANBAT", "--as", "responder1"]);
    // Another reporter's data is refused, and the step is not recorded.
    let leak = site.run(&[
        "alerts",
        "respond",
        &fr,
        "--action",
        "patrol",
        "--feedback",
        &format!("Voir aussi {local}"),
        "--channel",
        "sms",
        "--as",
        "responder1",
    ]);
    assert!(!leak.status.success());
    assert!(
        String::from_utf8_lossy(&leak.stderr).contains("another report's reference"),
        "{}",
        String::from_utf8_lossy(&leak.stderr)
    );
    site.ok(&[
        "alerts",
        "respond",
        &fr,
        "--action",
        "patrol",
        "--feedback",
        "Une patrouille est passée ce matin",
        "--channel",
        "sms",
        "--as",
        "responder1",
    ]);
    let queued = outbox(&site);
    assert_eq!(queued.len(), 3, "none for the reporter without a contact: {queued:?}");
    assert_eq!(
        message_of(&queued, &fr)["body"],
        format!("Votre signalement {fr} : Une patrouille est passée ce matin")
    );
    assert_eq!(message_of(&queued, &local)["language"], "en");
    assert!(
        message_of(&queued, &local)["body"].as_str().unwrap().starts_with(&format!("Your report {local}: We went"))
    );
    assert!(
        queued.iter().all(|m| m["history"][0]["status"] == "queued" && m["history"][0]["user_id"] == "u-responder1")
    );
    let table = site.ok(&["feedback", "outbox", "list"]);
    assert!(!table.contains("+236") && !table.contains("72 00"), "the list shows no phone: {table}");
    assert!(contact_reads(&site, &fr).is_empty(), "queueing reads no contact");

    // An analyst may not read contacts: nothing exported, nothing read.
    let dir = site.dir.path();
    let by_analyst = dir.join("analyst.csv");
    site.ok(&[
        "feedback",
        "outbox",
        "export",
        "--format",
        "csv",
        "--out",
        by_analyst.to_str().unwrap(),
        "--as",
        "analyst1",
    ]);
    assert_eq!(std::fs::read_to_string(&by_analyst).unwrap().lines().count(), 1, "the header only");
    assert!(contact_reads(&site, &fr).is_empty());

    // A responder's export: the phone and the message, no report text; each read audited.
    let file = dir.join("outbox.csv");
    site.ok(&[
        "feedback",
        "outbox",
        "export",
        "--format",
        "csv",
        "--out",
        file.to_str().unwrap(),
        "--as",
        "responder1",
    ]);
    let csv = std::fs::read_to_string(&file).unwrap();
    let id_fr = message_of(&queued, &fr)["id"].as_i64().unwrap();
    assert_eq!(
        csv,
        format!(
            "phone,message,outbox_id\n+23672000001,Votre signalement {fr} : Une patrouille est passée ce matin,{id_fr}\n"
        )
    );
    assert!(!csv.contains("enlevé") && !csv.contains("Bouca"), "no survivor details in an export");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let reads = contact_reads(&site, &fr);
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["user_id"], "u-responder1");
    assert!(
        reads[0]["purpose"].as_str().unwrap().contains(&format!("outbox message #{id_fr}"))
            && reads[0]["purpose"].as_str().unwrap().contains("outbox.csv")
    );
    assert_eq!(status_of(&site, &fr), ("exported".into(), "outbox.csv".into()));
    assert_eq!(status_of(&site, &local).0, "queued", "a local number waits for a country code");
    assert_eq!(status_of(&site, &email), ("failed".into(), "the reporter's contact is not a phone number".into()));
    // With the country code, the local number goes in the next file; the exported one is not repeated.
    let second = dir.join("second.csv");
    site.ok(&[
        "feedback",
        "outbox",
        "export",
        "--out",
        second.to_str().unwrap(),
        "--default-country-code",
        "236",
        "--as",
        "responder1",
    ]);
    let csv2 = std::fs::read_to_string(&second).unwrap();
    assert!(csv2.lines().nth(1).unwrap().starts_with("+23672000002,Your report "), "{csv2}");
    assert_eq!(csv2.lines().count(), 2);

    // What went out is recorded from the file; doing it twice changes nothing.
    assert!(
        site.ok(&["feedback", "outbox", "mark-sent", file.to_str().unwrap(), "--as", "responder1"])
            .contains("1 messages now sent")
    );
    assert!(
        site.ok(&["feedback", "outbox", "mark-sent", file.to_str().unwrap(), "--as", "responder1"])
            .contains("0 messages now sent")
    );
    assert_eq!(status_of(&site, &fr), ("sent".into(), "marked sent from outbox.csv".into()));
    let shown = site.ok(&["report", "show", &fr]);
    assert!(shown.contains(&format!("SMS #{id_fr} (step #3) sent: Votre signalement {fr} :")), "{shown}");
    // Failed, retried, cancelled with a reason; a cancelled message cannot be marked sent.
    let id_email = message_of(&queued, &email)["id"].as_i64().unwrap().to_string();
    site.ok(&["feedback", "outbox", "retry", "--id", &id_email, "--as", "responder1"]);
    assert_eq!(status_of(&site, &email).0, "queued");
    let no_reason =
        site.run(&["feedback", "outbox", "cancel", "--id", &id_email, "--reason", " ", "--as", "responder1"]);
    assert!(!no_reason.status.success());
    site.ok(&[
        "feedback",
        "outbox",
        "cancel",
        "--id",
        &id_email,
        "--reason",
        "told at the community meeting",
        "--as",
        "responder1",
    ]);
    let refused = site.run(&["feedback", "outbox", "mark-sent", "--id", &id_email, "--as", "responder1"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cancelled"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let history: Vec<String> = message_of(&outbox(&site), &email)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(history, ["queued", "failed", "queued", "cancelled"]);
    let by_analyst = site.run(&["feedback", "outbox", "mark-sent", second.to_str().unwrap(), "--as", "analyst1"]);
    assert!(!by_analyst.status.success(), "an analyst does not record feedback");
    assert_eq!(status_of(&site, &local).0, "exported");
}

/// A one-connection-at-a-time HTTP server on loopback answering each
/// request with the next (status, body); returns its address and the
/// requests it received (head and body), when the answers run out.
fn fake_gateway(answers: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<Vec<(String, String)>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (status, body) in answers {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, rest) = loop {
                let n = stream.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break (String::from_utf8_lossy(&buf[..at]).into_owned(), buf[at + 4..].to_vec());
                }
                assert!(n > 0, "the client closed before the end of the head");
            };
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            let mut request_body = rest;
            while request_body.len() < length {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0);
                request_body.extend_from_slice(&chunk[..n]);
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
            seen.push((head, String::from_utf8(request_body).unwrap()));
        }
        seen
    });
    (addr, handle)
}

#[test]
fn the_outbox_is_sent_through_a_configured_gateway_only_and_its_answers_are_recorded() {
    let site = Site::new();
    let first = submit(&site, "Gunfire near the school", "en", Some("+236 72 00 00 11"));
    let second = submit(&site, "Des maisons brûlées", "fr", Some("+236 72 00 00 12"));
    for r in [&first, &second] {
        assert!(unfounded_with_sms(&site, r, "A patrol found nothing; we keep watching").status.success());
    }
    let dir = site.dir.path();
    // No gateway in the config file: nothing is sent, nothing changes.
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "# no gateway\n").unwrap();
    let refused = site.run(&["feedback", "outbox", "send", "--config", empty.to_str().unwrap(), "--as", "responder1"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no SMS gateway"));
    assert_eq!(status_of(&site, &first).0, "queued");
    assert!(contact_reads(&site, &first).is_empty(), "no gateway, no contact read");

    let (addr, gateway) = fake_gateway(vec![
        (201, r#"{"sid":"SMfake0001","status":"queued"}"#),
        (400, r#"{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}"#),
    ]);
    let config = dir.join("vitalcore.toml");
    std::fs::write(
        &config,
        format!("[sms_gateway]\nkind = \"twilio\"\nurl = \"http://{addr}\"\naccount_sid = \"ACtest\"\nauth_token = \"s3cret\"\nfrom = \"+15005550006\"\n"),
    )
    .unwrap();
    let sent = site.ok(&["feedback", "outbox", "send", "--config", config.to_str().unwrap(), "--as", "responder1"]);
    assert!(sent.contains("1 sent, 1 failed through twilio"), "{sent}");
    let requests = gateway.join().unwrap();
    assert_eq!(requests.len(), 2);
    let (head, body) = &requests[0];
    assert!(head.starts_with("POST /2010-04-01/Accounts/ACtest/Messages.json HTTP/1.1"), "{head}");
    // Basic base64("ACtest:s3cret")
    let auth = head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")).unwrap_or_default();
    assert_eq!(auth.split_once(':').unwrap().1.trim(), "Basic QUN0ZXN0OnMzY3JldA==", "{head}");
    assert!(body.starts_with("To=%2B23672000011&From=%2B15005550006&Body=Your%20report%20"), "{body}");
    assert!(requests[1].1.contains("Votre%20signalement"), "the second reporter wrote in French: {}", requests[1].1);
    assert_eq!(status_of(&site, &first), ("sent".into(), "twilio SMfake0001".into()));
    assert_eq!(
        status_of(&site, &second),
        ("failed".into(), "twilio answered HTTP 400: The 'To' number is not a valid phone number.".into())
    );
    let reads = contact_reads(&site, &first);
    assert_eq!(reads.len(), 1);
    assert!(reads[0]["purpose"].as_str().unwrap().contains("gateway twilio"));
    // A plain-http gateway elsewhere than this computer is refused before anything is read.
    std::fs::write(&config, "[sms_gateway]\nkind = \"rapidpro\"\nurl = \"http://sms.example.org\"\ntoken = \"t\"\n")
        .unwrap();
    let plain = site.run(&["feedback", "outbox", "send", "--config", config.to_str().unwrap(), "--as", "responder1"]);
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("HTTPS"), "{}", String::from_utf8_lossy(&plain.stderr));
}
