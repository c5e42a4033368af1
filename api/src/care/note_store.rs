//! Clinical notes in the database: append-only. There is no update and no
//! delete here; an amendment is a new note that names the one it amends.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::{clinical_notes, patients};

use crate::{audit::AuditEvent, caller::Caller, error::ApiResult};

/// A checked note to add, by the caller.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    pub patient: &'a patients::Model,
    pub appointment_id: Option<Uuid>,
    pub amends_note_id: Option<Uuid>,
    pub body: String,
}

/// Adds the note and records `event` on it, in one transaction.
pub async fn add(
    caller: &Caller,
    new: NewNote<'_>,
    event: AuditEvent,
) -> ApiResult<clinical_notes::Model> {
    let txn = caller.begin().await?;
    let note = clinical_notes::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.patient.organization_id),
        patient_id: Set(new.patient.id),
        author_user_id: Set(caller.user_id()),
        appointment_id: Set(new.appointment_id),
        amends_note_id: Set(new.amends_note_id),
        body: Set(new.body),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    caller.record(event.resource(note.id));
    caller.commit(txn).await?;
    Ok(note)
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
