//! Dose logs in the database, and what was scheduled for a day (a plan in
//! effect, else the regimen's orders). A log is written once per
//! idempotency key, with its audit row and the over-schedule alert check in
//! the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{dose_logs, medication_orders, patients};

use super::{
    plan_store::{self, PlanRecord},
    regimen_store::in_effect,
};
use crate::{
    audit::AuditEvent,
    caller::Caller,
    error::{ApiError, ApiResult},
    idempotency::{self, Claim, IdempotencyKey},
    notifications::LiveEvent,
};

/// The log an earlier request with the same idempotency key wrote.
pub async fn existing(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<dose_logs::Model> {
    dose_logs::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::conflict("the first request with this key left no dose log"))
}

/// What the patient logged of `medication` for `day` so far.
pub async fn taken_on(
    db: &impl ConnectionTrait,
    patient: Uuid,
    medication: Uuid,
    day: NaiveDate,
) -> ApiResult<f64> {
    Ok(dose_logs::Entity::find()
        .select_only()
        .column(dose_logs::Column::Amount)
        .filter(dose_logs::Column::PatientId.eq(patient))
        .filter(dose_logs::Column::MedicationId.eq(medication))
        .filter(dose_logs::Column::TakenOn.eq(day))
        .into_tuple::<f64>()
        .all(db)
        .await?
        .iter()
        .sum())
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
    let plans = plan_store::for_patient(db, patient).await?;
    let has_plan = plans.iter().any(|r| r.plan.medication_id == medication);
    let versions = plan_store::ever_in_effect(db, patient).await?;
    if let Some(dose) = plan_store::version_dose_on(&versions, medication, day) {
        return Ok(Some(Some(dose)));
    }
    let orders = orders_of(db, patient, medication).await?;
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

async fn orders_of(
    db: &impl ConnectionTrait,
    patient: Uuid,
    medication: Uuid,
) -> ApiResult<Vec<medication_orders::Model>> {
    Ok(medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .filter(medication_orders::Column::MedicationId.eq(medication))
        .all(db)
        .await?)
}

/// A dose to log, checked, with the day's figures the alert check needs.
#[derive(Debug, Clone)]
pub struct NewDose {
    pub medication_id: Uuid,
    pub amount: f64,
    pub taken_at: DateTime<Utc>,
    /// The patient's day it counts for.
    pub taken_on: NaiveDate,
    pub note: Option<String>,
    /// The day's logs, this one included, go above its schedule.
    pub over_schedule: bool,
    /// The day's logs, this one included.
    pub day_total: f64,
    pub scheduled: Option<f64>,
    /// Transdermal: this patch replaces one that fell off.
    pub replaces_patch: bool,
    /// A patch (mcg/hr): `day_total` is then the highest rate on at one
    /// moment of its 72 hours.
    pub transdermal: bool,
}

/// Writes the log once for `key`: with `audit` (naming the log) and the
/// over-schedule check in its transaction. A concurrent request with the
/// same key that won is answered with its log (and no events).
pub async fn log(
    caller: &Caller,
    key: &IdempotencyKey,
    patient: &patients::Model,
    dose: NewDose,
    audit: AuditEvent,
) -> ApiResult<(dose_logs::Model, Vec<LiveEvent>)> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let log = dose_logs::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        medication_id: Set(dose.medication_id),
        amount: Set(dose.amount),
        taken_at: Set(dose.taken_at),
        taken_on: Set(dose.taken_on),
        note: Set(dose.note),
        over_schedule: Set(dose.over_schedule),
        replaces_patch: Set(dose.replaces_patch),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let txn = match idempotency::create_once(caller.db(), txn, key, log.id).await? {
        Claim::Won(txn) => txn,
        Claim::Replay(existing_id) => {
            return Ok((existing(caller.db(), existing_id).await?, vec![]));
        }
    };
    let (day, measured, scheduled) = (dose.taken_on, dose.day_total, dose.scheduled);
    let events = if dose.transdermal {
        crate::monitoring::after_patch(&txn, patient, day, measured, scheduled, log.id, now).await?
    } else {
        crate::monitoring::after_dose(&txn, patient, day, measured, scheduled, log.id, now).await?
    };
    caller.record(audit.resource(log.id));
    caller.commit(txn).await?;
    Ok((log, events))
}

/// A patient's patches of `medication` applied within 72 hours of `at`
/// (either side): those on at some moment of a patch applied at `at`.
pub async fn patches_around(
    db: &impl ConnectionTrait,
    patient: Uuid,
    medication: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Vec<dose_logs::Model>> {
    let span = chrono::Duration::hours(super::adherence::PATCH_HOURS);
    Ok(dose_logs::Entity::find()
        .filter(dose_logs::Column::PatientId.eq(patient))
        .filter(dose_logs::Column::MedicationId.eq(medication))
        .filter(dose_logs::Column::TakenAt.gt(at - span))
        .filter(dose_logs::Column::TakenAt.lt(at + span))
        .all(db)
        .await?)
}

/// A page of a patient's logs by id (oldest first), `limit` rows after
/// `after`, optionally only those changed since `updated_since`.
pub async fn page(
    db: &impl ConnectionTrait,
    patient: Uuid,
    after: Option<Uuid>,
    limit: u64,
    updated_since: Option<DateTime<Utc>>,
) -> ApiResult<Vec<dose_logs::Model>> {
    let mut query = dose_logs::Entity::find().filter(dose_logs::Column::PatientId.eq(patient));
    if let Some(since) = updated_since {
        query = query.filter(dose_logs::Column::UpdatedAt.gte(since));
    }
    if let Some(after) = after {
        query = query.filter(dose_logs::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(dose_logs::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A patient's logs of `medication` for the days `from` to `to`.
pub async fn logs_between(
    db: &impl ConnectionTrait,
    patient: Uuid,
    medication: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<dose_logs::Model>> {
    Ok(dose_logs::Entity::find()
        .filter(dose_logs::Column::PatientId.eq(patient))
        .filter(dose_logs::Column::MedicationId.eq(medication))
        .filter(dose_logs::Column::TakenOn.between(from, to))
        .all(db)
        .await?)
}

/// A medication's schedule, loaded once for a range of days.
pub struct Schedule {
    medication: Uuid,
    plans: Vec<PlanRecord>,
    orders: Vec<medication_orders::Model>,
}

impl Schedule {
    pub async fn load(
        db: &impl ConnectionTrait,
        patient: Uuid,
        medication: Uuid,
    ) -> ApiResult<Self> {
        let plans = plan_store::ever_in_effect(db, patient)
            .await?
            .into_iter()
            .filter(|r| r.plan.medication_id == medication)
            .collect();
        let orders = orders_of(db, patient, medication).await?;
        Ok(Self {
            medication,
            plans,
            orders,
        })
    }

    /// The daily dose scheduled on `day`: the plan version's in effect that
    /// day (superseded versions keep their days), else the orders' in
    /// effect, else none.
    pub fn on(&self, day: NaiveDate) -> Option<f64> {
        if let Some(dose) = plan_store::version_dose_on(&self.plans, self.medication, day) {
            return Some(dose);
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
