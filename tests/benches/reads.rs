//! Read paths with authorization and the audit trail on (figures only, no
//! assertions): 1,000 patients on one clinician's care team with 20
//! check-ins each; 16 clients; the server in production mode.
//!
//! - the flat page: `patients(first: 50) { id user { displayName } }`;
//! - the nested page: 10 patients × their first 5 check-ins;
//! - `me`.
//!
//! With `STEPDOWN_PEER_DIR` pointing at an install of PostGraphile v5 on
//! Node 22 (`bash bench/peer.sh` makes one under `target/peer` and runs
//! this), the same rows are also served by PostGraphile (preset amber,
//! production mode) on the same database, and the bench prints both side by
//! side with the ratio. PostgreSQL only for the peer.
//!
//! ```sh
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p stepdown-tests --bench reads
//! bash bench/peer.sh
//! ```

#[allow(dead_code)]
#[path = "../api/harness.rs"]
mod harness;

#[allow(dead_code)] // each bench uses part of it
mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Samples, run_until, seconds_from_env};
use harness::{Options, TestApp, spawn_app_with};
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

const PATIENTS: usize = 1_000;
const CHECK_INS_EACH: usize = 20;
const CLIENTS: usize = 16;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let phase = seconds_from_env("BENCH_SECONDS", 5);
    let app = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_ENV", "production".into()),
            ("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into()),
            ("STEPDOWN_DB_MAX_CONNECTIONS", "16".into()),
        ],
        ..Default::default()
    })
    .await;
    let backend = if app.db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("database: {backend}; {phase:?} per phase; {CLIENTS} clients");
    let org = app.new_organization("Reads clinic").await;
    let clinician = app.new_person(org, "Dr Reads", &["CLINICIAN"]).await;
    let seeding = Instant::now();
    seed(&app, org, clinician.user_id).await;
    println!(
        "seeded {PATIENTS} patients × {CHECK_INS_EACH} check-ins in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let flat = "{ patients(first: 50) { edges { node { id user { displayName } } } } }";
    let nested = "{ patients(first: 10) { edges { node { id checkIns(first: 5) { edges { node { id painScore } } } } } } }";
    let url = app.url("/graphql");
    let token = Some(clinician.token.as_str());
    let ours = [
        ("flat page (50 patients)", flat),
        ("nested page (10 × 5 check-ins)", nested),
        ("me", "{ me { id } }"),
    ];
    let mut figures = Vec::new();
    for (name, query) in ours {
        let statements = statements(&app, &clinician.token, query).await;
        let rate = report(
            &url,
            token,
            &format!("stepdown: {name} [{statements} SQL]"),
            query,
            phase,
        )
        .await;
        figures.push(rate);
    }

    let Some(peer_dir) = std::env::var_os("STEPDOWN_PEER_DIR") else {
        println!("(set STEPDOWN_PEER_DIR, or run bench/peer.sh, for PostGraphile side by side)");
        return;
    };
    if !app.db.is_postgres() {
        println!("(the peer needs PostgreSQL: set TEST_DATABASE_URL)");
        return;
    }
    let Some(peer) = Peer::start(std::path::Path::new(&peer_dir), &app.db.url()).await else {
        println!("PostGraphile did not start");
        return;
    };
    let peer_flat = "{ allPatients(first: 50) { nodes { id userByUserId { displayName } } } }";
    let peer_nested = "{ allPatients(first: 10) { nodes { id checkInsByPatientId(first: 5) { nodes { id painScore } } } } }";
    for (i, (name, query)) in [
        ("flat page (50 patients)", peer_flat),
        ("nested page (10 × 5 check-ins)", peer_nested),
    ]
    .into_iter()
    .enumerate()
    {
        let rate = report(
            &peer.url,
            None,
            &format!("postgraphile: {name}"),
            query,
            phase,
        )
        .await;
        if rate > 0.0 {
            println!("  ratio stepdown / postgraphile: {:.2}×", figures[i] / rate);
        }
    }
}

