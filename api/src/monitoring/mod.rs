//! Monitoring: daily check-ins, withdrawal scales (COWS, SOWS), alerts to
//! the care team when a patient is struggling, notifications delivered live,
//! trends for charts, and the clinician's overview.
//!
//! Pure rules live in `scales` (scoring and bands) and `rules` (the six
//! alert rules); `alerts` raises them inside the triggering write's
//! transaction; `hub` fans them out to subscribers.

pub mod alerts;
pub mod assessments;
pub mod check_ins;
pub mod graphql;
pub mod overview;
pub mod rules;
pub mod scales;
pub mod trends;

/// The alert checks other domains' writes run in their transaction.
pub use alerts::{after_dose, check_naloxone};
pub use assessments::WithdrawalAssessment;
pub use check_ins::CheckIn;
pub use graphql::{MonitoringMutation, MonitoringQuery, MonitoringSubscription};
pub use trends::TrendDay;

/// The `Patient` fields monitoring resolves (called from `patients`).
pub mod patient_fields {
    pub use super::assessments::list_for_patient as withdrawal_assessments;
    pub use super::check_ins::list_for_patient as check_ins;
    pub use super::trends::for_patient as trends;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct MonitoringQueries(MonitoringQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct MonitoringMutations(MonitoringMutation);

#[derive(async_graphql::MergedSubscription, Default)]
pub struct MonitoringSubscriptions(MonitoringSubscription);
