//! `GET /graphql/ws`: GraphQL over the `graphql-transport-ws` protocol
//! (DESIGN §4).
//!
//! - `connection_init` carries `{ "authorization": "Bearer …" }` (also
//!   accepted: `{ "headers": { "Authorization": "Bearer …" } }`). A missing
//!   or bad token, a session that is revoked or expired, or an operation
//!   sent before `connection_init`, closes the socket with `4401`; an
//!   account that holds no role in its organization any more `4403`; a
//!   user already holding `STEPDOWN_WS_MAX_SOCKETS_PER_USER` sockets gets
//!   `4429`; a database out of reach `1013` (try again later). The close
//!   reason says which.
//! - While the socket is open its session is checked every
//!   `STEPDOWN_WS_SESSION_CHECK_SECS` (10 s): logout, a password change,
//!   refresh-token reuse or the token's expiry close it with `4401`.
//! - Each operation on it is checked again and limited like an HTTP request
//!   (`crate::sockets`).

use std::{
    str::FromStr,
    sync::{Arc, Mutex, OnceLock},
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket, WebSocketProtocols, WsMessage},
};
use axum::{
    extract::{
        Request, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket as Socket},
    },
    response::{IntoResponse, Response},
};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt, future};

use crate::{
    AppState,
    auth::{
        AccessClaims,
        principal::{Credentials, load_principal},
    },
    http::request_id::{ClientAddr, RequestId},
    sockets::{SocketSession, SocketTicket},
};

/// Close codes graphql-transport-ws clients act on.
const UNAUTHENTICATED: u16 = 4401;
const FORBIDDEN: u16 = 4403;
/// What async-graphql closes with for an operation before `connection_init`.
const HANDSHAKE_NOT_COMPLETED: u16 = 1011;
const TOO_MANY: u16 = 4429;
const TRY_AGAIN_LATER: u16 = 1013;

pub async fn handler(
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
    request: Request,
) -> Response {
    // The subprotocol the client offers (graphql-transport-ws, or the older
    // graphql-ws); none that we speak is a 400.
    let Some(protocol) = request
        .headers()
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
    else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol: graphql-transport-ws is required",
        )
            .into_response();
    };
    let socket_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let client_ip = request.extensions().get::<ClientAddr>().map(|c| c.0);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(state.ctx.config.limits.max_body_bytes)
        .on_upgrade(move |socket| serve(state, socket, protocol, socket_id, client_ip))
        .into_response()
}

/// The signed-in session a socket serves, once `connection_init` accepted it.
struct Signed {
    claims: AccessClaims,
    _ticket: SocketTicket,
}

async fn serve(
    state: AppState,
    socket: Socket,
    protocol: WebSocketProtocols,
    socket_id: String,
    client_ip: Option<std::net::IpAddr>,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });
    // Why `connection_init` was refused, to close with the code clients
    // expect instead of the library's generic one.
    let refusal: Arc<Mutex<Option<(u16, &'static str)>>> = Arc::default();
    let signed: Arc<OnceLock<Signed>> = Arc::default();
    let init = {
        let (ctx, refusal, signed) = (state.ctx.clone(), refusal.clone(), signed.clone());
        move |payload: serde_json::Value| async move {
            let refuse = |code, reason: &'static str| {
                *refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some((code, reason));
                async_graphql::Error::new(reason)
            };
            let headers = payload.get("headers");
            let authorization = payload
                .get("authorization")
                .or_else(|| payload.get("Authorization"))
                .or_else(|| headers.and_then(|h| h.get("authorization")))
                .or_else(|| headers.and_then(|h| h.get("Authorization")))
                .and_then(|v| v.as_str());
            let credentials = Credentials::from_authorization(authorization, &ctx.tokens);
            let Credentials::Access(claims) = &credentials else {
                tracing::info!("websocket connection_init without a valid token");
                return Err(refuse(UNAUTHENTICATED, "authentication required"));
            };
            let Ok(db) = ctx.db.conn() else {
                return Err(refuse(TRY_AGAIN_LATER, "service temporarily unavailable"));
            };
            let principal = match load_principal(db, claims).await {
                Ok(Some(principal)) => principal,
                Ok(None) => return Err(refuse(UNAUTHENTICATED, "the session has ended")),
                Err(err) => {
                    err.log_cause();
                    return Err(refuse(TRY_AGAIN_LATER, "service temporarily unavailable"));
                }
            };
            if principal.roles.is_empty() {
                return Err(refuse(
                    FORBIDDEN,
                    "this account holds no role in its organization any more",
                ));
            }
            let max = ctx.config.sockets.max_per_user;
            let Some(ticket) = ctx.sockets.open(principal.user_id, max) else {
                return Err(refuse(
                    TOO_MANY,
                    "too many open sockets for this user (STEPDOWN_WS_MAX_SOCKETS_PER_USER)",
                ));
            };
            let _ = signed.set(Signed {
                claims: claims.clone(),
                _ticket: ticket,
            });
            let mut data = Data::default();
            data.insert(SocketSession::new(credentials, client_ip, socket_id));
            Ok(data)
        }
    };
    let mut messages = WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(init)
        .boxed();
    let mut check = tokio::time::interval(state.ctx.config.sockets.session_check);
    check.tick().await;
    loop {
        tokio::select! {
            message = messages.next() => match message {
                None => break,
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let refused = refusal.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let (code, reason) = match refused {
                        Some((code, reason)) => (code, reason.to_owned()),
                        // graphql-transport-ws: a subscribe before the
                        // handshake is 4401 Unauthorized.
                        None if code == HANDSHAKE_NOT_COMPLETED && signed.get().is_none() => (
                            UNAUTHENTICATED,
                            "send connection_init with a token first".to_owned(),
                        ),
                        None => (code, reason),
                    };
                    close(&mut sink, code, &reason).await;
                    break;
                }
            },
            _ = check.tick() => {
                if let Some(signed) = signed.get()
                    && !still_signed_in(&state, &signed.claims).await
                {
                    close(&mut sink, UNAUTHENTICATED, "the session has ended").await;
                    break;
                }
            }
        }
    }
}

/// The token has not expired and its session is still open. A database
/// out of reach keeps the socket (each operation is checked anyway).
async fn still_signed_in(state: &AppState, claims: &AccessClaims) -> bool {
    if claims.exp <= Utc::now().timestamp() {
        return false;
    }
    let Ok(db) = state.ctx.db.conn() else {
        return true;
    };
    match load_principal(db, claims).await {
        Ok(found) => found.is_some(),
        Err(_) => true,
    }
}

async fn close(
    sink: &mut futures_util::stream::SplitSink<Socket, Message>,
    code: u16,
    reason: &str,
) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })))
        .await;
}
