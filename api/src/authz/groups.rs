//! Who may do what in a support group.
//!
//! | caller | may |
//! |---|---|
//! | active facilitator | everything in the group: members, meetings, attendance, posts (including who wrote anonymous ones, audited), moderation |
//! | active member | the group's content: members' aliases, meetings and their link, posts, shared goals |
//! | pending member | the group's description and their own request |
//! | admin of the organization | the group and its facilitators (to assign them); never members or posts |
//! | patient, supporter (`FAMILY` groups), clinician, facilitator of the organization | discover groups that are neither invite-only nor archived, without their members |
//!
//! Nothing crosses organizations. A group the caller may not see is
//! `NOT_FOUND`; a visible group's part they may not reach is `FORBIDDEN`.
//! A patient's memberships and attendance reach others only through the
//! patient's record (`GROUP_ACTIVITY` consent), never its posts.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use entity::{group_members, support_groups};

use crate::{
    audit::Kind,
    auth::{Principal, Role},
    error::ApiResult,
    groups::membership_rules::{JoinPolicy, SupportGroupKind, is_family, is_invite_only},
};

/// Groups as the audit trail and `NOT_FOUND` messages name them.
pub const GROUP: Kind = Kind::new("SupportGroup", "support group");

// The stored roles and statuses of `group_members` (the same text as
// `groups::membership_rules::{GroupRole, MembershipStatus}`), for the
// queries and checks that compare them.
pub const FACILITATOR: &str = "FACILITATOR";
pub const MEMBER: &str = "MEMBER";
pub const PENDING: &str = "PENDING";
pub const ACTIVE: &str = "ACTIVE";
pub const LEFT: &str = "LEFT";
pub const REMOVED: &str = "REMOVED";

/// How the caller stands to one group.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// The caller's own row, whatever its status.
    pub membership: Option<group_members::Model>,
    /// An admin of the group's organization.
    pub admin: bool,
    /// May find the group without belonging to it.
    pub discoverable: bool,
}

/// What an operation needs of the standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupNeed {
    /// The group's description and facilitators.
    See,
    /// Members, meetings, posts, shared goals: active members and facilitators.
    Content,
    /// Moderation, attendance, meetings, membership decisions: facilitators.
    Facilitate,
    /// Settings and archiving: facilitators and admins.
    Manage,
    /// Assigning facilitators: admins.
    Administer,
}

impl GroupNeed {
    /// What a caller refused for this need lacks, for `FORBIDDEN` messages.
    pub fn missing(self) -> &'static str {
        match self {
            GroupNeed::See => "not in this group's organization",
            GroupNeed::Content => "not a member of this group",
            GroupNeed::Facilitate => "not a facilitator of this group",
            GroupNeed::Manage => "not a facilitator of this group nor an admin",
            GroupNeed::Administer => "not an admin of this group's organization",
        }
    }
}

impl Standing {
    fn active_as(&self, role: &str) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.status == ACTIVE && m.role == role)
    }

    pub fn is_facilitator(&self) -> bool {
        self.active_as(FACILITATOR)
    }

    pub fn is_member(&self) -> bool {
        self.active_as(MEMBER)
    }

    pub fn is_pending(&self) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.status == PENDING)
    }

    pub fn allows(&self, need: GroupNeed) -> bool {
        let facilitator = self.is_facilitator();
        match need {
            GroupNeed::See => {
                facilitator
                    || self.is_member()
                    || self.is_pending()
                    || self.admin
                    || self.discoverable
            }
            GroupNeed::Content => facilitator || self.is_member(),
            GroupNeed::Facilitate => facilitator,
            GroupNeed::Manage => facilitator || self.admin,
            GroupNeed::Administer => self.admin,
        }
    }
}

/// Whether `principal` may find `group` without belonging to it: open or
/// approval groups, not archived, to the roles that could join or refer
/// (supporters only to `FAMILY` groups).
pub fn discoverable(principal: &Principal, group: &support_groups::Model) -> bool {
    if group.organization_id != principal.organization_id
        || group.archived_at.is_some()
        || is_invite_only(&group.join_policy)
    {
        return false;
    }
    principal.has_role(Role::Patient)
        || principal.has_role(Role::Clinician)
        || principal.has_role(Role::Facilitator)
        || (principal.has_role(Role::Supporter) && is_family(&group.kind))
}

/// How `principal` stands to `group`, from their own membership row.
pub fn standing(
    principal: &Principal,
    group: &support_groups::Model,
    membership: Option<group_members::Model>,
) -> Standing {
    if group.organization_id != principal.organization_id {
        return Standing::default();
    }
    Standing {
        membership,
        admin: principal.has_role(Role::Admin),
        discoverable: discoverable(principal, group),
    }
}

