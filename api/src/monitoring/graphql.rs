//! GraphQL surface of monitoring: check-ins, withdrawal assessments,
//! alerts, notifications (with their live subscriptions), and the
//! clinician's overview.

use async_graphql::{
    Context, InputObject, Object, SimpleObject, Subscription, connection::Connection,
    futures_util::Stream,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use entity::{alerts as alert_rows, care_team_members, notifications};

use super::{
    alerts::{ACKNOWLEDGED, OPEN, RESOLVED},
    assessments::{self, SubmitWithdrawalAssessmentInput, SubmitWithdrawalAssessmentPayload},
    check_ins::{self, SubmitCheckInInput, SubmitCheckInPayload},
    overview::{self, CareTeamOverviewSort},
    rules::Evidence,
};
use crate::{
    auth::Role,
    authz::{self, Need, Relationship},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::pagination,
    notifications::LiveEvent,
    patients::Patient,
    validation,
};

/// What an alert points to.
#[derive(SimpleObject)]
pub struct AlertEvidence {
    /// `CheckIn`, `WithdrawalAssessment`, `DoseLog` or `Patient`.
    pub resource: String,
    pub id: Uuid,
    pub reading: String,
}

/// An alert to the care team. It suggests an action; it never changes a dose.
pub struct Alert(pub alert_rows::Model);

#[Object]
impl Alert {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// WITHDRAWAL_MODERATE_OR_WORSE, WORSENING_TREND, PAIN_FUNCTION_WORSE,
    /// DOSE_ABOVE_SCHEDULE, NALOXONE_OFFER_DUE or HIGH_CRAVING.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Patient> {
        let model = ctx
            .loaders()?
            .patients
            .load_one(self.0.patient_id)
            .await?
            .ok_or(ApiError::NotFound("patient"))?;
        // Alerts are only shown to the patient's care team.
        Ok(Patient {
            model,
            relationship: Relationship {
                care_team: true,
                ..Relationship::default()
            },
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// OPEN, ACKNOWLEDGED or RESOLVED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    async fn suggested_action(&self) -> &str {
        &self.0.suggested_action
    }
    /// The readings that raised it.
    async fn evidence(&self) -> Vec<AlertEvidence> {
        serde_json::from_str::<Vec<Evidence>>(&self.0.evidence)
            .unwrap_or_default()
            .into_iter()
            .map(|e| AlertEvidence {
                resource: e.resource,
                id: e.id,
                reading: e.reading,
            })
            .collect()
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at
    }
    async fn acknowledged_by_user_id(&self) -> Option<Uuid> {
        self.0.acknowledged_by_user_id
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution_note.as_deref()
    }
}

pub struct Notification(pub notifications::Model);

#[Object]
impl Notification {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn alert_id(&self) -> Option<Uuid> {
        self.0.alert_id
    }
    async fn patient_id(&self) -> Option<Uuid> {
        self.0.patient_id
    }
}

#[derive(InputObject)]
pub struct AcknowledgeAlertInput {
    pub alert_id: Uuid,
}

#[derive(SimpleObject)]
pub struct AcknowledgeAlertPayload {
    pub alert: Alert,
}

#[derive(InputObject)]
pub struct ResolveAlertInput {
    pub alert_id: Uuid,
    /// What was done about it.
    pub note: String,
}

#[derive(SimpleObject)]
pub struct ResolveAlertPayload {
    pub alert: Alert,
}

#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications; all of the caller's when not given.
    pub notification_ids: Option<Vec<Uuid>>,
}

#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many were newly marked read.
    pub marked: i32,
}

/// Patients whose care team the caller is on (as a subquery).
fn my_care_team_patients(user: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(care_team_members::Column::PatientId)
        .from(care_team_members::Entity)
        .and_where(sea_orm::sea_query::ExprTrait::eq(
            Expr::col(care_team_members::Column::ClinicianUserId),
            user,
        ))
        .to_owned()
}

#[derive(Default)]
pub struct MonitoringQuery;

