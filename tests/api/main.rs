//! Stepdown's black-box suite: one binary, so the app links once. Each test
//! boots the real application on a random port over its own fresh database
//! (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set) and talks to it
//! like a client does.

mod harness;

mod accounts;
mod alerts;
mod api_keys;
mod audit;
mod authz_matrix;
mod browser;
mod care;
mod clients;
mod demo;
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
mod taper_generator;
mod tapering;
mod websocket;
