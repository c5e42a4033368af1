//! Memberships in the database: loading rows and member lists, how people
//! appear in a group (alias or display name), and every write to a
//! membership (joining, approval, adding, leaving, removal, facilitators),
//! each under the group lock when capacity or the last facilitator is at
//! stake, with its audit event in the same transaction.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use entity::{group_members, memberships, recovery_goals, support_groups, users};

use super::{
    group_store::{ensure_room, lock},
    membership_rules::{self, Change, GroupRole, JoinPolicy, MembershipStatus},
};
use crate::{
    audit::Action,
    auth::Role,
    authz::groups::{ACTIVE, FACILITATOR},
    caller::Caller,
    error::{ApiError, ApiResult},
    graphql::pagination::Page,
};

/// One person's row in one group, if any.
pub async fn row_of(
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

/// A user's memberships with the given statuses, oldest first.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user: Uuid,
    statuses: &[&str],
) -> ApiResult<Vec<group_members::Model>> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::UserId.eq(user))
        .filter(group_members::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(group_members::Column::Id)
        .all(db)
        .await?)
}

/// One page of a group's memberships with `status`, in the order they
/// were made.
pub async fn page(
    db: &impl ConnectionTrait,
    group: Uuid,
    status: MembershipStatus,
    page: Page,
) -> ApiResult<Vec<group_members::Model>> {
    let mut query = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::Status.eq(status.as_str()));
    if let Some(after) = page.after {
        query = query.filter(group_members::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(group_members::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

/// The roles a user holds in `organization`.
pub async fn roles_of(
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

/// The group's active facilitators.
pub async fn facilitators(db: &impl ConnectionTrait, group: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(group_members::Entity::find()
        .select_only()
        .column(group_members::Column::UserId)
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::Role.eq(FACILITATOR))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .into_tuple()
        .all(db)
        .await?)
}

/// How someone appears in a group: their alias (else display name), and
/// their account for the viewers allowed to see it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub name: String,
    pub user: users::Model,
}

/// People as they appear in a group, in two queries whatever their number
/// (so lists resolve accounts without a per-row loader batch).
pub async fn people_in_group(
    db: &impl ConnectionTrait,
    group: Uuid,
    people: &[Uuid],
) -> ApiResult<HashMap<Uuid, Shown>> {
    if people.is_empty() {
        return Ok(HashMap::new());
    }
    let mut aliases: HashMap<Uuid, String> = group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::UserId.is_in(people.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| m.alias.map(|a| (m.user_id, a)))
        .collect();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(people.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|user| {
            let name = aliases
                .remove(&user.id)
                .unwrap_or_else(|| user.display_name.clone());
            (user.id, Shown { name, user })
        })
        .collect())
}

/// What a membership row is written as.
struct Put<'a> {
    group: &'a support_groups::Model,
    user: Uuid,
    role: GroupRole,
    status: MembershipStatus,
    /// Kept from the existing row when none.
    alias: Option<String>,
    reason: Option<String>,
    decided_by: Option<Uuid>,
}

