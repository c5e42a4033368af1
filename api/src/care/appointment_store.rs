//! Appointments in the database: booking a clinician's time under a lock on
//! their calendar, the overlap query behind "no double-booking", family
//! participants, status and time changes with their history (each write in
//! one transaction), and the queries behind a patient's appointments and a
//! clinician's agenda.

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

use super::booking::{AppointmentKind, Slot, Status, Venue};
use crate::{
    auth::Principal,
    authz::{ConsentCategory, Relationship, policy},
    caller::Caller,
    error::{ApiError, ApiResult},
};

/// The history entry of a move to another time (the other entries are
/// named by the status they record).
const RESCHEDULED: &str = "RESCHEDULED";

/// An appointment with its patient, how a viewer stands to them, and its
/// family participants.
#[derive(Debug, Clone)]
pub struct AppointmentRecord {
    pub model: appointments::Model,
    pub patient: patients::Model,
    pub relationship: Relationship,
    pub participants: Vec<Uuid>,
}

/// A checked appointment to book in the caller's calendar.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    pub patient: &'a patients::Model,
    pub kind: AppointmentKind,
    pub slot: Slot,
    pub venue: Venue,
    pub family: &'a [Uuid],
}

impl From<&appointments::Model> for Slot {
    fn from(a: &appointments::Model) -> Self {
        Slot {
            starts_at: a.starts_at,
            ends_at: a.ends_at,
        }
    }
}

/// Takes the lock on `clinician`'s calendar until the transaction ends.
/// Must be the transaction's first statement: it is a write, so on SQLite
/// it takes the database's write lock before anything is read (a later
/// upgrade could fail instead of waiting), and on PostgreSQL it locks the
/// clinician's row so a concurrent booking waits for this one to commit.
async fn lock_calendar(
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
async fn overlapping(
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
fn double_booked(existing: &[appointments::Model]) -> ApiResult<()> {
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

/// Books `new` in the caller's calendar with its participants and first
/// event, in one transaction; overlapping another of their sessions is
/// `CONFLICT`.
pub async fn schedule(
    caller: &Caller,
    new: NewAppointment<'_>,
    now: DateTime<Utc>,
) -> ApiResult<appointments::Model> {
    let clinician = caller.user_id();
    let txn = caller.begin().await?;
    lock_calendar(&txn, clinician, now).await?;
    double_booked(&overlapping(&txn, clinician, &new.slot, None).await?)?;
    let model = insert(
        &txn,
        appointments::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(new.patient.organization_id),
            patient_id: Set(new.patient.id),
            clinician_user_id: Set(clinician),
            kind: Set(new.kind.as_str().to_owned()),
            status: Set(Status::Scheduled.as_str().to_owned()),
            starts_at: Set(new.slot.starts_at),
            ends_at: Set(new.slot.ends_at),
            is_virtual: Set(new.venue.is_virtual),
            location: Set(new.venue.location),
            meeting_url: Set(new.venue.meeting_url),
            status_reason: Set(None),
            created_by_user_id: Set(clinician),
            created_at: Set(now),
            updated_at: Set(now),
        },
        new.family,
    )
    .await?;
    caller.commit(txn).await?;
    Ok(model)
}

/// Moves a scheduled appointment to `slot` under the lock on its
/// clinician's calendar, recording the times before, in one transaction.
pub async fn reschedule(
    caller: &Caller,
    current: &appointments::Model,
    slot: Slot,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<appointments::Model> {
    let clinician = current.clinician_user_id;
    let txn = caller.begin().await?;
    lock_calendar(&txn, clinician, now).await?;
    double_booked(&overlapping(&txn, clinician, &slot, Some(current.id)).await?)?;
    let model = update_scheduled(
        &txn,
        current.id,
        |update| {
            update
                .col_expr(appointments::Column::StartsAt, Expr::value(slot.starts_at))
                .col_expr(appointments::Column::EndsAt, Expr::value(slot.ends_at))
        },
        now,
    )
    .await?;
    let previous = Slot::from(current);
    let event = Event::new(RESCHEDULED, reason, caller.user_id(), now).previous(previous);
    record_event(&txn, &model, &event).await?;
    caller.commit(txn).await?;
    Ok(model)
}

/// Sets a scheduled appointment's status (and its reason), recording the
/// change, in one transaction.
pub async fn set_status(
    caller: &Caller,
    appointment: Uuid,
    target: Status,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<appointments::Model> {
    let txn = caller.begin().await?;
    let model = update_scheduled(
        &txn,
        appointment,
        |update| {
            update
                .col_expr(appointments::Column::Status, Expr::value(target.as_str()))
                .col_expr(
                    appointments::Column::StatusReason,
                    Expr::value(reason.map(str::to_owned)),
                )
        },
        now,
    )
    .await?;
    let event = Event::new(target.as_str(), reason, caller.user_id(), now);
    record_event(&txn, &model, &event).await?;
    caller.commit(txn).await?;
    Ok(model)
}

/// Inserts an appointment with its participants and first event.
async fn insert(
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
    let first = Event::new(
        Status::Scheduled.as_str(),
        None,
        appointment.created_by_user_id,
        appointment.created_at,
    );
    record_event(db, &appointment, &first).await?;
    Ok(appointment)
}

/// A change to record: SCHEDULED, RESCHEDULED (with the times before) or
/// the status set.
struct Event<'a> {
    kind: &'a str,
    reason: Option<&'a str>,
    previous: Option<Slot>,
    actor: Uuid,
    at: DateTime<Utc>,
}

impl<'a> Event<'a> {
    fn new(kind: &'a str, reason: Option<&'a str>, actor: Uuid, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            reason,
            previous: None,
            actor,
            at,
        }
    }

    fn previous(self, slot: Slot) -> Self {
        Self {
            previous: Some(slot),
            ..self
        }
    }
}

async fn record_event(
    db: &impl ConnectionTrait,
    appointment: &appointments::Model,
    event: &Event<'_>,
) -> ApiResult<()> {
    appointment_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        appointment_id: Set(appointment.id),
        kind: Set(event.kind.to_owned()),
        reason: Set(event.reason.map(str::to_owned)),
        previous_starts_at: Set(event.previous.map(|s| s.starts_at)),
        previous_ends_at: Set(event.previous.map(|s| s.ends_at)),
        actor_user_id: Set(event.actor),
        at: Set(event.at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Applies `change` to a scheduled appointment, conditional on it still
/// being scheduled: a concurrent change makes this one `CONFLICT`.
async fn update_scheduled(
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
        .cond_where(policy::visible_patients(principal))
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

/// Appointments with their patients as `principal` stands to them and their
/// participants, in three queries whatever their number.
pub async fn with_patients(
    db: &impl ConnectionTrait,
    principal: &Principal,
    rows: Vec<appointments::Model>,
) -> ApiResult<Vec<AppointmentRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let patient_rows = patients::Entity::find()
        .filter(patients::Column::Id.is_in(rows.iter().map(|a| a.patient_id)))
        .all(db)
        .await?;
    let relationships = policy::relationships(db, principal, &patient_rows).await?;
    let patients: HashMap<Uuid, patients::Model> =
        patient_rows.into_iter().map(|p| (p.id, p)).collect();
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let mut participants = participants_of(db, &ids).await?;
    rows.into_iter()
        .map(|model| {
            let patient = patients.get(&model.patient_id).cloned().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("appointment without patient"))
            })?;
            let relationship = relationships.get(&patient.id).cloned().unwrap_or_default();
            Ok(AppointmentRecord {
                participants: participants.remove(&model.id).unwrap_or_default(),
                model,
                patient,
                relationship,
            })
        })
        .collect()
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
