//! SeaORM entities: one file per table, no logic. The schema itself is owned
//! by the `migration` crate; these structs only read and write its rows.

pub mod memberships;
pub mod organizations;
pub mod sessions;
pub mod users;
