//! The demo's clinical story, written through the GraphQL API itself (the
//! same validation, schedules, alert rules and audit trail as a real
//! client), plus the history no client could write today (check-ins and
//! assessments of the past 30 days, a plan that began three weeks ago):
//!
//! - Alex Morgan (Dr. Rivera): oxycodone 20 mg three times a day for
//!   chronic pain, a CDC long-term taper agreed and active since three
//!   weeks, doses logged for two weeks with two missed days, 30 days of
//!   check-ins whose craving climbs to 9 today, and a COWS assessment
//!   today that is moderately severe: the overview shows open alerts and
//!   adherence under 100%.
//! - Jordan Lee (Dr. Rivera): 30 days of steady check-ins.
//! - An appointment next week and a recovery plan for Alex.

use std::{future::Future, pin::Pin};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use entity::{check_ins, patients, taper_plans, taper_steps, withdrawal_assessments};

use crate::error::{ApiError, ApiResult};

/// Runs one GraphQL operation as the holder of `token` (none: anonymous)
/// and returns its `data`; any error fails the seed.
pub trait Api: Sync {
    fn run<'a>(
        &'a self,
        token: Option<&'a str>,
        query: &'a str,
        variables: Value,
    ) -> Pin<Box<dyn Future<Output = ApiResult<Value>> + Send + 'a>>;
}

/// Who the story is about.
pub struct Cast<'a> {
    pub clinician_email: &'a str,
    pub alex_email: &'a str,
    pub alex_patient: Uuid,
    pub jordan_patient: Uuid,
    pub password: &'a str,
}

const PLAN_DAYS_AGO: i64 = 21;
/// Days with no dose logged (the last week shows < 100% adherence).
const MISSED_DAYS_AGO: [i64; 2] = [2, 5];

fn failed(what: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("demo seed: {what}: {detail}"))
}

async fn sign_in(api: &dyn Api, email: &str, password: &str) -> ApiResult<String> {
    let data = api
        .run(
            None,
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": email, "password": password } }),
        )
        .await?;
    data["login"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| failed("login", email))
}

fn id_at(data: &Value, pointer: &str) -> ApiResult<String> {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| failed("missing id", pointer))
}

/// The patient's local noon on `day`, in UTC.
fn noon(tz: chrono_tz::Tz, day: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap_or_default())
        .earliest()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

