//! vitalcore-risk-index: INFORM reproduction on a committed excerpt, hand-computed
//! trees, validation messages, and the local index.

use std::collections::BTreeMap;
use std::path::PathBuf;

use vitalcore_risk_index::inform::{InformData, reproduce};
use vitalcore_risk_index::local::{read_area_table, read_hazard_table};
use vitalcore_risk_index::{Inputs, Tree, local_risk};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn inputs(pairs: &[(&str, f64)]) -> Inputs {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn inform_excerpt_reproduces_published_scores() {
    let dir = fixture("inform-2023");
    let data = InformData::from_csv_excerpt(&dir.join("indicators.csv"), &dir.join("published.csv")).unwrap();
    assert_eq!(data.countries.len(), 10);
    let rep = reproduce(&Tree::inform_2023(), &data);
    for c in &rep.countries {
        for (k, v) in &c.computed {
            let (v, p) = (v.expect("computed"), c.published[k].expect("published"));
            assert!((v - p).abs() <= 0.1 + 1e-9, "{} {k}: computed {v}, published {p}", c.iso3);
        }
    }
    assert!(rep.max_abs_diff <= 0.1, "{}", rep.max_abs_diff);
    // every published component column (Natural, Epidemic, Uprooted people, ...) too
    assert!(rep.components.len() >= 30, "{}", rep.components.len());
    for comp in &rep.components {
        assert!(comp.max_abs_diff <= 0.1 + 1e-9 && comp.presence_mismatches == 0, "{comp:?}");
    }
    // spot values from the workbook's SOURCE notes: CAF 8.5, SOM 8.7, SSD 8.5, COD 7.6
    let risk = |iso: &str| rep.countries.iter().find(|c| c.iso3 == iso).unwrap().computed["risk"].unwrap();
    assert_eq!((risk("CAF"), risk("SOM"), risk("SSD"), risk("COD")), (8.5, 8.7, 8.5, 7.6));
}

#[test]
fn inform_explanation_lists_missing_inputs() {
    let dir = fixture("inform-2023");
    let data = InformData::from_csv_excerpt(&dir.join("indicators.csv"), &dir.join("published.csv")).unwrap();
    let tree = Tree::inform_2023();
    let som = data.countries.iter().find(|c| c.iso3 == "SOM").unwrap();
    let eval = tree.evaluate(som.inputs.clone());
    // Somalia has no HDI in the workbook: it is estimated from GDP per capita
    assert!(eval.missing_inputs("VU.SEV.HDI").contains(&"HDI".to_string()));
    assert!(eval.value("VU.SEV.HDI").is_some());
    let text = eval.explain("INFORM").unwrap().render();
    assert!(text.starts_with("INFORM (INFORM RISK) = 8.70"), "{text}");
    assert!(text.contains("missing: HDI"), "{text}");
}

const SMALL_TREE: &str = r#"
[index]
name = "small"
root = "total"
outputs = ["a_score", "b_score"]

[[input]]
id = "a"
[[input]]
id = "b"
[[input]]
id = "pop"

[[node]]
id = "a_score"
kind = "scale"
input = "a"
log10 = true
min = 1
max = 5
when_zero = 0

[[node]]
id = "b_score"
kind = "scale"
input = "b / pop * 100"
min = 0
max = 50
invert = true

[[node]]
id = "total"
kind = "aggregate"
method = "inform_geometric"
children = ["a_score", "b_score"]
"#;

#[test]
fn small_tree_matches_hand_computation() {
    let tree = Tree::from_toml(SMALL_TREE, "small.toml").unwrap();
    // a = 1000 -> log10 3 -> (3-1)/(5-1)*10 = 5; b/pop*100 = 10 -> inverted (50-10)/50*10 = 8
    // total = (10 - sqrt(((10-5)/10*9+1) * ((10-8)/10*9+1))) / 9 * 10
    //       = (10 - sqrt(5.5 * 2.8)) / 9 * 10 = (10 - 3.924283) / 9 * 10 = 6.750797
    let eval = tree.evaluate(inputs(&[("a", 1000.0), ("b", 10.0), ("pop", 100.0)]));
    assert!((eval.value("a_score").unwrap() - 5.0).abs() < 1e-9);
    assert!((eval.value("b_score").unwrap() - 8.0).abs() < 1e-9);
    assert!((eval.root().unwrap() - 6.750797).abs() < 1e-5, "{:?}", eval.root());
    // a missing: skipped by the aggregation, reported as missing
    let eval = tree.evaluate(inputs(&[("b", 10.0), ("pop", 100.0)]));
    assert!((eval.root().unwrap() - 8.0).abs() < 1e-9);
    assert_eq!(eval.missing_inputs("total"), vec!["a"]);
    // a = 0 scores `when_zero`
    let eval = tree.evaluate(inputs(&[("a", 0.0)]));
    assert_eq!(eval.value("a_score"), Some(0.0));
    assert_eq!(eval.missing_inputs("total"), vec!["b", "pop"]);
}

fn tree_error(text: &str) -> String {
    Tree::from_toml(text, "bad.toml").unwrap_err().to_string()
}

#[test]
fn validation_errors_name_the_node_key_and_fix() {
    let e = tree_error(
        &SMALL_TREE.replace("children = [\"a_score\", \"b_score\"]", "children = [\"a_scor\", \"b_score\"]"),
    );
    assert!(
        e.contains("bad.toml: node \"total\", key `children`")
            && e.contains("\"a_scor\"")
            && e.contains("did you mean \"a_score\""),
        "{e}"
    );

    let e = tree_error(&SMALL_TREE.replace("min = 0\nmax = 50", "min = 50\nmax = 0"));
    assert!(e.contains("node \"b_score\", key `min`") && e.contains("invert = true"), "{e}");

    let e = tree_error(&SMALL_TREE.replace("input = \"b / pop * 100\"", "input = \"b / * 100\""));
    assert!(e.contains("node \"b_score\", key `input`") && e.contains("cannot read the expression"), "{e}");

    let e = tree_error(&SMALL_TREE.replace("method = \"inform_geometric\"", "method = \"inform_geometric\"\nmin = 3"));
    assert!(e.contains("`min` has no meaning for a node of kind \"aggregate\""), "{e}");

    let e = tree_error(&SMALL_TREE.replace("input = \"a\"", "input = \"total\""));
    assert!(
        e.contains("circle") && (e.contains("total -> a_score -> total") || e.contains("a_score -> total -> a_score")),
        "{e}"
    );

    let e = tree_error(&SMALL_TREE.replace("log10 = true", "log = true"));
    assert!(e.contains("bad.toml") && e.contains("unknown field `log`"), "{e}");

    let e = tree_error(&SMALL_TREE.replace("root = \"total\"", "root = \"totl\""));
    assert!(e.contains("\"totl\"") && e.contains("root"), "{e}");

    let e = tree_error(
        &SMALL_TREE
            .replace("children = [\"a_score\", \"b_score\"]", "children = [\"a_score\", \"b_score\"]\nweights = [1]"),
    );
    assert!(e.contains("key `weights`") && e.contains("one weight per child"), "{e}");
}

#[test]
fn local_risk_combines_hazard_vulnerability_and_coping() {
    let tree = Tree::local_default();
    let mut indicators = BTreeMap::new();
    // poverty 40% of 0..80 -> 5.0; admin presence 50% inverted over 0..100 -> 5.0;
    // everything else missing and skipped: vulnerability 5, coping 5, risk (5*5*5)^(1/3) = 5
    indicators.insert("CF11".to_string(), inputs(&[("poverty_pct", 40.0), ("admin_presence_pct", 50.0)]));
    indicators.insert("CF12".to_string(), inputs(&[("poverty_pct", 80.0), ("admin_presence_pct", 50.0)]));
    let hazard: BTreeMap<String, f64> =
        [("CF11".to_string(), 5.0), ("CF12".to_string(), 5.0), ("CF13".to_string(), 2.0)].into();
    let scores = local_risk(&tree, &indicators, &hazard);
    assert_eq!(scores.len(), 3);
    let s = &scores[0];
    assert_eq!(s.area, "CF11");
    assert!((s.components["vulnerability"].unwrap() - 5.0).abs() < 1e-9);
    assert!((s.components["coping"].unwrap() - 5.0).abs() < 1e-9);
    assert!((s.risk.unwrap() - 5.0).abs() < 1e-9, "{s:?}");
    assert!(s.missing_inputs.contains(&"idps".to_string()) && !s.missing_inputs.contains(&"poverty_pct".to_string()));
    // more poverty, same hazard and coping: higher risk; (5*10*5)^(1/3) = 6.2996
    assert!((scores[1].risk.unwrap() - 250f64.cbrt()).abs() < 1e-9);
    // hazard only: no vulnerability or coping, so no risk score
    assert_eq!(scores[2].risk, None);
}

#[test]
fn local_tables_read_names_hxl_tags_and_report_bad_cells() {
    let tree = Tree::local_default();
    let csv = "admin1Name,admin1Pcode,Population,IDPs,poverty_pct\n\
               ,#adm1+code,#population,#affected+idps,\n\
               Bamingui,CF11,50000,5000,40\n\
               Bangui,CF71,900000,n/a,30\n";
    let table = read_area_table(csv.as_bytes(), "areas.csv", &tree).unwrap();
    assert_eq!(table.areas["CF11"], inputs(&[("population", 50000.0), ("idps", 5000.0), ("poverty_pct", 40.0)]));
    assert_eq!(table.areas["CF71"].get("idps"), None);
    assert_eq!(table.warnings.len(), 1);
    assert!(
        table.warnings[0].contains("areas.csv, line 4, column \"IDPs\"") && table.warnings[0].contains("\"n/a\""),
        "{:?}",
        table.warnings
    );

    let hazard = read_hazard_table("pcode,hazard\nCF11,6.5\n".as_bytes(), "hazard.csv").unwrap();
    assert_eq!(hazard["CF11"], 6.5);
    let e = read_area_table("name,poverty_pct\nx,1\n".as_bytes(), "nopcode.csv", &tree).unwrap_err().to_string();
    assert!(e.contains("no P-code column"), "{e}");
}
