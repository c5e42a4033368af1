//! The schema extension that gives each operation on a socket what an HTTP
//! request gets: its own `RequestContext` and loaders, the document limits,
//! the time limit and panic guard, and the subscription cap.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{
    Request, Response, ServerError, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextSubscribe,
    },
    futures_util::{StreamExt, stream::BoxStream},
    parser::types::ExecutableDocument,
};
use uuid::Uuid;

use crate::{
    AppContext,
    auth::{RequestContext, principal::Credentials},
    error::ErrorCode,
    graphql::{guard, limits, persisted},
    loaders::Loaders,
};

/// What a socket's `connection_init` established, kept for its life (the
/// connection data of every operation on it).
pub struct SocketSession {
    pub credentials: Credentials,
    pub client_ip: Option<IpAddr>,
    /// The id of the upgrade request, logged beside each operation's own.
    pub socket_id: String,
    live_subscriptions: Arc<AtomicUsize>,
}

impl SocketSession {
    pub fn new(credentials: Credentials, client_ip: Option<IpAddr>, socket_id: String) -> Self {
        Self {
            credentials,
            client_ip,
            socket_id,
            live_subscriptions: Arc::default(),
        }
    }
}

/// The schema extension that gives each operation on a socket what an HTTP
/// request gets (it does nothing for HTTP requests, whose handler does it).
pub struct SocketExtension;

impl ExtensionFactory for SocketExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SocketOperation)
    }
}

struct SocketOperation;

fn error(message: &str, code: ErrorCode) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    error
}

/// Decrements a socket's live-subscription count when its stream ends.
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for SocketOperation {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let (Some(socket), Some(app)) = (
            ctx.data_opt::<SocketSession>(),
            ctx.data_opt::<AppContext>(),
        ) else {
            return next.run(ctx, request).await;
        };
        let operation_id = Uuid::now_v7().to_string();
        tracing::debug!(socket_id = %socket.socket_id, request_id = %operation_id, "websocket operation");
        let request = request
            .data(RequestContext::new(
                operation_id,
                socket.client_ip,
                socket.credentials.clone(),
            ))
            .data(Arc::new(Loaders::new(&app.db)));
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Allowlist mode: an unregistered document is refused unparsed.
        if ctx.data_opt::<SocketSession>().is_some()
            && let Some(app) = ctx.data_opt::<AppContext>()
            && let Some(trusted) = &app.config.trusted_documents
            && !trusted.contains_text(query)
        {
            let mut refused = ServerError::new(
                "only registered documents run on this server (STEPDOWN_TRUSTED_DOCUMENTS)",
                None,
            );
            refused
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", persisted::TRUSTED_DOCUMENT_REQUIRED);
            return Err(refused);
        }
        let document = next.run(ctx, query, variables).await?;
        if ctx.data_opt::<SocketSession>().is_some()
            && let Some(app) = ctx.data_opt::<AppContext>()
            && let Some(message) =
                limits::check_document(&document, &app.config.limits, app.config.introspection)
        {
            return Err(error(&message, ErrorCode::BadUserInput));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let (Some(_), Some(app)) = (
            ctx.data_opt::<SocketSession>(),
            ctx.data_opt::<AppContext>(),
        ) else {
            return next.run(ctx, operation_name).await;
        };
        let timeout = app.config.limits.request_timeout;
        match guard::guarded(next.run(ctx, operation_name), timeout).await {
            Ok(response) => response,
            Err(failure) => Response::from_errors(vec![failure.into_server_error(timeout)]),
        }
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let (Some(socket), Some(app)) = (
            ctx.data_opt::<SocketSession>(),
            ctx.data_opt::<AppContext>(),
        ) else {
            return next.run(ctx, stream);
        };
        let max = app.config.sockets.max_subscriptions;
        let live = socket.live_subscriptions.clone();
        if live.fetch_add(1, Ordering::AcqRel) >= max {
            live.fetch_sub(1, Ordering::AcqRel);
            let refused = Response::from_errors(vec![error(
                &format!(
                    "this socket already holds {max} subscriptions (STEPDOWN_WS_MAX_SUBSCRIPTIONS_PER_SOCKET)"
                ),
                ErrorCode::RateLimited,
            )]);
            return async_graphql::futures_util::stream::once(async move { refused }).boxed();
        }
        let counted = Live(live);
        next.run(ctx, stream)
            .map(move |response| {
                let _ = &counted;
                response
            })
            .boxed()
    }
}
