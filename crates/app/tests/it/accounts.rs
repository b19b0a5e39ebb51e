//! Accounts an administrator controls, logins and callers, on every
//! backend (the in-memory reference, SQLite, PostgreSQL), with the clock
//! passed in.

use jiff::{SignedDuration, Timestamp};
use secrecy::ExposeSecret;
use std::sync::OnceLock;
use vitalcore_app::accounts::{
    AccountError, LoginOutcome, Logins, SessionPolicy, caller_from_session, caller_from_token, change_password,
    create_user, disable_user, enable_user, end_sessions, issue_api_token, list_users, login, may_manage_accounts,
    revoke_tokens, sessions_of, set_role, tokens_of,
};
use vitalcore_security::auth::{Role, User, hash_password};
use vitalcore_security::ratelimit::ThrottledBy;
use vitalcore_store::reports::{AccessEnded, ReportStore, TokenSelector};

use crate::ts;

on_every_backend!(
    disabling_ends_sessions_and_tokens_at_once_and_enabling_gives_none_back,
    a_new_password_ends_sessions_and_tokens_and_only_the_new_password_logs_in,
    sessions_end_when_idle_or_past_their_end_and_their_use_is_recorded_once_a_minute,
    api_tokens_expire_and_are_revoked_by_partner_or_by_id,
    fifty_wrong_passwords_then_the_right_one_is_throttled_not_logged_in,
    accounts_are_listed_with_live_sessions_and_tokens_and_sessions_ended_one_by_one,
    every_login_and_refused_login_is_on_the_audit_chain,
    a_new_role_ends_sessions_and_tokens_and_keeps_the_password_and_status,
);

pub fn a_new_role_ends_sessions_and_tokens_and_keeps_the_password_and_status(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "amina", Role::Analyst);
    let cookie = session(store, &logins, "amina", PASSWORD, t("08:00"));
    issue_api_token(store, "amina", "Partner NGO", None, t("08:00"), "system:test").unwrap();
    let (user, ended) = set_role(store, "amina", Role::FocalPoint, Some("CF32"), t("08:01"), "system:test").unwrap();
    assert_eq!((user.role, user.community.as_deref(), user.active), (Role::FocalPoint, Some("CF32"), true));
    assert_eq!(ended, AccessEnded { sessions_ended: 1, tokens_revoked: 1 });
    assert!(caller_from_session(store, &cookie, &policy(), t("08:02")).unwrap().is_none());
    let stored = store.user_by_username("amina").unwrap().unwrap();
    assert_eq!((stored.role, stored.community.as_deref()), (Role::FocalPoint, Some("CF32")));
    session(store, &logins, "amina", PASSWORD, t("08:03"));
    // A focal point needs a community, no other role has one; an unknown account is told.
    assert!(matches!(
        set_role(store, "amina", Role::FocalPoint, None, t("08:04"), "system:test"),
        Err(AccountError::User(_))
    ));
    assert!(matches!(
        set_role(store, "amina", Role::Viewer, Some("CF32"), t("08:04"), "system:test"),
        Err(AccountError::User(_))
    ));
    assert!(matches!(
        set_role(store, "nobody", Role::Viewer, None, t("08:04"), "system:test"),
        Err(AccountError::NoSuchUser(_))
    ));
    // Only an active admin manages accounts.
    let admin = account(store, "root", Role::Admin);
    assert!(may_manage_accounts(&admin).is_ok());
    for role in [Role::Analyst, Role::Responder, Role::Viewer] {
        let other = User::new("u-x", "someone", role, None, String::new()).unwrap();
        assert!(matches!(may_manage_accounts(&other), Err(AccountError::Denied(_))), "{role}");
    }
    let (disabled, _) = disable_user(store, "root", t("08:05"), "system:test").unwrap();
    assert!(matches!(may_manage_accounts(&disabled), Err(AccountError::Denied(_))));
}

const PASSWORD: &str = "correct horse battery staple";

/// One real hash of [`PASSWORD`] for the process (argon2id takes a while).
fn hashed() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).unwrap()).clone()
}

fn account(store: &dyn ReportStore, name: &str, role: Role) -> User {
    let user = User::new(&format!("u-{name}"), name, role, None, hashed()).unwrap();
    store.save_user(&user, "system:test").unwrap();
    user
}

fn policy() -> SessionPolicy {
    SessionPolicy { hours: 12, idle: SignedDuration::from_mins(30), touch_every: SignedDuration::from_mins(1) }
}

fn t(hm: &str) -> Timestamp {
    ts(&format!("2024-05-01T{hm}:00Z"))
}

