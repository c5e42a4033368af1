//! The pure rules of meetings, posts and goals: weekly recurrence in the
//! facilitator's timezone, the attendance window, history and streak, the
//! range a meeting list may span, goal progress, and the limits on what
//! members write; with the stored vocabularies (attendance, RSVPs,
//! reactions, goal status) the stores read and write. No database, no
//! async. (Group and membership rules: `membership_rules`.)

use std::collections::HashMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::{error::InputError, stored::stored_enum};

/// Posts and replies: 1–5,000 characters.
pub const MAX_POST_CHARS: usize = 5_000;
/// Replies shown under one post.
pub const MAX_REPLIES: u64 = 200;
/// A meeting's topic.
pub const MAX_TOPIC: usize = 200;
/// A weekly series is at most a year of meetings.
pub const MAX_WEEKS: i32 = 52;
/// Attendance may be taken from 15 minutes before a meeting starts ...
pub const ATTENDANCE_OPENS_BEFORE_START: Duration = Duration::minutes(15);
/// ... until 7 days after it ends.
pub const ATTENDANCE_CLOSES_AFTER_END: Duration = Duration::days(7);
/// A meeting list spans at most a year ...
pub const MAX_MEETING_RANGE: Duration = Duration::days(366);
/// ... and by default the next 90 days, from 12 hours ago (a meeting
/// under way is still listed).
pub const DEFAULT_MEETING_RANGE: Duration = Duration::days(90);
pub const MEETINGS_LOOK_BACK: Duration = Duration::hours(12);
/// A meeting list's `from` and `to` lie within ten years of now.
pub const MAX_RANGE_REACH: Duration = Duration::days(10 * 366);
/// A weekly series' last meeting starts at most two years ahead, like
/// any one meeting (`calendar::MAX_AHEAD`).
pub const MAX_SERIES_AHEAD: Duration = crate::calendar::MAX_AHEAD;
/// A goal's title and description.
pub const MAX_GOAL_TITLE: usize = 200;
pub const MAX_GOAL_DESCRIPTION: usize = 2_000;

stored_enum!(
    /// What an attendance record says.
    AttendanceStatus {
        Attended => "ATTENDED",
        Absent => "ABSENT",
        Excused => "EXCUSED",
    }
);

stored_enum!(RsvpResponse {
    Going => "GOING",
    Maybe => "MAYBE",
    NotGoing => "NOT_GOING",
});

stored_enum!(ReactionKind {
    Support => "SUPPORT",
    Hug => "HUG",
    Strength => "STRENGTH",
    Celebrate => "CELEBRATE",
    /// "Me too."
    Relate => "RELATE",
});

stored_enum!(GoalStatus {
    Active => "ACTIVE",
    Achieved => "ACHIEVED",
    Abandoned => "ABANDONED",
});

/// How many reacted one way to a post or goal (its GraphQL fields are in
/// `posts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactionCount {
    pub kind: ReactionKind,
    pub count: i32,
}

/// A meeting held since a member joined, and what was recorded for them
/// (its GraphQL fields are in `meetings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceRecord {
    pub meeting_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub topic: Option<String>,
    /// Null when attendance was not taken.
    pub status: Option<AttendanceStatus>,
}

/// A member's attendance: the meetings held since they joined, newest
/// first, and their streak.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// A meeting that was held (ended, not cancelled), as a history reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMeeting {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub topic: Option<String>,
}

/// A member's history from the meetings their group held (newest first)
/// and what was recorded for them (by meeting): every meeting since they
/// first joined (`member_since`), and any earlier one a facilitator
/// recorded them at (added to the group after the fact).
pub fn history(
    member_since: DateTime<Utc>,
    held: &[&HeldMeeting],
    recorded: &HashMap<Uuid, AttendanceStatus>,
) -> History {
    let records: Vec<AttendanceRecord> = held
        .iter()
        .filter_map(|meeting| {
            let status = recorded.get(&meeting.id).copied();
            (meeting.ends_at >= member_since || status.is_some()).then(|| AttendanceRecord {
                meeting_id: meeting.id,
                starts_at: meeting.starts_at,
                ends_at: meeting.ends_at,
                topic: meeting.topic.clone(),
                status,
            })
        })
        .collect();
    let statuses: Vec<Option<AttendanceStatus>> = records.iter().map(|r| r.status).collect();
    History {
        streak: attendance_streak(&statuses),
        records,
    }
}

