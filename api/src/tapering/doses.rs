//! GraphQL surface of doses the patient logs from their phone, and
//! adherence against the schedule. A retried `logDose` (same idempotency
//! key) writes once; a log that takes the day above its scheduled dose is
//! flagged for the monitoring alerts. Its SQL is in `dose_store`.

use std::collections::BTreeMap;

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use entity::dose_logs;

use super::{
    adherence,
    catalog::Medication,
    catalog_store,
    dose_store::{self, NewDose, Schedule},
    lifecycle, plan_store,
};
use crate::{
    audit::{Action, Kind},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult, InputError},
    graphql::{
        pagination,
        scalars::{self, Date},
    },
    idempotency::IdempotencyKey,
    patients::Patient,
    patients::patient_store::timezone as patient_timezone,
    validation,
};

const DOSE_LOG: Kind = Kind::new("DoseLog", "dose log");
const LOG: Action = DOSE_LOG.action("dose.log");
/// The idempotency scope of `logDose`.
const LOG_DOSE: &str = "logDose";

/// Characters in a dose's note.
const NOTE_MAX: usize = 2000;
/// Days of adherence one request may ask for.
const MAX_ADHERENCE_DAYS: i64 = 366;
/// The patch unit: its doses are rates, far smaller than milligrams.
const PATCH_UNIT: &str = "mcg/hr";

pub struct DoseLog(pub dose_logs::Model);

