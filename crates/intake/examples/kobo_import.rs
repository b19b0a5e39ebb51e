//! Imports a KoBo/ODK export with a mapping file and prints what happened:
//! rows read, reports made, rejections grouped by field and reason.
//!
//! cargo run -p vitalcore-intake --example kobo_import -- [EXPORT.csv|.xlsx] [MAPPING.toml] [FORM.xlsx | SURVEY.csv CHOICES.csv]
//!
//! Defaults (from the repository root): the REACH cleaningtools export, its
//! XLSForm sheets, and `crates/intake/data/kobo/reach-cleaningtools.toml`.
//! Pass `-` as the form to import without it.

use std::collections::{BTreeMap, HashSet};
use vitalcore_intake::kobo::{KoboMapping, import_csv, import_xlsx};
use vitalcore_intake::xlsform::FormLabels;
use vitalcore_intake::{CategoryMap, ContactKey, Intake};

fn main() {
    let mut args = std::env::args().skip(1);
    let export =
        args.next().unwrap_or_else(|| "../shared/datasets/kobo-reach-cleaningtools/cleaningtools_raw_data.csv".into());
    let mapping_path = args.next().unwrap_or_else(|| "crates/intake/data/kobo/reach-cleaningtools.toml".into());
    let data = std::fs::read(&export).unwrap_or_else(|e| fail(&format!("{export}: {e}")));
    let mapping_text = std::fs::read_to_string(&mapping_path).unwrap_or_else(|e| fail(&format!("{mapping_path}: {e}")));
    let categories = CategoryMap::built_in();
    let mut mapping = KoboMapping::from_toml(&mapping_text, &categories).unwrap_or_else(|e| fail(&e.to_string()));
    let dir = "../shared/datasets/kobo-reach-cleaningtools";
    let form_arg = args.next().unwrap_or_else(|| format!("{dir}/cleaningtools_survey.csv"));
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| fail(&format!("{p}: {e}")));
    let form = if form_arg == "-" {
        None
    } else if form_arg.ends_with(".xlsx") {
        Some(FormLabels::from_xlsx(&read(&form_arg)))
    } else {
        let choices = args.next().unwrap_or_else(|| format!("{dir}/cleaningtools_choices.csv"));
        Some(FormLabels::from_csv(&read(&form_arg), &read(&choices)))
    };
    if let Some(form) = form {
        let form = form.unwrap_or_else(|e| fail(&e.to_string()));
        mapping = mapping.with_xlsform(form).unwrap_or_else(|e| fail(&e.to_string()));
    }
    let (key, _) = ContactKey::generate().unwrap_or_else(|e| fail(&e.to_string()));
    let intake = Intake::new(key, categories);
    let now = jiff::Timestamp::now();
    let started = std::time::Instant::now();
    let out = if export.ends_with(".xlsx") {
        import_xlsx(&data, &export, &mapping, &intake, &HashSet::new(), now)
    } else {
        import_csv(&data, &export, &mapping, &intake, &HashSet::new(), now)
    }
    .unwrap_or_else(|e| fail(&e.to_string()));
    let elapsed = started.elapsed();
    println!(
        "{export}: {} rows, {} reports, {} rejected, {} already seen ({:.1} ms)",
        out.rows,
        out.reports.len(),
        out.rejected.len(),
        out.already_seen.len(),
        elapsed.as_secs_f64() * 1e3
    );
    let mut reasons: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for e in &out.rejected {
        reasons.entry((e.field.clone(), e.reason.clone())).or_default().push(e.line);
    }
    for ((field, reason), lines) in reasons {
        let shown: Vec<String> = lines.iter().take(8).map(u64::to_string).collect();
        let more = if lines.len() > 8 { ", ..." } else { "" };
        println!("  {:>5} x {field}: {reason} (lines {}{more})", lines.len(), shown.join(", "));
    }
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for r in &out.reports {
        *categories.entry(r.category.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
    }
    println!("  categories: {categories:?}");
    for r in out.reports.iter().take(3) {
        println!("  e.g. {} [{}] {}", r.reference, r.place.name.as_deref().unwrap_or("-"), r.text);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
