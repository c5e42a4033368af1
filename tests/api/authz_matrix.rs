//! The authorization matrix: every operation touching a patient's record ×
//! every caller kind → allowed, `NOT_FOUND` or `FORBIDDEN`. Later features
//! add their rows here.

use serde_json::{Value, json};

use crate::harness::{GqlReply, Person, TestApp, World, spawn_app};

/// What a caller should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Allowed,
    NotFound,
    Forbidden,
}
use Expect::*;

/// Checks one reply against the expectation, naming the cell on failure.
pub fn check(reply: &GqlReply, expect: Expect, cell: &str) {
    let code = reply.error_code();
    match expect {
        Allowed => assert!(
            reply.body.get("errors").is_none(),
            "{cell}: expected allowed, got {}",
            reply.body
        ),
        NotFound => assert_eq!(code, Some("NOT_FOUND"), "{cell}: {}", reply.body),
        Forbidden => assert_eq!(code, Some("FORBIDDEN"), "{cell}: {}", reply.body),
    }
}

/// Runs `query` as each caller and checks the row.
async fn row(
    app: &TestApp,
    world: &World,
    operation: &str,
    query: &str,
    variables: Value,
    expected: &[(&str, Expect)],
) {
    let callers = world.callers();
    for (name, expect) in expected {
        let (_, person): &(&str, &Person) = callers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no caller {name}"));
        let reply = app
            .graphql(query, variables.clone(), Some(&person.token))
            .await;
        check(&reply, *expect, &format!("{operation} as {name}"));
    }
}

#[tokio::test]
async fn reading_a_patient() {
    let app = spawn_app().await;
    let w = app.world().await;
    row(
        &app,
        &w,
        "patient(id)",
        "query($id: UUID!) { patient(id: $id) { id user { displayName } } }",
        json!({ "id": w.patient.patient() }),
        &[
            ("patient", Allowed),
            ("other patient", NotFound),
            ("care-team clinician", Allowed),
            ("other clinician", NotFound),
            ("facilitator without consent", NotFound),
            ("facilitator with consent", Allowed),
            ("supporter with consent", Allowed),
            ("admin", Allowed),
            ("other organization's admin", NotFound),
        ],
    )
    .await;
}

