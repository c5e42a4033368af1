//! Care teams in the database: who is on a patient's team, who may join
//! one, and adding or taking off a clinician.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use uuid::Uuid;

use entity::{care_team_members, memberships};

use crate::{auth::Role, caller::Caller, error::ApiResult};

/// The care team's clinicians' user ids, longest-serving first.
pub async fn clinician_ids(db: &impl ConnectionTrait, patient_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(care_team_members::Entity::find()
        .select_only()
        .column(care_team_members::Column::ClinicianUserId)
        .filter(care_team_members::Column::PatientId.eq(patient_id))
        .order_by_asc(care_team_members::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?)
}

/// True when `user_id` is a clinician of `organization_id` (only they can
/// join its patients' care teams).
pub async fn is_clinician_of(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Uuid,
) -> ApiResult<bool> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::OrganizationId.eq(organization_id))
        .filter(memberships::Column::Role.eq(Role::Clinician.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// Puts a clinician on a patient's team inside `db` (a transaction, when
/// the caller has one); already on it is not an error.
pub async fn add(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    patient_id: Uuid,
    clinician_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    care_team_members::Entity::insert(care_team_members::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        patient_id: Set(patient_id),
        clinician_user_id: Set(clinician_id),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            care_team_members::Column::PatientId,
            care_team_members::Column::ClinicianUserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The caller's assignment, with the operation's audit events.
pub async fn assign(caller: &Caller, patient_id: Uuid, clinician_id: Uuid) -> ApiResult<()> {
    let txn = caller.begin().await?;
    add(
        &txn,
        caller.organization_id(),
        patient_id,
        clinician_id,
        Utc::now(),
    )
    .await?;
    caller.commit(txn).await
}

/// Takes a clinician off a patient's team (not on it is not an error), with
/// the operation's audit events.
pub async fn remove(caller: &Caller, patient_id: Uuid, clinician_id: Uuid) -> ApiResult<()> {
    let txn = caller.begin().await?;
    care_team_members::Entity::delete_many()
        .filter(care_team_members::Column::PatientId.eq(patient_id))
        .filter(care_team_members::Column::ClinicianUserId.eq(clinician_id))
        .exec(&txn)
        .await?;
    caller.commit(txn).await
}
