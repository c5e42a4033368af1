//! Database outages: the server keeps running, says so (`/readyz` 503,
//! `UNAVAILABLE` errors without driver text), and serves again by itself
//! when the database comes back. Each test owns its database, so cutting it
//! disturbs no other test.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Options, TestApp, TestDb, spawn_app_with};

async fn readyz(app: &TestApp) -> u16 {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_server_started_before_its_database_waits_then_serves() {
    // PostgreSQL: a database that does not exist yet. SQLite: a file in a
    // folder that does not exist yet.
    let name = format!("stepdown_test_late_{}", uuid::Uuid::now_v7().simple());
    let db = match TestDb::named(&name) {
        TestDb::Sqlite { .. } => TestDb::Sqlite {
            path: std::env::temp_dir().join(&name).join("stepdown.db"),
        },
        postgres => postgres,
    };
    let app = spawn_app_with(Options {
        db: Some(db),
        skip_ready_wait: true,
        ..Default::default()
    })
    .await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive while the database is missing");
    assert_eq!(readyz(&app).await, 503);
    let token = app.mint_token(uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(reply.error_code(), Some("UNAVAILABLE"), "{}", reply.body);

    // The database appears; the server migrates and serves without a restart.
    match &app.db {
        TestDb::Postgres { name, .. } => {
            let mut admin = app.db.admin().await;
            crate::harness::exec(&mut admin, format!(r#"CREATE DATABASE "{name}""#))
                .await
                .unwrap();
        }
        TestDb::Sqlite { path } => std::fs::create_dir_all(path.parent().unwrap()).unwrap(),
    }
    app.wait_ready(Duration::from_secs(20)).await;
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(
        reply.error_code(),
        Some("UNAUTHENTICATED"),
        "{}",
        reply.body
    );

    if let TestDb::Sqlite { path } = &app.db {
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

#[tokio::test]
async fn losing_postgres_gives_unavailable_then_recovers() {
    let probe = TestDb::named("probe");
    if !probe.is_postgres() {
        eprintln!("PostgreSQL outage test runs only with TEST_DATABASE_URL set");
        return;
    }
    std::mem::forget(probe); // nothing was created for it

    let app = spawn_app_with(Options::default()).await;
    let name = app.db.name();
    let token = app.mint_token(uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));
    // An acknowledged write before the outage.
    let org = app.new_organization("Clinic").await;
    let patient = app.new_person(org, "Pat", &["PATIENT"]).await;
    let check_in =
        "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id } } }";
    let acknowledged = app
        .graphql(
            check_in,
            json!({ "input": { "painScore": 3, "idempotencyKey": "before" } }),
            Some(&patient.token),
        )
        .await;
    let acknowledged_id = acknowledged.ok()["submitCheckIn"]["checkIn"]["id"].clone();

    // Cut: refuse new connections and kill the server's open ones.
    let mut admin = app.db.admin().await;
    crate::harness::exec(
        &mut admin,
        format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#),
    )
    .await
    .unwrap();
    crate::harness::exec(
        &mut admin,
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND application_name = '{}'",
            stepdown::db::PG_APPLICATION_NAME
        ),
    )
    .await
    .unwrap();

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(readyz(&app).await, 503);
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(reply.error_code(), Some("UNAVAILABLE"), "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["extensions"]["retryable"], true);
    let text = reply.body.to_string().to_lowercase();
    for leak in [
        "sqlx",
        "connection refused",
        "database",
        "postgres",
        "terminat",
    ] {
        assert!(!text.contains(leak), "driver text leaked ({leak}): {text}");
    }

    // A write attempted during the outage fails cleanly.
    let during = app
        .graphql(
            check_in,
            json!({ "input": { "painScore": 5, "idempotencyKey": "during" } }),
            Some(&patient.token),
        )
        .await;
    assert_eq!(during.error_code(), Some("UNAVAILABLE"), "{}", during.body);

    // Back: the server serves again within seconds, without a restart.
    crate::harness::exec(
        &mut admin,
        format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#),
    )
    .await
    .unwrap();
    app.wait_ready(Duration::from_secs(10)).await;
    let reply = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(
        reply.error_code(),
        Some("UNAUTHENTICATED"),
        "{}",
        reply.body
    );

    // The phone retries the failed write twice: it is written once, and the
    // acknowledged one is still there.
    for _ in 0..2 {
        app.graphql(
            check_in,
            json!({ "input": { "painScore": 5, "idempotencyKey": "during" } }),
            Some(&patient.token),
        )
        .await
        .ok();
    }
    let list = app
        .graphql(
            "{ me { patient { checkIns { edges { node { id painScore } } } } } }",
            json!({}),
            Some(&patient.token),
        )
        .await;
    let edges = list.ok()["me"]["patient"]["checkIns"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 2, "{edges:?}");
    assert!(edges.iter().any(|e| e["node"]["id"] == acknowledged_id));
}
