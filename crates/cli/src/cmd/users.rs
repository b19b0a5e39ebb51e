//! `vitalcore users`: accounts, roles, partner API tokens and the contact key.

use crate::context::Global;
use anyhow::{Context as _, Result, anyhow, bail};
use secrecy::ExposeSecret;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use vitalcore_app::audit::CLI_ACTOR;
use vitalcore_intake::ContactKey;
use vitalcore_security::auth::{ApiToken, Role, Token, TokenKind, User, hash_password};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create an account (the password is read from a prompt or standard input)
    Add(AddArgs),
    /// Create an API token for a partner system acting as this user (printed once)
    Token(TokenArgs),
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
struct TokenArgs {
    name: String,
    /// The partner system's name (recorded as the channel of its reports)
    #[arg(long)]
    partner: String,
}

#[derive(clap::Args)]
struct KeygenArgs {
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    match args.command {
        Command::Add(a) => add(a, global),
        Command::Token(a) => token(a, global),
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

fn add(a: AddArgs, global: &Global) -> Result<()> {
    let role: Role = a.role.parse().map_err(|e: String| anyhow!(e))?;
    let store = global.open_reports()?;
    if store.user_by_username(&a.name)?.is_some() {
        bail!("the user `{}` already exists", a.name);
    }
    let password = read_password(a.password_stdin)?;
    let hash = hash_password(&password)?;
    let user = User::new(&format!("u-{}", a.name), &a.name, role, a.community.as_deref(), hash)?;
    store.save_user(&user, CLI_ACTOR)?;
    global.note(format!(
        "created {} ({}{})",
        user.username,
        user.role,
        user.community.as_deref().map(|c| format!(", community {c}")).unwrap_or_default()
    ));
    Ok(())
}

fn token(a: TokenArgs, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let user = store
        .user_by_username(&a.name)?
        .ok_or_else(|| anyhow!("no user `{}`: create it with `vitalcore users add`", a.name))?;
    let token = Token::generate(TokenKind::Api)?;
    store.save_api_token(
        &ApiToken {
            token_hash: token.hash(),
            partner: a.partner.clone(),
            user_id: user.id.clone(),
            created_at: jiff::Timestamp::now(),
            revoked_at: None,
        },
        CLI_ACTOR,
    )?;
    println!("{}", token.secret.expose_secret());
    global.note(format!(
        "API token for partner `{}` acting as {} ({}). It is shown only this once; send it as `Authorization: Bearer <token>`.",
        a.partner, user.username, user.role
    ));
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
