//! CORS in a real browser: headless Chromium loads a partner dashboard page
//! from another origin; the page signs in and lists patients. From an
//! origin in `STEPDOWN_CORS_ORIGINS` it works; from any other the browser
//! blocks it.
//!
//! Needs Chromium (Debian's `chromium` package; `.ci/run` installs it when
//! missing). Without it this test fails and says so; set
//! `STEPDOWN_SKIP_BROWSER_TESTS=1` to skip it knowingly (it then prints a
//! warning).

use std::{path::PathBuf, process::Command, time::Duration};

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::harness::{Options, WORLD_PASSWORD, spawn_app_with};

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Serves `page` to every request on `listener` (a dashboard's host).
fn serve_page(listener: TcpListener, page: String) {
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let page = page.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
}

/// The dashboard: signs in, lists patients, writes what happened.
fn dashboard(api: &str, email: &str) -> String {
    let login = json!({
        "query": "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
        "variables": { "input": { "email": email, "password": WORLD_PASSWORD } },
    });
    let patients = json!({ "query": "{ patients { edges { node { user { displayName } } } } }" });
    format!(
        r#"<!DOCTYPE html><html><body><pre id="out">PENDING</pre><script>
(async () => {{
  const out = document.getElementById("out");
  try {{
    const signIn = await fetch("{api}", {{ method: "POST",
      headers: {{ "content-type": "application/json" }}, body: JSON.stringify({login}) }});
    const token = (await signIn.json()).data.login.accessToken;
    const list = await fetch("{api}", {{ method: "POST",
      headers: {{ "content-type": "application/json", "authorization": "Bearer " + token }},
      body: JSON.stringify({patients}) }});
    const names = (await list.json()).data.patients.edges.map((e) => e.node.user.displayName);
    out.textContent = "LISTED " + names.join(",");
  }} catch (e) {{
    out.textContent = "BLOCKED " + e;
  }}
}})();
</script></body></html>"#
    )
}

/// Loads `url` in headless Chromium and returns the DOM once scripts ran.
async fn dump_dom(browser: PathBuf, url: String) -> String {
    tokio::task::spawn_blocking(move || {
        let profile =
            std::env::temp_dir().join(format!("stepdown-chromium-{}", uuid::Uuid::now_v7()));
        let output = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--virtual-time-budget=20000",
                "--timeout=30000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", browser.display()));
        let _ = std::fs::remove_dir_all(&profile);
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_dashboard_on_an_allowed_origin_works_and_any_other_is_blocked() {
    let Some(browser) = chromium() else {
        if std::env::var("STEPDOWN_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
            eprintln!(
                "WARNING: the CORS browser test was SKIPPED (STEPDOWN_SKIP_BROWSER_TESTS=1, no Chromium)"
            );
            return;
        }
        panic!(
            "Chromium is not installed, so CORS cannot be checked in a browser: \
             `apt-get install -y chromium` (.ci/run does it), or set CHROMIUM=<path>"
        );
    };
    let allowed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed_origin = format!("http://127.0.0.1:{}", allowed.local_addr().unwrap().port());
    let refused_url = format!("http://127.0.0.1:{}/", refused.local_addr().unwrap().port());
    let app = spawn_app_with(Options {
        vars: vec![("STEPDOWN_CORS_ORIGINS", allowed_origin.clone())],
        ..Default::default()
    })
    .await;
    let w = app.world().await;
    let api = app.url("/graphql");
    serve_page(allowed, dashboard(&api, &w.clinician.email));
    serve_page(refused, dashboard(&api, &w.clinician.email));

    let dom = tokio::time::timeout(
        Duration::from_secs(90),
        dump_dom(browser.clone(), format!("{allowed_origin}/")),
    )
    .await
    .expect("chromium finished");
    assert!(
        dom.contains(r#"<pre id="out">LISTED Pat Patient"#),
        "allowed origin: {dom}"
    );

    let dom = tokio::time::timeout(Duration::from_secs(90), dump_dom(browser, refused_url))
        .await
        .expect("chromium finished");
    assert!(
        dom.contains(r#"<pre id="out">BLOCKED"#),
        "other origin: {dom}"
    );
}
