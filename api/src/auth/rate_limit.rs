//! Sign-in defences that do not depend on the account: a per-client-address
//! budget shared by the auth mutations (generous: a clinic behind one NAT
//! signs in hundreds of times a minute). Each call of a mutation field takes
//! one unit, so aliases and batches cannot multiply attempts.
//!
//! Per-account backoff lives in `sessions` (stored, so every replica
//! agrees); this budget is per process.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

pub struct AuthRateLimiter {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl AuthRateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            per_address: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Takes one unit of the caller's budget, or `RATE_LIMITED`.
    pub fn check(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(address) = address else {
            return Ok(());
        };
        if self.per_address.len() > 50_000 {
            self.per_address.retain_recent();
        }
        self.per_address.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_budget() {
        let limiter = AuthRateLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some(a)).is_ok());
        }
        assert!(matches!(
            limiter.check(Some(a)),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(limiter.check(Some(b)).is_ok());
    }
}
