//! The [`ReportStore`] contract (community reports, alert steps, users,
//! sessions, API tokens, the contact audit log, KoBo uuids, the outbox),
//! checked the same way on every backend (feature `testing`).
//!
//! - `vitalcore_store::report_conformance_tests!(expression giving Some(fresh
//!   store))`: one `#[test]` per contract check, each on an empty store. It
//!   also runs on the in-memory reference store, so the checks are known to
//!   describe the contract and not one backend's habits.
//! - `vitalcore_store::report_backend_tests!(expression giving Some(backend))`:
//!   checks that need the database itself (reopen, raw bytes, raw SQL),
//!   through [`Backend`].
//!
//! The use cases over the store (permissions, the audited reveal, acting on
//! alerts) are checked on every backend in `vitalcore-app`'s tests, with
//! the fixtures here.

use std::collections::HashSet;
use std::sync::Barrier;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxStatus};
use vitalcore_intake::report::{Reference, Report, Verification};
use vitalcore_intake::workflow::{Feedback, Step, StepChannel, StepRecord};
use vitalcore_intake::{CategoryMap, Channel, Intake, ReportDraft};
use vitalcore_security::audit::{AuditAction, AuditEntry, AuditEvent, RowCheck, verify_chain};
use vitalcore_security::auth::{ApiToken, Role, Session, TokenHash, User};
use vitalcore_security::crypto::{ContactKey, ContactRead};

use crate::StoreError;
use crate::reports::{AccessEnded, ReportFilter, ReportStore, TokenSelector};

/// One `#[test]` per contract check, each on a fresh store.
#[macro_export]
macro_rules! report_conformance_tests {
    ($fresh:expr) => {
        mod report_conformance_suite {
            #[allow(unused_imports)]
            use super::*;
            $crate::report_conformance_tests!(@each $fresh;
                report_reads_back_equal_with_every_field,
                every_channel_and_missing_optionals_round_trip,
                reused_reference_is_a_conflict_and_keeps_the_first,
                unknown_report_is_none_and_updates_are_not_found,
                reports_filter_by_area_and_time_oldest_first_with_limit,
                verification_is_updated,
                duplicate_links_are_added_and_rescored,
                steps_append_in_order_and_refuse_gaps_and_duplicates,
                every_step_kind_round_trips,
                users_are_saved_updated_and_usernames_unique,
                sessions_are_found_by_hash_and_deleted,
                api_tokens_are_found_by_hash_and_revoked_once,
                users_are_listed_by_username,
                ending_access_saves_the_user_deletes_their_sessions_and_revokes_their_tokens_at_once,
                sessions_are_listed_touched_and_swept_when_expired_or_idle,
                api_tokens_are_listed_and_revoked_by_account_partner_or_public_id,
                kobo_uuids_are_remembered_per_form_idempotently,
                an_sms_message_id_is_stored_once_per_gateway,
                concurrent_writers_lose_nothing_and_race_fairly_on_steps,
                a_step_and_the_message_it_queues_are_stored_together_or_not_at_all,
                outbox_status_history_is_append_only_in_sequence,
                the_audit_chain_links_every_entry_to_the_one_before,
                security_writes_append_their_chain_entry_in_the_same_transaction,
                concurrent_writers_never_fork_the_audit_chain,
                notifications_are_queued_with_their_report_and_once_per_dedup_key,
                deliveries_are_claimed_once_with_the_attempt_recorded_and_come_back_after_the_lease,
                rota_and_staff_contacts_round_trip_and_a_phone_names_one_person,
            );
        }
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                // `$fresh` is `None` where a backend's tests are skipped.
                let Some(store) = $fresh else { return };
                $crate::testing::reports::$name(&*store);
            }
        )*
    };
}

/// One `#[test]` per check on the database itself, each on a fresh one.
#[macro_export]
macro_rules! report_backend_tests {
    ($backend:expr) => {
        mod report_backend_suite {
            #[allow(unused_imports)]
            use super::*;
            $crate::report_backend_tests!(@each $backend;
                contact_is_never_stored_in_plaintext,
                everything_survives_reopening,
                logs_refuse_changes_behind_the_stores_back,
            );
        }
    };
    (@each $backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some(backend) = $backend else { return };
                $crate::testing::reports::$name(&backend);
            }
        )*
    };
}

/// A database that stores can be opened on, seen from outside the store.
pub trait Backend {
    /// A store on this database: a second one opened after the first is
    /// dropped sees what the first wrote.
    fn open(&self) -> Box<dyn ReportStore>;
    /// Whether `needle` occurs anywhere in what the database holds (file
    /// bytes, or every row of every table as text).
    fn holds(&self, needle: &str) -> bool;
    /// Raw SQL that changes or deletes recorded alert steps, contact reads,
    /// outbox messages and audit chain entries; each must fail.
    fn tamper(&self) -> Vec<Result<(), String>>;
}

// --- fixtures ---

