//! People and their organizations: the `User` and `Organization` objects
//! and the `me` query.

use async_graphql::{Context, MergedObject, Object};
use uuid::Uuid;

use super::{
    user_store,
    visibility::{Standing, shows_contact},
};
use crate::{
    auth::Role,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    patients::{Patient, patient_store},
};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(MergedObject, Default)]
pub struct AccountsQueries(AccountsQuery);

/// A person with an account.
pub struct User {
    pub model: entity::users::Model,
    /// True when this object is the caller themselves by construction (a
    /// sign-in payload, resolved before the client holds a token).
    pub signed_in: bool,
    /// Whether the caller sees the contact fields, decided once.
    contact: tokio::sync::OnceCell<bool>,
}

impl User {
    pub fn new(model: entity::users::Model) -> Self {
        Self {
            model,
            signed_in: false,
            contact: tokio::sync::OnceCell::new(),
        }
    }

    /// The user a sign-in payload returns: resolves as that user.
    pub fn signed_in(model: entity::users::Model) -> Self {
        Self {
            model,
            signed_in: true,
            contact: tokio::sync::OnceCell::new(),
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

    /// True when the caller sees this user's email, timezone and roles
    /// (`visibility::shows_contact`).
    async fn shows_contact(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        if self.signed_in {
            return Ok(true);
        }
        let subject = &self.model;
        self.contact
            .get_or_try_init(|| async {
                let Ok(principal) = ctx.principal().await else {
                    return Ok(false);
                };
                let is_self = principal.user_id == subject.id;
                let admin_of_organization = principal.has_role(Role::Admin)
                    && principal.organization_id == subject.organization_id;
                let mut standing = Standing {
                    is_self,
                    admin_of_organization,
                    ..Standing::default()
                };
                if !shows_contact(standing) {
                    // Once per operation, however many people it shows.
                    let contacts = ctx
                        .loaders()?
                        .contacts
                        .get_or_try_init(|| async {
                            user_store::contacts_of(ctx.db()?, principal.user_id).await
                        })
                        .await?;
                    standing = contacts.standing(subject.id, standing);
                }
                Ok(shows_contact(standing))
            })
            .await
            .copied()
    }
}

#[Object]
impl User {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    /// Null for anyone but the user, their care team, their organization's
    /// admins, and the patients and members they work for.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .shows_contact(ctx)
            .await?
            .then_some(self.model.email.as_str()))
    }
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }
    /// IANA name, e.g. "America/Chicago": decides what "today" means for them.
    /// Null when `email` is.
    async fn timezone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .shows_contact(ctx)
            .await?
            .then_some(self.model.timezone.as_str()))
    }
    /// Null when `email` is.
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Role>>> {
        if !self.shows_contact(ctx).await? {
            return Ok(None);
        }
        Ok(ctx
            .loaders()?
            .roles
            .load_one(self.model.id)
            .await?
            .or(Some(Vec::new())))
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
    let patient = patient_store::of_user(ctx.db()?, user.model.id).await?;
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
