//! Group meetings: one-off or weekly (recurrence in the facilitator's
//! timezone), cancellation, RSVPs by members, attendance by facilitators
//! within its window, and a member's attendance history and streak.

use std::collections::HashMap;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use entity::{group_meetings, group_members, meeting_attendance, meeting_rsvps};

pub use super::rules::AttendanceStatus;

use super::{
    membership::SupportGroup,
    posts::{Shown, people_in_group},
    rules::{self, MAX_WEEKS},
    stored_enum,
};
use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    authz::groups::{ACTIVE, GroupNeed, LEFT, MEMBER, authorize_group, authorize_in_group},
    calendar,
    caller::ContextExt,
    error::{ApiError, ApiResult},
    validation::optional_text,
};

stored_enum!(RsvpResponse {
    Going => "GOING",
    Maybe => "MAYBE",
    NotGoing => "NOT_GOING",
});

/// A meeting of a group, as one viewer may see it.
#[derive(Clone)]
pub struct Meeting {
    model: group_meetings::Model,
    group: SupportGroup,
    my_rsvp: Option<RsvpResponse>,
    rsvps: RsvpCounts,
    /// Filled for facilitators only.
    attendance: Option<Vec<AttendanceEntry>>,
}

#[derive(SimpleObject, Clone, Default)]
pub struct RsvpCounts {
    pub going: i32,
    pub maybe: i32,
    pub not_going: i32,
}

/// One member's attendance at a meeting (facilitators' view).
#[derive(Clone)]
pub struct AttendanceEntry {
    person: Option<Shown>,
    status: AttendanceStatus,
}

#[Object]
impl AttendanceEntry {
    async fn display_name(&self) -> &str {
        self.person.as_ref().map_or("", |p| p.name.as_str())
    }
    async fn status(&self) -> AttendanceStatus {
        self.status
    }
    async fn user(&self) -> Option<User> {
        self.person.as_ref().map(|p| User::new(p.user.clone()))
    }
}

#[Object]
impl Meeting {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.model.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.model.ends_at
    }
    async fn topic(&self) -> Option<&str> {
        self.model.topic.as_deref()
    }
    /// Meetings of one weekly series share this id.
    async fn series_id(&self) -> Option<Uuid> {
        self.model.series_id
    }
    async fn cancelled(&self) -> bool {
        self.model.cancelled_at.is_some()
    }
    async fn cancel_reason(&self) -> Option<&str> {
        self.model.cancel_reason.as_deref()
    }
    async fn group(&self) -> &SupportGroup {
        &self.group
    }
    /// Where it happens in person.
    async fn location(&self) -> Option<&str> {
        self.group.model.location.as_deref()
    }
    /// The link for virtual meetings: members and facilitators only.
    async fn meeting_url(&self) -> Option<&str> {
        if self.group.standing.allows(GroupNeed::Content) {
            self.group.model.meeting_url.as_deref()
        } else {
            None
        }
    }
    /// The caller's answer.
    async fn my_rsvp(&self) -> Option<RsvpResponse> {
        self.my_rsvp
    }
    /// How members answered.
    async fn rsvps(&self) -> &RsvpCounts {
        &self.rsvps
    }
    /// Who came (facilitators).
    async fn attendance(&self) -> async_graphql::Result<&[AttendanceEntry]> {
        self.attendance
            .as_deref()
            .ok_or_else(|| ApiError::Forbidden.into())
    }
}

/// A meeting held since a member joined, and what was recorded for them.
#[derive(SimpleObject)]
pub struct AttendanceRecord {
    pub meeting_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub topic: Option<String>,
    /// Null when attendance was not taken.
    pub status: Option<AttendanceStatus>,
}

pub struct History {
    pub records: Vec<AttendanceRecord>,
    pub streak: u32,
}

impl History {
    pub fn attended(&self) -> u32 {
        self.records
            .iter()
            .filter(|r| r.status == Some(AttendanceStatus::Attended))
            .count() as u32
    }
}

#[derive(InputObject)]
pub struct ScheduleMeetingInput {
    pub group_id: Uuid,
    pub starts_at: DateTime<Utc>,
    /// After `startsAt`, at most 12 hours later.
    pub ends_at: DateTime<Utc>,
    /// Up to 200 characters.
    pub topic: Option<String>,
    /// Repeat weekly for this many weeks in all (1–52; default 1), at the
    /// same local time in the facilitator's timezone.
    pub weeks: Option<i32>,
}

#[derive(SimpleObject)]
pub struct ScheduleMeetingPayload {
    /// The first meeting.
    pub meeting: Meeting,
    /// Every meeting scheduled, in order.
    pub meetings: Vec<Meeting>,
}

#[derive(InputObject)]
pub struct CancelMeetingInput {
    pub meeting_id: Uuid,
    /// 1–1000 characters.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct MeetingPayload {
    pub meeting: Meeting,
}

