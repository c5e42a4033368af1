//! docker-compose.yml and the Dockerfile cannot run here (no Docker
//! engine), so their shape is checked by parsing.

use serde_yaml::Value;

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn compose_runs_postgres_16_and_the_api_wired_together() {
    let compose: Value = serde_yaml::from_str(&repo_file("docker-compose.yml")).unwrap();
    let services = &compose["services"];

    let db = &services["db"];
    assert!(db["image"].as_str().unwrap().starts_with("postgres:16"));
    assert!(db["healthcheck"]["test"].is_sequence() || db["healthcheck"]["test"].is_string());

    let api = &services["api"];
    assert!(api["build"].is_mapping() || api["build"].is_string());
    assert_eq!(api["depends_on"]["db"]["condition"], "service_healthy");
    let env = &api["environment"];
    let database_url = env["DATABASE_URL"].as_str().unwrap();
    assert!(database_url.starts_with("postgres://") && database_url.contains("@db:5432/"));
    assert_eq!(env["STEPDOWN_ENV"], "production");
    assert_eq!(env["STEPDOWN_BIND"], "0.0.0.0:8080");
    assert!(env["STEPDOWN_JWT_SECRET"].as_str().is_some());
    let ports = api["ports"].as_sequence().unwrap();
    assert!(
        ports
            .iter()
            .any(|p| p.as_str().unwrap_or("").ends_with(":8080"))
    );
    assert!(api["healthcheck"]["test"].is_sequence());
}

#[test]
fn dockerfile_is_multi_stage_and_runs_as_non_root() {
    let dockerfile = repo_file("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
        .count();
    assert!(stages >= 2, "expected a multi-stage build");
    let user = dockerfile
        .lines()
        .rev()
        .find(|l| l.trim_start().to_ascii_uppercase().starts_with("USER "))
        .expect("a USER line");
    assert!(
        !user.contains("root") && !user.trim().ends_with(" 0"),
        "{user}"
    );
    assert!(dockerfile.contains("stepdown"));
}
