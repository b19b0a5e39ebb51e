//! `vitalcore feedback outbox`: the SMS telling reporters what was done.
//!
//! Feedback recorded with channel `sms` on an alert whose report has a
//! contact queues a message (see `vitalcore_intake::outbox`). Nothing goes
//! out by itself: `export` writes a CSV file for a bulk-send tool (each
//! contact read is in the audit log first) and `mark-sent` records what went
//! out; `send` goes through an SMS gateway, only when the config file
//! configures one. The other commands record failures, cancel and retry.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Context as _, Result, anyhow, bail};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use vitalcore_app::outbox::{ChangeOutcome, PhoneRead, change_status, prepare_export, read_phone};
use vitalcore_intake::outbox::{
    ExportOptions, GatewayConfig, OutboxFilter, OutboxMessage, OutboxStatus, PhoneProblem, check_country_code,
    read_sent_ids, write_csv,
};
use vitalcore_security::auth::User;
use vitalcore_store::reports::ReportStore;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// SMS queued for reporters: list, export, send, and record what went out
    Outbox {
        #[command(subcommand)]
        command: Outbox,
    },
}

#[derive(clap::Args)]
struct Who {
    /// The account recorded with the change (and, to read contacts, whose role allows it)
    #[arg(long = "as", env = "VITALCORE_USER")]
    user: String,
}

#[derive(clap::Args)]
struct Ids {
    /// An outbox message id (repeatable)
    #[arg(long = "id", required = true)]
    ids: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    /// phone,message,outbox_id: the list bulk SMS tools (RapidPro, Twilio) take
    Csv,
}

