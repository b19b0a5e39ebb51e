//! The use cases over the report store (permissions, the audited reveal,
//! acting on alerts, SMS feedback) on every backend: the in-memory
//! reference, SQLite and PostgreSQL.

use secrecy::ExposeSecret;
use vitalcore_app::access::{AccessError, act_on_alert, report_for, reports_for, reveal_contact};
use vitalcore_intake::outbox::OutboxFilter;
use vitalcore_intake::report::{Reference, Verification};
use vitalcore_intake::workflow::StepChannel;
use vitalcore_intake::workflow::{Alert, Feedback, Step};
use vitalcore_security::auth::Role;
use vitalcore_security::crypto::ContactRead;
use vitalcore_store::StoreError;
use vitalcore_store::reports::{ReportFilter, ReportStore};
use vitalcore_store::testing::reports::{PHONE, full_report, key, references, report_at, ts, user};

on_every_backend!(
    focal_point_sees_only_own_community,
    acting_on_an_alert_goes_through_the_store,
    contact_reads_are_logged_in_order_per_report,
    sms_feedback_through_the_workflow_queues_a_message_for_reporters_with_a_contact,
);

pub fn focal_point_sees_only_own_community(store: &dyn ReportStore) {
    for (n, area) in [(1, Some("CF11")), (2, Some("CF42")), (3, Some("CF42")), (4, None)] {
        store.insert_report(&report_at(n, area, &format!("2024-05-0{n}T00:00:00Z"))).unwrap();
    }
    let fp = user("fp", "focal.cf42", Role::FocalPoint, Some("CF42"));
    let asks_for_cf11 = ReportFilter { area_pcode: Some("CF11".into()), ..ReportFilter::default() };
    assert_eq!(references(&reports_for(store, &fp, &asks_for_cf11).unwrap()), vec![2, 3]);
    assert_eq!(references(&reports_for(store, &fp, &ReportFilter::default()).unwrap()), vec![2, 3]);
    assert!(report_for(store, &fp, &Reference::from_number(2)).is_ok());
    for other in [1, 4] {
        let err = report_for(store, &fp, &Reference::from_number(other)).unwrap_err();
        assert!(matches!(err, AccessError::Denied(_)), "report {other}: {err}");
    }
    let now = ts("2024-05-06T00:00:00Z");
    assert!(matches!(
        reveal_contact(store, &key(), &fp, &Reference::from_number(1), "call", now),
        Err(AccessError::Denied(_))
    ));
    assert!(store.contact_reads(&Reference::from_number(1)).unwrap().is_empty());
    let analyst = user("a", "analyst", Role::Analyst, None);
    assert_eq!(reports_for(store, &analyst, &ReportFilter::default()).unwrap().len(), 4);
}

pub fn acting_on_an_alert_goes_through_the_store(store: &dyn ReportStore) {
    let r = report_at(1, Some("CF11"), "2024-05-01T12:00:00Z");
    store.insert_report(&r).unwrap();
    let analyst = user("a1", "analyst1", Role::Analyst, None);
    act_on_alert(store, &analyst, &r.reference, Step::Acknowledge, ts("2024-05-01T12:05:00Z"), StepChannel::Web)
        .unwrap();
    let again =
        act_on_alert(store, &analyst, &r.reference, Step::Acknowledge, ts("2024-05-01T12:06:00Z"), StepChannel::Web)
            .unwrap_err();
    assert_eq!(again.http_status(), 409, "{again}");
    act_on_alert(
        store,
        &analyst,
        &r.reference,
        Step::Verify { note: "seen".into() },
        ts("2024-05-01T12:30:00Z"),
        StepChannel::Web,
    )
    .unwrap();
    assert_eq!(store.report(&r.reference).unwrap().unwrap().verification, Verification::Verified);
    // A stale view of the alert (it has 2 steps now) cannot append at #1.
    let stale = Alert::for_report(&r).replay(store.steps(&r.reference).unwrap()[..1].to_vec()).unwrap();
    let mut stale = stale;
    let rec =
        stale.apply(Step::MarkUnfounded { reason: "x".into() }, "a1", ts("2024-05-01T12:31:00Z")).unwrap().clone();
    assert!(matches!(store.append_step(&rec), Err(StoreError::Conflict(_))));
    assert_eq!(store.steps(&r.reference).unwrap().len(), 2);
}

