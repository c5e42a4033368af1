//! Group support: support groups and their members (facilitators and
//! members, with an alias shown to the group), meetings with RSVPs and
//! attendance, confidential posts (one level of replies, reactions, reports,
//! moderation), and patients' recovery goals, which they may share with a
//! group for accountability.

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
enum SupportGroups {
    Table,
    Id,
    OrganizationId,
    Name,
    Kind,
    Description,
    Format,
    Location,
    MeetingUrl,
    Capacity,
    JoinPolicy,
    GroundRules,
    ArchivedAt,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupMembers {
    Table,
    Id,
    GroupId,
    OrganizationId,
    UserId,
    Role,
    Status,
    Alias,
    StatusReason,
    DecidedByUserId,
    JoinedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupMeetings {
    Table,
    Id,
    GroupId,
    SeriesId,
    StartsAt,
    EndsAt,
    Topic,
    CancelledAt,
    CancelReason,
    CreatedByUserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MeetingRsvps {
    Table,
    MeetingId,
    UserId,
    Response,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MeetingAttendance {
    Table,
    MeetingId,
    UserId,
    GroupId,
    Status,
    RecordedByUserId,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupPosts {
    Table,
    Id,
    GroupId,
    AuthorUserId,
    ParentPostId,
    Body,
    Anonymous,
    HiddenAt,
    HiddenByUserId,
    HiddenReason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupPostReactions {
    Table,
    PostId,
    UserId,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupPostReports {
    Table,
    Id,
    PostId,
    ReporterUserId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RecoveryGoals {
    Table,
    Id,
    OrganizationId,
    UserId,
    Title,
    Description,
    TargetOn,
    ProgressPercent,
    Status,
    SharedGroupId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GoalReactions {
    Table,
    GoalId,
    UserId,
    Kind,
    CreatedAt,
}

const REACTIONS: [&str; 5] = ["SUPPORT", "HUG", "STRENGTH", "CELEBRATE", "RELATE"];

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
        groups(manager).await?;
        meetings(manager).await?;
        posts(manager).await?;
        goals(manager).await?;
        Ok(())
    }
}

async fn groups(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(SupportGroups::Table)
                .col(pk_uuid(SupportGroups::Id))
                .col(uuid(SupportGroups::OrganizationId))
                .col(string_len(SupportGroups::Name, 200))
                .col(string_len(SupportGroups::Kind, 24))
                .col(text(SupportGroups::Description))
                .col(string_len(SupportGroups::Format, 16))
                .col(string_len_null(SupportGroups::Location, 500))
                .col(string_len_null(SupportGroups::MeetingUrl, 2000))
                .col(integer_null(SupportGroups::Capacity))
                .col(string_len(SupportGroups::JoinPolicy, 16))
                .col(text_null(SupportGroups::GroundRules))
                .col(timestamp_with_time_zone_null(SupportGroups::ArchivedAt))
                .col(uuid(SupportGroups::CreatedByUserId))
                .col(timestamp_with_time_zone(SupportGroups::CreatedAt))
                .col(timestamp_with_time_zone(SupportGroups::UpdatedAt))
                .foreign_key(&mut fk(
                    SupportGroups::Table,
                    SupportGroups::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk_actor(
                    SupportGroups::Table,
                    SupportGroups::CreatedByUserId,
                ))
                .check(Expr::col(SupportGroups::Kind).is_in([
                    "PEER_SUPPORT",
                    "TAPERING_COHORT",
                    "FAMILY",
                    "THERAPY_GROUP",
                    "MUTUAL_HELP",
                ]))
                .check(Expr::col(SupportGroups::Format).is_in(["IN_PERSON", "VIRTUAL", "HYBRID"]))
                .check(Expr::col(SupportGroups::JoinPolicy).is_in([
                    "OPEN",
                    "APPROVAL",
                    "INVITE_ONLY",
                ]))
                .check(Expr::col(SupportGroups::Capacity).between(1, 1000))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_support_groups_org",
            SupportGroups::Table,
            &[SupportGroups::OrganizationId, SupportGroups::Name],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(GroupMembers::Table)
                .col(pk_uuid(GroupMembers::Id))
                .col(uuid(GroupMembers::GroupId))
                .col(uuid(GroupMembers::OrganizationId))
                .col(uuid(GroupMembers::UserId))
                .col(string_len(GroupMembers::Role, 16))
                .col(string_len(GroupMembers::Status, 16))
                .col(string_len_null(GroupMembers::Alias, 60))
                .col(string_len_null(GroupMembers::StatusReason, 1000))
                .col(uuid_null(GroupMembers::DecidedByUserId))
                .col(timestamp_with_time_zone_null(GroupMembers::JoinedAt))
                .col(timestamp_with_time_zone(GroupMembers::CreatedAt))
                .col(timestamp_with_time_zone(GroupMembers::UpdatedAt))
                .foreign_key(&mut fk(
                    GroupMembers::Table,
                    GroupMembers::GroupId,
                    SupportGroups::Table,
                    SupportGroups::Id,
                ))
                .foreign_key(&mut fk(
                    GroupMembers::Table,
                    GroupMembers::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .check(Expr::col(GroupMembers::Role).is_in(["FACILITATOR", "MEMBER"]))
                .check(
                    Expr::col(GroupMembers::Status).is_in(["PENDING", "ACTIVE", "LEFT", "REMOVED"]),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            index(
                "uq_group_members_group_user",
                GroupMembers::Table,
                &[GroupMembers::GroupId, GroupMembers::UserId],
            )
            .unique()
            .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_group_members_user",
            GroupMembers::Table,
            &[GroupMembers::UserId, GroupMembers::Status],
        ))
        .await?;
    manager
        .create_index(index(
            "idx_group_members_group_status",
            GroupMembers::Table,
            &[
                GroupMembers::GroupId,
                GroupMembers::Status,
                GroupMembers::Role,
            ],
        ))
        .await
}

async fn meetings(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(GroupMeetings::Table)
                .col(pk_uuid(GroupMeetings::Id))
                .col(uuid(GroupMeetings::GroupId))
                // Shared by the meetings of one weekly series.
                .col(uuid_null(GroupMeetings::SeriesId))
                .col(timestamp_with_time_zone(GroupMeetings::StartsAt))
                .col(timestamp_with_time_zone(GroupMeetings::EndsAt))
                .col(string_len_null(GroupMeetings::Topic, 200))
                .col(timestamp_with_time_zone_null(GroupMeetings::CancelledAt))
                .col(string_len_null(GroupMeetings::CancelReason, 1000))
                .col(uuid(GroupMeetings::CreatedByUserId))
                .col(timestamp_with_time_zone(GroupMeetings::CreatedAt))
                .foreign_key(&mut fk(
                    GroupMeetings::Table,
                    GroupMeetings::GroupId,
                    SupportGroups::Table,
                    SupportGroups::Id,
                ))
                .foreign_key(&mut fk_actor(
                    GroupMeetings::Table,
                    GroupMeetings::CreatedByUserId,
                ))
                .check(Expr::col(GroupMeetings::EndsAt).gt(Expr::col(GroupMeetings::StartsAt)))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_group_meetings_group_start",
            GroupMeetings::Table,
            &[GroupMeetings::GroupId, GroupMeetings::StartsAt],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(MeetingRsvps::Table)
                .col(uuid(MeetingRsvps::MeetingId))
                .col(uuid(MeetingRsvps::UserId))
                .col(string_len(MeetingRsvps::Response, 16))
                .col(timestamp_with_time_zone(MeetingRsvps::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(MeetingRsvps::MeetingId)
                        .col(MeetingRsvps::UserId),
                )
                .foreign_key(&mut fk(
                    MeetingRsvps::Table,
                    MeetingRsvps::MeetingId,
                    GroupMeetings::Table,
                    GroupMeetings::Id,
                ))
                .foreign_key(&mut fk(
                    MeetingRsvps::Table,
                    MeetingRsvps::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .check(Expr::col(MeetingRsvps::Response).is_in(["GOING", "MAYBE", "NOT_GOING"]))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(MeetingAttendance::Table)
                .col(uuid(MeetingAttendance::MeetingId))
                .col(uuid(MeetingAttendance::UserId))
                .col(uuid(MeetingAttendance::GroupId))
                .col(string_len(MeetingAttendance::Status, 16))
                .col(uuid(MeetingAttendance::RecordedByUserId))
                .col(timestamp_with_time_zone(MeetingAttendance::RecordedAt))
                .primary_key(
                    Index::create()
                        .col(MeetingAttendance::MeetingId)
                        .col(MeetingAttendance::UserId),
                )
                .foreign_key(&mut fk(
                    MeetingAttendance::Table,
                    MeetingAttendance::MeetingId,
                    GroupMeetings::Table,
                    GroupMeetings::Id,
                ))
                .foreign_key(&mut fk(
                    MeetingAttendance::Table,
                    MeetingAttendance::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(&mut fk_actor(
                    MeetingAttendance::Table,
                    MeetingAttendance::RecordedByUserId,
                ))
                .check(
                    Expr::col(MeetingAttendance::Status).is_in(["ATTENDED", "ABSENT", "EXCUSED"]),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_meeting_attendance_member",
            MeetingAttendance::Table,
            &[MeetingAttendance::UserId, MeetingAttendance::GroupId],
        ))
        .await
}

async fn posts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(GroupPosts::Table)
                .col(pk_uuid(GroupPosts::Id))
                .col(uuid(GroupPosts::GroupId))
                .col(uuid(GroupPosts::AuthorUserId))
                // Replies point at a top-level post (one level deep).
                .col(uuid_null(GroupPosts::ParentPostId))
                .col(text(GroupPosts::Body))
                .col(boolean(GroupPosts::Anonymous))
                .col(timestamp_with_time_zone_null(GroupPosts::HiddenAt))
                .col(uuid_null(GroupPosts::HiddenByUserId))
                .col(string_len_null(GroupPosts::HiddenReason, 1000))
                .col(timestamp_with_time_zone(GroupPosts::CreatedAt))
                .foreign_key(&mut fk(
                    GroupPosts::Table,
                    GroupPosts::GroupId,
                    SupportGroups::Table,
                    SupportGroups::Id,
                ))
                .foreign_key(&mut fk_actor(GroupPosts::Table, GroupPosts::AuthorUserId))
                .foreign_key(&mut fk(
                    GroupPosts::Table,
                    GroupPosts::ParentPostId,
                    GroupPosts::Table,
                    GroupPosts::Id,
                ))
                // A hidden post always says who hid it and why.
                .check(
                    Expr::col(GroupPosts::HiddenAt).is_null().or(Expr::col(
                        GroupPosts::HiddenReason,
                    )
                    .is_not_null()
                    .and(Expr::col(GroupPosts::HiddenByUserId).is_not_null())),
                )
                .to_owned(),
        )
        .await?;
    // The page of a group's threads: top-level posts, newest first.
    manager
        .create_index(index(
            "idx_group_posts_group_parent",
            GroupPosts::Table,
            &[
                GroupPosts::GroupId,
                GroupPosts::ParentPostId,
                GroupPosts::Id,
            ],
        ))
        .await?;
    manager
        .create_index(index(
            "idx_group_posts_parent",
            GroupPosts::Table,
            &[GroupPosts::ParentPostId, GroupPosts::Id],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(GroupPostReactions::Table)
                .col(uuid(GroupPostReactions::PostId))
                .col(uuid(GroupPostReactions::UserId))
                .col(string_len(GroupPostReactions::Kind, 16))
                .col(timestamp_with_time_zone(GroupPostReactions::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(GroupPostReactions::PostId)
                        .col(GroupPostReactions::UserId)
                        .col(GroupPostReactions::Kind),
                )
                .foreign_key(&mut fk(
                    GroupPostReactions::Table,
                    GroupPostReactions::PostId,
                    GroupPosts::Table,
                    GroupPosts::Id,
                ))
                .foreign_key(&mut fk(
                    GroupPostReactions::Table,
                    GroupPostReactions::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .check(Expr::col(GroupPostReactions::Kind).is_in(REACTIONS))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(GroupPostReports::Table)
                .col(pk_uuid(GroupPostReports::Id))
                .col(uuid(GroupPostReports::PostId))
                .col(uuid(GroupPostReports::ReporterUserId))
                .col(string_len(GroupPostReports::Reason, 1000))
                .col(timestamp_with_time_zone(GroupPostReports::CreatedAt))
                .foreign_key(&mut fk(
                    GroupPostReports::Table,
                    GroupPostReports::PostId,
                    GroupPosts::Table,
                    GroupPosts::Id,
                ))
                .foreign_key(&mut fk(
                    GroupPostReports::Table,
                    GroupPostReports::ReporterUserId,
                    Users::Table,
                    Users::Id,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            index(
                "uq_group_post_reports_post_reporter",
                GroupPostReports::Table,
                &[GroupPostReports::PostId, GroupPostReports::ReporterUserId],
            )
            .unique()
            .to_owned(),
        )
        .await
}

async fn goals(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RecoveryGoals::Table)
                .col(pk_uuid(RecoveryGoals::Id))
                .col(uuid(RecoveryGoals::OrganizationId))
                .col(uuid(RecoveryGoals::UserId))
                .col(string_len(RecoveryGoals::Title, 200))
                .col(text_null(RecoveryGoals::Description))
                .col(date_null(RecoveryGoals::TargetOn))
                .col(integer(RecoveryGoals::ProgressPercent))
                .col(string_len(RecoveryGoals::Status, 16))
                .col(uuid_null(RecoveryGoals::SharedGroupId))
                .col(timestamp_with_time_zone(RecoveryGoals::CreatedAt))
                .col(timestamp_with_time_zone(RecoveryGoals::UpdatedAt))
                .foreign_key(&mut fk(
                    RecoveryGoals::Table,
                    RecoveryGoals::OrganizationId,
                    Organizations::Table,
                    Organizations::Id,
                ))
                .foreign_key(&mut fk(
                    RecoveryGoals::Table,
                    RecoveryGoals::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryGoals::Table, RecoveryGoals::SharedGroupId)
                        .to(SupportGroups::Table, SupportGroups::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .check(Expr::col(RecoveryGoals::ProgressPercent).between(0, 100))
                .check(Expr::col(RecoveryGoals::Status).is_in(["ACTIVE", "ACHIEVED", "ABANDONED"]))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "idx_recovery_goals_user",
            RecoveryGoals::Table,
            &[RecoveryGoals::UserId, RecoveryGoals::Id],
        ))
        .await?;
    manager
        .create_index(index(
            "idx_recovery_goals_group",
            RecoveryGoals::Table,
            &[RecoveryGoals::SharedGroupId, RecoveryGoals::Id],
        ))
        .await?;

    manager
        .create_table(
            Table::create()
                .table(GoalReactions::Table)
                .col(uuid(GoalReactions::GoalId))
                .col(uuid(GoalReactions::UserId))
                .col(string_len(GoalReactions::Kind, 16))
                .col(timestamp_with_time_zone(GoalReactions::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(GoalReactions::GoalId)
                        .col(GoalReactions::UserId)
                        .col(GoalReactions::Kind),
                )
                .foreign_key(&mut fk(
                    GoalReactions::Table,
                    GoalReactions::GoalId,
                    RecoveryGoals::Table,
                    RecoveryGoals::Id,
                ))
                .foreign_key(&mut fk(
                    GoalReactions::Table,
                    GoalReactions::UserId,
                    Users::Table,
                    Users::Id,
                ))
                .check(Expr::col(GoalReactions::Kind).is_in(REACTIONS))
                .to_owned(),
        )
        .await
}
