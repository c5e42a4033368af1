//! Sign-in sessions (RFC 9700): a login starts a session and returns a
//! 15-minute access token and an opaque refresh token. Every refresh rotates
//! the refresh token in one conditional statement; presenting a rotated one
//! again means it leaked, so the whole session (the token family) is revoked.
//!
//! Functions take the services they use (the token service, the password
//! hasher) rather than the whole application context.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use entity::{login_throttles, refresh_tokens, sessions, users};

use super::{
    passwords::PasswordHasherPool,
    tokens::{TokenService, random_secret, secret_hash},
};
use crate::error::{ApiError, ApiResult};

/// How long a session lives at most, however often it is refreshed.
pub const SESSION_TTL: Duration = Duration::days(30);
/// Consecutive failures before an account is locked for a while.
pub const FAILURES_BEFORE_LOCK: i32 = 5;

/// What a successful sign-in (or refresh) hands the client.
pub struct IssuedSession {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: users::Model,
}

/// Emails are compared lower-cased and trimmed.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Starts a session for `user` inside `db` (a transaction, when the caller
/// has one) and issues its first tokens.
pub async fn start_session(
    tokens: &TokenService,
    db: &impl ConnectionTrait,
    user: users::Model,
    now: DateTime<Utc>,
) -> ApiResult<IssuedSession> {
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + SESSION_TTL),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(db)
    .await?;
    let refresh_token = insert_refresh_token(db, &session, now).await?;
    let (access_token, expires_at) = tokens
        .issue_access(user.id, session.id, now)
        .map_err(ApiError::internal)?;
    Ok(IssuedSession {
        access_token,
        refresh_token,
        expires_at,
        user,
    })
}

async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session: &sessions::Model,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let token = random_secret("rt_");
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.id),
        token_hash: Set(secret_hash(&token)),
        created_at: Set(now),
        expires_at: Set(session.expires_at),
        rotated_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Email and password sign-in with per-account backoff: an attempt is
/// claimed (counted) before the password is checked, so a burst of any size
/// gets at most five evaluated failures; then the address is locked for 30 s,
/// doubling with each further failure up to 15 minutes. Unknown addresses
/// are throttled the same way and cost the same hashing time.
pub async fn login(
    tokens: &TokenService,
    passwords: &PasswordHasherPool,
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> ApiResult<IssuedSession> {
    let now = Utc::now();
    let email_key = normalize_email(email);
    if email_key.is_empty() || email_key.len() > 254 || password.len() > 1024 {
        return Err(ApiError::InvalidCredentials);
    }
    claim_attempt(db, &email_key, now).await?;

    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email_key.as_str()))
        .one(db)
        .await?;
    let matches = passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;

    match user {
        Some(user) if matches => {
            clear_attempts(db, &email_key).await?;
            let txn = db.begin().await?;
            let issued = start_session(tokens, &txn, user, now).await?;
            txn.commit().await?;
            Ok(issued)
        }
        // The claimed attempt stays counted as a failure.
        _ => Err(ApiError::InvalidCredentials),
    }
}

/// When an account with `failures` counted attempts is locked until.
pub fn lock_after(failures: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (failures >= FAILURES_BEFORE_LOCK).then(|| {
        let doublings = Ord::min(failures - FAILURES_BEFORE_LOCK, 5) as u32;
        now + Duration::seconds(30 * 2i64.pow(doublings)).min(Duration::minutes(15))
    })
}

