//! The database handle: one pool for SQLite (the embedded default) or
//! PostgreSQL, opened lazily so the server can start before its database is
//! reachable, then migrated once it answers.
//!
//! Pools are built with sqlx directly (then wrapped for SeaORM) so SQLite gets
//! WAL, foreign keys and a busy timeout, PostgreSQL an `application_name`, and
//! `/metrics` can read the pool's gauges.

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use migration::MigratorTrait;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, Statement, TransactionOptions, TransactionTrait,
};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    config::Config,
    error::{ApiError, ApiResult, is_unavailable},
};

tokio::task_local! {
    /// Counts the SQL statements a GraphQL request issues (see `counting`).
    static STATEMENTS: Arc<AtomicUsize>;
}

/// Runs `work` counting every SQL statement it issues into `counter`
/// (DataLoader batches included: `Loaders` spawn them in the same scope).
pub async fn counting<F: Future>(counter: Arc<AtomicUsize>, work: F) -> F::Output {
    STATEMENTS.scope(counter, work).await
}

/// The counter of the request this task serves, if any.
pub fn current_counter() -> Option<Arc<AtomicUsize>> {
    STATEMENTS.try_with(Arc::clone).ok()
}

fn count_statement(_: &sea_orm::metric::Info<'_>) {
    let _ = STATEMENTS.try_with(|counter| counter.fetch_add(1, Ordering::Relaxed));
}

/// `application_name` of the server's PostgreSQL connections (operators and
/// tests find them by it).
pub const PG_APPLICATION_NAME: &str = "stepdown";

#[derive(Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    /// Connections open now, and how many of them are idle.
    pub fn gauges(&self) -> (u32, usize) {
        match self {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }
}

/// The shared database handle. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    pool: Pool,
    /// Set once migrations have run; until then data requests are `UNAVAILABLE`.
    migrated: Arc<AtomicBool>,
}

impl Database {
    /// Builds the pool without connecting (connections open on first use).
    pub fn open_lazy(config: &Config) -> anyhow::Result<Self> {
        let url = config.database_url.as_str();
        let acquire_timeout = Duration::from_secs(3);
        let (conn, pool) = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| anyhow::anyhow!("DATABASE_URL: not a valid SQLite URL"))?
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool = SqlitePoolOptions::new()
                // An in-memory database lives and dies with its connection.
                .max_connections(if in_memory {
                    1
                } else {
                    config.db_max_connections
                })
                .min_connections(if in_memory {
                    1
                } else {
                    config.db_min_connections
                })
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(1800))
                })
                .acquire_timeout(acquire_timeout)
                .connect_lazy_with(options);
            (
                SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone()),
                Pool::Sqlite(pool),
            )
        } else {
            let options = PgConnectOptions::from_str(url)
                .map_err(|_| anyhow::anyhow!("DATABASE_URL: not a valid PostgreSQL URL"))?
                .application_name(PG_APPLICATION_NAME);
            let pool = PgPoolOptions::new()
                .max_connections(config.db_max_connections)
                .min_connections(config.db_min_connections)
                .acquire_timeout(acquire_timeout)
                .idle_timeout(Duration::from_secs(600))
                .test_before_acquire(true)
                .connect_lazy_with(options);
            (
                SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone()),
                Pool::Postgres(pool),
            )
        };
        let mut conn = conn;
        conn.set_metric_callback(count_statement);
        Ok(Self {
            conn,
            pool,
            migrated: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The SeaORM connection for data access, or `UNAVAILABLE` while the
    /// database has not been reached and migrated yet.
    pub fn conn(&self) -> ApiResult<&DatabaseConnection> {
        if self.migrated.load(Ordering::Acquire) {
            Ok(&self.conn)
        } else {
            Err(ApiError::Unavailable(None))
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// Applies pending migrations, one process at a time: replicas and a
    /// `stepdown migrate` started together on a new database wait for each
    /// other, and each migration runs once. All pending migrations run in
    /// one transaction (DDL is transactional on both databases), which on
    /// PostgreSQL first takes an advisory lock keyed by the schema (so test
    /// schemas do not wait on each other) and on SQLite is `EXCLUSIVE`.
    /// Another process holding the lock past the busy timeout is retried
    /// for up to a minute.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        loop {
            match self.migrate_once().await {
                Ok(()) => break,
                Err(err) if is_unavailable(&err) && started.elapsed() < Duration::from_secs(60) => {
                    tracing::info!(error = %err, "another process is migrating; waiting");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => return Err(anyhow::anyhow!("migration failed: {err}")),
            }
        }
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    async fn migrate_once(&self) -> Result<(), DbErr> {
        let txn = match &self.pool {
            Pool::Postgres(_) => {
                let txn = self.conn.begin().await?;
                txn.execute_unprepared(
                    "SELECT pg_advisory_xact_lock(hashtextextended('stepdown.migrate.' || current_schema(), 0))",
                )
                .await?;
                txn
            }
            Pool::Sqlite(_) => {
                self.conn
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Exclusive),
                        ..Default::default()
                    })
                    .await?
            }
        };
        migration::Migrator::up(&txn, None).await?;
        txn.commit().await
    }

    /// Connects and migrates, retrying with backoff until it works (DESIGN §3:
    /// a server started before its database keeps trying, logging each try).
    pub async fn migrate_with_retry(&self) {
        let mut delay = Duration::from_millis(250);
        let mut attempt = 1u32;
        loop {
            match self.migrate().await {
                Ok(()) => {
                    tracing::info!(attempt, "database reachable; migrations applied");
                    return;
                }
                Err(err) => {
                    tracing::warn!(attempt, error = %err, retry_in_ms = delay.as_millis() as u64,
                        "database not ready; retrying");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
            attempt += 1;
        }
    }

    /// Readiness: migrated and answering a trivial query now.
    pub async fn ping(&self) -> bool {
        if !self.is_migrated() {
            return false;
        }
        let stmt = Statement::from_string(self.backend(), "SELECT 1");
        tokio::time::timeout(Duration::from_secs(2), self.conn.execute_raw(stmt))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
