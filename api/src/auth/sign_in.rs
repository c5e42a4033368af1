//! GraphQL surface of sign-in: `login`, `refreshSession`, `logout`,
//! `changePassword`. Each call takes one unit of the caller's address
//! budget, so aliases and batches cannot multiply attempts.

use async_graphql::{Context, InputObject, MergedObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    credential_store,
    sessions::{self, IssuedSession},
};
use crate::{
    accounts::User,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation,
};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(MergedObject, Default)]
pub struct AuthMutations(AuthMutation);

pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: entity::users::Model,
}

impl From<IssuedSession> for AuthPayload {
    fn from(issued: IssuedSession) -> Self {
        Self {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_at: issued.expires_at,
            user: issued.user,
        }
    }
}

#[Object]
impl AuthPayload {
    /// Send as `Authorization: Bearer …`; valid 15 minutes.
    async fn access_token(&self) -> &str {
        &self.access_token
    }
    /// Exchange with `refreshSession` for new tokens; single use.
    async fn refresh_token(&self) -> &str {
        &self.refresh_token
    }
    /// When the access token expires.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// The signed-in user; its fields resolve as that user.
    async fn user(&self) -> User {
        User::signed_in(self.user.clone())
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct RefreshSessionInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    pub refresh_token: String,
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    pub ok: bool,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    pub ok: bool,
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Sign in. Unknown email and wrong password give the same
    /// `UNAUTHENTICATED` answer; repeated failures lock the address for a
    /// while (`RATE_LIMITED`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let app = ctx.app();
        app.auth_limiter.check(ctx.client_ip())?;
        let issued = sessions::login(
            &app.tokens,
            &app.passwords,
            ctx.db()?,
            &input.email,
            &input.password,
        )
        .await?;
        Ok(issued.into())
    }

    /// Exchange a refresh token for new tokens. The old refresh token stops
    /// working; presenting it again ends the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> async_graphql::Result<AuthPayload> {
        let app = ctx.app();
        app.auth_limiter.check(ctx.client_ip())?;
        let issued = sessions::refresh(&app.tokens, ctx.db()?, input.refresh_token.trim()).await?;
        Ok(issued.into())
    }

    /// End the session the refresh token belongs to; its access tokens stop
    /// working on their next request.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        sessions::logout(ctx.db()?, input.refresh_token.trim()).await?;
        Ok(LogoutPayload { ok: true })
    }

    /// Change the caller's password; every other session is signed out.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        // The address budget is spent before the caller is looked up.
        ctx.app().auth_limiter.check(ctx.client_ip())?;
        change_password(&ctx.caller().await?, input).await?;
        Ok(ChangePasswordPayload { ok: true })
    }
}

async fn change_password(caller: &Caller, input: ChangePasswordInput) -> ApiResult<()> {
    let passwords = &caller.app().passwords;
    let user = credential_store::account(caller.db(), caller.user_id())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    // The same per-account limit as `login`: a stolen access token cannot
    // be used to guess the password.
    let now = Utc::now();
    sessions::claim_attempt(caller.db(), &user.email, now).await?;
    if !passwords
        .verify(&input.current_password, Some(&user.password_hash))
        .await?
    {
        return Err(ApiError::bad_input(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    sessions::clear_attempts(caller.db(), &user.email).await?;
    validation::new_password("newPassword", &input.new_password)?;
    let hash = passwords.hash(&input.new_password).await?;
    credential_store::set_password(caller, user, hash, now).await
}
