//! Every JSON answer reads back into its `vitalcore_proto::api` type: the
//! types are the contract a client can decode with.

use super::Site;
use axum::http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_proto::Assessment;
use vitalcore_proto::api::{
    AlertMetrics, AlertQueue, AlertView, AreaList, ErrorBody, FeatureCollection, FrameworkSummary, Health, ReportList,
    ReportWithAlert, RevealedContact, SmsReply, Submitted, Warnings,
};

fn read<T: DeserializeOwned>(r: &super::Resp) -> T {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{} ({e}): {}", std::any::type_name::<T>(), r.body))
}

type Alert = AlertView<String, String, Value, Value, Value>;

#[tokio::test]
async fn every_answer_reads_back_into_its_proto_type() {
    const SECRET: &str = "a-rapidpro-secret-for-tests";
    let config = IntakeConfig { rapidpro_secret: Some(SECRET.to_string().into()), ..IntakeConfig::default() };
    let site = Site::with_config(config);
    let (admin, responder) = (site.token("admin1"), site.token("responder1"));
    let body =
        r#"{"text":"Armed men burned houses in Bossangoa","area_pcode":"CF32","category":"attack","contact":"+236 1"}"#;
    // Before any report: a published aggregate holding 1-4 reports says `"reports": null`, which
    // `AssessmentRow::reports` (a count) cannot hold.
    let _: Assessment = read(&site.get("/api/v1/assessment?period=all", &[]).await);
    let submitted = site.post_json("/api/v1/reports", &responder, body).await;
    let submitted: Submitted<Value, Value> = read(&submitted);
    assert_eq!(submitted.area_pcode.as_deref(), Some("CF32"));
    let reference = submitted.reference;

    let health: Health<Value> = read(&site.get("/api/v1/health", &[]).await);
    assert_eq!((health.status.as_str(), health.counts["areas"].as_u64()), ("ok", Some(17)));
    let fw: FrameworkSummary<Value, Value, Value> = read(&site.get("/api/v1/framework", &[]).await);
    assert_eq!(fw.dimensions.len(), 7);
    let map: FeatureCollection = read(&site.get("/api/v1/boundaries?unit=admin1", &[]).await);
    assert_eq!(map.features.len(), 17);
    assert!(map.features.iter().all(|f| f.geometry.is_some()));
    let areas: AreaList = read(&site.get("/api/v1/areas?unit=admin1", &[]).await);
    assert_eq!(areas.unit, "admin1");

    let list: ReportList<Value> = read(&site.get_auth("/api/v1/reports", &admin).await);
    assert_eq!((list.total, list.reports[0].has_contact), (1, true));
    assert_eq!(list.reports[0].report["reference"], reference.as_str());
    let shown: ReportWithAlert<Value, Alert> =
        read(&site.get_auth(&format!("/api/v1/reports/{reference}"), &admin).await);
    assert_eq!((shown.alert.state.as_str(), shown.alert.urgency.as_str()), ("new", "medium"));
    let queue: AlertQueue<Alert> = read(&site.get_auth("/api/v1/alerts", &admin).await);
    assert_eq!(queue.alerts.len(), 1);
    let step =
        site.post_json(&format!("/api/v1/alerts/{reference}/steps"), &responder, r#"{"step":"acknowledge"}"#).await;
    assert_eq!(read::<Alert>(&step).state, "acknowledged");
    let metrics: AlertMetrics<Value> = read(&site.get_auth("/api/v1/alerts/metrics", &admin).await);
    assert_eq!((metrics.from, metrics.metrics.len()), (None, 1));
    let contact = site.get_auth(&format!("/api/v1/reports/{reference}/contact?purpose=call"), &responder).await;
    let contact: RevealedContact<Value> = read(&contact);
    assert_eq!((contact.contact.as_str(), contact.read["purpose"].as_str()), ("+236 1", Some("call")));
    let warnings: Warnings = read(&site.get("/api/v1/warnings", &[]).await);
    assert!(warnings.warnings.is_empty());
    let reply = site
        .request(
            Method::POST,
            "/sms/rapidpro",
            &[("Content-Type", "application/json"), ("Authorization", &format!("Token {SECRET}"))],
            br#"{"contact":{"urn":"tel:+1"},"input":{"text":"  "}}"#,
        )
        .await;
    let reply: SmsReply = read(&reply);
    assert_eq!(reply.reference, None);

    let missing: ErrorBody = read(&site.get("/api/v1/forecasts", &[]).await);
    assert!(missing.error.contains("no admin1 forecasts stored yet") && missing.request_id.is_none());
    let invalid = site.post_json("/api/v1/reports", &responder, r#"{"text":" "}"#).await;
    let invalid: ErrorBody = read(&invalid);
    assert_eq!(invalid.fields.unwrap()[0].field, "text");
}
