//! Drives the real `vitalcore` binary, as a user would.

mod accounts;
mod audit;
mod files;
mod input;
mod intake;
mod mandate;
mod monadic;
mod notify;
mod sync;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures").join(name)
}

fn vitalcore(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("VITALCORE_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn ok(out: Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}\n{stdout}");
    (stdout, stderr)
}

/// Parses `... N rows read = I imported + U updated + C unchanged + R rejected`.
fn contract(line: &str) -> [u64; 5] {
    let nums: Vec<u64> =
        line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let n = nums.len();
    assert!(n >= 5, "no import summary in: {line}");
    [nums[n - 5], nums[n - 4], nums[n - 3], nums[n - 2], nums[n - 1]]
}

fn summary_line(stdout: &str, file: &str) -> String {
    stdout
        .lines()
        .find(|l| l.contains(file) && l.contains("rows read"))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_string()
}

#[test]
fn demo_imports_the_bundled_data_with_no_rejects_and_ranks_prefectures() {
    let dir = tempfile::tempdir().unwrap();
    let demo_db = dir.path().join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(["demo", "--no-serve", "--demo-db"])
        .arg(&demo_db)
        .output()
        .unwrap();
    let (stdout, _) = ok(out);
    assert!(stdout.contains("1848 rows read, 0 rejected"), "{stdout}");
    assert!(stdout.contains("Most threatened prefectures"), "{stdout}");
    // Every placed event is in a CAR prefecture (P-codes CF..).
    let (json, _) = ok(vitalcore(&demo_db, &["assess", "--period", "all", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() >= 17, "{} rows", rows.len());
    assert!(rows.iter().all(|r| r["unit_id"].as_str().unwrap().starts_with("CF")));
    // Running the demo again starts from a fresh database: same counts.
    let again = Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(["demo", "--no-serve", "--demo-db"])
        .arg(&demo_db)
        .output()
        .unwrap();
    assert!(ok(again).0.contains("Imported 1848 "));
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let file = fixture("ucdp_ged_sample.csv");
    let (first, _) = ok(vitalcore(&db, &["import", file.to_str().unwrap()]));
    let [read, imported, updated, unchanged, rejected] = contract(&summary_line(&first, "ucdp_ged_sample.csv"));
    assert!(imported > 0);
    assert_eq!(read, imported + updated + unchanged + rejected);
    let (status1, _) = ok(vitalcore(&db, &["status"]));
    let (second, _) = ok(vitalcore(&db, &["import", file.to_str().unwrap()]));
    let again = contract(&summary_line(&second, "ucdp_ged_sample.csv"));
    assert_eq!(again, [read, 0, 0, imported, rejected]);
    let (status2, _) = ok(vitalcore(&db, &["status"]));
    let events = |s: &str| s.lines().find(|l| l.starts_with("events:")).unwrap().to_string();
    assert_eq!(events(&status1), events(&status2));
}

#[test]
fn bad_rows_are_rejected_with_line_and_field_and_good_rows_still_land() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let src = fixture("acled_current_with_bad_rows.csv");
    let file = dir.path().join("acled.csv");
    std::fs::copy(&src, &file).unwrap();
    let (stdout, stderr) = ok(vitalcore(&db, &["import", file.to_str().unwrap()]));
    let [read, imported, _, _, rejected] = contract(&summary_line(&stdout, "acled.csv"));
    assert!(rejected > 0 && imported > 0, "{stdout}");
    assert_eq!(read, imported + rejected);
    // Each reject names the file, a line and a field.
    let reject_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("rejected:")).collect();
    assert_eq!(reject_lines.len() as u64, rejected.min(10));
    assert!(reject_lines.iter().all(|l| l.contains("acled.csv") && l.contains("line")), "{stderr}");
    let rejects = std::fs::read_to_string(dir.path().join("acled.rejects.csv")).expect("rejects file written");
    assert!(rejects.lines().next().unwrap().ends_with("vitalcore_line,vitalcore_field,vitalcore_reason"));
    // --strict makes scripts notice.
    let strict = vitalcore(&db, &["import", "--strict", file.to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(3));
}

fn car_db(dir: &Path) -> PathBuf {
    let db = dir.join("car.db");
    ok(vitalcore(
        &db,
        &[
            "import",
            fixture("ucdp_ged_car.geojson").to_str().unwrap(),
            fixture("caf_adm1_simplified.geojson").to_str().unwrap(),
        ],
    ));
    db
}

#[test]
fn assess_writes_table_csv_hxl_and_json_with_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let (csv, _) = ok(vitalcore(&db, &["assess", "--format", "csv", "--period", "year"]));
    let (hxl, _) = ok(vitalcore(&db, &["assess", "--format", "hxl", "--period", "year"]));
    let (json, _) = ok(vitalcore(&db, &["assess", "--format", "json", "--period", "year"]));
    let rows = serde_json::from_str::<serde_json::Value>(&json).unwrap()["rows"].as_array().unwrap().len();
    assert!(rows > 0);
    assert_eq!(csv.lines().count(), rows + 1);
    assert_eq!(hxl.lines().count(), rows + 2);
    assert!(hxl.lines().nth(1).unwrap().starts_with("#adm1+code,"));
    let (table, _) = ok(vitalcore(&db, &["assess", "--period", "year"]));
    assert!(table.starts_with("unit_id"));
    let bad = vitalcore(&db, &["assess", "--from", "2014-13"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"));
}

#[test]
fn profile_by_name_and_a_clear_error_for_an_unknown_area() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let (json, _) = ok(vitalcore(&db, &["assess", "--format", "json", "--period", "all"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &v["rows"][0];
    let name = first["unit_name"].as_str().unwrap();
    let (profile, _) = ok(vitalcore(&db, &["profile", name, "--format", "json"]));
    let p: serde_json::Value = serde_json::from_str(&profile).unwrap();
    assert_eq!(p["unit_id"], first["unit_id"]);
    assert!(p["dimensions"].as_array().unwrap().iter().any(|d| d["category"] == "personal"));
    let missing = vitalcore(&db, &["profile", "Atlantis"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Atlantis"));
}

#[test]
fn geojson_export_carries_every_area_with_scores_and_no_event_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let (text, _) = ok(vitalcore(&db, &["export", "--format", "geojson"]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 17);
    let props = &features[0]["properties"];
    for key in
        ["pcode", "name", "events", "personal_critical", "personal_pervasive", "protection_of_civilians_critical"]
    {
        assert!(props.get(key).is_some(), "missing {key}");
    }
    assert!(!text.contains("source_article") && !text.contains("notes"));
}

#[test]
fn an_invalid_framework_file_is_refused_with_the_key_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let fw = dir.path().join("fw.toml");
    let text = vitalcore_framework::BUILTIN_TAXONOMY.replacen(
        "severity = 4\nwhy = \"One-sided",
        "severity = 7\nwhy = \"One-sided",
        1,
    );
    std::fs::write(&fw, text).unwrap();
    let out = vitalcore(
        &dir.path().join("x.db"),
        &["--framework", fw.to_str().unwrap(), "import", fixture("ucdp_ged_sample.csv").to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fw.toml") && err.contains("mappings.ucdp") && err.contains("severity"), "{err}");
}

/// A `vitalcore ... serve --addr 127.0.0.1:0` child, stopped when dropped
/// (also when an assertion panics), with the address it printed.
pub(crate) struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// Starts `command` and reads its `listening on http://ADDR/` line.
    pub(crate) fn start(mut command: Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("the binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().trim_start_matches("listening on http://").trim_end_matches('/').to_string();
        assert!(addr.contains(':'), "no address in {line:?}");
        Server { child, addr }
    }

    /// `vitalcore --db DB --quiet serve` on an ephemeral loopback port.
    pub(crate) fn on(db: &Path) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        command
            .arg("--db")
            .arg(db)
            .args(["--quiet", "serve", "--addr", "127.0.0.1:0"])
            .env_remove("VITALCORE_DATABASE_URL");
        Server::start(command)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// The body of a chunked or plain response, as JSON.
fn json_body(body: &str) -> serde_json::Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    // Chunked: drop the size lines.
    let mut out = String::new();
    let mut lines = body.split("\r\n");
    while let Some(size) = lines.next() {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            break;
        }
        out.push_str(lines.next().unwrap_or_default());
    }
    serde_json::from_str(&out).expect("JSON body")
}

#[test]
fn serve_answers_the_page_and_the_api_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let server = Server::on(&db);
    let addr = server.addr.clone();
    {
        let (status, page) = http_get(&addr, "/");
        assert_eq!(status, 200);
        assert!(page.contains("<svg id=\"map\"") && !page.contains("https://"), "the page loads nothing from outside");
        let (status, body) = http_get(&addr, "/api/v1/boundaries?unit=admin1");
        assert_eq!(status, 200);
        let fc = json_body(&body);
        assert_eq!(fc["features"].as_array().unwrap().len(), 17);
        let with_events =
            fc["features"].as_array().unwrap().iter().find(|f| f["properties"]["events"].as_u64() > Some(0)).unwrap();
        let id = with_events["properties"]["id"].as_str().unwrap().to_string();
        let (status, body) = http_get(&addr, &format!("/api/v1/areas/{id}/profile"));
        assert_eq!(status, 200, "{body}");
        let profile = json_body(&body);
        assert_eq!(profile["unit_id"], id);
        assert!(profile["links"].is_array(), "threat links are part of the profile");
        let (status, body) = http_get(&addr, "/api/v1/assessment?from=2014-99");
        assert_eq!(status, 400);
        assert!(json_body(&body)["error"].as_str().unwrap().contains("YYYY-MM"));
        let (status, _) = http_get(&addr, "/api/v1/areas/NOWHERE/profile");
        assert_eq!(status, 404);
    }
}

#[test]
fn a_revised_source_event_updates_the_record_and_keeps_the_prior_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let original = std::fs::read_to_string(fixture("acled_current_synthetic.csv")).unwrap();
    let first_id = original.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &original).unwrap();
    ok(vitalcore(&db, &["import", file.to_str().unwrap()]));
    // ACLED revises the fatalities of the first event: the last column but two.
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    let n = fields.len();
    let fat = n - 3;
    let revised: u32 = fields[fat].parse::<u32>().expect("fatalities column") + 5;
    fields[fat] = revised.to_string();
    lines[1] = fields.join(",");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (stdout, _) = ok(vitalcore(&db, &["import", file.to_str().unwrap()]));
    let [read, imported, updated, unchanged, rejected] = contract(&summary_line(&stdout, "export.csv"));
    assert_eq!((imported, updated, rejected), (0, 1, 0));
    assert_eq!(unchanged, read - 1);
    let (history, _) = ok(vitalcore(&db, &["history", "acled", &first_id, "--json"]));
    let versions: serde_json::Value = serde_json::from_str(&history).unwrap();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["event"]["fatalities"], revised);
    assert_eq!(versions[0]["event"]["fatalities"], revised - 5);
}

#[test]
fn network_builds_its_panel_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let (json, stderr) =
        ok(vitalcore(&db, &["network", "--unit", "admin1", "--permutations", "99", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let dims: Vec<&str> = v["dimensions"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dims.len(), 7, "the seven framework dimensions");
    assert!(v["pooled"]["tested"].as_u64().unwrap() > 0);
    assert!(stderr.contains("7 dimensions"), "{stderr}");
}

#[test]
fn local_risk_combines_the_threat_profile_with_imported_indicator_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/caf_indicators_synthetic.csv");
    let (stdout, _) = ok(vitalcore(&db, &["import", table.to_str().unwrap()]));
    assert!(stdout.contains("2 rows read = 2 imported"), "{stdout}");
    let (json, _) = ok(vitalcore(&db, &["index", "local", "--format", "json"]));
    let scores: serde_json::Value = serde_json::from_str(&json).unwrap();
    let scores = scores.as_array().unwrap();
    let area = |code: &str| scores.iter().find(|s| s["area"] == code).unwrap_or_else(|| panic!("{code} in {json}"));
    // Both prefectures have all indicators; Ouaka is poorer, hungrier and less served than Bangui.
    let (ouaka, bangui) = (area("CF43"), area("CF71"));
    let v = |s: &serde_json::Value, k: &str| s["components"][k].as_f64();
    assert!(v(ouaka, "vulnerability").unwrap() > v(bangui, "vulnerability").unwrap());
    assert!(v(ouaka, "coping").unwrap() > v(bangui, "coping").unwrap());
    // Risk exists wherever hazard, vulnerability and coping all do.
    for s in scores {
        let all = ["hazard", "vulnerability", "coping"].iter().all(|k| v(s, k).is_some());
        assert_eq!(s["risk"].as_f64().is_some(), all, "{s}");
    }
    // The profile carries the same risk.
    let (profile, _) = ok(vitalcore(&db, &["profile", "CF43", "--format", "json"]));
    let p: serde_json::Value = serde_json::from_str(&profile).unwrap();
    assert_eq!(p["risk"]["vulnerability"], ouaka["components"]["vulnerability"]);
}
mod aggregate;

#[test]
fn exports_suppress_small_community_report_counts_that_assess_shows_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = car_db(dir.path());
    for text in ["Armed men burned houses in the village", "Gunfire near the market, people fled"] {
        ok(vitalcore(
            &db,
            &[
                "report",
                "submit",
                "--text",
                text,
                "--area",
                "CF32",
                "--category",
                "attack",
                "--event-time",
                "2020-06-01",
            ],
        ));
    }
    let reports_col = |csv: &str| -> Vec<String> {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == "reports").unwrap();
        lines.map(|l| l.split(',').nth(i).unwrap().to_string()).filter(|v| v != "0").collect()
    };
    let (internal, _) = ok(vitalcore(&db, &["assess", "--format", "csv", "--period", "all"]));
    let exact = reports_col(&internal);
    // Two reports; the classifier may read one of them into a further dimension.
    assert!(exact.contains(&"2".to_string()), "{exact:?}");
    assert!(exact.iter().all(|v| v == "1" || v == "2"), "{exact:?}");
    let (published, _) = ok(vitalcore(&db, &["export", "--format", "csv", "--from", "2020-06", "--to", "2020-06"]));
    let shown = reports_col(&published);
    assert!(!shown.is_empty() && shown.iter().all(|v| v == "<5"), "{shown:?}");
    // Over the whole range (1989-2020, not a calendar month, quarter or
    // year) report counts are not published: windows cannot be differenced.
    let (published, _) = ok(vitalcore(&db, &["export", "--format", "csv", "--period", "all"]));
    let shown = reports_col(&published);
    assert!(!shown.is_empty() && shown.iter().all(|v| v == "np"), "{shown:?}");
    let (year, _) =
        ok(vitalcore(&db, &["export", "--format", "csv", "--from", "2020-01", "--to", "2020-12", "--period", "all"]));
    let shown = reports_col(&year);
    assert!(!shown.is_empty() && shown.iter().all(|v| v == "<5"), "a calendar year is published: {shown:?}");
}
mod corrections;
mod sitrep;
mod warnings;
