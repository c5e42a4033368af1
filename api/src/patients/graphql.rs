//! GraphQL surface of patients and care teams.

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use entity::{care_team_members, memberships, patients};

use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    auth::Role,
    authz::{self, ConsentCategory, Need, Relationship},
    caller::ContextExt,
    care, education,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    monitoring, tapering,
};

/// A patient's record, as one caller may see it.
pub struct Patient {
    pub model: patients::Model,
    /// How the viewer stands to this patient (decides what resolves).
    pub relationship: Relationship,
}

impl Patient {
    /// The caller's own record.
    pub fn own(model: patients::Model) -> Self {
        Self {
            model,
            relationship: Relationship {
                own: true,
                ..Relationship::default()
            },
        }
    }
}

#[Object]
impl Patient {
    async fn id(&self) -> Uuid {
        self.model.id
    }

    /// The patient's account (identity fields).
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let model = ctx
            .loaders()?
            .users
            .load_one(self.model.user_id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("patient without a user")))?;
        Ok(User::new(model))
    }

    /// Clinicians on the care team. Visible to the patient, the care team
    /// and admins; empty for consent holders.
    async fn care_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        if !self.relationship.allows(Need::CareTeam) {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = care_team_members::Entity::find()
            .select_only()
            .column(care_team_members::Column::ClinicianUserId)
            .filter(care_team_members::Column::PatientId.eq(self.model.id))
            .order_by_asc(care_team_members::Column::CreatedAt)
            .into_tuple()
            .all(ctx.db()?)
            .await
            .map_err(ApiError::from)?;
        let users = ctx.loaders()?.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(id).cloned().map(User::new))
            .collect())
    }

    /// Daily MME of the current regimen (CDC 2022 factors; buprenorphine
    /// excluded). Null without an opioid order.
    async fn daily_mme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), "patient.dailyMme")
            .await?;
        let db = ctx.db()?;
        let today = tapering::lifecycle::today_in(
            &crate::patients::patient_store::timezone(db, &self.model).await?,
            Utc::now(),
        );
        Ok(crate::tapering::regimen_store::regimen_daily_mme(db, self.model.id, today).await?)
    }

    /// The opioid orders, current and past (the patient and care team).
    async fn medication_orders(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<tapering::MedicationOrder>> {
        self.gate(ctx, Need::CareRecord, "patient.medicationOrders")
            .await?;
        Ok(tapering::patient_fields::medication_orders(ctx.db()?, self.model.id).await?)
    }

    /// When naloxone was last offered (the patient and care team).
    async fn naloxone_offered_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        self.gate(ctx, Need::CareRecord, "patient.naloxone").await?;
        Ok(crate::tapering::regimen_store::last_naloxone_offer(ctx.db()?, self.model.id).await?)
    }

    /// The plan in effect (active or paused), with today's step and dose.
    async fn current_taper_plan(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<tapering::TaperPlan>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), "patient.taper")
            .await?;
        Ok(tapering::patient_fields::current_plan(ctx, self).await?)
    }

    /// Every plan version, newest first.
    async fn taper_plans(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<tapering::TaperPlan>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), "patient.taper")
            .await?;
        Ok(tapering::patient_fields::all_plans(ctx, self).await?)
    }

    /// Logged doses, oldest first; `updatedSince` for incremental sync.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn dose_logs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, tapering::DoseLog>> {
        self.gate(ctx, Need::CareRecord, "patient.doseLogs").await?;
        Ok(
            tapering::patient_fields::dose_logs(ctx, self.model.id, first, after, updated_since)
                .await?,
        )
    }

    /// Taken versus scheduled, day by day (patient's time zone), for one
    /// medication (the current plan's when not given).
    async fn dose_adherence(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        medication_id: Option<Uuid>,
    ) -> async_graphql::Result<Vec<tapering::DoseAdherenceDay>> {
        self.gate(ctx, Need::CareRecord, "patient.adherence")
            .await?;
        Ok(
            tapering::patient_fields::adherence_days(ctx, self, medication_id, from.0, to.0)
                .await?,
        )
    }

    /// Check-ins, oldest first; `updatedSince` for incremental sync (the
    /// patient, the care team, `CHECK_INS` consent holders).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn check_ins(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, monitoring::CheckIn>> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::CheckIns),
            "patient.checkIns",
        )
        .await?;
        Ok(
            monitoring::patient_fields::check_ins(ctx, self.model.id, first, after, updated_since)
                .await?,
        )
    }

    /// COWS and SOWS assessments, newest first (the patient, the care team,
    /// `SYMPTOMS` consent holders).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn withdrawal_assessments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, monitoring::WithdrawalAssessment>> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::Symptoms),
            "patient.assessments",
        )
        .await?;
        Ok(
            monitoring::patient_fields::withdrawal_assessments(ctx, self.model.id, first, after)
                .await?,
        )
    }

    /// A daily series for charts, in the patient's time zone (the patient
    /// and the care team).
    async fn trends(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<Vec<monitoring::TrendDay>> {
        self.gate(ctx, Need::CareRecord, "patient.trends").await?;
        Ok(monitoring::patient_fields::trends(ctx, &self.model, from.0, to.0).await?)
    }

    /// Program enrollments, newest first (the patient, the care team,
    /// admins).
    async fn enrollments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<care::Enrollment>> {
        self.gate(ctx, Need::ReadEnrollment, "patient.enrollments")
            .await?;
        Ok(care::patient_fields::enrollments(ctx, self).await?)
    }

    /// Appointments by start time; `from` (inclusive) and `to` (exclusive)
    /// bound their start: `from: now` for upcoming ones, `to: now` for past
    /// ones. The patient, the care team, `APPOINTMENTS` consent holders.
    async fn appointments(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Vec<care::Appointment>> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::Appointments),
            "patient.appointments",
        )
        .await?;
        Ok(care::patient_fields::appointments(ctx, self, from, to).await?)
    }

    /// Clinical notes, newest first: care-team clinicians only (every note
    /// read is audited).
    async fn clinical_notes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<care::ClinicalNote>> {
        self.gate(ctx, Need::ClinicalNotes, "patient.clinicalNotes")
            .await?;
        Ok(care::patient_fields::clinical_notes(ctx, self).await?)
    }

    /// The recovery plan (empty until first edited): the patient, the care
    /// team, `CARE_PLAN` consent holders.
    async fn care_plan(&self, ctx: &Context<'_>) -> async_graphql::Result<care::CarePlan> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::CarePlan),
            "patient.carePlan",
        )
        .await?;
        Ok(care::patient_fields::care_plan(ctx, self).await?)
    }

    /// Every version of the recovery plan, newest first: who changed it,
    /// when, and the full content it had.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn care_plan_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, care::CarePlanRevision>> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::CarePlan),
            "patient.carePlanHistory",
        )
        .await?;
        Ok(care::patient_fields::care_plan_history(ctx, self, first, after).await?)
    }

    /// The patient's support groups (active, pending and past) and their
    /// attendance: the patient, and holders of a `GROUP_ACTIVITY` consent —
    /// never the groups' posts.
    async fn group_memberships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::groups::GroupMembership>> {
        self.gate(ctx, Need::GroupActivity, "patient.groupMemberships")
            .await?;
        Ok(crate::groups::patient_fields::group_memberships(
            ctx,
            self.model.user_id,
            &["PENDING", "ACTIVE", "LEFT", "REMOVED"],
        )
        .await?)
    }

    /// Education resources assigned to the patient and their progress (the
    /// patient and the care team).
    async fn assigned_resources(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<education::ResourceAssignment>> {
        self.gate(ctx, Need::CareRecord, "patient.assignedResources")
            .await?;
        Ok(education::patient_fields::assigned_resources(ctx, self).await?)
    }
}

