//! The notification use cases on every backend (the in-memory reference,
//! SQLite, PostgreSQL): a new alert queued with its report, who is told
//! (rota, fallbacks, webhooks by urgency and area), escalations of overdue
//! alerts derived once per level, a failed attempt recorded and retried,
//! ACK by SMS from a registered phone only.

use std::sync::Arc;
use vitalcore_app::notify::{AckReply, Channels, Notifier, NotifyConfig, ack_by_sms, alert_notifications};
use vitalcore_intake::Urgency;
use vitalcore_intake::notify::{ChannelKind, DeliveryStatus, DutyRole, NotifyKind, StaffContact};
use vitalcore_intake::workflow::{AlertState, Step, StepChannel};
use vitalcore_security::auth::Role;
use vitalcore_store::notify::RotaDraft;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::reports::{report_at, ts, user};

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name(std::sync::Arc::new(vitalcore_store::testing::MemoryStore::new())); } )*
        }
        mod sqlite {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(std::sync::Arc::new(vitalcore_store_sqlite::SqliteStore::open(dir.path().join("r.db")).unwrap()));
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                let Some(schema) = crate::pg::Schema::new() else { return };
                super::$name(std::sync::Arc::new(schema.store()));
            } )*
        }
    };
}

on_every_backend!(
    the_rota_and_the_webhooks_are_told_and_an_overdue_alert_escalates_once_per_level,
    an_ack_by_sms_counts_only_from_a_registered_staff_phone,
    the_minute_scan_reads_only_alerts_that_can_have_escalated_and_misses_no_level,
);

fn config() -> NotifyConfig {
    // Nothing listens on port 9 of this computer: every attempt is refused.
    let text = "[notify]\nmin_urgency = \"high\"\n\
        [[notify.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef0123\"\n\
        min_urgency = \"critical\"\nareas = [\"CF32\"]\n\
        [[notify.webhook]]\nname = \"elsewhere\"\nurl = \"http://127.0.0.1:9/other\"\nsecret = \"0123456789abcdef0123\"\nareas = [\"CF11\"]\n\
        [notify.email]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"none\"\nfrom = \"alerts@example.org\"\n";
    NotifyConfig::from_toml(text, &|_| None, None).unwrap().unwrap()
}

fn staff(store: &dyn ReportStore) {
    store.save_user(&user("u-r", "amina", Role::Responder, None), "system:test").unwrap();
    store.save_user(&user("u-s", "joseph", Role::Admin, None), "system:test").unwrap();
    store.save_user(&user("u-x", "other", Role::Responder, None), "system:test").unwrap();
    let rota = |area: &str, role, who: &str, from: &str, to: Option<&str>, fallback| RotaDraft {
        area_pcode: area.into(),
        role,
        user_id: who.into(),
        from: ts(from),
        to: to.map(ts),
        fallback,
        set_by: "u-s".into(),
        set_at: ts("2026-12-01T00:00:00Z"),
    };
    store
        .add_rota_entry(&rota(
            "CF32",
            DutyRole::Responder,
            "u-r",
            "2026-12-08T08:00:00Z",
            Some("2026-12-08T20:00:00Z"),
            false,
        ))
        .unwrap();
    store
        .add_rota_entry(&rota(
            "CF11",
            DutyRole::Responder,
            "u-x",
            "2026-12-08T08:00:00Z",
            Some("2026-12-08T20:00:00Z"),
            false,
        ))
        .unwrap();
    store.add_rota_entry(&rota("*", DutyRole::Supervisor, "u-s", "2026-01-01T00:00:00Z", None, true)).unwrap();
    for (id, phone) in [("u-r", "+23672000001"), ("u-s", "+23672000002"), ("u-x", "+23672000003")] {
        let c =
            StaffContact { user_id: id.into(), phone: Some(phone.into()), email: Some(format!("{id}@example.org")) };
        store.set_staff_contact(&c).unwrap();
    }
}

