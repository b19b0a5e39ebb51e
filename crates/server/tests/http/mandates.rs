//! `GET /api/v1/mandates/gaps` as an outsider and as each role, over the
//! synthetic Ebola indicator table and resolutions cut from the UN corpus.

use crate::Site;
use std::path::Path;
use std::sync::Arc;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_framework::Framework;
use vitalcore_server::AppState;
use vitalcore_store::Store;

/// The site with the Ebola table imported, serving the mandate fixtures.
fn site() -> Site {
    let mut site = Site::with_config(IntakeConfig::default());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = manifest.join("../cli/tests/fixtures/ebola_2014_synthetic.csv");
    let fw = Framework::built_in();
    let parsed = vitalcore_import::read_observations(&table, &fw, None, &|_| {}).unwrap();
    site.store.import_observations(&parsed.file, &parsed.observations).unwrap();
    let state = AppState::with_reports(site.store.clone(), Arc::new(fw), site.reports.clone());
    let state = AppState::with_forecasts(state, site.store.clone());
    let state = AppState::with_mandates(state, manifest.join("../mandate/tests/fixtures/akn"));
    site.router = vitalcore_server::router(state);
    site
}

#[tokio::test]
async fn an_outsider_and_every_role_get_the_ebola_gap_with_their_disclosure() {
    let site = site();
    let path = "/api/v1/mandates/gaps?mission=UNMIL&month=2014-08";
    let check = |body: serde_json::Value, audience: &str| {
        assert_eq!(body["in_force"]["symbol"], "S/RES/2164 (2014)", "{body}");
        assert_eq!(body["uncovered"][0]["id"], "health", "{body}");
        assert_eq!(body["uncovered"][0]["later"]["symbol"], "S/RES/2177 (2014)", "{body}");
        assert_eq!(body["disclosure"]["audience"], audience, "{body}");
    };
    let r = site.get(path, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    check(r.json(), "public");
    for (user, audience) in [
        ("admin1", "exact"),
        ("analyst1", "exact"),
        ("responder1", "exact"),
        ("focal32", "community"),
        ("viewer1", "public"),
    ] {
        let token = site.token(user);
        let r = site.get_auth(path, &token).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        check(r.json(), audience);
    }
    // By country; nothing uncovered once 2177 gives public health.
    let r = site.get("/api/v1/mandates/gaps?country=LBR&month=2014-10", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["uncovered"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_queries_are_refused_with_their_reason_and_no_folder_is_a_503() {
    let site = site();
    for (query, status, says) in [
        ("mission=NOPE&month=2014-08", 404, "no mission"),
        ("country=FRA&month=2014-08", 404, "FRA"),
        ("mission=UNMIL&month=2014-13", 400, "2014-13"),
        ("mission=UNMIL", 400, "month=YYYY-MM"),
        ("month=2014-08", 400, "mission="),
        ("mission=UNMIL&month=2001-01", 404, "no resolution"),
    ] {
        let r = site.get(&format!("/api/v1/mandates/gaps?{query}"), &[]).await;
        assert_eq!(r.status, status, "{query}: {}", r.body);
        assert!(r.body.contains(says), "{query}: {}", r.body);
    }
    let plain = Site::new();
    let r = plain.get("/api/v1/mandates/gaps?mission=UNMIL&month=2014-08", &[]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("--mandates"), "{}", r.body);
}
