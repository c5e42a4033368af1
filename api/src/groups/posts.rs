//! Confidential group posts: threads with one level of replies, reactions,
//! reports to the facilitators, moderation, and live delivery to members.
//!
//! Anonymity: an anonymous post shows "Anonymous member" and no author to
//! every other member, through every path (fields, lists, subscriptions,
//! errors, notifications). Its author and the group's facilitators see who
//! wrote it; a facilitator seeing it is written to the audit trail, naming
//! the author's record, so the author can see it in `myAccessLog`. Nothing
//! else about a post names a patient in the audit trail, so no member's
//! access log reveals who reacted to or reported what.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, InputObject, Object, SimpleObject, Subscription,
    connection::Connection,
    futures_util::{Stream, StreamExt},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use serde::Serialize;
use uuid::Uuid;

use entity::{
    group_members, group_post_reactions, group_post_reports, group_posts, notifications, patients,
    users,
};

use super::{membership::SupportGroup, rules::MAX_POST_CHARS, stored_enum};
use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    auth::Principal,
    authz::groups::{
        FACILITATOR, GroupNeed, authorize_group, authorize_in_group, memberships_of, standing,
    },
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::pagination,
    idempotency,
    notifications::hub::LiveEvent,
    validation,
};

stored_enum!(ReactionKind {
    Support => "SUPPORT",
    Hug => "HUG",
    Strength => "STRENGTH",
    Celebrate => "CELEBRATE",
    /// "Me too."
    Relate => "RELATE",
});

/// What members see instead of an anonymous post's author.
pub const ANONYMOUS: &str = "Anonymous member";
/// Replies shown under one post.
const MAX_REPLIES: u64 = 200;

#[derive(SimpleObject, Clone)]
pub struct ReactionCount {
    pub kind: ReactionKind,
    pub count: i32,
}

/// A post or reply, as one viewer may see it.
#[derive(Clone)]
pub struct GroupPost {
    model: group_posts::Model,
    viewer: Uuid,
    facilitating: bool,
    author_name: String,
    /// The author's account, when the viewer may see who wrote it (any
    /// reveal already audited).
    author: Option<users::Model>,
    reply_count: i32,
    reactions: Vec<ReactionCount>,
    my_reactions: Vec<ReactionKind>,
    report_count: i32,
    replies: Option<Vec<GroupPost>>,
}

#[Object]
impl GroupPost {
    async fn id(&self) -> Uuid {
        self.model.id
    }
    async fn body(&self) -> &str {
        &self.model.body
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// The author's alias (or display name), or "Anonymous member".
    async fn author_display_name(&self) -> &str {
        &self.author_name
    }
    /// Null for anonymous posts, except to the author and the group's
    /// facilitators (audited).
    async fn author(&self) -> Option<User> {
        self.author.clone().map(User::new)
    }
    async fn anonymous(&self) -> bool {
        self.model.anonymous
    }
    /// The caller wrote it.
    async fn is_mine(&self) -> bool {
        self.model.author_user_id == self.viewer
    }
    /// The post this replies to.
    async fn parent_id(&self) -> Option<Uuid> {
        self.model.parent_post_id
    }
    async fn reply_count(&self) -> i32 {
        self.reply_count
    }
    /// Replies, oldest first (top-level posts only).
    async fn replies(&self) -> &[GroupPost] {
        self.replies.as_deref().unwrap_or_default()
    }
    async fn reactions(&self) -> &[ReactionCount] {
        &self.reactions
    }
    async fn my_reactions(&self) -> &[ReactionKind] {
        &self.my_reactions
    }
    /// Hidden by a facilitator (only facilitators ever see hidden posts).
    async fn hidden(&self) -> bool {
        self.model.hidden_at.is_some()
    }
    /// Why it was hidden (facilitators).
    async fn hidden_reason(&self) -> Option<&str> {
        self.facilitating
            .then_some(self.model.hidden_reason.as_deref())
            .flatten()
    }
    /// Members' reports (facilitators; null to others).
    async fn report_count(&self) -> Option<i32> {
        self.facilitating.then_some(self.report_count)
    }
}

/// Who is looking, and from where.
struct Viewer<'a> {
    principal: &'a Principal,
    request_id: &'a str,
    group: &'a SupportGroup,
}

