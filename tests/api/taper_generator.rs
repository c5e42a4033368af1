//! The taper generator over HTTP, with the catalog's real strengths
//! (CLINICAL.md, "Tapering guidance"): common regimens get plans whose steps
//! are all dispensable and never rise; custom paces and MOUD carry their
//! warnings; MOUD presets are refused.

use serde_json::{Value, json};

use crate::harness::{GqlReply, TestApp, World, spawn_app};

const CREATE: &str = "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) {
  plan { id reason steps { startsOn endsOn dailyDose } }
  warnings { code message } } }";
const ADD: &str = "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id } } }";

/// A catalog medication's id and strengths.
async fn medication(app: &TestApp, token: &str, name: &str) -> (String, Vec<f64>) {
    let reply = app
        .graphql(
            "{ medications { id name strengths } }",
            json!({}),
            Some(token),
        )
        .await;
    let meds = reply.ok()["medications"].as_array().unwrap().clone();
    let m = meds
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"));
    let strengths = m["strengths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_f64().unwrap())
        .collect();
    (m["id"].as_str().unwrap().to_owned(), strengths)
}

fn today() -> String {
    // Patients in the world live in America/Chicago.
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
        .to_string()
}

async fn create(app: &TestApp, w: &World, name: &str, start: f64, extra: Value) -> GqlReply {
    let (id, _) = medication(app, &w.clinician.token, name).await;
    let mut input = json!({
        "patientId": w.patient.patient(),
        "medicationId": id,
        "startingDailyDose": start,
        "startsOn": today(),
        "preset": "CDC_LONG_TERM",
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    app.graphql(CREATE, json!({ "input": input }), Some(&w.clinician.token))
        .await
}

/// Adds an order (10 days ago, so it is in effect in any time zone).
async fn order(app: &TestApp, w: &World, name: &str, dose: f64, per_day: i32, extra: Value) {
    let starts = (chrono::Utc::now() - chrono::Duration::days(10))
        .date_naive()
        .to_string();
    let mut input = json!({
        "patientId": w.patient.patient(),
        "medicationId": medication(app, &w.clinician.token, name).await.0,
        "dose": dose,
        "dosesPerDay": per_day,
        "startsOn": starts,
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    app.graphql(ADD, json!({ "input": input }), Some(&w.clinician.token))
        .await
        .ok();
}

fn codes(reply: &GqlReply) -> Vec<String> {
    reply.ok()["createTaperPlan"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect()
}

/// `(daily dose, days)` of every step.
fn steps(reply: &GqlReply) -> Vec<(f64, i64)> {
    let day =
        |v: &Value| chrono::NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap();
    reply.ok()["createTaperPlan"]["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let days = (day(&s["endsOn"]) - day(&s["startsOn"])).num_days() + 1;
            (s["dailyDose"].as_f64().unwrap(), days)
        })
        .collect()
}

/// A sum of whole units of the strengths (CLINICAL.md, "Dispensable
/// doses"), checked by brute force in hundredths.
fn dispensable(dose: f64, strengths: &[f64]) -> bool {
    let target = (dose * 100.0).round() as usize;
    let units: Vec<usize> = strengths
        .iter()
        .map(|s| (s * 100.0).round() as usize)
        .collect();
    let mut reachable = vec![false; target + 1];
    reachable[0] = true;
    for n in 1..=target {
        reachable[n] = units.iter().any(|&u| u <= n && reachable[n - u]);
    }
    (dose * 100.0 - target as f64).abs() < 1e-6 && reachable[target]
}

fn assert_dispensable_and_never_rising(case: &str, steps: &[(f64, i64)], strengths: &[f64]) {
    for &(dose, _) in &steps[1..] {
        assert!(
            dispensable(dose, strengths),
            "{case}: {dose} is not dispensable ({strengths:?})"
        );
    }
    for pair in steps.windows(2) {
        assert!(pair[1].0 < pair[0].0, "{case}: {pair:?}");
    }
    assert_eq!(steps.last().unwrap().0, 0.0, "{case}");
}

/// The refused regimens: fentanyl 25 mcg/hr, hydrocodone 7.5 mg
/// three times a day (22.5 mg), tapentadol 75 mg three times a day (225 mg).
#[tokio::test]
async fn common_regimens_get_dispensable_plans_without_warnings() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (name, start) in [
        ("fentanyl transdermal", 25.0),
        ("hydrocodone", 22.5),
        ("tapentadol", 225.0),
    ] {
        let (_, strengths) = medication(&app, &w.clinician.token, name).await;
        for preset in ["CDC_LONG_TERM", "CDC_SHORT_TERM"] {
            let reply = create(&app, &w, name, start, json!({ "preset": preset })).await;
            let case = format!("{name} {start} {preset}");
            assert_dispensable_and_never_rising(&case, &steps(&reply), &strengths);
            assert!(codes(&reply).is_empty(), "{case}: {:?}", codes(&reply));
        }
    }
    // CLINICAL.md: fentanyl's "12" patch "counts as 12.5".
    let reply = create(&app, &w, "fentanyl transdermal", 25.0, json!({})).await;
    assert_eq!(steps(&reply)[1].0, 12.5);
}

/// CLINICAL.md: "custom 25% every 7 days from 300 mg morphine warns".
#[tokio::test]
async fn a_fast_custom_start_warns_even_with_a_slow_tail() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = create(
        &app,
        &w,
        "morphine",
        300.0,
        json!({ "preset": "CUSTOM", "reductionPercent": 25.0, "stepDays": 7 }),
    )
    .await;
    let (_, strengths) = medication(&app, &w.clinician.token, "morphine").await;
    assert_dispensable_and_never_rising("morphine 300", &steps(&reply), &strengths);
    assert!(
        codes(&reply).contains(&"FASTER_THAN_GUIDELINE".to_owned()),
        "{:?}",
        codes(&reply)
    );
}

/// CLINICAL.md, methadone under a preset: "each cut at most 10% of the
/// current dose … steps of at least 14 days"; presets on methadone "never
/// carry" METHADONE_PACE.
#[tokio::test]
async fn methadone_presets_cut_at_most_10_percent_every_14_days() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, strengths) = medication(&app, &w.clinician.token, "methadone").await;
    for start in [20.0, 40.0] {
        for preset in ["CDC_LONG_TERM", "CDC_SHORT_TERM"] {
            let reply = create(&app, &w, "methadone", start, json!({ "preset": preset })).await;
            let case = format!("methadone {start} {preset}");
            let steps = steps(&reply);
            assert_dispensable_and_never_rising(&case, &steps, &strengths);
            for pair in steps.windows(2) {
                let cut = pair[0].0 - pair[1].0;
                assert!(
                    cut <= 0.10 * pair[0].0 + 1e-9 || cut <= 1.0,
                    "{case}: {pair:?}"
                );
                assert!(pair[0].1 >= 14, "{case}: {pair:?}");
            }
            assert!(codes(&reply).is_empty(), "{case}: {:?}", codes(&reply));
        }
    }
}

/// CLINICAL.md, MOUD_TAPER: "a preset for it is BAD_USER_INPUT (field
/// preset); a CUSTOM plan is allowed with this warning and a required
/// reason".
#[tokio::test]
async fn moud_plans_are_custom_with_a_reason_and_warned() {
    let app = spawn_app().await;
    let w = app.world().await;
    let custom = json!({ "preset": "CUSTOM", "reductionPercent": 10.0, "stepDays": 14 });
    for preset in ["CDC_LONG_TERM", "CDC_SHORT_TERM"] {
        let reply = create(
            &app,
            &w,
            "buprenorphine",
            16.0,
            json!({ "preset": preset, "reason": "patient request" }),
        )
        .await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], "preset");
    }
    let reply = create(&app, &w, "buprenorphine", 16.0, custom.clone()).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "reason");
    let mut with_reason = custom.clone();
    with_reason["reason"] =
        json!("  Stable two years; patient asks to stop, informed of the risk  ");
    let reply = create(&app, &w, "buprenorphine", 16.0, with_reason.clone()).await;
    assert!(
        codes(&reply).contains(&"MOUD_TAPER".to_owned()),
        "{:?}",
        codes(&reply)
    );
    assert_eq!(
        reply.ok()["createTaperPlan"]["plan"]["reason"],
        "Stable two years; patient asks to stop, informed of the risk"
    );

    // Methadone is MOUD when the patient has an OUD order of it.
    let pain = create(&app, &w, "methadone", 60.0, json!({})).await;
    assert!(codes(&pain).is_empty(), "{:?}", codes(&pain));
    order(
        &app,
        &w,
        "methadone",
        60.0,
        1,
        json!({ "indication": "OUD" }),
    )
    .await;
    let refused = create(&app, &w, "methadone", 60.0, json!({})).await;
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "preset");
    let reply = create(&app, &w, "methadone", 60.0, with_reason).await;
    assert!(
        codes(&reply).contains(&"MOUD_TAPER".to_owned()),
        "{:?}",
        codes(&reply)
    );
}

