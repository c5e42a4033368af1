//! Recovery goals for accountability: a patient sets goals and tracks
//! progress, and may share one with a group they belong to, whose members
//! see its progress (under the owner's alias) and cheer it on.

use std::collections::HashMap;

use async_graphql::{
    Context, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use uuid::Uuid;

use entity::{goal_reactions, recovery_goals};

use super::{
    membership::SupportGroup,
    posts::{ReactionCount, ReactionKind, people_in_group, reaction_summary},
    stored_enum,
};
use crate::{
    audit::{self, AuditEvent},
    auth::{Principal, Role},
    authz::{
        self,
        groups::{GroupNeed, authorize_group, authorize_in_group},
    },
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    validation,
    validation::optional_text,
};

stored_enum!(GoalStatus {
    Active => "ACTIVE",
    Achieved => "ACHIEVED",
    Abandoned => "ABANDONED",
});

/// A recovery goal, as one viewer may see it.
pub struct Goal {
    model: recovery_goals::Model,
    viewer: Uuid,
    owner_name: String,
    reactions: Vec<ReactionCount>,
    my_reactions: Vec<ReactionKind>,
}

#[Object]
impl Goal {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn title(&self) -> &str {
        &self.model.title
    }
    async fn description(&self) -> Option<&str> {
        self.model.description.as_deref()
    }
    async fn target_on(&self) -> Option<Date> {
        self.model.target_on.map(Date)
    }
    /// 0–100.
    async fn progress_percent(&self) -> i32 {
        self.model.progress_percent
    }
    async fn status(&self) -> async_graphql::Result<GoalStatus> {
        Ok(GoalStatus::from_row(&self.model.status)?)
    }
    /// The owner's alias in the group it is shared with (else their
    /// display name, to themselves).
    async fn owner_display_name(&self) -> &str {
        &self.owner_name
    }
    async fn is_mine(&self) -> bool {
        self.model.user_id == self.viewer
    }
    /// The group it is shared with (the owner only).
    async fn shared_with_group_id(&self) -> Option<Uuid> {
        if self.model.user_id == self.viewer {
            self.model.shared_group_id
        } else {
            None
        }
    }
    async fn reactions(&self) -> &[ReactionCount] {
        &self.reactions
    }
    async fn my_reactions(&self) -> &[ReactionKind] {
        &self.my_reactions
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateGoalInput {
    /// 1–200 characters.
    pub title: String,
    /// Up to 2,000 characters.
    pub description: Option<String>,
    pub target_on: Option<Date>,
    /// Share it with a group the caller is an active member of.
    pub share_with_group_id: Option<Uuid>,
}

#[derive(InputObject)]
pub struct UpdateGoalProgressInput {
    pub goal_id: Uuid,
    /// 0–100; reaching 100 marks the goal achieved unless `status` says
    /// otherwise.
    pub progress_percent: i32,
    pub status: Option<GoalStatus>,
}

#[derive(InputObject)]
pub struct ShareGoalInput {
    pub goal_id: Uuid,
    /// A group the caller is an active member of; null stops sharing.
    pub group_id: MaybeUndefined<Uuid>,
}

#[derive(InputObject)]
pub struct GoalReactionInput {
    pub goal_id: Uuid,
    pub kind: ReactionKind,
}

#[derive(SimpleObject)]
pub struct GoalPayload {
    pub goal: Goal,
}

#[derive(Default)]
pub struct GoalsQuery;

#[Object]
impl GoalsQuery {
    /// The caller's own goals, newest first; with `updatedSince`, those
    /// changed since (for a phone's incremental sync).
    async fn my_goals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, Goal>> {
        Ok(my_goals(ctx, first, after, updated_since).await?)
    }
}

#[derive(Default)]
pub struct GoalsMutation;

#[Object]
impl GoalsMutation {
    /// A patient sets a goal, optionally shared with one of their groups.
    async fn create_goal(
        &self,
        ctx: &Context<'_>,
        input: CreateGoalInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: create(ctx, input).await?,
        })
    }

    /// The owner records progress (and may change the status).
    async fn update_goal_progress(
        &self,
        ctx: &Context<'_>,
        input: UpdateGoalProgressInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: update_progress(ctx, input).await?,
        })
    }

    /// The owner shares a goal with a group, moves it, or stops sharing.
    async fn share_goal(
        &self,
        ctx: &Context<'_>,
        input: ShareGoalInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: share(ctx, input).await?,
        })
    }

    /// A member of the group a goal is shared with encourages it.
    async fn react_to_goal(
        &self,
        ctx: &Context<'_>,
        input: GoalReactionInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: react(ctx, input, true).await?,
        })
    }

    /// A member takes their reaction to a goal back.
    async fn remove_goal_reaction(
        &self,
        ctx: &Context<'_>,
        input: GoalReactionInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: react(ctx, input, false).await?,
        })
    }
}

