//! GraphQL surface of care: programs (admins), enrollments and their phases,
//! appointments and a clinician's agenda, clinical notes, and the recovery
//! plan, plus the `Patient` fields that read them.
//!
//! Who may do what (decided by `authz`): admins create programs; the care
//! team or an admin enrolls and moves enrollments; care-team clinicians
//! book appointments and write notes; the patient or the care team edit the
//! recovery plan. `APPOINTMENTS` consent holders read appointments,
//! `CARE_PLAN` holders the plan; notes are the care team's alone.

use std::collections::HashMap;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::Expr};
use uuid::Uuid;

use entity::{
    appointment_events, appointments, clinical_notes, enrollment_events, patients, programs,
};

use super::{
    appointments as store,
    booking::{self, Slot, Status},
    care_plans::{self, Content},
    notes,
    phases::{self, Phase, PhaseError},
    programs::{self as program_store, EnrollmentRecord, PhaseChange},
    validation as care_validation,
};
use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    auth::{Principal, Role},
    authz::{self, ConsentCategory, Need, Relationship},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    patients::Patient,
    patients::patient_store::timezone as patient_timezone,
    tapering::lifecycle::today_in,
    validation::{self, text},
};

const REASON_MAX: usize = 1000;
const AFTERCARE_PLAN_MAX: usize = 5000;
const DESCRIPTION_MAX: usize = 5000;
/// The longest window `myAgenda` answers for.
const AGENDA_MAX_DAYS: i64 = 93;

fn stored<T>(value: Option<T>, what: &str, raw: &str) -> ApiResult<T> {
    value.ok_or_else(|| ApiError::internal(anyhow::anyhow!("unknown stored {what} {raw}")))
}

async fn users(ctx: &Context<'_>, ids: &[Uuid]) -> async_graphql::Result<Vec<User>> {
    let found = ctx.loaders()?.users.load_many(ids.iter().copied()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id).cloned().map(User::new))
        .collect())
}

// ----- enums -----

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramModality {
    Outpatient,
    IntensiveOutpatient,
    Inpatient,
}

impl ProgramModality {
    fn as_str(self) -> &'static str {
        match self {
            Self::Outpatient => "OUTPATIENT",
            Self::IntensiveOutpatient => "INTENSIVE_OUTPATIENT",
            Self::Inpatient => "INPATIENT",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OUTPATIENT" => Self::Outpatient,
            "INTENSIVE_OUTPATIENT" => Self::IntensiveOutpatient,
            "INPATIENT" => Self::Inpatient,
            _ => return None,
        })
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Phase")]
pub enum EnrollmentPhase {
    Intake,
    Active,
    Aftercare,
    Discharged,
}

/// What kind of session an appointment is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentKind {
    IndividualCbt,
    IndividualDbt,
    FamilyTherapy,
    GroupCounseling,
    Medical,
    FollowUp,
    /// Multimodal pain care: physiotherapy.
    PhysicalTherapy,
    /// Multimodal pain care: acupuncture, massage.
    ComplementaryTherapy,
}

impl AppointmentKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::IndividualCbt => "INDIVIDUAL_CBT",
            Self::IndividualDbt => "INDIVIDUAL_DBT",
            Self::FamilyTherapy => "FAMILY_THERAPY",
            Self::GroupCounseling => "GROUP_COUNSELING",
            Self::Medical => "MEDICAL",
            Self::FollowUp => "FOLLOW_UP",
            Self::PhysicalTherapy => "PHYSICAL_THERAPY",
            Self::ComplementaryTherapy => "COMPLEMENTARY_THERAPY",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "INDIVIDUAL_CBT" => Self::IndividualCbt,
            "INDIVIDUAL_DBT" => Self::IndividualDbt,
            "FAMILY_THERAPY" => Self::FamilyTherapy,
            "GROUP_COUNSELING" => Self::GroupCounseling,
            "MEDICAL" => Self::Medical,
            "FOLLOW_UP" => Self::FollowUp,
            "PHYSICAL_THERAPY" => Self::PhysicalTherapy,
            "COMPLEMENTARY_THERAPY" => Self::ComplementaryTherapy,
            _ => return None,
        })
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Status")]
pub enum AppointmentStatus {
    Scheduled,
    Completed,
    NoShow,
    Cancelled,
}

// ----- programs -----

/// A treatment program of the organization.
pub struct Program(pub programs::Model);

