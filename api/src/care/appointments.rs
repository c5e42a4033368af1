//! Appointments in the database: booking a clinician's time under a lock on
//! their calendar, the overlap query behind "no double-booking", family
//! participants, status and time changes with their history, and the
//! queries behind a patient's appointments and a clinician's agenda.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, OnConflict, Query},
};
use uuid::Uuid;

use entity::{
    appointment_events, appointment_participants, appointments, calendar_locks, consents, patients,
    supporter_links,
};

use super::booking::{Slot, Status};
use crate::{
    auth::Principal,
    authz::{self, ConsentCategory},
    error::{ApiError, ApiResult},
};

impl From<&appointments::Model> for Slot {
    fn from(a: &appointments::Model) -> Self {
        Slot {
            starts_at: a.starts_at,
            ends_at: a.ends_at,
        }
    }
}

pub fn status_of(appointment: &appointments::Model) -> ApiResult<Status> {
    Status::parse(&appointment.status).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "unknown appointment status {}",
            appointment.status
        ))
    })
}

/// Takes the lock on `clinician`'s calendar until the transaction ends.
/// Must be the transaction's first statement: it is a write, so on SQLite
/// it takes the database's write lock before anything is read (a later
/// upgrade could fail instead of waiting), and on PostgreSQL it locks the
/// clinician's row so a concurrent booking waits for this one to commit.
pub async fn lock_calendar(
    txn: &impl ConnectionTrait,
    clinician: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    calendar_locks::Entity::insert(calendar_locks::ActiveModel {
        user_id: Set(clinician),
        locked_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(calendar_locks::Column::UserId)
            .update_column(calendar_locks::Column::LockedAt)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The clinician's appointments that hold time and overlap `slot` (the
/// half-open overlap of `Slot::overlaps`, in SQL), except `except`.
pub async fn overlapping(
    db: &impl ConnectionTrait,
    clinician: Uuid,
    slot: &Slot,
    except: Option<Uuid>,
) -> ApiResult<Vec<appointments::Model>> {
    let mut query = appointments::Entity::find()
        .filter(appointments::Column::ClinicianUserId.eq(clinician))
        .filter(appointments::Column::Status.ne(Status::Cancelled.as_str()))
        .filter(appointments::Column::StartsAt.lt(slot.ends_at))
        .filter(appointments::Column::EndsAt.gt(slot.starts_at));
    if let Some(id) = except {
        query = query.filter(appointments::Column::Id.ne(id));
    }
    let rows = query
        .order_by_asc(appointments::Column::StartsAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|a| slot.overlaps(&Slot::from(a)))
        .collect())
}

/// `CONFLICT` naming the first booking `slot` would overlap.
pub fn double_booked(existing: &[appointments::Model]) -> ApiResult<()> {
    match existing.first() {
        None => Ok(()),
        Some(a) => Err(ApiError::conflict(format!(
            "the clinician already has an appointment from {} to {}",
            a.starts_at.to_rfc3339(),
            a.ends_at.to_rfc3339()
        ))),
    }
}

/// Of `candidates`, the supporters linked to the patient who hold a current
/// `APPOINTMENTS` consent from them.
pub async fn eligible_family(
    db: &impl ConnectionTrait,
    patient: Uuid,
    candidates: &[Uuid],
) -> ApiResult<HashSet<Uuid>> {
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let linked: Vec<Uuid> = supporter_links::Entity::find()
        .select_only()
        .column(supporter_links::Column::SupporterUserId)
        .filter(supporter_links::Column::PatientId.eq(patient))
        .filter(supporter_links::Column::SupporterUserId.is_in(candidates.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    if linked.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(consents::Entity::find()
        .filter(consents::Column::PatientId.eq(patient))
        .filter(consents::Column::GranteeUserId.is_in(linked))
        .filter(consents::Column::RevokedAt.is_null())
        .filter(consents::Column::ExpiresAt.gt(Utc::now()))
        .all(db)
        .await?
        .into_iter()
        .filter(|c| ConsentCategory::decode(&c.categories).contains(&ConsentCategory::Appointments))
        .map(|c| c.grantee_user_id)
        .collect())
}

/// Inserts an appointment with its participants and first event.
pub async fn insert(
    db: &impl ConnectionTrait,
    appointment: appointments::ActiveModel,
    participants: &[Uuid],
) -> ApiResult<appointments::Model> {
    let appointment = appointment.insert(db).await?;
    if !participants.is_empty() {
        appointment_participants::Entity::insert_many(participants.iter().map(|user| {
            appointment_participants::ActiveModel {
                appointment_id: Set(appointment.id),
                user_id: Set(*user),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    record_event(
        db,
        &appointment,
        "SCHEDULED",
        None,
        None,
        appointment.created_by_user_id,
        appointment.created_at,
    )
    .await?;
    Ok(appointment)
}

/// Records a change (`kind`: SCHEDULED, RESCHEDULED or a status).
pub async fn record_event(
    db: &impl ConnectionTrait,
    appointment: &appointments::Model,
    kind: &str,
    reason: Option<&str>,
    previous: Option<Slot>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    appointment_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        appointment_id: Set(appointment.id),
        kind: Set(kind.to_owned()),
        reason: Set(reason.map(str::to_owned)),
        previous_starts_at: Set(previous.map(|s| s.starts_at)),
        previous_ends_at: Set(previous.map(|s| s.ends_at)),
        actor_user_id: Set(actor),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Applies `change` to a scheduled appointment, conditional on it still
/// being scheduled: a concurrent change makes this one `CONFLICT`.
pub async fn update_scheduled(
    db: &impl ConnectionTrait,
    appointment: Uuid,
    change: impl FnOnce(
        sea_orm::UpdateMany<appointments::Entity>,
    ) -> sea_orm::UpdateMany<appointments::Entity>,
    at: DateTime<Utc>,
) -> ApiResult<appointments::Model> {
    let update = appointments::Entity::update_many()
        .col_expr(appointments::Column::UpdatedAt, Expr::value(at))
        .filter(appointments::Column::Id.eq(appointment))
        .filter(appointments::Column::Status.eq(Status::Scheduled.as_str()));
    let done = change(update).exec(db).await?;
    if done.rows_affected != 1 {
        return Err(ApiError::conflict(
            "the appointment was changed meanwhile; reload it",
        ));
    }
    appointments::Entity::find_by_id(appointment)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("appointment"))
}

pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<appointments::Model>> {
    Ok(appointments::Entity::find_by_id(id).one(db).await?)
}

/// A patient's appointments starting in `[from, to)` (either end open), by
/// start time.
pub async fn of_patient(
    db: &impl ConnectionTrait,
    patient: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> ApiResult<Vec<appointments::Model>> {
    let mut query =
        appointments::Entity::find().filter(appointments::Column::PatientId.eq(patient));
    if let Some(from) = from {
        query = query.filter(appointments::Column::StartsAt.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(appointments::Column::StartsAt.lt(to));
    }
    Ok(query
        .order_by_asc(appointments::Column::StartsAt)
        .order_by_asc(appointments::Column::Id)
        .all(db)
        .await?)
}

/// The caller's own appointments that overlap `[from, to)`, limited in SQL
/// to patients they may see.
pub async fn agenda(
    db: &impl ConnectionTrait,
    principal: &Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_cancelled: bool,
) -> ApiResult<Vec<appointments::Model>> {
    let visible = Query::select()
        .column(patients::Column::Id)
        .from(patients::Entity)
        .cond_where(authz::visible_patients(principal))
        .to_owned();
    let mut condition = Condition::all()
        .add(appointments::Column::ClinicianUserId.eq(principal.user_id))
        .add(appointments::Column::OrganizationId.eq(principal.organization_id))
        .add(appointments::Column::StartsAt.lt(to))
        .add(appointments::Column::EndsAt.gt(from))
        .add(appointments::Column::PatientId.in_subquery(visible));
    if !include_cancelled {
        condition = condition.add(appointments::Column::Status.ne(Status::Cancelled.as_str()));
    }
    Ok(appointments::Entity::find()
        .filter(condition)
        .order_by_asc(appointments::Column::StartsAt)
        .order_by_asc(appointments::Column::Id)
        .all(db)
        .await?)
}

/// Family participants of each appointment, in one query.
pub async fn participants_of(
    db: &impl ConnectionTrait,
    appointments: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<Uuid>>> {
    if appointments.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = appointment_participants::Entity::find()
        .filter(appointment_participants::Column::AppointmentId.is_in(appointments.iter().copied()))
        .order_by_asc(appointment_participants::Column::UserId)
        .all(db)
        .await?;
    let mut by_appointment: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        by_appointment
            .entry(row.appointment_id)
            .or_default()
            .push(row.user_id);
    }
    Ok(by_appointment)
}

/// An appointment's changes, oldest first.
pub async fn events_of(
    db: &impl ConnectionTrait,
    appointment: Uuid,
) -> ApiResult<Vec<appointment_events::Model>> {
    Ok(appointment_events::Entity::find()
        .filter(appointment_events::Column::AppointmentId.eq(appointment))
        .order_by_asc(appointment_events::Column::At)
        .order_by_asc(appointment_events::Column::Id)
        .all(db)
        .await?)
}
