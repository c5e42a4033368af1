//! Tapering as the clinician and the patient live it: the catalog, the
//! regimen, a plan drafted, agreed to, activated, paused, resumed and
//! revised, and doses logged from a phone that retries.

use serde_json::{Value, json};

use crate::authz_matrix::{Expect, check};
use crate::harness::{GqlReply, Person, TestApp, World, spawn_app};

const CREATE: &str = "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) {
  plan { id status version preset startingDailyMme steps { index startsOn endsOn dailyDose dailyMme } }
  warnings { code message } } }";
const PLAN_FIELDS: &str = "id status version patientAgreedAt pausedOn supersededByPlanId supersededReason todaysDose currentStep { index dailyDose } history { kind reason }";

async fn medication_id(app: &TestApp, token: &str, name: &str) -> String {
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

fn today() -> String {
    // Patients in the world live in America/Chicago.
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
        .to_string()
}

async fn create_plan(app: &TestApp, w: &World, input: Value) -> GqlReply {
    let oxycodone = medication_id(app, &w.clinician.token, "oxycodone").await;
    let mut full = json!({
        "patientId": w.patient.patient(),
        "medicationId": oxycodone,
        "startingDailyDose": 60.0,
        "startsOn": today(),
        "preset": "CDC_LONG_TERM",
    });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.graphql(CREATE, json!({ "input": full }), Some(&w.clinician.token))
        .await
}

async fn plan_action(app: &TestApp, who: &Person, mutation: &str, input: Value) -> GqlReply {
    let input_type = match mutation {
        "pauseTaperPlan" => "PauseTaperPlanInput",
        "reviseTaperPlan" => "ReviseTaperPlanInput",
        _ => "TaperPlanRef",
    };
    app.graphql(
        &format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ plan {{ {PLAN_FIELDS} }} warnings {{ code }} }} }}"),
        json!({ "input": input }),
        Some(&who.token),
    )
    .await
}

#[tokio::test]
async fn the_catalog_carries_the_cdc_2022_factors() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = app
        .graphql(
            "{ medications { name kind unit mmeFactor conversionTable strengths } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    let meds = reply.ok()["medications"].as_array().unwrap().clone();
    let find = |name: &str| meds.iter().find(|m| m["name"] == name).unwrap().clone();
    // CLINICAL.md, CDC 2022 table (MMWR Recomm Rep 71(3), p. 42).
    for (name, unit, factor) in [
        ("codeine", "mg", 0.15),
        ("fentanyl transdermal", "mcg/hr", 2.4),
        ("hydrocodone", "mg", 1.0),
        ("hydromorphone", "mg", 5.0),
        ("methadone", "mg", 4.7),
        ("morphine", "mg", 1.0),
        ("oxycodone", "mg", 1.5),
        ("oxymorphone", "mg", 3.0),
        ("tapentadol", "mg", 0.4),
        ("tramadol", "mg", 0.2),
    ] {
        let m = find(name);
        assert_eq!(m["unit"], unit, "{name}");
        assert_eq!(m["mmeFactor"].as_f64(), Some(factor), "{name}");
        assert_eq!(m["conversionTable"], "CDC_2022", "{name}");
    }
    for name in ["buprenorphine", "naloxone"] {
        assert!(find(name)["mmeFactor"].is_null(), "{name} has no factor");
    }
    assert_eq!(
        find("oxycodone")["strengths"],
        json!([5.0, 10.0, 15.0, 20.0, 30.0])
    );
    assert_eq!(meds.iter().filter(|m| m["name"] == "methadone").count(), 1);
    // One unit is the smallest listed strength: the "12" fentanyl patch
    // delivers 12.5 mcg/hr; methadone's 1 mg/mL solution gives 1 mg.
    assert_eq!(
        find("fentanyl transdermal")["strengths"],
        json!([12.5, 25.0, 50.0, 75.0, 100.0])
    );
    assert_eq!(find("methadone")["strengths"], json!([1.0, 5.0, 10.0]));
    assert_eq!(find("methadone")["kind"], "OPIOID");
    assert_eq!(find("buprenorphine")["kind"], "MOUD");
    assert_eq!(find("naloxone")["kind"], "REVERSAL");
    // CDC 2022 recommendation 11: the benzodiazepines, with no MME.
    for name in ["alprazolam", "clonazepam", "diazepam", "lorazepam"] {
        assert_eq!(find(name)["kind"], "SEDATIVE", "{name}");
        assert!(find(name)["mmeFactor"].is_null(), "{name}");
    }
    assert_eq!(meds.len(), 16);
}