pub fn key() -> ContactKey {
    ContactKey::from_bytes([7; 32])
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn intake() -> Intake {
    Intake::new(key(), CategoryMap::built_in())
}

pub const PHONE: &str = "+236 72 19 84 53";

/// Who saves accounts and tokens in the fixtures.
pub const ADMIN: &str = "u-admin";

/// A report with every field set, including awkward floats, a time with
/// nanoseconds, a sealed contact and duplicate links.
pub fn full_report(n: u32) -> Report {
    let draft = ReportDraft {
        text: "Des hommes armés ont pillé le marché de Kaga-Bandoro ; 12 maisons brûlées. «Aidez-nous»".into(),
        language: Some("fr".into()),
        category: Some("looting_extortion".into()),
        urgency: Some("critical".into()),
        place_name: Some("Kaga-Bandoro, quartier Bangui-Sara".into()),
        latitude: Some(6.989_123_456_789_1),
        longitude: Some(19.187_654_321_012_3),
        area_pcode: Some("CF71".into()),
        event_time: Some("2024-04-30T22:15:00.123456789+01:00".into()),
        contact: Some(SecretString::from(PHONE)),
        source_id: Some("SM0f1e2d3c".into()),
        ..ReportDraft::default()
    };
    let received = ts("2024-05-01T10:00:00.987654321Z");
    let mut r = intake()
        .accept_as(&draft, Channel::Sms { gateway: "twilio".into() }, received, Reference::from_number(n))
        .unwrap();
    r.verification = Verification::Verified;
    r.duplicates = vec![
        DuplicateLink {
            other: Reference::from_number(n + 1000),
            score: 0.1 + 0.2,
            text_similarity: 1.0 / 3.0,
            hours_apart: 47.999_999_9,
            km_apart: Some(1.234_567_890_123_4),
        },
        DuplicateLink {
            other: Reference::from_number(n + 1001),
            score: 0.5,
            text_similarity: 0.25,
            hours_apart: 0.0,
            km_apart: None,
        },
    ];
    r
}

/// A plain report in `area` received at `received`.
pub fn report_at(n: u32, area: Option<&str>, received: &str) -> Report {
    let draft = ReportDraft {
        text: format!("report {n}"),
        area_pcode: area.map(str::to_string),
        contact: Some(SecretString::from(format!("+2367000{n:04}"))),
        ..ReportDraft::default()
    };
    intake().accept_as(&draft, Channel::WebForm, ts(received), Reference::from_number(n)).unwrap()
}

pub fn user(id: &str, username: &str, role: Role, community: Option<&str>) -> User {
    User::new(id, username, role, community, format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${id}")).unwrap()
}

pub fn step(alert: &Reference, seq: u32, step: Step) -> StepRecord {
    StepRecord {
        alert: alert.clone(),
        seq,
        step,
        user_id: "u-1".into(),
        at: ts("2024-05-01T11:00:00Z"),
        channel: StepChannel::Web,
    }
}

pub fn references(reports: &[Report]) -> Vec<u32> {
    reports.iter().map(|r| (0..5000).find(|&n| Reference::from_number(n) == r.reference).unwrap()).collect()
}

// --- the contract ---

pub fn report_reads_back_equal_with_every_field(store: &dyn ReportStore) {
    let report = full_report(1);
    assert!(report.contact.is_some() && report.reporter_id.is_some() && report.event_time.is_some());
    store.insert_report(&report).unwrap();
    let back = store.report(&report.reference).unwrap().expect("stored");
    assert_eq!(back, report);
    // The contact still opens with the key, bound to this report.
    let reader = user("r1", "responder", Role::Responder, None);
    let opened = key()
        .open(
            back.contact.as_ref().unwrap(),
            back.reference.as_str(),
            &reader.accessor(),
            "call back",
            ts("2024-05-02T00:00:00Z"),
        )
        .unwrap();
    assert_eq!(opened.contact.expose_secret(), PHONE);
    assert_eq!(store.reports(&ReportFilter::default()).unwrap(), vec![report]);
}

pub fn every_channel_and_missing_optionals_round_trip(store: &dyn ReportStore) {
    let channels = [
        Channel::WebForm,
        Channel::Api { partner: "partner-ngo".into() },
        Channel::Sms { gateway: "rapidpro".into() },
        Channel::Kobo { form: "alerte-communautaire".into() },
        Channel::Cli,
    ];
    for (i, channel) in channels.into_iter().enumerate() {
        let draft = ReportDraft { text: "x".into(), ..ReportDraft::default() };
        let r = intake()
            .accept_as(&draft, channel, ts("2024-05-01T00:00:00Z"), Reference::from_number(10 + i as u32))
            .unwrap();
        assert!(r.contact.is_none() && r.place.area_pcode.is_none() && r.urgency.is_none());
        store.insert_report(&r).unwrap();
        assert_eq!(store.report(&r.reference).unwrap().as_ref(), Some(&r));
    }
    // An event long ago is any date, and reads back as written.
    let draft = ReportDraft { text: "old".into(), event_time: Some("1503-06-01".into()), ..ReportDraft::default() };
    let old = intake().accept_as(&draft, Channel::Cli, ts("2024-05-01T00:00:00Z"), Reference::from_number(20)).unwrap();
    store.insert_report(&old).unwrap();
    assert_eq!(store.report(&old.reference).unwrap(), Some(old));
}

pub fn reused_reference_is_a_conflict_and_keeps_the_first(store: &dyn ReportStore) {
    let first = report_at(1, Some("CF11"), "2024-05-01T00:00:00Z");
    store.insert_report(&first).unwrap();
    let mut second = report_at(1, Some("CF42"), "2024-05-02T00:00:00Z");
    second.text = "another report drawing the same reference".into();
    assert!(matches!(store.insert_report(&second), Err(StoreError::Conflict(_))));
    assert_eq!(store.report(&first.reference).unwrap(), Some(first));
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 1);
}

pub fn unknown_report_is_none_and_updates_are_not_found(store: &dyn ReportStore) {
    let missing = Reference::from_number(77);
    assert_eq!(store.report(&missing).unwrap(), None);
    assert!(store.reports(&ReportFilter::default()).unwrap().is_empty());
    assert!(matches!(store.set_verification(&missing, Verification::Verified), Err(StoreError::NotFound(_))));
    assert!(matches!(store.add_duplicate_links(&missing, &[]), Err(StoreError::NotFound(_))));
    assert!(matches!(store.append_step(&step(&missing, 0, Step::Acknowledge)), Err(StoreError::NotFound(_))));
    assert!(store.steps(&missing).unwrap().is_empty());
}

pub fn reports_filter_by_area_and_time_oldest_first_with_limit(store: &dyn ReportStore) {
    // Inserted out of order; two received at the same instant (ordered by reference).
    let rows = [
        (5, Some("CF11"), "2024-05-03T00:00:00Z"),
        (1, Some("CF42"), "2024-05-01T00:00:00Z"),
        (4, None, "2024-05-02T12:00:00Z"),
        (3, Some("CF11"), "2024-05-02T00:00:00Z"),
        (2, Some("CF11"), "2024-05-02T00:00:00Z"),
        (6, Some("CF11"), "2024-05-04T00:00:00.000000001Z"),
    ];
    for (n, area, at) in rows {
        store.insert_report(&report_at(n, area, at)).unwrap();
    }
    let list = |f: ReportFilter| references(&store.reports(&f).unwrap());
    let by_ref = |a: u32, b: u32| Reference::from_number(a) < Reference::from_number(b);
    let (tie_first, tie_second) = if by_ref(2, 3) { (2, 3) } else { (3, 2) };
    assert_eq!(list(ReportFilter::default()), vec![1, tie_first, tie_second, 4, 5, 6]);
    let cf11 = ReportFilter { area_pcode: Some("CF11".into()), ..ReportFilter::default() };
    assert_eq!(list(cf11.clone()), vec![tie_first, tie_second, 5, 6]);
    // From inclusive, until exclusive, to the nanosecond.
    let window = ReportFilter {
        received_from: Some(ts("2024-05-02T00:00:00Z")),
        received_until: Some(ts("2024-05-04T00:00:00.000000001Z")),
        ..cf11.clone()
    };
    assert_eq!(list(window.clone()), vec![tie_first, tie_second, 5]);
    assert_eq!(list(ReportFilter { limit: Some(2), ..window }), vec![tie_first, tie_second]);
    assert_eq!(list(ReportFilter { limit: Some(0), ..ReportFilter::default() }), Vec::<u32>::new());
    let nowhere = ReportFilter { area_pcode: Some("CF99".into()), ..ReportFilter::default() };
    assert!(list(nowhere).is_empty());
    // Bounds far outside any receipt time.
    let wide = ReportFilter {
        received_from: Some(ts("1000-01-01T00:00:00Z")),
        received_until: Some(ts("9000-01-01T00:00:00Z")),
        ..ReportFilter::default()
    };
    assert_eq!(list(wide).len(), 6);
    let future = ReportFilter { received_from: Some(ts("9000-01-01T00:00:00Z")), ..ReportFilter::default() };
    assert!(list(future).is_empty());
}

pub fn verification_is_updated(store: &dyn ReportStore) {
    let r = report_at(1, Some("CF11"), "2024-05-01T00:00:00Z");
    store.insert_report(&r).unwrap();
    for state in [Verification::Unfounded, Verification::Verified, Verification::Unverified] {
        store.set_verification(&r.reference, state).unwrap();
        assert_eq!(store.report(&r.reference).unwrap().unwrap().verification, state);
    }
}

pub fn duplicate_links_are_added_and_rescored(store: &dyn ReportStore) {
    let r = full_report(1); // already has links to 1001 and 1002
    store.insert_report(&r).unwrap();
    let link = |n: u32, score: f64| DuplicateLink {
        other: Reference::from_number(n),
        score,
        text_similarity: 0.7,
        hours_apart: 3.5,
        km_apart: Some(0.2),
    };
    // 1001 is re-scored (replaced, moves last), 3000 is new.
    store.add_duplicate_links(&r.reference, &[link(1001, 0.9), link(3000, 0.6)]).unwrap();
    let back = store.report(&r.reference).unwrap().unwrap();
    assert_eq!(back.duplicates, vec![r.duplicates[1].clone(), link(1001, 0.9), link(3000, 0.6)]);
    store.add_duplicate_links(&r.reference, &[]).unwrap();
    assert_eq!(store.report(&r.reference).unwrap().unwrap().duplicates.len(), 3);
    // Lists carry the links too.
    assert_eq!(store.reports(&ReportFilter::default()).unwrap()[0].duplicates, back.duplicates);
    // Many reports at once (back links in a batch): each gains its own, a
    // report that is gone is skipped, and a re-scored link still moves last.
    let other = report_at(2, Some("CF11"), "2024-05-01T00:00:00Z");
    store.insert_report(&other).unwrap();
    let batch = [
        (other.reference.clone(), vec![link(1, 0.4)]),
        (Reference::from_number(77), vec![link(1, 0.4)]),
        (r.reference.clone(), vec![link(1001, 0.8), link(4000, 0.5)]),
    ];
    store.add_duplicate_links_many(&batch).unwrap();
    assert_eq!(store.report(&other.reference).unwrap().unwrap().duplicates, vec![link(1, 0.4)]);
    assert_eq!(store.report(&Reference::from_number(77)).unwrap(), None);
    assert_eq!(
        store.report(&r.reference).unwrap().unwrap().duplicates,
        vec![r.duplicates[1].clone(), link(3000, 0.6), link(1001, 0.8), link(4000, 0.5)]
    );
    store.add_duplicate_links_many(&[]).unwrap();
}

pub fn steps_append_in_order_and_refuse_gaps_and_duplicates(store: &dyn ReportStore) {
    let a = report_at(1, Some("CF11"), "2024-05-01T00:00:00Z");
    let b = report_at(2, Some("CF11"), "2024-05-01T00:00:00Z");
    store.insert_report(&a).unwrap();
    store.insert_report(&b).unwrap();
    let verify = Step::Verify { note: "called the chief".into() };
    store.append_step(&step(&a.reference, 0, Step::Acknowledge)).unwrap();
    // Step #0 again (a second person acting at once), and a gap (#2 before #1).
    assert!(matches!(store.append_step(&step(&a.reference, 0, verify.clone())), Err(StoreError::Conflict(_))));
    assert!(matches!(store.append_step(&step(&a.reference, 2, verify.clone())), Err(StoreError::Conflict(_))));
    store.append_step(&step(&a.reference, 1, verify.clone())).unwrap();
    // Positions are per alert.
    assert!(matches!(store.append_step(&step(&b.reference, 1, Step::Acknowledge)), Err(StoreError::Conflict(_))));
    store.append_step(&step(&b.reference, 0, Step::Acknowledge)).unwrap();
    assert_eq!(
        store.steps(&a.reference).unwrap(),
        vec![step(&a.reference, 0, Step::Acknowledge), step(&a.reference, 1, verify)]
    );
    assert_eq!(store.steps(&b.reference).unwrap().len(), 1);
}

pub fn every_step_kind_round_trips(store: &dyn ReportStore) {
    let r = report_at(1, Some("CF11"), "2024-05-01T00:00:00Z");
    store.insert_report(&r).unwrap();
    let feedback = Feedback {
        message: "Une patrouille est passée ; merci de votre alerte".into(),
        channel: "sms".into(),
        sent_at: ts("2024-05-01T18:30:00.5Z"),
    };
    let steps = [
        Step::Acknowledge,
        Step::Verify { note: "deux sources".into() },
        Step::MarkUnfounded { reason: "rumour".into() },
        Step::Assign { owner: "Capt. Diallo".into(), unit: "Sector West".into() },
        Step::Respond { action: "patrol sent".into(), feedback: Some(feedback.clone()) },
        Step::Respond { action: "second patrol".into(), feedback: None },
        Step::GiveFeedback { feedback },
        Step::Close { outcome: "calm restored".into() },
    ];
    let records: Vec<StepRecord> = steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| StepRecord {
            alert: r.reference.clone(),
            seq: i as u32,
            step: s,
            user_id: format!("user-{i}"),
            at: ts("2024-05-01T12:00:00.000000123Z") + jiff::SignedDuration::from_mins(i as i64),
            // Every channel is stored and read back as it was.
            channel: StepChannel::ALL[i % StepChannel::ALL.len()],
        })
        .collect();
    for rec in &records {
        store.append_step(rec).unwrap();
    }
    assert_eq!(store.steps(&r.reference).unwrap(), records);
}

