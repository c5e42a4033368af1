//! GraphQL over `graphql-transport-ws` at `/graphql/ws`: signed-in sockets
//! only, each operation checked like an HTTP request, sockets closed with
//! 4401 when their session ends, and caps on sockets and subscriptions.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Options, Person, TestApp, WORLD_PASSWORD, WsClient, WsEvent, spawn_app, spawn_app_with,
};

const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }";

async fn someone(app: &TestApp) -> Person {
    let org = app.new_organization("Clinic").await;
    app.new_person(org, "Rae Patient", &["PATIENT"]).await
}

/// Signs in over HTTP: (access token, refresh token).
async fn sign_in(app: &TestApp, person: &Person) -> (String, String) {
    let reply = app
        .graphql(
            LOGIN,
            json!({ "input": { "email": person.email, "password": WORLD_PASSWORD } }),
            None,
        )
        .await;
    let login = &reply.ok()["login"];
    (
        login["accessToken"].as_str().unwrap().to_owned(),
        login["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn connect(app: &TestApp, token: &str) -> Result<WsClient, String> {
    app.ws_connect(json!({ "authorization": format!("Bearer {token}") }))
        .await
}

/// The next protocol message that is not `complete`.
async fn next(ws: &mut WsClient) -> Option<WsEvent> {
    loop {
        match ws.next_message().await {
            Some(WsEvent::Message(msg)) if msg["type"] == "complete" => continue,
            other => return other,
        }
    }
}

/// The close code the server sends within `limit` (messages skipped).
async fn closed_within(ws: &mut WsClient, limit: Duration) -> Option<u16> {
    tokio::time::timeout(limit, async {
        loop {
            match ws.next_message().await {
                Some(WsEvent::Closed(code)) => return Some(code),
                Some(WsEvent::Message(_)) => continue,
                None => return None,
            }
        }
    })
    .await
    .expect("closed in time")
}

fn payload(event: Option<WsEvent>) -> Value {
    match event {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(msg["type"], "next", "{msg}");
            msg["payload"].clone()
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn heartbeat_ticks_over_a_real_websocket() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let mut ws = connect(&app, &person.token).await.expect("handshake");
    ws.subscribe(
        "1",
        "subscription { heartbeat(intervalSeconds: 1) }",
        json!({}),
    )
    .await;
    for _ in 0..2 {
        match ws.next_message().await {
            Some(WsEvent::Message(msg)) => {
                assert_eq!(msg["type"], "next", "{msg}");
                assert_eq!(msg["id"], "1");
                let at = msg["payload"]["data"]["heartbeat"].as_str().unwrap();
                assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
            }
            _ => panic!("no heartbeat"),
        }
    }
}

#[tokio::test]
async fn heartbeat_interval_is_validated() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let mut ws = connect(&app, &person.token).await.expect("handshake");
    ws.subscribe(
        "1",
        "subscription { heartbeat(intervalSeconds: 0) }",
        json!({}),
    )
    .await;
    match ws.next_message().await {
        Some(WsEvent::Message(msg)) => {
            // graphql-transport-ws: a field error arrives as `next` with errors.
            assert_eq!(msg["type"], "next", "{msg}");
            let error = &msg["payload"]["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
            assert_eq!(error["extensions"]["field"], "intervalSeconds");
        }
        _ => panic!("expected an error message"),
    }
}

#[tokio::test]
async fn connection_init_without_a_live_session_closes_with_4401() {
    let app = spawn_app().await;
    for payload in [
        json!({ "authorization": "Bearer forged.token.here" }),
        json!({}),
        // Signed correctly, but for a session that does not exist.
        json!({ "authorization": format!("Bearer {}", app.mint_token(uuid::Uuid::now_v7(), uuid::Uuid::now_v7())) }),
    ] {
        match app.ws_connect(payload.clone()).await {
            Err(reason) => assert!(reason.contains("4401"), "{payload}: {reason}"),
            Ok(_) => panic!("{payload} was accepted"),
        }
    }
}

#[tokio::test]
async fn after_logout_a_socket_answers_unauthenticated_and_is_closed_with_4401() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_WS_SESSION_CHECK_SECS", "1".into())],
        ..Default::default()
    })
    .await;
    let person = someone(&app).await;
    let (access, refresh) = sign_in(&app, &person).await;
    let mut ws = connect(&app, &access).await.expect("handshake");

    ws.subscribe("1", "{ me { id } }", json!({})).await;
    let first = payload(next(&mut ws).await);
    assert_eq!(
        first["data"]["me"]["id"],
        person.user_id.to_string(),
        "{first}"
    );

    app.graphql(
        "mutation($input: LogoutInput!) { logout(input: $input) { __typename } }",
        json!({ "input": { "refreshToken": refresh } }),
        None,
    )
    .await
    .ok();

    // The very next operation is checked again: no data for a closed session.
    ws.subscribe("2", "{ me { id } }", json!({})).await;
    match next(&mut ws).await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(
                msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{msg}"
            );
            assert!(msg["payload"]["data"].is_null(), "{msg}");
        }
        Some(WsEvent::Closed(code)) => assert_eq!(code, 4401),
        None => panic!("the socket went away without a close code"),
    }
    // And the socket itself is closed within the session check.
    let closed = closed_within(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(closed, Some(4401));
}

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_WS_SESSION_CHECK_SECS", "1".into())],
        ..Default::default()
    })
    .await;
    let person = someone(&app).await;
    let tokens = stepdown::auth::TokenService::new(crate::harness::TEST_JWT_SECRET.as_bytes());
    let session = tokens.verify_access(&person.token).unwrap().sid;
    // Issued 15 minutes less 2 seconds ago: it expires in 2 seconds.
    let issued = chrono::Utc::now() - chrono::Duration::seconds(15 * 60 - 2);
    let (expiring, _) = tokens
        .issue_access(person.user_id, session, issued)
        .unwrap();
    let mut ws = connect(&app, &expiring).await.expect("handshake");
    let closed = closed_within(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(closed, Some(4401));
}

