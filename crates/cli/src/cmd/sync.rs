//! `vitalcore sync`: field offices and headquarters. Parses, calls
//! `vitalcore_app::sync`, renders; the HTTPS transport of an office lives
//! here (the protocol and the rules do not).

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use jiff::Timestamp;
use vitalcore_app::sync::{self as app, BATCH_LIMIT, SyncFailure, Transport};
use vitalcore_sync::Credential;

use crate::context::Global;

#[derive(clap::Args)]
#[command(
    about = "Synchronise a field office with headquarters (push, then pull)",
    long_about = "At an office: `vitalcore --db office.db sync --hq https://hq.example --credential office.cred` \
                  pushes the office's reports and alert steps, then pulls what lies in its areas. Safe to \
                  interrupt and run again. At headquarters: `sync office add/list/revoke`; `vitalcore serve` \
                  answers offices. Without a network: `sync export --out FILE` and `sync import FILE`."
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Headquarters' address: https://..., or http:// to a loopback address only.
    #[arg(long)]
    hq: Option<String>,
    /// The office's credential file (written by `sync office add` at headquarters).
    #[arg(long)]
    credential: Option<PathBuf>,
    /// Change-log entries per batch.
    #[arg(long, default_value_t = BATCH_LIMIT, hide = true)]
    batch: usize,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Offices registered at headquarters
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// Per office: last contact, what waits in each direction, conflicts
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Write the changes waiting for the other side to a bundle file (USB stick)
    Export {
        #[arg(long)]
        out: PathBuf,
        /// At headquarters: the office the bundle is for.
        #[arg(long)]
        office: Option<String>,
        /// At an office not yet synchronised: its credential file.
        #[arg(long)]
        credential: Option<PathBuf>,
    },
    /// Apply a bundle file from the other side (checked whole first)
    Import {
        file: PathBuf,
        /// At an office not yet synchronised: its credential file.
        #[arg(long)]
        credential: Option<PathBuf>,
    },
    /// Records that arrived but were kept aside for an analyst
    Conflicts,
}