/// Claims one password check for `email_key` (lower-cased), or
/// `RATE_LIMITED` while it is locked. The claim is one conditional statement
/// (compare-and-set on the failure count), so concurrent attempts cannot all
/// read the same count: the fifth claim sets the lock and every later one
/// sees it. A success clears the count (`clear_attempts`); a failure leaves
/// it.
pub async fn claim_attempt(
    db: &impl ConnectionTrait,
    email_key: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    // Every lost race means another attempt was counted, so after a handful
    // of rounds the lock is visible; the bound is a safety net.
    for _ in 0..64 {
        let Some(row) = login_throttles::Entity::find_by_id(email_key.to_owned())
            .one(db)
            .await?
        else {
            let inserted = login_throttles::Entity::insert(login_throttles::ActiveModel {
                email_key: Set(email_key.to_owned()),
                failures: Set(1),
                locked_until: Set(lock_after(1, now)),
                updated_at: Set(now),
            })
            .on_conflict_do_nothing_on([login_throttles::Column::EmailKey])
            .exec_without_returning(db)
            .await?;
            if matches!(inserted, sea_orm::TryInsertResult::Inserted(1)) {
                return Ok(());
            }
            continue;
        };
        if let Some(locked_until) = row.locked_until
            && locked_until > now
        {
            return Err(ApiError::RateLimited {
                retry_after_secs: Ord::max((locked_until - now).num_seconds(), 1) as u64,
            });
        }
        let failures = row.failures + 1;
        let claimed = login_throttles::Entity::update_many()
            .col_expr(login_throttles::Column::Failures, Expr::value(failures))
            .col_expr(
                login_throttles::Column::LockedUntil,
                Expr::value(lock_after(failures, now)),
            )
            .col_expr(login_throttles::Column::UpdatedAt, Expr::value(now))
            .filter(login_throttles::Column::EmailKey.eq(email_key))
            .filter(login_throttles::Column::Failures.eq(row.failures))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(());
        }
    }
    Err(ApiError::RateLimited {
        retry_after_secs: 1,
    })
}

/// Forgets the counted attempts of `email_key` after a correct password.
pub async fn clear_attempts(db: &impl ConnectionTrait, email_key: &str) -> ApiResult<()> {
    login_throttles::Entity::delete_by_id(email_key.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a refresh token for new tokens, rotating it.
pub async fn refresh(
    tokens: &TokenService,
    db: &DatabaseConnection,
    refresh_token: &str,
) -> ApiResult<IssuedSession> {
    let now = Utc::now();
    let Some(token) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secret_hash(refresh_token)))
        .one(db)
        .await?
    else {
        return Err(ApiError::Unauthenticated);
    };
    if token.rotated_at.is_some() {
        revoke_session(db, token.session_id, "refresh_token_reuse", now).await?;
        tracing::warn!(session = %token.session_id, "refresh token reused: session revoked");
        return Err(ApiError::Unauthenticated);
    }
    if token.expires_at <= now {
        return Err(ApiError::Unauthenticated);
    }

    let txn = db.begin().await?;
    // The one atomic step: only one exchange of this token can succeed.
    let rotated = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(token.id))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .exec(&txn)
        .await?;
    if rotated.rows_affected != 1 {
        txn.rollback().await?;
        revoke_session(db, token.session_id, "refresh_token_reuse", now).await?;
        return Err(ApiError::Unauthenticated);
    }
    let session = sessions::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or(ApiError::Unauthenticated)?;
    let user = users::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let refresh_token = insert_refresh_token(&txn, &session, now).await?;
    txn.commit().await?;
    let (access_token, expires_at) = tokens
        .issue_access(user.id, session.id, now)
        .map_err(ApiError::internal)?;
    Ok(IssuedSession {
        access_token,
        refresh_token,
        expires_at,
        user,
    })
}

/// Ends the session a refresh token belongs to. Unknown tokens are ignored
/// (the answer is the same either way).
pub async fn logout(db: &DatabaseConnection, refresh_token: &str) -> ApiResult<()> {
    if let Some(token) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secret_hash(refresh_token)))
        .one(db)
        .await?
    {
        revoke_session(db, token.session_id, "logout", Utc::now()).await?;
    }
    Ok(())
}

/// Revokes one session; its access tokens stop working on the next request.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .col_expr(sessions::Column::RevokedReason, Expr::value(reason))
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every session of `user` except `keep`.
pub async fn revoke_other_sessions(
    db: &impl ConnectionTrait,
    user: Uuid,
    keep: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .col_expr(sessions::Column::RevokedReason, Expr::value(reason))
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::Id.ne(keep))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_at_the_fifth_attempt_and_doubles_to_fifteen_minutes() {
        let now = Utc::now();
        let table = [
            (1, None),
            (4, None),
            (5, Some(30)),
            (6, Some(60)),
            (9, Some(480)),
            (10, Some(900)),
            (40, Some(900)),
        ];
        for (failures, secs) in table {
            assert_eq!(
                lock_after(failures, now),
                secs.map(|s| now + Duration::seconds(s)),
                "{failures}"
            );
        }
    }
}
