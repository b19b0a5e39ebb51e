//! Community intake end to end over real HTTP against the running binary:
//! the SMS webhooks (closed without their secrets, Twilio signatures,
//! RapidPro's shared secret, a repeated message stored once), secrets and
//! contacts kept off the command line, KoBo import through the CLI, reports
//! in the assessment, the SMS outbox. Bad input gets a 4xx with its reason
//! and stores nothing. The routes one by one (the report form and its CSRF,
//! the partner API, focal points, the alert workflow and page, contact
//! reveal) are tested on the server itself, in `crates/server/tests/http`.

use super::Server;

mod disclosure;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) fn import_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures").join(name)
}

pub(crate) fn kobo_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../intake/tests/fixtures/kobo").join(name)
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) struct Site {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
    pub(crate) key: PathBuf,
}

impl Site {
    /// A database with the CAR prefectures, a contact key and five accounts.
    pub(crate) fn new() -> Site {
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

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary runs")
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
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

    pub(crate) fn token(&self, user: &str) -> String {
        self.ok(&["users", "token", user, "--partner", &format!("partner-of-{user}")]).trim().to_string()
    }

    pub(crate) fn serve(&self, extra: &[&str]) -> Server {
        let mut args = vec!["--quiet", "serve", "--addr", "127.0.0.1:0"];
        args.extend(extra);
        Server::start(self.cmd(&args))
    }

    /// `serve` (not quiet) with `extra` arguments and environment variables;
    /// returns the server and what it wrote on stderr before listening.
    pub(crate) fn serve_saying(&self, extra: &[&str], env: &[(&str, &str)]) -> (Server, String) {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        args.extend(extra);
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = self.dir.path().join(format!("serve-{n}.log"));
        let mut cmd = self.cmd(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stderr(std::fs::File::create(&log).unwrap());
        let server = Server::start(cmd);
        (server, std::fs::read_to_string(&log).unwrap())
    }

    /// Runs a command with environment variables set (secrets are passed so).
    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("the binary runs")
    }

    /// Runs a command that must end at once (a refusal); one still running
    /// after 20 s (a server the old code started) is killed, so the test
    /// fails instead of waiting for ever.
    fn run_briefly(&self, args: &[&str]) -> Output {
        let mut child = self.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }

    /// A config file readable by its owner only, as one holding secrets must be.
    fn config(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        make_private(&path);
        path
    }
}

#[cfg(unix)]
fn make_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(not(unix))]
fn make_private(_path: &Path) {}

pub(crate) const TWILIO_TOKEN: &str = "twilio-auth-token-for-tests";
const RAPIDPRO_SECRET: &str = "rapidpro-shared-secret-0123456789";

