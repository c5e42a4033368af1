//! Consents in the database: the ones a user granted or holds, and granting
//! or revoking one (each recorded on the audit trail in its transaction).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::consents;

use crate::{
    audit::{Action, Kind},
    caller::Caller,
    error::ApiResult,
};

pub const CONSENT: Kind = Kind::new("Consent", "consent");
pub const GRANT: Action = CONSENT.action("consent.grant");
pub const REVOKE: Action = CONSENT.action("consent.revoke");

/// A consent to write, already checked.
pub struct NewConsent {
    pub patient_id: Uuid,
    pub grantee_user_id: Uuid,
    /// As `ConsentCategory::encode` stores them.
    pub categories: String,
    pub purpose: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub signature: String,
}

/// Consents in `organization_id` that `user_id` holds, or granted as the
/// patient `patient_id`, newest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Uuid,
    patient_id: Option<Uuid>,
) -> ApiResult<Vec<consents::Model>> {
    let mut mine = Condition::any().add(consents::Column::GranteeUserId.eq(user_id));
    if let Some(patient_id) = patient_id {
        mine = mine.add(consents::Column::PatientId.eq(patient_id));
    }
    Ok(consents::Entity::find()
        .filter(consents::Column::OrganizationId.eq(organization_id))
        .filter(mine)
        .order_by_desc(consents::Column::GrantedAt)
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<consents::Model>> {
    Ok(consents::Entity::find_by_id(id).one(db).await?)
}

/// Writes the caller's consent and its `GRANT` event together.
pub async fn grant(caller: &Caller, new: NewConsent) -> ApiResult<consents::Model> {
    let txn = caller.begin().await?;
    let consent = consents::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        patient_id: Set(new.patient_id),
        grantee_user_id: Set(new.grantee_user_id),
        categories: Set(new.categories),
        purpose: Set(new.purpose),
        granted_at: Set(new.granted_at),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        signed_by_user_id: Set(caller.user_id()),
        signature: Set(new.signature),
    }
    .insert(&txn)
    .await?;
    caller.record(
        caller
            .event(GRANT)
            .resource(consent.id)
            .patient(consent.patient_id),
    );
    caller.commit(txn).await?;
    Ok(consent)
}

/// Marks the consent revoked now, with its `REVOKE` event.
pub async fn revoke(caller: &Caller, consent: consents::Model) -> ApiResult<consents::Model> {
    let txn = caller.begin().await?;
    let mut active = consent.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let consent = active.update(&txn).await?;
    caller.record(
        caller
            .event(REVOKE)
            .resource(consent.id)
            .patient(consent.patient_id),
    );
    caller.commit(txn).await?;
    Ok(consent)
}
