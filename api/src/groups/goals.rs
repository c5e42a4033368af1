//! Recovery goals for accountability: a patient sets goals and tracks
//! progress, and may share one with a group they belong to, whose members
//! see its progress (under the owner's alias) and cheer it on.

use std::collections::HashMap;

use async_graphql::{
    Context, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::recovery_goals;

use super::{
    goal_store::{self, Owner},
    groups::SupportGroup,
    membership_store::people_in_group,
    rules::{self, GoalStatus, MAX_GOAL_DESCRIPTION, MAX_GOAL_TITLE, ReactionCount, ReactionKind},
};
use crate::{
    audit::{Action, Kind},
    auth::Role,
    authz::groups::{GROUP, GroupNeed},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::{pagination, scalars::Date},
    validation::{self, optional_text},
};

/// Goals as the audit trail and `NOT_FOUND` messages name them.
pub const GOAL: Kind = Kind::new("Goal", "goal");

pub const CREATE: Action = GOAL.action("goal.create");
/// Sharing into a group is decided on the group.
pub const SHARE: Action = GROUP.action("group.goal.share");
pub const REACT: Action = GOAL.action("group.goal.react");
pub const GOALS_READ: Action = GROUP.action("group.goals.read");

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
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn my_goals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        updated_since: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, Goal>> {
        crate::graphql::scalars::check_optional_instant(
            "updatedSince",
            updated_since,
            chrono::Utc::now(),
        )
        .map_err(crate::error::ApiError::from)?;
        let caller = ctx.caller().await?;
        let owner = Owner::User(caller.user_id(), updated_since);
        Ok(page(&caller, owner, None, first, after).await?)
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
            goal: create(&ctx.caller().await?, input).await?,
        })
    }

    /// The owner records progress (and may change the status).
    async fn update_goal_progress(
        &self,
        ctx: &Context<'_>,
        input: UpdateGoalProgressInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: update_progress(&ctx.caller().await?, input).await?,
        })
    }

    /// The owner shares a goal with a group, moves it, or stops sharing.
    async fn share_goal(
        &self,
        ctx: &Context<'_>,
        input: ShareGoalInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: share(&ctx.caller().await?, input).await?,
        })
    }

    /// A member of the group a goal is shared with encourages it.
    async fn react_to_goal(
        &self,
        ctx: &Context<'_>,
        input: GoalReactionInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: react(&ctx.caller().await?, input, true).await?,
        })
    }

    /// A member takes their reaction to a goal back.
    async fn remove_goal_reaction(
        &self,
        ctx: &Context<'_>,
        input: GoalReactionInput,
    ) -> async_graphql::Result<GoalPayload> {
        Ok(GoalPayload {
            goal: react(&ctx.caller().await?, input, false).await?,
        })
    }
}

