//! Shared by the benchmarks: latency recording and reporting. Benchmarks
//! print figures; they assert nothing about time.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Latencies of one kind of request.
#[derive(Default)]
pub struct Samples {
    pub latencies: Vec<Duration>,
    pub errors: usize,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
    }

    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort();
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[index]
    }

    /// One line: count, throughput, p50, p99, errors.
    pub fn report(&mut self, name: &str, elapsed: Duration) {
        let count = self.latencies.len();
        println!(
            "{name:<44} {count:>7} req  {:>9.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
            count as f64 / elapsed.as_secs_f64(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.errors,
        );
    }
}

/// Runs `request` in a loop until `deadline`, recording each latency.
pub async fn run_until<F, Fut>(deadline: Instant, mut request: F) -> Samples
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut samples = Samples::default();
    while Instant::now() < deadline {
        let started = Instant::now();
        let ok = request().await;
        samples.latencies.push(started.elapsed());
        if !ok {
            samples.errors += 1;
        }
    }
    samples
}

pub fn seconds_from_env(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// Runs `query` from 4 clients for `phase`; prints figures and statements.
pub async fn measure(
    app: &crate::harness::TestApp,
    token: &str,
    name: &str,
    query: &str,
    variables: Value,
    phase: Duration,
) {
    let statements = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()
        .and_then(|r| {
            r.headers()
                .get("x-sql-statements")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = token.to_owned();
        let body = json!({ "query": query, "variables": variables });
        tasks.push(tokio::spawn(run_until(deadline, move || {
            let request = client
                .post(url.clone())
                .bearer_auth(&token)
                .json(&body)
                .send();
            async move {
                match request.await {
                    Ok(r) => r.text().await.is_ok_and(|t| !t.contains("\"errors\"")),
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
    all.report(
        &format!("{name} [{statements} SQL statements]"),
        started.elapsed(),
    );
}