pub fn users_are_saved_updated_and_usernames_unique(store: &dyn ReportStore) {
    let fp = user("u-1", "focal.cf11", Role::FocalPoint, Some("CF11"));
    store.save_user(&fp, ADMIN).unwrap();
    let back = store.user("u-1").unwrap().unwrap();
    assert_eq!(back, fp);
    assert_eq!(back.password_hash, fp.password_hash, "the password hash is kept (serde skips it)");
    assert_eq!(store.user_by_username("focal.cf11").unwrap(), Some(fp.clone()));
    assert_eq!(store.user("u-2").unwrap(), None);
    assert_eq!(store.user_by_username("nobody").unwrap(), None);
    // Saving the same id again updates it, including the username.
    let mut changed = user("u-1", "analyst.one", Role::Analyst, None);
    changed.display_name = "Aïcha N.".into();
    changed.active = false;
    store.save_user(&changed, ADMIN).unwrap();
    assert_eq!(store.user("u-1").unwrap(), Some(changed.clone()));
    assert_eq!(store.user_by_username("focal.cf11").unwrap(), None);
    // Another account cannot take a username in use.
    let thief = user("u-2", "analyst.one", Role::Admin, None);
    assert!(matches!(store.save_user(&thief, ADMIN), Err(StoreError::Conflict(_))));
    assert_eq!(store.user("u-2").unwrap(), None);
    assert_eq!(store.user_by_username("analyst.one").unwrap(), Some(changed));
}

pub fn sessions_are_found_by_hash_and_deleted(store: &dyn ReportStore) {
    let s1 = Session {
        token_hash: TokenHash::of("vcs_first"),
        user_id: "u-1".into(),
        created_at: ts("2024-05-01T08:00:00.000000001Z"),
        expires_at: ts("2024-05-01T20:00:00Z"),
        last_seen_at: ts("2024-05-01T08:10:00.5Z"),
    };
    let s2 = Session { token_hash: TokenHash::of("vcs_second"), user_id: "u-2".into(), ..s1.clone() };
    store.save_session(&s1).unwrap();
    store.save_session(&s2).unwrap();
    assert_eq!(store.session(&TokenHash::of("vcs_first")).unwrap(), Some(s1.clone()));
    assert_eq!(store.session(&TokenHash::of("vcs_other")).unwrap(), None);
    // Saving again under the same hash replaces it.
    let extended = Session { expires_at: ts("2024-05-02T20:00:00Z"), ..s1.clone() };
    store.save_session(&extended).unwrap();
    assert_eq!(store.session(&s1.token_hash).unwrap(), Some(extended));
    store.delete_session(&s1.token_hash).unwrap();
    assert_eq!(store.session(&s1.token_hash).unwrap(), None);
    store.delete_session(&s1.token_hash).unwrap(); // deleting twice is fine
    assert_eq!(store.session(&s2.token_hash).unwrap(), Some(s2));
}

pub fn api_tokens_are_found_by_hash_and_revoked_once(store: &dyn ReportStore) {
    let t = ApiToken {
        token_hash: TokenHash::of("vca_partner"),
        partner: "partner-ngo".into(),
        user_id: "u-api".into(),
        created_at: ts("2024-05-01T08:00:00Z"),
        revoked_at: None,
        expires_at: Some(ts("2024-08-01T08:00:00.000000001Z")),
    };
    store.save_api_token(&t, ADMIN).unwrap();
    assert_eq!(store.api_token(&TokenHash::of("vca_partner")).unwrap(), Some(t.clone()));
    assert_eq!(store.api_token(&TokenHash::of("vca_wrong")).unwrap(), None);
    let first = ts("2024-06-01T00:00:00.25Z");
    store.revoke_api_token(&t.token_hash, first, ADMIN).unwrap();
    store.revoke_api_token(&t.token_hash, ts("2024-07-01T00:00:00Z"), ADMIN).unwrap();
    let revoked = store.api_token(&t.token_hash).unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(first), "the first revocation time stays");
    assert!(!revoked.is_valid_at(ts("2024-06-02T00:00:00Z")));
    assert!(matches!(store.revoke_api_token(&TokenHash::of("vca_wrong"), first, ADMIN), Err(StoreError::NotFound(_))));
}

pub fn kobo_uuids_are_remembered_per_form_idempotently(store: &dyn ReportStore) {
    let batch: Vec<(String, Reference)> =
        (0..50).map(|i| (format!("uuid-{i:03}"), Reference::from_number(100 + i))).collect();
    assert!(store.kobo_uuids("form-a").unwrap().is_empty());
    store.record_kobo_uuids("form-a", &batch).unwrap();
    store.record_kobo_uuids("form-a", &batch[10..20]).unwrap();
    store.record_kobo_uuids("form-a", &[]).unwrap();
    let expected: HashSet<String> = batch.iter().map(|(u, _)| u.clone()).collect();
    assert_eq!(store.kobo_uuids("form-a").unwrap(), expected);
    assert!(store.kobo_uuids("form-b").unwrap().is_empty());
    // The same uuid twice in one batch, and under another form.
    let twice = [("uuid-x".to_string(), Reference::from_number(1)), ("uuid-x".to_string(), Reference::from_number(2))];
    store.record_kobo_uuids("form-b", &twice).unwrap();
    store.record_kobo_uuids("form-b", &batch[..1]).unwrap();
    assert_eq!(store.kobo_uuids("form-b").unwrap(), HashSet::from(["uuid-x".to_string(), "uuid-000".to_string()]));
    assert_eq!(store.kobo_uuids("form-a").unwrap().len(), 50);
}

/// An SMS report with `message_id` as its source id, from `gateway`.
pub fn sms_at(n: u32, gateway: &str, message_id: Option<&str>) -> Report {
    let draft = ReportDraft {
        text: format!("sms {n}"),
        contact: Some(SecretString::from(format!("+2367200{n:04}"))),
        source_id: message_id.map(str::to_string),
        ..ReportDraft::default()
    };
    let channel = Channel::Sms { gateway: gateway.into() };
    intake().accept_as(&draft, channel, ts("2024-05-01T10:00:00Z"), Reference::from_number(n)).unwrap()
}

/// A gateway's message id is kept once per gateway: a second report with it
/// is a conflict and the first is found by it; another gateway, another
/// channel and reports without an id are not affected; of writers racing
/// with one id, exactly one wins.
pub fn an_sms_message_id_is_stored_once_per_gateway(store: &dyn ReportStore) {
    let first = sms_at(1, "twilio", Some("SM1"));
    store.insert_report(&first).unwrap();
    assert_eq!(store.sms_report("twilio", "SM1").unwrap(), Some(first.clone()));
    let mut repeat = sms_at(2, "twilio", Some("SM1"));
    repeat.text = "the same message id with another text".into();
    let err = store.insert_report(&repeat).unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("SM1")), "{err:?}");
    assert_eq!(store.report(&repeat.reference).unwrap(), None);
    assert_eq!(store.sms_report("twilio", "SM1").unwrap(), Some(first.clone()), "the first stays");
    // The same id from another gateway, or as a partner's or a KoBo source id, is another message.
    let other_gateway = sms_at(3, "rapidpro", Some("SM1"));
    store.insert_report(&other_gateway).unwrap();
    for (n, channel) in [(4, Channel::Api { partner: "ngo".into() }), (5, Channel::Kobo { form: "f".into() })] {
        let draft = ReportDraft { text: "x".into(), source_id: Some("SM1".into()), ..ReportDraft::default() };
        let r = intake().accept_as(&draft, channel, ts("2024-05-01T10:00:00Z"), Reference::from_number(n)).unwrap();
        store.insert_report(&r).unwrap();
    }
    let again = intake()
        .accept_as(
            &ReportDraft { text: "y".into(), source_id: Some("SM1".into()), ..ReportDraft::default() },
            Channel::Api { partner: "ngo".into() },
            ts("2024-05-01T10:00:00Z"),
            Reference::from_number(6),
        )
        .unwrap();
    store.insert_report(&again).unwrap();
    // Without a message id nothing is unique.
    store.insert_report(&sms_at(7, "rapidpro", None)).unwrap();
    store.insert_report(&sms_at(8, "rapidpro", None)).unwrap();
    assert_eq!(store.sms_report("rapidpro", "SM1").unwrap(), Some(other_gateway));
    assert_eq!(store.sms_report("twilio", "SM2").unwrap(), None);
    assert_eq!(store.sms_report("ngo", "SM1").unwrap(), None, "only SMS reports are found");
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 7);
    // Four deliveries of one message at once: one report.
    const THREADS: u32 = 4;
    let barrier = Barrier::new(THREADS as usize);
    let outcomes: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let r = sms_at(100 + t, "twilio", Some("SM-race"));
                    barrier.wait();
                    store.insert_report(&r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Ok(()) | Err(StoreError::Conflict(_)))), "{outcomes:?}");
    let winner = store.sms_report("twilio", "SM-race").unwrap().expect("one stored");
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 8);
    assert_eq!(store.report(&winner.reference).unwrap(), Some(winner));
}

