//! How figures read in a report, in its language: counts as published,
//! scores, times, changes, codes.

use jiff::SignedDuration;
use vitalcore_app::briefing::texts::{self, t};
use vitalcore_app::disclosure::Published;

/// A count as its audience may see it: the number, `<5` (1 to 4), `np`
/// (not published over this period).
pub fn count(p: Published) -> String {
    p.to_string()
}

/// A 0-10 score with one decimal (`3.5`, `3,5`).
pub fn score(lang: &str, v: f64) -> String {
    texts::number(lang, v, 1)
}

/// `3.5 h`, `2.1 days`; `3,5 h`, `2,1 jours`.
pub fn hours_short(lang: &str, d: SignedDuration) -> String {
    vitalcore_app::briefing::hours_in(lang, d)
}

/// A time that may not be shown: `-` then.
pub fn maybe_hours(lang: &str, d: Option<SignedDuration>) -> String {
    d.map(|d| hours_short(lang, d)).unwrap_or_else(|| "-".into())
}

/// `+3.0`, `-2.5`, `0.0`, `new`: a change in score.
pub fn delta(lang: &str, now: f64, before: Option<f64>) -> String {
    match before {
        None => t(lang, "doc.new").into(),
        Some(b) => {
            let d = now - b;
            if d.abs() < 0.05 {
                texts::number(lang, 0.0, 1)
            } else {
                let sign = if d > 0.0 { "+" } else { "-" };
                format!("{sign}{}", texts::number(lang, d.abs(), 1))
            }
        }
    }
}

/// `0.62` as `62%` (`62 %` in French).
pub fn percent(lang: &str, p: f64) -> String {
    texts::tf(lang, "number.percent", &[("n", &format!("{:.0}", p * 100.0))])
}

/// A priority's change (`new`, `continuing`, `eased`) in the language.
pub fn change(lang: &str, code: &str) -> String {
    code_label(lang, "doc", code)
}

/// The text of `section.code` (`-` read as `_`), or the code itself when the table has none.
pub fn code_label(lang: &str, section: &str, code: &str) -> String {
    let key = format!("{section}.{}", code.replace('-', "_"));
    texts::table().get(lang, &key).map(str::to_string).unwrap_or_else(|| code.to_string())
}
