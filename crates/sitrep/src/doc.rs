//! A briefing as a sequence of blocks (headings, paragraphs, tables,
//! charts), laid out once: the HTML file and the PDF both walk these, so
//! they say the same things in the same order.

use crate::charts::Charts;
use crate::format::{count, delta, maybe_hours, percent, score};
use crate::scene::Scene;
use vitalcore_app::briefing::{Briefing, Outcome, WarningKind, period_label};
use vitalcore_app::disclosure::Published;

/// A table cell. `report` marks a figure counted from community reports
/// (published by `app::disclosure` for the audience): the HTML gives it the
/// class `rc`, which the tests read.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub report: bool,
    pub numeric: bool,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), report: false, numeric: false }
    }
    pub fn num(t: impl ToString) -> Cell {
        Cell { text: t.to_string(), report: false, numeric: true }
    }
    pub fn reports(p: Published) -> Cell {
        Cell { text: count(p), report: true, numeric: true }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    /// The three sentences.
    Summary(Vec<String>),
    /// Key figures: (label, value, is a report count).
    Figures(Vec<(String, String, bool)>),
    Table {
        caption: String,
        headers: Vec<String>,
        rows: Vec<Vec<Cell>>,
        widths: Vec<f64>,
    },
    Chart(Scene),
    /// Small multiples side by side.
    Grid(Vec<Scene>),
    Bullets(Vec<String>),
}

/// Who the report is for and what that means for its figures, in a line.
pub fn audience_line(b: &Briefing) -> String {
    match b.audience {
        vitalcore_app::briefing::BriefingAudience::Staff => {
            "Staff report: figures from community reports are exact and \
             warnings carry staff notes; do not publish it as it is."
                .into()
        }
        vitalcore_app::briefing::BriefingAudience::Public => {
            "Public report: counts of community reports are rounded to \
             the nearest 5, counts of 1 to 4 show as <5, np means not published for this period; no staff notes. \
             Event data is exact."
                .into()
        }
    }
}

