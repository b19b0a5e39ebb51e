use crate::{intake, key, ts};
use secrecy::{ExposeSecret, SecretString};
use vitalcore_app::access::{AccessError, report_for, reveal_contact};
use vitalcore_intake::report::Reference;
use vitalcore_intake::workflow::StepChannel;
use vitalcore_intake::workflow::{Alert, Step};
use vitalcore_intake::{Channel, ReportDraft};
use vitalcore_security::auth::{Role, User};
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::MemoryStore;

fn stored_report(store: &MemoryStore, area: &str, n: u32) -> Reference {
    let d = ReportDraft {
        text: format!("report in {area}"),
        area_pcode: Some(area.into()),
        contact: Some(SecretString::from(format!("+2367000000{n}"))),
        ..ReportDraft::default()
    };
    let r = intake().accept_as(&d, Channel::WebForm, ts("2024-05-01T12:00:00Z"), Reference::from_number(n)).unwrap();
    store.insert_report(&r).unwrap();
    r.reference
}

#[test]
fn focal_point_cannot_read_another_community_by_id() {
    let store = MemoryStore::new();
    let own = stored_report(&store, "CF11", 1);
    let other = stored_report(&store, "CF42", 2);
    let fp = User::new("fp", "focal.cf11", Role::FocalPoint, Some("CF11"), String::new()).unwrap();
    assert!(report_for(&store, &fp, &own).is_ok());
    assert!(matches!(report_for(&store, &fp, &other), Err(AccessError::Denied(_))));
    let now = ts("2024-05-02T09:00:00Z");
    assert!(matches!(reveal_contact(&store, &key(), &fp, &other, "call back", now), Err(AccessError::Denied(_))));
    assert!(store.contact_reads(&other).unwrap().is_empty(), "a refused read leaves no contact behind");
}

#[test]
fn every_contact_read_is_logged_with_who_when_why() {
    let store = MemoryStore::new();
    let r = stored_report(&store, "CF11", 3);
    let responder = User::new("r1", "resp", Role::Responder, None, String::new()).unwrap();
    let analyst = User::new("a1", "anal", Role::Analyst, None, String::new()).unwrap();
    let now = ts("2024-05-02T09:00:00Z");
    let shown = reveal_contact(&store, &key(), &responder, &r, "call back about the attack", now).unwrap();
    assert_eq!(shown.contact.expose_secret(), "+23670000003");
    let log = store.contact_reads(&r).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].user_id.as_str(), log[0].purpose.as_str(), log[0].at),
        ("r1", "call back about the attack", now)
    );
    assert!(reveal_contact(&store, &key(), &analyst, &r, "curious", now).is_err());
    assert!(reveal_contact(&store, &key(), &responder, &r, "  ", now).is_err(), "a purpose is required");
    let wrong = vitalcore_intake::ContactKey::from_bytes([9; 32]);
    let err = reveal_contact(&store, &wrong, &responder, &r, "call", now).unwrap_err();
    assert!(err.to_string().contains("another key"), "{err}");
    assert_eq!(store.contact_reads(&r).unwrap().len(), 1);
}

#[test]
fn steps_are_append_only_with_sequence_check() {
    let store = MemoryStore::new();
    let reference = stored_report(&store, "CF11", 4);
    let report = store.report(&reference).unwrap().unwrap();
    let mut alert = Alert::for_report(&report);
    let rec = alert.apply(Step::Acknowledge, "u1", ts("2024-05-01T12:10:00Z")).unwrap().clone();
    store.append_step(&rec).unwrap();
    assert!(store.append_step(&rec).is_err(), "a second writer of step #0 is refused");
    let replayed = Alert::for_report(&report).replay(store.steps(&reference).unwrap()).unwrap();
    assert_eq!(replayed.state(), alert.state());
}

#[test]
fn duplicate_reference_is_a_conflict_and_kobo_uuids_are_remembered() {
    let store = MemoryStore::new();
    let r = stored_report(&store, "CF11", 5);
    let again = store.report(&r).unwrap().unwrap();
    assert!(store.insert_report(&again).is_err());
    store.record_kobo_uuids("f", &[("u-1".into(), r.clone())]).unwrap();
    assert!(store.kobo_uuids("f").unwrap().contains("u-1"));
    assert!(store.kobo_uuids("g").unwrap().is_empty());
}

