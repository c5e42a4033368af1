//! Withdrawal assessments in the database: storing one (under its
//! idempotency key when given, with the alerts it raises, in one
//! transaction), finding one, and a patient's list.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{patients, withdrawal_assessments};

use super::{
    alert_store,
    scales::{Instrument, Score},
};
use crate::{
    audit::{Action, Kind},
    caller::Caller,
    error::{ApiError, ApiResult},
    graphql::pagination::Page,
    idempotency::{self, Claim, IdempotencyKey},
    patients::patient_store,
    tapering::lifecycle,
};

pub const WITHDRAWAL_ASSESSMENT: Kind = Kind::new("WithdrawalAssessment", "assessment");
pub const ASSESSMENT_SUBMIT: Action = WITHDRAWAL_ASSESSMENT.action("assessment.submit");

/// A scored assessment, ready to store.
#[derive(Debug, Clone)]
pub struct NewAssessment<'a> {
    pub instrument: Instrument,
    /// In the published order.
    pub items: &'a [i32],
    pub score: Score,
}

/// Stores the assessment by the caller, dated in the patient's time zone,
/// raises its alerts and records it, in one transaction (with `key` when
/// given); then delivers the alerts live. A concurrent request that won the
/// key gets its assessment.
pub async fn submit(
    caller: &Caller,
    patient: &patients::Model,
    new: NewAssessment<'_>,
    key: Option<&IdempotencyKey>,
) -> ApiResult<withdrawal_assessments::Model> {
    let now = Utc::now();
    let timezone = patient_store::timezone(caller.db(), patient).await?;
    let txn = caller.begin().await?;
    let assessment = withdrawal_assessments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        instrument: Set(new.instrument.as_str().to_owned()),
        items: Set(serde_json::to_string(new.items).unwrap_or_else(|_| "[]".into())),
        total: Set(new.score.total),
        severity: Set(new.score.severity.as_str().to_owned()),
        assessed_by_user_id: Set(caller.user_id()),
        assessed_at: Set(now),
        local_date: Set(lifecycle::today_in(&timezone, now)),
    }
    .insert(&txn)
    .await?;
    let txn = match key {
        None => txn,
        Some(key) => match idempotency::create_once(caller.db(), txn, key, assessment.id).await? {
            Claim::Won(txn) => txn,
            Claim::Replay(existing) => return replayed(caller.db(), existing).await,
        },
    };
    let events = alert_store::after_assessment(&txn, patient, &assessment, now).await?;
    caller.record(
        caller
            .event(ASSESSMENT_SUBMIT)
            .resource(assessment.id)
            .patient(patient.id),
    );
    caller.commit(txn).await?;
    caller.publish(events).await;
    Ok(assessment)
}

/// The assessment an earlier request with the same key created.
pub async fn replayed(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<withdrawal_assessments::Model> {
    withdrawal_assessments::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::conflict("the first request with this key left no assessment"))
}

/// One page of a patient's assessments, newest first (`page.fetch()` rows).
pub async fn page(
    db: &impl ConnectionTrait,
    patient: Uuid,
    page: Page,
) -> ApiResult<Vec<withdrawal_assessments::Model>> {
    let mut query = withdrawal_assessments::Entity::find()
        .filter(withdrawal_assessments::Column::PatientId.eq(patient));
    if let Some(after) = page.after {
        query = query.filter(withdrawal_assessments::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(withdrawal_assessments::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}
