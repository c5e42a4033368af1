//! A plan's dates as a clinic lives them (CLINICAL.md, "Dates" and
//! "Warnings"): activation re-dates a plan agreed earlier, a revision never
//! starts above the dose in effect, today's dose before the first step and
//! while paused, warnings that need the clinician's reason, and history
//! (trends, adherence) that keeps a superseded version's days.
//!
//! "Agreed a month ago" is set up by moving a stored plan's dates back in
//! the database (no clock override is needed).

use chrono::{Duration, NaiveDate};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};

use crate::harness::{GqlReply, Person, TestApp, World, spawn_app};

const FIELDS: &str = "id status version startsOn startingDailyDose todaysDose pausedOn
  currentStep { index dailyDose } steps { index startsOn endsOn dailyDose }
  history { kind reason actorUserId at }";

fn today() -> NaiveDate {
    // Patients in the world live in America/Chicago.
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
}

async fn oxycodone(app: &TestApp, token: &str) -> String {
    let reply = app
        .graphql("{ medications { id name } }", json!({}), Some(token))
        .await;
    reply.ok()["medications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "oxycodone")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create(app: &TestApp, w: &World, input: Value) -> Value {
    let mut full = json!({
        "patientId": w.patient.patient(),
        "medicationId": oxycodone(app, &w.clinician.token).await,
        "startingDailyDose": 60.0,
        "startsOn": today().to_string(),
        "preset": "CDC_LONG_TERM",
    });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    let reply = app
        .graphql(
            &format!("mutation($input: CreateTaperPlanInput!) {{ createTaperPlan(input: $input) {{ plan {{ {FIELDS} }} warnings {{ code }} }} }}"),
            json!({ "input": full }),
            Some(&w.clinician.token),
        )
        .await;
    reply.ok()["createTaperPlan"]["plan"].clone()
}

async fn act(app: &TestApp, who: &Person, mutation: &str, input: Value) -> GqlReply {
    let input_type = match mutation {
        "pauseTaperPlan" => "PauseTaperPlanInput",
        "reviseTaperPlan" => "ReviseTaperPlanInput",
        _ => "TaperPlanRef",
    };
    app.graphql(
        &format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ plan {{ {FIELDS} }} }} }}"),
        json!({ "input": input }),
        Some(&who.token),
    )
    .await
}