impl Viewer<'_> {
    fn facilitating(&self) -> bool {
        self.group.standing.is_facilitator()
    }
}

/// Replies, reactions and reports of a set of posts.
#[derive(Default)]
struct Counts {
    replies: HashMap<Uuid, i64>,
    reactions: HashMap<Uuid, Vec<ReactionCount>>,
    mine: HashMap<Uuid, Vec<ReactionKind>>,
    reports: HashMap<Uuid, i64>,
}

/// Whether the posts may already have replies, reactions and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Stored,
    /// Just written (a live delivery): there is nothing to count yet.
    JustWritten,
}

/// Three queries (four for a facilitator) whatever the number of posts.
async fn counts(
    db: &DatabaseConnection,
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

/// Posts with what the viewer may see of them, in a constant number of
/// statements whatever their number: counts, reactions, names, and (for a
/// facilitator asking for authors) one audit insert for every anonymous
/// post revealed.
async fn hydrate(
    db: &DatabaseConnection,
    viewer: &Viewer<'_>,
    rows: Vec<group_posts::Model>,
    reveal_authors: bool,
    freshness: Freshness,
) -> ApiResult<Vec<GroupPost>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let me = viewer.principal.user_id;
    let facilitating = viewer.facilitating();
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();

    let Counts {
        replies: reply_counts,
        mut reactions,
        mut mine,
        reports: report_counts,
    } = match freshness {
        Freshness::Stored => counts(db, &ids, me, facilitating).await?,
        // Nobody has replied to, reacted to or reported it yet.
        Freshness::JustWritten => Counts::default(),
    };

    // Names: only for posts that show one, so an anonymous author's alias
    // is never even loaded for a member.
    let mut named: Vec<Uuid> = rows
        .iter()
        .filter(|p| !p.anonymous || p.author_user_id == me || facilitating)
        .map(|p| p.author_user_id)
        .collect();
    named.sort();
    named.dedup();
    let people = people_in_group(db, viewer.group.model.id, &named).await?;

    // A facilitator seeing who wrote others' anonymous posts: audited,
    // naming the author's record when they are a patient.
    let revealed: Vec<&group_posts::Model> = rows
        .iter()
        .filter(|p| p.anonymous && p.author_user_id != me)
        .collect();
    let reveal = facilitating && reveal_authors && !revealed.is_empty();
    if reveal {
        let authors: Vec<Uuid> = revealed.iter().map(|p| p.author_user_id).collect();
        let patient_of: HashMap<Uuid, Uuid> = patients::Entity::find()
            .filter(patients::Column::UserId.is_in(authors))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.user_id, p.id))
            .collect();
        audit::record_many(
            db,
            viewer.request_id,
            revealed.iter().map(|post| {
                AuditEvent::by(
                    viewer.principal,
                    "group.post.author.reveal",
                    "GroupPost",
                    Some(post.id),
                    patient_of.get(&post.author_user_id).copied(),
                    true,
                )
            }),
        )
        .await?;
    }

    Ok(rows
        .into_iter()
        .map(|model| {
            let own = model.author_user_id == me;
            let author_visible = !model.anonymous || own || reveal;
            let shown = people.get(&model.author_user_id);
            let author_name = if model.anonymous && !own {
                ANONYMOUS.to_owned()
            } else {
                shown.map(|s| s.name.clone()).unwrap_or_default()
            };
            let author = shown.filter(|_| author_visible).map(|s| s.user.clone());
            GroupPost {
                viewer: me,
                facilitating,
                author_name,
                author,
                reply_count: reply_counts.get(&model.id).copied().unwrap_or(0) as i32,
                reactions: reactions.remove(&model.id).unwrap_or_default(),
                my_reactions: mine.remove(&model.id).unwrap_or_default(),
                report_count: report_counts.get(&model.id).copied().unwrap_or(0) as i32,
                replies: None,
                model,
            }
        })
        .collect())
}

