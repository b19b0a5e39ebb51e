//! `vitalcore mandate`: Security Council resolutions (Akoma Ntoso XML) read
//! through the human-security lens: straight from files (`tag`, `trend`,
//! `mission DIR`, `gaps DIR`), or stored with their provenance (`import`)
//! and read from the database (`mission`, `gaps` without DIR).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use vitalcore_app::disclosure::Audience;
use vitalcore_app::mandates::{self, TrendBy};

use crate::output::terminal_safe;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Read resolutions and tag each paragraph with the mandate tasks it gives,
    /// their dimensions and themes, the operative verb and the missions named
    Tag(TagArgs),
    /// The share of resolutions whose text uses a term, by year or three-year band
    Trend(TrendArgs),
    /// A mission's mandate over time: what each resolution added or dropped by task, dimension and theme
    Mission(MissionArgs),
    /// The mandate in force one month against the threats stored for the
    /// mission's countries: priority threats no task covers, tasks facing no threat
    Gaps(GapsArgs),
    /// Read, tag and store resolutions with their provenance (file, SHA-256,
    /// when, by whom), in one transaction; importing again changes nothing
    Import(ImportArgs),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// Resolution files (AKN XML) or folders holding them
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Store the files that can be read and report the others (the command still fails)
    #[arg(long)]
    keep_going: bool,
    /// Who imports them, recorded with each resolution
    #[arg(long, env = "USER", default_value = "operator")]
    by: String,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["mission", "country"])))]
struct GapsArgs {
    /// The mission's acronym (MINUSMA, UNMIL, ...)
    #[arg(long)]
    mission: Option<String>,
    /// Or a country it works in (ISO 3166-1 alpha-3: MLI, LBR, ...)
    #[arg(long)]
    country: Option<String>,
    /// The month, YYYY-MM
    #[arg(long)]
    month: vitalcore_framework::Month,
    /// Resolution files or folders; without them, the resolutions stored by `mandate import`
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args)]
struct MissionArgs {
    /// The mission's acronym (MINUSMA, UNMIL, ...)
    name: String,
    /// Resolution files or folders; without them, the resolutions stored by `mandate import`
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args)]
struct TagArgs {
    /// Resolution files (AKN XML) or folders holding them (walked; `data_extract/` beside them is read)
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of standard output
    #[arg(long)]
    out: Option<PathBuf>,
    /// Tag the files that can be read and report the others (the command still fails)
    #[arg(long)]
    keep_going: bool,
}

#[derive(clap::Args)]
struct TrendArgs {
    /// A folder of resolutions (or files)
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The term, matched at the start of words, any ending, case-insensitive ("stabiliz")
    #[arg(long)]
    term: String,
    #[arg(long, value_enum, default_value_t = ByArg::Year)]
    by: ByArg,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Table,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ByArg {
    Year,
    Band,
}

pub fn run(args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    match args.command {
        Sub::Tag(a) => tag(a, global),
        Sub::Trend(a) => trend(a, global),
        Sub::Mission(a) => mission(a, global),
        Sub::Gaps(a) => gaps(a, global),
        Sub::Import(a) => import(a, global),
    }
}

fn import(args: ImportArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let fw = global.load_framework()?;
    let stores = global.open()?;
    let bar = crate::progress::Progress::files(global.quiet);
    let at = jiff::Timestamp::now().to_string();
    let imported =
        mandates::import(&fw, &*stores.mandates, &args.paths, args.keep_going, &args.by, &at, &mut |done, total| {
            bar.count(done as u64, total as u64)
        });
    bar.finish();
    let imported = imported?;
    notes(&imported.notes, global.quiet);
    let c = imported.counts;
    println!(
        "{} files: {} resolutions stored in {}: {} new, {} replaced, {} unchanged",
        imported.files,
        c.new + c.replaced + c.unchanged,
        global.location(),
        c.new,
        c.replaced,
        c.unchanged
    );
    if !imported.errors.is_empty() {
        let list: Vec<String> = imported.errors.iter().map(|e| terminal_safe(e).into_owned()).collect();
        anyhow::bail!(
            "{} of {} files could not be read (the others were stored):\n  {}",
            list.len(),
            imported.files,
            list.join("\n  ")
        );
    }
    Ok(())
}

/// The resolutions a command reads: the files given, else the database.
fn source<'a>(paths: &'a [PathBuf], stores: &'a vitalcore_app::backend::Stores) -> mandates::Resolutions<'a> {
    if paths.is_empty() {
        mandates::Resolutions::Stored(&*stores.mandates)
    } else {
        mandates::Resolutions::Files(paths)
    }
}

fn gaps(args: GapsArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let fw = global.load_framework()?;
    let target = match (args.mission, args.country) {
        (Some(m), _) => mandates::Target::Mission(m),
        (None, Some(c)) => mandates::Target::Country(c),
        (None, None) => anyhow::bail!("give --mission or --country"),
    };
    let stores = global.open()?;
    // The operator at the command line may read every report: exact counts.
    let from = source(&args.paths, &stores);
    let g = mandates::gaps(&fw, &*stores.events, Some(&*stores.reports), from, &target, args.month, &Audience::Exact)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string(&g)?),
        Format::Table => {
            let list = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
            println!(
                "{} ({}), {}: mandate in force {} of {}",
                g.mission,
                g.countries.join(" "),
                g.month,
                g.in_force.symbol,
                g.in_force.date
            );
            println!("    tasks: {}", list(&g.in_force.tasks));
            println!("    dimensions: {}", list(&g.in_force.dimensions));
            println!(
                "{:<10} {:<28} {:>6} {:>7} {:>8} {:>9} {:>10} {:>8} {:>7}",
                "kind", "threat", "events", "reports", "critical", "pervasive", "indicators", "priority", "covered"
            );
            for t in &g.threats {
                println!(
                    "{:<10} {:<28} {:>6} {:>7} {:>8.2} {:>9.2} {:>10} {:>8} {:>7}",
                    t.kind,
                    t.id,
                    t.events,
                    t.reports.to_string(),
                    t.critical,
                    t.pervasive,
                    t.indicators,
                    if t.priority { "yes" } else { "" },
                    if t.covered { "yes" } else { "NO" }
                );
            }
            if g.uncovered.is_empty() {
                println!("uncovered priority threats: none");
            }
            for u in &g.uncovered {
                let later = match &u.later {
                    Some(l) => format!(
                        "first covered by {} of {} ({}{})",
                        l.symbol,
                        l.date,
                        l.tasks.join(", "),
                        match (l.mandates_mission, l.names_mission) {
                            (true, _) => "",
                            (false, true) => "; names the mission, does not mandate it",
                            (false, false) => "; not naming the mission",
                        }
                    ),
                    None => "no later resolution in the files covers it".to_string(),
                };
                println!("uncovered priority threat: {} {}: {}", u.kind, u.id, later);
            }
            println!("tasks facing no observed threat: {}", list(&g.tasks_without_threat));
        }
    }
    Ok(())
}