pub fn session_of(secret: &str, user_id: &str, created: &str, last_seen: &str, expires: &str) -> Session {
    Session {
        token_hash: TokenHash::of(secret),
        user_id: user_id.into(),
        created_at: ts(created),
        expires_at: ts(expires),
        last_seen_at: ts(last_seen),
    }
}

pub fn api_token_of(secret: &str, partner: &str, user_id: &str, created: &str) -> ApiToken {
    ApiToken {
        token_hash: TokenHash::of(secret),
        partner: partner.into(),
        user_id: user_id.into(),
        created_at: ts(created),
        revoked_at: None,
        expires_at: None,
    }
}

pub fn users_are_listed_by_username(store: &dyn ReportStore) {
    assert_eq!(store.users().unwrap(), vec![]);
    for (id, name) in [("u-3", "zoe"), ("u-1", "amina"), ("u-2", "moussa")] {
        store.save_user(&user(id, name, Role::Analyst, None), "system:test").unwrap();
    }
    let mut disabled = user("u-4", "bakari", Role::FocalPoint, Some("CF11"));
    disabled.active = false;
    store.save_user(&disabled, "system:test").unwrap();
    let listed = store.users().unwrap();
    assert_eq!(listed.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["amina", "bakari", "moussa", "zoe"]);
    assert_eq!(listed[1], disabled, "inactive accounts are listed, with every field");
    assert_eq!(listed[0].password_hash, user("u-1", "amina", Role::Analyst, None).password_hash);
}

pub fn ending_access_saves_the_user_deletes_their_sessions_and_revokes_their_tokens_at_once(store: &dyn ReportStore) {
    let (amina, moussa) = (user("u-1", "amina", Role::Analyst, None), user("u-2", "moussa", Role::Responder, None));
    store.save_user(&amina, "system:test").unwrap();
    store.save_user(&moussa, "system:test").unwrap();
    let day = |d: u32| format!("2024-05-{d:02}T08:00:00Z");
    for (secret, uid) in [("vcs_a1", "u-1"), ("vcs_a2", "u-1"), ("vcs_m1", "u-2")] {
        store.save_session(&session_of(secret, uid, &day(1), &day(1), &day(2))).unwrap();
    }
    let earlier = ts("2024-04-01T00:00:00.5Z");
    let old = ApiToken { revoked_at: Some(earlier), ..api_token_of("vca_a0", "ngo", "u-1", &day(1)) };
    for t in [old, api_token_of("vca_a1", "ngo", "u-1", &day(1)), api_token_of("vca_m1", "ngo", "u-2", &day(1))] {
        store.save_api_token(&t, "system:test").unwrap();
    }
    let at = ts("2024-05-01T09:00:00.000000001Z");
    let disabled = User { active: false, ..amina.clone() };
    let chained = assert_chain_intact(store).len();
    let ended = store.save_user_ending_access(&disabled, at, "u-admin").unwrap();
    assert_eq!(ended, AccessEnded { sessions_ended: 2, tokens_revoked: 1 });
    // On the chain, in the same transaction: the account disabled and the
    // one token revoked now, both by the administrator who did it.
    let chain = assert_chain_intact(store);
    let added: Vec<_> = chain[chained..].iter().map(|e| (e.event.action.as_str(), e.event.actor.as_str())).collect();
    assert_eq!(added, [("user_disabled", "u-admin"), ("token_revoked", "u-admin")]);
    let revoked = api_token_of("vca_a1", "ngo", "u-1", &day(1));
    assert!(chain.last().unwrap().event.detail.contains(&revoked.public_id()), "the token is named by its public id");
    assert_eq!(store.user("u-1").unwrap(), Some(disabled.clone()));
    assert_eq!(store.sessions_of("u-1").unwrap(), vec![]);
    assert_eq!(store.session(&TokenHash::of("vcs_a1")).unwrap(), None);
    assert_eq!(store.api_token(&TokenHash::of("vca_a1")).unwrap().unwrap().revoked_at, Some(at));
    assert_eq!(store.api_token(&TokenHash::of("vca_a0")).unwrap().unwrap().revoked_at, Some(earlier), "kept");
    // The other account keeps everything.
    assert_eq!(store.sessions_of("u-2").unwrap().len(), 1);
    assert_eq!(store.api_token(&TokenHash::of("vca_m1")).unwrap().unwrap().revoked_at, None);
    // A new password the same way; nothing left to end.
    let rehashed = User { password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into(), ..disabled };
    assert_eq!(store.save_user_ending_access(&rehashed, at, "system:test").unwrap(), AccessEnded::default());
    assert_eq!(store.user_by_username("amina").unwrap().unwrap().password_hash, rehashed.password_hash);
    // An unknown account changes nothing.
    let ghost = user("u-9", "ghost", Role::Admin, None);
    assert!(matches!(store.save_user_ending_access(&ghost, at, "system:test"), Err(StoreError::NotFound(_))));
    assert_eq!(store.user("u-9").unwrap(), None);
    // Nor does one taking another's name.
    let thief = User { username: "moussa".into(), ..amina };
    assert!(matches!(store.save_user_ending_access(&thief, at, "system:test"), Err(StoreError::Conflict(_))));
    assert_eq!(store.sessions_of("u-2").unwrap().len(), 1);
}

pub fn sessions_are_listed_touched_and_swept_when_expired_or_idle(store: &dyn ReportStore) {
    let t = |hm: &str| format!("2024-05-01T{hm}:00Z");
    // Created out of order; one with nanoseconds.
    let later = session_of("vcs_later", "u-1", "2024-05-01T09:00:00.000000001Z", &t("09:00"), &t("21:00"));
    let first = session_of("vcs_first", "u-1", &t("08:00"), &t("08:00"), &t("20:00"));
    let ended = session_of("vcs_ended", "u-1", &t("01:00"), &t("01:30"), &t("10:00"));
    let other = session_of("vcs_other", "u-2", &t("08:30"), &t("08:30"), &t("20:30"));
    for s in [&later, &first, &ended, &other] {
        store.save_session(s).unwrap();
    }
    assert_eq!(store.sessions_of("u-1").unwrap(), vec![ended.clone(), first.clone(), later.clone()]);
    assert_eq!(store.sessions_of("nobody").unwrap(), vec![]);
    // Touching records the time, to the nanosecond; an unknown session is no error.
    let seen = ts("2024-05-01T10:20:00.123456789Z");
    store.touch_session(&first.token_hash, seen).unwrap();
    store.touch_session(&TokenHash::of("vcs_gone"), seen).unwrap();
    assert_eq!(store.session(&first.token_hash).unwrap().unwrap().last_seen_at, seen);
    // At 10:30 with a 30-minute idle limit: `ended` is past its end, `later`
    // and `other` idle since 09:00 and 08:30; `first` was seen at 10:20.
    let swept = store.delete_expired_sessions(ts(&t("10:30")), ts(&t("10:00"))).unwrap();
    assert_eq!(swept, 3);
    assert_eq!(store.sessions_of("u-1").unwrap(), vec![Session { last_seen_at: seen, ..first.clone() }]);
    assert_eq!(store.sessions_of("u-2").unwrap(), vec![]);
    assert_eq!(store.delete_expired_sessions(ts(&t("10:30")), ts(&t("10:00"))).unwrap(), 0);
    // Deleting every session of an account.
    store.save_session(&other).unwrap();
    assert_eq!(store.delete_sessions_of("u-1").unwrap(), 1);
    assert_eq!(store.delete_sessions_of("u-1").unwrap(), 0);
    assert_eq!(store.session(&other.token_hash).unwrap(), Some(other));
}