/// Logs in and returns the session cookie's value.
fn session(store: &dyn ReportStore, logins: &Logins, name: &str, password: &str, now: Timestamp) -> String {
    match login(store, logins, name, password, None, &policy(), now).unwrap() {
        LoginOutcome::LoggedIn(new) => new.token.secret.expose_secret().to_string(),
        other => panic!("{name} did not log in: {other:?}"),
    }
}

pub fn disabling_ends_sessions_and_tokens_at_once_and_enabling_gives_none_back(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "amina", Role::Analyst);
    account(store, "moussa", Role::Responder);
    let cookie = session(store, &logins, "amina", PASSWORD, t("08:00"));
    let other = session(store, &logins, "moussa", PASSWORD, t("08:00"));
    let (token, _) = issue_api_token(store, "amina", "Partner NGO", None, t("08:00"), "system:test").unwrap();
    let token = token.secret.expose_secret().to_string();
    assert!(caller_from_session(store, &cookie, &policy(), t("08:01")).unwrap().is_some());
    assert_eq!(caller_from_token(store, &token, t("08:01")).unwrap().unwrap().0.username, "amina");

    let (user, ended) = disable_user(store, "amina", t("08:02"), "system:test").unwrap();
    assert!(!user.active);
    assert_eq!(ended, AccessEnded { sessions_ended: 1, tokens_revoked: 1 });
    assert!(caller_from_session(store, &cookie, &policy(), t("08:03")).unwrap().is_none());
    assert!(caller_from_token(store, &token, t("08:03")).unwrap().is_none());
    assert!(caller_from_session(store, &other, &policy(), t("08:03")).unwrap().is_some(), "others keep theirs");
    // The right password of a disabled account opens nothing; no token is issued for it.
    let refused = login(store, &logins, "amina", PASSWORD, None, &policy(), t("08:04")).unwrap();
    assert!(matches!(refused, LoginOutcome::Disabled), "{refused:?}");
    assert!(matches!(
        issue_api_token(store, "amina", "p", None, t("08:04"), "system:test"),
        Err(AccountError::Disabled(_))
    ));

    enable_user(store, "amina", "system:test").unwrap();
    assert!(caller_from_session(store, &cookie, &policy(), t("08:05")).unwrap().is_none(), "stays ended");
    assert!(caller_from_token(store, &token, t("08:05")).unwrap().is_none(), "stays revoked");
    let fresh = session(store, &logins, "amina", PASSWORD, t("08:06"));
    assert!(caller_from_session(store, &fresh, &policy(), t("08:07")).unwrap().is_some());
    assert!(matches!(disable_user(store, "nobody", t("08:08"), "system:test"), Err(AccountError::NoSuchUser(_))));
}

pub fn a_new_password_ends_sessions_and_tokens_and_only_the_new_password_logs_in(store: &dyn ReportStore) {
    let logins = Logins::default();
    let created = create_user(store, "amina", Role::Admin, None, PASSWORD, "system:test").unwrap();
    assert!(matches!(
        create_user(store, "amina", Role::Admin, None, PASSWORD, "system:test"),
        Err(AccountError::Exists(_))
    ));
    let cookie = session(store, &logins, "amina", PASSWORD, t("08:00"));
    let (token, _) = issue_api_token(store, "amina", "Partner NGO", None, t("08:00"), "system:test").unwrap();
    let token = token.secret.expose_secret().to_string();
    assert!(matches!(
        change_password(store, "amina", "short", t("08:01"), "system:test"),
        Err(AccountError::Password(_))
    ));
    assert!(
        caller_from_session(store, &cookie, &policy(), t("08:01")).unwrap().is_some(),
        "a refused change ends nothing"
    );

    let new = "a new phrase nobody guesses";
    let (user, ended) = change_password(store, "amina", new, t("08:02"), "system:test").unwrap();
    assert_eq!(ended, AccessEnded { sessions_ended: 1, tokens_revoked: 1 });
    assert!(user.active);
    assert_ne!(user.password_hash, created.password_hash);
    assert!(caller_from_session(store, &cookie, &policy(), t("08:03")).unwrap().is_none());
    assert!(caller_from_token(store, &token, t("08:03")).unwrap().is_none());
    let old = login(store, &logins, "amina", PASSWORD, None, &policy(), t("08:04")).unwrap();
    assert!(matches!(old, LoginOutcome::Refused { .. }), "{old:?}");
    session(store, &logins, "amina", new, t("08:05"));
}

