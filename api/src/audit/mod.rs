//! The audit trail (HIPAA audit controls; 42 CFR Part 2 accounting of
//! disclosures): one append-only row per access to a patient's record,
//! allowed or denied, written in the same transaction as a write and before
//! a read's data is returned.
//!
//! - `writer`: the event builder, the per-operation buffer, the insert.
//! - `operation`: the schema extension that gives each operation its buffer
//!   and writes it before the response leaves.
//! - `trail`: the GraphQL surface for reading the trail (`auditEvents`,
//!   `myAccessLog`) and the domain's root.
//! - `trail_store`: the trail's read queries.

pub mod operation;
pub mod trail;
pub mod trail_store;
pub mod writer;

pub use writer::{
    Action, AuditBuffer, AuditEvent, Kind, PATIENT, Trace, record, record_many, record_traced,
};

pub use trail::{AuditQueries, AuditQuery};
