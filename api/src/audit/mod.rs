//! The audit trail (HIPAA audit controls; 42 CFR Part 2 accounting of
//! disclosures): one append-only row per access to a patient's record,
//! allowed or denied, written in the same transaction as a write and before
//! a read's data is returned.

pub mod graphql;
pub mod writer;

pub use writer::{AuditEvent, record, record_many};