/// The caller's rows in a set of groups, in one query.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    user: Uuid,
    groups: &[Uuid],
) -> ApiResult<HashMap<Uuid, group_members::Model>> {
    if groups.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(group_members::Entity::find()
        .filter(group_members::Column::UserId.eq(user))
        .filter(group_members::Column::GroupId.is_in(groups.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.group_id, m))
        .collect())
}

/// The SQL condition on `support_groups` for the groups the caller may see.
pub fn visible_groups(principal: &Principal) -> Condition {
    let in_org = support_groups::Column::OrganizationId.eq(principal.organization_id);
    if principal.has_role(Role::Admin) {
        return Condition::all().add(in_org);
    }
    let mine = support_groups::Column::Id.in_subquery(
        Query::select()
            .column(group_members::Column::GroupId)
            .from(group_members::Entity)
            .and_where(Expr::col(group_members::Column::UserId).eq(principal.user_id))
            .and_where(Expr::col(group_members::Column::Status).is_in([ACTIVE, PENDING]))
            .to_owned(),
    );
    let mut any = Condition::any().add(mine);
    let open = Condition::all()
        .add(support_groups::Column::ArchivedAt.is_null())
        .add(support_groups::Column::JoinPolicy.ne(JoinPolicy::InviteOnly.as_str()));
    if principal.has_role(Role::Patient)
        || principal.has_role(Role::Clinician)
        || principal.has_role(Role::Facilitator)
    {
        any = any.add(open);
    } else if principal.has_role(Role::Supporter) {
        any = any.add(open.add(support_groups::Column::Kind.eq(SupportGroupKind::Family.as_str())));
    }
    Condition::all().add(in_org).add(any)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn member(role: &str, status: &str) -> Option<group_members::Model> {
        let now = Utc::now();
        Some(group_members::Model {
            id: Uuid::now_v7(),
            group_id: Uuid::nil(),
            organization_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: role.to_owned(),
            status: status.to_owned(),
            alias: None,
            status_reason: None,
            decided_by_user_id: None,
            joined_at: None,
            created_at: now,
            updated_at: now,
        })
    }

    #[test]
    fn the_constants_are_the_stored_enums() {
        use crate::groups::membership_rules::{GroupRole, MembershipStatus};
        assert_eq!(GroupRole::Facilitator.as_str(), FACILITATOR);
        assert_eq!(GroupRole::Member.as_str(), MEMBER);
        assert_eq!(MembershipStatus::Pending.as_str(), PENDING);
        assert_eq!(MembershipStatus::Active.as_str(), ACTIVE);
        assert_eq!(MembershipStatus::Left.as_str(), LEFT);
        assert_eq!(MembershipStatus::Removed.as_str(), REMOVED);
    }

    #[test]
    fn the_group_policy_table() {
        use GroupNeed::*;
        let facilitator = Standing {
            membership: member(FACILITATOR, ACTIVE),
            ..Standing::default()
        };
        let removed_facilitator = Standing {
            membership: member(FACILITATOR, REMOVED),
            ..Standing::default()
        };
        let active = Standing {
            membership: member(MEMBER, ACTIVE),
            ..Standing::default()
        };
        let pending = Standing {
            membership: member(MEMBER, PENDING),
            ..Standing::default()
        };
        let left = Standing {
            membership: member(MEMBER, LEFT),
            ..Standing::default()
        };
        let admin = Standing {
            admin: true,
            ..Standing::default()
        };
        let browser = Standing {
            discoverable: true,
            ..Standing::default()
        };
        let stranger = Standing::default();
        let cases = [
            (&facilitator, See, true),
            (&facilitator, Content, true),
            (&facilitator, Facilitate, true),
            (&facilitator, Manage, true),
            (&facilitator, Administer, false),
            (&removed_facilitator, Content, false),
            (&removed_facilitator, Facilitate, false),
            (&active, See, true),
            (&active, Content, true),
            (&active, Facilitate, false),
            (&active, Manage, false),
            (&pending, See, true),
            (&pending, Content, false),
            (&left, See, false),
            (&left, Content, false),
            (&admin, See, true),
            (&admin, Content, false),
            (&admin, Facilitate, false),
            (&admin, Manage, true),
            (&admin, Administer, true),
            (&browser, See, true),
            (&browser, Content, false),
            (&stranger, See, false),
        ];
        for (standing, need, allowed) in cases {
            assert_eq!(standing.allows(need), allowed, "{standing:?} {need:?}");
        }
    }
}
