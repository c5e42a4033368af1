//! Doses the patient logs from their phone, and adherence against the
//! schedule. A retried `logDose` (same idempotency key) writes once; a log
//! that takes the day above its scheduled dose is flagged for the
//! monitoring alerts.

use std::collections::BTreeMap;

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use entity::{dose_logs, medication_orders, patients};

use super::{
    adherence,
    catalog::{self, Medication},
    lifecycle::{self, Status},
    plans,
    regimen_store::in_effect,
};
use crate::{
    audit::{self, AuditEvent},
    auth::Role,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    idempotency,
    patients::Patient,
    patients::patient_store::timezone as patient_timezone,
};

const LOG_DOSE: &str = "logDose";

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
    /// The day's logs went above its scheduled dose with this one.
    async fn over_schedule(&self) -> bool {
        self.0.over_schedule
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
    pub taken_dose: f64,
    /// Taken ÷ scheduled, capped at 1.
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
            dose_log: log_dose(ctx, input).await?,
        })
    }
}

/// The sane upper bound of one logged amount, per unit.
fn max_amount(unit: &str) -> f64 {
    if unit == "mcg/hr" { 400.0 } else { 2_000.0 }
}

async fn log_dose(ctx: &Context<'_>, input: LogDoseInput) -> ApiResult<DoseLog> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let patient = if principal.has_role(Role::Patient) {
        patients::Entity::find()
            .filter(patients::Column::UserId.eq(principal.user_id))
            .one(db)
            .await?
    } else {
        None
    };
    let Some(patient) = patient else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(principal, "dose.log", "DoseLog", None, None, false),
        )
        .await?;
        return Err(ApiError::Forbidden);
    };
    idempotency::validate_key(&input.idempotency_key)?;
    let fingerprint = idempotency::fingerprint(&input);
    if let Some(existing) = idempotency::replay(
        db,
        principal.user_id,
        LOG_DOSE,
        &input.idempotency_key,
        &fingerprint,
    )
    .await?
    {
        return existing_log(db, existing).await;
    }

    let medication = catalog::load(db, input.medication_id).await?;
    if !(input.amount.is_finite() && input.amount > 0.0) {
        return Err(ApiError::bad_input("amount", "amount must be above 0"));
    }
    if input.amount > max_amount(&medication.unit) {
        return Err(ApiError::bad_input(
            "amount",
            format!("amount is implausibly large for {}", medication.unit),
        ));
    }
    let now = Utc::now();
    if input.taken_at > now + Duration::minutes(5) {
        return Err(ApiError::bad_input("takenAt", "takenAt is in the future"));
    }
    if input.taken_at < now - Duration::days(14) {
        return Err(ApiError::bad_input(
            "takenAt",
            "takenAt is more than 14 days ago",
        ));
    }
    if let Some(note) = &input.note
        && note.chars().count() > 2000
    {
        return Err(ApiError::bad_input(
            "note",
            "note must be at most 2000 characters",
        ));
    }
    let timezone = patient_timezone(db, &patient).await?;
    let taken_on = lifecycle::today_in(&timezone, input.taken_at);
    let Some(scheduled) = scheduled_on(db, patient.id, medication.id, taken_on).await? else {
        return Err(ApiError::bad_input(
            "medicationId",
            "there is no regimen or taper plan for this medication",
        ));
    };
    let already: f64 = dose_logs::Entity::find()
        .select_only()
        .column(dose_logs::Column::Amount)
        .filter(dose_logs::Column::PatientId.eq(patient.id))
        .filter(dose_logs::Column::MedicationId.eq(medication.id))
        .filter(dose_logs::Column::TakenOn.eq(taken_on))
        .into_tuple::<f64>()
        .all(db)
        .await?
        .iter()
        .sum();
    let over_schedule = scheduled.is_some_and(|s| already + input.amount > s + 1e-9);

    let txn = db.begin().await?;
    let log = dose_logs::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        medication_id: Set(medication.id),
        amount: Set(input.amount),
        taken_at: Set(input.taken_at),
        taken_on: Set(taken_on),
        note: Set(input.note.clone()),
        over_schedule: Set(over_schedule),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if !idempotency::remember(
        &txn,
        principal.user_id,
        LOG_DOSE,
        &input.idempotency_key,
        &fingerprint,
        log.id,
    )
    .await?
    {
        // A concurrent retry with the same key won: answer with its result.
        txn.rollback().await?;
        return match idempotency::replay(
            db,
            principal.user_id,
            LOG_DOSE,
            &input.idempotency_key,
            &fingerprint,
        )
        .await?
        {
            Some(existing) => existing_log(db, existing).await,
            None => Err(ApiError::conflict(
                "a concurrent request with this key failed; retry",
            )),
        };
    }
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "dose.log",
            "DoseLog",
            Some(log.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    let events = crate::monitoring::after_dose(
        &txn,
        &patient,
        taken_on,
        already + input.amount,
        scheduled,
        log.id,
        now,
    )
    .await?;
    txn.commit().await?;
    ctx.app().hub.publish(events).await;
    Ok(DoseLog(log))
}