#[tokio::test]
async fn the_regimen_gives_daily_mme_without_buprenorphine() {
    let app = spawn_app().await;
    let w = app.world().await;
    let add = "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id dailyMme } patient { dailyMme } } }";
    let oxycodone = medication_id(&app, &w.clinician.token, "oxycodone").await;
    let buprenorphine = medication_id(&app, &w.clinician.token, "buprenorphine").await;
    // Oxycodone 10 mg four times a day → 60 MME/day (CLINICAL.md).
    let reply = app
        .graphql(add, json!({ "input": { "patientId": w.patient.patient(), "medicationId": oxycodone, "dose": 10.0, "dosesPerDay": 4, "startsOn": "2026-01-01" } }), Some(&w.clinician.token))
        .await;
    assert_eq!(
        reply.ok()["addMedicationOrder"]["order"]["dailyMme"].as_f64(),
        Some(60.0)
    );
    let order_id = reply.ok()["addMedicationOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .graphql(add, json!({ "input": { "patientId": w.patient.patient(), "medicationId": buprenorphine, "dose": 8.0, "dosesPerDay": 2, "startsOn": "2026-01-01" } }), Some(&w.clinician.token))
        .await;
    assert_eq!(
        reply.ok()["addMedicationOrder"]["patient"]["dailyMme"].as_f64(),
        Some(60.0)
    );
    assert!(reply.ok()["addMedicationOrder"]["order"]["dailyMme"].is_null());

    let bad = app
        .graphql(add, json!({ "input": { "patientId": w.patient.patient(), "medicationId": oxycodone, "dose": -5.0, "dosesPerDay": 4, "startsOn": "2026-01-01" } }), Some(&w.clinician.token))
        .await;
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "dose");

    let end = app
        .graphql(
            "mutation($input: EndMedicationOrderInput!) { endMedicationOrder(input: $input) { order { endsOn } } }",
            json!({ "input": { "orderId": order_id, "endsOn": "2026-01-02" } }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(
        end.ok()["endMedicationOrder"]["order"]["endsOn"],
        "2026-01-02"
    );
    let mme = app
        .graphql(
            "query($id: UUID!) { patient(id: $id) { dailyMme } }",
            json!({ "id": w.patient.patient() }),
            Some(&w.patient.token),
        )
        .await;
    assert!(mme.ok()["patient"]["dailyMme"].as_f64().unwrap_or(0.0) < 1e-9);

    let offer = app
        .graphql(
            "mutation($input: RecordNaloxoneOfferInput!) { recordNaloxoneOffer(input: $input) { patient { naloxoneOfferedAt } } }",
            json!({ "input": { "patientId": w.patient.patient() } }),
            Some(&w.clinician.token),
        )
        .await;
    assert!(offer.ok()["recordNaloxoneOffer"]["patient"]["naloxoneOfferedAt"].is_string());
}

#[tokio::test]
async fn a_cdc_long_term_plan_from_60_mg_oxycodone() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = create_plan(&app, &w, json!({})).await;
    let payload = &reply.ok()["createTaperPlan"];
    assert!(payload["warnings"].as_array().unwrap().is_empty());
    let plan = &payload["plan"];
    assert_eq!(plan["status"], "DRAFT");
    assert_eq!(plan["startingDailyMme"].as_f64(), Some(90.0));
    let steps = plan["steps"].as_array().unwrap();
    let mut days = 0;
    for pair in steps.windows(2) {
        let (a, b) = (
            pair[0]["dailyDose"].as_f64().unwrap(),
            pair[1]["dailyDose"].as_f64().unwrap(),
        );
        assert!(b <= a, "never rises");
        if a > 18.0 {
            assert!(
                a - b <= (0.25 * a).max(5.0) + 1e-9,
                "at most 25% or one unit above 30%"
            );
        }
        let start =
            chrono::NaiveDate::parse_from_str(pair[0]["startsOn"].as_str().unwrap(), "%Y-%m-%d")
                .unwrap();
        let end =
            chrono::NaiveDate::parse_from_str(pair[0]["endsOn"].as_str().unwrap(), "%Y-%m-%d")
                .unwrap();
        days += (end - start).num_days() + 1;
    }
    assert!(days >= 182, "lasts six months or more: {days} days");
    assert_eq!(steps.last().unwrap()["dailyDose"].as_f64(), Some(0.0));
}

#[tokio::test]
async fn custom_plans_that_outrun_the_guideline_carry_warnings() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = create_plan(
        &app,
        &w,
        json!({ "preset": "CUSTOM", "reductionPercent": 50.0, "stepDays": 3 }),
    )
    .await;
    let codes: Vec<&str> = reply.ok()["createTaperPlan"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"FASTER_THAN_GUIDELINE"), "{codes:?}");
    assert!(codes.contains(&"LARGE_SINGLE_CUT"), "{codes:?}");

    for (field, input) in [
        ("startingDailyDose", json!({ "startingDailyDose": -10.0 })),
        // CLINICAL.md: any start up to "the plausibility bound (2,000
        // mg/day; 400 mcg/hr)" is accepted, dispensable or not; above it
        // is bad input.
        ("startingDailyDose", json!({ "startingDailyDose": 2000.5 })),
        (
            "reductionPercent",
            json!({ "preset": "CUSTOM", "stepDays": 7 }),
        ),
        ("startsOn", json!({ "startsOn": "2020-01-01" })),
        ("followUpEveryDays", json!({ "followUpEveryDays": 60 })),
    ] {
        let reply = create_plan(&app, &w, input).await;
        assert_eq!(
            reply.error_code(),
            Some("BAD_USER_INPUT"),
            "{field}: {}",
            reply.body
        );
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn agree_activate_pause_resume_revise() {
    let app = spawn_app().await;
    let w = app.world().await;
    let plan = create_plan(&app, &w, json!({})).await.ok()["createTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = json!({ "planId": plan });

    // Activation needs the patient's agreement.
    let early = plan_action(&app, &w.clinician, "activateTaperPlan", id.clone()).await;
    assert_eq!(early.error_code(), Some("CONFLICT"));
    // Only the patient agrees; a clinician cannot agree for them.
    let by_clinician = plan_action(&app, &w.clinician, "agreeToTaperPlan", id.clone()).await;
    assert_eq!(by_clinician.error_code(), Some("FORBIDDEN"));
    let agreed = plan_action(&app, &w.patient, "agreeToTaperPlan", id.clone()).await;
    assert!(agreed.ok()["agreeToTaperPlan"]["plan"]["patientAgreedAt"].is_string());
    let active = plan_action(&app, &w.clinician, "activateTaperPlan", id.clone()).await;
    let active = &active.ok()["activateTaperPlan"]["plan"];
    assert_eq!(active["status"], "ACTIVE");
    assert_eq!(active["todaysDose"].as_f64(), Some(60.0));
    assert_eq!(active["currentStep"]["index"], 0);

    // The patient's phone: today's dose in their time zone.
    let current = app
        .graphql(
            "{ me { patient { currentTaperPlan { id todaysDose currentStep { index } } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(
        current.ok()["me"]["patient"]["currentTaperPlan"]["id"],
        plan.as_str()
    );

    let no_reason = plan_action(
        &app,
        &w.clinician,
        "pauseTaperPlan",
        json!({ "planId": plan, "reason": " " }),
    )
    .await;
    assert_eq!(no_reason.body["errors"][0]["extensions"]["field"], "reason");
    let paused = plan_action(
        &app,
        &w.clinician,
        "pauseTaperPlan",
        json!({ "planId": plan, "reason": "withdrawal symptoms at work" }),
    )
    .await;
    assert_eq!(paused.ok()["pauseTaperPlan"]["plan"]["status"], "PAUSED");
    assert_eq!(
        paused.ok()["pauseTaperPlan"]["plan"]["todaysDose"].as_f64(),
        Some(60.0),
        "the dose is held"
    );
    let twice = plan_action(
        &app,
        &w.clinician,
        "pauseTaperPlan",
        json!({ "planId": plan, "reason": "again" }),
    )
    .await;
    assert_eq!(twice.error_code(), Some("CONFLICT"));
    let resumed = plan_action(&app, &w.clinician, "resumeTaperPlan", id.clone()).await;
    assert_eq!(resumed.ok()["resumeTaperPlan"]["plan"]["status"], "ACTIVE");

    let revised = plan_action(&app, &w.clinician, "reviseTaperPlan", json!({ "planId": plan, "reductionPercent": 5.0, "stepDays": 28, "reason": "slower pace agreed at visit" })).await;
    let v2 = &revised.ok()["reviseTaperPlan"]["plan"];
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "DRAFT");
    let v2_id = v2["id"].as_str().unwrap().to_owned();

    let old = app
        .graphql(
            &format!("query($id: UUID!) {{ taperPlan(id: $id) {{ {PLAN_FIELDS} }} }}"),
            json!({ "id": plan }),
            Some(&w.clinician.token),
        )
        .await;
    let old = &old.ok()["taperPlan"];
    assert_eq!(old["supersededByPlanId"], v2_id.as_str());
    assert_eq!(old["supersededReason"], "slower pace agreed at visit");
    assert_eq!(
        old["status"], "ACTIVE",
        "in effect until the revision is activated"
    );
    let kinds: Vec<&str> = old["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "CREATED",
            "AGREED",
            "ACTIVATED",
            "PAUSED",
            "RESUMED",
            "REVISED"
        ]
    );

    plan_action(
        &app,
        &w.patient,
        "agreeToTaperPlan",
        json!({ "planId": v2_id }),
    )
    .await
    .ok();
    let v2_active = plan_action(
        &app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": v2_id }),
    )
    .await;
    assert_eq!(
        v2_active.ok()["activateTaperPlan"]["plan"]["status"],
        "ACTIVE"
    );
    let old = app
        .graphql(
            "query($id: UUID!) { taperPlan(id: $id) { status } }",
            json!({ "id": plan }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(old.ok()["taperPlan"]["status"], "CANCELLED");
    let plans = app
        .graphql(
            "query($id: UUID!) { patient(id: $id) { taperPlans { version status } } }",
            json!({ "id": w.patient.patient() }),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(
        plans.ok()["patient"]["taperPlans"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_retried_dose_log_writes_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let plan = create_plan(&app, &w, json!({})).await.ok()["createTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    plan_action(
        &app,
        &w.patient,
        "agreeToTaperPlan",
        json!({ "planId": plan }),
    )
    .await
    .ok();
    plan_action(
        &app,
        &w.clinician,
        "activateTaperPlan",
        json!({ "planId": plan }),
    )
    .await
    .ok();
    let oxycodone = medication_id(&app, &w.patient.token, "oxycodone").await;
    let log = "mutation($input: LogDoseInput!) { logDose(input: $input) { doseLog { id amount overSchedule } } }";
    let now = chrono::Utc::now();
    let input = json!({ "medicationId": oxycodone, "amount": 30.0, "takenAt": now, "idempotencyKey": "phone-1" });

    let first = app
        .graphql(log, json!({ "input": input }), Some(&w.patient.token))
        .await;
    let again = app
        .graphql(log, json!({ "input": input }), Some(&w.patient.token))
        .await;
    assert_eq!(
        first.ok()["logDose"]["doseLog"]["id"],
        again.ok()["logDose"]["doseLog"]["id"]
    );
    let mut changed = input.clone();
    changed["amount"] = json!(20.0);
    let conflict = app
        .graphql(log, json!({ "input": changed }), Some(&w.patient.token))
        .await;
    assert_eq!(conflict.error_code(), Some("CONFLICT"));

    let logs = app
        .graphql(
            "{ me { patient { doseLogs(first: 10) { edges { node { id amount } } } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(
        logs.ok()["me"]["patient"]["doseLogs"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Above the day's scheduled 60 mg: flagged for the alerts.
    let over = app
        .graphql(log, json!({ "input": { "medicationId": oxycodone, "amount": 40.0, "takenAt": now, "idempotencyKey": "phone-2" } }), Some(&w.patient.token))
        .await;
    assert_eq!(over.ok()["logDose"]["doseLog"]["overSchedule"], true);
    let day = today();
    let adherence = app
        .graphql(
            "query($d: Date!) { me { patient { doseAdherence(from: $d, to: $d) { scheduledDose takenDose adherence overSchedule } } } }",
            json!({ "d": day }),
            Some(&w.patient.token),
        )
        .await;
    let row = &adherence.ok()["me"]["patient"]["doseAdherence"][0];
    assert_eq!(row["scheduledDose"].as_f64(), Some(60.0));
    assert_eq!(row["takenDose"].as_f64(), Some(70.0));
    assert_eq!(row["adherence"].as_f64(), Some(1.0));
    assert_eq!(row["overSchedule"], true);

    for (field, bad) in [
        (
            "amount",
            json!({ "medicationId": oxycodone, "amount": -1.0, "takenAt": now, "idempotencyKey": "k3" }),
        ),
        (
            "takenAt",
            json!({ "medicationId": oxycodone, "amount": 5.0, "takenAt": now + chrono::Duration::hours(1), "idempotencyKey": "k4" }),
        ),
        (
            "takenAt",
            json!({ "medicationId": oxycodone, "amount": 5.0, "takenAt": now - chrono::Duration::days(15), "idempotencyKey": "k5" }),
        ),
        (
            "medicationId",
            json!({ "medicationId": medication_id(&app, &w.patient.token, "morphine").await, "amount": 5.0, "takenAt": now, "idempotencyKey": "k6" }),
        ),
    ] {
        let reply = app
            .graphql(log, json!({ "input": bad }), Some(&w.patient.token))
            .await;
        assert_eq!(
            reply.error_code(),
            Some("BAD_USER_INPUT"),
            "{field}: {}",
            reply.body
        );
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn tapering_authorization_matrix() {
    let app = spawn_app().await;
    let w = app.world().await;
    let plan = create_plan(&app, &w, json!({})).await.ok()["createTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Creating a plan: care-team clinicians only.
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let oxycodone = medication_id(&app, &person.token, "oxycodone").await;
        let reply = app
            .graphql(CREATE, json!({ "input": { "patientId": w.patient.patient(), "medicationId": oxycodone, "startingDailyDose": 60.0, "startsOn": today(), "preset": "CDC_LONG_TERM" } }), Some(&person.token))
            .await;
        check(&reply, expect, &format!("createTaperPlan as {name}"));
    }

    // Reading a plan: the patient, the care team, TAPER consent holders.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "care-team clinician" | "supporter with consent" => Expect::Allowed,
            _ => Expect::NotFound,
        };
        let reply = app
            .graphql(
                "query($id: UUID!) { taperPlan(id: $id) { id steps { dailyDose } } }",
                json!({ "id": plan }),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("taperPlan(id) as {name}"));
    }

    // Dose logs: the patient and care team only, not consent holders.
    for (name, person, expect) in [
        ("patient", &w.patient, Expect::Allowed),
        ("care-team clinician", &w.clinician, Expect::Allowed),
        ("supporter with consent", &w.supporter, Expect::Forbidden),
        ("admin", &w.admin, Expect::Forbidden),
        ("other clinician", &w.other_clinician, Expect::NotFound),
    ] {
        let reply = app
            .graphql(
                "query($id: UUID!) { patient(id: $id) { doseLogs { edges { node { id } } } } }",
                json!({ "id": w.patient.patient() }),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("Patient.doseLogs as {name}"));
    }

    // Agreeing and logging doses: the patient's acts.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" => Expect::Allowed,
            "other patient" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = plan_action(&app, person, "agreeToTaperPlan", json!({ "planId": plan })).await;
        check(&reply, expect, &format!("agreeToTaperPlan as {name}"));
    }
    let oxycodone = medication_id(&app, &w.clinician.token, "oxycodone").await;
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "other patient" => None,
            _ => Some(Expect::Forbidden),
        };
        let reply = app
            .graphql(
                "mutation($input: LogDoseInput!) { logDose(input: $input) { doseLog { id } } }",
                json!({ "input": { "medicationId": oxycodone, "amount": 5.0, "takenAt": chrono::Utc::now(), "idempotencyKey": format!("m-{name}") } }),
                Some(&person.token),
            )
            .await;
        match expect {
            Some(expect) => check(&reply, expect, &format!("logDose as {name}")),
            // Patients log for themselves only; the other patient has no
            // regimen for this medication.
            None if name == "other patient" => {
                assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"))
            }
            None => check(&reply, Expect::Allowed, "logDose as patient"),
        }
    }
}

#[tokio::test]
async fn absurd_adherence_and_sync_dates_are_bad_input() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (from, to, named) in [
        ("+262142-12-31", "+262142-12-31", "from"),
        ("1000-01-01", "1000-01-02", "from"),
        ("2026-01-01", "+262142-12-31", "to"),
    ] {
        let reply = app
            .graphql(
                "query($f: Date!, $t: Date!) { me { patient { doseAdherence(from: $f, to: $t) { date } } } }",
                json!({ "f": from, "t": to }),
                Some(&w.patient.token),
            )
            .await;
        assert_eq!(
            reply.error_code(),
            Some("BAD_USER_INPUT"),
            "{from}..{to}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"], named,
            "{}",
            reply.body
        );
    }
    let reply = app
        .graphql(
            "query($s: DateTime) { me { patient { doseLogs(updatedSince: $s) { edges { cursor } } } } }",
            json!({ "s": "9999-12-31T00:00:00Z" }),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["extensions"]["field"],
        "updatedSince"
    );
}

#[tokio::test]
async fn reading_a_finished_plan_over_get_shows_completed_and_writes_nothing() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = spawn_app().await;
    let w = app.world().await;
    let plan = create_plan(&app, &w, json!({})).await.ok()["createTaperPlan"]["plan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = json!({ "planId": plan });
    plan_action(&app, &w.patient, "agreeToTaperPlan", id.clone())
        .await
        .ok();
    plan_action(&app, &w.clinician, "activateTaperPlan", id.clone())
        .await
        .ok();
    // Its last step ended long ago.
    let db = app.seed_db().await;
    let plan_id: uuid::Uuid = plan.parse().unwrap();
    entity::taper_steps::Entity::update_many()
        .col_expr(
            entity::taper_steps::Column::StartsOn,
            sea_orm::sea_query::Expr::value(chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap()),
        )
        .col_expr(
            entity::taper_steps::Column::EndsOn,
            sea_orm::sea_query::Expr::value(chrono::NaiveDate::from_ymd_opt(2001, 1, 7).unwrap()),
        )
        .filter(entity::taper_steps::Column::PlanId.eq(plan_id))
        .exec(db)
        .await
        .unwrap();
    let stored = async || {
        let row = entity::taper_plans::Entity::find_by_id(plan_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let events = entity::taper_plan_events::Entity::find()
            .filter(entity::taper_plan_events::Column::PlanId.eq(plan_id))
            .count(db)
            .await
            .unwrap();
        (row.status, events)
    };
    let before = stored().await;
    assert_eq!(before.0, "ACTIVE");

    let query = format!(
        "{{ taperPlan(id: \"{plan}\") {{ status }} me {{ patient {{ currentTaperPlan {{ status }} taperPlans {{ status }} }} }} }}"
    );
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", query.as_str())])
        .bearer_auth(&w.patient.token)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["taperPlan"]["status"], "COMPLETED", "{body}");
    assert_eq!(
        body["data"]["me"]["patient"]["currentTaperPlan"]["status"],
        "COMPLETED"
    );
    assert_eq!(
        body["data"]["me"]["patient"]["taperPlans"][0]["status"],
        "COMPLETED"
    );
    assert_eq!(stored().await, before, "a read writes nothing");

    // A write path stores the completion: pausing a finished plan is refused.
    let pause = plan_action(
        &app,
        &w.clinician,
        "pauseTaperPlan",
        json!({ "planId": plan, "reason": "travel" }),
    )
    .await;
    assert_eq!(pause.error_code(), Some("CONFLICT"), "{}", pause.body);
    assert_eq!(stored().await.0, "COMPLETED");
}
