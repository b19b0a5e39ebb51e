//! Recompute INFORM Risk 2023 from the workbook and print the differences
//! (the same as `vitalcore index inform`, without the CLI):
//! `cargo run -p vitalcore-risk-index --example inform_check -- [WORKBOOK.xlsx] [ISO3]`
use std::path::PathBuf;

use vitalcore_risk_index::Tree;
use vitalcore_risk_index::inform::{InformData, reproduce};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| "../shared/datasets/inform-risk-2023/INFORM_Risk_2023__v065.xlsx".into());
    let tree = Tree::inform_2023();
    let data = InformData::from_workbook(&path)?;
    if let Some(iso) = args.next() {
        let c = data.countries.iter().find(|c| c.iso3 == iso).ok_or("no such country")?;
        let eval = tree.evaluate(c.inputs.clone());
        print!("{}", eval.explain(&tree.root).unwrap().render());
        return Ok(());
    }
    let rep = reproduce(&tree, &data);
    for c in &rep.components {
        println!(
            "{:<45} {:>6.2} {:<4} mismatches {}",
            c.column, c.max_abs_diff, c.worst_country, c.presence_mismatches
        );
    }
    println!(
        "countries {} max {:.3} risk {:.3} he {:.3} vu {:.3} cc {:.3}",
        rep.n_countries,
        rep.max_abs_diff,
        rep.max_abs_diff_risk,
        rep.max_abs_diff_hazard_exposure,
        rep.max_abs_diff_vulnerability,
        rep.max_abs_diff_coping
    );
    Ok(())
}
