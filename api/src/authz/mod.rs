//! The one authorization policy (DESIGN §6): who may read or write what of
//! a patient's record — the patient, their care team, their consent
//! holders, admins of their organization — decided here and nowhere else.
//!
//! Resolvers ask `policy` for one record (`authorize_patient`), or for the
//! SQL condition that limits a list to what the caller may see
//! (`visible_patients`). Every decision about a patient's record is audited.

pub mod consent;
pub mod groups;
pub mod policy;

pub use consent::ConsentCategory;
pub use policy::{
    Need, Relationship, authorize_patient, relationships, require_role, require_role_audited,
    visible_patients,
};
