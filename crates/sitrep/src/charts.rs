//! The charts and the map of a briefing as [`Scene`]s: drawn from the
//! briefing's figures only, the same for the HTML file, the PDF and the
//! dashboard.

use crate::format::{code_label, count, hours_short};
use crate::scene::{Anchor, Color, Item, Scene};
use vitalcore_app::briefing::texts::{self, t, tf};
use vitalcore_app::briefing::{Briefing, Calibration, MapArea, PriorityThreat, Trend};
use vitalcore_app::disclosure::{Published, PublishedPipeline};

/// The fill of a score band (ColorBrewer OrRd, light to dark).
pub fn band_color(band: &str) -> Color {
    match band {
        "very-low" => Color(254, 240, 217),
        "low" => Color(253, 204, 138),
        "medium" => Color(252, 141, 89),
        "high" => Color(227, 74, 51),
        "very-high" => Color(179, 0, 0),
        _ => Color(240, 240, 240),
    }
}

/// Bands from low to high, for legends (labelled from the `code.*` texts).
pub const BANDS: [&str; 5] = ["very-low", "low", "medium", "high", "very-high"];

/// The map: the stored boundaries filled by each area's highest critical
/// score, area names at their centres, the area asked for outlined.
pub fn map(lang: &str, areas: &[MapArea], width: f64) -> Option<Scene> {
    let points = || areas.iter().flat_map(|a| a.polygons.iter().flatten().flatten());
    let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in points() {
        lo_x = lo_x.min(p[0]);
        hi_x = hi_x.max(p[0]);
        lo_y = lo_y.min(p[1]);
        hi_y = hi_y.max(p[1]);
    }
    if !(hi_x > lo_x && hi_y > lo_y) {
        return None;
    }
    // Equirectangular, x shrunk by the cosine of the middle latitude.
    let kx = ((lo_y + hi_y) / 2.0).to_radians().cos().max(0.1);
    let legend = 34.0;
    let pad = 6.0;
    let scale = (width - 2.0 * pad) / ((hi_x - lo_x) * kx);
    let height = ((hi_y - lo_y) * scale + 2.0 * pad).min(width * 1.4);
    let scale = scale.min((height - 2.0 * pad) / (hi_y - lo_y));
    let project = |p: &[f64; 2]| (pad + (p[0] - lo_x) * kx * scale, pad + (hi_y - p[1]) * scale);
    let mut scene = Scene::new(width, height + legend, t(lang, "chart.map"));
    let mut labels = Vec::new();
    for a in areas {
        let rings: Vec<Vec<(f64, f64)>> =
            a.polygons.iter().flatten().map(|ring| ring.iter().map(project).collect()).collect();
        let stroke = if a.selected { Color::INK } else { Color::WHITE };
        let fill = if a.critical > 0.0 { band_color(&a.band) } else { Color(242, 242, 242) };
        scene.items.push(Item::Shape { rings, fill, stroke, width: if a.selected { 2.0 } else { 0.7 } });
        // The label at the centre of the largest outer ring.
        if let Some(ring) = a.polygons.iter().filter_map(|p| p.first()).max_by(|x, y| area(x).total_cmp(&area(y))) {
            let (cx, cy) = centroid(ring);
            let (x, y) = project(&[cx, cy]);
            labels.push((x, y, a.name.clone(), a.critical >= 6.5));
        }
    }
    for (x, y, name, dark) in labels {
        let fill = if dark { Color::WHITE } else { Color::INK };
        scene.label((x, y + 3.0), 8.0, name, Anchor::Middle, (fill, false));
    }
    legend_bands(lang, &mut scene, 6.0, height + 10.0, t(lang, "chart.map_legend"));
    Some(scene)
}

fn legend_bands(lang: &str, scene: &mut Scene, x: f64, y: f64, title: &str) {
    scene.text(x, y + 8.0, 8.0, title, Anchor::Start);
    let mut at = x + 110.0;
    for id in BANDS {
        let label = code_label(lang, "code", id);
        scene.rect(at, y, 10.0, 10.0, band_color(id));
        at += 16.0 + label.chars().count() as f64 * 4.8;
        scene.text(at - 3.0 - label.chars().count() as f64 * 4.8, y + 8.0, 8.0, label, Anchor::Start);
    }
}

fn area(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum::<f64>().abs() / 2.0
}

fn centroid(ring: &[[f64; 2]]) -> (f64, f64) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let cross = w[0][0] * w[1][1] - w[1][0] * w[0][1];
        a += cross;
        cx += (w[0][0] + w[1][0]) * cross;
        cy += (w[0][1] + w[1][1]) * cross;
    }
    if a.abs() < 1e-12 {
        let n = ring.len().max(1) as f64;
        return (ring.iter().map(|p| p[0]).sum::<f64>() / n, ring.iter().map(|p| p[1]).sum::<f64>() / n);
    }
    (cx / (3.0 * a), cy / (3.0 * a))
}

