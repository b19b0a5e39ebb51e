//! Input that cannot attack the operator: control characters and bidi
//! overrides are stripped from free text at intake, through every channel's
//! entry point (a draft as the API, the web form and the CLI build it, an
//! SMS webhook body, a KoBo export row, a workflow step); P-codes are
//! checked against the loaded areas, or their shape when none are loaded.

use crate::{intake, ts};
use std::collections::HashSet;
use vitalcore_intake::kobo::{KoboMapping, import_csv};
use vitalcore_intake::report::{AreaCheck, AreaResolver, FieldError, Reference};
use vitalcore_intake::sms::{parse_rapidpro, parse_twilio};
use vitalcore_intake::workflow::{Alert, Feedback, Step};
use vitalcore_intake::{CategoryMap, Channel, Intake, ReportDraft, Urgency};

/// One of each class: NUL, BEL, ESC (with a colour sequence), DEL, a C1 CSI,
/// a right-to-left override and its pop, a left-to-right isolate, CR LF.
const NASTY: &str = "Armed\u{0} men\u{7} \u{1b}[31mburned\u{7f} \u{9b}houses\u{202e}kcab\u{202c} \u{2066}in\u{2069} Bouca\r\nlast night\tat ten\rand left";
const CLEAN: &str = "Armed men [31mburned houseskcab in Bouca\nlast night\tat ten\nand left";

fn has_controls(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

fn now() -> jiff::Timestamp {
    ts("2024-05-01T12:00:00Z")
}

#[test]
fn a_draft_from_the_api_the_form_or_the_cli_is_stored_without_control_characters() {
    for channel in [Channel::Api { partner: "p".into() }, Channel::WebForm, Channel::Cli] {
        let d = ReportDraft {
            text: NASTY.into(),
            place_name: Some("Bou\u{1b}]0;pwned\u{7}ca\u{202e}\nvillage".into()),
            source_id: Some("id-\u{1b}[2J42".into()),
            ..ReportDraft::default()
        };
        let r = intake().accept(&d, channel, now()).unwrap();
        assert_eq!(r.text, CLEAN, "stripped, newlines and tabs kept, CR LF and lone CR as LF");
        assert_eq!(r.place.name.as_deref(), Some("Bou]0;pwnedca village"), "a place name is one line");
        assert_eq!(r.source_id.as_deref(), Some("id-[2J42"));
    }
}

#[test]
fn a_text_of_nothing_but_control_characters_is_empty() {
    let d = ReportDraft { text: "\u{1b}\u{7}\u{0}\u{202e}".into(), ..ReportDraft::default() };
    let err = intake().accept(&d, Channel::WebForm, now()).unwrap_err();
    assert!(err.has("text"), "{err}");
}

#[test]
fn an_error_message_quotes_a_value_without_its_control_characters() {
    let d = ReportDraft { text: "x".into(), urgency: Some("soon\u{1b}[31m\u{202e}".into()), ..ReportDraft::default() };
    let err = intake().accept(&d, Channel::Api { partner: "p".into() }, now()).unwrap_err();
    assert!(!has_controls(&err.to_string()), "{err:?}");
    assert!(err.to_string().contains("soon[31m"), "{err}");
}

#[test]
fn twilio_and_rapidpro_bodies_are_stored_without_control_characters() {
    // %1B = ESC, %07 = BEL, %00 = NUL, %E2%80%AE = U+202E, %0D%0A = CR LF.
    let twilio = "From=%2B23672000001&MessageSid=SM1&Body=Armed%00+men%07+%1B%5B31mburned+houses%E2%80%AE+in+Bouca%0D%0Alast+night";
    let sms = parse_twilio(twilio.as_bytes()).unwrap();
    let r = intake().accept(&sms.to_draft("en"), Channel::Sms { gateway: "twilio".into() }, now()).unwrap();
    assert_eq!(r.text, "Armed men [31mburned houses in Bouca\nlast night");
    let rapid = r#"{"contact":{"urn":"tel:+23672000003"},"input":{"text":"Cholera\u001b[2J at the\u202e health post\u0007","uuid":"u-\u001b1"}}"#;
    let sms = parse_rapidpro(rapid.as_bytes()).unwrap();
    let r = intake().accept(&sms.to_draft("en"), Channel::Sms { gateway: "rapidpro".into() }, now()).unwrap();
    assert_eq!(r.text, "Cholera[2J at the health post");
    assert!(!has_controls(r.source_id.as_deref().unwrap_or("")));
}

#[test]
fn kobo_answers_are_stored_without_control_characters() {
    let m = KoboMapping::from_toml(
        "form = \"f\"\n[questions]\ntext = \"description\"\nplace = \"village\"\n",
        &CategoryMap::built_in(),
    )
    .unwrap();
    let csv =
        format!("description,village,_uuid\n\"{}\",\"Bou\u{1b}[1mca\u{202e}\",uuid-1\n", NASTY.replace('"', "\"\""));
    let out = import_csv(csv.as_bytes(), "k.csv", &m, &intake(), &HashSet::new(), now()).unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.reports[0].text, CLEAN);
    assert_eq!(out.reports[0].place.name.as_deref(), Some("Bou[1mca"));
}

