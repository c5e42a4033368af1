//! Daily check-ins from the patient's phone (several a day are fine, each
//! its own record): pain, PEG, craving, mood, sleep, self-care, triggers and
//! coping. Idempotent by key; every range checked, naming the field.

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use entity::{check_ins, patients};

use super::{alerts, scales};
use crate::{
    audit::{self, AuditEvent},
    auth::Role,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    idempotency, tapering,
};

const SUBMIT_CHECK_IN: &str = "submitCheckIn";

pub struct CheckIn(pub check_ins::Model);

fn strings(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[Object]
impl CheckIn {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Pain intensity 0–10 (LOINC 72514-3).
    async fn pain_score(&self) -> Option<i32> {
        self.0.pain_score
    }
    async fn peg_pain(&self) -> Option<i32> {
        self.0.peg_pain
    }
    async fn peg_enjoyment(&self) -> Option<i32> {
        self.0.peg_enjoyment
    }
    async fn peg_activity(&self) -> Option<i32> {
        self.0.peg_activity
    }
    /// PEG score: the mean of its three items (Krebs et al. 2009).
    async fn peg_score(&self) -> Option<f64> {
        self.0.peg_score
    }
    /// Craving 0–10.
    async fn craving_score(&self) -> Option<i32> {
        self.0.craving_score
    }
    /// Mood 1–5.
    async fn mood(&self) -> Option<i32> {
        self.0.mood
    }
    async fn sleep_hours(&self) -> Option<f64> {
        self.0.sleep_hours
    }
    async fn exercise_minutes(&self) -> Option<i32> {
        self.0.exercise_minutes
    }
    async fn mindfulness_minutes(&self) -> Option<i32> {
        self.0.mindfulness_minutes
    }
    async fn meals(&self) -> Option<i32> {
        self.0.meals
    }
    async fn triggers(&self) -> Vec<String> {
        strings(&self.0.triggers)
    }
    async fn coping_strategies(&self) -> Vec<String> {
        strings(&self.0.coping_strategies)
    }
    async fn helpful_coping_strategies(&self) -> Vec<String> {
        strings(&self.0.helpful_coping_strategies)
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// The day it belongs to, in the patient's time zone.
    async fn local_date(&self) -> Date {
        self.0.local_date.into()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Serialize)]
pub struct SubmitCheckInInput {
    /// 0–10.
    pub pain_score: Option<i32>,
    /// PEG items, 0–10 each; the PEG score is their mean.
    pub peg_pain: Option<i32>,
    pub peg_enjoyment: Option<i32>,
    pub peg_activity: Option<i32>,
    /// 0–10.
    pub craving_score: Option<i32>,
    /// 1–5.
    pub mood: Option<i32>,
    /// 0–24.
    pub sleep_hours: Option<f64>,
    /// 0–1440.
    pub exercise_minutes: Option<i32>,
    /// 0–1440.
    pub mindfulness_minutes: Option<i32>,
    pub triggers: Option<Vec<String>>,
    pub coping_strategies: Option<Vec<String>>,
    /// The subset of copingStrategies that helped.
    pub helpful_coping_strategies: Option<Vec<String>>,
    /// Meals eaten that day, 0–10.
    pub meals: Option<i32>,
    pub note: Option<String>,
    #[serde(skip)]
    pub idempotency_key: String,
}

#[derive(SimpleObject)]
pub struct SubmitCheckInPayload {
    pub check_in: CheckIn,
}

fn range(field: &str, value: Option<i32>, min: i32, max: i32) -> ApiResult<()> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(ApiError::bad_input(
            field,
            format!("{field} must be from {min} to {max}"),
        )),
        _ => Ok(()),
    }
}

fn list(field: &str, values: &Option<Vec<String>>) -> ApiResult<String> {
    let values = values.clone().unwrap_or_default();
    if values.len() > 50
        || values
            .iter()
            .any(|v| v.trim().is_empty() || v.chars().count() > 100)
    {
        return Err(ApiError::bad_input(
            field,
            format!("{field}: at most 50 entries of 1 to 100 characters"),
        ));
    }
    Ok(serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()))
}

