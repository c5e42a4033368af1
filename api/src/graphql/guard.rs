//! The time limit and panic guard around one execution, for HTTP requests
//! and for queries and mutations over a WebSocket alike: a panic is an
//! `INTERNAL` error whose text is logged, never sent; running out of time is
//! `UNAVAILABLE` (retryable).

use std::{panic::AssertUnwindSafe, time::Duration};

use async_graphql::{Response, ServerError};
use futures_util::FutureExt;

use crate::error::ErrorCode;

/// Why an execution produced no response of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Panicked,
    TimedOut,
}

impl Failure {
    /// The error the client gets instead.
    pub fn into_server_error(self, timeout: Duration) -> ServerError {
        let (message, code) = match self {
            Failure::Panicked => ("internal error".to_owned(), ErrorCode::Internal),
            Failure::TimedOut => (
                format!(
                    "the request took longer than {} s and was stopped",
                    timeout.as_secs()
                ),
                ErrorCode::Unavailable,
            ),
        };
        let mut error = ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
        error
    }
}

/// Runs `execution` under `timeout`, catching a panic.
pub async fn guarded(
    execution: impl Future<Output = Response>,
    timeout: Duration,
) -> Result<Response, Failure> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(execution).catch_unwind()).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %message, "resolver panicked");
            Err(Failure::Panicked)
        }
        Err(_) => {
            tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
            Err(Failure::TimedOut)
        }
    }
}
