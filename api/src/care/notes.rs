//! Clinical notes in the database: append-only. There is no update and no
//! delete here; an amendment is a new note that names the one it amends.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use entity::clinical_notes;

use crate::error::ApiResult;

pub async fn insert(
    db: &impl ConnectionTrait,
    note: clinical_notes::ActiveModel,
) -> ApiResult<clinical_notes::Model> {
    Ok(note.insert(db).await?)
}

pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<clinical_notes::Model>> {
    Ok(clinical_notes::Entity::find_by_id(id).one(db).await?)
}

/// A patient's notes, newest first.
pub async fn of_patient(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<clinical_notes::Model>> {
    Ok(clinical_notes::Entity::find()
        .filter(clinical_notes::Column::PatientId.eq(patient))
        .order_by_desc(clinical_notes::Column::CreatedAt)
        .order_by_desc(clinical_notes::Column::Id)
        .all(db)
        .await?)
}
