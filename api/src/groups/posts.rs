//! Confidential group posts: threads with one level of replies, reactions,
//! reports to the facilitators, moderation, and live delivery to members
//! (`groupPostAdded`).
//!
//! Anonymity: an anonymous post shows "Anonymous member" and no author to
//! every other member, through every path (fields, lists, subscriptions,
//! errors, notifications). Aliases hold the same way: a named post shows
//! its author's alias, never the account behind it. Its author and the
//! group's facilitators see who wrote any post; a facilitator seeing it is
//! written to the audit trail, naming the author's record, so the author
//! can see it in `myAccessLog`. Nothing
//! else about a post names a patient in the audit trail, so no member's
//! access log reveals who reacted to or reported what.

use std::collections::HashMap;

use async_graphql::{
    Context, InputObject, Lookahead, Object, SimpleObject, Subscription,
    connection::Connection,
    futures_util::{Stream, StreamExt},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use entity::{group_posts, support_groups, users};

use super::{
    groups::SupportGroup,
    membership_rules::not_archived,
    membership_store::{Shown, people_in_group},
    post_store::{self, Counts, Created},
    rules::{MAX_POST_CHARS, MAX_REPLIES, ReactionCount, ReactionKind},
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    authz::groups::{GROUP, GroupNeed, memberships_of, standing},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination,
    idempotency::IdempotencyKey,
    notifications::LiveEvent,
    validation::{self, REASON_MAX},
};

/// Posts as the audit trail and `NOT_FOUND` messages name them.
pub const POST: Kind = Kind::new("GroupPost", "post");

pub const CREATE: Action = POST.action("group.post.create");
pub const HIDE: Action = POST.action("group.post.hide");
pub const UNHIDE: Action = POST.action("group.post.unhide");
pub const REPORT: Action = POST.action("group.post.report");
pub const REACT: Action = POST.action("group.post.react");
/// A facilitator saw who wrote someone else's anonymous post.
pub const REVEAL_AUTHOR: Action = POST.action("group.post.author.reveal");
/// A facilitator saw the account behind someone else's alias on a post.
pub const REVEAL_ALIAS: Action = POST.action("group.post.author.reveal.alias");
pub const POSTS_READ: Action = GROUP.action("group.posts.read");
pub const SUBSCRIBE: Action = GROUP.action("group.posts.subscribe");
/// What a post's replies cost in a query's complexity, in replies: a
/// busy thread's worth (they load in one batch for the whole page, at most
/// `MAX_REPLIES` each), so a page of posts with their replies is priced by
/// its page size.
const REPLY_WEIGHT: usize = 10;
/// The idempotency scope of `createGroupPost`.
const CREATE_OPERATION: &str = "createGroupPost";

/// What members see instead of an anonymous post's author.
pub const ANONYMOUS: &str = "Anonymous member";

#[Object]
impl ReactionCount {
    async fn kind(&self) -> ReactionKind {
        self.kind
    }
    async fn count(&self) -> i32 {
        self.count
    }
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
    /// The account behind the alias: null except to the author and the
    /// group's facilitators (audited).
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
    #[graphql(complexity = "REPLY_WEIGHT * child_complexity")]
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

/// Whether the posts may already have replies, reactions and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Stored,
    /// Just written (a live delivery): there is nothing to count yet.
    JustWritten,
}

/// What a page of posts is asked for, through `edges { node }` or `nodes`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wants {
    pub author: bool,
    pub replies: bool,
    pub reply_author: bool,
}

impl Wants {
    pub fn of(lookahead: &Lookahead<'_>) -> Self {
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
        Self {
            author: asks(&["author"]),
            replies: asks(&["replies"]),
            reply_author: asks(&["replies", "author"]),
        }
    }
}

