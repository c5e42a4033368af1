//! API key secrets and scopes (pure): the format other systems send as a
//! bearer token, how it is checked before any query, and what each scope
//! lets a key's service account receive.
//!
//! A secret reads `sdk_live_` + 30 random base62 characters (the key's
//! identifying part, ~178 bits) + a 6-character checksum of them, in the
//! style of GitHub's tokens: a typo or a truncated paste is refused without
//! a database lookup, and secret scanners can recognise leaked keys. Only
//! its SHA-256 is stored.

use std::{num::NonZeroU32, sync::OnceLock};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{authz::ConsentCategory, error::ApiError};

/// What every key starts with.
pub const PREFIX: &str = "sdk_live_";
const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
/// How much of a key is shown to recognise it (prefix + 6 characters).
const SHOWN_LEN: usize = PREFIX.len() + 6;
/// Requests per minute per key (per process, like the sign-in budget).
pub const REQUESTS_PER_MINUTE: u32 = 600;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

crate::stored::stored_enum!(
    /// What a key may do.
    ApiKeyScope {
        /// GraphQL reads of consenting patients: identity, plans, orders,
        /// appointments and the care plan, as consented.
        PatientsRead => "PATIENTS_READ",
        /// GraphQL reads of check-ins and withdrawal assessments, as consented.
        ObservationsRead => "OBSERVATIONS_READ",
        /// The FHIR R4 export, limited to the consented categories.
        FhirRead => "FHIR_READ",
        /// The organization's webhook endpoints.
        WebhooksManage => "WEBHOOKS_MANAGE",
    }
);

impl ApiKeyScope {
    /// The consent categories this scope lets the key receive over GraphQL.
    /// (Group activity is never disclosed to a system.)
    pub fn categories(self) -> &'static [ConsentCategory] {
        match self {
            ApiKeyScope::PatientsRead => &[
                ConsentCategory::Taper,
                ConsentCategory::Appointments,
                ConsentCategory::CarePlan,
            ],
            ApiKeyScope::ObservationsRead => {
                &[ConsentCategory::CheckIns, ConsentCategory::Symptoms]
            }
            ApiKeyScope::FhirRead | ApiKeyScope::WebhooksManage => &[],
        }
    }

    pub fn encode(scopes: &[ApiKeyScope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn decode(stored: &str) -> Vec<ApiKeyScope> {
        stored.split(',').filter_map(ApiKeyScope::parse).collect()
    }
}

fn checksum(random: &str) -> String {
    let digest = Sha256::digest(random.as_bytes());
    let mut n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new secret and the part of it shown to recognise it.
pub fn generate() -> (String, String) {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RANDOM_LEN)
        .map(char::from)
        .collect();
    let secret = format!("{PREFIX}{random}{}", checksum(&random));
    let shown = secret[..SHOWN_LEN].to_owned();
    (secret, shown)
}

/// True when `token` looks like a key (its prefix), whether or not valid.
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// A key whose checksum matches (checked before any lookup).
pub fn well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(PREFIX) else {
        return false;
    };
    if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = rest.split_at(RANDOM_LEN);
    checksum(random) == check
}

/// Takes one unit of the key's budget, or `RATE_LIMITED`.
pub fn check_rate(key: Uuid) -> Result<(), ApiError> {
    static LIMITER: OnceLock<DefaultKeyedRateLimiter<Uuid>> = OnceLock::new();
    let limiter = LIMITER.get_or_init(|| {
        RateLimiter::keyed(Quota::per_minute(
            NonZeroU32::new(REQUESTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
        ))
    });
    if limiter.len() > 50_000 {
        limiter.retain_recent();
    }
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        ApiError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_typos_are_not() {
        let (secret, shown) = generate();
        assert!(secret.starts_with("sdk_live_"));
        assert_eq!(secret.len(), 9 + 30 + 6);
        assert!(secret.starts_with(&shown));
        assert!(well_formed(&secret));
        // One character changed, one dropped, a foreign prefix.
        let mut typo = secret.clone().into_bytes();
        typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
        assert!(!well_formed(&String::from_utf8(typo).unwrap()));
        assert!(!well_formed(&secret[..secret.len() - 1]));
        assert!(!well_formed(&secret.replace("sdk_live_", "sdk_test_")));
        assert_ne!(generate().0, secret);
    }

    #[test]
    fn scopes_round_trip_and_name_what_they_disclose() {
        let scopes = [ApiKeyScope::PatientsRead, ApiKeyScope::WebhooksManage];
        assert_eq!(ApiKeyScope::decode(&ApiKeyScope::encode(&scopes)), scopes);
        assert!(ApiKeyScope::WebhooksManage.categories().is_empty());
        assert!(
            !ApiKeyScope::PatientsRead
                .categories()
                .contains(&ConsentCategory::CheckIns)
        );
        for scope in [ApiKeyScope::PatientsRead, ApiKeyScope::ObservationsRead] {
            assert!(!scope.categories().contains(&ConsentCategory::GroupActivity));
        }
    }
}
