//! GraphQL over HTTP (graphql.github.io/graphql-over-http), written against
//! the spec rather than with async-graphql-axum's stock handler, which reads
//! unbounded streamed bodies and batches, runs mutations over GET and answers
//! parse errors with 200.
//!
//! - `POST /graphql`: `application/json` bodies only (else 415), at most
//!   `max_body_bytes` even when streamed (else 413), a single request or,
//!   when `STEPDOWN_MAX_BATCH` is above 1, a batch of at most that many.
//! - `GET /graphql`: queries only (a mutation is 405); with `Accept:
//!   text/html` and GraphiQL enabled, the GraphiQL page.
//! - `Accept`: `application/graphql-response+json` gets 400 and no `data`
//!   for request errors (unparsable, invalid, over a limit); `application/json`
//!   (also `*/*` and no header) gets 200 with `errors`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use async_graphql::{
    Response as GqlResponse, ServerError, Variables, parser::types::OperationType,
};
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::{
    AppState,
    auth::{RequestContext, principal::Credentials},
    error::ErrorCode,
    graphql::{guard, limits, outcome::ExecutionMarker, persisted},
    http::{
        metrics::Outcome,
        request_id::{ClientAddr, CorrelationId, RequestId},
    },
    loaders::Loaders,
};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The response media type negotiated from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    GraphqlResponseJson,
    Json,
}

impl Format {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        })
    }
}

/// Picks the response type by `Accept` quality; no header (or only
/// wildcards) means `application/json`, as the spec advises for legacy
/// clients. `None` when nothing acceptable is offered (406).
fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Some(Format::Json);
    };
    let mut best: Option<(f32, Format)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let format = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => Format::GraphqlResponseJson,
            APPLICATION_JSON | "application/*" | "*/*" => Format::Json,
            _ => continue,
        };
        // Higher quality wins; on a tie the spec's own type wins.
        let better = match best {
            None => true,
            Some((best_q, best_format)) => {
                q > best_q
                    || (q == best_q
                        && format == Format::GraphqlResponseJson
                        && best_format == Format::Json)
            }
        };
        if better {
            best = Some((q, format));
        }
    }
    best.map(|(_, format)| format)
}

/// A response that never reached GraphQL execution (bad HTTP-level input).
fn request_error(status: StatusCode, format: Format, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] });
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        body.to_string(),
    )
        .into_response()
}

/// One GraphQL request's parameters, as sent.
struct Params {
    /// Absent when `extensions.persistedQuery` names the document.
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

/// Reads the parameters of one request object, naming what is wrong.
fn params_from_json(value: Value) -> Result<Params, String> {
    let Value::Object(mut object) = value else {
        return Err("a GraphQL request must be a JSON object".into());
    };
    let query = match object.remove("query") {
        Some(Value::String(query)) => Some(query),
        Some(_) => return Err("`query` must be a string".into()),
        None => None,
    };
    let operation_name = match object.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err("`operationName` must be a string or null".into()),
    };
    let map_param = |name: &str, value: Option<Value>| match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(format!("`{name}` must be an object or null")),
    };
    let variables = map_param("variables", object.remove("variables"))?;
    let extensions = map_param("extensions", object.remove("extensions"))?;
    if query.is_none() && persisted::persisted_query(extensions.as_ref())?.is_none() {
        return Err("`query` is required".into());
    }
    Ok(Params {
        query,
        operation_name,
        variables,
        extensions,
    })
}

/// Reads GET parameters from the query string (`variables` and
/// `extensions` as JSON text).
fn params_from_query_string(raw: &str) -> Result<Params, String> {
    let mut object = Map::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        let value = match key.as_str() {
            "variables" | "extensions" if !value.is_empty() => serde_json::from_str(&value)
                .map_err(|_| format!("`{key}` must be a JSON-encoded object"))?,
            "variables" | "extensions" => Value::Null,
            _ => Value::String(value),
        };
        object.insert(key, value);
    }
    params_from_json(Value::Object(object))
}

