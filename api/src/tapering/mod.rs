//! Tapering: the medication catalog with CDC 2022 MME factors, a patient's
//! regimen, guideline-based taper plans and their lifecycle, dose logging
//! and adherence.
//!
//! - GraphQL surface: `plans` (taper plans, their lifecycle mutations, the
//!   `taperPlan` query and the `Patient` plan fields), `regimen`
//!   (medication orders, naloxone offers), `doses` (`logDose`, the
//!   `Patient` dose-log and adherence fields), `catalog` (`medications`).
//! - SQL: `plan_store`, `regimen_store` (also read by monitoring's alert
//!   rules), `dose_store`, `catalog_store`.
//! - Pure rules (no database, no async): `schedule` (the plan generator,
//!   the presets), `plan_model` (the request, steps and warnings),
//!   `dispensable` (the doses a medication's strengths make), `guideline`
//!   (the warnings on a plan), `mme`, `lifecycle` (transitions, the plan's
//!   calendar) and `adherence`.

pub mod adherence;
pub mod catalog;
pub mod catalog_store;
pub mod dispensable;
pub mod dose_store;
pub mod doses;
pub mod guideline;
pub mod lifecycle;
pub mod mme;
pub mod plan_model;
pub mod plan_store;
pub mod plans;
pub mod regimen;
pub mod regimen_store;
pub mod schedule;

pub use catalog::CatalogQuery;
pub use doses::{DoseAdherenceDay, DoseLog, DosesMutation};
pub use plans::{TaperPlan, TaperingMutation, TaperingQuery};
pub use regimen::{MedicationOrder, RegimenMutation};

/// The `Patient` fields tapering resolves (called from `patients`).
pub mod patient_fields {
    pub use crate::tapering::doses::{adherence_days, dose_logs};
    pub use crate::tapering::plans::{all_plans, current_plan};
    pub use crate::tapering::regimen_store::medication_orders;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct TaperingQueries(CatalogQuery, TaperingQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct TaperingMutations(TaperingMutation, RegimenMutation, DosesMutation);
