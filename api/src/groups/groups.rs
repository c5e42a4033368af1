//! Support groups: the `SupportGroup` type as one caller sees it, listing,
//! creating (the creator facilitates), settings, archiving, and
//! facilitators (assigned by admins); and the gate every part of a group
//! passes (`SupportGroup::gate` for a part of a group the caller holds,
//! `SupportGroup::reach` for a row inside a group).

use std::sync::Arc;

use async_graphql::{
    Context, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::{group_members, support_groups};

use super::{
    goals::{self, Goal},
    group_store,
    meetings::{self, Meeting},
    membership::{self, GroupMember, GroupMembership, MEMBERSHIP, MembershipPayload},
    membership_rules::{
        JoinPolicy, MAX_LOCATION, MAX_NAME, MAX_TEXT, MeetingFormat, MembershipStatus,
        SupportGroupKind, check_capacity, check_format,
    },
    membership_store,
    posts::{self, GroupPost},
};
use crate::{
    accounts::User,
    audit::Action,
    auth::Role,
    authz::groups::{ACTIVE, FACILITATOR, GROUP, GroupNeed, Standing, memberships_of, standing},
    caller::{Caller, ContextExt, GroupAccess},
    error::{ApiError, ApiResult},
    validation::{self, optional_text},
};

pub const READ: Action = GROUP.action("group.read");
pub const LIST: Action = GROUP.action("group.list");
pub const CREATE: Action = GROUP.action("group.create");
pub const UPDATE: Action = GROUP.action("group.update");
pub const ARCHIVE: Action = GROUP.action("group.archive");
pub const ASSIGN_FACILITATOR: Action = MEMBERSHIP.action("group.facilitator.assign");
pub const REMOVE_FACILITATOR: Action = MEMBERSHIP.action("group.facilitator.remove");

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

    /// The group as the policy let the caller reach it.
    pub fn reached(access: GroupAccess) -> Self {
        Self::new(access.group, access.standing)
    }

    /// Checks the viewer may read one part of the group (`need`), recording
    /// the decision either way: `FORBIDDEN` otherwise (the group itself is
    /// visible to them, or they would not hold this object).
    pub fn gate(&self, caller: &Caller, need: GroupNeed, action: Action) -> ApiResult<()> {
        let allowed = self.standing.allows(need);
        caller.record(
            caller
                .event(action)
                .kind(GROUP)
                .resource(self.model.id)
                .allowed(allowed),
        );
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(need.missing()))
        }
    }

    /// A row inside a group (a post, a meeting, a shared goal; `row` as
    /// loaded, `id` as asked for), if the caller has `need` in its group.
    /// Only those who may read the group's content know such rows exist:
    /// a missing row, one in no group, or one in a group whose content the
    /// caller cannot read is `NOT_FOUND` named by the action's kind (the
    /// first recorded on the row's id, the others on the group); a visible
    /// one they may not act on is `FORBIDDEN`.
    pub async fn reach<T>(
        caller: &Caller,
        id: Uuid,
        row: Option<T>,
        group_of: impl FnOnce(&T) -> Option<Uuid>,
        need: GroupNeed,
        action: Action,
    ) -> ApiResult<(T, SupportGroup)> {
        let Some((row, group)) = row.and_then(|row| group_of(&row).map(|group| (row, group)))
        else {
            caller.record(caller.event(action).resource(id).denied());
            return Err(ApiError::NotFound(action.kind.noun));
        };
        match caller
            .in_group(group, GroupNeed::Content, need, action)
            .await
        {
            Ok(access) => Ok((row, Self::reached(access))),
            Err(ApiError::NotFound(_)) => Err(ApiError::NotFound(action.kind.noun)),
            Err(other) => Err(other),
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
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        status: Option<MembershipStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, GroupMember>> {
        let status = status.unwrap_or(MembershipStatus::Active);
        Ok(membership::members(&ctx.caller().await?, self, status, first, after).await?)
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
        let caller = ctx.caller().await?;
        let cancelled = include_cancelled.unwrap_or(false);
        Ok(meetings::of_group(&caller, self, from, to, cancelled).await?)
    }
    /// Top-level posts, newest first; members and facilitators only.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, GroupPost>> {
        let wants = posts::Wants::of(&ctx.look_ahead());
        Ok(posts::page(&ctx.caller().await?, self, first, after, wants).await?)
    }
    /// Goals members shared with the group, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn shared_goals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Goal>> {
        Ok(goals::shared_with(&ctx.caller().await?, self, first, after).await?)
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
        let caller = ctx.caller().await?;
        let access = caller.group(id, GroupNeed::See, READ).await?;
        Ok(Some(SupportGroup::reached(access)))
    }

    /// The groups the caller may see, by name: their own (active or
    /// pending), groups open to them in their organization (without
    /// members), and for admins every group of the organization.
    async fn support_groups(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportGroup>> {
        Ok(list(&ctx.caller().await?).await?)
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
            group: create(&ctx.caller().await?, input).await?,
        })
    }

    /// Facilitators and admins change a group's settings.
    async fn update_support_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupportGroupInput,
    ) -> async_graphql::Result<UpdateSupportGroupPayload> {
        Ok(UpdateSupportGroupPayload {
            group: update(&ctx.caller().await?, input).await?,
        })
    }

    /// Facilitators and admins archive a group (again: no change).
    async fn archive_support_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRef,
    ) -> async_graphql::Result<SupportGroupPayload> {
        Ok(SupportGroupPayload {
            group: archive(&ctx.caller().await?, input.group_id).await?,
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
            membership: set_facilitator(&ctx.caller().await?, input, true).await?,
        })
    }

    /// An admin removes a facilitator (a group keeps at least one).
    async fn remove_group_facilitator(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: set_facilitator(&ctx.caller().await?, input, false).await?,
        })
    }
}

