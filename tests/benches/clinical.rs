//! Tapering and monitoring under load (figures only, no assertions):
//!
//! 1. Plan generation (the pure generator): the CDC long-term preset from
//!    300 MME/day, and a custom taper that lasts over two years.
//! 2. `logDose` throughput with 50 concurrent patients.
//! 3. `careTeamOverview(first: 50)` for a clinician with 500 patients who
//!    have 90 days of check-ins, assessments and dose logs, and one
//!    patient's 90-day `trends`: throughput, p50, p99, SQL statements.
//!
//! ```sh
//! cargo bench -p stepdown-tests --bench clinical
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p stepdown-tests --bench clinical
//! ```
//!
//! `BENCH_SECONDS` (default 5) sets each phase's length; `BENCH_PATIENTS`
//! (default 500) the overview's panel.

#[allow(dead_code)]
#[path = "../api/harness.rs"]
mod harness;

#[allow(dead_code)] // each bench uses part of it
mod common;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use common::{Samples, measure, run_until, seconds_from_env};
use harness::{Options, Person, TestApp, spawn_app_with};
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use stepdown::tapering::schedule::{Drug, PlanRequest, Rule, generate};
use uuid::Uuid;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let phase = seconds_from_env("BENCH_SECONDS", 5);
    let panel: usize = std::env::var("BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    plan_generation();

    let app = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into()),
            ("STEPDOWN_DB_MAX_CONNECTIONS", "16".into()),
        ],
        ..Default::default()
    })
    .await;
    let backend = if app.db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("database: {backend}; {phase:?} per phase");
    log_dose_throughput(&app, phase).await;
    overview_and_trends(&app, phase, panel).await;
}

fn plan_generation() {
    let starts_on = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    // Morphine 300 mg/day (15 mg tablets): the CDC long-term preset, and a
    // slow custom taper (5% of the current dose every 2 weeks) that runs
    // for over two years.
    let plans = [
        ("CDC long-term", Rule::CdcLongTerm),
        (
            "custom 5% / 14 days",
            Rule::Custom {
                reduction_percent: 5.0,
                step_days: 14,
            },
        ),
    ];
    for (name, rule) in plans {
        let request = PlanRequest {
            starting_daily_dose: 300.0,
            target_daily_dose: 0.0,
            starts_on,
            rule,
            follow_up_every_days: 28,
            // Morphine (CLINICAL.md strengths).
            drug: Drug {
                strengths: vec![15.0, 30.0, 60.0, 100.0],
                mme_factor: Some(1.0),
                per_hour: false,
                moud: false,
                methadone: false,
            },
            regimen_daily_dose: None,
            oud_order: false,
        };
        let plan = generate(&request).expect("plan");
        let days =
            (plan.steps.last().map(|s| s.ends_on).unwrap_or_default() - starts_on).num_days();
        let runs = 20_000;
        let started = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(generate(std::hint::black_box(&request)).ok());
        }
        let each = started.elapsed() / runs;
        println!(
            "plan generation, {name}: {} steps over {days} days: {:.2} µs per plan ({runs} runs)",
            plan.steps.len(),
            each.as_secs_f64() * 1e6
        );
    }
}

async fn oxycodone(app: &TestApp, token: &str) -> Value {
    let meds = app
        .graphql("{ medications { id name } }", json!({}), Some(token))
        .await;
    meds.ok()["medications"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "oxycodone").cloned())
        .map(|m| m["id"].clone())
        .unwrap_or(Value::Null)
}

/// A patient on `clinician`'s team with an active CDC long-term plan.
async fn patient_on_taper(
    app: &TestApp,
    org: Uuid,
    clinician: &Person,
    i: usize,
    medication: &Value,
) -> Person {
    let patient = app
        .new_person(org, &format!("Patient {i}"), &["PATIENT"])
        .await;
    app.put_on_care_team(&patient, clinician).await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
        .to_string();
    let plan = app
        .graphql(
            "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) { plan { id } } }",
            json!({ "input": { "patientId": patient.patient(), "medicationId": medication, "startingDailyDose": 60.0, "startsOn": today, "preset": "CDC_LONG_TERM" } }),
            Some(&clinician.token),
        )
        .await;
    let plan = plan.ok()["createTaperPlan"]["plan"]["id"].clone();
    for (who, mutation) in [
        (&patient, "agreeToTaperPlan"),
        (clinician, "activateTaperPlan"),
    ] {
        app.graphql(
            &format!("mutation($input: TaperPlanRef!) {{ {mutation}(input: $input) {{ plan {{ id }} }} }}"),
            json!({ "input": { "planId": plan } }),
            Some(&who.token),
        )
        .await
        .ok();
    }
    patient
}

async fn log_dose_throughput(app: &TestApp, phase: Duration) {
    let org = app.new_organization("Dose clinic").await;
    let clinician = app.new_person(org, "Dr Bench", &["CLINICIAN"]).await;
    let medication = oxycodone(app, &clinician.token).await;
    let mut patients = Vec::new();
    for i in 0..50 {
        patients.push(patient_on_taper(app, org, &clinician, i, &medication).await);
    }
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for patient in patients {
        let client = app.client.clone();
        let url = app.url("/graphql");
        let medication = medication.clone();
        tasks.push(tokio::spawn(run_until(deadline, move || {
            let request = client
                .post(url.clone())
                .bearer_auth(&patient.token)
                .json(&json!({
                    "query": "mutation($i: LogDoseInput!) { logDose(input: $i) { doseLog { id } } }",
                    "variables": { "i": { "medicationId": medication, "amount": 5.0, "takenAt": Utc::now(), "idempotencyKey": Uuid::now_v7().to_string() } },
                }))
                .send();
            async move {
                match request.await {
                    Ok(r) => r.text().await.is_ok_and(|t| t.contains("doseLog")),
                    Err(_) => false,
                }
            }
        })));
    }
    let mut all = Samples::default();
    for task in tasks {
        if let Ok(samples) = task.await {
            all.merge(samples);
        }
    }
    all.report("logDose, 50 concurrent patients", started.elapsed());
}