/// Goals with reactions and the owner's name in the group (`group`), else
/// the caller's own name, in a constant number of queries.
async fn hydrate(
    caller: &Caller,
    group: Option<Uuid>,
    rows: Vec<recovery_goals::Model>,
) -> ApiResult<Vec<Goal>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (db, me) = (caller.db(), caller.user_id());
    let ids: Vec<Uuid> = rows.iter().map(|g| g.id).collect();
    let (mut reactions, mut mine) = goal_store::reactions(db, &ids, me).await?;
    let mut owners: Vec<Uuid> = rows.iter().map(|g| g.user_id).collect();
    owners.sort();
    owners.dedup();
    let (names, own_name): (HashMap<Uuid, String>, String) = match group {
        Some(group) => {
            let people = people_in_group(db, group, &owners).await?;
            let names = people.into_iter().map(|(id, shown)| (id, shown.name));
            (names.collect(), String::new())
        }
        None => (HashMap::new(), goal_store::display_name(db, me).await?),
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

/// One page of `owner`'s goals, named as in `group` (if any).
async fn page(
    caller: &Caller,
    owner: Owner,
    group: Option<Uuid>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Goal>> {
    let max = caller.app().config.limits.max_page_size;
    let page = pagination::page(first, after.as_deref(), max)?;
    let rows = goal_store::page(caller.db(), owner, page).await?;
    let goals = hydrate(caller, group, rows).await?;
    Ok(pagination::connection(
        goals.into_iter().map(|g| (g.model.id, g)).collect(),
        page,
    ))
}

/// `SupportGroup.sharedGoals`: members and facilitators, newest first.
pub async fn shared_with(
    caller: &Caller,
    group: &SupportGroup,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Goal>> {
    group.gate(caller, GroupNeed::Content, GOALS_READ)?;
    let id = group.model.id;
    page(caller, Owner::SharedWith(id), Some(id), first, after).await
}

/// Checks the caller may share into `group`: an active member.
async fn shareable(caller: &Caller, group: Uuid) -> ApiResult<()> {
    let refused = || {
        ApiError::bad_input(
            "groupId",
            "goals are shared with a group you are an active member of",
        )
    };
    let access = caller
        .group(group, GroupNeed::Content, SHARE)
        .await
        .map_err(|err| match err {
            ApiError::NotFound(_) | ApiError::Forbidden(_) => refused(),
            other => other,
        })?;
    if !access.standing.is_member() {
        return Err(refused());
    }
    Ok(())
}

async fn one(caller: &Caller, goal: recovery_goals::Model) -> ApiResult<Goal> {
    let group = goal.shared_group_id;
    hydrate(caller, group, vec![goal])
        .await?
        .pop()
        .ok_or(ApiError::NotFound(GOAL.noun))
}

async fn create(caller: &Caller, input: CreateGoalInput) -> ApiResult<Goal> {
    caller.require(&[Role::Patient], CREATE)?;
    let title = validation::text("title", &input.title, MAX_GOAL_TITLE)?;
    let description = optional_text(
        "description",
        input.description.as_deref(),
        MAX_GOAL_DESCRIPTION,
    )?;
    if let Some(group) = input.share_with_group_id {
        shareable(caller, group).await.map_err(|err| match err {
            ApiError::BadInput { message, .. } => ApiError::bad_input("shareWithGroupId", message),
            other => other,
        })?;
    }
    let now = Utc::now();
    let goal = recovery_goals::Model {
        id: Uuid::now_v7(),
        organization_id: caller.organization_id(),
        user_id: caller.user_id(),
        title,
        description,
        target_on: input.target_on.map(|d| d.0),
        progress_percent: 0,
        status: GoalStatus::Active.as_str().to_owned(),
        shared_group_id: input.share_with_group_id,
        created_at: now,
        updated_at: now,
    };
    goal_store::create(caller, &goal, caller.event(CREATE).resource(goal.id)).await?;
    one(caller, goal).await
}

/// The caller's own goal; anyone else's is `NOT_FOUND`.
async fn own_goal(caller: &Caller, goal_id: Uuid) -> ApiResult<recovery_goals::Model> {
    goal_store::find(caller.db(), goal_id)
        .await?
        .filter(|g| g.user_id == caller.user_id())
        .ok_or(ApiError::NotFound(GOAL.noun))
}

async fn update_progress(caller: &Caller, input: UpdateGoalProgressInput) -> ApiResult<Goal> {
    let mut goal = own_goal(caller, input.goal_id).await?;
    let current = GoalStatus::from_row(&goal.status)?;
    let status = rules::goal_progress(input.progress_percent, input.status, current)?;
    goal.progress_percent = input.progress_percent;
    goal.status = status.as_str().to_owned();
    goal.updated_at = Utc::now();
    goal_store::update_progress(caller, &goal).await?;
    one(caller, goal).await
}

async fn share(caller: &Caller, input: ShareGoalInput) -> ApiResult<Goal> {
    let mut goal = own_goal(caller, input.goal_id).await?;
    let group = match input.group_id {
        MaybeUndefined::Value(group) => {
            shareable(caller, group).await?;
            Some(group)
        }
        MaybeUndefined::Null | MaybeUndefined::Undefined => None,
    };
    goal.shared_group_id = group;
    goal.updated_at = Utc::now();
    goal_store::share(caller, &goal).await?;
    one(caller, goal).await
}

/// A goal is the group's content where it is shared, and nobody else's to
/// know of: an unshared goal, or an outsider, gets `NOT_FOUND`.
async fn react(caller: &Caller, input: GoalReactionInput, add: bool) -> ApiResult<Goal> {
    let goal = goal_store::find(caller.db(), input.goal_id).await?;
    let (goal, _) = SupportGroup::reach(
        caller,
        input.goal_id,
        goal,
        |g| g.shared_group_id,
        GroupNeed::Content,
        REACT,
    )
    .await?;
    goal_store::react(caller, goal.id, input.kind, add).await?;
    one(caller, goal).await
}
