//! The audit trail records every access to a patient's record, allowed or
//! denied, with the request id; patients see who read their record.

use serde_json::{Value, json};

use crate::harness::spawn_app;

const EVENTS: &str = "query($p: UUID, $a: UUID) { auditEvents(first: 100, patientId: $p, actorUserId: $a) { edges { node { action actorUserId patientId resourceId allowed requestId correlationId } } } }";

fn events(reply: &crate::harness::GqlReply) -> Vec<Value> {
    reply.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn reads_and_denied_attempts_are_in_the_trail() {
    let app = spawn_app().await;
    let w = app.world().await;
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    let id = json!({ "id": w.patient.patient() });

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "req-clinician-read-1")
        .bearer_auth(&w.clinician.token)
        .json(&json!({ "query": read, "variables": id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let server_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let denied = app
        .graphql(read, id.clone(), Some(&w.other_clinician.token))
        .await;
    assert_eq!(denied.error_code(), Some("NOT_FOUND"));
    let foreign = app
        .graphql(read, id.clone(), Some(&w.other_org_admin.token))
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));

    let trail = events(
        &app.graphql(
            EVENTS,
            json!({ "p": w.patient.patient() }),
            Some(&w.admin.token),
        )
        .await,
    );
    let clinician_read = trail
        .iter()
        .find(|e| {
            e["actorUserId"] == w.clinician.user_id.to_string() && e["action"] == "patient.read"
        })
        .expect("the clinician's read is audited");
    assert_eq!(clinician_read["allowed"], true);
    // The trail records the server's id; the client's is kept beside it.
    assert_eq!(clinician_read["requestId"], server_id);
    assert_eq!(clinician_read["correlationId"], "req-clinician-read-1");
    let denial = trail
        .iter()
        .find(|e| e["actorUserId"] == w.other_clinician.user_id.to_string())
        .expect("the denied attempt is audited");
    assert_eq!(denial["allowed"], false);
    assert_eq!(denial["patientId"], w.patient.patient().to_string());

    // The other organization's attempt is logged in that organization,
    // without the patient's id.
    let foreign_trail = events(
        &app.graphql(
            EVENTS,
            json!({ "a": w.other_org_admin.user_id }),
            Some(&w.other_org_admin.token),
        )
        .await,
    );
    let attempt = foreign_trail
        .iter()
        .find(|e| e["action"] == "patient.read")
        .expect("logged for the actor's organization");
    assert_eq!(attempt["allowed"], false);
    assert!(attempt["patientId"].is_null());
    assert_eq!(attempt["resourceId"], w.patient.patient().to_string());
}

#[tokio::test]
async fn a_patient_sees_who_read_their_record() {
    let app = spawn_app().await;
    let w = app.world().await;
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    app.graphql(
        read,
        json!({ "id": w.patient.patient() }),
        Some(&w.clinician.token),
    )
    .await
    .ok();
    app.graphql(
        read,
        json!({ "id": w.patient.patient() }),
        Some(&w.patient.token),
    )
    .await
    .ok();
    let log = app
        .graphql(
            "{ myAccessLog(first: 50) { edges { node { actorUserId action allowed at } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    let entries = log.ok()["myAccessLog"]["edges"].as_array().unwrap().clone();
    assert!(entries.iter().any(
        |e| e["node"]["actorUserId"] == w.clinician.user_id.to_string()
            && e["node"]["action"] == "patient.read"
    ));
    assert!(
        entries
            .iter()
            .all(|e| e["node"]["actorUserId"] != w.patient.user_id.to_string()),
        "their own reads are not disclosures"
    );
}

#[tokio::test]
async fn lists_page_with_cursors_and_cap_first() {
    let app = spawn_app().await;
    let w = app.world().await;
    for _ in 0..3 {
        app.graphql(
            "{ patients { edges { node { id } } } }",
            json!({}),
            Some(&w.admin.token),
        )
        .await
        .ok();
    }
    let page = "query($after: String) { auditEvents(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let first = app.graphql(page, json!({}), Some(&w.admin.token)).await;
    let info = &first.ok()["auditEvents"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    let second = app
        .graphql(
            page,
            json!({ "after": info["endCursor"] }),
            Some(&w.admin.token),
        )
        .await;
    let a = &first.ok()["auditEvents"]["edges"];
    let b = &second.ok()["auditEvents"]["edges"];
    assert_ne!(a[0]["node"]["id"], b[0]["node"]["id"]);

    let too_many = app
        .graphql(
            "{ patients(first: 101) { edges { node { id } } } }",
            json!({}),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(too_many.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(too_many.body["errors"][0]["extensions"]["field"], "first");
    let bad_cursor = app
        .graphql(
            "{ patients(after: \"nope\") { edges { node { id } } } }",
            json!({}),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(bad_cursor.body["errors"][0]["extensions"]["field"], "after");
}
