//! Support groups and who belongs to them: creating and configuring a group,
//! facilitators (assigned by admins), joining with an alias (pending under
//! `APPROVAL`), approval, adding, leaving and removal, with capacity held in
//! the database transaction.

use std::{collections::HashMap, sync::Arc};

use tokio::sync::OnceCell;

use async_graphql::{
    Context, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use entity::{group_members, memberships, support_groups};

use super::{
    goals::{self, Goal},
    meetings::{self, AttendanceRecord, History, Meeting},
    posts::{self, GroupPost},
    rules::MAX_ALIAS_CHARS,
    stored_enum,
};
use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    auth::{Principal, Role},
    authz::{
        self,
        groups::{
            ACTIVE, FACILITATOR, GroupNeed, LEFT, MEMBER, PENDING, REMOVED, Standing,
            authorize_group, memberships_of, standing, visible_groups,
        },
    },
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::pagination,
    validation,
    validation::optional_text,
};

stored_enum!(SupportGroupKind {
    PeerSupport => "PEER_SUPPORT",
    TaperingCohort => "TAPERING_COHORT",
    /// For family members (supporters), and patients who want them there.
    Family => "FAMILY",
    TherapyGroup => "THERAPY_GROUP",
    MutualHelp => "MUTUAL_HELP",
});

stored_enum!(MeetingFormat {
    InPerson => "IN_PERSON",
    Virtual => "VIRTUAL",
    Hybrid => "HYBRID",
});

stored_enum!(JoinPolicy {
    /// Anyone eligible who finds the group joins at once.
    Open => "OPEN",
    /// Requests wait for a facilitator.
    Approval => "APPROVAL",
    /// Hidden from discovery; facilitators add members.
    InviteOnly => "INVITE_ONLY",
});

stored_enum!(MembershipStatus {
    Pending => "PENDING",
    Active => "ACTIVE",
    Left => "LEFT",
    Removed => "REMOVED",
});

stored_enum!(GroupRole {
    Facilitator => "FACILITATOR",
    Member => "MEMBER",
});

/// Group names, descriptions and ground rules.
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 5_000;
const MAX_LOCATION: usize = 500;
const MAX_REASON: usize = 1_000;

/// A support group, as one caller may see it.
#[derive(Clone)]
pub struct SupportGroup {
    pub model: support_groups::Model,
    /// How the viewer stands to it (decides what resolves).
    pub standing: Arc<Standing>,
}

impl SupportGroup {
    pub fn new(model: support_groups::Model, standing: Standing) -> Self {
        Self {
            model,
            standing: Arc::new(standing),
        }
    }

    /// Checks the viewer may read one part of the group (`need`), writing
    /// the audit event either way: `FORBIDDEN` otherwise (the group itself
    /// is visible to them, or they would not hold this object).
    pub async fn gate(
        &self,
        ctx: &Context<'_>,
        need: GroupNeed,
        action: &'static str,
    ) -> ApiResult<()> {
        let allowed = self.standing.allows(need);
        audit::record(
            ctx.db()?,
            ctx.request_id(),
            AuditEvent::by(
                ctx.principal().await?,
                action,
                "SupportGroup",
                Some(self.model.id),
                None,
                allowed,
            ),
        )
        .await?;
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[Object]
impl SupportGroup {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn name(&self) -> &str {
        &self.model.name
    }
    async fn kind(&self) -> async_graphql::Result<SupportGroupKind> {
        Ok(SupportGroupKind::from_row(&self.model.kind)?)
    }
    async fn format(&self) -> async_graphql::Result<MeetingFormat> {
        Ok(MeetingFormat::from_row(&self.model.format)?)
    }
    async fn description(&self) -> &str {
        &self.model.description
    }
    /// Where in-person meetings happen.
    async fn location(&self) -> Option<&str> {
        self.model.location.as_deref()
    }
    /// The virtual meeting link: members and facilitators only (null to
    /// everyone else).
    async fn meeting_url(&self) -> Option<&str> {
        if self.standing.allows(GroupNeed::Content) {
            self.model.meeting_url.as_deref()
        } else {
            None
        }
    }
    /// Most members at once (facilitators not counted); null for no limit.
    async fn capacity(&self) -> Option<i32> {
        self.model.capacity
    }
    async fn join_policy(&self) -> async_graphql::Result<JoinPolicy> {
        Ok(JoinPolicy::from_row(&self.model.join_policy)?)
    }
    async fn ground_rules(&self) -> Option<&str> {
        self.model.ground_rules.as_deref()
    }
    /// Archived groups keep their history but take no new members, meetings
    /// or posts.
    async fn archived(&self) -> bool {
        self.model.archived_at.is_some()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    async fn facilitators(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let ids = ctx
            .loaders()?
            .group_facilitators
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        let users = ctx.loaders()?.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(id).cloned().map(User::new))
            .collect())
    }
    /// Active members (facilitators not counted).
    async fn member_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(ctx
            .loaders()?
            .group_member_counts
            .load_one(self.model.id)
            .await?
            .unwrap_or(0))
    }
    /// The caller's own membership, whatever its status.
    async fn my_membership(&self) -> Option<GroupMembership> {
        self.standing
            .membership
            .clone()
            .map(|row| GroupMembership::new(row, self.clone()))
    }
    /// The group's people (default: active), in the order they joined.
    /// Members see aliases; only facilitators see pending requests, past
    /// members and who is who.
    async fn members(
        &self,
        ctx: &Context<'_>,
        status: Option<MembershipStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, GroupMember>> {
        Ok(members(
            ctx,
            self,
            status.unwrap_or(MembershipStatus::Active),
            first,
            after,
        )
        .await?)
    }
    /// Meetings between `from` and `to` (default: the next 90 days),
    /// members and facilitators.
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        include_cancelled: Option<bool>,
    ) -> async_graphql::Result<Vec<Meeting>> {
        Ok(meetings::of_group(ctx, self, from, to, include_cancelled.unwrap_or(false)).await?)
    }
    /// Top-level posts, newest first; members and facilitators only.
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, GroupPost>> {
        Ok(posts::page(ctx, self, first, after).await?)
    }
    /// Goals members shared with the group, newest first.
    async fn shared_goals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Goal>> {
        Ok(goals::shared_with(ctx, self, first, after).await?)
    }
}

