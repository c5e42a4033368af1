//! Stepdown's schema, as an append-only list of self-contained migrations.
//!
//! Rules (DESIGN §2): portable across SQLite and PostgreSQL — enums stored as
//! strings, UUID v7 ids, timestamps in UTC; constraints in the database
//! (foreign keys, unique keys, CHECKs), not only in Rust. A landed migration
//! is never edited: add a new one. No `entity` structs here and no schema
//! names, so each test can run them in its own database.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_accounts;
mod m20261123_000002_patients_and_access;
mod m20261123_000003_tapering;
mod m20261123_000004_monitoring;
mod m20261123_000005_care_and_education;
mod m20261130_000006_groups;
mod m20261201_000007_audit_correlation;
mod m20261201_000008_auditor_role;
mod m20261201_000009_regimens_and_indication;
mod m20261201_000013_api_keys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_patients_and_access::Migration),
            Box::new(m20261123_000003_tapering::Migration),
            Box::new(m20261123_000004_monitoring::Migration),
            Box::new(m20261123_000005_care_and_education::Migration),
            Box::new(m20261130_000006_groups::Migration),
            Box::new(m20261201_000007_audit_correlation::Migration),
            Box::new(m20261201_000008_auditor_role::Migration),
            Box::new(m20261201_000009_regimens_and_indication::Migration),
            Box::new(m20261201_000013_api_keys::Migration),
        ]
    }
}
