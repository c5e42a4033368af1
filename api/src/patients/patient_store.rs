//! A patient's record in the database: the lookups every domain shares, the
//! page of records a caller may list, and creating a new patient's record.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{patients, users};

use crate::{auth::Principal, authz, error::ApiResult, graphql::pagination::Page};

/// A patient's time zone (their account's).
pub async fn timezone(db: &impl ConnectionTrait, patient: &patients::Model) -> ApiResult<String> {
    Ok(users::Entity::find_by_id(patient.user_id)
        .one(db)
        .await?
        .map_or_else(|| "UTC".to_owned(), |u| u.timezone))
}

/// The patient record of a user, if they have one.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> ApiResult<Option<patients::Model>> {
    Ok(patients::Entity::find()
        .filter(patients::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// One page (by id) of the records `principal` may see (see
/// [`authz::visible_patients`]), fetching one extra row.
pub async fn visible_page(
    db: &impl ConnectionTrait,
    principal: &Principal,
    page: &Page,
) -> ApiResult<Vec<patients::Model>> {
    let mut query = patients::Entity::find().filter(authz::visible_patients(principal));
    if let Some(after) = page.after {
        query = query.filter(patients::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(patients::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

/// Creates the patient record of a new patient account (inside the
/// account's transaction).
pub async fn create(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<patients::Model> {
    Ok(patients::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}
