//! GraphQL surface of tapering: the plan types, the lifecycle mutations,
//! medication orders, naloxone offers and the `Patient` fields that read
//! them. Clinical writes belong to care-team clinicians; the patient agrees
//! to plans and logs doses; `TAPER` consent holders read plans only.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use uuid::Uuid;

use entity::{medication_orders, naloxone_offers, patients, taper_plans};

use super::{
    catalog::{self, Medication},
    lifecycle::{self, Action, Status},
    plans::{self, PlanRecord},
    schedule::{self, PlanRequest, Rule, Step},
};
use crate::{
    audit::{self, AuditEvent},
    auth::{Principal, Role},
    authz::{self, Need, Relationship},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::scalars::Date,
    patients::Patient,
    patients::patient_store::timezone as patient_timezone,
    validation,
};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaperPreset {
    /// About 10% of the starting dose per 4 weeks (a year or more on opioids).
    CdcLongTerm,
    /// 10% of the starting dose per week to about 30%, then 10% of what
    /// remains per week (weeks to months on opioids).
    CdcShortTerm,
    /// `reductionPercent` of the current dose every `stepDays`.
    Custom,
}

impl TaperPreset {
    fn as_str(self) -> &'static str {
        match self {
            Self::CdcLongTerm => "CDC_LONG_TERM",
            Self::CdcShortTerm => "CDC_SHORT_TERM",
            Self::Custom => "CUSTOM",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "CDC_LONG_TERM" => Self::CdcLongTerm,
            "CDC_SHORT_TERM" => Self::CdcShortTerm,
            _ => Self::Custom,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Status")]
pub enum TaperPlanStatus {
    Draft,
    Active,
    Paused,
    Completed,
    Cancelled,
}

#[derive(SimpleObject, Clone)]
pub struct TaperStep {
    pub index: i32,
    pub starts_on: Date,
    pub ends_on: Date,
    /// In the medication's unit.
    pub daily_dose: f64,
    /// Unrounded; null where no MME factor applies.
    pub daily_mme: Option<f64>,
}

impl From<&Step> for TaperStep {
    fn from(s: &Step) -> Self {
        Self {
            index: s.index as i32,
            starts_on: s.starts_on.into(),
            ends_on: s.ends_on.into(),
            daily_dose: s.daily_dose,
            daily_mme: s.daily_mme,
        }
    }
}

/// A guideline check the plan does not meet (CLINICAL.md): shown, never
/// silently corrected, never a hard block.
#[derive(SimpleObject, Clone)]
pub struct GuidelineWarning {
    /// `FASTER_THAN_GUIDELINE`, `LARGE_SINGLE_CUT`, `ABRUPT_STOP` or `FOLLOW_UP_GAP`.
    pub code: String,
    pub message: String,
}

/// A lifecycle transition: who, when, why.
#[derive(SimpleObject)]
pub struct TaperPlanEvent {
    /// CREATED, AGREED, ACTIVATED, PAUSED, RESUMED, REVISED, SUPERSEDED, COMPLETED.
    pub kind: String,
    pub actor_user_id: Option<Uuid>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// One version of a patient's taper plan, as one viewer sees it.
pub struct TaperPlan {
    pub record: PlanRecord,
    pub patient: patients::Model,
    pub relationship: Relationship,
    /// "Today" in the patient's time zone.
    pub today: NaiveDate,
}

#[Object]
impl TaperPlan {
    async fn id(&self) -> Uuid {
        self.record.plan.id
    }
    async fn patient(&self) -> Patient {
        Patient {
            model: self.patient.clone(),
            relationship: self.relationship.clone(),
        }
    }
    async fn medication(&self, ctx: &Context<'_>) -> async_graphql::Result<Medication> {
        let model = ctx
            .loaders()?
            .medications
            .load_one(self.record.plan.medication_id)
            .await?
            .ok_or(ApiError::NotFound("medication"))?;
        Ok(Medication(model))
    }
    async fn status(&self) -> TaperPlanStatus {
        self.record.status_on(self.today).into()
    }
    async fn preset(&self) -> TaperPreset {
        TaperPreset::parse(&self.record.plan.preset)
    }
    async fn version(&self) -> i32 {
        self.record.plan.version
    }
    async fn starting_daily_dose(&self) -> f64 {
        self.record.plan.starting_daily_dose
    }
    async fn starting_daily_mme(&self) -> Option<f64> {
        self.record.steps.first().and_then(|s| s.daily_mme)
    }
    async fn target_daily_dose(&self) -> f64 {
        self.record.plan.target_daily_dose
    }
    async fn reduction_percent(&self) -> Option<f64> {
        self.record.plan.reduction_percent
    }
    async fn step_days(&self) -> Option<i32> {
        self.record.plan.step_days
    }
    async fn follow_up_every_days(&self) -> i32 {
        self.record.plan.follow_up_every_days
    }
    async fn starts_on(&self) -> Date {
        self.record.plan.starts_on.into()
    }
    async fn steps(&self) -> Vec<TaperStep> {
        self.record.steps.iter().map(TaperStep::from).collect()
    }
    /// The guideline warnings the plan was created with.
    async fn warnings(&self) -> Vec<GuidelineWarning> {
        self.record
            .warnings()
            .into_iter()
            .map(|w| GuidelineWarning {
                code: w.code,
                message: w.message,
            })
            .collect()
    }
    /// When the patient agreed (shared decision); null until then.
    async fn patient_agreed_at(&self) -> Option<DateTime<Utc>> {
        self.record.plan.patient_agreed_at
    }
    /// The day a pause began, while paused.
    async fn paused_on(&self) -> Option<Date> {
        self.record.plan.paused_on.map(Date)
    }
    /// The step in effect today (the pause day's while paused).
    async fn current_step(&self) -> Option<TaperStep> {
        let day = self.effective_day();
        lifecycle::step_on(&self.record.steps, day).map(TaperStep::from)
    }
    /// Today's scheduled daily dose, in the patient's time zone.
    async fn todays_dose(&self) -> Option<f64> {
        match self.record.status_on(self.today) {
            Status::Active | Status::Paused | Status::Completed => {
                lifecycle::dose_on(&self.record.steps, self.effective_day())
            }
            Status::Draft | Status::Cancelled => None,
        }
    }
    /// The newer version that replaces this one, if revised.
    async fn superseded_by_plan_id(&self) -> Option<Uuid> {
        self.record.plan.superseded_by_plan_id
    }
    async fn superseded_reason(&self) -> Option<&str> {
        self.record.plan.superseded_reason.as_deref()
    }
    /// The version this one revised.
    async fn supersedes_plan_id(&self) -> Option<Uuid> {
        self.record.plan.supersedes_plan_id
    }
    /// Every transition, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TaperPlanEvent>> {
        let rows = entity::taper_plan_events::Entity::find()
            .filter(entity::taper_plan_events::Column::PlanId.eq(self.record.plan.id))
            .order_by_asc(entity::taper_plan_events::Column::At)
            .all(ctx.db()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|e| TaperPlanEvent {
                kind: e.kind,
                actor_user_id: e.actor_user_id,
                reason: e.reason,
                at: e.at,
            })
            .collect())
    }
}

impl TaperPlan {
    fn effective_day(&self) -> NaiveDate {
        lifecycle::effective_day(self.record.status(), self.record.plan.paused_on, self.today)
    }
}

#[derive(SimpleObject)]
pub struct CreateTaperPlanPayload {
    pub plan: TaperPlan,
    pub warnings: Vec<GuidelineWarning>,
}

#[derive(SimpleObject)]
pub struct TaperPlanPayload {
    pub plan: TaperPlan,
    pub warnings: Vec<GuidelineWarning>,
}

#[derive(InputObject)]
pub struct CreateTaperPlanInput {
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    /// In the medication's unit; a whole number of its smallest strength.
    pub starting_daily_dose: f64,
    /// Up to 7 days in the past (a plan written up after the visit).
    pub starts_on: Date,
    pub preset: TaperPreset,
    /// CUSTOM only: percent of the current dose per step.
    pub reduction_percent: Option<f64>,
    /// CUSTOM only.
    pub step_days: Option<i32>,
    /// Default 0.
    pub target_daily_dose: Option<f64>,
    /// Default 28; over 30 gives a FOLLOW_UP_GAP warning (CUSTOM only).
    pub follow_up_every_days: Option<i32>,
}

#[derive(InputObject)]
pub struct TaperPlanRef {
    pub plan_id: Uuid,
}

#[derive(InputObject)]
pub struct PauseTaperPlanInput {
    pub plan_id: Uuid,
    pub reason: String,
}

#[derive(InputObject)]
pub struct ReviseTaperPlanInput {
    pub plan_id: Uuid,
    pub reduction_percent: f64,
    pub step_days: i32,
    pub reason: String,
}

async fn view(
    db: &impl ConnectionTrait,
    mut record: PlanRecord,
    patient: patients::Model,
    relationship: Relationship,
) -> ApiResult<TaperPlan> {
    let today = lifecycle::today_in(&patient_timezone(db, &patient).await?, Utc::now());
    plans::complete_if_finished(db, &mut record, today).await?;
    Ok(TaperPlan {
        record,
        patient,
        relationship,
        today,
    })
}

fn warnings_of(plan: &TaperPlan) -> Vec<GuidelineWarning> {
    plan.record
        .warnings()
        .into_iter()
        .map(|w| GuidelineWarning {
            code: w.code,
            message: w.message,
        })
        .collect()
}

/// Loads a plan and checks the caller may act on its patient for `need`.
/// Unknown plans and invisible patients are both `NOT_FOUND`.
async fn authorized_plan(
    ctx: &Context<'_>,
    principal: &Principal,
    plan_id: Uuid,
    need: Need,
    action: &'static str,
) -> ApiResult<(PlanRecord, patients::Model, Relationship)> {
    let db = ctx.db()?;
    let Some(record) = plans::load(db, plan_id).await? else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(principal, action, "TaperPlan", Some(plan_id), None, false),
        )
        .await?;
        return Err(ApiError::NotFound("taper plan"));
    };
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        record.plan.patient_id,
        need,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("taper plan"),
        other => other,
    })?;
    Ok((record, patient, relationship))
}

