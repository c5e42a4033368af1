//! Reading the trail from the database: an organization's events with
//! optional filters, and the allowed accesses to one patient's record by
//! others. Both newest first, paged by id.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use entity::audit_events;

use crate::{error::ApiResult, graphql::pagination::Page};

/// Narrows an organization's trail; `None` filters nothing.
#[derive(Debug, Clone, Default)]
pub struct TrailFilter {
    pub patient_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// One page of the organization's events, newest first.
pub async fn organization_events(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    filter: &TrailFilter,
    page: &Page,
) -> ApiResult<Vec<audit_events::Model>> {
    let mut query = audit_events::Entity::find()
        .filter(audit_events::Column::OrganizationId.eq(organization_id));
    if let Some(patient) = filter.patient_id {
        query = query.filter(audit_events::Column::PatientId.eq(patient));
    }
    if let Some(actor) = filter.actor_user_id {
        query = query.filter(audit_events::Column::ActorUserId.eq(actor));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::Column::At.lt(to));
    }
    newest_first(db, query, page).await
}

/// One page of the allowed accesses to `patient_id`'s record by anyone but
/// `viewer` (the patient themselves), newest first.
pub async fn access_log(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    viewer: Uuid,
    page: &Page,
) -> ApiResult<Vec<audit_events::Model>> {
    let query = audit_events::Entity::find()
        .filter(audit_events::Column::PatientId.eq(patient_id))
        .filter(audit_events::Column::Allowed.eq(true))
        .filter(audit_events::Column::ActorUserId.ne(viewer));
    newest_first(db, query, page).await
}

async fn newest_first(
    db: &impl ConnectionTrait,
    mut query: sea_orm::Select<audit_events::Entity>,
    page: &Page,
) -> ApiResult<Vec<audit_events::Model>> {
    if let Some(after) = page.after {
        query = query.filter(audit_events::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(audit_events::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}
