//! What is published, over real HTTP against the binary: small counts of
//! community reports reach no one who may not read the reports, and no
//! combination of published numbers gives a hidden one away.

use super::{Site, get_auth, http, post_json};
use serde_json::Value;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use vitalcore_store::forecasts::{EarlyWarning, ForecastStore, WarningKind, WarningStatus};

/// Submits `n` reports of an attack in `area` on `day` through the partner API.
fn submit(addr: &str, token: &str, area: &str, day: &str, n: usize) {
    for i in 0..n {
        let body = serde_json::json!({
            "text": format!("Armed men attacked the village and burned houses ({area} {day} {i})"),
            "category": "attack",
            "area_pcode": area,
            "event_time": day,
        });
        let r = post_json(addr, "/api/v1/reports", token, &body.to_string());
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

fn anonymous(addr: &str, path: &str) -> Value {
    let r = http(addr, "GET", path, &[], b"");
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

/// The exact counts a published count could stand for, read as the answer
/// says it publishes them (`disclosure`): exact, or under the public rule
/// as the README states it (0; 1-4 as null; others rounded to the nearest
/// 5; null over a window that is not a calendar period, which says nothing).
fn could_be(answer: &Value, shown: &Value, calendar_period: bool) -> RangeInclusive<u64> {
    let public = answer["disclosure"]["audience"] == "public";
    match (shown.as_u64(), public) {
        (Some(n), false) => n..=n,
        (None, false) => 1..=4,
        (None, true) if !calendar_period => 0..=1_000,
        (None, true) => 1..=4,
        (Some(0), true) => 0..=0,
        (Some(r), true) => (r.saturating_sub(2)).max(5)..=r + 2,
    }
}

/// What a profile's `reports` says (nothing where it has none).
fn profile_reports(profile: &Value, calendar_period: bool) -> RangeInclusive<u64> {
    match profile.get("reports") {
        Some(shown) => could_be(profile, shown, calendar_period),
        None => 0..=1_000,
    }
}

/// The report counts an answer's rows give for one unit and period in the
/// categories every report here carries (an attack: `personal`,
/// `protection_of_civilians`).
fn rows_of<'a>(answer: &'a Value, unit: &str, period: &str) -> Vec<&'a Value> {
    let rows = answer["rows"].as_array().unwrap().iter();
    rows.filter(|r| r["unit_id"] == unit && r["period"] == period)
        .filter(|r| r["category"] == "personal" || r["category"] == "protection_of_civilians")
        .map(|r| &r["reports"])
        .collect()
}

/// What every published answer together says about each part.
fn narrowed(ranges: impl IntoIterator<Item = RangeInclusive<u64>>) -> RangeInclusive<u64> {
    ranges.into_iter().fold(0..=1_000, |a, b| *a.start().max(b.start())..=*a.end().min(b.end()))
}

/// The values part `target` can take: parts within their ranges summing into `total`.
fn derivable(parts: &[RangeInclusive<u64>], total: &RangeInclusive<u64>, target: usize) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(0usize, 0u64, 0u64)];
    while let Some((i, sum, picked)) = stack.pop() {
        if i == parts.len() {
            if total.contains(&sum) {
                out.insert(picked);
            }
            continue;
        }
        for v in parts[i].clone() {
            stack.push((i + 1, sum + v, if i == target { v } else { picked }));
        }
    }
    out
}

