//! A briefing as a sequence of blocks (headings, paragraphs, tables,
//! charts), laid out once: the HTML file and the PDF both walk these, so
//! they say the same things in the same order.

use crate::charts::Charts;
use crate::format::{count, delta, maybe_hours, percent, score};
use crate::scene::Scene;
use vitalcore_app::briefing::texts::{self, t, tf};
use vitalcore_app::briefing::{Briefing, Outcome, WarningKind};
use vitalcore_app::disclosure::Published;
use vitalcore_app::mandates::MissionCoverage;
use vitalcore_framework::Month;

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
        vitalcore_app::briefing::BriefingAudience::Staff => t(b.lang, "doc.audience_staff").into(),
        vitalcore_app::briefing::BriefingAudience::Public => t(b.lang, "doc.audience_public").into(),
    }
}

/// The audience's name in the report's language (`staff`, `interne`).
pub fn audience_name(b: &Briefing) -> &'static str {
    match b.audience {
        vitalcore_app::briefing::BriefingAudience::Staff => t(b.lang, "doc.staff"),
        vitalcore_app::briefing::BriefingAudience::Public => t(b.lang, "doc.public"),
    }
}

/// Table headers from message keys.
fn headers(lang: &str, keys: &[&'static str]) -> Vec<String> {
    keys.iter().map(|k| t(lang, k).to_string()).collect()
}

/// The blocks of a situation report.
pub fn blocks(b: &Briefing) -> Vec<Block> {
    let charts = Charts::of(b);
    let l = b.lang;
    let h = |key: &'static str| Block::Heading(t(l, key).into());
    let p_ = |key: &'static str| Block::Paragraph(t(l, key).into());
    let score = |v: f64| score(l, v);
    let mut out = Vec::new();
    out.push(h("doc.h_summary"));
    out.push(Block::Summary(b.summary.clone()));
    let tot = &b.totals;
    let p = &b.previous;
    let before = |now: u64, was: u64| tf(l, "doc.f_before", &[("now", &now.to_string()), ("before", &was.to_string())]);
    out.push(Block::Figures(vec![
        (t(l, "doc.f_events").into(), before(tot.events, p.events), false),
        (t(l, "doc.f_deaths").into(), before(tot.fatalities, p.fatalities), false),
        (t(l, "doc.f_civilian").into(), before(tot.civilian_fatalities, p.civilian_fatalities), false),
        (t(l, "doc.f_areas").into(), tot.areas_affected.to_string(), false),
        (t(l, "doc.f_reports").into(), count(tot.reports), true),
    ]));
    let data = match b.data_until {
        Some(d) => tf(l, "doc.data_until", &[("month", &texts::month(l, d))]),
        None => t(l, "doc.no_data").into(),
    };
    out.push(Block::Paragraph(tf(
        l,
        "doc.period",
        &[
            ("period", &texts::period(l, b.from, b.to)),
            ("n", &(b.to.index() - b.from.index() + 1).to_string()),
            ("before", &texts::period(l, p.months.first, p.months.last)),
            ("data", &data),
        ],
    )));

    out.push(h("doc.h_map"));
    if let Some(map) = charts.map {
        out.push(Block::Chart(map));
    }
    if b.top_areas.is_empty() {
        out.push(p_("doc.no_area"));
    } else {
        out.push(Block::Table {
            caption: t(l, "doc.c_areas").into(),
            headers: headers(
                l,
                &[
                    "doc.area",
                    "doc.pcode",
                    "doc.events",
                    "doc.deaths",
                    "doc.top_dimension",
                    "doc.critical",
                    "doc.pervasive",
                    "doc.band",
                ],
            ),
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
                        Cell::text(crate::format::code_label(l, "code", &a.band)),
                    ]
                })
                .collect(),
            widths: vec![1.6, 0.8, 0.7, 0.7, 1.6, 0.8, 0.8, 0.9],
        });
    }

    out.push(h("doc.h_priorities"));
    out.push(p_("doc.priority_intro"));
    if b.priorities.is_empty() {
        out.push(p_("doc.no_priority"));
    } else {
        if let Some(chart) = charts.priorities {
            out.push(Block::Chart(chart));
        }
        out.push(Block::Table {
            caption: t(l, "doc.c_priorities").into(),
            headers: headers(
                l,
                &[
                    "doc.area",
                    "doc.threat",
                    "doc.critical",
                    "doc.pervasive",
                    "doc.change_critical",
                    "doc.events",
                    "doc.deaths",
                    "doc.status",
                ],
            ),
            rows: b
                .priorities
                .iter()
                .map(|t| {
                    vec![
                        Cell::text(format!("{} ({})", t.area, t.pcode)),
                        Cell::text(&t.label),
                        Cell::num(score(t.critical)),
                        Cell::num(score(t.pervasive)),
                        Cell::num(delta(l, t.critical, t.previous_critical)),
                        Cell::num(t.events),
                        Cell::num(t.fatalities),
                        Cell::text(crate::format::change(l, t.change.as_str())),
                    ]
                })
                .collect(),
            widths: vec![1.7, 1.6, 0.7, 0.8, 0.9, 0.6, 0.6, 0.9],
        });
    }

    out.push(h("doc.h_trends"));
    if charts.trends.is_empty() {
        out.push(p_("doc.no_trends"));
    } else {
        out.push(Block::Chart(crate::charts::trend_legend(l, 300.0)));
        out.push(Block::Grid(charts.trends));
        let months = b.trends.first().map(|t| t.months.len()).unwrap_or(0);
        if months <= 12 {
            let mut headers = vec![t(l, "doc.reports_col").to_string()];
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
            out.push(Block::Table { caption: t(l, "doc.c_reports").into(), headers, rows, widths });
        }
    }

    out.push(h("doc.h_warnings"));
    if b.warnings.is_empty() {
        out.push(p_("doc.no_warnings"));
    } else {
        let staff = b.audience == vitalcore_app::briefing::BriefingAudience::Staff;
        let mut headers =
            headers(l, &["doc.area", "doc.month", "doc.kind", "doc.level", "doc.status", "doc.deaths_month"]);
        if staff {
            headers.push(t(l, "doc.note").into());
        }
        let rows = b
            .warnings
            .iter()
            .map(|w| {
                let x = &w.warning;
                let level = match x.kind {
                    WarningKind::ForecastThreshold => {
                        let (p, threshold) =
                            (percent(l, x.value.unwrap_or(0.0)), percent(l, x.threshold.unwrap_or(0.0)));
                        tf(l, "doc.level_p", &[("p", &p), ("threshold", &threshold)])
                    }
                    WarningKind::ReportBurst => {
                        tf(l, "doc.level_reports", &[("n", &x.value.unwrap_or(0.0).to_string())])
                    }
                };
                let mut row = vec![
                    Cell::text(format!("{} ({})", w.area, x.unit)),
                    Cell::text(texts::month(l, x.month)),
                    Cell::text(crate::format::code_label(l, "code", x.kind.as_str())),
                    Cell { text: level, report: x.kind == WarningKind::ReportBurst, numeric: false },
                    Cell::text(crate::format::code_label(l, "code", x.status.as_str())),
                    match w.outcome {
                        Outcome::Observed(n) => Cell::num(n),
                        Outcome::NotYetKnown => Cell::text(t(l, "doc.not_yet_known")),
                    },
                ];
                if staff {
                    row.push(Cell::text(x.note.as_ref().map(|n| format!("{} ({})", n.text, n.by)).unwrap_or_default()));
                }
                row
            })
            .collect();
        let widths = if staff { vec![1.5, 0.7, 1.2, 1.4, 1.0, 0.8, 1.8] } else { vec![1.6, 0.8, 1.4, 1.6, 1.0, 1.0] };
        out.push(Block::Table { caption: t(l, "doc.c_warnings").into(), headers, rows, widths });
        let observed: Vec<u64> = b
            .warnings
            .iter()
            .filter_map(|w| match w.outcome {
                Outcome::Observed(n) => Some(n),
                Outcome::NotYetKnown => None,
            })
            .collect();
        if !observed.is_empty() {
            let with = observed.iter().filter(|n| **n > 0).count().to_string();
            out.push(Block::Paragraph(tf(l, "doc.followed", &[("with", &with), ("n", &observed.len().to_string())])));
        }
    }

    out.push(h("doc.h_alerts"));
    match &b.alerts {
        None => out.push(p_("doc.no_reports_stored")),
        Some(a) if a.overall.alerts == Published::Exact(0) => out.push(p_("doc.no_alerts")),
        Some(a) => {
            if let Some(chart) = charts.pipeline {
                out.push(Block::Chart(chart));
            }
            if let Some(chart) = charts.times {
                out.push(Block::Chart(chart));
            }
            let o = &a.overall;
            out.push(Block::Figures(vec![
                (t(l, "doc.a_received").into(), count(o.alerts), true),
                (t(l, "doc.a_unfounded").into(), count(o.unfounded), true),
                (t(l, "doc.a_ack_on_time").into(), count(o.acknowledged_on_time), true),
                (t(l, "doc.a_resp_on_time").into(), count(o.responded_on_time), true),
            ]));
            out.push(Block::Table {
                caption: t(l, "doc.c_alerts").into(),
                headers: headers(
                    l,
                    &[
                        "doc.area",
                        "doc.received",
                        "doc.acknowledged",
                        "doc.responded",
                        "doc.with_feedback",
                        "doc.to_acknowledge",
                        "doc.to_respond",
                    ],
                ),
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
                                maybe_hours(l, p.median_to_acknowledge),
                                maybe_hours(l, p.p90_to_acknowledge)
                            )),
                            Cell::text(format!(
                                "{} / {}",
                                maybe_hours(l, p.median_to_respond),
                                maybe_hours(l, p.p90_to_respond)
                            )),
                        ]
                    })
                    .collect(),
                widths: vec![1.8, 0.8, 1.0, 0.9, 0.9, 1.2, 1.2],
            });
            out.push(Block::Table {
                caption: t(l, "doc.c_deadlines").into(),
                headers: headers(l, &["doc.urgency", "doc.ack_within", "doc.respond_within"]),
                rows: a
                    .deadlines
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::text(&d.urgency),
                            Cell::text(crate::format::hours_short(l, d.acknowledge)),
                            Cell::text(crate::format::hours_short(l, d.respond)),
                        ]
                    })
                    .collect(),
                widths: vec![1.0, 1.0, 1.0],
            });
        }
    }

    if let Some(missions) = &b.mandates {
        mandate_blocks(l, b.to, missions, &mut out);
    }

    out.push(h("doc.h_outlook"));
    match &b.calibration {
        None => out.push(p_("doc.no_forecast")),
        Some(c) => {
            let best = c.best.as_ref().map(|m| tf(l, "doc.calibration_best", &[("model", m)])).unwrap_or_default();
            let red = if c.reliability.is_empty() { "" } else { t(l, "doc.calibration_red") };
            out.push(Block::Paragraph(tf(
                l,
                "doc.calibration",
                &[
                    ("run", &c.run_id.to_string()),
                    ("model", &c.model),
                    ("origin", &c.origin.to_string()),
                    ("best", &best),
                    ("red", red),
                ],
            )));
            let grid = charts.reliability.into_iter().chain(charts.crps).collect();
            out.push(Block::Grid(grid));
        }
    }

    out.push(h("doc.h_sources"));
    out.push(Block::Table {
        caption: t(l, "doc.c_sources").into(),
        headers: headers(l, &["doc.source", "doc.records", "doc.first", "doc.last", "doc.caveat"]),
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
    out.push(h("doc.h_method"));
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

/// The mandate coverage section (only when resolutions are stored).
fn mandate_blocks(l: &str, to: Month, missions: &[MissionCoverage], out: &mut Vec<Block>) {
    let month = texts::month(l, to);
    out.push(Block::Heading(t(l, "doc.h_mandates").into()));
    if missions.is_empty() {
        out.push(Block::Paragraph(tf(l, "doc.no_mandates", &[("month", &month)])));
        return;
    }
    out.push(Block::Paragraph(tf(l, "doc.mandates_intro", &[("month", &month)])));
    let words = |ids: &mut dyn Iterator<Item = &String>| {
        let list: Vec<String> = ids.map(|i| i.replace('_', " ")).collect();
        if list.is_empty() { t(l, "doc.none").to_string() } else { list.join(", ") }
    };
    out.push(Block::Table {
        caption: t(l, "doc.c_mandates").into(),
        headers: headers(l, &["doc.mission", "doc.in_force", "doc.tasks_in_force", "doc.uncovered"]),
        rows: missions
            .iter()
            .map(|m| {
                vec![
                    Cell::text(&m.mission),
                    Cell::text(format!("{} ({})", m.in_force, m.in_force_date)),
                    Cell::text(words(&mut m.tasks.iter())),
                    Cell::text(words(&mut m.uncovered.iter().map(|(_, id)| id))),
                ]
            })
            .collect(),
        widths: vec![0.8, 1.4, 2.6, 1.4],
    });
}
