//! The regimen's SQL: a patient's medication orders, their daily MME, and
//! naloxone offers. Read by tapering's surface and by monitoring's alert
//! rules, so it imports no GraphQL file.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::{medication_orders, naloxone_offers};

use super::schedule;
use crate::error::ApiResult;

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
