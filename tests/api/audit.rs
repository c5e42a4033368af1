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

const TRAIL: &str = "query($p: UUID, $a: UUID) { auditEvents(first: 100, patientId: $p, actorUserId: $a) { edges { node { id action actorUserId patientId resourceType resourceId allowed } } } }";

async fn trail(
    app: &crate::harness::TestApp,
    who: &crate::harness::Person,
    vars: Value,
) -> Vec<Value> {
    events(&app.graphql(TRAIL, vars, Some(&who.token)).await)
}

/// The rows of `actor` doing `action` (allowed or not).
fn rows<'a>(trail: &'a [Value], actor: &crate::harness::Person, action: &str) -> Vec<&'a Value> {
    trail
        .iter()
        .filter(|e| e["actorUserId"] == actor.user_id.to_string() && e["action"] == action)
        .collect()
}

#[tokio::test]
async fn an_auditor_reads_the_whole_trail_and_no_records() {
    let app = spawn_app().await;
    let w = app.world().await;
    let auditor = app.new_person(w.org, "Ava Auditor", &["AUDITOR"]).await;
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    app.graphql(
        read,
        json!({ "id": w.patient.patient() }),
        Some(&w.clinician.token),
    )
    .await
    .ok();

    let seen = trail(&app, &auditor, json!({})).await;
    assert!(!rows(&seen, &w.clinician, "patient.read").is_empty());

    // No record: every patient path refuses them.
    let refused = app
        .graphql(
            read,
            json!({ "id": w.patient.patient() }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(refused.error_code(), Some("NOT_FOUND"));
    let list = app
        .graphql(
            "{ patients { edges { node { id } } } }",
            json!({}),
            Some(&auditor.token),
        )
        .await;
    assert!(
        list.body["data"]["patients"]["edges"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "{}",
        list.body
    );
    let panel = app
        .graphql(
            "{ careTeamOverview { edges { node { riskScore } } } }",
            json!({}),
            Some(&auditor.token),
        )
        .await;
    assert!(panel.error_code().is_some(), "{}", panel.body);
    let own = trail(&app, &auditor, json!({ "a": auditor.user_id })).await;
    let denial = own
        .iter()
        .find(|e| e["action"] == "patient.read")
        .expect("the auditor's attempt is recorded");
    assert_eq!(denial["allowed"], false);

    // Admins invite auditors; no one else does.
    let invite = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { invitation { role } } }";
    let by_admin = app
        .graphql(
            invite,
            json!({ "input": { "email": "po@example.org", "role": "AUDITOR" } }),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(
        by_admin.ok()["createInvitation"]["invitation"]["role"],
        "AUDITOR"
    );
    for who in [&w.clinician, &w.patient, &auditor] {
        let reply = app
            .graphql(
                invite,
                json!({ "input": { "email": "po2@example.org", "role": "AUDITOR" } }),
                Some(&who.token),
            )
            .await;
        assert_eq!(reply.error_code(), Some("FORBIDDEN"));
    }
}

#[tokio::test]
async fn admins_get_patients_group_activity_redacted_auditors_whole() {
    let app = spawn_app().await;
    let w = app.world().await;
    let auditor = app.new_person(w.org, "Ava Auditor", &["AUDITOR"]).await;
    let created = app
        .graphql(
            "mutation($input: CreateSupportGroupInput!) { createSupportGroup(input: $input) { group { id } } }",
            json!({ "input": {
                "name": "Tuesday tapering circle", "kind": "TAPERING_COHORT",
                "description": "People tapering together.", "format": "VIRTUAL",
                "meetingUrl": "https://meet.example.org/tuesday",
            } }),
            Some(&w.facilitator.token),
        )
        .await;
    let group = created.ok()["createSupportGroup"]["group"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = app
        .graphql(
            "mutation($input: JoinSupportGroupInput!) { joinSupportGroup(input: $input) { membership { status } } }",
            json!({ "input": { "groupId": group } }),
            Some(&w.patient.token),
        )
        .await;
    joined.ok();
    app.graphql(
        "query($id: UUID!) { supportGroup(id: $id) { id name } }",
        json!({ "id": group }),
        Some(&w.patient.token),
    )
    .await
    .ok();

    let whole = trail(&app, &auditor, json!({})).await;
    let patients_rows: Vec<&Value> = whole
        .iter()
        .filter(|e| e["actorUserId"] == w.patient.user_id.to_string())
        .filter(|e| e["resourceType"] == "SupportGroup" || e["resourceType"] == "GroupMembership")
        .collect();
    assert!(patients_rows.len() >= 2, "join and read: {whole:?}");
    assert!(patients_rows.iter().any(|e| e["resourceId"] == group));

    let redacted = trail(&app, &w.admin, json!({})).await;
    assert_eq!(whole.len(), redacted.len(), "the same rows, some redacted");
    for row in &patients_rows {
        let seen = redacted
            .iter()
            .find(|e| e["id"] == row["id"])
            .expect("the admin sees that it happened");
        assert!(seen["actorUserId"].is_null(), "{seen}");
        assert!(seen["resourceId"].is_null(), "{seen}");
        assert!(seen["patientId"].is_null(), "{seen}");
        assert_eq!(seen["action"], row["action"]);
    }
    // The facilitator's own group rows are staff activity: whole.
    let staff = redacted.iter().find(|e| {
        e["actorUserId"] == w.facilitator.user_id.to_string() && e["resourceType"] == "SupportGroup"
    });
    if let Some(staff) = staff {
        assert_eq!(staff["resourceId"], group);
    }

    // Filtering by the patient finds none of it for the admin, all of it
    // for the auditor.
    for vars in [
        json!({ "a": w.patient.user_id }),
        json!({ "p": w.patient.patient() }),
    ] {
        let filtered = trail(&app, &w.admin, vars.clone()).await;
        assert!(
            filtered
                .iter()
                .all(|e| !patients_rows.iter().any(|r| r["id"] == e["id"])),
            "{vars}: {filtered:?}"
        );
    }
    let by_actor = trail(&app, &auditor, json!({ "a": w.patient.user_id })).await;
    for row in &patients_rows {
        assert!(by_actor.iter().any(|e| e["id"] == row["id"]));
    }
}

#[tokio::test]
async fn refusals_by_role_leave_denied_rows() {
    let app = spawn_app().await;
    let w = app.world().await;
    let auditor = app.new_person(w.org, "Ava Auditor", &["AUDITOR"]).await;
    let some_alert = uuid::Uuid::now_v7();
    let calls = [
        (
            "{ alerts { edges { node { id } } } }",
            json!({}),
            "alert.read",
        ),
        (
            "mutation($id: UUID!) { acknowledgeAlert(input: { alertId: $id }) { alert { id } } }",
            json!({ "id": some_alert }),
            "alert.acknowledge",
        ),
        (
            "mutation($id: UUID!) { resolveAlert(input: { alertId: $id, note: \"done\" }) { alert { id } } }",
            json!({ "id": some_alert }),
            "alert.resolve",
        ),
        (
            "{ careTeamOverview { edges { node { riskScore } } } }",
            json!({}),
            "careTeamOverview.read",
        ),
        (
            "{ auditEvents { edges { node { id } } } }",
            json!({}),
            "auditEvents.read",
        ),
    ];
    for (query, vars, _) in &calls {
        let reply = app
            .graphql(query, vars.clone(), Some(&w.patient.token))
            .await;
        assert_eq!(
            reply.error_code(),
            Some("FORBIDDEN"),
            "{query}: {}",
            reply.body
        );
    }
    let by_clinician = app
        .graphql(
            "{ auditEvents { edges { node { id } } } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(by_clinician.error_code(), Some("FORBIDDEN"));

    // The subscription, over a socket.
    let mut ws = app
        .ws_connect(json!({ "authorization": format!("Bearer {}", w.patient.token) }))
        .await
        .expect("patient connects");
    ws.subscribe("a", "subscription { alertRaised { kind } }", json!({}))
        .await;
    let refusal = loop {
        match ws.next_message().await {
            Some(crate::harness::WsEvent::Message(m)) if m["type"] == "complete" => continue,
            other => break other,
        }
    };
    assert!(
        matches!(&refusal, Some(crate::harness::WsEvent::Message(m)) if m.to_string().contains("FORBIDDEN")),
        "{refusal:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let seen = trail(&app, &auditor, json!({})).await;
    for (query, _, action) in &calls {
        let found = rows(&seen, &w.patient, action);
        assert_eq!(found.len(), 1, "{query}: {seen:?}");
        assert_eq!(found[0]["allowed"], false);
        assert!(found[0]["patientId"].is_null());
    }
    assert_eq!(
        rows(&seen, &w.clinician, "auditEvents.read")[0]["allowed"],
        false
    );
    let subscribe = rows(&seen, &w.patient, "alert.subscribe");
    assert_eq!(subscribe.len(), 1, "{seen:?}");
    assert_eq!(subscribe[0]["allowed"], false);
    // Reading the trail is not itself recorded.
    assert!(rows(&seen, &auditor, "auditEvents.read").is_empty());
}

#[tokio::test]
async fn a_refused_assessment_is_recorded_as_denied() {
    let app = spawn_app().await;
    let w = app.world().await;
    // A clinician the patient consented to, not on their care team: they
    // see the patient, but may not rate them.
    app.grant_consent(&w.patient, &w.other_clinician, &["CHECK_INS"])
        .await;
    let reply = app
        .graphql(
            "mutation($input: SubmitWithdrawalAssessmentInput!) { submitWithdrawalAssessment(input: $input) { assessment { id } } }",
            json!({ "input": { "patientId": w.patient.patient(), "instrument": "COWS", "items": [0,0,0,0,0,0,0,0,0,0,0] } }),
            Some(&w.other_clinician.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"), "{}", reply.body);
    let seen = trail(&app, &w.admin, json!({ "a": w.other_clinician.user_id })).await;
    let found = rows(&seen, &w.other_clinician, "assessment.submit");
    assert_eq!(found.len(), 1, "{seen:?}");
    assert_eq!(found[0]["allowed"], false);
}

#[tokio::test]
async fn each_page_of_notifications_read_is_recorded() {
    let app = spawn_app().await;
    let w = app.world().await;
    for _ in 0..2 {
        app.graphql(
            "{ notifications(first: 5) { edges { node { id } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await
        .ok();
    }
    let seen = trail(&app, &w.admin, json!({ "a": w.patient.user_id })).await;
    let found = rows(&seen, &w.patient, "notifications.read");
    assert_eq!(found.len(), 2, "{seen:?}");
    assert!(
        found
            .iter()
            .all(|e| e["resourceType"] == "Notification" && e["allowed"] == true)
    );
}

#[tokio::test]
async fn a_denial_across_organizations_names_no_patient_of_the_other() {
    let app = spawn_app().await;
    let w = app.world().await;
    // An admin of the other organization asks for this one's patient.
    let reply = app
        .graphql(
            "query($id: UUID!) { patient(id: $id) { id } }",
            json!({ "id": w.patient.patient() }),
            Some(&w.other_org_admin.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    let theirs = trail(
        &app,
        &w.other_org_admin,
        json!({ "a": w.other_org_admin.user_id }),
    )
    .await;
    let denial = rows(&theirs, &w.other_org_admin, "patient.read");
    assert_eq!(denial.len(), 1, "{theirs:?}");
    assert_eq!(denial[0]["allowed"], false);
    assert!(denial[0]["patientId"].is_null());
    // Nothing lands in the patient's organization.
    let ours = trail(&app, &w.admin, json!({ "a": w.other_org_admin.user_id })).await;
    assert!(ours.is_empty(), "{ours:?}");

    // A row of this organization's patient reached by id from another
    // organization (an alert) names only the id asked for.
    let third = app.new_organization("Third clinic").await;
    let stranger = app.new_person(third, "Dr Far", &["CLINICIAN"]).await;
    app.graphql(
        "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id } } }",
        json!({ "input": { "cravingScore": 9, "idempotencyKey": "crave-1" } }),
        Some(&w.patient.token),
    )
    .await
    .ok();
    let alerts = app
        .graphql(
            "{ alerts { edges { node { id } } } }",
            json!({}),
            Some(&w.clinician.token),
        )
        .await;
    let alert = alerts.ok()["alerts"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("a craving alert")
        .to_owned();
    let reply = app
        .graphql(
            "mutation($id: UUID!) { acknowledgeAlert(input: { alertId: $id }) { alert { id } } }",
            json!({ "id": alert }),
            Some(&stranger.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    let admin3 = app.new_person(third, "Ann Admin", &["ADMIN"]).await;
    let far = trail(&app, &admin3, json!({ "a": stranger.user_id })).await;
    let denial = rows(&far, &stranger, "alert.acknowledge");
    assert_eq!(denial.len(), 1, "{far:?}");
    assert_eq!(denial[0]["allowed"], false);
    assert!(denial[0]["patientId"].is_null());
    assert_eq!(denial[0]["resourceId"], alert);
    assert_ne!(denial[0]["resourceId"], w.patient.patient().to_string());
}

/// Rows of `patient.read` by `actor` on record, counted in the database.
async fn reads_on_record(app: &crate::harness::TestApp, actor: uuid::Uuid) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    entity::audit_events::Entity::find()
        .filter(entity::audit_events::Column::ActorUserId.eq(actor))
        .filter(entity::audit_events::Column::Action.eq("patient.read"))
        .count(app.seed_db().await)
        .await
        .unwrap() as i64
}

#[tokio::test]
async fn concurrent_reads_answer_only_once_their_rows_are_committed_and_a_failed_commit_fails_them_all()
 {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let w = app.world().await;
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    let id = json!({ "id": w.patient.patient() });

    // Twenty concurrent reads: each answers only once its row is
    // committed, so every answered read is on record at once.
    let replies = futures_util::future::join_all(
        (0..20).map(|_| app.graphql(read, id.clone(), Some(&w.clinician.token))),
    )
    .await;
    for reply in &replies {
        assert_eq!(reply.ok()["patient"]["id"], w.patient.patient().to_string());
    }
    assert_eq!(reads_on_record(&app, w.clinician.user_id).await, 20);

    // The trail refuses rows (a trigger stands for a failing commit): every
    // read waiting on that commit answers an error and shows no record.
    let db = app.seed_db().await;
    let (block, unblock) = if app.db.is_postgres() {
        (
            vec![
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
            vec![
                "DROP TRIGGER refuse_audit ON audit_events",
                "DROP FUNCTION refuse_audit()",
            ],
        )
    } else {
        (
            vec![
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit down'); END",
            ],
            vec!["DROP TRIGGER refuse_audit"],
        )
    };
    for sql in block {
        db.execute_unprepared(sql).await.unwrap();
    }
    let refused = futures_util::future::join_all(
        (0..8).map(|_| app.graphql(read, id.clone(), Some(&w.clinician.token))),
    )
    .await;
    for reply in &refused {
        assert!(reply.body["errors"].is_array(), "{}", reply.body);
        assert!(
            reply.body["data"].is_null() || reply.body["data"]["patient"].is_null(),
            "no record leaves without its audit row: {}",
            reply.body
        );
        let message = reply.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(!message.contains("audit down"), "no SQL leaks: {message}");
    }
    assert_eq!(reads_on_record(&app, w.clinician.user_id).await, 20);
    for sql in unblock {
        db.execute_unprepared(sql).await.unwrap();
    }
    // The writer recovers with the database.
    let again = app
        .graphql(read, id.clone(), Some(&w.clinician.token))
        .await;
    assert_eq!(again.ok()["patient"]["id"], w.patient.patient().to_string());
    assert_eq!(reads_on_record(&app, w.clinician.user_id).await, 21);
}