#[derive(InputObject)]
pub struct RsvpMeetingInput {
    pub meeting_id: Uuid,
    pub response: RsvpResponse,
}

#[derive(InputObject)]
pub struct RecordAttendanceInput {
    pub meeting_id: Uuid,
    pub user_id: Uuid,
    pub status: AttendanceStatus,
}

#[derive(SimpleObject)]
pub struct RecordAttendancePayload {
    pub ok: bool,
}

#[derive(Default)]
pub struct MeetingsMutation;

#[Object]
impl MeetingsMutation {
    /// A facilitator schedules a meeting, or a weekly series of them.
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMeetingInput,
    ) -> async_graphql::Result<ScheduleMeetingPayload> {
        Ok(schedule(ctx, input).await?)
    }

    /// A facilitator cancels a meeting that has not ended.
    async fn cancel_meeting(
        &self,
        ctx: &Context<'_>,
        input: CancelMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        Ok(MeetingPayload {
            meeting: cancel(ctx, input).await?,
        })
    }

    /// A member answers whether they will come (again: the answer changes).
    async fn rsvp_meeting(
        &self,
        ctx: &Context<'_>,
        input: RsvpMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        Ok(MeetingPayload {
            meeting: rsvp(ctx, input).await?,
        })
    }

    /// A facilitator records whether a member came, from 15 minutes before
    /// the start until 7 days after the end (again: the record changes).
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        input: RecordAttendanceInput,
    ) -> async_graphql::Result<RecordAttendancePayload> {
        record_attendance(ctx, input).await?;
        Ok(RecordAttendancePayload { ok: true })
    }
}

/// Meetings with what the viewer may see of them, in a constant number of
/// queries whatever their number.
async fn hydrate(
    ctx: &Context<'_>,
    group: &SupportGroup,
    rows: Vec<group_meetings::Model>,
) -> ApiResult<Vec<Meeting>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut counts: HashMap<Uuid, RsvpCounts> = HashMap::new();
    let mut mine: HashMap<Uuid, RsvpResponse> = HashMap::new();
    if !ids.is_empty() {
        for answer in meeting_rsvps::Entity::find()
            .filter(meeting_rsvps::Column::MeetingId.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            let response = RsvpResponse::from_row(&answer.response)?;
            let count = counts.entry(answer.meeting_id).or_default();
            match response {
                RsvpResponse::Going => count.going += 1,
                RsvpResponse::Maybe => count.maybe += 1,
                RsvpResponse::NotGoing => count.not_going += 1,
            }
            if answer.user_id == principal.user_id {
                mine.insert(answer.meeting_id, response);
            }
        }
    }
    let mut attendance: Option<HashMap<Uuid, Vec<AttendanceEntry>>> = None;
    if group.standing.is_facilitator() && !ids.is_empty() {
        let recorded = meeting_attendance::Entity::find()
            .filter(meeting_attendance::Column::MeetingId.is_in(ids.iter().copied()))
            .order_by_asc(meeting_attendance::Column::RecordedAt)
            .all(db)
            .await?;
        let mut people: Vec<Uuid> = recorded.iter().map(|r| r.user_id).collect();
        people.sort();
        people.dedup();
        let people = people_in_group(db, group.model.id, &people).await?;
        let mut by_meeting: HashMap<Uuid, Vec<AttendanceEntry>> = HashMap::new();
        for record in recorded {
            by_meeting
                .entry(record.meeting_id)
                .or_default()
                .push(AttendanceEntry {
                    person: people.get(&record.user_id).cloned(),
                    status: AttendanceStatus::from_row(&record.status)?,
                });
        }
        attendance = Some(by_meeting);
    }
    Ok(rows
        .into_iter()
        .map(|model| Meeting {
            my_rsvp: mine.get(&model.id).copied(),
            rsvps: counts.remove(&model.id).unwrap_or_default(),
            attendance: attendance
                .as_mut()
                .map(|a| a.remove(&model.id).unwrap_or_default()),
            group: group.clone(),
            model,
        })
        .collect())
}

/// `SupportGroup.meetings`.
pub async fn of_group(
    ctx: &Context<'_>,
    group: &SupportGroup,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    include_cancelled: bool,
) -> ApiResult<Vec<Meeting>> {
    // Who RSVPed and who came is about people: the read is audited.
    group
        .gate(ctx, GroupNeed::Content, "group.meetings.read")
        .await?;
    let from = from.unwrap_or_else(|| Utc::now() - Duration::hours(12));
    let to = to.unwrap_or(from + Duration::days(90));
    if to <= from {
        return Err(ApiError::bad_input("to", "to must be after from"));
    }
    if to - from > Duration::days(366) {
        return Err(ApiError::bad_input(
            "to",
            "at most a year of meetings at once",
        ));
    }
    let mut query = group_meetings::Entity::find()
        .filter(group_meetings::Column::GroupId.eq(group.model.id))
        .filter(group_meetings::Column::EndsAt.gt(from))
        .filter(group_meetings::Column::StartsAt.lt(to));
    if !include_cancelled {
        query = query.filter(group_meetings::Column::CancelledAt.is_null());
    }
    let rows = query
        .order_by_asc(group_meetings::Column::StartsAt)
        .all(ctx.db()?)
        .await?;
    hydrate(ctx, group, rows).await
}

