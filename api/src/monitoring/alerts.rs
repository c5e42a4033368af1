//! GraphQL surface of alerts to the care team: the `Alert` type, the
//! `alerts` list, `acknowledgeAlert`, `resolveAlert`, and the `alertRaised`
//! subscription. Alerts are raised by `alert_store` inside the triggering
//! write; an alert suggests an action and never changes a dose.

use async_graphql::{
    Context, InputObject, Object, SimpleObject, Subscription, connection::Connection,
    futures_util::Stream,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::alerts as alert_rows;

use super::{
    alert_store::{self, ALERT, AlertFilter},
    rules::{AlertStatus, Evidence},
};
use crate::{
    audit::{Action, PATIENT},
    auth::Role,
    authz::{Need, Relationship},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination,
    notifications::LiveEvent,
    patients::Patient,
    validation,
};

/// Each alert a list shows.
pub const ALERT_READ: Action = ALERT.action("alert.read");
pub const ALERT_ACKNOWLEDGE: Action = ALERT.action("alert.acknowledge");
pub const ALERT_RESOLVE: Action = ALERT.action("alert.resolve");
pub const ALERT_SUBSCRIBE: Action = ALERT.action("alert.subscribe");

/// Characters in a resolution note.
pub const RESOLUTION_NOTE_MAX: usize = 2000;

/// What an alert points to.
#[derive(SimpleObject)]
pub struct AlertEvidence {
    /// `CheckIn`, `WithdrawalAssessment`, `DoseLog`, `Patient` or `TaperPlan`.
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
    /// DOSE_ABOVE_SCHEDULE, NALOXONE_OFFER_DUE, HIGH_CRAVING, FOLLOW_UP_DUE
    /// or SEDATIVE_COPRESCRIPTION.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Patient> {
        let model = ctx
            .loaders()?
            .patients
            .load_one(self.0.patient_id)
            .await?
            .ok_or(ApiError::NotFound(PATIENT.noun))?;
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

#[derive(Default)]
pub struct AlertsQuery;

#[Object]
impl AlertsQuery {
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
        let caller = ctx.caller().await?;
        let filter = AlertFilter {
            patient_id,
            unacknowledged_only: unacknowledged_only == Some(true),
            unresolved_only: unresolved_only == Some(true),
        };
        Ok(list(&caller, first, after, filter).await?)
    }
}

/// Clinicians only; refused without a record, as the role can never act
/// on alerts.
fn require_clinician(caller: &Caller, action: Action) -> ApiResult<()> {
    caller.require(&[Role::Clinician], action)
}

/// One page of the caller's care teams' alerts; each shown is recorded as
/// read.
async fn list(
    caller: &Caller,
    first: Option<i32>,
    after: Option<String>,
    filter: AlertFilter,
) -> ApiResult<Connection<String, Alert>> {
    require_clinician(caller, ALERT_READ)?;
    let page = pagination::page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )?;
    let rows = alert_store::page(caller.db(), caller.principal(), filter, page).await?;
    caller.record_all(rows.iter().take(page.first as usize).map(|a| {
        caller
            .event(ALERT_READ)
            .resource(a.id)
            .patient(a.patient_id)
    }));
    Ok(pagination::connection(
        rows.into_iter().map(|a| (a.id, Alert(a))).collect(),
        page,
    ))
}

/// An alert the caller may act on (their care team's), else `NOT_FOUND`.
/// The check on its patient is recorded under `action`.
async fn my_alert(caller: &Caller, id: Uuid, action: Action) -> ApiResult<alert_rows::Model> {
    require_clinician(caller, action)?;
    let alert = alert_store::find(caller.db(), id).await?;
    let (alert, _) = caller
        .child(id, alert, |a| a.patient_id, Need::ClinicalWrite, action)
        .await?;
    Ok(alert)
}

#[derive(Default)]
pub struct AlertsMutation;

#[Object]
impl AlertsMutation {
    /// A care-team clinician has seen the alert.
    async fn acknowledge_alert(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeAlertInput,
    ) -> async_graphql::Result<AcknowledgeAlertPayload> {
        let caller = ctx.caller().await?;
        let alert = my_alert(&caller, input.alert_id, ALERT_ACKNOWLEDGE).await?;
        let alert =
            alert_store::acknowledge(caller.db(), alert, caller.user_id(), Utc::now()).await?;
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
        let caller = ctx.caller().await?;
        Ok(ResolveAlertPayload {
            alert: Alert(resolve(&caller, input).await?),
        })
    }
}

async fn resolve(caller: &Caller, input: ResolveAlertInput) -> ApiResult<alert_rows::Model> {
    let note = validation::text("note", &input.note, RESOLUTION_NOTE_MAX)?;
    let alert = my_alert(caller, input.alert_id, ALERT_RESOLVE).await?;
    if alert.status == AlertStatus::Resolved.as_str() {
        return Err(ApiError::conflict("the alert is already resolved"));
    }
    alert_store::resolve(caller.db(), alert, caller.user_id(), note, Utc::now()).await
}

#[derive(Default)]
pub struct AlertsSubscription;

#[Subscription]
impl AlertsSubscription {
    /// New alerts for patients on the caller's care teams (clinicians).
    async fn alert_raised(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Alert> + use<>> {
        let caller = ctx.caller().await?;
        require_clinician(&caller, ALERT_SUBSCRIBE)?;
        let me = caller.user_id();
        Ok(caller.hub().subscribe(move |event| match event {
            LiveEvent::Alert { alert, recipients } if recipients.contains(&me) => {
                Some(Alert(alert.clone()))
            }
            _ => None,
        }))
    }
}
