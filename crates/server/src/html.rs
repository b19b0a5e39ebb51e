//! The server-rendered pages as compiled templates (askama, `templates/`):
//! the report form and its receipt, login, the alert queue with its early
//! warnings, and the error page. Every value is escaped by
//! [`Escaper`] unless a template says `|safe`, which they say only for
//! the form's texts from the built-in message table.
//!
//! The pages carry no inline script or style (the Content-Security-Policy
//! forbids both): their style is `/static/pages.css`.

use crate::error::ApiError;
use crate::shell::Shell;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::{self, Write};

/// The HTML escaper of every template (`askama.toml`): `& < > " '` as
/// `&amp; &lt; &gt; &quot; &#39;`, safe in element content and in quoted
/// attribute values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Escaper;

impl askama::filters::Escaper for Escaper {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        let mut last = 0;
        for (i, byte) in string.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&string[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&string[last..])
    }
}

/// A rendered page: `text/html`, the cookies to set, never cached.
pub fn page(status: StatusCode, cookies: Vec<String>, template: &impl Template) -> Result<Response, ApiError> {
    let body = template.render().map_err(ApiError::internal)?;
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `303 See Other` to `to`, with the cookies to set.
pub fn redirect(to: &str, cookies: Vec<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The error page: the status, the reason for a client error, or for a
/// failure of the server only the request id to quote.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    shell: Shell,
    status: u16,
    reason: &'a str,
    request_id: Option<&'a str>,
    code: StatusCode,
}

/// The shell of an error page: in English, nobody named (the error is
/// answered without reading the store again).
fn error_shell() -> Shell {
    Shell::anonymous("en", crate::i18n::t("en", "error.title"))
}

impl<'a> ErrorPage<'a> {
    pub fn client(code: StatusCode, reason: &'a str) -> ErrorPage<'a> {
        ErrorPage { shell: error_shell(), status: code.as_u16(), reason, request_id: None, code }
    }

    pub fn internal(request_id: &'a str) -> ErrorPage<'a> {
        let code = StatusCode::INTERNAL_SERVER_ERROR;
        ErrorPage {
            shell: error_shell(),
            status: code.as_u16(),
            reason: "internal error",
            request_id: Some(request_id),
            code,
        }
    }

    pub fn response(&self) -> Response {
        // The template has no fallible part; a failure to render leaves the status alone.
        page(self.code, vec![], self).unwrap_or_else(|_| self.code.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        askama::filters::Escaper::write_escaped_str(&Escaper, &mut out, s).unwrap();
        out
    }

    #[test]
    fn the_five_html_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            esc(r#"<a href="x" title='y'>&amp; é</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp; é&lt;/a&gt;"
        );
        assert_eq!(esc("plain « text »"), "plain « text »");
        assert_eq!(esc(""), "");
    }

    #[test]
    fn a_failure_of_the_server_shows_the_request_id_and_nothing_else() {
        let page = ErrorPage::internal("abc-123").render().unwrap();
        assert!(page.contains("<h1>500</h1><p class=\"err\">internal error</p>"), "{page}");
        assert!(page.contains("<code class=\"rid\">abc-123</code>"), "{page}");
        let client = ErrorPage::client(StatusCode::FORBIDDEN, "<no>").render().unwrap();
        assert!(client.contains("<h1>403</h1><p class=\"err\">&lt;no&gt;</p>") && !client.contains("rid"), "{client}");
        assert!(!page.contains("javascript:") && !page.contains("style="), "{page}");
    }
}