/// `POST /graphql`.
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let Some(format) = negotiate(request.headers()) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "supported: application/graphql-response+json, application/json",
        )
            .into_response();
    };
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut ct_parts = content_type.split(';').map(str::trim);
    let media = ct_parts.next().unwrap_or("");
    let charset_ok = ct_parts
        .filter_map(|p| p.strip_prefix("charset="))
        .all(|c| c.trim_matches('"').eq_ignore_ascii_case("utf-8"));
    if media != APPLICATION_JSON || !charset_ok {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [(header::ACCEPT, HeaderValue::from_static(APPLICATION_JSON))],
            "POST /graphql takes `Content-Type: application/json` (UTF-8)",
        )
            .into_response();
    }

    let caller = Caller::from_request(&state, &request);
    let limit = state.ctx.config.limits.max_body_bytes;
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > limit) {
        return request_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format,
            &format!("request body is larger than {limit} bytes"),
        );
    }
    // Counts bytes as they stream in, so a chunked body cannot slip past.
    let body: Bytes = match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(body) => body,
        Err(err) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>())
                || err.to_string().contains("length limit");
            return if too_large {
                request_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format,
                    &format!("request body is larger than {limit} bytes"),
                )
            } else {
                request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    "could not read the request body",
                )
            };
        }
    };
    if body.is_empty() {
        return request_error(StatusCode::BAD_REQUEST, format, "the request body is empty");
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                format,
                "the request body is not valid JSON",
            );
        }
    };

    match value {
        Value::Array(items) => {
            let max = state.ctx.config.limits.max_batch;
            if max <= 1 {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    "batched requests are disabled (STEPDOWN_MAX_BATCH): send one operation per request",
                );
            }
            if items.is_empty() || items.len() > max {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    &format!("a batch holds 1 to {max} operations"),
                );
            }
            let mut params = Vec::with_capacity(items.len());
            for item in items {
                match params_from_json(item) {
                    Ok(p) => params.push(p),
                    Err(message) => {
                        return request_error(StatusCode::BAD_REQUEST, format, &message);
                    }
                }
            }
            let mut responses = Vec::with_capacity(params.len());
            let mut statements = 0;
            // In order: a batch's mutations must not race each other.
            for p in params {
                let (response, executed, count) = execute(&state, &caller, p).await;
                statements += count;
                responses.push((response, executed));
            }
            with_statement_count(&state, respond(format, responses, true), statements)
        }
        value => match params_from_json(value) {
            Ok(params) => {
                let (response, executed, statements) = execute(&state, &caller, params).await;
                with_statement_count(
                    &state,
                    respond(format, vec![(response, executed)], false),
                    statements,
                )
            }
            Err(message) => request_error(StatusCode::BAD_REQUEST, format, &message),
        },
    }
}