/// One small multiple: events per month as bars, fatalities as a line
/// (on its own scale), the first and last month under the axis.
pub fn trend(lang: &str, t: &Trend, width: f64, height: f64) -> Scene {
    let period = match (t.months.first(), t.months.last()) {
        (Some(a), Some(b)) => texts::period(lang, a.month, b.month),
        _ => String::new(),
    };
    let (events, deaths) = (t.events.to_string(), t.fatalities.to_string());
    let label =
        tf(lang, "chart.trend", &[("label", &t.label), ("events", &events), ("deaths", &deaths), ("period", &period)]);
    let mut s = Scene::new(width, height, label);
    let (top, bottom, left, right) = (16.0, 14.0, 4.0, 4.0);
    s.label(
        (left, 10.0),
        9.0,
        tf(lang, "chart.trend_title", &[("label", &t.label), ("events", &events), ("deaths", &deaths)]),
        Anchor::Start,
        (Color::INK, true),
    );
    let plot_h = height - top - bottom;
    let plot_w = width - left - right;
    s.line(vec![(left, top + plot_h), (left + plot_w, top + plot_h)], Color::GREY, 0.5);
    let n = t.months.len().max(1);
    let step = plot_w / n as f64;
    let max_e = t.months.iter().map(|m| m.events).max().unwrap_or(0).max(1) as f64;
    let max_f = t.months.iter().map(|m| m.fatalities).max().unwrap_or(0).max(1) as f64;
    for (i, m) in t.months.iter().enumerate() {
        let h = m.events as f64 / max_e * plot_h;
        if h > 0.0 {
            s.rect(
                left + i as f64 * step + step * 0.1,
                top + plot_h - h,
                (step * 0.8).max(0.6),
                h,
                Color(140, 170, 205),
            );
        }
    }
    if t.fatalities > 0 {
        let pts = t
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| (left + (i as f64 + 0.5) * step, top + plot_h - m.fatalities as f64 / max_f * plot_h))
            .collect();
        s.line(pts, Color::RED, 1.2);
    }
    s.text(
        left + plot_w,
        top + 8.0,
        7.0,
        tf(
            lang,
            "chart.trend_max",
            &[
                ("events", &(max_e as u64).to_string()),
                ("deaths", &(if t.fatalities > 0 { max_f as u64 } else { 0 }).to_string()),
            ],
        ),
        Anchor::End,
    );
    if let (Some(first), Some(last)) = (t.months.first(), t.months.last()) {
        s.text(left, height - 3.0, 7.0, first.month.to_string(), Anchor::Start);
        if n > 1 {
            s.text(left + plot_w, height - 3.0, 7.0, last.month.to_string(), Anchor::End);
        }
    }
    s
}

/// The legend the small multiples share.
pub fn trend_legend(lang: &str, width: f64) -> Scene {
    let mut s = Scene::new(width, 14.0, t(lang, "chart.legend"));
    s.rect(0.0, 3.0, 10.0, 8.0, Color(140, 170, 205));
    s.text(14.0, 10.0, 8.0, t(lang, "chart.events_per_month"), Anchor::Start);
    s.line(vec![(110.0, 7.0), (124.0, 7.0)], Color::RED, 1.2);
    s.text(128.0, 10.0, 8.0, t(lang, "chart.deaths_per_month"), Anchor::Start);
    s
}

/// Priority threats: critical (x) against pervasive (y), 0-10, the
/// priority quadrant (both 5 or more) shaded.
pub fn priorities(lang: &str, list: &[PriorityThreat], width: f64) -> Scene {
    let height = width * 0.75;
    let mut s = Scene::new(width, height, t(lang, "chart.priorities"));
    let (left, bottom, top, right) = (28.0, 24.0, 8.0, 8.0);
    let pw = width - left - right;
    let ph = height - top - bottom;
    let x = |v: f64| left + v.clamp(0.0, 10.0) / 10.0 * pw;
    let y = |v: f64| top + ph - v.clamp(0.0, 10.0) / 10.0 * ph;
    s.rect(x(5.0), y(10.0), pw / 2.0, ph / 2.0, Color(253, 232, 220));
    s.line(vec![(left, top), (left, top + ph), (left + pw, top + ph)], Color::GREY, 0.6);
    for v in [0.0, 5.0, 10.0] {
        s.text(x(v), top + ph + 10.0, 7.0, format!("{v:.0}"), Anchor::Middle);
        s.text(left - 4.0, y(v) + 3.0, 7.0, format!("{v:.0}"), Anchor::End);
    }
    s.text(left + pw / 2.0, height - 2.0, 8.0, t(lang, "doc.critical"), Anchor::Middle);
    s.text(left + 2.0, top + 8.0, 8.0, t(lang, "doc.pervasive"), Anchor::Start);
    for p in list {
        if let (Some(pc), Some(pp)) = (p.previous_critical, p.previous_pervasive) {
            s.line(vec![(x(pc), y(pp)), (x(p.critical), y(p.pervasive))], Color::LIGHT, 1.0);
        }
        let fill = match p.change {
            vitalcore_app::briefing::Change::New => Color::RED,
            vitalcore_app::briefing::Change::Continuing => Color::ORANGE,
            vitalcore_app::briefing::Change::Eased => Color::GREY,
        };
        s.items.push(Item::Dot { x: x(p.critical), y: y(p.pervasive), r: 3.0, fill });
    }
    // Names of the first few, beside their dots.
    for p in list.iter().take(6) {
        s.text(
            x(p.critical) + 5.0,
            y(p.pervasive) - 4.0,
            7.0,
            format!("{}: {}", p.area, p.label.to_lowercase()),
            Anchor::Start,
        );
    }
    s
}