#[tokio::test]
async fn listing_patients_filters_in_sql() {
    let app = spawn_app().await;
    let w = app.world().await;
    let query = "{ patients(first: 100) { edges { node { id } } pageInfo { hasNextPage } } }";
    let sees = |reply: &GqlReply, id: uuid::Uuid| {
        reply.ok()["patients"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["id"] == id.to_string())
    };
    for (name, person) in w.callers() {
        let reply = app.graphql(query, json!({}), Some(&person.token)).await;
        let expected = matches!(
            name,
            "patient"
                | "care-team clinician"
                | "facilitator with consent"
                | "supporter with consent"
                | "admin"
        );
        assert_eq!(
            sees(&reply, w.patient.patient()),
            expected,
            "patients as {name}"
        );
    }
    // The other patient sees only themselves; the admin sees both.
    let reply = app
        .graphql(query, json!({}), Some(&w.other_patient.token))
        .await;
    assert_eq!(reply.ok()["patients"]["edges"].as_array().unwrap().len(), 1);
    let reply = app.graphql(query, json!({}), Some(&w.admin.token)).await;
    assert_eq!(reply.ok()["patients"]["edges"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_care_team_is_shown_to_the_patient_team_and_admin_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let query = "query($id: UUID!) { patient(id: $id) { careTeam { id } } }";
    for (name, person, members) in [
        ("patient", &w.patient, 1),
        ("care-team clinician", &w.clinician, 1),
        ("admin", &w.admin, 1),
        ("supporter with consent", &w.supporter, 0),
        ("facilitator with consent", &w.consented_facilitator, 0),
    ] {
        let reply = app
            .graphql(
                query,
                json!({ "id": w.patient.patient() }),
                Some(&person.token),
            )
            .await;
        let team = reply.ok()["patient"]["careTeam"].as_array().unwrap().len();
        assert_eq!(team, members, "careTeam as {name}");
    }
}

#[tokio::test]
async fn assigning_and_removing_care_team_members() {
    let app = spawn_app().await;
    let w = app.world().await;
    let assign = "mutation($input: AssignCareTeamMemberInput!) { assignCareTeamMember(input: $input) { patient { careTeam { id } } } }";
    let input = json!({ "input": { "patientId": w.patient.patient(), "clinicianId": w.other_clinician.user_id } });
    row(
        &app,
        &w,
        "assignCareTeamMember",
        assign,
        input.clone(),
        &[
            ("patient", Forbidden),
            ("other patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("other clinician", Forbidden),
            ("facilitator with consent", Forbidden),
            ("supporter with consent", Forbidden),
            ("other organization's admin", NotFound),
            ("admin", Allowed),
        ],
    )
    .await;
    // Assigned (idempotently): the other clinician now sees the patient.
    let reply = app
        .graphql(assign, input.clone(), Some(&w.admin.token))
        .await;
    assert_eq!(
        reply.ok()["assignCareTeamMember"]["patient"]["careTeam"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    let id = json!({ "id": w.patient.patient() });
    app.graphql(read, id.clone(), Some(&w.other_clinician.token))
        .await
        .ok();

    // A non-clinician cannot join a care team.
    let reply = app
        .graphql(
            assign,
            json!({ "input": { "patientId": w.patient.patient(), "clinicianId": w.facilitator.user_id } }),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        reply.body["errors"][0]["extensions"]["field"],
        "clinicianId"
    );

    let remove = "mutation($input: AssignCareTeamMemberInput!) { removeCareTeamMember(input: $input) { patient { careTeam { id } } } }";
    let reply = app.graphql(remove, input, Some(&w.admin.token)).await;
    assert_eq!(
        reply.ok()["removeCareTeamMember"]["patient"]["careTeam"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let reply = app.graphql(read, id, Some(&w.other_clinician.token)).await;
    assert_eq!(
        reply.error_code(),
        Some("NOT_FOUND"),
        "removal binds at once"
    );
}

#[tokio::test]
async fn granting_and_revoking_consent_is_the_patients_alone() {
    let app = spawn_app().await;
    let w = app.world().await;
    let grant =
        "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { consent { id } } }";
    let input = json!({ "input": { "granteeUserId": w.facilitator.user_id, "categories": ["SYMPTOMS"], "purpose": "group check-ins" } });
    row(
        &app,
        &w,
        "grantConsent",
        grant,
        input,
        &[
            ("care-team clinician", Forbidden),
            ("facilitator without consent", Forbidden),
            ("supporter with consent", Forbidden),
            ("admin", Forbidden),
            ("other organization's admin", Forbidden),
            ("patient", Allowed),
        ],
    )
    .await;

    let consent = app
        .grant_consent(&w.patient, &w.facilitator, &["TAPER"])
        .await;
    let revoke = "mutation($input: RevokeConsentInput!) { revokeConsent(input: $input) { consent { revokedAt } } }";
    let input = json!({ "input": { "consentId": consent } });
    row(
        &app,
        &w,
        "revokeConsent",
        revoke,
        input,
        &[
            ("other patient", NotFound),
            ("care-team clinician", Forbidden),
            ("facilitator without consent", Forbidden),
            ("admin", Forbidden),
            ("patient", Allowed),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_audit_trail_is_for_admins_and_the_access_log_for_patients() {
    let app = spawn_app().await;
    let w = app.world().await;
    row(
        &app,
        &w,
        "auditEvents",
        "{ auditEvents(first: 5) { edges { node { id } } } }",
        json!({}),
        &[
            ("patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("facilitator with consent", Forbidden),
            ("supporter with consent", Forbidden),
            ("admin", Allowed),
            ("other organization's admin", Allowed),
        ],
    )
    .await;
    // Another organization's admin sees none of this organization's events.
    let reply = app
        .graphql(
            "query($p: UUID) { auditEvents(first: 100, patientId: $p) { edges { node { id } } } }",
            json!({ "p": w.patient.patient() }),
            Some(&w.other_org_admin.token),
        )
        .await;
    assert!(
        reply.ok()["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    row(
        &app,
        &w,
        "myAccessLog",
        "{ myAccessLog(first: 5) { edges { node { id } } } }",
        json!({}),
        &[
            ("patient", Allowed),
            ("care-team clinician", Forbidden),
            ("admin", Forbidden),
        ],
    )
    .await;
}
