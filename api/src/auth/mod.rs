//! Who is calling: access tokens, the per-request credentials they carry, and
//! the `Principal` (user, organization, roles, session) resolved from them.

pub mod graphql;
pub mod passwords;
pub mod principal;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;

pub use principal::{Principal, RequestContext, Role};
pub use tokens::{AccessClaims, TokenError, TokenService};

pub use graphql::AuthMutation;

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct AuthMutations(AuthMutation);