/// The server's statement count for one request of `query`.
async fn statements(app: &TestApp, token: &str, query: &str) -> String {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .ok()
        .and_then(|r| {
            r.headers()
                .get("x-sql-statements")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Runs `query` from `CLIENTS` clients for `phase`; prints a line, returns
/// the throughput.
async fn report(url: &str, token: Option<&str>, name: &str, query: &str, phase: Duration) -> f64 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), url.to_owned());
        let token = token.map(str::to_owned);
        let body = json!({ "query": query });
        tasks.push(tokio::spawn(run_until(deadline, move || {
            let mut request = client.post(url.clone()).json(&body);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            async move {
                match request.send().await {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["errors"].is_null() && !v["data"].is_null()),
                    Err(_) => false,
                }
            }
        })));
    }
    let mut all = Samples::default();
    for task in tasks {
        if let Ok(samples) = task.await {
            all.merge(samples);
        }
    }
    let elapsed = started.elapsed();
    let rate = all.latencies.len() as f64 / elapsed.as_secs_f64();
    all.report(name, elapsed);
    rate
}

/// 1,000 patients on `clinician`'s care team, 20 check-ins each, by bulk
/// inserts.
async fn seed(app: &TestApp, org: Uuid, clinician: Uuid) {
    let db = app.seed_db().await;
    let now = Utc::now();
    let mut users = Vec::new();
    let mut patients = Vec::new();
    let mut team = Vec::new();
    let mut check_ins = Vec::new();
    for i in 0..PATIENTS {
        let (user, patient) = (Uuid::now_v7(), Uuid::now_v7());
        users.push(entity::users::ActiveModel {
            id: Set(user),
            organization_id: Set(org),
            email: Set(format!("reads-{i}@bench.invalid")),
            password_hash: Set("!bench".into()),
            display_name: Set(format!("Patient {i}")),
            timezone: Set("America/Chicago".into()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        patients.push(entity::patients::ActiveModel {
            id: Set(patient),
            organization_id: Set(org),
            user_id: Set(user),
            created_at: Set(now),
        });
        team.push(entity::care_team_members::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            patient_id: Set(patient),
            clinician_user_id: Set(clinician),
            created_at: Set(now),
        });
        for back in 0..CHECK_INS_EACH {
            let at = now - chrono::Duration::days(back as i64);
            check_ins.push(entity::check_ins::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                patient_id: Set(patient),
                pain_score: Set(Some((back % 10) as i32)),
                peg_pain: Set(None),
                peg_enjoyment: Set(None),
                peg_activity: Set(None),
                peg_score: Set(None),
                craving_score: Set(Some(3)),
                mood: Set(Some(3)),
                sleep_hours: Set(None),
                exercise_minutes: Set(None),
                mindfulness_minutes: Set(None),
                meals: Set(None),
                triggers: Set("[]".into()),
                coping_strategies: Set("[]".into()),
                helpful_coping_strategies: Set("[]".into()),
                note: Set(None),
                submitted_at: Set(at),
                local_date: Set(at.date_naive()),
                created_at: Set(at),
                updated_at: Set(at),
            });
        }
    }
    for chunk in users.chunks(500) {
        entity::users::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("users");
    }
    for chunk in patients.chunks(500) {
        entity::patients::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("patients");
    }
    for chunk in team.chunks(500) {
        entity::care_team_members::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("care team");
    }
    for chunk in check_ins.chunks(500) {
        entity::check_ins::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("check-ins");
    }
}

/// PostGraphile v5 on Node 22, over the bench's database, killed on drop.
struct Peer {
    child: std::process::Child,
    url: String,
}

impl Peer {
    async fn start(dir: &std::path::Path, database_url: &str) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new(dir.join("node_modules/.bin/node"))
            .arg(dir.join("node_modules/.bin/postgraphile"))
            .args([
                "-P",
                "postgraphile/presets/amber",
                "-c",
                database_url,
                "-s",
                "public",
            ])
            .args(["-n", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir)
            .env("GRAPHILE_ENV", "production")
            .env("NODE_ENV", "production")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .ok()?;
        let peer = Peer {
            child,
            url: format!("http://127.0.0.1:{port}/graphql"),
        };
        let client = reqwest::Client::new();
        for _ in 0..120 {
            let answered = client
                .post(&peer.url)
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await
                .is_ok();
            if answered {
                return Some(peer);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        None
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