/// Someone's membership of a group: the caller's own, one a facilitator
/// acts on, or one a patient disclosed (`GROUP_ACTIVITY`) — so its
/// attendance is the viewer's to see.
pub struct GroupMembership {
    pub row: group_members::Model,
    pub group: SupportGroup,
    /// Loaded once, when asked for (or for a whole list at once).
    history: OnceCell<History>,
}

impl GroupMembership {
    pub fn new(row: group_members::Model, group: SupportGroup) -> Self {
        Self {
            row,
            group,
            history: OnceCell::new(),
        }
    }

    async fn history(&self, ctx: &Context<'_>) -> ApiResult<&History> {
        self.history
            .get_or_try_init(|| async { meetings::history(ctx.db()?, &self.row).await })
            .await
    }
}

#[Object]
impl GroupMembership {
    async fn id(&self) -> Uuid {
        self.row.id
    }
    async fn group(&self) -> &SupportGroup {
        &self.group
    }
    async fn status(&self) -> async_graphql::Result<MembershipStatus> {
        Ok(MembershipStatus::from_row(&self.row.status)?)
    }
    async fn role(&self) -> async_graphql::Result<GroupRole> {
        Ok(GroupRole::from_row(&self.row.role)?)
    }
    /// The name shown to the group.
    async fn alias(&self) -> Option<&str> {
        self.row.alias.as_deref()
    }
    async fn joined_at(&self) -> Option<DateTime<Utc>> {
        self.row.joined_at
    }
    /// The meetings held since they joined, with what was recorded.
    async fn attendance(&self, ctx: &Context<'_>) -> async_graphql::Result<&[AttendanceRecord]> {
        Ok(&self.history(ctx).await?.records)
    }
    /// Consecutive meetings attended, counting back from the latest.
    async fn attendance_streak(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.history(ctx).await?.streak as i32)
    }
}

/// Another person in a group, as the viewer may see them.
pub struct GroupMember {
    row: group_members::Model,
    person: Option<super::posts::Shown>,
    /// `(streak, meetings attended)`, for facilitators.
    attendance: Option<(u32, u32)>,
    /// The viewer facilitates the group (sees who is who).
    facilitating: bool,
    viewer: Uuid,
}

#[Object]
impl GroupMember {
    /// The membership's id.
    async fn id(&self) -> Uuid {
        self.row.id
    }
    /// Their alias, else their display name.
    async fn display_name(&self) -> &str {
        self.person.as_ref().map_or("", |p| p.name.as_str())
    }
    async fn role(&self) -> async_graphql::Result<GroupRole> {
        Ok(GroupRole::from_row(&self.row.role)?)
    }
    async fn status(&self) -> async_graphql::Result<MembershipStatus> {
        Ok(MembershipStatus::from_row(&self.row.status)?)
    }
    async fn joined_at(&self) -> Option<DateTime<Utc>> {
        self.row.joined_at
    }
    /// The account behind the alias: facilitators, the member themselves,
    /// and for facilitators' own entries everyone (they lead the group
    /// under their name). Null otherwise.
    async fn user(&self) -> Option<User> {
        if self.facilitating || self.row.user_id == self.viewer || self.row.role == FACILITATOR {
            return self.person.as_ref().map(|p| User::new(p.user.clone()));
        }
        None
    }
    /// Consecutive meetings attended, counting back from the latest
    /// (facilitators; null to others).
    async fn attendance_streak(&self) -> Option<i32> {
        self.attendance.map(|(streak, _)| streak as i32)
    }
    /// Meetings attended since they joined (facilitators; null to others).
    async fn meetings_attended(&self) -> Option<i32> {
        self.attendance.map(|(_, attended)| attended as i32)
    }
    /// Why they were removed (facilitators).
    async fn status_reason(&self) -> Option<&str> {
        self.facilitating
            .then_some(self.row.status_reason.as_deref())
            .flatten()
    }
}

