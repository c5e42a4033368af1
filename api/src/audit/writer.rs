//! Writes audit rows. Rows are only ever inserted.
//!
//! An event is built with named fields (`AuditEvent::new(actor, action)`
//! then `.resource(id)`, `.patient(id)`, `.denied()`), collected in the
//! request's `AuditBuffer`, and written in one statement: inside the
//! request's write transaction when it has one, else before the response
//! leaves (see `audit::flush`).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{auth::Principal, error::ApiResult};

/// What was done and to which kind of record: `taperPlan.activate` on a
/// `TaperPlan`. Each subdomain names its actions as constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// What was done, e.g. `patient.read`, `consent.grant`.
    pub name: &'static str,
    pub kind: Kind,
}

/// A kind of record: its audit name (`TaperPlan`) and the noun clients read
/// in a `NOT_FOUND` message ("taper plan not found").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub noun: &'static str,
}

impl Kind {
    pub const fn new(name: &'static str, noun: &'static str) -> Self {
        Self { name, noun }
    }

    /// An action on this kind of record.
    pub const fn action(self, name: &'static str) -> Action {
        Action { name, kind: self }
    }
}

/// The patient record itself: what `Caller::patient` audits.
pub const PATIENT: Kind = Kind::new("Patient", "patient");

/// One access to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The organization of the record concerned (or the actor's, for an
    /// attempt on another organization's record or on none).
    pub organization_id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    /// What was done, e.g. `patient.read`, `consent.grant`.
    pub action: &'static str,
    /// The kind of record, e.g. `Patient`, `Consent`.
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub allowed: bool,
}

impl AuditEvent {
    /// An allowed access by `actor` to a record of the kind `action` names,
    /// in the actor's organization; name the record with the builders.
    pub fn new(actor: &Principal, action: Action) -> Self {
        Self {
            organization_id: actor.organization_id,
            actor_user_id: Some(actor.user_id),
            patient_id: None,
            action: action.name,
            resource_type: action.kind.name,
            resource_id: None,
            allowed: true,
        }
    }

    /// The record accessed.
    pub fn resource(mut self, id: Uuid) -> Self {
        self.resource_id = Some(id);
        self
    }

    /// The record accessed, when there may be none.
    pub fn resource_opt(mut self, id: Option<Uuid>) -> Self {
        self.resource_id = id;
        self
    }

    /// A record of another kind than the action's (e.g. the `Patient`
    /// checked before a `TaperPlan` is read).
    pub fn kind(mut self, kind: Kind) -> Self {
        self.resource_type = kind.name;
        self
    }

    /// The patient whose record it is.
    pub fn patient(mut self, id: Uuid) -> Self {
        self.patient_id = Some(id);
        self
    }

    pub fn allowed(mut self, allowed: bool) -> Self {
        self.allowed = allowed;
        self
    }

    /// A refused attempt.
    pub fn denied(self) -> Self {
        self.allowed(false)
    }

    /// Done by no signed-in user (a sign-in attempt, a job).
    pub fn without_actor(mut self) -> Self {
        self.actor_user_id = None;
        self
    }

    /// The row this event is written as.
    pub fn row(&self, trace: Trace<'_>, at: DateTime<Utc>) -> entity::audit_events::ActiveModel {
        entity::audit_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.organization_id),
            actor_user_id: Set(self.actor_user_id),
            patient_id: Set(self.patient_id),
            action: Set(self.action.to_owned()),
            resource_type: Set(self.resource_type.to_owned()),
            resource_id: Set(self.resource_id),
            allowed: Set(self.allowed),
            request_id: Set(trace.request_id.chars().take(128).collect()),
            correlation_id: Set(trace.correlation_id.map(|c| c.chars().take(128).collect())),
            at: Set(at),
        }
    }
}

/// Writes one event now (outside a request: bootstrap, jobs).
pub async fn record(
    db: &impl ConnectionTrait,
    request_id: &str,
    event: AuditEvent,
) -> ApiResult<()> {
    record_many(db, request_id, [event]).await
}

/// Writes several events in one statement.
pub async fn record_many(
    db: &impl ConnectionTrait,
    request_id: &str,
    events: impl IntoIterator<Item = AuditEvent>,
) -> ApiResult<()> {
    record_traced(db, Trace::new(request_id, None), events).await
}

/// Which request an event happened in: the server's id, and the client's
/// own id when it sent a well-formed one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trace<'a> {
    pub request_id: &'a str,
    pub correlation_id: Option<&'a str>,
}

impl<'a> Trace<'a> {
    pub fn new(request_id: &'a str, correlation_id: Option<&'a str>) -> Self {
        Self {
            request_id,
            correlation_id,
        }
    }
}

/// Writes several events of one request in one statement.
pub async fn record_traced(
    db: &impl ConnectionTrait,
    trace: Trace<'_>,
    events: impl IntoIterator<Item = AuditEvent>,
) -> ApiResult<()> {
    let at = Utc::now();
    let rows: Vec<_> = events.into_iter().map(|e| e.row(trace, at)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    entity::audit_events::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The audit events of one GraphQL operation (a request, or one WebSocket
/// operation), written together. Cheap to clone: clones share the events.
#[derive(Debug, Clone, Default)]
pub struct AuditBuffer {
    events: Arc<Mutex<Vec<AuditEvent>>>,
}

impl AuditBuffer {
    pub fn push(&self, event: AuditEvent) {
        self.lock().push(event);
    }

    pub fn extend(&self, events: impl IntoIterator<Item = AuditEvent>) {
        self.lock().extend(events);
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The events not yet written (for tests and diagnostics).
    pub fn pending(&self) -> Vec<AuditEvent> {
        self.lock().clone()
    }

    /// Takes the pending events, to write them in a transaction; give them
    /// back with `restore` if it fails.
    pub fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut *self.lock())
    }

    /// Puts events that could not be written back in front of the queue,
    /// so a write that rolls back still leaves the attempt on the trail
    /// when the operation ends.
    pub fn restore(&self, events: Vec<AuditEvent>) {
        let mut pending = self.lock();
        let later = std::mem::take(&mut *pending);
        *pending = events;
        pending.extend(later);
    }

    /// Writes every pending event in one statement on `db`.
    pub async fn write(&self, db: &impl ConnectionTrait, trace: Trace<'_>) -> ApiResult<()> {
        let events = self.take();
        if events.is_empty() {
            return Ok(());
        }
        match record_traced(db, trace, events.iter().cloned()).await {
            Ok(()) => Ok(()),
            Err(err) => {
                self.restore(events);
                Err(err)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<AuditEvent>> {
        // A panic while holding the lock cannot leave the list half
        // written: push and take are single operations.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}
