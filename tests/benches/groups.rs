//! A busy support group (figures only, no assertions): 200 members and
//! 10,000 posts (a quarter anonymous, every tenth with three replies,
//! reactions on most), then the first page of posts with reactions and
//! reply counts — as a member and as the facilitator, at 10, 50 and 100
//! posts per page: throughput, p50, p99 and SQL statements per request
//! (which stay the same whatever the page size).
//!
//! ```sh
//! cargo bench -p stepdown-tests --bench groups
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p stepdown-tests --bench groups
//! ```
//!
//! `BENCH_SECONDS` (default 5) sets each phase's length.

#[allow(dead_code)]
#[path = "../api/harness.rs"]
mod harness;

#[allow(dead_code)] // each bench uses part of it
mod common;

use std::time::Instant;

use chrono::{Duration, Utc};
use common::{measure, seconds_from_env};
use harness::{Options, spawn_app_with};
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

const MEMBERS: usize = 200;
const POSTS: usize = 10_000;
const KINDS: [&str; 5] = ["SUPPORT", "HUG", "STRENGTH", "CELEBRATE", "RELATE"];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let phase = seconds_from_env("BENCH_SECONDS", 5);
    let app = spawn_app_with(Options {
        vars: vec![
            ("STEPDOWN_EXPOSE_SQL_STATEMENTS", "true".into()),
            ("STEPDOWN_DB_MAX_CONNECTIONS", "16".into()),
        ],
        ..Default::default()
    })
    .await;
    let backend = if app.db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("database: {backend}; {phase:?} per phase");

    let org = app.new_organization("Group clinic").await;
    let facilitator = app
        .new_person(org, "Fay Facilitator", &["FACILITATOR"])
        .await;
    let created = app
        .graphql(
            "mutation { createSupportGroup(input: { name: \"Big circle\", kind: PEER_SUPPORT, description: \"\", format: VIRTUAL, meetingUrl: \"https://meet.example.org/big\" }) { group { id } } }",
            json!({}),
            Some(&facilitator.token),
        )
        .await;
    let group: Uuid =
        serde_json::from_value(created.ok()["createSupportGroup"]["group"]["id"].clone())
            .expect("group id");

    let seeding = Instant::now();
    let mut members = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        members.push(
            app.new_person(org, &format!("Member {i}"), &["PATIENT"])
                .await,
        );
    }
    let db = app.seed_db().await;
    let now = Utc::now();
    let rows: Vec<entity::group_members::ActiveModel> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            entity::group_members::Model {
                id: Uuid::now_v7(),
                group_id: group,
                organization_id: org,
                user_id: m.user_id,
                role: "MEMBER".into(),
                status: "ACTIVE".into(),
                alias: Some(format!("Alias {i}")),
                status_reason: None,
                decided_by_user_id: None,
                joined_at: Some(now),
                created_at: now,
                updated_at: now,
            }
            .into()
        })
        .collect();
    for chunk in rows.chunks(100) {
        entity::group_members::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("members");
    }

    let mut posts = Vec::with_capacity(POSTS);
    let mut reactions = Vec::new();
    for i in 0..POSTS {
        let id = Uuid::now_v7();
        let parent = if i % 10 > 0 && i % 10 <= 3 {
            // Replies to the last top-level post.
            posts
                .iter()
                .rev()
                .find_map(|p: &entity::group_posts::Model| {
                    p.parent_post_id.is_none().then_some(p.id)
                })
        } else {
            None
        };
        posts.push(entity::group_posts::Model {
            id,
            group_id: group,
            author_user_id: members[i % MEMBERS].user_id,
            parent_post_id: parent,
            body: format!("Post {i}: what helped me this week was a walk after dinner."),
            anonymous: i % 4 == 0,
            hidden_at: None,
            hidden_by_user_id: None,
            hidden_reason: None,
            created_at: now - Duration::seconds((POSTS - i) as i64),
        });
        for r in 0..(i % 6) {
            reactions.push(entity::group_post_reactions::Model {
                post_id: id,
                user_id: members[(i + r * 7) % MEMBERS].user_id,
                kind: KINDS[r % KINDS.len()].into(),
                created_at: now,
            });
        }
    }
    for chunk in posts.chunks(500) {
        entity::group_posts::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(entity::group_posts::ActiveModel::from),
        )
        .exec_without_returning(db)
        .await
        .expect("posts");
    }
    for chunk in reactions.chunks(1000) {
        entity::group_post_reactions::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(entity::group_post_reactions::ActiveModel::from),
        )
        .exec_without_returning(db)
        .await
        .expect("reactions");
    }
    println!(
        "seeded {MEMBERS} members, {POSTS} posts and {} reactions in {:.1} s",
        reactions.len(),
        seeding.elapsed().as_secs_f64()
    );

    let query = "query($id: UUID!, $first: Int) { supportGroup(id: $id) { posts(first: $first) { edges { node { id body createdAt authorDisplayName author { id } replyCount reactions { kind count } myReactions } } pageInfo { hasNextPage endCursor } } } }";
    for (who, token) in [
        ("member", &members[1].token),
        ("facilitator", &facilitator.token),
    ] {
        for first in [10, 50, 100] {
            measure(
                &app,
                token,
                &format!("posts(first: {first}) as {who}"),
                query,
                json!({ "id": group, "first": first }),
                phase,
            )
            .await;
        }
    }
}