/// Goals with reactions and the owner's name in the group, in a constant
/// number of queries.
async fn hydrate(
    db: &DatabaseConnection,
    principal: &Principal,
    group: Option<Uuid>,
    rows: Vec<recovery_goals::Model>,
) -> ApiResult<Vec<Goal>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let me = principal.user_id;
    let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
    let (mut reactions, mut mine) = reaction_summary::<goal_reactions::Entity>(
        db,
        goal_reactions::Column::GoalId,
        goal_reactions::Column::Kind,
        goal_reactions::Column::UserId,
        &ids,
        me,
    )
    .await?;
    let mut owners: Vec<Uuid> = rows.iter().map(|g| g.user_id).collect();
    owners.sort();
    owners.dedup();
    let names = match group {
        Some(group) => people_in_group(db, group, &owners)
            .await?
            .into_iter()
            .map(|(id, shown)| (id, shown.name))
            .collect(),
        None => HashMap::new(),
    };
    let own_name = if group.is_none() {
        entity::users::Entity::find_by_id(me)
            .one(db)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(rows
        .into_iter()
        .map(|model| Goal {
            owner_name: names
                .get(&model.user_id)
                .cloned()
                .unwrap_or_else(|| own_name.clone()),
            viewer: me,
            reactions: reactions.remove(&model.id).unwrap_or_default(),
            my_reactions: mine.remove(&model.id).unwrap_or_default(),
            model,
        })
        .collect())
}