#[Object]
impl Program {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn modality(&self) -> async_graphql::Result<ProgramModality> {
        Ok(stored(
            ProgramModality::parse(&self.0.modality),
            "modality",
            &self.0.modality,
        )?)
    }
    /// From 1 to 104.
    async fn duration_weeks(&self) -> i32 {
        self.0.duration_weeks
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The kinds of session the program includes (CBT, DBT, family
    /// therapy, group counselling, medical, pain care…).
    async fn therapy_kinds(&self) -> Vec<AppointmentKind> {
        self.0
            .therapy_kinds
            .split(',')
            .filter_map(AppointmentKind::parse)
            .collect()
    }
    /// Group sessions a participant is expected to attend each week.
    async fn group_sessions_per_week(&self) -> Option<i32> {
        self.0.group_sessions_per_week
    }
    /// How often the care team follows up, in days.
    async fn follow_up_every_days(&self) -> Option<i32> {
        self.0.follow_up_every_days
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct CreateProgramInput {
    /// Unique within the organization; 1–200 characters.
    pub name: String,
    pub modality: ProgramModality,
    /// From 1 to 104.
    pub duration_weeks: i32,
    pub description: String,
    /// The kinds of session the program includes.
    pub therapy_kinds: Option<Vec<AppointmentKind>>,
    /// Group sessions expected per week (0–21).
    pub group_sessions_per_week: Option<i32>,
    /// Follow-up cadence in days (1–365).
    pub follow_up_every_days: Option<i32>,
}

#[derive(SimpleObject)]
pub struct CreateProgramPayload {
    pub program: Program,
}

// ----- enrollments -----

/// A patient's enrollment in a program, as one viewer sees it.
pub struct Enrollment {
    pub record: EnrollmentRecord,
    pub patient: patients::Model,
    pub relationship: Relationship,
}

#[Object]
impl Enrollment {
    async fn id(&self) -> Uuid {
        self.record.enrollment.id
    }
    async fn program(&self) -> Program {
        Program(self.record.program.clone())
    }
    async fn phase(&self) -> async_graphql::Result<EnrollmentPhase> {
        Ok(self.record.phase()?.into())
    }
    async fn starts_on(&self) -> Date {
        self.record.enrollment.starts_on.into()
    }
    /// `startsOn` + the program's duration in weeks.
    async fn expected_end_on(&self) -> Date {
        self.record.enrollment.expected_end_on.into()
    }
    /// The aftercare follow-up plan, once set (entering aftercare or at
    /// discharge).
    async fn aftercare_plan(&self) -> Option<&str> {
        self.record.enrollment.aftercare_plan.as_deref()
    }
    async fn discharged_at(&self) -> Option<DateTime<Utc>> {
        self.record.enrollment.discharged_at
    }
    async fn discharge_reason(&self) -> Option<&str> {
        self.record.enrollment.discharge_reason.as_deref()
    }
    async fn patient(&self) -> Patient {
        Patient {
            model: self.patient.clone(),
            relationship: self.relationship.clone(),
        }
    }
    /// Every phase change, oldest first (the first is the enrollment).
    async fn history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<EnrollmentPhaseChange>> {
        let rows = program_store::events_of(ctx.db()?, self.record.enrollment.id).await?;
        Ok(rows.into_iter().map(EnrollmentPhaseChange).collect())
    }
}

/// A phase change of an enrollment: who, when, why.
pub struct EnrollmentPhaseChange(enrollment_events::Model);

#[Object]
impl EnrollmentPhaseChange {
    /// Null for the enrollment itself.
    async fn from_phase(&self) -> Option<EnrollmentPhase> {
        self.0
            .from_phase
            .as_deref()
            .and_then(Phase::parse)
            .map(Into::into)
    }
    async fn to_phase(&self) -> async_graphql::Result<EnrollmentPhase> {
        Ok(stored(Phase::parse(&self.0.to_phase), "phase", &self.0.to_phase)?.into())
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn aftercare_plan(&self) -> Option<&str> {
        self.0.aftercare_plan.as_deref()
    }
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.0.actor_user_id).await
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

#[derive(InputObject)]
pub struct EnrollPatientInput {
    pub program_id: Uuid,
    pub patient_id: Uuid,
    /// Within a year either side of today.
    pub starts_on: Date,
}

#[derive(SimpleObject)]
pub struct EnrollPatientPayload {
    pub enrollment: Enrollment,
}

#[derive(InputObject)]
pub struct AdvanceEnrollmentInput {
    pub enrollment_id: Uuid,
    /// A later phase (phases may be skipped, never revisited).
    pub phase: EnrollmentPhase,
    /// Required to discharge.
    pub reason: Option<String>,
    /// The aftercare follow-up plan, when entering AFTERCARE or DISCHARGED.
    pub aftercare_plan: Option<String>,
}

#[derive(SimpleObject)]
pub struct AdvanceEnrollmentPayload {
    pub enrollment: Enrollment,
}

// ----- appointments -----

/// A session between a clinician and a patient, as one viewer sees it.
/// Times are UTC; clients show them in the viewer's time zone.
pub struct Appointment {
    pub model: appointments::Model,
    pub patient: patients::Model,
    pub relationship: Relationship,
    pub participants: Vec<Uuid>,
}

#[Object]
impl Appointment {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn kind(&self) -> async_graphql::Result<AppointmentKind> {
        Ok(stored(
            AppointmentKind::parse(&self.model.kind),
            "kind",
            &self.model.kind,
        )?)
    }
    async fn status(&self) -> async_graphql::Result<AppointmentStatus> {
        Ok(store::status_of(&self.model)?.into())
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
        users(ctx, &self.participants).await
    }
    /// Every change, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AppointmentChange>> {
        let rows = store::events_of(ctx.db()?, self.model.id).await?;
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

// ----- clinical notes -----

/// A clinician's note. Never edited: an amendment is a new note.
pub struct ClinicalNote(pub clinical_notes::Model);

#[Object]
impl ClinicalNote {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.0.author_user_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The appointment it records, if any.
    async fn appointment_id(&self) -> Option<Uuid> {
        self.0.appointment_id
    }
    /// The note this one amends, if it is an amendment.
    async fn amends_note_id(&self) -> Option<Uuid> {
        self.0.amends_note_id
    }
}

#[derive(InputObject)]
pub struct AddClinicalNoteInput {
    pub patient_id: Uuid,
    /// One of this patient's appointments.
    pub appointment_id: Option<Uuid>,
    /// 1–20,000 characters.
    pub body: String,
    /// Makes the note an amendment of this earlier note of the patient's.
    pub amends_note_id: Option<Uuid>,
}

#[derive(SimpleObject)]
pub struct AddClinicalNotePayload {
    pub note: ClinicalNote,
}

// ----- the recovery plan -----

/// The patient's recovery plan. A patient without one yet has an empty plan
/// (version 0, `updatedAt` null).
pub struct CarePlan {
    pub content: Content,
    pub version: i32,
    pub updated_at: Option<DateTime<Utc>>,
    /// The last editor, when the viewer may know them.
    pub updated_by: Option<Uuid>,
}

/// Who edited a recovery plan, as `viewer` may know it: the patient
/// themselves always; a care-team member only to those who may see the care
/// team (consent holders are not told who treats the patient).
fn disclosed_editor(
    editor: Uuid,
    patient: &patients::Model,
    viewer: &Relationship,
) -> Option<Uuid> {
    (editor == patient.user_id || viewer.allows(Need::CareTeam)).then_some(editor)
}

impl CarePlan {
    fn of(
        plan: Option<entity::care_plans::Model>,
        patient: &patients::Model,
        viewer: &Relationship,
    ) -> ApiResult<Self> {
        match plan {
            None => Ok(Self {
                content: Content::default(),
                version: 0,
                updated_at: None,
                updated_by: None,
            }),
            Some(plan) => Ok(Self {
                content: Content::of_plan(&plan)?,
                version: plan.version,
                updated_at: Some(plan.updated_at),
                updated_by: disclosed_editor(plan.updated_by_user_id, patient, viewer),
            }),
        }
    }
}

#[Object]
impl CarePlan {
    async fn triggers(&self) -> &[String] {
        &self.content.triggers
    }
    async fn coping_strategies(&self) -> &[String] {
        &self.content.coping_strategies
    }
    async fn warning_signs(&self) -> &[String] {
        &self.content.warning_signs
    }
    /// People to call (names, numbers), in the patient's words.
    async fn support_contacts(&self) -> &[String] {
        &self.content.support_contacts
    }
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    /// Who made the last edit: null before the first, and for consent
    /// holders when it was the care team.
    async fn updated_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.updated_by {
            Some(id) => Ok(Some(User::by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Counts edits; pass it back as `expectedVersion` to detect an edit
    /// made elsewhere meanwhile.
    async fn version(&self) -> i32 {
        self.version
    }
}

/// The full plan as one edit left it.
pub struct CarePlanRevision {
    pub content: Content,
    pub model: entity::care_plan_revisions::Model,
    /// The editor, when the viewer may know them.
    pub edited_by: Option<Uuid>,
}

#[Object]
impl CarePlanRevision {
    async fn version(&self) -> i32 {
        self.model.version
    }
    async fn triggers(&self) -> &[String] {
        &self.content.triggers
    }
    async fn coping_strategies(&self) -> &[String] {
        &self.content.coping_strategies
    }
    async fn warning_signs(&self) -> &[String] {
        &self.content.warning_signs
    }
    async fn support_contacts(&self) -> &[String] {
        &self.content.support_contacts
    }
    /// Who made the edit; null for consent holders when it was the care
    /// team.
    async fn edited_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.edited_by {
            Some(id) => Ok(Some(User::by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    async fn edited_at(&self) -> DateTime<Utc> {
        self.model.edited_at
    }
}

#[derive(InputObject)]
pub struct UpdateCarePlanInput {
    pub patient_id: Uuid,
    /// Each list: at most 50 items of 1–500 characters, in the order given.
    pub triggers: Vec<String>,
    pub coping_strategies: Vec<String>,
    pub warning_signs: Vec<String>,
    pub support_contacts: Vec<String>,
    /// The `version` the edit started from: `CONFLICT` if the plan has
    /// changed since. Not given: the edit replaces whatever is there.
    pub expected_version: Option<i32>,
}

#[derive(SimpleObject)]
pub struct UpdateCarePlanPayload {
    pub care_plan: CarePlan,
}

// ----- roots -----

#[derive(Default)]
pub struct CareQuery;

#[Object]
impl CareQuery {
    /// The organization's treatment programs, by name (any signed-in user).
    async fn programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Program>> {
        let principal = ctx.principal().await?;
        let rows = program_store::programs_of(ctx.db()?, principal.organization_id).await?;
        Ok(rows.into_iter().map(Program).collect())
    }

    /// One appointment, if the caller may read its patient's appointments
    /// (else `NOT_FOUND`).
    async fn appointment(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Appointment> {
        let principal = ctx.principal().await?;
        Ok(authorized_appointment(
            ctx,
            principal,
            id,
            Need::Read(ConsentCategory::Appointments),
            "appointment.read",
        )
        .await?)
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
        Ok(agenda(ctx, from, to, include_cancelled.unwrap_or(false)).await?)
    }
}

#[derive(Default)]
pub struct CareMutation;

#[Object]
impl CareMutation {
    /// An admin creates a treatment program for the organization.
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        input: CreateProgramInput,
    ) -> async_graphql::Result<CreateProgramPayload> {
        Ok(CreateProgramPayload {
            program: create_program(ctx, input).await?,
        })
    }

    /// The care team or an admin enrolls a patient in a program (in
    /// INTAKE; one open enrollment per patient and program).
    async fn enroll_patient(
        &self,
        ctx: &Context<'_>,
        input: EnrollPatientInput,
    ) -> async_graphql::Result<EnrollPatientPayload> {
        Ok(EnrollPatientPayload {
            enrollment: enroll(ctx, input).await?,
        })
    }

    /// Moves an enrollment forward (INTAKE → ACTIVE → AFTERCARE →
    /// DISCHARGED); a discharge needs a reason.
    async fn advance_enrollment(
        &self,
        ctx: &Context<'_>,
        input: AdvanceEnrollmentInput,
    ) -> async_graphql::Result<AdvanceEnrollmentPayload> {
        Ok(AdvanceEnrollmentPayload {
            enrollment: advance(ctx, input).await?,
        })
    }

    /// A care-team clinician books a session with the patient in their own
    /// calendar; overlapping their other sessions is `CONFLICT`.
    async fn schedule_appointment(
        &self,
        ctx: &Context<'_>,
        input: ScheduleAppointmentInput,
    ) -> async_graphql::Result<ScheduleAppointmentPayload> {
        Ok(ScheduleAppointmentPayload {
            appointment: schedule(ctx, input).await?,
        })
    }

    /// Moves a scheduled appointment to another time (same rules as
    /// booking it).
    async fn reschedule_appointment(
        &self,
        ctx: &Context<'_>,
        input: RescheduleAppointmentInput,
    ) -> async_graphql::Result<RescheduleAppointmentPayload> {
        Ok(RescheduleAppointmentPayload {
            appointment: reschedule(ctx, input).await?,
        })
    }

    /// Records how a scheduled appointment went: COMPLETED, NO_SHOW, or
    /// CANCELLED with a reason.
    async fn set_appointment_status(
        &self,
        ctx: &Context<'_>,
        input: SetAppointmentStatusInput,
    ) -> async_graphql::Result<SetAppointmentStatusPayload> {
        Ok(SetAppointmentStatusPayload {
            appointment: set_status(ctx, input).await?,
        })
    }

    /// A care-team clinician adds a note (or an amendment of one).
    async fn add_clinical_note(
        &self,
        ctx: &Context<'_>,
        input: AddClinicalNoteInput,
    ) -> async_graphql::Result<AddClinicalNotePayload> {
        Ok(AddClinicalNotePayload {
            note: add_note(ctx, input).await?,
        })
    }

    /// The patient or the care team replace the recovery plan's content;
    /// the previous content stays in its history.
    async fn update_care_plan(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarePlanInput,
    ) -> async_graphql::Result<UpdateCarePlanPayload> {
        Ok(UpdateCarePlanPayload {
            care_plan: update_care_plan(ctx, input).await?,
        })
    }
}

// ----- resolvers' work -----

async fn create_program(ctx: &Context<'_>, input: CreateProgramInput) -> ApiResult<Program> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Admin],
        "program.create",
        "Program",
    )
    .await?;
    let name = text("name", &input.name, 200)?;
    if !phases::DURATION_WEEKS.contains(&input.duration_weeks) {
        return Err(ApiError::bad_input(
            "durationWeeks",
            "durationWeeks must be from 1 to 104",
        ));
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(ApiError::bad_input(
            "description",
            format!("description must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    let mut kinds: Vec<&str> = Vec::new();
    for kind in input.therapy_kinds.unwrap_or_default() {
        if !kinds.contains(&kind.as_str()) {
            kinds.push(kind.as_str());
        }
    }
    let group_sessions = validation::optional_in_range(
        "groupSessionsPerWeek",
        input.group_sessions_per_week,
        0..=21,
    )?;
    let follow_up =
        validation::optional_in_range("followUpEveryDays", input.follow_up_every_days, 1..=365)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let program = program_store::insert_program(
        &txn,
        programs::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(principal.organization_id),
            name: Set(name),
            modality: Set(input.modality.as_str().to_owned()),
            duration_weeks: Set(input.duration_weeks),
            description: Set(description),
            therapy_kinds: Set(kinds.join(",")),
            group_sessions_per_week: Set(group_sessions),
            follow_up_every_days: Set(follow_up),
            created_by_user_id: Set(principal.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "program.create",
            "Program",
            Some(program.id),
            None,
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Program(program))
}

/// "Today" in the patient's time zone.
async fn patient_today(ctx: &Context<'_>, patient: &patients::Model) -> ApiResult<NaiveDate> {
    Ok(today_in(
        &patient_timezone(ctx.db()?, patient).await?,
        Utc::now(),
    ))
}

async fn enroll(ctx: &Context<'_>, input: EnrollPatientInput) -> ApiResult<Enrollment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "enrollment.create";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician, Role::Admin],
        action,
        "Enrollment",
    )
    .await?;
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::ManageEnrollment,
        action,
    )
    .await?;
    let program = program_store::program_of(db, principal.organization_id, input.program_id)
        .await?
        .ok_or(ApiError::NotFound("program"))?;
    let today = patient_today(ctx, &patient).await?;
    let starts_on = input.starts_on.0;
    if (starts_on - today).num_days().abs() > 366 {
        return Err(ApiError::bad_input(
            "startsOn",
            "startsOn must be within a year of today",
        ));
    }
    let weeks = u32::try_from(program.duration_weeks).unwrap_or(1);
    let expected_end_on = phases::expected_end_on(starts_on, weeks)
        .ok_or_else(|| ApiError::bad_input("startsOn", "startsOn is out of range"))?;
    if program_store::open_enrollment(db, patient.id, program.id)
        .await?
        .is_some()
    {
        return Err(program_store::already_enrolled());
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let enrollment = program_store::enroll(
        &txn,
        entity::enrollments::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient.organization_id),
            patient_id: Set(patient.id),
            program_id: Set(program.id),
            phase: Set(Phase::Intake.as_str().to_owned()),
            starts_on: Set(starts_on),
            expected_end_on: Set(expected_end_on),
            aftercare_plan: Set(None),
            discharge_reason: Set(None),
            discharged_at: Set(None),
            enrolled_by_user_id: Set(principal.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        },
        principal.user_id,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Enrollment {
        record: EnrollmentRecord {
            enrollment,
            program,
        },
        patient,
        relationship,
    })
}

async fn advance(ctx: &Context<'_>, input: AdvanceEnrollmentInput) -> ApiResult<Enrollment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "enrollment.advance";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician, Role::Admin],
        action,
        "Enrollment",
    )
    .await?;
    let Some(record) = program_store::load_enrollment(db, input.enrollment_id).await? else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(
                principal,
                action,
                "Enrollment",
                Some(input.enrollment_id),
                None,
                false,
            ),
        )
        .await?;
        return Err(ApiError::NotFound("enrollment"));
    };
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        record.enrollment.patient_id,
        Need::ManageEnrollment,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("enrollment"),
        other => other,
    })?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let aftercare_plan = validation::optional_text(
        "aftercarePlan",
        input.aftercare_plan.as_deref(),
        AFTERCARE_PLAN_MAX,
    )?;
    let to: Phase = input.phase.into();
    let from = record.phase()?;
    phases::advance(from, to, reason.is_some()).map_err(|err| match err {
        PhaseError::ReasonRequired => ApiError::bad_input("reason", err.message()),
        _ => ApiError::conflict(err.message()),
    })?;
    if aftercare_plan.is_some() && !matches!(to, Phase::Aftercare | Phase::Discharged) {
        return Err(ApiError::bad_input(
            "aftercarePlan",
            "aftercarePlan is set when entering AFTERCARE or at discharge",
        ));
    }
    let txn = db.begin().await?;
    let enrollment = program_store::change_phase(
        &txn,
        record.enrollment.id,
        &PhaseChange {
            from,
            to,
            reason: reason.as_deref(),
            aftercare_plan: aftercare_plan.as_deref(),
            actor: principal.user_id,
            at: Utc::now(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Enrollment {
        record: EnrollmentRecord {
            enrollment,
            program: record.program,
        },
        patient,
        relationship,
    })
}

/// Loads an appointment and checks the caller may act on its patient for
/// `need`. Unknown appointments and invisible patients are both `NOT_FOUND`.
async fn authorized_appointment(
    ctx: &Context<'_>,
    principal: &Principal,
    id: Uuid,
    need: Need,
    action: &'static str,
) -> ApiResult<Appointment> {
    let db = ctx.db()?;
    let Some(model) = store::load(db, id).await? else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(principal, action, "Appointment", Some(id), None, false),
        )
        .await?;
        return Err(ApiError::NotFound("appointment"));
    };
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        model.patient_id,
        need,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("appointment"),
        other => other,
    })?;
    let participants = store::participants_of(db, &[model.id])
        .await?
        .remove(&model.id)
        .unwrap_or_default();
    Ok(Appointment {
        model,
        patient,
        relationship,
        participants,
    })
}

fn input_error(err: crate::error::InputError) -> ApiError {
    ApiError::bad_input(err.field, err.message)
}

async fn schedule(ctx: &Context<'_>, input: ScheduleAppointmentInput) -> ApiResult<Appointment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "appointment.schedule";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        action,
        "Appointment",
    )
    .await?;
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::ClinicalWrite,
        action,
    )
    .await?;
    let now = Utc::now();
    let slot = Slot::new(
        crate::calendar::APPOINTMENT,
        input.starts_at,
        input.ends_at,
        now,
    )
    .map_err(input_error)?;
    let venue = booking::venue(
        input.is_virtual,
        input.location.as_deref(),
        input.meeting_url.as_deref(),
    )
    .map_err(input_error)?;
    let mut family: Vec<Uuid> = input.family_participant_ids.unwrap_or_default();
    family.sort();
    family.dedup();
    if family.len() > 10 {
        return Err(ApiError::bad_input(
            "familyParticipantIds",
            "at most 10 family participants",
        ));
    }
    let eligible = store::eligible_family(db, patient.id, &family).await?;
    if family.iter().any(|id| !eligible.contains(id)) {
        return Err(ApiError::bad_input(
            "familyParticipantIds",
            "each family participant must be a supporter of the patient with their APPOINTMENTS consent",
        ));
    }

    let txn = db.begin().await?;
    store::lock_calendar(&txn, principal.user_id, now).await?;
    store::double_booked(&store::overlapping(&txn, principal.user_id, &slot, None).await?)?;
    let model = store::insert(
        &txn,
        appointments::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient.organization_id),
            patient_id: Set(patient.id),
            clinician_user_id: Set(principal.user_id),
            kind: Set(input.kind.as_str().to_owned()),
            status: Set(Status::Scheduled.as_str().to_owned()),
            starts_at: Set(slot.starts_at),
            ends_at: Set(slot.ends_at),
            is_virtual: Set(venue.is_virtual),
            location: Set(venue.location),
            meeting_url: Set(venue.meeting_url),
            status_reason: Set(None),
            created_by_user_id: Set(principal.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        },
        &family,
    )
    .await?;
    txn.commit().await?;
    Ok(Appointment {
        model,
        patient,
        relationship,
        participants: family,
    })
}

async fn reschedule(
    ctx: &Context<'_>,
    input: RescheduleAppointmentInput,
) -> ApiResult<Appointment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "appointment.reschedule";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        action,
        "Appointment",
    )
    .await?;
    let current = authorized_appointment(
        ctx,
        principal,
        input.appointment_id,
        Need::ClinicalWrite,
        action,
    )
    .await?;
    booking::can_reschedule(store::status_of(&current.model)?).map_err(ApiError::conflict)?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let now = Utc::now();
    let slot = Slot::new(
        crate::calendar::APPOINTMENT,
        input.starts_at,
        input.ends_at,
        now,
    )
    .map_err(input_error)?;
    let previous = Slot::from(&current.model);
    if slot == previous {
        return Ok(current);
    }
    let clinician = current.model.clinician_user_id;
    let txn = db.begin().await?;
    store::lock_calendar(&txn, clinician, now).await?;
    store::double_booked(
        &store::overlapping(&txn, clinician, &slot, Some(current.model.id)).await?,
    )?;
    let model = store::update_scheduled(
        &txn,
        current.model.id,
        |update| {
            update
                .col_expr(appointments::Column::StartsAt, Expr::value(slot.starts_at))
                .col_expr(appointments::Column::EndsAt, Expr::value(slot.ends_at))
        },
        now,
    )
    .await?;
    store::record_event(
        &txn,
        &model,
        "RESCHEDULED",
        reason.as_deref(),
        Some(previous),
        principal.user_id,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Appointment { model, ..current })
}

async fn set_status(ctx: &Context<'_>, input: SetAppointmentStatusInput) -> ApiResult<Appointment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "appointment.setStatus";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        action,
        "Appointment",
    )
    .await?;
    let current = authorized_appointment(
        ctx,
        principal,
        input.appointment_id,
        Need::ClinicalWrite,
        action,
    )
    .await?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let now = Utc::now();
    let target = booking::set_status(
        store::status_of(&current.model)?,
        input.status.into(),
        current.model.starts_at,
        now,
        reason.is_some(),
    )
    .map_err(|err| match err {
        booking::StatusError::Conflict(message) => ApiError::conflict(message),
        booking::StatusError::Input(err) => input_error(err),
    })?;
    let txn = db.begin().await?;
    let model = store::update_scheduled(
        &txn,
        current.model.id,
        |update| {
            update
                .col_expr(appointments::Column::Status, Expr::value(target.as_str()))
                .col_expr(
                    appointments::Column::StatusReason,
                    Expr::value(reason.clone()),
                )
        },
        now,
    )
    .await?;
    store::record_event(
        &txn,
        &model,
        target.as_str(),
        reason.as_deref(),
        None,
        principal.user_id,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Appointment { model, ..current })
}

/// Appointments with their patients as `principal` stands to them and their
/// participants, in three queries whatever their number.
async fn appointment_views(
    ctx: &Context<'_>,
    principal: &Principal,
    rows: Vec<appointments::Model>,
) -> ApiResult<Vec<Appointment>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let db = ctx.db()?;
    let patient_rows = patients::Entity::find()
        .filter(patients::Column::Id.is_in(rows.iter().map(|a| a.patient_id)))
        .all(db)
        .await?;
    let relationships = authz::relationships(db, principal, &patient_rows).await?;
    let patients: HashMap<Uuid, patients::Model> =
        patient_rows.into_iter().map(|p| (p.id, p)).collect();
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let mut participants = store::participants_of(db, &ids).await?;
    rows.into_iter()
        .map(|model| {
            let patient = patients.get(&model.patient_id).cloned().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("appointment without patient"))
            })?;
            let relationship = relationships.get(&patient.id).cloned().unwrap_or_default();
            Ok(Appointment {
                participants: participants.remove(&model.id).unwrap_or_default(),
                model,
                patient,
                relationship,
            })
        })
        .collect()
}

