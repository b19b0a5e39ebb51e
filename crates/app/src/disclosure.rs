//! What is published: the one rule every answer goes through before a
//! person sees a number counted from community reports (the API, the map
//! page, exports, early warnings, alert metrics, and any later output such
//! as situation reports).
//!
//! A small count of reports can point at the people who reported. So:
//!
//! - A caller sees a report count exactly only when they may read every
//!   report it counts (the permission policy,
//!   [`vitalcore_security::auth::authorize`] with `ReadReport`): admins,
//!   analysts and responders everywhere; a focal point in the alert metrics
//!   of their own community. That is [`Audience`].
//! - Everyone else gets the published form ([`Published`]): 0 as 0, counts
//!   from 1 to 4 suppressed, every other count rounded to the nearest 5,
//!   each computed from the exact data and then rounded (a total is never a
//!   sum of rounded parts, which would carry the parts' errors), and only
//!   for fixed publication periods: a whole calendar month, quarter or year
//!   ([`Months::is_publication_period`]). A count over any other window
//!   (`from=2024-03&to=2024-04&period=all`) is withheld, so windows cannot
//!   be differenced: the family of published aggregates is fixed, and each
//!   is rounded.
//! - Why rounding rather than secondary suppression: a suppressed cell can
//!   be recovered from a published total and its published siblings
//!   (CF11 = country - CF12 - CF32); with every published count rounded,
//!   that difference leaves several values open, and no search for
//!   complementary cells to hide is needed whenever a new table or
//!   output is added. Rounding alone gives way when a caller may choose
//!   overlapping windows (many differences with different bases pin a
//!   count); the fixed periods close that.
//!
//! The rule is applied to typed answers before they are serialised: every
//! number derived from community reports has its own type
//! (`vitalcore_proto` types carry it as their parameter `R`), and the
//! functions here name every field of the types they publish, so a new
//! field does not compile until it is classified. Event data (UCDP, ACLED,
//! ...) is public and stays exact.

use jiff::SignedDuration;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;
use vitalcore_assess::Period;
use vitalcore_framework::Month;
use vitalcore_intake::workflow::ResponseMetrics;
use vitalcore_proto::{AreaProfile, AreaSummary, Assessment, AssessmentRow, ProfileDimension, TrendPoint};
use vitalcore_security::auth::{Action, Resource, User, authorize};
use vitalcore_store::forecasts::{EarlyWarning, WarningKind, WarningNote, WarningStatus};

/// How counts are published to a caller who may not read the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Counts from 1 to `below - 1` are suppressed.
    pub below: u64,
    /// Other non-zero counts are rounded to the nearest multiple of `base`
    /// (never below `base`).
    pub base: u64,
}

impl Rule {
    /// The rule of every published output: 1-4 suppressed, others rounded to base 5.
    pub const PUBLIC: Rule = Rule { below: 5, base: 5 };

    /// `n` as published under this rule.
    pub fn publish(self, n: u64) -> Published {
        if n == 0 {
            Published::Exact(0)
        } else if n < self.below {
            Published::Suppressed { below: self.below }
        } else {
            Published::Rounded(self.round(n))
        }
    }

    fn round(self, n: u64) -> u64 {
        if self.base <= 1 {
            return n;
        }
        ((n + self.base / 2) / self.base * self.base).max(self.base)
    }

    /// The exact counts a published value could stand for, as a reader who
    /// knows the rule works it out: `None` is a suppressed count. (For a
    /// withheld count, any count.)
    pub fn could_be(self, shown: Option<u64>) -> RangeInclusive<u64> {
        match shown {
            None => 1..=self.below.saturating_sub(1).max(1),
            Some(0) => 0..=0,
            Some(r) if self.base <= 1 => r..=r,
            Some(r) => {
                let lo = if r <= self.base { 1 } else { r - self.base / 2 };
                lo.max(self.below)..=r + (self.base - 1) / 2
            }
        }
    }
}

