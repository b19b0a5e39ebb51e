//! The audit trail end to end over the real binary on SQLite: the chain
//! verifies and prints its head; a contact read deleted, or a chain entry
//! altered, behind the store's back (its trigger dropped with a plain
//! SQLite connection) makes `vitalcore audit verify` fail naming the link;
//! entries cut off the end are caught against a written-down head. Also:
//! logins and exports are on record.

use super::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "correct horse battery staple";

struct Site {
    dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
}

impl Site {
    /// A database with a contact key and a responder, an analyst and an admin.
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("t.db"), dir.path().join("contact.key"));
        let site = Site { dir, db, key };
        site.ok(&["users", "keygen", "--out", site.key.to_str().unwrap()]);
        for (name, role) in [("responder1", "responder"), ("analyst1", "analyst"), ("admin1", "admin")] {
            site.with_stdin(&["users", "add", name, "--role", role, "--password-stdin"], PASSWORD);
        }
        site
    }

    fn cmd_on(&self, db: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        c.arg("--db").arg(db).arg("--key-file").arg(&self.key).args(args);
        c.env_remove("VITALCORE_DATABASE_URL").env("RUST_BACKTRACE", "0");
        c
    }

    fn run_on(&self, db: &Path, args: &[&str]) -> Output {
        self.cmd_on(db, args).output().expect("the binary runs")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_on(&self.db, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn with_stdin(&self, args: &[&str], input: &str) {
        let mut child = self
            .cmd_on(&self.db, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{input}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A copy of the database (with its WAL, when the last connection left
    /// one), to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let to = self.dir.path().join(name);
        std::fs::copy(&self.db, &to).unwrap();
        let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
        if wal(&self.db).exists() {
            std::fs::copy(wal(&self.db), wal(&to)).unwrap();
        }
        to
    }

    fn entries(&self) -> Vec<serde_json::Value> {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["audit", "list", "--limit", "1000", "--format", "json"])).unwrap();
        v.as_array().unwrap().clone()
    }

    /// A report with a contact whose phone is read (and exported) through
    /// the SMS outbox; returns its reference.
    fn reveal_a_contact(&self) -> String {
        let args = ["report", "submit", "--text", "Two girls taken near Bouca", "--area", "CF32"];
        let out = self.cmd_on(&self.db, &args).env("VITALCORE_CONTACT", "+236 72 00 00 01").output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        let reference = String::from_utf8_lossy(&out.stdout).trim().to_string();
        self.ok(&["alerts", "ack", &reference, "--as", "responder1"]);
        self.ok(&["alerts", "unfounded", &reference, "--reason", "nobody knew of it", "--as", "responder1"]);
        self.ok(&[
            "alerts",
            "feedback",
            &reference,
            "--message",
            "We went and found nothing",
            "--channel",
            "sms",
            "--as",
            "responder1",
        ]);
        let out = self.dir.path().join("outbox.csv");
        self.ok(&["feedback", "outbox", "export", "--out", out.to_str().unwrap(), "--as", "responder1"]);
        reference
    }
}

fn verify(site: &Site, db: &Path, head: Option<&str>) -> (bool, String, String) {
    let mut args = vec!["audit", "verify"];
    if let Some(h) = head {
        args.extend(["--head", h]);
    }
    let out = site.run_on(db, &args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `head: SEQ:HASH` as `audit verify` prints it.
fn head_line(stdout: &str) -> String {
    stdout.lines().find_map(|l| l.strip_prefix("head: ")).unwrap_or_else(|| panic!("no head in {stdout}")).to_string()
}

fn seq_of(entries: &[serde_json::Value], action: &str) -> u64 {
    entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action} entry: {entries:?}"))["seq"]
        .as_u64()
        .unwrap()
}

#[test]
fn tampering_behind_the_stores_back_is_named_by_audit_verify() {
    let site = Site::new();
    let reference = site.reveal_a_contact();
    let entries = site.entries();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["user_created", "alert_step", "contact_read", "export"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let read = seq_of(&entries, "contact_read");
    assert_eq!(entries[read as usize - 1]["subject"], reference.as_str());
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("72 00 00 01") && !text.contains("Bouca"), "no contact and no report text: {text}");

    // Untouched: exit 0, the head printed to write down.
    let (ok, stdout, stderr) = verify(&site, &site.db, None);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("audit chain intact") && stdout.contains("1 contact reads"), "{stdout}");
    let head = head_line(&stdout);
    let last = entries.last().unwrap();
    assert_eq!(head, format!("{}:{}", last["seq"], last["hash"].as_str().unwrap()));
    assert!(verify(&site, &site.db, Some(&head)).0);

    // The contact read deleted after its trigger was dropped: the chain is
    // intact, but its entry has no row any more.
    let deleted = site.copy("deleted.db");
    let conn = rusqlite::Connection::open(&deleted).unwrap();
    conn.execute_batch("DROP TRIGGER contact_reads_no_delete; DELETE FROM contact_reads;").unwrap();
    drop(conn);
    let (ok, _, stderr) = verify(&site, &deleted, None);
    assert!(!ok, "a deleted contact read goes unnoticed");
    assert!(
        stderr.contains(&format!("entry #{read} (contact_read by u-responder1 on {reference}"))
            && stderr.contains("has no row in contact_reads"),
        "{stderr}"
    );

    // A chain entry altered after its trigger was dropped.
    let altered = site.copy("altered.db");
    let conn = rusqlite::Connection::open(&altered).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'u-analyst1' WHERE action = 'contact_read';",
    )
    .unwrap();
    drop(conn);
    let (ok, _, stderr) = verify(&site, &altered, None);
    assert!(!ok);
    assert!(stderr.contains(&format!("entry #{read} was altered")), "{stderr}");

    // The last entries cut off after the trigger was dropped: a valid chain
    // on its own, but the written-down head is gone.
    let cut = site.copy("cut.db");
    let conn = rusqlite::Connection::open(&cut).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE action = 'export';").unwrap();
    drop(conn);
    assert!(verify(&site, &cut, None).0, "nothing to see without the head");
    let (ok, _, stderr) = verify(&site, &cut, Some(&head));
    assert!(!ok);
    assert!(stderr.contains("is not in the chain"), "{stderr}");
}

