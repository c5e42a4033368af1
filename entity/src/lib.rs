//! SeaORM entities: one file per table, no logic. The schema itself is owned
//! by the `migration` crate; these structs only read and write its rows.

pub mod appointment_events;
pub mod appointment_participants;
pub mod appointments;
pub mod audit_events;
pub mod calendar_locks;
pub mod care_plan_revisions;
pub mod care_plans;
pub mod care_team_members;
pub mod clinical_notes;
pub mod consents;
pub mod dose_logs;
pub mod enrollment_events;
pub mod enrollments;
pub mod idempotency_keys;
pub mod invitations;
pub mod login_throttles;
pub mod medication_orders;
pub mod medications;
pub mod memberships;
pub mod naloxone_offers;
pub mod organizations;
pub mod patients;
pub mod programs;
pub mod refresh_tokens;
pub mod resource_assignments;
pub mod resource_tags;
pub mod resources;
pub mod sessions;
pub mod supporter_links;
pub mod taper_plan_events;
pub mod taper_plans;
pub mod taper_steps;
pub mod users;
