//! GraphQL surface of appointments: booking, rescheduling and closing a
//! session (care-team clinicians, in their own calendar), reading one
//! (`APPOINTMENTS` consent holders too), a clinician's agenda, and
//! `Patient.appointments`.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::{appointment_events, appointments, patients};

use super::{
    appointment_store::{self, AppointmentRecord, NewAppointment},
    booking::{self, AppointmentKind, Slot, Status},
    validation as care_validation,
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    auth::Role,
    authz::{ConsentCategory, Need, Relationship},
    calendar,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    patients::Patient,
    validation::{self, REASON_MAX},
};

const APPOINTMENT: Kind = Kind::new("Appointment", "appointment");
const READ: Action = APPOINTMENT.action("appointment.read");
const SCHEDULE: Action = APPOINTMENT.action("appointment.schedule");
const RESCHEDULE: Action = APPOINTMENT.action("appointment.reschedule");
const SET_STATUS: Action = APPOINTMENT.action("appointment.setStatus");
const AGENDA: Action = APPOINTMENT.action("appointment.agenda");

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Status")]
pub enum AppointmentStatus {
    Scheduled,
    Completed,
    NoShow,
    Cancelled,
}

/// A session between a clinician and a patient, as one viewer sees it.
/// Times are UTC; clients show them in the viewer's time zone.
pub struct Appointment {
    pub model: appointments::Model,
    pub patient: patients::Model,
    pub relationship: Relationship,
    pub participants: Vec<Uuid>,
}

impl From<AppointmentRecord> for Appointment {
    fn from(record: AppointmentRecord) -> Self {
        Self {
            model: record.model,
            patient: record.patient,
            relationship: record.relationship,
            participants: record.participants,
        }
    }
}

#[Object]
impl Appointment {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn kind(&self) -> async_graphql::Result<AppointmentKind> {
        Ok(AppointmentKind::from_row(&self.model.kind)?)
    }
    async fn status(&self) -> async_graphql::Result<AppointmentStatus> {
        Ok(Status::from_row(&self.model.status)?.into())
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.model.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.model.ends_at
    }
    #[graphql(name = "virtual")]
    async fn is_virtual(&self) -> bool {
        self.model.is_virtual
    }
    async fn location(&self) -> Option<&str> {
        self.model.location.as_deref()
    }
    async fn meeting_url(&self) -> Option<&str> {
        self.model.meeting_url.as_deref()
    }
    /// Why it was cancelled (or the reason given with another status).
    async fn status_reason(&self) -> Option<&str> {
        self.model.status_reason.as_deref()
    }
    async fn clinician(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.model.clinician_user_id).await
    }
    async fn patient(&self) -> Patient {
        Patient {
            model: self.patient.clone(),
            relationship: self.relationship.clone(),
        }
    }
    /// Supporters joining the session (family therapy).
    async fn family_participants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let found = ctx
            .loaders()?
            .users
            .load_many(self.participants.iter().copied())
            .await?;
        Ok(self
            .participants
            .iter()
            .filter_map(|id| found.get(id).cloned().map(User::new))
            .collect())
    }
    /// Every change, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AppointmentChange>> {
        let rows = appointment_store::events_of(ctx.db()?, self.model.id).await?;
        Ok(rows.into_iter().map(AppointmentChange).collect())
    }
}

/// A change to an appointment: who, when, why.
pub struct AppointmentChange(appointment_events::Model);

#[Object]
impl AppointmentChange {
    /// SCHEDULED, RESCHEDULED, COMPLETED, NO_SHOW or CANCELLED.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// For a reschedule, the times before it.
    async fn previous_starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_starts_at
    }
    async fn previous_ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_ends_at
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.0.actor_user_id).await
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

#[derive(InputObject)]
pub struct ScheduleAppointmentInput {
    pub patient_id: Uuid,
    pub kind: AppointmentKind,
    pub starts_at: DateTime<Utc>,
    /// After `startsAt`, at most 12 hours later.
    pub ends_at: DateTime<Utc>,
    /// A virtual session needs `meetingUrl`; an in-person one `location`.
    #[graphql(name = "virtual")]
    pub is_virtual: bool,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    /// Supporters linked to the patient who hold the patient's
    /// `APPOINTMENTS` consent.
    pub family_participant_ids: Option<Vec<Uuid>>,
}