fn mission(args: MissionArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let fw = global.load_framework()?;
    let (timeline, skipped) = if args.paths.is_empty() {
        let stores = global.open()?;
        mandates::mission_from(&fw, mandates::Resolutions::Stored(&*stores.mandates), &args.name)?
    } else {
        mandates::mission(&fw, &args.paths, &args.name, false)?
    };
    notes(&skipped, global.quiet);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string(&timeline)?),
        Format::Table => {
            println!("{}: {} resolutions", timeline.mission, timeline.resolutions.len());
            for s in &timeline.resolutions {
                let list = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
                println!("{} {} ({}; mandating paragraphs {})", s.date, s.symbol, s.kind, s.mandating.join(", "));
                println!("    added:   {}", list(&s.added.tasks));
                println!("    dropped: {}", list(&s.dropped.tasks));
                println!("    dimensions in force: {}", list(&s.dimensions));
            }
        }
    }
    Ok(())
}

fn notes(notes: &[String], quiet: bool) {
    if !quiet {
        for n in notes {
            eprintln!("note: {}", terminal_safe(n));
        }
    }
}

fn tag(args: TagArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let fw = global.load_framework()?;
    let tagged = mandates::tag(&fw, &args.paths, args.keep_going)?;
    notes(&tagged.notes, global.quiet);
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(&mut out);
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut out, &serde_json::json!({ "resolutions": tagged.resolutions }))?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "{:<20} {:<10} {:<24} {:>4}  tasks given", "symbol", "date", "missions", "op.")?;
            for r in &tagged.resolutions {
                let operative = r.paragraphs.iter().filter(|p| p.kind == mandates::Kind::Operative).count();
                let mut tasks: Vec<&str> = Vec::new();
                for p in &r.paragraphs {
                    for t in &p.tasks {
                        if !tasks.contains(&t.as_str()) {
                            tasks.push(t);
                        }
                    }
                }
                writeln!(
                    out,
                    "{:<20} {:<10} {:<24} {:>4}  {}",
                    r.symbol,
                    r.date,
                    terminal_safe(&r.missions.join(",")),
                    operative,
                    tasks.join(", ")
                )?;
            }
        }
    }
    out.flush()?;
    drop(out);
    if !tagged.errors.is_empty() {
        let list: Vec<String> = tagged.errors.iter().map(|e| terminal_safe(&e.to_string()).into_owned()).collect();
        anyhow::bail!(
            "{} of {} files could not be read (the others were tagged):\n  {}",
            list.len(),
            tagged.files,
            list.join("\n  ")
        );
    }
    Ok(())
}

fn trend(args: TrendArgs, global: &crate::context::Global) -> anyhow::Result<()> {
    let by = match args.by {
        ByArg::Year => TrendBy::Year,
        ByArg::Band => TrendBy::Band,
    };
    let (trend, skipped) = mandates::trend(&args.paths, &args.term, by, false)?;
    notes(&skipped, global.quiet);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string(&trend)?),
        Format::Table => {
            println!(
                "{:<10} {:>11} {:>9} {:>7} {:>15}",
                "period", "resolutions", "with term", "share", "share operative"
            );
            for r in &trend.rows {
                let period = r.year.map(|y| y.to_string()).or_else(|| r.band.clone()).unwrap_or_default();
                println!(
                    "{:<10} {:>11} {:>9} {:>6.1}% {:>14.1}%",
                    period,
                    r.resolutions,
                    r.with_term,
                    r.share * 100.0,
                    r.share_operative * 100.0
                );
            }
        }
    }
    Ok(())
}