/// `FORBIDDEN` (audited) unless the caller holds `role`.
async fn require(
    ctx: &Context<'_>,
    principal: &Principal,
    role: Role,
    action: &'static str,
) -> ApiResult<()> {
    authz::policy::require_role_audited(
        ctx.db()?,
        ctx.request_id(),
        principal,
        &[role],
        action,
        "TaperPlan",
    )
    .await
}

fn conflict_on(status: Status, agreed: bool, action: Action) -> ApiResult<Status> {
    lifecycle::transition(status, agreed, action).map_err(ApiError::conflict)
}

fn reason(value: &str) -> ApiResult<String> {
    validation::text("reason", value, 1000)
}

#[derive(Default)]
pub struct TaperingQuery;

#[Object]
impl TaperingQuery {
    /// One taper plan, if the caller may read its patient's taper (else
    /// `NOT_FOUND`).
    async fn taper_plan(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<TaperPlan> {
        let principal = ctx.principal().await?;
        let (record, patient, relationship) = authorized_plan(
            ctx,
            principal,
            id,
            Need::Read(authz::ConsentCategory::Taper),
            "taperPlan.read",
        )
        .await?;
        Ok(view(ctx.db()?, record, patient, relationship).await?)
    }
}

#[derive(Default)]
pub struct TaperingMutation;

#[Object]
impl TaperingMutation {
    /// A care-team clinician drafts a plan from a preset or custom rule;
    /// returns it with any guideline warnings.
    async fn create_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: CreateTaperPlanInput,
    ) -> async_graphql::Result<CreateTaperPlanPayload> {
        let plan = create_plan(ctx, input).await?;
        let warnings = warnings_of(&plan);
        Ok(CreateTaperPlanPayload { plan, warnings })
    }

