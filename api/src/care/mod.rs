//! Care beyond the taper: treatment programs and patients' enrollments
//! (INTAKE → ACTIVE → AFTERCARE → DISCHARGED), appointments with clinicians
//! (therapy, counselling, medical visits, multimodal pain care), clinical
//! notes, and the recovery plan the patient owns.
//!
//! Each subdomain has its GraphQL surface and its store:
//! - `programs` / `program_store`: the organization's programs;
//! - `enrollments` / `enrollment_store`: enrollments and their phase
//!   history;
//! - `appointments` / `appointment_store`: booking, rescheduling and closing
//!   sessions, a clinician's agenda;
//! - `notes` / `note_store`: append-only clinical notes;
//! - `care_plan` / `care_plan_store`: the recovery plan and its revisions.
//!
//! Pure rules (no database, no async): `phases` (program modalities and
//! durations, the enrollment machine), `booking` (appointment kinds,
//! venues, statuses; slots come from `crate::calendar`) and `validation`
//! (care's limits and input checks).
//!
//! Who may do what (decided by `authz`, asked through the `Caller`): admins
//! create programs; the care team or an admin enrolls and moves
//! enrollments; care-team clinicians book appointments and write notes; the
//! patient or the care team edit the recovery plan. `APPOINTMENTS` consent
//! holders read appointments, `CARE_PLAN` holders the plan; notes are the
//! care team's alone.

pub mod appointment_store;
pub mod appointments;
pub mod booking;
pub mod care_plan;
pub mod care_plan_store;
pub mod enrollment_store;
pub mod enrollments;
pub mod note_store;
pub mod notes;
pub mod phases;
pub mod program_store;
pub mod programs;
pub mod validation;

pub use appointments::{Appointment, AppointmentsMutation, AppointmentsQuery};
pub use care_plan::{CarePlan, CarePlanMutation, CarePlanRevision};
pub use enrollments::{Enrollment, EnrollmentsMutation};
pub use notes::{ClinicalNote, NotesMutation};
pub use programs::{ProgramsMutation, ProgramsQuery};

/// The `Patient` fields care resolves (called from `patients` once it has
/// checked, and audited, that the viewer may read them). Each lives with
/// its subdomain's surface.
pub mod patient_fields {
    pub use super::appointments::of_patient as appointments;
    pub use super::care_plan::history_of_patient as care_plan_history;
    pub use super::care_plan::of_patient as care_plan;
    pub use super::enrollments::of_patient as enrollments;
    pub use super::notes::of_patient as clinical_notes;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct CareQueries(ProgramsQuery, AppointmentsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct CareMutations(
    ProgramsMutation,
    EnrollmentsMutation,
    AppointmentsMutation,
    NotesMutation,
    CarePlanMutation,
);
