//! Check-ins in the database: storing one (under its idempotency key, with
//! the alerts it raises, in one transaction), finding one, and a patient's
//! list.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{check_ins, patients};

use super::alert_store;
use crate::{
    audit::{Action, Kind},
    caller::Caller,
    error::{ApiError, ApiResult},
    graphql::pagination::Page,
    idempotency::{self, Claim, IdempotencyKey},
    patients::patient_store,
    tapering::lifecycle,
};

pub const CHECK_IN: Kind = Kind::new("CheckIn", "check-in");
pub const CHECK_IN_SUBMIT: Action = CHECK_IN.action("checkIn.submit");

/// A checked check-in, ready to store (lists already as JSON arrays).
#[derive(Debug, Clone, Default)]
pub struct NewCheckIn {
    pub pain_score: Option<i32>,
    pub peg_pain: Option<i32>,
    pub peg_enjoyment: Option<i32>,
    pub peg_activity: Option<i32>,
    pub peg_score: Option<f64>,
    pub craving_score: Option<i32>,
    pub mood: Option<i32>,
    pub sleep_hours: Option<f64>,
    pub exercise_minutes: Option<i32>,
    pub mindfulness_minutes: Option<i32>,
    pub meals: Option<i32>,
    pub triggers: String,
    pub coping_strategies: String,
    pub helpful_coping_strategies: String,
    pub note: Option<String>,
    /// When the phone made it (now when absent).
    pub submitted_at: Option<DateTime<Utc>>,
}

/// Stores the patient's check-in under `key`, dated in their time zone by
/// when the phone made it,
/// raises its alerts and records it, in one transaction; then delivers the
/// alerts live. A concurrent request that won the key gets its check-in.
pub async fn submit(
    caller: &Caller,
    patient: &patients::Model,
    new: NewCheckIn,
    key: &IdempotencyKey,
) -> ApiResult<check_ins::Model> {
    let now = Utc::now();
    let timezone = patient_store::timezone(caller.db(), patient).await?;
    let submitted_at = new.submitted_at.unwrap_or(now);
    let local_date = lifecycle::today_in(&timezone, submitted_at);
    let txn = caller.begin().await?;
    let check_in = row(patient, new, (submitted_at, local_date), now)
        .insert(&txn)
        .await?;
    let txn = match idempotency::create_once(caller.db(), txn, key, check_in.id).await? {
        Claim::Won(txn) => txn,
        Claim::Replay(existing) => return replayed(caller.db(), existing).await,
    };
    let events = alert_store::after_check_in(&txn, patient, &check_in, now).await?;
    caller.record(
        caller
            .event(CHECK_IN_SUBMIT)
            .resource(check_in.id)
            .patient(patient.id),
    );
    caller.commit(txn).await?;
    caller.publish(events).await;
    Ok(check_in)
}

fn row(
    patient: &patients::Model,
    new: NewCheckIn,
    (submitted_at, local_date): (DateTime<Utc>, NaiveDate),
    now: DateTime<Utc>,
) -> check_ins::ActiveModel {
    check_ins::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        pain_score: Set(new.pain_score),
        peg_pain: Set(new.peg_pain),
        peg_enjoyment: Set(new.peg_enjoyment),
        peg_activity: Set(new.peg_activity),
        peg_score: Set(new.peg_score),
        craving_score: Set(new.craving_score),
        mood: Set(new.mood),
        sleep_hours: Set(new.sleep_hours),
        exercise_minutes: Set(new.exercise_minutes),
        mindfulness_minutes: Set(new.mindfulness_minutes),
        meals: Set(new.meals),
        triggers: Set(new.triggers),
        coping_strategies: Set(new.coping_strategies),
        helpful_coping_strategies: Set(new.helpful_coping_strategies),
        note: Set(new.note),
        submitted_at: Set(submitted_at),
        local_date: Set(local_date),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The check-in an earlier request with the same key created.
pub async fn replayed(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<check_ins::Model> {
    check_ins::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::conflict("the first request with this key left no check-in"))
}

/// One page of a patient's check-ins, oldest first (`page.fetch()` rows);
/// `updated_since` for mobile sync.
pub async fn page(
    db: &impl ConnectionTrait,
    patient: Uuid,
    updated_since: Option<DateTime<Utc>>,
    page: Page,
) -> ApiResult<Vec<check_ins::Model>> {
    let mut query = check_ins::Entity::find().filter(check_ins::Column::PatientId.eq(patient));
    if let Some(since) = updated_since {
        query = query.filter(check_ins::Column::UpdatedAt.gte(since));
    }
    if let Some(after) = page.after {
        query = query.filter(check_ins::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(check_ins::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}
