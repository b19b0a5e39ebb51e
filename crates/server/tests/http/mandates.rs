//! The mandate routes (`/api/v1/mandates/...`) and the page (`/mandates`)
//! as an outsider and as each role, over the synthetic Ebola indicator
//! table and resolutions cut from the UN corpus: read from the folder given
//! to `serve --mandates`, or stored by `vitalcore mandate import`.

use crate::Site;
use std::path::Path;
use std::sync::Arc;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_framework::Framework;
use vitalcore_server::AppState;
use vitalcore_store::Store;

fn akn() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mandate/tests/fixtures/akn")
}

/// The site with the Ebola table imported and the mandate fixtures stored
/// (no folder given).
fn stored_site() -> Site {
    let mut site = Site::with_config(IntakeConfig::default());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = manifest.join("../cli/tests/fixtures/ebola_2014_synthetic.csv");
    let fw = Framework::built_in();
    let parsed = vitalcore_import::read_observations(&table, &fw, None, &|_| {}).unwrap();
    site.store.import_observations(&parsed.file, &parsed.observations).unwrap();
    let at = "2026-12-07T23:00:00Z";
    vitalcore_app::mandates::import(&fw, &*site.store, &[akn()], false, "admin1", at, &mut |_, _| {}).unwrap();
    let state = AppState::with_reports(site.store.clone(), Arc::new(fw), site.reports.clone());
    let state = AppState::with_mandate_store(state, site.store.clone());
    site.router = vitalcore_server::router(state);
    site
}

const ROLES: [(&str, &str); 5] = [
    ("admin1", "exact"),
    ("analyst1", "exact"),
    ("responder1", "exact"),
    ("focal32", "community"),
    ("viewer1", "public"),
];

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
        assert_eq!(body["in_force"]["symbol"], "S/RES/2116 (2013)", "{body}");
        assert_eq!(body["uncovered"][0]["id"], "health", "{body}");
        assert_eq!(body["uncovered"][0]["later"]["symbol"], "S/RES/2177 (2014)", "{body}");
        assert_eq!(body["disclosure"]["audience"], audience, "{body}");
    };
    let r = site.get(path, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    check(r.json(), "public");
    for (user, audience) in ROLES {
        let token = site.token(user);
        let r = site.get_auth(path, &token).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        check(r.json(), audience);
    }
    // By country, in October: the technical extension 2176 is in force,
    // health still uncovered (2177 names UNMIL but does not mandate it).
    let r = site.get("/api/v1/mandates/gaps?country=LBR&month=2014-10", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["in_force"]["symbol"], "S/RES/2176 (2014)");
    assert_eq!(r.json()["uncovered"][0]["id"], "health");
}

#[tokio::test]
async fn the_stored_resolutions_answer_as_the_folder_does() {
    let (stored, folder) = (stored_site(), site());
    for path in [
        "/api/v1/mandates/gaps?mission=UNMIL&month=2014-08",
        "/api/v1/mandates/gaps?mission=MINUSMA&month=2014-10",
        "/api/v1/mandates/missions",
        "/api/v1/mandates/missions/unmil",
        "/api/v1/mandates/missions/MINUSMA",
    ] {
        let (a, b) = (stored.get(path, &[]).await, folder.get(path, &[]).await);
        assert_eq!((a.status, b.status), (200, 200), "{path}: {} / {}", a.body, b.body);
        assert_eq!(a.json(), b.json(), "{path}");
    }
    let line = stored.get("/api/v1/mandates/missions/UNMIL", &[]).await.json();
    let symbols: Vec<&str> =
        line["timeline"]["resolutions"].as_array().unwrap().iter().map(|s| s["symbol"].as_str().unwrap()).collect();
    assert_eq!(symbols, ["S/RES/2116 (2013)", "S/RES/2176 (2014)"]);
    let health = line["coverage"]["rows"].as_array().unwrap().iter().find(|r| r["dimension"] == "health").unwrap();
    assert_eq!(health["cells"], serde_json::json!(["none", "none"]), "no UNMIL task covers health in 2013-14");
    let missions = stored.get("/api/v1/mandates/missions", &[]).await.json();
    // Named by 2100, 2116, 2164, 2176 and 2177; mandated by two of them.
    assert!(missions["missions"].as_array().unwrap().iter().any(|m| m["mission"] == "UNMIL" && m["resolutions"] == 5));
    // A resolution with its tagged paragraphs and, stored, its provenance.
    let r = stored.get("/api/v1/mandates/resolutions/2100", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["resolution"]["symbol"], "S/RES/2100 (2013)");
    let p16 = v["resolution"]["paragraphs"].as_array().unwrap().iter().find(|p| p["num"] == "16").unwrap();
    assert_eq!(p16["strength"], "decides");
    assert!(!p16["points"][0]["tasks"].as_array().unwrap().is_empty(), "{p16}");
    assert_eq!(v["provenance"]["imported_by"], "admin1");
    assert_eq!(v["provenance"]["sha256"].as_str().unwrap().len(), 64);
    for (path, status) in [
        ("/api/v1/mandates/resolutions/9999", 404),
        ("/api/v1/mandates/resolutions/abc", 400),
        ("/api/v1/mandates/missions/NOPE", 404),
    ] {
        assert_eq!(stored.get(path, &[]).await.status, status, "{path}");
    }
}