pub fn sessions_end_when_idle_or_past_their_end_and_their_use_is_recorded_once_a_minute(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "amina", Role::Analyst);
    let cookie = session(store, &logins, "amina", PASSWORD, t("08:00"));
    let seen = |hm| {
        let (_, s) = caller_from_session(store, &cookie, &policy(), t(hm)).unwrap().expect("a live session");
        (s.last_seen_at, store.session(&s.token_hash).unwrap().unwrap().last_seen_at)
    };
    // Used within the minute: not written again. After a minute: written.
    assert_eq!(seen("08:00"), (t("08:00"), t("08:00")));
    assert_eq!(seen("08:01"), (t("08:01"), t("08:01")));
    // Used every 29 minutes, it lives on.
    for hm in ["08:30", "08:59", "09:28"] {
        assert_eq!(seen(hm).1, t(hm));
    }
    // Left 30 minutes: ended, and deleted.
    assert!(caller_from_session(store, &cookie, &policy(), t("09:58")).unwrap().is_none());
    assert!(sessions_of(store, "amina").unwrap().is_empty());

    // However much it is used, it ends after 12 hours.
    let cookie = session(store, &logins, "amina", PASSWORD, t("10:00"));
    let mut now = t("10:00");
    while now < ts("2024-05-01T21:40:00Z") {
        now += SignedDuration::from_mins(20);
        assert!(caller_from_session(store, &cookie, &policy(), now).unwrap().is_some(), "{now}");
    }
    assert!(caller_from_session(store, &cookie, &policy(), ts("2024-05-01T22:00:00Z")).unwrap().is_none());

    // Ended sessions nobody presents again are swept at the next login.
    let forgotten = session(store, &logins, "amina", PASSWORD, ts("2024-05-02T08:00:00Z"));
    assert_eq!(sessions_of(store, "amina").unwrap().len(), 1);
    session(store, &logins, "amina", PASSWORD, ts("2024-05-02T09:00:00Z"));
    let left = sessions_of(store, "amina").unwrap();
    assert_eq!(left.len(), 1, "the idle one was swept");
    assert!(caller_from_session(store, &forgotten, &policy(), ts("2024-05-02T09:00:00Z")).unwrap().is_none());
}

pub fn api_tokens_expire_and_are_revoked_by_partner_or_by_id(store: &dyn ReportStore) {
    account(store, "amina", Role::Analyst);
    account(store, "moussa", Role::Responder);
    let day = |d: i64| t("08:00") + SignedDuration::from_hours(24 * d);
    let expiring = issue_api_token(
        store,
        "amina",
        "Partner NGO",
        Some(SignedDuration::from_hours(24 * 90)),
        day(0),
        "system:test",
    );
    let (expiring, stored) = expiring.unwrap();
    assert_eq!(stored.expires_at, Some(day(90)));
    let expiring = expiring.secret.expose_secret().to_string();
    assert!(caller_from_token(store, &expiring, day(89)).unwrap().is_some());
    assert!(caller_from_token(store, &expiring, day(90)).unwrap().is_none(), "expired after 90 days");
    assert!(matches!(
        issue_api_token(store, "amina", "p", Some(SignedDuration::from_secs(-1)), day(0), "system:test"),
        Err(AccountError::Invalid(_))
    ));

    let (ngo_moussa, _) = issue_api_token(store, "moussa", "Partner NGO", None, day(1), "system:test").unwrap();
    let (radio, radio_stored) = issue_api_token(store, "amina", "Radio Ndeke", None, day(2), "system:test").unwrap();
    let listed = tokens_of(store, "amina").unwrap();
    assert_eq!(listed.iter().map(|t| t.partner.as_str()).collect::<Vec<_>>(), ["Partner NGO", "Radio Ndeke"]);
    // By partner: both partners' tokens of both accounts.
    let revoked = revoke_tokens(store, &TokenSelector::Partner("Partner NGO".into()), day(3), "system:test").unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(caller_from_token(store, ngo_moussa.secret.expose_secret(), day(3)).unwrap().is_none());
    assert!(caller_from_token(store, radio.secret.expose_secret(), day(3)).unwrap().is_some());
    assert_eq!(
        revoke_tokens(store, &TokenSelector::Partner("Partner NGO".into()), day(4), "system:test").unwrap(),
        vec![]
    );
    assert!(matches!(
        revoke_tokens(store, &TokenSelector::Partner("Nobody".into()), day(4), "system:test"),
        Err(AccountError::NotFound(_))
    ));
    // By id.
    assert!(matches!(
        revoke_tokens(store, &TokenSelector::PublicId("xyz".into()), day(4), "system:test"),
        Err(AccountError::Invalid(_))
    ));
    let by_id =
        revoke_tokens(store, &TokenSelector::PublicId(radio_stored.public_id()), day(4), "system:test").unwrap();
    assert_eq!(by_id.len(), 1);
    assert!(caller_from_token(store, radio.secret.expose_secret(), day(4)).unwrap().is_none());
    assert!(caller_from_token(store, "vca_never_issued", day(4)).unwrap().is_none());
}

