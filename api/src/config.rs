//! All settings, read from the environment once at start (12-factor) and
//! validated there: a bad value stops the process with one line naming the
//! variable, never later and never with a panic trace.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

/// Where the process runs. Production turns off GraphiQL, introspection and
/// field suggestions (unless re-enabled) and insists on a real JWT secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Bounds on what one request may cost (OWASP GraphQL cheat sheet).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    pub max_depth: usize,
    /// Complexity budget; list fields cost `first ×` their selection.
    pub max_complexity: usize,
    /// Aliased fields in one document.
    pub max_aliases: usize,
    /// Field selections in one document, fragments included.
    pub max_fields: usize,
    /// Operations in one JSON-array batch.
    pub max_batch: usize,
    /// Largest `first` a connection accepts.
    pub max_page_size: u64,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 50,
            max_fields: 1_000,
            // Off unless asked for, as in Apollo Server 4: a batch lets one
            // request carry many operations past per-request limits.
            max_batch: 1,
            max_page_size: 100,
            request_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub environment: Environment,
    /// HMAC key for access tokens. Never logged.
    pub jwt_secret: Vec<u8>,
    /// True when the secret was generated for this run (development only).
    pub jwt_secret_generated: bool,
    pub introspection: bool,
    pub graphiql: bool,
    pub log_format: LogFormat,
    pub db_max_connections: u32,
    pub db_min_connections: u32,
    /// Auth mutations (login, refresh, accept invitation, change password)
    /// allowed per client address per minute.
    pub auth_rate_per_minute: u32,
    /// Answer each GraphQL request with `x-sql-statements` (tests, benchmarks).
    pub expose_sql_statements: bool,
    pub limits: Limits,
    pub sockets: SocketLimits,
    /// Load balancers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the alert checks that depend on the date alone run (and
    /// once at start).
    pub daily_checks_every: Duration,
}

/// What one person's WebSockets may hold (DESIGN §4).
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// Open sockets per user on one replica.
    pub max_per_user: usize,
    /// Live subscriptions per socket.
    pub max_subscriptions: usize,
    /// How often an open socket's session is checked (a revoked session or
    /// an expired token closes it with 4401).
    pub session_check: Duration,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            max_per_user: 20,
            max_subscriptions: 50,
            session_check: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("environment", &self.environment)
            .field("jwt_secret", &"<redacted>")
            .field("introspection", &self.introspection)
            .field("graphiql", &self.graphiql)
            .field("log_format", &self.log_format)
            .field("db_max_connections", &self.db_max_connections)
            .field("auth_rate_per_minute", &self.auth_rate_per_minute)
            .field("limits", &self.limits)
            .finish()
    }
}

