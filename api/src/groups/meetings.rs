//! Group meetings: one-off or weekly (recurrence in the facilitator's
//! timezone), cancellation, RSVPs by members, attendance by facilitators
//! within its window, and the attendance records a membership shows.

use std::collections::HashMap;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use entity::group_meetings;

use super::{
    groups::SupportGroup,
    meeting_store,
    membership_rules::not_archived,
    membership_store::{Shown, people_in_group},
    rules::{self, AttendanceRecord, AttendanceStatus, MAX_TOPIC, MAX_WEEKS, RsvpResponse},
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    authz::groups::{GROUP, GroupNeed},
    calendar,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation::{self, REASON_MAX, optional_text},
};

/// Meetings as the audit trail and `NOT_FOUND` messages name them.
pub const MEETING: Kind = Kind::new("Meeting", "meeting");

pub const SCHEDULE: Action = MEETING.action("group.meeting.schedule");
pub const CANCEL: Action = MEETING.action("group.meeting.cancel");
pub const RSVP: Action = MEETING.action("group.meeting.rsvp");
pub const RECORD_ATTENDANCE: Action = MEETING.action("group.attendance.record");
/// Who RSVPed and who came is about people: reading meetings is audited.
pub const MEETINGS_READ: Action = GROUP.action("group.meetings.read");

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

/// A meeting held since a member joined, and what was recorded for them.
#[Object]
impl AttendanceRecord {
    async fn meeting_id(&self) -> Uuid {
        self.meeting_id
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }
    async fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }
    /// Null when attendance was not taken.
    async fn status(&self) -> Option<AttendanceStatus> {
        self.status
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
            .ok_or_else(|| ApiError::forbidden("only facilitators see attendance").into())
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
        Ok(schedule(&ctx.caller().await?, input).await?)
    }

    /// A facilitator cancels a meeting that has not ended.
    async fn cancel_meeting(
        &self,
        ctx: &Context<'_>,
        input: CancelMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        Ok(MeetingPayload {
            meeting: cancel(&ctx.caller().await?, input).await?,
        })
    }

    /// A member answers whether they will come (again: the answer changes).
    async fn rsvp_meeting(
        &self,
        ctx: &Context<'_>,
        input: RsvpMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        Ok(MeetingPayload {
            meeting: rsvp(&ctx.caller().await?, input).await?,
        })
    }

    /// A facilitator records whether a member came, from 15 minutes before
    /// the start until 7 days after the end (again: the record changes).
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        input: RecordAttendanceInput,
    ) -> async_graphql::Result<RecordAttendancePayload> {
        record_attendance(&ctx.caller().await?, input).await?;
        Ok(RecordAttendancePayload { ok: true })
    }
}

