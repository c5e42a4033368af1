//! The audit trail (HIPAA audit controls; 42 CFR Part 2 accounting of
//! disclosures): one append-only row per access to a patient's record,
//! allowed or denied, written in the same transaction as a write and before
//! a read's data is returned.
//!
//! - `writer`: the event builder, the per-operation buffer, the insert.
//! - `operation`: the schema extension that gives each operation its buffer
//!   and writes it before the response leaves.
//! - `graphql`: reading the trail (`auditEvents`, `myAccessLog`).

pub mod graphql;
pub mod operation;
pub mod writer;

pub use writer::{Action, AuditBuffer, AuditEvent, Kind, PATIENT, record, record_many};

pub use graphql::AuditQuery;

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct AuditQueries(AuditQuery);
