//! Passwords: the policy (NIST SP 800-63B: 10–128 characters, no composition
//! rules, not a commonly used password) and argon2id hashing with the OWASP
//! parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashing is deliberately slow, so it runs on the blocking pool behind a
//! semaphore with one permit fewer than the machine has cores (at least
//! one): a flood of sign-ins queues up instead of starving every other
//! request of CPU.

use std::sync::{Arc, LazyLock};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// Common passwords of 10+ characters (lower-cased), from the list Django
/// ships (BSD-3-Clause; originally Royce Williams' 20k common passwords).
static COMMON: LazyLock<std::collections::HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// Why a new password is refused, for the `BAD_USER_INPUT` message.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err("password must be at least 10 characters");
    }
    if length > MAX_LENGTH {
        return Err("password must be at most 128 characters");
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err("this password is too common; choose another");
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Runs argon2 off the async runtime, a bounded number at a time.
#[derive(Clone)]
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verified against when the email is
    /// unknown, so both answers take the same time.
    dummy_hash: Arc<String>,
}

impl Default for PasswordHasherPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let permits = cores.saturating_sub(1).max(1);
        let dummy = uuid::Uuid::new_v4().to_string();
        let dummy_hash = argon2()
            .hash_password(dummy.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default();
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: Arc::new(dummy_hash),
        }
    }
}

impl PasswordHasherPool {
    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &str) -> ApiResult<String> {
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("hasher closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            argon2()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2: {e}")))
        })
        .await?
    }

    /// Checks `password` against `hash`; with no hash (unknown account),
    /// checks against the dummy so the time taken gives nothing away.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> ApiResult<bool> {
        let known = hash.is_some();
        let hash = hash.map_or_else(|| self.dummy_hash.as_ref().clone(), str::to_owned);
        let password = password.to_owned();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("hasher closed: {e}")))?;
        let matches = tokio::task::spawn_blocking(move || {
            argon2()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_length_and_commonness_only() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"x".repeat(129)).is_err());
        assert!(check_policy("1234567890").is_err(), "a common password");
        assert!(check_policy("PASSWORD123").is_err(), "case-insensitive");
        // No composition rules: a long lower-case phrase is fine.
        assert!(check_policy("correct horse battery staple").is_ok());
        assert!(
            check_policy(&"é".repeat(10)).is_ok(),
            "counted in characters"
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let pool = PasswordHasherPool::default();
        let hash = pool.hash("a long enough secret").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            pool.verify("a long enough secret", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!pool.verify("a wrong secret!!", Some(&hash)).await.unwrap());
        assert!(!pool.verify("a long enough secret", None).await.unwrap());
    }
}
