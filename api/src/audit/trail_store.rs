//! Reading the trail from the database: an organization's events with
//! optional filters, and the allowed accesses to one patient's record by
//! others. Both newest first, paged by id.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use entity::{audit_events, patients};

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

/// The kinds of record that are support-group activity (`groups/*`): a
/// patient's part in a group is theirs to disclose, not the organization's.
pub const GROUP_ACTIVITY: [&str; 5] = [
    "SupportGroup",
    "GroupPost",
    "GroupMembership",
    "Meeting",
    "Goal",
];

/// Who reads the trail: admins get patients' group activity redacted,
/// auditors (privacy officers) the whole of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Admin,
    Auditor,
}

/// Rows about support-group activity by one of the organization's patients.
fn patients_group_activity(organization_id: Uuid) -> Condition {
    Condition::all()
        .add(audit_events::Column::ResourceType.is_in(GROUP_ACTIVITY))
        .add(
            audit_events::Column::ActorUserId.in_subquery(
                Query::select()
                    .column(patients::Column::UserId)
                    .from(patients::Entity)
                    .and_where(patients::Column::OrganizationId.eq(organization_id))
                    .to_owned(),
            ),
        )
}

/// One page of the organization's events, newest first. For an admin,
/// patients' group activity comes with no actor, patient or record, and a
/// filter on an actor or a patient never finds it.
pub async fn organization_events(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    reader: Reader,
    filter: &TrailFilter,
    page: &Page,
) -> ApiResult<Vec<audit_events::Model>> {
    let mut query = audit_events::Entity::find()
        .filter(audit_events::Column::OrganizationId.eq(organization_id));
    if reader == Reader::Admin {
        let redacted = patients_group_activity(organization_id);
        let blank = |column: audit_events::Column| {
            Expr::case(redacted.clone(), Expr::cust("NULL")).finally(Expr::col(column))
        };
        query = query
            .select_only()
            .columns([
                audit_events::Column::Id,
                audit_events::Column::OrganizationId,
                audit_events::Column::Action,
                audit_events::Column::ResourceType,
                audit_events::Column::Allowed,
                audit_events::Column::RequestId,
                audit_events::Column::CorrelationId,
                audit_events::Column::At,
            ])
            .expr_as(blank(audit_events::Column::ActorUserId), "actor_user_id")
            .expr_as(blank(audit_events::Column::PatientId), "patient_id")
            .expr_as(blank(audit_events::Column::ResourceId), "resource_id");
        if filter.patient_id.is_some() || filter.actor_user_id.is_some() {
            query = query.filter(redacted.not());
        }
    }
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