#[derive(clap::Subcommand)]
enum Outbox {
    /// The messages and where they stand, oldest first (never phone numbers)
    List {
        /// Only queued, exported, sent, failed or cancelled messages
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Write the queued messages with their phone numbers for a bulk-send tool;
    /// each contact read is logged with who, when and why. Marks them exported.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The file to write (readable by its owner only)
        #[arg(long)]
        out: PathBuf,
        /// Also export messages exported before (a lost file)
        #[arg(long)]
        again: bool,
        /// Country calling code for numbers written without one (236)
        #[arg(long)]
        default_country_code: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// Record as sent the messages of an export file (its outbox_id column), or --id
    MarkSent {
        /// The file `export` wrote, as sent
        file: Option<PathBuf>,
        /// An outbox message id (repeatable)
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// What the send tool called it (a batch name or id)
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// Record that messages could not be sent, and why
    MarkFailed {
        #[command(flatten)]
        ids: Ids,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Do not send messages, and say why
    Cancel {
        #[command(flatten)]
        ids: Ids,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Queue failed messages again
    Retry {
        #[command(flatten)]
        ids: Ids,
        #[command(flatten)]
        who: Who,
    },
    /// Send the queued messages through the SMS gateway of the config file
    /// ([sms_gateway]: Twilio or RapidPro); nothing is sent without one
    Send {
        /// The config file with an [sms_gateway] table
        #[arg(long, env = "VITALCORE_CONFIG")]
        config: PathBuf,
        /// Country calling code for numbers written without one (236)
        #[arg(long)]
        default_country_code: Option<String>,
        /// Send at most this many
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        who: Who,
    },
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let Command::Outbox { command } = args.command;
    let store = global.open_reports()?;
    let now = Timestamp::now();
    match command {
        Outbox::List { status, format } => list(&*store, status.as_deref(), format),
        Outbox::Export { format: ExportFormat::Csv, out, again, default_country_code, who } => {
            export(&*store, global, &account(&*store, &who.user)?, &out, again, default_country_code, now)
        }
        Outbox::MarkSent { file, mut ids, note, who } => {
            if let Some(path) = &file {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                ids.extend(read_sent_ids(&bytes).with_context(|| format!("the export file {}", path.display()))?);
            }
            if ids.is_empty() {
                bail!("say which messages went out: give the export file, or --id N");
            }
            let note = note.or_else(|| file.as_ref().map(|f| format!("marked sent from {}", file_name(f))));
            let user = account(&*store, &who.user)?;
            report(global, OutboxStatus::Sent, change_status(&*store, &user, &ids, OutboxStatus::Sent, note, now)?)
        }
        Outbox::MarkFailed { ids, reason, who } => {
            let user = account(&*store, &who.user)?;
            report(
                global,
                OutboxStatus::Failed,
                change_status(&*store, &user, &ids.ids, OutboxStatus::Failed, Some(reason), now)?,
            )
        }
        Outbox::Cancel { ids, reason, who } => {
            let user = account(&*store, &who.user)?;
            report(
                global,
                OutboxStatus::Cancelled,
                change_status(&*store, &user, &ids.ids, OutboxStatus::Cancelled, Some(reason), now)?,
            )
        }
        Outbox::Retry { ids, who } => {
            let user = account(&*store, &who.user)?;
            report(
                global,
                OutboxStatus::Queued,
                change_status(&*store, &user, &ids.ids, OutboxStatus::Queued, None, now)?,
            )
        }
        Outbox::Send { config, default_country_code, limit, who } => {
            send(&*store, global, &account(&*store, &who.user)?, &config, default_country_code, limit)
        }
    }
}

fn account(store: &dyn ReportStore, name: &str) -> Result<User> {
    if name.trim().is_empty() {
        bail!("say who with --as NAME (or VITALCORE_USER)");
    }
    store
        .user_by_username(name)?
        .ok_or_else(|| anyhow!("no user `{name}`: create it with `vitalcore users add {name} --role ...`"))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn list(store: &dyn ReportStore, status: Option<&str>, format: Format) -> Result<()> {
    let statuses = status
        .map(|s| {
            OutboxStatus::parse(s)
                .ok_or_else(|| anyhow!("--status `{s}`: use queued, exported, sent, failed or cancelled"))
        })
        .transpose()?
        .map(|s| vec![s]);
    let messages = store.outbox(&OutboxFilter { statuses, ..OutboxFilter::default() })?;
    if format == Format::Json {
        return write_output(None, &(serde_json::to_string_pretty(&messages)? + "\n"));
    }
    if format == Format::Geojson {
        bail!("the outbox has no GeoJSON form");
    }
    let mut t = Table::new(&[
        ("id", "#meta+id"),
        ("reference", "#meta+report"),
        ("status", "#status"),
        ("since", "#date+status"),
        ("by", "#meta+user"),
        ("detail", "#description+status"),
        ("language", "#meta+lang"),
        ("message", "#description+message"),
    ]);
    for m in &messages {
        let last = m.last_change();
        t.row(vec![
            m.id.to_string(),
            m.report.to_string(),
            m.status().to_string(),
            last.map(|c| c.at.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            last.map(|c| c.user_id.clone()).unwrap_or_default(),
            last.and_then(|c| c.detail.clone()).unwrap_or_default(),
            m.language.clone(),
            m.body.clone(),
        ]);
    }
    write_output(None, &t.render(format)?)
}

fn contact_key(global: &Global) -> Result<vitalcore_intake::ContactKey> {
    global.load_key()?.ok_or_else(|| {
        anyhow!("reading the reporters' phone numbers needs the contact key: pass --key-file FILE (or set VITALCORE_KEY_FILE)")
    })
}

fn export(
    store: &dyn ReportStore,
    global: &Global,
    user: &User,
    out: &Path,
    again: bool,
    default_country_code: Option<String>,
    now: Timestamp,
) -> Result<()> {
    let key = contact_key(global)?;
    let default_country_code = default_country_code.as_deref().map(check_country_code).transpose()?;
    let options = ExportOptions { again, default_country_code, label: file_name(out) };
    let plan = prepare_export(store, &key, user, &options, now)?;
    // The file first, under a temporary name; the messages are marked
    // exported once it is complete, and only then does it get its name.
    let partial = out.with_extension("partial");
    // A stale partial file may be readable by others: start from none.
    let _ = std::fs::remove_file(&partial);
    let written = write_private(&partial, |f| write_csv(&plan.rows, f).map_err(anyhow::Error::from));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context(format!("cannot write {}", partial.display())));
    }
    // The export is in the audit trail before the messages are marked and
    // the file gets its name: an export that cannot be recorded does not happen.
    let detail = format!("{} phone numbers with their messages (SMS outbox)", plan.rows.len());
    if let Err(e) = vitalcore_app::audit::record_export(store, &user.id, &options.label, &detail, now) {
        let _ = std::fs::remove_file(&partial);
        return Err(anyhow::Error::from(e).context("nothing was exported"));
    }
    if let Err(e) = store.append_outbox_changes(&plan.changes) {
        let _ = std::fs::remove_file(&partial);
        return Err(anyhow::Error::from(e).context("nothing was exported"));
    }
    std::fs::rename(&partial, out)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))?;
    let failed = plan.changes.iter().filter(|c| c.status == OutboxStatus::Failed).count();
    println!("{} messages exported to {}", plan.rows.len(), out.display());
    global.note(format!(
        "{} contacts read by {} (each in the audit log); {failed} not phone numbers (marked failed); \
         {} local numbers need --default-country-code (left queued); {} of other communities (left queued). \
         Once sent, run `vitalcore feedback outbox mark-sent {}`",
        plan.rows.len() + failed + plan.need_country_code.len(),
        user.username,
        plan.need_country_code.len(),
        plan.not_allowed.len(),
        out.display()
    ));
    Ok(())
}

/// Creates `path` readable by its owner only (it holds phone numbers) and
/// writes it with `fill`.
fn write_private(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    fill(&mut file)?;
    file.flush()?;
    file.sync_all()?;
    Ok(())
}

/// Prints what a status change did; an error when some messages were
/// refused or not found (the others are recorded all the same).
fn report(global: &Global, to: OutboxStatus, outcome: ChangeOutcome) -> Result<()> {
    println!("{} messages now {to}", outcome.changed.len());
    if !outcome.unchanged.is_empty() {
        global.note(format!("already {to}: {:?}", outcome.unchanged));
    }
    for (id, why) in &outcome.refused {
        eprintln!("message #{id} not changed: {why}");
    }
    if !outcome.missing.is_empty() {
        eprintln!("no outbox message {:?}", outcome.missing);
    }
    if !outcome.refused.is_empty() || !outcome.missing.is_empty() {
        bail!("{} messages were not changed (see above)", outcome.refused.len() + outcome.missing.len());
    }
    Ok(())
}

fn send(
    store: &dyn ReportStore,
    global: &Global,
    user: &User,
    config: &Path,
    default_country_code: Option<String>,
    limit: Option<usize>,
) -> Result<()> {
    // Refused when it holds the gateway's credentials and others may read it.
    let text = crate::config::ConfigFile::read(config)?.text;
    let gateway = GatewayConfig::from_toml(&text)
        .with_context(|| format!("the config file {}", config.display()))?
        .ok_or_else(|| {
            anyhow!(
                "{} configures no SMS gateway ([sms_gateway] with kind, url and credentials), so nothing is sent: \
                 use `vitalcore feedback outbox export` for a bulk-send tool instead",
                config.display()
            )
        })?;
    let key = contact_key(global)?;
    let default_country_code = default_country_code.as_deref().map(check_country_code).transpose()?;
    let agent = http_agent(&gateway)?;
    let mut waiting = store.outbox(&OutboxFilter::to_send(&[OutboxStatus::Queued]))?;
    waiting.truncate(limit.unwrap_or(usize::MAX));
    let (mut sent, mut failed, mut left) = (0, 0, 0);
    for message in &waiting {
        let now = Timestamp::now();
        let how = format!("gateway {}", gateway.kind.as_str());
        let phone = match read_phone(store, &key, user, message, &how, default_country_code.as_deref(), now)? {
            PhoneRead::Phone(phone) => phone,
            PhoneRead::NotAllowed | PhoneRead::Problem(PhoneProblem::NeedsCountryCode) => {
                left += 1;
                continue;
            }
            PhoneRead::Problem(PhoneProblem::NotAPhone) => {
                record(
                    store,
                    message,
                    OutboxStatus::Failed,
                    user,
                    Some("the reporter's contact is not a phone number".into()),
                )?;
                failed += 1;
                continue;
            }
        };
        let request = gateway.request(&phone, &message.body);
        match post(&agent, &request) {
            Ok((status, body)) => match gateway.read_reply(status, &body) {
                Ok(id) => {
                    record(store, message, OutboxStatus::Sent, user, Some(id))?;
                    sent += 1;
                }
                Err(reason) => {
                    record(store, message, OutboxStatus::Failed, user, Some(reason))?;
                    failed += 1;
                }
            },
            Err(e) => {
                // The gateway cannot be reached: the rest would fail the same way.
                let reason = format!("{} could not be reached: {e}", gateway.kind.as_str());
                record(store, message, OutboxStatus::Failed, user, Some(reason.clone()))?;
                bail!(
                    "{reason}. {sent} sent before; message #{} marked failed (retry it later); the rest stay queued",
                    message.id
                );
            }
        }
    }
    println!("{sent} sent, {failed} failed through {}", gateway.kind.as_str());
    if left > 0 {
        global
            .note(format!("{left} left queued: another community's, or local numbers needing --default-country-code"));
    }
    Ok(())
}

/// Records one message's change at once: each send is a fact in the world.
fn record(
    store: &dyn ReportStore,
    message: &OutboxMessage,
    to: OutboxStatus,
    user: &User,
    detail: Option<String>,
) -> Result<()> {
    let change = message.change(to, &user.id, Timestamp::now(), detail)?;
    store.append_outbox_changes(&[change])?;
    Ok(())
}

/// An HTTPS client with a time limit, going through the gateway's proxy
/// when the config file names one (environment proxies are not used: only
/// what the operator configured).
fn http_agent(gateway: &GatewayConfig) -> Result<ureq::Agent> {
    let proxy = gateway.proxy.as_deref().map(ureq::Proxy::new).transpose().context("the [sms_gateway] proxy")?;
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .proxy(proxy)
        .build();
    Ok(config.into())
}

fn post(agent: &ureq::Agent, request: &vitalcore_intake::outbox::GatewayRequest) -> Result<(u16, String), ureq::Error> {
    let mut response = agent
        .post(&request.url)
        .header("Authorization", request.authorization.expose_secret())
        .header("Content-Type", request.content_type)
        .header("Accept", "application/json")
        .send(&request.body[..])?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Ok((status, body))
}
