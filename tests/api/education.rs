//! Education as the clinic uses it: clinicians and admins fill the
//! organization's library, the care team assigns a resource, the patient
//! completes it, and anyone in the organization finds resources by tag.

use serde_json::{Value, json};

use crate::authz_matrix::{Expect, check};
use crate::harness::{GqlReply, Person, TestApp, spawn_app};

const CREATE: &str = "mutation($input: CreateResourceInput!) { createResource(input: $input) {
  resource { id title kind url body tags } } }";
const ASSIGN: &str = "mutation($input: AssignResourceInput!) { assignResource(input: $input) {
  assignment { id completedAt assignedBy { id } resource { id title } } } }";
const COMPLETE: &str =
    "mutation($input: CompleteResourceInput!) { completeResource(input: $input) {
  assignment { id completedAt resource { id } } } }";
const FIND: &str = "query($tag: String) { resources(tag: $tag) { id title tags } }";

fn field(reply: &GqlReply) -> &Value {
    &reply.body["errors"][0]["extensions"]["field"]
}

async fn create(app: &TestApp, who: &Person, input: Value) -> GqlReply {
    let mut full = json!({
        "title": "Sleep during a taper",
        "kind": "ARTICLE",
        "body": "Keep a regular bedtime; withdrawal can disturb sleep for weeks.",
        "tags": ["Sleep", "self-care"],
    });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.graphql(CREATE, json!({ "input": full }), Some(&who.token))
        .await
}

