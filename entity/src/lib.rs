//! SeaORM entities: one file per table, no logic. The schema itself is owned
//! by the `migration` crate; these structs only read and write its rows.

pub mod alerts;
pub mod audit_events;
pub mod care_team_members;
pub mod check_ins;
pub mod consents;
pub mod dose_logs;
pub mod idempotency_keys;
pub mod invitations;
pub mod login_throttles;
pub mod medication_orders;
pub mod medications;
pub mod memberships;
pub mod naloxone_offers;
pub mod notifications;
pub mod organizations;
pub mod patients;
pub mod refresh_tokens;
pub mod sessions;
pub mod supporter_links;
pub mod taper_plan_events;
pub mod taper_plans;
pub mod taper_steps;
pub mod users;
pub mod withdrawal_assessments;
