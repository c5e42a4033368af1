//! Monitoring as the patient and the care team live it: check-ins from a
//! phone that retries, withdrawal scales, alerts that reach the care team
//! (live, over a WebSocket), trends, and the clinician's overview.

use serde_json::{Value, json};

use crate::authz_matrix::{Expect, check};
use crate::harness::{
    GqlReply, Options, Person, TestApp, World, WsEvent, spawn_app, spawn_app_with,
};

const CHECK_IN: &str = "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id painScore cravingScore pegScore submittedAt } } }";
const ASSESS: &str = "mutation($input: SubmitWithdrawalAssessmentInput!) { submitWithdrawalAssessment(input: $input) { assessment { id instrument items total severity } } }";
const ALERTS: &str = "query($p: UUID) { alerts(first: 50, patientId: $p) { edges { node { id kind status summary suggestedAction evidence { resource id reading } patient { id } } } } }";

async fn check_in(app: &TestApp, who: &Person, input: Value) -> GqlReply {
    app.graphql(CHECK_IN, json!({ "input": input }), Some(&who.token))
        .await
}

async fn assess(
    app: &TestApp,
    who: &Person,
    patient: &Person,
    instrument: &str,
    items: Vec<i32>,
) -> GqlReply {
    app.graphql(
        ASSESS,
        json!({ "input": { "patientId": patient.patient(), "instrument": instrument, "items": items } }),
        Some(&who.token),
    )
    .await
}

