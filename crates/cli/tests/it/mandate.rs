//! `vitalcore mandate tag` and `vitalcore mandate trend` driven as a user
//! would, on resolutions cut from the UN corpus (crates/mandate/tests/fixtures).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn akn() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mandate/tests/fixtures/akn")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the binary runs")
}

fn ok(out: Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}\n{stdout}");
    (stdout, stderr)
}

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "should fail: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "nothing half-printed: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mandate_tag_json_follows_the_contract() {
    let dir = akn();
    let (stdout, stderr) = ok(run(&["mandate", "tag", dir.to_str().unwrap(), "--format", "json"]));
    assert!(stderr.contains("S/PRST/2020/11") && stderr.contains("counted once"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let res = v["resolutions"].as_array().unwrap();
    assert_eq!(res.len(), 8);
    let r = res.iter().find(|r| r["number"] == 2100).unwrap();
    assert_eq!(r["symbol"], "S/RES/2100 (2013)");
    assert_eq!(r["date"], "2013-04-25");
    assert_eq!(r["year"], 2013);
    assert_eq!(r["missions"][0], "MINUSMA");
    let paras = r["paragraphs"].as_array().unwrap();
    assert_eq!(paras[0]["kind"], "preamble");
    let p16 = paras.iter().find(|p| p["num"] == "16").unwrap();
    assert_eq!(p16["eid"], "para_146");
    assert_eq!(p16["kind"], "operative");
    assert_eq!(p16["strength"], "decides");
    for key in ["text", "tasks", "dimensions", "themes", "points"] {
        assert!(!p16[key].is_null(), "{key} missing");
    }
    let a = &p16["points"][0];
    assert_eq!(a["num"], "(a)");
    assert_eq!(a["eid"], "para_146_list_point_a");
    let i = &a["points"][0];
    assert_eq!(i["num"], "(i)");
    assert_eq!(i["tasks"], serde_json::json!(["stabilization"]));
    for key in ["eid", "text", "tasks", "dimensions", "themes", "points"] {
        assert!(!i[key].is_null(), "point {key} missing");
    }
    let poc = &p16["points"][2]["points"][0];
    assert_eq!(poc["tasks"], serde_json::json!(["protection_of_civilians"]));
    assert_eq!(poc["dimensions"], serde_json::json!(["personal"]));
    assert_eq!(poc["themes"], serde_json::json!(["protection_of_civilians"]));

    // one file, and the table
    let file = dir.join("Pre-2020/2014/S_RES_2177_1461236E.xml");
    let (table, _) = ok(run(&["mandate", "tag", file.to_str().unwrap()]));
    assert!(table.contains("S/RES/2177 (2014)") && table.contains("public_health"), "{table}");
}

#[test]
fn mandate_trend_json_follows_the_contract() {
    let dir = akn();
    let (stdout, _) =
        ok(run(&["mandate", "trend", dir.to_str().unwrap(), "--term", "stabiliz", "--by", "year", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["term"], "stabiliz");
    let rows = v["rows"].as_array().unwrap();
    let years: Vec<i64> = rows.iter().map(|r| r["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2000, 2013, 2014, 2019]);
    let y2013 = &rows[1];
    assert_eq!(y2013["resolutions"], 2);
    assert_eq!(y2013["with_term"], 2);
    assert_eq!(y2013["share"], 1.0);
    assert_eq!(y2013["share_operative"], 1.0);
    assert_eq!(rows[3]["resolutions"], 1, "2464 is in the folder twice, counted once");
    let (stdout, _) =
        ok(run(&["mandate", "trend", dir.to_str().unwrap(), "--term", "stabiliz", "--by", "band", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["rows"].as_array().unwrap().iter().any(|r| r["band"] == "2012-2014" && r["resolutions"] == 5), "{v}");
}

#[test]
fn mandate_bad_input_names_the_file_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, "<akomaNtoso><statement><mainBody>").unwrap();
    let err = fails(run(&["mandate", "tag", broken.to_str().unwrap(), "--format", "json"]));
    assert!(err.contains("broken.xml: malformed XML at line 1") && err.contains("Akoma Ntoso"), "{err}");

    let html = dir.path().join("page.xml");
    std::fs::write(&html, "<html><body/></html>").unwrap();
    let err = fails(run(&["mandate", "tag", html.to_str().unwrap(), "--format", "json"]));
    assert!(err.contains("page.xml: not an Akoma Ntoso document") && err.contains("expected <akomaNtoso>"), "{err}");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = fails(run(&["mandate", "tag", empty.to_str().unwrap()]));
    assert!(err.contains("empty: no .xml file") && err.contains("expected Akoma Ntoso resolutions"), "{err}");
    let err = fails(run(&["mandate", "trend", empty.to_str().unwrap(), "--term", "stabiliz"]));
    assert!(err.contains("no .xml file"), "{err}");

    let err = fails(run(&["mandate", "trend", akn().to_str().unwrap(), "--term", "", "--format", "json"]));
    assert!(err.contains("the term is empty"), "{err}");

    // a folder with one unreadable file fails naming it; --keep-going tags the rest and still fails
    let good = dir.path().join("mixed");
    std::fs::create_dir(&good).unwrap();
    std::fs::copy(akn().join("Pre-2020/2014/S_RES_2176_1460946E.xml"), good.join("a.xml")).unwrap();
    std::fs::copy(&html, good.join("z.xml")).unwrap();
    let err = fails(run(&["mandate", "tag", good.to_str().unwrap(), "--format", "json"]));
    assert!(err.contains("1 of 2 files could not be read") && err.contains("z.xml"), "{err}");
    let out = run(&["mandate", "tag", good.to_str().unwrap(), "--format", "json", "--keep-going"]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["resolutions"][0]["number"], 2176);
    assert!(String::from_utf8_lossy(&out.stderr).contains("z.xml"));
}

#[test]
fn mandate_mission_timeline() {
    let dir = akn();
    let (stdout, _) = ok(run(&["mandate", "mission", "UNMIL", dir.to_str().unwrap(), "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["mission"], "UNMIL");
    let steps = v["resolutions"].as_array().unwrap();
    let s2176 = steps.iter().find(|s| s["symbol"] == "S/RES/2176 (2014)").unwrap();
    assert_eq!(s2176["kind"], "adds");
    for key in ["tasks", "dimensions", "themes", "added", "dropped"] {
        assert!(!s2176[key].is_null(), "{key}");
    }
    let err = fails(run(&["mandate", "mission", "NOSUCH", dir.to_str().unwrap()]));
    assert!(err.contains("no mission \"NOSUCH\"") && err.contains("MINUSMA"), "{err}");
}

fn with_db(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitalcore"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("VITALCORE_DATABASE_URL")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the binary runs")
}

/// A database holding the synthetic Ebola indicator table (LBR August to October 2014, MLI October 2014).
fn ebola_db(dir: &Path) -> PathBuf {
    let db = dir.join("gaps.db");
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ebola_2014_synthetic.csv");
    let (stdout, _) = ok(with_db(&db, &["import", table.to_str().unwrap()]));
    assert!(stdout.contains("5 rows read = 5 imported"), "{stdout}");
    db
}

#[test]
fn mandate_gaps_names_health_uncovered_in_liberia_in_2014_and_the_resolution_that_adds_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = ebola_db(dir.path());
    let akn = akn();
    let (json, _) = ok(with_db(
        &db,
        &["mandate", "gaps", "--mission", "UNMIL", "--month", "2014-08", akn.to_str().unwrap(), "--format", "json"],
    ));
    let g: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(g["mission"], "UNMIL");
    assert_eq!(g["countries"], serde_json::json!(["LBR"]));
    // The latest resolution mandating UNMIL (2116, September 2013: "Decides
    // that the mandate of UNMIL shall be extended"), not MINUSMA's 2164 of
    // June 2014, which only names UNMIL (inter-mission cooperation).
    assert_eq!(g["in_force"]["symbol"], "S/RES/2116 (2013)");
    assert_eq!(g["in_force"]["mandating"], serde_json::json!(["1", "5"]));
    let health = g["threats"].as_array().unwrap().iter().find(|t| t["id"] == "health").expect("health observed");
    assert_eq!(health["priority"], true);
    assert_eq!(health["covered"], false);
    assert_eq!(health["indicators"], 2, "the two Liberian counties, not the Malian row");
    let u = &g["uncovered"][0];
    assert_eq!((u["kind"].as_str(), u["id"].as_str()), (Some("dimension"), Some("health")));
    assert_eq!(u["later"]["symbol"], "S/RES/2177 (2014)");
    assert_eq!(u["later"]["tasks"], serde_json::json!(["public_health"]));
    // 2177 names UNMIL (its air shuttle) but does not mandate it.
    assert_eq!(
        (u["later"]["names_mission"].as_bool(), u["later"]["mandates_mission"].as_bool()),
        (Some(true), Some(false))
    );
    // The same by country, as a table.
    let (table, _) =
        ok(with_db(&db, &["mandate", "gaps", "--country", "LBR", "--month", "2014-08", akn.to_str().unwrap()]));
    assert!(
        table.contains("uncovered priority threat: dimension health: first covered by S/RES/2177 (2014)"),
        "{table}"
    );
    assert!(table.contains("(public_health; names the mission, does not mandate it)"), "{table}");
}

#[test]
fn mandate_gaps_keeps_health_uncovered_through_the_technical_extension() {
    let dir = tempfile::tempdir().unwrap();
    let db = ebola_db(dir.path());
    let akn = akn();
    // October 2014: 2176 (15 September, "Decides to extend the mandate of
    // UNMIL until 31 December 2014") is in force and adds no task; 2177
    // (18 September, Ebola) gives public health but names UNMIL only to
    // thank Ghana for its air shuttle: it does not mandate UNMIL.
    let (json, _) = ok(with_db(
        &db,
        &["mandate", "gaps", "--country", "LBR", "--month", "2014-10", akn.to_str().unwrap(), "--format", "json"],
    ));
    let g: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(g["mission"], "UNMIL");
    assert_eq!(g["in_force"]["symbol"], "S/RES/2176 (2014)");
    assert_eq!(g["in_force"]["added"]["tasks"], serde_json::json!([]));
    let health = g["threats"].as_array().unwrap().iter().find(|t| t["id"] == "health").unwrap();
    assert_eq!((health["priority"].as_bool(), health["covered"].as_bool()), (Some(true), Some(false)));
    assert_eq!(g["uncovered"][0]["later"]["symbol"], "S/RES/2177 (2014)");
    // MINUSMA in Mali the same month: 2164 gives humanitarian relief (food first), not public health.
    let (json, _) = ok(with_db(
        &db,
        &["mandate", "gaps", "--mission", "MINUSMA", "--month", "2014-10", akn.to_str().unwrap(), "--format", "json"],
    ));
    let g: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(g["in_force"]["symbol"], "S/RES/2164 (2014)");
    assert_eq!(g["uncovered"][0]["id"], "health");
    assert_eq!(g["uncovered"][0]["later"]["names_mission"], false);
    let idle = g["tasks_without_threat"].as_array().unwrap();
    assert!(idle.iter().any(|t| t == "elections") && !idle.iter().any(|t| t == "humanitarian_relief"), "{idle:?}");
    // No threat stored for another month: nothing observed, nothing uncovered.
    let (table, _) =
        ok(with_db(&db, &["mandate", "gaps", "--mission", "MINUSMA", "--month", "2014-07", akn.to_str().unwrap()]));
    assert!(table.contains("uncovered priority threats: none"), "{table}");
}

#[test]
fn mandate_import_stores_once_and_gaps_read_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = ebola_db(dir.path());
    let akn = akn();
    let a = akn.to_str().unwrap();
    let (out, _) = ok(with_db(&db, &["mandate", "import", a, "--by", "analyst.one"]));
    assert!(out.contains("10 files: 8 resolutions stored") && out.contains("8 new, 0 replaced, 0 unchanged"), "{out}");
    let (out, _) = ok(with_db(&db, &["mandate", "import", a]));
    assert!(out.contains("0 new, 0 replaced, 8 unchanged"), "importing twice changes nothing: {out}");
    // Gaps and the timeline from the database are those from the files.
    for (mission, month) in [("UNMIL", "2014-08"), ("UNMIL", "2014-10"), ("MINUSMA", "2014-10")] {
        let args = ["mandate", "gaps", "--mission", mission, "--month", month, "--format", "json"];
        let (stored, _) = ok(with_db(&db, &args));
        let (files, _) = ok(with_db(&db, &[&args[..], &[a]].concat()));
        assert_eq!(stored, files, "{mission} {month}");
    }
    let (stored, _) = ok(with_db(&db, &["mandate", "mission", "UNMIL", "--format", "json"]));
    let (files, _) = ok(with_db(&db, &["mandate", "mission", "UNMIL", a, "--format", "json"]));
    assert_eq!(stored, files);
    let (table, _) = ok(with_db(&db, &["mandate", "gaps", "--mission", "UNMIL", "--month", "2014-08"]));
    assert!(table.contains("mandate in force S/RES/2116 (2013)"), "{table}");
    let err = fails(with_db(&db, &["mandate", "gaps", "--mission", "UNMIL", "--month", "2001-08"]));
    assert!(err.contains("no resolution in the database mandates UNMIL on or before 2001-08"), "{err}");
}

#[test]
fn mandate_import_of_an_unreadable_file_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    std::fs::copy(akn().join("Pre-2020/2013/S_RES_2100_1331417e.xml"), files.join("2100.xml")).unwrap();
    std::fs::write(files.join("notes.xml"), "<html><body>not a resolution</body></html>").unwrap();
    let f = files.to_str().unwrap();
    let err = fails(with_db(&db, &["mandate", "import", f]));
    assert!(err.contains("1 of 2 files could not be read") && err.contains("notes.xml"), "{err}");
    let err = fails(with_db(&db, &["mandate", "mission", "MINUSMA"]));
    assert!(err.contains("no resolution is stored"), "nothing stored from a failing run: {err}");
    // --keep-going stores the readable one, and still fails naming the other.
    let out = with_db(&db, &["mandate", "import", f, "--keep-going"]);
    assert!(!out.status.success());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 new"), "{stdout}");
    assert!(stderr.contains("notes.xml") && stderr.contains("the others were stored"), "{stderr}");
    let (timeline, _) = ok(with_db(&db, &["mandate", "mission", "MINUSMA"]));
    assert!(timeline.contains("S/RES/2100 (2013)"), "{timeline}");
    // A resolution whose text changed is replaced.
    let text = std::fs::read_to_string(files.join("2100.xml")).unwrap();
    assert!(text.contains("Decides"));
    std::fs::write(files.join("2100.xml"), text.replacen("Decides", "Further decides", 1)).unwrap();
    std::fs::remove_file(files.join("notes.xml")).unwrap();
    let (out, _) = ok(with_db(&db, &["mandate", "import", f]));
    assert!(out.contains("0 new, 1 replaced, 0 unchanged"), "{out}");
}

#[test]
fn mandate_gaps_explains_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = ebola_db(dir.path());
    let akn = akn();
    let a = akn.to_str().unwrap();
    let err = fails(with_db(&db, &["mandate", "gaps", "--mission", "NOPE", "--month", "2014-08", a]));
    assert!(err.contains("no mission \"NOPE\"") && err.contains("UNMIL"), "{err}");
    let err = fails(with_db(&db, &["mandate", "gaps", "--country", "FRA", "--month", "2014-08", a]));
    assert!(err.contains("\"FRA\"") && err.contains("LBR"), "{err}");
    let err = fails(with_db(&db, &["mandate", "gaps", "--mission", "UNMIL", "--month", "2014-13", a]));
    assert!(err.contains("2014-13") && err.contains("YYYY-MM"), "{err}");
    let err = fails(with_db(&db, &["mandate", "gaps", "--mission", "UNMIL", "--month", "2001-08", a]));
    assert!(err.contains("no resolution in the files mandates UNMIL on or before 2001-08"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err =
        fails(with_db(&db, &["mandate", "gaps", "--mission", "UNMIL", "--month", "2014-08", empty.to_str().unwrap()]));
    assert!(err.contains("no .xml file") && err.contains("empty"), "{err}");
    let err = fails(with_db(&db, &["mandate", "gaps", "--month", "2014-08", a]));
    assert!(err.contains("--mission") && err.contains("--country"), "{err}");
}