/// The alert pipeline: received, acknowledged, responded, with feedback,
/// as bars; a count the audience may not see has no bar, only its sign.
pub fn pipeline(lang: &str, p: &PublishedPipeline, width: f64) -> Scene {
    let steps: [(&str, Published); 4] = [
        (t(lang, "doc.received"), p.alerts),
        (t(lang, "doc.acknowledged"), p.acknowledged),
        (t(lang, "doc.responded"), p.responded),
        (t(lang, "doc.with_feedback"), p.with_feedback),
    ];
    let label = steps.iter().map(|(n, v)| format!("{n} {}", count(*v))).collect::<Vec<_>>().join(", ");
    let mut s = Scene::new(width, 4.0 * 18.0 + 6.0, tf(lang, "chart.pipeline", &[("steps", &label)]));
    let max = steps.iter().filter_map(|(_, v)| v.shown()).max().unwrap_or(0).max(1) as f64;
    let left = 86.0;
    for (i, (name, v)) in steps.iter().enumerate() {
        let y = 4.0 + i as f64 * 18.0;
        s.text(left - 6.0, y + 10.0, 8.5, *name, Anchor::End);
        let w = v.shown().map(|n| n as f64 / max * (width - left - 50.0)).unwrap_or(0.0);
        if w > 0.0 {
            s.rect(left, y, w, 13.0, Color::BLUE);
        }
        s.text(left + w + 4.0, y + 10.0, 8.5, count(*v), Anchor::Start);
    }
    s
}

/// Times to acknowledge and respond (median and 90th percentile) against
/// the deadlines of the most urgent level.
pub fn times(lang: &str, p: &PublishedPipeline, ack_deadline: f64, respond_deadline: f64, width: f64) -> Scene {
    let rows = [
        (t(lang, "doc.to_acknowledge"), p.median_to_acknowledge, p.p90_to_acknowledge, ack_deadline),
        (t(lang, "doc.to_respond"), p.median_to_respond, p.p90_to_respond, respond_deadline),
    ];
    let hours = |d: Option<jiff::SignedDuration>| d.map(|d| d.as_secs_f64() / 3600.0);
    let max = rows.iter().flat_map(|r| [hours(r.1), hours(r.2), Some(r.3)]).flatten().fold(1.0_f64, f64::max);
    let mut s = Scene::new(width, 62.0, t(lang, "chart.times"));
    let left = 76.0;
    let pw = width - left - 60.0;
    for (i, (name, med, p90, deadline)) in rows.iter().enumerate() {
        let y = 6.0 + i as f64 * 26.0;
        s.text(left - 6.0, y + 10.0, 8.5, *name, Anchor::End);
        let x = |h: f64| left + h / max * pw;
        if let Some(h) = hours(*p90) {
            s.rect(left, y + 2.0, x(h) - left, 10.0, Color(190, 205, 225));
        }
        if let Some(h) = hours(*med) {
            s.rect(left, y + 4.0, x(h) - left, 6.0, Color::BLUE);
        }
        s.rect(x(*deadline) - 0.8, y - 1.0, 1.6, 16.0, Color::INK);
        let text = match (med, p90) {
            (Some(m), Some(q)) => format!("{} / {}", hours_short(lang, *m), hours_short(lang, *q)),
            _ => t(lang, "chart.not_shown").into(),
        };
        s.text(left + pw + 4.0, y + 10.0, 8.0, text, Anchor::Start);
    }
    s
}