pub fn the_rota_and_the_webhooks_are_told_and_an_overdue_alert_escalates_once_per_level(store: Arc<dyn ReportStore>) {
    staff(&*store);
    let cfg = Arc::new(config());
    assert_eq!(cfg.lowest_urgency(), Urgency::High);
    let mut critical = report_at(1, Some("CF32"), "2026-12-08T09:00:00Z");
    critical.urgency = Some(Urgency::Critical);
    let mut low = report_at(2, Some("CF32"), "2026-12-08T09:01:00Z");
    low.urgency = Some(Urgency::Low);
    for r in [&critical, &low] {
        store.insert_report_notifying(r, &alert_notifications(r, cfg.lowest_urgency())).unwrap();
    }
    let pending = store.pending_notifications(10).unwrap();
    assert_eq!(pending.len(), 1, "the low-urgency report queued nothing");
    assert_eq!(pending[0].draft.reference, critical.reference.to_string());

    let notifier = Notifier::new(store.clone(), cfg.clone(), Channels::new(cfg.clone()).unwrap());
    let targets = notifier.targets(&pending[0]).unwrap();
    let got: Vec<(ChannelKind, &str)> = targets.iter().map(|t| (t.channel, t.target.as_str())).collect();
    assert_eq!(
        got,
        [(ChannelKind::Webhook, "ops"), (ChannelKind::Email, "u-r")],
        "CF32's responder and the CF32 webhook"
    );

    // Three hours on, nobody acknowledged the critical alert (1 h deadline): level 2, the supervisor is told.
    let now = ts("2026-12-08T12:00:00Z");
    assert_eq!(notifier.scan(now).unwrap(), 1, "the critical one (the low one has 3 days)");
    assert_eq!(notifier.scan(now).unwrap(), 0, "the same levels again: nothing new");
    let escalated: Vec<_> = store
        .pending_notifications(10)
        .unwrap()
        .into_iter()
        .filter(|n| n.draft.kind == NotifyKind::AlertEscalated)
        .collect();
    let critical_escalation = escalated.iter().find(|n| n.draft.reference == critical.reference.to_string()).unwrap();
    assert_eq!(critical_escalation.draft.level, 2);
    let targets = notifier.targets(critical_escalation).unwrap();
    let got: Vec<(ChannelKind, &str)> = targets.iter().map(|t| (t.channel, t.target.as_str())).collect();
    assert_eq!(got, [(ChannelKind::Webhook, "ops"), (ChannelKind::Email, "u-s")], "the supervisor (fallback)");

    // Every receiver is down: each attempt is recorded and set to be retried.
    let round = notifier.run_once(now).unwrap();
    assert_eq!(round.sent, 0);
    assert!(round.retried >= 4, "{round:?}");
    let deliveries = store.deliveries(50).unwrap();
    assert!(deliveries.iter().all(|(d, _)| d.status == DeliveryStatus::Queued && d.attempts == 1), "{deliveries:?}");
    let history: Vec<&str> = deliveries[0].0.history.iter().map(|h| h.what.as_str()).collect();
    assert_eq!(history, ["queued", "attempt", "retry"]);
    // Retried only when due: nothing is claimed again at once.
    assert_eq!(notifier.run_once(now).unwrap().retried, 0);
}

pub fn an_ack_by_sms_counts_only_from_a_registered_staff_phone(store: Arc<dyn ReportStore>) {
    staff(&*store);
    let r = report_at(1, Some("CF32"), "2026-12-08T09:00:00Z");
    store.insert_report(&r).unwrap();
    let now = ts("2026-12-08T09:05:00Z");
    let text = format!("ACK {}", r.reference);
    let Some(AckReply::Refused(stranger)) = ack_by_sms(&*store, "+23670000666", &text, now).unwrap() else {
        panic!("a stranger's ACK is answered, not taken")
    };
    assert!(stranger.contains("nothing acknowledged: this number is not a registered staff phone"), "{stranger}");
    assert!(store.steps(&r.reference).unwrap().is_empty(), "a stranger acknowledges nothing");
    assert_eq!(ack_by_sms(&*store, "+23672000001", "armed men near the school", now).unwrap(), None);
    // A reference that is no alert here: refused, nothing recorded anywhere.
    let unknown = format!("ACK {}", vitalcore_intake::Reference::from_number(999));
    let Some(AckReply::Refused(wrong)) = ack_by_sms(&*store, "+23672000001", &unknown, now).unwrap() else {
        panic!("a wrong reference acknowledges nothing")
    };
    assert!(wrong.contains("no alert") && wrong.contains("you may acknowledge"), "{wrong}");
    assert!(store.steps(&r.reference).unwrap().is_empty());
    let Some(AckReply::Done(confirmation)) = ack_by_sms(&*store, "+236 72 00 00 01", &text, now).unwrap() else {
        panic!("not acknowledged")
    };
    assert!(confirmation.contains("acknowledged by amina"), "{confirmation}");
    let steps = store.steps(&r.reference).unwrap();
    assert_eq!((steps.len(), steps[0].user_id.as_str(), &steps[0].step), (1, "u-r", &Step::Acknowledge));
    assert_eq!(steps[0].channel, StepChannel::Sms, "the step says it came by SMS");
    let alert = vitalcore_app::access::load_alert(&*store, &r).unwrap();
    assert_eq!(alert.state(), AlertState::Acknowledged);
    let Some(AckReply::Refused(again)) = ack_by_sms(&*store, "+23672000001", &text, now).unwrap() else {
        panic!("a second ACK is refused")
    };
    assert!(again.contains("not acknowledged"), "{again}");
    // An unknown reference is answered without saying whether it exists.
    let unknown = format!("ACK {}", vitalcore_intake::Reference::from_number(999));
    assert!(matches!(ack_by_sms(&*store, "+23672000003", &unknown, now).unwrap(), Some(AckReply::Refused(_))));
}