/// The blocks of a situation report.
pub fn blocks(b: &Briefing) -> Vec<Block> {
    let charts = Charts::of(b);
    let mut out = Vec::new();
    out.push(Block::Heading("Summary".into()));
    out.push(Block::Summary(b.summary.clone()));
    let t = &b.totals;
    let p = &b.previous;
    out.push(Block::Figures(vec![
        ("events".into(), format!("{} ({} before)", t.events, p.events), false),
        ("deaths".into(), format!("{} ({} before)", t.fatalities, p.fatalities), false),
        ("civilian deaths".into(), format!("{} ({} before)", t.civilian_fatalities, p.civilian_fatalities), false),
        ("areas with events".into(), t.areas_affected.to_string(), false),
        ("community reports".into(), count(t.reports), true),
    ]));
    out.push(Block::Paragraph(format!(
        "Period {}, compared with the {} months before ({}). {}",
        period_label(b.from, b.to),
        b.to.index() - b.from.index() + 1,
        period_label(p.months.first, p.months.last),
        match b.data_until {
            Some(d) => format!("Event data up to {d}."),
            None => "No event data in the period.".into(),
        }
    )));

    out.push(Block::Heading("Map and most threatened areas".into()));
    if let Some(map) = charts.map {
        out.push(Block::Chart(map));
    }
    if b.top_areas.is_empty() {
        out.push(Block::Paragraph("No area had events in the period.".into()));
    } else {
        out.push(Block::Table {
            caption: "Areas by their highest critical and pervasive scores in the period".into(),
            headers: ["area", "P-code", "events", "deaths", "top dimension", "critical", "pervasive", "band"]
                .map(String::from)
                .to_vec(),
            rows: b
                .top_areas
                .iter()
                .map(|a| {
                    vec![
                        Cell::text(&a.name),
                        Cell::text(&a.pcode),
                        Cell::num(a.events),
                        Cell::num(a.fatalities),
                        Cell::text(&a.top_dimension),
                        Cell::num(score(a.critical)),
                        Cell::num(score(a.pervasive)),
                        Cell::text(a.band.replace('-', " ")),
                    ]
                })
                .collect(),
            widths: vec![1.6, 0.8, 0.7, 0.7, 1.6, 0.8, 0.8, 0.9],
        });
    }

    out.push(Block::Heading("Priority threats".into()));
    out.push(Block::Paragraph(
        "A threat is a priority when it is both critical and pervasive (both scores 5 or more). Change compares \
         with the period before: new, continuing, or eased (a priority before, not now)."
            .into(),
    ));
    if b.priorities.is_empty() {
        out.push(Block::Paragraph("No threat was a priority in this period or the one before.".into()));
    } else {
        if let Some(chart) = charts.priorities {
            out.push(Block::Chart(chart));
        }
        out.push(Block::Table {
            caption: "Priority threats now, and those that eased".into(),
            headers: ["area", "threat", "critical", "pervasive", "change in critical", "events", "deaths", "status"]
                .map(String::from)
                .to_vec(),
            rows: b
                .priorities
                .iter()
                .map(|t| {
                    vec![
                        Cell::text(format!("{} ({})", t.area, t.pcode)),
                        Cell::text(&t.label),
                        Cell::num(score(t.critical)),
                        Cell::num(score(t.pervasive)),
                        Cell::num(delta(t.critical, t.previous_critical)),
                        Cell::num(t.events),
                        Cell::num(t.fatalities),
                        Cell::text(t.change.as_str()),
                    ]
                })
                .collect(),
            widths: vec![1.7, 1.6, 0.7, 0.8, 0.9, 0.6, 0.6, 0.9],
        });
    }

    out.push(Block::Heading("Trends by dimension and theme".into()));
    if charts.trends.is_empty() {
        out.push(Block::Paragraph("No events or reports in the period.".into()));
    } else {
        out.push(Block::Chart(crate::charts::trend_legend(300.0)));
        out.push(Block::Grid(charts.trends));
        let months = b.trends.first().map(|t| t.months.len()).unwrap_or(0);
        if months <= 12 {
            let mut headers = vec!["community reports".to_string()];
            // `22-01`: twelve months fit across an A4 page.
            headers.extend(
                b.trends[0].months.iter().map(|m| m.month.to_string().get(2..).unwrap_or_default().to_string()),
            );
            let rows = b
                .trends
                .iter()
                .map(|t| {
                    let mut row = vec![Cell::text(&t.label)];
                    row.extend(t.months.iter().map(|m| Cell::reports(m.reports)));
                    row
                })
                .collect();
            let mut widths = vec![2.0];
            widths.extend(std::iter::repeat_n(0.8, months));
            out.push(Block::Table {
                caption: "Community reports by month (counted apart from event data)".into(),
                headers,
                rows,
                widths,
            });
        }
    }

    out.push(Block::Heading("Early warnings and what followed".into()));
    if b.warnings.is_empty() {
        out.push(Block::Paragraph("No early warning for a month of this period.".into()));
    } else {
        let staff = b.audience == vitalcore_app::briefing::BriefingAudience::Staff;
        let mut headers: Vec<String> =
            ["area", "month", "kind", "level", "status", "deaths in the month"].map(String::from).to_vec();
        if staff {
            headers.push("note".into());
        }
        let rows = b
            .warnings
            .iter()
            .map(|w| {
                let x = &w.warning;
                let level = match x.kind {
                    WarningKind::ForecastThreshold => {
                        format!(
                            "P = {} (threshold {})",
                            percent(x.value.unwrap_or(0.0)),
                            percent(x.threshold.unwrap_or(0.0))
                        )
                    }
                    WarningKind::ReportBurst => format!("{} reports", x.value.unwrap_or(0.0)),
                };
                let mut row = vec![
                    Cell::text(format!("{} ({})", w.area, x.unit)),
                    Cell::text(x.month.to_string()),
                    Cell::text(x.kind.as_str()),
                    Cell { text: level, report: x.kind == WarningKind::ReportBurst, numeric: false },
                    Cell::text(x.status.as_str()),
                    match w.outcome {
                        Outcome::Observed(n) => Cell::num(n),
                        Outcome::NotYetKnown => Cell::text("not yet known"),
                    },
                ];
                if staff {
                    row.push(Cell::text(x.note.as_ref().map(|n| format!("{} ({})", n.text, n.by)).unwrap_or_default()));
                }
                row
            })
            .collect();
        let widths = if staff { vec![1.5, 0.7, 1.2, 1.4, 1.0, 0.8, 1.8] } else { vec![1.6, 0.8, 1.4, 1.6, 1.0, 1.0] };
        out.push(Block::Table { caption: "Early warnings for months of the period".into(), headers, rows, widths });
        let observed: Vec<u64> = b
            .warnings
            .iter()
            .filter_map(|w| match w.outcome {
                Outcome::Observed(n) => Some(n),
                Outcome::NotYetKnown => None,
            })
            .collect();
        if !observed.is_empty() {
            out.push(Block::Paragraph(format!(
                "{} of the {} warnings whose month is in the event data were followed by fatalities in that area and month.",
                observed.iter().filter(|n| **n > 0).count(),
                observed.len()
            )));
        }
    }

    out.push(Block::Heading("Alerts and responses".into()));
    match &b.alerts {
        None => out.push(Block::Paragraph("No community reports are stored with this data.".into())),
        Some(a) if a.overall.alerts == Published::Exact(0) => out.push(Block::Paragraph(
            "No alert was received in the period (alerts count by the day they were received; community reports \
             count by the day of what they report)."
                .into(),
        )),
        Some(a) => {
            if let Some(chart) = charts.pipeline {
                out.push(Block::Chart(chart));
            }
            if let Some(chart) = charts.times {
                out.push(Block::Chart(chart));
            }
            let o = &a.overall;
            out.push(Block::Figures(vec![
                ("alerts received".into(), count(o.alerts), true),
                ("unfounded".into(), count(o.unfounded), true),
                ("acknowledged on time".into(), count(o.acknowledged_on_time), true),
                ("responded on time".into(), count(o.responded_on_time), true),
            ]));
            out.push(Block::Table {
                caption: "Alerts received in the period, per area: counts, then median / 90th-percentile times".into(),
                headers: [
                    "area",
                    "received",
                    "acknowledged",
                    "responded",
                    "with feedback",
                    "to acknowledge",
                    "to respond",
                ]
                .map(String::from)
                .to_vec(),
                rows: a
                    .areas
                    .iter()
                    .map(|(pcode, name, p)| {
                        vec![
                            Cell::text(match pcode {
                                Some(c) => format!("{name} ({c})"),
                                None => name.clone(),
                            }),
                            Cell::reports(p.alerts),
                            Cell::reports(p.acknowledged),
                            Cell::reports(p.responded),
                            Cell::reports(p.with_feedback),
                            Cell::text(format!(
                                "{} / {}",
                                maybe_hours(p.median_to_acknowledge),
                                maybe_hours(p.p90_to_acknowledge)
                            )),
                            Cell::text(format!(
                                "{} / {}",
                                maybe_hours(p.median_to_respond),
                                maybe_hours(p.p90_to_respond)
                            )),
                        ]
                    })
                    .collect(),
                widths: vec![1.8, 0.8, 1.0, 0.9, 0.9, 1.2, 1.2],
            });
            out.push(Block::Table {
                caption: "Deadlines by urgency".into(),
                headers: ["urgency", "acknowledge within", "respond within"].map(String::from).to_vec(),
                rows: a
                    .deadlines
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::text(&d.urgency),
                            Cell::text(crate::format::hours_short(d.acknowledge)),
                            Cell::text(crate::format::hours_short(d.respond)),
                        ]
                    })
                    .collect(),
                widths: vec![1.0, 1.0, 1.0],
            });
        }
    }

    out.push(Block::Heading("How far to trust the outlook".into()));
    match &b.calibration {
        None => out.push(Block::Paragraph(
            "No forecast run is stored (`vitalcore warnings run` makes one): no calibration to show.".into(),
        )),
        Some(c) => {
            out.push(Block::Paragraph(format!(
                "The latest forecast run (#{}, model {}, data up to {}) was chosen on a rolling backtest{}. Each dot \
                 is a model at one horizon: its mean predicted chance of any fatality against the share of \
                 area-months that had one (grey: baselines; blue: learned models){}.",
                c.run_id,
                c.model,
                c.origin,
                c.best.as_ref().map(|b| format!(" where {b} had the lowest CRPS")).unwrap_or_default(),
                if c.reliability.is_empty() {
                    ""
                } else {
                    "; the red line bins the stored forecasts whose month is now observed"
                }
            )));
            let grid = charts.reliability.into_iter().chain(charts.crps).collect();
            out.push(Block::Grid(grid));
        }
    }

    out.push(Block::Heading("Data sources and caveats".into()));
    out.push(Block::Table {
        caption: "Records in the period by source".into(),
        headers: ["source", "records", "first", "last", "caveat"].map(String::from).to_vec(),
        rows: b
            .sources
            .iter()
            .map(|s| {
                let reports = s.source == "community-report";
                vec![
                    Cell::text(&s.source),
                    if reports { Cell::reports(s.events) } else { Cell::reports_exact(s.events) },
                    Cell::text(s.first.clone().unwrap_or_else(|| "-".into())),
                    Cell::text(s.last.clone().unwrap_or_else(|| "-".into())),
                    Cell::text(&s.caveat),
                ]
            })
            .collect(),
        widths: vec![1.1, 0.7, 0.9, 0.9, 4.0],
    });
    out.push(Block::Bullets(b.caveats.clone()));
    out.push(Block::Heading("Method".into()));
    out.push(Block::Paragraph(b.method.clone()));
    out.push(Block::Paragraph(audience_line(b)));
    out
}

impl Cell {
    /// Event data counted by source: public, exact.
    fn reports_exact(p: Published) -> Cell {
        Cell::num(count(p))
    }
}
