//! The `Patient` object: the record as one caller may see it. Each part of
//! the record is gated by the caller's relationship (and the check audited),
//! then resolved by the domain that owns it (`<domain>::patient_fields`).

use async_graphql::{Context, Object, connection::Connection};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::patients;

use super::{care_team_store, patient_store};
use crate::{
    accounts::User,
    audit::{Action, PATIENT},
    authz::{ConsentCategory, Need, Relationship},
    caller::ContextExt,
    care, education,
    error::{ApiError, ApiResult},
    graphql::scalars::Date,
    monitoring, tapering,
};

// Reads of one part of the record (on the `Patient` itself).
const DAILY_MME: Action = PATIENT.action("patient.dailyMme");
const MEDICATION_ORDERS: Action = PATIENT.action("patient.medicationOrders");
const NALOXONE: Action = PATIENT.action("patient.naloxone");
/// The current plan and every plan version.
const TAPER: Action = PATIENT.action("patient.taper");
const DOSE_LOGS: Action = PATIENT.action("patient.doseLogs");
const ADHERENCE: Action = PATIENT.action("patient.adherence");
const CHECK_INS: Action = PATIENT.action("patient.checkIns");
const ASSESSMENTS: Action = PATIENT.action("patient.assessments");
const TRENDS: Action = PATIENT.action("patient.trends");
const ENROLLMENTS: Action = PATIENT.action("patient.enrollments");
const APPOINTMENTS: Action = PATIENT.action("patient.appointments");
const CLINICAL_NOTES: Action = PATIENT.action("patient.clinicalNotes");
const CARE_PLAN: Action = PATIENT.action("patient.carePlan");
const CARE_PLAN_HISTORY: Action = PATIENT.action("patient.carePlanHistory");
const GROUP_MEMBERSHIPS: Action = PATIENT.action("patient.groupMemberships");
const ASSIGNED_RESOURCES: Action = PATIENT.action("patient.assignedResources");

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
            .user(self.model.user_id)
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
        let ids = care_team_store::clinician_ids(ctx.db()?, self.model.id).await?;
        let users = ctx.loaders()?.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(id).cloned().map(User::new))
            .collect())
    }

    /// Total daily MME today (CDC 2022 factors): every opioid; a
    /// medication's ACTIVE or PAUSED plan step replaces its orders;
    /// buprenorphine and OUD methadone excluded. Null when nothing counts.
    async fn daily_mme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), DAILY_MME)
            .await?;
        let db = ctx.db()?;
        let today = tapering::lifecycle::today_in(
            &patient_store::timezone(db, &self.model).await?,
            Utc::now(),
        );
        Ok(crate::tapering::regimen_store::total_daily_mme(db, self.model.id, today).await?)
    }

    /// The table `dailyMme` comes from ("CDC_2022"); null with no figure.
    async fn daily_mme_conversion_table(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<&'static str>> {
        Ok(self
            .daily_mme(ctx)
            .await?
            .map(|_| crate::tapering::mme::CONVERSION_TABLE))
    }

    /// The opioid orders, current and past (the patient and care team).
    async fn medication_orders(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<tapering::MedicationOrder>>> {
        self.gate(ctx, Need::CareRecord, MEDICATION_ORDERS).await?;
        Ok(Some(
            tapering::patient_fields::medication_orders(ctx.db()?, self.model.id).await?,
        ))
    }

    /// When naloxone was last offered (the patient and care team).
    async fn naloxone_offered_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        self.gate(ctx, Need::CareRecord, NALOXONE).await?;
        Ok(crate::tapering::regimen_store::last_naloxone_offer(ctx.db()?, self.model.id).await?)
    }

    /// The plan in effect (active or paused), with today's step and dose.
    async fn current_taper_plan(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<tapering::TaperPlan>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), TAPER)
            .await?;
        Ok(tapering::patient_fields::current_plan(ctx, self).await?)
    }

    /// Every plan version, newest first.
    async fn taper_plans(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<tapering::TaperPlan>>> {
        self.gate(ctx, Need::Read(ConsentCategory::Taper), TAPER)
            .await?;
        Ok(Some(tapering::patient_fields::all_plans(ctx, self).await?))
    }

    /// Logged doses, oldest first; `updatedSince` for incremental sync.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn dose_logs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<Connection<String, tapering::DoseLog>>> {
        self.gate(ctx, Need::CareRecord, DOSE_LOGS).await?;
        Ok(Some(
            tapering::patient_fields::dose_logs(ctx, self.model.id, first, after, updated_since)
                .await?,
        ))
    }

    /// Taken versus scheduled, day by day (patient's time zone), for one
    /// medication (the current plan's when not given).
    async fn dose_adherence(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        medication_id: Option<Uuid>,
    ) -> async_graphql::Result<Option<Vec<tapering::DoseAdherenceDay>>> {
        self.gate(ctx, Need::CareRecord, ADHERENCE).await?;
        Ok(Some(
            tapering::patient_fields::adherence_days(ctx, self, medication_id, from.0, to.0)
                .await?,
        ))
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
    ) -> async_graphql::Result<Option<Connection<String, monitoring::CheckIn>>> {
        self.gate(ctx, Need::Read(ConsentCategory::CheckIns), CHECK_INS)
            .await?;
        Ok(Some(
            monitoring::patient_fields::check_ins(ctx, self.model.id, first, after, updated_since)
                .await?,
        ))
    }

    /// COWS and SOWS assessments, newest first (the patient, the care team,
    /// `SYMPTOMS` consent holders).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn withdrawal_assessments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<String, monitoring::WithdrawalAssessment>>> {
        self.gate(ctx, Need::Read(ConsentCategory::Symptoms), ASSESSMENTS)
            .await?;
        Ok(Some(
            monitoring::patient_fields::withdrawal_assessments(ctx, self.model.id, first, after)
                .await?,
        ))
    }

    /// A daily series for charts, in the patient's time zone (the patient
    /// and the care team).
    async fn trends(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<Option<Vec<monitoring::TrendDay>>> {
        self.gate(ctx, Need::CareRecord, TRENDS).await?;
        Ok(Some(
            monitoring::patient_fields::trends(ctx, &self.model, from.0, to.0).await?,
        ))
    }

    /// Program enrollments, newest first (the patient, the care team,
    /// admins).
    async fn enrollments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<care::Enrollment>>> {
        self.gate(ctx, Need::ReadEnrollment, ENROLLMENTS).await?;
        Ok(Some(care::patient_fields::enrollments(ctx, self).await?))
    }

    /// Appointments by start time; `from` (inclusive) and `to` (exclusive)
    /// bound their start: `from: now` for upcoming ones, `to: now` for past
    /// ones. The patient, the care team, `APPOINTMENTS` consent holders.
    async fn appointments(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<Vec<care::Appointment>>> {
        self.gate(ctx, Need::Read(ConsentCategory::Appointments), APPOINTMENTS)
            .await?;
        Ok(Some(
            care::patient_fields::appointments(ctx, self, from, to).await?,
        ))
    }

    /// Clinical notes, newest first: care-team clinicians only (every note
    /// read is audited).
    async fn clinical_notes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<care::ClinicalNote>>> {
        self.gate(ctx, Need::ClinicalNotes, CLINICAL_NOTES).await?;
        Ok(Some(care::patient_fields::clinical_notes(ctx, self).await?))
    }

    /// The recovery plan (empty until first edited): the patient, the care
    /// team, `CARE_PLAN` consent holders.
    async fn care_plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<care::CarePlan>> {
        self.gate(ctx, Need::Read(ConsentCategory::CarePlan), CARE_PLAN)
            .await?;
        Ok(Some(care::patient_fields::care_plan(ctx, self).await?))
    }

    /// Every version of the recovery plan, newest first: who changed it,
    /// when, and the full content it had.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn care_plan_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<Connection<String, care::CarePlanRevision>>> {
        self.gate(
            ctx,
            Need::Read(ConsentCategory::CarePlan),
            CARE_PLAN_HISTORY,
        )
        .await?;
        Ok(Some(
            care::patient_fields::care_plan_history(ctx, self, first, after).await?,
        ))
    }

    /// The patient's support groups (active, pending and past) and their
    /// attendance: the patient, and holders of a `GROUP_ACTIVITY` consent —
    /// never the groups' posts.
    async fn group_memberships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::groups::GroupMembership>>> {
        self.gate(ctx, Need::GroupActivity, GROUP_MEMBERSHIPS)
            .await?;
        Ok(Some(
            crate::groups::patient_fields::group_memberships(
                ctx,
                self.model.user_id,
                &["PENDING", "ACTIVE", "LEFT", "REMOVED"],
            )
            .await?,
        ))
    }

    /// Education resources assigned to the patient and their progress (the
    /// patient and the care team).
    async fn assigned_resources(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<education::ResourceAssignment>>> {
        self.gate(ctx, Need::CareRecord, ASSIGNED_RESOURCES).await?;
        Ok(Some(
            education::patient_fields::assigned_resources(ctx, self).await?,
        ))
    }
}

impl Patient {
    /// Checks the viewer may read one part of the record, and audits it.
    /// A visible patient with a part the viewer may not read: `FORBIDDEN`.
    async fn gate(&self, ctx: &Context<'_>, need: Need, action: Action) -> ApiResult<()> {
        let allowed = self.relationship.allows(need);
        // A sign-in payload resolves the record before the client holds a
        // token: with no principal there is no actor to record.
        if let Ok(caller) = ctx.caller().await {
            caller.record(
                caller
                    .event(action)
                    .resource(self.model.id)
                    .patient(self.model.id)
                    .allowed(allowed),
            );
        }
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(need.missing()))
        }
    }
}