#[Object]
impl DoseLog {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// In the medication's unit.
    async fn amount(&self) -> f64 {
        self.0.amount
    }
    async fn taken_at(&self) -> DateTime<Utc> {
        self.0.taken_at
    }
    /// The day it counts for, in the patient's time zone.
    async fn taken_on(&self) -> Date {
        self.0.taken_on.into()
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
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The day's logs went above its scheduled dose with this one (for a
    /// patch: the patches on at one moment went above the scheduled rate).
    async fn over_schedule(&self) -> bool {
        self.0.over_schedule
    }
    /// Transdermal: this patch replaced one that fell off.
    async fn replaces_patch(&self) -> bool {
        self.0.replaces_patch
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Serialize)]
pub struct LogDoseInput {
    pub medication_id: Uuid,
    /// In the medication's unit.
    pub amount: f64,
    /// Not more than 5 minutes ahead, nor more than 14 days ago.
    pub taken_at: DateTime<Utc>,
    /// Retrying with the same key returns the first result.
    #[serde(skip)]
    pub idempotency_key: String,
    pub note: Option<String>,
    /// Transdermal (mcg/hr): this patch replaces one that fell off, which
    /// it ends; such a replacement is not over the schedule.
    pub replaces_patch: Option<bool>,
}

#[derive(SimpleObject)]
pub struct LogDosePayload {
    pub dose_log: DoseLog,
}

/// One day of adherence.
#[derive(SimpleObject)]
pub struct DoseAdherenceDay {
    pub date: Date,
    /// The plan's (or regimen's) daily dose; null when nothing was scheduled.
    pub scheduled_dose: Option<f64>,
    /// What was logged that day (for patches: the strengths applied).
    pub taken_dose: f64,
    /// Taken ÷ scheduled, capped at 1; for patches (mcg/hr), the share of
    /// the day's hours covered at the scheduled rate (a patch covers 72 h).
    pub adherence: Option<f64>,
    pub over_schedule: bool,
}

#[derive(Default)]
pub struct DosesMutation;

#[Object]
impl DosesMutation {
    /// The patient logs a dose they took.
    async fn log_dose(
        &self,
        ctx: &Context<'_>,
        input: LogDoseInput,
    ) -> async_graphql::Result<LogDosePayload> {
        Ok(LogDosePayload {
            dose_log: log_dose(&ctx.caller().await?, input).await?,
        })
    }
}

/// The sane upper bound of one logged amount, per unit.
fn max_amount(unit: &str) -> f64 {
    if unit == PATCH_UNIT { 400.0 } else { 2_000.0 }
}

/// A plausible dose of a medication in `unit`, taken recently.
fn check_dose(input: &LogDoseInput, unit: &str, now: DateTime<Utc>) -> Result<(), InputError> {
    if !(input.amount.is_finite() && input.amount > 0.0) {
        return Err(InputError::new("amount", "amount must be above 0"));
    }
    if input.amount > max_amount(unit) {
        return Err(InputError::new(
            "amount",
            format!("amount is implausibly large for {unit}"),
        ));
    }
    validation::phone_instant("takenAt", input.taken_at, now)?;
    if input.replaces_patch == Some(true) && unit != PATCH_UNIT {
        return Err(InputError::new(
            "replacesPatch",
            "replacesPatch is only for patches (mcg/hr)",
        ));
    }
    if input
        .note
        .as_ref()
        .is_some_and(|note| note.chars().count() > NOTE_MAX)
    {
        return Err(InputError::new(
            "note",
            format!("note must be at most {NOTE_MAX} characters"),
        ));
    }
    Ok(())
}

async fn log_dose(caller: &Caller, input: LogDoseInput) -> ApiResult<DoseLog> {
    let patient = caller.own_patient(LOG).await?;
    let key = IdempotencyKey::new(caller.user_id(), LOG_DOSE, &input.idempotency_key, &input)?;
    let db = caller.db();
    if let Some(existing) = key.replay(db).await? {
        return Ok(DoseLog(dose_store::existing(db, existing).await?));
    }
    let medication = catalog_store::load(db, input.medication_id).await?;
    check_dose(&input, &medication.unit, Utc::now())?;
    let timezone = patient_timezone(db, &patient).await?;
    let taken_on = lifecycle::today_in(&timezone, input.taken_at);
    let Some(scheduled) = dose_store::scheduled_on(db, patient.id, medication.id, taken_on).await?
    else {
        return Err(ApiError::bad_input(
            "medicationId",
            "there is no regimen or taper plan for this medication",
        ));
    };
    let day_total =
        dose_store::taken_on(db, patient.id, medication.id, taken_on).await? + input.amount;
    let replaces_patch = input.replaces_patch == Some(true);
    let transdermal = medication.unit == PATCH_UNIT;
    // A patch is over schedule when the patches on at one moment of its
    // 72 hours add up to more than the scheduled rate.
    let peak = if transdermal {
        let earlier =
            dose_store::patches_around(db, patient.id, medication.id, input.taken_at).await?;
        Some(patch_peak(&earlier, &input, replaces_patch))
    } else {
        None
    };
    let measured = peak.unwrap_or(day_total);
    let dose = NewDose {
        medication_id: medication.id,
        amount: input.amount,
        taken_at: input.taken_at,
        taken_on,
        note: input.note,
        over_schedule: scheduled.is_some_and(|s| measured > s + adherence::EPSILON),
        day_total: measured,
        scheduled,
        replaces_patch,
        transdermal,
    };
    let audit = caller.event(LOG).patient(patient.id);
    let (log, events) = dose_store::log(caller, &key, &patient, dose, audit).await?;
    caller.publish(events).await;
    Ok(DoseLog(log))
}

/// The highest rate on at one moment while the new patch is on, with the
/// patches logged around it.
fn patch_peak(logged: &[dose_logs::Model], input: &LogDoseInput, replaces: bool) -> f64 {
    let mut patches: Vec<adherence::Patch> = logged.iter().map(patch_of).collect();
    patches.push(adherence::Patch {
        applied_at: input.taken_at,
        rate: input.amount,
        replaces,
    });
    let on = adherence::patches_on(&patches);
    let until = input.taken_at + Duration::hours(adherence::PATCH_HOURS);
    adherence::patch_coverage(&on, input.taken_at, until, 0.0).1
}

fn patch_of(log: &dose_logs::Model) -> adherence::Patch {
    adherence::Patch {
        applied_at: log.taken_at,
        rate: log.amount,
        replaces: log.replaces_patch,
    }
}

/// A patient's dose logs, oldest first, optionally only those changed since.
pub async fn dose_logs(
    ctx: &Context<'_>,
    patient: Uuid,
    first: Option<i32>,
    after: Option<String>,
    updated_since: Option<DateTime<Utc>>,
) -> ApiResult<Connection<String, DoseLog>> {
    scalars::check_optional_instant("updatedSince", updated_since, Utc::now())?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let rows =
        dose_store::page(ctx.db()?, patient, page.after, page.fetch(), updated_since).await?;
    Ok(pagination::connection(
        rows.into_iter().map(|l| (l.id, DoseLog(l))).collect(),
        page,
    ))
}

/// Day-by-day adherence for one medication (the current plan's when not
/// given), in the patient's time zone.
pub async fn adherence_days(
    ctx: &Context<'_>,
    patient: &Patient,
    medication: Option<Uuid>,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<DoseAdherenceDay>> {
    scalars::check_day_range(from, to, MAX_ADHERENCE_DAYS, Utc::now().date_naive())?;
    let db = ctx.db()?;
    let medication = match medication {
        Some(m) => m,
        None => match plan_store::current_for_patient(db, patient.model.id).await? {
            Some(record) => record.plan.medication_id,
            None => return Ok(Vec::new()),
        },
    };
    let transdermal = catalog_store::load(db, medication).await?.unit == PATCH_UNIT;
    // Patches applied up to 72 hours before `from` still cover it.
    let first_log_day = if transdermal {
        from - Duration::days(adherence::PATCH_HOURS / 24 + 1)
    } else {
        from
    };
    let logs =
        dose_store::logs_between(db, patient.model.id, medication, first_log_day, to).await?;
    let timezone = patient_timezone(db, &patient.model).await?;
    let patches = adherence::patches_on(&logs.iter().map(patch_of).collect::<Vec<_>>());
    let mut taken: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for log in &logs {
        *taken.entry(log.taken_on).or_default() += log.amount;
    }
    let schedule = Schedule::load(db, patient.model.id, medication).await?;
    Ok(from
        .iter_days()
        .take_while(|day| *day <= to)
        .map(|day| {
            let scheduled = schedule.on(day);
            let taken_dose = taken.get(&day).copied().unwrap_or(0.0);
            let figures = if transdermal {
                adherence::patch_day(scheduled, &patches, adherence::day_bounds(&timezone, day))
            } else {
                adherence::day(scheduled, taken_dose)
            };
            DoseAdherenceDay {
                date: day.into(),
                scheduled_dose: scheduled,
                taken_dose,
                adherence: figures.adherence,
                over_schedule: figures.over_schedule,
            }
        })
        .collect())
}