#[derive(InputObject)]
pub struct CreateSupportGroupInput {
    /// 1–200 characters.
    pub name: String,
    pub kind: SupportGroupKind,
    /// Up to 5,000 characters.
    pub description: String,
    pub format: MeetingFormat,
    /// Required for IN_PERSON and HYBRID groups.
    pub location: Option<String>,
    /// An http(s) link; required for VIRTUAL and HYBRID groups.
    pub meeting_url: Option<String>,
    /// 1–1000 members; none for no limit.
    pub capacity: Option<i32>,
    /// Default OPEN.
    pub join_policy: Option<JoinPolicy>,
    /// Up to 5,000 characters.
    pub ground_rules: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateSupportGroupPayload {
    pub group: SupportGroup,
}

/// Changes to a group's settings; absent fields stay, null clears.
#[derive(InputObject)]
pub struct UpdateSupportGroupInput {
    pub group_id: Uuid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub format: Option<MeetingFormat>,
    pub location: MaybeUndefined<String>,
    pub meeting_url: MaybeUndefined<String>,
    /// Not below the current number of active members.
    pub capacity: MaybeUndefined<i32>,
    pub join_policy: Option<JoinPolicy>,
    pub ground_rules: MaybeUndefined<String>,
}

#[derive(SimpleObject)]
pub struct UpdateSupportGroupPayload {
    pub group: SupportGroup,
}

#[derive(InputObject)]
pub struct GroupRef {
    pub group_id: Uuid,
}

#[derive(InputObject)]
pub struct GroupMemberRef {
    pub group_id: Uuid,
    pub user_id: Uuid,
}

#[derive(InputObject)]
pub struct JoinSupportGroupInput {
    pub group_id: Uuid,
    /// The name shown to the group (1–60 characters); the display name
    /// when absent.
    pub alias: Option<String>,
}

#[derive(SimpleObject)]
pub struct JoinSupportGroupPayload {
    pub membership: GroupMembership,
}

#[derive(InputObject)]
pub struct AddGroupMemberInput {
    pub group_id: Uuid,
    pub user_id: Uuid,
    pub alias: Option<String>,
}

#[derive(SimpleObject)]
pub struct AddGroupMemberPayload {
    pub membership: GroupMembership,
}

#[derive(InputObject)]
pub struct RemoveGroupMemberInput {
    pub group_id: Uuid,
    pub user_id: Uuid,
    /// 1–1000 characters.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct MembershipPayload {
    pub membership: GroupMembership,
}

#[derive(SimpleObject)]
pub struct SupportGroupPayload {
    pub group: SupportGroup,
}

#[derive(Default)]
pub struct GroupsQuery;

#[Object]
impl GroupsQuery {
    /// One group the caller may see (`NOT_FOUND` otherwise).
    async fn support_group(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Option<SupportGroup>> {
        let principal = ctx.principal().await?;
        let (group, standing) = authorize_group(
            ctx.db()?,
            principal,
            ctx.request_id(),
            id,
            GroupNeed::See,
            "group.read",
        )
        .await?;
        Ok(Some(SupportGroup::new(group, standing)))
    }

    /// The groups the caller may see, by name: their own (active or
    /// pending), groups open to them in their organization (without
    /// members), and for admins every group of the organization.
    async fn support_groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportGroup>> {
        Ok(list_groups(ctx).await?)
    }

    /// The caller's memberships (active and pending).
    async fn my_group_memberships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<GroupMembership>> {
        let principal = ctx.principal().await?;
        Ok(memberships_for_user(ctx, principal.user_id, &[ACTIVE, PENDING]).await?)
    }
}

#[derive(Default)]
pub struct GroupsMutation;

#[Object]
impl GroupsMutation {
    /// A facilitator or admin creates a group and becomes its facilitator.
    async fn create_support_group(
        &self,
        ctx: &Context<'_>,
        input: CreateSupportGroupInput,
    ) -> async_graphql::Result<CreateSupportGroupPayload> {
        Ok(CreateSupportGroupPayload {
            group: create_group(ctx, input).await?,
        })
    }

    /// Facilitators and admins change a group's settings.
    async fn update_support_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupportGroupInput,
    ) -> async_graphql::Result<UpdateSupportGroupPayload> {
        Ok(UpdateSupportGroupPayload {
            group: update_group(ctx, input).await?,
        })
    }

