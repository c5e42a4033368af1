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

use super::schedule;
use crate::{caller::Caller, error::ApiResult, notifications::LiveEvent};

/// Orders in effect on `day`.
pub fn in_effect(order: &medication_orders::Model, day: NaiveDate) -> bool {
    order.starts_on <= day && order.ends_on.is_none_or(|end| end >= day)
}

/// The regimen's daily MME on `day` (CDC 2022 factors; buprenorphine and
/// other factor-less medications excluded). `None` with no opioid order.
pub async fn regimen_daily_mme(
    db: &impl ConnectionTrait,
    patient: Uuid,
    day: NaiveDate,
) -> ApiResult<Option<f64>> {
    let orders = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .all(db)
        .await?;
    let medications = entity::medications::Entity::find().all(db).await?;
    let mut total = None;
    for order in orders.iter().filter(|o| in_effect(o, day)) {
        let factor = medications
            .iter()
            .find(|m| m.id == order.medication_id)
            .and_then(|m| m.mme_factor);
        if let Some(mme) = schedule::daily_mme(order.dose * f64::from(order.doses_per_day), factor)
        {
            *total.get_or_insert(0.0) += mme;
        }
    }
    Ok(total)
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
