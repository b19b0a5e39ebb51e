//! Analysts confirm or correct a report's dimensions (CLI and API): the
//! correction is stored with who and when, changes the report's tags, is
//! refused to other roles, and becomes a training row for `classify train`.

use super::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "correct horse battery staple";

struct Site {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Site {
    /// A database with the CAR prefectures and four accounts.
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let site = Site { _dir: dir, db };
        let areas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures/caf_adm1_simplified.geojson");
        site.ok(&["import", areas.to_str().unwrap()]);
        for (name, role) in
            [("admin1", "admin"), ("analyst1", "analyst"), ("responder1", "responder"), ("viewer1", "viewer")]
        {
            let mut child = site
                .cmd(&["users", "add", name, "--role", role, "--password-stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
            assert!(child.wait_with_output().unwrap().status.success());
        }
        site
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        c.arg("--db").arg(&self.db).args(args);
        c.env_remove("VITALCORE_DATABASE_URL").env_remove("VITALCORE_USER").env("RUST_BACKTRACE", "0");
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

    fn submit(&self, text: &str) -> String {
        self.ok(&["--quiet", "report", "submit", "--text", text, "--area", "CF32", "--category", "attack"])
            .trim()
            .to_string()
    }

    fn show(&self, reference: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["report", "show", reference, "--format", "json"])).unwrap()
    }

    fn serve(&self) -> Server {
        Server::start(self.cmd(&["--quiet", "serve", "--addr", "127.0.0.1:0"]))
    }
}

/// One POST with a bearer token over a fresh connection: (status, body).
fn post_json(addr: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, raw) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        // One chunk is enough for these small answers.
        raw.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0\r\n").map_or(rest, |(b, _)| b))
            .unwrap_or(raw)
            .to_string()
    } else {
        raw.to_string()
    };
    (status, body)
}

fn tags(v: &serde_json::Value, kind: &str) -> Vec<String> {
    v["tags"][kind].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_cli_stores_a_correction_with_who_and_when_and_changes_the_tags() {
    let site = Site::new();
    let reference = site.submit("Armed men attacked the market and killed two traders");
    let before = site.show(&reference);
    // The reporter's category `attack` reads as the personal dimension.
    assert!(tags(&before, "dimensions").contains(&"personal".to_string()), "{before}");

    let start = jiff::Timestamp::now();
    let out = site.ok(&[
        "report",
        "correct",
        &reference,
        "--dimensions",
        "political; economic",
        "--themes",
        "protection_of_civilians",
        "--as",
        "analyst1",
        "--format",
        "json",
    ]);
    let end = jiff::Timestamp::now();
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(c["report"], reference.as_str());
    assert_eq!(c["dimensions"], serde_json::json!(["political", "economic"]));
    assert_eq!(c["themes"], serde_json::json!(["protection_of_civilians"]));
    assert_eq!(c["previous_dimensions"], before["tags"]["dimensions"]);
    let at: jiff::Timestamp = c["at"].as_str().unwrap().parse().unwrap();
    assert!(start <= at && at <= end, "{at} not between {start} and {end}");
    let user_id = c["user_id"].as_str().unwrap().to_string();
    assert!(!user_id.is_empty());

    let after = site.show(&reference);
    assert_eq!(tags(&after, "dimensions"), ["political", "economic"]);
    assert_eq!(tags(&after, "themes"), ["protection_of_civilians"]);
    assert!(after["tags"]["rule"].as_str().unwrap().contains(&user_id), "{after}");

    // Only analysts and admins correct; nothing changes when refused.
    for who in ["viewer1", "responder1"] {
        let refused = site.run(&["report", "correct", &reference, "--dimensions", "health", "--as", who]);
        assert!(!refused.status.success(), "{who} was allowed");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("cannot"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    assert_eq!(tags(&site.show(&reference), "dimensions"), ["political", "economic"]);
}

#[test]
fn the_api_lets_analysts_correct_and_refuses_viewers_with_403() {
    let site = Site::new();
    let reference = site.submit("Des hommes armés ont pillé le marché");
    let token = |user: &str| site.ok(&["users", "token", user, "--partner", &format!("p-{user}")]).trim().to_string();
    let (analyst, viewer, responder) = (token("analyst1"), token("viewer1"), token("responder1"));
    let server = site.serve();
    let path = format!("/api/v1/reports/{reference}/dimensions");
    let body = r#"{"dimensions": ["health", "community"]}"#;

    assert_eq!(post_json(&server.addr, &path, &viewer, body).0, 403);
    assert_eq!(post_json(&server.addr, &path, &responder, body).0, 403);
    let (status, bad) = post_json(&server.addr, &path, &analyst, r#"{"dims": ["health"]}"#);
    assert_eq!(status, 400, "{bad}");
    assert_eq!(post_json(&server.addr, "/api/v1/reports/ZZZZ-ZZZZ/dimensions", &analyst, body).0, 404);
    let (status, unknown) = post_json(&server.addr, &path, &analyst, r#"{"dimensions": ["politcal"]}"#);
    assert_eq!(status, 422, "{unknown}");
    assert!(unknown.contains("politcal") && unknown.contains("political"), "{unknown}");

    let themes_before = tags(&site.show(&reference), "themes");
    let (status, answer) = post_json(&server.addr, &path, &analyst, body);
    assert_eq!(status, 200, "{answer}");
    let c: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(c["dimensions"], serde_json::json!(["health", "community"]));
    assert!(c["at"].as_str().is_some() && !c["user_id"].as_str().unwrap().is_empty(), "{c}");
    drop(server);
    let after = site.show(&reference);
    assert_eq!(tags(&after, "dimensions"), ["health", "community"]);
    assert_eq!(tags(&after, "themes"), themes_before, "themes left out of the body stay");
}

#[test]
fn stored_corrections_become_training_rows() {
    let site = Site::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../classify/tests/fixtures");
    let (data, crosswalk) = (fixtures.join("messages_train.csv"), fixtures.join("crosswalk.csv"));
    let first = site.submit("Soldiers arrested the mayor after the election meeting");
    let second = site.submit("The checkpoint took money from traders again");
    site.ok(&["report", "correct", &first, "--dimensions", "personal", "--as", "analyst1"]);
    // A later correction of the same report replaces the earlier one as a training row.
    site.ok(&["report", "correct", &first, "--dimensions", "political", "--as", "admin1"]);
    site.ok(&["report", "correct", &second, "--dimensions", "economic", "--as", "analyst1"]);

    let dir = tempfile::tempdir().unwrap();
    let train = |extra: &[&str]| {
        let model = dir.path().join("m.bin");
        let mut args = vec![
            "classify",
            "train",
            "--data",
            data.to_str().unwrap(),
            "--crosswalk",
            crosswalk.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = site.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let line =
            stderr.lines().find(|l| l.starts_with("trained on")).unwrap_or_else(|| panic!("{stderr}")).to_string();
        let n: Vec<u64> =
            line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
        (n[0], n[1])
    };
    let (plain, none) = train(&[]);
    assert_eq!(none, 0);
    let (with_db, corrections) = train(&["--corrections-from-db", site.db.to_str().unwrap()]);
    assert_eq!(corrections, 2, "two corrected reports, the latest correction of each");
    assert_eq!(with_db, plain + 2);
}
