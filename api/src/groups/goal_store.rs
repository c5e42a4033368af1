//! Recovery goals in the database: a patient's own goals, the goals shared
//! with a group, their reactions, and the owner's writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use uuid::Uuid;

use entity::{goal_reactions, recovery_goals, users};

use super::{
    post_store::reaction_summary,
    rules::{ReactionCount, ReactionKind},
};
use crate::{audit::AuditEvent, caller::Caller, error::ApiResult, graphql::pagination::Page};

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<recovery_goals::Model>> {
    Ok(recovery_goals::Entity::find_by_id(id).one(db).await?)
}

/// Whose goals a page lists.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// One person's, changed since a time (for a phone's sync) if given.
    User(Uuid, Option<DateTime<Utc>>),
    /// Those shared with a group.
    SharedWith(Uuid),
}

/// One page of goals, newest first.
pub async fn page(
    db: &impl ConnectionTrait,
    owner: Owner,
    page: Page,
) -> ApiResult<Vec<recovery_goals::Model>> {
    let mut query = recovery_goals::Entity::find();
    query = match owner {
        Owner::User(user, since) => {
            let query = query.filter(recovery_goals::Column::UserId.eq(user));
            match since {
                Some(since) => query.filter(recovery_goals::Column::UpdatedAt.gte(since)),
                None => query,
            }
        }
        Owner::SharedWith(group) => query.filter(recovery_goals::Column::SharedGroupId.eq(group)),
    };
    if let Some(after) = page.after {
        query = query.filter(recovery_goals::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(recovery_goals::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

/// Reactions on a set of goals: counts per kind, and the viewer's own.
#[allow(clippy::type_complexity)]
pub async fn reactions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    me: Uuid,
) -> ApiResult<(
    HashMap<Uuid, Vec<ReactionCount>>,
    HashMap<Uuid, Vec<ReactionKind>>,
)> {
    reaction_summary::<goal_reactions::Entity>(
        db,
        goal_reactions::Column::GoalId,
        goal_reactions::Column::Kind,
        goal_reactions::Column::UserId,
        ids,
        me,
    )
    .await
}

/// A user's display name (how their own goals name them).
pub async fn display_name(db: &impl ConnectionTrait, user: Uuid) -> ApiResult<String> {
    Ok(users::Entity::find_by_id(user)
        .one(db)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default())
}

/// A new goal, with `done` on the trail.
pub async fn create(
    caller: &Caller,
    goal: &recovery_goals::Model,
    done: AuditEvent,
) -> ApiResult<()> {
    let txn = caller.begin().await?;
    recovery_goals::Entity::insert(recovery_goals::ActiveModel::from(goal.clone()))
        .exec_without_returning(&txn)
        .await?;
    caller.record(done);
    caller.commit(txn).await
}

/// Writes a goal's progress and status.
pub async fn update_progress(caller: &Caller, goal: &recovery_goals::Model) -> ApiResult<()> {
    write(
        caller,
        recovery_goals::ActiveModel {
            id: sea_orm::Unchanged(goal.id),
            progress_percent: Set(goal.progress_percent),
            status: Set(goal.status.clone()),
            updated_at: Set(goal.updated_at),
            ..Default::default()
        },
    )
    .await
}

/// Writes the group a goal is shared with (none: not shared).
pub async fn share(caller: &Caller, goal: &recovery_goals::Model) -> ApiResult<()> {
    write(
        caller,
        recovery_goals::ActiveModel {
            id: sea_orm::Unchanged(goal.id),
            shared_group_id: Set(goal.shared_group_id),
            updated_at: Set(goal.updated_at),
            ..Default::default()
        },
    )
    .await
}

async fn write(caller: &Caller, change: recovery_goals::ActiveModel) -> ApiResult<()> {
    let txn = caller.begin().await?;
    recovery_goals::Entity::update(change).exec(&txn).await?;
    caller.commit(txn).await
}

/// The caller's reaction of `kind` to a goal: added (again: no change) or
/// taken back.
pub async fn react(caller: &Caller, goal: Uuid, kind: ReactionKind, add: bool) -> ApiResult<()> {
    let txn = caller.begin().await?;
    if add {
        goal_reactions::Entity::insert(goal_reactions::ActiveModel {
            goal_id: Set(goal),
            user_id: Set(caller.user_id()),
            kind: Set(kind.as_str().to_owned()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([
                goal_reactions::Column::GoalId,
                goal_reactions::Column::UserId,
                goal_reactions::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    } else {
        goal_reactions::Entity::delete_many()
            .filter(goal_reactions::Column::GoalId.eq(goal))
            .filter(goal_reactions::Column::UserId.eq(caller.user_id()))
            .filter(goal_reactions::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
    }
    caller.commit(txn).await
}