/// A configuration problem, worded for the operator: it names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://stepdown.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads settings from a map of variables (the environment, or a test's).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let environment = match get("STEPDOWN_ENV") {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(bad(
                    "STEPDOWN_ENV",
                    format!("expected `development` or `production`, got `{other}`"),
                ));
            }
        };
        let production = environment == Environment::Production;

        let database_url = get("DATABASE_URL")
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_owned();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "expected a `sqlite:` or `postgres://` URL",
            ));
        }

        let bind = get("STEPDOWN_BIND")
            .unwrap_or(DEFAULT_BIND)
            .parse::<SocketAddr>()
            .map_err(|_| bad("STEPDOWN_BIND", "expected HOST:PORT, e.g. 127.0.0.1:8080"))?;

        let (jwt_secret, jwt_secret_generated) = match get("STEPDOWN_JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => (secret.as_bytes().to_vec(), false),
            Some(_) => {
                return Err(bad("STEPDOWN_JWT_SECRET", "must be at least 32 bytes long"));
            }
            None if production => {
                return Err(bad(
                    "STEPDOWN_JWT_SECRET",
                    "required when STEPDOWN_ENV=production (at least 32 bytes)",
                ));
            }
            None => {
                use rand::RngCore;
                let mut secret = vec![0u8; 32];
                rand::rng().fill_bytes(&mut secret);
                (secret, true)
            }
        };

        let introspection = parse_bool(get("STEPDOWN_INTROSPECTION"), "STEPDOWN_INTROSPECTION")?
            .unwrap_or(!production);
        let graphiql =
            parse_bool(get("STEPDOWN_GRAPHIQL"), "STEPDOWN_GRAPHIQL")?.unwrap_or(!production);

        let log_format = match get("STEPDOWN_LOG_FORMAT") {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "STEPDOWN_LOG_FORMAT",
                    format!("expected `text` or `json`, got `{other}`"),
                ));
            }
        };

        let db_max_connections = parse_num(
            get("STEPDOWN_DB_MAX_CONNECTIONS"),
            "STEPDOWN_DB_MAX_CONNECTIONS",
            1,
            1000,
        )?
        .unwrap_or(10) as u32;
        let db_min_connections = parse_num(
            get("STEPDOWN_DB_MIN_CONNECTIONS"),
            "STEPDOWN_DB_MIN_CONNECTIONS",
            0,
            db_max_connections as u64,
        )?
        .unwrap_or(0) as u32;

        let auth_rate_per_minute = parse_num(
            get("STEPDOWN_AUTH_RATE_PER_MINUTE"),
            "STEPDOWN_AUTH_RATE_PER_MINUTE",
            1,
            1_000_000,
        )?
        .unwrap_or(300) as u32;

        let expose_sql_statements = parse_bool(
            get("STEPDOWN_EXPOSE_SQL_STATEMENTS"),
            "STEPDOWN_EXPOSE_SQL_STATEMENTS",
        )?
        .unwrap_or(false);

        let d = Limits::default();
        let limits = Limits {
            max_body_bytes: parse_num(
                get("STEPDOWN_MAX_BODY_BYTES"),
                "STEPDOWN_MAX_BODY_BYTES",
                1024,
                64 * 1024 * 1024,
            )?
            .map_or(d.max_body_bytes, |v| v as usize),
            max_depth: parse_num(get("STEPDOWN_MAX_DEPTH"), "STEPDOWN_MAX_DEPTH", 2, 100)?
                .map_or(d.max_depth, |v| v as usize),
            max_complexity: parse_num(
                get("STEPDOWN_MAX_COMPLEXITY"),
                "STEPDOWN_MAX_COMPLEXITY",
                10,
                10_000_000,
            )?
            .map_or(d.max_complexity, |v| v as usize),
            max_aliases: parse_num(
                get("STEPDOWN_MAX_ALIASES"),
                "STEPDOWN_MAX_ALIASES",
                0,
                10_000,
            )?
            .map_or(d.max_aliases, |v| v as usize),
            max_fields: parse_num(
                get("STEPDOWN_MAX_FIELDS"),
                "STEPDOWN_MAX_FIELDS",
                10,
                100_000,
            )?
            .map_or(d.max_fields, |v| v as usize),
            max_batch: parse_num(get("STEPDOWN_MAX_BATCH"), "STEPDOWN_MAX_BATCH", 1, 1000)?
                .map_or(d.max_batch, |v| v as usize),
            max_page_size: parse_num(
                get("STEPDOWN_MAX_PAGE_SIZE"),
                "STEPDOWN_MAX_PAGE_SIZE",
                1,
                10_000,
            )?
            .unwrap_or(d.max_page_size),
            request_timeout: parse_num(
                get("STEPDOWN_REQUEST_TIMEOUT_SECS"),
                "STEPDOWN_REQUEST_TIMEOUT_SECS",
                1,
                3600,
            )?
            .map_or(d.request_timeout, Duration::from_secs),
        };

        let ds = SocketLimits::default();
        let sockets = SocketLimits {
            max_per_user: parse_num(
                get("STEPDOWN_WS_MAX_SOCKETS_PER_USER"),
                "STEPDOWN_WS_MAX_SOCKETS_PER_USER",
                1,
                10_000,
            )?
            .map_or(ds.max_per_user, |v| v as usize),
            max_subscriptions: parse_num(
                get("STEPDOWN_WS_MAX_SUBSCRIPTIONS_PER_SOCKET"),
                "STEPDOWN_WS_MAX_SUBSCRIPTIONS_PER_SOCKET",
                1,
                10_000,
            )?
            .map_or(ds.max_subscriptions, |v| v as usize),
            session_check: parse_num(
                get("STEPDOWN_WS_SESSION_CHECK_SECS"),
                "STEPDOWN_WS_SESSION_CHECK_SECS",
                1,
                30,
            )?
            .map_or(ds.session_check, Duration::from_secs),
        };

        let trusted_proxies =
            crate::http::client_addr::parse_trusted(get("STEPDOWN_TRUSTED_PROXIES").unwrap_or(""))
                .map_err(|problem| bad("STEPDOWN_TRUSTED_PROXIES", problem))?;

        let daily_checks_every = parse_num(
            get("STEPDOWN_DAILY_CHECKS_SECS"),
            "STEPDOWN_DAILY_CHECKS_SECS",
            1,
            7 * 86_400,
        )?
        .map_or(Duration::from_secs(86_400), Duration::from_secs);

        Ok(Self {
            database_url,
            bind,
            environment,
            jwt_secret,
            jwt_secret_generated,
            introspection,
            graphiql,
            log_format,
            db_max_connections,
            db_min_connections,
            auth_rate_per_minute,
            expose_sql_statements,
            limits,
            sockets,
            trusted_proxies,
            daily_checks_every,
        })
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

