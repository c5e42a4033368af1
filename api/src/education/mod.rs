//! Education: the organization's library of articles, videos, audio and
//! links (tagged, created by clinicians and admins), resources the care
//! team assigns to a patient, and the patient's progress through them.
//!
//! `content` holds the pure rules (what each kind needs, how tags are
//! written); `library` the database access; `graphql` the GraphQL surface.

pub mod content;
pub mod graphql;
pub mod library;