/// Writes the membership row (insert or update).
async fn put(
    db: &impl ConnectionTrait,
    existing: Option<group_members::Model>,
    to: Put<'_>,
) -> ApiResult<group_members::Model> {
    let now = Utc::now();
    let joined_at = if to.status == MembershipStatus::Active {
        match &existing {
            Some(row) if row.status == ACTIVE => row.joined_at,
            _ => Some(now),
        }
    } else {
        existing.as_ref().and_then(|r| r.joined_at)
    };
    let row = group_members::Model {
        id: existing.as_ref().map_or_else(Uuid::now_v7, |r| r.id),
        group_id: to.group.id,
        organization_id: to.group.organization_id,
        user_id: to.user,
        role: to.role.as_str().to_owned(),
        status: to.status.as_str().to_owned(),
        alias: to
            .alias
            .or_else(|| existing.as_ref().and_then(|r| r.alias.clone())),
        status_reason: to.reason,
        decided_by_user_id: to.decided_by,
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

fn status_of(row: Option<&group_members::Model>) -> ApiResult<Option<MembershipStatus>> {
    row.map(|r| MembershipStatus::from_row(&r.status))
        .transpose()
}

fn standing_of(
    row: Option<&group_members::Model>,
) -> ApiResult<Option<(GroupRole, MembershipStatus)>> {
    row.map(|r| {
        Ok((
            GroupRole::from_row(&r.role)?,
            MembershipStatus::from_row(&r.status)?,
        ))
    })
    .transpose()
}

/// The caller joins `group` (see `membership_rules::join`), recording
/// `action` on the membership when it changes.
pub async fn join(
    caller: &Caller,
    group: &support_groups::Model,
    alias: Option<String>,
    action: Action,
) -> ApiResult<group_members::Model> {
    let txn = caller.begin().await?;
    lock(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, caller.user_id()).await?;
    let policy = JoinPolicy::from_row(&group.join_policy)?;
    let row = match (
        membership_rules::join(status_of(existing.as_ref())?, policy)?,
        existing,
    ) {
        (Change::To(status), existing) => {
            if status == MembershipStatus::Active {
                ensure_room(&txn, group).await?;
            }
            let to = Put {
                group,
                user: caller.user_id(),
                role: GroupRole::Member,
                status,
                alias,
                reason: None,
                decided_by: None,
            };
            let row = put(&txn, existing, to).await?;
            caller.record(caller.event(action).resource(row.id));
            row
        }
        // Kept: it exists.
        (Change::Keep, existing) => existing.ok_or(ApiError::NotFound("membership"))?,
    };
    caller.commit(txn).await?;
    Ok(row)
}

/// A facilitator approves `user`'s request (see `membership_rules::approve`).
pub async fn approve(
    caller: &Caller,
    group: &support_groups::Model,
    user: Uuid,
    action: Action,
) -> ApiResult<group_members::Model> {
    let txn = caller.begin().await?;
    lock(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, user).await?;
    let change = membership_rules::approve(status_of(existing.as_ref())?)?;
    let row = match (change, existing) {
        (Change::To(_), Some(row)) => {
            ensure_room(&txn, group).await?;
            let to = Put {
                group,
                user: row.user_id,
                role: GroupRole::Member,
                status: MembershipStatus::Active,
                alias: None,
                reason: None,
                decided_by: Some(caller.user_id()),
            };
            let row = put(&txn, Some(row), to).await?;
            caller.record(caller.event(action).resource(row.id));
            row
        }
        (_, existing) => existing.ok_or(ApiError::NotFound("membership request"))?,
    };
    caller.commit(txn).await?;
    Ok(row)
}

/// A facilitator adds `user` (see `membership_rules::add`).
pub async fn add(
    caller: &Caller,
    group: &support_groups::Model,
    user: Uuid,
    alias: Option<String>,
    action: Action,
) -> ApiResult<group_members::Model> {
    let txn = caller.begin().await?;
    lock(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, user).await?;
    let row = match (
        membership_rules::add(status_of(existing.as_ref())?),
        existing,
    ) {
        (Change::Keep, Some(row)) => row,
        (_, existing) => {
            ensure_room(&txn, group).await?;
            let to = Put {
                group,
                user,
                role: GroupRole::Member,
                status: MembershipStatus::Active,
                alias,
                reason: None,
                decided_by: Some(caller.user_id()),
            };
            let row = put(&txn, existing, to).await?;
            caller.record(caller.event(action).resource(row.id));
            row
        }
    };
    caller.commit(txn).await?;
    Ok(row)
}

/// The caller leaves `group` from their membership `row` (see
/// `membership_rules::leave`).
pub async fn leave(
    caller: &Caller,
    group: &support_groups::Model,
    row: Option<group_members::Model>,
    action: Action,
) -> ApiResult<group_members::Model> {
    membership_rules::leave(standing_of(row.as_ref())?)?;
    let txn = caller.begin().await?;
    let to = Put {
        group,
        user: caller.user_id(),
        role: GroupRole::Member,
        status: MembershipStatus::Left,
        alias: None,
        reason: None,
        decided_by: Some(caller.user_id()),
    };
    let row = put(&txn, row, to).await?;
    unshare_all(&txn, group.id, row.user_id).await?;
    caller.record(caller.event(action).resource(row.id));
    caller.commit(txn).await?;
    Ok(row)
}

/// A facilitator removes `user`, saying why (see `membership_rules::remove`).
pub async fn remove(
    caller: &Caller,
    group: &support_groups::Model,
    user: Uuid,
    reason: String,
    action: Action,
) -> ApiResult<group_members::Model> {
    let txn = caller.begin().await?;
    let existing = row_of(&txn, group.id, user).await?;
    let row = match (
        membership_rules::remove(standing_of(existing.as_ref())?)?,
        existing,
    ) {
        (Change::To(_), Some(row)) => {
            let to = Put {
                group,
                user: row.user_id,
                role: GroupRole::Member,
                status: MembershipStatus::Removed,
                alias: None,
                reason: Some(reason),
                decided_by: Some(caller.user_id()),
            };
            let row = put(&txn, Some(row), to).await?;
            unshare_all(&txn, group.id, row.user_id).await?;
            caller.record(caller.event(action).resource(row.id));
            row
        }
        (_, existing) => existing.ok_or(ApiError::NotFound("member"))?,
    };
    caller.commit(txn).await?;
    Ok(row)
}

/// An admin makes `user` a facilitator of `group` (`assign`), or removes
/// them as one: a group keeps at least one. `action` is recorded on the
/// membership either way, changed or not.
pub async fn set_facilitator(
    caller: &Caller,
    group: &support_groups::Model,
    user: Uuid,
    assign: bool,
    action: Action,
) -> ApiResult<group_members::Model> {
    let txn = caller.begin().await?;
    lock(&txn, group.id).await?;
    let existing = row_of(&txn, group.id, user).await?;
    let to = |status| Put {
        group,
        user,
        role: GroupRole::Facilitator,
        status,
        alias: None,
        reason: None,
        decided_by: Some(caller.user_id()),
    };
    let row = if assign {
        let roles = roles_of(&txn, group.organization_id, user).await?;
        if !membership_rules::may_facilitate(&roles) {
            return Err(ApiError::bad_input(
                "userId",
                "facilitators are facilitators or clinicians of this organization",
            ));
        }
        match existing {
            Some(row) if row.role == FACILITATOR && row.status == ACTIVE => row,
            existing => put(&txn, existing, to(MembershipStatus::Active)).await?,
        }
    } else {
        let Some(row) = existing.filter(|r| r.role == FACILITATOR) else {
            return Err(ApiError::NotFound("facilitator"));
        };
        if row.status != ACTIVE {
            row
        } else if other_facilitators(&txn, group.id, user).await? == 0 {
            return Err(ApiError::conflict(
                "a group keeps at least one facilitator: assign another first",
            ));
        } else {
            let row = put(&txn, Some(row), to(MembershipStatus::Removed)).await?;
            unshare_all(&txn, group.id, row.user_id).await?;
            row
        }
    };
    caller.record(caller.event(action).resource(row.id));
    caller.commit(txn).await?;
    Ok(row)
}

/// Active facilitators of the group other than `user`.
async fn other_facilitators(db: &impl ConnectionTrait, group: Uuid, user: Uuid) -> ApiResult<u64> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::Role.eq(FACILITATOR))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .filter(group_members::Column::UserId.ne(user))
        .count(db)
        .await?)
}

/// `user`'s goals stop being shared with `group` (they left it or were
/// removed), inside the caller's transaction.
async fn unshare_all(db: &impl ConnectionTrait, group: Uuid, user: Uuid) -> ApiResult<()> {
    recovery_goals::Entity::update_many()
        .col_expr(
            recovery_goals::Column::SharedGroupId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            recovery_goals::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(recovery_goals::Column::UserId.eq(user))
        .filter(recovery_goals::Column::SharedGroupId.eq(group))
        .exec(db)
        .await?;
    Ok(())
}
