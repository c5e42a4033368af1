//! What members of a support group may learn about each other: aliases
//! hold on every path a post reaches a member by (lists, replies, mutation
//! payloads, reactions, the live subscription) and in the member list;
//! shared goals leave with their owner; nested lists are priced by page
//! size; meeting dates are bounded.

use serde_json::{Value, json};

use crate::harness::{GqlReply, Options, Person, TestApp, WsEvent, spawn_app, spawn_app_with};

const POST: &str = "mutation($input: CreateGroupPostInput!) { createGroupPost(input: $input) {
  post { id authorDisplayName author { id email } isMine } } }";
const POSTS: &str = "query($id: UUID!) { supportGroup(id: $id) {
  posts(first: 50) { nodes { id authorDisplayName author { id email }
  replies { id authorDisplayName author { id email } } } } } }";
const REACT: &str = "mutation($input: GroupPostReactionInput!) { reactToGroupPost(input: $input) {
  post { id authorDisplayName author { id email } } } }";
const MEMBERS: &str = "query($id: UUID!) { supportGroup(id: $id) {
  members(first: 50) { nodes { displayName role user { id email } } } } }";

struct Circle {
    facilitator: Person,
    river: Person,
    sky: Person,
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
    let admin = app.new_person(org, "Ada Admin", &["ADMIN"]).await;
    let created = app
        .graphql(
            "mutation($input: CreateSupportGroupInput!) { createSupportGroup(input: $input) { group { id } } }",
            json!({ "input": {
                "name": "Tuesday tapering circle",
                "kind": "TAPERING_COHORT",
                "description": "People tapering together.",
                "format": "VIRTUAL",
                "meetingUrl": "https://meet.example.org/tuesday",
            } }),
            Some(&facilitator.token),
        )
        .await;
    let group = created.ok()["createSupportGroup"]["group"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (who, alias) in [(&river, "River"), (&sky, "Sky")] {
        app.graphql(
            "mutation($input: JoinSupportGroupInput!) { joinSupportGroup(input: $input) { membership { status } } }",
            json!({ "input": { "groupId": group, "alias": alias } }),
            Some(&who.token),
        )
        .await
        .ok();
    }
    Circle {
        facilitator,
        river,
        sky,
        admin,
        group,
    }
}

async fn post(
    app: &TestApp,
    who: &Person,
    group: &str,
    body: &str,
    parent: Option<&str>,
) -> GqlReply {
    app.graphql(
        POST,
        json!({ "input": { "groupId": group, "body": body, "anonymous": false,
            "idempotencyKey": format!("k-{body}"), "parentPostId": parent } }),
        Some(&who.token),
    )
    .await
}

/// Nothing in `text` names River's account.
fn hides_river(text: &str, c: &Circle) {
    assert!(!text.contains(&c.river.user_id.to_string()), "{text}");
    assert!(!text.contains("Rita"), "{text}");
    assert!(!text.contains(&c.river.email), "{text}");
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

#[tokio::test]
async fn aliases_hold_on_every_path() {
    let app = spawn_app().await;
    let c = circle(&app).await;

    // Sky listens before River writes.
    let mut sky_ws = app
        .ws_connect(json!({ "authorization": format!("Bearer {}", c.sky.token) }))
        .await
        .expect("member connects");
    sky_ws
        .subscribe(
            "g",
            "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id authorDisplayName author { id email } } }",
            json!({ "g": c.group }),
        )
        .await;
    let mut fay_ws = app
        .ws_connect(json!({ "authorization": format!("Bearer {}", c.facilitator.token) }))
        .await
        .expect("facilitator connects");
    fay_ws
        .subscribe(
            "g",
            "subscription($g: UUID!) { groupPostAdded(groupId: $g) { id author { id } } }",
            json!({ "g": c.group }),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // River posts under the alias: River's own payload shows River.
    let created = post(&app, &c.river, &c.group, "Week three, still steady.", None).await;
    let mine = &created.ok()["createGroupPost"]["post"];
    assert_eq!(mine["author"]["id"], c.river.user_id.to_string());
    assert_eq!(mine["authorDisplayName"], "River");
    let river_post = mine["id"].as_str().unwrap().to_owned();

    // The live delivery to Sky: the alias, no account.
    match sky_ws.next_message().await {
        Some(WsEvent::Message(msg)) => {
            let delivered = &msg["payload"]["data"]["groupPostAdded"];
            assert_eq!(delivered["id"], river_post.as_str(), "{msg}");
            assert_eq!(delivered["authorDisplayName"], "River");
            assert_eq!(delivered["author"], Value::Null);
            hides_river(&msg.to_string(), &c);
        }
        other => panic!("expected the post, got {other:?}"),
    }
    // The facilitator's delivery names River.
    match fay_ws.next_message().await {
        Some(WsEvent::Message(msg)) => assert_eq!(
            msg["payload"]["data"]["groupPostAdded"]["author"]["id"],
            c.river.user_id.to_string(),
            "{msg}"
        ),
        other => panic!("expected the post, got {other:?}"),
    }

    // Sky posts; River replies to it.
    let sky_post = post(&app, &c.sky, &c.group, "Sleep is coming back.", None)
        .await
        .ok()["createGroupPost"]["post"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &app,
        &c.river,
        &c.group,
        "Glad to hear it.",
        Some(&sky_post),
    )
    .await
    .ok();

    // Sky's list: River's post and River's reply show the alias only.
    let list = app
        .graphql(POSTS, json!({ "id": c.group }), Some(&c.sky.token))
        .await;
    let nodes = &list.ok()["supportGroup"]["posts"]["nodes"];
    let theirs = find(nodes, &river_post);
    assert_eq!(theirs["authorDisplayName"], "River");
    assert_eq!(theirs["author"], Value::Null);
    let own = find(nodes, &sky_post);
    assert_eq!(own["author"]["id"], c.sky.user_id.to_string());
    assert_eq!(own["replies"][0]["authorDisplayName"], "River");
    assert_eq!(own["replies"][0]["author"], Value::Null);
    hides_river(&list.body.to_string(), &c);

    // A reaction's payload: the alias only.
    for mutation in [
        REACT,
        &REACT.replace("reactToGroupPost", "removeGroupPostReaction"),
    ] {
        let reacted = app
            .graphql(
                mutation,
                json!({ "input": { "postId": river_post, "kind": "SUPPORT" } }),
                Some(&c.sky.token),
            )
            .await;
        let data = reacted.ok();
        let shown = data.as_object().unwrap().values().next().unwrap();
        assert_eq!(shown["post"]["authorDisplayName"], "River");
        assert_eq!(shown["post"]["author"], Value::Null);
        hides_river(&reacted.body.to_string(), &c);
    }

    // The member list: Sky sees Sky and the facilitator, not River.
    let members = app
        .graphql(MEMBERS, json!({ "id": c.group }), Some(&c.sky.token))
        .await;
    let people = members.ok()["supportGroup"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let by_name = |name: &str| {
        people
            .iter()
            .find(|m| m["displayName"] == name)
            .unwrap_or_else(|| panic!("{name} not in {people:?}"))
            .clone()
    };
    assert_eq!(by_name("River")["user"], Value::Null);
    assert_eq!(by_name("Sky")["user"]["id"], c.sky.user_id.to_string());
    let fay = people
        .iter()
        .find(|m| m["role"] == "FACILITATOR")
        .expect("the facilitator is listed");
    assert_eq!(fay["user"]["id"], c.facilitator.user_id.to_string());
    hides_river(&members.body.to_string(), &c);

    // The author and the facilitator still see who wrote it.
    let river_view = app
        .graphql(POSTS, json!({ "id": c.group }), Some(&c.river.token))
        .await;
    let nodes = &river_view.ok()["supportGroup"]["posts"]["nodes"];
    assert_eq!(
        find(nodes, &river_post)["author"]["id"],
        c.river.user_id.to_string()
    );
    let fay_view = app
        .graphql(POSTS, json!({ "id": c.group }), Some(&c.facilitator.token))
        .await;
    let nodes = &fay_view.ok()["supportGroup"]["posts"]["nodes"];
    assert_eq!(
        find(nodes, &river_post)["author"]["id"],
        c.river.user_id.to_string()
    );
    assert_eq!(
        find(nodes, &sky_post)["replies"][0]["author"]["id"],
        c.river.user_id.to_string()
    );
    let fay_members = app
        .graphql(
            MEMBERS,
            json!({ "id": c.group }),
            Some(&c.facilitator.token),
        )
        .await;
    let listed = fay_members.ok()["supportGroup"]["members"]["nodes"].to_string();
    assert!(listed.contains(&c.river.user_id.to_string()), "{listed}");

    // The facilitator's reveal is on the trail, and in River's access log.
    let trail = app
        .graphql(
            "{ auditEvents(first: 100) { edges { node { action actorUserId resourceId } } } }",
            json!({}),
            Some(&c.admin.token),
        )
        .await;
    let reveals: Vec<Value> = trail.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["action"] == "group.post.author.reveal.alias")
        .collect();
    assert!(
        reveals
            .iter()
            .any(|n| n["resourceId"] == river_post.as_str()),
        "{reveals:?}"
    );
    assert!(
        reveals
            .iter()
            .all(|n| n["actorUserId"] == c.facilitator.user_id.to_string()),
        "{reveals:?}"
    );
    let log = app
        .graphql(
            "{ myAccessLog(first: 100) { edges { node { action actorUserId } } } }",
            json!({}),
            Some(&c.river.token),
        )
        .await;
    let seen = log.ok()["myAccessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| {
            e["node"]["action"] == "group.post.author.reveal.alias"
                && e["node"]["actorUserId"] == c.facilitator.user_id.to_string()
        });
    assert!(seen, "{}", log.body);
    // Members reading posts reveal nothing, so write nothing of the kind.
    let sky_log = app
        .graphql(
            "{ myAccessLog(first: 100) { edges { node { action actorUserId } } } }",
            json!({}),
            Some(&c.sky.token),
        )
        .await;
    assert!(
        !sky_log
            .body
            .to_string()
            .contains(&c.river.user_id.to_string()),
        "{}",
        sky_log.body
    );
}

async fn share_goal(app: &TestApp, who: &Person, group: &str, title: &str) -> String {
    app.graphql(
        "mutation($input: CreateGoalInput!) { createGoal(input: $input) { goal { id sharedWithGroupId } } }",
        json!({ "input": { "title": title, "shareWithGroupId": group } }),
        Some(&who.token),
    )
    .await
    .ok()["createGoal"]["goal"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn shared_ids(app: &TestApp, who: &Person, group: &str) -> Vec<String> {
    app.graphql(
        "query($id: UUID!) { supportGroup(id: $id) { sharedGoals(first: 50) { nodes { id } } } }",
        json!({ "id": group }),
        Some(&who.token),
    )
    .await
    .ok()["supportGroup"]["sharedGoals"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn my_goal_group(app: &TestApp, who: &Person, goal: &str) -> Value {
    let mine = app
        .graphql(
            "{ myGoals(first: 50) { nodes { id sharedWithGroupId } } }",
            json!({}),
            Some(&who.token),
        )
        .await;
    find(&mine.ok()["myGoals"]["nodes"], goal)["sharedWithGroupId"].clone()
}

#[tokio::test]
async fn shared_goals_leave_with_their_owner() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let river_goal = share_goal(&app, &c.river, &c.group, "Walk daily").await;
    let sky_goal = share_goal(&app, &c.sky, &c.group, "Sleep by eleven").await;
    let listed = shared_ids(&app, &c.facilitator, &c.group).await;
    assert!(listed.contains(&river_goal) && listed.contains(&sky_goal));

    // River leaves: River's goal is no longer shared; Sky's still is.
    app.graphql(
        "mutation($g: UUID!) { leaveSupportGroup(input: { groupId: $g }) { membership { status } } }",
        json!({ "g": c.group }),
        Some(&c.river.token),
    )
    .await
    .ok();
    let listed = shared_ids(&app, &c.facilitator, &c.group).await;
    assert!(!listed.contains(&river_goal), "{listed:?}");
    assert!(listed.contains(&sky_goal), "{listed:?}");
    assert_eq!(
        my_goal_group(&app, &c.river, &river_goal).await,
        Value::Null
    );

    // Sky is removed: the same.
    app.graphql(
        "mutation($input: RemoveGroupMemberInput!) { removeGroupMember(input: $input) { membership { status } } }",
        json!({ "input": { "groupId": c.group, "userId": c.sky.user_id, "reason": "Asked to leave" } }),
        Some(&c.facilitator.token),
    )
    .await
    .ok();
    assert!(shared_ids(&app, &c.facilitator, &c.group).await.is_empty());
    assert_eq!(my_goal_group(&app, &c.sky, &sky_goal).await, Value::Null);
}

#[tokio::test]
async fn group_lists_are_priced_by_page_size() {
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_MAX_COMPLEXITY", "400".into())],
        ..Default::default()
    })
    .await;
    let c = circle(&app).await;
    let group = |list: &str| format!("query($id: UUID!) {{ supportGroup(id: $id) {{ {list} }} }}");
    let wide = "nodes { id body createdAt authorDisplayName anonymous isMine }";
    let goal = "nodes { id title description progressPercent status ownerDisplayName }";
    for (query, small) in [
        (
            group("members(first: 100) { nodes { id displayName role status joinedAt } }"),
            group("members(first: 5) { nodes { id displayName role status joinedAt } }"),
        ),
        (
            group(&format!("posts(first: 100) {{ {wide} }}")),
            group(&format!("posts(first: 5) {{ {wide} }}")),
        ),
        (
            // Replies weigh a thread's worth under each post.
            group("posts(first: 20) { nodes { id replies { id body authorDisplayName } } }"),
            group("posts(first: 20) { nodes { id body } }"),
        ),
        (
            group(&format!("sharedGoals(first: 100) {{ {goal} }}")),
            group(&format!("sharedGoals(first: 5) {{ {goal} }}")),
        ),
        (
            format!("{{ myGoals(first: 100) {{ {goal} }} }}"),
            format!("{{ myGoals(first: 5) {{ {goal} }} }}"),
        ),
    ] {
        let refused = app
            .graphql(&query, json!({ "id": c.group }), Some(&c.river.token))
            .await;
        assert!(
            refused.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("complex")),
            "{query}: {}",
            refused.body
        );
        assert!(refused.body["data"].is_null(), "{}", refused.body);
        app.graphql(&small, json!({ "id": c.group }), Some(&c.river.token))
            .await
            .ok();
    }
}

#[tokio::test]
async fn meeting_dates_are_bounded() {
    let app = spawn_app().await;
    let c = circle(&app).await;
    let schedule = "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { meetings { id } } }";
    let start = chrono::Utc::now() + chrono::Duration::days(600);
    let input = |weeks: i32| {
        json!({ "input": { "groupId": c.group, "startsAt": start.to_rfc3339(),
            "endsAt": (start + chrono::Duration::hours(1)).to_rfc3339(), "weeks": weeks } })
    };
    // 600 days ahead is a bookable slot; 52 weeks from there runs past two
    // years ahead.
    let refused = app
        .graphql(schedule, input(52), Some(&c.facilitator.token))
        .await;
    assert_eq!(
        refused.error_code(),
        Some("BAD_USER_INPUT"),
        "{}",
        refused.body
    );
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "weeks");
    let fits = app
        .graphql(schedule, input(4), Some(&c.facilitator.token))
        .await;
    assert_eq!(
        fits.ok()["scheduleMeeting"]["meetings"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Absurd list bounds are bad input naming the argument, never a panic.
    let list = "query($id: UUID!, $from: DateTime, $to: DateTime) { supportGroup(id: $id) {
        meetings(from: $from, to: $to) { id } } }";
    for (from, to, named) in [
        (Some("+262142-12-31T00:00:00Z"), None, "from"),
        (None, Some("+262142-12-31T00:00:00Z"), "to"),
        (Some("-262000-01-01T00:00:00Z"), None, "from"),
        (Some("9999-12-31T23:59:59Z"), None, "from"),
        (
            Some("2020-01-01T00:00:00Z"),
            Some("9999-12-31T00:00:00Z"),
            "to",
        ),
    ] {
        let reply = app
            .graphql(
                list,
                json!({ "id": c.group, "from": from, "to": to }),
                Some(&c.sky.token),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        let error = &reply.body["errors"][0];
        assert!(
            error["extensions"]["field"] == named
                || error["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(named),
            "{}",
            reply.body
        );
    }
    // A sensible range still lists the series.
    let to = start + chrono::Duration::days(40);
    let listed = app
        .graphql(
            list,
            json!({ "id": c.group, "from": start.to_rfc3339(), "to": to.to_rfc3339() }),
            Some(&c.sky.token),
        )
        .await;
    assert_eq!(
        listed.ok()["supportGroup"]["meetings"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}
