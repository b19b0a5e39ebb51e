//! `vitalcore users`: accounts, roles, sessions, partner API tokens and the
//! contact key. Parses, calls `vitalcore_app::accounts`, renders.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Context as _, Result, anyhow, bail};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use vitalcore_app::accounts::{self, SessionPolicy};
use vitalcore_app::audit::CLI_ACTOR;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_intake::ContactKey;
use vitalcore_intake::duration::{format_duration, parse_duration};
use vitalcore_security::auth::{ApiToken, Role};
use vitalcore_store::reports::{AccessEnded, TokenSelector};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create an account (the password is read from a prompt or standard input)
    Add(AddArgs),
    /// Every account: role, community, enabled or not, live sessions and tokens, last seen
    List(ListArgs),
    /// Disable an account: its sessions end and its API tokens are revoked at once
    Disable(NameArgs),
    /// Enable a disabled account again (its old sessions and tokens stay ended)
    Enable(NameArgs),
    /// Set a new password (from a prompt or standard input); the account's sessions and tokens end at once
    Passwd(PasswdArgs),
    /// Give an account another role; its sessions and tokens end at once
    Role(RoleArgs),
    /// Create an API token for a partner system acting as this user (printed once)
    Token(TokenArgs),
    /// An account's API tokens: id, partner, created, expires, revoked
    Tokens(NameListArgs),
    /// Revoke API tokens: every token of a partner, or one by its id (see `users tokens`)
    Revoke(RevokeArgs),
    /// An account's browser sessions: id, started, last seen, ends
    Sessions(NameListArgs),
    /// End an account's browser sessions (all, or one by its id)
    RevokeSessions(RevokeSessionsArgs),
    /// Generate the contact encryption key into a new file (keep it safe: losing it loses every contact)
    Keygen(KeygenArgs),
}

#[derive(clap::Args)]
struct AddArgs {
    name: String,
    /// admin, analyst, responder, focal-point or viewer
    #[arg(long)]
    role: String,
    /// Area P-code of a focal point's community
    #[arg(long)]
    community: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long)]
    password_stdin: bool,
}

#[derive(clap::Args)]
struct NameArgs {
    name: String,
}

#[derive(clap::Args)]
struct ListArgs {
    /// table, csv or json
    #[arg(long, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
struct NameListArgs {
    name: String,
    /// table, csv or json
    #[arg(long, default_value = "table")]
    format: Format,
}

#[derive(clap::Args)]
struct PasswdArgs {
    name: String,
    /// Read the new password from the first line of standard input
    #[arg(long)]
    password_stdin: bool,
}

#[derive(clap::Args)]
struct RoleArgs {
    name: String,
    /// admin, analyst, responder, focal-point or viewer
    #[arg(long)]
    role: String,
    /// Area P-code of a focal point's community
    #[arg(long)]
    community: Option<String>,
}

#[derive(clap::Args)]
struct TokenArgs {
    name: String,
    /// The partner system's name (recorded as the channel of its reports)
    #[arg(long)]
    partner: String,
    /// The token stops working after this long (e.g. 90d, 12w, 24h); default: until revoked
    #[arg(long)]
    expires: Option<String>,
}

#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct RevokeArgs {
    /// Revoke every token of this partner system
    #[arg(long)]
    partner: Option<String>,
    /// Revoke the token with this id (10 hex digits, from `vitalcore users tokens NAME`)
    #[arg(long)]
    id: Option<String>,
}

#[derive(clap::Args)]
struct RevokeSessionsArgs {
    name: String,
    /// End only the session with this id (from `vitalcore users sessions NAME`)
    #[arg(long)]
    id: Option<String>,
}

#[derive(clap::Args)]
struct KeygenArgs {
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    match args.command {
        Command::Add(a) => add(a, global),
        Command::List(a) => list(a, global),
        Command::Disable(a) => disable(a, global),
        Command::Enable(a) => enable(a, global),
        Command::Passwd(a) => passwd(a, global),
        Command::Role(a) => set_role(a, global),
        Command::Token(a) => token(a, global),
        Command::Tokens(a) => tokens(a, global),
        Command::Revoke(a) => revoke(a, global),
        Command::Sessions(a) => sessions(a, global),
        Command::RevokeSessions(a) => revoke_sessions(a, global),
        Command::Keygen(a) => keygen(a, global),
    }
}