/// Checks every field of a check-in; `BAD_USER_INPUT` names the first bad one.
pub fn validate(input: &SubmitCheckInInput) -> ApiResult<()> {
    range("painScore", input.pain_score, 0, 10)?;
    range("pegPain", input.peg_pain, 0, 10)?;
    range("pegEnjoyment", input.peg_enjoyment, 0, 10)?;
    range("pegActivity", input.peg_activity, 0, 10)?;
    range("cravingScore", input.craving_score, 0, 10)?;
    range("mood", input.mood, 1, 5)?;
    range("exerciseMinutes", input.exercise_minutes, 0, 1440)?;
    range("mindfulnessMinutes", input.mindfulness_minutes, 0, 1440)?;
    range("meals", input.meals, 0, 10)?;
    if let Some(sleep) = input.sleep_hours
        && !(sleep.is_finite() && (0.0..=24.0).contains(&sleep))
    {
        return Err(ApiError::bad_input(
            "sleepHours",
            "sleepHours must be from 0 to 24",
        ));
    }
    let pegs = [input.peg_pain, input.peg_enjoyment, input.peg_activity];
    if pegs.iter().any(Option::is_some) && pegs.iter().any(Option::is_none) {
        let missing = ["pegPain", "pegEnjoyment", "pegActivity"]
            .into_iter()
            .zip(pegs)
            .find(|(_, v)| v.is_none())
            .map_or("pegPain", |(f, _)| f);
        return Err(ApiError::bad_input(missing, "PEG needs all three items"));
    }
    let coping = input.coping_strategies.clone().unwrap_or_default();
    if let Some(helpful) = &input.helpful_coping_strategies
        && let Some(extra) = helpful.iter().find(|h| !coping.contains(h))
    {
        return Err(ApiError::bad_input(
            "helpfulCopingStrategies",
            format!("\"{extra}\" is not among copingStrategies"),
        ));
    }
    if let Some(note) = &input.note
        && note.chars().count() > 2000
    {
        return Err(ApiError::bad_input(
            "note",
            "note must be at most 2000 characters",
        ));
    }
    list("triggers", &input.triggers)?;
    list("copingStrategies", &input.coping_strategies)?;
    list("helpfulCopingStrategies", &input.helpful_coping_strategies)?;
    Ok(())
}

/// The caller's own patient record, or `FORBIDDEN` (audited).
pub async fn own_patient(
    ctx: &Context<'_>,
    action: &'static str,
    resource: &'static str,
) -> ApiResult<patients::Model> {
    let principal = ctx.principal().await?;
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
                AuditEvent::by(principal, action, resource, None, None, false),
            )
            .await?;
            Err(ApiError::Forbidden)
        }
    }
}

