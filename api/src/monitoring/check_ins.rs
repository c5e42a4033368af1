//! GraphQL surface of daily check-ins from the patient's phone (several a
//! day are fine, each its own record): pain, PEG, craving, mood, sleep,
//! self-care, triggers and coping. Idempotent by key; every range checked,
//! naming the field. Stored by `check_in_store`.

use std::ops::RangeInclusive;

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use entity::check_ins;

use super::{
    check_in_store::{self, CHECK_IN_SUBMIT, NewCheckIn},
    scales,
};
use crate::{
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    idempotency::IdempotencyKey,
    validation::{self, optional_in_range},
};

/// The idempotency scope of a check-in.
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
    /// When the phone made it (a check-in queued offline counts for that
    /// day): not more than 5 minutes ahead, nor more than 14 days ago; now
    /// when absent.
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub idempotency_key: String,
}

#[derive(SimpleObject)]
pub struct SubmitCheckInPayload {
    pub check_in: CheckIn,
}

/// Pain, PEG items, craving and meals.
const SCORE: RangeInclusive<i32> = 0..=10;
const MOOD: RangeInclusive<i32> = 1..=5;
/// Minutes of exercise or mindfulness: at most a day's.
const MINUTES: RangeInclusive<i32> = 0..=1440;
const SLEEP_HOURS_MAX: f64 = 24.0;
/// Characters in a check-in's note.
pub const NOTE_MAX: usize = 2000;
/// Entries in a list (triggers, coping strategies).
pub const LIST_MAX: usize = 50;
/// Characters in one list entry.
pub const ENTRY_MAX: usize = 100;

/// A list as stored (a JSON array), if its entries are within the limits.
fn list(field: &str, values: &Option<Vec<String>>) -> ApiResult<String> {
    let values = values.clone().unwrap_or_default();
    if values.len() > LIST_MAX
        || values
            .iter()
            .any(|v| v.trim().is_empty() || v.chars().count() > ENTRY_MAX)
    {
        return Err(ApiError::bad_input(
            field,
            format!("{field}: at most {LIST_MAX} entries of 1 to {ENTRY_MAX} characters"),
        ));
    }
    Ok(serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()))
}

