//! The one authorization policy (DESIGN §6): who may read or write what of
//! a patient's record — the patient, their care team, their consent
//! holders, admins of their organization — decided here and nowhere else.
//!
//! Work functions ask through the `Caller` (`caller.patient(...)`,
//! `caller.group(...)`), which records each decision in the audit trail;
//! lists take the SQL condition that limits them to what the caller may see
//! (`visible_patients`, `groups::visible_groups`).

pub mod consent;
pub mod groups;
pub mod policy;

pub use consent::ConsentCategory;
pub use policy::{Need, Relationship, relationships, require_role, visible_patients};
