//! The web application: one HTML page, its script and style, the style of
//! the server-rendered pages and the error page's Back link, all built into
//! the binary so every page works with no internet at all. No page has an
//! inline script or style: the Content-Security-Policy allows neither.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const INDEX: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const APP_CSS: &str = include_str!("../static/app.css");
const PAGES_CSS: &str = include_str!("../static/pages.css");
const BACK_JS: &str = include_str!("../static/back.js");

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
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