#[test]
fn acting_on_alerts_checks_role_and_updates_verification() {
    use vitalcore_app::access::act_on_alert;
    use vitalcore_intake::report::Verification;
    use vitalcore_intake::workflow::{AlertState, Deadlines, overdue_queue};
    let store = MemoryStore::new();
    let r = stored_report(&store, "CF11", 6);
    let analyst = User::new("a1", "analyst1", Role::Analyst, None, String::new()).unwrap();
    let responder = User::new("r1", "responder1", Role::Responder, None, String::new()).unwrap();
    let viewer = User::new("v1", "viewer1", Role::Viewer, None, String::new()).unwrap();
    let t = |s: &str| ts(s);
    let denied =
        act_on_alert(&store, &viewer, &r, Step::Acknowledge, t("2024-05-01T12:05:00Z"), StepChannel::Web).unwrap_err();
    assert_eq!(denied.http_status(), 403);
    act_on_alert(&store, &analyst, &r, Step::Acknowledge, t("2024-05-01T12:05:00Z"), StepChannel::Web).unwrap();
    let illegal =
        act_on_alert(&store, &analyst, &r, Step::Acknowledge, t("2024-05-01T12:06:00Z"), StepChannel::Web).unwrap_err();
    assert_eq!(illegal.http_status(), 409, "{illegal}");
    act_on_alert(
        &store,
        &analyst,
        &r,
        Step::Verify { note: "called the chief".into() },
        t("2024-05-01T12:30:00Z"),
        StepChannel::Web,
    )
    .unwrap();
    assert_eq!(store.report(&r).unwrap().unwrap().verification, Verification::Verified);
    let assign = Step::Assign { owner: "Capt. Diallo".into(), unit: "Sector West".into() };
    assert_eq!(
        act_on_alert(&store, &analyst, &r, assign.clone(), t("2024-05-01T13:00:00Z"), StepChannel::Web)
            .unwrap_err()
            .http_status(),
        403
    );
    let alert = act_on_alert(&store, &responder, &r, assign, t("2024-05-01T13:00:00Z"), StepChannel::Web).unwrap();
    assert_eq!(alert.state(), AlertState::ResponseAssigned);
    assert_eq!(store.steps(&r).unwrap().len(), 3);
    // Medium urgency (not given): respond within 3 days of 12:00 on 1 May.
    let queue_before = overdue_queue(std::slice::from_ref(&alert), &Deadlines::built_in(), t("2024-05-04T11:59:00Z"));
    assert!(queue_before.is_empty());
    let queue = overdue_queue(std::slice::from_ref(&alert), &Deadlines::built_in(), t("2024-05-04T13:00:00Z"));
    assert_eq!(queue.len(), 1);
}

#[test]
fn focal_point_lists_only_own_community_whatever_the_filter() {
    use vitalcore_app::access::reports_for;
    use vitalcore_store::reports::ReportFilter;
    let store = MemoryStore::new();
    stored_report(&store, "CF11", 7);
    stored_report(&store, "CF42", 8);
    stored_report(&store, "CF42", 9);
    let fp = User::new("fp", "focal.cf42", Role::FocalPoint, Some("CF42"), String::new()).unwrap();
    let asked_for_cf11 = ReportFilter { area_pcode: Some("CF11".into()), ..ReportFilter::default() };
    let seen = reports_for(&store, &fp, &asked_for_cf11).unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.place.area_pcode.as_deref() == Some("CF42")));
    let analyst = User::new("a", "analyst", Role::Analyst, None, String::new()).unwrap();
    assert_eq!(reports_for(&store, &analyst, &ReportFilter::default()).unwrap().len(), 3);
    let viewer = User::new("v", "viewer", Role::Viewer, None, String::new()).unwrap();
    assert!(reports_for(&store, &viewer, &ReportFilter::default()).is_err());
}