/// Posts with what the viewer may see of them, in a constant number of
/// statements whatever their number: counts, reactions, names, and (for a
/// facilitator asking for authors) one audit event for every other
/// member's post revealed.
async fn hydrate(
    caller: &Caller,
    group: &SupportGroup,
    rows: Vec<group_posts::Model>,
    reveal_authors: bool,
    freshness: Freshness,
) -> ApiResult<Vec<GroupPost>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let me = caller.user_id();
    let facilitating = group.standing.is_facilitator();
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let counts = match freshness {
        Freshness::Stored => post_store::counts(caller.db(), &ids, me, facilitating).await?,
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
    let people = people_in_group(caller.db(), group.model.id, &named).await?;
    let revealed: Vec<&group_posts::Model> =
        rows.iter().filter(|p| p.author_user_id != me).collect();
    let reveal = facilitating && reveal_authors && !revealed.is_empty();
    if reveal {
        record_reveals(caller, &revealed).await?;
    }
    let viewer = Viewer {
        me,
        facilitating,
        reveal,
    };
    Ok(viewer.shown(rows, &people, counts))
}

/// Who is looking at a set of posts.
struct Viewer {
    me: Uuid,
    facilitating: bool,
    /// They may see (and the trail says they saw) who wrote others' posts.
    reveal: bool,
}

impl Viewer {
    /// The posts as this viewer sees them.
    fn shown(
        &self,
        rows: Vec<group_posts::Model>,
        people: &HashMap<Uuid, Shown>,
        counts: Counts,
    ) -> Vec<GroupPost> {
        let Counts {
            replies,
            mut reactions,
            mut mine,
            reports,
        } = counts;
        rows.into_iter()
            .map(|model| {
                let own = model.author_user_id == self.me;
                let author_visible = own || self.reveal;
                let shown = people.get(&model.author_user_id);
                let author_name = if model.anonymous && !own {
                    ANONYMOUS.to_owned()
                } else {
                    shown.map(|s| s.name.clone()).unwrap_or_default()
                };
                let author = shown.filter(|_| author_visible).map(|s| s.user.clone());
                GroupPost {
                    viewer: self.me,
                    facilitating: self.facilitating,
                    author_name,
                    author,
                    reply_count: replies.get(&model.id).copied().unwrap_or(0) as i32,
                    reactions: reactions.remove(&model.id).unwrap_or_default(),
                    my_reactions: mine.remove(&model.id).unwrap_or_default(),
                    report_count: reports.get(&model.id).copied().unwrap_or(0) as i32,
                    replies: None,
                    model,
                }
            })
            .collect()
    }
}

/// A facilitator seeing who wrote others' posts (anonymous or under an
/// alias): on the trail, naming the author's record when they are a
/// patient.
async fn record_reveals(caller: &Caller, revealed: &[&group_posts::Model]) -> ApiResult<()> {
    let authors: Vec<Uuid> = revealed.iter().map(|p| p.author_user_id).collect();
    let patient_of = post_store::patients_of(caller.db(), &authors).await?;
    caller.record_all(revealed.iter().map(|post| {
        let action = if post.anonymous {
            REVEAL_AUTHOR
        } else {
            REVEAL_ALIAS
        };
        let event = caller.event(action).resource(post.id);
        match patient_of.get(&post.author_user_id) {
            Some(patient) => event.patient(*patient),
            None => event,
        }
    }));
    Ok(())
}