    /// The patient agrees to a draft plan (shared decision).
    async fn agree_to_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(payload(agree(ctx, input).await?))
    }

    /// A care-team clinician puts an agreed plan into effect (one active
    /// plan per patient and medication; a revision replaces its original).
    async fn activate_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(payload(activate(ctx, input).await?))
    }

    /// Hold the dose where it is (with a reason); later steps move by the
    /// pause's length when it is resumed.
    async fn pause_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: PauseTaperPlanInput,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(payload(pause(ctx, input).await?))
    }

    /// Continue a paused plan from where it stopped.
    async fn resume_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(payload(resume(ctx, input).await?))
    }

    /// A new version from today's dose with a new pace; the old version is
    /// kept, marked superseded with the reason, until the new one is
    /// agreed to and activated.
    async fn revise_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: ReviseTaperPlanInput,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(payload(revise_plan(ctx, input).await?))
    }
}

async fn agree(ctx: &Context<'_>, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Patient, "taperPlan.agree").await?;
    let (record, patient, relationship) = authorized_plan(
        ctx,
        principal,
        input.plan_id,
        Need::ActAsPatient,
        "taperPlan.agree",
    )
    .await?;
    conflict_on(
        record.status(),
        record.plan.patient_agreed_at.is_some(),
        Action::Agree,
    )?;
    let db = ctx.db()?;
    let now = Utc::now();
    let record = if record.plan.patient_agreed_at.is_none() {
        let txn = db.begin().await?;
        let plan =
            plans::update(&txn, record.plan, |p| p.patient_agreed_at = Set(Some(now))).await?;
        plans::record_event(&txn, plan.id, "AGREED", Some(principal.user_id), None, now).await?;
        txn.commit().await?;
        PlanRecord {
            plan,
            steps: record.steps,
        }
    } else {
        record
    };
    view(db, record, patient, relationship).await
}

