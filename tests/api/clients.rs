//! What strict clients and partner integrations rely on: every refusal
//! keeps its key (`null` plus an error with its path), WebSocket close
//! codes, CORS preflights, automatic persisted queries (GET by hash) and
//! the trusted-documents allowlist.

use serde_json::{Map, Value, json};
use stepdown::graphql::persisted::sha256_hex;
use uuid::Uuid;

use crate::harness::{Options, TestApp, spawn_app, spawn_app_with};

const INTROSPECT: &str = "{ __schema { types { name kind fields {
  name
  args { name type { kind name ofType { kind name ofType { kind name } } } }
  type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
} } } }";

/// The schema's object types by name, from introspection.
async fn object_types(app: &TestApp, token: &str) -> Map<String, Value> {
    let reply = app.graphql(INTROSPECT, json!({}), Some(token)).await;
    reply.ok()["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "OBJECT")
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

/// The named type under NON_NULL and LIST wrappers, and whether the
/// outermost wrapper is NON_NULL.
fn named(type_ref: &Value) -> (&Value, bool) {
    let non_null = type_ref["kind"] == "NON_NULL";
    let mut t = type_ref;
    while t["kind"] == "NON_NULL" || t["kind"] == "LIST" {
        t = &t["ofType"];
    }
    (t, non_null)
}

/// A selection of `field` with made-up values for its required arguments.
fn select(field: &Value) -> String {
    let args: Vec<String> = field["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"]["kind"] == "NON_NULL")
        .map(|a| {
            let (t, _) = named(&a["type"]);
            let name = a["name"].as_str().unwrap();
            let value = match (t["name"].as_str().unwrap(), name) {
                ("Date", "to") => "\"2026-11-30\"".to_owned(),
                ("Date", _) => "\"2026-11-01\"".to_owned(),
                ("DateTime", _) => "\"2026-11-01T00:00:00Z\"".to_owned(),
                ("UUID", _) => format!("\"{}\"", Uuid::now_v7()),
                ("Int", _) => "10".to_owned(),
                ("Boolean", _) => "false".to_owned(),
                (other, _) => panic!("no sample value for a required {other} argument `{name}`"),
            };
            format!("{name}: {value}")
        })
        .collect();
    let (t, _) = named(&field["type"]);
    let sub = match t["kind"].as_str().unwrap() {
        "OBJECT" | "INTERFACE" | "UNION" => " { __typename }",
        _ => "",
    };
    let name = field["name"].as_str().unwrap();
    if args.is_empty() {
        format!("{name}{sub}")
    } else {
        format!("{name}({}){sub}", args.join(", "))
    }
}

/// Checks that `object` (at `path` in `data`) holds a key for every field
/// selected, and that every error below it is a `null` at its own path.
/// Returns the refused fields.
fn refusals_keep_keys(body: &Value, path: &[&str], fields: &[&Value], what: &str) -> Vec<String> {
    let mut object = &body["data"];
    for key in path {
        object = &object[*key];
    }
    let object = object
        .as_object()
        .unwrap_or_else(|| panic!("{what}: `{}` is not an object: {body}", path.join(".")));
    for field in fields {
        let name = field["name"].as_str().unwrap();
        assert!(
            object.contains_key(name),
            "{what}: the key `{name}` is missing: {body}"
        );
    }
    let mut refused = Vec::new();
    for error in body["errors"].as_array().into_iter().flatten() {
        let at: Vec<&str> = error["path"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: an error without a path: {error}"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(at.len(), path.len() + 1, "{what}: {error}");
        assert_eq!(&at[..path.len()], path, "{what}: {error}");
        let field = at[path.len()];
        assert!(
            object[field].is_null(),
            "{what}: {field} refused but not null"
        );
        let code = error["extensions"]["code"].as_str().unwrap_or("");
        assert!(
            matches!(code, "FORBIDDEN" | "NOT_FOUND"),
            "{what}: {field} failed with {error}"
        );
        refused.push(field.to_owned());
    }
    refused
}

#[tokio::test]
async fn every_refusable_field_keeps_its_key() {
    let app = spawn_app().await;
    let w = app.world().await;
    let types = object_types(&app, &w.clinician.token).await;

    // Lookups by id on Query, for an id nobody may see: `null` + NOT_FOUND.
    let lookups: Vec<&Value> = types["Query"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == "id" && named(&a["type"]).0["name"] == "UUID")
        })
        .collect();
    assert!(lookups.len() >= 4, "{lookups:?}");
    for lookup in &lookups {
        let (_, non_null) = named(&lookup["type"]);
        let name = lookup["name"].as_str().unwrap();
        assert!(
            !non_null,
            "Query.{name} is a lookup by id and must be nullable"
        );
        let query = format!("{{ me {{ displayName }} {} }}", select(lookup));
        let reply = app
            .graphql(&query, json!({}), Some(&w.clinician.token))
            .await;
        let refused = refusals_keep_keys(&reply.body, &[], &[lookup], &format!("Query.{name}"));
        assert_eq!(refused, [name], "{}", reply.body);
        assert_eq!(reply.data()["me"]["displayName"], "Dr Care");
    }

    // Every field of a patient, as a supporter who sees the patient with
    // TAPER and CHECK_INS consent only: what they may not read is `null`
    // with an error at its path, and the patient object stays whole.
    let patient_fields: Vec<&Value> = types["Patient"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let selection: Vec<String> = patient_fields.iter().map(|f| select(f)).collect();
    let query = format!(
        "query($id: UUID!) {{ patient(id: $id) {{ {} }} }}",
        selection.join(" ")
    );
    let reply = app
        .graphql(
            &query,
            json!({ "id": w.patient.patient_id }),
            Some(&w.supporter.token),
        )
        .await;
    let refused = refusals_keep_keys(
        &reply.body,
        &["patient"],
        &patient_fields,
        "Patient as supporter",
    );
    for part in [
        "withdrawalAssessments",
        "clinicalNotes",
        "carePlan",
        "appointments",
        "doseLogs",
    ] {
        assert!(
            refused.iter().any(|f| f == part),
            "{part} was not refused: {}",
            reply.body
        );
    }
    // What the consent covers is there.
    assert!(
        reply.data()["patient"]["checkIns"].is_object(),
        "{}",
        reply.body
    );
    assert!(
        reply.data()["patient"]["taperPlans"].is_array(),
        "{}",
        reply.body
    );
    // Every refusal says what is missing.
    let first = &reply.body["errors"][0];
    assert!(
        first["message"].as_str().unwrap().contains("consent"),
        "{first}"
    );

    // The same walk as the clinician on a patient of another care team is
    // a lookup refusal: `patient` is null, the key stays.
    let reply = app
        .graphql(
            &query,
            json!({ "id": w.patient.patient_id }),
            Some(&w.other_clinician.token),
        )
        .await;
    assert!(
        reply.body["data"]
            .as_object()
            .unwrap()
            .contains_key("patient")
    );
    assert!(reply.data()["patient"].is_null());
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    assert_eq!(reply.body["errors"][0]["path"], json!(["patient"]));
}

#[tokio::test]
async fn the_issue_examples_keep_their_keys() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = app
        .graphql(
            "query($id: UUID!) { me { displayName } patient(id: $id) { id } }",
            json!({ "id": Uuid::now_v7() }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(
        reply.body["data"],
        json!({ "me": { "displayName": "Dr Care" }, "patient": null })
    );
    assert_eq!(reply.body["errors"][0]["path"], json!(["patient"]));
    let reply = app
        .graphql(
            "query($id: UUID!) { patient(id: $id) { id withdrawalAssessments { edges { cursor } } } }",
            json!({ "id": w.patient.patient_id }),
            Some(&w.supporter.token),
        )
        .await;
    assert_eq!(
        reply.body["data"]["patient"],
        json!({ "id": w.patient.patient_id, "withdrawalAssessments": null })
    );
    assert_eq!(reply.error_code(), Some("FORBIDDEN"));
    assert_eq!(
        reply.body["errors"][0]["path"],
        json!(["patient", "withdrawalAssessments"])
    );
}

#[tokio::test]
async fn group_forbidden_messages_say_what_is_missing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let group = app
        .graphql(
            "mutation($input: CreateSupportGroupInput!) { createSupportGroup(input: $input) { group { id } } }",
            json!({ "input": {
                "name": "Open circle", "kind": "TAPERING_COHORT", "format": "VIRTUAL",
                "description": "Anyone may join.", "meetingUrl": "https://meet.example.org/open",
            } }),
            Some(&w.facilitator.token),
        )
        .await;
    let group = group.ok()["createSupportGroup"]["group"]["id"].clone();
    // Not a member yet: the group is visible, its posts are not.
    let reply = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { id name posts { edges { cursor } } } }",
            json!({ "id": group }),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("FORBIDDEN"), "{}", reply.body);
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("not a member of this group"), "{message}");
    assert!(
        reply.body["data"]
            .as_object()
            .unwrap()
            .contains_key("supportGroup"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn refused_connection_init_closes_with_4401_or_4403() {
    let app = spawn_app().await;
    let w = app.world().await;
    // A bad token: 4401.
    let refused = app
        .ws_connect(json!({ "authorization": "Bearer not-a-token" }))
        .await
        .err()
        .expect("refused");
    assert!(refused.contains("4401"), "{refused}");
    // The token in a `headers` object, as some clients send it, is read.
    let auth = format!("Bearer {}", w.patient.token);
    assert!(
        app.ws_connect(json!({ "headers": { "Authorization": auth } }))
            .await
            .is_ok()
    );
    // A subscribe before connection_init: 4401, not the library's 1011.
    {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};
        let mut request = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(tungstenite::Message::text(
                json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { alertRaised { id } }" } }).to_string(),
            ))
            .await
            .unwrap();
        let code = loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await {
                Ok(Some(Ok(tungstenite::Message::Close(frame)))) => {
                    break frame.map(|f| u16::from(f.code));
                }
                Ok(Some(Ok(_))) => continue,
                _ => break None,
            }
        };
        assert_eq!(code, Some(4401));
    }
    // A signed-in account that holds no role any more: 4403, saying why.
    let db = app.seed_db().await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::memberships::Entity::delete_many()
        .filter(entity::memberships::Column::UserId.eq(w.other_patient.user_id))
        .exec(db)
        .await
        .unwrap();
    let refused = app
        .ws_connect(json!({ "authorization": format!("Bearer {}", w.other_patient.token) }))
        .await
        .err()
        .expect("refused");
    assert!(refused.contains("4403"), "{refused}");
}