async fn created(app: &TestApp, who: &Person, input: Value) -> String {
    create(app, who, input).await.ok()["createResource"]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn assign(app: &TestApp, who: &Person, resource: &str, patient: &Person) -> GqlReply {
    app.graphql(
        ASSIGN,
        json!({ "input": { "resourceId": resource, "patientId": patient.patient() } }),
        Some(&who.token),
    )
    .await
}

async fn complete(app: &TestApp, who: &Person, assignment: &str) -> GqlReply {
    app.graphql(
        COMPLETE,
        json!({ "input": { "assignmentId": assignment } }),
        Some(&who.token),
    )
    .await
}

async fn titles(app: &TestApp, who: &Person, tag: Option<&str>) -> Vec<String> {
    app.graphql(FIND, json!({ "tag": tag }), Some(&who.token))
        .await
        .ok()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_resource_is_created_assigned_completed_and_found_by_tag() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = create(&app, &w.clinician, json!({})).await;
    let article = reply.ok()["createResource"]["resource"].clone();
    assert_eq!(article["kind"], "ARTICLE");
    assert_eq!(article["tags"], json!(["self-care", "sleep"]));
    let article_id = article["id"].as_str().unwrap().to_owned();
    created(
        &app,
        &w.admin,
        json!({ "title": "Mindfulness for pain", "kind": "AUDIO", "body": null,
                "url": "https://media.example.org/mindful.mp3", "tags": ["mindfulness", "pain"] }),
    )
    .await;
    created(
        &app,
        &w.other_org_admin,
        json!({ "title": "Another clinic's sleep guide", "tags": ["sleep"] }),
    )
    .await;

    // Found by tag in any case, by anyone in the organization.
    for who in [&w.patient, &w.supporter, &w.facilitator, &w.clinician] {
        assert_eq!(
            titles(&app, who, Some("sleep")).await,
            ["Sleep during a taper"]
        );
    }
    assert_eq!(
        titles(&app, &w.patient, Some(" SLEEP ")).await,
        ["Sleep during a taper"]
    );
    assert_eq!(
        titles(&app, &w.patient, Some("pain")).await,
        ["Mindfulness for pain"]
    );
    assert!(titles(&app, &w.patient, Some("nutrition")).await.is_empty());
    assert_eq!(
        titles(&app, &w.patient, None).await,
        ["Mindfulness for pain", "Sleep during a taper"]
    );
    assert_eq!(
        titles(&app, &w.other_org_admin, Some("sleep")).await,
        ["Another clinic's sleep guide"],
        "nothing crosses organizations"
    );

    // The care team assigns it; assigning it again returns the same one.
    let reply = assign(&app, &w.clinician, &article_id, &w.patient).await;
    let assignment = reply.ok()["assignResource"]["assignment"].clone();
    assert!(assignment["completedAt"].is_null());
    assert_eq!(
        assignment["assignedBy"]["id"],
        w.clinician.user_id.to_string()
    );
    let assignment_id = assignment["id"].as_str().unwrap().to_owned();
    let again = assign(&app, &w.clinician, &article_id, &w.patient).await;
    assert_eq!(
        again.ok()["assignResource"]["assignment"]["id"],
        assignment_id.as_str()
    );

    // The patient sees it and completes it; completing again changes nothing.
    let progress = "assignedResources { id completedAt resource { title } }";
    let read = |who: &Person| {
        let token = who.token.clone();
        let app = &app;
        let patient = w.patient.patient();
        async move {
            app.graphql(
                &format!("query($id: UUID!) {{ patient(id: $id) {{ {progress} }} }}"),
                json!({ "id": patient }),
                Some(&token),
            )
            .await
        }
    };
    let reply = read(&w.patient).await;
    assert_eq!(
        reply.ok()["patient"]["assignedResources"][0]["resource"]["title"],
        "Sleep during a taper"
    );
    let done = complete(&app, &w.patient, &assignment_id).await;
    let completed_at = done.ok()["completeResource"]["assignment"]["completedAt"].clone();
    assert!(completed_at.is_string());
    let twice = complete(&app, &w.patient, &assignment_id).await;
    assert_eq!(
        twice.ok()["completeResource"]["assignment"]["completedAt"],
        completed_at
    );

    // The care team follows progress.
    let reply = read(&w.clinician).await;
    assert_eq!(
        reply.ok()["patient"]["assignedResources"][0]["completedAt"],
        completed_at
    );
    // Once completed, assigning it again gives a new assignment (to reread).
    let reply = assign(&app, &w.clinician, &article_id, &w.patient).await;
    assert_ne!(
        reply.ok()["assignResource"]["assignment"]["id"],
        assignment_id.as_str()
    );
    let reply = read(&w.clinician).await;
    assert_eq!(
        reply.ok()["patient"]["assignedResources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Unknown resources (or another organization's) are NOT_FOUND.
    let foreign = created(&app, &w.other_org_admin, json!({ "title": "Theirs" })).await;
    for resource in [foreign, uuid::Uuid::now_v7().to_string()] {
        let reply = assign(&app, &w.clinician, &resource, &w.patient).await;
        assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    }
}

#[tokio::test]
async fn bad_resource_input_names_the_field() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (input, expected) in [
        (json!({ "title": "  " }), "title"),
        (json!({ "title": "t".repeat(201) }), "title"),
        (json!({ "kind": "LINK", "body": null }), "url"),
        (
            json!({ "kind": "VIDEO", "url": "youtube.com/watch?v=1" }),
            "url",
        ),
        (
            json!({ "kind": "ARTICLE", "body": "  ", "url": null }),
            "body",
        ),
        (json!({ "tags": ["ok", ""] }), "tags"),
        (json!({ "tags": ["x".repeat(41)] }), "tags"),
    ] {
        let reply = create(&app, &w.clinician, input.clone()).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{input}");
        assert_eq!(field(&reply), expected, "{input}");
    }
    let reply = create(&app, &w.clinician, json!({ "kind": "PODCAST" })).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "unknown kinds");
    let reply = app
        .graphql(FIND, json!({ "tag": "   " }), Some(&w.patient.token))
        .await;
    assert_eq!(field(&reply), "tag");
}

/// Every education operation × every caller kind.
#[tokio::test]
async fn education_authorization_matrix() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Creating: clinicians and admins (each in their own organization).
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" | "other clinician" | "admin" | "other organization's admin" => {
                Expect::Allowed
            }
            _ => Expect::Forbidden,
        };
        let reply = create(&app, person, json!({ "title": format!("By {name}") })).await;
        check(&reply, expect, &format!("createResource as {name}"));
    }
    // Finding: anyone signed in.
    for (name, person) in w.callers() {
        let reply = app
            .graphql(FIND, json!({ "tag": "sleep" }), Some(&person.token))
            .await;
        check(&reply, Expect::Allowed, &format!("resources as {name}"));
    }
    let reply = app.graphql(FIND, json!({}), None).await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));

    // Assigning: care-team clinicians.
    let resource = created(&app, &w.clinician, json!({})).await;
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = assign(&app, person, &resource, &w.patient).await;
        check(&reply, expect, &format!("assignResource as {name}"));
    }
    let assignment = assign(&app, &w.clinician, &resource, &w.patient).await.ok()["assignResource"]
        ["assignment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Following progress: the patient and the care team.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "care-team clinician" => Expect::Allowed,
            "facilitator with consent" | "supporter with consent" | "admin" => Expect::Forbidden,
            _ => Expect::NotFound,
        };
        let reply = app
            .graphql(
                "query($id: UUID!) { patient(id: $id) { assignedResources { id } } }",
                json!({ "id": w.patient.patient() }),
                Some(&person.token),
            )
            .await;
        check(
            &reply,
            expect,
            &format!("Patient.assignedResources as {name}"),
        );
    }

    // Completing: the patient alone.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" => Expect::Allowed,
            "other patient" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = complete(&app, person, &assignment).await;
        check(&reply, expect, &format!("completeResource as {name}"));
    }
}

#[tokio::test]
async fn content_claiming_a_painless_cold_turkey_stop_is_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    // CLINICAL.md: CDC and FDA say stopping abruptly causes withdrawal; the
    // seed article that says otherwise never reaches a patient.
    let reply = create(
        &app,
        &w.clinician,
        json!({ "body": "Individuals can often stop taking opioids cold turkey without experiencing any withdrawal symptoms." }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "body");
    let fine = create(
        &app,
        &w.clinician,
        json!({ "body": "Stopping cold turkey brings withdrawal: taper slowly with your care team." }),
    )
    .await;
    assert!(fine.ok()["createResource"]["resource"]["id"].is_string());
}