/// A count as a caller sees it. In JSON: the number, or `null` when it is
/// not shown (the answer's `disclosure` says why). In tables: the number,
/// `<5` when suppressed, `np` (not published) when withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The exact count: the caller may read every report it counts, or it is 0.
    Exact(u64),
    /// Rounded under the rule.
    Rounded(u64),
    /// From 1 to `below - 1`.
    Suppressed { below: u64 },
    /// Not published over this period (not a calendar month, quarter or year).
    Withheld,
}

impl Published {
    /// The number shown, if one is.
    pub fn shown(self) -> Option<u64> {
        match self {
            Published::Exact(n) | Published::Rounded(n) => Some(n),
            Published::Suppressed { .. } | Published::Withheld => None,
        }
    }
}

impl Serialize for Published {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shown().serialize(s)
    }
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Published::Exact(n) | Published::Rounded(n) => write!(f, "{n}"),
            Published::Suppressed { below } => write!(f, "<{below}"),
            Published::Withheld => f.write_str("np"),
        }
    }
}

/// The months a figure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Months {
    pub first: Month,
    pub last: Month,
}

impl Months {
    pub fn month(m: Month) -> Months {
        Months { first: m, last: m }
    }

    /// A whole calendar month, quarter or year: the only periods report
    /// counts are published for. Whatever window a caller asks for, a
    /// published count is then one of a fixed family of aggregates.
    pub fn is_publication_period(self) -> bool {
        let months = self.last.index() - self.first.index() + 1;
        match months {
            1 => true,
            3 => self.first.month % 3 == 1,
            12 => self.first.month == 1,
            _ => false,
        }
    }

    fn parse(first: &str, last: &str) -> Option<Months> {
        let (first, last) = (first.parse().ok()?, last.parse().ok()?);
        (first <= last).then_some(Months { first, last })
    }
}

/// Who an answer is for, as far as figures from community reports go.
#[derive(Debug, Clone)]
pub enum Audience {
    /// May read every community report (admin, analyst, responder; the
    /// operator at the command line): exact figures, staff records (notes,
    /// who acted).
    Exact,
    /// May read some areas' reports only (a focal point): exact where the
    /// policy lets them read every report a figure counts, and otherwise
    /// the public rule (or nothing, for alert metrics).
    Partial(User),
    /// Anonymous callers, viewers, exports: the published form only.
    Public(Rule),
}

impl Audience {
    /// Anonymous callers and viewers.
    pub fn public() -> Audience {
        Audience::Public(Rule::PUBLIC)
    }

    /// The caller's audience, by the permission policy: whoever may read
    /// the reports of no area (an unplaced report) may read them all.
    pub fn of(user: Option<&User>) -> Audience {
        let Some(user) = user else { return Audience::public() };
        if authorize(user, Action::ReadReport, Resource::Area(None)).is_ok() {
            Audience::Exact
        } else if authorize(user, Action::ReadReport, Resource::Area(user.community.as_deref())).is_ok() {
            Audience::Partial(user.clone())
        } else {
            Audience::public()
        }
    }

    /// The operator's exports (`--suppress-below N`): 0 writes exact counts,
    /// N suppresses 1 to N-1 and rounds the rest as the public rule does.
    pub fn export(suppress_below: u64) -> Audience {
        match suppress_below {
            0 => Audience::Exact,
            below => Audience::Public(Rule { below, ..Rule::PUBLIC }),
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Audience::Exact)
    }

    /// The rule this audience's published counts follow (`None`: exact).
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Audience::Exact => None,
            Audience::Partial(_) => Some(Rule::PUBLIC),
            Audience::Public(rule) => Some(*rule),
        }
    }

    /// May this audience read every report placed in `area`?
    pub fn reads_reports_of(&self, area: Option<&str>) -> bool {
        match self {
            Audience::Exact => true,
            Audience::Partial(user) => authorize(user, Action::ReadReport, Resource::Area(area)).is_ok(),
            Audience::Public(_) => false,
        }
    }

    /// What the answer says about the figures in it.
    pub fn note(&self) -> Note {
        match self.rule() {
            None => {
                Note { audience: "exact", report_counts: "exact: you may read the community reports they count".into() }
            }
            Some(rule) => Note {
                audience: if matches!(self, Audience::Partial(_)) { "community" } else { "public" },
                report_counts: format!(
                    "counts of community reports are rounded to the nearest {} (null: 1 to {}) and published for whole \
                     calendar months, quarters and years only (null over any other period); event data is exact",
                    rule.base,
                    rule.below.saturating_sub(1)
                ),
            },
        }
    }
}

