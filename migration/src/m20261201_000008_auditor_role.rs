//! The AUDITOR role (a privacy officer: the whole audit trail, no records)
//! may be held and invited: the role checks on `memberships` and
//! `invitations` accept it.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DatabaseBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["memberships", "invitations"];
const BEFORE: &str = "'PATIENT', 'CLINICIAN', 'FACILITATOR', 'SUPPORTER', 'ADMIN'";
const AFTER: &str = "'PATIENT', 'CLINICIAN', 'FACILITATOR', 'SUPPORTER', 'ADMIN', 'AUDITOR'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            set_roles(manager, table, BEFORE, AFTER).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            set_roles(manager, table, AFTER, BEFORE).await?;
        }
        Ok(())
    }
}

/// Replaces `table`'s check on `role` (`from` → `to`, the allowed values).
pub(crate) async fn set_roles(
    manager: &SchemaManager<'_>,
    table: &str,
    from: &str,
    to: &str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_role_check, \
                 ADD CONSTRAINT {table}_role_check CHECK (role IN ({to}))"
            ))
            .await?;
        }
        DatabaseBackend::Sqlite => {
            // SQLite cannot alter a check: the table is rebuilt from its
            // own definition (nothing references these tables).
            let backend = DatabaseBackend::Sqlite;
            let text = |sql: String| Statement::from_string(backend, sql);
            let definition = db
                .query_one_raw(text(format!(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                )))
                .await?
                .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?
                .try_get::<String>("", "sql")?;
            if !definition.contains(from) {
                return Err(DbErr::Migration(format!(
                    "{table}: unexpected role check in {definition}"
                )));
            }
            let indexes: Vec<String> = db
                .query_all_raw(text(format!(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = '{table}' AND sql IS NOT NULL"
                )))
                .await?
                .iter()
                .map(|row| row.try_get::<String>("", "sql"))
                .collect::<Result<_, _>>()?;
            db.execute_unprepared(&format!("ALTER TABLE {table} RENAME TO {table}_old"))
                .await?;
            db.execute_unprepared(&definition.replace(from, to)).await?;
            db.execute_unprepared(&format!("INSERT INTO {table} SELECT * FROM {table}_old"))
                .await?;
            db.execute_unprepared(&format!("DROP TABLE {table}_old"))
                .await?;
            for index in indexes {
                db.execute_unprepared(&index).await?;
            }
        }
        other => {
            return Err(DbErr::Migration(format!("unsupported backend {other:?}")));
        }
    }
    Ok(())
}
