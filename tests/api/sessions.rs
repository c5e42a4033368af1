//! Signing in and staying signed in: login, refresh rotation and reuse
//! detection, logout, password change, lockout, rate limits, and tokens
//! that must be refused.

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::{Options, Person, TestApp, WORLD_PASSWORD, spawn_app, spawn_app_with};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresAt user { id email } } }";
const REFRESH: &str = "mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken refreshToken } }";
const ME: &str = "{ me { id email roles } }";

async fn login(app: &TestApp, email: &str, password: &str) -> crate::harness::GqlReply {
    app.graphql(
        LOGIN,
        json!({ "input": { "email": email, "password": password } }),
        None,
    )
    .await
}

async fn someone(app: &TestApp) -> Person {
    let org = app.new_organization("Clinic").await;
    app.new_person(org, "Rae Patient", &["PATIENT"]).await
}

fn tokens(reply: &crate::harness::GqlReply, field: &str) -> (String, String) {
    let data = &reply.ok()[field];
    (
        data["accessToken"].as_str().unwrap().to_owned(),
        data["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn login_returns_tokens_that_work() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    // Emails are matched case-insensitively.
    let reply = login(&app, &person.email.to_uppercase(), WORLD_PASSWORD).await;
    let (access, refresh) = tokens(&reply, "login");
    assert_eq!(
        reply.ok()["login"]["user"]["id"],
        person.user_id.to_string()
    );
    assert!(
        refresh.len() >= 43,
        "refresh tokens carry at least 256 bits"
    );
    let me = app.graphql(ME, json!({}), Some(&access)).await;
    assert_eq!(me.ok()["me"]["roles"], json!(["PATIENT"]));
    assert_eq!(me.ok()["me"]["email"], person.email);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let wrong = login(&app, &person.email, "not the password at all").await;
    let unknown = login(&app, "nobody@example.org", "not the password at all").await;
    assert_eq!(wrong.error_code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong.body["errors"][0]["message"],
        unknown.body["errors"][0]["message"]
    );
    assert_eq!(
        wrong.body["errors"][0]["extensions"],
        unknown.body["errors"][0]["extensions"]
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let (_, first_refresh) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");

    let rotated = app
        .graphql(
            REFRESH,
            json!({ "input": { "refreshToken": first_refresh } }),
            None,
        )
        .await;
    let (access, second_refresh) = tokens(&rotated, "refreshSession");
    assert_ne!(first_refresh, second_refresh);
    app.graphql(ME, json!({}), Some(&access)).await.ok();

    // The first token again: reuse. It fails, and so does everything issued
    // from that session since.
    let reuse = app
        .graphql(
            REFRESH,
            json!({ "input": { "refreshToken": first_refresh } }),
            None,
        )
        .await;
    assert_eq!(reuse.error_code(), Some("UNAUTHENTICATED"));
    let after = app
        .graphql(
            REFRESH,
            json!({ "input": { "refreshToken": second_refresh } }),
            None,
        )
        .await;
    assert_eq!(
        after.error_code(),
        Some("UNAUTHENTICATED"),
        "family revoked"
    );
    let me = app.graphql(ME, json!({}), Some(&access)).await;
    assert_eq!(
        me.error_code(),
        Some("UNAUTHENTICATED"),
        "access token of the family ends"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_its_access_tokens() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let (access, refresh) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");
    let reply = app
        .graphql(
            "mutation($input: LogoutInput!) { logout(input: $input) { ok } }",
            json!({ "input": { "refreshToken": refresh } }),
            None,
        )
        .await;
    assert_eq!(reply.ok()["logout"]["ok"], true);
    assert_eq!(
        app.graphql(ME, json!({}), Some(&access)).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    let again = app
        .graphql(
            REFRESH,
            json!({ "input": { "refreshToken": refresh } }),
            None,
        )
        .await;
    assert_eq!(again.error_code(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let (phone, _) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");
    let (laptop, _) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ok } }";

    let wrong = app
        .graphql(change, json!({ "input": { "currentPassword": "nope nope nope", "newPassword": "a fresh passphrase" } }), Some(&laptop))
        .await;
    assert_eq!(
        wrong.body["errors"][0]["extensions"]["field"],
        "currentPassword"
    );
    let weak = app
        .graphql(
            change,
            json!({ "input": { "currentPassword": WORLD_PASSWORD, "newPassword": "password123" } }),
            Some(&laptop),
        )
        .await;
    assert_eq!(weak.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(weak.body["errors"][0]["extensions"]["field"], "newPassword");

    let ok = app
        .graphql(change, json!({ "input": { "currentPassword": WORLD_PASSWORD, "newPassword": "a fresh passphrase" } }), Some(&laptop))
        .await;
    assert_eq!(ok.ok()["changePassword"]["ok"], true);
    app.graphql(ME, json!({}), Some(&laptop)).await.ok();
    assert_eq!(
        app.graphql(ME, json!({}), Some(&phone)).await.error_code(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        login(&app, &person.email, WORLD_PASSWORD)
            .await
            .error_code(),
        Some("UNAUTHENTICATED")
    );
    login(&app, &person.email, "a fresh passphrase").await.ok();
}

#[tokio::test]
async fn twelve_wrong_passwords_block_the_thirteenth_right_one() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(
            login(&app, &person.email, "wrong password here")
                .await
                .error_code()
                .map(str::to_owned),
        );
    }
    assert!(
        codes[..5]
            .iter()
            .all(|c| c.as_deref() == Some("UNAUTHENTICATED")),
        "{codes:?}"
    );
    assert!(
        codes[5..]
            .iter()
            .all(|c| c.as_deref() == Some("RATE_LIMITED")),
        "{codes:?}"
    );
    let right = login(&app, &person.email, WORLD_PASSWORD).await;
    assert_eq!(right.error_code(), Some("RATE_LIMITED"));
    assert!(
        right.body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // An unknown address is throttled the same way (no account oracle).
    for _ in 0..5 {
        login(&app, "ghost@example.org", "wrong password here").await;
    }
    assert_eq!(
        login(&app, "ghost@example.org", "x").await.error_code(),
        Some("RATE_LIMITED")
    );
}

#[tokio::test]
async fn aliases_and_batches_cannot_multiply_attempts() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    // Six aliased attempts in one document count as six.
    let fields: String = (0..6)
        .map(|i| format!(r#"a{i}: login(input: {{ email: "{}", password: "wrong password {i}" }}) {{ accessToken }} "#, person.email))
        .collect();
    let reply = app
        .graphql(&format!("mutation {{ {fields} }}"), json!({}), None)
        .await;
    assert_eq!(
        reply.body["errors"].as_array().unwrap().len(),
        6,
        "{}",
        reply.body
    );
    assert_eq!(
        login(&app, &person.email, WORLD_PASSWORD)
            .await
            .error_code(),
        Some("RATE_LIMITED")
    );

    // A batch is counted per operation against the address budget.
    let limited = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_AUTH_RATE_PER_MINUTE", "5".into()),
            ("STEPDOWN_MAX_BATCH", "10".into()),
        ],
        ..Default::default()
    })
    .await;
    let body: Vec<Value> = (0..7)
        .map(|_| json!({ "query": LOGIN, "variables": { "input": { "email": "x@example.org", "password": "whatever-really" } } }))
        .collect();
    let replies: Vec<Value> = limited
        .client
        .post(limited.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let limited_count = replies
        .iter()
        .filter(|r| r["errors"][0]["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert!(limited_count >= 2, "{replies:?}");
}

#[tokio::test]
async fn tokens_that_must_be_refused() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let (access, refresh) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();

    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "at+jwt" })),
        b64(&payload)
    );
    let mut tampered = payload.clone();
    tampered["sub"] = json!(uuid::Uuid::now_v7());
    let tampered = format!(
        "{}.{}.{}",
        access.split('.').next().unwrap(),
        b64(&tampered),
        access.split('.').nth(2).unwrap()
    );
    let secret = crate::harness::TEST_JWT_SECRET.as_bytes();
    let sign = |header: jsonwebtoken::Header, claims: Value| {
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let typed = |alg| jsonwebtoken::Header {
        typ: Some("at+jwt".into()),
        ..jsonwebtoken::Header::new(alg)
    };
    let mut expired = payload.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 120);
    let mut wrong_aud = payload.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut wrong_iss = payload.clone();
    wrong_iss["iss"] = json!("another-issuer");
    let mut no_sid = payload.clone();
    no_sid.as_object_mut().unwrap().remove("sid");

    let cases = [
        ("alg none", none),
        ("tampered claims", tampered),
        (
            "expired",
            sign(typed(jsonwebtoken::Algorithm::HS256), expired),
        ),
        (
            "wrong audience",
            sign(typed(jsonwebtoken::Algorithm::HS256), wrong_aud),
        ),
        (
            "wrong issuer",
            sign(typed(jsonwebtoken::Algorithm::HS256), wrong_iss),
        ),
        (
            "missing session id",
            sign(typed(jsonwebtoken::Algorithm::HS256), no_sid),
        ),
        (
            "algorithm swap",
            sign(typed(jsonwebtoken::Algorithm::HS384), payload.clone()),
        ),
        (
            "wrong typ",
            sign(
                jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                payload.clone(),
            ),
        ),
        ("refresh token as access token", refresh.clone()),
    ];
    for (case, token) in cases {
        let reply = app.graphql(ME, json!({}), Some(&token)).await;
        assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"), "{case}");
    }
    // And an access token is no refresh token.
    let reply = app
        .graphql(
            REFRESH,
            json!({ "input": { "refreshToken": access } }),
            None,
        )
        .await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_sign_in_limits_key_on_the_forwarded_address() {
    let login_from = |app: &TestApp, forwarded: &'static str| {
        let request = app
            .client
            .post(app.url("/graphql"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "query": LOGIN, "variables": { "input": { "email": "nobody@example.org", "password": "whatever-really" } } }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        }
    };
    // The test client connects from 127.0.0.1: trusted here, so each
    // forwarded address has its own budget of two attempts a minute.
    let behind = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_AUTH_RATE_PER_MINUTE", "2".into()),
            ("STEPDOWN_TRUSTED_PROXIES", "127.0.0.1/32".into()),
        ],
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(login_from(&behind, "198.51.100.1").await, "UNAUTHENTICATED");
    }
    assert_eq!(login_from(&behind, "198.51.100.1").await, "RATE_LIMITED");
    assert_eq!(login_from(&behind, "198.51.100.2").await, "UNAUTHENTICATED");

    // Without trusted proxies the header is ignored: one budget for the peer.
    let direct = spawn_app_with(Options {
        vars: vec![("STEPDOWN_AUTH_RATE_PER_MINUTE", "2".into())],
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(login_from(&direct, "198.51.100.1").await, "UNAUTHENTICATED");
    }
    assert_eq!(login_from(&direct, "198.51.100.2").await, "RATE_LIMITED");
}

#[tokio::test]
async fn a_burst_of_thirty_wrong_passwords_gets_at_most_five_checks() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let attempts = (0..30).map(|i| {
        let app = &app;
        let email = person.email.clone();
        async move { login(app, &email, &format!("wrong password {i}")).await }
    });
    let replies = futures_util::future::join_all(attempts).await;
    let codes: Vec<Option<String>> = replies
        .iter()
        .map(|r| r.error_code().map(str::to_owned))
        .collect();
    let evaluated = codes
        .iter()
        .filter(|c| c.as_deref() == Some("UNAUTHENTICATED"))
        .count();
    let limited = codes
        .iter()
        .filter(|c| c.as_deref() == Some("RATE_LIMITED"))
        .count();
    assert!(evaluated <= 5, "{codes:?}");
    assert_eq!(evaluated + limited, 30, "{codes:?}");
    let right = login(&app, &person.email, WORLD_PASSWORD).await;
    assert_eq!(right.error_code(), Some("RATE_LIMITED"), "{:?}", right.body);

    // An unknown address under the same burst answers the same way.
    let ghosts = (0..30).map(|i| {
        let app = &app;
        async move { login(app, "ghost@example.org", &format!("wrong password {i}")).await }
    });
    let ghost_codes: Vec<Option<String>> = futures_util::future::join_all(ghosts)
        .await
        .iter()
        .map(|r| r.error_code().map(str::to_owned))
        .collect();
    let ghost_evaluated = ghost_codes
        .iter()
        .filter(|c| c.as_deref() == Some("UNAUTHENTICATED"))
        .count();
    assert!(ghost_evaluated <= 5, "{ghost_codes:?}");
    assert!(
        ghost_codes
            .iter()
            .all(|c| matches!(c.as_deref(), Some("UNAUTHENTICATED" | "RATE_LIMITED"))),
        "{ghost_codes:?}"
    );
}

