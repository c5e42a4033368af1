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
pub mod hub;
pub mod overview;
pub mod rules;
pub mod scales;
pub mod trends;
