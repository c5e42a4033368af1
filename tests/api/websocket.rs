//! Subscriptions over `graphql-transport-ws` at `/graphql/ws`.

use serde_json::json;

use crate::harness::{WsEvent, spawn_app};

#[tokio::test]
async fn heartbeat_ticks_over_a_real_websocket() {
    let app = spawn_app().await;
    let mut ws = app.ws_connect(json!({})).await.expect("handshake");
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
    let mut ws = app.ws_connect(json!({})).await.expect("handshake");
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
async fn a_bad_token_in_connection_init_closes_the_connection() {
    let app = spawn_app().await;
    let refused = app
        .ws_connect(json!({ "authorization": "Bearer forged.token.here" }))
        .await;
    match refused {
        Err(reason) => assert!(
            reason.contains("4403") || reason.contains("closed"),
            "{reason}"
        ),
        Ok(_) => panic!("a forged token was accepted"),
    }
    // A well-formed token is accepted at the handshake (checked per resolver).
    let token = app.mint_token(uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    app.ws_connect(json!({ "authorization": format!("Bearer {token}") }))
        .await
        .expect("handshake with a verifiable token");
}