/// Runs each named test on the backends that store the outbox, the early
/// warnings and the synchronisation state (SQLite, PostgreSQL; the
/// in-memory store keeps neither warnings nor synchronisation), handing it
/// the one database through each of those traits.
macro_rules! on_database_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_database {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let store = std::sync::Arc::new(vitalcore_store_sqlite::SqliteStore::open(dir.path().join("r.db")).unwrap());
                super::$name(store.clone(), store.clone(), store);
            } )*
        }
        mod postgres_database {
            $( #[test] fn $name() {
                let Some(schema) = crate::pg::Schema::new() else { return };
                let store = std::sync::Arc::new(schema.store());
                super::$name(store.clone(), store.clone(), store);
            } )*
        }
    };
}

on_database_backends!(
    an_early_warning_reaches_the_webhook_signed_once_however_often_it_is_scanned,
    a_sync_conflict_on_an_alert_tells_the_analysts_and_supervisors_on_call_once,
);

const HOOK_SECRET: &str = "warning-hook-secret-0123456789";

/// One HTTP POST as a webhook receiver got it.
#[derive(Debug, Clone)]
struct Posted {
    path: String,
    signature: Option<String>,
    body: String,
}

/// A webhook receiver on loopback answering 200 to each POST and keeping it.
fn webhook_receiver() -> (String, Arc<std::sync::Mutex<Vec<Posted>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    break;
                }
                let (mut length, mut signature) = (0usize, None);
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap();
                    match name.trim().to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "x-vitalcore-signature" => signature = Some(value.trim().to_string()),
                        _ => {}
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(Posted { path, signature, body: String::from_utf8(body).unwrap() });
                if writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").is_err() {
                    break;
                }
            }
        }
    });
    (url, out)
}

fn warning_for(unit: &str) -> vitalcore_store::forecasts::EarlyWarning {
    use vitalcore_store::forecasts::{EarlyWarning, WarningKind, WarningStatus};
    EarlyWarning {
        id: 0,
        created: String::new(),
        unit: unit.into(),
        month: "2026-12".parse().unwrap(),
        kind: WarningKind::ReportBurst,
        value: 9.0,
        threshold: 3.5,
        reason: "9 community reports against a control limit of 3.5".into(),
        run_id: None,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    }
}

