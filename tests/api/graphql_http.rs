//! GraphQL over HTTP as clients meet it: status codes, media types, errors
//! that never show internals.

use serde_json::{Value, json};

use crate::harness::spawn_app;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn typename_answers_over_post_and_get() {
    let app = spawn_app().await;
    let reply = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.ok()["__typename"], "Query");

    let response = app
        .client
        .get(app.url("/graphql?query=%7B__typename%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn me_without_a_token_is_unauthenticated() {
    let app = spawn_app().await;
    let reply = app.graphql("{ me { id email } }", json!({}), None).await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));

    // A token signed with another secret, and garbage, fare no better.
    let forged = stepdown::auth::TokenService::new(b"some-other-secret-some-other-secret!")
        .issue_access(
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            chrono::Utc::now(),
        )
        .unwrap()
        .0;
    for token in [forged.as_str(), "not-a-token"] {
        let reply = app.graphql("{ me { id } }", json!({}), Some(token)).await;
        assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"), "{token}");
    }

    // A well-signed token whose session does not exist is checked against
    // the database and refused.
    let token = app.mint_token(uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn syntax_errors_are_client_errors_without_internals() {
    let app = spawn_app().await;
    // application/json: 200 with errors, no data.
    let reply = app.graphql("{ me { id ", json!({}), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert!(reply.body.get("data").is_none());
    let text = reply.body.to_string();
    for leak in ["/src/", ".rs", "panicked", "sqlx", "SELECT"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }

    // application/graphql-response+json: 400, no data.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": "{ me { id " }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(GRAPHQL_RESPONSE)
    );
    let body: Value = response.json().await.unwrap();
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn validation_errors_are_400_under_graphql_response_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": "{ noSuchField }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // An execution error still has data (null) and is 200.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("data").is_some());
}

#[tokio::test]
async fn malformed_and_mistyped_requests_are_4xx() {
    let app = spawn_app().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        post(r#"{"query": "#, "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post(r#"{"query": 7}"#, "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(post("", "application/json").await.unwrap().status(), 400);
    assert_eq!(
        post(r#"{"query":"{__typename}"}"#, "text/plain")
            .await
            .unwrap()
            .status(),
        415
    );
    let no_content_type = app
        .client
        .post(app.url("/graphql"))
        .body(r#"{"query":"{__typename}"}"#)
        .send()
        .await
        .unwrap();
    assert!(no_content_type.status().is_client_error());
    // Nothing acceptable to answer with.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "text/csv")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn mutations_over_get_are_refused() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { anything }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn graphiql_is_served_to_browsers_in_development_only() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("graphiql"));

    let production = crate::harness::spawn_app_with(crate::harness::Options {
        vars: vec![("STEPDOWN_ENV", "production".into())],
        ..Default::default()
    })
    .await;
    let response = production
        .client
        .get(production.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn introspection_is_off_in_production_unless_enabled() {
    let query = "{ __schema { queryType { name } } }";
    let development = spawn_app().await;
    assert_eq!(
        development.graphql(query, json!({}), None).await.ok()["__schema"]["queryType"]["name"],
        "Query"
    );

    let production = crate::harness::spawn_app_with(crate::harness::Options {
        vars: vec![("STEPDOWN_ENV", "production".into())],
        ..Default::default()
    })
    .await;
    let reply = production.graphql(query, json!({}), None).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert!(reply.body.get("data").is_none());
    // No "did you mean" hints either.
    let reply = production.graphql("{ mee { id } }", json!({}), None).await;
    assert!(
        !reply.body.to_string().contains("Did you mean"),
        "{}",
        reply.body
    );

    let enabled = crate::harness::spawn_app_with(crate::harness::Options {
        vars: vec![
            ("STEPDOWN_ENV", "production".into()),
            ("STEPDOWN_INTROSPECTION", "true".into()),
        ],
        ..Default::default()
    })
    .await;
    enabled.graphql(query, json!({}), None).await.ok();
}
