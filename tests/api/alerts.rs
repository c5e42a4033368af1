//! The alerts of issue 12 as the care team meets them (CLINICAL.md, "Alerts
//! Stepdown raises", "Transdermal products", "Sedatives"): withdrawal alerts
//! deduplicated per band and watched while paused and after completion,
//! naloxone on the total MME and OUD orders, patches that cover 72 hours,
//! follow-ups and sedatives raised by the daily check, and check-ins a
//! phone queued offline.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::harness::{GqlReply, Options, TestApp, World, spawn_app, spawn_app_with};

const ALERTS: &str = "query($p: UUID) { alerts(first: 50, patientId: $p) { edges { node { id kind status summary } } } }";
const ASSESS: &str = "mutation($input: SubmitWithdrawalAssessmentInput!) { submitWithdrawalAssessment(input: $input) { assessment { total severity } } }";
const LOG_DOSE: &str = "mutation($input: LogDoseInput!) { logDose(input: $input) { doseLog { overSchedule replacesPatch takenOn } } }";
const ADD_ORDER: &str = "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id } } }";

/// The world's patients live in America/Chicago.
fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
}

async fn medication(app: &TestApp, w: &World, name: &str) -> String {
    let reply = app
        .graphql(
            "{ medications { id name } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    reply.ok()["medications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn alerts(app: &TestApp, w: &World) -> Vec<Value> {
    let reply = app
        .graphql(
            ALERTS,
            json!({ "p": w.patient.patient() }),
            Some(&w.clinician.token),
        )
        .await;
    reply.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn count(app: &TestApp, w: &World, kind: &str) -> usize {
    alerts(app, w)
        .await
        .iter()
        .filter(|a| a["kind"] == kind)
        .count()
}

/// Polls (reads only) until `kind` is raised `n` times, for up to 15 s.
async fn wait_for(app: &TestApp, w: &World, kind: &str, n: usize) -> bool {
    for _ in 0..75 {
        if count(app, w, kind).await >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// A CDC long-term plan for `name` from `dose`, agreed and active today.
async fn active_plan(app: &TestApp, w: &World, name: &str, dose: f64) -> uuid::Uuid {
    plan_from(app, w, name, dose, today()).await
}

/// A CDC long-term plan for `name` from `dose` starting on `starts`, agreed
/// and activated.
async fn plan_from(
    app: &TestApp,
    w: &World,
    name: &str,
    dose: f64,
    starts: NaiveDate,
) -> uuid::Uuid {
    let medication = medication(app, w, name).await;
    let reply = app
        .graphql(
            "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) { plan { id } } }",
            json!({ "input": { "patientId": w.patient.patient(), "medicationId": medication, "startingDailyDose": dose, "startsOn": starts.to_string(), "preset": "CDC_LONG_TERM" } }),
            Some(&w.clinician.token),
        )
        .await;
    let plan = reply.ok()["createTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, mutation) in [
        (&w.patient, "agreeToTaperPlan"),
        (&w.clinician, "activateTaperPlan"),
    ] {
        app.graphql(
            &format!("mutation($input: TaperPlanRef!) {{ {mutation}(input: $input) {{ plan {{ id }} }} }}"),
            json!({ "input": { "planId": plan } }),
            Some(&who.token),
        )
        .await
        .ok();
    }
    plan.parse().unwrap()
}

/// Moves every step of `plan` by `days` (negative: into the past), as if
/// the plan had been activated that long ago.
async fn shift_plan(app: &TestApp, plan: uuid::Uuid, days: i64) {
    use entity::taper_steps::{Column, Entity};
    let db = app.seed_db().await;
    let steps = Entity::find()
        .filter(Column::PlanId.eq(plan))
        .all(db)
        .await
        .unwrap();
    for step in steps {
        Entity::update_many()
            .col_expr(
                Column::StartsOn,
                Expr::value(step.starts_on + chrono::Duration::days(days)),
            )
            .col_expr(
                Column::EndsOn,
                Expr::value(step.ends_on + chrono::Duration::days(days)),
            )
            .filter(Column::Id.eq(step.id))
            .exec(db)
            .await
            .unwrap();
    }
}

/// Puts the last step of `plan` `ended_days_ago` in the past (all steps
/// before it, in order, before that).
async fn finish_plan(app: &TestApp, plan: uuid::Uuid, ended_days_ago: i64) {
    use entity::taper_steps::{Column, Entity};
    let db = app.seed_db().await;
    let last = Entity::find()
        .filter(Column::PlanId.eq(plan))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.ends_on)
        .max()
        .unwrap();
    let target = today() - chrono::Duration::days(ended_days_ago);
    shift_plan(app, plan, (target - last).num_days()).await;
}

/// A COWS assessment by the clinician with these item scores.
async fn cows(app: &TestApp, w: &World, items: [i32; 11]) -> GqlReply {
    app.graphql(
        ASSESS,
        json!({ "input": { "patientId": w.patient.patient(), "instrument": "COWS", "items": items } }),
        Some(&w.clinician.token),
    )
    .await
}

/// COWS 14 (moderate, 13–24).
const COWS_14: [i32; 11] = [2, 2, 1, 1, 2, 1, 2, 1, 1, 1, 0];
/// COWS 38 (severe, > 36).
const COWS_38: [i32; 11] = [4, 4, 5, 5, 4, 4, 0, 4, 4, 4, 0];

#[tokio::test]
async fn a_worse_band_over_an_acknowledged_alert_raises_a_new_one() {
    // CLINICAL.md: "a worse band than the open or acknowledged alert raises
    // a new alert at once (COWS 14 acknowledged, then COWS 38 → a new
    // alert)".
    let app = spawn_app().await;
    let w = app.world().await;
    active_plan(&app, &w, "oxycodone", 60.0).await;
    const KIND: &str = "WITHDRAWAL_MODERATE_OR_WORSE";

    let first = cows(&app, &w, COWS_14).await;
    assert_eq!(
        first.ok()["submitWithdrawalAssessment"]["assessment"]["total"],
        14
    );
    let alert = alerts(&app, &w)
        .await
        .into_iter()
        .find(|a| a["kind"] == KIND)
        .expect("a withdrawal alert");
    app.graphql(
        "mutation($input: AcknowledgeAlertInput!) { acknowledgeAlert(input: $input) { alert { status } } }",
        json!({ "input": { "alertId": alert["id"] } }),
        Some(&w.clinician.token),
    )
    .await
    .ok();

    // The same band again: no duplicate.
    cows(&app, &w, COWS_14).await.ok();
    assert_eq!(count(&app, &w, KIND).await, 1);

    // Severe: a new alert at once, over the acknowledged one.
    let severe = cows(&app, &w, COWS_38).await;
    assert_eq!(
        severe.ok()["submitWithdrawalAssessment"]["assessment"]["total"],
        38
    );
    let all = alerts(&app, &w).await;
    let withdrawal: Vec<&Value> = all.iter().filter(|a| a["kind"] == KIND).collect();
    assert_eq!(withdrawal.len(), 2, "{all:?}");
    assert_eq!(withdrawal[0]["status"], "OPEN");
    assert!(withdrawal[0]["summary"].as_str().unwrap().contains("38"));
    assert_eq!(withdrawal[1]["status"], "ACKNOWLEDGED");

    // Severe again, and moderate below it: covered by the open severe alert.
    cows(&app, &w, COWS_38).await.ok();
    cows(&app, &w, COWS_14).await.ok();
    assert_eq!(count(&app, &w, KIND).await, 2);
}

#[tokio::test]
async fn withdrawal_is_watched_while_paused_and_for_90_days_after_completion() {
    // CLINICAL.md: "while a plan is ACTIVE or PAUSED ..., or within 90 days
    // after it COMPLETED (tolerance is lost after a taper: FDA 2019)".
    const KIND: &str = "WITHDRAWAL_MODERATE_OR_WORSE";
    let app = spawn_app().await;

    // Paused.
    let w = app.world().await;
    let plan = active_plan(&app, &w, "oxycodone", 60.0).await;
    app.graphql(
        "mutation($input: PauseTaperPlanInput!) { pauseTaperPlan(input: $input) { plan { status } } }",
        json!({ "input": { "planId": plan, "reason": "withdrawal at work" } }),
        Some(&w.clinician.token),
    )
    .await
    .ok();
    cows(&app, &w, COWS_14).await.ok();
    assert_eq!(count(&app, &w, KIND).await, 1, "while paused");

    // Completed 30 days ago.
    let w = app.world().await;
    let plan = active_plan(&app, &w, "oxycodone", 60.0).await;
    finish_plan(&app, plan, 30).await;
    cows(&app, &w, COWS_14).await.ok();
    assert_eq!(count(&app, &w, KIND).await, 1, "30 days after completion");

    // Completed 91 days ago: no longer watched.
    let w = app.world().await;
    let plan = active_plan(&app, &w, "oxycodone", 60.0).await;
    finish_plan(&app, plan, 91).await;
    cows(&app, &w, COWS_38).await.ok();
    assert_eq!(count(&app, &w, KIND).await, 0, "91 days after completion");
}

async fn add_order(app: &TestApp, w: &World, name: &str, dose: f64, per_day: i32) {
    let starts = (today() - chrono::Duration::days(10)).to_string();
    app.graphql(
        ADD_ORDER,
        json!({ "input": { "patientId": w.patient.patient(), "medicationId": medication(app, w, name).await, "dose": dose, "dosesPerDay": per_day, "startsOn": starts } }),
        Some(&w.clinician.token),
    )
    .await
    .ok();
}

async fn log_patch(
    app: &TestApp,
    w: &World,
    fentanyl: &str,
    at: chrono::DateTime<Utc>,
    replaces: Option<bool>,
    key: &str,
) -> GqlReply {
    app.graphql(
        LOG_DOSE,
        json!({ "input": { "medicationId": fentanyl, "amount": 25.0, "takenAt": at, "idempotencyKey": key, "replacesPatch": replaces } }),
        Some(&w.patient.token),
    )
    .await
}

#[tokio::test]
async fn patches_cover_72_hours_and_only_patches_on_at_once_are_over_schedule() {
    // CLINICAL.md: "a dose log is a patch application of a strength; an
    // applied patch covers 72 hours. Adherence for a day is the share of
    // its hours covered at the scheduled rate".
    let app = spawn_app().await;
    let w = app.world().await;
    add_order(&app, &w, "fentanyl transdermal", 25.0, 1).await;
    let fentanyl = medication(&app, &w, "fentanyl transdermal").await;
    let now = Utc::now();
    for (i, days_ago) in [12, 9, 6, 3].iter().enumerate() {
        let at = now - chrono::Duration::days(*days_ago);
        let reply = log_patch(&app, &w, &fentanyl, at, None, &format!("p{i}")).await;
        assert_eq!(reply.ok()["logDose"]["doseLog"]["overSchedule"], false);
    }
    // The order began 10 days ago; the chain of patches covers every day since.
    let from = today() - chrono::Duration::days(9);
    let to = today() - chrono::Duration::days(1);
    let reply = app
        .graphql(
            "query($id: UUID!, $m: UUID, $from: Date!, $to: Date!) { patient(id: $id) { doseAdherence(medicationId: $m, from: $from, to: $to) { date scheduledDose adherence overSchedule } } }",
            json!({ "id": w.patient.patient(), "m": fentanyl, "from": from.to_string(), "to": to.to_string() }),
            Some(&w.clinician.token),
        )
        .await;
    let days = reply.ok()["patient"]["doseAdherence"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(days.len(), 9);
    for day in &days {
        assert_eq!(day["scheduledDose"].as_f64(), Some(25.0), "{day}");
        assert_eq!(
            day["adherence"].as_f64(),
            Some(1.0),
            "patches every 72 h: {day}"
        );
        assert_eq!(day["overSchedule"], false, "{day}");
    }

    // The patch fell off two hours ago: its replacement is not over schedule.
    let replacement = log_patch(
        &app,
        &w,
        &fentanyl,
        now - chrono::Duration::hours(2),
        Some(true),
        "r",
    )
    .await;
    let log = &replacement.ok()["logDose"]["doseLog"];
    assert_eq!(log["overSchedule"], false);
    assert_eq!(log["replacesPatch"], true);
    assert_eq!(count(&app, &w, "DOSE_ABOVE_SCHEDULE").await, 0);

    // A second patch on top of it: 50 mcg/hr on at once, above the 25.
    let extra = log_patch(&app, &w, &fentanyl, now, None, "x").await;
    assert_eq!(extra.ok()["logDose"]["doseLog"]["overSchedule"], true);
    assert_eq!(count(&app, &w, "DOSE_ABOVE_SCHEDULE").await, 1);

    // replacesPatch is for patches only.
    add_order(&app, &w, "oxycodone", 10.0, 3).await;
    let oxycodone = medication(&app, &w, "oxycodone").await;
    let wrong = log_patch(&app, &w, &oxycodone, now, Some(true), "o").await;
    assert_eq!(wrong.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        wrong.body["errors"][0]["extensions"]["field"],
        "replacesPatch"
    );
}

#[tokio::test]
async fn naloxone_is_due_on_the_total_mme_and_for_any_oud_order() {
    // CLINICAL.md: "Total daily MME ≥ 50 (all opioids ...) and no naloxone
    // offer recorded → NALOXONE_OFFER_DUE; also for any patient with an
    // OUD-indication order, whatever the MME."
    const KIND: &str = "NALOXONE_OFFER_DUE";
    let app = spawn_app().await;
    let w = app.world().await;
    // Oxycodone 10 mg × 2 = 30 MME (factor 1.5): below 50.
    add_order(&app, &w, "oxycodone", 10.0, 2).await;
    assert_eq!(count(&app, &w, KIND).await, 0);
    // Hydromorphone 2 mg × 2 = 20 MME (factor 5): 50 in total.
    add_order(&app, &w, "hydromorphone", 2.0, 2).await;
    assert_eq!(count(&app, &w, KIND).await, 1);

    // Buprenorphine (always OUD, no MME) 8 mg a day.
    let w = app.world().await;
    add_order(&app, &w, "buprenorphine", 8.0, 1).await;
    let raised = alerts(&app, &w).await;
    assert_eq!(
        raised.iter().filter(|a| a["kind"] == KIND).count(),
        1,
        "{raised:?}"
    );
    // Once the offer is recorded, no new alert.
    app.graphql(
        "mutation($input: RecordNaloxoneOfferInput!) { recordNaloxoneOffer(input: $input) { patient { id } } }",
        json!({ "input": { "patientId": w.patient.patient() } }),
        Some(&w.clinician.token),
    )
    .await
    .ok();
    add_order(&app, &w, "buprenorphine", 2.0, 1).await;
    assert_eq!(count(&app, &w, KIND).await, 1);

    // "at activation also the plan's first step, even if it starts later":
    // oxycodone 60 mg a day (90 MME) from next week, nothing before it.
    let w = app.world().await;
    plan_from(
        &app,
        &w,
        "oxycodone",
        60.0,
        today() + chrono::Duration::days(7),
    )
    .await;
    assert_eq!(count(&app, &w, KIND).await, 1);
}

#[tokio::test]
async fn a_sedative_order_beside_an_opioid_alerts_the_care_team() {
    // CLINICAL.md: "an active sedative order beside an active opioid order
    // or plan raises SEDATIVE_COPRESCRIPTION to the care team".
    const KIND: &str = "SEDATIVE_COPRESCRIPTION";
    let app = spawn_app().await;
    let w = app.world().await;
    add_order(&app, &w, "alprazolam", 0.5, 2).await;
    assert_eq!(count(&app, &w, KIND).await, 0, "a sedative alone");
    add_order(&app, &w, "oxycodone", 5.0, 2).await;
    let raised = alerts(&app, &w).await;
    let alert = raised.iter().find(|a| a["kind"] == KIND).expect("raised");
    assert!(alert["summary"].as_str().unwrap().contains("alprazolam"));
    // A second order changes nothing while the alert is open.
    add_order(&app, &w, "lorazepam", 1.0, 1).await;
    assert_eq!(count(&app, &w, KIND).await, 1);
}

#[tokio::test]
async fn the_daily_check_raises_follow_ups_and_sedatives_without_any_write() {
    // CLINICAL.md: "Checks that depend on the date alone (follow-up due, a
    // step that starts above 50 MME) run in a periodic task (daily, and at
    // start) ... Queries never write." Here it runs every second.
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_DAILY_CHECKS_SECS", "1".into())],
        ..Default::default()
    })
    .await;
    let w = app.world().await;
    // An active taper whose first step began 40 days ago, with no
    // appointment or note since (followUpEveryDays defaults to 28).
    let plan = active_plan(&app, &w, "oxycodone", 60.0).await;
    shift_plan(&app, plan, -40).await;
    // A sedative order written straight to the database (no write path
    // checks it).
    let db = app.seed_db().await;
    let alprazolam: uuid::Uuid = medication(&app, &w, "alprazolam").await.parse().unwrap();
    {
        use sea_orm::{ActiveModelTrait, Set};
        entity::medication_orders::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            organization_id: Set(w.org),
            patient_id: Set(w.patient.patient()),
            medication_id: Set(alprazolam),
            dose: Set(0.5),
            doses_per_day: Set(1),
            prescriber_user_id: Set(w.clinician.user_id),
            starts_on: Set(today() - chrono::Duration::days(5)),
            ends_on: Set(None),
            indication: Set("PAIN".into()),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    assert!(
        wait_for(&app, &w, "FOLLOW_UP_DUE", 1).await,
        "{:?}",
        alerts(&app, &w).await
    );
    assert!(wait_for(&app, &w, "SEDATIVE_COPRESCRIPTION", 1).await);
    // Later runs do not repeat a standing alert that is still open.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(count(&app, &w, "FOLLOW_UP_DUE").await, 1);
    assert_eq!(count(&app, &w, "SEDATIVE_COPRESCRIPTION").await, 1);
    // The job's alerts are in the audit trail, with no actor.
    let rows = entity::audit_events::Entity::find()
        .filter(entity::audit_events::Column::Action.eq("alert.raise"))
        .filter(entity::audit_events::Column::PatientId.eq(w.patient.patient()))
        .all(db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.actor_user_id.is_none()));
}

#[tokio::test]
async fn an_offline_check_in_counts_for_the_day_the_phone_made_it() {
    let app = spawn_app().await;
    let w = app.world().await;
    let submit = async |at: Value, key: &str| {
        app.graphql(
            "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { submittedAt localDate } } }",
            json!({ "input": { "painScore": 4, "submittedAt": at, "idempotencyKey": key } }),
            Some(&w.patient.token),
        )
        .await
    };
    let yesterday = Utc::now() - chrono::Duration::days(1);
    let reply = submit(json!(yesterday), "y").await;
    let check_in = &reply.ok()["submitCheckIn"]["checkIn"];
    let local = yesterday
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive();
    assert_eq!(check_in["localDate"], local.to_string());
    let stored: chrono::DateTime<Utc> = check_in["submittedAt"].as_str().unwrap().parse().unwrap();
    assert!((stored - yesterday).num_seconds().abs() < 1);

    // Bounded like a dose's takenAt: 5 minutes ahead, 14 days back.
    for (at, key) in [
        (Utc::now() + chrono::Duration::hours(1), "ahead"),
        (Utc::now() - chrono::Duration::days(15), "old"),
    ] {
        let reply = submit(json!(at), key).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"],
            "submittedAt"
        );
    }
    // Without it, now.
    let reply = submit(Value::Null, "now").await;
    assert_eq!(
        reply.ok()["submitCheckIn"]["checkIn"]["localDate"],
        today().to_string()
    );
}

#[tokio::test]
async fn on_postgresql_the_daily_check_waits_while_another_replica_holds_it() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_DAILY_CHECKS_SECS", "1".into())],
        ..Default::default()
    })
    .await;
    if !app.db.is_postgres() {
        return; // SQLite runs one process: nothing to share.
    }
    let w = app.world().await;
    let plan = active_plan(&app, &w, "oxycodone", 60.0).await;
    // Another replica's run: the same transaction-scoped advisory lock.
    let db = app.seed_db().await;
    let other = db.begin().await.unwrap();
    other
        .execute_unprepared(
            "SELECT pg_advisory_xact_lock(hashtextextended('stepdown.daily_checks.' || current_schema(), 0))",
        )
        .await
        .unwrap();
    shift_plan(&app, plan, -40).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        count(&app, &w, "FOLLOW_UP_DUE").await,
        0,
        "skipped while held"
    );
    other.commit().await.unwrap();
    assert!(wait_for(&app, &w, "FOLLOW_UP_DUE", 1).await);
}
