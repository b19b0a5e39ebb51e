//! The alert page's data freshness per area: at HQ each office's areas with
//! its last contact ("updated 3 h ago", the full time for screen readers),
//! in English and French; nothing on a database that does not synchronise.

use std::sync::Arc;

use crate::{PASSWORD, Site, form_encode, hidden_csrf};
use axum::http::Method;
use jiff::{SignedDuration, Timestamp};
use vitalcore_framework::Framework;
use vitalcore_server::AppState;
use vitalcore_store::sync::{Node, NodeRole, Office, SyncStore};

async fn sign_in(site: &Site, user: &str) -> String {
    let login = site.get("/login", &[]).await;
    let form_cookie = login.cookie("vc_form").unwrap();
    let creds = form_encode(&[("csrf", &hidden_csrf(&login.body)), ("username", user), ("password", PASSWORD)]);
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let r = site.request(Method::POST, "/login", &[form, ("Cookie", &form_cookie)], creds.as_bytes()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.cookie("vc_session").unwrap()
}

fn office(name: &str, areas: &[&str], space: u8) -> Office {
    Office {
        name: name.into(),
        node_id: format!("n-{name}"),
        areas: areas.iter().map(|a| a.to_string()).collect(),
        space,
        credential_hash: vec![0; 32],
        created_at: Timestamp::now(),
        revoked_at: None,
        last_sync: None,
        pending_up: 0,
    }
}

#[tokio::test]
async fn hq_shows_when_each_offices_areas_were_last_synchronised() {
    let mut site = Site::new();
    let session = sign_in(&site, "responder1").await;
    let plain = site.get("/alerts", &[("Cookie", &session)]).await;
    assert_eq!(plain.status, 200);
    assert!(!plain.body.contains("id=\"freshness\""), "no synchronisation, no freshness section");

    let store = site.store.clone();
    store
        .init_node(&Node {
            node_id: "n-hq".into(),
            name: "hq".into(),
            role: NodeRole::Hq,
            space: 0,
            hq_node: None,
            credential_hash: None,
            created_at: Timestamp::now(),
            last_sync: None,
            pending_down: 0,
        })
        .unwrap();
    store.add_office(&office("bambari", &["CF32"], 1)).unwrap();
    store.add_office(&office("bria", &["CF41"], 2)).unwrap();
    let seen = Timestamp::now() - SignedDuration::from_mins(3 * 60 + 5);
    store.office_seen("bambari", seen, None).unwrap();
    let state = AppState::with_reports(store.clone(), Arc::new(Framework::built_in()), site.reports.clone());
    site.router = vitalcore_server::router(AppState::with_sync(AppState::with_forecasts(state, store.clone()), store));

    let page = site.get("/alerts", &[("Cookie", &session)]).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("<h2 id=\"freshness\">Data freshness per area</h2>"), "{body}");
    let bambari = body.split("<tr>").find(|r| r.contains("bambari")).expect("a row for bambari");
    assert!(bambari.contains("<td>CF32</td>") && bambari.contains("updated 3 h ago"), "{bambari}");
    assert!(bambari.contains(&format!("<time datetime=\"{seen}\">")), "{bambari}");
    let label = format!("updated 3 hours ago, at {} UTC", seen.strftime("%Y-%m-%d %H:%M"));
    assert!(bambari.contains(&format!("<span class=\"vh\">{label}</span>")), "{bambari}");
    let bria = body.split("<tr>").find(|r| r.contains("bria")).expect("a row for bria");
    assert!(bria.contains("<td>CF41</td>") && bria.contains("class=\"late\"") && bria.contains("never synchronised"));

    let fr = site.get("/alerts", &[("Cookie", &format!("{session}; vc_lang=fr"))]).await;
    assert!(
        fr.body.contains("Fraîcheur des données par zone") && fr.body.contains("mis à jour il y a 3 h"),
        "{}",
        fr.body
    );
    assert!(fr.body.contains("jamais synchronisé"));
}
