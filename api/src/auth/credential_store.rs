//! Passwords in the database: reading a user's credentials and replacing
//! their password (which signs out every other session in the same
//! transaction).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use entity::users;

use super::sessions;
use crate::{caller::Caller, error::ApiResult};

/// Why the other sessions ended (`sessions.revoked_reason`).
pub const PASSWORD_CHANGED: &str = "password_changed";

/// The user's account row (with its password hash).
pub async fn account(db: &impl ConnectionTrait, user_id: Uuid) -> ApiResult<Option<users::Model>> {
    Ok(users::Entity::find_by_id(user_id).one(db).await?)
}

/// Stores the caller's new password hash and revokes every session but the
/// caller's, in one transaction.
pub async fn set_password(
    caller: &Caller,
    user: users::Model,
    password_hash: String,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    let mut active = user.into_active_model();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    sessions::revoke_other_sessions(
        &txn,
        caller.user_id(),
        caller.principal().session_id,
        PASSWORD_CHANGED,
        now,
    )
    .await?;
    caller.commit(txn).await
}
