//! What operators rely on: health, readiness, metrics, request ids.

use serde_json::{Value, json};

use crate::harness::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn metrics_count_operations_by_name_and_outcome() {
    let app = spawn_app().await;
    app.graphql("query Ping { __typename }", json!({}), None)
        .await
        .ok();
    app.graphql("query WhoAmI { me { id } }", json!({}), None)
        .await;
    app.graphql("{ nope }", json!({}), None).await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for expected in [
        r#"stepdown_graphql_requests_total{operation="Ping",outcome="ok"} 1"#,
        r#"stepdown_graphql_requests_total{operation="WhoAmI",outcome="error"} 1"#,
        r#"stepdown_graphql_requests_total{operation="anonymous",outcome="rejected"} 1"#,
        r#"stepdown_graphql_request_duration_seconds_bucket{le="+Inf",operation="Ping",outcome="ok"} 1"#,
        r#"stepdown_db_pool_connections{state="idle"}"#,
        r#"stepdown_db_pool_connections{state="in_use"}"#,
        "stepdown_db_ready 1",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[tokio::test]
async fn request_ids_are_the_servers_own() {
    let app = spawn_app().await;
    // A client's id is a correlation id; the response carries the server's.
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "client-abc-123")
        .send()
        .await
        .unwrap();
    let id = given.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "client-abc-123");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let generated = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    // An id that could forge log lines is replaced.
    let hostile = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "a b\tc")
        .send()
        .await
        .unwrap();
    assert_ne!(hostile.headers()["x-request-id"], "a b\tc");
}

#[tokio::test]
async fn shutdown_drains_and_stops() {
    let app = spawn_app().await;
    let addr = app.addr;
    app.stop().await;
    let after = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "server still answering after shutdown");
}