/// The `disclosure` of a published answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// exact, community or public.
    pub audience: &'static str,
    pub report_counts: String,
}

/// An answer with its [`Note`], serialised as the answer's fields plus `disclosure`.
#[derive(Debug, Clone, Serialize)]
pub struct Disclosed<T> {
    #[serde(flatten)]
    pub answer: T,
    pub disclosure: Note,
}

impl<T> Disclosed<T> {
    pub fn new(answer: T, audience: &Audience) -> Disclosed<T> {
        Disclosed { answer, disclosure: audience.note() }
    }
}

/// A count of community reports over `months` (`None`: not known to be a
/// calendar period), as `audience` may see it. Every published report count
/// is made here.
pub fn publish_count(n: u64, months: Option<Months>, audience: &Audience) -> Published {
    let Some(rule) = audience.rule() else { return Published::Exact(n) };
    if n == 0 {
        // Zero over any window is zero in each of its months: it says nothing more.
        Published::Exact(0)
    } else if !months.is_some_and(Months::is_publication_period) {
        Published::Withheld
    } else {
        rule.publish(n)
    }
}

/// An assessment as `audience` may see it: each row's reports over its
/// period (a clipped quarter or year covers the months it was clipped to).
pub fn publish_assessment(a: Assessment, audience: &Audience) -> Assessment<Published> {
    let Assessment { unit, from, to, period, rows, unplaced_events, unplaced_reports } = a;
    let whole = Months::parse(&from, &to);
    let spans: HashMap<String, Months> = match (whole, period.parse::<Period>()) {
        (Some(w), Ok(p)) => w
            .first
            .through(w.last)
            .map(|m| p.span_of(m, w.first, w.last))
            .map(|s| (s.label, Months { first: s.first, last: s.last }))
            .collect(),
        _ => HashMap::new(),
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let months = spans.get(&r.period).copied();
            publish_row(r, months, audience)
        })
        .collect();
    Assessment {
        unit,
        from,
        to,
        period,
        rows,
        unplaced_events,
        unplaced_reports: publish_count(unplaced_reports, whole, audience),
    }
}

/// One assessment row over `months`.
pub fn publish_row(r: AssessmentRow, months: Option<Months>, audience: &Audience) -> AssessmentRow<Published> {
    let AssessmentRow {
        unit,
        unit_id,
        unit_name,
        period,
        category_kind,
        category,
        events,
        fatalities,
        civilian_fatalities,
        reports,
        critical,
        pervasive,
        band,
        priority,
        components,
    } = r;
    AssessmentRow {
        unit,
        unit_id,
        unit_name,
        period,
        category_kind,
        category,
        // Event data: the scores and their components are computed from it alone.
        events,
        fatalities,
        civilian_fatalities,
        reports: publish_count(reports, months, audience),
        critical,
        pervasive,
        band,
        priority,
        components,
    }
}

/// An area profile as `audience` may see it: its totals over its whole
/// period, its trend month by month.
pub fn publish_profile(p: AreaProfile, audience: &Audience) -> AreaProfile<Published> {
    let AreaProfile {
        unit,
        unit_id,
        name,
        from,
        to,
        events,
        fatalities,
        civilian_fatalities,
        reports,
        dimensions,
        themes,
        sources,
        links,
        risk,
    } = p;
    let whole = Months::parse(&from, &to);
    let dimension = |d: ProfileDimension| {
        let ProfileDimension { category_kind, category, label, total, trend } = d;
        ProfileDimension {
            category_kind,
            category,
            label,
            total: publish_row(total, whole, audience),
            trend: trend
                .into_iter()
                .map(|t| {
                    let TrendPoint { month, events, fatalities, reports } = t;
                    let months = month.parse().ok().map(Months::month);
                    TrendPoint { month, events, fatalities, reports: publish_count(reports, months, audience) }
                })
                .collect(),
        }
    };
    AreaProfile {
        unit,
        unit_id,
        name,
        from,
        to,
        events,
        fatalities,
        civilian_fatalities,
        reports: publish_count(reports, whole, audience),
        dimensions: dimensions.into_iter().map(dimension).collect(),
        themes: themes.into_iter().map(dimension).collect(),
        // Event data per source; `links` from event data only; `risk` from the event scores.
        sources,
        links,
        risk,
    }
}

