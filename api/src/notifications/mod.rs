//! Notifications: the rows each person reads in their inbox, and the live
//! hub that delivers them (and alerts and group posts) to subscribers over
//! `/graphql/ws`. Monitoring and groups publish to it; it imports neither.

pub mod hub;

pub use hub::{LiveEvent, NotificationHub};