pub fn api_tokens_are_listed_and_revoked_by_account_partner_or_public_id(store: &dyn ReportStore) {
    let expiring = ApiToken {
        expires_at: Some(ts("2024-08-01T00:00:00.000000001Z")),
        ..api_token_of("vca_1", "Partner NGO", "u-1", "2024-05-02T00:00:00Z")
    };
    let tokens = [
        expiring.clone(),
        api_token_of("vca_2", "Partner NGO", "u-2", "2024-05-01T00:00:00Z"),
        api_token_of("vca_3", "Radio Ndeke", "u-1", "2024-05-03T00:00:00.5Z"),
    ];
    for t in &tokens {
        store.save_api_token(t, "system:test").unwrap();
    }
    let list = |w: TokenSelector| store.api_tokens(&w).unwrap();
    assert_eq!(list(TokenSelector::User("u-1".into())), vec![tokens[0].clone(), tokens[2].clone()]);
    assert_eq!(list(TokenSelector::Partner("Partner NGO".into())), vec![tokens[1].clone(), tokens[0].clone()]);
    assert_eq!(list(TokenSelector::Partner("partner ngo".into())), vec![], "partner names are exact");
    let id = tokens[2].public_id();
    assert_eq!(id.len(), 10);
    assert_eq!(list(TokenSelector::PublicId(id.to_uppercase())), vec![tokens[2].clone()]);
    assert_eq!(list(TokenSelector::PublicId("not-an-id".into())), vec![]);
    // Revoking by partner revokes each of its tokens once.
    let at = ts("2024-06-01T12:00:00.25Z");
    let revoked = store.revoke_api_tokens(&TokenSelector::Partner("Partner NGO".into()), at, "system:test").unwrap();
    assert_eq!(revoked.iter().map(|t| t.token_hash).collect::<Vec<_>>(), [tokens[1].token_hash, tokens[0].token_hash]);
    assert!(revoked.iter().all(|t| t.revoked_at == Some(at)));
    let again = store.revoke_api_tokens(
        &TokenSelector::Partner("Partner NGO".into()),
        ts("2024-07-01T00:00:00Z"),
        "system:test",
    );
    assert_eq!(again.unwrap(), vec![]);
    let back = store.api_token(&expiring.token_hash).unwrap().unwrap();
    assert_eq!(back, ApiToken { revoked_at: Some(at), ..expiring });
    // By public id; the third token alone.
    let by_id = store.revoke_api_tokens(&TokenSelector::PublicId(id), at, "system:test").unwrap();
    assert_eq!(by_id.len(), 1);
    assert!(list(TokenSelector::User("u-1".into())).iter().all(|t| t.revoked_at == Some(at)));
    assert_eq!(store.revoke_api_tokens(&TokenSelector::User("nobody".into()), at, "system:test").unwrap(), vec![]);
}

/// Four threads insert reports at once (none lost), then race to append
/// each position of one alert's log: exactly one wins each position.
pub fn concurrent_writers_lose_nothing_and_race_fairly_on_steps(store: &dyn ReportStore) {
    const THREADS: u32 = 4;
    const EACH: u32 = 60;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for i in 0..EACH {
                    let n = 1 + t * EACH + i;
                    store.insert_report(&report_at(n, Some("CF11"), "2024-05-01T00:00:00Z")).unwrap();
                    if i % 10 == 0 {
                        store.reports(&ReportFilter { limit: Some(5), ..ReportFilter::default() }).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), (THREADS * EACH) as usize);
    let alert = Reference::from_number(1);
    const POSITIONS: u32 = 6;
    let barrier = Barrier::new(THREADS as usize);
    let wins: Vec<Vec<u32>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (barrier, alert) = (&barrier, &alert);
                scope.spawn(move || {
                    let mut won = Vec::new();
                    for seq in 0..POSITIONS {
                        barrier.wait();
                        let rec = StepRecord {
                            alert: alert.clone(),
                            seq,
                            step: Step::Verify { note: format!("thread {t}") },
                            user_id: format!("t{t}"),
                            at: ts("2024-05-01T01:00:00Z"),
                            channel: StepChannel::Api,
                        };
                        match store.append_step(&rec) {
                            Ok(()) => won.push(seq),
                            Err(StoreError::Conflict(_)) => {}
                            Err(other) => panic!("thread {t}, step #{seq}: {other}"),
                        }
                        barrier.wait();
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<u32> = wins.concat();
    all.sort_unstable();
    assert_eq!(all, (0..POSITIONS).collect::<Vec<_>>(), "each position won exactly once");
    let log = store.steps(&alert).unwrap();
    assert_eq!(log.iter().map(|s| s.seq).collect::<Vec<_>>(), (0..POSITIONS).collect::<Vec<_>>());
    for s in &log {
        let winner = wins.iter().position(|w| w.contains(&s.seq)).unwrap();
        assert_eq!(s.user_id, format!("t{winner}"), "the stored step is the winner's");
    }
}

pub fn outbox_draft(report: &Reference, step_seq: u32) -> OutboxDraft {
    OutboxDraft {
        report: report.clone(),
        step_seq,
        language: "fr".into(),
        body: format!("Votre signalement {report} : une patrouille est passée « hier »"),
        queued_by: "u-1".into(),
        queued_at: ts("2024-05-01T11:00:00.5Z"),
    }
}

pub fn change(message_id: i64, seq: u32, status: OutboxStatus, detail: Option<&str>) -> OutboxChange {
    OutboxChange {
        message_id,
        seq,
        status,
        user_id: "u-2".into(),
        at: ts("2024-05-02T09:00:00Z"),
        detail: detail.map(str::to_string),
    }
}

pub fn a_step_and_the_message_it_queues_are_stored_together_or_not_at_all(store: &dyn ReportStore) {
    let (a, b) =
        (report_at(1, Some("CF11"), "2024-05-01T10:00:00Z"), report_at(2, Some("CF22"), "2024-05-01T10:00:00Z"));
    store.insert_report(&a).unwrap();
    store.insert_report(&b).unwrap();
    assert_eq!(store.outbox(&OutboxFilter::default()).unwrap(), vec![]);
    let feedback = |alert: &Reference, seq| step(alert, seq, Step::Acknowledge);
    let ids = store.append_step_with_messages(&feedback(&a.reference, 0), &[outbox_draft(&a.reference, 0)]).unwrap();
    assert_eq!(ids.len(), 1);
    let listed = store.outbox(&OutboxFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    let m = &listed[0];
    assert_eq!((m.id, &m.report, m.step_seq, m.language.as_str()), (ids[0], &a.reference, 0, "fr"));
    assert_eq!(m.body, outbox_draft(&a.reference, 0).body);
    assert_eq!(
        m.history,
        vec![OutboxChange {
            message_id: ids[0],
            seq: 0,
            status: OutboxStatus::Queued,
            user_id: "u-1".into(),
            at: ts("2024-05-01T11:00:00.5Z"),
            detail: None,
        }]
    );
    assert_eq!(store.steps(&a.reference).unwrap().len(), 1);
    // A step at a taken position is refused, and its message is not queued.
    let again = store.append_step_with_messages(&feedback(&a.reference, 0), &[outbox_draft(&a.reference, 0)]);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // A message for a report that does not exist takes its step down with it.
    let orphan =
        store.append_step_with_messages(&feedback(&b.reference, 0), &[outbox_draft(&Reference::from_number(77), 0)]);
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
    assert_eq!(store.steps(&b.reference).unwrap(), vec![], "no step without its message");
    assert_eq!(store.outbox(&OutboxFilter::default()).unwrap().len(), 1);
    let second = store.append_step_with_messages(&feedback(&b.reference, 0), &[outbox_draft(&b.reference, 0)]).unwrap();
    assert!(second[0] > ids[0], "ids increase");
    // Filters: by report, by ids, by current status; oldest first.
    let all = store.outbox(&OutboxFilter::default()).unwrap();
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[0], second[0]]);
    let of_b = store.outbox(&OutboxFilter { report: Some(b.reference.clone()), ..OutboxFilter::default() }).unwrap();
    assert_eq!(of_b.iter().map(|m| m.id).collect::<Vec<_>>(), second);
    let by_id = store.outbox(&OutboxFilter { ids: Some(vec![second[0], 999]), ..OutboxFilter::default() }).unwrap();
    assert_eq!(by_id.iter().map(|m| m.id).collect::<Vec<_>>(), second);
    assert_eq!(store.outbox(&OutboxFilter { ids: Some(vec![]), ..OutboxFilter::default() }).unwrap(), vec![]);
    store.append_outbox_changes(&[change(ids[0], 1, OutboxStatus::Exported, Some("out.csv"))]).unwrap();
    let queued = store.outbox(&OutboxFilter::with_statuses(&[OutboxStatus::Queued])).unwrap();
    assert_eq!(queued.iter().map(|m| m.id).collect::<Vec<_>>(), second);
}

pub fn outbox_status_history_is_append_only_in_sequence(store: &dyn ReportStore) {
    let r = report_at(1, Some("CF11"), "2024-05-01T10:00:00Z");
    store.insert_report(&r).unwrap();
    let id = store
        .append_step_with_messages(&step(&r.reference, 0, Step::Acknowledge), &[outbox_draft(&r.reference, 0)])
        .unwrap()[0];
    let gap = store.append_outbox_changes(&[change(id, 2, OutboxStatus::Sent, None)]);
    assert!(matches!(gap, Err(StoreError::Conflict(_))), "{gap:?}");
    let taken = store.append_outbox_changes(&[change(id, 0, OutboxStatus::Cancelled, Some("x"))]);
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    // A batch lands whole or not at all.
    let batch = [change(id, 1, OutboxStatus::Exported, Some("a.csv")), change(id, 3, OutboxStatus::Sent, None)];
    assert!(matches!(store.append_outbox_changes(&batch), Err(StoreError::Conflict(_))));
    assert_eq!(store.outbox(&OutboxFilter::default()).unwrap()[0].history.len(), 1, "nothing of a refused batch");
    let unknown = store.append_outbox_changes(&[change(id + 100, 1, OutboxStatus::Sent, None)]);
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
    let good = [
        change(id, 1, OutboxStatus::Exported, Some("a.csv")),
        change(id, 2, OutboxStatus::Failed, Some("the 'To' number is not valid")),
        change(id, 3, OutboxStatus::Queued, None),
    ];
    store.append_outbox_changes(&good).unwrap();
    store.append_outbox_changes(&[]).unwrap();
    let back = store.outbox(&OutboxFilter::default()).unwrap().remove(0);
    assert_eq!(back.history[1..], good);
    assert_eq!(back.status(), OutboxStatus::Queued);
}

// --- the audit chain ---

/// Every entry of the chain, in order.
pub fn audit_chain(store: &dyn ReportStore) -> Vec<AuditEntry> {
    let mut all: Vec<AuditEntry> = Vec::new();
    loop {
        let page = store.audit_entries(all.last().map_or(0, |e| e.seq), 7).unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The chain is intact and matches the contact read log and the step log.
pub fn assert_chain_intact(store: &dyn ReportStore) -> Vec<AuditEntry> {
    let entries = audit_chain(store);
    let report = verify_chain(&entries, None);
    assert_eq!(report.problems, vec![], "the chain verifies");
    assert_eq!(report.checked as usize, entries.len());
    let head = store.audit_head().unwrap();
    assert_eq!(head.as_ref(), entries.last(), "the head is the last entry");
    let mut reads = RowCheck::new(
        AuditAction::ContactRead,
        "contact_reads",
        store.contact_read_log().unwrap().iter().map(AuditEvent::contact_read),
    );
    let mut steps = RowCheck::new(
        AuditAction::AlertStep,
        "alert_steps",
        store.step_log().unwrap().iter().map(StepRecord::audit_event),
    );
    for e in &entries {
        reads.feed(e);
        steps.feed(e);
    }
    assert_eq!(reads.finish(), vec![], "every contact read has its entry and every entry its read");
    assert_eq!(steps.finish(), vec![], "every alert step has its entry and every entry its step");
    entries
}

pub fn login(n: u32) -> AuditEvent {
    AuditEvent::new(
        ts("2024-05-01T08:00:00.000000001Z") + jiff::SignedDuration::from_secs(i64::from(n)),
        format!("u-{n}"),
        AuditAction::Login,
        format!("user{n}"),
        "web session",
    )
}

pub fn the_audit_chain_links_every_entry_to_the_one_before(store: &dyn ReportStore) {
    assert_eq!(store.audit_head().unwrap(), None, "a new store has an empty chain");
    assert_eq!(store.audit_entries(0, 10).unwrap(), vec![]);
    let failed =
        AuditEvent::new(ts("2024-05-01T09:00:00Z"), "system:web", AuditAction::LoginFailed, "", "no such account");
    let export = AuditEvent::new(
        ts("2024-05-01T09:30:00.5Z"),
        "u-1",
        AuditAction::Export,
        "outbox.csv",
        "12 phone numbers « sms »",
    );
    let events: Vec<AuditEvent> = (1..=20).map(login).chain([failed, export]).collect();
    let mut appended = Vec::new();
    for e in &events {
        let entry = store.append_audit(e).unwrap();
        assert_eq!(&entry.event, e);
        appended.push(entry);
    }
    let entries = assert_chain_intact(store);
    assert_eq!(entries, appended, "entries read back as appended, to the nanosecond and the last character");
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=22).collect::<Vec<u64>>());
    assert_eq!(entries[0].prev_hash, vitalcore_security::audit::GENESIS);
    assert_eq!(store.audit_head().unwrap().unwrap().seq, 22);
    // Pages: after a given entry, at most `limit`.
    let page = store.audit_entries(5, 3).unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6, 7, 8]);
    assert_eq!(store.audit_entries(22, 10).unwrap(), vec![]);
    assert_eq!(store.audit_entries(0, 0).unwrap(), vec![]);
}

