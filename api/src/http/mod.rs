//! The HTTP surface (DESIGN §4): GraphQL over HTTP and WebSocket, health,
//! readiness and metrics, behind request ids and a panic guard.

pub mod client_addr;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod request_id;
pub mod ws;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
};

use crate::AppState;

pub fn router(state: AppState) -> Router {
    let tagged = middleware::from_fn_with_state(state.clone(), request_id::middleware);
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::handler))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    // With `STEPDOWN_METRICS_BIND`, `/metrics` lives on its own address.
    if state.ctx.config.metrics_bind.is_none() {
        router = router.route("/metrics", get(health::metrics));
    }
    let router = router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(tagged);
    let router = match cors(&state.ctx.config.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.with_state(state)
}

/// `/metrics` alone, for `STEPDOWN_METRICS_BIND`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Browsers on the listed origins (partner dashboards) may call the API
/// with a bearer token: no cookies, so no credentials mode, and never a
/// wildcard. No list, no CORS headers at all.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// A panic outside GraphQL execution: logged, answered without its text.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#,
    )
        .into_response()
}