async fn alert_kinds(app: &TestApp, w: &World) -> Vec<String> {
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
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A CDC long-term oxycodone plan from 60 mg, agreed and active from today.
async fn active_taper(app: &TestApp, w: &World) -> String {
    let meds = app
        .graphql(
            "{ medications { id name } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    let oxycodone = meds.ok()["medications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "oxycodone")
        .unwrap()["id"]
        .clone();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
        .to_string();
    let reply = app
        .graphql(
            "mutation($input: CreateTaperPlanInput!) { createTaperPlan(input: $input) { plan { id } } }",
            json!({ "input": { "patientId": w.patient.patient(), "medicationId": oxycodone, "startingDailyDose": 60.0, "startsOn": today, "preset": "CDC_LONG_TERM" } }),
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
    plan
}

#[tokio::test]
async fn scales_are_scored_by_the_server() {
    let app = spawn_app().await;
    let w = app.world().await;
    // COWS: 2+1+1+1+2+1+2+1+1+1+0 = 13 → moderate.
    let reply = assess(
        &app,
        &w.clinician,
        &w.patient,
        "COWS",
        vec![2, 1, 1, 1, 2, 1, 2, 1, 1, 1, 0],
    )
    .await;
    let a = &reply.ok()["submitWithdrawalAssessment"]["assessment"];
    assert_eq!(
        (a["total"].as_i64(), a["severity"].as_str()),
        (Some(13), Some("MODERATE"))
    );
    assert_eq!(a["items"].as_array().unwrap().len(), 11, "items are stored");
    // COWS 37 → severe; 36 → moderately severe.
    let reply = assess(
        &app,
        &w.clinician,
        &w.patient,
        "COWS",
        vec![4, 4, 5, 5, 4, 4, 5, 4, 0, 2, 0],
    )
    .await;
    assert_eq!(
        reply.ok()["submitWithdrawalAssessment"]["assessment"]["severity"],
        "SEVERE"
    );
    let reply = assess(
        &app,
        &w.clinician,
        &w.patient,
        "COWS",
        vec![4, 4, 5, 5, 4, 4, 5, 4, 0, 1, 0],
    )
    .await;
    assert_eq!(
        reply.ok()["submitWithdrawalAssessment"]["assessment"]["severity"],
        "MODERATELY_SEVERE"
    );
    // SOWS by the patient: 11 → moderate; 0 → none.
    let mut items = vec![0; 16];
    items[..11].fill(1);
    let reply = assess(&app, &w.patient, &w.patient, "SOWS", items).await;
    let a = &reply.ok()["submitWithdrawalAssessment"]["assessment"];
    assert_eq!(
        (a["total"].as_i64(), a["severity"].as_str()),
        (Some(11), Some("MODERATE"))
    );
    let reply = assess(&app, &w.patient, &w.patient, "SOWS", vec![0; 16]).await;
    assert_eq!(
        reply.ok()["submitWithdrawalAssessment"]["assessment"]["severity"],
        "NONE"
    );

    // Disallowed values and wrong counts name `items`.
    for (instrument, items) in [
        ("COWS", vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("COWS", vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("COWS", vec![0; 10]),
        ("SOWS", vec![5; 16]),
        ("SOWS", vec![0; 15]),
    ] {
        let who = if instrument == "COWS" {
            &w.clinician
        } else {
            &w.patient
        };
        let reply = assess(&app, who, &w.patient, instrument, items.clone()).await;
        assert_eq!(
            reply.error_code(),
            Some("BAD_USER_INPUT"),
            "{instrument} {items:?}"
        );
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], "items");
    }
}

#[tokio::test]
async fn who_may_assess_and_check_in() {
    let app = spawn_app().await;
    let w = app.world().await;
    let cows = vec![0; 11];
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = assess(&app, person, &w.patient, "COWS", cows.clone()).await;
        check(&reply, expect, &format!("COWS as {name}"));
    }
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "care-team clinician" => Expect::Allowed,
            "other patient" | "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = assess(&app, person, &w.patient, "SOWS", vec![0; 16]).await;
        check(&reply, expect, &format!("SOWS as {name}"));
    }
    for (name, person) in w.callers() {
        let expect = if name == "patient" || name == "other patient" {
            Expect::Allowed
        } else {
            Expect::Forbidden
        };
        let reply = check_in(
            &app,
            person,
            json!({ "painScore": 3, "idempotencyKey": format!("ci-{name}") }),
        )
        .await;
        check(&reply, expect, &format!("submitCheckIn as {name}"));
    }

    // Reading: check-ins for CHECK_INS consent holders, assessments for
    // SYMPTOMS ones; never for admins.
    for (name, person) in w.callers() {
        let (check_ins, assessments) = match name {
            "patient" | "care-team clinician" => (Expect::Allowed, Expect::Allowed),
            "supporter with consent" => (Expect::Allowed, Expect::Forbidden),
            "facilitator with consent" | "admin" => (Expect::Forbidden, Expect::Forbidden),
            _ => (Expect::NotFound, Expect::NotFound),
        };
        let id = json!({ "id": w.patient.patient() });
        let reply = app
            .graphql(
                "query($id: UUID!) { patient(id: $id) { checkIns { edges { node { id } } } } }",
                id.clone(),
                Some(&person.token),
            )
            .await;
        check(&reply, check_ins, &format!("Patient.checkIns as {name}"));
        let reply = app
            .graphql("query($id: UUID!) { patient(id: $id) { withdrawalAssessments { edges { node { total } } } } }", id, Some(&person.token))
            .await;
        check(
            &reply,
            assessments,
            &format!("Patient.withdrawalAssessments as {name}"),
        );
    }

    // Alerts and the overview are the care team's.
    for (name, person) in w.callers() {
        let expect = if name.contains("clinician") {
            Expect::Allowed
        } else {
            Expect::Forbidden
        };
        let reply = app
            .graphql(
                "{ alerts { edges { node { id } } } }",
                json!({}),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("alerts as {name}"));
        let reply = app
            .graphql(
                "{ careTeamOverview { edges { node { openAlerts } } } }",
                json!({}),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("careTeamOverview as {name}"));
    }
}