    /// Facilitators and admins archive a group (again: no change).
    async fn archive_support_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRef,
    ) -> async_graphql::Result<SupportGroupPayload> {
        Ok(SupportGroupPayload {
            group: archive_group(ctx, input.group_id).await?,
        })
    }

    /// An admin makes a facilitator or clinician of the organization a
    /// facilitator of the group.
    async fn assign_group_facilitator(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: set_facilitator(ctx, input, true).await?,
        })
    }

    /// An admin removes a facilitator (a group keeps at least one).
    async fn remove_group_facilitator(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: set_facilitator(ctx, input, false).await?,
        })
    }

    /// A patient (or, for FAMILY groups, a supporter) joins: active at
    /// once in OPEN groups, pending in APPROVAL groups. Joining again
    /// returns the membership as it is.
    async fn join_support_group(
        &self,
        ctx: &Context<'_>,
        input: JoinSupportGroupInput,
    ) -> async_graphql::Result<JoinSupportGroupPayload> {
        Ok(JoinSupportGroupPayload {
            membership: join(ctx, input).await?,
        })
    }

    /// A facilitator approves a pending request.
    async fn approve_membership(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: approve(ctx, input).await?,
        })
    }

    /// A facilitator adds someone (or approves their request); adding an
    /// active member changes nothing.
    async fn add_group_member(
        &self,
        ctx: &Context<'_>,
        input: AddGroupMemberInput,
    ) -> async_graphql::Result<AddGroupMemberPayload> {
        Ok(AddGroupMemberPayload {
            membership: add_member(ctx, input).await?,
        })
    }

    /// A member leaves (or withdraws a pending request).
    async fn leave_support_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: leave(ctx, input.group_id).await?,
        })
    }

    /// A facilitator removes a member, saying why.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveGroupMemberInput,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: remove_member(ctx, input).await?,
        })
    }
}

async fn list_groups(ctx: &Context<'_>) -> ApiResult<Vec<SupportGroup>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let groups = support_groups::Entity::find()
        .filter(visible_groups(principal))
        .order_by_asc(support_groups::Column::Name)
        .order_by_asc(support_groups::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
    let mut mine = memberships_of(db, principal.user_id, &ids).await?;
    audit::record(
        db,
        ctx.request_id(),
        AuditEvent::by(principal, "group.list", "SupportGroup", None, None, true),
    )
    .await?;
    Ok(groups
        .into_iter()
        .map(|group| {
            let membership = mine.remove(&group.id);
            let standing = standing(principal, &group, membership);
            SupportGroup::new(group, standing)
        })
        .collect())
}

/// A user's memberships with the given statuses, each group seen as the
/// caller stands to it (who must be allowed their attendance), with the
/// attendance of all of them loaded at once when the query asks for it.
pub async fn memberships_for_user(
    ctx: &Context<'_>,
    user: Uuid,
    statuses: &[&str],
) -> ApiResult<Vec<GroupMembership>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let rows = group_members::Entity::find()
        .filter(group_members::Column::UserId.eq(user))
        .filter(group_members::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(group_members::Column::Id)
        .all(db)
        .await?;
    let group_ids: Vec<Uuid> = rows.iter().map(|r| r.group_id).collect();
    let groups: HashMap<Uuid, support_groups::Model> = support_groups::Entity::find()
        .filter(support_groups::Column::Id.is_in(group_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    let mut viewer_rows = if user == principal.user_id {
        rows.iter().map(|r| (r.group_id, r.clone())).collect()
    } else {
        memberships_of(db, principal.user_id, &group_ids).await?
    };
    let lookahead = ctx.look_ahead();
    let mut histories =
        if lookahead.field("attendance").exists() || lookahead.field("attendanceStreak").exists() {
            meetings::histories(db, &rows).await?
        } else {
            HashMap::new()
        };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let group = groups.get(&row.group_id)?.clone();
            let standing = standing(principal, &group, viewer_rows.remove(&group.id));
            let history = OnceCell::new_with(histories.remove(&row.id));
            Some(GroupMembership {
                row,
                group: SupportGroup::new(group, standing),
                history,
            })
        })
        .collect())
}

