//! `/dashboard` and `/sitrep`: outsiders are sent to log in; every role
//! gets the page, staff (admin, analyst, responder) with exact figures,
//! viewers and focal points the public briefing whatever they ask for;
//! the report downloads as HTML or PDF.

use crate::{Site, send};
use axum::http::Method;
use jiff::civil::Date;
use vitalcore_framework::{Event, Place, Provenance, Source, Tags};
use vitalcore_intake::report::Reference;
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, ReportDraft};
use vitalcore_store::reports::ReportStore;
use vitalcore_store::{ImportFile, Store};

/// Twelve events in CF32 in June 2020 and three community reports there.
fn site() -> Site {
    let site = Site::new();
    let events: Vec<Event> = (1..=12)
        .map(|i| Event {
            provenance: Provenance {
                source: Source::UcdpGed,
                source_id: format!("E{i}"),
                file: "e.csv".into(),
                line: i,
            },
            date: Date::constant(2020, 6, i as i8),
            date_end: None,
            place: Place { admin1_pcode: Some("CF32".into()), admin1: Some("Ouham".into()), ..Place::default() },
            event_type: "state-based".into(),
            sub_event_type: None,
            actor1: None,
            actor2: None,
            fatalities: 2,
            civilian_fatalities: Some(1),
            civilian_targeting: false,
            notes: None,
            tags: Tags { dimensions: vec!["personal".into()], themes: vec![], severity: 3, rule: "t".into() },
        })
        .collect();
    let file = ImportFile {
        path: "e.csv".into(),
        sha256: "0".repeat(64),
        format: "test".into(),
        rows_read: 12,
        rows_rejected: 0,
    };
    site.store.import_events(&file, &events).unwrap();
    let intake = Intake::new(ContactKey::from_bytes([7; 32]), CategoryMap::built_in());
    for i in 0..3 {
        let draft = ReportDraft {
            text: format!("armed men attacked the market, report {i}"),
            category: Some("attack".into()),
            area_pcode: Some("CF32".into()),
            event_time: Some("2020-06-10".into()),
            ..ReportDraft::default()
        };
        let received = "2020-06-11T08:00:00Z".parse().unwrap();
        let report = intake.accept_as(&draft, Channel::WebForm, received, Reference::from_number(900 + i)).unwrap();
        site.store.insert_report(&report).unwrap();
    }
    site
}

/// The texts of the cells marked as community-report figures.
fn report_cells(page: &str) -> Vec<String> {
    page.split("rc\">").skip(1).map(|rest| rest.split('<').next().unwrap().to_string()).collect()
}

const JUNE: &str = "from=2020-06&to=2020-06";

#[tokio::test]
async fn outsiders_are_sent_to_log_in() {
    let site = site();
    for path in ["/dashboard", "/sitrep", "/sitrep?format=pdf"] {
        let r = send(&site.router, Method::GET, path, &[], b"").await;
        assert_eq!((r.status, r.header("location")), (303, Some("/login")), "{path}");
    }
    let css = site.get("/static/dashboard.css", &[]).await;
    assert_eq!(css.status, 200);
}

