//! People and their organizations: users, roles, invitations, the `me`
//! query, and the checks on what people type when they sign up.

pub mod bootstrap;
pub mod graphql;
pub mod invitations;
pub mod validation;