#[derive(SimpleObject)]
pub struct ScheduleAppointmentPayload {
    pub appointment: Appointment,
}

#[derive(InputObject)]
pub struct RescheduleAppointmentInput {
    pub appointment_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct RescheduleAppointmentPayload {
    pub appointment: Appointment,
}

#[derive(InputObject)]
pub struct SetAppointmentStatusInput {
    pub appointment_id: Uuid,
    /// COMPLETED or NO_SHOW once it has begun; CANCELLED with a reason.
    pub status: AppointmentStatus,
    /// Required to cancel.
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct SetAppointmentStatusPayload {
    pub appointment: Appointment,
}

#[derive(Default)]
pub struct AppointmentsQuery;

#[Object]
impl AppointmentsQuery {
    /// One appointment, if the caller may read its patient's appointments
    /// (else `NOT_FOUND`).
    async fn appointment(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Option<Appointment>> {
        let caller = ctx.caller().await?;
        let need = Need::Read(ConsentCategory::Appointments);
        Ok(Some(authorized(&caller, id, need, READ).await?))
    }

    /// The caller's own appointments (clinicians) that overlap `[from, to)`
    /// — at most 93 days — by start time; cancelled ones only on request.
    async fn my_agenda(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        include_cancelled: Option<bool>,
    ) -> async_graphql::Result<Vec<Appointment>> {
        let caller = ctx.caller().await?;
        Ok(agenda(&caller, from, to, include_cancelled.unwrap_or(false)).await?)
    }
}

#[derive(Default)]
pub struct AppointmentsMutation;

#[Object]
impl AppointmentsMutation {
    /// A care-team clinician books a session with the patient in their own
    /// calendar; overlapping their other sessions is `CONFLICT`.
    async fn schedule_appointment(
        &self,
        ctx: &Context<'_>,
        input: ScheduleAppointmentInput,
    ) -> async_graphql::Result<ScheduleAppointmentPayload> {
        let caller = ctx.caller().await?;
        Ok(ScheduleAppointmentPayload {
            appointment: schedule(&caller, input).await?,
        })
    }

    /// Moves a scheduled appointment to another time (same rules as
    /// booking it).
    async fn reschedule_appointment(
        &self,
        ctx: &Context<'_>,
        input: RescheduleAppointmentInput,
    ) -> async_graphql::Result<RescheduleAppointmentPayload> {
        let caller = ctx.caller().await?;
        Ok(RescheduleAppointmentPayload {
            appointment: reschedule(&caller, input).await?,
        })
    }

