//! Reading the trail: `auditEvents` for admins (their organization), and
//! `myAccessLog` for patients — who accessed their record and when, the
//! accounting of disclosures patients are entitled to.

use async_graphql::{Context, Object, connection::Connection};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use entity::{audit_events, patients};

use crate::{
    auth::Role,
    authz,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::pagination,
};

pub struct AuditEvent(pub audit_events::Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn actor_user_id(&self) -> Option<Uuid> {
        self.0.actor_user_id
    }
    /// What was done, e.g. `patient.read`, `consent.grant`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn patient_id(&self) -> Option<Uuid> {
        self.0.patient_id
    }
    async fn resource_type(&self) -> &str {
        &self.0.resource_type
    }
    async fn resource_id(&self) -> Option<Uuid> {
        self.0.resource_id
    }
    /// False for a refused attempt.
    async fn allowed(&self) -> bool {
        self.0.allowed
    }
    /// The request it happened in (matches the server's logs).
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The organization's audit trail, newest first (admins).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        patient_id: Option<Uuid>,
        actor_user_id: Option<Uuid>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, AuditEvent>> {
        let principal = ctx.principal().await?;
        authz::require_role(principal, &[Role::Admin])?;
        let mut query = audit_events::Entity::find()
            .filter(audit_events::Column::OrganizationId.eq(principal.organization_id));
        if let Some(patient) = patient_id {
            query = query.filter(audit_events::Column::PatientId.eq(patient));
        }
        if let Some(actor) = actor_user_id {
            query = query.filter(audit_events::Column::ActorUserId.eq(actor));
        }
        if let Some(from) = from {
            query = query.filter(audit_events::Column::At.gte(from));
        }
        if let Some(to) = to {
            query = query.filter(audit_events::Column::At.lt(to));
        }
        Ok(page_events(ctx, query, first, after).await?)
    }

    /// Who accessed the caller's patient record, newest first (patients).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn my_access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEvent>> {
        let principal = ctx.principal().await?;
        let patient = patients::Entity::find()
            .filter(patients::Column::UserId.eq(principal.user_id))
            .one(ctx.db()?)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::Forbidden)?;
        let query = audit_events::Entity::find()
            .filter(audit_events::Column::PatientId.eq(patient.id))
            .filter(audit_events::Column::Allowed.eq(true))
            .filter(audit_events::Column::ActorUserId.ne(principal.user_id));
        Ok(page_events(ctx, query, first, after).await?)
    }
}

async fn page_events(
    ctx: &Context<'_>,
    mut query: sea_orm::Select<audit_events::Entity>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, AuditEvent>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    if let Some(after) = page.after {
        query = query.filter(audit_events::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(audit_events::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    Ok(pagination::connection(
        rows.into_iter().map(|e| (e.id, AuditEvent(e))).collect(),
        page,
    ))
}
