//! Notifications to duty officers over real protocols on loopback: a
//! webhook receiver checking the signature, a tiny SMTP server, a fake SMS
//! gateway; `serve` killed (SIGKILL) between the alert and the send, then
//! restarted: the webhook is received exactly once. Bad `[notify]` settings
//! refused at start-up naming the key; ACK by SMS from a staff phone.

use super::intake::{Site, TWILIO_TOKEN, form_encode, http, post_json, twilio_signature};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "webhook-secret-0123456789abcdef";

fn private(site: &Site, name: &str, text: &str) -> PathBuf {
    let path = site.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// One HTTP request as received: head and body.
#[derive(Clone, Debug)]
struct Received {
    head: String,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, rest) = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&buf[..at]).into_owned(), buf[at + 4..].to_vec());
        }
    };
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = rest;
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { head, body: String::from_utf8(body).unwrap() })
}

/// An HTTP server on `listener` answering every request with (status,
/// body), recording what it received, until the test ends.
fn receiver(listener: TcpListener, status: u16, answer: &'static str) -> Arc<Mutex<Vec<Received>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                while let Some(request) = read_request(&mut stream) {
                    seen.lock().unwrap().push(request);
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if stream.write_all(reply.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    out
}

fn wait_for<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const CRITICAL: &str = r#"{"text":"Armed men are entering the village now","latitude":6.49,"longitude":17.45,"category":"attack","urgency":"critical"}"#;

#[test]
fn a_critical_alert_reaches_the_webhook_signed_and_exactly_once_across_a_kill_9_before_the_send() {
    let site = Site::new();
    let analyst = site.token("analyst1");
    // A port with nothing listening yet: the first attempts are refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = private(
        &site,
        "notify.toml",
        &format!(
            "[notify]\nmin_urgency = \"high\"\nbase_url = \"https://alerts.example.org\"\nescalations = false\n\
             [[notify.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:{port}/hook\"\nsecret = \"{SECRET}\"\n"
        ),
    );
    let config = config.to_str().unwrap();
    let server = site.serve(&["--config", config]);
    let created = post_json(&server.addr, "/api/v1/reports", &analyst, CRITICAL);
    assert_eq!(created.status, 201, "{}", created.body);
    let reference = created.json()["reference"].as_str().unwrap().to_string();
    // A low-urgency report queues nothing.
    let low = CRITICAL.replace("critical", "low").replace("now", "yesterday");
    assert_eq!(post_json(&server.addr, "/api/v1/reports", &analyst, &low).status, 201);
    // The worker tries, the receiver is down: the attempt is recorded and retried later.
    wait_for("a first failed attempt", 20, || {
        let list = site.ok(&["notify", "list", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        let d = &v.as_array()?.first()?["delivery"];
        (d["attempts"].as_u64()? >= 1 && d["status"] != "sending").then_some(())
    });
    drop(server); // SIGKILL: the notification is queued, not sent.

    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let seen = receiver(listener, 200, "{}");
    let server = site.serve(&["--config", config]);
    let got = wait_for("the webhook", 30, || seen.lock().unwrap().first().cloned());
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(seen.lock().unwrap().len(), 1, "sent exactly once");
    drop(server);

    assert!(got.head.starts_with("POST /hook "), "{}", got.head);
    let signature = got.header("X-Vitalcore-Signature").expect("signed");
    assert!(vitalcore_security::webhook::vitalcore_signature_matches(SECRET, got.body.as_bytes(), &signature));
    assert!(!vitalcore_security::webhook::vitalcore_signature_matches(
        "another-secret-0123456789",
        got.body.as_bytes(),
        &signature
    ));
    assert!(got.header("Idempotency-Key").is_some_and(|k| k.starts_with("vitalcore-notify-")));
    let body: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["area_pcode", "at", "category", "kind", "link", "reference", "urgency"]);
    assert!(got.body.starts_with(r#"{"kind":"alert.new","reference":""#), "the issue's field order: {}", got.body);
    assert_eq!(body["kind"], "alert.new");
    assert_eq!(body["reference"], reference.as_str());
    assert_eq!(body["area_pcode"], "CF32");
    assert_eq!(body["urgency"], "critical");
    assert_eq!(body["link"], format!("https://alerts.example.org/alerts#{reference}"));
    assert!(!got.body.contains("Armed men") && !got.body.contains("village"), "never the report's text");

    let list = site.ok(&["notify", "list"]);
    assert!(list.contains("sent") && list.contains(&reference), "{list}");
}

/// A minimal SMTP server (RFC 5321 subset: EHLO, AUTH PLAIN, MAIL, RCPT,
/// DATA, NOOP, RSET, QUIT) accepting the login `user`/`pass` when `accept`,
/// recording each message's DATA.
fn smtp_server(accept: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let out = mails.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mails = mails.clone();
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let _ = w.write_all(b"220 localhost test SMTP\r\n");
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") {
                        "250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
                    } else if upper.starts_with("AUTH PLAIN") {
                        let given = line.split_whitespace().nth(2).unwrap_or("");
                        // base64("\0user\0pass")
                        if accept && given == "AHVzZXIAcGFzcw==" {
                            "235 ok\r\n".into()
                        } else {
                            "535 5.7.8 bad login\r\n".into()
                        }
                    } else if upper.starts_with("DATA") {
                        let _ = w.write_all(b"354 go on\r\n");
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(&l);
                        }
                        mails.lock().unwrap().push(data);
                        "250 queued\r\n".into()
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        "250 ok\r\n".into()
                    };
                    if w.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, out)
}

