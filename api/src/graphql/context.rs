//! What every resolver reaches through its `Context`: the shared services,
//! this request's facts, and the caller.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::{
    AppContext,
    auth::{Principal, RequestContext},
    error::{ApiError, ApiResult},
};

pub trait ContextExt {
    fn app(&self) -> &AppContext;
    fn request(&self) -> Option<&RequestContext>;
    /// The database, or `UNAVAILABLE` while it is out of reach.
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    /// The signed-in caller, or `UNAUTHENTICATED`.
    fn principal(&self) -> impl Future<Output = ApiResult<&Principal>> + Send;
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
}
