//! GraphQL surface of withdrawal assessments: COWS by a care-team
//! clinician, SOWS by the patient or a care-team clinician. The server
//! scores them and assigns the band (`scales`); the items are stored, not
//! only the total (`assessment_store`).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use entity::withdrawal_assessments;

use super::{
    assessment_store::{self, ASSESSMENT_SUBMIT, NewAssessment},
    scales,
};
use crate::{
    auth::Role,
    authz::{Need, Relationship},
    caller::{Caller, ContextExt},
    error::ApiResult,
    graphql::{pagination, scalars::Date},
    idempotency::IdempotencyKey,
};

/// The idempotency scope of an assessment.
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

#[derive(Default)]
pub struct AssessmentsMutation;

#[Object]
impl AssessmentsMutation {
    /// COWS (care-team clinician) or SOWS (the patient or a care-team
    /// clinician); scored by the server.
    async fn submit_withdrawal_assessment(
        &self,
        ctx: &Context<'_>,
        input: SubmitWithdrawalAssessmentInput,
    ) -> async_graphql::Result<SubmitWithdrawalAssessmentPayload> {
        let caller = ctx.caller().await?;
        Ok(SubmitWithdrawalAssessmentPayload {
            assessment: submit(&caller, input).await?,
        })
    }
}

/// COWS is clinician-rated; SOWS is the patient's (or a clinician's).
fn roles(instrument: scales::Instrument) -> &'static [Role] {
    match instrument {
        scales::Instrument::Cows => &[Role::Clinician],
        scales::Instrument::Sows => &[Role::Clinician, Role::Patient],
    }
}

/// The care team may submit either scale; the patient only their own SOWS.
fn may_submit(instrument: scales::Instrument, relationship: &Relationship) -> bool {
    relationship.care_team || (instrument == scales::Instrument::Sows && relationship.own)
}

/// Scores and stores an assessment of the patient; a retry with the same
/// key and input answers the first one.
pub async fn submit(
    caller: &Caller,
    input: SubmitWithdrawalAssessmentInput,
) -> ApiResult<WithdrawalAssessment> {
    let instrument: scales::Instrument = input.instrument.into();
    caller.require(roles(instrument), ASSESSMENT_SUBMIT)?;
    // One row, the decision's: a refusal is recorded as denied.
    let access = caller
        .patient_where(
            input.patient_id,
            |r| r.allows(Need::Identity) && may_submit(instrument, r),
            ASSESSMENT_SUBMIT,
        )
        .await?;
    let key = input
        .idempotency_key
        .as_deref()
        .map(|key| IdempotencyKey::new(caller.user_id(), SUBMIT_ASSESSMENT, key, &input))
        .transpose()?;
    if let Some(key) = &key
        && let Some(existing) = key.replay(caller.db()).await?
    {
        let existing = assessment_store::replayed(caller.db(), existing).await?;
        return Ok(WithdrawalAssessment(existing));
    }
    let score = scales::score(instrument, &input.items)?;
    let new = NewAssessment {
        instrument,
        items: &input.items,
        score,
    };
    let stored = assessment_store::submit(caller, &access.patient, new, key.as_ref()).await?;
    Ok(WithdrawalAssessment(stored))
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
    let rows = assessment_store::page(ctx.db()?, patient, page).await?;
    Ok(pagination::connection(
        rows.into_iter()
            .map(|a| (a.id, WithdrawalAssessment(a)))
            .collect(),
        page,
    ))
}
