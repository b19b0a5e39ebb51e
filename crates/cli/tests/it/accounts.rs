//! Accounts an administrator controls, over the real binary: `vitalcore
//! users disable/enable/passwd/list/token --expires/tokens/revoke/sessions/
//! revoke-sessions` change what a running `vitalcore serve` lets in at the
//! next request; wrong passwords are throttled with 429 and `Retry-After`.

use super::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const PASSWORD: &str = "correct horse battery staple";

struct Site {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Site {
    fn new(users: &[(&str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let site = Site { db: dir.path().join("t.db"), _dir: dir };
        for (name, role) in users {
            site.stdin(&["users", "add", name, "--role", role, "--password-stdin"], PASSWORD);
        }
        site
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        c.arg("--db").arg(&self.db).args(args).env_remove("VITALCORE_DATABASE_URL").env("RUST_BACKTRACE", "0");
        c
    }

    /// Runs a command that must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail; its standard error.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn stdin(&self, args: &[&str], input: &str) -> String {
        let mut child =
            self.cmd(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{input}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn token(&self, user: &str, partner: &str, extra: &[&str]) -> String {
        let mut args = vec!["users", "token", user, "--partner", partner];
        args.extend(extra);
        self.ok(&args).trim().to_string()
    }

    fn serve(&self) -> Server {
        Server::start(self.cmd(&["--quiet", "serve", "--addr", "127.0.0.1:0"]))
    }
}

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.trim().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    Resp { status, head: head.to_string(), body: body.to_string() }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The login form's CSRF token and form cookie.
fn login_form(addr: &str) -> (String, String) {
    let page = http(addr, "GET", "/login", &[], b"");
    let at = page.body.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = page.body[at..].split('"').next().unwrap().to_string();
    (csrf, page.cookie("vc_form").unwrap())
}

fn login(addr: &str, form_csrf: &(String, String), user: &str, password: &str) -> Resp {
    let (csrf, cookie) = form_csrf;
    let body = form(&[("csrf", csrf), ("username", user), ("password", password)]);
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie.as_str())];
    http(addr, "POST", "/login", &headers, body.as_bytes())
}

/// Logs in; the session cookie (`vc_session=...`).
fn session(addr: &str, user: &str, password: &str) -> String {
    let r = login(addr, &login_form(addr), user, password);
    assert_eq!(r.status, 303, "{user} did not log in: {}", r.body);
    r.cookie("vc_session").unwrap()
}

/// The status of an authenticated API request with a session cookie.
fn with_cookie(addr: &str, cookie: &str) -> u16 {
    http(addr, "GET", "/api/v1/alerts", &[("Cookie", cookie)], b"").status
}

fn with_token(addr: &str, token: &str) -> u16 {
    http(addr, "GET", "/api/v1/alerts", &[("Authorization", &format!("Bearer {token}"))], b"").status
}

#[test]
fn disabling_a_user_or_changing_their_password_gets_their_next_request_a_401() {
    let site = Site::new(&[("admin1", "admin"), ("responder1", "responder")]);
    let token = site.token("responder1", "Partner NGO", &[]);
    let server = site.serve();
    let addr = &server.addr;
    let cookie = session(addr, "responder1", PASSWORD);
    let admin = session(addr, "admin1", PASSWORD);
    assert_eq!((with_cookie(addr, &cookie), with_token(addr, &token)), (200, 200));

    let out = site.ok(&["users", "disable", "responder1"]);
    assert_eq!(out.trim(), "responder1 disabled: 1 session ended, 1 API token revoked");
    assert_eq!((with_cookie(addr, &cookie), with_token(addr, &token)), (401, 401));
    assert_eq!(with_cookie(addr, &admin), 200, "other accounts keep their sessions");
    // The right password of a disabled account is refused like a wrong one.
    assert_eq!(login(addr, &login_form(addr), "responder1", PASSWORD).status, 401);
    let list = site.ok(&["users", "list"]);
    let row = list.lines().find(|l| l.starts_with("responder1")).unwrap();
    assert!(row.contains("responder") && row.contains("disabled"), "{list}");

    assert_eq!(site.ok(&["users", "enable", "responder1"]).trim(), "responder1 enabled");
    assert_eq!((with_cookie(addr, &cookie), with_token(addr, &token)), (401, 401), "nothing comes back");
    let cookie = session(addr, "responder1", PASSWORD);
    assert_eq!(with_cookie(addr, &cookie), 200);

    let new = "another phrase for responder one";
    let out = site.stdin(&["users", "passwd", "responder1", "--password-stdin"], new);
    assert_eq!(out.trim(), "responder1: new password set; 1 session ended, 0 API tokens revoked");
    assert_eq!(with_cookie(addr, &cookie), 401);
    assert_eq!(login(addr, &login_form(addr), "responder1", PASSWORD).status, 401);
    let cookie = session(addr, "responder1", new);
    assert_eq!(with_cookie(addr, &cookie), 200);
    // A refused password changes nothing.
    let out = site.cmd(&["users", "passwd", "responder1", "--password-stdin"]).stdin(Stdio::piped()).output();
    assert!(!out.unwrap().status.success());
    assert_eq!(with_cookie(addr, &cookie), 200);
    assert!(site.fails(&["users", "disable", "nobody"]).contains("no user `nobody`"));

    // The list as JSON.
    let json: serde_json::Value = serde_json::from_str(&site.ok(&["users", "list", "--format", "json"])).unwrap();
    let responder = json.as_array().unwrap().iter().find(|u| u["username"] == "responder1").unwrap();
    assert_eq!((responder["active"].as_bool(), responder["sessions"].as_u64()), (Some(true), Some(1)));

    // Another role ends the account's sessions; a focal point needs a community.
    let out = site.ok(&["users", "role", "responder1", "--role", "viewer"]);
    assert_eq!(out.trim(), "responder1 is now viewer; 1 session ended, 0 API tokens revoked");
    assert_eq!(with_cookie(addr, &cookie), 401);
    assert!(site.fails(&["users", "role", "responder1", "--role", "focal-point"]).contains("community"));
    let row = site.ok(&["users", "list"]).lines().find(|l| l.starts_with("responder1")).unwrap().to_string();
    assert!(row.contains("viewer") && row.contains("enabled"), "{row}");
}

#[test]
fn tokens_are_listed_expire_and_are_revoked_by_partner_or_by_id() {
    let site = Site::new(&[("analyst1", "analyst")]);
    let ngo = site.token("analyst1", "Partner NGO", &["--expires", "90d"]);
    let radio = site.token("analyst1", "Radio Ndeke", &[]);
    let brief = site.token("analyst1", "Brief", &["--expires", "2s"]);
    assert!(site.fails(&["users", "token", "analyst1", "--partner", "X", "--expires", "soon"]).contains("--expires"));
    let listed: serde_json::Value =
        serde_json::from_str(&site.ok(&["users", "tokens", "analyst1", "--format", "json"])).unwrap();
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 3);
    let of = |partner: &str| listed.iter().find(|t| t["partner"] == partner).unwrap().clone();
    let days = |t: &serde_json::Value| {
        let at = |k: &str| t[k].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
        (at("expires_at").as_second() - at("created_at").as_second()) / 86_400
    };
    assert_eq!(days(&of("Partner NGO")), 90);
    assert!(of("Radio Ndeke")["expires_at"].is_null());
    let radio_id = of("Radio Ndeke")["id"].as_str().unwrap().to_string();
    assert_eq!(radio_id.len(), 10);
    let table = site.ok(&["users", "tokens", "analyst1"]);
    assert!(table.starts_with("id") && table.contains(&radio_id) && table.contains("valid"), "{table}");
    assert!(!table.contains(&radio) && !table.contains(&ngo), "tokens are shown once only");

