//! Tapering: the medication catalog (CDC 2022 MME factors, dispensable
//! strengths), a patient's medication orders and naloxone offers, taper
//! plans with their steps and lifecycle events, dose logs, and the
//! idempotency keys that make retried writes from phones safe.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::ConnectionTrait};

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
enum Medications {
    Table,
    Id,
    Name,
    Kind,
    Unit,
    MmeFactor,
    ConversionTable,
    Strengths,
    Rxnorm,
}

#[derive(DeriveIden, Clone, Copy)]
enum MedicationOrders {
    Table,
    Id,
    OrganizationId,
    PatientId,
    MedicationId,
    Dose,
    DosesPerDay,
    PrescriberUserId,
    StartsOn,
    EndsOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum NaloxoneOffers {
    Table,
    Id,
    PatientId,
    OfferedByUserId,
    OfferedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaperPlans {
    Table,
    Id,
    OrganizationId,
    PatientId,
    MedicationId,
    Status,
    Preset,
    Version,
    StartingDailyDose,
    TargetDailyDose,
    ReductionPercent,
    StepDays,
    FollowUpEveryDays,
    StartsOn,
    Warnings,
    PatientAgreedAt,
    PausedOn,
    SupersedesPlanId,
    SupersededByPlanId,
    SupersededReason,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaperSteps {
    Table,
    Id,
    PlanId,
    StepIndex,
    StartsOn,
    EndsOn,
    DailyDose,
    DailyMme,
}

#[derive(DeriveIden, Clone, Copy)]
enum TaperPlanEvents {
    Table,
    Id,
    PlanId,
    Kind,
    ActorUserId,
    Reason,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum DoseLogs {
    Table,
    Id,
    OrganizationId,
    PatientId,
    MedicationId,
    Amount,
    TakenAt,
    TakenOn,
    Note,
    OverSchedule,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    UserId,
    Operation,
    Key,
    RequestHash,
    ResourceId,
    CreatedAt,
}

/// One catalog row: name, kind, unit, CDC 2022 factor, strengths, RxNorm.
type CatalogRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<f64>,
    &'static str,
    Option<&'static str>,
);

/// CLINICAL.md: CDC 2022 factors (MMWR Recomm Rep 71(3), p. 42) and common
/// US dispensable strengths. Buprenorphine (MOUD) and naloxone have none.
const CATALOG: [CatalogRow; 12] = [
    (
        "codeine",
        "OPIOID",
        "mg",
        Some(0.15),
        "15,30,60",
        Some("2670"),
    ),
    (
        "fentanyl transdermal",
        "OPIOID",
        "mcg/hr",
        Some(2.4),
        "12,25,50,75,100",
        Some("4337"),
    ),
    (
        "hydrocodone",
        "OPIOID",
        "mg",
        Some(1.0),
        "5,7.5,10",
        Some("5489"),
    ),
    (
        "hydromorphone",
        "OPIOID",
        "mg",
        Some(5.0),
        "2,4,8",
        Some("3423"),
    ),
    ("methadone", "OPIOID", "mg", Some(4.7), "5,10", Some("6813")),
    (
        "morphine",
        "OPIOID",
        "mg",
        Some(1.0),
        "15,30,60,100",
        Some("7052"),
    ),
    (
        "oxycodone",
        "OPIOID",
        "mg",
        Some(1.5),
        "5,10,15,20,30",
        Some("7804"),
    ),
    (
        "oxymorphone",
        "OPIOID",
        "mg",
        Some(3.0),
        "5,10",
        Some("7814"),
    ),
    ("tapentadol", "OPIOID", "mg", Some(0.4), "50,75,100", None),
    ("tramadol", "OPIOID", "mg", Some(0.2), "50", None),
    ("buprenorphine", "MOUD", "mg", None, "2,8", None),
    ("naloxone", "REVERSAL", "mg", None, "4", None),
];

/// Stable ids: the same medication has the same id in every database.
fn medication_id(name: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("stepdown/medication/{name}").as_bytes(),
    )
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Medications::Table)
                    .col(pk_uuid(Medications::Id))
                    .col(string_len_uniq(Medications::Name, 100))
                    .col(string_len(Medications::Kind, 16))
                    .col(string_len(Medications::Unit, 16))
                    .col(double_null(Medications::MmeFactor))
                    .col(string_len_null(Medications::ConversionTable, 16))
                    // Comma-separated, ascending.
                    .col(string_len(Medications::Strengths, 200))
                    .col(string_len_null(Medications::Rxnorm, 16))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table(Medications::Table).columns([
            Medications::Id,
            Medications::Name,
            Medications::Kind,
            Medications::Unit,
            Medications::MmeFactor,
            Medications::ConversionTable,
            Medications::Strengths,
            Medications::Rxnorm,
        ]);
        for (name, kind, unit, factor, strengths, rxnorm) in CATALOG {
            insert.values_panic([
                medication_id(name).into(),
                name.into(),
                kind.into(),
                unit.into(),
                factor.into(),
                factor.map(|_| "CDC_2022").into(),
                strengths.into(),
                rxnorm.into(),
            ]);
        }
        manager.exec_stmt(insert).await?;

        manager
            .create_table(
                Table::create()
                    .table(MedicationOrders::Table)
                    .col(pk_uuid(MedicationOrders::Id))
                    .col(uuid(MedicationOrders::OrganizationId))
                    .col(uuid(MedicationOrders::PatientId))
                    .col(uuid(MedicationOrders::MedicationId))
                    .col(double(MedicationOrders::Dose))
                    .col(integer(MedicationOrders::DosesPerDay))
                    .col(uuid(MedicationOrders::PrescriberUserId))
                    .col(date(MedicationOrders::StartsOn))
                    .col(date_null(MedicationOrders::EndsOn))
                    .col(timestamp_with_time_zone(MedicationOrders::CreatedAt))
                    .col(timestamp_with_time_zone(MedicationOrders::UpdatedAt))
                    .foreign_key(&mut fk(
                        MedicationOrders::Table,
                        MedicationOrders::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        MedicationOrders::Table,
                        MedicationOrders::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .foreign_key(&mut fk(
                        MedicationOrders::Table,
                        MedicationOrders::MedicationId,
                        Medications::Table,
                        Medications::Id,
                    ))
                    .foreign_key(&mut fk(
                        MedicationOrders::Table,
                        MedicationOrders::PrescriberUserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .check(Expr::col(MedicationOrders::Dose).gt(0))
                    .check(Expr::col(MedicationOrders::DosesPerDay).between(1, 24))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_medication_orders_patient",
                MedicationOrders::Table,
                &[MedicationOrders::PatientId, MedicationOrders::StartsOn],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NaloxoneOffers::Table)
                    .col(pk_uuid(NaloxoneOffers::Id))
                    .col(uuid(NaloxoneOffers::PatientId))
                    .col(uuid(NaloxoneOffers::OfferedByUserId))
                    .col(timestamp_with_time_zone(NaloxoneOffers::OfferedAt))
                    .foreign_key(&mut fk(
                        NaloxoneOffers::Table,
                        NaloxoneOffers::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .foreign_key(&mut fk(
                        NaloxoneOffers::Table,
                        NaloxoneOffers::OfferedByUserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_naloxone_offers_patient",
                NaloxoneOffers::Table,
                &[NaloxoneOffers::PatientId, NaloxoneOffers::OfferedAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaperPlans::Table)
                    .col(pk_uuid(TaperPlans::Id))
                    .col(uuid(TaperPlans::OrganizationId))
                    .col(uuid(TaperPlans::PatientId))
                    .col(uuid(TaperPlans::MedicationId))
                    .col(string_len(TaperPlans::Status, 16))
                    .col(string_len(TaperPlans::Preset, 16))
                    .col(integer(TaperPlans::Version))
                    .col(double(TaperPlans::StartingDailyDose))
                    .col(double(TaperPlans::TargetDailyDose))
                    .col(double_null(TaperPlans::ReductionPercent))
                    .col(integer_null(TaperPlans::StepDays))
                    .col(integer(TaperPlans::FollowUpEveryDays))
                    .col(date(TaperPlans::StartsOn))
                    // JSON array of {code, message}: what the clinician saw.
                    .col(text(TaperPlans::Warnings))
                    .col(timestamp_with_time_zone_null(TaperPlans::PatientAgreedAt))
                    .col(date_null(TaperPlans::PausedOn))
                    .col(uuid_null(TaperPlans::SupersedesPlanId))
                    .col(uuid_null(TaperPlans::SupersededByPlanId))
                    .col(string_len_null(TaperPlans::SupersededReason, 1000))
                    .col(uuid(TaperPlans::CreatedByUserId))
                    .col(timestamp_with_time_zone(TaperPlans::CreatedAt))
                    .col(timestamp_with_time_zone(TaperPlans::UpdatedAt))
                    .foreign_key(&mut fk(
                        TaperPlans::Table,
                        TaperPlans::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        TaperPlans::Table,
                        TaperPlans::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .foreign_key(&mut fk(
                        TaperPlans::Table,
                        TaperPlans::MedicationId,
                        Medications::Table,
                        Medications::Id,
                    ))
                    .check(Expr::col(TaperPlans::Status).is_in([
                        "DRAFT",
                        "ACTIVE",
                        "PAUSED",
                        "COMPLETED",
                        "CANCELLED",
                    ]))
                    .check(Expr::col(TaperPlans::Preset).is_in([
                        "CDC_LONG_TERM",
                        "CDC_SHORT_TERM",
                        "CUSTOM",
                    ]))
                    .check(Expr::col(TaperPlans::StartingDailyDose).gt(0))
                    .check(Expr::col(TaperPlans::TargetDailyDose).gte(0))
                    .check(Expr::col(TaperPlans::Version).gte(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_taper_plans_patient",
                TaperPlans::Table,
                &[TaperPlans::PatientId, TaperPlans::Status],
            ))
            .await?;
        // One live (active or paused) plan per patient and medication.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_taper_plans_live ON taper_plans (patient_id, medication_id) \
                 WHERE status IN ('ACTIVE', 'PAUSED')",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaperSteps::Table)
                    .col(pk_uuid(TaperSteps::Id))
                    .col(uuid(TaperSteps::PlanId))
                    .col(integer(TaperSteps::StepIndex))
                    .col(date(TaperSteps::StartsOn))
                    .col(date(TaperSteps::EndsOn))
                    .col(double(TaperSteps::DailyDose))
                    .col(double_null(TaperSteps::DailyMme))
                    .foreign_key(&mut fk(
                        TaperSteps::Table,
                        TaperSteps::PlanId,
                        TaperPlans::Table,
                        TaperPlans::Id,
                    ))
                    .check(Expr::col(TaperSteps::DailyDose).gte(0))
                    .check(Expr::col(TaperSteps::EndsOn).gte(Expr::col(TaperSteps::StartsOn)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_taper_steps_plan_index",
                    TaperSteps::Table,
                    &[TaperSteps::PlanId, TaperSteps::StepIndex],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_taper_steps_plan_dates",
                TaperSteps::Table,
                &[TaperSteps::PlanId, TaperSteps::StartsOn, TaperSteps::EndsOn],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TaperPlanEvents::Table)
                    .col(pk_uuid(TaperPlanEvents::Id))
                    .col(uuid(TaperPlanEvents::PlanId))
                    .col(string_len(TaperPlanEvents::Kind, 16))
                    .col(uuid_null(TaperPlanEvents::ActorUserId))
                    .col(string_len_null(TaperPlanEvents::Reason, 1000))
                    .col(timestamp_with_time_zone(TaperPlanEvents::At))
                    .foreign_key(&mut fk(
                        TaperPlanEvents::Table,
                        TaperPlanEvents::PlanId,
                        TaperPlans::Table,
                        TaperPlans::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_taper_plan_events_plan",
                TaperPlanEvents::Table,
                &[TaperPlanEvents::PlanId, TaperPlanEvents::At],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DoseLogs::Table)
                    .col(pk_uuid(DoseLogs::Id))
                    .col(uuid(DoseLogs::OrganizationId))
                    .col(uuid(DoseLogs::PatientId))
                    .col(uuid(DoseLogs::MedicationId))
                    .col(double(DoseLogs::Amount))
                    .col(timestamp_with_time_zone(DoseLogs::TakenAt))
                    // The day it counts for, in the patient's time zone.
                    .col(date(DoseLogs::TakenOn))
                    .col(string_len_null(DoseLogs::Note, 2000))
                    .col(boolean(DoseLogs::OverSchedule).default(false))
                    .col(timestamp_with_time_zone(DoseLogs::CreatedAt))
                    .col(timestamp_with_time_zone(DoseLogs::UpdatedAt))
                    .foreign_key(&mut fk(
                        DoseLogs::Table,
                        DoseLogs::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        DoseLogs::Table,
                        DoseLogs::PatientId,
                        Patients::Table,
                        Patients::Id,
                    ))
                    .foreign_key(&mut fk(
                        DoseLogs::Table,
                        DoseLogs::MedicationId,
                        Medications::Table,
                        Medications::Id,
                    ))
                    .check(Expr::col(DoseLogs::Amount).gt(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_dose_logs_patient_day",
                DoseLogs::Table,
                &[DoseLogs::PatientId, DoseLogs::TakenOn],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_dose_logs_patient_updated",
                DoseLogs::Table,
                &[DoseLogs::PatientId, DoseLogs::UpdatedAt],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Operation, 64))
                    .col(string_len(IdempotencyKeys::Key, 200))
                    // SHA-256 of the request input: same key, other input → CONFLICT.
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid(IdempotencyKeys::ResourceId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Operation)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_idempotency_created",
                IdempotencyKeys::Table,
                &[IdempotencyKeys::CreatedAt],
            ))
            .await?;
        Ok(())
    }
}
