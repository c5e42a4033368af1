//! The HTTP surface (DESIGN §4): GraphQL over HTTP and WebSocket, health,
//! readiness and metrics, behind request ids and a panic guard.

pub mod client_addr;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod request_id;
pub mod ws;

use axum::{
    Router,
    http::{StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::AppState;

pub fn router(state: AppState) -> Router {
    let tagged = middleware::from_fn_with_state(state.clone(), request_id::middleware);
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::handler))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(tagged)
        .with_state(state)
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
