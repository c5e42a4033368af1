//! The caller of one request: what the HTTP layer read from the request
//! (`RequestContext`) and, on first demand, who that is (`Principal`).

use std::net::IpAddr;

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::tokens::{AccessClaims, TokenError};
use crate::{
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
}

// Stored as its GraphQL name.
stored_enum!(impl Role {
    Patient => "PATIENT",
    Clinician => "CLINICIAN",
    Facilitator => "FACILITATOR",
    Supporter => "SUPPORTER",
    Admin => "ADMIN",
    Auditor => "AUDITOR",
});

/// A signed-in user, as established for this request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub organization_id: Uuid,
    pub session_id: Uuid,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What the bearer presented, checked for signature and claims but not yet
/// against the database.
#[derive(Debug, Clone)]
pub enum Credentials {
    Anonymous,
    Access(AccessClaims),
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
        match tokens.verify_access(token.trim()) {
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
        let claims = match &self.credentials {
            Credentials::Access(claims) => claims,
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
                match load_principal(db, claims).await {
                    Ok(Some(principal)) => Ok(principal),
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
            Err(PrincipalError::Internal) => Err(ApiError::Internal(anyhow::anyhow!(
                "principal lookup failed (logged above)"
            ))),
        }
    }
}

/// Loads the session, its user and their roles; `None` when the session is
/// unknown, revoked or expired, or belongs to another user.
pub async fn load_principal(
    db: &DatabaseConnection,
    claims: &AccessClaims,
) -> ApiResult<Option<Principal>> {
    use entity::{memberships, sessions, users};
    let now = Utc::now();
    let Some(session) = sessions::Entity::find_by_id(claims.sid).one(db).await? else {
        return Ok(None);
    };
    if session.user_id != claims.sub || session.revoked_at.is_some() || session.expires_at <= now {
        return Ok(None);
    }
    let Some(user) = users::Entity::find_by_id(claims.sub).one(db).await? else {
        return Ok(None);
    };
    let roles = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .filter(memberships::Column::OrganizationId.eq(user.organization_id))
        .all(db)
        .await?
        .iter()
        .filter_map(|m| Role::parse(&m.role))
        .collect();
    Ok(Some(Principal {
        user_id: user.id,
        organization_id: user.organization_id,
        session_id: session.id,
        roles,
    }))
}
