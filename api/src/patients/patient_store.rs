//! A patient's record in the database: the lookups every domain shares.

use sea_orm::{ConnectionTrait, EntityTrait};

use entity::{patients, users};

use crate::error::ApiResult;

/// A patient's time zone (their account's).
pub async fn timezone(db: &impl ConnectionTrait, patient: &patients::Model) -> ApiResult<String> {
    Ok(users::Entity::find_by_id(patient.user_id)
        .one(db)
        .await?
        .map_or_else(|| "UTC".to_owned(), |u| u.timezone))
}