#[derive(clap::Subcommand)]
enum OfficeCommand {
    /// Register an office for its areas and write its credential file (owner-only)
    Add {
        name: String,
        /// The office's areas as P-codes: CF32,CF43
        #[arg(long, value_delimiter = ',', required = true)]
        areas: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Every office with its areas and state
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Refuse the office's credential from now on
    Revoke { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StatusFormat {
    Table,
    Json,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let now = Timestamp::now();
    let stores = global.open()?;
    let store = &*stores.sync;
    match args.command {
        None => {
            let Some(hq) = args.hq else {
                bail!("give headquarters' address: vitalcore sync --hq https://HQ --credential FILE");
            };
            let url = endpoint(&hq)?;
            let credential = args.credential.as_deref().map(read_credential).transpose()?;
            let transport = Https::new(url)?;
            let summary = app::sync_office(store, credential.as_ref(), &transport, args.batch.max(1), now)?;
            println!(
                "sync complete: {} records pushed ({} new at headquarters), {} pulled ({} new here), {} conflicts, {} batches, {} bytes up, {} bytes down",
                summary.pushed,
                summary.pushed_new,
                summary.pulled,
                summary.pulled_new,
                summary.conflicts,
                summary.batches,
                summary.bytes_up,
                summary.bytes_down
            );
            Ok(())
        }
        Some(Command::Office { command }) => office(command, store, global, now),
        Some(Command::Status { format }) => {
            let status = app::status(store)?;
            match format {
                StatusFormat::Json => println!("{}", serde_json::to_string(&status)?),
                StatusFormat::Table => {
                    println!("node: {}", status.node.as_deref().unwrap_or("(not synchronised)"));
                    for o in &status.offices {
                        println!(
                            "{}: last sync {}, {} waiting up, {} waiting down, {} conflicts",
                            o.name,
                            o.last_sync.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                            o.pending_up,
                            o.pending_down,
                            o.conflicts
                        );
                    }
                }
            }
            Ok(())
        }
        Some(Command::Export { out, office, credential }) => {
            let (bytes, n) = match office {
                Some(office) => app::hq_export(store, &office, now)?,
                None => {
                    let credential = credential.as_deref().map(read_credential).transpose()?;
                    app::office_export(store, credential.as_ref(), now)?
                }
            };
            write_private(&out, &bytes)?;
            global.note(format!("wrote {n} records ({} bytes) to {}", bytes.len(), out.display()));
            Ok(())
        }
        Some(Command::Import { file, credential }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read the bundle {}", file.display()))?;
            let credential = credential.as_deref().map(read_credential).transpose()?;
            let applied = app::import_bundle(store, credential.as_ref(), &bytes, now)
                .with_context(|| format!("the bundle {} was not imported", file.display()))?;
            println!(
                "imported {}: {} new, {} already here, {} conflicts",
                file.display(),
                applied.new,
                applied.already,
                applied.conflicts
            );
            Ok(())
        }
        Some(Command::Conflicts) => {
            for c in store.conflicts()? {
                println!("{} {} {} {}: {}", c.at, c.peer, c.kind.as_str(), c.key, c.reason);
            }
            Ok(())
        }
    }
}

fn office(
    command: OfficeCommand,
    store: &dyn vitalcore_store::sync::SyncStore,
    global: &Global,
    now: Timestamp,
) -> Result<()> {
    match command {
        OfficeCommand::Add { name, areas, out } => {
            if out.exists() {
                bail!("{} already exists; choose another file for the credential", out.display());
            }
            let added = app::add_office(store, &name, &areas, now)?;
            write_private(&out, added.credential.to_text().as_bytes())?;
            global.note(format!(
                "registered office {} for {} (references VC-{}...); its credential is in {} (readable by you only): \
                 give it to the office alone, e.g. on a USB stick, and delete this copy",
                added.office.name,
                added.office.areas.join(", "),
                vitalcore_security::crockford::CROCKFORD[usize::from(added.office.space)] as char,
                out.display()
            ));
            Ok(())
        }
        OfficeCommand::List { format } => {
            let offices = app::offices(store)?;
            match format {
                StatusFormat::Json => {
                    let list: Vec<serde_json::Value> = offices
                        .iter()
                        .map(|o| {
                            serde_json::json!({
                                "name": o.name, "areas": o.areas, "created_at": o.created_at,
                                "revoked_at": o.revoked_at, "last_sync": o.last_sync,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string(&list)?);
                }
                StatusFormat::Table => {
                    for o in offices {
                        let state = match o.revoked_at {
                            Some(at) => format!("revoked {at}"),
                            None => "active".into(),
                        };
                        println!("{}\t{}\t{}", o.name, o.areas.join(","), state);
                    }
                }
            }
            Ok(())
        }
        OfficeCommand::Revoke { name } => {
            app::revoke_office(store, &name, now)?;
            global.note(format!("revoked office {name}: its credential is refused from now on"));
            Ok(())
        }
    }
}

fn read_credential(path: &Path) -> Result<Credential> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the credential file {} (headquarters writes it with `sync office add`)", path.display())
    })?;
    Credential::parse(&text).with_context(|| format!("the credential file {}", path.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// `URL/api/v1/sync`: https, or plain http to a loopback address only.
fn endpoint(hq: &str) -> Result<String> {
    let base = hq.trim().trim_end_matches('/');
    let refuse = || {
        anyhow::anyhow!(
            "`{hq}` is not usable: give headquarters' address as https://HOST[:PORT] (plain http:// only to 127.0.0.1, \
             ::1 or localhost, for tests)"
        )
    };
    if let Some(rest) = base.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            bail!(
                "plain http:// is accepted only to a loopback address, and `{host}` is not one: bundles are \
                 encrypted, but use https:// to headquarters"
            );
        }
    } else if !base.starts_with("https://") {
        return Err(refuse());
    }
    Ok(format!("{base}/api/v1/sync"))
}

/// HTTPS (rustls) to headquarters.
struct Https {
    url: String,
    agent: ureq::Agent,
}

impl Https {
    fn new(url: String) -> Result<Https> {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(600)))
            .http_status_as_error(false)
            .build();
        Ok(Https { url, agent: config.into() })
    }
}

impl Transport for Https {
    fn exchange(&self, bundle: Vec<u8>) -> Result<Vec<u8>, SyncFailure> {
        let mut response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/vnd.vitalcore.sync")
            .send(&bundle[..])
            .map_err(|e| SyncFailure::Unreachable(format!("{}: {e}", self.url)))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| SyncFailure::Unreachable(format!("{}: the answer broke off: {e}", self.url)))?;
        if status == 200 {
            return Ok(body);
        }
        let reason = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        Err(SyncFailure::Refused(format!("{reason} (HTTP {status})")))
    }
}