async fn activate(ctx: &Context<'_>, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Clinician, "taperPlan.activate").await?;
    let (record, patient, relationship) = authorized_plan(
        ctx,
        principal,
        input.plan_id,
        Need::ClinicalWrite,
        "taperPlan.activate",
    )
    .await?;
    conflict_on(
        record.status(),
        record.plan.patient_agreed_at.is_some(),
        Action::Activate,
    )?;
    let db = ctx.db()?;
    let now = Utc::now();
    let txn = db.begin().await?;
    if let Some(original) = record.plan.supersedes_plan_id
        && let Some(original) = taper_plans::Entity::find_by_id(original).one(&txn).await?
        && matches!(
            Status::parse(&original.status),
            Some(Status::Active | Status::Paused)
        )
    {
        let id = original.id;
        plans::update(&txn, original, |p| {
            p.status = Set(Status::Cancelled.as_str().into())
        })
        .await?;
        plans::record_event(&txn, id, "SUPERSEDED", Some(principal.user_id), None, now).await?;
    }
    let plan = plans::update(&txn, record.plan, |p| {
        p.status = Set(Status::Active.as_str().into())
    })
    .await?;
    plans::record_event(
        &txn,
        plan.id,
        "ACTIVATED",
        Some(principal.user_id),
        None,
        now,
    )
    .await?;
    let events = crate::monitoring::check_naloxone(&txn, &patient, now).await?;
    txn.commit().await?;
    ctx.app().hub.publish(events).await;
    view(
        db,
        PlanRecord {
            plan,
            steps: record.steps,
        },
        patient,
        relationship,
    )
    .await
}

async fn pause(ctx: &Context<'_>, input: PauseTaperPlanInput) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Clinician, "taperPlan.pause").await?;
    let why = reason(&input.reason)?;
    let (record, patient, relationship) = authorized_plan(
        ctx,
        principal,
        input.plan_id,
        Need::ClinicalWrite,
        "taperPlan.pause",
    )
    .await?;
    conflict_on(record.status(), true, Action::Pause)?;
    let db = ctx.db()?;
    let today = lifecycle::today_in(&patient_timezone(db, &patient).await?, Utc::now());
    let now = Utc::now();
    let txn = db.begin().await?;
    let plan = plans::update(&txn, record.plan, |p| {
        p.status = Set(Status::Paused.as_str().into());
        p.paused_on = Set(Some(today));
    })
    .await?;
    plans::record_event(
        &txn,
        plan.id,
        "PAUSED",
        Some(principal.user_id),
        Some(&why),
        now,
    )
    .await?;
    txn.commit().await?;
    view(
        db,
        PlanRecord {
            plan,
            steps: record.steps,
        },
        patient,
        relationship,
    )
    .await
}