async fn members(
    ctx: &Context<'_>,
    group: &SupportGroup,
    status: MembershipStatus,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, GroupMember>> {
    let principal = ctx.principal().await?;
    let need = if status == MembershipStatus::Active {
        GroupNeed::Content
    } else {
        GroupNeed::Facilitate
    };
    group.gate(ctx, need, "group.members.read").await?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group.model.id))
        .filter(group_members::Column::Status.eq(status.as_str()));
    if let Some(after) = page.after {
        query = query.filter(group_members::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(group_members::Column::Id)
        .limit(page.fetch())
        .all(ctx.db()?)
        .await?;
    let people: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let mut people = super::posts::people_in_group(ctx.db()?, group.model.id, &people).await?;
    let facilitating = group.standing.is_facilitator();
    let mut attendance: HashMap<Uuid, (u32, u32)> = if facilitating {
        let members: Vec<group_members::Model> =
            rows.iter().filter(|r| r.role == MEMBER).cloned().collect();
        meetings::histories(ctx.db()?, &members)
            .await?
            .into_iter()
            .map(|(membership, history)| (membership, (history.streak, history.attended())))
            .collect()
    } else {
        HashMap::new()
    };
    let members = rows
        .into_iter()
        .map(|row| {
            (
                row.id,
                GroupMember {
                    person: people.remove(&row.user_id),
                    attendance: attendance.remove(&row.id),
                    row,
                    facilitating,
                    viewer: principal.user_id,
                },
            )
        })
        .collect();
    Ok(pagination::connection(members, page))
}

/// Checks the location and link a format needs.
fn check_format(
    format: MeetingFormat,
    location: Option<&str>,
    meeting_url: Option<&str>,
) -> ApiResult<()> {
    if matches!(format, MeetingFormat::InPerson | MeetingFormat::Hybrid) && location.is_none() {
        return Err(ApiError::bad_input(
            "location",
            "location is required for in-person and hybrid groups",
        ));
    }
    if matches!(format, MeetingFormat::Virtual | MeetingFormat::Hybrid) && meeting_url.is_none() {
        return Err(ApiError::bad_input(
            "meetingUrl",
            "meetingUrl is required for virtual and hybrid groups",
        ));
    }
    Ok(())
}

fn check_url(value: Option<&str>) -> ApiResult<Option<String>> {
    Ok(crate::calendar::meeting_url(value)?)
}

fn check_capacity(value: Option<i32>) -> ApiResult<Option<i32>> {
    crate::validation::optional_in_range("capacity", value, 1..=1000)
}

pub fn check_alias(value: Option<&str>) -> ApiResult<Option<String>> {
    let alias = optional_text("alias", value, MAX_ALIAS_CHARS)?;
    if alias
        .as_deref()
        .is_some_and(|a| a.chars().any(char::is_control))
    {
        return Err(ApiError::bad_input(
            "alias",
            "alias must be printable characters",
        ));
    }
    Ok(alias)
}

async fn create_group(
    ctx: &Context<'_>,
    input: CreateSupportGroupInput,
) -> ApiResult<SupportGroup> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.create";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Facilitator, Role::Admin],
        action,
        "SupportGroup",
    )
    .await?;
    let name = validation::text("name", &input.name, MAX_NAME)?;
    let description = optional_text("description", Some(&input.description), MAX_TEXT)?;
    let location = optional_text("location", input.location.as_deref(), MAX_LOCATION)?;
    let meeting_url = check_url(input.meeting_url.as_deref())?;
    check_format(input.format, location.as_deref(), meeting_url.as_deref())?;
    let capacity = check_capacity(input.capacity)?;
    let ground_rules = optional_text("groundRules", input.ground_rules.as_deref(), MAX_TEXT)?;
    let now = Utc::now();
    let group = support_groups::Model {
        id: Uuid::now_v7(),
        organization_id: principal.organization_id,
        name,
        kind: input.kind.as_str().to_owned(),
        description: description.unwrap_or_default(),
        format: input.format.as_str().to_owned(),
        location,
        meeting_url,
        capacity,
        join_policy: input
            .join_policy
            .unwrap_or(JoinPolicy::Open)
            .as_str()
            .to_owned(),
        ground_rules,
        archived_at: None,
        created_by_user_id: principal.user_id,
        created_at: now,
        updated_at: now,
    };
    let facilitator = group_members::Model {
        id: Uuid::now_v7(),
        group_id: group.id,
        organization_id: group.organization_id,
        user_id: principal.user_id,
        role: FACILITATOR.to_owned(),
        status: ACTIVE.to_owned(),
        alias: None,
        status_reason: None,
        decided_by_user_id: Some(principal.user_id),
        joined_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    let txn = db.begin().await?;
    support_groups::Entity::insert(support_groups::ActiveModel::from(group.clone()))
        .exec_without_returning(&txn)
        .await?;
    group_members::Entity::insert(group_members::ActiveModel::from(facilitator.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            action,
            "SupportGroup",
            Some(group.id),
            None,
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    let standing = standing(principal, &group, Some(facilitator));
    Ok(SupportGroup::new(group, standing))
}

/// Active members (facilitators not counted).
async fn active_members(db: &impl ConnectionTrait, group: Uuid) -> ApiResult<u64> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::Role.eq(MEMBER))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .count(db)
        .await?)
}