/// `GET /graphql`: a query, or GraphiQL for browsers.
pub async fn get(State(state): State<AppState>, request: Request) -> Response {
    let raw_query = request.uri().query().unwrap_or("").to_owned();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !raw_query.contains("query=") {
        return if state.ctx.config.graphiql {
            Html(crate::http::graphiql::PAGE).into_response()
        } else {
            (StatusCode::NOT_FOUND, "GraphiQL is disabled").into_response()
        };
    }
    let Some(format) = negotiate(request.headers()) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "supported: application/graphql-response+json, application/json",
        )
            .into_response();
    };
    let caller = Caller::from_request(&state, &request);
    let mut params = match params_from_query_string(&raw_query) {
        Ok(params) => params,
        Err(message) => return request_error(StatusCode::BAD_REQUEST, format, &message),
    };
    // The document a hash names (or the allowlist's refusal), before
    // anything parses it.
    let query = match document(&state, &mut params) {
        Ok(query) => query,
        Err(refused) => return respond(format, vec![(*refused, false)], false),
    };
    // Mutations never run over GET (a link or prefetch must not change data).
    if let Ok(doc) = async_graphql::parser::parse_query(&query)
        && limits::operation_type(&doc, params.operation_name.as_deref())
            == Some(OperationType::Mutation)
    {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            format,
            "mutations are only accepted over POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    params.query = Some(query);
    let (response, executed, statements) = execute(&state, &caller, params).await;
    let mut response = with_statement_count(
        &state,
        respond(format, vec![(response, executed)], false),
        statements,
    );
    // A GET by hash is a cacheable URL, but its answer is the caller's own.
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("authorization, accept"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    response
}

/// Resolves the document a request runs: its text or the text its
/// `persistedQuery` hash names, and in allowlist mode only a registered
/// one. A refusal is a response that never executed.
fn document(state: &AppState, params: &mut Params) -> Result<String, Box<GqlResponse>> {
    let refuse = |code: &str, message: String| {
        let mut error = ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        Box::new(GqlResponse::from_errors(vec![error]))
    };
    let persisted = persisted::persisted_query(params.extensions.as_ref())
        .map_err(|message| refuse(ErrorCode::BadUserInput.as_str(), message))?;
    match persisted::resolve(
        params.query.take(),
        persisted,
        &state.ctx.persisted,
        state.ctx.config.trusted_documents.as_deref(),
    ) {
        persisted::Resolved::Document(query) => Ok(query),
        persisted::Resolved::Refused(code, message) => Err(refuse(code, message)),
    }
}

/// Who sent the request, read once per HTTP request.
struct Caller {
    request_id: String,
    correlation_id: Option<String>,
    client_ip: Option<std::net::IpAddr>,
    credentials: Credentials,
}

impl Caller {
    fn from_request(state: &AppState, request: &Request) -> Self {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let correlation_id = request
            .extensions()
            .get::<CorrelationId>()
            .map(|c| c.0.clone());
        let client_ip = request.extensions().get::<ClientAddr>().map(|c| c.0);
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        Self {
            request_id,
            correlation_id,
            client_ip,
            credentials: Credentials::from_authorization(authorization, &state.ctx.tokens),
        }
    }
}

/// Runs one GraphQL request with the document limits, the time limit and a
/// panic guard. Returns the response, whether execution began (false for
/// request errors), and how many SQL statements it issued.
async fn execute(
    state: &AppState,
    caller: &Caller,
    mut params: Params,
) -> (GqlResponse, bool, usize) {
    let started = Instant::now();
    let limits = &state.ctx.config.limits;
    let query = match document(state, &mut params) {
        Ok(query) => query,
        Err(refused) => {
            state
                .ctx
                .metrics
                .record(None, Outcome::Rejected, started.elapsed(), 0);
            return (*refused, false, 0);
        }
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name.clone() {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    if let Some(extensions) = params.extensions {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }

    // Parse once here (async-graphql reuses the parsed document) to apply
    // the alias and field limits before validation and execution.
    let operation_name = match request.parsed_query() {
        Ok(doc) => {
            if let Some(message) =
                limits::check_document(doc, limits, state.ctx.config.introspection)
            {
                let response = GqlResponse::from_errors(vec![ServerError::new(message, None)]);
                state
                    .ctx
                    .metrics
                    .record(None, Outcome::Rejected, started.elapsed(), 0);
                return (with_codes(response), false, 0);
            }
            limits::operation_name(doc, params.operation_name.as_deref())
        }
        Err(err) => {
            state
                .ctx
                .metrics
                .record(None, Outcome::Rejected, started.elapsed(), 0);
            return (with_codes(GqlResponse::from_errors(vec![err])), false, 0);
        }
    };

    let marker = ExecutionMarker::default();
    let request = request
        .data(marker.clone())
        .data(Arc::new(Loaders::new(&state.ctx.db)))
        .data(
            RequestContext::new(
                caller.request_id.clone(),
                caller.client_ip,
                caller.credentials.clone(),
            )
            .with_correlation(caller.correlation_id.clone()),
        );
    let statements = Arc::new(AtomicUsize::new(0));
    let run = crate::db::counting(statements.clone(), state.schema.execute(request));
    let (response, outcome) = guarded(run, limits.request_timeout, || marker.executed()).await;
    let statements = statements.load(Ordering::Relaxed);
    state.ctx.metrics.record(
        operation_name.as_deref(),
        outcome,
        started.elapsed(),
        statements,
    );
    // A timeout or panic happened during execution: a server failure, not a
    // request error.
    let executed = marker.executed() || matches!(outcome, Outcome::Timeout | Outcome::Internal);
    (response, executed, statements)
}

/// Runs an execution under the time limit and a panic guard (see
/// `graphql::guard`). `executed` tells whether execution began.
async fn guarded(
    execution: impl Future<Output = GqlResponse>,
    timeout: Duration,
    executed: impl Fn() -> bool,
) -> (GqlResponse, Outcome) {
    match guard::guarded(execution, timeout).await {
        Ok(response) => {
            let outcome = if !executed() {
                Outcome::Rejected
            } else if response.errors.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Error
            };
            (with_codes(response), outcome)
        }
        Err(failure) => (
            GqlResponse::from_errors(vec![failure.into_server_error(timeout)]),
            match failure {
                guard::Failure::Panicked => Outcome::Internal,
                guard::Failure::TimedOut => Outcome::Timeout,
            },
        ),
    }
}

/// Gives every error an `extensions.code`: errors raised by async-graphql
/// itself (syntax, validation, limits, input coercion) are the client's input.
fn with_codes(mut response: GqlResponse) -> GqlResponse {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::BadUserInput.as_str());
        }
    }
    response
}

