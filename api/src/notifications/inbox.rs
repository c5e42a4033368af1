//! GraphQL surface of a person's inbox: the `Notification` type, the
//! `notifications` query, `markNotificationsRead`, and the
//! `notificationAdded` subscription (fed by the hub).

use async_graphql::{
    Context, InputObject, Object, SimpleObject, Subscription, connection::Connection,
    futures_util::Stream,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::notifications;

use super::{LiveEvent, notification_store};
use crate::{
    audit::{Action, Kind},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination,
};

pub const NOTIFICATION: Kind = Kind::new("Notification", "notification");
/// One page of the caller's own inbox read (one row per page).
pub const NOTIFICATIONS_READ: Action = NOTIFICATION.action("notifications.read");

/// Notifications marked read in one call, at most.
pub const MARK_READ_MAX: usize = 500;

pub struct Notification(pub notifications::Model);

#[Object]
impl Notification {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn alert_id(&self) -> Option<Uuid> {
        self.0.alert_id
    }
    async fn patient_id(&self) -> Option<Uuid> {
        self.0.patient_id
    }
}

#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These notifications; all of the caller's when not given.
    pub notification_ids: Option<Vec<Uuid>>,
}

#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many were newly marked read.
    pub marked: i32,
}

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The caller's notifications, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> async_graphql::Result<Connection<String, Notification>> {
        let caller = ctx.caller().await?;
        Ok(list(&caller, first, after, unread_only == Some(true)).await?)
    }
}

async fn list(
    caller: &Caller,
    first: Option<i32>,
    after: Option<String>,
    unread_only: bool,
) -> ApiResult<Connection<String, Notification>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )?;
    let rows = notification_store::page(caller.db(), caller.user_id(), unread_only, page).await?;
    caller.record(caller.event(NOTIFICATIONS_READ));
    Ok(pagination::connection(
        rows.into_iter().map(|n| (n.id, Notification(n))).collect(),
        page,
    ))
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Marks the caller's notifications read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> async_graphql::Result<MarkNotificationsReadPayload> {
        let caller = ctx.caller().await?;
        Ok(mark_read(&caller, input.notification_ids).await?)
    }
}

async fn mark_read(
    caller: &Caller,
    ids: Option<Vec<Uuid>>,
) -> ApiResult<MarkNotificationsReadPayload> {
    if ids.as_ref().is_some_and(|ids| ids.len() > MARK_READ_MAX) {
        return Err(ApiError::bad_input(
            "notificationIds",
            format!("at most {MARK_READ_MAX} at a time"),
        ));
    }
    let marked =
        notification_store::mark_read(caller.db(), caller.user_id(), ids, Utc::now()).await?;
    Ok(MarkNotificationsReadPayload {
        marked: marked as i32,
    })
}

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// The caller's new notifications, as they are created.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Notification> + use<>> {
        let caller = ctx.caller().await?;
        let me = caller.user_id();
        Ok(caller.hub().subscribe(move |event| match event {
            LiveEvent::Notification(n) if n.user_id == me => Some(Notification(n.clone())),
            _ => None,
        }))
    }
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct NotificationsQueries(NotificationsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct NotificationsMutations(NotificationsMutation);

#[derive(async_graphql::MergedSubscription, Default)]
pub struct NotificationsSubscriptions(NotificationsSubscription);
