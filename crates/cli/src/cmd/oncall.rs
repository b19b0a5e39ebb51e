//! `vitalcore oncall`: who is on call, per area and role (responder,
//! analyst, supervisor), with time windows and fallbacks, and the staff
//! phones and e-mail addresses notifications go to.

use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use vitalcore_app::notify::{set_on_call, set_staff_contact};
use vitalcore_intake::notify::DutyRole;
use vitalcore_security::auth::User;
use vitalcore_store::notify::RotaDraft;
use vitalcore_store::reports::ReportStore;

use crate::context::Global;
use crate::output::{Format, Table, write_output};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Put someone on call for an area (a P-code, or `*` for every area)
    Set {
        area: String,
        #[arg(long)]
        role: DutyRole,
        /// The staff member's user name
        #[arg(long)]
        user: String,
        /// Start, UTC: 2026-12-08T08:00 (or an RFC 3339 time)
        #[arg(long)]
        from: String,
        /// End, UTC (not included); left out only for a fallback
        #[arg(long)]
        to: Option<String>,
        /// Told only when nobody else is on call for the area and role
        #[arg(long)]
        fallback: bool,
        /// The administrator making the change
        #[arg(long = "as", env = "VITALCORE_USER")]
        admin: String,
    },
    /// The rota, by area, role and start
    Show {
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Register a staff member's work phone and e-mail (where they are told; an ACK by SMS from the phone is theirs)
    Contact {
        user: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Completes a local phone number (236)
        #[arg(long)]
        default_country_code: Option<String>,
        #[arg(long = "as", env = "VITALCORE_USER")]
        admin: String,
    },
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    match args.command {
        Command::Set { area, role, user, from, to, fallback, admin } => {
            let by = account(&*store, &admin)?;
            let who = account(&*store, &user)?;
            let area = area.trim().to_ascii_uppercase();
            if area.is_empty() {
                bail!("give an area P-code (CF32), or `*` for every area");
            }
            let from = time(&from, "--from")?;
            let to = to.map(|t| time(&t, "--to")).transpose()?;
            if to.is_none() && !fallback {
                bail!("give --to (the end of the shift), or --fallback for someone told when nobody else is on call");
            }
            let entry = RotaDraft {
                area_pcode: area.clone(),
                role,
                user_id: who.id.clone(),
                from,
                to,
                fallback,
                set_by: by.id.clone(),
                set_at: Timestamp::now(),
            };
            let id = set_on_call(&*store, &by, &entry)?;
            let until = to.map(|t| t.to_string()).unwrap_or_else(|| "open-ended".into());
            let kind = if fallback { " (fallback)" } else { "" };
            println!("rota entry {id}: {} on call as {role} for {area} from {from} to {until}{kind}", who.username);
            Ok(())
        }
        Command::Show { format } => {
            let rota = store.rota()?;
            let users = store.users()?;
            let name =
                |id: &str| users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or(id.to_string());
            let mut t = Table::new(&[
                ("id", "#meta+id"),
                ("area", "#adm1+code"),
                ("role", "#meta+role"),
                ("user", "#contact+name"),
                ("from", "#date+start"),
                ("to", "#date+end"),
                ("fallback", "#meta+fallback"),
                ("phone", "#contact+phone"),
                ("email", "#contact+email"),
            ]);
            for e in &rota {
                let contact = store.staff_contact(&e.user_id)?.unwrap_or_default();
                t.row(vec![
                    e.id.to_string(),
                    e.area_pcode.clone(),
                    e.role.to_string(),
                    name(&e.user_id),
                    e.from.to_string(),
                    e.to.map(|t| t.to_string()).unwrap_or_default(),
                    if e.fallback { "yes" } else { "" }.to_string(),
                    if contact.phone.is_some() { "registered" } else { "none" }.to_string(),
                    if contact.email.is_some() { "registered" } else { "none" }.to_string(),
                ]);
            }
            if rota.is_empty() {
                global.note(
                    "Nobody is on call: `vitalcore oncall set CF32 --role responder --user NAME --from ... --to ...`",
                );
            }
            write_output(None, &t.render(format)?)
        }
        Command::Contact { user, phone, email, default_country_code, admin } => {
            let by = account(&*store, &admin)?;
            let who = account(&*store, &user)?;
            let c = set_staff_contact(
                &*store,
                &by,
                &who.id,
                phone.as_deref(),
                email.as_deref(),
                default_country_code.as_deref(),
            )?;
            println!(
                "{}: phone {}, e-mail {}",
                who.username,
                c.phone.as_deref().unwrap_or("none"),
                c.email.as_deref().unwrap_or("none")
            );
            Ok(())
        }
    }
}

pub fn account(store: &dyn ReportStore, name: &str) -> Result<User> {
    if name.trim().is_empty() {
        bail!("say who with --as NAME (or VITALCORE_USER)");
    }
    store
        .user_by_username(name)?
        .ok_or_else(|| anyhow!("no user `{name}`: create it with `vitalcore users add {name} --role ...`"))
}

/// `2026-12-08T08:00` (UTC) or an RFC 3339 time.
fn time(text: &str, flag: &str) -> Result<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let civil: jiff::civil::DateTime = text
        .parse()
        .map_err(|_| anyhow!("{flag} {text}: write a time such as 2026-12-08T08:00 (UTC) or 2026-12-08T08:00+01:00"))?;
    Ok(jiff::tz::TimeZone::UTC.to_timestamp(civil)?)
}