/// The anonymous area profile (what the public map page shows) carries a
/// single report in none of its numbers: not in `events`, not in the trend
/// rows, not in `sources`; an analyst sees it.
#[test]
fn the_anonymous_area_profile_shows_a_single_report_in_no_number() {
    let site = Site::new();
    let (admin, analyst) = (site.token("admin1"), site.token("analyst1"));
    let server = site.serve(&[]);
    let addr = &server.addr;
    submit(addr, &admin, "CF32", "2024-04-10", 1);
    for window in ["from=2024-04&to=2024-04", "from=2024-03&to=2024-04"] {
        let p = anonymous(addr, &format!("/api/v1/areas/CF32/profile?{window}"));
        assert_eq!(p["events"], 0, "{window}: {p}");
        assert!(p["reports"].is_null(), "{window}: {p}");
        assert!(p["sources"].as_array().unwrap().iter().all(|s| s[0] != "community-report"), "{window}: {p}");
        for d in p["dimensions"].as_array().unwrap().iter().chain(p["themes"].as_array().unwrap()) {
            assert!(d["total"]["reports"].is_null() && d["total"]["events"] == 0, "{window}: {d}");
            for t in d["trend"].as_array().unwrap() {
                assert_eq!(t["events"], 0, "{window}: {t}");
                assert!(t["reports"].is_null() || t["reports"] == 0, "{window}: {t}");
            }
        }
        let map = anonymous(addr, &format!("/api/v1/boundaries?{window}"));
        let cf32 = map["features"].as_array().unwrap().iter().find(|f| f["properties"]["id"] == "CF32").unwrap();
        assert_eq!(cf32["properties"]["events"], 0, "{window}");
    }
    let p = get_auth(addr, "/api/v1/areas/CF32/profile?from=2024-04&to=2024-04", &analyst).json();
    assert_eq!((p["reports"].as_u64(), p["disclosure"]["audience"].as_str()), (Some(1), Some("exact")), "{p}");
}

/// CF11 = 2 is hidden, CF12 = 6 and CF32 = 8 are shown: the public country
/// total (16) minus the shown prefectures must leave CF11 open. And with
/// March = 6 shown and April = 1 hidden in CF12, the window March-April
/// (7) must not give April away.
#[test]
fn no_combination_of_public_answers_gives_a_hidden_count_away() {
    let site = Site::new();
    let admin = site.token("admin1");
    let server = site.serve(&[]);
    let addr = &server.addr;
    for (area, n) in [("CF11", 2), ("CF12", 6), ("CF32", 8)] {
        submit(addr, &admin, area, "2024-03-10", n);
    }
    submit(addr, &admin, "CF12", "2024-04-10", 1);

    // Per prefecture and for the country, March: every category row, and the profiles.
    let march = "from=2024-03&to=2024-03";
    let areas = anonymous(addr, &format!("/api/v1/assessment?unit=admin1&{march}"));
    let country = anonymous(addr, &format!("/api/v1/assessment?unit=country&{march}"));
    let part = |pcode: &str| {
        let profile = anonymous(addr, &format!("/api/v1/areas/{pcode}/profile?{march}"));
        let rows = rows_of(&areas, pcode, "2024-03").into_iter().map(|v| could_be(&areas, v, true));
        narrowed(rows.chain([profile_reports(&profile, true)]))
    };
    let parts: Vec<RangeInclusive<u64>> = ["CF11", "CF12", "CF32"].iter().map(|p| part(p)).collect();
    let name = "Central African Republic";
    let profile = anonymous(addr, &format!("/api/v1/areas/{}/profile?unit=country&{march}", name.replace(' ', "%20")));
    let total = narrowed(
        rows_of(&country, name, "2024-03")
            .into_iter()
            .map(|v| could_be(&country, v, true))
            .chain([profile_reports(&profile, true)]),
    );
    assert!(total.contains(&16) && parts[0].contains(&2), "{total:?} {parts:?}");
    let cf11 = derivable(&parts, &total, 0);
    assert!(cf11.len() > 1, "CF11 is given away: {cf11:?} (parts {parts:?}, total {total:?})");

    // CF12: March, April, and the window over both.
    let months = anonymous(addr, "/api/v1/assessment?unit=admin1&from=2024-03&to=2024-04");
    let window = anonymous(addr, "/api/v1/assessment?unit=admin1&from=2024-03&to=2024-04&period=all");
    let in_rows = |answer: &Value, period: &str, calendar: bool| {
        narrowed(rows_of(answer, "CF12", period).into_iter().map(|v| could_be(answer, v, calendar)))
    };
    let (march, april) = (in_rows(&months, "2024-03", true), in_rows(&months, "2024-04", true));
    let both = in_rows(&window, "2024-03..2024-04", false);
    let profile = anonymous(addr, "/api/v1/areas/CF12/profile?from=2024-03&to=2024-04");
    let both = narrowed([both, profile_reports(&profile, false)]);
    let april = derivable(&[march, april], &both, 1);
    assert!(april.len() > 1, "April is given away: {april:?}");
}

