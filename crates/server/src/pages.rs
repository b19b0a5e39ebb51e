//! The web application's map page (a template on the shell, its texts for
//! the script in a `data-messages` attribute), its script and style, the
//! style of every page and the error page's Back link, all built into the
//! binary so every page works with no internet at all. No page has an
//! inline script or style: the Content-Security-Policy allows neither.

use crate::ctx::Ctx;
use crate::error::{ApiError, PageError};
use crate::html::page;
use crate::i18n;
use crate::shell::{Section, Shell};
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

const APP_JS: &str = include_str!("../static/app.js");
const APP_CSS: &str = include_str!("../static/app.css");
const PAGES_CSS: &str = include_str!("../static/pages.css");
const BACK_JS: &str = include_str!("../static/back.js");

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    shell: Shell,
    /// The `map.*` texts in the page's language, as JSON (the script's `tr`).
    messages: String,
}

/// The `map.*` messages in `lang`, keyed without the prefix, as JSON.
fn map_messages(lang: &str) -> String {
    let table = i18n::messages();
    let texts: BTreeMap<&str, &str> =
        table.keys().filter_map(|k| k.strip_prefix("map.").map(|short| (short, table.text(lang, k)))).collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "{}".into())
}

/// `GET /`: the map, on the shell (who is signed in, when the server has
/// accounts).
pub async fn index(ctx: Ctx) -> Result<Response, PageError> {
    let lang = i18n::language(ctx.headers());
    let title = i18n::t(lang, "map.title");
    let messages = map_messages(lang);
    let Ok(reports) = ctx.reports() else {
        let view = MapPage { shell: Shell::new(lang, Section::Map, title, "/", None, None), messages };
        return Ok(page(StatusCode::OK, vec![], &view)?);
    };
    let answer = ctx
        .visit(&reports, "page.map", move |service, visit| {
            let shell = Shell::new(lang, Section::Map, title, "/", visit.caller.as_ref(), Some(service));
            page(StatusCode::OK, vec![], &MapPage { shell, messages })
        })
        .await?;
    Ok(answer)
}

/// Any other address: 404, as JSON under `/api/`, else the error page on
/// the shell.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    let error = ApiError::not_found(format!("no page at {}", uri.path()));
    if uri.path().starts_with("/api/") { error.into_response() } else { PageError(error).into_response() }
}

fn javascript(text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], text)
}

fn css(text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], text)
}

pub async fn app_js() -> impl IntoResponse {
    javascript(APP_JS)
}

pub async fn app_css() -> impl IntoResponse {
    css(APP_CSS)
}

pub async fn pages_css() -> impl IntoResponse {
    css(PAGES_CSS)
}

pub async fn back_js() -> impl IntoResponse {
    javascript(BACK_JS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_page_carries_its_texts_escaped_in_an_attribute_and_no_inline_script() {
        let view = MapPage { shell: Shell::anonymous("fr", "Carte"), messages: map_messages("fr") };
        let html = view.render().unwrap();
        assert!(html.contains("data-messages=\"{&quot;"), "{html}");
        assert!(html.contains("Zones"), "{html}");
        assert!(!html.contains("<script>") && !html.contains("style="), "{html}");
        let texts: BTreeMap<String, String> = serde_json::from_str(&map_messages("fr")).unwrap();
        assert_eq!(texts["play"], "Faire défiler les mois");
    }
}
