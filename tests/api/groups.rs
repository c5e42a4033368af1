//! Group support as facilitators and members use it: groups, membership and
//! capacity, meetings and attendance, confidential posts (anonymity through
//! every path, moderation), shared goals, and the authorization matrix.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::authz_matrix::{
    Expect::{self, *},
    check,
};
use crate::harness::{GqlReply, Options, Person, TestApp, WsEvent, spawn_app, spawn_app_with};

const CREATE: &str =
    "mutation($input: CreateSupportGroupInput!) { createSupportGroup(input: $input) {
  group { id name kind format joinPolicy capacity meetingUrl facilitators { id } } } }";
const JOIN: &str = "mutation($input: JoinSupportGroupInput!) { joinSupportGroup(input: $input) {
  membership { status alias role group { id } } } }";
const ADD: &str = "mutation($input: AddGroupMemberInput!) { addGroupMember(input: $input) {
  membership { status alias } } }";
const POST: &str = "mutation($input: CreateGroupPostInput!) { createGroupPost(input: $input) {
  post { id body anonymous authorDisplayName author { id } isMine parentId } } }";
const POSTS: &str = "query($id: UUID!, $first: Int) { supportGroup(id: $id) {
  posts(first: $first) { edges { node { id body anonymous authorDisplayName author { id }
  hidden hiddenReason reportCount replyCount reactions { kind count } myReactions
  replies { id body authorDisplayName author { id } } } } pageInfo { hasNextPage } } } }";
const HIDE: &str = "mutation($input: HideGroupPostInput!) { hideGroupPost(input: $input) { ok } }";
const SCHEDULE: &str = "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) {
  meeting { id startsAt endsAt topic } meetings { id startsAt } } }";
const ATTEND: &str =
    "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { ok } }";

fn code(reply: &GqlReply) -> Option<&str> {
    reply.error_code()
}

fn field(reply: &GqlReply) -> &Value {
    &reply.body["errors"][0]["extensions"]["field"]
}

async fn create_group(app: &TestApp, who: &Person, overrides: Value) -> GqlReply {
    let mut input = json!({
        "name": "Tuesday tapering circle",
        "kind": "TAPERING_COHORT",
        "description": "People tapering together, week by week.",
        "format": "VIRTUAL",
        "meetingUrl": "https://meet.example.org/tuesday",
    });
    for (k, v) in overrides.as_object().unwrap() {
        input[k] = v.clone();
    }
    app.graphql(CREATE, json!({ "input": input }), Some(&who.token))
        .await
}

async fn new_group(app: &TestApp, who: &Person, overrides: Value) -> String {
    let reply = create_group(app, who, overrides).await;
    reply.ok()["createSupportGroup"]["group"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn join(app: &TestApp, who: &Person, group: &str, alias: Option<&str>) -> GqlReply {
    app.graphql(
        JOIN,
        json!({ "input": { "groupId": group, "alias": alias } }),
        Some(&who.token),
    )
    .await
}

async fn post(
    app: &TestApp,
    who: &Person,
    group: &str,
    body: &str,
    anonymous: bool,
    key: &str,
) -> GqlReply {
    app.graphql(
        POST,
        json!({ "input": { "groupId": group, "body": body, "anonymous": anonymous, "idempotencyKey": key } }),
        Some(&who.token),
    )
    .await
}

async fn post_id(app: &TestApp, who: &Person, group: &str, body: &str, anonymous: bool) -> String {
    let key = format!("k-{body}");
    post(app, who, group, body, anonymous, &key).await.ok()["createGroupPost"]["post"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn posts(app: &TestApp, who: &Person, group: &str) -> GqlReply {
    app.graphql(POSTS, json!({ "id": group, "first": 50 }), Some(&who.token))
        .await
}

fn nodes(reply: &GqlReply) -> Vec<Value> {
    reply.ok()["supportGroup"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// A facilitator's group with two patients in it (aliases "River" and
/// "Sky"), in one organization.
struct Circle {
    org: uuid::Uuid,
    facilitator: Person,
    river: Person,
    sky: Person,
    clinician: Person,
    admin: Person,
    group: String,
}

async fn circle(app: &TestApp) -> Circle {
    let org = app.new_organization("Clinic").await;
    let facilitator = app
        .new_person(org, "Fay Facilitator", &["FACILITATOR"])
        .await;
    let river = app.new_person(org, "Rita Patient", &["PATIENT"]).await;
    let sky = app.new_person(org, "Sam Patient", &["PATIENT"]).await;
    let clinician = app.new_person(org, "Dr Care", &["CLINICIAN"]).await;
    let admin = app.new_person(org, "Ada Admin", &["ADMIN"]).await;
    let group = new_group(app, &facilitator, json!({})).await;
    join(app, &river, &group, Some("River")).await.ok();
    join(app, &sky, &group, Some("Sky")).await.ok();
    Circle {
        org,
        facilitator,
        river,
        sky,
        clinician,
        admin,
        group,
    }
}

#[tokio::test]
async fn the_acceptance_walkthrough() {
    let app = spawn_app().await;
    let c = circle(&app).await;

    // The creator is listed as facilitator; a patient cannot create one.
    let listed = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { facilitators { id } memberCount myMembership { role status } } }",
            json!({ "id": c.group }),
            Some(&c.facilitator.token),
        )
        .await;
    let group = &listed.ok()["supportGroup"];
    assert_eq!(
        group["facilitators"][0]["id"],
        c.facilitator.user_id.to_string()
    );
    assert_eq!(group["memberCount"], 2);
    assert_eq!(group["myMembership"]["role"], "FACILITATOR");
    assert_eq!(
        code(&create_group(&app, &c.river, json!({})).await),
        Some("FORBIDDEN")
    );

    // Members joined with their alias, which the group sees.
    let members = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { members { nodes { displayName role user { id } } } } }",
            json!({ "id": c.group }),
            Some(&c.sky.token),
        )
        .await;
    let names: Vec<&str> = members.ok()["supportGroup"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["displayName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"River") && names.contains(&"Sky"),
        "{names:?}"
    );
    // The list pages like every unbounded list.
    let paged = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { members(first: 2) { nodes { displayName } pageInfo { hasNextPage endCursor } } } }",
            json!({ "id": c.group }),
            Some(&c.sky.token),
        )
        .await;
    let page = &paged.ok()["supportGroup"]["members"];
    assert_eq!(page["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(
        page["pageInfo"]["hasNextPage"], true,
        "facilitator, River and Sky are 3"
    );
    let river_entry = members.ok()["supportGroup"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["displayName"] == "River")
        .unwrap()
        .clone();
    assert_eq!(
        river_entry["user"],
        Value::Null,
        "a member never sees who River is"
    );

    // A retried post is written once.
    let first = post(
        &app,
        &c.river,
        &c.group,
        "Day 3 of the new step.",
        false,
        "retry-1",
    )
    .await;
    let again = post(
        &app,
        &c.river,
        &c.group,
        "Day 3 of the new step.",
        false,
        "retry-1",
    )
    .await;
    assert_eq!(
        first.ok()["createGroupPost"]["post"]["id"],
        again.ok()["createGroupPost"]["post"]["id"]
    );
    let changed = post(&app, &c.river, &c.group, "Something else", false, "retry-1").await;
    assert_eq!(code(&changed), Some("CONFLICT"));
    assert_eq!(nodes(&posts(&app, &c.sky, &c.group).await).len(), 1);

    // An anonymous post shows neither author nor alias to another member.
    let secret = post_id(&app, &c.river, &c.group, "I slipped last night.", true).await;
    let seen = nodes(&posts(&app, &c.sky, &c.group).await);
    let anon = seen.iter().find(|p| p["id"] == secret.as_str()).unwrap();
    assert_eq!(anon["authorDisplayName"], "Anonymous member");
    assert_eq!(anon["author"], Value::Null);
    assert!(!anon.to_string().contains("River") && !anon.to_string().contains("Rita"));
    // The author sees their own name; the facilitator sees who wrote it.
    let own = nodes(&posts(&app, &c.river, &c.group).await);
    let mine = own.iter().find(|p| p["id"] == secret.as_str()).unwrap();
    assert_eq!(mine["author"]["id"], c.river.user_id.to_string());
    let moderated = nodes(&posts(&app, &c.facilitator, &c.group).await);
    let revealed = moderated
        .iter()
        .find(|p| p["id"] == secret.as_str())
        .unwrap();
    assert_eq!(revealed["author"]["id"], c.river.user_id.to_string());
    assert_eq!(revealed["authorDisplayName"], "Anonymous member");
    // The same through `nodes` and a fragment, for facilitator and member.
    let via_nodes = "query($id: UUID!) { supportGroup(id: $id) { posts { nodes { ...P } } } }
        fragment P on GroupPost { id who: author { id } }";
    for (who, expected) in [
        (&c.facilitator, json!({ "id": c.river.user_id })),
        (&c.sky, Value::Null),
    ] {
        let reply = app
            .graphql(via_nodes, json!({ "id": c.group }), Some(&who.token))
            .await;
        let found = reply.ok()["supportGroup"]["posts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == secret.as_str())
            .unwrap()
            .clone();
        assert_eq!(found["who"], expected);
    }

    // Non-members (clinician, admin) cannot read posts.
    for outsider in [&c.clinician, &c.admin] {
        let denied = posts(&app, outsider, &c.group).await;
        assert_eq!(code(&denied), Some("FORBIDDEN"), "{}", denied.body);
        assert!(denied.body["data"]["supportGroup"].is_null() || denied.body["data"].is_null());
    }

    // The audit trail has the members' reads and the outsiders' refusals.
    let trail = app
        .graphql(
            "{ auditEvents(first: 100) { edges { node { action allowed actorUserId } } } }",
            json!({}),
            Some(&c.admin.token),
        )
        .await;
    let events: Vec<(String, bool, String)> = trail.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["action"].as_str().unwrap_or_default().to_owned(),
                n["allowed"].as_bool().unwrap_or_default(),
                n["actorUserId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let has = |action: &str, allowed: bool, who: &Person| {
        events.iter().any(|(a, ok, actor)| {
            a == action && *ok == allowed && *actor == who.user_id.to_string()
        })
    };
    // A patient's group activity reaches the admin without its actor (an
    // auditor sees it whole: tests/api/audit.rs).
    assert!(!has("group.posts.read", true, &c.sky), "{events:?}");
    assert!(
        events
            .iter()
            .any(|(a, ok, actor)| a == "group.posts.read" && *ok && actor.is_empty()),
        "{events:?}"
    );
    assert!(has("group.posts.read", false, &c.clinician), "{events:?}");
    assert!(
        has("group.post.author.reveal", true, &c.facilitator),
        "{events:?}"
    );

    // A member cannot hide another's post; a facilitator can, and the post
    // disappears for members but stays (as hidden) for facilitators.
    async fn hide(app: &TestApp, who: &Person, post: &str) -> GqlReply {
        app.graphql(
            HIDE,
            json!({ "input": { "postId": post, "reason": "Shares details of use" } }),
            Some(&who.token),
        )
        .await
    }
    assert_eq!(code(&hide(&app, &c.sky, &secret).await), Some("FORBIDDEN"));
    hide(&app, &c.facilitator, &secret).await.ok();
    assert!(
        nodes(&posts(&app, &c.sky, &c.group).await)
            .iter()
            .all(|p| p["id"] != secret.as_str())
    );
    assert!(
        nodes(&posts(&app, &c.river, &c.group).await)
            .iter()
            .all(|p| p["id"] != secret.as_str())
    );
    let kept = nodes(&posts(&app, &c.facilitator, &c.group).await);
    let hidden = kept.iter().find(|p| p["id"] == secret.as_str()).unwrap();
    assert_eq!(hidden["hidden"], true);
    assert_eq!(hidden["hiddenReason"], "Shares details of use");

    // A meeting ending before it starts is bad input.
    let start = Utc::now() + Duration::days(2);
    let backwards = app
        .graphql(
            SCHEDULE,
            json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start - Duration::hours(1) } }),
            Some(&c.facilitator.token),
        )
        .await;
    assert_eq!(code(&backwards), Some("BAD_USER_INPUT"));
    assert_eq!(field(&backwards), "endsAt");

    // Only facilitators record attendance.
    let start = Utc::now() - Duration::hours(2);
    let meeting = app
        .graphql(
            SCHEDULE,
            json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start + Duration::hours(1), "topic": "Sleep" } }),
            Some(&c.facilitator.token),
        )
        .await;
    let meeting = meeting.ok()["scheduleMeeting"]["meeting"]["id"].clone();
    async fn attend(app: &TestApp, who: &Person, meeting: &Value, member: &Person) -> GqlReply {
        app.graphql(
            ATTEND,
            json!({ "input": { "meetingId": meeting, "userId": member.user_id, "status": "ATTENDED" } }),
            Some(&who.token),
        )
        .await
    }
    assert_eq!(
        code(&attend(&app, &c.sky, &meeting, &c.river).await),
        Some("FORBIDDEN")
    );
    // A meeting is the group's content: a non-member can't learn it exists.
    assert_eq!(
        code(&attend(&app, &c.clinician, &meeting, &c.river).await),
        Some("NOT_FOUND")
    );
    assert_eq!(
        attend(&app, &c.facilitator, &meeting, &c.river).await.ok()["recordAttendance"]["ok"],
        true
    );
}

