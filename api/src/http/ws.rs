//! `GET /graphql/ws`: subscriptions over the `graphql-transport-ws`
//! protocol. The access token goes in the `connection_init` payload
//! (`{ "authorization": "Bearer …" }`); a token that does not verify closes
//! the connection, no token means an anonymous connection (which domain
//! subscriptions refuse with `UNAUTHENTICATED`).

use std::net::SocketAddr;

use async_graphql::{Data, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{ConnectInfo, Request, State, WebSocketUpgrade},
    response::{IntoResponse, Response},
};

use crate::{
    AppState,
    auth::{RequestContext, principal::Credentials},
    error::ApiError,
    http::request_id::RequestId,
    loaders::Loaders,
};

pub async fn handler(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
    request: Request,
) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(state.ctx.config.limits.max_body_bytes)
        .on_upgrade(move |socket| {
            let tokens = state.ctx.tokens.clone();
            let db = state.ctx.db.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let authorization = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str());
                    let credentials = Credentials::from_authorization(authorization, &tokens);
                    if let Credentials::Rejected(reason) = &credentials {
                        tracing::info!(%reason, "websocket connection_init refused");
                        return Err(ApiError::Unauthenticated.into());
                    }
                    let mut data = Data::default();
                    data.insert(RequestContext::new(request_id, client_ip, credentials));
                    data.insert(std::sync::Arc::new(Loaders::new(&db)));
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}