pub fn security_writes_append_their_chain_entry_in_the_same_transaction(store: &dyn ReportStore) {
    let (a, b) =
        (report_at(1, Some("CF11"), "2024-05-01T10:00:00Z"), report_at(2, Some("CF22"), "2024-05-01T10:00:00Z"));
    store.insert_report(&a).unwrap();
    store.insert_report(&b).unwrap();
    assert_eq!(store.audit_head().unwrap(), None, "a report is not a security event");
    let read = ContactRead {
        report: a.reference.to_string(),
        user_id: "u-r1".into(),
        role: Role::Responder,
        purpose: "call back".into(),
        at: ts("2024-05-02T00:00:00.123Z"),
    };
    store.append_contact_read(&read).unwrap();
    store.append_step(&step(&a.reference, 0, Step::Acknowledge)).unwrap();
    store
        .append_step_with_messages(&step(&a.reference, 1, Step::Acknowledge), &[outbox_draft(&a.reference, 1)])
        .unwrap();
    // Refused writes leave no entry: a taken step position, a message for
    // no report (its step is not kept either), a taken username.
    let taken = store.append_step(&step(&a.reference, 0, Step::Acknowledge));
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let orphan = store.append_step_with_messages(
        &step(&b.reference, 0, Step::Acknowledge),
        &[outbox_draft(&Reference::from_number(77), 0)],
    );
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
    let mut analyst = user("u-a", "amina", Role::Analyst, None);
    store.save_user(&analyst, ADMIN).unwrap();
    store.save_user(&analyst, ADMIN).unwrap(); // nothing changed: no entry
    assert!(matches!(store.save_user(&user("u-b", "amina", Role::Admin, None), ADMIN), Err(StoreError::Conflict(_))));
    analyst.role = Role::Admin;
    store.save_user(&analyst, "u-root").unwrap();
    analyst.active = false;
    store.save_user(&analyst, "u-root").unwrap();
    analyst.active = true;
    analyst.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3$other".into();
    store.save_user(&analyst, "u-a").unwrap();
    let token = ApiToken {
        token_hash: TokenHash::of("vca_partner_secret"),
        partner: "partner-ngo".into(),
        user_id: "u-a".into(),
        created_at: ts("2024-05-03T00:00:00Z"),
        revoked_at: None,
        expires_at: None,
    };
    store.save_api_token(&token, ADMIN).unwrap();
    store.revoke_api_token(&token.token_hash, ts("2024-05-04T00:00:00Z"), "u-root").unwrap();
    store.revoke_api_token(&token.token_hash, ts("2024-05-05T00:00:00Z"), "u-root").unwrap(); // already: no entry

    let entries = assert_chain_intact(store);
    let got: Vec<(AuditAction, &str, &str, &str)> = entries
        .iter()
        .map(|e| (e.event.action, e.event.actor.as_str(), e.event.subject.as_str(), e.event.detail.as_str()))
        .collect();
    let token_detail = format!("partner partner-ngo; token {}", token.public_id());
    assert_eq!(
        got,
        vec![
            (AuditAction::ContactRead, "u-r1", a.reference.as_str(), "responder: call back"),
            (AuditAction::AlertStep, "u-1", a.reference.as_str(), "#0 acknowledge"),
            (AuditAction::AlertStep, "u-1", a.reference.as_str(), "#1 acknowledge"),
            (AuditAction::UserCreated, ADMIN, "amina", "role analyst"),
            (AuditAction::RoleChanged, "u-root", "amina", "analyst -> admin"),
            (AuditAction::UserDisabled, "u-root", "amina", ""),
            (AuditAction::PasswordChanged, "u-a", "amina", ""),
            (AuditAction::UserEnabled, "u-a", "amina", ""),
            (AuditAction::TokenCreated, ADMIN, "u-a", token_detail.as_str()),
            (AuditAction::TokenRevoked, "u-root", "u-a", token_detail.as_str()),
        ]
    );
    assert_eq!(entries[0].event.at, read.at);
    assert_eq!(entries[9].event.at, ts("2024-05-04T00:00:00Z"), "revoked when it was revoked");
    for e in &entries {
        for secret in ["vca_partner_secret", "argon2", "+2367000"] {
            assert!(!e.event.detail.contains(secret), "entry #{} holds `{secret}`", e.seq);
        }
    }
    // The logs the chain is checked against.
    assert_eq!(store.contact_read_log().unwrap(), vec![read]);
    assert_eq!(store.step_log().unwrap().len(), 2);
}

/// Threads append at once through every kind of write that chains: no entry
/// is lost, none is doubled, and each links to the one before (no fork).
pub fn concurrent_writers_never_fork_the_audit_chain(store: &dyn ReportStore) {
    const THREADS: u32 = 4;
    const EACH: u32 = 24;
    for t in 0..THREADS {
        store.insert_report(&report_at(t + 1, Some("CF11"), "2024-05-01T00:00:00Z")).unwrap();
    }
    let barrier = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                let alert = Reference::from_number(t + 1);
                for i in 0..EACH {
                    match i % 3 {
                        0 => {
                            store.append_audit(&login(t * 1000 + i)).unwrap();
                        }
                        1 => store
                            .append_contact_read(&ContactRead {
                                report: alert.to_string(),
                                user_id: format!("t{t}"),
                                role: Role::Responder,
                                purpose: format!("read {i}"),
                                at: ts("2024-05-02T00:00:00Z"),
                            })
                            .unwrap(),
                        _ => store
                            .append_step(&StepRecord {
                                alert: alert.clone(),
                                seq: i / 3,
                                step: Step::Verify { note: format!("{i}") },
                                user_id: format!("t{t}"),
                                at: ts("2024-05-02T00:00:00Z"),
                                channel: StepChannel::Api,
                            })
                            .unwrap(),
                    }
                }
            });
        }
    });
    let entries = assert_chain_intact(store);
    assert_eq!(entries.len(), (THREADS * EACH) as usize, "no entry lost or doubled");
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=u64::from(THREADS * EACH)).collect::<Vec<_>>());
    for t in 0..THREADS {
        let mine = entries.iter().filter(|e| e.event.actor == format!("t{t}")).count();
        assert_eq!(mine, EACH as usize * 2 / 3, "thread {t}'s reads and steps");
    }
    let logins = entries.iter().filter(|e| e.event.action == AuditAction::Login).count();
    assert_eq!(logins, (THREADS * EACH / 3) as usize);
}

