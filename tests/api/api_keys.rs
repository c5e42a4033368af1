//! API keys for other systems: an admin creates one, the secret is shown
//! once and sent as a bearer token; the key acts as its service account and
//! reaches only patients who consented to it, within its scopes; rolling
//! keeps the old key for the overlap; revocation binds on the next request;
//! every use is on the patient's access log.

use serde_json::{Value, json};

use crate::harness::{GqlReply, TestApp, World, spawn_app};

const CREATE: &str = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  apiKey { id name prefix serviceUserId scopes expiresAt revokedAt } secret } }";
const ROLL: &str = "mutation($input: RollApiKeyInput!) { rollApiKey(input: $input) { apiKey { id serviceUserId } secret } }";
const REVOKE: &str =
    "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { revokedAt } } }";
const READ: &str = "query($id: UUID!) { patient(id: $id) { id } }";
const CHECK_INS: &str =
    "query($id: UUID!) { patient(id: $id) { id checkIns(first: 5) { edges { node { id } } } } }";

struct Key {
    id: String,
    service_user: String,
    secret: String,
}

async fn create_key(app: &TestApp, w: &World, scopes: &[&str]) -> Key {
    let reply = app
        .graphql(
            CREATE,
            json!({ "input": { "name": "Riverside EHR", "scopes": scopes } }),
            Some(&w.admin.token),
        )
        .await;
    let created = &reply.ok()["createApiKey"];
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));
    Key {
        id: created["apiKey"]["id"].as_str().unwrap().to_owned(),
        service_user: created["apiKey"]["serviceUserId"]
            .as_str()
            .unwrap()
            .to_owned(),
        secret,
    }
}

async fn consent(app: &TestApp, w: &World, grantee: &str, categories: &[&str]) {
    let reply = app
        .graphql(
            "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { consent { id } } }",
            json!({ "input": { "granteeUserId": grantee, "categories": categories, "purpose": "EHR sync" } }),
            Some(&w.patient.token),
        )
        .await;
    assert!(reply.ok()["grantConsent"]["consent"]["id"].is_string());
}

async fn read(app: &TestApp, w: &World, secret: &str) -> GqlReply {
    app.graphql(READ, json!({ "id": w.patient.patient() }), Some(secret))
        .await
}