/// Takes the group's row lock for the rest of the transaction, so that
/// capacity checks and the writes after them are serialized per group.
async fn lock_group(db: &impl ConnectionTrait, group: Uuid) -> ApiResult<()> {
    support_groups::Entity::update_many()
        .col_expr(support_groups::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(support_groups::Column::Id.eq(group))
        .exec(db)
        .await?;
    Ok(())
}

async fn update_group(
    ctx: &Context<'_>,
    input: UpdateSupportGroupInput,
) -> ApiResult<SupportGroup> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let (group, standing) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        input.group_id,
        GroupNeed::Manage,
        "group.update",
    )
    .await?;
    let mut next = group.clone();
    if let Some(name) = &input.name {
        next.name = validation::text("name", name, MAX_NAME)?;
    }
    if let Some(description) = &input.description {
        next.description =
            optional_text("description", Some(description), MAX_TEXT)?.unwrap_or_default();
    }
    if let Some(format) = input.format {
        next.format = format.as_str().to_owned();
    }
    match &input.location {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.location = None,
        MaybeUndefined::Value(v) => {
            next.location = optional_text("location", Some(v), MAX_LOCATION)?;
        }
    }
    match &input.meeting_url {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.meeting_url = None,
        MaybeUndefined::Value(v) => next.meeting_url = check_url(Some(v))?,
    }
    match input.capacity {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.capacity = None,
        MaybeUndefined::Value(v) => next.capacity = check_capacity(Some(v))?,
    }
    if let Some(policy) = input.join_policy {
        next.join_policy = policy.as_str().to_owned();
    }
    match &input.ground_rules {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.ground_rules = None,
        MaybeUndefined::Value(v) => {
            next.ground_rules = optional_text("groundRules", Some(v), MAX_TEXT)?;
        }
    }
    check_format(
        MeetingFormat::from_row(&next.format)?,
        next.location.as_deref(),
        next.meeting_url.as_deref(),
    )?;
    next.updated_at = Utc::now();
    let txn = db.begin().await?;
    lock_group(&txn, group.id).await?;
    if let Some(capacity) = next.capacity {
        let active = active_members(&txn, group.id).await?;
        if (capacity as u64) < active {
            return Err(ApiError::bad_input(
                "capacity",
                format!("capacity cannot be below the {active} current members"),
            ));
        }
    }
    support_groups::Entity::update(support_groups::ActiveModel {
        id: sea_orm::Unchanged(next.id),
        name: Set(next.name.clone()),
        description: Set(next.description.clone()),
        format: Set(next.format.clone()),
        location: Set(next.location.clone()),
        meeting_url: Set(next.meeting_url.clone()),
        capacity: Set(next.capacity),
        join_policy: Set(next.join_policy.clone()),
        ground_rules: Set(next.ground_rules.clone()),
        updated_at: Set(next.updated_at),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    let standing = authz::groups::standing(principal, &next, standing.membership.clone());
    Ok(SupportGroup::new(next, standing))
}

async fn archive_group(ctx: &Context<'_>, group_id: Uuid) -> ApiResult<SupportGroup> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let (mut group, standing) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        group_id,
        GroupNeed::Manage,
        "group.archive",
    )
    .await?;
    if group.archived_at.is_none() {
        let now = Utc::now();
        support_groups::Entity::update_many()
            .col_expr(support_groups::Column::ArchivedAt, Expr::value(now))
            .col_expr(support_groups::Column::UpdatedAt, Expr::value(now))
            .filter(support_groups::Column::Id.eq(group.id))
            .filter(support_groups::Column::ArchivedAt.is_null())
            .exec(db)
            .await?;
        group.archived_at = Some(now);
    }
    let standing = authz::groups::standing(principal, &group, standing.membership.clone());
    Ok(SupportGroup::new(group, standing))
}

/// The roles a user holds in `organization`.
async fn roles_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
    user: Uuid,
) -> ApiResult<Vec<Role>> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(organization))
        .filter(memberships::Column::UserId.eq(user))
        .all(db)
        .await?
        .iter()
        .filter_map(|m| Role::parse(&m.role))
        .collect())
}

/// Who may be a member: patients in any group, supporters in FAMILY groups.
fn may_be_member(roles: &[Role], group: &support_groups::Model) -> bool {
    roles.contains(&Role::Patient) || (roles.contains(&Role::Supporter) && group.kind == "FAMILY")
}

fn not_archived(group: &support_groups::Model) -> ApiResult<()> {
    if group.archived_at.is_some() {
        return Err(ApiError::conflict("the group is archived"));
    }
    Ok(())
}

async fn row_of(
    db: &impl ConnectionTrait,
    group: Uuid,
    user: Uuid,
) -> ApiResult<Option<group_members::Model>> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::UserId.eq(user))
        .one(db)
        .await?)
}

/// Within a transaction holding the group lock: refuses when the group is
/// full.
async fn ensure_room(db: &impl ConnectionTrait, group: &support_groups::Model) -> ApiResult<()> {
    if let Some(capacity) = group.capacity
        && active_members(db, group.id).await? >= capacity as u64
    {
        return Err(ApiError::conflict("the group is full"));
    }
    Ok(())
}

