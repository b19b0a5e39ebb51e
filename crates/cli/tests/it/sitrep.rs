//! `vitalcore sitrep`: the real binary on the CAR fixture (UCDP GED events,
//! the 17 prefectures) with two community reports and a warning carrying a
//! staff note: the HTML file loads nothing from outside, the public report
//! shows no community-report count of 1 to 4 and no staff note (while the
//! staff one does, so the check can fail), the PDF parses, and, where
//! `pdftoppm` is installed, renders to at least two pages with ink on them.

use std::path::Path;
use std::process::Command;

use super::{car_db, ok, vitalcore};

const NOTE: &str = "Called the prefect of Kaga-Bandoro";

/// The CAR fixture, two reports of June 2020 in CF32, a forecast run with
/// a low threshold (warnings for 2023-01..03) and a note on one warning.
fn site(dir: &Path) -> std::path::PathBuf {
    let db = car_db(dir);
    for text in ["Armed men burned houses in the village", "Gunfire near the market, people fled"] {
        ok(vitalcore(
            &db,
            &[
                "report",
                "submit",
                "--text",
                text,
                "--area",
                "CF32",
                "--category",
                "attack",
                "--event-time",
                "2020-06-01",
            ],
        ));
    }
    let run = ["warnings", "run", "--samples", "200", "--skill-origins", "3", "--p-any", "0.005", "--format", "json"];
    let (added, _) = ok(vitalcore(&db, &run));
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    let id = added[0]["id"].as_i64().expect("the low threshold raises warnings").to_string();
    ok(vitalcore(&db, &["warnings", "ack", &id, "--as", "analyst1", "--note", NOTE]));
    db
}

fn sitrep(db: &Path, out: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["sitrep", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    ok(vitalcore(db, &all))
}

/// The texts of every element with class `rc` (a figure counted from community reports).
fn report_counts(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("class=\"rc\"").or_else(|| rest.find("rc\">")) {
        let after = &rest[at..];
        let open = after.find('>').unwrap() + 1;
        let close = after[open..].find('<').unwrap();
        out.push(after[open..open + close].to_string());
        rest = &after[open + close..];
    }
    out
}

fn small(counts: &[String]) -> Vec<&String> {
    counts.iter().filter(|c| matches!(c.trim(), "1" | "2" | "3" | "4")).collect()
}

#[test]
fn the_public_sitrep_hides_small_counts_and_staff_notes_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = site(dir.path());
    let staff = dir.path().join("staff.html");
    let public = dir.path().join("public.html");
    let period = ["--from", "2020-06", "--to", "2020-06", "--format", "html"];
    sitrep(&db, &staff, &[&period[..], &["--audience", "staff"]].concat());
    sitrep(&db, &public, &[&period[..], &["--audience", "public"]].concat());
    let staff = std::fs::read_to_string(&staff).unwrap();
    let public = std::fs::read_to_string(&public).unwrap();
    // The staff report shows the exact small counts: the check below can fail.
    assert!(!small(&report_counts(&staff)).is_empty(), "{:?}", report_counts(&staff));
    let shown = report_counts(&public);
    assert!(shown.len() >= 3, "{shown:?}");
    assert!(small(&shown).is_empty(), "the public report shows small counts: {shown:?}");
    assert!(shown.iter().any(|c| c == "&lt;5"), "{shown:?}");
    assert!(public.contains("Fewer than 5 community reports were received"), "the summary says it in words");
    for html in [&staff, &public] {
        assert!(html.starts_with("<!doctype html>") && html.contains("<svg"), "self-contained with inline charts");
        for outside in ["http://", "https://", "src=", "<link", "@import", "url("] {
            assert!(!html.contains(outside), "{outside} in the report");
        }
    }
    // The warnings of 2023 with the staff note.
    let staff_2023 = dir.path().join("staff-2023.html");
    let public_2023 = dir.path().join("public-2023.html");
    let period = ["--from", "2023-01", "--to", "2023-03", "--format", "html"];
    sitrep(&db, &staff_2023, &[&period[..], &["--audience", "staff"]].concat());
    sitrep(&db, &public_2023, &[&period[..], &["--audience", "public"]].concat());
    let staff_2023 = std::fs::read_to_string(&staff_2023).unwrap();
    let public_2023 = std::fs::read_to_string(&public_2023).unwrap();
    assert!(staff_2023.contains(NOTE), "the staff report carries the note");
    assert!(staff_2023.contains("not yet known"), "2023 is past the data");
    assert!(!public_2023.contains(NOTE) && !public_2023.contains("analyst1"), "no staff note in public");
    assert!(public_2023.contains("forecast threshold"), "the public still sees forecast warnings");
}

