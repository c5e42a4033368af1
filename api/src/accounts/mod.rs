//! People and their organizations: users, roles, invitations, the `me`
//! query, and the checks on what people type when they sign up.

pub mod bootstrap;
pub mod graphql;
pub mod invitations;

pub use graphql::{AccountsMutation, AccountsQuery, User};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct AccountsQueries(AccountsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct AccountsMutations(AccountsMutation);
