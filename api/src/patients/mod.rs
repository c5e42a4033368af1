//! Patients: the record at the centre of everything, its care team, and the
//! patient's consents to disclose parts of it.
//!
//! - `patient`: the `Patient` object; each part of the record is gated by
//!   the caller's relationship and resolved by the domain that owns it.
//! - `records`: the `patient` and `patients` queries, and the domain's roots.
//! - `care_team`: assigning clinicians to a patient's care team (admins).
//! - `consents`: granting, revoking and listing consents.
//! - `patient_store`, `care_team_store`, `consent_store`: their SQL.

pub mod care_team;
pub mod care_team_store;
pub mod consent_store;
pub mod consents;
pub mod patient;
pub mod patient_store;
pub mod records;

pub use care_team::CareTeamMutation;
pub use consents::{ConsentsMutation, ConsentsQuery};
pub use patient::Patient;
pub use records::{PatientsMutations, PatientsQueries, PatientsQuery};