#[tokio::test]
async fn sockets_per_user_and_subscriptions_per_socket_are_capped() {
    let app = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_WS_MAX_SOCKETS_PER_USER", "2".into()),
            ("STEPDOWN_WS_MAX_SUBSCRIPTIONS_PER_SOCKET", "2".into()),
        ],
        ..Default::default()
    })
    .await;
    let person = someone(&app).await;
    let mut first = connect(&app, &person.token).await.expect("first socket");
    let second = connect(&app, &person.token).await.expect("second socket");
    match connect(&app, &person.token).await {
        Err(reason) => assert!(reason.contains("4429"), "{reason}"),
        Ok(_) => panic!("a third socket was accepted"),
    }
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    connect(&app, &person.token)
        .await
        .expect("a closed socket frees its place");

    for id in ["1", "2"] {
        first
            .subscribe(
                id,
                "subscription { heartbeat(intervalSeconds: 300) }",
                json!({}),
            )
            .await;
    }
    first
        .subscribe(
            "3",
            "subscription { heartbeat(intervalSeconds: 300) }",
            json!({}),
        )
        .await;
    let refused = payload(next(&mut first).await);
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );
}

#[tokio::test]
async fn queries_over_a_socket_get_the_document_limits_of_http() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_MAX_ALIASES", "3".into())],
        ..Default::default()
    })
    .await;
    let person = someone(&app).await;
    let mut ws = connect(&app, &person.token).await.expect("handshake");
    let aliases: String = (0..5).map(|i| format!("a{i}: __typename ")).collect();
    ws.subscribe("1", &format!("{{ {aliases} }}"), json!({}))
        .await;
    let refused = match next(&mut ws).await {
        Some(WsEvent::Message(msg)) => msg,
        other => panic!("expected an answer, got {other:?}"),
    };
    let text = refused.to_string();
    assert!(text.contains("aliases"), "{text}");
}
