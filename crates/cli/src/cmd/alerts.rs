//! `vitalcore alerts`: the alert queue and workflow steps for scripts.
//! Steps are recorded under an account (`--as NAME`) whose role allows them.

use crate::context::Global;
use crate::output::{Format, Table, write_output};
use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use vitalcore_app::access::{act_on_alert, load_alert};
use vitalcore_framework::Month;
use vitalcore_intake::Reference;
use vitalcore_intake::outbox::{OutboxFilter, feedback_of, is_sms_channel};
use vitalcore_intake::workflow::{Deadlines, Feedback, Step, StepChannel, metrics, overdue_queue};
use vitalcore_security::auth::User;
use vitalcore_store::reports::{ReportFilter, ReportStore};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Who {
    /// The account the step is recorded under (its role must allow the step)
    #[arg(long = "as", env = "VITALCORE_USER")]
    user: String,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Alerts, overdue first
    List {
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Someone has seen the alert
    Ack {
        reference: String,
        #[command(flatten)]
        who: Who,
    },
    /// The alert is confirmed
    Verify {
        reference: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        who: Who,
    },
    /// The alert is not founded
    Unfounded {
        reference: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// Assign the response
    Assign {
        reference: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        unit: String,
        #[command(flatten)]
        who: Who,
    },
    /// Record the response, and what was said back to the community
    Respond {
        reference: String,
        #[arg(long)]
        action: String,
        /// The message sent back to the reporter or community
        #[arg(long)]
        feedback: Option<String>,
        /// How the feedback was given (sms, phone, community_meeting, radio, focal_point, web)
        #[arg(long, default_value = "focal_point")]
        channel: String,
        #[command(flatten)]
        who: Who,
    },
    /// Close the alert with its outcome
    Close {
        reference: String,
        #[arg(long)]
        outcome: String,
        #[command(flatten)]
        who: Who,
    },
    /// Record what was told to the reporter or community (after a response,
    /// or on an unfounded or closed alert). With --channel sms and a reporter
    /// who gave a phone, an SMS is queued: see `vitalcore feedback outbox`.
    Feedback {
        reference: String,
        /// What was said: for SMS, only what concerns this reporter
        #[arg(long)]
        message: String,
        /// How (sms, phone, community_meeting, radio, focal_point, web)
        #[arg(long)]
        channel: String,
        #[command(flatten)]
        who: Who,
    },
    /// Per area and month: time to acknowledge and respond, share responded, share with feedback
    Metrics {
        /// First month received, YYYY-MM
        #[arg(long)]
        from: Option<Month>,
        /// Last month received, YYYY-MM
        #[arg(long)]
        to: Option<Month>,
        #[arg(long, default_value = "table")]
        format: Format,
    },
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let store = global.open_reports()?;
    let now = Timestamp::now();
    let (reference, step, who) = match args.command {
        Command::List { overdue, format } => return list(&*store, overdue, format, now),
        Command::Metrics { from, to, format } => return show_metrics(&*store, from, to, format),
        Command::Ack { reference, who } => (reference, Step::Acknowledge, who),
        Command::Verify { reference, note, who } => (reference, Step::Verify { note }, who),
        Command::Unfounded { reference, reason, who } => (reference, Step::MarkUnfounded { reason }, who),
        Command::Assign { reference, owner, unit, who } => (reference, Step::Assign { owner, unit }, who),
        Command::Respond { reference, action, feedback, channel, who } => {
            let feedback = feedback.map(|message| Feedback { message, channel, sent_at: now });
            (reference, Step::Respond { action, feedback }, who)
        }
        Command::Close { reference, outcome, who } => (reference, Step::Close { outcome }, who),
        Command::Feedback { reference, message, channel, who } => {
            (reference, Step::GiveFeedback { feedback: Feedback { message, channel, sent_at: now } }, who)
        }
    };
    let user = account(&*store, &who.user)?;
    let reference: Reference = reference.parse()?;
    let name = step.name();
    let queues_sms = feedback_of(&step).is_some_and(|f| is_sms_channel(&f.channel));
    let alert = act_on_alert(&*store, &user, &reference, step, now, StepChannel::Cli)?;
    println!("{reference}: {}", alert.state());
    global.note(format!("{name} recorded by {} at {now}", user.username));
    if queues_sms {
        let seq = alert.steps().len() as u32 - 1;
        let queued = store.outbox(&OutboxFilter { report: Some(reference.clone()), ..OutboxFilter::default() })?;
        match queued.iter().find(|m| m.step_seq == seq) {
            Some(m) => global.note(format!("SMS #{} queued for the reporter: `vitalcore feedback outbox list`", m.id)),
            None => global.note("no SMS queued: the reporter left no contact"),
        }
    }
    Ok(())
}

fn account(store: &dyn ReportStore, name: &str) -> Result<User> {
    store
        .user_by_username(name)?
        .ok_or_else(|| anyhow!("no user `{name}`: create it with `vitalcore users add {name} --role ...`"))
}

fn list(store: &dyn ReportStore, only_overdue: bool, format: Format, now: Timestamp) -> Result<()> {
    let deadlines = Deadlines::built_in();
    let reports = store.reports(&ReportFilter::default())?;
    let mut alerts = Vec::with_capacity(reports.len());
    for r in &reports {
        alerts.push(load_alert(store, r)?);
    }
    let queue = overdue_queue(&alerts, &deadlines, now);
    let mut rows: Vec<(&vitalcore_intake::workflow::Alert, Option<vitalcore_intake::workflow::Overdue>)> =
        queue.iter().map(|(a, o)| (*a, Some(o.clone()))).collect();
    if !only_overdue {
        let mut rest: Vec<_> = alerts.iter().filter(|a| a.overdue(&deadlines, now).is_none()).collect();
        rest.sort_by_key(|a| std::cmp::Reverse(a.received_at));
        rows.extend(rest.into_iter().map(|a| (a, None)));
    }
    if format == Format::Json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(a, o)| serde_json::json!({ "reference": a.reference, "area_pcode": a.area_pcode, "urgency": a.urgency, "received_at": a.received_at, "state": a.state(), "overdue": o }))
            .collect();
        return write_output(None, &(serde_json::to_string_pretty(&v)? + "\n"));
    }
    if format == Format::Geojson {
        bail!("alerts have no GeoJSON form");
    }
    let mut t = Table::new(&[
        ("reference", "#meta+id"),
        ("received_at", "#date+received"),
        ("area", "#adm1+code"),
        ("urgency", "#severity+urgency"),
        ("state", "#status"),
        ("overdue", "#status+overdue"),
    ]);
    for (a, o) in &rows {
        t.row(vec![
            a.reference.to_string(),
            a.received_at.strftime("%Y-%m-%d %H:%M").to_string(),
            a.area_pcode.clone().unwrap_or_default(),
            a.urgency.to_string(),
            a.state().to_string(),
            o.as_ref().map(|o| format!("{:?} late {} (level {})", o.kind, o.late_by, o.level)).unwrap_or_default(),
        ]);
    }
    write_output(None, &t.render(format)?)
}