async fn existing_log(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<DoseLog> {
    dose_logs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(DoseLog)
        .ok_or_else(|| ApiError::conflict("the first request with this key left no dose log"))
}

/// What is scheduled for `medication` on `day`: `Some(Some(dose))` from a
/// plan in effect (or the regimen), `Some(None)` when the patient has the
/// medication but no dose is scheduled that day, `None` when they have no
/// regimen or plan for it at all.
pub async fn scheduled_on(
    db: &impl ConnectionTrait,
    patient: Uuid,
    medication: Uuid,
    day: NaiveDate,
) -> ApiResult<Option<Option<f64>>> {
    let plans = plans::for_patient(db, patient).await?;
    let mut has_plan = false;
    for record in plans.iter().filter(|r| r.plan.medication_id == medication) {
        has_plan = true;
        if matches!(
            record.status(),
            Status::Active | Status::Paused | Status::Completed
        ) && let Some(dose) = lifecycle::dose_on(
            &record.steps,
            lifecycle::effective_day(record.status(), record.plan.paused_on, day),
        ) {
            return Ok(Some(Some(dose)));
        }
    }
    let orders = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .filter(medication_orders::Column::MedicationId.eq(medication))
        .all(db)
        .await?;
    let from_orders: Vec<_> = orders.iter().filter(|o| in_effect(o, day)).collect();
    if !from_orders.is_empty() {
        let total = from_orders
            .iter()
            .map(|o| o.dose * f64::from(o.doses_per_day))
            .sum();
        return Ok(Some(Some(total)));
    }
    Ok((has_plan || !orders.is_empty()).then_some(None))
}

/// A patient's dose logs, oldest first, optionally only those changed since.
pub async fn dose_logs(
    ctx: &Context<'_>,
    patient: Uuid,
    first: Option<i32>,
    after: Option<String>,
    updated_since: Option<DateTime<Utc>>,
) -> ApiResult<Connection<String, DoseLog>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = dose_logs::Entity::find().filter(dose_logs::Column::PatientId.eq(patient));
    if let Some(since) = updated_since {
        query = query.filter(dose_logs::Column::UpdatedAt.gte(since));
    }
    if let Some(after) = page.after {
        query = query.filter(dose_logs::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(dose_logs::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
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
    if to < from {
        return Err(ApiError::bad_input("to", "to must not be before from"));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::bad_input("to", "at most 366 days at a time"));
    }
    let db = ctx.db()?;
    let medication = match medication {
        Some(m) => m,
        None => match plans::current_for_patient(db, patient.model.id).await? {
            Some(record) => record.plan.medication_id,
            None => return Ok(Vec::new()),
        },
    };
    let logs = dose_logs::Entity::find()
        .filter(dose_logs::Column::PatientId.eq(patient.model.id))
        .filter(dose_logs::Column::MedicationId.eq(medication))
        .filter(dose_logs::Column::TakenOn.between(from, to))
        .all(db)
        .await?;
    let mut taken: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for log in &logs {
        *taken.entry(log.taken_on).or_default() += log.amount;
    }
    let schedule = Schedule::load(db, patient.model.id, medication).await?;
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let scheduled = schedule.on(day);
        let taken_dose = taken.get(&day).copied().unwrap_or(0.0);
        let figures = adherence::day(scheduled, taken_dose);
        days.push(DoseAdherenceDay {
            date: day.into(),
            scheduled_dose: scheduled,
            taken_dose,
            adherence: figures.adherence,
            over_schedule: figures.over_schedule,
        });
        day += Duration::days(1);
    }
    Ok(days)
}

/// A medication's schedule, loaded once for a range of days.
struct Schedule {
    plans: Vec<plans::PlanRecord>,
    orders: Vec<medication_orders::Model>,
}

impl Schedule {
    async fn load(db: &impl ConnectionTrait, patient: Uuid, medication: Uuid) -> ApiResult<Self> {
        let plans = plans::for_patient(db, patient)
            .await?
            .into_iter()
            .filter(|r| {
                r.plan.medication_id == medication
                    && matches!(
                        r.status(),
                        Status::Active | Status::Paused | Status::Completed
                    )
            })
            .collect();
        let orders = medication_orders::Entity::find()
            .filter(medication_orders::Column::PatientId.eq(patient))
            .filter(medication_orders::Column::MedicationId.eq(medication))
            .all(db)
            .await?;
        Ok(Self { plans, orders })
    }

    fn on(&self, day: NaiveDate) -> Option<f64> {
        for record in &self.plans {
            let effective = lifecycle::effective_day(record.status(), record.plan.paused_on, day);
            if let Some(dose) = lifecycle::dose_on(&record.steps, effective) {
                return Some(dose);
            }
        }
        let total: Vec<f64> = self
            .orders
            .iter()
            .filter(|o| in_effect(o, day))
            .map(|o| o.dose * f64::from(o.doses_per_day))
            .collect();
        (!total.is_empty()).then(|| total.iter().sum())
    }
}

/// Mean 7-day adherence per patient, for overviews.
pub fn mean_adherence(days: &[DoseAdherenceDay]) -> Option<f64> {
    let figures: Vec<_> = days
        .iter()
        .map(|d| adherence::DayAdherence {
            adherence: d.adherence,
            over_schedule: d.over_schedule,
        })
        .collect();
    adherence::mean(&figures)
}
