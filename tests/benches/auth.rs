//! Sign-in under load: login throughput and latency, and the p99 of a cheap
//! authenticated query (`{ me { id } }`) alone versus beside a login flood.
//! Password hashing runs on a bounded pool (cores − 1), so the flood should
//! move the cheap query's p99 by less than 2×.
//!
//! ```sh
//! cargo bench -p stepdown-tests --bench auth
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p stepdown-tests --bench auth
//! ```
//!
//! `BENCH_SECONDS` (default 5) sets each phase's length.

#[allow(dead_code)]
#[path = "../api/harness.rs"]
mod harness;

#[allow(dead_code)] // each bench uses part of it
mod common;

use std::time::Instant;

use common::{Samples, run_until, seconds_from_env};
use harness::{Options, WORLD_PASSWORD, spawn_app_with};
use serde_json::json;

const CHEAP_CLIENTS: usize = 4;
const FLOOD_CLIENTS: usize = 16;

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
            ("STEPDOWN_AUTH_RATE_PER_MINUTE", "1000000".into()),
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
    let org = app.new_organization("Bench clinic").await;
    let reader = app.new_person(org, "Reader", &["CLINICIAN"]).await;
    let mut flooders = Vec::new();
    for i in 0..FLOOD_CLIENTS {
        flooders.push(
            app.new_person(org, &format!("Flood {i}"), &["PATIENT"])
                .await,
        );
    }
    println!(
        "auth benchmark on {backend}, {} cores, {phase:?} per phase, {CHEAP_CLIENTS} query clients, {FLOOD_CLIENTS} login clients",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let cheap_phase = |deadline: Instant| {
        let mut tasks = Vec::new();
        for _ in 0..CHEAP_CLIENTS {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let token = reader.token.clone();
            tasks.push(tokio::spawn(run_until(deadline, move || {
                let request = client
                    .post(url.clone())
                    .bearer_auth(&token)
                    .json(&json!({ "query": "{ me { id } }" }))
                    .send();
                async move {
                    match request.await {
                        Ok(r) => r.text().await.is_ok_and(|t| !t.contains("errors")),
                        Err(_) => false,
                    }
                }
            })));
        }
        tasks
    };
    let flood_phase = |deadline: Instant| {
        let mut tasks = Vec::new();
        for person in &flooders {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let email = person.email.clone();
            tasks.push(tokio::spawn(run_until(deadline, move || {
                let request = client
                    .post(url.clone())
                    .json(&json!({
                        "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                        "variables": { "i": { "email": email, "password": WORLD_PASSWORD } },
                    }))
                    .send();
                async move {
                    match request.await {
                        Ok(r) => r.text().await.is_ok_and(|t| t.contains("accessToken")),
                        Err(_) => false,
                    }
                }
            })));
        }
        tasks
    };
    async fn collect(tasks: Vec<tokio::task::JoinHandle<Samples>>) -> Samples {
        let mut all = Samples::default();
        for task in tasks {
            if let Ok(samples) = task.await {
                all.merge(samples);
            }
        }
        all
    }

    // Warm up connections and caches.
    collect(cheap_phase(
        Instant::now() + std::time::Duration::from_millis(500),
    ))
    .await;

    let started = Instant::now();
    let mut alone = collect(cheap_phase(started + phase)).await;
    alone.report("cheap query alone", started.elapsed());

    let started = Instant::now();
    let mut logins = collect(flood_phase(started + phase)).await;
    logins.report("login flood alone", started.elapsed());

    let started = Instant::now();
    let deadline = started + phase;
    let flood = flood_phase(deadline);
    let cheap = cheap_phase(deadline);
    let mut beside = collect(cheap).await;
    let mut flood = collect(flood).await;
    let elapsed = started.elapsed();
    flood.report("login flood beside the cheap query", elapsed);
    beside.report("cheap query beside the login flood", elapsed);

    let ratio =
        beside.percentile(0.99).as_secs_f64() / alone.percentile(0.99).as_secs_f64().max(1e-9);
    println!("cheap query p99 with the flood / without: {ratio:.2}x (target < 2x)");
}
