//! `vitalcore serve`: the web application, JSON API and community intake.

use crate::config::{TWILIO_TOKEN_ENV, Webhooks};
use crate::context::Global;
use anyhow::{Context as _, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_app::reports::IntakeConfig;
use vitalcore_intake::workflow::Deadlines;
use vitalcore_server::AppState;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on. The default only accepts connections from this
    /// computer; use 0.0.0.0:8080 to open it to the network.
    #[arg(long, default_value = "127.0.0.1:8080", env = "VITALCORE_ADDR")]
    pub addr: SocketAddr,
    /// Refuse anonymous reports through the web form (staff and focal points log in)
    #[arg(long, env = "VITALCORE_REQUIRE_LOGIN")]
    pub require_login: bool,
    /// The config file (TOML) with the SMS webhooks' secrets: [webhooks]
    /// twilio_auth_token, rapidpro_secret, public_url. Without a secret (here
    /// or in VITALCORE_TWILIO_AUTH_TOKEN / VITALCORE_RAPIDPRO_SECRET) that SMS
    /// channel is closed. A file holding secrets must be `chmod 600`.
    #[arg(long, env = "VITALCORE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Refused: a secret on the command line is seen by every user (ps)
    #[arg(long, hide = true)]
    pub twilio_auth_token: Option<String>,
    /// The public base URL the server is reached at (https://...), as SMS
    /// gateways sign it (overrides [webhooks] public_url)
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
    /// A browser session left unused this many minutes ends (the user logs in again)
    #[arg(long, default_value_t = 30, env = "VITALCORE_SESSION_IDLE_MINUTES", value_parser = clap::value_parser!(i64).range(1..))]
    pub session_idle_minutes: i64,
    /// A folder of Security Council resolutions (Akoma Ntoso XML) for the mandate routes and page
    /// (/api/v1/mandates/..., /mandates); without it they read those stored by `vitalcore mandate import`
    #[arg(long, env = "VITALCORE_MANDATES")]
    pub mandates: Option<PathBuf>,
}

impl Args {
    /// The defaults, listening on `addr` (the demo serves with these).
    pub fn defaults(addr: SocketAddr) -> Args {
        Args {
            addr,
            require_login: false,
            config: None,
            twilio_auth_token: None,
            public_url: None,
            model: None,
            deadlines: None,
            max_body: 64 * 1024,
            session_idle_minutes: IntakeConfig::default().session_idle_minutes,
            mandates: None,
        }
    }
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    if args.twilio_auth_token.is_some() {
        bail!(
            "--twilio-auth-token is no longer accepted: on the command line the token is seen by every user of this \
             computer (ps) and kept in the shell history (consider it exposed and rotate it in the Twilio console). \
             Put it in the config file as `twilio_auth_token = \"...\"` under [webhooks] (chmod 600 the file) and \
             pass --config FILE, or set the environment variable {TWILIO_TOKEN_ENV}"
        );
    }
    let webhooks = Webhooks::load(args.config.as_deref())?;
    // [notify] checked whole before anything starts: a bad key, a missing
    // secret or an SMTP server refusing the login stops here, named.
    let notify = crate::config::notify(args.config.as_deref())?.map(Arc::new);
    let channels = match &notify {
        Some(cfg) => {
            let channels = vitalcore_app::notify::Channels::new(cfg.clone())
                .map_err(|e| anyhow::anyhow!("the config file, [notify.email]: {e:?}"))?;
            channels.check_smtp().map_err(|e| anyhow::anyhow!(e))?;
            Some(channels)
        }
        None => None,
    };
    let framework = Arc::new(global.load_framework()?);
    let stores = global.open()?;
    let config = IntakeConfig {
        require_login: args.require_login,
        twilio_auth_token: webhooks.twilio_auth_token.as_ref().map(|(t, _)| t.clone()),
        rapidpro_secret: webhooks.rapidpro_secret.as_ref().map(|(s, _)| s.clone()),
        public_url: args.public_url.clone().or(webhooks.public_url.clone()),
        max_api_body: args.max_body,
        session_idle_minutes: args.session_idle_minutes,
        ..IntakeConfig::default()
    };
    let mut reports = global.reports_service(&*stores.events, stores.reports.clone(), config, args.model.as_deref())?;
    if let Some(path) = &args.deadlines {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        reports = reports.with_deadlines(
            Deadlines::from_toml(&text).with_context(|| format!("the deadline file {}", path.display()))?,
        );
    }
    if let (Some(cfg), Some(channels)) = (notify, channels) {
        let mut notifier = vitalcore_app::notify::Notifier::new(stores.reports.clone(), cfg.clone(), channels);
        notifier.forecasts = Some(stores.forecasts.clone());
        notifier.deadlines = reports.deadlines.clone();
        let notifier = Arc::new(notifier);
        reports = reports.with_notifications(cfg.lowest_urgency(), notifier.wake.clone());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let quiet = global.quiet;
        notifier.spawn(std::time::Duration::from_millis(500), std::time::Duration::from_secs(60), stop, move |m| {
            if !quiet {
                eprintln!("{m}");
            }
        })?;
        let mut names = cfg.channel_names();
        if names.is_empty() {
            names.push("none configured".into());
        }
        global.note(format!(
            "Notifications: new alerts at {} or above, escalations {}, warnings {}; channels: {}",
            cfg.lowest_urgency(),
            if cfg.escalations { "on" } else { "off" },
            if cfg.warnings { "on" } else { "off" },
            names.join(", ")
        ));
    }
    if !reports.key_configured {
        global.note(
            "No contact key: reports with a contact and SMS are refused. Make one with `vitalcore users keygen --out FILE` and pass --key-file FILE.",
        );
    }
    global.note("Intake channels:");
    for channel in reports.channels() {
        let origin = match channel.route {
            "/sms/twilio" if channel.open => webhooks.twilio_auth_token.as_ref().map(|(_, o)| o),
            "/sms/rapidpro" if channel.open => webhooks.rapidpro_secret.as_ref().map(|(_, o)| o),
            _ => None,
        };
        match origin {
            Some(origin) => global.note(format!("  {channel}; secret from {origin}")),
            None => global.note(format!("  {channel}")),
        }
    }
    let state = AppState::with_reports(stores.events, framework, Arc::new(reports));
    let state = AppState::with_forecasts(state, stores.forecasts);
    let mut state = AppState::with_mandate_store(state, stores.mandates);
    if let Some(dir) = args.mandates {
        state = AppState::with_mandates(state, dir);
    }
    serve(AppState::with_sync(state, stores.sync), args.addr, global)
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