async fn resume(ctx: &Context<'_>, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Clinician, "taperPlan.resume").await?;
    let (record, patient, relationship) = authorized_plan(
        ctx,
        principal,
        input.plan_id,
        Need::ClinicalWrite,
        "taperPlan.resume",
    )
    .await?;
    conflict_on(record.status(), true, Action::Resume)?;
    let db = ctx.db()?;
    let today = lifecycle::today_in(&patient_timezone(db, &patient).await?, Utc::now());
    let mut steps = record.steps;
    if let Some(paused_on) = record.plan.paused_on {
        lifecycle::shift_for_pause(&mut steps, paused_on, today);
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let plan = plans::update(&txn, record.plan, |p| {
        p.status = Set(Status::Active.as_str().into());
        p.paused_on = Set(None);
    })
    .await?;
    plans::save_steps(&txn, plan.id, &steps).await?;
    plans::record_event(&txn, plan.id, "RESUMED", Some(principal.user_id), None, now).await?;
    let events = crate::monitoring::check_naloxone(&txn, &patient, now).await?;
    txn.commit().await?;
    ctx.app().hub.publish(events).await;
    view(db, PlanRecord { plan, steps }, patient, relationship).await
}

fn payload(plan: TaperPlan) -> TaperPlanPayload {
    let warnings = warnings_of(&plan);
    TaperPlanPayload { plan, warnings }
}

async fn create_plan(ctx: &Context<'_>, input: CreateTaperPlanInput) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Clinician, "taperPlan.create").await?;
    let db = ctx.db()?;
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::ClinicalWrite,
        "taperPlan.create",
    )
    .await?;
    let medication = catalog::load(db, input.medication_id).await?;
    if medication.kind == "REVERSAL" {
        return Err(ApiError::bad_input(
            "medicationId",
            "naloxone is not tapered",
        ));
    }
    let unit = catalog::unit(&medication)
        .ok_or_else(|| ApiError::bad_input("medicationId", "the medication has no strengths"))?;
    let timezone = patient_timezone(db, &patient).await?;
    let today = lifecycle::today_in(&timezone, Utc::now());
    let starts_on = input.starts_on.0;
    if starts_on < today - Duration::days(7) {
        return Err(ApiError::bad_input(
            "startsOn",
            "startsOn may be at most 7 days in the past",
        ));
    }
    if starts_on > today + Duration::days(365) {
        return Err(ApiError::bad_input(
            "startsOn",
            "startsOn may be at most a year ahead",
        ));
    }
    let rule = match input.preset {
        TaperPreset::CdcLongTerm => Rule::CdcLongTerm,
        TaperPreset::CdcShortTerm => Rule::CdcShortTerm,
        TaperPreset::Custom => Rule::Custom {
            reduction_percent: input.reduction_percent.ok_or_else(|| {
                ApiError::bad_input(
                    "reductionPercent",
                    "reductionPercent is required for CUSTOM",
                )
            })?,
            step_days: positive(
                input.step_days.ok_or_else(|| {
                    ApiError::bad_input("stepDays", "stepDays is required for CUSTOM")
                })?,
                "stepDays",
            )?,
        },
    };
    let request = PlanRequest {
        starting_daily_dose: input.starting_daily_dose,
        target_daily_dose: input.target_daily_dose.unwrap_or(0.0),
        starts_on,
        rule,
        follow_up_every_days: positive(
            input.follow_up_every_days.unwrap_or(28),
            "followUpEveryDays",
        )?,
        unit,
        mme_factor: medication.mme_factor,
    };
    let generated =
        schedule::generate(&request).map_err(|e| ApiError::bad_input(e.field, e.message))?;

    let now = Utc::now();
    let txn = db.begin().await?;
    let plan = taper_plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        medication_id: Set(medication.id),
        status: Set(Status::Draft.as_str().into()),
        preset: Set(input.preset.as_str().into()),
        version: Set(1),
        starting_daily_dose: Set(request.starting_daily_dose),
        target_daily_dose: Set(request.target_daily_dose),
        reduction_percent: Set(input.reduction_percent.filter(|_| !rule.is_preset())),
        step_days: Set(input.step_days.filter(|_| !rule.is_preset())),
        follow_up_every_days: Set(request.follow_up_every_days as i32),
        starts_on: Set(starts_on),
        warnings: Set(plans::store_warnings(&generated.warnings)),
        patient_agreed_at: Set(None),
        paused_on: Set(None),
        supersedes_plan_id: Set(None),
        superseded_by_plan_id: Set(None),
        superseded_reason: Set(None),
        created_by_user_id: Set(principal.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    plans::save_steps(&txn, plan.id, &generated.steps).await?;
    plans::record_event(&txn, plan.id, "CREATED", Some(principal.user_id), None, now).await?;
    txn.commit().await?;
    Ok(TaperPlan {
        record: PlanRecord {
            plan,
            steps: generated.steps,
        },
        patient,
        relationship,
        today,
    })
}

fn positive(value: i32, field: &str) -> ApiResult<u32> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_input(field, format!("{field} must be at least 1")))
}

