//! The regimen's SQL: a patient's medication orders, their daily MME, and
//! naloxone offers. Read by tapering's surface and by monitoring's alert
//! rules, so it imports no GraphQL file, and the alert checks a write runs
//! in its transaction are handed in by the surface (`alerts`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::{medication_orders, naloxone_offers};

use super::{
    lifecycle::{self, Status},
    mme::{self, MedicationIndication, MmeLine, Source},
    plan_store::{self, PlanRecord},
};
use crate::{caller::Caller, error::ApiResult, notifications::LiveEvent};

/// Orders in effect on `day`.
pub fn in_effect(order: &medication_orders::Model, day: NaiveDate) -> bool {
    order.starts_on <= day && order.ends_on.is_none_or(|end| end >= day)
}

/// The patient's total daily MME on `day` (CLINICAL.md): every opioid; a
/// medication's ACTIVE or PAUSED plan step replaces its orders; buprenorphine
/// and OUD methadone excluded. `None` when nothing counts. Three queries.
pub async fn total_daily_mme(
    db: &impl ConnectionTrait,
    patient: Uuid,
    day: NaiveDate,
) -> ApiResult<Option<f64>> {
    let orders = orders_of(db, patient).await?;
    let plans = plan_store::live_for_patient(db, patient).await?;
    let medications = super::catalog_store::all(db).await?;
    let plan_doses: Vec<(Uuid, f64)> = plans
        .iter()
        .filter_map(|p| Some((p.plan.medication_id, plan_dose_on(p, day)?)))
        .collect();
    Ok(mme::total(&lines_on(
        day,
        &orders,
        &plan_doses,
        &medications,
    )))
}

/// The daily dose an ACTIVE or PAUSED plan has on `day` (the held dose
/// while paused); `None` before its first step or once it is over.
pub fn plan_dose_on(record: &PlanRecord, day: NaiveDate) -> Option<f64> {
    match record.status_on(day) {
        status @ (Status::Active | Status::Paused) => lifecycle::dose_on(
            &record.steps,
            lifecycle::effective_day(status, record.plan.paused_on, day),
        ),
        _ => None,
    }
}

/// An order's indication (a broken row reads as PAIN, the default).
pub fn indication(order: &medication_orders::Model) -> MedicationIndication {
    MedicationIndication::parse(&order.indication).unwrap_or(MedicationIndication::Pain)
}

/// The day's regimen as MME lines: the orders in effect on `day`, and the
/// plan doses given (`(medication, daily dose)` of plans in effect that day,
/// which replace their medication's orders). A plan's indication is OUD
/// when the patient has an order of that medication for OUD in effect.
pub fn lines_on(
    day: NaiveDate,
    orders: &[medication_orders::Model],
    plan_doses: &[(Uuid, f64)],
    medications: &[entity::medications::Model],
) -> Vec<MmeLine> {
    let factor = |id: Uuid| {
        medications
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.mme_factor)
    };
    let current: Vec<_> = orders.iter().filter(|o| in_effect(o, day)).collect();
    let mut lines: Vec<MmeLine> = current
        .iter()
        .map(|o| MmeLine {
            medication_id: o.medication_id,
            daily_dose: o.dose * f64::from(o.doses_per_day),
            factor: factor(o.medication_id),
            indication: indication(o),
            source: Source::Order,
        })
        .collect();
    lines.extend(plan_doses.iter().map(|&(medication_id, daily_dose)| {
        let oud = current.iter().any(|o| {
            o.medication_id == medication_id && indication(o) == MedicationIndication::Oud
        });
        MmeLine {
            medication_id,
            daily_dose,
            factor: factor(medication_id),
            indication: if oud {
                MedicationIndication::Oud
            } else {
                MedicationIndication::Pain
            },
            source: Source::PlanStep,
        }
    }));
    lines
}

/// The daily total of a medication's orders in effect on `day` (the
/// regimen a plan for it starts from); `None` without such an order.
pub fn regimen_dose_on(
    orders: &[medication_orders::Model],
    medication: Uuid,
    day: NaiveDate,
) -> Option<f64> {
    orders
        .iter()
        .filter(|o| o.medication_id == medication && in_effect(o, day))
        .map(|o| o.dose * f64::from(o.doses_per_day))
        .fold(None, |sum, dose| Some(sum.unwrap_or(0.0) + dose))
}

/// What a plan for `medication` starts from on `day`: the daily total of
/// its orders in effect, and whether one of them is for OUD.
pub fn regimen_of(
    orders: &[medication_orders::Model],
    medication: Uuid,
    day: NaiveDate,
) -> (Option<f64>, bool) {
    let oud = orders.iter().any(|o| {
        o.medication_id == medication
            && in_effect(o, day)
            && indication(o) == MedicationIndication::Oud
    });
    (regimen_dose_on(orders, medication, day), oud)
}

/// All of a patient's orders, current and past.
pub async fn orders_of(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<medication_orders::Model>> {
    Ok(medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .order_by_asc(medication_orders::Column::StartsOn)
        .all(db)
        .await?)
}

pub async fn last_naloxone_offer(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Option<DateTime<Utc>>> {
    Ok(naloxone_offers::Entity::find()
        .filter(naloxone_offers::Column::PatientId.eq(patient))
        .order_by_desc(naloxone_offers::Column::OfferedAt)
        .one(db)
        .await?
        .map(|o| o.offered_at))
}

/// An order, if it exists.
pub async fn order(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<Option<medication_orders::Model>> {
    Ok(medication_orders::Entity::find_by_id(id).one(db).await?)
}

/// A patient's orders, current and past, latest start first, as the
/// caller's type for an order (the surface's GraphQL object).
pub async fn medication_orders<T: From<medication_orders::Model>>(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<T>> {
    let rows = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .order_by_desc(medication_orders::Column::StartsOn)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(T::from).collect())
}

/// An order to write, prescribed by the caller.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    /// Per dose, in the medication's unit.
    pub dose: f64,
    pub doses_per_day: i32,
    pub starts_on: NaiveDate,
    pub indication: MedicationIndication,
}

/// Writes an order, then runs `alerts` in the same transaction.
pub async fn add_order(
    caller: &Caller,
    new: NewOrder,
    now: DateTime<Utc>,
    alerts: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<Vec<LiveEvent>>,
) -> ApiResult<(medication_orders::Model, Vec<LiveEvent>)> {
    let txn = caller.begin().await?;
    let order = medication_orders::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.organization_id),
        patient_id: Set(new.patient_id),
        medication_id: Set(new.medication_id),
        dose: Set(new.dose),
        doses_per_day: Set(new.doses_per_day),
        prescriber_user_id: Set(caller.user_id()),
        starts_on: Set(new.starts_on),
        ends_on: Set(None),
        indication: Set(new.indication.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let events = alerts(&txn).await?;
    caller.commit(txn).await?;
    Ok((order, events))
}

/// Ends an order on `ends_on`.
pub async fn end_order(
    db: &impl ConnectionTrait,
    order: medication_orders::Model,
    ends_on: NaiveDate,
) -> ApiResult<medication_orders::Model> {
    let mut active = order.into_active_model();
    active.ends_on = Set(Some(ends_on));
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

/// Records that the caller offered naloxone to a patient now.
pub async fn offer_naloxone(caller: &Caller, patient: Uuid) -> ApiResult<()> {
    naloxone_offers::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient),
        offered_by_user_id: Set(caller.user_id()),
        offered_at: Set(Utc::now()),
    }
    .insert(caller.db())
    .await?;
    Ok(())
}
