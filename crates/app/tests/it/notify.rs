//! The notification use cases on every backend (the in-memory reference,
//! SQLite, PostgreSQL): a new alert queued with its report, who is told
//! (rota, fallbacks, webhooks by urgency and area), escalations of overdue
//! alerts derived once per level, a failed attempt recorded and retried,
//! ACK by SMS from a registered phone only.

use std::sync::Arc;
use vitalcore_app::notify::{AckReply, Channels, Notifier, NotifyConfig, ack_by_sms, alert_notifications};
use vitalcore_intake::Urgency;
use vitalcore_intake::notify::{ChannelKind, DeliveryStatus, DutyRole, NotifyKind, StaffContact};
use vitalcore_intake::workflow::{AlertState, Step};
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
    assert_eq!(ack_by_sms(&*store, "+23670000666", &text, now).unwrap(), None, "a stranger's ACK is a report");
    assert_eq!(ack_by_sms(&*store, "+23672000001", "armed men near the school", now).unwrap(), None);
    let Some(AckReply::Done(confirmation)) = ack_by_sms(&*store, "+236 72 00 00 01", &text, now).unwrap() else {
        panic!("not acknowledged")
    };
    assert!(confirmation.contains("acknowledged by amina"), "{confirmation}");
    let steps = store.steps(&r.reference).unwrap();
    assert_eq!((steps.len(), steps[0].user_id.as_str(), &steps[0].step), (1, "u-r", &Step::Acknowledge));
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
