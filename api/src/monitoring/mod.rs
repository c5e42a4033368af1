//! Monitoring: daily check-ins, withdrawal scales (COWS, SOWS), alerts to
//! the care team when a patient is struggling, trends for charts, and the
//! clinician's overview. Alerts reach people through `notifications`.
//!
//! GraphQL surfaces (types, inputs, thin resolvers):
//! - `check_ins`: `CheckIn`, `submitCheckIn`, `Patient.checkIns`;
//! - `assessments`: `WithdrawalAssessment`, `submitWithdrawalAssessment`,
//!   `Patient.withdrawalAssessments`;
//! - `alerts`: `Alert`, `alerts`, `acknowledgeAlert`, `resolveAlert`,
//!   `alertRaised`;
//! - `overview`: `careTeamOverview`;
//! - `trends`: `Patient.trends`.
//!
//! Their SQL: `check_in_store`, `assessment_store`, `alert_store` (also
//! raising alerts inside the triggering write's transaction: `raise`,
//! `after_check_in`, `after_assessment`, `after_dose`, `after_patch`),
//! `standing_store` (naloxone due, follow-up due, sedative co-prescription:
//! on the writes that change them and daily), `daily_checks` (the periodic
//! run, one replica at a time), `overview_store`, `trend_store`.
//!
//! Pure rules: `rules` (the alert rules, alert kinds and statuses),
//! `scales` (COWS/SOWS scoring and bands, PEG), `risk` (the overview's risk
//! score and orders), `trend_series` (rows to one `TrendDay` per day).

pub mod alert_store;
pub mod alerts;
pub mod assessment_store;
pub mod assessments;
pub mod check_in_store;
pub mod check_ins;
pub mod daily_checks;
pub mod overview;
pub mod overview_store;
pub mod risk;
pub mod rules;
pub mod scales;
pub mod standing_store;
pub mod trend_series;
pub mod trend_store;
pub mod trends;

/// The alert checks other domains' writes run in their transaction.
pub use alert_store::{after_dose, after_patch};
pub use alerts::{AlertsMutation, AlertsQuery, AlertsSubscription};
pub use assessments::{AssessmentsMutation, WithdrawalAssessment};
pub use check_ins::{CheckIn, CheckInsMutation};
pub use overview::OverviewQuery;
pub use standing_store::{check_naloxone, check_sedatives};
pub use trend_series::TrendDay;

/// The `Patient` fields monitoring resolves (called from `patients`).
pub mod patient_fields {
    pub use super::assessments::list_for_patient as withdrawal_assessments;
    pub use super::check_ins::list_for_patient as check_ins;
    pub use super::trends::for_patient as trends;
}

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(async_graphql::MergedObject, Default)]
pub struct MonitoringQueries(AlertsQuery, OverviewQuery);

#[derive(async_graphql::MergedObject, Default)]
pub struct MonitoringMutations(CheckInsMutation, AssessmentsMutation, AlertsMutation);

#[derive(async_graphql::MergedSubscription, Default)]
pub struct MonitoringSubscriptions(AlertsSubscription);
