//! The rows a patient's trends are built from (`trend_series`): a fixed
//! handful of queries whatever the range.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{check_ins, dose_logs, medication_orders, medications, withdrawal_assessments};

use super::trend_series::TrendRows;
use crate::{error::ApiResult, tapering::plan_store as plans};

/// The patient's check-ins, assessments and doses from `from` to `to`, all
/// their orders, every plan version that was in effect (superseded ones
/// included), and the catalog (MME factors).
pub async fn rows(
    db: &impl ConnectionTrait,
    patient: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<TrendRows> {
    let check_ins = check_ins::Entity::find()
        .filter(check_ins::Column::PatientId.eq(patient))
        .filter(check_ins::Column::LocalDate.between(from, to))
        .all(db)
        .await?;
    let assessments = withdrawal_assessments::Entity::find()
        .filter(withdrawal_assessments::Column::PatientId.eq(patient))
        .filter(withdrawal_assessments::Column::LocalDate.between(from, to))
        .all(db)
        .await?;
    let dose_logs = dose_logs::Entity::find()
        .filter(dose_logs::Column::PatientId.eq(patient))
        .filter(dose_logs::Column::TakenOn.between(from, to))
        .all(db)
        .await?;
    let orders = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(patient))
        .all(db)
        .await?;
    let medications = medications::Entity::find().all(db).await?;
    let plans = plans::ever_in_effect(db, patient).await?;
    Ok(TrendRows {
        check_ins,
        assessments,
        dose_logs,
        orders,
        plans,
        medications,
    })
}