async fn overview_and_trends(app: &TestApp, phase: Duration, panel: usize) {
    let org = app.new_organization("Panel clinic").await;
    let clinician = app.new_person(org, "Dr Panel", &["CLINICIAN"]).await;
    let medication = oxycodone(app, &clinician.token).await;
    let medication_id: Uuid = serde_json::from_value(medication.clone()).unwrap_or_default();
    let seeding = Instant::now();
    // A handful of patients with live plans, the rest seeded row by row.
    let mut first_patient = None;
    let mut patient_ids = Vec::new();
    for i in 0..panel {
        let patient = if i < 20 {
            patient_on_taper(app, org, &clinician, i, &medication).await
        } else {
            let p = app
                .new_person(org, &format!("Panel {i}"), &["PATIENT"])
                .await;
            app.put_on_care_team(&p, &clinician).await;
            p
        };
        patient_ids.push(patient.patient());
        first_patient.get_or_insert(patient);
    }
    seed_history(app, org, clinician.user_id, &patient_ids, medication_id).await;
    println!(
        "seeded {panel} patients × 90 days of check-ins, weekly SOWS and daily dose logs in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let overview = "{ careTeamOverview(first: 50) { edges { node { patient { id user { displayName } } lastCheckInAt latestWithdrawalSeverity openAlerts currentStepIndex mmeReductionPercent adherence7d riskScore } } } }";
    measure(
        app,
        &clinician.token,
        "careTeamOverview(first: 50)",
        overview,
        json!({}),
        phase,
    )
    .await;

    let patient = first_patient.expect("a patient");
    let today = Utc::now().date_naive();
    let trends = "query($f: Date!, $t: Date!) { me { patient { trends(from: $f, to: $t) { date painScore pegScore cravingScore mood sleepHours sowsTotal cowsTotal scheduledMme takenMme checkedIn } } } }";
    let range =
        json!({ "f": (today - chrono::Duration::days(89)).to_string(), "t": today.to_string() });
    measure(app, &patient.token, "trends, 90 days", trends, range, phase).await;
}

/// 90 days of history per patient, inserted in batches.
async fn seed_history(
    app: &TestApp,
    org: Uuid,
    clinician: Uuid,
    patients: &[Uuid],
    medication: Uuid,
) {
    let db = app.seed_db().await;
    let today = Utc::now().date_naive();
    let mut check_ins = Vec::new();
    let mut assessments = Vec::new();
    let mut doses = Vec::new();
    for (n, patient) in patients.iter().enumerate() {
        for back in 0..90i64 {
            let day = today - chrono::Duration::days(back);
            let at = day.and_hms_opt(14, 0, 0).unwrap_or_default().and_utc();
            let wave = ((back as usize + n) % 7) as i32;
            check_ins.push(entity::check_ins::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                patient_id: Set(*patient),
                pain_score: Set(Some(3 + wave % 4)),
                peg_pain: Set(Some(4)),
                peg_enjoyment: Set(Some(4)),
                peg_activity: Set(Some(5)),
                peg_score: Set(Some(13.0 / 3.0)),
                craving_score: Set(Some(wave)),
                mood: Set(Some(1 + wave % 5)),
                sleep_hours: Set(Some(6.5)),
                exercise_minutes: Set(Some(20)),
                mindfulness_minutes: Set(Some(10)),
                meals: Set(Some(3)),
                triggers: Set("[]".into()),
                coping_strategies: Set("[]".into()),
                helpful_coping_strategies: Set("[]".into()),
                note: Set(None),
                submitted_at: Set(at),
                local_date: Set(day),
                created_at: Set(at),
                updated_at: Set(at),
            });
            if back % 7 == 0 {
                assessments.push(entity::withdrawal_assessments::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    patient_id: Set(*patient),
                    instrument: Set("SOWS".into()),
                    items: Set(serde_json::to_string(&[wave % 3; 16]).unwrap_or_default()),
                    total: Set((wave % 3) * 16),
                    severity: Set(match (wave % 3) * 16 {
                        0 => "NONE",
                        1..=10 => "MILD",
                        11..=20 => "MODERATE",
                        _ => "SEVERE",
                    }
                    .into()),
                    assessed_by_user_id: Set(clinician),
                    assessed_at: Set(at),
                    local_date: Set(day),
                });
            }
            doses.push(entity::dose_logs::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                patient_id: Set(*patient),
                medication_id: Set(medication),
                amount: Set(60.0),
                taken_at: Set(at),
                taken_on: Set(day),
                note: Set(None),
                over_schedule: Set(false),
                replaces_patch: Set(false),
                created_at: Set(at),
                updated_at: Set(at),
            });
        }
    }
    for chunk in check_ins.chunks(500) {
        entity::check_ins::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .ok();
    }
    for chunk in assessments.chunks(500) {
        entity::withdrawal_assessments::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .ok();
    }
    for chunk in doses.chunks(500) {
        entity::dose_logs::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .ok();
    }
}