#[tokio::test]
async fn the_key_lifecycle() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Only admins create keys; bad input names its field.
    let by_clinician = app
        .graphql(
            CREATE,
            json!({ "input": { "name": "x", "scopes": ["PATIENTS_READ"] } }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(by_clinician.error_code(), Some("FORBIDDEN"));
    for (input, field) in [
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (json!({ "name": " ", "scopes": ["PATIENTS_READ"] }), "name"),
        (
            json!({ "name": "x", "scopes": ["PATIENTS_READ"], "expiresAt": "2020-01-01T00:00:00Z" }),
            "expiresAt",
        ),
    ] {
        let bad = app
            .graphql(CREATE, json!({ "input": input }), Some(&w.admin.token))
            .await;
        assert_eq!(bad.error_code(), Some("BAD_USER_INPUT"), "{}", bad.body);
        assert_eq!(bad.body["errors"][0]["extensions"]["field"], field);
    }

    let key = create_key(&app, &w, &["PATIENTS_READ"]).await;
    // GitHub-style: prefix, identifying part, checksum.
    assert!(key.secret.starts_with("sdk_live_"));
    assert_eq!(key.secret.len(), 45);
    // The key is its service account.
    let me = app
        .graphql("{ me { id } }", json!({}), Some(&key.secret))
        .await;
    assert_eq!(me.ok()["me"]["id"], key.service_user.as_str());
    // No consent yet: the patient is out of reach, as if unknown.
    assert_eq!(
        read(&app, &w, &key.secret).await.error_code(),
        Some("NOT_FOUND")
    );
    consent(&app, &w, &key.service_user, &["TAPER"]).await;
    assert_eq!(
        read(&app, &w, &key.secret).await.ok()["patient"]["id"],
        w.patient.patient().to_string()
    );
    // A key never writes clinical records or acts as a person.
    let order = app
        .graphql(
            "mutation($input: AddMedicationOrderInput!) { addMedicationOrder(input: $input) { order { id } } }",
            json!({ "input": { "patientId": w.patient.patient(), "medicationId": w.patient.patient(), "dose": 5.0, "dosesPerDay": 1, "startsOn": "2026-01-01" } }),
            Some(&key.secret),
        )
        .await;
    assert_eq!(order.error_code(), Some("FORBIDDEN"));
    // A typo is refused before any lookup; the listing shows the last use.
    let mut typo = key.secret.clone();
    typo.replace_range(20..21, if &typo[20..21] == "a" { "b" } else { "a" });
    assert_eq!(
        read(&app, &w, &typo).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    let mut last_used = Value::Null;
    for _ in 0..50 {
        let list = app
            .graphql(
                "{ apiKeys { id lastUsedAt scopes } }",
                json!({}),
                Some(&w.admin.token),
            )
            .await;
        last_used = list.ok()["apiKeys"][0]["lastUsedAt"].clone();
        if last_used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(last_used.is_string());

    // Rolling: the old key works for the overlap; with none it stops.
    let rolled = app
        .graphql(
            ROLL,
            json!({ "input": { "apiKeyId": key.id } }),
            Some(&w.admin.token),
        )
        .await;
    let new = rolled.ok()["rollApiKey"].clone();
    assert_eq!(new["apiKey"]["serviceUserId"], key.service_user.as_str());
    let new_secret = new["secret"].as_str().unwrap().to_owned();
    assert!(read(&app, &w, &key.secret).await.body["data"]["patient"].is_object());
    assert!(read(&app, &w, &new_secret).await.body["data"]["patient"].is_object());
    let bad_overlap = app
        .graphql(
            ROLL,
            json!({ "input": { "apiKeyId": key.id, "oldKeyValidForHours": -1 } }),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(
        bad_overlap.body["errors"][0]["extensions"]["field"],
        "oldKeyValidForHours"
    );
    let new_id = new["apiKey"]["id"].as_str().unwrap();
    let again = app
        .graphql(
            ROLL,
            json!({ "input": { "apiKeyId": new_id, "oldKeyValidForHours": 0 } }),
            Some(&w.admin.token),
        )
        .await;
    let third = again.ok()["rollApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        read(&app, &w, &new_secret).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    assert!(read(&app, &w, &third).await.body["data"]["patient"].is_object());

    // Revocation binds on the next request.
    let third_id = again.ok()["rollApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .graphql(
            REVOKE,
            json!({ "input": { "apiKeyId": third_id } }),
            Some(&w.admin.token),
        )
        .await;
    assert!(revoked.ok()["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    assert_eq!(
        read(&app, &w, &third).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    // Another organization's admin cannot touch the key.
    let foreign = app
        .graphql(
            REVOKE,
            json!({ "input": { "apiKeyId": key.id } }),
            Some(&w.other_org_admin.token),
        )
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));

    // Every read by the key is on the patient's access log, by its account.
    let log = app
        .graphql(
            "{ myAccessLog(first: 100) { edges { node { actorUserId action } } } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    let by_key = log.ok()["myAccessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["actorUserId"] == key.service_user.as_str())
        .count();
    assert!(by_key >= 4, "{}", log.body);
}

/// Scope × consent: what a key reaches is the intersection of the
/// categories the patient consented to and those its scopes cover.
#[tokio::test]
async fn scopes_and_consent_both_bound_what_a_key_reaches() {
    let app = spawn_app().await;
    let w = app.world().await;
    // (scopes, consented categories, sees the patient, sees check-ins)
    let cases: [(&[&str], &[&str], bool, bool); 7] = [
        (&["PATIENTS_READ"], &["TAPER"], true, false),
        (&["PATIENTS_READ"], &["CHECK_INS"], false, false),
        (&["OBSERVATIONS_READ"], &["CHECK_INS"], true, true),
        (&["OBSERVATIONS_READ"], &["TAPER"], false, false),
        (
            &["PATIENTS_READ", "OBSERVATIONS_READ"],
            &["TAPER", "CHECK_INS"],
            true,
            true,
        ),
        (
            &["WEBHOOKS_MANAGE"],
            &["TAPER", "CHECK_INS", "SYMPTOMS"],
            false,
            false,
        ),
        (&["PATIENTS_READ", "OBSERVATIONS_READ"], &[], false, false),
    ];
    for (scopes, categories, sees, check_ins) in cases {
        let key = create_key(&app, &w, scopes).await;
        if !categories.is_empty() {
            consent(&app, &w, &key.service_user, categories).await;
        }
        let case = format!("scopes {scopes:?}, consent {categories:?}");
        let reply = read(&app, &w, &key.secret).await;
        assert_eq!(
            reply.body["data"]["patient"].is_object(),
            sees,
            "{case}: {}",
            reply.body
        );
        let list = app
            .graphql(
                "{ patients(first: 50) { edges { node { id } } } }",
                json!({}),
                Some(&key.secret),
            )
            .await;
        let listed = list.ok()["patients"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["id"] == w.patient.patient().to_string());
        assert_eq!(listed, sees, "{case}: the list agrees with the lookup");
        let observed = app
            .graphql(
                CHECK_INS,
                json!({ "id": w.patient.patient() }),
                Some(&key.secret),
            )
            .await;
        let shown = observed.body["data"]["patient"]["checkIns"]["edges"].is_array();
        assert_eq!(shown, check_ins, "{case}: {}", observed.body);
    }
}
