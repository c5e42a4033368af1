//! Patients: the record at the centre of everything, its care team, and the
//! patient's consents to disclose parts of it.

pub mod consents;
pub mod graphql;