/// Checks every field of a check-in (`submittedAt` against `now`);
/// `BAD_USER_INPUT` names the first bad one.
pub fn validate(input: &SubmitCheckInInput, now: DateTime<Utc>) -> ApiResult<()> {
    if let Some(at) = input.submitted_at {
        validation::phone_instant("submittedAt", at, now)?;
    }
    optional_in_range("painScore", input.pain_score, SCORE)?;
    optional_in_range("pegPain", input.peg_pain, SCORE)?;
    optional_in_range("pegEnjoyment", input.peg_enjoyment, SCORE)?;
    optional_in_range("pegActivity", input.peg_activity, SCORE)?;
    optional_in_range("cravingScore", input.craving_score, SCORE)?;
    optional_in_range("mood", input.mood, MOOD)?;
    optional_in_range("exerciseMinutes", input.exercise_minutes, MINUTES)?;
    optional_in_range("mindfulnessMinutes", input.mindfulness_minutes, MINUTES)?;
    optional_in_range("meals", input.meals, SCORE)?;
    if let Some(sleep) = input.sleep_hours
        && !(sleep.is_finite() && (0.0..=SLEEP_HOURS_MAX).contains(&sleep))
    {
        return Err(ApiError::bad_input(
            "sleepHours",
            format!("sleepHours must be from 0 to {SLEEP_HOURS_MAX}"),
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
        && note.chars().count() > NOTE_MAX
    {
        return Err(ApiError::bad_input(
            "note",
            format!("note must be at most {NOTE_MAX} characters"),
        ));
    }
    list("triggers", &input.triggers)?;
    list("copingStrategies", &input.coping_strategies)?;
    list("helpfulCopingStrategies", &input.helpful_coping_strategies)?;
    Ok(())
}

/// The check-in to store: the PEG score computed, lists as stored.
fn entry(input: &SubmitCheckInInput) -> ApiResult<NewCheckIn> {
    Ok(NewCheckIn {
        pain_score: input.pain_score,
        peg_pain: input.peg_pain,
        peg_enjoyment: input.peg_enjoyment,
        peg_activity: input.peg_activity,
        peg_score: scales::peg(input.peg_pain, input.peg_enjoyment, input.peg_activity),
        craving_score: input.craving_score,
        mood: input.mood,
        sleep_hours: input.sleep_hours,
        exercise_minutes: input.exercise_minutes,
        mindfulness_minutes: input.mindfulness_minutes,
        meals: input.meals,
        triggers: list("triggers", &input.triggers)?,
        coping_strategies: list("copingStrategies", &input.coping_strategies)?,
        helpful_coping_strategies: list(
            "helpfulCopingStrategies",
            &input.helpful_coping_strategies,
        )?,
        note: input.note.clone(),
        submitted_at: input.submitted_at,
    })
}

#[derive(Default)]
pub struct CheckInsMutation;

#[Object]
impl CheckInsMutation {
    /// The patient's check-in from their phone. Retrying with the same
    /// idempotency key returns the first result.
    async fn submit_check_in(
        &self,
        ctx: &Context<'_>,
        input: SubmitCheckInInput,
    ) -> async_graphql::Result<SubmitCheckInPayload> {
        let caller = ctx.caller().await?;
        Ok(SubmitCheckInPayload {
            check_in: submit(&caller, input).await?,
        })
    }
}

/// The caller's own check-in (patients only); a retry with the same key
/// and input answers the first one.
pub async fn submit(caller: &Caller, input: SubmitCheckInInput) -> ApiResult<CheckIn> {
    let patient = caller.own_patient(CHECK_IN_SUBMIT).await?;
    let key = IdempotencyKey::new(
        caller.user_id(),
        SUBMIT_CHECK_IN,
        &input.idempotency_key,
        &input,
    )?;
    if let Some(existing) = key.replay(caller.db()).await? {
        return Ok(CheckIn(
            check_in_store::replayed(caller.db(), existing).await?,
        ));
    }
    validate(&input, Utc::now())?;
    let new = entry(&input)?;
    Ok(CheckIn(
        check_in_store::submit(caller, &patient, new, &key).await?,
    ))
}

/// A patient's check-ins, oldest first; `updatedSince` for mobile sync.
pub async fn list_for_patient(
    ctx: &Context<'_>,
    patient: Uuid,
    first: Option<i32>,
    after: Option<String>,
    updated_since: Option<DateTime<Utc>>,
) -> async_graphql::Result<Connection<String, CheckIn>> {
    crate::graphql::scalars::check_optional_instant("updatedSince", updated_since, Utc::now())
        .map_err(ApiError::from)?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    // A first page (the nested case: a page of patients, each with its
    // check-ins) is batched across patients; later pages and sync are not.
    let rows = if page.after.is_none() && updated_since.is_none() {
        ctx.loaders()?
            .first_check_ins
            .load_one((patient, page.fetch()))
            .await?
            .unwrap_or_default()
    } else {
        check_in_store::page(ctx.db()?, patient, updated_since, page).await?
    };
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
            submitted_at: None,
            idempotency_key: "k".into(),
        }
    }

    type Change = Box<dyn Fn(&mut SubmitCheckInInput)>;

    #[test]
    fn every_range_names_its_field() {
        let now = Utc::now();
        assert!(validate(&input(), now).is_ok());
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
            (
                "submittedAt",
                Box::new(|i| i.submitted_at = Some(Utc::now() + chrono::Duration::minutes(6))),
            ),
            (
                "submittedAt",
                Box::new(|i| i.submitted_at = Some(Utc::now() - chrono::Duration::days(15))),
            ),
        ];
        for (field, change) in cases {
            let mut bad = input();
            change(&mut bad);
            match validate(&bad, now) {
                Err(ApiError::BadInput { field: Some(f), .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
