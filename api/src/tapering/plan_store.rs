//! Taper plans in the database: creating a version with its steps, loading
//! plans with their steps, moving them through the lifecycle with a
//! recorded event (who, when, why) for every transition. Each write is one
//! transaction that carries the operation's audit events
//! (`Caller::commit`).
//!
//! Monitoring reads this store, so the alert checks a write runs in its
//! transaction are handed in by the surface (`alerts`), never called from
//! here.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::{patients, taper_plan_events, taper_plans, taper_steps};

use super::{
    lifecycle::{self, EventKind, Status},
    schedule::{Plan, Step, TaperPreset, Warning},
};
use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    notifications::LiveEvent,
    patients::patient_store,
};

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

fn store_warnings(warnings: &[Warning]) -> String {
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

/// A patient's ACTIVE and PAUSED plans (one per medication being tapered),
/// with their steps: two queries.
pub async fn live_for_patient(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<PlanRecord>> {
    let plans = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.eq(patient))
        .filter(
            taper_plans::Column::Status.is_in([Status::Active.as_str(), Status::Paused.as_str()]),
        )
        .order_by_desc(taper_plans::Column::CreatedAt)
        .all(db)
        .await?;
    with_steps(db, plans).await
}

/// A patient's plan versions that were ever in effect, with their steps:
/// ACTIVE, PAUSED and COMPLETED ones, and versions cancelled after being
/// activated (superseded by a revision), whose past days keep their
/// schedule. Three queries.
pub async fn ever_in_effect(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<PlanRecord>> {
    let plans = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.eq(patient))
        .filter(taper_plans::Column::Status.ne(Status::Draft.as_str()))
        .order_by_desc(taper_plans::Column::CreatedAt)
        .all(db)
        .await?;
    let cancelled: Vec<Uuid> = plans
        .iter()
        .filter(|p| p.status == Status::Cancelled.as_str())
        .map(|p| p.id)
        .collect();
    let activated: std::collections::HashSet<Uuid> = if cancelled.is_empty() {
        Default::default()
    } else {
        taper_plan_events::Entity::find()
            .filter(taper_plan_events::Column::PlanId.is_in(cancelled))
            .filter(taper_plan_events::Column::Kind.eq(EventKind::Activated.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.plan_id)
            .collect()
    };
    let plans = plans
        .into_iter()
        .filter(|p| p.status != Status::Cancelled.as_str() || activated.contains(&p.id))
        .collect();
    with_steps(db, plans).await
}

/// The daily dose `medication`'s plans schedule on `day`, from the version
/// in effect that day: of the versions ever in effect, the one whose first
/// step began latest on or before `day` (a superseded version keeps its
/// days until its revision began), its dose held from the day it was
/// paused. `None` before any began. Pure.
pub fn version_dose_on(records: &[PlanRecord], medication: Uuid, day: NaiveDate) -> Option<f64> {
    let record = records
        .iter()
        .filter(|r| r.plan.medication_id == medication)
        .filter_map(|r| Some((r.steps.first()?.starts_on, r)))
        .filter(|(start, _)| *start <= day)
        .max_by_key(|(start, r)| (*start, r.plan.version, r.plan.created_at))?
        .1;
    let held = record.plan.paused_on.map_or(day, |paused| paused.min(day));
    lifecycle::dose_on(&record.steps, held)
}

/// Writes a plan's steps (replacing any it had).
async fn save_steps(db: &impl ConnectionTrait, plan: Uuid, steps: &[Step]) -> ApiResult<()> {
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
async fn record_event(
    db: &impl ConnectionTrait,
    plan: Uuid,
    kind: EventKind,
    actor: Option<Uuid>,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    taper_plan_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan),
        kind: Set(kind.as_str().to_owned()),
        actor_user_id: Set(actor),
        reason: Set(reason.map(str::to_owned)),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Sets a plan's status (and anything else in `change`).
async fn update(
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
                EventKind::Completed,
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

/// "Today" in the patient's time zone.
pub async fn today_of(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
) -> ApiResult<NaiveDate> {
    Ok(lifecycle::today_in(
        &patient_store::timezone(db, patient).await?,
        Utc::now(),
    ))
}

/// A plan and the patient's today, for reading: nothing is written (the
/// status shown is `PlanRecord::status_on(today)`; only write paths store
/// a completion, through `complete_if_finished`).
pub async fn as_of_today(
    db: &impl ConnectionTrait,
    record: PlanRecord,
    patient: &patients::Model,
) -> ApiResult<(PlanRecord, NaiveDate)> {
    let today = today_of(db, patient).await?;
    Ok((record, today))
}

/// A patient's plans, newest version first, and their today (read only).
pub async fn for_patient_as_of_today(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
) -> ApiResult<(Vec<PlanRecord>, NaiveDate)> {
    let today = today_of(db, patient).await?;
    let records = for_patient(db, patient.id).await?;
    Ok((records, today))
}

/// A plan's transitions, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    plan: Uuid,
) -> ApiResult<Vec<taper_plan_events::Model>> {
    Ok(taper_plan_events::Entity::find()
        .filter(taper_plan_events::Column::PlanId.eq(plan))
        .order_by_asc(taper_plan_events::Column::At)
        .all(db)
        .await?)
}

/// A plan version to write (a first plan, or a revision of `supersedes`).
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    pub preset: TaperPreset,
    pub version: i32,
    pub starting_daily_dose: f64,
    pub target_daily_dose: f64,
    /// CUSTOM only.
    pub reduction_percent: Option<f64>,
    /// CUSTOM only.
    pub step_days: Option<i32>,
    pub follow_up_every_days: i32,
    pub starts_on: NaiveDate,
    pub supersedes_plan_id: Option<Uuid>,
    /// The clinician's reason for the plan (required for a MOUD plan).
    pub reason: Option<String>,
}

/// Inserts a draft version with its steps and its CREATED event.
async fn insert_version(
    txn: &DatabaseTransaction,
    actor: Uuid,
    new: NewPlan,
    generated: &Plan,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<taper_plans::Model> {
    let plan = taper_plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.organization_id),
        patient_id: Set(new.patient_id),
        medication_id: Set(new.medication_id),
        status: Set(Status::Draft.as_str().into()),
        preset: Set(new.preset.as_str().into()),
        version: Set(new.version),
        starting_daily_dose: Set(new.starting_daily_dose),
        target_daily_dose: Set(new.target_daily_dose),
        reduction_percent: Set(new.reduction_percent),
        step_days: Set(new.step_days),
        follow_up_every_days: Set(new.follow_up_every_days),
        starts_on: Set(new.starts_on),
        warnings: Set(store_warnings(&generated.warnings)),
        patient_agreed_at: Set(None),
        paused_on: Set(None),
        supersedes_plan_id: Set(new.supersedes_plan_id),
        superseded_by_plan_id: Set(None),
        superseded_reason: Set(None),
        reason: Set(new.reason.clone()),
        created_by_user_id: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    save_steps(txn, plan.id, &generated.steps).await?;
    record_event(txn, plan.id, EventKind::Created, Some(actor), reason, now).await?;
    Ok(plan)
}

/// Writes a first version (a draft) of a plan.
pub async fn create(caller: &Caller, new: NewPlan, generated: Plan) -> ApiResult<PlanRecord> {
    let txn = caller.begin().await?;
    let plan = insert_version(&txn, caller.user_id(), new, &generated, None, Utc::now()).await?;
    caller.commit(txn).await?;
    Ok(PlanRecord {
        plan,
        steps: generated.steps,
    })
}

/// Writes a revision of `old` (a new draft version) and marks `old`
/// superseded with `reason`: a draft is simply replaced (cancelled); a plan
/// in effect stays in effect until its revision is agreed to and activated.
pub async fn revise(
    caller: &Caller,
    old: PlanRecord,
    new: NewPlan,
    generated: Plan,
    reason: &str,
) -> ApiResult<PlanRecord> {
    let now = Utc::now();
    let actor = caller.user_id();
    let txn = caller.begin().await?;
    let plan = insert_version(&txn, actor, new, &generated, Some(reason), now).await?;
    let cancel = old.status() == Status::Draft;
    let old_id = old.plan.id;
    update(&txn, old.plan, |p| {
        p.superseded_by_plan_id = Set(Some(plan.id));
        p.superseded_reason = Set(Some(reason.to_owned()));
        if cancel {
            p.status = Set(Status::Cancelled.as_str().into());
        }
    })
    .await?;
    record_event(
        &txn,
        old_id,
        EventKind::Revised,
        Some(actor),
        Some(reason),
        now,
    )
    .await?;
    caller.commit(txn).await?;
    Ok(PlanRecord {
        plan,
        steps: generated.steps,
    })
}

/// Records the patient's agreement.
pub async fn agree(caller: &Caller, record: PlanRecord) -> ApiResult<PlanRecord> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let plan = update(&txn, record.plan, |p| p.patient_agreed_at = Set(Some(now))).await?;
    record_event(
        &txn,
        plan.id,
        EventKind::Agreed,
        Some(caller.user_id()),
        None,
        now,
    )
    .await?;
    caller.commit(txn).await?;
    Ok(PlanRecord {
        plan,
        steps: record.steps,
    })
}

/// The plan in effect that `plan` revises, following revisions of
/// revisions (a draft revised again was cancelled, its original still
/// runs); `None` when none is in effect.
pub async fn original_in_effect(
    db: &impl ConnectionTrait,
    plan: &taper_plans::Model,
) -> ApiResult<Option<taper_plans::Model>> {
    let mut next = plan.supersedes_plan_id;
    // Versions form a short chain; the bound only guards a broken one.
    for _ in 0..64 {
        let Some(id) = next else {
            return Ok(None);
        };
        let Some(original) = taper_plans::Entity::find_by_id(id).one(db).await? else {
            return Ok(None);
        };
        match Status::parse(&original.status) {
            Some(Status::Active | Status::Paused) => return Ok(Some(original)),
            Some(Status::Cancelled) => next = original.supersedes_plan_id,
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// How a plan goes into effect: its steps re-dated to start on the
/// activation day at the latest (and, for a revision, never above the dose
/// in effect), and the clinician's reason for activating it despite its
/// warnings.
#[derive(Debug, Clone)]
pub struct Activation {
    pub steps: Vec<Step>,
    pub starts_on: NaiveDate,
    pub starting_daily_dose: f64,
    pub warnings_reason: Option<String>,
}

/// Puts an agreed plan into effect with its dates (`activation`, stored so
/// that reads never write), cancelling the original it revises if that is
/// still in effect, then runs `alerts` in the same transaction.
pub async fn activate(
    caller: &Caller,
    record: PlanRecord,
    activation: Activation,
    now: DateTime<Utc>,
    alerts: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<Vec<LiveEvent>>,
) -> ApiResult<(PlanRecord, Vec<LiveEvent>)> {
    let actor = Some(caller.user_id());
    let Activation {
        steps,
        starts_on,
        starting_daily_dose,
        warnings_reason,
    } = activation;
    let txn = caller.begin().await?;
    if let Some(original) = original_in_effect(&txn, &record.plan).await? {
        let id = original.id;
        update(&txn, original, |p| {
            p.status = Set(Status::Cancelled.as_str().into())
        })
        .await?;
        record_event(&txn, id, EventKind::Superseded, actor, None, now).await?;
    }
    let redated = steps != record.steps;
    let plan = update(&txn, record.plan, |p| {
        p.status = Set(Status::Active.as_str().into());
        p.starts_on = Set(starts_on);
        p.starting_daily_dose = Set(starting_daily_dose);
    })
    .await?;
    if redated {
        save_steps(&txn, plan.id, &steps).await?;
    }
    record_event(
        &txn,
        plan.id,
        EventKind::Activated,
        actor,
        warnings_reason.as_deref(),
        now,
    )
    .await?;
    let events = alerts(&txn).await?;
    caller.commit(txn).await?;
    Ok((PlanRecord { plan, steps }, events))
}

/// Holds the plan at the dose of `today` (the patient's), with a reason.
pub async fn pause(
    caller: &Caller,
    record: PlanRecord,
    today: NaiveDate,
    reason: &str,
) -> ApiResult<PlanRecord> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let plan = update(&txn, record.plan, |p| {
        p.status = Set(Status::Paused.as_str().into());
        p.paused_on = Set(Some(today));
    })
    .await?;
    let actor = Some(caller.user_id());
    record_event(&txn, plan.id, EventKind::Paused, actor, Some(reason), now).await?;
    caller.commit(txn).await?;
    Ok(PlanRecord {
        plan,
        steps: record.steps,
    })
}

/// Puts a paused plan back into effect with its shifted `steps`, then runs
/// `alerts` in the same transaction.
pub async fn resume(
    caller: &Caller,
    record: PlanRecord,
    steps: Vec<Step>,
    now: DateTime<Utc>,
    alerts: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<Vec<LiveEvent>>,
) -> ApiResult<(PlanRecord, Vec<LiveEvent>)> {
    let txn = caller.begin().await?;
    let plan = update(&txn, record.plan, |p| {
        p.status = Set(Status::Active.as_str().into());
        p.paused_on = Set(None);
    })
    .await?;
    save_steps(&txn, plan.id, &steps).await?;
    let actor = Some(caller.user_id());
    record_event(&txn, plan.id, EventKind::Resumed, actor, None, now).await?;
    let events = alerts(&txn).await?;
    caller.commit(txn).await?;
    Ok((PlanRecord { plan, steps }, events))
}
