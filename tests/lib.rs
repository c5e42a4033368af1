//! Nothing here: the suite is the `api` integration test binary (see `api/main.rs`).
