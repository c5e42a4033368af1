//! Request ids and client addresses, set on every request before routing.
//!
//! The server gives each request its own id: the response's `x-request-id`,
//! the audit trail's `requestId`, and a field of every log line. A client's
//! own well-formed `x-request-id` is kept beside it as a correlation id
//! (logged, and stored in the audit trail), never in its place. The
//! client's address comes from `http::client_addr`.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::client_addr::client_addr;
use crate::AppState;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The server's id of the current request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The client's own `x-request-id`, when well formed.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

/// The address the request is attributed to (see `http::client_addr`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Accepts client ids of 1–128 URL-safe characters (no log injection).
fn acceptable(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn middleware(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = uuid::Uuid::now_v7().to_string();
    let correlation = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned);
    if let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let addr = client_addr(peer, forwarded, &state.ctx.config.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(addr));
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    if let Some(correlation) = &correlation {
        request
            .extensions_mut()
            .insert(CorrelationId(correlation.clone()));
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        correlation_id = correlation.as_deref().unwrap_or(""),
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let started = std::time::Instant::now();
        let mut response = next.run(request).await;
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(X_REQUEST_ID.clone(), value);
        }
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_sane_ids_are_kept() {
        assert!(super::acceptable("abc-123_x.y:z"));
        assert!(!super::acceptable(""));
        assert!(!super::acceptable("a b"));
        assert!(!super::acceptable("line\nbreak"));
        assert!(!super::acceptable(&"x".repeat(129)));
    }
}
