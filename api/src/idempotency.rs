//! Idempotency keys for creates a phone may retry (DESIGN §5): scoped to the
//! user and the operation, kept at least 30 days. The same key with the same
//! input returns the first result and writes nothing; the same key with a
//! different input is `CONFLICT`.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use uuid::Uuid;

use entity::idempotency_keys;

use crate::error::{ApiError, ApiResult};

/// Keys are the client's: 1–200 characters.
pub fn validate_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.chars().count() > 200 {
        return Err(ApiError::bad_input(
            "idempotencyKey",
            "idempotencyKey must be 1 to 200 characters",
        ));
    }
    Ok(())
}

/// A fingerprint of the request's input (key excluded by the caller).
pub fn fingerprint(input: &impl Serialize) -> String {
    let json = serde_json::to_string(input).unwrap_or_default();
    crate::auth::tokens::secret_hash(&json)
}

/// The resource a previous call with this key created, if any; `CONFLICT`
/// when the key was used with a different input.
pub async fn replay(
    db: &impl ConnectionTrait,
    user: Uuid,
    operation: &str,
    key: &str,
    fingerprint: &str,
) -> ApiResult<Option<Uuid>> {
    let found = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::UserId.eq(user))
        .filter(idempotency_keys::Column::Operation.eq(operation))
        .filter(idempotency_keys::Column::Key.eq(key))
        .one(db)
        .await?;
    match found {
        None => Ok(None),
        Some(row) if row.request_hash == fingerprint => Ok(Some(row.resource_id)),
        Some(_) => Err(ApiError::conflict(
            "this idempotencyKey was already used with a different input",
        )),
    }
}

/// Records the key inside the creating transaction. False when another
/// request with the same key got there first (roll back and replay).
pub async fn remember(
    db: &impl ConnectionTrait,
    user: Uuid,
    operation: &str,
    key: &str,
    fingerprint: &str,
    resource: Uuid,
) -> ApiResult<bool> {
    let inserted = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        user_id: Set(user),
        operation: Set(operation.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(fingerprint.to_owned()),
        resource_id: Set(resource),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            idempotency_keys::Column::UserId,
            idempotency_keys::Column::Operation,
            idempotency_keys::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// One create under an idempotency key: the user, the operation, the key
/// and a fingerprint of the input, checked once when built.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    user: Uuid,
    operation: &'static str,
    key: String,
    fingerprint: String,
}

/// What `create_once` decided.
pub enum Claim {
    /// The key is ours: carry on and commit.
    Won(DatabaseTransaction),
    /// A concurrent request with the same key and input won: our
    /// transaction was rolled back; answer with its resource.
    Replay(Uuid),
}

impl IdempotencyKey {
    /// Validates the key and fingerprints `input` (serialize the input
    /// without the key, or with it: the key is the same either way).
    pub fn new(
        user: Uuid,
        operation: &'static str,
        key: &str,
        input: &impl Serialize,
    ) -> ApiResult<Self> {
        validate_key(key)?;
        Ok(Self {
            user,
            operation,
            key: key.to_owned(),
            fingerprint: fingerprint(input),
        })
    }

    /// The resource an earlier call with this key created, if any;
    /// `CONFLICT` when it was used with another input.
    pub async fn replay(&self, db: &impl ConnectionTrait) -> ApiResult<Option<Uuid>> {
        replay(db, self.user, self.operation, &self.key, &self.fingerprint).await
    }
}

/// Remembers the key inside the creating transaction, or, when a concurrent
/// request got there first, rolls back and replays that request's result.
pub async fn create_once(
    db: &impl ConnectionTrait,
    txn: DatabaseTransaction,
    key: &IdempotencyKey,
    resource: Uuid,
) -> ApiResult<Claim> {
    if remember(
        &txn,
        key.user,
        key.operation,
        &key.key,
        &key.fingerprint,
        resource,
    )
    .await?
    {
        return Ok(Claim::Won(txn));
    }
    txn.rollback().await?;
    match key.replay(db).await? {
        Some(existing) => Ok(Claim::Replay(existing)),
        None => Err(ApiError::conflict(
            "a concurrent request with this key failed; retry",
        )),
    }
}
