//! Education: the organization's library of articles, videos, audio and
//! links (tagged, created by clinicians and admins), resources the care
//! team assigns to a patient, and the patient's progress through them.
//!
//! `content` holds the pure rules (what each kind needs, how tags are
//! written); `library` the database access; `graphql` the GraphQL surface.

pub mod content;
pub mod graphql;
pub mod library;

pub use graphql::{EducationMutation, EducationQuery, ResourceAssignment};

/// The `Patient` fields education resolves (called from `patients`).
pub mod patient_fields {
    pub use super::graphql::assigned_resources;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct EducationQueries(EducationQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct EducationMutations(EducationMutation);