pub fn contact_reads_are_logged_in_order_per_report(store: &dyn ReportStore) {
    let a = full_report(1);
    let b = report_at(2, Some("CF71"), "2024-05-01T00:00:00Z");
    store.insert_report(&a).unwrap();
    store.insert_report(&b).unwrap();
    let responder = user("r1", "responder", Role::Responder, None);
    let admin = user("ad", "admin", Role::Admin, None);
    let shown = reveal_contact(
        store,
        &key(),
        &responder,
        &a.reference,
        "call back about the attack",
        ts("2024-05-02T09:00:00Z"),
    )
    .unwrap();
    assert_eq!(shown.contact.expose_secret(), PHONE);
    reveal_contact(store, &key(), &admin, &b.reference, "check", ts("2024-05-02T09:01:00Z")).unwrap();
    let manual = ContactRead {
        report: a.reference.to_string(),
        user_id: "ad".into(),
        role: Role::Admin,
        purpose: "audit, second read".into(),
        at: ts("2024-05-02T08:00:00.000000007Z"), // earlier time, later entry: kept in log order
    };
    store.append_contact_read(&manual).unwrap();
    let log = store.contact_reads(&a.reference).unwrap();
    assert_eq!(log, vec![shown.audit, manual]);
    assert_eq!(store.contact_reads(&b.reference).unwrap().len(), 1);
    assert!(store.contact_reads(&Reference::from_number(99)).unwrap().is_empty());
}

pub fn sms_feedback_through_the_workflow_queues_a_message_for_reporters_with_a_contact(store: &dyn ReportStore) {
    let with_contact = report_at(1, Some("CF11"), "2024-05-01T10:00:00Z");
    let mut without = report_at(2, Some("CF11"), "2024-05-01T10:00:00Z");
    without.contact = None;
    store.insert_report(&with_contact).unwrap();
    store.insert_report(&without).unwrap();
    let responder = user("r1", "responder1", Role::Responder, None);
    let at = |m: u32| ts(&format!("2024-05-01T12:{m:02}:00Z"));
    for r in [&with_contact.reference, &without.reference] {
        act_on_alert(store, &responder, r, Step::Acknowledge, at(1), StepChannel::Web).unwrap();
        act_on_alert(
            store,
            &responder,
            r,
            Step::MarkUnfounded { reason: "no such village".into() },
            at(2),
            StepChannel::Web,
        )
        .unwrap();
    }
    let sms = |message: &str| Step::GiveFeedback {
        feedback: Feedback { message: message.into(), channel: "SMS".into(), sent_at: at(3) },
    };
    // Another reporter's phone number is refused: no step, no message.
    let leak = act_on_alert(
        store,
        &responder,
        &with_contact.reference,
        sms("call Jean on +236 70 00 00 02"),
        at(3),
        StepChannel::Web,
    );
    assert_eq!(leak.as_ref().map(|_| ()).unwrap_err().http_status(), 422, "{leak:?}");
    assert_eq!(store.steps(&with_contact.reference).unwrap().len(), 2);
    act_on_alert(
        store,
        &responder,
        &with_contact.reference,
        sms("We found no village of that name"),
        at(4),
        StepChannel::Web,
    )
    .unwrap();
    act_on_alert(
        store,
        &responder,
        &without.reference,
        sms("We found no village of that name"),
        at(4),
        StepChannel::Web,
    )
    .unwrap();
    let radio = Step::GiveFeedback {
        feedback: Feedback { message: "Announced on the radio".into(), channel: "radio".into(), sent_at: at(5) },
    };
    act_on_alert(store, &responder, &with_contact.reference, radio, at(5), StepChannel::Web).unwrap();
    let queued = store.outbox(&OutboxFilter::default()).unwrap();
    assert_eq!(queued.len(), 1, "one SMS: only the reporter with a contact, only the sms channel");
    assert_eq!(queued[0].report, with_contact.reference);
    assert_eq!(queued[0].step_seq, 2);
    assert_eq!(queued[0].body, format!("Your report {}: We found no village of that name", with_contact.reference));
    assert_eq!((queued[0].history[0].user_id.as_str(), queued[0].history[0].at), ("r1", at(4)));
}
