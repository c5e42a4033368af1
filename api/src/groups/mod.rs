//! Group support: support groups and their facilitators, membership with an
//! alias, meetings with RSVPs and attendance, confidential posts with
//! moderation, and shared recovery goals for accountability.
//!
//! Who may do what is decided in `authz::groups`; every resolver here asks
//! it. Posts stay inside the group: no clinical view reads them.

pub mod goals;
pub mod meetings;
pub mod membership;
pub mod posts;
pub mod rules;

pub(crate) use crate::stored::stored_enum;

pub use goals::{GoalsMutation, GoalsQuery};
pub use meetings::MeetingsMutation;
pub use membership::{GroupMembership, GroupsMutation, GroupsQuery};
pub use posts::{PostsMutation, PostsSubscription};

/// The `Patient` fields groups resolve (called from `patients`).
pub mod patient_fields {
    pub use super::membership::memberships_for_user as group_memberships;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct GroupsQueries(GroupsQuery, GoalsQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct GroupsMutations(
    GroupsMutation,
    MeetingsMutation,
    PostsMutation,
    GoalsMutation,
);

#[derive(async_graphql::MergedSubscription, Default)]
pub struct GroupsSubscriptions(PostsSubscription);