pub async fn seed(api: &dyn Api, db: &impl ConnectionTrait, cast: &Cast<'_>) -> ApiResult<()> {
    let clinician = sign_in(api, cast.clinician_email, cast.password).await?;
    let alex = sign_in(api, cast.alex_email, cast.password).await?;
    let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap_or(chrono_tz::UTC);
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();

    // The regimen and its taper, as the clinician and Alex would.
    let meds = api
        .run(Some(&clinician), "{ medications { id name } }", json!({}))
        .await?;
    let oxycodone = meds["medications"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "oxycodone"))
        .and_then(|m| m["id"].as_str())
        .ok_or_else(|| failed("catalog", "no oxycodone"))?
        .to_owned();
    api.run(
        Some(&clinician),
        "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id } } }",
        json!({ "input": {
            "patientId": cast.alex_patient, "medicationId": oxycodone,
            "dose": 20.0, "dosesPerDay": 3, "indication": "PAIN",
            "startsOn": (today - Duration::days(400)).to_string(),
        } }),
    )
    .await?;
    let created = api
        .run(
            Some(&clinician),
            "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) { plan { id } } }",
            json!({ "input": {
                "patientId": cast.alex_patient, "medicationId": oxycodone,
                "startingDailyDose": 60.0, "startsOn": (today + Duration::days(1)).to_string(),
                "preset": "CDC_LONG_TERM",
            } }),
        )
        .await?;
    let plan = id_at(&created, "/createTaperPlan/plan/id")?;
    let plan_ref = json!({ "input": { "planId": plan } });
    api.run(
        Some(&alex),
        "mutation($input: TaperPlanRef!) { agreeToTaperPlan(input: $input) { plan { id } } }",
        plan_ref.clone(),
    )
    .await?;
    api.run(
        Some(&clinician),
        "mutation($input: TaperPlanRef!) { activateTaperPlan(input: $input) { plan { id } } }",
        plan_ref,
    )
    .await?;
    // History: the plan began three weeks ago.
    let plan_id: Uuid = plan.parse().map_err(|e| failed("plan id", e))?;
    let steps = taper_steps::Entity::find()
        .filter(taper_steps::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    let first_start = steps.iter().map(|s| s.starts_on).min().unwrap_or(today);
    let shift = (first_start - (today - Duration::days(PLAN_DAYS_AGO))).num_days();
    for step in steps {
        let mut moved: taper_steps::ActiveModel = step.clone().into();
        moved.starts_on = Set(step.starts_on - Duration::days(shift));
        moved.ends_on = Set(step.ends_on - Duration::days(shift));
        moved.update(db).await?;
    }
    taper_plans::Entity::update_many()
        .col_expr(
            taper_plans::Column::StartsOn,
            Expr::value(today - Duration::days(PLAN_DAYS_AGO)),
        )
        .filter(taper_plans::Column::Id.eq(plan_id))
        .exec(db)
        .await?;
    let steps = taper_steps::Entity::find()
        .filter(taper_steps::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;

    // Two weeks of doses, as Alex's phone logs them (two days missed).
    for back in (0..14).rev() {
        if MISSED_DAYS_AGO.contains(&back) {
            continue;
        }
        let day = today - Duration::days(back);
        let Some(step) = steps
            .iter()
            .find(|s| s.starts_on <= day && day <= s.ends_on)
        else {
            continue;
        };
        let taken_at = if back == 0 {
            (now - Duration::minutes(10)).max(noon(tz, day).min(now))
        } else {
            noon(tz, day)
        };
        api.run(
            Some(&alex),
            "mutation($input: LogDoseInput!) { logDose(input: $input) { doseLog { id } } }",
            json!({ "input": {
                "medicationId": oxycodone, "amount": step.daily_dose,
                "takenAt": taken_at, "idempotencyKey": Uuid::now_v7().to_string(),
            } }),
        )
        .await?;
    }

    // 30 days of check-ins (history), then today's through the API: the
    // craving climbs, which raises alerts.
    for (patient, craving_from, craving_to) in
        [(cast.alex_patient, 3, 7), (cast.jordan_patient, 3, 3)]
    {
        let organization_id = patients::Entity::find_by_id(patient)
            .one(db)
            .await?
            .map(|p| p.organization_id)
            .ok_or_else(|| failed("patient", patient))?;
        for back in (1..30).rev() {
            let day = today - Duration::days(back);
            let craving = craving_from + (craving_to - craving_from) * (29 - back as i32) / 28;
            let at = noon(tz, day);
            check_ins::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(organization_id),
                patient_id: Set(patient),
                pain_score: Set(Some(5 + (back % 3) as i32)),
                peg_pain: Set(Some(5)),
                peg_enjoyment: Set(Some(5)),
                peg_activity: Set(Some(5)),
                peg_score: Set(Some(5.0)),
                craving_score: Set(Some(craving)),
                mood: Set(Some(6 - craving / 3)),
                sleep_hours: Set(Some(6.5)),
                exercise_minutes: Set(Some(20)),
                mindfulness_minutes: Set(Some(10)),
                meals: Set(Some(3)),
                triggers: Set("[]".into()),
                coping_strategies: Set(r#"["walk"]"#.into()),
                helpful_coping_strategies: Set(r#"["walk"]"#.into()),
                note: Set(None),
                submitted_at: Set(at),
                local_date: Set(day),
                created_at: Set(at),
                updated_at: Set(at),
            }
            .insert(db)
            .await?;
            if back % 7 == 0 {
                // A weekly COWS at the clinic, mild.
                withdrawal_assessments::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(organization_id),
                    patient_id: Set(patient),
                    instrument: Set("COWS".into()),
                    items: Set("[1,1,1,0,1,1,1,0,1,1,0]".into()),
                    total: Set(8),
                    severity: Set("MILD".into()),
                    assessed_by_user_id: Set(crate::demo::user_of(db, cast.clinician_email).await?),
                    assessed_at: Set(at),
                    local_date: Set(day),
                }
                .insert(db)
                .await?;
            }
        }
    }
    api.run(
        Some(&alex),
        "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id } } }",
        json!({ "input": {
            "painScore": 7, "pegPain": 7, "pegEnjoyment": 7, "pegActivity": 7,
            "cravingScore": 9, "mood": 3, "sleepHours": 4.5,
            "triggers": ["stress at work"], "copingStrategies": ["called my sister"],
            "note": "Rough day, strong cravings in the evening.",
            "idempotencyKey": Uuid::now_v7().to_string(),
        } }),
    )
    .await?;
    api.run(
        Some(&clinician),
        "mutation($input: SubmitWithdrawalAssessmentInput!) { submitWithdrawalAssessment(input: $input) { assessment { id } } }",
        json!({ "input": {
            "patientId": cast.alex_patient, "instrument": "COWS",
            "items": [2, 3, 3, 2, 2, 2, 3, 2, 2, 4, 3],
            "idempotencyKey": Uuid::now_v7().to_string(),
        } }),
    )
    .await?;

    // Next week's follow-up and Alex's recovery plan.
    let start = noon(tz, today + Duration::days(7));
    api.run(
        Some(&clinician),
        "mutation($input: ScheduleAppointmentInput!) { scheduleAppointment(input: $input) { appointment { id } } }",
        json!({ "input": {
            "patientId": cast.alex_patient, "kind": "FOLLOW_UP",
            "startsAt": start, "endsAt": start + Duration::minutes(30),
            "virtual": true, "meetingUrl": "https://meet.example.org/rivera-alex",
        } }),
    )
    .await?;
    api.run(
        Some(&alex),
        "mutation($input: UpdateCarePlanInput!) { updateCarePlan(input: $input) { carePlan { version } } }",
        json!({ "input": {
            "patientId": cast.alex_patient,
            "triggers": ["Stress at work", "Evenings alone"],
            "copingStrategies": ["Walk after dinner", "Call my sister", "Breathing exercise"],
            "warningSigns": ["Skipping meals", "Sleeping under 5 hours"],
            "supportContacts": ["Morgan (family)", "Dr. Rivera's office"],
        } }),
    )
    .await?;
    Ok(())
}