#[tokio::test]
async fn a_retried_check_in_writes_once_and_ranges_are_checked() {
    let app = spawn_app().await;
    let w = app.world().await;
    let input = json!({
        "painScore": 4, "pegPain": 5, "pegEnjoyment": 4, "pegActivity": 6, "cravingScore": 2,
        "mood": 3, "sleepHours": 7.5, "exerciseMinutes": 20, "mindfulnessMinutes": 10, "meals": 3,
        "triggers": ["work stress"], "copingStrategies": ["walk", "call a friend"],
        "helpfulCopingStrategies": ["walk"], "note": "ok day", "idempotencyKey": "phone-ci-1",
    });
    let first = check_in(&app, &w.patient, input.clone()).await;
    let again = check_in(&app, &w.patient, input.clone()).await;
    assert_eq!(
        first.ok()["submitCheckIn"]["checkIn"]["id"],
        again.ok()["submitCheckIn"]["checkIn"]["id"]
    );
    assert_eq!(
        first.ok()["submitCheckIn"]["checkIn"]["pegScore"].as_f64(),
        Some(5.0)
    );
    let list = app
        .graphql("{ me { patient { checkIns { edges { node { id triggers helpfulCopingStrategies } } } } } }", json!({}), Some(&w.patient.token))
        .await;
    assert_eq!(
        list.ok()["me"]["patient"]["checkIns"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    for (field, value) in [
        ("painScore", json!(11)),
        ("cravingScore", json!(-1)),
        ("mood", json!(6)),
        ("sleepHours", json!(30.0)),
        ("pegEnjoyment", json!(11)),
    ] {
        let mut bad = json!({ "idempotencyKey": format!("bad-{field}") });
        bad[field] = value;
        let reply = check_in(&app, &w.patient, bad).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{field}");
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn alerts_reach_the_care_team_and_are_not_raised_twice() {
    let app = spawn_app().await;
    let w = app.world().await;
    active_taper(&app, &w).await;

    // Craving 9 → HIGH_CRAVING, once per 24 hours.
    check_in(
        &app,
        &w.patient,
        json!({ "cravingScore": 9, "idempotencyKey": "c1" }),
    )
    .await
    .ok();
    check_in(
        &app,
        &w.patient,
        json!({ "cravingScore": 9, "idempotencyKey": "c2" }),
    )
    .await
    .ok();
    let kinds = alert_kinds(&app, &w).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "HIGH_CRAVING").count(),
        1,
        "{kinds:?}"
    );

    // A moderate COWS during the active taper.
    assess(
        &app,
        &w.clinician,
        &w.patient,
        "COWS",
        vec![2, 1, 1, 1, 2, 1, 2, 1, 1, 1, 0],
    )
    .await
    .ok();
    let reply = app
        .graphql(
            ALERTS,
            json!({ "p": w.patient.patient() }),
            Some(&w.clinician.token),
        )
        .await;
    let withdrawal = reply.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|a| a["kind"] == "WITHDRAWAL_MODERATE_OR_WORSE")
        .expect("withdrawal alert");
    assert_eq!(
        withdrawal["evidence"][0]["resource"],
        "WithdrawalAssessment"
    );
    assert!(
        withdrawal["suggestedAction"]
            .as_str()
            .unwrap()
            .contains("pausing")
    );

    // The care team acknowledges, then resolves with a note.
    let ack = app
        .graphql(
            "mutation($input: AcknowledgeAlertInput!) { acknowledgeAlert(input: $input) { alert { status acknowledgedAt } } }",
            json!({ "input": { "alertId": withdrawal["id"] } }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(
        ack.ok()["acknowledgeAlert"]["alert"]["status"],
        "ACKNOWLEDGED"
    );
    let other = app
        .graphql(
            "mutation($input: AcknowledgeAlertInput!) { acknowledgeAlert(input: $input) { alert { status } } }",
            json!({ "input": { "alertId": withdrawal["id"] } }),
            Some(&w.other_clinician.token),
        )
        .await;
    assert_eq!(other.error_code(), Some("NOT_FOUND"));
    let resolved = app
        .graphql(
            "mutation($input: ResolveAlertInput!) { resolveAlert(input: $input) { alert { status resolutionNote } } }",
            json!({ "input": { "alertId": withdrawal["id"], "note": "paused for two weeks" } }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(resolved.ok()["resolveAlert"]["alert"]["status"], "RESOLVED");

    // Rising cravings over three reports.
    for (i, craving) in [3, 5, 7].iter().enumerate() {
        check_in(
            &app,
            &w.patient,
            json!({ "cravingScore": craving, "idempotencyKey": format!("t{i}") }),
        )
        .await
        .ok();
    }
    // PEG 30% above the taper's baseline.
    check_in(
        &app,
        &w.patient,
        json!({ "pegPain": 5, "pegEnjoyment": 5, "pegActivity": 5, "idempotencyKey": "peg1" }),
    )
    .await
    .ok();
    check_in(
        &app,
        &w.patient,
        json!({ "pegPain": 7, "pegEnjoyment": 7, "pegActivity": 6, "idempotencyKey": "peg2" }),
    )
    .await
    .ok();
    let kinds = alert_kinds(&app, &w).await;
    for kind in ["WORSENING_TREND", "PAIN_FUNCTION_WORSE"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }

    // Both sides got notifications; the patient's says the team was told.
    let notes = app
        .graphql(
            "{ notifications(unreadOnly: true) { edges { node { id title } } } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    assert!(
        !notes.ok()["notifications"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mine = app
        .graphql(
            "{ notifications { edges { node { title } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    assert!(
        mine.ok()["notifications"]["edges"][0]["node"]["title"]
            .as_str()
            .unwrap()
            .contains("care team")
    );
    let marked = app
        .graphql(
            "mutation { markNotificationsRead(input: {}) { marked } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    assert!(
        marked.ok()["markNotificationsRead"]["marked"]
            .as_i64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn dose_and_naloxone_alerts() {
    let app = spawn_app().await;
    let w = app.world().await;
    active_taper(&app, &w).await;
    let meds = app
        .graphql(
            "{ medications { id name } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    let oxycodone = meds.ok()["medications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "oxycodone")
        .unwrap()["id"]
        .clone();
    // 60 mg oxycodone = 90 MME/day ≥ 50 with no naloxone offer.
    assert!(
        alert_kinds(&app, &w)
            .await
            .iter()
            .any(|k| k == "NALOXONE_OFFER_DUE")
    );

    let log =
        "mutation($input: LogDoseInput!) { logDose(input: $input) { doseLog { overSchedule } } }";
    app.graphql(log, json!({ "input": { "medicationId": oxycodone, "amount": 40.0, "takenAt": chrono::Utc::now(), "idempotencyKey": "d1" } }), Some(&w.patient.token))
        .await
        .ok();
    assert!(
        !alert_kinds(&app, &w)
            .await
            .iter()
            .any(|k| k == "DOSE_ABOVE_SCHEDULE")
    );
    app.graphql(log, json!({ "input": { "medicationId": oxycodone, "amount": 30.0, "takenAt": chrono::Utc::now(), "idempotencyKey": "d2" } }), Some(&w.patient.token))
        .await
        .ok();
    assert!(
        alert_kinds(&app, &w)
            .await
            .iter()
            .any(|k| k == "DOSE_ABOVE_SCHEDULE")
    );
}

#[tokio::test]
async fn notifications_arrive_live_and_only_to_their_owner() {
    let app = spawn_app().await;
    let w = app.world().await;
    let connect =
        |p: &Person| app.ws_connect(json!({ "authorization": format!("Bearer {}", p.token) }));
    let mut clinician = connect(&w.clinician).await.expect("clinician connects");
    clinician
        .subscribe(
            "n",
            "subscription { notificationAdded { title body } }",
            json!({}),
        )
        .await;
    let mut alerts = connect(&w.clinician).await.expect("clinician connects");
    alerts
        .subscribe(
            "a",
            "subscription { alertRaised { kind patient { id } } }",
            json!({}),
        )
        .await;
    let mut stranger = connect(&w.other_clinician)
        .await
        .expect("other clinician connects");
    stranger
        .subscribe(
            "n",
            "subscription { notificationAdded { title body } }",
            json!({}),
        )
        .await;
    // Anonymous sockets are refused at connection_init (4401).
    match app.ws_connect(json!({})).await {
        Err(reason) => assert!(reason.contains("4401"), "{reason}"),
        Ok(_) => panic!("an anonymous socket was accepted"),
    }
    // Let the subscriptions register before the event.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    check_in(
        &app,
        &w.patient,
        json!({ "cravingScore": 9, "idempotencyKey": "live" }),
    )
    .await
    .ok();
    match clinician.next_message().await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(msg["type"], "next", "{msg}");
            assert!(
                msg["payload"]["data"]["notificationAdded"]["body"]
                    .as_str()
                    .unwrap()
                    .contains("Craving 9")
            );
        }
        _ => panic!("the care-team clinician got no notification"),
    }
    match alerts.next_message().await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(
                msg["payload"]["data"]["alertRaised"]["kind"], "HIGH_CRAVING",
                "{msg}"
            );
            assert_eq!(
                msg["payload"]["data"]["alertRaised"]["patient"]["id"],
                w.patient.patient().to_string()
            );
        }
        _ => panic!("no alert"),
    }
    // The clinician off the care team hears nothing.
    let nothing = tokio::time::timeout(
        std::time::Duration::from_millis(700),
        stranger.next_message(),
    )
    .await;
    assert!(
        nothing.is_err(),
        "another user received someone else's notification"
    );
}

#[tokio::test]
async fn trends_give_a_daily_series_in_one_round_trip() {
    let app = spawn_app().await;
    let w = app.world().await;
    active_taper(&app, &w).await;
    check_in(&app, &w.patient, json!({ "painScore": 4, "cravingScore": 2, "mood": 4, "sleepHours": 7.0, "idempotencyKey": "a" })).await.ok();
    check_in(
        &app,
        &w.patient,
        json!({ "painScore": 6, "idempotencyKey": "b" }),
    )
    .await
    .ok();
    assess(&app, &w.patient, &w.patient, "SOWS", vec![1; 16])
        .await
        .ok();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive();
    let from = (today - chrono::Duration::days(6)).to_string();
    let reply = app
        .graphql(
            "query($f: Date!, $t: Date!) { me { patient { trends(from: $f, to: $t) { date painScore cravingScore mood sleepHours sowsTotal cowsTotal scheduledMme takenMme checkedIn } } } }",
            json!({ "f": from, "t": today.to_string() }),
            Some(&w.patient.token),
        )
        .await;
    let days = reply.ok()["me"]["patient"]["trends"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(days.len(), 7);
    let last = days.last().unwrap();
    assert_eq!(last["date"], today.to_string());
    assert_eq!(last["painScore"].as_f64(), Some(5.0), "mean of the day");
    assert_eq!(last["sowsTotal"].as_i64(), Some(16));
    assert_eq!(last["scheduledMme"].as_f64(), Some(90.0));
    assert_eq!(last["checkedIn"], true);
    assert_eq!(days[0]["checkedIn"], false);

    let denied = app
        .graphql(
            "query($id: UUID!, $f: Date!, $t: Date!) { patient(id: $id) { trends(from: $f, to: $t) { date } } }",
            json!({ "id": w.patient.patient(), "f": from, "t": today.to_string() }),
            Some(&w.supporter.token),
        )
        .await;
    assert_eq!(denied.error_code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn the_overview_costs_the_same_statements_for_5_or_100_rows() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into())],
        ..Default::default()
    })
    .await;
    let w = app.world().await;
    active_taper(&app, &w).await;
    check_in(
        &app,
        &w.patient,
        json!({ "cravingScore": 9, "idempotencyKey": "o1" }),
    )
    .await
    .ok();
    let org = w.org;
    for i in 0..11 {
        let p = app
            .new_person(org, &format!("Panel {i}"), &["PATIENT"])
            .await;
        app.put_on_care_team(&p, &w.clinician).await;
        check_in(&app, &p, json!({ "painScore": 2, "idempotencyKey": "p" }))
            .await
            .ok();
        assess(&app, &p, &p, "SOWS", vec![i % 3; 16]).await.ok();
    }
    let query = "query($n: Int) { careTeamOverview(first: $n) { edges { cursor node { patient { id user { displayName } } lastCheckInAt latestWithdrawalSeverity openAlerts currentStepIndex mmeReductionPercent adherence7d riskScore } } pageInfo { hasNextPage endCursor } } }";
    let statements = |n: i64| {
        let app = &app;
        let token = w.clinician.token.clone();
        async move {
            let response = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": { "n": n } }))
                .send()
                .await
                .unwrap();
            let count: usize = response.headers()["x-sql-statements"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = response.json().await.unwrap();
            (count, body)
        }
    };
    let (five, body) = statements(5).await;
    let (hundred, all) = statements(100).await;
    assert_eq!(
        body["data"]["careTeamOverview"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(5),
        "{body}"
    );
    assert_eq!(
        all["data"]["careTeamOverview"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(five, hundred, "statements for 5 rows vs 100 rows");
    // Riskiest first: the patient with an open alert and an active taper.
    let top = &all["data"]["careTeamOverview"]["edges"][0]["node"];
    assert_eq!(top["patient"]["id"], w.patient.patient().to_string());
    assert!(top["openAlerts"].as_i64().unwrap() >= 1);
    assert_eq!(top["currentStepIndex"], 0);
    assert_eq!(top["mmeReductionPercent"].as_f64(), Some(0.0));
    // Paging continues after the cursor.
    let cursor = body["data"]["careTeamOverview"]["pageInfo"]["endCursor"].clone();
    let next = app
        .graphql(
            "query($c: String) { careTeamOverview(first: 5, after: $c) { edges { node { patient { id } } } } }",
            json!({ "c": cursor }),
            Some(&w.clinician.token),
        )
        .await;
    let page_two = &next.ok()["careTeamOverview"]["edges"];
    assert_eq!(
        page_two[0]["node"]["patient"]["id"],
        all["data"]["careTeamOverview"]["edges"][5]["node"]["patient"]["id"]
    );
}

#[tokio::test]
async fn absurd_trend_dates_are_bad_input() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (from, to, named) in [
        ("+262142-12-31", "+262142-12-31", "from"),
        ("1899-12-31", "1900-01-05", "from"),
        ("2026-01-01", "9999-12-31", "to"),
    ] {
        let reply = app
            .graphql(
                "query($f: Date!, $t: Date!) { me { patient { trends(from: $f, to: $t) { date } } } }",
                json!({ "f": from, "t": to }),
                Some(&w.patient.token),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
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
}