/// The `X-Twilio-Signature` Twilio would send for `body` posted to `url`.
pub(crate) fn twilio_signature(url: &str, pairs: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vitalcore_security::webhook::twilio_signature(TWILIO_TOKEN, url, &params)
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `name=value` of a Set-Cookie header.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
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
pub(crate) fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
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

pub(crate) fn post_json(addr: &str, path: &str, token: &str, body: &str) -> Resp {
    let auth = bearer(token);
    http(addr, "POST", path, &[("Authorization", &auth), ("Content-Type", "application/json")], body.as_bytes())
}

pub(crate) fn get_auth(addr: &str, path: &str, token: &str) -> Resp {
    let auth = bearer(token);
    http(addr, "GET", path, &[("Authorization", &auth)], b"")
}

/// Reports the admin can see, by the API.
pub(crate) fn stored_count(addr: &str, admin: &str) -> u64 {
    let r = get_auth(addr, "/api/v1/reports?limit=1", admin);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["total"].as_u64().unwrap()
}

pub(crate) fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
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
fn twilio_and_rapidpro_webhooks_answer_with_the_reference_and_refuse_bad_bodies() {
    let site = Site::new();
    let admin = site.token("admin1");
    let config = site.config(
        "vitalcore.toml",
        &format!("[webhooks]\ntwilio_auth_token = \"{TWILIO_TOKEN}\"\nrapidpro_secret = \"{RAPIDPRO_SECRET}\"\n"),
    );
    let (server, said) = site.serve_saying(&["--config", config.to_str().unwrap()], &[]);
    let from_file = format!("secret from the config file {}", config.display());
    assert_eq!(said.matches(&from_file).count(), 2, "both SMS channels open, secrets from the file:\n{said}");
    let addr = &server.addr;
    let url = format!("http://{addr}/sms/twilio");
    let form = "application/x-www-form-urlencoded";
    let twilio = |pairs: &[(&str, &str)]| {
        let signature = twilio_signature(&url, pairs);
        let headers = [("Content-Type", form), ("X-Twilio-Signature", &signature)];
        http(addr, "POST", "/sms/twilio", &headers, form_encode(pairs).as_bytes())
    };
    let token = format!("Token {RAPIDPRO_SECRET}");
    let rapidpro = |ctype: &str, body: &[u8]| {
        http(addr, "POST", "/sms/rapidpro", &[("Content-Type", ctype), ("Authorization", &token)], body)
    };

    let r = twilio(&[
        ("From", "+23672000001"),
        ("To", "+15005550006"),
        ("Body", "URGENT des hommes armés ont attaqué le village hier"),
        ("MessageSid", "SM0001"),
    ]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header_line("content-type").unwrap().contains("xml"));
    assert!(
        r.body.starts_with("<?xml") && r.body.contains("<Response><Message>") && r.body.contains("Référence"),
        "{}",
        r.body
    );
    let at = r.body.find("VC-").unwrap();
    let reference = &r.body[at..at + 11];
    let stored = get_auth(addr, &format!("/api/v1/reports/{reference}"), &admin).json();
    assert_eq!(stored["channel"]["gateway"], "twilio");
    assert_eq!(stored["urgency"], "high", "URGENT at the start reads as high");
    assert_eq!(stored["has_contact"], true);
    assert!(stored["reporter_id"].as_str().unwrap().starts_with("r-"), "a pseudonym, not the number");

    let en = twilio(&[
        ("From", "+23672000002"),
        ("Body", "The well was poisoned and we need help please"),
        ("MessageSid", "SM0002"),
    ]);
    assert!(en.body.contains("Reference:"), "{}", en.body);
    let rapid =
        r#"{"contact":{"urn":"tel:+23672000003"},"input":{"text":"Cholera cases at the health post","uuid":"u-1"}}"#;
    let rp = rapidpro("application/json", rapid.as_bytes());
    assert_eq!(rp.status, 200, "{}", rp.body);
    assert!(rp.json()["reference"].as_str().unwrap().starts_with("VC-"));

    let before = stored_count(addr, &admin);
    // Not form data: nothing to check a signature on, and the reason says why.
    let bad_escape =
        http(addr, "POST", "/sms/twilio", &[("Content-Type", form)], b"From=%2B236&Body=%ZZ&MessageSid=SM9");
    assert_eq!(bad_escape.status, 400, "{}", bad_escape.body);
    assert!(bad_escape.body.contains("percent"));
    let no_from = twilio(&[("Body", "hello"), ("MessageSid", "SM9")]);
    assert_eq!(no_from.status, 422);
    assert!(no_from.body.contains("From"));
    let long = "a".repeat(20 * 1024);
    let too_large = twilio(&[("From", "+236"), ("MessageSid", "SM9"), ("Body", &long)]);
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    let enormous = format!("From=%2B236&MessageSid=SM9&Body={}", "a".repeat(200 * 1024));
    assert_eq!(http(addr, "POST", "/sms/twilio", &[("Content-Type", form)], enormous.as_bytes()).status, 413);
    assert_eq!(rapidpro("application/json", b"{\"contact\": ").status, 400);
    // An empty message is answered (so the reporter learns why) but not stored.
    let empty = twilio(&[("From", "+23672000009"), ("Body", ""), ("MessageSid", "SM10")]);
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("empty"), "{}", empty.body);
    assert_eq!(stored_count(addr, &admin), before, "nothing partial was stored");
}

