//! Live delivery of notifications, alerts and group posts to subscribers
//! over `/graphql/ws`, filtered per subscriber so each receives only their
//! own (DESIGN §2: a small interface, PostgreSQL underneath when there).
//!
//! - SQLite (one process): events go straight to an in-process broadcast.
//! - PostgreSQL (any number of replicas): `publish` sends a small signal
//!   (what happened, and ids) with `pg_notify`; every replica's relay
//!   `LISTEN`s, loads the rows once, and broadcasts them to its own
//!   subscribers — the publishing replica included, so there is one path.
//!
//! Delivery is best effort, as the rows are the durable record: a
//! subscriber that lags or reconnects re-reads `notifications` and `posts`.

use std::{sync::Arc, time::Duration};

use async_graphql::futures_util::{Stream, stream};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use entity::{alerts, group_posts, notifications};

use crate::db::{Database, Pool};

/// The PostgreSQL channel the replicas share.
const CHANNEL: &str = "stepdown_live";

/// Something that happened, and who may hear of it.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Notification(notifications::Model),
    Alert {
        alert: alerts::Model,
        /// The care team's clinicians.
        recipients: Vec<Uuid>,
    },
    /// A new post or reply (each subscriber is re-authorized on delivery).
    GroupPost(group_posts::Model),
}

/// What crosses between replicas: ids, never content (a `NOTIFY` payload
/// is limited to 8000 bytes, and patient data stays in the tables).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Signal {
    Notification { id: Uuid },
    Alert { id: Uuid, recipients: Vec<Uuid> },
    GroupPost { id: Uuid },
}

impl Signal {
    fn of(event: &LiveEvent) -> Self {
        match event {
            LiveEvent::Notification(n) => Signal::Notification { id: n.id },
            LiveEvent::Alert { alert, recipients } => Signal::Alert {
                id: alert.id,
                recipients: recipients.clone(),
            },
            LiveEvent::GroupPost(post) => Signal::GroupPost { id: post.id },
        }
    }
}

#[derive(Clone)]
pub struct NotificationHub {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// Set on PostgreSQL: signals go through `pg_notify`.
    postgres: Option<sqlx::PgPool>,
}

impl NotificationHub {
    pub fn new(db: &Database) -> Self {
        let (sender, _) = broadcast::channel(1024);
        let postgres = match db.pool() {
            Pool::Postgres(pool) => Some(pool.clone()),
            Pool::Sqlite(_) => None,
        };
        Self { sender, postgres }
    }

    /// Publishes after the writing transaction committed.
    pub async fn publish(&self, events: Vec<LiveEvent>) {
        for event in events {
            match &self.postgres {
                Some(pool) => {
                    let signal = serde_json::to_string(&Signal::of(&event)).unwrap_or_default();
                    let sent = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(signal)
                        .execute(pool)
                        .await;
                    if let Err(err) = sent {
                        // This replica's subscribers still hear it.
                        tracing::warn!(error = %err, "pg_notify failed; delivering locally only");
                        self.deliver(event);
                    }
                }
                None => self.deliver(event),
            }
        }
    }

    fn deliver(&self, event: LiveEvent) {
        // No subscribers is fine: the rows are the durable record.
        let _ = self.sender.send(Arc::new(event));
    }

    /// The events `pick` keeps, as a stream (a lagging subscriber skips
    /// what it missed; the rows stay queryable).
    pub fn subscribe<T, F>(&self, pick: F) -> impl Stream<Item = T> + Send + 'static + use<T, F>
    where
        T: Send + 'static,
        F: Fn(&LiveEvent) -> Option<T> + Send + Sync + 'static,
    {
        let receiver = self.sender.subscribe();
        stream::unfold((receiver, pick), |(mut receiver, pick)| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => {
                        if let Some(item) = pick(&event) {
                            return Some((item, (receiver, pick)));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// On PostgreSQL, listens for every replica's signals and delivers the
    /// rows to this replica's subscribers, until the task is aborted.
    /// Reconnects with backoff when the database goes away (signals sent
    /// meanwhile are lost; the rows are not). Returns at once on SQLite.
    pub async fn relay(self, db: Database) {
        let Some(pool) = self.postgres.clone() else {
            return;
        };
        let mut delay = Duration::from_millis(200);
        loop {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            }
            .await;
            let mut listener = match listener {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64,
                        "live relay cannot listen yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            delay = Duration::from_millis(200);
            loop {
                match listener.recv().await {
                    Ok(notification) => {
                        match serde_json::from_str::<Signal>(notification.payload()) {
                            Ok(signal) => self.load_and_deliver(&db, signal).await,
                            Err(err) => tracing::warn!(error = %err, "unreadable live signal"),
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "live relay lost its connection");
                        tokio::time::sleep(delay).await;
                        break;
                    }
                }
            }
        }
    }

    async fn load_and_deliver(&self, db: &Database, signal: Signal) {
        let Ok(conn) = db.conn() else {
            return;
        };
        let event = match signal {
            Signal::Notification { id } => notifications::Entity::find_by_id(id)
                .one(conn)
                .await
                .map(|row| row.map(LiveEvent::Notification)),
            Signal::Alert { id, recipients } => alerts::Entity::find_by_id(id)
                .one(conn)
                .await
                .map(|row| row.map(|alert| LiveEvent::Alert { alert, recipients })),
            Signal::GroupPost { id } => group_posts::Entity::find_by_id(id)
                .one(conn)
                .await
                .map(|row| row.map(LiveEvent::GroupPost)),
        };
        match event {
            Ok(Some(event)) => self.deliver(event),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "live relay could not load a row"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_carry_ids_only_and_round_trip() {
        let id = Uuid::now_v7();
        let signal = Signal::Alert {
            id,
            recipients: vec![id],
        };
        let text = serde_json::to_string(&signal).unwrap();
        assert_eq!(
            text,
            format!(r#"{{"kind":"alert","id":"{id}","recipients":["{id}"]}}"#)
        );
        assert_eq!(serde_json::from_str::<Signal>(&text).unwrap(), signal);
        // Even a large care team fits a NOTIFY payload (8000 bytes).
        let team = Signal::Alert {
            id,
            recipients: vec![id; 150],
        };
        assert!(serde_json::to_string(&team).unwrap().len() < 8000);
    }
}
