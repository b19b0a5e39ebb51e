//! `vitalcore`: the command-line entry point. Each subcommand lives in
//! `cmd/<name>.rs`; this file only parses arguments and dispatches.

mod cmd;
mod config;
mod context;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use context::Global;

#[derive(Parser)]
#[command(
    name = "vitalcore",
    version,
    about = "Human-security early warning and response for peace operations",
    after_help = "Start with `vitalcore demo`: it loads real data and opens the map in your browser."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the bundled real data (UCDP GED, Central African Republic) and open the map
    Demo(cmd::demo::Args),
    /// Import event data (UCDP GED, ACLED), HXL tables and boundaries
    Import(cmd::import::Args),
    /// Threats per area and period, by dimension and theme, with their scores
    Assess(cmd::assess::Args),
    /// One area's threat profile
    Profile(cmd::profile::Args),
    /// Export the assessment as CSV, HXL or GeoJSON
    Export(cmd::export::Args),
    /// Start the web application and JSON API
    Serve(cmd::serve::Args),
    /// What the database holds
    Status(cmd::status::Args),
    /// Every stored version of one source event (revisions are kept)
    History(cmd::history::Args),
    /// Submit, list and show community reports
    Report(cmd::report::Args),
    /// The alert queue: acknowledge, verify, assign, respond, close; overdue alerts
    Alerts(cmd::alerts::Args),
    /// Feedback to reporters: the SMS outbox (list, export for bulk sending, send, mark sent)
    Feedback(cmd::feedback::Args),
    /// Accounts, roles and API tokens
    Users(cmd::users::Args),
    /// The audit trail (contact reads, alert steps, logins, accounts, exports): verify the chain, list it
    Audit(cmd::audit::Args),
    /// Who is on call per area and role, and staff phones and e-mail
    Oncall(cmd::oncall::Args),
    /// Notifications to duty officers: the outbox, and a test message
    Notify(cmd::notify::Args),
    /// Train and evaluate the text classifier that reads reports into dimensions
    Classify(cmd::classify::Args),
    /// Monthly violence forecasts per area, and their backtest
    Forecast(cmd::forecast::Args),
    /// Forecasts stored from the database, and the early-warning queue
    Warnings(cmd::warnings::Args),
    /// Field offices and headquarters: sync, offices, status, bundles for a USB stick
    Sync(cmd::sync::Args),
    /// Composite risk indices (INFORM and local)
    Index(cmd::index::Args),
    /// Which threats move together or precede one another
    Network(cmd::network::Args),
    /// A situation report for a period and area, as one HTML file or an A4 PDF
    Sitrep(cmd::sitrep::Args),
    /// Security Council resolutions read through the human-security lens: tag mandates, term trends
    Mandate(cmd::mandate::Args),
    /// Count events and sum fatalities straight from a large event file, no database
    Aggregate(cmd::aggregate::Args),
    /// Write synthetic ACLED-shaped event files for benchmarks and tests
    #[command(hide = true)]
    Generate(cmd::generate::Args),
}

/// Runs the command; an error is printed as `Error: ...` with the causes
/// (as anyhow prints it), any control character in it shown, not sent to
/// the terminal (errors quote input: a value, a file's row).
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", output::terminal_safe(&format!("{e:?}")));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let global = cli.global;
    match cli.command {
        Command::Demo(args) => cmd::demo::run(args, &global),
        Command::Import(args) => cmd::import::run(args, &global),
        Command::Assess(args) => cmd::assess::run(args, &global),
        Command::Profile(args) => cmd::profile::run(args, &global),
        Command::Export(args) => cmd::export::run(args, &global),
        Command::Serve(args) => cmd::serve::run(args, &global),
        Command::Status(args) => cmd::status::run(args, &global),
        Command::History(args) => cmd::history::run(args, &global),
        Command::Report(args) => cmd::report::run(args, &global),
        Command::Alerts(args) => cmd::alerts::run(args, &global),
        Command::Feedback(args) => cmd::feedback::run(args, &global),
        Command::Users(args) => cmd::users::run(args, &global),
        Command::Audit(args) => cmd::audit::run(args, &global),
        Command::Oncall(args) => cmd::oncall::run(args, &global),
        Command::Notify(args) => cmd::notify::run(args, &global),
        Command::Classify(args) => cmd::classify::run(args, &global),
        Command::Forecast(args) => cmd::forecast::run(args, &global),
        Command::Warnings(args) => cmd::warnings::run(args, &global),
        Command::Sync(args) => cmd::sync::run(args, &global),
        Command::Index(args) => cmd::index::run(args, &global),
        Command::Network(args) => cmd::network::run(args, &global),
        Command::Mandate(args) => cmd::mandate::run(args, &global),
        Command::Aggregate(args) => cmd::aggregate::run(args, &global),
        Command::Sitrep(args) => cmd::sitrep::run(args, &global),
        Command::Generate(args) => cmd::generate::run(args),
    }
}
