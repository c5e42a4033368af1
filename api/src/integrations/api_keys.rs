//! GraphQL surface of API keys. An admin creates a key for another system;
//! its secret is shown once and sent as `Authorization: Bearer <secret>`.
//! The key acts as its service account (`serviceUserId`, role
//! `INTEGRATION`): it reaches only patients who granted that account
//! consent, within the key's scopes, and every use is audited with the
//! service account as actor. Its SQL is in `api_key_store`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use entity::api_keys;

use super::api_key_store::{self, API_KEY, CREATE, LIST, NewKey, REVOKE, ROLL};
use crate::{
    auth::{Role, api_keys::ApiKeyScope},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation,
};

/// A key's name: what the admin calls the system it belongs to.
const NAME_MAX: usize = 100;
/// How long the old key keeps working after a roll, by default.
const DEFAULT_OVERLAP_HOURS: i32 = 24;
/// The longest overlap (30 days).
const MAX_OVERLAP_HOURS: i32 = 720;

pub struct ApiKey(pub api_keys::Model);

#[Object]
impl ApiKey {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The non-secret start of the key, for recognising it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// The key's service account: patients grant consent to it
    /// (`grantConsent.granteeUserId`).
    async fn service_user_id(&self) -> Uuid {
        self.0.service_user_id
    }
    async fn scopes(&self) -> Vec<ApiKeyScope> {
        ApiKeyScope::decode(&self.0.scopes)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When the key was last used (kept to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: ApiKey,
    /// Shown once; sent as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    pub api_key_id: Uuid,
}

#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    pub api_key: ApiKey,
}

#[derive(InputObject)]
pub struct RollApiKeyInput {
    pub api_key_id: Uuid,
    /// How long the old key keeps working (default 24, at most 720).
    pub old_key_valid_for_hours: Option<i32>,
}

#[derive(SimpleObject)]
pub struct RollApiKeyPayload {
    pub api_key: ApiKey,
    pub secret: String,
}

#[derive(Default)]
pub struct ApiKeysQuery;

#[Object]
impl ApiKeysQuery {
    /// The organization's API keys, newest first (admins).
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        Ok(list(&ctx.caller().await?).await?)
    }
}

#[derive(Default)]
pub struct ApiKeysMutation;

#[Object]
impl ApiKeysMutation {
    /// A key for another system (admins). The secret is in the answer only.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let (key, secret) = create(&ctx.caller().await?, input).await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(key),
            secret,
        })
    }

    /// Ends a key at once: its next request is `UNAUTHENTICATED` (admins).
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let caller = ctx.caller().await?;
        let key = key_to_change(&caller, input.api_key_id, REVOKE).await?;
        let key = api_key_store::revoke(&caller, key).await?;
        Ok(RevokeApiKeyPayload {
            api_key: ApiKey(key),
        })
    }

    /// A new secret for the same service account; the old one keeps
    /// working for the overlap (admins).
    async fn roll_api_key(
        &self,
        ctx: &Context<'_>,
        input: RollApiKeyInput,
    ) -> async_graphql::Result<RollApiKeyPayload> {
        let (key, secret) = roll(&ctx.caller().await?, input).await?;
        Ok(RollApiKeyPayload {
            api_key: ApiKey(key),
            secret,
        })
    }
}

async fn list(caller: &Caller) -> ApiResult<Vec<ApiKey>> {
    caller.require(&[Role::Admin], LIST)?;
    let keys = api_key_store::list(caller.db(), caller.organization_id()).await?;
    caller.record(caller.event(LIST));
    Ok(keys.into_iter().map(ApiKey).collect())
}

async fn create(caller: &Caller, input: CreateApiKeyInput) -> ApiResult<(api_keys::Model, String)> {
    caller.require(&[Role::Admin], CREATE)?;
    let name = validation::text("name", &input.name, NAME_MAX)?;
    let mut scopes = input.scopes;
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiError::bad_input(
            "scopes",
            "scopes must name at least one scope",
        ));
    }
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::bad_input(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    api_key_store::create(
        caller,
        NewKey {
            name,
            scopes,
            expires_at: input.expires_at,
        },
    )
    .await
}

/// A key of the caller's organization to revoke or roll (admins); another
/// organization's or an unknown id is `NOT_FOUND`.
async fn key_to_change(
    caller: &Caller,
    id: Uuid,
    action: crate::audit::Action,
) -> ApiResult<api_keys::Model> {
    caller.require(&[Role::Admin], action)?;
    match api_key_store::find(caller.db(), caller.organization_id(), id).await? {
        Some(key) => Ok(key),
        None => {
            caller.record(caller.event(action).resource(id).denied());
            Err(ApiError::NotFound(API_KEY.noun))
        }
    }
}

async fn roll(caller: &Caller, input: RollApiKeyInput) -> ApiResult<(api_keys::Model, String)> {
    let hours = input
        .old_key_valid_for_hours
        .unwrap_or(DEFAULT_OVERLAP_HOURS);
    if !(0..=MAX_OVERLAP_HOURS).contains(&hours) {
        return Err(ApiError::bad_input(
            "oldKeyValidForHours",
            format!("oldKeyValidForHours must be from 0 to {MAX_OVERLAP_HOURS}"),
        ));
    }
    let key = key_to_change(caller, input.api_key_id, ROLL).await?;
    if key.revoked_at.is_some() {
        return Err(ApiError::conflict("a revoked key cannot be rolled"));
    }
    api_key_store::roll(caller, key, Duration::hours(i64::from(hours))).await
}
