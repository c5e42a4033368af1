//! GraphQL surface of taper plans: the plan, its steps, guideline warnings
//! and history; the `taperPlan` query; the lifecycle mutations (create,
//! agree, activate, pause, resume, revise); and the `Patient` fields that
//! read a patient's plans. Clinical writes belong to care-team clinicians;
//! the patient agrees to plans; `TAPER` consent holders read plans only.
//! Its SQL is in `plan_store`, its rules in `schedule` and `lifecycle`.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use entity::patients;

use super::{
    catalog::Medication,
    catalog_store,
    lifecycle::{self, InEffect, Status},
    mme::{self, MedicationKind},
    plan_store::{self, Activation, NewPlan, PlanRecord},
    regimen_store,
    schedule::{self, Drug, PlanRequest, Rule, Step, TaperPreset},
};
use crate::{
    audit::{Action, Kind},
    auth::Role,
    authz::{ConsentCategory, Need, Relationship},
    caller::{Caller, ContextExt, PatientAccess},
    error::{ApiError, ApiResult},
    graphql::scalars::Date,
    monitoring,
    patients::Patient,
    validation,
};

const TAPER_PLAN: Kind = Kind::new("TaperPlan", "taper plan");
const READ: Action = TAPER_PLAN.action("taperPlan.read");
const CREATE: Action = TAPER_PLAN.action("taperPlan.create");
const AGREE: Action = TAPER_PLAN.action("taperPlan.agree");
const ACTIVATE: Action = TAPER_PLAN.action("taperPlan.activate");
const PAUSE: Action = TAPER_PLAN.action("taperPlan.pause");
const RESUME: Action = TAPER_PLAN.action("taperPlan.resume");
const REVISE: Action = TAPER_PLAN.action("taperPlan.revise");

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
    /// The table `dailyMme` comes from ("CDC_2022"); null with no figure.
    pub conversion_table: Option<String>,
}

impl From<&Step> for TaperStep {
    fn from(s: &Step) -> Self {
        Self {
            index: s.index as i32,
            starts_on: s.starts_on.into(),
            ends_on: s.ends_on.into(),
            daily_dose: s.daily_dose,
            daily_mme: s.daily_mme,
            conversion_table: s.daily_mme.map(|_| mme::CONVERSION_TABLE.to_owned()),
        }
    }
}

