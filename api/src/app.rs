//! The services every request shares (configuration, database, tokens,
//! password hashing, sign-in limits, the live hub, metrics), built once at
//! start and cloned cheaply into each request.

use std::sync::Arc;

use crate::{auth, config::Config, db, http::metrics::Metrics, notifications};

/// Services shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct AppContext(Arc<AppContextInner>);

pub struct AppContextInner {
    pub config: Config,
    pub db: db::Database,
    pub tokens: auth::TokenService,
    pub passwords: auth::passwords::PasswordHasherPool,
    pub auth_limiter: auth::rate_limit::AuthRateLimiter,
    /// Live notifications, alerts and group posts for subscribers (across
    /// replicas on PostgreSQL).
    pub hub: notifications::NotificationHub,
    pub metrics: Metrics,
    /// Open WebSockets per user (their cap).
    pub sockets: crate::sockets::SocketRegistry,
    /// Documents clients registered (automatic persisted queries).
    pub persisted: crate::graphql::persisted::ApqCache,
}

impl std::ops::Deref for AppContext {
    type Target = AppContextInner;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AppContext {
    pub fn new(config: Config, db: db::Database) -> Self {
        let tokens = auth::TokenService::new(&config.jwt_secret);
        let auth_limiter = auth::rate_limit::AuthRateLimiter::new(config.auth_rate_per_minute);
        let hub = notifications::NotificationHub::new(&db);
        Self(Arc::new(AppContextInner {
            config,
            db,
            tokens,
            passwords: auth::passwords::PasswordHasherPool::default(),
            auth_limiter,
            hub,
            metrics: Metrics::default(),
            sockets: crate::sockets::SocketRegistry::default(),
            persisted: Default::default(),
        }))
    }
}