impl Patient {
    /// Checks the viewer may read one part of the record, and audits it.
    /// A visible patient with a part the viewer may not read: `FORBIDDEN`.
    async fn gate(&self, ctx: &Context<'_>, need: Need, action: &'static str) -> ApiResult<()> {
        let allowed = self.relationship.allows(need);
        if let Ok(principal) = ctx.principal().await {
            audit::record(
                ctx.db()?,
                ctx.request_id(),
                AuditEvent::by(
                    principal,
                    action,
                    "Patient",
                    Some(self.model.id),
                    Some(self.model.id),
                    allowed,
                ),
            )
            .await?;
        }
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(InputObject)]
pub struct AssignCareTeamMemberInput {
    pub patient_id: Uuid,
    /// A user id of a clinician of the same organization.
    pub clinician_id: Uuid,
}

#[derive(SimpleObject)]
pub struct AssignCareTeamMemberPayload {
    pub patient: Patient,
}

#[derive(SimpleObject)]
pub struct RemoveCareTeamMemberPayload {
    pub patient: Patient,
}

#[derive(Default)]
pub struct PatientsQuery;

#[Object]
impl PatientsQuery {
    /// One patient, if the caller may see them (else `NOT_FOUND`).
    async fn patient(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Patient> {
        let principal = ctx.principal().await?;
        let (model, relationship) = authz::authorize_patient(
            ctx.db()?,
            principal,
            ctx.request_id(),
            id,
            Need::Identity,
            "patient.read",
        )
        .await?;
        Ok(Patient {
            model,
            relationship,
        })
    }

    /// The patients the caller may see: their own record, their care team's
    /// patients, those who consented to them, or (admins) the organization's.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn patients(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Patient>> {
        Ok(list_patients(ctx, first, after).await?)
    }
}

async fn list_patients(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Patient>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = patients::Entity::find().filter(authz::visible_patients(principal));
    if let Some(after) = page.after {
        query = query.filter(patients::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(patients::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?;

    // The viewer's relationship to each patient on the page, in two queries.
    let mut relationships = authz::relationships(db, principal, &rows).await?;
    let items: Vec<(Uuid, Patient)> = rows
        .into_iter()
        .map(|model| {
            let relationship = relationships.remove(&model.id).unwrap_or_default();
            (
                model.id,
                Patient {
                    model,
                    relationship,
                },
            )
        })
        .collect();

    let shown = items.iter().take(page.first as usize);
    audit::record_many(
        db,
        ctx.request_id(),
        shown.map(|(id, _)| {
            AuditEvent::by(
                principal,
                "patient.list",
                "Patient",
                Some(*id),
                Some(*id),
                true,
            )
        }),
    )
    .await?;
    Ok(pagination::connection(items, page))
}

#[derive(Default)]
pub struct PatientsMutation;

#[Object]
impl PatientsMutation {
    /// Put a clinician on a patient's care team (admins). Idempotent.
    async fn assign_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: AssignCareTeamMemberInput,
    ) -> async_graphql::Result<AssignCareTeamMemberPayload> {
        let patient = change_care_team(ctx, &input, true).await?;
        Ok(AssignCareTeamMemberPayload { patient })
    }

    /// Take a clinician off a patient's care team (admins).
    async fn remove_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: AssignCareTeamMemberInput,
    ) -> async_graphql::Result<RemoveCareTeamMemberPayload> {
        let patient = change_care_team(ctx, &input, false).await?;
        Ok(RemoveCareTeamMemberPayload { patient })
    }
}

async fn change_care_team(
    ctx: &Context<'_>,
    input: &AssignCareTeamMemberInput,
    assign: bool,
) -> ApiResult<Patient> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = if assign {
        "careTeam.assign"
    } else {
        "careTeam.remove"
    };
    if let Err(err) = authz::require_role(principal, &[Role::Admin]) {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(
                principal,
                action,
                "Patient",
                Some(input.patient_id),
                None,
                false,
            ),
        )
        .await?;
        return Err(err);
    }
    // Decided (and audited) outside the write's transaction, so a denial is
    // recorded even though nothing is written.
    let (model, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::Administer,
        action,
    )
    .await?;
    let is_clinician = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(input.clinician_id))
        .filter(memberships::Column::OrganizationId.eq(principal.organization_id))
        .filter(memberships::Column::Role.eq(Role::Clinician.as_str()))
        .one(db)
        .await?
        .is_some();
    if !is_clinician {
        return Err(ApiError::bad_input(
            "clinicianId",
            "clinicianId is not a clinician of this organization",
        ));
    }
    let txn = db.begin().await?;
    if assign {
        care_team_members::Entity::insert(care_team_members::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(principal.organization_id),
            patient_id: Set(model.id),
            clinician_user_id: Set(input.clinician_id),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                care_team_members::Column::PatientId,
                care_team_members::Column::ClinicianUserId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    } else {
        care_team_members::Entity::delete_many()
            .filter(care_team_members::Column::PatientId.eq(model.id))
            .filter(care_team_members::Column::ClinicianUserId.eq(input.clinician_id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Patient {
        model,
        relationship,
    })
}
