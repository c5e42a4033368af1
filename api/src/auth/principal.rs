//! The caller of one request: what the HTTP layer read from the request
//! (`RequestContext`) and, on first demand, who that is (`Principal`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{
    api_key_store,
    api_keys::{self, ApiKeyScope},
    tokens::{AccessClaims, TokenError},
};
use crate::{
    authz::ConsentCategory,
    error::{ApiError, ApiResult},
    stored::stored_enum,
};

/// A person's role in their organization; one person may hold several.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Patient,
    Clinician,
    Facilitator,
    Supporter,
    Admin,
    /// A privacy officer: reads the organization's whole audit trail and no
    /// records (42 CFR Part 2, minimum necessary).
    Auditor,
    /// An API key's service account: another system, reaching only the
    /// patients who consented to it, within its scopes.
    Integration,
}

// Stored as its GraphQL name.
stored_enum!(impl Role {
    Patient => "PATIENT",
    Clinician => "CLINICIAN",
    Facilitator => "FACILITATOR",
    Supporter => "SUPPORTER",
    Admin => "ADMIN",
    Auditor => "AUDITOR",
    Integration => "INTEGRATION",
});

/// A signed-in user, as established for this request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    /// The session (for an API key: the key's id).
    pub session_id: Uuid,
    pub roles: Vec<Role>,
    /// Set when the caller is an API key: what it may receive.
    pub api_key: Option<KeyGrant>,
}

/// The key behind an integration's principal and its scopes.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub key_id: Uuid,
    pub scopes: Vec<ApiKeyScope>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether a consent in `category` reaches this caller: always for a
    /// person; for an API key only within its scopes.
    pub fn receives(&self, category: ConsentCategory) -> bool {
        self.api_key.as_ref().is_none_or(|key| {
            key.scopes
                .iter()
                .any(|scope| scope.categories().contains(&category))
        })
    }

    pub fn has_scope(&self, scope: ApiKeyScope) -> bool {
        self.api_key
            .as_ref()
            .is_some_and(|key| key.scopes.contains(&scope))
    }
}

/// What the bearer presented, checked for signature and claims but not yet
/// against the database.
#[derive(Debug, Clone)]
pub enum Credentials {
    Anonymous,
    Access(AccessClaims),
    /// A well-formed API key (`sdk_live_…`), not yet looked up.
    ApiKey(String),
    Rejected(TokenError),
}

impl Credentials {
    /// Reads an `Authorization` header value (`Bearer <token>`).
    pub fn from_authorization(value: Option<&str>, tokens: &super::TokenService) -> Self {
        let Some(value) = value else {
            return Credentials::Anonymous;
        };
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Credentials::Rejected(TokenError::Invalid);
        };
        let token = token.trim();
        if api_keys::looks_like_key(token) {
            return if api_keys::well_formed(token) {
                Credentials::ApiKey(token.to_owned())
            } else {
                Credentials::Rejected(TokenError::Invalid)
            };
        }
        match tokens.verify_access(token) {
            Ok(claims) => Credentials::Access(claims),
            Err(err) => Credentials::Rejected(err),
        }
    }
}

/// Per-request facts the resolvers need: request id (for logs and the audit
/// trail), client address (for rate limits), credentials, and the principal
/// resolved from them at most once per request.
#[derive(Debug)]
pub struct RequestContext {
    /// The server's id for this request (the one the audit trail records).
    pub request_id: String,
    /// The client's own well-formed `x-request-id`, kept beside it.
    pub correlation_id: Option<String>,
    pub client_ip: Option<IpAddr>,
    pub credentials: Credentials,
    principal: OnceCell<Result<Principal, PrincipalError>>,
}

#[derive(Debug, Clone, Copy)]
enum PrincipalError {
    Unauthenticated,
    Unavailable,
    RateLimited(u64),
    Internal,
}

impl RequestContext {
    pub fn new(request_id: String, client_ip: Option<IpAddr>, credentials: Credentials) -> Self {
        Self {
            request_id,
            correlation_id: None,
            client_ip,
            credentials,
            principal: OnceCell::new(),
        }
    }

    /// Keeps the client's own request id beside the server's.
    pub fn with_correlation(mut self, correlation_id: Option<String>) -> Self {
        self.correlation_id = correlation_id;
        self
    }