#[test]
fn workflow_notes_and_feedback_are_stored_without_control_characters() {
    let mut a = Alert::new(Reference::from_number(1), Some("CF32".into()), Urgency::High, now());
    let at = ts("2024-05-01T13:00:00Z");
    a.apply(Step::Acknowledge, "u", at).unwrap();
    let rec = a.apply(Step::Verify { note: "seen\u{1b}[31m by\u{202e} phone\r\nok".into() }, "u", at).unwrap();
    assert_eq!(rec.step, Step::Verify { note: "seen[31m by phone\nok".into() });
    a.apply(Step::Assign { owner: "Lt.\u{7} X".into(), unit: "BAN\u{0}BAT".into() }, "u", at).unwrap();
    let rec = a
        .apply(
            Step::Respond {
                action: "patrol\u{9b}".into(),
                feedback: Some(Feedback {
                    message: "A patrol\u{1b}[8m went".into(),
                    channel: "sms\u{7}".into(),
                    sent_at: at,
                }),
            },
            "u",
            at,
        )
        .unwrap();
    let json = serde_json::to_string(&rec.step).unwrap();
    assert!(!json.contains("\\u001b") && !json.contains("\\u0007") && !json.contains('\u{9b}'), "{json}");
    let Step::Respond { feedback: Some(f), .. } = &rec.step else { panic!() };
    assert_eq!((f.message.as_str(), f.channel.as_str()), ("A patrol[8m went", "sms"));
}

/// Areas CF32 and CF71 are loaded.
struct TwoAreas;

impl AreaResolver for TwoAreas {
    fn resolve(&self, _: Option<(f64, f64)>, _: Option<&str>) -> Option<String> {
        None
    }
    fn check(&self, pcode: &str) -> AreaCheck {
        match pcode.to_ascii_uppercase().as_str() {
            p @ ("CF32" | "CF71") => AreaCheck::Known(p.to_string()),
            _ => AreaCheck::Unknown,
        }
    }
}

fn with_areas() -> Intake {
    intake().with_resolver(Box::new(TwoAreas))
}

fn area_error(intake: &Intake, pcode: &str) -> Option<FieldError> {
    let d = ReportDraft { text: "Shots at night".into(), area_pcode: Some(pcode.into()), ..ReportDraft::default() };
    match intake.accept(&d, Channel::Api { partner: "p".into() }, now()) {
        Ok(_) => None,
        Err(e) => {
            assert_eq!(e.errors.len(), 1, "{e}");
            Some(e.errors[0].clone())
        }
    }
}

#[test]
fn with_areas_loaded_an_unknown_pcode_is_refused_naming_the_field() {
    let d = ReportDraft { text: "x".into(), area_pcode: Some("cf32".into()), ..ReportDraft::default() };
    let r = with_areas().accept(&d, Channel::Cli, now()).unwrap();
    assert_eq!(r.place.area_pcode.as_deref(), Some("CF32"), "stored as the area spells it");
    for bad in ["CF99", "=HYPERLINK(\"http://x.example\",\"click\")", "../../etc/passwd<script>"] {
        let e = area_error(&with_areas(), bad).unwrap_or_else(|| panic!("{bad} accepted"));
        assert_eq!((e.field, e.code), ("area_pcode", "invalid.area_unknown"), "{bad}");
        assert_eq!(
            e.describe_in("en"),
            format!(
                "Area (P-code): `{bad}` is not the P-code of a known area; leave it empty to place the report by its point or place name"
            )
        );
        assert!(
            e.describe_in("fr").starts_with(&format!("Zone (P-code) : « {bad} » n'est le P-code d'aucune zone connue")),
            "{}",
            e.describe_in("fr")
        );
    }
}

#[test]
fn with_no_areas_loaded_only_pcode_shapes_are_accepted() {
    assert!(area_error(&intake(), "CF32").is_none());
    assert!(area_error(&intake(), "SS-0101").is_none());
    for bad in [
        "../../etc/passwd<script>",
        "=HYPERLINK(\"http://x.example\")",
        "@SUM(1)",
        "-2+3",
        "CF 32",
        "A123456789012345678901",
    ] {
        let e = area_error(&intake(), bad).unwrap_or_else(|| panic!("{bad} accepted"));
        assert_eq!((e.field, e.code), ("area_pcode", "invalid.area_pcode"), "{bad}");
        assert!(e.describe_in("fr").contains("n'est pas un P-code"), "{}", e.describe_in("fr"));
    }
}

#[test]
fn a_kobo_row_with_an_unknown_pcode_is_rejected_naming_its_column() {
    let m = KoboMapping::from_toml(
        "form = \"f\"\n[questions]\ntext = \"description\"\narea = \"where/pcode\"\n",
        &CategoryMap::built_in(),
    )
    .unwrap();
    let csv = "description,where/pcode,_uuid\nShots,CF32,u1\nShots,../../etc/passwd<script>,u2\nShots,CF99,u3\n";
    let out = import_csv(csv.as_bytes(), "k.csv", &m, &with_areas(), &HashSet::new(), now()).unwrap();
    assert_eq!(out.reports.len(), 1);
    assert_eq!(out.rejected.len(), 2);
    assert!(out.rejected.iter().all(|e| e.field == "where/pcode"), "{:?}", out.rejected);
}
