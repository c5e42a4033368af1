//! One total daily MME per patient (CLINICAL.md, "Regimens and indication"):
//! every opioid counts; a medication's ACTIVE or PAUSED plan step replaces
//! its orders; buprenorphine and OUD methadone are excluded; every figure
//! names its conversion table.

use serde_json::{Value, json};

use crate::harness::{TestApp, World, spawn_app};

const ADD: &str = "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) {
  order { id indication dailyMme conversionTable } patient { dailyMme dailyMmeConversionTable } } }";

async fn medication(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .graphql("{ medications { id name } }", json!({}), Some(token))
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

/// Adds an order (10 days ago, so it is in effect in any time zone).
async fn order(
    app: &TestApp,
    w: &World,
    name: &str,
    dose: f64,
    per_day: i32,
    extra: Value,
) -> Value {
    let starts = (chrono::Utc::now() - chrono::Duration::days(10))
        .date_naive()
        .to_string();
    let mut input = json!({
        "patientId": w.patient.patient(),
        "medicationId": medication(app, &w.clinician.token, name).await,
        "dose": dose,
        "dosesPerDay": per_day,
        "startsOn": starts,
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let reply = app
        .graphql(ADD, json!({ "input": input }), Some(&w.clinician.token))
        .await;
    reply.ok()["addMedicationOrder"].clone()
}

async fn patient_mme(app: &TestApp, w: &World) -> Value {
    app.graphql(
        "query($id: UUID!) { patient(id: $id) { dailyMme dailyMmeConversionTable } }",
        json!({ "id": w.patient.patient() }),
        Some(&w.clinician.token),
    )
    .await
    .ok()["patient"]
        .clone()
}

#[tokio::test]
async fn the_total_sums_every_opioid_and_names_its_table() {
    let app = spawn_app().await;
    let w = app.world().await;
    // CLINICAL.md factors (CDC 2022): oxycodone 1.5, hydromorphone 5.
    // Oxycodone 30 mg a day (10 mg × 3) = 45 MME, hydromorphone 4 mg a day
    // (2 mg × 2) = 20 MME: 65 MME in total.
    let first = order(&app, &w, "oxycodone", 10.0, 3, json!({})).await;
    assert_eq!(first["order"]["dailyMme"].as_f64(), Some(45.0));
    assert_eq!(first["order"]["conversionTable"], "CDC_2022");
    assert_eq!(first["order"]["indication"], "PAIN");
    let second = order(&app, &w, "hydromorphone", 2.0, 2, json!({})).await;
    assert_eq!(second["patient"]["dailyMme"].as_f64(), Some(65.0));
    assert_eq!(second["patient"]["dailyMmeConversionTable"], "CDC_2022");
    let read = patient_mme(&app, &w).await;
    assert_eq!(read["dailyMme"].as_f64(), Some(65.0));
    assert_eq!(read["dailyMmeConversionTable"], "CDC_2022");
}

#[tokio::test]
async fn buprenorphine_is_oud_and_oud_methadone_has_no_mme() {
    let app = spawn_app().await;
    let w = app.world().await;
    // CLINICAL.md: buprenorphine has no factor and is always OUD, whatever
    // the order asks.
    let bup = order(
        &app,
        &w,
        "buprenorphine",
        8.0,
        2,
        json!({ "indication": "PAIN" }),
    )
    .await;
    assert_eq!(bup["order"]["indication"], "OUD");
    assert!(bup["order"]["dailyMme"].is_null());
    assert!(bup["order"]["conversionTable"].is_null());
    assert!(bup["patient"]["dailyMme"].is_null());
    assert!(bup["patient"]["dailyMmeConversionTable"].is_null());
    // Methadone for OUD: "its MME is shown for pain regimens only".
    let oud = order(
        &app,
        &w,
        "methadone",
        60.0,
        1,
        json!({ "indication": "OUD" }),
    )
    .await;
    assert_eq!(oud["order"]["indication"], "OUD");
    assert!(oud["order"]["dailyMme"].is_null());
    assert!(oud["patient"]["dailyMme"].is_null());
    // Methadone for pain: 20 mg/day → 94 MME/day (CDC 2022).
    let pain = order(&app, &w, "methadone", 10.0, 2, json!({})).await;
    assert!((pain["order"]["dailyMme"].as_f64().unwrap() - 94.0).abs() < 1e-9);
    assert!((pain["patient"]["dailyMme"].as_f64().unwrap() - 94.0).abs() < 1e-9);
}

#[tokio::test]
async fn an_active_plan_step_replaces_its_drugs_orders() {
    let app = spawn_app().await;
    let w = app.world().await;
    order(&app, &w, "oxycodone", 10.0, 3, json!({})).await;
    order(&app, &w, "hydromorphone", 2.0, 2, json!({})).await;
    // A plan for oxycodone starting at 20 mg/day, today in the patient's
    // time zone (America/Chicago).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
        .to_string();
    let created = app
        .graphql(
            "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) {
               plan { id steps { dailyDose dailyMme conversionTable } } } }",
            json!({ "input": {
                "patientId": w.patient.patient(),
                "medicationId": medication(&app, &w.clinician.token, "oxycodone").await,
                "startingDailyDose": 20.0,
                "startsOn": today,
                "preset": "CDC_LONG_TERM",
            } }),
            Some(&w.clinician.token),
        )
        .await;
    let plan = created.ok()["createTaperPlan"]["plan"].clone();
    assert_eq!(plan["steps"][0]["dailyMme"].as_f64(), Some(30.0));
    assert_eq!(plan["steps"][0]["conversionTable"], "CDC_2022");
    let id = plan["id"].as_str().unwrap();
    // A draft replaces nothing.
    assert_eq!(patient_mme(&app, &w).await["dailyMme"].as_f64(), Some(65.0));
    let refm = |m: &str| {
        format!("mutation($input: TaperPlanRef!) {{ {m}(input: $input) {{ plan {{ status }} }} }}")
    };
    app.graphql(
        &refm("agreeToTaperPlan"),
        json!({ "input": { "planId": id } }),
        Some(&w.patient.token),
    )
    .await
    .ok();
    let active = app
        .graphql(
            &refm("activateTaperPlan"),
            json!({ "input": { "planId": id } }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(active.ok()["activateTaperPlan"]["plan"]["status"], "ACTIVE");
    // 20 mg oxycodone (30 MME) replaces the 30 mg order (45 MME): 30 + 20.
    assert_eq!(patient_mme(&app, &w).await["dailyMme"].as_f64(), Some(50.0));
}
