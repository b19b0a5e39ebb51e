//! Community intake over the routes: the report form (CSRF), the partner
//! API (tokens, roles), the SMS webhooks, the alert workflow through the API
//! and the alert page, contact reveal and its audit log. Bad input gets a
//! 4xx with its reason and stores nothing. (Moved from the CLI's tests,
//! which now run a few of these end to end over the binary.)

use super::{PASSWORD, Site, form_encode, hidden_csrf};
use axum::http::Method;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_intake::Reference;
use vitalcore_store::reports::ReportStore;

#[tokio::test]
async fn partner_api_accepts_tagged_placed_reports_and_refuses_bad_bodies_without_storing() {
    let site = Site::new();
    let (admin, analyst, viewer) = (site.token("admin1"), site.token("analyst1"), site.token("viewer1"));

    let body = r#"{"text":"Armed men attacked the market and killed two traders","latitude":6.49,"longitude":17.45,"category":"attack","urgency":"critical","source_id":"partner-42"}"#;
    let r = site.post_json("/api/v1/reports", &analyst, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let reference = created["reference"].as_str().unwrap().to_string();
    // 6.49 N, 17.45 E is Bossangoa, in Ouham (CF32).
    assert_eq!(created["area_pcode"], "CF32");
    assert!(created["tags"]["dimensions"].as_array().unwrap().iter().any(|d| d == "personal"), "{created}");
    let shown = site.get_auth(&format!("/api/v1/reports/{reference}"), &admin).await.json();
    assert_eq!(shown["channel"]["kind"], "api");
    assert_eq!(shown["channel"]["partner"], "partner-of-analyst1");
    assert_eq!(shown["alert"]["state"], "new");

    let before = site.stored_count(&admin).await;
    let malformed = site.post_json("/api/v1/reports", &analyst, r#"{"text": "unterminated"#).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert!(malformed.json()["error"].as_str().unwrap().contains("not a report in JSON"));
    let oversize = format!(r#"{{"text":"{}"}}"#, "a".repeat(70 * 1024));
    let big = site.post_json("/api/v1/reports", &analyst, &oversize).await;
    assert_eq!(big.status, 413, "{}", big.body);
    let invalid = site
        .post_json("/api/v1/reports", &analyst, r#"{"text":"  ","latitude":95,"longitude":10,"urgency":"soon"}"#)
        .await;
    assert_eq!(invalid.status, 422);
    let fields: Vec<String> =
        invalid.json()["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect();
    for f in ["text", "latitude", "urgency"] {
        assert!(fields.contains(&f.to_string()), "{f} missing from {fields:?}");
    }
    let anonymous =
        site.request(Method::POST, "/api/v1/reports", &[("Content-Type", "application/json")], body.as_bytes()).await;
    assert_eq!(anonymous.status, 401);
    let wrong_token = site.post_json("/api/v1/reports", "vca_not-a-token", body).await;
    assert_eq!(wrong_token.status, 401);
    let by_viewer = site.post_json("/api/v1/reports", &viewer, body).await;
    assert_eq!(by_viewer.status, 403, "a viewer may not submit");
    assert_eq!(site.stored_count(&admin).await, before, "nothing partial was stored");
    let listed = site.get_auth("/api/v1/reports", &viewer).await;
    assert_eq!(listed.status, 403, "a viewer reads aggregates only");
}

#[tokio::test]
async fn a_focal_point_sees_only_their_community_and_contacts_are_revealed_only_with_an_audit_record() {
    let site = Site::new();
    let (admin, responder, analyst, focal) =
        (site.token("admin1"), site.token("responder1"), site.token("analyst1"), site.token("focal32"));
    let submit = async |area: &str, contact: &str| {
        let body = format!(
            r#"{{"text":"Cattle stolen near the river in {area}","area_pcode":"{area}","category":"cattle_crop_theft","contact":"{contact}"}}"#
        );
        let r = site.post_json("/api/v1/reports", &responder, &body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["reference"].as_str().unwrap().to_string()
    };
    let ours = submit("CF32", "+236 70 11 22 33").await;
    let theirs = submit("CF71", "+236 75 99 88 77").await;

    // The focal point of CF32 reads their community's report, not the other one, even by its reference.
    assert_eq!(site.get_auth(&format!("/api/v1/reports/{ours}"), &focal).await.status, 200);
    let guessed = site.get_auth(&format!("/api/v1/reports/{theirs}"), &focal).await;
    assert_eq!(guessed.status, 404, "{}", guessed.body);
    assert!(!guessed.body.contains("Cattle"), "no data leaks: {}", guessed.body);
    assert_eq!(site.get_auth(&format!("/api/v1/reports/{theirs}/contact?purpose=x"), &focal).await.status, 404);
    let list = site.get_auth("/api/v1/reports?area=CF71", &focal).await.json();
    let refs: Vec<&str> =
        list["reports"].as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
    assert_eq!(refs, vec![ours.as_str()], "a focal point's list is forced to their community");
    // A step the focal point's role does not allow is 403.
    let step = site.post_json(&format!("/api/v1/alerts/{ours}/steps"), &focal, r#"{"step":"acknowledge"}"#).await;
    assert_eq!(step.status, 403, "{}", step.body);

    // Contacts never appear in lists or single reports (the CLI's listings are checked in its tests).
    let all = site.get_auth("/api/v1/reports", &admin).await;
    assert!(!all.body.contains("70 11") && !all.body.contains("+236"), "{}", all.body);
    assert!(!site.get_auth(&format!("/api/v1/reports/{ours}"), &admin).await.body.contains("+236"));

    // Reveal: an analyst may not; a responder must give a purpose; each read is logged first.
    assert_eq!(site.get_auth(&format!("/api/v1/reports/{ours}/contact?purpose=call"), &analyst).await.status, 403);
    assert_eq!(site.get_auth(&format!("/api/v1/reports/{ours}/contact"), &responder).await.status, 422);
    for purpose in ["call+back+about+the+theft", "confirm+location"] {
        let r = site.get_auth(&format!("/api/v1/reports/{ours}/contact?purpose={purpose}"), &responder).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["contact"], "+236 70 11 22 33");
        assert!(r.header("cache-control").unwrap().contains("no-store"));
    }
    let reads = site.store.contact_reads(&ours.parse::<Reference>().unwrap()).unwrap();
    assert_eq!(reads.len(), 2, "two reveals, two audit records: {reads:?}");
    assert!(reads.iter().all(|r| r.user_id == "u-responder1"));
    assert_eq!(reads[0].purpose, "call back about the theft");
    assert_eq!(
        site.store.contact_reads(&theirs.parse::<Reference>().unwrap()).unwrap().len(),
        0,
        "refused reads reveal nothing and log nothing"
    );
}

#[tokio::test]
async fn the_report_form_works_without_javascript_in_english_and_french_with_csrf() {
    let site = Site::new();
    let admin = site.token("admin1");

    let page = site.get("/report", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.len() < 15 * 1024, "the form page is {} bytes", page.body.len());
    assert!(!page.body.contains("<script") && !page.body.contains("http://") && !page.body.contains("https://"));
    assert!(page.body.contains("What happened?") && page.body.contains("value=\"sexual_violence\""));
    let cookie = page.cookie("vc_form").expect("a form cookie");
    let set = page.header("set-cookie").unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let csrf = hidden_csrf(&page.body);
    let fr = site.get("/report?lang=fr", &[]).await;
    assert!(fr.body.contains("Signaler un incident") && fr.body.contains("Violence sexuelle"));
    let fr_header = site.get("/report", &[("Accept-Language", "fr-CF,fr;q=0.9,en;q=0.5")]).await;
    assert!(fr_header.body.contains("Que s'est-il passé"));

    let form = async |pairs: &[(&str, &str)], cookie: Option<&str>| {
        let body = form_encode(pairs);
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some(c) = cookie {
            headers.push(("Cookie", c));
        }
        site.request(Method::POST, "/report", &headers, body.as_bytes()).await
    };
    let before = site.stored_count(&admin).await;
    let text = "Des hommes armés ont brûlé des maisons à Bouca";
    // No token, a forged token, or a token without its cookie: refused, nothing stored.
    assert_eq!(form(&[("text", text)], Some(&cookie)).await.status, 403);
    assert_eq!(form(&[("text", text), ("csrf", "1700000000.AAAA")], Some(&cookie)).await.status, 403);
    assert_eq!(form(&[("text", text), ("csrf", &csrf)], None).await.status, 403);
    assert_eq!(form(&[("text", text), ("csrf", &csrf)], Some("vc_form=another-browser")).await.status, 403);
    // Validation errors come back next to the fields, in the form's language
    // and naming the field, with what was typed kept.
    let bad = form(
        &[("csrf", &csrf), ("lang", "fr"), ("text", text), ("latitude", "north"), ("longitude", "18.2")],
        Some(&cookie),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Corrigez") && bad.body.contains("brûlé"), "{}", bad.body);
    assert!(
        bad.body.contains(
            "<div class=\"err\">Latitude : « north » n&#39;est pas un nombre (écrivez par exemple 4,3612)</div>"
        ),
        "{}",
        bad.body
    );
    assert!(!bad.body.contains("is not a number"), "no English on the French form: {}", bad.body);
    let empty = form(
        &[
            ("csrf", &csrf),
            ("lang", "fr"),
            ("text", " "),
            ("latitude", "95"),
            ("longitude", "18.2"),
            ("urgency", "soon"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(empty.status, 422);
    for expected in
        ["Description : est vide", "Latitude : 95 est hors de -90..90", "Urgence : « soon » n&#39;est pas une urgence"]
    {
        assert!(empty.body.contains(expected), "{expected} in {}", empty.body);
    }
    let english = form(
        &[("csrf", &csrf), ("lang", "en"), ("text", text), ("latitude", "north"), ("longitude", "18.2")],
        Some(&cookie),
    )
    .await;
    assert!(english.body.contains("Latitude: `north` is not a number (write it like 4.3612)"), "{}", english.body);
    assert_eq!(site.stored_count(&admin).await, before);

    let good = form(
        &[
            ("csrf", &csrf),
            ("lang", "fr"),
            ("text", text),
            ("place", "Bouca"),
            ("category", "attack"),
            ("urgency", "critical"),
            ("contact", "+236 72 00 00 01"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains("Votre numéro de référence"));
    let at = good.body.find("VC-").expect("a reference on the page");
    let reference = &good.body[at..at + "VC-0000-000".len()];
    assert_eq!(site.stored_count(&admin).await, before + 1);
    let stored = site.get_auth(&format!("/api/v1/reports/{reference}"), &admin).await.json();
    assert_eq!(stored["channel"]["kind"], "web_form");
    assert_eq!(stored["has_contact"], true);
    assert_eq!(stored["language"], "fr");
}

#[tokio::test]
async fn twilio_signature_is_checked_when_an_auth_token_is_configured() {
    let site = Site::with_config(IntakeConfig {
        twilio_auth_token: Some("12345".into()),
        public_url: Some("https://example.org".into()),
        ..IntakeConfig::default()
    });
    let body = form_encode(&[("From", "+23672000001"), ("Body", "help"), ("MessageSid", "SM1")]);
    let r = site
        .request(
            Method::POST,
            "/sms/twilio",
            &[("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", "bm90LWl0")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn with_require_login_the_form_is_for_signed_in_users_only() {
    let site = Site::with_config(IntakeConfig { require_login: true, ..IntakeConfig::default() });
    let page = site.get("/report", &[]).await;
    assert_eq!(page.status, 303);
    assert!(page.header("location").unwrap().contains("/login"));
    let post = site
        .request(Method::POST, "/report", &[("Content-Type", "application/x-www-form-urlencoded")], b"text=hello")
        .await;
    assert_eq!(post.status, 401);
}

#[tokio::test]
async fn an_alert_goes_from_new_to_closed_through_the_api_and_the_alert_page() {
    let site = Site::new();
    let (analyst, responder, viewer) = (site.token("analyst1"), site.token("responder1"), site.token("viewer1"));
    let r = site
        .post_json(
            "/api/v1/reports",
            &responder,
            r#"{"text":"Abduction of two children on the road to Bouca","area_pcode":"CF32","urgency":"critical","category":"abduction"}"#,
        )
        .await;
    let reference = r.json()["reference"].as_str().unwrap().to_string();
    let steps = format!("/api/v1/alerts/{reference}/steps");

    assert_eq!(site.post_json(&steps, &analyst, r#"{"step":"acknowledge"}"#).await.status, 200);
    assert_eq!(
        site.post_json(&steps, &analyst, r#"{"step":"verify","note":"confirmed by the focal point"}"#).await.status,
        200
    );
    let wrong_role = site.post_json(&steps, &analyst, r#"{"step":"assign","owner":"Capt. X","unit":"BANBAT"}"#).await;
    assert_eq!(wrong_role.status, 403, "an analyst cannot assign: {}", wrong_role.body);
    let out_of_order = site.post_json(&steps, &responder, r#"{"step":"close","outcome":"done"}"#).await;
    assert_eq!(out_of_order.status, 409);
    assert!(out_of_order.json()["error"].as_str().unwrap().contains("next you can"));
    assert_eq!(site.post_json(&steps, &responder, r#"{"step":"not-a-step"}"#).await.status, 400);

    // The rest through the HTML alert page, logged in with a session.
    let login_page = site.get("/login", &[]).await;
    let form_cookie = login_page.cookie("vc_form").unwrap();
    let csrf = hidden_csrf(&login_page.body);
    let ctype = ("Content-Type", "application/x-www-form-urlencoded");
    let wrong = form_encode(&[("csrf", &csrf), ("username", "responder1"), ("password", "wrong password here")]);
    let refused = site.request(Method::POST, "/login", &[ctype, ("Cookie", &form_cookie)], wrong.as_bytes()).await;
    assert_eq!(refused.status, 401);
    let creds = form_encode(&[("csrf", &csrf), ("username", "responder1"), ("password", PASSWORD)]);
    let login = site.request(Method::POST, "/login", &[ctype, ("Cookie", &form_cookie)], creds.as_bytes()).await;
    assert_eq!(login.status, 303, "{}", login.body);
    let session = login.cookie("vc_session").expect("a session cookie");
    let set = login.header("set-cookie").unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let page = site.get("/alerts", &[("Cookie", &session)]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&reference) && page.body.contains("Assign") && !page.body.contains("<script"));
    let csrf = hidden_csrf(&page.body);
    let act = async |pairs: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        site.request(
            Method::POST,
            &format!("/alerts/{reference}/step"),
            &[ctype, ("Cookie", &session)],
            form_encode(&all).as_bytes(),
        )
        .await
    };
    let forged = site
        .request(
            Method::POST,
            &format!("/alerts/{reference}/step"),
            &[ctype, ("Cookie", &session)],
            b"step=assign&owner=a&unit=b",
        )
        .await;
    assert_eq!(forged.status, 403, "no CSRF token, no step");
    assert_eq!(act(&[("step", "assign"), ("owner", "Capt. X"), ("unit", "BANBAT")]).await.status, 303);
    assert_eq!(
        act(&[
            ("step", "respond"),
            ("action", "patrol sent"),
            ("feedback", "A patrol went to the road; the children are back")
        ])
        .await
        .status,
        303
    );
    assert_eq!(act(&[("step", "close"), ("outcome", "children returned")]).await.status, 303);
    // After closing, the page still records what people were told, and how.
    assert_eq!(
        act(&[("step", "feedback"), ("feedback", "Announced: the children are home"), ("feedback_channel", "pigeon")])
            .await
            .status,
        400
    );
    assert_eq!(
        act(&[("step", "feedback"), ("feedback", "Announced: the children are home"), ("feedback_channel", "radio")])
            .await
            .status,
        303
    );

    let shown = site.get_auth(&format!("/api/v1/reports/{reference}"), &analyst).await.json();
    let alert = &shown["alert"];
    assert_eq!(alert["state"], "closed");
    let logged: Vec<(&str, &str)> = alert["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"]["step"].as_str().unwrap(), s["user_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        logged,
        vec![
            ("acknowledge", "u-analyst1"),
            ("verify", "u-analyst1"),
            ("assign", "u-responder1"),
            ("respond", "u-responder1"),
            ("close", "u-responder1"),
            ("give_feedback", "u-responder1")
        ]
    );
    assert_eq!(alert["status"]["feedback"][0]["channel"], "web");
    assert_eq!(
        (alert["status"]["feedback"][1]["channel"].as_str(), alert["status"]["feedback"][1]["message"].as_str()),
        (Some("radio"), Some("Announced: the children are home"))
    );
    assert_eq!(shown["verification"], "verified");

    let month = shown["received_at"].as_str().unwrap()[..7].to_string();
    let m = site.get_auth(&format!("/api/v1/alerts/metrics?from={month}&to={month}"), &analyst).await.json();
    let row = m["metrics"].as_array().unwrap().iter().find(|r| r["area_pcode"] == "CF32").unwrap().clone();
    assert_eq!(row["alerts"], 1);
    assert_eq!(row["responded"], 1);
    assert_eq!(row["share_with_feedback"], 1.0);
    // A viewer sees the same figures with counts of 1-4 suppressed.
    let seen = site.get_auth(&format!("/api/v1/alerts/metrics?from={month}&to={month}"), &viewer).await.json();
    let row = seen["metrics"].as_array().unwrap().iter().find(|r| r["area_pcode"] == "CF32").unwrap().clone();
    assert_eq!(row["alerts"], serde_json::Value::Null);
    assert!(row.get("share_with_feedback").is_none_or(|v| v.is_null()), "no share next to a hidden count: {row}");
    assert_eq!(site.get_auth("/api/v1/alerts", &viewer).await.status, 403, "a viewer does not read the alert queue");
    let logout = site
        .request(Method::POST, "/logout", &[ctype, ("Cookie", &session)], form_encode(&[("csrf", &csrf)]).as_bytes())
        .await;
    assert_eq!(logout.status, 303);
    assert_eq!(site.get("/alerts", &[("Cookie", &session)]).await.status, 303, "the session has ended");
}
