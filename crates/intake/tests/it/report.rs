use crate::{intake, key, ts};
use secrecy::{ExposeSecret, SecretString};
use vitalcore_framework::Tags;
use vitalcore_intake::report::{IntakeRules, Reader};
use vitalcore_intake::{Channel, ReportDraft};

fn draft(text: &str) -> ReportDraft {
    ReportDraft { text: text.into(), ..ReportDraft::default() }
}

#[test]
fn accepted_report_has_category_tags_pseudonym_and_sealed_contact() {
    let mut d = draft("  Armed men burned the market in Bouca  ");
    d.category = Some("Pillage ou extorsion".into()); // French label of looting_extortion
    d.urgency = Some("critique".into());
    d.latitude = Some(6.5);
    d.longitude = Some(18.27);
    d.contact = Some(SecretString::from("+236 70 12 34 56"));
    let now = ts("2024-05-01T12:00:00Z");
    let r = intake().accept(&d, Channel::WebForm, now).unwrap();
    assert_eq!(r.text, "Armed men burned the market in Bouca");
    assert_eq!(r.category.as_deref(), Some("looting_extortion"));
    assert_eq!(r.tags.dimensions, vec!["economic".to_string()]);
    assert_eq!(r.urgency, Some(vitalcore_intake::Urgency::Critical));
    assert_eq!(r.received_at, now);
    assert_eq!(r.reporter_id, Some(key().pseudonym("+23670123456")));
    assert!(r.reference.as_str().starts_with("VC-"));
    let sealed = r.contact.as_ref().unwrap();
    let who =
        vitalcore_security::crypto::Accessor { user_id: "u1".into(), role: vitalcore_security::auth::Role::Admin };
    let opened = key().open(sealed, r.reference.as_str(), &who, "test", now).unwrap();
    assert_eq!(opened.contact.expose_secret(), "+236 70 12 34 56");
}

#[test]
fn contact_never_appears_in_debug_or_serialize() {
    let mut d = draft("Shots heard at night");
    d.contact = Some(SecretString::from("+236 70 12 34 56"));
    let draft_debug = format!("{d:?}");
    assert!(!draft_debug.contains("70 12"), "{draft_debug}");
    let r = intake().accept(&d, Channel::Sms { gateway: "twilio".into() }, ts("2024-05-01T12:00:00Z")).unwrap();
    let debug = format!("{r:?} {r:#?}");
    let json = serde_json::to_string(&r).unwrap();
    for out in [&debug, &json] {
        assert!(!out.contains("70 12 34 56") && !out.contains("70123456"), "{out}");
    }
    assert!(!json.contains("\"contact\""), "the sealed contact is not exported either: {json}");
    assert!(r.contact.is_some());
}

#[test]
fn every_bad_field_is_named() {
    let mut d = draft("   ");
    d.category = Some("weather".into());
    d.urgency = Some("asap".into());
    d.latitude = Some(95.0);
    d.longitude = Some(18.0);
    d.event_time = Some("2024-06-01T00:00:00Z".into());
    d.language = Some("français".into());
    d.reporter_id = Some("Jean Dupont +236".into());
    let err = intake().accept(&d, Channel::Cli, ts("2024-05-01T12:00:00Z")).unwrap_err();
    for field in ["text", "category", "urgency", "latitude", "event_time", "language", "reporter_id"] {
        assert!(err.has(field), "{field} not named in: {err}");
    }
    let msg = err.to_string();
    assert!(msg.contains("weather") && msg.contains("sexual_violence"), "lists the known categories: {msg}");
}

#[test]
fn limits_and_coordinates() {
    let rules = IntakeRules { max_text_chars: 10, ..IntakeRules::default() };
    let i = intake().with_rules(rules);
    let now = ts("2024-05-01T12:00:00Z");
    assert!(i.accept(&draft("0123456789"), Channel::Cli, now).is_ok(), "10 characters is the limit");
    let err = i.accept(&draft("éééééééééé!"), Channel::Cli, now).unwrap_err();
    assert!(err.has("text") && err.to_string().contains("11 characters"), "{err}");

    let mut only_lat = draft("x");
    only_lat.latitude = Some(4.0);
    assert!(intake().accept(&only_lat, Channel::Cli, now).unwrap_err().has("longitude"));
    let mut null_island = draft("x");
    null_island.latitude = Some(0.0);
    null_island.longitude = Some(0.0);
    assert!(intake().accept(&null_island, Channel::Cli, now).unwrap_err().has("latitude"));
}

