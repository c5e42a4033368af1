//! Care beyond the taper: treatment programs and patients' enrollments
//! (INTAKE → ACTIVE → AFTERCARE → DISCHARGED), appointments with clinicians
//! (therapy, counselling, medical visits, multimodal pain care), clinical
//! notes, and the recovery plan the patient owns.
//!
//! Pure rules (no database, no async) live in `phases` (the enrollment
//! machine, a program's calendar), `booking` (slots, overlaps, venues,
//! appointment statuses) and `validation`; `programs`, `appointments`,
//! `notes` and `care_plans` hold the database access; `graphql` the
//! GraphQL surface.

pub mod appointments;
pub mod booking;
pub mod care_plans;
pub mod graphql;
pub mod notes;
pub mod phases;
pub mod programs;
pub mod validation;

pub use graphql::{
    Appointment, CareMutation, CarePlan, CarePlanRevision, CareQuery, ClinicalNote, Enrollment,
};

/// The `Patient` fields care resolves (called from `patients`).
pub mod patient_fields {
    pub use super::graphql::patient_fields::{
        appointments, care_plan, care_plan_history, clinical_notes, enrollments,
    };
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct CareQueries(CareQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct CareMutations(CareMutation);