/// A guideline check the plan does not meet (CLINICAL.md): shown, never
/// silently corrected, never a hard block.
#[derive(SimpleObject, Clone)]
pub struct GuidelineWarning {
    /// `FASTER_THAN_GUIDELINE`, `LARGE_SINGLE_CUT`, `ABRUPT_STOP`,
    /// `FOLLOW_UP_GAP`, `STARTS_ABOVE_REGIMEN`, `METHADONE_PACE` or
    /// `MOUD_TAPER`.
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
        // Plans from before the presets were stored read as custom.
        TaperPreset::parse(&self.record.plan.preset).unwrap_or(TaperPreset::Custom)
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
    /// The clinician's reason for the plan (required for a MOUD plan).
    async fn reason(&self) -> Option<&str> {
        self.record.plan.reason.as_deref()
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
        self.guideline_warnings()
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
    /// Today's daily dose, in the patient's time zone: the step's; the held
    /// dose while paused; before the first step the regimen's (the
    /// patient's active orders of the medication), null without one.
    async fn todays_dose(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        let status = self.record.status_on(self.today);
        let day = self.effective_day();
        let begun = self
            .record
            .steps
            .first()
            .is_some_and(|s| day >= s.starts_on);
        Ok(match status {
            Status::Active | Status::Paused if !begun => {
                let orders =
                    regimen_store::orders_of(ctx.db()?, self.record.plan.patient_id).await?;
                regimen_store::regimen_dose_on(&orders, self.record.plan.medication_id, self.today)
            }
            Status::Active | Status::Paused | Status::Completed => {
                lifecycle::dose_on(&self.record.steps, day)
            }
            Status::Draft | Status::Cancelled => None,
        })
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
        let rows = plan_store::history(ctx.db()?, self.record.plan.id).await?;
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
    /// The plan as `access` sees it, on the patient's `today`.
    fn seen_by(record: PlanRecord, access: PatientAccess, today: NaiveDate) -> Self {
        Self {
            record,
            patient: access.patient,
            relationship: access.relationship,
            today,
        }
    }

    fn effective_day(&self) -> NaiveDate {
        lifecycle::effective_day(self.record.status(), self.record.plan.paused_on, self.today)
    }

    fn guideline_warnings(&self) -> Vec<GuidelineWarning> {
        self.record
            .warnings()
            .into_iter()
            .map(|w| GuidelineWarning {
                code: w.code,
                message: w.message,
            })
            .collect()
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

impl From<TaperPlan> for TaperPlanPayload {
    fn from(plan: TaperPlan) -> Self {
        let warnings = plan.guideline_warnings();
        Self { plan, warnings }
    }
}

#[derive(InputObject)]
pub struct CreateTaperPlanInput {
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    /// The patient's current prescription, in the medication's unit: above
    /// 0 and at most 2,000 mg/day (400 mcg/hr), dispensable or not.
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
    /// Why this plan: required for a medication for opioid use disorder
    /// (buprenorphine; methadone with an OUD order), which only CUSTOM
    /// plans taper.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct TaperPlanRef {
    pub plan_id: Uuid,
    /// `activateTaperPlan`: required when the plan carries warnings; recorded
    /// in its history with who and when. Ignored elsewhere.
    pub warnings_reason: Option<String>,
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

#[derive(Default)]
pub struct TaperingQuery;

#[Object]
impl TaperingQuery {
    /// One taper plan, if the caller may read its patient's taper (else
    /// `NOT_FOUND`).
    async fn taper_plan(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Option<TaperPlan>> {
        let caller = ctx.caller().await?;
        let (record, access) = plan(&caller, id, Need::Read(ConsentCategory::Taper), READ).await?;
        Ok(Some(view(&caller, record, access).await?))
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
        let plan = create(&ctx.caller().await?, input).await?;
        let warnings = plan.guideline_warnings();
        Ok(CreateTaperPlanPayload { plan, warnings })
    }

    /// The patient agrees to a draft plan (shared decision).
    async fn agree_to_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(agree(&ctx.caller().await?, input).await?.into())
    }

    /// A care-team clinician puts an agreed plan into effect (one active
    /// plan per patient and medication; a revision replaces its original).
    /// Step 1 starts on the later of `startsOn` and today (the patient's
    /// day), every step moved alike; a revision never starts above the dose
    /// in effect. A plan with warnings needs `warningsReason`.
    async fn activate_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(activate(&ctx.caller().await?, input).await?.into())
    }

    /// Hold the dose where it is (with a reason); later steps move by the
    /// pause's length when it is resumed.
    async fn pause_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: PauseTaperPlanInput,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(pause(&ctx.caller().await?, input).await?.into())
    }

    /// Continue a paused plan from where it stopped.
    async fn resume_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: TaperPlanRef,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(resume(&ctx.caller().await?, input).await?.into())
    }

    /// A new version from today's dose with a new pace; the old version is
    /// kept, marked superseded with the reason, until the new one is
    /// agreed to and activated.
    async fn revise_taper_plan(
        &self,
        ctx: &Context<'_>,
        input: ReviseTaperPlanInput,
    ) -> async_graphql::Result<TaperPlanPayload> {
        Ok(revise(&ctx.caller().await?, input).await?.into())
    }
}

/// Loads a plan and checks the caller may act on its patient for `need`.
/// Unknown plans and invisible patients are both `NOT_FOUND`.
async fn plan(
    caller: &Caller,
    id: Uuid,
    need: Need,
    action: Action,
) -> ApiResult<(PlanRecord, PatientAccess)> {
    let record = plan_store::load(caller.db(), id).await?;
    caller
        .child(id, record, |r| r.plan.patient_id, need, action)
        .await
}

/// A plan a mutation is about to change: loaded, checked, and, this being
/// a write path, stored as completed first if its last step has ended.
async fn plan_to_change(
    caller: &Caller,
    id: Uuid,
    need: Need,
    action: Action,
) -> ApiResult<(PlanRecord, PatientAccess)> {
    let (mut record, access) = plan(caller, id, need, action).await?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    plan_store::complete_if_finished(caller.db(), &mut record, today).await?;
    Ok((record, access))
}

/// The plan as the caller sees it today (its status derived: completed if
/// its last step has ended; nothing is written).
async fn view(caller: &Caller, record: PlanRecord, access: PatientAccess) -> ApiResult<TaperPlan> {
    let (record, today) = plan_store::as_of_today(caller.db(), record, &access.patient).await?;
    Ok(TaperPlan::seen_by(record, access, today))
}

fn conflict_on(record: &PlanRecord, agreed: bool, action: lifecycle::Action) -> ApiResult<Status> {
    lifecycle::transition(record.status(), agreed, action).map_err(ApiError::conflict)
}

fn reason(value: &str) -> ApiResult<String> {
    validation::text("reason", value, validation::REASON_MAX)
}

/// One unit of `medication` (its smallest strength), or bad input on
/// `field`.
fn unit_of(medication: &entity::medications::Model, field: &'static str) -> ApiResult<f64> {
    catalog_store::unit(medication)
        .ok_or_else(|| ApiError::bad_input(field, "the medication has no strengths"))
}

/// What the generator needs to know about `medication`.
fn drug_of(medication: &entity::medications::Model) -> Drug {
    Drug {
        strengths: catalog_store::strengths(medication),
        mme_factor: medication.mme_factor,
        per_hour: medication.unit == "mcg/hr",
        moud: MedicationKind::parse(&medication.kind) == Some(MedicationKind::Moud),
        methadone: medication.name == "methadone",
    }
}

async fn create(caller: &Caller, input: CreateTaperPlanInput) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Clinician], CREATE)?;
    let access = caller
        .patient(input.patient_id, Need::ClinicalWrite, CREATE)
        .await?;
    let medication = catalog_store::load(caller.db(), input.medication_id).await?;
    if medication.kind == catalog_store::REVERSAL {
        return Err(ApiError::bad_input(
            "medicationId",
            "naloxone is not tapered",
        ));
    }
    if MedicationKind::parse(&medication.kind) == Some(MedicationKind::Sedative) {
        // The presets, MME and warnings here are opioid guidance (CDC 2022);
        // a benzodiazepine taper follows its own.
        return Err(ApiError::bad_input(
            "medicationId",
            "sedatives are not tapered with opioid guidance",
        ));
    }
    unit_of(&medication, "medicationId")?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    schedule::check_start(input.starts_on.0, today)?;
    let rule = Rule::for_preset(input.preset, input.reduction_percent, input.step_days)?;
    let follow_up = input
        .follow_up_every_days
        .unwrap_or(schedule::DEFAULT_FOLLOW_UP_DAYS);
    let orders = regimen_store::orders_of(caller.db(), access.patient.id).await?;
    let (regimen_daily_dose, oud_order) = regimen_store::regimen_of(&orders, medication.id, today);
    let request = PlanRequest {
        starting_daily_dose: input.starting_daily_dose,
        target_daily_dose: input.target_daily_dose.unwrap_or(0.0),
        starts_on: input.starts_on.0,
        rule,
        follow_up_every_days: schedule::positive(follow_up, "followUpEveryDays")?,
        drug: drug_of(&medication),
        regimen_daily_dose,
        oud_order,
    };
    let generated = schedule::generate(&request)?;
    // A MOUD plan needs the clinician's reason (CLINICAL.md, MOUD_TAPER).
    let why = match input.reason.as_deref() {
        None if request.is_moud() => {
            return Err(ApiError::bad_input(
                "reason",
                "reason is required for a plan for a medication for opioid use disorder",
            ));
        }
        None => None,
        Some(text) => Some(reason(text)?),
    };
    let new = NewPlan {
        organization_id: access.patient.organization_id,
        patient_id: access.patient.id,
        medication_id: medication.id,
        preset: input.preset,
        version: 1,
        starting_daily_dose: request.starting_daily_dose,
        target_daily_dose: request.target_daily_dose,
        reduction_percent: input.reduction_percent.filter(|_| !rule.is_preset()),
        step_days: input.step_days.filter(|_| !rule.is_preset()),
        follow_up_every_days: request.follow_up_every_days as i32,
        starts_on: request.starts_on,
        supersedes_plan_id: None,
        reason: why,
    };
    let record = plan_store::create(caller, new, generated).await?;
    Ok(TaperPlan::seen_by(record, access, today))
}