fn parse_bool(value: Option<&str>, variable: &'static str) -> Result<Option<bool>, ConfigError> {
    match value {
        None => Ok(None),
        Some("true" | "1" | "yes" | "on") => Ok(Some(true)),
        Some("false" | "0" | "no" | "off") => Ok(Some(false)),
        Some(other) => Err(bad(
            variable,
            format!("expected `true` or `false`, got `{other}`"),
        )),
    }
}

fn parse_num(
    value: Option<&str>,
    variable: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad(
            variable,
            format!("expected a whole number from {min} to {max}, got `{value}`"),
        )),
    }
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_suit_a_fresh_checkout() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
        assert_eq!(config.environment, Environment::Development);
        assert!(config.jwt_secret_generated && config.jwt_secret.len() == 32);
        assert!(config.introspection && config.graphiql);
        assert_eq!(config.limits.max_depth, 15);
        assert_eq!(config.limits.max_body_bytes, 1 << 20);
    }

    #[test]
    fn production_requires_a_long_secret_and_hides_introspection() {
        let err = Config::from_vars(&vars(&[("STEPDOWN_ENV", "production")])).unwrap_err();
        assert_eq!(err.variable, "STEPDOWN_JWT_SECRET");
        let err = Config::from_vars(&vars(&[
            ("STEPDOWN_ENV", "production"),
            ("STEPDOWN_JWT_SECRET", "too-short"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "STEPDOWN_JWT_SECRET");
        let config = Config::from_vars(&vars(&[
            ("STEPDOWN_ENV", "production"),
            ("STEPDOWN_JWT_SECRET", &"x".repeat(32)),
        ]))
        .unwrap();
        assert!(!config.introspection && !config.graphiql);
        let config = Config::from_vars(&vars(&[
            ("STEPDOWN_ENV", "production"),
            ("STEPDOWN_JWT_SECRET", &"x".repeat(32)),
            ("STEPDOWN_INTROSPECTION", "true"),
        ]))
        .unwrap();
        assert!(config.introspection);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("STEPDOWN_ENV", "staging"),
            ("STEPDOWN_BIND", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("STEPDOWN_MAX_DEPTH", "0"),
            ("STEPDOWN_MAX_BATCH", "many"),
            ("STEPDOWN_INTROSPECTION", "maybe"),
            ("STEPDOWN_LOG_FORMAT", "xml"),
            ("STEPDOWN_DB_MAX_CONNECTIONS", "0"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.variable, name, "{value}");
            assert!(err.to_string().starts_with(name));
        }
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/stepdown"),
            "postgres://app:***@db:5432/stepdown"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
