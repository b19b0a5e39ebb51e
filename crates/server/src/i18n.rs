//! The staff pages' texts in English and French from one message table
//! (`data/messages.toml`, read and checked by the same code as the public
//! form's table: [`vitalcore_intake::messages::Messages`]), and which
//! language a page speaks: the one the user chose with the shell's switch
//! (the `vc_lang` cookie), else the first of the browser's Accept-Language
//! the table has, else English.

use crate::auth::cookie;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::OnceLock;
use vitalcore_intake::messages::{FALLBACK, Messages};

const TABLE: &str = include_str!("../data/messages.toml");

/// The cookie holding the language a user chose (a preference, not a secret).
pub const LANG_COOKIE: &str = "vc_lang";

/// The staff message table built into the program (checked by the tests).
pub fn messages() -> &'static Messages {
    static MESSAGES: OnceLock<Messages> = OnceLock::new();
    MESSAGES.get_or_init(|| Messages::from_toml(TABLE).expect("the staff message table is valid (tested)"))
}

/// The text of `key` in `lang` (English when the language lacks it; the key
/// itself when English lacks it too, which the tests rule out).
pub fn t(lang: &str, key: &'static str) -> &'static str {
    messages().text(lang, key)
}

/// The text of `key` in `lang` with its `{placeholders}` filled.
pub fn tf(lang: &str, key: &str, values: &[(&str, &str)]) -> String {
    messages().render(lang, key, values)
}

/// The text of `section.code` (a state, a role, a channel) in `lang`, or
/// `code` itself when the table has no such key.
pub fn label(lang: &str, section: &str, code: &str) -> String {
    let key = format!("{section}.{}", code.replace([' ', '-'], "_"));
    messages().get(lang, &key).map(str::to_string).unwrap_or_else(|| code.to_string())
}

/// The language of a page: the user's choice (cookie), else the browser's
/// (Accept-Language, in its order, ignoring weights of 0), else English.
pub fn language(headers: &HeaderMap) -> &'static str {
    let table = messages();
    if let Some(chosen) = cookie(headers, LANG_COOKIE).and_then(|c| table.known_language(c)) {
        return to_static(chosen);
    }
    accepted(headers).into_iter().find_map(|tag| table.known_language(&tag)).map(to_static).unwrap_or(FALLBACK)
}

/// The languages of an Accept-Language header, most wanted first.
fn accepted(headers: &HeaderMap) -> Vec<String> {
    let raw = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut tags: Vec<(f32, usize, String)> = raw
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then(|| (q, i, tag.to_string()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, tag)| tag).collect()
}

/// The table's languages are built in: their codes live as long as the program.
fn to_static(code: &str) -> &'static str {
    messages().languages().find(|l| *l == code).unwrap_or(FALLBACK)
}

/// A link of the shell's language switch, named in its own language.
pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

