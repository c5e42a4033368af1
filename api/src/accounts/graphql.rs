//! GraphQL surface of accounts: `User`, `Organization`, `me`, invitations.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::invitations;
use crate::{
    auth::{Role, graphql::AuthPayload},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    patients::Patient,
};

/// A person with an account.
pub struct User {
    pub model: entity::users::Model,
    /// True when this object is the caller themselves by construction (a
    /// sign-in payload, resolved before the client holds a token).
    pub signed_in: bool,
}

impl User {
    pub fn new(model: entity::users::Model) -> Self {
        Self {
            model,
            signed_in: false,
        }
    }

    /// The user a sign-in payload returns: resolves as that user.
    pub fn signed_in(model: entity::users::Model) -> Self {
        Self {
            model,
            signed_in: true,
        }
    }

    /// A user another record points at (an author, an actor), through the
    /// request's loader; a dangling id is an internal error.
    pub async fn by_id(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Self> {
        let model = ctx
            .loaders()?
            .users
            .load_one(id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("missing user {id}")))?;
        Ok(Self::new(model))
    }
}

#[Object]
impl User {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn email(&self) -> &str {
        &self.model.email
    }
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }
    /// IANA name, e.g. "America/Chicago": decides what "today" means for them.
    async fn timezone(&self) -> &str {
        &self.model.timezone
    }
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Role>> {
        Ok(ctx
            .loaders()?
            .roles
            .load_one(self.model.id)
            .await?
            .unwrap_or_default())
    }
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(ctx
            .loaders()?
            .organizations
            .load_one(self.model.organization_id)
            .await?
            .map(Organization))
    }
    /// This user's own patient record, shown to themselves only (others
    /// reach a patient through `patient(id)` or `patients`).
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        Ok(own_patient(ctx, self).await?)
    }
}

async fn own_patient(ctx: &Context<'_>, user: &User) -> ApiResult<Option<Patient>> {
    let is_self = user.signed_in
        || ctx
            .principal()
            .await
            .is_ok_and(|principal| principal.user_id == user.model.id);
    if !is_self {
        return Ok(None);
    }
    let patient = entity::patients::Entity::find()
        .filter(entity::patients::Column::UserId.eq(user.model.id))
        .one(ctx.db()?)
        .await?;
    Ok(patient.map(Patient::own))
}

pub struct Organization(pub entity::organizations::Model);

#[Object]
impl Organization {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user. `UNAUTHENTICATED` without a valid access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let principal = ctx.principal().await?;
        let model = ctx
            .loaders()?
            .users
            .load_one(principal.user_id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(User::new(model))
    }
}

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
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Invite someone to the organization. Admins invite clinicians,
    /// facilitators, patients and admins; clinicians invite patients (and
    /// join their care team); patients invite their supporters (family).
    async fn create_invitation(
        &self,
        ctx: &Context<'_>,
        input: CreateInvitationInput,
    ) -> async_graphql::Result<CreateInvitationPayload> {
        Ok(invitations::create(ctx, input).await?)
    }

    /// Accept an invitation: creates the account (and the patient record for
    /// a patient) and signs in.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> async_graphql::Result<AuthPayload> {
        Ok(invitations::accept(ctx, input).await?)
    }
}