pub async fn submit(ctx: &Context<'_>, input: SubmitCheckInInput) -> ApiResult<CheckIn> {
    let patient = own_patient(ctx, "checkIn.submit", "CheckIn").await?;
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    idempotency::validate_key(&input.idempotency_key)?;
    let fingerprint = idempotency::fingerprint(&input);
    if let Some(existing) = idempotency::replay(
        db,
        principal.user_id,
        SUBMIT_CHECK_IN,
        &input.idempotency_key,
        &fingerprint,
    )
    .await?
    {
        return existing_check_in(db, existing).await;
    }
    validate(&input)?;
    let now = Utc::now();
    let timezone = crate::patients::patient_store::timezone(db, &patient).await?;
    let txn = db.begin().await?;
    let check_in = check_ins::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        pain_score: Set(input.pain_score),
        peg_pain: Set(input.peg_pain),
        peg_enjoyment: Set(input.peg_enjoyment),
        peg_activity: Set(input.peg_activity),
        peg_score: Set(scales::peg(
            input.peg_pain,
            input.peg_enjoyment,
            input.peg_activity,
        )),
        craving_score: Set(input.craving_score),
        mood: Set(input.mood),
        sleep_hours: Set(input.sleep_hours),
        exercise_minutes: Set(input.exercise_minutes),
        mindfulness_minutes: Set(input.mindfulness_minutes),
        meals: Set(input.meals),
        triggers: Set(list("triggers", &input.triggers)?),
        coping_strategies: Set(list("copingStrategies", &input.coping_strategies)?),
        helpful_coping_strategies: Set(list(
            "helpfulCopingStrategies",
            &input.helpful_coping_strategies,
        )?),
        note: Set(input.note.clone()),
        submitted_at: Set(now),
        local_date: Set(tapering::lifecycle::today_in(&timezone, now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if !idempotency::remember(
        &txn,
        principal.user_id,
        SUBMIT_CHECK_IN,
        &input.idempotency_key,
        &fingerprint,
        check_in.id,
    )
    .await?
    {
        txn.rollback().await?;
        return match idempotency::replay(
            db,
            principal.user_id,
            SUBMIT_CHECK_IN,
            &input.idempotency_key,
            &fingerprint,
        )
        .await?
        {
            Some(existing) => existing_check_in(db, existing).await,
            None => Err(ApiError::conflict(
                "a concurrent request with this key failed; retry",
            )),
        };
    }
    let events = alerts::after_check_in(&txn, &patient, &check_in, now).await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            "checkIn.submit",
            "CheckIn",
            Some(check_in.id),
            Some(patient.id),
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    ctx.app().hub.publish(events).await;
    Ok(CheckIn(check_in))
}

async fn existing_check_in(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<CheckIn> {
    check_ins::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(CheckIn)
        .ok_or_else(|| ApiError::conflict("the first request with this key left no check-in"))
}

/// A patient's check-ins, oldest first; `updatedSince` for mobile sync.
pub async fn list_for_patient(
    ctx: &Context<'_>,
    patient: Uuid,
    first: Option<i32>,
    after: Option<String>,
    updated_since: Option<DateTime<Utc>>,
) -> ApiResult<Connection<String, CheckIn>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = check_ins::Entity::find().filter(check_ins::Column::PatientId.eq(patient));
    if let Some(since) = updated_since {
        query = query.filter(check_ins::Column::UpdatedAt.gte(since));
    }
    if let Some(after) = page.after {
        query = query.filter(check_ins::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(check_ins::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    Ok(pagination::connection(
        rows.into_iter().map(|c| (c.id, CheckIn(c))).collect(),
        page,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SubmitCheckInInput {
        SubmitCheckInInput {
            pain_score: Some(4),
            peg_pain: Some(5),
            peg_enjoyment: Some(4),
            peg_activity: Some(6),
            craving_score: Some(3),
            mood: Some(3),
            sleep_hours: Some(7.5),
            exercise_minutes: Some(20),
            mindfulness_minutes: Some(10),
            triggers: Some(vec!["work stress".into()]),
            coping_strategies: Some(vec!["walk".into(), "call a friend".into()]),
            helpful_coping_strategies: Some(vec!["walk".into()]),
            meals: Some(3),
            note: None,
            idempotency_key: "k".into(),
        }
    }

    type Change = Box<dyn Fn(&mut SubmitCheckInInput)>;

    #[test]
    fn every_range_names_its_field() {
        assert!(validate(&input()).is_ok());
        let cases: Vec<(&str, Change)> = vec![
            ("painScore", Box::new(|i| i.pain_score = Some(11))),
            ("painScore", Box::new(|i| i.pain_score = Some(-1))),
            ("pegEnjoyment", Box::new(|i| i.peg_enjoyment = Some(12))),
            ("cravingScore", Box::new(|i| i.craving_score = Some(11))),
            ("mood", Box::new(|i| i.mood = Some(0))),
            ("mood", Box::new(|i| i.mood = Some(6))),
            ("sleepHours", Box::new(|i| i.sleep_hours = Some(25.0))),
            (
                "exerciseMinutes",
                Box::new(|i| i.exercise_minutes = Some(-5)),
            ),
            ("meals", Box::new(|i| i.meals = Some(11))),
            ("pegActivity", Box::new(|i| i.peg_activity = None)),
            (
                "helpfulCopingStrategies",
                Box::new(|i| i.helpful_coping_strategies = Some(vec!["nap".into()])),
            ),
        ];
        for (field, change) in cases {
            let mut bad = input();
            change(&mut bad);
            match validate(&bad) {
                Err(ApiError::BadInput { field: Some(f), .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