async fn my_goals(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    updated_since: Option<DateTime<Utc>>,
) -> ApiResult<Connection<String, Goal>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query =
        recovery_goals::Entity::find().filter(recovery_goals::Column::UserId.eq(principal.user_id));
    if let Some(since) = updated_since {
        query = query.filter(recovery_goals::Column::UpdatedAt.gte(since));
    }
    if let Some(after) = page.after {
        query = query.filter(recovery_goals::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(recovery_goals::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?;
    let goals = hydrate(db, principal, None, rows).await?;
    Ok(pagination::connection(
        goals.into_iter().map(|g| (g.model.id, g)).collect(),
        page,
    ))
}

/// `SupportGroup.sharedGoals`: members and facilitators, newest first.
pub async fn shared_with(
    ctx: &Context<'_>,
    group: &SupportGroup,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Goal>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    group
        .gate(ctx, GroupNeed::Content, "group.goals.read")
        .await?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = recovery_goals::Entity::find()
        .filter(recovery_goals::Column::SharedGroupId.eq(group.model.id));
    if let Some(after) = page.after {
        query = query.filter(recovery_goals::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(recovery_goals::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?;
    let goals = hydrate(db, principal, Some(group.model.id), rows).await?;
    Ok(pagination::connection(
        goals.into_iter().map(|g| (g.model.id, g)).collect(),
        page,
    ))
}

/// Checks the caller may share into `group`: an active member.
async fn shareable(ctx: &Context<'_>, group: Uuid) -> ApiResult<()> {
    let principal = ctx.principal().await?;
    let (_, standing) = authorize_group(
        ctx.db()?,
        principal,
        ctx.request_id(),
        group,
        GroupNeed::Content,
        "group.goal.share",
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) | ApiError::Forbidden => ApiError::bad_input(
            "groupId",
            "goals are shared with a group you are an active member of",
        ),
        other => other,
    })?;
    if !standing.is_member() {
        return Err(ApiError::bad_input(
            "groupId",
            "goals are shared with a group you are an active member of",
        ));
    }
    Ok(())
}

async fn one(ctx: &Context<'_>, goal: recovery_goals::Model) -> ApiResult<Goal> {
    let principal = ctx.principal().await?;
    let group = goal.shared_group_id;
    hydrate(ctx.db()?, principal, group, vec![goal])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("goal"))
}

async fn create(ctx: &Context<'_>, input: CreateGoalInput) -> ApiResult<Goal> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "goal.create";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Patient],
        action,
        "Goal",
    )
    .await?;
    let title = validation::text("title", &input.title, 200)?;
    let description = optional_text("description", input.description.as_deref(), 2000)?;
    if let Some(group) = input.share_with_group_id {
        shareable(ctx, group).await.map_err(|err| match err {
            ApiError::BadInput { message, .. } => ApiError::bad_input("shareWithGroupId", message),
            other => other,
        })?;
    }
    let now = Utc::now();
    let goal = recovery_goals::Model {
        id: Uuid::now_v7(),
        organization_id: principal.organization_id,
        user_id: principal.user_id,
        title,
        description,
        target_on: input.target_on.map(|d| d.0),
        progress_percent: 0,
        status: GoalStatus::Active.as_str().to_owned(),
        shared_group_id: input.share_with_group_id,
        created_at: now,
        updated_at: now,
    };
    recovery_goals::Entity::insert(recovery_goals::ActiveModel::from(goal.clone()))
        .exec_without_returning(db)
        .await?;
    audit::record(
        db,
        ctx.request_id(),
        AuditEvent::by(principal, action, "Goal", Some(goal.id), None, true),
    )
    .await?;
    one(ctx, goal).await
}

/// The caller's own goal; anyone else's is `NOT_FOUND`.
async fn own_goal(ctx: &Context<'_>, goal_id: Uuid) -> ApiResult<recovery_goals::Model> {
    let principal = ctx.principal().await?;
    recovery_goals::Entity::find_by_id(goal_id)
        .one(ctx.db()?)
        .await?
        .filter(|g| g.user_id == principal.user_id)
        .ok_or(ApiError::NotFound("goal"))
}

async fn update_progress(ctx: &Context<'_>, input: UpdateGoalProgressInput) -> ApiResult<Goal> {
    let mut goal = own_goal(ctx, input.goal_id).await?;
    if !(0..=100).contains(&input.progress_percent) {
        return Err(ApiError::bad_input(
            "progressPercent",
            "progressPercent must be from 0 to 100",
        ));
    }
    let status = input.status.unwrap_or(if input.progress_percent == 100 {
        GoalStatus::Achieved
    } else {
        GoalStatus::from_row(&goal.status)?
    });
    goal.progress_percent = input.progress_percent;
    goal.status = status.as_str().to_owned();
    goal.updated_at = Utc::now();
    recovery_goals::Entity::update(recovery_goals::ActiveModel {
        id: sea_orm::Unchanged(goal.id),
        progress_percent: Set(goal.progress_percent),
        status: Set(goal.status.clone()),
        updated_at: Set(goal.updated_at),
        ..Default::default()
    })
    .exec(ctx.db()?)
    .await?;
    one(ctx, goal).await
}

async fn share(ctx: &Context<'_>, input: ShareGoalInput) -> ApiResult<Goal> {
    let mut goal = own_goal(ctx, input.goal_id).await?;
    let group = match input.group_id {
        MaybeUndefined::Value(group) => {
            shareable(ctx, group).await?;
            Some(group)
        }
        MaybeUndefined::Null | MaybeUndefined::Undefined => None,
    };
    goal.shared_group_id = group;
    goal.updated_at = Utc::now();
    recovery_goals::Entity::update(recovery_goals::ActiveModel {
        id: sea_orm::Unchanged(goal.id),
        shared_group_id: Set(goal.shared_group_id),
        updated_at: Set(goal.updated_at),
        ..Default::default()
    })
    .exec(ctx.db()?)
    .await?;
    one(ctx, goal).await
}

async fn react(ctx: &Context<'_>, input: GoalReactionInput, add: bool) -> ApiResult<Goal> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let goal = recovery_goals::Entity::find_by_id(input.goal_id)
        .one(db)
        .await?;
    // A goal is the group's content where it is shared, and nobody else's
    // to know of: an unshared goal or an outsider gets `NOT_FOUND`.
    let group = goal.as_ref().and_then(|g| g.shared_group_id);
    authorize_in_group(
        db,
        principal,
        ctx.request_id(),
        group.unwrap_or(Uuid::nil()),
        GroupNeed::Content,
        GroupNeed::Content,
        "group.goal.react",
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("goal"),
        other => other,
    })?;
    let goal = goal.ok_or(ApiError::NotFound("goal"))?;
    if add {
        goal_reactions::Entity::insert(goal_reactions::ActiveModel {
            goal_id: Set(goal.id),
            user_id: Set(principal.user_id),
            kind: Set(input.kind.as_str().to_owned()),
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
        .exec_without_returning(db)
        .await?;
    } else {
        goal_reactions::Entity::delete_many()
            .filter(goal_reactions::Column::GoalId.eq(goal.id))
            .filter(goal_reactions::Column::UserId.eq(principal.user_id))
            .filter(goal_reactions::Column::Kind.eq(input.kind.as_str()))
            .exec(db)
            .await?;
    }
    one(ctx, goal).await
}
