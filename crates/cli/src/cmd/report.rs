//! `vitalcore report`: submit, import KoBo/ODK exports, list and show
//! community reports. Contacts are never printed here.

use crate::context::Global;
use crate::output::{Format, Table, terminal_safe, write_output};
use anyhow::{Context as _, Result, anyhow, bail};
use std::path::PathBuf;
use vitalcore_app::access::{correct_report_tags, load_alert};
use vitalcore_app::kobo;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_framework::spreadsheet_record;
use vitalcore_intake::kobo::KoboMapping;
use vitalcore_intake::outbox::OutboxFilter;
use vitalcore_intake::xlsform::FormLabels;
use vitalcore_intake::{Channel, Reference, ReportDraft};
use vitalcore_store::reports::ReportFilter;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Submit one report; prints its reference
    Submit(SubmitArgs),
    /// Import a KoBoToolbox/ODK export (CSV or XLSX) with a mapping file; re-importing adds nothing
    ImportKobo(KoboArgs),
    /// List reports (newest first; never contacts)
    List(ListArgs),
    /// One report with its alert log
    Show(ShowArgs),
    /// Confirm or correct a report's dimensions (and themes); stored with who and when
    Correct(CorrectArgs),
}

#[derive(clap::Args)]
struct CorrectArgs {
    reference: String,
    /// The report's dimensions, ids separated by ';' (e.g. "personal;political"); the same ones confirm them
    #[arg(long, allow_hyphen_values = true)]
    dimensions: String,
    /// The report's themes, ids separated by ';' (left out: the themes stay)
    #[arg(long)]
    themes: Option<String>,
    /// The account the correction is recorded under (an analyst or admin)
    #[arg(long = "as", env = "VITALCORE_USER")]
    user: String,
    #[arg(long, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
struct SubmitArgs {
    #[arg(long)]
    text: String,
    #[arg(long)]
    place: Option<String>,
    /// Area P-code, when known
    #[arg(long)]
    area: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    latitude: Option<f64>,
    #[arg(long, allow_hyphen_values = true)]
    longitude: Option<f64>,
    #[arg(long)]
    category: Option<String>,
    /// low, medium, high or critical
    #[arg(long)]
    urgency: Option<String>,
    /// When it happened (2024-05-01 or 2024-05-01T14:30:00+01:00)
    #[arg(long)]
    event_time: Option<String>,
    #[arg(long)]
    language: Option<String>,
    /// Read how to reach the reporter (a phone number) from the first line of
    /// standard input; sealed with the key (needs --key-file). Or set
    /// VITALCORE_CONTACT.
    #[arg(long)]
    contact_stdin: bool,
    /// Refused: a contact on the command line is seen by every user (ps)
    #[arg(long, hide = true)]
    contact: Option<String>,
}

/// The environment variable `report submit` reads a contact from.
const CONTACT_ENV: &str = "VITALCORE_CONTACT";

/// The reporter's contact: from standard input (`--contact-stdin`) or
/// `VITALCORE_CONTACT`, never from the command line.
fn read_contact(a: &SubmitArgs) -> Result<Option<secrecy::SecretString>> {
    if a.contact.is_some() {
        bail!(
            "--contact is not accepted: a reporter's contact on the command line is seen by every user of this \
             computer (ps) and kept in the shell history. Give it on standard input with --contact-stdin \
             (e.g. `vitalcore report submit --text ... --contact-stdin < contact.txt`) or in the environment \
             variable {CONTACT_ENV}"
        );
    }
    let from_env = std::env::var(CONTACT_ENV).ok().filter(|c| !c.trim().is_empty());
    match (a.contact_stdin, from_env) {
        (true, Some(_)) => {
            bail!("the contact is given twice (--contact-stdin and {CONTACT_ENV}): give it one way")
        }
        (false, env) => Ok(env.map(secrecy::SecretString::from)),
        (true, None) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the contact from standard input")?;
            let line = line.trim();
            if line.is_empty() {
                bail!("--contact-stdin: standard input holds no contact (one line, e.g. +236 72 00 00 01)");
            }
            Ok(Some(secrecy::SecretString::from(line)))
        }
    }
}