/// CLINICAL.md, STARTS_ABOVE_REGIMEN: "the patient has active orders for
/// that medication and the plan's starting dose is above their daily total
/// (no orders: nothing to compare, no warning)".
#[tokio::test]
async fn starting_above_the_orders_warns() {
    let app = spawn_app().await;
    let w = app.world().await;
    assert!(codes(&create(&app, &w, "oxycodone", 60.0, json!({})).await).is_empty());
    order(&app, &w, "oxycodone", 10.0, 4, json!({})).await;
    let at = create(&app, &w, "oxycodone", 40.0, json!({})).await;
    assert!(codes(&at).is_empty(), "{:?}", codes(&at));
    let above = create(&app, &w, "oxycodone", 60.0, json!({})).await;
    assert_eq!(codes(&above), ["STARTS_ABOVE_REGIMEN"]);
}

#[tokio::test]
async fn sedatives_are_not_tapered_with_opioid_guidance() {
    let app = spawn_app().await;
    let w = app.world().await;
    // CLINICAL.md lists the benzodiazepines for the co-prescription alert
    // only: the CDC presets, MME and pace warnings are opioid guidance.
    let reply = create(
        &app,
        &w,
        "diazepam",
        10.0,
        json!({ "preset": "CDC_LONG_TERM" }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        reply.body["errors"][0]["extensions"]["field"],
        "medicationId"
    );
}
