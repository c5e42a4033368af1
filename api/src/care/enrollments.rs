//! GraphQL surface of enrollments: enrolling a patient in a program and
//! moving the enrollment through its phases (the care team or an admin),
//! each change in its history, and `Patient.enrollments`.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::{enrollment_events, patients};

use super::{
    enrollment_store::{self, EnrollmentRecord, NewEnrollment},
    phases::{self, Phase},
    program_store,
    programs::{PROGRAM, Program},
    validation as care_validation,
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    auth::Role,
    authz::{Need, Relationship},
    caller::{Caller, ContextExt, PatientAccess},
    error::{ApiError, ApiResult},
    graphql::scalars::Date,
    patients::{Patient, patient_store},
    tapering::lifecycle::today_in,
    validation::{self, REASON_MAX},
};

const ENROLLMENT: Kind = Kind::new("Enrollment", "enrollment");
const CREATE: Action = ENROLLMENT.action("enrollment.create");
const ADVANCE: Action = ENROLLMENT.action("enrollment.advance");

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Phase")]
pub enum EnrollmentPhase {
    Intake,
    Active,
    Aftercare,
    Discharged,
}

/// A patient's enrollment in a program, as one viewer sees it.
pub struct Enrollment {
    pub record: EnrollmentRecord,
    pub patient: patients::Model,
    pub relationship: Relationship,
}

impl Enrollment {
    fn new(record: EnrollmentRecord, access: PatientAccess) -> Self {
        Self {
            record,
            patient: access.patient,
            relationship: access.relationship,
        }
    }
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
        let rows = enrollment_store::events_of(ctx.db()?, self.record.enrollment.id).await?;
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
        Ok(Phase::from_row(&self.0.to_phase)?.into())
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

#[derive(Default)]
pub struct EnrollmentsMutation;

#[Object]
impl EnrollmentsMutation {
    /// The care team or an admin enrolls a patient in a program (in
    /// INTAKE; one open enrollment per patient and program).
    async fn enroll_patient(
        &self,
        ctx: &Context<'_>,
        input: EnrollPatientInput,
    ) -> async_graphql::Result<EnrollPatientPayload> {
        let caller = ctx.caller().await?;
        Ok(EnrollPatientPayload {
            enrollment: enroll(&caller, input).await?,
        })
    }

    /// Moves an enrollment forward (INTAKE → ACTIVE → AFTERCARE →
    /// DISCHARGED); a discharge needs a reason.
    async fn advance_enrollment(
        &self,
        ctx: &Context<'_>,
        input: AdvanceEnrollmentInput,
    ) -> async_graphql::Result<AdvanceEnrollmentPayload> {
        let caller = ctx.caller().await?;
        Ok(AdvanceEnrollmentPayload {
            enrollment: advance(&caller, input).await?,
        })
    }
}

async fn enroll(caller: &Caller, input: EnrollPatientInput) -> ApiResult<Enrollment> {
    caller.require(&[Role::Clinician, Role::Admin], CREATE)?;
    let access = caller
        .patient(input.patient_id, Need::ManageEnrollment, CREATE)
        .await?;
    let db = caller.db();
    let program = program_store::program_of(db, caller.organization_id(), input.program_id)
        .await?
        .ok_or(ApiError::NotFound(PROGRAM.noun))?;
    // "Today" in the patient's time zone.
    let today = today_in(
        &patient_store::timezone(db, &access.patient).await?,
        Utc::now(),
    );
    let starts_on = input.starts_on.0;
    care_validation::enrollment_start(starts_on, today)?;
    let weeks = u32::try_from(program.duration_weeks).unwrap_or(1);
    let expected_end_on = phases::expected_end_on(starts_on, weeks)
        .ok_or_else(|| ApiError::bad_input("startsOn", "startsOn is out of range"))?;
    if enrollment_store::open_enrollment(db, access.patient.id, program.id)
        .await?
        .is_some()
    {
        return Err(enrollment_store::already_enrolled());
    }
    let new = NewEnrollment {
        patient: &access.patient,
        program: program.id,
        starts_on,
        expected_end_on,
    };
    let enrollment = enrollment_store::enroll(caller, new).await?;
    let record = EnrollmentRecord {
        enrollment,
        program,
    };
    Ok(Enrollment::new(record, access))
}

async fn advance(caller: &Caller, input: AdvanceEnrollmentInput) -> ApiResult<Enrollment> {
    caller.require(&[Role::Clinician, Role::Admin], ADVANCE)?;
    let id = input.enrollment_id;
    let row = enrollment_store::load(caller.db(), id).await?;
    let (record, access) = caller
        .child(
            id,
            row,
            |r| r.enrollment.patient_id,
            Need::ManageEnrollment,
            ADVANCE,
        )
        .await?;
    let reason = validation::optional_text("reason", input.reason.as_deref(), REASON_MAX)?;
    let aftercare_plan = validation::optional_text(
        "aftercarePlan",
        input.aftercare_plan.as_deref(),
        care_validation::AFTERCARE_PLAN_MAX,
    )?;
    let to: Phase = input.phase.into();
    let from = record.phase()?;
    phases::advance(from, to, reason.is_some())?;
    if aftercare_plan.is_some() && !to.takes_aftercare_plan() {
        return Err(ApiError::bad_input(
            "aftercarePlan",
            "aftercarePlan is set when entering AFTERCARE or at discharge",
        ));
    }
    let enrollment = enrollment_store::change_phase(
        caller,
        id,
        from,
        to,
        reason.as_deref(),
        aftercare_plan.as_deref(),
    )
    .await?;
    let record = EnrollmentRecord {
        enrollment,
        program: record.program,
    };
    Ok(Enrollment::new(record, access))
}

/// `Patient.enrollments`, once the `Patient` type has checked (and audited)
/// that the viewer may read them.
pub async fn of_patient(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Vec<Enrollment>> {
    let records = enrollment_store::enrollments_of(ctx.db()?, patient.model.id).await?;
    Ok(records
        .into_iter()
        .map(|record| Enrollment {
            record,
            patient: patient.model.clone(),
            relationship: patient.relationship.clone(),
        })
        .collect())
}