/// Replies of `posts`, hydrated and attached (one batch whatever the page).
async fn attach_replies(
    caller: &Caller,
    group: &SupportGroup,
    posts: &mut [GroupPost],
    reveal_authors: bool,
) -> ApiResult<()> {
    let ids: Vec<Uuid> = posts.iter().map(|p| p.model.id).collect();
    let hidden = group.standing.is_facilitator();
    let rows = post_store::replies(caller.db(), &ids, hidden).await?;
    let replies = hydrate(caller, group, rows, reveal_authors, Freshness::Stored).await?;
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
    caller: &Caller,
    group: &SupportGroup,
    first: Option<i32>,
    after: Option<String>,
    wants: Wants,
) -> ApiResult<Connection<String, GroupPost>> {
    group.gate(caller, GroupNeed::Content, POSTS_READ)?;
    let max = caller.app().config.limits.max_page_size;
    let page = pagination::page(first, after.as_deref(), max)?;
    let hidden = group.standing.is_facilitator();
    let rows = post_store::page(caller.db(), group.model.id, hidden, page).await?;
    let mut posts = hydrate(caller, group, rows, wants.author, Freshness::Stored).await?;
    if wants.replies {
        attach_replies(caller, group, &mut posts, wants.reply_author).await?;
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
        let reveal = asks_author(ctx);
        Ok(CreateGroupPostPayload {
            post: create(&ctx.caller().await?, input, reveal).await?,
        })
    }

    /// A facilitator hides a post from members, saying why.
    async fn hide_group_post(
        &self,
        ctx: &Context<'_>,
        input: HideGroupPostInput,
    ) -> async_graphql::Result<HideGroupPostPayload> {
        let reason = validation::text("reason", &input.reason, REASON_MAX)?;
        set_hidden(&ctx.caller().await?, input.post_id, Some(reason)).await?;
        Ok(HideGroupPostPayload { ok: true })
    }

    /// A facilitator shows a hidden post again.
    async fn unhide_group_post(
        &self,
        ctx: &Context<'_>,
        input: GroupPostRef,
    ) -> async_graphql::Result<HideGroupPostPayload> {
        set_hidden(&ctx.caller().await?, input.post_id, None).await?;
        Ok(HideGroupPostPayload { ok: true })
    }

    /// A member reports a post to the facilitators (once per member).
    async fn report_group_post(
        &self,
        ctx: &Context<'_>,
        input: ReportGroupPostInput,
    ) -> async_graphql::Result<ReportGroupPostPayload> {
        report(&ctx.caller().await?, input).await?;
        Ok(ReportGroupPostPayload { ok: true })
    }

    /// A member encourages a post (again: no change).
    async fn react_to_group_post(
        &self,
        ctx: &Context<'_>,
        input: GroupPostReactionInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let reveal = asks_author(ctx);
        Ok(GroupPostPayload {
            post: react(&ctx.caller().await?, input, true, reveal).await?,
        })
    }

    /// A member takes their reaction back.
    async fn remove_group_post_reaction(
        &self,
        ctx: &Context<'_>,
        input: GroupPostReactionInput,
    ) -> async_graphql::Result<GroupPostPayload> {
        let reveal = asks_author(ctx);
        Ok(GroupPostPayload {
            post: react(&ctx.caller().await?, input, false, reveal).await?,
        })
    }
}

/// Whether a mutation's payload asks for the post's author.
fn asks_author(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("post").field("author").exists()
}

/// A post the caller may reach with `need`. A post they cannot see (in a
/// group whose content they cannot read, or hidden from them) is
/// `NOT_FOUND`; one they see but may not act on (`need`) is `FORBIDDEN`.
async fn post_for(
    caller: &Caller,
    post_id: Uuid,
    need: GroupNeed,
    action: Action,
) -> ApiResult<(group_posts::Model, SupportGroup)> {
    let post = post_store::find(caller.db(), post_id).await?;
    let (post, group) =
        SupportGroup::reach(caller, post_id, post, |p| Some(p.group_id), need, action).await?;
    // Members (and anyone else who is not a facilitator) never learn a
    // hidden post exists.
    if post.hidden_at.is_some() && !group.standing.is_facilitator() {
        return Err(ApiError::NotFound(POST.noun));
    }
    Ok((post, group))
}

async fn one(
    caller: &Caller,
    group: &SupportGroup,
    post: group_posts::Model,
    reveal: bool,
) -> ApiResult<GroupPost> {
    hydrate(caller, group, vec![post], reveal, Freshness::Stored)
        .await?
        .pop()
        .ok_or(ApiError::NotFound(POST.noun))
}

async fn create(
    caller: &Caller,
    input: CreateGroupPostInput,
    reveal: bool,
) -> ApiResult<GroupPost> {
    let key = IdempotencyKey::new(
        caller.user_id(),
        CREATE_OPERATION,
        &input.idempotency_key,
        &input,
    )?;
    let body = validation::text("body", &input.body, MAX_POST_CHARS)?;
    let group = SupportGroup::reached(
        caller
            .group(input.group_id, GroupNeed::Content, CREATE)
            .await?,
    );
    if let Some(post) = post_store::replayed(caller.db(), &key).await? {
        return one(caller, &group, post, reveal).await;
    }
    not_archived(group.model.archived_at.is_some())?;
    if let Some(parent) = input.parent_post_id {
        check_parent(caller, &group, parent).await?;
    }
    let post = group_posts::Model {
        id: Uuid::now_v7(),
        group_id: group.model.id,
        author_user_id: caller.user_id(),
        parent_post_id: input.parent_post_id,
        body,
        anonymous: input.anonymous,
        hidden_at: None,
        hidden_by_user_id: None,
        hidden_reason: None,
        created_at: Utc::now(),
    };
    let done = caller.event(CREATE).resource(post.id);
    let post = match post_store::create(caller, &key, post, done).await? {
        Created::New(post) => {
            caller
                .publish(vec![LiveEvent::GroupPost(post.clone())])
                .await;
            post
        }
        // A concurrent retry won: answer with its post.
        Created::Replayed(post) => post,
    };
    one(caller, &group, post, reveal).await
}

