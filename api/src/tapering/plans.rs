//! Taper plans in the database: creating a version with its steps, loading
//! plans with their steps, moving them through the lifecycle with a
//! recorded event (who, when, why) for every transition.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::{taper_plan_events, taper_plans, taper_steps};

use super::{
    lifecycle::{self, Status},
    schedule::{Step, Warning},
};
use crate::error::{ApiError, ApiResult};

/// A plan row with its steps, in order.
#[derive(Debug, Clone)]
pub struct PlanRecord {
    pub plan: taper_plans::Model,
    pub steps: Vec<Step>,
}

impl PlanRecord {
    pub fn status(&self) -> Status {
        Status::parse(&self.plan.status).unwrap_or(Status::Cancelled)
    }

    /// The status as of `today`: an active plan whose last step has ended
    /// is complete.
    pub fn status_on(&self, today: NaiveDate) -> Status {
        match self.status() {
            Status::Active if lifecycle::is_finished(&self.steps, today) => Status::Completed,
            status => status,
        }
    }

    pub fn warnings(&self) -> Vec<StoredWarning> {
        serde_json::from_str(&self.plan.warnings).unwrap_or_default()
    }
}

/// A warning as stored with the plan (what the clinician saw).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredWarning {
    pub code: String,
    pub message: String,
}

pub fn store_warnings(warnings: &[Warning]) -> String {
    let stored: Vec<StoredWarning> = warnings
        .iter()
        .map(|w| StoredWarning {
            code: w.code.as_str().to_owned(),
            message: w.message.clone(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

fn to_step(row: &taper_steps::Model) -> Step {
    Step {
        index: row.step_index.max(0) as u32,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        daily_dose: row.daily_dose,
        daily_mme: row.daily_mme,
    }
}

/// Plans with their steps, in two queries whatever their number.
pub async fn with_steps(
    db: &impl ConnectionTrait,
    plans: Vec<taper_plans::Model>,
) -> ApiResult<Vec<PlanRecord>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let rows = taper_steps::Entity::find()
        .filter(taper_steps::Column::PlanId.is_in(plans.iter().map(|p| p.id)))
        .order_by_asc(taper_steps::Column::StepIndex)
        .all(db)
        .await?;
    let mut by_plan: HashMap<Uuid, Vec<Step>> = HashMap::new();
    for row in &rows {
        by_plan.entry(row.plan_id).or_default().push(to_step(row));
    }
    Ok(plans
        .into_iter()
        .map(|plan| {
            let steps = by_plan.remove(&plan.id).unwrap_or_default();
            PlanRecord { plan, steps }
        })
        .collect())
}

pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<PlanRecord>> {
    let Some(plan) = taper_plans::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(with_steps(db, vec![plan]).await?.pop())
}

/// A patient's plans, newest version first.
pub async fn for_patient(db: &impl ConnectionTrait, patient: Uuid) -> ApiResult<Vec<PlanRecord>> {
    let plans = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.eq(patient))
        .order_by_desc(taper_plans::Column::CreatedAt)
        .all(db)
        .await?;
    with_steps(db, plans).await
}

/// The plan in effect: active or paused (the newest when several
/// medications are tapered at once).
pub async fn current_for_patient(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Option<PlanRecord>> {
    let plan = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.eq(patient))
        .filter(
            taper_plans::Column::Status.is_in([Status::Active.as_str(), Status::Paused.as_str()]),
        )
        .order_by_desc(taper_plans::Column::CreatedAt)
        .one(db)
        .await?;
    match plan {
        Some(plan) => Ok(with_steps(db, vec![plan]).await?.pop()),
        None => Ok(None),
    }
}

/// Writes a plan's steps (replacing any it had).
pub async fn save_steps(db: &impl ConnectionTrait, plan: Uuid, steps: &[Step]) -> ApiResult<()> {
    taper_steps::Entity::delete_many()
        .filter(taper_steps::Column::PlanId.eq(plan))
        .exec(db)
        .await?;
    let rows: Vec<_> = steps
        .iter()
        .map(|s| taper_steps::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan),
            step_index: Set(s.index as i32),
            starts_on: Set(s.starts_on),
            ends_on: Set(s.ends_on),
            daily_dose: Set(s.daily_dose),
            daily_mme: Set(s.daily_mme),
        })
        .collect();
    for chunk in rows.chunks(500) {
        taper_steps::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Records a lifecycle event.
pub async fn record_event(
    db: &impl ConnectionTrait,
    plan: Uuid,
    kind: &str,
    actor: Option<Uuid>,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    taper_plan_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan),
        kind: Set(kind.to_owned()),
        actor_user_id: Set(actor),
        reason: Set(reason.map(str::to_owned)),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Sets a plan's status (and anything else in `change`) and records why.
pub async fn update(
    db: &impl ConnectionTrait,
    plan: taper_plans::Model,
    change: impl FnOnce(&mut taper_plans::ActiveModel),
) -> ApiResult<taper_plans::Model> {
    let mut active = plan.into_active_model();
    change(&mut active);
    active.updated_at = Set(Utc::now());
    active.update(db).await.map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("the patient already has an active plan for this medication")
        }
        _ => ApiError::from(err),
    })
}

/// Marks an active plan whose last step has ended as completed.
pub async fn complete_if_finished(
    db: &impl ConnectionTrait,
    record: &mut PlanRecord,
    today: NaiveDate,
) -> ApiResult<()> {
    if record.status() == Status::Active && lifecycle::is_finished(&record.steps, today) {
        let now = Utc::now();
        // Conditional: two readers racing complete it once.
        let done = taper_plans::Entity::update_many()
            .col_expr(
                taper_plans::Column::Status,
                sea_orm::sea_query::Expr::value(Status::Completed.as_str()),
            )
            .col_expr(
                taper_plans::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(taper_plans::Column::Id.eq(record.plan.id))
            .filter(taper_plans::Column::Status.eq(Status::Active.as_str()))
            .exec(db)
            .await?;
        if done.rows_affected == 1 {
            record_event(
                db,
                record.plan.id,
                "COMPLETED",
                None,
                Some("last step ended"),
                now,
            )
            .await?;
        }
        record.plan.status = Status::Completed.as_str().to_owned();
    }
    Ok(())
}
