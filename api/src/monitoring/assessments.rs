//! Withdrawal assessments: COWS by a care-team clinician, SOWS by the
//! patient or a care-team clinician. The server scores them and assigns the
//! band; the items are stored, not only the total.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use entity::withdrawal_assessments;

use super::{alerts, scales};
use crate::{
    audit::{self, AuditEvent},
    auth::Role,
    authz::{self, Need},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    idempotency, tapering,
};

const SUBMIT_ASSESSMENT: &str = "submitWithdrawalAssessment";

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[graphql(remote = "scales::Instrument")]
pub enum WithdrawalInstrument {
    /// Clinical Opiate Withdrawal Scale (clinician-rated, 11 items).
    Cows,
    /// Subjective Opiate Withdrawal Scale (patient-rated, 16 items).
    Sows,
}

/// COWS bands (Wesson & Ling 2003): < 5 none, 5–12 mild, 13–24 moderate,
/// 25–36 moderately severe, > 36 severe. SOWS bands are those in common
/// clinical use, not from the original paper: 0 none, 1–10 mild, 11–20
/// moderate, 21–64 severe.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "scales::Severity")]
pub enum WithdrawalSeverity {
    None,
    Mild,
    Moderate,
    ModeratelySevere,
    Severe,
}

pub struct WithdrawalAssessment(pub withdrawal_assessments::Model);

#[Object]
impl WithdrawalAssessment {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn instrument(&self) -> WithdrawalInstrument {
        scales::Instrument::parse(&self.0.instrument)
            .unwrap_or(scales::Instrument::Sows)
            .into()
    }
    /// Item scores in the published order.
    async fn items(&self) -> Vec<i32> {
        serde_json::from_str(&self.0.items).unwrap_or_default()
    }
    async fn total(&self) -> i32 {
        self.0.total
    }
    /// The band of the total (SOWS bands: common clinical use).
    async fn severity(&self) -> WithdrawalSeverity {
        scales::Severity::parse(&self.0.severity)
            .unwrap_or(scales::Severity::None)
            .into()
    }
    async fn assessed_at(&self) -> DateTime<Utc> {
        self.0.assessed_at
    }
    async fn assessed_by_user_id(&self) -> Uuid {
        self.0.assessed_by_user_id
    }
    async fn local_date(&self) -> Date {
        self.0.local_date.into()
    }
}

#[derive(InputObject, Serialize)]
pub struct SubmitWithdrawalAssessmentInput {
    pub patient_id: Uuid,
    pub instrument: WithdrawalInstrument,
    /// COWS: 11 item scores in the published order; SOWS: 16.
    pub items: Vec<i32>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

#[derive(SimpleObject)]
pub struct SubmitWithdrawalAssessmentPayload {
    pub assessment: WithdrawalAssessment,
}

pub async fn submit(
    ctx: &Context<'_>,
    input: SubmitWithdrawalAssessmentInput,
) -> ApiResult<WithdrawalAssessment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let instrument: scales::Instrument = input.instrument.into();
    // COWS is clinician-rated; SOWS is the patient's (or a clinician's).
    let roles: &[Role] = match instrument {
        scales::Instrument::Cows => &[Role::Clinician],
        scales::Instrument::Sows => &[Role::Clinician, Role::Patient],
    };
    if let Err(err) = authz::require_role(principal, roles) {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(
                principal,
                "assessment.submit",
                "WithdrawalAssessment",
                None,
                None,
                false,
            ),
        )
        .await?;
        return Err(err);
    }
    let (patient, relationship) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::Identity,
        "assessment.submit",
    )
    .await?;
    let may_submit =
        relationship.care_team || (instrument == scales::Instrument::Sows && relationship.own);
    if !may_submit {
        return Err(ApiError::NotFound("patient"));
    }
    let key = input.idempotency_key.clone();
    let fingerprint = idempotency::fingerprint(&input);
    if let Some(key) = &key {
        idempotency::validate_key(key)?;
        if let Some(existing) =
            idempotency::replay(db, principal.user_id, SUBMIT_ASSESSMENT, key, &fingerprint).await?
        {
            return existing_assessment(db, existing).await;
        }
    }
    let score =
        scales::score(instrument, &input.items).map_err(|e| ApiError::bad_input("items", e.0))?;
    let now = Utc::now();
    let timezone = crate::patients::patient_store::timezone(db, &patient).await?;
    let txn = db.begin().await?;
    let assessment = withdrawal_assessments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        instrument: Set(instrument.as_str().to_owned()),
        items: Set(serde_json::to_string(&input.items).unwrap_or_else(|_| "[]".into())),
        total: Set(score.total),
        severity: Set(score.severity.as_str().to_owned()),
        assessed_by_user_id: Set(principal.user_id),
        assessed_at: Set(now),
        local_date: Set(tapering::lifecycle::today_in(&timezone, now)),
    }
    .insert(&txn)
    .await?;
    if let Some(key) = &key
        && !idempotency::remember(
            &txn,
            principal.user_id,
            SUBMIT_ASSESSMENT,
            key,
            &fingerprint,
            assessment.id,
        )
        .await?
    {
        txn.rollback().await?;
        return match idempotency::replay(
            db,
            principal.user_id,
            SUBMIT_ASSESSMENT,
            key,
            &fingerprint,
        )
        .await?
        {
            Some(existing) => existing_assessment(db, existing).await,
            None => Err(ApiError::conflict(
                "a concurrent request with this key failed; retry",
            )),
        };
    }
    let events = alerts::after_assessment(&txn, &patient, &assessment, now).await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "assessment.submit",
            "WithdrawalAssessment",
            Some(assessment.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    ctx.app().hub.publish(events).await;
    Ok(WithdrawalAssessment(assessment))
}

async fn existing_assessment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<WithdrawalAssessment> {
    withdrawal_assessments::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(WithdrawalAssessment)
        .ok_or_else(|| ApiError::conflict("the first request with this key left no assessment"))
}

/// A patient's assessments, newest first.
pub async fn list_for_patient(
    ctx: &Context<'_>,
    patient: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, WithdrawalAssessment>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = withdrawal_assessments::Entity::find()
        .filter(withdrawal_assessments::Column::PatientId.eq(patient));
    if let Some(after) = page.after {
        query = query.filter(withdrawal_assessments::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(withdrawal_assessments::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    Ok(pagination::connection(
        rows.into_iter()
            .map(|a| (a.id, WithdrawalAssessment(a)))
            .collect(),
        page,
    ))
}
