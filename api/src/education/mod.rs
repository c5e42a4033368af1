//! Education: the organization's library of articles, videos, audio and
//! links (tagged, created by clinicians and admins), resources the care
//! team assigns to a patient, and the patient's progress through them.
//!
//! - `library` / `resource_store`: the library's GraphQL surface and its
//!   resources and tags in the database;
//! - `assignments` / `assignment_store`: assigning and completing resources,
//!   and `Patient.assignedResources`;
//! - `content`: the pure rules (what each kind of resource needs, how tags
//!   are written).

pub mod assignment_store;
pub mod assignments;
pub mod content;
pub mod library;
pub mod resource_store;

pub use assignments::{AssignmentsMutation, ResourceAssignment};
pub use library::{LibraryMutation, LibraryQuery};

/// The `Patient` fields education resolves (called from `patients`).
pub mod patient_fields {
    pub use super::assignments::assigned_resources;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct EducationQueries(LibraryQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct EducationMutations(LibraryMutation, AssignmentsMutation);