async fn list(caller: &Caller) -> ApiResult<Vec<SupportGroup>> {
    let groups = group_store::visible(caller.db(), caller.principal()).await?;
    let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
    let mut mine = memberships_of(caller.db(), caller.user_id(), &ids).await?;
    caller.record(caller.event(LIST));
    Ok(groups
        .into_iter()
        .map(|group| {
            let standing = standing(caller.principal(), &group, mine.remove(&group.id));
            SupportGroup::new(group, standing)
        })
        .collect())
}

async fn create(caller: &Caller, input: CreateSupportGroupInput) -> ApiResult<SupportGroup> {
    caller.require(&[Role::Facilitator, Role::Admin], CREATE)?;
    let group = new_group(caller, input)?;
    let now = group.created_at;
    let facilitator = group_members::Model {
        id: Uuid::now_v7(),
        group_id: group.id,
        organization_id: group.organization_id,
        user_id: caller.user_id(),
        role: FACILITATOR.to_owned(),
        status: ACTIVE.to_owned(),
        alias: None,
        status_reason: None,
        decided_by_user_id: Some(caller.user_id()),
        joined_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    let done = caller.event(CREATE).resource(group.id);
    group_store::create(caller, &group, &facilitator, done).await?;
    let standing = standing(caller.principal(), &group, Some(facilitator));
    Ok(SupportGroup::new(group, standing))
}

/// The group `input` describes, checked, in the caller's organization.
fn new_group(caller: &Caller, input: CreateSupportGroupInput) -> ApiResult<support_groups::Model> {
    let name = validation::text("name", &input.name, MAX_NAME)?;
    let description = optional_text("description", Some(&input.description), MAX_TEXT)?;
    let location = optional_text("location", input.location.as_deref(), MAX_LOCATION)?;
    let meeting_url = crate::calendar::meeting_url(input.meeting_url.as_deref())?;
    check_format(input.format, location.as_deref(), meeting_url.as_deref())?;
    let capacity = check_capacity(input.capacity)?;
    let ground_rules = optional_text("groundRules", input.ground_rules.as_deref(), MAX_TEXT)?;
    let now = Utc::now();
    Ok(support_groups::Model {
        id: Uuid::now_v7(),
        organization_id: caller.organization_id(),
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
        created_by_user_id: caller.user_id(),
        created_at: now,
        updated_at: now,
    })
}

async fn update(caller: &Caller, input: UpdateSupportGroupInput) -> ApiResult<SupportGroup> {
    let access = caller
        .group(input.group_id, GroupNeed::Manage, UPDATE)
        .await?;
    let next = apply(access.group, &input)?;
    group_store::update(caller, &next).await?;
    let standing = standing(caller.principal(), &next, access.standing.membership);
    Ok(SupportGroup::new(next, standing))
}

/// A group's settings with `input`'s changes, checked.
fn apply(
    mut next: support_groups::Model,
    input: &UpdateSupportGroupInput,
) -> ApiResult<support_groups::Model> {
    /// Absent stays; null clears; a value is checked.
    fn change<T, V>(
        field: &mut Option<V>,
        input: &MaybeUndefined<T>,
        check: impl FnOnce(&T) -> ApiResult<Option<V>>,
    ) -> ApiResult<()> {
        match input {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => *field = None,
            MaybeUndefined::Value(v) => *field = check(v)?,
        }
        Ok(())
    }
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
    change(&mut next.location, &input.location, |v| {
        optional_text("location", Some(v), MAX_LOCATION)
    })?;
    change(&mut next.meeting_url, &input.meeting_url, |v| {
        Ok(crate::calendar::meeting_url(Some(v))?)
    })?;
    change(&mut next.capacity, &input.capacity, |v| {
        check_capacity(Some(*v))
    })?;
    if let Some(policy) = input.join_policy {
        next.join_policy = policy.as_str().to_owned();
    }
    change(&mut next.ground_rules, &input.ground_rules, |v| {
        optional_text("groundRules", Some(v), MAX_TEXT)
    })?;
    check_format(
        MeetingFormat::from_row(&next.format)?,
        next.location.as_deref(),
        next.meeting_url.as_deref(),
    )?;
    next.updated_at = Utc::now();
    Ok(next)
}

async fn archive(caller: &Caller, group_id: Uuid) -> ApiResult<SupportGroup> {
    let access = caller.group(group_id, GroupNeed::Manage, ARCHIVE).await?;
    let mut group = access.group;
    if group.archived_at.is_none() {
        let now = Utc::now();
        group_store::archive(caller, group.id, now).await?;
        group.archived_at = Some(now);
    }
    let standing = standing(caller.principal(), &group, access.standing.membership);
    Ok(SupportGroup::new(group, standing))
}

async fn set_facilitator(
    caller: &Caller,
    input: GroupMemberRef,
    assign: bool,
) -> ApiResult<GroupMembership> {
    let action = if assign {
        ASSIGN_FACILITATOR
    } else {
        REMOVE_FACILITATOR
    };
    let group = caller
        .group(input.group_id, GroupNeed::Administer, action)
        .await?
        .group;
    let row =
        membership_store::set_facilitator(caller, &group, input.user_id, assign, action).await?;
    // The admin may have just made themselves a facilitator.
    let viewer = memberships_of(caller.db(), caller.user_id(), &[group.id])
        .await?
        .remove(&group.id);
    let standing = standing(caller.principal(), &group, viewer);
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}