/// Serializes the response. A request that never executed carries no
/// `data`, and under `application/graphql-response+json` it is 400; a panic
/// or a timeout there is 500/503; anything executed is 200.
/// `batch` holds each response with whether it executed.
fn respond(format: Format, mut batch: Vec<(GqlResponse, bool)>, batched: bool) -> Response {
    let encode = |response: &GqlResponse, executed: bool| -> Value {
        let mut value = serde_json::to_value(response).unwrap_or_else(|_| json!({}));
        if !executed && let Value::Object(map) = &mut value {
            map.remove("data");
        }
        value
    };
    let (status, body) = match batch.pop() {
        Some((response, executed)) if !batched => {
            let status = match format {
                Format::Json => StatusCode::OK,
                Format::GraphqlResponseJson if !executed => StatusCode::BAD_REQUEST,
                Format::GraphqlResponseJson if response.data == async_graphql::Value::Null => {
                    server_failure_status(&response).unwrap_or(StatusCode::OK)
                }
                Format::GraphqlResponseJson => StatusCode::OK,
            };
            (status, encode(&response, executed))
        }
        last => {
            batch.extend(last);
            let items = batch.iter().map(|(r, executed)| encode(r, *executed));
            (StatusCode::OK, Value::Array(items.collect()))
        }
    };
    let mut http = Response::new(Body::from(body.to_string()));
    *http.status_mut() = status;
    http.headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    http
}

/// Adds `x-sql-statements` when enabled (tests and benchmarks read it).
fn with_statement_count(state: &AppState, mut response: Response, statements: usize) -> Response {
    if state.ctx.config.expose_sql_statements
        && let Ok(value) = HeaderValue::from_str(&statements.to_string())
    {
        response.headers_mut().insert("x-sql-statements", value);
    }
    response
}

/// 500 for `INTERNAL`, 503 for `UNAVAILABLE`, when the whole result failed.
fn server_failure_status(response: &GqlResponse) -> Option<StatusCode> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code").cloned())
        .find_map(|code| match code {
            async_graphql::Value::String(s) if s == ErrorCode::Internal.as_str() => {
                Some(StatusCode::INTERNAL_SERVER_ERROR)
            }
            async_graphql::Value::String(s) if s == ErrorCode::Unavailable.as_str() => {
                Some(StatusCode::SERVICE_UNAVAILABLE)
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_negotiation_follows_the_spec() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Format::Json));
        assert_eq!(negotiate(&accept(APPLICATION_JSON)), Some(Format::Json));
        assert_eq!(
            negotiate(&accept(GRAPHQL_RESPONSE_JSON)),
            Some(Format::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Format::GraphqlResponseJson)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json, application/graphql-response+json;q=0.5"
            )),
            Some(Format::Json)
        );
        assert_eq!(negotiate(&accept("text/plain")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }

    #[tokio::test]
    async fn a_panicking_resolver_becomes_a_bare_internal_error() {
        let (response, outcome) = guarded(
            async { panic!("secret at /srv/db.rs: relation \"users\" does not exist") },
            Duration::from_secs(5),
            || true,
        )
        .await;
        assert_eq!(outcome, Outcome::Internal);
        let body = serde_json::to_string(&response).unwrap();
        assert!(body.contains("\"INTERNAL\""), "{body}");
        assert!(
            !body.contains("secret") && !body.contains("/srv") && !body.contains("users"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_slow_request_is_stopped_as_unavailable() {
        let (response, outcome) = guarded(
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                GqlResponse::new(async_graphql::Value::Null)
            },
            Duration::from_millis(20),
            || true,
        )
        .await;
        assert_eq!(outcome, Outcome::Timeout);
        let body = serde_json::to_string(&response).unwrap();
        assert!(body.contains("\"UNAVAILABLE\""), "{body}");
        let (fine, outcome) = guarded(
            async { GqlResponse::new(async_graphql::Value::Null) },
            Duration::from_secs(1),
            || true,
        )
        .await;
        assert_eq!(outcome, Outcome::Ok);
        assert!(fine.errors.is_empty());
    }

    #[test]
    fn parameters_are_checked_by_type() {
        assert!(params_from_json(json!({ "query": "{ a }" })).is_ok());
        assert!(params_from_json(json!({ "query": "{ a }", "variables": null, "operationName": null, "extensions": null })).is_ok());
        assert!(params_from_json(json!({})).is_err());
        let hash = "a".repeat(64);
        let by_hash =
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        assert!(params_from_json(by_hash).unwrap().query.is_none());
        assert!(params_from_json(json!({ "query": 1 })).is_err());
        assert!(params_from_json(json!({ "query": "{ a }", "variables": "x" })).is_err());
        assert!(params_from_json(json!({ "query": "{ a }", "operationName": 3 })).is_err());
        assert!(params_from_json(json!(["x"])).is_err());
    }

    #[test]
    fn get_parameters_decode() {
        let p = params_from_query_string(
            "query=%7B%20me%20%7B%20id%20%7D%20%7D&variables=%7B%22a%22%3A1%7D&operationName=",
        )
        .unwrap();
        assert_eq!(p.query.as_deref(), Some("{ me { id } }"));
        assert_eq!(p.variables.unwrap()["a"], 1);
        assert!(params_from_query_string("variables=notjson&query=x").is_err());
    }
}
