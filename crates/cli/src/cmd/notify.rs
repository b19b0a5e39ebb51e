//! `vitalcore notify`: the notification outbox (what was sent to whom,
//! through which channel, with every attempt) and a test message through
//! one configured channel.

use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_app::notify::{Channels, Notifier, queue_test};

use crate::context::Global;
use crate::output::{Format, Table, write_output};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Notifications and their deliveries, newest first, with their last step
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Send a test message through one channel of the config file's [notify] now
    Test {
        /// A webhook's name, or `sms` / `email` (with --to)
        #[arg(long)]
        channel: String,
        /// The staff member an SMS or e-mail test goes to
        #[arg(long)]
        to: Option<String>,
        /// The config file with [notify] (as given to `vitalcore serve --config`)
        #[arg(long, env = "VITALCORE_CONFIG")]
        config: PathBuf,
    },
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    match args.command {
        Command::List { limit, format } => {
            let users = store.users()?;
            let name =
                |id: &str| users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or(id.to_string());
            let rows = store.deliveries(limit)?;
            if format == Format::Json {
                let v: Vec<serde_json::Value> =
                    rows.iter().map(|(d, n)| serde_json::json!({ "delivery": d, "notification": n })).collect();
                return write_output(None, &(serde_json::to_string_pretty(&v)? + "\n"));
            }
            let mut t = Table::new(&[
                ("id", "#meta+id"),
                ("kind", "#meta+kind"),
                ("reference", "#meta+ref"),
                ("area", "#adm1+code"),
                ("urgency", "#severity+urgency"),
                ("channel", "#meta+channel"),
                ("to", "#contact+name"),
                ("status", "#status"),
                ("attempts", "#indicator+attempts"),
                ("last", "#status+detail"),
                ("at", "#date"),
            ]);
            for (d, n) in &rows {
                let last = d.history.last();
                let target = match d.channel {
                    vitalcore_intake::notify::ChannelKind::Webhook => d.target.clone(),
                    _ => name(&d.target),
                };
                t.row(vec![
                    d.id.to_string(),
                    n.draft.kind.to_string(),
                    n.draft.reference.clone(),
                    n.draft.area_pcode.clone().unwrap_or_default(),
                    n.draft.urgency.map(|u| u.to_string()).unwrap_or_default(),
                    d.channel.to_string(),
                    target,
                    d.status.to_string(),
                    d.attempts.to_string(),
                    last.map(|h| format!("{} {}", h.what, h.detail.as_deref().unwrap_or(""))).unwrap_or_default(),
                    last.map(|h| h.at.to_string()).unwrap_or_default(),
                ]);
            }
            if rows.is_empty() {
                global.note("No notifications yet.");
            }
            write_output(None, &t.render(format)?)
        }
        Command::Test { channel, to, config } => {
            let cfg = crate::config::notify(Some(&config))?
                .ok_or_else(|| anyhow!("{} has no [notify] table: nothing to test", config.display()))?;
            let cfg = Arc::new(cfg);
            let channels = Channels::new(cfg.clone()).map_err(|e| anyhow!("{e:?}"))?;
            channels.check_smtp().map_err(|e| anyhow!(e))?;
            let user = to.map(|name| crate::cmd::oncall::account(&*store, &name)).transpose()?;
            let id = queue_test(&*store, &cfg, &channel, user.as_ref().map(|u| u.id.as_str()), Timestamp::now())?;
            let notifier = Notifier::new(store.clone(), cfg, channels);
            notifier.run_once(Timestamp::now())?;
            let sent = store.deliveries(200)?.into_iter().find(|(_, n)| n.id == id);
            let Some((d, _)) = sent else { bail!("the test went nowhere") };
            let last = d.history.last().and_then(|h| h.detail.clone()).unwrap_or_default();
            match d.status {
                vitalcore_intake::notify::DeliveryStatus::Sent => {
                    println!("test sent through {channel}: {last}");
                    Ok(())
                }
                status => {
                    bail!("test through {channel} {status}: {last} (delivery {}; see `vitalcore notify list`)", d.id)
                }
            }
        }
    }
}
