//! SQL statements per request (`x-sql-statements`), authentication and the
//! audit trail included: constant in page size, and few.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp, spawn_app_with};

async fn counted_app() -> TestApp {
    spawn_app_with(Options {
        vars: vec![("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into())],
        ..Options::default()
    })
    .await
}

async fn statements(app: &TestApp, token: &str, query: &str, variables: Value) -> (usize, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let count = response.headers()["x-sql-statements"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (count, response.json().await.unwrap())
}

#[tokio::test]
async fn the_principal_is_one_statement_and_me_two() {
    let app = counted_app().await;
    let w = app.world().await;
    // Session ⨝ user ⟕ memberships: one statement, whoever asks; `me`
    // then reads the user's row.
    for who in [&w.clinician, &w.patient, &w.admin] {
        let (count, body) = statements(&app, &who.token, "{ me { id } }", json!({})).await;
        assert_eq!(body["data"]["me"]["id"], who.user_id.to_string(), "{body}");
        assert_eq!(count, 2, "{body}");
    }
}

#[tokio::test]
async fn the_flat_patient_page_costs_the_same_at_any_size() {
    let app = counted_app().await;
    let w = app.world().await;
    for i in 0..12 {
        let p = app
            .new_person(w.org, &format!("Panel {i}"), &["PATIENT"])
            .await;
        app.put_on_care_team(&p, &w.clinician).await;
    }
    let query =
        "query($n: Int) { patients(first: $n) { edges { node { id user { displayName } } } } }";
    let (few, small) = statements(&app, &w.clinician.token, query, json!({ "n": 2 })).await;
    let (many, large) = statements(&app, &w.clinician.token, query, json!({ "n": 13 })).await;
    assert_eq!(
        small["data"]["patients"]["edges"].as_array().map(Vec::len),
        Some(2),
        "{small}"
    );
    assert_eq!(
        large["data"]["patients"]["edges"].as_array().map(Vec::len),
        Some(13),
        "{large}"
    );
    assert_eq!(few, many, "statements grow with the page: {few} → {many}");
    // The principal; the page with each account and the caller's standing;
    // the audit rows (one INSERT).
    assert_eq!(many, 3, "flat page statements");
}

#[tokio::test]
async fn the_nested_page_of_patients_and_their_check_ins_costs_the_same_at_any_size() {
    let app = counted_app().await;
    let w = app.world().await;
    for i in 0..12 {
        let p = app
            .new_person(w.org, &format!("Panel {i}"), &["PATIENT"])
            .await;
        app.put_on_care_team(&p, &w.clinician).await;
        for day in 0..3 {
            let reply = app
                .graphql(
                    "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id } } }",
                    json!({ "input": { "painScore": day, "idempotencyKey": format!("c{i}-{day}") } }),
                    Some(&p.token),
                )
                .await;
            reply.ok();
        }
    }
    let query = "query($n: Int) { patients(first: $n) { edges { node { id
      checkIns(first: 2) { edges { node { id painScore } } pageInfo { hasNextPage } } } } } }";
    let (few, small) = statements(&app, &w.clinician.token, query, json!({ "n": 2 })).await;
    let (many, large) = statements(&app, &w.clinician.token, query, json!({ "n": 13 })).await;
    let edges = large["data"]["patients"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 13, "{large}");
    assert!(small["errors"].is_null(), "{small}");
    // Each panel patient shows their first two check-ins of three, oldest
    // first, and says there are more.
    let with_check_ins: Vec<&Value> = edges
        .iter()
        .filter(|e| {
            e["node"]["checkIns"]["edges"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .collect();
    assert_eq!(with_check_ins.len(), 12, "{large}");
    for edge in with_check_ins {
        let check_ins = &edge["node"]["checkIns"];
        assert_eq!(check_ins["edges"][0]["node"]["painScore"], 0);
        assert_eq!(check_ins["edges"][1]["node"]["painScore"], 1);
        assert_eq!(check_ins["edges"].as_array().unwrap().len(), 2);
        assert_eq!(check_ins["pageInfo"]["hasNextPage"], true);
    }
    assert_eq!(few, many, "statements grow with the page: {few} → {many}");
    // The principal, the page, the check-ins of every patient on it, the
    // audit rows.
    assert_eq!(many, 4, "nested page statements");
}
