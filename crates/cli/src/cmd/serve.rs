//! `vitalcore serve`: the web application, JSON API and community intake.

use crate::context::Global;
use anyhow::{Context as _, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_intake::workflow::Deadlines;
use vitalcore_server::{AppState, IntakeConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on. The default only accepts connections from this
    /// computer; use 0.0.0.0:8080 to open it to the network.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VITALCORE_ADDR")]
    pub addr: SocketAddr,
    /// Refuse anonymous reports through the web form (staff and focal points log in)
    #[arg(long, env = "VITALCORE_REQUIRE_LOGIN")]
    pub require_login: bool,
    /// Twilio auth token: inbound SMS webhooks must carry a matching X-Twilio-Signature
    #[arg(long, env = "VITALCORE_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// The public base URL the server is reached at (https://...), as SMS gateways sign it
    #[arg(long, env = "VITALCORE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A trained classifier model reading report text (default: the built-in lexicon)
    #[arg(long, env = "VITALCORE_MODEL")]
    pub model: Option<PathBuf>,
    /// Deadlines per urgency (TOML; default: critical 1h/6h, high 4h/24h, medium 24h/3d, low 3d/14d)
    #[arg(long)]
    pub deadlines: Option<PathBuf>,
    /// Largest JSON body the API accepts, in bytes
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body: usize,
}

impl Args {
    /// The defaults, listening on `addr` (the demo serves with these).
    pub fn defaults(addr: SocketAddr) -> Args {
        Args {
            addr,
            require_login: false,
            twilio_auth_token: None,
            public_url: None,
            model: None,
            deadlines: None,
            max_body: 64 * 1024,
        }
    }
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let framework = Arc::new(global.load_framework()?);
    let (store, report_store) = global.open_stores()?;
    let config = IntakeConfig {
        require_login: args.require_login,
        twilio_auth_token: args.twilio_auth_token.clone(),
        public_url: args.public_url.clone(),
        max_api_body: args.max_body,
        ..IntakeConfig::default()
    };
    let mut reports = global.reports_service(&*store, report_store, config, args.model.as_deref())?;
    if let Some(path) = &args.deadlines {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        reports = reports.with_deadlines(
            Deadlines::from_toml(&text).with_context(|| format!("the deadline file {}", path.display()))?,
        );
    }
    if !reports.key_configured {
        global.note(
            "No contact key: reports with a contact and SMS are refused. Make one with `vitalcore users keygen --out FILE` and pass --key-file FILE.",
        );
    }
    let state = AppState::with_reports(store, framework, Arc::new(reports));
    serve(AppState::with_forecasts(state, crate::cmd::warnings::open_forecasts(global)?), args.addr, global)
}

pub fn serve(state: Arc<AppState>, addr: SocketAddr, global: &Global) -> Result<()> {
    let quiet = global.quiet;
    // Requests, sign-ins and refusals at info; --quiet logs failures only (VITALCORE_LOG overrides).
    vitalcore_server::init_logging(if quiet { "error" } else { "info" });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(vitalcore_server::serve(state, addr, |bound| {
        // Scripts and tests read this line to learn the port.
        println!("listening on http://{bound}/");
        if !quiet {
            eprintln!("Open http://{bound}/ in a browser. Stop with Ctrl-C.");
        }
    }))?;
    Ok(())
}