/// Writes the membership row (insert or update) with `status`.
#[allow(clippy::too_many_arguments)]
async fn put_membership(
    db: &impl ConnectionTrait,
    existing: Option<group_members::Model>,
    group: &support_groups::Model,
    user: Uuid,
    role: &str,
    status: &str,
    alias: Option<String>,
    reason: Option<String>,
    decided_by: Option<Uuid>,
) -> ApiResult<group_members::Model> {
    let now = Utc::now();
    let joined_at = if status == ACTIVE {
        match &existing {
            Some(row) if row.status == ACTIVE => row.joined_at,
            _ => Some(now),
        }
    } else {
        existing.as_ref().and_then(|r| r.joined_at)
    };
    let row = group_members::Model {
        id: existing.as_ref().map_or_else(Uuid::now_v7, |r| r.id),
        group_id: group.id,
        organization_id: group.organization_id,
        user_id: user,
        role: role.to_owned(),
        status: status.to_owned(),
        alias: alias.or_else(|| existing.as_ref().and_then(|r| r.alias.clone())),
        status_reason: reason,
        decided_by_user_id: decided_by,
        joined_at,
        created_at: existing.as_ref().map_or(now, |r| r.created_at),
        updated_at: now,
    };
    // Every column is written (an ActiveModel from a Model is "unchanged").
    let active = group_members::ActiveModel::from(row.clone()).reset_all();
    if existing.is_some() {
        group_members::Entity::update(active).exec(db).await?;
    } else {
        group_members::Entity::insert(active)
            .exec_without_returning(db)
            .await?;
    }
    Ok(row)
}

async fn audited_membership(
    ctx: &Context<'_>,
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &'static str,
    row: &group_members::Model,
) -> ApiResult<()> {
    audit::record(
        db,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            action,
            "GroupMembership",
            Some(row.id),
            None,
            true,
        ),
    )
    .await
}

async fn join(ctx: &Context<'_>, input: JoinSupportGroupInput) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.join";
    let alias = check_alias(input.alias.as_deref())?;
    let (group, _) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        input.group_id,
        GroupNeed::See,
        action,
    )
    .await?;
    if !may_be_member(&principal.roles, &group) {
        return Err(ApiError::Forbidden);
    }
    not_archived(&group)?;
    let txn = db.begin().await?;
    lock_group(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, principal.user_id).await?;
    let row = match existing {
        Some(row) if row.status == ACTIVE || row.status == PENDING => row,
        Some(row) if row.status == REMOVED => {
            return Err(ApiError::conflict(
                "you were removed from this group; a facilitator can add you again",
            ));
        }
        existing => {
            if group.join_policy == "INVITE_ONLY" {
                // Only reachable by a former member: the group is hidden.
                return Err(ApiError::Forbidden);
            }
            let status = if group.join_policy == "APPROVAL" {
                PENDING
            } else {
                ensure_room(&txn, &group).await?;
                ACTIVE
            };
            let row = put_membership(
                &txn,
                existing,
                &group,
                principal.user_id,
                MEMBER,
                status,
                alias,
                None,
                None,
            )
            .await?;
            audited_membership(ctx, &txn, principal, action, &row).await?;
            row
        }
    };
    txn.commit().await?;
    let standing = standing(principal, &group, Some(row.clone()));
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

/// The target's row in a group the caller facilitates, as the caller sees
/// the group.
async fn facilitated(
    ctx: &Context<'_>,
    group_id: Uuid,
    action: &'static str,
) -> ApiResult<(support_groups::Model, Standing)> {
    let principal = ctx.principal().await?;
    authorize_group(
        ctx.db()?,
        principal,
        ctx.request_id(),
        group_id,
        GroupNeed::Facilitate,
        action,
    )
    .await
}