/// Area summaries (the map and its table) carry event data only, the same
/// for every audience. Every field is named here, so one added from
/// community reports is decided on before it is published.
pub fn publish_summaries(list: Vec<AreaSummary>) -> Vec<AreaSummary> {
    list.into_iter()
        .map(|s| {
            let AreaSummary { unit_id, name, level, events, fatalities, top_dimension, critical, pervasive } = s;
            AreaSummary { unit_id, name, level, events, fatalities, top_dimension, critical, pervasive }
        })
        .collect()
}

/// An early warning as a caller sees it. Staff see it as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedWarning {
    pub id: i64,
    pub created: String,
    pub unit: String,
    pub month: Month,
    pub kind: WarningKind,
    /// A forecast probability; for a report burst, the month's report count
    /// (published under the rule to those who may not read the reports).
    pub value: Option<f64>,
    /// A forecast's threshold; a burst's control limit only to staff (it is
    /// computed from past months' exact counts, and bounds this one's).
    pub threshold: Option<f64>,
    pub reason: String,
    pub run_id: Option<i64>,
    pub status: WarningStatus,
    /// Who last moved it on, and the note: staff records, to staff only.
    pub status_by: Option<String>,
    pub status_at: Option<String>,
    pub note: Option<WarningNote>,
}

/// The warnings `audience` may see, as they may see them.
pub fn publish_warnings(list: Vec<EarlyWarning>, audience: &Audience) -> Vec<PublishedWarning> {
    list.into_iter().filter_map(|w| publish_warning(w, audience)).collect()
}

/// One warning as `audience` may see it; `None` when they may not see it
/// at all: a burst on a count they see suppressed (that it fired says the
/// count reached the detector's minimum, which bounds it).
pub fn publish_warning(w: EarlyWarning, audience: &Audience) -> Option<PublishedWarning> {
    let EarlyWarning {
        id,
        created,
        unit,
        month,
        kind,
        value,
        threshold,
        reason,
        run_id,
        status,
        status_by,
        status_at,
        note,
    } = w;
    let staff = audience.is_exact();
    let (value, threshold, reason) = match kind {
        // Forecast probabilities against a configured threshold.
        WarningKind::ForecastThreshold => (Some(value), Some(threshold), reason),
        WarningKind::ReportBurst if staff => (Some(value), Some(threshold), reason),
        WarningKind::ReportBurst => {
            let count = publish_count(value.max(0.0).round() as u64, Some(Months::month(month)), audience);
            let shown = count.shown().filter(|n| *n > 0)?;
            (Some(shown as f64), None, "community reports above their recent level".to_string())
        }
    };
    Some(PublishedWarning {
        id,
        created,
        unit,
        month,
        kind,
        value,
        threshold,
        reason,
        run_id,
        status,
        status_by: status_by.filter(|_| staff),
        status_at,
        note: note.filter(|_| staff),
    })
}

/// Alert response figures of one area and month as a caller sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedMetrics {
    pub area_pcode: Option<String>,
    pub month: Month,
    pub alerts: Published,
    pub unfounded: Published,
    pub acknowledged: Published,
    pub responded: Published,
    /// Times over the alerts acknowledged (responded): shown when that count is.
    pub median_to_acknowledge: Option<SignedDuration>,
    pub p90_to_acknowledge: Option<SignedDuration>,
    pub median_to_respond: Option<SignedDuration>,
    pub p90_to_respond: Option<SignedDuration>,
    /// Shares only to callers who see their parts exactly.
    pub share_responded: Option<f64>,
    pub share_with_feedback: Option<f64>,
}