    let server = site.serve();
    let addr = &server.addr;
    assert_eq!((with_token(addr, &ngo), with_token(addr, &radio)), (200, 200));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(with_token(addr, &brief), 401, "expired");

    let out = site.ok(&["users", "revoke", "--partner", "Partner NGO"]);
    assert!(out.starts_with("revoked ") && out.contains("partner `Partner NGO`, acting as analyst1"), "{out}");
    assert_eq!((with_token(addr, &ngo), with_token(addr, &radio)), (401, 200));
    site.ok(&["users", "revoke", "--id", &radio_id.to_uppercase()]);
    assert_eq!(with_token(addr, &radio), 401);
    let states = site.ok(&["users", "tokens", "analyst1"]);
    assert_eq!(states.lines().skip(1).filter(|l| l.ends_with("revoked")).count(), 2, "{states}");
    assert!(states.lines().any(|l| l.contains("Brief") && l.contains("expired")), "{states}");
    assert!(site.fails(&["users", "revoke", "--partner", "Nobody"]).contains("no API token for partner `Nobody`"));
    assert!(site.fails(&["users", "revoke", "--id", "zz"]).contains("not a token id"));
    assert!(!site.cmd(&["users", "revoke"]).output().unwrap().status.success(), "say which");
}

#[test]
fn sessions_are_listed_and_ended_one_by_one_or_all() {
    let site = Site::new(&[("analyst1", "analyst")]);
    let server = site.serve();
    let addr = &server.addr;
    let first = session(addr, "analyst1", PASSWORD);
    let second = session(addr, "analyst1", PASSWORD);
    let listed: serde_json::Value =
        serde_json::from_str(&site.ok(&["users", "sessions", "analyst1", "--format", "json"])).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s["state"] == "live"));
    let table = site.ok(&["users", "sessions", "analyst1"]);
    assert!(table.starts_with("id") && table.contains("last_seen"), "{table}");
    // Which listed session is `first`: end one, see which cookie stops working.
    let id = listed[0]["id"].as_str().unwrap();
    assert_eq!(site.ok(&["users", "revoke-sessions", "analyst1", "--id", id]).trim(), "analyst1: 1 session ended");
    let (a, b) = (with_cookie(addr, &first), with_cookie(addr, &second));
    assert!((a, b) == (401, 200) || (a, b) == (200, 401), "{a} {b}");
    assert_eq!(site.ok(&["users", "revoke-sessions", "analyst1"]).trim(), "analyst1: 1 session ended");
    assert_eq!((with_cookie(addr, &first), with_cookie(addr, &second)), (401, 401));
    assert!(site.fails(&["users", "revoke-sessions", "analyst1", "--id", id]).contains("no session"));
}

