//! Prometheus metrics at `/metrics`: GraphQL requests counted and timed per
//! operation name and outcome, plus the database pool's gauges.
//!
//! Operation names come from clients, so they are sanitized and the number
//! of distinct label values is capped (no unbounded series).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::db::Database;

/// How a GraphQL operation ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran without errors.
    Ok,
    /// Ran, with field errors.
    Error,
    /// Refused before running: unparsable, invalid, or over a limit.
    Rejected,
    /// Ran out of time.
    Timeout,
    /// A resolver panicked.
    Internal,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Rejected => "rejected",
            Outcome::Timeout => "timeout",
            Outcome::Internal => "internal",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

const MAX_OPERATION_NAMES: usize = 200;

#[derive(Clone)]
pub struct Metrics(Arc<MetricsInner>);

struct MetricsInner {
    registry: Registry,
    requests: Family<OperationLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    statements: Family<OperationLabels, Histogram>,
    pool_connections: Family<PoolLabels, Gauge>,
    database_ready: Gauge,
    seen_operations: Mutex<HashSet<String>>,
}

fn statement_histogram() -> Histogram {
    // 1 … 512 statements.
    Histogram::new(exponential_buckets(1.0, 2.0, 10))
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("stepdown");
        let requests = Family::<OperationLabels, Counter>::default();
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let statements = Family::<OperationLabels, Histogram>::new_with_constructor(
            statement_histogram as fn() -> Histogram,
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let database_ready = Gauge::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations by operation name and outcome",
            requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL operation latency by operation name and outcome",
            latency.clone(),
        );
        registry.register(
            "graphql_sql_statements",
            "SQL statements issued per GraphQL operation",
            statements.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool_connections.clone(),
        );
        registry.register(
            "db_ready",
            "1 when the database is migrated and answering",
            database_ready.clone(),
        );
        Self(Arc::new(MetricsInner {
            registry,
            requests,
            latency,
            statements,
            pool_connections,
            database_ready,
            seen_operations: Mutex::new(HashSet::new()),
        }))
    }
}

impl Metrics {
    pub fn record(
        &self,
        operation: Option<&str>,
        outcome: Outcome,
        elapsed: Duration,
        statements: usize,
    ) {
        let labels = OperationLabels {
            operation: self.operation_label(operation),
            outcome: outcome.as_str().to_owned(),
        };
        self.0.requests.get_or_create(&labels).inc();
        self.0
            .latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.0
            .statements
            .get_or_create(&labels)
            .observe(statements as f64);
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else {
            return "anonymous".to_owned();
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return "invalid".to_owned();
        }
        let Ok(mut seen) = self.0.seen_operations.lock() else {
            return "other".to_owned();
        };
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() >= MAX_OPERATION_NAMES {
            return "other".to_owned();
        }
        seen.insert(name.to_owned());
        name.to_owned()
    }

    /// Renders the Prometheus text format, refreshing the pool gauges first.
    pub async fn render(&self, db: &Database) -> String {
        let (size, idle) = db.pool().gauges();
        let idle = idle as i64;
        self.0
            .pool_connections
            .get_or_create(&PoolLabels {
                state: "idle".into(),
            })
            .set(idle);
        self.0
            .pool_connections
            .get_or_create(&PoolLabels {
                state: "in_use".into(),
            })
            .set(i64::from(size) - idle);
        self.0.database_ready.set(i64::from(db.ping().await));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.0.registry).is_err() {
            tracing::error!("metrics encoding failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let metrics = Metrics::default();
        assert_eq!(metrics.operation_label(None), "anonymous");
        assert_eq!(metrics.operation_label(Some("Me")), "Me");
        assert_eq!(metrics.operation_label(Some("bad name\"}")), "invalid");
        for i in 0..MAX_OPERATION_NAMES {
            metrics.operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("Me")), "Me");
    }
}