fn read_password(from_stdin: bool) -> Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin && stdin.is_terminal() {
        eprint!("Password (at least 10 characters; typed characters are shown): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Times as the tables show them: UTC to the second.
fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

fn when_opt(t: Option<Timestamp>) -> String {
    t.map(when).unwrap_or_default()
}

fn ended(e: AccessEnded) -> String {
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    format!("{} ended, {} revoked", plural(e.sessions_ended, "session"), plural(e.tokens_revoked, "API token"))
}

fn json(value: &impl serde::Serialize) -> Result<()> {
    write_output(None, &(serde_json::to_string_pretty(value)? + "\n"))
}

fn no_geojson(format: Format) -> Result<()> {
    if format == Format::Geojson {
        bail!("accounts have no GeoJSON form: use table, csv or json");
    }
    Ok(())
}

fn add(a: AddArgs, global: &Global) -> Result<()> {
    let role: Role = a.role.parse().map_err(|e: String| anyhow!(e))?;
    let (events, store) = global.open_stores()?;
    if store.user_by_username(&a.name)?.is_some() {
        bail!("the user `{}` already exists", a.name);
    }
    let community = a.community.as_deref().map(|c| community_pcode(&*events, c)).transpose()?;
    let password = read_password(a.password_stdin)?;
    let user = accounts::create_user(&*store, &a.name, role, community.as_deref(), &password, CLI_ACTOR)?;
    global.note(format!(
        "created {} ({}{})",
        user.username,
        user.role,
        user.community.as_deref().map(|c| format!(", community {c}")).unwrap_or_default()
    ));
    Ok(())
}

/// A focal point's community, as reports name areas: one of the loaded
/// areas (spelt as stored), or with none loaded, a P-code by its shape.
fn community_pcode(events: &dyn vitalcore_store::Store, raw: &str) -> Result<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let areas = events.areas()?;
    if areas.is_empty() {
        if !vitalcore_intake::text::is_pcode(raw) {
            bail!(
                "--community `{}` is not a P-code: use letters and digits (and - or _ after the first), at most {} characters",
                vitalcore_intake::text::clean_line(raw),
                vitalcore_intake::text::MAX_PCODE_CHARS
            );
        }
        return Ok(raw.to_string());
    }
    areas.iter().find(|a| a.pcode.eq_ignore_ascii_case(raw)).map(|a| a.pcode.clone()).ok_or_else(|| {
        anyhow!(
            "--community `{}` is not the P-code of a loaded area (see `vitalcore status` and the boundaries file)",
            vitalcore_intake::text::clean_line(raw)
        )
    })
}

fn list(a: ListArgs, global: &Global) -> Result<()> {
    no_geojson(a.format)?;
    let store = global.open_reports()?;
    let policy = SessionPolicy::of(&IntakeConfig::default());
    let rows = accounts::list_users(&*store, &policy, Timestamp::now())?;
    if a.format == Format::Json {
        return json(&rows);
    }
    let mut t = Table::new(&[
        ("user", "#contact+name"),
        ("role", "#contact+role"),
        ("community", "#adm1+code"),
        ("status", "#status"),
        ("sessions", "#indicator+sessions"),
        ("tokens", "#indicator+tokens"),
        ("last_seen", "#date+seen"),
    ]);
    for r in &rows {
        t.row(vec![
            r.username.clone(),
            r.role.to_string(),
            r.community.clone().unwrap_or_default(),
            if r.active { "enabled" } else { "disabled" }.to_string(),
            r.sessions.to_string(),
            r.tokens.to_string(),
            when_opt(r.last_seen_at),
        ]);
    }
    write_output(None, &t.render(a.format)?)
}

fn disable(a: NameArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let (user, e) = accounts::disable_user(&*store, &a.name, Timestamp::now(), CLI_ACTOR)?;
    println!("{} disabled: {}", user.username, ended(e));
    Ok(())
}

fn enable(a: NameArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let user = accounts::enable_user(&*store, &a.name, CLI_ACTOR)?;
    println!("{} enabled", user.username);
    global.note("sessions and tokens ended before stay ended: log in again, and issue partners new tokens");
    Ok(())
}

fn passwd(a: PasswdArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    if store.user_by_username(&a.name)?.is_none() {
        bail!("no user `{}` (see `vitalcore users list`)", a.name);
    }
    let password = read_password(a.password_stdin)?;
    let (user, e) = accounts::change_password(&*store, &a.name, &password, Timestamp::now(), CLI_ACTOR)?;
    println!("{}: new password set; {}", user.username, ended(e));
    Ok(())
}

fn set_role(a: RoleArgs, global: &Global) -> Result<()> {
    let role: Role = a.role.parse().map_err(|e: String| anyhow!(e))?;
    let (events, store) = global.open_stores()?;
    let community = a.community.as_deref().map(|c| community_pcode(&*events, c)).transpose()?;
    let (user, e) = accounts::set_role(&*store, &a.name, role, community.as_deref(), Timestamp::now(), CLI_ACTOR)?;
    let place = user.community.as_deref().map(|c| format!(", community {c}")).unwrap_or_default();
    println!("{} is now {}{place}; {}", user.username, user.role, ended(e));
    Ok(())
}

fn token(a: TokenArgs, global: &Global) -> Result<()> {
    let expires = a.expires.as_deref().map(parse_duration).transpose().map_err(|e| anyhow!("--expires: {e}"))?;
    let store = global.open_reports()?;
    let (token, stored) =
        accounts::issue_api_token(&*store, &a.name, &a.partner, expires, Timestamp::now(), CLI_ACTOR)?;
    println!("{}", token.secret.expose_secret());
    let user = store.user(&stored.user_id)?.map(|u| format!("{} ({})", u.username, u.role)).unwrap_or_default();
    let until = match (stored.expires_at, expires) {
        (Some(at), Some(d)) => format!("expires {} (in {})", when(at), format_duration(d)),
        _ => "valid until revoked".to_string(),
    };
    global.note(format!(
        "API token {} for partner `{}` acting as {user}, {until}. It is shown only this once; send it as \
         `Authorization: Bearer <token>`. Revoke it with `vitalcore users revoke --id {}`.",
        stored.public_id(),
        stored.partner,
        stored.public_id()
    ));
    Ok(())
}

fn token_state(t: &ApiToken, now: Timestamp) -> &'static str {
    match (t.revoked_at, t.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(e)) if e <= now => "expired",
        _ => "valid",
    }
}

