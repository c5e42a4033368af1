//! GraphQL surface of accounts: the `User` and `Organization` types and `me`.

use async_graphql::{Context, Object};
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::{
    auth::Role,
    error::{ApiError, ApiResult},
    graphql::ContextExt,
};

/// A person with an account.
pub struct User {
    pub model: entity::users::Model,
    pub roles: Vec<Role>,
}

#[Object]
impl User {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn email(&self) -> &str {
        &self.model.email
    }
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }
    /// IANA name, e.g. "America/Chicago": decides what "today" means for them.
    async fn timezone(&self) -> &str {
        &self.model.timezone
    }
    async fn roles(&self) -> &[Role] {
        &self.roles
    }
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let db = ctx.db()?;
        let org = entity::organizations::Entity::find_by_id(self.model.organization_id)
            .one(db)
            .await
            .map_err(ApiError::from)?;
        Ok(org.map(Organization))
    }
}

pub struct Organization(pub entity::organizations::Model);

#[Object]
impl Organization {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user. `UNAUTHENTICATED` without a valid access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        Ok(me(ctx).await?)
    }
}

async fn me(ctx: &Context<'_>) -> ApiResult<User> {
    let principal = ctx.principal().await?;
    let model = entity::users::Entity::find_by_id(principal.user_id)
        .one(ctx.db()?)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(User {
        model,
        roles: principal.roles.clone(),
    })
}
