//! Finding the key a request presents: one lookup by the secret's SHA-256,
//! and the key's last-used time kept (at most once a minute, off the
//! request's path). `principal` turns the key into its service account.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use entity::api_keys;

use super::tokens::secret_hash;
use crate::error::ApiResult;

/// How stale `lastUsedAt` may get before a request refreshes it.
const LAST_USED_EVERY: Duration = Duration::seconds(60);

/// The key behind a well-formed secret; `None` when it is unknown, revoked
/// or expired.
pub async fn live_key(db: &DatabaseConnection, secret: &str) -> ApiResult<Option<api_keys::Model>> {
    let Some(key) = api_keys::Entity::find()
        .filter(api_keys::Column::SecretSha256.eq(secret_hash(secret)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    if key
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_EVERY)
    {
        let db = db.clone();
        let id = key.id;
        tokio::spawn(async move {
            let update = api_keys::ActiveModel {
                id: Set(id),
                last_used_at: Set(Some(now)),
                ..Default::default()
            };
            if let Err(err) = update.update(&db).await {
                tracing::warn!(key = %id, error = %err, "could not record an API key's last use");
            }
        });
    }
    Ok(Some(key))
}