#[test]
fn exports_and_web_logins_are_on_record() {
    let site = Site::new();
    site.ok(&["import", super::fixture("caf_adm1_simplified.geojson").to_str().unwrap()]);
    site.ok(&["import", super::fixture("ucdp_ged_car.geojson").to_str().unwrap()]);
    let out = site.dir.path().join("threats.geojson");
    site.ok(&["export", "--format", "geojson", "--out", out.to_str().unwrap()]);
    let server = Server::start(site.cmd_on(&site.db, &["--quiet", "serve", "--addr", "127.0.0.1:0"]));
    let addr = &server.addr;
    let page = http(addr, "GET", "/login", &[], "");
    let cookie = page
        .0
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: vc_form=").or_else(|| l.strip_prefix("Set-Cookie: vc_form=")));
    let cookie = format!("vc_form={}", cookie.expect("a form cookie").split(';').next().unwrap());
    let at = page.1.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = page.1[at..].split('"').next().unwrap().to_string();
    let form =
        |user: &str, password: &str| format!("csrf={csrf}&username={user}&password={}", password.replace(' ', "+"));
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie.as_str())];
    for (user, password, status) in [
        ("responder1", "not the password", "401"),
        ("no-such-person", PASSWORD, "401"),
        ("responder1", PASSWORD, "303"),
    ] {
        let (head, _) = http(addr, "POST", "/login", &headers, &form(user, password));
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{user}: {head}");
    }
    drop(server);
    let entries = site.entries();
    let export = &entries[seq_of(&entries, "export") as usize - 1];
    assert_eq!(export["actor"], "system:cli");
    assert!(export["subject"].as_str().unwrap().ends_with("threats.geojson"), "{export}");
    let logins: Vec<(String, String, String)> = entries
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("login"))
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
                e["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        logins,
        vec![
            ("login_failed".into(), "system:web-login".into(), "responder1".into()),
            ("login_failed".into(), "system:web-login".into(), String::new()),
            ("login".into(), "u-responder1".into(), "responder1".into()),
        ]
    );
    let (ok, stdout, _) = verify(&site, &site.db, None);
    assert!(ok, "{stdout}");
}

/// One request; (head, body).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    let (head, body) = buf.split_once("\r\n\r\n").unwrap_or((&buf, ""));
    (head.to_string(), body.to_string())
}