/// A reply's parent: a top-level post of the same group the caller sees.
async fn check_parent(caller: &Caller, group: &SupportGroup, parent: Uuid) -> ApiResult<()> {
    let parent = post_store::find(caller.db(), parent)
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
    Ok(())
}

async fn set_hidden(caller: &Caller, post_id: Uuid, reason: Option<String>) -> ApiResult<()> {
    let action = if reason.is_some() { HIDE } else { UNHIDE };
    let (post, _) = post_for(caller, post_id, GroupNeed::Facilitate, action).await?;
    let done = caller.event(action).resource(post.id);
    post_store::set_hidden(caller, post.id, reason, done).await
}

async fn report(caller: &Caller, input: ReportGroupPostInput) -> ApiResult<()> {
    let reason = validation::text("reason", &input.reason, REASON_MAX)?;
    let (post, group) = post_for(caller, input.post_id, GroupNeed::Content, REPORT).await?;
    let done = caller.event(REPORT).resource(post.id);
    let live = post_store::report(caller, post.id, &group.model, reason, done).await?;
    caller.publish(live).await;
    Ok(())
}

async fn react(
    caller: &Caller,
    input: GroupPostReactionInput,
    add: bool,
    reveal: bool,
) -> ApiResult<GroupPost> {
    let (post, group) = post_for(caller, input.post_id, GroupNeed::Content, REACT).await?;
    post_store::react(caller, post.id, input.kind, add).await?;
    one(caller, &group, post, reveal).await
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
        let reveal = ctx.look_ahead().field("author").exists();
        Ok(live(ctx.caller().await?, group_id, reveal).await?)
    }
}

/// The posts of a group as they are written, for a subscriber with the
/// group's content.
async fn live(
    caller: Caller,
    group_id: Uuid,
    reveal: bool,
) -> ApiResult<impl Stream<Item = GroupPost> + use<>> {
    let group = caller
        .group(group_id, GroupNeed::Content, SUBSCRIBE)
        .await?
        .group;
    // A subscription may deliver nothing for hours: its authorization is
    // written now, not with its first event.
    caller.flush_audit().await?;
    let watched = group.id;
    let posts = caller.hub().subscribe(move |event| match event {
        LiveEvent::GroupPost(post) if post.group_id == watched => Some(post.clone()),
        _ => None,
    });
    Ok(posts.filter_map(move |post| {
        let (caller, group) = (caller.clone(), group.clone());
        async move {
            match deliver(&caller, group, post, reveal).await {
                Ok(post) => post,
                Err(err) => {
                    err.log_cause();
                    None
                }
            }
        }
    }))
}

/// One new post as the subscriber may see it, if they still may.
async fn deliver(
    caller: &Caller,
    group: support_groups::Model,
    post: group_posts::Model,
    reveal: bool,
) -> ApiResult<Option<GroupPost>> {
    // Re-check membership for every post: a member who left or was
    // removed hears nothing more.
    let membership = memberships_of(caller.db(), caller.user_id(), &[group.id])
        .await?
        .remove(&group.id);
    let standing = standing(caller.principal(), &group, membership);
    if !standing.allows(GroupNeed::Content)
        || (post.hidden_at.is_some() && !standing.is_facilitator())
    {
        return Ok(None);
    }
    let group = SupportGroup::new(group, standing);
    let delivered = hydrate(caller, &group, vec![post], reveal, Freshness::JustWritten).await?;
    Ok(delivered.into_iter().next())
}