async fn agree(caller: &Caller, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Patient], AGREE)?;
    let (record, access) = plan_to_change(caller, input.plan_id, Need::ActAsPatient, AGREE).await?;
    let agreed = record.plan.patient_agreed_at.is_some();
    conflict_on(&record, agreed, lifecycle::Action::Agree)?;
    let record = if agreed {
        record
    } else {
        plan_store::agree(caller, record).await?
    };
    view(caller, record, access).await
}

async fn activate(caller: &Caller, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Clinician], ACTIVATE)?;
    let (record, access) =
        plan_to_change(caller, input.plan_id, Need::ClinicalWrite, ACTIVATE).await?;
    let agreed = record.plan.patient_agreed_at.is_some();
    conflict_on(&record, agreed, lifecycle::Action::Activate)?;
    let warnings_reason = warnings_reason(&record, input.warnings_reason.as_deref())?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    let activation = activation(caller, &record, today, warnings_reason).await?;
    let now = Utc::now();
    let patient = &access.patient;
    let (record, events) = plan_store::activate(caller, record, activation, now, async |txn| {
        monitoring::check_naloxone(txn, patient, now).await
    })
    .await?;
    caller.publish(events).await;
    view(caller, record, access).await
}

/// The clinician's reason for activating a plan that carries warnings
/// (required then, CLINICAL.md "Warnings"); optional otherwise.
fn warnings_reason(record: &PlanRecord, given: Option<&str>) -> ApiResult<Option<String>> {
    let given = given.filter(|r| !r.trim().is_empty());
    match given {
        Some(value) => validation::text("warningsReason", value, validation::REASON_MAX).map(Some),
        None if !record.warnings().is_empty() => Err(ApiError::bad_input(
            "warningsReason",
            "this plan carries guideline warnings: give the reason for activating it anyway",
        )),
        None => Ok(None),
    }
}

