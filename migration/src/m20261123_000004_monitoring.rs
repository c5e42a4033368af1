//! Monitoring: daily check-ins, withdrawal assessments (COWS, SOWS) with
//! their items, alerts to the care team, and notifications.

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
}

#[derive(DeriveIden, Clone, Copy)]
enum CheckIns {
    Table,
    Id,
    OrganizationId,
    PatientId,
    PainScore,
    PegPain,
    PegEnjoyment,
    PegActivity,
    PegScore,
    CravingScore,
    Mood,
    SleepHours,
    ExerciseMinutes,
    MindfulnessMinutes,
    Meals,
    Triggers,
    CopingStrategies,
    HelpfulCopingStrategies,
    Note,
    SubmittedAt,
    LocalDate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WithdrawalAssessments {
    Table,
    Id,
    OrganizationId,
    PatientId,
    Instrument,
    Items,
    Total,
    Severity,
    AssessedByUserId,
    AssessedAt,
    LocalDate,
}

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    Id,
    OrganizationId,
    PatientId,
    Kind,
    Cause,
    Summary,
    SuggestedAction,
    Evidence,
    Status,
    CreatedAt,
    AcknowledgedAt,
    AcknowledgedByUserId,
    ResolvedAt,
    ResolvedByUserId,
    ResolutionNote,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    AlertId,
    PatientId,
    CreatedAt,
    ReadAt,
}

fn fk<T: IntoIden + Copy + 'static, U: IntoIden + Copy + 'static, V: IntoIden + Copy + 'static>(
    table: T,
    col: T,
    to_table: U,
    to_col: V,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to_table, to_col)
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

