use crate::ts;
use jiff::SignedDuration;
use vitalcore_intake::Urgency;
use vitalcore_intake::report::Reference;
use vitalcore_intake::workflow::{Alert, AlertState, DeadlineKind, Deadlines, Feedback, Step, WorkflowError, metrics};

fn alert(n: u32, area: &str, urgency: Urgency, received: &str) -> Alert {
    Alert::new(Reference::from_number(n), Some(area.into()), urgency, ts(received))
}

fn feedback(at: &str) -> Feedback {
    Feedback {
        message: "A patrol went to the village; the road is open again".into(),
        channel: "sms".into(),
        sent_at: ts(at),
    }
}

#[test]
fn full_path_is_folded_from_the_log() {
    let mut a = alert(1, "CF11", Urgency::High, "2024-05-01T10:00:00Z");
    a.apply(Step::Acknowledge, "analyst", ts("2024-05-01T10:30:00Z")).unwrap();
    a.apply(Step::Verify { note: "confirmed by phone".into() }, "analyst", ts("2024-05-01T11:00:00Z")).unwrap();
    a.apply(Step::Assign { owner: "Lt. Ndoye".into(), unit: "BANBATT 2".into() }, "resp", ts("2024-05-01T11:10:00Z"))
        .unwrap();
    a.apply(
        Step::Respond { action: "patrol sent".into(), feedback: Some(feedback("2024-05-01T15:00:00Z")) },
        "resp",
        ts("2024-05-01T15:00:00Z"),
    )
    .unwrap();
    a.apply(Step::Close { outcome: "no further incident".into() }, "resp", ts("2024-05-02T09:00:00Z")).unwrap();
    assert_eq!(a.state(), AlertState::Closed);
    assert_eq!(a.steps().len(), 5);
    assert_eq!(a.steps().iter().map(|s| s.seq).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    let s = a.status();
    assert_eq!(s.assigned, Some(("Lt. Ndoye".into(), "BANBATT 2".into())));
    assert_eq!(s.responded_at, Some(ts("2024-05-01T15:00:00Z")));
    assert_eq!(s.feedback.len(), 1);
    let rebuilt = alert(1, "CF11", Urgency::High, "2024-05-01T10:00:00Z").replay(a.steps().to_vec()).unwrap();
    assert_eq!(rebuilt.status(), a.status());
}

/// Steps recorded on machines whose clocks are hours apart (a field office,
/// headquarters) fold in the order they were recorded; the times to
/// acknowledge and respond never go below zero.
#[test]
fn a_step_stamped_hours_early_by_another_clock_folds_in_recorded_order() {
    let mut a = alert(3, "CF11", Urgency::High, "2024-05-01T10:00:00Z");
    a.apply(Step::Acknowledge, "office clock 3 h ahead", ts("2024-05-01T13:30:00Z")).unwrap();
    a.apply(Step::Verify { note: "called back".into() }, "hq", ts("2024-05-01T10:45:00Z")).unwrap();
    assert_eq!(a.state(), AlertState::Verified);
    let rebuilt = alert(3, "CF11", Urgency::High, "2024-05-01T10:00:00Z").replay(a.steps().to_vec()).unwrap();
    assert_eq!(rebuilt.status(), a.status());
    let mut b = alert(4, "CF11", Urgency::High, "2024-05-01T10:00:00Z");
    b.apply(Step::Acknowledge, "office clock 4 h behind", ts("2024-05-01T06:10:00Z")).unwrap();
    let m = vitalcore_intake::workflow::metrics(&[b]);
    assert_eq!(m[0].median_to_acknowledge, Some(jiff::SignedDuration::ZERO), "{m:?}");
    let late = a.apply(Step::Close { outcome: "x".into() }, "u", ts("2024-04-29T10:00:00Z")).unwrap_err();
    assert!(late.to_string().contains("more than a day before"), "{late}");
}

#[test]
fn illegal_transitions_are_refused_with_what_comes_next() {
    let mut a = alert(2, "CF11", Urgency::Low, "2024-05-01T10:00:00Z");
    let t = ts("2024-05-01T11:00:00Z");
    let err = a.apply(Step::Verify { note: String::new() }, "u", t).unwrap_err();
    match &err {
        WorkflowError::IllegalTransition { state, allowed, .. } => {
            assert_eq!(*state, AlertState::New);
            assert_eq!(*allowed, "acknowledge");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("cannot verify an alert that is new"), "{err}");
    assert!(a.apply(Step::Close { outcome: "x".into() }, "u", t).is_err());
    assert!(a.steps().is_empty(), "a refused step leaves no trace");
    a.apply(Step::Acknowledge, "u", t).unwrap();
    assert!(a.apply(Step::Acknowledge, "u", t).is_err(), "acknowledged twice");
    assert!(a.apply(Step::Assign { owner: "o".into(), unit: "u".into() }, "u", t).is_err(), "assign before verify");
    let missing = a.apply(Step::MarkUnfounded { reason: " ".into() }, "u", t).unwrap_err();
    assert!(matches!(missing, WorkflowError::MissingField { field: "reason", .. }), "{missing}");
    let early = a.apply(Step::Verify { note: String::new() }, "u", ts("2024-04-30T10:59:00Z")).unwrap_err();
    assert!(matches!(early, WorkflowError::OutOfOrder { .. }), "{early}");
    a.apply(Step::MarkUnfounded { reason: "no such village".into() }, "u", t).unwrap();
    assert!(a.apply(Step::Respond { action: "x".into(), feedback: None }, "u", t).is_err());
    a.apply(Step::GiveFeedback { feedback: feedback("2024-05-01T12:00:00Z") }, "u", t).unwrap();
    a.apply(Step::Close { outcome: "unfounded".into() }, "u", t).unwrap();
    assert!(a.apply(Step::Acknowledge, "u", t).is_err(), "closed stays closed");
}

#[test]
fn replay_refuses_a_broken_log() {
    let mut a = alert(3, "CF11", Urgency::Low, "2024-05-01T10:00:00Z");
    a.apply(Step::Acknowledge, "u", ts("2024-05-01T10:10:00Z")).unwrap();
    a.apply(Step::Verify { note: String::new() }, "u", ts("2024-05-01T10:20:00Z")).unwrap();
    let mut log = a.steps().to_vec();
    log.remove(0);
    let err = alert(3, "CF11", Urgency::Low, "2024-05-01T10:00:00Z").replay(log).unwrap_err();
    assert!(matches!(err, WorkflowError::BrokenLog { expected: 0, found: 1, .. }), "{err}");
}

#[test]
fn overdue_and_escalation_at_given_times() {
    // Built-in: critical acknowledge 1h, respond 6h; levels at 0x, 1x, 3x the deadline.
    let d = Deadlines::built_in();
    let mut a = alert(4, "CF11", Urgency::Critical, "2024-05-01T10:00:00Z");
    assert_eq!(a.overdue(&d, ts("2024-05-01T10:59:00Z")), None);
    assert_eq!(a.overdue(&d, ts("2024-05-01T11:00:00Z")), None, "due exactly now is not late");
    let o = a.overdue(&d, ts("2024-05-01T11:30:00Z")).unwrap();
    assert_eq!((o.kind, o.level, o.late_by), (DeadlineKind::Acknowledge, 1, SignedDuration::from_mins(30)));
    assert_eq!(o.due, ts("2024-05-01T11:00:00Z"));
    assert_eq!(a.overdue(&d, ts("2024-05-01T12:30:00Z")).unwrap().level, 2, "late 1h30 > 1 x 1h");
    assert_eq!(a.overdue(&d, ts("2024-05-01T14:30:00Z")).unwrap().level, 3, "late 3h30 > 3 x 1h");

    a.apply(Step::Acknowledge, "u", ts("2024-05-01T10:20:00Z")).unwrap();
    assert_eq!(a.overdue(&d, ts("2024-05-01T15:00:00Z")), None, "respond due 16:00");
    let o = a.overdue(&d, ts("2024-05-01T17:00:00Z")).unwrap();
    assert_eq!((o.kind, o.level), (DeadlineKind::Respond, 1));
    assert_eq!(a.overdue(&d, ts("2024-05-01T22:00:01Z")).unwrap().level, 2, "late > 6h");
    a.apply(Step::Verify { note: String::new() }, "u", ts("2024-05-01T18:00:00Z")).unwrap();
    a.apply(Step::Assign { owner: "o".into(), unit: "u".into() }, "u", ts("2024-05-01T18:00:00Z")).unwrap();
    a.apply(Step::Respond { action: "patrol".into(), feedback: None }, "u", ts("2024-05-01T19:00:00Z")).unwrap();
    assert_eq!(a.overdue(&d, ts("2024-05-09T00:00:00Z")), None, "responded alerts are not overdue");
}

#[test]
fn deadline_config_errors_name_the_key() {
    let good = "[critical]\nacknowledge = \"30m\"\nrespond = \"2h\"\n[high]\nacknowledge = \"1h\"\nrespond = \"1d\"\n\
                [medium]\nacknowledge = \"1d\"\nrespond = \"2d\"\n[low]\nacknowledge = \"2d\"\nrespond = \"1w\"\n";
    let d = Deadlines::from_toml(good).unwrap();
    assert_eq!(d.for_urgency(Urgency::Critical).acknowledge, SignedDuration::from_mins(30));
    assert_eq!(d.for_urgency(Urgency::Low).respond, SignedDuration::from_hours(168));

    let bad_duration = good.replace("acknowledge = \"30m\"", "acknowledge = \"soon\"");
    assert!(Deadlines::from_toml(&bad_duration).unwrap_err().to_string().contains("`critical.acknowledge`"));
    let inverted = good.replace("respond = \"2h\"", "respond = \"3d\"");
    let err = Deadlines::from_toml(&inverted).unwrap_err().to_string();
    assert!(err.contains("`critical.respond`") && err.contains("more urgent"), "{err}");
    let missing = good.replace("[low]\nacknowledge = \"2d\"\nrespond = \"1w\"\n", "");
    assert!(Deadlines::from_toml(&missing).unwrap_err().to_string().contains("`low`"));
    let typo = format!("{good}[escalation]\nlevel = [1.0]\n");
    assert!(Deadlines::from_toml(&typo).unwrap_err().to_string().contains("level"));
    let levels = format!("{good}[escalation]\nlevels = [1.0, 0.5]\n");
    assert!(Deadlines::from_toml(&levels).unwrap_err().to_string().contains("`escalation.levels`"));
}

#[test]
fn metrics_on_a_hand_computed_example() {
    // CF11, May 2024: four alerts.
    let mut a1 = alert(11, "CF11", Urgency::Critical, "2024-05-03T10:00:00Z");
    a1.apply(Step::Acknowledge, "u", ts("2024-05-03T10:30:00Z")).unwrap(); // 30 min
    a1.apply(Step::Verify { note: String::new() }, "u", ts("2024-05-03T11:00:00Z")).unwrap();
    a1.apply(Step::Assign { owner: "o".into(), unit: "u".into() }, "u", ts("2024-05-03T11:10:00Z")).unwrap();
    a1.apply(
        Step::Respond { action: "a".into(), feedback: Some(feedback("2024-05-03T13:00:00Z")) },
        "u",
        ts("2024-05-03T13:00:00Z"),
    )
    .unwrap(); // 3 h
    let mut a2 = alert(12, "CF11", Urgency::High, "2024-05-10T12:00:00Z");
    a2.apply(Step::Acknowledge, "u", ts("2024-05-10T14:00:00Z")).unwrap(); // 2 h
    a2.apply(Step::Verify { note: String::new() }, "u", ts("2024-05-10T15:00:00Z")).unwrap();
    a2.apply(Step::Assign { owner: "o".into(), unit: "u".into() }, "u", ts("2024-05-10T16:00:00Z")).unwrap();
    a2.apply(Step::Respond { action: "a".into(), feedback: None }, "u", ts("2024-05-10T22:00:00Z")).unwrap(); // 10 h
    a2.apply(Step::Respond { action: "follow-up".into(), feedback: None }, "u", ts("2024-05-11T22:00:00Z")).unwrap();
    let mut a3 = alert(13, "CF11", Urgency::Medium, "2024-05-20T08:00:00Z");
    a3.apply(Step::Acknowledge, "u", ts("2024-05-20T09:00:00Z")).unwrap(); // 1 h
    a3.apply(Step::MarkUnfounded { reason: "r".into() }, "u", ts("2024-05-20T10:00:00Z")).unwrap();
    a3.apply(Step::GiveFeedback { feedback: feedback("2024-05-20T11:00:00Z") }, "u", ts("2024-05-20T11:00:00Z"))
        .unwrap();
    a3.apply(Step::Close { outcome: "unfounded".into() }, "u", ts("2024-05-20T11:00:00Z")).unwrap();
    let a4 = alert(14, "CF11", Urgency::Low, "2024-05-31T23:00:00Z"); // untouched
    // Same area, next month; and another area: separate groups.
    let a5 = alert(15, "CF11", Urgency::Low, "2024-06-01T00:00:00Z");
    let a6 = alert(16, "CF42", Urgency::Low, "2024-05-05T00:00:00Z");

    let m = metrics(&[a1, a2, a3, a4, a5, a6]);
    assert_eq!(m.len(), 3);
    let may = m.iter().find(|g| g.area_pcode.as_deref() == Some("CF11") && g.month.to_string() == "2024-05").unwrap();
    assert_eq!((may.alerts, may.unfounded, may.acknowledged, may.responded), (4, 1, 3, 2));
    // to acknowledge: 30m, 1h, 2h -> median 1h; p90 = ceil(0.9*3) = 3rd = 2h
    assert_eq!(may.median_to_acknowledge, Some(SignedDuration::from_hours(1)));
    assert_eq!(may.p90_to_acknowledge, Some(SignedDuration::from_hours(2)));
    // to respond (first response): 3h, 10h -> median 6h30; p90 = ceil(1.8) = 2nd = 10h
    assert_eq!(may.median_to_respond, Some(SignedDuration::from_mins(390)));
    assert_eq!(may.p90_to_respond, Some(SignedDuration::from_hours(10)));
    // responded 2 of the 3 that were not unfounded; feedback on 2 of 4.
    assert!((may.share_responded.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(may.share_with_feedback, Some(0.5));
    let june = m.iter().find(|g| g.month.to_string() == "2024-06").unwrap();
    assert_eq!((june.alerts, june.median_to_acknowledge, june.share_responded), (1, None, Some(0.0)));
}