#[derive(clap::Args)]
struct KoboArgs {
    file: PathBuf,
    #[arg(long)]
    mapping: PathBuf,
    /// The XLSForm (XLSX) the data was collected with: checks the mapping and writes answer labels
    #[arg(long)]
    xlsform: Option<PathBuf>,
    /// Also write every rejected row to this CSV file (line, uuid, field, reason)
    #[arg(long)]
    rejects: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ListArgs {
    #[arg(long)]
    area: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[arg(long, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
struct ShowArgs {
    reference: String,
    #[arg(long, default_value = "table")]
    format: Format,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    match args.command {
        Command::Submit(a) => submit(a, global),
        Command::ImportKobo(a) => import_kobo(a, global),
        Command::List(a) => list(a, global),
        Command::Show(a) => show(a, global),
        Command::Correct(a) => correct(a, global),
    }
}

fn submit(a: SubmitArgs, global: &Global) -> Result<()> {
    let contact = read_contact(&a)?;
    let (events, store) = global.open_stores()?;
    let reports = global.reports_service(&*events, store, IntakeConfig::default(), None)?;
    if contact.is_some() && !reports.key_configured {
        bail!(
            "a contact can only be stored encrypted, and no key is configured: create one with \
             `vitalcore users keygen --out FILE` and pass --key-file FILE (or set VITALCORE_KEY_FILE)"
        );
    }
    let draft = ReportDraft {
        text: a.text,
        language: a.language,
        category: a.category,
        urgency: a.urgency,
        place_name: a.place,
        latitude: a.latitude,
        longitude: a.longitude,
        area_pcode: a.area,
        event_time: a.event_time,
        contact,
        ..ReportDraft::default()
    };
    let report = reports.submit(&draft, Channel::Cli, jiff::Timestamp::now())?;
    println!("{}", report.reference);
    global.note(format!(
        "stored {} (area {}, dimensions {}, {} likely duplicate(s))",
        report.reference,
        report.place.area_pcode.as_deref().unwrap_or("unresolved"),
        if report.tags.dimensions.is_empty() { "-".to_string() } else { report.tags.dimensions.join(", ") },
        report.duplicates.len()
    ));
    Ok(())
}

fn import_kobo(a: KoboArgs, global: &Global) -> Result<()> {
    let started = std::time::Instant::now();
    let (events, store) = global.open_stores()?;
    let reports = global.reports_service(&*events, store, IntakeConfig::default(), None)?;
    let data = std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let mapping_text =
        std::fs::read_to_string(&a.mapping).with_context(|| format!("cannot read {}", a.mapping.display()))?;
    let mut mapping = KoboMapping::from_toml(&mapping_text, &reports.intake.categories)
        .with_context(|| format!("the mapping file {}", a.mapping.display()))?;
    if let Some(form) = &a.xlsform {
        let bytes = std::fs::read(form).with_context(|| format!("cannot read {}", form.display()))?;
        let labels = FormLabels::from_xlsx(&bytes).with_context(|| format!("the XLSForm {}", form.display()))?;
        mapping = mapping.with_xlsform(labels).with_context(|| format!("the mapping file {}", a.mapping.display()))?;
    }
    let name = a.file.display().to_string();
    let mut phase = std::time::Instant::now();
    let mut progress = |step: kobo::Step| {
        let note = match step {
            kobo::Step::Reading { bytes } => format!("reading {name} ({bytes} bytes)"),
            kobo::Step::Parsed { rows } => format!("parsed {rows} rows in {:.2} s", started.elapsed().as_secs_f64()),
            kobo::Step::ReferencesChecked => format!("checked references in {:.2} s", phase.elapsed().as_secs_f64()),
            kobo::Step::DuplicatesLinked => {
                format!("linked likely duplicates in {:.2} s", phase.elapsed().as_secs_f64())
            }
            kobo::Step::Stored { reports } => {
                format!("stored {reports} reports in {:.2} s (one transaction)", phase.elapsed().as_secs_f64())
            }
        };
        global.note(note);
        phase = std::time::Instant::now();
    };
    let format = kobo::ExportFormat::of(&a.file);
    let out = match kobo::import(&reports, &mapping, &name, &data, format, jiff::Timestamp::now(), &mut progress) {
        Err(kobo::ImportError::ContactWithoutKey) => bail!(
            "the mapping reads a contact column, and contacts are stored only encrypted: create a key with \
             `vitalcore users keygen --out FILE` and pass --key-file FILE, or remove `contact` from the mapping"
        ),
        other => other?,
    };
    for e in out.rejected.iter().take(10) {
        eprintln!("rejected: {}", terminal_safe(&format!("{name}, {e}")));
    }
    if let Some(path) = &a.rejects {
        let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
        w.write_record(["line", "uuid", "field", "reason"])?;
        for e in &out.rejected {
            let line = e.line.to_string();
            w.write_record(spreadsheet_record([
                line.as_str(),
                e.uuid.as_deref().unwrap_or_default(),
                e.field.as_str(),
                e.reason.as_str(),
            ]))?;
        }
        w.flush()?;
    }
    println!(
        "{name}: {} rows read = {} imported + {} already imported + {} rejected ({:.2} s)",
        out.rows,
        out.imported,
        out.already_imported,
        out.rejected.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn list(a: ListArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let filter = ReportFilter { area_pcode: a.area, ..ReportFilter::default() };
    let mut all = store.reports(&filter)?;
    all.reverse();
    all.truncate(a.limit);
    let text = match a.format {
        Format::Json => serde_json::to_string_pretty(&all)? + "\n",
        Format::Geojson => bail!("reports have no GeoJSON form here: use `vitalcore export`"),
        f => {
            let mut t = Table::new(&[
                ("reference", "#meta+id"),
                ("received_at", "#date+received"),
                ("channel", "#meta+channel"),
                ("area", "#adm1+code"),
                ("category", "#indicator+category"),
                ("urgency", "#severity+urgency"),
                ("verification", "#status+verification"),
                ("duplicates", "#meta+duplicates"),
                ("text", "#description"),
            ]);
            for r in &all {
                t.row(vec![
                    r.reference.to_string(),
                    r.received_at.strftime("%Y-%m-%d %H:%M").to_string(),
                    r.channel.kind().to_string(),
                    r.place.area_pcode.clone().unwrap_or_default(),
                    r.category.clone().unwrap_or_default(),
                    r.urgency.map(|u| u.to_string()).unwrap_or_default(),
                    format!("{:?}", r.verification).to_lowercase(),
                    r.duplicates.len().to_string(),
                    if f == Format::Table { r.text.chars().take(60).collect() } else { r.text.clone() },
                ]);
            }
            t.render(f)?
        }
    };
    write_output(None, &text)
}

fn show(a: ShowArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let reference: Reference = a.reference.parse()?;
    let report = store.report(&reference)?.ok_or_else(|| anyhow!("no report {reference}"))?;
    let alert = load_alert(&*store, &report)?;
    let outbox = store.outbox(&OutboxFilter { report: Some(reference.clone()), ..OutboxFilter::default() })?;
    if a.format == Format::Json {
        let mut v = serde_json::to_value(&report)?;
        v["has_contact"] = serde_json::json!(report.contact.is_some());
        v["alert"] = serde_json::json!({ "state": alert.state(), "status": alert.status(), "steps": alert.steps() });
        // Who read the contact, when and why (the audit log; never the contact).
        v["contact_reads"] = serde_json::to_value(store.contact_reads(&reference)?)?;
        // The SMS queued for the reporter, with their status history.
        v["outbox"] = serde_json::to_value(&outbox)?;
        return write_output(None, &(serde_json::to_string_pretty(&v)? + "\n"));
    }
    let mut out = format!(
        "{}  received {} via {}\narea {}  place {}  category {}  urgency {}\ndimensions {}  themes {}\nstate {}  verification {:?}  contact {}\n\n{}\n",
        report.reference,
        report.received_at,
        report.channel.kind(),
        report.place.area_pcode.as_deref().unwrap_or("-"),
        report.place.name.as_deref().unwrap_or("-"),
        report.category.as_deref().unwrap_or("-"),
        report.effective_urgency(),
        report.tags.dimensions.join(","),
        report.tags.themes.join(","),
        alert.state(),
        report.verification,
        if report.contact.is_some() { "sealed" } else { "none" },
        report.text
    );
    for d in &report.duplicates {
        out.push_str(&format!("likely duplicate of {} (score {:.2})\n", d.other, d.score));
    }
    for s in alert.steps() {
        out.push_str(&format!("#{} {} {} by {} via {}\n", s.seq, s.at, s.step.name(), s.user_id, s.channel));
    }
    for m in &outbox {
        out.push_str(&format!("SMS #{} (step #{}) {}: {}\n", m.id, m.step_seq, m.status(), m.body));
    }
    // Text for a person: stored text shows its control characters, never sends them.
    write_output(None, &terminal_safe(&out))
}

/// `a;b; c` as `["a", "b", "c"]`.
fn tag_list(text: &str) -> Vec<String> {
    text.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

fn correct(a: CorrectArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let reference: Reference = a.reference.parse()?;
    let user = store.user_by_username(&a.user)?.ok_or_else(|| {
        anyhow!("no user `{}`: create it with `vitalcore users add {} --role analyst`", a.user, a.user)
    })?;
    let framework = global.load_framework()?;
    let correction = correct_report_tags(
        &*store,
        &framework,
        &user,
        &reference,
        tag_list(&a.dimensions),
        a.themes.as_deref().map(tag_list),
        jiff::Timestamp::now(),
    )?;
    if a.format == Format::Json {
        return write_output(None, &(serde_json::to_string_pretty(&correction)? + "\n"));
    }
    let shown = |tags: &[String]| if tags.is_empty() { "-".to_string() } else { tags.join(";") };
    write_output(
        None,
        &format!(
            "{}: dimensions {} -> {}, themes {} -> {} (by {} at {})\n",
            correction.report,
            shown(&correction.previous_dimensions),
            shown(&correction.dimensions),
            shown(&correction.previous_themes),
            shown(&correction.themes),
            a.user,
            correction.at
        ),
    )
}