pub fn fifty_wrong_passwords_then_the_right_one_is_throttled_not_logged_in(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "amina", Role::Admin);
    let client = Some("192.0.2.7".parse().unwrap());
    let mut refused = 0;
    let mut throttled = 0;
    for i in 0..50 {
        let now = t("08:00") + SignedDuration::from_millis(i * 48); // 50 in 2.4 s
        match login(store, &logins, "amina", "wrong password guess", client, &policy(), now).unwrap() {
            LoginOutcome::Refused { .. } => refused += 1,
            LoginOutcome::Throttled(w) => {
                assert_eq!(w.by, ThrottledBy::Account);
                throttled += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    // Three free tries, then a wait of 1 s lets one more through at 1.1 s; then 2 s.
    assert_eq!((refused, throttled), (4, 46));
    let right = login(store, &logins, "amina", PASSWORD, client, &policy(), ts("2024-05-01T08:00:02.4Z")).unwrap();
    let LoginOutcome::Throttled(wait) = right else { panic!("logged in after 50 wrong passwords: {right:?}") };
    assert!(wait.retry_after_secs() >= 1);
    assert!(sessions_of(store, "amina").unwrap().is_empty());
    // Another account from another address is not held up.
    account(store, "moussa", Role::Analyst);
    session(store, &logins, "moussa", PASSWORD, t("08:00"));
    // After the wait, the right password gets in.
    session(store, &logins, "amina", PASSWORD, t("08:01"));
}

pub fn accounts_are_listed_with_live_sessions_and_tokens_and_sessions_ended_one_by_one(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "zoe", Role::Viewer);
    account(store, "amina", Role::Analyst);
    let first = session(store, &logins, "amina", PASSWORD, t("08:00"));
    let second = session(store, &logins, "amina", PASSWORD, t("08:10"));
    issue_api_token(store, "amina", "Partner NGO", None, t("08:00"), "system:test").unwrap();
    issue_api_token(store, "amina", "Old", Some(SignedDuration::from_mins(5)), t("08:00"), "system:test").unwrap();
    let listed = list_users(store, &policy(), t("08:20")).unwrap();
    assert_eq!(listed.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(), ["amina", "zoe"]);
    let amina = &listed[0];
    assert_eq!((amina.active, amina.sessions, amina.tokens), (true, 2, 1));
    assert_eq!(amina.last_seen_at, Some(t("08:10")));
    assert_eq!((listed[1].sessions, listed[1].tokens, listed[1].last_seen_at), (0, 0, None));

    let sessions = sessions_of(store, "amina").unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(end_sessions(store, "amina", Some(&sessions[0].public_id().to_uppercase())).unwrap(), 1);
    assert!(caller_from_session(store, &first, &policy(), t("08:21")).unwrap().is_none());
    assert!(caller_from_session(store, &second, &policy(), t("08:21")).unwrap().is_some());
    assert!(matches!(end_sessions(store, "amina", Some("0000000000")), Err(AccountError::NotFound(_))));
    assert_eq!(end_sessions(store, "amina", None).unwrap(), 1);
    assert!(caller_from_session(store, &second, &policy(), t("08:22")).unwrap().is_none());
    assert!(matches!(end_sessions(store, "nobody", None), Err(AccountError::NoSuchUser(_))));
}

/// Each login and each refused one (wrong password, unknown name, disabled
/// account) is on the audit chain, with who was named only when an account
/// has that name.
pub fn every_login_and_refused_login_is_on_the_audit_chain(store: &dyn ReportStore) {
    let logins = Logins::default();
    account(store, "amina", Role::Analyst);
    let before = store.audit_head().unwrap().map_or(0, |e| e.seq);
    session(store, &logins, "amina", PASSWORD, t("08:00"));
    let wrong = login(store, &logins, "amina", "not the password", None, &policy(), t("08:01")).unwrap();
    assert!(matches!(wrong, LoginOutcome::Refused { .. }), "{wrong:?}");
    let unknown = login(store, &logins, "mallory +236 70 00 00 00", PASSWORD, None, &policy(), t("08:02")).unwrap();
    assert!(matches!(unknown, LoginOutcome::Refused { .. }), "{unknown:?}");
    disable_user(store, "amina", t("08:03"), "u-admin").unwrap();
    let disabled = login(store, &logins, "amina", PASSWORD, None, &policy(), t("08:04")).unwrap();
    assert!(matches!(disabled, LoginOutcome::Disabled), "{disabled:?}");
    let entries = store.audit_entries(before, 100).unwrap();
    let seen: Vec<(&str, &str, &str)> =
        entries.iter().map(|e| (e.event.action.as_str(), e.event.subject.as_str(), e.event.detail.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("login", "amina", "web session"),
            ("login_failed", "amina", "wrong password"),
            ("login_failed", "", "no such account"),
            ("user_disabled", "amina", ""),
            ("login_failed", "amina", "account disabled"),
        ]
    );
}
