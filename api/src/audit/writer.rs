//! Writes audit rows. Rows are only ever inserted.

use chrono::Utc;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{auth::Principal, error::ApiResult};

/// One access to record.
#[derive(Debug, Clone)]
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
    /// An access by `actor` to a record of their own organization.
    pub fn by(
        actor: &Principal,
        action: &'static str,
        resource_type: &'static str,
        resource_id: Option<Uuid>,
        patient_id: Option<Uuid>,
        allowed: bool,
    ) -> Self {
        Self {
            organization_id: actor.organization_id,
            actor_user_id: Some(actor.user_id),
            patient_id,
            action,
            resource_type,
            resource_id,
            allowed,
        }
    }

    fn row(&self, request_id: &str) -> entity::audit_events::ActiveModel {
        entity::audit_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(self.organization_id),
            actor_user_id: Set(self.actor_user_id),
            patient_id: Set(self.patient_id),
            action: Set(self.action.to_owned()),
            resource_type: Set(self.resource_type.to_owned()),
            resource_id: Set(self.resource_id),
            allowed: Set(self.allowed),
            request_id: Set(request_id.chars().take(128).collect()),
            at: Set(Utc::now()),
        }
    }
}

/// Writes one event (inside the caller's transaction when given one).
pub async fn record(
    db: &impl ConnectionTrait,
    request_id: &str,
    event: AuditEvent,
) -> ApiResult<()> {
    entity::audit_events::Entity::insert(event.row(request_id))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Writes several events in one statement (a list read).
pub async fn record_many(
    db: &impl ConnectionTrait,
    request_id: &str,
    events: impl IntoIterator<Item = AuditEvent>,
) -> ApiResult<()> {
    let rows: Vec<_> = events.into_iter().map(|e| e.row(request_id)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    entity::audit_events::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
