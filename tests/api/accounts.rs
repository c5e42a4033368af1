//! Joining an organization: invitations by role, accepting them, and the
//! input checks on the way in.

use serde_json::json;

use crate::harness::{Person, TestApp, spawn_app};

const INVITE: &str = "mutation($input: CreateInvitationInput!) { createInvitation(input: $input) { code invitation { id email role expiresAt } } }";
const ACCEPT: &str = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { accessToken refreshToken user { id displayName roles patient { id } } } }";

async fn invite(app: &TestApp, by: &Person, email: &str, role: &str) -> crate::harness::GqlReply {
    app.graphql(
        INVITE,
        json!({ "input": { "email": email, "role": role } }),
        Some(&by.token),
    )
    .await
}

fn accept_input(code: &str, email: &str) -> serde_json::Value {
    json!({ "input": {
        "code": code, "email": email, "password": "a good long passphrase",
        "displayName": "New Person", "timezone": "America/Chicago",
    } })
}

#[tokio::test]
async fn who_may_invite_whom() {
    let app = spawn_app().await;
    let w = app.world().await;
    let cases = [
        (&w.admin, "CLINICIAN", true),
        (&w.admin, "FACILITATOR", true),
        (&w.admin, "PATIENT", true),
        (&w.admin, "ADMIN", true),
        (&w.admin, "SUPPORTER", false),
        (&w.clinician, "PATIENT", true),
        (&w.clinician, "CLINICIAN", false),
        (&w.clinician, "ADMIN", false),
        (&w.patient, "SUPPORTER", true),
        (&w.patient, "PATIENT", false),
        (&w.facilitator, "PATIENT", false),
        (&w.supporter, "SUPPORTER", false),
    ];
    for (i, (by, role, allowed)) in cases.into_iter().enumerate() {
        let reply = invite(&app, by, &format!("invitee{i}@example.org"), role).await;
        if allowed {
            let code = reply.ok()["createInvitation"]["code"].as_str().unwrap();
            assert!(code.len() > 40, "codes are long and random");
        } else {
            assert_eq!(reply.error_code(), Some("FORBIDDEN"), "{role} by #{i}");
        }
    }
    // An unknown role is refused by the schema, as bad input.
    let reply = invite(&app, &w.admin, "x@example.org", "OVERLORD").await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    let reply = invite(&app, &w.admin, "not-an-email", "PATIENT").await;
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "email");
}