fn show_metrics(store: &dyn ReportStore, from: Option<Month>, to: Option<Month>, format: Format) -> Result<()> {
    let start = |m: Month| jiff::tz::TimeZone::UTC.to_timestamp(m.first_day().at(0, 0, 0, 0)).ok();
    let filter = ReportFilter {
        received_from: from.and_then(start),
        received_until: to.and_then(|m| start(m.succ())),
        ..ReportFilter::default()
    };
    let reports = store.reports(&filter)?;
    let mut alerts = Vec::with_capacity(reports.len());
    for r in &reports {
        alerts.push(load_alert(store, r)?);
    }
    let rows = metrics(&alerts);
    if format == Format::Json {
        return write_output(None, &(serde_json::to_string_pretty(&rows)? + "\n"));
    }
    if format == Format::Geojson {
        bail!("metrics have no GeoJSON form");
    }
    let hours =
        |d: Option<jiff::SignedDuration>| d.map(|d| format!("{:.1}", d.as_secs_f64() / 3600.0)).unwrap_or_default();
    let share = |s: Option<f64>| s.map(|s| format!("{:.0}%", s * 100.0)).unwrap_or_default();
    let mut t = Table::new(&[
        ("area", "#adm1+code"),
        ("month", "#date+month"),
        ("alerts", "#indicator+alerts"),
        ("unfounded", "#indicator+unfounded"),
        ("median_hours_to_ack", "#indicator+hours+ack"),
        ("median_hours_to_respond", "#indicator+hours+respond"),
        ("p90_hours_to_respond", "#indicator+hours+respond+p90"),
        ("share_responded", "#indicator+pct+responded"),
        ("share_with_feedback", "#indicator+pct+feedback"),
    ]);
    for m in &rows {
        t.row(vec![
            m.area_pcode.clone().unwrap_or_else(|| "-".into()),
            m.month.to_string(),
            m.alerts.to_string(),
            m.unfounded.to_string(),
            hours(m.median_to_acknowledge),
            hours(m.median_to_respond),
            hours(m.p90_to_respond),
            share(m.share_responded),
            share(m.share_with_feedback),
        ]);
    }
    write_output(None, &t.render(format)?)
}