fn tokens(a: NameListArgs, global: &Global) -> Result<()> {
    no_geojson(a.format)?;
    let store = global.open_reports()?;
    let now = Timestamp::now();
    let list = accounts::tokens_of(&*store, &a.name)?;
    if a.format == Format::Json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|t| {
                serde_json::json!({ "id": t.public_id(), "partner": t.partner, "created_at": t.created_at,
                    "expires_at": t.expires_at, "revoked_at": t.revoked_at, "state": token_state(t, now) })
            })
            .collect();
        return json(&rows);
    }
    let mut t = Table::new(&[
        ("id", "#meta+id"),
        ("partner", "#org+partner"),
        ("created", "#date+created"),
        ("expires", "#date+expires"),
        ("revoked", "#date+revoked"),
        ("state", "#status"),
    ]);
    for k in &list {
        t.row(vec![
            k.public_id(),
            k.partner.clone(),
            when(k.created_at),
            when_opt(k.expires_at),
            when_opt(k.revoked_at),
            token_state(k, now).to_string(),
        ]);
    }
    write_output(None, &t.render(a.format)?)
}

fn revoke(a: RevokeArgs, global: &Global) -> Result<()> {
    let which = match (a.partner, a.id) {
        (Some(p), None) => TokenSelector::Partner(p),
        (None, Some(id)) => TokenSelector::PublicId(id),
        _ => bail!("give either --partner NAME or --id ID"),
    };
    let store = global.open_reports()?;
    let revoked = accounts::revoke_tokens(&*store, &which, Timestamp::now(), CLI_ACTOR)?;
    for t in &revoked {
        let user = store.user(&t.user_id)?.map(|u| u.username).unwrap_or_else(|| t.user_id.clone());
        println!("revoked {} (partner `{}`, acting as {user})", t.public_id(), t.partner);
    }
    if revoked.is_empty() {
        global.note("nothing to revoke: every token named was already revoked");
    }
    Ok(())
}

fn sessions(a: NameListArgs, global: &Global) -> Result<()> {
    no_geojson(a.format)?;
    let store = global.open_reports()?;
    let now = Timestamp::now();
    let idle = SessionPolicy::of(&IntakeConfig::default()).idle;
    let list = accounts::sessions_of(&*store, &a.name)?;
    let state = |s: &vitalcore_security::auth::Session| if s.is_valid_at(now, idle) { "live" } else { "ended" };
    if a.format == Format::Json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|s| {
                serde_json::json!({ "id": s.public_id(), "created_at": s.created_at, "last_seen_at": s.last_seen_at,
                    "expires_at": s.expires_at, "state": state(s) })
            })
            .collect();
        return json(&rows);
    }
    let mut t = Table::new(&[
        ("id", "#meta+id"),
        ("started", "#date+start"),
        ("last_seen", "#date+seen"),
        ("ends", "#date+end"),
        ("state", "#status"),
    ]);
    for s in &list {
        t.row(vec![s.public_id(), when(s.created_at), when(s.last_seen_at), when(s.expires_at), state(s).to_string()]);
    }
    write_output(None, &t.render(a.format)?)
}

fn revoke_sessions(a: RevokeSessionsArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let n = accounts::end_sessions(&*store, &a.name, a.id.as_deref())?;
    println!("{}: {n} session{} ended", a.name, if n == 1 { "" } else { "s" });
    Ok(())
}

fn keygen(a: KeygenArgs, global: &Global) -> Result<()> {
    if a.out.exists() {
        bail!(
            "{} already exists: a new key would make the contacts sealed with the old one unreadable. Choose another file",
            a.out.display()
        );
    }
    let (key, hex) = ContactKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    writeln!(file, "{}", hex.expose_secret())?;
    file.sync_all()?;
    global.note(format!(
        "wrote the contact key (id {}) to {} (readable by you only). Keep a copy somewhere safe: without it no stored contact can be read. Use it with --key-file {} or VITALCORE_KEY_FILE.",
        key.id(),
        a.out.display(),
        a.out.display()
    ));
    Ok(())
}
