//! Start-up on a new database: replicas and `stepdown migrate` started
//! together wait for each other's migrations (an advisory lock on
//! PostgreSQL, an exclusive transaction on SQLite), every process comes up,
//! and each migration runs once.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, Statement};
use stepdown::{Config, db::Database};

use crate::harness::{Options, TestDb, spawn_app_with};

fn config_for(db: &TestDb) -> Config {
    let vars = HashMap::from([
        ("DATABASE_URL".to_owned(), db.url()),
        ("STEPDOWN_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "STEPDOWN_JWT_SECRET".to_owned(),
            crate::harness::TEST_JWT_SECRET.to_owned(),
        ),
    ]);
    Config::from_vars(&vars).expect("test configuration")
}

/// What `stepdown migrate` does: open, migrate once (no retry), close.
async fn migrate_once(config: &Config) -> anyhow::Result<()> {
    let db = Database::open_lazy(config)?;
    let result = db.migrate().await;
    db.close().await;
    result
}

#[tokio::test]
async fn two_replicas_and_two_migrate_commands_started_together_all_come_up_five_times() {
    for round in 1..=5 {
        let db = TestDb::create().await;
        let config = config_for(&db);
        let replica = || {
            spawn_app_with(Options {
                db: Some(db.shared()),
                ..Default::default()
            })
        };
        // Each replica waits until it is ready (30 s at most).
        let (first, second, migrate_a, migrate_b) = tokio::join!(
            replica(),
            replica(),
            migrate_once(&config),
            migrate_once(&config)
        );
        migrate_a.unwrap_or_else(|e| panic!("round {round}: migrate failed: {e:#}"));
        migrate_b.unwrap_or_else(|e| panic!("round {round}: migrate failed: {e:#}"));

        // Every migration is recorded once, and all of them are.
        let check = Database::open_lazy(&config).unwrap();
        check.migrate().await.unwrap();
        let conn = check.conn().unwrap();
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n, COUNT(DISTINCT version) AS d FROM seaql_migrations",
            ))
            .await
            .unwrap()
            .unwrap();
        let total: i64 = row.try_get("", "n").unwrap();
        let distinct: i64 = row.try_get("", "d").unwrap();
        use migration::MigratorTrait;
        let expected = migration::Migrator::migrations().len() as i64;
        assert_eq!(
            (total, distinct),
            (expected, expected),
            "round {round}: each migration once"
        );
        check.close().await;

        // Both replicas are ready: migrated and answering.
        for app in [&first, &second] {
            let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), 200, "round {round}");
        }
        first.stop().await;
        second.stop().await;
    }
}
