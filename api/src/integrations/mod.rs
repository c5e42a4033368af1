//! Integrations: how other systems (EHRs, analytics, messaging) get in.
//!
//! - GraphQL surface: `api_keys` (`apiKeys`, `createApiKey`, `revokeApiKey`,
//!   `rollApiKey`; admins only).
//! - SQL: `api_key_store`.
//! - The key format, scopes and resolving a key to its principal live in
//!   `auth` (`auth::api_keys`, `auth::api_key_store`): every request passes
//!   there.

pub mod api_key_store;
pub mod api_keys;

pub use api_keys::{ApiKeysMutation, ApiKeysQuery};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct IntegrationsQueries(ApiKeysQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct IntegrationsMutations(ApiKeysMutation);
