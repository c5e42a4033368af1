//! Live delivery of new group posts to members subscribed over
//! `/graphql/ws` (in-process; across replicas this would ride PostgreSQL
//! LISTEN/NOTIFY). Each event is re-authorized per subscriber before it is
//! delivered, so a member who leaves stops hearing the group.

use std::sync::Arc;

use async_graphql::futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast;

use entity::group_posts;

#[derive(Clone)]
pub struct PostFeed {
    sender: broadcast::Sender<Arc<group_posts::Model>>,
}

impl Default for PostFeed {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }
}

impl PostFeed {
    /// Publishes after the writing transaction committed.
    pub fn publish(&self, post: group_posts::Model) {
        // No subscribers is fine: the rows are the durable record.
        let _ = self.sender.send(Arc::new(post));
    }

    /// New posts, as they are published (a lagging subscriber skips what
    /// it missed; the posts stay queryable).
    pub fn subscribe(
        &self,
    ) -> impl Stream<Item = Arc<group_posts::Model>> + Send + 'static + use<> {
        let receiver = self.sender.subscribe();
        stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(post) => return Some((post, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed()
    }
}
