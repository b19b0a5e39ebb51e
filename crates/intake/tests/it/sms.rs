use crate::{intake, ts};
use secrecy::ExposeSecret;
use vitalcore_intake::Channel;
use vitalcore_intake::report::Reference;
use vitalcore_intake::sms::{Gateway, MAX_BODY_BYTES, SmsError, parse_rapidpro, parse_twilio, receipt_text, twiml};

/// An inbound-message webhook body in the format Twilio documents
/// (parameters as sent, form-encoded, `+` for spaces, `%2B` for the plus).
const TWILIO_BODY: &str = "ToCountry=US&ToState=CA&SmsMessageSid=SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d&NumMedia=0\
&ToCity=&FromZip=&SmsSid=SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d&FromState=&SmsStatus=received&FromCity=\
&Body=Des+hommes+arm%C3%A9s+sont+entr%C3%A9s+dans+le+village+de+Bouca+%C3%A0+l%27aube\
&FromCountry=CF&To=%2B15005550006&MessagingServiceSid=&ToZip=&NumSegments=1&ReferralNumMedia=0\
&MessageSid=SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d&AccountSid=AC00000000000000000000000000000000\
&From=%2B23672000001&ApiVersion=2010-04-01";

#[test]
fn twilio_body_becomes_a_report_with_a_french_receipt() {
    let sms = parse_twilio(TWILIO_BODY.as_bytes()).unwrap();
    assert_eq!(sms.gateway, Gateway::Twilio);
    assert_eq!(sms.from.expose_secret(), "+23672000001");
    assert_eq!(sms.to.as_deref(), Some("+15005550006"));
    assert_eq!(sms.body, "Des hommes armés sont entrés dans le village de Bouca à l'aube");
    assert_eq!(sms.message_id.as_deref(), Some("SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"));
    assert_eq!(sms.from_country.as_deref(), Some("CF"));
    assert!(!format!("{sms:?}").contains("72000001"), "the number is redacted in Debug");

    let draft = sms.to_draft("en");
    assert_eq!(draft.language.as_deref(), Some("fr"));
    let report =
        intake().accept(&draft, Channel::Sms { gateway: "twilio".into() }, ts("2024-05-01T06:00:00Z")).unwrap();
    assert_eq!(report.source_id.as_deref(), Some("SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"));
    assert!(report.contact.is_some() && report.reporter_id.is_some());

    let reply = twiml(&receipt_text("fr", &report.reference));
    assert!(reply.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Merci"), "{reply}");
    assert!(reply.contains(report.reference.as_str()) && reply.ends_with("</Message></Response>"));
}

#[test]
fn english_receipt_and_xml_escaping() {
    let r = Reference::from_number(77);
    let text = receipt_text("en", &r);
    assert!(text.starts_with("Thank you") && text.contains(r.as_str()));
    assert!(twiml("a < b & \"c\"").contains("a &lt; b &amp; &quot;c&quot;"));
    assert!(receipt_text("sw", &r).starts_with("Thank you"), "languages without a text fall back to English");
}

#[test]
fn urgent_keyword_raises_urgency() {
    let sms = parse_twilio(b"From=%2B1&Body=URGENT+attack+now+at+the+school&MessageSid=SM1").unwrap();
    assert_eq!(sms.to_draft("en").urgency.as_deref(), Some("high"));
    assert_eq!(sms.reply_language("fr"), "en");
}

#[test]
fn malformed_and_oversize_bodies_are_typed_4xx() {
    let missing_from = parse_twilio(b"Body=hello&MessageSid=SM1").unwrap_err();
    assert_eq!((missing_from.clone(), missing_from.http_status()), (SmsError::MissingField("From"), 422));
    let bad_escape = parse_twilio(b"From=%2B1&Body=%ZZ&MessageSid=SM1").unwrap_err();
    assert!(matches!(bad_escape, SmsError::Malformed(_)) && bad_escape.http_status() == 400, "{bad_escape}");
    let not_utf8 = parse_twilio(b"From=%2B1&Body=%FF%FE&MessageSid=SM1").unwrap_err();
    assert!(matches!(not_utf8, SmsError::Malformed(_)));
    let huge = format!("From=%2B1&MessageSid=SM1&Body={}", "a".repeat(MAX_BODY_BYTES));
    let too_large = parse_twilio(huge.as_bytes()).unwrap_err();
    assert_eq!(too_large.http_status(), 413);
    let long_text = format!("From=%2B1&MessageSid=SM1&Body={}", "a".repeat(1601));
    assert!(matches!(parse_twilio(long_text.as_bytes()), Err(SmsError::TextTooLong { chars: 1601, .. })));
    assert!(matches!(parse_twilio(b""), Err(SmsError::Malformed(_))));
}

#[test]
fn rapidpro_flow_webhook_json_and_external_channel_form() {
    // The shape of a RapidPro/TextIt flow webhook (contact, flow, input, channel).
    let json = r#"{
      "contact": {"uuid": "a7c6d6f0-0000-4000-8000-000000000001", "name": "", "urn": "tel:+23675000002"},
      "flow": {"uuid": "f0000000-0000-4000-8000-000000000000", "name": "Alerte"},
      "path": [], "results": {},
      "input": {"uuid": "9a2e0000-0000-4000-8000-000000000003", "type": "msg", "text": "Bétail volé près de Kabo", "attachments": []},
      "channel": {"uuid": "c0000000-0000-4000-8000-000000000000", "name": "Orange", "address": "1234"}
    }"#;
    let sms = parse_rapidpro(json.as_bytes()).unwrap();
    assert_eq!(sms.from.expose_secret(), "+23675000002");
    assert_eq!(sms.body, "Bétail volé près de Kabo");
    assert_eq!(sms.message_id.as_deref(), Some("9a2e0000-0000-4000-8000-000000000003"));
    let form = parse_rapidpro(b"from=%2B23675000003&text=Water+point+destroyed&date=2024-05-01T10%3A00%3A00Z").unwrap();
    assert_eq!((form.from.expose_secret(), form.body.as_str()), ("+23675000003", "Water point destroyed"));
    assert!(matches!(parse_rapidpro(b"{\"contact\": {}}"), Err(SmsError::MissingField("contact.urn"))));
    assert!(matches!(parse_rapidpro(b"{not json"), Err(SmsError::BadJson(_))));
}

#[test]
fn twilio_signature_is_checked() {
    use vitalcore_intake::sms::verify_twilio_signature;
    let body = b"From=%2B23672000001&Body=Hello+there&MessageSid=SM123&To=%2B15005550006";
    let url = "https://vitalcore.example.org/sms/twilio";
    // Computed independently with Python's hmac/hashlib over url + sorted name+value pairs.
    let good = "BBYknnPxMd+SaZENty4bUUwn/+8=";
    assert!(verify_twilio_signature("secret-auth-token", url, body, good));
    assert!(!verify_twilio_signature("another-token", url, body, good));
    assert!(!verify_twilio_signature("secret-auth-token", "https://evil.example/sms/twilio", body, good));
    let tampered = b"From=%2B23672000001&Body=Hello+there!&MessageSid=SM123&To=%2B15005550006";
    assert!(!verify_twilio_signature("secret-auth-token", url, tampered, good));
    assert!(!verify_twilio_signature("secret-auth-token", url, body, "not base64"));
}
