//! `vitalcore oncall`: who is on call, per area and role (responder,
//! analyst, supervisor), with time windows and fallbacks, and the staff
//! phones and e-mail addresses notifications go to.

use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use vitalcore_app::notify::{OnCallRequest, put_on_call, remove_on_call, set_staff_contact};
use vitalcore_intake::notify::DutyRole;
use vitalcore_security::auth::User;
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
    /// Take an entry off the rota (its id as `oncall show` lists it)
    Remove {
        id: i64,
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
            account(&*store, &user)?;
            let request = OnCallRequest {
                area,
                role: role.to_string(),
                user: user.clone(),
                from,
                to: to.unwrap_or_default(),
                fallback,
            };
            let (id, entry) = put_on_call(&*store, &by, &request, Timestamp::now()).map_err(as_flags)?;
            let until = entry.to.map(|t| t.to_string()).unwrap_or_else(|| "open-ended".into());
            let kind = if fallback { " (fallback)" } else { "" };
            println!(
                "rota entry {id}: {user} on call as {role} for {} from {} to {until}{kind}",
                entry.area_pcode, entry.from
            );
            Ok(())
        }
        Command::Remove { id, admin } => {
            let by = account(&*store, &admin)?;
            let removed = remove_on_call(&*store, &by, id, Timestamp::now())?;
            let name = store.user(&removed.user_id)?.map(|u| u.username).unwrap_or(removed.user_id);
            println!(
                "rota entry {id} removed: {name} no longer on call as {} for {}",
                removed.role, removed.area_pcode
            );
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

/// The request's field names as this command's flags (`to: ...` as `--to: ...`).
fn as_flags(e: vitalcore_app::notify::NotifyError) -> anyhow::Error {
    let text = e.to_string();
    for field in ["area", "role", "user", "from", "to"] {
        if let Some(rest) = text.strip_prefix(&format!("{field}: ")) {
            let flag = if field == "area" { "AREA".to_string() } else { format!("--{field}") };
            return anyhow!("{flag}: {rest}");
        }
    }
    anyhow!(text)
}