/// Every language of the table, `lang` marked current.
pub fn language_links(lang: &str) -> Vec<LanguageLink> {
    messages()
        .languages()
        .map(|code| LanguageLink { code, name: t(code, "lang.name"), current: code == lang })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// A path of this site to go back to: starts with one `/`, no scheme, no
/// host, no backslash; anything else is `/`.
fn local_path(raw: Option<&str>) -> &str {
    match raw {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains(['\\', '\r', '\n']) => p,
        _ => "/",
    }
}

/// `GET /lang/{code}?back=/path`: remembers the language (a year-long
/// cookie) and goes back to the page. An unknown language is 404.
pub async fn choose(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let Some(lang) = messages().known_language(&code).filter(|l| *l == code) else {
        return (StatusCode::NOT_FOUND, format!("no language `{code}` here")).into_response();
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let to = HeaderValue::from_str(local_path(q.back.as_deref())).unwrap_or(HeaderValue::from_static("/"));
    response.headers_mut().insert(header::LOCATION, to);
    let value = format!("{LANG_COOKIE}={lang}; SameSite=Lax; Path=/; Max-Age=31536000");
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: Option<&str>, accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        if let Some(a) = accept {
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn the_table_is_valid_and_french_has_every_key() {
        let m = messages();
        let missing: Vec<&str> = m.keys().filter(|k| m.get("fr", k) == m.get("en", k) && !same_word(k)).collect();
        assert!(missing.is_empty(), "French lacks (or copies the English of) {missing:?}");
        assert_eq!(m.languages().collect::<Vec<_>>(), ["en", "fr"]);
    }

    /// Keys whose French is the English word.
    fn same_word(key: &str) -> bool {
        [
            "nav.admin",
            "admin.title",
            "admin.sessions",
            "alerts.actions",
            "warnings.actions",
            "map.dimensions",
            "map.pause",
            "map.unit_admin1",
            "map.score",
            "map.dimension",
            "warnings.note_label",
            // Units of an age, the same abbreviations and words in French.
            "freshness.min",
            "freshness.h",
            "freshness.minute",
            "freshness.minutes",
        ]
        .contains(&key)
    }

    #[test]
    fn every_key_the_templates_and_the_map_script_ask_for_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut asked = Vec::new();
        for entry in std::fs::read_dir(dir.join("templates")).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            asked.extend(keys_in(&text, "shell.t(\""));
        }
        // The pages' handlers name their keys as literals (`i18n::t(lang, "brief.title")`).
        let handler = std::fs::read_to_string(dir.join("src/briefings.rs")).unwrap();
        asked.extend(keys_in(&handler, "\"brief.").into_iter().map(|k| format!("brief.{k}")));
        let script = std::fs::read_to_string(dir.join("static/app.js")).unwrap();
        asked.extend(keys_in(&script, "tr(\"").into_iter().map(|k| format!("map.{k}")));
        assert!(asked.len() > 40, "{asked:?}");
        let unknown: Vec<&String> = asked.iter().filter(|k| messages().get("en", k).is_none()).collect();
        assert!(unknown.is_empty(), "no such message: {unknown:?}");
        let untranslated: Vec<&String> =
            asked.iter().filter(|k| messages().get("fr", k) == messages().get("en", k) && !same_word(k)).collect();
        assert!(untranslated.is_empty(), "French lacks {untranslated:?}");
        for page in ["dashboard.html", "sitrep.html"] {
            let text = std::fs::read_to_string(dir.join("templates").join(page)).unwrap();
            assert!(keys_in(&text, "shell.t(\"").len() >= 6, "{page} speaks through the message table");
        }
    }

    fn keys_in(text: &str, opening: &str) -> Vec<String> {
        text.split(opening).skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect()
    }

    #[test]
    fn the_choice_wins_then_the_browser_then_english() {
        assert_eq!(language(&headers(Some("vc_lang=fr"), Some("en"))), "fr");
        assert_eq!(language(&headers(Some("a=b; vc_lang=en"), Some("fr"))), "en");
        assert_eq!(language(&headers(Some("vc_lang=sg"), Some("fr-CF,en;q=0.5"))), "fr", "an unknown choice");
        assert_eq!(language(&headers(None, Some("en;q=0.4, fr;q=0.9"))), "fr", "by weight");
        assert_eq!(language(&headers(None, Some("sg, fr;q=0.8"))), "fr", "Sango has no table yet");
        assert_eq!(language(&headers(None, Some("fr;q=0, en"))), "en", "q=0 is not wanted");
        assert_eq!(language(&headers(None, None)), "en");
    }

    #[test]
    fn texts_are_filled_and_codes_are_labelled() {
        assert_eq!(tf("fr", "alerts.overdue", &[("kind", "Ack"), ("level", "2")]), "EN RETARD (Ack, niveau 2)");
        assert_eq!(label("fr", "state", "response assigned"), "réponse attribuée");
        assert_eq!(label("en", "role", "focal_point"), "focal point");
        assert_eq!(label("fr", "state", "unknown-state"), "unknown-state");
    }

    #[test]
    fn going_back_stays_on_this_site() {
        assert_eq!(local_path(Some("/alerts")), "/alerts");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil")), "/");
        assert_eq!(local_path(None), "/");
    }
}
