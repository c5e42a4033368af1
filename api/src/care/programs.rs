//! Programs and enrollments in the database: creating programs, enrolling
//! patients, and moving enrollments through their phases with a recorded
//! event (who, when, why) for every change.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr, sea_query::Expr,
};
use uuid::Uuid;

use entity::{enrollment_events, enrollments, programs};

use super::phases::Phase;
use crate::error::{ApiError, ApiResult};

/// An enrollment with its program.
#[derive(Debug, Clone)]
pub struct EnrollmentRecord {
    pub enrollment: enrollments::Model,
    pub program: programs::Model,
}

impl EnrollmentRecord {
    pub fn phase(&self) -> ApiResult<Phase> {
        Phase::parse(&self.enrollment.phase).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "unknown enrollment phase {}",
                self.enrollment.phase
            ))
        })
    }
}

fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Inserts a program; a name already used in the organization is `CONFLICT`.
pub async fn insert_program(
    db: &impl ConnectionTrait,
    program: programs::ActiveModel,
) -> ApiResult<programs::Model> {
    program.insert(db).await.map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict("the organization already has a program with this name")
        } else {
            ApiError::from(err)
        }
    })
}

/// The organization's programs, by name.
pub async fn programs_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
) -> ApiResult<Vec<programs::Model>> {
    Ok(programs::Entity::find()
        .filter(programs::Column::OrganizationId.eq(organization))
        .order_by_asc(programs::Column::Name)
        .order_by_asc(programs::Column::Id)
        .all(db)
        .await?)
}

/// One program of the organization.
pub async fn program_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> ApiResult<Option<programs::Model>> {
    Ok(programs::Entity::find_by_id(id)
        .filter(programs::Column::OrganizationId.eq(organization))
        .one(db)
        .await?)
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

/// Inserts an enrollment and its first event. A second open enrollment in
/// the same program (a concurrent request) is `CONFLICT`.
pub async fn enroll(
    db: &impl ConnectionTrait,
    enrollment: enrollments::ActiveModel,
    actor: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<enrollments::Model> {
    let enrollment = enrollment.insert(db).await.map_err(|err| {
        if is_unique_violation(&err) {
            already_enrolled()
        } else {
            ApiError::from(err)
        }
    })?;
    record_event(
        db,
        enrollment.id,
        None,
        Phase::Intake,
        None,
        None,
        actor,
        at,
    )
    .await?;
    Ok(enrollment)
}

pub fn already_enrolled() -> ApiError {
    ApiError::conflict("the patient already has an open enrollment in this program")
}

/// A change of phase to record.
pub struct PhaseChange<'a> {
    pub from: Phase,
    pub to: Phase,
    pub reason: Option<&'a str>,
    pub aftercare_plan: Option<&'a str>,
    pub actor: Uuid,
    pub at: DateTime<Utc>,
}

/// Moves an enrollment from `change.from` to `change.to` and records the
/// event. Conditional on the phase still being `from`: a concurrent move
/// makes this one `CONFLICT`.
pub async fn change_phase(
    db: &impl ConnectionTrait,
    enrollment: Uuid,
    change: &PhaseChange<'_>,
) -> ApiResult<enrollments::Model> {
    let mut update = enrollments::Entity::update_many()
        .col_expr(enrollments::Column::Phase, Expr::value(change.to.as_str()))
        .col_expr(enrollments::Column::UpdatedAt, Expr::value(change.at));
    if let Some(plan) = change.aftercare_plan {
        update = update.col_expr(enrollments::Column::AftercarePlan, Expr::value(plan));
    }
    if change.to == Phase::Discharged {
        update = update
            .col_expr(
                enrollments::Column::DischargeReason,
                Expr::value(change.reason),
            )
            .col_expr(enrollments::Column::DischargedAt, Expr::value(change.at));
    }
    let done = update
        .filter(enrollments::Column::Id.eq(enrollment))
        .filter(enrollments::Column::Phase.eq(change.from.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(ApiError::conflict(
            "the enrollment was changed meanwhile; reload it",
        ));
    }
    record_event(
        db,
        enrollment,
        Some(change.from),
        change.to,
        change.reason,
        change.aftercare_plan,
        change.actor,
        change.at,
    )
    .await?;
    enrollments::Entity::find_by_id(enrollment)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("enrollment"))
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    db: &impl ConnectionTrait,
    enrollment: Uuid,
    from: Option<Phase>,
    to: Phase,
    reason: Option<&str>,
    aftercare_plan: Option<&str>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    enrollment_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        enrollment_id: Set(enrollment),
        from_phase: Set(from.map(|p| p.as_str().to_owned())),
        to_phase: Set(to.as_str().to_owned()),
        reason: Set(reason.map(str::to_owned)),
        aftercare_plan: Set(aftercare_plan.map(str::to_owned)),
        actor_user_id: Set(actor),
        at: Set(at),
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

pub async fn load_enrollment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<Option<EnrollmentRecord>> {
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
