//! `vitalcore audit`: the audit trail of security-relevant facts (contact
//! reads, alert steps, logins and failed ones, accounts, tokens, exports), a
//! hash chain. `verify` checks it and prints its head to write down
//! somewhere else; `list` shows the last entries.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Result, bail};
use vitalcore_app::audit::{list, verify};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Check the chain: every entry intact and linked to the one before, none
    /// missing, every contact read and alert step in it, and (--head) a head
    /// written down earlier still in it. Exit status 0 when intact, 1 when not
    Verify {
        /// A head printed by an earlier `verify` and written down elsewhere:
        /// HASH or SEQ:HASH (the first 16 or more hex digits are enough)
        #[arg(long)]
        head: Option<String>,
    },
    /// The last entries, oldest first (never a contact, password, token or report text)
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// table, csv or json
        #[arg(long, default_value = "table")]
        format: Format,
    },
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    match args.command {
        Command::Verify { head } => {
            let report = verify(&*store, head.as_deref())?;
            let head_line = match &report.head {
                Some((seq, hash)) => format!("head: {seq}:{hash}"),
                None => "head: none (the chain is empty)".to_string(),
            };
            if report.is_intact() {
                println!(
                    "audit chain intact: {} entries checked; {} contact reads and {} alert steps match their entries{}",
                    report.checked,
                    report.contact_reads,
                    report.alert_steps,
                    if head.is_some() { "; the written-down head is in the chain" } else { "" }
                );
                println!("{head_line}");
                global.note(
                    "Write the head down somewhere else (on paper, on another machine). Later, \
                     `vitalcore audit verify --head SEQ:HASH` proves that nothing up to it was changed or removed.",
                );
                return Ok(());
            }
            println!("{} entries checked", report.checked);
            println!("{head_line}");
            const SHOWN: usize = 20;
            for p in report.problems.iter().take(SHOWN) {
                eprintln!("broken: {p}");
            }
            if report.problems.len() > SHOWN {
                eprintln!("... and {} more", report.problems.len() - SHOWN);
            }
            bail!("the audit trail was tampered with or damaged: {}", report.problems[0]);
        }
        Command::List { limit, format } => {
            let entries = list(&*store, limit)?;
            let text = match format {
                Format::Json => serde_json::to_string_pretty(&entries)? + "\n",
                Format::Geojson => bail!("the audit trail has no GeoJSON form"),
                f => {
                    let mut t = Table::new(&[
                        ("seq", "#meta+seq"),
                        ("at", "#date"),
                        ("actor", "#meta+actor"),
                        ("action", "#meta+action"),
                        ("subject", "#meta+subject"),
                        ("detail", "#description"),
                        ("hash", "#meta+hash"),
                    ]);
                    for e in &entries {
                        t.row(vec![
                            e.seq.to_string(),
                            vitalcore_security::audit::time_text(e.event.at),
                            e.event.actor.clone(),
                            e.event.action.to_string(),
                            e.event.subject.clone(),
                            e.event.detail.clone(),
                            if f == Format::Table { e.hash[..16].to_string() } else { e.hash.clone() },
                        ]);
                    }
                    t.render(f)?
                }
            };
            write_output(None, &text)?;
            if let Some(last) = entries.last() {
                global.note(format!("head: {}:{}", last.seq, last.hash));
            }
            Ok(())
        }
    }
}
