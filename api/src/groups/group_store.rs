//! Support groups in the database: loading the groups a caller may see,
//! creating, updating and archiving them, and the group lock under which
//! capacity is checked (so a full group never takes one member too many).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use entity::{group_members, support_groups};

use crate::{
    audit::AuditEvent,
    auth::Principal,
    authz::groups::{ACTIVE, MEMBER, visible_groups},
    caller::Caller,
    error::{ApiError, ApiResult},
};

/// The groups `principal` may see, by name.
pub async fn visible(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> ApiResult<Vec<support_groups::Model>> {
    Ok(support_groups::Entity::find()
        .filter(visible_groups(principal))
        .order_by_asc(support_groups::Column::Name)
        .order_by_asc(support_groups::Column::Id)
        .all(db)
        .await?)
}

/// Groups by id, in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, support_groups::Model>> {
    Ok(support_groups::Entity::find()
        .filter(support_groups::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect())
}

/// A new group and its first facilitator, with `done` on the trail.
pub async fn create(
    caller: &Caller,
    group: &support_groups::Model,
    facilitator: &group_members::Model,
    done: AuditEvent,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    support_groups::Entity::insert(support_groups::ActiveModel::from(group.clone()))
        .exec_without_returning(&txn)
        .await?;
    group_members::Entity::insert(group_members::ActiveModel::from(facilitator.clone()))
        .exec_without_returning(&txn)
        .await?;
    caller.record(done);
    caller.commit(txn).await
}

/// Writes a group's settings. A capacity below the current number of
/// active members is refused (checked under the group lock).
pub async fn update(caller: &Caller, next: &support_groups::Model) -> ApiResult<()> {
    let txn = caller.begin().await?;
    lock(&txn, next.id).await?;
    if let Some(capacity) = next.capacity {
        let active = active_members(&txn, next.id).await?;
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
    caller.commit(txn).await
}

/// Archives a group (unless it already is) at `now`.
pub async fn archive(caller: &Caller, group: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    let txn = caller.begin().await?;
    support_groups::Entity::update_many()
        .col_expr(support_groups::Column::ArchivedAt, Expr::value(now))
        .col_expr(support_groups::Column::UpdatedAt, Expr::value(now))
        .filter(support_groups::Column::Id.eq(group))
        .filter(support_groups::Column::ArchivedAt.is_null())
        .exec(&txn)
        .await?;
    caller.commit(txn).await
}

/// Takes the group's row lock for the rest of the transaction, so that
/// capacity checks and the writes after them are serialized per group.
pub async fn lock(db: &impl ConnectionTrait, group: Uuid) -> ApiResult<()> {
    support_groups::Entity::update_many()
        .col_expr(support_groups::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(support_groups::Column::Id.eq(group))
        .exec(db)
        .await?;
    Ok(())
}

/// Active members (facilitators not counted).
pub async fn active_members(db: &impl ConnectionTrait, group: Uuid) -> ApiResult<u64> {
    Ok(group_members::Entity::find()
        .filter(group_members::Column::GroupId.eq(group))
        .filter(group_members::Column::Role.eq(MEMBER))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .count(db)
        .await?)
}

/// Within a transaction holding the group lock: refuses when the group is
/// full.
pub async fn ensure_room(
    db: &impl ConnectionTrait,
    group: &support_groups::Model,
) -> ApiResult<()> {
    if let Some(capacity) = group.capacity
        && active_members(db, group.id).await? >= capacity as u64
    {
        return Err(ApiError::conflict("the group is full"));
    }
    Ok(())
}
