//! `vitalcore sitrep`: a situation report for a period (and an area) as
//! one self-contained HTML file or an A4 PDF.

use crate::context::Global;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Instant;
use vitalcore_app::briefing::{BriefingAudience, BriefingRequest, Sources, gather};
use vitalcore_framework::Month;
use vitalcore_intake::workflow::Deadlines;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SitrepFormat {
    Html,
    Pdf,
}

#[derive(clap::Args)]
pub struct Args {
    /// First month of the period (YYYY-MM)
    #[arg(long)]
    pub from: Month,
    /// Last month of the period (YYYY-MM)
    #[arg(long)]
    pub to: Month,
    /// One area's P-code (default: every area)
    #[arg(long)]
    pub area: Option<String>,
    /// staff: exact figures and notes; public: community-report counts published (1-4 hidden, others rounded to 5), no staff notes
    #[arg(long, default_value = "staff", value_parser = clap::builder::PossibleValuesParser::new(["staff", "public"]))]
    pub audience: String,
    /// The language of the report's texts, month names and numbers (en, fr)
    #[arg(long, default_value = "en", value_parser = clap::builder::PossibleValuesParser::new(["en", "fr"]))]
    pub lang: String,
    /// html: one self-contained file (inline CSS and SVG); pdf: A4 with the font embedded
    #[arg(long)]
    pub format: SitrepFormat,
    /// The file to write
    #[arg(long)]
    pub out: PathBuf,
    /// Deadlines per urgency (TOML, as `serve --deadlines`; default: the built-in ones)
    #[arg(long)]
    pub deadlines: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let started = Instant::now();
    let framework = global.load_framework()?;
    let deadlines = match &args.deadlines {
        None => Deadlines::built_in(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the deadline file {}", path.display()))?;
            Deadlines::from_toml(&text).with_context(|| format!("the deadline file {}", path.display()))?
        }
    };
    let stores = global.open()?;
    let sources = Sources {
        events: &*stores.events,
        reports: Some(&*stores.reports),
        forecasts: Some(&*stores.forecasts),
        mandates: Some(&*stores.mandates),
        framework: &framework,
        deadlines: &deadlines,
    };
    let audience: BriefingAudience = args.audience.parse().map_err(anyhow::Error::msg)?;
    let lang = vitalcore_app::briefing::texts::language(&args.lang)
        .ok_or_else(|| anyhow::anyhow!("--lang {}: a report is written in en or fr", args.lang))?;
    let request = BriefingRequest { from: args.from, to: args.to, area: args.area.clone(), audience, lang };
    let briefing = gather(&sources, &request, jiff::Timestamp::now())?;
    let bytes = match args.format {
        SitrepFormat::Html => vitalcore_sitrep::html(&briefing).into_bytes(),
        SitrepFormat::Pdf => vitalcore_sitrep::pdf(&briefing)?,
    };
    std::fs::write(&args.out, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    global.note(format!(
        "{}: {} ({} bytes, {} audience) in {:.2} s",
        args.out.display(),
        briefing.title,
        bytes.len(),
        audience,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