/// The span of a meeting list: `from` defaults to 12 hours ago, `to` to 90
/// days after `from`; `to` after `from`, at most a year apart, both
/// within ten years of now.
pub fn meeting_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), InputError> {
    for (name, at) in [("from", from), ("to", to)] {
        if at.is_some_and(|at| at < now - MAX_RANGE_REACH || at > now + MAX_RANGE_REACH) {
            return Err(InputError::new(
                name,
                format!("{name} must be within ten years of now"),
            ));
        }
    }
    let from = from.unwrap_or(now - MEETINGS_LOOK_BACK);
    let to = to.unwrap_or(from + DEFAULT_MEETING_RANGE);
    if to <= from {
        return Err(InputError::new("to", "to must be after from"));
    }
    if to - from > MAX_MEETING_RANGE {
        return Err(InputError::new("to", "at most a year of meetings at once"));
    }
    Ok((from, to))
}

/// A goal's status after its owner records `percent` (0–100): the status
/// they chose, else achieved at 100, else as it was.
pub fn goal_progress(
    percent: i32,
    chosen: Option<GoalStatus>,
    current: GoalStatus,
) -> Result<GoalStatus, InputError> {
    if !(0..=100).contains(&percent) {
        return Err(InputError::new(
            "progressPercent",
            "progressPercent must be from 0 to 100",
        ));
    }
    Ok(chosen.unwrap_or(if percent == 100 {
        GoalStatus::Achieved
    } else {
        current
    }))
}

/// The meetings of a weekly series: the first at `starts_at`, then every 7
/// days at the same wall-clock time in `zone` (so a 7 pm meeting stays at
/// 7 pm across a daylight-saving change), each lasting as long as the first.
/// A wall time that does not exist on a spring-forward day moves an hour
/// later; an ambiguous one takes the earlier instant.
pub fn weekly_occurrences(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    zone: Tz,
    weeks: u32,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let length = ends_at - starts_at;
    let local_start: NaiveDateTime = starts_at.with_timezone(&zone).naive_local();
    (0..weeks.max(1))
        .map(|week| {
            let wall = local_start + Duration::days(7 * i64::from(week));
            let start = resolve(zone, wall);
            (start, start + length)
        })
        .collect()
}

fn resolve(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => resolve(zone, wall + Duration::hours(1)),
    }
}

