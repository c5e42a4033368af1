//! Tells the HTTP layer whether a request reached execution. A response
//! that never did (parse, validation or limit errors) is a "request error":
//! the GraphQL-over-HTTP spec wants it answered 400 without `data` under
//! `application/graphql-response+json`.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};

/// Put in each request's data; set when execution starts.
#[derive(Clone, Default)]
pub struct ExecutionMarker(Arc<AtomicBool>);

impl ExecutionMarker {
    pub fn executed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

pub struct OutcomeExtension;

impl ExtensionFactory for OutcomeExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OutcomeExtensionImpl)
    }
}

struct OutcomeExtensionImpl;

#[async_graphql::async_trait::async_trait]
impl Extension for OutcomeExtensionImpl {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(marker) = ctx.data_opt::<ExecutionMarker>() {
            marker.0.store(true, Ordering::Release);
        }
        next.run(ctx, operation_name).await
    }
}
