//! Care and education: treatment programs and patients' enrollments (with
//! every phase change), appointments (with their participants and history,
//! and a lock row per clinician's calendar), clinical notes (append-only;
//! amendments are new rows), recovery plans with every revision, and the
//! organization's education resources, their tags and assignments.

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
enum Programs {
    Table,
    Id,
    OrganizationId,
    Name,
    Modality,
    DurationWeeks,
    Description,
    TherapyKinds,
    GroupSessionsPerWeek,
    FollowUpEveryDays,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Enrollments {
    Table,
    Id,
    OrganizationId,
    PatientId,
    ProgramId,
    Phase,
    StartsOn,
    ExpectedEndOn,
    AftercarePlan,
    DischargeReason,
    DischargedAt,
    EnrolledByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnrollmentEvents {
    Table,
    Id,
    EnrollmentId,
    FromPhase,
    ToPhase,
    Reason,
    AftercarePlan,
    ActorUserId,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum CalendarLocks {
    Table,
    UserId,
    LockedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Appointments {
    Table,
    Id,
    OrganizationId,
    PatientId,
    ClinicianUserId,
    Kind,
    Status,
    StartsAt,
    EndsAt,
    IsVirtual,
    Location,
    MeetingUrl,
    StatusReason,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AppointmentParticipants {
    Table,
    AppointmentId,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum AppointmentEvents {
    Table,
    Id,
    AppointmentId,
    Kind,
    Reason,
    PreviousStartsAt,
    PreviousEndsAt,
    ActorUserId,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClinicalNotes {
    Table,
    Id,
    OrganizationId,
    PatientId,
    AuthorUserId,
    AppointmentId,
    AmendsNoteId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CarePlans {
    Table,
    Id,
    OrganizationId,
    PatientId,
    Triggers,
    CopingStrategies,
    WarningSigns,
    SupportContacts,
    Version,
    UpdatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CarePlanRevisions {
    Table,
    Id,
    PatientId,
    Version,
    Triggers,
    CopingStrategies,
    WarningSigns,
    SupportContacts,
    EditedByUserId,
    EditedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Resources {
    Table,
    Id,
    OrganizationId,
    Title,
    Kind,
    Url,
    Body,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ResourceTags {
    Table,
    ResourceId,
    OrganizationId,
    Tag,
}

#[derive(DeriveIden, Clone, Copy)]
enum ResourceAssignments {
    Table,
    Id,
    OrganizationId,
    ResourceId,
    PatientId,
    AssignedByUserId,
    AssignedAt,
    CompletedAt,
    UpdatedAt,
}

const APPOINTMENT_KINDS: [&str; 8] = [
    "INDIVIDUAL_CBT",
    "INDIVIDUAL_DBT",
    "FAMILY_THERAPY",
    "GROUP_COUNSELING",
    "MEDICAL",
    "FOLLOW_UP",
    "PHYSICAL_THERAPY",
    "COMPLEMENTARY_THERAPY",
];
const PHASES: [&str; 4] = ["INTAKE", "ACTIVE", "AFTERCARE", "DISCHARGED"];

/// A foreign key; rows owned by the referenced record go with it.
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

/// A foreign key to the user who acted: their records keep the user.
fn fk_actor<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
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
        programs(manager).await?;
        enrollments(manager).await?;
        appointments(manager).await?;
        clinical_notes(manager).await?;
        care_plans(manager).await?;
        resources(manager).await?;
        Ok(())
    }
}

async fn programs(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Programs::Table)
                .col(pk_uuid(Programs::Id))
                .col(uuid(Programs::OrganizationId))
                .col(string_len(Programs::Name, 200))
                .col(string_len(Programs::Modality, 24))
                .col(integer(Programs::DurationWeeks))
                .col(text(Programs::Description))
                // Comma-separated appointment kinds the program includes.
                .col(string_len(Programs::TherapyKinds, 400))
                .col(integer_null(Programs::GroupSessionsPerWeek))
                .col(integer_null(Programs::FollowUpEveryDays))
                .col(uuid(Programs::CreatedByUserId))
                .col(timestamp_with_time_zone(Programs::CreatedAt))
                .col(timestamp_with_time_zone(Programs::UpdatedAt))
                .foreign_key(&mut fk(
                    Programs::Table,
                    Programs::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk_actor(Programs::Table, Programs::CreatedByUserId))
                .check(Expr::col(Programs::Modality).is_in([
                    "OUTPATIENT",
                    "INTENSIVE_OUTPATIENT",
                    "INPATIENT",
                ]))
                .check(Expr::col(Programs::DurationWeeks).between(1, 104))
                .check(Expr::col(Programs::GroupSessionsPerWeek).between(0, 21))
                .check(Expr::col(Programs::FollowUpEveryDays).between(1, 365))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            index(
                "uq_programs_org_name",
                Programs::Table,
                &[Programs::OrganizationId, Programs::Name],
            )
            .unique()
            .to_owned(),
        )
        .await
}

async fn enrollments(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Enrollments::Table)
                .col(pk_uuid(Enrollments::Id))
                .col(uuid(Enrollments::OrganizationId))
                .col(uuid(Enrollments::PatientId))
                .col(uuid(Enrollments::ProgramId))
                .col(string_len(Enrollments::Phase, 16))
                .col(date(Enrollments::StartsOn))
                .col(date(Enrollments::ExpectedEndOn))
                .col(text_null(Enrollments::AftercarePlan))
                .col(string_len_null(Enrollments::DischargeReason, 1000))
                .col(timestamp_with_time_zone_null(Enrollments::DischargedAt))
                .col(uuid(Enrollments::EnrolledByUserId))
                .col(timestamp_with_time_zone(Enrollments::CreatedAt))
                .col(timestamp_with_time_zone(Enrollments::UpdatedAt))
                .foreign_key(&mut fk(
                    Enrollments::Table,
                    Enrollments::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    Enrollments::Table,
                    Enrollments::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk(
                    Enrollments::Table,
                    Enrollments::ProgramId,
                    Programs::Table,
                    Programs::Id,
                ))
                .foreign_key(&mut fk_actor(
                    Enrollments::Table,
                    Enrollments::EnrolledByUserId,
                ))
                .check(Expr::col(Enrollments::Phase).is_in(PHASES))
                .check(Expr::col(Enrollments::ExpectedEndOn).gt(Expr::col(Enrollments::StartsOn)))
                // A discharge always says why.
                .check(
                    Expr::col(Enrollments::Phase)
                        .ne("DISCHARGED")
                        .or(Expr::col(Enrollments::DischargeReason).is_not_null()),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_enrollments_patient",
            Enrollments::Table,
            &[Enrollments::PatientId, Enrollments::StartsOn],
        ))
        .await?;
    manager
        .create_index(index(
            "idx_enrollments_program",
            Enrollments::Table,
            &[Enrollments::ProgramId],
        ))
        .await?;
    // One open (not discharged) enrollment per patient and program.
    manager
        .get_connection()
        .execute_unprepared(
            "CREATE UNIQUE INDEX uq_enrollments_open ON enrollments (patient_id, program_id) \
             WHERE phase <> 'DISCHARGED'",
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(EnrollmentEvents::Table)
                .col(pk_uuid(EnrollmentEvents::Id))
                .col(uuid(EnrollmentEvents::EnrollmentId))
                // Null for the enrollment itself.
                .col(string_len_null(EnrollmentEvents::FromPhase, 16))
                .col(string_len(EnrollmentEvents::ToPhase, 16))
                .col(string_len_null(EnrollmentEvents::Reason, 1000))
                .col(text_null(EnrollmentEvents::AftercarePlan))
                .col(uuid(EnrollmentEvents::ActorUserId))
                .col(timestamp_with_time_zone(EnrollmentEvents::At))
                .foreign_key(&mut fk(
                    EnrollmentEvents::Table,
                    EnrollmentEvents::EnrollmentId,
                    Enrollments::Table,
                    Enrollments::Id,
                ))
                .foreign_key(&mut fk_actor(
                    EnrollmentEvents::Table,
                    EnrollmentEvents::ActorUserId,
                ))
                .check(Expr::col(EnrollmentEvents::ToPhase).is_in(PHASES))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_enrollment_events_enrollment",
            EnrollmentEvents::Table,
            &[EnrollmentEvents::EnrollmentId, EnrollmentEvents::At],
        ))
        .await
}

async fn appointments(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // One row per clinician, written first in any transaction that books
    // their time: concurrent bookings of one calendar queue up behind it
    // (a row lock on PostgreSQL, the write lock on SQLite).
    manager
        .create_table(
            Table::create()
                .table(CalendarLocks::Table)
                .col(pk_uuid(CalendarLocks::UserId))
                .col(timestamp_with_time_zone(CalendarLocks::LockedAt))
                .foreign_key(&mut fk(
                    CalendarLocks::Table,
                    CalendarLocks::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(Appointments::Table)
                .col(pk_uuid(Appointments::Id))
                .col(uuid(Appointments::OrganizationId))
                .col(uuid(Appointments::PatientId))
                .col(uuid(Appointments::ClinicianUserId))
                .col(string_len(Appointments::Kind, 32))
                .col(string_len(Appointments::Status, 16))
                .col(timestamp_with_time_zone(Appointments::StartsAt))
                .col(timestamp_with_time_zone(Appointments::EndsAt))
                .col(boolean(Appointments::IsVirtual))
                .col(string_len_null(Appointments::Location, 500))
                .col(string_len_null(Appointments::MeetingUrl, 2000))
                .col(string_len_null(Appointments::StatusReason, 1000))
                .col(uuid(Appointments::CreatedByUserId))
                .col(timestamp_with_time_zone(Appointments::CreatedAt))
                .col(timestamp_with_time_zone(Appointments::UpdatedAt))
                .foreign_key(&mut fk(
                    Appointments::Table,
                    Appointments::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    Appointments::Table,
                    Appointments::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk_actor(
                    Appointments::Table,
                    Appointments::ClinicianUserId,
                ))
                .foreign_key(&mut fk_actor(
                    Appointments::Table,
                    Appointments::CreatedByUserId,
                ))
                .check(Expr::col(Appointments::Kind).is_in(APPOINTMENT_KINDS))
                .check(Expr::col(Appointments::Status).is_in([
                    "SCHEDULED",
                    "COMPLETED",
                    "NO_SHOW",
                    "CANCELLED",
                ]))
                .check(Expr::col(Appointments::EndsAt).gt(Expr::col(Appointments::StartsAt)))
                // Virtual sessions have a link; in-person ones a place.
                .check(
                    Expr::col(Appointments::IsVirtual)
                        .eq(true)
                        .and(Expr::col(Appointments::MeetingUrl).is_not_null())
                        .or(Expr::col(Appointments::IsVirtual)
                            .eq(false)
                            .and(Expr::col(Appointments::Location).is_not_null())),
                )
                .check(
                    Expr::col(Appointments::Status)
                        .ne("CANCELLED")
                        .or(Expr::col(Appointments::StatusReason).is_not_null()),
                )
                .to_owned(),
        )
        .await?;
    // The double-booking check and the clinician's agenda.
    manager
        .create_index(index(
            "idx_appointments_clinician_start",
            Appointments::Table,
            &[Appointments::ClinicianUserId, Appointments::StartsAt],
        ))
        .await?;
    manager
        .create_index(index(
            "idx_appointments_patient_start",
            Appointments::Table,
            &[Appointments::PatientId, Appointments::StartsAt],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(AppointmentParticipants::Table)
                .col(uuid(AppointmentParticipants::AppointmentId))
                .col(uuid(AppointmentParticipants::UserId))
                .primary_key(
                    Index::create()
                        .col(AppointmentParticipants::AppointmentId)
                        .col(AppointmentParticipants::UserId),
                )
                .foreign_key(&mut fk(
                    AppointmentParticipants::Table,
                    AppointmentParticipants::AppointmentId,
                    Appointments::Table,
                    Appointments::Id,
                ))
                .foreign_key(&mut fk(
                    AppointmentParticipants::Table,
                    AppointmentParticipants::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_appointment_participants_user",
            AppointmentParticipants::Table,
            &[AppointmentParticipants::UserId],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(AppointmentEvents::Table)
                .col(pk_uuid(AppointmentEvents::Id))
                .col(uuid(AppointmentEvents::AppointmentId))
                .col(string_len(AppointmentEvents::Kind, 16))
                .col(string_len_null(AppointmentEvents::Reason, 1000))
                .col(timestamp_with_time_zone_null(
                    AppointmentEvents::PreviousStartsAt,
                ))
                .col(timestamp_with_time_zone_null(
                    AppointmentEvents::PreviousEndsAt,
                ))
                .col(uuid(AppointmentEvents::ActorUserId))
                .col(timestamp_with_time_zone(AppointmentEvents::At))
                .foreign_key(&mut fk(
                    AppointmentEvents::Table,
                    AppointmentEvents::AppointmentId,
                    Appointments::Table,
                    Appointments::Id,
                ))
                .foreign_key(&mut fk_actor(
                    AppointmentEvents::Table,
                    AppointmentEvents::ActorUserId,
                ))
                .check(Expr::col(AppointmentEvents::Kind).is_in([
                    "SCHEDULED",
                    "RESCHEDULED",
                    "COMPLETED",
                    "NO_SHOW",
                    "CANCELLED",
                ]))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_appointment_events_appointment",
            AppointmentEvents::Table,
            &[AppointmentEvents::AppointmentId, AppointmentEvents::At],
        ))
        .await
}

async fn clinical_notes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(ClinicalNotes::Table)
                .col(pk_uuid(ClinicalNotes::Id))
                .col(uuid(ClinicalNotes::OrganizationId))
                .col(uuid(ClinicalNotes::PatientId))
                .col(uuid(ClinicalNotes::AuthorUserId))
                .col(uuid_null(ClinicalNotes::AppointmentId))
                .col(uuid_null(ClinicalNotes::AmendsNoteId))
                .col(text(ClinicalNotes::Body))
                .col(timestamp_with_time_zone(ClinicalNotes::CreatedAt))
                .foreign_key(&mut fk(
                    ClinicalNotes::Table,
                    ClinicalNotes::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    ClinicalNotes::Table,
                    ClinicalNotes::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk_actor(
                    ClinicalNotes::Table,
                    ClinicalNotes::AuthorUserId,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(ClinicalNotes::Table, ClinicalNotes::AppointmentId)
                        .to(Appointments::Table, Appointments::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ClinicalNotes::Table, ClinicalNotes::AmendsNoteId)
                        .to(ClinicalNotes::Table, ClinicalNotes::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_clinical_notes_patient",
            ClinicalNotes::Table,
            &[ClinicalNotes::PatientId, ClinicalNotes::CreatedAt],
        ))
        .await
}

async fn care_plans(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // The four lists are JSON arrays of strings.
    manager
        .create_table(
            Table::create()
                .table(CarePlans::Table)
                .col(pk_uuid(CarePlans::Id))
                .col(uuid(CarePlans::OrganizationId))
                .col(uuid_uniq(CarePlans::PatientId))
                .col(text(CarePlans::Triggers))
                .col(text(CarePlans::CopingStrategies))
                .col(text(CarePlans::WarningSigns))
                .col(text(CarePlans::SupportContacts))
                .col(integer(CarePlans::Version))
                .col(uuid(CarePlans::UpdatedByUserId))
                .col(timestamp_with_time_zone(CarePlans::CreatedAt))
                .col(timestamp_with_time_zone(CarePlans::UpdatedAt))
                .foreign_key(&mut fk(
                    CarePlans::Table,
                    CarePlans::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    CarePlans::Table,
                    CarePlans::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk_actor(CarePlans::Table, CarePlans::UpdatedByUserId))
                .check(Expr::col(CarePlans::Version).gte(1))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(CarePlanRevisions::Table)
                .col(pk_uuid(CarePlanRevisions::Id))
                .col(uuid(CarePlanRevisions::PatientId))
                .col(integer(CarePlanRevisions::Version))
                .col(text(CarePlanRevisions::Triggers))
                .col(text(CarePlanRevisions::CopingStrategies))
                .col(text(CarePlanRevisions::WarningSigns))
                .col(text(CarePlanRevisions::SupportContacts))
                .col(uuid(CarePlanRevisions::EditedByUserId))
                .col(timestamp_with_time_zone(CarePlanRevisions::EditedAt))
                .foreign_key(&mut fk(
                    CarePlanRevisions::Table,
                    CarePlanRevisions::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk_actor(
                    CarePlanRevisions::Table,
                    CarePlanRevisions::EditedByUserId,
                ))
                .check(Expr::col(CarePlanRevisions::Version).gte(1))
                .to_owned(),
        )
        .await?;
    // Two concurrent edits cannot both become version n.
    manager
        .create_index(
            index(
                "uq_care_plan_revisions_version",
                CarePlanRevisions::Table,
                &[CarePlanRevisions::PatientId, CarePlanRevisions::Version],
            )
            .unique()
            .to_owned(),
        )
        .await
}

async fn resources(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Resources::Table)
                .col(pk_uuid(Resources::Id))
                .col(uuid(Resources::OrganizationId))
                .col(string_len(Resources::Title, 200))
                .col(string_len(Resources::Kind, 16))
                .col(string_len_null(Resources::Url, 2000))
                .col(text_null(Resources::Body))
                .col(uuid(Resources::CreatedByUserId))
                .col(timestamp_with_time_zone(Resources::CreatedAt))
                .col(timestamp_with_time_zone(Resources::UpdatedAt))
                .foreign_key(&mut fk(
                    Resources::Table,
                    Resources::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk_actor(Resources::Table, Resources::CreatedByUserId))
                .check(Expr::col(Resources::Kind).is_in(["ARTICLE", "VIDEO", "AUDIO", "LINK"]))
                // Media and links are somewhere; an article may be inline.
                .check(
                    Expr::col(Resources::Kind)
                        .eq("ARTICLE")
                        .or(Expr::col(Resources::Url).is_not_null()),
                )
                .check(
                    Expr::col(Resources::Url)
                        .is_not_null()
                        .or(Expr::col(Resources::Body).is_not_null()),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_resources_org_title",
            Resources::Table,
            &[Resources::OrganizationId, Resources::Title],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(ResourceTags::Table)
                .col(uuid(ResourceTags::ResourceId))
                .col(uuid(ResourceTags::OrganizationId))
                // Lower-case, trimmed.
                .col(string_len(ResourceTags::Tag, 40))
                .primary_key(
                    Index::create()
                        .col(ResourceTags::ResourceId)
                        .col(ResourceTags::Tag),
                )
                .foreign_key(&mut fk(
                    ResourceTags::Table,
                    ResourceTags::ResourceId,
                    Resources::Table,
                    Resources::Id,
                ))
                .foreign_key(&mut fk(
                    ResourceTags::Table,
                    ResourceTags::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .to_owned(),
        )
        .await?;
    // `resources(tag:)`.
    manager
        .create_index(index(
            "idx_resource_tags_org_tag",
            ResourceTags::Table,
            &[
                ResourceTags::OrganizationId,
                ResourceTags::Tag,
                ResourceTags::ResourceId,
            ],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(ResourceAssignments::Table)
                .col(pk_uuid(ResourceAssignments::Id))
                .col(uuid(ResourceAssignments::OrganizationId))
                .col(uuid(ResourceAssignments::ResourceId))
                .col(uuid(ResourceAssignments::PatientId))
                .col(uuid(ResourceAssignments::AssignedByUserId))
                .col(timestamp_with_time_zone(ResourceAssignments::AssignedAt))
                .col(timestamp_with_time_zone_null(
                    ResourceAssignments::CompletedAt,
                ))
                .col(timestamp_with_time_zone(ResourceAssignments::UpdatedAt))
                .foreign_key(&mut fk(
                    ResourceAssignments::Table,
                    ResourceAssignments::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    ResourceAssignments::Table,
                    ResourceAssignments::ResourceId,
                    Resources::Table,
                    Resources::Id,
                ))
                .foreign_key(&mut fk(
                    ResourceAssignments::Table,
                    ResourceAssignments::PatientId,
                    Patients::Table,
                    Patients::Id,
                ))
                .foreign_key(&mut fk_actor(
                    ResourceAssignments::Table,
                    ResourceAssignments::AssignedByUserId,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_resource_assignments_patient",
            ResourceAssignments::Table,
            &[
                ResourceAssignments::PatientId,
                ResourceAssignments::AssignedAt,
            ],
        ))
        .await?;
    // Assigning what is already assigned and not yet done returns that one.
    manager
        .get_connection()
        .execute_unprepared(
            "CREATE UNIQUE INDEX uq_resource_assignments_open ON resource_assignments \
             (resource_id, patient_id) WHERE completed_at IS NULL",
        )
        .await?;
    Ok(())
}
