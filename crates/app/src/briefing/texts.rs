//! What a briefing says, per language, from one message table
//! (`data/briefing.toml`, read and checked by
//! [`vitalcore_intake::messages::Messages`]): the generated sentences,
//! headings, captions, table headers, caveats, the method, month names and
//! how a decimal is written. `app::briefing` writes the sentences with it;
//! `vitalcore-sitrep` lays out the rest with it.

use std::sync::OnceLock;
use vitalcore_framework::Month;
use vitalcore_intake::messages::{FALLBACK, Messages};

const TABLE: &str = include_str!("../../data/briefing.toml");

/// The briefing message table built into the program (checked by the tests).
pub fn table() -> &'static Messages {
    static TEXTS: OnceLock<Messages> = OnceLock::new();
    TEXTS.get_or_init(|| Messages::from_toml(TABLE).expect("the briefing message table is valid (tested)"))
}

/// The table's code for a language as given (`fr`, `FR`, `fr-CF`), `None`
/// when a briefing cannot be written in it.
pub fn language(code: &str) -> Option<&'static str> {
    let known = table().known_language(code)?;
    table().languages().find(|l| *l == known)
}

/// The languages a briefing can be written in, English first.
pub fn languages() -> Vec<&'static str> {
    table().languages().collect()
}

/// The text of `key` in `lang` (English when missing; the tests rule that out).
pub fn t(lang: &str, key: &'static str) -> &'static str {
    table().text(lang, key)
}

/// The text of `key` in `lang` with its `{placeholders}` filled.
pub fn tf(lang: &str, key: &str, values: &[(&str, &str)]) -> String {
    table().render(lang, key, values)
}

/// `v` with `decimals` digits after the language's decimal mark (`3.5`, `3,5`).
pub fn number(lang: &str, v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match t(lang, "number.decimal") {
        "." => s,
        mark => s.replace('.', mark),
    }
}

/// A month as the language writes it: `2022-01`, `janvier 2022`.
pub fn month(lang: &str, m: Month) -> String {
    let text = m.to_string();
    let (year, number) = text.split_once('-').unwrap_or((&text, ""));
    tf(lang, &format!("month.m{number}"), &[("year", year)])
}

/// A period as the language writes it: `2022-01 to 2022-06`, `janvier 2022 à juin 2022`.
pub fn period(lang: &str, from: Month, to: Month) -> String {
    if from == to {
        month(lang, from)
    } else {
        tf(lang, "period.range", &[("from", &month(lang, from)), ("to", &month(lang, to))])
    }
}

/// `1 event` / `3 events`: the key `NAME_one` or `NAME_many`.
pub fn count(lang: &str, n: u64, one: &str, many: &str) -> String {
    if n == 1 { tf(lang, one, &[]) } else { tf(lang, many, &[("n", &n.to_string())]) }
}

/// The fallback language.
pub const ENGLISH: &str = FALLBACK;

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose French is written as the English.
    const SAME: [&str; 8] =
        ["doc.pcode", "doc.source", "doc.public", "time.hours", "title.x", "word.x", "doc.level_p", "lang.x"];

    #[test]
    fn the_table_is_valid_and_french_has_every_key() {
        let m = table();
        let missing: Vec<&str> = m.keys().filter(|k| m.get("fr", k) == m.get("en", k) && !SAME.contains(k)).collect();
        assert!(missing.is_empty(), "French lacks (or copies the English of) {missing:?}");
        assert_eq!(languages(), ["en", "fr"]);
    }

    #[test]
    fn months_periods_and_numbers_follow_the_language() {
        let (a, b) = (Month::new(2022, 1).unwrap(), Month::new(2022, 8).unwrap());
        assert_eq!(period("en", a, b), "2022-01 to 2022-08");
        assert_eq!(period("fr", a, b), "janvier 2022 à août 2022");
        assert_eq!(number("fr", 3.25, 1), "3,2");
        assert_eq!(number("en", 3.25, 2), "3.25");
        assert_eq!(count("fr", 2, "word.event_one", "word.event_many"), "2 événements");
        assert_eq!(language("FR-cf"), Some("fr"));
        assert_eq!(language("sg"), None);
    }
}