#[tokio::test]
async fn a_site_without_data_still_answers_both_pages() {
    let site = Site::new();
    let analyst = site.token("analyst1");
    for path in ["/dashboard", "/sitrep", "/sitrep?format=pdf", "/dashboard?from=2021-01&to=2021-03&area=CF32"] {
        let r = site.get_auth(path, &analyst).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let page = site.get_auth("/dashboard?from=2021-01&to=2021-03", &analyst).await.body;
    assert!(page.contains("No area had events in the period."), "{page}");
}

#[tokio::test]
async fn each_role_sees_the_dashboard_staff_exactly_the_others_published() {
    let site = site();
    for (user, exact) in
        [("admin1", true), ("analyst1", true), ("responder1", true), ("focal32", false), ("viewer1", false)]
    {
        let token = site.token(user);
        let r = site.get_auth(&format!("/dashboard?{JUNE}"), &token).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert!(r.header("content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let page = &r.body;
        assert!(page.contains("<h1>Dashboard: 2020-06</h1>") && page.contains("<svg"), "{user}");
        assert!(page.contains("Ouham"), "{user}: the map and the top areas name the prefecture");
        assert!(!page.contains("<script") && !page.contains("style="), "{user}: no inline script or style");
        let cells = report_cells(page);
        assert!(!cells.is_empty(), "{user}: {page}");
        let small = cells.iter().any(|c| matches!(c.as_str(), "1" | "2" | "3" | "4"));
        assert_eq!(small, exact, "{user}: {cells:?}");
        let audience = if exact { "<b>Figures for a staff audience" } else { "<b>Figures for a public audience" };
        assert!(page.contains(audience), "{user}");
    }
}

#[tokio::test]
async fn the_sitrep_page_offers_staff_only_to_staff_and_downloads_html_and_pdf() {
    let site = site();
    let analyst = site.token("analyst1");
    let viewer = site.token("viewer1");
    let form = site.get_auth(&format!("/sitrep?{JUNE}"), &analyst).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("value=\"staff\"") && form.body.contains("Download PDF"));
    let viewer_form = site.get_auth(&format!("/sitrep?{JUNE}"), &viewer).await;
    assert!(!viewer_form.body.contains("value=\"staff\""), "a viewer is offered the public report only");

    let html = site.get_auth(&format!("/sitrep?{JUNE}&audience=staff&format=html"), &analyst).await;
    assert_eq!(html.status, 200);
    assert_eq!(html.header("content-disposition"), Some("attachment; filename=\"sitrep-2020-06-2020-06-staff.html\""));
    assert!(!html.body.contains("http://") && !html.body.contains("https://"));
    // A viewer asking for the staff report gets the public one.
    let public = site.get_auth(&format!("/sitrep?{JUNE}&audience=staff&format=html"), &viewer).await;
    assert_eq!(
        public.header("content-disposition"),
        Some("attachment; filename=\"sitrep-2020-06-2020-06-public.html\"")
    );
    let cells = report_cells(&public.body);
    assert!(!cells.is_empty() && cells.iter().all(|c| !matches!(c.as_str(), "1" | "2" | "3" | "4")), "{cells:?}");

    let pdf = site.get_auth(&format!("/sitrep?{JUNE}&area=CF32&format=pdf"), &analyst).await;
    assert_eq!((pdf.status, pdf.header("content-type")), (200, Some("application/pdf")));
    assert!(pdf.body.starts_with("%PDF-"));
    let bad = site.get_auth("/sitrep?from=2020-06&to=2020-01", &analyst).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let unknown = site.get_auth("/sitrep?from=2020-06&to=2020-06&area=XX1", &analyst).await;
    assert!(unknown.status == 400 && unknown.body.contains("XX1"), "{}", unknown.body);
}

/// The English headings of the report's sections (written here, so a French
/// page that falls back to English fails).
const ENGLISH: [&str; 5] =
    ["Priority threats", "Trends by dimension and theme", "Alerts and responses", "Data sources and caveats", "Method"];

#[tokio::test]
async fn the_dashboard_and_sitrep_speak_the_language_chosen_then_the_browsers() {
    let site = site();
    let token = site.token("analyst1");
    let bearer = format!("Bearer {token}");
    let as_analyst =
        |extra: (&'static str, &'static str)| [("Authorization", bearer.clone()), (extra.0, extra.1.into())];
    let get = |path: String, extra: (&'static str, &'static str)| {
        let headers = as_analyst(extra);
        let site = &site;
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            site.get(&path, &h).await
        }
    };
    let english = get(format!("/dashboard?{JUNE}"), ("Accept-Language", "en")).await.body;
    for h in ENGLISH {
        assert!(english.contains(&format!("<h2>{h}</h2>")), "the English dashboard lacks {h}");
    }
    // The user's choice (the shell's cookie) wins over the browser's English.
    let r = get(format!("/dashboard?{JUNE}"), ("Cookie", "vc_lang=fr")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let french = r.body;
    assert!(french.contains("<html lang=\"fr\">"), "axe-core needs the page's language");
    assert!(french.contains("<h1>Tableau de bord : juin 2020</h1>"), "{french}");
    for h in ["Menaces prioritaires", "Tendances par dimension et par thème", "Alertes et réponses", "Méthode"] {
        assert!(french.contains(&format!("<h2>{h}</h2>")), "the French dashboard lacks {h}");
    }
    for h in ENGLISH {
        assert!(!french.contains(&format!("<h2>{h}</h2>")), "the French dashboard has the English {h}");
    }
    for text in ["Du</label>", "Afficher</button>", "Sur la période juin 2020", "Chiffres pour le personnel"] {
        assert!(french.contains(text), "{text} in {french}");
    }
    assert!(!french.contains(">Show</button>") && !french.contains("Figures for a"));
    // Accept-Language alone; the sitrep form and its download follow the page.
    let form = get(format!("/sitrep?{JUNE}"), ("Accept-Language", "fr-CF,en;q=0.5")).await.body;
    assert!(form.contains("<h1>Rapports de situation</h1>") && form.contains("Télécharger en PDF"), "{form}");
    assert!(form.contains("--lang fr"), "the command line shown matches the page");
    let file = get(format!("/sitrep?{JUNE}&format=html"), ("Cookie", "vc_lang=fr")).await;
    assert!(file.body.contains("<html lang=\"fr\">") && file.body.contains("<h2>Menaces prioritaires</h2>"));
    let file = get(format!("/sitrep?{JUNE}&format=html"), ("Cookie", "vc_lang=en")).await;
    assert!(file.body.contains("<html lang=\"en\">") && file.body.contains("<h2>Priority threats</h2>"));
}