fn score_0_10<T: IntoIden + Copy + 'static>(col: T) -> Expr {
    Expr::col(col).is_null().or(Expr::col(col).between(0, 10))
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
                    .table(CheckIns::Table)
                    .col(pk_uuid(CheckIns::Id))
                    .col(uuid(CheckIns::OrganizationId))
                    .col(uuid(CheckIns::PatientId))
                    .col(integer_null(CheckIns::PainScore))
                    .col(integer_null(CheckIns::PegPain))
                    .col(integer_null(CheckIns::PegEnjoyment))
                    .col(integer_null(CheckIns::PegActivity))
                    .col(double_null(CheckIns::PegScore))
                    .col(integer_null(CheckIns::CravingScore))
                    .col(integer_null(CheckIns::Mood))
                    .col(double_null(CheckIns::SleepHours))
                    .col(integer_null(CheckIns::ExerciseMinutes))
                    .col(integer_null(CheckIns::MindfulnessMinutes))
                    .col(integer_null(CheckIns::Meals))
                    // JSON arrays of strings.
                    .col(text(CheckIns::Triggers))
                    .col(text(CheckIns::CopingStrategies))
                    .col(text(CheckIns::HelpfulCopingStrategies))
                    .col(string_len_null(CheckIns::Note, 2000))
                    .col(timestamp_with_time_zone(CheckIns::SubmittedAt))
                    // The day it belongs to, in the patient's time zone.
                    .col(date(CheckIns::LocalDate))
                    .col(timestamp_with_time_zone(CheckIns::CreatedAt))
                    .col(timestamp_with_time_zone(CheckIns::UpdatedAt))
                    .foreign_key(&mut fk(
                        CheckIns::Table,
                        CheckIns::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        CheckIns::Table,
                        CheckIns::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .check(score_0_10(CheckIns::PainScore))
                    .check(score_0_10(CheckIns::PegPain))
                    .check(score_0_10(CheckIns::PegEnjoyment))
                    .check(score_0_10(CheckIns::PegActivity))
                    .check(score_0_10(CheckIns::CravingScore))
                    .check(
                        Expr::col(CheckIns::Mood)
                            .is_null()
                            .or(Expr::col(CheckIns::Mood).between(1, 5)),
                    )
                    .check(
                        Expr::col(CheckIns::SleepHours)
                            .is_null()
                            .or(Expr::col(CheckIns::SleepHours).between(0, 24)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_check_ins_patient_day",
                CheckIns::Table,
                &[CheckIns::PatientId, CheckIns::LocalDate],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_check_ins_patient_submitted",
                CheckIns::Table,
                &[CheckIns::PatientId, CheckIns::SubmittedAt],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_check_ins_patient_updated",
                CheckIns::Table,
                &[CheckIns::PatientId, CheckIns::UpdatedAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WithdrawalAssessments::Table)
                    .col(pk_uuid(WithdrawalAssessments::Id))
                    .col(uuid(WithdrawalAssessments::OrganizationId))
                    .col(uuid(WithdrawalAssessments::PatientId))
                    .col(string_len(WithdrawalAssessments::Instrument, 8))
                    // JSON array of the item scores, in the published order.
                    .col(string_len(WithdrawalAssessments::Items, 200))
                    .col(integer(WithdrawalAssessments::Total))
                    .col(string_len(WithdrawalAssessments::Severity, 24))
                    .col(uuid(WithdrawalAssessments::AssessedByUserId))
                    .col(timestamp_with_time_zone(WithdrawalAssessments::AssessedAt))
                    .col(date(WithdrawalAssessments::LocalDate))
                    .foreign_key(&mut fk(
                        WithdrawalAssessments::Table,
                        WithdrawalAssessments::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        WithdrawalAssessments::Table,
                        WithdrawalAssessments::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .foreign_key(&mut fk(
                        WithdrawalAssessments::Table,
                        WithdrawalAssessments::AssessedByUserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .check(Expr::col(WithdrawalAssessments::Instrument).is_in(["COWS", "SOWS"]))
                    .check(
                        Expr::col(WithdrawalAssessments::Instrument)
                            .eq("COWS")
                            .and(Expr::col(WithdrawalAssessments::Total).between(0, 48))
                            .or(Expr::col(WithdrawalAssessments::Instrument)
                                .eq("SOWS")
                                .and(Expr::col(WithdrawalAssessments::Total).between(0, 64))),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_assessments_patient_instrument",
                WithdrawalAssessments::Table,
                &[
                    WithdrawalAssessments::PatientId,
                    WithdrawalAssessments::Instrument,
                    WithdrawalAssessments::AssessedAt,
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_assessments_patient_assessed",
                WithdrawalAssessments::Table,
                &[
                    WithdrawalAssessments::PatientId,
                    WithdrawalAssessments::AssessedAt,
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(pk_uuid(Alerts::Id))
                    .col(uuid(Alerts::OrganizationId))
                    .col(uuid(Alerts::PatientId))
                    .col(string_len(Alerts::Kind, 40))
                    .col(string_len(Alerts::Cause, 100))
                    .col(string_len(Alerts::Summary, 500))
                    .col(string_len(Alerts::SuggestedAction, 500))
                    // JSON array of {resource, id, reading}.
                    .col(text(Alerts::Evidence))
                    .col(string_len(Alerts::Status, 16))
                    .col(timestamp_with_time_zone(Alerts::CreatedAt))
                    .col(timestamp_with_time_zone_null(Alerts::AcknowledgedAt))
                    .col(uuid_null(Alerts::AcknowledgedByUserId))
                    .col(timestamp_with_time_zone_null(Alerts::ResolvedAt))
                    .col(uuid_null(Alerts::ResolvedByUserId))
                    .col(string_len_null(Alerts::ResolutionNote, 2000))
                    .foreign_key(&mut fk(
                        Alerts::Table,
                        Alerts::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        Alerts::Table,
                        Alerts::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .check(Expr::col(Alerts::Status).is_in(["OPEN", "ACKNOWLEDGED", "RESOLVED"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_alerts_patient_cause",
                Alerts::Table,
                &[Alerts::PatientId, Alerts::Cause, Alerts::CreatedAt],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_alerts_patient_status",
                Alerts::Table,
                &[Alerts::PatientId, Alerts::Status],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_alerts_org_id",
                Alerts::Table,
                &[Alerts::OrganizationId, Alerts::Id],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Kind, 40))
                    .col(string_len(Notifications::Title, 200))
                    .col(string_len(Notifications::Body, 1000))
                    .col(uuid_null(Notifications::AlertId))
                    .col(uuid_null(Notifications::PatientId))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .foreign_key(&mut fk(
                        Notifications::Table,
                        Notifications::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notifications_user_id",
                Notifications::Table,
                &[Notifications::UserId, Notifications::Id],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_notifications_user_unread",
                Notifications::Table,
                &[Notifications::UserId, Notifications::ReadAt],
            ))
            .await?;
        Ok(())
    }
}
