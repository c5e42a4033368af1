//! Who belongs to a group: joining with an alias (pending under
//! `APPROVAL`), approval, adding, leaving and removal; the caller's
//! memberships and a patient's (with attendance); and a group's member
//! list as the viewer may see it.

use std::collections::HashMap;

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use entity::group_members;

use super::{
    group_store,
    groups::{GroupMemberRef, GroupRef, SupportGroup},
    meeting_store,
    membership_rules::{
        GroupRole, MembershipStatus, check_alias, check_new_member, may_be_member, not_archived,
    },
    membership_store::{self, Shown},
    rules::{AttendanceRecord, History},
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    authz::groups::{
        ACTIVE, FACILITATOR, GROUP, GroupNeed, MEMBER, PENDING, memberships_of, standing,
    },
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination,
    validation::{self, REASON_MAX},
};

/// Memberships as the audit trail names them.
pub const MEMBERSHIP: Kind = Kind::new("GroupMembership", "membership");

pub const JOIN: Action = MEMBERSHIP.action("group.join");
pub const APPROVE: Action = MEMBERSHIP.action("group.member.approve");
pub const ADD: Action = MEMBERSHIP.action("group.member.add");
pub const LEAVE: Action = MEMBERSHIP.action("group.leave");
pub const REMOVE: Action = MEMBERSHIP.action("group.member.remove");
pub const MEMBERS_READ: Action = GROUP.action("group.members.read");

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
            .get_or_try_init(|| async { meeting_store::history(ctx.db()?, &self.row).await })
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
    person: Option<Shown>,
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

#[derive(Default)]
pub struct MembershipQuery;

#[Object]
impl MembershipQuery {
    /// The caller's memberships (active and pending).
    async fn my_group_memberships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<GroupMembership>> {
        let me = ctx.principal().await?.user_id;
        Ok(memberships_for_user(ctx, me, &[ACTIVE, PENDING]).await?)
    }
}

#[derive(Default)]
pub struct MembershipMutation;

#[Object]
impl MembershipMutation {
    /// A patient (or, for FAMILY groups, a supporter) joins: active at
    /// once in OPEN groups, pending in APPROVAL groups. Joining again
    /// returns the membership as it is.
    async fn join_support_group(
        &self,
        ctx: &Context<'_>,
        input: JoinSupportGroupInput,
    ) -> async_graphql::Result<JoinSupportGroupPayload> {
        Ok(JoinSupportGroupPayload {
            membership: join(&ctx.caller().await?, input).await?,
        })
    }

    /// A facilitator approves a pending request.
    async fn approve_membership(
        &self,
        ctx: &Context<'_>,
        input: GroupMemberRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: approve(&ctx.caller().await?, input).await?,
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
            membership: add(&ctx.caller().await?, input).await?,
        })
    }

    /// A member leaves (or withdraws a pending request).
    async fn leave_support_group(
        &self,
        ctx: &Context<'_>,
        input: GroupRef,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: leave(&ctx.caller().await?, input.group_id).await?,
        })
    }

    /// A facilitator removes a member, saying why.
    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveGroupMemberInput,
    ) -> async_graphql::Result<MembershipPayload> {
        Ok(MembershipPayload {
            membership: remove(&ctx.caller().await?, input).await?,
        })
    }
}

/// A user's memberships with the given statuses, each group seen as the
/// caller stands to it (who must be allowed their attendance), with the
/// attendance of all of them loaded at once when the query asks for it.
pub async fn memberships_for_user(
    ctx: &Context<'_>,
    user: Uuid,
    statuses: &[&str],
) -> ApiResult<Vec<GroupMembership>> {
    let lookahead = ctx.look_ahead();
    let attendance =
        lookahead.field("attendance").exists() || lookahead.field("attendanceStreak").exists();
    of_user(&ctx.caller().await?, user, statuses, attendance).await
}

async fn of_user(
    caller: &Caller,
    user: Uuid,
    statuses: &[&str],
    attendance: bool,
) -> ApiResult<Vec<GroupMembership>> {
    let db = caller.db();
    let rows = membership_store::of_user(db, user, statuses).await?;
    let group_ids: Vec<Uuid> = rows.iter().map(|r| r.group_id).collect();
    let groups = group_store::by_ids(db, &group_ids).await?;
    let mut viewer_rows = if user == caller.user_id() {
        rows.iter().map(|r| (r.group_id, r.clone())).collect()
    } else {
        memberships_of(db, caller.user_id(), &group_ids).await?
    };
    let mut histories = if attendance {
        meeting_store::histories(db, &rows).await?
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let group = groups.get(&row.group_id)?.clone();
            let standing = standing(caller.principal(), &group, viewer_rows.remove(&group.id));
            let history = OnceCell::new_with(histories.remove(&row.id));
            Some(GroupMembership {
                row,
                group: SupportGroup::new(group, standing),
                history,
            })
        })
        .collect())
}

