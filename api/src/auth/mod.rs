//! Who is calling: access tokens, the per-request credentials they carry, and
//! the `Principal` (user, organization, roles, session) resolved from them.
//!
//! - `sign_in`: the GraphQL surface (`login`, `refreshSession`, `logout`,
//!   `changePassword`) and the `AuthPayload` a sign-in returns.
//! - `sessions`: the session store (sessions, rotating refresh tokens,
//!   login throttles).
//! - `credential_store`: reading credentials and changing a password.
//! - `principal`: `Role`, `Principal`, and the per-request `RequestContext`.
//! - `api_keys` (pure: the key format, scopes, the per-key budget) and
//!   `api_key_store` (a key's principal): API keys of other systems.
//! - `tokens`, `passwords`, `rate_limit`: access tokens, hashing and the
//!   password policy, the per-address sign-in budget.

pub mod api_key_store;
pub mod api_keys;
pub mod credential_store;
pub mod passwords;
pub mod principal;
pub mod rate_limit;
pub mod sessions;
pub mod sign_in;
pub mod tokens;

pub use principal::{Principal, RequestContext, Role};
pub use tokens::{AccessClaims, TokenError, TokenService};

pub use sign_in::{AuthMutation, AuthMutations, AuthPayload};