async fn agenda(
    ctx: &Context<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_cancelled: bool,
) -> ApiResult<Vec<Appointment>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        "appointment.agenda",
        "Appointment",
    )
    .await?;
    if to <= from {
        return Err(ApiError::bad_input("to", "to must be after from"));
    }
    if to - from > Duration::days(AGENDA_MAX_DAYS) {
        return Err(ApiError::bad_input(
            "to",
            format!("an agenda covers at most {AGENDA_MAX_DAYS} days"),
        ));
    }
    let rows = store::agenda(db, principal, from, to, include_cancelled).await?;
    audit::record_many(
        db,
        ctx.request_id(),
        rows.iter().map(|a| {
            AuditEvent::by(
                principal,
                "appointment.agenda",
                "Appointment",
                Some(a.id),
                Some(a.patient_id),
                true,
            )
        }),
    )
    .await?;
    appointment_views(ctx, principal, rows).await
}

async fn add_note(ctx: &Context<'_>, input: AddClinicalNoteInput) -> ApiResult<ClinicalNote> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "clinicalNote.add";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        action,
        "ClinicalNote",
    )
    .await?;
    let (patient, _) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::ClinicalNotes,
        action,
    )
    .await?;
    let body = text("body", &input.body, care_validation::NOTE_MAX_CHARS)?;
    let amends = match input.amends_note_id {
        Some(id) => Some(
            notes::load(db, id)
                .await?
                .filter(|n| n.patient_id == patient.id)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "amendsNoteId",
                        "amendsNoteId is not a note of this patient",
                    )
                })?,
        ),
        None => None,
    };
    let appointment_id = match input.appointment_id {
        Some(id) => Some(
            store::load(db, id)
                .await?
                .filter(|a| a.patient_id == patient.id)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "appointmentId",
                        "appointmentId is not an appointment of this patient",
                    )
                })?
                .id,
        ),
        // An amendment belongs with the appointment of the note it amends.
        None => amends.as_ref().and_then(|n| n.appointment_id),
    };
    let now = Utc::now();
    let txn = db.begin().await?;
    let note = notes::insert(
        &txn,
        clinical_notes::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient.organization_id),
            patient_id: Set(patient.id),
            author_user_id: Set(principal.user_id),
            appointment_id: Set(appointment_id),
            amends_note_id: Set(amends.map(|n| n.id)),
            body: Set(body),
            created_at: Set(now),
        },
    )
    .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            action,
            "ClinicalNote",
            Some(note.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ClinicalNote(note))
}