#[tokio::test]
async fn cors_preflight_allows_listed_origins_only() {
    let dashboard = "https://dashboard.partner.example";
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_CORS_ORIGINS", dashboard.to_owned())],
        ..Default::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight(dashboard).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], dashboard);
    let allow_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allow_headers.contains("authorization") && allow_headers.contains("content-type"));
    assert!(headers.get("access-control-allow-credentials").is_none());
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Default: no list, no CORS headers for anyone.
    let closed = spawn_app().await;
    let reply = closed
        .client
        .request(reqwest::Method::OPTIONS, closed.url("/graphql"))
        .header("origin", dashboard)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(reply.headers().get("access-control-allow-origin").is_none());
}

/// GET /graphql with a persisted-query hash (and optional text).
async fn get_persisted(app: &TestApp, token: &str, hash: &str, query: Option<&str>) -> Value {
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let mut params = vec![("extensions", extensions)];
    if let Some(query) = query {
        params.push(("query", query.to_owned()));
    }
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&params)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn automatic_persisted_queries_register_then_run_by_hash_over_get() {
    let app = spawn_app().await;
    let w = app.world().await;
    let query = "query Me { me { displayName } }";
    let hash = sha256_hex(query);
    // Unknown hash: Apollo's code and message, no data.
    let unknown = get_persisted(&app, &w.patient.token, &hash, None).await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(unknown.get("data").is_none());
    // Register with the text once (POST, as Apollo's link retries) ...
    let reply = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.patient.token)
        .json(&json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .unwrap();
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["data"]["me"]["displayName"], "Pat Patient");
    // ... then a GET carries only the hash.
    let by_hash = get_persisted(&app, &w.patient.token, &hash, None).await;
    assert_eq!(
        by_hash["data"]["me"]["displayName"], "Pat Patient",
        "{by_hash}"
    );
    // A hash that does not match the text is refused.
    let wrong = get_persisted(&app, &w.patient.token, &sha256_hex("{ x }"), Some(query)).await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // Mutations by hash stay POST-only.
    let mutation = "mutation { logout(input: { refreshToken: \"x\" }) { ok } }";
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn trusted_documents_run_and_unregistered_ones_are_refused_unparsed() {
    let dir = std::env::temp_dir().join(format!("stepdown-trusted-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let me = "query Me { me { displayName } }";
    let login = "mutation SignIn($input: LoginInput!) { login(input: $input) { accessToken } }";
    let manifest = stepdown::graphql::persisted::manifest(&[
        ("me.graphql".into(), me.into()),
        ("login.graphql".into(), login.into()),
    ])
    .unwrap();
    let file = dir.join("trusted-documents.json");
    std::fs::write(&file, serde_json::to_string(&manifest).unwrap()).unwrap();
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_TRUSTED_DOCUMENTS", file.display().to_string())],
        ..Default::default()
    })
    .await;
    // (Set up directly: the harness's own mutations are not registered.)
    let org = app.new_organization("Clinic").await;
    let patient = app.new_person(org, "Pat Patient", &["PATIENT"]).await;
    struct W {
        patient: crate::harness::Person,
    }
    let w = W { patient };
    // Registered: by text and by hash (GET).
    let reply = app.graphql(me, json!({}), Some(&w.patient.token)).await;
    assert_eq!(reply.ok()["me"]["displayName"], "Pat Patient");
    let by_hash = get_persisted(&app, &w.patient.token, &sha256_hex(me), None).await;
    assert_eq!(by_hash["data"]["me"]["displayName"], "Pat Patient");
    // Unregistered, even unparsable: refused with its own code, no data.
    for unknown in ["{ me { id email } }", "{{{ not graphql"] {
        let reply = app
            .graphql(unknown, json!({}), Some(&w.patient.token))
            .await;
        assert_eq!(
            reply.error_code(),
            Some("TRUSTED_DOCUMENT_REQUIRED"),
            "{}",
            reply.body
        );
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
    }
    // APQ cannot register around the allowlist.
    let other = "{ medications { id } }";
    let refused = get_persisted(&app, &w.patient.token, &sha256_hex(other), Some(other)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "TRUSTED_DOCUMENT_REQUIRED"
    );
    // Over the socket too.
    let mut ws = app
        .ws_connect(json!({ "authorization": format!("Bearer {}", w.patient.token) }))
        .await
        .unwrap();
    ws.subscribe("1", "{ me { id email } }", json!({})).await;
    match ws.next_message().await {
        Some(crate::harness::WsEvent::Message(msg)) => {
            let code = if msg["type"] == "error" {
                &msg["payload"][0]["extensions"]["code"]
            } else {
                &msg["payload"]["errors"][0]["extensions"]["code"]
            };
            assert_eq!(code, "TRUSTED_DOCUMENT_REQUIRED", "{msg}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn graphiql_authenticates_subscriptions_from_the_headers_editor() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The headers editor starts with the Authorization line to fill in,
    // and its value becomes the socket's connection_init payload.
    assert!(page.contains("defaultHeaders"), "{page}");
    assert!(page.contains("Bearer <paste accessToken from login here>"));
    assert!(page.contains("connectionParams: authorization ? { authorization } : {}"));
    assert!(page.contains("unpkg.com/graphql-ws"));
}

#[tokio::test]
async fn metrics_can_live_on_their_own_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_METRICS_BIND", format!("127.0.0.1:{port}"))],
        ..Default::default()
    })
    .await;
    let on_api = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404);
    let mut answered = None;
    for _ in 0..50 {
        if let Ok(r) = app
            .client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            answered = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answered = answered.expect("metrics address answers");
    assert_eq!(answered.status(), 200);
    assert!(answered.text().await.unwrap().contains("# EOF"));
}