// --- checks on the database itself ---

/// Writes everything a store keeps, as the reopening check expects it;
/// returns the report (its contact is sealed with a fresh nonce each time).
pub fn write_everything(store: &dyn ReportStore) -> Report {
    let report = full_report(1);
    store.insert_report(&report).unwrap();
    store.append_step(&step(&Reference::from_number(1), 0, Step::Acknowledge)).unwrap();
    store.save_user(&user("u-1", "responder", Role::Responder, None), ADMIN).unwrap();
    let session = Session {
        token_hash: TokenHash::of("vcs_x"),
        user_id: "u-1".into(),
        created_at: ts("2024-05-01T08:00:00Z"),
        expires_at: ts("2024-05-01T20:00:00Z"),
        last_seen_at: ts("2024-05-01T09:30:00Z"),
    };
    store.save_session(&session).unwrap();
    let token = ApiToken {
        token_hash: TokenHash::of("vca_x"),
        partner: "p".into(),
        user_id: "u-1".into(),
        created_at: ts("2024-05-01T08:00:00Z"),
        revoked_at: None,
        expires_at: Some(ts("2024-07-30T08:00:00Z")),
    };
    store.save_api_token(&token, ADMIN).unwrap();
    let responder = store.user("u-1").unwrap().unwrap();
    let sealed = report.contact.as_ref().unwrap();
    let opened =
        key().open(sealed, report.reference.as_str(), &responder.accessor(), "call back", ts("2024-05-02T00:00:00Z"));
    store.append_contact_read(&opened.unwrap().audit).unwrap();
    store.record_kobo_uuids("f", &[("uuid-1".into(), Reference::from_number(1))]).unwrap();
    let sms = step(&Reference::from_number(1), 1, Step::Verify { note: "seen".into() });
    let id = store.append_step_with_messages(&sms, &[outbox_draft(&Reference::from_number(1), 1)]).unwrap()[0];
    store.append_outbox_changes(&[change(id, 1, OutboxStatus::Exported, Some("out.csv"))]).unwrap();
    store
        .append_audit(&AuditEvent::new(
            ts("2024-05-02T01:00:00Z"),
            "u-1",
            AuditAction::Export,
            "out.csv",
            "1 phone number",
        ))
        .unwrap();
    report
}

pub fn everything_survives_reopening(backend: &dyn Backend) {
    let reference = Reference::from_number(1);
    let (written, chain) = {
        let store = backend.open();
        let written = write_everything(&*store);
        (written, assert_chain_intact(&*store))
    };
    assert_eq!(chain.len(), 6, "read, 2 steps, user, token, export");
    for _ in 0..2 {
        let store = backend.open();
        assert_eq!(assert_chain_intact(&*store), chain, "the chain reads back the same");
        assert_eq!(store.report(&reference).unwrap(), Some(written.clone()));
        assert_eq!(store.steps(&reference).unwrap()[0], step(&reference, 0, Step::Acknowledge));
        let outbox = store.outbox(&OutboxFilter::default()).unwrap();
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].body, outbox_draft(&reference, 1).body);
        assert_eq!(outbox[0].history[1], change(outbox[0].id, 1, OutboxStatus::Exported, Some("out.csv")));
        assert_eq!(store.user_by_username("responder").unwrap(), Some(user("u-1", "responder", Role::Responder, None)));
        let session = store.session(&TokenHash::of("vcs_x")).unwrap().unwrap();
        assert_eq!((session.user_id.as_str(), session.last_seen_at), ("u-1", ts("2024-05-01T09:30:00Z")));
        let token = store.api_token(&TokenHash::of("vca_x")).unwrap().unwrap();
        assert_eq!((token.partner.as_str(), token.expires_at), ("p", Some(ts("2024-07-30T08:00:00Z"))));
        assert_eq!(store.contact_reads(&reference).unwrap().len(), 1);
        assert_eq!(store.kobo_uuids("f").unwrap(), HashSet::from(["uuid-1".to_string()]));
        // The SMS message id is still known, and still stored once.
        assert_eq!(store.sms_report("twilio", "SM0f1e2d3c").unwrap(), Some(written.clone()));
        assert!(matches!(store.insert_report(&full_report(2)), Err(StoreError::Conflict(_))));
        // And the next step position is still enforced.
        assert!(matches!(store.append_step(&step(&reference, 0, Step::Acknowledge)), Err(StoreError::Conflict(_))));
        assert!(matches!(
            store.append_outbox_changes(&[change(outbox[0].id, 1, OutboxStatus::Sent, None)]),
            Err(StoreError::Conflict(_))
        ));
    }
}

pub fn contact_is_never_stored_in_plaintext(backend: &dyn Backend) {
    let store = backend.open();
    write_everything(&*store);
    let sealed = store.report(&Reference::from_number(1)).unwrap().unwrap().contact.unwrap();
    let check = |when: &str| {
        // The positive control: the sealed text is there, so the search sees stored data.
        assert!(backend.holds(sealed.as_stored()), "{when}: the sealed contact should be stored");
        for plain in [PHONE, "72 19 84 53", "23672198453"] {
            assert!(!backend.holds(plain), "{when}: the contact `{plain}` is stored in plaintext");
        }
    };
    check("store open");
    drop(store);
    check("store closed");
}

pub fn logs_refuse_changes_behind_the_stores_back(backend: &dyn Backend) {
    let store = backend.open();
    write_everything(&*store);
    let chain = assert_chain_intact(&*store);
    for (i, attempt) in backend.tamper().into_iter().enumerate() {
        assert!(attempt.is_err(), "tampering attempt {i} succeeded");
    }
    assert_eq!(assert_chain_intact(&*store), chain, "the chain is as it was");
    assert_eq!(store.steps(&Reference::from_number(1)).unwrap().len(), 2);
    assert_eq!(store.contact_reads(&Reference::from_number(1)).unwrap().len(), 1);
    let outbox = store.outbox(&OutboxFilter::default()).unwrap();
    assert_eq!((outbox.len(), outbox[0].history.len()), (1, 2));
    assert_eq!(outbox[0].body, outbox_draft(&Reference::from_number(1), 1).body);
}

// --- notifications (migration 11) ---

fn alert_note(report: &Report) -> vitalcore_intake::notify::NotificationDraft {
    vitalcore_intake::notify::NotificationDraft::alert_new(
        &report.reference,
        report.place.area_pcode.as_deref(),
        report.effective_urgency(),
        report.category.as_deref(),
        report.received_at,
    )
}

pub fn notifications_are_queued_with_their_report_and_once_per_dedup_key(store: &dyn ReportStore) {
    let report = full_report(1);
    let note = alert_note(&report);
    store.insert_report_notifying(&report, std::slice::from_ref(&note)).unwrap();
    // A report refused (its reference is taken) queues nothing.
    let mut again = full_report(1);
    again.source_id = Some("another-message".into());
    let mut other = note.clone();
    other.dedup_key = "alert.new:other".into();
    assert!(matches!(store.insert_report_notifying(&again, &[other]), Err(StoreError::Conflict(_))));
    let pending = store.pending_notifications(10).unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].draft, note);
    assert!(!pending[0].expanded);
    // Queued again (a retry, a derived escalation seen twice): nothing new.
    assert_eq!(store.queue_notifications(std::slice::from_ref(&note)).unwrap(), Vec::<i64>::new());
    let mut escalated = note.clone();
    escalated.dedup_key = format!("alert.escalated:{}:1", report.reference);
    escalated.kind = vitalcore_intake::notify::NotifyKind::AlertEscalated;
    escalated.level = 1;
    let ids = store.queue_notifications(&[escalated.clone(), escalated.clone()]).unwrap();
    assert_eq!(ids.len(), 1);
    let pending = store.pending_notifications(10).unwrap();
    assert_eq!(pending.iter().map(|n| n.draft.clone()).collect::<Vec<_>>(), vec![note, escalated]);
    assert_eq!(store.pending_notifications(1).unwrap().len(), 1);
}