/// A meeting and its group, if the caller has `need` in the group; a
/// meeting of a group whose content the caller cannot read is `NOT_FOUND`.
async fn meeting_for(
    ctx: &Context<'_>,
    meeting_id: Uuid,
    need: GroupNeed,
    action: &'static str,
) -> ApiResult<(group_meetings::Model, SupportGroup)> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let meeting = group_meetings::Entity::find_by_id(meeting_id)
        .one(db)
        .await?;
    let group_id = meeting.as_ref().map_or(Uuid::nil(), |m| m.group_id);
    // Meetings are the group's content: unknown to anyone who can't read it.
    let (group, standing) = authorize_in_group(
        db,
        principal,
        ctx.request_id(),
        group_id,
        GroupNeed::Content,
        need,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("meeting"),
        other => other,
    })?;
    let meeting = meeting.ok_or(ApiError::NotFound("meeting"))?;
    Ok((meeting, SupportGroup::new(group, standing)))
}

async fn one(
    ctx: &Context<'_>,
    group: &SupportGroup,
    meeting: group_meetings::Model,
) -> ApiResult<Meeting> {
    hydrate(ctx, group, vec![meeting])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("meeting"))
}

async fn schedule(
    ctx: &Context<'_>,
    input: ScheduleMeetingInput,
) -> ApiResult<ScheduleMeetingPayload> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.meeting.schedule";
    let (group, standing) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        input.group_id,
        GroupNeed::Facilitate,
        action,
    )
    .await?;
    let now = Utc::now();
    let slot = calendar::Slot::new(calendar::MEETING, input.starts_at, input.ends_at, now)?;
    let weeks =
        crate::validation::optional_in_range("weeks", input.weeks, 1..=MAX_WEEKS)?.unwrap_or(1);
    let topic = optional_text("topic", input.topic.as_deref(), 200)?;
    if group.archived_at.is_some() {
        return Err(ApiError::conflict("the group is archived"));
    }
    let me = entity::users::Entity::find_by_id(principal.user_id)
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let zone: Tz = me.timezone.parse().unwrap_or(chrono_tz::UTC);
    let series_id = (weeks > 1).then(Uuid::now_v7);
    let rows: Vec<group_meetings::Model> =
        rules::weekly_occurrences(slot.starts_at, slot.ends_at, zone, weeks as u32)
            .into_iter()
            .map(|(starts_at, ends_at)| group_meetings::Model {
                id: Uuid::now_v7(),
                group_id: group.id,
                series_id,
                starts_at,
                ends_at,
                topic: topic.clone(),
                cancelled_at: None,
                cancel_reason: None,
                created_by_user_id: principal.user_id,
                created_at: now,
            })
            .collect();
    let txn = db.begin().await?;
    group_meetings::Entity::insert_many(
        rows.iter()
            .cloned()
            .map(group_meetings::ActiveModel::from)
            .collect::<Vec<_>>(),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(principal, action, "Meeting", Some(rows[0].id), None, true),
    )
    .await?;
    txn.commit().await?;
    let group = SupportGroup::new(group, standing);
    let meetings = hydrate(ctx, &group, rows).await?;
    let meeting = meetings
        .first()
        .cloned()
        .ok_or(ApiError::NotFound("meeting"))?;
    Ok(ScheduleMeetingPayload { meeting, meetings })
}

async fn cancel(ctx: &Context<'_>, input: CancelMeetingInput) -> ApiResult<Meeting> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.meeting.cancel";
    let reason = crate::validation::text("reason", &input.reason, 1000)?;
    let (mut meeting, group) =
        meeting_for(ctx, input.meeting_id, GroupNeed::Facilitate, action).await?;
    if meeting.cancelled_at.is_none() {
        let now = Utc::now();
        if meeting.ends_at <= now {
            return Err(ApiError::conflict("the meeting has already ended"));
        }
        group_meetings::Entity::update_many()
            .col_expr(group_meetings::Column::CancelledAt, Expr::value(now))
            .col_expr(
                group_meetings::Column::CancelReason,
                Expr::value(reason.clone()),
            )
            .filter(group_meetings::Column::Id.eq(meeting.id))
            .exec(db)
            .await?;
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(principal, action, "Meeting", Some(meeting.id), None, true),
        )
        .await?;
        meeting.cancelled_at = Some(now);
        meeting.cancel_reason = Some(reason);
    }
    one(ctx, &group, meeting).await
}

