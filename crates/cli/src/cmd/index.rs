//! `vitalcore index`: composite risk indices (INFORM reproduction, local index, tree checks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use vitalcore_risk_index::Tree;
use vitalcore_risk_index::inform::{self, InformData, Reproduction};
use vitalcore_risk_index::local::{self, AreaScore};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Recompute INFORM Risk for every country from the workbook's raw indicators and compare with the published scores
    Inform(InformArgs),
    /// Score admin areas: hazard per area + an indicator table -> vulnerability, coping capacity, risk
    Local(LocalArgs),
    /// Check an index tree file and print its structure
    Check(CheckArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
struct InformArgs {
    /// The INFORM Risk 2023 workbook (.xlsx) as published by the JRC
    #[arg(long, default_value = "../shared/datasets/inform-risk-2023/INFORM_Risk_2023__v065.xlsx")]
    workbook: PathBuf,
    /// An index tree replacing the built-in INFORM 2023 tree
    #[arg(long)]
    tree: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Print one country's score tree (ISO3 code), with the inputs it lacked
    #[arg(long, value_name = "ISO3")]
    explain: Option<String>,
    /// Only print the summary (table format)
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(clap::Args)]
struct LocalArgs {
    /// Indicator table: CSV with a P-code column and indicator columns (names or HXL tags of the tree's inputs).
    /// Default: the HXL tables imported into the database.
    #[arg(long)]
    indicators: Option<PathBuf>,
    /// Hazard scores 0-10: CSV with a P-code column and a `hazard` column.
    /// Default: each area's threat profile in the database (worst dimension, last 12 months).
    #[arg(long)]
    hazard: Option<PathBuf>,
    #[command(flatten)]
    range: crate::cmd::assess::RangeArgs,
    /// An index tree replacing the built-in local tree
    #[arg(long)]
    tree: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Print one area's score tree (P-code)
    #[arg(long, value_name = "PCODE")]
    explain: Option<String>,
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The tree file (TOML); without it, the built-in trees are checked
    tree: Option<PathBuf>,
}

pub fn run(args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    match args.command {
        Command::Inform(a) => run_inform(InformArgs { quiet: global.quiet, ..a }),
        Command::Local(a) => run_local(LocalArgs { quiet: global.quiet, ..a }, global),
        Command::Check(a) => run_check(a),
    }
}

fn load_tree(path: Option<&Path>, builtin: fn() -> Tree) -> anyhow::Result<Tree> {
    Ok(match path {
        Some(p) => Tree::from_path(p)?,
        None => builtin(),
    })
}

fn run_inform(a: InformArgs) -> anyhow::Result<()> {
    let tree = load_tree(a.tree.as_deref(), Tree::inform_2023)?;
    let data = InformData::from_workbook(&a.workbook)
        .with_context(|| "pass the INFORM Risk 2023 workbook with --workbook PATH")?;
    if let Some(iso) = &a.explain {
        let country = data
            .countries
            .iter()
            .find(|c| c.iso3.eq_ignore_ascii_case(iso))
            .with_context(|| format!("no country with ISO3 code {iso} in the workbook"))?;
        let eval = tree.evaluate(country.inputs.clone());
        let explanation = eval.explain(&tree.root).context("the tree has no root node")?;
        match a.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&explanation)?),
            Format::Table => print!("{}", explanation.render()),
        }
        return Ok(());
    }
    let rep = inform::reproduce(&tree, &data);
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rep)?),
        Format::Table => print_reproduction(&rep, a.quiet),
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}"))
}

fn print_reproduction(rep: &Reproduction, quiet: bool) {
    if !quiet {
        println!("{:<5} {:<32} {:>11} {:>11} {:>11} {:>11}", "ISO3", "country", "risk", "haz&exp", "vulner.", "coping");
        for r in &rep.countries {
            let cell = |k: &str| format!("{}/{}", fmt(r.computed[k]), fmt(r.published[k]));
            let name: String = r.name.chars().take(32).collect();
            println!(
                "{:<5} {:<32} {:>11} {:>11} {:>11} {:>11}",
                r.iso3,
                name,
                cell("risk"),
                cell("hazard_exposure"),
                cell("vulnerability"),
                cell("coping")
            );
        }
        println!("(computed/published)\n");
        println!("published components, largest difference:");
        for c in &rep.components {
            println!(
                "  {:<45} {:>5.2}  {:<4} {}",
                c.column,
                c.max_abs_diff,
                c.worst_country,
                if c.presence_mismatches > 0 {
                    format!("({} countries missing on one side)", c.presence_mismatches)
                } else {
                    String::new()
                }
            );
        }
        println!();
    }
    println!("countries: {}", rep.n_countries);
    println!(
        "max abs diff: risk {:.3}, hazard & exposure {:.3}, vulnerability {:.3}, lack of coping capacity {:.3}",
        rep.max_abs_diff_risk,
        rep.max_abs_diff_hazard_exposure,
        rep.max_abs_diff_vulnerability,
        rep.max_abs_diff_coping
    );
    println!("max abs diff (all four): {:.3}", rep.max_abs_diff);
}