async fn update_care_plan(ctx: &Context<'_>, input: UpdateCarePlanInput) -> ApiResult<CarePlan> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "carePlan.update";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Patient, Role::Clinician],
        action,
        "CarePlan",
    )
    .await?;
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::EditCarePlan,
        action,
    )
    .await?;
    let content = Content {
        triggers: care_validation::plan_list("triggers", &input.triggers)?,
        coping_strategies: care_validation::plan_list(
            "copingStrategies",
            &input.coping_strategies,
        )?,
        warning_signs: care_validation::plan_list("warningSigns", &input.warning_signs)?,
        support_contacts: care_validation::plan_list("supportContacts", &input.support_contacts)?,
    };
    if input.expected_version.is_some_and(|v| v < 0) {
        return Err(ApiError::bad_input(
            "expectedVersion",
            "expectedVersion is a version this plan has had",
        ));
    }
    let txn = db.begin().await?;
    let plan = care_plans::save(
        &txn,
        &patient,
        &content,
        input.expected_version,
        principal.user_id,
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    CarePlan::of(Some(plan), &patient, &relationship)
}

/// Patient fields of care, called from the `Patient` type once it has
/// checked (and audited) that the viewer may read them.
pub mod patient_fields {
    use super::*;

    pub async fn enrollments(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Vec<Enrollment>> {
        let records = program_store::enrollments_of(ctx.db()?, patient.model.id).await?;
        Ok(records
            .into_iter()
            .map(|record| Enrollment {
                record,
                patient: patient.model.clone(),
                relationship: patient.relationship.clone(),
            })
            .collect())
    }

    pub async fn appointments(
        ctx: &Context<'_>,
        patient: &Patient,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<Appointment>> {
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            return Err(ApiError::bad_input("to", "to must be after from"));
        }
        let db = ctx.db()?;
        let rows = store::of_patient(db, patient.model.id, from, to).await?;
        let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
        let mut participants = store::participants_of(db, &ids).await?;
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

    /// Every note read is audited on its own (accounting of disclosures).
    pub async fn clinical_notes(
        ctx: &Context<'_>,
        patient: &Patient,
    ) -> ApiResult<Vec<ClinicalNote>> {
        let principal = ctx.principal().await?;
        let db = ctx.db()?;
        let rows = notes::of_patient(db, patient.model.id).await?;
        audit::record_many(
            db,
            ctx.request_id(),
            rows.iter().map(|n| {
                AuditEvent::by(
                    principal,
                    "clinicalNote.read",
                    "ClinicalNote",
                    Some(n.id),
                    Some(n.patient_id),
                    true,
                )
            }),
        )
        .await?;
        Ok(rows.into_iter().map(ClinicalNote).collect())
    }

    pub async fn care_plan(ctx: &Context<'_>, patient: &Patient) -> ApiResult<CarePlan> {
        CarePlan::of(
            care_plans::current(ctx.db()?, patient.model.id).await?,
            &patient.model,
            &patient.relationship,
        )
    }

    pub async fn care_plan_history(
        ctx: &Context<'_>,
        patient: &Patient,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, CarePlanRevision>> {
        let page = pagination::page(
            first,
            after.as_deref(),
            ctx.app().config.limits.max_page_size,
        )?;
        let rows = care_plans::revisions(ctx.db()?, patient.model.id, page).await?;
        let items = rows
            .into_iter()
            .map(|model| {
                Ok((
                    model.id,
                    CarePlanRevision {
                        content: Content::of_revision(&model)?,
                        edited_by: disclosed_editor(
                            model.edited_by_user_id,
                            &patient.model,
                            &patient.relationship,
                        ),
                        model,
                    },
                ))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(pagination::connection(items, page))
    }
}