/// `SupportGroup.members`: active members to members, everyone else's
/// rows to facilitators.
pub async fn members(
    caller: &Caller,
    group: &SupportGroup,
    status: MembershipStatus,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, GroupMember>> {
    let need = if status == MembershipStatus::Active {
        GroupNeed::Content
    } else {
        GroupNeed::Facilitate
    };
    group.gate(caller, need, MEMBERS_READ)?;
    let max = caller.app().config.limits.max_page_size;
    let page = pagination::page(first, after.as_deref(), max)?;
    let db = caller.db();
    let rows = membership_store::page(db, group.model.id, status, page).await?;
    let people: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let mut people = membership_store::people_in_group(db, group.model.id, &people).await?;
    let facilitating = group.standing.is_facilitator();
    let mut attendance: HashMap<Uuid, (u32, u32)> = if facilitating {
        let members: Vec<group_members::Model> =
            rows.iter().filter(|r| r.role == MEMBER).cloned().collect();
        meeting_store::histories(db, &members)
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
            let member = GroupMember {
                person: people.remove(&row.user_id),
                attendance: attendance.remove(&row.id),
                row,
                facilitating,
                viewer: caller.user_id(),
            };
            (member.row.id, member)
        })
        .collect();
    Ok(pagination::connection(members, page))
}

async fn join(caller: &Caller, input: JoinSupportGroupInput) -> ApiResult<GroupMembership> {
    let alias = check_alias(input.alias.as_deref())?;
    let group = caller
        .group(input.group_id, GroupNeed::See, JOIN)
        .await?
        .group;
    if !may_be_member(&caller.principal().roles, &group.kind) {
        return Err(ApiError::forbidden(
            "your role may not be a member of this kind of group",
        ));
    }
    not_archived(group.archived_at.is_some())?;
    let row = membership_store::join(caller, &group, alias, JOIN).await?;
    let standing = standing(caller.principal(), &group, Some(row.clone()));
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn approve(caller: &Caller, input: GroupMemberRef) -> ApiResult<GroupMembership> {
    let access = caller
        .group(input.group_id, GroupNeed::Facilitate, APPROVE)
        .await?;
    not_archived(access.group.archived_at.is_some())?;
    let row = membership_store::approve(caller, &access.group, input.user_id, APPROVE).await?;
    Ok(GroupMembership::new(row, SupportGroup::reached(access)))
}

async fn add(caller: &Caller, input: AddGroupMemberInput) -> ApiResult<GroupMembership> {
    let alias = check_alias(input.alias.as_deref())?;
    let access = caller
        .group(input.group_id, GroupNeed::Facilitate, ADD)
        .await?;
    let group = &access.group;
    not_archived(group.archived_at.is_some())?;
    let roles =
        membership_store::roles_of(caller.db(), group.organization_id, input.user_id).await?;
    check_new_member(&roles, &group.kind)?;
    let row = membership_store::add(caller, group, input.user_id, alias, ADD).await?;
    Ok(GroupMembership::new(row, SupportGroup::reached(access)))
}

async fn leave(caller: &Caller, group_id: Uuid) -> ApiResult<GroupMembership> {
    let access = caller.group(group_id, GroupNeed::See, LEAVE).await?;
    let group = access.group;
    let row = membership_store::leave(caller, &group, access.standing.membership, LEAVE).await?;
    let standing = standing(caller.principal(), &group, Some(row.clone()));
    Ok(GroupMembership::new(
        row,
        SupportGroup::new(group, standing),
    ))
}

async fn remove(caller: &Caller, input: RemoveGroupMemberInput) -> ApiResult<GroupMembership> {
    let reason = validation::text("reason", &input.reason, REASON_MAX)?;
    let access = caller
        .group(input.group_id, GroupNeed::Facilitate, REMOVE)
        .await?;
    let row =
        membership_store::remove(caller, &access.group, input.user_id, reason, REMOVE).await?;
    Ok(GroupMembership::new(row, SupportGroup::reached(access)))
}
