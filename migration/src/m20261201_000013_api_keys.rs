//! API keys for other systems (EHRs, analytics, messaging). Each key acts as
//! a service account: a user of the organization with the `INTEGRATION`
//! role, to whom patients grant consent like to any other recipient. Only a
//! SHA-256 of the secret is kept (the secrets are high-entropy: a slow hash
//! on every request would buy nothing).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261201_000008_auditor_role::set_roles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrganizationId,
    ServiceUserId,
    Name,
    Prefix,
    SecretSha256,
    Scopes,
    CreatedByUserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

const TABLES: [&str; 2] = ["memberships", "invitations"];
const BEFORE: &str = "'PATIENT', 'CLINICIAN', 'FACILITATOR', 'SUPPORTER', 'ADMIN', 'AUDITOR'";
const AFTER: &str =
    "'PATIENT', 'CLINICIAN', 'FACILITATOR', 'SUPPORTER', 'ADMIN', 'AUDITOR', 'INTEGRATION'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            set_roles(manager, table, BEFORE, AFTER).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::OrganizationId))
                    .col(uuid(ApiKeys::ServiceUserId))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::Prefix, 32))
                    .col(string_len_uniq(ApiKeys::SecretSha256, 64))
                    // Comma-separated scope names.
                    .col(string_len(ApiKeys::Scopes, 200))
                    .col(uuid(ApiKeys::CreatedByUserId))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::ServiceUserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_organization")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::OrganizationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await?;
        for table in TABLES {
            set_roles(manager, table, AFTER, BEFORE).await?;
        }
        Ok(())
    }
}
