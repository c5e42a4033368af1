//! Group support: support groups and their facilitators, membership with an
//! alias, meetings with RSVPs and attendance, confidential posts with
//! moderation, and shared recovery goals for accountability.
//!
//! Who may do what is decided in `authz::groups` and asked through the
//! `Caller` (`group`, `in_group`); every work function here asks it. Posts
//! stay inside the group: no clinical view reads them.
//!
//! - `groups`: the `SupportGroup` type, listing, create/update/archive,
//!   facilitators, and the gate to a group's parts; `group_store` its SQL
//!   (groups, the group lock, capacity).
//! - `membership`: joining, requests, approval, adding, leaving, removal,
//!   aliases, member lists, a patient's memberships; `membership_store`
//!   its SQL; `membership_rules` the pure rules and the group vocabularies
//!   (kind, format, join policy, status, role).
//! - `meetings`: scheduling (weekly series), cancelling, RSVPs, attendance;
//!   `meeting_store` its SQL and attendance histories.
//! - `posts`: posts and replies, reactions, reports, moderation, the
//!   `groupPostAdded` subscription; `post_store` its SQL.
//! - `goals`: recovery goals and sharing them; `goal_store` its SQL.
//! - `rules`: the pure rules of meetings, posts and goals (recurrence,
//!   attendance window, streak, limits) and their vocabularies.

pub mod goal_store;
pub mod goals;
pub mod group_store;
// The subdomain of groups themselves, in the domain of groups.
#[allow(clippy::module_inception)]
pub mod groups;
pub mod meeting_store;
pub mod meetings;
pub mod membership;
pub mod membership_rules;
pub mod membership_store;
pub mod post_store;
pub mod posts;
pub mod rules;

pub use goals::{GoalsMutation, GoalsQuery};
pub use groups::{GroupsMutation, GroupsQuery, SupportGroup};
pub use meetings::MeetingsMutation;
pub use membership::{GroupMembership, MembershipMutation, MembershipQuery};
pub use posts::{PostsMutation, PostsSubscription};

/// The `Patient` fields groups resolve (called from `patients`).
pub mod patient_fields {
    pub use super::membership::memberships_for_user as group_memberships;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct GroupsQueries(GroupsQuery, MembershipQuery, GoalsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct GroupsMutations(
    GroupsMutation,
    MembershipMutation,
    MeetingsMutation,
    PostsMutation,
    GoalsMutation,
);

#[derive(async_graphql::MergedSubscription, Default)]
pub struct GroupsSubscriptions(PostsSubscription);
