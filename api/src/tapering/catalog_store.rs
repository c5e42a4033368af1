//! The medication catalog's SQL, and how a row's strengths are stored. The
//! catalog is seeded by a migration from CLINICAL.md and only read.

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

use entity::medications;

use crate::error::{ApiError, ApiResult};

/// The kind of naloxone (`medications.kind`): it reverses an overdose and is
/// never tapered.
pub const REVERSAL: &str = "REVERSAL";

/// Strengths as stored ("5,10,15"), ascending.
pub fn strengths(model: &medications::Model) -> Vec<f64> {
    let mut values: Vec<f64> = model
        .strengths
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    values.sort_by(f64::total_cmp);
    values
}

/// One unit of a medication: its smallest strength.
pub fn unit(model: &medications::Model) -> Option<f64> {
    strengths(model).first().copied()
}

/// A medication named in an input (`medicationId`): bad input when unknown.
pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<medications::Model> {
    medications::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input("medicationId", "no such medication"))
}

/// The whole catalog, by name.
pub async fn all(db: &impl ConnectionTrait) -> ApiResult<Vec<medications::Model>> {
    Ok(medications::Entity::find()
        .order_by_asc(medications::Column::Name)
        .all(db)
        .await?)
}
