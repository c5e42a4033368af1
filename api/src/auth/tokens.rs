//! Access tokens (RFC 8725 / RFC 9068 style): HS256 only, explicitly typed
//! `at+jwt`, with `exp`, `iat`, `iss`, `aud`, `sub` and the session id all
//! required. Refresh tokens are opaque random strings (never JWTs), so one can
//! never pass for the other.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "stepdown";
pub const AUDIENCE: &str = "stepdown-api";
/// The JWT `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session the token was issued for; revoking it ends the token.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Why a presented token was refused. Clients only ever see
/// `UNAUTHENTICATED`; the variant is for logs.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed or unverifiable token")]
    Invalid,
    #[error("token expired")]
    Expired,
    #[error("token is not an access token")]
    WrongType,
}

#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenService {
    pub fn new(secret: &[u8]) -> Self {
        // One pinned algorithm; the token's own `alg` is never trusted.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        // `set_issuer`/`set_audience` alone do not make the claims required.
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs an access token for `user` in `session`; returns it and its expiry.
    pub fn issue_access(
        &self,
        user: Uuid,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires_at = now + ACCESS_TOKEN_TTL;
        let claims = AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user,
            sid: session,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let header = Header {
            typ: Some(ACCESS_TOKEN_TYPE.to_owned()),
            ..Header::new(Algorithm::HS256)
        };
        let token = encode(&header, &claims, &self.encoding)?;
        Ok((token, expires_at))
    }

    /// Verifies signature, algorithm, type and claims.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let data = decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(
            |err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )?;
        if data.header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        Ok(data.claims)
    }
}

/// A random opaque secret (256 bits, base64url) with a readable prefix, for
/// refresh tokens and invitation codes.
pub fn random_secret(prefix: &str) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// How opaque secrets are stored: SHA-256, hex. (They carry 256 bits of
/// entropy, so a fast hash is enough; no password hashing needed.)
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn secrets_are_long_random_and_stored_hashed() {
        let (a, b) = (random_secret("rt_"), random_secret("rt_"));
        assert_ne!(a, b);
        assert!(a.starts_with("rt_") && a.len() == 3 + 43);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims_json(now: i64) -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::now_v7(), "sid": Uuid::now_v7(),
            "iat": now, "exp": now + 600,
        })
    }

    fn sign(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
        let header = jsonwebtoken::Header {
            typ: header["typ"].as_str().map(str::to_owned),
            ..Header::new(Algorithm::HS256)
        };
        encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn a_fresh_token_verifies() {
        let service = TokenService::new(SECRET);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, expires_at) = service.issue_access(user, session, Utc::now()).unwrap();
        let claims = service.verify_access(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
        assert_eq!(claims.exp, expires_at.timestamp());
    }

    #[test]
    fn negatives_are_refused() {
        let service = TokenService::new(SECRET);
        let now = Utc::now().timestamp();
        let typ = serde_json::json!({ "typ": ACCESS_TOKEN_TYPE });

        // Expired (beyond leeway).
        let mut expired = claims_json(now - 3600);
        expired["exp"] = (now - 60).into();
        assert_eq!(
            service.verify_access(&sign(typ.clone(), expired, SECRET)),
            Err(TokenError::Expired)
        );
        // Wrong signature.
        let other = sign(
            typ.clone(),
            claims_json(now),
            b"another-secret-another-secret-xx",
        );
        assert_eq!(service.verify_access(&other), Err(TokenError::Invalid));
        // Wrong audience and issuer.
        let mut wrong_aud = claims_json(now);
        wrong_aud["aud"] = "someone-else".into();
        assert!(
            service
                .verify_access(&sign(typ.clone(), wrong_aud, SECRET))
                .is_err()
        );
        let mut wrong_iss = claims_json(now);
        wrong_iss["iss"] = "evil".into();
        assert!(
            service
                .verify_access(&sign(typ.clone(), wrong_iss, SECRET))
                .is_err()
        );
        // Each required claim missing.
        for claim in ["exp", "iat", "iss", "aud", "sub", "sid"] {
            let mut missing = claims_json(now);
            missing.as_object_mut().unwrap().remove(claim);
            assert!(
                service
                    .verify_access(&sign(typ.clone(), missing, SECRET))
                    .is_err(),
                "{claim}"
            );
        }
        // Wrong or missing `typ`.
        let jwt = sign(
            serde_json::json!({ "typ": "JWT" }),
            claims_json(now),
            SECRET,
        );
        assert_eq!(service.verify_access(&jwt), Err(TokenError::WrongType));
        // `alg: none`, unsigned.
        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"at+jwt"}"#),
            b64(claims_json(now).to_string().as_bytes())
        );
        assert_eq!(service.verify_access(&none), Err(TokenError::Invalid));
        // Algorithm swap: HS512 with the same secret is still refused.
        let hs512 = encode(
            &Header {
                typ: Some(ACCESS_TOKEN_TYPE.into()),
                ..Header::new(Algorithm::HS512)
            },
            &claims_json(now),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(service.verify_access(&hs512), Err(TokenError::Invalid));
        // Garbage, and an opaque refresh-style token.
        assert!(service.verify_access("not.a.jwt").is_err());
        assert!(service.verify_access(&b64(&[7u8; 32])).is_err());
    }
}