    /// The signed-in caller, or `UNAUTHENTICATED`. The session is checked in
    /// the database on every request, so a revoked session's tokens stop
    /// working at once.
    pub async fn principal(&self, db: ApiResult<&DatabaseConnection>) -> ApiResult<&Principal> {
        let credentials = match &self.credentials {
            Credentials::Access(_) | Credentials::ApiKey(_) => &self.credentials,
            Credentials::Anonymous => return Err(ApiError::Unauthenticated),
            Credentials::Rejected(reason) => {
                tracing::debug!(%reason, "access token refused");
                return Err(ApiError::Unauthenticated);
            }
        };
        let resolved = self
            .principal
            .get_or_init(|| async {
                let db = match db {
                    Ok(db) => db,
                    Err(_) => return Err(PrincipalError::Unavailable),
                };
                let loaded = match credentials {
                    Credentials::Access(claims) => load_principal(db, claims).await,
                    Credentials::ApiKey(secret) => api_key_store::live_key(db, secret)
                        .await
                        .map(|key| key.map(key_principal)),
                    _ => Ok(None),
                };
                match loaded {
                    Ok(Some(principal)) => match &principal.api_key {
                        // A key's budget: one unit per request.
                        Some(key) => match api_keys::check_rate(key.key_id) {
                            Ok(()) => Ok(principal),
                            Err(ApiError::RateLimited { retry_after_secs }) => {
                                Err(PrincipalError::RateLimited(retry_after_secs))
                            }
                            Err(_) => Err(PrincipalError::Internal),
                        },
                        None => Ok(principal),
                    },
                    Ok(None) => Err(PrincipalError::Unauthenticated),
                    Err(err) => {
                        // Logged once here; the client gets the code only.
                        err.log_cause();
                        Err(match err.code() {
                            crate::error::ErrorCode::Unavailable => PrincipalError::Unavailable,
                            _ => PrincipalError::Internal,
                        })
                    }
                }
            })
            .await;
        match resolved {
            Ok(principal) => Ok(principal),
            Err(PrincipalError::Unauthenticated) => Err(ApiError::Unauthenticated),
            Err(PrincipalError::Unavailable) => Err(ApiError::Unavailable(None)),
            Err(PrincipalError::RateLimited(secs)) => Err(ApiError::RateLimited {
                retry_after_secs: *secs,
            }),
            Err(PrincipalError::Internal) => Err(ApiError::Internal(anyhow::anyhow!(
                "principal lookup failed (logged above)"
            ))),
        }
    }
}

/// An API key's service account: role `INTEGRATION`, the key's scopes.
fn key_principal(key: entity::api_keys::Model) -> Principal {
    Principal {
        user_id: key.service_user_id,
        organization_id: key.organization_id,
        session_id: key.id,
        roles: vec![Role::Integration],
        api_key: Some(KeyGrant {
            key_id: key.id,
            scopes: ApiKeyScope::decode(&key.scopes),
        }),
    }
}

/// Loads the session, its user and their roles in one statement (session ⨝
/// user ⟕ memberships); `None` when the session is unknown, revoked or
/// expired, or belongs to another user.
pub async fn load_principal(
    db: &DatabaseConnection,
    claims: &AccessClaims,
) -> ApiResult<Option<Principal>> {
    use entity::{memberships, sessions, users};
    use sea_orm::{
        ConnectionTrait,
        sea_query::{Condition, Expr, ExprTrait, JoinType, Query},
    };
    let session = |c: sessions::Column| (sessions::Entity, c);
    let user = |c: users::Column| (users::Entity, c);
    let membership = |c: memberships::Column| (memberships::Entity, c);
    let query = Query::select()
        .expr_as(Expr::col(session(sessions::Column::UserId)), "user_id")
        .expr_as(
            Expr::col(session(sessions::Column::RevokedAt)),
            "revoked_at",
        )
        .expr_as(
            Expr::col(session(sessions::Column::ExpiresAt)),
            "expires_at",
        )
        .expr_as(
            Expr::col(user(users::Column::OrganizationId)),
            "organization_id",
        )
        .expr_as(Expr::col(membership(memberships::Column::Role)), "role")
        .from(sessions::Entity)
        .join(
            JoinType::InnerJoin,
            users::Entity,
            Expr::col(user(users::Column::Id)).equals(session(sessions::Column::UserId)),
        )
        .join(
            JoinType::LeftJoin,
            memberships::Entity,
            Condition::all()
                .add(
                    Expr::col(membership(memberships::Column::UserId))
                        .equals(user(users::Column::Id)),
                )
                .add(
                    Expr::col(membership(memberships::Column::OrganizationId))
                        .equals(user(users::Column::OrganizationId)),
                ),
        )
        .and_where(Expr::col(session(sessions::Column::Id)).eq(claims.sid))
        .to_owned();
    let rows = db.query_all(&query).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let user_id: Uuid = first.try_get("", "user_id")?;
    let revoked_at: Option<DateTime<Utc>> = first.try_get("", "revoked_at")?;
    let expires_at: DateTime<Utc> = first.try_get("", "expires_at")?;
    if user_id != claims.sub || revoked_at.is_some() || expires_at <= Utc::now() {
        return Ok(None);
    }
    let mut roles = Vec::with_capacity(rows.len());
    for row in &rows {
        let role: Option<String> = row.try_get("", "role")?;
        roles.extend(role.as_deref().and_then(Role::parse));
    }
    Ok(Some(Principal {
        user_id,
        organization_id: first.try_get("", "organization_id")?,
        session_id: claims.sid,
        roles,
        api_key: None,
    }))
}
