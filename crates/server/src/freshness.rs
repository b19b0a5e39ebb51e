//! The alert page's data freshness per area: when each area's data last
//! came from the node that owns it (at HQ, each office's last contact; at an
//! office, its last sync with HQ), as "updated 3 h ago" with the full time
//! for screen readers. The rule is `vitalcore_app::sync::staleness`; this
//! only renders it.

use jiff::Timestamp;
use vitalcore_app::sync::staleness::{AreaFreshness, area_freshness};
use vitalcore_store::sync::SyncStore;

use crate::error::ApiError;
use crate::i18n::{t, tf};

/// Older than this, a row is marked as stale.
const STALE_AFTER_HOURS: i64 = 24;

/// One area on the page.
pub(crate) struct FreshnessRow {
    pub area: String,
    pub from: String,
    /// "updated 3 h ago", or "never synchronised".
    pub ago: String,
    /// The same in words with the time, for screen readers.
    pub label: String,
    /// RFC 3339, for `<time datetime>`.
    pub datetime: Option<String>,
    pub stale: bool,
}

/// The rows for `areas_shown` (the areas of the alerts on the page); `None`
/// when this database does not synchronise.
pub(crate) fn section(
    lang: &'static str,
    store: &dyn SyncStore,
    areas_shown: &[String],
    now: Timestamp,
) -> Result<Option<Vec<FreshnessRow>>, ApiError> {
    let rows = area_freshness(store, areas_shown).map_err(ApiError::internal)?;
    Ok(rows.map(|rows| rows.iter().map(|r| row(lang, r, now)).collect()))
}

fn row(lang: &'static str, r: &AreaFreshness, now: Timestamp) -> FreshnessRow {
    let area = if r.area == "*" { t(lang, "freshness.all_areas").to_string() } else { r.area.clone() };
    let from = if r.from == "hq" { t(lang, "freshness.hq").to_string() } else { r.from.clone() };
    let Some(at) = r.last_sync else {
        let never = t(lang, "freshness.never").to_string();
        return FreshnessRow { area, from, ago: never.clone(), label: never, datetime: None, stale: true };
    };
    let seconds = now.duration_since(at).as_secs().max(0);
    let (short, long) = age(lang, seconds);
    let time = at.strftime("%Y-%m-%d %H:%M").to_string();
    FreshnessRow {
        area,
        from,
        ago: tf(lang, "freshness.ago", &[("age", &short)]),
        label: tf(lang, "freshness.ago_label", &[("age", &long), ("time", &time)]),
        datetime: Some(at.to_string()),
        stale: seconds > STALE_AFTER_HOURS * 3600,
    }
}

/// An age as "3 h" and "3 hours": minutes under an hour, hours under two
/// days, then days.
fn age(lang: &'static str, seconds: i64) -> (String, String) {
    let (n, short, one, many) = if seconds < 3600 {
        (seconds / 60, "freshness.min", "freshness.minute", "freshness.minutes")
    } else if seconds < 48 * 3600 {
        (seconds / 3600, "freshness.h", "freshness.hour", "freshness.hours")
    } else {
        (seconds / 86_400, "freshness.d", "freshness.day", "freshness.days")
    };
    let n = n.to_string();
    let long = if n == "1" { one } else { many };
    (tf(lang, short, &[("n", &n)]), tf(lang, long, &[("n", &n)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_minutes_hours_then_days_in_both_languages() {
        assert_eq!(age("en", 59), ("0 min".to_string(), "0 minutes".to_string()));
        assert_eq!(age("en", 3 * 3600 + 120), ("3 h".to_string(), "3 hours".to_string()));
        assert_eq!(age("en", 3600), ("1 h".to_string(), "1 hour".to_string()));
        assert_eq!(age("fr", 3 * 86_400), ("3 j".to_string(), "3 jours".to_string()));
        let now: Timestamp = "2026-12-07T20:00:00Z".parse().unwrap();
        let r = AreaFreshness {
            area: "CF32".into(),
            from: "bambari".into(),
            last_sync: Some("2026-12-07T17:00:00Z".parse().unwrap()),
        };
        let row = row("en", &r, now);
        assert_eq!((row.ago.as_str(), row.stale), ("updated 3 h ago", false));
        assert_eq!(row.label, "updated 3 hours ago, at 2026-12-07 17:00 UTC");
        let never = super::row("fr", &AreaFreshness { last_sync: None, ..r }, now);
        assert_eq!((never.ago.as_str(), never.stale), ("jamais synchronisé", true));
    }
}
