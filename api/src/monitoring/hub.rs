//! Live delivery of notifications and alerts to subscribers over
//! `/graphql/ws`: an in-process broadcast, filtered per subscriber so each
//! receives only their own. (Across replicas this would ride PostgreSQL
//! LISTEN/NOTIFY; one process is enough for now.)

use std::sync::Arc;

use async_graphql::futures_util::{Stream, stream};
use tokio::sync::broadcast;
use uuid::Uuid;

use entity::{alerts, notifications};

/// Something that happened, and who may hear of it.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Notification(notifications::Model),
    Alert {
        alert: alerts::Model,
        /// The care team's clinicians.
        recipients: Vec<Uuid>,
    },
}

#[derive(Clone)]
pub struct NotificationHub {
    sender: broadcast::Sender<Arc<LiveEvent>>,
}

impl Default for NotificationHub {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }
}

impl NotificationHub {
    /// Publishes after the writing transaction committed.
    pub fn publish(&self, events: Vec<LiveEvent>) {
        for event in events {
            // No subscribers is fine: the rows are the durable record.
            let _ = self.sender.send(Arc::new(event));
        }
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
}