/// Meetings with what the viewer may see of them, in a constant number of
/// queries whatever their number.
async fn hydrate(
    caller: &Caller,
    group: &SupportGroup,
    rows: Vec<group_meetings::Model>,
) -> ApiResult<Vec<Meeting>> {
    let db = caller.db();
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut counts: HashMap<Uuid, RsvpCounts> = HashMap::new();
    let mut mine: HashMap<Uuid, RsvpResponse> = HashMap::new();
    for answer in meeting_store::rsvps(db, &ids).await? {
        let response = RsvpResponse::from_row(&answer.response)?;
        let count = counts.entry(answer.meeting_id).or_default();
        match response {
            RsvpResponse::Going => count.going += 1,
            RsvpResponse::Maybe => count.maybe += 1,
            RsvpResponse::NotGoing => count.not_going += 1,
        }
        if answer.user_id == caller.user_id() {
            mine.insert(answer.meeting_id, response);
        }
    }
    let mut attendance = if group.standing.is_facilitator() && !ids.is_empty() {
        Some(attendance_of(caller, group, &ids).await?)
    } else {
        None
    };
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

/// Who came to each of a set of meetings (for facilitators).
async fn attendance_of(
    caller: &Caller,
    group: &SupportGroup,
    meetings: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<AttendanceEntry>>> {
    let recorded = meeting_store::attendance(caller.db(), meetings).await?;
    let mut people: Vec<Uuid> = recorded.iter().map(|r| r.user_id).collect();
    people.sort();
    people.dedup();
    let people = people_in_group(caller.db(), group.model.id, &people).await?;
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
    Ok(by_meeting)
}

/// `SupportGroup.meetings`.
pub async fn of_group(
    caller: &Caller,
    group: &SupportGroup,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    include_cancelled: bool,
) -> ApiResult<Vec<Meeting>> {
    group.gate(caller, GroupNeed::Content, MEETINGS_READ)?;
    let range = rules::meeting_range(from, to, Utc::now())?;
    let rows =
        meeting_store::in_range(caller.db(), group.model.id, range, include_cancelled).await?;
    hydrate(caller, group, rows).await
}

/// A meeting and its group, if the caller has `need` in the group.
/// Meetings are the group's content: unknown to anyone who can't read it.
async fn meeting_for(
    caller: &Caller,
    meeting_id: Uuid,
    need: GroupNeed,
    action: Action,
) -> ApiResult<(group_meetings::Model, SupportGroup)> {
    let meeting = meeting_store::find(caller.db(), meeting_id).await?;
    SupportGroup::reach(
        caller,
        meeting_id,
        meeting,
        |m| Some(m.group_id),
        need,
        action,
    )
    .await
}

async fn one(
    caller: &Caller,
    group: &SupportGroup,
    meeting: group_meetings::Model,
) -> ApiResult<Meeting> {
    hydrate(caller, group, vec![meeting])
        .await?
        .pop()
        .ok_or(ApiError::NotFound(MEETING.noun))
}

async fn schedule(
    caller: &Caller,
    input: ScheduleMeetingInput,
) -> ApiResult<ScheduleMeetingPayload> {
    let access = caller
        .group(input.group_id, GroupNeed::Facilitate, SCHEDULE)
        .await?;
    let now = Utc::now();
    let slot = calendar::Slot::new(calendar::MEETING, input.starts_at, input.ends_at, now)?;
    let weeks = validation::optional_in_range("weeks", input.weeks, 1..=MAX_WEEKS)?.unwrap_or(1);
    let topic = optional_text("topic", input.topic.as_deref(), MAX_TOPIC)?;
    not_archived(access.group.archived_at.is_some())?;
    let zone: Tz = meeting_store::timezone(caller.db(), caller.user_id())
        .await?
        .parse()
        .unwrap_or(chrono_tz::UTC);
    let series_id = (weeks > 1).then(Uuid::now_v7);
    let rows: Vec<group_meetings::Model> =
        rules::weekly_occurrences(slot.starts_at, slot.ends_at, zone, weeks as u32)
            .into_iter()
            .map(|(starts_at, ends_at)| group_meetings::Model {
                id: Uuid::now_v7(),
                group_id: access.group.id,
                series_id,
                starts_at,
                ends_at,
                topic: topic.clone(),
                cancelled_at: None,
                cancel_reason: None,
                created_by_user_id: caller.user_id(),
                created_at: now,
            })
            .collect();
    let first = rows.first().ok_or(ApiError::NotFound(MEETING.noun))?;
    if let Some(last) = rows.last() {
        rules::series_within(last.starts_at, now)?;
    }
    let done = caller.event(SCHEDULE).resource(first.id);
    meeting_store::schedule(caller, &rows, done).await?;
    let meetings = hydrate(caller, &SupportGroup::reached(access), rows).await?;
    let meeting = meetings
        .first()
        .cloned()
        .ok_or(ApiError::NotFound(MEETING.noun))?;
    Ok(ScheduleMeetingPayload { meeting, meetings })
}

async fn cancel(caller: &Caller, input: CancelMeetingInput) -> ApiResult<Meeting> {
    let reason = validation::text("reason", &input.reason, REASON_MAX)?;
    let (mut meeting, group) =
        meeting_for(caller, input.meeting_id, GroupNeed::Facilitate, CANCEL).await?;
    if meeting.cancelled_at.is_none() {
        let now = Utc::now();
        if meeting.ends_at <= now {
            return Err(ApiError::conflict("the meeting has already ended"));
        }
        let done = caller.event(CANCEL).resource(meeting.id);
        meeting_store::cancel(caller, meeting.id, &reason, now, done).await?;
        meeting.cancelled_at = Some(now);
        meeting.cancel_reason = Some(reason);
    }
    one(caller, &group, meeting).await
}

async fn rsvp(caller: &Caller, input: RsvpMeetingInput) -> ApiResult<Meeting> {
    let (meeting, group) = meeting_for(caller, input.meeting_id, GroupNeed::Content, RSVP).await?;
    if meeting.cancelled_at.is_some() {
        return Err(ApiError::conflict("the meeting was cancelled"));
    }
    if meeting.ends_at <= Utc::now() {
        return Err(ApiError::conflict("the meeting has already ended"));
    }
    meeting_store::rsvp(caller, meeting.id, input.response).await?;
    one(caller, &group, meeting).await
}

async fn record_attendance(caller: &Caller, input: RecordAttendanceInput) -> ApiResult<()> {
    let (meeting, group) = meeting_for(
        caller,
        input.meeting_id,
        GroupNeed::Facilitate,
        RECORD_ATTENDANCE,
    )
    .await?;
    if meeting.cancelled_at.is_some() {
        return Err(ApiError::conflict("the meeting was cancelled"));
    }
    if !rules::attendance_window_open(Utc::now(), meeting.starts_at, meeting.ends_at) {
        return Err(ApiError::conflict(
            "attendance can be recorded from 15 minutes before the meeting until 7 days after it ends",
        ));
    }
    if !meeting_store::attendee(caller.db(), group.model.id, input.user_id).await? {
        return Err(ApiError::bad_input(
            "userId",
            "userId is not a member of this group",
        ));
    }
    let done = caller.event(RECORD_ATTENDANCE).resource(meeting.id);
    meeting_store::record_attendance(caller, &meeting, input.user_id, input.status, done).await
}