/// Reactions on a set of posts or goals (`target` is the column naming
/// them): counts per kind, and the viewer's own, in two queries.
#[allow(clippy::type_complexity)]
pub(super) async fn reaction_summary<E: EntityTrait>(
    db: &DatabaseConnection,
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

/// How someone appears in a group: their alias (else display name), and
/// their account for the viewers allowed to see it.
#[derive(Clone)]
pub(super) struct Shown {
    pub name: String,
    pub user: users::Model,
}

/// People as they appear in a group, in two queries whatever their number
/// (so lists resolve accounts without a per-row loader batch).
pub(super) async fn people_in_group(
    db: &DatabaseConnection,
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

/// Replies of `posts`, hydrated and attached (one batch whatever the page).
async fn attach_replies(
    db: &DatabaseConnection,
    viewer: &Viewer<'_>,
    posts: &mut [GroupPost],
    reveal_authors: bool,
) -> ApiResult<()> {
    let ids: Vec<Uuid> = posts.iter().map(|p| p.model.id).collect();
    let mut query = group_posts::Entity::find()
        .filter(group_posts::Column::ParentPostId.is_in(ids))
        .order_by_asc(group_posts::Column::Id)
        .limit(MAX_REPLIES * posts.len() as u64);
    if !viewer.facilitating() {
        query = query.filter(group_posts::Column::HiddenAt.is_null());
    }
    let rows = query.all(db).await?;
    let replies = hydrate(db, viewer, rows, reveal_authors, Freshness::Stored).await?;
    let mut by_parent: HashMap<Uuid, Vec<GroupPost>> = HashMap::new();
    for reply in replies {
        if let Some(parent) = reply.model.parent_post_id {
            let list = by_parent.entry(parent).or_default();
            if (list.len() as u64) < MAX_REPLIES {
                list.push(reply);
            }
        }
    }
    for post in posts {
        post.replies = Some(by_parent.remove(&post.model.id).unwrap_or_default());
    }
    Ok(())
}

/// `SupportGroup.posts`: top-level posts, newest first, members and
/// facilitators only (hidden posts for facilitators only).
pub async fn page(
    ctx: &Context<'_>,
    group: &SupportGroup,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, GroupPost>> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    group
        .gate(ctx, GroupNeed::Content, "group.posts.read")
        .await?;
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let mut query = group_posts::Entity::find()
        .filter(group_posts::Column::GroupId.eq(group.model.id))
        .filter(group_posts::Column::ParentPostId.is_null());
    if !group.standing.is_facilitator() {
        query = query.filter(group_posts::Column::HiddenAt.is_null());
    }
    if let Some(after) = page.after {
        query = query.filter(group_posts::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(group_posts::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?;
    // What the client asked for, through `edges { node }` or `nodes`.
    let lookahead = ctx.look_ahead();
    let (edges, nodes) = (
        lookahead.field("edges").field("node"),
        lookahead.field("nodes"),
    );
    let asks = |path: &[&str]| {
        [&edges, &nodes].iter().any(|start| {
            let mut at = start.field(path[0]);
            for name in &path[1..] {
                at = at.field(name);
            }
            at.exists()
        })
    };
    let viewer = Viewer {
        principal,
        request_id: ctx.request_id(),
        group,
    };
    let mut posts = hydrate(db, &viewer, rows, asks(&["author"]), Freshness::Stored).await?;
    if asks(&["replies"]) {
        let reveal = asks(&["replies", "author"]);
        attach_replies(db, &viewer, &mut posts, reveal).await?;
    }
    Ok(pagination::connection(
        posts.into_iter().map(|p| (p.model.id, p)).collect(),
        page,
    ))
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupPostInput {
    pub group_id: Uuid,
    /// 1–5,000 characters.
    pub body: String,
    /// Shown as "Anonymous member" to other members.
    pub anonymous: bool,
    /// A reply to this top-level post of the same group.
    pub parent_post_id: Option<Uuid>,
    /// 1–200 characters: a retry with the same key writes nothing new.
    #[serde(skip)]
    pub idempotency_key: String,
}

#[derive(SimpleObject)]
pub struct CreateGroupPostPayload {
    pub post: GroupPost,
}

#[derive(InputObject)]
pub struct HideGroupPostInput {
    pub post_id: Uuid,
    /// 1–1000 characters, shown to facilitators.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct HideGroupPostPayload {
    pub ok: bool,
}

#[derive(InputObject)]
pub struct GroupPostRef {
    pub post_id: Uuid,
}

#[derive(InputObject)]
pub struct ReportGroupPostInput {
    pub post_id: Uuid,
    /// 1–1000 characters, for the facilitators.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct ReportGroupPostPayload {
    pub ok: bool,
}

#[derive(InputObject)]
pub struct GroupPostReactionInput {
    pub post_id: Uuid,
    pub kind: ReactionKind,
}

#[derive(SimpleObject)]
pub struct GroupPostPayload {
    pub post: GroupPost,
}

#[derive(Default)]
pub struct PostsMutation;

#[Object]
impl PostsMutation {
    /// A member or facilitator posts (or replies) in the group.
    async fn create_group_post(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupPostInput,
    ) -> async_graphql::Result<CreateGroupPostPayload> {
        Ok(CreateGroupPostPayload {
            post: create(ctx, input).await?,
        })
    }

    /// A facilitator hides a post from members, saying why.
    async fn hide_group_post(
        &self,
        ctx: &Context<'_>,
        input: HideGroupPostInput,
    ) -> async_graphql::Result<HideGroupPostPayload> {
        let reason = validation::text("reason", &input.reason, 1000)?;
        set_hidden(ctx, input.post_id, Some(reason)).await?;
        Ok(HideGroupPostPayload { ok: true })
    }

    /// A facilitator shows a hidden post again.
    async fn unhide_group_post(
        &self,
        ctx: &Context<'_>,
        input: GroupPostRef,
    ) -> async_graphql::Result<HideGroupPostPayload> {
        set_hidden(ctx, input.post_id, None).await?;
        Ok(HideGroupPostPayload { ok: true })
    }

    /// A member reports a post to the facilitators (once per member).
    async fn report_group_post(
        &self,
        ctx: &Context<'_>,
        input: ReportGroupPostInput,
    ) -> async_graphql::Result<ReportGroupPostPayload> {
        report(ctx, input).await?;
        Ok(ReportGroupPostPayload { ok: true })
    }

    /// A member encourages a post (again: no change).
    async fn react_to_group_post(
        &self,
        ctx: &Context<'_>,
        input: GroupPostReactionInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        Ok(GroupPostPayload {
            post: react(ctx, input, true).await?,
        })
    }

    /// A member takes their reaction back.
    async fn remove_group_post_reaction(
        &self,
        ctx: &Context<'_>,
        input: GroupPostReactionInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        Ok(GroupPostPayload {
            post: react(ctx, input, false).await?,
        })
    }
}

/// A post the caller may reach with `need`. A post they cannot see (in a
/// group whose content they cannot read, or hidden from them) is
/// `NOT_FOUND`; one they see but may not act on (`need`) is `FORBIDDEN`.
async fn post_for(
    ctx: &Context<'_>,
    post_id: Uuid,
    need: GroupNeed,
    action: &'static str,
) -> ApiResult<(group_posts::Model, SupportGroup)> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let post = group_posts::Entity::find_by_id(post_id).one(db).await?;
    let group_id = post.as_ref().map_or(Uuid::nil(), |p| p.group_id);
    let (group, standing) = authorize_in_group(
        db,
        principal,
        ctx.request_id(),
        group_id,
        GroupNeed::Content,
        need,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("post"),
        other => other,
    })?;
    let group = SupportGroup::new(group, standing);
    // Members (and anyone else who is not a facilitator) never learn a
    // hidden post exists.
    let post = post
        .filter(|p| p.hidden_at.is_none() || group.standing.is_facilitator())
        .ok_or(ApiError::NotFound("post"))?;
    Ok((post, group))
}

async fn one(
    ctx: &Context<'_>,
    group: &SupportGroup,
    post: group_posts::Model,
) -> ApiResult<GroupPost> {
    let principal = ctx.principal().await?;
    let viewer = Viewer {
        principal,
        request_id: ctx.request_id(),
        group,
    };
    let reveal = ctx.look_ahead().field("post").field("author").exists();
    hydrate(ctx.db()?, &viewer, vec![post], reveal, Freshness::Stored)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("post"))
}

async fn create(ctx: &Context<'_>, input: CreateGroupPostInput) -> ApiResult<GroupPost> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.post.create";
    let operation = "createGroupPost";
    idempotency::validate_key(&input.idempotency_key)?;
    let body = validation::text("body", &input.body, MAX_POST_CHARS)?;
    let (group, standing) = authorize_group(
        db,
        principal,
        ctx.request_id(),
        input.group_id,
        GroupNeed::Content,
        action,
    )
    .await?;
    let group = SupportGroup::new(group, standing);
    let fingerprint = idempotency::fingerprint(&input);
    if let Some(existing) = idempotency::replay(
        db,
        principal.user_id,
        operation,
        &input.idempotency_key,
        &fingerprint,
    )
    .await?
    {
        let post = group_posts::Entity::find_by_id(existing)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("post"))?;
        return one(ctx, &group, post).await;
    }
    if group.model.archived_at.is_some() {
        return Err(ApiError::conflict("the group is archived"));
    }
    if let Some(parent) = input.parent_post_id {
        let parent = group_posts::Entity::find_by_id(parent)
            .one(db)
            .await?
            .filter(|p| p.group_id == group.model.id)
            .filter(|p| p.hidden_at.is_none() || group.standing.is_facilitator())
            .ok_or_else(|| {
                ApiError::bad_input("parentPostId", "parentPostId is not a post of this group")
            })?;
        if parent.parent_post_id.is_some() {
            return Err(ApiError::bad_input(
                "parentPostId",
                "replies are one level deep: reply to the original post",
            ));
        }
    }
    let post = group_posts::Model {
        id: Uuid::now_v7(),
        group_id: group.model.id,
        author_user_id: principal.user_id,
        parent_post_id: input.parent_post_id,
        body,
        anonymous: input.anonymous,
        hidden_at: None,
        hidden_by_user_id: None,
        hidden_reason: None,
        created_at: Utc::now(),
    };
    let txn = db.begin().await?;
    if !idempotency::remember(
        &txn,
        principal.user_id,
        operation,
        &input.idempotency_key,
        &fingerprint,
        post.id,
    )
    .await?
    {
        // A concurrent retry won: answer with its post.
        txn.rollback().await?;
        let winner = idempotency::replay(
            db,
            principal.user_id,
            operation,
            &input.idempotency_key,
            &fingerprint,
        )
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("idempotency key vanished")))?;
        let post = group_posts::Entity::find_by_id(winner)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("post"))?;
        return one(ctx, &group, post).await;
    }
    group_posts::Entity::insert(group_posts::ActiveModel::from(post.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(principal, action, "GroupPost", Some(post.id), None, true),
    )
    .await?;
    txn.commit().await?;
    ctx.app()
        .hub
        .publish(vec![LiveEvent::GroupPost(post.clone())])
        .await;
    one(ctx, &group, post).await
}

