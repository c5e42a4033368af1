//! API keys in the database: a key and its service account (a user of the
//! organization with the `INTEGRATION` role, and no password anyone can
//! use) are created together; rolling writes the successor and shortens the
//! old key's life to the overlap; revoking takes effect on the next request
//! (every request looks the key up).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use entity::{api_keys, memberships, users};

use crate::{
    audit::{Action, Kind},
    auth::{
        Role,
        api_keys::{ApiKeyScope, generate},
        tokens::secret_hash,
    },
    caller::Caller,
    error::ApiResult,
};

pub const API_KEY: Kind = Kind::new("ApiKey", "API key");
pub const CREATE: Action = API_KEY.action("apiKey.create");
pub const LIST: Action = API_KEY.action("apiKey.list");
pub const REVOKE: Action = API_KEY.action("apiKey.revoke");
pub const ROLL: Action = API_KEY.action("apiKey.roll");

/// A password hash no password matches (not a PHC string): nobody signs in
/// as a service account.
const NO_PASSWORD: &str = "!service-account";

/// A key to create.
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

async fn insert_key(
    db: &impl ConnectionTrait,
    caller: &Caller,
    service_user_id: Uuid,
    new: &NewKey,
    now: DateTime<Utc>,
) -> ApiResult<(api_keys::Model, String)> {
    let (secret, prefix) = generate();
    let key = api_keys::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        service_user_id: Set(service_user_id),
        name: Set(new.name.clone()),
        prefix: Set(prefix),
        secret_sha256: Set(secret_hash(&secret)),
        scopes: Set(ApiKeyScope::encode(&new.scopes)),
        created_by_user_id: Set(caller.user_id()),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((key, secret))
}

/// Creates a key and its service account in one transaction with the
/// audit row; returns the key and its secret (shown once).
pub async fn create(caller: &Caller, new: NewKey) -> ApiResult<(api_keys::Model, String)> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let service_user_id = Uuid::now_v7();
    users::ActiveModel {
        id: Set(service_user_id),
        organization_id: Set(caller.organization_id()),
        email: Set(format!("key-{service_user_id}@service.stepdown.invalid")),
        password_hash: Set(NO_PASSWORD.into()),
        display_name: Set(new.name.clone()),
        timezone: Set("UTC".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    memberships::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        user_id: Set(service_user_id),
        role: Set(Role::Integration.as_str().into()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let (key, secret) = insert_key(&txn, caller, service_user_id, &new, now).await?;
    caller.record(caller.event(CREATE).resource(key.id));
    caller.commit(txn).await?;
    Ok((key, secret))
}

/// The organization's keys, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    organization: Uuid,
) -> ApiResult<Vec<api_keys::Model>> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::OrganizationId.eq(organization))
        .order_by_desc(api_keys::Column::CreatedAt)
        .all(db)
        .await?)
}

/// A key of `organization`, if there is one with that id.
pub async fn find(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> ApiResult<Option<api_keys::Model>> {
    Ok(api_keys::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|k| k.organization_id == organization))
}

/// Revokes `key` now (a revoked key stays revoked).
pub async fn revoke(caller: &Caller, key: api_keys::Model) -> ApiResult<api_keys::Model> {
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let txn = caller.begin().await?;
    let mut active = key.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let key = active.update(&txn).await?;
    caller.record(caller.event(REVOKE).resource(key.id));
    caller.commit(txn).await?;
    Ok(key)
}

/// Writes `old`'s successor (same service account, name, scopes and
/// expiry); `old` keeps working for `overlap`, never longer than it would
/// have. Returns the new key and its secret.
pub async fn roll(
    caller: &Caller,
    old: api_keys::Model,
    overlap: Duration,
) -> ApiResult<(api_keys::Model, String)> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let new = NewKey {
        name: old.name.clone(),
        scopes: ApiKeyScope::decode(&old.scopes),
        expires_at: old.expires_at,
    };
    let (key, secret) = insert_key(&txn, caller, old.service_user_id, &new, now).await?;
    let ends = now + overlap;
    let mut active = old.clone().into_active_model();
    active.expires_at = Set(Some(old.expires_at.map_or(ends, |at| at.min(ends))));
    active.update(&txn).await?;
    caller.record(caller.event(ROLL).resource(old.id));
    caller.record(caller.event(CREATE).resource(key.id));
    caller.commit(txn).await?;
    Ok((key, secret))
}
