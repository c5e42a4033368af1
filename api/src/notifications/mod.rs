//! Notifications: the rows each person reads in their inbox, and the live
//! hub that delivers them (and alerts and group posts) to subscribers over
//! `/graphql/ws`. Monitoring and groups publish to it; it imports neither.
//!
//! - `inbox`: the GraphQL surface — `Notification`, `notifications`,
//!   `markNotificationsRead`, `notificationAdded` — and the domain's part of
//!   the schema roots;
//! - `notification_store`: the rows' SQL (paging, marking read, creating);
//! - `hub`: live delivery, in process or across replicas.

pub mod hub;
pub mod inbox;
pub mod notification_store;

pub use hub::{LiveEvent, NotificationHub};
// The merged roots are declared in `inbox`, so that this module (which
// `caller` and `app` import for the hub) stays below the GraphQL surface.
pub use inbox::{
    Notification, NotificationsMutations, NotificationsQueries, NotificationsSubscriptions,
};