/// The attack of the issue: a forged webhook with a sender of the
/// attacker's choosing. With no secret configured both SMS routes refuse
/// every request, store nothing, and the start-up message says they are
/// closed and how to open them.
#[test]
fn sms_webhooks_refuse_every_request_until_a_secret_is_configured_and_say_so_at_start_up() {
    let site = Site::new();
    let admin = site.token("admin1");
    let (server, said) = site.serve_saying(&[], &[]);
    let addr = &server.addr;
    let forged = [("From", "+23670000666"), ("Body", "Fake: attack in Bouca, call me"), ("MessageSid", "SM1")];
    let signature = twilio_signature(&format!("http://{addr}/sms/twilio"), &forged);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for headers in [&form[..], &[form[0], ("X-Twilio-Signature", signature.as_str())][..]] {
        let r = http(addr, "POST", "/sms/twilio", headers, form_encode(&forged).as_bytes());
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("closed") && r.body.contains("nothing was stored"), "{}", r.body);
    }
    let json = r#"{"contact":{"urn":"tel:+23670000666"},"input":{"text":"Fake report","uuid":"u-1"}}"#;
    for auth in [None, Some("Token anything-at-all-0123456789")] {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(auth.map(|a| ("Authorization", a)));
        let r = http(addr, "POST", "/sms/rapidpro", &headers, json.as_bytes());
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("closed"), "{}", r.body);
    }
    let form_body = b"from=%2B23670000666&text=Fake+report&id=7";
    let r = http(addr, "POST", "/sms/rapidpro", &form, form_body);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(stored_count(addr, &admin), 0, "nothing forged was stored");
    for line in [
        "web form (/report): open",
        "partner API (/api/v1/reports): token required",
        "SMS Twilio (/sms/twilio): closed (no auth token configured",
        "SMS RapidPro (/sms/rapidpro): closed (no shared secret configured",
        "VITALCORE_TWILIO_AUTH_TOKEN",
        "VITALCORE_RAPIDPRO_SECRET",
    ] {
        assert!(said.contains(line), "`{line}` not in the start-up message:\n{said}");
    }
}

