//! One audit buffer per GraphQL operation, written before its response
//! leaves (DESIGN §6: no disclosure without a record).
//!
//! The extension gives each operation (an HTTP request, a batch entry, a
//! WebSocket query, mutation or subscription) its own `AuditBuffer`. Work
//! functions add events through the `Caller`; a write commits its events in
//! its own transaction; whatever is left is written in one statement when
//! execution ends, and for a subscription after each event it delivers. If
//! that write fails, the operation answers an error instead of the data.

use std::sync::Arc;

use async_graphql::{
    Request, Response, ServerError, ServerResult,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
        NextSubscribe,
    },
    futures_util::{StreamExt, stream::BoxStream},
};

use super::{AuditBuffer, Trace};
use crate::{AppContext, auth::RequestContext, error::ApiError};

pub struct AuditExtension;

impl ExtensionFactory for AuditExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerOperation::default())
    }
}

#[derive(Default)]
struct PerOperation {
    buffer: AuditBuffer,
}

/// Writes what is pending; the error a client may see if it cannot.
async fn flush(
    app: Option<AppContext>,
    buffer: &AuditBuffer,
    (request_id, correlation_id): &(String, Option<String>),
) -> Result<(), ServerError> {
    if buffer.is_empty() {
        return Ok(());
    }
    let result = match app.as_ref().map(|app| app.db.conn()) {
        Some(Ok(db)) => {
            buffer
                .write(db, Trace::new(request_id, correlation_id.as_deref()))
                .await
        }
        Some(Err(err)) => Err(err),
        None => Err(ApiError::internal(anyhow::anyhow!(
            "no database to audit to"
        ))),
    };
    result.map_err(|err| {
        async_graphql::Error::from(err).into_server_error(async_graphql::Pos::default())
    })
}

fn request_id(ctx: &ExtensionContext<'_>) -> (String, Option<String>) {
    ctx.data_opt::<RequestContext>()
        .map(|r| (r.request_id.clone(), r.correlation_id.clone()))
        .unwrap_or_default()
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerOperation {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(self.buffer.clone())).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let app = ctx.data_opt::<AppContext>().cloned();
        match flush(app, &self.buffer, &request_id(ctx)).await {
            Ok(()) => response,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let app = ctx.data_opt::<AppContext>().cloned();
        let buffer = self.buffer.clone();
        let request_id = request_id(ctx);
        next.run(ctx, stream)
            .then(move |response| {
                let (app, buffer, request_id) = (app.clone(), buffer.clone(), request_id.clone());
                async move {
                    match flush(app, &buffer, &request_id).await {
                        Ok(()) => response,
                        Err(error) => Response::from_errors(vec![error]),
                    }
                }
            })
            .boxed()
    }
}
