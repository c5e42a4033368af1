//! People and their organizations: users, roles, invitations, the `me`
//! query, and the accounts made from the command line.
//!
//! - `users`: the `User` and `Organization` objects, `me`, and the query
//!   root.
//! - `invitations`: creating and accepting invitations, and the mutation
//!   root; `invitation_rules` says who may invite whom and for how long.
//! - `user_store`, `invitation_store`: their SQL.
//! - `visibility`: who sees a person's email, timezone and roles.
//! - `bootstrap`: an organization's first admin (`stepdown bootstrap`).

pub mod bootstrap;
pub mod invitation_rules;
pub mod invitation_store;
pub mod invitations;
pub mod user_store;
pub mod users;
pub mod visibility;

pub use invitations::{AccountsMutations, InvitationsMutation};
pub use users::{AccountsQueries, AccountsQuery, User};