pub fn an_early_warning_reaches_the_webhook_signed_once_however_often_it_is_scanned(
    store: Arc<dyn ReportStore>,
    forecasts: Arc<dyn vitalcore_store::forecasts::ForecastStore>,
    _sync: Arc<dyn vitalcore_store::sync::SyncStore>,
) {
    let (url, seen) = webhook_receiver();
    let text = format!(
        "[notify]\nbase_url = \"https://alerts.example.org\"\nescalations = false\n\
         [[notify.webhook]]\nname = \"ops\"\nurl = \"{url}\"\nsecret = \"{HOOK_SECRET}\"\nareas = [\"CF32\"]\n"
    );
    let cfg = Arc::new(NotifyConfig::from_toml(&text, &|_| None, None).unwrap().unwrap());
    let mut notifier = Notifier::new(store.clone(), cfg.clone(), Channels::new(cfg).unwrap());
    notifier.forecasts = Some(forecasts.clone());

    // Raised for CF32 (the webhook's area) and for CF11 (not its area).
    let added = forecasts.add_warnings(&[warning_for("CF32"), warning_for("CF11")]).unwrap();
    let cf32 = added.iter().find(|w| w.unit == "CF32").unwrap();
    let now = jiff::Timestamp::now();
    assert_eq!(notifier.scan(now).unwrap(), 2, "one warning.raised each");
    let round = notifier.run_once(now).unwrap();
    assert_eq!((round.sent, round.retried, round.failed), (1, 0, 0), "{round:?}");

    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "only CF32's warning goes to a webhook for CF32: {got:?}");
    let posted = &got[0];
    assert_eq!(posted.path, "/hook");
    let signature = posted.signature.as_deref().expect("signed");
    assert!(vitalcore_security::webhook::vitalcore_signature_matches(HOOK_SECRET, posted.body.as_bytes(), signature));
    assert!(!vitalcore_security::webhook::vitalcore_signature_matches(
        "another-secret-0123456789",
        posted.body.as_bytes(),
        signature
    ));
    let body: serde_json::Value = serde_json::from_str(&posted.body).unwrap();
    assert!(posted.body.starts_with(r#"{"kind":"warning.raised","reference":"#), "field order: {}", posted.body);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["area_pcode", "at", "category", "kind", "link", "reference", "urgency"]);
    let reference = format!("warning-{}", cf32.id);
    assert_eq!(body["reference"], reference.as_str());
    assert_eq!(body["area_pcode"], "CF32");
    assert_eq!(body["category"], "report-burst");
    assert_eq!(body["urgency"], serde_json::Value::Null);
    let at: jiff::Timestamp = body["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, cf32.created.parse::<jiff::Timestamp>().unwrap(), "when the warning was raised");
    assert_eq!(body["link"], format!("https://alerts.example.org/alerts#{reference}"), "the warning's row");
    assert!(!posted.body.contains("control limit"), "the warning's reason stays on the page");

    // Scanned again (the next minute, a restart), raised again: nothing new, nothing sent twice.
    assert_eq!(notifier.scan(now).unwrap(), 0);
    assert!(forecasts.add_warnings(&[warning_for("CF32")]).unwrap().is_empty(), "the same warning is not added twice");
    let later = now.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
    assert_eq!(notifier.scan(later).unwrap(), 0);
    assert_eq!(notifier.run_once(later).unwrap(), vitalcore_app::notify::Round::default());
    assert_eq!(seen.lock().unwrap().len(), 1, "sent once");
    let deliveries = store.deliveries(10).unwrap();
    let warning_deliveries: Vec<_> =
        deliveries.iter().filter(|(_, n)| n.draft.kind == NotifyKind::WarningRaised).collect();
    assert_eq!(warning_deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(warning_deliveries[0].0.status, DeliveryStatus::Sent);
}

pub fn a_sync_conflict_on_an_alert_tells_the_analysts_and_supervisors_on_call_once(
    store: Arc<dyn ReportStore>,
    _forecasts: Arc<dyn vitalcore_store::forecasts::ForecastStore>,
    sync_store: Arc<dyn vitalcore_store::sync::SyncStore>,
) {
    staff(&*store);
    store.save_user(&user("u-a", "analyst7", Role::Analyst, None), "system:test").unwrap();
    let analyst = RotaDraft {
        area_pcode: "CF32".into(),
        role: DutyRole::Analyst,
        user_id: "u-a".into(),
        from: ts("2026-12-01T00:00:00Z"),
        to: None,
        fallback: false,
        set_by: "u-s".into(),
        set_at: ts("2026-12-01T00:00:00Z"),
    };
    store.add_rota_entry(&analyst).unwrap();
    let contact = StaffContact { user_id: "u-a".into(), phone: None, email: Some("u-a@example.org".into()) };
    store.set_staff_contact(&contact).unwrap();

    // Acknowledged here; another office acknowledged it too while apart.
    let mut report = report_at(7, Some("CF32"), "2026-12-08T09:00:00Z");
    report.urgency = Some(Urgency::Critical);
    store.insert_report(&report).unwrap();
    let at = ts("2026-12-08T09:10:00Z");
    let mine = vitalcore_store::testing::reports::step(&report.reference, 0, Step::Acknowledge);
    store.append_step(&vitalcore_intake::workflow::StepRecord { at, user_id: "u-r".into(), ..mine.clone() }).unwrap();
    let theirs = vitalcore_intake::workflow::StepRecord { at, user_id: "u-x".into(), ..mine };
    let record = vitalcore_store::sync::SyncRecord::Step(Box::new(vitalcore_store::sync::StepOf {
        origin: "office-b".into(),
        step: theirs,
    }));
    let batch = vitalcore_sync::Batch {
        batch_id: "office-b:0-1".into(),
        from_cursor: 0,
        to_cursor: 1,
        more: false,
        pending_after: 0,
        records: vec![record],
    };
    let now = ts("2026-12-08T10:00:00Z");
    let applied = vitalcore_sync::apply_batch(&*sync_store, "hq", "office-b", &batch, None, now).unwrap();
    assert_eq!(applied.conflicts, 1, "{applied:?}");
    // Delivered again (a retried push): the conflict is kept again, the notification not queued again.
    vitalcore_sync::apply_batch(&*sync_store, "hq", "office-b", &batch, None, now).unwrap();
    assert!(!sync_store.conflicts().unwrap().is_empty());

    let pending = store.pending_notifications(10).unwrap();
    let conflicts: Vec<_> = pending.iter().filter(|n| n.draft.kind == NotifyKind::SyncConflict).collect();
    assert_eq!(conflicts.len(), 1, "queued exactly once: {pending:?}");
    let n = conflicts[0];
    assert_eq!(n.draft.reference, report.reference.to_string());
    assert_eq!(n.draft.area_pcode.as_deref(), Some("CF32"));
    assert_eq!(n.draft.urgency, Some(Urgency::Critical));

    let cfg = Arc::new(config());
    let notifier = Notifier::new(store.clone(), cfg.clone(), Channels::new(cfg).unwrap());
    let targets = notifier.targets(n).unwrap();
    let got: Vec<(ChannelKind, &str)> = targets.iter().map(|t| (t.channel, t.target.as_str())).collect();
    assert_eq!(
        got,
        [(ChannelKind::Webhook, "ops"), (ChannelKind::Email, "u-a"), (ChannelKind::Email, "u-s")],
        "CF32's webhook, the analyst on call for CF32 and the supervisor (fallback); not the responders"
    );
    let body = vitalcore_intake::notify::webhook_body(&n.draft, "https://alerts.example.org");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "sync.conflict");
    assert_eq!(v["link"], format!("https://alerts.example.org/alerts#{}", report.reference));
    assert!(!body.contains(&report.text), "never the report's text: {body}");
}

/// Scanning every minute, each scan after the first reads only the alerts
/// whose level can have risen since the previous one, and queues each level
/// when it is reached, as reading everything would.
pub fn the_minute_scan_reads_only_alerts_that_can_have_escalated_and_misses_no_level(store: Arc<dyn ReportStore>) {
    let cfg = Arc::new(config());
    let notifier = Notifier::new(store.clone(), cfg.clone(), Channels::new(cfg).unwrap());
    // Critical (acknowledge within 1 h; levels at 1 h, 2 h and 4 h after receipt), and
    // older alerts whose levels were all reached before the scans begin.
    let mut critical = report_at(1, Some("CF32"), "2026-12-08T09:00:00Z");
    critical.urgency = Some(Urgency::Critical);
    store.insert_report(&critical).unwrap();
    for n in 2..40 {
        let mut old = report_at(n, Some("CF11"), "2026-12-03T09:00:00Z");
        old.urgency = Some(Urgency::High);
        store.insert_report(&old).unwrap();
    }
    let levels = |store: &dyn ReportStore| -> Vec<u8> {
        let mut got: Vec<u8> = store
            .pending_notifications(500)
            .unwrap()
            .into_iter()
            .filter(|n| {
                n.draft.kind == NotifyKind::AlertEscalated && n.draft.reference == critical.reference.to_string()
            })
            .map(|n| n.draft.level)
            .collect();
        got.sort_unstable();
        got
    };
    let start = ts("2026-12-08T09:30:00Z");
    assert_eq!(notifier.escalation_candidates(None, start).unwrap().len(), 39, "the first scan reads 7 days");
    notifier.scan(start).unwrap();
    let mut now = start;
    let mut most_read = 0;
    let mut reached = Vec::new();
    // Every minute until 13:05 (the third level at 13:00).
    while now < ts("2026-12-08T13:05:00Z") {
        let next = now.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
        most_read = most_read.max(notifier.escalation_candidates(Some(now), next).unwrap().len());
        notifier.scan(next).unwrap();
        let got = levels(&*store);
        if got.len() > reached.len() {
            reached.push((next, got.last().copied().unwrap()));
        }
        now = next;
    }
    assert_eq!(
        reached,
        [(ts("2026-12-08T10:01:00Z"), 1), (ts("2026-12-08T11:01:00Z"), 2), (ts("2026-12-08T13:01:00Z"), 3),],
        "each level queued by the first scan after it is reached (lateness past the threshold)"
    );
    assert!(most_read <= 1, "a minute's scan read {most_read} alerts; only the critical one can have escalated");
    assert_eq!(levels(&*store), [1, 2, 3]);
}
