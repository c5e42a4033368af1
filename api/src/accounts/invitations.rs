//! Invitations: the only way into an organization after its first admin.
//! A code is random (256 bits), shown once, stored hashed, single-use,
//! valid for 7 days, and bound to a role, an organization and an email.

use async_graphql::Context;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use entity::{care_team_members, invitations, memberships, patients, supporter_links, users};

use super::graphql::{
    AcceptInvitationInput, CreateInvitationInput, CreateInvitationPayload, Invitation,
};
use crate::{
    audit::{self, AuditEvent},
    auth::{
        Principal, Role,
        graphql::AuthPayload,
        sessions,
        tokens::{random_secret, secret_hash},
    },
    caller::ContextExt,
    error::{ApiError, ApiResult},
    validation,
};

pub const INVITATION_TTL: Duration = Duration::days(7);

/// Which roles a caller may invite (DESIGN §6, issue: identity).
pub fn may_invite(inviter: &Principal, role: Role) -> bool {
    match role {
        Role::Clinician | Role::Facilitator | Role::Admin => inviter.has_role(Role::Admin),
        Role::Patient => inviter.has_role(Role::Admin) || inviter.has_role(Role::Clinician),
        Role::Supporter => inviter.has_role(Role::Patient),
    }
}

pub async fn create(
    ctx: &Context<'_>,
    input: CreateInvitationInput,
) -> ApiResult<CreateInvitationPayload> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let request_id = ctx.request_id();
    if !may_invite(principal, input.role) {
        audit::record(
            db,
            request_id,
            AuditEvent::by(
                principal,
                "invitation.create",
                "Invitation",
                None,
                None,
                false,
            ),
        )
        .await?;
        return Err(ApiError::Forbidden);
    }
    let email = validation::email("email", &input.email)?;
    let now = Utc::now();
    let code = random_secret("inv_");
    let patient_user_id = (input.role == Role::Supporter).then_some(principal.user_id);
    let txn = db.begin().await?;
    let invitation = invitations::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(principal.organization_id),
        email: Set(email),
        role: Set(input.role.as_str().to_owned()),
        code_hash: Set(secret_hash(&code)),
        invited_by_user_id: Set(principal.user_id),
        patient_user_id: Set(patient_user_id),
        expires_at: Set(now + INVITATION_TTL),
        accepted_at: Set(None),
        accepted_user_id: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        request_id,
        AuditEvent::by(
            principal,
            "invitation.create",
            "Invitation",
            Some(invitation.id),
            None,
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(CreateInvitationPayload {
        invitation: Invitation {
            id: invitation.id,
            email: invitation.email,
            role: input.role,
            expires_at: invitation.expires_at,
        },
        code,
    })
}

pub async fn accept(ctx: &Context<'_>, input: AcceptInvitationInput) -> ApiResult<AuthPayload> {
    let app = ctx.app();
    app.auth_limiter.check(ctx.client_ip())?;
    let db = ctx.db()?;

    let email = validation::email("email", &input.email)?;
    let display_name = validation::display_name("displayName", &input.display_name)?;
    let timezone = validation::timezone("timezone", &input.timezone)?;
    validation::new_password("password", &input.password)?;

    let now = Utc::now();
    let invalid = || ApiError::bad_input("code", "this invitation code is invalid or has expired");
    let invitation = invitations::Entity::find()
        .filter(invitations::Column::CodeHash.eq(secret_hash(input.code.trim())))
        .one(db)
        .await?
        .filter(|i| i.accepted_at.is_none() && i.expires_at > now && i.email == email)
        .ok_or_else(invalid)?;
    let role = Role::parse(&invitation.role).ok_or_else(invalid)?;
    if users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "an account with this email already exists",
        ));
    }
    let password_hash = app.passwords.hash(&input.password).await?;

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
        return Err(invalid());
    }
    let user = users::ActiveModel {
        id: Set(user_id),
        organization_id: Set(invitation.organization_id),
        email: Set(email),
        password_hash: Set(password_hash),
        display_name: Set(display_name),
        timezone: Set(timezone),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("an account with this email already exists")
        }
        _ => ApiError::from(err),
    })?;
    memberships::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(invitation.organization_id),
        user_id: Set(user.id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;

    let mut patient_id = None;
    match role {
        Role::Patient => {
            let patient = patients::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(invitation.organization_id),
                user_id: Set(user.id),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            patient_id = Some(patient.id);
            // A clinician's invitation puts them on the new patient's care team.
            let inviter_is_clinician = memberships::Entity::find()
                .filter(memberships::Column::UserId.eq(invitation.invited_by_user_id))
                .filter(memberships::Column::Role.eq(Role::Clinician.as_str()))
                .one(&txn)
                .await?
                .is_some();
            if inviter_is_clinician {
                care_team_members::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(invitation.organization_id),
                    patient_id: Set(patient.id),
                    clinician_user_id: Set(invitation.invited_by_user_id),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
        Role::Supporter => {
            // Linked to the patient who invited them; what they may see is
            // still only what that patient grants by consent.
            let patient = match invitation.patient_user_id {
                Some(patient_user) => {
                    patients::Entity::find()
                        .filter(patients::Column::UserId.eq(patient_user))
                        .one(&txn)
                        .await?
                }
                None => None,
            };
            if let Some(patient) = patient {
                patient_id = Some(patient.id);
                supporter_links::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(invitation.organization_id),
                    patient_id: Set(patient.id),
                    supporter_user_id: Set(user.id),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
        Role::Clinician | Role::Facilitator | Role::Admin => {}
    }
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent {
            organization_id: invitation.organization_id,
            actor_user_id: Some(user.id),
            patient_id,
            action: "invitation.accept",
            resource_type: "Invitation",
            resource_id: Some(invitation.id),
            allowed: true,
        },
    )
    .await?;
    let issued = sessions::start_session(app, &txn, user, now).await?;
    txn.commit().await?;
    Ok(AuthPayload::from(issued))
}