    /// Records how a scheduled appointment went: COMPLETED, NO_SHOW, or
    /// CANCELLED with a reason.
    async fn set_appointment_status(
        &self,
        ctx: &Context<'_>,
        input: SetAppointmentStatusInput,
    ) -> async_graphql::Result<SetAppointmentStatusPayload> {
        let caller = ctx.caller().await?;
        Ok(SetAppointmentStatusPayload {
            appointment: set_status(&caller, input).await?,
        })
    }
}

/// Loads an appointment and checks the caller may act on its patient for
/// `need`. Unknown appointments and invisible patients are both `NOT_FOUND`.
async fn authorized(
    caller: &Caller,
    id: Uuid,
    need: Need,
    action: Action,
) -> ApiResult<Appointment> {
    let row = appointment_store::load(caller.db(), id).await?;
    let (model, access) = caller
        .child(id, row, |a| a.patient_id, need, action)
        .await?;
    let participants = appointment_store::participants_of(caller.db(), &[model.id])
        .await?
        .remove(&model.id)
        .unwrap_or_default();
    Ok(Appointment {
        model,
        patient: access.patient,
        relationship: access.relationship,
        participants,
    })
}

async fn schedule(caller: &Caller, input: ScheduleAppointmentInput) -> ApiResult<Appointment> {
    caller.require(&[Role::Clinician], SCHEDULE)?;
    let access = caller
        .patient(input.patient_id, Need::ClinicalWrite, SCHEDULE)
        .await?;
    let now = Utc::now();
    let slot = Slot::new(calendar::APPOINTMENT, input.starts_at, input.ends_at, now)?;
    let venue = booking::venue(
        input.is_virtual,
        input.location.as_deref(),
        input.meeting_url.as_deref(),
    )?;
    let family =
        care_validation::family_participants(input.family_participant_ids.unwrap_or_default())?;
    let eligible =
        appointment_store::eligible_family(caller.db(), access.patient.id, &family).await?;
    if family.iter().any(|id| !eligible.contains(id)) {
        return Err(ApiError::bad_input(
            "familyParticipantIds",
            "each family participant must be a supporter of the patient with their APPOINTMENTS consent",
        ));
    }
    let new = NewAppointment {
        patient: &access.patient,
        kind: input.kind,
        slot,
        venue,
        family: &family,
    };
    let model = appointment_store::schedule(caller, new, now).await?;
    Ok(Appointment {
        model,
        patient: access.patient,
        relationship: access.relationship,
        participants: family,
    })
}

async fn reschedule(caller: &Caller, input: RescheduleAppointmentInput) -> ApiResult<Appointment> {
    caller.require(&[Role::Clinician], RESCHEDULE)?;
    let current = authorized(
        caller,
        input.appointment_id,
        Need::ClinicalWrite,
        RESCHEDULE,
    )
    .await?;
    booking::can_reschedule(Status::from_row(&current.model.status)?)
        .map_err(ApiError::conflict)?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let now = Utc::now();
    let slot = Slot::new(calendar::APPOINTMENT, input.starts_at, input.ends_at, now)?;
    if slot == Slot::from(&current.model) {
        return Ok(current);
    }
    let model =
        appointment_store::reschedule(caller, &current.model, slot, reason.as_deref(), now).await?;
    Ok(Appointment { model, ..current })
}

async fn set_status(caller: &Caller, input: SetAppointmentStatusInput) -> ApiResult<Appointment> {
    caller.require(&[Role::Clinician], SET_STATUS)?;
    let current = authorized(
        caller,
        input.appointment_id,
        Need::ClinicalWrite,
        SET_STATUS,
    )
    .await?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let now = Utc::now();
    let target = booking::set_status(
        Status::from_row(&current.model.status)?,
        input.status.into(),
        current.model.starts_at,
        now,
        reason.is_some(),
    )?;
    let model =
        appointment_store::set_status(caller, current.model.id, target, reason.as_deref(), now)
            .await?;
    Ok(Appointment { model, ..current })
}

/// The caller's own sessions in `[from, to)`, each read audited.
async fn agenda(
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_cancelled: bool,
) -> ApiResult<Vec<Appointment>> {
    caller.require(&[Role::Clinician], AGENDA)?;
    care_validation::agenda_window(from, to)?;
    let db = caller.db();
    let rows =
        appointment_store::agenda(db, caller.principal(), from, to, include_cancelled).await?;
    caller.record_all(
        rows.iter()
            .map(|a| caller.event(AGENDA).resource(a.id).patient(a.patient_id)),
    );
    let records = appointment_store::with_patients(db, caller.principal(), rows).await?;
    Ok(records.into_iter().map(Appointment::from).collect())
}

/// `Patient.appointments` starting in `[from, to)`, once the `Patient` type
/// has checked (and audited) that the viewer may read them.
pub async fn of_patient(
    ctx: &Context<'_>,
    patient: &Patient,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> ApiResult<Vec<Appointment>> {
    care_validation::window(from, to)?;
    let db = ctx.db()?;
    let rows = appointment_store::of_patient(db, patient.model.id, from, to).await?;
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let mut participants = appointment_store::participants_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| Appointment {
            participants: participants.remove(&model.id).unwrap_or_default(),
            model,
            patient: patient.model.clone(),
            relationship: patient.relationship.clone(),
        })
        .collect())
}
