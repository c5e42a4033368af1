//! Group posts in the database: pages, replies, counts (replies,
//! reactions, reports) in a constant number of queries whatever the number
//! of posts, creating under an idempotency key, moderation, reports (with
//! the facilitators' notifications) and reactions — on posts, and the
//! shared reaction summary goals use too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use entity::{
    group_post_reactions, group_post_reports, group_posts, notifications, patients, support_groups,
};

use super::{
    membership_store,
    rules::{MAX_REPLIES, ReactionCount, ReactionKind},
};
use crate::{
    audit::AuditEvent,
    caller::Caller,
    error::{ApiError, ApiResult},
    graphql::pagination::Page,
    idempotency::{self, Claim, IdempotencyKey},
    notifications::LiveEvent,
};

/// The notification facilitators get when a post is reported.
pub const POST_REPORTED: &str = "GROUP_POST_REPORTED";

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<group_posts::Model>> {
    Ok(group_posts::Entity::find_by_id(id).one(db).await?)
}

/// One page of a group's top-level posts, newest first (hidden ones only
/// with `hidden`).
pub async fn page(
    db: &impl ConnectionTrait,
    group: Uuid,
    hidden: bool,
    page: Page,
) -> ApiResult<Vec<group_posts::Model>> {
    let mut query = group_posts::Entity::find()
        .filter(group_posts::Column::GroupId.eq(group))
        .filter(group_posts::Column::ParentPostId.is_null());
    if !hidden {
        query = query.filter(group_posts::Column::HiddenAt.is_null());
    }
    if let Some(after) = page.after {
        query = query.filter(group_posts::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(group_posts::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

/// The replies to `parents`, oldest first, at most `MAX_REPLIES` for each
/// parent on average (the caller keeps the first `MAX_REPLIES` of each).
pub async fn replies(
    db: &impl ConnectionTrait,
    parents: &[Uuid],
    hidden: bool,
) -> ApiResult<Vec<group_posts::Model>> {
    let mut query = group_posts::Entity::find()
        .filter(group_posts::Column::ParentPostId.is_in(parents.iter().copied()))
        .order_by_asc(group_posts::Column::Id)
        .limit(MAX_REPLIES * parents.len() as u64);
    if !hidden {
        query = query.filter(group_posts::Column::HiddenAt.is_null());
    }
    Ok(query.all(db).await?)
}

/// Replies, reactions and reports of a set of posts.
#[derive(Debug, Default)]
pub struct Counts {
    pub replies: HashMap<Uuid, i64>,
    pub reactions: HashMap<Uuid, Vec<ReactionCount>>,
    pub mine: HashMap<Uuid, Vec<ReactionKind>>,
    pub reports: HashMap<Uuid, i64>,
}

/// Three queries (four for a facilitator, who also sees reports and
/// counts hidden replies) whatever the number of posts.
pub async fn counts(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    me: Uuid,
    facilitating: bool,
) -> ApiResult<Counts> {
    let mut reply_query = group_posts::Entity::find()
        .select_only()
        .column(group_posts::Column::ParentPostId)
        .column_as(group_posts::Column::Id.count(), "n")
        .filter(group_posts::Column::ParentPostId.is_in(ids.iter().copied()))
        .group_by(group_posts::Column::ParentPostId);
    if !facilitating {
        reply_query = reply_query.filter(group_posts::Column::HiddenAt.is_null());
    }
    let replies: HashMap<Uuid, i64> = reply_query
        .into_tuple::<(Option<Uuid>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(parent, n)| parent.map(|p| (p, n)))
        .collect();

    let (reactions, mine) = reaction_summary::<group_post_reactions::Entity>(
        db,
        group_post_reactions::Column::PostId,
        group_post_reactions::Column::Kind,
        group_post_reactions::Column::UserId,
        ids,
        me,
    )
    .await?;

    let reports: HashMap<Uuid, i64> = if facilitating {
        group_post_reports::Entity::find()
            .select_only()
            .column(group_post_reports::Column::PostId)
            .column_as(group_post_reports::Column::Id.count(), "n")
            .filter(group_post_reports::Column::PostId.is_in(ids.iter().copied()))
            .group_by(group_post_reports::Column::PostId)
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    Ok(Counts {
        replies,
        reactions,
        mine,
        reports,
    })
}

/// Reactions on a set of posts or goals (`target` is the column naming
/// them): counts per kind, and the viewer's own, in two queries.
#[allow(clippy::type_complexity)]
pub async fn reaction_summary<E: EntityTrait>(
    db: &impl ConnectionTrait,
    target: E::Column,
    kind: E::Column,
    user: E::Column,
    ids: &[Uuid],
    me: Uuid,
) -> ApiResult<(
    HashMap<Uuid, Vec<ReactionCount>>,
    HashMap<Uuid, Vec<ReactionKind>>,
)> {
    let mut counts: HashMap<Uuid, Vec<ReactionCount>> = HashMap::new();
    let mut mine: HashMap<Uuid, Vec<ReactionKind>> = HashMap::new();
    if ids.is_empty() {
        return Ok((counts, mine));
    }
    for (id, name, count) in E::find()
        .select_only()
        .column(target)
        .column(kind)
        .column_as(user.count(), "n")
        .filter(target.is_in(ids.iter().copied()))
        .group_by(target)
        .group_by(kind)
        .order_by_asc(kind)
        .into_tuple::<(Uuid, String, i64)>()
        .all(db)
        .await?
    {
        counts.entry(id).or_default().push(ReactionCount {
            kind: ReactionKind::from_row(&name)?,
            count: count as i32,
        });
    }
    for (id, name) in E::find()
        .select_only()
        .column(target)
        .column(kind)
        .filter(target.is_in(ids.iter().copied()))
        .filter(user.eq(me))
        .order_by_asc(kind)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
    {
        mine.entry(id)
            .or_default()
            .push(ReactionKind::from_row(&name)?);
    }
    Ok((counts, mine))
}

/// The patient records of a set of users (those who are patients), by user.
pub async fn patients_of(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> ApiResult<HashMap<Uuid, Uuid>> {
    Ok(patients::Entity::find()
        .filter(patients::Column::UserId.is_in(users.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p.id))
        .collect())
}

/// The post an earlier call with `key` created, if any (`CONFLICT` when
/// the key was used with another input).
pub async fn replayed(
    db: &impl ConnectionTrait,
    key: &IdempotencyKey,
) -> ApiResult<Option<group_posts::Model>> {
    match key.replay(db).await? {
        Some(id) => Ok(Some(find(db, id).await?.ok_or(ApiError::NotFound("post"))?)),
        None => Ok(None),
    }
}

/// What `create` wrote.
pub enum Created {
    /// The new post (`done` is on the trail).
    New(group_posts::Model),
    /// A concurrent request with the same key won: its post.
    Replayed(group_posts::Model),
}

/// Writes a new post under `key`, with `done` on the trail.
pub async fn create(
    caller: &Caller,
    key: &IdempotencyKey,
    post: group_posts::Model,
    done: AuditEvent,
) -> ApiResult<Created> {
    let txn = caller.begin().await?;
    match idempotency::create_once(caller.db(), txn, key, post.id).await? {
        Claim::Won(txn) => {
            group_posts::Entity::insert(group_posts::ActiveModel::from(post.clone()))
                .exec_without_returning(&txn)
                .await?;
            caller.record(done);
            caller.commit(txn).await?;
            Ok(Created::New(post))
        }
        Claim::Replay(winner) => Ok(Created::Replayed(
            find(caller.db(), winner)
                .await?
                .ok_or(ApiError::NotFound("post"))?,
        )),
    }
}

/// Hides a post (`reason`) or shows it again (`None`), with `done` on the
/// trail.
pub async fn set_hidden(
    caller: &Caller,
    post: Uuid,
    reason: Option<String>,
    done: AuditEvent,
) -> ApiResult<()> {
    let update = group_posts::Entity::update_many().filter(group_posts::Column::Id.eq(post));
    let update = match reason {
        Some(reason) => update
            .col_expr(group_posts::Column::HiddenAt, Expr::value(Utc::now()))
            .col_expr(
                group_posts::Column::HiddenByUserId,
                Expr::value(caller.user_id()),
            )
            .col_expr(group_posts::Column::HiddenReason, Expr::value(reason)),
        None => update
            .col_expr(
                group_posts::Column::HiddenAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                group_posts::Column::HiddenByUserId,
                Expr::value(Option::<Uuid>::None),
            )
            .col_expr(
                group_posts::Column::HiddenReason,
                Expr::value(Option::<String>::None),
            ),
    };
    let txn = caller.begin().await?;
    update.exec(&txn).await?;
    caller.record(done);
    caller.commit(txn).await
}

/// The caller reports a post, once: the first report notifies the group's
/// facilitators (naming neither the reporter nor the author) and puts
/// `done` on the trail. Returns the notifications to deliver.
pub async fn report(
    caller: &Caller,
    post: Uuid,
    group: &support_groups::Model,
    reason: String,
    done: AuditEvent,
) -> ApiResult<Vec<LiveEvent>> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let inserted = group_post_reports::Entity::insert(group_post_reports::ActiveModel {
        id: Set(Uuid::now_v7()),
        post_id: Set(post),
        reporter_user_id: Set(caller.user_id()),
        reason: Set(reason),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            group_post_reports::Column::PostId,
            group_post_reports::Column::ReporterUserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let live = if inserted == 1 {
        let live = notify_facilitators(&txn, group, now).await?;
        caller.record(done);
        live
    } else {
        Vec::new()
    };
    caller.commit(txn).await?;
    Ok(live)
}

/// Tells the group's facilitators a post was reported (naming neither the
/// reporter nor the author); the notifications to deliver once committed.
async fn notify_facilitators(
    db: &impl ConnectionTrait,
    group: &support_groups::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let rows: Vec<notifications::Model> = membership_store::facilitators(db, group.id)
        .await?
        .into_iter()
        .map(|user| notifications::Model {
            id: Uuid::now_v7(),
            user_id: user,
            kind: POST_REPORTED.to_owned(),
            title: format!("A post in {} was reported", group.name),
            body: "A member asked the facilitators to review a post.".to_owned(),
            alert_id: None,
            patient_id: None,
            created_at: now,
            read_at: None,
        })
        .collect();
    if !rows.is_empty() {
        notifications::Entity::insert_many(
            rows.iter()
                .cloned()
                .map(notifications::ActiveModel::from)
                .collect::<Vec<_>>(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(rows.into_iter().map(LiveEvent::Notification).collect())
}

/// The caller's reaction of `kind` to a post: added (again: no change) or
/// taken back.
pub async fn react(caller: &Caller, post: Uuid, kind: ReactionKind, add: bool) -> ApiResult<()> {
    let txn = caller.begin().await?;
    if add {
        group_post_reactions::Entity::insert(group_post_reactions::ActiveModel {
            post_id: Set(post),
            user_id: Set(caller.user_id()),
            kind: Set(kind.as_str().to_owned()),
            created_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([
                group_post_reactions::Column::PostId,
                group_post_reactions::Column::UserId,
                group_post_reactions::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    } else {
        group_post_reactions::Entity::delete_many()
            .filter(group_post_reactions::Column::PostId.eq(post))
            .filter(group_post_reactions::Column::UserId.eq(caller.user_id()))
            .filter(group_post_reactions::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
    }
    caller.commit(txn).await
}
