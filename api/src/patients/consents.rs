//! A patient's consents to disclose (42 CFR Part 2 §2.31): to whom (any user
//! of the organization), which categories, for what purpose, until when
//! (one year unless given), signed electronically, revocable at any time —
//! revocation binds from the next request, since every access re-reads it.

use std::collections::BTreeSet;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use entity::consents;

use super::{
    consent_store::{self, GRANT, NewConsent, REVOKE},
    patient_store,
};
use crate::{
    accounts::user_store,
    authz::ConsentCategory,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation,
};

pub const DEFAULT_CONSENT_TTL: Duration = Duration::days(365);
/// Characters in a consent's purpose.
pub const PURPOSE_MAX: usize = 500;

/// A consent as the patient and the recipient see it.
pub struct Consent(pub consents::Model);

#[Object]
impl Consent {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn patient_id(&self) -> Uuid {
        self.0.patient_id
    }
    /// Who receives the information.
    async fn grantee_user_id(&self) -> Uuid {
        self.0.grantee_user_id
    }
    async fn categories(&self) -> Vec<ConsentCategory> {
        ConsentCategory::decode(&self.0.categories)
            .into_iter()
            .collect()
    }
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    async fn granted_at(&self) -> DateTime<Utc> {
        self.0.granted_at
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        Some(self.0.expires_at)
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// The electronic signature: who signed, and when.
    async fn signature(&self) -> &str {
        &self.0.signature
    }
    /// In force now: not revoked and not expired.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at > Utc::now()
    }
}

#[derive(InputObject)]
pub struct GrantConsentInput {
    /// Any user of the organization: a facilitator, a supporter, a clinician.
    pub grantee_user_id: Uuid,
    pub categories: Vec<ConsentCategory>,
    pub purpose: String,
    /// One year from now when not given.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct GrantConsentPayload {
    pub consent: Consent,
}

#[derive(InputObject)]
pub struct RevokeConsentInput {
    pub consent_id: Uuid,
}

#[derive(SimpleObject)]
pub struct RevokeConsentPayload {
    pub consent: Consent,
}

#[derive(Default)]
pub struct ConsentsQuery;

#[Object]
impl ConsentsQuery {
    /// Consents the caller granted (as a patient) or holds (as a recipient),
    /// newest first.
    async fn my_consents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Consent>> {
        Ok(my_consents(&ctx.caller().await?).await?)
    }
}

#[derive(Default)]
pub struct ConsentsMutation;

#[Object]
impl ConsentsMutation {
    /// The patient discloses categories of their record to one user.
    async fn grant_consent(
        &self,
        ctx: &Context<'_>,
        input: GrantConsentInput,
    ) -> async_graphql::Result<GrantConsentPayload> {
        Ok(GrantConsentPayload {
            consent: grant(&ctx.caller().await?, input).await?,
        })
    }

    /// The patient withdraws a consent; it binds from the next request.
    async fn revoke_consent(
        &self,
        ctx: &Context<'_>,
        input: RevokeConsentInput,
    ) -> async_graphql::Result<RevokeConsentPayload> {
        Ok(RevokeConsentPayload {
            consent: revoke(&ctx.caller().await?, input).await?,
        })
    }
}

async fn my_consents(caller: &Caller) -> ApiResult<Vec<Consent>> {
    let patient = patient_store::of_user(caller.db(), caller.user_id()).await?;
    let rows = consent_store::of_user(
        caller.db(),
        caller.organization_id(),
        caller.user_id(),
        patient.map(|p| p.id),
    )
    .await?;
    Ok(rows.into_iter().map(Consent).collect())
}

/// Only patients consent, for their own record.
async fn grant(caller: &Caller, input: GrantConsentInput) -> ApiResult<Consent> {
    let patient = caller.own_patient(GRANT).await?;
    let categories: BTreeSet<ConsentCategory> = input.categories.into_iter().collect();
    if categories.is_empty() {
        return Err(ApiError::bad_input(
            "categories",
            "name at least one category",
        ));
    }
    let purpose = validation::text("purpose", &input.purpose, PURPOSE_MAX)?;
    let now = Utc::now();
    let expires_at = input.expires_at.unwrap_or(now + DEFAULT_CONSENT_TTL);
    if expires_at <= now {
        return Err(ApiError::bad_input(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    if input.grantee_user_id == caller.user_id() {
        return Err(ApiError::bad_input(
            "granteeUserId",
            "a consent names someone other than yourself",
        ));
    }
    let grantee = user_store::by_id(caller.db(), input.grantee_user_id)
        .await?
        .filter(|u| u.organization_id == caller.organization_id())
        .ok_or(ApiError::NotFound("user"))?;
    let signer = user_store::by_id(caller.db(), caller.user_id())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let new = NewConsent {
        patient_id: patient.id,
        grantee_user_id: grantee.id,
        categories: ConsentCategory::encode(&categories),
        purpose,
        granted_at: now,
        expires_at,
        signature: format!(
            "Signed electronically by {} <{}> at {}",
            signer.display_name,
            signer.email,
            now.to_rfc3339()
        ),
    };
    Ok(Consent(consent_store::grant(caller, new).await?))
}

/// Revoking twice answers the consent as it was revoked.
async fn revoke(caller: &Caller, input: RevokeConsentInput) -> ApiResult<Consent> {
    let patient = caller.own_patient(REVOKE).await?;
    let Some(consent) = consent_store::find(caller.db(), input.consent_id)
        .await?
        .filter(|c| c.patient_id == patient.id)
    else {
        caller.record(caller.event(REVOKE).resource(input.consent_id).denied());
        return Err(ApiError::NotFound(consent_store::CONSENT.noun));
    };
    if consent.revoked_at.is_some() {
        return Ok(Consent(consent));
    }
    Ok(Consent(consent_store::revoke(caller, consent).await?))
}
