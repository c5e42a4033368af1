//! People and their organizations: users, roles, the `me` query.

pub mod graphql;