#[tokio::test]
async fn membership_policies_and_capacity() {
    let app = spawn_app().await;
    let org = app.new_organization("Clinic").await;
    let facilitator = app.new_person(org, "Fay", &["FACILITATOR"]).await;
    let a = app.new_person(org, "Ann", &["PATIENT"]).await;
    let b = app.new_person(org, "Ben", &["PATIENT"]).await;
    let c = app.new_person(org, "Cat", &["PATIENT"]).await;
    let supporter = app.new_person(org, "Sue", &["SUPPORTER"]).await;
    let clinician = app.new_person(org, "Dr Care", &["CLINICIAN"]).await;

    // Capacity 1: the facilitator does not count, the second member is refused.
    let small = new_group(&app, &facilitator, json!({ "capacity": 1 })).await;
    assert_eq!(
        join(&app, &a, &small, Some("A")).await.ok()["joinSupportGroup"]["membership"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        join(&app, &a, &small, None).await.ok()["joinSupportGroup"]["membership"]["alias"],
        "A",
        "joining again changes nothing"
    );
    assert_eq!(code(&join(&app, &b, &small, None).await), Some("CONFLICT"));
    let add_b = app
        .graphql(
            ADD,
            json!({ "input": { "groupId": small, "userId": b.user_id } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(
        code(&add_b),
        Some("CONFLICT"),
        "adding also respects capacity"
    );
    // Capacity cannot go below the current membership.
    let update = "mutation($input: UpdateSupportGroupInput!) { updateSupportGroup(input: $input) { group { capacity } } }";
    let raise = app
        .graphql(
            update,
            json!({ "input": { "groupId": small, "capacity": 2 } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(raise.ok()["updateSupportGroup"]["group"]["capacity"], 2);
    app.graphql(
        ADD,
        json!({ "input": { "groupId": small, "userId": b.user_id } }),
        Some(&facilitator.token),
    )
    .await
    .ok();
    let shrink = app
        .graphql(
            update,
            json!({ "input": { "groupId": small, "capacity": 1 } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(code(&shrink), Some("BAD_USER_INPUT"));
    assert_eq!(field(&shrink), "capacity");
    // Leaving frees the place.
    let leave = "mutation($input: GroupRef!) { leaveSupportGroup(input: $input) { membership { status } } }";
    let left = app
        .graphql(
            leave,
            json!({ "input": { "groupId": small } }),
            Some(&a.token),
        )
        .await;
    assert_eq!(
        left.ok()["leaveSupportGroup"]["membership"]["status"],
        "LEFT"
    );
    assert_eq!(
        join(&app, &c, &small, None).await.ok()["joinSupportGroup"]["membership"]["status"],
        "ACTIVE"
    );

    // APPROVAL: pending until a facilitator approves; pending members see no content.
    let gated = new_group(&app, &facilitator, json!({ "joinPolicy": "APPROVAL" })).await;
    assert_eq!(
        join(&app, &a, &gated, Some("Ann")).await.ok()["joinSupportGroup"]["membership"]["status"],
        "PENDING"
    );
    assert_eq!(code(&posts(&app, &a, &gated).await), Some("FORBIDDEN"));
    let pending = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { members(status: PENDING) { nodes { displayName user { id } } } } }",
            json!({ "id": gated }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(
        pending.ok()["supportGroup"]["members"]["nodes"][0]["user"]["id"],
        a.user_id.to_string()
    );
    let approve = "mutation($input: GroupMemberRef!) { approveMembership(input: $input) { membership { status } } }";
    assert_eq!(
        code(
            &app.graphql(
                approve,
                json!({ "input": { "groupId": gated, "userId": a.user_id } }),
                Some(&b.token)
            )
            .await
        ),
        Some("FORBIDDEN")
    );
    let approved = app
        .graphql(
            approve,
            json!({ "input": { "groupId": gated, "userId": a.user_id } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(
        approved.ok()["approveMembership"]["membership"]["status"],
        "ACTIVE"
    );
    assert!(posts(&app, &a, &gated).await.body.get("errors").is_none());

    // Removal with a reason; a removed member cannot rejoin on their own.
    let remove = "mutation($input: RemoveGroupMemberInput!) { removeGroupMember(input: $input) { membership { status } } }";
    let removed = app
        .graphql(remove, json!({ "input": { "groupId": gated, "userId": a.user_id, "reason": "Repeated breaches of confidentiality" } }), Some(&facilitator.token))
        .await;
    assert_eq!(
        removed.ok()["removeGroupMember"]["membership"]["status"],
        "REMOVED"
    );
    assert_eq!(code(&join(&app, &a, &gated, None).await), Some("CONFLICT"));
    assert_eq!(code(&posts(&app, &a, &gated).await), Some("FORBIDDEN"));

    // FAMILY groups admit supporters; other kinds do not.
    let family = new_group(
        &app,
        &facilitator,
        json!({ "kind": "FAMILY", "name": "Families" }),
    )
    .await;
    assert_eq!(
        join(&app, &supporter, &family, Some("Mum")).await.ok()["joinSupportGroup"]["membership"]["status"],
        "ACTIVE"
    );
    let peer = new_group(
        &app,
        &facilitator,
        json!({ "kind": "PEER_SUPPORT", "name": "Peers" }),
    )
    .await;
    assert!(matches!(
        code(&join(&app, &supporter, &peer, None).await),
        Some("NOT_FOUND") | Some("FORBIDDEN")
    ));
    // Clinicians are never members.
    assert_eq!(
        code(&join(&app, &clinician, &peer, None).await),
        Some("FORBIDDEN")
    );

    // INVITE_ONLY groups are invisible until a facilitator adds someone.
    let private = new_group(
        &app,
        &facilitator,
        json!({ "joinPolicy": "INVITE_ONLY", "name": "Private" }),
    )
    .await;
    assert_eq!(
        code(&join(&app, &b, &private, None).await),
        Some("NOT_FOUND")
    );
    let listing = "{ supportGroups { id meetingUrl memberCount } }";
    let seen = app.graphql(listing, json!({}), Some(&b.token)).await;
    let ids: Vec<&str> = seen.ok()["supportGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&private.as_str()) && ids.contains(&peer.as_str()));
    // Discovering a group shows no meeting link; members see it.
    let peer_entry = seen.ok()["supportGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == peer.as_str())
        .unwrap()
        .clone();
    assert_eq!(peer_entry["meetingUrl"], Value::Null);
    let added = app
        .graphql(
            ADD,
            json!({ "input": { "groupId": private, "userId": b.user_id, "alias": "B" } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(
        added.ok()["addGroupMember"]["membership"]["status"],
        "ACTIVE"
    );
    let again = app
        .graphql(
            ADD,
            json!({ "input": { "groupId": private, "userId": b.user_id } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(
        again.ok()["addGroupMember"]["membership"]["alias"],
        "B",
        "adding is idempotent"
    );
    let mine = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { meetingUrl } }",
            json!({ "id": private }),
            Some(&b.token),
        )
        .await;
    assert_eq!(
        mine.ok()["supportGroup"]["meetingUrl"],
        "https://meet.example.org/tuesday"
    );
    // Adding someone who cannot be a member names the field.
    let bad = app
        .graphql(
            ADD,
            json!({ "input": { "groupId": private, "userId": clinician.user_id } }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    assert_eq!(field(&bad), "userId");
}

#[tokio::test]
async fn facilitators_are_assigned_by_admins_and_a_group_keeps_one() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let second = app
        .new_person(c.org, "Gus Facilitator", &["FACILITATOR"])
        .await;
    let assign = "mutation($input: GroupMemberRef!) { assignGroupFacilitator(input: $input) { membership { role status } } }";
    let remove = "mutation($input: GroupMemberRef!) { removeGroupFacilitator(input: $input) { membership { role status } } }";
    let vars = |user: uuid::Uuid| json!({ "input": { "groupId": c.group, "userId": user } });
    assert_eq!(
        code(
            &app.graphql(assign, vars(second.user_id), Some(&c.facilitator.token))
                .await
        ),
        Some("FORBIDDEN")
    );
    let assigned = app
        .graphql(assign, vars(second.user_id), Some(&c.admin.token))
        .await;
    assert_eq!(
        assigned.ok()["assignGroupFacilitator"]["membership"]["role"],
        "FACILITATOR"
    );
    let patient = app
        .graphql(assign, vars(c.river.user_id), Some(&c.admin.token))
        .await;
    assert_eq!(field(&patient), "userId");
    app.graphql(remove, vars(c.facilitator.user_id), Some(&c.admin.token))
        .await
        .ok();
    let last = app
        .graphql(remove, vars(second.user_id), Some(&c.admin.token))
        .await;
    assert_eq!(code(&last), Some("CONFLICT"));
    // The removed facilitator no longer reads the group's posts.
    assert_eq!(
        code(&posts(&app, &c.facilitator, &c.group).await),
        Some("FORBIDDEN")
    );
    // Admins see the group and its facilitators, never its members.
    let admin_view = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { facilitators { id } } }",
            json!({ "id": c.group }),
            Some(&c.admin.token),
        )
        .await;
    assert_eq!(
        admin_view.ok()["supportGroup"]["facilitators"][0]["id"],
        second.user_id.to_string()
    );
    let members = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { members { nodes { displayName } } } }",
            json!({ "id": c.group }),
            Some(&c.admin.token),
        )
        .await;
    assert_eq!(code(&members), Some("FORBIDDEN"));
}

#[tokio::test]
async fn anonymity_holds_on_every_path() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let connect =
        |p: &Person| app.ws_connect(json!({ "authorization": format!("Bearer {}", p.token) }));
    let mut sky = connect(&c.sky).await.expect("member connects");
    sky.subscribe(
        "g",
        "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id body anonymous authorDisplayName author { id displayName } } }",
        json!({ "g": c.group }),
    )
    .await;
    let mut facilitator = connect(&c.facilitator).await.expect("facilitator connects");
    facilitator
        .subscribe(
            "g",
            "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id authorDisplayName author { id } } }",
            json!({ "g": c.group }),
        )
        .await;
    // A non-member cannot subscribe.
    let mut outsider = connect(&c.clinician).await.expect("clinician connects");
    outsider
        .subscribe(
            "g",
            "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id } }",
            json!({ "g": c.group }),
        )
        .await;
    match outsider.next_message().await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(
                msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{msg}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let secret = post_id(&app, &c.river, &c.group, "Cravings were bad today.", true).await;
    match sky.next_message().await {
        Some(WsEvent::Message(msg)) => {
            let delivered = &msg["payload"]["data"]["groupPostAdded"];
            assert_eq!(delivered["id"], secret.as_str(), "{msg}");
            assert_eq!(delivered["authorDisplayName"], "Anonymous member");
            assert_eq!(delivered["author"], Value::Null);
            assert!(!msg.to_string().contains("River") && !msg.to_string().contains("Rita"));
            assert!(!msg.to_string().contains(&c.river.user_id.to_string()));
        }
        other => panic!("expected the post, got {other:?}"),
    }
    match facilitator.next_message().await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(
                msg["payload"]["data"]["groupPostAdded"]["author"]["id"],
                c.river.user_id.to_string()
            );
        }
        other => panic!("expected the post, got {other:?}"),
    }

    // A reply, anonymous too, and the errors a member can provoke.
    let reply = app
        .graphql(
            POST,
            json!({ "input": { "groupId": c.group, "body": "Same here.", "anonymous": true, "idempotencyKey": "r1", "parentPostId": secret } }),
            Some(&c.river.token),
        )
        .await;
    assert_eq!(
        reply.ok()["createGroupPost"]["post"]["parentId"],
        secret.as_str()
    );
    let threads = posts(&app, &c.sky, &c.group).await;
    let thread = nodes(&threads)
        .into_iter()
        .find(|p| p["id"] == secret.as_str())
        .unwrap();
    assert_eq!(thread["replyCount"], 1);
    assert_eq!(
        thread["replies"][0]["authorDisplayName"],
        "Anonymous member"
    );
    assert_eq!(thread["replies"][0]["author"], Value::Null);
    assert!(
        !threads
            .body
            .to_string()
            .contains(&c.river.user_id.to_string())
    );
    let hide = app
        .graphql(
            HIDE,
            json!({ "input": { "postId": secret, "reason": "x" } }),
            Some(&c.sky.token),
        )
        .await;
    assert!(!hide.body.to_string().contains("River") && !hide.body.to_string().contains("Rita"));

    // The audit views a member can reach name nobody: Sky's access log is
    // empty of River; River's shows the facilitator who saw authorship.
    let log = "{ myAccessLog(first: 100) { edges { node { action actorUserId } } } }";
    let sky_log = app.graphql(log, json!({}), Some(&c.sky.token)).await;
    assert!(
        !sky_log
            .body
            .to_string()
            .contains(&c.river.user_id.to_string()),
        "{}",
        sky_log.body
    );
    posts(&app, &c.facilitator, &c.group).await.ok();
    let river_log = app.graphql(log, json!({}), Some(&c.river.token)).await;
    let reveals: Vec<&Value> = river_log.ok()["myAccessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "group.post.author.reveal")
        .collect();
    assert!(!reveals.is_empty(), "{}", river_log.body);
    assert!(
        reveals
            .iter()
            .all(|e| e["node"]["actorUserId"] == c.facilitator.user_id.to_string())
    );
    // Sky's own reads of the thread are not in River's log.
    assert!(
        !river_log
            .body
            .to_string()
            .contains(&c.sky.user_id.to_string())
    );
}

#[tokio::test]
async fn moderation_reports_reactions_and_bad_input() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let id = post_id(&app, &c.river, &c.group, "Walked 20 minutes today.", false).await;
    // Reactions: counted once per member and kind.
    let react = "mutation($input: GroupPostReactionInput!) { reactToGroupPost(input: $input) { post { reactions { kind count } myReactions } } }";
    for _ in 0..2 {
        app.graphql(
            react,
            json!({ "input": { "postId": id, "kind": "CELEBRATE" } }),
            Some(&c.sky.token),
        )
        .await
        .ok();
    }
    let reacted = app
        .graphql(
            react,
            json!({ "input": { "postId": id, "kind": "STRENGTH" } }),
            Some(&c.river.token),
        )
        .await;
    let reacted = &reacted.ok()["reactToGroupPost"]["post"];
    assert_eq!(
        reacted["reactions"],
        json!([{ "kind": "CELEBRATE", "count": 1 }, { "kind": "STRENGTH", "count": 1 }])
    );
    assert_eq!(reacted["myReactions"], json!(["STRENGTH"]));

    // A report reaches the facilitators, naming neither reporter nor author.
    let report =
        "mutation($input: ReportGroupPostInput!) { reportGroupPost(input: $input) { ok } }";
    app.graphql(
        report,
        json!({ "input": { "postId": id, "reason": "Feels off-topic" } }),
        Some(&c.sky.token),
    )
    .await
    .ok();
    app.graphql(
        report,
        json!({ "input": { "postId": id, "reason": "Again" } }),
        Some(&c.sky.token),
    )
    .await
    .ok();
    let inbox = app
        .graphql(
            "{ notifications(first: 10) { edges { node { kind title body } } } }",
            json!({}),
            Some(&c.facilitator.token),
        )
        .await;
    let notes = inbox.ok()["notifications"]["edges"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "one report per member");
    assert_eq!(notes[0]["node"]["kind"], "GROUP_POST_REPORTED");
    assert!(!inbox.body.to_string().contains("Sky") && !inbox.body.to_string().contains("River"));
    let counted = nodes(&posts(&app, &c.facilitator, &c.group).await);
    assert_eq!(counted[0]["reportCount"], 1);
    assert_eq!(
        nodes(&posts(&app, &c.sky, &c.group).await)[0]["reportCount"],
        Value::Null
    );

    // Bad input names the field, and writes nothing.
    let empty = post(&app, &c.river, &c.group, "   ", false, "e1").await;
    assert_eq!(
        (code(&empty), field(&empty).as_str()),
        (Some("BAD_USER_INPUT"), Some("body"))
    );
    let long = post(&app, &c.river, &c.group, &"x".repeat(5001), false, "e2").await;
    assert_eq!(
        (code(&long), field(&long).as_str()),
        (Some("BAD_USER_INPUT"), Some("body"))
    );
    let at_limit = post(&app, &c.river, &c.group, &"x".repeat(5000), false, "e3").await;
    assert!(at_limit.body.get("errors").is_none(), "{}", at_limit.body);
    let unknown = post(
        &app,
        &c.river,
        &uuid::Uuid::now_v7().to_string(),
        "hello",
        false,
        "e4",
    )
    .await;
    assert_eq!(code(&unknown), Some("NOT_FOUND"));
    assert_eq!(nodes(&posts(&app, &c.sky, &c.group).await).len(), 2);
    let no_name = create_group(&app, &c.facilitator, json!({ "name": "" })).await;
    assert_eq!(field(&no_name), "name");
    let no_link = create_group(&app, &c.facilitator, json!({ "meetingUrl": null })).await;
    assert_eq!(field(&no_link), "meetingUrl");
    let in_person = create_group(
        &app,
        &c.facilitator,
        json!({ "format": "IN_PERSON", "meetingUrl": null }),
    )
    .await;
    assert_eq!(field(&in_person), "location");
    let too_big = create_group(&app, &c.facilitator, json!({ "capacity": 0 })).await;
    assert_eq!(field(&too_big), "capacity");
    // Replies are one level deep.
    let reply = app
        .graphql(POST, json!({ "input": { "groupId": c.group, "body": "Nice", "anonymous": false, "idempotencyKey": "r", "parentPostId": id } }), Some(&c.sky.token))
        .await;
    let reply_id = reply.ok()["createGroupPost"]["post"]["id"].clone();
    let nested = app
        .graphql(POST, json!({ "input": { "groupId": c.group, "body": "Deeper", "anonymous": false, "idempotencyKey": "r2", "parentPostId": reply_id } }), Some(&c.river.token))
        .await;
    assert_eq!(field(&nested), "parentPostId");
    // Archived groups take no posts but keep their history.
    let archive =
        "mutation($input: GroupRef!) { archiveSupportGroup(input: $input) { group { archived } } }";
    assert_eq!(
        code(
            &app.graphql(
                archive,
                json!({ "input": { "groupId": c.group } }),
                Some(&c.river.token)
            )
            .await
        ),
        Some("FORBIDDEN")
    );
    app.graphql(
        archive,
        json!({ "input": { "groupId": c.group } }),
        Some(&c.facilitator.token),
    )
    .await
    .ok();
    assert_eq!(
        code(&post(&app, &c.river, &c.group, "after", false, "late").await),
        Some("CONFLICT")
    );
    assert_eq!(nodes(&posts(&app, &c.sky, &c.group).await).len(), 2);
}

#[tokio::test]
async fn meetings_rsvps_attendance_and_streaks() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    // Weekly for 3 weeks, stored in UTC, a week apart.
    let start = Utc::now() + Duration::days(3);
    let series = app
        .graphql(
            SCHEDULE,
            json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start + Duration::minutes(90), "weeks": 3, "topic": "Coping with cravings" } }),
            Some(&c.facilitator.token),
        )
        .await;
    let meetings = series.ok()["scheduleMeeting"]["meetings"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(meetings.len(), 3);
    let too_many = app
        .graphql(SCHEDULE, json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start + Duration::hours(1), "weeks": 53 } }), Some(&c.facilitator.token))
        .await;
    assert_eq!(field(&too_many), "weeks");
    assert_eq!(
        code(&app.graphql(SCHEDULE, json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start + Duration::hours(1) } }), Some(&c.river.token)).await),
        Some("FORBIDDEN")
    );

    // RSVP by members; counts and the link for members.
    let rsvp = "mutation($input: RsvpMeetingInput!) { rsvpMeeting(input: $input) { meeting { myRsvp rsvps { going maybe notGoing } meetingUrl } } }";
    let first = meetings[0]["id"].clone();
    app.graphql(
        rsvp,
        json!({ "input": { "meetingId": first, "response": "GOING" } }),
        Some(&c.river.token),
    )
    .await
    .ok();
    let sky = app
        .graphql(
            rsvp,
            json!({ "input": { "meetingId": first, "response": "MAYBE" } }),
            Some(&c.sky.token),
        )
        .await;
    let meeting = &sky.ok()["rsvpMeeting"]["meeting"];
    assert_eq!(meeting["myRsvp"], "MAYBE");
    assert_eq!(
        meeting["rsvps"],
        json!({ "going": 1, "maybe": 1, "notGoing": 0 })
    );
    assert_eq!(meeting["meetingUrl"], "https://meet.example.org/tuesday");
    assert_eq!(
        code(
            &app.graphql(
                rsvp,
                json!({ "input": { "meetingId": first, "response": "GOING" } }),
                Some(&c.clinician.token)
            )
            .await
        ),
        Some("NOT_FOUND")
    );

    // Attendance opens 15 minutes before the start: not for a meeting in 3 days.
    let early = app
        .graphql(ATTEND, json!({ "input": { "meetingId": first, "userId": c.river.user_id, "status": "ATTENDED" } }), Some(&c.facilitator.token))
        .await;
    assert_eq!(code(&early), Some("CONFLICT"));
    // Cancelling: the meeting leaves the default list.
    let cancel = "mutation($input: CancelMeetingInput!) { cancelMeeting(input: $input) { meeting { cancelled cancelReason } } }";
    let cancelled = app
        .graphql(
            cancel,
            json!({ "input": { "meetingId": meetings[2]["id"], "reason": "Holiday" } }),
            Some(&c.facilitator.token),
        )
        .await;
    assert_eq!(
        cancelled.ok()["cancelMeeting"]["meeting"]["cancelled"],
        true
    );
    let listed = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { meetings { id } } }",
            json!({ "id": c.group }),
            Some(&c.sky.token),
        )
        .await;
    assert_eq!(
        listed.ok()["supportGroup"]["meetings"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Three past meetings: attended, absent, attended → streak 1; then
    // excused on the latest keeps it.
    let mut past = Vec::new();
    for days_ago in [5, 3, 1] {
        let start = Utc::now() - Duration::days(days_ago);
        let reply = app
            .graphql(SCHEDULE, json!({ "input": { "groupId": c.group, "startsAt": start, "endsAt": start + Duration::hours(1) } }), Some(&c.facilitator.token))
            .await;
        past.push(reply.ok()["scheduleMeeting"]["meeting"]["id"].clone());
    }
    for (meeting, status) in past.iter().zip(["ATTENDED", "ABSENT", "ATTENDED"]) {
        app.graphql(ATTEND, json!({ "input": { "meetingId": meeting, "userId": c.river.user_id, "status": status } }), Some(&c.facilitator.token))
            .await
            .ok();
    }
    let history = "{ myGroupMemberships { attendanceStreak attendance { status } } }";
    let mine = app.graphql(history, json!({}), Some(&c.river.token)).await;
    let membership = &mine.ok()["myGroupMemberships"][0];
    assert_eq!(membership["attendanceStreak"], 1);
    assert_eq!(membership["attendance"].as_array().unwrap().len(), 3);
    // A correction replaces the record.
    app.graphql(ATTEND, json!({ "input": { "meetingId": past[1], "userId": c.river.user_id, "status": "EXCUSED" } }), Some(&c.facilitator.token))
        .await
        .ok();
    let mine = app.graphql(history, json!({}), Some(&c.river.token)).await;
    assert_eq!(mine.ok()["myGroupMemberships"][0]["attendanceStreak"], 2);
    // The facilitator sees each member's streak at a glance; members don't.
    let glance = "query($id: UUID!) { supportGroup(id: $id) { members { nodes { displayName attendanceStreak meetingsAttended } } } }";
    let roster = app
        .graphql(glance, json!({ "id": c.group }), Some(&c.facilitator.token))
        .await;
    let river = roster.ok()["supportGroup"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["displayName"] == "River")
        .unwrap()
        .clone();
    assert_eq!(
        (
            river["attendanceStreak"].clone(),
            river["meetingsAttended"].clone()
        ),
        (json!(2), json!(2))
    );
    let as_member = app
        .graphql(glance, json!({ "id": c.group }), Some(&c.sky.token))
        .await;
    assert!(
        as_member.ok()["supportGroup"]["members"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["attendanceStreak"].is_null())
    );
    // Someone outside the group cannot be marked.
    let outsider = app
        .graphql(ATTEND, json!({ "input": { "meetingId": past[2], "userId": c.clinician.user_id, "status": "ATTENDED" } }), Some(&c.facilitator.token))
        .await;
    assert_eq!(field(&outsider), "userId");
    // The facilitator sees who came, under their alias.
    let roll = app
        .graphql(
            "query($id: UUID!, $from: DateTime) { supportGroup(id: $id) { meetings(from: $from) { attendance { displayName status } } } }",
            json!({ "id": c.group, "from": Utc::now() - Duration::days(6) }),
            Some(&c.facilitator.token),
        )
        .await;
    assert_eq!(
        roll.ok()["supportGroup"]["meetings"][0]["attendance"][0]["displayName"],
        "River"
    );
    let members_roll = app
        .graphql(
            "query($id: UUID!, $from: DateTime) { supportGroup(id: $id) { meetings(from: $from) { attendance { displayName } } } }",
            json!({ "id": c.group, "from": Utc::now() - Duration::days(6) }),
            Some(&c.sky.token),
        )
        .await;
    assert_eq!(code(&members_roll), Some("FORBIDDEN"));
}

/// One operation of the group matrix, as every caller kind of the world.
async fn matrix_row(
    app: &TestApp,
    callers: &[(&str, &Person)],
    operation: &str,
    query: &str,
    variables: Value,
    expected: &[(&str, Expect)],
) {
    for (name, expect) in expected {
        let (_, person) = callers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no caller {name}"));
        let reply = app
            .graphql(query, variables.clone(), Some(&person.token))
            .await;
        check(&reply, *expect, &format!("{operation} as {name}"));
    }
}

#[tokio::test]
async fn the_group_authorization_matrix() {
    let app = spawn_app().await;
    let w = app.world().await;
    // The facilitator runs a group the patient belongs to.
    let group = new_group(&app, &w.facilitator, json!({})).await;
    join(&app, &w.patient, &group, Some("P")).await.ok();
    let post = post_id(&app, &w.patient, &group, "Hello group", false).await;
    let start = Utc::now() - Duration::minutes(30);
    let meeting = app
        .graphql(SCHEDULE, json!({ "input": { "groupId": group, "startsAt": start, "endsAt": start + Duration::hours(1) } }), Some(&w.facilitator.token))
        .await
        .ok()["scheduleMeeting"]["meeting"]["id"]
        .clone();
    let invite_only = new_group(
        &app,
        &w.facilitator,
        json!({ "joinPolicy": "INVITE_ONLY", "name": "Closed" }),
    )
    .await;
    let newcomer = app
        .new_person(w.org, "Gil Facilitator", &["FACILITATOR"])
        .await;
    let callers = w.callers();

    matrix_row(
        &app,
        &callers,
        "supportGroup(id) of an open group",
        "query($id: UUID!) { supportGroup(id: $id) { id name } }",
        json!({ "id": group }),
        &[
            ("patient", Allowed),
            ("other patient", Allowed),
            ("care-team clinician", Allowed),
            ("facilitator without consent", Allowed),
            ("supporter with consent", NotFound),
            ("admin", Allowed),
            ("other organization's admin", NotFound),
        ],
    )
    .await;
    matrix_row(
        &app,
        &callers,
        "supportGroup(id) of an invite-only group",
        "query($id: UUID!) { supportGroup(id: $id) { id } }",
        json!({ "id": invite_only }),
        &[
            ("patient", NotFound),
            ("care-team clinician", NotFound),
            ("facilitator without consent", Allowed),
            ("facilitator with consent", NotFound),
            ("admin", Allowed),
            ("other organization's admin", NotFound),
        ],
    )
    .await;
    matrix_row(
        &app,
        &callers,
        "SupportGroup.posts",
        "query($id: UUID!) { supportGroup(id: $id) { posts { edges { node { id } } } } }",
        json!({ "id": group }),
        &[
            ("patient", Allowed),
            ("other patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("other clinician", Forbidden),
            ("facilitator without consent", Allowed),
            ("facilitator with consent", Forbidden),
            ("supporter with consent", NotFound),
            ("admin", Forbidden),
            ("other organization's admin", NotFound),
        ],
    )
    .await;
    matrix_row(
        &app,
        &callers,
        "SupportGroup.members",
        "query($id: UUID!) { supportGroup(id: $id) { members { nodes { displayName } } } }",
        json!({ "id": group }),
        &[
            ("patient", Allowed),
            ("other patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("facilitator without consent", Allowed),
            ("admin", Forbidden),
        ],
    )
    .await;
    matrix_row(&app, &callers, "createGroupPost",
        "mutation($g: UUID!) { createGroupPost(input: { groupId: $g, body: \"hi\", anonymous: false, idempotencyKey: \"m\" }) { post { id } } }",
        json!({ "g": group }),
        &[("patient", Allowed), ("other patient", Forbidden), ("care-team clinician", Forbidden),
          ("facilitator without consent", Allowed), ("supporter with consent", NotFound),
          ("admin", Forbidden), ("other organization's admin", NotFound)]).await;
    matrix_row(
        &app,
        &callers,
        "hideGroupPost",
        "mutation($p: UUID!) { hideGroupPost(input: { postId: $p, reason: \"r\" }) { ok } }",
        json!({ "p": post }),
        &[
            // Members see the post but may not moderate it; nobody else
            // may learn it exists.
            ("patient", Forbidden),
            ("other patient", NotFound),
            ("care-team clinician", NotFound),
            ("admin", NotFound),
            ("other organization's admin", NotFound),
            ("facilitator without consent", Allowed),
        ],
    )
    .await;
    matrix_row(&app, &callers, "scheduleMeeting",
        "mutation($g: UUID!, $s: DateTime!, $e: DateTime!) { scheduleMeeting(input: { groupId: $g, startsAt: $s, endsAt: $e }) { meeting { id } } }",
        json!({ "g": group, "s": Utc::now() + Duration::days(1), "e": Utc::now() + Duration::days(1) + Duration::hours(1) }),
        &[("patient", Forbidden), ("care-team clinician", Forbidden), ("admin", Forbidden),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "recordAttendance",
        "mutation($m: UUID!, $u: UUID!) { recordAttendance(input: { meetingId: $m, userId: $u, status: ATTENDED }) { ok } }",
        json!({ "m": meeting, "u": w.patient.user_id }),
        &[("patient", Forbidden), ("care-team clinician", NotFound), ("facilitator with consent", NotFound),
          ("admin", NotFound), ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "addGroupMember",
        "mutation($g: UUID!, $u: UUID!) { addGroupMember(input: { groupId: $g, userId: $u }) { membership { status } } }",
        json!({ "g": group, "u": w.other_patient.user_id }),
        &[("patient", Forbidden), ("care-team clinician", Forbidden), ("admin", Forbidden),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "assignGroupFacilitator",
        "mutation($g: UUID!, $u: UUID!) { assignGroupFacilitator(input: { groupId: $g, userId: $u }) { membership { role } } }",
        json!({ "g": group, "u": newcomer.user_id }),
        &[("patient", Forbidden), ("facilitator without consent", Forbidden), ("care-team clinician", Forbidden),
          ("other organization's admin", NotFound), ("admin", Allowed)]).await;
    matrix_row(&app, &callers, "createSupportGroup",
        "mutation { createSupportGroup(input: { name: \"G\", kind: PEER_SUPPORT, description: \"\", format: VIRTUAL, meetingUrl: \"https://x.example\" }) { group { id } } }",
        json!({}),
        &[("patient", Forbidden), ("care-team clinician", Forbidden), ("supporter with consent", Forbidden),
          ("facilitator without consent", Allowed), ("admin", Allowed)]).await;
    // The patient's group activity: theirs to disclose — to a GROUP_ACTIVITY
    // consent holder, not to the care team by default, never with posts.
    matrix_row(&app, &callers, "Patient.groupMemberships",
        "query($id: UUID!) { patient(id: $id) { groupMemberships { status alias group { name } attendanceStreak } } }",
        json!({ "id": w.patient.patient() }),
        &[("patient", Allowed), ("other patient", NotFound), ("care-team clinician", Forbidden),
          ("other clinician", NotFound), ("facilitator without consent", NotFound),
          ("facilitator with consent", Allowed), ("supporter with consent", Forbidden),
          ("admin", Forbidden), ("other organization's admin", NotFound)]).await;
    // Consent discloses memberships, never the group's posts.
    let through_consent = app
        .graphql(
            "query($id: UUID!) { patient(id: $id) { groupMemberships { group { posts { edges { node { body } } } } } } }",
            json!({ "id": w.patient.patient() }),
            Some(&w.consented_facilitator.token),
        )
        .await;
    assert_eq!(code(&through_consent), Some("FORBIDDEN"));
    assert!(!through_consent.body.to_string().contains("Hello group"));
}

#[tokio::test]
async fn shared_goals_for_accountability() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let create = "mutation($input: CreateGoalInput!) { createGoal(input: $input) { goal { id title progressPercent status ownerDisplayName } } }";
    let goal = app
        .graphql(create, json!({ "input": { "title": "Walk every day", "targetOn": "2027-01-31", "shareWithGroupId": c.group } }), Some(&c.river.token))
        .await;
    let goal_id = goal.ok()["createGoal"]["goal"]["id"].clone();
    let progress = "mutation($input: UpdateGoalProgressInput!) { updateGoalProgress(input: $input) { goal { progressPercent status } } }";
    let done = app
        .graphql(
            progress,
            json!({ "input": { "goalId": goal_id, "progressPercent": 100 } }),
            Some(&c.river.token),
        )
        .await;
    assert_eq!(
        done.ok()["updateGoalProgress"]["goal"]["status"],
        "ACHIEVED"
    );
    let bad = app
        .graphql(
            progress,
            json!({ "input": { "goalId": goal_id, "progressPercent": 101 } }),
            Some(&c.river.token),
        )
        .await;
    assert_eq!(field(&bad), "progressPercent");
    assert_eq!(
        code(
            &app.graphql(
                progress,
                json!({ "input": { "goalId": goal_id, "progressPercent": 5 } }),
                Some(&c.sky.token)
            )
            .await
        ),
        Some("NOT_FOUND")
    );
    // Members see it under the owner's alias and cheer it on.
    let react = "mutation($input: GoalReactionInput!) { reactToGoal(input: $input) { goal { reactions { kind count } } } }";
    let cheered = app
        .graphql(
            react,
            json!({ "input": { "goalId": goal_id, "kind": "CELEBRATE" } }),
            Some(&c.sky.token),
        )
        .await;
    assert_eq!(
        cheered.ok()["reactToGoal"]["goal"]["reactions"][0]["count"],
        1
    );
    let unreact = "mutation($input: GoalReactionInput!) { removeGoalReaction(input: $input) { goal { reactions { kind count } } } }";
    let taken_back = app
        .graphql(
            unreact,
            json!({ "input": { "goalId": goal_id, "kind": "CELEBRATE" } }),
            Some(&c.sky.token),
        )
        .await;
    assert_eq!(
        taken_back.ok()["removeGoalReaction"]["goal"]["reactions"],
        json!([])
    );
    app.graphql(
        react,
        json!({ "input": { "goalId": goal_id, "kind": "CELEBRATE" } }),
        Some(&c.sky.token),
    )
    .await
    .ok();
    let shared = app
        .graphql("query($id: UUID!) { supportGroup(id: $id) { sharedGoals { nodes { title progressPercent ownerDisplayName isMine } } } }", json!({ "id": c.group }), Some(&c.sky.token))
        .await;
    let goals = &shared.ok()["supportGroup"]["sharedGoals"]["nodes"];
    assert_eq!(goals[0]["ownerDisplayName"], "River");
    assert_eq!(goals[0]["progressPercent"], 100);
    assert_eq!(goals[0]["isMine"], false);
    // The owner's phone syncs goals changed since its last pull.
    let sync =
        "query($since: DateTime) { myGoals(updatedSince: $since) { nodes { title status } } }";
    let all = app
        .graphql(sync, json!({ "since": null }), Some(&c.river.token))
        .await;
    assert_eq!(all.ok()["myGoals"]["nodes"][0]["status"], "ACHIEVED");
    let later = app
        .graphql(
            sync,
            json!({ "since": Utc::now() + Duration::minutes(1) }),
            Some(&c.river.token),
        )
        .await;
    assert_eq!(later.ok()["myGoals"]["nodes"], json!([]));
    // Outsiders neither see nor react.
    assert_eq!(
        code(
            &app.graphql(
                react,
                json!({ "input": { "goalId": goal_id, "kind": "HUG" } }),
                Some(&c.clinician.token)
            )
            .await
        ),
        Some("NOT_FOUND")
    );
    // Sharing needs membership of the group.
    let other = new_group(&app, &c.facilitator, json!({ "name": "Other" })).await;
    let outside = app
        .graphql(
            create,
            json!({ "input": { "title": "x", "shareWithGroupId": other } }),
            Some(&c.river.token),
        )
        .await;
    assert_eq!(field(&outside), "shareWithGroupId");
    assert_eq!(
        code(
            &app.graphql(
                create,
                json!({ "input": { "title": "x" } }),
                Some(&c.clinician.token)
            )
            .await
        ),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn a_page_of_posts_costs_the_same_statements_for_5_or_50() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into())],
        ..Default::default()
    })
    .await;
    let c = circle(&app).await;
    for i in 0..30 {
        let author = if i % 2 == 0 { &c.river } else { &c.sky };
        let id = post_id(&app, author, &c.group, &format!("post {i}"), i % 3 == 0).await;
        app.graphql(
            "mutation($input: GroupPostReactionInput!) { reactToGroupPost(input: $input) { post { id } } }",
            json!({ "input": { "postId": id, "kind": "HUG" } }),
            Some(&c.facilitator.token),
        )
        .await
        .ok();
        if i % 4 == 0 {
            app.graphql(
                POST,
                json!({ "input": { "groupId": c.group, "body": "reply", "anonymous": i % 8 == 0, "idempotencyKey": format!("r{i}"), "parentPostId": id } }),
                Some(&c.river.token),
            )
            .await
            .ok();
        }
    }
    let statements = |who: &Person, n: i64| {
        let app = &app;
        let token = who.token.clone();
        let group = c.group.clone();
        async move {
            let response = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": POSTS, "variables": { "id": group, "first": n } }))
                .send()
                .await
                .unwrap();
            let count: usize = response.headers()["x-sql-statements"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert!(body.get("errors").is_none(), "{body}");
            (
                count,
                body["data"]["supportGroup"]["posts"]["edges"]
                    .as_array()
                    .unwrap()
                    .len(),
            )
        }
    };
    for who in [&c.sky, &c.facilitator] {
        let (five, rows) = statements(who, 5).await;
        assert_eq!(rows, 5);
        let (fifty, rows) = statements(who, 50).await;
        assert_eq!(rows, 30);
        assert_eq!(five, fifty, "statements for 5 vs 50 posts");
    }
}

#[tokio::test]
async fn the_demo_organization_has_a_living_group() {
    let app = spawn_app().await;
    let demo = stepdown::demo::seed_demo(
        app.seed_db().await,
        &stepdown::auth::passwords::PasswordHasherPool::default(),
    )
    .await
    .expect("seed-demo");
    assert!(demo.logins.iter().any(|l| l.role == "FACILITATOR"));
    let login = app
        .graphql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": "alex@demo.stepdown.test", "password": stepdown::demo::DEMO_PASSWORD } }),
            None,
        )
        .await;
    let token = login.ok()["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = app
        .graphql(
            "{ myGroupMemberships { alias attendanceStreak group { name meetingUrl sharedGoals { nodes { title } }
               meetings { startsAt } posts { edges { node { authorDisplayName replyCount } } } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let membership = &mine.ok()["myGroupMemberships"][0];
    assert_eq!(membership["alias"], "Lark");
    assert_eq!(
        membership["group"]["sharedGoals"]["nodes"][0]["title"],
        "Walk 20 minutes every day"
    );
    assert!(
        !membership["group"]["meetings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let authors: Vec<&str> = membership["group"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["authorDisplayName"].as_str().unwrap())
        .collect();
    assert!(authors.contains(&"Anonymous member"), "{authors:?}");
}

#[tokio::test]
async fn concurrent_joins_never_overfill_a_group() {
    let app = spawn_app().await;
    let org = app.new_organization("Clinic").await;
    let facilitator = app.new_person(org, "Fay", &["FACILITATOR"]).await;
    let group = new_group(&app, &facilitator, json!({ "capacity": 3 })).await;
    let mut patients = Vec::new();
    for i in 0..10 {
        patients.push(app.new_person(org, &format!("P{i}"), &["PATIENT"]).await);
    }
    let replies =
        futures_util::future::join_all(patients.iter().map(|p| join(&app, p, &group, None))).await;
    let active = replies
        .iter()
        .filter(|r| r.body["data"]["joinSupportGroup"]["membership"]["status"] == "ACTIVE")
        .count();
    let full = replies
        .iter()
        .filter(|r| code(r) == Some("CONFLICT"))
        .count();
    assert_eq!(
        (active, full),
        (3, 7),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let count = app
        .graphql(
            "query($id: UUID!) { supportGroup(id: $id) { memberCount } }",
            json!({ "id": group }),
            Some(&facilitator.token),
        )
        .await;
    assert_eq!(count.ok()["supportGroup"]["memberCount"], 3);
}

#[tokio::test]
async fn live_posts_reach_members_connected_to_another_replica() {
    let app = spawn_app().await;
    if !app.db.is_postgres() {
        // One SQLite file is one process: there are no replicas to cross.
        eprintln!("skipped on SQLite: replicas need PostgreSQL");
        return;
    }
    let c = circle(&app).await;
    let other = app.replica().await;
    let connect =
        |p: &Person| app.ws_connect(json!({ "authorization": format!("Bearer {}", p.token) }));
    let mut sky = connect(&c.sky).await.expect("member connects to replica A");
    sky.subscribe(
        "g",
        "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id authorDisplayName author { id } } }",
        json!({ "g": c.group }),
    )
    .await;
    let mut inbox = connect(&c.facilitator)
        .await
        .expect("facilitator connects to replica A");
    inbox
        .subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Written through replica B, heard on replica A — still anonymous.
    let written = post(
        &other,
        &c.river,
        &c.group,
        "Through the other door.",
        true,
        "x1",
    )
    .await;
    let id = written.ok()["createGroupPost"]["post"]["id"].clone();
    match sky.next_message().await {
        Some(WsEvent::Message(msg)) => {
            let delivered = &msg["payload"]["data"]["groupPostAdded"];
            assert_eq!(delivered["id"], id, "{msg}");
            assert_eq!(delivered["author"], Value::Null);
            assert_eq!(delivered["authorDisplayName"], "Anonymous member");
        }
        other => panic!("expected the post, got {other:?}"),
    }
    other
        .graphql(
            "mutation($input: ReportGroupPostInput!) { reportGroupPost(input: $input) { ok } }",
            json!({ "input": { "postId": id, "reason": "check" } }),
            Some(&c.sky.token),
        )
        .await
        .ok();
    match inbox.next_message().await {
        Some(WsEvent::Message(msg)) => {
            assert_eq!(
                msg["payload"]["data"]["notificationAdded"]["kind"], "GROUP_POST_REPORTED",
                "{msg}"
            );
        }
        other => panic!("expected the notification, got {other:?}"),
    }
}

#[tokio::test]
async fn the_group_authorization_matrix_continued() {
    let app = spawn_app().await;
    let w = app.world().await;
    let group = new_group(&app, &w.facilitator, json!({})).await;
    join(&app, &w.patient, &group, Some("P")).await.ok();
    let gated = new_group(
        &app,
        &w.facilitator,
        json!({ "joinPolicy": "APPROVAL", "name": "Gated" }),
    )
    .await;
    join(&app, &w.other_patient, &gated, Some("O")).await.ok();
    let post = post_id(&app, &w.patient, &group, "A post", false).await;
    let later = Utc::now() + Duration::days(2);
    let meeting = |offset: i64| {
        let app = &app;
        let token = w.facilitator.token.clone();
        let group = group.clone();
        async move {
            let start = later + Duration::days(offset);
            app.graphql(SCHEDULE, json!({ "input": { "groupId": group, "startsAt": start, "endsAt": start + Duration::hours(1) } }), Some(&token))
                .await
                .ok()["scheduleMeeting"]["meeting"]["id"]
                .clone()
        }
    };
    let (to_cancel, to_answer) = (meeting(0).await, meeting(7).await);
    let goal = app
        .graphql(
            "mutation($g: UUID!) { createGoal(input: { title: \"Walk daily\", shareWithGroupId: $g }) { goal { id } } }",
            json!({ "g": group }),
            Some(&w.patient.token),
        )
        .await
        .ok()["createGoal"]["goal"]["id"]
        .clone();
    let callers = w.callers();
    let g = json!({ "g": group });

    matrix_row(
        &app,
        &callers,
        "SupportGroup.meetings",
        "query($g: UUID!) { supportGroup(id: $g) { meetings { id } } }",
        g.clone(),
        &[
            ("patient", Allowed),
            ("other patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("supporter with consent", NotFound),
            ("admin", Forbidden),
            ("other organization's admin", NotFound),
            ("facilitator without consent", Allowed),
        ],
    )
    .await;
    matrix_row(
        &app,
        &callers,
        "SupportGroup.sharedGoals",
        "query($g: UUID!) { supportGroup(id: $g) { sharedGoals { nodes { title } } } }",
        g.clone(),
        &[
            ("patient", Allowed),
            ("other patient", Forbidden),
            ("care-team clinician", Forbidden),
            ("facilitator with consent", Forbidden),
            ("admin", Forbidden),
            ("other organization's admin", NotFound),
            ("facilitator without consent", Allowed),
        ],
    )
    .await;
    matrix_row(&app, &callers, "updateSupportGroup",
        "mutation($g: UUID!) { updateSupportGroup(input: { groupId: $g, description: \"Weekly\" }) { group { id } } }", g.clone(),
        &[("patient", Forbidden), ("other patient", Forbidden), ("care-team clinician", Forbidden),
          ("facilitator with consent", Forbidden), ("supporter with consent", NotFound),
          ("other organization's admin", NotFound), ("admin", Allowed), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "approveMembership",
        "mutation($g: UUID!, $u: UUID!) { approveMembership(input: { groupId: $g, userId: $u }) { membership { status } } }",
        json!({ "g": gated, "u": w.other_patient.user_id }),
        &[("patient", Forbidden), ("other patient", Forbidden), ("care-team clinician", Forbidden), ("admin", Forbidden),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "cancelMeeting",
        "mutation($m: UUID!) { cancelMeeting(input: { meetingId: $m, reason: \"Snow\" }) { meeting { cancelled } } }",
        json!({ "m": to_cancel }),
        &[("patient", Forbidden), ("other patient", NotFound), ("care-team clinician", NotFound), ("admin", NotFound),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "rsvpMeeting",
        "mutation($m: UUID!) { rsvpMeeting(input: { meetingId: $m, response: GOING }) { meeting { myRsvp } } }",
        json!({ "m": to_answer }),
        &[("other patient", NotFound), ("care-team clinician", NotFound), ("supporter with consent", NotFound),
          ("admin", NotFound), ("other organization's admin", NotFound), ("patient", Allowed),
          ("facilitator without consent", Allowed)]).await;
    matrix_row(
        &app,
        &callers,
        "reportGroupPost",
        "mutation($p: UUID!) { reportGroupPost(input: { postId: $p, reason: \"check\" }) { ok } }",
        json!({ "p": post }),
        &[
            ("other patient", NotFound),
            ("care-team clinician", NotFound),
            ("facilitator with consent", NotFound),
            ("admin", NotFound),
            ("other organization's admin", NotFound),
            ("patient", Allowed),
        ],
    )
    .await;
    matrix_row(&app, &callers, "reactToGroupPost",
        "mutation($p: UUID!) { reactToGroupPost(input: { postId: $p, kind: HUG }) { post { id } } }",
        json!({ "p": post }),
        &[("other patient", NotFound), ("care-team clinician", NotFound), ("admin", NotFound),
          ("other organization's admin", NotFound), ("patient", Allowed), ("facilitator without consent", Allowed)]).await;
    matrix_row(
        &app,
        &callers,
        "unhideGroupPost",
        "mutation($p: UUID!) { unhideGroupPost(input: { postId: $p }) { ok } }",
        json!({ "p": post }),
        &[
            ("patient", Forbidden),
            ("other patient", NotFound),
            ("admin", NotFound),
            ("other organization's admin", NotFound),
            ("facilitator without consent", Allowed),
        ],
    )
    .await;
    matrix_row(
        &app,
        &callers,
        "createGoal",
        "mutation { createGoal(input: { title: \"Sleep by 11\" }) { goal { id } } }",
        json!({}),
        &[
            ("care-team clinician", Forbidden),
            ("facilitator without consent", Forbidden),
            ("admin", Forbidden),
            ("supporter with consent", Forbidden),
            ("patient", Allowed),
        ],
    )
    .await;
    matrix_row(&app, &callers, "updateGoalProgress",
        "mutation($id: UUID!) { updateGoalProgress(input: { goalId: $id, progressPercent: 50 }) { goal { id } } }",
        json!({ "id": goal }),
        &[("other patient", NotFound), ("care-team clinician", NotFound), ("facilitator without consent", NotFound),
          ("admin", NotFound), ("patient", Allowed)]).await;
    matrix_row(&app, &callers, "reactToGoal",
        "mutation($id: UUID!) { reactToGoal(input: { goalId: $id, kind: STRENGTH }) { goal { id } } }",
        json!({ "id": goal }),
        &[("other patient", NotFound), ("care-team clinician", NotFound), ("admin", NotFound),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "joinSupportGroup",
        "mutation($g: UUID!) { joinSupportGroup(input: { groupId: $g }) { membership { status } } }", g.clone(),
        &[("care-team clinician", Forbidden), ("admin", Forbidden), ("supporter with consent", NotFound),
          ("other organization's admin", NotFound), ("other patient", Allowed)]).await;
    matrix_row(&app, &callers, "removeGroupMember",
        "mutation($g: UUID!, $u: UUID!) { removeGroupMember(input: { groupId: $g, userId: $u, reason: \"r\" }) { membership { status } } }",
        json!({ "g": group, "u": w.other_patient.user_id }),
        &[("patient", Forbidden), ("care-team clinician", Forbidden), ("admin", Forbidden),
          ("other organization's admin", NotFound), ("facilitator without consent", Allowed)]).await;
    matrix_row(&app, &callers, "removeGroupFacilitator",
        "mutation($g: UUID!, $u: UUID!) { removeGroupFacilitator(input: { groupId: $g, userId: $u }) { membership { status } } }",
        json!({ "g": group, "u": w.facilitator.user_id }),
        &[("patient", Forbidden), ("facilitator without consent", Forbidden), ("care-team clinician", Forbidden),
          ("other organization's admin", NotFound)]).await;
    matrix_row(&app, &callers, "archiveSupportGroup",
        "mutation($g: UUID!) { archiveSupportGroup(input: { groupId: $g }) { group { archived } } }", g.clone(),
        &[("patient", Forbidden), ("care-team clinician", Forbidden), ("other organization's admin", NotFound),
          ("facilitator without consent", Allowed)]).await;
}
