//! Notification rows in the database: a person's inbox, paged newest first;
//! marking them read; creating one (monitoring creates them for alerts, in
//! the transaction that raises the alert).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use entity::notifications;

use crate::{error::ApiResult, graphql::pagination::Page};

/// Characters kept of a title; longer ones are cut.
pub const TITLE_MAX: usize = 200;
/// Characters kept of a body; longer ones are cut.
pub const BODY_MAX: usize = 1000;

/// A notification to create for one person.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub user_id: Uuid,
    /// E.g. `ALERT_HIGH_CRAVING`.
    pub kind: String,
    pub title: &'a str,
    pub body: &'a str,
    pub alert_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
}

/// Stores one notification, unread, cutting title and body to their limits.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewNotification<'_>,
    now: DateTime<Utc>,
) -> ApiResult<notifications::Model> {
    Ok(notifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(new.user_id),
        kind: Set(new.kind),
        title: Set(new.title.chars().take(TITLE_MAX).collect()),
        body: Set(new.body.chars().take(BODY_MAX).collect()),
        alert_id: Set(new.alert_id),
        patient_id: Set(new.patient_id),
        created_at: Set(now),
        read_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// One page of `user`'s notifications, newest first (`page.fetch()` rows).
pub async fn page(
    db: &impl ConnectionTrait,
    user: Uuid,
    unread_only: bool,
    page: Page,
) -> ApiResult<Vec<notifications::Model>> {
    let mut query = notifications::Entity::find().filter(notifications::Column::UserId.eq(user));
    if unread_only {
        query = query.filter(notifications::Column::ReadAt.is_null());
    }
    if let Some(after) = page.after {
        query = query.filter(notifications::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(notifications::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

/// Marks `user`'s unread notifications read (only `ids` when given); how
/// many were newly marked.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user: Uuid,
    ids: Option<Vec<Uuid>>,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let mut update = notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(now))
        .filter(notifications::Column::UserId.eq(user))
        .filter(notifications::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notifications::Column::Id.is_in(ids));
    }
    Ok(update.exec(db).await?.rows_affected)
}