#[test]
fn fifty_wrong_passwords_get_429_with_retry_after_and_then_so_does_the_right_one() {
    let site = Site::new(&[("admin1", "admin"), ("analyst1", "analyst")]);
    let server = site.serve();
    let addr = &server.addr;
    let form_csrf = login_form(addr);
    let mut statuses = Vec::new();
    for i in 0..50 {
        let r = login(addr, &form_csrf, "admin1", &format!("wrong guess number {i}"));
        if r.status == 429 {
            let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
            assert!(r.body.contains("Too many wrong passwords"), "{}", r.body);
        }
        statuses.push(r.status);
    }
    let refused = statuses.iter().filter(|&&s| s == 401).count();
    assert!((3..=5).contains(&refused), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 50 - refused, "{statuses:?}");
    assert!(statuses[..3].iter().all(|&s| s == 401), "three free tries: {statuses:?}");
    // The right password right after: throttled too, no session.
    let right = login(addr, &form_csrf, "admin1", PASSWORD);
    assert_eq!(right.status, 429, "logged in after 50 wrong passwords");
    assert!(right.header("retry-after").is_some() && right.cookie("vc_session").is_none());

    // The address: wrong passwords for many names from 127.0.0.1 slow every
    // login from it, analyst1's right one included.
    let mut by_address = false;
    for i in 0..12 {
        let r = login(addr, &form_csrf, &format!("nobody{i}"), "wrong password guess");
        by_address |= r.status == 429;
    }
    assert!(by_address, "per-address throttle");
    let other = login(addr, &form_csrf, "analyst1", PASSWORD);
    assert_eq!(other.status, 429);
    assert!(other.header("retry-after").is_some());
}
