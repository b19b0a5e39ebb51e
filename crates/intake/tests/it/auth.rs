use crate::ts;
use vitalcore_security::auth::csrf::CsrfError;
use vitalcore_security::auth::{
    Action, AlertAction, CsrfKey, Resource, Role, Token, TokenHash, TokenKind, User, UserError, authorize,
};

fn user(role: Role, community: Option<&str>) -> User {
    User::new("u1", "someone", role, community, String::new()).unwrap()
}

#[test]
fn focal_point_needs_a_community_and_others_have_none() {
    assert_eq!(
        User::new("1", "fp1", Role::FocalPoint, None, String::new()),
        Err(UserError::FocalPointWithoutCommunity)
    );
    assert!(matches!(
        User::new("1", "an1", Role::Analyst, Some("CF11"), String::new()),
        Err(UserError::CommunityForOtherRole(Role::Analyst))
    ));
}

#[test]
fn policy_matrix() {
    let here = Resource::Area(Some("CF11"));
    let admin = user(Role::Admin, None);
    let analyst = user(Role::Analyst, None);
    let responder = user(Role::Responder, None);
    let viewer = user(Role::Viewer, None);
    assert!(authorize(&admin, Action::ManageUsers, Resource::Global).is_ok());
    assert!(authorize(&responder, Action::ManageUsers, Resource::Global).is_err());
    assert!(authorize(&analyst, Action::ReadContact, here).is_err());
    assert!(authorize(&analyst, Action::Alert(AlertAction::Verify), here).is_ok());
    assert!(authorize(&analyst, Action::Alert(AlertAction::Assign), here).is_err());
    assert!(authorize(&responder, Action::ReadContact, here).is_ok());
    assert!(authorize(&responder, Action::Alert(AlertAction::Close), here).is_ok());
    assert!(authorize(&viewer, Action::ReadAggregates, Resource::Global).is_ok());
    assert!(authorize(&viewer, Action::ReadReport, here).is_err());
    assert!(authorize(&viewer, Action::SubmitReport, here).is_err());
    let mut gone = responder.clone();
    gone.active = false;
    assert!(authorize(&gone, Action::ReadAggregates, Resource::Global).is_err());
}

#[test]
fn focal_point_only_in_own_community() {
    let fp = user(Role::FocalPoint, Some("CF11"));
    assert!(authorize(&fp, Action::ReadReport, Resource::Area(Some("CF11"))).is_ok());
    assert!(authorize(&fp, Action::ReadContact, Resource::Area(Some("CF11"))).is_ok());
    let denied = authorize(&fp, Action::ReadReport, Resource::Area(Some("CF42"))).unwrap_err();
    assert!(denied.message.contains("another community"), "{denied}");
    assert!(authorize(&fp, Action::ReadContact, Resource::Area(Some("CF42"))).is_err());
    assert!(authorize(&fp, Action::ReadReport, Resource::Area(None)).is_err(), "unresolved area is not theirs");
    assert!(authorize(&fp, Action::SubmitReport, Resource::Area(None)).is_ok());
    assert!(authorize(&fp, Action::SubmitReport, Resource::Area(Some("CF42"))).is_err());
    assert!(authorize(&fp, Action::Alert(AlertAction::Acknowledge), Resource::Area(Some("CF11"))).is_err());
    assert!(authorize(&fp, Action::Alert(AlertAction::GiveFeedback), Resource::Area(Some("CF11"))).is_ok());
}

#[test]
fn passwords_hash_and_verify() {
    let h = vitalcore_security::auth::hash_password("une phrase assez longue").unwrap();
    assert!(vitalcore_security::auth::verify_password("une phrase assez longue", &h).unwrap());
    assert!(!vitalcore_security::auth::verify_password("une phrase assez longuE", &h).unwrap());
}

#[test]
fn tokens_store_only_hashes() {
    use secrecy::ExposeSecret;
    let t = Token::generate(TokenKind::Session).unwrap();
    let stored: TokenHash = t.hash();
    assert!(stored.matches(t.secret.expose_secret()));
    assert!(!stored.matches("vcs_guess"));
    assert!(!stored.to_hex().contains(&t.secret.expose_secret()[4..12]));
}

#[test]
fn csrf_tokens_bind_to_session_and_expire() {
    let key = CsrfKey::new([42; 32]);
    let session = TokenHash::of("vcs_session_a");
    let other = TokenHash::of("vcs_session_b");
    let now = ts("2024-05-01T12:00:00Z");
    let token = key.issue(&session, now);
    assert_eq!(key.verify(&session, Some(&token), ts("2024-05-01T13:00:00Z")), Ok(()));
    assert_eq!(key.verify(&other, Some(&token), now), Err(CsrfError::Invalid));
    assert_eq!(key.verify(&session, None, now), Err(CsrfError::Missing));
    assert_eq!(key.verify(&session, Some(""), now), Err(CsrfError::Missing));
    // Moving the issue time forward (to dodge expiry) breaks the MAC.
    let (issued, mac) = token.split_once('.').unwrap();
    let forged = format!("{}.{mac}", issued.parse::<i64>().unwrap() + 3600);
    assert_eq!(key.verify(&session, Some(&forged), now), Err(CsrfError::Invalid));
    assert_eq!(key.verify(&session, Some(&token), ts("2024-05-01T20:00:01Z")), Err(CsrfError::Expired));
    let other_key = CsrfKey::new([43; 32]);
    assert_eq!(other_key.verify(&session, Some(&token), now), Err(CsrfError::Invalid));
}