/// The plan in effect that `record` revises, if any, with the regimen's
/// dose of its medication on `today`: its dose in effect caps the
/// revision's.
async fn original_in_effect(
    caller: &Caller,
    record: &PlanRecord,
    today: NaiveDate,
) -> ApiResult<Option<(PlanRecord, Option<f64>)>> {
    let db = caller.db();
    let Some(original) = plan_store::original_in_effect(db, &record.plan).await? else {
        return Ok(None);
    };
    let Some(original) = plan_store::with_steps(db, vec![original]).await?.pop() else {
        return Ok(None);
    };
    let orders = regimen_store::orders_of(db, original.plan.patient_id).await?;
    let regimen = regimen_store::regimen_dose_on(&orders, original.plan.medication_id, today);
    Ok(Some((original, regimen)))
}

/// The plan's dates on activation `today` (CLINICAL.md, "Dates"): step 1
/// on the later of `startsOn` and today, every step moved alike; a revision
/// never above the dose its original has in effect today.
async fn activation(
    caller: &Caller,
    record: &PlanRecord,
    today: NaiveDate,
    warnings_reason: Option<String>,
) -> ApiResult<Activation> {
    let starts_on = lifecycle::activation_start(record.plan.starts_on, today);
    let mut steps = record.steps.clone();
    lifecycle::redate(&mut steps, starts_on);
    let mut starting_daily_dose = record.plan.starting_daily_dose;
    if let Some((original, regimen)) = original_in_effect(caller, record, today).await? {
        let in_effect = InEffect {
            status: original.status(),
            steps: &original.steps,
            paused_on: original.plan.paused_on,
            regimen,
        };
        if let Some(dose) = in_effect.dose_on(today)
            && dose < starting_daily_dose
        {
            steps = lifecycle::cap_at(&steps, dose);
            starting_daily_dose = dose;
        }
    }
    Ok(Activation {
        steps,
        starts_on,
        starting_daily_dose,
        warnings_reason,
    })
}

async fn pause(caller: &Caller, input: PauseTaperPlanInput) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Clinician], PAUSE)?;
    let why = reason(&input.reason)?;
    let (record, access) =
        plan_to_change(caller, input.plan_id, Need::ClinicalWrite, PAUSE).await?;
    conflict_on(&record, true, lifecycle::Action::Pause)?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    let record = plan_store::pause(caller, record, today, &why).await?;
    view(caller, record, access).await
}