#[tokio::test]
async fn wrong_current_passwords_lock_change_password_and_login() {
    let app = spawn_app().await;
    let person = someone(&app).await;
    let (access, _) = tokens(&login(&app, &person.email, WORLD_PASSWORD).await, "login");
    let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { ok } }";
    let attempts = (0..30).map(|i| {
        let app = &app;
        let access = access.clone();
        async move {
            app.graphql(
                change,
                json!({ "input": { "currentPassword": format!("wrong current {i}"), "newPassword": "a fresh passphrase" } }),
                Some(&access),
            )
            .await
        }
    });
    let replies = futures_util::future::join_all(attempts).await;
    let wrong = replies
        .iter()
        .filter(|r| {
            r.error_code() == Some("BAD_USER_INPUT")
                && r.body["errors"][0]["extensions"]["field"] == "currentPassword"
        })
        .count();
    let limited = replies
        .iter()
        .filter(|r| r.error_code() == Some("RATE_LIMITED"))
        .count();
    assert!(wrong <= 5, "{replies:?}");
    assert_eq!(wrong + limited, 30, "{replies:?}");
    // The right current password is refused while the account is locked,
    // and so is signing in.
    let right = app
        .graphql(
            change,
            json!({ "input": { "currentPassword": WORLD_PASSWORD, "newPassword": "a fresh passphrase" } }),
            Some(&access),
        )
        .await;
    assert_eq!(right.error_code(), Some("RATE_LIMITED"), "{:?}", right.body);
    assert_eq!(
        login(&app, &person.email, WORLD_PASSWORD)
            .await
            .error_code(),
        Some("RATE_LIMITED")
    );
}