fn open(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// Indicators and hazard per area from files, or from the database when a
/// file is not given.
fn local_inputs(
    a: &LocalArgs,
    tree: &Tree,
    global: &crate::context::Global,
) -> anyhow::Result<(BTreeMap<String, vitalcore_risk_index::Inputs>, BTreeMap<String, f64>)> {
    let from_db = if a.indicators.is_none() || a.hazard.is_none() {
        let framework = global.load_framework()?;
        let (store, reports) = global.open_stores()?;
        let (events, opts) = vitalcore_app::analysis::load_table(
            &*store,
            Some(&*reports),
            &a.range.range(),
            vitalcore_assess::Period::Month,
        )?;
        let mut observations = Vec::new();
        store.for_each_observation(&mut |o| observations.push(o))?;
        Some((
            vitalcore_assess::risk::indicators_by_area(&observations, opts.unit, tree),
            vitalcore_assess::risk::hazard_in(&events, &framework, &opts),
        ))
    } else {
        None
    };
    let indicators = match &a.indicators {
        Some(path) => {
            let table = local::read_area_table(open(path)?, &path.display().to_string(), tree)?;
            if !a.quiet {
                for w in &table.warnings {
                    eprintln!("warning: {w}");
                }
            }
            table.areas
        }
        None => from_db.as_ref().map(|d| d.0.clone()).unwrap_or_default(),
    };
    let hazard = match &a.hazard {
        Some(path) => local::read_hazard_table(open(path)?, &path.display().to_string())?,
        None => from_db.map(|d| d.1).unwrap_or_default(),
    };
    Ok((indicators, hazard))
}

fn run_local(a: LocalArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let tree = load_tree(a.tree.as_deref(), Tree::local_default)?;
    let (indicators, hazard) = local_inputs(&a, &tree, global)?;
    let table = AreaTableView { areas: indicators };
    if let Some(area) = &a.explain {
        let mut inputs = table.areas.get(area).cloned().unwrap_or_default();
        if inputs.is_empty() && !hazard.contains_key(area) {
            anyhow::bail!("no indicators and no hazard for an area `{area}`");
        }
        if let Some(&h) = hazard.get(area) {
            inputs.insert(local::HAZARD_INPUT.to_string(), h);
        }
        let eval = tree.evaluate(inputs);
        let explanation = eval.explain(&tree.root).context("the tree has no root node")?;
        match a.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&explanation)?),
            Format::Table => print!("{}", explanation.render()),
        }
        return Ok(());
    }
    let scores = vitalcore_risk_index::local_risk(&tree, &table.areas, &hazard);
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&scores)?),
        Format::Table => print_local(&tree, &scores),
    }
    Ok(())
}

struct AreaTableView {
    areas: BTreeMap<String, vitalcore_risk_index::Inputs>,
}

fn print_local(tree: &Tree, scores: &[AreaScore]) {
    print!("{:<14}", "area");
    for o in &tree.outputs {
        print!(" {:>13}", o);
    }
    println!("  missing inputs");
    for s in scores {
        print!("{:<14}", crate::output::cell_safe(&s.area));
        for o in &tree.outputs {
            print!(" {:>13}", s.components.get(o).copied().flatten().map_or("-".into(), |v| format!("{v:.2}")));
        }
        println!("  {}", s.missing_inputs.join(", "));
    }
}

fn run_check(a: CheckArgs) -> anyhow::Result<()> {
    let trees: Vec<(String, Tree)> = match a.tree {
        Some(p) => vec![(p.display().to_string(), Tree::from_path(&p)?)],
        None => {
            vec![("built-in INFORM 2023".into(), Tree::inform_2023()), ("built-in local".into(), Tree::local_default())]
        }
    };
    for (name, tree) in trees {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &tree.nodes {
            *kinds
                .entry(match n.kind {
                    vitalcore_risk_index::NodeKind::Scale { .. } => "scale",
                    vitalcore_risk_index::NodeKind::Aggregate { .. } => "aggregate",
                    vitalcore_risk_index::NodeKind::Expr { .. } => "expr",
                })
                .or_default() += 1;
        }
        println!(
            "{name}: \"{}\" is valid: {} inputs, {} nodes {:?}, root \"{}\", outputs {:?}",
            tree.name,
            tree.inputs.len(),
            tree.nodes.len(),
            kinds,
            tree.root,
            tree.outputs
        );
    }
    Ok(())
}