#[Object]
impl MonitoringQuery {
    /// Alerts for the patients on the caller's care teams, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        patient_id: Option<Uuid>,
        unacknowledged_only: Option<bool>,
        unresolved_only: Option<bool>,
    ) -> async_graphql::Result<Connection<String, Alert>> {
        Ok(list_alerts(
            ctx,
            first,
            after,
            patient_id,
            unacknowledged_only,
            unresolved_only,
        )
        .await?)
    }

    /// The caller's notifications, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> async_graphql::Result<Connection<String, Notification>> {
        Ok(list_notifications(ctx, first, after, unread_only).await?)
    }

    /// Every patient on the caller's care teams with what needs attention
    /// (clinicians).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn care_team_overview(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        sort_by: Option<CareTeamOverviewSort>,
    ) -> async_graphql::Result<overview::CareTeamOverviewConnection> {
        Ok(overview::overview(ctx, first, after, sort_by.unwrap_or_default()).await?)
    }
}

async fn list_alerts(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    patient_id: Option<Uuid>,
    unacknowledged_only: Option<bool>,
    unresolved_only: Option<bool>,
) -> ApiResult<Connection<String, Alert>> {
    let principal = ctx.principal().await?;
    authz::require_role(principal, &[Role::Clinician])?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = alert_rows::Entity::find()
        .filter(alert_rows::Column::OrganizationId.eq(principal.organization_id))
        .filter(
            alert_rows::Column::PatientId.in_subquery(my_care_team_patients(principal.user_id)),
        );
    if let Some(patient) = patient_id {
        query = query.filter(alert_rows::Column::PatientId.eq(patient));
    }
    if unacknowledged_only == Some(true) {
        query = query.filter(alert_rows::Column::Status.eq(OPEN));
    }
    if unresolved_only == Some(true) {
        query = query.filter(alert_rows::Column::Status.ne(RESOLVED));
    }
    if let Some(after) = page.after {
        query = query.filter(alert_rows::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(alert_rows::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    let shown: Vec<_> = rows
        .iter()
        .take(page.first as usize)
        .map(|a| (a.id, a.patient_id))
        .collect();
    crate::audit::record_many(
        ctx.db()?,
        ctx.request_id(),
        shown.iter().map(|(id, patient)| {
            crate::audit::AuditEvent::by(
                principal,
                "alert.read",
                "Alert",
                Some(*id),
                Some(*patient),
                true,
            )
        }),
    )
    .await?;
    Ok(pagination::connection(
        rows.into_iter().map(|a| (a.id, Alert(a))).collect(),
        page,
    ))
}

async fn list_notifications(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    unread_only: Option<bool>,
) -> ApiResult<Connection<String, Notification>> {
    let principal = ctx.principal().await?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query =
        notifications::Entity::find().filter(notifications::Column::UserId.eq(principal.user_id));
    if unread_only == Some(true) {
        query = query.filter(notifications::Column::ReadAt.is_null());
    }
    if let Some(after) = page.after {
        query = query.filter(notifications::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(notifications::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    Ok(pagination::connection(
        rows.into_iter().map(|n| (n.id, Notification(n))).collect(),
        page,
    ))
}

/// Loads an alert the caller may act on (care team), else `NOT_FOUND`.
async fn my_alert(
    ctx: &Context<'_>,
    id: Uuid,
    action: &'static str,
) -> ApiResult<alert_rows::Model> {
    let principal = ctx.principal().await?;
    authz::require_role(principal, &[Role::Clinician])?;
    let db = ctx.db()?;
    let alert = alert_rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        alert.patient_id,
        Need::ClinicalWrite,
        action,
    )
    .await
    .map_err(|_| ApiError::NotFound("alert"))?;
    Ok(alert)
}

#[derive(Default)]
pub struct MonitoringMutation;

#[Object]
impl MonitoringMutation {
    /// The patient's check-in from their phone. Retrying with the same
    /// idempotency key returns the first result.
    async fn submit_check_in(
        &self,
        ctx: &Context<'_>,
        input: SubmitCheckInInput,
    ) -> async_graphql::Result<SubmitCheckInPayload> {
        Ok(SubmitCheckInPayload {
            check_in: check_ins::submit(ctx, input).await?,
        })
    }

    /// COWS (care-team clinician) or SOWS (the patient or a care-team
    /// clinician); scored by the server.
    async fn submit_withdrawal_assessment(
        &self,
        ctx: &Context<'_>,
        input: SubmitWithdrawalAssessmentInput,
    ) -> async_graphql::Result<SubmitWithdrawalAssessmentPayload> {
        Ok(SubmitWithdrawalAssessmentPayload {
            assessment: assessments::submit(ctx, input).await?,
        })
    }

    /// A care-team clinician has seen the alert.
    async fn acknowledge_alert(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeAlertInput,
    ) -> async_graphql::Result<AcknowledgeAlertPayload> {
        let principal = ctx.principal().await?;
        let alert = my_alert(ctx, input.alert_id, "alert.acknowledge").await?;
        let alert = if alert.status == OPEN {
            let mut active = alert.into_active_model();
            active.status = Set(ACKNOWLEDGED.to_owned());
            active.acknowledged_at = Set(Some(Utc::now()));
            active.acknowledged_by_user_id = Set(Some(principal.user_id));
            active.update(ctx.db()?).await.map_err(ApiError::from)?
        } else {
            alert
        };
        Ok(AcknowledgeAlertPayload {
            alert: Alert(alert),
        })
    }

    /// A care-team clinician closes the alert with a note of what was done.
    async fn resolve_alert(
        &self,
        ctx: &Context<'_>,
        input: ResolveAlertInput,
    ) -> async_graphql::Result<ResolveAlertPayload> {
        let principal = ctx.principal().await?;
        let note = validation::text("note", &input.note, 2000)?;
        let alert = my_alert(ctx, input.alert_id, "alert.resolve").await?;
        if alert.status == RESOLVED {
            return Err(ApiError::conflict("the alert is already resolved").into());
        }
        let now = Utc::now();
        let mut active = alert.clone().into_active_model();
        active.status = Set(RESOLVED.to_owned());
        active.resolved_at = Set(Some(now));
        active.resolved_by_user_id = Set(Some(principal.user_id));
        active.resolution_note = Set(Some(note));
        if alert.acknowledged_at.is_none() {
            active.acknowledged_at = Set(Some(now));
            active.acknowledged_by_user_id = Set(Some(principal.user_id));
        }
        let alert = active.update(ctx.db()?).await.map_err(ApiError::from)?;
        Ok(ResolveAlertPayload {
            alert: Alert(alert),
        })
    }

    /// Marks the caller's notifications read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> async_graphql::Result<MarkNotificationsReadPayload> {
        let principal = ctx.principal().await?;
        let mut update = notifications::Entity::update_many()
            .col_expr(notifications::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notifications::Column::UserId.eq(principal.user_id))
            .filter(notifications::Column::ReadAt.is_null());
        if let Some(ids) = input.notification_ids {
            if ids.len() > 500 {
                return Err(ApiError::bad_input("notificationIds", "at most 500 at a time").into());
            }
            update = update.filter(notifications::Column::Id.is_in(ids));
        }
        let result = update.exec(ctx.db()?).await.map_err(ApiError::from)?;
        Ok(MarkNotificationsReadPayload {
            marked: result.rows_affected as i32,
        })
    }
}

#[derive(Default)]
pub struct MonitoringSubscription;

#[Subscription]
impl MonitoringSubscription {
    /// The caller's new notifications, as they are created.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Notification> + use<>> {
        let me = ctx.principal().await?.user_id;
        Ok(ctx.app().hub.subscribe(move |event| match event {
            LiveEvent::Notification(n) if n.user_id == me => Some(Notification(n.clone())),
            _ => None,
        }))
    }

    /// New alerts for patients on the caller's care teams (clinicians).
    async fn alert_raised(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Alert> + use<>> {
        let principal = ctx.principal().await?;
        authz::require_role(principal, &[Role::Clinician])?;
        let me = principal.user_id;
        Ok(ctx.app().hub.subscribe(move |event| match event {
            LiveEvent::Alert { alert, recipients } if recipients.contains(&me) => {
                Some(Alert(alert.clone()))
            }
            _ => None,
        }))
    }
}