#[test]
fn future_event_time_within_tolerance_is_accepted() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut soon = draft("x");
    soon.event_time = Some("2024-05-01T13:30:00Z".into()); // 1h30 ahead, tolerance 2h
    assert!(intake().accept(&soon, Channel::Cli, now).is_ok());
    let mut later = draft("x");
    later.event_time = Some("2024-05-01T14:30:00Z".into()); // 2h30 ahead
    assert!(intake().accept(&later, Channel::Cli, now).unwrap_err().has("event_time"));
}

struct HealthReader;
impl Reader for HealthReader {
    fn read(&self, text: &str, _language: Option<&str>) -> Tags {
        if text.to_lowercase().contains("cholera") {
            Tags { dimensions: vec!["health".into()], themes: vec![], severity: 2, rule: "reader: cholera".into() }
        } else {
            Tags::default()
        }
    }
}

#[test]
fn reader_hook_adds_dimensions_to_the_category() {
    let i = intake().with_reader(Box::new(HealthReader));
    let mut d = draft("Cholera in the displacement camp");
    d.category = Some("displacement".into());
    let r = i.accept(&d, Channel::Cli, ts("2024-05-01T12:00:00Z")).unwrap();
    assert_eq!(r.tags.dimensions, vec!["community".to_string(), "health".to_string()]);
    assert!(r.tags.rule.contains("displacement") && r.tags.rule.contains("cholera"), "{}", r.tags.rule);
}

#[test]
fn api_json_body_deserialises_into_a_draft() {
    let body = r#"{"text":"Roadblock","category":"looting_extortion","urgency":"high","latitude":4.3,"longitude":18.5,"contact":"+23675000000"}"#;
    let d: ReportDraft = serde_json::from_str(body).unwrap();
    assert_eq!(d.contact.as_ref().unwrap().expose_secret(), "+23675000000");
    let r = intake().accept(&d, Channel::Api { partner: "ngo-a".into() }, ts("2024-05-01T12:00:00Z")).unwrap();
    assert_eq!(r.channel.kind(), "api");
}

/// Every validation message is in the message table, in English (the API's
/// text) and in French, with its values filled and the field named.
#[test]
fn every_validation_message_reads_in_english_and_french_and_names_its_field() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut drafts = Vec::new();
    let mut a = draft("  ");
    a.language = Some("english!".into());
    a.category = Some("weather".into());
    a.urgency = Some("soon".into());
    a.latitude = Some(95.0);
    a.longitude = Some(200.0);
    a.event_time = Some("yesterday".into());
    a.reporter_id = Some("Jean Dupont +236".into());
    a.place_name = Some("x".repeat(300));
    a.contact = Some(SecretString::from("y".repeat(201)));
    drafts.push(a);
    let mut b = draft(&"z".repeat(6000));
    b.latitude = Some(0.0);
    b.longitude = Some(0.0);
    b.event_time = Some("2030-01-01".into());
    drafts.push(b);
    let mut c = draft("ok");
    c.latitude = Some(4.0);
    drafts.push(c);
    let mut d = draft("ok");
    d.longitude = Some(18.0);
    drafts.push(d);
    let mut codes = std::collections::BTreeSet::new();
    for d in &drafts {
        for e in intake().accept(d, Channel::WebForm, now).unwrap_err().errors {
            let (en, fr) = (e.message_in("en"), e.message_in("fr"));
            assert_eq!(e.message, en, "the API's message is the English one");
            assert_ne!(en, fr, "{}: no French text", e.code);
            for text in [&en, &fr] {
                assert!(!text.contains('{') && !text.starts_with("invalid."), "{}: {text}", e.code);
            }
            assert!(e.describe_in("fr").starts_with(&format!("{} : ", e.field_in("fr"))), "{}", e.describe_in("fr"));
            codes.insert(e.code);
        }
    }
    assert_eq!(codes.len(), 14, "{codes:?}");
    let e = intake().accept(&drafts[0], Channel::WebForm, now).unwrap_err();
    let urgency = e.errors.iter().find(|e| e.field == "urgency").unwrap();
    assert_eq!(
        urgency.describe_in("fr"),
        "Urgence : « soon » n'est pas une urgence : choisissez faible, moyenne, haute ou critique"
    );
    assert_eq!(urgency.describe_in("en"), "Urgency: `soon` is not an urgency: use low, medium, high or critical");
}