async fn approve(ctx: &Context<'_>, input: GroupMemberRef) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.member.approve";
    let (group, standing) = facilitated(ctx, input.group_id, action).await?;
    not_archived(&group)?;
    let txn = db.begin().await?;
    lock_group(&txn, group.id).await?;
    let row = match row_of(&txn, group.id, input.user_id).await? {
        Some(row) if row.status == ACTIVE => row,
        Some(row) if row.status == PENDING => {
            ensure_room(&txn, &group).await?;
            let row = put_membership(
                &txn,
                Some(row.clone()),
                &group,
                row.user_id,
                MEMBER,
                ACTIVE,
                None,
                None,
                Some(principal.user_id),
            )
            .await?;
            audited_membership(ctx, &txn, principal, action, &row).await?;
            row
        }
        _ => return Err(ApiError::NotFound("membership request")),
    };
    txn.commit().await?;
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn add_member(ctx: &Context<'_>, input: AddGroupMemberInput) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.member.add";
    let alias = check_alias(input.alias.as_deref())?;
    let (group, standing) = facilitated(ctx, input.group_id, action).await?;
    not_archived(&group)?;
    let roles = roles_of(db, group.organization_id, input.user_id).await?;
    if roles.is_empty() {
        return Err(ApiError::bad_input(
            "userId",
            "userId is not a person of this organization",
        ));
    }
    if !may_be_member(&roles, &group) {
        return Err(ApiError::bad_input(
            "userId",
            "members are patients (and supporters, in FAMILY groups)",
        ));
    }
    let txn = db.begin().await?;
    lock_group(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, input.user_id).await?;
    let row = match existing {
        Some(row) if row.status == ACTIVE => row,
        existing => {
            ensure_room(&txn, &group).await?;
            let row = put_membership(
                &txn,
                existing,
                &group,
                input.user_id,
                MEMBER,
                ACTIVE,
                alias,
                None,
                Some(principal.user_id),
            )
            .await?;
            audited_membership(ctx, &txn, principal, action, &row).await?;
            row
        }
    };
    txn.commit().await?;
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn leave(ctx: &Context<'_>, group_id: Uuid) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.leave";
    let (group, standing) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        group_id,
        GroupNeed::See,
        action,
    )
    .await?;
    let row = match standing.membership.clone() {
        Some(row) if row.role == MEMBER && (row.status == ACTIVE || row.status == PENDING) => {
            let row = put_membership(
                db,
                Some(row),
                &group,
                principal.user_id,
                MEMBER,
                LEFT,
                None,
                None,
                Some(principal.user_id),
            )
            .await?;
            audited_membership(ctx, db, principal, action, &row).await?;
            row
        }
        Some(row) if row.role == FACILITATOR && row.status == ACTIVE => {
            return Err(ApiError::conflict(
                "facilitators step down through an admin (removeGroupFacilitator)",
            ));
        }
        _ => return Err(ApiError::conflict("you are not a member of this group")),
    };
    let standing = authz::groups::standing(principal, &group, Some(row.clone()));
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn remove_member(
    ctx: &Context<'_>,
    input: RemoveGroupMemberInput,
) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.member.remove";
    let reason = validation::text("reason", &input.reason, MAX_REASON)?;
    let (group, standing) = facilitated(ctx, input.group_id, action).await?;
    let row = match row_of(db, group.id, input.user_id).await? {
        Some(row) if row.role == FACILITATOR => {
            return Err(ApiError::conflict(
                "facilitators are removed by an admin (removeGroupFacilitator)",
            ));
        }
        Some(row) if row.status == REMOVED => row,
        Some(row) => {
            let row = put_membership(
                db,
                Some(row.clone()),
                &group,
                row.user_id,
                MEMBER,
                REMOVED,
                None,
                Some(reason),
                Some(principal.user_id),
            )
            .await?;
            audited_membership(ctx, db, principal, action, &row).await?;
            row
        }
        None => return Err(ApiError::NotFound("member")),
    };
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn set_facilitator(
    ctx: &Context<'_>,
    input: GroupMemberRef,
    assign: bool,
) -> ApiResult<GroupMembership> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = if assign {
        "group.facilitator.assign"
    } else {
        "group.facilitator.remove"
    };
    let (group, _) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        input.group_id,
        GroupNeed::Administer,
        action,
    )
    .await?;
    let txn = db.begin().await?;
    lock_group(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, input.user_id).await?;
    let row = if assign {
        let roles = roles_of(&txn, group.organization_id, input.user_id).await?;
        if !roles.contains(&Role::Facilitator) && !roles.contains(&Role::Clinician) {
            return Err(ApiError::bad_input(
                "userId",
                "facilitators are facilitators or clinicians of this organization",
            ));
        }
        match existing {
            Some(row) if row.role == FACILITATOR && row.status == ACTIVE => row,
            existing => {
                put_membership(
                    &txn,
                    existing,
                    &group,
                    input.user_id,
                    FACILITATOR,
                    ACTIVE,
                    None,
                    None,
                    Some(principal.user_id),
                )
                .await?
            }
        }
    } else {
        let Some(row) = existing.filter(|r| r.role == FACILITATOR) else {
            return Err(ApiError::NotFound("facilitator"));
        };
        if row.status == ACTIVE {
            let others = group_members::Entity::find()
                .filter(group_members::Column::GroupId.eq(group.id))
                .filter(group_members::Column::Role.eq(FACILITATOR))
                .filter(group_members::Column::Status.eq(ACTIVE))
                .filter(group_members::Column::UserId.ne(input.user_id))
                .count(&txn)
                .await?;
            if others == 0 {
                return Err(ApiError::conflict(
                    "a group keeps at least one facilitator: assign another first",
                ));
            }
            put_membership(
                &txn,
                Some(row.clone()),
                &group,
                row.user_id,
                FACILITATOR,
                REMOVED,
                None,
                None,
                Some(principal.user_id),
            )
            .await?
        } else {
            row
        }
    };
    audited_membership(ctx, &txn, principal, action, &row).await?;
    txn.commit().await?;
    let viewer = memberships_of(db, principal.user_id, &[group.id])
        .await?
        .remove(&group.id);
    let standing = standing(principal, &group, viewer);
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}
