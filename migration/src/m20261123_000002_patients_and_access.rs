//! Patients and who may see them: care teams, supporters a patient invited,
//! the patient's consents (42 CFR Part 2 §2.31), and the append-only audit
//! trail of every access.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Patients {
    Table,
    Id,
    OrganizationId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CareTeamMembers {
    Table,
    Id,
    OrganizationId,
    PatientId,
    ClinicianUserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SupporterLinks {
    Table,
    Id,
    OrganizationId,
    PatientId,
    SupporterUserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Consents {
    Table,
    Id,
    OrganizationId,
    PatientId,
    GranteeUserId,
    Categories,
    Purpose,
    GrantedAt,
    ExpiresAt,
    RevokedAt,
    SignedByUserId,
    Signature,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    OrganizationId,
    ActorUserId,
    PatientId,
    Action,
    ResourceType,
    ResourceId,
    Allowed,
    RequestId,
    At,
}

fn fk_org<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Organizations::Table, Organizations::Id)
        .to_owned()
}

fn fk_user<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_patient<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Patients::Table, Patients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patients::Table)
                    .col(pk_uuid(Patients::Id))
                    .col(uuid(Patients::OrganizationId))
                    .col(uuid_uniq(Patients::UserId))
                    .col(timestamp_with_time_zone(Patients::CreatedAt))
                    .foreign_key(&mut fk_org(Patients::Table, Patients::OrganizationId))
                    .foreign_key(&mut fk_user(Patients::Table, Patients::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_patients_organization",
                Patients::Table,
                &[Patients::OrganizationId, Patients::Id],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareTeamMembers::Table)
                    .col(pk_uuid(CareTeamMembers::Id))
                    .col(uuid(CareTeamMembers::OrganizationId))
                    .col(uuid(CareTeamMembers::PatientId))
                    .col(uuid(CareTeamMembers::ClinicianUserId))
                    .col(timestamp_with_time_zone(CareTeamMembers::CreatedAt))
                    .foreign_key(&mut fk_org(
                        CareTeamMembers::Table,
                        CareTeamMembers::OrganizationId,
                    ))
                    .foreign_key(&mut fk_patient(
                        CareTeamMembers::Table,
                        CareTeamMembers::PatientId,
                    ))
                    .foreign_key(&mut fk_user(
                        CareTeamMembers::Table,
                        CareTeamMembers::ClinicianUserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_care_team_patient_clinician",
                    CareTeamMembers::Table,
                    &[CareTeamMembers::PatientId, CareTeamMembers::ClinicianUserId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_care_team_clinician",
                CareTeamMembers::Table,
                &[CareTeamMembers::ClinicianUserId, CareTeamMembers::PatientId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupporterLinks::Table)
                    .col(pk_uuid(SupporterLinks::Id))
                    .col(uuid(SupporterLinks::OrganizationId))
                    .col(uuid(SupporterLinks::PatientId))
                    .col(uuid(SupporterLinks::SupporterUserId))
                    .col(timestamp_with_time_zone(SupporterLinks::CreatedAt))
                    .foreign_key(&mut fk_org(
                        SupporterLinks::Table,
                        SupporterLinks::OrganizationId,
                    ))
                    .foreign_key(&mut fk_patient(
                        SupporterLinks::Table,
                        SupporterLinks::PatientId,
                    ))
                    .foreign_key(&mut fk_user(
                        SupporterLinks::Table,
                        SupporterLinks::SupporterUserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_supporter_links",
                    SupporterLinks::Table,
                    &[SupporterLinks::PatientId, SupporterLinks::SupporterUserId],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(pk_uuid(Consents::Id))
                    .col(uuid(Consents::OrganizationId))
                    .col(uuid(Consents::PatientId))
                    .col(uuid(Consents::GranteeUserId))
                    // Comma-separated `ConsentCategory` names, e.g. "TAPER,SYMPTOMS".
                    .col(string_len(Consents::Categories, 200))
                    .col(string_len(Consents::Purpose, 500))
                    .col(timestamp_with_time_zone(Consents::GrantedAt))
                    .col(timestamp_with_time_zone(Consents::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Consents::RevokedAt))
                    .col(uuid(Consents::SignedByUserId))
                    // The electronic signature: who signed, as what, and when.
                    .col(string_len(Consents::Signature, 300))
                    .foreign_key(&mut fk_org(Consents::Table, Consents::OrganizationId))
                    .foreign_key(&mut fk_patient(Consents::Table, Consents::PatientId))
                    .foreign_key(&mut fk_user(Consents::Table, Consents::GranteeUserId))
                    .check(Expr::col(Consents::ExpiresAt).gt(Expr::col(Consents::GrantedAt)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_consents_grantee_patient",
                Consents::Table,
                &[Consents::GranteeUserId, Consents::PatientId],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_consents_patient",
                Consents::Table,
                &[Consents::PatientId, Consents::GrantedAt],
            ))
            .await?;

        // Append-only: the application never updates or deletes these rows.
        // No foreign keys, so the trail outlives what it describes.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(uuid(AuditEvents::OrganizationId))
                    .col(uuid_null(AuditEvents::ActorUserId))
                    .col(uuid_null(AuditEvents::PatientId))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len(AuditEvents::ResourceType, 64))
                    .col(uuid_null(AuditEvents::ResourceId))
                    .col(boolean(AuditEvents::Allowed))
                    .col(string_len(AuditEvents::RequestId, 128))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_audit_org_id",
                AuditEvents::Table,
                &[AuditEvents::OrganizationId, AuditEvents::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_audit_patient_id",
                AuditEvents::Table,
                &[AuditEvents::PatientId, AuditEvents::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_audit_actor_id",
                AuditEvents::Table,
                &[AuditEvents::ActorUserId, AuditEvents::Id],
            ))
            .await?;
        Ok(())
    }
}
