//! What every request goes through: a request id of the server's own
//! (`x-request-id` on the answer), a `request` span carrying method, path
//! (never the query string), status, latency and the id, the security
//! headers, `Cache-Control: no-store` on whatever can carry report data,
//! and the concealment of internal errors ([`crate::error`]).

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::response::SetMultipleResponseHeadersLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Scripts and styles from this server only (no inline script, style or
/// event handler), no framing, forms posting back here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Answers that carry no report data nor anyone's name and may be cached:
/// the scripts and styles and the framework. Everything else is `no-store`
/// (the map page too: its shell names who is signed in).
pub fn cacheable(path: &str) -> bool {
    path.starts_with("/static/") || path == "/api/v1/framework"
}

/// `router` with the layers every request goes through (outermost first).
pub fn around(router: Router) -> Router {
    let security_headers = SetMultipleResponseHeadersLayer::overriding(vec![
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)).into(),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")).into(),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")).into(),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")).into(),
    ]);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id = %id,
                user = tracing::field::Empty,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis))
        .on_failure(DefaultOnFailure::new().level(Level::WARN).latency_unit(LatencyUnit::Millis));
    router.layer(
        ServiceBuilder::new()
            .layer(middleware::map_request(forget_client_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(security_headers)
            .layer(middleware::from_fn(no_store))
            .layer(middleware::from_fn(crate::error::conceal_internal_errors)),
    )
}

/// The id is the server's own: one a client sends is dropped, so it cannot
/// choose what the log files its request under.
async fn forget_client_request_id(mut request: Request) -> Request {
    request.headers_mut().remove(REQUEST_ID);
    request
}

/// `Cache-Control: no-store` on every answer that is not [`cacheable`].
async fn no_store(request: Request, next: Next) -> Response {
    let store = !cacheable(request.uri().path());
    let mut response = next.run(request).await;
    if store {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
