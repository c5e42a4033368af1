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

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
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
        Ok(Self {
            listener,
            ctx: AppContext::new(config, database),
        })
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
        let router = app(self.ctx.clone());
        tracing::info!(address = %self.local_addr(), "stepdown listening");
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        migrations.abort();
        relay.abort();
        daily_checks.abort();
        db.close().await;
        tracing::info!("stepdown stopped");
        Ok(())
    }
}
