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
