//! Invitations in the database: creating one (with its audit event), finding
//! one by its code, and accepting one — the new account, its patient record
//! or supporter link, its first session and its audit event, in one
//! transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use entity::{invitations, supporter_links};

use super::{
    invitation_rules::INVITATION_TTL,
    user_store::{self, NewAccount},
};
use crate::{
    audit::{self, Action, AuditEvent, Kind},
    auth::{
        Role, TokenService,
        sessions::{self, IssuedSession},
    },
    caller::Caller,
    error::ApiResult,
    patients::{care_team_store, patient_store},
};

pub const INVITATION: Kind = Kind::new("Invitation", "invitation");
pub const CREATE: Action = INVITATION.action("invitation.create");
/// Recorded as done by the new user.
pub const ACCEPT: Action = INVITATION.action("invitation.accept");

/// An invitation to write, already allowed and checked.
pub struct NewInvitation {
    pub email: String,
    pub role: Role,
    pub code_hash: String,
    /// The inviting patient, for a supporter.
    pub patient_user_id: Option<Uuid>,
}

/// Writes the caller's invitation (valid for `INVITATION_TTL`) and its
/// `CREATE` event together.
pub async fn create(caller: &Caller, new: NewInvitation) -> ApiResult<invitations::Model> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let invitation = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        email: Set(new.email),
        role: Set(new.role.as_str().to_owned()),
        code_hash: Set(new.code_hash),
        invited_by_user_id: Set(caller.user_id()),
        patient_user_id: Set(new.patient_user_id),
        expires_at: Set(now + INVITATION_TTL),
        accepted_at: Set(None),
        accepted_user_id: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    caller.record(caller.event(CREATE).resource(invitation.id));
    caller.commit(txn).await?;
    Ok(invitation)
}

pub async fn by_code_hash(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> ApiResult<Option<invitations::Model>> {
    Ok(invitations::Entity::find()
        .filter(invitations::Column::CodeHash.eq(code_hash))
        .one(db)
        .await?)
}

/// Accepts `invitation` for `account` (its role and organization): `None`
/// when another acceptance claimed it first (nothing is written).
pub async fn accept(
    db: &DatabaseConnection,
    tokens: &TokenService,
    request_id: &str,
    invitation: &invitations::Model,
    account: NewAccount,
    now: DateTime<Utc>,
) -> ApiResult<Option<IssuedSession>> {
    let txn = db.begin().await?;
    let user_id = Uuid::now_v7();
    // Single use, even against a concurrent acceptance.
    let claimed = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::value(now))
        .col_expr(invitations::Column::AcceptedUserId, Expr::value(user_id))
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let role = account.role;
    let user = user_store::create(&txn, user_id, account, now).await?;
    let patient_id = link(&txn, invitation, role, user.id, now).await?;
    let event = AuditEvent {
        organization_id: invitation.organization_id,
        actor_user_id: Some(user.id),
        patient_id,
        action: ACCEPT.name,
        resource_type: ACCEPT.kind.name,
        resource_id: Some(invitation.id),
        allowed: true,
    };
    audit::record(&txn, request_id, event).await?;
    let issued = sessions::start_session(tokens, &txn, user, now).await?;
    txn.commit().await?;
    Ok(Some(issued))
}

/// What a new account is tied to, by role: a patient gets their record
/// (and their inviting clinician on its care team); a supporter is linked
/// to the patient who invited them. The patient's id, if any.
async fn link(
    txn: &impl ConnectionTrait,
    invitation: &invitations::Model,
    role: Role,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Option<Uuid>> {
    let organization_id = invitation.organization_id;
    match role {
        Role::Patient => {
            let patient = patient_store::create(txn, organization_id, user_id, now).await?;
            let inviter = invitation.invited_by_user_id;
            if user_store::holds_role(txn, inviter, Role::Clinician).await? {
                care_team_store::add(txn, organization_id, patient.id, inviter, now).await?;
            }
            Ok(Some(patient.id))
        }
        Role::Supporter => {
            // What they may see is still only what that patient grants by
            // consent.
            let patient = match invitation.patient_user_id {
                Some(patient_user) => patient_store::of_user(txn, patient_user).await?,
                None => None,
            };
            let Some(patient) = patient else {
                return Ok(None);
            };
            supporter_links::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(organization_id),
                patient_id: Set(patient.id),
                supporter_user_id: Set(user_id),
                created_at: Set(now),
            }
            .insert(txn)
            .await?;
            Ok(Some(patient.id))
        }
        Role::Clinician | Role::Facilitator | Role::Admin | Role::Auditor | Role::Integration => {
            Ok(None)
        }
    }
}
