//! Meetings in the database: scheduling and cancelling, RSVPs, attendance,
//! and members' attendance histories (two queries for any number of
//! memberships).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use entity::{group_meetings, group_members, meeting_attendance, meeting_rsvps, users};

use super::rules::{self, AttendanceStatus, HeldMeeting, History, RsvpResponse};
use crate::{
    audit::AuditEvent,
    authz::groups::{ACTIVE, LEFT, MEMBER},
    caller::Caller,
    error::{ApiError, ApiResult},
};

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<group_meetings::Model>> {
    Ok(group_meetings::Entity::find_by_id(id).one(db).await?)
}

/// A group's meetings overlapping `[from, to)`, by start.
pub async fn in_range(
    db: &impl ConnectionTrait,
    group: Uuid,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    include_cancelled: bool,
) -> ApiResult<Vec<group_meetings::Model>> {
    let mut query = group_meetings::Entity::find()
        .filter(group_meetings::Column::GroupId.eq(group))
        .filter(group_meetings::Column::EndsAt.gt(from))
        .filter(group_meetings::Column::StartsAt.lt(to));
    if !include_cancelled {
        query = query.filter(group_meetings::Column::CancelledAt.is_null());
    }
    Ok(query
        .order_by_asc(group_meetings::Column::StartsAt)
        .all(db)
        .await?)
}

/// The answers to a set of meetings.
pub async fn rsvps(
    db: &impl ConnectionTrait,
    meetings: &[Uuid],
) -> ApiResult<Vec<meeting_rsvps::Model>> {
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(meeting_rsvps::Entity::find()
        .filter(meeting_rsvps::Column::MeetingId.is_in(meetings.iter().copied()))
        .all(db)
        .await?)
}

/// What was recorded at a set of meetings, in the order it was recorded.
pub async fn attendance(
    db: &impl ConnectionTrait,
    meetings: &[Uuid],
) -> ApiResult<Vec<meeting_attendance::Model>> {
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(meeting_attendance::Entity::find()
        .filter(meeting_attendance::Column::MeetingId.is_in(meetings.iter().copied()))
        .order_by_asc(meeting_attendance::Column::RecordedAt)
        .all(db)
        .await?)
}

/// The caller's time zone name (weekly series keep their local time).
pub async fn timezone(db: &impl ConnectionTrait, user: Uuid) -> ApiResult<String> {
    Ok(users::Entity::find_by_id(user)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?
        .timezone)
}

/// New meetings, with `done` on the trail.
pub async fn schedule(
    caller: &Caller,
    meetings: &[group_meetings::Model],
    done: AuditEvent,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    group_meetings::Entity::insert_many(
        meetings
            .iter()
            .cloned()
            .map(group_meetings::ActiveModel::from)
            .collect::<Vec<_>>(),
    )
    .exec_without_returning(&txn)
    .await?;
    caller.record(done);
    caller.commit(txn).await
}

/// Cancels a meeting at `now`, with `done` on the trail.
pub async fn cancel(
    caller: &Caller,
    meeting: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    done: AuditEvent,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    group_meetings::Entity::update_many()
        .col_expr(group_meetings::Column::CancelledAt, Expr::value(now))
        .col_expr(
            group_meetings::Column::CancelReason,
            Expr::value(reason.to_owned()),
        )
        .filter(group_meetings::Column::Id.eq(meeting))
        .exec(&txn)
        .await?;
    caller.record(done);
    caller.commit(txn).await
}

/// The caller's answer (replacing an earlier one).
pub async fn rsvp(caller: &Caller, meeting: Uuid, response: RsvpResponse) -> ApiResult<()> {
    let txn = caller.begin().await?;
    meeting_rsvps::Entity::insert(meeting_rsvps::ActiveModel {
        meeting_id: Set(meeting),
        user_id: Set(caller.user_id()),
        response: Set(response.as_str().to_owned()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            meeting_rsvps::Column::MeetingId,
            meeting_rsvps::Column::UserId,
        ])
        .update_columns([
            meeting_rsvps::Column::Response,
            meeting_rsvps::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    caller.commit(txn).await
}

/// Whether `user` is (or was, having left) a member of `group`, so their
/// attendance may be taken.
pub async fn attendee(db: &impl ConnectionTrait, group: Uuid, user: Uuid) -> ApiResult<bool> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::UserId.eq(user))
        .filter(group_members::Column::Role.eq(MEMBER))
        .filter(group_members::Column::Status.is_in([ACTIVE, LEFT]))
        .one(db)
        .await?
        .is_some())
}

/// Records (or corrects) whether `user` came, with `done` on the trail.
pub async fn record_attendance(
    caller: &Caller,
    meeting: &group_meetings::Model,
    user: Uuid,
    status: AttendanceStatus,
    done: AuditEvent,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    meeting_attendance::Entity::insert(meeting_attendance::ActiveModel {
        meeting_id: Set(meeting.id),
        user_id: Set(user),
        group_id: Set(meeting.group_id),
        status: Set(status.as_str().to_owned()),
        recorded_by_user_id: Set(caller.user_id()),
        recorded_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            meeting_attendance::Column::MeetingId,
            meeting_attendance::Column::UserId,
        ])
        .update_columns([
            meeting_attendance::Column::Status,
            meeting_attendance::Column::RecordedByUserId,
            meeting_attendance::Column::RecordedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    caller.record(done);
    caller.commit(txn).await
}

/// A member's attendance (see `rules::history`): every meeting of the
/// group held (ended, not cancelled) since they first joined, and any
/// earlier one they were recorded at; newest first, with their streak.
pub async fn history(
    db: &impl ConnectionTrait,
    member: &group_members::Model,
) -> ApiResult<History> {
    Ok(histories(db, std::slice::from_ref(member))
        .await?
        .remove(&member.id)
        .unwrap_or_default())
}

/// `history` for several memberships (of one group or many), by
/// membership id, in two queries whatever their number.
pub async fn histories(
    db: &impl ConnectionTrait,
    members: &[group_members::Model],
) -> ApiResult<HashMap<Uuid, History>> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let mut groups: Vec<Uuid> = members.iter().map(|m| m.group_id).collect();
    groups.sort();
    groups.dedup();
    let held: Vec<(Uuid, HeldMeeting)> = group_meetings::Entity::find()
        .filter(group_meetings::Column::GroupId.is_in(groups.iter().copied()))
        .filter(group_meetings::Column::CancelledAt.is_null())
        .filter(group_meetings::Column::EndsAt.lte(Utc::now()))
        .order_by_desc(group_meetings::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let held = HeldMeeting {
                id: m.id,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                topic: m.topic,
            };
            (m.group_id, held)
        })
        .collect();
    // By person, then meeting.
    let mut recorded: HashMap<Uuid, HashMap<Uuid, AttendanceStatus>> = HashMap::new();
    for row in meeting_attendance::Entity::find()
        .filter(meeting_attendance::Column::GroupId.is_in(groups.iter().copied()))
        .filter(meeting_attendance::Column::UserId.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
    {
        recorded
            .entry(row.user_id)
            .or_default()
            .insert(row.meeting_id, AttendanceStatus::from_row(&row.status)?);
    }
    let none = HashMap::new();
    Ok(members
        .iter()
        .map(|member| {
            let of_group: Vec<&HeldMeeting> = held
                .iter()
                .filter(|(group, _)| *group == member.group_id)
                .map(|(_, meeting)| meeting)
                .collect();
            let theirs = recorded.get(&member.user_id).unwrap_or(&none);
            (
                member.id,
                rules::history(member.created_at, &of_group, theirs),
            )
        })
        .collect())
}