#[tokio::test]
async fn a_clinicians_patient_invitation_builds_the_care_team() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = invite(&app, &w.clinician, "newpatient@example.org", "PATIENT").await;
    let code = reply.ok()["createInvitation"]["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // Accepting signs in, and the payload resolves as the new user with no
    // token on the request.
    let accepted = app
        .graphql(ACCEPT, accept_input(&code, "NewPatient@example.org"), None)
        .await;
    let payload = &accepted.ok()["acceptInvitation"];
    assert_eq!(payload["user"]["roles"], json!(["PATIENT"]));
    let patient_id = payload["user"]["patient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = payload["accessToken"].as_str().unwrap().to_owned();

    let me = app
        .graphql(
            "{ me { patient { id careTeam { id } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(me.ok()["me"]["patient"]["id"], patient_id.as_str());
    assert_eq!(
        me.ok()["me"]["patient"]["careTeam"][0]["id"],
        w.clinician.user_id.to_string()
    );
    // The inviting clinician sees the new patient.
    app.graphql(
        "query($id: UUID!) { patient(id: $id) { id } }",
        json!({ "id": patient_id }),
        Some(&w.clinician.token),
    )
    .await
    .ok();

    // Single use.
    let again = app
        .graphql(ACCEPT, accept_input(&code, "newpatient@example.org"), None)
        .await;
    assert_eq!(again.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(again.body["errors"][0]["extensions"]["field"], "code");
}

#[tokio::test]
async fn a_patient_invites_a_supporter_who_sees_only_what_is_granted() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = invite(&app, &w.patient, "family@example.org", "SUPPORTER").await;
    let code = reply.ok()["createInvitation"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let accepted = app
        .graphql(ACCEPT, accept_input(&code, "family@example.org"), None)
        .await;
    let payload = &accepted.ok()["acceptInvitation"];
    assert_eq!(payload["user"]["roles"], json!(["SUPPORTER"]));
    assert!(payload["user"]["patient"].is_null());
    let supporter = Person {
        user_id: payload["user"]["id"].as_str().unwrap().parse().unwrap(),
        patient_id: None,
        email: "family@example.org".into(),
        token: payload["accessToken"].as_str().unwrap().into(),
    };
    let read = "query($id: UUID!) { patient(id: $id) { id } }";
    let id = json!({ "id": w.patient.patient() });
    // Linked, but nothing granted yet: not visible.
    assert_eq!(
        app.graphql(read, id.clone(), Some(&supporter.token))
            .await
            .error_code(),
        Some("NOT_FOUND")
    );
    let consent = app.grant_consent(&w.patient, &supporter, &["TAPER"]).await;
    app.graphql(read, id.clone(), Some(&supporter.token))
        .await
        .ok();
    // Revocation binds on the next request.
    app.graphql(
        "mutation($input: RevokeConsentInput!) { revokeConsent(input: $input) { consent { revokedAt } } }",
        json!({ "input": { "consentId": consent } }),
        Some(&w.patient.token),
    )
    .await
    .ok();
    assert_eq!(
        app.graphql(read, id, Some(&supporter.token))
            .await
            .error_code(),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = invite(&app, &w.admin, "clin@example.org", "CLINICIAN").await;
    let code = reply.ok()["createInvitation"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("email", json!("bad-email")),
        ("password", json!("short")),
        ("password", json!("password1234")),
        ("displayName", json!("   ")),
        ("timezone", json!("Mars/Olympus_Mons")),
    ];
    for (field, value) in cases {
        let mut input = accept_input(&code, "clin@example.org");
        input["input"][field] = value;
        let reply = app.graphql(ACCEPT, input, None).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{field}");
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }
    // Wrong email for the code: the code is what is wrong.
    let reply = app
        .graphql(
            ACCEPT,
            accept_input(&code, "someone.else@example.org"),
            None,
        )
        .await;
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "code");
    // Nothing was written: the code still works.
    app.graphql(ACCEPT, accept_input(&code, "clin@example.org"), None)
        .await
        .ok();
}

#[tokio::test]
async fn consent_holders_see_identity_and_granted_categories_and_expiry_is_checked() {
    let app = spawn_app().await;
    let w = app.world().await;
    let grant = "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { consent { id categories purpose expiresAt signature } } }";
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    for (field, input) in [
        (
            "categories",
            json!({ "granteeUserId": w.facilitator.user_id, "categories": [], "purpose": "x" }),
        ),
        (
            "purpose",
            json!({ "granteeUserId": w.facilitator.user_id, "categories": ["TAPER"], "purpose": " " }),
        ),
        (
            "expiresAt",
            json!({ "granteeUserId": w.facilitator.user_id, "categories": ["TAPER"], "purpose": "x", "expiresAt": past }),
        ),
        (
            "granteeUserId",
            json!({ "granteeUserId": w.patient.user_id, "categories": ["TAPER"], "purpose": "x" }),
        ),
    ] {
        let reply = app
            .graphql(grant, json!({ "input": input }), Some(&w.patient.token))
            .await;
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"], field,
            "{}",
            reply.body
        );
    }
    // Another organization's user is not a possible recipient.
    let reply = app
        .graphql(
            grant,
            json!({ "input": { "granteeUserId": w.other_org_admin.user_id, "categories": ["TAPER"], "purpose": "x" } }),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));

    let reply = app
        .graphql(
            grant,
            json!({ "input": { "granteeUserId": w.facilitator.user_id, "categories": ["SYMPTOMS", "TAPER"], "purpose": "support" } }),
            Some(&w.patient.token),
        )
        .await;
    let consent = &reply.ok()["grantConsent"]["consent"];
    assert_eq!(consent["categories"], json!(["TAPER", "SYMPTOMS"]));
    let expires =
        chrono::DateTime::parse_from_rfc3339(consent["expiresAt"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(
        (364..=365).contains(&days),
        "one year by default, got {days}"
    );
    assert!(
        consent["signature"]
            .as_str()
            .unwrap()
            .contains("Signed electronically")
    );

    let mine = app
        .graphql(
            "{ myConsents { id granteeUserId active } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(mine.ok()["myConsents"].as_array().unwrap().len(), 3);
    let theirs = app
        .graphql(
            "{ myConsents { id } }",
            json!({}),
            Some(&w.facilitator.token),
        )
        .await;
    assert_eq!(theirs.ok()["myConsents"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn others_see_identity_only_unless_they_care_for_or_administer_the_person() {
    let app = spawn_app().await;
    let world = app.world().await;
    let query =
        "query($id: UUID!) { patient(id: $id) { user { id displayName email roles timezone } } }";
    let read = |who: &Person| {
        let app = &app;
        let token = who.token.clone();
        let id = world.patient.patient();
        async move { app.graphql(query, json!({ "id": id }), Some(&token)).await }
    };

    // A consent holder: id and name, contact fields null, no error.
    let supporter = read(&world.supporter).await;
    assert!(supporter.body["errors"].is_null(), "{:?}", supporter.body);
    let user = &supporter.ok()["patient"]["user"];
    assert_eq!(user["id"], world.patient.user_id.to_string());
    assert_eq!(user["displayName"], "Pat Patient");
    assert!(user["email"].is_null(), "{user}");
    assert!(user["roles"].is_null(), "{user}");
    assert!(user["timezone"].is_null(), "{user}");

    // The care team, the patient themself and the organization's admin see
    // the contact details.
    for who in [&world.clinician, &world.patient, &world.admin] {
        let reply = read(who).await;
        let user = &reply.ok()["patient"]["user"];
        assert_eq!(user["email"], world.patient.email, "{user}");
        assert_eq!(user["roles"], json!(["PATIENT"]), "{user}");
        assert!(user["timezone"].is_string(), "{user}");
    }

    // The patient sees their clinician's work email, through the care team.
    let team = app
        .graphql(
            "{ me { patient { careTeam { id email } } } }",
            json!({}),
            Some(&world.patient.token),
        )
        .await;
    let members = team.ok()["me"]["patient"]["careTeam"].to_string();
    assert!(members.contains(&world.clinician.email), "{members}");
}