/// Whether attendance for a meeting may be recorded at `now`.
pub fn attendance_window_open(
    now: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> bool {
    now >= starts_at - ATTENDANCE_OPENS_BEFORE_START && now <= ends_at + ATTENDANCE_CLOSES_AFTER_END
}

/// A series whose last meeting starts at `last` (see `MAX_SERIES_AHEAD`).
pub fn series_within(last: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), InputError> {
    if last > now + MAX_SERIES_AHEAD {
        return Err(InputError::new(
            "weeks",
            "a series may not run more than two years ahead",
        ));
    }
    Ok(())
}

/// Consecutive meetings attended, counting back from the most recent
/// recorded one. `records` is newest first, one per held meeting: an
/// absence ends the streak; an excused meeting neither counts nor breaks
/// it; a meeting without a record (attendance not taken) is skipped, so a
/// facilitator's oversight never costs a member their streak.
pub fn attendance_streak(records: &[Option<AttendanceStatus>]) -> u32 {
    let mut streak = 0;
    for record in records {
        match record {
            Some(AttendanceStatus::Attended) => streak += 1,
            Some(AttendanceStatus::Absent) => break,
            Some(AttendanceStatus::Excused) | None => {}
        }
    }
    streak
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttendanceStatus::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekly_meetings_keep_their_wall_clock_time_across_daylight_saving() {
        // 7 pm in Chicago on 2026-10-27 (CDT, UTC-5); the US falls back on
        // 2026-11-01, so the next meetings are at 7 pm CST (UTC-6).
        let start = utc("2026-10-28T00:00:00Z");
        let end = utc("2026-10-28T01:30:00Z");
        let series = weekly_occurrences(start, end, chrono_tz::America::Chicago, 3);
        let starts: Vec<String> = series.iter().map(|(s, _)| s.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2026-10-28T00:00:00+00:00",
                "2026-11-04T01:00:00+00:00",
                "2026-11-11T01:00:00+00:00",
            ]
        );
        assert!(series.iter().all(|(s, e)| *e - *s == Duration::minutes(90)));
    }

    #[test]
    fn a_wall_time_skipped_by_spring_forward_moves_an_hour_later() {
        // 2:30 am Chicago does not exist on 2027-03-14.
        let start = utc("2027-03-07T08:30:00Z"); // 2:30 am CST
        let series = weekly_occurrences(
            start,
            start + Duration::hours(1),
            chrono_tz::America::Chicago,
            2,
        );
        assert_eq!(series[1].0, utc("2027-03-14T08:30:00Z")); // 3:30 am CDT
    }

    #[test]
    fn one_week_is_the_meeting_itself() {
        let start = utc("2026-12-01T18:00:00Z");
        let end = utc("2026-12-01T19:00:00Z");
        assert_eq!(
            weekly_occurrences(start, end, chrono_tz::UTC, 1),
            vec![(start, end)]
        );
    }

    #[test]
    fn the_attendance_window_runs_from_15_minutes_before_to_7_days_after() {
        let start = utc("2026-12-01T18:00:00Z");
        let end = utc("2026-12-01T19:00:00Z");
        let cases = [
            ("2026-12-01T17:44:59Z", false),
            ("2026-12-01T17:45:00Z", true),
            ("2026-12-01T18:30:00Z", true),
            ("2026-12-08T19:00:00Z", true),
            ("2026-12-08T19:00:01Z", false),
        ];
        for (now, open) in cases {
            assert_eq!(attendance_window_open(utc(now), start, end), open, "{now}");
        }
    }

    #[test]
    fn the_streak_counts_back_until_an_absence() {
        let cases: [(&[Option<AttendanceStatus>], u32); 7] = [
            (&[], 0),
            (&[Some(Attended)], 1),
            (
                &[Some(Attended), Some(Attended), Some(Absent), Some(Attended)],
                2,
            ),
            (&[Some(Absent), Some(Attended)], 0),
            (&[Some(Attended), Some(Excused), Some(Attended)], 2),
            (&[None, Some(Attended), None, Some(Attended)], 2),
            (&[Some(Excused)], 0),
        ];
        for (records, streak) in cases {
            assert_eq!(attendance_streak(records), streak, "{records:?}");
        }
    }

    #[test]
    fn a_history_counts_meetings_since_joining_and_earlier_recorded_ones() {
        let meeting = |day: &str| HeldMeeting {
            id: Uuid::now_v7(),
            starts_at: utc(&format!("2026-12-{day}T18:00:00Z")),
            ends_at: utc(&format!("2026-12-{day}T19:00:00Z")),
            topic: None,
        };
        let (late, mid, early) = (meeting("15"), meeting("08"), meeting("01"));
        let joined = utc("2026-12-05T00:00:00Z");
        let recorded = HashMap::from([(late.id, Attended), (early.id, Attended)]);
        let seen = history(joined, &[&late, &mid, &early], &recorded);
        let ids: Vec<Uuid> = seen.records.iter().map(|r| r.meeting_id).collect();
        // The early meeting counts (they were recorded there); the one
        // since joining without a record is shown, and skipped by the streak.
        assert_eq!(ids, [late.id, mid.id, early.id]);
        assert_eq!(seen.records[1].status, None);
        assert_eq!((seen.streak, seen.attended()), (2, 2));
        // A meeting before they joined, without a record, is not theirs.
        let unrecorded = history(joined, &[&early], &HashMap::new());
        assert!(unrecorded.records.is_empty());
    }

    #[test]
    fn list_bounds_and_series_stay_near_now() {
        let now = utc("2026-12-01T00:00:00Z");
        let far = now + MAX_RANGE_REACH + Duration::days(1);
        let field = |r: Result<_, InputError>| r.map(|_| ()).map_err(|e| e.field);
        assert_eq!(field(meeting_range(Some(far), None, now)), Err("from"));
        assert_eq!(field(meeting_range(None, Some(far), now)), Err("to"));
        let long_ago = now - MAX_RANGE_REACH - Duration::days(1);
        assert_eq!(field(meeting_range(Some(long_ago), None, now)), Err("from"));
        assert!(series_within(now + MAX_SERIES_AHEAD, now).is_ok());
        let past = series_within(now + MAX_SERIES_AHEAD + Duration::days(1), now);
        assert_eq!(past.map_err(|e| e.field), Err("weeks"));
    }

    #[test]
    fn a_meeting_list_spans_at_most_a_year() {
        let now = utc("2026-12-01T12:00:00Z");
        assert_eq!(
            meeting_range(None, None, now),
            Ok((
                utc("2026-12-01T00:00:00Z"),
                utc("2026-12-01T00:00:00Z") + Duration::days(90)
            ))
        );
        let field = |r: Result<_, InputError>| r.map(|_| ()).map_err(|e| e.field);
        assert_eq!(field(meeting_range(Some(now), Some(now), now)), Err("to"));
        let far = now + Duration::days(367);
        assert_eq!(field(meeting_range(Some(now), Some(far), now)), Err("to"));
        let year = now + Duration::days(366);
        assert_eq!(field(meeting_range(Some(now), Some(year), now)), Ok(()));
    }

    #[test]
    fn full_progress_achieves_a_goal_unless_told_otherwise() {
        use GoalStatus::*;
        assert_eq!(goal_progress(100, None, Active), Ok(Achieved));
        assert_eq!(goal_progress(40, None, Active), Ok(Active));
        assert_eq!(goal_progress(100, Some(Abandoned), Active), Ok(Abandoned));
        assert_eq!(
            goal_progress(101, None, Active).map_err(|e| e.field),
            Err("progressPercent")
        );
    }
}
