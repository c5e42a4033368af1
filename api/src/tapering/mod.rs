//! Tapering: the medication catalog with CDC 2022 MME factors, a patient's
//! regimen, guideline-based taper plans and their lifecycle, dose logging
//! and adherence.
//!
//! Pure rules (no database, no async) live in `schedule` (the plan
//! generator and guideline warnings), `lifecycle` (transitions, calendar)
//! and `adherence`; `plans` and `doses` hold the database access;
//! `graphql`, `catalog` and `doses` the GraphQL surface.

pub mod adherence;
pub mod catalog;
pub mod doses;
pub mod graphql;
pub mod lifecycle;
pub mod plans;
pub mod schedule;