pub fn deliveries_are_claimed_once_with_the_attempt_recorded_and_come_back_after_the_lease(store: &dyn ReportStore) {
    use vitalcore_intake::notify::{AttemptOutcome, ChannelKind, DeliveryDraft, DeliveryStatus};
    let report = full_report(1);
    store.insert_report_notifying(&report, &[alert_note(&report)]).unwrap();
    let n = store.pending_notifications(10).unwrap().remove(0);
    let t0 = ts("2026-12-08T09:00:00Z");
    let drafts = vec![
        DeliveryDraft { channel: ChannelKind::Webhook, target: "ops".into() },
        DeliveryDraft { channel: ChannelKind::Sms, target: "u-1".into() },
    ];
    store.expand_notification(n.id, &drafts, t0).unwrap();
    // Expanding again (a worker restarted midway) adds nothing.
    store.expand_notification(n.id, &drafts, t0).unwrap();
    assert!(store.pending_notifications(10).unwrap().is_empty());
    assert!(matches!(store.expand_notification(n.id + 100, &drafts, t0), Err(StoreError::NotFound(_))));

    let lease = ts("2026-12-08T09:01:00Z");
    assert!(store.claim_deliveries(ts("2026-12-08T08:59:59Z"), lease, 10).unwrap().is_empty(), "not due yet");
    let first = store.claim_deliveries(t0, lease, 1).unwrap();
    assert_eq!(first.len(), 1);
    let (d, with) = &first[0];
    assert_eq!((d.status, d.attempts, with.id), (DeliveryStatus::Sending, 1, n.id));
    assert_eq!(d.history.iter().map(|h| h.what.as_str()).collect::<Vec<_>>(), ["queued", "attempt"]);
    let second = store.claim_deliveries(t0, lease, 10).unwrap();
    assert_eq!(second.len(), 1, "the first is claimed: only the other is handed out");
    assert_ne!(second[0].0.id, d.id);
    assert!(store.claim_deliveries(t0, lease, 10).unwrap().is_empty());

    // The first is sent; the second fails and is retried later.
    store.finish_delivery(d.id, &AttemptOutcome::Sent("HTTP 200".into()), t0).unwrap();
    let retry_at = ts("2026-12-08T09:00:02Z");
    let reason = AttemptOutcome::Retry { reason: "connection refused".into(), next_at: retry_at };
    store.finish_delivery(second[0].0.id, &reason, t0).unwrap();
    assert!(store.claim_deliveries(ts("2026-12-08T09:00:01Z"), lease, 10).unwrap().is_empty());
    let again = store.claim_deliveries(retry_at, ts("2026-12-08T09:02:00Z"), 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0.attempts, 2);
    // A worker killed during the attempt: the claim runs out, it is due again.
    assert!(store.claim_deliveries(ts("2026-12-08T09:01:59Z"), lease, 10).unwrap().is_empty());
    let after_crash = store.claim_deliveries(ts("2026-12-08T09:02:00Z"), ts("2026-12-08T09:03:00Z"), 10).unwrap();
    assert_eq!(after_crash.len(), 1);
    assert_eq!(after_crash[0].0.attempts, 3);
    store.finish_delivery(after_crash[0].0.id, &AttemptOutcome::Failed("HTTP 410 Gone".into()), t0).unwrap();
    assert!(store.claim_deliveries(ts("2027-01-01T00:00:00Z"), ts("2027-01-01T00:01:00Z"), 10).unwrap().is_empty());

    let listed = store.deliveries(10).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].0.id > listed[1].0.id, "newest first");
    let failed = listed.iter().find(|(x, _)| x.id == second[0].0.id).unwrap();
    assert_eq!(failed.0.status, DeliveryStatus::Failed);
    let whats: Vec<&str> = failed.0.history.iter().map(|h| h.what.as_str()).collect();
    assert_eq!(whats, ["queued", "attempt", "retry", "attempt", "attempt", "failed"]);
    assert_eq!(failed.0.history[2].detail.as_deref(), Some("connection refused"));
    let sent = listed.iter().find(|(x, _)| x.id == d.id).unwrap();
    assert_eq!(sent.0.status, DeliveryStatus::Sent);
    assert_eq!(sent.0.history.last().unwrap().detail.as_deref(), Some("HTTP 200"));
    assert!(matches!(store.finish_delivery(9999, &AttemptOutcome::Sent("x".into()), t0), Err(StoreError::NotFound(_))));
    // On the audit chain, with its outcome: the sent one and the one that
    // failed for good; the retry only in its delivery's history.
    let chain = assert_chain_intact(store);
    let told: Vec<(&str, &str, &str)> = chain
        .iter()
        .filter(|e| e.event.action == AuditAction::Notification)
        .map(|e| (e.event.actor.as_str(), e.event.subject.as_str(), e.event.detail.as_str()))
        .collect();
    let (sent_id, failed_id) = (format!("delivery #{}", d.id), format!("delivery #{}", second[0].0.id));
    assert_eq!(
        told,
        [
            ("system:notify", sent_id.as_str(), "sent: HTTP 200"),
            ("system:notify", failed_id.as_str(), "failed: HTTP 410 Gone")
        ]
    );
}

pub fn rota_and_staff_contacts_round_trip_and_a_phone_names_one_person(store: &dyn ReportStore) {
    use crate::notify::RotaDraft;
    use vitalcore_intake::notify::{DutyRole, StaffContact};
    store.save_user(&user("u-1", "amina", Role::Responder, None), "system:test").unwrap();
    store.save_user(&user("u-2", "joseph", Role::Admin, None), "system:test").unwrap();
    let entry = RotaDraft {
        area_pcode: "CF32".into(),
        role: DutyRole::Responder,
        user_id: "u-1".into(),
        from: ts("2026-12-08T08:00:00Z"),
        to: Some(ts("2026-12-08T20:00:00Z")),
        fallback: false,
        set_by: "u-2".into(),
        set_at: ts("2026-12-07T10:00:00Z"),
    };
    let fallback = RotaDraft {
        area_pcode: "*".into(),
        role: DutyRole::Supervisor,
        user_id: "u-2".into(),
        to: None,
        fallback: true,
        ..entry.clone()
    };
    store.add_rota_entry(&entry).unwrap();
    store.add_rota_entry(&fallback).unwrap();
    assert!(matches!(
        store.add_rota_entry(&RotaDraft { user_id: "nobody".into(), ..entry.clone() }),
        Err(StoreError::NotFound(_))
    ));
    // Who is told of alerts is on the audit chain, by whoever set it; the refused entry is not.
    let put_on_call: Vec<(String, String, String)> = assert_chain_intact(store)
        .into_iter()
        .filter(|e| e.event.action == AuditAction::OnCallChanged)
        .map(|e| (e.event.actor, e.event.subject, e.event.detail))
        .collect();
    assert_eq!(put_on_call.len(), 2);
    assert_eq!((put_on_call[0].0.as_str(), put_on_call[0].1.as_str()), ("u-2", "u-1"));
    assert!(put_on_call[0].2.starts_with("CF32 responder from 2026-12-08T08:00:00Z"), "{}", put_on_call[0].2);
    assert!(put_on_call[1].2.ends_with("open-ended (fallback)"), "{}", put_on_call[1].2);
    let rota = store.rota().unwrap();
    assert_eq!(rota.len(), 2);
    assert_eq!((rota[0].area_pcode.as_str(), rota[0].fallback, rota[0].to), ("*", true, None));
    assert_eq!((rota[1].user_id.as_str(), rota[1].role, rota[1].to), ("u-1", DutyRole::Responder, entry.to));

    // Taken off by an administrator: gone from the rota, on the chain by them; an unknown id changes nothing.
    let removed = store.remove_rota_entry(rota[1].id, "u-2", ts("2026-12-07T11:00:00Z")).unwrap();
    assert_eq!(removed, rota[1]);
    assert!(matches!(
        store.remove_rota_entry(rota[1].id, "u-2", ts("2026-12-07T11:01:00Z")),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.rota().unwrap(), [rota[0].clone()]);
    let changes: Vec<_> = assert_chain_intact(store)
        .into_iter()
        .filter(|e| e.event.action == AuditAction::OnCallChanged)
        .map(|e| (e.event.actor, e.event.subject, e.event.detail))
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!((changes[2].0.as_str(), changes[2].1.as_str()), ("u-2", "u-1"));
    let expected = format!("removed #{}: CF32 responder from 2026-12-08T08:00:00Z", removed.id);
    assert!(changes[2].2.starts_with(&expected), "{}", changes[2].2);
    // A new entry after a removal does not take the id of one still on the rota.
    let again = store.add_rota_entry(&entry).unwrap();
    assert_ne!(again, rota[0].id);
    assert_eq!(store.rota().unwrap().len(), 2);

    let amina = StaffContact {
        user_id: "u-1".into(),
        phone: Some("+23672000001".into()),
        email: Some("amina@example.org".into()),
    };
    store.set_staff_contact(&amina).unwrap();
    assert_eq!(store.staff_contact("u-1").unwrap(), Some(amina.clone()));
    assert_eq!(store.staff_by_phone("+23672000001").unwrap(), Some(amina.clone()));
    assert_eq!(store.staff_contact("u-2").unwrap(), None);
    let same_phone = StaffContact { user_id: "u-2".into(), ..amina.clone() };
    assert!(matches!(store.set_staff_contact(&same_phone), Err(StoreError::Conflict(_))));
    let moved = StaffContact { phone: Some("+23672000002".into()), email: None, ..amina };
    store.set_staff_contact(&moved).unwrap();
    assert_eq!(store.staff_contact("u-1").unwrap(), Some(moved));
    assert_eq!(store.staff_by_phone("+23672000001").unwrap(), None);
    let unknown = StaffContact { user_id: "nobody".into(), ..StaffContact::default() };
    assert!(matches!(store.set_staff_contact(&unknown), Err(StoreError::NotFound(_))));
}
