//! What every resolver reaches through its `Context`: the shared services,
//! this request's facts, and the caller.

use std::net::IpAddr;

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::{
    AppContext,
    auth::{Principal, RequestContext},
    error::{ApiError, ApiResult},
    graphql::loaders::Loaders,
};

pub trait ContextExt {
    fn app(&self) -> &AppContext;
    fn request(&self) -> Option<&RequestContext>;
    /// The database, or `UNAVAILABLE` while it is out of reach.
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    /// The signed-in caller, or `UNAUTHENTICATED`.
    fn principal(&self) -> impl Future<Output = ApiResult<&Principal>> + Send;
    /// This request's id (for the audit trail).
    fn request_id(&self) -> &str;
    /// The client's address (for rate limits).
    fn client_ip(&self) -> Option<IpAddr>;
    /// This request's DataLoaders.
    fn loaders(&self) -> ApiResult<&Loaders>;
}

impl ContextExt for Context<'_> {
    fn app(&self) -> &AppContext {
        self.data_unchecked::<AppContext>()
    }

    fn request(&self) -> Option<&RequestContext> {
        self.data_opt::<RequestContext>()
    }

    fn db(&self) -> ApiResult<&DatabaseConnection> {
        self.app().db.conn()
    }

    async fn principal(&self) -> ApiResult<&Principal> {
        let Some(request) = self.data_opt::<RequestContext>() else {
            return Err(ApiError::Unauthenticated);
        };
        request.principal(self.db()).await
    }

    fn request_id(&self) -> &str {
        self.request().map_or("", |r| r.request_id.as_str())
    }

    fn client_ip(&self) -> Option<IpAddr> {
        self.request().and_then(|r| r.client_ip)
    }

    fn loaders(&self) -> ApiResult<&Loaders> {
        self.data_opt::<Loaders>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("request has no loaders")))
    }
}