#[tokio::test]
async fn the_page_sends_outsiders_to_log_in_and_shows_every_role_the_mandate_and_its_gaps() {
    let site = stored_site();
    let path = "/mandates?mission=UNMIL&month=2014-08&resolution=2116";
    let r = site.get(path, &[]).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    for (user, _) in ROLES {
        let token = site.token(user);
        let r = site.get_auth(path, &token).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        let page = &r.body;
        assert!(page.contains("<option value=\"UNMIL\" selected>"), "{user}: the mission picked");
        // The timeline, with what each resolution added.
        assert!(page.contains("S/RES/2116 (2013)</a>, 2013-09-18"), "{user}: timeline");
        // The coverage matrix: a table with headers, words in every cell.
        assert!(page.contains("<th scope=\"col\">S/RES/2176 (2014)</th>"), "{user}: matrix columns");
        assert!(page.contains("<th scope=\"row\">health</th><td class=\"none\">not covered</td>"), "{user}");
        assert!(page.contains("<th scope=\"row\">personal</th><td class=\"added\">added</td>"), "{user}");
        // The gaps that month: health uncovered, and what later covers it.
        assert!(
            page.contains("<strong>health (dimension)</strong>: first covered later by S/RES/2177 (2014)"),
            "{user}"
        );
        // The resolution's text: the operative verb and the tasks marked.
        assert!(page.contains("<mark class=\"verb\">Decides</mark>"), "{user}: operative verb marked");
        assert!(page.contains("<mark class=\"task\">security sector reform</mark>"), "{user}: a task marked");
    }
    // French.
    let analyst = site.token("analyst1");
    let fr = crate::send(
        &site.router,
        axum::http::Method::GET,
        path,
        &[("Authorization", &format!("Bearer {analyst}")), ("Cookie", "vc_lang=fr")],
        b"",
    )
    .await;
    assert!(fr.body.contains("Menaces prioritaires") && fr.body.contains("non couverte"), "{}", fr.body);
    // A month before any mandate, an unknown resolution.
    let early = site.get_auth("/mandates?mission=UNMIL&month=2001-01", &analyst).await;
    assert_eq!(early.status, 200);
    assert!(early.body.contains("no resolution in the database mandates UNMIL on or before 2001-01"));
    assert_eq!(site.get_auth("/mandates?mission=UNMIL&resolution=9999", &analyst).await.status, 404);
    assert_eq!(site.get_auth("/mandates?mission=NOPE", &analyst).await.status, 400);
    assert_eq!(site.get_auth("/mandates?mission=UNMIL&month=2014-13", &analyst).await.status, 400);
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
    assert!(r.body.contains("--mandates") && r.body.contains("mandate import"), "{}", r.body);
}
