//! `seed-demo`: the demo clinician's first login shows a full overview
//! (open alerts, adherence, trends), and `--reset` builds it anew.

use std::collections::HashMap;

use serde_json::{Value, json};
use stepdown::{AppContext, Config, db::Database};

use crate::harness::{TEST_JWT_SECRET, TestApp, spawn_app};

/// Seeds the demo into the test app's database, as `stepdown seed-demo`.
async fn seed(app: &TestApp, reset: bool) -> stepdown::demo::DemoData {
    let vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), app.db.url()),
        ("STEPDOWN_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("STEPDOWN_DB_MAX_CONNECTIONS".into(), "3".into()),
    ]);
    let config = Config::from_vars(&vars).unwrap();
    let db = Database::open_lazy(&config).unwrap();
    db.migrate().await.unwrap();
    let ctx = AppContext::new(config, db);
    let data = stepdown::seed_demo(&ctx, reset).await.expect("seed-demo");
    ctx.db.close().await;
    data
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let reply = app
        .graphql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": email, "password": stepdown::demo::DEMO_PASSWORD } }),
            None,
        )
        .await;
    reply.ok()["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

const OVERVIEW: &str = "query($from: Date!, $to: Date!) { careTeamOverview { edges { node {
  displayName openAlerts adherence7d currentStepIndex mmeReductionPercent lastCheckInAt
  latestWithdrawalSeverity riskScore
  patient { id trends(from: $from, to: $to) { date checkedIn cravingScore } }
} } }
alerts(unresolvedOnly: true) { edges { node { kind patient { id } } } } }";

/// The last 30 days (UTC dates; the demo's patients are a few hours behind).
fn window() -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({ "from": (today - chrono::Duration::days(31)).to_string(), "to": (today + chrono::Duration::days(1)).to_string() })
}

fn row<'a>(overview: &'a Value, name: &str) -> &'a Value {
    overview["careTeamOverview"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} not in the overview: {overview}"))
}

#[tokio::test]
async fn the_demo_clinicians_overview_shows_alerts_and_adherence() {
    let app = spawn_app().await;
    let demo = seed(&app, false).await;
    assert!(
        demo.logins
            .iter()
            .any(|l| l.email == "rivera@demo.stepdown.test")
    );
    let token = sign_in(&app, "rivera@demo.stepdown.test").await;
    let reply = app.graphql(OVERVIEW, window(), Some(&token)).await;
    let overview = reply.ok();
    let alex = row(overview, "Alex Morgan");
    assert!(alex["openAlerts"].as_i64().unwrap() >= 1, "{alex}");
    let adherence = alex["adherence7d"].as_f64().expect("adherence");
    // Two of the last seven days were missed.
    assert!(adherence > 0.5 && adherence < 1.0, "{alex}");
    assert!(alex["currentStepIndex"].as_i64().is_some(), "{alex}");
    assert!(!alex["lastCheckInAt"].is_null(), "{alex}");
    assert_eq!(
        alex["latestWithdrawalSeverity"], "MODERATELY_SEVERE",
        "{alex}"
    );
    // Trends hold 30 days of check-ins.
    let days_with_check_ins = alex["patient"]["trends"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["checkedIn"] == true)
        .count();
    assert!(days_with_check_ins >= 29, "{alex}");
    let jordan = row(overview, "Jordan Lee");
    assert!(!jordan["lastCheckInAt"].is_null(), "{jordan}");
    let alerts = overview["alerts"]["edges"].as_array().unwrap();
    assert!(!alerts.is_empty(), "{overview}");

    // Alex's own view: the next appointment and the recovery plan.
    let alex_token = sign_in(&app, "alex@demo.stepdown.test").await;
    let mine = app
        .graphql(
            "{ me { patient { appointments(from: \"2000-01-01T00:00:00Z\") { kind } carePlan { triggers } currentTaperPlan { status } } } }",
            json!({}),
            Some(&alex_token),
        )
        .await;
    let mine = &mine.ok()["me"]["patient"];
    assert_eq!(mine["currentTaperPlan"]["status"], "ACTIVE");
    assert_eq!(mine["appointments"][0]["kind"], "FOLLOW_UP");
    assert!(!mine["carePlan"]["triggers"].as_array().unwrap().is_empty());

    // Seeding again is refused; `--reset` builds a new demo organization.
    let vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), app.db.url()),
        ("STEPDOWN_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
    ]);
    let db = Database::open_lazy(&Config::from_vars(&vars).unwrap()).unwrap();
    db.migrate().await.unwrap();
    let again = stepdown::demo::seed_demo(db.conn().unwrap(), &Default::default()).await;
    assert!(again.is_err());
    db.close().await;
    let renewed = seed(&app, true).await;
    assert_ne!(renewed.organization_id, demo.organization_id);
    let token = sign_in(&app, "rivera@demo.stepdown.test").await;
    let reply = app.graphql(OVERVIEW, window(), Some(&token)).await;
    assert!(
        row(reply.ok(), "Alex Morgan")["openAlerts"]
            .as_i64()
            .unwrap()
            >= 1
    );
    // The previous demo's sign-ins ended with it.
    let old = app
        .graphql("{ me { id } }", json!({}), Some(&alex_token))
        .await;
    assert_eq!(old.error_code(), Some("UNAUTHENTICATED"), "{}", old.body);
}

#[tokio::test]
async fn seed_demo_and_its_reset_are_refused_in_production() {
    let app = spawn_app().await;
    for reset in [false, true] {
        let vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), app.db.url()),
            ("STEPDOWN_ENV".into(), "production".into()),
            ("STEPDOWN_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ]);
        let config = Config::from_vars(&vars).unwrap();
        let ctx = AppContext::new(config.clone(), Database::open_lazy(&config).unwrap());
        let refused = stepdown::seed_demo(&ctx, reset).await.expect_err("refused");
        assert!(
            refused.to_string().contains("STEPDOWN_ENV=production"),
            "{refused}"
        );
        ctx.db.close().await;
    }
    // Nothing was written.
    let reply = app
        .graphql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": "rivera@demo.stepdown.test", "password": stepdown::demo::DEMO_PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(reply.error_code(), Some("UNAUTHENTICATED"));
}