async fn resume(caller: &Caller, input: TaperPlanRef) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Clinician], RESUME)?;
    let (record, access) =
        plan_to_change(caller, input.plan_id, Need::ClinicalWrite, RESUME).await?;
    conflict_on(&record, true, lifecycle::Action::Resume)?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    let mut steps = record.steps.clone();
    if let Some(paused_on) = record.plan.paused_on {
        lifecycle::shift_for_pause(&mut steps, paused_on, today);
    }
    let now = Utc::now();
    let patient = &access.patient;
    let (record, events) = plan_store::resume(caller, record, steps, now, async |txn| {
        monitoring::check_naloxone(txn, patient, now).await
    })
    .await?;
    caller.publish(events).await;
    view(caller, record, access).await
}

async fn revise(caller: &Caller, input: ReviseTaperPlanInput) -> ApiResult<TaperPlan> {
    caller.require(&[Role::Clinician], REVISE)?;
    let why = reason(&input.reason)?;
    let (old, access) = plan_to_change(caller, input.plan_id, Need::ClinicalWrite, REVISE).await?;
    let status = old.status();
    conflict_on(&old, true, lifecycle::Action::Revise)?;
    if old.plan.superseded_by_plan_id.is_some() {
        return Err(ApiError::conflict(
            "this version was already revised: revise the newest one",
        ));
    }
    let medication = catalog_store::load(caller.db(), old.plan.medication_id).await?;
    unit_of(&medication, "planId")?;
    let today = plan_store::today_of(caller.db(), &access.patient).await?;
    let p = &old.plan;
    let orders = regimen_store::orders_of(caller.db(), p.patient_id).await?;
    let regimen = regimen_store::regimen_dose_on(&orders, p.medication_id, today);
    let original = original_in_effect(caller, &old, today).await?;
    let (starting, starts_on) = lifecycle::revision_start(
        InEffect {
            status,
            steps: &old.steps,
            paused_on: p.paused_on,
            regimen,
        },
        p.starting_daily_dose,
        p.starts_on,
        original.as_ref().map(|(o, regimen)| InEffect {
            status: o.status(),
            steps: &o.steps,
            paused_on: o.plan.paused_on,
            regimen: *regimen,
        }),
        today,
    );
    if starting <= p.target_daily_dose {
        return Err(ApiError::conflict(
            "the plan has already reached its target",
        ));
    }
    let (regimen_daily_dose, oud_order) =
        regimen_store::regimen_of(&orders, p.medication_id, today);
    let request = PlanRequest {
        starting_daily_dose: starting,
        target_daily_dose: p.target_daily_dose,
        starts_on,
        rule: Rule::Custom {
            reduction_percent: input.reduction_percent,
            step_days: schedule::positive(input.step_days, "stepDays")?,
        },
        follow_up_every_days: p.follow_up_every_days.max(1) as u32,
        drug: drug_of(&medication),
        regimen_daily_dose,
        oud_order,
    };
    let generated = schedule::generate(&request)?;
    let new = NewPlan {
        organization_id: p.organization_id,
        patient_id: p.patient_id,
        medication_id: p.medication_id,
        preset: TaperPreset::Custom,
        version: p.version + 1,
        starting_daily_dose: starting,
        target_daily_dose: p.target_daily_dose,
        reduction_percent: Some(input.reduction_percent),
        step_days: Some(input.step_days),
        follow_up_every_days: p.follow_up_every_days,
        starts_on,
        supersedes_plan_id: Some(p.id),
        // A revision keeps the plan's own reason (a MOUD plan's stays).
        reason: p.reason.clone(),
    };
    let record = plan_store::revise(caller, old, new, generated, &why).await?;
    Ok(TaperPlan::seen_by(record, access, today))
}

/// `Patient.currentTaperPlan`: the plan in effect, as of the patient's
/// today.
pub async fn current_plan(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Option<TaperPlan>> {
    let db = ctx.db()?;
    let Some(record) = plan_store::current_for_patient(db, patient.model.id).await? else {
        return Ok(None);
    };
    let (record, today) = plan_store::as_of_today(db, record, &patient.model).await?;
    Ok(Some(TaperPlan {
        record,
        patient: patient.model.clone(),
        relationship: patient.relationship.clone(),
        today,
    }))
}

/// `Patient.taperPlans`: every version, newest first.
pub async fn all_plans(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Vec<TaperPlan>> {
    let (records, today) = plan_store::for_patient_as_of_today(ctx.db()?, &patient.model).await?;
    Ok(records
        .into_iter()
        .map(|record| TaperPlan {
            record,
            patient: patient.model.clone(),
            relationship: patient.relationship.clone(),
            today,
        })
        .collect())
}
