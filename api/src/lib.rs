//! Stepdown: one GraphQL API for people reducing or leaving opioids and the
//! care team, groups and family around them.
//!
//! # Layout
//!
//! - `config`: every setting, from the environment, validated once.
//! - `db`: the SQLite/PostgreSQL pool, lazy connect, migrations with retry.
//! - `error`: the one error type and its client codes.
//! - `http/`: router, GraphQL-over-HTTP and WebSocket handlers, health,
//!   metrics, request ids.
//! - `graphql/`: the schema (roots merged from each domain), limits, context.
//! - `auth/`: passwords, tokens, sessions, sign-in limits, the `Principal`.
//! - `authz/`: the one authorization policy (care team, consent, admin).
//! - `audit/`: the append-only audit trail, written and read.
//! - `accounts/`: users, organizations, invitations, validation.
//! - `patients/`: patient records, care teams, consents.
//! - `tapering/`: medication catalog, regimens, taper plans, dose logs.
//! - `monitoring/`: check-ins, withdrawal scales, alerts, notifications,
//!   trends, the clinician's overview.
//! - `groups/`: support groups, membership, meetings and attendance,
//!   confidential posts with moderation, shared recovery goals.
//! - `care/`: treatment programs and enrollments, appointments, clinical
//!   notes, recovery plans.
//! - `education/`: the resource library, assignments, progress.
//! - `idempotency`: safe retries of creates from phones.
//!
//! `app` builds the router for a state; `Application` binds it to a port and
//! runs it with graceful shutdown (used by `main` and by the test suite).

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod calendar;
pub mod caller;
pub mod care;
pub mod config;
pub mod db;
pub mod demo;
pub mod education;
pub mod error;
pub mod graphql;
pub mod groups;
pub mod http;
pub mod idempotency;
pub mod integrations;
pub mod loaders;
pub mod monitoring;
pub mod notifications;
pub mod patients;
pub mod sockets;
pub mod stored;
pub mod tapering;
pub mod telemetry;
pub mod validation;

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use crate::{
    app::{AppContext, AppContextInner},
    config::Config,
    graphql::StepdownSchema,
    http::metrics::Metrics,
};

/// The router's state: the services and the schema built over them.
#[derive(Clone)]
pub struct AppState {
    pub ctx: AppContext,
    pub schema: StepdownSchema,
}

/// Builds the schema over the shared services.
pub fn schema(ctx: AppContext) -> StepdownSchema {
    graphql::build_schema(ctx)
}

/// Builds the HTTP router (DESIGN §4).
pub fn app(ctx: AppContext) -> axum::Router {
    let schema = schema(ctx.clone());
    http::router(AppState { ctx, schema })
}

/// `stepdown seed-demo [--reset]`: the demo organization's people and
/// groups, then its clinical story written through this schema (see
/// `demo::clinical`). `reset` first retires the previous demo organization.
/// Refused in production.
pub async fn seed_demo(ctx: &AppContext, reset: bool) -> error::ApiResult<demo::DemoData> {
    if ctx.config.is_production() {
        return Err(error::ApiError::forbidden(if reset {
            "seed-demo --reset refuses to run when STEPDOWN_ENV=production (it retires an organization)"
        } else {
            "seed-demo refuses to run when STEPDOWN_ENV=production"
        }));
    }
    let db = ctx.db.conn()?;
    if reset {
        let retired = demo::remove_demo(db).await?;
        tracing::info!(accounts = retired, "retired the previous demo organization");
    }
    let data = demo::seed_demo(db, &ctx.passwords).await?;
    let api = InProcess {
        ctx: ctx.clone(),
        schema: schema(ctx.clone()),
    };
    demo::clinical::seed(&api, db, &data.cast()?).await?;
    Ok(data)
}

/// Runs operations on the schema in this process, as a client over HTTP
/// would (its own request context and loaders per operation).
struct InProcess {
    ctx: AppContext,
    schema: StepdownSchema,
}

impl demo::clinical::Api for InProcess {
    fn run<'a>(
        &'a self,
        token: Option<&'a str>,
        query: &'a str,
        variables: serde_json::Value,
    ) -> std::pin::Pin<Box<dyn Future<Output = error::ApiResult<serde_json::Value>> + Send + 'a>>
    {
        Box::pin(async move {
            let authorization = token.map(|t| format!("Bearer {t}"));
            let credentials = auth::principal::Credentials::from_authorization(
                authorization.as_deref(),
                &self.ctx.tokens,
            );
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(variables))
                .data(graphql::outcome::ExecutionMarker::default())
                .data(std::sync::Arc::new(loaders::Loaders::new(&self.ctx.db)))
                .data(auth::RequestContext::new(
                    format!("seed-demo-{}", uuid::Uuid::now_v7()),
                    None,
                    credentials,
                ));
            let response = self.schema.execute(request).await;
            if let Some(error) = response.errors.first() {
                return Err(error::ApiError::internal(anyhow::anyhow!(
                    "demo seed: {}: {}",
                    query
                        .split_whitespace()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" "),
                    error.message
                )));
            }
            response
                .data
                .into_json()
                .map_err(|e| error::ApiError::internal(anyhow::anyhow!("demo seed: {e}")))
        })
    }
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// `/metrics` on its own address (`STEPDOWN_METRICS_BIND`).
    metrics_listener: Option<TcpListener>,
    ctx: AppContext,
}

impl Application {
    /// Opens the database lazily and binds `config.bind` (port 0 picks a free
    /// one). Migrations run in the background, retrying until the database
    /// answers; until then `/readyz` is 503 and data requests `UNAVAILABLE`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let database = db::Database::open_lazy(&config)?;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| anyhow::anyhow!("STEPDOWN_BIND: cannot listen on {}: {e}", config.bind))?;
        let metrics_listener = match config.metrics_bind {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("STEPDOWN_METRICS_BIND: cannot listen on {addr}: {e}")
            })?),
            None => None,
        };
        Ok(Self {
            listener,
            metrics_listener,
            ctx: AppContext::new(config, database),
        })
    }

    /// Where `/metrics` is served when `STEPDOWN_METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.ctx.config.bind)
    }

    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let db = self.ctx.db.clone();
        let migrations = tokio::spawn({
            let db = db.clone();
            async move { db.migrate_with_retry().await }
        });
        let relay = tokio::spawn(self.ctx.hub.clone().relay(db.clone()));
        let daily_checks = tokio::spawn(monitoring::daily_checks::run_forever(self.ctx.clone()));
        let address = self.local_addr();
        let schema = schema(self.ctx.clone());
        let state = AppState {
            ctx: self.ctx.clone(),
            schema,
        };
        let metrics = self.metrics_listener.map(|listener| {
            let router = http::metrics_router(state.clone());
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(address = %addr, "metrics listening");
            }
            tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            })
        });
        let router = http::router(state);
        tracing::info!(address = %address, "stepdown listening");
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        migrations.abort();
        relay.abort();
        daily_checks.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        db.close().await;
        tracing::info!("stepdown stopped");
        Ok(())
    }
}