/// `GET /api/v1/warnings` is public: no staff notes (a name and a phone
/// number), no user names, not who acted, and no burst threshold bounding
/// a hidden count. Staff get the warning as stored.
#[test]
fn public_warnings_carry_no_staff_records_and_no_bound_on_a_hidden_count() {
    let site = Site::new();
    let analyst = site.token("analyst1");
    let store = vitalcore_store_sqlite::SqliteStore::open(&site.db).unwrap();
    let warning = |unit: &str, value: f64| EarlyWarning {
        id: 0,
        created: String::new(),
        unit: unit.into(),
        month: "2024-04".parse().unwrap(),
        kind: WarningKind::ReportBurst,
        value,
        threshold: value - 1.5,
        reason: format!("{value} community reports against a recent level of 0.3"),
        run_id: None,
        status: WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    };
    let added = store.add_warnings(&[warning("CF32", 7.0), warning("CF22", 3.0)]).unwrap();
    let note = "Called Marie Yakite on +236 70 12 34 56, she confirms";
    for w in &added {
        store
            .set_warning_status(w.id, WarningStatus::Acknowledged, "analyst1", "2024-05-02T10:00:00Z", Some(note))
            .unwrap();
    }
    drop(store);
    let server = site.serve(&[]);
    let addr = &server.addr;
    let public = http(addr, "GET", "/api/v1/warnings", &[], b"");
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(!public.body.contains("Marie") && !public.body.contains("+236"), "{}", public.body);
    assert!(!public.body.contains("analyst1"), "{}", public.body);
    let list = public.json()["warnings"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "the burst of 3 bounds a count shown as suppressed: {list:?}");
    let w = &list[0];
    assert_eq!((w["unit"].as_str(), w["value"].as_f64(), w["threshold"].as_f64()), (Some("CF32"), Some(5.0), None));
    assert!(w["note"].is_null() && w["status_by"].is_null() && !w["reason"].as_str().unwrap().contains('7'), "{w}");
    let staff = get_auth(addr, "/api/v1/warnings", &analyst).json();
    let staff = staff["warnings"].as_array().unwrap();
    assert_eq!(staff.len(), 2);
    let cf22 = staff.iter().find(|w| w["unit"] == "CF22").unwrap();
    assert_eq!((cf22["value"].as_f64(), cf22["threshold"].as_f64()), (Some(3.0), Some(1.5)));
    assert_eq!((cf22["note"]["text"].as_str(), cf22["status_by"].as_str()), (Some(note), Some("analyst1")));
}

/// A focal point gets the alert metrics of their own community only; a
/// viewer gets every area's counts under the rule and no share whose parts
/// are hidden.
#[test]
fn alert_metrics_reach_a_focal_point_for_their_community_and_a_viewer_without_hidden_parts() {
    let site = Site::new();
    let (admin, focal, viewer) = (site.token("admin1"), site.token("focal32"), site.token("viewer1"));
    let server = site.serve(&[]);
    let addr = &server.addr;
    submit(addr, &admin, "CF32", "2024-04-10", 1);
    submit(addr, &admin, "CF11", "2024-04-10", 2);
    let rows = |token: &str| {
        let r = get_auth(addr, "/api/v1/alerts/metrics", token);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["metrics"].as_array().unwrap().clone()
    };
    let mine = rows(&focal);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!((mine[0]["area_pcode"].as_str(), mine[0]["alerts"].as_u64()), (Some("CF32"), Some(1)));
    let seen = rows(&viewer);
    assert_eq!(seen.len(), 2, "{seen:?}");
    for row in &seen {
        assert!(row["alerts"].is_null(), "{row}");
        assert!(row["share_responded"].is_null() && row["share_with_feedback"].is_null(), "{row}");
    }
    let all = rows(&admin);
    let cf11 = all.iter().find(|r| r["area_pcode"] == "CF11").unwrap();
    assert_eq!((cf11["alerts"].as_u64(), cf11["share_with_feedback"].as_f64()), (Some(2), Some(0.0)));
}