async fn revise_plan(ctx: &Context<'_>, input: ReviseTaperPlanInput) -> ApiResult<TaperPlan> {
    let principal = ctx.principal().await?;
    require(ctx, principal, Role::Clinician, "taperPlan.revise").await?;
    let why = reason(&input.reason)?;
    let (old, patient, relationship) = authorized_plan(
        ctx,
        principal,
        input.plan_id,
        Need::ClinicalWrite,
        "taperPlan.revise",
    )
    .await?;
    let status = old.status();
    conflict_on(status, true, Action::Revise)?;
    if old.plan.superseded_by_plan_id.is_some() {
        return Err(ApiError::conflict(
            "this version was already revised: revise the newest one",
        ));
    }
    let db = ctx.db()?;
    let medication = catalog::load(db, old.plan.medication_id).await?;
    let unit = catalog::unit(&medication)
        .ok_or_else(|| ApiError::bad_input("planId", "the medication has no strengths"))?;
    let today = lifecycle::today_in(&patient_timezone(db, &patient).await?, Utc::now());
    let day = lifecycle::effective_day(status, old.plan.paused_on, today);
    let (starting, starts_on) = match status {
        Status::Draft => (
            old.plan.starting_daily_dose,
            old.plan.starts_on.max(today - Duration::days(7)),
        ),
        _ => (
            lifecycle::dose_on(&old.steps, day).unwrap_or(old.plan.starting_daily_dose),
            today,
        ),
    };
    if starting <= old.plan.target_daily_dose {
        return Err(ApiError::conflict(
            "the plan has already reached its target",
        ));
    }
    let request = PlanRequest {
        starting_daily_dose: starting,
        target_daily_dose: old.plan.target_daily_dose,
        starts_on,
        rule: Rule::Custom {
            reduction_percent: input.reduction_percent,
            step_days: positive(input.step_days, "stepDays")?,
        },
        follow_up_every_days: old.plan.follow_up_every_days.max(1) as u32,
        unit,
        mme_factor: medication.mme_factor,
    };
    let generated =
        schedule::generate(&request).map_err(|e| ApiError::bad_input(e.field, e.message))?;

    let now = Utc::now();
    let txn = db.begin().await?;
    let new_id = Uuid::now_v7();
    let plan = taper_plans::ActiveModel {
        id: Set(new_id),
        organization_id: Set(old.plan.organization_id),
        patient_id: Set(old.plan.patient_id),
        medication_id: Set(old.plan.medication_id),
        status: Set(Status::Draft.as_str().into()),
        preset: Set(TaperPreset::Custom.as_str().into()),
        version: Set(old.plan.version + 1),
        starting_daily_dose: Set(starting),
        target_daily_dose: Set(old.plan.target_daily_dose),
        reduction_percent: Set(Some(input.reduction_percent)),
        step_days: Set(Some(input.step_days)),
        follow_up_every_days: Set(old.plan.follow_up_every_days),
        starts_on: Set(starts_on),
        warnings: Set(plans::store_warnings(&generated.warnings)),
        patient_agreed_at: Set(None),
        paused_on: Set(None),
        supersedes_plan_id: Set(Some(old.plan.id)),
        superseded_by_plan_id: Set(None),
        superseded_reason: Set(None),
        created_by_user_id: Set(principal.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    plans::save_steps(&txn, plan.id, &generated.steps).await?;
    plans::record_event(
        &txn,
        plan.id,
        "CREATED",
        Some(principal.user_id),
        Some(&why),
        now,
    )
    .await?;
    let old_id = old.plan.id;
    plans::update(&txn, old.plan, |p| {
        p.superseded_by_plan_id = Set(Some(new_id));
        p.superseded_reason = Set(Some(why.clone()));
        // A draft is simply replaced; a plan in effect stays in effect
        // until its revision is agreed to and activated.
        if status == Status::Draft {
            p.status = Set(Status::Cancelled.as_str().into());
        }
    })
    .await?;
    plans::record_event(
        &txn,
        old_id,
        "REVISED",
        Some(principal.user_id),
        Some(&why),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(TaperPlan {
        record: PlanRecord {
            plan,
            steps: generated.steps,
        },
        patient,
        relationship,
        today,
    })
}

/// Patient fields of tapering, called from the `Patient` type.
pub mod patient_fields {
    use super::*;

    pub async fn current_plan(
        ctx: &Context<'_>,
        patient: &Patient,
    ) -> ApiResult<Option<TaperPlan>> {
        let db = ctx.db()?;
        match plans::current_for_patient(db, patient.model.id).await? {
            Some(record) => Ok(Some(
                view(
                    db,
                    record,
                    patient.model.clone(),
                    patient.relationship.clone(),
                )
                .await?,
            )),
            None => Ok(None),
        }
    }

    pub async fn all_plans(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Vec<TaperPlan>> {
        let db = ctx.db()?;
        let today = lifecycle::today_in(&patient_timezone(db, &patient.model).await?, Utc::now());
        let mut out = Vec::new();
        for mut record in plans::for_patient(db, patient.model.id).await? {
            plans::complete_if_finished(db, &mut record, today).await?;
            out.push(TaperPlan {
                record,
                patient: patient.model.clone(),
                relationship: patient.relationship.clone(),
                today,
            });
        }
        Ok(out)
    }
}

// ----- regimen: medication orders and naloxone offers -----

pub struct MedicationOrder(pub medication_orders::Model);

#[Object]
impl MedicationOrder {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn medication(&self, ctx: &Context<'_>) -> async_graphql::Result<Medication> {
        Ok(Medication(
            ctx.loaders()?
                .medications
                .load_one(self.0.medication_id)
                .await?
                .ok_or(ApiError::NotFound("medication"))?,
        ))
    }
    /// Per dose, in the medication's unit.
    async fn dose(&self) -> f64 {
        self.0.dose
    }
    async fn doses_per_day(&self) -> i32 {
        self.0.doses_per_day
    }
    async fn starts_on(&self) -> Date {
        self.0.starts_on.into()
    }
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
    async fn prescriber_user_id(&self) -> Uuid {
        self.0.prescriber_user_id
    }
    /// dose × doses per day × the CDC 2022 factor; null without a factor.
    async fn daily_mme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        let medication = ctx
            .loaders()?
            .medications
            .load_one(self.0.medication_id)
            .await?
            .ok_or(ApiError::NotFound("medication"))?;
        Ok(schedule::daily_mme(
            self.0.dose * f64::from(self.0.doses_per_day),
            medication.mme_factor,
        ))
    }
}

#[derive(InputObject)]
pub struct AddMedicationOrderInput {
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    /// Per dose, in the medication's unit.
    pub dose: f64,
    pub doses_per_day: i32,
    pub starts_on: Date,
}

#[derive(SimpleObject)]
pub struct AddMedicationOrderPayload {
    pub order: MedicationOrder,
    pub patient: Patient,
}

#[derive(InputObject)]
pub struct EndMedicationOrderInput {
    pub order_id: Uuid,
    pub ends_on: Date,
}

#[derive(SimpleObject)]
pub struct EndMedicationOrderPayload {
    pub order: MedicationOrder,
}

#[derive(InputObject)]
pub struct RecordNaloxoneOfferInput {
    pub patient_id: Uuid,
}

#[derive(SimpleObject)]
pub struct RecordNaloxoneOfferPayload {
    pub patient: Patient,
}

#[derive(Default)]
pub struct RegimenMutation;

#[Object]
impl RegimenMutation {
    /// A care-team clinician records an opioid order (the regimen).
    async fn add_medication_order(
        &self,
        ctx: &Context<'_>,
        input: AddMedicationOrderInput,
    ) -> async_graphql::Result<AddMedicationOrderPayload> {
        let principal = ctx.principal().await?;
        require(ctx, principal, Role::Clinician, "medicationOrder.add").await?;
        let db = ctx.db()?;
        let (patient, relationship) = authz::authorize_patient(
            db,
            principal,
            ctx.request_id(),
            input.patient_id,
            Need::ClinicalWrite,
            "medicationOrder.add",
        )
        .await?;
        let medication = catalog::load(db, input.medication_id).await?;
        if !(input.dose.is_finite() && input.dose > 0.0 && input.dose <= 10_000.0) {
            return Err(ApiError::bad_input("dose", "dose must be a positive amount").into());
        }
        if !(1..=24).contains(&input.doses_per_day) {
            return Err(
                ApiError::bad_input("dosesPerDay", "dosesPerDay must be from 1 to 24").into(),
            );
        }
        let now = Utc::now();
        let txn = db.begin().await.map_err(ApiError::from)?;
        let order = medication_orders::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient.organization_id),
            patient_id: Set(patient.id),
            medication_id: Set(medication.id),
            dose: Set(input.dose),
            doses_per_day: Set(input.doses_per_day),
            prescriber_user_id: Set(principal.user_id),
            starts_on: Set(input.starts_on.0),
            ends_on: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(ApiError::from)?;
        let events = crate::monitoring::check_naloxone(&txn, &patient, now).await?;
        txn.commit().await.map_err(ApiError::from)?;
        ctx.app().hub.publish(events).await;
        Ok(AddMedicationOrderPayload {
            order: MedicationOrder(order),
            patient: Patient {
                model: patient,
                relationship,
            },
        })
    }

    /// A care-team clinician ends an order.
    async fn end_medication_order(
        &self,
        ctx: &Context<'_>,
        input: EndMedicationOrderInput,
    ) -> async_graphql::Result<EndMedicationOrderPayload> {
        let principal = ctx.principal().await?;
        require(ctx, principal, Role::Clinician, "medicationOrder.end").await?;
        let db = ctx.db()?;
        let Some(order) = medication_orders::Entity::find_by_id(input.order_id)
            .one(db)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound("medication order").into());
        };
        authz::authorize_patient(
            db,
            principal,
            ctx.request_id(),
            order.patient_id,
            Need::ClinicalWrite,
            "medicationOrder.end",
        )
        .await
        .map_err(|_| ApiError::NotFound("medication order"))?;
        if input.ends_on.0 < order.starts_on {
            return Err(ApiError::bad_input(
                "endsOn",
                "endsOn must not be before the order starts",
            )
            .into());
        }
        let mut active: medication_orders::ActiveModel = order.into();
        active.ends_on = Set(Some(input.ends_on.0));
        active.updated_at = Set(Utc::now());
        let order = active.update(db).await.map_err(ApiError::from)?;
        Ok(EndMedicationOrderPayload {
            order: MedicationOrder(order),
        })
    }

    /// A care-team clinician records that naloxone was offered (CDC: at
    /// 50 MME/day or more).
    async fn record_naloxone_offer(
        &self,
        ctx: &Context<'_>,
        input: RecordNaloxoneOfferInput,
    ) -> async_graphql::Result<RecordNaloxoneOfferPayload> {
        let principal = ctx.principal().await?;
        require(ctx, principal, Role::Clinician, "naloxone.offer").await?;
        let db = ctx.db()?;
        let (patient, relationship) = authz::authorize_patient(
            db,
            principal,
            ctx.request_id(),
            input.patient_id,
            Need::ClinicalWrite,
            "naloxone.offer",
        )
        .await?;
        naloxone_offers::ActiveModel {
            id: Set(Uuid::now_v7()),
            patient_id: Set(patient.id),
            offered_by_user_id: Set(principal.user_id),
            offered_at: Set(Utc::now()),
        }
        .insert(db)
        .await
        .map_err(ApiError::from)?;
        Ok(RecordNaloxoneOfferPayload {
            patient: Patient {
                model: patient,
                relationship,
            },
        })
    }
}

pub async fn medication_orders(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<MedicationOrder>> {
    let rows = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .order_by_desc(medication_orders::Column::StartsOn)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(MedicationOrder).collect())
}
