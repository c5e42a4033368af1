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
pub mod regimen_store;
pub mod schedule;

pub use catalog::CatalogQuery;
pub use doses::{DoseAdherenceDay, DoseLog, DosesMutation};
pub use graphql::{MedicationOrder, RegimenMutation, TaperPlan, TaperingMutation, TaperingQuery};

/// The `Patient` fields tapering resolves (called from `patients`).
pub mod patient_fields {
    pub use super::doses::{adherence_days, dose_logs};
    pub use super::graphql::medication_orders;
    pub use super::graphql::patient_fields::{all_plans, current_plan};
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct TaperingQueries(CatalogQuery, TaperingQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct TaperingMutations(TaperingMutation, RegimenMutation, DosesMutation);
