//! Stepdown's black-box suite: one binary, so the app links once. Each test
//! boots the real application on a random port over its own fresh database
//! (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set) and talks to it
//! like a client does.

mod harness;

mod accounts;
mod audit;
mod authz_matrix;
mod care;
mod deployment;
mod education;
mod graphql_http;
mod group_privacy;
mod groups;
mod limits;
mod monitoring;
mod operations;
mod outage;
mod plan_dates;
mod regimen_mme;
mod sessions;
mod startup;
mod statements;
mod tapering;
mod websocket;
