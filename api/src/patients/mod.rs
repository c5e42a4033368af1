//! Patients: the record at the centre of everything, its care team, and the
//! patient's consents to disclose parts of it.

pub mod consents;
pub mod graphql;
pub mod patient_store;

pub use consents::{ConsentsMutation, ConsentsQuery};
pub use graphql::{Patient, PatientsMutation, PatientsQuery};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct PatientsQueries(PatientsQuery, ConsentsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct PatientsMutations(PatientsMutation, ConsentsMutation);