/// Alert metrics as `audience` may see them: exact rows of the areas whose
/// reports they may read; for a focal point nothing else; for viewers every
/// row under the rule, without the shares (their parts are not shown).
pub fn publish_metrics(rows: Vec<ResponseMetrics>, audience: &Audience) -> Vec<PublishedMetrics> {
    rows.into_iter()
        .filter_map(|m| {
            let ResponseMetrics {
                area_pcode,
                month,
                alerts,
                unfounded,
                acknowledged,
                responded,
                median_to_acknowledge,
                p90_to_acknowledge,
                median_to_respond,
                p90_to_respond,
                share_responded,
                share_with_feedback,
            } = m;
            let exact = audience.reads_reports_of(area_pcode.as_deref());
            if !exact && matches!(audience, Audience::Partial(_)) {
                return None;
            }
            let inner = if exact { Audience::Exact } else { audience.clone() };
            let count = |n: usize| publish_count(n as u64, Some(Months::month(month)), &inner);
            let (alerts, unfounded, acknowledged, responded) =
                (count(alerts), count(unfounded), count(acknowledged), count(responded));
            // A time over a few alerts is those alerts' own times.
            let over = |n: Published, t: Option<SignedDuration>| t.filter(|_| n.shown().is_some_and(|n| n > 0));
            Some(PublishedMetrics {
                area_pcode,
                month,
                alerts,
                unfounded,
                acknowledged,
                responded,
                median_to_acknowledge: over(acknowledged, median_to_acknowledge),
                p90_to_acknowledge: over(acknowledged, p90_to_acknowledge),
                median_to_respond: over(responded, median_to_respond),
                p90_to_respond: over(responded, p90_to_respond),
                share_responded: share_responded.filter(|_| exact),
                share_with_feedback: share_with_feedback.filter(|_| exact),
            })
        })
        .collect()
}

/// An alert pipeline over a period (one or more months, see
/// [`crate::briefing::Pipeline`]) as a caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedPipeline {
    pub alerts: Published,
    pub unfounded: Published,
    pub acknowledged: Published,
    pub responded: Published,
    pub with_feedback: Published,
    pub acknowledged_on_time: Published,
    pub responded_on_time: Published,
    /// Times over the alerts acknowledged (responded): shown when that count is.
    pub median_to_acknowledge: Option<SignedDuration>,
    pub p90_to_acknowledge: Option<SignedDuration>,
    pub median_to_respond: Option<SignedDuration>,
    pub p90_to_respond: Option<SignedDuration>,
}

/// The pipeline of the alerts of `area` (`None`: of several areas or none)
/// over `months`, as `audience` may see it: exact to whoever reads every
/// report of the area; otherwise each count under the rule (withheld over
/// a window that is not a calendar month, quarter or year), and each time
/// only where its count is shown (a time over a few alerts is their own).
pub fn publish_pipeline(
    p: &crate::briefing::Pipeline,
    area: Option<&str>,
    months: Months,
    audience: &Audience,
) -> PublishedPipeline {
    let crate::briefing::Pipeline {
        alerts,
        unfounded,
        acknowledged,
        responded,
        with_feedback,
        acknowledged_on_time,
        responded_on_time,
        median_to_acknowledge,
        p90_to_acknowledge,
        median_to_respond,
        p90_to_respond,
    } = *p;
    // A figure over several areas is exact only to who reads every report.
    let exact = match area {
        Some(a) => audience.reads_reports_of(Some(a)),
        None => audience.is_exact(),
    };
    let inner = if exact { Audience::Exact } else { audience.clone() };
    let count = |n: u64| publish_count(n, Some(months), &inner);
    let (acknowledged, responded) = (count(acknowledged), count(responded));
    let over = |n: Published, t: Option<SignedDuration>| t.filter(|_| n.shown().is_some_and(|n| n > 0));
    PublishedPipeline {
        alerts: count(alerts),
        unfounded: count(unfounded),
        acknowledged,
        responded,
        with_feedback: count(with_feedback),
        acknowledged_on_time: count(acknowledged_on_time),
        responded_on_time: count(responded_on_time),
        median_to_acknowledge: over(acknowledged, median_to_acknowledge),
        p90_to_acknowledge: over(acknowledged, p90_to_acknowledge),
        median_to_respond: over(responded, median_to_respond),
        p90_to_respond: over(responded, p90_to_respond),
    }
}

#[cfg(test)]
mod tests;
