//! A patient's consents to disclose (42 CFR Part 2 §2.31): to whom (any user
//! of the organization), which categories, for what purpose, until when
//! (one year unless given), signed electronically, revocable at any time —
//! revocation binds from the next request, since every access re-reads it.

use std::collections::BTreeSet;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use entity::{consents, patients, users};

use crate::{
    audit::{self, AuditEvent},
    auth::{Principal, Role},
    authz::ConsentCategory,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    validation,
};

pub const DEFAULT_CONSENT_TTL: Duration = Duration::days(365);

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

/// The caller's own patient record, or `FORBIDDEN` (only patients consent).
async fn own_patient(
    ctx: &Context<'_>,
    principal: &Principal,
    action: &'static str,
) -> ApiResult<patients::Model> {
    let db = ctx.db()?;
    let patient = if principal.has_role(Role::Patient) {
        patients::Entity::find()
            .filter(patients::Column::UserId.eq(principal.user_id))
            .one(db)
            .await?
    } else {
        None
    };
    match patient {
        Some(patient) => Ok(patient),
        None => {
            audit::record(
                db,
                ctx.request_id(),
                AuditEvent::by(principal, action, "Consent", None, None, false),
            )
            .await?;
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(Default)]
pub struct ConsentsQuery;

#[Object]
impl ConsentsQuery {
    /// Consents the caller granted (as a patient) or holds (as a recipient),
    /// newest first.
    async fn my_consents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Consent>> {
        let principal = ctx.principal().await?;
        let db = ctx.db()?;
        let mut mine = Condition::any().add(consents::Column::GranteeUserId.eq(principal.user_id));
        if let Some(patient) = patients::Entity::find()
            .filter(patients::Column::UserId.eq(principal.user_id))
            .one(db)
            .await
            .map_err(ApiError::from)?
        {
            mine = mine.add(consents::Column::PatientId.eq(patient.id));
        }
        let rows = consents::Entity::find()
            .filter(consents::Column::OrganizationId.eq(principal.organization_id))
            .filter(mine)
            .order_by_desc(consents::Column::GrantedAt)
            .all(db)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Consent).collect())
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
            consent: grant(ctx, input).await?,
        })
    }

    /// The patient withdraws a consent; it binds from the next request.
    async fn revoke_consent(
        &self,
        ctx: &Context<'_>,
        input: RevokeConsentInput,
    ) -> async_graphql::Result<RevokeConsentPayload> {
        Ok(RevokeConsentPayload {
            consent: revoke(ctx, input).await?,
        })
    }
}

async fn grant(ctx: &Context<'_>, input: GrantConsentInput) -> ApiResult<Consent> {
    let principal = ctx.principal().await?;
    let patient = own_patient(ctx, principal, "consent.grant").await?;
    let db = ctx.db()?;

    let categories: BTreeSet<ConsentCategory> = input.categories.into_iter().collect();
    if categories.is_empty() {
        return Err(ApiError::bad_input(
            "categories",
            "name at least one category",
        ));
    }
    let purpose = validation::text("purpose", &input.purpose, 500)?;
    let now = Utc::now();
    let expires_at = input.expires_at.unwrap_or(now + DEFAULT_CONSENT_TTL);
    if expires_at <= now {
        return Err(ApiError::bad_input(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    if input.grantee_user_id == principal.user_id {
        return Err(ApiError::bad_input(
            "granteeUserId",
            "a consent names someone other than yourself",
        ));
    }
    let grantee = users::Entity::find_by_id(input.grantee_user_id)
        .one(db)
        .await?
        .filter(|u| u.organization_id == principal.organization_id)
        .ok_or(ApiError::NotFound("user"))?;
    let signer = users::Entity::find_by_id(principal.user_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;

    let txn = db.begin().await?;
    let consent = consents::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(principal.organization_id),
        patient_id: Set(patient.id),
        grantee_user_id: Set(grantee.id),
        categories: Set(ConsentCategory::encode(&categories)),
        purpose: Set(purpose),
        granted_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        signed_by_user_id: Set(principal.user_id),
        signature: Set(format!(
            "Signed electronically by {} <{}> at {}",
            signer.display_name,
            signer.email,
            now.to_rfc3339()
        )),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "consent.grant",
            "Consent",
            Some(consent.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Consent(consent))
}

async fn revoke(ctx: &Context<'_>, input: RevokeConsentInput) -> ApiResult<Consent> {
    let principal = ctx.principal().await?;
    let patient = own_patient(ctx, principal, "consent.revoke").await?;
    let db = ctx.db()?;
    let Some(consent) = consents::Entity::find_by_id(input.consent_id)
        .one(db)
        .await?
        .filter(|c| c.patient_id == patient.id)
    else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(
                principal,
                "consent.revoke",
                "Consent",
                Some(input.consent_id),
                None,
                false,
            ),
        )
        .await?;
        return Err(ApiError::NotFound("consent"));
    };
    if consent.revoked_at.is_some() {
        return Ok(Consent(consent));
    }
    let txn = db.begin().await?;
    let mut active = consent.into_active_model();
    active.revoked_at = Set(Some(Utc::now()));
    let consent = active.update(&txn).await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "consent.revoke",
            "Consent",
            Some(consent.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Consent(consent))
}