async fn read(app: &TestApp, w: &World, id: &str) -> Value {
    let reply = app
        .graphql(
            &format!("query($id: UUID!) {{ taperPlan(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
            Some(&w.clinician.token),
        )
        .await;
    reply.ok()["taperPlan"].clone()
}

/// Agreed by the patient and activated by the clinician.
async fn agree_and_activate(app: &TestApp, w: &World, id: &str) -> Value {
    act(app, &w.patient, "agreeToTaperPlan", json!({ "planId": id }))
        .await
        .ok();
    let reply = act(
        app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": id }),
    )
    .await;
    reply.ok()["activateTaperPlan"]["plan"].clone()
}

/// Moves a stored plan (its startsOn, pause day and every step) `days`
/// into the past, as if that time had gone by.
async fn move_back(app: &TestApp, id: &str, days: i64) {
    let db = app.seed_db().await;
    let id: uuid::Uuid = id.parse().unwrap();
    let back = Duration::days(days);
    let plan = entity::taper_plans::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let starts_on = plan.starts_on - back;
    let paused_on = plan.paused_on.map(|d| d - back);
    let mut plan = plan.into_active_model();
    plan.starts_on = Set(starts_on);
    plan.paused_on = Set(paused_on);
    plan.update(db).await.unwrap();
    let steps = entity::taper_steps::Entity::find()
        .filter(entity::taper_steps::Column::PlanId.eq(id))
        .all(db)
        .await
        .unwrap();
    for step in steps {
        let (starts, ends) = (step.starts_on - back, step.ends_on - back);
        let mut step = step.into_active_model();
        step.starts_on = Set(starts);
        step.ends_on = Set(ends);
        step.update(db).await.unwrap();
    }
}

fn date(v: &Value) -> NaiveDate {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_plan_agreed_one_month_and_activated_the_next_starts_on_the_activation_day() {
    let app = spawn_app().await;
    let w = app.world().await;
    let plan = create(&app, &w, json!({})).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    act(
        &app,
        &w.patient,
        "agreeToTaperPlan",
        json!({ "planId": id }),
    )
    .await
    .ok();
    // CLINICAL.md, "Dates": "a plan agreed in January and activated in
    // February never begins mid-schedule, and never completes on the spot".
    // Agreed 40 days ago: its draft dates put today in step 2.
    move_back(&app, &id, 40).await;
    let draft = read(&app, &w, &id).await;
    assert_eq!(
        date(&draft["steps"][0]["startsOn"]),
        today() - Duration::days(40)
    );

    let reply = act(
        &app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": id }),
    )
    .await;
    let active = &reply.ok()["activateTaperPlan"]["plan"];
    assert_eq!(active["status"], "ACTIVE");
    assert_eq!(date(&active["steps"][0]["startsOn"]), today(), "{active}");
    assert_eq!(date(&active["startsOn"]), today());
    assert_eq!(
        active["todaysDose"].as_f64(),
        Some(60.0),
        "the starting dose"
    );
    assert_eq!(active["currentStep"]["index"], 0);
    // Every step moved alike: the plan's shape is unchanged.
    for (before, after) in draft["steps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(active["steps"].as_array().unwrap())
    {
        assert_eq!(
            date(&after["startsOn"]) - date(&before["startsOn"]),
            Duration::days(40)
        );
        assert_eq!(
            date(&after["endsOn"]) - date(&before["endsOn"]),
            Duration::days(40)
        );
        assert_eq!(after["dailyDose"], before["dailyDose"]);
    }
    // Stored: a later read sees the same dates.
    let again = read(&app, &w, &id).await;
    assert_eq!(again["steps"], active["steps"]);
    assert_eq!(again["todaysDose"].as_f64(), Some(60.0));
}

#[tokio::test]
async fn activating_a_plan_with_warnings_needs_a_reason_recorded_with_who_and_when() {
    let app = spawn_app().await;
    let w = app.world().await;
    // 50% every 7 days outruns the guideline (CLINICAL.md, "Warnings").
    let plan = create(
        &app,
        &w,
        json!({ "preset": "CUSTOM", "reductionPercent": 50.0, "stepDays": 7 }),
    )
    .await;
    let id = plan["id"].as_str().unwrap().to_owned();
    act(
        &app,
        &w.patient,
        "agreeToTaperPlan",
        json!({ "planId": id }),
    )
    .await
    .ok();
    for input in [
        json!({ "planId": id }),
        json!({ "planId": id, "warningsReason": "   " }),
    ] {
        let refused = act(&app, &w.clinician, "activateTaperPlan", input).await;
        assert_eq!(
            refused.error_code(),
            Some("BAD_USER_INPUT"),
            "{}",
            refused.body
        );
        assert_eq!(
            refused.body["errors"][0]["extensions"]["field"],
            "warningsReason"
        );
    }
    assert_eq!(
        read(&app, &w, &id).await["status"],
        "DRAFT",
        "nothing written"
    );

    let why = "patient asked for a faster taper before surgery";
    let reply = act(
        &app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": id, "warningsReason": why }),
    )
    .await;
    let active = &reply.ok()["activateTaperPlan"]["plan"];
    assert_eq!(active["status"], "ACTIVE");
    let activated = active["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ACTIVATED")
        .unwrap()
        .clone();
    assert_eq!(activated["reason"], why);
    assert_eq!(
        activated["actorUserId"],
        w.clinician.user_id.to_string().as_str()
    );
    assert!(activated["at"].is_string());
}

#[tokio::test]
async fn a_revision_never_starts_above_the_dose_in_effect() {
    let app = spawn_app().await;
    let w = app.world().await;
    let v1 = create(&app, &w, json!({})).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    agree_and_activate(&app, &w, &v1_id).await;
    let revise = |id: &str| json!({ "planId": id, "reductionPercent": 5.0, "stepDays": 28, "reason": "slower pace agreed at visit" });
    let v2 = act(&app, &w.clinician, "reviseTaperPlan", revise(&v1_id)).await;
    let v2 = v2.ok()["reviseTaperPlan"]["plan"].clone();
    assert_eq!(v2["startingDailyDose"].as_f64(), Some(60.0), "today's dose");
    let v2_id = v2["id"].as_str().unwrap().to_owned();

    // Weeks pass under v1 before the revision goes ahead: v1 is now in its
    // second step.
    move_back(&app, &v1_id, 30).await;
    let v1_now = read(&app, &w, &v1_id).await;
    assert_eq!(v1_now["currentStep"]["index"], 1);
    let in_effect = v1_now["todaysDose"].as_f64().unwrap();
    assert!(in_effect < 60.0);

    // CLINICAL.md, "Dates": "A revision starts at the dose in effect on its
    // activation day, never above it." At the revise moment (revising the
    // draft revision) …
    let v3 = act(&app, &w.clinician, "reviseTaperPlan", revise(&v2_id)).await;
    let v3 = v3.ok()["reviseTaperPlan"]["plan"].clone();
    assert_eq!(v3["startingDailyDose"].as_f64(), Some(in_effect), "{v3}");
    for step in v3["steps"].as_array().unwrap() {
        assert!(step["dailyDose"].as_f64().unwrap() <= in_effect, "{v3}");
    }
    // … and at activation.
    let v3_active = agree_and_activate(&app, &w, v3["id"].as_str().unwrap()).await;
    assert_eq!(v3_active["status"], "ACTIVE");
    assert_eq!(v3_active["todaysDose"].as_f64(), Some(in_effect));
    assert_eq!(v3_active["startingDailyDose"].as_f64(), Some(in_effect));
    assert_eq!(read(&app, &w, &v1_id).await["status"], "CANCELLED");
}

#[tokio::test]
async fn activating_a_revision_later_caps_it_at_the_dose_then_in_effect() {
    let app = spawn_app().await;
    let w = app.world().await;
    let v1 = create(&app, &w, json!({})).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    agree_and_activate(&app, &w, &v1_id).await;
    let v2 = act(
        &app,
        &w.clinician,
        "reviseTaperPlan",
        json!({ "planId": v1_id, "reductionPercent": 5.0, "stepDays": 28, "reason": "slower" }),
    )
    .await;
    let v2_id = v2.ok()["reviseTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    act(
        &app,
        &w.patient,
        "agreeToTaperPlan",
        json!({ "planId": v2_id }),
    )
    .await
    .ok();
    // Activated a month after it was written, with v1 a step lower.
    move_back(&app, &v1_id, 30).await;
    move_back(&app, &v2_id, 30).await;
    let in_effect = read(&app, &w, &v1_id).await["todaysDose"].as_f64().unwrap();
    assert!(in_effect < 60.0);
    let reply = act(
        &app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": v2_id }),
    )
    .await;
    let v2 = &reply.ok()["activateTaperPlan"]["plan"];
    assert_eq!(v2["startingDailyDose"].as_f64(), Some(in_effect), "{v2}");
    assert_eq!(v2["todaysDose"].as_f64(), Some(in_effect));
    assert_eq!(date(&v2["steps"][0]["startsOn"]), today());
    let doses: Vec<f64> = v2["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dailyDose"].as_f64().unwrap())
        .collect();
    assert!(
        doses.windows(2).all(|p| p[1] < p[0]),
        "never rises: {doses:?}"
    );
    assert!(doses[0] <= in_effect);
}

#[tokio::test]
async fn todays_dose_before_the_first_step_is_the_regimens_and_while_paused_the_held_one() {
    let app = spawn_app().await;
    let w = app.world().await;
    // A plan from 50 mg starting in 5 days.
    let plan = create(
        &app,
        &w,
        json!({ "startingDailyDose": 50.0, "startsOn": (today() + Duration::days(5)).to_string() }),
    )
    .await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let active = agree_and_activate(&app, &w, &id).await;
    assert_eq!(
        date(&active["steps"][0]["startsOn"]),
        today() + Duration::days(5)
    );
    assert!(active["todaysDose"].is_null(), "no regimen: null");
    assert!(active["currentStep"].is_null());

    // Oxycodone 20 mg three times a day: the regimen's 60 mg holds until
    // the plan's first step (CLINICAL.md, "Dates").
    let order = app
        .graphql(
            "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id } } }",
            json!({ "input": { "patientId": w.patient.patient(), "medicationId": oxycodone(&app, &w.clinician.token).await, "dose": 20.0, "dosesPerDay": 3, "startsOn": (today() - Duration::days(100)).to_string() } }),
            Some(&w.clinician.token),
        )
        .await;
    order.ok();
    assert_eq!(read(&app, &w, &id).await["todaysDose"].as_f64(), Some(60.0));

    // Three weeks into the plan (now in its first step) a pause holds the
    // pause day's dose, whatever the calendar says later.
    move_back(&app, &id, 5 + 40).await;
    let before = read(&app, &w, &id).await;
    assert_eq!(before["currentStep"]["index"], 1);
    let held = before["todaysDose"].as_f64().unwrap();
    assert!(held < 50.0);
    let paused = act(
        &app,
        &w.clinician,
        "pauseTaperPlan",
        json!({ "planId": id, "reason": "withdrawal at work" }),
    )
    .await;
    let paused = &paused.ok()["pauseTaperPlan"]["plan"];
    assert_eq!(paused["status"], "PAUSED");
    assert_eq!(paused["todaysDose"].as_f64(), Some(held));
    move_back(&app, &id, 60).await;
    assert_eq!(
        read(&app, &w, &id).await["todaysDose"].as_f64(),
        Some(held),
        "the held dose, not the schedule's"
    );
}

#[tokio::test]
async fn trends_and_adherence_keep_a_superseded_versions_days() {
    let app = spawn_app().await;
    let w = app.world().await;
    let v1 = create(&app, &w, json!({})).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    agree_and_activate(&app, &w, &v1_id).await;
    // v1 has run for 20 days when it is revised and the revision goes ahead.
    move_back(&app, &v1_id, 20).await;
    let v2 = act(
        &app,
        &w.clinician,
        "reviseTaperPlan",
        json!({ "planId": v1_id, "reductionPercent": 5.0, "stepDays": 28, "reason": "slower" }),
    )
    .await;
    let v2_id = v2.ok()["reviseTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2 = agree_and_activate(&app, &w, &v2_id).await;
    assert_eq!(read(&app, &w, &v1_id).await["status"], "CANCELLED");

    let from = today() - Duration::days(25);
    let reply = app
        .graphql(
            "query($id: UUID!, $from: Date!, $to: Date!) { patient(id: $id) {
               trends(from: $from, to: $to) { date scheduledMme conversionTable }
               doseAdherence(from: $from, to: $to) { date scheduledDose } } }",
            json!({ "id": w.patient.patient(), "from": from.to_string(), "to": today().to_string() }),
            Some(&w.clinician.token),
        )
        .await;
    let patient = &reply.ok()["patient"];
    let trends = patient["trends"].as_array().unwrap();
    let adherence = patient["doseAdherence"].as_array().unwrap();
    // Before v1 began there was no plan and no order.
    assert!(trends[0]["scheduledMme"].is_null());
    assert!(adherence[0]["scheduledDose"].is_null());
    // v1's days (20 days ago up to yesterday) keep its 60 mg: 90 MME
    // (CLINICAL.md: oxycodone 1.5).
    for i in 5..25 {
        assert_eq!(
            trends[i]["scheduledMme"].as_f64(),
            Some(90.0),
            "{}",
            trends[i]
        );
        assert_eq!(trends[i]["conversionTable"], "CDC_2022");
        assert_eq!(
            adherence[i]["scheduledDose"].as_f64(),
            Some(60.0),
            "{}",
            adherence[i]
        );
    }
    // Today is v2's.
    let v2_dose = v2["todaysDose"].as_f64().unwrap();
    assert_eq!(trends[25]["scheduledMme"].as_f64(), Some(v2_dose * 1.5));
    assert_eq!(adherence[25]["scheduledDose"].as_f64(), Some(v2_dose));
}