#[test]
fn the_pdf_parses_and_renders_to_pages_with_ink() {
    let dir = tempfile::tempdir().unwrap();
    let db = site(dir.path());
    let pdf = dir.path().join("r.pdf");
    sitrep(&db, &pdf, &["--from", "2020-01", "--to", "2020-12", "--area", "CF32", "--format", "pdf"]);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.ends_with(b"%%EOF") || bytes.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/FontFile2") && text.contains("/Identity-H"), "the font is embedded");
    assert!(text.contains("/MediaBox [0 0 595.28 841.89]"), "A4");
    let pages = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
    assert!(text.matches("/Type /Page").count() >= 3, "{pages} pages"); // the tree and >= 2 pages
    // An unknown area is refused by name.
    let out = vitalcore(
        &db,
        &["sitrep", "--from", "2020-01", "--to", "2020-12", "--area", "XX9", "--format", "pdf", "--out", "x.pdf"],
    );
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("XX9"));
    // Rendered by poppler where it is installed (apt-get install poppler-utils).
    let Ok(status) = Command::new("pdftoppm").arg("-v").output() else {
        eprintln!("pdftoppm not installed: the PDF was checked for structure only");
        return;
    };
    assert!(status.status.success() || !status.stderr.is_empty());
    let prefix = dir.path().join("page");
    let rendered = Command::new("pdftoppm").args(["-r", "40", "-gray"]).arg(&pdf).arg(&prefix).output().unwrap();
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pgm"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "{} pages rendered", pages.len());
    for page in &pages {
        let data = std::fs::read(page).unwrap();
        // P5 header: magic, width, height, maxval, then the pixels.
        let pixels = pgm_pixels(&data);
        let ink = pixels.iter().filter(|&&v| v < 200).count();
        assert!(ink * 1000 > pixels.len(), "{} is blank ({ink} dark pixels)", page.display());
    }
}

/// The section headings of an English report (written here, not read from
/// the message table, so a French report that falls back to English fails).
const ENGLISH_HEADINGS: [&str; 9] = [
    "Summary",
    "Map and most threatened areas",
    "Priority threats",
    "Trends by dimension and theme",
    "Early warnings and what followed",
    "Alerts and responses",
    "How far to trust the outlook",
    "Data sources and caveats",
    "Method",
];

const FRENCH_HEADINGS: [&str; 9] = [
    "Résumé",
    "Carte et zones les plus menacées",
    "Menaces prioritaires",
    "Tendances par dimension et par thème",
    "Alertes précoces et leurs suites",
    "Alertes et réponses",
    "Quelle confiance accorder aux prévisions",
    "Sources de données et limites",
    "Méthode",
];