async fn set_hidden(ctx: &Context<'_>, post_id: Uuid, reason: Option<String>) -> ApiResult<()> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = if reason.is_some() {
        "group.post.hide"
    } else {
        "group.post.unhide"
    };
    let (post, _) = post_for(ctx, post_id, GroupNeed::Facilitate, action).await?;
    let now = Utc::now();
    let update = group_posts::Entity::update_many().filter(group_posts::Column::Id.eq(post.id));
    let update = match &reason {
        Some(reason) => update
            .col_expr(group_posts::Column::HiddenAt, Expr::value(now))
            .col_expr(
                group_posts::Column::HiddenByUserId,
                Expr::value(principal.user_id),
            )
            .col_expr(
                group_posts::Column::HiddenReason,
                Expr::value(reason.clone()),
            ),
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
    let txn = db.begin().await?;
    update.exec(&txn).await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(principal, action, "GroupPost", Some(post.id), None, true),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn report(ctx: &Context<'_>, input: ReportGroupPostInput) -> ApiResult<()> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "group.post.report";
    let reason = validation::text("reason", &input.reason, 1000)?;
    let (post, group) = post_for(ctx, input.post_id, GroupNeed::Content, action).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let inserted = group_post_reports::Entity::insert(group_post_reports::ActiveModel {
        id: Set(Uuid::now_v7()),
        post_id: Set(post.id),
        reporter_user_id: Set(principal.user_id),
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
    let mut live = Vec::new();
    if inserted == 1 {
        // The facilitators hear of it; the note names neither the reporter
        // nor the author.
        let facilitators: Vec<Uuid> = group_members::Entity::find()
            .select_only()
            .column(group_members::Column::UserId)
            .filter(group_members::Column::GroupId.eq(group.model.id))
            .filter(group_members::Column::Role.eq(FACILITATOR))
            .filter(group_members::Column::Status.eq("ACTIVE"))
            .into_tuple()
            .all(&txn)
            .await?;
        let rows: Vec<notifications::Model> = facilitators
            .into_iter()
            .map(|user| notifications::Model {
                id: Uuid::now_v7(),
                user_id: user,
                kind: "GROUP_POST_REPORTED".to_owned(),
                title: format!("A post in {} was reported", group.model.name),
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
            .exec_without_returning(&txn)
            .await?;
        }
        live = rows.into_iter().map(LiveEvent::Notification).collect();
        audit::record(
            &txn,
            ctx.request_id(),
            AuditEvent::by(principal, action, "GroupPost", Some(post.id), None, true),
        )
        .await?;
    }
    txn.commit().await?;
    ctx.app().hub.publish(live).await;
    Ok(())
}

async fn react(
    ctx: &Context<'_>,
    input: GroupPostReactionInput,
    add: bool,
) -> ApiResult<GroupPost> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let (post, group) =
        post_for(ctx, input.post_id, GroupNeed::Content, "group.post.react").await?;
    if add {
        group_post_reactions::Entity::insert(group_post_reactions::ActiveModel {
            post_id: Set(post.id),
            user_id: Set(principal.user_id),
            kind: Set(input.kind.as_str().to_owned()),
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
        .exec_without_returning(db)
        .await?;
    } else {
        group_post_reactions::Entity::delete_many()
            .filter(group_post_reactions::Column::PostId.eq(post.id))
            .filter(group_post_reactions::Column::UserId.eq(principal.user_id))
            .filter(group_post_reactions::Column::Kind.eq(input.kind.as_str()))
            .exec(db)
            .await?;
    }
    one(ctx, &group, post).await
}

#[derive(Default)]
pub struct PostsSubscription;

#[Subscription]
impl PostsSubscription {
    /// New posts and replies in a group, for its members and facilitators,
    /// each shown as the subscriber may see it (anonymous posts stay
    /// anonymous). Delivery stops being authorized the moment the
    /// subscriber leaves the group.
    async fn group_post_added(
        &self,
        ctx: &Context<'_>,
        group_id: Uuid,
    ) -> async_graphql::Result<impl Stream<Item = GroupPost> + use<>> {
        let principal = ctx.principal().await?.clone();
        let (group, _) = authorize_group(
            ctx.db()?,
            &principal,
            ctx.request_id(),
            group_id,
            GroupNeed::Content,
            "group.posts.subscribe",
        )
        .await?;
        let database = ctx.app().db.clone();
        let request_id = ctx.request_id().to_owned();
        let reveal = ctx.look_ahead().field("author").exists();
        let principal = Arc::new(principal);
        let watched = group.id;
        let posts = ctx.app().hub.subscribe(move |event| match event {
            LiveEvent::GroupPost(post) if post.group_id == watched => Some(post.clone()),
            _ => None,
        });
        Ok(posts.filter_map(move |post| {
            let database = database.clone();
            let principal = principal.clone();
            let request_id = request_id.clone();
            let group = group.clone();
            async move {
                let delivered = async {
                    let db = database.conn()?;
                    // Re-check membership for every post: a member who
                    // left or was removed hears nothing more.
                    let membership = memberships_of(db, principal.user_id, &[group.id])
                        .await?
                        .remove(&group.id);
                    let standing = standing(&principal, &group, membership);
                    if !standing.allows(GroupNeed::Content) {
                        return Ok::<_, ApiError>(None);
                    }
                    if post.hidden_at.is_some() && !standing.is_facilitator() {
                        return Ok(None);
                    }
                    let group = SupportGroup::new(group.clone(), standing);
                    let viewer = Viewer {
                        principal: &principal,
                        request_id: &request_id,
                        group: &group,
                    };
                    Ok(
                        hydrate(db, &viewer, vec![post], reveal, Freshness::JustWritten)
                            .await?
                            .pop(),
                    )
                }
                .await;
                match delivered {
                    Ok(post) => post,
                    Err(err) => {
                        err.log_cause();
                        None
                    }
                }
            }
        }))
    }
}
