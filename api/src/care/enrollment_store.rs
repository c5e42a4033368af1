//! Enrollments in the database: enrolling a patient in a program (one open
//! enrollment per patient and program), and moving an enrollment through
//! its phases with a recorded event (who, when, why) for every change.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use entity::{enrollment_events, enrollments, patients, programs};

use super::{phases::Phase, program_store::is_unique_violation};
use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
};

/// An enrollment with its program.
#[derive(Debug, Clone)]
pub struct EnrollmentRecord {
    pub enrollment: enrollments::Model,
    pub program: programs::Model,
}

impl EnrollmentRecord {
    pub fn phase(&self) -> ApiResult<Phase> {
        Phase::from_row(&self.enrollment.phase)
    }
}

/// A checked enrollment to create (in INTAKE).
#[derive(Debug, Clone)]
pub struct NewEnrollment<'a> {
    pub patient: &'a patients::Model,
    pub program: Uuid,
    pub starts_on: NaiveDate,
    pub expected_end_on: NaiveDate,
}

/// The patient's open (not discharged) enrollment in the program, if any.
pub async fn open_enrollment(
    db: &impl ConnectionTrait,
    patient: Uuid,
    program: Uuid,
) -> ApiResult<Option<enrollments::Model>> {
    Ok(enrollments::Entity::find()
        .filter(enrollments::Column::PatientId.eq(patient))
        .filter(enrollments::Column::ProgramId.eq(program))
        .filter(enrollments::Column::Phase.ne(Phase::Discharged.as_str()))
        .one(db)
        .await?)
}

pub fn already_enrolled() -> ApiError {
    ApiError::conflict("the patient already has an open enrollment in this program")
}

/// Enrolls the patient (by the caller) with the enrollment's first event,
/// in one transaction. A second open enrollment in the same program (a
/// concurrent request) is `CONFLICT`.
pub async fn enroll(caller: &Caller, new: NewEnrollment<'_>) -> ApiResult<enrollments::Model> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let enrollment = enrollments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.patient.organization_id),
        patient_id: Set(new.patient.id),
        program_id: Set(new.program),
        phase: Set(Phase::Intake.as_str().to_owned()),
        starts_on: Set(new.starts_on),
        expected_end_on: Set(new.expected_end_on),
        aftercare_plan: Set(None),
        discharge_reason: Set(None),
        discharged_at: Set(None),
        enrolled_by_user_id: Set(caller.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            already_enrolled()
        } else {
            ApiError::from(err)
        }
    })?;
    let first = PhaseChange {
        from: None,
        to: Phase::Intake,
        reason: None,
        aftercare_plan: None,
        actor: caller.user_id(),
        at: now,
    };
    record_event(&txn, enrollment.id, &first).await?;
    caller.commit(txn).await?;
    Ok(enrollment)
}

/// A change of phase to record (`from` is none for the enrollment itself).
struct PhaseChange<'a> {
    from: Option<Phase>,
    to: Phase,
    reason: Option<&'a str>,
    aftercare_plan: Option<&'a str>,
    actor: Uuid,
    at: DateTime<Utc>,
}

/// Moves an enrollment from `from` to `change.to` (by the caller, now) and
/// records the event, in one transaction. Conditional on the phase still
/// being `from`: a concurrent move makes this one `CONFLICT`.
pub async fn change_phase(
    caller: &Caller,
    enrollment: Uuid,
    from: Phase,
    to: Phase,
    reason: Option<&str>,
    aftercare_plan: Option<&str>,
) -> ApiResult<enrollments::Model> {
    let change = PhaseChange {
        from: Some(from),
        to,
        reason,
        aftercare_plan,
        actor: caller.user_id(),
        at: Utc::now(),
    };
    let mut update = enrollments::Entity::update_many()
        .col_expr(enrollments::Column::Phase, Expr::value(to.as_str()))
        .col_expr(enrollments::Column::UpdatedAt, Expr::value(change.at));
    if let Some(plan) = aftercare_plan {
        update = update.col_expr(enrollments::Column::AftercarePlan, Expr::value(plan));
    }
    if to == Phase::Discharged {
        update = update
            .col_expr(enrollments::Column::DischargeReason, Expr::value(reason))
            .col_expr(enrollments::Column::DischargedAt, Expr::value(change.at));
    }
    let txn = caller.begin().await?;
    let done = update
        .filter(enrollments::Column::Id.eq(enrollment))
        .filter(enrollments::Column::Phase.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(ApiError::conflict(
            "the enrollment was changed meanwhile; reload it",
        ));
    }
    record_event(&txn, enrollment, &change).await?;
    let row = enrollments::Entity::find_by_id(enrollment)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("enrollment"))?;
    caller.commit(txn).await?;
    Ok(row)
}

async fn record_event(
    db: &impl ConnectionTrait,
    enrollment: Uuid,
    change: &PhaseChange<'_>,
) -> ApiResult<()> {
    enrollment_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        enrollment_id: Set(enrollment),
        from_phase: Set(change.from.map(|p| p.as_str().to_owned())),
        to_phase: Set(change.to.as_str().to_owned()),
        reason: Set(change.reason.map(str::to_owned)),
        aftercare_plan: Set(change.aftercare_plan.map(str::to_owned)),
        actor_user_id: Set(change.actor),
        at: Set(change.at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Enrollments with their programs, in two queries whatever their number.
pub async fn with_programs(
    db: &impl ConnectionTrait,
    rows: Vec<enrollments::Model>,
) -> ApiResult<Vec<EnrollmentRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let programs: HashMap<Uuid, programs::Model> = programs::Entity::find()
        .filter(programs::Column::Id.is_in(rows.iter().map(|e| e.program_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    rows.into_iter()
        .map(|enrollment| {
            let program = programs
                .get(&enrollment.program_id)
                .cloned()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("enrollment without program")))?;
            Ok(EnrollmentRecord {
                enrollment,
                program,
            })
        })
        .collect()
}

pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<EnrollmentRecord>> {
    let Some(row) = enrollments::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(with_programs(db, vec![row]).await?.pop())
}

/// A patient's enrollments, newest first.
pub async fn enrollments_of(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<EnrollmentRecord>> {
    let rows = enrollments::Entity::find()
        .filter(enrollments::Column::PatientId.eq(patient))
        .order_by_desc(enrollments::Column::StartsOn)
        .order_by_desc(enrollments::Column::Id)
        .all(db)
        .await?;
    with_programs(db, rows).await
}

/// An enrollment's phase changes, oldest first.
pub async fn events_of(
    db: &impl ConnectionTrait,
    enrollment: Uuid,
) -> ApiResult<Vec<enrollment_events::Model>> {
    Ok(enrollment_events::Entity::find()
        .filter(enrollment_events::Column::EnrollmentId.eq(enrollment))
        .order_by_asc(enrollment_events::Column::At)
        .order_by_asc(enrollment_events::Column::Id)
        .all(db)
        .await?)
}
