//! The demo organization's group life (`stepdown seed-demo`): a hybrid
//! tapering cohort with a weekly meeting, two members, a pending request,
//! a few posts (one anonymous, one reply), a shared goal; and a family group
//! with the demo supporter.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use entity::{group_meetings, group_members, group_posts, recovery_goals, support_groups};

use crate::groups::{
    membership_rules::{JoinPolicy, MeetingFormat, SupportGroupKind},
    rules::{GoalStatus, weekly_occurrences},
};
use crate::{
    authz::groups::{ACTIVE, FACILITATOR, MEMBER, PENDING},
    error::ApiResult,
};

/// Who takes part, by user id.
pub struct DemoCast {
    pub organization_id: Uuid,
    pub facilitator: Uuid,
    /// Active members of the cohort, with their aliases.
    pub members: Vec<(Uuid, &'static str)>,
    /// A request waiting for approval.
    pub pending: Option<Uuid>,
    pub supporter: Uuid,
}

pub async fn seed(db: &impl ConnectionTrait, cast: &DemoCast) -> ApiResult<()> {
    let now = Utc::now();
    let group = |name: &str, kind: SupportGroupKind, format: MeetingFormat, description: &str| {
        support_groups::Model {
            id: Uuid::now_v7(),
            organization_id: cast.organization_id,
            name: name.to_owned(),
            kind: kind.as_str().to_owned(),
            description: description.to_owned(),
            format: format.as_str().to_owned(),
            location: Some("Riverside Clinic, room 2 (ground floor)".to_owned()),
            meeting_url: Some("https://meet.example.org/riverside-tuesday".to_owned()),
            capacity: Some(12),
            join_policy: JoinPolicy::Open.as_str().to_owned(),
            ground_rules: Some(
                "What is shared here stays here. Speak from your own experience. \
             No advice about doses: that is for your care team."
                    .to_owned(),
            ),
            archived_at: None,
            created_by_user_id: cast.facilitator,
            created_at: now,
            updated_at: now,
        }
    };
    let cohort = group(
        "Tuesday tapering circle",
        SupportGroupKind::TaperingCohort,
        MeetingFormat::Hybrid,
        "People tapering at the same time, meeting weekly to share what helps.",
    );
    let family = support_groups::Model {
        join_policy: JoinPolicy::Approval.as_str().to_owned(),
        location: None,
        ..group(
            "Families in recovery",
            SupportGroupKind::Family,
            MeetingFormat::Virtual,
            "For the people who love someone through a taper.",
        )
    };
    support_groups::Entity::insert_many(
        [cohort.clone(), family.clone()].map(support_groups::ActiveModel::from),
    )
    .exec_without_returning(db)
    .await?;

    let member = |group: &support_groups::Model,
                  user: Uuid,
                  role: &str,
                  status: &str,
                  alias: Option<&str>| group_members::Model {
        id: Uuid::now_v7(),
        group_id: group.id,
        organization_id: cast.organization_id,
        user_id: user,
        role: role.to_owned(),
        status: status.to_owned(),
        alias: alias.map(str::to_owned),
        status_reason: None,
        decided_by_user_id: Some(cast.facilitator),
        joined_at: (status == ACTIVE).then_some(now),
        created_at: now - Duration::days(21),
        updated_at: now,
    };
    let mut rows = vec![
        member(&cohort, cast.facilitator, FACILITATOR, ACTIVE, None),
        member(&family, cast.facilitator, FACILITATOR, ACTIVE, None),
        member(&family, cast.supporter, MEMBER, ACTIVE, Some("Morgan")),
    ];
    rows.extend(
        cast.members
            .iter()
            .map(|(user, alias)| member(&cohort, *user, MEMBER, ACTIVE, Some(alias))),
    );
    if let Some(pending) = cast.pending {
        rows.push(member(&cohort, pending, MEMBER, PENDING, Some("C")));
    }
    group_members::Entity::insert_many(rows.into_iter().map(group_members::ActiveModel::from))
        .exec_without_returning(db)
        .await?;

    // Tuesdays 6–7:30 pm in Chicago: two weeks back (for attendance) and
    // eight ahead.
    let zone = chrono_tz::America::Chicago;
    let today = now.with_timezone(&zone).date_naive();
    let back =
        (today.weekday().num_days_from_monday() + 7 - Weekday::Tue.num_days_from_monday()) % 7;
    let first_tuesday = today - Duration::days(i64::from(back) + 14);
    let first = zone
        .from_local_datetime(
            &first_tuesday.and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default()),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let series = Uuid::now_v7();
    let meetings: Vec<group_meetings::ActiveModel> =
        weekly_occurrences(first, first + Duration::minutes(90), zone, 10)
            .into_iter()
            .map(|(starts_at, ends_at)| {
                group_meetings::Model {
                    id: Uuid::now_v7(),
                    group_id: cohort.id,
                    series_id: Some(series),
                    starts_at,
                    ends_at,
                    topic: Some("Check-in round, then one coping skill".to_owned()),
                    cancelled_at: None,
                    cancel_reason: None,
                    created_by_user_id: cast.facilitator,
                    created_at: now,
                }
                .into()
            })
            .collect();
    group_meetings::Entity::insert_many(meetings)
        .exec_without_returning(db)
        .await?;

    if let [(first_member, _), (second_member, _), ..] = cast.members.as_slice() {
        let post =
            |author: Uuid, body: &str, anonymous: bool, parent: Option<Uuid>| group_posts::Model {
                id: Uuid::now_v7(),
                group_id: cohort.id,
                author_user_id: author,
                parent_post_id: parent,
                body: body.to_owned(),
                anonymous,
                hidden_at: None,
                hidden_by_user_id: None,
                hidden_reason: None,
                created_at: now,
            };
        let opening = post(
            cast.facilitator,
            "Welcome to the circle. Share a win from this week, however small.",
            false,
            None,
        );
        let win = post(
            *first_member,
            "Second week on the new step. Sleep is rough but mornings are better.",
            false,
            None,
        );
        let honest = post(
            *second_member,
            "I nearly took an extra dose on Sunday. I called my sister instead.",
            true,
            None,
        );
        let reply = post(
            *first_member,
            "That took strength. Calling someone works for me too.",
            false,
            Some(honest.id),
        );
        group_posts::Entity::insert_many(
            [opening, win, honest, reply].map(group_posts::ActiveModel::from),
        )
        .exec_without_returning(db)
        .await?;
        recovery_goals::Entity::insert(recovery_goals::ActiveModel::from(recovery_goals::Model {
            id: Uuid::now_v7(),
            organization_id: cast.organization_id,
            user_id: *first_member,
            title: "Walk 20 minutes every day".to_owned(),
            description: Some("Movement helps the restless evenings.".to_owned()),
            target_on: Some(today + Duration::days(30)),
            progress_percent: 40,
            status: GoalStatus::Active.as_str().to_owned(),
            shared_group_id: Some(cohort.id),
            created_at: now,
            updated_at: now,
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}
