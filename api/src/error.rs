//! The one error type. Every failure maps to a client code (DESIGN §5); the
//! internal cause is logged with the request id and never sent to the client.
//!
//! async-graphql's blanket `From<impl Display>` is switched off
//! (`custom-error-conversion`), so `?` only compiles on errors mapped here.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr};

/// The codes clients switch on (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    /// Unknown email or wrong password: one answer for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Refused; the message says what is missing ("not a member of this
    /// group").
    #[error("not allowed: {0}")]
    Forbidden(std::borrow::Cow<'static, str>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    BadInput {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again later")]
    RateLimited { retry_after_secs: u64 },
    /// The database (or another dependency) is briefly gone: retry.
    #[error("service temporarily unavailable; please retry")]
    Unavailable(#[source] Option<anyhow::Error>),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Bad input found by a pure rule, attributed to one input field; it
/// becomes `BAD_USER_INPUT` with `extensions.field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub field: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl From<InputError> for ApiError {
    fn from(err: InputError) -> Self {
        ApiError::bad_input(err.field, err.message)
    }
}

impl ApiError {
    /// Bad input attributed to one input field (`extensions.field`).
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// `FORBIDDEN`, saying what the caller lacks.
    pub fn forbidden(missing: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self::Forbidden(missing.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Logs what the client must not see; called once, when the error leaves
    /// the service layer for the client.
    pub fn log_cause(&self) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "internal error")
            }
            Self::Unavailable(Some(cause)) => {
                tracing::warn!(error = %format!("{cause:#}"), "dependency unavailable")
            }
            _ => {}
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.log_cause();
        let code = err.code();
        let mut gql = async_graphql::Error::new(err.to_string());
        gql = gql.extend_with(|_, ext| {
            ext.set("code", code.as_str());
            match &err {
                ApiError::BadInput {
                    field: Some(field), ..
                } => ext.set("field", field.as_str()),
                ApiError::RateLimited { retry_after_secs } => {
                    ext.set("retryAfterSeconds", *retry_after_secs)
                }
                ApiError::Unavailable(_) => ext.set("retryable", true),
                _ => {}
            }
        });
        gql
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            ApiError::Unavailable(Some(err.into()))
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if sqlx_unavailable(&err) {
            ApiError::Unavailable(Some(err.into()))
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::Internal(err.into())
    }
}

/// True when a database error means "the database is briefly out of reach"
/// (connection lost, pool exhausted, server shutting down, database locked)
/// rather than a bug or a constraint: the client should retry.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_code_unavailable(&code)
            } else {
                postgres_code_unavailable(&code)
            }
        }),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs: 08 connection exception, 57P0x operator
/// intervention (shutdown, terminated), 53 insufficient resources, 3D000
/// database missing.
fn postgres_code_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") || code == "3D000"
}

/// SQLite extended result codes whose primary code is 5 BUSY or 6 LOCKED
/// (e.g. 517 BUSY_SNAPSHOT: a write transaction lost a race with another
/// writer and must be retried).
fn sqlite_code_unavailable(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_locked_databases_are_retryable() {
        for (code, retry) in [
            ("5", true),
            ("6", true),
            ("517", true),
            ("261", true),
            ("262", true),
            ("2067", false),
            ("1555", false),
            ("19", false),
        ] {
            assert_eq!(sqlite_code_unavailable(code), retry, "SQLite {code}");
        }
        for (code, retry) in [
            ("08006", true),
            ("57P01", true),
            ("53300", true),
            ("3D000", true),
            ("23505", false),
            ("40001", false),
        ] {
            assert_eq!(postgres_code_unavailable(code), retry, "PostgreSQL {code}");
        }
    }
}
