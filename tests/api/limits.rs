//! Resource limits (OWASP GraphQL cheat sheet): depth, aliases, batches,
//! body size. Each over-limit request is refused before any resolver runs.

use serde_json::{Value, json};

use crate::harness::{Options, spawn_app, spawn_app_with};

/// The introspection query GraphiQL sends on load (depth 13).
const GRAPHIQL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

fn nested_of_type(levels: usize) -> String {
    // __schema(1) types(2) fields(3) type(4), then `levels` × ofType, then name.
    let mut query = String::from("{ __schema { types { fields { type { ");
    for _ in 0..levels {
        query.push_str("ofType { ");
    }
    query.push_str("name ");
    for _ in 0..levels {
        query.push_str("} ");
    }
    query.push_str("} } } } }");
    query
}

#[tokio::test]
async fn depth_is_bounded_but_graphiql_introspection_fits() {
    let app = spawn_app().await;
    let reply = app.graphql(GRAPHIQL_INTROSPECTION, json!({}), None).await;
    assert!(reply.ok()["__schema"]["types"].as_array().unwrap().len() > 5);

    // Depth 15 passes; depth 16 is refused.
    let ok = app.graphql(&nested_of_type(10), json!({}), None).await;
    ok.ok();
    let deep = app.graphql(&nested_of_type(11), json!({}), None).await;
    assert_eq!(deep.error_code(), Some("BAD_USER_INPUT"), "{}", deep.body);
    assert!(deep.body.get("data").is_none());
}

#[tokio::test]
async fn thousands_of_aliases_are_refused() {
    let app = spawn_app().await;
    let fields: String = (0..5000).map(|i| format!("a{i}: __typename ")).collect();
    let reply = app
        .graphql(&format!("{{ {fields} }}"), json!({}), None)
        .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );
}

#[tokio::test]
async fn batches_are_capped_at_ten() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_MAX_BATCH", "10".into())],
        ..Default::default()
    })
    .await;
    let batch = |n: usize| {
        let body: Vec<Value> = (0..n)
            .map(|_| json!({ "query": "{ __typename }" }))
            .collect();
        app.client.post(app.url("/graphql")).json(&body).send()
    };
    let ten = batch(10).await.unwrap();
    assert_eq!(ten.status(), 200);
    let answers: Vec<Value> = ten.json().await.unwrap();
    assert_eq!(answers.len(), 10);
    assert!(answers.iter().all(|a| a["data"]["__typename"] == "Query"));
    assert_eq!(batch(11).await.unwrap().status(), 400);
    assert_eq!(batch(0).await.unwrap().status(), 400);
}

#[tokio::test]
async fn json_array_batches_are_refused_by_default() {
    let app = spawn_app().await;
    let body = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let reply = app
        .client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let reply: Value = reply.json().await.unwrap();
    assert_eq!(reply["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        reply["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("STEPDOWN_MAX_BATCH")
    );
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413_even_when_streamed() {
    let app = spawn_app().await;
    let padding = " ".repeat(1024 * 1024 + 1);
    let body = format!(r#"{{"query":"{{ __typename }}{padding}"}}"#);

    let declared = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);

    // Chunked, with no Content-Length: counted as it streams.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let streamed = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    match streamed {
        Ok(response) => assert_eq!(response.status(), 413),
        // The server may answer and close before the upload finishes.
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }

    // Just under the limit is fine.
    let small = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": format!("{{ __typename }}{}", " ".repeat(1000)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
}

#[tokio::test]
async fn absurd_sync_and_trail_dates_are_bad_input_naming_the_argument() {
    let app = spawn_app().await;
    let w = app.world().await;
    let far = "9999-12-31T00:00:00Z";
    let cases = [
        (
            "query($p: UUID!, $t: DateTime) { patient(id: $p) { checkIns(updatedSince: $t) { edges { cursor } } } }",
            json!({ "p": w.patient.patient(), "t": far }),
            &w.patient.token,
            "updatedSince",
        ),
        (
            "query($t: DateTime) { myGoals(updatedSince: $t) { edges { cursor } } }",
            json!({ "t": far }),
            &w.patient.token,
            "updatedSince",
        ),
        (
            "query($t: DateTime) { auditEvents(first: 5, from: $t) { edges { cursor } } }",
            json!({ "t": far }),
            &w.admin.token,
            "from",
        ),
    ];
    for (query, variables, token, field) in cases {
        let reply = app.graphql(query, variables, Some(token)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"], field,
            "{}",
            reply.body
        );
    }
}