async fn rsvp(ctx: &Context<'_>, input: RsvpMeetingInput) -> ApiResult<Meeting> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let (meeting, group) = meeting_for(
        ctx,
        input.meeting_id,
        GroupNeed::Content,
        "group.meeting.rsvp",
    )
    .await?;
    if meeting.cancelled_at.is_some() {
        return Err(ApiError::conflict("the meeting was cancelled"));
    }
    if meeting.ends_at <= Utc::now() {
        return Err(ApiError::conflict("the meeting has already ended"));
    }
    meeting_rsvps::Entity::insert(meeting_rsvps::ActiveModel {
        meeting_id: Set(meeting.id),
        user_id: Set(principal.user_id),
        response: Set(input.response.as_str().to_owned()),
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
    .exec_without_returning(db)
    .await?;
    one(ctx, &group, meeting).await
}

async fn record_attendance(ctx: &Context<'_>, input: RecordAttendanceInput) -> ApiResult<()> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.attendance.record";
    let (meeting, group) =
        meeting_for(ctx, input.meeting_id, GroupNeed::Facilitate, action).await?;
    if meeting.cancelled_at.is_some() {
        return Err(ApiError::conflict("the meeting was cancelled"));
    }
    if !rules::attendance_window_open(Utc::now(), meeting.starts_at, meeting.ends_at) {
        return Err(ApiError::conflict(
            "attendance can be recorded from 15 minutes before the meeting until 7 days after it ends",
        ));
    }
    let member = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group.model.id))
        .filter(group_members::Column::UserId.eq(input.user_id))
        .filter(group_members::Column::Role.eq(MEMBER))
        .filter(group_members::Column::Status.is_in([ACTIVE, LEFT]))
        .one(db)
        .await?;
    if member.is_none() {
        return Err(ApiError::bad_input(
            "userId",
            "userId is not a member of this group",
        ));
    }
    let txn = db.begin().await?;
    meeting_attendance::Entity::insert(meeting_attendance::ActiveModel {
        meeting_id: Set(meeting.id),
        user_id: Set(input.user_id),
        group_id: Set(group.model.id),
        status: Set(input.status.as_str().to_owned()),
        recorded_by_user_id: Set(principal.user_id),
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
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(principal, action, "Meeting", Some(meeting.id), None, true),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A member's attendance: every meeting of the group held (ended, not
/// cancelled) since they first joined — and any earlier one a facilitator
/// recorded them at (added to the group after the fact) — newest first,
/// and their streak.
pub async fn history(
    db: &impl ConnectionTrait,
    member: &group_members::Model,
) -> ApiResult<History> {
    Ok(histories(db, std::slice::from_ref(member))
        .await?
        .remove(&member.id)
        .unwrap_or(History {
            records: Vec::new(),
            streak: 0,
        }))
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
    let held = group_meetings::Entity::find()
        .filter(group_meetings::Column::GroupId.is_in(groups.iter().copied()))
        .filter(group_meetings::Column::CancelledAt.is_null())
        .filter(group_meetings::Column::EndsAt.lte(Utc::now()))
        .order_by_desc(group_meetings::Column::StartsAt)
        .all(db)
        .await?;
    let mut recorded: HashMap<(Uuid, Uuid), AttendanceStatus> = HashMap::new();
    for row in meeting_attendance::Entity::find()
        .filter(meeting_attendance::Column::GroupId.is_in(groups.iter().copied()))
        .filter(meeting_attendance::Column::UserId.is_in(members.iter().map(|m| m.user_id)))
        .all(db)
        .await?
    {
        recorded.insert(
            (row.user_id, row.meeting_id),
            AttendanceStatus::from_row(&row.status)?,
        );
    }
    Ok(members
        .iter()
        .map(|member| {
            let records: Vec<AttendanceRecord> = held
                .iter()
                .filter(|meeting| meeting.group_id == member.group_id)
                .filter_map(|meeting| {
                    let status = recorded.get(&(member.user_id, meeting.id)).copied();
                    (meeting.ends_at >= member.created_at || status.is_some()).then(|| {
                        AttendanceRecord {
                            meeting_id: meeting.id,
                            starts_at: meeting.starts_at,
                            ends_at: meeting.ends_at,
                            topic: meeting.topic.clone(),
                            status,
                        }
                    })
                })
                .collect();
            let statuses: Vec<Option<AttendanceStatus>> =
                records.iter().map(|r| r.status).collect();
            let history = History {
                streak: rules::attendance_streak(&statuses),
                records,
            };
            (member.id, history)
        })
        .collect())
}
