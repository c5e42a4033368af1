//! Invitations: the only way into an organization after its first admin.
//! A code is random (256 bits), shown once, stored hashed, single-use,
//! valid for 7 days, and bound to a role, an organization and an email.

use async_graphql::{Context, InputObject, MergedObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    invitation_rules::{self, may_invite},
    invitation_store::{self, CREATE, NewInvitation},
    user_store::{self, EMAIL_TAKEN, NewAccount},
};
use crate::{
    AppContext,
    auth::{
        AuthPayload, Role,
        tokens::{random_secret, secret_hash},
    },
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation,
};

#[derive(MergedObject, Default)]
pub struct AccountsMutations(InvitationsMutation);

#[derive(InputObject)]
pub struct CreateInvitationInput {
    pub email: String,
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct CreateInvitationPayload {
    pub invitation: Invitation,
    /// Shown once: give it to the invitee. Only its hash is stored.
    pub code: String,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    pub code: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// IANA time zone name, e.g. "America/Chicago".
    pub timezone: String,
}

#[derive(Default)]
pub struct InvitationsMutation;

#[Object]
impl InvitationsMutation {
    /// Invite someone to the organization. Admins invite clinicians,
    /// facilitators, patients and admins; clinicians invite patients (and
    /// join their care team); patients invite their supporters (family).
    async fn create_invitation(
        &self,
        ctx: &Context<'_>,
        input: CreateInvitationInput,
    ) -> async_graphql::Result<CreateInvitationPayload> {
        Ok(create(&ctx.caller().await?, input).await?)
    }

    /// Accept an invitation: creates the account (and the patient record for
    /// a patient) and signs in.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> async_graphql::Result<AuthPayload> {
        let app = ctx.app();
        app.auth_limiter.check(ctx.client_ip())?;
        Ok(accept(app, ctx.request_id(), input).await?)
    }
}

async fn create(
    caller: &Caller,
    input: CreateInvitationInput,
) -> ApiResult<CreateInvitationPayload> {
    if !may_invite(caller.principal(), input.role) {
        caller.record(caller.event(CREATE).denied());
        return Err(ApiError::forbidden(format!(
            "your roles may not invite a {}",
            input.role.as_str()
        )));
    }
    let email = validation::email("email", &input.email)?;
    let code = random_secret("inv_");
    let new = NewInvitation {
        email,
        role: input.role,
        code_hash: secret_hash(&code),
        patient_user_id: (input.role == Role::Supporter).then_some(caller.user_id()),
    };
    let invitation = invitation_store::create(caller, new).await?;
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

/// Signs up without a principal: the new user is the actor of the
/// `invitation.accept` event.
async fn accept(
    app: &AppContext,
    request_id: &str,
    input: AcceptInvitationInput,
) -> ApiResult<AuthPayload> {
    let db = app.db.conn()?;
    let email = validation::email("email", &input.email)?;
    let display_name = validation::display_name("displayName", &input.display_name)?;
    let timezone = validation::timezone("timezone", &input.timezone)?;
    validation::new_password("password", &input.password)?;

    let now = Utc::now();
    let invalid = || ApiError::bad_input("code", "this invitation code is invalid or has expired");
    let invitation = invitation_store::by_code_hash(db, &secret_hash(input.code.trim()))
        .await?
        .filter(|i| invitation_rules::is_open(i, &email, now))
        .ok_or_else(invalid)?;
    let role = Role::parse(&invitation.role).ok_or_else(invalid)?;
    if user_store::email_taken(db, &email).await? {
        return Err(ApiError::conflict(EMAIL_TAKEN));
    }
    let account = NewAccount {
        organization_id: invitation.organization_id,
        email,
        password_hash: app.passwords.hash(&input.password).await?,
        display_name,
        timezone,
        role,
    };
    let issued =
        invitation_store::accept(db, &app.tokens, request_id, &invitation, account, now).await?;
    Ok(AuthPayload::from(issued.ok_or_else(invalid)?))
}