#[test]
fn the_french_sitrep_speaks_french_in_html_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let db = site(dir.path());
    let (en, fr) = (dir.path().join("en.html"), dir.path().join("fr.html"));
    let period = ["--from", "2020-01", "--to", "2020-06", "--format", "html"];
    sitrep(&db, &en, &period);
    sitrep(&db, &fr, &[&period[..], &["--lang", "fr"]].concat());
    let (en, fr) = (std::fs::read_to_string(&en).unwrap(), std::fs::read_to_string(&fr).unwrap());
    let h2 = |html: &str, h: &str| html.contains(&format!("<h2>{h}</h2>"));
    // The English report has the English headings, so the checks below can fail.
    for h in ENGLISH_HEADINGS {
        assert!(h2(&en, h), "English report lacks {h}");
        assert!(!h2(&fr, h), "French report has the English heading {h}");
    }
    for h in FRENCH_HEADINGS {
        assert!(h2(&fr, h), "French report lacks {h}");
    }
    assert!(fr.contains("<html lang=\"fr\">") && en.contains("<html lang=\"en\">"));
    assert!(
        fr.contains("Rapport de situation : l&#39;ensemble des zones, janvier 2020 à juin 2020")
            || fr.contains("Rapport de situation : l'ensemble des zones, janvier 2020 à juin 2020"),
        "title with month names"
    );
    assert!(fr.contains("Sur la période janvier 2020 à juin 2020"), "the generated sentences are French");
    assert!(en.contains("From 2020-01 to 2020-06"), "English keeps its wording");
    assert!(fr.contains("Chaque événement est lu"), "the method is French");
    // Scores with a decimal comma in French, a point in English.
    assert!(
        fr.contains("(critique ")
            && fr
                .split("(critique ")
                .nth(1)
                .is_some_and(|r| r.chars().nth(1) == Some(',') || r.chars().nth(2) == Some(',')),
        "decimal comma"
    );
    assert!(!fr.contains("Made by vitalcore") && fr.contains("Produit par vitalcore"));
    for outside in ["http://", "https://", "src=", "<link", "url("] {
        assert!(!fr.contains(outside), "{outside} in the French report");
    }
    // The PDF in French renders, and its text (where poppler is installed) is French.
    let pdf = dir.path().join("fr.pdf");
    sitrep(&db, &pdf, &["--from", "2020-01", "--to", "2020-12", "--area", "CF32", "--format", "pdf", "--lang", "fr"]);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    match Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-").output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            for h in ["Résumé", "Menaces prioritaires", "Méthode", "page 1 sur", "Rapport de situation"] {
                assert!(text.contains(h), "the French PDF lacks {h}");
            }
            for h in ["page 1 of", "Priority threats", "Made by vitalcore"] {
                assert!(!text.contains(h), "the French PDF says {h}");
            }
        }
        _ => eprintln!("pdftotext not installed: the French PDF was checked for structure only"),
    }
    // A language without a table is refused before anything is written.
    let out = vitalcore(
        &db,
        &["sitrep", "--from", "2020-01", "--to", "2020-06", "--format", "html", "--lang", "de", "--out", "x.html"],
    );
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("de"));
}

fn pgm_pixels(data: &[u8]) -> &[u8] {
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    &data[i + 1..]
}

/// With resolutions stored (`mandate import`), the report has a mandate
/// coverage section: UNMIL's mandate in force in August 2014 and health,
/// the priority threat of the synthetic Ebola table, uncovered; without
/// them, no such section.
#[test]
fn the_sitrep_says_which_priority_threats_the_mandate_in_force_leaves_uncovered() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = manifest.join("tests/fixtures/ebola_2014_synthetic.csv");
    ok(vitalcore(&db, &["import", table.to_str().unwrap()]));
    let out = dir.path().join("before.html");
    sitrep(&db, &out, &["--from", "2014-08", "--to", "2014-08", "--format", "html"]);
    assert!(!std::fs::read_to_string(&out).unwrap().contains("Mandate coverage"), "nothing stored, no section");
    let akn = manifest.join("../mandate/tests/fixtures/akn");
    ok(vitalcore(&db, &["mandate", "import", akn.to_str().unwrap()]));
    let out = dir.path().join("s.html");
    sitrep(&db, &out, &["--from", "2014-08", "--to", "2014-08", "--format", "html"]);
    let html = std::fs::read_to_string(&out).unwrap();
    let at = html.find("<h2>Mandate coverage</h2>").expect("the section");
    let section = &html[at..at + html[at..].find("<h2>How far").unwrap()];
    let row = section.find("<td>UNMIL</td>").map(|i| &section[i..]).expect("UNMIL's row");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("S/RES/2116 (2013) (2013-09-18)") && row.contains("<td>health</td>"), "{row}");
    assert!(!section.contains("MINUSMA"), "no threat observed in Mali in August: {section}");
}