/// Calibration: each model's mean predicted chance of any fatality against
/// the share of unit-months that had one (per horizon), and the stored
/// forecasts' reliability bins once their months are observed; the diagonal
/// is perfect calibration.
pub fn reliability(lang: &str, c: &Calibration, width: f64) -> Scene {
    let height = width;
    let mut s = Scene::new(width, height, t(lang, "chart.reliability"));
    let (left, bottom, top, right) = (30.0, 26.0, 8.0, 8.0);
    let pw = width - left - right;
    let ph = height - top - bottom;
    let x = |v: f64| left + v.clamp(0.0, 1.0) * pw;
    let y = |v: f64| top + ph - v.clamp(0.0, 1.0) * ph;
    s.line(vec![(left, top), (left, top + ph), (left + pw, top + ph)], Color::GREY, 0.6);
    s.line(vec![(x(0.0), y(0.0)), (x(1.0), y(1.0))], Color::LIGHT, 1.0);
    for v in [0.0, 0.5, 1.0] {
        s.text(x(v), top + ph + 10.0, 7.0, texts::number(lang, v, 1), Anchor::Middle);
        s.text(left - 4.0, y(v) + 3.0, 7.0, texts::number(lang, v, 1), Anchor::End);
    }
    s.text(left + pw / 2.0, height - 2.0, 8.0, t(lang, "chart.predicted"), Anchor::Middle);
    s.text(left + 4.0, top + 8.0, 8.0, t(lang, "chart.observed"), Anchor::Start);
    for m in c.skill.iter().filter(|m| m.mean_p_any.is_finite() && m.share_any.is_finite()) {
        let fill = if m.baseline { Color::GREY } else { Color::BLUE };
        s.items.push(Item::Dot { x: x(m.mean_p_any), y: y(m.share_any), r: 2.5, fill });
    }
    if !c.reliability.is_empty() {
        let pts = c.reliability.iter().map(|b| (x(b.mean_predicted), y(b.observed))).collect();
        s.line(pts, Color::RED, 1.2);
        for b in &c.reliability {
            s.items.push(Item::Dot { x: x(b.mean_predicted), y: y(b.observed), r: 2.5, fill: Color::RED });
        }
    }
    s
}

/// CRPS per model at the first horizon (lower is better), baselines grey.
pub fn crps(lang: &str, c: &Calibration, width: f64) -> Option<Scene> {
    let horizon = c.skill.first()?.horizon.clone();
    let months = horizon.trim_start_matches('h').to_string();
    let rows: Vec<_> = c.skill.iter().filter(|m| m.horizon == horizon && m.crps.is_finite()).collect();
    let max = rows.iter().map(|m| m.crps).fold(0.0_f64, f64::max).max(1e-9);
    let mut s =
        Scene::new(width, rows.len() as f64 * 16.0 + 18.0, tf(lang, "chart.crps", &[("months", &months.to_string())]));
    let left = 90.0;
    s.text(0.0, 10.0, 8.0, tf(lang, "chart.crps_title", &[("months", &months.to_string())]), Anchor::Start);
    for (i, m) in rows.iter().enumerate() {
        let y = 16.0 + i as f64 * 16.0;
        s.text(left - 6.0, y + 9.0, 8.5, m.model.as_str(), Anchor::End);
        let w = m.crps / max * (width - left - 50.0);
        s.rect(left, y, w.max(0.5), 11.0, if m.baseline { Color::GREY } else { Color::BLUE });
        s.text(left + w + 4.0, y + 9.0, 8.0, texts::number(lang, m.crps, 3), Anchor::Start);
    }
    Some(s)
}

/// Every chart of a briefing the reports carry, by section.
pub struct Charts {
    pub map: Option<Scene>,
    pub priorities: Option<Scene>,
    pub trends: Vec<Scene>,
    pub pipeline: Option<Scene>,
    pub times: Option<Scene>,
    pub reliability: Option<Scene>,
    pub crps: Option<Scene>,
}

impl Charts {
    pub fn of(b: &Briefing) -> Charts {
        let l = b.lang;
        let most_urgent = b
            .alerts
            .as_ref()
            .and_then(|a| a.deadlines.first())
            .map(|d| (d.acknowledge.as_secs_f64() / 3600.0, d.respond.as_secs_f64() / 3600.0));
        Charts {
            map: map(l, &b.map, 480.0),
            priorities: (!b.priorities.is_empty()).then(|| priorities(l, &b.priorities, 300.0)),
            trends: b.trends.iter().map(|t| trend(l, t, 230.0, 92.0)).collect(),
            pipeline: b.alerts.as_ref().map(|a| pipeline(l, &a.overall, 420.0)),
            times: b.alerts.as_ref().zip(most_urgent).map(|(a, (ack, resp))| times(l, &a.overall, ack, resp, 420.0)),
            reliability: b.calibration.as_ref().map(|c| reliability(l, c, 220.0)),
            crps: b.calibration.as_ref().and_then(|c| crps(l, c, 280.0)),
        }
    }
}