#[test]
fn the_responder_on_call_gets_an_sms_and_an_email_and_acknowledges_by_replying_ack() {
    let site = Site::new();
    let analyst = site.token("analyst1");
    let (smtp_port, mails) = smtp_server(true);
    let gateway_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let gateway_port = gateway_listener.local_addr().unwrap().port();
    let gateway = receiver(gateway_listener, 201, r#"{"sid":"SM123"}"#);
    site.ok(&[
        "oncall",
        "set",
        "CF32",
        "--role",
        "responder",
        "--user",
        "responder1",
        "--from",
        "2020-01-01T00:00",
        "--to",
        "2100-01-01T00:00",
        "--as",
        "admin1",
    ]);
    site.ok(&[
        "oncall",
        "contact",
        "responder1",
        "--phone",
        "+236 72 00 00 01",
        "--email",
        "r1@example.org",
        "--as",
        "admin1",
    ]);
    let refused = site.run(&[
        "oncall",
        "set",
        "CF32",
        "--role",
        "responder",
        "--user",
        "responder1",
        "--from",
        "2020-01-01T00:00",
        "--to",
        "2100-01-01T00:00",
        "--as",
        "analyst1",
    ]);
    assert!(!refused.status.success(), "only administrators set the rota");
    let shown = site.ok(&["oncall", "show"]);
    assert!(shown.contains("CF32") && shown.contains("responder1") && shown.contains("registered"), "{shown}");

    let public = "https://alerts.example.org";
    let config = private(
        &site,
        "notify.toml",
        &format!(
            "[webhooks]\ntwilio_auth_token = \"{TWILIO_TOKEN}\"\npublic_url = \"{public}\"\n\
             [sms_gateway]\nkind = \"twilio\"\nurl = \"http://127.0.0.1:{gateway_port}\"\naccount_sid = \"ACtest\"\nauth_token = \"s3cret\"\nfrom = \"+15005550006\"\n\
             [notify]\nsms = true\nescalations = false\n\
             [notify.email]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nusername = \"user\"\npassword = \"pass\"\nfrom = \"vitalcore <alerts@example.org>\"\n"
        ),
    );
    let server = site.serve(&["--config", config.to_str().unwrap()]);
    let created = post_json(&server.addr, "/api/v1/reports", &analyst, CRITICAL);
    assert_eq!(created.status, 201, "{}", created.body);
    let reference = created.json()["reference"].as_str().unwrap().to_string();

    let sms = wait_for("the SMS to the responder", 30, || gateway.lock().unwrap().first().cloned());
    let fields: Vec<(String, String)> =
        sms.body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), urlencoding(v))).collect();
    let field = |k: &str| fields.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(field("To"), "+23672000001");
    let text = field("Body");
    assert!(text.contains(&reference) && text.contains("CF32") && text.contains("critical"), "{text}");
    assert!(text.contains(&format!("ACK {reference}")), "{text}");
    assert!(!text.contains("Armed men"), "never the report's text: {text}");

    let mail = wait_for("the e-mail to the responder", 30, || mails.lock().unwrap().first().cloned());
    assert!(mail.contains("To: r1@example.org"), "{mail}");
    assert!(mail.contains(&reference) && mail.contains(&format!("/alerts#{reference}")), "{mail}");
    assert!(!mail.contains("Armed men") && !mail.contains("village"), "{mail}");

    // The responder replies ACK from the registered phone.
    let pairs = [("From", "+23672000001"), ("Body", &*format!("ack {reference}")), ("MessageSid", "SMack1")];
    let body = form_encode(&pairs);
    let signature = twilio_signature(&format!("{public}/sms/twilio"), &pairs);
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
    let answer = http(&server.addr, "POST", "/sms/twilio", &headers, body.as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("acknowledged by responder1"), "{}", answer.body);
    let alerts = site.ok(&["alerts", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&alerts).unwrap();
    let acked = v.as_array().unwrap().iter().find(|a| a["reference"] == reference.as_str()).unwrap();
    assert_eq!(acked["state"], "acknowledged", "{acked}");
    // The same words from a number nobody registered acknowledge nothing, and say so.
    let stranger = [("From", "+23670000666"), ("Body", &*format!("ACK {reference}")), ("MessageSid", "SMack2")];
    let signature = twilio_signature(&format!("{public}/sms/twilio"), &stranger);
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
    let answer = http(&server.addr, "POST", "/sms/twilio", &headers, form_encode(&stranger).as_bytes());
    assert!(
        answer.body.contains("nothing acknowledged: this number is not a registered staff phone"),
        "{}",
        answer.body
    );
    drop(server);
    // The step is the responder's, by SMS (`report show` names the channel).
    let shown = site.ok(&["report", "show", &reference, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let steps = v["alert"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0]["channel"], "sms");
    assert_eq!(steps[0]["step"]["step"], "acknowledge", "{steps:?}");
    let text = site.ok(&["report", "show", &reference]);
    assert!(text.contains("acknowledge by ") && text.contains(" via sms"), "{text}");
}

fn urlencoding(v: &str) -> String {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn bad_notify_settings_are_refused_at_start_up_naming_the_key() {
    let site = Site::new();
    let (smtp_port, _) = smtp_server(false);
    let hook = |extra: &str| format!("[notify]\n[[notify.webhook]]\nname = \"ops\"\n{extra}");
    for (text, expected) in [
        ("[notify]\n[notify.pager]\nurl = \"x\"\n".to_string(), "pager"),
        (hook(&format!("url = \"ftp://hooks.example.org\"\nsecret = \"{SECRET}\"\n")), "`url`"),
        (hook("url = \"https://hooks.example.org\"\n"), "`secret`"),
        (
            format!(
                "[notify]\n[notify.email]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n\
                 username = \"user\"\npassword = \"wrong\"\nfrom = \"a@example.org\"\n"
            ),
            "refused",
        ),
    ] {
        let config = private(&site, "bad.toml", &text);
        let out = site.run(&["serve", "--addr", "127.0.0.1:0", "--config", config.to_str().unwrap()]);
        assert!(!out.status.success(), "{text}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(expected), "{text}\n{said}");
    }
    // A test message through a channel that is not configured names those that are.
    let config = private(&site, "ok.toml", &hook(&format!("url = \"http://127.0.0.1:9/h\"\nsecret = \"{SECRET}\"\n")));
    let out = site.run(&["notify", "test", "--channel", "slack", "--config", config.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("configured: ops"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn notify_test_sends_one_signed_message_through_the_named_webhook() {
    let site = Site::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = receiver(listener, 204, "");
    let config = private(
        &site,
        "t.toml",
        &format!(
            "[notify]\n[[notify.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:{port}/h\"\nsecret = \"{SECRET}\"\n"
        ),
    );
    let out = site.ok(&["notify", "test", "--channel", "ops", "--config", config.to_str().unwrap()]);
    assert!(out.contains("test sent through ops"), "{out}");
    let got = seen.lock().unwrap().first().cloned().unwrap();
    let signature = got.header("X-Vitalcore-Signature").unwrap();
    assert!(vitalcore_security::webhook::vitalcore_signature_matches(SECRET, got.body.as_bytes(), &signature));
    assert!(got.body.contains("\"kind\":\"test\""), "{}", got.body);
}