/// With the auth token (here from the environment), only a request signed
/// for this server's URL is taken; Twilio delivering the same message again
/// (or anyone replaying the signed request) gets the same reference and no
/// second report is stored.
#[test]
fn twilio_needs_a_valid_signature_and_a_repeated_message_stores_no_second_report() {
    let site = Site::new();
    let admin = site.token("admin1");
    let public = "https://alerts.example.org";
    let (server, said) = site.serve_saying(&["--public-url", public], &[("VITALCORE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)]);
    let addr = &server.addr;
    let pairs = [("From", "+23672000001"), ("Body", "Armed men burned the school in Bouca"), ("MessageSid", "SMa1")];
    let body = form_encode(&pairs);
    let post = |signature: Option<&str>, body: &str| {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend(signature.map(|s| ("X-Twilio-Signature", s)));
        http(addr, "POST", "/sms/twilio", &headers, body.as_bytes())
    };
    let good = twilio_signature(&format!("{public}/sms/twilio"), &pairs);
    let other_url = twilio_signature(&format!("http://{addr}/sms/twilio"), &pairs);
    let other_token = vitalcore_security::webhook::twilio_signature(
        "another-account-token",
        &format!("{public}/sms/twilio"),
        &pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>(),
    );
    let other_sender = form_encode(&[pairs[0], pairs[1], ("MessageSid", "SMa2")]).replace("23672000001", "23670000666");
    for (signature, body, why) in [
        (None, body.as_str(), "no signature"),
        (Some("bm90LWl0"), body.as_str(), "garbage"),
        (Some(other_url.as_str()), body.as_str(), "signed for another URL"),
        (Some(other_token.as_str()), body.as_str(), "signed with another token"),
        (Some(good.as_str()), other_sender.as_str(), "the sender changed after signing"),
    ] {
        let r = post(signature, body);
        assert_eq!(r.status, 403, "{why}: {}", r.body);
        assert!(r.body.contains("X-Twilio-Signature"), "{why}: {}", r.body);
    }
    assert_eq!(stored_count(addr, &admin), 0);
    let first = post(Some(&good), &body);
    assert_eq!(first.status, 200, "{}", first.body);
    let at = first.body.find("VC-").unwrap();
    let reference = first.body[at..at + 11].to_string();
    let again = post(Some(&good), &body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, first.body, "the same receipt, with the same reference");
    assert_eq!(stored_count(addr, &admin), 1, "a repeated MessageSid is not a second report");
    let stored = get_auth(addr, &format!("/api/v1/reports/{reference}"), &admin).json();
    assert_eq!(stored["channel"]["gateway"], "twilio");
    assert!(
        said.contains(
            "SMS Twilio (/sms/twilio): open (X-Twilio-Signature required, checked for \
             https://alerts.example.org/sms/twilio); secret from VITALCORE_TWILIO_AUTH_TOKEN"
        ),
        "{said}"
    );
    assert!(said.contains("SMS RapidPro (/sms/rapidpro): closed"), "{said}");
    assert!(!said.contains(TWILIO_TOKEN), "the token is never printed");
}

/// RapidPro needs the shared secret (here from the environment) in
/// `Authorization: Token <secret>`; a repeated message id is answered with
/// the first reference and stores nothing.
#[test]
fn rapidpro_needs_the_shared_secret_and_a_repeated_message_stores_no_second_report() {
    let site = Site::new();
    let admin = site.token("admin1");
    let (server, said) = site.serve_saying(&[], &[("VITALCORE_RAPIDPRO_SECRET", RAPIDPRO_SECRET)]);
    let addr = &server.addr;
    let json =
        r#"{"contact":{"urn":"tel:+23672000003"},"input":{"text":"Cholera cases at the health post","uuid":"u-7"}}"#;
    let post = |auth: Option<&str>, body: &str| {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(auth.map(|a| ("Authorization", a)));
        http(addr, "POST", "/sms/rapidpro", &headers, body.as_bytes())
    };
    let right = format!("Token {RAPIDPRO_SECRET}");
    let wrong_scheme = format!("Bearer {RAPIDPRO_SECRET}");
    let longer = format!("Token {RAPIDPRO_SECRET}x");
    for auth in [
        None,
        Some("Token wrong-secret-0123456789"),
        Some(wrong_scheme.as_str()),
        Some(longer.as_str()),
        Some("Token "),
    ] {
        let r = post(auth, json);
        assert_eq!(r.status, 403, "{auth:?}: {}", r.body);
        assert!(r.body.contains("Authorization: Token"), "{}", r.body);
    }
    assert_eq!(stored_count(addr, &admin), 0);
    let first = post(Some(&right), json);
    assert_eq!(first.status, 200, "{}", first.body);
    let reference = first.json()["reference"].as_str().unwrap().to_string();
    let again = post(Some(&right), json);
    assert_eq!((again.status, again.json()["reference"].as_str().unwrap()), (200, reference.as_str()));
    // The external channel's form, with its own message id.
    let form = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", right.as_str())];
    let body = b"from=%2B23672000004&text=Water+point+destroyed&id=4411";
    let a = http(addr, "POST", "/sms/rapidpro", &form, body).json()["reference"].clone();
    let b = http(addr, "POST", "/sms/rapidpro", &form, body).json()["reference"].clone();
    assert!(a.as_str().unwrap().starts_with("VC-") && a == b, "{a} {b}");
    assert_eq!(stored_count(addr, &admin), 2, "one report per message");
    assert!(
        said.contains(
            "SMS RapidPro (/sms/rapidpro): open (shared secret required as `Authorization: Token <secret>`); \
             secret from VITALCORE_RAPIDPRO_SECRET"
        ),
        "{said}"
    );
    assert!(said.contains("SMS Twilio (/sms/twilio): closed"), "{said}");
    assert!(!said.contains(RAPIDPRO_SECRET), "the secret is never printed");
}

/// Secrets and reporters' contacts never go on the command line, where
/// every user of the computer sees them (`ps`): the old flags are refused
/// with what to do instead, and a config file holding secrets that others
/// can read is refused with the `chmod 600` that fixes it.
#[test]
fn secrets_and_contacts_are_refused_on_the_command_line_and_in_a_config_file_others_can_read() {
    let site = Site::new();
    let flag = site.run_briefly(&["serve", "--addr", "127.0.0.1:0", "--twilio-auth-token", "12345"]);
    let said = String::from_utf8_lossy(&flag.stderr);
    assert!(!flag.status.success());
    assert!(said.contains("--twilio-auth-token is no longer accepted"), "{said}");
    assert!(
        said.contains("[webhooks]") && said.contains("--config") && said.contains("VITALCORE_TWILIO_AUTH_TOKEN"),
        "{said}"
    );

    #[cfg(unix)]
    {
        let config = site.config("open.toml", &format!("[webhooks]\nrapidpro_secret = \"{RAPIDPRO_SECRET}\"\n"));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = site.run_briefly(&["serve", "--addr", "127.0.0.1:0", "--config", config.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&open.stderr);
        assert!(!open.status.success());
        assert!(said.contains(&format!("chmod 600 {}", config.display())), "{said}");
        assert!(said.contains("0644"), "{said}");
        // Without a secret in it, a public file is fine (public_url only).
        let public = site.dir.path().join("public.toml");
        std::fs::write(&public, "[webhooks]\npublic_url = \"https://alerts.example.org\"\n").unwrap();
        let (_server, said) = site.serve_saying(&["--config", public.to_str().unwrap()], &[]);
        assert!(said.contains("SMS Twilio (/sms/twilio): closed"), "{said}");
    }

    let short = site.config("short.toml", "[webhooks]\nrapidpro_secret = \"abc\"\n");
    let refused = site.run_briefly(&["serve", "--addr", "127.0.0.1:0", "--config", short.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("at least 16"), "a guessable secret is refused");

    let contact = site.run(&["report", "submit", "--text", "Shots at night", "--contact", "+236 72 00 00 01"]);
    let said = String::from_utf8_lossy(&contact.stderr);
    assert!(!contact.status.success());
    assert!(said.contains("--contact-stdin") && said.contains("VITALCORE_CONTACT"), "{said}");
    let listed: serde_json::Value = serde_json::from_str(&site.ok(&["report", "list", "--format", "json"])).unwrap();
    assert!(listed.as_array().unwrap().is_empty(), "nothing stored");

    let by_stdin =
        site.run_stdin(&["report", "submit", "--text", "Shots at night", "--contact-stdin"], "+236 72 00 00 01");
    let by_env =
        site.run_env(&["report", "submit", "--text", "Cattle stolen"], &[("VITALCORE_CONTACT", "72 00 00 02")]);
    assert!(by_env.status.success(), "{}", String::from_utf8_lossy(&by_env.stderr));
    let by_env = String::from_utf8_lossy(&by_env.stdout).trim().to_string();
    for reference in [by_stdin.trim(), &by_env] {
        let shown: serde_json::Value =
            serde_json::from_str(&site.ok(&["report", "show", reference, "--format", "json"])).unwrap();
        assert_eq!(shown["has_contact"], true, "{reference}");
    }
    let twice =
        site.cmd(&["report", "submit", "--text", "x", "--contact-stdin"]).env("VITALCORE_CONTACT", "1").output();
    assert!(String::from_utf8_lossy(&twice.unwrap().stderr).contains("given twice"));
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
        .args(["report", "submit", "--text", "x"])
        .env("VITALCORE_CONTACT", "+236")
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
    let economic = |path: &str| {
        let published = http(&server.addr, "GET", path, &[], b"").json();
        assert_eq!(published["disclosure"]["audience"], "public", "{path}");
        published["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit_id"] == "CF32" && r["category"] == "economic")
            .unwrap()
            .clone()
    };
    let row = economic("/api/v1/assessment?from=2020-06&to=2020-06");
    assert_eq!(row["reports"], serde_json::Value::Null, "3 reports is below 5: suppressed");
    let row = economic("/api/v1/assessment?period=all");
    assert_eq!(row["reports"], serde_json::Value::Null, "the whole range is not a publication period");
    assert_eq!(row["events"], serde_json::json!(row["events"].as_u64().unwrap()), "event counts are not affected");
}

// ---- feedback to reporters by SMS: the outbox ----

/// `report submit` as the CLI does it; returns the reference.
fn submit(site: &Site, text: &str, language: &str, contact: Option<&str>) -> String {
    let args = ["report", "submit", "--text", text, "--area", "CF32", "--category", "attack", "--language", language];
    let Some(c) = contact else { return site.ok(&args).trim().to_string() };
    let out = site.run_env(&args, &[("VITALCORE_CONTACT", c)]);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
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
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
        let open =
            site.run(&["feedback", "outbox", "send", "--config", config.to_str().unwrap(), "--as", "responder1"]);
        assert!(String::from_utf8_lossy(&open.stderr).contains("chmod 600"), "the gateway's token is a secret too");
        assert_eq!(status_of(&site, &first).0, "queued");
    }
    make_private(&config);
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
