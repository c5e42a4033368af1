//! The daily check: the alert checks that depend on the date alone (a
//! follow-up due, a plan step that starts at 50 MME or more, a sedative
//! beside an opioid; `standing_store`) run once at start and then every
//! `STEPDOWN_DAILY_CHECKS_SECS` (a day by default), in-process. One replica
//! at a time: on PostgreSQL the run holds a transaction-scoped advisory lock
//! (keyed by the schema) and a replica that cannot take it skips its turn;
//! SQLite has one process. Queries never write: only this task and the
//! writes themselves raise alerts.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement, TransactionTrait,
};
use uuid::Uuid;

use entity::{medication_orders, patients, taper_plans};

use super::{alert_store::ALERT, standing_store};
use crate::{
    app::AppContext,
    audit::{self, Action, AuditEvent},
    db::Pool,
    error::ApiResult,
    notifications::LiveEvent,
    tapering::lifecycle::Status,
};

/// An alert the daily check raised (no actor), in the audit trail.
pub const ALERT_RAISE: Action = ALERT.action("alert.raise");

/// The request id of the daily check's audit rows.
const REQUEST_ID: &str = "daily-checks";

const LOCK: &str = "SELECT pg_try_advisory_xact_lock(hashtextextended('stepdown.daily_checks.' || current_schema(), 0)) AS locked";

/// Runs the daily check at start (once the database is migrated) and then
/// every `config.daily_checks_every`, until the task is aborted.
pub async fn run_forever(ctx: AppContext) {
    while !ctx.db.is_migrated() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    loop {
        match run_once(&ctx).await {
            Ok(Some(raised)) => tracing::info!(raised, "daily alert checks ran"),
            Ok(None) => tracing::info!("daily alert checks running on another replica"),
            Err(err) => tracing::warn!(error = %err, "daily alert checks failed"),
        }
        tokio::time::sleep(ctx.config.daily_checks_every).await;
    }
}

/// One run, in one transaction: the number of alerts raised, or `None`
/// when another replica holds the run.
pub async fn run_once(ctx: &AppContext) -> ApiResult<Option<usize>> {
    let txn = ctx.db.conn()?.begin().await?;
    if let Pool::Postgres(_) = ctx.db.pool() {
        let row = txn
            .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, LOCK))
            .await?;
        let locked = row
            .map(|r| r.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            txn.rollback().await?;
            return Ok(None);
        }
    }
    let now = Utc::now();
    let mut events = Vec::new();
    for patient in candidates(&txn, now).await? {
        events.extend(standing_store::check_all(&txn, &patient, now).await?);
    }
    let audit: Vec<AuditEvent> = events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::Alert { alert, .. } => Some(AuditEvent {
                organization_id: alert.organization_id,
                actor_user_id: None,
                patient_id: Some(alert.patient_id),
                action: ALERT_RAISE.name,
                resource_type: ALERT.name,
                resource_id: Some(alert.id),
                allowed: true,
            }),
            _ => None,
        })
        .collect();
    let raised = audit.len();
    if !audit.is_empty() {
        audit::record_many(&txn, REQUEST_ID, audit).await?;
    }
    txn.commit().await?;
    ctx.hub.publish(events).await;
    Ok(Some(raised))
}

/// Patients a standing check can concern: with a live plan, or an order
/// not ended before yesterday (UTC; every time zone's today is covered).
async fn candidates(
    db: &impl ConnectionTrait,
    now: chrono::DateTime<Utc>,
) -> ApiResult<Vec<patients::Model>> {
    let since = (now - Duration::days(2)).date_naive();
    let mut ids: BTreeSet<Uuid> = taper_plans::Entity::find()
        .select_only()
        .column(taper_plans::Column::PatientId)
        .filter(
            taper_plans::Column::Status.is_in([Status::Active.as_str(), Status::Paused.as_str()]),
        )
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    ids.extend(
        medication_orders::Entity::find()
            .select_only()
            .column(medication_orders::Column::PatientId)
            .filter(
                Condition::any()
                    .add(medication_orders::Column::EndsOn.is_null())
                    .add(medication_orders::Column::EndsOn.gte(since)),
            )
            .into_tuple::<Uuid>()
            .all(db)
            .await?,
    );
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut patients = Vec::new();
    for chunk in ids.chunks(500) {
        patients.extend(
            patients::Entity::find()
                .filter(patients::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(patients)
}
